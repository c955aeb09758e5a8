//! The mutual-aid associations (党群创业互助会): founded under a village or a township by trade,
//! with their members (Party members and villagers; households in difficulty flagged, with
//! what changed for them; a mentor named), their projects, their grants and fund (`grant.rs`)
//! and their credit loans (`loan.rs`). Money is whole fen. ID numbers and phones are sealed in
//! the vault and shown masked. Every change is audited in its own transaction; a refusal
//! writes nothing.

mod books;
mod grant;
mod import;
mod ledger;
mod load;
mod loan;
mod member;
mod waiting;
pub use grant::{Fund, FundEntry, Grant, NewGrant, Receipt};
pub use import::RepaymentRow;
pub use ledger::{AidLedgerRow, AidRecord};
pub use load::{AidLoaded, BulkAidMember, BulkAssociation, BulkGrant, BulkLoan, BulkProject};
pub use loan::{
    Loan, LoanEntry, LoanFilter, LoanView, NewLoan, NewProgramme, Programme, ScheduleLine,
};
pub use member::AidRevealed;
use member::insert_member;
pub use waiting::{AidStep, WaitingStep};

use baiqian_domain::aid::ProjectKind;
use baiqian_domain::capability::Capability;
use baiqian_domain::org::{Level, path_upper_bound};
use serde::Serialize;
use serde_json::json;
use sqlx::any::AnyRow;
use sqlx::{AnyConnection, Row};

use crate::audit::{self, Change};
use crate::check::{denied, invalid, past_date, text};
use crate::kernel::{Node, TreeEvent};
use crate::vault::Vault;
use crate::{Actor, Db, Result, StoreError};

/// An association (互助会) with its head counts.
#[derive(Debug, Clone, Serialize)]
pub struct Association {
    pub id: i64,
    pub org_code: String,
    pub org_name: String,
    pub org_path: String,
    pub name: String,
    pub trade: String,
    pub founded_on: String,
    pub members: i64,
    pub helped: i64,
}

#[derive(Debug, Clone, Default)]
pub struct NewAssociation {
    pub name: String,
    pub trade: String,
    pub founded_on: String,
}

/// A member of an association (会员).
#[derive(Debug, Clone, Serialize)]
pub struct AidMember {
    pub id: i64,
    pub association_id: i64,
    pub association_name: String,
    pub name: String,
    pub party_member: bool,
    pub id_masked: Option<String>,
    pub phone_masked: Option<String>,
    /// A household in difficulty (困难户) when it joined.
    pub in_difficulty: bool,
    /// The day it was helped out of poverty (脱贫), if it was.
    pub helped_on: Option<String>,
    pub change_note: String,
    pub mentor_name: Option<String>,
    /// Households this member leads in business (带动农户).
    pub households_led: i64,
    pub joined_on: String,
}

/// A member as typed or imported; the mentor by name, a member of the same association.
#[derive(Debug, Clone, Default)]
pub struct NewAidMember {
    pub name: String,
    pub party_member: bool,
    pub id_number: String,
    pub phone: String,
    pub in_difficulty: bool,
    pub helped_on: String,
    pub change_note: String,
    pub mentor: String,
    pub households_led: String,
    pub joined_on: String,
}

/// What an association founded or built.
#[derive(Debug, Clone, Serialize)]
pub struct Project {
    pub id: i64,
    pub association_id: i64,
    pub association_name: String,
    pub kind: ProjectKind,
    pub name: String,
    pub founded_on: String,
    pub note: String,
}

#[derive(Debug, Clone, Default)]
pub struct NewProject {
    pub kind: String,
    pub name: String,
    pub founded_on: String,
    pub note: String,
}

/// The figures of the associations under a node (`GET /api/v1/orgs/{code}/aid/summary` and
/// the board): each counts rows the board's lists show.
#[derive(Debug, Clone, Default, Serialize, PartialEq, Eq)]
pub struct AidSummary {
    pub associations: i64,
    pub members: i64,
    /// Members helped out of poverty (脱贫).
    pub helped: i64,
    /// Loans disbursed (repaid or not), the principal lent, the principal still owed, and the
    /// loans overdue now.
    pub loans: i64,
    pub lent_fen: i64,
    pub outstanding_fen: i64,
    pub overdue: i64,
    pub cooperatives: i64,
    pub leading_firms: i64,
    pub startup_bases: i64,
    pub households_led: i64,
    /// Grants paid, and their sum.
    pub grants_paid: i64,
    pub grants_paid_fen: i64,
}

