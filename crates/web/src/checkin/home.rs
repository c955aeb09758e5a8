//! The activity days' part of each home: today's activity day of the reader's organization
//! (its QR one tap away for the officers who show it), the recent ones, and a member's own
//! attendance month by month.

use super::*;
use crate::auth::CurrentUser;
use crate::task::Task;

/// Activity days shown on a home.
const HOME_EVENTS: i64 = 6;

fn today(state: &AppState) -> String {
    baiqian_domain::time::china_date(state.clock.now_ms())
}

async fn own_events(state: &AppState, me: &CurrentUser) -> Result<Vec<Event>, AppError> {
    let Some(root) = &me.actor.scope.root else {
        return Ok(Vec::new());
    };
    if !me.role().may(Capability::ReadActivityDays) {
        return Ok(Vec::new());
    }
    Ok(state.db.events_of(me.scope(), root, HOME_EVENTS).await?)
}

/// Today's activity days of the reader's own organization: to run (with its QR) for the
/// officers, to attend for everyone else.
pub(crate) async fn tasks(
    state: &AppState,
    me: &CurrentUser,
    tr: Tr,
) -> Result<Vec<Task>, AppError> {
    let today = today(state);
    let runs = me.role().may(Capability::ShowCheckinCode);
    Ok(own_events(state, me)
        .await?
        .into_iter()
        .filter(|e| e.day == today)
        .map(|e| {
            let (kind, url) = if runs {
                ("activity_day", format!("/events/{}/qr", e.id))
            } else {
                ("check_in", "/#home-events".to_string())
            };
            Task {
                kind,
                title: tr.f(
                    &format!("task.{kind}"),
                    &[("topic", &e.topic), ("place", &e.place)],
                ),
                url,
                due: Some(e.day),
            }
        })
        .collect())
}

#[derive(Template)]
#[template(path = "checkin/home.html")]
struct CheckinHome {
    tr: Tr,
    today: String,
    org_code: String,
    events: Vec<Event>,
    runs: bool,
    reads_attendance: bool,
    /// The reader's own months attended this year and last, when they are a member.
    months: Option<(i32, Vec<String>, Vec<String>)>,
    /// The reader's member record, where every month attended is listed.
    member_id: i64,
}

impl CheckinHome {
    fn time(&self, ms: &i64) -> String {
        baiqian_domain::time::format(*ms, "%H:%M").unwrap_or_default()
    }
}

pub(crate) async fn home_part(
    state: &AppState,
    me: &CurrentUser,
    tr: Tr,
) -> Result<Option<String>, AppError> {
    let Some(root) = &me.actor.scope.root else {
        return Ok(None);
    };
    let events = own_events(state, me).await?;
    let today = today(state);
    let months = match me.user.member_id {
        Some(id) => {
            let year: i32 = today.get(..4).and_then(|y| y.parse().ok()).unwrap_or(2016);
            own_months(state, me, id, year).await?
        }
        None => None,
    };
    if events.is_empty() && months.is_none() {
        return Ok(None);
    }
    let page = CheckinHome {
        tr,
        today,
        org_code: root.to_string(),
        events,
        runs: me.role().may(Capability::ShowCheckinCode),
        reads_attendance: me.role().may(Capability::ReadAttendance),
        months,
        member_id: me.user.member_id.unwrap_or(0),
    };
    Ok(Some(page.render().map_err(|e| {
        AppError::Internal(format!("template: {e}"))
    })?))
}

/// A member's months attended this year and last; none when their record is outside the
/// account's scope (an official whose own branch is elsewhere).
async fn own_months(
    state: &AppState,
    me: &CurrentUser,
    id: i64,
    year: i32,
) -> Result<Option<(i32, Vec<String>, Vec<String>)>, AppError> {
    match state.db.months_attended(me.scope(), id, year).await {
        Ok(this) => Ok(Some((
            year,
            this,
            state.db.months_attended(me.scope(), id, year - 1).await?,
        ))),
        Err(baiqian_store::StoreError::NotFound) => Ok(None),
        Err(e) => Err(e.into()),
    }
}
