//! The campaign's planning (专项行动的目标与整乡提升): what a target measures, how a goal set for
//! the whole campaign reads at a county or a township, the straight line to a target's date,
//! and the rule by which a township counts as advanced as a whole (整乡提升). Every actual
//! figure is counted from the records (ratings and classes); none is typed in.

use serde::Serialize;

/// What a target (目标) counts. Each is a count of villages or townships under a node, read from
/// the year's rating round.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum TargetMeasure {
    /// Villages rated and classed pioneer (先锋示范村) in the year: a count.
    PioneerVillages,
    /// Village organizations advanced (晋位提升): rated with more stars than in the campaign's
    /// first round, or at five stars (the top holds); a share of all villages.
    VillagesAdvanced,
    /// Villages rated four stars or more (四星级以上): a share of all villages.
    VillagesAtFourStars,
    /// Townships advanced as a whole (整乡提升) by the campaign's rule: a share of townships.
    TownshipsAdvanced,
    /// Model townships (先进乡镇) designated, among the advanced ones: a count.
    ModelTownships,
}

/// How a measure's goal and actual figure read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Unit {
    Count,
    Percent,
}

/// What a measure counts among: the villages or the townships under a node.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Among {
    Villages,
    Townships,
}

impl TargetMeasure {
    pub const ALL: [TargetMeasure; 5] = [
        TargetMeasure::PioneerVillages,
        TargetMeasure::VillagesAdvanced,
        TargetMeasure::VillagesAtFourStars,
        TargetMeasure::TownshipsAdvanced,
        TargetMeasure::ModelTownships,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            TargetMeasure::PioneerVillages => "pioneer_villages",
            TargetMeasure::VillagesAdvanced => "villages_advanced",
            TargetMeasure::VillagesAtFourStars => "villages_at_four_stars",
            TargetMeasure::TownshipsAdvanced => "townships_advanced",
            TargetMeasure::ModelTownships => "model_townships",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|m| m.as_str() == s)
    }

    /// The code, or the words officials write in a plan's sheet (先锋示范村, 晋位提升…).
    pub fn parse_words(s: &str) -> Option<Self> {
        let s = s.trim();
        Self::parse(s).or(match s {
            "先锋示范村" | "先锋村" => Some(TargetMeasure::PioneerVillages),
            "村党组织晋位提升" | "晋位提升" | "晋位" => {
                Some(TargetMeasure::VillagesAdvanced)
            }
            "四星级以上村" | "四星级以上" | "四星以上" => {
                Some(TargetMeasure::VillagesAtFourStars)
            }
            "整乡提升乡镇" | "整乡提升" => Some(TargetMeasure::TownshipsAdvanced),
            "先进乡镇" => Some(TargetMeasure::ModelTownships),
            _ => None,
        })
    }

    pub fn unit(self) -> Unit {
        match self {
            TargetMeasure::PioneerVillages | TargetMeasure::ModelTownships => Unit::Count,
            _ => Unit::Percent,
        }
    }

    pub fn among(self) -> Among {
        match self {
            TargetMeasure::TownshipsAdvanced | TargetMeasure::ModelTownships => Among::Townships,
            _ => Among::Villages,
        }
    }

    /// A goal a target may carry: a percentage is 1…100; a count at least 1.
    pub fn goal_is_valid(self, goal: i64) -> bool {
        match self.unit() {
            Unit::Percent => (1..=100).contains(&goal),
            Unit::Count => (1..=1_000_000).contains(&goal),
        }
    }
}

/// The counts under one node in one year that every measure reads. Disjoint parts add up.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Standing {
    /// Active villages.
    pub villages: i64,
    /// Active townships.
    pub townships: i64,
    pub pioneer: i64,
    pub advanced: i64,
    pub at_four_stars: i64,
    pub townships_advanced: i64,
    pub model_townships: i64,
}

impl Standing {
    pub fn add(&mut self, o: &Standing) {
        self.villages += o.villages;
        self.townships += o.townships;
        self.pioneer += o.pioneer;
        self.advanced += o.advanced;
        self.at_four_stars += o.at_four_stars;
        self.townships_advanced += o.townships_advanced;
        self.model_townships += o.model_townships;
    }

