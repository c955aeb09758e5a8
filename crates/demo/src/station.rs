//! The demo's red-butler service stations (红管家服务驿站), after the article: 德清县 brought
//! Party service forward to where the 洋家乐 guesthouses cluster — ten stations in 莫干山,
//! 劳岭, 筏头 and the other guesthouse towns, Party volunteer teams for guiding, traffic and
//! mediation, and 27 services across tourism, public affairs, industry and social governance
//! for four kinds of client, given at the station, at the door, or both.
//!
//! Invented: where each station hangs in the tree (the towns' nodes), the names of all but the
//! article's teams, which services each station offers, every request and person, and the two
//! logins `moganshan.admin` (莫干山镇, keeper) and `moganshan.volunteer` (a member there).

use baiqian_domain::org::OrgCode;
use baiqian_store::station::{BulkRequest, NewService, NewStation, RequestStatus};
use baiqian_store::vault::Vault;
use baiqian_store::{Actor, Db, StoreError};

use crate::activity::{GIVEN, SURNAMES};
use crate::{DEMO_TODAY_MS, Rng};

/// 德清县.
pub const DEQING: &str = "330521";
/// 莫干山镇 (invented code: 德清县's sixth town).
pub const MOGANSHAN: &str = "330521106";
/// 筏头乡, 三合乡 (德清县's two 乡), 武康镇, 新市镇 (invented codes).
const FATOU: &str = "330521201";
const SANHE: &str = "330521202";
const WUKANG: &str = "330521101";
const XINSHI: &str = "330521103";
/// The village of `moganshan.volunteer` (莫干山镇's first).
pub const MOGANSHAN_VILLAGE: &str = "330521106201";

/// The catalogue: (name, domain, clients, mode). 8 + 7 + 6 + 6 = 27.
pub const SERVICES: &[(&str, &str, &[&str], &str)] = &[
    ("景点讲解引导", "tourism", &["tourist"], "both"),
    ("游客集散接驳", "tourism", &["tourist"], "station"),
    ("交通疏导", "tourism", &["tourist", "owner"], "station"),
    ("停车引导", "tourism", &["tourist"], "station"),
    ("旅游咨询", "tourism", &["tourist", "owner"], "station"),
    ("行李寄存", "tourism", &["tourist"], "station"),
    ("失物招领", "tourism", &["tourist"], "station"),
    ("游客应急救助", "tourism", &["tourist"], "both"),
    (
        "政策咨询代办",
        "public_affairs",
        &["villager", "member", "owner"],
        "both",
    ),
    ("证照代办", "public_affairs", &["villager", "owner"], "both"),
    (
        "垃圾分类指导",
        "public_affairs",
        &["villager", "owner"],
        "door",
    ),
    ("消防安全检查", "public_affairs", &["owner"], "door"),
    ("环境卫生整治", "public_affairs", &["villager"], "door"),
    ("食品安全指导", "public_affairs", &["owner"], "door"),
    (
        "水电报修协调",
        "public_affairs",
        &["villager", "owner"],
        "door",
    ),
    ("民宿证照办理指导", "industry", &["owner"], "both"),
    ("民宿经营培训", "industry", &["owner"], "station"),
    ("农产品销售对接", "industry", &["villager", "owner"], "both"),
    (
        "金融信贷咨询",
        "industry",
        &["villager", "owner"],
        "station",
    ),
    (
        "用工招聘对接",
        "industry",
        &["villager", "owner"],
        "station",
    ),
    ("网络营销指导", "industry", &["owner"], "both"),
    (
        "义务调解",
        "governance",
        &["villager", "tourist", "owner"],
        "both",
    ),
    ("邻里纠纷化解", "governance", &["villager"], "door"),
    ("治安巡逻", "governance", &["villager", "tourist"], "door"),
    (
        "法律咨询",
        "governance",
        &["villager", "member", "owner"],
        "station",
    ),
    ("外来人员登记服务", "governance", &["owner"], "both"),
    (
        "留守老人关爱",
        "governance",
        &["villager", "member"],
        "door",
    ),
];

/// The ten stations: (town, name, address).
pub const STATIONS: &[(&str, &str, &str)] = &[
    (MOGANSHAN, "劳岭红管家服务驿站", "莫干山镇劳岭村游客中心旁"),
    (MOGANSHAN, "后坞红管家服务驿站", "莫干山镇后坞村村委会"),
    (MOGANSHAN, "仙潭红管家服务驿站", "莫干山镇仙潭村民宿集聚区"),
    (MOGANSHAN, "燎原红管家服务驿站", "莫干山镇燎原村文化礼堂"),
    (MOGANSHAN, "南路红管家服务驿站", "莫干山镇南路村停车场"),
    (FATOU, "筏头红管家服务驿站", "筏头乡集镇便民服务中心"),
    (FATOU, "大造坞红管家服务驿站", "筏头乡大造坞村口"),
    (SANHE, "三合红管家服务驿站", "三合乡珠山村"),
    (WUKANG, "武康红管家服务驿站", "武康镇城北旅游集散点"),
    (XINSHI, "新市古镇红管家服务驿站", "新市镇古镇游客中心"),
];

