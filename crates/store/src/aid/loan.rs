//! Credit loans (创业信用贷款): a programme's terms as data; a loan applied for, reviewed,
//! approved and disbursed by different people (maker-checker: no one approves what they entered
//! or reviewed, nor disburses what they approved); its schedule written at disbursement; its
//! ledger of entries append-only, a correction a reversing entry with a reason; overdue the
//! day after a missed instalment, marked by the daily job.
//!
//! The loan row keeps what its entries add up to (paid, principal paid, penalty owed) and the
//! first instalment not yet covered (`next_due`), written in the transaction of each entry, so
//! the boards and the daily job read one row per loan.

use baiqian_domain::Msg;
use baiqian_domain::aid::{
    self, Allocation, Instalment, LoanStage, LoanTerms, RepaymentMethod, first_due_after,
};
use baiqian_domain::money::Fen;
use baiqian_domain::org::path_upper_bound;
use chrono::NaiveDate;
use serde::Serialize;
use serde_json::json;
use sqlx::any::AnyRow;
use sqlx::{AnyConnection, Row};

use super::books::{entries, insert_entry};
use super::{Association, approves, association_in_scope, count, keeps};
use crate::audit::{self, Change};
use crate::check::{denied, invalid, past_date, text};
use crate::kernel::Node;
use crate::{Actor, Db, Result, StoreError};

/// A credit programme: who runs it, its limit, rate, term and method.
#[derive(Debug, Clone, Serialize)]
pub struct Programme {
    pub id: i64,
    pub org_code: String,
    pub org_path: String,
    pub name: String,
    pub limit: Fen,
    pub annual_rate_bp: i64,
    pub months: i64,
    pub method: RepaymentMethod,
}

/// A programme as typed: the limit in yuan, the rate in percent a year (`4.35`).
#[derive(Debug, Clone, Default)]
pub struct NewProgramme {
    pub name: String,
    pub limit: String,
    pub rate: String,
    pub months: String,
    pub method: String,
}

/// An application as typed: the amount in yuan.
#[derive(Debug, Clone, Default)]
pub struct NewLoan {
    pub programme_id: i64,
    pub borrower_id: i64,
    pub principal: String,
    pub purpose: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct Loan {
    pub id: i64,
    pub programme_id: i64,
    pub programme_name: String,
    pub association_id: i64,
    pub association_name: String,
    pub org_path: String,
    pub borrower_id: i64,
    pub borrower_name: String,
    pub purpose: String,
    pub principal: Fen,
    pub annual_rate_bp: i64,
    pub months: i64,
    pub method: RepaymentMethod,
    pub stage: LoanStage,
    pub applied_by: String,
    pub reviewed_by: Option<String>,
    pub approved_by: Option<String>,
    pub disbursed_by: Option<String>,
    pub disbursed_on: Option<String>,
    pub refused_reason: Option<String>,
    /// Principal and interest of the whole schedule, and what of it is paid.
    pub scheduled: Fen,
    pub paid: Fen,
    pub principal_paid: Fen,
    pub penalty_owed: Fen,
    pub next_due: Option<String>,
    pub overdue_since: Option<String>,
    pub repaid_on: Option<String>,
}

impl Loan {
    /// What is still owed of the schedule (principal and interest).
    pub fn outstanding(&self) -> Fen {
        Fen(self.scheduled.0 - self.paid.0)
    }

