//! The `baiqian` binary as an operator uses it: build the demo, serve the same database, issue
//! tokens, add accounts, back up. SQLite always; PostgreSQL with `BAIQIAN_TEST_PG`.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::{Read, Write};
use std::net::TcpStream;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

mod common;

const BIN: &str = env!("CARGO_BIN_EXE_baiqian");

fn run(args: &[&str], stdin: Option<&str>) -> (bool, String, String) {
    let mut child = Command::new(BIN)
        .args(args)
        .env("RUST_LOG", "warn")
        .env("BAIQIAN_DATA_KEY_FILE", key_file())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    if let Some(input) = stdin {
        child
            .stdin
            .take()
            .unwrap()
            .write_all(input.as_bytes())
            .unwrap();
    } else {
        drop(child.stdin.take());
    }
    let out = child.wait_with_output().unwrap();
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).to_string(),
        String::from_utf8_lossy(&out.stderr).to_string(),
    )
}

/// The data key of this test run, outside the source tree.
fn key_file() -> std::path::PathBuf {
    std::env::temp_dir().join(format!("baiqian-cli-{}.key", std::process::id()))
}

struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn serve(db: &str) -> (Server, u16) {
    let port = free_port();
    let child = Command::new(BIN)
        .args([
            "serve",
            "--db",
            db,
            "--listen",
            &format!("127.0.0.1:{port}"),
        ])
        .env("RUST_LOG", "warn")
        // The key the world was sealed with: another is refused.
        .env("BAIQIAN_DATA_KEY_FILE", key_file())
        .env(
            "BAIQIAN_EVIDENCE_DIR",
            std::env::temp_dir().join(format!("baiqian-cli-evidence-{port}")),
        )
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let server = Server(child);
    let start = Instant::now();
    while start.elapsed() < Duration::from_secs(20) {
        if get(port, "/healthz", None).0 == 200 {
            return (server, port);
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    panic!("server did not come up on {port}");
}

/// A plain HTTP/1.1 GET; returns status and body.
fn get(port: u16, path: &str, token: Option<&str>) -> (u16, String) {
    let Ok(mut s) = TcpStream::connect(("127.0.0.1", port)) else {
        return (0, String::new());
    };
    let auth = token
        .map(|t| format!("Authorization: Bearer {t}\r\n"))
        .unwrap_or_default();
    write!(
        s,
        "GET {path} HTTP/1.1\r\nHost: localhost\r\n{auth}Connection: close\r\n\r\n"
    )
    .unwrap();
    let mut raw = Vec::new();
    s.read_to_end(&mut raw).unwrap();
    let text = String::from_utf8_lossy(&raw).to_string();
    let status = text
        .split(' ')
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or(0);
    let body = text
        .split_once("\r\n\r\n")
        .map(|(_, b)| b.to_string())
        .unwrap_or_default();
    (status, body)
}

fn json(body: &str) -> serde_json::Value {
    serde_json::from_str(body).unwrap_or_else(|e| panic!("{e}: {body}"))
}

/// The acceptance story of the foundation: demo without serving, then serve the same database.
fn demo_then_serve(db: &str) {
    let (ok, out, err) = run(&["demo", "--no-serve", "--light", "--db", db], None);
    assert!(ok, "{err}");
    assert!(
        out.contains("985") || out.contains("1061 organizations"),
        "{out}"
    );
    assert!(out.contains("city.admin") && out.contains("Baiqian@2016"));
    // A second run keeps what is there.
    let (ok, out, _) = run(&["demo", "--no-serve", "--light", "--db", db], None);
    assert!(ok && out.contains("already holds"), "{out}");

    let (ok, city, err) = run(
        &["token", "issue", "--db", db, "--login", "city.admin"],
        None,
    );
    assert!(ok, "{err}");
    let city = city.trim().to_string();
    assert_eq!(city.len(), 64);
    let (_, town, _) = run(
        &["token", "issue", "--db", db, "--login", "meishan.admin"],
        None,
    );
    let town = town.trim().to_string();
    let (ok, _, err) = run(&["token", "issue", "--db", db, "--login", "nobody"], None);
    assert!(!ok && err.contains("no account"));

    let (_server, port) = serve(db);
    let (status, body) = get(port, "/api/v1/orgs/330500", Some(&city));
    assert_eq!(status, 200, "{body}");
    let j = json(&body);
    assert_eq!(
        j["counts"],
        serde_json::json!({"county": 5, "township": 68, "village": 985})
    );
    let (_, body) = get(port, "/api/v1/orgs/330522", Some(&city));
    assert_eq!(json(&body)["counts"]["village"], 248);
    // 煤山镇's admin: a village of 洪桥镇 does not exist for them; their own does.
    let (status, body) = get(port, "/api/v1/orgs/330522101201", Some(&town));
    assert_eq!(status, 404, "{body}");
    assert_eq!(json(&body)["error"]["code"], "not_found");
    // 新民村, under 煤山镇.
    assert_eq!(get(port, "/api/v1/orgs/330522109201", Some(&town)).0, 200);
    assert_eq!(get(port, "/api/v1/orgs/330500", None).0, 401);
}

#[test]
fn demo_then_serve_on_sqlite() {
    let dir = std::env::temp_dir().join(format!("baiqian-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let db = format!("sqlite://{}/demo.db", dir.display());
    demo_then_serve(&db);
    // A backup is a database the server opens, with the same world.
    let to = dir.join("backup.db");
    let (ok, _, err) = run(&["backup", "--db", &db, "--to", to.to_str().unwrap()], None);
    assert!(ok, "{err}");
    let (ok, _, err) = run(&["backup", "--db", &db, "--to", to.to_str().unwrap()], None);
    assert!(
        !ok && err.contains("exists"),
        "an existing file is not overwritten: {err}"
    );
    let copy = format!("sqlite://{}", to.display());
    let (ok, token, _) = run(
        &["token", "issue", "--db", &copy, "--login", "city.admin"],
        None,
    );
    assert!(ok);
    let (_server, port) = serve(&copy);
    let (_, body) = get(port, "/api/v1/orgs/330500", Some(token.trim()));
    assert_eq!(json(&body)["counts"]["village"], 985);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn demo_then_serve_on_postgres() {
    let Some(db) = common::PgDatabase::create(&format!("bq_cli_{}", std::process::id())) else {
        return;
    };
    demo_then_serve(&db.url);
}

#[test]
fn user_add_reads_the_password_and_applies_the_rule() {
    let dir = std::env::temp_dir().join(format!("baiqian-cli-user-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let db = format!("sqlite://{}/u.db", dir.display());
    assert!(run(&["demo", "--no-serve", "--light", "--db", &db], None).0);
    let args = [
        "user",
        "add",
        "--db",
        &db,
        "--login",
        "dq.admin",
        "--name",
        "德清县管理员",
        "--role",
        "county-admin",
        "--org",
        "330521",
    ];
    let (ok, _, err) = run(&args, Some("weak\n"));
    assert!(!ok && err.contains("password"), "{err}");
    let (ok, out, err) = run(&args, Some("Deqing-2016!\n"));
    assert!(ok, "{err}");
    assert!(out.contains("dq.admin") && out.contains("德清县"));
    let (ok, _, err) = run(&args, Some("Deqing-2016!\n"));
    assert!(!ok && err.contains("login_taken"), "{err}");
    let (ok, _, err) = run(
        &[
            "user",
            "add",
            "--db",
            &db,
            "--login",
            "x.admin",
            "--name",
            "X",
            "--role",
            "county-admin",
            "--org",
            "330522109",
        ],
        Some("Deqing-2016!\n"),
    );
    assert!(
        !ok && err.contains("role_level"),
        "a county admin sits on a county: {err}"
    );
    let (ok, _, err) = run(
        &[
            "user", "add", "--db", &db, "--login", "y.admin", "--name", "Y", "--role", "mayor",
            "--org", "330521",
        ],
        Some("Deqing-2016!\n"),
    );
    assert!(!ok && err.contains("unknown role"), "{err}");
    let (ok, token, _) = run(
        &["token", "issue", "--db", &db, "--login", "dq.admin"],
        None,
    );
    assert!(ok && token.trim().len() == 64);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn help_documents_every_subcommand() {
    let (ok, out, _) = run(&["--help"], None);
    assert!(ok);
    for cmd in [
        "demo", "serve", "migrate", "user", "token", "device", "backup", "restore", "audit",
    ] {
        assert!(out.contains(cmd), "{cmd} missing from --help");
    }
    let (ok, out, _) = run(&["demo", "--help"], None);
    assert!(ok && out.contains("--no-serve") && out.contains("sqlite://baiqian-demo.db"));
    let (ok, out, _) = run(&["user", "--help"], None);
    for cmd in ["add", "reset-mfa"] {
        assert!(ok && out.contains(cmd), "user {cmd} missing from --help");
    }
    let (ok, out, _) = run(&["serve", "--help"], None);
    assert!(ok && out.contains("--second-factor-roles"));
    let (ok, out, _) = run(&["device", "--help"], None);
    for cmd in ["add", "list", "revoke"] {
        assert!(ok && out.contains(cmd), "device {cmd} missing from --help");
    }
}
