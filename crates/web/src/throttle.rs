//! Login throttling (登录限流). A password check costs about 19 MiB and tens of milliseconds of
//! argon2id: anyone on the internet can ask for one, so checks are a bounded resource (a few at
//! once, a short queue, then "busy"), failures slow down the address they come from, and an
//! account is locked only for the address that failed on it — an attacker elsewhere cannot use
//! the lockout to keep its owner out.
//!
//! Kept in this process's memory, in a map of bounded size; a second app node keeps its own
//! (issue 34 moves it to the database).

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::request::Parts;

use crate::state::AppState;

/// Failures an address may have in a window before its logins are refused until the window ends.
pub const ADDRESS_MAX_FAILURES: u32 = 30;

/// Password checks one address may have running or waiting at once: a flood from a few
/// addresses cannot fill the queue that everyone else waits in.
const PER_ADDRESS_IN_FLIGHT: usize = 2;

/// Most addresses and (account, address) pairs remembered; past it the expired are forgotten,
/// and if none has expired, all are (with a warning): memory stays bounded under any flood.
const MAX_KEYS: usize = 100_000;

/// What the guard counts against.
#[derive(Debug, Clone, Copy)]
pub struct ThrottlePolicy {
    /// Failures of one account from one address that lock that pair.
    pub pair_max: u32,
    /// Failures from one address, any account.
    pub address_max: u32,
    /// How long failures are counted, and a lock lasts.
    pub window_ms: i64,
}

#[derive(Debug, Clone, Copy)]
struct Strikes {
    count: u32,
    since: i64,
    blocked_until: i64,
}

/// Password checks were all taken and the queue was full.
#[derive(Debug)]
pub struct Busy;

pub struct LoginGuard {
    checks: tokio::sync::Semaphore,
    waiting: AtomicUsize,
    max_waiting: usize,
    strikes: Mutex<HashMap<String, Strikes>>,
    /// argon2's working memory, one buffer per check that may run at once, reused: allocated
    /// per check, it stayed in the allocator arena of every blocking thread that ran one
    /// (docs/benchmarks.md).
    memory: Mutex<Vec<Vec<argon2::Block>>>,
    /// Checks running or waiting, per address (only addresses with some).
    in_flight: Mutex<HashMap<String, usize>>,
    policy: ThrottlePolicy,
}

/// A lock of the guard's: a panic while one was held leaves counts or buffers, never a broken
/// invariant, so a poisoned lock is taken as it is.
fn locked<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// An address's place among the checks in flight, given back when dropped.
struct InFlight<'g> {
    guard: &'g LoginGuard,
    address: String,
}

impl Drop for InFlight<'_> {
    fn drop(&mut self) {
        let mut map = locked(&self.guard.in_flight);
        if let Some(n) = map.get_mut(&self.address) {
            *n -= 1;
            if *n == 0 {
                map.remove(&self.address);
            }
        }
    }
}

fn address_key(address: &str) -> String {
    format!("a|{address}")
}

fn pair_key(login: &str, address: &str) -> String {
    format!("p|{login}|{address}")
}

impl LoginGuard {
    /// At most `parallel` checks at once (the cores), `16 × parallel` more waiting.
    pub fn new(policy: ThrottlePolicy, parallel: usize) -> LoginGuard {
        let parallel = parallel.max(1);
        LoginGuard {
            checks: tokio::sync::Semaphore::new(parallel),
            waiting: AtomicUsize::new(0),
            max_waiting: 16 * parallel,
            strikes: Mutex::new(HashMap::new()),
            memory: Mutex::new(Vec::new()),
            in_flight: Mutex::new(HashMap::new()),
            policy,
        }
    }

