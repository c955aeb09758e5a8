//! Projects (项目化攻坚): a county or township runs one against a weakness many of its villages
//! share — 党群创业互助会 for members and villagers in hardship, 乡贤参事会 where many capable people
//! live away, 五年强村计划 for a weak collective economy — with the villages it covers, each
//! village's result, and the project's own result when it is done. Only the node's own
//! administration runs its projects (`domain::plan::project_runner`); every change audited.

use baiqian_domain::Msg;
use baiqian_domain::member::parse_date;
use baiqian_domain::org::{Level, OrgCode, path_upper_bound};
use baiqian_domain::plan::{ProjectKind, project_runner};
use serde::Serialize;
use serde_json::json;
use sqlx::any::AnyRow;
use sqlx::{AnyConnection, Row};

use super::plans::text;
use crate::audit::{self, Change};
use crate::kernel::Node;
use crate::{Actor, Db, Result, StoreError};

#[derive(Debug, Clone, Serialize)]
pub struct Project {
    pub id: i64,
    pub org_code: String,
    pub org_name: String,
    pub org_path: String,
    pub name: String,
    pub kind: ProjectKind,
    pub weakness: String,
    pub start_on: String,
    pub finished_on: Option<String>,
    pub result: Option<String>,
    /// Villages covered, and how many of them have a result recorded.
    pub villages: i64,
    pub with_result: i64,
}

#[derive(Debug, Clone, Serialize)]
pub struct ProjectVillage {
    pub code: String,
    pub name: String,
    pub result: String,
}

/// A new project as typed.
#[derive(Debug, Clone, Default)]
pub struct NewProject {
    pub name: String,
    pub kind: String,
    pub weakness: String,
    pub start_on: String,
}

fn invalid(key: &'static str) -> StoreError {
    StoreError::Invalid(Msg::new(key))
}

const COLUMNS: &str = "p.id, p.org_code, o.name AS org_name, p.org_path, p.name, p.kind, p.weakness, \
    p.start_on, p.finished_on, p.result, \
    (SELECT COUNT(*) FROM project_villages v WHERE v.project_id = p.id) AS villages, \
    (SELECT COUNT(*) FROM project_villages v WHERE v.project_id = p.id AND v.result <> '') AS with_result";

fn from_row(r: &AnyRow) -> Result<Project> {
    let id: i64 = r.try_get("id")?;
    Ok(Project {
        id,
        org_code: r.try_get("org_code")?,
        org_name: r.try_get("org_name")?,
        org_path: r.try_get("org_path")?,
        name: r.try_get("name")?,
        kind: ProjectKind::parse(&r.try_get::<String, _>("kind")?)
            .ok_or_else(|| StoreError::Corrupt(format!("project {id}: kind")))?,
        weakness: r.try_get("weakness")?,
        start_on: r.try_get("start_on")?,
        finished_on: r.try_get("finished_on")?,
        result: r.try_get("result")?,
        villages: r.try_get("villages")?,
        with_result: r.try_get("with_result")?,
    })
}

async fn in_scope(conn: &mut AnyConnection, actor: &Actor, id: i64) -> Result<Project> {
    let r = sqlx::query(&format!(
        "SELECT {COLUMNS} FROM projects p JOIN orgs o ON o.code = p.org_code \
         WHERE p.id = $1 AND p.org_path >= $2 AND p.org_path < $3"
    ))
    .bind(id)
    .bind(actor.scope.lower())
    .bind(actor.scope.upper())
    .fetch_optional(&mut *conn)
    .await?
    .ok_or(StoreError::NotFound)?;
    from_row(&r)
}

/// Whether the actor runs the projects of the node at `path` and `level`: its own node.
fn runs(actor: &Actor, level: Level, path: &str) -> bool {
    project_runner(level) == Some(actor.role) && actor.scope.is_root_path(path)
}

fn key(p: &Project) -> String {
    format!("{} {}", p.org_code, p.name)
}

