//! The audit log in the JSON API.

use axum::Json;
use axum::extract::{Query, State};
use serde::Serialize;
use utoipa::ToSchema;

use super::AuditQuery;
use crate::auth::Auth;
use crate::error::{AppError, ErrorBody};
use crate::state::AppState;

#[derive(Serialize, ToSchema)]
pub struct AuditItem {
    pub id: i64,
    /// Unix milliseconds.
    pub at: i64,
    pub actor: String,
    pub role: String,
    pub action: String,
    pub entity: String,
    pub key: String,
    pub before: Option<serde_json::Value>,
    pub after: Option<serde_json::Value>,
    pub reason: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct AuditItems {
    pub items: Vec<AuditItem>,
}

/// The audit log within the caller's scope, newest first (auditors and admins).
#[utoipa::path(get, path = "/api/v1/audit", params(("actor" = Option<String>, Query), ("action" = Option<String>, Query), ("entity" = Option<String>, Query), ("key" = Option<String>, Query), ("from" = Option<String>, Query), ("to" = Option<String>, Query), ("page" = Option<i64>, Query)),
    responses((status = 200, body = AuditItems), (status = 404, body = ErrorBody)))]
pub(crate) async fn audit(
    State(state): State<AppState>,
    Auth(me): Auth,
    Query(q): Query<AuditQuery>,
) -> Result<Json<AuditItems>, AppError> {
    if !me.role().may_read_audit() {
        return Err(AppError::NotFound);
    }
    let page = q.page.unwrap_or(1).clamp(1, 1_000_000);
    let entries = state
        .db
        .audit_entries(
            me.scope(),
            &q.filter(),
            crate::audit::PAGE,
            (page - 1) * crate::audit::PAGE,
        )
        .await?;
    let parse = |s: Option<String>| s.and_then(|j| serde_json::from_str(&j).ok());
    Ok(Json(AuditItems {
        items: entries
            .into_iter()
            .map(|e| AuditItem {
                id: e.id,
                at: e.at,
                actor: e.actor_login,
                role: e.actor_role,
                action: e.action,
                entity: e.entity,
                key: e.entity_key,
                before: parse(e.before_json),
                after: parse(e.after_json),
                reason: e.reason,
            })
            .collect(),
    }))
}
