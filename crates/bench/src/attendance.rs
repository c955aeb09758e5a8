//! `baiqian-attendance-bench`: the attendance board at province scale. Generates a province
//! (`baiqian_demo::province`), `--members-per-village` members in every village (sealed ID
//! numbers, written in multi-row statements), one activity day per village and month, and each
//! month's check-ins (`--attend-percent` of the members, loaded with their rollups; `COPY` on
//! PostgreSQL). Then it times the attendance board — the province's page with its counties, a
//! county's page with its townships — and the attendance API, through the real router in process
//! (server time), for a month early and late in the year: the board reads one rollup row per
//! child, so its cost follows the children shown, not the check-ins stored.

use std::time::Instant;

use baiqian_bench::{BoxError, admin_router, fresh_db, ms, time_get};
use baiqian_domain::org::Level;
use baiqian_store::checkin::{BulkCheckin, NewEvent};
use clap::Parser;

#[derive(Parser, Debug)]
#[command(
    name = "baiqian-attendance-bench",
    about = "The attendance board on a generated province (see docs/benchmarks.md)"
)]
struct Args {
    #[arg(long, default_value_t = 20_000)]
    villages: usize,
    #[arg(long, default_value_t = 200)]
    members_per_village: usize,
    #[arg(long, default_value_t = 12)]
    months: usize,
    #[arg(long, default_value_t = 70)]
    attend_percent: u64,
    /// PostgreSQL admin URL: the province goes into a fresh database there. Without it, a new
    /// SQLite file in the temp directory.
    #[arg(long)]
    pg: Option<String>,
    #[arg(long, default_value_t = 9)]
    runs: usize,
}

/// 2016-01-01 China time.
const JAN_2016: i64 = 1_451_577_600_000;
const DAY: i64 = 86_400_000;

/// Midnight (China time) of the 2nd of the `month`-th month of 2016 (0 = January), as Unix ms.
fn day_of(month: usize) -> Result<i64, BoxError> {
    let d = chrono::NaiveDate::from_ymd_opt(2016, month as u32 % 12 + 1, 2)
        .and_then(|d| d.and_hms_opt(0, 0, 0))
        .ok_or("bad month")?;
    Ok(d.and_utc().timestamp_millis() - 8 * 3_600_000)
}

