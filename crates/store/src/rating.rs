//! The yearly rating round (星级评定): self-assessment (自评) → township review (审核) → county
//! approval (审批) → city publication (公布), with send-back at every step; stars and classes
//! kept on each assessment; re-rating after a threshold change; boards; the pioneer criteria's
//! data (featured practices, beautiful villages, collective income).

use baiqian_domain::Msg;
use baiqian_domain::rating::{
    LaggingRule, PioneerFacts, PromotionLevel, Stage, Thresholds, VillageClass, classify,
};
use baiqian_domain::role::Role;
use baiqian_domain::scope::Scope;
use serde::Serialize;
use sqlx::any::AnyRow;
use sqlx::{AnyConnection, Row};

use crate::audit::{self, Change};
use crate::standard::{StandardItem, items_of};
use crate::{Actor, Db, Result, StoreError};

#[derive(Debug, Clone, Serialize)]
pub struct Round {
    pub id: i64,
    pub org_code: String,
    pub org_path: String,
    pub year: i64,
    pub set_id: i64,
    pub self_due: String,
    pub review_due: String,
    pub approve_due: String,
    pub thresholds: Thresholds,
    pub lagging: LaggingRule,
    pub published_at: Option<i64>,
}

impl Round {
    /// The deadline of a stage's step, `YYYY-MM-DD` (none once approved: publication has none).
    pub fn due_of(&self, stage: Stage) -> Option<&str> {
        match stage {
            Stage::Draft => Some(&self.self_due),
            Stage::Submitted => Some(&self.review_due),
            Stage::Reviewed => Some(&self.approve_due),
            Stage::Approved | Stage::Published => None,
        }
    }

    /// Whether an assessment at `stage` is late on `today` (`YYYY-MM-DD`, China time).
    pub fn is_late(&self, stage: Stage, today: &str) -> bool {
        self.due_of(stage).is_some_and(|d| today > d)
    }
}

const ROUND_COLUMNS: &str = "id, org_code, org_path, year, set_id, self_due, review_due, approve_due, \
     t1, t2, t3, t4, t5, veto_cap, lagging_max_stars, lagging_on_veto, published_at";

fn round_from_row(r: &AnyRow) -> Result<Round> {
    Ok(Round {
        id: r.try_get("id")?,
        org_code: r.try_get("org_code")?,
        org_path: r.try_get("org_path")?,
        year: r.try_get("year")?,
        set_id: r.try_get("set_id")?,
        self_due: r.try_get("self_due")?,
        review_due: r.try_get("review_due")?,
        approve_due: r.try_get("approve_due")?,
        thresholds: Thresholds {
            min_percent: [
                r.try_get("t1")?,
                r.try_get("t2")?,
                r.try_get("t3")?,
                r.try_get("t4")?,
                r.try_get("t5")?,
            ],
            veto_cap: r.try_get("veto_cap")?,
        },
        lagging: LaggingRule {
            max_stars: r.try_get("lagging_max_stars")?,
            on_veto: r.try_get::<i64, _>("lagging_on_veto")? != 0,
        },
        published_at: r.try_get("published_at")?,
    })
}

/// One village's assessment of a year.
#[derive(Debug, Clone, Serialize)]
pub struct Assessment {
    pub id: i64,
    pub round_id: i64,
    pub year: i64,
    pub org_code: String,
    pub org_name: String,
    pub org_path: String,
    pub set_id: i64,
    pub stage: Stage,
    pub self_total: Option<i64>,
    pub total: Option<i64>,
    pub full_total: i64,
    pub veto_failed: bool,
    pub stars: Option<i64>,
    /// The class the rules give.
    pub class: Option<VillageClass>,
    /// A decision that overrides the rules, with its reason.
    pub class_manual: Option<VillageClass>,
    pub class_reason: Option<String>,
}

impl Assessment {
    pub fn effective_class(&self) -> Option<VillageClass> {
        self.class_manual.or(self.class)
    }
}

const ASSESSMENT_COLUMNS: &str = "a.id, a.round_id, r.year, a.org_code, o.name AS org_name, a.org_path, \
     a.set_id, a.stage, a.self_total, a.total, a.full_total, a.veto_failed, a.stars, a.class, \
     a.class_manual, a.class_reason";
const ASSESSMENT_FROM: &str = "FROM assessments a JOIN rating_rounds r ON r.id = a.round_id \
     JOIN orgs o ON o.code = a.org_code";

fn assessment_from_row(r: &AnyRow) -> Result<Assessment> {
    let id: i64 = r.try_get("id")?;
    let corrupt = |what: &str| StoreError::Corrupt(format!("assessment {id}: {what}"));
    let class = |col: &str| -> Result<Option<VillageClass>> {
        match r.try_get::<Option<String>, _>(col)? {
            None => Ok(None),
            Some(s) => VillageClass::parse(&s)
                .map(Some)
                .ok_or_else(|| corrupt("class")),
        }
    };
    Ok(Assessment {
        id,
        round_id: r.try_get("round_id")?,
        year: r.try_get("year")?,
        org_code: r.try_get("org_code")?,
        org_name: r.try_get("org_name")?,
        org_path: r.try_get("org_path")?,
        set_id: r.try_get("set_id")?,
        stage: Stage::parse(&r.try_get::<String, _>("stage")?).ok_or_else(|| corrupt("stage"))?,
        self_total: r.try_get("self_total")?,
        total: r.try_get("total")?,
        full_total: r.try_get("full_total")?,
        veto_failed: r.try_get::<i64, _>("veto_failed")? != 0,
        stars: r.try_get("stars")?,
        class: class("class")?,
        class_manual: class("class_manual")?,
        class_reason: r.try_get("class_reason")?,
    })
}

/// An item of an assessment: the standard's item with the village's and the township's scores.
#[derive(Debug, Clone, Serialize)]
pub struct ScoredItem {
    pub item: StandardItem,
    pub self_score: Option<i64>,
    pub self_vetoed: bool,
    pub note: String,
    pub score: Option<i64>,
    pub vetoed: bool,
    pub review_reason: Option<String>,
    pub evidence: Vec<Evidence>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Evidence {
    pub id: i64,
    pub assessment_id: i64,
    pub item_id: i64,
    pub sha256: String,
    pub mime: String,
    pub size: i64,
    pub file_name: String,
    pub uploaded_by: String,
    pub uploaded_at: i64,
}

#[derive(Debug, Clone, Serialize)]
pub struct Step {
    pub at: i64,
    pub actor_login: String,
    pub actor_role: String,
    pub action: String,
    pub from_stage: String,
    pub to_stage: String,
    pub reason: Option<String>,
}

/// A score as entered for one item.
#[derive(Debug, Clone)]
pub struct ItemInput {
    pub item_id: i64,
    pub score: i64,
    pub vetoed: bool,
    /// The village's note (self-assessment) or the township's reason for a change (review).
    pub text: String,
}

/// A step forward or back.
#[derive(Debug, Clone)]
pub enum StepAction {
    Forward,
    Back { reason: String },
}

/// Counts over the assessments of a subtree.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Tally {
    /// Villages under the node (not retired).
    pub villages: i64,
    /// By stage, in `Stage::ALL` order.
    pub stages: [i64; 5],
    /// Late: past their stage's deadline.
    pub late: i64,
    /// Rated (approved or published) by stars 1…5.
    pub stars: [i64; 5],
    /// Rated, by class in `VillageClass::ALL` order.
    pub classes: [i64; 3],
}

impl Tally {
    /// The figures of several disjoint subtrees together.
    pub fn sum<'a>(parts: impl Iterator<Item = &'a Tally>) -> Tally {
        let mut t = Tally::default();
        for p in parts {
            t.villages += p.villages;
            t.late += p.late;
            for i in 0..5 {
                t.stages[i] += p.stages[i];
                t.stars[i] += p.stars[i];
            }
            for i in 0..3 {
                t.classes[i] += p.classes[i];
            }
        }
        t
    }

    pub fn rated(&self) -> i64 {
        self.stars.iter().sum()
    }

    pub fn unrated(&self) -> i64 {
        (self.villages - self.rated()).max(0)
    }
}

/// What a re-rating changed.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Moves {
    pub rerated: usize,
    pub stars_up: usize,
    pub stars_down: usize,
    pub class_changed: usize,
    /// The first moved villages, for the page (all are counted above).
    pub moved: Vec<Move>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Move {
    pub org_code: String,
    pub org_name: String,
    pub stars_before: Option<i64>,
    pub stars_after: i64,
    pub class_before: Option<VillageClass>,
    pub class_after: VillageClass,
}

const MOVES_LISTED: usize = 200;

/// A year of a village's star history.
#[derive(Debug, Clone, Serialize)]
pub struct StarYear {
    pub year: i64,
    pub stage: Stage,
    pub stars: Option<i64>,
    pub class: Option<VillageClass>,
    pub manual: bool,
    /// More stars than the year before (晋位).
    pub advanced: bool,
}

#[derive(Debug, Clone)]
pub struct NewRound {
    pub year: i64,
    pub set_id: i64,
    pub self_due: String,
    pub review_due: String,
    pub approve_due: String,
}

/// Filters of the list behind a board figure.
#[derive(Debug, Clone, Default)]
pub struct AssessmentFilter {
    pub stage: Option<Stage>,
    pub stars: Option<i64>,
    pub class: Option<VillageClass>,
    pub late: bool,
}

#[derive(Debug, Clone, Serialize)]
pub struct FeaturedPractice {
    pub id: i64,
    pub org_code: String,
    pub org_name: String,
    pub year: i64,
    pub title: String,
    pub level: PromotionLevel,
}

/// A village's pioneer-criteria data for a year, as its page and the facts sheet show it.
#[derive(Debug, Clone, Serialize)]
pub struct VillageFacts {
    pub org_code: String,
    pub org_name: String,
    pub income_fen: Option<i64>,
    pub beautiful: Option<(PromotionLevel, i64)>,
    pub practices: Vec<FeaturedPractice>,
}

/// One row of the facts sheet, as text cells.
#[derive(Debug, Clone, Default)]
pub struct FactsRow {
    pub row: usize,
    pub code: String,
    pub income: String,
    pub beautiful_level: String,
    pub beautiful_year: String,
    pub practice: String,
    pub practice_level: String,
}