/// The article's teams first.
const TEAMS: &str = "讲解引导队\n交通疏导队\n义务调解队";

const PLACES: &[&str] = &[
    "民宿门口",
    "村口停车场",
    "游客中心",
    "农家乐",
    "竹林步道入口",
    "村委会",
    "老街",
];

const MINUTE_MS: i64 = 60_000;

/// Opens the stations, fills the catalogue and takes requests in every state, through the
/// very functions the pages use. Returns (stations, services, requests).
pub async fn build(
    db: &Db,
    vault: &Vault,
    seed: u64,
    now: i64,
) -> Result<(usize, usize, usize), StoreError> {
    let mut rng = Rng(seed ^ 0x5354_4154);
    let cli = Actor::cli();
    let node = |code: &str| {
        let code = OrgCode::parse(code).map_err(|e| StoreError::Invalid(e.msg()))?;
        Ok::<_, StoreError>(code)
    };
    let deqing = db.org(&cli.scope, &node(DEQING)?).await?;
    let mut service_ids = Vec::new();
    for (name, domain, clients, mode) in SERVICES {
        service_ids.push(
            db.add_station_service(
                &cli,
                &deqing,
                &NewService {
                    name: (*name).into(),
                    domain: (*domain).into(),
                    clients: clients.iter().map(|c| (*c).to_string()).collect(),
                    mode: (*mode).into(),
                },
                now,
            )
            .await?,
        );
    }
    let mut stations = Vec::new();
    for (k, (town, name, address)) in STATIONS.iter().enumerate() {
        let town = db.org(&cli.scope, &node(town)?).await?;
        let id = db
            .create_station(
                &cli,
                &town,
                &NewStation {
                    name: (*name).into(),
                    address: (*address).into(),
                    teams: TEAMS.into(),
                },
                now,
            )
            .await?;
        // Every station offers the tourism services and the mediation; the rest by turns.
        let offered: Vec<i64> = service_ids
            .iter()
            .enumerate()
            .filter(|(i, _)| *i < 8 || *i == 21 || (i + k) % 3 == 0)
            .map(|(_, id)| *id)
            .collect();
        db.set_station_offers(&cli, id, &offered, true, now).await?;
        stations.push((id, offered, town.code.as_str() == MOGANSHAN));
    }
    // Requests over the last 30 days: at 莫干山镇's stations every state (its keeper and its
    // volunteer are demo logins); elsewhere waiting for their town to sign in and assign.
    let mut list = Vec::new();
    // `n` counts the requests at 莫干山镇's stations: every state by turns.
    let mut n = 0;
    for (k, (station, offered, moganshan)) in stations.iter().cycle().take(60).enumerate() {
        let received = DEMO_TODAY_MS - rng.range(2 * 24 * 60, 30 * 24 * 60) * MINUTE_MS;
        let assigned = received + rng.range(5, 90) * MINUTE_MS;
        let done = assigned + rng.range(30, 24 * 60) * MINUTE_MS;
        let mut r = BulkRequest {
            station_id: *station,
            service_id: offered[rng.below(offered.len())],
            requester: format!(
                "{}{}",
                SURNAMES[rng.below(SURNAMES.len())],
                GIVEN[rng.below(GIVEN.len())]
            ),
            phone: format!("139{:08}", rng.range(0, 99_999_999)),
            place: PLACES[rng.below(PLACES.len())].into(),
            wanted: if k % 2 == 0 {
                "尽快".into()
            } else {
                String::new()
            },
            note: String::new(),
            status: RequestStatus::Received,
            received_at: received,
            assigned_to: None,
            assigned_at: None,
            done_at: None,
            done_note: None,
            closed_reason: None,
            feedback_score: None,
            feedback_note: None,
        };
        if *moganshan {
            n += 1;
            match n % 10 {
                0 => {}
                9 => {
                    r.status = RequestStatus::Withdrawn;
                    r.done_at = Some(assigned);
                    r.closed_reason = Some("重复点单".into());
                }
                1 | 2 => {
                    r.status = RequestStatus::Assigned;
                    r.assigned_to = Some("moganshan.volunteer".into());
                    r.assigned_at = Some(assigned);
                }
                _ => {
                    r.status = RequestStatus::Done;
                    r.assigned_to = Some("moganshan.volunteer".into());
                    r.assigned_at = Some(assigned);
                    r.done_at = Some(done);
                    r.done_note = Some("已上门办好".into());
                    if n % 3 != 0 {
                        r.feedback_score = Some(rng.range(4, 5));
                        r.feedback_note = Some("志愿者很热情".into());
                    }
                }
            }
        }
        list.push(r);
    }
    let requests = db
        .bulk_load_service_requests(&cli, vault, &list, now)
        .await?
        .len();
    Ok((STATIONS.len(), SERVICES.len(), requests))
}
