//! One batch of check-ins in one transaction: read what the batch refers to, decide each request
//! in order as if they had come one by one, append the accepted ones, keep the rollups in step.
//!
//! The reading and deciding, the ids and the rollup changes are written once here; only the
//! statements differ by backend. PostgreSQL takes a fixed number of statements per batch (IN lists
//! and multi-row inserts: each statement is a round trip). The embedded SQLite runs the batch on a
//! blocking thread through its own connection, statement by statement with cached prepared
//! statements: through sqlx every statement was a hand-off to the driver's worker thread and back,
//! and those hand-offs, not SQLite, were the cost (docs/benchmarks.md).

use std::collections::{BTreeMap, HashMap, HashSet};

use baiqian_domain::Msg;

use super::{
    Attendee, CheckinOutcome, CheckinRequest, MAX_CLOCK_SKEW_MS, count_attendance, month_of,
};
use crate::{Result, StoreError};

pub(super) struct EventRow {
    pub(super) org_code: String,
    pub(super) path: String,
    pub(super) starts_at: i64,
    pub(super) ends_at: i64,
}

pub(super) struct MemberRow {
    pub(super) home_org: String,
    pub(super) path: String,
    pub(super) active: bool,
}

/// What a batch refers to, as its transaction sees it.
#[derive(Default)]
struct Reads {
    /// Client ids already stored, with their check-in's id.
    prior: HashMap<String, i64>,
    /// Card number → (member, card active).
    cards: HashMap<String, (i64, bool)>,
    members: HashMap<i64, MemberRow>,
    events: HashMap<i64, EventRow>,
    /// Devices of the batch that are not revoked.
    live_devices: HashSet<i64>,
    /// (event, member) pairs already attended.
    attended: HashSet<(i64, i64)>,
}

/// The rules of one check-in against what the batch read.
fn decide(req: &CheckinRequest, now: i64, reads: &mut Reads) -> CheckinOutcome {
    let refused = |key: &'static str| CheckinOutcome::Refused(Msg::new(key));
    let member_id = match &req.attendee {
        Attendee::Card(card) => match reads.cards.get(card) {
            None => return refused("checkin.error.unknown_card"),
            Some((_, false)) => return refused("checkin.error.card_inactive"),
            Some((m, true)) => *m,
        },
        Attendee::Member(m) => *m,
    };
    let Some(event) = reads.events.get(&req.event_id) else {
        return refused("checkin.error.unknown_event");
    };
    if req.at < event.starts_at || req.at > event.ends_at {
        return refused("checkin.error.outside_window");
    }
    if req.at > now + MAX_CLOCK_SKEW_MS {
        return refused("checkin.error.future");
    }
    if let Some(d) = &req.device {
        if !reads.live_devices.contains(&d.id) {
            return refused("checkin.error.device_revoked");
        }
        if d.org_code != event.org_code {
            return refused("checkin.error.device_elsewhere");
        }
    }
    match reads.members.get(&member_id) {
        Some(m) if m.active => {}
        _ => return refused("checkin.error.unknown_member"),
    }
    if !reads.attended.insert((req.event_id, member_id)) {
        return CheckinOutcome::Already;
    }
    CheckinOutcome::Created { id: 0, member_id }
}

/// The decisions of a batch: one outcome per request, and the accepted (request, member) pairs.
struct Plan {
    out: Vec<CheckinOutcome>,
    accepted: Vec<(usize, i64)>,
}

fn plan(batch: &[CheckinRequest], now: i64, reads: &mut Reads) -> Plan {
    let mut out: Vec<CheckinOutcome> = Vec::with_capacity(batch.len());
    let mut accepted: Vec<(usize, i64)> = Vec::new();
    let mut batch_cids: HashMap<&str, usize> = HashMap::new();
    for (i, req) in batch.iter().enumerate() {
        if let Some(id) = reads.prior.get(&req.client_id) {
            out.push(CheckinOutcome::Repeat { id: *id });
            continue;
        }
        if let Some(first) = batch_cids.get(req.client_id.as_str()) {
            // Filled in with the first's id once it is inserted (see `settle`).
            out.push(CheckinOutcome::Repeat {
                id: -(*first as i64) - 1,
            });
            continue;
        }
        let outcome = decide(req, now, reads);
        if let CheckinOutcome::Created { member_id, .. } = outcome {
            batch_cids.insert(req.client_id.as_str(), i);
            accepted.push((i, member_id));
        }
        out.push(outcome);
    }
    Plan { out, accepted }
}

