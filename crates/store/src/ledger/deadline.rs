//! A problem's plan (owner, measures, deadline) as it changes, and its deadline's extensions
//! (延期): a deadline moves earlier with a reason; later only as a request that someone above
//! the village, other than the requester, approves. The original deadline stays on the problem.

use baiqian_domain::Msg;
use baiqian_domain::capability::Capability;
use baiqian_domain::ledger::ProblemStatus;
use baiqian_domain::trust::{DeadlineMove, ExtensionStatus, four_eyes};
use serde::Serialize;
use serde_json::json;
use sqlx::any::AnyRow;
use sqlx::{AnyConnection, Row};

use super::{
    Problem, ProblemPlan, add_update, date, denied, marked_day, optional, problem_in, required,
    tally, user_in_scope,
};
use crate::audit::{self, Change};
use crate::kernel::Node;
use crate::{Actor, Db, Result, StoreError};

/// A request to move a problem's deadline later, and its decision.
#[derive(Debug, Clone, Serialize)]
pub struct DeadlineExtension {
    pub id: i64,
    pub problem_id: i64,
    pub from_deadline: String,
    pub to_deadline: String,
    pub reason: String,
    pub requested_by: String,
    pub requested_at: i64,
    pub status: ExtensionStatus,
    pub decided_by: Option<String>,
    pub decided_at: Option<i64>,
    pub decision_note: String,
}

/// What a change of plan did: the problem as it now stands, and the extension request it
/// filed when the deadline asked for was later than the one in force.
#[derive(Debug, Clone)]
pub struct PlanOutcome {
    pub problem: Problem,
    pub extension: Option<i64>,
}

const EXTENSION_COLUMNS: &str = "id, problem_id, from_deadline, to_deadline, reason, \
    requested_by, requested_at, status, decided_by, decided_at, decision_note";

fn extension_from_row(r: &AnyRow) -> Result<DeadlineExtension> {
    let id: i64 = r.try_get("id")?;
    Ok(DeadlineExtension {
        id,
        problem_id: r.try_get("problem_id")?,
        from_deadline: r.try_get("from_deadline")?,
        to_deadline: r.try_get("to_deadline")?,
        reason: r.try_get("reason")?,
        requested_by: r.try_get("requested_by")?,
        requested_at: r.try_get("requested_at")?,
        status: ExtensionStatus::parse(&r.try_get::<String, _>("status")?)
            .ok_or_else(|| StoreError::Corrupt(format!("deadline extension {id}: status")))?,
        decided_by: r.try_get("decided_by")?,
        decided_at: r.try_get("decided_at")?,
        decision_note: r.try_get("decision_note")?,
    })
}

/// Moves a problem's overdue and extended counts from `before` to `after` (its status kept).
async fn retally(conn: &mut AnyConnection, before: &Problem, after: &Problem) -> Result<()> {
    tally::bump(
        conn,
        &before.tallied(),
        None,
        None,
        tally::Flags::between(before, after),
    )
    .await
}

