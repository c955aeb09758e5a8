//! The campaign's part of `baiqian-rating-bench` (issue 13): on the generated province, a
//! campaign whose first year is the earliest generated round, with the article's targets for
//! the measured year; then the standing of every level against them and the advancement of every
//! township in one pass (the store call the targets pages make), and the targets pages, the
//! advancement page and the API through the router, each as the user it is for.

use std::time::{Duration, Instant};

use baiqian_domain::org::OrgCode;
use baiqian_domain::plan::{AdvancementRule, TargetMeasure};
use baiqian_domain::rating::VillageClass;
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
    // Two kinds of change (`store::plan::standing`): a village's class decided reaches its
    // township only, which is counted again; a change of the tree's shape above the villages (a
    // township moved to another county) reaches everything, which is counted again. Reads with nothing
    // changed are remembered.
    let mut changes = Changes::new(db, city, township, year).await?;
    let (mut local, mut everything, mut remembered) = (Vec::new(), Vec::new(), Vec::new());
    let mut advanced = 0;
    for _ in 0..runs {
        changes.class(db, city, now).await?;
        let t = Instant::now();
        db.node_standing(&campaign, top, &counties, year).await?;
        local.push(t.elapsed());
        changes.tree(db, city, now).await?;
        let t = Instant::now();
        let s = db.node_standing(&campaign, top, &counties, year).await?;
        everything.push(t.elapsed());
        advanced = s.node.townships_advanced;
        let t = Instant::now();
        db.node_standing(&campaign, top, &counties, year).await?;
        remembered.push(t.elapsed());
    }
    // The partly counted answer is the whole pass's.
    changes.class(db, city, now).await?;
    let partly = db.township_standings(&campaign, top, year).await?;
    let afresh = db.township_standings_counted(&campaign, top, year).await?;
    if serde_json::to_value(&partly)? != serde_json::to_value(&afresh)? {
        return Err("the township recounted after a change differs from a whole pass".into());
    }
    let mut out = vec![
        (
            format!(
                "every target at every level and every township's advancement, counted after a township moved to another county ({} counties, {advanced} townships advanced)",
                counties.len()
            ),
            median(everything),
        ),
        (
            "the same after a village's class is decided (its township counted again)".to_string(),
            median(local),
        ),
        (
            "the same, read again with nothing changed (remembered)".to_string(),
            median(remembered),
        ),
    ];
    let (city_token, township_token) = tokens;
    let page = format!("/orgs/{}/targets/{year}", top.code);
    let (mut first_local, mut first_everything) = (Vec::new(), Vec::new());
    for _ in 0..runs {
        changes.class(db, city, now).await?;
        first_local.push(time_get(router, city_token, &page, 1).await?);
        changes.tree(db, city, now).await?;
        first_everything.push(time_get(router, city_token, &page, 1).await?);
    }
    out.push((
        "targets page of the province, first read after a village's class is decided".to_string(),
        median(first_local),
    ));
    out.push((
        "targets page of the province, first read after a township moved to another county"
            .to_string(),
        median(first_everything),
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
            "list behind a figure: the province's advanced villages (first page of 100, and the total)",
            format!("/orgs/{}/targets/{year}/villages_advanced", top.code),
            city_token,
        ),
    ] {
        let took = time_get(router, who, &path, runs.max(5)).await?;
        out.push((what.to_string(), took));
    }
    Ok(out)
}

/// The changes the bench makes between reads, each audited as a user's would be: a village's
/// class decided and undone in turn, and its township moved to the next county and back.
struct Changes {
    assessment: i64,
    turn: bool,
    /// The township, its county, the county after it, and where the township is now.
    township: OrgCode,
    home: OrgCode,
    next: OrgCode,
    moved_out: bool,
}

impl Changes {
    async fn new(db: &Db, city: &Actor, township: &str, year: i64) -> Result<Self, BoxError> {
        let code = OrgCode::parse(township).map_err(|e| e.msg().key)?;
        let here = db.org(&city.scope, &code).await?;
        let county = OrgCode::parse(
            here.parent_code
                .as_deref()
                .ok_or("the township has no county")?,
        )
        .map_err(|e| e.msg().key)?;
        let root = city
            .scope
            .root
            .clone()
            .ok_or("the city admin has no node")?;
        let next = db
            .org_children(&city.scope, &root, false)
            .await?
            .into_iter()
            .find(|c| c.code != county && c.level == baiqian_domain::org::Level::County)
            .ok_or("the province has one county")?
            .code
            .clone();
        let village = db
            .org_children(&city.scope, &code, false)
            .await?
            .into_iter()
            .next()
            .ok_or("the township has no village")?;
        let (assessment, _, _) = db
            .assessment_of(&city.scope, &village, year)
            .await?
            .ok_or("the village has no assessment of the year")?;
        Ok(Self {
            assessment: assessment.id,
            turn: false,
            township: code,
            home: county,
            next,
            moved_out: false,
        })
    }

    async fn class(&mut self, db: &Db, city: &Actor, now: i64) -> Result<(), BoxError> {
        self.turn = !self.turn;
        let class = self.turn.then_some(VillageClass::Pioneer);
        db.decide_class(
            city,
            self.assessment,
            class,
            "基准测试：认定先锋示范村",
            now,
        )
        .await?;
        Ok(())
    }

    /// The township moved to the next county and back in turn, with a reason: the tree's shape
    /// above the villages, which reaches everything.
    async fn tree(&mut self, db: &Db, city: &Actor, now: i64) -> Result<(), BoxError> {
        let to = if self.moved_out {
            &self.home
        } else {
            &self.next
        };
        db.move_org(city, &self.township, to, "基准测试：区划调整", now)
            .await?;
        self.moved_out = !self.moved_out;
        Ok(())
    }
}