/// Whether the actor keeps the records of an association at `path`.
pub(crate) fn keeps(actor: &Actor, path: &str) -> bool {
    actor.role.may(Capability::KeepAid) && actor.scope.contains_path(path)
}

/// Whether the actor approves grants and loans at `path`.
pub(crate) fn approves(actor: &Actor, path: &str) -> bool {
    actor.role.may(Capability::ApproveAid) && actor.scope.contains_path(path)
}

const ASSOCIATION_COLUMNS: &str = "a.id, a.org_code, o.name AS org_name, a.org_path, a.name, \
    a.trade, a.founded_on, a.t_members AS members, a.t_helped AS helped";

fn association_from_row(r: &AnyRow) -> Result<Association> {
    Ok(Association {
        id: r.try_get("id")?,
        org_code: r.try_get("org_code")?,
        org_name: r.try_get("org_name")?,
        org_path: r.try_get("org_path")?,
        name: r.try_get("name")?,
        trade: r.try_get("trade")?,
        founded_on: r.try_get("founded_on")?,
        members: r.try_get("members")?,
        helped: r.try_get("helped")?,
    })
}

/// The association `id` if the actor's scope holds it.
pub(crate) async fn association_in_scope(
    conn: &mut AnyConnection,
    actor: &Actor,
    id: i64,
) -> Result<Association> {
    let r = sqlx::query(&format!(
        "SELECT {ASSOCIATION_COLUMNS} FROM aid_associations a JOIN orgs o ON o.code = a.org_code \
         WHERE a.id = $1 AND a.org_path >= $2 AND a.org_path < $3"
    ))
    .bind(id)
    .bind(actor.scope.lower())
    .bind(actor.scope.upper())
    .fetch_optional(&mut *conn)
    .await?
    .ok_or(StoreError::NotFound)?;
    association_from_row(&r)
}

const MEMBER_COLUMNS: &str = "m.id, m.association_id, \
    (SELECT a.name FROM aid_associations a WHERE a.id = m.association_id) AS association_name, m.name, m.party_member, m.id_masked, \
    m.phone_masked, m.in_difficulty, m.helped_on, m.change_note, \
    (SELECT t.name FROM aid_members t WHERE t.id = m.mentor_id) AS mentor_name, \
    m.households_led, m.joined_on";

fn member_from_row(r: &AnyRow) -> Result<AidMember> {
    Ok(AidMember {
        id: r.try_get("id")?,
        association_id: r.try_get("association_id")?,
        association_name: r.try_get("association_name")?,
        name: r.try_get("name")?,
        party_member: r.try_get::<i64, _>("party_member")? != 0,
        id_masked: r.try_get("id_masked")?,
        phone_masked: r.try_get("phone_masked")?,
        in_difficulty: r.try_get::<i64, _>("in_difficulty")? != 0,
        helped_on: r.try_get("helped_on")?,
        change_note: r.try_get("change_note")?,
        mentor_name: r.try_get("mentor_name")?,
        households_led: r.try_get("households_led")?,
        joined_on: r.try_get("joined_on")?,
    })
}

const PROJECT_COLUMNS: &str = "p.id, p.association_id, a.name AS association_name, p.kind, \
    p.name, p.founded_on, p.note";

fn project_from_row(r: &AnyRow) -> Result<Project> {
    let id: i64 = r.try_get("id")?;
    Ok(Project {
        id,
        association_id: r.try_get("association_id")?,
        association_name: r.try_get("association_name")?,
        kind: ProjectKind::parse(&r.try_get::<String, _>("kind")?)
            .ok_or_else(|| StoreError::Corrupt(format!("aid project {id}: kind")))?,
        name: r.try_get("name")?,
        founded_on: r.try_get("founded_on")?,
        note: r.try_get("note")?,
    })
}

/// A count of `sql` bound to one path range.
async fn count(conn: &mut AnyConnection, sql: &str, lower: &str, upper: &str) -> Result<i64> {
    Ok(sqlx::query(sql)
        .bind(lower)
        .bind(upper)
        .fetch_one(&mut *conn)
        .await?
        .try_get(0)?)
}

