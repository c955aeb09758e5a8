//! Loading many associations at once (the demo world, a province for the benchmark): multi-row
//! statements with explicit ids, so members can name their mentors and loans their borrowers,
//! and one audit row. A loan's schedule and its repayments are worked out here with the same
//! functions the forms use (`domain::aid`), so a loaded loan's books are what the forms would
//! have written.

use baiqian_domain::Msg;
use baiqian_domain::aid::{self, Allocation, LoanTerms, RepaymentMethod, first_due_after};
use baiqian_domain::money::Fen;
use baiqian_domain::org::OrgCode;
use serde_json::json;
use sqlx::Row;

use super::loan::{day, day_text};
use crate::audit::{self, Change};
use crate::bulk::{Rows, Value, opt, text};
use crate::{Actor, Db, Result, StoreError};

/// A member as loaded; `mentor` is the index of another member of the same association.
#[derive(Debug, Clone, Default)]
pub struct BulkAidMember {
    pub name: String,
    pub party_member: bool,
    pub in_difficulty: bool,
    pub helped_on: Option<String>,
    pub change_note: String,
    pub mentor: Option<usize>,
    pub households_led: i64,
    pub joined_on: String,
}

#[derive(Debug, Clone)]
pub struct BulkProject {
    pub kind: aid::ProjectKind,
    pub name: String,
    pub founded_on: String,
    pub note: String,
}

/// A loan disbursed on a day under a programme, with the repayments made since (day, amount).
#[derive(Debug, Clone)]
pub struct BulkLoan {
    pub programme_id: i64,
    pub borrower: usize,
    pub purpose: String,
    pub principal: Fen,
    pub annual_rate_bp: i64,
    pub months: u32,
    pub method: RepaymentMethod,
    pub disbursed_on: String,
    pub repayments: Vec<(String, Fen)>,
    /// Who applied, reviewed, approved and disbursed it: four hands.
    pub hands: [String; 4],
}

/// A grant paid out of money the association received.
#[derive(Debug, Clone)]
pub struct BulkGrant {
    pub beneficiary: usize,
    pub purpose: String,
    pub amount: Fen,
    pub received_from: String,
    pub received_on: String,
    pub paid_on: String,
    pub outcome: String,
    /// Who applied, approved and paid it.
    pub hands: [String; 3],
}

#[derive(Debug, Clone)]
pub struct BulkAssociation {
    pub org_code: OrgCode,
    pub name: String,
    pub trade: String,
    pub founded_on: String,
    pub members: Vec<BulkAidMember>,
    pub projects: Vec<BulkProject>,
    pub loans: Vec<BulkLoan>,
    pub grants: Vec<BulkGrant>,
}

/// What `bulk_load_aid` wrote.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct AidLoaded {
    pub associations: usize,
    pub members: usize,
    pub loans: usize,
}

async fn next_id(conn: &mut sqlx::AnyConnection, table: &str) -> Result<i64> {
    Ok(
        sqlx::query(&format!("SELECT COALESCE(MAX(id), 0) + 1 FROM {table}"))
            .fetch_one(&mut *conn)
            .await?
            .try_get(0)?,
    )
}

