//! Several app nodes on one database (issue 34): two nodes here are two `AppState`s with their
//! own memory, routers and names over the same database and shared files directory, as a
//! province runs them behind a balancer. What one node does, the other sees; what one node runs,
//! the other's start leaves alone.

use axum::http::StatusCode;
use baiqian_store::job::{JobKind, STALE_AFTER_MS};
use baiqian_store::vault::Vault;
use baiqian_web::clock::Clock;

use crate::both;
use crate::rating_scope::PNG;
use crate::support::codes::*;
use crate::support::{TestApp, between};

fn cli_actor(user: &baiqian_store::user::User) -> baiqian_store::Actor {
    baiqian_store::Actor {
        user_id: Some(user.id),
        login: user.login.clone(),
        role: user.role,
        scope: baiqian_domain::scope::Scope::everything(),
    }
}

async fn a_job_survives_another_nodes_start_and_its_file_downloads_through_either(app: TestApp) {
    let a = &app;
    let town = a.token("meishan.admin").await;
    // A roster export run on node A, its file in the shared directory.
    let res = a
        .post_json(
            &format!("/api/v1/orgs/{MEISHAN}/members/export-jobs"),
            &serde_json::json!({}),
            &town,
        )
        .await;
    assert_eq!(res.status, StatusCode::ACCEPTED, "{}", res.text());
    let job = res.json()["id"].as_i64().unwrap();
    let done = a.finished_job(job, &town).await;
    assert_eq!(done["status"], "done", "{done}");
    let url = done["download"].as_str().expect("a file").to_string();
    let from_a = a.get(&url, &town).await;
    assert_eq!(from_a.status, StatusCode::OK);

    // A job still running on A (its row and its half-written file), when B starts and restarts.
    let user = a.db.user_by_login("meishan.admin").await.unwrap().unwrap();
    let t = a.clock.now_ms();
    let running =
        a.db.start_job(
            &cli_actor(&user),
            JobKind::MemberExport,
            MEISHAN,
            a.state.jobs.node(),
            t,
        )
        .await
        .unwrap();
    let part = a.state.jobs.part_path(running);
    std::fs::write(&part, b"half").unwrap();
    let b = a.another_node("node-b");
    assert_ne!(a.state.jobs.node(), b.state.jobs.node());
    assert_eq!(b.state.jobs.recover(&b.db, t + 1_000).await.unwrap(), 0);
    let b = a.another_node("node-b");
    assert_eq!(
        b.state.jobs.recover(&b.db, t + 2_000).await.unwrap(),
        0,
        "B's restart leaves A's job alone"
    );
    let view = b
        .get(&format!("/api/v1/jobs/{running}"), &town)
        .await
        .json();
    assert_eq!(view["status"], "running", "{view}");
    assert!(part.exists(), "A's half-written file is still there");

    // The finished file downloads through B as through A: the same bytes.
    let from_b = b.get(&url, &town).await;
    assert_eq!(from_b.status, StatusCode::OK);
    assert_eq!(from_b.body, from_a.body);

    // A beats its heart; B's sweeps leave the job while the beat is fresh, and interrupt it
    // once A has stopped beating for longer than STALE_AFTER_MS.
    a.state.jobs.beat(&a.db, t + 30_000).await.unwrap();
    assert!(
        b.state
            .jobs
            .beat(&b.db, t + 30_000 + STALE_AFTER_MS - 1)
            .await
            .unwrap()
            .is_empty(),
        "a fresh heartbeat keeps the job"
    );
    let swept = b
        .state
        .jobs
        .beat(&b.db, t + 30_000 + STALE_AFTER_MS + 1)
        .await
        .unwrap();
    assert_eq!(swept, vec![running], "the stopped node's job only");
    let view = b
        .get(&format!("/api/v1/jobs/{running}"), &town)
        .await
        .json();
    assert_eq!(view["status"], "interrupted", "{view}");
    assert!(!part.exists(), "its half-written file removed");
    let view = b.get(&format!("/api/v1/jobs/{job}"), &town).await.json();
    assert_eq!(view["status"], "done", "a finished job stays done");

    // A restarted node marks its own old jobs interrupted at once, whatever their heartbeat.
    let t = t + 200_000;
    let mine =
        a.db.start_job(
            &cli_actor(&user),
            JobKind::MemberExport,
            MEISHAN,
            "node-b",
            t,
        )
        .await
        .unwrap();
    let b = a.another_node("node-b");
    assert_eq!(b.state.jobs.recover(&b.db, t + 1).await.unwrap(), 1);
    let view = a.get(&format!("/api/v1/jobs/{mine}"), &town).await.json();
    assert_eq!(view["status"], "interrupted", "{view}");
}
both!(a_job_survives_another_nodes_start_and_its_file_downloads_through_either);

