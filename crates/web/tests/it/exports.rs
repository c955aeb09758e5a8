//! Every list a user can see comes out as `.xlsx`, exactly what they see: reopened with calamine
//! and compared with the page or the API that shows the same list.

use axum::http::StatusCode;
use serde_json::json;

use crate::both;
use crate::support::codes::*;
use crate::support::{TestApp, Who};

fn sheet(bytes: &[u8]) -> Vec<Vec<String>> {
    baiqian_web::excel::read_first_sheet(bytes).expect("an xlsx")
}

/// The data rows of an export: below the title line and the header.
fn data(table: &[Vec<String>]) -> &[Vec<String>] {
    &table[2..]
}

async fn export(app: &TestApp, path: &str, who: &Who) -> Vec<Vec<String>> {
    let res = app.get(path, who).await;
    assert_eq!(res.status, StatusCode::OK, "{path}: {}", res.text());
    let table = sheet(&res.body);
    assert!(table.len() >= 2, "{path}: a title line and a header");
    table
}

async fn the_audit_log_users_activity_days_and_attendance_export_as_shown(app: TestApp) {
    // The audit log, filtered as the page is.
    let auditor = app.token("city.auditor").await;
    let api = app
        .get("/api/v1/audit?action=create", &auditor)
        .await
        .json();
    let shown = api["items"].as_array().unwrap();
    let table = export(&app, "/audit.xlsx?action=create", &auditor).await;
    assert!(table[0][0].contains("city.auditor"), "{:?}", table[0]);
    let rows = data(&table);
    assert!(rows.len() >= shown.len() && !rows.is_empty());
    assert!(
        rows.iter().all(|r| r[3] == "新建"),
        "only what the filter shows"
    );
    assert_eq!(rows[0][5], shown[0]["key"].as_str().unwrap());

    // The accounts below a township admin's node, every login the page lists.
    let town = app.login("meishan.admin").await;
    let page = app.get("/users", &town).await.text();
    let table = export(&app, "/users.xlsx", &town).await;
    let rows = data(&table);
    for r in rows {
        assert!(page.contains(&r[0]), "{} exported but not listed", r[0]);
    }
    assert!(rows.iter().any(|r| r[0] == "xinmin.member"));
    assert!(
        rows.iter().all(|r| r[0] != "city.admin"),
        "nothing above the node"
    );

    // Activity days of a village.
    let secretary = app.token("xinmin.secretary").await;
    let body = json!({"date": "2016-03-01", "starts_at": "2016-03-01T09:00:00+08:00",
        "ends_at": "2016-03-01T11:00:00+08:00", "topic": "学习党章", "place": "村部会议室"});
    let res = app
        .post_json(&format!("/api/v1/orgs/{XINMIN}/events"), &body, &secretary)
        .await;
    assert_eq!(res.status, StatusCode::CREATED, "{}", res.text());
    let table = export(&app, &format!("/orgs/{XINMIN}/events.xlsx"), &secretary).await;
    let row = data(&table)
        .iter()
        .find(|r| r[3] == "学习党章")
        .unwrap_or_else(|| panic!("{table:?}"));
    assert_eq!(row[0], "2016-03-01");
    assert_eq!((row[1].as_str(), row[2].as_str()), ("09:00", "11:00"));

    // A month's attendance: the node's own row and each child's, the API's figures.
    let county = app.token("changxing.admin").await;
    let table = export(
        &app,
        &format!("/orgs/{MEISHAN}/attendance.xlsx?month=2016-03"),
        &county,
    )
    .await;
    let own = app
        .get(
            &format!("/api/v1/orgs/{MEISHAN}/attendance/2016-03"),
            &county,
        )
        .await
        .json();
    let first = &data(&table)[0];
    assert_eq!(first[1], MEISHAN);
    assert_eq!(first[3], own["due"].to_string(), "{first:?} vs {own}");
    assert_eq!(first[4], own["attended"].to_string());
    let children = app
        .get(&format!("/api/v1/orgs/{MEISHAN}/children"), &county)
        .await
        .json();
    assert_eq!(
        data(&table).len(),
        1 + children["items"].as_array().unwrap().len()
    );

    // What a role may not read, it may not export either.
    let member = app.token("xinmin.member").await;
    for path in [
        "/audit.xlsx".to_string(),
        "/users.xlsx".to_string(),
        format!("/orgs/{XINMIN}/attendance.xlsx"),
        format!("/orgs/{XINMIN}/events.xlsx"),
    ] {
        assert_eq!(
            app.get(&path, &member).await.status,
            StatusCode::NOT_FOUND,
            "{path}"
        );
    }
}
both!(the_audit_log_users_activity_days_and_attendance_export_as_shown);

