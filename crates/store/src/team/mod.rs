//! Volunteer teams (党员义工队): members of an organization who serve together, such as
//! 龙山村's 党员爱心车队 of 15 members with cars.

use baiqian_domain::Msg;
use baiqian_domain::org::OrgCode;
use baiqian_domain::scope::Scope;
use serde::Serialize;
use sqlx::Row;

use crate::audit::{self, Change};
use crate::kernel::TreeEvent;
use crate::{Actor, Db, Result, StoreError};

#[derive(Debug, Clone, Serialize)]
pub struct Team {
    pub id: i64,
    pub org_code: String,
    pub name: String,
    pub purpose: String,
    pub members: Vec<TeamMember>,
}

#[derive(Debug, Clone, Serialize)]
pub struct TeamMember {
    pub member_id: i64,
    pub name: String,
    pub home_org_name: String,
    pub note: String,
}

fn text(s: &str, max: usize) -> Result<String> {
    let t = s.trim();
    if t.is_empty() {
        return Err(StoreError::Invalid(Msg::new("standard.error.required")));
    }
    if t.chars().count() > max || t.chars().any(char::is_control) {
        return Err(StoreError::Invalid(
            Msg::new("standard.error.too_long").arg("max", max),
        ));
    }
    Ok(t.to_string())
}

impl Db {
    /// The teams of an organization in scope, each with its members.
    pub async fn teams_of(&self, scope: &Scope, org: &OrgCode) -> Result<Vec<Team>> {
        let node = self.org(scope, org).await?;
        let rows = sqlx::query(
            "SELECT id, org_code, name, purpose FROM volunteer_teams WHERE org_code = $1 ORDER BY id",
        )
        .bind(node.code.as_str())
        .fetch_all(self.pool())
        .await?;
        let mut teams = Vec::with_capacity(rows.len());
        for r in rows {
            let id: i64 = r.try_get("id")?;
            let members = sqlx::query(
                "SELECT tm.member_id, m.name, o.name AS home_org_name, tm.note \
                 FROM volunteer_team_members tm JOIN members m ON m.id = tm.member_id \
                 JOIN orgs o ON o.code = m.home_org WHERE tm.team_id = $1 ORDER BY tm.joined_at, m.id",
            )
            .bind(id)
            .fetch_all(self.pool())
            .await?
            .iter()
            .map(|m| {
                Ok(TeamMember {
                    member_id: m.try_get("member_id")?,
                    name: m.try_get("name")?,
                    home_org_name: m.try_get("home_org_name")?,
                    note: m.try_get("note")?,
                })
            })
            .collect::<Result<Vec<_>>>()?;
            teams.push(Team {
                id,
                org_code: r.try_get("org_code")?,
                name: r.try_get("name")?,
                purpose: r.try_get("purpose")?,
                members,
            });
        }
        Ok(teams)
    }

    /// Forms a team at an organization in scope (those who keep its roster).
    pub async fn create_team(
        &self,
        actor: &Actor,
        org: &OrgCode,
        name: &str,
        purpose: &str,
        now: i64,
    ) -> Result<i64> {
        if !actor.role.may_manage_members() {
            return Err(StoreError::Denied(Msg::new("error.denied")));
        }
        let name = text(name, 40)?;
        let purpose = text(purpose, 200)?;
        let node = self.org(&actor.scope, org).await?;
        let mut tx = self.write().await?;
        let id: i64 = sqlx::query(
            "INSERT INTO volunteer_teams (org_code, org_path, name, purpose, created_at) \
             VALUES ($1, $2, $3, $4, $5) RETURNING id",
        )
        .bind(node.code.as_str())
        .bind(&node.path)
        .bind(&name)
        .bind(&purpose)
        .bind(now)
        .fetch_one(tx.conn())
        .await
        .map_err(|e| crate::on_unique(e, Msg::new("team.error.exists").arg("name", &name)))?
        .try_get(0)?;
        audit::record(
            tx.conn(),
            actor,
            now,
            Change::create(
                "volunteer_team",
                &format!("{} {name}", node.code.as_str()),
                &node.path,
                serde_json::json!({"name": name, "purpose": purpose}),
            ),
        )
        .await?;
        tx.commit().await?;
        Ok(id)
    }

