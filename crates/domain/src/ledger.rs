//! The problem ledger (问题清单): problems found in a village (by a survey 排摸, a leader's
//! visit 走访, a rating), each with an owner, measures and a deadline, driven to closure
//! (整改销号); and the leaders' visits (走访调研) and pledges (公开承诺) that find them.

use serde::Serialize;

use crate::Msg;

/// Where a problem stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ProblemStatus {
    /// 待整改: found, nobody has started.
    Open,
    /// 整改中
    InProgress,
    /// 已整改: the village says it is done; the level above has yet to check.
    Rectified,
    /// 已销号: the level above checked it.
    Verified,
    /// 重新整改: the level above found the rectification wanting.
    Reopened,
}

/// What one may do to a problem.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ProblemStep {
    /// Work has started (the village or its township).
    Start,
    /// The village reports it rectified.
    Rectify,
    /// The level above checks and closes it (销号).
    Verify,
    /// The level above sends it back (重新整改), with a reason.
    Reopen,
}

impl ProblemStatus {
    pub const ALL: [ProblemStatus; 5] = [
        ProblemStatus::Open,
        ProblemStatus::InProgress,
        ProblemStatus::Rectified,
        ProblemStatus::Verified,
        ProblemStatus::Reopened,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            ProblemStatus::Open => "open",
            ProblemStatus::InProgress => "in_progress",
            ProblemStatus::Rectified => "rectified",
            ProblemStatus::Verified => "verified",
            ProblemStatus::Reopened => "reopened",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|x| x.as_str() == s)
    }

    /// Not yet rectified: the deadline still binds it, and it can be overdue.
    pub fn is_unresolved(self) -> bool {
        matches!(
            self,
            ProblemStatus::Open | ProblemStatus::InProgress | ProblemStatus::Reopened
        )
    }

    /// The status a step leads to from this one, or why it cannot be taken now.
    pub fn after(self, step: ProblemStep) -> Result<ProblemStatus, Msg> {
        use ProblemStatus::*;
        let next = match (step, self) {
            (ProblemStep::Start, Open | Reopened) => InProgress,
            (ProblemStep::Rectify, Open | InProgress | Reopened) => Rectified,
            (ProblemStep::Verify, Rectified) => Verified,
            (ProblemStep::Reopen, Rectified) => Reopened,
            _ => {
                return Err(Msg::new("problem.error.order")
                    .arg("status", self.as_str())
                    .arg("step", step.as_str()));
            }
        };
        Ok(next)
    }
}

impl ProblemStep {
    pub const ALL: [ProblemStep; 4] = [
        ProblemStep::Start,
        ProblemStep::Rectify,
        ProblemStep::Verify,
        ProblemStep::Reopen,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            ProblemStep::Start => "start",
            ProblemStep::Rectify => "rectify",
            ProblemStep::Verify => "verify",
            ProblemStep::Reopen => "reopen",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|x| x.as_str() == s)
    }

    /// Only the level above the village checks its work: verifying and reopening.
    pub fn is_check(self) -> bool {
        matches!(self, ProblemStep::Verify | ProblemStep::Reopen)
    }

    /// Whether the step must say something (what was done; why it is sent back).
    pub fn needs_note(self) -> bool {
        matches!(self, ProblemStep::Rectify | ProblemStep::Reopen)
    }
}

/// Where a problem was found.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ProblemSource {
    /// 排摸: a township's survey of its villages.
    Survey,
    /// 走访: a leader's visit.
    Visit,
    /// 评定: a rating's review.
    Rating,
    /// 其他: reported otherwise (an inspection, a letter).
    Other,
    /// 巡查: found on a public-welfare post's patrol (党建+公益岗).
    Patrol,
}

impl ProblemSource {
    pub const ALL: [ProblemSource; 5] = [
        ProblemSource::Survey,
        ProblemSource::Visit,
        ProblemSource::Rating,
        ProblemSource::Other,
        ProblemSource::Patrol,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            ProblemSource::Survey => "survey",
            ProblemSource::Visit => "visit",
            ProblemSource::Rating => "rating",
            ProblemSource::Other => "other",
            ProblemSource::Patrol => "patrol",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|x| x.as_str() == s)
    }
}

/// The kind of a leader's visit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum VisitKind {
    /// 调研
    Research,
    /// 座谈
    Forum,
    /// 整镇调研: a whole township's villages in one campaign.
    TownshipResearch,
    /// 督查: checking that what was agreed is done.
    Inspection,
}

