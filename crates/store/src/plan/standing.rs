//! Where a node stands against the campaign in a year, counted from the ratings: one grouped
//! pass over the villages under the node (per township), whatever its size. Only rated
//! villages count (approved or published); the campaign's first round is the baseline a
//! village advances from.
//!
//! The pass is remembered per (campaign, node, year) together with the audit log's sequence
//! number read before it: every change that can move a figure (a rating, a class, the tree, a
//! model township) is audited in its own transaction, so an unchanged sequence means unchanged
//! records. When the sequence has moved, the audit rows since say what changed (`reach`): a
//! change that never enters the pass (a member, a problem, a target's goal) leaves the figures
//! as they were; a village's rating, name or place or a township's scheme or designation has
//! the township above it (or the two a village moved between) counted again, with the same
//! rounds as the whole pass; anything else (a township or county created, moved or retired, a
//! round, the campaign, a kind of change not yet classified, more than `MAX_CHANGES` changes)
//! counts everything again. Every app node keeps its own memory and reads the sequence and the
//! audit rows from the shared database, so none serves another's stale figures. (A test that
//! changes records by hand, without the audit log, reads before it changes nothing or gets the
//! figures of before.)

use std::collections::{BTreeSet, HashMap};
use std::sync::atomic::{AtomicU64, Ordering};

use baiqian_domain::org::Level;
use baiqian_domain::plan::{CriterionCheck, Standing, TargetMeasure, TownshipFacts};
use baiqian_domain::rating::VillageClass;
use serde::Serialize;
use sqlx::{AnyConnection, Row};

use super::{Campaign, ModelTownship};
use crate::kernel::Node;
use crate::{Db, Result, StoreError};

/// A township against the rule and the targets.
#[derive(Debug, Clone, Serialize)]
pub struct TownshipStanding {
    pub code: String,
    pub name: String,
    pub path: String,
    pub facts: TownshipFacts,
    pub standing: Standing,
    pub checks: Vec<CriterionCheck>,
    pub advanced: bool,
    pub model: Option<ModelTownship>,
}

/// A village as the targets count it.
#[derive(Debug, Clone, Serialize)]
pub struct VillageStanding {
    pub code: String,
    pub name: String,
    pub path: String,
    /// Rated stars of the year, and of the campaign's first round.
    pub stars: Option<i64>,
    pub base_stars: Option<i64>,
    pub class: Option<VillageClass>,
    pub standing: Standing,
}

/// What a pass is remembered by: campaign, node path, year.
type MemoKey = (i64, String, i64);

/// Township standings remembered with the audit sequence they were counted at, and how the
/// reads were answered.
#[derive(Default)]
pub(crate) struct StandingsMemo {
    remembered: std::sync::Mutex<HashMap<MemoKey, (i64, Vec<TownshipStanding>)>>,
    counts: [AtomicU64; 3],
}

/// How the township standings were answered since the process started: from memory, with some
/// townships counted again (and how many townships in all), or by a whole pass.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct StandingsReads {
    pub remembered: u64,
    pub townships_recounted: u64,
    pub whole: u64,
}

/// How many (campaign, node, year) passes are remembered before the memory starts over.
const MEMO_ENTRIES: usize = 512;

/// Beyond this many audited changes since a pass, the next read counts everything again.
const MAX_CHANGES: i64 = 200;

/// What an audited change can do to the standings.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Reach {
    /// It never enters the pass.
    Nothing,
    /// It moves the township at or above the change's node, and only that one.
    Township,
    /// The tree's shape changed at the node: a village's townships (the one it is in, and the
    /// one it left), or everything when the node is not a village.
    Village,
    /// It may move anything: the tree, a round, the campaign, or a kind not classified here.
    Everything,
}

