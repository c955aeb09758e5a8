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

pub mod ratings;

use baiqian_domain::org::{self, Level, OrgCode, PartyOrgKind};
use baiqian_domain::role::Role;
use baiqian_store::member::NewMember;
use baiqian_store::org::{BulkOrg, NewOrg};
use baiqian_store::user::NewUser;
use baiqian_store::vault::Vault;
use baiqian_store::{Actor, Db, StoreError};

/// The one password of every demo account, shown on the login page in demo mode.
pub const DEMO_PASSWORD: &str = "Baiqian@2016";

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
const SURNAMES: &[&str] = &[
    "沈", "王", "张", "陈", "徐", "朱", "吴", "周", "钱", "杨", "施", "姚", "蔡", "潘", "费", "俞",
];
const GIVEN: &[&str] = &[
    "建国", "永明", "国强", "志刚", "海燕", "丽华", "伟民", "春林", "卫东", "金根", "红英", "晓峰",
    "建华", "桂芳", "小龙", "雪琴",
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
    })
}

/// The months of the demo's year of activity days: March 2015 to February 2016.
pub const ACTIVITY_MONTHS: [(i32, u32); 12] = [
    (2015, 3),
    (2015, 4),
    (2015, 5),
    (2015, 6),
    (2015, 7),
    (2015, 8),
    (2015, 9),
    (2015, 10),
    (2015, 11),
    (2015, 12),
    (2016, 1),
    (2016, 2),
];

/// 天能集团's Party committee (invented code), where 新民村's workers attend.
pub const TIANNENG: &str = "330522109-001";

/// A year of monthly activity days (the 15th, 09:00–11:00) at every organization with members,
/// and realistic attendance (invented): most members most months, mobile members seldom;
/// 新民村's members who work at 天能集团 attend there. Returns the number of check-ins.
async fn year_of_activity_days(
    db: &Db,
    actor: &Actor,
    people: &[NewMember],
    ids: &[(i64, String)],
    seed: u64,
    now: i64,
) -> Result<usize, DemoError> {
    use baiqian_store::checkin::{BulkCheckin, NewEvent};
    let mut hosts: Vec<OrgCode> = people.iter().map(|m| m.home_org.clone()).collect();
    hosts.sort();
    hosts.dedup();
    let mut events = Vec::new();
    let mut starts = Vec::new();
    for &(y, m) in &ACTIVITY_MONTHS {
        let Some(start) = baiqian_domain::time::china_ms(&format!("{y:04}-{m:02}-15"), "09:00")
        else {
            continue;
        };
        starts.push(start);
        for h in &hosts {
            events.push(NewEvent {
                org: h.clone(),
                day: format!("{y:04}-{m:02}-15"),
                starts_at: start,
                ends_at: start + 2 * 3_600_000,
                topic: "党员固定活动日".into(),
                place: "党员活动室".into(),
            });
        }
    }
    let event_ids = db.bulk_load_events(actor, &events, "demo", now).await?;
    let index = |month: usize, host: &OrgCode| {
        hosts
            .binary_search(host)
            .ok()
            .map(|h| event_ids[month * hosts.len() + h])
    };
    let tianneng = OrgCode::parse(TIANNENG).map_err(|e| StoreError::Invalid(e.msg()))?;
    let mut rng = Rng(seed ^ 0x0A77_E0DA);
    let mut rows = Vec::new();
    for (month, start) in starts.iter().enumerate() {
        for (m, (id, _)) in people.iter().zip(ids) {
            let chance = if m.mobile { 35 } else { 88 };
            if rng.below(100) >= chance {
                continue;
            }
            let host = if m.workplace.as_deref() == Some("天能集团") {
                &tianneng
            } else {
                &m.home_org
            };
            if let Some(event_id) = index(month, host) {
                rows.push(BulkCheckin {
                    event_id,
                    member_id: *id,
                    at: start + rng.below(60) as i64 * 60_000,
                });
            }
        }
    }
    db.bulk_load_checkins(&rows, now).await?;
    Ok(rows.len())
}

