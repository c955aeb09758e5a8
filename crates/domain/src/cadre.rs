//! The people the campaign puts where the weak villages are (选优配强): village secretaries
//! (村党组织书记) with where they came from and a yearly fitness assessment (年度考核), the
//! adjustment of one found unfit (不胜任调整) with its reason and successor, and first secretaries
//! (第一书记) sent from a city or county body to a village, stationed there (驻村) or not, who
//! report each quarter.

use serde::Serialize;

/// Where a secretary came from (来源).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum SecretaryOrigin {
    /// Grown in the village (本村培养).
    Local,
    /// A capable person called back home (能人回归), like 向阳村's 杨祥春 from his company.
    Returned,
    /// A graduate village official (大学生村官).
    Graduate,
    /// Appointed from outside the village (选派).
    Appointed,
    Other,
}

impl SecretaryOrigin {
    pub const ALL: [SecretaryOrigin; 5] = [
        SecretaryOrigin::Local,
        SecretaryOrigin::Returned,
        SecretaryOrigin::Graduate,
        SecretaryOrigin::Appointed,
        SecretaryOrigin::Other,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            SecretaryOrigin::Local => "local",
            SecretaryOrigin::Returned => "returned",
            SecretaryOrigin::Graduate => "graduate",
            SecretaryOrigin::Appointed => "appointed",
            SecretaryOrigin::Other => "other",
        }
    }

    /// The code, or the Chinese word officials write in their rosters.
    pub fn parse(s: &str) -> Option<Self> {
        let s = s.trim();
        Self::ALL.into_iter().find(|o| o.as_str() == s).or(match s {
            "本村培养" | "本村" => Some(SecretaryOrigin::Local),
            "能人回归" | "回归" | "回乡创业" | "返乡" => {
                Some(SecretaryOrigin::Returned)
            }
            "大学生村官" => Some(SecretaryOrigin::Graduate),
            "选派" | "下派" => Some(SecretaryOrigin::Appointed),
            "其他" => Some(SecretaryOrigin::Other),
            _ => None,
        })
    }
}

/// A secretary's yearly fitness assessment (年度考核等次).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Fitness {
    /// 优秀
    Excellent,
    /// 称职
    Competent,
    /// 基本称职
    Basic,
    /// 不称职: the grade that calls for an adjustment.
    Unfit,
}

impl Fitness {
    pub const ALL: [Fitness; 4] = [
        Fitness::Excellent,
        Fitness::Competent,
        Fitness::Basic,
        Fitness::Unfit,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Fitness::Excellent => "excellent",
            Fitness::Competent => "competent",
            Fitness::Basic => "basic",
            Fitness::Unfit => "unfit",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        let s = s.trim();
        Self::ALL.into_iter().find(|f| f.as_str() == s).or(match s {
            "优秀" => Some(Fitness::Excellent),
            "称职" => Some(Fitness::Competent),
            "基本称职" => Some(Fitness::Basic),
            "不称职" => Some(Fitness::Unfit),
            _ => None,
        })
    }
}

/// How a secretary's term ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum TermEnd {
    /// Adjusted as unfit (不胜任调整): needs a reason, counted among the adjustments.
    Adjusted,
    /// The term ran out or the secretary left (换届、离任).
    Left,
}

impl TermEnd {
    pub fn as_str(self) -> &'static str {
        match self {
            TermEnd::Adjusted => "adjusted",
            TermEnd::Left => "left",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s.trim() {
            "adjusted" => Some(TermEnd::Adjusted),
            "left" => Some(TermEnd::Left),
            _ => None,
        }
    }
}

/// The level of the body that sends a first secretary (派出单位): the city's or a county's.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum SentFrom {
    City,
    County,
}

impl SentFrom {
    pub fn as_str(self) -> &'static str {
        match self {
            SentFrom::City => "city",
            SentFrom::County => "county",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s.trim() {
            "city" | "市级" | "市" | "市派" | "市直" => Some(SentFrom::City),
            "county" | "县级" | "县" | "区级" | "县区" | "县派" | "区派" | "县（区）派" => {
                Some(SentFrom::County)
            }
            _ => None,
        }
    }
}

/// The quarter a day falls in, as `YYYY-Qn` (first secretaries report once a quarter).
pub fn quarter_of(day: &str) -> Option<String> {
    let year: i64 = day.get(0..4)?.parse().ok()?;
    let month: u32 = day.get(5..7)?.parse().ok()?;
    if !(1..=12).contains(&month) {
        return None;
    }
    Some(format!("{year}-Q{}", (month - 1) / 3 + 1))
}

/// The quarter before `quarter` (`2017-Q1` → `2016-Q4`).
pub fn previous_quarter(quarter: &str) -> Option<String> {
    let (year, q) = parse_quarter(quarter)?;
    Some(if q == 1 {
        format!("{}-Q4", year - 1)
    } else {
        format!("{year}-Q{}", q - 1)
    })
}

/// `YYYY-Qn` → (year, n), or None.
pub fn parse_quarter(s: &str) -> Option<(i64, u32)> {
    let (y, q) = s.trim().split_once("-Q")?;
    let year: i64 = y.parse().ok()?;
    let q: u32 = q.parse().ok()?;
    ((2000..=2100).contains(&year) && (1..=4).contains(&q)).then_some((year, q))
}

/// The first day of a quarter (`2016-Q3` → `2016-07-01`).
pub fn quarter_start(s: &str) -> Option<String> {
    let (year, q) = parse_quarter(s)?;
    Some(format!("{year}-{:02}-01", (q - 1) * 3 + 1))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn officials_words_parse() {
        assert_eq!(
            SecretaryOrigin::parse("能人回归"),
            Some(SecretaryOrigin::Returned)
        );
        assert_eq!(
            SecretaryOrigin::parse("local"),
            Some(SecretaryOrigin::Local)
        );
        assert_eq!(SecretaryOrigin::parse("火星"), None);
        assert_eq!(Fitness::parse("不称职"), Some(Fitness::Unfit));
        assert_eq!(Fitness::parse("basic"), Some(Fitness::Basic));
        assert_eq!(Fitness::parse("一般"), None);
        assert_eq!(SentFrom::parse("县级"), Some(SentFrom::County));
        assert_eq!(SentFrom::parse("市派"), Some(SentFrom::City));
        assert_eq!(TermEnd::parse("fired"), None);
    }

    #[test]
    fn quarters_roll_over_the_year() {
        assert_eq!(quarter_of("2016-11-30").as_deref(), Some("2016-Q4"));
        assert_eq!(quarter_of("2016-01-01").as_deref(), Some("2016-Q1"));
        assert_eq!(quarter_of("2016-13-01"), None);
        assert_eq!(previous_quarter("2017-Q1").as_deref(), Some("2016-Q4"));
        assert_eq!(previous_quarter("2017-Q3").as_deref(), Some("2017-Q2"));
        assert_eq!(parse_quarter("2017-Q5"), None);
        assert_eq!(parse_quarter("Q1"), None);
        assert_eq!(quarter_start("2016-Q3").as_deref(), Some("2016-07-01"));
    }
}