impl Db {
    /// Founds an association under a village or a township. Returns its id.
    pub async fn create_association(
        &self,
        actor: &Actor,
        node: &Node,
        new: &NewAssociation,
        today: &str,
        now: i64,
    ) -> Result<i64> {
        let mut tx = self.write().await?;
        let id = insert_association(tx.conn(), actor, node, new, today, now).await?;
        tx.commit().await?;
        Ok(id)
    }

    /// The association `id` in the actor's scope.
    pub async fn association(&self, actor: &Actor, id: i64) -> Result<Association> {
        let mut conn = self.pool().acquire().await?;
        association_in_scope(&mut conn, actor, id).await
    }

    /// The associations under a node, a page of at most `limit` from `offset`, and how many.
    pub async fn associations_under(
        &self,
        node: &Node,
        offset: i64,
        limit: i64,
    ) -> Result<(Vec<Association>, i64)> {
        let upper = path_upper_bound(&node.path);
        let mut conn = self.pool().acquire().await?;
        let total = count(
            &mut conn,
            "SELECT COUNT(*) FROM aid_associations WHERE org_path >= $1 AND org_path < $2",
            &node.path,
            &upper,
        )
        .await?;
        let list = sqlx::query(&format!(
            "SELECT {ASSOCIATION_COLUMNS} FROM aid_associations a JOIN orgs o ON o.code = a.org_code \
             WHERE a.org_path >= $1 AND a.org_path < $2 ORDER BY a.org_path, a.id LIMIT $3 OFFSET $4"
        ))
        .bind(&node.path)
        .bind(&upper)
        .bind(limit)
        .bind(offset)
        .fetch_all(&mut *conn)
        .await?
        .iter()
        .map(association_from_row)
        .collect::<Result<Vec<_>>>()?;
        Ok((list, total))
    }

    /// Adds a member to an association. Returns its id.
    pub async fn add_aid_member(
        &self,
        actor: &Actor,
        vault: &Vault,
        association_id: i64,
        new: &NewAidMember,
        today: &str,
        now: i64,
    ) -> Result<i64> {
        let mut tx = self.write().await?;
        let a = association_in_scope(tx.conn(), actor, association_id).await?;
        if !keeps(actor, &a.org_path) {
            return Err(denied());
        }
        let id = insert_member(tx.conn(), actor, vault, &a, new, today, now).await?;
        tx.commit().await?;
        Ok(id)
    }

    /// The members of an association, by name.
    pub async fn aid_members_of(&self, association_id: i64) -> Result<Vec<AidMember>> {
        sqlx::query(&format!(
            "SELECT {MEMBER_COLUMNS} FROM aid_members m WHERE m.association_id = $1 ORDER BY m.id"
        ))
        .bind(association_id)
        .fetch_all(self.pool())
        .await?
        .iter()
        .map(member_from_row)
        .collect()
    }

    /// Adds a project (a cooperative founded, a nursery base built) to an association.
    pub async fn add_aid_project(
        &self,
        actor: &Actor,
        association_id: i64,
        new: &NewProject,
        today: &str,
        now: i64,
    ) -> Result<i64> {
        let kind =
            ProjectKind::parse(&new.kind).ok_or_else(|| invalid("aid.error.project_kind"))?;
        let name = text(&new.name, 2, 60, "aid.error.name")?;
        let note = text(&new.note, 0, 200, "aid.error.note")?;
        let founded_on = past_date(&new.founded_on, today, "aid.error.date")?;
        let mut tx = self.write().await?;
        let a = association_in_scope(tx.conn(), actor, association_id).await?;
        if !keeps(actor, &a.org_path) {
            return Err(denied());
        }
        let id: i64 = sqlx::query(
            "INSERT INTO aid_projects (association_id, org_path, kind, name, founded_on, note, created_by, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id",
        )
        .bind(a.id)
        .bind(&a.org_path)
        .bind(kind.as_str())
        .bind(&name)
        .bind(&founded_on)
        .bind(&note)
        .bind(&actor.login)
        .bind(now)
        .fetch_one(tx.conn())
        .await
        .map_err(|e| crate::on_unique(e, baiqian_domain::Msg::new("aid.error.project_exists")))?
        .try_get(0)?;
        refresh_tallies(tx.conn(), &[a.id]).await?;
        audit::record(
            tx.conn(),
            actor,
            now,
            Change::create(
                "aid_project",
                &format!("{} {name}", a.name),
                &a.org_path,
                json!({ "kind": kind.as_str(), "name": name, "founded_on": founded_on, "note": note }),
            ),
        )
        .await?;
        tx.commit().await?;
        Ok(id)
    }

