//! The demo's campaign (百村示范、千村晋位, 2015–2018) with the article's targets: by the end of
//! 2016, 80 pioneer villages, 70 % of village organizations advanced and 60 % of townships
//! advanced as a whole; by the end, every village at four stars or more, about 100 pioneers,
//! every township advanced and about 10 model townships. The figures against them are counted
//! from the demo's ratings. Every county has its three-year plan (县县有规划), four approved by
//! the city and 安吉县's awaiting approval; 和孚镇's scheme (乡乡有方案) is approved with its first
//! item done, 洪桥镇's waits for 长兴县.

use baiqian_domain::org::OrgCode;
use baiqian_domain::plan::{AdvancementRule, TargetMeasure};
use baiqian_domain::role::Role;
use baiqian_store::plan::{NewCampaign, NewPlanItem, PlanDecision, Target};
use baiqian_store::{Db, StoreError};

/// The campaign's targets: (year, measure, goal, due).
pub const TARGETS: &[(i64, TargetMeasure, i64, &str)] = &[
    (2016, TargetMeasure::PioneerVillages, 80, "2016-12-31"),
    (2016, TargetMeasure::VillagesAdvanced, 70, "2016-12-31"),
    (2016, TargetMeasure::TownshipsAdvanced, 60, "2016-12-31"),
    (2018, TargetMeasure::VillagesAtFourStars, 100, "2018-12-31"),
    (2018, TargetMeasure::PioneerVillages, 100, "2018-12-31"),
    (2018, TargetMeasure::TownshipsAdvanced, 100, "2018-12-31"),
    (2018, TargetMeasure::ModelTownships, 10, "2018-12-31"),
];

pub async fn build(db: &Db, now: i64) -> Result<(), StoreError> {
    let city = &crate::ratings::actor("demo", Role::CityAdmin, "330500", "/330500/")?;
    let campaign = db
        .create_campaign(
            city,
            NewCampaign {
                name: "百村示范、千村晋位".into(),
                first_year: 2015,
                last_year: 2018,
                rule: AdvancementRule::default(),
            },
            now,
        )
        .await?;
    for &(year, measure, goal, due) in TARGETS {
        let target = Target {
            year,
            measure,
            goal,
            due: due.into(),
        };
        db.set_target(city, &campaign, &target, now).await?;
    }
    build_plans(db, now).await
}

/// The counties' plans: (code, name, approved by the city yet).
const COUNTY_PLANS: &[(&str, &str, bool)] = &[
    ("330502", "吴兴区", true),
    ("330503", "南浔区", true),
    ("330521", "德清县", true),
    ("330522", "长兴县", true),
    ("330523", "安吉县", false),
];

/// (content, measures, owner, deadline, the target served) of a county's plan.
const COUNTY_ITEMS: &[(&str, &str, &str, &str, TargetMeasure)] = &[
    (
        "村党组织2018年底前全部达到四星级以上",
        "逐村排摸，一村一策；县领导联系后进村，限期摘帽",
        "县委组织部",
        "2018-12-31",
        TargetMeasure::VillagesAtFourStars,
    ),
    (
        "培育先锋示范村",
        "按四项标准逐村培育，年度评定，推广特色工作",
        "县委组织部组织科",
        "2018-12-31",
        TargetMeasure::PioneerVillages,
    ),
    (
        "乡镇整乡提升",
        "每个乡镇制定年度方案，县委组织部逐一审批、季度督查",
        "各乡镇党委书记",
        "2018-12-31",
        TargetMeasure::TownshipsAdvanced,
    ),
];

/// (content, measures, owner, deadline, the target served) of a township's scheme.
const TOWNSHIP_ITEMS: &[(&str, &str, &str, &str, TargetMeasure)] = &[
    (
        "整镇调研，逐村建立村情档案",
        "镇领导包村，问题清单逐条销号",
        "镇党委副书记",
        "2016-06-30",
        TargetMeasure::TownshipsAdvanced,
    ),
    (
        "后进村摘帽",
        "每个后进村一名镇领导联系、一名第一书记驻村",
        "镇组织委员",
        "2016-11-30",
        TargetMeasure::VillagesAdvanced,
    ),
    (
        "争创先锋示范村",
        "选树两个村按四项标准创建",
        "镇党委书记",
        "2016-12-20",
        TargetMeasure::PioneerVillages,
    ),
];

