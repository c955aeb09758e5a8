//! `baiqian-roster-bench`: a province's roster in and out as Excel. Generates a province
//! (`baiqian_demo::province`) and its roster (`province_roster`, 200 members a village by
//! default: 1,000,000 for 5,000 villages), writes it as the `.xlsx` an official would upload
//! (title line, their header words, phones), then measures, in one run:
//!
//! - **import baseline**: calamine's cell reader parsing the file plus the store's bulk insert
//!   (`bulk_insert_members`, no checks) of the same rows, in this process, into its own database;
//! - **import**: the release server (as shipped: default logging to a file) taking the file as a
//!   job (`POST /api/v1/orgs/{root}/members/import-jobs`), from the upload's first byte to the job
//!   done, and the server's peak resident memory (VmHWM);
//! - **export baseline**: rust_xlsxwriter alone writing the same cells (constant-memory mode, as
//!   the server writes them) to a file;
//! - **export**: a freshly started server exporting the million as a job
//!   (`POST …/members/export-jobs`) until its file is ready, its peak memory, and `/healthz`
//!   asked every 50 ms meanwhile (the server keeps answering).
//!
//! The ratios printed are baseline time ÷ server time (the goals: ≥ 0.5 import, ≥ 0.7 export).

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use baiqian_bench::{BoxError, fresh_db, median, ms};
use baiqian_domain::member::{Gender, IdNumber};
use baiqian_domain::org::OrgCode;
use baiqian_store::member::NewMember;
use clap::Parser;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

#[derive(Parser, Debug)]
#[command(
    name = "baiqian-roster-bench",
    about = "A province's roster imported and exported as .xlsx (see docs/benchmarks.md)"
)]
struct Args {
    #[arg(long, default_value_t = 5_000)]
    villages: usize,
    #[arg(long, default_value_t = 200)]
    members_per_village: usize,
    /// PostgreSQL admin URL: the databases are created there. Without it, SQLite files in the
    /// temp directory.
    #[arg(long)]
    pg: Option<String>,
    /// The server binary (build it with `cargo build --release`).
    #[arg(long, default_value = "target/release/baiqian")]
    server: PathBuf,
    /// Keep the temporary directory (files, SQLite databases) for a look afterwards.
    #[arg(long)]
    keep: bool,
}

/// 2016-01-01 China time.
const JAN_2016: i64 = 1_451_577_600_000;

const HEADERS: [&str; 7] = [
    "姓名",
    "性别",
    "出生日期",
    "公民身份号码",
    "入党时间",
    "联系电话",
    "所在党组织",
];

fn phone(i: usize) -> String {
    format!("136{:08}", i % 100_000_000)
}

/// The file an official would upload: a title line, then the header, then a row a member.
fn write_upload(path: &Path, roster: &[NewMember]) -> Result<(), BoxError> {
    let mut wb = rust_xlsxwriter::Workbook::new();
    let ws = wb.add_worksheet_with_constant_memory()?;
    ws.write_string(0, 0, "全省党员花名册")?;
    for (c, h) in HEADERS.iter().enumerate() {
        ws.write_string(1, c as u16, *h)?;
    }
    for (i, m) in roster.iter().enumerate() {
        let r = i as u32 + 2;
        ws.write_string(r, 0, &m.name)?;
        ws.write_string(r, 1, m.gender.zh())?;
        ws.write_string(r, 2, &m.birth_date)?;
        ws.write_string(r, 3, m.id_number.as_str())?;
        ws.write_string(r, 4, &m.joined)?;
        ws.write_string(r, 5, phone(i))?;
        ws.write_string(r, 6, m.home_org.as_str())?;
    }
    wb.save(path)?;
    Ok(())
}

