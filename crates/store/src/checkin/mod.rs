//! Activity days (党员固定活动日), card readers, check-ins (签到) and attendance.
//!
//! Check-ins arrive in bursts; `apply_checkins` takes a whole batch in one transaction (the web
//! layer's group-commit writer gathers it), checks each request, appends the accepted ones, and
//! keeps the attendance rollups in step in the same transaction.

mod card;
mod device;
mod lists;
mod load;

// The parts share their helpers through this module (each part says `use super::*`).
#[allow(unused_imports)]
use self::{card::*, device::*, load::*};
pub(crate) use device::follow_tree;
pub use lists::{AbsentMember, AttendedElsewhere, MonthAttendance};
pub use load::{BulkCheckin, CheckinLoader};

use std::collections::BTreeMap;

use baiqian_domain::Msg;
use baiqian_domain::org::OrgCode;
use baiqian_domain::scope::Scope;
use serde::Serialize;
use serde_json::json;
use sqlx::{AnyConnection, Row};

use crate::audit::{self, Change};
use crate::kernel::Node;
use crate::kernel::TreeEvent;
use crate::kernel::org_in_scope;
use crate::{Actor, Db, Result, StoreError};

mod batch;

#[derive(Debug, Clone, Serialize)]
pub struct Device {
    pub id: i64,
    pub org_code: String,
    pub name: String,
}

/// A device as lists show it: where it stands and whether it was revoked (when).
#[derive(Debug, Clone, Serialize)]
pub struct DeviceRow {
    pub device: Device,
    pub org_name: String,
    pub revoked_at: Option<i64>,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Event {
    pub id: i64,
    pub org_code: String,
    pub org_name: String,
    pub day: String,
    pub starts_at: i64,
    pub ends_at: i64,
    pub topic: String,
    pub place: String,
    #[serde(skip)]
    pub qr_secret: String,
}

#[derive(Debug, Clone)]
pub struct NewEvent {
    pub org: OrgCode,
    pub day: String,
    pub starts_at: i64,
    pub ends_at: i64,
    pub topic: String,
    pub place: String,
}

/// Who is checking in: a swiped card, or a member known otherwise (phone, officer).
#[derive(Debug, Clone, PartialEq)]
pub enum Attendee {
    Card(String),
    Member(i64),
}

#[derive(Debug, Clone)]
pub struct CheckinRequest {
    pub client_id: String,
    pub attendee: Attendee,
    pub event_id: i64,
    pub at: i64,
    /// `card`, `qr` or `manual`.
    pub method: &'static str,
    /// The reader that sent it; it must belong to the event's organization.
    pub device: Option<Device>,
    pub actor_login: Option<String>,
    pub reason: Option<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub enum CheckinOutcome {
    Created {
        id: i64,
        member_id: i64,
    },
    /// The same client id was accepted before.
    Repeat {
        id: i64,
    },
    /// The member already attended this event (under another client id).
    Already,
    Refused(Msg),
}

/// Attendance of a node's subtree in a month.
#[derive(Debug, Clone, Default, Serialize, PartialEq, Eq)]
pub struct Attendance {
    /// Members whose home organization is in the subtree.
    pub due: i64,
    /// Of those, how many attended at least once in the month, anywhere.
    pub attended: i64,
    /// Attendances at hosts in the subtree by members from outside it.
    pub guests: i64,
    /// Attendances by members of the subtree at hosts outside it.
    pub away: i64,
}

impl Attendance {
    /// Attended as a share of due, `73.4%`, or a dash when nobody is due: what the attendance
    /// page and the screen show.
    pub fn rate_text(&self) -> String {
        if self.due == 0 {
            "—".into()
        } else {
            format!("{:.1}%", self.attended as f64 * 100.0 / self.due as f64)
        }
    }
}

pub use baiqian_domain::time::month_of;

fn codes(path: &str) -> Vec<&str> {
    path.trim_matches('/')
        .split('/')
        .filter(|c| !c.is_empty())
        .collect()
}

/// Adds one check-in to the rollup changes of every node above its home and its host: a member's
/// first attendance of the month counts as attended at each node above home; each node above the
/// host but not above home sees a guest, each node above home but not above the host an away.
pub(crate) fn count_attendance(
    deltas: &mut BTreeMap<(String, String), (i64, i64, i64)>,
    home_path: &str,
    host_path: &str,
    month: &str,
    first_of_month: bool,
) {
    let home_codes = codes(home_path);
    let host_codes = codes(host_path);
    for c in &home_codes {
        let d = deltas
            .entry(((*c).to_string(), month.to_string()))
            .or_default();
        if first_of_month {
            d.0 += 1;
        }
        if !host_codes.contains(c) {
            d.2 += 1;
        }
    }
    for c in host_codes.iter().filter(|c| !home_codes.contains(c)) {
        deltas
            .entry(((*c).to_string(), month.to_string()))
            .or_default()
            .1 += 1;
    }
}

/// A check-in may be stamped at most this far ahead of the server's clock.
const MAX_CLOCK_SKEW_MS: i64 = 5 * 60_000;

impl Db {
    /// Schedules an activity day at an organization in the actor's scope.
    pub async fn create_event(
        &self,
        actor: &Actor,
        new: NewEvent,
        qr_secret: &str,
        now: i64,
    ) -> Result<Event> {
        if !actor.role.may_manage_members() {
            return Err(StoreError::Denied(Msg::new("error.denied")));
        }
        if new.ends_at <= new.starts_at {
            return Err(StoreError::Invalid(Msg::new("event.error.window")));
        }
        let mut tx = self.write().await?;
        let o = org_in_scope(tx.conn(), &actor.scope, &new.org).await?;
        if o.is_retired() {
            return Err(StoreError::Invalid(Msg::new("org.error.retired")));
        }
        let id: i64 = sqlx::query(
            "INSERT INTO activity_days (org_code, day, starts_at, ends_at, topic, place, qr_secret, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id",
        )
        .bind(o.code.as_str())
        .bind(&new.day)
        .bind(new.starts_at)
        .bind(new.ends_at)
        .bind(&new.topic)
        .bind(&new.place)
        .bind(qr_secret)
        .bind(now)
        .fetch_one(tx.conn())
        .await?
        .try_get(0)?;
        let after = json!({ "org": o.code, "day": new.day, "starts_at": new.starts_at, "ends_at": new.ends_at, "topic": new.topic, "place": new.place });
        audit::record(
            tx.conn(),
            actor,
            now,
            Change::create("activity_day", &id.to_string(), &o.path, after),
        )
        .await?;
        tx.commit().await?;
        event_row(&mut *self.pool().acquire().await?, id)
            .await?
            .ok_or(StoreError::NotFound)
    }

