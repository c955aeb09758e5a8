//! The Huzhou demo world (湖州演示数据): the facts of the article, and invented names where the
//! article gives none. Deterministic: the same seed builds the same world.
//!
//! Facts (from `shared/BRIEF.md` and the article): city 湖州市 330500; five counties/districts
//! with their real codes; 68 townships (of the 69 names of 2016, 爱山街道 — a downtown street
//! without administrative villages — is left out); 985 villages, 248 in 长兴县, 20 in 埭溪镇, 22 in
//! the Nanxun town surveyed door to door (taken to be 和孚镇, where 陈塔村 lies; the article does
//! not name it); the named villages under their townships; 龙山村 with 36 members; 天能集团's
//! Party committee in 煤山镇, where 新民村's members work.
//!
//! Invented (marked `invented` below and `code_invented` in the database): every township code
//! except 八里店镇 330502101, every village code, every village name not in the article, every
//! member count and secretary name not in the article.

mod activity;
pub mod aid;
pub mod cadre;
pub mod ledger;
pub mod plan;
pub mod post;
mod province;
pub mod ratings;
pub mod station;
pub mod wish;

#[allow(unused_imports)]
use self::{activity::*, province::*};
pub use activity::{ACTIVITY_MONTHS, TIANNENG};
pub use province::{province, province_of, province_roster};

use baiqian_domain::org::{self, Level, OrgCode, PartyOrgKind};
use baiqian_domain::role::Role;
use baiqian_store::member::NewMember;
use baiqian_store::org::{BulkOrg, NewOrg};
use baiqian_store::user::NewUser;
use baiqian_store::vault::Vault;
use baiqian_store::{Actor, Db, StoreError};

/// The one password of every demo account, shown on the login page in demo mode.
pub const DEMO_PASSWORD: &str = "Baiqian@2016";

/// The demo world's today: 2016-03-01 09:30 China time, the campaign's first spring. The world
/// is built as of this moment (the 2015 round published, the 2016 round under way, a year of
/// activity days up to February 2016, 和孚镇's survey and its problems with their deadlines) and
/// `baiqian demo` serves it on a calendar that runs on from here (`web::clock::DemoClock`), so
/// every page agrees on one today. The tests build and read the same world at the same moment.
pub const DEMO_TODAY_MS: i64 = 1_456_795_800_000;

/// Where the demo's calendar starts when it is served: just after the last audited change if
/// that was made on the demo's calendar (within a year of its today), so the log never goes back
/// in time across restarts; otherwise (a new world, or the last change made on the real clock,
/// such as `baiqian token issue`) at the demo's today.
pub fn calendar_start(latest_audit_at: Option<i64>) -> i64 {
    const YEAR_MS: i64 = 365 * 24 * 3600 * 1000;
    match latest_audit_at {
        Some(at) if (DEMO_TODAY_MS..DEMO_TODAY_MS + YEAR_MS).contains(&at) => at + 1_000,
        _ => DEMO_TODAY_MS,
    }
}

/// The default seed of `baiqian demo`.
pub const DEFAULT_SEED: u64 = 2016;

/// A county with its townships: (name, kind, villages). Kind: 街道 street, 镇 town, 乡 township.
struct County {
    code: &'static str,
    name: &'static str,
    townships: &'static [(&'static str, Kind, usize)],
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    Street,
    Town,
    Township,
}

impl Kind {
    fn suffix(self) -> &'static str {
        match self {
            Kind::Street => "街道",
            Kind::Town => "镇",
            Kind::Township => "乡",
        }
    }

    /// First digit of the three that follow the county code (0xx street, 1xx town, 2xx township).
    fn code_base(self) -> usize {
        match self {
            Kind::Street => 1,
            Kind::Town => 101,
            Kind::Township => 201,
        }
    }
}

use Kind::{Street, Town, Township};

