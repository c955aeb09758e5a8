//! Townships' surveys (排摸) brought in from officials' own sheets, one row per village: the
//! township, the survey's title, basis and start, the village, the leader who guides it and the
//! day it was surveyed. Rows of one title make one survey; a survey already kept takes the
//! villages and survey days the sheet adds, and a row that contradicts it is the cell's error.

use std::collections::{HashMap, HashSet};

use baiqian_domain::Msg;
use baiqian_domain::org::{Level, path_upper_bound};
use baiqian_domain::time::china_date;
use serde_json::json;
use sqlx::{AnyConnection, Row};

use super::{date, denied, required};
use crate::audit::{self, Change};
use crate::import::{ImportError, ImportMode, ImportOutcome, pick_org};
use crate::kernel::{Node, Org};
use crate::{Actor, Db, Result, StoreError};

/// One row of a survey list as read from a sheet.
#[derive(Debug, Clone, Default)]
pub struct SurveyRow {
    /// The sheet's row number (1-based), for the report.
    pub row: usize,
    pub township: String,
    pub title: String,
    /// The standards it surveys against (对照标准).
    pub basis: String,
    pub started_on: String,
    pub village: String,
    /// The leader who guides the village, by name: one of the township's.
    pub leader: String,
    /// The day the village was surveyed, when it has been.
    pub done_on: String,
}

/// A village of a survey as a row gives it.
struct SurveyPlace {
    village: Org,
    leader: Option<i64>,
    done_on: Option<String>,
}

/// A survey the sheet makes or adds to: the kept one's id, or its header for a new one.
struct SheetSurvey {
    township: Org,
    title: String,
    basis: String,
    started_on: String,
    kept: Option<i64>,
    places: Vec<SurveyPlace>,
}

/// A village already in a kept survey: its guide and its survey day.
type KeptPlace = (Option<i64>, Option<String>);