    /// How many villages or townships the measure counts.
    pub fn count(&self, m: TargetMeasure) -> i64 {
        match m {
            TargetMeasure::PioneerVillages => self.pioneer,
            TargetMeasure::VillagesAdvanced => self.advanced,
            TargetMeasure::VillagesAtFourStars => self.at_four_stars,
            TargetMeasure::TownshipsAdvanced => self.townships_advanced,
            TargetMeasure::ModelTownships => self.model_townships,
        }
    }

    /// How many it counts among.
    pub fn base(&self, m: TargetMeasure) -> i64 {
        match m.among() {
            Among::Villages => self.villages,
            Among::Townships => self.townships,
        }
    }

    /// The measure's figure: a count, or a percentage to one decimal (0 when there is nothing
    /// to count among).
    pub fn actual(&self, m: TargetMeasure) -> f64 {
        let n = self.count(m);
        match m.unit() {
            Unit::Count => n as f64,
            Unit::Percent => percent(n, self.base(m)),
        }
    }
}

/// `n` of `of` as a percentage rounded to one decimal.
pub fn percent(n: i64, of: i64) -> f64 {
    if of <= 0 {
        return 0.0;
    }
    (n as f64 * 1000.0 / of as f64).round() / 10.0
}

/// A goal set for the campaign's whole area, read at a node: a percentage holds at every
/// level; a count is the node's share of it by the villages (or townships) it holds, rounded
/// up, so that no part's goal is zero while the whole's is not met by its parts' goals.
pub fn goal_at(m: TargetMeasure, goal: i64, node: &Standing, whole: &Standing) -> i64 {
    match m.unit() {
        Unit::Percent => goal,
        Unit::Count => {
            let (part, all) = (node.base(m), whole.base(m));
            if all <= 0 || part >= all {
                goal
            } else {
                (goal * part + all - 1) / all
            }
        }
    }
}

/// Where the straight line from nothing at the campaign's start (`start_ms`) to `goal` on the
/// due day (`due_ms`) stands at `now_ms`: the figure a target on track has reached by now.
pub fn expected_by(goal: i64, start_ms: i64, due_ms: i64, now_ms: i64) -> f64 {
    if now_ms >= due_ms || due_ms <= start_ms {
        return goal as f64;
    }
    if now_ms <= start_ms {
        return 0.0;
    }
    let share = (now_ms - start_ms) as f64 / (due_ms - start_ms) as f64;
    (goal as f64 * share * 10.0).round() / 10.0
}

/// The rule a township is advanced by (整乡提升), kept as data of the campaign.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct AdvancementRule {
    /// Every village rated with at least this many stars.
    pub min_stars: i64,
    /// No village classed lagging (后进整转村).
    pub none_lagging: bool,
    /// The township's scheme (方案) of the year approved and every item of it done.
    pub scheme_done: bool,
}

impl Default for AdvancementRule {
    /// The issue's: every village at four stars or more, none lagging, the scheme's items done.
    fn default() -> Self {
        Self {
            min_stars: 4,
            none_lagging: true,
            scheme_done: true,
        }
    }
}

/// One criterion of the rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum AdvancementCriterion {
    /// Every village rated at the rule's stars or more.
    VillagesAtMinStars,
    /// No village lagging.
    NoneLagging,
    /// The township's scheme approved, every item done.
    SchemeDone,
}

impl AdvancementCriterion {
    pub fn as_str(self) -> &'static str {
        match self {
            AdvancementCriterion::VillagesAtMinStars => "villages_at_min_stars",
            AdvancementCriterion::NoneLagging => "none_lagging",
            AdvancementCriterion::SchemeDone => "scheme_done",
        }
    }
}

/// A township's villages as the rule reads them.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct TownshipFacts {
    pub villages: i64,
    /// Rated with at least the rule's stars.
    pub at_min_stars: i64,
    /// Rated and classed lagging.
    pub lagging: i64,
    /// The items of the township's approved scheme of the year, and how many are done (both 0
    /// without an approved scheme).
    pub scheme_items: i64,
    pub scheme_done: i64,
}

/// A criterion checked: met or not, and how many villages stand in its way.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct CriterionCheck {
    pub criterion: AdvancementCriterion,
    pub met: bool,
    pub missing: i64,
}

