//! A village plan's item closes problems (村村有计划): the item names problems of its own village
//! still open; when the village marks it done, each of them still open is recorded as rectified in
//! the same transaction, and the township checks and closes them (four eyes) — the village never
//! closes its own. Bad links are refused and write nothing.

use axum::http::StatusCode;

use crate::both;
use crate::ledger::{recount_matches, report, status_of};
use crate::support::codes::{LONGSHAN, MEISHAN, XINMIN};
use crate::support::{TestApp, Who};

fn item<'a>(problems: &[&'a str]) -> Vec<(&'a str, &'a str)> {
    let mut fields = vec![
        ("content", "活动室漏雨等问题整改"),
        ("measures", "修缮屋顶，问题清单逐条销号"),
        ("owner", "村党支部书记"),
        ("deadline", "2016-09-30"),
        ("measure", "villages_advanced"),
    ];
    fields.extend(problems.iter().map(|p| ("problem", *p)));
    fields
}

/// Starts `code`'s plan of 2016 as `who` and returns its id.
async fn start_plan(app: &TestApp, who: &Who, code: &str, title: &str) -> i64 {
    let path = format!("/orgs/{code}/plans/2016");
    let res = app.post_form(&path, &[("title", title)], who).await;
    assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.text());
    app.get(&path, who)
        .await
        .between("action=\"/plans/", "/")
        .and_then(|id| id.parse().ok())
        .expect("the plan's forms")
}