    /// The projects of an association, oldest first.
    pub async fn aid_projects_of(&self, association_id: i64) -> Result<Vec<Project>> {
        sqlx::query(&format!(
            "SELECT {PROJECT_COLUMNS} FROM aid_projects p JOIN aid_associations a ON a.id = p.association_id \
             WHERE p.association_id = $1 ORDER BY p.founded_on, p.id"
        ))
        .bind(association_id)
        .fetch_all(self.pool())
        .await?
        .iter()
        .map(project_from_row)
        .collect()
    }

    /// The projects of one kind under a node, a page and how many in all.
    pub async fn aid_projects_under(
        &self,
        node: &Node,
        kind: ProjectKind,
        offset: i64,
        limit: i64,
    ) -> Result<(Vec<Project>, i64)> {
        let upper = path_upper_bound(&node.path);
        let mut conn = self.pool().acquire().await?;
        let where_ = format!(
            "p.kind = '{}' AND p.org_path >= $1 AND p.org_path < $2",
            kind.as_str()
        );
        let total = count(
            &mut conn,
            &format!("SELECT COUNT(*) FROM aid_projects p WHERE {where_}"),
            &node.path,
            &upper,
        )
        .await?;
        let list = sqlx::query(&format!(
            "SELECT {PROJECT_COLUMNS} FROM aid_projects p JOIN aid_associations a ON a.id = p.association_id \
             WHERE {where_} ORDER BY p.org_path, p.id LIMIT $3 OFFSET $4"
        ))
        .bind(&node.path)
        .bind(&upper)
        .bind(limit)
        .bind(offset)
        .fetch_all(&mut *conn)
        .await?
        .iter()
        .map(project_from_row)
        .collect::<Result<Vec<_>>>()?;
        Ok((list, total))
    }

    /// The members under a node (`helped`: only those helped out of poverty), a page and how
    /// many in all.
    pub async fn aid_members_under(
        &self,
        node: &Node,
        helped: bool,
        offset: i64,
        limit: i64,
    ) -> Result<(Vec<AidMember>, i64)> {
        let upper = path_upper_bound(&node.path);
        let mut conn = self.pool().acquire().await?;
        let where_ = if helped {
            "m.helped_on IS NOT NULL AND m.org_path >= $1 AND m.org_path < $2"
        } else {
            "m.org_path >= $1 AND m.org_path < $2"
        };
        let total = count(
            &mut conn,
            &format!("SELECT COUNT(*) FROM aid_members m WHERE {where_}"),
            &node.path,
            &upper,
        )
        .await?;
        let list = sqlx::query(&format!(
            "SELECT {MEMBER_COLUMNS} FROM aid_members m WHERE {where_} ORDER BY m.org_path, m.id LIMIT $3 OFFSET $4"
        ))
        .bind(&node.path)
        .bind(&upper)
        .bind(limit)
        .bind(offset)
        .fetch_all(&mut *conn)
        .await?
        .iter()
        .map(member_from_row)
        .collect::<Result<Vec<_>>>()?;
        Ok((list, total))
    }

    /// The figures of the associations under a node: the sum of their tallies.
    pub async fn aid_summary(&self, node: &Node) -> Result<AidSummary> {
        let upper = path_upper_bound(&node.path);
        let r = sqlx::query(&format!(
            "SELECT {TALLY_SUMS} FROM aid_associations WHERE org_path >= $1 AND org_path < $2"
        ))
        .bind(&node.path)
        .bind(&upper)
        .fetch_one(self.pool())
        .await?;
        summary_from_row(&r, 0)
    }