/// One accepted check-in's row.
struct Row<'a> {
    req: &'a CheckinRequest,
    member_id: i64,
    home: &'a str,
    host: &'a str,
}

fn rows<'a>(batch: &'a [CheckinRequest], plan: &Plan, reads: &'a Reads) -> Result<Vec<Row<'a>>> {
    plan.accepted
        .iter()
        .map(|(i, member_id)| {
            let req = &batch[*i];
            match (
                reads.members.get(member_id),
                reads.events.get(&req.event_id),
            ) {
                (Some(m), Some(e)) => Ok(Row {
                    req,
                    member_id: *member_id,
                    home: &m.home_org,
                    host: &e.org_code,
                }),
                _ => Err(StoreError::Corrupt(
                    "accepted check-in lost its member or event".into(),
                )),
            }
        })
        .collect()
}

/// Puts the stored ids into the outcomes, the accepted ones' and their in-batch repeats'.
fn settle(batch: &[CheckinRequest], plan: &mut Plan, ids: &HashMap<&str, i64>) -> Result<()> {
    for (i, _) in &plan.accepted {
        let id = ids
            .get(batch[*i].client_id.as_str())
            .copied()
            .ok_or_else(|| StoreError::Corrupt("insert returned no id".into()))?;
        if let CheckinOutcome::Created { id: slot, .. } = &mut plan.out[*i] {
            *slot = id;
        }
    }
    // A repeat inside the batch answers as its first did (the first comes earlier, so it is
    // settled by now).
    for k in 0..plan.out.len() {
        if let CheckinOutcome::Repeat { id } = plan.out[k]
            && id < 0
        {
            let first = (-id - 1) as usize;
            plan.out[k] = match &plan.out[first] {
                CheckinOutcome::Created { id, .. } => CheckinOutcome::Repeat { id: *id },
                other => other.clone(),
            };
        }
    }
    Ok(())
}

/// The (member, month) pairs of the accepted check-ins, each once.
fn member_months(batch: &[CheckinRequest], plan: &Plan) -> Vec<(i64, String)> {
    plan.accepted
        .iter()
        .map(|(i, m)| (*m, month_of(batch[*i].at)))
        .collect::<HashSet<_>>()
        .into_iter()
        .collect()
}

/// The rollup changes of the accepted check-ins; `firsts` are the member-months new to the table.
fn deltas(
    batch: &[CheckinRequest],
    plan: &Plan,
    reads: &Reads,
    firsts: &HashSet<(i64, String)>,
) -> BTreeMap<(String, String), (i64, i64, i64)> {
    let mut counted: HashSet<(i64, String)> = HashSet::new();
    let mut deltas = BTreeMap::new();
    for (i, member_id) in &plan.accepted {
        let req = &batch[*i];
        let (Some(m), Some(e)) = (
            reads.members.get(member_id),
            reads.events.get(&req.event_id),
        ) else {
            continue;
        };
        let month = month_of(req.at);
        let key = (*member_id, month.clone());
        let first = firsts.contains(&key) && counted.insert(key);
        count_attendance(&mut deltas, &m.path, &e.path, &month, first);
    }
    deltas
}

fn distinct<T: std::hash::Hash + Eq + Clone>(items: impl Iterator<Item = T>) -> Vec<T> {
    items.collect::<HashSet<_>>().into_iter().collect()
}

