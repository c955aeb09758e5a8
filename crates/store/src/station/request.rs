//! Requests to a station from the public (no sign-in): a service the station offers, who asks,
//! a phone (sealed; only ever shown back masked), where and when. The requester gets a
//! follow-up code (10 characters of 32, about 50 bits, random) to see the state and leave
//! feedback once it is done. The station's keeper assigns a volunteer, who marks it done;
//! a keeper may withdraw a request that is not genuine. Each step is one `UPDATE … WHERE
//! status = <from>`, audited, and moves the (station, service) tallies in its transaction.

use baiqian_domain::Msg;
use baiqian_domain::capability::Capability;
use baiqian_domain::member::Phone;
use serde::Serialize;
use serde_json::json;
use sqlx::any::AnyRow;
use sqlx::{AnyConnection, Row};

use super::station_in_scope;
use crate::audit::{self, Change};
use crate::check::{conflict, denied, invalid, text};
use crate::vault::Vault;
use crate::{Actor, Db, Result, StoreError};

/// Where a request stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum RequestStatus {
    Received,
    Assigned,
    Done,
    Withdrawn,
}

impl RequestStatus {
    pub const ALL: [RequestStatus; 4] = [
        RequestStatus::Received,
        RequestStatus::Assigned,
        RequestStatus::Done,
        RequestStatus::Withdrawn,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            RequestStatus::Received => "received",
            RequestStatus::Assigned => "assigned",
            RequestStatus::Done => "done",
            RequestStatus::Withdrawn => "withdrawn",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|d| d.as_str() == s)
    }
}

/// Which requests a station's list shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RequestFilter {
    All,
    Status(RequestStatus),
}

/// A request as typed by the public.
#[derive(Debug, Clone, Default)]
pub struct NewServiceRequest {
    pub service_id: i64,
    pub name: String,
    pub phone: String,
    pub place: String,
    pub wanted: String,
    pub note: String,
}

/// What the requester sees with their code: never their phone whole, never a volunteer's name.
#[derive(Debug, Clone, Serialize)]
pub struct PublicRequest {
    pub code: String,
    pub status: RequestStatus,
    pub service: String,
    pub station: String,
    pub station_id: i64,
    pub phone: String,
    pub place: String,
    pub received_at: i64,
    pub assigned_at: Option<i64>,
    pub done_at: Option<i64>,
    pub done_note: Option<String>,
    pub feedback_score: Option<i64>,
}

/// A request as the station's keepers and the assigned volunteer see it.
#[derive(Debug, Clone, Serialize)]
pub struct ServiceRequest {
    pub id: i64,
    pub station_id: i64,
    pub station: String,
    pub service_id: i64,
    pub service: String,
    pub org_path: String,
    pub status: RequestStatus,
    pub requester: String,
    /// Whole for the assigned volunteer (who calls), masked for everyone else.
    pub phone: String,
    pub place: String,
    pub wanted: String,
    pub note: String,
    pub received_at: i64,
    pub assigned_to: Option<String>,
    pub assigned_at: Option<i64>,
    pub done_at: Option<i64>,
    pub done_note: Option<String>,
    pub closed_reason: Option<String>,
    pub feedback_score: Option<i64>,
    pub feedback_note: Option<String>,
}

/// The follow-up code's alphabet: no 0/O, 1/I/L to misread on a phone.
const CODE_ALPHABET: &[u8; 32] = b"23456789ABCDEFGHJKMNPQRSTUVWXYZ9";
const CODE_LEN: usize = 10;

pub(super) fn new_code() -> Result<String> {
    let mut bytes = [0u8; CODE_LEN];
    getrandom::fill(&mut bytes).map_err(|e| StoreError::Corrupt(format!("random: {e}")))?;
    Ok(bytes
        .iter()
        .map(|b| char::from(CODE_ALPHABET[usize::from(b & 31)]))
        .collect())
}

