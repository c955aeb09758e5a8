//! The demo's problem ledger and leaders' visits, as the article tells them: 和孚镇 (taken for
//! the surveyed 南浔 town) surveyed door to door from September, its 22 villages guided by 17
//! town leaders (1–2 villages each), 108 problems found and driven through every state (some
//! overdue on the day the demo is built); the city secretary's six months of visits (all 68
//! townships, 127 villages) and his contact township 和孚镇; the organization head's visits to
//! every village of 埭溪镇; 长兴's county secretary's pledge to visit all 248 villages, partly
//! kept. Dates count back from the day the demo is built, so "overdue" holds on that day.

use baiqian_domain::ledger::ProblemStatus;
use baiqian_domain::org::{Level, OrgCode};
use baiqian_domain::time::china_date;
use baiqian_store::ledger::{NewProblem, NewSurvey, NewVisit};
use baiqian_store::org::BulkOrg;
use baiqian_store::{Actor, Db, StoreError};

use crate::Rng;
use crate::activity::{GIVEN, SURNAMES};

/// 和孚镇 (invented code): the surveyed town.
pub const HEFU: &str = "330503107";
/// The city secretary's visits: every township, and this many villages.
pub const CITY_SECRETARY_VILLAGES: usize = 127;
/// Villages of 长兴县 its county secretary has visited since his pledge.
pub const CHANGXING_PLEDGE_VISITED: usize = 156;
/// Problems the survey of 和孚镇 found.
pub const HEFU_PROBLEMS: usize = 108;
/// Town leaders of 和孚镇 who guide its villages.
pub const HEFU_LEADERS: usize = 17;

const DAY_MS: i64 = 86_400_000;

/// The villages of 和孚镇 whose situation files (村情档案) the demo writes, 陈塔村 first; their
/// members are older than most (the roster makes over half of them older than 60).
pub const FILED_VILLAGES: [&str; 4] = [
    crate::CHENTA,
    "330503107202",
    "330503107203",
    "330503107204",
];

/// What the files say, per filed village: (population, households, income sources, land in
/// tenths of a 亩, where the land is, notes).
const FILES: [(i64, i64, &str, i64, &str, &str); 4] = [
    (
        2860,
        912,
        "村级物业出租、土地流转服务费",
        150,
        "村委会办公楼东侧，可建标准厂房出租",
        "60岁以上党员过半，后备干部不足；集体收入主要靠物业出租",
    ),
    (
        2315,
        760,
        "鱼塘承包、农贸市场摊位出租",
        85,
        "老村小学旧址",
        "外出务工党员多，组织生活难集中",
    ),
    (
        1980,
        645,
        "土地流转服务费",
        0,
        "",
        "集体经济薄弱村，收入低于10万元",
    ),
    (
        3120,
        1034,
        "厂房出租、光伏发电收益",
        150,
        "村部东侧空地15亩",
        "",
    ),
];

/// Titles of the town's 17 leaders (镇班子成员).
const TOWN_TITLES: [&str; HEFU_LEADERS] = [
    "镇党委书记",
    "镇党委副书记、镇长",
    "镇党委副书记",
    "镇人大主席",
    "镇党委委员、组织委员",
    "镇党委委员、宣传委员",
    "镇纪委书记",
    "镇党委委员、副镇长",
    "镇党委委员、政法委员",
    "镇党委委员、武装部长",
    "镇人大副主席",
    "副镇长",
    "副镇长",
    "镇党委委员、统战委员",
    "镇党委委员",
    "副镇长",
    "镇党委委员",
];