/// Village counts per township are invented; the totals are the article's (985; 长兴县 248;
/// 埭溪镇 20; 和孚镇 22).
const COUNTIES: &[County] = &[
    County {
        code: "330502",
        name: "吴兴区",
        townships: &[
            ("月河", Street, 2),
            ("朝阳", Street, 2),
            ("飞英", Street, 2),
            ("龙泉", Street, 5),
            ("凤凰", Street, 6),
            ("康山", Street, 8),
            ("杨家埠", Street, 10),
            // The functional zones' streets, inside 吴兴区.
            ("龙溪", Street, 4),
            ("滨湖", Street, 6),
            ("仁皇山", Street, 5),
            // 八里店 first: its code 330502101 is the one official township code we know.
            ("八里店", Town, 20),
            ("织里", Town, 28),
            ("妙西", Town, 12),
            ("埭溪", Town, 20),
            ("东林", Town, 18),
            ("道场", Township, 14),
            ("环渚", Township, 10),
            ("白雀", Township, 8),
        ],
    },
    County {
        code: "330503",
        name: "南浔区",
        townships: &[
            ("南浔", Town, 30),
            ("双林", Town, 28),
            ("练市", Town, 28),
            ("善琏", Town, 18),
            ("旧馆", Town, 14),
            ("菱湖", Town, 30),
            ("和孚", Town, 22),
            ("千金", Town, 14),
            ("石淙", Town, 12),
        ],
    },
    County {
        code: "330521",
        name: "德清县",
        townships: &[
            ("武康", Town, 14),
            ("乾元", Town, 14),
            ("新市", Town, 22),
            ("洛舍", Town, 10),
            ("钟管", Town, 16),
            ("莫干山", Town, 14),
            ("雷甸", Town, 12),
            ("禹越", Town, 12),
            ("新安", Town, 14),
            ("筏头", Township, 8),
            ("三合", Township, 15),
        ],
    },
    County {
        code: "330522",
        name: "长兴县",
        townships: &[
            ("雉城", Street, 10),
            ("画溪", Street, 12),
            ("龙山", Street, 8),
            ("洪桥", Town, 20),
            ("李家巷", Town, 16),
            ("夹浦", Town, 18),
            ("林城", Town, 18),
            ("泗安", Town, 20),
            ("虹星桥", Town, 17),
            ("和平", Town, 20),
            ("小浦", Town, 15),
            ("煤山", Town, 22),
            ("水口", Township, 15),
            ("吕山", Township, 12),
            ("白岘", Township, 10),
            ("槐坎", Township, 15),
        ],
    },
    County {
        code: "330523",
        name: "安吉县",
        townships: &[
            ("昌硕", Street, 8),
            ("递铺", Town, 26),
            ("梅溪", Town, 23),
            ("鄣吴", Town, 8),
            ("杭垓", Town, 18),
            ("孝丰", Town, 23),
            ("报福", Town, 14),
            ("章村", Town, 12),
            ("天荒坪", Town, 14),
            ("天子湖", Town, 18),
            ("溪龙", Township, 10),
            ("皈山", Township, 14),
            ("上墅", Township, 14),
            ("山川", Township, 8),
        ],
    },
];

/// The article's villages: (township, village, members, secretary). Members and secretaries are
/// the article's where it gives them (龙山村 36, 施益忠; 妙山村 刘长林; 向阳村 杨祥春).
const NAMED_VILLAGES: &[(&str, &str, Option<i64>, Option<&str>)] = &[
    ("和孚", "陈塔村", None, None),
    ("妙西", "妙山村", None, Some("刘长林")),
    ("妙西", "龙山村", Some(36), Some("施益忠")),
    ("埭溪", "五石坞村", None, None),
    ("双林", "向阳村", None, Some("杨祥春")),
    ("吕山", "雁陶村", None, None),
    ("洪桥", "潼桥村", None, None),
    ("煤山", "新民村", None, None),
    ("杭垓", "缫舍村", None, None),
];

/// Non-village organizations: (township, name, level, members), members invented.
const HOSTS: &[(&str, &str, Level, i64)] = &[
    ("煤山", "天能集团", Level::Enterprise, 236),
    ("双林", "湖州锐狮标准件有限公司", Level::Enterprise, 12),
];