    fn strikes(&self) -> std::sync::MutexGuard<'_, HashMap<String, Strikes>> {
        locked(&self.strikes)
    }

    /// Seconds until `key` may try again, if it is blocked now.
    fn blocked(&self, key: &str, now: i64) -> Option<u64> {
        let strikes = self.strikes();
        let s = strikes.get(key)?;
        (s.blocked_until > now).then(|| ((s.blocked_until - now) as u64).div_ceil(1000))
    }

    /// Seconds until this address may log in again, when it has failed too often.
    pub fn address_blocked(&self, address: &str, now: i64) -> Option<u64> {
        self.blocked(&address_key(address), now)
    }

    /// Whether this account is locked for this address.
    pub fn pair_blocked(&self, login: &str, address: &str, now: i64) -> bool {
        self.blocked(&pair_key(login, address), now).is_some()
    }

    /// Counts a failure of `login` from `address`; true when this one locked the pair.
    pub fn failed(&self, login: &str, address: &str, now: i64) -> bool {
        let window = self.policy.window_ms;
        let mut strikes = self.strikes();
        if strikes.len() >= MAX_KEYS {
            strikes.retain(|_, s| s.blocked_until > now || s.since + window > now);
            if strikes.len() >= MAX_KEYS {
                tracing::warn!(
                    keys = strikes.len(),
                    "login throttle full of live entries: forgotten"
                );
                strikes.clear();
            }
        }
        let mut strike = |key: String, max: u32| -> bool {
            let s = strikes.entry(key).or_insert(Strikes {
                count: 0,
                since: now,
                blocked_until: 0,
            });
            if s.blocked_until > now {
                // A failure while blocked does not lengthen the block.
                return false;
            }
            if s.since + window <= now {
                *s = Strikes {
                    count: 0,
                    since: now,
                    blocked_until: 0,
                };
            }
            s.count += 1;
            if s.count >= max {
                *s = Strikes {
                    count: 0,
                    since: now,
                    blocked_until: now + window,
                };
                return true;
            }
            false
        };
        strike(address_key(address), self.policy.address_max);
        strike(pair_key(login, address), self.policy.pair_max)
    }

    /// A successful login clears the pair's failures.
    pub fn succeeded(&self, login: &str, address: &str) {
        self.strikes().remove(&pair_key(login, address));
    }

    /// The logins locked at some address now, in one pass over what the guard remembers (the
    /// accounts page offers their unlock). A real login has no `|`, so it ends at the first.
    pub fn locked_logins(&self, now: i64) -> std::collections::HashSet<String> {
        self.strikes()
            .iter()
            .filter(|(_, s)| s.blocked_until > now)
            .filter_map(|(k, _)| k.strip_prefix("p|")?.split('|').next().map(str::to_string))
            .collect()
    }

    /// An administrator's unlock: the account's locks at every address end.
    pub fn unlock(&self, login: &str) {
        let prefix = pair_key(login, "");
        self.strikes().retain(|k, _| !k.starts_with(&prefix));
    }

    /// Runs `check` (a password verification) for a caller at `address` when a slot is free,
    /// waiting in a short queue; `Busy` when the queue is full or the address already has
    /// `PER_ADDRESS_IN_FLIGHT` checks in it. `check` is given a working buffer of its own (one of
    /// the guard's, at most one a running check), kept for the next check.
    pub async fn check<F>(&self, address: &str, check: F) -> Result<bool, Busy>
    where
        F: FnOnce(&mut Vec<argon2::Block>) -> bool + Send + 'static,
    {
        let _place = {
            let mut map = locked(&self.in_flight);
            let n = map.entry(address.to_string()).or_insert(0);
            if *n >= PER_ADDRESS_IN_FLIGHT {
                return Err(Busy);
            }
            *n += 1;
            InFlight {
                guard: self,
                address: address.to_string(),
            }
        };
        let queued = self.waiting.fetch_add(1, Ordering::AcqRel);
        if queued >= self.max_waiting {
            self.waiting.fetch_sub(1, Ordering::AcqRel);
            return Err(Busy);
        }
        let permit = self.checks.acquire().await;
        self.waiting.fetch_sub(1, Ordering::AcqRel);
        let Ok(_permit) = permit else {
            return Err(Busy);
        };
        // The permit bounds the buffers: at most one a check running.
        let mut memory = locked(&self.memory).pop().unwrap_or_default();
        let done = tokio::task::spawn_blocking(move || {
            let ok = check(&mut memory);
            (ok, memory)
        })
        .await;
        Ok(match done {
            Ok((ok, memory)) => {
                locked(&self.memory).push(memory);
                ok
            }
            Err(_) => false,
        })
    }
}

/// Requests to the stations one address may make in `PUBLIC_WINDOW_MS`: a family asking
/// for a few services, a guesthouse owner for their guests; not a script.
pub const PUBLIC_REQUESTS_PER_WINDOW: u32 = 10;
/// Follow-up pages, lookups and feedback by code one address may make in the window.
pub const PUBLIC_LOOKUPS_PER_WINDOW: u32 = 120;
pub const PUBLIC_WINDOW_MS: i64 = 10 * 60_000;

/// How long a refusal of the public budget waits before it is sent. A client that asks again
/// as soon as it is answered (a script in a loop) is slowed to a request a second per
/// connection, so its flood costs the server sleeping tasks, not work; a person who got a 429
/// does not notice the second.
pub const PUBLIC_REFUSAL_DELAY: std::time::Duration = std::time::Duration::from_secs(1);

/// A request the budget refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Refusal {
    /// Until the address has a budget again.
    pub seconds: u64,
    /// The first refusal of the address's window.
    pub first: bool,
}

/// A budget of requests per address and window for what anyone may ask without signing in
/// (a station's request form, a follow-up code's page): past it, 429 with the seconds to wait.
/// A flood from one address costs it nothing but a map lookup, and the map stays bounded.
pub struct PublicBudget {
    hits: Mutex<HashMap<String, (i64, u32)>>,
    max: u32,
    window_ms: i64,
}

impl PublicBudget {
    pub fn new(max: u32, window_ms: i64) -> Self {
        Self {
            hits: Mutex::new(HashMap::new()),
            max,
            window_ms,
        }
    }

