//! The organization tree (组织架构): levels, codes and the invariants between a node and its parent.
//!
//! Area nodes are identified by the statistical division code (统计用区划代码): 6 digits for the
//! city (ending `00`) and its counties, 9 for a township, 12 for a village. Organizations that are
//! not areas (enterprises, institutions) hang under the area they sit in and take the area's code
//! with a `-NNN` suffix, so every code still says where it sits.

use std::fmt;

use serde::Serialize;

use crate::Msg;

/// A level of the tree. `Enterprise` and `Institution` are non-area organizations (e.g. a group
/// company's Party committee) that host activity days.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Level {
    /// 市
    City,
    /// 县(区)
    County,
    /// 乡镇(街道)
    Township,
    /// 行政村
    Village,
    /// 非公企业
    Enterprise,
    /// 机关事业单位
    Institution,
}

impl Level {
    pub const ALL: [Level; 6] = [
        Level::City,
        Level::County,
        Level::Township,
        Level::Village,
        Level::Enterprise,
        Level::Institution,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Level::City => "city",
            Level::County => "county",
            Level::Township => "township",
            Level::Village => "village",
            Level::Enterprise => "enterprise",
            Level::Institution => "institution",
        }
    }

    /// The Chinese term, as written in spreadsheets.
    pub fn zh(self) -> &'static str {
        match self {
            Level::City => "市",
            Level::County => "县(区)",
            Level::Township => "乡镇(街道)",
            Level::Village => "村",
            Level::Enterprise => "企业",
            Level::Institution => "机关事业单位",
        }
    }

    /// Accepts the identifier or a Chinese term (`县`, `区`, `县(区)`, `乡镇`, `街道`, `行政村`…).
    pub fn parse(s: &str) -> Result<Self, OrgError> {
        let s = s.trim();
        let level = match s {
            "市" => Some(Level::City),
            "县" | "区" | "县(区)" | "县（区）" => Some(Level::County),
            "乡" | "镇" | "乡镇" | "街道" | "乡镇(街道)" | "乡镇（街道）" => {
                Some(Level::Township)
            }
            "村" | "行政村" => Some(Level::Village),
            "企业" | "非公企业" => Some(Level::Enterprise),
            "事业单位" | "机关事业单位" | "机关" => Some(Level::Institution),
            _ => Level::ALL.into_iter().find(|l| l.as_str() == s),
        };
        level.ok_or_else(|| OrgError::BadLevel(s.chars().take(20).collect()))
    }

    pub fn is_area(self) -> bool {
        matches!(
            self,
            Level::City | Level::County | Level::Township | Level::Village
        )
    }

    /// Whether a node of this level may sit directly under a node of `parent` level.
    pub fn may_sit_under(self, parent: Level) -> bool {
        match self {
            Level::City => false,
            Level::County => parent == Level::City,
            Level::Township => parent == Level::County,
            Level::Village => parent == Level::Township,
            Level::Enterprise | Level::Institution => {
                matches!(parent, Level::County | Level::Township | Level::Village)
            }
        }
    }

    /// The level a child of this level normally has (the first choice in a form).
    pub fn child_area(self) -> Option<Level> {
        match self {
            Level::City => Some(Level::County),
            Level::County => Some(Level::Township),
            Level::Township => Some(Level::Village),
            _ => None,
        }
    }
}

impl fmt::Display for Level {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The code that identifies a node of the tree. Parsed once; always one of the shapes below.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(transparent)]
pub struct OrgCode(String);