// Invented: syllables for village names and for secretaries' names.
const NAME_FIRST: &[&str] = &[
    "东", "西", "南", "北", "新", "长", "和", "安", "丰", "桥", "青", "塘", "湖", "溪", "港", "金",
    "玉", "竹", "桑", "荷", "梅", "清", "乐", "福", "兴", "华", "茂", "云", "岭", "白", "红", "大",
    "小", "上", "下", "前", "后", "高", "双", "三",
];
const NAME_SECOND: &[&str] = &[
    "山", "港", "桥", "塘", "湾", "坞", "浜", "墩", "阳", "里", "庄", "林", "田", "溪", "河", "圩",
    "埭", "头", "口", "园", "漾", "墅", "埠", "泉", "石", "亭", "渚", "湖", "坝", "滨",
];

/// A small deterministic generator (SplitMix64): the world must not change when a crate does.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    fn range(&mut self, lo: i64, hi: i64) -> i64 {
        lo + (self.next() % (hi - lo + 1) as u64) as i64
    }
}

/// A demo account: login, display name, role, node.
#[derive(Debug, Clone)]
pub struct DemoAccount {
    pub login: &'static str,
    pub name: &'static str,
    pub role: Role,
    pub org_code: &'static str,
}

/// The demo logins: every role at each level where it fits, on the article's places.
pub const DEMO_ACCOUNTS: &[DemoAccount] = &[
    DemoAccount {
        login: "city.admin",
        name: "市委组织部管理员",
        role: Role::CityAdmin,
        org_code: "330500",
    },
    DemoAccount {
        login: "city.leader",
        name: "市委领导",
        role: Role::Leader,
        org_code: "330500",
    },
    DemoAccount {
        login: "city.auditor",
        name: "市级审计员",
        role: Role::Auditor,
        org_code: "330500",
    },
    DemoAccount {
        login: "changxing.admin",
        name: "长兴县委组织部管理员",
        role: Role::CountyAdmin,
        org_code: "330522",
    },
    DemoAccount {
        login: "changxing.leader",
        name: "长兴县委领导",
        role: Role::Leader,
        org_code: "330522",
    },
    DemoAccount {
        login: "changxing.auditor",
        name: "长兴县审计员",
        role: Role::Auditor,
        org_code: "330522",
    },
    DemoAccount {
        login: "wuxing.admin",
        name: "吴兴区委组织部管理员",
        role: Role::CountyAdmin,
        org_code: "330502",
    },
    DemoAccount {
        login: "meishan.admin",
        name: "煤山镇党委管理员",
        role: Role::TownshipAdmin,
        org_code: MEISHAN,
    },
    DemoAccount {
        login: "meishan.leader",
        name: "煤山镇领导",
        role: Role::Leader,
        org_code: MEISHAN,
    },
    DemoAccount {
        login: "meishan.auditor",
        name: "煤山镇审计员",
        role: Role::Auditor,
        org_code: MEISHAN,
    },
    DemoAccount {
        login: "miaoxi.admin",
        name: "妙西镇党委管理员",
        role: Role::TownshipAdmin,
        org_code: MIAOXI,
    },
    DemoAccount {
        login: "hefu.admin",
        name: "和孚镇党委管理员",
        role: Role::TownshipAdmin,
        org_code: ledger::HEFU,
    },
    DemoAccount {
        login: "hefu.leader",
        name: "和孚镇党委书记",
        role: Role::Leader,
        org_code: ledger::HEFU,
    },
    DemoAccount {
        login: "chenta.secretary",
        name: "陈塔村党组织书记",
        role: Role::VillageSecretary,
        org_code: CHENTA,
    },
    DemoAccount {
        login: "xinmin.secretary",
        name: "新民村党组织书记",
        role: Role::VillageSecretary,
        org_code: XINMIN,
    },
    DemoAccount {
        login: "xinmin.member",
        name: "许月刚",
        role: Role::Member,
        org_code: XINMIN,
    },
    DemoAccount {
        login: "xinshi.admin",
        name: "新市镇信贷专管员",
        role: Role::TownshipAdmin,
        org_code: aid::XINSHI,
    },
    DemoAccount {
        login: "saoshe.member",
        name: "张逸灵",
        role: Role::Member,
        org_code: wish::SAOSHE,
    },
    DemoAccount {
        login: "moganshan.admin",
        name: "莫干山镇党委管理员",
        role: Role::TownshipAdmin,
        org_code: station::MOGANSHAN,
    },
    DemoAccount {
        login: "moganshan.volunteer",
        name: "沈晓峰",
        role: Role::Member,
        org_code: station::MOGANSHAN_VILLAGE,
    },
    DemoAccount {
        login: "lincheng.admin",
        name: "林城镇党委管理员",
        role: Role::TownshipAdmin,
        org_code: post::LINCHENG,
    },
    DemoAccount {
        login: "lincheng.supervisor",
        name: "沈建明",
        role: Role::Member,
        org_code: post::LINCHENG_VILLAGE,
    },
    DemoAccount {
        login: "lincheng.patrol",
        name: "钱丽华",
        role: Role::Member,
        org_code: post::LINCHENG_VILLAGE,
    },
    DemoAccount {
        login: "longshan.secretary",
        name: "施益忠",
        role: Role::VillageSecretary,
        org_code: LONGSHAN,
    },
];

