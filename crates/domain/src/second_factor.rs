//! The second factor (双因素认证) of the accounts that can change the most: a six-digit code from an
//! authenticator app (TOTP, RFC 6238: HMAC-SHA1 over 30-second steps, the parameters every app
//! accepts), and one-time recovery codes for a lost phone. Which roles must have one is policy.

use totp_rs::{Algorithm, Secret, TOTP};

use crate::role::{Role, RoleError};

/// Seconds per code.
pub const STEP_SECONDS: u64 = 30;
/// Digits per code.
pub const DIGITS: usize = 6;
/// Length of a secret: 160 bits, RFC 4226's recommendation.
pub const SECRET_BYTES: usize = 20;
/// Steps accepted either side of the server's: a phone whose clock is 30 s off still signs in.
pub const SKEW_STEPS: u64 = 1;
/// Recovery codes issued at once.
pub const RECOVERY_CODES: usize = 10;
/// Random bytes behind one recovery code (50 bits shown as ten base-32 characters).
pub const RECOVERY_CODE_BYTES: usize = 7;
/// The name an authenticator app shows beside the account.
pub const ISSUER: &str = "百千";

/// How a session was authenticated (recorded on the session).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuthMethod {
    /// The password alone.
    Password,
    /// The password and a code from the authenticator app.
    PasswordTotp,
    /// The password and a one-time recovery code.
    PasswordRecovery,
}

impl AuthMethod {
    pub fn as_str(self) -> &'static str {
        match self {
            AuthMethod::Password => "password",
            AuthMethod::PasswordTotp => "password+totp",
            AuthMethod::PasswordRecovery => "password+recovery",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "password" => Some(AuthMethod::Password),
            "password+totp" => Some(AuthMethod::PasswordTotp),
            "password+recovery" => Some(AuthMethod::PasswordRecovery),
            _ => None,
        }
    }

    pub fn has_second_factor(self) -> bool {
        !matches!(self, AuthMethod::Password)
    }
}

/// Which roles must sign in with a second factor.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SecondFactorPolicy {
    required_for: Vec<Role>,
}

impl Default for SecondFactorPolicy {
    /// The campaign's: the administrations (city, county, township) and the auditors — the
    /// accounts that open rounds, approve, verify, manage accounts or read the audit log.
    fn default() -> Self {
        Self {
            required_for: vec![
                Role::CityAdmin,
                Role::CountyAdmin,
                Role::TownshipAdmin,
                Role::Auditor,
            ],
        }
    }
}

impl SecondFactorPolicy {
    /// No role needs a second factor (anyone may still set one up).
    pub fn none() -> Self {
        Self {
            required_for: Vec::new(),
        }
    }

    /// `none`, or roles separated by commas (`city-admin,auditor`).
    pub fn parse(s: &str) -> Result<Self, RoleError> {
        let s = s.trim();
        if s.eq_ignore_ascii_case("none") || s.is_empty() {
            return Ok(Self::none());
        }
        let mut required_for = Vec::new();
        for part in s.split(',') {
            let role = Role::parse(part.trim())?;
            if !required_for.contains(&role) {
                required_for.push(role);
            }
        }
        Ok(Self { required_for })
    }

    pub fn requires(&self, role: Role) -> bool {
        self.required_for.contains(&role)
    }

    /// The roles, as `parse` reads them.
    pub fn describe(&self) -> String {
        if self.required_for.is_empty() {
            return "none".into();
        }
        self.required_for
            .iter()
            .map(|r| r.as_str())
            .collect::<Vec<_>>()
            .join(",")
    }
}

/// An account's TOTP secret.
#[derive(Clone, PartialEq, Eq)]
pub struct TotpSecret(Vec<u8>);

impl std::fmt::Debug for TotpSecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("TotpSecret(…)")
    }
}

impl TotpSecret {
    pub fn from_bytes(bytes: [u8; SECRET_BYTES]) -> Self {
        Self(bytes.to_vec())
    }

    /// The secret as an authenticator app takes it typed in: RFC 4648 base 32, no padding.
    pub fn to_base32(&self) -> String {
        match Secret::Raw(self.0.clone()).to_encoded() {
            Secret::Encoded(s) => s,
            Secret::Raw(_) => String::new(),
        }
    }