/// The roster: as many members at each node as the world gives it directly (a township's own
/// are its cadres). Invented people, except 新民村's 许月刚 and 佘胜 (the article's), who work at
/// 天能集团, as do a fifth of 新民村's members.
pub fn roster_of(
    world: &[BulkOrg],
    seed: u64,
) -> Result<Vec<NewMember>, baiqian_domain::member::MemberError> {
    use baiqian_domain::member::{Gender, IdNumber, Phone, with_check_digit};
    let mut rng = Rng(seed ^ 0x005E_ED0F_0A11);
    let mut out = Vec::new();
    let mut seqs: std::collections::HashMap<String, u32> = std::collections::HashMap::new();
    for b in world {
        let children: i64 = world
            .iter()
            .filter(|c| c.org.parent == b.org.code && c.org.code != b.org.code)
            .map(|c| c.org.member_count)
            .sum();
        let direct = if b.org.level == Level::City || b.org.level == Level::County {
            0
        } else {
            b.org.member_count - children
        };
        for k in 0..direct.max(0) {
            let named = match (b.org.code.as_str(), k) {
                (XINMIN, 0) => Some(("许月刚", Gender::M)),
                (XINMIN, 1) => Some(("佘胜", Gender::M)),
                _ => None,
            };
            let gender = match named {
                Some((_, g)) => g,
                None if rng.below(100) < 28 => Gender::F,
                None => Gender::M,
            };
            let name = match named {
                Some((n, _)) => n.to_string(),
                None => format!(
                    "{}{}",
                    SURNAMES[rng.below(SURNAMES.len())],
                    GIVEN[rng.below(GIVEN.len())]
                ),
            };
            let year = 1940 + rng.below(56) as i64;
            let (month, day) = (1 + rng.below(12), 1 + rng.below(28));
            let birth = format!("{year:04}{month:02}{day:02}");
            let region = &b.org.code.as_str()[..6];
            let key = format!("{region}{birth}");
            let seq = seqs.entry(key.clone()).or_insert(0);
            // Odd for men, even for women (GB 11643).
            let n = *seq * 2 + if gender == Gender::M { 1 } else { 2 };
            *seq += 1;
            let Some(id) = with_check_digit(&format!("{key}{:03}", n % 1000)) else {
                continue;
            };
            let joined_year = (year + 20 + rng.below(25) as i64).min(2015);
            let at_tianneng =
                named.is_some() || (b.org.code.as_str() == XINMIN && rng.below(5) == 0);
            let mobile = rng.below(100) < 3;
            out.push(NewMember {
                name,
                gender,
                birth_date: format!("{year:04}-{month:02}-{day:02}"),
                id_number: IdNumber::parse(&id)?,
                phone: Some(Phone::parse(&format!(
                    "13{:09}",
                    rng.next() % 1_000_000_000
                ))?),
                home_org: b.org.code.clone(),
                joined: format!("{joined_year:04}-07-01"),
                workplace: at_tianneng.then(|| "天能集团".to_string()),
                mobile,
                mobile_where: mobile.then(|| ["杭州", "上海", "苏州"][rng.below(3)].to_string()),
            });
        }
    }
    Ok(out)
}

/// Checks names the generator produced (a test helper, also used by `baiqian demo` as a guard).
pub fn check_world(world: &[BulkOrg]) -> Result<(), String> {
    for b in world {
        org::parse_name(&b.org.name).map_err(|e| format!("{}: {e}", b.org.name))?;
    }
    Ok(())
}

