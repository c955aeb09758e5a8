//! `baiqian-audit-bench`: verifying the audit log's hash chain at scale. It writes `--rows`
//! chained audit rows into a fresh database (the hashes computed as the application computes
//! them, rows inserted many to a statement), then runs `baiqian audit verify` on it under
//! `/usr/bin/time`, and prints the rows, the wall time and the verifier's peak memory: the
//! walk reads 5,000 rows a page, so its memory should not grow with the log.

use std::process::Command;
use std::time::Instant;

use baiqian_bench::{BoxError, fresh_db};
use baiqian_store::audit::chain::{Fields, GENESIS, row_hash};
use clap::Parser;

#[derive(Parser, Debug)]
#[command(
    name = "baiqian-audit-bench",
    about = "Verify a generated audit log's hash chain and report time and peak memory (see docs/benchmarks.md)"
)]
struct Args {
    #[arg(long, default_value_t = 10_000_000)]
    rows: i64,
    /// PostgreSQL admin URL: a fresh database on that server. Without it, a new SQLite file in
    /// the temp directory.
    #[arg(long)]
    pg: Option<String>,
    /// The server binary whose `audit verify` is measured.
    #[arg(long, default_value = "target/release/baiqian")]
    server: String,
}

/// Rows per INSERT statement (14 parameters each, under SQLite's 32,766).
const PER_STATEMENT: i64 = 2_000;
/// Rows per transaction.
const PER_TX: i64 = 200_000;

#[tokio::main]
async fn main() -> Result<(), BoxError> {
    let args = Args::parse();
    let (db, url) = fresh_db(args.pg.as_deref(), "bq_audit_bench").await?;
    db.migrate().await?;
    let started = Instant::now();
    let (mut seq, mut prev) = (0i64, GENESIS.to_string());
    while seq < args.rows {
        let mut tx = db.pool().begin().await?;
        let end = (seq + PER_TX).min(args.rows);
        while seq < end {
            let n = PER_STATEMENT.min(end - seq);
            let mut sql = String::from(
                "INSERT INTO audit_log (at, actor_id, actor_login, actor_role, action, entity, \
                 entity_key, org_path, before_json, after_json, reason, seq, prev_hash, row_hash) VALUES ",
            );
            let mut rows = Vec::with_capacity(n as usize);
            for i in 0..n {
                let s = seq + i + 1;
                let key = format!("#{s} 330522109201");
                let after = format!("{{\"status\":\"in_progress\",\"n\":{s}}}");
                let at = 1_456_795_800_000 + s;
                let hash = row_hash(
                    s,
                    &prev,
                    &Fields {
                        at,
                        actor_id: Some(7),
                        actor_login: "meishan.admin",
                        actor_role: "township_admin",
                        action: "start",
                        entity: "problem",
                        entity_key: &key,
                        org_path: "/330500/330522/330522109/330522109201",
                        before_json: Some("{\"status\":\"open\"}"),
                        after_json: Some(&after),
                        reason: None,
                    },
                );
                let b = (i * 6) as usize;
                if i > 0 {
                    sql.push(',');
                }
                sql.push_str(&format!(
                    "(${}, 7, 'meishan.admin', 'township_admin', 'start', 'problem', ${}, \
                     '/330500/330522/330522109/330522109201', '{{\"status\":\"open\"}}', ${}, NULL, \
                     ${}, ${}, ${})",
                    b + 1,
                    b + 2,
                    b + 3,
                    b + 4,
                    b + 5,
                    b + 6
                ));
                rows.push((
                    at,
                    key,
                    after,
                    s,
                    std::mem::replace(&mut prev, hash.clone()),
                    hash,
                ));
            }
            let mut q = sqlx::query(&sql);
            for (at, key, after, s, p, h) in rows {
                q = q.bind(at).bind(key).bind(after).bind(s).bind(p).bind(h);
            }
            q.execute(&mut *tx).await?;
            seq += n;
        }
        tx.commit().await?;
        eprintln!("{seq} rows written");
    }
    sqlx::query("UPDATE audit_chain SET seq = $1, head = $2 WHERE id = 1")
        .bind(seq)
        .bind(&prev)
        .execute(db.pool())
        .await?;
    if db.backend() == baiqian_store::Backend::Postgres {
        baiqian_store::raw_execute(&db, "ANALYZE audit_log").await?;
    }
    let filled = started.elapsed();
    db.close().await;
    let out = Command::new("/usr/bin/time")
        .args(["-f", "%e s wall, %M KB peak RSS"])
        .arg(&args.server)
        .args(["audit", "verify", "--db", &url])
        .output()?;
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    println!(
        "{} audit rows written in {:.1} s on {}",
        args.rows,
        filled.as_secs_f64(),
        if args.pg.is_some() {
            "PostgreSQL"
        } else {
            "SQLite"
        }
    );
    println!("verify: {}", stdout.trim());
    println!("verify: {}", stderr.lines().last().unwrap_or("").trim());
    if !out.status.success() {
        return Err(format!("verify failed: {stdout}{stderr}").into());
    }
    Ok(())
}
