//! Keeping a member's record over time: correcting the phone, workplace and mobile flag, and
//! recording a change of standing (转出、停止党籍、去世, back onto the roster), on the page and
//! in the API.

use baiqian_domain::member::MemberStatus;
use baiqian_store::member::MemberEdit;

use super::*;

#[derive(Template)]
#[template(path = "member/edit.html")]
pub(super) struct EditPage {
    tr: Tr,
    f: Frame,
    m: Member,
    form: EditForm,
    status: StatusForm,
    /// The standings this member's may change to.
    choices: Vec<&'static str>,
    errors: Vec<FieldError>,
}

impl EditPage {
    fn error_for(&self, field: &str) -> String {
        crate::form::errors_of(&self.errors, field)
    }
    fn status_name(&self, s: &str) -> String {
        self.tr.word("member.status", s)
    }
}

#[derive(Deserialize, Default)]
pub(super) struct EditForm {
    /// Empty keeps the phone on record.
    #[serde(default)]
    phone: String,
    #[serde(default)]
    clear_phone: String,
    #[serde(default)]
    workplace: String,
    #[serde(default)]
    mobile: String,
    #[serde(default)]
    mobile_where: String,
}

impl EditForm {
    /// The form as the record stands (the phone left empty: it is shown masked).
    fn of(m: &Member) -> Self {
        EditForm {
            workplace: m.workplace.clone().unwrap_or_default(),
            mobile: if m.mobile { "1".into() } else { String::new() },
            mobile_where: m.mobile_where.clone().unwrap_or_default(),
            ..EditForm::default()
        }
    }
}

#[derive(Deserialize, Default)]
pub(super) struct StatusForm {
    #[serde(default)]
    status: String,
    #[serde(default)]
    on_date: String,
    #[serde(default)]
    reason: String,
}

fn choices(m: &Member) -> Vec<&'static str> {
    let from = MemberStatus::parse(&m.status);
    MemberStatus::ALL
        .into_iter()
        .filter(|to| from.is_some_and(|f| f.may_become(*to)))
        .map(MemberStatus::as_str)
        .collect()
}

async fn editable(state: &AppState, me: &CurrentUser, id: i64) -> Result<Member, AppError> {
    let m = state.db.member(me.scope(), id).await?;
    require_manager(me)?;
    Ok(m)
}

async fn page(
    state: &AppState,
    me: &CurrentUser,
    tr: Tr,
    uri: &OriginalUri,
    m: Member,
    (form, status): (EditForm, StatusForm),
    errors: Vec<FieldError>,
) -> Result<Response, AppError> {
    let failed = !errors.is_empty();
    let mut res = html(&EditPage {
        tr,
        f: Frame::new(state, me, tr, &here(uri), "tree").await?,
        choices: choices(&m),
        m,
        form,
        status,
        errors,
    })?;
    if failed {
        *res.status_mut() = StatusCode::UNPROCESSABLE_ENTITY;
    }
    Ok(res)
}

pub(super) async fn edit_form(
    State(state): State<AppState>,
    Auth(me): Auth,
    tr: Tr,
    uri: OriginalUri,
    Path(id): Path<i64>,
) -> Result<Response, AppError> {
    let m = editable(&state, &me, id).await?;
    let form = EditForm::of(&m);
    page(
        &state,
        &me,
        tr,
        &uri,
        m,
        (form, StatusForm::default()),
        Vec::new(),
    )
    .await
}

/// The corrections as checked input, every bad field named.
fn parse_edit(form: &EditForm) -> Result<MemberEdit, Vec<(&'static str, Msg)>> {
    let mut errs = Vec::new();
    let phone = if matches!(form.clear_phone.trim(), "1" | "on" | "true") {
        Some(None)
    } else if form.phone.trim().is_empty() {
        None
    } else {
        match Phone::parse(&form.phone) {
            Ok(p) => Some(Some(p)),
            Err(e) => {
                errs.push(("phone", e.msg()));
                None
            }
        }
    };
    let text = |field: &'static str, v: &str, errs: &mut Vec<(&'static str, Msg)>| {
        if v.trim().is_empty() {
            None
        } else {
            org::parse_name(v)
                .map_err(|e| errs.push((field, e.msg())))
                .ok()
        }
    };
    let workplace = text("workplace", &form.workplace, &mut errs);
    let mobile_where = text("mobile_where", &form.mobile_where, &mut errs);
    if errs.is_empty() {
        Ok(MemberEdit {
            phone,
            workplace,
            mobile: matches!(form.mobile.trim(), "1" | "on" | "true" | "是"),
            mobile_where,
        })
    } else {
        Err(errs)
    }
}