/// Writes a village into a survey, audited with the survey's key.
async fn insert_place(
    conn: &mut AnyConnection,
    actor: &Actor,
    survey_id: i64,
    p: &SurveyPlace,
    now: i64,
) -> Result<()> {
    sqlx::query(
        "INSERT INTO survey_villages (survey_id, village_code, village_path, leader_id, done_on) \
         VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(survey_id)
    .bind(p.village.code.as_str())
    .bind(&p.village.path)
    .bind(p.leader)
    .bind(&p.done_on)
    .execute(&mut *conn)
    .await?;
    audit::record(
        conn,
        actor,
        now,
        Change::create(
            "survey_village",
            &format!("#{survey_id} {}", p.village.code.as_str()),
            &p.village.path,
            json!({"leader_id": p.leader, "done_on": p.done_on}),
        ),
    )
    .await
}

impl Db {
    /// Imports surveys of the townships under `node`. With `AllOrNothing` any bad row writes
    /// nothing; otherwise exactly the good rows go in.
    pub async fn import_survey_rows(
        &self,
        actor: &Actor,
        node: &Node,
        rows: &[SurveyRow],
        mode: ImportMode,
        now: i64,
    ) -> Result<ImportOutcome> {
        if !actor.role.is_admin() {
            return Err(denied());
        }
        let today = china_date(now);
        let upper = path_upper_bound(&node.path);
        let mut tx = self.write().await?;
        let orgs =
            crate::kernel::orgs_under(tx.conn(), actor, node, "'township', 'village'").await?;
        let (townships, mut villages): (Vec<Org>, Vec<Org>) =
            orgs.into_iter().partition(|o| o.level == Level::Township);
        // By path, so that a township's villages are one run of them.
        villages.sort_by(|a, b| a.path.cmp(&b.path));
        // The leaders of each township, by its path.
        let mut leaders: HashMap<String, Vec<(i64, String)>> = HashMap::new();
        for r in sqlx::query(
            "SELECT id, name, org_path FROM leaders WHERE org_path >= $1 AND org_path < $2",
        )
        .bind(&node.path)
        .bind(&upper)
        .fetch_all(tx.conn())
        .await?
        {
            leaders
                .entry(r.try_get("org_path")?)
                .or_default()
                .push((r.try_get("id")?, r.try_get("name")?));
        }
        let mut kept: HashMap<(String, String), (i64, String, String)> = HashMap::new();
        for r in sqlx::query(
            "SELECT id, township_code, title, basis, started_on FROM surveys \
             WHERE township_path >= $1 AND township_path < $2",
        )
        .bind(&node.path)
        .bind(&upper)
        .fetch_all(tx.conn())
        .await?
        {
            kept.insert(
                (r.try_get("township_code")?, r.try_get("title")?),
                (
                    r.try_get("id")?,
                    r.try_get("basis")?,
                    r.try_get("started_on")?,
                ),
            );
        }
        let mut kept_places: HashMap<(i64, String), KeptPlace> = HashMap::new();
        for r in sqlx::query(
            "SELECT sv.survey_id, sv.village_code, sv.leader_id, sv.done_on FROM survey_villages sv \
             JOIN surveys s ON s.id = sv.survey_id \
             WHERE s.township_path >= $1 AND s.township_path < $2",
        )
        .bind(&node.path)
        .bind(&upper)
        .fetch_all(tx.conn())
        .await?
        {
            kept_places.insert(
                (r.try_get("survey_id")?, r.try_get("village_code")?),
                (r.try_get("leader_id")?, r.try_get("done_on")?),
            );
        }

        let mut errors: Vec<ImportError> = Vec::new();
        let mut surveys: Vec<SheetSurvey> = Vec::new();
        let mut seen: HashSet<(String, String, String)> = HashSet::new();
        let (mut updated, mut unchanged) = (0, 0);
        for r in rows {
            let mut bad = |column: &'static str, msg: Msg| {
                errors.push(ImportError {
                    row: r.row,
                    column,
                    msg,
                })
            };
            let mut text =
                |column: &'static str, max: usize, v: &str| match required(v, max, column) {
                    Ok(t) => Some(t),
                    Err(StoreError::Invalid(m)) => {
                        bad(column, m);
                        None
                    }
                    Err(_) => None,
                };
            let title = text("title", 100, &r.title);
            let basis = text("basis", 500, &r.basis);
            let mut day =
                |column: &'static str, v: &str, optional: bool| -> Option<Option<String>> {
                    if optional && v.trim().is_empty() {
                        return Some(None);
                    }
                    match date(v, column) {
                        Ok(d) if d.as_str() > today.as_str() => {
                            bad(column, Msg::new("survey.error.future"));
                            None
                        }
                        Ok(d) => Some(Some(d)),
                        Err(StoreError::Invalid(m)) => {
                            bad(column, m);
                            None
                        }
                        Err(_) => None,
                    }
                };
            let started_on = day("started_on", &r.started_on, false).flatten();
            let done_on = day("done_on", &r.done_on, true);
            let township = match pick_org(&townships, &r.township) {
                Ok(t) => Some(t.clone()),
                Err(m) => {
                    bad("township", m);
                    None
                }
            };
            // A village is looked for among its township's: names repeat across townships.
            let village = match &township {
                Some(t) => {
                    let (lower, upper) = (format!("{}/", t.path), path_upper_bound(&t.path));
                    let from = villages.partition_point(|v| v.path < lower);
                    let to = villages.partition_point(|v| v.path < upper);
                    match pick_org(&villages[from..to], &r.village) {
                        Ok(v) => Some(v.clone()),
                        Err(m) => {
                            bad("village", m);
                            None
                        }
                    }
                }
                None => None,
            };
            let leader = match (&township, r.leader.trim()) {
                (_, "") => Some(None),
                (Some(t), name) => {
                    let named: Vec<i64> = leaders
                        .get(&t.path)
                        .map(|l| {
                            l.iter()
                                .filter(|(_, n)| n == name)
                                .map(|(id, _)| *id)
                                .collect()
                        })
                        .unwrap_or_default();
                    match named.as_slice() {
                        [one] => Some(Some(*one)),
                        [] => {
                            bad(
                                "leader",
                                Msg::new("visit.error.leader_unknown").arg("name", name),
                            );
                            None
                        }
                        _ => {
                            bad(
                                "leader",
                                Msg::new("visit.error.leader_ambiguous").arg("name", name),
                            );
                            None
                        }
                    }
                }
                (None, _) => None,
            };
            let (
                Some(township),
                Some(title),
                Some(basis),
                Some(started_on),
                Some(village),
                Some(leader),
                Some(done_on),
            ) = (township, title, basis, started_on, village, leader, done_on)
            else {
                continue;
            };
            // Every cell in error left its value out above: the row is whole from here.
            let key = (township.code.as_str().to_string(), title.clone());
            if !seen.insert((
                key.0.clone(),
                key.1.clone(),
                village.code.as_str().to_string(),
            )) {
                bad(
                    "village",
                    Msg::new("survey.error.village_repeated").arg("name", &village.name),
                );
                continue;
            }
            // The survey's header as kept, or as its first row wrote it.
            let header = kept
                .get(&key)
                .map(|(id, b, s)| (Some(*id), b.clone(), s.clone()))
                .or_else(|| {
                    surveys
                        .iter()
                        .find(|s| s.township.code == township.code && s.title == title)
                        .map(|s| (s.kept, s.basis.clone(), s.started_on.clone()))
                });
            if let Some((_, b, s)) = &header {
                if *b != basis {
                    bad("basis", Msg::new("survey.error.differs").arg("value", b));
                    continue;
                }
                if *s != started_on {
                    bad(
                        "started_on",
                        Msg::new("survey.error.differs").arg("value", s),
                    );
                    continue;
                }
            }
            let kept_id = header.as_ref().and_then(|h| h.0);
            if let Some(id) = kept_id
                && let Some((kept_leader, kept_done)) =
                    kept_places.get(&(id, village.code.as_str().to_string()))
            {
                if *kept_leader != leader && leader.is_some() {
                    bad("leader", Msg::new("survey.error.leader_differs"));
                    continue;
                }
                match (kept_done, &done_on) {
                    (Some(k), Some(d)) if k != d => {
                        bad("done_on", Msg::new("survey.error.differs").arg("value", k));
                        continue;
                    }
                    (None, Some(_)) => updated += 1,
                    _ => {
                        unchanged += 1;
                        continue;
                    }
                }
            }
            let place = SurveyPlace {
                village,
                leader,
                done_on,
            };
            match surveys
                .iter_mut()
                .find(|s| s.township.code == township.code && s.title == title)
            {
                Some(s) => s.places.push(place),
                None => surveys.push(SheetSurvey {
                    township,
                    title,
                    basis,
                    started_on,
                    kept: kept_id,
                    places: vec![place],
                }),
            }
        }
        if (!errors.is_empty() && mode == ImportMode::AllOrNothing) || surveys.is_empty() {
            // A sheet that only repeats what is kept went in whole: there was nothing to write.
            let committed = surveys.is_empty() && errors.is_empty() && unchanged > 0;
            return Ok(ImportOutcome {
                errors,
                committed,
                unchanged,
                ..ImportOutcome::default()
            });
        }
        let mut created = 0;
        for s in &surveys {
            let id = match s.kept {
                Some(id) => id,
                None => {
                    created += 1;
                    let id: i64 = sqlx::query(
                        "INSERT INTO surveys (township_code, township_path, title, basis, started_on, created_at) \
                         VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
                    )
                    .bind(s.township.code.as_str())
                    .bind(&s.township.path)
                    .bind(&s.title)
                    .bind(&s.basis)
                    .bind(&s.started_on)
                    .bind(now)
                    .fetch_one(tx.conn())
                    .await?
                    .try_get(0)?;
                    audit::record(
                        tx.conn(),
                        actor,
                        now,
                        Change::create(
                            "survey",
                            &format!("#{id} {}", s.title),
                            &s.township.path,
                            json!({"title": s.title, "basis": s.basis, "started_on": s.started_on,
                                   "villages": s.places.len()}),
                        ),
                    )
                    .await?;
                    id
                }
            };
            for p in &s.places {
                let known = kept_places.contains_key(&(id, p.village.code.as_str().to_string()));
                if known {
                    sqlx::query(
                        "UPDATE survey_villages SET done_on = $1 WHERE survey_id = $2 AND village_code = $3",
                    )
                    .bind(&p.done_on)
                    .bind(id)
                    .bind(p.village.code.as_str())
                    .execute(tx.conn())
                    .await?;
                    audit::record(
                        tx.conn(),
                        actor,
                        now,
                        Change::update(
                            "survey_village",
                            &format!("#{id} {}", p.village.code.as_str()),
                            &p.village.path,
                            json!({"done_on": null}),
                            json!({"done_on": p.done_on}),
                        ),
                    )
                    .await?;
                } else {
                    if s.kept.is_some() {
                        updated += 1;
                    }
                    insert_place(tx.conn(), actor, id, p, now).await?;
                }
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
}