    /// The principal still owed (贷款余额).
    pub fn principal_outstanding(&self) -> Fen {
        match self.stage {
            LoanStage::Disbursed => Fen(self.principal.0 - self.principal_paid.0),
            _ => Fen(0),
        }
    }
}

/// One instalment, and whether what was paid covers it.
#[derive(Debug, Clone, Serialize)]
pub struct ScheduleLine {
    pub n: i64,
    pub due: String,
    pub principal: Fen,
    pub interest: Fen,
    pub total: Fen,
    pub covered: bool,
}

/// One entry of a loan's ledger.
#[derive(Debug, Clone, Serialize)]
pub struct LoanEntry {
    pub id: i64,
    /// `disbursement`, `repayment` or `reversal`.
    pub kind: String,
    pub on_day: String,
    pub amount: Fen,
    pub penalty: Fen,
    pub interest: Fen,
    pub principal: Fen,
    pub reverses: Option<i64>,
    /// Whether a later entry reverses this one.
    pub reversed: bool,
    pub reason: Option<String>,
    pub recorded_by: String,
    pub recorded_at: i64,
}

/// A loan with its schedule and its ledger.
#[derive(Debug, Clone, Serialize)]
pub struct LoanView {
    pub loan: Loan,
    pub schedule: Vec<ScheduleLine>,
    pub entries: Vec<LoanEntry>,
}

/// Which loans a list shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LoanFilter {
    /// Disbursed, repaid or not (what the board's "loans" figure counts).
    Lent,
    /// Applied, reviewed or approved: waiting for a step.
    Pending,
    /// Disbursed and not repaid.
    Outstanding,
    Overdue,
    Repaid,
}

impl LoanFilter {
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "lent" => Some(LoanFilter::Lent),
            "pending" => Some(LoanFilter::Pending),
            "outstanding" => Some(LoanFilter::Outstanding),
            "overdue" => Some(LoanFilter::Overdue),
            "repaid" => Some(LoanFilter::Repaid),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            LoanFilter::Lent => "lent",
            LoanFilter::Pending => "pending",
            LoanFilter::Outstanding => "outstanding",
            LoanFilter::Overdue => "overdue",
            LoanFilter::Repaid => "repaid",
        }
    }

    fn sql(self) -> &'static str {
        match self {
            LoanFilter::Lent => "l.stage IN ('disbursed', 'repaid')",
            LoanFilter::Pending => "l.stage IN ('applied', 'reviewed', 'approved')",
            LoanFilter::Outstanding => "l.stage = 'disbursed'",
            LoanFilter::Overdue => "l.stage = 'disbursed' AND l.overdue_since IS NOT NULL",
            LoanFilter::Repaid => "l.stage = 'repaid'",
        }
    }
}

const LOAN_COLUMNS: &str = "l.id, l.programme_id, p.name AS programme_name, l.association_id, \
    a.name AS association_name, l.org_path, l.borrower_id, m.name AS borrower_name, l.purpose, \
    l.principal_fen, l.annual_rate_bp, l.months, l.method, l.stage, l.applied_by, l.reviewed_by, \
    l.approved_by, l.disbursed_by, l.disbursed_on, l.refused_reason, l.scheduled_fen, l.paid_fen, \
    l.principal_paid_fen, l.penalty_owed_fen, l.next_due, l.overdue_since, l.repaid_on";

const LOAN_FROM: &str = "aid_loans l JOIN aid_programmes p ON p.id = l.programme_id \
    JOIN aid_associations a ON a.id = l.association_id JOIN aid_members m ON m.id = l.borrower_id";

