//! First secretaries (第一书记): sent by a city or county body (派出单位) to a village for a term,
//! stationed there (驻村) or not, reporting once a quarter; what happened to the village's stars,
//! class and problems during the term is read from the ratings and the problem ledger.

use baiqian_domain::Msg;
use baiqian_domain::cadre::{SentFrom, parse_quarter, previous_quarter, quarter_of, quarter_start};
use baiqian_domain::member::parse_date;
use baiqian_domain::org::Level;
use baiqian_domain::rating::VillageClass;
use baiqian_domain::role::Role;
use serde::Serialize;
use serde_json::json;
use sqlx::any::AnyRow;
use sqlx::{AnyConnection, Row};

use super::{denied, invalid, keeps, past_date, sealed_phone, text};
use crate::audit::{self, Change};
use crate::kernel::Node;
use crate::vault::Vault;
use crate::{Actor, Db, Result, StoreError};

#[derive(Debug, Clone, Serialize)]
pub struct FirstSecretary {
    pub id: i64,
    pub org_code: String,
    pub org_name: String,
    pub org_path: String,
    pub name: String,
    pub phone_masked: Option<String>,
    pub sent_from: SentFrom,
    pub sent_by: String,
    pub start_on: String,
    pub term_end: String,
    pub ended_on: Option<String>,
    pub stationed: bool,
    /// The quarter of the latest report, if any.
    pub last_report: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Report {
    pub quarter: String,
    pub body: String,
    pub recorded_by: String,
    pub recorded_at: i64,
}

/// A dispatch as typed or imported.
#[derive(Debug, Clone, Default)]
pub struct NewDispatch {
    pub name: String,
    pub phone: String,
    pub sent_from: String,
    pub sent_by: String,
    pub start_on: String,
    pub term_end: String,
    pub stationed: bool,
}

/// The village's rating in a year: its stars and class.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct TermSnapshot {
    pub year: i64,
    pub stars: Option<i64>,
    pub class: Option<VillageClass>,
}

/// A dispatch with what happened to its village during the term.
#[derive(Debug, Clone, Serialize)]
pub struct DispatchView {
    pub first_secretary: FirstSecretary,
    pub reports: Vec<Report>,
    /// The village's last rating before the term, and its latest during it.
    pub before: Option<TermSnapshot>,
    pub during: Option<TermSnapshot>,
    /// Problems found during the term, closed (销号) during it, and still open now.
    pub problems_found: i64,
    pub problems_closed: i64,
    pub problems_open: i64,
}

/// A first secretary whose last quarter's report is missing.
#[derive(Debug, Clone, Serialize)]
pub struct DueReport {
    pub id: i64,
    pub name: String,
    pub org_name: String,
    pub quarter: String,
}

const COLUMNS: &str = "f.id, f.org_code, o.name AS org_name, f.org_path, f.name, f.phone_masked, \
    f.sent_from, f.sent_by, f.start_on, f.term_end, f.ended_on, f.stationed, \
    (SELECT MAX(r.quarter) FROM first_secretary_reports r WHERE r.first_secretary_id = f.id) AS last_report";

fn from_row(r: &AnyRow) -> Result<FirstSecretary> {
    let id: i64 = r.try_get("id")?;
    Ok(FirstSecretary {
        id,
        org_code: r.try_get("org_code")?,
        org_name: r.try_get("org_name")?,
        org_path: r.try_get("org_path")?,
        name: r.try_get("name")?,
        phone_masked: r.try_get("phone_masked")?,
        sent_from: SentFrom::parse(&r.try_get::<String, _>("sent_from")?)
            .ok_or_else(|| StoreError::Corrupt(format!("first secretary {id}: sent_from")))?,
        sent_by: r.try_get("sent_by")?,
        start_on: r.try_get("start_on")?,
        term_end: r.try_get("term_end")?,
        ended_on: r.try_get("ended_on")?,
        stationed: r.try_get::<i64, _>("stationed")? != 0,
        last_report: r.try_get("last_report")?,
    })
}

async fn in_scope(conn: &mut AnyConnection, actor: &Actor, id: i64) -> Result<FirstSecretary> {
    let r = sqlx::query(&format!(
        "SELECT {COLUMNS} FROM first_secretaries f JOIN orgs o ON o.code = f.org_code \
         WHERE f.id = $1 AND f.org_path >= $2 AND f.org_path < $3"
    ))
    .bind(id)
    .bind(actor.scope.lower())
    .bind(actor.scope.upper())
    .fetch_optional(&mut *conn)
    .await?
    .ok_or(StoreError::NotFound)?;
    from_row(&r)
}