/// The import baseline's parse: calamine's streaming cell reader, each row straight into a
/// member (no checks beyond what the types need).
fn parse_upload(path: &Path) -> Result<Vec<NewMember>, BoxError> {
    use calamine::{DataRef, Reader};
    let mut wb: calamine::Xlsx<_> = calamine::open_workbook(path)?;
    let name = wb.sheet_names().first().cloned().ok_or("no sheet")?;
    let mut cells = wb.worksheet_cells_reader(&name)?;
    let mut out = Vec::new();
    let mut row: Vec<String> = vec![String::new(); HEADERS.len()];
    let mut at = 0u32;
    let flush = |row: &mut Vec<String>, out: &mut Vec<NewMember>| -> Result<(), BoxError> {
        out.push(NewMember {
            name: std::mem::take(&mut row[0]),
            gender: Gender::parse(if row[1] == "女" { "F" } else { "M" })?,
            birth_date: std::mem::take(&mut row[2]),
            id_number: IdNumber::parse(&row[3])?,
            joined: std::mem::take(&mut row[4]),
            confirmed: None,
            phone: Some(baiqian_domain::member::Phone::parse(&row[5])?),
            home_org: OrgCode::parse(&row[6])?,
            workplace: None,
            mobile: false,
            mobile_where: None,
        });
        Ok(())
    };
    while let Some(cell) = cells.next_cell()? {
        let (r, c) = cell.get_position();
        if r < 2 {
            continue;
        }
        if r != at && at >= 2 {
            flush(&mut row, &mut out)?;
        }
        at = r;
        if let Some(slot) = row.get_mut(c as usize) {
            *slot = match cell.get_value() {
                DataRef::SharedString(s) => s.to_string(),
                DataRef::String(s) => s.clone(),
                other => calamine::Data::from(other.clone()).to_string(),
            };
        }
    }
    if at >= 2 {
        flush(&mut row, &mut out)?;
    }
    Ok(out)
}

/// The export baseline: rust_xlsxwriter alone writing the cells the server's export writes.
fn write_export_cells(
    path: &Path,
    roster: &[NewMember],
    names: &std::collections::HashMap<String, String>,
) -> Result<(), BoxError> {
    use rust_xlsxwriter::{ExcelDateTime, Format};
    let mut wb = rust_xlsxwriter::Workbook::new();
    let date = Format::new().set_num_format("yyyy-mm-dd");
    let bold = Format::new().set_bold();
    let ws = wb.add_worksheet_with_constant_memory()?;
    ws.write_string_with_format(0, 0, "党员名册", &bold)?;
    for c in 0..11u16 {
        ws.write_string_with_format(1, c, "表头", &bold)?;
    }
    for (i, m) in roster.iter().enumerate() {
        let r = i as u32 + 2;
        let phone = baiqian_domain::member::Phone::parse(&phone(i))?;
        ws.write_string(r, 0, &m.name)?;
        ws.write_string(r, 1, m.gender.zh())?;
        ws.write_datetime_with_format(r, 2, ExcelDateTime::parse_from_str(&m.birth_date)?, &date)?;
        ws.write_string(r, 3, m.id_number.masked())?;
        ws.write_string(r, 4, phone.masked())?;
        ws.write_string(
            r,
            5,
            names
                .get(m.home_org.as_str())
                .map(String::as_str)
                .unwrap_or(""),
        )?;
        ws.write_string(r, 6, m.home_org.as_str())?;
        ws.write_datetime_with_format(r, 7, ExcelDateTime::parse_from_str(&m.joined)?, &date)?;
        ws.write_string(r, 8, "")?;
        ws.write_string(r, 9, "否")?;
        ws.write_string(r, 10, "")?;
    }
    wb.save(path)?;
    Ok(())
}