/// 煤山镇 (invented code), as the world below assigns it.
pub const MEISHAN: &str = "330522109";
/// 妙西镇 (invented code).
pub const MIAOXI: &str = "330502103";
/// 新民村 (invented code): the first village of 煤山镇.
pub const XINMIN: &str = "330522109201";
/// 陈塔村 (invented code): the first village of 和孚镇, whose situation file the article opens.
pub const CHENTA: &str = "330503107201";
/// 龙山村 (invented code): the second village of 妙西镇 (妙山村 is the first).
pub const LONGSHAN: &str = "330502103202";

/// The whole tree, parents before children.
pub fn huzhou(seed: u64) -> Result<Vec<BulkOrg>, org::OrgError> {
    let mut rng = Rng(seed);
    let mut used_names: Vec<String> = NAMED_VILLAGES.iter().map(|v| v.1.to_string()).collect();
    let mut out = Vec::with_capacity(1100);
    let secretary = |rng: &mut Rng| {
        format!(
            "{}{}",
            SURNAMES[rng.below(SURNAMES.len())],
            GIVEN[rng.below(GIVEN.len())]
        )
    };

    let city_path = "/330500/".to_string();
    let city_idx = out.len();
    out.push(bulk(
        "330500",
        "湖州市",
        Level::City,
        "330500",
        &city_path,
        0,
        Some(secretary(&mut rng)),
        false,
    )?);
    let mut city_members = 0;
    for county in COUNTIES {
        let county_path = format!("{city_path}{}/", county.code);
        let county_idx = out.len();
        out.push(bulk(
            county.code,
            county.name,
            Level::County,
            "330500",
            &county_path,
            0,
            Some(secretary(&mut rng)),
            false,
        )?);
        let mut county_members = 0;
        let mut next = [Street.code_base(), Town.code_base(), Township.code_base()];
        for &(short, kind, villages) in county.townships {
            let slot = match kind {
                Street => 0,
                Town => 1,
                Township => 2,
            };
            let t_code = format!("{}{:03}", county.code, next[slot]);
            next[slot] += 1;
            let invented = t_code != "330502101";
            let t_name = format!("{short}{}", kind.suffix());
            let t_path = format!("{county_path}{t_code}/");
            let t_idx = out.len();
            out.push(bulk(
                &t_code,
                &t_name,
                Level::Township,
                county.code,
                &t_path,
                0,
                Some(secretary(&mut rng)),
                invented,
            )?);
            let mut t_members = 0;
            let named: Vec<_> = NAMED_VILLAGES.iter().filter(|v| v.0 == short).collect();
            for i in 0..villages {
                let v_code = format!("{t_code}{:03}", 201 + i);
                let (name, members, sec) = match named.get(i) {
                    Some(&&(_, name, members, sec)) => (
                        name.to_string(),
                        members.unwrap_or_else(|| rng.range(28, 95)),
                        sec.map(str::to_string)
                            .unwrap_or_else(|| secretary(&mut rng)),
                    ),
                    None => (
                        invent_village_name(&mut rng, &mut used_names),
                        rng.range(22, 110),
                        secretary(&mut rng),
                    ),
                };
                t_members += members;
                let v_path = format!("{t_path}{v_code}/");
                out.push(bulk(
                    &v_code,
                    &name,
                    Level::Village,
                    &t_code,
                    &v_path,
                    members,
                    Some(sec),
                    true,
                )?);
            }
            for (n, &(_, name, level, members)) in HOSTS.iter().filter(|h| h.0 == short).enumerate()
            {
                let code = format!("{t_code}-{:03}", n + 1);
                let path = format!("{t_path}{code}/");
                t_members += members;
                out.push(bulk(
                    &code,
                    name,
                    level,
                    &t_code,
                    &path,
                    members,
                    Some(secretary(&mut rng)),
                    true,
                )?);
            }
            // A township committee's own members (cadres) come on top of its villages'.
            t_members += rng.range(20, 60);
            set_members(&mut out[t_idx], t_members);
            county_members += t_members;
        }
        set_members(&mut out[county_idx], county_members);
        city_members += county_members;
    }
    set_members(&mut out[city_idx], city_members);
    Ok(out)
}

