//! `baiqian-abuse-bench`: what an attacker's requests cost the server, and what a normal user
//! feels meanwhile (issue 29). Builds the light demo world, starts the release server as its own
//! process (default logging, `--trusted-proxy` so that this one process can speak from many
//! addresses through `X-Forwarded-For`), and runs each attack while a normal user logs in from an
//! address of their own, again and again:
//!
//! 1. hostile files posted to the roster import (the largest upload limit): a 5 KB workbook with
//!    one cell at `XFD1048576`, one with a cell at row 40,000 and column 300, a zip declaring
//!    1 GB, a 100 MB one-line CSV;
//! 2. a login flood: `--clients` clients from `--addresses` addresses sending `--logins` bad
//!    logins in all.
//!
//! For each: the server's resident memory before and after and its peak (`/proc/PID/status`),
//! the attack's answers by status, and the normal user's login times (median, worst).

use std::collections::BTreeMap;
use std::io::Write;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use baiqian_bench::wire::{http, light_demo, login_form, post_login, start_server};
use baiqian_bench::{BoxError, median, ms};
use clap::Parser;

#[derive(Parser, Debug)]
#[command(
    name = "baiqian-abuse-bench",
    about = "Hostile files and login floods against the release server (see docs/benchmarks.md)"
)]
struct Args {
    /// The server binary (build it with `cargo build --release`).
    #[arg(long, default_value = "target/release/baiqian")]
    server: PathBuf,
    /// Clients of the login flood.
    #[arg(long, default_value_t = 64)]
    clients: usize,
    /// Addresses the flood comes from.
    #[arg(long, default_value_t = 8)]
    addresses: usize,
    /// Bad logins in the flood.
    #[arg(long, default_value_t = 2000)]
    logins: usize,
    /// Times each hostile file is sent.
    #[arg(long, default_value_t = 5)]
    repeat: usize,
}

/// The server's resident and peak memory, MB.
fn memory(pid: u32) -> (u64, u64) {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    let field = |name: &str| {
        status
            .lines()
            .find(|l| l.starts_with(name))
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|n| n.parse::<u64>().ok())
            .unwrap_or(0)
            / 1024
    };
    (field("VmRSS:"), field("VmHWM:"))
}