/// Who dispatches: the city's administration (from a city or a county body) and a county's
/// (from its own bodies), to a village below them.
pub(super) fn dispatches(actor: &Actor, from: SentFrom, path: &str) -> bool {
    let role_ok = match actor.role {
        Role::CityAdmin => true,
        Role::CountyAdmin => from == SentFrom::County,
        _ => false,
    };
    role_ok && keeps(actor, path)
}

/// The village's latest approved or published rating whose round was due for approval before
/// `start` (the term's start), or, `within` the term, its latest due since (up to the year the
/// term ends): a
/// rating counts as the one the dispatch answered when it was decided before the term began.
async fn snapshot(
    conn: &mut AnyConnection,
    village: &str,
    within: Option<i64>,
    start: &str,
) -> Result<Option<TermSnapshot>> {
    let base = "SELECT r.year, a.stars, COALESCE(a.class_manual, a.class) AS class FROM assessments a \
         JOIN rating_rounds r ON r.id = a.round_id WHERE a.org_code = $1 \
         AND a.stage IN ('approved', 'published')";
    let r = match within {
        None => {
            sqlx::query(&format!(
                "{base} AND r.approve_due < $2 ORDER BY r.year DESC LIMIT 1"
            ))
            .bind(village)
            .bind(start)
            .fetch_optional(&mut *conn)
            .await?
        }
        Some(to_year) => {
            sqlx::query(&format!(
                "{base} AND r.approve_due >= $2 AND r.year <= $3 ORDER BY r.year DESC LIMIT 1"
            ))
            .bind(village)
            .bind(start)
            .bind(to_year)
            .fetch_optional(&mut *conn)
            .await?
        }
    };
    let Some(r) = r else { return Ok(None) };
    let class = match r.try_get::<Option<String>, _>("class")? {
        Some(c) => {
            Some(VillageClass::parse(&c).ok_or_else(|| StoreError::Corrupt(format!("class {c}")))?)
        }
        None => None,
    };
    Ok(Some(TermSnapshot {
        year: r.try_get("year")?,
        stars: r.try_get("stars")?,
        class,
    }))
}

fn year_of(day: &str) -> i64 {
    day.get(0..4).and_then(|y| y.parse().ok()).unwrap_or(0)
}

impl Db {
    /// The first secretaries of a village, the one in post first.
    pub async fn first_secretaries_of(&self, village: &Node) -> Result<Vec<FirstSecretary>> {
        sqlx::query(&format!(
            "SELECT {COLUMNS} FROM first_secretaries f JOIN orgs o ON o.code = f.org_code \
             WHERE f.org_code = $1 ORDER BY CASE WHEN f.ended_on IS NULL THEN 0 ELSE 1 END, f.start_on DESC, f.id DESC"
        ))
        .bind(village.code.as_str())
        .fetch_all(self.pool())
        .await?
        .iter()
        .map(from_row)
        .collect()
    }

    /// The first secretaries in post under a node (`stationed`: only those stationed), a page
    /// of at most `limit` from `offset`, and how many in all.
    pub async fn first_secretary_list(
        &self,
        node: &Node,
        stationed: bool,
        offset: i64,
        limit: i64,
    ) -> Result<(Vec<FirstSecretary>, i64)> {
        let upper = baiqian_domain::org::path_upper_bound(&node.path);
        let filter = if stationed {
            "f.ended_on IS NULL AND f.stationed = 1"
        } else {
            "f.ended_on IS NULL"
        };
        let total: i64 = sqlx::query(&format!(
            "SELECT COUNT(*) FROM first_secretaries f WHERE {filter} AND f.org_path >= $1 AND f.org_path < $2"
        ))
        .bind(&node.path)
        .bind(&upper)
        .fetch_one(self.pool())
        .await?
        .try_get(0)?;
        let list = sqlx::query(&format!(
            "SELECT {COLUMNS} FROM first_secretaries f JOIN orgs o ON o.code = f.org_code \
             WHERE {filter} AND f.org_path >= $1 AND f.org_path < $2 ORDER BY f.org_path, f.id \
             LIMIT $3 OFFSET $4"
        ))
        .bind(&node.path)
        .bind(&upper)
        .bind(limit)
        .bind(offset)
        .fetch_all(self.pool())
        .await?
        .iter()
        .map(from_row)
        .collect::<Result<Vec<_>>>()?;
        Ok((list, total))
    }

