//! Cascaded plans (县县有规划、乡乡有方案、村村有计划): a node's plan of a year with its items,
//! written by the node's own administration, sent up, and approved or sent back with a reason
//! by the level above (`domain::plan::{plan_writer, plan_approver}`); every step kept in
//! `plan_steps` and the audit log, in the same transaction. A refusal writes nothing.

use baiqian_domain::Msg;
use baiqian_domain::ledger::ProblemStatus;

use super::serving::ItemProblem;
use baiqian_domain::org::Level;
use baiqian_domain::plan::{PlanStatus, TargetMeasure, plan_approver, plan_writer};
use serde::Serialize;
use sqlx::{AnyConnection, Row};

use crate::audit::{self, Change};
use crate::kernel::Node;
use crate::{Actor, Db, Result, StoreError};

#[derive(Debug, Clone, Serialize)]
pub struct Plan {
    pub id: i64,
    pub org_code: String,
    pub org_name: String,
    pub org_path: String,
    pub level: Level,
    pub year: i64,
    pub title: String,
    pub status: PlanStatus,
    pub created_by: String,
    pub items: Vec<PlanItem>,
    pub steps: Vec<PlanStep>,
}

#[derive(Debug, Clone, Serialize)]
pub struct PlanItem {
    pub id: i64,
    pub content: String,
    pub measures: String,
    pub owner: String,
    pub deadline: String,
    /// The target the item serves, if any.
    pub measure: Option<TargetMeasure>,
    pub done_at: Option<i64>,
    pub done_by: Option<String>,
    /// The village's problems the item serves (a village plan's only).
    pub problems: Vec<ItemProblem>,
}

#[derive(Debug, Clone, Serialize)]
pub struct PlanStep {
    pub at: i64,
    pub actor_login: String,
    pub actor_role: String,
    pub action: String,
    pub from_status: String,
    pub to_status: String,
    pub reason: Option<String>,
}

/// A child's plan at a glance, for the level above.
#[derive(Debug, Clone, Serialize)]
pub struct PlanSummary {
    pub org_code: String,
    pub org_name: String,
    pub plan_id: Option<i64>,
    pub status: Option<PlanStatus>,
    pub items: i64,
    pub done: i64,
}

/// A plan that waits on someone: sent up (for the level above) or sent back (for its writer).
#[derive(Debug, Clone, Serialize)]
pub struct WaitingPlan {
    pub id: i64,
    pub org_code: String,
    pub org_name: String,
    pub org_path: String,
    pub level: Level,
    pub year: i64,
    pub title: String,
    pub status: PlanStatus,
}

#[derive(Debug, Clone)]
pub struct NewPlanItem {
    pub content: String,
    pub measures: String,
    pub owner: String,
    pub deadline: String,
    pub measure: Option<TargetMeasure>,
    /// Problems of the plan's village the item serves; none on a county's or township's plan.
    pub problems: Vec<i64>,
}

/// The level above's decision on a plan sent up.
#[derive(Debug, Clone)]
pub enum PlanDecision {
    Approve,
    SendBack { reason: String },
}

pub(super) fn denied() -> StoreError {
    StoreError::Denied(Msg::new("error.denied"))
}

pub(super) fn conflict(key: &'static str) -> StoreError {
    StoreError::Conflict(Msg::new(key))
}

/// Trimmed text of `min`…`max` characters without control characters (a newline allowed).
pub(super) fn text(s: &str, min: usize, max: usize, key: &'static str) -> Result<String> {
    let t = s.trim();
    let n = t.chars().count();
    if n < min || n > max || t.chars().any(|c| c.is_control() && c != '\n' && c != '\r') {
        return Err(StoreError::Invalid(Msg::new(key)));
    }
    Ok(t.to_string())
}

const PLAN_COLUMNS: &str = "p.id, p.org_code, o.name AS org_name, p.org_path, o.level, p.year, \
    p.title, p.status, p.created_by";

