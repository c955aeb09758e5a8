//! Activity days and check-in: the device API, the rotating QR code a member's phone scans, the
//! officer's manual check-in, attendance. Every check-in goes through one group-commit writer.

pub(crate) mod api;
pub mod device;
mod home;
mod pages;
mod qr;

// The parts share their helpers through this module (each part says `use super::*`).
pub(crate) use self::home::{home_part, tasks};
#[allow(unused_imports)]
use self::{api::*, pages::*, qr::*};
#[allow(unused_imports)]
use crate::checkin_writer::*;

use askama::Template;
use axum::Form;
use axum::Json;
use axum::extract::{OriginalUri, Path, Query, State};
use axum::http::StatusCode;
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

use crate::auth::{Auth, random_token};
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
            "/orgs/{code}/attendance/chart",
            Capability::ReadAttendance,
            attendance_chart,
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
        .get(
            "/orgs/{code}/events.xlsx",
            Capability::ExportLists,
            events_export,
        )
        .get(
            "/orgs/{code}/attendance.xlsx",
            Capability::ReadAttendance,
            attendance_export,
        )
}

use baiqian_domain::time::china_ms as local_ms;