async fn a_village_plan_item_rectifies_its_problems_and_the_township_closes_them(app: TestApp) {
    let village = app.login("xinmin.secretary").await;
    let town = app.login("meishan.admin").await;
    let other_village = app.login("longshan.secretary").await;
    // Three problems of 新民村: one open, one already rectified, one the plan leaves alone; and
    // one closed, which no plan may take up.
    let open = report(&app, &village, "2016-09-30", "").await;
    let rectified = report(&app, &village, "2016-09-30", "").await;
    let untouched = report(&app, &village, "2016-09-30", "").await;
    let closed = report(&app, &village, "2016-09-30", "").await;
    for id in [rectified, closed] {
        let res = app
            .post_form(
                &format!("/problems/{id}/steps"),
                &[("step", "rectify"), ("note", "已修缮")],
                &village,
            )
            .await;
        assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.text());
    }
    let res = app
        .post_form(
            &format!("/problems/{closed}/checks"),
            &[("step", "verify"), ("note", "")],
            &town,
        )
        .await;
    assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.text());
    // A problem of another village, for a link that must be refused.
    let res = app
        .post_form(
            &format!("/orgs/{LONGSHAN}/problems"),
            &[
                ("village", LONGSHAN),
                ("source", "survey"),
                ("description", "党员名册未更新"),
                ("item_code", "A03"),
                ("owner_name", "李明"),
                ("owner_login", ""),
                ("measures", "重新核对名册"),
                ("deadline", "2016-09-30"),
            ],
            &other_village,
        )
        .await;
    assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.text());
    let elsewhere: i64 = res
        .location()
        .and_then(|l| l.strip_prefix("/problems/").and_then(|n| n.parse().ok()))
        .expect("redirect to the problem");

    let id = start_plan(&app, &village, XINMIN, "新民村2016年晋位计划").await;
    // The item form offers the village's problems not yet closed, and only those.
    let page = app
        .get(&format!("/orgs/{XINMIN}/plans/2016"), &village)
        .await
        .text();
    for p in [open, rectified, untouched] {
        assert!(
            page.contains(&format!("name=\"problem\" value=\"{p}\"")),
            "problem {p} offered"
        );
    }
    assert!(!page.contains(&format!("name=\"problem\" value=\"{closed}\"")));
    assert!(!page.contains(&format!("name=\"problem\" value=\"{elsewhere}\"")));

    // Another village's problem, a closed one, a number that is none, too many: refused, nothing
    // written.
    let items = format!("/plans/{id}/items");
    let audits = app.audit_count().await;
    let many: Vec<String> = (1..=51).map(|n| n.to_string()).collect();
    let many: Vec<&str> = many.iter().map(String::as_str).collect();
    for bad in [
        vec![elsewhere.to_string()],
        vec![closed.to_string()],
        vec!["x".to_string()],
        vec!["99999999".to_string()],
    ] {
        let bad: Vec<&str> = bad.iter().map(String::as_str).collect();
        let res = app.post_form(&items, &item(&bad), &village).await;
        assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY, "{bad:?}");
    }
    let res = app.post_form(&items, &item(&many), &village).await;
    assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(app.audit_count().await, audits, "refusals write nothing");

    let (open_s, rectified_s) = (open.to_string(), rectified.to_string());
    let res = app
        .post_form(&items, &item(&[&open_s, &rectified_s, &open_s]), &village)
        .await;
    assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.text());
    app.post_form(&format!("/plans/{id}/submit"), &[], &village)
        .await;
    let res = app
        .post_form(
            &format!("/plans/{id}/decide"),
            &[("action", "approve")],
            &town,
        )
        .await;
    assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.text());
    let plan = app
        .db
        .plan_of(&app.node(XINMIN).await, 2016)
        .await
        .unwrap()
        .unwrap();
    let served: Vec<i64> = plan.items[0].problems.iter().map(|p| p.id).collect();
    assert_eq!(served, [open, rectified], "named once each");
    // The page lists them, and says what marking the item done will record: only the open one.
    let page = app
        .get(&format!("/orgs/{XINMIN}/plans/2016"), &village)
        .await;
    let listed = page
        .between(
            &format!("id=\"item-{}-problems\">", plan.items[0].id),
            "</ul>",
        )
        .expect("the item's problems");
    assert!(listed.contains(&format!("/problems/{open}\"")), "{listed}");
    assert!(listed.contains(&format!("/problems/{rectified}\"")));
    assert!(page.text().contains("完成后，1 个问题记为已整改"));

    // Done: the open problem is rectified by the village in the same step; the others stand.
    let done = format!("/plans/{id}/done");
    let first = plan.items[0].id.to_string();
    let res = app.post_form(&done, &[("item", &first)], &village).await;
    assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.text());
    assert_eq!(status_of(&app, open, &town).await, "已整改待验收");
    assert_eq!(status_of(&app, rectified, &town).await, "已整改待验收");
    assert_eq!(status_of(&app, untouched, &town).await, "待整改");
    let history = app.get(&format!("/problems/{open}"), &town).await.text();
    assert!(
        history.contains("新民村2016年晋位计划 · 活动室漏雨等问题整改"),
        "the rectification names the plan and item"
    );
    let res = app.post_form(&done, &[("item", &first)], &village).await;
    assert_eq!(res.status, StatusCode::CONFLICT, "done once");
    recount_matches(&app).await;

    // The village does not close its own work; the township does.
    let check = format!("/problems/{open}/checks");
    let verify = [("step", "verify"), ("note", "")];
    let res = app.post_form(&check, &verify, &village).await;
    assert_eq!(res.status, StatusCode::FORBIDDEN);
    let res = app.post_form(&check, &verify, &town).await;
    assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.text());
    assert_eq!(status_of(&app, open, &village).await, "已销号");
    recount_matches(&app).await;

    // A township's scheme names no problems: the village's work is the village's plan.
    let scheme = start_plan(&app, &town, MEISHAN, "煤山镇2016年整乡提升方案").await;
    let untouched_s = untouched.to_string();
    let res = app
        .post_form(
            &format!("/plans/{scheme}/items"),
            &item(&[&untouched_s]),
            &town,
        )
        .await;
    assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY);
}
both!(a_village_plan_item_rectifies_its_problems_and_the_township_closes_them);