    /// Adds members to a team; each must be in the caller's scope. Already there: unchanged.
    pub async fn add_team_members(
        &self,
        actor: &Actor,
        team_id: i64,
        members: &[(i64, String)],
        now: i64,
    ) -> Result<usize> {
        if !actor.role.may_manage_members() {
            return Err(StoreError::Denied(Msg::new("error.denied")));
        }
        let mut tx = self.write().await?;
        let team = sqlx::query(
            "SELECT org_code, org_path, name FROM volunteer_teams WHERE id = $1 \
             AND org_path >= $2 AND org_path < $3",
        )
        .bind(team_id)
        .bind(actor.scope.lower())
        .bind(actor.scope.upper())
        .fetch_optional(tx.conn())
        .await?
        .ok_or(StoreError::NotFound)?;
        let (code, path, name): (String, String, String) =
            (team.try_get(0)?, team.try_get(1)?, team.try_get(2)?);
        let mut added = Vec::new();
        for (member_id, note) in members {
            let note = note.trim().chars().take(60).collect::<String>();
            let in_scope = sqlx::query(
                "SELECT m.id FROM members m JOIN orgs o ON o.code = m.home_org \
                 WHERE m.id = $1 AND o.path >= $2 AND o.path < $3",
            )
            .bind(member_id)
            .bind(actor.scope.lower())
            .bind(actor.scope.upper())
            .fetch_optional(tx.conn())
            .await?;
            if in_scope.is_none() {
                return Err(StoreError::Invalid(
                    Msg::new("team.error.member").arg("id", member_id),
                ));
            }
            let n = sqlx::query(
                "INSERT INTO volunteer_team_members (team_id, member_id, note, joined_at) \
                 VALUES ($1, $2, $3, $4) ON CONFLICT (team_id, member_id) DO NOTHING",
            )
            .bind(team_id)
            .bind(member_id)
            .bind(&note)
            .bind(now)
            .execute(tx.conn())
            .await?
            .rows_affected();
            if n > 0 {
                added.push(*member_id);
            }
        }
        if !added.is_empty() {
            audit::record(
                tx.conn(),
                actor,
                now,
                Change::create(
                    "volunteer_team_member",
                    &format!("{code} {name}"),
                    &path,
                    serde_json::json!({"members": added}),
                ),
            )
            .await?;
        }
        tx.commit().await?;
        Ok(added.len())
    }
}

impl Db {
    /// The organization code of a team in scope.
    pub async fn team_org(&self, scope: &Scope, team_id: i64) -> Result<String> {
        Ok(sqlx::query(
            "SELECT org_code FROM volunteer_teams WHERE id = $1 AND org_path >= $2 AND org_path < $3",
        )
        .bind(team_id)
        .bind(scope.lower())
        .bind(scope.upper())
        .fetch_optional(self.pool())
        .await?
        .ok_or(StoreError::NotFound)?
        .try_get(0)?)
    }
}

/// Follows the tree (`kernel::TreeEvent`) in the tree writer's transaction.
pub(crate) fn follow_tree<'c>(
    conn: &'c mut sqlx::AnyConnection,
    _actor: &'c Actor,
    event: &'c TreeEvent<'c>,
    _now: i64,
) -> std::pin::Pin<Box<dyn std::future::Future<Output = Result<()>> + Send + 'c>> {
    Box::pin(async move {
        match *event {
            TreeEvent::Moved { old_path, new_path } => {
                crate::kernel::move_paths(conn, "volunteer_teams", "org_path", old_path, new_path)
                    .await
            }
            _ => Ok(()),
        }
    })
}
