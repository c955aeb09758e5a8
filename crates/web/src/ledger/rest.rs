//! The ledger's work through the API, so that a phone app or another system does what the pages
//! do: report a problem, take its steps, change its plan, read it with its history; log and list
//! visits. Every call goes through the same store functions as the page, so scope, roles, the
//! four-eyes rule and validation are the same, and a refused call writes nothing.

use axum::http::StatusCode;

use super::api::ProblemItem;
use super::problems::{PlanForm, ProblemForm, StepForm, place_under};
use super::*;

/// `201` with the new record's id.
#[derive(Serialize, utoipa::ToSchema)]
pub struct CreatedId {
    pub id: i64,
}

/// A problem as reported: the same fields as the board's form.
#[derive(Deserialize, utoipa::ToSchema)]
#[allow(dead_code)]
pub struct NewProblemDoc {
    /// The village's code, under the node of the path.
    village: String,
    /// `survey`, `visit`, `rating` or `other` (`other` when left out).
    source: Option<String>,
    /// The standard item it falls short of, if any.
    item_code: Option<String>,
    item_group: Option<String>,
    description: String,
    owner_name: String,
    /// The owner's account, when they have one.
    owner_login: Option<String>,
    measures: String,
    /// `YYYY-MM-DD`.
    deadline: String,
    /// `YYYY-MM-DD`; today when empty.
    found_on: Option<String>,
}

#[utoipa::path(post, path = "/api/v1/orgs/{code}/problems", params(("code" = String, Path)), request_body = NewProblemDoc,
    responses((status = 201, body = CreatedId), (status = 403), (status = 404), (status = 422, body = crate::error::ErrorBody)))]
pub(crate) async fn api_create_problem(
    State(state): State<AppState>,
    Auth(me): Auth,
    CodeParam(code): CodeParam,
    Json(mut form): Json<ProblemForm>,
) -> Result<Response, AppError> {
    let org = state.db.org(me.scope(), &code).await?;
    if form.source.trim().is_empty() {
        form.source = ProblemSource::Other.as_str().into();
    }
    place_under(&state, &me, &org, &form.village).await?;
    let id = state
        .db
        .create_problem(&me.actor, &form.into_new("", None), state.clock.now_ms())
        .await?;
    Ok((StatusCode::CREATED, Json(CreatedId { id })).into_response())
}

/// One step of a problem's history.
#[derive(Serialize, utoipa::ToSchema)]
pub struct ProblemStepView {
    /// Milliseconds since 1970.
    pub at: i64,
    pub login: String,
    /// `found`, `start`, `rectify`, `verify`, `reopen`, `plan`, `import`.
    pub step: String,
    pub from_status: String,
    pub to_status: String,
    pub note: String,
}

/// A problem with its plan and history.
#[derive(Serialize, utoipa::ToSchema)]
pub struct ProblemView {
    #[serde(flatten)]
    pub item: ProblemItem,
    pub measures: String,
    pub found_on: String,
    pub source: String,
    pub item_code: Option<String>,
    pub steps: Vec<ProblemStepView>,
}

async fn problem_view(
    state: &AppState,
    me: &CurrentUser,
    id: i64,
) -> Result<ProblemView, AppError> {
    let (p, updates, _) = state.db.problem(me.scope(), id).await?;
    Ok(ProblemView {
        measures: p.measures.clone(),
        found_on: p.found_on.clone(),
        source: p.source.as_str().to_string(),
        item_code: p.item_code.clone(),
        steps: updates
            .into_iter()
            .map(|u| ProblemStepView {
                at: u.at,
                login: u.login,
                step: u.step,
                from_status: u.from_status,
                to_status: u.to_status,
                note: u.note,
            })
            .collect(),
        item: p.into(),
    })
}

#[utoipa::path(get, path = "/api/v1/problems/{id}", params(("id" = i64, Path)),
    responses((status = 200, body = ProblemView), (status = 404)))]
pub(crate) async fn api_problem(
    State(state): State<AppState>,
    Auth(me): Auth,
    Path(id): Path<i64>,
) -> Result<Json<ProblemView>, AppError> {
    Ok(Json(problem_view(&state, &me, id).await?))
}

/// A step: `start` or `rectify` (the village's work), `verify` or `reopen` (the check above).
#[derive(Deserialize, utoipa::ToSchema)]
#[allow(dead_code)]
pub struct StepDoc {
    step: String,
    note: Option<String>,
}

async fn api_take_step(
    state: &AppState,
    me: &CurrentUser,
    id: i64,
    form: StepForm,
    checks: bool,
) -> Result<Json<ProblemView>, AppError> {
    let step = form.step(checks)?;
    state
        .db
        .problem_step(&me.actor, id, step, &form.note, state.clock.now_ms())
        .await?;
    Ok(Json(problem_view(state, me, id).await?))
}

