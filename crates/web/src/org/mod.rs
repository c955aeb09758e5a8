//! Pages of the organization tree: browse, search, create, edit, move, retire, export, import.

pub mod api;
mod change;
mod import;

// The parts share their helpers through this module (each part says `use super::*`).
#[allow(unused_imports)]
use self::{change::*, import::*};

use askama::Template;
use axum::Form;
use axum::extract::{Multipart, OriginalUri, Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use baiqian_domain::Msg;
use baiqian_domain::capability::Capability;
use baiqian_domain::org::{self, Level, OrgCode, PartyOrgKind};
use baiqian_store::StoreError;
use baiqian_store::import::ImportMode;
use baiqian_store::kernel::{LevelCounts, Node};
use baiqian_store::org::{NewOrg, OrgEdit};
use serde::Deserialize;

use crate::auth::{Auth, CurrentUser};
use crate::error::{AppError, html};
use crate::excel;
use crate::extract::CodeParam;
use crate::form::{FieldError, ReportRow, report_rows};
use crate::frame::{Frame, here};
use crate::i18n::{Lang, Tr};
use crate::routes::Routes;
use crate::state::AppState;

pub fn routes() -> Routes {
    Routes::new()
        .get("/orgs/{code}", Capability::ReadTree, show)
        .get("/orgs/{code}/new", Capability::ChangeTree, new_form)
        .post("/orgs/{code}/new", Capability::ChangeTree, create)
        .get("/orgs/{code}/edit", Capability::EditPartyOrg, edit_form)
        .post("/orgs/{code}/edit", Capability::EditPartyOrg, edit)
        .get("/orgs/{code}/move", Capability::ChangeTree, move_form)
        .post("/orgs/{code}/move", Capability::ChangeTree, move_org)
        .get("/orgs/{code}/retire", Capability::ChangeTree, retire_form)
        .post("/orgs/{code}/retire", Capability::ChangeTree, retire)
        .get("/orgs/{code}/export.xlsx", Capability::ExportLists, export)
        .get("/orgs/{code}/import", Capability::ChangeTree, import_form)
        .post("/orgs/{code}/import", Capability::ChangeTree, import)
        .get("/search", Capability::ReadTree, search)
        .get("/api/v1/orgs/{code}", Capability::ReadTree, api::get_org)
        .get(
            "/api/v1/orgs/{code}/children",
            Capability::ReadTree,
            api::children,
        )
        .post(
            "/api/v1/orgs/{code}/children",
            Capability::ChangeTree,
            api::create_child,
        )
        .get(
            "/api/v1/orgs/{code}/search",
            Capability::ReadTree,
            api::search,
        )
        .get(
            "/orgs/{code}/import/template.xlsx",
            Capability::ChangeTree,
            template,
        )
}

/// A code from the URL; a malformed one is simply not found.
pub struct ChildRow {
    pub org: Node,
    pub counts: LevelCounts,
}

#[derive(Template)]
#[template(path = "org/show.html")]
struct ShowPage {
    tr: Tr,
    f: Frame,
    org: Node,
    crumbs: Vec<(String, String)>,
    counts: LevelCounts,
    children: Vec<ChildRow>,
    show_retired: bool,
    can_change_tree: bool,
    can_edit: bool,
    is_scope_root: bool,
}

#[derive(Deserialize)]
struct ShowQuery {
    retired: Option<String>,
}

async fn show(
    State(state): State<AppState>,
    Auth(me): Auth,
    tr: Tr,
    uri: OriginalUri,
    CodeParam(code): CodeParam,
    Query(q): Query<ShowQuery>,
) -> Result<Response, AppError> {
    let scope = me.scope();
    let node = state.db.org(scope, &code).await?;
    let show_retired = q.retired.is_some();
    let children = state.db.org_children(scope, &code, show_retired).await?;
    let child_counts = state.db.org_children_counts(scope, &code).await?;
    let children = children
        .into_iter()
        .map(|c| {
            let counts = child_counts
                .iter()
                .find(|(k, _)| k == c.code.as_str())
                .map(|(_, n)| n.clone())
                .unwrap_or_default();
            ChildRow { org: c, counts }
        })
        .collect();
    let page = ShowPage {
        tr,
        f: Frame::new(&state, &me, tr, &here(&uri), "tree").await?,
        crumbs: state.db.org_ancestors(scope, &node).await?,
        counts: state.db.org_counts(&node).await?,
        children,
        show_retired,
        can_change_tree: me.role().may_change_tree() && !node.is_retired(),
        can_edit: me.role().may_edit_party_org() && !node.is_retired(),
        is_scope_root: scope.is_root_path(&node.path),
        org: node,
    };
    html(&page)
}

/// Where a store message belongs in a form.
fn field_of(key: &str) -> &'static str {
    match key {
        "org.error.bad_code"
        | "org.error.code_taken"
        | "org.error.code_level_mismatch"
        | "org.error.code_outside_parent" => "code",
        "org.error.bad_level" | "org.error.wrong_parent_level" => "level",
        "org.error.empty_name" | "org.error.name_too_long" | "org.error.name_bad_char" => "name",
        "org.error.bad_party_org_kind" => "party_org_kind",
        "org.error.reason_required" | "org.error.reason_too_long" | "org.error.reason_bad_char" => {
            "reason"
        }
        "org.error.parent_not_found"
        | "org.error.move_into_self"
        | "org.error.move_same_parent" => "parent",
        _ => "",
    }
}