async fn evidence_and_sessions_cross_from_one_node_to_the_other(app: TestApp) {
    let b = app.another_node("node-b");
    // Signed in through A, the session serves on B.
    let village = app.login("xinmin.secretary").await;
    let id = crate::ledger::report(&app, &village, "2016-06-30", "").await;
    let res = b
        .post_multipart(
            &format!("/problems/{id}/evidence"),
            &[],
            &[("file", "屋顶.png", PNG)],
            &village,
        )
        .await;
    assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.text());
    // Uploaded through B, listed and downloaded through A: the same bytes.
    let page = app.get(&format!("/problems/{id}"), &village).await.text();
    let link = between(&page, "href=\"/problem-evidence/", "\"").expect("an evidence link");
    let file = app
        .get(&format!("/problem-evidence/{link}"), &village)
        .await;
    assert_eq!(file.status, StatusCode::OK);
    assert_eq!(file.body, PNG);
}
both!(evidence_and_sessions_cross_from_one_node_to_the_other);

async fn a_login_throttle_counted_on_one_node_holds_on_the_other(app: TestApp) {
    let b = app.another_node("node-b");
    let (here, elsewhere) = (Some("10.0.0.1"), Some("10.0.0.2"));
    // Five failures spread over the two nodes lock the account for this address on both.
    for (i, node) in [&app, &b, &app, &b, &app].into_iter().enumerate() {
        let res = node
            .try_login_from("meishan.admin", "Wrong-pass1", here)
            .await
            .unwrap_err();
        assert_eq!(res.status, StatusCode::UNAUTHORIZED, "try {i}");
    }
    for node in [&app, &b] {
        assert!(
            node.try_login_from("meishan.admin", baiqian_demo::DEMO_PASSWORD, here)
                .await
                .is_err(),
            "locked on {}",
            node.state.jobs.node()
        );
    }
    assert!(
        b.try_login_from("meishan.admin", baiqian_demo::DEMO_PASSWORD, elsewhere)
            .await
            .is_ok(),
        "the owner elsewhere is not locked out"
    );
    // An address failing on many accounts is stopped at every node.
    let guard = &b.state.login_guard;
    for i in 0..29 {
        guard
            .failed(&format!("user{i}"), "10.0.0.9", i64::from(i))
            .await
            .unwrap();
    }
    assert_eq!(guard.address_blocked("10.0.0.9", 29).await.unwrap(), None);
    app.state
        .login_guard
        .failed("user29", "10.0.0.9", 29)
        .await
        .unwrap();
    assert_eq!(
        guard.address_blocked("10.0.0.9", 30).await.unwrap(),
        Some(900),
        "fifteen minutes"
    );
    assert_eq!(guard.address_blocked("10.0.0.8", 30).await.unwrap(), None);
    // Expired counts are forgotten; live ones are kept.
    let window = 15 * 60_000;
    let forgotten = app.db.forget_login_strikes(30, window).await.unwrap();
    assert_eq!(forgotten, 0, "all still count");
    let forgotten = app
        .db
        .forget_login_strikes(30 + window, window)
        .await
        .unwrap();
    assert!(forgotten >= 30, "{forgotten}");
    assert_eq!(
        guard
            .address_blocked("10.0.0.9", 31 + window)
            .await
            .unwrap(),
        None
    );
}
both!(a_login_throttle_counted_on_one_node_holds_on_the_other);

async fn a_pair_lock_holds_for_its_address_and_ends_with_its_window(app: TestApp) {
    let g = &app.state.login_guard;
    for i in 0..4 {
        assert!(!g.failed("a", "10.0.0.1", i).await.unwrap(), "failure {i}");
    }
    assert!(
        g.failed("a", "10.0.0.1", 5).await.unwrap(),
        "the fifth locks"
    );
    assert!(g.pair_blocked("a", "10.0.0.1", 6).await.unwrap());
    assert!(
        !g.pair_blocked("a", "10.0.0.2", 6).await.unwrap(),
        "not from elsewhere"
    );
    assert!(
        !g.failed("a", "10.0.0.1", 7).await.unwrap(),
        "not again while locked"
    );
    assert!(
        g.pair_blocked("a", "10.0.0.1", 5 + 15 * 60_000 - 1)
            .await
            .unwrap()
    );
    assert!(
        !g.pair_blocked("a", "10.0.0.1", 5 + 15 * 60_000)
            .await
            .unwrap()
    );
    g.failed("a", "10.0.0.2", 10).await.unwrap();
    assert!(g.locked_logins(6).await.unwrap().contains("a"));
    g.unlock("a").await.unwrap();
    assert!(g.locked_logins(6).await.unwrap().is_empty());
    assert!(!g.pair_blocked("a", "10.0.0.1", 6).await.unwrap());
}
both!(a_pair_lock_holds_for_its_address_and_ends_with_its_window);