impl OrgCode {
    /// Parses the text of a code and tells which level its shape implies. A 6-digit code ending in
    /// `00` is a city, other 6-digit codes counties; non-area codes (`…-NNN`) fit either non-area level.
    pub fn parse(s: &str) -> Result<Self, OrgError> {
        let s = s.trim();
        let bad = || OrgError::BadCode(s.chars().take(40).collect());
        let (area, suffix) = match s.split_once('-') {
            Some((a, n)) => (a, Some(n)),
            None => (s, None),
        };
        if !area.bytes().all(|b| b.is_ascii_digit()) || ![6, 9, 12].contains(&area.len()) {
            return Err(bad());
        }
        if area.starts_with('0') {
            return Err(bad());
        }
        if let Some(n) = suffix
            && (n.len() != 3 || !n.bytes().all(|b| b.is_ascii_digit()))
        {
            return Err(bad());
        }
        Ok(OrgCode(s.to_string()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The level the code's shape implies, for area codes; `None` for non-area codes.
    pub fn area_level(&self) -> Option<Level> {
        if self.0.contains('-') {
            return None;
        }
        Some(match self.0.len() {
            6 if self.0.ends_with("00") => Level::City,
            6 => Level::County,
            9 => Level::Township,
            _ => Level::Village,
        })
    }

    /// Checks that a node with this code may be created at `level` under `parent`.
    pub fn check_fits(
        &self,
        level: Level,
        parent: &OrgCode,
        parent_level: Level,
    ) -> Result<(), OrgError> {
        if !level.may_sit_under(parent_level) {
            return Err(OrgError::WrongParentLevel {
                level,
                parent_level,
            });
        }
        match self.area_level() {
            Some(shape) if shape != level => {
                return Err(OrgError::CodeLevelMismatch {
                    code: self.0.clone(),
                    level,
                });
            }
            None if level.is_area() => {
                return Err(OrgError::CodeLevelMismatch {
                    code: self.0.clone(),
                    level,
                });
            }
            _ => {}
        }
        let prefix_ok = match level {
            // A county shares its city's first four digits (330500 → 3305xx).
            Level::County => self.0[..4] == parent.0[..4],
            Level::Township | Level::Village => self.0.starts_with(&parent.0),
            Level::Enterprise | Level::Institution => self
                .0
                .strip_prefix(&parent.0)
                .is_some_and(|rest| rest.starts_with('-')),
            Level::City => false,
        };
        if !prefix_ok {
            return Err(OrgError::CodeOutsideParent {
                code: self.0.clone(),
                parent: parent.0.clone(),
            });
        }
        Ok(())
    }
}

impl fmt::Display for OrgCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// The kind of a node's Party organization (党组织).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum PartyOrgKind {
    /// 党委
    Committee,
    /// 党总支
    GeneralBranch,
    /// 党支部
    Branch,
}

impl PartyOrgKind {
    pub const ALL: [PartyOrgKind; 3] = [
        PartyOrgKind::Committee,
        PartyOrgKind::GeneralBranch,
        PartyOrgKind::Branch,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            PartyOrgKind::Committee => "committee",
            PartyOrgKind::GeneralBranch => "general_branch",
            PartyOrgKind::Branch => "branch",
        }
    }

    /// The Chinese term, used as the cell value in spreadsheets officials fill in.
    pub fn zh(self) -> &'static str {
        match self {
            PartyOrgKind::Committee => "党委",
            PartyOrgKind::GeneralBranch => "党总支",
            PartyOrgKind::Branch => "党支部",
        }
    }

    /// Accepts the identifier or the Chinese term.
    pub fn parse(s: &str) -> Result<Self, OrgError> {
        let s = s.trim();
        PartyOrgKind::ALL
            .into_iter()
            .find(|k| k.as_str() == s || k.zh() == s)
            .ok_or_else(|| OrgError::BadPartyOrgKind(s.chars().take(20).collect()))
    }

    /// The usual kind by Party membership size: a committee from 100 members, a general branch
    /// from 50, else a branch (党章: 50+ members may form a general branch, 100+ a committee).
    pub fn for_member_count(n: i64) -> Self {
        if n >= 100 {
            PartyOrgKind::Committee
        } else if n >= 50 {
            PartyOrgKind::GeneralBranch
        } else {
            PartyOrgKind::Branch
        }
    }
}

/// Longest name accepted for a node, a Party organization or a person.
pub const MAX_NAME_CHARS: usize = 60;

/// Checks a name (of a node, a Party organization or a person) and returns it trimmed.
/// Only characters a Chinese organization name uses are allowed, so markup and quoting never
/// reach a page or a spreadsheet formula.
pub fn parse_name(s: &str) -> Result<String, OrgError> {
    let t = s.trim();
    if t.is_empty() {
        return Err(OrgError::EmptyName);
    }
    if t.chars().count() > MAX_NAME_CHARS {
        return Err(OrgError::NameTooLong {
            max: MAX_NAME_CHARS,
        });
    }
    if let Some(c) = t.chars().find(|c| !name_char_allowed(*c)) {
        return Err(OrgError::NameBadChar(c));
    }
    Ok(t.to_string())
}

fn name_char_allowed(c: char) -> bool {
    c.is_alphanumeric()
        || matches!(
            c,
            ' ' | '(' | ')' | '（' | '）' | '·' | '-' | '—' | '、' | '.' | '_'
        )
}