    /// A stored secret; `None` unless it is base 32 of exactly `SECRET_BYTES` bytes.
    pub fn parse_base32(s: &str) -> Option<Self> {
        let bytes = Secret::Encoded(s.to_string()).to_bytes().ok()?;
        (bytes.len() == SECRET_BYTES).then_some(Self(bytes))
    }

    fn totp(&self) -> TOTP {
        // Parameters fixed above: six digits, a 160-bit secret (both within RFC 6238's rules).
        TOTP::new_unchecked(Algorithm::SHA1, DIGITS, 0, STEP_SECONDS, self.0.clone())
    }

    /// The code of one step (`unix seconds / 30`).
    pub fn code_at_step(&self, step: u64) -> String {
        self.totp().generate(step * STEP_SECONDS)
    }

    /// The step whose code `code` is, within `SKEW_STEPS` of the time `unix_secs`, and later than
    /// `last_step` — a code once used is not taken again (RFC 6238 §5.2), nor one older than it.
    pub fn matching_step(&self, code: &str, unix_secs: u64, last_step: u64) -> Option<u64> {
        let now = unix_secs / STEP_SECONDS;
        let totp = self.totp();
        let mut found = None;
        // Every candidate is computed and compared in constant time, so timing does not tell
        // which step (if any) matched.
        for step in now.saturating_sub(SKEW_STEPS)..=now + SKEW_STEPS {
            let expected = totp.generate(step * STEP_SECONDS);
            if constant_eq(expected.as_bytes(), code.as_bytes()) && step > last_step {
                found = Some(step);
            }
        }
        found
    }

    /// The `otpauth://` URI a QR code carries to the app (Key Uri Format).
    pub fn otpauth_uri(&self, login: &str) -> String {
        let issuer: String = percent(ISSUER);
        format!(
            "otpauth://totp/{issuer}:{}?secret={}&issuer={issuer}&algorithm=SHA1&digits={DIGITS}&period={STEP_SECONDS}",
            percent(login),
            self.to_base32()
        )
    }
}