/// What a batch refers to, in one round trip: rows tagged by kind (`c` card with its member,
/// `m` member, `e` activity day, `d` live device). Whether a client id is already stored, or a
/// member already attended, is not read first: the insert's `ON CONFLICT DO NOTHING` finds out,
/// and the few it skipped are looked up afterwards (`apply_pg`). Reading them first cost half
/// the statement's index pages for what is, in a burst, almost always nothing (measured with
/// pg_stat_statements during `baiqian-bench --db postgres://…`: this statement was 60 % of the
/// database's time per check-in).
const PG_READS: &str = "\
SELECT 'c', c.card_no, m.home_org, o.path, c.member_id, CASE WHEN c.status = 'active' THEN 1::bigint ELSE 0 END, CASE WHEN m.status = 'active' THEN 1::bigint ELSE 0 END \
  FROM member_cards c JOIN members m ON m.id = c.member_id JOIN orgs o ON o.code = m.home_org WHERE c.card_no = ANY($1) \
UNION ALL SELECT 'm', NULL, m.home_org, o.path, m.id, NULL, CASE WHEN m.status = 'active' THEN 1::bigint ELSE 0 END \
  FROM members m JOIN orgs o ON o.code = m.home_org WHERE m.id = ANY($2) \
UNION ALL SELECT 'e', e.org_code, o.path, NULL, e.id, e.starts_at, e.ends_at \
  FROM activity_days e JOIN orgs o ON o.code = e.org_code WHERE e.id = ANY($3) \
UNION ALL SELECT 'd', NULL, NULL, NULL, id, NULL, NULL FROM devices WHERE revoked_at IS NULL AND id = ANY($4)";

/// The accepted check-ins, their first attendances of the month and the rollups they change, in
/// one round trip. A row stored before (a repeat, an attendance already recorded) or by another
/// writer meanwhile (a second server, a retry racing its original) is skipped, not an error: the
/// batch finds out which afterwards, and only the rows that went in change the rollups. Returns
/// (client id, id) of each stored.
const PG_WRITES: &str = "\
WITH u AS (SELECT * FROM UNNEST($1::text[], $2::bigint[], $3::bigint[], $4::text[], $5::text[], $6::bigint[], \
  $7::text[], $8::bigint[], $9::text[], $10::text[], $11::text[]) AS u(c, e, m, h, o, a, w, d, l, r, mo)), \
ins AS (INSERT INTO checkins (client_id, event_id, member_id, home_org, host_org, at, method, device_id, actor_login, reason, created_at) \
  SELECT c, e, m, h, o, a, w, d, l, r, $12 FROM u ON CONFLICT DO NOTHING RETURNING client_id, id), \
mm AS (INSERT INTO member_months (member_id, month) SELECT DISTINCT u.m, u.mo FROM u JOIN ins ON ins.client_id = u.c \
  ORDER BY 1, 2 ON CONFLICT DO NOTHING RETURNING member_id, month), \
ro AS (INSERT INTO attendance_rollup (org_code, month, attended, guests, away) \
  SELECT o, mo, CAST(SUM(a) AS BIGINT), CAST(SUM(g) AS BIGINT), CAST(SUM(w) AS BIGINT) FROM ( \
    SELECT x.o, x.mo, 0::bigint AS a, x.g, x.w FROM UNNEST($13::text[], $14::text[], $15::text[], $16::bigint[], $17::bigint[]) \
      AS x(c, o, mo, g, w) JOIN ins ON ins.client_id = x.c \
    UNION ALL SELECT y.o, y.mo, 1::bigint, 0::bigint, 0::bigint FROM UNNEST($18::bigint[], $19::text[], $20::text[]) AS y(m, mo, o) \
      JOIN mm ON mm.member_id = y.m AND mm.month = y.mo) d \
  GROUP BY o, mo ORDER BY o, mo \
  ON CONFLICT (org_code, month) DO UPDATE SET attended = attendance_rollup.attended + excluded.attended, \
  guests = attendance_rollup.guests + excluded.guests, away = attendance_rollup.away + excluded.away) \
SELECT client_id, id FROM ins";

/// The rollup changes an accepted check-in brings if it is stored (`PG_WRITES` keeps those whose
/// row went in): guests and aways per row, and an attendance above home for each member-month,
/// counted if the member-month is new to the table. The same counting as `deltas`, split so the
/// database can apply it in the statement that learns what was stored.
struct Contributions<'a> {
    /// (client id, org, month, guests, away).
    rows: Vec<(&'a str, String, String, i64, i64)>,
    /// (member, month, org) of each node above a member's home.
    firsts: Vec<(i64, String, String)>,
}

