//! The campaign's targets and whole-township advancement: figures counted from the ratings
//! (a village's new stars move the city's figure), every figure opening a list of exactly that
//! many rows, a township advancing when its last village reaches four stars, model townships
//! named only by the city, only among advanced townships, with a reason, and nothing written
//! on refusal.

use axum::http::StatusCode;
use baiqian_domain::scope::Scope;

use crate::both;
use crate::rating::approve_xinmin_2016;
use crate::support::codes::{CHANGXING, CITY, MEISHAN, XINMIN};
use crate::support::{TestApp, Who, between};

/// The API's item of a measure: (count, goal, actual).
async fn item(app: &TestApp, who: &Who, code: &str, year: i64, key: &str) -> (i64, i64, f64) {
    let res = app
        .get(&format!("/api/v1/orgs/{code}/targets/{year}"), who)
        .await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.text());
    let body = res.json();
    let it = body["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["key"] == key)
        .unwrap_or_else(|| panic!("{key} in {body}"))
        .clone();
    (
        it["count"].as_i64().unwrap(),
        it["goal"].as_i64().unwrap(),
        it["actual"].as_f64().unwrap(),
    )
}

/// The rows of the list behind a figure, every page of it; the total it shows is their number.
pub(crate) async fn listed(app: &TestApp, who: &Who, path: &str) -> Vec<String> {
    let mut names = Vec::new();
    let mut next = Some(path.to_string());
    let mut total = None;
    while let Some(path) = next.take() {
        let res = app.get(&path, who).await;
        assert_eq!(res.status, StatusCode::OK, "{path}: {}", res.text());
        let text = res.text();
        let rows: Vec<String> = text
            .split("<tr class=\"counted-row\">")
            .skip(1)
            .map(|row| {
                let link = between(row, "<a href=\"", "</a>").unwrap_or_default();
                link.split_once('>')
                    .map(|(_, n)| n.to_string())
                    .unwrap_or_default()
            })
            .collect();
        assert!(rows.len() <= 100, "a page holds at most 100 rows");
        names.extend(rows);
        total = between(
            &text,
            "id=\"counted-total\"><span class=\"figure\">",
            "</span>",
        )
        .map(|n| n.replace(',', "").parse::<usize>().expect("a total"));
        next = text.find("\" id=\"next-page\"").map(|end| {
            let start = text[..end]
                .rfind("<a href=\"")
                .map_or(end, |i| i + "<a href=\"".len());
            text[start..end].replace("&amp;", "&")
        });
    }
    assert_eq!(
        total,
        Some(names.len()),
        "{path}: the total is the rows listed"
    );
    names
}

