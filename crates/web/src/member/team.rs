//! Volunteer teams (党员义工队) of an organization: the list with members, a new team, a member
//! added from the roster.

use askama::Template;
use axum::Form;
use axum::extract::{OriginalUri, Path, State};
use axum::response::{IntoResponse, Redirect, Response};
use baiqian_store::kernel::Node;
use baiqian_store::member::Member;
use baiqian_store::team::Team;
use serde::Deserialize;

use crate::auth::Auth;
use crate::error::{AppError, html};
use crate::extract::CodeParam;
use crate::frame::Frame;
use crate::i18n::Tr;
use crate::routes::Routes;
use crate::state::AppState;
use baiqian_domain::capability::Capability;

pub fn routes() -> Routes {
    Routes::new()
        .get("/orgs/{code}/teams", Capability::ReadRoster, list)
        .post("/orgs/{code}/teams", Capability::ManageMembers, create)
        .post("/teams/{id}/members", Capability::ManageMembers, add_member)
        .get("/orgs/{code}/teams.xlsx", Capability::ReadRoster, export)
}

#[derive(Template)]
#[template(path = "team/list.html")]
struct ListPage {
    tr: Tr,
    f: Frame,
    org: Node,
    teams: Vec<Team>,
    roster: Vec<Member>,
    can_manage: bool,
    error: Option<String>,
}

async fn list(
    State(state): State<AppState>,
    Auth(me): Auth,
    tr: Tr,
    uri: OriginalUri,
    CodeParam(code): CodeParam,
) -> Result<Response, AppError> {
    let org = state.db.org(me.scope(), &code).await?;
    let can_manage = me.role().may_manage_members();
    let roster = if can_manage {
        state
            .db
            .members_under(me.scope(), &code, "", 500, 0)
            .await?
    } else {
        Vec::new()
    };
    html(&ListPage {
        tr,
        f: Frame::new(&state, &me, tr, uri.0.path(), "tree").await?,
        teams: state.db.teams_of(me.scope(), &code).await?,
        org,
        roster,
        can_manage,
        error: None,
    })
}

#[derive(Deserialize)]
struct NewTeam {
    #[serde(default)]
    name: String,
    #[serde(default)]
    purpose: String,
}

async fn create(
    State(state): State<AppState>,
    Auth(me): Auth,
    CodeParam(code): CodeParam,
    Form(form): Form<NewTeam>,
) -> Result<Response, AppError> {
    state
        .db
        .create_team(
            &me.actor,
            &code,
            &form.name,
            &form.purpose,
            state.clock.now_ms(),
        )
        .await?;
    Ok(Redirect::to(&format!("/orgs/{code}/teams")).into_response())
}

#[derive(Deserialize)]
struct AddMember {
    member_id: i64,
    #[serde(default)]
    note: String,
}

async fn add_member(
    State(state): State<AppState>,
    Auth(me): Auth,
    Path(id): Path<i64>,
    Form(form): Form<AddMember>,
) -> Result<Response, AppError> {
    state
        .db
        .add_team_members(
            &me.actor,
            id,
            &[(form.member_id, form.note)],
            state.clock.now_ms(),
        )
        .await?;
    let team = state.db.team_org(me.scope(), id).await?;
    Ok(Redirect::to(&format!("/orgs/{team}/teams")).into_response())
}

/// The volunteer teams of a node and their members, as `.xlsx` (a row per member).
async fn export(
    State(state): State<AppState>,
    Auth(me): Auth,
    tr: Tr,
    CodeParam(code): CodeParam,
) -> Result<Response, AppError> {
    use crate::excel::Cell;
    let org = state.db.org(me.scope(), &code).await?;
    let teams = state.db.teams_of(me.scope(), &code).await?;
    let mut rows = Vec::new();
    for t in &teams {
        if t.members.is_empty() {
            rows.push(vec![
                Cell::Text(t.name.clone()),
                Cell::Text(t.purpose.clone()),
                Cell::Text(String::new()),
            ]);
        }
        for m in &t.members {
            rows.push(vec![
                Cell::Text(t.name.clone()),
                Cell::Text(t.purpose.clone()),
                Cell::Text(m.name.clone()),
            ]);
        }
    }
    let columns = [("team", "队伍"), ("purpose", "用途"), ("member", "队员")];
    let title =
        crate::excel::export_title(tr, "export.teams", &org.name, &me, state.clock.now_ms());
    let bytes = crate::excel::write_list("志愿队伍", &title, &columns, &rows)?;
    crate::excel::xlsx_response(bytes, &format!("teams-{code}.xlsx"))
}
