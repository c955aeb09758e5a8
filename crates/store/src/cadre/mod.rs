//! The cadres of the villages (干部队伍): village secretaries (村党组织书记), one row per term,
//! with where each came from and a fitness grade per year; the adjustment of one found unfit
//! (不胜任调整), which ends the term with a reason and names the successor; and first secretaries
//! (第一书记, `first.rs`). Phones are sealed in the vault and shown masked. Every change is
//! audited in its own transaction; a refusal writes nothing.

mod first;
mod import;
mod load;
pub use first::{DispatchView, DueReport, FirstSecretary, NewDispatch, Report, TermSnapshot};
pub use import::{FirstSecretaryRow, SecretaryRow};
pub use load::{BulkFirstSecretary, BulkSecretary};

use baiqian_domain::Msg;
use baiqian_domain::cadre::{Fitness, SecretaryOrigin, TermEnd};
use baiqian_domain::org::Level;
use baiqian_domain::role::Role;
use serde::Serialize;
use serde_json::json;
use sqlx::any::AnyRow;
use sqlx::{AnyConnection, Row};

use crate::audit::{self, Change};
use crate::kernel::{Node, TreeEvent};
use crate::vault::Vault;
use crate::{Actor, Db, Result, StoreError};

/// One term of a village secretary.
#[derive(Debug, Clone, Serialize)]
pub struct Secretary {
    pub id: i64,
    pub org_code: String,
    pub org_name: String,
    pub org_path: String,
    pub name: String,
    pub phone_masked: Option<String>,
    pub origin: SecretaryOrigin,
    pub origin_note: String,
    pub since: String,
    pub until: Option<String>,
    pub end_kind: Option<TermEnd>,
    pub end_reason: Option<String>,
    pub successor_name: Option<String>,
    /// (year, grade), newest first.
    pub fitness: Vec<(i64, Fitness)>,
}

/// A new secretary's particulars, as typed or imported.
#[derive(Debug, Clone, Default)]
pub struct NewSecretary {
    pub name: String,
    pub phone: String,
    pub origin: String,
    pub origin_note: String,
    pub since: String,
}

/// How the current secretary's term ends when a successor is appointed.
#[derive(Debug, Clone)]
pub struct Ending {
    pub kind: TermEnd,
    pub reason: String,
}

/// An appointment: the new secretary, and how the current one's term ends (if one is in post).
#[derive(Debug, Clone, Default)]
pub struct Appointment {
    pub secretary: NewSecretary,
    pub ending: Option<Ending>,
}

/// A year's fitness grade (年度考核).
#[derive(Debug, Clone)]
pub struct Grade {
    pub year: i64,
    pub grade: Fitness,
    pub note: String,
}

/// The cadre figures under a node (`GET /api/v1/orgs/{code}/cadres/summary`).
#[derive(Debug, Clone, Default, Serialize, PartialEq, Eq)]
pub struct CadreSummary {
    /// Villages under the node, and those with a secretary in post.
    pub villages: i64,
    pub secretaries: i64,
    /// Secretaries adjusted as unfit, over the whole history.
    pub secretaries_adjusted: i64,
    /// First secretaries in post, and those of them stationed in their village.
    pub first_secretaries: i64,
    pub stationed: i64,
}

pub(crate) use crate::check::{denied, invalid, past_date, sealed_phone, text};

/// Whether the actor keeps the cadres of the village at `path`: the administrations above it.
pub(crate) fn keeps(actor: &Actor, path: &str) -> bool {
    matches!(
        actor.role,
        Role::CityAdmin | Role::CountyAdmin | Role::TownshipAdmin
    ) && actor.scope.contains_path(path)
        && !actor.scope.is_root_path(path)
}

const SECRETARY_COLUMNS: &str = "s.id, s.org_code, o.name AS org_name, s.org_path, s.name, \
    s.phone_masked, s.origin, s.origin_note, s.since, s.until, s.end_kind, s.end_reason, \
    (SELECT n.name FROM secretaries n WHERE n.id = s.successor_id) AS successor_name";

