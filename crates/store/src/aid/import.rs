//! Repayments posted from an officer's sheet (还款批量登记): each row names a loan (its number,
//! `#12` or `12`, and the borrower as a check), the day and the amount. Every row is checked as
//! the form checks one repayment — in scope, being repaid, not before disbursement, not in the
//! future, not more than is owed after the rows above it — and the good ones are written in one
//! transaction: the entries in multi-row statements, each loan's books once, one audit row
//! listing them.

use std::collections::HashMap;

use baiqian_domain::Msg;
use baiqian_domain::aid::{self, Instalment, LoanStage};
use baiqian_domain::capability::Capability;
use baiqian_domain::money::Fen;
use baiqian_domain::org::path_upper_bound;
use chrono::NaiveDate;
use serde_json::json;
use sqlx::Row;

use super::books::overdue_since;
use super::loan::{day, day_text};
use crate::audit::{self, Change};
use crate::check::{denied, past_date};
use crate::import::{ImportError, ImportMode, ImportOutcome};
use crate::kernel::Node;
use crate::{Actor, Db, Result, StoreError};

/// One row of a repayments sheet, as read.
#[derive(Debug, Clone, Default)]
pub struct RepaymentRow {
    pub row: usize,
    pub loan: String,
    pub borrower: String,
    pub on: String,
    pub amount: String,
}

/// A loan as the batch sees it: its books as they stand, and its schedule.
struct Open {
    association_id: i64,
    borrower: String,
    stage: LoanStage,
    disbursed_on: String,
    paid: i64,
    principal_paid: i64,
    penalty_owed: i64,
    scheduled: i64,
    overdue_since: Option<String>,
    schedule: Vec<Instalment>,
    /// Whether a row of this batch posts to it.
    touched: bool,
    last_day: Option<String>,
}

fn cell(errors: &mut Vec<ImportError>, row: usize, column: &'static str, msg: Msg) {
    errors.push(ImportError { row, column, msg });
}

fn loan_number(s: &str) -> Option<i64> {
    s.trim()
        .trim_start_matches(['#', '＃'])
        .parse()
        .ok()
        .filter(|n| *n > 0)
}

