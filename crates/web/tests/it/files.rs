//! The village situation file (村情档案) through the HTTP app: its members by age computed from
//! the roster (a member moved in moves the figures), the year's entries written by the village
//! and kept per year with the earlier years untouched, bad entries refused with nothing
//! written, other villages' files out of reach, and the files of a township as `.xlsx`.

use axum::http::StatusCode;

use crate::both;
use crate::support::codes::{LONGSHAN, XINMIN};
use crate::support::{TestApp, Who};

const CHENTA: &str = baiqian_demo::CHENTA;
const HEFU: &str = baiqian_demo::ledger::HEFU;

async fn file(app: &TestApp, code: &str, year: i64, who: &Who) -> crate::support::TestResponse {
    let res = app
        .get(&format!("/orgs/{code}/file?year={year}"), who)
        .await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.text());
    res
}

fn figure(res: &crate::support::TestResponse, id: &str) -> String {
    res.between(&format!("id=\"{id}\">"), "<")
        .unwrap_or_else(|| panic!("no #{id}"))
}

fn number(res: &crate::support::TestResponse, id: &str) -> i64 {
    figure(res, id).replace(',', "").parse().expect("a count")
}

/// The members of a village and how many are over 60 on `day`, counted from the rows.
async fn roster_ages(app: &TestApp, code: &str, day: &str) -> (i64, i64) {
    let rows: Vec<(String,)> =
        sqlx::query_as("SELECT birth_date FROM members WHERE home_org = $1 AND status = 'active'")
            .bind(code)
            .fetch_all(app.db.pool())
            .await
            .unwrap();
    let over = rows
        .iter()
        .filter(|(b,)| baiqian_domain::ledger::age_on(b, day).unwrap() > 60)
        .count() as i64;
    (rows.len() as i64, over)
}

