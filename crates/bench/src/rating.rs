//! `baiqian-rating-bench`: the rating round at province scale. For each size it generates a
//! province (`baiqian_demo::province`: counties of 10 townships of 20 villages), the pioneer data
//! of the year, and a round with every village scored and approved, then measures:
//!
//! 1. re-rating every village after a threshold change, as the application does it
//!    (`Db::set_rules`: load, compute in Rust, write what moved, audit, commit);
//! 2. the same computation as one set-based SQL statement (`RERATE_SET_BASED`), run directly;
//! 3. every board (city, county, township, village), each chart's data, each role's home and
//!    task list, the public pages and a drill-down list, in-process through the real router
//!    (server time: no network), each as the user it is for. Four earlier rounds (published)
//!    give the star history and the public pages their years.
//!
//! 4. the campaign's targets (issue 13, `campaign.rs`): every level's standing and every
//!    township's advancement in one pass, and the targets and advancement pages.
//!
//! Each measurement alternates the 5-star threshold between 90 % and 95 % so every run moves
//! villages; the median of the runs is reported.

use std::time::Instant;

use baiqian_domain::rating::{LaggingRule, Thresholds};
use clap::Parser;

#[derive(Parser, Debug)]
#[command(
    name = "baiqian-rating-bench",
    about = "Re-rating and board benchmark on a generated province (see docs/benchmarks.md)"
)]
struct Args {
    /// Village counts to generate, one province each.
    #[arg(long, value_delimiter = ',', default_value = "5000,20000")]
    villages: Vec<usize>,
    /// PostgreSQL admin URL: each size gets a fresh database on that server. Without it, a new
    /// SQLite file per size in the temp directory.
    #[arg(long)]
    pg: Option<String>,
    /// Runs of each measurement.
    #[arg(long, default_value_t = 7)]
    runs: usize,
    /// Rounds generated before the measured year (published), for the star history and the
    /// public pages.
    #[arg(long, default_value_t = 4)]
    earlier_years: i64,
    /// Townships in each county of 200 villages (10: 1,000 townships at 20,000 villages; 15:
    /// the 1,500 of issue 13's province).
    #[arg(long, default_value_t = 10)]
    townships_per_county: usize,
}

mod campaign;

use baiqian_bench::{BoxError, admin_router, fresh_db, median, ms, time_get};

const YEAR: i64 = 2016;
/// 2016-12-31 China time.
const NOW: i64 = 1_483_142_400_000;

#[tokio::main]
async fn main() -> Result<(), BoxError> {
    let args = Args::parse();
    for &n in &args.villages {
        run_size(&args, n).await?;
    }
    Ok(())
}