    /// A dispatch in the actor's scope, its reports, and its village's term.
    pub async fn dispatch(&self, actor: &Actor, id: i64, today: &str) -> Result<DispatchView> {
        let mut conn = self.pool().acquire().await?;
        let fs = in_scope(&mut conn, actor, id).await?;
        let reports = sqlx::query(
            "SELECT quarter, body, recorded_by, recorded_at FROM first_secretary_reports \
             WHERE first_secretary_id = $1 ORDER BY quarter DESC",
        )
        .bind(id)
        .fetch_all(&mut *conn)
        .await?
        .iter()
        .map(|r| {
            Ok(Report {
                quarter: r.try_get("quarter")?,
                body: r.try_get("body")?,
                recorded_by: r.try_get("recorded_by")?,
                recorded_at: r.try_get("recorded_at")?,
            })
        })
        .collect::<Result<Vec<_>>>()?;
        let end = fs.ended_on.clone().unwrap_or_else(|| today.to_string());
        let before = snapshot(&mut conn, &fs.org_code, None, &fs.start_on).await?;
        let during = snapshot(&mut conn, &fs.org_code, Some(year_of(&end)), &fs.start_on).await?;
        let start_ms = baiqian_domain::time::day_start_ms(&fs.start_on).unwrap_or(0);
        let end_ms = baiqian_domain::time::day_start_ms(&end).map_or(i64::MAX, |d| d + 86_400_000);
        let problems_found: i64 = sqlx::query(
            "SELECT COUNT(*) FROM problems WHERE village_code = $1 AND found_on >= $2 AND found_on <= $3",
        )
        .bind(&fs.org_code)
        .bind(&fs.start_on)
        .bind(&end)
        .fetch_one(&mut *conn)
        .await?
        .try_get(0)?;
        let problems_closed: i64 = sqlx::query(
            "SELECT COUNT(DISTINCT u.problem_id) FROM problem_updates u JOIN problems p ON p.id = u.problem_id \
             WHERE p.village_code = $1 AND u.to_status = 'verified' AND u.at >= $2 AND u.at < $3",
        )
        .bind(&fs.org_code)
        .bind(start_ms)
        .bind(end_ms)
        .fetch_one(&mut *conn)
        .await?
        .try_get(0)?;
        let problems_open: i64 = sqlx::query(
            "SELECT COUNT(*) FROM problems WHERE village_code = $1 AND status <> 'verified'",
        )
        .bind(&fs.org_code)
        .fetch_one(&mut *conn)
        .await?
        .try_get(0)?;
        Ok(DispatchView {
            first_secretary: fs,
            reports,
            before,
            during,
            problems_found,
            problems_closed,
            problems_open,
        })
    }

    /// Sends a first secretary to a village (one in post per village). Returns its id.
    pub async fn dispatch_first_secretary(
        &self,
        actor: &Actor,
        vault: &Vault,
        village: &Node,
        new: &NewDispatch,
        today: &str,
        now: i64,
    ) -> Result<i64> {
        if village.level != Level::Village {
            return Err(invalid("cadre.error.not_village"));
        }
        let from =
            SentFrom::parse(&new.sent_from).ok_or_else(|| invalid("cadre.error.sent_from"))?;
        if !dispatches(actor, from, &village.path) {
            return Err(denied());
        }
        let name = text(&new.name, 2, 20, "cadre.error.name")?;
        let sent_by = text(&new.sent_by, 2, 60, "cadre.error.sent_by")?;
        let start_on = past_date(&new.start_on, today, "cadre.error.start")?;
        let term_end = parse_date(&new.term_end).map_err(|_| invalid("cadre.error.term_end"))?;
        if term_end <= start_on {
            return Err(invalid("cadre.error.term_end"));
        }
        let (phone_sealed, phone_masked) = sealed_phone(vault, &new.phone)?;
        let mut tx = self.write().await?;
        let id: i64 = sqlx::query(
            "INSERT INTO first_secretaries (org_code, org_path, name, phone_sealed, phone_masked, \
             sent_from, sent_by, start_on, term_end, stationed, created_by, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $12) RETURNING id",
        )
        .bind(village.code.as_str())
        .bind(&village.path)
        .bind(&name)
        .bind(phone_sealed)
        .bind(&phone_masked)
        .bind(from.as_str())
        .bind(&sent_by)
        .bind(&start_on)
        .bind(&term_end)
        .bind(i64::from(new.stationed))
        .bind(&actor.login)
        .bind(now)
        .fetch_one(tx.conn())
        .await
        .map_err(|e| match crate::on_unique(e, Msg::new("cadre.error.first_in_post")) {
            StoreError::Invalid(m) => StoreError::Conflict(m),
            other => other,
        })?
        .try_get(0)?;
        audit::record(
            tx.conn(),
            actor,
            now,
            Change::create(
                "first_secretary",
                &format!("{} {name}", village.code.as_str()),
                &village.path,
                json!({ "name": name, "phone": phone_masked, "sent_from": from.as_str(),
                        "sent_by": sent_by, "start_on": start_on, "term_end": term_end,
                        "stationed": new.stationed }),
            ),
        )
        .await?;
        tx.commit().await?;
        Ok(id)
    }