async fn a_village_file_is_computed_from_the_roster_and_kept_by_year(app: TestApp) {
    let village = app.login("chenta.secretary").await;
    let town = app.login("hefu.admin").await;
    let other_village = app.login("longshan.secretary").await;
    let member = app.login("xinmin.member").await;
    let city = app.login("city.admin").await;

    // The demo's file of 陈塔村: its ageing membership and its 15 亩, read from the records.
    let res = file(&app, CHENTA, 2016, &village).await;
    let (members, over_60) = roster_ages(&app, CHENTA, "2016-03-01").await;
    assert!(members > 0);
    assert_eq!(number(&res, "file-members"), members);
    assert_eq!(number(&res, "file-over-60"), over_60);
    assert!(
        over_60 * 2 > members,
        "over half are older than 60: {over_60}/{members}"
    );
    let bands: i64 = (0..5).map(|i| number(&res, &format!("band-{i}"))).sum();
    assert_eq!(bands, members, "every member in one band");
    assert!(
        figure(&res, "file-land").contains("15 亩"),
        "{}",
        figure(&res, "file-land")
    );
    assert!(figure(&res, "file-land").contains("村委会办公楼东侧"));
    assert!(
        res.text().contains("id=\"edit-file\""),
        "the village keeps its file"
    );

    // A member moved in from 新民村 is counted at once; nobody types the figure.
    let (id, birth): (i64, String) = sqlx::query_as(
        "SELECT id, birth_date FROM members WHERE home_org = $1 AND status = 'active' \
         ORDER BY birth_date LIMIT 1",
    )
    .bind(XINMIN)
    .fetch_one(app.db.pool())
    .await
    .unwrap();
    let moved = app
        .post_form(
            &format!("/members/{id}/transfer"),
            &[("to", CHENTA), ("reason", "随子女迁居")],
            &city,
        )
        .await;
    assert_eq!(moved.status, StatusCode::SEE_OTHER, "{}", moved.text());
    let res = file(&app, CHENTA, 2016, &village).await;
    assert_eq!(number(&res, "file-members"), members + 1);
    let older = baiqian_domain::ledger::age_on(&birth, "2016-03-01").unwrap() > 60;
    assert_eq!(number(&res, "file-over-60"), over_60 + i64::from(older));

    // This year's entries, written by the village; last year's stay as they were.
    let last_year = file(&app, CHENTA, 2015, &village).await.text();
    let audit = app.audit_count().await;
    let saved = app
        .post_form(
            &format!("/orgs/{CHENTA}/file"),
            &[
                ("year", "2016"),
                ("population", "2,901"),
                ("households", "930"),
                ("income_sources", "物业出租、光伏发电"),
                ("land_mu", "15.5"),
                ("land", "村委会办公楼东侧，已报批建标准厂房"),
                ("notes", "计划发展35岁以下党员3名"),
            ],
            &village,
        )
        .await;
    assert_eq!(saved.status, StatusCode::SEE_OTHER, "{}", saved.text());
    assert_eq!(app.audit_count().await, audit + 1, "the change is audited");
    let res = file(&app, CHENTA, 2016, &village).await;
    assert_eq!(figure(&res, "file-population"), "2,901");
    assert!(figure(&res, "file-land").contains("15.5 亩"));
    assert!(res.text().contains("计划发展35岁以下党员3名"));
    assert_eq!(file(&app, CHENTA, 2015, &village).await.text(), last_year);

    // Bad entries name their field and write nothing.
    for (field, value) in [
        ("population", "两千"),
        ("households", "-3"),
        ("land_mu", "15.25"),
    ] {
        let audit = app.audit_count().await;
        let res = app
            .post_form(
                &format!("/orgs/{CHENTA}/file"),
                &[("year", "2016"), (field, value)],
                &village,
            )
            .await;
        assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY, "{field}");
        assert_eq!(app.audit_count().await, audit, "{field}: nothing written");
    }
    let res = app
        .post_form(
            &format!("/orgs/{CHENTA}/file"),
            &[("year", "2017"), ("population", "3000")],
            &village,
        )
        .await;
    assert_eq!(
        res.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "a year not begun"
    );
    assert_eq!(
        figure(&file(&app, CHENTA, 2016, &village).await, "file-population"),
        "2,901"
    );

    // Outside the caller's part of the tree the file does not exist; a member has none.
    for who in [&other_village, &member] {
        assert_eq!(
            app.get(&format!("/orgs/{CHENTA}/file"), who).await.status,
            StatusCode::NOT_FOUND
        );
    }
    let audit = app.audit_count().await;
    let res = app
        .post_form(
            &format!("/orgs/{CHENTA}/file"),
            &[("year", "2016"), ("population", "1")],
            &other_village,
        )
        .await;
    assert_eq!(res.status, StatusCode::NOT_FOUND);
    let res = app
        .post_form(
            &format!("/orgs/{LONGSHAN}/file"),
            &[("year", "2016"), ("population", "1")],
            &app.login("chenta.secretary").await,
        )
        .await;
    assert_eq!(res.status, StatusCode::NOT_FOUND);
    assert_eq!(app.audit_count().await, audit);

    // The town's files: one row per village, the filed ones with their land, as a sheet too.
    let res = file(&app, HEFU, 2016, &town).await;
    assert_eq!(number(&res, "files-villages"), 22);
    assert!(
        res.text()
            .contains(&format!("/orgs/{CHENTA}/file?year=2016"))
    );
    // The city's 985 files page by 100, with the figures over all of them, and find by name.
    let city = app.login("city.admin").await;
    let rows =
        |res: &crate::support::TestResponse| res.text().matches("/file?year=2016\">").count();
    let first = file(&app, "330500", 2016, &city).await;
    assert_eq!(number(&first, "files-villages"), 985);
    assert_eq!(rows(&first), 100);
    assert!(first.text().contains("id=\"next-page\""));
    let last = app.get("/orgs/330500/file?year=2016&page=10", &city).await;
    assert_eq!(rows(&last), 85);
    assert!(!last.text().contains("id=\"next-page\""));
    let found = app
        .get("/orgs/330500/file?year=2016&q=%E9%99%88%E5%A1%94", &city)
        .await;
    assert_eq!(rows(&found), 1, "陈塔村 alone");
    assert!(
        found
            .text()
            .contains(&format!("/orgs/{CHENTA}/file?year=2016"))
    );
    let sheet = app
        .get(&format!("/orgs/{HEFU}/file.xlsx?year=2016"), &town)
        .await;
    assert_eq!(sheet.status, StatusCode::OK);
    let table = baiqian_web::excel::read_first_sheet(&sheet.body).expect("an xlsx");
    assert_eq!(table.len(), 2 + 22, "title, header, 22 villages");
    let header = &table[1];
    let col = |h: &str| header.iter().position(|c| c == h).expect(h);
    let chenta = table
        .iter()
        .find(|r| r.get(col("组织代码")).map(String::as_str) == Some(CHENTA))
        .expect("陈塔村's row");
    assert_eq!(chenta[col("党员数")], (members + 1).to_string());
    assert_eq!(chenta[col("可用土地(亩)")], "15.5");
    assert_eq!(chenta[col("户籍人口")], "2901");
    assert_eq!(
        app.get(&format!("/orgs/{HEFU}/file.xlsx"), &other_village)
            .await
            .status,
        StatusCode::NOT_FOUND
    );
}
both!(
    a_village_file_is_computed_from_the_roster_and_kept_by_year,
    roster
);