impl Db {
    /// The projects run at a node or below it, the newest first.
    pub async fn projects_under(&self, node: &Node) -> Result<Vec<Project>> {
        sqlx::query(&format!(
            "SELECT {COLUMNS} FROM projects p JOIN orgs o ON o.code = p.org_code \
             WHERE p.org_path >= $1 AND p.org_path < $2 ORDER BY p.start_on DESC, p.id DESC LIMIT 500"
        ))
        .bind(&node.path)
        .bind(path_upper_bound(&node.path))
        .fetch_all(self.pool())
        .await?
        .iter()
        .map(from_row)
        .collect()
    }

    /// A project in the actor's scope, and the villages it covers.
    pub async fn project(&self, actor: &Actor, id: i64) -> Result<(Project, Vec<ProjectVillage>)> {
        let mut conn = self.pool().acquire().await?;
        let p = in_scope(&mut conn, actor, id).await?;
        let villages = sqlx::query(
            "SELECT v.village_code, o.name, v.result FROM project_villages v \
             JOIN orgs o ON o.code = v.village_code WHERE v.project_id = $1 ORDER BY v.village_path",
        )
        .bind(id)
        .fetch_all(&mut *conn)
        .await?
        .iter()
        .map(|r| {
            Ok(ProjectVillage {
                code: r.try_get("village_code")?,
                name: r.try_get("name")?,
                result: r.try_get("result")?,
            })
        })
        .collect::<Result<Vec<_>>>()?;
        Ok((p, villages))
    }

    /// Starts a project at the actor's own county or township.
    pub async fn create_project(
        &self,
        actor: &Actor,
        node: &Node,
        new: &NewProject,
        today: &str,
        now: i64,
    ) -> Result<i64> {
        if !runs(actor, node.level, &node.path) {
            return Err(StoreError::Denied(Msg::new("error.denied")));
        }
        let name = text(&new.name, 2, 60, "project.error.name")?;
        let kind = ProjectKind::parse(&new.kind).ok_or_else(|| invalid("project.error.kind"))?;
        let weakness = text(&new.weakness, 2, 500, "project.error.weakness")?;
        let start_on = parse_date(&new.start_on).map_err(|_| invalid("project.error.start"))?;
        if start_on.as_str() > today {
            return Err(invalid("project.error.start"));
        }
        let mut tx = self.write().await?;
        let id: i64 = sqlx::query(
            "INSERT INTO projects (org_code, org_path, name, kind, weakness, start_on, created_by, \
             created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8) RETURNING id",
        )
        .bind(node.code.as_str())
        .bind(&node.path)
        .bind(&name)
        .bind(kind.as_str())
        .bind(&weakness)
        .bind(&start_on)
        .bind(&actor.login)
        .bind(now)
        .fetch_one(tx.conn())
        .await?
        .try_get(0)?;
        audit::record(
            tx.conn(),
            actor,
            now,
            Change::create(
                "project",
                &format!("{} {name}", node.code.as_str()),
                &node.path,
                json!({ "name": name, "kind": kind.as_str(), "weakness": weakness, "start_on": start_on }),
            ),
        )
        .await?;
        tx.commit().await?;
        Ok(id)
    }