/// The reach of a change by the kind of record it changed and how (`audit_log.entity`,
/// `action`). A new kind of record reaches everything until it is classified here.
fn reach(entity: &str, action: &str) -> Reach {
    match entity {
        // A node renamed or its Party organization edited: the name a township's row shows,
        // nothing the figures count. Created, moved or retired: the tree's shape.
        "org" if action == "update" => Reach::Township,
        "org" if matches!(action, "create" | "move" | "retire") => Reach::Village,
        "member"
        | "member_card"
        | "user"
        | "api_token"
        | "activity_day"
        | "device"
        | "volunteer_team"
        | "volunteer_team_member"
        | "problem"
        | "problem_evidence"
        | "problem_overdue"
        | "leader"
        | "leader_area"
        | "visit"
        | "pledge"
        | "survey"
        | "survey_village"
        | "village_file"
        | "campaign_target"
        | "secretary"
        | "fitness"
        | "first_secretary"
        | "report"
        | "project"
        | "project_village" => Reach::Nothing,
        // A village's rating and class (the pass reads approved and published assessments), a
        // township's scheme (its items done), a model township.
        "assessment" | "self_assessment" | "review" | "village_class" | "village_facts"
        | "evidence" | "plan" | "plan_item" | "model_township" => Reach::Township,
        _ => Reach::Everything,
    }
}

/// The paths of the townships the audited changes after `since` (up to `seq`) may have moved,
/// or `None` when one of them reaches further or there are too many to look at one by one.
async fn changed_townships(
    conn: &mut AnyConnection,
    since: i64,
    seq: i64,
) -> Result<Option<BTreeSet<String>>> {
    if seq < since || seq - since > MAX_CHANGES {
        return Ok(None);
    }
    let rows = sqlx::query(
        "SELECT entity, action, org_path, before_json FROM audit_log WHERE seq > $1 AND seq <= $2",
    )
    .bind(since)
    .bind(seq)
    .fetch_all(&mut *conn)
    .await?;
    let mut paths = BTreeSet::new();
    for r in &rows {
        let (entity, action): (String, String) = (r.try_get("entity")?, r.try_get("action")?);
        let path: String = r.try_get("org_path")?;
        match reach(&entity, &action) {
            Reach::Nothing => {}
            Reach::Township => {
                paths.insert(path);
            }
            Reach::Village => {
                // A village created, moved or retired changes its township's count (and, moved,
                // the one it left); any other node's shape reaches everything.
                let level: Option<String> = sqlx::query("SELECT level FROM orgs WHERE path = $1")
                    .bind(&path)
                    .fetch_optional(&mut *conn)
                    .await?
                    .map(|r| r.try_get(0))
                    .transpose()?;
                if level.as_deref() != Some(Level::Village.as_str()) {
                    return Ok(None);
                }
                if action == "move" {
                    let before: Option<String> = r.try_get("before_json")?;
                    let left = before
                        .as_deref()
                        .and_then(|b| serde_json::from_str::<serde_json::Value>(b).ok())
                        .and_then(|b| b["parent_code"].as_str().map(str::to_string));
                    let Some(left) = left else {
                        return Ok(None);
                    };
                    let left_path: Option<String> =
                        sqlx::query("SELECT path FROM orgs WHERE code = $1")
                            .bind(&left)
                            .fetch_optional(&mut *conn)
                            .await?
                            .map(|r| r.try_get(0))
                            .transpose()?;
                    let Some(left_path) = left_path else {
                        return Ok(None);
                    };
                    paths.insert(left_path);
                }
                paths.insert(path);
            }
            Reach::Everything => return Ok(None),
        }
    }
    let mut townships = BTreeSet::new();
    for path in paths {
        // The township at or above the node: one of the path's prefixes, by the path index.
        let prefixes: Vec<&str> = path
            .match_indices('/')
            .skip(1)
            .map(|(i, _)| &path[..=i])
            .collect();
        let mut found = None;
        for prefix in prefixes.iter().rev() {
            let level: Option<String> = sqlx::query("SELECT level FROM orgs WHERE path = $1")
                .bind(prefix)
                .fetch_optional(&mut *conn)
                .await?
                .map(|r| r.try_get(0))
                .transpose()?;
            if level.as_deref() == Some(Level::Township.as_str()) {
                found = Some(prefix.to_string());
                break;
            }
        }
        match found {
            Some(t) => {
                townships.insert(t);
            }
            // Above the townships (a county's plan, a bulk change at the city): everything.
            None => return Ok(None),
        }
    }
    Ok(Some(townships))
}

/// A node and each of the children asked for.
#[derive(Debug, Clone, Serialize)]
pub struct NodeStanding {
    pub node: Standing,
    pub children: Vec<Standing>,
}

