//! A station's side for the public, without signing in (红管家 on a phone): the station's page
//! lists its services and takes a request (service, name, phone, where, when); the requester
//! is sent to their request's page under its follow-up code, where they see its state and,
//! once done, leave feedback. The same as JSON under `/api/v1/public/`. Every address has a
//! budget of requests and of lookups (`throttle::PublicBudget`, 429 past it); every field is
//! bounded; the phone is only ever shown back masked.
//!
//! These forms carry no CSRF token: they act for nobody (no session is read), so a forged
//! one can do no more than its sender could directly, and the budget bounds that.

use askama::Template;
use axum::Json;
use axum::extract::{OriginalUri, Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use baiqian_domain::capability::Capability;
use baiqian_store::station::{NewServiceRequest, PublicRequest, RequestStatus, Service, Station};
use serde::Deserialize;

use crate::error::{AppError, html};
use crate::frame::PublicFrame;
use crate::i18n::Tr;
use crate::routes::Routes;
use crate::state::AppState;
use crate::throttle::ClientAddress;

pub(super) fn routes() -> Routes {
    Routes::new()
        .get("/public/stations/{id}", Capability::Public, station_page)
        .post(
            "/public/stations/{id}/requests",
            Capability::Public,
            request_form,
        )
        .get("/public/requests", Capability::Public, find_request)
        .get("/public/requests/{code}", Capability::Public, follow_page)
        .post(
            "/public/requests/{code}/feedback",
            Capability::Public,
            feedback_form,
        )
        .get(
            "/api/v1/public/stations/{id}/services",
            Capability::Public,
            api_services,
        )
        .post(
            "/api/v1/public/stations/{id}/requests",
            Capability::Public,
            api_request,
        )
        .get(
            "/api/v1/public/requests/{code}",
            Capability::Public,
            api_follow,
        )
}

/// Counts one request from the address against `budget`; past it, 429 after
/// `PUBLIC_REFUSAL_DELAY`, with one log line per address and window.
async fn spend(
    state: &AppState,
    budget: &crate::throttle::PublicBudget,
    address: &str,
) -> Result<(), AppError> {
    let Err(refusal) = budget.spend(address, state.clock.now_ms()) else {
        return Ok(());
    };
    state.metrics.count_denied();
    if refusal.first {
        tracing::warn!(%address, "public requests refused: the address spent its budget");
    }
    tokio::time::sleep(crate::throttle::PUBLIC_REFUSAL_DELAY).await;
    Err(AppError::TooMany(refusal.seconds))
}

/// The station anyone may see: any station, open or not (a closed one says so).
async fn public_station(state: &AppState, id: i64) -> Result<(Station, Vec<Service>), AppError> {
    let s = state.db.station(&baiqian_store::Actor::cli(), id).await?;
    let services = state.db.station_services(id).await?;
    Ok((s, services))
}

#[derive(Template)]
#[template(path = "station/public.html")]
struct PublicStationPage {
    tr: Tr,
    pf: PublicFrame,
    s: Station,
    services: Vec<Service>,
    /// What was typed, kept after a refusal, and the refusal.
    form: RequestForm,
    error: Option<String>,
}

impl PublicStationPage {
    fn mode(&self, v: &Service) -> String {
        self.tr.word("station.mode", v.mode.as_str())
    }
    fn domain(&self, v: &Service) -> String {
        self.tr.word("station.domain", v.domain.as_str())
    }
    fn chosen(&self, v: &Service) -> bool {
        self.form.service_id == v.id.to_string()
    }
}

/// `GET /public/stations/{id}`.
async fn station_page(
    State(state): State<AppState>,
    tr: Tr,
    uri: OriginalUri,
    Path(id): Path<i64>,
) -> Result<Response, AppError> {
    let (s, services) = public_station(&state, id).await?;
    html(&PublicStationPage {
        tr,
        pf: PublicFrame::new(&uri),
        s,
        services,
        form: RequestForm::default(),
        error: None,
    })
}

#[derive(Deserialize, Default, Clone)]
struct RequestForm {
    #[serde(default)]
    service_id: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    phone: String,
    #[serde(default)]
    place: String,
    #[serde(default)]
    wanted: String,
    #[serde(default)]
    note: String,
}

/// `POST /public/stations/{id}/requests`: a refusal shows the form again with what was typed
/// and why (422); a request taken goes to its follow-up page.
async fn request_form(
    State(state): State<AppState>,
    tr: Tr,
    uri: OriginalUri,
    ClientAddress(address): ClientAddress,
    Path(id): Path<i64>,
    axum::Form(form): axum::Form<RequestForm>,
) -> Result<Response, AppError> {
    spend(&state, &state.public_requests, &address).await?;
    let (s, services) = public_station(&state, id).await?;
    let new = NewServiceRequest {
        service_id: form.service_id.trim().parse().unwrap_or(0),
        name: form.name.clone(),
        phone: form.phone.clone(),
        place: form.place.clone(),
        wanted: form.wanted.clone(),
        note: form.note.clone(),
    };
    match state
        .db
        .submit_service_request(&state.vault, id, &new, state.clock.now_ms())
        .await
    {
        Ok(code) => Ok(Redirect::to(&format!("/public/requests/{code}")).into_response()),
        Err(baiqian_store::StoreError::Invalid(m) | baiqian_store::StoreError::Conflict(m)) => {
            let mut res = html(&PublicStationPage {
                tr,
                pf: PublicFrame::new(&uri),
                s,
                services,
                error: Some(tr.msg(&m)),
                form,
            })?;
            *res.status_mut() = StatusCode::UNPROCESSABLE_ENTITY;
            Ok(res)
        }
        Err(e) => Err(e.into()),
    }
}

#[derive(Template)]
#[template(path = "station/follow.html")]
struct FollowPage {
    tr: Tr,
    pf: PublicFrame,
    r: PublicRequest,
    error: Option<String>,
}

impl FollowPage {
    fn status(&self) -> String {
        self.tr.word("station.status", self.r.status.as_str())
    }
    fn may_give_feedback(&self) -> bool {
        self.r.status == RequestStatus::Done && self.r.feedback_score.is_none()
    }
}

async fn follow(
    state: &AppState,
    tr: Tr,
    uri: &OriginalUri,
    code: &str,
    error: Option<String>,
) -> Result<Response, AppError> {
    let r = state.db.public_request(code).await?;
    let mut res = html(&FollowPage {
        tr,
        pf: PublicFrame::new(uri),
        r,
        error,
    })?;
    // The code is the key to this page: nothing in between keeps a copy.
    res.headers_mut().insert(
        axum::http::header::CACHE_CONTROL,
        axum::http::HeaderValue::from_static("no-store"),
    );
    Ok(res)
}

/// `GET /public/requests/{code}`.
async fn follow_page(
    State(state): State<AppState>,
    tr: Tr,
    uri: OriginalUri,
    ClientAddress(address): ClientAddress,
    Path(code): Path<String>,
) -> Result<Response, AppError> {
    spend(&state, &state.public_lookups, &address).await?;
    follow(&state, tr, &uri, &code, None).await
}

#[derive(Deserialize, Default)]
struct CodeQuery {
    #[serde(default)]
    code: String,
}

/// `GET /public/requests?code=…`: the station page's "follow my request" box, to the
/// request's page (spaces, dashes and case forgiven); a code that cannot be one is not found.
async fn find_request(
    State(state): State<AppState>,
    ClientAddress(address): ClientAddress,
    axum::extract::Query(q): axum::extract::Query<CodeQuery>,
) -> Result<Response, AppError> {
    spend(&state, &state.public_lookups, &address).await?;
    let code = baiqian_store::station::parse_code(&q.code).ok_or(AppError::NotFound)?;
    Ok(Redirect::to(&format!("/public/requests/{code}")).into_response())
}

#[derive(Deserialize, Default)]
struct FeedbackForm {
    #[serde(default)]
    score: String,
    #[serde(default)]
    note: String,
}

/// `POST /public/requests/{code}/feedback`.
async fn feedback_form(
    State(state): State<AppState>,
    tr: Tr,
    uri: OriginalUri,
    ClientAddress(address): ClientAddress,
    Path(code): Path<String>,
    axum::Form(form): axum::Form<FeedbackForm>,
) -> Result<Response, AppError> {
    spend(&state, &state.public_lookups, &address).await?;
    let score = form.score.trim().parse().unwrap_or(0);
    match state
        .db
        .request_feedback(&code, score, &form.note, state.clock.now_ms())
        .await
    {
        Ok(()) => {
            let code = baiqian_store::station::parse_code(&code).ok_or(AppError::NotFound)?;
            Ok(Redirect::to(&format!("/public/requests/{code}")).into_response())
        }
        Err(baiqian_store::StoreError::Invalid(m) | baiqian_store::StoreError::Conflict(m)) => {
            let mut res = follow(&state, tr, &uri, &code, Some(tr.msg(&m))).await?;
            *res.status_mut() = StatusCode::UNPROCESSABLE_ENTITY;
            Ok(res)
        }
        Err(e) => Err(e.into()),
    }
}

#[derive(serde::Serialize, utoipa::ToSchema)]
pub struct PublicServiceItem {
    id: i64,
    name: String,
    /// `tourism`, `public_affairs`, `industry` or `governance`.
    domain: String,
    /// `station`, `door` or `both`.
    mode: String,
}

#[derive(serde::Serialize, utoipa::ToSchema)]
pub struct PublicServiceItems {
    items: Vec<PublicServiceItem>,
}

#[utoipa::path(
    get,
    path = "/api/v1/public/stations/{id}/services",
    params(("id" = i64, Path, description = "station")),
    responses((status = 200, body = PublicServiceItems), (status = 404))
)]
/// `GET /api/v1/public/stations/{id}/services` (no sign-in): what a station offers.
pub async fn api_services(
    State(state): State<AppState>,
    Path(id): Path<i64>,
) -> Result<Response, AppError> {
    let (_, services) = public_station(&state, id).await?;
    Ok(Json(PublicServiceItems {
        items: services
            .into_iter()
            .map(|v| PublicServiceItem {
                id: v.id,
                name: v.name,
                domain: v.domain.as_str().into(),
                mode: v.mode.as_str().into(),
            })
            .collect(),
    })
    .into_response())
}

