//! `baiqian-station-bench`: the red-butler stations (issue 33), in two parts.
//!
//! `--part burst` (the embedded database, as a user gets it): builds the light demo world with
//! the release binary, starts the release server as shipped (default logging; `--trusted-proxy`
//! so this one process speaks from many addresses through `X-Forwarded-For`), and sends
//! `POST /api/v1/public/stations/{id}/requests` in an open loop at `--rate` per second for
//! `--secs` seconds, each from an address of its own (the open internet); latency is measured
//! from each request's scheduled time, so a stall counts against every request behind it.
//! Meanwhile an abusive client sends as fast as it can from one address on `--abusers`
//! connections (it should get 429), and a reader asks a station's services every 10 ms from
//! a third address (its latency, before and during the burst, is "the rest of the system").
//! Then the server is killed with SIGKILL and the database counted: every request answered
//! 201 must be there.
//!
//! `--part boards` (both databases): generates a province (`baiqian_demo::province`) with a
//! station in one village of ten (2,000 for 20,000 villages), each offering its county's 27
//! services, and `--per-offer` requests for each (19 × 54,000 ≈ 1,000,000) in every state;
//! the figures are recomputed from the rows as the application keeps them, checked against
//! the rows, and the boards timed through the real router (server time).

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use baiqian_bench::wire::{KeepAlive, http, light_demo, start_server};
use baiqian_bench::{BoxError, admin_router, fresh_db, ms, time_get};
use baiqian_store::{Db, raw_execute};
use clap::Parser;
use sqlx::Row;

#[derive(Parser, Debug)]
#[command(
    name = "baiqian-station-bench",
    about = "Public requests to the red-butler stations under a burst, and their boards at province scale (see docs/benchmarks.md)"
)]
struct Args {
    /// `burst` or `boards`.
    #[arg(long, default_value = "burst")]
    part: String,
    /// burst: the server binary (build it with `cargo build --release`).
    #[arg(long, default_value = "target/release/baiqian")]
    server: PathBuf,
    /// burst: requests per second of the open loop.
    #[arg(long, default_value_t = 1000)]
    rate: u64,
    /// burst: seconds of the open loop.
    #[arg(long, default_value_t = 10)]
    secs: u64,
    /// burst: connections of the abusive client (one address).
    #[arg(long, default_value_t = 4)]
    abusers: usize,
    /// boards: villages of the generated province.
    #[arg(long, default_value_t = 20000)]
    villages: usize,
    /// boards: requests per station and service.
    #[arg(long, default_value_t = 19)]
    per_offer: usize,
    /// boards: PostgreSQL admin URL (a fresh database there); without it a new SQLite file.
    #[arg(long)]
    pg: Option<String>,
    #[arg(long, default_value_t = 7)]
    runs: usize,
}

fn pct(sorted: &[u64], p: f64) -> f64 {
    sorted
        .get(((sorted.len() as f64 * p) as usize).min(sorted.len().saturating_sub(1)))
        .copied()
        .unwrap_or(0) as f64
        / 1000.0
}

