//! Public-welfare supervision posts through the HTTP app: 林城镇's post along road 318 in the
//! demo with its month of patrols; only the supervisor on the day's rota logs a patrol; only the
//! patroller reports what they found, at a village under the post; the township files an issue
//! as a problem in that village's situation file (once), where the problem workflow takes over;
//! bad input and other hands write nothing.

use axum::http::StatusCode;

use crate::both;
use crate::support::codes::XINMIN;
use crate::support::{TestApp, Who};

const LINCHENG: &str = "330522104";

async fn post_id(app: &TestApp, who: &Who) -> serde_json::Value {
    let res = app
        .get(&format!("/api/v1/orgs/{LINCHENG}/posts"), who)
        .await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.text());
    res.json()["items"][0].clone()
}

async fn the_demo_has_the_articles_post(app: TestApp) {
    let city = app.token("city.admin").await;
    let post = post_id(&app, &city).await;
    assert_eq!(post["name"], baiqian_demo::post::POST_NAME);
    assert_eq!(post["patrols"], 29, "a patrol on each day of the month");
    assert_eq!(post["issues"], 5);
    assert_eq!(post["unfiled"], 2);
    let filed: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM problems WHERE source = 'patrol'")
        .fetch_one(app.db.pool())
        .await
        .expect("count");
    assert_eq!(filed, 3, "three issues in their villages' files");
    let page = app.get(&format!("/posts/{}", post["id"]), &city).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.text().contains("桥头堆放建筑垃圾"));
    let board = app.get(&format!("/orgs/{LINCHENG}/posts"), &city).await;
    assert_eq!(board.status, StatusCode::OK);
    assert!(board.text().contains(baiqian_demo::post::POST_NAME));
}
both!(the_demo_has_the_articles_post);

