//! The member roster pages and API: list, add, import, export, transfer, and the audited reveal
//! of personal data.

pub mod team;

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
use baiqian_store::member::{Member, NewMember, Revealed, Transfer};
use serde::{Deserialize, Serialize};

use crate::auth::{Auth, CurrentUser};
use crate::error::{AppError, html};
use crate::extract::CodeParam;
use crate::form::{FieldError, ReportRow};
use crate::frame::Frame;
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
        .post(
            "/orgs/{code}/members/import",
            Capability::ManageMembers,
            import,
        )
        .get(
            "/orgs/{code}/members.xlsx",
            Capability::ExportPersonalData,
            export,
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
}

const PAGE: i64 = 50;

fn here(uri: &OriginalUri) -> String {
    uri.0
        .path_and_query()
        .map(|p| p.as_str().to_string())
        .unwrap_or_else(|| "/".into())
}

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
    let joined = member::parse_date(&i.joined)
        .map_err(|e| errs.push(("joined", e.msg())))
        .ok();
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
    q: String,
    page: i64,
    more: bool,
    can_manage: bool,
}

#[derive(Deserialize)]
pub(crate) struct RosterQuery {
    #[serde(default)]
    q: String,
    page: Option<i64>,
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
    let page = q.page.unwrap_or(1).clamp(1, 1_000_000);
    let text: String = q.q.trim().chars().take(30).collect();
    let mut members = state
        .db
        .members_under(me.scope(), &code, &text, PAGE + 1, (page - 1) * PAGE)
        .await?;
    let more = members.len() as i64 > PAGE;
    members.truncate(PAGE as usize);
    let page = RosterPage {
        tr,
        f: Frame::new(&state, &me, tr, &here(&uri), "tree").await?,
        total: state.db.member_count_under(&node).await?,
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
    revealed: Option<Revealed>,
    can_manage: bool,
    can_reveal: bool,
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
    html(&ShowPage {
        tr,
        f: Frame::new(state, me, tr, &here(uri), "tree").await?,
        m,
        transfers,
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

#[derive(Template)]
#[template(path = "member/card.html")]
struct CardPage {
    tr: Tr,
    f: Frame,
    m: Member,
    card_no: String,
    svg: String,
}

/// The printable member card: its number and the same as a QR code (what a reader or an NFC
/// tag carries). Only the active card is shown; a member without one has no card page.
async fn card_page(
    State(state): State<AppState>,
    Auth(me): Auth,
    tr: Tr,
    uri: OriginalUri,
    Path(id): Path<i64>,
) -> Result<Response, AppError> {
    let m = member_in_reach(&state, &me, id).await?;
    let card_no = m.card_no.clone().ok_or(AppError::NotFound)?;
    let svg = qrcode::QrCode::new(card_no.as_bytes())
        .map(|q| {
            q.render::<qrcode::render::svg::Color>()
                .min_dimensions(120, 120)
                .build()
        })
        .map_err(|e| AppError::Internal(format!("qr: {e}")))?;
    html(&CardPage {
        tr,
        f: Frame::new(&state, &me, tr, &here(&uri), "tree").await?,
        m,
        card_no,
        svg,
    })
}

/// A card reported lost, revoked, or reissued (the old one is refused from then on).
async fn card_action(
    State(state): State<AppState>,
    Auth(me): Auth,
    Path((id, action)): Path<(i64, String)>,
) -> Result<Response, AppError> {
    state.db.member(me.scope(), id).await?;
    require_manager(&me)?;
    let now = state.clock.now_ms();
    match action.as_str() {
        "lost" => state.db.end_card(&me.actor, id, "lost", now).await?,
        "revoke" => state.db.end_card(&me.actor, id, "revoked", now).await?,
        "reissue" => {
            state.db.reissue_card(&me.actor, id, now).await?;
        }
        _ => return Err(AppError::NotFound),
    }
    Ok(Redirect::to(&format!("/members/{id}")).into_response())
}

#[derive(Template)]
#[template(path = "member/transfer.html")]
struct TransferPage {
    tr: Tr,
    f: Frame,
    m: Member,
    to: String,
    reason: String,
    errors: Vec<FieldError>,
}

impl TransferPage {
    fn error_for(&self, field: &str) -> String {
        crate::form::errors_of(&self.errors, field)
    }
}

async fn transfer_form(
    State(state): State<AppState>,
    Auth(me): Auth,
    tr: Tr,
    uri: OriginalUri,
    Path(id): Path<i64>,
) -> Result<Response, AppError> {
    let m = state.db.member(me.scope(), id).await?;
    require_manager(&me)?;
    html(&TransferPage {
        tr,
        f: Frame::new(&state, &me, tr, &here(&uri), "tree").await?,
        m,
        to: String::new(),
        reason: String::new(),
        errors: Vec::new(),
    })
}

#[derive(Deserialize)]
struct TransferForm {
    #[serde(default)]
    to: String,
    #[serde(default)]
    reason: String,
}

async fn transfer(
    State(state): State<AppState>,
    Auth(me): Auth,
    tr: Tr,
    uri: OriginalUri,
    Path(id): Path<i64>,
    Form(form): Form<TransferForm>,
) -> Result<Response, AppError> {
    let m = state.db.member(me.scope(), id).await?;
    require_manager(&me)?;
    let result = match OrgCode::parse(&form.to) {
        Ok(to) => {
            state
                .db
                .transfer_member(&me.actor, id, &to, &form.reason, state.clock.now_ms())
                .await
        }
        Err(e) => Err(StoreError::Invalid(e.msg())),
    };
    let m2 = match result {
        Ok(_) => return Ok(Redirect::to(&format!("/members/{id}")).into_response()),
        Err(StoreError::Invalid(msg)) => msg,
        Err(e) => return Err(e.into()),
    };
    let field = if m2.key.starts_with("org.error.reason") {
        "reason"
    } else {
        "to"
    };
    let errors = vec![FieldError {
        field,
        message: tr.msg(&m2),
    }];
    let mut res = html(&TransferPage {
        tr,
        f: Frame::new(&state, &me, tr, &here(&uri), "tree").await?,
        m,
        to: form.to,
        reason: form.reason,
        errors,
    })?;
    *res.status_mut() = StatusCode::UNPROCESSABLE_ENTITY;
    Ok(res)
}

/// The roster sheet's columns: field and Chinese header.
pub const MEMBER_COLUMNS: [(&str, &str); 10] = [
    ("name", "姓名"),
    ("gender", "性别"),
    ("birth_date", "出生日期"),
    ("id_number", "身份证号"),
    ("phone", "手机号"),
    ("home_org", "组织关系所在地代码"),
    ("joined", "入党日期"),
    ("workplace", "工作单位"),
    ("mobile", "流动党员"),
    ("mobile_where", "流动去向"),
];

async fn export(
    State(state): State<AppState>,
    Auth(me): Auth,
    CodeParam(code): CodeParam,
) -> Result<Response, AppError> {
    let members = state
        .db
        .members_under(me.scope(), &code, "", 1_000_000, 0)
        .await?;
    let xerr = |e: rust_xlsxwriter::XlsxError| AppError::Internal(format!("xlsx: {e}"));
    let mut wb = rust_xlsxwriter::Workbook::new();
    let ws = wb.add_worksheet();
    ws.set_name("党员名册").map_err(xerr)?;
    let bold = rust_xlsxwriter::Format::new().set_bold();
    for (c, (_, h)) in MEMBER_COLUMNS.iter().enumerate() {
        ws.write_string_with_format(0, c as u16, *h, &bold)
            .map_err(xerr)?;
    }
    for (i, m) in members.iter().enumerate() {
        let r = (i + 1) as u32;
        let gender = Gender::parse(&m.gender).map(Gender::zh).unwrap_or("");
        // Personal data leaves the system masked.
        let cells = [
            m.name.as_str(),
            gender,
            m.birth_date.as_str(),
            m.id_masked.as_str(),
            m.phone_masked.as_deref().unwrap_or(""),
            m.home_org.as_str(),
            m.joined.as_str(),
            m.workplace.as_deref().unwrap_or(""),
            if m.mobile { "是" } else { "否" },
            m.mobile_where.as_deref().unwrap_or(""),
        ];
        for (c, v) in cells.iter().enumerate() {
            ws.write_string(r, c as u16, *v).map_err(xerr)?;
        }
    }
    let bytes = wb.save_to_buffer().map_err(xerr)?;
    crate::excel::xlsx_response(bytes, &format!("members-{code}.xlsx"))
}

#[derive(Template)]
#[template(path = "member/import.html")]
struct ImportPage {
    tr: Tr,
    f: Frame,
    org: Node,
    done: bool,
    committed: bool,
    created: usize,
    file_error: Option<String>,
    report: Vec<ReportRow>,
}

async fn import_form(
    State(state): State<AppState>,
    Auth(me): Auth,
    tr: Tr,
    uri: OriginalUri,
    CodeParam(code): CodeParam,
) -> Result<Response, AppError> {
    let node = state.db.org(me.scope(), &code).await?;
    require_manager(&me)?;
    html(&ImportPage {
        tr,
        f: Frame::new(&state, &me, tr, &here(&uri), "tree").await?,
        org: node,
        done: false,
        committed: false,
        created: 0,
        file_error: None,
        report: Vec::new(),
    })
}

/// Rows of the roster sheet, parsed; bad cells reported by row (the sheet's) and column.
fn member_rows(table: &[Vec<String>]) -> (Vec<(usize, NewMember)>, Vec<ImportError>) {
    let mut errors = Vec::new();
    let Some(header) = table.first() else {
        return (
            Vec::new(),
            vec![ImportError {
                row: 1,
                column: "name",
                msg: Msg::new("import.error.empty"),
            }],
        );
    };
    let mut idx = [usize::MAX; 10];
    for (k, (field, zh)) in MEMBER_COLUMNS.iter().enumerate() {
        match header.iter().position(|h| h == zh || h == field) {
            Some(i) => idx[k] = i,
            None if matches!(*field, "phone" | "workplace" | "mobile" | "mobile_where") => {}
            None => errors.push(ImportError {
                row: 1,
                column: field,
                msg: Msg::new("import.error.missing_column").arg("column", zh),
            }),
        }
    }
    if !errors.is_empty() {
        return (Vec::new(), errors);
    }
    let cell = |row: &Vec<String>, k: usize| {
        idx.get(k)
            .and_then(|&i| row.get(i))
            .cloned()
            .unwrap_or_default()
    };
    let mut good = Vec::new();
    for (i, row) in table.iter().enumerate().skip(1) {
        if row.iter().all(String::is_empty) {
            continue;
        }
        let input = MemberInput {
            name: cell(row, 0),
            gender: cell(row, 1),
            birth_date: cell(row, 2),
            id_number: cell(row, 3),
            phone: cell(row, 4),
            home_org: cell(row, 5),
            joined: cell(row, 6),
            workplace: cell(row, 7),
            mobile: cell(row, 8),
            mobile_where: cell(row, 9),
        };
        match parse_member(&input) {
            Ok(m) => good.push((i + 1, m)),
            Err(errs) => errors.extend(errs.into_iter().map(|(column, msg)| ImportError {
                row: i + 1,
                column,
                msg,
            })),
        }
    }
    (good, errors)
}

fn header_of(field: &str) -> &'static str {
    MEMBER_COLUMNS
        .iter()
        .find(|(f, _)| *f == field)
        .map(|(_, h)| *h)
        .unwrap_or("")
}

async fn import(
    State(state): State<AppState>,
    Auth(me): Auth,
    tr: Tr,
    uri: OriginalUri,
    CodeParam(code): CodeParam,
    mut multipart: Multipart,
) -> Result<Response, AppError> {
    let node = state.db.org(me.scope(), &code).await?;
    require_manager(&me)?;
    let (file, mode) = crate::excel::read_upload(&mut multipart).await?;
    let mut page = ImportPage {
        tr,
        f: Frame::new(&state, &me, tr, &here(&uri), "tree").await?,
        org: node,
        done: true,
        committed: false,
        created: 0,
        file_error: None,
        report: Vec::new(),
    };
    let table = if file.is_empty() {
        Err(Msg::new("import.error.no_file"))
    } else {
        crate::excel::read_first_sheet(&file)
    };
    let status = match table {
        Err(m) => {
            page.file_error = Some(format!(
                "{} / {}",
                Tr::new(Lang::Zh).msg(&m),
                Tr::new(Lang::En).msg(&m)
            ));
            StatusCode::UNPROCESSABLE_ENTITY
        }
        Ok(table) => {
            let (rows, errors) = member_rows(&table);
            let out = state
                .db
                .import_members(
                    &me.actor,
                    &state.vault,
                    rows,
                    errors,
                    mode,
                    state.clock.now_ms(),
                )
                .await?;
            page.committed = out.committed;
            page.created = out.created;
            page.report = crate::form::report_rows_with(&out.errors, header_of);
            if out.errors.is_empty() {
                StatusCode::OK
            } else {
                StatusCode::UNPROCESSABLE_ENTITY
            }
        }
    };
    let mut res = html(&page)?;
    *res.status_mut() = status;
    Ok(res)
}

/// A member as the API shows it: personal data masked.
#[derive(Serialize, utoipa::ToSchema)]
pub struct MemberView {
    pub id: i64,
    pub name: String,
    /// `F` or `M`.
    pub gender: String,
    pub birth_date: String,
    pub id_number: String,
    pub phone: Option<String>,
    pub home_org: String,
    pub joined: String,
    pub workplace: Option<String>,
    pub mobile: bool,
    pub card_no: Option<String>,
}

impl From<Member> for MemberView {
    fn from(m: Member) -> Self {
        Self {
            id: m.id,
            name: m.name,
            gender: m.gender,
            birth_date: m.birth_date,
            id_number: m.id_masked,
            phone: m.phone_masked,
            home_org: m.home_org,
            joined: m.joined,
            workplace: m.workplace,
            mobile: m.mobile,
            card_no: m.card_no,
        }
    }
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct Created {
    pub id: i64,
    pub card_no: String,
}

/// Adds a member (admins and village secretaries, home organization in scope); issues a card.
#[utoipa::path(post, path = "/api/v1/members", request_body = MemberInputDoc,
    responses((status = 201, body = Created), (status = 422, body = crate::error::ErrorBody), (status = 403, body = crate::error::ErrorBody)))]
pub(crate) async fn api_create(
    State(state): State<AppState>,
    Auth(me): Auth,
    tr: Tr,
    Json(input): Json<MemberInput>,
) -> Result<Response, AppError> {
    require_manager(&me)?;
    let new = parse_member(&input).map_err(|errs| {
        // All problems in one message, field by field.
        let text = errs
            .iter()
            .map(|(f, m)| format!("{f}: {}", tr.msg(m)))
            .collect::<Vec<_>>()
            .join("; ");
        AppError::Invalid(Msg::new("member.error.fields").arg("details", text))
    })?;
    let m = state
        .db
        .create_member(&me.actor, &state.vault, new, state.clock.now_ms())
        .await?;
    let card_no = m.card_no.clone().unwrap_or_default();
    Ok((StatusCode::CREATED, Json(Created { id: m.id, card_no })).into_response())
}

/// The documented shape of a new member (`MemberInput`).
#[derive(utoipa::ToSchema)]
#[allow(dead_code)]
pub struct MemberInputDoc {
    name: String,
    /// `F` or `M`
    gender: String,
    /// `YYYY-MM-DD`
    birth_date: String,
    /// 18 characters, GB 11643 check digit
    id_number: String,
    phone: Option<String>,
    /// code of the home organization
    home_org: String,
    /// `YYYY-MM-DD`
    joined: String,
    workplace: Option<String>,
}

#[utoipa::path(get, path = "/api/v1/members/{id}", params(("id" = i64, Path)), responses((status = 200, body = MemberView), (status = 404, body = crate::error::ErrorBody)))]
pub(crate) async fn api_get(
    State(state): State<AppState>,
    Auth(me): Auth,
    Path(id): Path<i64>,
) -> Result<Json<MemberView>, AppError> {
    Ok(Json(member_in_reach(&state, &me, id).await?.into()))
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct MemberItems {
    pub items: Vec<MemberView>,
}

#[utoipa::path(get, path = "/api/v1/orgs/{code}/members", params(("code" = String, Path), ("page" = Option<i64>, Query)), responses((status = 200, body = MemberItems), (status = 404, body = crate::error::ErrorBody)))]
pub(crate) async fn api_roster(
    State(state): State<AppState>,
    Auth(me): Auth,
    CodeParam(code): CodeParam,
    Query(q): Query<RosterQuery>,
) -> Result<Json<MemberItems>, AppError> {
    let page = q.page.unwrap_or(1).clamp(1, 1_000_000);
    let members = state
        .db
        .members_under(me.scope(), &code, &q.q, PAGE, (page - 1) * PAGE)
        .await?;
    Ok(Json(MemberItems {
        items: members.into_iter().map(Into::into).collect(),
    }))
}