#[utoipa::path(post, path = "/api/v1/problems/{id}/steps", params(("id" = i64, Path)), request_body = StepDoc,
    responses((status = 200, body = ProblemView), (status = 403), (status = 404), (status = 422, body = crate::error::ErrorBody)))]
pub(crate) async fn api_step(
    State(state): State<AppState>,
    Auth(me): Auth,
    Path(id): Path<i64>,
    Json(form): Json<StepForm>,
) -> Result<Json<ProblemView>, AppError> {
    api_take_step(&state, &me, id, form, false).await
}

#[utoipa::path(post, path = "/api/v1/problems/{id}/checks", params(("id" = i64, Path)), request_body = StepDoc,
    responses((status = 200, body = ProblemView), (status = 403), (status = 404), (status = 422, body = crate::error::ErrorBody)))]
pub(crate) async fn api_check(
    State(state): State<AppState>,
    Auth(me): Auth,
    Path(id): Path<i64>,
    Json(form): Json<StepForm>,
) -> Result<Json<ProblemView>, AppError> {
    api_take_step(&state, &me, id, form, true).await
}

/// A new owner, measures or deadline; a later deadline says why and waits for the level above.
#[derive(Deserialize, utoipa::ToSchema)]
#[allow(dead_code)]
pub struct PlanDoc {
    owner_name: Option<String>,
    owner_login: Option<String>,
    measures: Option<String>,
    /// `YYYY-MM-DD`.
    deadline: Option<String>,
    /// Required when the deadline moves later.
    deadline_reason: Option<String>,
}

/// The problem after the change, and whether a later deadline was filed as a request.
#[derive(Serialize, utoipa::ToSchema)]
pub struct PlanResult {
    pub extension_requested: bool,
    pub problem: ProblemView,
}

#[utoipa::path(post, path = "/api/v1/problems/{id}/plan", params(("id" = i64, Path)), request_body = PlanDoc,
    responses((status = 200, body = PlanResult), (status = 403), (status = 404), (status = 422, body = crate::error::ErrorBody)))]
pub(crate) async fn api_plan(
    State(state): State<AppState>,
    Auth(me): Auth,
    Path(id): Path<i64>,
    Json(form): Json<PlanForm>,
) -> Result<Json<PlanResult>, AppError> {
    let out = state
        .db
        .plan_problem(&me.actor, id, &form.into_plan(), state.clock.now_ms())
        .await?;
    Ok(Json(PlanResult {
        extension_requested: out.extension.is_some(),
        problem: problem_view(&state, &me, id).await?,
    }))
}

/// `GET /api/v1/orgs/{code}/visits` query.
#[derive(Deserialize)]
pub(crate) struct VisitsQuery {
    leader: Option<i64>,
    /// From 1; 50 a page.
    page: Option<i64>,
}

/// One visit of the log.
#[derive(Serialize, utoipa::ToSchema)]
pub struct VisitItem {
    pub id: i64,
    pub leader_id: i64,
    pub leader: String,
    pub visited_on: String,
    pub place: String,
    pub place_name: String,
    /// `village` or `township`.
    pub place_level: String,
    /// `research`, `guidance`, `contact_point`, `inspection` ….
    pub kind: String,
    pub findings: String,
    /// Problems recorded from its findings.
    pub problems: i64,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct VisitItems {
    /// Visits under the node (of the leader asked for) over every page.
    pub total: i64,
    pub page: i64,
    pub per_page: i64,
    pub items: Vec<VisitItem>,
}

const VISITS_PER_PAGE: i64 = 50;

#[utoipa::path(get, path = "/api/v1/orgs/{code}/visits",
    params(("code" = String, Path), ("leader" = Option<i64>, Query), ("page" = Option<i64>, Query, description = "from 1; 50 a page")),
    responses((status = 200, body = VisitItems), (status = 404), (status = 422)))]
pub(crate) async fn api_visits(
    State(state): State<AppState>,
    Auth(me): Auth,
    CodeParam(code): CodeParam,
    Query(q): Query<VisitsQuery>,
) -> Result<Json<VisitItems>, AppError> {
    let org = state.db.org(me.scope(), &code).await?;
    let page = q.page.unwrap_or(1);
    if !(1..=100_000).contains(&page) {
        return Err(AppError::Invalid(baiqian_domain::Msg::new("error.page")));
    }
    let total = state.db.count_visits_under(&org, q.leader).await?;
    let items = state
        .db
        .visits_under(
            &org,
            q.leader,
            (VISITS_PER_PAGE, (page - 1) * VISITS_PER_PAGE),
        )
        .await?
        .into_iter()
        .map(|v| VisitItem {
            id: v.id,
            leader_id: v.leader_id,
            leader: v.leader_name,
            visited_on: v.visited_on,
            place: v.place_code,
            place_name: v.place_name,
            place_level: v.place_level,
            kind: v.kind.as_str().to_string(),
            findings: v.findings,
            problems: v.problems,
        })
        .collect();
    Ok(Json(VisitItems {
        total,
        page,
        per_page: VISITS_PER_PAGE,
        items,
    }))
}