async fn load(conn: &mut AnyConnection, lower: &str, upper: &str, id: i64) -> Result<Plan> {
    let r = sqlx::query(&format!(
        "SELECT {PLAN_COLUMNS} FROM plans p JOIN orgs o ON o.code = p.org_code \
         WHERE p.id = $1 AND p.org_path >= $2 AND p.org_path < $3"
    ))
    .bind(id)
    .bind(lower)
    .bind(upper)
    .fetch_optional(&mut *conn)
    .await?
    .ok_or(StoreError::NotFound)?;
    let corrupt = |what: &str| StoreError::Corrupt(format!("plan {id}: {what}"));
    let items = sqlx::query(
        "SELECT id, content, measures, owner, deadline, measure, done_at, done_by \
         FROM plan_items WHERE plan_id = $1 ORDER BY position, id",
    )
    .bind(id)
    .fetch_all(&mut *conn)
    .await?
    .iter()
    .map(|i| {
        Ok(PlanItem {
            id: i.try_get("id")?,
            content: i.try_get("content")?,
            measures: i.try_get("measures")?,
            owner: i.try_get("owner")?,
            deadline: i.try_get("deadline")?,
            measure: match i.try_get::<Option<String>, _>("measure")? {
                Some(m) => Some(TargetMeasure::parse(&m).ok_or_else(|| corrupt("measure"))?),
                None => None,
            },
            done_at: i.try_get("done_at")?,
            done_by: i.try_get("done_by")?,
            problems: Vec::new(),
        })
    })
    .collect::<Result<Vec<PlanItem>>>()?;
    let mut items = items;
    let links = sqlx::query(
        "SELECT l.item_id, p.id, p.description, p.deadline, p.status FROM plan_item_problems l \
         JOIN plan_items i ON i.id = l.item_id JOIN problems p ON p.id = l.problem_id \
         WHERE i.plan_id = $1 ORDER BY p.id",
    )
    .bind(id)
    .fetch_all(&mut *conn)
    .await?;
    for l in links {
        let item_id: i64 = l.try_get("item_id")?;
        let status: String = l.try_get("status")?;
        let problem = ItemProblem {
            id: l.try_get("id")?,
            description: l.try_get("description")?,
            deadline: l.try_get("deadline")?,
            status: ProblemStatus::parse(&status).ok_or_else(|| corrupt("problem status"))?,
        };
        if let Some(item) = items.iter_mut().find(|i| i.id == item_id) {
            item.problems.push(problem);
        }
    }
    let steps = sqlx::query(
        "SELECT at, actor_login, actor_role, action, from_status, to_status, reason \
         FROM plan_steps WHERE plan_id = $1 ORDER BY id",
    )
    .bind(id)
    .fetch_all(&mut *conn)
    .await?
    .iter()
    .map(|s| {
        Ok(PlanStep {
            at: s.try_get("at")?,
            actor_login: s.try_get("actor_login")?,
            actor_role: s.try_get("actor_role")?,
            action: s.try_get("action")?,
            from_status: s.try_get("from_status")?,
            to_status: s.try_get("to_status")?,
            reason: s.try_get("reason")?,
        })
    })
    .collect::<Result<Vec<_>>>()?;
    Ok(Plan {
        id,
        org_code: r.try_get("org_code")?,
        org_name: r.try_get("org_name")?,
        org_path: r.try_get("org_path")?,
        level: Level::parse(&r.try_get::<String, _>("level")?).map_err(|_| corrupt("level"))?,
        year: r.try_get("year")?,
        title: r.try_get("title")?,
        status: PlanStatus::parse(&r.try_get::<String, _>("status")?)
            .ok_or_else(|| corrupt("status"))?,
        created_by: r.try_get("created_by")?,
        items,
        steps,
    })
}

/// Whether `actor` writes the plan of the node at `path` (its own node, of the writing role).
pub(super) fn writes(actor: &Actor, level: Level, path: &str) -> bool {
    plan_writer(level) == Some(actor.role) && actor.scope.is_root_path(path)
}