impl Db {
    /// Posts the repayments of a sheet to the loans under `node`.
    pub async fn import_repayment_rows(
        &self,
        actor: &Actor,
        node: &Node,
        rows: &[RepaymentRow],
        mode: ImportMode,
        today: &str,
        now: i64,
    ) -> Result<ImportOutcome> {
        if !actor.role.may(Capability::KeepAid) || !actor.scope.contains_path(&node.path) {
            return Err(denied());
        }
        let today_day = day(today)?;
        let ids: Vec<i64> = rows.iter().filter_map(|r| loan_number(&r.loan)).collect();
        let mut tx = self.write().await?;
        let mut loans = open_loans(tx.conn(), node, &ids).await?;
        let mut errors = Vec::new();
        // (loan, day, amount, penalty, interest, principal) of the good rows, in order.
        let mut good: Vec<(i64, String, i64, [i64; 3])> = Vec::new();
        for r in rows {
            let before = errors.len();
            let id = loan_number(&r.loan);
            let loan = match id.and_then(|id| loans.get_mut(&id).map(|l| (id, l))) {
                Some(found) => Some(found),
                None => {
                    cell(&mut errors, r.row, "loan", Msg::new("aid.error.no_loan"));
                    None
                }
            };
            let amount = Fen::parse_yuan(&r.amount)
                .map_err(|m| cell(&mut errors, r.row, "amount", m))
                .ok();
            let on = past_date(&r.on, today, "aid.error.date")
                .map_err(|e| match e {
                    StoreError::Invalid(m) => cell(&mut errors, r.row, "on", m),
                    _ => cell(&mut errors, r.row, "on", Msg::new("aid.error.date")),
                })
                .ok();
            let (Some((id, loan)), Some(amount), Some(on)) = (loan, amount, on) else {
                continue;
            };
            if !r.borrower.trim().is_empty() && r.borrower.trim() != loan.borrower {
                cell(
                    &mut errors,
                    r.row,
                    "borrower",
                    Msg::new("aid.error.not_borrower").arg("name", &loan.borrower),
                );
            }
            if loan.stage != LoanStage::Disbursed || loan.paid == loan.scheduled {
                cell(
                    &mut errors,
                    r.row,
                    "loan",
                    Msg::new("aid.error.loan_closed"),
                );
            } else if on < loan.disbursed_on {
                cell(
                    &mut errors,
                    r.row,
                    "on",
                    Msg::new("aid.error.before_disbursed"),
                );
            }
            if errors.len() > before {
                continue;
            }
            match aid::allocate(
                &loan.schedule,
                Fen(loan.paid),
                Fen(loan.penalty_owed),
                amount,
            ) {
                Err(m) => cell(&mut errors, r.row, "amount", m),
                Ok(split) => {
                    loan.paid += split.interest.0 + split.principal.0;
                    loan.principal_paid += split.principal.0;
                    loan.penalty_owed -= split.penalty.0;
                    loan.touched = true;
                    loan.last_day = Some(on.clone());
                    good.push((
                        id,
                        on,
                        amount.0,
                        [split.penalty.0, split.interest.0, split.principal.0],
                    ));
                }
            }
        }
        let mut outcome = ImportOutcome {
            errors,
            ..ImportOutcome::default()
        };
        if good.is_empty() || (mode == ImportMode::AllOrNothing && !outcome.errors.is_empty()) {
            return Ok(outcome);
        }
        write_entries(tx.conn(), &good, &actor.login, now).await?;
        let touched: Vec<(i64, &Open)> = loans
            .iter()
            .filter(|(_, l)| l.touched)
            .map(|(id, l)| (*id, l))
            .collect();
        write_loans(tx.conn(), &touched, today_day, now).await?;
        let associations: Vec<i64> = touched.iter().map(|(_, l)| l.association_id).collect();
        super::refresh_tallies(tx.conn(), &associations).await?;
        let listed: Vec<serde_json::Value> = good
            .iter()
            .map(|(id, on, amount, _)| json!([id, on, amount]))
            .collect();
        audit::record(
            tx.conn(),
            actor,
            now,
            Change {
                action: "import",
                entity: "aid_repayment",
                key: format!("{} repayments", good.len()),
                org_path: node.path.clone(),
                before: None,
                after: Some(json!({ "repayments": listed })),
                reason: None,
            },
        )
        .await?;
        tx.commit().await?;
        outcome.created = good.len();
        outcome.committed = true;
        Ok(outcome)
    }
}

/// The loans of `ids` under `node`, with their schedules.
async fn open_loans(
    conn: &mut sqlx::AnyConnection,
    node: &Node,
    ids: &[i64],
) -> Result<HashMap<i64, Open>> {
    let upper = path_upper_bound(&node.path);
    let mut wanted: Vec<i64> = ids.to_vec();
    wanted.sort_unstable();
    wanted.dedup();
    let mut out = HashMap::with_capacity(wanted.len());
    for chunk in wanted.chunks(crate::bulk::IN_LIST) {
        let list = crate::bulk::list(3, chunk.len());
        let sql = format!(
            "SELECT l.id, l.association_id, m.name AS borrower, l.stage, l.disbursed_on, l.paid_fen, l.principal_paid_fen, \
             l.penalty_owed_fen, l.scheduled_fen, l.overdue_since FROM aid_loans l \
             JOIN aid_members m ON m.id = l.borrower_id \
             WHERE l.org_path >= $1 AND l.org_path < $2 AND l.id IN ({list})"
        );
        let mut q = sqlx::query(&sql).bind(&node.path).bind(&upper);
        for id in chunk {
            q = q.bind(*id);
        }
        for r in q.fetch_all(&mut *conn).await? {
            let id: i64 = r.try_get("id")?;
            let stage = LoanStage::parse(&r.try_get::<String, _>("stage")?)
                .ok_or_else(|| StoreError::Corrupt(format!("aid loan {id}: stage")))?;
            out.insert(
                id,
                Open {
                    association_id: r.try_get("association_id")?,
                    borrower: r.try_get("borrower")?,
                    stage,
                    disbursed_on: r
                        .try_get::<Option<String>, _>("disbursed_on")?
                        .unwrap_or_default(),
                    paid: r.try_get("paid_fen")?,
                    principal_paid: r.try_get("principal_paid_fen")?,
                    penalty_owed: r.try_get("penalty_owed_fen")?,
                    scheduled: r.try_get("scheduled_fen")?,
                    overdue_since: r.try_get("overdue_since")?,
                    schedule: Vec::new(),
                    touched: false,
                    last_day: None,
                },
            );
        }
        let sql = format!(
            "SELECT loan_id, n, due, principal_fen, interest_fen FROM aid_instalments \
             WHERE loan_id IN ({}) ORDER BY loan_id, n",
            crate::bulk::list(1, chunk.len())
        );
        let mut q = sqlx::query(&sql);
        for id in chunk {
            q = q.bind(*id);
        }
        for r in q.fetch_all(&mut *conn).await? {
            let id: i64 = r.try_get("loan_id")?;
            let due: String = r.try_get("due")?;
            if let Some(l) = out.get_mut(&id) {
                l.schedule.push(Instalment {
                    n: u32::try_from(r.try_get::<i64, _>("n")?).unwrap_or(0),
                    due: NaiveDate::parse_from_str(&due, "%Y-%m-%d")
                        .map_err(|_| StoreError::Corrupt(format!("aid loan {id}: due {due}")))?,
                    principal: Fen(r.try_get("principal_fen")?),
                    interest: Fen(r.try_get("interest_fen")?),
                });
            }
        }
    }
    Ok(out)
}