/// A follow-up code as typed (spaces and case forgiven), or None when it cannot be one.
pub fn parse_code(s: &str) -> Option<String> {
    let c: String = s
        .chars()
        .filter(|c| !c.is_whitespace() && *c != '-')
        .take(CODE_LEN + 1)
        .collect::<String>()
        .to_ascii_uppercase();
    (c.len() == CODE_LEN && c.bytes().all(|b| CODE_ALPHABET.contains(&b))).then_some(c)
}

const REQUEST_COLUMNS: &str = "r.id, r.code, r.station_id, s.name AS station, r.service_id, \
    v.name AS service, r.org_path, r.status, r.requester, r.phone_sealed, r.phone_masked, \
    r.place, r.wanted, r.note, r.received_at, r.assigned_to, r.assigned_at, r.done_at, \
    r.done_note, r.closed_reason, r.feedback_score, r.feedback_note";

pub(super) const REQUEST_FROM: &str = "service_requests r JOIN stations s ON s.id = r.station_id \
    JOIN station_services v ON v.id = r.service_id";

fn status_of(r: &AnyRow) -> Result<RequestStatus> {
    let s: String = r.try_get("status")?;
    RequestStatus::parse(&s).ok_or_else(|| StoreError::Corrupt(format!("request status {s}")))
}

fn request_from_row(r: &AnyRow, actor: &Actor, vault: Option<&Vault>) -> Result<ServiceRequest> {
    let id: i64 = r.try_get("id")?;
    let assigned_to: Option<String> = r.try_get("assigned_to")?;
    let phone = match vault {
        Some(vault) if assigned_to.as_deref() == Some(actor.login.as_str()) => vault
            .open(&r.try_get::<String, _>("phone_sealed")?)
            .map_err(|_| {
                StoreError::Corrupt(format!("request {id}: sealed phone does not open"))
            })?,
        _ => r.try_get("phone_masked")?,
    };
    Ok(ServiceRequest {
        id,
        station_id: r.try_get("station_id")?,
        station: r.try_get("station")?,
        service_id: r.try_get("service_id")?,
        service: r.try_get("service")?,
        org_path: r.try_get("org_path")?,
        status: status_of(r)?,
        requester: r.try_get("requester")?,
        phone,
        place: r.try_get("place")?,
        wanted: r.try_get("wanted")?,
        note: r.try_get("note")?,
        received_at: r.try_get("received_at")?,
        assigned_to,
        assigned_at: r.try_get("assigned_at")?,
        done_at: r.try_get("done_at")?,
        done_note: r.try_get("done_note")?,
        closed_reason: r.try_get("closed_reason")?,
        feedback_score: r.try_get("feedback_score")?,
        feedback_note: r.try_get("feedback_note")?,
    })
}