/// Whether `actor` decides on it: the approving role, the node below the actor's own.
fn approves(actor: &Actor, level: Level, path: &str) -> bool {
    plan_approver(level) == Some(actor.role)
        && actor.scope.contains_path(path)
        && !actor.scope.is_root_path(path)
}

/// Moves a plan from `from` to `to`, records the step and the audit row.
async fn step(
    conn: &mut AnyConnection,
    actor: &Actor,
    plan: &Plan,
    action: &'static str,
    to: PlanStatus,
    reason: Option<&str>,
    now: i64,
) -> Result<()> {
    let moved =
        sqlx::query("UPDATE plans SET status = $1, updated_at = $2 WHERE id = $3 AND status = $4")
            .bind(to.as_str())
            .bind(now)
            .bind(plan.id)
            .bind(plan.status.as_str())
            .execute(&mut *conn)
            .await?
            .rows_affected();
    if moved != 1 {
        // Another step got there first.
        return Err(conflict("plan.error.moved"));
    }
    sqlx::query(
        "INSERT INTO plan_steps (plan_id, at, actor_login, actor_role, action, from_status, \
         to_status, reason) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
    )
    .bind(plan.id)
    .bind(now)
    .bind(&actor.login)
    .bind(actor.role.as_str())
    .bind(action)
    .bind(plan.status.as_str())
    .bind(to.as_str())
    .bind(reason)
    .execute(&mut *conn)
    .await?;
    let mut change = Change::update(
        "plan",
        &format!("{} {}", plan.org_code, plan.year),
        &plan.org_path,
        serde_json::json!({ "status": plan.status.as_str() }),
        serde_json::json!({ "status": to.as_str() }),
    );
    change.action = action;
    change.reason = reason.map(str::to_string);
    audit::record(conn, actor, now, change).await
}

/// A plan holds at most this many items.
pub(super) const MAX_ITEMS: usize = 200;

/// An item's fields checked: content, measures, owner, deadline (`YYYY-MM-DD`), the target.
pub(super) struct CheckedItem {
    content: String,
    measures: String,
    owner: String,
    deadline: String,
    measure: Option<TargetMeasure>,
    problems: Vec<i64>,
}

/// An item serves at most this many problems.
const MAX_ITEM_PROBLEMS: usize = 50;

/// Checks an item's fields; the error names its field (for an import's report).
pub(super) fn check_item(
    item: &NewPlanItem,
) -> std::result::Result<CheckedItem, (&'static str, StoreError)> {
    let content = text(&item.content, 2, 200, "plan.error.content").map_err(|e| ("content", e))?;
    let measures =
        text(&item.measures, 0, 1000, "plan.error.measures").map_err(|e| ("measures", e))?;
    let owner = text(&item.owner, 1, 40, "plan.error.owner").map_err(|e| ("owner", e))?;
    let deadline = baiqian_domain::member::parse_date(&item.deadline).map_err(|_| {
        (
            "deadline",
            StoreError::Invalid(Msg::new("plan.error.deadline")),
        )
    })?;
    let mut problems = item.problems.clone();
    problems.sort_unstable();
    problems.dedup();
    if problems.len() > MAX_ITEM_PROBLEMS {
        return Err((
            "problems",
            StoreError::Invalid(Msg::new("plan.error.too_many_problems")),
        ));
    }
    Ok(CheckedItem {
        content,
        measures,
        owner,
        deadline,
        measure: item.measure,
        problems,
    })
}

