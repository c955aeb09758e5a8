//! The demo's people and their year: the roster of every node and a year of monthly activity
//! days with realistic attendance (invented).

use super::*;

pub(super) const SURNAMES: &[&str] = &[
    "沈", "王", "张", "陈", "徐", "朱", "吴", "周", "钱", "杨", "施", "姚", "蔡", "潘", "费", "俞",
];

pub(super) const GIVEN: &[&str] = &[
    "建国", "永明", "国强", "志刚", "海燕", "丽华", "伟民", "春林", "卫东", "金根", "红英", "晓峰",
    "建华", "桂芳", "小龙", "雪琴",
];

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
pub(super) async fn year_of_activity_days(
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
            // The filed villages of 和孚镇 have the ageing membership their files are read for.
            let oldest = if crate::ledger::FILED_VILLAGES.contains(&b.org.code.as_str()) {
                1922
            } else {
                1940
            };
            let year = oldest + rng.below(56) as i64;
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
                // Registers from before 1990 give only the month (入党时间 1974年7月).
                joined: if joined_year < 1990 {
                    format!("{joined_year:04}-07")
                } else {
                    format!("{joined_year:04}-07-01")
                },
                // Those who joined in 2015 are still on probation on the demo's day.
                confirmed: (joined_year < 2015).then(|| {
                    if joined_year < 1990 {
                        format!("{:04}-07", joined_year + 1)
                    } else {
                        format!("{:04}-07-01", joined_year + 1)
                    }
                }),
                workplace: at_tianneng.then(|| "天能集团".to_string()),
                mobile,
                mobile_where: mobile.then(|| ["杭州", "上海", "苏州"][rng.below(3)].to_string()),
            });
        }
    }
    Ok(out)
}
