//! Browsing the audit log within scope (auditors and admins). There is no route that changes it.

pub mod api;
pub mod words;

use askama::Template;
use axum::extract::{OriginalUri, Query, State};
use axum::response::Response;
use baiqian_store::audit::{AuditEntry, AuditFilter};
use serde::Deserialize;

use crate::auth::Auth;
use crate::error::{AppError, html};
use crate::frame::Frame;
use crate::i18n::Tr;
use crate::routes::Routes;
use crate::state::AppState;
use baiqian_domain::capability::Capability;

pub fn routes() -> Routes {
    Routes::new()
        .get("/audit", Capability::ReadAudit, list)
        .get("/api/v1/audit", Capability::ReadAudit, api::audit)
        .get("/audit.xlsx", Capability::ReadAudit, export)
}

pub const PAGE: i64 = 50;

#[derive(Deserialize, Default, Clone)]
pub struct AuditQuery {
    #[serde(default)]
    pub actor: String,
    #[serde(default)]
    pub action: String,
    #[serde(default)]
    pub entity: String,
    #[serde(default)]
    pub key: String,
    /// `YYYY-MM-DD`, inclusive, China time.
    #[serde(default)]
    pub from: String,
    #[serde(default)]
    pub to: String,
    pub page: Option<i64>,
}

impl AuditQuery {
    pub fn filter(&self) -> AuditFilter {
        AuditFilter {
            actor: self.actor.chars().take(40).collect(),
            action: self.action.chars().take(40).collect(),
            entity: self.entity.chars().take(40).collect(),
            key: self.key.chars().take(40).collect(),
            from_ms: day_start_ms(&self.from),
            to_ms: day_start_ms(&self.to).map(|t| t + 86_400_000),
        }
    }
}

use baiqian_domain::time::day_start_ms;

#[derive(Template)]
#[template(path = "audit/list.html")]
struct ListPage {
    tr: Tr,
    f: Frame,
    q: AuditQuery,
    entries: Vec<AuditEntry>,
    page: i64,
    more: bool,
    query_string: String,
}

impl ListPage {
    fn action(&self, e: &AuditEntry) -> String {
        words::action(self.tr, &e.action)
    }

    fn entity(&self, e: &AuditEntry) -> String {
        words::entity(self.tr, &e.entity)
    }

    fn changes(&self, e: &AuditEntry) -> Vec<words::FieldChange> {
        words::changes(self.tr, e.before_json.as_deref(), e.after_json.as_deref())
    }

    /// The filter's choices: every code with its words, the chosen one marked.
    fn choices(
        &self,
        codes: &[&'static str],
        chosen: &str,
        entity: bool,
    ) -> Vec<(String, String, bool)> {
        codes
            .iter()
            .map(|c| {
                let w = if entity {
                    words::entity(self.tr, c)
                } else {
                    words::action(self.tr, c)
                };
                (c.to_string(), w, *c == chosen.trim())
            })
            .collect()
    }

    fn action_choices(&self) -> Vec<(String, String, bool)> {
        self.choices(words::ACTIONS, &self.q.action, false)
    }

    fn entity_choices(&self) -> Vec<(String, String, bool)> {
        self.choices(words::ENTITIES, &self.q.entity, true)
    }
}

async fn list(
    State(state): State<AppState>,
    Auth(me): Auth,
    tr: Tr,
    uri: OriginalUri,
    Query(q): Query<AuditQuery>,
) -> Result<Response, AppError> {
    if !me.role().may_read_audit() {
        return Err(AppError::NotFound);
    }
    let page = q.page.unwrap_or(1).clamp(1, 1_000_000);
    let mut entries = state
        .db
        .audit_entries(me.scope(), &q.filter(), PAGE + 1, (page - 1) * PAGE)
        .await?;
    let more = entries.len() as i64 > PAGE;
    entries.truncate(PAGE as usize);
    let query_string = form_urlencoded::Serializer::new(String::new())
        .append_pair("actor", &q.actor)
        .append_pair("action", &q.action)
        .append_pair("entity", &q.entity)
        .append_pair("key", &q.key)
        .append_pair("from", &q.from)
        .append_pair("to", &q.to)
        .finish();
    let here = uri
        .0
        .path_and_query()
        .map(|p| p.as_str().to_string())
        .unwrap_or_default();
    let page = ListPage {
        tr,
        f: Frame::new(&state, &me, tr, &here, "audit").await?,
        q,
        entries,
        page,
        more,
        query_string,
    };
    html(&page)
}

/// The audit log as the page filters it, as `.xlsx` (up to 100,000 entries).
async fn export(
    State(state): State<AppState>,
    Auth(me): Auth,
    tr: Tr,
    Query(q): Query<AuditQuery>,
) -> Result<Response, AppError> {
    use crate::excel::Cell;
    let entries = state
        .db
        .audit_entries(me.scope(), &q.filter(), 100_000, 0)
        .await?;
    let text = |s: &str| Cell::Text(s.to_string());
    let rows: Vec<Vec<Cell>> = entries
        .iter()
        .map(|e| {
            vec![
                text(&tr.datetime(e.at)),
                text(&e.actor_login),
                text(&tr.role(&e.actor_role)),
                text(&words::action(tr, &e.action)),
                text(&words::entity(tr, &e.entity)),
                text(&e.entity_key),
                text(e.reason.as_deref().unwrap_or("")),
                text(&words::changes_line(&words::changes(
                    tr,
                    e.before_json.as_deref(),
                    e.after_json.as_deref(),
                ))),
            ]
        })
        .collect();
    let columns = [
        ("at", "时间"),
        ("actor", "操作人"),
        ("role", "角色"),
        ("action", "操作"),
        ("entity", "对象"),
        ("key", "标识"),
        ("reason", "原因"),
        ("change", "变更(字段: 变更前 → 变更后)"),
    ];
    let title = crate::excel::export_title(
        tr,
        "export.audit",
        &me.user.org_name,
        &me,
        state.clock.now_ms(),
    );
    let bytes = crate::excel::write_list("审计日志", &title, &columns, &rows)?;
    crate::excel::xlsx_response(bytes, "audit.xlsx")
}
