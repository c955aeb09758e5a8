//! The demo's standards and rating rounds: the municipal basic requirements (used by the city's
//! rounds), 南浔区's 33 items (its villages use them in 2016), a published 2015 round and a 2016
//! round in progress, and the pioneer criteria's data, tuned so the article's figures are
//! reachable: about 100 pioneer candidates and about 80 pioneers once 2016 is done.

use baiqian_domain::org::OrgCode;
use baiqian_domain::rating::Stage;
use baiqian_domain::role::Role;
use baiqian_domain::scope::Scope;
use baiqian_store::import::ImportMode;
use baiqian_store::org::BulkOrg;
use baiqian_store::rating::standard::NewItem;
use baiqian_store::rating::{BulkScore, FactsRow, NewRound};
use baiqian_store::{Actor, Db, StoreError};

use crate::{LONGSHAN, Rng, XINMIN};

/// (group, code, text, full score, evidence, veto). Veto items carry no points: they pass or fail.
type ItemDef = (
    &'static str,
    &'static str,
    &'static str,
    i64,
    &'static str,
    bool,
);

/// 湖州市“百村示范、千村晋位”工作基本要求 (the demo's wording of its items).
pub const MUNICIPAL_ITEMS: &[ItemDef] = &[
    (
        "组织建设",
        "A1",
        "村党组织班子健全，书记、委员按期选举",
        6,
        "换届选举资料",
        false,
    ),
    (
        "组织建设",
        "A2",
        "党组织设置规范，党小组划分合理",
        4,
        "党小组名册",
        false,
    ),
    (
        "组织建设",
        "A3",
        "按程序发展党员，吸收返乡大学生、退伍军人、优秀企业主",
        5,
        "发展党员台账",
        false,
    ),
    (
        "组织建设",
        "A4",
        "流动党员纳入管理，组织关系清楚",
        5,
        "流动党员台账",
        false,
    ),
    (
        "队伍建设",
        "B1",
        "村书记履职尽责，年度述职评议合格",
        6,
        "述职评议材料",
        false,
    ),
    (
        "队伍建设",
        "B2",
        "村干部集中办公、轮流值班，便民服务中心常态运行",
        5,
        "值班记录、照片",
        false,
    ),
    (
        "队伍建设",
        "B3",
        "后备干部队伍建立，每村不少于 2 名",
        4,
        "后备干部名册",
        false,
    ),
    (
        "队伍建设",
        "B4",
        "党员参加党员固定活动日，年度参与率 80% 以上",
        5,
        "活动签到记录",
        false,
    ),
    (
        "制度落实",
        "C1",
        "“三会一课”按时召开，记录完整",
        6,
        "会议记录",
        false,
    ),
    (
        "制度落实",
        "C2",
        "“五议两公开”落实，重大事项民主决策",
        6,
        "决策记录、公开栏照片",
        false,
    ),
    (
        "制度落实",
        "C3",
        "村务、财务按季公开，接受监督",
        4,
        "公开栏照片",
        false,
    ),
    (
        "制度落实",
        "C4",
        "党员积分管理、民主评议党员开展",
        4,
        "积分台账",
        false,
    ),
    (
        "服务群众",
        "D1",
        "红管家服务驿站、党员义工队常态服务",
        6,
        "服务记录",
        false,
    ),
    (
        "服务群众",
        "D2",
        "微心愿征集认领，按时兑现",
        4,
        "心愿台账",
        false,
    ),
    (
        "服务群众",
        "D3",
        "党群创业互助会运作规范，帮扶到户",
        5,
        "互助会台账",
        false,
    ),
    (
        "服务群众",
        "D4",
        "村情档案完整，问题有责任人、整改措施、完成时限",
        5,
        "村情档案",
        false,
    ),
    (
        "集体经济",
        "E1",
        "村级集体经济年经常性收入达标并逐年增长",
        10,
        "财务报表",
        false,
    ),
    (
        "集体经济",
        "E2",
        "有稳定增收项目，资产资源管理规范",
        10,
        "项目资料",
        false,
    ),
    (
        "底线要求",
        "F1",
        "村班子成员无违纪违法被查处",
        0,
        "纪检部门意见",
        true,
    ),
    (
        "底线要求",
        "F2",
        "无重大群体性事件、重大安全生产事故",
        0,
        "综治部门意见",
        true,
    ),
];