#[tokio::main]
async fn main() -> Result<(), BoxError> {
    let args = Args::parse();
    let name = format!("bq_attendance_bench_{}", args.villages);
    let (db, url) = fresh_db(args.pg.as_deref(), &name).await?;
    db.migrate().await?;
    let cli = baiqian_store::Actor::cli();
    let vault = baiqian_store::vault::Vault::random()?;
    eprintln!("building the province in {url} …");
    let started = Instant::now();
    let world = baiqian_demo::province(args.villages)?;
    db.bulk_insert_orgs(&cli, &world, JAN_2016).await?;

    // Members, county by county (the roster of one county in memory at a time).
    let t = Instant::now();
    let mut members: Vec<(i64, usize)> = Vec::new(); // (member id, village index)
    let villages: Vec<&baiqian_store::org::BulkOrg> = world
        .iter()
        .filter(|b| b.org.level == Level::Village)
        .collect();
    let index: std::collections::HashMap<&str, usize> = villages
        .iter()
        .enumerate()
        .map(|(i, b)| (b.org.code.as_str(), i))
        .collect();
    for county in world.iter().filter(|b| b.org.level == Level::County) {
        let part: Vec<_> = world
            .iter()
            .filter(|b| b.org.level == Level::Village && b.path.starts_with(&county.path))
            .cloned()
            .collect();
        let roster = baiqian_demo::province_roster(&part, args.members_per_village)?;
        let ids = db
            .bulk_insert_members(&cli, &vault, &roster, JAN_2016)
            .await?;
        for (m, (id, _)) in roster.iter().zip(ids) {
            members.push((id, index.get(m.home_org.as_str()).copied().unwrap_or(0)));
        }
    }
    let members_took = t.elapsed();

    // One activity day per village and month, on the month's 2nd.
    let t = Instant::now();
    let mut event_of: Vec<Vec<i64>> = Vec::with_capacity(args.months);
    for month in 0..args.months {
        let day0 = day_of(month)?;
        let date = chrono::DateTime::from_timestamp_millis(day0 + 8 * 3_600_000)
            .map(|d| d.format("%Y-%m-%d").to_string())
            .unwrap_or_default();
        let events: Vec<NewEvent> = villages
            .iter()
            .map(|v| NewEvent {
                org: v.org.code.clone(),
                day: date.clone(),
                starts_at: day0 + 9 * 3_600_000,
                ends_at: day0 + 11 * 3_600_000,
                topic: "主题党日".into(),
                place: "村党群服务中心".into(),
            })
            .collect();
        event_of.push(
            db.bulk_load_events(&cli, &events, "bench", JAN_2016)
                .await?,
        );
    }
    let events_took = t.elapsed();

    let t = Instant::now();
    let loader = db.checkin_loader().await?;
    let mut checkins = 0usize;
    let mut rng = 0x9E37_79B9_7F4A_7C15u64;
    for (month, events) in event_of.iter().enumerate() {
        let mut rows = Vec::with_capacity(members.len());
        for (id, v) in &members {
            rng ^= rng << 13;
            rng ^= rng >> 7;
            rng ^= rng << 17;
            if rng % 100 < args.attend_percent {
                rows.push(BulkCheckin {
                    event_id: events[*v],
                    member_id: *id,
                    at: day_of(month)? + 9 * 3_600_000 + (rng % 60) as i64 * 60_000,
                });
            }
        }
        checkins += rows.len();
        db.load_checkins(&loader, &rows, JAN_2016).await?;
        eprintln!("  month {}: {} check-ins", month + 1, rows.len());
    }
    drop(loader);
    let checkins_took = t.elapsed();
    db.analyze().await?;
    let built = started.elapsed();

    // The board through the router, as the province's administrator.
    let (router, token) = admin_router(&db, "330000", JAN_2016 + 200 * DAY).await?;
    let county = world
        .iter()
        .find(|b| b.org.level == Level::County)
        .map(|b| b.org.code.as_str().to_string())
        .unwrap_or_default();
    let last = format!("2016-{:02}", args.months.clamp(1, 12));
    let village = villages
        .first()
        .map(|b| b.org.code.as_str().to_string())
        .unwrap_or_default();
    println!(
        "{} · {} villages, {} members, {} activity days, {} check-ins",
        db.backend().as_str(),
        villages.len(),
        members.len(),
        villages.len() * args.months,
        checkins
    );
    println!(
        "  built in {:.0} s: members {:.0} s, activity days {:.0} s, check-ins {:.0} s ({:.0}/s)",
        built.as_secs_f64(),
        members_took.as_secs_f64(),
        events_took.as_secs_f64(),
        checkins_took.as_secs_f64(),
        checkins as f64 / checkins_took.as_secs_f64()
    );
    for (what, path) in [
        (
            "province board, January",
            "/orgs/330000/attendance?month=2016-01".to_string(),
        ),
        (
            "province board, last month",
            format!("/orgs/330000/attendance?month={last}"),
        ),
        (
            "county board, last month",
            format!("/orgs/{county}/attendance?month={last}"),
        ),
        (
            "province board, no month asked (opens on the latest)",
            "/orgs/330000/attendance".to_string(),
        ),
        (
            "village page with its absent and attended-elsewhere lists",
            format!("/orgs/{village}/attendance?month={last}"),
        ),
        (
            "province attendance chart (twelve months)",
            format!("/orgs/330000/attendance/chart?month={last}"),
        ),
        (
            "province attendance API",
            format!("/api/v1/orgs/330000/attendance/{last}"),
        ),
    ] {
        let took = time_get(&router, &token, &path, args.runs).await?;
        println!(
            "  {what}: median {:.1} ms over {} runs",
            ms(took),
            args.runs
        );
    }
    db.close().await;
    Ok(())
}
