//! `baiqian-bench checkin`: the activity-day burst. Builds a world (the Huzhou demo plus members
//! with cards and activity days), starts the release server as its own process, and drives it over
//! HTTP from this process on the same machine:
//!
//! 1. `GET /static/app.css` and `GET /healthz`, closed loop: what the server answers when it does
//!    (almost) nothing;
//! 2. `POST /api/v1/checkins`, closed loop: sustained durable check-ins per second;
//! 3. `POST /api/v1/checkins` open loop at a fixed rate (default 10,000/s): latency measured from
//!    each request's scheduled time, so a stall is counted, not hidden.
//!
//! Phases 1–3 run against the server as shipped (default logging, its log to a file), then 1–2
//! again against the quiet configuration (`RUST_LOG=warn`), and the ratios are printed: the
//! request log's cost, measured side by side.

use std::path::PathBuf;
use std::process::Stdio;
use std::sync::Arc;
use std::time::{Duration, Instant};

use baiqian_domain::member::{Gender, IdNumber, with_check_digit};
use baiqian_domain::org::OrgCode;
use baiqian_store::checkin::NewEvent;
use baiqian_store::member::NewMember;
use baiqian_store::vault::Vault;
use baiqian_store::{Actor, Db};
use clap::Parser;

#[derive(Parser, Debug)]
#[command(
    name = "baiqian-bench",
    about = "The check-in burst benchmark (see docs/benchmarks.md)"
)]
struct Args {
    /// Database URL; default a new SQLite file in the temp directory.
    #[arg(long)]
    db: Option<String>,
    /// The server binary (build it with `cargo build --release`).
    #[arg(long, default_value = "target/release/baiqian")]
    server: PathBuf,
    /// Seconds each phase runs.
    #[arg(long, default_value_t = 5)]
    seconds: u64,
    /// Connections of the closed-loop phases.
    #[arg(long, default_value_t = 64)]
    connections: usize,
    /// Rate of the open-loop phase, check-ins per second.
    #[arg(long, default_value_t = 10_000)]
    rate: u64,
    /// Members with cards (each checks in once per activity day).
    #[arg(long, default_value_t = 20_000)]
    members: usize,
    /// Activity days at the host (members × activity days distinct check-ins: enough that no
    /// request of a run is a repeat).
    #[arg(long, default_value_t = 40)]
    events: usize,
}

type BoxError = Box<dyn std::error::Error + Send + Sync>;