/// The 13 items 南浔区 adds to the municipal ones (its 33 items).
const NANXUN_EXTRA: &[ItemDef] = &[
    (
        "南浔特色",
        "N01",
        "村党组织书记“领头雁”培训年度学时达标",
        2,
        "培训记录",
        false,
    ),
    (
        "南浔特色",
        "N02",
        "镇班子成员联系指导到村，每月不少于一次",
        2,
        "联系记录",
        false,
    ),
    (
        "南浔特色",
        "N03",
        "问题清单销号管理，按期整改",
        3,
        "销号台账",
        false,
    ),
    (
        "南浔特色",
        "N04",
        "党员设岗定责，亮身份、践承诺",
        2,
        "设岗名单",
        false,
    ),
    (
        "南浔特色",
        "N05",
        "村规民约修订完善并执行",
        2,
        "村规民约",
        false,
    ),
    (
        "南浔特色",
        "N06",
        "“三治融合”工作有载体",
        2,
        "工作资料",
        false,
    ),
    (
        "南浔特色",
        "N07",
        "美丽乡村长效管护机制落实",
        2,
        "管护记录",
        false,
    ),
    ("南浔特色", "N08", "文化礼堂常态开放", 2, "活动记录", false),
    (
        "南浔特色",
        "N09",
        "党员志愿服务每年不少于 4 次",
        2,
        "服务记录",
        false,
    ),
    (
        "南浔特色",
        "N10",
        "困难党员、老党员结对关怀",
        2,
        "关怀台账",
        false,
    ),
    ("南浔特色", "N11", "党建阵地标识规范", 1, "照片", false),
    ("南浔特色", "N12", "党建信息报送及时", 1, "报送记录", false),
    (
        "南浔特色",
        "N13",
        "年度党建工作创新项目一项",
        2,
        "项目材料",
        false,
    ),
];

fn items_of(defs: &[&[ItemDef]]) -> Vec<NewItem> {
    defs.iter()
        .flat_map(|d| d.iter())
        .map(|(g, c, b, f, e, v)| NewItem {
            group_name: (*g).into(),
            code: (*c).into(),
            body: (*b).into(),
            full_score: *f,
            guidance: if *v {
                "触犯即一票否决".into()
            } else {
                format!("满分 {f} 分，对照要求逐项扣分")
            },
            evidence: (*e).into(),
            veto: *v,
        })
        .collect()
}

pub(crate) fn actor(login: &str, role: Role, code: &str, path: &str) -> Result<Actor, StoreError> {
    let root = OrgCode::parse(code).map_err(|e| StoreError::Invalid(e.msg()))?;
    Ok(Actor {
        user_id: None,
        login: login.into(),
        role,
        scope: Scope::new(root, path),
    })
}

/// What the ratings part of the demo wrote.
#[derive(Debug, Clone, Default)]
pub struct RatingsBuilt {
    pub sets: usize,
    pub rounds: usize,
    pub assessments: usize,
}

/// A village and its lasting strength (0…1), from which its scores and facts are drawn.
struct VillageDraw {
    code: String,
    strength: f64,
}