/// Percent-encodes everything but unreserved ASCII.
fn percent(s: &str) -> String {
    s.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
                char::from(b).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

fn constant_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// A typed authenticator code: six digits, spaces ignored.
pub fn parse_code(input: &str) -> Option<String> {
    let digits: String = input.chars().filter(|c| !c.is_whitespace()).collect();
    (digits.len() == DIGITS && digits.bytes().all(|b| b.is_ascii_digit())).then_some(digits)
}

/// Crockford's base 32: no I, L, O or U, so what is read aloud or typed is what was shown.
const RECOVERY_ALPHABET: &[u8; 32] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";

/// A recovery code from random bytes, as shown: `XXXXX-XXXXX` (50 bits).
pub fn recovery_code(random: [u8; RECOVERY_CODE_BYTES]) -> String {
    let mut bits = random
        .iter()
        .fold(0u64, |acc, b| (acc << 8) | u64::from(*b));
    let mut code = String::with_capacity(11);
    for i in 0..10 {
        if i == 5 {
            code.push('-');
        }
        code.push(char::from(RECOVERY_ALPHABET[(bits & 31) as usize]));
        bits >>= 5;
    }
    code
}

/// A typed recovery code in the form it is stored by: upper case, without spaces or dashes,
/// O read as 0 and I or L as 1 (Crockford's rule); `None` unless ten symbols of the alphabet.
pub fn normalize_recovery_code(input: &str) -> Option<String> {
    let code: String = input
        .chars()
        .filter(|c| !c.is_whitespace() && *c != '-')
        .map(|c| match c.to_ascii_uppercase() {
            'O' => '0',
            'I' | 'L' => '1',
            other => other,
        })
        .collect();
    (code.len() == 10 && code.bytes().all(|b| RECOVERY_ALPHABET.contains(&b))).then_some(code)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 6238 appendix B's SHA-1 key, "12345678901234567890".
    fn rfc_secret() -> TotpSecret {
        TotpSecret::from_bytes(*b"12345678901234567890")
    }

    #[test]
    fn codes_match_rfc_6238_appendix_b() {
        // The appendix lists eight digits; six are their last six.
        let s = rfc_secret();
        for (time, eight) in [
            (59u64, "94287082"),
            (1_111_111_109, "07081804"),
            (1_111_111_111, "14050471"),
            (1_234_567_890, "89005924"),
            (2_000_000_000, "69279037"),
        ] {
            assert_eq!(s.code_at_step(time / STEP_SECONDS), eight[2..], "at {time}");
        }
    }

    #[test]
    fn a_code_is_taken_one_step_either_side_and_only_once() {
        let s = rfc_secret();
        let t = 1_234_567_890u64;
        let now = t / STEP_SECONDS;
        for step in [now - 1, now, now + 1] {
            assert_eq!(s.matching_step(&s.code_at_step(step), t, 0), Some(step));
        }
        assert_eq!(s.matching_step(&s.code_at_step(now - 2), t, 0), None);
        assert_eq!(s.matching_step(&s.code_at_step(now + 2), t, 0), None);
        // Used once (last_step = now): neither it nor an older one is taken again.
        assert_eq!(s.matching_step(&s.code_at_step(now), t, now), None);
        assert_eq!(s.matching_step(&s.code_at_step(now - 1), t, now), None);
        assert_eq!(
            s.matching_step(&s.code_at_step(now + 1), t, now),
            Some(now + 1)
        );
        assert_eq!(s.matching_step("000000x", t, 0), None);
    }

    #[test]
    fn the_secret_round_trips_through_base32_and_the_uri_names_it() {
        let s = TotpSecret::from_bytes([7u8; SECRET_BYTES]);
        let b32 = s.to_base32();
        assert_eq!(b32.len(), 32, "160 bits are 32 base-32 symbols");
        assert_eq!(TotpSecret::parse_base32(&b32), Some(s.clone()));
        assert_eq!(TotpSecret::parse_base32("AAAA"), None, "too short");
        assert_eq!(TotpSecret::parse_base32("not base 32!"), None);
        let uri = s.otpauth_uri("city.admin");
        assert!(uri.starts_with("otpauth://totp/%E7%99%BE%E5%8D%83:city.admin?secret="));
        assert!(uri.contains(&format!("secret={b32}&")));
        assert!(uri.ends_with("&digits=6&period=30"));
    }

    #[test]
    fn codes_and_recovery_codes_are_read_as_typed() {
        assert_eq!(parse_code(" 123 456 "), Some("123456".into()));
        assert_eq!(parse_code("12345"), None);
        assert_eq!(parse_code("12345a"), None);
        let code = recovery_code([0xA5, 0x13, 0x00, 0xFF, 0x42, 0x99, 0x07]);
        assert_eq!(code.len(), 11);
        assert_eq!(code.as_bytes()[5], b'-');
        let plain: String = code.chars().filter(|c| *c != '-').collect();
        assert_eq!(normalize_recovery_code(&code), Some(plain.clone()));
        assert_eq!(
            normalize_recovery_code(&code.to_lowercase().replace('-', " ")),
            Some(plain)
        );
        assert_eq!(
            normalize_recovery_code("OOOOO-iiiil"),
            Some("0000011111".into()),
            "misread letters read as the digits they look like"
        );
        assert_eq!(
            normalize_recovery_code("UUUUU-UUUUU"),
            None,
            "not in the alphabet"
        );
        assert_eq!(normalize_recovery_code("ABCDE"), None);
        assert_ne!(
            recovery_code([1, 2, 3, 4, 5, 6, 7]),
            recovery_code([1, 2, 3, 4, 5, 6, 8])
        );
    }

    #[test]
    fn the_policy_reads_roles_or_none() {
        let p = SecondFactorPolicy::default();
        assert!(p.requires(Role::CityAdmin) && p.requires(Role::Auditor));
        assert!(!p.requires(Role::Member) && !p.requires(Role::Leader));
        assert_eq!(
            SecondFactorPolicy::parse(&p.describe()).ok(),
            Some(p.clone())
        );
        assert_eq!(
            SecondFactorPolicy::parse("none").ok(),
            Some(SecondFactorPolicy::none())
        );
        let leaders = SecondFactorPolicy::parse("leader, leader").ok();
        assert!(leaders.is_some_and(|l| l.requires(Role::Leader) && l.describe() == "leader"));
        assert!(SecondFactorPolicy::parse("city-admin,king").is_err());
    }
}
