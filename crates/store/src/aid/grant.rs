//! Grants (帮扶资金) and an association's fund: money received from above enters the fund; a
//! grant is applied for (purpose, amount, beneficiary), approved by a hand other than the
//! applicant's, paid out of the fund by a hand other than the approver's, and its outcome
//! recorded. The fund is append-only entries; what it received less what it paid is its
//! balance, and what it paid is exactly the grants paid (`Fund::reconciles`).

use baiqian_domain::Msg;
use baiqian_domain::aid::GrantStage;
use baiqian_domain::money::Fen;
use serde::Serialize;
use serde_json::json;
use sqlx::any::AnyRow;
use sqlx::{AnyConnection, Row};

use super::{Association, approves, association_in_scope, keeps};
use crate::audit::{self, Change};
use crate::check::{denied, invalid, past_date, text};
use crate::kernel::Node;
use crate::{Actor, Db, Result, StoreError};

#[derive(Debug, Clone, Serialize)]
pub struct Grant {
    pub id: i64,
    pub association_id: i64,
    pub association_name: String,
    /// The village or township of the association.
    pub org_name: String,
    pub org_path: String,
    pub beneficiary_id: i64,
    pub beneficiary_name: String,
    pub purpose: String,
    pub amount: Fen,
    pub stage: GrantStage,
    pub applied_by: String,
    pub approved_by: Option<String>,
    pub paid_by: Option<String>,
    pub paid_on: Option<String>,
    pub refused_reason: Option<String>,
    pub outcome: Option<String>,
}

/// A grant as typed: the amount in yuan.
#[derive(Debug, Clone, Default)]
pub struct NewGrant {
    pub beneficiary_id: i64,
    pub purpose: String,
    pub amount: String,
}