/// Writes standards, facts and the 2015 and 2016 rounds for the world's villages.
pub async fn build(
    db: &Db,
    world: &[BulkOrg],
    seed: u64,
    now: i64,
) -> Result<RatingsBuilt, StoreError> {
    let started = std::time::Instant::now();
    let lap = |what: &str| {
        tracing::info!(
            elapsed_ms = started.elapsed().as_millis() as u64,
            "demo ratings: {what}"
        )
    };
    let city = actor("demo", Role::CityAdmin, "330500", "/330500/")?;
    let nanxun = actor("demo", Role::CountyAdmin, "330503", "/330500/330503/")?;
    let municipal = db
        .create_standard_set(
            &city,
            "HZ-BQ",
            "湖州市“百村示范、千村晋位”工作基本要求",
            &items_of(&[MUNICIPAL_ITEMS]),
            now,
        )
        .await?;
    let nanxun_set = db
        .create_standard_set(
            &nanxun,
            "NX-33",
            "南浔区行政村党组织33条标准",
            &items_of(&[MUNICIPAL_ITEMS, NANXUN_EXTRA]),
            now,
        )
        .await?;

    let mut rng = Rng(seed ^ 0x5354_4152);
    let villages = draws(world, &mut rng);

    // Pioneer data: stronger villages have the income, the beautiful-village title and a
    // promoted practice more often; each year's income is the year's own.
    for year in [2015, 2016] {
        let mut rows = facts_rows(&villages, year, year == 2015, &mut rng);
        // 龙山村 competes for pioneer (争创先锋示范村): its volunteer car fleet is the featured
        // practice, promoted by 吴兴区; the income and the title are the demo's.
        if let Some(row) = rows.iter_mut().find(|r| r.code == LONGSHAN) {
            row.practice = "党员爱心车队".into();
            row.practice_level = "县级".into();
            row.income = if year == 2015 { "460000" } else { "520000" }.into();
            if year == 2015 {
                row.beautiful_level = "市级".into();
                row.beautiful_year = "2015".into();
            }
        }
        import_facts(db, &city, year, &rows, now).await?;
    }
    lap("standards and facts");
    // 2015: every village rated and published.
    let r2015 = db
        .open_round(
            &city,
            NewRound {
                year: 2015,
                set_id: municipal.id,
                self_due: "2015-10-31".into(),
                review_due: "2015-11-30".into(),
                approve_due: "2015-12-20".into(),
            },
            now,
        )
        .await?;
    let (_, items) = db.standard_set(&city.scope, municipal.id).await?;
    let mut scores = Vec::new();
    for v in &villages {
        let pct = 56.0 + 40.0 * v.strength;
        scores.push(BulkScore {
            org_code: v.code.clone(),
            stage: Stage::Approved,
            items: score_items(&mut rng, &items, pct, 2),
        });
    }
    db.bulk_score_round(&city, r2015.id, &scores, now).await?;
    db.publish_round(&city, 2015, now).await?;

    lap("2015 round");
    // 2016: 南浔区 uses its 33 items; the round is under way.
    let r2016 = db
        .open_round(
            &city,
            NewRound {
                year: 2016,
                set_id: municipal.id,
                self_due: "2016-10-31".into(),
                review_due: "2016-11-30".into(),
                approve_due: "2016-12-20".into(),
            },
            now,
        )
        .await?;
    db.assign_standard_set(&nanxun, 2016, nanxun_set.id, now)
        .await?;
    let (_, nx_items) = db.standard_set(&nanxun.scope, nanxun_set.id).await?;
    let mut scores = Vec::new();
    for v in &villages {
        // The article's own villages are left for their secretaries to fill in.
        if v.code == XINMIN || v.code == LONGSHAN {
            continue;
        }
        let stage = match rng.below(100) {
            0..=34 => Stage::Approved,
            35..=59 => Stage::Reviewed,
            60..=79 => Stage::Submitted,
            80..=94 => Stage::Draft,
            _ => continue,
        };
        let pct = 52.0 + 45.0 * v.strength + rng.range(0, 6) as f64;
        let set_items = if v.code.starts_with("330503") {
            &nx_items
        } else {
            &items
        };
        let mut s = score_items(&mut rng, set_items, pct, 1);
        if stage == Stage::Draft {
            // A draft is part-filled.
            s.truncate(set_items.len() / 2);
        }
        scores.push(BulkScore {
            org_code: v.code.clone(),
            stage,
            items: s,
        });
    }
    db.bulk_score_round(&city, r2016.id, &scores, now).await?;
    lap("2016 round");
    Ok(RatingsBuilt {
        sets: 2,
        rounds: 2,
        assessments: villages.len() * 2,
    })
}

/// A short invented name for a practice, from the village's code.
fn short_name(code: &str, year: i64) -> String {
    let n = code.len();
    format!("{}年{}号", year, &code[n.saturating_sub(3)..])
}

/// Item scores around `pct` % of each item's full score; `veto_percent` % of villages fail a
/// veto item.
fn score_items(
    rng: &mut Rng,
    items: &[baiqian_store::rating::standard::StandardItem],
    pct: f64,
    veto_percent: usize,
) -> Vec<(i64, i64, bool)> {
    let fail_veto = rng.below(100) < veto_percent;
    let mut failed = false;
    items
        .iter()
        .map(|it| {
            if it.veto {
                let v = fail_veto && !failed;
                failed |= v;
                (it.id, 0, v)
            } else {
                let noise = (rng.range(-12, 12) as f64) / 100.0;
                let s = (it.full_score as f64 * (pct / 100.0 + noise)).round() as i64;
                (it.id, s.clamp(0, it.full_score), false)
            }
        })
        .collect()
}