/// The China date (`YYYY-MM-DD`) of a Unix-ms time.
pub fn china_date(ms: i64) -> String {
    use chrono::{FixedOffset, TimeZone};
    FixedOffset::east_opt(8 * 3600)
        .and_then(|tz| tz.timestamp_millis_opt(ms).single())
        .map(|t| t.format("%Y-%m-%d").to_string())
        .unwrap_or_default()
}

fn denied() -> StoreError {
    StoreError::Denied(Msg::new("error.denied"))
}

fn reason_text(s: &str) -> Result<String> {
    let t = s.trim();
    if t.is_empty() {
        return Err(StoreError::Invalid(Msg::new("rating.error.reason")));
    }
    if t.chars().count() > 200 {
        return Err(StoreError::Invalid(
            Msg::new("standard.error.too_long").arg("max", 200),
        ));
    }
    Ok(t.to_string())
}

/// The round of `year` that covers a node: opened at the node or above it.
async fn round_covering(conn: &mut AnyConnection, path: &str, year: i64) -> Result<Option<Round>> {
    let row = sqlx::query(&format!(
        "SELECT {ROUND_COLUMNS} FROM rating_rounds \
         WHERE year = $1 AND substr($2, 1, length(org_path)) = org_path \
         ORDER BY length(org_path) DESC LIMIT 1"
    ))
    .bind(year)
    .bind(path)
    .fetch_optional(conn)
    .await?;
    row.as_ref().map(round_from_row).transpose()
}

/// The round of `year` opened at the caller's own node.
async fn own_round(conn: &mut AnyConnection, actor: &Actor, year: i64) -> Result<Round> {
    sqlx::query(&format!(
        "SELECT {ROUND_COLUMNS} FROM rating_rounds WHERE year = $1 AND org_path = $2"
    ))
    .bind(year)
    .bind(actor.scope.lower())
    .fetch_optional(conn)
    .await?
    .as_ref()
    .map(round_from_row)
    .transpose()?
    .ok_or(StoreError::NotFound)
}

async fn round_by_id(conn: &mut AnyConnection, id: i64) -> Result<Round> {
    let row = sqlx::query(&format!(
        "SELECT {ROUND_COLUMNS} FROM rating_rounds WHERE id = $1"
    ))
    .bind(id)
    .fetch_one(conn)
    .await?;
    round_from_row(&row)
}

async fn assessment_in(conn: &mut AnyConnection, scope: &Scope, id: i64) -> Result<Assessment> {
    let row = sqlx::query(&format!(
        "SELECT {ASSESSMENT_COLUMNS} {ASSESSMENT_FROM} \
         WHERE a.id = $1 AND a.org_path >= $2 AND a.org_path < $3"
    ))
    .bind(id)
    .bind(scope.lower())
    .bind(scope.upper())
    .fetch_optional(conn)
    .await?;
    row.as_ref()
        .map(assessment_from_row)
        .transpose()?
        .ok_or(StoreError::NotFound)
}

/// Pioneer facts of one village for a year (stars filled in by the caller).
async fn facts_of(conn: &mut AnyConnection, code: &str, year: i64) -> Result<PioneerFacts> {
    let r = sqlx::query(
        "SELECT \
         (SELECT COUNT(*) FROM featured_practices p WHERE p.org_code = $1 AND p.year <= $2 \
            AND p.promoted_level IN ('township', 'county', 'city', 'province')) AS practices, \
         (SELECT COUNT(*) FROM beautiful_villages b WHERE b.org_code = $1 AND b.year <= $2 \
            AND b.level IN ('city', 'province')) AS beautiful, \
         (SELECT MAX(c.income_fen) FROM collective_incomes c WHERE c.org_code = $1 AND c.year = $2) AS income",
    )
    .bind(code)
    .bind(year)
    .fetch_one(conn)
    .await?;
    Ok(PioneerFacts {
        stars: 0,
        promoted_practice: r.try_get::<i64, _>("practices")? > 0,
        beautiful_village: r.try_get::<i64, _>("beautiful")? > 0,
        income_fen: r.try_get("income")?,
    })
}

/// Recomputes an assessment's totals, stars and class from its items and its round's rules.
async fn recompute(
    conn: &mut AnyConnection,
    a: &Assessment,
    stage: Stage,
    round: &Round,
    now: i64,
) -> Result<()> {
    let r = sqlx::query(
        "SELECT CAST(SUM(ai.self_score) AS BIGINT) AS self_total, \
         CAST(SUM(ai.score) AS BIGINT) AS total, COUNT(ai.score) AS scored, \
         CAST(SUM(CASE WHEN i.veto = 1 AND ai.vetoed = 1 THEN 1 ELSE 0 END) AS BIGINT) AS vetoes \
         FROM assessment_items ai JOIN standard_items i ON i.id = ai.item_id \
         WHERE ai.assessment_id = $1",
    )
    .bind(a.id)
    .fetch_one(&mut *conn)
    .await?;
    let scored: i64 = r.try_get("scored")?;
    let self_total: Option<i64> = r.try_get("self_total")?;
    // A draft has no rating yet: stars come from the scores once submitted.
    let total: Option<i64> = if stage == Stage::Draft {
        None
    } else {
        r.try_get("total")?
    };
    let veto_failed = r.try_get::<Option<i64>, _>("vetoes")?.unwrap_or(0) > 0;
    let (stars, class) = match total {
        Some(t) if scored > 0 => {
            let stars = round.thresholds.stars(t, a.full_total, veto_failed);
            let mut facts = facts_of(conn, &a.org_code, round.year).await?;
            facts.stars = stars;
            (
                Some(stars),
                Some(classify(&facts, veto_failed, round.lagging).as_str()),
            )
        }
        _ => (None, None),
    };
    sqlx::query(
        "UPDATE assessments SET self_total = $1, total = $2, veto_failed = $3, stars = $4, \
         class = $5, updated_at = $6 WHERE id = $7",
    )
    .bind(self_total)
    .bind(total)
    .bind(i64::from(veto_failed))
    .bind(stars)
    .bind(class)
    .bind(now)
    .bind(a.id)
    .execute(conn)
    .await?;
    Ok(())
}

async fn record_step(
    conn: &mut AnyConnection,
    actor: &Actor,
    a: &Assessment,
    action: &str,
    to: Stage,
    reason: Option<&str>,
    now: i64,
) -> Result<()> {
    sqlx::query(
        "INSERT INTO assessment_steps (assessment_id, at, actor_login, actor_role, action, from_stage, to_stage, reason) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
    )
    .bind(a.id)
    .bind(now)
    .bind(&actor.login)
    .bind(actor.role.as_str())
    .bind(action)
    .bind(a.stage.as_str())
    .bind(to.as_str())
    .bind(reason)
    .execute(conn)
    .await?;
    Ok(())
}

/// Refuses unless it is `role`'s turn on `a` and the caller is that role.
fn check_turn(actor: &Actor, a: &Assessment, round: &Round) -> Result<()> {
    if !matches!(
        actor.role,
        Role::VillageSecretary | Role::TownshipAdmin | Role::CountyAdmin | Role::CityAdmin
    ) {
        return Err(denied());
    }
    if round.published_at.is_some() {
        return Err(StoreError::Conflict(Msg::new("rating.error.published")));
    }
    if a.stage.actor() != Some(actor.role) {
        return Err(StoreError::Conflict(
            Msg::new("rating.error.out_of_turn").arg("stage", a.stage.as_str()),
        ));
    }
    Ok(())
}

