//! `baiqian`: the one binary. Each subcommand is one job an operator does.

use std::io::BufRead;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use baiqian_domain::org::OrgCode;
use baiqian_domain::password::{PasswordPolicy, parse_login};
use baiqian_domain::role::Role;
use baiqian_domain::scope::Scope;
use baiqian_domain::second_factor::SecondFactorPolicy;
use baiqian_store::user::NewUser;
use baiqian_store::vault::Vault;
use baiqian_store::{Actor, Db, StoreError};
use baiqian_web::auth::{hash_password, random_token, sha256_hex};
use baiqian_web::clock::{Clock, DemoClock, SystemClock};
use baiqian_web::{AppState, Config, DemoLoginEntry, DemoLogins};
use clap::{Args, Parser, Subcommand};

#[derive(Parser, Debug)]
#[command(
    name = "baiqian",
    version,
    about = "百村示范、千村晋位 — the platform of a city's campaign to lift every village Party organization"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Build the Huzhou demo world into the database (when it is empty), print the demo logins, and serve it.
    ///
    /// The demo lives on its own calendar: its today is 2016-03-01 09:30 China time, and its clock
    /// runs on from there (from its last change when served again). Other commands use the real clock.
    Demo {
        /// Database URL: sqlite://PATH or postgres://USER@HOST/DB.
        #[arg(long, env = "BAIQIAN_DB", default_value = "sqlite://baiqian-demo.db")]
        db: String,
        /// Address to listen on.
        #[arg(long, default_value = "127.0.0.1:8080")]
        listen: SocketAddr,
        /// Build the world and stop, without serving.
        #[arg(long)]
        no_serve: bool,
        /// Leave out the member roster and the year of activity days (everything else is built).
        #[arg(long)]
        light: bool,
        /// Seed of the generator: the same seed builds the same world.
        #[arg(long, default_value_t = baiqian_demo::DEFAULT_SEED)]
        seed: u64,
        #[command(flatten)]
        server: ServerArgs,
    },
    /// Serve the application (applies pending migrations first).
    Serve {
        /// Database URL: sqlite://PATH or postgres://USER@HOST/DB.
        #[arg(long, env = "BAIQIAN_DB", default_value = "sqlite://baiqian.db")]
        db: String,
        /// Address to listen on.
        #[arg(long, default_value = "127.0.0.1:8080")]
        listen: SocketAddr,
        #[command(flatten)]
        server: ServerArgs,
    },
    /// Apply pending database migrations.
    Migrate {
        #[arg(long, env = "BAIQIAN_DB")]
        db: String,
    },
    /// Manage accounts.
    #[command(subcommand)]
    User(UserCommand),
    /// Manage API tokens.
    #[command(subcommand)]
    Token(TokenCommand),
    /// Manage card readers and kiosks.
    #[command(subcommand)]
    Device(DeviceCommand),
    /// Check the audit log.
    #[command(subcommand)]
    Audit(AuditCommand),
    /// Restore a backup into a new database (SQLite: a file that does not exist yet; PostgreSQL: an existing, empty database), bring it up to date and verify its audit chain.
    Restore {
        /// The backup file `baiqian backup` wrote.
        #[arg(long)]
        from: PathBuf,
        /// Database URL to restore into.
        #[arg(long)]
        db: String,
    },
    /// Write a consistent copy of the database while it serves (SQLite: VACUUM INTO; PostgreSQL: pg_dump custom format).
    Backup {
        #[arg(long, env = "BAIQIAN_DB")]
        db: String,
        /// The file to write; must not exist.
        #[arg(long)]
        to: PathBuf,
    },
}

#[derive(Subcommand, Debug)]
enum UserCommand {
    /// Add an account; the password is read from the first line of standard input.
    Add {
        #[arg(long, env = "BAIQIAN_DB")]
        db: String,
        #[arg(long)]
        login: String,
        #[arg(long)]
        name: String,
        /// city-admin, county-admin, township-admin, village-secretary, member, leader or auditor.
        #[arg(long)]
        role: String,
        /// Code of the account's node in the organization tree.
        #[arg(long)]
        org: String,
        #[command(flatten)]
        policy: PolicyArgs,
    },
    /// Turn off an account's two-step verification (a lost phone, no recovery code left): its
    /// secret and recovery codes are removed and its sessions end; it sets up a new one at its
    /// next sign-in if its role must have one. Audited with the reason.
    ResetMfa {
        #[arg(long, env = "BAIQIAN_DB")]
        db: String,
        #[arg(long)]
        login: String,
        /// Why (kept in the audit log), e.g. "phone lost, identity checked in person".
        #[arg(long)]
        reason: String,
    },
}