#[tokio::main]
async fn main() -> Result<(), BoxError> {
    let args = Args::parse();
    let dir = std::env::temp_dir().join(format!("baiqian-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    let db_url = args
        .db
        .clone()
        .unwrap_or_else(|| format!("sqlite://{}/bench.db", dir.display()));
    let key = dir.join("bench.key");
    eprintln!("building the world in {db_url} …");
    let t = Instant::now();
    let (device_token, cards, events) = build_world(&db_url, &key, &args).await?;
    eprintln!(
        "built in {:.1} s: {} members, {} activity days",
        t.elapsed().as_secs_f64(),
        cards.len(),
        events.len()
    );

    // Every request is a distinct (member, event) pair: a real check-in, never a repeat.
    let pairs: Arc<Vec<String>> = Arc::new(
        events
            .iter()
            .enumerate()
            .flat_map(|(e, ev)| cards.iter().enumerate().map(move |(m, card)| (e, m, *ev, card.clone())))
            .map(|(e, m, ev, card)| {
                format!(
                    r#"{{"client_id":"b{e:07}-0000-4000-8000-{m:012}","card_no":"{card}","event_id":{ev},"at":"{}"}}"#,
                    chrono::Utc::now().to_rfc3339()
                )
            })
            .collect(),
    );
    let next = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let token = Arc::new(device_token);
    let make = {
        let (pairs, next, token) = (pairs.clone(), next.clone(), token.clone());
        Arc::new(move |_: u64| {
            let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            Req::Post(
                "/api/v1/checkins".into(),
                token.to_string(),
                pairs[i % pairs.len()].clone(),
            )
        })
    };
    let secs = Duration::from_secs(args.seconds);

    // The configuration a user gets (no RUST_LOG: one INFO line per request), then the quiet
    // one, side by side on the same database: the request log's cost is what separates them.
    let mut measured = Vec::new();
    let mut checkins = (Stats::default(), Stats::default());
    for logging in [Logging::Default, Logging::Quiet] {
        let log_path = dir.join(format!("server-{}.log", logging.name()));
        let (port, mut server) = start_server(&args, &db_url, &key, logging, &log_path).await?;
        println!(
            "== server with {} logging (stderr to {})",
            logging.name(),
            log_path.display()
        );
        let stat = closed_loop(
            port,
            args.connections,
            secs,
            Arc::new(|_| Req::Get("/static/app.css".into())),
        )
        .await?;
        report("GET /static/app.css (closed loop)", &stat);
        let health = closed_loop(
            port,
            args.connections,
            secs,
            Arc::new(|_| Req::Get("/healthz".into())),
        )
        .await?;
        report("GET /healthz (closed loop)", &health);
        let closed = closed_loop(port, args.connections, secs, make.clone()).await?;
        report("POST /api/v1/checkins (closed loop)", &closed);
        if logging == Logging::Default {
            let open = open_loop(port, args.rate, secs, make.clone()).await?;
            report(
                &format!("POST /api/v1/checkins (open loop at {}/s)", args.rate),
                &open,
            );
            checkins = (health.clone(), closed.clone());
            checkins.1.created += open.created;
        } else {
            checkins.1.created += closed.created;
        }
        server.kill().await?;
        server.wait().await?;
        let lines = std::fs::read_to_string(&log_path)?
            .lines()
            .filter(|l| l.contains("request"))
            .count();
        println!("request lines in the server's log: {lines}");
        if logging == Logging::Default && lines == 0 {
            return Err("the default configuration logged no request: not the shipped one".into());
        }
        measured.push((logging, [rate(&stat), rate(&health), rate(&closed)]));
    }
    println!("== default logging ÷ quiet (RUST_LOG=warn), same run");
    for (i, what) in ["static file", "/healthz", "check-ins"]
        .into_iter()
        .enumerate()
    {
        let (d, q) = (measured[0].1[i], measured[1].1[i]);
        println!(
            "{what}: {d:.0}/s default, {q:.0}/s quiet, ratio {:.2}",
            d / q.max(1.0)
        );
    }
    let (health, closed) = checkins;
    let ratio = (closed.ok as f64 / closed.elapsed.as_secs_f64())
        / (health.ok.max(1) as f64 / health.elapsed.as_secs_f64());
    println!("check-ins/s ÷ healthz/s = {ratio:.2}");
    let used = next.load(std::sync::atomic::Ordering::Relaxed);
    if used >= pairs.len() {
        eprintln!(
            "warning: {used} requests but only {} distinct pairs: later ones were repeats",
            pairs.len()
        );
    }
    // Every check-in answered 201 is in the database (a benchmark that counts answers must also
    // find what they promised).
    let db = Db::connect(&db_url).await?;
    let mut stored = 0;
    for ev in &events {
        stored += db.event_attendance_count(*ev).await?;
    }
    db.close().await;
    let created = closed.created;
    println!("answered 201: {created}; check-ins stored: {stored}");
    if stored < created as i64 {
        return Err(format!(
            "{} acknowledged check-ins are missing",
            created as i64 - stored
        )
        .into());
    }
    let _ = std::fs::remove_dir_all(&dir);
    Ok(())
}

async fn build_world(
    db_url: &str,
    key: &std::path::Path,
    args: &Args,
) -> Result<(String, Vec<String>, Vec<i64>), BoxError> {
    let db = Db::connect(db_url).await?;
    db.migrate().await?;
    let vault = Vault::open_key_file(key)?;
    let now = chrono::Utc::now().timestamp_millis();
    if db.org_count_all().await? == 0 {
        let hash = baiqian_web::auth::hash_password(baiqian_demo::DEMO_PASSWORD)
            .map_err(|e| e.to_string())?;
        let roster = baiqian_demo::Roster::Without;
        baiqian_demo::build(
            &db,
            &vault,
            baiqian_demo::DEFAULT_SEED,
            &move |_| hash.clone(),
            roster,
            now,
        )
        .await?;
    }
    let actor = Actor::cli();
    let host = OrgCode::parse(baiqian_demo::XINMIN)?;
    // Members live all over 长兴县 and attend at 新民村: the rollups of many nodes move.
    let villages: Vec<String> = db
        .org_subtree(&actor.scope, &OrgCode::parse("330522")?, false)
        .await?
        .into_iter()
        .filter(|o| o.level == baiqian_domain::org::Level::Village)
        .map(|o| o.code.to_string())
        .collect();
    let mut members = Vec::with_capacity(args.members);
    for i in 0..args.members {
        let (year, day, seq) = (1950 + i / 14_000, 1 + i % 28, (i / 28) % 500);
        let id =
            with_check_digit(&format!("330522{year}01{day:02}{:03}", seq * 2 + 1)).ok_or("id")?;
        members.push(NewMember {
            name: "党员".into(),
            gender: Gender::M,
            birth_date: format!("{year}-01-{day:02}"),
            id_number: IdNumber::parse(&id)?,
            phone: None,
            home_org: OrgCode::parse(&villages[i % villages.len()])?,
            joined: format!("{}-07-01", year + 25),
            confirmed: None,
            workplace: None,
            mobile: false,
            mobile_where: None,
        });
    }
    let cards: Vec<String> = db
        .bulk_insert_members(&actor, &vault, &members, now)
        .await?
        .into_iter()
        .map(|(_, c)| c)
        .collect();
    let mut events = Vec::new();
    for i in 0..args.events {
        let e = NewEvent {
            org: host.clone(),
            day: chrono::Utc::now().format("%Y-%m-%d").to_string(),
            starts_at: now - 3_600_000,
            ends_at: now + 6 * 3_600_000,
            topic: format!("固定活动日{i}"),
            place: "村部".into(),
        };
        events.push(db.create_event(&actor, e, "bench-secret", now).await?.id);
    }
    let secret = baiqian_web::auth::random_token().map_err(|e| e.to_string())?;
    db.create_device(
        &actor,
        &host,
        "读卡器",
        &baiqian_web::auth::sha256_hex(&secret),
        now,
    )
    .await?;
    db.close().await;
    Ok((format!("dev_{secret}"), cards, events))
}

async fn wait_up(port: u16) -> Result<(), BoxError> {
    for _ in 0..200 {
        if let Ok(mut c) = Conn::open(port).await
            && c.send(&Req::Get("/healthz".into()))
                .await
                .is_ok_and(|s| s == 200)
        {
            return Ok(());
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    Err("server did not start".into())
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Logging {
    /// As shipped: no `RUST_LOG`, the request log on.
    Default,
    /// `RUST_LOG=warn`: no request log.
    Quiet,
}

impl Logging {
    fn name(self) -> &'static str {
        match self {
            Logging::Default => "default",
            Logging::Quiet => "quiet",
        }
    }
}

/// Starts the release server on a free port, its stderr (the log) to `log_path`.
async fn start_server(
    args: &Args,
    db_url: &str,
    key: &std::path::Path,
    logging: Logging,
    log_path: &std::path::Path,
) -> Result<(u16, tokio::process::Child), BoxError> {
    let port = std::net::TcpListener::bind("127.0.0.1:0")?
        .local_addr()?
        .port();
    let mut cmd = tokio::process::Command::new(&args.server);
    cmd.args([
        "serve",
        "--db",
        db_url,
        "--listen",
        &format!("127.0.0.1:{port}"),
    ])
    .env_remove("RUST_LOG")
    .env("BAIQIAN_DATA_KEY_FILE", key)
    // PostgreSQL asks for the directory the nodes share; one node here.
    .env("BAIQIAN_EVIDENCE_DIR", log_path.with_extension("evidence"))
    .stdout(Stdio::null())
    .stderr(std::fs::File::create(log_path)?)
    .kill_on_drop(true);
    if logging == Logging::Quiet {
        cmd.env("RUST_LOG", "warn");
    }
    let server = cmd.spawn()?;
    wait_up(port).await?;
    Ok((port, server))
}

fn rate(s: &Stats) -> f64 {
    s.ok as f64 / s.elapsed.as_secs_f64()
}

#[derive(Clone)]
enum Req {
    Get(String),
    /// path, bearer token, JSON body
    Post(String, String, String),
}

/// One keep-alive HTTP/1.1 connection.
struct Conn(baiqian_bench::wire::KeepAlive);

impl Conn {
    async fn open(port: u16) -> Result<Self, BoxError> {
        Ok(Self(baiqian_bench::wire::KeepAlive::open(port).await?))
    }

    async fn send(&mut self, req: &Req) -> Result<u16, BoxError> {
        let text = match req {
            Req::Get(p) => format!("GET {p} HTTP/1.1\r\nHost: b\r\n\r\n"),
            Req::Post(p, token, body) => format!(
                "POST {p} HTTP/1.1\r\nHost: b\r\nAuthorization: Bearer {token}\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
                body.len()
            ),
        };
        self.0.send(text.as_bytes()).await
    }
}

#[derive(Default, Clone)]
struct Stats {
    /// From the phase's start to its last answer.
    elapsed: Duration,
    ok: u64,
    /// Answers 201: a new check-in stored.
    created: u64,
    failed: u64,
    /// Microseconds.
    latencies: Vec<u64>,
}

type Maker = Arc<dyn Fn(u64) -> Req + Send + Sync>;

async fn closed_loop(
    port: u16,
    connections: usize,
    run: Duration,
    make: Maker,
) -> Result<Stats, BoxError> {
    let begun = Instant::now();
    let end = begun + run;
    let mut tasks = Vec::new();
    for _ in 0..connections {
        let make = make.clone();
        tasks.push(tokio::spawn(async move {
            let mut s = Stats::default();
            let Ok(mut c) = Conn::open(port).await else {
                return s;
            };
            let mut n = 0;
            while Instant::now() < end {
                let t = Instant::now();
                match c.send(&make(n)).await {
                    Ok(code) if code < 300 => {
                        s.ok += 1;
                        s.created += u64::from(code == 201);
                    }
                    _ => s.failed += 1,
                }
                s.latencies.push(t.elapsed().as_micros() as u64);
                n += 1;
            }
            s
        }));
    }
    merge(tasks, begun).await
}

/// Sends at a fixed rate regardless of answers; each of many connections takes the next slot.
async fn open_loop(port: u16, rate: u64, run: Duration, make: Maker) -> Result<Stats, BoxError> {
    let start = Instant::now() + Duration::from_millis(50);
    let total = rate * run.as_secs();
    let interval = Duration::from_nanos(1_000_000_000 / rate.max(1));
    let slot = Arc::new(std::sync::atomic::AtomicU64::new(0));
    let mut tasks = Vec::new();
    for _ in 0..512 {
        let (make, slot) = (make.clone(), slot.clone());
        tasks.push(tokio::spawn(async move {
            let mut s = Stats::default();
            let Ok(mut c) = Conn::open(port).await else {
                return s;
            };
            loop {
                let i = slot.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                if i >= total {
                    return s;
                }
                let due = start + interval * i as u32;
                tokio::time::sleep_until(due.into()).await;
                match c.send(&make(i)).await {
                    Ok(code) if code < 300 => {
                        s.ok += 1;
                        s.created += u64::from(code == 201);
                    }
                    _ => s.failed += 1,
                }
                s.latencies.push(due.elapsed().as_micros() as u64);
            }
        }));
    }
    merge(tasks, start).await
}

async fn merge(
    tasks: Vec<tokio::task::JoinHandle<Stats>>,
    begun: Instant,
) -> Result<Stats, BoxError> {
    let mut all = Stats::default();
    for t in tasks {
        let s = t.await?;
        all.ok += s.ok;
        all.created += s.created;
        all.failed += s.failed;
        all.latencies.extend(s.latencies);
    }
    all.latencies.sort_unstable();
    all.elapsed = begun.elapsed();
    Ok(all)
}

fn report(name: &str, s: &Stats) {
    let pct = |p: f64| {
        s.latencies
            .get(((s.latencies.len() as f64 * p) as usize).min(s.latencies.len().saturating_sub(1)))
            .copied()
            .unwrap_or(0)
    };
    println!(
        "{name}: {:.0} ok/s, {} failed; latency p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms",
        s.ok as f64 / s.elapsed.as_secs_f64(),
        s.failed,
        pct(0.50) as f64 / 1000.0,
        pct(0.99) as f64 / 1000.0,
        s.latencies.last().copied().unwrap_or(0) as f64 / 1000.0
    );
}