/// The rating rounds a year's figures read: the year's and the campaign's first.
async fn rounds(
    conn: &mut AnyConnection,
    path: &str,
    c: &Campaign,
    year: i64,
) -> Result<(i64, i64)> {
    let mut ids = [-1i64; 2];
    for (i, y) in [year, c.first_year].into_iter().enumerate() {
        if let Some(r) = sqlx::query(
            "SELECT id FROM rating_rounds WHERE year = $1 AND substr($2, 1, length(org_path)) = org_path \
             ORDER BY length(org_path) DESC LIMIT 1",
        )
        .bind(y)
        .bind(path)
        .fetch_optional(&mut *conn)
        .await?
        {
            ids[i] = r.try_get(0)?;
        }
    }
    Ok((ids[0], ids[1]))
}

/// The rated assessment of the year (`a`) and of the baseline (`b`) beside each active village.
const VILLAGES_RATED: &str = "FROM orgs o \
    LEFT JOIN assessments a ON a.org_code = o.code AND a.round_id = $1 \
        AND a.stage IN ('approved', 'published') \
    LEFT JOIN assessments b ON b.org_code = o.code AND b.round_id = $2 \
        AND b.stage IN ('approved', 'published') \
    WHERE o.level = 'village' AND o.retired_at IS NULL AND o.path >= $3 AND o.path < $4";

/// 晋位提升 in SQL: more stars than at the baseline, or five.
const ADVANCED: &str = "a.stars IS NOT NULL AND (a.stars >= 5 OR a.stars > COALESCE(b.stars, 99))";

/// Whether a village counts for a measure among villages, in SQL over `VILLAGES_RATED`.
fn counted_sql(measure: TargetMeasure) -> Option<String> {
    match measure {
        TargetMeasure::PioneerVillages => {
            Some("COALESCE(a.class_manual, a.class) = 'pioneer'".into())
        }
        TargetMeasure::VillagesAdvanced => Some(format!("({ADVANCED})")),
        TargetMeasure::VillagesAtFourStars => Some("a.stars >= 4".into()),
        TargetMeasure::TownshipsAdvanced | TargetMeasure::ModelTownships => None,
    }
}

impl Db {
    /// Every village under a node, in the tree's order, with what the targets count of it.
    pub async fn village_standings(
        &self,
        campaign: &Campaign,
        node: &Node,
        year: i64,
    ) -> Result<Vec<VillageStanding>> {
        let mut conn = self.pool().acquire().await?;
        let rounds = rounds(&mut conn, &node.path, campaign, year).await?;
        self.villages_where(&mut conn, rounds, node, "1 = 1", (i64::MAX, 0))
            .await
    }

    /// One page of the villages a measure counts under a node (or, `missing`, of those it does
    /// not count yet), in the tree's order, and how many there are in all: the list behind a
    /// figure, filtered and paged in SQL. `None` for a measure among townships.
    pub async fn counted_villages(
        &self,
        campaign: &Campaign,
        node: &Node,
        year: i64,
        (measure, missing): (TargetMeasure, bool),
        (limit, offset): (i64, i64),
    ) -> Result<Option<(i64, Vec<VillageStanding>)>> {
        let Some(counted) = counted_sql(measure) else {
            return Ok(None);
        };
        // A village without a rating of the year counts for no measure: NULL is not counted.
        let filter = if missing {
            format!("NOT COALESCE({counted}, FALSE)")
        } else {
            format!("COALESCE({counted}, FALSE)")
        };
        let mut conn = self.pool().acquire().await?;
        let (round, base) = rounds(&mut conn, &node.path, campaign, year).await?;
        let upper = baiqian_domain::org::path_upper_bound(&node.path);
        let total: i64 = sqlx::query(&format!("SELECT COUNT(*) {VILLAGES_RATED} AND {filter}"))
            .bind(round)
            .bind(base)
            .bind(&node.path)
            .bind(&upper)
            .fetch_one(&mut *conn)
            .await?
            .try_get(0)?;
        let rows = self
            .villages_where(&mut conn, (round, base), node, &filter, (limit, offset))
            .await?;
        Ok(Some((total, rows)))
    }