fn secretary_from_row(r: &AnyRow) -> Result<Secretary> {
    let id: i64 = r.try_get("id")?;
    let corrupt = |what: &str| StoreError::Corrupt(format!("secretary {id}: {what}"));
    Ok(Secretary {
        id,
        org_code: r.try_get("org_code")?,
        org_name: r.try_get("org_name")?,
        org_path: r.try_get("org_path")?,
        name: r.try_get("name")?,
        phone_masked: r.try_get("phone_masked")?,
        origin: SecretaryOrigin::parse(&r.try_get::<String, _>("origin")?)
            .ok_or_else(|| corrupt("origin"))?,
        origin_note: r.try_get("origin_note")?,
        since: r.try_get("since")?,
        until: r.try_get("until")?,
        end_kind: match r.try_get::<Option<String>, _>("end_kind")? {
            Some(k) => Some(TermEnd::parse(&k).ok_or_else(|| corrupt("end_kind"))?),
            None => None,
        },
        end_reason: r.try_get("end_reason")?,
        successor_name: r.try_get("successor_name")?,
        fitness: Vec::new(),
    })
}

async fn secretary_in_scope(conn: &mut AnyConnection, actor: &Actor, id: i64) -> Result<Secretary> {
    let r = sqlx::query(&format!(
        "SELECT {SECRETARY_COLUMNS} FROM secretaries s JOIN orgs o ON o.code = s.org_code \
         WHERE s.id = $1 AND s.org_path >= $2 AND s.org_path < $3"
    ))
    .bind(id)
    .bind(actor.scope.lower())
    .bind(actor.scope.upper())
    .fetch_optional(&mut *conn)
    .await?
    .ok_or(StoreError::NotFound)?;
    secretary_from_row(&r)
}

/// Counts rows of `sql` (one `$1`/`$2` path range).
async fn count(conn: &mut AnyConnection, sql: &str, lower: &str, upper: &str) -> Result<i64> {
    Ok(sqlx::query(sql)
        .bind(lower)
        .bind(upper)
        .fetch_one(&mut *conn)
        .await?
        .try_get(0)?)
}

impl Db {
    /// Every term of the village's secretaries, the current first, each with its grades.
    pub async fn secretaries_of(&self, village: &Node) -> Result<Vec<Secretary>> {
        let mut conn = self.pool().acquire().await?;
        let rows = sqlx::query(&format!(
            "SELECT {SECRETARY_COLUMNS} FROM secretaries s JOIN orgs o ON o.code = s.org_code \
             WHERE s.org_code = $1 ORDER BY CASE WHEN s.until IS NULL THEN 0 ELSE 1 END, s.since DESC, s.id DESC"
        ))
        .bind(village.code.as_str())
        .fetch_all(&mut *conn)
        .await?;
        let mut out = rows
            .iter()
            .map(secretary_from_row)
            .collect::<Result<Vec<_>>>()?;
        for s in &mut out {
            for r in sqlx::query(
                "SELECT year, grade FROM secretary_fitness WHERE secretary_id = $1 ORDER BY year DESC",
            )
            .bind(s.id)
            .fetch_all(&mut *conn)
            .await?
            {
                let grade = Fitness::parse(&r.try_get::<String, _>("grade")?)
                    .ok_or_else(|| StoreError::Corrupt(format!("secretary {}: grade", s.id)))?;
                s.fitness.push((r.try_get("year")?, grade));
            }
        }
        Ok(out)
    }

    /// The secretaries under a node: in post, or (`adjusted`) those adjusted as unfit; a page
    /// of at most `limit` from `offset`, by village, and how many there are in all.
    pub async fn secretary_list(
        &self,
        node: &Node,
        adjusted: bool,
        offset: i64,
        limit: i64,
    ) -> Result<(Vec<Secretary>, i64)> {
        let upper = baiqian_domain::org::path_upper_bound(&node.path);
        let filter = if adjusted {
            "s.end_kind = 'adjusted'"
        } else {
            "s.until IS NULL"
        };
        let mut conn = self.pool().acquire().await?;
        let total = count(
            &mut conn,
            &format!(
                "SELECT COUNT(*) FROM secretaries s WHERE {filter} AND s.org_path >= $1 AND s.org_path < $2"
            ),
            &node.path,
            &upper,
        )
        .await?;
        let rows = sqlx::query(&format!(
            "SELECT {SECRETARY_COLUMNS} FROM secretaries s JOIN orgs o ON o.code = s.org_code \
             WHERE {filter} AND s.org_path >= $1 AND s.org_path < $2 \
             ORDER BY s.org_path, s.since DESC, s.id LIMIT $3 OFFSET $4"
        ))
        .bind(&node.path)
        .bind(&upper)
        .bind(limit)
        .bind(offset)
        .fetch_all(&mut *conn)
        .await?;
        let list = rows
            .iter()
            .map(secretary_from_row)
            .collect::<Result<Vec<_>>>()?;
        Ok((list, total))
    }

