//! The yearly rating round (星级评定): self-assessment (自评) → township review (审核) → county
//! approval (审批) → city publication (公布), with send-back at every step; stars and classes
//! kept on each assessment; re-rating after a threshold change; boards; the pioneer criteria's
//! data (featured practices, beautiful villages, collective income).

mod assessment;
mod board;
mod evidence;
mod facts;
mod round;
pub mod standard;
mod tally;

// The parts share their helpers through this module (each part says `use super::*`).
#[allow(unused_imports)]
use self::{assessment::*, board::*, evidence::*, facts::*, round::*, tally::*};
pub(crate) use round::follow_tree;
pub(crate) use tally::PublishedCounts;
pub use tally::{BulkScore, RERATE_SET_BASED, rerate_set_based};

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
use crate::kernel::Node;
use crate::kernel::TreeEvent;
use crate::{Actor, Db, Result, StoreError};
use baiqian_domain::org::Level as TreeLevel;
use standard::{StandardItem, items_of};

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
    /// The township (乡镇) and county (县区) the village sits in, for lists that span many.
    pub township_name: Option<String>,
    pub county_name: Option<String>,
}

impl Assessment {
    pub fn effective_class(&self) -> Option<VillageClass> {
        self.class_manual.or(self.class)
    }
}

const ASSESSMENT_COLUMNS: &str = "a.id, a.round_id, r.year, a.org_code, o.name AS org_name, a.org_path, \
     a.set_id, a.stage, a.self_total, a.total, a.full_total, a.veto_failed, a.stars, a.class, \
     a.class_manual, a.class_reason, tw.name AS township_name, ct.name AS county_name";
const ASSESSMENT_FROM: &str = "FROM assessments a JOIN rating_rounds r ON r.id = a.round_id \
     JOIN orgs o ON o.code = a.org_code LEFT JOIN orgs tw ON tw.code = o.parent_code \
     LEFT JOIN orgs ct ON ct.code = tw.parent_code";

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
        township_name: r.try_get("township_name")?,
        county_name: r.try_get("county_name")?,
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
    pub order: AssessmentOrder,
}

/// The order of a list behind a board figure; each sorts ties by the tree (county, township,
/// village), the default order.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum AssessmentOrder {
    #[default]
    Tree,
    Name,
    /// Highest score first.
    Score,
    /// Most stars first.
    Stars,
    Stage,
}

impl AssessmentOrder {
    pub const ALL: [AssessmentOrder; 5] = [
        AssessmentOrder::Tree,
        AssessmentOrder::Name,
        AssessmentOrder::Score,
        AssessmentOrder::Stars,
        AssessmentOrder::Stage,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            AssessmentOrder::Tree => "tree",
            AssessmentOrder::Name => "name",
            AssessmentOrder::Score => "score",
            AssessmentOrder::Stars => "stars",
            AssessmentOrder::Stage => "stage",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|o| o.as_str() == s)
    }

    /// The `ORDER BY` clause: a fixed string per order, never text from the request. Stage
    /// order follows the workflow (draft first), not the alphabet.
    pub(crate) fn sql(self) -> &'static str {
        match self {
            AssessmentOrder::Tree => "a.org_path",
            AssessmentOrder::Name => "o.name, a.org_path",
            AssessmentOrder::Score => {
                "CASE WHEN a.total IS NULL THEN 1 ELSE 0 END, a.total DESC, a.org_path"
            }
            AssessmentOrder::Stars => {
                "CASE WHEN a.stars IS NULL THEN 1 ELSE 0 END, a.stars DESC, a.org_path"
            }
            AssessmentOrder::Stage => {
                "CASE a.stage WHEN 'draft' THEN 0 WHEN 'submitted' THEN 1 WHEN 'reviewed' THEN 2 \
                 WHEN 'approved' THEN 3 ELSE 4 END, a.org_path"
            }
        }
    }
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
    pub income_fen: Option<baiqian_domain::money::Fen>,
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

pub use baiqian_domain::time::china_date;

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