async fn the_daily_mark_runs_once_with_two_nodes_up(app: TestApp) {
    let b = app.another_node("node-b");
    let town = app.login("meishan.admin").await;
    crate::ledger::report(&app, &town, "2016-03-01", "xinmin.secretary").await;
    // The next day both nodes look at once.
    app.clock.advance_ms(86_400_000);
    let day = "2016-03-02";
    let (x, y) = tokio::join!(
        baiqian_web::daily::mark_overdue_if_new_day(&app.state, Some("2016-03-01")),
        baiqian_web::daily::mark_overdue_if_new_day(&b.state, Some("2016-03-01")),
    );
    // The one that found the day claimed and unfinished tries again the next minute.
    let again =
        |s| async move { baiqian_web::daily::mark_overdue_if_new_day(s, Some("2016-03-01")).await };
    let x = if x.as_deref() == Some(day) {
        x
    } else {
        again(&app.state).await
    };
    let y = if y.as_deref() == Some(day) {
        y
    } else {
        again(&b.state).await
    };
    assert_eq!((x.as_deref(), y.as_deref()), (Some(day), Some(day)));
    let runs = app
        .db
        .periodic_runs(baiqian_web::daily::DAILY_TASK, day)
        .await
        .unwrap();
    assert_eq!(runs.len(), 1, "{runs:?}");
    assert!(runs[0].1.is_some(), "finished");
    let marks: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM audit_log WHERE entity = 'problem_overdue' AND entity_key = $1",
    )
    .bind(day)
    .fetch_one(app.db.pool())
    .await
    .unwrap();
    assert_eq!(marks, 1, "marked once");
    // A node that missed the moment finds the day done.
    let audits = app.audit_count().await;
    let c = app.another_node("node-c");
    assert_eq!(
        baiqian_web::daily::mark_overdue_if_new_day(&c.state, None)
            .await
            .as_deref(),
        Some(day)
    );
    assert_eq!(app.audit_count().await, audits, "nothing more");
    // A claim whose node stopped midway is taken over after its lease, not before.
    let now = app.clock.now_ms();
    assert!(
        app.db
            .claim_periodic("test_task", day, "node-a", now, 600_000)
            .await
            .unwrap()
    );
    assert!(
        !app.db
            .claim_periodic("test_task", day, "node-b", now + 1, 600_000)
            .await
            .unwrap()
    );
    assert!(
        app.db
            .claim_periodic("test_task", day, "node-b", now + 600_001, 600_000)
            .await
            .unwrap()
    );
    app.db
        .finish_periodic("test_task", day, "node-b", now + 600_002)
        .await
        .unwrap();
    assert!(
        !app.db
            .claim_periodic("test_task", day, "node-a", now + 9_999_999, 600_000)
            .await
            .unwrap()
    );
}
both!(the_daily_mark_runs_once_with_two_nodes_up);

async fn a_node_with_another_data_key_is_refused(app: TestApp) {
    let now = app.clock.now_ms();
    // The demo's personal data is sealed with the app's key, but no fingerprint is recorded yet
    // (a database from before it was kept): a new key is refused by its sealed data.
    let stranger = Vault::random().unwrap();
    let err = app.db.bind_data_key(&stranger, now).await.unwrap_err();
    assert!(
        matches!(err, baiqian_store::StoreError::WrongDataKey(_)),
        "{err}"
    );
    assert!(err.to_string().contains("--data-key-file"), "{err}");
    // The right key is recorded; again it is accepted; another is refused by the fingerprint.
    app.db.bind_data_key(&app.state.vault, now).await.unwrap();
    app.db.bind_data_key(&app.state.vault, now).await.unwrap();
    let err = app.db.bind_data_key(&stranger, now).await.unwrap_err();
    assert!(
        err.to_string().contains(&stranger.fingerprint()[..8]),
        "{err}"
    );
    let recorded: String = sqlx::query_scalar("SELECT fingerprint FROM data_key")
        .fetch_one(app.db.pool())
        .await
        .unwrap();
    assert_eq!(recorded, app.state.vault.fingerprint());
}
both!(a_node_with_another_data_key_is_refused);
