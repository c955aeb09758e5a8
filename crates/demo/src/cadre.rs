//! The demo's cadres, after the article: in 2015 (去年) 32 unfit village secretaries were
//! adjusted (不胜任调整), 233 cadres of city and county bodies were sent as first secretaries (第一书记),
//! 60 of them stationed in the weak and lagging villages (驻点帮扶); 向阳村's 杨祥春 was called
//! back from the 湖州锐狮标准件有限公司 he had built over twenty years, early in 2012.
//!
//! Invented: which villages (the weakest by their published 2015 rating), every date but
//! 杨祥春's year, the predecessors' names, the reasons, the sending bodies, the split of 233
//! between city (53) and county (180) bodies, and where each secretary came from.

use baiqian_domain::cadre::{SecretaryOrigin, SentFrom, TermEnd};
use baiqian_domain::org::{Level, OrgCode};
use baiqian_domain::rating::VillageClass;
use baiqian_domain::role::Role;
use baiqian_domain::scope::Scope;
use baiqian_store::cadre::{BulkFirstSecretary, BulkSecretary};
use baiqian_store::org::BulkOrg;
use baiqian_store::vault::Vault;
use baiqian_store::{Db, StoreError};

use crate::Rng;
use crate::activity::{GIVEN, SURNAMES};

/// The article's figures.
pub const ADJUSTED: usize = 32;
pub const FIRST_SECRETARIES: usize = 233;
pub const STATIONED: usize = 60;
/// Of the 233, those sent by the city's bodies (invented split).
const FROM_CITY: usize = 53;

/// 向阳村 (invented code): the first village of 双林镇.
pub const XIANGYANG_SECRETARY: &str = "杨祥春";

const REASONS: &[&str] = &[
    "年度考核不称职，班子凝聚力弱",
    "村级集体经济连续下滑，工作不在状态",
    "群众满意度测评不合格",
    "村务公开不规范，群众意见大",
];

const CITY_BODIES: &[&str] = &[
    "市委组织部",
    "市发改委",
    "市财政局",
    "市农业局",
    "市水利局",
    "市交通运输局",
    "市住建局",
    "市民政局",
];

const COUNTY_BODIES: &[&str] = &["委组织部", "农业局", "财政局", "民政局", "人社局", "国土局"];

fn parse(code: &str) -> Result<OrgCode, StoreError> {
    OrgCode::parse(code).map_err(|e| StoreError::Invalid(e.msg()))
}

fn date(rng: &mut Rng, from_year: i64, to_year: i64) -> String {
    format!(
        "{}-{:02}-{:02}",
        rng.range(from_year, to_year),
        rng.range(1, 12),
        rng.range(1, 28)
    )
}

pub async fn build(
    db: &Db,
    vault: &Vault,
    world: &[BulkOrg],
    seed: u64,
    now: i64,
) -> Result<(), StoreError> {
    let mut rng = Rng(seed ^ 0x4341_4452);
    let city = db.org(&Scope::everything(), &parse("330500")?).await?;
    let campaign = db.campaign_for(&city).await?.ok_or(StoreError::NotFound)?;
    // The weakest first: lagging, then by 2015 stars, then by code (deterministic).
    let mut weak = db.village_standings(&campaign, &city, 2015).await?;
    weak.sort_by_key(|v| {
        (
            v.class != Some(VillageClass::Lagging),
            v.stars.unwrap_or(0),
            v.code.clone(),
        )
    });
    let rank: std::collections::HashMap<&str, usize> = weak
        .iter()
        .enumerate()
        .map(|(i, v)| (v.code.as_str(), i))
        .collect();
    let county_of: std::collections::HashMap<&str, &str> = world
        .iter()
        .filter(|b| b.org.level == Level::County)
        .map(|b| (b.org.code.as_str(), b.org.name.as_str()))
        .collect();
    let person = |rng: &mut Rng| {
        format!(
            "{}{}",
            SURNAMES[rng.below(SURNAMES.len())],
            GIVEN[rng.below(GIVEN.len())]
        )
    };
    let mut secretaries = Vec::new();
    let mut firsts = Vec::new();
    let mut adjusted = 0;
    for b in world.iter().filter(|b| b.org.level == Level::Village) {
        let Some(name) = b.org.secretary_name.clone() else {
            continue;
        };
        let r = rank.get(b.org.code.as_str()).copied().unwrap_or(usize::MAX);
        if name == XIANGYANG_SECRETARY {
            secretaries.push(BulkSecretary {
                org_code: b.org.code.clone(),
                name,
                phone: None,
                origin: SecretaryOrigin::Returned,
                origin_note:
                    "在自己创办的湖州锐狮标准件有限公司耕耘 20 多年，2012 年初被镇党委选调回村"
                        .into(),
                since: "2012-02-01".into(),
                until: None,
                end: None,
                successor: None,
            });
        } else if adjusted < ADJUSTED && r < ADJUSTED + 8 {
            adjusted += 1;
            let on = date(&mut rng, 2015, 2015);
            secretaries.push(BulkSecretary {
                org_code: b.org.code.clone(),
                name: person(&mut rng),
                phone: None,
                origin: SecretaryOrigin::Local,
                origin_note: String::new(),
                since: date(&mut rng, 2008, 2013),
                until: Some(on.clone()),
                end: Some((
                    TermEnd::Adjusted,
                    REASONS[rng.below(REASONS.len())].to_string(),
                )),
                successor: Some(secretaries.len() + 1),
            });
            let origin = [
                SecretaryOrigin::Returned,
                SecretaryOrigin::Appointed,
                SecretaryOrigin::Local,
            ][rng.below(3)];
            secretaries.push(BulkSecretary {
                org_code: b.org.code.clone(),
                name,
                phone: None,
                origin,
                origin_note: String::new(),
                since: on,
                until: None,
                end: None,
                successor: None,
            });
        } else {
            let origin = match rng.below(10) {
                0 => SecretaryOrigin::Returned,
                1 => SecretaryOrigin::Graduate,
                _ => SecretaryOrigin::Local,
            };
            secretaries.push(BulkSecretary {
                org_code: b.org.code.clone(),
                name,
                phone: None,
                origin,
                origin_note: String::new(),
                since: date(&mut rng, 2005, 2014),
                until: None,
                end: None,
                successor: None,
            });
        }
    }
    let mut from_city = 0;
    for (i, v) in weak.iter().take(FIRST_SECRETARIES).enumerate() {
        let code = parse(&v.code)?;
        let (sent_from, sent_by) = if i % 4 == 0 && from_city < FROM_CITY {
            from_city += 1;
            (
                SentFrom::City,
                CITY_BODIES[rng.below(CITY_BODIES.len())].to_string(),
            )
        } else {
            let county = county_of.get(&code.as_str()[..6]).copied().unwrap_or("县");
            (
                SentFrom::County,
                format!("{county}{}", COUNTY_BODIES[rng.below(COUNTY_BODIES.len())]),
            )
        };
        firsts.push(BulkFirstSecretary {
            org_code: code,
            name: person(&mut rng),
            phone: None,
            sent_from,
            sent_by,
            // Sent once the 2015 rating had named the weak villages (its approval was due
            // 2015-12-20).
            start_on: "2015-12-28".into(),
            term_end: "2017-12-27".into(),
            stationed: i < STATIONED,
        });
    }
    let actor = crate::ratings::actor("demo", Role::CityAdmin, "330500", "/330500/")?;
    db.bulk_load_cadres(&actor, vault, &secretaries, &firsts, now)
        .await
}
