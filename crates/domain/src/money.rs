//! Money (金额) as the platform keeps it: whole fen (分), never floating point.

use serde::Serialize;

use crate::Msg;

/// An amount in fen (1 yuan = 100 fen).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default, Serialize)]
#[serde(transparent)]
pub struct Fen(pub i64);

impl Fen {
    pub const fn from_yuan(yuan: i64) -> Fen {
        Fen(yuan * 100)
    }

    /// Money as officials type it, in yuan with up to two decimals (`500000`, `512,345.60`).
    pub fn parse_yuan(s: &str) -> Result<Fen, Msg> {
        let t: String = s.trim().chars().filter(|c| *c != ',').collect();
        let bad =
            || Msg::new("rating.error.money").arg("value", s.chars().take(20).collect::<String>());
        let (int, frac) = match t.split_once('.') {
            Some((i, f)) => (i, f),
            None => (t.as_str(), ""),
        };
        if int.is_empty() || frac.len() > 2 || !int.chars().all(|c| c.is_ascii_digit()) {
            return Err(bad());
        }
        if !frac.chars().all(|c| c.is_ascii_digit()) {
            return Err(bad());
        }
        let yuan: i64 = int.parse().map_err(|_| bad())?;
        let fen: i64 = format!("{frac:0<2}").parse().map_err(|_| bad())?;
        yuan.checked_mul(100)
            .and_then(|y| y.checked_add(fen))
            .filter(|v| *v < 1_000_000_000_000)
            .map(Fen)
            .ok_or_else(bad)
    }

    /// As yuan for display and export: `512345.60`, `500000`.
    pub fn yuan_text(self) -> String {
        if self.0 % 100 == 0 {
            format!("{}", self.0 / 100)
        } else {
            format!("{}.{:02}", self.0 / 100, self.0 % 100)
        }
    }
}