/// A normal user logging in again and again from their own address until `stop`: each login's
/// time, and how many failed.
fn normal_user(
    port: u16,
    stop: std::sync::Arc<std::sync::atomic::AtomicBool>,
) -> tokio::task::JoinHandle<(Vec<Duration>, usize)> {
    tokio::spawn(async move {
        let (mut times, mut failed) = (Vec::new(), 0);
        while !stop.load(std::sync::atomic::Ordering::Relaxed) {
            let start = Instant::now();
            let ok = match login_form(port).await {
                Ok(form) => matches!(
                    post_login(
                        port,
                        &form,
                        "meishan.admin",
                        baiqian_demo::DEMO_PASSWORD,
                        "10.200.0.1"
                    )
                    .await,
                    Ok(303)
                ),
                Err(_) => false,
            };
            times.push(start.elapsed());
            if !ok {
                failed += 1;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        (times, failed)
    })
}

fn far_cell(row: u32, col: u16) -> Result<Vec<u8>, BoxError> {
    let mut wb = rust_xlsxwriter::Workbook::new();
    let ws = wb.add_worksheet();
    ws.write_string(0, 0, "姓名")?;
    ws.write_string(row, col, "x")?;
    Ok(wb.save_to_buffer()?)
}

fn bomb() -> Result<Vec<u8>, BoxError> {
    let mut zip = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let opts = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated)
        .compression_level(Some(1))
        .large_file(true);
    zip.start_file("xl/worksheets/sheet1.xml", opts)?;
    let zeros = vec![0u8; 1 << 20];
    for _ in 0..1024 {
        zip.write_all(&zeros)?;
    }
    Ok(zip.finish()?.into_inner())
}

fn multipart(name: &str, file: &[u8]) -> (String, Vec<u8>) {
    let boundary = "XbaiqianAbuseX";
    let mut body = format!(
        "--{boundary}\r\nContent-Disposition: form-data; name=\"mode\"\r\n\r\nall\r\n--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{name}\"\r\nContent-Type: application/octet-stream\r\n\r\n"
    )
    .into_bytes();
    body.extend_from_slice(file);
    body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
    (format!("multipart/form-data; boundary={boundary}"), body)
}

fn report(
    what: &str,
    pid: u32,
    before: (u64, u64),
    answers: &BTreeMap<u16, usize>,
    user: (Vec<Duration>, usize),
    took: Duration,
) {
    let after = memory(pid);
    let (times, failed) = user;
    let worst = times.iter().max().copied().unwrap_or_default();
    let logins = times.len();
    println!(
        "{what}: {:.1} s; answers {answers:?}; server RSS {} MB before, {} MB after, peak {} MB; \
         normal user: {logins} logins, {failed} failed, median {:.1} ms, worst {:.1} ms",
        took.as_secs_f64(),
        before.0,
        after.0,
        after.1,
        ms(median(times)),
        ms(worst),
    );
}

#[tokio::main]
async fn main() -> Result<(), BoxError> {
    let args = Args::parse();
    let dir = std::env::temp_dir().join(format!("baiqian-abuse-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    let db = light_demo(&args.server, &dir, "abuse")?;
    let store = baiqian_store::Db::connect(&db).await?;
    let token = baiqian_bench::token_for(
        &store,
        "abuse.bench",
        baiqian_domain::role::Role::TownshipAdmin,
        baiqian_demo::MEISHAN,
        chrono::Utc::now().timestamp_millis(),
    )
    .await?;
    store.close().await;
    let (mut server, port) = start_server(&args.server, &db, &dir).await?;
    let pid = server.id().ok_or("no server pid")?;
    println!("server up: RSS {} MB", memory(pid).0);

    // 1. Hostile files, one after another, `repeat` times each.
    let files: Vec<(&str, &str, Vec<u8>)> = vec![
        (
            "far cell XFD1048576",
            "far.xlsx",
            far_cell(1_048_575, 16_383)?,
        ),
        ("row 40,000 column 300", "deep.xlsx", far_cell(39_999, 299)?),
        ("1 GB-declared zip", "bomb.xlsx", bomb()?),
        ("100 MB one-line CSV", "line.csv", vec![b'a'; 100 << 20]),
    ];
    for (what, name, file) in &files {
        let before = memory(pid);
        let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let user = normal_user(port, stop.clone());
        let (ctype, body) = multipart(name, file);
        let head = format!(
            "POST /api/v1/orgs/{}/members/import HTTP/1.1\r\nAuthorization: Bearer {token}\r\nContent-Type: {ctype}\r\n",
            baiqian_demo::MEISHAN
        );
        let mut answers = BTreeMap::new();
        let start = Instant::now();
        for _ in 0..args.repeat {
            let status = http(port, &head, &body).await.map(|r| r.0).unwrap_or(0);
            *answers.entry(status).or_insert(0) += 1;
        }
        let took = start.elapsed();
        stop.store(true, std::sync::atomic::Ordering::Relaxed);
        report(what, pid, before, &answers, user.await?, took);
    }

    // 2. The login flood.
    let before = memory(pid);
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let user = normal_user(port, stop.clone());
    let start = Instant::now();
    let per_client = args.logins.div_ceil(args.clients);
    let mut tasks = Vec::new();
    for c in 0..args.clients {
        let address = format!("10.66.0.{}", c % args.addresses.max(1) + 1);
        tasks.push(tokio::spawn(async move {
            let mut answers: BTreeMap<u16, usize> = BTreeMap::new();
            let Ok(form) = login_form(port).await else {
                return answers;
            };
            for i in 0..per_client {
                let login = format!("guess{c}x{i}");
                let status = post_login(port, &form, &login, "Wrong-pass1", &address)
                    .await
                    .unwrap_or(0);
                *answers.entry(status).or_insert(0) += 1;
            }
            answers
        }));
    }
    let mut answers = BTreeMap::new();
    for t in tasks {
        for (k, v) in t.await? {
            *answers.entry(k).or_insert(0) += v;
        }
    }
    let took = start.elapsed();
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    report(
        &format!(
            "login flood ({} clients, {} addresses, {} bad logins)",
            args.clients,
            args.addresses,
            per_client * args.clients
        ),
        pid,
        before,
        &answers,
        user.await?,
        took,
    );
    let _ = server.kill().await;
    let _ = std::fs::remove_dir_all(&dir);
    Ok(())
}