/// Problems as officials write them: (group, description, measures, months to fix).
const PROBLEMS: [(&str, &str, &str, i64); 10] = [
    (
        "党员队伍",
        "党员老龄化严重，60岁以上党员占比超过一半",
        "三年内发展35岁以下党员不少于3名，从返乡青年中培养入党积极分子",
        6,
    ),
    (
        "集体经济",
        "村级集体经济薄弱，经常性收入不足20万元",
        "利用村办公楼东面15亩闲置地块，争取土地指标建标准厂房出租",
        12,
    ),
    (
        "阵地建设",
        "党员活动室面积不足，功能不全",
        "改造村办公楼二楼，建成规范化党员活动室",
        4,
    ),
    (
        "制度落实",
        "“三会一课”记录不规范，缺少会议议题",
        "建立会议记录台账，镇党委每季度检查一次",
        2,
    ),
    (
        "组织建设",
        "村级后备干部不足，缺少年轻人",
        "从返乡大学生、致富能人中物色后备干部2名",
        6,
    ),
    (
        "制度落实",
        "党务村务公开不及时",
        "每月5日前更新公开栏，重大事项随时公开",
        1,
    ),
    (
        "党员队伍",
        "流动党员管理不到位，部分联系不上",
        "建立流动党员联系群，每月联系一次，年底回村过组织生活",
        3,
    ),
    (
        "服务群众",
        "为民服务代办点未常态开放",
        "明确专人值班，公布值班电话和代办事项",
        2,
    ),
    (
        "制度落实",
        "主题党日活动形式单一，参加率不高",
        "结合志愿服务开展主题党日，参加率达到90%",
        3,
    ),
    (
        "组织建设",
        "村规民约修订滞后，村民知晓率低",
        "召开村民代表大会修订村规民约，入户宣传",
        4,
    ),
];

/// What the ledger demo wrote.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct LedgerBuilt {
    pub problems: usize,
    pub visits: usize,
    pub leaders: usize,
    pub pledges: usize,
    pub files: usize,
}

fn day(now: i64, days_back: i64) -> String {
    china_date(now - days_back * DAY_MS)
}

fn code(s: &str) -> Result<OrgCode, StoreError> {
    OrgCode::parse(s).map_err(|e| StoreError::Invalid(e.msg()))
}

/// The villages (or townships) under `under`, in the world's order.
fn places<'w>(world: &'w [BulkOrg], level: Level, under: &str) -> Vec<&'w BulkOrg> {
    world
        .iter()
        .filter(|b| b.org.level == level && b.path.contains(&format!("/{under}/")))
        .collect()
}

/// `n` distinct picks from `items`, in a deterministic shuffled order.
fn pick<'a, T>(rng: &mut Rng, items: &'a [T], n: usize) -> Vec<&'a T> {
    let mut idx: Vec<usize> = (0..items.len()).collect();
    for i in (1..idx.len()).rev() {
        idx.swap(i, rng.below(i + 1));
    }
    idx.into_iter().take(n).map(|i| &items[i]).collect()
}

