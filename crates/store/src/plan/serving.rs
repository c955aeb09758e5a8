//! What a village plan's items serve (村村有计划): the village's problems an item names, checked
//! when it is added; the list the item form offers; and the links read again when the item is
//! done (`flow::finish_plan_item` rectifies those still open).

use baiqian_domain::Msg;
use baiqian_domain::ledger::ProblemStatus;
use baiqian_domain::org::Level;
use serde::Serialize;
use sqlx::{AnyConnection, Row};

use super::Plan;
use crate::kernel::Node;
use crate::{Db, Result, StoreError};

/// A problem a village plan's item serves, as it stands now.
#[derive(Debug, Clone, Serialize)]
pub struct ItemProblem {
    pub id: i64,
    pub description: String,
    pub deadline: String,
    pub status: ProblemStatus,
}

/// The item form offers at most this many of a village's problems.
const OFFERED: i64 = 200;

/// Checks that a village plan's item names problems of that village still to be closed; a
/// county's or township's plan names none.
pub(super) async fn check_item_problems(
    conn: &mut AnyConnection,
    plan: &Plan,
    ids: &[i64],
) -> Result<()> {
    if ids.is_empty() {
        return Ok(());
    }
    if plan.level != Level::Village {
        return Err(StoreError::Invalid(Msg::new("plan.error.problems_village")));
    }
    for id in ids {
        let status: Option<String> =
            sqlx::query("SELECT status FROM problems WHERE id = $1 AND village_path = $2")
                .bind(id)
                .bind(&plan.org_path)
                .fetch_optional(&mut *conn)
                .await?
                .map(|r| r.try_get(0))
                .transpose()?;
        match status.as_deref() {
            None => {
                return Err(StoreError::Invalid(
                    Msg::new("plan.error.problem_village").arg("id", id.to_string()),
                ));
            }
            Some(s) if s == ProblemStatus::Verified.as_str() => {
                return Err(StoreError::Invalid(
                    Msg::new("plan.error.problem_closed").arg("id", id.to_string()),
                ));
            }
            Some(_) => {}
        }
    }
    Ok(())
}

/// The problems a village plan's item serves, read in the transaction that finishes it.
pub(crate) async fn item_problems(conn: &mut AnyConnection, item_id: i64) -> Result<Vec<i64>> {
    sqlx::query("SELECT problem_id FROM plan_item_problems WHERE item_id = $1 ORDER BY problem_id")
        .bind(item_id)
        .fetch_all(&mut *conn)
        .await?
        .iter()
        .map(|r| Ok(r.try_get(0)?))
        .collect()
}

impl Db {
    /// A village's problems not yet closed, oldest first, that an item of its plan may serve;
    /// none above a village.
    pub async fn problems_to_plan(&self, node: &Node) -> Result<Vec<ItemProblem>> {
        if node.level != Level::Village {
            return Ok(Vec::new());
        }
        sqlx::query(
            "SELECT id, description, deadline, status FROM problems WHERE village_path = $1 \
             AND status <> $2 ORDER BY id LIMIT $3",
        )
        .bind(&node.path)
        .bind(ProblemStatus::Verified.as_str())
        .bind(OFFERED)
        .fetch_all(self.pool())
        .await?
        .iter()
        .map(|r| {
            let status: String = r.try_get("status")?;
            Ok(ItemProblem {
                id: r.try_get("id")?,
                description: r.try_get("description")?,
                deadline: r.try_get("deadline")?,
                status: ProblemStatus::parse(&status)
                    .ok_or_else(|| StoreError::Corrupt(format!("problem status {status}")))?,
            })
        })
        .collect()
    }

    /// Every problem of a village plan's village not yet closed, by number, with its
    /// description: what an imported item may name. None above a village.
    pub(super) async fn unclosed_problems_of_plan(
        &self,
        plan: &Plan,
    ) -> Result<Vec<(i64, String)>> {
        if plan.level != Level::Village {
            return Ok(Vec::new());
        }
        sqlx::query(
            "SELECT id, description FROM problems WHERE village_path = $1 AND status <> $2 \
             ORDER BY id",
        )
        .bind(&plan.org_path)
        .bind(ProblemStatus::Verified.as_str())
        .fetch_all(self.pool())
        .await?
        .iter()
        .map(|r| Ok((r.try_get(0)?, r.try_get(1)?)))
        .collect()
    }
}