/// Adds to the (station, service)'s figures, creating its row at the first request.
async fn tally(
    conn: &mut AnyConnection,
    station_id: i64,
    service_id: i64,
    org_path: &str,
    column_deltas: &[(&str, i64)],
) -> Result<()> {
    let first: Vec<String> = super::TALLY_COLUMNS
        .iter()
        .map(|c| {
            let d = column_deltas
                .iter()
                .find(|(k, _)| k == c)
                .map_or(0, |(_, d)| *d);
            d.to_string()
        })
        .collect();
    let sets: Vec<String> = column_deltas
        .iter()
        .map(|(c, d)| format!("{c} = station_tallies.{c} + ({d})"))
        .collect();
    sqlx::query(&format!(
        "INSERT INTO station_tallies (station_id, service_id, org_path, {}) \
         VALUES ($1, $2, $3, {}) ON CONFLICT (station_id, service_id) DO UPDATE SET {}",
        super::TALLY_COLUMNS.join(", "),
        first.join(", "),
        sets.join(", ")
    ))
    .bind(station_id)
    .bind(service_id)
    .bind(org_path)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

impl Db {
    /// Takes a request from the public for a service the station offers; returns the
    /// follow-up code. Nothing is written when anything is wrong.
    pub async fn submit_service_request(
        &self,
        vault: &Vault,
        station_id: i64,
        new: &NewServiceRequest,
        now: i64,
    ) -> Result<String> {
        let name = text(&new.name, 1, 20, "station.error.requester")?;
        let phone = Phone::parse(&new.phone).map_err(|e| StoreError::Invalid(e.msg()))?;
        let place = text(&new.place, 2, 100, "station.error.where")?;
        let wanted = text(&new.wanted, 0, 40, "station.error.when")?;
        let note = text(&new.note, 0, 300, "station.error.note")?;
        let sealed = vault
            .seal(phone.as_str())
            .map_err(|e| StoreError::Corrupt(format!("vault: {e}")))?;
        let offered = sqlx::query(
            "SELECT s.org_path, s.open FROM stations s JOIN station_offers f \
             ON f.station_id = s.id AND f.service_id = $2 WHERE s.id = $1",
        )
        .bind(station_id)
        .bind(new.service_id)
        .fetch_optional(self.pool())
        .await?;
        let Some(offered) = offered else {
            return Err(invalid("station.error.service"));
        };
        if offered.try_get::<i64, _>("open")? == 0 {
            return Err(conflict("station.error.closed"));
        }
        let org_path: String = offered.try_get("org_path")?;
        let code = new_code()?;
        let mut tx = self.write().await?;
        sqlx::query(
            "INSERT INTO service_requests (code, station_id, service_id, org_path, requester, \
             phone_sealed, phone_masked, place, wanted, note, status, received_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, 'received', $11)",
        )
        .bind(&code)
        .bind(station_id)
        .bind(new.service_id)
        .bind(&org_path)
        .bind(&name)
        .bind(&sealed)
        .bind(phone.masked())
        .bind(&place)
        .bind(&wanted)
        .bind(&note)
        .bind(now)
        .execute(tx.conn())
        .await?;
        tally(
            tx.conn(),
            station_id,
            new.service_id,
            &org_path,
            &[("received", 1), ("waiting", 1)],
        )
        .await?;
        tx.commit().await?;
        Ok(code)
    }

    /// A request by its follow-up code, as the requester sees it.
    pub async fn public_request(&self, code: &str) -> Result<PublicRequest> {
        let code = parse_code(code).ok_or(StoreError::NotFound)?;
        let r = sqlx::query(&format!(
            "SELECT {REQUEST_COLUMNS} FROM {REQUEST_FROM} WHERE r.code = $1"
        ))
        .bind(&code)
        .fetch_optional(self.pool())
        .await?
        .ok_or(StoreError::NotFound)?;
        Ok(PublicRequest {
            code,
            status: status_of(&r)?,
            service: r.try_get("service")?,
            station: r.try_get("station")?,
            station_id: r.try_get("station_id")?,
            phone: r.try_get("phone_masked")?,
            place: r.try_get("place")?,
            received_at: r.try_get("received_at")?,
            assigned_at: r.try_get("assigned_at")?,
            done_at: r.try_get("done_at")?,
            done_note: r.try_get("done_note")?,
            feedback_score: r.try_get("feedback_score")?,
        })
    }

    /// The id of the request with this follow-up code (for loaders that take its steps).
    pub async fn service_request_id(&self, code: &str) -> Result<i64> {
        let code = parse_code(code).ok_or(StoreError::NotFound)?;
        Ok(
            sqlx::query("SELECT id FROM service_requests WHERE code = $1")
                .bind(&code)
                .fetch_optional(self.pool())
                .await?
                .ok_or(StoreError::NotFound)?
                .try_get(0)?,
        )
    }

    /// The requester's feedback on a request done: a score of 1 to 5 and a few words, once.
    pub async fn request_feedback(
        &self,
        code: &str,
        score: i64,
        note: &str,
        now: i64,
    ) -> Result<()> {
        let code = parse_code(code).ok_or(StoreError::NotFound)?;
        if !(1..=5).contains(&score) {
            return Err(invalid("station.error.score"));
        }
        let note = text(note, 0, 300, "station.error.note")?;
        let mut tx = self.write().await?;
        let r = sqlx::query(
            "SELECT station_id, service_id, org_path, status, feedback_score FROM service_requests \
             WHERE code = $1",
        )
        .bind(&code)
        .fetch_optional(tx.conn())
        .await?
        .ok_or(StoreError::NotFound)?;
        if status_of(&r)? != RequestStatus::Done {
            return Err(conflict("station.error.not_done"));
        }
        let changed = sqlx::query(
            "UPDATE service_requests SET feedback_score = $1, feedback_note = $2, feedback_at = $3 \
             WHERE code = $4 AND status = 'done' AND feedback_score IS NULL",
        )
        .bind(score)
        .bind(&note)
        .bind(now)
        .bind(&code)
        .execute(tx.conn())
        .await?
        .rows_affected();
        if changed != 1 {
            return Err(conflict("station.error.feedback_given"));
        }
        tally(
            tx.conn(),
            r.try_get("station_id")?,
            r.try_get("service_id")?,
            &r.try_get::<String, _>("org_path")?,
            &[("score_sum", score), ("scored", 1)],
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// The request `id` as the actor may see it: the keepers of its station, and the
    /// volunteer it is assigned to (who sees the phone whole).
    pub async fn service_request(
        &self,
        actor: &Actor,
        vault: &Vault,
        id: i64,
    ) -> Result<ServiceRequest> {
        let mut conn = self.pool().acquire().await?;
        request_visible(&mut conn, actor, Some(vault), id).await
    }

    /// A station's requests that `filter` shows, newest first, a page.
    pub async fn station_requests(
        &self,
        actor: &Actor,
        station_id: i64,
        filter: RequestFilter,
        offset: i64,
        limit: i64,
    ) -> Result<Vec<ServiceRequest>> {
        let status = match filter {
            RequestFilter::All => "",
            RequestFilter::Status(s) => s.as_str(),
        };
        // A volunteer (who serves and does not keep) lists only what was given to them.
        let only = if reads_all(actor) {
            ""
        } else {
            actor.login.as_str()
        };
        sqlx::query(&format!(
            "SELECT {REQUEST_COLUMNS} FROM {REQUEST_FROM} WHERE r.station_id = $1 \
             AND ($2 = '' OR r.status = $2) AND r.org_path >= $3 AND r.org_path < $4 \
             AND ($7 = '' OR r.assigned_to = $7) \
             ORDER BY r.received_at DESC, r.id DESC LIMIT $5 OFFSET $6"
        ))
        .bind(station_id)
        .bind(status)
        .bind(actor.scope.lower())
        .bind(actor.scope.upper())
        .bind(limit)
        .bind(offset)
        .bind(only)
        .fetch_all(self.pool())
        .await?
        .iter()
        .map(|r| request_from_row(r, actor, None))
        .collect()
    }

    /// The requests assigned to the actor and not done yet (a volunteer's home), oldest first.
    pub async fn my_service_requests(
        &self,
        actor: &Actor,
        vault: &Vault,
    ) -> Result<Vec<ServiceRequest>> {
        sqlx::query(&format!(
            "SELECT {REQUEST_COLUMNS} FROM {REQUEST_FROM} WHERE r.assigned_to = $1 \
             AND r.status = 'assigned' ORDER BY r.received_at LIMIT 200"
        ))
        .bind(&actor.login)
        .fetch_all(self.pool())
        .await?
        .iter()
        .map(|r| request_from_row(r, actor, Some(vault)))
        .collect()
    }

    /// Who may be given a station's requests: the active accounts at and under its place.
    pub async fn station_volunteers(
        &self,
        actor: &Actor,
        station_id: i64,
    ) -> Result<Vec<(String, String)>> {
        let mut conn = self.pool().acquire().await?;
        let station = station_in_scope(&mut conn, actor, station_id).await?;
        crate::kernel::accounts_under(&mut conn, &station.org_path, None).await
    }

    /// The keeper gives a request to a volunteer at or under the station's place (again, to
    /// another, while it is not done).
    pub async fn assign_service_request(
        &self,
        actor: &Actor,
        id: i64,
        volunteer: &str,
        now: i64,
    ) -> Result<()> {
        if !actor.role.may(Capability::KeepStations) {
            return Err(denied());
        }
        let mut tx = self.write().await?;
        let req = request_visible(tx.conn(), actor, None, id).await?;
        let station_path: String = sqlx::query("SELECT org_path FROM stations WHERE id = $1")
            .bind(req.station_id)
            .fetch_one(tx.conn())
            .await?
            .try_get(0)?;
        let found =
            crate::kernel::accounts_under(tx.conn(), &station_path, Some(volunteer)).await?;
        if found.is_empty() {
            return Err(invalid("station.error.volunteer"));
        }
        // Only a request not done nor set aside is given (again); the status in the WHERE
        // makes it once against a step taken meanwhile.
        if !matches!(
            req.status,
            RequestStatus::Received | RequestStatus::Assigned
        ) {
            return Err(moved(req.status));
        }
        let changed = sqlx::query(
            "UPDATE service_requests SET status = 'assigned', assigned_to = $1, assigned_by = $2, \
             assigned_at = COALESCE(assigned_at, $3) WHERE id = $4 AND status = $5",
        )
        .bind(volunteer)
        .bind(&actor.login)
        .bind(now)
        .bind(id)
        .bind(req.status.as_str())
        .execute(tx.conn())
        .await?
        .rows_affected();
        if changed != 1 {
            return Err(moved(req.status));
        }
        if req.status == RequestStatus::Received {
            tally(
                tx.conn(),
                req.station_id,
                req.service_id,
                &req.org_path,
                &[
                    ("waiting", -1),
                    ("in_hand", 1),
                    ("response_ms", (now - req.received_at).max(0)),
                    ("responded", 1),
                ],
            )
            .await?;
        }
        audit::record(
            tx.conn(),
            actor,
            now,
            Change {
                action: "assign",
                entity: "service_request",
                key: format!("#{id} {}", req.service),
                org_path: req.org_path.clone(),
                before: Some(json!({ "request_status": req.status.as_str(),
                                     "volunteer": req.assigned_to })),
                after: Some(json!({ "request_status": "assigned", "volunteer": volunteer })),
                reason: None,
            },
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// The volunteer (or a keeper) marks an assigned request done, saying what was done.
    pub async fn complete_service_request(
        &self,
        actor: &Actor,
        id: i64,
        note: &str,
        now: i64,
    ) -> Result<()> {
        if !actor.role.may(Capability::ServeStations) {
            return Err(denied());
        }
        let note = text(note, 2, 300, "station.error.done_note")?;
        let mut tx = self.write().await?;
        let req = request_visible(tx.conn(), actor, None, id).await?;
        let mine = req.assigned_to.as_deref() == Some(actor.login.as_str());
        if !mine && !keeps(actor, &req.org_path) {
            return Err(StoreError::Denied(Msg::new("station.error.not_yours")));
        }
        close(
            &mut tx,
            actor,
            &req,
            (RequestStatus::Assigned, RequestStatus::Done),
            &note,
            now,
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// A keeper withdraws a request that is not genuine (or asked twice), with a reason.
    pub async fn withdraw_service_request(
        &self,
        actor: &Actor,
        id: i64,
        reason: &str,
        now: i64,
    ) -> Result<()> {
        if !actor.role.may(Capability::KeepStations) {
            return Err(denied());
        }
        let reason = text(reason, 2, 200, "station.error.reason")?;
        let mut tx = self.write().await?;
        let req = request_visible(tx.conn(), actor, None, id).await?;
        if !keeps(actor, &req.org_path) {
            return Err(denied());
        }
        let from = match req.status {
            RequestStatus::Received | RequestStatus::Assigned => req.status,
            s => return Err(moved(s)),
        };
        close(
            &mut tx,
            actor,
            &req,
            (from, RequestStatus::Withdrawn),
            &reason,
            now,
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }
}

/// Moves a request `from` → `to` (done or withdrawn) once, its tallies with it, audited.
async fn close(
    tx: &mut crate::WriteTx,
    actor: &Actor,
    req: &ServiceRequest,
    (from, to): (RequestStatus, RequestStatus),
    words: &str,
    now: i64,
) -> Result<()> {
    let set = if to == RequestStatus::Done {
        "done_at = $1, done_note = $2"
    } else {
        "closed_reason = $2, done_at = $1"
    };
    let changed = sqlx::query(&format!(
        "UPDATE service_requests SET status = $3, {set} WHERE id = $4 AND status = $5"
    ))
    .bind(now)
    .bind(words)
    .bind(to.as_str())
    .bind(req.id)
    .bind(from.as_str())
    .execute(tx.conn())
    .await?
    .rows_affected();
    if changed != 1 || req.status != from {
        return Err(moved(req.status));
    }
    let was = if from == RequestStatus::Received {
        "waiting"
    } else {
        "in_hand"
    };
    let deltas: Vec<(&str, i64)> = if to == RequestStatus::Done {
        vec![
            (was, -1),
            ("done", 1),
            ("completion_ms", (now - req.received_at).max(0)),
        ]
    } else {
        vec![(was, -1), ("withdrawn", 1)]
    };
    tally(
        tx.conn(),
        req.station_id,
        req.service_id,
        &req.org_path,
        &deltas,
    )
    .await?;
    let (action, after) = if to == RequestStatus::Done {
        (
            "complete",
            json!({ "request_status": to.as_str(), "note": words }),
        )
    } else {
        ("dismiss", json!({ "request_status": to.as_str() }))
    };
    audit::record(
        tx.conn(),
        actor,
        now,
        Change {
            action,
            entity: "service_request",
            key: format!("#{} {}", req.id, req.service),
            org_path: req.org_path.clone(),
            before: Some(json!({ "request_status": from.as_str() })),
            after: Some(after),
            reason: (to == RequestStatus::Withdrawn).then(|| words.to_string()),
        },
    )
    .await?;
    Ok(())
}

/// Whether the actor reads every request of the stations in scope: the keepers, and the
/// readers who serve none (leaders, auditors). A volunteer reads the ones given to them.
fn reads_all(actor: &Actor) -> bool {
    actor.role.may(Capability::KeepStations) || !actor.role.may(Capability::ServeStations)
}

/// Whether the actor keeps stations where the request is.
fn keeps(actor: &Actor, path: &str) -> bool {
    actor.role.may(Capability::KeepStations) && actor.scope.contains_path(path)
}

fn moved(status: RequestStatus) -> StoreError {
    StoreError::Conflict(Msg::new("station.error.status").arg("request_status", status.as_str()))
}

/// The request `id` if the actor keeps its station or is its volunteer; else not found.
async fn request_visible(
    conn: &mut AnyConnection,
    actor: &Actor,
    vault: Option<&Vault>,
    id: i64,
) -> Result<ServiceRequest> {
    // Who may see it is asked of the database: a request out of reach is not read at all
    // (nor its phone opened).
    let r = sqlx::query(&format!(
        "SELECT {REQUEST_COLUMNS} FROM {REQUEST_FROM} WHERE r.id = $1 AND (r.assigned_to = $2 \
         OR ($5 = 1 AND r.org_path >= $3 AND r.org_path < $4))"
    ))
    .bind(id)
    .bind(&actor.login)
    .bind(actor.scope.lower())
    .bind(actor.scope.upper())
    .bind(i64::from(reads_all(actor)))
    .fetch_optional(&mut *conn)
    .await?
    .ok_or(StoreError::NotFound)?;
    request_from_row(&r, actor, vault)
}