    /// The villages under a node that pass `filter` (SQL over `VILLAGES_RATED`) with the rounds
    /// given, in the tree's order, one page of them.
    async fn villages_where(
        &self,
        conn: &mut AnyConnection,
        (round, base): (i64, i64),
        node: &Node,
        filter: &str,
        (limit, offset): (i64, i64),
    ) -> Result<Vec<VillageStanding>> {
        let upper = baiqian_domain::org::path_upper_bound(&node.path);
        let rows = sqlx::query(&format!(
            "SELECT o.code, o.name, o.path, a.stars, b.stars AS base_stars, \
             COALESCE(a.class_manual, a.class) AS class, \
             CASE WHEN {ADVANCED} THEN 1 ELSE 0 END AS advanced \
             {VILLAGES_RATED} AND {filter} ORDER BY o.path LIMIT $5 OFFSET $6"
        ))
        .bind(round)
        .bind(base)
        .bind(&node.path)
        .bind(&upper)
        .bind(limit)
        .bind(offset)
        .fetch_all(&mut *conn)
        .await?;
        rows.iter()
            .map(|r| {
                let stars: Option<i64> = r.try_get("stars")?;
                let class = match r.try_get::<Option<String>, _>("class")? {
                    Some(c) => Some(
                        VillageClass::parse(&c)
                            .ok_or_else(|| StoreError::Corrupt(format!("class {c}")))?,
                    ),
                    None => None,
                };
                let at_four = i64::from(stars.is_some_and(|s| s >= 4));
                Ok(VillageStanding {
                    code: r.try_get("code")?,
                    name: r.try_get("name")?,
                    path: r.try_get("path")?,
                    stars,
                    base_stars: r.try_get("base_stars")?,
                    class,
                    standing: Standing {
                        villages: 1,
                        pioneer: i64::from(class == Some(VillageClass::Pioneer)),
                        advanced: r.try_get("advanced")?,
                        at_four_stars: at_four,
                        ..Standing::default()
                    },
                })
            })
            .collect()
    }

    /// Every active township under a node (the node itself if it is one), in the tree's order,
    /// checked against the campaign's rule: one grouped pass over the villages.
    pub async fn township_standings(
        &self,
        campaign: &Campaign,
        node: &Node,
        year: i64,
    ) -> Result<Vec<TownshipStanding>> {
        let mut conn = self.pool().acquire().await?;
        let seq: i64 = sqlx::query("SELECT seq FROM audit_chain WHERE id = 1")
            .fetch_one(&mut *conn)
            .await?
            .try_get(0)?;
        let key = (campaign.id, node.path.clone(), year);
        let remembered = match self.standings_memo.remembered.lock() {
            Ok(memo) => memo.get(&key).cloned(),
            Err(_) => None,
        };
        let counts = &self.standings_memo.counts;
        let partly = match remembered {
            Some((at, found)) if at == seq => {
                counts[0].fetch_add(1, Ordering::Relaxed);
                return Ok(found);
            }
            Some(before) => Some(before),
            None => None,
        };
        let rounds = rounds(&mut conn, &node.path, campaign, year).await?;
        let recounted = match partly {
            Some((at, found)) => {
                self.recount_changed(&mut conn, campaign, node, rounds, year, (at, seq), found)
                    .await?
            }
            None => None,
        };
        let found = match recounted {
            Some((found, n)) => {
                counts[1].fetch_add(n, Ordering::Relaxed);
                found
            }
            None => {
                counts[2].fetch_add(1, Ordering::Relaxed);
                let upper = baiqian_domain::org::path_upper_bound(&node.path);
                self.count_township_standings(&mut conn, campaign, rounds, &node.path, &upper, year)
                    .await?
            }
        };
        if let Ok(mut memo) = self.standings_memo.remembered.lock() {
            if memo.len() >= MEMO_ENTRIES {
                memo.clear();
            }
            memo.insert(key, (seq, found.clone()));
        }
        Ok(found)
    }

    /// The remembered standings with only the townships the changes since reached counted
    /// again; `None` when the changes reach further, or a township appeared or went.
    #[allow(clippy::too_many_arguments)]
    async fn recount_changed(
        &self,
        conn: &mut AnyConnection,
        campaign: &Campaign,
        node: &Node,
        rounds: (i64, i64),
        year: i64,
        (at, seq): (i64, i64),
        mut found: Vec<TownshipStanding>,
    ) -> Result<Option<(Vec<TownshipStanding>, u64)>> {
        let Some(townships) = changed_townships(&mut *conn, at, seq).await? else {
            return Ok(None);
        };
        let mut n = 0;
        for t in townships.iter().filter(|t| t.starts_with(&node.path)) {
            n += 1;
            let upper = baiqian_domain::org::path_upper_bound(t);
            let mut fresh = self
                .count_township_standings(&mut *conn, campaign, rounds, t, &upper, year)
                .await?;
            let i = found.iter().position(|f| &f.path == t);
            match (i, fresh.pop()) {
                (Some(i), Some(f)) if fresh.is_empty() => found[i] = f,
                _ => return Ok(None),
            }
        }
        Ok(Some((found, n)))
    }