    /// Adds a village under the project's node (by code or name), or records its result.
    pub async fn set_project_village(
        &self,
        actor: &Actor,
        id: i64,
        village: &str,
        result: &str,
        now: i64,
    ) -> Result<()> {
        let result = text(result, 0, 500, "project.error.result")?;
        let mut tx = self.write().await?;
        let p = in_scope(tx.conn(), actor, id).await?;
        let level = Level::parse(
            &sqlx::query("SELECT level FROM orgs WHERE code = $1")
                .bind(&p.org_code)
                .fetch_one(tx.conn())
                .await?
                .try_get::<String, _>(0)?,
        )
        .map_err(|_| StoreError::Corrupt("project level".into()))?;
        if !runs(actor, level, &p.org_path) {
            return Err(StoreError::Denied(Msg::new("error.denied")));
        }
        if p.finished_on.is_some() {
            return Err(StoreError::Conflict(Msg::new("project.error.finished")));
        }
        let cell = village.trim();
        let code = OrgCode::parse(cell).ok();
        let found = sqlx::query(
            "SELECT code, name, path FROM orgs WHERE level = 'village' AND retired_at IS NULL \
             AND path >= $1 AND path < $2 AND (code = $3 OR name = $4)",
        )
        .bind(&p.org_path)
        .bind(path_upper_bound(&p.org_path))
        .bind(code.as_ref().map_or("", |c| c.as_str()))
        .bind(cell)
        .fetch_all(tx.conn())
        .await?;
        let [row] = found.as_slice() else {
            return Err(StoreError::Invalid(
                Msg::new("project.error.village").arg("name", cell),
            ));
        };
        let (code, name, path): (String, String, String) = (
            row.try_get("code")?,
            row.try_get("name")?,
            row.try_get("path")?,
        );
        let before: Option<String> = sqlx::query(
            "SELECT result FROM project_villages WHERE project_id = $1 AND village_code = $2",
        )
        .bind(id)
        .bind(&code)
        .fetch_optional(tx.conn())
        .await?
        .map(|r| r.try_get(0))
        .transpose()?;
        let change = match &before {
            Some(b) if *b == result => {
                // Nothing to change, nothing to record.
                return Ok(());
            }
            Some(b) => {
                sqlx::query(
                    "UPDATE project_villages SET result = $1, updated_at = $2 \
                     WHERE project_id = $3 AND village_code = $4",
                )
                .bind(&result)
                .bind(now)
                .bind(id)
                .bind(&code)
                .execute(tx.conn())
                .await?;
                Change::update(
                    "project_village",
                    &format!("{} {name}", key(&p)),
                    &path,
                    json!({ "result": b }),
                    json!({ "result": result }),
                )
            }
            None => {
                sqlx::query(
                    "INSERT INTO project_villages (project_id, village_code, village_path, result, \
                     updated_at) VALUES ($1, $2, $3, $4, $5)",
                )
                .bind(id)
                .bind(&code)
                .bind(&path)
                .bind(&result)
                .bind(now)
                .execute(tx.conn())
                .await?;
                Change::create(
                    "project_village",
                    &format!("{} {name}", key(&p)),
                    &path,
                    json!({ "village": name, "result": result }),
                )
            }
        };
        audit::record(tx.conn(), actor, now, change).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Closes a project with its result.
    pub async fn finish_project(
        &self,
        actor: &Actor,
        id: i64,
        result: &str,
        today: &str,
        now: i64,
    ) -> Result<()> {
        let result = text(result, 2, 1000, "project.error.result")?;
        let mut tx = self.write().await?;
        let p = in_scope(tx.conn(), actor, id).await?;
        let level = Level::parse(
            &sqlx::query("SELECT level FROM orgs WHERE code = $1")
                .bind(&p.org_code)
                .fetch_one(tx.conn())
                .await?
                .try_get::<String, _>(0)?,
        )
        .map_err(|_| StoreError::Corrupt("project level".into()))?;
        if !runs(actor, level, &p.org_path) {
            return Err(StoreError::Denied(Msg::new("error.denied")));
        }
        let n = sqlx::query(
            "UPDATE projects SET finished_on = $1, result = $2, updated_at = $3 \
             WHERE id = $4 AND finished_on IS NULL",
        )
        .bind(today)
        .bind(&result)
        .bind(now)
        .bind(id)
        .execute(tx.conn())
        .await?
        .rows_affected();
        if n != 1 {
            return Err(StoreError::Conflict(Msg::new("project.error.finished")));
        }
        let mut change = Change::update(
            "project",
            &key(&p),
            &p.org_path,
            json!({ "finished_on": null }),
            json!({ "finished_on": today, "result": result }),
        );
        change.action = "finish";
        audit::record(tx.conn(), actor, now, change).await?;
        tx.commit().await?;
        Ok(())
    }
}