/// The file is the booklet the village keeps: every problem not yet closed is listed with its
/// owner, measures, deadline and status, and no closed one is.
async fn the_file_lists_each_open_problem_as_the_booklet_does(app: TestApp) {
    let village = app.login("chenta.secretary").await;
    let rows: Vec<(i64, String, String, String)> = sqlx::query_as(
        "SELECT id, owner_name, deadline, status FROM problems WHERE village_code = $1 ORDER BY id",
    )
    .bind(CHENTA)
    .fetch_all(app.db.pool())
    .await
    .unwrap();
    let open: Vec<_> = rows.iter().filter(|r| r.3 != "verified").collect();
    assert!(!open.is_empty(), "the demo's 陈塔村 has open problems");
    assert!(
        rows.iter().any(|r| r.3 == "verified"),
        "and a closed one to leave out"
    );
    let page = file(&app, CHENTA, 2016, &village).await.text();
    let section = page
        .split("id=\"file-open-problems\"")
        .nth(1)
        .and_then(|s| s.split("</section>").next())
        .expect("the open problems' section");
    for (id, owner, deadline, _) in &open {
        let row = section
            .split(&format!("id=\"file-problem-{id}\""))
            .nth(1)
            .and_then(|s| s.split("</tr>").next())
            .unwrap_or_else(|| panic!("problem {id} listed"));
        assert!(
            row.contains(owner.as_str()) && row.contains(deadline.as_str()),
            "{row}"
        );
    }
    assert_eq!(section.matches("id=\"file-problem-").count(), open.len());
    assert!(
        section.contains(&format!(">{}<", open.len())),
        "the figure is the list's length"
    );
}
both!(the_file_lists_each_open_problem_as_the_booklet_does);

/// The open problems' section of a file page, and its rows' ids.
fn open_section(page: &str) -> (String, Vec<i64>) {
    let section = page
        .split("id=\"file-open-problems\"")
        .nth(1)
        .and_then(|s| s.split("</section>").next())
        .expect("the open problems' section")
        .to_string();
    let ids = section
        .split("id=\"file-problem-")
        .skip(1)
        .filter_map(|s| s.split('"').next()?.parse().ok())
        .collect();
    (section, ids)
}

