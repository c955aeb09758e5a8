//! Reading cells as officials type them (台账): full-width characters, spaced-out headers, dates in
//! a dozen forms, totals rows. Pure text rules; the web layer applies them to a sheet.

/// A cell as typed, read: full-width digits and Latin letters (`１２３`, `ＡＢ`) and the marks
/// that write dates and numbers (`．－／＋`) as ASCII, the ideographic space as a space, runs of
/// whitespace as one space, trimmed. Chinese punctuation (`：，（）；！？`) stays as typed: it is
/// part of the text an official wrote.
pub fn fold(s: &str) -> String {
    fold_with(
        s,
        |c| matches!(c, '０'..='９' | 'Ａ'..='Ｚ' | 'ａ'..='ｚ' | '．' | '－' | '／' | '＋'),
    )
}

/// Every full-width ASCII character folded (`（姓名）` reads `(姓名)`): for comparing headers.
fn fold_all(s: &str) -> String {
    fold_with(s, |_| true)
}

fn fold_with(s: &str, folds: impl Fn(char) -> bool) -> String {
    let mut out = String::with_capacity(s.len());
    let mut space = false;
    for c in s.chars() {
        let c = match c {
            '\u{3000}' => ' ',
            '\u{FF01}'..='\u{FF5E}' if folds(c) => char::from_u32(c as u32 - 0xFEE0).unwrap_or(c),
            c => c,
        };
        if c.is_whitespace() {
            space = true;
            continue;
        }
        if space && !out.is_empty() {
            out.push(' ');
        }
        space = false;
        out.push(c);
    }
    out
}

/// A header as compared: folded, without spaces and punctuation, lower case (`"姓　名"`,
/// `"姓名："`, `"(姓名)"` all read `姓名`).
pub fn header_key(s: &str) -> String {
    fold_all(s)
        .chars()
        .filter(|c| {
            !c.is_whitespace()
                && !c.is_ascii_punctuation()
                && !matches!(
                    c,
                    '：' | '（' | '）' | '、' | '·' | '＊' | '《' | '》' | '【' | '】'
                )
        })
        .flat_map(char::to_lowercase)
        .collect()
}

/// Whether a row is a totals line (合计 / 总计 / 小计), where the data ends.
pub fn is_total_row(cells: &[String]) -> bool {
    cells
        .iter()
        .find(|c| !c.trim().is_empty())
        .map(|c| header_key(c))
        .is_some_and(|k| k.starts_with("合计") || k.starts_with("总计") || k.starts_with("小计"))
}

/// A date as typed, to the day or only to the month.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LooseDate {
    pub year: i32,
    pub month: u32,
    pub day: Option<u32>,
}

impl LooseDate {
    /// `YYYY-MM-DD` when the day is known.
    pub fn full(&self) -> Option<String> {
        self.day
            .map(|d| format!("{:04}-{:02}-{d:02}", self.year, self.month))
    }

    /// `YYYY-MM-DD`, or `YYYY-MM` when only the month is known.
    pub fn text(&self) -> String {
        self.full().unwrap_or_else(|| self.month_text())
    }

    /// `YYYY-MM`.
    pub fn month_text(&self) -> String {
        format!("{:04}-{:02}", self.year, self.month)
    }
}

