//! The password and session rule (口令策略). Configuration, not code: the default is the
//! MLPS level-3 (等保三级) reading — at least 8 characters from at least 3 of the 4 classes,
//! lockout after 5 failed tries for 15 minutes, session ended after 30 minutes idle.

use crate::Msg;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PasswordPolicy {
    pub min_length: usize,
    /// How many of the classes lower-case, upper-case, digit, symbol a password must use.
    pub min_classes: usize,
    pub max_failed_attempts: u32,
    pub lockout_minutes: i64,
    pub idle_timeout_minutes: i64,
}

impl Default for PasswordPolicy {
    fn default() -> Self {
        Self {
            min_length: 8,
            min_classes: 3,
            max_failed_attempts: 5,
            lockout_minutes: 15,
            idle_timeout_minutes: 30,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PasswordError {
    #[error("password shorter than {0}")]
    TooShort(usize),
    #[error("password longer than 128")]
    TooLong,
    #[error("password uses fewer than {0} character classes")]
    TooFewClasses(usize),
    #[error("password contains the login")]
    ContainsLogin,
}

impl PasswordError {
    pub fn msg(&self) -> Msg {
        match self {
            PasswordError::TooShort(n) => Msg::new("password.error.too_short").arg("min", n),
            PasswordError::TooLong => Msg::new("password.error.too_long"),
            PasswordError::TooFewClasses(n) => Msg::new("password.error.classes").arg("min", n),
            PasswordError::ContainsLogin => Msg::new("password.error.contains_login"),
        }
    }
}

impl PasswordPolicy {
    pub fn check(&self, login: &str, password: &str) -> Result<(), PasswordError> {
        let len = password.chars().count();
        if len < self.min_length {
            return Err(PasswordError::TooShort(self.min_length));
        }
        if len > 128 {
            return Err(PasswordError::TooLong);
        }
        let classes = [
            password.chars().any(|c| c.is_lowercase()),
            password.chars().any(|c| c.is_uppercase()),
            password.chars().any(|c| c.is_ascii_digit()),
            password.chars().any(|c| !c.is_alphanumeric()),
        ]
        .into_iter()
        .filter(|b| *b)
        .count();
        if classes < self.min_classes {
            return Err(PasswordError::TooFewClasses(self.min_classes));
        }
        if !login.is_empty() && password.to_lowercase().contains(&login.to_lowercase()) {
            return Err(PasswordError::ContainsLogin);
        }
        Ok(())
    }
}

/// Checks a login name: 3–32 of a-z, 0-9, `.`, `_`, `-`, starting with a letter.
pub fn parse_login(s: &str) -> Result<String, Msg> {
    let s = s.trim();
    let ok = (3..=32).contains(&s.len())
        && s.starts_with(|c: char| c.is_ascii_lowercase())
        && s.chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '.' | '_' | '-'));
    if ok {
        Ok(s.to_string())
    } else {
        Err(Msg::new("user.error.bad_login"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mlps_default() {
        let p = PasswordPolicy::default();
        assert_eq!(p.check("admin", "Short1!"), Err(PasswordError::TooShort(8)));
        assert_eq!(
            p.check("admin", "alllowercase"),
            Err(PasswordError::TooFewClasses(3))
        );
        assert_eq!(
            p.check("admin", "xAdmin-2016"),
            Err(PasswordError::ContainsLogin)
        );
        assert!(p.check("admin", "Baiqian@2016").is_ok());
    }

    #[test]
    fn logins() {
        assert!(parse_login("city.admin").is_ok());
        assert!(parse_login("1abc").is_err());
        assert!(parse_login("a b").is_err());
        assert!(parse_login("Ab").is_err());
    }
}
