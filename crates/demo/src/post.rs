//! The demo's public-welfare supervision post (党建+公益岗), after the article: 长兴县林城镇
//! built a team of Party-member supervisors that greatly improved the 脏乱差 of the small
//! towns and bridges along road 318. Here: the town's post along 318, two supervisors on a
//! rota for the last month and today, a patrol logged on each day of the month, the issues
//! they found, three of them filed as problems in their villages' situation files.
//!
//! Invented: the post's name and route, the supervisors (logins `lincheng.supervisor`,
//! `lincheng.patrol`, members of 林城镇's first village) and the keeper `lincheng.admin`, every
//! patrol and issue.

use baiqian_domain::org::OrgCode;
use baiqian_domain::time::china_date;
use baiqian_store::post::{IssueFiling, NewPatrol, NewPost};
use baiqian_store::{Actor, Db, StoreError};

use crate::DEMO_TODAY_MS;

/// 林城镇 (长兴县; invented code: the county's fourth town).
pub const LINCHENG: &str = "330522104";
/// 林城镇's first village, where the supervisors are members.
pub const LINCHENG_VILLAGE: &str = "330522104201";
/// The post's name.
pub const POST_NAME: &str = "318国道沿线党员监督岗";

const DAY_MS: i64 = 86_400_000;

/// (day of the month before, village index, spot, what).
const ISSUES: &[(i64, usize, &str, &str)] = &[
    (3, 0, "318国道桥头", "桥头堆放建筑垃圾"),
    (9, 1, "集镇路口", "占道经营，流动摊贩堵住人行道"),
    (15, 0, "公交站台", "站台广告乱张贴"),
    (22, 2, "河埠头", "河面漂浮生活垃圾"),
    (27, 1, "318国道辅道", "车辆乱停放"),
];

async fn actor(db: &Db, login: &str) -> Result<Actor, StoreError> {
    db.user_by_login(login)
        .await?
        .ok_or(StoreError::NotFound)?
        .actor()
}

/// Opens the post, fills a month of rota and patrols, reports and files issues, through the
/// very functions the pages use (every audit row dated at the demo's today). Returns the
/// patrols logged.
pub async fn build(db: &Db, now: i64) -> Result<usize, StoreError> {
    let keeper = actor(db, "lincheng.admin").await?;
    let town = db
        .org(
            &keeper.scope,
            &OrgCode::parse(LINCHENG).map_err(|e| StoreError::Invalid(e.msg()))?,
        )
        .await?;
    let post = db
        .create_post(
            &keeper,
            &town,
            &NewPost {
                name: POST_NAME.into(),
                duty: "318国道沿线环境卫生、占道经营、乱停乱放".into(),
                route: "318国道林城段及沿线环桥小集镇".into(),
            },
            now,
        )
        .await?;
    let supervisors = [
        actor(db, "lincheng.supervisor").await?,
        actor(db, "lincheng.patrol").await?,
    ];
    let villages: Vec<String> = (1..=3)
        .map(|k| format!("{}{}", LINCHENG, 200 + k))
        .collect();
    let mut patrols = Vec::new();
    for back in (0..=29).rev() {
        let date = china_date(DEMO_TODAY_MS - back * DAY_MS);
        let s = &supervisors[(back % 2) as usize];
        db.set_post_duty(&keeper, post, &date, &s.login, now)
            .await?;
        // Today's patrol is still to be walked.
        if back == 0 {
            continue;
        }
        let id = db
            .log_patrol(
                s,
                post,
                &NewPatrol {
                    date: date.clone(),
                    started: "07:30".into(),
                    ended: "09:00".into(),
                    route: "318国道林城段及沿线环桥小集镇".into(),
                    note: "沿线整洁".into(),
                },
                now,
            )
            .await?;
        patrols.push((30 - back, id, s));
    }
    // Tomorrow's duty too, so the rota looks ahead.
    let tomorrow = china_date(DEMO_TODAY_MS + DAY_MS);
    db.set_post_duty(&keeper, post, &tomorrow, &supervisors[1].login, now)
        .await?;
    for (k, (day, village, spot, what)) in ISSUES.iter().enumerate() {
        let Some((_, patrol, s)) = patrols.iter().find(|(d, _, _)| d == day) else {
            continue;
        };
        let issue = db
            .report_patrol_issue(s, *patrol, &villages[*village], spot, what, now)
            .await?;
        // The first three are in their villages' files; the last two wait for the town.
        if k < 3 {
            let deadline = china_date(DEMO_TODAY_MS + (7 + k as i64) * DAY_MS);
            db.file_patrol_issue(
                &keeper,
                issue,
                &IssueFiling {
                    owner_name: "村党组织书记".into(),
                    owner_login: String::new(),
                    measures: "村里组织党员志愿者清理，建立长效保洁机制".into(),
                    deadline,
                },
                now,
            )
            .await?;
        }
    }
    Ok(patrols.len())
}