/// Who writes a node's part of the demo: the node's own demo account where it has one (so the
/// history names 陈塔村's secretary, not a made-up login), else a loader of that node.
fn demo_actor(role: Role, code: &str, path: &str) -> Result<baiqian_store::Actor, StoreError> {
    match crate::DEMO_ACCOUNTS
        .iter()
        .find(|a| a.org_code == code && a.role == role)
    {
        Some(account) => crate::ratings::actor(account.login, role, code, path),
        None => crate::ratings::actor(&format!("demo.{code}"), role, code, path),
    }
}

/// Writes a node's 2016 plan with its items and sends it up; returns its id.
async fn sent_up(
    db: &Db,
    writer: &baiqian_store::Actor,
    code: &str,
    title: &str,
    items: &[(&str, &str, &str, &str, TargetMeasure)],
    now: i64,
) -> Result<i64, StoreError> {
    let code = OrgCode::parse(code).map_err(|e| StoreError::Invalid(e.msg()))?;
    let node = db.org(&writer.scope, &code).await?;
    let id = db.create_plan(writer, &node, 2016, title, now).await?;
    for &(content, measures, owner, deadline, measure) in items {
        let item = NewPlanItem {
            content: content.into(),
            measures: measures.into(),
            owner: owner.into(),
            deadline: deadline.into(),
            measure: Some(measure),
            problems: Vec::new(),
        };
        db.add_plan_item(writer, id, &item, now).await?;
    }
    db.submit_plan(writer, id, now).await?;
    Ok(id)
}

/// The plans of the demo: every county's, and two townships' schemes.
pub async fn build_plans(db: &Db, now: i64) -> Result<(), StoreError> {
    let city = crate::ratings::actor("demo", Role::CityAdmin, "330500", "/330500/")?;
    for &(code, name, approved) in COUNTY_PLANS {
        let writer = demo_actor(Role::CountyAdmin, code, &format!("/330500/{code}/"))?;
        let title = format!("{name}“百村示范、千村晋位”三年规划（2016—2018）");
        let id = sent_up(db, &writer, code, &title, COUNTY_ITEMS, now).await?;
        if approved {
            db.decide_plan(&city, id, &PlanDecision::Approve, now)
                .await?;
        }
    }
    let hefu = crate::ledger::HEFU;
    let nanxun = demo_actor(Role::CountyAdmin, "330503", "/330500/330503/")?;
    let town = demo_actor(
        Role::TownshipAdmin,
        hefu,
        &format!("/330500/330503/{hefu}/"),
    )?;
    let id = sent_up(
        db,
        &town,
        hefu,
        "和孚镇2016年整乡提升方案",
        TOWNSHIP_ITEMS,
        now,
    )
    .await?;
    db.decide_plan(&nanxun, id, &PlanDecision::Approve, now)
        .await?;
    let plan = db.plan(&town, id).await?;
    if let Some(first) = plan.items.first() {
        db.finish_plan_item(&town, id, first.id, now).await?;
    }
    // 洪桥镇's scheme waits for 长兴县.
    let hongqiao = "330522101";
    let town = demo_actor(
        Role::TownshipAdmin,
        hongqiao,
        &format!("/330500/330522/{hongqiao}/"),
    )?;
    sent_up(
        db,
        &town,
        hongqiao,
        "洪桥镇2016年整乡提升方案",
        TOWNSHIP_ITEMS,
        now,
    )
    .await?;
    projects(db, now).await
}

/// The article's projects (项目化攻坚): (county, township or "" for the county's own, name, kind,
/// weakness, start, villages with their results). The results are the article's; the dates and
/// the villages without a result are invented.
type ProjectDef = (
    &'static str,
    &'static str,
    &'static str,
    &'static str,
    &'static str,
    &'static str,
    &'static [(&'static str, &'static str)],
);

const PROJECTS: &[ProjectDef] = &[
    (
        "330522",
        "330522101",
        "洪桥镇党群创业互助会",
        "党群创业互助会",
        "困难党员群众缺技术、缺资金，脱贫致富难",
        "2015-04-01",
        &[(
            "潼桥村",
            "办创业孵化基地：村民周火青在党员周永琴指导下种了一季豇豆，收入 8000 多元",
        )],
    ),
    (
        "330502",
        "330502104",
        "埭溪镇党群创业互助会",
        "党群创业互助会",
        "困难党员群众增收渠道少",
        "2015-03-15",
        &[(
            "五石坞村",
            "村集体开发 140 亩苗木基地，村民有了二次就业的机会",
        )],
    ),
    (
        "330502",
        "330502103",
        "妙西镇茶农党群创业互助会",
        "党群创业互助会",
        "茶农缺少启动资金和销售渠道",
        "2015-03-01",
        &[(
            "龙山村",
            "申请创业帮扶资金为茶农朱吉利买肥料，采茶、炒茶、卖茶一条龙服务",
        )],
    ),
    (
        "330503",
        "330503102",
        "双林镇乡贤参事会",
        "乡贤参事会",
        "在外乡土能人多、村干部后续乏人",
        "2015-06-01",
        &[(
            "向阳村",
            "“贤人回村”：杨祥春 2012 年回村任书记，村里跨越式发展",
        )],
    ),
    (
        "330523",
        "",
        "安吉县五年强村计划",
        "五年强村计划",
        "集体经济欠发达村经常性收入低",
        "2015-05-01",
        &[],
    ),
];