/// Facts of a year; `titles`: whether beautiful-village titles are written too (once suffices:
/// a title keeps).
fn facts_rows(villages: &[VillageDraw], year: i64, titles: bool, rng: &mut Rng) -> Vec<FactsRow> {
    let mut rows = Vec::with_capacity(villages.len());
    for (i, v) in villages.iter().enumerate() {
        let s = v.strength;
        let income_yuan = 80_000.0 + s * s * 900_000.0 + (rng.range(0, 60_000) as f64);
        let growth = if year == 2016 { 1.12 } else { 1.0 };
        let mut row = FactsRow {
            row: i + 2,
            code: v.code.clone(),
            income: format!("{:.0}", income_yuan * growth),
            ..Default::default()
        };
        if titles && s > 0.55 && rng.below(100) < 85 {
            row.beautiful_level = if s > 0.8 { "省级" } else { "市级" }.into();
            // A title is never from after the year rated.
            row.beautiful_year = rng.range(2012, 2015).min(year).to_string();
        } else if titles && s > 0.4 && rng.below(100) < 30 {
            row.beautiful_level = "县级".into();
            row.beautiful_year = 2014.min(year).to_string();
        }
        if s > 0.6 && rng.below(100) < 70 {
            row.practice = format!("{}党建特色工作", short_name(&v.code, year));
            row.practice_level = ["乡镇级", "县级", "市级"][rng.below(3)].into();
        } else if s > 0.45 && rng.below(100) < 30 {
            row.practice = format!("{}党员服务品牌", short_name(&v.code, year));
            row.practice_level = "村级".into();
        }
        rows.push(row);
    }
    rows
}

async fn import_facts(
    db: &Db,
    actor: &Actor,
    year: i64,
    rows: &[FactsRow],
    now: i64,
) -> Result<(), StoreError> {
    let out = db
        .import_village_facts(actor, year, rows, ImportMode::AllOrNothing, now)
        .await?;
    match out.errors.first() {
        Some(e) => Err(StoreError::Corrupt(format!(
            "generated facts row {}: {}",
            e.row, e.msg.key
        ))),
        None => Ok(()),
    }
}

fn draws(world: &[BulkOrg], rng: &mut Rng) -> Vec<VillageDraw> {
    world
        .iter()
        .filter(|b| b.org.level == baiqian_domain::org::Level::Village)
        .map(|b| {
            // Skewed towards the middle: most villages are 3–4 stars, few 5 or 1.
            let u = (rng.next() % 10_000) as f64 / 10_000.0;
            let v = (rng.next() % 10_000) as f64 / 10_000.0;
            let code = b.org.code.as_str().to_string();
            // 龙山村 competes for pioneer: a strong village.
            let strength = if code == LONGSHAN { 0.9 } else { (u + v) / 2.0 };
            VillageDraw { code, strength }
        })
        .collect()
}

/// For the benchmark's generated province (`crate::province`): the municipal set owned by the
/// root, a year's pioneer data, and a round of `year` with every village scored and approved.
/// Returns the city-level actor that owns the round.
pub async fn province_round(
    db: &Db,
    world: &[BulkOrg],
    year: i64,
    seed: u64,
    now: i64,
) -> Result<Actor, StoreError> {
    let root = world
        .first()
        .ok_or_else(|| StoreError::Corrupt("empty world".into()))?;
    let city = actor("bench", Role::CityAdmin, root.org.code.as_str(), &root.path)?;
    let set = db
        .create_standard_set(
            &city,
            "BENCH",
            "基本要求（基准测试）",
            &items_of(&[MUNICIPAL_ITEMS]),
            now,
        )
        .await?;
    let mut rng = Rng(seed);
    let villages = draws(world, &mut rng);
    let rows = facts_rows(&villages, year, true, &mut rng);
    import_facts(db, &city, year, &rows, now).await?;
    let round = db
        .open_round(
            &city,
            NewRound {
                year,
                set_id: set.id,
                self_due: format!("{year}-10-31"),
                review_due: format!("{year}-11-30"),
                approve_due: format!("{year}-12-20"),
            },
            now,
        )
        .await?;
    let (_, items) = db.standard_set(&city.scope, set.id).await?;
    let scores: Vec<BulkScore> = villages
        .iter()
        .map(|v| BulkScore {
            org_code: v.code.clone(),
            stage: Stage::Approved,
            items: score_items(&mut rng, &items, 52.0 + 45.0 * v.strength, 1),
        })
        .collect();
    db.bulk_score_round(&city, round.id, &scores, now).await?;
    Ok(city)
}