/// Money the fund received, as typed: the amount in yuan, from whom, on which day.
#[derive(Debug, Clone, Default)]
pub struct Receipt {
    pub amount: String,
    pub source: String,
    pub on: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct FundEntry {
    pub id: i64,
    /// `received` or `paid`.
    pub kind: String,
    /// Positive in, negative out.
    pub amount: Fen,
    pub grant_id: Option<i64>,
    pub source: String,
    pub on_day: String,
    pub recorded_by: String,
}

/// An association's fund: its entries and what they add up to.
#[derive(Debug, Clone, Serialize)]
pub struct Fund {
    pub received: Fen,
    pub paid: Fen,
    pub balance: Fen,
    /// The sum of the grants paid, read from the grants themselves.
    pub grants_paid: Fen,
    pub entries: Vec<FundEntry>,
}

impl Fund {
    /// Whether the fund's books agree: received − paid = balance, and paid = the grants paid.
    pub fn reconciles(&self) -> bool {
        self.received.0 - self.paid.0 == self.balance.0 && self.paid == self.grants_paid
    }
}

const GRANT_COLUMNS: &str = "g.id, g.association_id, \
    (SELECT a.name FROM aid_associations a WHERE a.id = g.association_id) AS association_name, \
    (SELECT o.name FROM aid_associations a JOIN orgs o ON o.code = a.org_code WHERE a.id = g.association_id) AS org_name, \
    g.org_path, g.beneficiary_id, \
    m.name AS beneficiary_name, g.purpose, g.amount_fen, g.stage, g.applied_by, g.approved_by, \
    g.paid_by, g.paid_on, g.refused_reason, g.outcome";

fn grant_from_row(r: &AnyRow) -> Result<Grant> {
    let id: i64 = r.try_get("id")?;
    Ok(Grant {
        id,
        association_id: r.try_get("association_id")?,
        association_name: r.try_get("association_name")?,
        org_name: r.try_get("org_name")?,
        org_path: r.try_get("org_path")?,
        beneficiary_id: r.try_get("beneficiary_id")?,
        beneficiary_name: r.try_get("beneficiary_name")?,
        purpose: r.try_get("purpose")?,
        amount: Fen(r.try_get("amount_fen")?),
        stage: GrantStage::parse(&r.try_get::<String, _>("stage")?)
            .ok_or_else(|| StoreError::Corrupt(format!("aid grant {id}: stage")))?,
        applied_by: r.try_get("applied_by")?,
        approved_by: r.try_get("approved_by")?,
        paid_by: r.try_get("paid_by")?,
        paid_on: r.try_get("paid_on")?,
        refused_reason: r.try_get("refused_reason")?,
        outcome: r.try_get("outcome")?,
    })
}

async fn grant_in_scope(conn: &mut AnyConnection, actor: &Actor, id: i64) -> Result<Grant> {
    let r = sqlx::query(&format!(
        "SELECT {GRANT_COLUMNS} FROM aid_grants g JOIN aid_members m ON m.id = g.beneficiary_id \
         WHERE g.id = $1 AND g.org_path >= $2 AND g.org_path < $3"
    ))
    .bind(id)
    .bind(actor.scope.lower())
    .bind(actor.scope.upper())
    .fetch_optional(&mut *conn)
    .await?
    .ok_or(StoreError::NotFound)?;
    grant_from_row(&r)
}

fn wrong_stage(g: &Grant) -> StoreError {
    StoreError::Conflict(Msg::new("aid.error.grant_stage").arg("stage", g.stage.as_str()))
}

async fn balance(conn: &mut AnyConnection, association: i64) -> Result<i64> {
    Ok(
        sqlx::query("SELECT CAST(COALESCE(SUM(amount_fen), 0) AS BIGINT) FROM aid_fund_entries WHERE association_id = $1")
            .bind(association)
            .fetch_one(&mut *conn)
            .await?
            .try_get::<Option<i64>, _>(0)?
            .unwrap_or(0),
    )
}

#[allow(clippy::too_many_arguments)]
async fn insert_fund_entry(
    conn: &mut AnyConnection,
    a: &Association,
    kind: &str,
    amount: i64,
    grant: Option<i64>,
    source: &str,
    on: &str,
    actor: &Actor,
    now: i64,
) -> Result<()> {
    sqlx::query(
        "INSERT INTO aid_fund_entries (association_id, org_path, kind, amount_fen, grant_id, source, on_day, \
         recorded_by, recorded_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
    )
    .bind(a.id)
    .bind(&a.org_path)
    .bind(kind)
    .bind(amount)
    .bind(grant)
    .bind(source)
    .bind(on)
    .bind(&actor.login)
    .bind(now)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

impl Db {
    /// Records money the association's fund received from above (from whom, how much, when).
    pub async fn receive_funds(
        &self,
        actor: &Actor,
        association_id: i64,
        receipt: &Receipt,
        today: &str,
        now: i64,
    ) -> Result<()> {
        let amount = Fen::parse_yuan(&receipt.amount).map_err(StoreError::Invalid)?;
        if amount.0 <= 0 {
            return Err(invalid("aid.error.amount"));
        }
        let source = text(&receipt.source, 2, 60, "aid.error.source")?;
        let on = past_date(&receipt.on, today, "aid.error.date")?;
        let mut tx = self.write().await?;
        let a = association_in_scope(tx.conn(), actor, association_id).await?;
        if !keeps(actor, &a.org_path) {
            return Err(denied());
        }
        insert_fund_entry(
            tx.conn(),
            &a,
            "received",
            amount.0,
            None,
            &source,
            &on,
            actor,
            now,
        )
        .await?;
        audit::record(
            tx.conn(),
            actor,
            now,
            Change::create(
                "aid_fund",
                &a.name,
                &a.org_path,
                json!({ "received_fen": amount.0, "source": source, "on": on }),
            ),
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Applies for a grant to a member of the association. Returns its id.
    pub async fn apply_grant(
        &self,
        actor: &Actor,
        association_id: i64,
        new: &NewGrant,
        now: i64,
    ) -> Result<i64> {
        let mut tx = self.write().await?;
        let a = association_in_scope(tx.conn(), actor, association_id).await?;
        let id = insert_grant(tx.conn(), actor, &a, new, now).await?;
        tx.commit().await?;
        Ok(id)
    }

    /// Approves a grant, or refuses it with a reason: the township or above, never the
    /// applicant.
    pub async fn decide_grant(
        &self,
        actor: &Actor,
        id: i64,
        approve: bool,
        reason: &str,
        now: i64,
    ) -> Result<()> {
        let mut tx = self.write().await?;
        let g = grant_in_scope(tx.conn(), actor, id).await?;
        if !approves(actor, &g.org_path) {
            return Err(denied());
        }
        if g.stage != GrantStage::Applied {
            return Err(wrong_stage(&g));
        }
        if g.applied_by == actor.login {
            return Err(StoreError::Denied(Msg::new("aid.error.maker_checker")));
        }
        let reason = if approve {
            None
        } else {
            Some(text(reason, 2, 200, "aid.error.reason")?)
        };
        let next = if approve {
            GrantStage::Approved
        } else {
            GrantStage::Refused
        };
        let n = sqlx::query(
            "UPDATE aid_grants SET stage = $1, approved_by = $2, refused_reason = $3, updated_at = $4 \
             WHERE id = $5 AND stage = 'applied'",
        )
        .bind(next.as_str())
        .bind(&actor.login)
        .bind(&reason)
        .bind(now)
        .bind(id)
        .execute(tx.conn())
        .await?
        .rows_affected();
        if n != 1 {
            return Err(wrong_stage(&g));
        }
        let mut change = Change::update(
            "aid_grant",
            &format!("#{id} {}", g.beneficiary_name),
            &g.org_path,
            json!({ "grant_stage": "applied" }),
            json!({ "grant_stage": next.as_str() }),
        );
        change.action = if approve { "approve" } else { "refuse" };
        change.reason = reason;
        audit::record(tx.conn(), actor, now, change).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Pays an approved grant out of the fund on a day, by a hand other than the approver's;
    /// a fund short of the amount is refused, saying what it holds.
    pub async fn pay_grant(
        &self,
        actor: &Actor,
        id: i64,
        on: &str,
        today: &str,
        now: i64,
    ) -> Result<()> {
        let on = past_date(on, today, "aid.error.date")?;
        let mut tx = self.write().await?;
        let g = grant_in_scope(tx.conn(), actor, id).await?;
        if !keeps(actor, &g.org_path) {
            return Err(denied());
        }
        if g.stage != GrantStage::Approved {
            return Err(wrong_stage(&g));
        }
        if g.approved_by.as_deref() == Some(actor.login.as_str()) {
            return Err(StoreError::Denied(Msg::new("aid.error.maker_checker")));
        }
        let a = association_in_scope(tx.conn(), actor, g.association_id).await?;
        let held = balance(tx.conn(), a.id).await?;
        if held < g.amount.0 {
            return Err(StoreError::Conflict(
                Msg::new("aid.error.fund_short").arg("balance", Fen(held).yuan_text()),
            ));
        }
        let n = sqlx::query(
            "UPDATE aid_grants SET stage = 'paid', paid_by = $1, paid_on = $2, updated_at = $3 \
             WHERE id = $4 AND stage = 'approved'",
        )
        .bind(&actor.login)
        .bind(&on)
        .bind(now)
        .bind(id)
        .execute(tx.conn())
        .await?
        .rows_affected();
        if n != 1 {
            return Err(wrong_stage(&g));
        }
        insert_fund_entry(
            tx.conn(),
            &a,
            "paid",
            -g.amount.0,
            Some(id),
            &g.beneficiary_name,
            &on,
            actor,
            now,
        )
        .await?;
        super::refresh_tallies(tx.conn(), &[a.id]).await?;
        let mut change = Change::update(
            "aid_grant",
            &format!("#{id} {}", g.beneficiary_name),
            &g.org_path,
            json!({ "grant_stage": "approved", "fund_fen": held }),
            json!({ "grant_stage": "paid", "on": on, "fund_fen": held - g.amount.0 }),
        );
        change.action = "pay";
        audit::record(tx.conn(), actor, now, change).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Records what a paid grant achieved.
    pub async fn record_grant_outcome(
        &self,
        actor: &Actor,
        id: i64,
        outcome: &str,
        now: i64,
    ) -> Result<()> {
        let outcome = text(outcome, 2, 500, "aid.error.outcome")?;
        let mut tx = self.write().await?;
        let g = grant_in_scope(tx.conn(), actor, id).await?;
        if !keeps(actor, &g.org_path) {
            return Err(denied());
        }
        if g.stage != GrantStage::Paid {
            return Err(wrong_stage(&g));
        }
        sqlx::query("UPDATE aid_grants SET outcome = $1, updated_at = $2 WHERE id = $3")
            .bind(&outcome)
            .bind(now)
            .bind(id)
            .execute(tx.conn())
            .await?;
        let mut change = Change::update(
            "aid_grant",
            &format!("#{id} {}", g.beneficiary_name),
            &g.org_path,
            json!({ "outcome": g.outcome }),
            json!({ "outcome": outcome }),
        );
        change.action = "outcome";
        audit::record(tx.conn(), actor, now, change).await?;
        tx.commit().await?;
        Ok(())
    }

    /// The association of a grant in the actor's scope.
    pub async fn grant_association(&self, actor: &Actor, id: i64) -> Result<i64> {
        let mut conn = self.pool().acquire().await?;
        Ok(grant_in_scope(&mut conn, actor, id).await?.association_id)
    }

    /// The grants of an association, newest first.
    pub async fn grants_of(&self, association_id: i64) -> Result<Vec<Grant>> {
        sqlx::query(&format!(
            "SELECT {GRANT_COLUMNS} FROM aid_grants g JOIN aid_members m ON m.id = g.beneficiary_id \
             WHERE g.association_id = $1 ORDER BY g.id DESC"
        ))
        .bind(association_id)
        .fetch_all(self.pool())
        .await?
        .iter()
        .map(grant_from_row)
        .collect()
    }

    /// The grants under a node, by place, at most `limit`.
    pub async fn grants_under(&self, node: &Node, limit: i64) -> Result<Vec<Grant>> {
        sqlx::query(&format!(
            "SELECT {GRANT_COLUMNS} FROM aid_grants g JOIN aid_members m ON m.id = g.beneficiary_id \
             WHERE g.org_path >= $1 AND g.org_path < $2 ORDER BY g.org_path, g.id LIMIT $3"
        ))
        .bind(&node.path)
        .bind(baiqian_domain::org::path_upper_bound(&node.path))
        .bind(limit)
        .fetch_all(self.pool())
        .await?
        .iter()
        .map(grant_from_row)
        .collect()
    }

    /// An association's fund: its entries, oldest first, and their sums.
    pub async fn fund_of(&self, association_id: i64) -> Result<Fund> {
        let mut conn = self.pool().acquire().await?;
        let entries = sqlx::query(
            "SELECT id, kind, amount_fen, grant_id, source, on_day, recorded_by FROM aid_fund_entries \
             WHERE association_id = $1 ORDER BY on_day, id",
        )
        .bind(association_id)
        .fetch_all(&mut *conn)
        .await?
        .iter()
        .map(|r| {
            Ok(FundEntry {
                id: r.try_get("id")?,
                kind: r.try_get("kind")?,
                amount: Fen(r.try_get("amount_fen")?),
                grant_id: r.try_get("grant_id")?,
                source: r.try_get("source")?,
                on_day: r.try_get("on_day")?,
                recorded_by: r.try_get("recorded_by")?,
            })
        })
        .collect::<Result<Vec<_>>>()?;
        let grants_paid: i64 = sqlx::query(
            "SELECT CAST(COALESCE(SUM(amount_fen), 0) AS BIGINT) FROM aid_grants WHERE association_id = $1 AND stage = 'paid'",
        )
        .bind(association_id)
        .fetch_one(&mut *conn)
        .await?
        .try_get::<Option<i64>, _>(0)?
        .unwrap_or(0);
        let received = entries
            .iter()
            .filter(|e| e.amount.0 > 0)
            .map(|e| e.amount.0)
            .sum();
        let paid = -entries
            .iter()
            .filter(|e| e.amount.0 < 0)
            .map(|e| e.amount.0)
            .sum::<i64>();
        Ok(Fund {
            received: Fen(received),
            paid: Fen(paid),
            balance: Fen(balance(&mut conn, association_id).await?),
            grants_paid: Fen(grants_paid),
            entries,
        })
    }
}

/// Writes an application for a grant to a member of `a` (validated here) and its audit row.
pub(super) async fn insert_grant(
    conn: &mut AnyConnection,
    actor: &Actor,
    a: &Association,
    new: &NewGrant,
    now: i64,
) -> Result<i64> {
    if !keeps(actor, &a.org_path) {
        return Err(denied());
    }
    let purpose = text(&new.purpose, 2, 200, "aid.error.purpose")?;
    let amount = Fen::parse_yuan(&new.amount).map_err(StoreError::Invalid)?;
    if amount.0 <= 0 {
        return Err(invalid("aid.error.amount"));
    }
    let beneficiary = super::member_name(conn, a, new.beneficiary_id).await?;
    let id: i64 = sqlx::query(
        "INSERT INTO aid_grants (association_id, org_path, beneficiary_id, purpose, amount_fen, stage, \
         applied_by, applied_at, updated_at) VALUES ($1, $2, $3, $4, $5, 'applied', $6, $7, $7) RETURNING id",
    )
    .bind(a.id)
    .bind(&a.org_path)
    .bind(new.beneficiary_id)
    .bind(&purpose)
    .bind(amount.0)
    .bind(&actor.login)
    .bind(now)
    .fetch_one(&mut *conn)
    .await?
    .try_get(0)?;
    audit::record(
        conn,
        actor,
        now,
        Change::create(
            "aid_grant",
            &format!("#{id} {beneficiary}"),
            &a.org_path,
            json!({ "association": a.name, "beneficiary": beneficiary, "purpose": purpose,
                    "amount_fen": amount.0, "grant_stage": "applied" }),
        ),
    )
    .await?;
    Ok(id)
}
