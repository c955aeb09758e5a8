//! Leaders (领导名单) and their public pledges (公开承诺) brought in from officials' own sheets
//! through the shared importer: people, units and places by name or code, levels in their
//! words, every bad cell reported by row and column, all or only the good rows.

use std::collections::HashSet;

use baiqian_domain::Msg;
use baiqian_domain::capability::Capability;
use baiqian_domain::org::{Level, path_upper_bound};
use baiqian_domain::time::china_date;
use serde_json::json;
use sqlx::{AnyConnection, Row};

use super::visit_import::{leaders_in_reach, pick_leader};
use super::{date, denied, required, user_in_scope};
use crate::audit::{self, Change};
use crate::import::{ImportError, ImportMode, ImportOutcome, pick_org};
use crate::kernel::{Node, Org};
use crate::{Actor, Db, Result, StoreError};

/// One row of a leaders' list as read from a sheet.
#[derive(Debug, Clone, Default)]
pub struct LeaderRow {
    /// The sheet's row number (1-based), for the report.
    pub row: usize,
    pub name: String,
    /// 职务
    pub title: String,
    /// The unit they serve at, by name or code, at or under the page's node.
    pub org: String,
    /// The townships and villages they guide (联系指导), by name or code, separated by 、 , ;
    pub areas: String,
    /// The account that speaks for them, if any.
    pub login: String,
}

/// One row of a pledges' list as read from a sheet.
#[derive(Debug, Clone, Default)]
pub struct PledgeRow {
    pub row: usize,
    /// The leader's name as the list writes it.
    pub leader: String,
    /// The node the pledge covers, by name or code.
    pub scope: String,
    /// Which places under it: 村 or 乡镇 (villages when empty).
    pub level: String,
    pub title: String,
    pub since: String,
    pub due: String,
}

/// A pledge's level in officials' words: the villages, or the townships (with their
/// 街道).
pub fn pledge_level_from_word(word: &str) -> Option<Level> {
    match word.trim() {
        "" | "村" | "行政村" | "村（社区）" | "村社区" | "village" | "villages" => {
            Some(Level::Village)
        }
        "乡镇" | "乡镇（街道）" | "乡镇(街道)" | "镇" | "乡" | "街道" | "镇（街道）"
        | "township" | "townships" => Some(Level::Township),
        _ => None,
    }
}

/// A leaders' list row checked and ready to write: the unit, the leader, their account, the
/// record already kept of them, and the places they guide.
struct SheetLeader {
    unit: Org,
    name: String,
    title: String,
    user: Option<i64>,
    existing: Option<i64>,
    areas: Vec<Org>,
}

/// A pledge checked and ready to write.
pub(super) struct CheckedPledge {
    pub leader_id: i64,
    pub leader_name: String,
    pub level: Level,
    pub title: String,
    pub since: String,
    pub due: String,
}

/// Writes a checked pledge over `node`, audited.
pub(super) async fn insert_pledge(
    conn: &mut AnyConnection,
    actor: &Actor,
    node: &Org,
    p: &CheckedPledge,
    now: i64,
) -> Result<i64> {
    let id: i64 = sqlx::query(
        "INSERT INTO pledges (leader_id, scope_code, scope_path, place_level, title, since, due, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id",
    )
    .bind(p.leader_id)
    .bind(node.code.as_str())
    .bind(&node.path)
    .bind(p.level.as_str())
    .bind(&p.title)
    .bind(&p.since)
    .bind(&p.due)
    .bind(now)
    .fetch_one(&mut *conn)
    .await?
    .try_get(0)?;
    audit::record(
        conn,
        actor,
        now,
        Change::create(
            "pledge",
            &format!("#{id} {}", p.leader_name),
            &node.path,
            json!({"leader_id": p.leader_id, "scope": node.code, "level": p.level.as_str(),
                   "title": p.title, "since": p.since, "due": p.due}),
        ),
    )
    .await?;
    Ok(id)
}

