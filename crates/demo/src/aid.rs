//! The demo's mutual-aid associations (党群创业互助会), after the article: 810 associations across
//! the city with 20,000+ members, 2,300+ people helped out of poverty, 358 cooperatives, 120
//! leading agricultural firms and 356 start-up bases founded by the capable people they drew
//! in; 新市镇's four associations (fruit and vegetables, aquaculture, outsourced processing,
//! e-commerce) made the city's first credit loans of up to 300,000 yuan and have lent
//! 5,000,000+ yuan to 43 members since November 2014; 龙山村's association got 6,000 yuan to
//! 朱吉利 for two years of fertilizer for his 50 mu of tea; 五石坞村's 140-mu nursery; 潼桥村's
//! incubation base, where 周火青 grew cowpeas under 周永琴's guidance.
//!
//! Invented: which villages have an association (one each, the rest by seed), every name but
//! the article's, every date, the programme's rate and term, each loan's amount and the
//! repayments (on time, but for two borrowers who missed the instalment before today), and the
//! hands of each loan: entered by `xinshi.clerk`, reviewed by `xinshi.reviewer`, approved by
//! `deqing.approver` (names in the ledger, not logins), disbursed by the demo login
//! `xinshi.admin`, on whose task list the two overdue loans wait.

use baiqian_domain::aid::{ProjectKind, RepaymentMethod};
use baiqian_domain::money::Fen;
use baiqian_domain::org::{Level, OrgCode};
use baiqian_domain::scope::Scope;
use baiqian_store::aid::{
    AidLoaded, BulkAidMember, BulkAssociation, BulkGrant, BulkLoan, BulkProject, NewProgramme,
};
use baiqian_store::org::BulkOrg;
use baiqian_store::{Actor, Db, StoreError};

use crate::Rng;
use crate::activity::{GIVEN, SURNAMES};

/// The article's figures.
pub const ASSOCIATIONS: usize = 810;
pub const COOPERATIVES: usize = 358;
pub const LEADING_FIRMS: usize = 120;
pub const STARTUP_BASES: usize = 356;
/// 新市镇's borrowers.
pub const XINSHI_BORROWERS: usize = 43;
/// Each association's members helped out of poverty (3 × 810 = 2,430, the article's 2,300+).
const HELPED_EACH: usize = 3;
/// 新市镇 (德清县), whose associations lend (invented code: 德清县's third town).
pub const XINSHI: &str = "330521103";

const TRADES: &[&str] = &[
    "茶叶种植",
    "果蔬种植",
    "水产养殖",
    "苗木花卉",
    "来料加工",
    "电子商务",
    "湖羊养殖",
    "竹木加工",
    "乡村旅游",
    "蚕桑",
];

/// 新市镇's four, by trade.
const XINSHI_TRADES: [&str; 4] = ["果蔬", "水产养殖", "来料加工", "电子商务"];

fn parse(code: &str) -> Result<OrgCode, StoreError> {
    OrgCode::parse(code).map_err(|e| StoreError::Invalid(e.msg()))
}

fn name(rng: &mut Rng) -> String {
    format!(
        "{}{}",
        SURNAMES[rng.below(SURNAMES.len())],
        GIVEN[rng.below(GIVEN.len())]
    )
}

fn day(rng: &mut Rng, year: i64, months: (i64, i64)) -> String {
    format!(
        "{year}-{:02}-{:02}",
        rng.range(months.0, months.1),
        rng.range(1, 28)
    )
}

/// An association's ordinary members: `n`, the first two Party members, three households in
/// difficulty helped out of poverty, each mentored by a Party member.
fn members(rng: &mut Rng, n: usize) -> Vec<BulkAidMember> {
    (0..n)
        .map(|k| {
            let helped = (2..2 + HELPED_EACH).contains(&k);
            BulkAidMember {
                name: name(rng),
                party_member: k < 2,
                in_difficulty: helped || k == 2 + HELPED_EACH,
                helped_on: helped.then(|| day(rng, 2015, (3, 12))),
                change_note: if helped {
                    "入会后发展产业，家庭年收入翻番".into()
                } else {
                    String::new()
                },
                mentor: helped.then_some(k % 2),
                households_led: if k < 2 { rng.range(3, 15) } else { 0 },
                joined_on: day(rng, 2014, (6, 12)),
            }
        })
        .collect()
}

/// The villages and townships the associations sit under, by name.
struct Places<'a> {
    world: &'a [BulkOrg],
}

