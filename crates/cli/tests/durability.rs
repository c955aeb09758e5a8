//! A check-in is acknowledged only after it is committed: kill the server (SIGKILL) in the middle
//! of a burst, start it again, and every acknowledged check-in is there. A backup taken in the
//! middle of a burst restores every check-in acknowledged before it began.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::{Read, Write};
use std::net::TcpStream;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

mod common;

const BIN: &str = env!("CARGO_BIN_EXE_baiqian");

fn run(args: &[&str], key: &std::path::Path) -> String {
    let out = Command::new(BIN)
        .args(args)
        .env("RUST_LOG", "warn")
        .env("BAIQIAN_DATA_KEY_FILE", key)
        .stderr(Stdio::inherit())
        .output()
        .unwrap();
    assert!(out.status.success(), "{args:?}");
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

fn start(db: &str, port: u16, key: &std::path::Path) -> Child {
    let mut child = Command::new(BIN)
        .args([
            "serve",
            "--db",
            db,
            "--listen",
            &format!("127.0.0.1:{port}"),
        ])
        .env("RUST_LOG", "warn")
        .env("BAIQIAN_DATA_KEY_FILE", key)
        .env("BAIQIAN_EVIDENCE_DIR", key.with_extension("evidence"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let start = Instant::now();
    while start.elapsed() < Duration::from_secs(20) {
        if request(port, "GET", "/healthz", None, "").map(|r| r.0) == Some(200) {
            return child;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let _ = child.kill();
    let _ = child.wait();
    panic!("server did not start");
}

/// One HTTP/1.1 request on a new connection; `None` when the connection fails (server killed).
fn request(
    port: u16,
    method: &str,
    path: &str,
    token: Option<&str>,
    body: &str,
) -> Option<(u16, String)> {
    let mut s = TcpStream::connect(("127.0.0.1", port)).ok()?;
    s.set_read_timeout(Some(Duration::from_secs(10))).ok()?;
    let auth = token
        .map(|t| format!("Authorization: Bearer {t}\r\n"))
        .unwrap_or_default();
    write!(s, "{method} {path} HTTP/1.1\r\nHost: localhost\r\n{auth}Content-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}", body.len()).ok()?;
    let mut raw = Vec::new();
    s.read_to_end(&mut raw).ok()?;
    let text = String::from_utf8_lossy(&raw).to_string();
    let status = text.split(' ').nth(1)?.parse().ok()?;
    Some((
        status,
        text.split_once("\r\n\r\n")
            .map(|(_, b)| b.to_string())
            .unwrap_or_default(),
    ))
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A served light demo world with an activity day around now, 600 members with cards and a
/// reader's token.
struct World {
    /// meishan.admin's API token.
    admin: String,
    reader: String,
    port: u16,
    server: Child,
    event_id: i64,
    cards: Vec<String>,
}

fn world(db: &str, key: &std::path::Path) -> World {
    run(&["demo", "--no-serve", "--light", "--db", db], key);
    let admin = run(
        &["token", "issue", "--db", db, "--login", "meishan.admin"],
        key,
    );
    let reader = run(
        &[
            "device",
            "add",
            "--db",
            db,
            "--org",
            "330522109201",
            "--name",
            "村部读卡器",
        ],
        key,
    );
    assert!(reader.starts_with("dev_"));
    let port = free_port();
    let server = start(db, port, key);

    // An activity day around now, and 600 members with cards.
    let now = chrono::Utc::now();
    let event = format!(
        r#"{{"date":"{}","starts_at":"{}","ends_at":"{}","topic":"固定活动日","place":"村部"}}"#,
        now.format("%Y-%m-%d"),
        (now - chrono::Duration::hours(1)).to_rfc3339(),
        (now + chrono::Duration::hours(1)).to_rfc3339()
    );
    let (status, body) = request(
        port,
        "POST",
        "/api/v1/orgs/330522109201/events",
        Some(&admin),
        &event,
    )
    .unwrap();
    assert_eq!(status, 201, "{body}");
    let event_id: i64 = body
        .split("\"id\":")
        .nth(1)
        .unwrap()
        .trim_end_matches('}')
        .parse()
        .unwrap();
    let mut cards = Vec::new();
    for i in 0..600u32 {
        let day = 1 + i % 28;
        let id = baiqian_domain::member::with_check_digit(&format!(
            "110105198005{day:02}{:03}",
            (i / 28) * 2 + 1
        ))
        .unwrap();
        let m = format!(
            r#"{{"name":"党员","gender":"M","birth_date":"1980-05-{day:02}","id_number":"{id}","home_org":"330522109201","joined":"2005-07-01"}}"#
        );
        let (status, body) = request(port, "POST", "/api/v1/members", Some(&admin), &m).unwrap();
        assert_eq!(status, 201, "{body}");
        cards.push(
            body.split("\"card_no\":\"")
                .nth(1)
                .unwrap()
                .split('"')
                .next()
                .unwrap()
                .to_string(),
        );
    }

    World {
        admin,
        reader,
        port,
        server,
        event_id,
        cards,
    }
}

type Acked = Arc<Mutex<Vec<String>>>;

/// Once 300 swipes of a burst are sent, kills `server` (SIGKILL: no shutdown, no flush), waits
/// for the readers and returns the client ids acknowledged.
fn kill_after_300_sent(
    server: &mut Child,
    acked: &Acked,
    sent: &std::sync::atomic::AtomicUsize,
    threads: Vec<std::thread::JoinHandle<()>>,
) -> Vec<String> {
    while sent.load(std::sync::atomic::Ordering::SeqCst) < 300 {
        std::thread::sleep(Duration::from_millis(1));
    }
    server.kill().unwrap();
    server.wait().unwrap();
    for t in threads {
        t.join().unwrap();
    }
    acked.lock().unwrap().clone()
}

/// The client ids of every check-in stored in `db`.
fn stored_client_ids(db: &str) -> Vec<String> {
    common::block_on(async {
        let store = baiqian_store::Db::connect(db).await.unwrap();
        let rows: Vec<(String,)> = sqlx::query_as("SELECT client_id FROM checkins")
            .fetch_all(store.pool())
            .await
            .unwrap();
        store.close().await;
        rows.into_iter().map(|r| r.0).collect()
    })
}

/// Four readers swipe every card as fast as they can: the client ids acknowledged (201), the
/// count sent, and the threads (each stops when the server stops answering).
fn burst(
    w: &World,
) -> (
    Acked,
    Arc<std::sync::atomic::AtomicUsize>,
    Vec<std::thread::JoinHandle<()>>,
) {
    burst_to(w, w.port, false)
}

/// The burst sent to `port`; with `retry`, as a reader does behind a balancer: a swipe not
/// answered (its node died, the balancer found no node) is sent again with the same client id
/// until it is answered, so every card ends acknowledged.
fn burst_to(
    w: &World,
    port: u16,
    retry: bool,
) -> (
    Acked,
    Arc<std::sync::atomic::AtomicUsize>,
    Vec<std::thread::JoinHandle<()>>,
) {
    let event_id = w.event_id;
    let acked = Arc::new(Mutex::new(Vec::<String>::new()));
    let sent = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let mut threads = Vec::new();
    for t in 0..4 {
        let cards: Vec<String> = w.cards.iter().skip(t).step_by(4).cloned().collect();
        let (acked, sent, reader) = (acked.clone(), sent.clone(), w.reader.clone());
        threads.push(std::thread::spawn(move || {
            for (i, card) in cards.iter().enumerate() {
                let client = format!("d{t}000000-0000-4000-8000-{i:012}");
                let body = format!(r#"{{"client_id":"{client}","card_no":"{card}","event_id":{event_id},"at":"{}"}}"#, chrono::Utc::now().to_rfc3339());
                sent.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                let mut tries = 0;
                loop {
                    match request(port, "POST", "/api/v1/checkins", Some(&reader), &body) {
                        Some((201, _)) => acked.lock().unwrap().push(client.clone()),
                        // A retry of a swipe the dead node had committed.
                        Some((200, b)) if retry && b.contains("\"repeat\"") => {
                            acked.lock().unwrap().push(client.clone());
                        }
                        Some((502..=504, _)) | None if retry && tries < 100 => {
                            tries += 1;
                            std::thread::sleep(Duration::from_millis(20));
                            continue;
                        }
                        Some((s, b)) => panic!("unexpected {s}: {b}"),
                        None => return,
                    }
                    break;
                }
            }
        }));
    }
    (acked, sent, threads)
}

fn kill_during_burst(db: &str, key: &std::path::Path) {
    let mut w = world(db, key);
    // The server is killed part-way through the burst.
    let (acked, sent, threads) = burst(&w);
    let World {
        ref reader,
        port,
        event_id,
        ref cards,
        ..
    } = w;
    let (reader, cards) = (reader.clone(), cards.clone());
    let acked = kill_after_300_sent(&mut w.server, &acked, &sent, threads);
    assert!(
        acked.len() >= 250,
        "the burst was under way ({} acknowledged)",
        acked.len()
    );
    assert!(
        acked.len() < 600,
        "the kill came before the end of the burst"
    );

    // Restart on the same database: every acknowledged check-in is there.
    let mut server = start(db, port, key);
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let stored = stored_client_ids(db);
    let missing: Vec<&String> = acked.iter().filter(|c| !stored.contains(c)).collect();
    assert!(
        missing.is_empty(),
        "{} acknowledged check-ins lost: {:?}",
        missing.len(),
        &missing[..missing.len().min(5)]
    );
    eprintln!(
        "durability: {} acknowledged before SIGKILL, {} stored after restart",
        acked.len(),
        stored.len()
    );

    // A reader reported stolen: revoked from the command line while the server runs and holds
    // its token in cache, its next swipe is refused and nothing is written.
    let swipe = |card: &str, client: &str| {
        let body = format!(
            r#"{{"client_id":"{client}","card_no":"{card}","event_id":{event_id},"at":"{}"}}"#,
            chrono::Utc::now().to_rfc3339()
        );
        request(port, "POST", "/api/v1/checkins", Some(&reader), &body).unwrap()
    };
    let (status, body) = swipe(&cards[599], "e0000000-0000-4000-8000-000000000001");
    assert!(status == 201 || status == 200, "{status} {body}");
    let listed = run(&["device", "list", "--db", db], key);
    let device_id = listed
        .lines()
        .find(|l| l.contains("村部读卡器"))
        .and_then(|l| l.split('\t').next())
        .unwrap()
        .to_string();
    assert!(listed.contains("\tactive"), "{listed}");
    run(&["device", "revoke", "--db", db, "--id", &device_id], key);
    assert!(run(&["device", "list", "--db", db], key).contains("\trevoked "));
    let (status, body) = swipe(&cards[598], "e0000000-0000-4000-8000-000000000002");
    assert_eq!(status, 422, "{body}");
    assert!(body.contains("\"code\":\"device_revoked\""), "{body}");
    assert!(
        body.contains("已停用"),
        "the refusal names the revocation: {body}"
    );
    let after: i64 = rt.block_on(async {
        let store = baiqian_store::Db::connect(db).await.unwrap();
        sqlx::query_scalar("SELECT COUNT(*) FROM checkins WHERE client_id = 'e0000000-0000-4000-8000-000000000002'")
            .fetch_one(store.pool())
            .await
            .unwrap()
    });
    assert_eq!(after, 0);
    server.kill().unwrap();
    let _ = server.wait();
}

/// A backup taken while check-ins arrive, restored into a new database: every check-in
/// acknowledged before the backup began is there, and the audit chain verifies.
fn backup_during_burst(db: &str, restored: &str, file: &std::path::Path, key: &std::path::Path) {
    let mut w = world(db, key);
    let (acked, sent, threads) = burst(&w);
    while sent.load(std::sync::atomic::Ordering::SeqCst) < 200 {
        std::thread::sleep(Duration::from_millis(1));
    }
    let before = acked.lock().unwrap().clone();
    run(
        &["backup", "--db", db, "--to", &file.display().to_string()],
        key,
    );
    let during = sent.load(std::sync::atomic::Ordering::SeqCst);
    for t in threads {
        t.join().unwrap();
    }
    w.server.kill().unwrap();
    let _ = w.server.wait();
    assert!(
        during < 600,
        "the backup ran during the burst ({during} sent when it ended)"
    );
    let out = run(
        &[
            "restore",
            "--from",
            &file.display().to_string(),
            "--db",
            restored,
        ],
        key,
    );
    assert!(out.contains("audit chain verified"), "{out}");
    let stored = stored_client_ids(restored);
    let missing: Vec<&String> = before.iter().filter(|c| !stored.contains(c)).collect();
    assert!(
        missing.is_empty(),
        "{} check-ins acknowledged before the backup missing from the restore: {:?}",
        missing.len(),
        &missing[..missing.len().min(5)]
    );
    eprintln!(
        "backup under load: {} acknowledged before it began, {} in the restored database",
        before.len(),
        stored.len()
    );
    // A restore never overwrites.
    let refused = Command::new(BIN)
        .args([
            "restore",
            "--from",
            &file.display().to_string(),
            "--db",
            restored,
        ])
        .env("RUST_LOG", "warn")
        .env("BAIQIAN_DATA_KEY_FILE", key)
        .output()
        .unwrap();
    assert!(!refused.status.success());
}

#[test]
fn a_backup_under_load_restores_every_acknowledged_checkin_on_sqlite() {
    let dir = std::env::temp_dir().join(format!("baiqian-restore-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    backup_during_burst(
        &format!("sqlite://{}/live.db", dir.display()),
        &format!("sqlite://{}/restored.db", dir.display()),
        &dir.join("backup.db"),
        &dir.join("restore.key"),
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_backup_under_load_restores_every_acknowledged_checkin_on_postgres() {
    let pid = std::process::id();
    let (Some(live), Some(restored)) = (
        common::PgDatabase::create(&format!("bq_live_{pid}")),
        common::PgDatabase::create(&format!("bq_restored_{pid}")),
    ) else {
        return;
    };
    let dir = std::env::temp_dir().join(format!("baiqian-restore-pg-{pid}"));
    std::fs::create_dir_all(&dir).unwrap();
    backup_during_burst(
        &live.url,
        &restored.url,
        &dir.join("backup.dump"),
        &dir.join("restore.key"),
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn acknowledged_checkins_survive_sigkill_on_sqlite() {
    let dir = std::env::temp_dir().join(format!("baiqian-kill-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    kill_during_burst(
        &format!("sqlite://{}/kill.db", dir.display()),
        &dir.join("kill.key"),
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn acknowledged_checkins_survive_sigkill_on_postgres() {
    let Some(db) = common::PgDatabase::create(&format!("bq_kill_{}", std::process::id())) else {
        return;
    };
    let key = std::env::temp_dir().join(format!("baiqian-kill-{}.key", std::process::id()));
    kill_during_burst(&db.url, &key);
    let _ = std::fs::remove_file(&key);
}

/// Two nodes on one PostgreSQL behind HAProxy (`deploy/haproxy.cfg`), as a province runs them: a
/// roster export made on one node downloads through the other; the daily mark ran once for both;
/// node A is killed (SIGKILL) in the middle of a check-in burst through the balancer, and not one
/// acknowledged check-in is lost while node B serves on.
#[test]
fn two_nodes_behind_a_balancer_lose_nothing_when_one_is_killed_on_postgres() {
    let pid = std::process::id();
    let Some(db) = common::PgDatabase::create(&format!("bq_nodes_{pid}")) else {
        return;
    };
    let haproxy = Command::new("haproxy").arg("-v").output();
    assert!(
        haproxy.is_ok_and(|o| o.status.success()),
        "haproxy is not installed (apt-get install haproxy; .ci/run installs it)"
    );
    let dir = std::env::temp_dir().join(format!("baiqian-nodes-{pid}"));
    std::fs::create_dir_all(&dir).unwrap();
    let key = dir.join("data.key");
    let mut w = world(&db.url, &key);
    let port_b = free_port();
    let mut node_b = start(&db.url, port_b, &key);

    // A roster export made on node A; its file downloads through node B.
    let (status, body) = request(
        w.port,
        "POST",
        "/api/v1/orgs/330522109/members/export-jobs",
        Some(&w.admin),
        "{}",
    )
    .unwrap();
    assert_eq!(status, 202, "{body}");
    let job: i64 = body
        .split("\"id\":")
        .nth(1)
        .unwrap()
        .split([',', '}'])
        .next()
        .unwrap()
        .parse()
        .unwrap();
    let mut done = String::new();
    for _ in 0..200 {
        let (_, b) = request(
            port_b,
            "GET",
            &format!("/api/v1/jobs/{job}"),
            Some(&w.admin),
            "",
        )
        .unwrap();
        if b.contains("\"status\":\"done\"") {
            done = b;
            break;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    assert!(done.contains(&format!("/jobs/{job}/file")), "{done}");
    for port in [w.port, port_b] {
        let (status, file) = request(
            port,
            "GET",
            &format!("/jobs/{job}/file"),
            Some(&w.admin),
            "",
        )
        .unwrap();
        assert_eq!(status, 200, "node at {port}");
        assert!(file.starts_with("PK"), "an .xlsx from the node at {port}");
    }

    // Both nodes ran their daily loop at start: the day was marked once.
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let (claims, marks): (i64, i64) = rt.block_on(async {
        let store = baiqian_store::Db::connect(&db.url).await.unwrap();
        let claims = sqlx::query_scalar("SELECT COUNT(*) FROM periodic_runs WHERE task = 'overdue_mark'")
            .fetch_one(store.pool())
            .await
            .unwrap();
        let marks = sqlx::query_scalar("SELECT COUNT(*) FROM audit_log WHERE entity = 'problem_overdue' AND actor_login = 'daily'")
            .fetch_one(store.pool())
            .await
            .unwrap();
        store.close().await;
        (claims, marks)
    });
    assert_eq!(
        (claims, marks),
        (1, 1),
        "one claim and one mark for the day"
    );

    // HAProxy in front of the two.
    let front = free_port();
    let cfg = include_str!("../../../deploy/haproxy.cfg")
        .replace("@FRONT@", &front.to_string())
        .replace("@NODE_A@", &w.port.to_string())
        .replace("@NODE_B@", &port_b.to_string());
    let cfg_path = dir.join("haproxy.cfg");
    std::fs::write(&cfg_path, cfg).unwrap();
    let mut balancer = Command::new("haproxy")
        .arg("-f")
        .arg(&cfg_path)
        .arg("-db")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let start_at = Instant::now();
    while request(front, "GET", "/healthz", None, "").map(|r| r.0) != Some(200) {
        assert!(
            start_at.elapsed() < Duration::from_secs(20),
            "HAProxy did not come up"
        );
        std::thread::sleep(Duration::from_millis(50));
    }

    // The burst through the balancer; node A is killed part-way.
    let (acked, sent, threads) = burst_to(&w, front, true);
    let acked = kill_after_300_sent(&mut w.server, &acked, &sent, threads);
    assert_eq!(
        acked.len(),
        600,
        "every swipe ended acknowledged, by one node or the other"
    );
    let stored = stored_client_ids(&db.url);
    let missing: Vec<&String> = acked.iter().filter(|c| !stored.contains(c)).collect();
    assert!(
        missing.is_empty(),
        "{} acknowledged check-ins lost: {:?}",
        missing.len(),
        &missing[..missing.len().min(5)]
    );
    assert_eq!(stored.len(), 600, "each stored once");
    // The survivor serves through the balancer.
    for _ in 0..5 {
        assert_eq!(
            request(front, "GET", "/healthz", None, "").map(|r| r.0),
            Some(200)
        );
    }
    eprintln!(
        "two nodes: {} acknowledged through HAProxy with node A killed mid-burst, {} stored",
        acked.len(),
        stored.len()
    );
    let _ = balancer.kill();
    let _ = balancer.wait();
    let _ = node_b.kill();
    let _ = node_b.wait();
    let _ = std::fs::remove_dir_all(&dir);
}