    /// Counts one request from `address`; when its budget is spent, the seconds until it
    /// has one again, and whether this is the first refusal of the window (worth a log line;
    /// the thousand after it are not).
    pub fn spend(&self, address: &str, now: i64) -> Result<(), Refusal> {
        let mut hits = locked(&self.hits);
        if hits.len() >= MAX_KEYS && !hits.contains_key(address) {
            let window = self.window_ms;
            hits.retain(|_, (since, _)| *since + window > now);
            if hits.len() >= MAX_KEYS {
                tracing::warn!(
                    keys = hits.len(),
                    "public budget full of live entries: forgotten"
                );
                hits.clear();
            }
        }
        let entry = hits.entry(address.to_string()).or_insert((now, 0));
        if entry.0 + self.window_ms <= now {
            *entry = (now, 0);
        }
        if entry.1 >= self.max {
            let first = entry.1 == self.max;
            entry.1 = self.max + 1;
            return Err(Refusal {
                seconds: ((entry.0 + self.window_ms - now).max(1) as u64).div_ceil(1000),
                first,
            });
        }
        entry.1 += 1;
        Ok(())
    }
}

/// The caller's address: the peer of the connection, or — behind a proxy the server is told to
/// trust (`--trusted-proxy`) — the last address that proxy added to `X-Forwarded-For`.
pub struct ClientAddress(pub String);

impl FromRequestParts<AppState> for ClientAddress {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        if state.config.trusted_proxy
            && let Some(last) = parts
                .headers
                .get_all("x-forwarded-for")
                .iter()
                .filter_map(|v| v.to_str().ok())
                .flat_map(|v| v.split(','))
                .map(str::trim)
                .rfind(|a| !a.is_empty())
        {
            return Ok(ClientAddress(last.chars().take(64).collect()));
        }
        let peer = parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map(|c| c.0.ip().to_string())
            .unwrap_or_else(|| "unknown".into());
        Ok(ClientAddress(peer))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn guard() -> LoginGuard {
        LoginGuard::new(
            ThrottlePolicy {
                pair_max: 5,
                address_max: 30,
                window_ms: 15 * 60_000,
            },
            2,
        )
    }

    #[test]
    fn a_lock_holds_for_its_address_only_and_ends_with_the_window() {
        let g = guard();
        for i in 0..4 {
            assert!(!g.failed("a", "10.0.0.1", i), "failure {i}");
        }
        assert!(g.failed("a", "10.0.0.1", 5), "the fifth locks");
        assert!(g.pair_blocked("a", "10.0.0.1", 6));
        assert!(!g.pair_blocked("a", "10.0.0.2", 6), "not from elsewhere");
        assert!(!g.failed("a", "10.0.0.1", 7), "no longer while locked");
        assert!(g.pair_blocked("a", "10.0.0.1", 5 + 15 * 60_000 - 1));
        assert!(!g.pair_blocked("a", "10.0.0.1", 5 + 15 * 60_000));
        g.failed("a", "10.0.0.2", 10);
        assert!(g.locked_logins(6).contains("a"));
        g.unlock("a");
        assert!(g.locked_logins(6).is_empty());
        assert!(!g.pair_blocked("a", "10.0.0.1", 6));
    }

    #[test]
    fn an_address_failing_on_many_accounts_is_stopped() {
        let g = guard();
        for i in 0..29 {
            g.failed(&format!("user{i}"), "10.0.0.9", i64::from(i));
        }
        assert_eq!(g.address_blocked("10.0.0.9", 29), None);
        g.failed("user29", "10.0.0.9", 29);
        assert_eq!(g.address_blocked("10.0.0.9", 30), Some(900));
        assert_eq!(g.address_blocked("10.0.0.8", 30), None);
    }

    #[test]
    fn a_public_budget_refuses_one_address_past_it_and_no_other() {
        let b = PublicBudget::new(3, 60_000);
        for i in 0..3 {
            assert_eq!(b.spend("10.0.0.1", i), Ok(()), "request {i}");
        }
        assert_eq!(
            b.spend("10.0.0.1", 1_000),
            Err(Refusal {
                seconds: 59,
                first: true
            })
        );
        assert_eq!(
            b.spend("10.0.0.1", 2_000),
            Err(Refusal {
                seconds: 58,
                first: false
            })
        );
        assert_eq!(b.spend("10.0.0.2", 1_000), Ok(()));
        assert_eq!(b.spend("10.0.0.1", 60_000), Ok(()), "a new window");
        for i in 0..(MAX_KEYS + 10) {
            let _ = b.spend(&format!("a{i}"), 70_000);
        }
        assert!(locked(&b.hits).len() <= MAX_KEYS);
    }

    #[test]
    fn the_map_stays_bounded() {
        let g = guard();
        for i in 0..(MAX_KEYS + 10) {
            g.failed("x", &format!("a{i}"), 0);
        }
        assert!(g.strikes().len() <= MAX_KEYS);
    }
}