impl Places<'_> {
    fn village(&self, name: &str) -> Result<OrgCode, StoreError> {
        self.world
            .iter()
            .find(|b| b.org.level == Level::Village && b.org.name == name)
            .map(|b| b.org.code.clone())
            .ok_or(StoreError::NotFound)
    }
}

/// 新市镇's 43 loans: amounts of 50,000 to 300,000 yuan (the largest the article's 300,000)
/// disbursed from November 2014, repaid monthly on the due day; two borrowers missed the
/// instalment before the demo's today.
fn xinshi_loans(programme: i64, today: &str) -> Vec<Vec<BulkLoan>> {
    let mut out: Vec<Vec<BulkLoan>> = vec![Vec::new(); 4];
    for k in 0..XINSHI_BORROWERS {
        let principal: i64 = if k == 0 {
            300_000
        } else {
            (5 + (k as i64 * 7) % 21) * 10_000
        };
        // From November 2014 to January 2016, one disbursement every ten days or so.
        let start = chrono::NaiveDate::from_ymd_opt(2014, 11, 10).unwrap_or_default();
        let disbursed = start + chrono::Days::new(10 * k as u64);
        let terms = baiqian_domain::aid::LoanTerms {
            principal: Fen::from_yuan(principal),
            annual_rate_bp: 560,
            months: 12,
            method: RepaymentMethod::EqualInstalments,
            first_due: baiqian_domain::aid::first_due_after(disbursed).unwrap_or(disbursed),
        };
        let schedule = baiqian_domain::aid::schedule(&terms).unwrap_or_default();
        let missed = k == 20 || k == 33;
        let due: Vec<_> = schedule
            .iter()
            .filter(|i| i.due.format("%Y-%m-%d").to_string().as_str() < today)
            .collect();
        let repayments = due
            .iter()
            .enumerate()
            .filter(|(n, _)| !(missed && *n + 1 == due.len()))
            .map(|(_, i)| (i.due.format("%Y-%m-%d").to_string(), i.total()))
            .collect();
        out[k % 4].push(BulkLoan {
            programme_id: programme,
            borrower: k / 4,
            purpose: format!("{}扩大经营", XINSHI_TRADES[k % 4]),
            principal: terms.principal,
            annual_rate_bp: terms.annual_rate_bp,
            months: terms.months,
            method: terms.method,
            disbursed_on: disbursed.format("%Y-%m-%d").to_string(),
            repayments,
            hands: [
                "xinshi.clerk".into(),
                "xinshi.reviewer".into(),
                "deqing.approver".into(),
                "xinshi.admin".into(),
            ],
        });
    }
    out
}