/// Names a leader at `node`, audited; a second leader of the same name there is refused.
pub(super) async fn insert_leader(
    conn: &mut AnyConnection,
    actor: &Actor,
    node: &Org,
    (name, title): (&str, &str),
    user_id: Option<i64>,
    now: i64,
) -> Result<i64> {
    let id: i64 = sqlx::query(
        "INSERT INTO leaders (org_code, org_path, name, title, user_id, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
    )
    .bind(node.code.as_str())
    .bind(&node.path)
    .bind(name)
    .bind(title)
    .bind(user_id)
    .bind(now)
    .fetch_one(&mut *conn)
    .await
    .map_err(|e| crate::on_unique(e, Msg::new("visit.error.leader_exists").arg("name", name)))?
    .try_get(0)?;
    audit::record(
        conn,
        actor,
        now,
        Change::create(
            "leader",
            &format!("{} {name}", node.code.as_str()),
            &node.path,
            json!({"name": name, "title": title, "user_id": user_id}),
        ),
    )
    .await?;
    Ok(id)
}

/// Gives a leader a township or village to guide from `since`, audited; one already theirs is
/// left as it is. Whether it was new.
pub(super) async fn insert_leader_area(
    conn: &mut AnyConnection,
    actor: &Actor,
    (leader_id, leader_name): (i64, &str),
    area: &Org,
    since: &str,
    now: i64,
) -> Result<bool> {
    let added = sqlx::query(
        "INSERT INTO leader_areas (leader_id, org_code, org_path, since) VALUES ($1, $2, $3, $4) \
         ON CONFLICT (leader_id, org_code) DO NOTHING",
    )
    .bind(leader_id)
    .bind(area.code.as_str())
    .bind(&area.path)
    .bind(since)
    .execute(&mut *conn)
    .await?
    .rows_affected();
    if added == 1 {
        audit::record(
            conn,
            actor,
            now,
            Change::create(
                "leader_area",
                &format!("{leader_name} {}", area.code.as_str()),
                &area.path,
                json!({"leader_id": leader_id, "area": area.code, "since": since}),
            ),
        )
        .await?;
    }
    Ok(added == 1)
}

/// A cell's value, or its error in the report (a database failure ends the import).
fn cell<T>(
    errors: &mut Vec<ImportError>,
    row: usize,
    column: &'static str,
    v: Result<T>,
) -> Result<Option<T>> {
    match v {
        Ok(v) => Ok(Some(v)),
        Err(StoreError::Invalid(msg)) => {
            errors.push(ImportError { row, column, msg });
            Ok(None)
        }
        Err(e) => Err(e),
    }
}

/// The places a 联系指导 cell names, split on 、 , ; and spaces.
fn area_names(cell: &str) -> Vec<&str> {
    cell.split(['、', ',', '，', ';', '；', ' ', '\u{3000}', '\n'])
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .collect()
}

