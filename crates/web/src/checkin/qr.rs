//! The rotating check-in QR code (扫码签到): its signature, the officers' page that shows it,
//! and the member's check-in page that reads it.

use super::*;

/// The QR code changes every 30 seconds: a photo sent home is stale before it arrives.
pub const QR_WINDOW_MS: i64 = 30_000;

/// A scan just after the code changed still counts (the phone read the previous one).
pub(super) const QR_GRACE_MS: i64 = 5_000;

pub(super) fn qr_sig(secret: &str, event_id: i64, window: i64) -> String {
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
pub(super) async fn check_qr(db: &Db, code: &str, now: i64) -> Result<Event, AppError> {
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

#[derive(Template)]
#[template(path = "checkin/qr.html")]
pub(super) struct QrPage {
    tr: Tr,
    f: Frame,
    event: Event,
    svg: String,
    url: String,
    attended: i64,
}

pub(super) async fn qr_page(
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
pub(super) struct CodeQuery {
    #[serde(default)]
    code: String,
}

#[derive(Template)]
#[template(path = "checkin/member.html")]
pub(super) struct MemberCheckinPage {
    tr: Tr,
    f: Frame,
    code: String,
    client_id: String,
    event: Option<Event>,
    outcome: Option<String>,
    error: Option<String>,
}

pub(super) async fn checkin_page(
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
pub(super) struct CheckinForm {
    #[serde(default)]
    code: String,
    #[serde(default)]
    client_id: String,
}

/// A member's own check-in by phone, from the scanned code.
pub(super) async fn qr_checkin(
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

pub(super) async fn checkin_submit(
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