async fn a_patrol_is_logged_by_the_one_on_duty_and_its_issue_filed(app: TestApp) {
    let keeper = app.login("lincheng.admin").await;
    let post = post_id(&app, &keeper).await["id"].as_i64().expect("id");
    let on_duty = app.login("lincheng.supervisor").await;
    let off_duty = app.login("lincheng.patrol").await;
    let other = app.login("meishan.admin").await;
    let today = baiqian_domain::time::china_date(crate::support::T0 + 60_000);
    let patrol = |started: &'static str, ended: &'static str, date: String| {
        vec![
            ("date", date),
            ("started", started.to_string()),
            ("ended", ended.to_string()),
            ("route", "318国道林城段".to_string()),
            ("note", "桥头有垃圾".to_string()),
        ]
    };
    // Today's patrol waits on the supervisor's task list, until it is logged.
    let due = |who: Who| {
        let app = &app;
        async move {
            let tasks = app.get("/api/v1/me/tasks", &who).await.json();
            tasks["items"]
                .as_array()
                .map(|items| items.iter().filter(|t| t["kind"] == "patrol_due").count())
                .unwrap_or(0)
        }
    };
    let supervisor_token = app.token("lincheng.supervisor").await;
    assert_eq!(due(supervisor_token.clone()).await, 1);
    let url = format!("/posts/{post}/patrols");
    let audit = app.audit_count().await;
    // Not on today's rota, a bad time, a day to come, another township: refused, nothing written.
    for (fields, who, expected) in [
        (
            patrol("07:30", "09:00", today.clone()),
            &off_duty,
            StatusCode::FORBIDDEN,
        ),
        (
            patrol("09:00", "07:30", today.clone()),
            &on_duty,
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        (
            patrol("07:30", "9", today.clone()),
            &on_duty,
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        (
            patrol("07:30", "09:00", "2099-01-01".into()),
            &on_duty,
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        (
            patrol("07:30", "09:00", today.clone()),
            &other,
            StatusCode::NOT_FOUND,
        ),
    ] {
        let fields: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let res = app.post_form(&url, &fields, who).await;
        assert_eq!(res.status, expected, "{}", res.text());
    }
    assert_eq!(audit, app.audit_count().await);
    let fields = patrol("07:30", "09:00", today.clone());
    let fields: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let res = app.post_form(&url, &fields, &on_duty).await;
    assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.text());
    assert_eq!(due(supervisor_token).await, 0, "logged, no longer due");
    let patrol: i64 = sqlx::query_scalar("SELECT MAX(id) FROM patrols WHERE post_id = $1")
        .bind(post)
        .fetch_one(app.db.pool())
        .await
        .expect("the patrol");

    // What the patrol found: only its own supervisor, only at a village under the post.
    let village = "330522104202";
    let issue_url = format!("/patrols/{patrol}/issues");
    let audit = app.audit_count().await;
    for (village, who, expected) in [
        (village, &off_duty, StatusCode::FORBIDDEN),
        (XINMIN, &on_duty, StatusCode::UNPROCESSABLE_ENTITY),
    ] {
        let res = app
            .post_form(
                &issue_url,
                &[
                    ("village", village),
                    ("spot", "桥头"),
                    ("description", "建筑垃圾"),
                ],
                who,
            )
            .await;
        assert_eq!(res.status, expected, "{}", res.text());
    }
    assert_eq!(audit, app.audit_count().await);
    let res = app
        .post_form(
            &issue_url,
            &[
                ("village", village),
                ("spot", "桥头"),
                ("description", "建筑垃圾"),
            ],
            &on_duty,
        )
        .await;
    assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.text());
    let issue: i64 = sqlx::query_scalar("SELECT MAX(id) FROM patrol_issues WHERE patrol_id = $1")
        .bind(patrol)
        .fetch_one(app.db.pool())
        .await
        .expect("the issue");

    // The township files it; a member may not; a bad deadline writes nothing; once only.
    let file = format!("/patrol-issues/{issue}/problem");
    let good = [
        ("owner_name", "村党组织书记"),
        ("measures", "组织清运，设立提示牌"),
        ("deadline", "2016-03-15"),
    ];
    let audit = app.audit_count().await;
    let res = app.post_form(&file, &good, &on_duty).await;
    assert!(res.status.is_client_error(), "{}", res.status);
    let res = app
        .post_form(
            &file,
            &[
                ("owner_name", "村党组织书记"),
                ("measures", "清运"),
                ("deadline", "明天"),
            ],
            &keeper,
        )
        .await;
    assert_eq!(
        res.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        res.text()
    );
    assert_eq!(audit, app.audit_count().await);
    let res = app.post_form(&file, &good, &keeper).await;
    assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.text());
    let to = res.location().expect("to the problem");
    let (source, village_code, description): (String, String, String) = sqlx::query_as(
        "SELECT p.source, p.village_code, p.description FROM problems p \
         JOIN patrol_issues i ON i.problem_id = p.id WHERE i.id = $1",
    )
    .bind(issue)
    .fetch_one(app.db.pool())
    .await
    .expect("the problem");
    assert_eq!(
        (source.as_str(), village_code.as_str()),
        ("patrol", village)
    );
    assert!(description.contains("桥头") && description.contains("建筑垃圾"));
    assert!(to.starts_with("/problems/"), "{to}");
    assert_eq!(app.get(&to, &keeper).await.status, StatusCode::OK);
    let res = app.post_form(&file, &good, &keeper).await;
    assert_eq!(res.status, StatusCode::CONFLICT, "filed once");

    // The rota takes accounts under the post only.
    let duty = format!("/posts/{post}/duties");
    for supervisor in ["xinmin.member", "nobody", ""] {
        let res = app
            .post_form(
                &duty,
                &[("date", "2016-03-05"), ("supervisor", supervisor)],
                &keeper,
            )
            .await;
        assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY, "{supervisor}");
    }
    let res = app
        .post_form(
            &duty,
            &[("date", "2016-03-05"), ("supervisor", "lincheng.patrol")],
            &keeper,
        )
        .await;
    assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.text());
    assert_eq!(
        app.get(&format!("/posts/{post}"), &other).await.status,
        StatusCode::NOT_FOUND
    );
}
both!(a_patrol_is_logged_by_the_one_on_duty_and_its_issue_filed);