/// Writes the associations: 新市镇's programme first (its terms as data), then all of them in
/// one bulk load.
pub async fn build(
    db: &Db,
    world: &[BulkOrg],
    seed: u64,
    today: &str,
    now: i64,
) -> Result<AidLoaded, StoreError> {
    let mut rng = Rng(seed ^ 0x4149_4421);
    let actor = Actor::cli();
    let xinshi = db.org(&Scope::everything(), &parse(XINSHI)?).await?;
    if xinshi.name != "新市镇" {
        return Err(StoreError::NotFound);
    }
    let programme = db
        .create_programme(
            &actor,
            &xinshi,
            &NewProgramme {
                name: "新市镇创业信用贷款".into(),
                limit: "300000".into(),
                rate: "5.6".into(),
                months: "12".into(),
                method: RepaymentMethod::EqualInstalments.as_str().into(),
            },
            now,
        )
        .await?;
    let places = Places { world };
    let mut list = Vec::with_capacity(ASSOCIATIONS);
    // 新市镇's four, at the township, each with its share of the 43 borrowers.
    for (k, loans) in xinshi_loans(programme, today).into_iter().enumerate() {
        let borrowers = loans.len();
        let mut m = members(&mut rng, 25.max(borrowers + 6));
        // Borrowers are the first members; keep the Party members and the helped among them.
        for b in m.iter_mut().take(borrowers) {
            b.households_led = b.households_led.max(2);
        }
        list.push(BulkAssociation {
            org_code: xinshi.code.clone(),
            name: format!("新市镇{}党群创业互助会", XINSHI_TRADES[k]),
            trade: XINSHI_TRADES[k].into(),
            founded_on: "2014-11-01".into(),
            members: m,
            projects: Vec::new(),
            loans,
            grants: Vec::new(),
        });
    }
    // One for each of 806 villages: the article's first, then the rest in seed order.
    let named = ["龙山村", "五石坞村", "潼桥村"];
    let mut villages: Vec<&BulkOrg> = world
        .iter()
        .filter(|b| b.org.level == Level::Village && !named.contains(&b.org.name.as_str()))
        .collect();
    for k in (1..villages.len()).rev() {
        villages.swap(k, rng.below(k + 1));
    }
    let mut codes: Vec<(OrgCode, String)> = named
        .iter()
        .map(|n| Ok((places.village(n)?, n.to_string())))
        .collect::<Result<_, StoreError>>()?;
    codes.extend(
        villages
            .iter()
            .take(ASSOCIATIONS - 4 - named.len())
            .map(|b| (b.org.code.clone(), b.org.name.clone())),
    );
    for (code, village) in codes {
        let trade = TRADES[rng.below(TRADES.len())];
        let n = 25 + rng.below(3);
        list.push(BulkAssociation {
            org_code: code,
            name: format!("{village}党群创业互助会"),
            trade: trade.into(),
            founded_on: day(&mut rng, 2014, (3, 12)),
            members: members(&mut rng, n),
            projects: Vec::new(),
            loans: Vec::new(),
            grants: Vec::new(),
        });
    }
    article_people(&mut list)?;
    // The outcomes, spread over the village associations in turn.
    let mut outcomes = Vec::new();
    outcomes.extend(std::iter::repeat_n(ProjectKind::Cooperative, COOPERATIVES));
    outcomes.extend(std::iter::repeat_n(ProjectKind::LeadingFirm, LEADING_FIRMS));
    // 潼桥村's incubation base is one of the 356.
    outcomes.extend(std::iter::repeat_n(
        ProjectKind::StartupBase,
        STARTUP_BASES - 1,
    ));
    let village_associations = list.len() - 4;
    for (k, kind) in outcomes.into_iter().enumerate() {
        let a = &mut list[4 + 3 + k % (village_associations - 3)];
        let what = match kind {
            ProjectKind::Cooperative => "专业合作社",
            ProjectKind::LeadingFirm => "农业发展有限公司",
            _ => "创业基地",
        };
        let name = format!("{}{what}", a.trade);
        let name = if a.projects.iter().any(|p| p.name == name) {
            format!("{name}（{}）", a.projects.len() + 1)
        } else {
            name
        };
        a.projects.push(BulkProject {
            kind,
            name,
            founded_on: day(&mut rng, 2015, (1, 12)),
            note: String::new(),
        });
    }
    db.bulk_load_aid(&actor, &list, today, now).await
}

/// The article's people: 朱吉利 and his grant at 龙山村, 五石坞村's nursery, and 潼桥村's
/// incubation base with 周火青 mentored by 周永琴.
fn article_people(list: &mut [BulkAssociation]) -> Result<(), StoreError> {
    let [longshan, wushiwu, tongqiao] = &mut list[4..7] else {
        return Err(StoreError::NotFound);
    };
    longshan.trade = "茶叶种植".into();
    longshan.members[2].name = "朱吉利".into();
    longshan.members[2].change_note = "50 亩茶园有了两年的肥料，采茶、炒茶、卖茶一条龙".into();
    longshan.grants.push(BulkGrant {
        beneficiary: 2,
        purpose: "50 亩茶园两年的肥料".into(),
        amount: Fen::from_yuan(6_000),
        received_from: "妙西镇党委".into(),
        received_on: "2015-03-10".into(),
        paid_on: "2015-03-20".into(),
        outcome: "茶园增产，采茶、炒茶、卖茶一条龙服务".into(),
        hands: [
            "longshan.secretary".into(),
            "miaoxi.admin".into(),
            "longshan.secretary".into(),
        ],
    });
    wushiwu.trade = "苗木花卉".into();
    wushiwu.projects.push(BulkProject {
        kind: ProjectKind::Base,
        name: "140 亩苗木基地".into(),
        founded_on: "2015-04-01".into(),
        note: "村集体开发，村民有了二次就业的机会".into(),
    });
    tongqiao.trade = "果蔬种植".into();
    tongqiao.members[0].name = "周永琴".into();
    tongqiao.members[2].name = "周火青".into();
    tongqiao.members[2].mentor = Some(0);
    tongqiao.members[2].change_note = "在党员周永琴指导下种了一季豇豆，收入 8000 多元".into();
    tongqiao.projects.push(BulkProject {
        kind: ProjectKind::StartupBase,
        name: "潼桥村创业孵化基地".into(),
        founded_on: "2015-05-01".into(),
        note: String::new(),
    });
    Ok(())
}