#[derive(Subcommand, Debug)]
enum AuditCommand {
    /// Walk the audit log's hash chain and recompute every row's hash; name the first row
    /// changed, removed or slipped in, and exit 1 if there is one.
    Verify {
        #[arg(long, env = "BAIQIAN_DB")]
        db: String,
        /// An anchor written down earlier (`SEQ:HASH`, from the server's log line "audit chain
        /// anchor"): the chain must pass through it, which a rewritten chain does not.
        #[arg(long)]
        anchor: Option<String>,
    },
}

#[derive(Subcommand, Debug)]
enum TokenCommand {
    /// Issue a bearer token for the JSON API and print it (it is stored only as a hash).
    Issue {
        #[arg(long, env = "BAIQIAN_DB")]
        db: String,
        #[arg(long)]
        login: String,
    },
}

#[derive(Subcommand, Debug)]
enum DeviceCommand {
    /// Register a card reader or kiosk at an organization and print its API token (stored only as a hash).
    Add {
        #[arg(long, env = "BAIQIAN_DB")]
        db: String,
        /// Code of the organization where the device stands.
        #[arg(long)]
        org: String,
        /// A name officials recognise (e.g. 村部一楼读卡器).
        #[arg(long)]
        name: String,
    },
    /// List the registered devices (id, organization, name, revoked or not).
    List {
        #[arg(long, env = "BAIQIAN_DB")]
        db: String,
    },
    /// Revoke a device (lost or stolen): its check-ins are refused from the next batch on.
    Revoke {
        #[arg(long, env = "BAIQIAN_DB")]
        db: String,
        /// The device's id, as `device list` shows it.
        #[arg(long)]
        id: i64,
    },
}

/// The password and session rule (default: MLPS level 3).
#[derive(Args, Debug, Clone)]
struct PolicyArgs {
    /// Shortest password accepted.
    #[arg(long, env = "BAIQIAN_PASSWORD_MIN_LENGTH", default_value_t = 8)]
    password_min_length: usize,
    /// How many of lower-case, upper-case, digits, symbols a password must use.
    #[arg(long, env = "BAIQIAN_PASSWORD_MIN_CLASSES", default_value_t = 3, value_parser = clap::value_parser!(u8).range(1..=4))]
    password_min_classes: u8,
    /// Failed logins in a row that lock an account.
    #[arg(long, env = "BAIQIAN_LOCKOUT_ATTEMPTS", default_value_t = 5)]
    lockout_attempts: u32,
    /// Minutes an account stays locked.
    #[arg(long, env = "BAIQIAN_LOCKOUT_MINUTES", default_value_t = 15)]
    lockout_minutes: i64,
    /// Minutes of inactivity that end a session.
    #[arg(long, env = "BAIQIAN_SESSION_IDLE_MINUTES", default_value_t = 30)]
    session_idle_minutes: i64,
}

impl PolicyArgs {
    fn policy(&self) -> PasswordPolicy {
        PasswordPolicy {
            min_length: self.password_min_length,
            min_classes: usize::from(self.password_min_classes),
            max_failed_attempts: self.lockout_attempts,
            lockout_minutes: self.lockout_minutes,
            idle_timeout_minutes: self.session_idle_minutes,
        }
    }
}

#[derive(Args, Debug, Clone)]
struct ServerArgs {
    #[command(flatten)]
    policy: PolicyArgs,
    #[command(flatten)]
    key: KeyArgs,
    /// Mark cookies Secure (serve behind HTTPS).
    #[arg(long, env = "BAIQIAN_SECURE_COOKIES")]
    secure_cookies: bool,
    /// The server sits behind a reverse proxy it trusts: login throttling counts the caller's
    /// address as the last one in X-Forwarded-For (never set this when clients reach the server
    /// directly: they could name any address).
    #[arg(long, env = "BAIQIAN_TRUSTED_PROXY")]
    trusted_proxy: bool,
    /// Roles that must sign in with two-step verification (an authenticator app's code after
    /// the password), separated by commas, or `none`. Default for `serve`:
    /// city-admin,county-admin,township-admin,auditor. Default for `demo`: none — its accounts
    /// are shared and their password is printed on the login page.
    #[arg(long, env = "BAIQIAN_SECOND_FACTOR_ROLES")]
    second_factor_roles: Option<String>,
    /// Directory of the evidence files (stored by SHA-256); the jobs' files go beside it
    /// (`DIR.jobs/`). Default with SQLite: beside the database (`PATH.evidence/`). With
    /// PostgreSQL it must be given, and be a directory every app node reads and writes (a shared
    /// mount): a file uploaded through one node is downloaded through another. Back it up with
    /// the database.
    #[arg(long, env = "BAIQIAN_EVIDENCE_DIR")]
    evidence_dir: Option<PathBuf>,
    /// This node's name among several app nodes on one database: its jobs carry it, and at its
    /// start it marks only its own old jobs interrupted. Keep it the same across restarts and
    /// different on each node. Default: HOSTNAME:PORT.
    #[arg(long, env = "BAIQIAN_NODE")]
    node: Option<String>,
}