    /// An event whose organization lies in `scope`.
    pub async fn event(&self, scope: &Scope, id: i64) -> Result<Event> {
        let mut conn = self.pool().acquire().await?;
        let e = event_row(&mut conn, id)
            .await?
            .ok_or(StoreError::NotFound)?;
        let code = OrgCode::parse(&e.org_code)
            .map_err(|_| StoreError::Corrupt(format!("event {id} org")))?;
        org_in_scope(&mut conn, scope, &code).await?;
        Ok(e)
    }

    /// The activity days of a node in scope, newest first.
    pub async fn events_of(&self, scope: &Scope, code: &OrgCode, limit: i64) -> Result<Vec<Event>> {
        let mut conn = self.pool().acquire().await?;
        let node = org_in_scope(&mut conn, scope, code).await?;
        let ids: Vec<(i64,)> = sqlx::query_as("SELECT id FROM activity_days WHERE org_code = $1 ORDER BY starts_at DESC, id DESC LIMIT $2")
            .bind(node.code.as_str())
            .bind(limit)
            .fetch_all(&mut *conn)
            .await?;
        let mut out = Vec::with_capacity(ids.len());
        for (id,) in ids {
            if let Some(e) = event_row(&mut conn, id).await? {
                out.push(e);
            }
        }
        Ok(out)
    }

    /// Any event, for a member checking in by phone (a member attends wherever they are).
    pub async fn event_for_checkin(&self, id: i64) -> Result<Option<Event>> {
        event_row(&mut *self.pool().acquire().await?, id).await
    }