fn loan_from_row(r: &AnyRow) -> Result<Loan> {
    let id: i64 = r.try_get("id")?;
    let corrupt = |what: &str| StoreError::Corrupt(format!("aid loan {id}: {what}"));
    Ok(Loan {
        id,
        programme_id: r.try_get("programme_id")?,
        programme_name: r.try_get("programme_name")?,
        association_id: r.try_get("association_id")?,
        association_name: r.try_get("association_name")?,
        org_path: r.try_get("org_path")?,
        borrower_id: r.try_get("borrower_id")?,
        borrower_name: r.try_get("borrower_name")?,
        purpose: r.try_get("purpose")?,
        principal: Fen(r.try_get("principal_fen")?),
        annual_rate_bp: r.try_get("annual_rate_bp")?,
        months: r.try_get("months")?,
        method: RepaymentMethod::parse(&r.try_get::<String, _>("method")?)
            .ok_or_else(|| corrupt("method"))?,
        stage: LoanStage::parse(&r.try_get::<String, _>("stage")?)
            .ok_or_else(|| corrupt("stage"))?,
        applied_by: r.try_get("applied_by")?,
        reviewed_by: r.try_get("reviewed_by")?,
        approved_by: r.try_get("approved_by")?,
        disbursed_by: r.try_get("disbursed_by")?,
        disbursed_on: r.try_get("disbursed_on")?,
        refused_reason: r.try_get("refused_reason")?,
        scheduled: Fen(r.try_get("scheduled_fen")?),
        paid: Fen(r.try_get("paid_fen")?),
        principal_paid: Fen(r.try_get("principal_paid_fen")?),
        penalty_owed: Fen(r.try_get("penalty_owed_fen")?),
        next_due: r.try_get("next_due")?,
        overdue_since: r.try_get("overdue_since")?,
        repaid_on: r.try_get("repaid_on")?,
    })
}

pub(super) async fn loan_in_scope(
    conn: &mut AnyConnection,
    actor: &Actor,
    id: i64,
) -> Result<Loan> {
    let r = sqlx::query(&format!(
        "SELECT {LOAN_COLUMNS} FROM {LOAN_FROM} WHERE l.id = $1 AND l.org_path >= $2 AND l.org_path < $3"
    ))
    .bind(id)
    .bind(actor.scope.lower())
    .bind(actor.scope.upper())
    .fetch_optional(&mut *conn)
    .await?
    .ok_or(StoreError::NotFound)?;
    loan_from_row(&r)
}

fn programme_from_row(r: &AnyRow) -> Result<Programme> {
    let id: i64 = r.try_get("id")?;
    Ok(Programme {
        id,
        org_code: r.try_get("org_code")?,
        org_path: r.try_get("org_path")?,
        name: r.try_get("name")?,
        limit: Fen(r.try_get("limit_fen")?),
        annual_rate_bp: r.try_get("annual_rate_bp")?,
        months: r.try_get("months")?,
        method: RepaymentMethod::parse(&r.try_get::<String, _>("method")?)
            .ok_or_else(|| StoreError::Corrupt(format!("aid programme {id}: method")))?,
    })
}

const PROGRAMME_COLUMNS: &str =
    "id, org_code, org_path, name, limit_fen, annual_rate_bp, months, method";

pub(super) async fn instalments(conn: &mut AnyConnection, loan: i64) -> Result<Vec<Instalment>> {
    sqlx::query(
        "SELECT n, due, principal_fen, interest_fen FROM aid_instalments WHERE loan_id = $1 ORDER BY n",
    )
    .bind(loan)
    .fetch_all(&mut *conn)
    .await?
    .iter()
    .map(|r| {
        let due: String = r.try_get("due")?;
        Ok(Instalment {
            n: u32::try_from(r.try_get::<i64, _>("n")?)
                .map_err(|_| StoreError::Corrupt(format!("aid loan {loan}: instalment")))?,
            due: NaiveDate::parse_from_str(&due, "%Y-%m-%d")
                .map_err(|_| StoreError::Corrupt(format!("aid loan {loan}: due {due}")))?,
            principal: Fen(r.try_get("principal_fen")?),
            interest: Fen(r.try_get("interest_fen")?),
        })
    })
    .collect()
}

pub(super) fn day(s: &str) -> Result<NaiveDate> {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").map_err(|_| invalid("aid.error.date"))
}

pub(super) fn day_text(d: NaiveDate) -> String {
    d.format("%Y-%m-%d").to_string()
}

/// Who the loan's step is refused to, by the maker-checker rule: `who` did an earlier step.
fn same_hand(who: &str, earlier: &[Option<&str>]) -> bool {
    earlier.contains(&Some(who))
}