    /// The cadre figures of each of a node's children, in their order: three grouped queries
    /// for all of them, not five per child.
    pub async fn cadre_summaries(
        &self,
        parent: &Node,
        children: &[Node],
    ) -> Result<Vec<CadreSummary>> {
        let upper = baiqian_domain::org::path_upper_bound(&parent.path);
        let mut by_child: std::collections::HashMap<String, CadreSummary> = children
            .iter()
            .map(|c| (c.path.clone(), CadreSummary::default()))
            .collect();
        // The child a record under the parent belongs to: its path up to the next `/`.
        let child_of = |path: &str| -> Option<String> {
            let rest = path.get(parent.path.len()..)?;
            let end = rest.find('/')? + 1;
            Some(format!("{}{}", parent.path, &rest[..end]))
        };
        let mut conn = self.pool().acquire().await?;
        for r in sqlx::query(
            "SELECT path FROM orgs WHERE level = 'village' AND retired_at IS NULL \
             AND path >= $1 AND path < $2",
        )
        .bind(&parent.path)
        .bind(&upper)
        .fetch_all(&mut *conn)
        .await?
        {
            if let Some(s) =
                child_of(&r.try_get::<String, _>(0)?).and_then(|c| by_child.get_mut(&c))
            {
                s.villages += 1;
            }
        }
        for r in sqlx::query(
            "SELECT org_path, SUM(CASE WHEN until IS NULL THEN 1 ELSE 0 END) AS in_post, \
             SUM(CASE WHEN end_kind = 'adjusted' THEN 1 ELSE 0 END) AS adjusted \
             FROM secretaries WHERE org_path >= $1 AND org_path < $2 GROUP BY org_path",
        )
        .bind(&parent.path)
        .bind(&upper)
        .fetch_all(&mut *conn)
        .await?
        {
            if let Some(s) =
                child_of(&r.try_get::<String, _>(0)?).and_then(|c| by_child.get_mut(&c))
            {
                s.secretaries += r.try_get::<Option<i64>, _>("in_post")?.unwrap_or(0);
                s.secretaries_adjusted += r.try_get::<Option<i64>, _>("adjusted")?.unwrap_or(0);
            }
        }
        for r in sqlx::query(
            "SELECT org_path, COUNT(*) AS n, SUM(CASE WHEN stationed = 1 THEN 1 ELSE 0 END) AS stationed FROM first_secretaries \
             WHERE ended_on IS NULL AND org_path >= $1 AND org_path < $2 GROUP BY org_path",
        )
        .bind(&parent.path)
        .bind(&upper)
        .fetch_all(&mut *conn)
        .await?
        {
            if let Some(s) =
                child_of(&r.try_get::<String, _>(0)?).and_then(|c| by_child.get_mut(&c))
            {
                s.first_secretaries += r.try_get::<i64, _>("n")?;
                s.stationed += r.try_get::<Option<i64>, _>("stationed")?.unwrap_or(0);
            }
        }
        Ok(children
            .iter()
            .map(|c| by_child.remove(&c.path).unwrap_or_default())
            .collect())
    }

