//! Micro-wishes through the HTTP app: a member posts a villager's wish; of many members who
//! claim it at once exactly one wins and the others are told it is taken (both databases); the
//! villager's details stay with the poster, the claimer and the administrations; the claimer
//! fulfils it and the poster confirms; bad input and the wrong hands write nothing; a wish
//! nobody claims for a week reaches the village's task list and the board.

use axum::body::Body;
use axum::http::{Method, Request, StatusCode, header};
use tower::ServiceExt;

use crate::both;
use crate::support::codes::{MEISHAN, XINMIN};
use crate::support::{T0, TestApp, Who};

const DAY_MS: i64 = 86_400_000;
const CLAIMERS: usize = 8;

async fn summary(app: &TestApp, who: &Who, code: &str) -> serde_json::Value {
    let res = app
        .get(&format!("/api/v1/orgs/{code}/wishes/summary"), who)
        .await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.text());
    res.json()
}

async fn wish_row(app: &TestApp, id: i64) -> (String, Option<String>) {
    sqlx::query_as("SELECT status, claimed_by FROM wishes WHERE id = $1")
        .bind(id)
        .fetch_one(app.db.pool())
        .await
        .expect("the wish")
}

async fn tasks_of(app: &TestApp, who: &Who, kind: &str) -> Vec<String> {
    let tasks = app.get("/api/v1/me/tasks", who).await.json();
    tasks["items"]
        .as_array()
        .map(|items| {
            items
                .iter()
                .filter(|t| t["kind"] == kind)
                .filter_map(|t| t["url"].as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default()
}

/// Members of 新民村 with their own logins, to claim.
async fn members(app: &TestApp) -> Vec<String> {
    let mut logins = Vec::new();
    for i in 0..CLAIMERS {
        let login = format!("xinmin.m{i}");
        app.db
            .create_user(
                &baiqian_store::Actor::cli(),
                baiqian_store::user::NewUser {
                    login: login.clone(),
                    name: format!("新民村党员{i}"),
                    role: baiqian_domain::role::Role::Member,
                    org_code: baiqian_domain::org::OrgCode::parse(XINMIN).expect("code"),
                    password_hash: baiqian_web::auth::hash_password(baiqian_demo::DEMO_PASSWORD)
                        .expect("hash"),
                },
                T0,
            )
            .await
            .expect("a member's login");
        logins.push(login);
    }
    logins
}

async fn a_wish_is_claimed_once_fulfilled_and_confirmed(app: TestApp) {
    let claimers = members(&app).await;
    let poster = app.login("xinmin.member").await;
    let secretary = app.login("xinmin.secretary").await;
    let city = app.token("city.admin").await;
    let base = summary(&app, &city, XINMIN).await;
    let grew = |s: &serde_json::Value, key: &str| {
        s[key].as_i64().unwrap_or(0) - base[key].as_i64().unwrap_or(0)
    };
    let post = format!("/orgs/{XINMIN}/wishes");
    let form = [
        ("title", "希望有人多陪伴"),
        ("detail", "儿子常年在外，老人独居"),
        ("villager_name", "陈天相"),
        ("villager_address", "新民村三组 12 号"),
        ("phone", "13905720031"),
    ];

    // Bad input, the wrong place and the wrong role write nothing.
    let audit = app.audit_count().await;
    for (fields, who, path) in [
        (
            vec![("title", ""), ("villager_name", "陈天相")],
            &poster,
            post.clone(),
        ),
        (
            vec![("title", "希望有人陪伴"), ("villager_name", "")],
            &poster,
            post.clone(),
        ),
        (
            vec![
                ("title", "希望有人陪伴"),
                ("villager_name", "陈天相"),
                ("phone", "123"),
            ],
            &poster,
            post.clone(),
        ),
        (form.to_vec(), &secretary, format!("/orgs/{MEISHAN}/wishes")),
    ] {
        let res = app.post_form(&path, &fields, who).await;
        assert!(res.status.is_client_error(), "{path}: {}", res.status);
    }
    let leader = app.login("meishan.leader").await;
    let res = app.post_form(&post, &form, &leader).await;
    assert!(res.status.is_client_error(), "a leader posts no wish");
    assert_eq!(app.audit_count().await, audit, "a refusal writes nothing");

    let res = app.post_form(&post, &form, &poster).await;
    assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.text());
    let url = res.location().expect("the wish's page");
    let id: i64 = url
        .rsplit('/')
        .next()
        .and_then(|n| n.parse().ok())
        .expect("id");
    assert_eq!(app.audit_count().await, audit + 1);
    let (sealed,): (Option<String>,) =
        sqlx::query_as("SELECT phone_sealed FROM wishes WHERE id = $1")
            .bind(id)
            .fetch_one(app.db.pool())
            .await
            .expect("the wish");
    assert!(
        sealed.is_some_and(|s| !s.contains("13905720031")),
        "the phone is sealed"
    );

    // The villager: whole for the poster, masked for the village, hidden from other members.
    let page = app.get(&url, &poster).await;
    assert!(page.text().contains("陈天相") && page.text().contains("13905720031"));
    let page = app.get(&url, &secretary).await;
    assert!(page.text().contains("陈天相") && !page.text().contains("13905720031"));
    let other = app.login(&claimers[0]).await;
    let page = app.get(&url, &other).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.text().contains("希望有人多陪伴") && page.text().contains("id=\"claim-wish\""));
    assert!(
        !page.text().contains("陈天相") && !page.text().contains("新民村三组"),
        "another member does not see the villager"
    );
    let list = app.get(&post, &other).await;
    assert!(list.text().contains("希望有人多陪伴") && !list.text().contains("陈天相"));
    // Another township's members and administrations do not reach it.
    let miaoxi = app.login("miaoxi.admin").await;
    assert_eq!(app.get(&url, &miaoxi).await.status, StatusCode::NOT_FOUND);
    // The poster does not claim their own.
    let res = app.post_form(&format!("{url}/claim"), &[], &poster).await;
    assert!(res.status.is_client_error(), "{}", res.status);
    assert_eq!(app.audit_count().await, audit + 1);

    // Many members claim at once: exactly one wins, the rest are told it is taken.
    let mut tokens = Vec::new();
    for login in &claimers {
        let Who::Bearer(t) = app.token(login).await else {
            panic!("a token")
        };
        tokens.push(t);
    }
    // Issuing tokens and signing in are audited too: count from here.
    let audit = app.audit_count().await;
    let handles: Vec<_> = tokens
        .iter()
        .map(|t| {
            let router = app.router.clone();
            let req = Request::builder()
                .method(Method::POST)
                .uri(format!("/wishes/{id}/claim"))
                .header(header::AUTHORIZATION, format!("Bearer {t}"))
                .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
                .body(Body::empty())
                .expect("request");
            tokio::spawn(async move { router.oneshot(req).await.map(|r| r.status()) })
        })
        .collect();
    let mut statuses = Vec::new();
    for h in handles {
        statuses.push(h.await.expect("task").expect("infallible"));
    }
    let won = statuses
        .iter()
        .filter(|s| **s == StatusCode::SEE_OTHER)
        .count();
    let taken = statuses
        .iter()
        .filter(|s| **s == StatusCode::CONFLICT)
        .count();
    assert_eq!((won, taken), (1, CLAIMERS - 1), "{statuses:?}");
    let (status, holder) = wish_row(&app, id).await;
    assert_eq!(status, "claimed");
    let holder = holder.expect("a claimer");
    assert!(claimers.contains(&holder));
    assert_eq!(app.audit_count().await, audit + 1, "one claim audited");

    // A loser neither fulfils nor sees the villager; the holder sees the phone and fulfils.
    let loser_login = claimers.iter().find(|l| **l != holder).expect("a loser");
    let loser = app.login(loser_login).await;
    let res = app
        .post_form(&format!("{url}/fulfil"), &[("note", "陪老人聊天")], &loser)
        .await;
    assert!(res.status.is_client_error(), "{}", res.status);
    assert!(!app.get(&url, &loser).await.text().contains("陈天相"));
    let holder_who = app.login(&holder).await;
    let audit = app.audit_count().await;
    assert!(
        app.get(&url, &holder_who)
            .await
            .text()
            .contains("13905720031")
    );
    assert_eq!(
        tasks_of(&app, &holder_who, "wish_fulfil").await,
        vec![format!("/wishes/{id}")]
    );
    let res = app
        .post_form(&format!("{url}/fulfil"), &[("note", "")], &holder_who)
        .await;
    assert!(res.status.is_client_error(), "a fulfilment says how");
    let res = app
        .post_form(
            &format!("{url}/fulfil"),
            &[("note", "每周两次上门陪老人聊天，帮他和儿子视频")],
            &holder_who,
        )
        .await;
    assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.text());
    // Only the poster confirms.
    let res = app
        .post_form(&format!("{url}/confirm"), &[], &holder_who)
        .await;
    assert!(res.status.is_client_error(), "{}", res.status);
    assert!(
        tasks_of(&app, &poster, "wish_confirm")
            .await
            .contains(&format!("/wishes/{id}"))
    );
    let res = app.post_form(&format!("{url}/confirm"), &[], &poster).await;
    assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.text());
    assert_eq!(wish_row(&app, id).await.0, "confirmed");
    assert_eq!(
        app.audit_count().await,
        audit + 2,
        "fulfilled and confirmed"
    );
    let s = summary(&app, &city, XINMIN).await;
    for key in ["posted", "claimed", "fulfilled", "confirmed"] {
        assert_eq!(grew(&s, key), 1, "{key}: {s}");
    }
    let home = app.get("/", &poster).await;
    assert!(home.text().contains("id=\"my-wishes\"") && home.text().contains("希望有人多陪伴"));

    // A wish nobody claims for a week reaches the village's list and the board.
    let res = app
        .post_form(
            &post,
            &[("title", "想学用智能手机"), ("villager_name", "沈阿婆")],
            &poster,
        )
        .await;
    assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.text());
    let second = res.location().expect("page");
    app.clock.advance_ms(8 * DAY_MS);
    let secretary = app.login("xinmin.secretary").await;
    assert!(
        tasks_of(&app, &secretary, "wish_unclaimed")
            .await
            .contains(&second)
    );
    let s = summary(&app, &app.token("city.admin").await, XINMIN).await;
    assert!(s["unclaimed_long"].as_i64().unwrap_or(0) >= 1, "{s}");
    let board = app.get(&format!("{post}?list=unclaimed"), &secretary).await;
    assert!(board.text().contains("想学用智能手机"));
}
both!(a_wish_is_claimed_once_fulfilled_and_confirmed);

