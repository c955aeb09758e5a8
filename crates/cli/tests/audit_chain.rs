//! The audit log proves itself (issue 30): a row changed, removed or slipped in behind the
//! application's back — its guard trigger dropped first, as someone with the database's keys
//! would — makes `baiqian audit verify` exit 1 naming that row; a rewritten chain fails its
//! anchor; PostgreSQL refuses TRUNCATE, and a TRUNCATE around the guard is named too. SQLite
//! always; PostgreSQL with `BAIQIAN_TEST_PG`.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

fn run(args: &[&str]) -> (bool, String) {
    common::run("chain", args)
}

fn verify(db: &str, anchor: Option<&str>) -> (bool, String) {
    let mut args = vec!["audit", "verify", "--db", db];
    if let Some(a) = anchor {
        args.extend(["--anchor", a]);
    }
    run(&args)
}

fn rt() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

async fn exec(db: &str, sql: &str) -> Result<(), sqlx::Error> {
    let store = baiqian_store::Db::connect(db).await.unwrap();
    sqlx::raw_sql(sql).execute(store.pool()).await.map(|_| ())
}

async fn scalar(db: &str, sql: &str) -> i64 {
    let store = baiqian_store::Db::connect(db).await.unwrap();
    sqlx::query_scalar(sql)
        .fetch_one(store.pool())
        .await
        .unwrap()
}

/// How each database is copied and its guard taken away.
trait World {
    /// A fresh copy of the built world; its URL.
    fn copy(&self, name: &str) -> String;
    /// The statement that drops the log's guard against UPDATE and DELETE.
    fn unguard(&self) -> &'static str;
}

/// Each tampering on its own copy of one demo world: verify names the row.
fn tampering_is_named(world: &dyn World, built: &str) {
    let rt = rt();
    let (ok, out) = verify(built, None);
    assert!(ok, "{out}");
    assert!(out.contains("Audit chain verified"), "{out}");
    let anchor = out
        .split("head ")
        .nth(1)
        .and_then(|h| h.trim().strip_suffix('.'))
        .expect("the head printed")
        .to_string();
    assert!(verify(built, Some(&anchor)).0, "its own head is an anchor");

    // Through the application's door the log cannot change.
    let refused = rt.block_on(exec(
        built,
        "UPDATE audit_log SET reason = 'x' WHERE seq = 3",
    ));
    assert!(refused.is_err(), "the guard refuses an update");

    // A row changed.
    let db = world.copy("changed");
    let id = rt.block_on(scalar(&db, "SELECT id FROM audit_log WHERE seq = 3"));
    rt.block_on(exec(
        &db,
        &format!(
            "{} UPDATE audit_log SET reason = '补记' WHERE seq = 3",
            world.unguard()
        ),
    ))
    .unwrap();
    let (ok, out) = verify(&db, None);
    assert!(!ok, "{out}");
    assert!(
        out.contains(&format!("row id {id} (seq 3)")) && out.contains("changed"),
        "{out}"
    );

    // A row removed: the next one no longer follows.
    let db = world.copy("removed");
    let next = rt.block_on(scalar(&db, "SELECT id FROM audit_log WHERE seq = 4"));
    rt.block_on(exec(
        &db,
        &format!("{} DELETE FROM audit_log WHERE seq = 3", world.unguard()),
    ))
    .unwrap();
    let (ok, out) = verify(&db, None);
    assert!(!ok, "{out}");
    assert!(
        out.contains(&format!("row id {next} (seq 4)")) && out.contains("(link)"),
        "{out}"
    );

    // A row slipped in with any actor and time.
    let db = world.copy("forged");
    rt.block_on(exec(
        &db,
        "INSERT INTO audit_log (at, actor_login, actor_role, action, entity, entity_key, org_path) \
         VALUES (1, 'city.admin', 'city_admin', 'verify', 'problem', '#1 x', '/')",
    ))
    .unwrap();
    let forged = rt.block_on(scalar(&db, "SELECT MAX(id) FROM audit_log"));
    let (ok, out) = verify(&db, None);
    assert!(!ok, "{out}");
    assert!(
        out.contains(&format!("row id {forged}")) && out.contains("unchained"),
        "{out}"
    );

    // The last rows removed: the chain ends before its recorded head.
    let db = world.copy("cut");
    rt.block_on(exec(
        &db,
        &format!(
            "{} DELETE FROM audit_log WHERE seq = (SELECT MAX(seq) FROM audit_log)",
            world.unguard()
        ),
    ))
    .unwrap();
    let (ok, out) = verify(&db, None);
    assert!(!ok && out.contains("(head)"), "{out}");

    // A chain that does not pass through an anchor written down earlier was rewritten.
    let (seq, _) = anchor.split_once(':').unwrap();
    let other = format!("{seq}:{}", "ab".repeat(32));
    let (ok, out) = verify(built, Some(&other));
    assert!(!ok && out.contains("(anchor)"), "{out}");
    let (ok, out) = verify(built, Some("not-an-anchor"));
    assert!(!ok && out.contains("--anchor"), "{out}");
}

