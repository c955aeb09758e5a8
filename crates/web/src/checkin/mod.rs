//! Activity days and check-in: the device API, the rotating QR code a member's phone scans, the
//! officer's manual check-in, attendance. Every check-in goes through one group-commit writer.

pub mod device;

use std::sync::Arc;
use std::time::Duration;

use askama::Template;
use axum::Form;
use axum::Json;
use axum::extract::{FromRequestParts, OriginalUri, Path, Query, State};
use axum::http::StatusCode;
use axum::http::request::Parts;
use axum::response::{IntoResponse, Response};
use baiqian_domain::Msg;
use baiqian_domain::capability::Capability;
use baiqian_domain::org;
use baiqian_store::Db;
use baiqian_store::checkin::{
    Attendance, Attendee, CheckinOutcome, CheckinRequest, Device, Event, NewEvent,
};
use hmac::{Hmac, Mac};
use serde::{Deserialize, Serialize};
use sha2::Sha256;
use tokio::sync::{mpsc, oneshot};

use crate::auth::{Auth, random_token};
use crate::clock::Clock;
use crate::error::{AppError, html};
use crate::extract::{CodeParam, MonthParam};
use crate::frame::Frame;
use crate::i18n::Tr;
use crate::routes::Routes;
use crate::state::AppState;

pub fn routes() -> Routes {
    Routes::new()
        // Readers carry their own token; the handlers check it.
        .post("/api/v1/checkins", Capability::Public, device_checkin)
        .post("/api/v1/checkins/batch", Capability::Public, device_batch)
        .post("/api/v1/checkins/qr", Capability::CheckIn, api_qr_checkin)
        .post(
            "/api/v1/orgs/{code}/events",
            Capability::RunActivityDays,
            api_create_event,
        )
        .get(
            "/api/v1/orgs/{code}/attendance/{month}",
            Capability::ReadAttendance,
            api_attendance,
        )
        .get(
            "/api/v1/events/{id}/qr",
            Capability::ShowCheckinCode,
            api_qr,
        )
        .get("/events/{id}/qr", Capability::ShowCheckinCode, qr_page)
        .get(
            "/orgs/{code}/attendance",
            Capability::ReadAttendance,
            attendance_page,
        )
        .get(
            "/orgs/{code}/events",
            Capability::ReadActivityDays,
            events_page,
        )
        .post(
            "/orgs/{code}/events",
            Capability::RunActivityDays,
            create_event_form,
        )
        .post("/events/{id}/manual", Capability::RunActivityDays, manual)
        .get("/checkin", Capability::CheckIn, checkin_page)
        .post("/checkin", Capability::CheckIn, checkin_submit)
        .merge(device::routes())
}

/// Largest batch one commit takes.
const MAX_BATCH: usize = 1024;

struct Job {
    req: CheckinRequest,
    reply: oneshot::Sender<Result<CheckinOutcome, String>>,
}

/// The group-commit writer: one task commits in one transaction every check-in that queued while
/// the previous commit ran (on PostgreSQL, two batches may be in flight), and only then answers
/// each. An answer means the check-in is durable.
/// The gathering time is the previous commit's: under a burst the batches grow by themselves, and
/// a lone swipe is not kept waiting. (A fixed 2 ms wait for company, tried first, put a 2 ms floor
/// under every cycle and capped the closed loop at 64 connections ÷ ~6 ms: docs/benchmarks.md.)
#[derive(Clone)]
pub struct CheckinWriter {
    tx: mpsc::Sender<Job>,
}