fn post(station: i64, address: &str, body: &str) -> Vec<u8> {
    format!(
        "POST /api/v1/public/stations/{station}/requests HTTP/1.1\r\nHost: b\r\nX-Forwarded-For: {address}\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    )
    .into_bytes()
}

async fn burst(args: &Args) -> Result<(), BoxError> {
    let dir = std::env::temp_dir().join(format!("baiqian-station-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    let db_url = light_demo(&args.server, &dir, "stations")?;
    let (mut server, port) = start_server(&args.server, &db_url, &dir).await?;
    let (status, _, body) = http(
        port,
        "GET /api/v1/public/stations/1/services HTTP/1.1\r\n",
        b"",
    )
    .await?;
    if status != 200 {
        return Err(format!("services: {status}").into());
    }
    let services: serde_json::Value = serde_json::from_slice(&body)?;
    let service = services["items"][0]["id"]
        .as_i64()
        .ok_or("the station offers nothing")?;
    let body = Arc::new(format!(
        r#"{{"service_id":{service},"name":"基准游客","phone":"13905720031","place":"劳岭村游客中心","note":"bench"}}"#
    ));

    // The reader: its latency alone, then during the burst.
    let reader = |until: Instant| async move {
        let mut c = KeepAlive::open(port).await?;
        let req = b"GET /api/v1/public/stations/1/services HTTP/1.1\r\nHost: b\r\nX-Forwarded-For: 192.0.2.1\r\n\r\n";
        let mut lat = Vec::new();
        while Instant::now() < until {
            let t = Instant::now();
            c.send(req).await?;
            lat.push(t.elapsed().as_micros() as u64);
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        lat.sort_unstable();
        Ok::<_, BoxError>(lat)
    };
    let alone = reader(Instant::now() + Duration::from_secs(3)).await?;

    let run = Duration::from_secs(args.secs);
    let start = Instant::now() + Duration::from_millis(100);
    let end = start + run;
    let total = args.rate * args.secs;
    let interval = Duration::from_nanos(1_000_000_000 / args.rate.max(1));
    let slot = Arc::new(AtomicU64::new(0));
    let created = Arc::new(AtomicU64::new(0));
    let mut tasks = Vec::new();
    for _ in 0..256 {
        let (slot, created, body) = (slot.clone(), created.clone(), body.clone());
        tasks.push(tokio::spawn(async move {
            let mut lat = Vec::new();
            let mut other = 0u64;
            let Ok(mut c) = KeepAlive::open(port).await else {
                return (lat, other);
            };
            loop {
                let i = slot.fetch_add(1, Ordering::Relaxed);
                if i >= total {
                    return (lat, other);
                }
                let due = start + interval * i as u32;
                tokio::time::sleep_until(due.into()).await;
                // An address of its own: 10.a.b.c from the request's number.
                let address = format!("10.{}.{}.{}", (i >> 16) & 255, (i >> 8) & 255, i & 255);
                match c.send(&post(1, &address, &body)).await {
                    Ok(201) => {
                        created.fetch_add(1, Ordering::Relaxed);
                    }
                    _ => other += 1,
                }
                lat.push(due.elapsed().as_micros() as u64);
            }
        }));
    }
    let mut abusers = Vec::new();
    for _ in 0..args.abusers {
        let body = body.clone();
        abusers.push(tokio::spawn(async move {
            let (mut ok, mut throttled, mut other) = (0u64, 0u64, 0u64);
            let Ok(mut c) = KeepAlive::open(port).await else {
                return (ok, throttled, other);
            };
            tokio::time::sleep_until(start.into()).await;
            let req = post(1, "203.0.113.66", &body);
            while Instant::now() < end {
                match c.send(&req).await {
                    Ok(201) => ok += 1,
                    Ok(429) => throttled += 1,
                    _ => other += 1,
                }
            }
            (ok, throttled, other)
        }));
    }
    tokio::time::sleep_until(start.into()).await;
    let during = reader(end).await?;
    let mut lat = Vec::new();
    let mut failed = 0;
    for t in tasks {
        let (l, o) = t.await?;
        lat.extend(l);
        failed += o;
    }
    let elapsed = start.elapsed();
    lat.sort_unstable();
    let (mut abuse_ok, mut abuse_429, mut abuse_other) = (0, 0, 0);
    for a in abusers {
        let (o, t, x) = a.await?;
        abuse_ok += o;
        abuse_429 += t;
        abuse_other += x;
    }
    // Every 201 must have been durable: kill the server without warning and count.
    server.start_kill()?;
    server.wait().await?;
    let db = Db::connect(&db_url).await?;
    let stored: i64 = sqlx::query("SELECT COUNT(*) FROM service_requests WHERE note = 'bench'")
        .fetch_one(db.pool())
        .await?
        .try_get(0)?;
    db.close().await;
    let created = created.load(Ordering::Relaxed);
    println!(
        "sqlite · open loop at {}/s for {} s from {} addresses: {created} accepted (201), {failed} other; {:.0} accepted/s; latency p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms",
        args.rate,
        args.secs,
        total,
        created as f64 / elapsed.as_secs_f64(),
        pct(&lat, 0.50),
        pct(&lat, 0.99),
        lat.last().copied().unwrap_or(0) as f64 / 1000.0
    );
    println!(
        "abusive client, one address, {} connections: {abuse_ok} accepted, {abuse_429} refused 429, {abuse_other} other",
        args.abusers
    );
    println!(
        "reader (a station's services, every 10 ms): alone p50 {:.2} ms, p99 {:.2} ms; during the burst p50 {:.2} ms, p99 {:.2} ms",
        pct(&alone, 0.50),
        pct(&alone, 0.99),
        pct(&during, 0.50),
        pct(&during, 0.99)
    );
    println!(
        "after SIGKILL: {stored} stored of {} accepted ({})",
        created + abuse_ok,
        if stored as u64 == created + abuse_ok {
            "none lost"
        } else {
            "LOST"
        }
    );
    let _ = std::fs::remove_dir_all(&dir);
    if stored as u64 != created + abuse_ok {
        return Err("acknowledged requests were lost".into());
    }
    Ok(())
}

/// 2016-03-01 09:30 China time.
const NOW: i64 = 1_456_795_800_000;
const DAY_MS: i64 = 86_400_000;

async fn count(db: &Db, sql: &str) -> Result<i64, BoxError> {
    Ok(sqlx::query(sql).fetch_one(db.pool()).await?.try_get(0)?)
}

async fn generate(db: &Db, args: &Args) -> Result<(), BoxError> {
    raw_execute(
        db,
        &format!(
            "CREATE TABLE bench_k AS WITH RECURSIVE s(k) AS (SELECT 0 UNION ALL \
             SELECT k + 1 FROM s WHERE k < {}) SELECT k FROM s",
            args.per_offer.max(27)
        ),
    )
    .await?;
    raw_execute(
        db,
        &format!(
            "INSERT INTO station_services (org_code, org_path, name, domain, clients, mode, created_at) \
             SELECT o.code, o.path, '服务 ' || k.k, \
             CASE k.k % 4 WHEN 0 THEN 'tourism' WHEN 1 THEN 'public_affairs' WHEN 2 THEN 'industry' ELSE 'governance' END, \
             'tourist,owner', 'both', {NOW} FROM orgs o CROSS JOIN bench_k k \
             WHERE o.level = 'county' AND k.k < 27"
        ),
    )
    .await?;
    raw_execute(
        db,
        &format!(
            "INSERT INTO stations (org_code, org_path, name, address, teams, open, created_at) \
             SELECT code, path, '驿站 ' || code, '村口', '讲解引导队', 1, {NOW} FROM \
             (SELECT code, path, ROW_NUMBER() OVER (ORDER BY code) AS r FROM orgs WHERE level = 'village') v \
             WHERE v.r % 10 = 1"
        ),
    )
    .await?;
    raw_execute(
        db,
        "INSERT INTO station_offers (station_id, service_id) SELECT s.id, v.id FROM stations s \
         JOIN station_services v ON substr(s.org_path, 1, length(v.org_path)) = v.org_path",
    )
    .await?;
    // The state by (station + service + k) % 10: one received, one assigned, one withdrawn,
    // seven done (of those, every other one rated); received up to 30 days before.
    let state = "((f.station_id + f.service_id + k.k) % 10)";
    let received = format!("{NOW} - ((f.station_id * 7 + k.k * 13) % 30 + 1) * {DAY_MS}");
    raw_execute(
        db,
        &format!(
            "INSERT INTO service_requests (code, station_id, service_id, org_path, requester, \
             phone_sealed, phone_masked, place, wanted, note, status, received_at, assigned_to, \
             assigned_by, assigned_at, done_at, done_note, closed_reason, feedback_score, \
             feedback_note, feedback_at) \
             SELECT 'B' || f.station_id || 'S' || f.service_id || 'K' || k.k, f.station_id, \
             f.service_id, s.org_path, '游客', 'sealed', '139****0031', '村口', '', '', \
             CASE WHEN {state} = 0 THEN 'received' WHEN {state} = 1 THEN 'assigned' \
                  WHEN {state} = 2 THEN 'withdrawn' ELSE 'done' END, \
             {received}, \
             CASE WHEN {state} IN (0, 2) THEN NULL ELSE 'volunteer.' || (k.k % 5) END, \
             CASE WHEN {state} IN (0, 2) THEN NULL ELSE 'keeper' END, \
             CASE WHEN {state} IN (0, 2) THEN NULL ELSE {received} + (k.k % 5 + 1) * 1200000 END, \
             CASE WHEN {state} >= 2 THEN {received} + (k.k % 4 + 1) * 10800000 ELSE NULL END, \
             CASE WHEN {state} > 2 THEN '已办好' ELSE NULL END, \
             CASE WHEN {state} = 2 THEN '重复点单' ELSE NULL END, \
             CASE WHEN {state} > 2 AND k.k % 2 = 0 THEN 4 + k.k % 2 + (f.service_id % 2) ELSE NULL END, \
             NULL, \
             CASE WHEN {state} > 2 AND k.k % 2 = 0 THEN {received} + {DAY_MS} ELSE NULL END \
             FROM station_offers f JOIN stations s ON s.id = f.station_id CROSS JOIN bench_k k \
             WHERE k.k < {}",
            args.per_offer
        ),
    )
    .await?;
    raw_execute(db, "DROP TABLE bench_k").await?;
    Ok(())
}

async fn boards(args: &Args) -> Result<(), BoxError> {
    let n = args.villages;
    let (db, url) = fresh_db(args.pg.as_deref(), &format!("bq_station_bench_{n}")).await?;
    db.migrate().await?;
    eprintln!("[{n} villages] building the province in {url} …");
    let t = Instant::now();
    let world = baiqian_demo::province(n)?;
    let cli = baiqian_store::Actor::cli();
    db.bulk_insert_orgs(&cli, &world, NOW).await?;
    generate(&db, args).await?;
    db.refresh_all_station_tallies().await?;
    if db.backend() == baiqian_store::Backend::Postgres {
        raw_execute(&db, "VACUUM ANALYZE").await?;
    }
    db.analyze().await?;
    let built = t.elapsed();
    let requests = count(&db, "SELECT COUNT(*) FROM service_requests").await?;
    let stations = count(&db, "SELECT COUNT(*) FROM stations").await?;
    let (router, token) = admin_router(&db, "330000", NOW).await?;
    use baiqian_domain::org::Level;
    use baiqian_domain::role::Role;
    let code_of = |level: Level| {
        world
            .iter()
            .find(|b| b.org.level == level)
            .map(|b| b.org.code.as_str().to_string())
            .ok_or("no such level")
    };
    let county = code_of(Level::County)?;
    let township = code_of(Level::Township)?;
    let county_token =
        baiqian_bench::token_for(&db, "bench.county", Role::CountyAdmin, &county, NOW).await?;
    let township_token =
        baiqian_bench::token_for(&db, "bench.township", Role::TownshipAdmin, &township, NOW)
            .await?;
    // The province's figures against the rows themselves.
    let node = db
        .org(
            &baiqian_domain::scope::Scope::everything(),
            &baiqian_domain::org::OrgCode::parse("330000").map_err(|e| e.to_string())?,
        )
        .await?;
    let totals = db.station_totals_under(&node).await?;
    for (figure, kept, condition) in [
        ("received", totals.received, "1 = 1"),
        ("waiting", totals.waiting, "status = 'received'"),
        ("in hand", totals.in_hand, "status = 'assigned'"),
        ("done", totals.done, "status = 'done'"),
        ("withdrawn", totals.withdrawn, "status = 'withdrawn'"),
        ("rated", totals.scored, "feedback_score IS NOT NULL"),
    ] {
        let rows = count(
            &db,
            &format!("SELECT COUNT(*) FROM service_requests WHERE {condition}"),
        )
        .await?;
        if rows != kept || rows == 0 {
            return Err(format!("{figure}: the board says {kept}, the rows hold {rows}").into());
        }
    }
    let station: i64 = count(&db, "SELECT MIN(id) FROM stations").await?;
    let mut report = Vec::new();
    for (what, path, who) in [
        (
            "province stations board",
            "/orgs/330000/stations".to_string(),
            &token,
        ),
        (
            "province chart data",
            "/orgs/330000/stations/chart".to_string(),
            &token,
        ),
        (
            "province stations API",
            "/api/v1/orgs/330000/stations".to_string(),
            &token,
        ),
        (
            "county stations board",
            format!("/orgs/{county}/stations"),
            &county_token,
        ),
        (
            "township stations board",
            format!("/orgs/{township}/stations"),
            &township_token,
        ),
        (
            "a station's page (by service, newest requests)",
            format!("/stations/{station}"),
            &token,
        ),
        (
            "a station's waiting list",
            format!("/stations/{station}?list=received"),
            &token,
        ),
    ] {
        report.push((what, time_get(&router, who, &path, args.runs.max(5)).await?));
    }
    println!(
        "{backend} · {n} villages, {stations} stations, {requests} requests (built in {:.1} s)",
        built.as_secs_f64(),
        backend = db.backend().as_str()
    );
    println!("board figures checked against the rows: 6, none off");
    for (what, took) in &report {
        println!("  {what}: {:.1} ms (median)", ms(*took));
    }
    db.close().await;
    Ok(())
}

#[tokio::main]
async fn main() -> Result<(), BoxError> {
    let args = Args::parse();
    match args.part.as_str() {
        "burst" => burst(&args).await,
        "boards" => boards(&args).await,
        other => Err(format!("--part burst or boards, not {other}").into()),
    }
}