async fn the_demo_has_the_articles_wish(app: TestApp) {
    let city = app.token("city.admin").await;
    // The board's figures are the rows': every wish but the withdrawn, and each state reached.
    let s = summary(&app, &city, "330500").await;
    let (posted, claimed, fulfilled, confirmed, open, withdrawn): (i64, i64, i64, i64, i64, i64) =
        sqlx::query_as(
            "SELECT \
             CAST(SUM(CASE WHEN status <> 'withdrawn' THEN 1 ELSE 0 END) AS BIGINT), \
             CAST(SUM(CASE WHEN status IN ('claimed', 'fulfilled', 'confirmed') THEN 1 ELSE 0 END) AS BIGINT), \
             CAST(SUM(CASE WHEN status IN ('fulfilled', 'confirmed') THEN 1 ELSE 0 END) AS BIGINT), \
             CAST(SUM(CASE WHEN status = 'confirmed' THEN 1 ELSE 0 END) AS BIGINT), \
             CAST(SUM(CASE WHEN status = 'posted' THEN 1 ELSE 0 END) AS BIGINT), \
             CAST(SUM(CASE WHEN status = 'withdrawn' THEN 1 ELSE 0 END) AS BIGINT) FROM wishes",
        )
        .fetch_one(app.db.pool())
        .await
        .expect("counts");
    assert_eq!(
        (
            &s["posted"],
            &s["claimed"],
            &s["fulfilled"],
            &s["confirmed"],
            &s["open"]
        ),
        (
            &posted.into(),
            &claimed.into(),
            &fulfilled.into(),
            &confirmed.into(),
            &open.into()
        ),
        "{s}"
    );
    // The article's one, 新民村's two and the city's, a twentieth of those withdrawn.
    let city_wishes = baiqian_demo::wish::CITY_WISHES as i64;
    assert_eq!(posted + withdrawn, 3 + city_wishes);
    assert_eq!(withdrawn, city_wishes / 20);
    for key in ["unclaimed_long", "in_hand", "stalled"] {
        assert!(s[key].as_i64().unwrap_or(0) > 0, "{key}: {s}");
    }
    // 缫舍村: 张逸灵's wish for 陈天相, claimed a few days after she posted it.
    let saoshe = baiqian_demo::wish::SAOSHE;
    let s = summary(&app, &city, saoshe).await;
    assert!(s["claimed"].as_i64().unwrap_or(0) >= 1, "{s}");
    let (id, claimed_by, days): (i64, Option<String>, i64) = sqlx::query_as(
        "SELECT id, claimed_by, (claimed_at - posted_at) / 86400000 FROM wishes \
         WHERE org_code = $1 AND villager_name = '陈天相'",
    )
    .bind(saoshe)
    .fetch_one(app.db.pool())
    .await
    .expect("陈天相's wish");
    assert!(claimed_by.is_some() && (1..=7).contains(&days), "{days}");
    let zhang = app.login("saoshe.member").await;
    let home = app.get("/", &zhang).await;
    assert!(home.text().contains("希望有人多陪伴") && home.text().contains("陈天相"));
    let page = app.get(&format!("/wishes/{id}"), &zhang).await;
    assert!(page.text().contains("儿子常年在外"));
    // 新民村's member has one to confirm.
    let member = app.login("xinmin.member").await;
    assert_eq!(tasks_of(&app, &member, "wish_confirm").await.len(), 1);
}
both!(the_demo_has_the_articles_wish);
