//! The JSON API under `/api/v1/`, for card readers, phones and other systems. Bearer tokens or
//! the session; the same scopes as the pages (outside scope is 404). Described by OpenAPI.

use axum::Json;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use baiqian_domain::capability::Capability;
use baiqian_domain::org::{self, Level, OrgCode, PartyOrgKind};
use baiqian_store::kernel::Node;
use baiqian_store::org::NewOrg;
use serde::{Deserialize, Serialize};
use utoipa::{OpenApi, ToSchema};

use crate::app::AppState;
use crate::audit::AuditQuery;
use crate::auth::Auth;
use crate::error::AppError;
use crate::extract::CodeParam;
use crate::routes::Routes;

pub fn routes() -> Routes {
    Routes::new()
        .get("/api/v1/openapi.json", Capability::Public, openapi)
        .get("/api/v1/me", Capability::SignedIn, me)
        .get("/api/v1/orgs/{code}", Capability::ReadTree, get_org)
        .get(
            "/api/v1/orgs/{code}/children",
            Capability::ReadTree,
            children,
        )
        .post(
            "/api/v1/orgs/{code}/children",
            Capability::ChangeTree,
            create_child,
        )
        .get("/api/v1/orgs/{code}/search", Capability::ReadTree, search)
        .get("/api/v1/audit", Capability::ReadAudit, audit)
}

#[derive(OpenApi)]
#[openapi(
    info(title = "baiqian API", description = "百村示范、千村晋位: the organization tree, scoped to the caller"),
    paths(me, get_org, children, create_child, search, audit, crate::member::api_create, crate::member::api_get, crate::member::api_roster, crate::checkin::device_checkin, crate::checkin::device_batch, crate::checkin::api_qr_checkin, crate::checkin::api_create_event, crate::checkin::api_attendance, crate::checkin::api_qr, crate::rating::api_ratings),
    components(schemas(MeView, MeMember, MeOrg, crate::checkin::CardCheckin, crate::checkin::CheckinResult, crate::checkin::CardBatch, crate::checkin::BatchResult, crate::checkin::NewEventBody, crate::checkin::EventCreated, crate::checkin::AttendanceView, crate::checkin::QrView, crate::checkin::QrCheckin, crate::rating::RatingsSummary, crate::member::MemberView, crate::member::MemberItems, crate::member::Created, crate::member::MemberInputDoc, OrgView, Counts, PartyOrgView, OrgItem, Items, NewChild, AuditItem, AuditItems, ErrorBody, ErrorDetail)),
    modifiers(&BearerAuth)
)]
struct ApiDoc;

struct BearerAuth;

impl utoipa::Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
        openapi.security = Some(vec![utoipa::openapi::security::SecurityRequirement::new(
            "bearer",
            Vec::<String>::new(),
        )]);
    }
}

/// The caller's own member record, as `/api/v1/me` shows it.
#[derive(Serialize, ToSchema)]
pub struct MeMember {
    pub id: i64,
    pub name: String,
    /// The active card's number; null between cards.
    pub card_no: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct MeOrg {
    pub code: String,
    pub name: String,
}

/// Who the caller is: login, role, node, and their own member record when the account is a
/// member's.
#[derive(Serialize, ToSchema)]
pub struct MeView {
    pub login: String,
    /// `city-admin`, `county-admin`, `township-admin`, `village-secretary`, `member`, `leader`
    /// or `auditor`.
    pub role: String,
    pub org: MeOrg,
    pub member: Option<MeMember>,
}

#[utoipa::path(get, path = "/api/v1/me",
    responses((status = 200, body = MeView), (status = 401, body = ErrorBody)))]
pub async fn me(State(state): State<AppState>, Auth(me): Auth) -> Result<Json<MeView>, AppError> {
    let member = match me.user.member_id {
        Some(id) => {
            let m = state.db.member(me.scope(), id).await?;
            Some(MeMember {
                id: m.id,
                name: m.name,
                card_no: m.card_no,
            })
        }
        None => None,
    };
    Ok(Json(MeView {
        login: me.user.login.clone(),
        role: me.role().as_str().to_string(),
        org: MeOrg {
            code: me.user.org_code.clone(),
            name: me.user.org_name.clone(),
        },
        member,
    }))
}

async fn openapi() -> Json<utoipa::openapi::OpenApi> {
    Json(ApiDoc::openapi())
}

/// Active descendants by level.
#[derive(Serialize, ToSchema)]
pub struct Counts {
    pub county: i64,
    pub township: i64,
    pub village: i64,
}

#[derive(Serialize, ToSchema)]
pub struct PartyOrgView {
    /// `committee` (党委), `general_branch` (党总支) or `branch` (党支部).
    pub kind: String,
    pub name: String,
    pub secretary: Option<String>,
    pub member_count: i64,
}

#[derive(Serialize, ToSchema)]
pub struct OrgView {
    pub code: String,
    pub name: String,
    /// `city`, `county`, `township`, `village`, `enterprise` or `institution`.
    pub level: String,
    /// The parent's code; null for the city.
    pub parent: Option<String>,
    pub counts: Counts,
    pub party_org: PartyOrgView,
    pub retired: bool,
}

#[derive(Serialize, ToSchema)]
pub struct OrgItem {
    pub code: String,
    pub name: String,
    pub level: String,
}

#[derive(Serialize, ToSchema)]
pub struct Items {
    pub items: Vec<OrgItem>,
}

