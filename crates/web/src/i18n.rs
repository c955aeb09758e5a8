//! Translations: every string a user reads comes from `locales/<lang>.json`.
//! Chinese (zh-CN) is the default; English is chosen by a remembered cookie.

use std::collections::HashMap;
use std::sync::LazyLock;

use baiqian_domain::Msg;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lang {
    Zh,
    En,
}

impl Lang {
    pub fn code(self) -> &'static str {
        match self {
            Lang::Zh => "zh-CN",
            Lang::En => "en",
        }
    }

    pub fn parse(s: &str) -> Option<Lang> {
        match s {
            "zh-CN" | "zh" => Some(Lang::Zh),
            "en" => Some(Lang::En),
            _ => None,
        }
    }

    pub fn other(self) -> Lang {
        match self {
            Lang::Zh => Lang::En,
            Lang::En => Lang::Zh,
        }
    }
}

pub const ZH_SOURCE: &str = include_str!("../locales/zh-CN.json");
pub const EN_SOURCE: &str = include_str!("../locales/en.json");

fn load(src: &str) -> HashMap<String, String> {
    // The files are compiled in and checked by a test; a broken file shows keys, not a crash.
    serde_json::from_str(src).unwrap_or_else(|e| {
        tracing::error!(error = %e, "locale file does not parse");
        HashMap::new()
    })
}

static ZH: LazyLock<HashMap<String, String>> = LazyLock::new(|| load(ZH_SOURCE));
static EN: LazyLock<HashMap<String, String>> = LazyLock::new(|| load(EN_SOURCE));

/// A translator for one language, handed to every page.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Tr {
    pub lang: Lang,
}

impl Tr {
    pub fn new(lang: Lang) -> Self {
        Self { lang }
    }

    fn map(&self) -> &'static HashMap<String, String> {
        match self.lang {
            Lang::Zh => &ZH,
            Lang::En => &EN,
        }
    }

    /// The text of `key`; the key itself when missing (a test keeps the files complete).
    pub fn t<'a>(&self, key: &'a str) -> &'a str
    where
        'static: 'a,
    {
        self.map().get(key).map(String::as_str).unwrap_or(key)
    }

    /// The text of `key` with `{name}` placeholders filled.
    pub fn f(&self, key: &str, args: &[(&str, &str)]) -> String {
        let mut s = self.t(key).to_string();
        for (name, value) in args {
            s = s.replace(&format!("{{{name}}}"), value);
        }
        s
    }

    pub fn msg(&self, m: &Msg) -> String {
        let mut s = self.t(m.key).to_string();
        for (name, value) in &m.args {
            // Level names and similar identifiers inside messages are translated too.
            let shown = match *name {
                "level" | "parent_level" => self.t(&format!("level.{value}")).to_string(),
                "stage" => self.t(&format!("rating.stage.{value}")).to_string(),
                "wish_status" => self.word("wish.status", value),
                "request_status" => self.word("station.status", value),
                // A form field, a problem's status or step, by name where there is one.
                "field" | "status" | "step" => {
                    let vocabulary = match *name {
                        "field" => "field",
                        "status" => "problem.status",
                        _ => "problem.step",
                    };
                    let key = format!("{vocabulary}.{value}");
                    match self.t(&key) {
                        t if t == key => value.clone(),
                        t => t.to_string(),
                    }
                }
                _ => value.clone(),
            };
            s = s.replace(&format!("{{{name}}}"), &shown);
        }
        s
    }

    pub fn code(&self) -> &'static str {
        self.lang.code()
    }

    pub fn level(&self, level: &str) -> String {
        self.t(&format!("level.{level}")).to_string()
    }

    pub fn party_kind(&self, kind: &str) -> String {
        self.t(&format!("party_org_kind.{kind}")).to_string()
    }

    pub fn gender(&self, g: &str) -> String {
        self.t(&format!("member.gender.{g}")).to_string()
    }

    /// The name of a code in a vocabulary: `word("problem.status", "open")` → 待整改.
    pub fn word(&self, vocabulary: &str, code: &str) -> String {
        self.t(&format!("{vocabulary}.{code}")).to_string()
    }

    pub fn role(&self, role: &str) -> String {
        self.t(&format!("role.{role}")).to_string()
    }

    /// A Unix-ms time as the reader expects it: `2016年3月1日 09:30` or `1 Mar 2016 09:30` (UTC+8).
    pub fn datetime<N: std::borrow::Borrow<i64>>(&self, ms: N) -> String {
        let ms = *ms.borrow();
        let pattern = match self.lang {
            Lang::Zh => "%Y年%-m月%-d日 %H:%M",
            Lang::En => "%-d %b %Y %H:%M",
        };
        baiqian_domain::time::format(ms, pattern).unwrap_or_else(|| ms.to_string())
    }

    /// Money in yuan with thousands separators and the fen when there are any: `¥5,000,000`,
    /// `¥8,606.64`.
    pub fn yuan<F: std::borrow::Borrow<baiqian_domain::money::Fen>>(&self, fen: F) -> String {
        self.fen(fen.borrow().0)
    }

    /// `yuan` of an amount kept as a plain number of fen.
    pub fn fen<N: std::borrow::Borrow<i64>>(&self, fen: N) -> String {
        let fen = *fen.borrow();
        let sign = if fen < 0 { "-" } else { "" };
        let abs = fen.unsigned_abs();
        let whole = self.num(i64::try_from(abs / 100).unwrap_or(i64::MAX));
        match abs % 100 {
            0 => format!("{sign}¥{whole}"),
            f => format!("{sign}¥{whole}.{f:02}"),
        }
    }

    /// A count with thousands separators, as figures are shown on boards.
    pub fn num<N: std::borrow::Borrow<i64>>(&self, n: N) -> String {
        let n = n.borrow();
        let s = n.abs().to_string();
        let mut out = String::new();
        for (i, c) in s.chars().enumerate() {
            if i > 0 && (s.len() - i) % 3 == 0 {
                out.push(',');
            }
            out.push(c);
        }
        if *n < 0 { format!("-{out}") } else { out }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn locales_have_the_same_keys_and_parse() {
        let zh: HashMap<String, String> = serde_json::from_str(ZH_SOURCE).unwrap_or_default();
        let en: HashMap<String, String> = serde_json::from_str(EN_SOURCE).unwrap_or_default();
        assert!(zh.len() > 50, "zh-CN locale did not parse");
        let mut missing: Vec<_> = zh.keys().filter(|k| !en.contains_key(*k)).collect();
        missing.extend(en.keys().filter(|k| !zh.contains_key(*k)));
        assert!(missing.is_empty(), "keys in one locale only: {missing:?}");
    }

    #[test]
    fn formats() {
        let zh = Tr::new(Lang::Zh);
        let en = Tr::new(Lang::En);
        // 2016-03-01 09:30 in UTC+8
        let ms = 1_456_795_800_000;
        assert_eq!(zh.datetime(ms), "2016年3月1日 09:30");
        assert_eq!(en.datetime(ms), "1 Mar 2016 09:30");
        assert_eq!(zh.num(985), "985");
        assert_eq!(zh.num(20000), "20,000");
        assert_eq!(zh.num(-1234567), "-1,234,567");
    }
}
