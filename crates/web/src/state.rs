//! What every handler shares: the database, the vault, the clock, the server's settings, the
//! metrics and the check-in writer.

use std::sync::Arc;

use baiqian_domain::password::PasswordPolicy;
use baiqian_domain::second_factor::SecondFactorPolicy;
use baiqian_store::Db;
use baiqian_store::vault::Vault;

use crate::checkin_writer::{CheckinWriter, DeviceCache};
use crate::clock::Clock;
use crate::metrics::Metrics;

/// Settings of a running server (from the command line).
#[derive(Debug, Clone, Default)]
pub struct Config {
    pub policy: PasswordPolicy,
    /// The roles that must sign in with a second factor (default: the administrations and the
    /// auditors).
    pub second_factor: SecondFactorPolicy,
    /// Demo mode: the login page lists these logins and their password.
    pub demo: Option<DemoLogins>,
    /// Marks cookies `Secure`; on when served behind HTTPS.
    pub secure_cookies: bool,
    /// Where evidence files are kept, content-addressed; uploads are refused without it.
    pub evidence_dir: Option<std::path::PathBuf>,
    /// The server sits behind a proxy it trusts: the caller's address is the last one in
    /// `X-Forwarded-For`, not the connection's peer (the proxy).
    pub trusted_proxy: bool,
    /// This node's name among the app nodes on one database (its jobs carry it); empty: `local`.
    pub node: String,
}

impl Config {
    /// This node's name: as configured, else `local` (one node alone).
    pub fn node_name(&self) -> String {
        if self.node.is_empty() {
            "local".into()
        } else {
            self.node.clone()
        }
    }

    /// Where jobs keep their files: beside the evidence (`….evidence` → `….jobs`), else in the
    /// system's temporary directory.
    pub fn jobs_dir(&self) -> std::path::PathBuf {
        match &self.evidence_dir {
            Some(e) => e.with_extension("jobs"),
            None => std::env::temp_dir().join(format!("baiqian-jobs-{}", std::process::id())),
        }
    }
}

#[derive(Debug, Clone)]
pub struct DemoLogins {
    pub password: String,
    pub accounts: Vec<DemoLoginEntry>,
}

#[derive(Debug, Clone)]
pub struct DemoLoginEntry {
    pub login: String,
    pub role: baiqian_domain::role::Role,
    /// The name of the account's node.
    pub place: String,
}

/// What every handler shares. One `Arc` inside, so the per-request clones axum makes (one per
/// `State` extractor and stateful middleware) cost one atomic increment each, not a clone of every
/// pool handle (measured with perf: cloning and dropping the state was 12 % of the check-in
/// path's CPU when it was a struct of handles).
#[derive(Clone)]
pub struct AppState(Arc<AppParts>);

impl std::ops::Deref for AppState {
    type Target = AppParts;

    fn deref(&self) -> &AppParts {
        &self.0
    }
}

pub struct AppParts {
    pub db: Db,
    /// Seals and opens personal data (ID numbers, phones).
    pub vault: Arc<Vault>,
    pub clock: Arc<dyn Clock>,
    pub config: Arc<Config>,
    pub metrics: Arc<Metrics>,
    /// The group-commit writer every check-in goes through.
    pub checkins: CheckinWriter,
    pub devices: Arc<DeviceCache>,
    /// Uploaded files waiting for confirmation after their preview.
    pub drafts: Arc<crate::drafts::Drafts>,
    /// Long imports and exports, and where their files go.
    pub jobs: Arc<crate::job::Jobs>,
    /// Password checks as a bounded resource; failed logins counted per address and account.
    pub login_guard: Arc<crate::throttle::LoginGuard>,
    /// Requests to the stations from the public, per address (`station::public`).
    pub public_requests: Arc<crate::throttle::PublicBudget>,
    /// Follow-up pages and feedback by code, per address: a code cannot be guessed by trying.
    pub public_lookups: Arc<crate::throttle::PublicBudget>,
}

impl AppState {
    /// Builds the state and starts the check-in writer: call inside a Tokio runtime.
    pub fn new(db: Db, vault: Vault, clock: Arc<dyn Clock>, config: Config) -> Self {
        let jobs = Arc::new(crate::job::Jobs::new(config.jobs_dir(), config.node_name()));
        let checkins = CheckinWriter::spawn(db.clone(), clock.clone());
        let login_guard = Arc::new(crate::throttle::LoginGuard::new(
            crate::throttle::ThrottlePolicy {
                pair_max: config.policy.max_failed_attempts,
                address_max: crate::throttle::ADDRESS_MAX_FAILURES,
                window_ms: config.policy.lockout_minutes * 60_000,
            },
            std::thread::available_parallelism().map_or(2, usize::from),
            db.clone(),
        ));
        Self(Arc::new(AppParts {
            login_guard,
            public_requests: Arc::new(crate::throttle::PublicBudget::new(
                crate::throttle::PUBLIC_REQUESTS_PER_WINDOW,
                crate::throttle::PUBLIC_WINDOW_MS,
            )),
            public_lookups: Arc::new(crate::throttle::PublicBudget::new(
                crate::throttle::PUBLIC_LOOKUPS_PER_WINDOW,
                crate::throttle::PUBLIC_WINDOW_MS,
            )),
            db,
            vault: Arc::new(vault),
            clock,
            config: Arc::new(config),
            metrics: Arc::new(Metrics::new()),
            checkins,
            devices: Arc::new(DeviceCache::default()),
            drafts: Arc::new(crate::drafts::Drafts::default()),
            jobs,
        }))
    }
}

/// Largest request body: an imported spreadsheet.
pub const MAX_UPLOAD_BYTES: usize = 10 * 1024 * 1024;

/// Largest roster upload: a province's million rows of eleven columns is about 45 MB as `.xlsx`.
pub const MAX_ROSTER_UPLOAD_BYTES: usize = 128 * 1024 * 1024;