async fn run_size(args: &Args, n: usize) -> Result<(), BoxError> {
    let (db, url) = fresh_db(args.pg.as_deref(), &format!("bq_rating_bench_{n}")).await?;
    db.migrate().await?;
    eprintln!("[{n} villages] building the province in {url} …");
    let t = Instant::now();
    let world = baiqian_demo::province_of(n, args.townships_per_county)?;
    let cli = baiqian_store::Actor::cli();
    db.bulk_insert_orgs(&cli, &world, NOW).await?;
    // Earlier years first, each published (the history chart and the public pages read them).
    for y in (YEAR - args.earlier_years)..YEAR {
        let city = baiqian_demo::ratings::province_round(&db, &world, y, 7 + y as u64, NOW).await?;
        db.publish_round(&city, y, NOW).await?;
    }
    let city = baiqian_demo::ratings::province_round(&db, &world, YEAR, 7, NOW).await?;
    db.analyze().await?;
    let built = t.elapsed();
    let top = db
        .org(
            &baiqian_domain::scope::Scope::everything(),
            &world[0].org.code,
        )
        .await?;
    let round = db
        .round_for(&top, YEAR)
        .await?
        .ok_or("the round is missing")?;

    // 1. The application's re-rating.
    let mut app_times = Vec::new();
    let mut moved = 0;
    for i in 0..args.runs {
        let t5 = if i % 2 == 0 { 95 } else { 90 };
        let th = Thresholds::new([0, 60, 70, 80, t5], 2).map_err(|m| m.key)?;
        let t = Instant::now();
        let moves = db
            .set_rules(&city, YEAR, th, LaggingRule::default(), NOW)
            .await?;
        app_times.push(t.elapsed());
        moved = moved.max(moves.stars_up + moves.stars_down);
    }

    // 2. The same as one statement (thresholds set beforehand, outside the timing).
    let mut sql_times = Vec::new();
    let mut sql_rows = 0;
    for i in 0..args.runs {
        let t5 = if i % 2 == 0 { 95 } else { 90 };
        baiqian_store::raw_execute(
            &db,
            &format!("UPDATE rating_rounds SET t5 = {t5} WHERE id = {}", round.id),
        )
        .await?;
        let t = Instant::now();
        let rows = baiqian_store::rating::rerate_set_based(&db, round.id).await?;
        sql_times.push(t.elapsed());
        sql_rows = sql_rows.max(rows);
    }

    // 3. Boards, homes and chart data through the router, as the user each is for.
    let (router, token) = admin_router(&db, "330000", NOW).await?;
    let county = world[1].org.code.as_str().to_string();
    let of_level = |l: baiqian_domain::org::Level| {
        world
            .iter()
            .find(|b| b.org.level == l)
            .map(|b| b.org.code.as_str().to_string())
            .ok_or("the province has no such level")
    };
    let township = of_level(baiqian_domain::org::Level::Township)?;
    let village = of_level(baiqian_domain::org::Level::Village)?;
    use baiqian_domain::role::Role;
    let township_token =
        baiqian_bench::token_for(&db, "bench.township", Role::TownshipAdmin, &township, NOW)
            .await?;
    let village_token =
        baiqian_bench::token_for(&db, "bench.village", Role::VillageSecretary, &village, NOW)
            .await?;
    let mut report = Vec::new();
    let board = |code: &str| format!("/orgs/{code}/ratings/{YEAR}");
    let chart = |name: &str| format!("/orgs/330000/ratings/{YEAR}/chart/{name}");
    for (what, path, who) in [
        ("city board page", board("330000"), &token),
        ("county board page", board(&county), &token),
        ("township board page", board(&township), &township_token),
        ("village rating page", board(&village), &village_token),
        (
            "city ratings API",
            format!("/api/v1/orgs/330000/ratings/{YEAR}"),
            &token,
        ),
        ("chart: stars by county", chart("children"), &token),
        ("chart: stars", chart("stars"), &token),
        ("chart: classes", chart("classes"), &token),
        ("chart: stages", chart("stages"), &token),
        ("chart: five-year history", chart("history"), &token),
        (
            "city screen (数据大屏)",
            "/orgs/330000/screen".into(),
            &token,
        ),
        ("city admin's home", "/".into(), &token),
        ("township admin's home", "/".into(), &township_token),
        ("village secretary's home", "/".into(), &village_token),
        ("city admin's tasks API", "/api/v1/me/tasks".into(), &token),
        (
            "township admin's tasks API",
            "/api/v1/me/tasks".into(),
            &township_token,
        ),
        ("public home", "/public".into(), &token),
        (
            "public page of the province",
            "/public/orgs/330000".into(),
            &token,
        ),
        (
            "drill-down list: the province's 5★ villages",
            format!("/orgs/330000/ratings/{YEAR}/villages?stars=5"),
            &token,
        ),
    ] {
        let took = time_get(&router, who, &path, args.runs.max(5)).await?;
        report.push((what, took));
    }

    // 4. The campaign's targets, from the earliest generated round to this one.
    let campaign = campaign::measure(
        &db,
        &city,
        &top,
        &router,
        (&token, &township_token),
        (&county, &township),
        (YEAR - args.earlier_years, YEAR),
        args.runs,
        NOW,
    )
    .await?;

    let (page, statics, files) =
        baiqian_bench::first_load_bytes(&router, &token, &board("330000")).await?;
    let app = median(app_times);
    let sql = median(sql_times);
    println!(
        "{backend} · {n} villages (built in {:.1} s)",
        built.as_secs_f64(),
        backend = db.backend().as_str()
    );
    println!(
        "  re-rating, application: median {:.1} ms over {} runs (up to {moved} villages moved)",
        ms(app),
        args.runs
    );
    println!(
        "  re-rating, one SQL statement: median {:.1} ms (up to {sql_rows} rows changed)",
        ms(sql)
    );
    println!(
        "  application / SQL: {:.2}",
        app.as_secs_f64() / sql.as_secs_f64()
    );
    for (what, d) in report {
        println!("  {what}: median {:.1} ms", ms(d));
    }
    for (what, d) in campaign {
        println!("  campaign: {what}: median {:.1} ms", ms(d));
    }
    println!(
        "  city board, first load with an empty cache: {:.1} KB ({:.1} KB page + {:.1} KB in {files} static files, compressed as sent)",
        (page + statics) as f64 / 1024.0,
        page as f64 / 1024.0,
        statics as f64 / 1024.0
    );
    db.close().await;
    Ok(())
}
