//! The database of baiqian: one query layer over the embedded SQLite default and PostgreSQL.
//!
//! Queries are written once in portable SQL (`$1` placeholders, `BIGINT` ids and Unix-ms
//! timestamps, `TEXT` codes) and run through sqlx's `Any` driver; only DDL differs, so each backend
//! keeps its own migration history. Every query that touches area data takes the caller's scope
//! and filters by it in SQL.

// Shared by every area.
pub mod audit;
pub(crate) mod backend;
pub(crate) mod bulk;
pub(crate) mod check;
pub mod import;
pub mod kernel;
pub mod migrate;
pub mod vault;

// The areas: each imports the shared modules above, never another area (tests/areas.rs).
pub mod aid;
pub mod cadre;
pub mod checkin;
pub mod job;
pub mod ledger;
pub mod member;
pub mod org;
pub mod plan;
pub mod post;
pub mod rating;
pub mod station;
pub mod team;
pub mod user;
pub mod wish;

// Above the areas: work that changes two of them in one transaction (tests/areas.rs).
mod flow;

/// The areas that keep records per node, told of every change of the tree in this order
/// (`kernel::tree_changed`): the one path from the tree down to them.
pub(crate) const TREE_FOLLOWERS: &[kernel::Follower] = &[
    rating::follow_tree,
    user::follow_tree,
    checkin::follow_tree,
    team::follow_tree,
    ledger::follow_tree,
    plan::follow_tree,
    cadre::follow_tree,
    aid::follow_tree,
    wish::follow_tree,
    station::follow_tree,
    post::follow_tree,
];

use std::sync::Arc;
use std::time::Duration;

use baiqian_domain::Msg;
use baiqian_domain::role::Role;
use baiqian_domain::scope::Scope;
use sqlx::any::{AnyConnectOptions, AnyPoolOptions};
use sqlx::{Any, AnyPool, Executor, Transaction};
use tokio::sync::{Mutex, OwnedMutexGuard};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