pub(super) fn wrong_stage(loan: &Loan) -> StoreError {
    StoreError::Conflict(Msg::new("aid.error.loan_stage").arg("stage", loan.stage.as_str()))
}

impl Db {
    /// Sets up a credit programme at a node (its limit, rate, term and method). Returns its id.
    pub async fn create_programme(
        &self,
        actor: &Actor,
        node: &Node,
        new: &NewProgramme,
        now: i64,
    ) -> Result<i64> {
        if !approves(actor, &node.path) {
            return Err(denied());
        }
        let name = text(&new.name, 2, 60, "aid.error.name")?;
        let limit = Fen::parse_yuan(&new.limit).map_err(StoreError::Invalid)?;
        // Percent with up to two decimals is basis points, read as yuan are fen.
        let rate_bp = Fen::parse_yuan(&new.rate)
            .map_err(|_| {
                StoreError::Invalid(
                    Msg::new("aid.error.rate").arg("max", aid::MAX_RATE_BP as f64 / 100.0),
                )
            })?
            .0;
        let months: u32 = new.months.trim().parse().unwrap_or(0);
        let method =
            RepaymentMethod::parse(&new.method).ok_or_else(|| invalid("aid.error.method"))?;
        // The terms must make a schedule at the limit.
        aid::schedule(&LoanTerms {
            principal: limit,
            annual_rate_bp: rate_bp,
            months,
            method,
            first_due: NaiveDate::from_ymd_opt(2000, 1, 31).unwrap_or_default(),
        })
        .map_err(StoreError::Invalid)?;
        let mut tx = self.write().await?;
        let id: i64 = sqlx::query(
            "INSERT INTO aid_programmes (org_code, org_path, name, limit_fen, annual_rate_bp, months, method, created_by, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING id",
        )
        .bind(node.code.as_str())
        .bind(&node.path)
        .bind(&name)
        .bind(limit.0)
        .bind(rate_bp)
        .bind(i64::from(months))
        .bind(method.as_str())
        .bind(&actor.login)
        .bind(now)
        .fetch_one(tx.conn())
        .await
        .map_err(|e| crate::on_unique(e, Msg::new("aid.error.programme_exists")))?
        .try_get(0)?;
        audit::record(
            tx.conn(),
            actor,
            now,
            Change::create(
                "aid_programme",
                &format!("{} {name}", node.code.as_str()),
                &node.path,
                json!({ "name": name, "limit_fen": limit.0, "annual_rate_bp": rate_bp,
                        "months": months, "method": method.as_str() }),
            ),
        )
        .await?;
        tx.commit().await?;
        Ok(id)
    }

    /// The programmes an association at `path` may borrow from: those at its node or above.
    pub async fn programmes_for(&self, path: &str) -> Result<Vec<Programme>> {
        let all = sqlx::query(&format!(
            "SELECT {PROGRAMME_COLUMNS} FROM aid_programmes WHERE org_path <= $1 ORDER BY org_path, id"
        ))
        .bind(path)
        .fetch_all(self.pool())
        .await?;
        all.iter()
            .map(programme_from_row)
            .filter(|p| p.as_ref().map_or(true, |p| path.starts_with(&p.org_path)))
            .collect()
    }

    /// Enters an application for a member of the association. Returns the loan's id.
    pub async fn apply_loan(
        &self,
        actor: &Actor,
        association_id: i64,
        new: &NewLoan,
        now: i64,
    ) -> Result<i64> {
        let mut tx = self.write().await?;
        let a = association_in_scope(tx.conn(), actor, association_id).await?;
        let id = insert_loan(tx.conn(), actor, &a, new, now).await?;
        tx.commit().await?;
        Ok(id)
    }