fn set_members(b: &mut BulkOrg, n: i64) {
    b.org.member_count = n;
    b.org.party_org_kind = if b.org.level == Level::Village {
        PartyOrgKind::for_member_count(n)
    } else {
        PartyOrgKind::Committee
    };
    b.org.party_org_name = party_org_name(&b.org.name, b.org.level, b.org.party_org_kind);
}

/// Area committees are named 中共…委员会 (中共湖州市委员会); villages and enterprises by kind
/// (龙山村党支部, 天能集团党委), as the article names them.
fn party_org_name(name: &str, level: Level, kind: PartyOrgKind) -> String {
    match level {
        Level::City | Level::County | Level::Township => format!("中共{name}委员会"),
        _ => format!("{name}{}", kind.zh()),
    }
}

/// An invented village name (marked: not from the article), unique in the city.
fn invent_village_name(rng: &mut Rng, used: &mut Vec<String>) -> String {
    loop {
        let name = format!(
            "{}{}村",
            NAME_FIRST[rng.below(NAME_FIRST.len())],
            NAME_SECOND[rng.below(NAME_SECOND.len())]
        );
        if !used.contains(&name) {
            used.push(name.clone());
            return name;
        }
    }
}

#[allow(clippy::too_many_arguments)]
fn bulk(
    code: &str,
    name: &str,
    level: Level,
    parent: &str,
    path: &str,
    members: i64,
    secretary: Option<String>,
    invented: bool,
) -> Result<BulkOrg, org::OrgError> {
    let kind = if level == Level::Village || !level.is_area() {
        PartyOrgKind::for_member_count(members)
    } else {
        PartyOrgKind::Committee
    };
    Ok(BulkOrg {
        org: NewOrg {
            code: OrgCode::parse(code)?,
            name: name.to_string(),
            level,
            parent: OrgCode::parse(parent)?,
            party_org_kind: kind,
            party_org_name: party_org_name(name, level, kind),
            secretary_name: secretary,
            member_count: members,
        },
        path: path.to_string(),
        code_invented: invented,
    })
}

#[derive(Debug, thiserror::Error)]
pub enum DemoError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("the database already holds an organization tree")]
    NotEmpty,
}

/// What `build` wrote.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Built {
    pub orgs: usize,
    pub accounts: usize,
    pub members: usize,
    pub checkins: usize,
    pub ledger: ledger::LedgerBuilt,
}