impl Db {
    /// Changes the owner, measures or deadline of a problem not yet closed. A deadline moved
    /// needs a reason: earlier, it applies at once; later, it is filed as an extension request
    /// (one waiting per problem) and the deadline in force stays until it is approved.
    pub async fn plan_problem(
        &self,
        actor: &Actor,
        id: i64,
        plan: &ProblemPlan,
        now: i64,
    ) -> Result<PlanOutcome> {
        if !actor.role.may(Capability::ReportProblems) {
            return Err(denied());
        }
        let owner_name = required(&plan.owner_name, 40, "owner_name")?;
        let measures = required(&plan.measures, 1000, "measures")?;
        let deadline = date(&plan.deadline, "deadline")?;
        let mut tx = self.write().await?;
        let marked = marked_day(tx.conn()).await?;
        let before = problem_in(tx.conn(), &actor.scope, id).await?;
        if before.status == ProblemStatus::Verified {
            return Err(StoreError::Conflict(
                Msg::new("problem.error.closed").arg("id", id),
            ));
        }
        if deadline < before.found_on {
            return Err(StoreError::Invalid(Msg::new(
                "problem.error.deadline_before",
            )));
        }
        let moved = DeadlineMove::of(&before.deadline, &deadline);
        let reason = if moved == DeadlineMove::Unchanged {
            optional(&plan.deadline_reason, 500, "deadline_reason")?
        } else {
            required(&plan.deadline_reason, 500, "deadline_reason")?
        };
        let owner_user_id = user_in_scope(tx.conn(), &actor.scope, &plan.owner_login).await?;
        let in_force = if moved == DeadlineMove::Earlier {
            deadline.clone()
        } else {
            before.deadline.clone()
        };
        let after = Problem {
            owner_name,
            owner_user_id,
            measures,
            updated_at: now,
            ..before.standing(before.status, &in_force, &marked)
        };
        let changed = after.owner_name != before.owner_name
            || after.owner_user_id != before.owner_user_id
            || after.measures != before.measures
            || after.deadline != before.deadline;
        if changed {
            sqlx::query(
                "UPDATE problems SET owner_name = $1, owner_user_id = $2, measures = $3, \
                 deadline = $4, updated_at = $5 WHERE id = $6",
            )
            .bind(&after.owner_name)
            .bind(after.owner_user_id)
            .bind(&after.measures)
            .bind(&after.deadline)
            .bind(now)
            .bind(id)
            .execute(tx.conn())
            .await?;
            let note = if after.deadline == before.deadline {
                String::new()
            } else {
                format!("{} → {}：{reason}", before.deadline, after.deadline)
            };
            add_update(
                tx.conn(),
                id,
                now,
                &actor.login,
                "plan",
                (before.status, before.status),
                &note,
            )
            .await?;
            retally(tx.conn(), &before, &after).await?;
            let mut change = Change::update(
                "problem",
                &before.key(),
                &before.village_path,
                before.audit_json(),
                after.audit_json(),
            );
            change.reason = Some(reason.clone()).filter(|r| !r.is_empty());
            audit::record(tx.conn(), actor, now, change).await?;
        }
        let extension = if moved == DeadlineMove::Later {
            Some(request_extension(&mut tx, actor, &before, &deadline, &reason, now).await?)
        } else {
            None
        };
        tx.commit().await?;
        Ok(PlanOutcome {
            problem: after,
            extension,
        })
    }

    /// Decides an extension request waiting on a problem in scope: approved, the problem's
    /// deadline becomes the one asked for; refused (with a note), it stays. Only someone above
    /// the village who did not ask for it decides.
    pub async fn decide_extension(
        &self,
        actor: &Actor,
        extension_id: i64,
        approve: bool,
        note: &str,
        now: i64,
    ) -> Result<Problem> {
        if !actor.role.may(Capability::VerifyProblems) {
            return Err(denied());
        }
        let note = if approve {
            optional(note, 500, "note")?
        } else {
            required(note, 500, "note")?
        };
        let mut tx = self.write().await?;
        let marked = marked_day(tx.conn()).await?;
        let ext = sqlx::query(&format!(
            "SELECT {EXTENSION_COLUMNS} FROM deadline_extensions \
             WHERE id = $1 AND village_path >= $2 AND village_path < $3"
        ))
        .bind(extension_id)
        .bind(actor.scope.lower())
        .bind(actor.scope.upper())
        .fetch_optional(tx.conn())
        .await?
        .ok_or(StoreError::NotFound)
        .and_then(|r| extension_from_row(&r))?;
        let before = problem_in(tx.conn(), &actor.scope, ext.problem_id).await?;
        if actor.scope.is_root_path(&before.village_path) {
            // The village does not decide its own deadline.
            return Err(denied());
        }
        four_eyes(&actor.login, [ext.requested_by.as_str()]).map_err(StoreError::Denied)?;
        if ext.status != ExtensionStatus::Pending {
            return Err(StoreError::Conflict(
                Msg::new("problem.error.extension_decided").arg("id", ext.id),
            ));
        }
        if approve && before.status == ProblemStatus::Verified {
            return Err(StoreError::Conflict(
                Msg::new("problem.error.closed").arg("id", before.id),
            ));
        }
        let status = if approve {
            ExtensionStatus::Approved
        } else {
            ExtensionStatus::Refused
        };
        let n = sqlx::query(
            "UPDATE deadline_extensions SET status = $1, decided_by = $2, decided_at = $3, \
             decision_note = $4 WHERE id = $5 AND status = 'pending'",
        )
        .bind(status.as_str())
        .bind(&actor.login)
        .bind(now)
        .bind(&note)
        .bind(ext.id)
        .execute(tx.conn())
        .await?
        .rows_affected();
        if n != 1 {
            return Err(StoreError::Conflict(
                Msg::new("problem.error.extension_decided").arg("id", ext.id),
            ));
        }
        let mut after = before.clone();
        if approve {
            after = Problem {
                updated_at: now,
                ..before.standing(before.status, &ext.to_deadline, &marked)
            };
            sqlx::query("UPDATE problems SET deadline = $1, updated_at = $2 WHERE id = $3")
                .bind(&after.deadline)
                .bind(now)
                .bind(before.id)
                .execute(tx.conn())
                .await?;
            retally(tx.conn(), &before, &after).await?;
        }
        let step = if approve {
            "extension_approved"
        } else {
            "extension_refused"
        };
        add_update(
            tx.conn(),
            before.id,
            now,
            &actor.login,
            step,
            (before.status, before.status),
            &format!("{} → {}：{note}", ext.from_deadline, ext.to_deadline),
        )
        .await?;
        let mut change = Change::update(
            "deadline_extension",
            &format!("#{} {}", ext.id, before.key()),
            &before.village_path,
            json!({"status": "pending", "deadline": before.deadline}),
            json!({"status": status.as_str(), "deadline": after.deadline}),
        );
        change.action = if approve { "approve" } else { "refuse" };
        change.reason = Some(note).filter(|n| !n.is_empty());
        audit::record(tx.conn(), actor, now, change).await?;
        tx.commit().await?;
        Ok(after)
    }

