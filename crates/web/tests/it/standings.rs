//! The campaign's figures remembered between changes (`store::plan::standing`): a change that
//! never enters the pass leaves them as they were, a village's rating, name or place has only
//! its township (or the two it moved between) counted again, a new township counts everything
//! again — and each answer equals a whole
//! pass counted afresh.

use axum::http::StatusCode;
use baiqian_domain::scope::Scope;
use baiqian_store::plan::StandingsReads;

use crate::both;
use crate::ledger::report;
use crate::rating::approve_xinmin_2016;
use crate::support::TestApp;
use crate::support::codes::{CHANGXING, CITY, HONGQIAO, XINMIN};

/// Reads the city's township standings and checks them against a whole pass; returns how the
/// read was answered (the counters' change).
async fn read_and_check(app: &TestApp) -> StandingsReads {
    let city = app.node(CITY).await;
    let campaign = app.db.campaign_for(&city).await.unwrap().expect("campaign");
    let before = app.db.standings_reads();
    let read = app
        .db
        .township_standings(&campaign, &city, 2016)
        .await
        .unwrap();
    let after = app.db.standings_reads();
    let afresh = app
        .db
        .township_standings_counted(&campaign, &city, 2016)
        .await
        .unwrap();
    assert_eq!(
        serde_json::to_value(&read).unwrap(),
        serde_json::to_value(&afresh).unwrap(),
        "the remembered answer is a whole pass's"
    );
    StandingsReads {
        remembered: after.remembered - before.remembered,
        townships_recounted: after.townships_recounted - before.townships_recounted,
        whole: after.whole - before.whole,
    }
}

async fn each_change_counts_again_what_it_reaches(app: TestApp) {
    read_and_check(&app).await;
    let nothing_changed = read_and_check(&app).await;
    assert_eq!(nothing_changed.remembered, 1, "{nothing_changed:?}");

    // A problem reported: the figures do not read problems.
    let village = app.login("xinmin.secretary").await;
    report(&app, &village, "2016-09-30", "").await;
    let problem = read_and_check(&app).await;
    assert_eq!(
        (problem.whole, problem.townships_recounted),
        (0, 0),
        "{problem:?}"
    );

    // 新民村's rating approved: its township, 煤山镇, is counted again, and no other.
    approve_xinmin_2016(&app).await;
    let rating = read_and_check(&app).await;
    assert_eq!(
        (rating.whole, rating.townships_recounted),
        (0, 1),
        "{rating:?}"
    );

    // A village renamed: the tree's shape stands, its township is counted again.
    let city = app.login("city.admin").await;
    let node = app
        .db
        .org(&Scope::everything(), &app.node(XINMIN).await.code)
        .await
        .unwrap();
    let res = app
        .post_form(
            &format!("/orgs/{XINMIN}/edit"),
            &[
                ("name", "新民新村"),
                ("party_org_kind", node.party_org_kind.as_str()),
                ("party_org_name", &node.party_org_name),
                (
                    "secretary_name",
                    node.secretary_name.as_deref().unwrap_or(""),
                ),
            ],
            &city,
        )
        .await;
    assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.text());
    let renamed = read_and_check(&app).await;
    assert_eq!(
        (renamed.whole, renamed.townships_recounted),
        (0, 1),
        "{renamed:?}"
    );

    // The village moved to 洪桥镇: the township it left and the one it joined are counted again.
    let res = app
        .post_form(
            &format!("/orgs/{XINMIN}/move"),
            &[("parent", HONGQIAO), ("reason", "区划调整")],
            &city,
        )
        .await;
    assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.text());
    let moved = read_and_check(&app).await;
    assert_eq!(
        (moved.whole, moved.townships_recounted),
        (0, 2),
        "{moved:?}"
    );

    // A new township under 长兴县: the list of townships changed, everything is counted again.
    let res = app
        .post_form(
            &format!("/orgs/{CHANGXING}/new"),
            &[
                ("level", "township"),
                ("code", "330522199"),
                ("name", "新设镇"),
                ("party_org_kind", "committee"),
            ],
            &city,
        )
        .await;
    assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.text());
    let created = read_and_check(&app).await;
    assert_eq!(created.whole, 1, "{created:?}");
}
both!(each_change_counts_again_what_it_reaches);
