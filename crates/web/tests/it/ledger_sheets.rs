//! The leaders' list and their pledges from officials' own sheets (issue 31): title rows, their
//! own header words, units, places and leaders by name; every bad cell reported by row and
//! column in both languages and nothing written, or exactly the good rows when asked; the
//! export read back changes nothing; and no caller outside the township reaches either.

use axum::http::StatusCode;
use serde_json::Value;

use crate::both;
use crate::support::{TestApp, TestResponse};

const HEFU: &str = baiqian_demo::ledger::HEFU;

/// A village's name under 和孚镇, by its code.
async fn name_of(app: &TestApp, code: &str) -> String {
    sqlx::query_scalar("SELECT name FROM orgs WHERE code = $1")
        .bind(code)
        .fetch_one(app.db.pool())
        .await
        .unwrap()
}

/// The report's table.
fn reported(res: &TestResponse) -> String {
    res.between("id=\"import-report\"", "</table>")
        .unwrap_or_else(|| panic!("a report: {}", res.text()))
}

fn has_cell(report: &str, row: usize, column: &str) -> bool {
    report.contains(&format!("<td class=\"num\">{row}</td><td>{column}</td>"))
}

async fn leaders(app: &TestApp, who: &crate::support::Who) -> Vec<Value> {
    app.get(&format!("/api/v1/orgs/{HEFU}/leaders"), who)
        .await
        .json()["items"]
        .as_array()
        .unwrap()
        .clone()
}

fn areas_of(leaders: &[Value], name: &str) -> Vec<String> {
    leaders
        .iter()
        .find(|l| l["name"] == name)
        .unwrap_or_else(|| panic!("{name} listed"))["areas"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a.as_str().unwrap().to_string())
        .collect()
}

async fn a_leaders_list_from_excel_goes_in(app: TestApp) {
    let chenta = name_of(&app, baiqian_demo::CHENTA).await;
    let (leader, post): (String, String) = sqlx::query_as(
        "SELECT l.name, l.title FROM leaders l JOIN users u ON u.id = l.user_id \
         WHERE u.login = 'hefu.leader'",
    )
    .fetch_one(app.db.pool())
    .await
    .unwrap();
    let (other_village,): (String,) = sqlx::query_as(
        "SELECT code FROM orgs WHERE parent_code = $1 AND code <> $2 ORDER BY code DESC LIMIT 1",
    )
    .bind(HEFU)
    .bind(baiqian_demo::CHENTA)
    .fetch_one(app.db.pool())
    .await
    .unwrap();
    let both_places = format!("{chenta}、{other_village}");
    let rows = vec![
        vec!["和孚镇联系指导领导名单", "", "", ""],
        vec!["领导姓名", "现任职务", "所在单位", "联系点"],
        vec!["沈立新", "副镇长", "和孚镇", &*both_places],
        vec![&*leader, &*post, "和孚镇", &*other_village],
        vec![&*leader, "镇长", "和孚镇", ""],
        vec!["钱一", "委员", "不存在镇", ""],
        vec!["钱二", "委员", "和孚镇", "不存在村"],
        vec!["钱三", "", "和孚镇", ""],
    ];
    let file = crate::support::xlsx(&rows);
    let town = app.login("hefu.admin").await;
    let api = app.token("hefu.admin").await;
    let before = leaders(&app, &api).await;
    let audits = app.audit_count().await;
    let url = format!("/orgs/{HEFU}/leaders/import");
    let res = app.post_file(&url, &file, "all", &town).await;
    assert_eq!(
        res.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        res.text()
    );
    let report = reported(&res);
    for (row, column) in [
        (5, "职务 (title)"),
        (6, "单位 (org)"),
        (7, "联系指导 (areas)"),
        (8, "职务 (title)"),
    ] {
        assert!(
            has_cell(&report, row, column),
            "row {row} {column}: {report}"
        );
    }
    assert!(!report.contains("<td class=\"num\">3</td>"), "{report}");
    assert!(
        report.contains("不存在镇") && report.contains("不存在村"),
        "{report}"
    );
    assert_eq!(app.audit_count().await, audits, "nothing written");
    assert_eq!(leaders(&app, &api).await.len(), before.len());

    let res = app.post_file(&url, &file, "good_rows", &town).await;
    assert!(
        res.text().contains("id=\"import-result\""),
        "{}",
        res.text()
    );
    let after = leaders(&app, &api).await;
    assert_eq!(after.len(), before.len() + 1, "沈立新 named");
    let mut new = areas_of(&after, "沈立新");
    new.sort();
    let mut want = vec![baiqian_demo::CHENTA.to_string(), other_village.clone()];
    want.sort();
    assert_eq!(new, want);
    assert!(areas_of(&after, &leader).contains(&other_village));

    // The list as exported goes back in and changes nothing.
    let audits = app.audit_count().await;
    let export = app.get(&format!("/orgs/{HEFU}/leaders.xlsx"), &town).await;
    assert_eq!(export.status, StatusCode::OK);
    let res = app
        .post_multipart(
            &url,
            &[("mode", "all")],
            &[("file", "leaders.xlsx", &export.body)],
            &town,
        )
        .await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.text());
    assert_eq!(
        app.audit_count().await,
        audits,
        "a list read back writes nothing"
    );
    assert_eq!(leaders(&app, &api).await.len(), after.len());

    // A leader may not name leaders; another township's admin does not find the page.
    let own = app.login("hefu.leader").await;
    assert_eq!(app.get(&url, &own).await.status, StatusCode::FORBIDDEN);
    let other = app.login("meishan.admin").await;
    assert_eq!(app.get(&url, &other).await.status, StatusCode::NOT_FOUND);
    assert_eq!(
        app.post_file(&url, &file, "good_rows", &other).await.status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(app.audit_count().await, audits);
}
both!(a_leaders_list_from_excel_goes_in);

