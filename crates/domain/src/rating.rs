//! Star rating (星级评定) and village classification: scores → stars by published thresholds,
//! veto caps (一票否决), the pioneer criteria checked one by one, the lagging rule as data, and
//! the steps of a rating round (自评 → 审核 → 审批 → 公布).

use crate::money::Fen;
use serde::Serialize;

use crate::Msg;
use crate::role::Role;

/// Where a village's assessment of a year stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, PartialOrd, Ord)]
#[serde(rename_all = "kebab-case")]
pub enum Stage {
    /// 自评: the village fills in its scores.
    Draft,
    /// 待审核: submitted, the township reviews.
    Submitted,
    /// 待审批: reviewed, the county approves.
    Reviewed,
    /// 待公布: approved, the city publishes.
    Approved,
    /// 已公布
    Published,
}

impl Stage {
    pub const ALL: [Stage; 5] = [
        Stage::Draft,
        Stage::Submitted,
        Stage::Reviewed,
        Stage::Approved,
        Stage::Published,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Stage::Draft => "draft",
            Stage::Submitted => "submitted",
            Stage::Reviewed => "reviewed",
            Stage::Approved => "approved",
            Stage::Published => "published",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Stage::ALL.into_iter().find(|x| x.as_str() == s)
    }

    /// The role whose turn it is at this stage; `None` once published.
    pub fn actor(self) -> Option<Role> {
        match self {
            Stage::Draft => Some(Role::VillageSecretary),
            Stage::Submitted => Some(Role::TownshipAdmin),
            Stage::Reviewed => Some(Role::CountyAdmin),
            Stage::Approved => Some(Role::CityAdmin),
            Stage::Published => None,
        }
    }

    /// The stage a step forward leads to.
    pub fn next(self) -> Option<Stage> {
        match self {
            Stage::Draft => Some(Stage::Submitted),
            Stage::Submitted => Some(Stage::Reviewed),
            Stage::Reviewed => Some(Stage::Approved),
            Stage::Approved => Some(Stage::Published),
            Stage::Published => None,
        }
    }

    /// The stage sending back leads to: one step back. A draft and a published rating cannot
    /// be sent back.
    pub fn back(self) -> Option<Stage> {
        match self {
            Stage::Submitted => Some(Stage::Draft),
            Stage::Reviewed => Some(Stage::Submitted),
            Stage::Approved => Some(Stage::Reviewed),
            Stage::Draft | Stage::Published => None,
        }
    }

    /// Whether the stars of this stage count as the village's rating (approved by the county).
    pub fn is_rated(self) -> bool {
        matches!(self, Stage::Approved | Stage::Published)
    }
}

/// The class of a village for a year.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum VillageClass {
    /// 先锋示范村
    Pioneer,
    /// 全面晋位村
    Advancing,
    /// 后进整转村
    Lagging,
}

impl VillageClass {
    pub const ALL: [VillageClass; 3] = [
        VillageClass::Pioneer,
        VillageClass::Advancing,
        VillageClass::Lagging,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            VillageClass::Pioneer => "pioneer",
            VillageClass::Advancing => "advancing",
            VillageClass::Lagging => "lagging",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        VillageClass::ALL.into_iter().find(|x| x.as_str() == s)
    }
}

/// Star thresholds of a year: the least percentage of the full score that earns 1…5 stars, and
/// the most stars a village with a failed veto item can get.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Thresholds {
    /// `min_percent[0]` is for 1 star and is always 0: every rated village has at least one star.
    pub min_percent: [i64; 5],
    pub veto_cap: i64,
}

impl Default for Thresholds {
    fn default() -> Self {
        Self {
            min_percent: [0, 60, 70, 80, 90],
            veto_cap: 2,
        }
    }
}

impl Thresholds {
    /// Checks the thresholds: 1 star from 0 %, each next strictly higher, at most 100 %; the
    /// veto cap between 1 and 5.
    pub fn new(min_percent: [i64; 5], veto_cap: i64) -> Result<Self, Msg> {
        if min_percent[0] != 0 {
            return Err(Msg::new("rating.error.first_threshold"));
        }
        for (i, w) in min_percent.windows(2).enumerate() {
            if w[1] <= w[0] || w[1] > 100 {
                return Err(Msg::new("rating.error.threshold_order").arg("stars", i + 2));
            }
        }
        if !(1..=5).contains(&veto_cap) {
            return Err(Msg::new("rating.error.veto_cap"));
        }
        Ok(Self {
            min_percent,
            veto_cap,
        })
    }