    /// The cadre figures under a node.
    pub async fn cadre_summary(&self, node: &Node) -> Result<CadreSummary> {
        let upper = baiqian_domain::org::path_upper_bound(&node.path);
        let mut conn = self.pool().acquire().await?;
        let (l, u) = (node.path.as_str(), upper.as_str());
        Ok(CadreSummary {
            villages: count(
                &mut conn,
                "SELECT COUNT(*) FROM orgs WHERE level = 'village' AND retired_at IS NULL \
                 AND path >= $1 AND path < $2",
                l,
                u,
            )
            .await?,
            secretaries: count(
                &mut conn,
                "SELECT COUNT(*) FROM secretaries WHERE until IS NULL AND org_path >= $1 AND org_path < $2",
                l,
                u,
            )
            .await?,
            secretaries_adjusted: count(
                &mut conn,
                "SELECT COUNT(*) FROM secretaries WHERE end_kind = 'adjusted' AND org_path >= $1 AND org_path < $2",
                l,
                u,
            )
            .await?,
            first_secretaries: count(
                &mut conn,
                "SELECT COUNT(*) FROM first_secretaries WHERE ended_on IS NULL AND org_path >= $1 AND org_path < $2",
                l,
                u,
            )
            .await?,
            stationed: count(
                &mut conn,
                "SELECT COUNT(*) FROM first_secretaries WHERE ended_on IS NULL AND stationed = 1 \
                 AND org_path >= $1 AND org_path < $2",
                l,
                u,
            )
            .await?,
        })
    }

    /// Appoints a village's secretary. When one is in post, `ending` says how that term ends
    /// (an adjustment as unfit needs its reason) and the new one is named its successor; the
    /// tree's secretary name follows. Returns the new term's id.
    pub async fn appoint_secretary(
        &self,
        actor: &Actor,
        vault: &Vault,
        village: &Node,
        appointment: &Appointment,
        today: &str,
        now: i64,
    ) -> Result<i64> {
        let (new, ending) = (&appointment.secretary, appointment.ending.as_ref());
        if village.level != Level::Village {
            return Err(invalid("cadre.error.not_village"));
        }
        if !keeps(actor, &village.path) {
            return Err(denied());
        }
        let name = text(&new.name, 2, 20, "cadre.error.name")?;
        let origin =
            SecretaryOrigin::parse(&new.origin).ok_or_else(|| invalid("cadre.error.origin"))?;
        let origin_note = text(&new.origin_note, 0, 200, "cadre.error.note")?;
        let since = past_date(&new.since, today, "cadre.error.since")?;
        let (phone_sealed, phone_masked) = sealed_phone(vault, &new.phone)?;
        let ending = match ending {
            Some(e) => {
                let reason = text(&e.reason, 0, 200, "cadre.error.reason")?;
                if e.kind == TermEnd::Adjusted && reason.chars().count() < 2 {
                    return Err(invalid("cadre.error.reason"));
                }
                Some((e.kind, reason))
            }
            None => None,
        };
        let mut tx = self.write().await?;
        let current = sqlx::query(&format!(
            "SELECT {SECRETARY_COLUMNS} FROM secretaries s JOIN orgs o ON o.code = s.org_code \
             WHERE s.org_code = $1 AND s.until IS NULL"
        ))
        .bind(village.code.as_str())
        .fetch_optional(tx.conn())
        .await?
        .map(|r| secretary_from_row(&r))
        .transpose()?;
        match (&current, &ending) {
            (Some(_), None) => return Err(StoreError::Conflict(Msg::new("cadre.error.in_post"))),
            (None, Some(_)) => return Err(invalid("cadre.error.nobody_in_post")),
            (Some(c), Some(_)) if c.since.as_str() > since.as_str() => {
                return Err(invalid("cadre.error.before_current"));
            }
            _ => {}
        }
        // The term in post ends before the next begins: one secretary in post per village, by
        // a unique index.
        if let (Some(c), Some((kind, reason))) = (&current, &ending) {
            let ended = sqlx::query(
                "UPDATE secretaries SET until = $1, end_kind = $2, end_reason = $3, \
                 updated_at = $4 WHERE id = $5 AND until IS NULL",
            )
            .bind(&since)
            .bind(kind.as_str())
            .bind(reason)
            .bind(now)
            .bind(c.id)
            .execute(tx.conn())
            .await?
            .rows_affected();
            if ended != 1 {
                return Err(StoreError::Conflict(Msg::new("cadre.error.moved")));
            }
            let mut change = Change::update(
                "secretary",
                &format!("{} {}", village.code.as_str(), c.name),
                &village.path,
                json!({ "name": c.name, "until": null }),
                json!({ "name": c.name, "until": since, "end_kind": kind.as_str(), "successor": name }),
            );
            change.action = if *kind == TermEnd::Adjusted {
                "adjust"
            } else {
                "end"
            };
            change.reason = Some(reason.clone()).filter(|r| !r.is_empty());
            audit::record(tx.conn(), actor, now, change).await?;
        }
        let id: i64 = sqlx::query(
            "INSERT INTO secretaries (org_code, org_path, name, phone_sealed, phone_masked, origin, \
             origin_note, since, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $9) RETURNING id",
        )
        .bind(village.code.as_str())
        .bind(&village.path)
        .bind(&name)
        .bind(phone_sealed)
        .bind(&phone_masked)
        .bind(origin.as_str())
        .bind(&origin_note)
        .bind(&since)
        .bind(now)
        .fetch_one(tx.conn())
        .await
        .map_err(|e| match crate::on_unique(e, Msg::new("cadre.error.moved")) {
            StoreError::Invalid(m) => StoreError::Conflict(m),
            other => other,
        })?
        .try_get(0)?;
        if let Some(c) = &current {
            sqlx::query("UPDATE secretaries SET successor_id = $1 WHERE id = $2")
                .bind(id)
                .bind(c.id)
                .execute(tx.conn())
                .await?;
        }
        audit::record(
            tx.conn(),
            actor,
            now,
            Change::create(
                "secretary",
                &format!("{} {name}", village.code.as_str()),
                &village.path,
                json!({ "name": name, "phone": phone_masked, "origin": origin.as_str(),
                        "origin_note": origin_note, "since": since }),
            ),
        )
        .await?;
        if village.secretary_name.as_deref() != Some(name.as_str()) {
            sqlx::query("UPDATE orgs SET secretary_name = $1, updated_at = $2 WHERE code = $3")
                .bind(&name)
                .bind(now)
                .bind(village.code.as_str())
                .execute(tx.conn())
                .await?;
            audit::record(
                tx.conn(),
                actor,
                now,
                Change::update(
                    "org",
                    village.code.as_str(),
                    &village.path,
                    json!({ "secretary_name": village.secretary_name }),
                    json!({ "secretary_name": name }),
                ),
            )
            .await?;
        }
        tx.commit().await?;
        Ok(id)
    }

