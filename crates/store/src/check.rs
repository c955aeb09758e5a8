//! Checks every area makes of what a caller typed: bounded text, a past date, a phone sealed
//! for the vault. Below the areas, beside `kernel` and `audit`.

use baiqian_domain::Msg;
use baiqian_domain::member::{Phone, parse_date};

use crate::vault::Vault;
use crate::{Result, StoreError};

pub(crate) fn denied() -> StoreError {
    StoreError::Denied(Msg::new("error.denied"))
}

pub(crate) fn invalid(key: &'static str) -> StoreError {
    StoreError::Invalid(Msg::new(key))
}

pub(crate) fn conflict(key: &'static str) -> StoreError {
    StoreError::Conflict(Msg::new(key))
}

/// A yes/no cell as officials write it; empty is no.
pub(crate) fn yes_no(s: &str) -> Option<bool> {
    match s.trim() {
        "" | "否" | "不是" | "无" | "no" | "No" | "NO" | "0" | "N" | "n" | "false" => {
            Some(false)
        }
        "是" | "有" | "√" | "✓" | "yes" | "Yes" | "YES" | "1" | "Y" | "y" | "true" => {
            Some(true)
        }
        _ => None,
    }
}

/// Trimmed text of `min`…`max` characters without control characters.
pub(crate) fn text(s: &str, min: usize, max: usize, key: &'static str) -> Result<String> {
    let t = s.trim();
    let n = t.chars().count();
    if n < min || n > max || t.chars().any(char::is_control) {
        return Err(invalid(key));
    }
    Ok(t.to_string())
}

/// A date `YYYY-MM-DD` (officials' `2012/3/1` too) no later than `today`.
pub(crate) fn past_date(s: &str, today: &str, key: &'static str) -> Result<String> {
    let d = parse_date(s).map_err(|_| invalid(key))?;
    if d.as_str() > today {
        return Err(invalid("cadre.error.future"));
    }
    Ok(d)
}

/// The phone sealed and masked, or none when left blank.
pub(crate) fn sealed_phone(vault: &Vault, s: &str) -> Result<(Option<String>, Option<String>)> {
    if s.trim().is_empty() {
        return Ok((None, None));
    }
    let phone = Phone::parse(s).map_err(|e| StoreError::Invalid(e.msg()))?;
    let sealed = vault
        .seal(phone.as_str())
        .map_err(|e| StoreError::Corrupt(format!("vault: {e}")))?;
    Ok((Some(sealed), Some(phone.masked())))
}