#[derive(Serialize, ToSchema)]
pub struct ErrorDetail {
    /// `not_found`, `unauthenticated`, `forbidden`, `invalid`, `conflict`, `csrf`, `internal`,
    /// `bad_request`; a refused check-in carries its rule's own code (`outside_window`,
    /// `unknown_card`, `card_inactive`, `unknown_event`, `unknown_member`, `future`,
    /// `device_revoked`, `device_elsewhere`, `qr`, `qr_stale`).
    pub code: String,
    /// In the reader's language.
    pub message: String,
}

#[derive(Serialize, ToSchema)]
pub struct ErrorBody {
    pub error: ErrorDetail,
}

fn item(o: &Node) -> OrgItem {
    OrgItem {
        code: o.code.to_string(),
        name: o.name.clone(),
        level: o.level.as_str().into(),
    }
}

async fn org_view(state: &AppState, o: Node) -> Result<OrgView, AppError> {
    let c = state.db.org_counts(&o).await?;
    let o = o.into_org();
    Ok(OrgView {
        code: o.code.to_string(),
        name: o.name,
        level: o.level.as_str().into(),
        parent: o.parent_code,
        counts: Counts {
            county: c.county,
            township: c.township,
            village: c.village,
        },
        party_org: PartyOrgView {
            kind: o.party_org_kind.as_str().into(),
            name: o.party_org_name,
            secretary: o.secretary_name,
            member_count: o.member_count,
        },
        retired: o.retired_at.is_some(),
    })
}

/// A node of the tree with its descendants counted by level.
#[utoipa::path(get, path = "/api/v1/orgs/{code}", params(("code" = String, Path, description = "division code")),
    responses((status = 200, body = OrgView), (status = 404, body = ErrorBody), (status = 401, body = ErrorBody)))]
async fn get_org(
    State(state): State<AppState>,
    Auth(me): Auth,
    CodeParam(code): CodeParam,
) -> Result<Json<OrgView>, AppError> {
    let o = state.db.org(me.scope(), &code).await?;
    Ok(Json(org_view(&state, o).await?))
}

/// The active children of a node.
#[utoipa::path(get, path = "/api/v1/orgs/{code}/children", params(("code" = String, Path, description = "division code")),
    responses((status = 200, body = Items), (status = 404, body = ErrorBody)))]
async fn children(
    State(state): State<AppState>,
    Auth(me): Auth,
    CodeParam(code): CodeParam,
) -> Result<Json<Items>, AppError> {
    let kids = state.db.org_children(me.scope(), &code, false).await?;
    Ok(Json(Items {
        items: kids.iter().map(item).collect(),
    }))
}

#[derive(Deserialize, ToSchema)]
pub struct NewChild {
    pub code: String,
    pub name: String,
    pub level: String,
    /// Defaults by member count.
    pub party_org_kind: Option<String>,
    /// Defaults to the name followed by the kind.
    pub party_org_name: Option<String>,
    pub secretary: Option<String>,
}

/// Creates a child node (admins, within scope).
#[utoipa::path(post, path = "/api/v1/orgs/{code}/children", request_body = NewChild, params(("code" = String, Path, description = "parent's code")),
    responses((status = 201, body = OrgView), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn create_child(
    State(state): State<AppState>,
    Auth(me): Auth,
    CodeParam(parent): CodeParam,
    Json(body): Json<NewChild>,
) -> Result<Response, AppError> {
    state.db.org(me.scope(), &parent).await?;
    let invalid = |e: org::OrgError| AppError::Invalid(e.msg());
    let code = OrgCode::parse(&body.code).map_err(invalid)?;
    let name = org::parse_name(&body.name).map_err(invalid)?;
    let level = Level::parse(&body.level).map_err(invalid)?;
    let kind = match &body.party_org_kind {
        Some(k) => PartyOrgKind::parse(k).map_err(invalid)?,
        None => PartyOrgKind::Branch,
    };
    let party_org_name = match &body.party_org_name {
        Some(n) => org::parse_name(n).map_err(invalid)?,
        None => format!("{name}{}", kind.zh()),
    };
    let secretary = body
        .secretary
        .as_deref()
        .map(org::parse_name)
        .transpose()
        .map_err(invalid)?;
    let new = NewOrg {
        code,
        name,
        level,
        parent,
        party_org_kind: kind,
        party_org_name,
        secretary_name: secretary,
        member_count: 0,
    };
    let created = state
        .db
        .create_org(&me.actor, new, state.clock.now_ms())
        .await?;
    Ok((StatusCode::CREATED, Json(org_view(&state, created).await?)).into_response())
}

#[derive(Deserialize)]
struct SearchQuery {
    #[serde(default)]
    q: String,
}

/// Nodes under `code` whose name contains `q`, or whose pinyin initials start with it.
#[utoipa::path(get, path = "/api/v1/orgs/{code}/search", params(("code" = String, Path, description = "root of the search"), ("q" = String, Query, description = "name part or pinyin initials")),
    responses((status = 200, body = Items), (status = 404, body = ErrorBody)))]
async fn search(
    State(state): State<AppState>,
    Auth(me): Auth,
    CodeParam(code): CodeParam,
    Query(q): Query<SearchQuery>,
) -> Result<Json<Items>, AppError> {
    let root = state.db.org(me.scope(), &code).await?;
    let within = baiqian_domain::scope::Scope::new(root.code.clone(), &root.path);
    let text: String = q.q.trim().chars().take(40).collect();
    let found = state.db.org_search(&within, &text, 100).await?;
    Ok(Json(Items {
        items: found.iter().map(item).collect(),
    }))
}

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
async fn audit(
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