    /// Grades a secretary's fitness for a year of their term (a later grade replaces an
    /// earlier one, both audited). Returns the village's code.
    pub async fn grade_secretary(
        &self,
        actor: &Actor,
        id: i64,
        given: &Grade,
        today: &str,
        now: i64,
    ) -> Result<String> {
        let (year, grade) = (given.year, given.grade);
        let note = text(&given.note, 0, 200, "cadre.error.note")?;
        let mut tx = self.write().await?;
        let s = secretary_in_scope(tx.conn(), actor, id).await?;
        if !keeps(actor, &s.org_path) {
            return Err(denied());
        }
        let first: i64 = s.since.get(0..4).and_then(|y| y.parse().ok()).unwrap_or(0);
        let last: i64 = s
            .until
            .as_deref()
            .unwrap_or(today)
            .get(0..4)
            .and_then(|y| y.parse().ok())
            .unwrap_or(0);
        if year < first || year > last {
            return Err(invalid("cadre.error.year"));
        }
        let before: Option<String> = sqlx::query(
            "SELECT grade FROM secretary_fitness WHERE secretary_id = $1 AND year = $2",
        )
        .bind(id)
        .bind(year)
        .fetch_optional(tx.conn())
        .await?
        .map(|r| r.try_get(0))
        .transpose()?;
        if before.is_some() {
            sqlx::query(
                "UPDATE secretary_fitness SET grade = $1, note = $2, graded_by = $3, graded_at = $4 \
                 WHERE secretary_id = $5 AND year = $6",
            )
        } else {
            sqlx::query(
                "INSERT INTO secretary_fitness (grade, note, graded_by, graded_at, secretary_id, year) \
                 VALUES ($1, $2, $3, $4, $5, $6)",
            )
        }
        .bind(grade.as_str())
        .bind(&note)
        .bind(&actor.login)
        .bind(now)
        .bind(id)
        .bind(year)
        .execute(tx.conn())
        .await?;
        let key = format!("{} {} {year}", s.org_code, s.name);
        let after = json!({ "year": year, "grade": grade.as_str(), "note": note });
        let mut change = match before {
            Some(b) => Change::update(
                "fitness",
                &key,
                &s.org_path,
                json!({ "year": year, "grade": b }),
                after,
            ),
            None => Change::create("fitness", &key, &s.org_path, after),
        };
        change.action = "grade";
        audit::record(tx.conn(), actor, now, change).await?;
        tx.commit().await?;
        Ok(s.org_code)
    }