fn field_errors(tr: Tr, errs: Vec<(&'static str, Msg)>) -> Vec<FieldError> {
    errs.into_iter()
        .map(|(field, m)| FieldError {
            field,
            message: tr.msg(&m),
        })
        .collect()
}

pub(super) async fn edit(
    State(state): State<AppState>,
    Auth(me): Auth,
    tr: Tr,
    uri: OriginalUri,
    Path(id): Path<i64>,
    Form(form): Form<EditForm>,
) -> Result<Response, AppError> {
    let m = editable(&state, &me, id).await?;
    let errs = match parse_edit(&form) {
        Ok(e) => match state
            .db
            .edit_member(&me.actor, &state.vault, id, &e, state.clock.now_ms())
            .await
        {
            Ok(_) => return Ok(Redirect::to(&format!("/members/{id}")).into_response()),
            Err(StoreError::Invalid(msg)) => vec![("phone", msg)],
            Err(e) => return Err(e.into()),
        },
        Err(errs) => errs,
    };
    let errors = field_errors(tr, errs);
    page(
        &state,
        &me,
        tr,
        &uri,
        m,
        (form, StatusForm::default()),
        errors,
    )
    .await
}

pub(super) async fn change_status(
    State(state): State<AppState>,
    Auth(me): Auth,
    tr: Tr,
    uri: OriginalUri,
    Path(id): Path<i64>,
    Form(form): Form<StatusForm>,
) -> Result<Response, AppError> {
    let m = editable(&state, &me, id).await?;
    let result = match MemberStatus::parse(&form.status) {
        Some(to) => {
            state
                .db
                .change_member_status(
                    &me.actor,
                    id,
                    to,
                    &form.on_date,
                    &form.reason,
                    state.clock.now_ms(),
                )
                .await
        }
        None => Err(StoreError::Invalid(Msg::new("member.error.status_unknown"))),
    };
    let msg = match result {
        Ok(_) => return Ok(Redirect::to(&format!("/members/{id}")).into_response()),
        Err(StoreError::Invalid(msg)) => msg,
        Err(e) => return Err(e.into()),
    };
    let field = status_field(&msg);
    let errors = field_errors(tr, vec![(field, msg)]);
    let edit = EditForm::of(&m);
    page(&state, &me, tr, &uri, m, (edit, form), errors).await
}

/// The field of the standing form a refusal is about.
fn status_field(msg: &Msg) -> &'static str {
    if msg.key.starts_with("org.error.reason") {
        "reason"
    } else if msg.key.starts_with("member.error.record_date")
        || msg.key == "member.error.status_future"
        || msg.key == "member.error.status_before_joined"
    {
        "on_date"
    } else {
        "status"
    }
}

/// The corrections of a member's record in the API; a field left out keeps its value, an
/// empty phone removes it.
#[derive(Deserialize, utoipa::ToSchema)]
pub struct MemberEditBody {
    pub phone: Option<String>,
    pub workplace: Option<String>,
    pub mobile: Option<bool>,
    pub mobile_where: Option<String>,
}

#[utoipa::path(post, path = "/api/v1/members/{id}", params(("id" = i64, Path)), request_body = MemberEditBody,
    responses((status = 200, body = MemberView), (status = 404, body = crate::error::ErrorBody), (status = 422, body = crate::error::ErrorBody)))]
pub(crate) async fn api_edit(
    State(state): State<AppState>,
    Auth(me): Auth,
    tr: Tr,
    Path(id): Path<i64>,
    Json(b): Json<MemberEditBody>,
) -> Result<Json<MemberView>, AppError> {
    let m = editable(&state, &me, id).await?;
    let form = EditForm {
        clear_phone: if b.phone.as_deref().is_some_and(|p| p.trim().is_empty()) {
            "1".into()
        } else {
            String::new()
        },
        phone: b.phone.unwrap_or_default(),
        workplace: b.workplace.or(m.workplace).unwrap_or_default(),
        mobile: if b.mobile.unwrap_or(m.mobile) {
            "1".into()
        } else {
            String::new()
        },
        mobile_where: b.mobile_where.or(m.mobile_where).unwrap_or_default(),
    };
    let e = parse_edit(&form).map_err(|errs| {
        let text = errs
            .iter()
            .map(|(f, m)| format!("{f}: {}", tr.msg(m)))
            .collect::<Vec<_>>()
            .join("; ");
        AppError::Invalid(Msg::new("member.error.fields").arg("details", text))
    })?;
    let m = state
        .db
        .edit_member(&me.actor, &state.vault, id, &e, state.clock.now_ms())
        .await?;
    Ok(Json(m.into()))
}

/// A change of a member's standing in the API.
#[derive(Deserialize, utoipa::ToSchema)]
pub struct StatusBody {
    /// `active`, `transferred_out`, `suspended` or `deceased`.
    pub status: String,
    /// The day or month it took effect: `YYYY-MM-DD` or `YYYY-MM`.
    pub on_date: String,
    pub reason: String,
}

#[utoipa::path(post, path = "/api/v1/members/{id}/status", params(("id" = i64, Path)), request_body = StatusBody,
    responses((status = 200, body = MemberView), (status = 404, body = crate::error::ErrorBody), (status = 422, body = crate::error::ErrorBody)))]
pub(crate) async fn api_status(
    State(state): State<AppState>,
    Auth(me): Auth,
    Path(id): Path<i64>,
    Json(b): Json<StatusBody>,
) -> Result<Json<MemberView>, AppError> {
    editable(&state, &me, id).await?;
    let to = MemberStatus::parse(&b.status)
        .ok_or_else(|| AppError::Invalid(Msg::new("member.error.status_unknown")))?;
    let m = state
        .db
        .change_member_status(
            &me.actor,
            id,
            to,
            &b.on_date,
            &b.reason,
            state.clock.now_ms(),
        )
        .await?;
    Ok(Json(m.into()))
}