/// Initials of the pinyin of a name, lower-case (龙山村 → `lsc`), for search by initials.
/// A character with several readings gives each distinct initial (长兴县 → `zxx cxx`), so a
/// search finds the place by the reading people use; at most 8 variants, space-separated.
/// ASCII letters and digits are kept as they are.
pub fn pinyin_initials(name: &str) -> String {
    use pinyin::ToPinyinMulti;
    let mut variants: Vec<String> = vec![String::new()];
    for c in name.chars() {
        let mut initials: Vec<char> = Vec::new();
        match c.to_pinyin_multi() {
            Some(multi) => {
                for p in multi {
                    if let Some(i) = p.first_letter().chars().next()
                        && !initials.contains(&i)
                    {
                        initials.push(i);
                    }
                }
            }
            None if c.is_ascii_alphanumeric() => initials.push(c.to_ascii_lowercase()),
            None => {}
        }
        if initials.is_empty() {
            continue;
        }
        let mut next = Vec::new();
        for v in &variants {
            for (k, i) in initials.iter().enumerate() {
                if k == 0 || variants.len() * initials.len() <= 8 {
                    next.push(format!("{v}{i}"));
                }
            }
        }
        variants = next;
    }
    variants.join(" ")
}

/// Checks a Party member count given for a node's Party organization.
pub fn parse_member_count(n: i64) -> Result<i64, OrgError> {
    if !(0..=1_000_000).contains(&n) {
        return Err(OrgError::BadMemberCount);
    }
    Ok(n)
}

/// Checks the reason given for a move or a retirement.
pub fn parse_reason(s: &str) -> Result<String, OrgError> {
    let t = s.trim();
    if t.chars().count() < 2 {
        return Err(OrgError::ReasonRequired);
    }
    if t.chars().count() > 500 {
        return Err(OrgError::ReasonTooLong { max: 500 });
    }
    if t.chars().any(|c| c.is_control() && c != '\n') || t.contains(['<', '>']) {
        return Err(OrgError::ReasonBadChar);
    }
    Ok(t.to_string())
}

/// The materialized path of a node: its ancestors' codes and its own, `/330500/330522/…/`.
/// A subtree is every path that starts with the root's path, so a scope filter is one range.
pub fn child_path(parent_path: &str, code: &OrgCode) -> String {
    format!("{parent_path}{}/", code.as_str())
}