async fn pledges_from_excel_go_in(app: TestApp) {
    let (leader,): (String,) = sqlx::query_as(
        "SELECT l.name FROM leaders l JOIN users u ON u.id = l.user_id WHERE u.login = 'hefu.leader'",
    )
    .fetch_one(app.db.pool())
    .await
    .unwrap();
    let rows = vec![
        vec!["和孚镇领导公开承诺", "", "", "", "", ""],
        vec![
            "承诺人",
            "承诺范围",
            "走访对象",
            "承诺内容",
            "开始日期",
            "截止日期",
        ],
        vec![
            &*leader,
            "和孚镇",
            "村",
            "年内走遍全镇各村",
            "2016年3月1日",
            "2016-12-31",
        ],
        vec![
            &*leader,
            "和孚镇",
            "村",
            "半年走遍",
            "2016-06-30",
            "2016-03-01",
        ],
        vec![
            &*leader,
            "和孚镇",
            "全部",
            "走遍",
            "2016-03-01",
            "2016-12-31",
        ],
        vec![
            "不存在的人",
            "和孚镇",
            "",
            "走遍",
            "2016-03-01",
            "2016-12-31",
        ],
        vec![&*leader, "煤山镇", "村", "走遍", "2016-03-01", "2016-12-31"],
    ];
    let file = crate::support::xlsx(&rows);
    let town = app.login("hefu.admin").await;
    let api = app.token("hefu.admin").await;
    let count = || {
        let (app, api) = (&app, &api);
        async move {
            app.get("/api/v1/pledges", api).await.json()["items"]
                .as_array()
                .unwrap()
                .len()
        }
    };
    let before = count().await;
    let audits = app.audit_count().await;
    let url = format!("/orgs/{HEFU}/pledges/import");
    let res = app.post_file(&url, &file, "all", &town).await;
    assert_eq!(
        res.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        res.text()
    );
    let report = reported(&res);
    for (row, column) in [
        (4, "完成时限 (due)"),
        (5, "走遍 (level)"),
        (6, "领导 (leader)"),
        (7, "范围 (scope)"),
    ] {
        assert!(
            has_cell(&report, row, column),
            "row {row} {column}: {report}"
        );
    }
    assert_eq!(count().await, before);
    assert_eq!(app.audit_count().await, audits, "nothing written");

    let res = app.post_file(&url, &file, "good_rows", &town).await;
    assert!(
        res.text().contains("id=\"import-result\""),
        "{}",
        res.text()
    );
    let pledges = app.get("/api/v1/pledges", &api).await.json();
    let made = pledges["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["title"] == "年内走遍全镇各村")
        .cloned()
        .expect("the pledge made");
    let villages: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM orgs WHERE parent_code = $1 AND level = 'village' AND retired_at IS NULL",
    )
    .bind(HEFU)
    .fetch_one(app.db.pool())
    .await
    .unwrap();
    assert_eq!(made["target"], villages);
    assert_eq!(
        (made["since"].as_str(), made["due"].as_str()),
        (Some("2016-03-01"), Some("2016-12-31"))
    );
    assert_eq!(count().await, before + 1);

    // The township's pledges as exported go back in and change nothing.
    let audits = app.audit_count().await;
    let export = app.get(&format!("/orgs/{HEFU}/pledges.xlsx"), &town).await;
    assert_eq!(export.status, StatusCode::OK);
    let table = baiqian_web::excel::read_first_sheet(&export.body).unwrap();
    assert!(table[1].iter().any(|h| h == "走遍"), "{:?}", table[1]);
    let res = app
        .post_multipart(
            &url,
            &[("mode", "all")],
            &[("file", "pledges.xlsx", &export.body)],
            &town,
        )
        .await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.text());
    assert_eq!(count().await, before + 1);
    assert_eq!(
        app.audit_count().await,
        audits,
        "a list read back writes nothing"
    );

    // Another township's admin does not find the page, nor its export.
    let other = app.login("meishan.admin").await;
    for res in [
        app.get(&url, &other).await,
        app.get(&format!("/orgs/{HEFU}/pledges.xlsx"), &other).await,
        app.post_file(&url, &file, "good_rows", &other).await,
    ] {
        assert_eq!(res.status, StatusCode::NOT_FOUND);
    }
    assert_eq!(app.audit_count().await, audits);
}
both!(pledges_from_excel_go_in);

