//! The campaign's part of `baiqian-rating-bench` (issue 13): on the generated province, a
//! campaign whose first year is the earliest generated round, with the article's targets for
//! the measured year; then the standing of every level against them and the advancement of every
//! township in one pass (the store call the targets pages make), and the targets pages, the
//! advancement page and the API through the router, each as the user it is for.

use std::time::{Duration, Instant};

use baiqian_domain::plan::{AdvancementRule, TargetMeasure};
use baiqian_store::kernel::Node;
use baiqian_store::plan::{NewCampaign, Target};
use baiqian_store::{Actor, Db};

use baiqian_bench::{BoxError, median, time_get};

/// Opens the campaign and returns the timings: (what, median).
#[allow(clippy::too_many_arguments)]
pub async fn measure(
    db: &Db,
    city: &Actor,
    top: &Node,
    router: &axum::Router,
    tokens: (&str, &str),
    (county, township): (&str, &str),
    (first_year, year): (i64, i64),
    runs: usize,
    now: i64,
) -> Result<Vec<(String, Duration)>, BoxError> {
    let campaign = db
        .create_campaign(
            city,
            NewCampaign {
                name: "基准测试行动".into(),
                first_year,
                last_year: year + 2,
                rule: AdvancementRule::default(),
            },
            now,
        )
        .await?;
    for (measure, goal) in [
        (TargetMeasure::PioneerVillages, 80),
        (TargetMeasure::VillagesAdvanced, 70),
        (TargetMeasure::VillagesAtFourStars, 60),
        (TargetMeasure::TownshipsAdvanced, 60),
        (TargetMeasure::ModelTownships, 10),
    ] {
        let target = Target {
            year,
            measure,
            goal,
            due: format!("{year}-12-31"),
        };
        db.set_target(city, &campaign, &target, now).await?;
    }
    let campaign = db.campaign_for(top).await?.ok_or("no campaign")?;
    let counties: Vec<Node> = db
        .org_children(&city.scope, &top.code, false)
        .await?
        .into_iter()
        .filter(|c| c.level == baiqian_domain::org::Level::County)
        .collect();
    // A change anywhere (here: a target set again, audited) makes the next read count afresh;
    // the reads after it, with nothing changed, are remembered (`store::plan::standing`).
    let touch = Target {
        year,
        measure: TargetMeasure::PioneerVillages,
        goal: 80,
        due: format!("{year}-12-31"),
    };
    let (mut counted, mut remembered) = (Vec::new(), Vec::new());
    let mut advanced = 0;
    for _ in 0..runs {
        db.set_target(city, &campaign, &touch, now).await?;
        let t = Instant::now();
        let s = db.node_standing(&campaign, top, &counties, year).await?;
        counted.push(t.elapsed());
        advanced = s.node.townships_advanced;
        let t = Instant::now();
        db.node_standing(&campaign, top, &counties, year).await?;
        remembered.push(t.elapsed());
    }
    let mut out = vec![
        (
            format!(
                "every target at every level and every township's advancement, counted after a change ({} counties, {advanced} townships advanced)",
                counties.len()
            ),
            median(counted),
        ),
        (
            "the same, read again with nothing changed (remembered)".to_string(),
            median(remembered),
        ),
    ];
    let (city_token, township_token) = tokens;
    let mut first = Vec::new();
    for _ in 0..runs {
        db.set_target(city, &campaign, &touch, now).await?;
        first.push(
            time_get(
                router,
                city_token,
                &format!("/orgs/{}/targets/{year}", top.code),
                1,
            )
            .await?,
        );
    }
    out.push((
        "targets page of the province, first read after a change".to_string(),
        median(first),
    ));
    for (what, path, who) in [
        (
            "targets page of the province, read again",
            format!("/orgs/{}/targets/{year}", top.code),
            city_token,
        ),
        (
            "targets page of a county",
            format!("/orgs/{county}/targets/{year}"),
            city_token,
        ),
        (
            "targets page of a township",
            format!("/orgs/{township}/targets/{year}"),
            township_token,
        ),
        (
            "targets API of the province",
            format!("/api/v1/orgs/{}/targets/{year}", top.code),
            city_token,
        ),
        (
            "chart: pioneer villages by county",
            format!("/orgs/{}/targets/{year}/chart/pioneer_villages", top.code),
            city_token,
        ),
        (
            "advancement page of the province (every township)",
            format!("/orgs/{}/advancement/{year}", top.code),
            city_token,
        ),
        (
            "advancement page of a county",
            format!("/orgs/{county}/advancement/{year}"),
            city_token,
        ),
        (
            "list behind a figure: the province's advanced villages",
            format!("/orgs/{}/targets/{year}/villages_advanced", top.code),
            city_token,
        ),
    ] {
        let took = time_get(router, who, &path, runs.max(5)).await?;
        out.push((what.to_string(), took));
    }
    Ok(out)
}