fn contributions<'a>(batch: &'a [CheckinRequest], plan: &Plan, reads: &Reads) -> Contributions<'a> {
    let mut out = Contributions {
        rows: Vec::new(),
        firsts: Vec::new(),
    };
    let mut months: HashSet<(i64, String)> = HashSet::new();
    for (i, member_id) in &plan.accepted {
        let req = &batch[*i];
        let (Some(m), Some(e)) = (
            reads.members.get(member_id),
            reads.events.get(&req.event_id),
        ) else {
            continue;
        };
        let month = month_of(req.at);
        let mut own = BTreeMap::new();
        count_attendance(&mut own, &m.path, &e.path, &month, false);
        for ((org, mo), (_, g, w)) in own {
            if (g, w) != (0, 0) {
                out.rows.push((req.client_id.as_str(), org, mo, g, w));
            }
        }
        if months.insert((*member_id, month.clone())) {
            let mut above = BTreeMap::new();
            count_attendance(&mut above, &m.path, &m.path, &month, true);
            for (org, mo) in above.into_keys() {
                out.firsts.push((*member_id, mo, org));
            }
        }
    }
    out
}

type PgRead = (
    String,
    Option<String>,
    Option<String>,
    Option<String>,
    Option<i64>,
    Option<i64>,
    Option<i64>,
);