impl CheckinWriter {
    /// Starts the writer task (call inside a Tokio runtime).
    pub fn spawn(db: Db, clock: Arc<dyn Clock>) -> Self {
        let (tx, mut rx) = mpsc::channel::<Job>(16 * MAX_BATCH);
        // PostgreSQL: a second batch reads and writes while the first commits (its rollup rows
        // wait for the first's); SQLite has one writer, so one batch at a time.
        let in_flight = match db.backend() {
            baiqian_store::Backend::Postgres => 2,
            baiqian_store::Backend::Sqlite => 1,
        };
        let slots = Arc::new(tokio::sync::Semaphore::new(in_flight));
        tokio::spawn(async move {
            while let Some(first) = rx.recv().await {
                let Ok(slot) = slots.clone().acquire_owned().await else {
                    break;
                };
                let mut jobs = vec![first];
                // Under load the queue filled while the last batch committed: take it all at once.
                while jobs.len() < MAX_BATCH {
                    match rx.try_recv() {
                        Ok(j) => jobs.push(j),
                        Err(_) => break,
                    }
                }
                let (reqs, replies): (Vec<CheckinRequest>, Vec<_>) =
                    jobs.into_iter().map(|j| (j.req, j.reply)).unzip();
                let (db, now) = (db.clone(), clock.now_ms());
                tokio::spawn(async move {
                    let size = reqs.len();
                    match db.apply_checkins(reqs, now).await {
                        Ok(outcomes) => {
                            for (reply, outcome) in replies.into_iter().zip(outcomes) {
                                let _ = reply.send(Ok(outcome));
                            }
                        }
                        Err(e) => {
                            tracing::error!(error = %e, batch = size, "check-in batch failed; nothing of it was written");
                            for reply in replies {
                                let _ = reply.send(Err(e.to_string()));
                            }
                        }
                    }
                    drop(slot);
                });
            }
        });
        Self { tx }
    }

    pub async fn submit(&self, req: CheckinRequest) -> Result<CheckinOutcome, AppError> {
        let (reply, rx) = oneshot::channel();
        self.tx
            .send(Job { req, reply })
            .await
            .map_err(|_| AppError::Internal("check-in writer stopped".into()))?;
        rx.await
            .map_err(|_| AppError::Internal("check-in writer dropped a request".into()))?
            .map_err(AppError::Internal)
    }
}

/// A card reader or kiosk, authenticated by its own bearer token.
pub struct DeviceAuth(pub Arc<Device>);

impl<S: Send + Sync> FromRequestParts<S> for DeviceAuth {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        parts
            .extensions
            .get::<Arc<Device>>()
            .cloned()
            .map(DeviceAuth)
            .ok_or(AppError::Unauthenticated)
    }
}

/// Recently seen device tokens, so a burst of swipes does not read the devices table per swipe.
/// A revoked device's check-ins are refused at once all the same (the writer checks the device in
/// its transaction); the cache forgets it within `DEVICE_CACHE_TTL`, and from then on its token
/// is refused at the door (401).
#[derive(Default)]
pub struct DeviceCache(
    std::sync::Mutex<std::collections::HashMap<String, (Arc<Device>, std::time::Instant)>>,
);

pub const DEVICE_CACHE_TTL: Duration = Duration::from_secs(30);

impl DeviceCache {
    pub async fn get(&self, db: &Db, token_hash: &str) -> Result<Option<Arc<Device>>, AppError> {
        if let Ok(map) = self.0.lock()
            && let Some((d, at)) = map.get(token_hash)
            && at.elapsed() < DEVICE_CACHE_TTL
        {
            return Ok(Some(d.clone()));
        }
        let found = db.device_by_token(token_hash).await?.map(Arc::new);
        if let (Some(d), Ok(mut map)) = (&found, self.0.lock()) {
            if map.len() > 10_000 {
                map.clear();
            }
            map.insert(
                token_hash.to_string(),
                (d.clone(), std::time::Instant::now()),
            );
        }
        Ok(found)
    }

    /// Forgets every token (a device was revoked here): each is read again on its next use.
    pub fn forget_all(&self) {
        if let Ok(mut map) = self.0.lock() {
            map.clear();
        }
    }
}

fn parse_time(s: &str) -> Result<i64, AppError> {
    chrono::DateTime::parse_from_rfc3339(s.trim())
        .map(|t| t.timestamp_millis())
        .map_err(|_| {
            AppError::Invalid(
                Msg::new("checkin.error.time").arg("time", s.chars().take(40).collect::<String>()),
            )
        })
}