impl Db {
    /// Loads associations with their members, projects, grants and loans, as of `today`
    /// (which instalments fell due unpaid). One transaction, one audit row.
    pub async fn bulk_load_aid(
        &self,
        actor: &Actor,
        associations: &[BulkAssociation],
        today: &str,
        now: i64,
    ) -> Result<AidLoaded> {
        let today_day = day(today)?;
        let mut tx = self.write().await?;
        let paths: std::collections::HashMap<String, String> =
            sqlx::query("SELECT code, path FROM orgs WHERE path >= $1 AND path < $2")
                .bind(actor.scope.lower())
                .bind(actor.scope.upper())
                .fetch_all(tx.conn())
                .await?
                .iter()
                .map(|r| Ok((r.try_get("code")?, r.try_get("path")?)))
                .collect::<Result<_>>()?;
        let mut association_id = next_id(tx.conn(), "aid_associations").await?;
        let first_association = association_id;
        let mut member_id = next_id(tx.conn(), "aid_members").await?;
        let mut loan_id = next_id(tx.conn(), "aid_loans").await?;
        let mut grant_id = next_id(tx.conn(), "aid_grants").await?;
        let mut a_rows = Rows::new(
            "INSERT INTO aid_associations (id, org_code, org_path, name, trade, founded_on, created_by, created_at)",
            8,
        );
        let mut m_rows = Rows::new(
            "INSERT INTO aid_members (id, association_id, org_path, name, party_member, in_difficulty, helped_on, \
             change_note, mentor_id, households_led, joined_on, created_by, created_at, updated_at)",
            14,
        );
        let mut p_rows = Rows::new(
            "INSERT INTO aid_projects (association_id, org_path, kind, name, founded_on, note, created_by, created_at)",
            8,
        );
        let mut l_rows = Rows::new(
            "INSERT INTO aid_loans (id, programme_id, association_id, org_path, borrower_id, purpose, principal_fen, \
             annual_rate_bp, months, method, stage, applied_by, applied_at, reviewed_by, approved_by, disbursed_by, \
             disbursed_on, scheduled_fen, paid_fen, principal_paid_fen, next_due, overdue_since, repaid_on, updated_at)",
            24,
        );
        let mut i_rows = Rows::new(
            "INSERT INTO aid_instalments (loan_id, n, due, principal_fen, interest_fen)",
            5,
        );
        let mut e_rows = Rows::new(
            "INSERT INTO aid_loan_entries (loan_id, kind, on_day, amount_fen, penalty_fen, interest_fen, \
             principal_fen, recorded_by, recorded_at)",
            9,
        );
        let mut g_rows = Rows::new(
            "INSERT INTO aid_grants (id, association_id, org_path, beneficiary_id, purpose, amount_fen, stage, \
             applied_by, applied_at, approved_by, approved_at, paid_by, paid_on, outcome, updated_at)",
            15,
        );
        let mut f_rows = Rows::new(
            "INSERT INTO aid_fund_entries (association_id, org_path, kind, amount_fen, grant_id, source, on_day, \
             recorded_by, recorded_at)",
            9,
        );
        let mut loaded = AidLoaded::default();
        let who = || text(&actor.login);
        for a in associations {
            let path = paths
                .get(a.org_code.as_str())
                .cloned()
                .ok_or(StoreError::NotFound)?;
            let aid = association_id;
            association_id += 1;
            a_rows.push(vec![
                Value::Int(aid),
                text(a.org_code.as_str()),
                text(&path),
                text(&a.name),
                text(&a.trade),
                text(&a.founded_on),
                who(),
                Value::Int(now),
            ]);
            let first_member = member_id;
            for m in &a.members {
                let mentor = match m.mentor {
                    Some(k) if k < a.members.len() => Value::Int(first_member + k as i64),
                    Some(_) => return Err(StoreError::Invalid(Msg::new("aid.error.mentor"))),
                    None => Value::NullInt,
                };
                m_rows.push(vec![
                    Value::Int(member_id),
                    Value::Int(aid),
                    text(&path),
                    text(&m.name),
                    Value::Int(i64::from(m.party_member)),
                    Value::Int(i64::from(m.in_difficulty)),
                    opt(&m.helped_on),
                    text(&m.change_note),
                    mentor,
                    Value::Int(m.households_led),
                    text(&m.joined_on),
                    who(),
                    Value::Int(now),
                    Value::Int(now),
                ]);
                member_id += 1;
            }
            let member_of = |k: usize| {
                (k < a.members.len())
                    .then(|| first_member + k as i64)
                    .ok_or_else(|| StoreError::Invalid(Msg::new("aid.error.borrower")))
            };
            for p in &a.projects {
                p_rows.push(vec![
                    Value::Int(aid),
                    text(&path),
                    text(p.kind.as_str()),
                    text(&p.name),
                    text(&p.founded_on),
                    text(&p.note),
                    who(),
                    Value::Int(now),
                ]);
            }
            for l in &a.loans {
                let id = loan_id;
                loan_id += 1;
                let disbursed = day(&l.disbursed_on)?;
                let schedule = aid::schedule(&LoanTerms {
                    principal: l.principal,
                    annual_rate_bp: l.annual_rate_bp,
                    months: l.months,
                    method: l.method,
                    first_due: first_due_after(disbursed)
                        .ok_or_else(|| StoreError::Invalid(Msg::new("aid.error.date")))?,
                })
                .map_err(StoreError::Invalid)?;
                let scheduled: i64 = schedule.iter().map(|i| i.total().0).sum();
                for i in &schedule {
                    i_rows.push(vec![
                        Value::Int(id),
                        Value::Int(i64::from(i.n)),
                        text(&day_text(i.due)),
                        Value::Int(i.principal.0),
                        Value::Int(i.interest.0),
                    ]);
                }
                e_rows.push(vec![
                    Value::Int(id),
                    text("disbursement"),
                    text(&l.disbursed_on),
                    Value::Int(l.principal.0),
                    Value::Int(0),
                    Value::Int(0),
                    Value::Int(l.principal.0),
                    text(&l.hands[3]),
                    Value::Int(now),
                ]);
                let (mut paid, mut principal_paid, mut last_day) = (0i64, 0i64, None);
                for (on, amount) in &l.repayments {
                    let split: Allocation = aid::allocate(&schedule, Fen(paid), Fen(0), *amount)
                        .map_err(StoreError::Invalid)?;
                    paid += split.interest.0 + split.principal.0;
                    principal_paid += split.principal.0;
                    last_day = Some(on.clone());
                    e_rows.push(vec![
                        Value::Int(id),
                        text("repayment"),
                        text(on),
                        Value::Int(amount.0),
                        Value::Int(split.penalty.0),
                        Value::Int(split.interest.0),
                        Value::Int(split.principal.0),
                        text(&l.hands[3]),
                        Value::Int(now),
                    ]);
                }
                let repaid = paid == scheduled;
                let overdue = super::books::overdue_since(&schedule, paid, today_day, None);
                l_rows.push(vec![
                    Value::Int(id),
                    Value::Int(l.programme_id),
                    Value::Int(aid),
                    text(&path),
                    Value::Int(member_of(l.borrower)?),
                    text(&l.purpose),
                    Value::Int(l.principal.0),
                    Value::Int(l.annual_rate_bp),
                    Value::Int(i64::from(l.months)),
                    text(l.method.as_str()),
                    text(if repaid { "repaid" } else { "disbursed" }),
                    text(&l.hands[0]),
                    Value::Int(now),
                    text(&l.hands[1]),
                    text(&l.hands[2]),
                    text(&l.hands[3]),
                    text(&l.disbursed_on),
                    Value::Int(scheduled),
                    Value::Int(paid),
                    Value::Int(principal_paid),
                    opt(&aid::next_due(&schedule, Fen(paid)).map(day_text)),
                    opt(&overdue),
                    if repaid {
                        opt(&last_day)
                    } else {
                        Value::NullText
                    },
                    Value::Int(now),
                ]);
                loaded.loans += 1;
            }
            for g in &a.grants {
                let id = grant_id;
                grant_id += 1;
                g_rows.push(vec![
                    Value::Int(id),
                    Value::Int(aid),
                    text(&path),
                    Value::Int(member_of(g.beneficiary)?),
                    text(&g.purpose),
                    Value::Int(g.amount.0),
                    text("paid"),
                    text(&g.hands[0]),
                    Value::Int(now),
                    text(&g.hands[1]),
                    Value::Int(now),
                    text(&g.hands[2]),
                    text(&g.paid_on),
                    text(&g.outcome),
                    Value::Int(now),
                ]);
                for (kind, amount, grant, source, on) in [
                    (
                        "received",
                        g.amount.0,
                        None,
                        &g.received_from,
                        &g.received_on,
                    ),
                    (
                        "paid",
                        -g.amount.0,
                        Some(id),
                        &beneficiary_name(a, g),
                        &g.paid_on,
                    ),
                ] {
                    f_rows.push(vec![
                        Value::Int(aid),
                        text(&path),
                        text(kind),
                        Value::Int(amount),
                        grant.map_or(Value::NullInt, Value::Int),
                        text(source),
                        text(on),
                        text(&g.hands[2]),
                        Value::Int(now),
                    ]);
                }
            }
            loaded.associations += 1;
            loaded.members += a.members.len();
        }
        // Parents before children: the foreign keys hold at every statement.
        let conn = tx.conn();
        a_rows.write(&mut *conn).await?;
        m_rows.write(&mut *conn).await?;
        p_rows.write(&mut *conn).await?;
        l_rows.write(&mut *conn).await?;
        i_rows.write(&mut *conn).await?;
        e_rows.write(&mut *conn).await?;
        g_rows.write(&mut *conn).await?;
        f_rows.write(&mut *conn).await?;
        let loaded_ids: Vec<i64> = (first_association..association_id).collect();
        super::refresh_tallies(tx.conn(), &loaded_ids).await?;
        for table in ["aid_associations", "aid_members", "aid_loans", "aid_grants"] {
            self.after_explicit_ids(tx.conn(), table).await?;
        }
        audit::record(
            tx.conn(),
            actor,
            now,
            Change {
                action: "bulk_load",
                entity: "aid_association",
                key: format!("{} associations", loaded.associations),
                org_path: actor.scope.lower().to_string(),
                before: None,
                after: Some(json!({ "associations": loaded.associations,
                                    "members": loaded.members, "loans": loaded.loans })),
                reason: None,
            },
        )
        .await?;
        tx.commit().await?;
        Ok(loaded)
    }
}

fn beneficiary_name(a: &BulkAssociation, g: &BulkGrant) -> String {
    a.members
        .get(g.beneficiary)
        .map(|m| m.name.clone())
        .unwrap_or_default()
}