/// PostgreSQL: every statement is a round trip, so a batch takes four whatever its size —
/// `BEGIN`, the reads, the writes with their rollups, `COMMIT` — each with array parameters
/// (`= ANY($1)`, `UNNEST`) so its text stays prepared across batches; a fifth only when a
/// request was refused or its row was already there.
pub(super) async fn apply_pg(
    conn: &mut sqlx::PgConnection,
    batch: &[CheckinRequest],
    now: i64,
) -> Result<Vec<CheckinOutcome>> {
    let corrupt = |what: &str| StoreError::Corrupt(format!("check-in read: {what}"));
    let mut reads = Reads::default();
    let card_nos = distinct(batch.iter().filter_map(|r| match &r.attendee {
        Attendee::Card(c) => Some(c.as_str()),
        Attendee::Member(_) => None,
    }));
    let member_ids = distinct(batch.iter().filter_map(|r| match &r.attendee {
        Attendee::Member(m) => Some(*m),
        Attendee::Card(_) => None,
    }));
    let event_ids = distinct(batch.iter().map(|r| r.event_id));
    let device_ids = distinct(batch.iter().filter_map(|r| r.device.as_ref().map(|d| d.id)));
    let found = sqlx::query_as::<_, PgRead>(PG_READS)
        .bind(&card_nos)
        .bind(&member_ids)
        .bind(&event_ids)
        .bind(&device_ids)
        .fetch_all(&mut *conn)
        .await?;
    for (kind, s1, s2, s3, n1, n2, n3) in found {
        let n1 = n1.ok_or_else(|| corrupt("no key"))?;
        match kind.as_str() {
            "c" | "m" => {
                if kind == "c" {
                    let card = s1.ok_or_else(|| corrupt("card"))?;
                    reads.cards.insert(card, (n1, n2 == Some(1)));
                }
                reads.members.insert(
                    n1,
                    MemberRow {
                        home_org: s2.ok_or_else(|| corrupt("home"))?,
                        path: s3.ok_or_else(|| corrupt("path"))?,
                        active: n3 == Some(1),
                    },
                );
            }
            "e" => {
                reads.events.insert(
                    n1,
                    EventRow {
                        org_code: s1.ok_or_else(|| corrupt("host"))?,
                        path: s2.ok_or_else(|| corrupt("path"))?,
                        starts_at: n2.ok_or_else(|| corrupt("start"))?,
                        ends_at: n3.ok_or_else(|| corrupt("end"))?,
                    },
                );
            }
            "d" => {
                reads.live_devices.insert(n1);
            }
            other => return Err(corrupt(other)),
        }
    }

    let mut plan = plan(batch, now, &mut reads);
    let mut inserted: HashMap<String, i64> = HashMap::new();
    if !plan.accepted.is_empty() {
        // Every writer inserts in the same order (by member, then activity day), so two
        // batches that share rows wait for each other instead of deadlocking; `apply_checkins`
        // retries the rare deadlock that remains (a retry whose client id now names another
        // pair).
        let mut rows = rows(batch, &plan, &reads)?;
        rows.sort_by_key(|r| (r.member_id, r.req.event_id));
        let adds = contributions(batch, &plan, &reads);
        inserted = sqlx::query_as::<_, (String, i64)>(PG_WRITES)
            .bind(
                rows.iter()
                    .map(|r| r.req.client_id.as_str())
                    .collect::<Vec<_>>(),
            )
            .bind(rows.iter().map(|r| r.req.event_id).collect::<Vec<_>>())
            .bind(rows.iter().map(|r| r.member_id).collect::<Vec<_>>())
            .bind(rows.iter().map(|r| r.home).collect::<Vec<_>>())
            .bind(rows.iter().map(|r| r.host).collect::<Vec<_>>())
            .bind(rows.iter().map(|r| r.req.at).collect::<Vec<_>>())
            .bind(rows.iter().map(|r| r.req.method).collect::<Vec<_>>())
            .bind(
                rows.iter()
                    .map(|r| r.req.device.as_ref().map(|d| d.id))
                    .collect::<Vec<_>>(),
            )
            .bind(
                rows.iter()
                    .map(|r| r.req.actor_login.as_deref())
                    .collect::<Vec<_>>(),
            )
            .bind(
                rows.iter()
                    .map(|r| r.req.reason.as_deref())
                    .collect::<Vec<_>>(),
            )
            .bind(rows.iter().map(|r| month_of(r.req.at)).collect::<Vec<_>>())
            .bind(now)
            .bind(adds.rows.iter().map(|r| r.0).collect::<Vec<_>>())
            .bind(adds.rows.iter().map(|r| r.1.as_str()).collect::<Vec<_>>())
            .bind(adds.rows.iter().map(|r| r.2.as_str()).collect::<Vec<_>>())
            .bind(adds.rows.iter().map(|r| r.3).collect::<Vec<_>>())
            .bind(adds.rows.iter().map(|r| r.4).collect::<Vec<_>>())
            .bind(adds.firsts.iter().map(|f| f.0).collect::<Vec<_>>())
            .bind(adds.firsts.iter().map(|f| f.1.as_str()).collect::<Vec<_>>())
            .bind(adds.firsts.iter().map(|f| f.2.as_str()).collect::<Vec<_>>())
            .fetch_all(&mut *conn)
            .await?
            .into_iter()
            .collect();
    }
    // Not inserted though accepted: the client id was stored before (a repeat) or the member's
    // attendance was (already). Refused: a retry of a check-in stored before is a repeat, even
    // if its card or reader has been withdrawn since. One lookup for both, only when there are.
    let unsure: Vec<&str> = plan
        .out
        .iter()
        .enumerate()
        .filter(|(i, o)| match o {
            CheckinOutcome::Refused(_) => true,
            CheckinOutcome::Created { .. } => !inserted.contains_key(&batch[*i].client_id),
            _ => false,
        })
        .map(|(i, _)| batch[i].client_id.as_str())
        .collect();
    if !unsure.is_empty() {
        // This one reads `checkins`, which the burst grows: a plan made for it while it was
        // small would scan it whole (measured once: 55 ms a lookup). Planned for its arrays.
        sqlx::query("SET LOCAL plan_cache_mode = force_custom_plan")
            .execute(&mut *conn)
            .await?;
        let stored: HashMap<String, i64> = sqlx::query_as::<_, (String, i64)>(
            "SELECT client_id, id FROM checkins WHERE client_id = ANY($1)",
        )
        .bind(&unsure)
        .fetch_all(&mut *conn)
        .await?
        .into_iter()
        .collect();
        for (i, outcome) in plan.out.iter_mut().enumerate() {
            if let (CheckinOutcome::Refused(_), Some(id)) =
                (&outcome, stored.get(&batch[i].client_id))
            {
                *outcome = CheckinOutcome::Repeat { id: *id };
            }
        }
        plan.accepted.retain(|(i, _)| {
            let req = &batch[*i];
            if inserted.contains_key(&req.client_id) {
                return true;
            }
            plan.out[*i] = match stored.get(&req.client_id) {
                Some(id) => CheckinOutcome::Repeat { id: *id },
                None => CheckinOutcome::Already,
            };
            false
        });
    }
    let ids: HashMap<&str, i64> = inserted.iter().map(|(c, id)| (c.as_str(), *id)).collect();
    settle(batch, &mut plan, &ids)?;
    Ok(plan.out)
}

