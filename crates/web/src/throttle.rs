//! Login throttling (登录限流). A password check costs about 19 MiB and tens of milliseconds of
//! argon2id: anyone on the internet can ask for one, so checks are a bounded resource (a few at
//! once, a short queue, then "busy"), failures slow down the address they come from, and an
//! account is locked only for the address that failed on it — an attacker elsewhere cannot use
//! the lockout to keep its owner out.
//!
//! The failures are counted in the database (`login_strikes`), so every app node refuses what
//! another counted; the password checks running and waiting are this node's own resource.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::request::Parts;

use baiqian_store::user::strikes::StrikeKey;
use baiqian_store::{Db, StoreError};

use crate::state::AppState;

/// Failures an address may have in a window before its logins are refused until the window ends.
pub const ADDRESS_MAX_FAILURES: u32 = 30;

/// Password checks one address may have running or waiting at once: a flood from a few
/// addresses cannot fill the queue that everyone else waits in.
const PER_ADDRESS_IN_FLIGHT: usize = 2;

/// Most addresses a public budget remembers; past it the expired are forgotten, and if none has
/// expired, all are (with a warning): memory stays bounded under any flood.
const MAX_KEYS: usize = 100_000;

/// What the guard counts against.
pub type ThrottlePolicy = baiqian_store::user::strikes::StrikeRule;

/// Password checks were all taken and the queue was full.
#[derive(Debug)]
pub struct Busy;

pub struct LoginGuard {
    checks: tokio::sync::Semaphore,
    waiting: AtomicUsize,
    max_waiting: usize,
    /// Where failures are counted, for every node.
    db: Db,
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

impl LoginGuard {
    /// At most `parallel` checks at once (the cores), `16 × parallel` more waiting.
    pub fn new(policy: ThrottlePolicy, parallel: usize, db: Db) -> LoginGuard {
        let parallel = parallel.max(1);
        LoginGuard {
            checks: tokio::sync::Semaphore::new(parallel),
            waiting: AtomicUsize::new(0),
            max_waiting: 16 * parallel,
            db,
            memory: Mutex::new(Vec::new()),
            in_flight: Mutex::new(HashMap::new()),
            policy,
        }
    }

    /// Seconds until this address may log in again, when it has failed too often.
    pub async fn address_blocked(
        &self,
        address: &str,
        now: i64,
    ) -> Result<Option<u64>, StoreError> {
        Ok(self
            .db
            .login_blocked(StrikeKey::Address(address), now)
            .await?
            .map(|ms| (ms as u64).div_ceil(1000)))
    }

    /// Whether this account is locked for this address.
    pub async fn pair_blocked(
        &self,
        login: &str,
        address: &str,
        now: i64,
    ) -> Result<bool, StoreError> {
        Ok(self
            .db
            .login_blocked(StrikeKey::Pair { login, address }, now)
            .await?
            .is_some())
    }

    /// Counts a failure of `login` from `address`; true when this one locked the pair.
    pub async fn failed(&self, login: &str, address: &str, now: i64) -> Result<bool, StoreError> {
        self.db.strike_login(login, address, self.policy, now).await
    }

    /// A successful login clears the pair's failures.
    pub async fn succeeded(&self, login: &str, address: &str) -> Result<(), StoreError> {
        self.db.clear_login_strikes(login, address).await
    }

    /// The logins locked at some address now (the accounts page offers their unlock).
    pub async fn locked_logins(
        &self,
        now: i64,
    ) -> Result<std::collections::HashSet<String>, StoreError> {
        self.db.locked_logins(now).await
    }

    /// An administrator's unlock: the account's locks at every address end.
    pub async fn unlock(&self, login: &str) -> Result<(), StoreError> {
        self.db.unlock_login(login).await
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
}