/// A city-admin account at the province's root with a bearer token.
async fn admin_token(db: &baiqian_store::Db, root: &str) -> Result<String, BoxError> {
    use baiqian_store::user::NewUser;
    let cli = baiqian_store::Actor::cli();
    let user = db
        .create_user(
            &cli,
            NewUser {
                login: "bench.province".into(),
                name: "基准".into(),
                role: baiqian_domain::role::Role::CityAdmin,
                org_code: OrgCode::parse(root)?,
                password_hash: baiqian_web::auth::hash_password("Bench@2016x")
                    .map_err(|e| e.to_string())?,
            },
            JAN_2016,
        )
        .await?;
    let token = baiqian_web::auth::random_token().map_err(|e| e.to_string())?;
    db.issue_token(
        &cli,
        &user,
        &baiqian_web::auth::sha256_hex(&token),
        JAN_2016,
    )
    .await?;
    Ok(token)
}

struct Server {
    http: Client,
    child: tokio::process::Child,
}

/// Plain HTTP/1.1 to the server, one connection a request.
#[derive(Clone, Copy)]
struct Client {
    port: u16,
}

impl Server {
    async fn start(
        args: &Args,
        db_url: &str,
        key: &Path,
        log: &Path,
        evidence: &Path,
    ) -> Result<Self, BoxError> {
        let port = std::net::TcpListener::bind("127.0.0.1:0")?
            .local_addr()?
            .port();
        let child = tokio::process::Command::new(&args.server)
            .args([
                "serve",
                "--db",
                db_url,
                "--listen",
                &format!("127.0.0.1:{port}"),
                "--evidence-dir",
                &evidence.display().to_string(),
            ])
            .env_remove("RUST_LOG")
            .env("BAIQIAN_DATA_KEY_FILE", key)
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(log)?)
            .kill_on_drop(true)
            .spawn()?;
        let s = Self {
            http: Client { port },
            child,
        };
        for _ in 0..400 {
            if s.http
                .get("/healthz", None)
                .await
                .is_ok_and(|(st, _)| st == 200)
            {
                return Ok(s);
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        Err("server did not start".into())
    }

    /// Peak resident memory of the server process so far, in MiB.
    fn peak_mib(&self) -> Result<f64, BoxError> {
        let pid = self.child.id().ok_or("server gone")?;
        let status = std::fs::read_to_string(format!("/proc/{pid}/status"))?;
        let kb: f64 = status
            .lines()
            .find_map(|l| l.strip_prefix("VmHWM:"))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
            .ok_or("no VmHWM")?;
        Ok(kb / 1024.0)
    }

    async fn stop(mut self) -> Result<(), BoxError> {
        self.child.kill().await?;
        self.child.wait().await?;
        Ok(())
    }
}

impl Client {
    /// One request on its own connection: (status, body).
    async fn send(&self, head: String, body: &[u8]) -> Result<(u16, Vec<u8>), BoxError> {
        let mut s = tokio::net::TcpStream::connect(("127.0.0.1", self.port)).await?;
        s.write_all(head.as_bytes()).await?;
        s.write_all(body).await?;
        let mut out = Vec::new();
        s.read_to_end(&mut out).await?;
        let split = out
            .windows(4)
            .position(|w| w == b"\r\n\r\n")
            .ok_or("no response head")?;
        let status: u16 = std::str::from_utf8(&out[..split])?
            .split(' ')
            .nth(1)
            .and_then(|c| c.parse().ok())
            .ok_or("no status")?;
        Ok((status, out[split + 4..].to_vec()))
    }

    async fn get(&self, path: &str, token: Option<&str>) -> Result<(u16, Vec<u8>), BoxError> {
        let auth = token
            .map(|t| format!("Authorization: Bearer {t}\r\n"))
            .unwrap_or_default();
        self.send(
            format!("GET {path} HTTP/1.1\r\nHost: bench\r\n{auth}Connection: close\r\n\r\n"),
            b"",
        )
        .await
    }

    async fn post(
        &self,
        path: &str,
        token: &str,
        content_type: &str,
        body: &[u8],
    ) -> Result<(u16, Vec<u8>), BoxError> {
        self.send(
            format!(
                "POST {path} HTTP/1.1\r\nHost: bench\r\nAuthorization: Bearer {token}\r\n\
                 Content-Type: {content_type}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                body.len()
            ),
            body,
        )
        .await
    }

