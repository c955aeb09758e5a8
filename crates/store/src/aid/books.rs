//! A loan's ledger (台账): repayments split penalty → interest → principal, reversals of a
//! repayment entered in error (a new entry with the opposite amounts and a reason, by another
//! hand), the daily overdue mark, and the figures the loan row keeps in step with its entries.

use baiqian_domain::Msg;
use baiqian_domain::aid::{self, Allocation, Instalment, LoanStage};
use baiqian_domain::money::Fen;
use chrono::NaiveDate;
use serde_json::json;
use sqlx::{AnyConnection, Row};

use super::keeps;
use super::loan::{Loan, LoanEntry, day, day_text, instalments, loan_in_scope, wrong_stage};
use crate::audit::{self, Change};
use crate::check::{conflict, denied, invalid, past_date, text};
use crate::{Actor, Db, Result, StoreError};

/// Since when a loan that has `paid` is overdue on `today`: still late, it stays overdue since
/// it first was (`since`), or since the day after the instalment it missed; caught up, it is
/// not overdue.
pub(super) fn overdue_since(
    schedule: &[Instalment],
    paid: i64,
    today: NaiveDate,
    since: Option<String>,
) -> Option<String> {
    aid::overdue(schedule, Fen(paid), today).and_then(|(n, _)| {
        since.or_else(|| {
            schedule
                .iter()
                .find(|i| i.n == n)
                .and_then(|i| i.due.succ_opt())
                .map(day_text)
        })
    })
}

/// A loan's figures after an entry: what is paid, the penalty owed, the next instalment due,
/// whether it is overdue (and since when), and whether it is repaid.
struct Books {
    paid: i64,
    principal_paid: i64,
    penalty_owed: i64,
    next_due: Option<String>,
    overdue_since: Option<String>,
    repaid: bool,
}

fn books_after(
    loan: &Loan,
    schedule: &[Instalment],
    paid: Allocation,
    sign: i64,
    today: NaiveDate,
) -> Books {
    let new_paid = loan.paid.0 + sign * (paid.interest.0 + paid.principal.0);
    let penalty_owed = loan.penalty_owed.0 - sign * paid.penalty.0;
    let overdue_since = overdue_since(schedule, new_paid, today, loan.overdue_since.clone());
    Books {
        paid: new_paid,
        principal_paid: loan.principal_paid.0 + sign * paid.principal.0,
        penalty_owed,
        next_due: aid::next_due(schedule, Fen(new_paid)).map(day_text),
        overdue_since,
        repaid: new_paid == loan.scheduled.0 && penalty_owed == 0,
    }
}

impl Db {
    /// Records a repayment on a day, split penalty → interest → principal. More than is owed,
    /// or a loan not being repaid, is refused.
    pub async fn repay_loan(
        &self,
        actor: &Actor,
        id: i64,
        amount: &str,
        on: &str,
        today: &str,
        now: i64,
    ) -> Result<Allocation> {
        let amount = Fen::parse_yuan(amount).map_err(StoreError::Invalid)?;
        let on = past_date(on, today, "aid.error.date")?;
        let mut tx = self.write().await?;
        let loan = loan_in_scope(tx.conn(), actor, id).await?;
        if !keeps(actor, &loan.org_path) {
            return Err(denied());
        }
        if loan.stage != LoanStage::Disbursed {
            return Err(StoreError::Conflict(Msg::new("aid.error.loan_closed")));
        }
        if loan
            .disbursed_on
            .as_deref()
            .is_some_and(|d| on.as_str() < d)
        {
            return Err(invalid("aid.error.before_disbursed"));
        }
        let schedule = instalments(tx.conn(), id).await?;
        let split = aid::allocate(&schedule, loan.paid, loan.penalty_owed, amount)
            .map_err(StoreError::Invalid)?;
        let books = books_after(&loan, &schedule, split, 1, day(today)?);
        insert_entry(
            tx.conn(),
            id,
            "repayment",
            &on,
            amount,
            split,
            None,
            None,
            actor,
            now,
        )
        .await?;
        write_books(tx.conn(), &loan, &books, &on, now).await?;
        super::refresh_tallies(tx.conn(), &[loan.association_id]).await?;
        let mut change = Change::update(
            "aid_loan",
            &format!("#{id} {}", loan.borrower_name),
            &loan.org_path,
            json!({ "paid_fen": loan.paid.0, "loan_stage": loan.stage.as_str() }),
            json!({ "paid_fen": books.paid, "loan_stage": if books.repaid { "repaid" } else { "disbursed" },
                    "repayment_fen": amount.0, "on": on, "penalty_fen": split.penalty.0,
                    "interest_fen": split.interest.0, "principal_fen": split.principal.0 }),
        );
        change.action = "repay";
        audit::record(tx.conn(), actor, now, change).await?;
        tx.commit().await?;
        Ok(split)
    }

