//! The ledger's work through `/api/v1`: a problem reported, worked, checked and re-planned, and
//! visits logged and listed, with the same scope, roles, four-eyes rule and validation as the
//! pages; a refused call writes nothing.

use axum::http::StatusCode;
use serde_json::json;

use crate::both;
use crate::support::TestApp;
use crate::support::codes::{LONGSHAN, XINMIN};

fn new_problem() -> serde_json::Value {
    json!({"village": XINMIN, "description": "党员活动室漏雨，无法开展活动", "item_code": "A03",
           "owner_name": "王建国", "measures": "修缮屋顶，更换门窗", "deadline": "2016-06-30"})
}

async fn summary(app: &TestApp, who: &crate::support::Who) -> serde_json::Value {
    app.get(&format!("/api/v1/orgs/{XINMIN}/problems/summary"), who)
        .await
        .json()
}

async fn a_problem_is_worked_through_the_api(app: TestApp) {
    let village = app.token("xinmin.secretary").await;
    let town = app.token("meishan.admin").await;
    let before = summary(&app, &town).await;
    let audits = app.audit_count().await;

    // Refused, nothing written: no description, a date that is none, a village out of scope,
    // a village under another node than the path's.
    for (code, body, status) in [
        (
            XINMIN,
            json!({"village": XINMIN, "owner_name": "王", "measures": "修", "deadline": "2016-06-30"}),
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        (
            XINMIN,
            {
                let mut b = new_problem();
                b["deadline"] = "六月底".into();
                b
            },
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        (
            LONGSHAN,
            {
                let mut b = new_problem();
                b["village"] = LONGSHAN.into();
                b
            },
            StatusCode::NOT_FOUND,
        ),
    ] {
        let res = app
            .post_json(&format!("/api/v1/orgs/{code}/problems"), &body, &village)
            .await;
        assert_eq!(res.status, status, "{body}: {}", res.text());
    }
    assert_eq!(app.audit_count().await, audits, "refusals write nothing");

    let res = app
        .post_json(
            &format!("/api/v1/orgs/{XINMIN}/problems"),
            &new_problem(),
            &village,
        )
        .await;
    assert_eq!(res.status, StatusCode::CREATED, "{}", res.text());
    let id = res.json()["id"].as_i64().unwrap();
    let after = summary(&app, &town).await;
    assert_eq!(after["found"], before["found"].as_i64().unwrap() + 1);
    assert_eq!(after["open"], before["open"].as_i64().unwrap() + 1);
    let listed = app
        .get(
            &format!("/api/v1/orgs/{XINMIN}/problems?status=open"),
            &town,
        )
        .await
        .json();
    assert_eq!(listed["total"], after["open"]);

    // The village starts and rectifies; a check may not come through its door, nor may the
    // village check its own work.
    let post = |path: String, body: serde_json::Value, who: crate::support::Who| {
        let app = &app;
        async move { app.post_json(&path, &body, &who).await }
    };
    let steps = format!("/api/v1/problems/{id}/steps");
    let checks = format!("/api/v1/problems/{id}/checks");
    let res = post(steps.clone(), json!({"step": "verify"}), village.clone()).await;
    assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY);
    let res = post(steps.clone(), json!({"step": "start"}), village.clone()).await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.text());
    assert_eq!(res.json()["status"], "in_progress");
    let res = post(
        steps.clone(),
        json!({"step": "rectify", "note": "屋顶已修缮"}),
        village.clone(),
    )
    .await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.text());
    assert_eq!(res.json()["status"], "rectified");
    let res = post(checks.clone(), json!({"step": "verify"}), village.clone()).await;
    assert_eq!(res.status, StatusCode::FORBIDDEN);

    // A later deadline without a reason is refused; with one it waits for the level above.
    let plan = format!("/api/v1/problems/{id}/plan");
    let res = post(
        plan.clone(),
        json!({"owner_name": "王建国", "measures": "修缮屋顶", "deadline": "2016-09-30"}),
        village.clone(),
    )
    .await;
    assert_eq!(
        res.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        res.text()
    );
    let res = post(
        plan,
        json!({"owner_name": "王建国", "measures": "修缮屋顶", "deadline": "2016-09-30", "deadline_reason": "雨季施工困难"}),
        village.clone(),
    )
    .await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.text());
    assert_eq!(res.json()["extension_requested"], true);
    assert_eq!(res.json()["problem"]["deadline"], "2016-06-30");

    // The township verifies; the history holds every step in order.
    let res = post(
        checks,
        json!({"step": "verify", "note": "现场查看，已修好"}),
        town.clone(),
    )
    .await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.text());
    let got = app.get(&format!("/api/v1/problems/{id}"), &village).await;
    assert_eq!(got.status, StatusCode::OK);
    let got = got.json();
    assert_eq!(got["status"], "verified");
    let steps: Vec<&str> = got["steps"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["step"].as_str().unwrap())
        .collect();
    let order: Vec<usize> = ["found", "start", "rectify", "verify"]
        .iter()
        .map(|s| steps.iter().position(|x| x == s).unwrap_or(usize::MAX))
        .collect();
    assert!(order.windows(2).all(|w| w[0] < w[1]), "{steps:?}");

    // Out of scope: another village's secretary does not find it.
    let other = app.token("longshan.secretary").await;
    assert_eq!(
        app.get(&format!("/api/v1/problems/{id}"), &other)
            .await
            .status,
        StatusCode::NOT_FOUND
    );
}
both!(a_problem_is_worked_through_the_api);

