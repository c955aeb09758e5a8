//! China time (北京时间, UTC+8): the one place Unix-ms instants become the dates, months and
//! clock times officials read and type, and back. The platform keeps instants in UTC.

use chrono::{DateTime, FixedOffset, NaiveDate, NaiveDateTime, TimeZone};

const CHINA_OFFSET_SECS: i32 = 8 * 3600;

fn china() -> Option<FixedOffset> {
    FixedOffset::east_opt(CHINA_OFFSET_SECS)
}

fn at(ms: i64) -> Option<DateTime<FixedOffset>> {
    china()?.timestamp_millis_opt(ms).single()
}

/// An instant in China time, formatted with a chrono pattern; `None` out of range.
pub fn format(ms: i64, pattern: &str) -> Option<String> {
    at(ms).map(|t| t.format(pattern).to_string())
}

/// The China date (`YYYY-MM-DD`) of an instant; empty out of range.
pub fn china_date(ms: i64) -> String {
    format(ms, "%Y-%m-%d").unwrap_or_default()
}

/// The month (`YYYY-MM`) of an instant in China; empty out of range.
pub fn month_of(ms: i64) -> String {
    format(ms, "%Y-%m").unwrap_or_default()
}

/// `YYYY-MM-DD` and `HH:MM` read as China time, as an instant.
pub fn china_ms(date: &str, time: &str) -> Option<i64> {
    let t = NaiveDateTime::parse_from_str(
        &format!("{} {}", date.trim(), time.trim()),
        "%Y-%m-%d %H:%M",
    )
    .ok()?;
    china()?
        .from_local_datetime(&t)
        .single()
        .map(|t| t.timestamp_millis())
}

/// Midnight at the start of a China `YYYY-MM-DD` day, as an instant.
pub fn day_start_ms(date: &str) -> Option<i64> {
    let d = NaiveDate::parse_from_str(date.trim(), "%Y-%m-%d").ok()?;
    china()?
        .from_local_datetime(&d.and_hms_opt(0, 0, 0)?)
        .single()
        .map(|t| t.timestamp_millis())
}

/// A calendar month (`YYYY-MM`), as attendance and activity days are counted by. Parsed once,
/// where it arrives (a URL, a form); valid from 1900-01 to 2999-12.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize)]
#[serde(transparent)]
pub struct Month(String);

impl Month {
    pub fn parse(s: &str) -> Option<Month> {
        let s = s.trim();
        let (y, m) = s.split_once('-')?;
        let ok = y.len() == 4
            && m.len() == 2
            && y.parse::<u32>().is_ok_and(|y| (1900..=2999).contains(&y))
            && m.parse::<u32>().is_ok_and(|m| (1..=12).contains(&m));
        ok.then(|| Month(s.to_string()))
    }

    /// The China month of an instant.
    pub fn of_ms(ms: i64) -> Option<Month> {
        Month::parse(&month_of(ms))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The month after this one.
    pub fn next(&self) -> Month {
        let (y, m) = self.year_month();
        if m == 12 {
            Month(format!("{:04}-01", y + 1))
        } else {
            Month(format!("{y:04}-{:02}", m + 1))
        }
    }

    /// The month before this one.
    pub fn previous(&self) -> Month {
        let (y, m) = self.year_month();
        if m == 1 {
            Month(format!("{:04}-12", y - 1))
        } else {
            Month(format!("{y:04}-{:02}", m - 1))
        }
    }

    fn year_month(&self) -> (u32, u32) {
        // Valid by construction (`parse`), so the parts always read.
        let (y, m) = self.0.split_once('-').unwrap_or(("1900", "01"));
        (y.parse().unwrap_or(1900), m.parse().unwrap_or(1))
    }

    /// The instants the month spans in China time: its first millisecond and the next month's.
    pub fn span_ms(&self) -> Option<(i64, i64)> {
        let start = day_start_ms(&format!("{}-01", self.0))?;
        let end = day_start_ms(&format!("{}-01", self.next().0))?;
        Some((start, end))
    }
}

impl std::fmt::Display for Month {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_month_is_a_real_one() {
        assert_eq!(
            Month::parse("2016-05").map(|m| m.to_string()).as_deref(),
            Some("2016-05")
        );
        for bad in [
            "2016-13",
            "2016-00",
            "2016-5",
            "16-05",
            "2016/05",
            "",
            "2016-05-01",
        ] {
            assert_eq!(Month::parse(bad), None, "{bad}");
        }
        assert_eq!(
            Month::of_ms(1_456_763_400_000)
                .map(|m| m.to_string())
                .as_deref(),
            Some("2016-03")
        );
    }

    #[test]
    fn months_step_over_the_year_and_span_china_time() {
        let dec = Month::parse("2015-12").unwrap();
        assert_eq!(dec.next().as_str(), "2016-01");
        assert_eq!(dec.next().previous(), dec);
        assert_eq!(
            Month::parse("2016-03").unwrap().previous().as_str(),
            "2016-02"
        );
        let (start, end) = Month::parse("2016-02").unwrap().span_ms().unwrap();
        // 2016-02-01 00:00 China time is 2016-01-31 16:00 UTC; February 2016 has 29 days.
        assert_eq!(start, 1_454_256_000_000);
        assert_eq!(end - start, 29 * 86_400_000);
        assert_eq!(month_of(start), "2016-02");
        assert_eq!(month_of(end - 1), "2016-02");
        assert_eq!(month_of(end), "2016-03");
    }

    #[test]
    fn china_is_eight_hours_ahead() {
        // 2016-02-29T16:30Z is 1 March, 00:30 in China.
        let ms = 1_456_763_400_000;
        assert_eq!(china_date(ms), "2016-03-01");
        assert_eq!(month_of(ms), "2016-03");
        assert_eq!(china_ms("2016-03-01", "00:30"), Some(ms));
        assert_eq!(day_start_ms("2016-03-01"), Some(ms - 30 * 60_000));
        assert_eq!(format(ms, "%H:%M").as_deref(), Some("00:30"));
        assert_eq!(china_ms("2016-02-30", "00:30"), None);
    }
}