async fn write_entries(
    conn: &mut sqlx::AnyConnection,
    good: &[(i64, String, i64, [i64; 3])],
    login: &str,
    now: i64,
) -> Result<()> {
    const W: usize = 7;
    for chunk in good.chunks(crate::bulk::rows_per_statement(W)) {
        let sql = format!(
            "INSERT INTO aid_loan_entries (loan_id, kind, on_day, amount_fen, penalty_fen, interest_fen, \
             principal_fen, recorded_by, recorded_at) VALUES {}",
            crate::bulk::values(
                "(?1, 'repayment', ?2, ?3, ?4, ?5, ?6, $1, ?7)",
                W,
                chunk.len(),
                2
            )
        );
        let mut q = sqlx::query(&sql).bind(login.to_string());
        for (id, on, amount, [penalty, interest, principal]) in chunk {
            q = q
                .bind(*id)
                .bind(on.clone())
                .bind(*amount)
                .bind(*penalty)
                .bind(*interest)
                .bind(*principal)
                .bind(now);
        }
        q.execute(&mut *conn).await?;
    }
    Ok(())
}

/// Each touched loan's books, as `books_after` would leave them after its rows: a few hundred
/// loans a statement (`WITH v(…) AS (VALUES …) UPDATE … FROM v`, which both databases take),
/// not a round trip per loan.
async fn write_loans(
    conn: &mut sqlx::AnyConnection,
    loans: &[(i64, &Open)],
    today: NaiveDate,
    now: i64,
) -> Result<()> {
    const W: usize = 8;
    for chunk in loans.chunks(crate::bulk::rows_per_statement(W)) {
        let sql = format!(
            "WITH v(id, paid, principal_paid, penalty_owed, next_due, overdue_since, stage, repaid_on) AS \
             (VALUES {}) UPDATE aid_loans SET paid_fen = v.paid, principal_paid_fen = v.principal_paid, \
             penalty_owed_fen = v.penalty_owed, next_due = v.next_due, overdue_since = v.overdue_since, \
             stage = v.stage, repaid_on = v.repaid_on, updated_at = $1 FROM v WHERE aid_loans.id = v.id",
            crate::bulk::values(&crate::bulk::plain_row(W), W, chunk.len(), 2)
        );
        let mut q = sqlx::query(&sql).bind(now);
        for (id, l) in chunk {
            let repaid = l.paid == l.scheduled && l.penalty_owed == 0;
            q = q
                .bind(*id)
                .bind(l.paid)
                .bind(l.principal_paid)
                .bind(l.penalty_owed)
                .bind(aid::next_due(&l.schedule, Fen(l.paid)).map(day_text))
                .bind(overdue_since(
                    &l.schedule,
                    l.paid,
                    today,
                    l.overdue_since.clone(),
                ))
                .bind(if repaid { "repaid" } else { "disbursed" })
                .bind(if repaid { l.last_day.clone() } else { None });
        }
        q.execute(&mut *conn).await?;
    }
    Ok(())
}