impl Backend {
    pub fn as_str(self) -> &'static str {
        match self {
            Backend::Sqlite => "sqlite",
            Backend::Postgres => "postgres",
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("database: {0}")]
    Db(#[from] sqlx::Error),
    /// From the embedded database's check-in connection.
    #[error("database: {0}")]
    Sqlite(#[from] rusqlite::Error),
    #[error("unsupported database URL {0:?}: use sqlite://PATH or postgres://…")]
    BadUrl(String),
    /// Absent, or outside the caller's scope: the two are never told apart.
    #[error("not found")]
    NotFound,
    /// The caller's role may not do this (inside their scope).
    #[error("not allowed: {}", .0.key)]
    Denied(Msg),
    /// Input that breaks a rule; nothing was written.
    #[error("invalid: {}", .0.key)]
    Invalid(Msg),
    /// Not this caller's turn, or the record is in a state that does not allow it.
    #[error("conflict: {}", .0.key)]
    Conflict(Msg),
    #[error("migration {0}: {1}")]
    Migration(String, String),
    #[error("stored data is corrupt: {0}")]
    Corrupt(String),
    /// The data key given is not the one this database's personal data is sealed with.
    #[error("{0}")]
    WrongDataKey(String),
}

pub type Result<T, E = StoreError> = std::result::Result<T, E>;

/// Who makes a change, for scope checks and the audit log.
#[derive(Debug, Clone)]
pub struct Actor {
    pub user_id: Option<i64>,
    pub login: String,
    pub role: Role,
    pub scope: Scope,
}

impl Actor {
    /// The operator at the command line: whole database, recorded as `cli`.
    pub fn cli() -> Self {
        Self {
            user_id: None,
            login: "cli".into(),
            role: Role::CityAdmin,
            scope: Scope::everything(),
        }
    }
}

/// A connection pool and the backend it speaks to.
#[derive(Clone)]
pub struct Db {
    pool: AnyPool,
    backend: Backend,
    url: String,
    /// SQLite allows one writer; taking this before `BEGIN` queues writers in-process instead of
    /// failing one of two deferred transactions with SQLITE_BUSY.
    write_lock: Option<Arc<Mutex<()>>>,
    /// The check-in batch path's own connection to the same SQLite file.
    sqlite_checkins: Option<Arc<backend::sqlite::SqliteCheckins>>,
    /// Typed PostgreSQL connections for what `Any` cannot do or does slowly: `COPY` in bulk
    /// loads, and the check-in batches (array parameters; two batches may be in flight).
    pg_typed: Option<sqlx::PgPool>,
    /// Counts of published rounds already read (they never change).
    published_counts: Arc<rating::PublishedCounts>,
    /// The campaign's township standings, remembered per audit sequence (`plan::standing`).
    standings_memo: Arc<plan::StandingsMemo>,
}

/// A write transaction, holding the SQLite writer lock until commit or drop.
pub struct WriteTx {
    pub tx: Transaction<'static, Any>,
    _guard: Option<OwnedMutexGuard<()>>,
}

impl WriteTx {
    pub async fn commit(self) -> Result<()> {
        self.tx.commit().await?;
        Ok(())
    }

    pub fn conn(&mut self) -> &mut sqlx::AnyConnection {
        &mut self.tx
    }
}

impl Db {
    /// Connects to `sqlite://PATH` (created when missing) or `postgres://…`.
    pub async fn connect(url: &str) -> Result<Self> {
        sqlx::any::install_default_drivers();
        let (backend, conn_url) = if let Some(path) = url
            .strip_prefix("sqlite://")
            .or_else(|| url.strip_prefix("sqlite:"))
        {
            if path.is_empty() {
                return Err(StoreError::BadUrl(url.into()));
            }
            let sep = if path.contains('?') { '&' } else { '?' };
            (Backend::Sqlite, format!("sqlite://{path}{sep}mode=rwc"))
        } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            (Backend::Postgres, url.to_string())
        } else {
            return Err(StoreError::BadUrl(url.into()));
        };
        let opts: AnyConnectOptions = conn_url.parse()?;
        let pool = match backend {
            Backend::Sqlite => {
                AnyPoolOptions::new()
                    .max_connections(8)
                    .acquire_timeout(Duration::from_secs(10))
                    .after_connect(|conn, _meta| {
                        Box::pin(async move {
                            // WAL lets readers run beside the writer; FULL makes each commit durable
                            // across power loss, not only a crash of the process.
                            conn.execute(
                                "PRAGMA busy_timeout=10000; PRAGMA journal_mode=WAL; \
                                 PRAGMA synchronous=FULL; PRAGMA foreign_keys=ON;",
                            )
                            .await?;
                            Ok(())
                        })
                    })
                    .connect_with(opts)
                    .await?
            }
            Backend::Postgres => {
                AnyPoolOptions::new()
                    .max_connections(16)
                    .acquire_timeout(Duration::from_secs(10))
                    .after_connect(|conn, _meta| {
                        Box::pin(async move {
                            // JIT compiling a query costs ~0.6 s here (measured: the set-based
                            // re-rating went from 30 ms to 660 ms once statistics made it look
                            // expensive); no query of this application runs long enough to
                            // repay it.
                            conn.execute("SET jit = off").await?;
                            Ok(())
                        })
                    })
                    .connect_with(opts)
                    .await?
            }
        };
        let write_lock = (backend == Backend::Sqlite).then(|| Arc::new(Mutex::new(())));
        let sqlite_checkins = match (
            backend,
            url.strip_prefix("sqlite://")
                .or_else(|| url.strip_prefix("sqlite:")),
        ) {
            (Backend::Sqlite, Some(rest)) => Some(Arc::new(backend::sqlite::SqliteCheckins {
                path: rest.split('?').next().unwrap_or(rest).to_string(),
                conn: std::sync::Mutex::new(None),
            })),
            _ => None,
        };
        let pg_typed = match backend {
            Backend::Postgres => Some(
                sqlx::postgres::PgPoolOptions::new()
                    .max_connections(2)
                    .min_connections(0)
                    .after_connect(|conn, _meta| {
                        Box::pin(async move {
                            // The check-in statements stay prepared across batches; a generic
                            // plan made while `checkins` was small scans it whole ever after
                            // (measured: 55 ms per `client_id = ANY($1)` in the burst). Each
                            // execution is planned for its own arrays instead.
                            conn.execute("SET jit = off; SET plan_cache_mode = force_custom_plan")
                                .await?;
                            Ok(())
                        })
                    })
                    .connect_lazy(&conn_url)?,
            ),
            Backend::Sqlite => None,
        };
        Ok(Self {
            pool,
            backend,
            url: url.to_string(),
            write_lock,
            sqlite_checkins,
            pg_typed,
            published_counts: Arc::default(),
            standings_memo: Arc::default(),
        })
    }

    pub fn backend(&self) -> Backend {
        self.backend
    }

    pub fn url(&self) -> &str {
        &self.url
    }

    pub fn pool(&self) -> &AnyPool {
        &self.pool
    }

    /// The check-in path's own connection (SQLite only).
    pub(crate) fn sqlite_checkins(&self) -> Option<&Arc<backend::sqlite::SqliteCheckins>> {
        self.sqlite_checkins.as_ref()
    }

    /// The typed PostgreSQL pool of bulk loads and check-in batches (PostgreSQL only).
    pub(crate) fn pg_typed(&self) -> Option<&sqlx::PgPool> {
        self.pg_typed.as_ref()
    }

    /// Takes the SQLite writer lock (nothing on PostgreSQL).
    pub(crate) async fn lock_writer(&self) -> Option<OwnedMutexGuard<()>> {
        match &self.write_lock {
            Some(lock) => Some(lock.clone().lock_owned().await),
            None => None,
        }
    }

    pub async fn write(&self) -> Result<WriteTx> {
        let guard = match &self.write_lock {
            Some(lock) => Some(lock.clone().lock_owned().await),
            None => None,
        };
        // SQLite: IMMEDIATE takes the database's write lock at BEGIN. A deferred transaction
        // reads first and upgrades at its first write; if any other connection (the check-in
        // writer, a session touch) committed in between, SQLite answers SQLITE_BUSY_SNAPSHOT at
        // once, which no busy timeout waits out (seen: one of eight concurrent wish claims
        // answered 500 under a loaded CI run).
        let tx = match self.backend {
            Backend::Sqlite => self.pool.begin_with("BEGIN IMMEDIATE").await?,
            Backend::Postgres => self.pool.begin().await?,
        };
        Ok(WriteTx { tx, _guard: guard })
    }

    pub async fn close(&self) {
        if let Some(w) = &self.sqlite_checkins {
            w.close();
        }
        if self.backend == Backend::Sqlite {
            // Fold the WAL into the database file: the file alone is then the whole database,
            // for whoever copies it once the process is gone.
            if let Err(e) = sqlx::query("PRAGMA wal_checkpoint(TRUNCATE)")
                .execute(&self.pool)
                .await
            {
                tracing::warn!(error = %e, "closing: the WAL checkpoint failed");
            }
        }
        if let Some(p) = &self.pg_typed {
            p.close().await;
        }
        self.pool.close().await;
    }

    /// Whether the database answers a trivial query (for `/healthz`).
    pub async fn ping(&self) -> Result<()> {
        sqlx::query("SELECT 1").execute(&self.pool).await?;
        Ok(())
    }

    /// A consistent copy of the whole database, taken while it serves. SQLite copies itself with
    /// `VACUUM INTO`; PostgreSQL is dumped by `pg_dump` in one snapshot.
    pub async fn backup(&self, to: &std::path::Path) -> Result<()> {
        if to.exists() {
            return Err(StoreError::Invalid(
                Msg::new("backup.error.exists").arg("path", to.display()),
            ));
        }
        match self.backend {
            Backend::Sqlite => {
                let target = to.to_string_lossy().to_string();
                sqlx::query("VACUUM INTO $1")
                    .bind(target)
                    .execute(&self.pool)
                    .await?;
                Ok(())
            }
            Backend::Postgres => {
                let out = tokio::process::Command::new("pg_dump")
                    .arg("--format=custom")
                    .arg("--file")
                    .arg(to)
                    .arg(&self.url)
                    .output()
                    .await
                    .map_err(|e| StoreError::Migration("backup".into(), format!("pg_dump: {e}")))?;
                if !out.status.success() {
                    return Err(StoreError::Migration(
                        "backup".into(),
                        String::from_utf8_lossy(&out.stderr).trim().to_string(),
                    ));
                }
                Ok(())
            }
        }
    }
}

impl Db {
    /// Restores a backup (`backup`'s file) into a new database at `to_url` and opens it with
    /// its migrations applied (a backup of an older version comes up to date). SQLite: the file
    /// must not exist; the copy is written beside it and renamed into place. PostgreSQL: the
    /// database must exist and be empty; `pg_restore` loads it in one transaction.
    pub async fn restore(from: &std::path::Path, to_url: &str) -> Result<Db> {
        use sqlx::Row;
        let mut head = [0u8; 16];
        let read = std::fs::File::open(from)
            .and_then(|mut f| std::io::Read::read_exact(&mut f, &mut head))
            .is_ok();
        let not_backup = || {
            StoreError::Invalid(Msg::new("restore.error.not_backup").arg("path", from.display()))
        };
        if let Some(rest) = to_url
            .strip_prefix("sqlite://")
            .or_else(|| to_url.strip_prefix("sqlite:"))
        {
            let path = std::path::PathBuf::from(rest.split('?').next().unwrap_or(rest));
            if !read || &head != b"SQLite format 3\0" {
                return Err(not_backup());
            }
            if path.exists() {
                return Err(StoreError::Invalid(
                    Msg::new("restore.error.exists").arg("path", path.display()),
                ));
            }
            let part = path.with_extension("restoring");
            let copied = std::fs::copy(from, &part).and_then(|_| std::fs::rename(&part, &path));
            if let Err(e) = copied {
                let _ = std::fs::remove_file(&part);
                return Err(StoreError::Migration("restore".into(), e.to_string()));
            }
        } else {
            // pg_dump's custom format starts with "PGDMP".
            if !read || !head.starts_with(b"PGDMP") {
                return Err(not_backup());
            }
            let target = Db::connect(to_url).await?;
            let tables: i64 = sqlx::query(
                "SELECT COUNT(*) FROM information_schema.tables WHERE table_schema = 'public'",
            )
            .fetch_one(target.pool())
            .await?
            .try_get(0)?;
            target.close().await;
            if tables > 0 {
                return Err(StoreError::Invalid(Msg::new("restore.error.not_empty")));
            }
            let out = tokio::process::Command::new("pg_restore")
                .args(["--exit-on-error", "--single-transaction", "--no-owner"])
                .arg("--dbname")
                .arg(to_url)
                .arg(from)
                .output()
                .await
                .map_err(|e| StoreError::Migration("restore".into(), format!("pg_restore: {e}")))?;
            if !out.status.success() {
                return Err(StoreError::Migration(
                    "restore".into(),
                    String::from_utf8_lossy(&out.stderr).trim().to_string(),
                ));
            }
        }
        let db = Db::connect(to_url).await?;
        db.migrate().await?;
        Ok(db)
    }
}

/// Turns a unique-constraint violation into the given message, other errors into `Db`.
pub(crate) fn on_unique(e: sqlx::Error, msg: Msg) -> StoreError {
    if let sqlx::Error::Database(db) = &e
        && db.is_unique_violation()
    {
        return StoreError::Invalid(msg);
    }
    StoreError::Db(e)
}

/// An uploaded file's name as kept beside its content (evidence of a rating or a problem): no
/// control characters, slashes or quotes (it comes back in a Content-Disposition header and in
/// pages), at most 100 characters.
pub(crate) fn stored_file_name(raw: &str) -> String {
    raw.chars()
        .filter(|c| !c.is_control() && !matches!(c, '/' | '\\' | '"'))
        .take(100)
        .collect()
}

/// Escapes `%`, `_` and `\` for a `LIKE … ESCAPE '\'` pattern.
pub(crate) fn like_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if matches!(c, '%' | '_' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// Runs one SQL statement outside any area's rules: for benchmarks and tools only, never with
/// user input.
pub async fn raw_execute(db: &Db, sql: &str) -> Result<u64> {
    let _guard = db.lock_writer().await;
    Ok(sqlx::raw_sql(sql).execute(db.pool()).await?.rows_affected())
}

impl Db {
    /// Refreshes the planner's statistics, as after a bulk load (PostgreSQL's autovacuum would
    /// get there later; until then a fresh table looks empty to the planner).
    pub async fn analyze(&self) -> Result<()> {
        let _guard = self.lock_writer().await;
        sqlx::raw_sql("ANALYZE").execute(self.pool()).await?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The check-in connection is opened outside sqlx: it must keep the same promises (a commit
    /// survives power loss; foreign keys hold).
    #[tokio::test]
    async fn checkin_connection_is_as_durable_as_the_pool() {
        let dir = std::env::temp_dir().join(format!("baiqian-store-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let db = Db::connect(&format!("sqlite://{}/t.db", dir.display()))
            .await
            .unwrap();
        db.migrate().await.unwrap();
        let writer = db.sqlite_checkins().unwrap().clone();
        let (sync, journal, fks) = tokio::task::spawn_blocking(move || {
            writer.with(|c| {
                let q = |p: &str| {
                    c.pragma_query_value(None, p, |r| r.get::<_, rusqlite::types::Value>(0))
                };
                Ok((q("synchronous")?, q("journal_mode")?, q("foreign_keys")?))
            })
        })
        .await
        .unwrap()
        .unwrap();
        assert_eq!(sync, rusqlite::types::Value::Integer(2), "synchronous=FULL");
        assert_eq!(journal, rusqlite::types::Value::Text("wal".into()));
        assert_eq!(fks, rusqlite::types::Value::Integer(1));
        db.close().await;
        let _ = std::fs::remove_dir_all(&dir);
    }
}