    /// The figures of each of `children` of `parent`, in their order: one grouped pass per
    /// length of the children's paths (children of one level share it), not one per child.
    pub async fn aid_summaries(&self, parent: &Node, children: &[Node]) -> Result<Vec<AidSummary>> {
        let upper = path_upper_bound(&parent.path);
        let mut lengths: Vec<usize> = children.iter().map(|c| c.path.len()).collect();
        lengths.sort_unstable();
        lengths.dedup();
        let mut found = std::collections::HashMap::new();
        for len in lengths {
            let rows = sqlx::query(&format!(
                "SELECT substr(org_path, 1, {len}) AS child, {TALLY_SUMS} FROM aid_associations \
                 WHERE org_path >= $1 AND org_path < $2 AND length(org_path) >= {len} \
                 GROUP BY substr(org_path, 1, {len})"
            ))
            .bind(&parent.path)
            .bind(&upper)
            .fetch_all(self.pool())
            .await?;
            for r in rows {
                found.insert(r.try_get::<String, _>(0)?, summary_from_row(&r, 1)?);
            }
        }
        Ok(children
            .iter()
            .map(|c| found.remove(&c.path).unwrap_or_default())
            .collect())
    }

    /// Recomputes every association's tallies (after rows were written around the
    /// application, as the benchmark's generator does).
    pub async fn refresh_all_aid_tallies(&self) -> Result<()> {
        let mut tx = self.write().await?;
        sqlx::query(&format!("UPDATE aid_associations SET {TALLY_SET}"))
            .execute(tx.conn())
            .await?;
        tx.commit().await?;
        Ok(())
    }
}

/// The count of associations and the sums of their tallies, in `summary_from_row`'s order.
const TALLY_SUMS: &str = "COUNT(*), \
    CAST(COALESCE(SUM(t_members), 0) AS BIGINT), CAST(COALESCE(SUM(t_helped), 0) AS BIGINT), \
    CAST(COALESCE(SUM(t_households_led), 0) AS BIGINT), CAST(COALESCE(SUM(t_loans), 0) AS BIGINT), \
    CAST(COALESCE(SUM(t_lent_fen), 0) AS BIGINT), CAST(COALESCE(SUM(t_outstanding_fen), 0) AS BIGINT), \
    CAST(COALESCE(SUM(t_overdue), 0) AS BIGINT), CAST(COALESCE(SUM(t_cooperatives), 0) AS BIGINT), \
    CAST(COALESCE(SUM(t_leading_firms), 0) AS BIGINT), CAST(COALESCE(SUM(t_startup_bases), 0) AS BIGINT), \
    CAST(COALESCE(SUM(t_grants_paid), 0) AS BIGINT), CAST(COALESCE(SUM(t_grants_paid_fen), 0) AS BIGINT)";

fn summary_from_row(r: &AnyRow, at: usize) -> Result<AidSummary> {
    Ok(AidSummary {
        associations: r.try_get(at)?,
        members: r.try_get(at + 1)?,
        helped: r.try_get(at + 2)?,
        households_led: r.try_get(at + 3)?,
        loans: r.try_get(at + 4)?,
        lent_fen: r.try_get(at + 5)?,
        outstanding_fen: r.try_get(at + 6)?,
        overdue: r.try_get(at + 7)?,
        cooperatives: r.try_get(at + 8)?,
        leading_firms: r.try_get(at + 9)?,
        startup_bases: r.try_get(at + 10)?,
        grants_paid: r.try_get(at + 11)?,
        grants_paid_fen: r.try_get(at + 12)?,
    })
}

/// Each tally as its association's rows give it.
const TALLY_SET: &str = "\
    t_members = (SELECT COUNT(*) FROM aid_members m WHERE m.association_id = aid_associations.id), \
    t_helped = (SELECT COUNT(*) FROM aid_members m WHERE m.association_id = aid_associations.id AND m.helped_on IS NOT NULL), \
    t_households_led = COALESCE((SELECT SUM(m.households_led) FROM aid_members m WHERE m.association_id = aid_associations.id), 0), \
    t_loans = (SELECT COUNT(*) FROM aid_loans l WHERE l.association_id = aid_associations.id AND l.stage IN ('disbursed', 'repaid')), \
    t_lent_fen = COALESCE((SELECT SUM(l.principal_fen) FROM aid_loans l WHERE l.association_id = aid_associations.id AND l.stage IN ('disbursed', 'repaid')), 0), \
    t_outstanding_fen = COALESCE((SELECT SUM(l.principal_fen - l.principal_paid_fen) FROM aid_loans l WHERE l.association_id = aid_associations.id AND l.stage = 'disbursed'), 0), \
    t_overdue = (SELECT COUNT(*) FROM aid_loans l WHERE l.association_id = aid_associations.id AND l.stage = 'disbursed' AND l.overdue_since IS NOT NULL), \
    t_cooperatives = (SELECT COUNT(*) FROM aid_projects p WHERE p.association_id = aid_associations.id AND p.kind = 'cooperative'), \
    t_leading_firms = (SELECT COUNT(*) FROM aid_projects p WHERE p.association_id = aid_associations.id AND p.kind = 'leading_firm'), \
    t_startup_bases = (SELECT COUNT(*) FROM aid_projects p WHERE p.association_id = aid_associations.id AND p.kind = 'startup_base'), \
    t_grants_paid = (SELECT COUNT(*) FROM aid_grants g WHERE g.association_id = aid_associations.id AND g.stage = 'paid'), \
    t_grants_paid_fen = COALESCE((SELECT SUM(g.amount_fen) FROM aid_grants g WHERE g.association_id = aid_associations.id AND g.stage = 'paid'), 0)";