impl ServerArgs {
    /// The second-factor rule: as given, else `default`.
    fn second_factor(&self, default: SecondFactorPolicy) -> Result<SecondFactorPolicy, CliError> {
        match &self.second_factor_roles {
            Some(roles) => SecondFactorPolicy::parse(roles)
                .map_err(|e| CliError::Usage(format!("--second-factor-roles: {e}"))),
            None => Ok(default),
        }
    }

    fn evidence_dir(&self, db: &str) -> Result<PathBuf, CliError> {
        match &self.evidence_dir {
            Some(p) => Ok(p.clone()),
            None => match sqlite_path(db) {
                Some(path) => Ok(PathBuf::from(format!("{path}.evidence"))),
                None => Err(CliError::Usage(
                    "with PostgreSQL give --evidence-dir (BAIQIAN_EVIDENCE_DIR): a directory every \
                     app node shares, where evidence and job files live / 使用 PostgreSQL 时须以 \
                     --evidence-dir 指定各节点共用的文件目录"
                        .into(),
                )),
            },
        }
    }

    /// This node's name: as given, else the host's name and the port.
    fn node(&self, listen: SocketAddr) -> String {
        self.node.clone().unwrap_or_else(|| {
            let host = std::fs::read_to_string("/proc/sys/kernel/hostname")
                .map(|h| h.trim().to_string())
                .ok()
                .filter(|h| !h.is_empty())
                .unwrap_or_else(|| "node".into());
            format!("{host}:{}", listen.port())
        })
    }
}

/// The file of a `sqlite://PATH?…` URL.
fn sqlite_path(db: &str) -> Option<&str> {
    db.strip_prefix("sqlite://")
        .or_else(|| db.strip_prefix("sqlite:"))
        .map(|p| p.split('?').next().unwrap_or(p))
}

/// Where the key that seals personal data lives.
#[derive(Args, Debug, Clone)]
struct KeyArgs {
    /// File holding the 32-byte key (hex) that encrypts ID numbers and phones; created when
    /// missing. Default: beside a SQLite database (`PATH.key`), else `baiqian-data.key`. Back it
    /// up apart from the database: without it the sealed data cannot be read.
    #[arg(long, env = "BAIQIAN_DATA_KEY_FILE")]
    data_key_file: Option<PathBuf>,
}

impl KeyArgs {
    /// The vault of the key file, bound to the database: a key other than the one the
    /// database's data is sealed with is refused (and a key file created just now for it is
    /// removed again), so no node seals with a key the others lack.
    async fn vault(&self, db: &str, store: &Db) -> Result<Vault, CliError> {
        let path = match &self.data_key_file {
            Some(p) => p.clone(),
            None => match sqlite_path(db) {
                Some(path) => PathBuf::from(format!("{path}.key")),
                None => PathBuf::from("baiqian-data.key"),
            },
        };
        let (vault, created) =
            Vault::open_or_create_key_file(&path).map_err(|e| CliError::Usage(e.to_string()))?;
        let now = SystemClock.now_ms();
        if let Err(e) = store.bind_data_key(&vault, now).await {
            if created {
                let _ = std::fs::remove_file(&path);
            }
            return Err(match e {
                StoreError::WrongDataKey(m) => {
                    CliError::Usage(format!("data key file {}: {m}", path.display()))
                }
                other => other.into(),
            });
        }
        Ok(vault)
    }
}