/// A generated province for benchmarks: one root (代码 330000) over `villages / 200` counties of
/// 10 townships of 20 villages each. Names and codes are invented; the shape is the point.
pub fn province(villages: usize) -> Result<Vec<BulkOrg>, org::OrgError> {
    let counties = villages.div_ceil(200).max(1);
    let mut out = Vec::with_capacity(villages + counties * 11 + 1);
    let root_path = "/330000/".to_string();
    out.push(bulk(
        "330000",
        "模拟省",
        Level::City,
        "330000",
        &root_path,
        0,
        None,
        true,
    )?);
    let mut left = villages;
    for c in 0..counties {
        let c_code = format!("33{:04}", 100 + c);
        let c_path = format!("{root_path}{c_code}/");
        out.push(bulk(
            &c_code,
            &format!("模拟{}县", c + 1),
            Level::County,
            "330000",
            &c_path,
            0,
            None,
            true,
        )?);
        for t in 0..10 {
            let t_code = format!("{c_code}{:03}", 101 + t);
            let t_path = format!("{c_path}{t_code}/");
            out.push(bulk(
                &t_code,
                &format!("模拟{}县{}镇", c + 1, t + 1),
                Level::Township,
                &c_code,
                &t_path,
                0,
                None,
                true,
            )?);
            for v in 0..20 {
                if left == 0 {
                    break;
                }
                left -= 1;
                let v_code = format!("{t_code}{:03}", 201 + v);
                out.push(bulk(
                    &v_code,
                    &format!("模拟{}县{}镇{}村", c + 1, t + 1, v + 1),
                    Level::Village,
                    &t_code,
                    &format!("{t_path}{v_code}/"),
                    0,
                    None,
                    true,
                )?);
            }
        }
    }
    Ok(out)
}