/// The exclusive upper bound of the paths under `path`. `path` ends in `/` (0x2F), and `0` (0x30)
/// is the next byte, so the strings in `[path, bound)` are exactly those that start with `path`.
pub fn path_upper_bound(path: &str) -> String {
    let mut s = path.trim_end_matches('/').to_string();
    s.push('0');
    s
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum OrgError {
    #[error("bad code {0:?}")]
    BadCode(String),
    #[error("bad level {0:?}")]
    BadLevel(String),
    #[error("bad party organization kind {0:?}")]
    BadPartyOrgKind(String),
    #[error("a {level} may not sit under a {parent_level}")]
    WrongParentLevel { level: Level, parent_level: Level },
    #[error("code {code} does not have the shape of a {level}")]
    CodeLevelMismatch { code: String, level: Level },
    #[error("code {code} does not lie under {parent}")]
    CodeOutsideParent { code: String, parent: String },
    #[error("name is empty")]
    EmptyName,
    #[error("name longer than {max}")]
    NameTooLong { max: usize },
    #[error("name has character {0:?}")]
    NameBadChar(char),
    #[error("member count out of range")]
    BadMemberCount,
    #[error("reason required")]
    ReasonRequired,
    #[error("reason longer than {max}")]
    ReasonTooLong { max: usize },
    #[error("reason has markup or control characters")]
    ReasonBadChar,
}

impl OrgError {
    pub fn msg(&self) -> Msg {
        match self {
            OrgError::BadCode(c) => Msg::new("org.error.bad_code").arg("code", c),
            OrgError::BadLevel(l) => Msg::new("org.error.bad_level").arg("level", l),
            OrgError::BadPartyOrgKind(k) => Msg::new("org.error.bad_party_org_kind").arg("kind", k),
            OrgError::WrongParentLevel {
                level,
                parent_level,
            } => Msg::new("org.error.wrong_parent_level")
                .arg("level", level)
                .arg("parent_level", parent_level),
            OrgError::CodeLevelMismatch { code, level } => {
                Msg::new("org.error.code_level_mismatch")
                    .arg("code", code)
                    .arg("level", level)
            }
            OrgError::CodeOutsideParent { code, parent } => {
                Msg::new("org.error.code_outside_parent")
                    .arg("code", code)
                    .arg("parent", parent)
            }
            OrgError::EmptyName => Msg::new("org.error.empty_name"),
            OrgError::NameTooLong { max } => Msg::new("org.error.name_too_long").arg("max", max),
            OrgError::NameBadChar(c) => Msg::new("org.error.name_bad_char").arg("char", c),
            OrgError::BadMemberCount => Msg::new("org.error.bad_member_count"),
            OrgError::ReasonRequired => Msg::new("org.error.reason_required"),
            OrgError::ReasonTooLong { max } => {
                Msg::new("org.error.reason_too_long").arg("max", max)
            }
            OrgError::ReasonBadChar => Msg::new("org.error.reason_bad_char"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn code(s: &str) -> OrgCode {
        match OrgCode::parse(s) {
            Ok(c) => c,
            Err(e) => panic!("{s}: {e}"),
        }
    }

    #[test]
    fn code_shapes() {
        assert_eq!(code("330500").area_level(), Some(Level::City));
        assert_eq!(code("330522").area_level(), Some(Level::County));
        assert_eq!(code("330522108").area_level(), Some(Level::Township));
        assert_eq!(code("330522108201").area_level(), Some(Level::Village));
        assert_eq!(code("330522108-001").area_level(), None);
        for bad in [
            "",
            "33052",
            "3305221",
            "33052210820",
            "abc500",
            "330522108-01",
            "330500'--",
            "033050",
        ] {
            assert!(OrgCode::parse(bad).is_err(), "{bad} accepted");
        }
    }

    #[test]
    fn codes_must_lie_under_their_parent() {
        let city = code("330500");
        let county = code("330522");
        let town = code("330522108");
        assert!(county.check_fits(Level::County, &city, Level::City).is_ok());
        assert!(
            code("330622")
                .check_fits(Level::County, &city, Level::City)
                .is_err()
        );
        assert!(
            town.check_fits(Level::Township, &county, Level::County)
                .is_ok()
        );
        assert!(
            code("330523108")
                .check_fits(Level::Township, &county, Level::County)
                .is_err()
        );
        assert!(
            code("330522108201")
                .check_fits(Level::Village, &town, Level::Township)
                .is_ok()
        );
        assert!(
            code("330522108201")
                .check_fits(Level::Village, &county, Level::County)
                .is_err()
        );
        assert!(
            code("330522108-001")
                .check_fits(Level::Enterprise, &town, Level::Township)
                .is_ok()
        );
        assert!(
            code("330522108-001")
                .check_fits(Level::Village, &town, Level::Township)
                .is_err()
        );
        assert!(
            code("330522108201")
                .check_fits(Level::Township, &county, Level::County)
                .is_err()
        );
    }

    #[test]
    fn names_reject_markup_and_overlength() {
        assert_eq!(parse_name("  龙山村 "), Ok("龙山村".into()));
        assert_eq!(
            parse_name("天能集团（长兴）党委"),
            Ok("天能集团（长兴）党委".into())
        );
        assert!(matches!(
            parse_name("<script>"),
            Err(OrgError::NameBadChar('<'))
        ));
        assert!(matches!(
            parse_name("x'; DROP TABLE orgs;--"),
            Err(OrgError::NameBadChar('\''))
        ));
        assert!(matches!(
            parse_name(&"村".repeat(61)),
            Err(OrgError::NameTooLong { .. })
        ));
        assert!(matches!(parse_name("   "), Err(OrgError::EmptyName)));
    }

    #[test]
    fn initials() {
        assert_eq!(pinyin_initials("龙山村"), "lsc");
        assert!(pinyin_initials("长兴县").split(' ').any(|v| v == "cxx"));
        assert_eq!(pinyin_initials("A1村"), "a1c");
    }

    #[test]
    fn path_bounds_cover_exactly_the_subtree() {
        let p = "/330500/330522/";
        let up = path_upper_bound(p);
        let inside = "/330500/330522/330522108/";
        let sibling = "/330500/330523/";
        let longer_sibling = "/330500/3305221/";
        assert!(inside >= p && inside < up.as_str());
        assert!(!(sibling >= p && sibling < up.as_str()));
        assert!(!(longer_sibling >= p && longer_sibling < up.as_str()));
    }

    #[test]
    fn party_org_kind_by_size() {
        assert_eq!(PartyOrgKind::for_member_count(36), PartyOrgKind::Branch);
        assert_eq!(
            PartyOrgKind::for_member_count(60),
            PartyOrgKind::GeneralBranch
        );
        assert_eq!(
            PartyOrgKind::parse("党总支"),
            Ok(PartyOrgKind::GeneralBranch)
        );
    }
}