struct Sqlite {
    dir: std::path::PathBuf,
}

impl World for Sqlite {
    fn copy(&self, name: &str) -> String {
        let to = self.dir.join(format!("{name}.db"));
        std::fs::copy(self.dir.join("world.db"), &to).unwrap();
        // A connection still open on the world keeps recent pages in its WAL: the copy takes
        // them along, or it would be a torn database.
        let wal = self.dir.join("world.db-wal");
        if wal.exists() {
            std::fs::copy(&wal, self.dir.join(format!("{name}.db-wal"))).unwrap();
        }
        format!("sqlite://{}", to.display())
    }
    fn unguard(&self) -> &'static str {
        "DROP TRIGGER audit_log_no_update; DROP TRIGGER audit_log_no_delete;"
    }
}

#[test]
fn tampering_with_the_audit_log_is_named_on_sqlite() {
    let dir = std::env::temp_dir().join(format!("baiqian-chain-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let built = format!("sqlite://{}/world.db", dir.display());
    let (ok, out) = run(&["demo", "--no-serve", "--light", "--db", &built]);
    assert!(ok, "{out}");
    // The demo is built on its own calendar: every change recorded at the demo's today.
    let off_calendar = rt().block_on(scalar(
        &built,
        &format!(
            "SELECT COUNT(*) FROM audit_log WHERE at <> {}",
            baiqian_demo::DEMO_TODAY_MS
        ),
    ));
    assert_eq!(off_calendar, 0, "every change dated at the demo's today");
    tampering_is_named(&Sqlite { dir: dir.clone() }, &built);
    let _ = std::fs::remove_dir_all(&dir);
}

struct Postgres {
    built: common::PgDatabase,
    /// The copies made, dropped with the world.
    copies: std::cell::RefCell<Vec<common::PgDatabase>>,
}

impl World for Postgres {
    fn copy(&self, name: &str) -> String {
        let db = common::PgDatabase::copy_of(&self.built, &format!("{}_{name}", self.built.name));
        let url = db.url.clone();
        self.copies.borrow_mut().push(db);
        url
    }
    fn unguard(&self) -> &'static str {
        "DROP TRIGGER audit_log_no_change ON audit_log;"
    }
}

#[test]
fn tampering_with_the_audit_log_is_named_on_postgres() {
    let Some(built) = common::PgDatabase::create(&format!("bq_chain_{}", std::process::id()))
    else {
        return;
    };
    let (ok, out) = run(&["demo", "--no-serve", "--light", "--db", &built.url]);
    assert!(ok, "{out}");
    let url = built.url.clone();
    let world = Postgres {
        built,
        copies: Default::default(),
    };
    tampering_is_named(&world, &url);
    // TRUNCATE is refused; around its guard, the emptied log fails against its head.
    let rt = rt();
    let db = world.copy("truncated");
    let refused = rt.block_on(exec(&db, "TRUNCATE audit_log"));
    assert!(refused.is_err(), "TRUNCATE refused");
    rt.block_on(exec(
        &db,
        "ALTER TABLE audit_log DISABLE TRIGGER USER; TRUNCATE audit_log",
    ))
    .unwrap();
    let (ok, out) = verify(&db, None);
    assert!(!ok && out.contains("(head)"), "{out}");
}