/// The values typed into a node form, kept as typed so a failed submit loses nothing.
#[derive(Deserialize, Default, Clone)]
pub struct OrgFormData {
    #[serde(default)]
    pub code: String,
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub level: String,
    #[serde(default)]
    pub party_org_kind: String,
    #[serde(default)]
    pub party_org_name: String,
    #[serde(default)]
    pub secretary_name: String,
}

/// Parses the shared fields of the create and edit forms, collecting every error.
fn parse_party_fields(
    d: &OrgFormData,
    errors: &mut Vec<(&'static str, Msg)>,
) -> Option<(String, PartyOrgKind, String, Option<String>)> {
    let name = org::parse_name(&d.name)
        .map_err(|e| errors.push(("name", e.msg())))
        .ok();
    let kind = PartyOrgKind::parse(&d.party_org_kind)
        .map_err(|e| errors.push(("party_org_kind", e.msg())))
        .ok();
    let party_org_name = if d.party_org_name.trim().is_empty() {
        match (&name, kind) {
            (Some(n), Some(k)) => Some(format!("{n}{}", k.zh())),
            _ => None,
        }
    } else {
        org::parse_name(&d.party_org_name)
            .map_err(|e| errors.push(("party_org_name", e.msg())))
            .ok()
    };
    let secretary = if d.secretary_name.trim().is_empty() {
        Some(None)
    } else {
        org::parse_name(&d.secretary_name)
            .map(Some)
            .map_err(|e| errors.push(("secretary_name", e.msg())))
            .ok()
    };
    Some((name?, kind?, party_org_name?, secretary?))
}

#[derive(Template)]
#[template(path = "org/form.html")]
struct FormPage {
    tr: Tr,
    f: Frame,
    org: Node,
    /// `new` or `edit`.
    mode: &'static str,
    data: OrgFormData,
    errors: Vec<FieldError>,
    levels: Vec<(&'static str, String)>,
    kinds: Vec<(&'static str, String)>,
}

impl FormPage {
    fn error_for(&self, field: &str) -> String {
        crate::form::errors_of(&self.errors, field)
    }
}

fn kinds(tr: Tr) -> Vec<(&'static str, String)> {
    PartyOrgKind::ALL
        .iter()
        .map(|k| {
            (
                k.as_str(),
                tr.t(&format!("party_org_kind.{}", k.as_str())).to_string(),
            )
        })
        .collect()
}

fn child_levels(tr: Tr, parent: Level) -> Vec<(&'static str, String)> {
    Level::ALL
        .iter()
        .filter(|l| l.may_sit_under(parent))
        .map(|l| (l.as_str(), tr.level(l.as_str())))
        .collect()
}

fn to_field_errors(tr: Tr, errors: Vec<(&'static str, Msg)>) -> Vec<FieldError> {
    errors
        .into_iter()
        .map(|(field, m)| FieldError {
            field,
            message: tr.msg(&m),
        })
        .collect()
}

async fn tree_node_for_change(
    state: &AppState,
    me: &CurrentUser,
    code: &OrgCode,
) -> Result<Node, AppError> {
    let node = state.db.org(me.scope(), code).await?;
    if !me.role().may_change_tree() {
        return Err(AppError::Denied(Msg::new("error.denied")));
    }
    if node.is_retired() {
        return Err(AppError::Invalid(Msg::new("org.error.retired")));
    }
    Ok(node)
}

async fn new_form(
    State(state): State<AppState>,
    Auth(me): Auth,
    tr: Tr,
    uri: OriginalUri,
    CodeParam(code): CodeParam,
) -> Result<Response, AppError> {
    let parent = tree_node_for_change(&state, &me, &code).await?;
    let data = OrgFormData {
        level: parent
            .level
            .child_area()
            .map(|l| l.as_str().to_string())
            .unwrap_or_default(),
        party_org_kind: PartyOrgKind::Branch.as_str().into(),
        code: parent.code.as_str().to_string(),
        ..Default::default()
    };
    let page = FormPage {
        tr,
        f: Frame::new(&state, &me, tr, &here(&uri), "tree").await?,
        levels: child_levels(tr, parent.level),
        kinds: kinds(tr),
        org: parent,
        mode: "new",
        data,
        errors: Vec::new(),
    };
    html(&page)
}

async fn create(
    State(state): State<AppState>,
    Auth(me): Auth,
    tr: Tr,
    uri: OriginalUri,
    CodeParam(code): CodeParam,
    Form(data): Form<OrgFormData>,
) -> Result<Response, AppError> {
    let parent = tree_node_for_change(&state, &me, &code).await?;
    let mut errors = Vec::new();
    let new_code = OrgCode::parse(&data.code)
        .map_err(|e| errors.push(("code", e.msg())))
        .ok();
    let level = Level::parse(&data.level)
        .map_err(|e| errors.push(("level", e.msg())))
        .ok();
    let fields = parse_party_fields(&data, &mut errors);
    let result = match (new_code, level, fields, errors.is_empty()) {
        (
            Some(code),
            Some(level),
            Some((name, party_org_kind, party_org_name, secretary_name)),
            true,
        ) => {
            let new = NewOrg {
                code,
                name,
                level,
                parent: parent.code.clone(),
                party_org_kind,
                party_org_name,
                secretary_name,
                member_count: 0,
            };
            match state
                .db
                .create_org(&me.actor, new, state.clock.now_ms())
                .await
            {
                Ok(created) => {
                    return Ok(Redirect::to(&format!("/orgs/{}", created.code)).into_response());
                }
                Err(StoreError::Invalid(m)) => vec![(field_of(m.key), m)],
                Err(e) => return Err(e.into()),
            }
        }
        _ => errors,
    };
    let page = FormPage {
        tr,
        f: Frame::new(&state, &me, tr, &here(&uri), "tree").await?,
        levels: child_levels(tr, parent.level),
        kinds: kinds(tr),
        org: parent,
        mode: "new",
        data,
        errors: to_field_errors(tr, result),
    };
    let mut res = html(&page)?;
    *res.status_mut() = axum::http::StatusCode::UNPROCESSABLE_ENTITY;
    Ok(res)
}

async fn edit_target(state: &AppState, me: &CurrentUser, code: &OrgCode) -> Result<Node, AppError> {
    let node = state.db.org(me.scope(), code).await?;
    if !me.role().may_edit_party_org() {
        return Err(AppError::Denied(Msg::new("error.denied")));
    }
    if node.is_retired() {
        return Err(AppError::Invalid(Msg::new("org.error.retired")));
    }
    Ok(node)
}

async fn edit_form(
    State(state): State<AppState>,
    Auth(me): Auth,
    tr: Tr,
    uri: OriginalUri,
    CodeParam(code): CodeParam,
) -> Result<Response, AppError> {
    let node = edit_target(&state, &me, &code).await?;
    let data = OrgFormData {
        code: node.code.as_str().into(),
        name: node.name.clone(),
        level: node.level.as_str().into(),
        party_org_kind: node.party_org_kind.as_str().into(),
        party_org_name: node.party_org_name.clone(),
        secretary_name: node.secretary_name.clone().unwrap_or_default(),
    };
    let page = FormPage {
        tr,
        f: Frame::new(&state, &me, tr, &here(&uri), "tree").await?,
        levels: Vec::new(),
        kinds: kinds(tr),
        org: node,
        mode: "edit",
        data,
        errors: Vec::new(),
    };
    html(&page)
}

async fn edit(
    State(state): State<AppState>,
    Auth(me): Auth,
    tr: Tr,
    uri: OriginalUri,
    CodeParam(code): CodeParam,
    Form(data): Form<OrgFormData>,
) -> Result<Response, AppError> {
    let node = edit_target(&state, &me, &code).await?;
    let mut errors = Vec::new();
    let result = match parse_party_fields(&data, &mut errors) {
        Some((name, party_org_kind, party_org_name, secretary_name)) if errors.is_empty() => {
            let edit = OrgEdit {
                name,
                party_org_kind,
                party_org_name,
                secretary_name,
            };
            match state
                .db
                .edit_org(&me.actor, &node.code, edit, state.clock.now_ms())
                .await
            {
                Ok(o) => return Ok(Redirect::to(&format!("/orgs/{}", o.code)).into_response()),
                Err(StoreError::Invalid(m)) => vec![(field_of(m.key), m)],
                Err(e) => return Err(e.into()),
            }
        }
        _ => errors,
    };
    let page = FormPage {
        tr,
        f: Frame::new(&state, &me, tr, &here(&uri), "tree").await?,
        levels: Vec::new(),
        kinds: kinds(tr),
        org: node,
        mode: "edit",
        data,
        errors: to_field_errors(tr, result),
    };
    let mut res = html(&page)?;
    *res.status_mut() = axum::http::StatusCode::UNPROCESSABLE_ENTITY;
    Ok(res)
}

#[derive(Template)]
#[template(path = "org/search.html")]
struct SearchPage {
    tr: Tr,
    f: Frame,
    q: String,
    results: Vec<Node>,
}

#[derive(Deserialize)]
struct SearchQuery {
    #[serde(default)]
    q: String,
}

async fn search(
    State(state): State<AppState>,
    Auth(me): Auth,
    tr: Tr,
    uri: OriginalUri,
    Query(q): Query<SearchQuery>,
) -> Result<Response, AppError> {
    let text: String = q.q.trim().chars().take(40).collect();
    let results = state.db.org_search(me.scope(), &text, 100).await?;
    let page = SearchPage {
        tr,
        f: Frame::new(&state, &me, tr, &here(&uri), "tree").await?,
        q: text,
        results,
    };
    html(&page)
}
