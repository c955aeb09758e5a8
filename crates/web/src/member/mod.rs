//! The member roster pages and API: list, add, import, export, transfer, and the audited reveal
//! of personal data.

pub(crate) mod api;
mod card;
mod export;
mod home;
mod import;
pub(crate) mod record;
pub mod team;

// The parts share their helpers through this module (each part says `use super::*`).
pub(crate) use self::home::home_part;
#[allow(unused_imports)]
use self::{api::*, card::*, export::*, import::*, record::*};

use askama::Template;
use axum::Form;
use axum::Json;
use axum::extract::{Multipart, OriginalUri, Path, Query, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use baiqian_domain::Msg;
use baiqian_domain::capability::Capability;
use baiqian_domain::member::{self, Gender, IdNumber, Phone};
use baiqian_domain::org::{self, OrgCode};
use baiqian_store::StoreError;
use baiqian_store::import::ImportError;
use baiqian_store::kernel::Node;
use baiqian_store::member::{Member, NewMember, Revealed, RosterPart, StatusChange, Transfer};
use serde::{Deserialize, Serialize};

use crate::auth::{Auth, CurrentUser};
use crate::error::{AppError, html};
use crate::extract::CodeParam;
use crate::form::{FieldError, ReportRow};
use crate::frame::{Frame, here};
use crate::i18n::{Lang, Tr};
use crate::routes::Routes;
use crate::state::AppState;

pub fn routes() -> Routes {
    Routes::new()
        .get("/orgs/{code}/members", Capability::ReadRoster, roster)
        .get(
            "/orgs/{code}/members/new",
            Capability::ManageMembers,
            new_form,
        )
        .post(
            "/orgs/{code}/members/new",
            Capability::ManageMembers,
            create,
        )
        .get(
            "/orgs/{code}/members/import",
            Capability::ManageMembers,
            import_form,
        )
        .post_upload(
            "/orgs/{code}/members/import",
            Capability::ManageMembers,
            import,
        )
        .get(
            "/orgs/{code}/members.xlsx",
            Capability::ExportPersonalData,
            export,
        )
        .post(
            "/orgs/{code}/members/export-job",
            Capability::ExportPersonalData,
            export_job,
        )
        .post(
            "/api/v1/orgs/{code}/members/export-jobs",
            Capability::ExportPersonalData,
            api_export_job,
        )
        .post_upload(
            "/api/v1/orgs/{code}/members/import-jobs",
            Capability::ManageMembers,
            api_import_job,
        )
        .get("/members/{id}", Capability::ReadOwnRecord, show)
        .post(
            "/members/{id}/reveal",
            Capability::RevealPersonalData,
            reveal,
        )
        .get(
            "/members/{id}/transfer",
            Capability::ManageMembers,
            transfer_form,
        )
        .post(
            "/members/{id}/transfer",
            Capability::ManageMembers,
            transfer,
        )
        .get("/members/{id}/edit", Capability::ManageMembers, edit_form)
        .post("/members/{id}/edit", Capability::ManageMembers, edit)
        .post(
            "/members/{id}/status",
            Capability::ManageMembers,
            change_status,
        )
        .post("/api/v1/members/{id}", Capability::ManageMembers, api_edit)
        .post(
            "/api/v1/members/{id}/status",
            Capability::ManageMembers,
            api_status,
        )
        .get("/members/{id}/card", Capability::ReadOwnRecord, card_page)
        .post(
            "/members/{id}/card/{action}",
            Capability::ManageMembers,
            card_action,
        )
        .post("/api/v1/members", Capability::ManageMembers, api_create)
        .get("/api/v1/members/{id}", Capability::ReadOwnRecord, api_get)
        .get(
            "/api/v1/orgs/{code}/members",
            Capability::ReadRoster,
            api_roster,
        )
        .merge(team::routes())
        .post_upload(
            "/api/v1/orgs/{code}/members/import",
            Capability::ManageMembers,
            api::api_import,
        )
        .get(
            "/orgs/{code}/members/template.xlsx",
            Capability::ManageMembers,
            template,
        )
        .post(
            "/orgs/{code}/members/import/commit",
            Capability::ManageMembers,
            import_commit,
        )
}

const PAGE: i64 = 50;

/// The fields of a new member as typed (form, JSON, spreadsheet row).
#[derive(Deserialize, Default, Clone)]
pub struct MemberInput {
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub gender: String,
    #[serde(default)]
    pub birth_date: String,
    #[serde(default)]
    pub id_number: String,
    #[serde(default)]
    pub phone: String,
    #[serde(default)]
    pub home_org: String,
    #[serde(default)]
    pub joined: String,
    #[serde(default)]
    pub confirmed: String,
    #[serde(default)]
    pub workplace: String,
    #[serde(default)]
    pub mobile: String,
    #[serde(default)]
    pub mobile_where: String,
}

/// Parses and cross-checks a member, naming every bad field.
pub fn parse_member(i: &MemberInput) -> Result<NewMember, Vec<(&'static str, Msg)>> {
    let mut errs: Vec<(&'static str, Msg)> = Vec::new();
    let name = org::parse_name(&i.name)
        .map_err(|e| errs.push(("name", e.msg())))
        .ok();
    let gender = Gender::parse(&i.gender)
        .map_err(|e| errs.push(("gender", e.msg())))
        .ok();
    let birth = member::parse_date(&i.birth_date)
        .map_err(|e| errs.push(("birth_date", e.msg())))
        .ok();
    let id = IdNumber::parse(&i.id_number)
        .map_err(|e| errs.push(("id_number", e.msg())))
        .ok();
    let phone = if i.phone.trim().is_empty() {
        Some(None)
    } else {
        Phone::parse(&i.phone)
            .map(Some)
            .map_err(|e| errs.push(("phone", e.msg())))
            .ok()
    };
    let home = OrgCode::parse(&i.home_org)
        .map_err(|e| errs.push(("home_org", e.msg())))
        .ok();
    let joined = member::parse_record_date(&i.joined)
        .map_err(|e| errs.push(("joined", e.msg())))
        .ok();
    let confirmed = if i.confirmed.trim().is_empty() {
        Some(None)
    } else {
        member::parse_record_date(&i.confirmed)
            .map(Some)
            .map_err(|e| errs.push(("confirmed", e.msg())))
            .ok()
    };
    if let (Some(joined), Some(Some(confirmed))) = (&joined, &confirmed)
        && member::strictly_before(confirmed, joined)
    {
        errs.push((
            "confirmed",
            member::MemberError::ConfirmedBeforeJoined.msg(),
        ));
    }
    let workplace = if i.workplace.trim().is_empty() {
        Some(None)
    } else {
        org::parse_name(&i.workplace)
            .map(Some)
            .map_err(|e| errs.push(("workplace", e.msg())))
            .ok()
    };
    let mobile = matches!(i.mobile.trim(), "1" | "true" | "on" | "是" | "yes");
    let mobile_where = if i.mobile_where.trim().is_empty() {
        Some(None)
    } else {
        org::parse_name(&i.mobile_where)
            .map(Some)
            .map_err(|e| errs.push(("mobile_where", e.msg())))
            .ok()
    };
    if let (Some(id), Some(birth), Some(gender), Some(joined)) = (&id, &birth, gender, &joined)
        && let Err(e) = member::check_consistent(id, birth, gender, joined)
    {
        let field = match e {
            member::MemberError::GenderMismatch => "gender",
            member::MemberError::JoinedTooYoung => "joined",
            _ => "birth_date",
        };
        errs.push((field, e.msg()));
    }
    match (
        name,
        gender,
        birth,
        id,
        phone,
        home,
        joined,
        confirmed,
        workplace,
        mobile_where,
    ) {
        (
            Some(name),
            Some(gender),
            Some(birth_date),
            Some(id_number),
            Some(phone),
            Some(home_org),
            Some(joined),
            Some(confirmed),
            Some(workplace),
            Some(mobile_where),
        ) if errs.is_empty() => Ok(NewMember {
            name,
            gender,
            birth_date,
            id_number,
            phone,
            home_org,
            joined,
            confirmed,
            workplace,
            mobile,
            mobile_where,
        }),
        _ => Err(errs),
    }
}

fn require_manager(me: &CurrentUser) -> Result<(), AppError> {
    if me.role().may_manage_members() {
        Ok(())
    } else {
        Err(AppError::Denied(Msg::new("error.denied")))
    }
}

#[derive(Template)]
#[template(path = "member/roster.html")]
struct RosterPage {
    tr: Tr,
    f: Frame,
    org: Node,
    members: Vec<Member>,
    total: i64,
    /// The part of the roster shown, and how many each part holds (current, mobile, former).
    part: &'static str,
    parts: [(&'static str, i64); 3],
    q: String,
    page: i64,
    more: bool,
    can_manage: bool,
}

impl RosterPage {
    fn status_name(&self, s: &str) -> String {
        self.tr.word("member.status", s)
    }
}

#[derive(Deserialize)]
pub(crate) struct RosterQuery {
    #[serde(default)]
    q: String,
    page: Option<i64>,
    /// `current` (default), `mobile` or `former`.
    #[serde(default)]
    part: String,
}

impl RosterQuery {
    fn part(&self) -> Result<RosterPart, AppError> {
        RosterPart::parse(self.part.trim()).ok_or(AppError::NotFound)
    }
}

async fn roster(
    State(state): State<AppState>,
    Auth(me): Auth,
    tr: Tr,
    uri: OriginalUri,
    CodeParam(code): CodeParam,
    Query(q): Query<RosterQuery>,
) -> Result<Response, AppError> {
    let node = state.db.org(me.scope(), &code).await?;
    let part = q.part()?;
    let page = q.page.unwrap_or(1).clamp(1, 1_000_000);
    let text: String = q.q.trim().chars().take(30).collect();
    let mut members = state
        .db
        .roster_part(me.scope(), &code, part, &text, PAGE + 1, (page - 1) * PAGE)
        .await?;
    let more = members.len() as i64 > PAGE;
    members.truncate(PAGE as usize);
    let mut parts = [
        (RosterPart::Current.as_str(), 0),
        (RosterPart::Mobile.as_str(), 0),
        (RosterPart::Former.as_str(), 0),
    ];
    for (i, p) in [RosterPart::Current, RosterPart::Mobile, RosterPart::Former]
        .into_iter()
        .enumerate()
    {
        parts[i].1 = state.db.roster_part_count(&node, p).await?;
    }
    let page = RosterPage {
        tr,
        f: Frame::new(&state, &me, tr, &here(&uri), "tree").await?,
        total: parts[0].1,
        part: part.as_str(),
        parts,
        org: node,
        members,
        q: text,
        page,
        more,
        can_manage: me.role().may_manage_members(),
    };
    html(&page)
}

#[derive(Template)]
#[template(path = "member/new.html")]
struct NewPage {
    tr: Tr,
    f: Frame,
    org: Node,
    data: MemberInput,
    errors: Vec<FieldError>,
}

impl NewPage {
    fn error_for(&self, field: &str) -> String {
        crate::form::errors_of(&self.errors, field)
    }
}

async fn new_form(
    State(state): State<AppState>,
    Auth(me): Auth,
    tr: Tr,
    uri: OriginalUri,
    CodeParam(code): CodeParam,
) -> Result<Response, AppError> {
    let node = state.db.org(me.scope(), &code).await?;
    require_manager(&me)?;
    let data = MemberInput {
        home_org: node.code.to_string(),
        ..Default::default()
    };
    html(&NewPage {
        tr,
        f: Frame::new(&state, &me, tr, &here(&uri), "tree").await?,
        org: node,
        data,
        errors: Vec::new(),
    })
}

async fn create(
    State(state): State<AppState>,
    Auth(me): Auth,
    tr: Tr,
    uri: OriginalUri,
    CodeParam(code): CodeParam,
    Form(data): Form<MemberInput>,
) -> Result<Response, AppError> {
    let node = state.db.org(me.scope(), &code).await?;
    require_manager(&me)?;
    let errs = match parse_member(&data) {
        Ok(new) => match state
            .db
            .create_member(&me.actor, &state.vault, new, state.clock.now_ms())
            .await
        {
            Ok(m) => return Ok(Redirect::to(&format!("/members/{}", m.id)).into_response()),
            Err(StoreError::Invalid(m)) => vec![(
                if m.key == "member.error.id_taken" {
                    "id_number"
                } else {
                    "home_org"
                },
                m,
            )],
            Err(e) => return Err(e.into()),
        },
        Err(errs) => errs,
    };
    // The ID number is not sent back into the page: it is typed again.
    let data = MemberInput {
        id_number: String::new(),
        ..data
    };
    let errors = errs
        .into_iter()
        .map(|(field, m)| FieldError {
            field,
            message: tr.msg(&m),
        })
        .collect();
    let mut res = html(&NewPage {
        tr,
        f: Frame::new(&state, &me, tr, &here(&uri), "tree").await?,
        org: node,
        data,
        errors,
    })?;
    *res.status_mut() = StatusCode::UNPROCESSABLE_ENTITY;
    Ok(res)
}

/// A member the caller may read: any in scope for a role that reads the roster, only their
/// own record for a member (another member's answers 404, as out of scope does).
async fn member_in_reach(state: &AppState, me: &CurrentUser, id: i64) -> Result<Member, AppError> {
    if !me.role().may(Capability::ReadRoster) && me.user.member_id != Some(id) {
        return Err(AppError::NotFound);
    }
    Ok(state.db.member(me.scope(), id).await?)
}

#[derive(Template)]
#[template(path = "member/show.html")]
struct ShowPage {
    tr: Tr,
    f: Frame,
    m: Member,
    transfers: Vec<Transfer>,
    /// Changes of standing, oldest first.
    changes: Vec<StatusChange>,
    /// Every year the member attended, newest first, with its months (`MM`).
    years: Vec<(String, Vec<String>)>,
    revealed: Option<Revealed>,
    can_manage: bool,
    can_reveal: bool,
}

impl ShowPage {
    fn status_name(&self, s: &str) -> String {
        self.tr.word("member.status", s)
    }
}

/// `YYYY-MM` months, oldest first, as years (newest first) with their months.
fn by_year(months: Vec<String>) -> Vec<(String, Vec<String>)> {
    let mut out: Vec<(String, Vec<String>)> = Vec::new();
    for m in months.into_iter().rev() {
        let (y, mm) = m.split_at(m.len().min(4));
        let mm = mm.trim_start_matches('-').to_string();
        match out.last_mut() {
            Some((year, list)) if year == y => list.insert(0, mm),
            _ => out.push((y.to_string(), vec![mm])),
        }
    }
    out
}

async fn show_page(
    state: &AppState,
    me: &CurrentUser,
    tr: Tr,
    uri: &OriginalUri,
    id: i64,
    revealed: Option<Revealed>,
) -> Result<Response, AppError> {
    let m = member_in_reach(state, me, id).await?;
    let transfers = state.db.member_transfers(me.scope(), id).await?;
    let changes = state.db.member_status_changes(me.scope(), id).await?;
    let years = by_year(state.db.all_months_attended(me.scope(), id).await?);
    html(&ShowPage {
        tr,
        f: Frame::new(state, me, tr, &here(uri), "tree").await?,
        m,
        transfers,
        changes,
        years,
        revealed,
        can_manage: me.role().may_manage_members(),
        can_reveal: me.role().may_see_personal_data(),
    })
}

async fn show(
    State(state): State<AppState>,
    Auth(me): Auth,
    tr: Tr,
    uri: OriginalUri,
    Path(id): Path<i64>,
) -> Result<Response, AppError> {
    show_page(&state, &me, tr, &uri, id, None).await
}

async fn reveal(
    State(state): State<AppState>,
    Auth(me): Auth,
    tr: Tr,
    uri: OriginalUri,
    Path(id): Path<i64>,
) -> Result<Response, AppError> {
    let revealed = state
        .db
        .reveal_member(&me.actor, &state.vault, id, state.clock.now_ms())
        .await?;
    let mut res = show_page(&state, &me, tr, &uri, id, Some(revealed)).await?;
    res.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(res)
}