    /// Reverses a repayment entered in error: a new entry with the opposite amounts and the
    /// reason, by another hand than the one that recorded it. The entry itself stays.
    pub async fn reverse_loan_entry(
        &self,
        actor: &Actor,
        loan_id: i64,
        entry_id: i64,
        reason: &str,
        today: &str,
        now: i64,
    ) -> Result<()> {
        let reason = text(reason, 2, 200, "aid.error.reason")?;
        let mut tx = self.write().await?;
        let loan = loan_in_scope(tx.conn(), actor, loan_id).await?;
        if !keeps(actor, &loan.org_path) {
            return Err(denied());
        }
        let entry = entries(tx.conn(), loan_id)
            .await?
            .into_iter()
            .find(|e| e.id == entry_id)
            .ok_or(StoreError::NotFound)?;
        if entry.kind != "repayment" || entry.reversed {
            return Err(conflict("aid.error.not_reversible"));
        }
        if entry.recorded_by == actor.login {
            return Err(StoreError::Denied(Msg::new("aid.error.maker_checker")));
        }
        if !matches!(loan.stage, LoanStage::Disbursed | LoanStage::Repaid) {
            return Err(wrong_stage(&loan));
        }
        let schedule = instalments(tx.conn(), loan_id).await?;
        let split = Allocation {
            penalty: entry.penalty,
            interest: entry.interest,
            principal: entry.principal,
        };
        let books = books_after(&loan, &schedule, split, -1, day(today)?);
        let negated = Allocation {
            penalty: Fen(-split.penalty.0),
            interest: Fen(-split.interest.0),
            principal: Fen(-split.principal.0),
        };
        insert_entry(
            tx.conn(),
            loan_id,
            "reversal",
            today,
            Fen(-entry.amount.0),
            negated,
            Some(entry_id),
            Some(&reason),
            actor,
            now,
        )
        .await
        .map_err(|e| match e {
            StoreError::Db(e) => crate::on_unique(e, Msg::new("aid.error.not_reversible")),
            other => other,
        })?;
        write_books(tx.conn(), &loan, &books, today, now).await?;
        super::refresh_tallies(tx.conn(), &[loan.association_id]).await?;
        let mut change = Change::update(
            "aid_loan",
            &format!("#{loan_id} {}", loan.borrower_name),
            &loan.org_path,
            json!({ "paid_fen": loan.paid.0, "loan_stage": loan.stage.as_str() }),
            json!({ "paid_fen": books.paid, "loan_stage": "disbursed", "reverses": entry_id }),
        );
        change.action = "reverse";
        change.reason = Some(reason);
        audit::record(tx.conn(), actor, now, change).await?;
        tx.commit().await?;
        Ok(())
    }

    /// The daily job's part: every loan being repaid whose next instalment fell due before
    /// `today` and is not covered turns overdue, since the day after that instalment. Returns
    /// how many turned.
    pub async fn mark_overdue_loans(&self, actor: &Actor, today: &str, now: i64) -> Result<u64> {
        let mut tx = self.write().await?;
        let due: Vec<(i64, String, String, i64)> = sqlx::query(
            "SELECT id, org_path, next_due, association_id FROM aid_loans \
             WHERE stage = 'disbursed' AND overdue_since IS NULL AND next_due < $1",
        )
        .bind(today)
        .fetch_all(tx.conn())
        .await?
        .iter()
        .map(|r| Ok((r.try_get(0)?, r.try_get(1)?, r.try_get(2)?, r.try_get(3)?)))
        .collect::<Result<_>>()?;
        for (id, path, next_due, _) in &due {
            let since = day(next_due)?
                .succ_opt()
                .map(day_text)
                .unwrap_or_else(|| today.to_string());
            sqlx::query("UPDATE aid_loans SET overdue_since = $1, updated_at = $2 WHERE id = $3")
                .bind(&since)
                .bind(now)
                .bind(id)
                .execute(tx.conn())
                .await?;
            let mut change = Change::update(
                "aid_loan",
                &format!("#{id}"),
                path,
                json!({ "overdue_since": null }),
                json!({ "overdue_since": since, "missed": next_due }),
            );
            change.action = "mark_overdue";
            audit::record(tx.conn(), actor, now, change).await?;
        }
        let associations: Vec<i64> = due.iter().map(|d| d.3).collect();
        super::refresh_tallies(tx.conn(), &associations).await?;
        tx.commit().await?;
        Ok(due.len() as u64)
    }
}