/// Adds a checked item at `position`, audited; the plan's time moves.
pub(super) async fn insert_item(
    conn: &mut AnyConnection,
    actor: &Actor,
    plan: &Plan,
    position: usize,
    item: &CheckedItem,
    now: i64,
) -> Result<i64> {
    super::serving::check_item_problems(&mut *conn, plan, &item.problems).await?;
    let id: i64 = sqlx::query(
        "INSERT INTO plan_items (plan_id, position, content, measures, owner, deadline, measure) \
         VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id",
    )
    .bind(plan.id)
    .bind(position as i64)
    .bind(&item.content)
    .bind(&item.measures)
    .bind(&item.owner)
    .bind(&item.deadline)
    .bind(item.measure.map(|m| m.as_str()))
    .fetch_one(&mut *conn)
    .await?
    .try_get(0)?;
    for problem in &item.problems {
        sqlx::query("INSERT INTO plan_item_problems (item_id, problem_id) VALUES ($1, $2)")
            .bind(id)
            .bind(problem)
            .execute(&mut *conn)
            .await?;
    }
    audit::record(
        &mut *conn,
        actor,
        now,
        Change::create(
            "plan_item",
            &format!("{} {} {id}", plan.org_code, plan.year),
            &plan.org_path,
            serde_json::json!({
                "content": item.content, "measures": item.measures, "owner": item.owner,
                "deadline": item.deadline, "measure": item.measure.map(|m| m.as_str()),
                "problem_ids": item.problems,
            }),
        ),
    )
    .await?;
    sqlx::query("UPDATE plans SET updated_at = $1 WHERE id = $2")
        .bind(now)
        .bind(plan.id)
        .execute(&mut *conn)
        .await?;
    Ok(id)
}

impl Db {
    /// The plan of a node in a year, if it has one.
    pub async fn plan_of(&self, node: &Node, year: i64) -> Result<Option<Plan>> {
        let mut conn = self.pool().acquire().await?;
        let id: Option<i64> = sqlx::query("SELECT id FROM plans WHERE org_code = $1 AND year = $2")
            .bind(node.code.as_str())
            .bind(year)
            .fetch_optional(&mut *conn)
            .await?
            .map(|r| r.try_get(0))
            .transpose()?;
        match id {
            Some(id) => {
                let upper = baiqian_domain::org::path_upper_bound(&node.path);
                Ok(Some(load(&mut conn, &node.path, &upper, id).await?))
            }
            None => Ok(None),
        }
    }

    /// A plan by id, if it lies in the actor's scope.
    pub async fn plan(&self, actor: &Actor, id: i64) -> Result<Plan> {
        let mut conn = self.pool().acquire().await?;
        load(&mut conn, actor.scope.lower(), actor.scope.upper(), id).await
    }

    /// The plans of a node's children in a year (a child without one is listed without).
    pub async fn plans_of_children(
        &self,
        children: &[Node],
        year: i64,
    ) -> Result<Vec<PlanSummary>> {
        // One grouped query for all the children, not one per child.
        let mut found: std::collections::HashMap<String, (i64, String, i64, i64)> =
            std::collections::HashMap::new();
        for chunk in children.chunks(500) {
            let codes = (0..chunk.len())
                .map(|k| format!("${}", k + 2))
                .collect::<Vec<_>>()
                .join(", ");
            let sql = format!(
                "SELECT p.org_code, p.id, p.status, COUNT(i.id) AS items, \
                 SUM(CASE WHEN i.done_at IS NOT NULL THEN 1 ELSE 0 END) AS done \
                 FROM plans p LEFT JOIN plan_items i ON i.plan_id = p.id \
                 WHERE p.year = $1 AND p.org_code IN ({codes}) \
                 GROUP BY p.org_code, p.id, p.status"
            );
            let mut q = sqlx::query(&sql).bind(year);
            for c in chunk {
                q = q.bind(c.code.as_str());
            }
            for r in q.fetch_all(self.pool()).await? {
                found.insert(
                    r.try_get("org_code")?,
                    (
                        r.try_get("id")?,
                        r.try_get("status")?,
                        r.try_get("items")?,
                        r.try_get::<Option<i64>, _>("done")?.unwrap_or(0),
                    ),
                );
            }
        }
        Ok(children
            .iter()
            .map(|c| {
                let row = found.remove(c.code.as_str());
                PlanSummary {
                    org_code: c.code.as_str().to_string(),
                    org_name: c.name.clone(),
                    plan_id: row.as_ref().map(|r| r.0),
                    status: row.as_ref().and_then(|r| PlanStatus::parse(&r.1)),
                    items: row.as_ref().map_or(0, |r| r.2),
                    done: row.as_ref().map_or(0, |r| r.3),
                }
            })
            .collect())
    }