    /// Moves an application on: reviewed (初审), approved (审批) or refused with a reason, each by
    /// a hand that did no earlier step of it.
    pub async fn decide_loan(
        &self,
        actor: &Actor,
        id: i64,
        next: LoanStage,
        reason: &str,
        now: i64,
    ) -> Result<()> {
        let mut tx = self.write().await?;
        let loan = loan_in_scope(tx.conn(), actor, id).await?;
        let allowed = match next {
            LoanStage::Reviewed => keeps(actor, &loan.org_path),
            LoanStage::Approved | LoanStage::Refused => approves(actor, &loan.org_path),
            _ => false,
        };
        if !allowed {
            return Err(denied());
        }
        if !loan.stage.may_become(next) {
            return Err(wrong_stage(&loan));
        }
        let earlier = [Some(loan.applied_by.as_str()), loan.reviewed_by.as_deref()];
        if same_hand(&actor.login, &earlier) {
            return Err(StoreError::Denied(Msg::new("aid.error.maker_checker")));
        }
        let reason = match next {
            LoanStage::Refused => Some(text(reason, 2, 200, "aid.error.reason")?),
            _ => None,
        };
        let n = match next {
            LoanStage::Refused => {
                sqlx::query(
                    "UPDATE aid_loans SET stage = 'refused', refused_reason = $1, updated_at = $2 \
                     WHERE id = $3 AND stage = $4",
                )
                .bind(&reason)
                .bind(now)
                .bind(id)
                .bind(loan.stage.as_str())
                .execute(tx.conn())
                .await?
            }
            _ => {
                let column = if next == LoanStage::Reviewed {
                    "reviewed_by"
                } else {
                    "approved_by"
                };
                sqlx::query(&format!(
                    "UPDATE aid_loans SET stage = $1, {column} = $2, updated_at = $3 WHERE id = $4 AND stage = $5"
                ))
                .bind(next.as_str())
                .bind(&actor.login)
                .bind(now)
                .bind(id)
                .bind(loan.stage.as_str())
                .execute(tx.conn())
                .await?
            }
        }
        .rows_affected();
        if n != 1 {
            return Err(wrong_stage(&loan));
        }
        let mut change = Change::update(
            "aid_loan",
            &format!("#{id} {}", loan.borrower_name),
            &loan.org_path,
            json!({ "loan_stage": loan.stage.as_str() }),
            json!({ "loan_stage": next.as_str() }),
        );
        change.action = match next {
            LoanStage::Reviewed => "review",
            LoanStage::Approved => "approve",
            _ => "refuse",
        };
        change.reason = reason;
        audit::record(tx.conn(), actor, now, change).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Pays out an approved loan on a day (放款), by a hand other than the approver's; writes its
    /// schedule, the first instalment a month after.
    pub async fn disburse_loan(
        &self,
        actor: &Actor,
        id: i64,
        on: &str,
        today: &str,
        now: i64,
    ) -> Result<()> {
        let on = past_date(on, today, "aid.error.date")?;
        let mut tx = self.write().await?;
        let loan = loan_in_scope(tx.conn(), actor, id).await?;
        if !keeps(actor, &loan.org_path) {
            return Err(denied());
        }
        if loan.stage != LoanStage::Approved {
            return Err(wrong_stage(&loan));
        }
        if same_hand(&actor.login, &[loan.approved_by.as_deref()]) {
            return Err(StoreError::Denied(Msg::new("aid.error.maker_checker")));
        }
        let first_due = first_due_after(day(&on)?).ok_or_else(|| invalid("aid.error.date"))?;
        let schedule = aid::schedule(&LoanTerms {
            principal: loan.principal,
            annual_rate_bp: loan.annual_rate_bp,
            months: u32::try_from(loan.months).unwrap_or(0),
            method: loan.method,
            first_due,
        })
        .map_err(StoreError::Invalid)?;
        let scheduled: i64 = schedule.iter().map(|i| i.total().0).sum();
        let n = sqlx::query(
            "UPDATE aid_loans SET stage = 'disbursed', disbursed_by = $1, disbursed_on = $2, \
             scheduled_fen = $3, next_due = $4, updated_at = $5 WHERE id = $6 AND stage = 'approved'",
        )
        .bind(&actor.login)
        .bind(&on)
        .bind(scheduled)
        .bind(day_text(first_due))
        .bind(now)
        .bind(id)
        .execute(tx.conn())
        .await?
        .rows_affected();
        if n != 1 {
            return Err(wrong_stage(&loan));
        }
        for i in &schedule {
            sqlx::query(
                "INSERT INTO aid_instalments (loan_id, n, due, principal_fen, interest_fen) VALUES ($1, $2, $3, $4, $5)",
            )
            .bind(id)
            .bind(i64::from(i.n))
            .bind(day_text(i.due))
            .bind(i.principal.0)
            .bind(i.interest.0)
            .execute(tx.conn())
            .await?;
        }
        insert_entry(
            tx.conn(),
            id,
            "disbursement",
            &on,
            loan.principal,
            Allocation {
                principal: loan.principal,
                ..Allocation::default()
            },
            None,
            None,
            actor,
            now,
        )
        .await?;
        super::refresh_tallies(tx.conn(), &[loan.association_id]).await?;
        let mut change = Change::update(
            "aid_loan",
            &format!("#{id} {}", loan.borrower_name),
            &loan.org_path,
            json!({ "loan_stage": "approved" }),
            json!({ "loan_stage": "disbursed", "on": on, "scheduled_fen": scheduled,
                    "first_due": day_text(first_due) }),
        );
        change.action = "disburse";
        audit::record(tx.conn(), actor, now, change).await?;
        tx.commit().await?;
        Ok(())
    }

    /// A loan in the actor's scope with its schedule and ledger.
    pub async fn loan(&self, actor: &Actor, id: i64) -> Result<LoanView> {
        let mut conn = self.pool().acquire().await?;
        let loan = loan_in_scope(&mut conn, actor, id).await?;
        let mut paid_left = loan.paid.0;
        let schedule = instalments(&mut conn, id)
            .await?
            .into_iter()
            .map(|i| {
                let total = i.total();
                paid_left -= total.0;
                ScheduleLine {
                    n: i64::from(i.n),
                    due: day_text(i.due),
                    principal: i.principal,
                    interest: i.interest,
                    total,
                    covered: paid_left >= 0,
                }
            })
            .collect();
        let entries = entries(&mut conn, id).await?;
        Ok(LoanView {
            loan,
            schedule,
            entries,
        })
    }

    /// The loans under a node that `filter` picks, a page of at most `limit` from `offset`,
    /// and how many in all.
    pub async fn loans_under(
        &self,
        node: &Node,
        filter: LoanFilter,
        offset: i64,
        limit: i64,
    ) -> Result<(Vec<Loan>, i64)> {
        let upper = path_upper_bound(&node.path);
        let mut conn = self.pool().acquire().await?;
        let total = count(
            &mut conn,
            &format!(
                "SELECT COUNT(*) FROM aid_loans l WHERE {} AND l.org_path >= $1 AND l.org_path < $2",
                filter.sql()
            ),
            &node.path,
            &upper,
        )
        .await?;
        let list = sqlx::query(&format!(
            "SELECT {LOAN_COLUMNS} FROM {LOAN_FROM} WHERE {} AND l.org_path >= $1 AND l.org_path < $2 \
             ORDER BY l.org_path, l.id LIMIT $3 OFFSET $4",
            filter.sql()
        ))
        .bind(&node.path)
        .bind(&upper)
        .bind(limit)
        .bind(offset)
        .fetch_all(&mut *conn)
        .await?
        .iter()
        .map(loan_from_row)
        .collect::<Result<Vec<_>>>()?;
        Ok((list, total))
    }

    /// The loans of an association, newest first.
    pub async fn loans_of(&self, association_id: i64) -> Result<Vec<Loan>> {
        sqlx::query(&format!(
            "SELECT {LOAN_COLUMNS} FROM {LOAN_FROM} WHERE l.association_id = $1 ORDER BY l.id DESC"
        ))
        .bind(association_id)
        .fetch_all(self.pool())
        .await?
        .iter()
        .map(loan_from_row)
        .collect()
    }

    /// The overdue loans an officer disbursed, in their scope (their task list).
    pub async fn overdue_loans_kept_by(&self, actor: &Actor) -> Result<Vec<Loan>> {
        sqlx::query(&format!(
            "SELECT {LOAN_COLUMNS} FROM {LOAN_FROM} WHERE l.disbursed_by = $1 \
             AND l.overdue_since IS NOT NULL AND l.stage = 'disbursed' \
             AND l.org_path >= $2 AND l.org_path < $3 ORDER BY l.overdue_since, l.id LIMIT 100"
        ))
        .bind(&actor.login)
        .bind(actor.scope.lower())
        .bind(actor.scope.upper())
        .fetch_all(self.pool())
        .await?
        .iter()
        .map(loan_from_row)
        .collect()
    }
}

/// Writes an application for a loan to a member of `a` (validated here) and its audit row.
pub(super) async fn insert_loan(
    conn: &mut AnyConnection,
    actor: &Actor,
    a: &Association,
    new: &NewLoan,
    now: i64,
) -> Result<i64> {
    if !keeps(actor, &a.org_path) {
        return Err(denied());
    }
    let purpose = text(&new.purpose, 2, 200, "aid.error.purpose")?;
    let principal = Fen::parse_yuan(&new.principal).map_err(StoreError::Invalid)?;
    let p = sqlx::query(&format!(
        "SELECT {PROGRAMME_COLUMNS} FROM aid_programmes WHERE id = $1"
    ))
    .bind(new.programme_id)
    .fetch_optional(&mut *conn)
    .await?
    .map(|r| programme_from_row(&r))
    .transpose()?
    .filter(|p| a.org_path.starts_with(&p.org_path))
    .ok_or_else(|| invalid("aid.error.programme"))?;
    if principal.0 > p.limit.0 {
        return Err(StoreError::Invalid(
            Msg::new("aid.error.over_limit").arg("limit", p.limit.yuan_text()),
        ));
    }
    let borrower = super::member_name(conn, a, new.borrower_id).await?;
    aid::schedule(&LoanTerms {
        principal,
        annual_rate_bp: p.annual_rate_bp,
        months: u32::try_from(p.months).unwrap_or(0),
        method: p.method,
        first_due: NaiveDate::from_ymd_opt(2000, 1, 31).unwrap_or_default(),
    })
    .map_err(StoreError::Invalid)?;
    let id: i64 = sqlx::query(
        "INSERT INTO aid_loans (programme_id, association_id, org_path, borrower_id, purpose, principal_fen, \
         annual_rate_bp, months, method, stage, applied_by, applied_at, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, 'applied', $10, $11, $11) RETURNING id",
    )
    .bind(p.id)
    .bind(a.id)
    .bind(&a.org_path)
    .bind(new.borrower_id)
    .bind(&purpose)
    .bind(principal.0)
    .bind(p.annual_rate_bp)
    .bind(p.months)
    .bind(p.method.as_str())
    .bind(&actor.login)
    .bind(now)
    .fetch_one(&mut *conn)
    .await?
    .try_get(0)?;
    audit::record(
        &mut *conn,
        actor,
        now,
        Change::create(
            "aid_loan",
            &format!("#{id} {borrower}"),
            &a.org_path,
            json!({ "programme": p.name, "borrower": borrower, "principal_fen": principal.0,
                    "annual_rate_bp": p.annual_rate_bp, "months": p.months,
                    "method": p.method.as_str(), "purpose": purpose, "loan_stage": "applied" }),
        ),
    )
    .await?;
    Ok(id)
}
