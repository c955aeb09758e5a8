//! Check-ins, activity days and attendance in the JSON API (card readers, phones).

use super::*;

pub(super) fn parse_time(s: &str) -> Result<i64, AppError> {
    chrono::DateTime::parse_from_rfc3339(s.trim())
        .map(|t| t.timestamp_millis())
        .map_err(|_| {
            AppError::Invalid(
                Msg::new("checkin.error.time").arg("time", s.chars().take(40).collect::<String>()),
            )
        })
}

pub(super) fn client_id(s: &str) -> Result<String, AppError> {
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

pub(super) fn result_of(
    tr: Tr,
    client_id: String,
    o: CheckinOutcome,
) -> (StatusCode, CheckinResult) {
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

pub(super) fn card_request(device: &Device, c: &CardCheckin) -> Result<CheckinRequest, AppError> {
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

#[derive(Serialize, utoipa::ToSchema)]
pub struct QrView {
    pub code: String,
    /// The URL a phone opens when it scans the code.
    pub url: String,
    /// Unix ms when the code stops being accepted as current.
    pub changes_at: i64,
}

pub(super) fn qr_view(e: &Event, now: i64) -> QrView {
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