#[derive(Deserialize, utoipa::ToSchema)]
pub struct PublicRequestBody {
    service_id: i64,
    name: String,
    phone: String,
    place: String,
    #[serde(default)]
    wanted: String,
    #[serde(default)]
    note: String,
}

#[derive(serde::Serialize, utoipa::ToSchema)]
pub struct RequestTaken {
    /// The follow-up code: `GET /api/v1/public/requests/{code}`.
    code: String,
}

#[utoipa::path(
    post,
    path = "/api/v1/public/stations/{id}/requests",
    params(("id" = i64, Path, description = "station")),
    request_body = PublicRequestBody,
    responses((status = 201, body = RequestTaken), (status = 422), (status = 429))
)]
/// `POST /api/v1/public/stations/{id}/requests` (no sign-in): asks a station for a service.
pub async fn api_request(
    State(state): State<AppState>,
    ClientAddress(address): ClientAddress,
    Path(id): Path<i64>,
    Json(b): Json<PublicRequestBody>,
) -> Result<Response, AppError> {
    spend(&state, &state.public_requests, &address).await?;
    let code = state
        .db
        .submit_service_request(
            &state.vault,
            id,
            &NewServiceRequest {
                service_id: b.service_id,
                name: b.name,
                phone: b.phone,
                place: b.place,
                wanted: b.wanted,
                note: b.note,
            },
            state.clock.now_ms(),
        )
        .await?;
    Ok((StatusCode::CREATED, Json(RequestTaken { code })).into_response())
}