async fn visits_are_logged_and_listed_through_the_api(app: TestApp) {
    let hefu = baiqian_demo::ledger::HEFU;
    let (leader_id,): (i64,) = sqlx::query_as(
        "SELECT l.id FROM leaders l JOIN users u ON u.id = l.user_id WHERE u.login = 'hefu.leader'",
    )
    .fetch_one(app.db.pool())
    .await
    .unwrap();
    // Another leader of 和孚镇, with no account: in the town's reach, not his to log for.
    let (other_leader,): (i64,) = sqlx::query_as(
        "SELECT id FROM leaders WHERE user_id IS NULL \
         AND org_code = (SELECT org_code FROM leaders WHERE id = $1) ORDER BY id LIMIT 1",
    )
    .bind(leader_id)
    .fetch_one(app.db.pool())
    .await
    .unwrap();
    let leader = app.token("hefu.leader").await;
    let town = app.token("hefu.admin").await;
    let list = |q: String| {
        let app = &app;
        let town = &town;
        async move {
            app.get(&format!("/api/v1/orgs/{hefu}/visits{q}"), town)
                .await
                .json()
        }
    };
    let before = list(format!("?leader={leader_id}")).await;
    let total = before["total"].as_i64().unwrap();
    let counted: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM visits WHERE leader_id = $1")
        .bind(leader_id)
        .fetch_one(app.db.pool())
        .await
        .unwrap();
    assert_eq!(total, counted);
    assert!(before["items"].as_array().unwrap().len() as i64 <= 50);

    let chenta = baiqian_demo::CHENTA;
    let visit = |leader: i64, day: &str| json!({"leader_id": leader, "visited_on": day, "place": chenta, "kind": "research", "findings": "走访党员，了解活动室使用情况"});
    let audits = app.audit_count().await;
    // A leader logs only their own visits; a day that is none is refused.
    let res = app
        .post_json(
            &format!("/api/v1/orgs/{hefu}/visits"),
            &visit(other_leader, "2016-02-20"),
            &leader,
        )
        .await;
    assert_eq!(res.status, StatusCode::FORBIDDEN, "{}", res.text());
    let res = app
        .post_json(
            &format!("/api/v1/orgs/{hefu}/visits"),
            &visit(leader_id, "2016-02-30"),
            &leader,
        )
        .await;
    assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(app.audit_count().await, audits);
    let res = app
        .post_json(
            &format!("/api/v1/orgs/{hefu}/visits"),
            &visit(leader_id, "2016-02-20"),
            &leader,
        )
        .await;
    assert_eq!(res.status, StatusCode::CREATED, "{}", res.text());
    let id = res.json()["id"].as_i64().unwrap();
    let after = list(format!("?leader={leader_id}")).await;
    assert_eq!(after["total"], total + 1);
    assert!(
        after["items"]
            .as_array()
            .unwrap()
            .iter()
            .any(|v| v["id"] == id && v["place"] == chenta && v["kind"] == "research")
    );
    assert_eq!(
        app.get(&format!("/api/v1/orgs/{hefu}/visits?page=0"), &town)
            .await
            .status,
        StatusCode::UNPROCESSABLE_ENTITY
    );

    // The log and the pledges as officials' files: as many rows as the lists hold.
    let res = app
        .get(
            &format!("/orgs/{hefu}/visits.xlsx?leader={leader_id}"),
            &town,
        )
        .await;
    assert_eq!(res.status, StatusCode::OK);
    let table = baiqian_web::excel::read_first_sheet(&res.body).unwrap();
    assert!(table[1].iter().any(|h| h == "走访日期"), "{:?}", table[1]);
    assert_eq!(table.len() as i64 - 2, total + 1);
    assert!(
        table.iter().any(|r| r.iter().any(|c| c == "调研")),
        "kinds in words"
    );
    let city = app.token("city.admin").await;
    let pledges = app.get("/api/v1/pledges", &city).await.json();
    assert!(!pledges["items"].as_array().unwrap().is_empty());
    let res = app.get("/pledges.xlsx", &city).await;
    assert_eq!(res.status, StatusCode::OK);
    let table = baiqian_web::excel::read_first_sheet(&res.body).unwrap();
    assert_eq!(table.len() - 2, pledges["items"].as_array().unwrap().len());
}
both!(visits_are_logged_and_listed_through_the_api);