/// Writes the ledger demo into a database that holds the world and the demo accounts.
pub async fn build(
    db: &Db,
    world: &[BulkOrg],
    seed: u64,
    now: i64,
) -> Result<LedgerBuilt, StoreError> {
    let actor = Actor::cli();
    let mut rng = Rng(seed ^ 0x1ed9e5);
    let mut built = LedgerBuilt::default();
    let city = code("330500")?;
    let changxing = code("330522")?;
    let hefu = code(HEFU)?;
    let daixi = world
        .iter()
        .find(|b| b.org.name == "埭溪镇")
        .map(|b| b.org.code.clone())
        .ok_or_else(|| StoreError::Corrupt("demo world without 埭溪镇".into()))?;

    // The city's leaders and the county secretary.
    let qiu = db
        .create_leader(&actor, &city, "裘东耀", "市委书记", "city.leader", now)
        .await?;
    let gan = db
        .create_leader(&actor, &city, "干武东", "市委常委、组织部长", "", now)
        .await?;
    let cx = db
        .create_leader(
            &actor,
            &changxing,
            "长兴县委书记",
            "县委书记",
            "changxing.leader",
            now,
        )
        .await?;
    built.leaders += 3;
    let arrived = 335; // days back: April of the year before the test clock's March
    db.assign_leader_area(&actor, qiu, &hefu, &day(now, arrived), now)
        .await?;
    db.assign_leader_area(&actor, gan, &daixi, &day(now, arrived), now)
        .await?;

    // 和孚镇: 17 town leaders guiding its 22 villages, 1–2 each (the first five take two).
    let villages = places(world, Level::Village, HEFU);
    let mut town_leaders = Vec::with_capacity(HEFU_LEADERS);
    let mut names: Vec<String> = Vec::with_capacity(HEFU_LEADERS);
    for (i, title) in TOWN_TITLES.iter().enumerate() {
        let name = loop {
            let n = format!(
                "{}{}",
                SURNAMES[rng.below(SURNAMES.len())],
                GIVEN[rng.below(GIVEN.len())]
            );
            if !names.contains(&n) {
                break n;
            }
        };
        names.push(name.clone());
        let login = if i == 0 { "hefu.leader" } else { "" };
        let id = db
            .create_leader(&actor, &hefu, &name, title, login, now)
            .await?;
        town_leaders.push(id);
    }
    built.leaders += HEFU_LEADERS;
    let surveyed = 180;
    let mut guides = Vec::with_capacity(villages.len());
    for (v, village) in villages.iter().enumerate() {
        let leader = if v < 10 { v / 2 } else { v - 5 };
        let leader_id = town_leaders[leader.min(HEFU_LEADERS - 1)];
        db.assign_leader_area(
            &actor,
            leader_id,
            &village.org.code,
            &day(now, surveyed),
            now,
        )
        .await?;
        guides.push((
            village.org.code.as_str().to_string(),
            Some(leader_id),
            Some(day(now, surveyed - 20 - v as i64)),
        ));
    }
    let survey = db
        .create_survey(
            &actor,
            &NewSurvey {
                township: HEFU.into(),
                title: "全镇22个村地毯式排摸".into(),
                basis: "省农村基层党建工作经验做法20条、市“百村示范、千村晋位”工作基本要求、区行政村党组织33条标准".into(),
                started_on: day(now, surveyed),
                villages: guides,
            },
            now,
        )
        .await?;

    // 108 problems: five in each village, four in the last two.
    let mut rows = Vec::with_capacity(HEFU_PROBLEMS);
    let mut k = 0usize;
    for (v, village) in villages.iter().enumerate() {
        let n = if v >= villages.len().saturating_sub(2) {
            4
        } else {
            5
        };
        for j in 0..n {
            if k == HEFU_PROBLEMS {
                break;
            }
            let (group, description, measures, months) = PROBLEMS[(v * 3 + j) % PROBLEMS.len()];
            // A permutation within each dozen, so every village gets a mix.
            let status = match (k * 7) % 12 {
                0..=4 => ProblemStatus::Verified,
                5 | 6 => ProblemStatus::Rectified,
                7..=9 => ProblemStatus::InProgress,
                10 => ProblemStatus::Open,
                _ => ProblemStatus::Reopened,
            };
            let found_back = surveyed - 20 - v as i64;
            // Resolved ones had their time; of the rest every third is past its deadline today.
            let deadline = if !status.is_unresolved() {
                day(now, found_back - months * 30)
            } else if k.is_multiple_of(3) {
                day(now, 3 + (k as i64 % 40))
            } else {
                day(now, -(15 + (k as i64 % 90)))
            };
            let owner = village
                .org
                .secretary_name
                .clone()
                .unwrap_or_else(|| "村党组织书记".into());
            rows.push((
                NewProblem {
                    village: village.org.code.as_str().into(),
                    source: "survey".into(),
                    survey_id: Some(survey),
                    visit_id: None,
                    item_code: String::new(),
                    item_group: group.into(),
                    description: description.into(),
                    owner_name: owner,
                    owner_login: if village.org.name == "陈塔村" {
                        "chenta.secretary".into()
                    } else {
                        String::new()
                    },
                    measures: measures.into(),
                    deadline,
                    found_on: day(now, found_back),
                },
                status,
            ));
            k += 1;
        }
    }
    built.problems = db.import_problems(&actor, &rows, now).await?.len();

    // The city secretary: in six months every township and 127 villages, then his contact
    // township at New Year (整镇调研) and after the Spring Festival (座谈).
    let mut visits = Vec::new();
    let townships = places(world, Level::Township, "330500");
    for (i, t) in townships.iter().enumerate() {
        visits.push(NewVisit {
            leader_id: qiu,
            visited_on: day(now, arrived - (i as i64 * 180 / townships.len() as i64)),
            place: t.org.code.as_str().into(),
            kind: "research".into(),
            findings: "调研基层党建工作，逢乡必讲".into(),
        });
    }
    let all_villages = places(world, Level::Village, "330500");
    for (i, v) in pick(&mut rng, &all_villages, CITY_SECRETARY_VILLAGES)
        .into_iter()
        .enumerate()
    {
        visits.push(NewVisit {
            leader_id: qiu,
            visited_on: day(
                now,
                arrived - (i as i64 * 180 / CITY_SECRETARY_VILLAGES as i64),
            ),
            place: v.org.code.as_str().into(),
            kind: "research".into(),
            findings: "进村必问基层党建".into(),
        });
    }
    visits.push(NewVisit {
        leader_id: qiu,
        visited_on: day(now, 60),
        place: HEFU.into(),
        kind: "township_research".into(),
        findings: "到联系指导乡镇开展整镇调研".into(),
    });
    visits.push(NewVisit {
        leader_id: qiu,
        visited_on: day(now, 25),
        place: HEFU.into(),
        kind: "forum".into(),
        findings: "召开基层党建调研座谈会，听意见、找短板、指方向、督落实".into(),
    });
    // The organization head: the whole of 埭溪镇, every one of its 20 villages.
    visits.push(NewVisit {
        leader_id: gan,
        visited_on: day(now, 200),
        place: daixi.as_str().into(),
        kind: "township_research".into(),
        findings: "深入开展整乡调研，参观苗木基地".into(),
    });
    for (i, v) in places(world, Level::Village, daixi.as_str())
        .iter()
        .enumerate()
    {
        visits.push(NewVisit {
            leader_id: gan,
            visited_on: day(now, 200 - 3 * i as i64),
            place: v.org.code.as_str().into(),
            kind: "research".into(),
            findings: "走访调研村级组织建设".into(),
        });
    }
    // 长兴: the pledge to visit all 248 villages, kept for 156 of them so far.
    let pledged = 300;
    let cx_villages = places(world, Level::Village, "330522");
    for (i, v) in pick(&mut rng, &cx_villages, CHANGXING_PLEDGE_VISITED)
        .into_iter()
        .enumerate()
    {
        visits.push(NewVisit {
            leader_id: cx,
            visited_on: day(
                now,
                pledged - 1 - (i as i64 * 280 / CHANGXING_PLEDGE_VISITED as i64),
            ),
            place: v.org.code.as_str().into(),
            kind: "research".into(),
            findings: "走村入户，了解村级组织运转".into(),
        });
    }
    built.visits = db.import_visits(&actor, &visits, now).await?;
    db.create_pledge(
        &actor,
        cx,
        &changxing,
        "village",
        "带头走遍全县所有248个村",
        &day(now, pledged),
        &day(now, pledged - 365),
        now,
    )
    .await?;
    db.create_pledge(
        &actor,
        qiu,
        &city,
        "township",
        "走遍全市所有68个乡镇（街道）",
        &day(now, arrived),
        &day(now, arrived - 183),
        now,
    )
    .await?;
    db.create_pledge(
        &actor,
        gan,
        &daixi,
        "village",
        "走遍联系指导的埭溪镇所有村",
        &day(now, 210),
        &day(now, 120),
        now,
    )
    .await?;
    built.pledges = 3;
    // The filed villages' situation files, last year's and this year's.
    let this_year: i64 = china_date(now)[..4]
        .parse()
        .map_err(|_| StoreError::Corrupt("demo clock's year".into()))?;
    for (village, f) in FILED_VILLAGES.iter().zip(FILES) {
        for (year, grown) in [(this_year - 1, 0), (this_year, 12)] {
            let form = baiqian_store::ledger::FileForm {
                population: (f.0 + grown).to_string(),
                households: (f.1 + grown / 4).to_string(),
                income_sources: f.2.into(),
                land_mu: if f.3 > 0 {
                    baiqian_store::ledger::tenths(f.3)
                } else {
                    String::new()
                },
                land: f.4.into(),
                notes: f.5.into(),
            };
            db.save_village_file(&actor, village, year, &form, now)
                .await?;
            built.files += 1;
        }
    }
    // The daily mark, as a server does when it starts: what is past its deadline is overdue.
    db.mark_overdue_problems(&actor, &china_date(now), now)
        .await?;
    Ok(built)
}