/// The name of member `id` of association `a`; another association's member (or none) is the
/// form's error, as a grant's beneficiary or a loan's borrower.
pub(super) async fn member_name(
    conn: &mut AnyConnection,
    a: &Association,
    id: i64,
) -> Result<String> {
    sqlx::query("SELECT name FROM aid_members WHERE id = $1 AND association_id = $2")
        .bind(id)
        .bind(a.id)
        .fetch_optional(&mut *conn)
        .await?
        .map(|r| r.try_get(0))
        .transpose()?
        .ok_or_else(|| invalid("aid.error.borrower"))
}

/// Recomputes the tallies of the associations `ids`, in the transaction that changed them.
pub(crate) async fn refresh_tallies(conn: &mut AnyConnection, ids: &[i64]) -> Result<()> {
    let mut ids = ids.to_vec();
    ids.sort_unstable();
    ids.dedup();
    for chunk in ids.chunks(crate::bulk::IN_LIST) {
        let sql = format!(
            "UPDATE aid_associations SET {TALLY_SET} WHERE id IN ({})",
            crate::bulk::list(1, chunk.len())
        );
        let mut q = sqlx::query(&sql);
        for id in chunk {
            q = q.bind(*id);
        }
        q.execute(&mut *conn).await?;
    }
    Ok(())
}

/// Writes an association under `node` (validated here) and its audit row.
pub(super) async fn insert_association(
    conn: &mut AnyConnection,
    actor: &Actor,
    node: &Node,
    new: &NewAssociation,
    today: &str,
    now: i64,
) -> Result<i64> {
    if !matches!(node.level, Level::Village | Level::Township) {
        return Err(invalid("aid.error.not_village"));
    }
    if !keeps(actor, &node.path) {
        return Err(denied());
    }
    let name = text(&new.name, 2, 60, "aid.error.name")?;
    let trade = text(&new.trade, 2, 30, "aid.error.trade")?;
    let founded_on = past_date(&new.founded_on, today, "aid.error.date")?;
    let id: i64 = sqlx::query(
        "INSERT INTO aid_associations (org_code, org_path, name, trade, founded_on, created_by, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id",
    )
    .bind(node.code.as_str())
    .bind(&node.path)
    .bind(&name)
    .bind(&trade)
    .bind(&founded_on)
    .bind(&actor.login)
    .bind(now)
    .fetch_one(&mut *conn)
    .await
    .map_err(|e| crate::on_unique(e, baiqian_domain::Msg::new("aid.error.association_exists")))?
    .try_get(0)?;
    audit::record(
        conn,
        actor,
        now,
        Change::create(
            "aid_association",
            &format!("{} {name}", node.code.as_str()),
            &node.path,
            json!({ "name": name, "trade": trade, "founded_on": founded_on }),
        ),
    )
    .await?;
    Ok(id)
}

pub(crate) fn follow_tree<'c>(
    conn: &'c mut AnyConnection,
    _actor: &'c Actor,
    event: &'c TreeEvent<'c>,
    _now: i64,
) -> std::pin::Pin<Box<dyn std::future::Future<Output = Result<()>> + Send + 'c>> {
    Box::pin(async move {
        if let TreeEvent::Moved { old_path, new_path } = *event {
            for table in [
                "aid_associations",
                "aid_members",
                "aid_projects",
                "aid_grants",
                "aid_fund_entries",
                "aid_programmes",
                "aid_loans",
            ] {
                crate::kernel::move_paths(&mut *conn, table, "org_path", old_path, new_path)
                    .await?;
            }
        }
        Ok(())
    })
}