/// A township's own visit log goes in through the shared importer: its title line and header
/// words, leaders by name, places by name, kinds in its words; every bad cell named by row and
/// column, nothing written for a rejected file, exactly the good rows when asked.
async fn a_visit_log_from_excel_goes_in(app: TestApp) {
    let hefu = baiqian_demo::ledger::HEFU;
    let (leader,): (String,) = sqlx::query_as(
        "SELECT l.name FROM leaders l JOIN users u ON u.id = l.user_id WHERE u.login = 'hefu.leader'",
    )
    .fetch_one(app.db.pool())
    .await
    .unwrap();
    let chenta: (String,) = sqlx::query_as("SELECT name FROM orgs WHERE code = $1")
        .bind(baiqian_demo::CHENTA)
        .fetch_one(app.db.pool())
        .await
        .unwrap();
    let rows = vec![
        vec!["和孚镇领导走访调研台账（2016年）", "", "", "", ""],
        vec!["日期", "走访领导", "走访村", "形式", "走访情况"],
        vec![
            "2016年2月3日",
            leader.as_str(),
            chenta.0.as_str(),
            "调研",
            "活动室漏雨",
        ],
        vec!["2016-02-04", "不存在的人", chenta.0.as_str(), "座谈", ""],
        vec!["2016-02-05", leader.as_str(), chenta.0.as_str(), "暗访", ""],
        vec!["2016-04-01", leader.as_str(), "不存在村", "督查", ""],
    ];
    let file = crate::support::xlsx(&rows);
    let town = app.login("hefu.admin").await;
    let api = app.token("hefu.admin").await;
    let total = || {
        let (app, api) = (&app, &api);
        async move {
            app.get(&format!("/api/v1/orgs/{hefu}/visits"), api)
                .await
                .json()["total"]
                .as_i64()
                .unwrap()
        }
    };
    let before = total().await;
    let audits = app.audit_count().await;
    let res = app
        .post_file(&format!("/orgs/{hefu}/visits/import"), &file, "all", &town)
        .await;
    assert_eq!(
        res.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        res.text()
    );
    let report = res
        .between("id=\"import-report\"", "</table>")
        .expect("report");
    for (row, column) in [
        (4, "领导 (leader)"),
        (5, "方式 (kind)"),
        (6, "走访日期 (visited_on)"),
        (6, "走访地点 (place)"),
    ] {
        assert!(
            report.contains(&format!("<td class=\"num\">{row}</td><td>{column}</td>")),
            "row {row} {column}: {report}"
        );
    }
    assert!(
        report.contains("暗访") && report.contains("不存在的人"),
        "{report}"
    );
    assert_eq!(total().await, before, "nothing imported");
    assert_eq!(app.audit_count().await, audits, "nothing written");

    let res = app
        .post_file(
            &format!("/orgs/{hefu}/visits/import"),
            &file,
            "good_rows",
            &town,
        )
        .await;
    assert!(
        res.text().contains("id=\"import-result\""),
        "{}",
        res.text()
    );
    assert_eq!(total().await, before + 1);

    // A leader's own account brings only their own visits.
    let other: (String,) = sqlx::query_as(
        "SELECT name FROM leaders WHERE user_id IS NULL AND org_code = $1 ORDER BY id LIMIT 1",
    )
    .bind(hefu)
    .fetch_one(app.db.pool())
    .await
    .unwrap();
    let mine = vec![
        vec!["走访日期", "领导", "走访地点", "方式"],
        vec!["2016-02-06", other.0.as_str(), chenta.0.as_str(), "调研"],
    ];
    let leader_session = app.login("hefu.leader").await;
    let res = app
        .post_file(
            &format!("/orgs/{hefu}/visits/import"),
            &crate::support::xlsx(&mine),
            "all",
            &leader_session,
        )
        .await;
    assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(total().await, before + 1);
}
both!(a_visit_log_from_excel_goes_in);

