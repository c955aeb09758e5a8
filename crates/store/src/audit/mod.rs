//! The audit log (审计日志): one row per change, written in the same transaction as the change,
//! each a link of a hash chain (`chain`). Rows are never updated or deleted; triggers in both
//! schemas refuse it (and TRUNCATE on PostgreSQL), and the chain shows it if someone goes
//! around them.

pub mod chain;

use baiqian_domain::scope::Scope;
use serde::Serialize;
use sqlx::{AnyConnection, Row};

use crate::{Actor, Db, Result, like_escape};

/// What changed: the entity, its key, where in the tree it sits, and its state before and after.
#[derive(Debug, Clone)]
pub struct Change {
    pub action: &'static str,
    pub entity: &'static str,
    pub key: String,
    pub org_path: String,
    pub before: Option<serde_json::Value>,
    pub after: Option<serde_json::Value>,
    pub reason: Option<String>,
}

impl Change {
    pub fn create(
        entity: &'static str,
        key: &str,
        org_path: &str,
        after: serde_json::Value,
    ) -> Self {
        Self {
            action: "create",
            entity,
            key: key.into(),
            org_path: org_path.into(),
            before: None,
            after: Some(after),
            reason: None,
        }
    }

    pub fn update(
        entity: &'static str,
        key: &str,
        org_path: &str,
        before: serde_json::Value,
        after: serde_json::Value,
    ) -> Self {
        Self {
            action: "update",
            entity,
            key: key.into(),
            org_path: org_path.into(),
            before: Some(before),
            after: Some(after),
            reason: None,
        }
    }
}

pub(crate) async fn record(
    conn: &mut AnyConnection,
    actor: &Actor,
    now: i64,
    c: Change,
) -> Result<()> {
    let (before, after) = (
        c.before.map(|v| v.to_string()),
        c.after.map(|v| v.to_string()),
    );
    let (last, prev) = chain::head(conn).await?;
    let seq = last + 1;
    let hash = chain::row_hash(
        seq,
        &prev,
        &chain::Fields {
            at: now,
            actor_id: actor.user_id,
            actor_login: &actor.login,
            actor_role: actor.role.as_str(),
            action: c.action,
            entity: c.entity,
            entity_key: &c.key,
            org_path: &c.org_path,
            before_json: before.as_deref(),
            after_json: after.as_deref(),
            reason: c.reason.as_deref(),
        },
    );
    sqlx::query(
        "INSERT INTO audit_log (at, actor_id, actor_login, actor_role, action, entity, entity_key, \
         org_path, before_json, after_json, reason, seq, prev_hash, row_hash) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)",
    )
    .bind(now)
    .bind(actor.user_id)
    .bind(&actor.login)
    .bind(actor.role.as_str())
    .bind(c.action)
    .bind(c.entity)
    .bind(&c.key)
    .bind(&c.org_path)
    .bind(before)
    .bind(after)
    .bind(c.reason)
    .bind(seq)
    .bind(&prev)
    .bind(&hash)
    .execute(&mut *conn)
    .await?;
    chain::set_head(conn, seq, &hash).await
}

#[derive(Debug, Clone, Serialize)]
pub struct AuditEntry {
    pub id: i64,
    pub at: i64,
    pub actor_login: String,
    pub actor_role: String,
    pub action: String,
    pub entity: String,
    pub entity_key: String,
    pub before_json: Option<String>,
    pub after_json: Option<String>,
    pub reason: Option<String>,
}

/// Filters for browsing the log; empty fields do not filter.
#[derive(Debug, Clone, Default)]
pub struct AuditFilter {
    pub actor: String,
    pub action: String,
    pub entity: String,
    pub key: String,
    pub from_ms: Option<i64>,
    pub to_ms: Option<i64>,
}

impl Db {
    /// Entries about records in `scope`, newest first, one page of `limit` after `offset`.
    pub async fn audit_entries(
        &self,
        scope: &Scope,
        f: &AuditFilter,
        limit: i64,
        offset: i64,
    ) -> Result<Vec<AuditEntry>> {
        let rows = sqlx::query(
            "SELECT id, at, actor_login, actor_role, action, entity, entity_key, before_json, after_json, reason \
             FROM audit_log WHERE org_path >= $1 AND org_path < $2 \
             AND ($3 = '' OR actor_login = $3) AND ($4 = '' OR action = $4) AND ($5 = '' OR entity = $5) \
             AND ($6 = '' OR entity_key LIKE $6 ESCAPE '\\') AND at >= $7 AND at < $8 \
             ORDER BY id DESC LIMIT $9 OFFSET $10",
        )
        .bind(scope.lower())
        .bind(scope.upper())
        .bind(f.actor.trim())
        .bind(f.action.trim())
        .bind(f.entity.trim())
        .bind(if f.key.trim().is_empty() { String::new() } else { format!("{}%", like_escape(f.key.trim())) })
        .bind(f.from_ms.unwrap_or(0))
        .bind(f.to_ms.unwrap_or(i64::MAX))
        .bind(limit)
        .bind(offset)
        .fetch_all(self.pool())
        .await?;
        rows.iter()
            .map(|r| {
                Ok(AuditEntry {
                    id: r.try_get("id")?,
                    at: r.try_get("at")?,
                    actor_login: r.try_get("actor_login")?,
                    actor_role: r.try_get("actor_role")?,
                    action: r.try_get("action")?,
                    entity: r.try_get("entity")?,
                    entity_key: r.try_get("entity_key")?,
                    before_json: r.try_get("before_json")?,
                    after_json: r.try_get("after_json")?,
                    reason: r.try_get("reason")?,
                })
            })
            .collect()
    }

    /// When the last audited change was made, if any: where a calendar of its own (the demo's)
    /// goes on from, so that time never runs backwards in the log.
    pub async fn latest_audit_at(&self) -> Result<Option<i64>> {
        Ok(
            sqlx::query("SELECT at FROM audit_log ORDER BY id DESC LIMIT 1")
                .fetch_optional(self.pool())
                .await?
                .map(|r| r.try_get(0))
                .transpose()?,
        )
    }

    /// How many audit rows there are in all (tests compare it before and after a request).
    pub async fn audit_count(&self) -> Result<i64> {
        Ok(sqlx::query("SELECT COUNT(*) FROM audit_log")
            .fetch_one(self.pool())
            .await?
            .try_get(0)?)
    }
}