#[derive(Debug, thiserror::Error)]
enum CliError {
    #[error("{0}")]
    Store(#[from] StoreError),
    #[error("{0}")]
    Demo(#[from] baiqian_demo::DemoError),
    #[error("{0}")]
    Io(#[from] std::io::Error),
    #[error("{0}")]
    Usage(String),
    /// The audit chain is broken (the message names where).
    #[error("{0}")]
    Broken(String),
}

#[tokio::main]
async fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info,sqlx=warn")),
        )
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .with_writer(std::io::stderr)
        .init();
    let outcome = run(Cli::parse()).await;
    baiqian_web::request_log::flush();
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}

/// A message from the store in both languages, as an operator reads it.
fn both_languages(m: &baiqian_domain::Msg) -> String {
    use baiqian_web::i18n::{Lang, Tr};
    format!(
        "{} / {}",
        Tr::new(Lang::Zh).msg(m),
        Tr::new(Lang::En).msg(m)
    )
}

async fn open(url: &str) -> Result<Db, CliError> {
    let db = Db::connect(url).await?;
    db.migrate().await?;
    Ok(db)
}

fn hash(pw: &str) -> Result<String, CliError> {
    hash_password(pw).map_err(|e| CliError::Usage(e.to_string()))
}

async fn run(cli: Cli) -> Result<(), CliError> {
    let clock: Arc<dyn Clock> = Arc::new(SystemClock);
    match cli.command {
        Command::Demo {
            db,
            listen,
            no_serve,
            light,
            seed,
            server,
        } => {
            let evidence_dir = if no_serve {
                None
            } else {
                Some(server.evidence_dir(&db)?)
            };
            let store = open(&db).await?;
            let vault = server.key.vault(&db, &store).await?;
            // The demo world lives on its own calendar: built as of its today, served on a clock
            // that runs on from there (or from its last change, when served again).
            let base = baiqian_demo::calendar_start(store.latest_audit_at().await?);
            let clock: Arc<dyn Clock> = Arc::new(DemoClock::from(base));
            if store.org_count_all().await? == 0 {
                let hasher = |pw: &str| hash_password(pw).unwrap_or_default();
                let built = baiqian_demo::build(
                    &store,
                    &vault,
                    seed,
                    &hasher,
                    if light {
                        baiqian_demo::Roster::Without
                    } else {
                        baiqian_demo::Roster::MembersAndActivity
                    },
                    baiqian_demo::DEMO_TODAY_MS,
                )
                .await?;
                println!(
                    "Built the Huzhou demo world into {db}: {} organizations, {} accounts, {} members, {} check-ins.",
                    built.orgs, built.accounts, built.members, built.checkins
                );
            } else {
                println!("{db} already holds an organization tree; serving it as it is.");
            }
            let demo = demo_logins(&store).await?;
            println!("Demo logins (password {}):", baiqian_demo::DEMO_PASSWORD);
            for a in &demo.accounts {
                println!("  {:<20} {:<18} {}", a.login, a.role.as_str(), a.place);
            }
            if no_serve {
                // Closed, not dropped at exit: the last connection's close folds the WAL into
                // the database file, so a copy of the file alone is the whole world.
                store.close().await;
                return Ok(());
            }
            let config = Config {
                policy: server.policy.policy(),
                second_factor: server.second_factor(SecondFactorPolicy::none())?,
                demo: Some(demo),
                secure_cookies: server.secure_cookies,
                trusted_proxy: server.trusted_proxy,
                evidence_dir,
                node: server.node(listen),
            };
            serve(store, vault, clock, config, listen).await
        }
        Command::Serve { db, listen, server } => {
            let second_factor = server.second_factor(SecondFactorPolicy::default())?;
            let evidence_dir = server.evidence_dir(&db)?;
            let store = open(&db).await?;
            let config = Config {
                policy: server.policy.policy(),
                second_factor,
                demo: None,
                secure_cookies: server.secure_cookies,
                trusted_proxy: server.trusted_proxy,
                evidence_dir: Some(evidence_dir),
                node: server.node(listen),
            };
            let vault = server.key.vault(&db, &store).await?;
            serve(store, vault, clock, config, listen).await
        }
        Command::Migrate { db } => {
            let store = Db::connect(&db).await?;
            let ran = store.migrate().await?;
            println!("{ran} migration(s) applied to {db}.");
            Ok(())
        }
        Command::User(UserCommand::Add {
            db,
            login,
            name,
            role,
            org,
            policy,
        }) => {
            let login = parse_login(&login).map_err(|_| {
                CliError::Usage("login: 3-32 of a-z 0-9 . _ -, starting with a letter".into())
            })?;
            let role = Role::parse(&role).map_err(|e| CliError::Usage(e.to_string()))?;
            let org_code = OrgCode::parse(&org).map_err(|e| CliError::Usage(e.to_string()))?;
            let name = baiqian_domain::org::parse_name(&name)
                .map_err(|e| CliError::Usage(format!("name: {e}")))?;
            let mut password = String::new();
            std::io::stdin().lock().read_line(&mut password)?;
            let password = password.trim_end_matches(['\r', '\n']);
            policy
                .policy()
                .check(&login, password)
                .map_err(|e| CliError::Usage(format!("password: {e}")))?;
            let store = open(&db).await?;
            let new = NewUser {
                login: login.clone(),
                name,
                role,
                org_code,
                password_hash: hash(password)?,
            };
            let user = store
                .create_user(&Actor::cli(), new, clock.now_ms())
                .await
                .map_err(|e| match e {
                    StoreError::Invalid(m) => CliError::Usage(format!("{} {:?}", m.key, m.args)),
                    other => other.into(),
                })?;
            println!(
                "Added {} ({}) at {} {}.",
                user.login,
                user.role.as_str(),
                user.org_code,
                user.org_name
            );
            Ok(())
        }
        Command::User(UserCommand::ResetMfa { db, login, reason }) => {
            let reason = reason.trim();
            if reason.is_empty() || reason.chars().count() > 500 {
                return Err(CliError::Usage("--reason: 1 to 500 characters".into()));
            }
            let store = open(&db).await?;
            let user = store
                .reset_second_factor(&Actor::cli(), &login, reason, clock.now_ms())
                .await
                .map_err(|e| match e {
                    StoreError::NotFound => CliError::Usage(format!("no account {login}")),
                    other => other.into(),
                })?;
            println!(
                "Two-step verification of {} ({}) is off; its sessions have ended.",
                user.login,
                user.role.as_str()
            );
            Ok(())
        }
        Command::Token(TokenCommand::Issue { db, login }) => {
            let store = open(&db).await?;
            let user = store
                .user_by_login(&login)
                .await?
                .ok_or_else(|| CliError::Usage(format!("no account {login}")))?;
            if user.disabled {
                return Err(CliError::Usage(format!("account {login} is disabled")));
            }
            let token = random_token().map_err(|e| CliError::Usage(e.to_string()))?;
            store
                .issue_token(&Actor::cli(), &user, &sha256_hex(&token), clock.now_ms())
                .await?;
            println!("{token}");
            Ok(())
        }
        Command::Device(DeviceCommand::Add { db, org, name }) => {
            let org = OrgCode::parse(&org).map_err(|e| CliError::Usage(e.to_string()))?;
            let name = baiqian_domain::org::parse_name(&name)
                .map_err(|e| CliError::Usage(format!("name: {e}")))?;
            let store = open(&db).await?;
            let secret = random_token().map_err(|e| CliError::Usage(e.to_string()))?;
            let device = store
                .create_device(
                    &Actor::cli(),
                    &org,
                    &name,
                    &sha256_hex(&secret),
                    clock.now_ms(),
                )
                .await
                .map_err(|e| match e {
                    StoreError::NotFound => CliError::Usage(format!("no organization {org}")),
                    other => other.into(),
                })?;
            eprintln!(
                "Registered device {} ({}) at {}.",
                device.id, device.name, device.org_code
            );
            println!("{}{secret}", baiqian_web::auth::DEVICE_TOKEN_PREFIX);
            Ok(())
        }
        Command::Device(DeviceCommand::List { db }) => {
            let store = open(&db).await?;
            for row in store.devices(&Actor::cli()).await? {
                let d = row.device;
                let state = match row.revoked_at {
                    Some(ms) => match chrono::DateTime::from_timestamp_millis(ms) {
                        Some(t) => format!("revoked {}", t.to_rfc3339()),
                        None => format!("revoked at {ms} ms"),
                    },
                    None => "active".to_string(),
                };
                println!("{}\t{}\t{}\t{state}", d.id, d.org_code, d.name);
            }
            Ok(())
        }
        Command::Device(DeviceCommand::Revoke { db, id }) => {
            let store = open(&db).await?;
            let device = store
                .revoke_device(&Actor::cli(), id, clock.now_ms())
                .await
                .map_err(|e| match e {
                    StoreError::NotFound => CliError::Usage(format!("no device {id}")),
                    StoreError::Conflict(_) => {
                        CliError::Usage(format!("device {id} was revoked already"))
                    }
                    other => other.into(),
                })?;
            eprintln!(
                "Revoked device {} ({}) at {}.",
                device.id, device.name, device.org_code
            );
            Ok(())
        }
        Command::Audit(AuditCommand::Verify { db, anchor }) => {
            use baiqian_store::audit::chain::{BreakKind, parse_anchor};
            let anchor = anchor
                .map(|a| parse_anchor(&a))
                .transpose()
                .map_err(|_| CliError::Usage("--anchor: SEQ:HASH (64 hex digits)".into()))?;
            let store = Db::connect(&db).await?;
            let check = store
                .verify_audit_chain(anchor.as_ref().map(|(s, h)| (*s, h.as_str())))
                .await?;
            let Some(b) = check.broken else {
                println!(
                    "Audit chain verified: {} rows, head {}:{}.",
                    check.rows, check.head_seq, check.head
                );
                return Ok(());
            };
            let what = match b.kind {
                BreakKind::Changed => {
                    "its fields no longer hash to its stored hash: it was changed"
                }
                BreakKind::Link => {
                    "it does not follow the row before it: rows were removed or reordered"
                }
                BreakKind::Unchained => {
                    "it is outside the chain: it was inserted behind the application"
                }
                BreakKind::Head => {
                    "the chain ends before the recorded head: rows at its end were removed"
                }
                BreakKind::Anchor => "the chain does not pass through the anchor: it was rewritten",
            };
            let seq = b.seq.map(|s| format!(" (seq {s})")).unwrap_or_default();
            let row = if b.id > 0 {
                format!("row id {}{seq}", b.id)
            } else {
                format!("link{seq}")
            };
            Err(CliError::Broken(format!(
                "audit chain broken at {row}: {what} ({}); {} rows verified before it",
                b.kind.as_str(),
                check.rows
            )))
        }
        Command::Restore { from, db } => {
            let store = Db::restore(&from, &db).await.map_err(|e| match e {
                StoreError::Invalid(m) => CliError::Usage(both_languages(&m)),
                other => other.into(),
            })?;
            let check = store.verify_audit_chain(None).await?;
            store.close().await;
            if let Some(b) = check.broken {
                return Err(CliError::Broken(format!(
                    "restored {} into {db}, but its audit chain is broken at row id {} ({}): \
                     run `baiqian audit verify --db {db}`",
                    from.display(),
                    b.id,
                    b.kind.as_str()
                )));
            }
            println!(
                "Restored {} into {db}; audit chain verified: {} rows, head {}:{}.",
                from.display(),
                check.rows,
                check.head_seq,
                check.head
            );
            Ok(())
        }
        Command::Backup { db, to } => {
            let store = Db::connect(&db).await?;
            store.backup(&to).await.map_err(|e| match e {
                StoreError::Invalid(m) => CliError::Usage(format!(
                    "{} exists",
                    m.args.first().map(|a| a.1.as_str()).unwrap_or("")
                )),
                other => other.into(),
            })?;
            println!("Backed up {db} to {}.", to.display());
            Ok(())
        }
    }
}

async fn demo_logins(store: &Db) -> Result<DemoLogins, CliError> {
    let mut accounts = Vec::new();
    for a in baiqian_demo::DEMO_ACCOUNTS {
        let Ok(code) = OrgCode::parse(a.org_code) else {
            continue;
        };
        let place = match store.org(&Scope::everything(), &code).await {
            Ok(o) => o.into_org().name,
            Err(StoreError::NotFound) => continue,
            Err(e) => return Err(e.into()),
        };
        accounts.push(DemoLoginEntry {
            login: a.login.to_string(),
            role: a.role,
            place,
        });
    }
    Ok(DemoLogins {
        password: baiqian_demo::DEMO_PASSWORD.to_string(),
        accounts,
    })
}

async fn serve(
    store: Db,
    vault: Vault,
    clock: Arc<dyn Clock>,
    config: Config,
    listen: SocketAddr,
) -> Result<(), CliError> {
    let backend = store.backend().as_str();
    let second_factor = config.second_factor.describe();
    let state = AppState::new(store, vault, clock, config);
    let listener = tokio::net::TcpListener::bind(listen).await?;
    let addr = listener.local_addr()?;
    tracing::info!(%addr, backend, %second_factor, "serving (second factor required for these roles)");
    println!("Serving at http://{addr}");
    baiqian_web::serve(state, listener).await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn verify_cli() {
        use clap::CommandFactory;
        Cli::command().debug_assert();
    }
}