/// A township's surveys and leaders as JSON: what its pages list, and nothing outside scope.
async fn surveys_and_leaders_read_through_the_api(app: TestApp) {
    let hefu = baiqian_demo::ledger::HEFU;
    let town = app.token("hefu.admin").await;
    let surveys = app
        .get(&format!("/api/v1/orgs/{hefu}/surveys"), &town)
        .await
        .json();
    let items = surveys["items"].as_array().unwrap();
    let kept: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM surveys WHERE township_code = $1")
        .bind(hefu)
        .fetch_one(app.db.pool())
        .await
        .unwrap();
    assert_eq!(items.len() as i64, kept);
    assert!(kept > 0, "the demo's survey of 和孚镇");
    for s in items {
        assert!(s["done"].as_i64().unwrap() <= s["villages"].as_i64().unwrap());
    }
    let leaders = app
        .get(&format!("/api/v1/orgs/{hefu}/leaders"), &town)
        .await
        .json();
    let names: Vec<&str> = leaders["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["name"].as_str().unwrap())
        .collect();
    let (leader,): (String,) = sqlx::query_as(
        "SELECT l.name FROM leaders l JOIN users u ON u.id = l.user_id WHERE u.login = 'hefu.leader'",
    )
    .fetch_one(app.db.pool())
    .await
    .unwrap();
    assert!(names.contains(&leader.as_str()), "{names:?}");
    // The same list as the offices' file, one row each.
    let res = app.get(&format!("/orgs/{hefu}/leaders.xlsx"), &town).await;
    assert_eq!(res.status, StatusCode::OK);
    let table = baiqian_web::excel::read_first_sheet(&res.body).unwrap();
    assert_eq!(table.len() - 2, names.len());
    assert!(
        table
            .iter()
            .any(|r| r.first().map(String::as_str) == Some(leader.as_str()))
    );
    // Another township's admin does not reach them; a member reads neither.
    let other = app.token("meishan.admin").await;
    assert_eq!(
        app.get(&format!("/api/v1/orgs/{hefu}/surveys"), &other)
            .await
            .status,
        StatusCode::NOT_FOUND
    );
    let member = app.token("xinmin.member").await;
    assert_ne!(
        app.get(&format!("/api/v1/orgs/{XINMIN}/leaders"), &member)
            .await
            .status,
        StatusCode::OK
    );
}
both!(surveys_and_leaders_read_through_the_api);

/// Every route this part added, asked by an admin of another township or county: not found,
/// and nothing written.
async fn the_new_routes_keep_out_of_scope_callers_out(app: TestApp) {
    let hefu = baiqian_demo::ledger::HEFU;
    let (problem,): (i64,) =
        sqlx::query_as("SELECT MIN(id) FROM problems WHERE village_path LIKE '%/' || $1 || '/%'")
            .bind(hefu)
            .fetch_one(app.db.pool())
            .await
            .unwrap();
    let (member,): (i64,) =
        sqlx::query_as("SELECT member_id FROM users WHERE login = 'xinmin.member'")
            .fetch_one(app.db.pool())
            .await
            .unwrap();
    let other = app.token("meishan.admin").await;
    let other_page = app.login("meishan.admin").await;
    let far = app.token("wuxing.admin").await;
    let far_page = app.login("wuxing.admin").await;
    let audits = app.audit_count().await;
    for url in [
        format!("/orgs/{hefu}/visits.xlsx"),
        format!("/orgs/{hefu}/leaders.xlsx"),
        format!("/orgs/{hefu}/visits/import"),
        format!("/api/v1/orgs/{hefu}/visits"),
        format!("/api/v1/orgs/{hefu}/leaders"),
        format!("/api/v1/orgs/{hefu}/surveys"),
        format!("/api/v1/problems/{problem}"),
    ] {
        let who = if url.starts_with("/api") {
            &other
        } else {
            &other_page
        };
        assert_eq!(
            app.get(&url, who).await.status,
            StatusCode::NOT_FOUND,
            "{url}"
        );
    }
    let body = json!({"village": baiqian_demo::CHENTA, "description": "x", "owner_name": "x",
        "measures": "x", "deadline": "2016-06-30", "step": "start", "note": "x",
        "leader_id": 1, "visited_on": "2016-02-01", "place": baiqian_demo::CHENTA,
        "kind": "research", "findings": ""});
    let mut check = body.clone();
    check["step"] = "verify".into();
    for (url, body) in [
        (format!("/api/v1/orgs/{hefu}/problems"), &body),
        (format!("/api/v1/orgs/{hefu}/visits"), &body),
        (format!("/api/v1/problems/{problem}/steps"), &body),
        (format!("/api/v1/problems/{problem}/checks"), &check),
        (format!("/api/v1/problems/{problem}/plan"), &body),
    ] {
        assert_eq!(
            app.post_json(&url, body, &other).await.status,
            StatusCode::NOT_FOUND,
            "{url}"
        );
    }
    let res = app
        .post_file(
            &format!("/orgs/{hefu}/visits/import"),
            &crate::support::xlsx(&[vec!["走访日期", "领导", "走访地点", "方式"]]),
            "all",
            &other_page,
        )
        .await;
    assert_eq!(res.status, StatusCode::NOT_FOUND);
    // 新民村's member, asked about by 吴兴区.
    assert_eq!(
        app.get(&format!("/members/{member}/edit"), &far_page)
            .await
            .status,
        StatusCode::NOT_FOUND
    );
    for (url, fields) in [
        (format!("/members/{member}/edit"), vec![("workplace", "x")]),
        (
            format!("/members/{member}/status"),
            vec![
                ("status", "deceased"),
                ("on_date", "2016-02"),
                ("reason", "x"),
            ],
        ),
    ] {
        assert_eq!(
            app.post_form(&url, &fields, &far_page).await.status,
            StatusCode::NOT_FOUND,
            "{url}"
        );
    }
    let res = app
        .post_json(
            &format!("/api/v1/members/{member}/status"),
            &json!({"status": "deceased", "on_date": "2016-02", "reason": "x"}),
            &far,
        )
        .await;
    assert_eq!(res.status, StatusCode::NOT_FOUND);
    assert_eq!(app.audit_count().await, audits, "nothing written");
}
both!(the_new_routes_keep_out_of_scope_callers_out, roster);