impl AdvancementRule {
    /// The rule's criteria, each with the villages missing. A township without villages meets
    /// none: there is nothing to have advanced.
    pub fn check(&self, f: &TownshipFacts) -> Vec<CriterionCheck> {
        let below = (f.villages - f.at_min_stars).max(0);
        let mut out = vec![CriterionCheck {
            criterion: AdvancementCriterion::VillagesAtMinStars,
            met: f.villages > 0 && below == 0,
            missing: below,
        }];
        if self.none_lagging {
            out.push(CriterionCheck {
                criterion: AdvancementCriterion::NoneLagging,
                met: f.villages > 0 && f.lagging == 0,
                missing: f.lagging,
            });
        }
        if self.scheme_done {
            // Without an approved scheme, the scheme itself is what is missing.
            let open = (f.scheme_items - f.scheme_done).max(0);
            out.push(CriterionCheck {
                criterion: AdvancementCriterion::SchemeDone,
                met: f.scheme_items > 0 && open == 0,
                missing: if f.scheme_items == 0 { 1 } else { open },
            });
        }
        out
    }

    pub fn advanced(&self, f: &TownshipFacts) -> bool {
        self.check(f).iter().all(|c| c.met)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_township_advances_when_its_last_village_reaches_the_stars() {
        let rule = AdvancementRule::default();
        let mut f = TownshipFacts {
            villages: 12,
            at_min_stars: 11,
            lagging: 0,
            scheme_items: 3,
            scheme_done: 3,
        };
        assert!(!rule.advanced(&f));
        assert_eq!(rule.check(&f)[0].missing, 1);
        f.at_min_stars = 12;
        assert!(rule.advanced(&f));
        f.lagging = 1;
        assert!(!rule.advanced(&f));
        let lenient = AdvancementRule {
            none_lagging: false,
            ..rule
        };
        assert!(lenient.advanced(&f));
        assert!(!rule.advanced(&TownshipFacts::default()));
        // The scheme: approved with every item done, or the township has not advanced.
        f.lagging = 0;
        f.scheme_done = 2;
        assert!(!rule.advanced(&f));
        assert_eq!(rule.check(&f)[2].missing, 1);
        f.scheme_items = 0;
        f.scheme_done = 0;
        assert!(!rule.advanced(&f), "no approved scheme");
    }

    #[test]
    fn a_count_goal_is_shared_by_villages_and_a_percentage_holds() {
        let whole = Standing {
            villages: 985,
            townships: 68,
            ..Standing::default()
        };
        let county = Standing {
            villages: 200,
            townships: 12,
            ..Standing::default()
        };
        assert_eq!(
            goal_at(TargetMeasure::PioneerVillages, 80, &county, &whole),
            17
        );
        assert_eq!(
            goal_at(TargetMeasure::ModelTownships, 10, &county, &whole),
            2
        );
        assert_eq!(
            goal_at(TargetMeasure::VillagesAdvanced, 70, &county, &whole),
            70
        );
        assert_eq!(
            goal_at(TargetMeasure::PioneerVillages, 80, &whole, &whole),
            80
        );
    }

    #[test]
    fn the_line_runs_from_nothing_at_the_start_to_the_goal_on_the_day() {
        assert_eq!(expected_by(80, 0, 100, 50), 40.0);
        assert_eq!(expected_by(80, 0, 100, 150), 80.0);
        assert_eq!(expected_by(80, 10, 100, 5), 0.0);
        assert_eq!(percent(2, 3), 66.7);
        assert_eq!(percent(1, 0), 0.0);
    }

    #[test]
    fn measures_parse_from_their_names() {
        for m in TargetMeasure::ALL {
            assert_eq!(TargetMeasure::parse(m.as_str()), Some(m));
        }
        assert!(TargetMeasure::VillagesAdvanced.goal_is_valid(70));
        assert!(!TargetMeasure::VillagesAdvanced.goal_is_valid(101));
        assert!(!TargetMeasure::PioneerVillages.goal_is_valid(0));
    }
}

/// Where a plan stands (规划/方案/计划的审批): written, sent up, approved by the level above, or
/// sent back with a reason to be put right and sent up again.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum PlanStatus {
    Draft,
    Submitted,
    Approved,
    SentBack,
}

impl PlanStatus {
    pub const ALL: [PlanStatus; 4] = [
        PlanStatus::Draft,
        PlanStatus::Submitted,
        PlanStatus::Approved,
        PlanStatus::SentBack,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            PlanStatus::Draft => "draft",
            PlanStatus::Submitted => "submitted",
            PlanStatus::Approved => "approved",
            PlanStatus::SentBack => "sent_back",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|x| x.as_str() == s)
    }

    /// Items may be added while the plan is with its writer.
    pub fn editable(self) -> bool {
        matches!(self, PlanStatus::Draft | PlanStatus::SentBack)
    }
}