#[derive(serde::Serialize, utoipa::ToSchema)]
pub struct PublicRequestView {
    /// `received`, `assigned`, `done` or `withdrawn`.
    status: String,
    service: String,
    station: String,
    /// Masked.
    phone: String,
    received_at: i64,
    done_at: Option<i64>,
    feedback_score: Option<i64>,
}

#[utoipa::path(
    get,
    path = "/api/v1/public/requests/{code}",
    params(("code" = String, Path, description = "follow-up code")),
    responses((status = 200, body = PublicRequestView), (status = 404), (status = 429))
)]
/// `GET /api/v1/public/requests/{code}` (no sign-in): where a request stands.
pub async fn api_follow(
    State(state): State<AppState>,
    ClientAddress(address): ClientAddress,
    Path(code): Path<String>,
) -> Result<Response, AppError> {
    spend(&state, &state.public_lookups, &address).await?;
    let r = state.db.public_request(&code).await?;
    let mut res = Json(PublicRequestView {
        status: r.status.as_str().into(),
        service: r.service,
        station: r.station,
        phone: r.phone,
        received_at: r.received_at,
        done_at: r.done_at,
        feedback_score: r.feedback_score,
    })
    .into_response();
    res.headers_mut().insert(
        axum::http::header::CACHE_CONTROL,
        axum::http::HeaderValue::from_static("no-store"),
    );
    Ok(res)
}