/// How much of the demo to build (tests and quick starts build less).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Roster {
    /// The tree and the accounts only.
    Without,
    /// And the member roster.
    Members,
    /// And a year of monthly activity days with attendance (the full demo).
    MembersAndActivity,
}

/// Writes the world and the demo accounts into an empty, migrated database. `hash` turns the
/// demo password into a stored hash (each account gets its own salt). With the roster, every
/// organization's member count is the count of its roster rows.
pub async fn build(
    db: &Db,
    vault: &Vault,
    seed: u64,
    hash: &(dyn Fn(&str) -> String + Sync),
    roster: Roster,
    now: i64,
) -> Result<Built, DemoError> {
    if db.org_count_all().await? > 0 {
        return Err(DemoError::NotEmpty);
    }
    let world = huzhou(seed).map_err(|e| StoreError::Invalid(e.msg()))?;
    let actor = Actor::cli();
    // Counts come from the roster as it is loaded, never typed in.
    let zeroed: Vec<BulkOrg> = world
        .iter()
        .cloned()
        .map(|mut b| {
            b.org.member_count = 0;
            b
        })
        .collect();
    db.bulk_insert_orgs(&actor, &zeroed, now).await?;
    for a in DEMO_ACCOUNTS {
        let org_code = OrgCode::parse(a.org_code).map_err(|e| StoreError::Invalid(e.msg()))?;
        let new = NewUser {
            login: a.login.into(),
            name: a.name.into(),
            role: a.role,
            org_code,
            password_hash: hash(DEMO_PASSWORD),
        };
        db.create_user(&actor, new, now).await?;
    }
    ratings::build(db, &world, seed, now).await?;
    plan::build(db, now).await?;
    cadre::build(db, vault, &world, seed, now).await?;
    let ledger = ledger::build(db, &world, seed, now).await?;
    aid::build(
        db,
        &world,
        seed,
        &baiqian_domain::time::china_date(now),
        now,
    )
    .await?;
    wish::build(db, vault, &world, seed, now).await?;
    station::build(db, vault, seed, now).await?;
    post::build(db, now).await?;
    plan::village_plan(db, now).await?;
    let mut members = 0;
    let mut checkins = 0;
    if roster != Roster::Without {
        let people = roster_of(&world, seed).map_err(|e| StoreError::Invalid(e.msg()))?;
        members = people.len();
        let ids = db.bulk_insert_members(&actor, vault, &people, now).await?;
        if roster == Roster::MembersAndActivity {
            checkins = year_of_activity_days(db, &actor, &people, &ids, seed, now).await?;
        }
        // 龙山村's 15 members with cars form the 党员爱心车队.
        let fleet: Vec<(i64, String)> = people
            .iter()
            .zip(&ids)
            .filter(|(m, _)| m.home_org.as_str() == LONGSHAN)
            .take(15)
            .map(|(_, id)| (id.0, "有车党员".to_string()))
            .collect();
        let longshan = OrgCode::parse(LONGSHAN).map_err(|e| StoreError::Invalid(e.msg()))?;
        let team = db
            .create_team(
                &actor,
                &longshan,
                "党员爱心车队",
                "有车党员接送老人、病人就医和孩子上学",
                now,
            )
            .await?;
        db.add_team_members(&actor, team, &fleet, now).await?;
        // 许月刚's own account checks in by phone.
        if let Some(i) = people.iter().position(|m| m.name == "许月刚")
            && let Some(user) = db.user_by_login("xinmin.member").await?
        {
            db.link_user_member(&actor, user.id, ids[i].0, now).await?;
        }
    }
    db.analyze().await?;
    Ok(Built {
        orgs: world.len(),
        accounts: DEMO_ACCOUNTS.len(),
        members,
        checkins,
        ledger,
    })
}

/// Checks names the generator produced (a test helper, also used by `baiqian demo` as a guard).
pub fn check_world(world: &[BulkOrg]) -> Result<(), String> {
    for b in world {
        org::parse_name(&b.org.name).map_err(|e| format!("{}: {e}", b.org.name))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests;