impl Db {
    /// Imports a leaders' list at and under `node`. A leader already named at the unit keeps
    /// their record and gains the places the row adds (their 职务 must match, or the cell says
    /// so); a unit, place or account that fits none in reach is the cell's error. With
    /// `AllOrNothing` any bad row writes nothing.
    pub async fn import_leader_rows(
        &self,
        actor: &Actor,
        node: &Node,
        rows: &[LeaderRow],
        mode: ImportMode,
        now: i64,
    ) -> Result<ImportOutcome> {
        if !actor.role.may(Capability::ManageLeaders) {
            return Err(denied());
        }
        let today = china_date(now);
        let mut tx = self.write().await?;
        let units =
            crate::kernel::orgs_under(tx.conn(), actor, node, "'city', 'county', 'township'")
                .await?;
        let places =
            crate::kernel::orgs_under(tx.conn(), actor, node, "'township', 'village'").await?;
        let named: Vec<(i64, String, String, String)> = sqlx::query(
            "SELECT id, org_code, name, title FROM leaders WHERE org_path >= $1 AND org_path < $2",
        )
        .bind(&node.path)
        .bind(path_upper_bound(&node.path))
        .fetch_all(tx.conn())
        .await?
        .iter()
        .map(|r| Ok((r.try_get(0)?, r.try_get(1)?, r.try_get(2)?, r.try_get(3)?)))
        .collect::<Result<_>>()?;
        let mut errors = Vec::new();
        let mut seen: HashSet<(String, String)> = HashSet::new();
        let mut good: Vec<SheetLeader> = Vec::new();
        for r in rows {
            let before = errors.len();
            let name = cell(&mut errors, r.row, "name", required(&r.name, 40, "name"))?;
            let title = cell(&mut errors, r.row, "title", required(&r.title, 60, "title"))?;
            let unit = match pick_org(&units, &r.org) {
                Ok(o) => Some(o.clone()),
                Err(msg) => {
                    errors.push(ImportError {
                        row: r.row,
                        column: "org",
                        msg,
                    });
                    None
                }
            };
            let mut areas = Vec::new();
            for word in area_names(&r.areas) {
                match pick_org(&places, word) {
                    Ok(o) if !areas.iter().any(|a: &Org| a.code == o.code) => areas.push(o.clone()),
                    Ok(_) => {}
                    Err(msg) => errors.push(ImportError {
                        row: r.row,
                        column: "areas",
                        msg,
                    }),
                }
            }
            let user = cell(
                &mut errors,
                r.row,
                "login",
                user_in_scope(tx.conn(), &actor.scope, &r.login).await,
            )?;
            let (Some(name), Some(title), Some(unit), Some(user)) = (name, title, unit, user)
            else {
                continue;
            };
            let existing = named
                .iter()
                .find(|(_, org, n, _)| org == unit.code.as_str() && *n == name);
            if let Some((_, _, _, kept)) = existing
                && *kept != title
            {
                errors.push(ImportError {
                    row: r.row,
                    column: "title",
                    msg: Msg::new("visit.error.leader_title").arg("title", kept),
                });
                continue;
            }
            if !seen.insert((unit.code.as_str().to_string(), name.clone())) {
                errors.push(ImportError {
                    row: r.row,
                    column: "name",
                    msg: Msg::new("visit.error.leader_repeated").arg("name", &name),
                });
                continue;
            }
            if errors.len() > before {
                continue;
            }
            good.push(SheetLeader {
                unit,
                name,
                title,
                user,
                existing: existing.map(|e| e.0),
                areas,
            });
        }
        if (!errors.is_empty() && mode == ImportMode::AllOrNothing) || good.is_empty() {
            return Ok(ImportOutcome {
                errors,
                committed: false,
                ..ImportOutcome::default()
            });
        }
        let (mut created, mut updated, mut unchanged) = (0, 0, 0);
        for SheetLeader {
            unit,
            name,
            title,
            user,
            existing,
            areas,
        } in &good
        {
            let id = match existing {
                Some(id) => *id,
                None => {
                    created += 1;
                    insert_leader(tx.conn(), actor, unit, (name, title), *user, now).await?
                }
            };
            let mut added = false;
            for area in areas {
                added |=
                    insert_leader_area(tx.conn(), actor, (id, name), area, &today, now).await?;
            }
            match (existing, added) {
                (Some(_), true) => updated += 1,
                (Some(_), false) => unchanged += 1,
                (None, _) => {}
            }
        }
        tx.commit().await?;
        Ok(ImportOutcome {
            created,
            updated,
            unchanged,
            errors,
            committed: true,
        })
    }