async fn surveys_from_excel_go_in(app: TestApp) {
    let villages: Vec<(String, String)> = sqlx::query_as(
        "SELECT code, name FROM orgs WHERE parent_code = $1 AND level = 'village' ORDER BY code LIMIT 3",
    )
    .bind(HEFU)
    .fetch_all(app.db.pool())
    .await
    .unwrap();
    let (a, b, c) = (&*villages[0].1, &*villages[1].1, &*villages[2].1);
    let (leader,): (String,) = sqlx::query_as(
        "SELECT l.name FROM leaders l JOIN users u ON u.id = l.user_id WHERE u.login = 'hefu.leader'",
    )
    .fetch_one(app.db.pool())
    .await
    .unwrap();
    let elsewhere = name_of(&app, crate::support::codes::XINMIN).await;
    let title = "2016年春季党建排摸";
    let row = |village: &str, basis: &str, start: &str, guide: &str, done: &str| {
        vec![
            "和孚镇".to_string(),
            title.to_string(),
            basis.to_string(),
            start.to_string(),
            village.to_string(),
            guide.to_string(),
            done.to_string(),
        ]
    };
    let rows: Vec<Vec<String>> = vec![
        vec!["和孚镇村级组织排摸台账".into()],
        [
            "乡镇(街道)",
            "调研名称",
            "依据",
            "开始时间",
            "村名",
            "指导领导",
            "完成日期",
        ]
        .map(String::from)
        .to_vec(),
        row(a, "星级标准", "2016年2月1日", &leader, "2016-02-10"),
        row(b, "星级标准", "2016-02-01", "", ""),
        row(c, "另一套标准", "2016-02-01", "", ""),
        row("不存在村", "星级标准", "2016-02-01", "", ""),
        row(a, "星级标准", "2016-02-01", "", ""),
        row(&elsewhere, "星级标准", "2016-02-01", "", ""),
        row(c, "星级标准", "2016-02-01", "不存在的人", "2099-01-01"),
    ];
    let rows: Vec<Vec<&str>> = rows
        .iter()
        .map(|r| r.iter().map(String::as_str).collect())
        .collect();
    let file = crate::support::xlsx(&rows);
    let town = app.login("hefu.admin").await;
    let api = app.token("hefu.admin").await;
    let survey = || {
        let (app, api) = (&app, &api);
        async move {
            app.get(&format!("/api/v1/orgs/{HEFU}/surveys"), api)
                .await
                .json()["items"]
                .as_array()
                .unwrap()
                .iter()
                .find(|s| s["title"] == title)
                .cloned()
        }
    };
    let audits = app.audit_count().await;
    let url = format!("/orgs/{HEFU}/surveys/import");
    let res = app.post_file(&url, &file, "all", &town).await;
    assert_eq!(
        res.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        res.text()
    );
    let report = reported(&res);
    for (row, column) in [
        (5, "对照标准 (basis)"),
        (6, "村 (village)"),
        (7, "村 (village)"),
        (8, "村 (village)"),
        (9, "联系领导 (leader)"),
        (9, "排摸日期 (done_on)"),
    ] {
        assert!(
            has_cell(&report, row, column),
            "row {row} {column}: {report}"
        );
    }
    assert!(survey().await.is_none(), "nothing imported");
    assert_eq!(app.audit_count().await, audits, "nothing written");

    let res = app.post_file(&url, &file, "good_rows", &town).await;
    assert!(
        res.text().contains("id=\"import-result\""),
        "{}",
        res.text()
    );
    let made = survey().await.expect("the survey made");
    assert_eq!(
        (made["villages"].as_i64(), made["done"].as_i64()),
        (Some(2), Some(1))
    );
    assert_eq!(made["started_on"], "2016-02-01");

    // The surveys as exported go back in and change nothing; a later sheet adds a survey day.
    let audits = app.audit_count().await;
    let export = app.get(&format!("/orgs/{HEFU}/surveys.xlsx"), &town).await;
    assert_eq!(export.status, StatusCode::OK);
    let res = app
        .post_multipart(
            &url,
            &[("mode", "all")],
            &[("file", "surveys.xlsx", &export.body)],
            &town,
        )
        .await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.text());
    assert_eq!(
        app.audit_count().await,
        audits,
        "a list read back writes nothing"
    );
    let later = crate::support::xlsx(&[
        vec![
            "乡镇",
            "排摸名称",
            "对照标准",
            "开始日期",
            "村",
            "联系领导",
            "排摸日期",
        ],
        vec![
            "和孚镇",
            title,
            "星级标准",
            "2016-02-01",
            b,
            "",
            "2016-02-20",
        ],
    ]);
    let res = app.post_file(&url, &later, "all", &town).await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.text());
    assert_eq!(survey().await.unwrap()["done"], 2);

    // Another township's admin finds neither the page nor the export.
    let other = app.login("meishan.admin").await;
    let audits = app.audit_count().await;
    for res in [
        app.get(&url, &other).await,
        app.get(&format!("/orgs/{HEFU}/surveys.xlsx"), &other).await,
        app.post_file(&url, &later, "all", &other).await,
    ] {
        assert_eq!(res.status, StatusCode::NOT_FOUND);
    }
    assert_eq!(app.audit_count().await, audits);
}
both!(surveys_from_excel_go_in);
