//! The tree in the JSON API: a node, its children, search, creating a child.

use axum::Json;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use baiqian_domain::org::{self, Level, OrgCode, PartyOrgKind};
use baiqian_store::kernel::Node;
use baiqian_store::org::NewOrg;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::auth::Auth;
use crate::error::{AppError, ErrorBody};
use crate::extract::CodeParam;
use crate::state::AppState;

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
pub(crate) async fn get_org(
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
pub(crate) async fn children(
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
pub(crate) async fn create_child(
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
pub(crate) struct SearchQuery {
    #[serde(default)]
    q: String,
}

/// Nodes under `code` whose name contains `q`, or whose pinyin initials start with it.
#[utoipa::path(get, path = "/api/v1/orgs/{code}/search", params(("code" = String, Path, description = "root of the search"), ("q" = String, Query, description = "name part or pinyin initials")),
    responses((status = 200, body = Items), (status = 404, body = ErrorBody)))]
pub(crate) async fn search(
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