impl VisitKind {
    pub const ALL: [VisitKind; 4] = [
        VisitKind::Research,
        VisitKind::Forum,
        VisitKind::TownshipResearch,
        VisitKind::Inspection,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            VisitKind::Research => "research",
            VisitKind::Forum => "forum",
            VisitKind::TownshipResearch => "township_research",
            VisitKind::Inspection => "inspection",
        }
    }

    /// A kind as an official's ledger writes it (调研, 座谈, 整镇调研, 督查), or by its code.
    pub fn from_word(s: &str) -> Option<Self> {
        match s.trim() {
            "调研" | "走访调研" | "走访" => Some(VisitKind::Research),
            "座谈" | "座谈会" => Some(VisitKind::Forum),
            "整镇调研" | "整乡调研" | "整镇推进调研" => {
                Some(VisitKind::TownshipResearch)
            }
            "督查" | "督导" | "督查检查" => Some(VisitKind::Inspection),
            other => Self::parse(other),
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|x| x.as_str() == s)
    }
}

/// Days from `deadline` to `today` (both `YYYY-MM-DD`): how late a problem is when positive.
pub fn days_late(deadline: &str, today: &str) -> Option<i64> {
    let d = chrono::NaiveDate::parse_from_str(deadline, "%Y-%m-%d").ok()?;
    let t = chrono::NaiveDate::parse_from_str(today, "%Y-%m-%d").ok()?;
    Some((t - d).num_days())
}

/// Where a pledge (承诺) stands against its dates: every place visited, ahead of or on the even
/// pace from its first day to its due day, behind it (by how many places), or past due unmet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PledgePace {
    Done,
    OnTrack,
    Behind(i64),
    Missed(i64),
}

impl PledgePace {
    /// `visited` of `target` places on `today`, for a pledge from `since` to `due` (all
    /// `YYYY-MM-DD`). The even pace owes `target × days gone / days in all` places, rounded
    /// down: a leader is behind only when a whole place is missing from it.
    pub fn of(since: &str, due: &str, today: &str, target: i64, visited: i64) -> Option<Self> {
        if visited >= target {
            return Some(PledgePace::Done);
        }
        let short = target - visited;
        let all = days_late(since, due)?;
        let gone = days_late(since, today)?;
        if gone > all {
            return Some(PledgePace::Missed(short));
        }
        let owed = if all <= 0 {
            target
        } else {
            target * gone.clamp(0, all) / all
        };
        Some(if visited >= owed {
            PledgePace::OnTrack
        } else {
            PledgePace::Behind(owed - visited)
        })
    }

    /// How much a pledge needs a leader's attention, for ordering: past due before behind,
    /// before on track, before done; within one, the more places short the sooner.
    pub fn urgency(self) -> (u8, i64) {
        match self {
            PledgePace::Missed(n) => (3, n),
            PledgePace::Behind(n) => (2, n),
            PledgePace::OnTrack => (1, 0),
            PledgePace::Done => (0, 0),
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            PledgePace::Done => "done",
            PledgePace::OnTrack => "on_track",
            PledgePace::Behind(_) => "behind",
            PledgePace::Missed(_) => "missed",
        }
    }
}

/// The age bands of a situation file's membership (党员年龄结构), youngest first; the last two
/// are the members over 60 the file is read for.
pub const AGE_BANDS: [&str; 5] = ["to_35", "36_45", "46_60", "61_70", "over_70"];

/// Whole years of age on `on` of someone born on `birth` (both `YYYY-MM-DD`).
pub fn age_on(birth: &str, on: &str) -> Option<i64> {
    let b = chrono::NaiveDate::parse_from_str(birth, "%Y-%m-%d").ok()?;
    let d = chrono::NaiveDate::parse_from_str(on, "%Y-%m-%d").ok()?;
    d.years_since(b).map(i64::from)
}

/// Members counted by age band ([`AGE_BANDS`]), always from the roster.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct AgeBands {
    pub counts: [i64; 5],
}

impl AgeBands {
    pub fn add(&mut self, age: i64) {
        let band = match age {
            ..=35 => 0,
            36..=45 => 1,
            46..=60 => 2,
            61..=70 => 3,
            _ => 4,
        };
        self.counts[band] += 1;
    }

    pub fn total(&self) -> i64 {
        self.counts.iter().sum()
    }

    pub fn over_60(&self) -> i64 {
        self.counts[3] + self.counts[4]
    }

    /// The share over 60 in tenths of a percent, rounded; none without members.
    pub fn over_60_permille(&self) -> Option<i64> {
        let total = self.total();
        (total > 0).then(|| (self.over_60() * 1000 + total / 2) / total)
    }