async fn targets_are_counted_from_the_ratings(app: TestApp) {
    let city = app.token("city.admin").await;
    // The article's 2016 targets, as data.
    let (pioneers, goal, _) = item(&app, &city, CITY, 2016, "pioneer_villages").await;
    assert_eq!(goal, 80);
    let (advanced, goal, actual) = item(&app, &city, CITY, 2016, "villages_advanced").await;
    assert_eq!(goal, 70);
    assert_eq!(actual, baiqian_domain::plan::percent(advanced, 985));
    // Every figure opens a list of exactly that many, and the rest are the ones not counted.
    for (key, n) in [
        ("pioneer_villages", pioneers),
        ("villages_advanced", advanced),
    ] {
        let rows = listed(&app, &city, &format!("/orgs/{CITY}/targets/2016/{key}")).await;
        assert_eq!(rows.len() as i64, n, "{key}");
        let rest = listed(
            &app,
            &city,
            &format!("/orgs/{CITY}/targets/2016/{key}?missing=1"),
        )
        .await;
        assert_eq!(rows.len() + rest.len(), 985, "{key}");
    }
    // A county's count goal is its share of the city's, rounded up.
    let (_, county_goal, _) = item(&app, &city, CHANGXING, 2016, "pioneer_villages").await;
    let county_villages = app
        .db
        .village_count(&app.node(CHANGXING).await)
        .await
        .unwrap();
    assert_eq!(county_goal, (80 * county_villages + 984) / 985);

    // 新民村's 2016 rating approved at full marks: five stars, so it has advanced.
    let before_county = item(&app, &city, CHANGXING, 2016, "villages_advanced")
        .await
        .0;
    let before = listed(
        &app,
        &city,
        &format!("/orgs/{MEISHAN}/targets/2016/villages_advanced"),
    )
    .await;
    assert!(!before.iter().any(|n| n == "新民村"));
    approve_xinmin_2016(&app).await;
    assert_eq!(
        item(&app, &city, CITY, 2016, "villages_advanced").await.0,
        advanced + 1
    );
    assert_eq!(
        item(&app, &city, CHANGXING, 2016, "villages_advanced")
            .await
            .0,
        before_county + 1
    );
    let after = listed(
        &app,
        &city,
        &format!("/orgs/{MEISHAN}/targets/2016/villages_advanced"),
    )
    .await;
    assert!(after.iter().any(|n| n == "新民村"), "{after:?}");

    // The page shows the same figure, and the children's table sums to it.
    let res = app.get(&format!("/orgs/{CITY}/targets/2016"), &city).await;
    assert_eq!(res.status, StatusCode::OK);
    let text = res.text();
    assert!(text.contains(&format!("{} / 985", advanced + 1)), "{text}");
    assert!(
        !text.contains(&format!("{pioneers} / 985")),
        "a count is not shown twice"
    );
    assert!(text.contains("target-children"));

    // Out of scope, or a year without targets: not there.
    let wuxing = app.token("wuxing.admin").await;
    for path in [
        format!("/api/v1/orgs/{MEISHAN}/targets/2016"),
        format!("/orgs/{MEISHAN}/targets/2016"),
        format!("/orgs/{MEISHAN}/targets/2016/pioneer_villages"),
        format!("/orgs/{MEISHAN}/advancement/2016"),
    ] {
        assert_eq!(
            app.get(&path, &wuxing).await.status,
            StatusCode::NOT_FOUND,
            "{path}"
        );
    }
    for path in [
        format!("/api/v1/orgs/{CITY}/targets/2017"),
        format!("/orgs/{CITY}/targets/2016/no_such_measure"),
        format!("/orgs/{CITY}/targets/2016/model_townships"),
    ] {
        assert_eq!(
            app.get(&path, &city).await.status,
            StatusCode::NOT_FOUND,
            "{path}"
        );
    }
    // A member reads no targets.
    let member = app.token("xinmin.member").await;
    assert_eq!(
        app.get(&format!("/api/v1/orgs/{XINMIN}/targets/2016"), &member)
            .await
            .status,
        StatusCode::NOT_FOUND
    );
}
both!(targets_are_counted_from_the_ratings);

/// The advancement page's state of a township.
async fn township_state(app: &TestApp, who: &Who, year: i64) -> String {
    let res = app
        .get(&format!("/orgs/{CHANGXING}/advancement/{year}"), who)
        .await;
    assert_eq!(res.status, StatusCode::OK);
    res.between(&format!("id=\"t-{MEISHAN}\""), "</tr>")
        .unwrap_or_default()
}