    /// Imports a pledges' list over nodes at and under `node`, each made by a leader in the
    /// caller's reach (a leader's account brings only its own). With `AllOrNothing` any bad row
    /// writes nothing.
    pub async fn import_pledge_rows(
        &self,
        actor: &Actor,
        node: &Node,
        rows: &[PledgeRow],
        mode: ImportMode,
        now: i64,
    ) -> Result<ImportOutcome> {
        if !actor.role.may(Capability::LogVisits) {
            return Err(denied());
        }
        let mut tx = self.write().await?;
        let leaders = leaders_in_reach(tx.conn(), actor).await?;
        let scopes =
            crate::kernel::orgs_under(tx.conn(), actor, node, "'city', 'county', 'township'")
                .await?;
        // A pledge already kept as the row writes it is not made twice.
        let mut kept: HashSet<(i64, String, String, String, String, String)> = sqlx::query(
            "SELECT p.leader_id, p.scope_code, p.place_level, p.title, p.since, p.due \
             FROM pledges p JOIN leaders l ON l.id = p.leader_id \
             WHERE l.org_path >= $1 AND l.org_path < $2",
        )
        .bind(actor.scope.lower())
        .bind(actor.scope.upper())
        .fetch_all(tx.conn())
        .await?
        .iter()
        .map(|r| {
            Ok((
                r.try_get(0)?,
                r.try_get(1)?,
                r.try_get(2)?,
                r.try_get(3)?,
                r.try_get(4)?,
                r.try_get(5)?,
            ))
        })
        .collect::<Result<_>>()?;
        let mut errors = Vec::new();
        let mut good: Vec<(Org, CheckedPledge)> = Vec::new();
        for r in rows {
            let before = errors.len();
            let leader = match pick_leader(&leaders, &r.leader) {
                Ok(l) => Some(l),
                Err(msg) => {
                    errors.push(ImportError {
                        row: r.row,
                        column: "leader",
                        msg,
                    });
                    None
                }
            };
            let scope = match pick_org(&scopes, &r.scope) {
                Ok(o) => Some(o.clone()),
                Err(msg) => {
                    errors.push(ImportError {
                        row: r.row,
                        column: "scope",
                        msg,
                    });
                    None
                }
            };
            let level = pledge_level_from_word(&r.level);
            if level.is_none() {
                errors.push(ImportError {
                    row: r.row,
                    column: "level",
                    msg: Msg::new("visit.error.pledge_level_word").arg("value", r.level.trim()),
                });
            }
            let title = cell(
                &mut errors,
                r.row,
                "title",
                required(&r.title, 100, "title"),
            )?;
            let since = cell(&mut errors, r.row, "since", date(&r.since, "since"))?;
            let due = cell(&mut errors, r.row, "due", date(&r.due, "due"))?;
            if let (Some(s), Some(d)) = (&since, &due)
                && d < s
            {
                errors.push(ImportError {
                    row: r.row,
                    column: "due",
                    msg: Msg::new("visit.error.due_before"),
                });
            }
            if errors.len() > before {
                continue;
            }
            if let (
                Some((leader_id, leader_name)),
                Some(scope),
                Some(level),
                Some(title),
                Some(since),
                Some(due),
            ) = (leader, scope, level, title, since, due)
            {
                good.push((
                    scope,
                    CheckedPledge {
                        leader_id,
                        leader_name,
                        level,
                        title,
                        since,
                        due,
                    },
                ));
            }
        }
        if (!errors.is_empty() && mode == ImportMode::AllOrNothing) || good.is_empty() {
            return Ok(ImportOutcome {
                errors,
                committed: false,
                ..ImportOutcome::default()
            });
        }
        let (mut created, mut unchanged) = (0, 0);
        for (scope, p) in &good {
            let key = (
                p.leader_id,
                scope.code.as_str().to_string(),
                p.level.as_str().to_string(),
                p.title.clone(),
                p.since.clone(),
                p.due.clone(),
            );
            if !kept.insert(key) {
                unchanged += 1;
            } else {
                insert_pledge(tx.conn(), actor, scope, p, now).await?;
                created += 1;
            }
        }
        tx.commit().await?;
        Ok(ImportOutcome {
            created,
            unchanged,
            errors,
            committed: true,
            ..ImportOutcome::default()
        })
    }
}