fn client_id(s: &str) -> Result<String, AppError> {
    let s = s.trim();
    let ok =
        (8..=64).contains(&s.len()) && s.chars().all(|c| c.is_ascii_alphanumeric() || c == '-');
    if ok {
        Ok(s.to_ascii_lowercase())
    } else {
        Err(AppError::Invalid(Msg::new("checkin.error.client_id")))
    }
}

#[derive(Deserialize, utoipa::ToSchema)]
pub struct CardCheckin {
    /// A UUID (or similar) the reader makes once per swipe; a retry sends the same.
    pub client_id: String,
    pub card_no: String,
    pub event_id: i64,
    /// When the card was swiped, RFC 3339.
    pub at: String,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct CheckinResult {
    pub client_id: String,
    /// `created`, `repeat` (this client id was accepted before), `already` (the member already
    /// attended this event) or `refused`.
    pub status: String,
    pub id: Option<i64>,
    pub error: Option<crate::error::ErrorDetail>,
}

fn result_of(tr: Tr, client_id: String, o: CheckinOutcome) -> (StatusCode, CheckinResult) {
    match o {
        CheckinOutcome::Created { id, .. } => (
            StatusCode::CREATED,
            CheckinResult {
                client_id,
                status: "created".into(),
                id: Some(id),
                error: None,
            },
        ),
        CheckinOutcome::Repeat { id } => (
            StatusCode::OK,
            CheckinResult {
                client_id,
                status: "repeat".into(),
                id: Some(id),
                error: None,
            },
        ),
        CheckinOutcome::Already => (
            StatusCode::OK,
            CheckinResult {
                client_id,
                status: "already".into(),
                id: None,
                error: None,
            },
        ),
        CheckinOutcome::Refused(m) => (
            StatusCode::UNPROCESSABLE_ENTITY,
            CheckinResult {
                client_id,
                status: "refused".into(),
                id: None,
                error: Some(crate::error::ErrorDetail {
                    code: m.key.trim_start_matches("checkin.error.").to_string(),
                    message: tr.msg(&m),
                }),
            },
        ),
    }
}

fn card_request(device: &Device, c: &CardCheckin) -> Result<CheckinRequest, AppError> {
    Ok(CheckinRequest {
        client_id: client_id(&c.client_id)?,
        attendee: Attendee::Card(c.card_no.trim().chars().take(32).collect()),
        event_id: c.event_id,
        at: parse_time(&c.at)?,
        method: "card",
        device: Some(device.clone()),
        actor_login: None,
        reason: None,
    })
}

/// A swiped card, from a registered reader: 201 new, 200 repeat, 422 refused (nothing written).
#[utoipa::path(post, path = "/api/v1/checkins", request_body = CardCheckin,
    responses((status = 201, body = CheckinResult), (status = 200, body = CheckinResult), (status = 422, body = crate::error::ErrorBody), (status = 401, body = crate::error::ErrorBody)))]
pub(crate) async fn device_checkin(
    State(state): State<AppState>,
    DeviceAuth(device): DeviceAuth,
    tr: Tr,
    Json(body): Json<CardCheckin>,
) -> Result<Response, AppError> {
    let req = card_request(&device, &body)?;
    let cid = req.client_id.clone();
    match state.checkins.submit(req).await? {
        CheckinOutcome::Refused(m) => Err(AppError::Refused(m)),
        o => {
            let (status, r) = result_of(tr, cid, o);
            Ok((status, Json(r)).into_response())
        }
    }
}