/// A generated roster for the villages of `villages` (a slice of `province`): `per_village`
/// members each, with valid ID numbers (unique within one province), no phones.
pub fn province_roster(
    villages: &[BulkOrg],
    per_village: usize,
) -> Result<Vec<NewMember>, baiqian_domain::member::MemberError> {
    use baiqian_domain::member::{Gender, IdNumber, with_check_digit};
    let mut out = Vec::with_capacity(villages.len() * per_village);
    for b in villages.iter().filter(|b| b.org.level == Level::Village) {
        // The village's last three digits and the member's index make the birth date and
        // sequence unique within the county (the ID's region).
        let v: usize = b.org.code.as_str()[9..].parse().unwrap_or(0);
        let t: usize = b.org.code.as_str()[6..9].parse().unwrap_or(0);
        for i in 0..per_village {
            let n = ((t % 100) * 20 + v % 20) * per_village + i;
            let year = 1940 + (n / 336) % 56;
            let month = 1 + (n / 28) % 12;
            let day = 1 + n % 28;
            let seq = (n / (336 * 56)) * 2 + 1;
            let region = &b.org.code.as_str()[..6];
            let Some(id) = with_check_digit(&format!(
                "{region}{year:04}{month:02}{day:02}{:03}",
                seq % 1000
            )) else {
                continue;
            };
            out.push(NewMember {
                name: format!(
                    "{}{}",
                    SURNAMES[n % SURNAMES.len()],
                    GIVEN[(n / 16) % GIVEN.len()]
                ),
                gender: Gender::M,
                birth_date: format!("{year:04}-{month:02}-{day:02}"),
                id_number: IdNumber::parse(&id)?,
                phone: None,
                home_org: b.org.code.clone(),
                joined: format!("{:04}-07-01", (year + 25).min(2015)),
                workplace: None,
                mobile: false,
                mobile_where: None,
            });
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn world(seed: u64) -> Vec<BulkOrg> {
        match huzhou(seed) {
            Ok(w) => w,
            Err(e) => panic!("{e}"),
        }
    }

    fn count(world: &[BulkOrg], level: Level, under: &str) -> usize {
        world
            .iter()
            .filter(|b| b.org.level == level && b.path.contains(&format!("/{under}/")))
            .count()
    }

    fn find<'a>(world: &'a [BulkOrg], name: &str) -> &'a BulkOrg {
        match world.iter().find(|b| b.org.name == name) {
            Some(b) => b,
            None => panic!("{name} missing"),
        }
    }

    #[test]
    fn the_articles_figures() {
        let w = world(DEFAULT_SEED);
        assert_eq!(count(&w, Level::County, "330500"), 5);
        assert_eq!(count(&w, Level::Township, "330500"), 68);
        assert_eq!(count(&w, Level::Village, "330500"), 985);
        assert_eq!(count(&w, Level::Village, "330522"), 248);
        let daixi = find(&w, "埭溪镇");
        assert_eq!(count(&w, Level::Village, daixi.org.code.as_str()), 20);
        let hefu = find(&w, "和孚镇");
        assert_eq!(count(&w, Level::Village, hefu.org.code.as_str()), 22);
        assert_eq!(find(&w, "八里店镇").org.code.as_str(), "330502101");
        assert_eq!(find(&w, "龙山村").org.member_count, 36);
        assert_eq!(find(&w, "龙山村").org.code.as_str(), LONGSHAN);
        assert_eq!(find(&w, "新民村").org.code.as_str(), XINMIN);
        assert_eq!(find(&w, "煤山镇").org.code.as_str(), MEISHAN);
        assert_eq!(find(&w, "妙西镇").org.code.as_str(), MIAOXI);
        assert_eq!(find(&w, "天能集团").org.parent.as_str(), MEISHAN);
        assert!(check_world(&w).is_ok());
    }

    #[test]
    fn named_villages_sit_under_their_townships() {
        let w = world(DEFAULT_SEED);
        for &(town, village, _, _) in NAMED_VILLAGES {
            let v = find(&w, village);
            let parent = w
                .iter()
                .find(|b| b.org.code == v.org.parent)
                .map(|b| b.org.name.clone());
            assert!(
                parent.is_some_and(|p| p.starts_with(town)),
                "{village} not under {town}"
            );
        }
    }

    #[test]
    fn deterministic_and_codes_unique() {
        let a = world(7);
        let b = world(7);
        let c = world(8);
        let names = |w: &[BulkOrg]| {
            w.iter()
                .map(|x| format!("{}{}{}", x.org.code, x.org.name, x.org.member_count))
                .collect::<Vec<_>>()
        };
        assert_eq!(names(&a), names(&b));
        assert_ne!(names(&a), names(&c));
        let mut codes: Vec<_> = a.iter().map(|x| x.org.code.as_str().to_string()).collect();
        codes.sort();
        codes.dedup();
        assert_eq!(codes.len(), a.len());
        for x in &a {
            if x.org.level != Level::City {
                let parent = a.iter().find(|p| p.org.code == x.org.parent);
                let Some(p) = parent else {
                    panic!("{} has no parent", x.org.code)
                };
                assert!(
                    x.org
                        .code
                        .check_fits(x.org.level, &p.org.code, p.org.level)
                        .is_ok(),
                    "{}",
                    x.org.code
                );
                assert_eq!(x.path, format!("{}{}/", p.path, x.org.code));
            }
        }
    }

    #[test]
    fn the_roster_matches_every_count() {
        let w = world(DEFAULT_SEED);
        let roster = match roster_of(&w, DEFAULT_SEED) {
            Ok(r) => r,
            Err(e) => panic!("{e}"),
        };
        let city = w
            .iter()
            .find(|b| b.org.level == Level::City)
            .map(|b| b.org.member_count);
        assert_eq!(Some(roster.len() as i64), city);
        assert_eq!(
            roster
                .iter()
                .filter(|m| m.home_org.as_str() == LONGSHAN)
                .count(),
            36
        );
        let mut ids: Vec<&str> = roster.iter().map(|m| m.id_number.as_str()).collect();
        ids.sort_unstable();
        ids.dedup();
        assert_eq!(ids.len(), roster.len(), "ID numbers are unique");
        assert!(
            roster
                .iter()
                .any(|m| m.name == "许月刚" && m.workplace.as_deref() == Some("天能集团"))
        );
    }

    #[test]
    fn demo_accounts_fit_their_nodes() {
        let w = world(DEFAULT_SEED);
        for a in DEMO_ACCOUNTS {
            let node = w.iter().find(|b| b.org.code.as_str() == a.org_code);
            let Some(node) = node else {
                panic!("{} has no node", a.login)
            };
            assert!(a.role.fits_level(node.org.level), "{}", a.login);
            assert!(baiqian_domain::password::parse_login(a.login).is_ok());
        }
    }
}