/// A date in the forms officials' sheets hold: `1970-01-05`, `1970/1/5`, `1970.1.5`, `1970.01`,
/// `1970年1月`, `1970年1月5日`, `19700105`, `197001`, or an Excel serial day number (`25573`).
/// Years 1900–2100; `None` when it is none of these or no real date.
pub fn parse_loose_date(s: &str) -> Option<LooseDate> {
    let t = fold(s).replace(' ', "");
    if t.is_empty() {
        return None;
    }
    let (y, m, d): (i32, u32, Option<u32>) = if t.chars().all(|c| c.is_ascii_digit()) {
        match t.len() {
            8 => (
                t[..4].parse().ok()?,
                t[4..6].parse().ok()?,
                Some(t[6..].parse().ok()?),
            ),
            6 => (t[..4].parse().ok()?, t[4..].parse().ok()?, None),
            // An Excel serial day (1 = 1900-01-01, with Excel's phantom 1900-02-29).
            4 | 5 => {
                let n: i64 = t.parse().ok()?;
                let base = chrono::NaiveDate::from_ymd_opt(1899, 12, 30)?;
                let date = base.checked_add_signed(chrono::Duration::days(n))?;
                return check(
                    date.format("%Y").to_string().parse().ok()?,
                    date.format("%m").to_string().parse().ok()?,
                    Some(date.format("%d").to_string().parse().ok()?),
                );
            }
            _ => return None,
        }
    } else {
        let unified: String = t.replace('日', "").replace(['年', '月', '/', '.'], "-");
        let parts: Vec<&str> = unified.trim_end_matches('-').split('-').collect();
        match parts.as_slice() {
            [y, m] => (y.parse().ok()?, m.parse().ok()?, None),
            [y, m, d] => (y.parse().ok()?, m.parse().ok()?, Some(d.parse().ok()?)),
            _ => return None,
        }
    };
    check(y, m, d)
}

fn check(year: i32, month: u32, day: Option<u32>) -> Option<LooseDate> {
    if !(1900..=2100).contains(&year) || !(1..=12).contains(&month) {
        return None;
    }
    if let Some(d) = day {
        chrono::NaiveDate::from_ymd_opt(year, month, d)?;
    }
    Some(LooseDate { year, month, day })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cells_fold_and_headers_match_as_typed() {
        assert_eq!(fold("　３３０５２２　１９７０ "), "330522 1970");
        assert_eq!(fold("２０１６．３．１"), "2016.3.1");
        assert_eq!(
            fold("问题１：活动室（二楼）漏雨，需修缮！"),
            "问题1：活动室（二楼）漏雨，需修缮！",
            "Chinese punctuation is kept as typed"
        );
        assert_eq!(header_key("姓　 名："), "姓名");
        assert_eq!(header_key("（公民身份号码）"), "公民身份号码");
        assert_eq!(header_key("Name"), "name");
        assert!(is_total_row(&["".into(), "合  计".into(), "76".into()]));
        assert!(!is_total_row(&["许月刚".into()]));
    }

    #[test]
    fn dates_in_every_form_officials_type() {
        let day = |y, m, d| {
            Some(LooseDate {
                year: y,
                month: m,
                day: Some(d),
            })
        };
        let month = |y, m| {
            Some(LooseDate {
                year: y,
                month: m,
                day: None,
            })
        };
        assert_eq!(parse_loose_date("1970-01-05"), day(1970, 1, 5));
        assert_eq!(parse_loose_date("1970/1/5"), day(1970, 1, 5));
        assert_eq!(parse_loose_date("1970.1.5"), day(1970, 1, 5));
        assert_eq!(parse_loose_date("1970年1月5日"), day(1970, 1, 5));
        assert_eq!(parse_loose_date("19700105"), day(1970, 1, 5));
        assert_eq!(parse_loose_date("１９７０．０１"), month(1970, 1));
        assert_eq!(parse_loose_date("1970.01"), month(1970, 1));
        assert_eq!(parse_loose_date("1970年1月"), month(1970, 1));
        assert_eq!(parse_loose_date("197001"), month(1970, 1));
        assert_eq!(parse_loose_date("25573"), day(1970, 1, 5));
        for bad in ["", "1970-13", "1970-02-30", "abc", "1870.01", "70.1.5"] {
            assert_eq!(parse_loose_date(bad), None, "{bad}");
        }
        assert_eq!(
            parse_loose_date("1970.1.5")
                .and_then(|d| d.full())
                .as_deref(),
            Some("1970-01-05")
        );
    }
}