    /// The share over 60 as written in a file, "41.2%".
    pub fn over_60_share(&self) -> String {
        self.over_60_permille()
            .map(|p| format!("{}.{}%", p / 10, p % 10))
            .unwrap_or_else(|| "—".into())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_problem_goes_from_found_to_verified_and_no_step_is_skipped() {
        use ProblemStatus::*;
        use ProblemStep::*;
        assert_eq!(Open.after(Start), Ok(InProgress));
        assert_eq!(InProgress.after(Rectify), Ok(Rectified));
        assert_eq!(Rectified.after(Verify), Ok(Verified));
        assert_eq!(Rectified.after(Reopen), Ok(Reopened));
        assert_eq!(Reopened.after(Rectify), Ok(Rectified));
        for (from, step) in [
            (Open, Verify),
            (InProgress, Verify),
            (Open, Reopen),
            (Verified, Reopen),
            (Verified, Rectify),
            (InProgress, Start),
            (Rectified, Start),
        ] {
            let e = from.after(step).expect_err("refused");
            assert_eq!(e.key, "problem.error.order", "{from:?} {step:?}");
        }
        assert!(Verify.is_check() && Reopen.is_check() && !Rectify.is_check());
    }

    #[test]
    fn ages_fall_in_their_bands_and_the_share_over_60_rounds() {
        assert_eq!(age_on("1955-12-31", "2016-12-31"), Some(61));
        assert_eq!(age_on("1956-01-01", "2016-12-31"), Some(60));
        assert_eq!(age_on("1980-02-29", "2016-02-28"), Some(35));
        assert_eq!(age_on("2020-01-01", "2016-12-31"), None);
        assert_eq!(age_on("not a date", "2016-12-31"), None);
        let mut bands = AgeBands::default();
        for age in [35, 36, 45, 46, 60, 61, 70, 71, 90] {
            bands.add(age);
        }
        assert_eq!(bands.counts, [1, 2, 2, 2, 2]);
        assert_eq!((bands.total(), bands.over_60()), (9, 4));
        assert_eq!(bands.over_60_permille(), Some(444));
        assert_eq!(bands.over_60_share(), "44.4%");
        assert_eq!(AgeBands::default().over_60_share(), "—");
    }

    #[test]
    fn codes_round_trip() {
        for s in ProblemStatus::ALL {
            assert_eq!(ProblemStatus::parse(s.as_str()), Some(s));
        }
        for s in ProblemSource::ALL {
            assert_eq!(ProblemSource::parse(s.as_str()), Some(s));
        }
        for k in VisitKind::ALL {
            assert_eq!(VisitKind::parse(k.as_str()), Some(k));
        }
        assert_eq!(ProblemStatus::parse("closed"), None);
    }

    #[test]
    fn lateness_counts_days_past_the_deadline() {
        assert_eq!(days_late("2016-02-28", "2016-03-01"), Some(2));
        assert_eq!(days_late("2016-03-01", "2016-03-01"), Some(0));
        assert_eq!(days_late("2016-13-01", "2016-03-01"), None);
    }

    #[test]
    fn a_pledge_is_on_the_even_pace_or_behind_it() {
        let pace = |today, visited| PledgePace::of("2016-01-01", "2016-12-31", today, 120, visited);
        assert_eq!(pace("2016-03-01", 120), Some(PledgePace::Done));
        // 60 of 365 days gone: 19 of 120 places owed.
        assert_eq!(pace("2016-03-01", 19), Some(PledgePace::OnTrack));
        assert_eq!(pace("2016-03-01", 15), Some(PledgePace::Behind(4)));
        assert_eq!(
            pace("2015-12-01", 0),
            Some(PledgePace::OnTrack),
            "not begun"
        );
        assert_eq!(pace("2016-12-31", 119), Some(PledgePace::Behind(1)));
        assert_eq!(pace("2017-01-01", 100), Some(PledgePace::Missed(20)));
        assert_eq!(pace("someday", 0), None);
        assert_eq!(
            PledgePace::of("2016-01-01", "2016-01-01", "2016-01-01", 3, 1),
            Some(PledgePace::Behind(2)),
            "a one-day pledge owes everything that day"
        );
    }

    #[test]
    fn the_pledges_furthest_behind_come_first() {
        let mut paces = vec![
            PledgePace::Done,
            PledgePace::Behind(2),
            PledgePace::Missed(1),
            PledgePace::OnTrack,
            PledgePace::Behind(7),
        ];
        paces.sort_by_key(|p| std::cmp::Reverse(p.urgency()));
        assert_eq!(
            paces,
            [
                PledgePace::Missed(1),
                PledgePace::Behind(7),
                PledgePace::Behind(2),
                PledgePace::OnTrack,
                PledgePace::Done
            ]
        );
    }
}