/// Re-rates every scored assessment of a round with its current rules; writes only what moved.
async fn rerate(conn: &mut AnyConnection, round: &Round, now: i64) -> Result<Moves> {
    // One row per village would cost a driver hand-off each (the bulk of the time at province
    // scale), and a correlated look-up per village for each fact is slower than one scan of
    // each fact table: so the villages come packed in one text value (`string_agg` and
    // `format` exist on both backends) and the facts as three scans of the round's subtree.
    let packed = packed_text(
        conn,
        "SELECT string_agg(format('%s,%s,%s,%s,%s,%s,%s', a.id, a.org_code, a.total, \
           a.full_total, a.veto_failed, COALESCE(a.stars, 0), COALESCE(a.class, '-')), ';') \
         FROM assessments a WHERE a.round_id = $1 AND a.total IS NOT NULL",
        round.id,
        round,
    )
    .await?;
    let practices = packed_text(
        conn,
        "SELECT string_agg(org_code, ',') FROM featured_practices WHERE year <= $1 \
         AND promoted_level IN ('township', 'county', 'city', 'province') \
         AND org_path >= $2 AND org_path < $3",
        round.year,
        round,
    )
    .await?;
    let beautiful = packed_text(
        conn,
        "SELECT string_agg(org_code, ',') FROM beautiful_villages WHERE year <= $1 \
         AND level IN ('city', 'province') AND org_path >= $2 AND org_path < $3",
        round.year,
        round,
    )
    .await?;
    let incomes = packed_text(
        conn,
        "SELECT string_agg(format('%s:%s', org_code, income_fen), ',') FROM collective_incomes \
         WHERE year = $1 AND org_path >= $2 AND org_path < $3",
        round.year,
        round,
    )
    .await?;
    let practices: std::collections::HashSet<&str> = practices.split(',').collect();
    let beautiful: std::collections::HashSet<&str> = beautiful.split(',').collect();
    let mut income_of: std::collections::HashMap<&str, i64> = std::collections::HashMap::new();
    for pair in incomes.split(',').filter(|p| !p.is_empty()) {
        let (code, fen) = pair
            .split_once(':')
            .ok_or_else(|| StoreError::Corrupt(format!("income {pair}")))?;
        let fen: i64 = fen
            .parse()
            .map_err(|_| StoreError::Corrupt(format!("income {pair}")))?;
        income_of.insert(code, fen);
    }
    let corrupt = |what: &str| StoreError::Corrupt(format!("re-rating row: {what}"));
    let mut moves = Moves::default();
    let mut listed: Vec<String> = Vec::new();
    // Changed ids grouped by their new (stars, class): one UPDATE per group and chunk.
    let mut groups: std::collections::BTreeMap<(i64, &'static str), Vec<i64>> =
        std::collections::BTreeMap::new();
    for rec in packed.split(';').filter(|r| !r.is_empty()) {
        let f: Vec<&str> = rec.split(',').collect();
        let [id, code, total, full, veto, stars_before, class_before] = f[..] else {
            return Err(corrupt(rec));
        };
        let num = |s: &str| s.parse::<i64>().map_err(|_| corrupt(rec));
        moves.rerated += 1;
        let veto_failed = veto == "1";
        let stars = round.thresholds.stars(num(total)?, num(full)?, veto_failed);
        let facts = PioneerFacts {
            stars,
            promoted_practice: practices.contains(code),
            beautiful_village: beautiful.contains(code),
            income_fen: income_of.get(code).copied(),
        };
        let class = classify(&facts, veto_failed, round.lagging);
        let before_stars = Some(num(stars_before)?).filter(|s| *s > 0);
        let before_class = VillageClass::parse(class_before);
        if before_stars == Some(stars) && before_class == Some(class) {
            continue;
        }
        match before_stars {
            Some(b) if stars > b => moves.stars_up += 1,
            Some(b) if stars < b => moves.stars_down += 1,
            _ => {}
        }
        if before_class != Some(class) {
            moves.class_changed += 1;
        }
        if moves.moved.len() < MOVES_LISTED {
            listed.push(code.to_string());
            moves.moved.push(Move {
                org_code: code.to_string(),
                org_name: String::new(),
                stars_before: before_stars,
                stars_after: stars,
                class_before: before_class,
                class_after: class,
            });
        }
        groups
            .entry((stars, class.as_str()))
            .or_default()
            .push(num(id)?);
    }
    if !listed.is_empty() {
        let marks: Vec<String> = (1..=listed.len()).map(|i| format!("${i}")).collect();
        let sql = format!(
            "SELECT code, name FROM orgs WHERE code IN ({})",
            marks.join(",")
        );
        let mut q = sqlx::query(&sql);
        for c in &listed {
            q = q.bind(c);
        }
        let names: std::collections::HashMap<String, String> = q
            .fetch_all(&mut *conn)
            .await?
            .iter()
            .map(|r| Ok((r.try_get(0)?, r.try_get(1)?)))
            .collect::<Result<_>>()?;
        for m in &mut moves.moved {
            m.org_name = names.get(&m.org_code).cloned().unwrap_or_default();
        }
    }
    for ((stars, class), ids) in groups {
        for chunk in ids.chunks(250) {
            let marks: Vec<String> = (0..chunk.len()).map(|i| format!("${}", i + 4)).collect();
            let sql = format!(
                "UPDATE assessments SET stars = $1, class = $2, updated_at = $3 WHERE id IN ({})",
                marks.join(",")
            );
            let mut q = sqlx::query(&sql).bind(stars).bind(class).bind(now);
            for id in chunk {
                q = q.bind(*id);
            }
            q.execute(&mut *conn).await?;
        }
    }
    Ok(moves)
}

/// The one text value of an aggregate query bound to `(first, round path range)`; empty when no
/// row matched.
async fn packed_text(
    conn: &mut AnyConnection,
    sql: &str,
    first: i64,
    round: &Round,
) -> Result<String> {
    let mut q = sqlx::query(sql).bind(first);
    if sql.contains("$2") {
        q = q
            .bind(round.org_path.clone())
            .bind(baiqian_domain::org::path_upper_bound(&round.org_path));
    }
    let v: Option<String> = q.fetch_one(conn).await?.try_get(0)?;
    Ok(v.unwrap_or_default())
}

/// The same re-rating as one set-based SQL statement: the reference the benchmark compares the
/// application's re-rating with. Returns the rows it changed.
pub const RERATE_SET_BASED: &str = "UPDATE assessments SET stars = x.stars, class = x.class \
     FROM ( \
       SELECT id, stars, CASE \
         WHEN stars <= lmax OR (lveto = 1 AND veto_failed = 1) THEN 'lagging' \
         WHEN stars = 5 AND practices > 0 AND beautiful > 0 AND COALESCE(income, 0) >= 50000000 THEN 'pioneer' \
         ELSE 'advancing' END AS class \
       FROM ( \
         SELECT id, veto_failed, lmax, lveto, practices, beautiful, income, \
           CASE WHEN veto_failed = 1 AND raw > cap THEN cap ELSE raw END AS stars \
         FROM ( \
           SELECT a.id, a.veto_failed, r.veto_cap AS cap, r.lagging_max_stars AS lmax, \
             r.lagging_on_veto AS lveto, \
             CASE WHEN a.total * 100 >= r.t5 * a.full_total THEN 5 \
                  WHEN a.total * 100 >= r.t4 * a.full_total THEN 4 \
                  WHEN a.total * 100 >= r.t3 * a.full_total THEN 3 \
                  WHEN a.total * 100 >= r.t2 * a.full_total THEN 2 ELSE 1 END AS raw, \
             (SELECT COUNT(*) FROM featured_practices p WHERE p.org_code = a.org_code \
                AND p.year <= r.year AND p.promoted_level IN ('township', 'county', 'city', 'province')) AS practices, \
             (SELECT COUNT(*) FROM beautiful_villages b WHERE b.org_code = a.org_code \
                AND b.year <= r.year AND b.level IN ('city', 'province')) AS beautiful, \
             (SELECT MAX(c.income_fen) FROM collective_incomes c WHERE c.org_code = a.org_code \
                AND c.year = r.year) AS income \
           FROM assessments a JOIN rating_rounds r ON r.id = a.round_id \
           WHERE a.round_id = $1 AND a.total IS NOT NULL) s1) s2) x \
     WHERE assessments.id = x.id \
       AND (assessments.stars IS NULL OR assessments.stars <> x.stars \
            OR assessments.class IS NULL OR assessments.class <> x.class)";

fn round_json(r: &Round) -> serde_json::Value {
    serde_json::json!({
        "year": r.year,
        "thresholds": r.thresholds.min_percent,
        "veto_cap": r.thresholds.veto_cap,
        "lagging_max_stars": r.lagging.max_stars,
        "lagging_on_veto": r.lagging.on_veto,
    })
}

/// Figures of the subtrees of `[lower, upper)` keyed by the first `key_len` characters of each
/// village's path: `key_len = lower.len()` gives the node's own figures, a child's path length
/// each child's (children at one level share a code length, so one pass serves them all).
async fn tallies(
    conn: &mut AnyConnection,
    round: &Round,
    (lower, upper): (&str, &str),
    key_len: usize,
    today: &str,
) -> Result<std::collections::HashMap<String, Tally>> {
    let mut out: std::collections::HashMap<String, Tally> = std::collections::HashMap::new();
    let len = key_len as i64;
    let villages = sqlx::query(
        "SELECT substr(path, 1, CAST($3 AS INTEGER)) AS k, COUNT(*) AS n FROM orgs \
         WHERE level = 'village' AND retired_at IS NULL AND path >= $1 AND path < $2 \
         GROUP BY substr(path, 1, CAST($3 AS INTEGER))",
    )
    .bind(lower)
    .bind(upper)
    .bind(len)
    .fetch_all(&mut *conn)
    .await?;
    for r in villages {
        out.entry(r.try_get("k")?).or_default().villages = r.try_get("n")?;
    }
    let rows = sqlx::query(
        "SELECT substr(org_path, 1, CAST($4 AS INTEGER)) AS k, stage, stars, \
         COALESCE(class_manual, class) AS cls, COUNT(*) AS n FROM assessments \
         WHERE round_id = $1 AND org_path >= $2 AND org_path < $3 \
         GROUP BY substr(org_path, 1, CAST($4 AS INTEGER)), stage, stars, COALESCE(class_manual, class)",
    )
    .bind(round.id)
    .bind(lower)
    .bind(upper)
    .bind(len)
    .fetch_all(conn)
    .await?;
    for r in rows {
        let t = out.entry(r.try_get("k")?).or_default();
        let n: i64 = r.try_get("n")?;
        let Some(stage) = Stage::parse(&r.try_get::<String, _>("stage")?) else {
            continue;
        };
        if let Some(i) = Stage::ALL.iter().position(|s| *s == stage) {
            t.stages[i] += n;
        }
        if round.is_late(stage, today) {
            t.late += n;
        }
        if stage.is_rated() {
            if let Some(s) = r.try_get::<Option<i64>, _>("stars")?
                && (1..=5).contains(&s)
            {
                t.stars[(s - 1) as usize] += n;
            }
            if let Some(c) = r
                .try_get::<Option<String>, _>("cls")?
                .and_then(|c| VillageClass::parse(&c))
                && let Some(i) = VillageClass::ALL.iter().position(|x| *x == c)
            {
                t.classes[i] += n;
            }
        }
    }
    Ok(out)
}

async fn tally(
    conn: &mut AnyConnection,
    round: &Round,
    lower: &str,
    upper: &str,
    today: &str,
) -> Result<Tally> {
    Ok(tallies(conn, round, (lower, upper), lower.len(), today)
        .await?
        .remove(lower)
        .unwrap_or_default())
}

impl Db {
    /// The round of `year` covering a node in scope, if one is open.
    pub async fn round_for(&self, node_path: &str, year: i64) -> Result<Option<Round>> {
        let mut conn = self.pool().acquire().await?;
        round_covering(&mut conn, node_path, year).await
    }

    /// The years with a round covering the node, newest first.
    pub async fn round_years(&self, node_path: &str) -> Result<Vec<i64>> {
        sqlx::query(
            "SELECT DISTINCT year FROM rating_rounds WHERE substr($1, 1, length(org_path)) = org_path \
             ORDER BY year DESC",
        )
        .bind(node_path)
        .fetch_all(self.pool())
        .await?
        .iter()
        .map(|r| Ok(r.try_get(0)?))
        .collect()
    }

    /// Opens the rating round of a year for every village below the city admin's node, each
    /// with a draft self-assessment against the chosen set.
    pub async fn open_round(&self, actor: &Actor, new: NewRound, now: i64) -> Result<Round> {
        if actor.role != Role::CityAdmin {
            return Err(denied());
        }
        let root = actor.scope.root.clone().ok_or(StoreError::NotFound)?;
        if !(2000..=2100).contains(&new.year) {
            return Err(StoreError::Invalid(Msg::new("rating.error.year")));
        }
        for d in [&new.self_due, &new.review_due, &new.approve_due] {
            baiqian_domain::member::parse_date(d).map_err(|e| StoreError::Invalid(e.msg()))?;
        }
        if !(new.self_due <= new.review_due && new.review_due <= new.approve_due) {
            return Err(StoreError::Invalid(Msg::new("rating.error.due_order")));
        }
        let mut tx = self.write().await?;
        let root_path = crate::member::org_path(tx.conn(), root.as_str()).await?;
        let (set, items) = {
            let usable = sqlx::query(
                "SELECT id FROM standard_sets WHERE id = $1 \
                 AND substr($2, 1, length(owner_path)) = owner_path",
            )
            .bind(new.set_id)
            .bind(&root_path)
            .fetch_optional(tx.conn())
            .await?;
            if usable.is_none() {
                return Err(StoreError::Invalid(Msg::new("rating.error.set")));
            }
            (new.set_id, items_of(tx.conn(), new.set_id).await?)
        };
        if items.is_empty() {
            return Err(StoreError::Invalid(Msg::new("rating.error.empty_set")));
        }
        let full: i64 = items.iter().map(|i| i.full_score).sum();
        let t = Thresholds::default();
        let l = LaggingRule::default();
        let id: i64 = sqlx::query(
            "INSERT INTO rating_rounds (org_code, org_path, year, set_id, self_due, review_due, approve_due, \
             t1, t2, t3, t4, t5, veto_cap, lagging_max_stars, lagging_on_veto, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16) RETURNING id",
        )
        .bind(root.as_str())
        .bind(&root_path)
        .bind(new.year)
        .bind(set)
        .bind(&new.self_due)
        .bind(&new.review_due)
        .bind(&new.approve_due)
        .bind(t.min_percent[0])
        .bind(t.min_percent[1])
        .bind(t.min_percent[2])
        .bind(t.min_percent[3])
        .bind(t.min_percent[4])
        .bind(t.veto_cap)
        .bind(l.max_stars)
        .bind(i64::from(l.on_veto))
        .bind(now)
        .fetch_one(tx.conn())
        .await
        .map_err(|e| {
            crate::on_unique(
                e,
                Msg::new("rating.error.round_exists").arg("year", new.year),
            )
        })?
        .try_get(0)?;
        let scope = Scope::new(root, &root_path);
        let created = sqlx::query(
            "INSERT INTO assessments (round_id, org_code, org_path, set_id, stage, full_total, updated_at) \
             SELECT $1, code, path, $2, 'draft', $3, $4 FROM orgs \
             WHERE level = 'village' AND retired_at IS NULL AND path >= $5 AND path < $6",
        )
        .bind(id)
        .bind(set)
        .bind(full)
        .bind(now)
        .bind(scope.lower())
        .bind(scope.upper())
        .execute(tx.conn())
        .await?
        .rows_affected();
        let round = round_by_id(tx.conn(), id).await?;
        let mut after = round_json(&round);
        after["assessments"] = created.into();
        after["set_id"] = set.into();
        audit::record(
            tx.conn(),
            actor,
            now,
            Change::create("rating_round", &new.year.to_string(), &root_path, after),
        )
        .await?;
        tx.commit().await?;
        Ok(round)
    }

    /// A county uses its own standard set for its villages: the drafts nobody has scored yet
    /// switch to it.
    pub async fn assign_standard_set(
        &self,
        actor: &Actor,
        year: i64,
        set_id: i64,
        now: i64,
    ) -> Result<u64> {
        if actor.role != Role::CountyAdmin {
            return Err(denied());
        }
        let root = actor.scope.root.clone().ok_or(StoreError::NotFound)?;
        let mut tx = self.write().await?;
        let root_path = crate::member::org_path(tx.conn(), root.as_str()).await?;
        let round = round_covering(tx.conn(), &root_path, year)
            .await?
            .ok_or(StoreError::NotFound)?;
        let visible = sqlx::query(
            "SELECT id FROM standard_sets WHERE id = $1 AND ((owner_path >= $2 AND owner_path < $3) \
             OR substr($2, 1, length(owner_path)) = owner_path)",
        )
        .bind(set_id)
        .bind(actor.scope.lower())
        .bind(actor.scope.upper())
        .fetch_optional(tx.conn())
        .await?;
        if visible.is_none() {
            return Err(StoreError::Invalid(Msg::new("rating.error.set")));
        }
        let items = items_of(tx.conn(), set_id).await?;
        if items.is_empty() {
            return Err(StoreError::Invalid(Msg::new("rating.error.empty_set")));
        }
        let full: i64 = items.iter().map(|i| i.full_score).sum();
        let n = sqlx::query(
            "UPDATE assessments SET set_id = $1, full_total = $2, updated_at = $3 \
             WHERE round_id = $4 AND org_path >= $5 AND org_path < $6 AND stage = 'draft' \
             AND NOT EXISTS (SELECT 1 FROM assessment_items ai WHERE ai.assessment_id = assessments.id)",
        )
        .bind(set_id)
        .bind(full)
        .bind(now)
        .bind(round.id)
        .bind(actor.scope.lower())
        .bind(actor.scope.upper())
        .execute(tx.conn())
        .await?
        .rows_affected();
        let mut c = Change::update(
            "rating_round",
            &year.to_string(),
            &root_path,
            serde_json::json!({"set_id": round.set_id}),
            serde_json::json!({"set_id": set_id, "assessments": n}),
        );
        c.action = "assign_set";
        audit::record(tx.conn(), actor, now, c).await?;
        tx.commit().await?;
        Ok(n)
    }

    /// Changes a round's thresholds, veto cap and lagging rule, and re-rates every village of
    /// the round at once; says what moved.
    pub async fn set_rules(
        &self,
        actor: &Actor,
        year: i64,
        thresholds: Thresholds,
        lagging: LaggingRule,
        now: i64,
    ) -> Result<Moves> {
        if actor.role != Role::CityAdmin {
            return Err(denied());
        }
        if !(1..=4).contains(&lagging.max_stars) {
            return Err(StoreError::Invalid(Msg::new("rating.error.lagging_max")));
        }
        let mut tx = self.write().await?;
        let round = own_round(tx.conn(), actor, year).await?;
        if round.published_at.is_some() {
            return Err(StoreError::Conflict(Msg::new("rating.error.published")));
        }
        let t = &thresholds.min_percent;
        sqlx::query(
            "UPDATE rating_rounds SET t1 = $1, t2 = $2, t3 = $3, t4 = $4, t5 = $5, veto_cap = $6, \
             lagging_max_stars = $7, lagging_on_veto = $8 WHERE id = $9",
        )
        .bind(t[0])
        .bind(t[1])
        .bind(t[2])
        .bind(t[3])
        .bind(t[4])
        .bind(thresholds.veto_cap)
        .bind(lagging.max_stars)
        .bind(i64::from(lagging.on_veto))
        .bind(round.id)
        .execute(tx.conn())
        .await?;
        let updated = round_by_id(tx.conn(), round.id).await?;
        let moves = rerate(tx.conn(), &updated, now).await?;
        let mut after = round_json(&updated);
        after["rerated"] = moves.rerated.into();
        after["stars_up"] = moves.stars_up.into();
        after["stars_down"] = moves.stars_down.into();
        after["class_changed"] = moves.class_changed.into();
        let mut c = Change::update(
            "rating_round",
            &year.to_string(),
            &round.org_path,
            round_json(&round),
            after,
        );
        c.action = "rerate";
        audit::record(tx.conn(), actor, now, c).await?;
        tx.commit().await?;
        Ok(moves)
    }

    /// The assessment of a village in a year, with its items, steps and evidence.
    pub async fn assessment_of(
        &self,
        scope: &Scope,
        village: &str,
        year: i64,
    ) -> Result<Option<(Assessment, Vec<ScoredItem>, Vec<Step>)>> {
        let mut conn = self.pool().acquire().await?;
        let row = sqlx::query(&format!(
            "SELECT {ASSESSMENT_COLUMNS} {ASSESSMENT_FROM} \
             WHERE a.org_code = $1 AND r.year = $2 AND a.org_path >= $3 AND a.org_path < $4"
        ))
        .bind(village)
        .bind(year)
        .bind(scope.lower())
        .bind(scope.upper())
        .fetch_optional(&mut *conn)
        .await?;
        let Some(a) = row.as_ref().map(assessment_from_row).transpose()? else {
            return Ok(None);
        };
        let items = items_of(&mut conn, a.set_id).await?;
        let scores = sqlx::query(
            "SELECT item_id, self_score, self_vetoed, note, score, vetoed, review_reason \
             FROM assessment_items WHERE assessment_id = $1",
        )
        .bind(a.id)
        .fetch_all(&mut *conn)
        .await?;
        let evidence = sqlx::query(
            "SELECT id, assessment_id, item_id, sha256, mime, size, file_name, uploaded_by, uploaded_at \
             FROM evidence WHERE assessment_id = $1 ORDER BY id",
        )
        .bind(a.id)
        .fetch_all(&mut *conn)
        .await?
        .iter()
        .map(evidence_from_row)
        .collect::<Result<Vec<_>>>()?;
        let mut scored = Vec::with_capacity(items.len());
        for item in items {
            let s = scores
                .iter()
                .find(|r| r.try_get::<i64, _>("item_id").ok() == Some(item.id));
            let ev = evidence
                .iter()
                .filter(|e| e.item_id == item.id)
                .cloned()
                .collect();
            scored.push(match s {
                Some(r) => ScoredItem {
                    self_score: r.try_get("self_score")?,
                    self_vetoed: r.try_get::<i64, _>("self_vetoed")? != 0,
                    note: r.try_get("note")?,
                    score: r.try_get("score")?,
                    vetoed: r.try_get::<i64, _>("vetoed")? != 0,
                    review_reason: r.try_get("review_reason")?,
                    evidence: ev,
                    item,
                },
                None => ScoredItem {
                    item,
                    self_score: None,
                    self_vetoed: false,
                    note: String::new(),
                    score: None,
                    vetoed: false,
                    review_reason: None,
                    evidence: ev,
                },
            });
        }
        let steps = sqlx::query(
            "SELECT at, actor_login, actor_role, action, from_stage, to_stage, reason \
             FROM assessment_steps WHERE assessment_id = $1 ORDER BY id DESC",
        )
        .bind(a.id)
        .fetch_all(&mut *conn)
        .await?
        .iter()
        .map(|r| {
            Ok(Step {
                at: r.try_get("at")?,
                actor_login: r.try_get("actor_login")?,
                actor_role: r.try_get("actor_role")?,
                action: r.try_get("action")?,
                from_stage: r.try_get("from_stage")?,
                to_stage: r.try_get("to_stage")?,
                reason: r.try_get("reason")?,
            })
        })
        .collect::<Result<Vec<_>>>()?;
        Ok(Some((a, scored, steps)))
    }

    /// Saves scores: the village's self-assessment while in draft, or the township's review
    /// while submitted (each changed score needs a reason).
    pub async fn save_scores(
        &self,
        actor: &Actor,
        assessment_id: i64,
        inputs: &[ItemInput],
        now: i64,
    ) -> Result<Assessment> {
        let mut tx = self.write().await?;
        let a = assessment_in(tx.conn(), &actor.scope, assessment_id).await?;
        let round = round_by_id(tx.conn(), a.round_id).await?;
        check_turn(actor, &a, &round)?;
        if !matches!(a.stage, Stage::Draft | Stage::Submitted) {
            return Err(StoreError::Conflict(
                Msg::new("rating.error.out_of_turn").arg("stage", a.stage.as_str()),
            ));
        }
        let items = items_of(tx.conn(), a.set_id).await?;
        let current = sqlx::query(
            "SELECT item_id, self_score, self_vetoed, note, score, vetoed FROM assessment_items \
             WHERE assessment_id = $1",
        )
        .bind(a.id)
        .fetch_all(tx.conn())
        .await?;
        let mut before = serde_json::Map::new();
        let mut after = serde_json::Map::new();
        for input in inputs {
            let item = items
                .iter()
                .find(|i| i.id == input.item_id)
                .ok_or(StoreError::NotFound)?;
            if !(0..=item.full_score).contains(&input.score) {
                return Err(StoreError::Invalid(
                    Msg::new("rating.error.item_score")
                        .arg("item", &item.code)
                        .arg("full", item.full_score),
                ));
            }
            let vetoed = item.veto && input.vetoed;
            let cur = current
                .iter()
                .find(|r| r.try_get::<i64, _>("item_id").ok() == Some(item.id));
            let (cur_score, cur_vetoed, cur_note): (Option<i64>, bool, String) = match cur {
                Some(r) if a.stage == Stage::Draft => (
                    r.try_get("self_score")?,
                    r.try_get::<i64, _>("self_vetoed")? != 0,
                    r.try_get("note")?,
                ),
                Some(r) => (
                    r.try_get("score")?,
                    r.try_get::<i64, _>("vetoed")? != 0,
                    String::new(),
                ),
                None => (None, false, String::new()),
            };
            let text = input.text.trim().to_string();
            if a.stage == Stage::Draft {
                if text.chars().count() > 500 {
                    return Err(StoreError::Invalid(
                        Msg::new("standard.error.too_long").arg("max", 500),
                    ));
                }
                if cur_score == Some(input.score) && cur_vetoed == vetoed && cur_note == text {
                    continue;
                }
                sqlx::query(
                    "INSERT INTO assessment_items (assessment_id, item_id, self_score, self_vetoed, note) \
                     VALUES ($1, $2, $3, $4, $5) \
                     ON CONFLICT (assessment_id, item_id) DO UPDATE SET self_score = $3, self_vetoed = $4, \
                     note = $5",
                )
                .bind(a.id)
                .bind(item.id)
                .bind(input.score)
                .bind(i64::from(vetoed))
                .bind(&text)
                .execute(tx.conn())
                .await?;
            } else {
                if cur_score == Some(input.score) && cur_vetoed == vetoed {
                    continue;
                }
                if text.is_empty() {
                    return Err(StoreError::Invalid(
                        Msg::new("rating.error.review_reason").arg("item", &item.code),
                    ));
                }
                let reason = reason_text(&text)?;
                sqlx::query(
                    "UPDATE assessment_items SET score = $1, vetoed = $2, review_reason = $3 \
                     WHERE assessment_id = $4 AND item_id = $5",
                )
                .bind(input.score)
                .bind(i64::from(vetoed))
                .bind(&reason)
                .bind(a.id)
                .bind(item.id)
                .execute(tx.conn())
                .await?;
            }
            before.insert(
                item.code.clone(),
                serde_json::json!({"score": cur_score, "vetoed": cur_vetoed}),
            );
            after.insert(
                item.code.clone(),
                serde_json::json!({"score": input.score, "vetoed": vetoed, "text": text}),
            );
        }
        if after.is_empty() {
            return Ok(a);
        }
        recompute(tx.conn(), &a, a.stage, &round, now).await?;
        let c = Change::update(
            if a.stage == Stage::Draft {
                "self_assessment"
            } else {
                "review"
            },
            &format!("{} {}", a.org_code, round.year),
            &a.org_path,
            before.into(),
            after.into(),
        );
        audit::record(tx.conn(), actor, now, c).await?;
        let out = assessment_in(tx.conn(), &actor.scope, a.id).await?;
        tx.commit().await?;
        Ok(out)
    }

    /// Moves an assessment one step on (submit, review done, approve) or back with a reason.
    /// Publication is the city's step for the whole round: `publish_round`.
    pub async fn step_assessment(
        &self,
        actor: &Actor,
        assessment_id: i64,
        action: StepAction,
        now: i64,
    ) -> Result<Assessment> {
        let mut tx = self.write().await?;
        let a = assessment_in(tx.conn(), &actor.scope, assessment_id).await?;
        let round = round_by_id(tx.conn(), a.round_id).await?;
        check_turn(actor, &a, &round)?;
        let (to, name, reason) = match &action {
            StepAction::Forward => {
                let to = match a.stage {
                    Stage::Approved | Stage::Published => {
                        return Err(StoreError::Conflict(
                            Msg::new("rating.error.out_of_turn").arg("stage", a.stage.as_str()),
                        ));
                    }
                    s => s.next().ok_or(StoreError::NotFound)?,
                };
                let name = match a.stage {
                    Stage::Draft => "submit",
                    Stage::Submitted => "review",
                    _ => "approve",
                };
                (to, name, None)
            }
            StepAction::Back { reason } => {
                let to = a.stage.back().ok_or_else(|| {
                    StoreError::Conflict(
                        Msg::new("rating.error.out_of_turn").arg("stage", a.stage.as_str()),
                    )
                })?;
                (to, "send_back", Some(reason_text(reason)?))
            }
        };
        if a.stage == Stage::Draft && matches!(action, StepAction::Forward) {
            let r = sqlx::query(
                "SELECT COUNT(*) FROM standard_items i WHERE i.set_id = $1 AND NOT EXISTS \
                 (SELECT 1 FROM assessment_items ai WHERE ai.assessment_id = $2 AND ai.item_id = i.id \
                  AND ai.self_score IS NOT NULL)",
            )
            .bind(a.set_id)
            .bind(a.id)
            .fetch_one(tx.conn())
            .await?;
            let missing: i64 = r.try_get(0)?;
            if missing > 0 {
                return Err(StoreError::Invalid(
                    Msg::new("rating.error.unscored").arg("n", missing),
                ));
            }
        }
        if a.stage == Stage::Draft {
            // Submitted scores are what the township reviews.
            sqlx::query(
                "UPDATE assessment_items SET score = self_score, vetoed = self_vetoed, review_reason = NULL \
                 WHERE assessment_id = $1",
            )
            .bind(a.id)
            .execute(tx.conn())
            .await?;
        }
        sqlx::query("UPDATE assessments SET stage = $1, updated_at = $2 WHERE id = $3")
            .bind(to.as_str())
            .bind(now)
            .bind(a.id)
            .execute(tx.conn())
            .await?;
        record_step(tx.conn(), actor, &a, name, to, reason.as_deref(), now).await?;
        recompute(tx.conn(), &a, to, &round, now).await?;
        let mut c = Change::update(
            "assessment",
            &format!("{} {}", a.org_code, round.year),
            &a.org_path,
            serde_json::json!({"stage": a.stage.as_str()}),
            serde_json::json!({"stage": to.as_str()}),
        );
        c.action = name;
        c.reason = reason;
        audit::record(tx.conn(), actor, now, c).await?;
        let out = assessment_in(tx.conn(), &actor.scope, a.id).await?;
        tx.commit().await?;
        Ok(out)
    }

    /// The city publishes its round once every village's rating is approved.
    pub async fn publish_round(&self, actor: &Actor, year: i64, now: i64) -> Result<u64> {
        if actor.role != Role::CityAdmin {
            return Err(denied());
        }
        let mut tx = self.write().await?;
        let round = own_round(tx.conn(), actor, year).await?;
        if round.published_at.is_some() {
            return Err(StoreError::Conflict(Msg::new("rating.error.published")));
        }
        let pending: i64 = sqlx::query(
            "SELECT COUNT(*) FROM assessments WHERE round_id = $1 AND stage <> 'approved'",
        )
        .bind(round.id)
        .fetch_one(tx.conn())
        .await?
        .try_get(0)?;
        if pending > 0 {
            return Err(StoreError::Conflict(
                Msg::new("rating.error.not_all_approved").arg("n", pending),
            ));
        }
        sqlx::query(
            "INSERT INTO assessment_steps (assessment_id, at, actor_login, actor_role, action, from_stage, to_stage) \
             SELECT id, $1, $2, $3, 'publish', 'approved', 'published' FROM assessments WHERE round_id = $4",
        )
        .bind(now)
        .bind(&actor.login)
        .bind(actor.role.as_str())
        .bind(round.id)
        .execute(tx.conn())
        .await?;
        let n = sqlx::query(
            "UPDATE assessments SET stage = 'published', updated_at = $1 WHERE round_id = $2",
        )
        .bind(now)
        .bind(round.id)
        .execute(tx.conn())
        .await?
        .rows_affected();
        sqlx::query("UPDATE rating_rounds SET published_at = $1 WHERE id = $2")
            .bind(now)
            .bind(round.id)
            .execute(tx.conn())
            .await?;
        let mut c = Change::update(
            "rating_round",
            &year.to_string(),
            &round.org_path,
            serde_json::json!({"published": false}),
            serde_json::json!({"published": true, "assessments": n}),
        );
        c.action = "publish";
        audit::record(tx.conn(), actor, now, c).await?;
        tx.commit().await?;
        Ok(n)
    }

    /// A decision on a village's class that overrides the rule (county or city), or its removal
    /// (`None`); always with a reason.
    pub async fn decide_class(
        &self,
        actor: &Actor,
        assessment_id: i64,
        class: Option<VillageClass>,
        reason: &str,
        now: i64,
    ) -> Result<Assessment> {
        if !matches!(actor.role, Role::CountyAdmin | Role::CityAdmin) {
            return Err(denied());
        }
        let reason = reason_text(reason)?;
        let mut tx = self.write().await?;
        let a = assessment_in(tx.conn(), &actor.scope, assessment_id).await?;
        let round = round_by_id(tx.conn(), a.round_id).await?;
        if round.published_at.is_some() {
            return Err(StoreError::Conflict(Msg::new("rating.error.published")));
        }
        sqlx::query(
            "UPDATE assessments SET class_manual = $1, class_reason = $2, updated_at = $3 WHERE id = $4",
        )
        .bind(class.map(|c| c.as_str()))
        .bind(class.map(|_| reason.clone()))
        .bind(now)
        .bind(a.id)
        .execute(tx.conn())
        .await?;
        let mut c = Change::update(
            "village_class",
            &format!("{} {}", a.org_code, round.year),
            &a.org_path,
            serde_json::json!({"manual": a.class_manual.map(|c| c.as_str()), "rule": a.class.map(|c| c.as_str())}),
            serde_json::json!({"manual": class.map(|c| c.as_str())}),
        );
        c.action = "decide";
        c.reason = Some(reason);
        audit::record(tx.conn(), actor, now, c).await?;
        let out = assessment_in(tx.conn(), &actor.scope, a.id).await?;
        tx.commit().await?;
        Ok(out)
    }

    /// Counts of a node's subtree in a round.
    pub async fn rating_tally(&self, round: &Round, path: &str, today: &str) -> Result<Tally> {
        let mut conn = self.pool().acquire().await?;
        tally(
            &mut conn,
            round,
            path,
            &baiqian_domain::org::path_upper_bound(path),
            today,
        )
        .await
    }

    /// The figures of each child of a node (given in the order to answer), in one pass per code
    /// length among them: the cost grows with the subtree, not with a query per child.
    pub async fn rating_child_tallies(
        &self,
        round: &Round,
        parent_path: &str,
        children: &[crate::org::Org],
        today: &str,
    ) -> Result<Vec<Tally>> {
        let mut conn = self.pool().acquire().await?;
        let upper = baiqian_domain::org::path_upper_bound(parent_path);
        let mut lens: Vec<usize> = children.iter().map(|c| c.path.len()).collect();
        lens.sort_unstable();
        lens.dedup();
        let mut by_path = std::collections::HashMap::new();
        for len in lens {
            by_path.extend(tallies(&mut conn, round, (parent_path, &upper), len, today).await?);
        }
        Ok(children
            .iter()
            .map(|c| by_path.remove(&c.path).unwrap_or_default())
            .collect())
    }

    /// The assessments behind a board figure, in the subtree of `path`.
    pub async fn assessments_under(
        &self,
        round: &Round,
        path: &str,
        filter: &AssessmentFilter,
        today: &str,
        limit: i64,
    ) -> Result<Vec<Assessment>> {
        let mut sql = format!(
            "SELECT {ASSESSMENT_COLUMNS} {ASSESSMENT_FROM} \
             WHERE a.round_id = $1 AND a.org_path >= $2 AND a.org_path < $3"
        );
        let mut n = 3;
        let mut binds: Vec<String> = Vec::new();
        if let Some(s) = filter.stage {
            n += 1;
            sql.push_str(&format!(" AND a.stage = ${n}"));
            binds.push(s.as_str().into());
        }
        if let Some(c) = filter.class {
            n += 1;
            sql.push_str(&format!(" AND COALESCE(a.class_manual, a.class) = ${n}"));
            binds.push(c.as_str().into());
        }
        if let Some(s) = filter.stars {
            sql.push_str(&format!(
                " AND a.stars = {} AND a.stage IN ('approved', 'published')",
                s.clamp(0, 5)
            ));
        }
        if filter.late {
            let late: Vec<String> = [Stage::Draft, Stage::Submitted, Stage::Reviewed]
                .into_iter()
                .filter(|s| round.is_late(*s, today))
                .map(|s| format!("'{}'", s.as_str()))
                .collect();
            if late.is_empty() {
                return Ok(Vec::new());
            }
            sql.push_str(&format!(" AND a.stage IN ({})", late.join(",")));
        }
        sql.push_str(&format!(
            " ORDER BY a.org_path LIMIT {}",
            limit.clamp(1, 5000)
        ));
        let mut q = sqlx::query(&sql)
            .bind(round.id)
            .bind(path.to_string())
            .bind(baiqian_domain::org::path_upper_bound(path));
        for b in binds {
            q = q.bind(b);
        }
        q.fetch_all(self.pool())
            .await?
            .iter()
            .map(assessment_from_row)
            .collect()
    }

    /// A village's stars and class year by year, oldest first.
    pub async fn star_history(&self, scope: &Scope, village: &str) -> Result<Vec<StarYear>> {
        let rows = sqlx::query(&format!(
            "SELECT {ASSESSMENT_COLUMNS} {ASSESSMENT_FROM} \
             WHERE a.org_code = $1 AND a.org_path >= $2 AND a.org_path < $3 ORDER BY r.year"
        ))
        .bind(village)
        .bind(scope.lower())
        .bind(scope.upper())
        .fetch_all(self.pool())
        .await?;
        let mut out: Vec<StarYear> = Vec::new();
        for r in &rows {
            let a = assessment_from_row(r)?;
            let rated = a.stage.is_rated();
            let stars = if rated { a.stars } else { None };
            let prev = out
                .last()
                .filter(|p| p.year == a.year - 1)
                .and_then(|p| p.stars);
            out.push(StarYear {
                year: a.year,
                stage: a.stage,
                stars,
                class: if rated { a.effective_class() } else { None },
                manual: a.class_manual.is_some(),
                advanced: matches!((prev, stars), (Some(p), Some(s)) if s > p),
            });
        }
        Ok(out)
    }

    /// Records an evidence file already stored under its hash. The village adds evidence to its
    /// own draft.
    #[allow(clippy::too_many_arguments)]
    pub async fn add_evidence(
        &self,
        actor: &Actor,
        assessment_id: i64,
        item_id: i64,
        sha256: &str,
        mime: &str,
        size: i64,
        file_name: &str,
        now: i64,
    ) -> Result<Evidence> {
        let mut tx = self.write().await?;
        let a = assessment_in(tx.conn(), &actor.scope, assessment_id).await?;
        let round = round_by_id(tx.conn(), a.round_id).await?;
        check_turn(actor, &a, &round)?;
        if a.stage != Stage::Draft {
            return Err(StoreError::Conflict(
                Msg::new("rating.error.out_of_turn").arg("stage", a.stage.as_str()),
            ));
        }
        let items = items_of(tx.conn(), a.set_id).await?;
        let item = items
            .iter()
            .find(|i| i.id == item_id)
            .ok_or(StoreError::NotFound)?;
        let name: String = file_name
            .chars()
            .filter(|c| !c.is_control() && !matches!(c, '/' | '\\' | '"'))
            .take(100)
            .collect();
        let id: i64 = sqlx::query(
            "INSERT INTO evidence (assessment_id, item_id, sha256, mime, size, file_name, uploaded_by, uploaded_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id",
        )
        .bind(a.id)
        .bind(item_id)
        .bind(sha256)
        .bind(mime)
        .bind(size)
        .bind(&name)
        .bind(&actor.login)
        .bind(now)
        .fetch_one(tx.conn())
        .await?
        .try_get(0)?;
        audit::record(
            tx.conn(),
            actor,
            now,
            Change::create(
                "evidence",
                &format!("{} {} {}", a.org_code, round.year, item.code),
                &a.org_path,
                serde_json::json!({"sha256": sha256, "mime": mime, "size": size, "file_name": name}),
            ),
        )
        .await?;
        tx.commit().await?;
        Ok(Evidence {
            id,
            assessment_id: a.id,
            item_id,
            sha256: sha256.into(),
            mime: mime.into(),
            size,
            file_name: name,
            uploaded_by: actor.login.clone(),
            uploaded_at: now,
        })
    }

    /// An evidence record, if its village is in scope.
    pub async fn evidence(&self, scope: &Scope, id: i64) -> Result<Evidence> {
        let row = sqlx::query(
            "SELECT e.id, e.assessment_id, e.item_id, e.sha256, e.mime, e.size, e.file_name, \
             e.uploaded_by, e.uploaded_at FROM evidence e JOIN assessments a ON a.id = e.assessment_id \
             WHERE e.id = $1 AND a.org_path >= $2 AND a.org_path < $3",
        )
        .bind(id)
        .bind(scope.lower())
        .bind(scope.upper())
        .fetch_optional(self.pool())
        .await?;
        row.as_ref()
            .map(evidence_from_row)
            .transpose()?
            .ok_or(StoreError::NotFound)
    }

    /// The pioneer facts of a village for a year, with its stars filled in by the caller.
    pub async fn pioneer_facts(&self, village: &str, year: i64) -> Result<PioneerFacts> {
        let mut conn = self.pool().acquire().await?;
        facts_of(&mut conn, village, year).await
    }

    /// The pioneer-criteria data of the villages under a node for a year.
    pub async fn village_facts(
        &self,
        scope: &Scope,
        path: &str,
        year: i64,
    ) -> Result<Vec<VillageFacts>> {
        if !scope.contains_path(path) {
            return Err(StoreError::NotFound);
        }
        let upper = baiqian_domain::org::path_upper_bound(path);
        let rows = sqlx::query(
            "SELECT o.code, o.name, \
             (SELECT MAX(c.income_fen) FROM collective_incomes c WHERE c.org_code = o.code AND c.year = $3) AS income, \
             b.level AS b_level, b.year AS b_year \
             FROM orgs o LEFT JOIN beautiful_villages b ON b.org_code = o.code \
             WHERE o.level = 'village' AND o.retired_at IS NULL AND o.path >= $1 AND o.path < $2 \
             ORDER BY o.path",
        )
        .bind(path)
        .bind(&upper)
        .bind(year)
        .fetch_all(self.pool())
        .await?;
        let practices = sqlx::query(
            "SELECT p.id, p.org_code, o.name, p.year, p.title, p.promoted_level FROM featured_practices p \
             JOIN orgs o ON o.code = p.org_code WHERE p.org_path >= $1 AND p.org_path < $2 AND p.year <= $3 \
             ORDER BY p.year, p.id",
        )
        .bind(path)
        .bind(&upper)
        .bind(year)
        .fetch_all(self.pool())
        .await?
        .iter()
        .map(practice_from_row)
        .collect::<Result<Vec<_>>>()?;
        let mut out = Vec::with_capacity(rows.len());
        for r in rows {
            let code: String = r.try_get("code")?;
            let beautiful = match (
                r.try_get::<Option<String>, _>("b_level")?,
                r.try_get::<Option<i64>, _>("b_year")?,
            ) {
                (Some(l), Some(y)) => PromotionLevel::parse(&l).map(|l| (l, y)),
                _ => None,
            };
            out.push(VillageFacts {
                practices: practices
                    .iter()
                    .filter(|p| p.org_code == code)
                    .cloned()
                    .collect(),
                org_name: r.try_get("name")?,
                income_fen: r.try_get("income")?,
                beautiful,
                org_code: code,
            });
        }
        Ok(out)
    }

    /// Imports the facts sheet of a year: income, beautiful-village status and featured
    /// practices per village. Every bad row is reported; `GoodRowsOnly` writes exactly the good
    /// ones, otherwise nothing is written when any row is bad. Classes of the year are re-rated.
    pub async fn import_village_facts(
        &self,
        actor: &Actor,
        year: i64,
        rows: &[FactsRow],
        mode: crate::org::ImportMode,
        now: i64,
    ) -> Result<crate::org::ImportOutcome> {
        use crate::org::{ImportError, ImportMode, ImportOutcome};
        if !actor.role.is_admin() {
            return Err(denied());
        }
        if !(2000..=2100).contains(&year) {
            return Err(StoreError::Invalid(Msg::new("rating.error.year")));
        }
        let mut tx = self.write().await?;
        let mut errors = Vec::new();
        let mut good = Vec::new();
        for r in rows {
            let mut errs = Vec::new();
            let err = |column: &'static str, msg: Msg| ImportError {
                row: r.row,
                column,
                msg,
            };
            let path = sqlx::query(
                "SELECT path FROM orgs WHERE code = $1 AND level = 'village' AND retired_at IS NULL \
                 AND path >= $2 AND path < $3",
            )
            .bind(r.code.trim())
            .bind(actor.scope.lower())
            .bind(actor.scope.upper())
            .fetch_optional(tx.conn())
            .await?
            .map(|row| row.try_get::<String, _>(0))
            .transpose()?;
            if path.is_none() {
                errs.push(err(
                    "code",
                    Msg::new("rating.error.village").arg("code", r.code.trim()),
                ));
            }
            let income = match r.income.trim() {
                "" => None,
                s => match baiqian_domain::rating::parse_yuan(s) {
                    Ok(v) => Some(v),
                    Err(m) => {
                        errs.push(err("income", m));
                        None
                    }
                },
            };
            let beautiful = match (r.beautiful_level.trim(), r.beautiful_year.trim()) {
                ("", "") => None,
                (l, y) => {
                    let level = PromotionLevel::parse(l);
                    if level.is_none() {
                        errs.push(err(
                            "beautiful_level",
                            Msg::new("rating.error.level").arg("value", l),
                        ));
                    }
                    let by = y.parse::<i64>().ok().filter(|v| (1990..=year).contains(v));
                    if by.is_none() {
                        errs.push(err(
                            "beautiful_year",
                            Msg::new("rating.error.beautiful_year").arg("year", year),
                        ));
                    }
                    level.zip(by)
                }
            };
            let practice = match (r.practice.trim(), r.practice_level.trim()) {
                ("", "") => None,
                (t, l) => {
                    let title = baiqian_domain::org::parse_name(t);
                    if let Err(e) = &title {
                        errs.push(err("practice", e.msg()));
                    }
                    let level = PromotionLevel::parse(l);
                    if level.is_none() {
                        errs.push(err(
                            "practice_level",
                            Msg::new("rating.error.level").arg("value", l),
                        ));
                    }
                    title.ok().zip(level)
                }
            };
            if errs.is_empty()
                && let Some(path) = path
            {
                good.push((r.code.trim().to_string(), path, income, beautiful, practice));
            } else {
                errors.append(&mut errs);
            }
        }
        if !errors.is_empty() && mode == ImportMode::AllOrNothing {
            return Ok(ImportOutcome {
                errors,
                ..Default::default()
            });
        }
        let mut out = ImportOutcome {
            errors,
            ..Default::default()
        };
        for (code, path, income, beautiful, practice) in &good {
            let mut changed = false;
            if let Some(fen) = income {
                let n = sqlx::query(
                    "INSERT INTO collective_incomes (org_code, org_path, year, income_fen, updated_at) \
                     VALUES ($1, $2, $3, $4, $5) ON CONFLICT (org_code, year) DO UPDATE \
                     SET income_fen = $4, updated_at = $5 WHERE collective_incomes.income_fen <> $4",
                )
                .bind(code)
                .bind(path)
                .bind(year)
                .bind(*fen)
                .bind(now)
                .execute(tx.conn())
                .await?
                .rows_affected();
                changed |= n > 0;
            }
            if let Some((level, by)) = beautiful {
                let n = sqlx::query(
                    "INSERT INTO beautiful_villages (org_code, org_path, level, year, updated_at) \
                     VALUES ($1, $2, $3, $4, $5) ON CONFLICT (org_code) DO UPDATE \
                     SET level = $3, year = $4, updated_at = $5 \
                     WHERE beautiful_villages.level <> $3 OR beautiful_villages.year <> $4",
                )
                .bind(code)
                .bind(path)
                .bind(level.as_str())
                .bind(*by)
                .bind(now)
                .execute(tx.conn())
                .await?
                .rows_affected();
                changed |= n > 0;
            }
            if let Some((title, level)) = practice {
                let n = sqlx::query(
                    "INSERT INTO featured_practices (org_code, org_path, year, title, promoted_level, created_at) \
                     VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (org_code, year, title) DO UPDATE \
                     SET promoted_level = $5 WHERE featured_practices.promoted_level <> $5",
                )
                .bind(code)
                .bind(path)
                .bind(year)
                .bind(title)
                .bind(level.as_str())
                .bind(now)
                .execute(tx.conn())
                .await?
                .rows_affected();
                changed |= n > 0;
            }
            if changed {
                out.updated += 1;
                audit::record(
                    tx.conn(),
                    actor,
                    now,
                    Change::update(
                        "village_facts",
                        &format!("{code} {year}"),
                        path,
                        serde_json::Value::Null,
                        serde_json::json!({
                            "income_fen": income,
                            "beautiful": beautiful.map(|(l, y)| serde_json::json!({"level": l.as_str(), "year": y})),
                            "practice": practice.as_ref().map(|(t, l)| serde_json::json!({"title": t, "level": l.as_str()})),
                        }),
                    ),
                )
                .await?;
            } else {
                out.unchanged += 1;
            }
        }
        if out.updated > 0 {
            let rounds = sqlx::query(&format!(
                "SELECT {ROUND_COLUMNS} FROM rating_rounds WHERE year = $1 AND published_at IS NULL"
            ))
            .bind(year)
            .fetch_all(tx.conn())
            .await?
            .iter()
            .map(round_from_row)
            .collect::<Result<Vec<_>>>()?;
            for round in rounds {
                rerate(tx.conn(), &round, now).await?;
            }
        }
        tx.commit().await?;
        out.committed = true;
        Ok(out)
    }

    /// The ratings of the villages under a node for the API: stars of rated villages, unrated,
    /// and classes.
    pub async fn rating_summary(
        &self,
        scope: &Scope,
        code: &baiqian_domain::org::OrgCode,
        year: i64,
        today: &str,
    ) -> Result<(Option<Round>, Tally)> {
        let node = self.org(scope, code).await?;
        let mut conn = self.pool().acquire().await?;
        let Some(round) = round_covering(&mut conn, &node.path, year).await? else {
            return Ok((None, Tally::default()));
        };
        let upper = baiqian_domain::org::path_upper_bound(&node.path);
        let t = tally(&mut conn, &round, &node.path, &upper, today).await?;
        Ok((Some(round), t))
    }
}

