//! What the binary's PostgreSQL stories share: a throwaway database on the server
//! `BAIQIAN_TEST_PG` names.

/// A database made for one test and dropped (with its sessions) when this goes.
pub struct PgDatabase {
    admin: String,
    pub name: String,
    /// Its URL, on the same server as the admin URL.
    pub url: String,
}

pub fn block_on<F: std::future::Future>(f: F) -> F::Output {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
        .block_on(f)
}

/// Runs the binary quietly, with a data key file of this test process's own (`tag` names it);
/// whether it succeeded, and what it printed (stdout, then stderr).
#[allow(
    dead_code,
    reason = "the stories that read the binary's answers use it; the others drive a server"
)]
pub fn run(tag: &str, args: &[&str]) -> (bool, String) {
    let key = std::env::temp_dir().join(format!("baiqian-{tag}-{}.key", std::process::id()));
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_baiqian"))
        .args(args)
        .env("RUST_LOG", "warn")
        .env("BAIQIAN_DATA_KEY_FILE", key)
        .output()
        .unwrap();
    (
        out.status.success(),
        format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ),
    )
}

/// Runs one statement as the server's admin.
pub fn admin_execute(admin: &str, sql: &str) -> Result<(), sqlx::Error> {
    block_on(async {
        let db = baiqian_store::Db::connect(admin)
            .await
            .unwrap_or_else(|e| panic!("BAIQIAN_TEST_PG unreachable: {e}"));
        let out = sqlx::raw_sql(sql).execute(db.pool()).await.map(|_| ());
        db.close().await;
        out
    })
}

impl PgDatabase {
    /// A new, empty database `name` (dropped first if a failed run left it); `None`, said on
    /// stderr, when `BAIQIAN_TEST_PG` is not set.
    pub fn create(name: &str) -> Option<PgDatabase> {
        let Some(admin) = std::env::var("BAIQIAN_TEST_PG")
            .ok()
            .filter(|s| !s.is_empty())
        else {
            eprintln!("postgres: skipped (BAIQIAN_TEST_PG is not set)");
            return None;
        };
        admin_execute(
            &admin,
            &format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"),
        )
        .unwrap();
        admin_execute(&admin, &format!("CREATE DATABASE {name}")).unwrap();
        let root = admin.rsplit_once('/').map(|(r, _)| r).unwrap();
        Some(PgDatabase {
            url: format!("{root}/{name}"),
            name: name.to_string(),
            admin,
        })
    }
}

impl PgDatabase {
    /// A copy of `template` named `name`: the template's sessions are ended first (PostgreSQL
    /// copies only a database nobody is connected to).
    #[allow(dead_code, reason = "the audit chain's story copies one built world")]
    pub fn copy_of(template: &PgDatabase, name: &str) -> PgDatabase {
        let admin = &template.admin;
        admin_execute(
            admin,
            &format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"),
        )
        .unwrap();
        admin_execute(
            admin,
            &format!(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity \
                 WHERE datname = '{}' AND pid <> pg_backend_pid()",
                template.name
            ),
        )
        .unwrap();
        admin_execute(
            admin,
            &format!("CREATE DATABASE {name} TEMPLATE {}", template.name),
        )
        .unwrap();
        let root = admin.rsplit_once('/').map(|(r, _)| r).unwrap();
        PgDatabase {
            url: format!("{root}/{name}"),
            name: name.to_string(),
            admin: admin.clone(),
        }
    }
}

impl Drop for PgDatabase {
    fn drop(&mut self) {
        let _ = admin_execute(
            &self.admin,
            &format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", self.name),
        );
    }
}