async fn projects(db: &Db, now: i64) -> Result<(), StoreError> {
    let today = baiqian_domain::time::china_date(now);
    for (county, township, name, kind, weakness, start, villages) in PROJECTS {
        let (role, code, path) = if township.is_empty() {
            (Role::CountyAdmin, *county, format!("/330500/{county}/"))
        } else {
            (
                Role::TownshipAdmin,
                *township,
                format!("/330500/{county}/{township}/"),
            )
        };
        let runner = demo_actor(role, code, &path)?;
        let node = db
            .org(
                &runner.scope,
                &OrgCode::parse(code).map_err(|e| StoreError::Invalid(e.msg()))?,
            )
            .await?;
        let id = db
            .create_project(
                &runner,
                &node,
                &baiqian_store::plan::NewProject {
                    name: (*name).into(),
                    kind: (*kind).into(),
                    weakness: (*weakness).into(),
                    start_on: (*start).into(),
                },
                &today,
                now,
            )
            .await?;
        for (village, result) in *villages {
            db.set_project_village(&runner, id, village, result, now)
                .await?;
        }
    }
    Ok(())
}

/// 陈塔村's 2016 plan (村村有计划), written after its situation file: its first item serves the
/// village's problems open and not yet late (up to two; the late ones stay on their owners'
/// task lists), 和孚镇 approves the plan, and the item is done, so those problems stand
/// rectified and wait for the township's check; the second item is still open.
pub async fn village_plan(db: &Db, now: i64) -> Result<(), StoreError> {
    let hefu = crate::ledger::HEFU;
    let chenta = crate::CHENTA;
    let secretary = demo_actor(
        Role::VillageSecretary,
        chenta,
        &format!("/330500/330503/{hefu}/{chenta}/"),
    )?;
    let town = demo_actor(
        Role::TownshipAdmin,
        hefu,
        &format!("/330500/330503/{hefu}/"),
    )?;
    let code = OrgCode::parse(chenta).map_err(|e| StoreError::Invalid(e.msg()))?;
    let node = db.org(&secretary.scope, &code).await?;
    let today = baiqian_domain::time::china_date(now);
    let served: Vec<i64> = db
        .problems_to_plan(&node)
        .await?
        .iter()
        // Open and not yet late: the overdue ones stay on their owners' task lists.
        .filter(|p| p.status.as_str() != "rectified" && p.deadline >= today)
        .take(2)
        .map(|p| p.id)
        .collect();
    let id = db
        .create_plan(&secretary, &node, 2016, "陈塔村2016年晋位计划", now)
        .await?;
    let items = [
        (
            "村情档案问题逐条整改销号",
            "村书记牵头，问题清单对账销号，镇联村干部验收",
            "村党支部书记",
            "2016-09-30",
            TargetMeasure::VillagesAdvanced,
            served,
        ),
        (
            "规范主题党日活动",
            "每月固定日开展，党员扫码签到，未到党员逐一回访",
            "村党支部组织委员",
            "2016-12-20",
            TargetMeasure::VillagesAtFourStars,
            Vec::new(),
        ),
    ];
    for (content, measures, owner, deadline, measure, problems) in items {
        let item = NewPlanItem {
            content: content.into(),
            measures: measures.into(),
            owner: owner.into(),
            deadline: deadline.into(),
            measure: Some(measure),
            problems,
        };
        db.add_plan_item(&secretary, id, &item, now).await?;
    }
    db.submit_plan(&secretary, id, now).await?;
    db.decide_plan(&town, id, &PlanDecision::Approve, now)
        .await?;
    let plan = db.plan(&secretary, id).await?;
    if let Some(first) = plan.items.first() {
        db.finish_plan_item(&secretary, id, first.id, now).await?;
    }
    Ok(())
}