async fn a_township_advances_when_its_last_village_reaches_four_stars(app: TestApp) {
    let city = app.login("city.admin").await;
    let meishan = app.node(MEISHAN).await;
    let round = app.db.round_for(&meishan, 2016).await.unwrap().unwrap();
    // Set-up: every other village of 煤山镇 approved at four stars, none lagging.
    sqlx::query(
        "UPDATE assessments SET stage = 'approved', stars = 4, class = 'advancing', \
         class_manual = NULL WHERE round_id = $1 AND org_path >= $2 AND org_path < $3 \
         AND org_code <> $4",
    )
    .bind(round.id)
    .bind(&meishan.path)
    .bind(baiqian_domain::org::path_upper_bound(&meishan.path))
    .bind(XINMIN)
    .execute(app.db.pool())
    .await
    .unwrap();
    let before = item(&app, &city, CITY, 2016, "townships_advanced").await.0;
    let row = township_state(&app, &city, 2016).await;
    assert!(row.contains("差1个村"), "{row}");
    assert!(!row.contains("已整乡提升"), "{row}");
    // The rule also asks for the township's scheme approved with every item done.
    assert!(
        row.contains("乡镇方案已批准且事项全部完成（1项未完成）"),
        "{row}"
    );
    let township = app.login("meishan.admin").await;
    let county = app.login("changxing.admin").await;
    app.post_form(
        &format!("/orgs/{MEISHAN}/plans/2016"),
        &[("title", "煤山镇2016年整乡提升方案")],
        &township,
    )
    .await;
    let id = plan_id(&app, &township, MEISHAN).await;
    let res = app
        .post_form(
            &format!("/plans/{id}/items"),
            &[
                ("content", "后进村摘帽"),
                ("owner", "镇组织委员"),
                ("deadline", "2016-11-30"),
            ],
            &township,
        )
        .await;
    assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.text());
    app.post_form(&format!("/plans/{id}/submit"), &[], &township)
        .await;
    app.post_form(
        &format!("/plans/{id}/decide"),
        &[("action", "approve")],
        &county,
    )
    .await;
    let row = township_state(&app, &city, 2016).await;
    assert!(
        row.contains("（1项未完成）"),
        "approved, its item still open: {row}"
    );
    let item_id = app.db.plan_of(&meishan, 2016).await.unwrap().unwrap().items[0]
        .id
        .to_string();
    let res = app
        .post_form(
            &format!("/plans/{id}/done"),
            &[("item", &item_id)],
            &township,
        )
        .await;
    assert_eq!(res.status, StatusCode::SEE_OTHER);
    let row = township_state(&app, &city, 2016).await;
    assert!(!row.contains("项未完成"), "{row}");
    assert!(row.contains("差1个村"), "{row}");
    // Naming it a model township now is refused, and writes nothing.
    let audit = app.audit_count().await;
    let path = format!("/orgs/{MEISHAN}/advancement/2016/model");
    let res = app
        .post_form(&path, &[("reason", "全镇村级组织整体过硬")], &city)
        .await;
    assert_eq!(res.status, StatusCode::CONFLICT, "{}", res.text());
    assert_eq!(app.audit_count().await, audit);

    // The last village reaches four stars or more: the township has advanced as a whole.
    approve_xinmin_2016(&app).await;
    let row = township_state(&app, &city, 2016).await;
    assert!(row.contains("已整乡提升"), "{row}");
    assert_eq!(
        item(&app, &city, CITY, 2016, "townships_advanced").await.0,
        before + 1
    );
    let advanced = listed(
        &app,
        &city,
        &format!("/orgs/{CHANGXING}/targets/2016/townships_advanced"),
    )
    .await;
    assert!(advanced.iter().any(|n| n == "煤山镇"), "{advanced:?}");

    // A model township: not by the county, not without a reason; by the city, with one.
    let audit = app.audit_count().await;
    let res = app
        .post_form(&path, &[("reason", "全镇过硬")], &county)
        .await;
    assert_eq!(res.status, StatusCode::FORBIDDEN);
    let res = app.post_form(&path, &[("reason", " ")], &city).await;
    assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(app.audit_count().await, audit);
    let res = app
        .post_form(
            &path,
            &[("reason", "全镇村级组织整体过硬，经验在全市推广")],
            &city,
        )
        .await;
    assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.text());
    assert_eq!(app.audit_count().await, audit + 1);
    let row = township_state(&app, &city, 2016).await;
    assert!(row.contains("经验在全市推广"), "{row}");
    // Once a year.
    let res = app.post_form(&path, &[("reason", "再次命名")], &city).await;
    assert_eq!(res.status, StatusCode::CONFLICT);
    assert_eq!(app.audit_count().await, audit + 1);
    // The store says the same whatever the caller: a village is no township.
    let campaign = app.db.campaign_for(&meishan).await.unwrap().unwrap();
    let err = app
        .db
        .designate_model_township(
            &baiqian_store::Actor {
                user_id: None,
                login: "t".into(),
                role: baiqian_domain::role::Role::CityAdmin,
                scope: Scope::everything(),
            },
            &campaign,
            2016,
            &baiqian_domain::org::OrgCode::parse(XINMIN).unwrap(),
            "理由充分",
            0,
        )
        .await;
    assert!(
        matches!(err, Err(baiqian_store::StoreError::Invalid(_))),
        "{err:?}"
    );
}
both!(a_township_advances_when_its_last_village_reaches_four_stars);

