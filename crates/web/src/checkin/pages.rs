//! The activity days and attendance of a node, and a check-in recorded by hand.

use super::*;

#[derive(Deserialize)]
pub(super) struct ManualForm {
    #[serde(default)]
    member_id: String,
    #[serde(default)]
    reason: String,
}

/// An officer of the host checks a member in by hand, with a reason (a forgotten card, a phone
/// without signal). The member must be one the officer can see.
pub(super) async fn manual(
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
pub(super) struct AttendancePage {
    tr: Tr,
    f: Frame,
    org: baiqian_store::kernel::Node,
    month: String,
    own: Attendance,
    children: Vec<(baiqian_store::kernel::Node, Attendance)>,
    /// The node's own members who attended nowhere this month (the first `LIST_LIMIT`), and
    /// how many in all.
    absent: (Vec<baiqian_store::checkin::AbsentMember>, i64),
    /// Attendances of the node's own members at other organizations this month.
    elsewhere: (Vec<baiqian_store::checkin::AttendedElsewhere>, i64),
}

/// At most this many names per list on the page; the export and the roster have the rest.
const LIST_LIMIT: i64 = 500;

impl AttendancePage {
    fn time(&self, ms: &i64) -> String {
        self.tr.datetime(*ms)
    }

    fn chart_url(&self) -> String {
        format!(
            "/orgs/{}/attendance/chart?month={}",
            self.org.code, self.month
        )
    }

    /// Members due and not attended: what a child's absent figure shows.
    fn absent_count(&self, a: &Attendance) -> i64 {
        (a.due - a.attended).max(0)
    }

    fn rate(&self, a: &Attendance) -> String {
        a.rate_text()
    }
}

/// The month a query asks for: `None` when it asks none; a malformed one is not a page (404).
fn asked_month(q: &MonthQuery) -> Result<Option<baiqian_domain::time::Month>, AppError> {
    match q.month.as_deref() {
        None => Ok(None),
        Some(m) => baiqian_domain::time::Month::parse(m)
            .map(Some)
            .ok_or(AppError::NotFound),
    }
}

#[derive(Deserialize)]
pub(super) struct MonthQuery {
    month: Option<String>,
}

/// Attendance of a node and of each node directly below it, for a month (this month by default):
/// the cost grows with the children shown, not with the check-ins (each figure is a rollup row).
pub(super) async fn attendance_page(
    State(state): State<AppState>,
    Auth(me): Auth,
    tr: Tr,
    uri: OriginalUri,
    CodeParam(code): CodeParam,
    Query(q): Query<MonthQuery>,
) -> Result<Response, AppError> {
    let org = state.db.org(me.scope(), &code).await?;
    let (month, own, nodes, figures) = month_figures(&state, &me, &org, &q).await?;
    let children: Vec<_> = nodes.into_iter().zip(figures).collect();
    let absent = state
        .db
        .absent_members(&org, month.as_str(), LIST_LIMIT)
        .await?;
    let elsewhere = state
        .db
        .attended_elsewhere(&org, &month, LIST_LIMIT)
        .await?;
    let here = uri
        .0
        .path_and_query()
        .map(|p| p.as_str().to_string())
        .unwrap_or_default();
    html(&AttendancePage {
        tr,
        f: Frame::new(&state, &me, tr, &here, "tree").await?,
        org,
        month: month.to_string(),
        own,
        children,
        absent,
        elsewhere,
    })
}

#[derive(Template)]
#[template(path = "checkin/events.html")]
pub(super) struct EventsPage {
    tr: Tr,
    f: Frame,
    org: baiqian_store::kernel::Node,
    events: Vec<Event>,
    can_manage: bool,
    form: EventForm,
    error: Option<String>,
    /// The app's time now: a day whose window has closed offers no QR code to scan.
    now: i64,
}

impl EventsPage {
    fn time(&self, ms: &i64) -> String {
        self.tr.datetime(*ms)
    }
    fn open(&self, e: &Event) -> bool {
        e.ends_at > self.now
    }
}

#[derive(Deserialize, Default)]
pub(super) struct EventForm {
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
pub(super) async fn events_page(
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
        now: state.clock.now_ms(),
    })
}

pub(super) async fn create_event_form(
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
        now: state.clock.now_ms(),
    };
    let mut res = html(&page)?;
    *res.status_mut() = StatusCode::UNPROCESSABLE_ENTITY;
    Ok(res)
}

type MonthFigures = (
    baiqian_domain::time::Month,
    baiqian_store::checkin::Attendance,
    Vec<baiqian_store::kernel::Node>,
    Vec<baiqian_store::checkin::Attendance>,
);

/// The month asked for (when none, the latest month with figures up to this one, else this
/// month; a malformed one is 404), and that month's
/// attendance of the node and of each node directly below it: what the page and its export show.
async fn month_figures(
    state: &AppState,
    me: &crate::auth::CurrentUser,
    node: &baiqian_store::kernel::Node,
    q: &MonthQuery,
) -> Result<MonthFigures, AppError> {
    let month = match asked_month(q)? {
        Some(m) => m,
        None => {
            state
                .db
                .opening_attendance_month(node, state.clock.now_ms())
                .await?
        }
    };
    let own = state
        .db
        .attendance(me.scope(), &node.code, month.as_str())
        .await?;
    let nodes = state.db.org_children(me.scope(), &node.code, false).await?;
    let figures = state.db.attendance_of(&nodes, month.as_str()).await?;
    Ok((month, own, nodes, figures))
}