    /// How the township standings were answered so far (a test reads which way a read went).
    pub fn standings_reads(&self) -> StandingsReads {
        let c = &self.standings_memo.counts;
        StandingsReads {
            remembered: c[0].load(Ordering::Relaxed),
            townships_recounted: c[1].load(Ordering::Relaxed),
            whole: c[2].load(Ordering::Relaxed),
        }
    }

    /// Every township's standing counted afresh, without the memory: what a remembered or
    /// partly recounted answer must equal (the tests compare them).
    pub async fn township_standings_counted(
        &self,
        campaign: &Campaign,
        node: &Node,
        year: i64,
    ) -> Result<Vec<TownshipStanding>> {
        let mut conn = self.pool().acquire().await?;
        let rounds = rounds(&mut conn, &node.path, campaign, year).await?;
        let upper = baiqian_domain::org::path_upper_bound(&node.path);
        self.count_township_standings(&mut conn, campaign, rounds, &node.path, &upper, year)
            .await
    }

    /// The townships between `lower` and `upper` (a node's subtree), counted from the rounds
    /// given (the year's and the baseline's, as found for the node the answer is for).
    async fn count_township_standings(
        &self,
        conn: &mut AnyConnection,
        campaign: &Campaign,
        (round, base): (i64, i64),
        lower: &str,
        upper: &str,
        year: i64,
    ) -> Result<Vec<TownshipStanding>> {
        let rule = campaign.rule;
        let groups = sqlx::query(&format!(
            "SELECT o.parent_code, COUNT(*) AS villages, \
             SUM(CASE WHEN a.stars >= $5 THEN 1 ELSE 0 END) AS at_min, \
             SUM(CASE WHEN a.stars >= 4 THEN 1 ELSE 0 END) AS at_four, \
             SUM(CASE WHEN COALESCE(a.class_manual, a.class) = 'lagging' THEN 1 ELSE 0 END) AS lagging, \
             SUM(CASE WHEN COALESCE(a.class_manual, a.class) = 'pioneer' THEN 1 ELSE 0 END) AS pioneer, \
             SUM(CASE WHEN {ADVANCED} THEN 1 ELSE 0 END) AS advanced \
             {VILLAGES_RATED} GROUP BY o.parent_code"
        ))
        .bind(round)
        .bind(base)
        .bind(lower)
        .bind(upper)
        .bind(rule.min_stars)
        .fetch_all(&mut *conn)
        .await?;
        let mut by_parent: HashMap<String, (TownshipFacts, Standing)> = HashMap::new();
        for g in &groups {
            let Some(parent) = g.try_get::<Option<String>, _>("parent_code")? else {
                continue;
            };
            let villages: i64 = g.try_get("villages")?;
            by_parent.insert(
                parent,
                (
                    TownshipFacts {
                        villages,
                        at_min_stars: g.try_get("at_min")?,
                        lagging: g.try_get("lagging")?,
                        ..TownshipFacts::default()
                    },
                    Standing {
                        villages,
                        pioneer: g.try_get("pioneer")?,
                        advanced: g.try_get("advanced")?,
                        at_four_stars: g.try_get("at_four")?,
                        ..Standing::default()
                    },
                ),
            );
        }
        // Each township's approved scheme of the year: its items and those done.
        let mut schemes: HashMap<String, (i64, i64)> = HashMap::new();
        if rule.scheme_done {
            for r in sqlx::query(
                "SELECT p.org_code, COUNT(i.id) AS items, \
                 SUM(CASE WHEN i.done_at IS NOT NULL THEN 1 ELSE 0 END) AS done \
                 FROM plans p JOIN orgs o ON o.code = p.org_code \
                 LEFT JOIN plan_items i ON i.plan_id = p.id \
                 WHERE p.year = $1 AND p.status = 'approved' AND o.level = 'township' \
                 AND p.org_path >= $2 AND p.org_path < $3 GROUP BY p.org_code",
            )
            .bind(year)
            .bind(lower)
            .bind(upper)
            .fetch_all(&mut *conn)
            .await?
            {
                schemes.insert(
                    r.try_get("org_code")?,
                    (
                        r.try_get("items")?,
                        r.try_get::<Option<i64>, _>("done")?.unwrap_or(0),
                    ),
                );
            }
        }
        let mut models: HashMap<String, ModelTownship> = sqlx::query(
            "SELECT org_code, reason, decided_by, decided_at FROM model_townships \
             WHERE campaign_id = $1 AND year = $2 AND org_path >= $3 AND org_path < $4",
        )
        .bind(campaign.id)
        .bind(year)
        .bind(lower)
        .bind(upper)
        .fetch_all(&mut *conn)
        .await?
        .iter()
        .map(|r| {
            Ok((
                r.try_get::<String, _>("org_code")?,
                ModelTownship {
                    org_code: r.try_get("org_code")?,
                    reason: r.try_get("reason")?,
                    decided_by: r.try_get("decided_by")?,
                    decided_at: r.try_get("decided_at")?,
                },
            ))
        })
        .collect::<Result<_>>()?;
        let townships = sqlx::query(
            "SELECT code, name, path FROM orgs WHERE level = 'township' AND retired_at IS NULL \
             AND path >= $1 AND path < $2 ORDER BY path",
        )
        .bind(lower)
        .bind(upper)
        .fetch_all(&mut *conn)
        .await?;
        townships
            .iter()
            .map(|t| {
                let code: String = t.try_get("code")?;
                let (mut facts, mut standing) = by_parent.remove(&code).unwrap_or_default();
                if let Some((items, done)) = schemes.remove(&code) {
                    facts.scheme_items = items;
                    facts.scheme_done = done;
                }
                let checks = rule.check(&facts);
                let advanced = checks.iter().all(|c| c.met);
                let model = models.remove(&code);
                standing.townships = 1;
                standing.townships_advanced = i64::from(advanced);
                standing.model_townships = i64::from(model.is_some());
                Ok(TownshipStanding {
                    name: t.try_get("name")?,
                    path: t.try_get("path")?,
                    code,
                    facts,
                    standing,
                    checks,
                    advanced,
                    model,
                })
            })
            .collect()
    }