fn evidence_from_row(r: &AnyRow) -> Result<Evidence> {
    Ok(Evidence {
        id: r.try_get("id")?,
        assessment_id: r.try_get("assessment_id")?,
        item_id: r.try_get("item_id")?,
        sha256: r.try_get("sha256")?,
        mime: r.try_get("mime")?,
        size: r.try_get("size")?,
        file_name: r.try_get("file_name")?,
        uploaded_by: r.try_get("uploaded_by")?,
        uploaded_at: r.try_get("uploaded_at")?,
    })
}

fn practice_from_row(r: &AnyRow) -> Result<FeaturedPractice> {
    let level: String = r.try_get("promoted_level")?;
    Ok(FeaturedPractice {
        id: r.try_get("id")?,
        org_code: r.try_get("org_code")?,
        org_name: r.try_get("name")?,
        year: r.try_get("year")?,
        title: r.try_get("title")?,
        level: PromotionLevel::parse(&level)
            .ok_or_else(|| StoreError::Corrupt(format!("practice level {level}")))?,
    })
}

impl Db {
    /// An assessment by id, if its village is in scope.
    pub async fn assessment_by_id(&self, scope: &Scope, id: i64) -> Result<Assessment> {
        let mut conn = self.pool().acquire().await?;
        assessment_in(&mut conn, scope, id).await
    }
}