/// A city admin reads the campaign's targets and a county's, and the townships' advancement, at
/// a phone's 360 px and a desk's 1440 px in both languages: nothing wider than the screen; a
/// tap on a figure opens a list of exactly that many villages. Screenshots go to
/// `target/browser-targets-*.png` for a person to look at.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_city_admin_reads_the_targets_on_a_phone_and_a_desk() {
    use crate::browser::{keep_screenshot, overflow, required, submit_login, with_browser};
    use fantoccini::Locator;
    let Some((driver, chromium)) = required() else {
        return;
    };
    let Some(app) = TestApp::new(baiqian_store::Backend::Sqlite).await else {
        return;
    };
    with_browser(&app, &driver, &chromium, move |c, base| async move {
        submit_login(&c, &base, "city.admin").await?;
        c.wait().for_element(Locator::Css("main")).await?;
        let pages = [
            ("city", format!("/orgs/{CITY}/targets/2016")),
            ("county", format!("/orgs/{CHANGXING}/targets/2016")),
            ("advancement", format!("/orgs/{CHANGXING}/advancement/2016")),
        ];
        for lang in ["zh-CN", "en"] {
            c.goto(&format!("{base}/lang/{lang}?back=/")).await?;
            for width in [360u32, 1440] {
                c.set_window_size(width, 900).await?;
                for (name, path) in &pages {
                    c.goto(&format!("{base}{path}")).await?;
                    c.wait().for_element(Locator::Css("main h1")).await?;
                    let over = overflow(&c).await?;
                    assert!(
                        over <= 0,
                        "{name} in {lang} at {width} px: {over} px too wide"
                    );
                    keep_screenshot(&c, &format!("browser-targets-{name}-{lang}-{width}.png"))
                        .await?;
                }
            }
        }
        // The pioneer figure opens its villages: as many rows as it says.
        c.goto(&format!("{base}/orgs/{CITY}/targets/2016")).await?;
        let link = c
            .find(Locator::Css("#target-pioneer_villages a.figure"))
            .await?;
        let figure: i64 = link.text().await?.replace(',', "").parse().unwrap();
        link.click().await?;
        c.wait().for_element(Locator::Id("counted-total")).await?;
        let rows = c.find_all(Locator::Css("tr.counted-row")).await?.len() as i64;
        assert_eq!(rows, figure);
        Ok(())
    })
    .await;
}

/// The kinds of the tasks waiting for `who` that lead to 煤山镇's plan (the demo's other
/// plans put tasks of their own on the same lists).
async fn task_kinds(app: &TestApp, who: &Who) -> Vec<String> {
    let res = app.get("/api/v1/me/tasks", who).await;
    assert_eq!(res.status, StatusCode::OK);
    res.json()["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|t| t["url"] == format!("/orgs/{MEISHAN}/plans/2016"))
        .map(|t| t["kind"].as_str().unwrap().to_string())
        .collect()
}

/// The plan of a node in a year as the page shows it: its status code.
async fn plan_status(app: &TestApp, who: &Who, code: &str) -> Option<String> {
    let res = app.get(&format!("/orgs/{code}/plans/2016"), who).await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.text());
    res.between("data-status=\"", "\"")
}

/// The id of a node's plan of 2016, from its page's forms.
async fn plan_id(app: &TestApp, who: &Who, code: &str) -> i64 {
    let res = app.get(&format!("/orgs/{code}/plans/2016"), who).await;
    res.between("action=\"/plans/", "/")
        .and_then(|id| id.parse().ok())
        .unwrap_or_else(|| panic!("no plan form on {code}'s page"))
}