/// A rating drill-down list (the villages behind a board figure) exports with its filters.
async fn a_rating_drill_down_exports_with_its_filters(app: TestApp) {
    let county = app.login("changxing.admin").await;
    let path = format!("/orgs/{CHANGXING}/ratings/2015/villages?stars=5");
    let page = app.get(&path, &county).await;
    assert_eq!(page.status, StatusCode::OK);
    let html = page.text();
    let shown = html.matches("<tr").count() - 1;
    let token = app.token("changxing.admin").await;
    let table = export(
        &app,
        &format!("/orgs/{CHANGXING}/ratings/2015/villages.xlsx?stars=5"),
        &token,
    )
    .await;
    let rows = data(&table);
    assert_eq!(rows.len(), shown, "as many villages as the page lists");
    assert!(!rows.is_empty());
    for r in rows {
        // County, township, village, code, stage, self score, score, full, stars, class.
        assert_eq!(r[0], "长兴县", "{r:?}");
        assert_eq!(r[8], "5", "{r:?}");
        assert!(html.contains(&r[2]), "{} exported but not shown", r[2]);
    }
    assert!(
        html.contains("villages.xlsx?stars=5"),
        "the page links its export"
    );
}
both!(a_rating_drill_down_exports_with_its_filters);

/// A rating board (each child's figures and the node's own) and the volunteer teams export.
async fn the_rating_board_and_the_teams_export_as_shown(app: TestApp) {
    let county = app.token("changxing.admin").await;
    let table = export(
        &app,
        &format!("/orgs/{CHANGXING}/ratings/2016/board.xlsx"),
        &county,
    )
    .await;
    let rows = data(&table);
    let api = app
        .get(&format!("/api/v1/orgs/{CHANGXING}/ratings/2016"), &county)
        .await
        .json();
    let own = rows.last().unwrap();
    assert_eq!(own[1], CHANGXING);
    for n in 1..=5 {
        assert_eq!(
            own[8 + n],
            api["stars"][n.to_string()].to_string(),
            "{own:?} vs {api}"
        );
    }
    for (i, class) in ["pioneer", "advancing", "lagging"].iter().enumerate() {
        assert_eq!(
            own[14 + i],
            api["classes"][class].to_string(),
            "{own:?} vs {api}"
        );
    }
    let rated: i64 = (1..=5)
        .map(|n| api["stars"][n.to_string()].as_i64().unwrap())
        .sum();
    let unrated = api["stars"]["unrated"].as_i64().unwrap();
    assert_eq!(
        own[2],
        (rated + unrated).to_string(),
        "every village counted once"
    );
    let townships = app
        .get(&format!("/api/v1/orgs/{CHANGXING}/children"), &county)
        .await
        .json();
    assert_eq!(rows.len(), townships["items"].as_array().unwrap().len() + 1);
    let sum: i64 = rows[..rows.len() - 1]
        .iter()
        .map(|r| r[2].parse::<i64>().unwrap())
        .sum();
    assert_eq!(sum.to_string(), own[2], "the children add up to the node");

    let town = app.token("miaoxi.admin").await;
    let page = app.login("miaoxi.admin").await;
    let made = app
        .post_form(
            &format!("/orgs/{LONGSHAN}/teams"),
            &[("name", "车队"), ("purpose", "接送老党员")],
            &page,
        )
        .await;
    assert!(
        made.status.is_success() || made.status.is_redirection(),
        "{}",
        made.status
    );
    let html = app
        .get(&format!("/orgs/{LONGSHAN}/teams"), &page)
        .await
        .text();
    let table = export(&app, &format!("/orgs/{LONGSHAN}/teams.xlsx"), &town).await;
    let rows = data(&table);
    assert!(!rows.is_empty());
    for r in rows {
        assert!(html.contains(&r[0]), "team {} exported but not shown", r[0]);
    }
}
both!(the_rating_board_and_the_teams_export_as_shown);

/// The exports, templates and imports added with them answer 404 outside the caller's scope
/// (another county's admin) and on a malformed parameter, and write nothing.
async fn new_list_routes_refuse_outside_scope_and_bad_parameters(app: TestApp) {
    let other = app.token("wuxing.admin").await;
    let county = app.token("changxing.admin").await;
    let audits = app.audit_count().await;
    for path in [
        format!("/orgs/{MEISHAN}/attendance.xlsx"),
        format!("/orgs/{MEISHAN}/events.xlsx"),
        format!("/orgs/{XINMIN}/teams.xlsx"),
        format!("/orgs/{XINMIN}/members/template.xlsx"),
        format!("/orgs/{MEISHAN}/import/template.xlsx"),
        format!("/orgs/{CHANGXING}/ratings/2016/board.xlsx"),
        format!("/orgs/{CHANGXING}/ratings/2016/villages.xlsx"),
        format!("/orgs/{MEISHAN}/village-facts/2016/template.xlsx"),
    ] {
        assert_eq!(
            app.get(&path, &other).await.status,
            StatusCode::NOT_FOUND,
            "{path}"
        );
    }
    let file = crate::support::xlsx(&[vec!["姓名", "身份证号", "入党日期"]]);
    let res = app
        .post_file(
            &format!("/api/v1/orgs/{XINMIN}/members/import"),
            &file,
            "all",
            &other,
        )
        .await;
    assert_eq!(res.status, StatusCode::NOT_FOUND);
    for path in [
        format!("/orgs/{MEISHAN}/attendance.xlsx?month=2016-13"),
        format!("/orgs/{CHANGXING}/ratings/20x6/board.xlsx"),
        "/orgs/33O522/events.xlsx".to_string(),
    ] {
        assert_eq!(
            app.get(&path, &county).await.status,
            StatusCode::NOT_FOUND,
            "{path}"
        );
    }
    assert_eq!(app.audit_count().await, audits);
}
both!(new_list_routes_refuse_outside_scope_and_bad_parameters);
