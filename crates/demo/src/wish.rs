//! The demo's micro-wishes (党员微心愿), after the article: last year 缫舍村's member 张逸灵
//! wrote on the platform that 陈天相's son works far away and he wants company, and a few days
//! later a member of the village claimed the wish. Around it, wishes across the city in every
//! state, and two of 新民村's member login's own (one fulfilled and waiting for them to
//! confirm, one still open).
//!
//! Invented: every wish but the article's, every villager but 陈天相, every date, the address,
//! the article's claimer (`saoshe.volunteer`, a name in the record, not a login) and how the
//! wish was fulfilled.

use baiqian_domain::org::Level;
use baiqian_store::org::BulkOrg;
use baiqian_store::vault::Vault;
use baiqian_store::wish::{BulkWish, WishStatus};
use baiqian_store::{Actor, Db, StoreError};

use crate::activity::{GIVEN, SURNAMES};
use crate::{DEMO_TODAY_MS, Rng, XINMIN};

/// 缫舍村 (杭垓镇, 安吉县; invented code).
pub const SAOSHE: &str = "330523104201";
/// Wishes across the city besides the article's and 新民村's.
pub const CITY_WISHES: usize = 240;

const DAY_MS: i64 = 86_400_000;

/// What members write down for villagers: small things, within reach.
const WISHES: &[(&str, &str)] = &[
    ("帮忙修补漏雨的屋顶", "梅雨季前屋顶漏雨，老人行动不便"),
    ("想要一台收音机", "老人眼睛不好，想听戏和新闻"),
    ("希望有人辅导孙子功课", "孩子父母在外打工，爷爷奶奶辅导不了"),
    ("陪同去县医院复查", "老人腿脚不便，子女不在身边"),
    ("帮忙代购降压药", "每月要去镇上买药，路远"),
    ("想学用智能手机和子女视频", "子女在外地，想常看看他们"),
    ("需要一副老花镜", "看不清药品说明"),
    ("帮忙收割晚稻", "家中劳力不足"),
    ("想要一张书桌", "孩子在饭桌上写作业"),
    ("帮忙换一个热水器", "冬天洗澡不方便"),
    ("希望有人陪着说说话", "独居老人，子女常年在外"),
    ("帮忙联系茶叶销路", "今年春茶积压"),
];

fn someone(rng: &mut Rng) -> String {
    format!(
        "{}{}",
        SURNAMES[rng.below(SURNAMES.len())],
        GIVEN[rng.below(GIVEN.len())]
    )
}

/// A wish at `village` posted `days_ago`, taken as far as `status`.
fn wish(
    rng: &mut Rng,
    village: &str,
    status: WishStatus,
    days_ago: i64,
    poster: String,
) -> BulkWish {
    let (title, detail) = WISHES[rng.below(WISHES.len())];
    let posted_at = DEMO_TODAY_MS - days_ago * DAY_MS;
    let claimed_at = posted_at + rng.range(1, 5) * DAY_MS;
    let fulfilled_at = claimed_at + rng.range(2, 10) * DAY_MS;
    let held = !matches!(status, WishStatus::Posted | WishStatus::Withdrawn);
    let done = matches!(status, WishStatus::Fulfilled | WishStatus::Confirmed);
    BulkWish {
        org_code: village.to_string(),
        title: title.into(),
        detail: detail.into(),
        villager_name: someone(rng),
        villager_address: format!("{}组", rng.range(1, 12)),
        phone: None,
        status,
        posted_by: poster,
        posted_at,
        claimed_by: held.then(|| format!("member.{}", rng.range(1000, 9999))),
        claimed_at: held.then_some(claimed_at),
        fulfilled_at: done.then_some(fulfilled_at),
        fulfil_note: done.then(|| "已上门办好".to_string()),
        confirmed_at: (status == WishStatus::Confirmed).then_some(fulfilled_at + DAY_MS),
    }
}

/// Writes the demo's wishes in one bulk load. Returns how many.
pub async fn build(
    db: &Db,
    vault: &Vault,
    world: &[BulkOrg],
    seed: u64,
    now: i64,
) -> Result<usize, StoreError> {
    let mut rng = Rng(seed ^ 0x5749_5348);
    let villages: Vec<&str> = world
        .iter()
        .filter(|b| b.org.level == Level::Village)
        .map(|b| b.org.code.as_str())
        .collect();
    if villages.is_empty() || !villages.contains(&SAOSHE) {
        return Err(StoreError::NotFound);
    }
    // 去年: posted in November 2015, claimed four days later; the company went on and 张逸灵
    // confirmed it in the new year.
    let day = |y, m, d| {
        chrono::NaiveDate::from_ymd_opt(y, m, d)
            .and_then(|d| d.and_hms_opt(2, 0, 0))
            .map_or(0, |t| t.and_utc().timestamp_millis())
    };
    let mut list = vec![BulkWish {
        org_code: SAOSHE.into(),
        title: "希望有人多陪伴".into(),
        detail: "陈天相老人的儿子常年在外，希望有人多陪伴。".into(),
        villager_name: "陈天相".into(),
        villager_address: "缫舍村".into(),
        phone: None,
        status: WishStatus::Confirmed,
        posted_by: "saoshe.member".into(),
        posted_at: day(2015, 11, 20),
        claimed_by: Some("saoshe.volunteer".into()),
        claimed_at: Some(day(2015, 11, 24)),
        fulfilled_at: Some(day(2015, 12, 20)),
        fulfil_note: Some("每周上门陪老人聊天，帮他和儿子视频通话".into()),
        confirmed_at: Some(day(2016, 1, 5)),
    }];
    // 新民村's member login: one fulfilled and waiting for its confirmation, one open.
    let mut fulfilled = wish(
        &mut rng,
        XINMIN,
        WishStatus::Fulfilled,
        20,
        "xinmin.member".into(),
    );
    fulfilled.title = "帮忙修补漏雨的屋顶".into();
    fulfilled.detail = "梅雨季前屋顶漏雨，老人行动不便".into();
    list.push(fulfilled);
    let mut open = wish(
        &mut rng,
        XINMIN,
        WishStatus::Posted,
        3,
        "xinmin.member".into(),
    );
    open.title = "想学用智能手机和子女视频".into();
    open.detail = "子女在外地，想常看看他们".into();
    list.push(open);
    for k in 0..CITY_WISHES {
        let village = villages[rng.below(villages.len())];
        // Every state, the settled ones older: 10% open (half for over a week), 15% in hand
        // (a third stalled), 15% fulfilled, 55% confirmed, 5% withdrawn.
        let (status, days_ago) = match k % 20 {
            0 => (WishStatus::Posted, rng.range(0, 6)),
            1 => (WishStatus::Posted, rng.range(8, 30)),
            2..=4 => (WishStatus::Claimed, rng.range(6, 40)),
            5..=7 => (WishStatus::Fulfilled, rng.range(15, 60)),
            8 => (WishStatus::Withdrawn, rng.range(10, 200)),
            _ => (WishStatus::Confirmed, rng.range(30, 300)),
        };
        let poster = format!("member.{}", rng.range(1000, 9999));
        list.push(wish(&mut rng, village, status, days_ago, poster));
    }
    db.bulk_load_wishes(&Actor::cli(), vault, &list, now).await
}