/// A visit as logged.
#[derive(Deserialize, utoipa::ToSchema)]
pub struct NewVisitBody {
    pub leader_id: i64,
    /// `YYYY-MM-DD`.
    pub visited_on: String,
    /// The code of the village or township visited, under the node of the path.
    pub place: String,
    pub kind: String,
    pub findings: String,
}

#[utoipa::path(post, path = "/api/v1/orgs/{code}/visits", params(("code" = String, Path)), request_body = NewVisitBody,
    responses((status = 201, body = CreatedId), (status = 403), (status = 404), (status = 422, body = crate::error::ErrorBody)))]
pub(crate) async fn api_log_visit(
    State(state): State<AppState>,
    Auth(me): Auth,
    CodeParam(code): CodeParam,
    Json(b): Json<NewVisitBody>,
) -> Result<Response, AppError> {
    let org = state.db.org(me.scope(), &code).await?;
    place_under(&state, &me, &org, &b.place).await?;
    let new = NewVisit {
        leader_id: b.leader_id,
        visited_on: b.visited_on,
        place: b.place,
        kind: b.kind,
        findings: b.findings,
    };
    let id = state
        .db
        .log_visit(&me.actor, &new, state.clock.now_ms())
        .await?;
    Ok((StatusCode::CREATED, Json(CreatedId { id })).into_response())
}

/// A survey (排摸) of a township's villages with its progress.
#[derive(Serialize, utoipa::ToSchema)]
pub struct SurveyItem {
    pub id: i64,
    pub township: String,
    pub township_name: String,
    pub title: String,
    pub basis: String,
    pub started_on: String,
    /// Villages to survey, of them surveyed, and the problems found.
    pub villages: i64,
    pub done: i64,
    pub problems: i64,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct SurveyItems {
    pub items: Vec<SurveyItem>,
}

#[utoipa::path(get, path = "/api/v1/orgs/{code}/surveys", params(("code" = String, Path)),
    responses((status = 200, body = SurveyItems), (status = 404)))]
pub(crate) async fn api_surveys(
    State(state): State<AppState>,
    Auth(me): Auth,
    CodeParam(code): CodeParam,
) -> Result<Json<SurveyItems>, AppError> {
    let org = state.db.org(me.scope(), &code).await?;
    let items = state
        .db
        .surveys_under(&org)
        .await?
        .into_iter()
        .map(|s| SurveyItem {
            id: s.id,
            township: s.township_code,
            township_name: s.township_name,
            title: s.title,
            basis: s.basis,
            started_on: s.started_on,
            villages: s.villages,
            done: s.done,
            problems: s.problems,
        })
        .collect();
    Ok(Json(SurveyItems { items }))
}

/// A leader serving under a node, with the places they guide.
#[derive(Serialize, utoipa::ToSchema)]
pub struct LeaderItem {
    pub id: i64,
    pub name: String,
    pub title: String,
    /// The node they serve at.
    pub org: String,
    pub org_name: String,
    /// Whether an account speaks for them (and logs their visits).
    pub has_account: bool,
    /// The townships and villages they guide: codes.
    pub areas: Vec<String>,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct LeaderItems {
    pub items: Vec<LeaderItem>,
}

#[utoipa::path(get, path = "/api/v1/orgs/{code}/leaders", params(("code" = String, Path)),
    responses((status = 200, body = LeaderItems), (status = 404)))]
pub(crate) async fn api_leaders(
    State(state): State<AppState>,
    Auth(me): Auth,
    CodeParam(code): CodeParam,
) -> Result<Json<LeaderItems>, AppError> {
    let org = state.db.org(me.scope(), &code).await?;
    let items = state
        .db
        .leaders_under(&org)
        .await?
        .into_iter()
        .map(|l| LeaderItem {
            id: l.id,
            name: l.name,
            title: l.title,
            org: l.org_code,
            org_name: l.org_name,
            has_account: l.user_id.is_some(),
            areas: l.areas.into_iter().map(|(code, _)| code).collect(),
        })
        .collect();
    Ok(Json(LeaderItems { items }))
}