/// The demo's 陈塔村 has its approved 2016 plan: the first item done, its problems rectified
/// and waiting on 和孚镇's check (on the township's task list), the second item still open.
async fn the_demo_village_plan_waits_on_the_township(app: TestApp) {
    let town = app.login("hefu.admin").await;
    let village = app.login("chenta.secretary").await;
    let plan = app
        .db
        .plan_of(&app.node(baiqian_demo::CHENTA).await, 2016)
        .await
        .unwrap()
        .expect("陈塔村's plan");
    assert_eq!(plan.status.as_str(), "approved");
    assert_eq!(plan.items.len(), 2);
    assert!(plan.items[0].done_at.is_some() && plan.items[1].done_at.is_none());
    assert!(
        !plan.items[0].problems.is_empty(),
        "the item serves problems"
    );
    for p in &plan.items[0].problems {
        assert_eq!(status_of(&app, p.id, &village).await, "已整改待验收");
    }
    let tasks = app.get("/api/v1/me/tasks", &town).await.json();
    assert!(
        tasks["items"]
            .as_array()
            .unwrap()
            .iter()
            .any(|t| t["kind"] == "problem_verify"),
        "{tasks}"
    );
    let page = app
        .get(
            &format!("/orgs/{}/plans/2016", baiqian_demo::CHENTA),
            &village,
        )
        .await
        .text();
    assert!(page.contains("陈塔村2016年晋位计划"));
    // Its history names the village's and the township's own accounts, no made-up login.
    let logins: Vec<(String,)> = sqlx::query_as(
        "SELECT DISTINCT actor_login FROM plan_steps WHERE plan_id = $1 ORDER BY actor_login",
    )
    .bind(plan.id)
    .fetch_all(app.db.pool())
    .await
    .unwrap();
    let logins: Vec<&str> = logins.iter().map(|(l,)| l.as_str()).collect();
    assert!(logins.contains(&"chenta.secretary"), "{logins:?}");
    assert!(logins.contains(&"hefu.admin"), "{logins:?}");
    assert!(!page.contains("demo."), "no made-up login on the page");
}
both!(the_demo_village_plan_waits_on_the_township);

/// In Chromium, 新民村's secretary picks the problems a new item serves on a phone, and 陈塔村's
/// approved plan shows its done item with its problems, at 360 and 1440 px, in Chinese and
/// English. Screenshots: `target/browser-plan-items-*.png`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn in_the_browser_a_village_plan_names_its_problems() {
    use crate::browser::{keep_screenshot, overflow, required, submit_login, with_browser};
    use fantoccini::Locator;
    let Some((driver, chromium)) = required() else {
        return;
    };
    let Some(app) = TestApp::new(baiqian_store::Backend::Sqlite).await else {
        return;
    };
    let village = app.login("xinmin.secretary").await;
    let problem = report(&app, &village, "2016-09-30", "").await;
    start_plan(&app, &village, XINMIN, "新民村2016年晋位计划").await;
    let xinmin = format!("/orgs/{XINMIN}/plans/2016");
    let chenta = format!("/orgs/{}/plans/2016", baiqian_demo::CHENTA);
    with_browser(&app, &driver, &chromium, move |c, base| async move {
        submit_login(&c, &base, "xinmin.secretary").await?;
        c.wait().for_element(Locator::Css("main")).await?;
        c.set_window_size(360, 900).await?;
        c.goto(&format!("{base}{xinmin}")).await?;
        c.wait().for_element(Locator::Id("new-item")).await?;
        let offered = c
            .find(Locator::Css(&format!(
                "#pi-problems input[value='{problem}']"
            )))
            .await?;
        offered.click().await?;
        assert!(overflow(&c).await? <= 0, "the form is wider than the phone");
        keep_screenshot(&c, "browser-plan-items-form-360.png").await?;
        Ok(())
    })
    .await;
    with_browser(&app, &driver, &chromium, move |c, base| async move {
        submit_login(&c, &base, "chenta.secretary").await?;
        c.wait().for_element(Locator::Css("main")).await?;
        for (lang, width) in [("zh-CN", 360), ("zh-CN", 1440), ("en", 360), ("en", 1440)] {
            c.set_window_size(width, 900).await?;
            c.goto(&format!("{base}/lang/{lang}?back={chenta}")).await?;
            c.wait()
                .for_element(Locator::Css("ul.item-problems"))
                .await?;
            assert!(
                overflow(&c).await? <= 0,
                "the plan is wider than {width} px in {lang}"
            );
            keep_screenshot(&c, &format!("browser-plan-items-{lang}-{width}.png")).await?;
        }
        Ok(())
    })
    .await;
}