    /// The plans in the actor's scope that wait on them: those sent up that their role decides
    /// (below their node), and their own node's sent back. At most `limit`.
    pub async fn plans_waiting(&self, actor: &Actor, limit: i64) -> Result<Vec<WaitingPlan>> {
        let rows = sqlx::query(
            "SELECT p.id, p.org_code, o.name AS org_name, p.org_path, o.level, p.year, p.title, \
             p.status FROM plans p JOIN orgs o ON o.code = p.org_code \
             WHERE p.status IN ('submitted', 'sent_back') AND p.org_path >= $1 AND p.org_path < $2 \
             ORDER BY p.updated_at LIMIT $3",
        )
        .bind(actor.scope.lower())
        .bind(actor.scope.upper())
        .bind(limit)
        .fetch_all(self.pool())
        .await?;
        let mut out = Vec::new();
        for r in rows {
            let corrupt = || StoreError::Corrupt("plan".into());
            let w = WaitingPlan {
                id: r.try_get("id")?,
                org_code: r.try_get("org_code")?,
                org_name: r.try_get("org_name")?,
                org_path: r.try_get("org_path")?,
                level: Level::parse(&r.try_get::<String, _>("level")?).map_err(|_| corrupt())?,
                year: r.try_get("year")?,
                title: r.try_get("title")?,
                status: PlanStatus::parse(&r.try_get::<String, _>("status")?)
                    .ok_or_else(corrupt)?,
            };
            let mine = match w.status {
                PlanStatus::Submitted => approves(actor, w.level, &w.org_path),
                _ => writes(actor, w.level, &w.org_path),
            };
            if mine {
                out.push(w);
            }
        }
        Ok(out)
    }

    /// Starts the plan of the actor's own node for a year.
    pub async fn create_plan(
        &self,
        actor: &Actor,
        node: &Node,
        year: i64,
        title: &str,
        now: i64,
    ) -> Result<i64> {
        if !writes(actor, node.level, &node.path) {
            return Err(denied());
        }
        if !(2000..=2100).contains(&year) {
            return Err(StoreError::Invalid(Msg::new("plan.error.years")));
        }
        let title = text(title, 2, 80, "plan.error.title")?;
        let mut tx = self.write().await?;
        let id: i64 = sqlx::query(
            "INSERT INTO plans (org_code, org_path, year, title, status, created_by, created_at, \
             updated_at) VALUES ($1, $2, $3, $4, 'draft', $5, $6, $6) RETURNING id",
        )
        .bind(node.code.as_str())
        .bind(&node.path)
        .bind(year)
        .bind(&title)
        .bind(&actor.login)
        .bind(now)
        .fetch_one(tx.conn())
        .await
        .map_err(
            |e| match crate::on_unique(e, Msg::new("plan.error.plan_exists")) {
                StoreError::Invalid(m) => StoreError::Conflict(m),
                other => other,
            },
        )?
        .try_get(0)?;
        audit::record(
            tx.conn(),
            actor,
            now,
            Change::create(
                "plan",
                &format!("{} {year}", node.code.as_str()),
                &node.path,
                serde_json::json!({ "year": year, "title": title, "status": "draft" }),
            ),
        )
        .await?;
        tx.commit().await?;
        Ok(id)
    }

    /// Adds an item to a plan with its writer (draft or sent back).
    pub async fn add_plan_item(
        &self,
        actor: &Actor,
        plan_id: i64,
        item: &NewPlanItem,
        now: i64,
    ) -> Result<i64> {
        let plan = self.plan(actor, plan_id).await?;
        if !writes(actor, plan.level, &plan.org_path) {
            return Err(denied());
        }
        if !plan.status.editable() {
            return Err(conflict("plan.error.not_editable"));
        }
        let checked = check_item(item).map_err(|(_, e)| e)?;
        if plan.items.len() >= MAX_ITEMS {
            return Err(StoreError::Invalid(Msg::new("plan.error.too_many")));
        }
        let mut tx = self.write().await?;
        let id = insert_item(tx.conn(), actor, &plan, plan.items.len() + 1, &checked, now).await?;
        tx.commit().await?;
        Ok(id)
    }