    /// Ends a dispatch on a day (recalled, or the term over).
    pub async fn end_dispatch(
        &self,
        actor: &Actor,
        id: i64,
        on: &str,
        today: &str,
        now: i64,
    ) -> Result<()> {
        let on = past_date(on, today, "cadre.error.ended")?;
        let mut tx = self.write().await?;
        let fs = in_scope(tx.conn(), actor, id).await?;
        if !dispatches(actor, fs.sent_from, &fs.org_path) {
            return Err(denied());
        }
        if fs.ended_on.is_some() {
            return Err(StoreError::Conflict(Msg::new("cadre.error.ended_already")));
        }
        if on < fs.start_on {
            return Err(invalid("cadre.error.ended"));
        }
        let n = sqlx::query(
            "UPDATE first_secretaries SET ended_on = $1, updated_at = $2 WHERE id = $3 AND ended_on IS NULL",
        )
        .bind(&on)
        .bind(now)
        .bind(id)
        .execute(tx.conn())
        .await?
        .rows_affected();
        if n != 1 {
            return Err(StoreError::Conflict(Msg::new("cadre.error.ended_already")));
        }
        let mut change = Change::update(
            "first_secretary",
            &format!("{} {}", fs.org_code, fs.name),
            &fs.org_path,
            json!({ "ended_on": null }),
            json!({ "ended_on": on }),
        );
        change.action = "end";
        audit::record(tx.conn(), actor, now, change).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Records a first secretary's report of a quarter of the term, once.
    pub async fn record_report(
        &self,
        actor: &Actor,
        id: i64,
        quarter: &str,
        body: &str,
        today: &str,
        now: i64,
    ) -> Result<()> {
        let body = text(body, 2, 2000, "cadre.error.report")?;
        if parse_quarter(quarter).is_none() {
            return Err(invalid("cadre.error.quarter"));
        }
        let quarter = quarter.trim().to_string();
        let mut tx = self.write().await?;
        let fs = in_scope(tx.conn(), actor, id).await?;
        if !keeps(actor, &fs.org_path) {
            return Err(denied());
        }
        let first = quarter_of(&fs.start_on).unwrap_or_default();
        let last = quarter_of(fs.ended_on.as_deref().unwrap_or(today)).unwrap_or_default();
        // `YYYY-Qn` sorts as it reads.
        if quarter < first || quarter > last {
            return Err(invalid("cadre.error.quarter"));
        }
        sqlx::query(
            "INSERT INTO first_secretary_reports (first_secretary_id, quarter, body, recorded_by, recorded_at) \
             VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(id)
        .bind(&quarter)
        .bind(&body)
        .bind(&actor.login)
        .bind(now)
        .execute(tx.conn())
        .await
        .map_err(|e| match crate::on_unique(e, Msg::new("cadre.error.reported")) {
            StoreError::Invalid(m) => StoreError::Conflict(m),
            other => other,
        })?;
        let mut change = Change::create(
            "report",
            &format!("{} {} {quarter}", fs.org_code, fs.name),
            &fs.org_path,
            json!({ "quarter": quarter, "body": body }),
        );
        change.action = "report";
        audit::record(tx.conn(), actor, now, change).await?;
        tx.commit().await?;
        Ok(())
    }

    /// The first secretaries in post under a township admin's node whose report of the quarter
    /// before `today`'s is missing (a dispatch that began after that quarter owes nothing yet).
    pub async fn reports_due(
        &self,
        actor: &Actor,
        today: &str,
        limit: i64,
    ) -> Result<Vec<DueReport>> {
        if actor.role != Role::TownshipAdmin {
            return Ok(Vec::new());
        }
        let Some(quarter) = quarter_of(today).and_then(|q| previous_quarter(&q)) else {
            return Ok(Vec::new());
        };
        let Some(this_start) = quarter_of(today).and_then(|q| quarter_start(&q)) else {
            return Ok(Vec::new());
        };
        let rows = sqlx::query(
            "SELECT f.id, f.name, o.name AS org_name FROM first_secretaries f JOIN orgs o ON o.code = f.org_code \
             WHERE f.ended_on IS NULL AND f.start_on < $1 AND f.org_path >= $2 AND f.org_path < $3 \
             AND NOT EXISTS (SELECT 1 FROM first_secretary_reports r WHERE r.first_secretary_id = f.id \
             AND r.quarter = $4) ORDER BY f.org_path, f.id LIMIT $5",
        )
        .bind(&this_start)
        .bind(actor.scope.lower())
        .bind(actor.scope.upper())
        .bind(&quarter)
        .bind(limit)
        .fetch_all(self.pool())
        .await?;
        rows.iter()
            .map(|r| {
                Ok(DueReport {
                    id: r.try_get("id")?,
                    name: r.try_get("name")?,
                    org_name: r.try_get("org_name")?,
                    quarter: quarter.clone(),
                })
            })
            .collect()
    }
}
