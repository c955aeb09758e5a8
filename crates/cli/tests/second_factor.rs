//! The operator's side of two-step sign-in (issue 30): `baiqian user reset-mfa` turns an
//! account's second factor off, ends its sessions and says why in the audit log; a bad rule in
//! `--second-factor-roles` stops the server before it starts. SQLite always; PostgreSQL with
//! `BAIQIAN_TEST_PG`.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

fn run(args: &[&str]) -> (bool, String) {
    common::run("mfa", args)
}

fn scalar(db: &str, sql: &str) -> i64 {
    common::block_on(async {
        let store = baiqian_store::Db::connect(db).await.unwrap();
        let v = sqlx::query_scalar(sql)
            .fetch_one(store.pool())
            .await
            .unwrap();
        store.close().await;
        v
    })
}

fn reset_story(db: &str) {
    let (ok, out) = run(&["demo", "--no-serve", "--light", "--db", db]);
    assert!(ok, "{out}");
    // 煤山镇's admin as after setting up an app and signing in with it: a confirmed secret, a
    // recovery code, a two-step session.
    common::block_on(async {
        let store = baiqian_store::Db::connect(db).await.unwrap();
        for sql in [
            "UPDATE users SET totp_secret_sealed = 'sealed', totp_confirmed_at = 1, totp_last_step = 9 \
             WHERE login = 'meishan.admin'",
            "INSERT INTO recovery_codes (user_id, code_hash, created_at) \
             SELECT id, 'h', 1 FROM users WHERE login = 'meishan.admin'",
            "INSERT INTO sessions (id_hash, user_id, csrf, created_at, last_seen_at, auth_method) \
             SELECT 's', id, 'c', 1, 1, 'password+totp' FROM users WHERE login = 'meishan.admin'",
        ] {
            sqlx::raw_sql(sql).execute(store.pool()).await.unwrap();
        }
        store.close().await;
    });
    let (ok, out) = run(&[
        "user",
        "reset-mfa",
        "--db",
        db,
        "--login",
        "meishan.admin",
        "--reason",
        " ",
    ]);
    assert!(!ok && out.contains("--reason"), "a reset says why: {out}");
    let (ok, out) = run(&[
        "user",
        "reset-mfa",
        "--db",
        db,
        "--login",
        "nobody",
        "--reason",
        "lost",
    ]);
    assert!(!ok && out.contains("no account nobody"), "{out}");
    assert_eq!(
        scalar(
            db,
            "SELECT COUNT(*) FROM users WHERE totp_confirmed_at IS NOT NULL"
        ),
        1,
        "the refused resets changed nothing"
    );
    let (ok, out) = run(&[
        "user",
        "reset-mfa",
        "--db",
        db,
        "--login",
        "meishan.admin",
        "--reason",
        "手机遗失，本人到场核实",
    ]);
    assert!(ok, "{out}");
    assert!(out.contains("meishan.admin"), "{out}");
    for (what, sql) in [
        (
            "secret",
            "SELECT COUNT(*) FROM users WHERE login = 'meishan.admin' AND \
             (totp_secret_sealed IS NOT NULL OR totp_confirmed_at IS NOT NULL OR totp_last_step <> 0)",
        ),
        ("recovery codes", "SELECT COUNT(*) FROM recovery_codes"),
        (
            "sessions",
            "SELECT COUNT(*) FROM sessions s JOIN users u ON u.id = s.user_id WHERE u.login = 'meishan.admin'",
        ),
    ] {
        assert_eq!(scalar(db, sql), 0, "{what} left after the reset");
    }
    assert_eq!(
        scalar(
            db,
            "SELECT COUNT(*) FROM audit_log WHERE action = 'reset_second_factor' \
             AND entity_key = 'meishan.admin' AND reason = '手机遗失，本人到场核实' AND actor_login = 'cli'"
        ),
        1
    );
    let (ok, out) = run(&["audit", "verify", "--db", db]);
    assert!(ok, "the reset's audit row is chained: {out}");
    let (ok, out) = run(&[
        "serve",
        "--db",
        db,
        "--listen",
        "127.0.0.1:0",
        "--second-factor-roles",
        "city-admin,king",
    ]);
    assert!(
        !ok && out.contains("--second-factor-roles"),
        "a bad rule stops the server: {out}"
    );
}

#[test]
fn reset_mfa_turns_the_second_factor_off_and_says_why_on_sqlite() {
    let dir = std::env::temp_dir().join(format!("baiqian-cli-mfa-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    reset_story(&format!("sqlite://{}/mfa.db", dir.display()));
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn reset_mfa_turns_the_second_factor_off_and_says_why_on_postgres() {
    let Some(db) = common::PgDatabase::create(&format!("bq_cli_mfa_{}", std::process::id())) else {
        return;
    };
    reset_story(&db.url);
}
