//! The demo world holds the article's facts.

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
    assert_eq!(hefu.org.code.as_str(), ledger::HEFU);
    assert_eq!(find(&w, "陈塔村").org.code.as_str(), CHENTA);
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

#[test]
fn the_demo_calendar_starts_at_its_today_or_after_its_last_change() {
    assert_eq!(calendar_start(None), DEMO_TODAY_MS);
    // Served again: on from the last change made on the demo's calendar.
    let later = DEMO_TODAY_MS + 3_600_000;
    assert_eq!(calendar_start(Some(DEMO_TODAY_MS)), DEMO_TODAY_MS + 1_000);
    assert_eq!(calendar_start(Some(later)), later + 1_000);
    // A change made on the real clock (a token issued from the command line in 2026), or one
    // before the demo's today: the calendar starts at its today again.
    assert_eq!(calendar_start(Some(1_796_000_000_000)), DEMO_TODAY_MS);
    assert_eq!(calendar_start(Some(DEMO_TODAY_MS - 1)), DEMO_TODAY_MS);
}