/// Who writes a node's plan: a county its plan (规划), a township its scheme (方案), a village
/// its plan (计划) — each the node's own administration.
pub fn plan_writer(level: crate::org::Level) -> Option<crate::role::Role> {
    use crate::org::Level;
    use crate::role::Role;
    match level {
        Level::County => Some(Role::CountyAdmin),
        Level::Township => Some(Role::TownshipAdmin),
        Level::Village => Some(Role::VillageSecretary),
        _ => None,
    }
}

/// Who approves it or sends it back: the level above.
pub fn plan_approver(level: crate::org::Level) -> Option<crate::role::Role> {
    use crate::org::Level;
    use crate::role::Role;
    match level {
        Level::County => Some(Role::CityAdmin),
        Level::Township => Some(Role::CountyAdmin),
        Level::Village => Some(Role::TownshipAdmin),
        _ => None,
    }
}

#[cfg(test)]
mod plan_tests {
    use super::*;
    use crate::org::Level;
    use crate::role::Role;

    #[test]
    fn each_level_writes_its_own_plan_and_the_level_above_approves_it() {
        for level in [Level::County, Level::Township, Level::Village] {
            let (w, a) = (plan_writer(level).unwrap(), plan_approver(level).unwrap());
            assert_ne!(w, a);
        }
        assert_eq!(plan_approver(Level::Township), Some(Role::CountyAdmin));
        assert_eq!(plan_writer(Level::City), None);
        assert!(PlanStatus::SentBack.editable());
        assert!(!PlanStatus::Submitted.editable());
        for s in PlanStatus::ALL {
            assert_eq!(PlanStatus::parse(s.as_str()), Some(s));
        }
    }
}

/// A project's kind (攻坚项目): the article's three answers to weaknesses many villages share,
/// or another a township or county runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ProjectKind {
    /// 党群创业互助会: members and villagers in hardship helped to start a living.
    MutualAidSociety,
    /// 乡贤参事会: capable people from the village, living away, called to its councils.
    SagesCouncil,
    /// 五年强村计划: the collective economy of weak villages built up over five years.
    FiveYearPlan,
    Other,
}

impl ProjectKind {
    pub const ALL: [ProjectKind; 4] = [
        ProjectKind::MutualAidSociety,
        ProjectKind::SagesCouncil,
        ProjectKind::FiveYearPlan,
        ProjectKind::Other,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            ProjectKind::MutualAidSociety => "mutual_aid_society",
            ProjectKind::SagesCouncil => "sages_council",
            ProjectKind::FiveYearPlan => "five_year_plan",
            ProjectKind::Other => "other",
        }
    }

    /// The code, or the name officials write.
    pub fn parse(s: &str) -> Option<Self> {
        let s = s.trim();
        Self::ALL.into_iter().find(|k| k.as_str() == s).or(match s {
            "党群创业互助会" => Some(ProjectKind::MutualAidSociety),
            "乡贤参事会" => Some(ProjectKind::SagesCouncil),
            "五年强村计划" => Some(ProjectKind::FiveYearPlan),
            "其他" => Some(ProjectKind::Other),
            _ => None,
        })
    }
}

/// Who runs projects at a level: a county's or a township's own administration.
pub fn project_runner(level: crate::org::Level) -> Option<crate::role::Role> {
    use crate::org::Level;
    use crate::role::Role;
    match level {
        Level::County => Some(Role::CountyAdmin),
        Level::Township => Some(Role::TownshipAdmin),
        _ => None,
    }
}

#[cfg(test)]
mod project_tests {
    use super::*;
    use crate::org::Level;
    use crate::role::Role;

    #[test]
    fn projects_are_the_counties_and_townships_in_their_words() {
        assert_eq!(
            ProjectKind::parse("党群创业互助会"),
            Some(ProjectKind::MutualAidSociety)
        );
        assert_eq!(
            ProjectKind::parse("five_year_plan"),
            Some(ProjectKind::FiveYearPlan)
        );
        assert_eq!(ProjectKind::parse("互助"), None);
        assert_eq!(project_runner(Level::Township), Some(Role::TownshipAdmin));
        assert_eq!(project_runner(Level::Village), None);
        assert_eq!(project_runner(Level::City), None);
    }
}