#[derive(Deserialize, utoipa::ToSchema)]
pub struct CardBatch {
    pub items: Vec<CardCheckin>,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct BatchResult {
    pub items: Vec<CheckinResult>,
}

/// Swipes a reader kept while offline, each with its own result; at most 1,000 per request.
#[utoipa::path(post, path = "/api/v1/checkins/batch", request_body = CardBatch, responses((status = 200, body = BatchResult)))]
pub(crate) async fn device_batch(
    State(state): State<AppState>,
    DeviceAuth(device): DeviceAuth,
    tr: Tr,
    Json(body): Json<CardBatch>,
) -> Result<Json<BatchResult>, AppError> {
    if body.items.len() > 1000 {
        return Err(AppError::Invalid(Msg::new("checkin.error.batch_size")));
    }
    let mut pending = Vec::new();
    let mut items: Vec<Option<CheckinResult>> = Vec::new();
    for c in &body.items {
        match card_request(&device, c) {
            Ok(req) => {
                let writer = state.checkins.clone();
                let cid = req.client_id.clone();
                pending.push((
                    items.len(),
                    cid,
                    tokio::spawn(async move { writer.submit(req).await }),
                ));
                items.push(None);
            }
            Err(AppError::Invalid(m)) => items.push(Some(
                result_of(tr, c.client_id.clone(), CheckinOutcome::Refused(m)).1,
            )),
            Err(e) => return Err(e),
        }
    }
    for (i, cid, handle) in pending {
        let outcome = handle
            .await
            .map_err(|e| AppError::Internal(e.to_string()))??;
        items[i] = Some(result_of(tr, cid, outcome).1);
    }
    Ok(Json(BatchResult {
        items: items.into_iter().flatten().collect(),
    }))
}

#[derive(Deserialize, utoipa::ToSchema)]
pub struct NewEventBody {
    /// `YYYY-MM-DD`
    pub date: String,
    /// RFC 3339
    pub starts_at: String,
    /// RFC 3339
    pub ends_at: String,
    pub topic: String,
    pub place: String,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct EventCreated {
    pub id: i64,
}

/// Schedules an activity day at an organization in scope (admins and village secretaries).
#[utoipa::path(post, path = "/api/v1/orgs/{code}/events", request_body = NewEventBody, params(("code" = String, Path)),
    responses((status = 201, body = EventCreated), (status = 404, body = crate::error::ErrorBody), (status = 422, body = crate::error::ErrorBody)))]
pub(crate) async fn api_create_event(
    State(state): State<AppState>,
    Auth(me): Auth,
    CodeParam(code): CodeParam,
    Json(b): Json<NewEventBody>,
) -> Result<Response, AppError> {
    state.db.org(me.scope(), &code).await?;
    let invalid = |e: org::OrgError| AppError::Invalid(e.msg());
    let day =
        baiqian_domain::member::parse_date(&b.date).map_err(|e| AppError::Invalid(e.msg()))?;
    let new = NewEvent {
        org: code,
        day,
        starts_at: parse_time(&b.starts_at)?,
        ends_at: parse_time(&b.ends_at)?,
        topic: org::parse_name(&b.topic).map_err(invalid)?,
        place: org::parse_name(&b.place).map_err(invalid)?,
    };
    let e = state
        .db
        .create_event(&me.actor, new, &random_token()?, state.clock.now_ms())
        .await?;
    Ok((StatusCode::CREATED, Json(EventCreated { id: e.id })).into_response())
}

/// Attendance of the subtree under `code` in a month.
#[utoipa::path(get, path = "/api/v1/orgs/{code}/attendance/{month}", params(("code" = String, Path), ("month" = String, Path, description = "YYYY-MM")),
    responses((status = 200, body = AttendanceView), (status = 404, body = crate::error::ErrorBody)))]