    /// Stars for a score out of `full`; a failed veto item caps them.
    pub fn stars(&self, score: i64, full: i64, veto_failed: bool) -> i64 {
        let full = full.max(1);
        // Integer comparison: score/full ≥ p/100 without rounding.
        let stars = (1..=5)
            .rev()
            .find(|&s| score * 100 >= self.min_percent[(s - 1) as usize] * full)
            .unwrap_or(1);
        if veto_failed {
            stars.min(self.veto_cap)
        } else {
            stars
        }
    }
}

/// The lagging rule (后进整转村), kept as data per round: at most `max_stars`, or any failed veto
/// item when `on_veto`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct LaggingRule {
    pub max_stars: i64,
    pub on_veto: bool,
}

impl Default for LaggingRule {
    fn default() -> Self {
        Self {
            max_stars: 2,
            on_veto: true,
        }
    }
}

/// The least yearly recurring collective income of a pioneer village: 500,000 yuan.
pub const PIONEER_INCOME_FEN: Fen = Fen::from_yuan(500_000);

/// The facts the pioneer criteria are checked against, for one village and year.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
pub struct PioneerFacts {
    pub stars: i64,
    /// At least one featured practice (党建特色工作) promoted at township level or above.
    pub promoted_practice: bool,
    /// Created as a municipal (or higher) beautiful village (美丽乡村).
    pub beautiful_village: bool,
    /// Recurring collective income of the year, if reported.
    pub income_fen: Option<Fen>,
}

/// One pioneer criterion (先锋示范村 标准).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum PioneerCriterion {
    FiveStars,
    PromotedPractice,
    BeautifulVillage,
    CollectiveIncome,
}

impl PioneerCriterion {
    pub const ALL: [PioneerCriterion; 4] = [
        PioneerCriterion::FiveStars,
        PioneerCriterion::PromotedPractice,
        PioneerCriterion::BeautifulVillage,
        PioneerCriterion::CollectiveIncome,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            PioneerCriterion::FiveStars => "five-stars",
            PioneerCriterion::PromotedPractice => "promoted-practice",
            PioneerCriterion::BeautifulVillage => "beautiful-village",
            PioneerCriterion::CollectiveIncome => "collective-income",
        }
    }

    pub fn met(self, f: &PioneerFacts) -> bool {
        match self {
            PioneerCriterion::FiveStars => f.stars >= 5,
            PioneerCriterion::PromotedPractice => f.promoted_practice,
            PioneerCriterion::BeautifulVillage => f.beautiful_village,
            PioneerCriterion::CollectiveIncome => {
                f.income_fen.is_some_and(|i| i >= PIONEER_INCOME_FEN)
            }
        }
    }
}

impl PioneerFacts {
    /// Each criterion and whether it is met, in the published order.
    pub fn check(&self) -> Vec<(PioneerCriterion, bool)> {
        PioneerCriterion::ALL
            .into_iter()
            .map(|c| (c, c.met(self)))
            .collect()
    }

    pub fn failing(&self) -> Vec<PioneerCriterion> {
        PioneerCriterion::ALL
            .into_iter()
            .filter(|c| !c.met(self))
            .collect()
    }
}

/// The class the rules give: lagging by the rule, pioneer when every criterion is met, else
/// advancing comprehensively.
pub fn classify(facts: &PioneerFacts, veto_failed: bool, rule: LaggingRule) -> VillageClass {
    if facts.stars <= rule.max_stars || (rule.on_veto && veto_failed) {
        VillageClass::Lagging
    } else if facts.failing().is_empty() {
        VillageClass::Pioneer
    } else {
        VillageClass::Advancing
    }
}

/// The level that promoted a featured practice.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum PromotionLevel {
    /// 村内
    Village,
    /// 乡镇
    Township,
    /// 县(区)
    County,
    /// 市
    City,
    /// 省
    Province,
}

impl PromotionLevel {
    pub const ALL: [PromotionLevel; 5] = [
        PromotionLevel::Village,
        PromotionLevel::Township,
        PromotionLevel::County,
        PromotionLevel::City,
        PromotionLevel::Province,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            PromotionLevel::Village => "village",
            PromotionLevel::Township => "township",
            PromotionLevel::County => "county",
            PromotionLevel::City => "city",
            PromotionLevel::Province => "province",
        }
    }

    /// The Chinese name, as spreadsheets write it.
    pub fn zh(self) -> &'static str {
        match self {
            PromotionLevel::Village => "村级",
            PromotionLevel::Township => "乡镇级",
            PromotionLevel::County => "县级",
            PromotionLevel::City => "市级",
            PromotionLevel::Province => "省级",
        }
    }

    /// From the code or the Chinese name.
    pub fn parse(s: &str) -> Option<Self> {
        let s = s.trim();
        PromotionLevel::ALL
            .into_iter()
            .find(|x| x.as_str() == s || x.zh() == s)
    }

    /// Whether this counts towards the pioneer criteria (township or above).
    pub fn counts_for_pioneer(self) -> bool {
        self >= PromotionLevel::Township
    }

    /// Whether a beautiful village created at this level counts (municipal or above).
    pub fn counts_for_beautiful(self) -> bool {
        self >= PromotionLevel::City
    }
}

