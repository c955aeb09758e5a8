//! Party members (党员): the personal data that identifies them, checked once at the door.

use std::fmt;

use crate::Msg;

/// A resident identity card number (公民身份号码, GB 11643-1999): 6-digit region, 8-digit birth
/// date, 3-digit sequence (odd for men, even for women), and an ISO 7064 MOD 11-2 check character.
#[derive(Clone, PartialEq, Eq)]
pub struct IdNumber(String);

const WEIGHTS: [u32; 17] = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
const CHECK: [char; 11] = ['1', '0', 'X', '9', '8', '7', '6', '5', '4', '3', '2'];

impl IdNumber {
    pub fn parse(s: &str) -> Result<Self, MemberError> {
        let s = s.trim().to_ascii_uppercase();
        let chars: Vec<char> = s.chars().collect();
        if chars.len() != 18 || !chars[..17].iter().all(char::is_ascii_digit) {
            return Err(MemberError::IdShape);
        }
        let sum: u32 = chars[..17]
            .iter()
            .zip(WEIGHTS)
            .map(|(c, w)| c.to_digit(10).unwrap_or(0) * w)
            .sum();
        if CHECK[(sum % 11) as usize] != chars[17] {
            return Err(MemberError::IdCheckDigit);
        }
        let id = IdNumber(s);
        if id.birth_date().is_none() || id.0.starts_with('0') {
            return Err(MemberError::IdShape);
        }
        Ok(id)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The birth date it holds, `YYYY-MM-DD`, when it is a real date from 1900 on.
    pub fn birth_date(&self) -> Option<String> {
        let y: u32 = self.0[6..10].parse().ok()?;
        let m: u32 = self.0[10..12].parse().ok()?;
        let d: u32 = self.0[12..14].parse().ok()?;
        let date = format!("{y:04}-{m:02}-{d:02}");
        parse_date(&date).ok().filter(|_| y >= 1900)
    }

    pub fn gender(&self) -> Gender {
        if self.0.as_bytes()[16] % 2 == 1 {
            Gender::M
        } else {
            Gender::F
        }
    }

    /// `330522********123X`: region and last four, as shown to those who may not see it whole.
    pub fn masked(&self) -> String {
        format!("{}********{}", &self.0[..6], &self.0[14..])
    }
}

impl fmt::Debug for IdNumber {
    // Never print a whole ID number into logs.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "IdNumber({})", self.masked())
    }
}

/// A mainland mobile number: 11 digits starting with 1.
#[derive(Clone, PartialEq, Eq)]
pub struct Phone(String);

impl Phone {
    pub fn parse(s: &str) -> Result<Self, MemberError> {
        let digits: String = s.chars().filter(|c| !matches!(c, ' ' | '-')).collect();
        if digits.len() == 11
            && digits.starts_with('1')
            && digits.chars().all(|c| c.is_ascii_digit())
        {
            Ok(Phone(digits))
        } else {
            Err(MemberError::Phone)
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// `138****5678`.
    pub fn masked(&self) -> String {
        format!("{}****{}", &self.0[..3], &self.0[7..])
    }
}

impl fmt::Debug for Phone {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Phone({})", self.masked())
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Gender {
    F,
    M,
}

impl Gender {
    pub fn parse(s: &str) -> Result<Self, MemberError> {
        match s.trim() {
            "F" | "f" | "女" => Ok(Gender::F),
            "M" | "m" | "男" => Ok(Gender::M),
            _ => Err(MemberError::Gender),
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Gender::F => "F",
            Gender::M => "M",
        }
    }

    pub fn zh(self) -> &'static str {
        match self {
            Gender::F => "女",
            Gender::M => "男",
        }
    }
}

/// A calendar date written `YYYY-MM-DD` (also accepts `YYYY/M/D`), returned in the first form.
pub fn parse_date(s: &str) -> Result<String, MemberError> {
    let s = s.trim();
    let parts: Vec<&str> = s.split(['-', '/', '.']).collect();
    let [y, m, d] = parts.as_slice() else {
        return Err(MemberError::Date(s.chars().take(20).collect()));
    };
    let bad = || MemberError::Date(s.chars().take(20).collect());
    let (y, m, d): (i32, u32, u32) = (
        y.parse().map_err(|_| bad())?,
        m.parse().map_err(|_| bad())?,
        d.parse().map_err(|_| bad())?,
    );
    let date = chrono::NaiveDate::from_ymd_opt(y, m, d).ok_or_else(bad)?;
    if !(1900..=2100).contains(&y) {
        return Err(bad());
    }
    Ok(date.format("%Y-%m-%d").to_string())
}

/// A member's standing (党籍状态): on the roster, or off it since a dated, reasoned change.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MemberStatus {
    /// 在册: on the roster, checks in, counted.
    Active,
    /// 转出: the membership moved to an organization outside the platform.
    TransferredOut,
    /// 停止党籍: membership suspended.
    Suspended,
    /// 去世.
    Deceased,
}

impl MemberStatus {
    pub const ALL: [MemberStatus; 4] = [
        MemberStatus::Active,
        MemberStatus::TransferredOut,
        MemberStatus::Suspended,
        MemberStatus::Deceased,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            MemberStatus::Active => "active",
            MemberStatus::TransferredOut => "transferred_out",
            MemberStatus::Suspended => "suspended",
            MemberStatus::Deceased => "deceased",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|m| m.as_str() == s.trim())
    }