    /// Applies a batch of check-ins in one transaction; one outcome per request, in order.
    pub async fn apply_checkins(
        &self,
        batch: Vec<CheckinRequest>,
        now: i64,
    ) -> Result<Vec<CheckinOutcome>> {
        if let Some(writer) = self.sqlite_checkins() {
            // Other writers of this process queue on the same lock; other processes wait on
            // SQLite's (busy timeout).
            let _guard = self.lock_writer().await;
            let writer = writer.clone();
            return tokio::task::spawn_blocking(move || {
                writer.with(|conn| batch::apply_sqlite(conn, &batch, now))
            })
            .await
            .map_err(|e| StoreError::Corrupt(format!("check-in batch thread: {e}")))?;
        }
        let pool = self
            .pg_typed()
            .ok_or_else(|| StoreError::Corrupt("no check-in connection".into()))?;
        // Another server's batch may deadlock with this one (PostgreSQL then aborts one of
        // them): the aborted batch wrote nothing and runs again, reading what the other stored.
        let mut attempt = 1;
        loop {
            // The batch's statements are the same every time and read only tables that a
            // burst does not grow (cards, members, places, activity days, readers), so one plan
            // made once serves every batch: planning each execution was a third of the
            // database's time per check-in (pg_stat_statements during baiqian-bench). The
            // session's default stays custom plans for the other users of this pool.
            let mut tx = pool
                .begin_with("BEGIN; SET LOCAL plan_cache_mode = force_generic_plan")
                .await?;
            match batch::apply_pg(&mut tx, &batch, now).await {
                Ok(out) => {
                    tx.commit().await?;
                    return Ok(out);
                }
                Err(StoreError::Db(sqlx::Error::Database(e)))
                    if attempt < 4 && matches!(e.code().as_deref(), Some("40P01" | "40001")) =>
                {
                    tracing::warn!(attempt, error = %e, "check-in batch aborted by PostgreSQL; running it again");
                    tx.rollback().await?;
                    attempt += 1;
                }
                Err(e) => return Err(e),
            }
        }
    }

    /// How many members checked in at an event.
    pub async fn event_attendance_count(&self, event_id: i64) -> Result<i64> {
        Ok(
            sqlx::query("SELECT COUNT(*) FROM checkins WHERE event_id = $1")
                .bind(event_id)
                .fetch_one(self.pool())
                .await?
                .try_get(0)?,
        )
    }

    /// Attendance of the subtree under `code` in `month` (`YYYY-MM`).
    pub async fn attendance(
        &self,
        scope: &Scope,
        code: &OrgCode,
        month: &str,
    ) -> Result<Attendance> {
        let mut conn = self.pool().acquire().await?;
        let node = org_in_scope(&mut conn, scope, code).await?;
        let row = sqlx::query("SELECT attended, guests, away FROM attendance_rollup WHERE org_code = $1 AND month = $2")
            .bind(node.code.as_str())
            .bind(month)
            .fetch_optional(&mut *conn)
            .await?;
        let (attended, guests, away) = match row {
            Some(r) => (
                r.try_get("attended")?,
                r.try_get("guests")?,
                r.try_get("away")?,
            ),
            None => (0, 0, 0),
        };
        drop(conn);
        Ok(Attendance {
            // The node's member count is the roster rollup of its subtree (kept with every
            // roster change, checked against a recount by the tests): no scan of the members.
            due: node.member_count,
            attended,
            guests,
            away,
        })
    }

    /// Attendance of several nodes (a page's children) in `month`, read from the rollups in one
    /// query: the cost grows with the nodes shown, never with the check-ins.
    pub async fn attendance_of(&self, nodes: &[Node], month: &str) -> Result<Vec<Attendance>> {
        let mut found: std::collections::HashMap<String, (i64, i64, i64)> =
            std::collections::HashMap::new();
        for chunk in nodes.chunks(crate::bulk::IN_LIST) {
            let sql = format!(
                "SELECT org_code, attended, guests, away FROM attendance_rollup \
                 WHERE month = $1 AND org_code IN ({})",
                crate::bulk::list(2, chunk.len())
            );
            let mut q = sqlx::query_as::<_, (String, i64, i64, i64)>(&sql).bind(month);
            for n in chunk {
                q = q.bind(n.code.as_str());
            }
            for (code, a, g, w) in q.fetch_all(self.pool()).await? {
                found.insert(code, (a, g, w));
            }
        }
        Ok(nodes
            .iter()
            .map(|n| {
                let (attended, guests, away) =
                    found.get(n.code.as_str()).copied().unwrap_or((0, 0, 0));
                Attendance {
                    due: n.member_count,
                    attended,
                    guests,
                    away,
                }
            })
            .collect())
    }