    /// The secretaries in post under the actor's own node who have no grade for `year`: a
    /// township's task once the year is over.
    pub async fn fitness_due(&self, actor: &Actor, year: i64) -> Result<i64> {
        if actor.role != Role::TownshipAdmin {
            return Ok(0);
        }
        Ok(sqlx::query(
            "SELECT COUNT(*) FROM secretaries s WHERE s.until IS NULL AND s.since <= $1 \
             AND s.org_path >= $2 AND s.org_path < $3 AND NOT EXISTS \
             (SELECT 1 FROM secretary_fitness f WHERE f.secretary_id = s.id AND f.year = $4)",
        )
        .bind(format!("{year}-12-31"))
        .bind(actor.scope.lower())
        .bind(actor.scope.upper())
        .bind(year)
        .fetch_one(self.pool())
        .await?
        .try_get(0)?)
    }
}

/// Whose phone to show unmasked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CadreKind {
    Secretary,
    FirstSecretary,
}

impl Db {
    /// A cadre's whole phone, for a role that may see personal data; each look audited as the
    /// roster's are. Returns the village's code and the phone (none if none was given).
    pub async fn reveal_cadre_phone(
        &self,
        actor: &Actor,
        vault: &Vault,
        kind: CadreKind,
        id: i64,
        now: i64,
    ) -> Result<(String, Option<String>)> {
        if !actor.role.may_see_personal_data() {
            return Err(denied());
        }
        let (table, entity) = match kind {
            CadreKind::Secretary => ("secretaries", "secretary"),
            CadreKind::FirstSecretary => ("first_secretaries", "first_secretary"),
        };
        let mut tx = self.write().await?;
        let row = sqlx::query(&format!(
            "SELECT org_code, org_path, name, phone_sealed FROM {table} \
             WHERE id = $1 AND org_path >= $2 AND org_path < $3"
        ))
        .bind(id)
        .bind(actor.scope.lower())
        .bind(actor.scope.upper())
        .fetch_optional(tx.conn())
        .await?
        .ok_or(StoreError::NotFound)?;
        let (code, path, name): (String, String, String) = (
            row.try_get("org_code")?,
            row.try_get("org_path")?,
            row.try_get("name")?,
        );
        let phone = match row.try_get::<Option<String>, _>("phone_sealed")? {
            Some(p) => Some(vault.open(&p).map_err(|_| {
                StoreError::Corrupt(format!(
                    "{entity} {id}: sealed phone does not open with this key"
                ))
            })?),
            None => None,
        };
        let mut change = Change::create(entity, &format!("{code} {name}"), &path, json!({}));
        change.action = "reveal";
        change.after = None;
        change.reason = Some("personal data shown unmasked".into());
        audit::record(tx.conn(), actor, now, change).await?;
        tx.commit().await?;
        Ok((code, phone))
    }
}

/// Follows the tree (`kernel::TreeEvent`) in the tree writer's transaction: records carry
/// their village's path.
pub(crate) fn follow_tree<'c>(
    conn: &'c mut AnyConnection,
    _actor: &'c Actor,
    event: &'c TreeEvent<'c>,
    _now: i64,
) -> std::pin::Pin<Box<dyn std::future::Future<Output = Result<()>> + Send + 'c>> {
    Box::pin(async move {
        if let TreeEvent::Moved { old_path, new_path } = *event {
            for table in ["secretaries", "first_secretaries"] {
                crate::kernel::move_paths(&mut *conn, table, "org_path", old_path, new_path)
                    .await?;
            }
        }
        Ok(())
    })
}