    /// A node's standing and its children's (given in the order to answer). Above the
    /// townships it reads the townships once and sums them per child; at a township its
    /// children are villages, read one by one.
    pub async fn node_standing(
        &self,
        campaign: &Campaign,
        node: &Node,
        children: &[Node],
        year: i64,
    ) -> Result<NodeStanding> {
        let mut total = Standing::default();
        let mut parts = vec![Standing::default(); children.len()];
        if matches!(node.level, Level::Township | Level::Village) {
            for v in self.village_standings(campaign, node, year).await? {
                total.add(&v.standing);
                if let Some(i) = children.iter().position(|c| c.path == v.path) {
                    parts[i] = v.standing;
                }
            }
            if node.level == Level::Township {
                for t in self.township_standings(campaign, node, year).await? {
                    total.townships += t.standing.townships;
                    total.townships_advanced += t.standing.townships_advanced;
                    total.model_townships += t.standing.model_townships;
                }
            }
        } else {
            for t in self.township_standings(campaign, node, year).await? {
                total.add(&t.standing);
                if let Some(i) = children.iter().position(|c| t.path.starts_with(&c.path)) {
                    parts[i].add(&t.standing);
                }
            }
        }
        Ok(NodeStanding {
            node: total,
            children: parts,
        })
    }

    /// The villages and townships of the campaign's whole area: what a count goal is shared by.
    pub async fn campaign_area(&self, campaign: &Campaign) -> Result<Standing> {
        let rows = sqlx::query(
            "SELECT level, COUNT(*) FROM orgs WHERE level IN ('village', 'township') \
             AND retired_at IS NULL AND path >= $1 AND path < $2 GROUP BY level",
        )
        .bind(&campaign.org_path)
        .bind(baiqian_domain::org::path_upper_bound(&campaign.org_path))
        .fetch_all(self.pool())
        .await?;
        let mut s = Standing::default();
        for r in rows {
            let n: i64 = r.try_get(1)?;
            match r.try_get::<String, _>(0)?.as_str() {
                "village" => s.villages = n,
                _ => s.townships = n,
            }
        }
        Ok(s)
    }
}