    /// Follows a job to its end; its view.
    async fn finish(&self, started: &[u8], token: &str) -> Result<serde_json::Value, BoxError> {
        let started: serde_json::Value = serde_json::from_slice(started)?;
        let url = started["url"].as_str().ok_or("no job url")?.to_string();
        loop {
            let (status, body) = self.get(&url, Some(token)).await?;
            if status != 200 {
                return Err(format!("{url}: {status}").into());
            }
            let job: serde_json::Value = serde_json::from_slice(&body)?;
            if job["status"] != "running" {
                return Ok(job);
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
}

#[tokio::main]
async fn main() -> Result<(), BoxError> {
    let args = Args::parse();
    let dir = std::env::temp_dir().join(format!("baiqian-roster-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    let world = baiqian_demo::province(args.villages)?;
    // The generated tree's first node is its root.
    let root = world
        .first()
        .map(|b| b.org.code.to_string())
        .ok_or("no province")?;
    let names: std::collections::HashMap<String, String> = world
        .iter()
        .map(|b| (b.org.code.to_string(), b.org.name.clone()))
        .collect();
    let roster = baiqian_demo::province_roster(&world, args.members_per_village)?;
    let n = roster.len();
    eprintln!("{} organizations, {n} members", world.len());

    let upload = dir.join("roster.xlsx");
    let t = Instant::now();
    write_upload(&upload, &roster)?;
    let file = std::fs::read(&upload)?;
    println!(
        "upload file: {n} rows × {} columns, {:.1} MB, written in {:.1} s",
        HEADERS.len(),
        file.len() as f64 / 1e6,
        t.elapsed().as_secs_f64()
    );

    // Import baseline: parse + bulk insert, its own database.
    let backend = if args.pg.is_some() { "pg" } else { "sqlite" };
    let (base_db, _) = fresh_db(args.pg.as_deref(), &format!("bq_roster_base_{backend}")).await?;
    base_db.migrate().await?;
    let cli = baiqian_store::Actor::cli();
    base_db.bulk_insert_orgs(&cli, &world, JAN_2016).await?;
    let vault = baiqian_store::vault::Vault::random()?;
    drop(roster);
    let t = Instant::now();
    let parsed = parse_upload(&upload)?;
    let parse_s = t.elapsed().as_secs_f64();
    for chunk in parsed.chunks(10_000) {
        base_db
            .bulk_insert_members(&cli, &vault, chunk, JAN_2016)
            .await?;
    }
    let base_import = t.elapsed().as_secs_f64();
    base_db.close().await;
    println!(
        "import baseline (calamine parse {parse_s:.1} s + bulk insert): {base_import:.1} s, {:.0} rows/s",
        n as f64 / base_import
    );

    // Import through the server, as a job.
    let (db, url) = fresh_db(args.pg.as_deref(), &format!("bq_roster_{backend}")).await?;
    db.migrate().await?;
    db.bulk_insert_orgs(&cli, &world, JAN_2016).await?;
    let token = admin_token(&db, &root).await?;
    db.close().await;
    let key = dir.join("bench.key");
    let evidence = dir.join("evidence");
    let server =
        Server::start(&args, &url, &key, &dir.join("server-import.log"), &evidence).await?;
    let at_rest = server.peak_mib()?;
    let (ctype, body) = baiqian_bench::multipart_xlsx("roster.xlsx", &file);
    drop(file);
    let t = Instant::now();
    let (status, started) = server
        .http
        .post(
            &format!("/api/v1/orgs/{root}/members/import-jobs"),
            &token,
            &ctype,
            &body,
        )
        .await?;
    drop(body);
    if status != 202 {
        return Err(format!("import job: {status} {}", String::from_utf8_lossy(&started)).into());
    }
    let job = server.http.finish(&started, &token).await?;
    let import_s = t.elapsed().as_secs_f64();
    let import_peak = server.peak_mib()?;
    server.stop().await?;
    if job["status"] != "done" || job["created"].as_u64() != Some(n as u64) {
        return Err(format!("import job ended as {job}").into());
    }
    println!(
        "import (server job, upload to done): {import_s:.1} s, {:.0} rows/s; server peak {import_peak:.0} MiB (at rest {at_rest:.0} MiB)",
        n as f64 / import_s
    );
    println!(
        "import ratio (baseline ÷ server): {:.2}",
        base_import / import_s
    );

    // What the export's reading side costs alone: the store's roster read, in process.
    let db = baiqian_store::Db::connect(&url).await?;
    let codes: Vec<String> = world.iter().map(|b| b.org.code.to_string()).collect();
    let scope = baiqian_domain::scope::Scope::everything();
    let t = Instant::now();
    let mut read = 0usize;
    for chunk in codes.chunks(64) {
        read += db.members_of_orgs(&scope, chunk).await?.len();
    }
    println!(
        "  the store's roster read alone: {read} members in {:.1} s",
        t.elapsed().as_secs_f64()
    );
    db.close().await;

    // Export baseline: rust_xlsxwriter alone, the same cells.
    let t = Instant::now();
    write_export_cells(&dir.join("baseline-export.xlsx"), &parsed, &names)?;
    let base_export = t.elapsed().as_secs_f64();
    drop(parsed);
    println!(
        "export baseline (rust_xlsxwriter, constant memory, 11 columns): {base_export:.1} s, {:.0} cells/s",
        (n * 11) as f64 / base_export
    );

    // Export through a fresh server, as a job, /healthz asked meanwhile.
    let server =
        Server::start(&args, &url, &key, &dir.join("server-export.log"), &evidence).await?;
    let t = Instant::now();
    let (status, started) = server
        .http
        .post(
            &format!("/api/v1/orgs/{root}/members/export-jobs"),
            &token,
            "application/json",
            b"{}",
        )
        .await?;
    if status != 202 {
        return Err(format!("export job: {status}").into());
    }
    let health = {
        let port = server.http.port;
        let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let flag = stop.clone();
        let probe = tokio::spawn(async move {
            let s = Client { port };
            let mut times = Vec::new();
            while !flag.load(std::sync::atomic::Ordering::Relaxed) {
                let t = Instant::now();
                let (status, _) = s.get("/healthz", None).await?;
                if status != 200 {
                    return Err::<Vec<Duration>, BoxError>(format!("healthz {status}").into());
                }
                times.push(t.elapsed());
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
            Ok(times)
        });
        let job = server.http.finish(&started, &token).await?;
        stop.store(true, std::sync::atomic::Ordering::Relaxed);
        (job, probe.await??)
    };
    let export_s = t.elapsed().as_secs_f64();
    let export_peak = server.peak_mib()?;
    let (job, times) = health;
    if job["status"] != "done" || job["created"].as_u64() != Some(n as u64) {
        return Err(format!("export job ended as {job}").into());
    }
    let download = job["download"].as_str().ok_or("no download")?.to_string();
    let (status, exported) = server.http.get(&download, Some(&token)).await?;
    server.stop().await?;
    if status != 200 {
        return Err(format!("download: {status}").into());
    }
    let max = times.iter().max().copied().unwrap_or_default();
    println!(
        "export (server job, start to file ready): {export_s:.1} s, {:.0} cells/s; server peak {export_peak:.0} MiB; file {:.1} MB",
        (n * 11) as f64 / export_s,
        exported.len() as f64 / 1e6
    );
    println!(
        "  /healthz during the export: {} answers, median {:.1} ms, max {:.1} ms",
        times.len(),
        ms(median(times.clone())),
        ms(max)
    );
    println!(
        "export ratio (baseline ÷ server): {:.2}",
        base_export / export_s
    );
    if args.keep {
        println!("kept: {}", dir.display());
    } else {
        let _ = std::fs::remove_dir_all(&dir);
    }
    Ok(())
}