/// A past year's file shows the problems as they stood when the year ended: not one found
/// after it, one closed within it left out, one closed after it listed as it was, with the
/// deadline it had then; the township's table counts the same overdue.
async fn a_past_years_file_shows_that_years_state(app: TestApp) {
    use serde_json::json;
    let post = |path: String, body: serde_json::Value, who: crate::support::Who| {
        let app = &app;
        async move {
            let res = app.post_json(&path, &body, &who).await;
            assert!(res.status.is_success(), "{path}: {}", res.text());
            res.json()
        }
    };
    let problem = |what: &str, deadline: &str| {
        json!({"village": XINMIN, "description": what, "owner_name": "王建国",
               "measures": "按期整改", "deadline": deadline})
    };
    let create = format!("/api/v1/orgs/{XINMIN}/problems");
    let village = app.token("xinmin.secretary").await;
    let town = app.token("meishan.admin").await;
    // In 2016: one problem found and closed, one found and left open, due before the year ends.
    let closed = post(
        create.clone(),
        problem("活动室门牌缺失", "2016-06-30"),
        village.clone(),
    )
    .await["id"]
        .as_i64()
        .unwrap();
    for step in ["start", "rectify"] {
        post(
            format!("/api/v1/problems/{closed}/steps"),
            json!({"step": step, "note": "已补挂"}),
            village.clone(),
        )
        .await;
    }
    post(
        format!("/api/v1/problems/{closed}/checks"),
        json!({"step": "verify", "note": "已查看"}),
        town.clone(),
    )
    .await;
    let late = post(
        create.clone(),
        problem("三会一课记录不全", "2016-12-20"),
        village.clone(),
    )
    .await["id"]
        .as_i64()
        .unwrap();

    // Into 2017: the late one is brought earlier, worked and closed; a new one is found.
    app.clock.advance_ms(315 * 86_400_000);
    let village = app.token("xinmin.secretary").await;
    let town = app.token("meishan.admin").await;
    post(
        format!("/api/v1/problems/{late}/plan"),
        json!({"owner_name": "王建国", "measures": "补齐记录", "deadline": "2016-12-15",
               "deadline_reason": "按镇里要求提前"}),
        village.clone(),
    )
    .await;
    for step in ["start", "rectify"] {
        post(
            format!("/api/v1/problems/{late}/steps"),
            json!({"step": step, "note": "已补齐"}),
            village.clone(),
        )
        .await;
    }
    post(
        format!("/api/v1/problems/{late}/checks"),
        json!({"step": "verify", "note": "已查看"}),
        town.clone(),
    )
    .await;
    let new = post(
        create,
        problem("党员信息未更新", "2017-03-31"),
        village.clone(),
    )
    .await["id"]
        .as_i64()
        .unwrap();

    let secretary = app.login("xinmin.secretary").await;
    let then = file(&app, XINMIN, 2016, &secretary).await.text();
    let (section, ids) = open_section(&then);
    assert!(ids.contains(&late), "closed only in 2017: {ids:?}");
    assert!(!ids.contains(&closed), "closed in 2016");
    assert!(!ids.contains(&new), "found in 2017");
    let row = section
        .split(&format!("id=\"file-problem-{late}\""))
        .nth(1)
        .and_then(|s| s.split("</tr>").next())
        .unwrap();
    assert!(
        row.contains("2016-12-20") && row.contains("class=\"late\""),
        "the deadline it had then, late at the year's end: {row}"
    );
    assert!(
        section.contains(&format!(">{}<", ids.len())),
        "the figure is the list's length"
    );
    let article = then
        .split("id=\"village-file\"")
        .nth(1)
        .and_then(|s| s.split("</article>").next())
        .expect("the file");
    assert!(
        !article.contains(&format!("href=\"/orgs/{XINMIN}/problems")),
        "a past year's file does not lead to today's board"
    );
    let late_rows = section.matches("<strong class=\"late\">").count() as i64;

    let now = file(&app, XINMIN, 2017, &secretary).await.text();
    let (_, ids) = open_section(&now);
    assert!(ids.contains(&new) && !ids.contains(&late), "{ids:?}");

    let (township,): (String,) = sqlx::query_as("SELECT parent_code FROM orgs WHERE code = $1")
        .bind(XINMIN)
        .fetch_one(app.db.pool())
        .await
        .unwrap();
    let admin = app.login("meishan.admin").await;
    let table = file(&app, &township, 2016, &admin).await.text();
    let overdue: i64 = table
        .split(&format!("href=\"/orgs/{XINMIN}/file?year=2016\""))
        .nth(1)
        .and_then(|s| s.split("</tr>").next())
        .and_then(|row| row.rsplit("class=\"num\">").next())
        .and_then(|cell| cell.split('<').next())
        .and_then(|n| n.replace(',', "").parse().ok())
        .expect("the village's overdue figure");
    assert_eq!(
        overdue, late_rows,
        "the table counts what the file lists as late"
    );
}
both!(a_past_years_file_shows_that_years_state);