/// A village's scores for a bulk load (the demo and the benchmark's generated province).
#[derive(Debug, Clone)]
pub struct BulkScore {
    pub org_code: String,
    /// The stage it has reached; steps up to it are recorded.
    pub stage: Stage,
    /// (item id, score, vetoed), the same as self-assessed and reviewed.
    pub items: Vec<(i64, i64, bool)>,
}

impl Db {
    /// Loads scores and stages for many villages of a round in multi-row statements, then
    /// computes totals and re-rates the round. For generators: one audit row for the load.
    pub async fn bulk_score_round(
        &self,
        actor: &Actor,
        round_id: i64,
        scores: &[BulkScore],
        now: i64,
    ) -> Result<Moves> {
        let mut tx = self.write().await?;
        let round = round_by_id(tx.conn(), round_id).await?;
        let ids: std::collections::HashMap<String, i64> =
            sqlx::query("SELECT org_code, id FROM assessments WHERE round_id = $1")
                .bind(round_id)
                .fetch_all(tx.conn())
                .await?
                .iter()
                .map(|r| Ok((r.try_get(0)?, r.try_get(1)?)))
                .collect::<Result<_>>()?;
        let mut items: Vec<(i64, i64, i64, i64)> = Vec::new();
        let mut by_stage: std::collections::BTreeMap<&'static str, Vec<i64>> =
            std::collections::BTreeMap::new();
        let mut steps: Vec<(i64, &'static str, &'static str, &'static str)> = Vec::new();
        for s in scores {
            let id = *ids.get(&s.org_code).ok_or(StoreError::NotFound)?;
            for (item, score, vetoed) in &s.items {
                items.push((id, *item, *score, i64::from(*vetoed)));
            }
            by_stage.entry(s.stage.as_str()).or_default().push(id);
            let mut at = Stage::Draft;
            while at < s.stage && at < Stage::Approved {
                let Some(to) = at.next() else { break };
                let action = match at {
                    Stage::Draft => "submit",
                    Stage::Submitted => "review",
                    _ => "approve",
                };
                steps.push((id, action, at.as_str(), to.as_str()));
                at = to;
            }
        }
        for chunk in items.chunks(60) {
            let mut sql = String::from(
                "INSERT INTO assessment_items (assessment_id, item_id, self_score, self_vetoed, note, score, vetoed) VALUES ",
            );
            for i in 0..chunk.len() {
                let b = i * 4;
                if i > 0 {
                    sql.push(',');
                }
                sql.push_str(&format!(
                    "(${}, ${}, ${}, ${}, '', ${}, ${})",
                    b + 1,
                    b + 2,
                    b + 3,
                    b + 4,
                    b + 3,
                    b + 4
                ));
            }
            let mut q = sqlx::query(&sql);
            for (a, i, s, v) in chunk {
                q = q.bind(*a).bind(*i).bind(*s).bind(*v);
            }
            q.execute(tx.conn()).await?;
        }
        for chunk in steps.chunks(50) {
            let mut sql = String::from(
                "INSERT INTO assessment_steps (assessment_id, at, actor_login, actor_role, action, from_stage, to_stage) VALUES ",
            );
            for i in 0..chunk.len() {
                let b = i * 4 + 3;
                if i > 0 {
                    sql.push(',');
                }
                sql.push_str(&format!(
                    "(${}, $1, $2, $3, ${}, ${}, ${})",
                    b + 1,
                    b + 2,
                    b + 3,
                    b + 4
                ));
            }
            let mut q = sqlx::query(&sql)
                .bind(now)
                .bind(&actor.login)
                .bind(actor.role.as_str());
            for (a, action, from, to) in chunk {
                q = q.bind(*a).bind(*action).bind(*from).bind(*to);
            }
            q.execute(tx.conn()).await?;
        }
        for (stage, ids) in &by_stage {
            for chunk in ids.chunks(250) {
                let marks: Vec<String> = (0..chunk.len()).map(|i| format!("${}", i + 2)).collect();
                let sql = format!(
                    "UPDATE assessments SET stage = $1 WHERE id IN ({})",
                    marks.join(",")
                );
                let mut q = sqlx::query(&sql).bind(*stage);
                for id in chunk {
                    q = q.bind(*id);
                }
                q.execute(tx.conn()).await?;
            }
        }
        sqlx::query(
            "UPDATE assessments SET \
             self_total = (SELECT CAST(SUM(ai.self_score) AS BIGINT) FROM assessment_items ai WHERE ai.assessment_id = assessments.id), \
             total = CASE WHEN stage = 'draft' THEN NULL ELSE \
                (SELECT CAST(SUM(ai.score) AS BIGINT) FROM assessment_items ai WHERE ai.assessment_id = assessments.id) END, \
             veto_failed = CASE WHEN EXISTS (SELECT 1 FROM assessment_items ai JOIN standard_items i ON i.id = ai.item_id \
                WHERE ai.assessment_id = assessments.id AND ai.vetoed = 1 AND i.veto = 1) THEN 1 ELSE 0 END, \
             updated_at = $2 \
             WHERE round_id = $1",
        )
        .bind(round_id)
        .bind(now)
        .execute(tx.conn())
        .await?;
        let moves = rerate(tx.conn(), &round, now).await?;
        let mut c = Change::update(
            "rating_round",
            &round.year.to_string(),
            &round.org_path,
            serde_json::Value::Null,
            serde_json::json!({"scored": scores.len(), "items": items.len()}),
        );
        c.action = "bulk_score";
        audit::record(tx.conn(), actor, now, c).await?;
        tx.commit().await?;
        Ok(moves)
    }
}

/// Runs `RERATE_SET_BASED` for a round in its own transaction; returns the rows it changed.
/// The benchmark's reference for the application's re-rating.
pub async fn rerate_set_based(db: &Db, round_id: i64) -> Result<u64> {
    let mut tx = db.write().await?;
    let n = sqlx::query(RERATE_SET_BASED)
        .bind(round_id)
        .execute(tx.conn())
        .await?
        .rows_affected();
    tx.commit().await?;
    Ok(n)
}

/// A village created while a round above it is open joins that round as a draft, rated by the
/// set most of its county's villages use in the round (a county may have its own), else by the
/// round's. Audited like every assessment's creation.
pub(crate) async fn join_open_rounds(
    conn: &mut AnyConnection,
    actor: &Actor,
    village: &crate::org::Org,
    now: i64,
) -> Result<()> {
    let rounds: Vec<(i64, i64, i64, String)> = sqlx::query_as(
        "SELECT id, year, set_id, org_path FROM rating_rounds WHERE published_at IS NULL",
    )
    .fetch_all(&mut *conn)
    .await?;
    let codes: Vec<&str> = village
        .path
        .trim_matches('/')
        .split('/')
        .filter(|c| !c.is_empty())
        .collect();
    let county_path = match codes.as_slice() {
        [city, county, ..] => format!("/{city}/{county}/"),
        _ => village.path.clone(),
    };
    for (round_id, year, round_set, round_path) in rounds {
        if !village.path.starts_with(&round_path) {
            continue;
        }
        let county_set: Option<(i64, i64)> = sqlx::query_as(
            "SELECT set_id, full_total FROM assessments WHERE round_id = $1 AND org_path >= $2 AND org_path < $3 \
             GROUP BY set_id, full_total ORDER BY COUNT(*) DESC, set_id LIMIT 1",
        )
        .bind(round_id)
        .bind(&county_path)
        .bind(baiqian_domain::org::path_upper_bound(&county_path))
        .fetch_optional(&mut *conn)
        .await?;
        let (set_id, full_total) = match county_set {
            Some(found) => found,
            None => {
                let full: i64 = items_of(&mut *conn, round_set)
                    .await?
                    .iter()
                    .map(|i| i.full_score)
                    .sum();
                (round_set, full)
            }
        };
        let id: i64 = sqlx::query(
            "INSERT INTO assessments (round_id, org_code, org_path, set_id, stage, full_total, updated_at) \
             VALUES ($1, $2, $3, $4, 'draft', $5, $6) RETURNING id",
        )
        .bind(round_id)
        .bind(village.code.as_str())
        .bind(&village.path)
        .bind(set_id)
        .bind(full_total)
        .bind(now)
        .fetch_one(&mut *conn)
        .await?
        .try_get(0)?;
        audit::record(
            conn,
            actor,
            now,
            Change::create(
                "assessment",
                &id.to_string(),
                &village.path,
                serde_json::json!({ "year": year, "set_id": set_id, "stage": "draft" }),
            ),
        )
        .await?;
    }
    Ok(())
}

/// A village being retired leaves the rounds still open: an untouched draft (no score, no
/// evidence, no step) is withdrawn, audited; an assessment with work in it refuses the retirement
/// (`rating.error.retire_under_way`), so nothing a village entered is lost.
pub(crate) async fn leave_open_rounds(
    conn: &mut AnyConnection,
    actor: &Actor,
    village: &crate::org::Org,
    now: i64,
) -> Result<()> {
    let open: Vec<(i64, i64, String, i64)> = sqlx::query_as(
        "SELECT a.id, r.year, a.stage, \
         (SELECT COUNT(*) FROM assessment_items i WHERE i.assessment_id = a.id) \
         + (SELECT COUNT(*) FROM evidence e WHERE e.assessment_id = a.id) \
         + (SELECT COUNT(*) FROM assessment_steps s WHERE s.assessment_id = a.id) \
         FROM assessments a JOIN rating_rounds r ON r.id = a.round_id \
         WHERE a.org_code = $1 AND r.published_at IS NULL",
    )
    .bind(village.code.as_str())
    .fetch_all(&mut *conn)
    .await?;
    if let Some((_, year, _, _)) = open
        .iter()
        .find(|(_, _, stage, work)| stage != "draft" || *work > 0)
    {
        return Err(StoreError::Conflict(
            Msg::new("rating.error.retire_under_way").arg("year", year),
        ));
    }
    for (id, year, _, _) in open {
        sqlx::query("DELETE FROM assessments WHERE id = $1")
            .bind(id)
            .execute(&mut *conn)
            .await?;
        let mut change = Change::update(
            "assessment",
            &id.to_string(),
            &village.path,
            serde_json::json!({ "year": year, "stage": "draft" }),
            serde_json::json!(null),
        );
        change.action = "withdraw";
        audit::record(conn, actor, now, change).await?;
    }
    Ok(())
}