    /// The same figures recomputed from the check-ins themselves (tests compare the two).
    pub async fn attendance_from_scratch(&self, node: &Node, month: &str) -> Result<Attendance> {
        let mut conn = self.pool().acquire().await?;
        let upper = baiqian_domain::org::path_upper_bound(&node.path);
        let rows = sqlx::query(
            "SELECT c.member_id AS member_id, c.at AS at, h.path AS home_path, o.path AS host_path \
             FROM checkins c JOIN orgs h ON h.code = c.home_org JOIN orgs o ON o.code = c.host_org",
        )
        .fetch_all(&mut *conn)
        .await?;
        let inside = |p: &str| p >= node.path.as_str() && p < upper.as_str();
        let mut attended = std::collections::BTreeSet::new();
        let (mut guests, mut away) = (0, 0);
        for r in &rows {
            if month_of(r.try_get("at")?) != month {
                continue;
            }
            let home: String = r.try_get("home_path")?;
            let host: String = r.try_get("host_path")?;
            if inside(&home) {
                attended.insert(r.try_get::<i64, _>("member_id")?);
                if !inside(&host) {
                    away += 1;
                }
            } else if inside(&host) {
                guests += 1;
            }
        }
        drop(conn);
        Ok(Attendance {
            due: self.member_count_under(node).await?,
            attended: attended.len() as i64,
            guests,
            away,
        })
    }

    /// The months (`YYYY-MM`) of `year` in which a member in scope attended.
    pub async fn months_attended(
        &self,
        scope: &Scope,
        member_id: i64,
        year: i32,
    ) -> Result<Vec<String>> {
        self.member(scope, member_id).await?;
        let rows = sqlx::query("SELECT month FROM member_months WHERE member_id = $1 AND month >= $2 AND month <= $3 ORDER BY month")
            .bind(member_id)
            .bind(format!("{year:04}-01"))
            .bind(format!("{year:04}-12"))
            .fetch_all(self.pool())
            .await?;
        rows.iter().map(|r| Ok(r.try_get(0)?)).collect()
    }
}

async fn event_row(conn: &mut AnyConnection, id: i64) -> Result<Option<Event>> {
    let row = sqlx::query(
        "SELECT e.id, e.org_code, o.name AS org_name, e.day, e.starts_at, e.ends_at, e.topic, e.place, e.qr_secret \
         FROM activity_days e JOIN orgs o ON o.code = e.org_code WHERE e.id = $1",
    )
    .bind(id)
    .fetch_optional(conn)
    .await?;
    row.map(|r| {
        Ok(Event {
            id: r.try_get("id")?,
            org_code: r.try_get("org_code")?,
            org_name: r.try_get("org_name")?,
            day: r.try_get("day")?,
            starts_at: r.try_get("starts_at")?,
            ends_at: r.try_get("ends_at")?,
            topic: r.try_get("topic")?,
            place: r.try_get("place")?,
            qr_secret: r.try_get("qr_secret")?,
        })
    })
    .transpose()
}

/// Adds rollup changes for the SQLite bulk loads: one multi-row upsert per 50 nodes. (Check-in
/// batches and PostgreSQL loads have their own, `batch::apply_sqlite` and `batch::rollups_pg`.)
async fn apply_deltas(
    conn: &mut AnyConnection,
    deltas: &BTreeMap<(String, String), (i64, i64, i64)>,
) -> Result<()> {
    let rows: Vec<_> = deltas.iter().filter(|(_, d)| **d != (0, 0, 0)).collect();
    for chunk in rows.chunks(crate::bulk::rows_per_statement(5)) {
        let mut sql = format!(
            "INSERT INTO attendance_rollup (org_code, month, attended, guests, away) VALUES {}",
            crate::bulk::values(&crate::bulk::plain_row(5), 5, chunk.len(), 1)
        );
        sql.push_str(
            " ON CONFLICT (org_code, month) DO UPDATE SET attended = attendance_rollup.attended + excluded.attended, \
             guests = attendance_rollup.guests + excluded.guests, away = attendance_rollup.away + excluded.away",
        );
        let mut q = sqlx::query(&sql);
        for ((code, month), (a, g, w)) in chunk {
            q = q
                .bind(code.clone())
                .bind(month.clone())
                .bind(*a)
                .bind(*g)
                .bind(*w);
        }
        q.execute(&mut *conn).await?;
    }
    Ok(())
}