pub(crate) async fn api_attendance(
    State(state): State<AppState>,
    Auth(me): Auth,
    CodeParam(code): CodeParam,
    MonthParam(month): MonthParam,
) -> Result<Json<AttendanceView>, AppError> {
    Ok(Json(
        state
            .db
            .attendance(me.scope(), &code, month.as_str())
            .await?
            .into(),
    ))
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct AttendanceView {
    pub due: i64,
    pub attended: i64,
    pub guests: i64,
    pub away: i64,
}

impl From<Attendance> for AttendanceView {
    fn from(a: Attendance) -> Self {
        Self {
            due: a.due,
            attended: a.attended,
            guests: a.guests,
            away: a.away,
        }
    }
}

/// The QR code changes every 30 seconds: a photo sent home is stale before it arrives.
pub const QR_WINDOW_MS: i64 = 30_000;
/// A scan just after the code changed still counts (the phone read the previous one).
const QR_GRACE_MS: i64 = 5_000;

fn qr_sig(secret: &str, event_id: i64, window: i64) -> String {
    let Ok(mut mac) = <Hmac<Sha256> as Mac>::new_from_slice(secret.as_bytes()) else {
        return String::new();
    };
    mac.update(format!("{event_id}:{window}").as_bytes());
    hex::encode(&mac.finalize().into_bytes()[..10])
}

/// The code shown at `now`: `event-window-signature`.
pub fn qr_code(e: &Event, now: i64) -> String {
    let window = now.div_euclid(QR_WINDOW_MS);
    format!("{}-{window}-{}", e.id, qr_sig(&e.qr_secret, e.id, window))
}

/// The event a scanned code names, if the code is genuine and current.
async fn check_qr(db: &Db, code: &str, now: i64) -> Result<Event, AppError> {
    let bad = || AppError::Refused(Msg::new("checkin.error.qr"));
    let mut parts = code.trim().splitn(3, '-');
    let (Some(id), Some(window), Some(sig)) = (parts.next(), parts.next(), parts.next()) else {
        return Err(bad());
    };
    let (Ok(id), Ok(window)) = (id.parse::<i64>(), window.parse::<i64>()) else {
        return Err(bad());
    };
    let event = db.event_for_checkin(id).await?.ok_or_else(bad)?;
    if qr_sig(&event.qr_secret, id, window) != sig {
        return Err(bad());
    }
    let current = now.div_euclid(QR_WINDOW_MS);
    let fresh =
        window == current || (window == current - 1 && now - current * QR_WINDOW_MS < QR_GRACE_MS);
    if !fresh {
        return Err(AppError::Refused(Msg::new("checkin.error.qr_stale")));
    }
    Ok(event)
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct QrView {
    pub code: String,
    /// The URL a phone opens when it scans the code.
    pub url: String,
    /// Unix ms when the code stops being accepted as current.
    pub changes_at: i64,
}

fn qr_view(e: &Event, now: i64) -> QrView {
    let code = qr_code(e, now);
    QrView {
        url: format!("/checkin?code={code}"),
        code,
        changes_at: (now.div_euclid(QR_WINDOW_MS) + 1) * QR_WINDOW_MS,
    }
}

/// The current check-in code of an event, for a kiosk at the host (officers in scope).
#[utoipa::path(get, path = "/api/v1/events/{id}/qr", params(("id" = i64, Path)), responses((status = 200, body = QrView), (status = 404, body = crate::error::ErrorBody)))]
pub(crate) async fn api_qr(
    State(state): State<AppState>,
    Auth(me): Auth,
    Path(id): Path<i64>,
) -> Result<Json<QrView>, AppError> {
    let e = state.db.event(me.scope(), id).await?;
    if !me.role().may_manage_members() {
        return Err(AppError::Denied(Msg::new("error.denied")));
    }
    Ok(Json(qr_view(&e, state.clock.now_ms())))
}

#[derive(Template)]
#[template(path = "checkin/qr.html")]
struct QrPage {
    tr: Tr,
    f: Frame,
    event: Event,
    svg: String,
    url: String,
    attended: i64,
}

async fn qr_page(
    State(state): State<AppState>,
    Auth(me): Auth,
    tr: Tr,
    uri: OriginalUri,
    Path(id): Path<i64>,
) -> Result<Response, AppError> {
    let event = state.db.event(me.scope(), id).await?;
    if !me.role().may_manage_members() {
        return Err(AppError::Denied(Msg::new("error.denied")));
    }
    let view = qr_view(&event, state.clock.now_ms());
    let svg = qrcode::QrCode::new(view.url.as_bytes())
        .map(|q| {
            q.render::<qrcode::render::svg::Color>()
                .min_dimensions(260, 260)
                .build()
        })
        .map_err(|e| AppError::Internal(format!("qr: {e}")))?;
    let attended = state.db.event_attendance_count(id).await?;
    let here = uri.0.path().to_string();
    html(&QrPage {
        tr,
        f: Frame::new(&state, &me, tr, &here, "tree").await?,
        event,
        svg,
        url: view.url,
        attended,
    })
}

#[derive(Deserialize)]
struct CodeQuery {
    #[serde(default)]
    code: String,
}

#[derive(Template)]
#[template(path = "checkin/member.html")]
struct MemberCheckinPage {
    tr: Tr,
    f: Frame,
    code: String,
    client_id: String,
    event: Option<Event>,
    outcome: Option<String>,
    error: Option<String>,
}

async fn checkin_page(
    State(state): State<AppState>,
    Auth(me): Auth,
    tr: Tr,
    uri: OriginalUri,
    Query(q): Query<CodeQuery>,
) -> Result<Response, AppError> {
    let now = state.clock.now_ms();
    let (event, error) = match check_qr(&state.db, &q.code, now).await {
        Ok(e) => (Some(e), None),
        Err(AppError::Invalid(m) | AppError::Refused(m)) => (None, Some(tr.msg(&m))),
        Err(e) => return Err(e),
    };
    let here = uri
        .0
        .path_and_query()
        .map(|p| p.as_str().to_string())
        .unwrap_or_default();
    html(&MemberCheckinPage {
        tr,
        f: Frame::new(&state, &me, tr, &here, "tree").await?,
        code: q.code,
        client_id: random_token()?[..32].to_string(),
        event,
        outcome: None,
        error,
    })
}

#[derive(Deserialize)]
struct CheckinForm {
    #[serde(default)]
    code: String,
    #[serde(default)]
    client_id: String,
}

/// A member's own check-in by phone, from the scanned code.
async fn qr_checkin(
    state: &AppState,
    me: &crate::auth::CurrentUser,
    code: &str,
    cid: &str,
) -> Result<(Event, CheckinOutcome), AppError> {
    let member_id = me
        .user
        .member_id
        .ok_or_else(|| AppError::Invalid(Msg::new("checkin.error.no_member")))?;
    let now = state.clock.now_ms();
    let event = check_qr(&state.db, code, now).await?;
    let req = CheckinRequest {
        client_id: client_id(cid)?,
        attendee: Attendee::Member(member_id),
        event_id: event.id,
        at: now,
        method: "qr",
        device: None,
        actor_login: Some(me.user.login.clone()),
        reason: None,
    };
    Ok((event, state.checkins.submit(req).await?))
}

async fn checkin_submit(
    State(state): State<AppState>,
    Auth(me): Auth,
    tr: Tr,
    uri: OriginalUri,
    Form(form): Form<CheckinForm>,
) -> Result<Response, AppError> {
    let here = uri.0.path().to_string();
    let (event, outcome, error, status) =
        match qr_checkin(&state, &me, &form.code, &form.client_id).await {
            Ok((e, CheckinOutcome::Refused(m))) => (
                Some(e),
                None,
                Some(tr.msg(&m)),
                StatusCode::UNPROCESSABLE_ENTITY,
            ),
            Ok((e, o)) => {
                let key = if matches!(o, CheckinOutcome::Created { .. }) {
                    "checkin.done"
                } else {
                    "checkin.already"
                };
                (Some(e), Some(tr.t(key).to_string()), None, StatusCode::OK)
            }
            Err(AppError::Invalid(m) | AppError::Refused(m)) => (
                None,
                None,
                Some(tr.msg(&m)),
                StatusCode::UNPROCESSABLE_ENTITY,
            ),
            Err(e) => return Err(e),
        };
    let page = MemberCheckinPage {
        tr,
        f: Frame::new(&state, &me, tr, &here, "tree").await?,
        code: form.code,
        client_id: form.client_id,
        event,
        outcome,
        error,
    };
    let mut res = html(&page)?;
    *res.status_mut() = status;
    Ok(res)
}

#[derive(Deserialize, utoipa::ToSchema)]
pub struct QrCheckin {
    pub code: String,
    pub client_id: String,
}

/// A member's check-in by phone (the member's own account).
#[utoipa::path(post, path = "/api/v1/checkins/qr", request_body = QrCheckin, responses((status = 201, body = CheckinResult), (status = 200, body = CheckinResult), (status = 422, body = crate::error::ErrorBody)))]
pub(crate) async fn api_qr_checkin(
    State(state): State<AppState>,
    Auth(me): Auth,
    tr: Tr,
    Json(b): Json<QrCheckin>,
) -> Result<Response, AppError> {
    let (_, outcome) = qr_checkin(&state, &me, &b.code, &b.client_id).await?;
    match outcome {
        CheckinOutcome::Refused(m) => Err(AppError::Refused(m)),
        o => {
            let (status, r) = result_of(tr, b.client_id.trim().to_ascii_lowercase(), o);
            Ok((status, Json(r)).into_response())
        }
    }
}

#[derive(Deserialize)]
struct ManualForm {
    #[serde(default)]
    member_id: String,
    #[serde(default)]
    reason: String,
}

/// An officer of the host checks a member in by hand, with a reason (a forgotten card, a phone
/// without signal). The member must be one the officer can see.
async fn manual(
    State(state): State<AppState>,
    Auth(me): Auth,
    tr: Tr,
    Path(id): Path<i64>,
    Form(form): Form<ManualForm>,
) -> Result<Response, AppError> {
    let event = state.db.event(me.scope(), id).await?;
    if !me.role().may_manage_members() {
        return Err(AppError::Denied(Msg::new("error.denied")));
    }
    let reason = org::parse_reason(&form.reason).map_err(|e| AppError::Invalid(e.msg()))?;
    let member_id: i64 = form
        .member_id
        .trim()
        .parse()
        .map_err(|_| AppError::Invalid(Msg::new("checkin.error.unknown_member")))?;
    state
        .db
        .member(me.scope(), member_id)
        .await
        .map_err(|_| AppError::Invalid(Msg::new("checkin.error.unknown_member")))?;
    let now = state.clock.now_ms();
    let req = CheckinRequest {
        client_id: format!("manual-{}-{member_id}", event.id),
        attendee: Attendee::Member(member_id),
        event_id: event.id,
        at: now.clamp(event.starts_at, event.ends_at),
        method: "manual",
        device: None,
        actor_login: Some(me.user.login.clone()),
        reason: Some(reason),
    };
    match state.checkins.submit(req).await? {
        CheckinOutcome::Refused(m) => Err(AppError::Refused(m)),
        o => {
            let (status, r) = result_of(tr, format!("manual-{}-{member_id}", event.id), o);
            Ok((status, Json(r)).into_response())
        }
    }
}

#[derive(Template)]
#[template(path = "checkin/attendance.html")]
struct AttendancePage {
    tr: Tr,
    f: Frame,
    org: baiqian_store::kernel::Node,
    month: String,
    own: Attendance,
    children: Vec<(baiqian_store::kernel::Node, Attendance)>,
}

impl AttendancePage {
    /// Attended as a share of due, `73.4%`, or a dash when nobody is due.
    fn rate(&self, a: &Attendance) -> String {
        if a.due == 0 {
            "—".into()
        } else {
            format!("{:.1}%", a.attended as f64 * 100.0 / a.due as f64)
        }
    }
}

#[derive(Deserialize)]
struct MonthQuery {
    month: Option<String>,
}

/// Attendance of a node and of each node directly below it, for a month (this month by default):
/// the cost grows with the children shown, not with the check-ins (each figure is a rollup row).
async fn attendance_page(
    State(state): State<AppState>,
    Auth(me): Auth,
    tr: Tr,
    uri: OriginalUri,
    CodeParam(code): CodeParam,
    Query(q): Query<MonthQuery>,
) -> Result<Response, AppError> {
    let org = state.db.org(me.scope(), &code).await?;
    let month = match q.month {
        Some(m)
            if m.len() == 7 && baiqian_domain::member::parse_date(&format!("{m}-01")).is_ok() =>
        {
            m
        }
        Some(_) => return Err(AppError::NotFound),
        None => baiqian_store::checkin::month_of(state.clock.now_ms()),
    };
    let own = state.db.attendance(me.scope(), &code, &month).await?;
    let nodes = state.db.org_children(me.scope(), &code, false).await?;
    let figures = state.db.attendance_of(&nodes, &month).await?;
    let children: Vec<_> = nodes.into_iter().zip(figures).collect();
    let here = uri
        .0
        .path_and_query()
        .map(|p| p.as_str().to_string())
        .unwrap_or_default();
    html(&AttendancePage {
        tr,
        f: Frame::new(&state, &me, tr, &here, "tree").await?,
        org,
        month,
        own,
        children,
    })
}

#[derive(Template)]
#[template(path = "checkin/events.html")]
struct EventsPage {
    tr: Tr,
    f: Frame,
    org: baiqian_store::kernel::Node,
    events: Vec<Event>,
    can_manage: bool,
    form: EventForm,
    error: Option<String>,
}

impl EventsPage {
    fn time(&self, ms: &i64) -> String {
        self.tr.datetime(*ms)
    }
}

#[derive(Deserialize, Default)]
struct EventForm {
    #[serde(default)]
    date: String,
    #[serde(default)]
    start: String,
    #[serde(default)]
    end: String,
    #[serde(default)]
    topic: String,
    #[serde(default)]
    place: String,
}

/// An organization's activity days, newest first, with a form to schedule one.
async fn events_page(
    State(state): State<AppState>,
    Auth(me): Auth,
    tr: Tr,
    uri: OriginalUri,
    CodeParam(code): CodeParam,
) -> Result<Response, AppError> {
    let org = state.db.org(me.scope(), &code).await?;
    let events = state.db.events_of(me.scope(), &code, 24).await?;
    let here = uri.0.path().to_string();
    let form = EventForm {
        start: "09:00".into(),
        end: "11:00".into(),
        ..Default::default()
    };
    html(&EventsPage {
        tr,
        f: Frame::new(&state, &me, tr, &here, "tree").await?,
        org,
        events,
        can_manage: me.role().may_manage_members(),
        form,
        error: None,
    })
}

use baiqian_domain::time::china_ms as local_ms;

async fn create_event_form(
    State(state): State<AppState>,
    Auth(me): Auth,
    tr: Tr,
    uri: OriginalUri,
    CodeParam(code): CodeParam,
    Form(form): Form<EventForm>,
) -> Result<Response, AppError> {
    let org = state.db.org(me.scope(), &code).await?;
    if !me.role().may_manage_members() {
        return Err(AppError::Denied(Msg::new("error.denied")));
    }
    let parsed = (|| {
        let day = baiqian_domain::member::parse_date(&form.date).map_err(|e| e.msg())?;
        let starts_at = local_ms(&day, &form.start)
            .ok_or_else(|| Msg::new("checkin.error.time").arg("time", &form.start))?;
        let ends_at = local_ms(&day, &form.end)
            .ok_or_else(|| Msg::new("checkin.error.time").arg("time", &form.end))?;
        let topic = org::parse_name(&form.topic).map_err(|e| e.msg())?;
        let place = org::parse_name(&form.place).map_err(|e| e.msg())?;
        Ok::<_, Msg>(NewEvent {
            org: code.clone(),
            day,
            starts_at,
            ends_at,
            topic,
            place,
        })
    })();
    let error = match parsed {
        Ok(new) => match state
            .db
            .create_event(&me.actor, new, &random_token()?, state.clock.now_ms())
            .await
        {
            Ok(e) => {
                return Ok(
                    axum::response::Redirect::to(&format!("/events/{}/qr", e.id)).into_response(),
                );
            }
            Err(baiqian_store::StoreError::Invalid(m)) => m,
            Err(e) => return Err(e.into()),
        },
        Err(m) => m,
    };
    let events = state.db.events_of(me.scope(), &code, 24).await?;
    let here = uri.0.path().to_string();
    let page = EventsPage {
        tr,
        f: Frame::new(&state, &me, tr, &here, "tree").await?,
        org,
        events,
        can_manage: true,
        form,
        error: Some(tr.msg(&error)),
    };
    let mut res = html(&page)?;
    *res.status_mut() = StatusCode::UNPROCESSABLE_ENTITY;
    Ok(res)
}