    /// The changes a record may record: off the roster from it, back onto it from a transfer
    /// out or a suspension, and a death from anywhere but death.
    pub fn may_become(self, to: MemberStatus) -> bool {
        use MemberStatus::*;
        matches!(
            (self, to),
            (Active, TransferredOut | Suspended | Deceased)
                | (TransferredOut | Suspended, Active | Deceased)
        )
    }
}

/// A date in a member's Party record (入党、转正日期), kept to the precision the register gives:
/// `YYYY-MM-DD`, or `YYYY-MM` where it names only the month ("1974年7月", "1974.07"). A day is
/// never invented for a month.
pub fn parse_record_date(s: &str) -> Result<String, MemberError> {
    let t = crate::sheet::fold(s).replace(' ', "");
    let bad = || MemberError::RecordDate(s.trim().chars().take(20).collect());
    // A form has no Excel serial days: four or five digits alone are a year or a typo.
    if t.len() < 6 && t.chars().all(|c| c.is_ascii_digit()) {
        return Err(bad());
    }
    crate::sheet::parse_loose_date(&t)
        .map(|d| d.text())
        .ok_or_else(bad)
}

/// Whether `earlier` comes before `later` where either may be kept only to the month: compared
/// to the precision both have, so "1998-05" is not before "1998-05-04".
pub fn strictly_before(earlier: &str, later: &str) -> bool {
    let cut = earlier.len().min(later.len());
    earlier.get(..cut) < later.get(..cut)
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MemberError {
    #[error("ID number must be 18 characters: 17 digits and a digit or X")]
    IdShape,
    #[error("ID number check digit is wrong")]
    IdCheckDigit,
    #[error("birth date differs from the ID number's")]
    BirthDateMismatch,
    #[error("gender differs from the ID number's")]
    GenderMismatch,
    #[error("not a mobile number")]
    Phone,
    #[error("gender must be F or M")]
    Gender,
    #[error("not a date: {0}")]
    Date(String),
    #[error("not a date to the day or month: {0}")]
    RecordDate(String),
    #[error("joined before the age of 18")]
    JoinedTooYoung,
    #[error("became a full member before joining")]
    ConfirmedBeforeJoined,
}

impl MemberError {
    pub fn msg(&self) -> Msg {
        match self {
            MemberError::IdShape => Msg::new("member.error.id_shape"),
            MemberError::IdCheckDigit => Msg::new("member.error.id_check"),
            MemberError::BirthDateMismatch => Msg::new("member.error.birth_mismatch"),
            MemberError::GenderMismatch => Msg::new("member.error.gender_mismatch"),
            MemberError::Phone => Msg::new("member.error.phone"),
            MemberError::Gender => Msg::new("member.error.gender"),
            MemberError::Date(d) => Msg::new("member.error.date").arg("date", d),
            MemberError::RecordDate(d) => Msg::new("member.error.record_date").arg("date", d),
            MemberError::JoinedTooYoung => Msg::new("member.error.joined_young"),
            MemberError::ConfirmedBeforeJoined => Msg::new("member.error.confirmed_before"),
        }
    }
}

/// Checks that the stated birth date and gender agree with the ID number, and that the member
/// joined the Party at 18 or older (党章 第一条).
pub fn check_consistent(
    id: &IdNumber,
    birth_date: &str,
    gender: Gender,
    joined: &str,
) -> Result<(), MemberError> {
    if id.birth_date().as_deref() != Some(birth_date) {
        return Err(MemberError::BirthDateMismatch);
    }
    if id.gender() != gender {
        return Err(MemberError::GenderMismatch);
    }
    let eighteen = format!(
        "{:04}{}",
        birth_date[..4].parse::<i32>().unwrap_or(0) + 18,
        &birth_date[4..]
    );
    if strictly_before(joined, &eighteen) {
        return Err(MemberError::JoinedTooYoung);
    }
    Ok(())
}

/// Builds a valid ID number from its first 17 digits (the demo and tests make them this way).
pub fn with_check_digit(first17: &str) -> Option<String> {
    if first17.len() != 17 || !first17.chars().all(|c| c.is_ascii_digit()) {
        return None;
    }
    let sum: u32 = first17
        .chars()
        .zip(WEIGHTS)
        .map(|(c, w)| c.to_digit(10).unwrap_or(0) * w)
        .sum();
    Some(format!("{first17}{}", CHECK[(sum % 11) as usize]))
}

/// The card number of a member: county code, member id, issue number.
pub fn card_no(home_org: &str, member_id: i64, issue: u32) -> String {
    format!(
        "{}{member_id:08}{issue:02}",
        &home_org[..6.min(home_org.len())]
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn check_digit() {
        // The standard's own example: 11010519491231002X.
        assert!(IdNumber::parse("11010519491231002X").is_ok());
        assert!(IdNumber::parse("11010519491231002x").is_ok());
        assert_eq!(
            IdNumber::parse("110105194912310021"),
            Err(MemberError::IdCheckDigit)
        );
        assert_eq!(
            IdNumber::parse("1101051949123100"),
            Err(MemberError::IdShape)
        );
        // A valid check digit on an impossible date is still refused.
        let bad_date = with_check_digit("33052219491331002").unwrap();
        assert_eq!(IdNumber::parse(&bad_date), Err(MemberError::IdShape));
        let id = IdNumber::parse("11010519491231002X").unwrap();
        assert_eq!(id.birth_date().as_deref(), Some("1949-12-31"));
        assert_eq!(id.gender(), Gender::F);
        assert_eq!(id.masked(), "110105********002X");
        assert!(!format!("{id:?}").contains("19491231"));
    }

    #[test]
    fn consistency() {
        let id = IdNumber::parse(&with_check_digit("33052219800101001").unwrap()).unwrap();
        assert_eq!(id.gender(), Gender::M);
        assert!(check_consistent(&id, "1980-01-01", Gender::M, "2005-07-01").is_ok());
        assert_eq!(
            check_consistent(&id, "1980-01-02", Gender::M, "2005-07-01"),
            Err(MemberError::BirthDateMismatch)
        );
        assert_eq!(
            check_consistent(&id, "1980-01-01", Gender::F, "2005-07-01"),
            Err(MemberError::GenderMismatch)
        );
        assert_eq!(
            check_consistent(&id, "1980-01-01", Gender::M, "1997-12-31"),
            Err(MemberError::JoinedTooYoung)
        );
    }

    #[test]
    fn phones_and_dates() {
        assert_eq!(
            Phone::parse("138 0572 1234").unwrap().masked(),
            "138****1234"
        );
        assert!(Phone::parse("0572-1234567").is_err());
        assert_eq!(parse_date("2016/3/1").unwrap(), "2016-03-01");
        assert!(parse_date("2016-02-30").is_err());
        assert!(parse_date("yesterday").is_err());
    }

    #[test]
    fn record_dates_keep_their_precision() {
        assert_eq!(parse_record_date("1974年7月").unwrap(), "1974-07");
        assert_eq!(parse_record_date("1974.07").unwrap(), "1974-07");
        assert_eq!(parse_record_date("１９７４／７").unwrap(), "1974-07");
        assert_eq!(parse_record_date("1974年7月1日").unwrap(), "1974-07-01");
        assert_eq!(parse_record_date("2005-07-01").unwrap(), "2005-07-01");
        assert!(
            parse_record_date("1974").is_err(),
            "a year alone is no date"
        );
        assert!(parse_record_date("1974-13").is_err());
        assert!(parse_record_date("").is_err());
        // Born 1980-01-01: joined in January 1998, at 18 as far as the month tells, is accepted;
        // December 1997 is refused.
        let id = IdNumber::parse(&with_check_digit("33052219800101001").unwrap()).unwrap();
        assert!(check_consistent(&id, "1980-01-01", Gender::M, "1998-01").is_ok());
        assert_eq!(
            check_consistent(&id, "1980-01-01", Gender::M, "1997-12"),
            Err(MemberError::JoinedTooYoung)
        );
        assert!(strictly_before("1974-06-30", "1974-07"));
        assert!(!strictly_before("1974-07", "1974-07-15"));
        assert!(!strictly_before("1975-07", "1974-07-15"));
    }

    #[test]
    fn standing_changes() {
        use MemberStatus::*;
        for s in MemberStatus::ALL {
            assert_eq!(MemberStatus::parse(s.as_str()), Some(s));
            assert!(!s.may_become(s), "{s:?} to itself is no change");
            assert!(!Deceased.may_become(s), "death is final");
        }
        assert!(Active.may_become(TransferredOut));
        assert!(Suspended.may_become(Active));
        assert!(!TransferredOut.may_become(Suspended));
        assert_eq!(MemberStatus::parse("dead"), None);
    }
}