/// A score as entered: a whole number from 0 to the item's full score.
pub fn parse_score(s: &str, full: i64) -> Result<i64, Msg> {
    let t = s.trim();
    let v: i64 = t
        .parse()
        .map_err(|_| Msg::new("rating.error.score").arg("full", full))?;
    if !(0..=full).contains(&v) {
        return Err(Msg::new("rating.error.score").arg("full", full));
    }
    Ok(v)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stars_follow_thresholds_and_veto_cap() {
        let t = Thresholds::default();
        assert_eq!(t.stars(0, 100, false), 1);
        assert_eq!(t.stars(59, 100, false), 1);
        assert_eq!(t.stars(60, 100, false), 2);
        assert_eq!(t.stars(89, 100, false), 4);
        assert_eq!(t.stars(90, 100, false), 5);
        assert_eq!(t.stars(95, 100, true), 2);
        // 9/10 is exactly 90 %.
        assert_eq!(t.stars(9, 10, false), 5);
        assert_eq!(t.stars(179, 200, false), 4);
    }

    #[test]
    fn thresholds_are_checked() {
        assert!(Thresholds::new([0, 60, 70, 80, 90], 2).is_ok());
        assert_eq!(
            Thresholds::new([10, 60, 70, 80, 90], 2).map_err(|m| m.key),
            Err("rating.error.first_threshold")
        );
        assert_eq!(
            Thresholds::new([0, 60, 60, 80, 90], 2).map_err(|m| m.key),
            Err("rating.error.threshold_order")
        );
        assert!(Thresholds::new([0, 60, 70, 80, 101], 2).is_err());
        assert!(Thresholds::new([0, 60, 70, 80, 90], 0).is_err());
    }

    #[test]
    fn pioneer_needs_all_four_and_names_the_failing_one() {
        let mut f = PioneerFacts {
            stars: 5,
            promoted_practice: true,
            beautiful_village: true,
            income_fen: Some(PIONEER_INCOME_FEN),
        };
        let rule = LaggingRule::default();
        assert_eq!(classify(&f, false, rule), VillageClass::Pioneer);
        f.income_fen = Some(Fen(PIONEER_INCOME_FEN.0 - 1));
        assert_eq!(classify(&f, false, rule), VillageClass::Advancing);
        assert_eq!(f.failing(), vec![PioneerCriterion::CollectiveIncome]);
        f.stars = 2;
        assert_eq!(classify(&f, false, rule), VillageClass::Lagging);
        f.stars = 4;
        assert_eq!(classify(&f, true, rule), VillageClass::Lagging);
        let lenient = LaggingRule {
            max_stars: 1,
            on_veto: false,
        };
        assert_eq!(classify(&f, true, lenient), VillageClass::Advancing);
    }

    #[test]
    fn stages_step_in_turn() {
        assert_eq!(Stage::Draft.actor(), Some(Role::VillageSecretary));
        assert_eq!(Stage::Submitted.next(), Some(Stage::Reviewed));
        assert_eq!(Stage::Reviewed.back(), Some(Stage::Submitted));
        assert_eq!(Stage::Draft.back(), None);
        assert_eq!(Stage::Published.actor(), None);
        assert!(Stage::Approved.is_rated() && !Stage::Reviewed.is_rated());
    }

    #[test]
    fn money_and_scores_parse() {
        assert_eq!(Fen::parse_yuan("500000"), Ok(Fen(50_000_000)));
        assert_eq!(Fen::parse_yuan("512,345.6"), Ok(Fen(51_234_560)));
        assert!(Fen::parse_yuan("-1").is_err());
        assert!(Fen::parse_yuan("1.234").is_err());
        assert!(Fen::parse_yuan("五十万").is_err());
        assert_eq!(Fen(51_234_560).yuan_text(), "512345.60");
        assert_eq!(parse_score(" 4 ", 5), Ok(4));
        assert!(parse_score("6", 5).is_err());
        assert!(parse_score("x", 5).is_err());
        assert_eq!(PromotionLevel::parse("县级"), Some(PromotionLevel::County));
        assert!(PromotionLevel::Township.counts_for_pioneer());
        assert!(!PromotionLevel::Village.counts_for_pioneer());
    }
}
