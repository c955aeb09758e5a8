//! Members in the JSON API.

use super::*;

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
    /// `YYYY-MM-DD`, or `YYYY-MM` where the register gives only the month.
    pub joined: String,
    /// When the member became a full member (转正), as `joined`; absent while on probation.
    pub confirmed: Option<String>,
    pub workplace: Option<String>,
    pub mobile: bool,
    /// `active` (on the roster), `transferred_out`, `suspended` or `deceased`.
    pub status: String,
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
            confirmed: m.confirmed,
            workplace: m.workplace,
            mobile: m.mobile,
            status: m.status,
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
    /// `YYYY-MM-DD`, or `YYYY-MM` (also `1974年7月`, `1974.07`): kept to the precision given
    joined: String,
    /// 转正日期, as `joined`; optional
    confirmed: Option<String>,
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

#[utoipa::path(get, path = "/api/v1/orgs/{code}/members", params(("code" = String, Path), ("page" = Option<i64>, Query), ("part" = Option<String>, Query, description = "`current` (default: on the roster), `mobile` (the register of mobile members) or `former` (off the roster)")), responses((status = 200, body = MemberItems), (status = 404, body = crate::error::ErrorBody)))]
pub(crate) async fn api_roster(
    State(state): State<AppState>,
    Auth(me): Auth,
    CodeParam(code): CodeParam,
    Query(q): Query<RosterQuery>,
) -> Result<Json<MemberItems>, AppError> {
    let page = q.page.unwrap_or(1).clamp(1, 1_000_000);
    let members = state
        .db
        .roster_part(me.scope(), &code, q.part()?, &q.q, PAGE, (page - 1) * PAGE)
        .await?;
    Ok(Json(MemberItems {
        items: members.into_iter().map(Into::into).collect(),
    }))
}

/// One bad cell of an import, as the API reports it (the message in the caller's language).
#[derive(Serialize, utoipa::ToSchema)]
pub struct ImportErrorView {
    /// The spreadsheet's own row number.
    pub row: usize,
    /// The column's header in the platform's template (`身份证号`, …).
    pub column: String,
    pub message: String,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct ImportResultView {
    pub created: usize,
    pub errors: Vec<ImportErrorView>,
}

/// Imports a roster (multipart: `file`, optional `mode` = `all` | `good_rows`) into the node and
/// below, read as officials' sheets are (title lines, their own header words, names for
/// organizations). With `all`, any error rejects the file: 422, `created` 0, nothing written.
#[utoipa::path(post, path = "/api/v1/orgs/{code}/members/import", params(("code" = String, Path)),
    responses((status = 200, body = ImportResultView), (status = 422, body = ImportResultView), (status = 404, body = crate::error::ErrorBody)))]
pub(crate) async fn api_import(
    State(state): State<AppState>,
    Auth(me): Auth,
    tr: Tr,
    CodeParam(code): CodeParam,
    mut multipart: axum::extract::Multipart,
) -> Result<Response, AppError> {
    let node = state.db.org(me.scope(), &code).await?;
    let crate::excel::Upload { file, mode, .. } =
        crate::excel::read_upload(&mut multipart, crate::state::MAX_ROSTER_UPLOAD_BYTES).await?;
    let out = match import_file(&state, &me, &node, file, mode).await? {
        Ok(out) => out,
        Err(m) => return Err(AppError::Invalid(m)),
    };
    // Good rows only: what was importable is in, the rest reported; all or nothing: a file with
    // any error is refused whole.
    let status =
        if mode == baiqian_store::import::ImportMode::AllOrNothing && !out.errors.is_empty() {
            StatusCode::UNPROCESSABLE_ENTITY
        } else {
            StatusCode::OK
        };
    let body = ImportResultView {
        created: out.created,
        errors: out
            .errors
            .iter()
            .map(|e| ImportErrorView {
                row: e.row,
                column: header_of(e.column).to_string(),
                message: tr.msg(&e.msg),
            })
            .collect(),
    };
    Ok((status, Json(body)).into_response())
}

/// A job just started: where to follow it.
#[derive(Serialize, utoipa::ToSchema)]
pub struct JobStarted {
    pub id: i64,
    /// `GET` it for the progress and, once done, the outcome.
    pub url: String,
}

fn job_started(id: i64) -> Response {
    (
        StatusCode::ACCEPTED,
        Json(JobStarted {
            id,
            url: format!("/api/v1/jobs/{id}"),
        }),
    )
        .into_response()
}

/// Starts importing a roster (multipart: `file`, optional `mode`) as a job, for files too large
/// to wait for: `202` with the job to follow at `/api/v1/jobs/{id}`.
#[utoipa::path(post, path = "/api/v1/orgs/{code}/members/import-jobs", params(("code" = String, Path)),
    responses((status = 202, body = JobStarted), (status = 404, body = crate::error::ErrorBody)))]
pub(crate) async fn api_import_job(
    State(state): State<AppState>,
    Auth(me): Auth,
    CodeParam(code): CodeParam,
    mut multipart: axum::extract::Multipart,
) -> Result<Response, AppError> {
    let node = state.db.org(me.scope(), &code).await?;
    require_manager(&me)?;
    let crate::excel::Upload { file, mode, .. } =
        crate::excel::read_upload(&mut multipart, crate::state::MAX_ROSTER_UPLOAD_BYTES).await?;
    let file = crate::excel::upload::require(file).map_err(AppError::Invalid)?;
    Ok(job_started(
        start_import_job(&state, &me, &node, file, mode).await?,
    ))
}

/// Starts exporting the roster under the node as a job: `202`; the job's `download` names the
/// file once it is done.
#[utoipa::path(post, path = "/api/v1/orgs/{code}/members/export-jobs", params(("code" = String, Path)),
    responses((status = 202, body = JobStarted), (status = 404, body = crate::error::ErrorBody)))]
pub(crate) async fn api_export_job(
    State(state): State<AppState>,
    Auth(me): Auth,
    tr: Tr,
    CodeParam(code): CodeParam,
) -> Result<Response, AppError> {
    let node = state.db.org(me.scope(), &code).await?;
    Ok(job_started(start_export_job(&state, &me, tr, &node).await?))
}