    /// Sends a plan up to the level above: by its writer, with at least one item.
    pub async fn submit_plan(&self, actor: &Actor, plan_id: i64, now: i64) -> Result<()> {
        let plan = self.plan(actor, plan_id).await?;
        if !writes(actor, plan.level, &plan.org_path) {
            return Err(denied());
        }
        if !plan.status.editable() {
            return Err(conflict("plan.error.not_editable"));
        }
        if plan.items.is_empty() {
            return Err(StoreError::Invalid(Msg::new("plan.error.no_items")));
        }
        let mut tx = self.write().await?;
        step(
            tx.conn(),
            actor,
            &plan,
            "submit",
            PlanStatus::Submitted,
            None,
            now,
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// The level above approves a plan sent up, or sends it back with a reason.
    pub async fn decide_plan(
        &self,
        actor: &Actor,
        plan_id: i64,
        decision: &PlanDecision,
        now: i64,
    ) -> Result<()> {
        let plan = self.plan(actor, plan_id).await?;
        if !approves(actor, plan.level, &plan.org_path) {
            return Err(denied());
        }
        if plan.status != PlanStatus::Submitted {
            return Err(conflict("plan.error.not_submitted"));
        }
        let mut tx = self.write().await?;
        match decision {
            PlanDecision::Approve => {
                step(
                    tx.conn(),
                    actor,
                    &plan,
                    "approve",
                    PlanStatus::Approved,
                    None,
                    now,
                )
                .await?
            }
            PlanDecision::SendBack { reason } => {
                let reason = text(reason, 2, 500, "plan.error.reason")?;
                step(
                    tx.conn(),
                    actor,
                    &plan,
                    "send_back",
                    PlanStatus::SentBack,
                    Some(&reason),
                    now,
                )
                .await?
            }
        }
        tx.commit().await?;
        Ok(())
    }

    /// The plan and its item `item_id` when `actor` may mark the item done: the plan's writer,
    /// the plan approved, the item not yet done. Checked again in the transaction
    /// (`mark_item_done`).
    pub(crate) async fn item_to_finish(
        &self,
        actor: &Actor,
        plan_id: i64,
        item_id: i64,
    ) -> Result<(Plan, PlanItem)> {
        let plan = self.plan(actor, plan_id).await?;
        if !writes(actor, plan.level, &plan.org_path) {
            return Err(denied());
        }
        if plan.status != PlanStatus::Approved {
            return Err(conflict("plan.error.not_approved"));
        }
        let item = plan
            .items
            .iter()
            .find(|i| i.id == item_id)
            .cloned()
            .ok_or(StoreError::NotFound)?;
        if item.done_at.is_some() {
            return Err(conflict("plan.error.item_done"));
        }
        Ok((plan, item))
    }
}

/// Marks the item done in the caller's transaction, audited; a second finish meanwhile fails.
pub(crate) async fn mark_item_done(
    conn: &mut AnyConnection,
    actor: &Actor,
    plan: &Plan,
    item_id: i64,
    now: i64,
) -> Result<()> {
    let n = sqlx::query(
        "UPDATE plan_items SET done_at = $1, done_by = $2 WHERE id = $3 AND done_at IS NULL",
    )
    .bind(now)
    .bind(&actor.login)
    .bind(item_id)
    .execute(&mut *conn)
    .await?
    .rows_affected();
    if n != 1 {
        return Err(conflict("plan.error.item_done"));
    }
    let mut change = Change::update(
        "plan_item",
        &format!("{} {} {item_id}", plan.org_code, plan.year),
        &plan.org_path,
        serde_json::json!({ "done": false }),
        serde_json::json!({ "done": true }),
    );
    change.action = "finish";
    audit::record(conn, actor, now, change).await
}