/// Adds rollup changes in one statement (PostgreSQL: arrays, one prepared text).
pub(super) async fn rollups_pg(
    conn: &mut sqlx::PgConnection,
    deltas: &BTreeMap<(String, String), (i64, i64, i64)>,
) -> Result<()> {
    let rows: Vec<_> = deltas.iter().filter(|(_, d)| **d != (0, 0, 0)).collect();
    if rows.is_empty() {
        return Ok(());
    }
    sqlx::query(
        "INSERT INTO attendance_rollup (org_code, month, attended, guests, away) \
         SELECT * FROM UNNEST($1::text[], $2::text[], $3::bigint[], $4::bigint[], $5::bigint[]) \
         ON CONFLICT (org_code, month) DO UPDATE SET attended = attendance_rollup.attended + excluded.attended, \
         guests = attendance_rollup.guests + excluded.guests, away = attendance_rollup.away + excluded.away",
    )
    .bind(rows.iter().map(|((c, _), _)| c.as_str()).collect::<Vec<_>>())
    .bind(rows.iter().map(|((_, m), _)| m.as_str()).collect::<Vec<_>>())
    .bind(rows.iter().map(|(_, d)| d.0).collect::<Vec<_>>())
    .bind(rows.iter().map(|(_, d)| d.1).collect::<Vec<_>>())
    .bind(rows.iter().map(|(_, d)| d.2).collect::<Vec<_>>())
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// The embedded SQLite: the whole batch on the calling (blocking) thread, one transaction,
/// statement by statement with cached prepared statements.
pub(super) fn apply_sqlite(
    conn: &mut rusqlite::Connection,
    batch: &[CheckinRequest],
    now: i64,
) -> Result<Vec<CheckinOutcome>> {
    use rusqlite::{OptionalExtension, params};
    let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
    let mut reads = Reads::default();
    {
        let mut prior = tx.prepare_cached("SELECT id FROM checkins WHERE client_id = ?1")?;
        let mut card = tx.prepare_cached(
            "SELECT c.member_id, c.status, m.home_org, o.path, m.status FROM member_cards c \
             JOIN members m ON m.id = c.member_id JOIN orgs o ON o.code = m.home_org WHERE c.card_no = ?1",
        )?;
        let mut member = tx.prepare_cached(
            "SELECT m.home_org, o.path, m.status FROM members m JOIN orgs o ON o.code = m.home_org WHERE m.id = ?1",
        )?;
        let mut event = tx.prepare_cached(
            "SELECT e.org_code, o.path, e.starts_at, e.ends_at FROM activity_days e JOIN orgs o ON o.code = e.org_code WHERE e.id = ?1",
        )?;
        let mut device =
            tx.prepare_cached("SELECT 1 FROM devices WHERE id = ?1 AND revoked_at IS NULL")?;
        let mut attended =
            tx.prepare_cached("SELECT 1 FROM checkins WHERE event_id = ?1 AND member_id = ?2")?;
        let mut seen_cards: HashSet<&str> = HashSet::new();
        let mut seen_devices: HashSet<i64> = HashSet::new();
        let mut seen_pairs: HashSet<(i64, i64)> = HashSet::new();
        for req in batch {
            if !reads.prior.contains_key(&req.client_id)
                && let Some(id) = prior
                    .query_row([&req.client_id], |r| r.get::<_, i64>(0))
                    .optional()?
            {
                reads.prior.insert(req.client_id.clone(), id);
            }
            let member_id = match &req.attendee {
                Attendee::Card(c) => {
                    if seen_cards.insert(c.as_str())
                        && let Some((m, status, home_org, path, member_status)) = card
                            .query_row([c], |r| {
                                Ok((
                                    r.get::<_, i64>(0)?,
                                    r.get::<_, String>(1)?,
                                    r.get::<_, String>(2)?,
                                    r.get::<_, String>(3)?,
                                    r.get::<_, String>(4)?,
                                ))
                            })
                            .optional()?
                    {
                        reads.cards.insert(c.clone(), (m, status == "active"));
                        reads.members.insert(
                            m,
                            MemberRow {
                                home_org,
                                path,
                                active: member_status == "active",
                            },
                        );
                    }
                    reads.cards.get(c).map(|(m, _)| *m)
                }
                Attendee::Member(m) => {
                    if !reads.members.contains_key(m)
                        && let Some((home_org, path, status)) = member
                            .query_row([m], |r| {
                                Ok((
                                    r.get::<_, String>(0)?,
                                    r.get::<_, String>(1)?,
                                    r.get::<_, String>(2)?,
                                ))
                            })
                            .optional()?
                    {
                        reads.members.insert(
                            *m,
                            MemberRow {
                                home_org,
                                path,
                                active: status == "active",
                            },
                        );
                    }
                    Some(*m)
                }
            };
            if !reads.events.contains_key(&req.event_id)
                && let Some(row) = event
                    .query_row([req.event_id], |r| {
                        Ok(EventRow {
                            org_code: r.get(0)?,
                            path: r.get(1)?,
                            starts_at: r.get(2)?,
                            ends_at: r.get(3)?,
                        })
                    })
                    .optional()?
            {
                reads.events.insert(req.event_id, row);
            }
            if let Some(d) = &req.device
                && seen_devices.insert(d.id)
                && device.exists([d.id])?
            {
                reads.live_devices.insert(d.id);
            }
            if let Some(m) = member_id
                && seen_pairs.insert((req.event_id, m))
                && attended.exists([req.event_id, m])?
            {
                reads.attended.insert((req.event_id, m));
            }
        }
    }

    let mut plan = plan(batch, now, &mut reads);
    if plan.accepted.is_empty() {
        tx.commit()?;
        return Ok(plan.out);
    }
    let rows = rows(batch, &plan, &reads)?;
    let mut ids: HashMap<&str, i64> = HashMap::new();
    {
        let mut insert = tx.prepare_cached(
            "INSERT INTO checkins (client_id, event_id, member_id, home_org, host_org, at, method, device_id, actor_login, reason, created_at) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
        )?;
        for r in &rows {
            insert.execute(params![
                r.req.client_id,
                r.req.event_id,
                r.member_id,
                r.home,
                r.host,
                r.req.at,
                r.req.method,
                r.req.device.as_ref().map(|d| d.id),
                r.req.actor_login,
                r.req.reason,
                now
            ])?;
            ids.insert(r.req.client_id.as_str(), tx.last_insert_rowid());
        }
    }
    settle(batch, &mut plan, &ids)?;
    let mut firsts: HashSet<(i64, String)> = HashSet::new();
    {
        let mut month = tx.prepare_cached(
            "INSERT INTO member_months (member_id, month) VALUES (?1, ?2) ON CONFLICT DO NOTHING",
        )?;
        for (m, mo) in member_months(batch, &plan) {
            if month.execute(params![m, mo])? == 1 {
                firsts.insert((m, mo));
            }
        }
        let mut rollup = tx.prepare_cached(
            "INSERT INTO attendance_rollup (org_code, month, attended, guests, away) VALUES (?1, ?2, ?3, ?4, ?5) \
             ON CONFLICT (org_code, month) DO UPDATE SET attended = attendance_rollup.attended + excluded.attended, \
             guests = attendance_rollup.guests + excluded.guests, away = attendance_rollup.away + excluded.away",
        )?;
        for ((code, mo), (a, g, w)) in deltas(batch, &plan, &reads, &firsts) {
            if (a, g, w) != (0, 0, 0) {
                rollup.execute(params![code, mo, a, g, w])?;
            }
        }
    }
    tx.commit()?;
    Ok(plan.out)
}