    /// The extension requests of a problem in scope, oldest first.
    pub async fn problem_extensions(
        &self,
        actor_scope: &baiqian_domain::scope::Scope,
        problem_id: i64,
    ) -> Result<Vec<DeadlineExtension>> {
        let mut conn = self.pool().acquire().await?;
        problem_in(&mut conn, actor_scope, problem_id).await?;
        sqlx::query(&format!(
            "SELECT {EXTENSION_COLUMNS} FROM deadline_extensions WHERE problem_id = $1 ORDER BY id"
        ))
        .bind(problem_id)
        .fetch_all(&mut *conn)
        .await?
        .iter()
        .map(extension_from_row)
        .collect()
    }

    /// How many extension requests under a node wait for a decision that `login` may take
    /// (not their own requests).
    pub async fn extensions_waiting(&self, node: &Node, login: &str) -> Result<i64> {
        Ok(sqlx::query(
            "SELECT COUNT(*) FROM deadline_extensions WHERE status = 'pending' \
             AND village_path >= $1 AND village_path < $2 AND requested_by <> $3",
        )
        .bind(&node.path)
        .bind(baiqian_domain::org::path_upper_bound(&node.path))
        .bind(login)
        .fetch_one(self.pool())
        .await?
        .try_get(0)?)
    }
}

/// Files a request to move `problem`'s deadline to `to`; returns its id.
async fn request_extension(
    tx: &mut crate::WriteTx,
    actor: &Actor,
    problem: &Problem,
    to: &str,
    reason: &str,
    now: i64,
) -> Result<i64> {
    let waiting: i64 = sqlx::query(
        "SELECT COUNT(*) FROM deadline_extensions WHERE problem_id = $1 AND status = 'pending'",
    )
    .bind(problem.id)
    .fetch_one(tx.conn())
    .await?
    .try_get(0)?;
    if waiting > 0 {
        return Err(StoreError::Conflict(
            Msg::new("problem.error.extension_waiting").arg("id", problem.id),
        ));
    }
    let id: i64 = sqlx::query(
        "INSERT INTO deadline_extensions (problem_id, village_path, from_deadline, to_deadline, \
         reason, requested_by, requested_at, status) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, 'pending') RETURNING id",
    )
    .bind(problem.id)
    .bind(&problem.village_path)
    .bind(&problem.deadline)
    .bind(to)
    .bind(reason)
    .bind(&actor.login)
    .bind(now)
    .fetch_one(tx.conn())
    .await?
    .try_get(0)?;
    add_update(
        tx.conn(),
        problem.id,
        now,
        &actor.login,
        "extension_request",
        (problem.status, problem.status),
        &format!("{} → {to}：{reason}", problem.deadline),
    )
    .await?;
    let mut change = Change::create(
        "deadline_extension",
        &format!("#{id} {}", problem.key()),
        &problem.village_path,
        json!({"problem_id": problem.id, "from": problem.deadline, "to": to,
               "status": "pending"}),
    );
    change.reason = Some(reason.to_string());
    audit::record(tx.conn(), actor, now, change).await?;
    Ok(id)
}