async fn a_township_scheme_goes_up_and_the_county_decides(app: TestApp) {
    let township = app.login("meishan.admin").await;
    let county = app.login("changxing.admin").await;
    let other_county = app.login("wuxing.admin").await;
    let city = app.login("city.admin").await;
    assert_eq!(plan_status(&app, &township, MEISHAN).await, None);
    // Only the township writes its scheme: not the county above, not the city.
    let path = format!("/orgs/{MEISHAN}/plans/2016");
    let audit = app.audit_count().await;
    for who in [&county, &city] {
        let res = app
            .post_form(&path, &[("title", "煤山镇整乡提升方案")], who)
            .await;
        assert_eq!(res.status, StatusCode::FORBIDDEN);
    }
    let res = app.post_form(&path, &[("title", " ")], &township).await;
    assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(app.audit_count().await, audit);
    let res = app
        .post_form(&path, &[("title", "煤山镇2016年整乡提升方案")], &township)
        .await;
    assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.text());
    assert_eq!(
        plan_status(&app, &township, MEISHAN).await.as_deref(),
        Some("draft")
    );
    let id = plan_id(&app, &township, MEISHAN).await;

    // Nothing to send up yet; then an item, checked.
    let submit = format!("/plans/{id}/submit");
    let res = app.post_form(&submit, &[], &township).await;
    assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY);
    let items = format!("/plans/{id}/items");
    let item = |deadline: &'static str| {
        vec![
            ("content", "后进村摘帽"),
            ("measures", "每村一名镇领导联系，第一书记驻村"),
            ("owner", "镇组织委员"),
            ("deadline", deadline),
            ("measure", "townships_advanced"),
        ]
    };
    let res = app.post_form(&items, &item("2016-13-01"), &township).await;
    assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY);
    let res = app.post_form(&items, &item("2016-11-30"), &township).await;
    assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.text());
    let res = app.post_form(&submit, &[], &township).await;
    assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.text());
    assert_eq!(
        plan_status(&app, &county, MEISHAN).await.as_deref(),
        Some("submitted")
    );
    // The county finds it on its task list; the other county does not.
    assert!(
        task_kinds(&app, &county)
            .await
            .contains(&"plan_approval".to_string())
    );
    assert!(
        !task_kinds(&app, &other_county)
            .await
            .contains(&"plan_approval".to_string())
    );
    // Sent up, it no longer changes.
    let res = app.post_form(&items, &item("2016-11-30"), &township).await;
    assert_eq!(res.status, StatusCode::CONFLICT);

    // The order holds: the township cannot approve its own scheme, another county cannot see
    // it, the county sends it back only with a reason.
    let decide = format!("/plans/{id}/decide");
    let audit = app.audit_count().await;
    let res = app
        .post_form(&decide, &[("action", "approve")], &township)
        .await;
    assert_eq!(res.status, StatusCode::FORBIDDEN);
    let res = app
        .post_form(&decide, &[("action", "approve")], &other_county)
        .await;
    assert_eq!(res.status, StatusCode::NOT_FOUND);
    let res = app
        .post_form(&decide, &[("action", "send_back"), ("reason", "")], &county)
        .await;
    assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(app.audit_count().await, audit);
    let res = app
        .post_form(
            &decide,
            &[
                ("action", "send_back"),
                ("reason", "请补充每个后进村的摘帽时限"),
            ],
            &county,
        )
        .await;
    assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.text());
    let page = app.get(&path, &township).await.text();
    assert!(
        page.contains("请补充每个后进村的摘帽时限"),
        "the reason is shown"
    );
    assert_eq!(
        plan_status(&app, &township, MEISHAN).await.as_deref(),
        Some("sent_back")
    );
    assert!(
        task_kinds(&app, &township)
            .await
            .contains(&"plan_sent_back".to_string())
    );
    assert!(
        !task_kinds(&app, &county)
            .await
            .contains(&"plan_approval".to_string())
    );

    // Put right and sent up again; approved; then its items are done one by one.
    let res = app.post_form(&items, &item("2016-10-31"), &township).await;
    assert_eq!(res.status, StatusCode::SEE_OTHER);
    app.post_form(&submit, &[], &township).await;
    let res = app
        .post_form(&decide, &[("action", "approve")], &county)
        .await;
    assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.text());
    assert_eq!(
        plan_status(&app, &city, MEISHAN).await.as_deref(),
        Some("approved")
    );
    let res = app
        .post_form(&decide, &[("action", "approve")], &county)
        .await;
    assert_eq!(res.status, StatusCode::CONFLICT, "approved once");
    let plan = app
        .db
        .plan_of(&app.node(MEISHAN).await, 2016)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(plan.items.len(), 2);
    assert_eq!(
        plan.steps
            .iter()
            .map(|s| s.action.as_str())
            .collect::<Vec<_>>(),
        ["submit", "send_back", "submit", "approve"]
    );
    let done = format!("/plans/{id}/done");
    let first = plan.items[0].id.to_string();
    let res = app.post_form(&done, &[("item", &first)], &county).await;
    assert_eq!(
        res.status,
        StatusCode::FORBIDDEN,
        "the county does not do the township's work"
    );
    let res = app.post_form(&done, &[("item", &first)], &township).await;
    assert_eq!(res.status, StatusCode::SEE_OTHER);
    // The county's page lists the scheme with its items done.
    let res = app
        .get(&format!("/orgs/{CHANGXING}/plans/2016"), &county)
        .await;
    let row = res
        .between(&format!("/orgs/{MEISHAN}/plans/2016\">"), "</tr>")
        .unwrap();
    assert!(row.contains("1 / 2"), "{row}");
}
both!(a_township_scheme_goes_up_and_the_county_decides);