pub(super) async fn entries(conn: &mut AnyConnection, loan: i64) -> Result<Vec<LoanEntry>> {
    sqlx::query(
        "SELECT e.id, e.kind, e.on_day, e.amount_fen, e.penalty_fen, e.interest_fen, e.principal_fen, \
         e.reverses, e.reason, e.recorded_by, e.recorded_at, \
         (SELECT COUNT(*) FROM aid_loan_entries r WHERE r.reverses = e.id) AS reversed \
         FROM aid_loan_entries e WHERE e.loan_id = $1 ORDER BY e.id",
    )
    .bind(loan)
    .fetch_all(&mut *conn)
    .await?
    .iter()
    .map(|r| {
        Ok(LoanEntry {
            id: r.try_get("id")?,
            kind: r.try_get("kind")?,
            on_day: r.try_get("on_day")?,
            amount: Fen(r.try_get("amount_fen")?),
            penalty: Fen(r.try_get("penalty_fen")?),
            interest: Fen(r.try_get("interest_fen")?),
            principal: Fen(r.try_get("principal_fen")?),
            reverses: r.try_get("reverses")?,
            reversed: r.try_get::<i64, _>("reversed")? > 0,
            reason: r.try_get("reason")?,
            recorded_by: r.try_get("recorded_by")?,
            recorded_at: r.try_get("recorded_at")?,
        })
    })
    .collect()
}

/// One ledger entry; `parts` is how the amount divides.
#[allow(clippy::too_many_arguments)]
pub(super) async fn insert_entry(
    conn: &mut AnyConnection,
    loan: i64,
    kind: &str,
    on: &str,
    amount: Fen,
    parts: Allocation,
    reverses: Option<i64>,
    reason: Option<&str>,
    actor: &Actor,
    now: i64,
) -> Result<()> {
    sqlx::query(
        "INSERT INTO aid_loan_entries (loan_id, kind, on_day, amount_fen, penalty_fen, interest_fen, \
         principal_fen, reverses, reason, recorded_by, recorded_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
    )
    .bind(loan)
    .bind(kind)
    .bind(on)
    .bind(amount.0)
    .bind(parts.penalty.0)
    .bind(parts.interest.0)
    .bind(parts.principal.0)
    .bind(reverses)
    .bind(reason)
    .bind(&actor.login)
    .bind(now)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// Writes the loan's figures after an entry, only if no other entry came in between.
async fn write_books(
    conn: &mut AnyConnection,
    loan: &Loan,
    b: &Books,
    on: &str,
    now: i64,
) -> Result<()> {
    let n = sqlx::query(
        "UPDATE aid_loans SET paid_fen = $1, principal_paid_fen = $2, penalty_owed_fen = $3, \
         next_due = $4, overdue_since = $5, stage = $6, repaid_on = $7, updated_at = $8 \
         WHERE id = $9 AND paid_fen = $10 AND penalty_owed_fen = $11",
    )
    .bind(b.paid)
    .bind(b.principal_paid)
    .bind(b.penalty_owed)
    .bind(&b.next_due)
    .bind(&b.overdue_since)
    .bind(if b.repaid { "repaid" } else { "disbursed" })
    .bind(b.repaid.then_some(on))
    .bind(now)
    .bind(loan.id)
    .bind(loan.paid.0)
    .bind(loan.penalty_owed.0)
    .execute(&mut *conn)
    .await?
    .rows_affected();
    if n != 1 {
        return Err(conflict("aid.error.loan_moved"));
    }
    Ok(())
}