/// The activity days of a node (the newest 5,000), as `.xlsx`.
pub(super) async fn events_export(
    State(state): State<AppState>,
    Auth(me): Auth,
    tr: Tr,
    CodeParam(code): CodeParam,
) -> Result<Response, AppError> {
    use crate::excel::Cell;
    let org = state.db.org(me.scope(), &code).await?;
    let events = state.db.events_of(me.scope(), &code, 5_000).await?;
    let time = |ms: i64| baiqian_domain::time::format(ms, "%H:%M").unwrap_or_default();
    let rows: Vec<Vec<Cell>> = events
        .iter()
        .map(|e| {
            vec![
                Cell::Date(e.day.clone()),
                Cell::Text(time(e.starts_at)),
                Cell::Text(time(e.ends_at)),
                Cell::Text(e.topic.clone()),
                Cell::Text(e.place.clone()),
                Cell::Text(e.org_name.clone()),
            ]
        })
        .collect();
    let columns = [
        ("day", "日期"),
        ("starts", "开始"),
        ("ends", "结束"),
        ("topic", "主题"),
        ("place", "地点"),
        ("org", "组织"),
    ];
    let title =
        crate::excel::export_title(tr, "export.events", &org.name, &me, state.clock.now_ms());
    let bytes = crate::excel::write_list("活动日", &title, &columns, &rows)?;
    crate::excel::xlsx_response(bytes, &format!("events-{code}.xlsx"))
}

/// A month's attendance of a node and of each node below it, as the page shows it.
pub(super) async fn attendance_export(
    State(state): State<AppState>,
    Auth(me): Auth,
    tr: Tr,
    CodeParam(code): CodeParam,
    Query(q): Query<MonthQuery>,
) -> Result<Response, AppError> {
    use crate::excel::Cell;
    let org = state.db.org(me.scope(), &code).await?;
    let (month, own, nodes, figures) = month_figures(&state, &me, &org, &q).await?;
    let row = |name: &str, code: &str, a: &baiqian_store::checkin::Attendance| {
        vec![
            Cell::Text(name.to_string()),
            Cell::Text(code.to_string()),
            Cell::Text(month.to_string()),
            Cell::Number(a.due),
            Cell::Number(a.attended),
            Cell::Number(a.guests),
            Cell::Number(a.away),
        ]
    };
    let mut rows = vec![row(&org.name, org.code.as_str(), &own)];
    rows.extend(
        nodes
            .iter()
            .zip(&figures)
            .map(|(n, a)| row(&n.name, n.code.as_str(), a)),
    );
    let columns = [
        ("org", "组织"),
        ("code", "代码"),
        ("month", "月份"),
        ("due", "应参加党员"),
        ("attended", "已参加"),
        ("guests", "外来参加"),
        ("away", "在外参加"),
    ];
    let title = crate::excel::export_title(
        tr,
        "export.attendance",
        &org.name,
        &me,
        state.clock.now_ms(),
    );
    let bytes = crate::excel::write_list("出勤", &title, &columns, &rows)?;
    crate::excel::xlsx_response(bytes, &format!("attendance-{code}-{month}.xlsx"))
}

/// `GET /orgs/{code}/attendance/chart?month=YYYY-MM`: the twelve months up to the one asked for
/// (the page's), as shares of the members due: attended anywhere, and attended at another
/// organization. Each bar opens that month's attendance page.
pub(super) async fn attendance_chart(
    State(state): State<AppState>,
    Auth(me): Auth,
    tr: Tr,
    CodeParam(code): CodeParam,
    Query(q): Query<MonthQuery>,
) -> Result<Response, AppError> {
    use crate::chart::{ChartData, ChartKind};
    let org = state.db.org(me.scope(), &code).await?;
    let last = match asked_month(&q)? {
        Some(m) => m,
        None => {
            baiqian_domain::time::Month::of_ms(state.clock.now_ms()).ok_or(AppError::NotFound)?
        }
    };
    let mut months = vec![last.clone()];
    for _ in 1..12 {
        let before = months[months.len() - 1].previous();
        months.push(before);
    }
    months.reverse();
    let rows = state
        .db
        .attendance_months(&org, months[0].as_str(), last.as_str())
        .await?;
    let by_month: std::collections::HashMap<&str, &baiqian_store::checkin::MonthAttendance> =
        rows.iter().map(|r| (r.month.as_str(), r)).collect();
    let share = |n: i64| {
        if org.member_count == 0 {
            0.0
        } else {
            (n as f64 * 1000.0 / org.member_count as f64).round() / 10.0
        }
    };
    let figure = |m: &baiqian_domain::time::Month,
                  f: fn(&baiqian_store::checkin::MonthAttendance) -> i64| {
        share(by_month.get(m.as_str()).map(|r| f(r)).unwrap_or(0))
    };
    let page = |m: &baiqian_domain::time::Month, anchor: &str| {
        format!("/orgs/{}/attendance?month={m}{anchor}", org.code)
    };
    let mut data = ChartData::new(
        ChartKind::Bar,
        months.iter().map(|m| m.to_string()).collect(),
    )
    .series(
        tr.t("attendance.chart.attended").to_string(),
        months.iter().map(|m| figure(m, |r| r.attended)).collect(),
        months.iter().map(|m| page(m, "")).collect(),
    )
    .series(
        tr.t("attendance.chart.away").to_string(),
        months.iter().map(|m| figure(m, |r| r.away)).collect(),
        months.iter().map(|m| page(m, "#elsewhere")).collect(),
    );
    data.unit = "%".into();
    Ok(data.into_response())
}