/// A county admin, in Chromium, opens a township's scheme sent up for approval and approves it;
/// the page says so at a phone's width. Screenshots: `target/browser-plan-*.png`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn in_the_browser_a_county_admin_approves_a_township_scheme() {
    use crate::browser::{keep_screenshot, overflow, required, submit_login, with_browser};
    use fantoccini::Locator;
    let Some((driver, chromium)) = required() else {
        return;
    };
    let Some(app) = TestApp::new(baiqian_store::Backend::Sqlite).await else {
        return;
    };
    let township = app.login("meishan.admin").await;
    let path = format!("/orgs/{MEISHAN}/plans/2016");
    app.post_form(&path, &[("title", "煤山镇2016年整乡提升方案")], &township)
        .await;
    let id = plan_id(&app, &township, MEISHAN).await;
    let res = app
        .post_form(
            &format!("/plans/{id}/items"),
            &[
                ("content", "后进村摘帽"),
                ("measures", "每村一名镇领导联系"),
                ("owner", "镇组织委员"),
                ("deadline", "2016-11-30"),
                ("measure", "townships_advanced"),
            ],
            &township,
        )
        .await;
    assert_eq!(res.status, StatusCode::SEE_OTHER);
    app.post_form(&format!("/plans/{id}/submit"), &[], &township)
        .await;
    with_browser(&app, &driver, &chromium, move |c, base| async move {
        submit_login(&c, &base, "changxing.admin").await?;
        c.wait().for_element(Locator::Css("main")).await?;
        c.set_window_size(360, 900).await?;
        c.goto(&format!("{base}{path}")).await?;
        c.wait().for_element(Locator::Id("approve-plan")).await?;
        assert!(
            overflow(&c).await? <= 0,
            "the scheme is wider than the phone"
        );
        keep_screenshot(&c, "browser-plan-submitted-360.png").await?;
        c.find(Locator::Id("approve-plan")).await?.click().await?;
        c.wait()
            .for_element(Locator::Css("#plan[data-status=approved]"))
            .await?;
        let status = c.find(Locator::Id("plan-status")).await?.text().await?;
        assert_eq!(status, "已批准");
        assert!(
            c.find(Locator::Id("approve-plan")).await.is_err(),
            "decided once"
        );
        keep_screenshot(&c, "browser-plan-approved-360.png").await?;
        c.set_window_size(1440, 900).await?;
        keep_screenshot(&c, "browser-plan-approved-1440.png").await?;
        Ok(())
    })
    .await;
    assert_eq!(
        app.db
            .plan_of(&app.node(MEISHAN).await, 2016)
            .await
            .unwrap()
            .unwrap()
            .status,
        baiqian_domain::plan::PlanStatus::Approved
    );
}

async fn the_demo_counties_have_their_plans_and_schemes_wait(app: TestApp) {
    let city = app.token("city.admin").await;
    let res = app.get(&format!("/orgs/{CITY}/plans/2016"), &city).await;
    assert_eq!(res.status, StatusCode::OK);
    let table = res.between("id=\"children-plans\"", "</table>").unwrap();
    assert_eq!(table.matches("已批准").count(), 4, "{table}");
    assert_eq!(table.matches("待审批").count(), 1, "{table}");
    // The city is told of 安吉县's plan; 长兴县 of 洪桥镇's scheme.
    let waiting = |items: serde_json::Value| -> Vec<String> {
        items["items"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|t| t["kind"] == "plan_approval")
            .map(|t| t["url"].as_str().unwrap().to_string())
            .collect()
    };
    let city_tasks = waiting(app.get("/api/v1/me/tasks", &city).await.json());
    assert_eq!(city_tasks, ["/orgs/330523/plans/2016"]);
    let county = app.token("changxing.admin").await;
    let county_tasks = waiting(app.get("/api/v1/me/tasks", &county).await.json());
    assert_eq!(county_tasks, ["/orgs/330522101/plans/2016"]);
    // 和孚镇's scheme: approved, its first item done.
    let hefu = app
        .db
        .plan_of(&app.node(baiqian_demo::ledger::HEFU).await, 2016)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(hefu.status, baiqian_domain::plan::PlanStatus::Approved);
    assert_eq!(hefu.items.iter().filter(|i| i.done_at.is_some()).count(), 1);
}
both!(the_demo_counties_have_their_plans_and_schemes_wait);