/// A village plan from officials' own sheet names the problems its items serve (issue 13's
/// link, now through the importer): by description when one problem reads so, or by number as
/// the export writes them; an unknown, ambiguous or foreign one is the cell's error and, with
/// "all", nothing is written; the plan goes out and back in with its links.
async fn a_village_plans_sheet_names_its_problems(app: TestApp) {
    let village = app.login("xinmin.secretary").await;
    // Two problems that read the same, and one of its own words.
    let first = report(&app, &village, "2016-09-30", "").await;
    let second = report(&app, &village, "2016-09-30", "").await;
    let res = app
        .post_form(
            &format!("/orgs/{XINMIN}/problems"),
            &[
                ("village", XINMIN),
                ("source", "survey"),
                ("description", "党员名册未及时更新"),
                ("item_code", "A03"),
                ("owner_name", "李明"),
                ("owner_login", ""),
                ("measures", "重新核对名册"),
                ("deadline", "2016-09-30"),
            ],
            &village,
        )
        .await;
    assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.text());
    let roster: i64 = res
        .location()
        .and_then(|l| l.strip_prefix("/problems/").and_then(|n| n.parse().ok()))
        .expect("redirect to the problem");
    let plan = start_plan(&app, &village, XINMIN, "新民村2016年晋位计划").await;
    let by_number = format!("#{first}；#{second} 党员活动室漏雨，无法开展活动");
    let file = crate::support::xlsx(&[
        vec!["新民村2016年晋位计划"],
        vec![
            "工作任务",
            "推进措施",
            "负责人",
            "完成时间",
            "目标",
            "解决问题",
        ],
        vec![
            "更新党员名册",
            "逐户核对",
            "村党支部书记",
            "2016-06-30",
            "",
            "党员名册未及时更新",
        ],
        vec![
            "修缮活动室",
            "修屋顶",
            "村党支部书记",
            "2016-09-30",
            "",
            &by_number,
        ],
        vec![
            "修缮活动室",
            "",
            "村党支部书记",
            "2016-09-30",
            "",
            "党员活动室漏雨，无法开展活动",
        ],
        vec![
            "整治环境",
            "",
            "村党支部书记",
            "2016-09-30",
            "",
            "#99999999",
        ],
        vec![
            "整治环境",
            "",
            "村党支部书记",
            "2016-09-30",
            "",
            "不存在的问题",
        ],
    ]);
    let import = format!("/orgs/{XINMIN}/plans/2016/import");
    let links = || {
        let app = &app;
        async move {
            let rows: Vec<(i64, i64)> = sqlx::query_as(
                "SELECT i.position, l.problem_id FROM plan_item_problems l \
                 JOIN plan_items i ON i.id = l.item_id WHERE i.plan_id = $1 \
                 ORDER BY i.position, l.problem_id",
            )
            .bind(plan)
            .fetch_all(app.db.pool())
            .await
            .unwrap();
            rows
        }
    };
    let audits = app.audit_count().await;
    let res = app.post_file(&import, &file, "all", &village).await;
    assert_eq!(
        res.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        res.text()
    );
    let report = res.between("id=\"import-report\"", "</table>").unwrap();
    for row in ["5", "6", "7"] {
        assert!(
            report.contains(&format!(
                "<td class=\"num\">{row}</td><td>对应问题 (problems)</td>"
            )),
            "row {row}: {report}"
        );
    }
    assert!(
        report.contains("#99999999") && report.contains("不存在的问题"),
        "{report}"
    );
    assert_eq!(app.audit_count().await, audits, "nothing written");
    assert!(links().await.is_empty());

    let res = app.post_file(&import, &file, "good_rows", &village).await;
    assert!(
        res.text().contains("id=\"import-result\""),
        "{}",
        res.text()
    );
    let mut want = vec![(1, roster), (2, first), (2, second)];
    want.sort();
    assert_eq!(links().await, want);

    // Out and back in: the same items again, serving the same problems.
    let export = app
        .get(&format!("/orgs/{XINMIN}/plans/2016/xlsx"), &village)
        .await;
    assert_eq!(export.status, StatusCode::OK);
    let res = app.post_file(&import, &export.body, "all", &village).await;
    assert!(
        res.text().contains("id=\"import-result\""),
        "{}",
        res.text()
    );
    want.extend([(3, roster), (4, first), (4, second)]);
    want.sort();
    assert_eq!(links().await, want);
}
both!(a_village_plans_sheet_names_its_problems);
