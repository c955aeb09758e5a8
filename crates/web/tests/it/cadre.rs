//! The cadres: the demo's figures as the article gives them, a township adjusting an unfit
//! secretary through the HTTP app (with its reason, the history kept, nothing written on a
//! refusal), a county dispatching a first secretary, the township recording reports, and the
//! tasks that fall due.

use axum::http::StatusCode;

use crate::both;
use crate::support::codes::{CHANGXING, CITY, MEISHAN, WUXING, XINMIN};
use crate::support::{TestApp, Who};

async fn summary(app: &TestApp, who: &Who, code: &str) -> serde_json::Value {
    let res = app
        .get(&format!("/api/v1/orgs/{code}/cadres/summary"), who)
        .await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.text());
    res.json()
}

async fn the_demo_has_the_articles_cadres(app: TestApp) {
    let city = app.token("city.admin").await;
    let s = summary(&app, &city, CITY).await;
    assert_eq!(s["first_secretaries"], 233, "{s}");
    assert_eq!(s["stationed"], 60, "{s}");
    assert_eq!(s["secretaries_adjusted"], 32, "{s}");
    assert_eq!(s["villages"], 985, "{s}");
    assert_eq!(s["secretaries"], 985, "{s}");
    // The counties' figures add up to the city's.
    let mut sum = 0;
    for county in ["330502", "330503", "330521", "330522", "330523"] {
        sum += summary(&app, &city, county).await["first_secretaries"]
            .as_i64()
            .unwrap();
    }
    assert_eq!(sum, 233);
    // The city's table by county shows the same figures as the API.
    let changxing = summary(&app, &city, CHANGXING).await;
    let page = app.get(&format!("/orgs/{CITY}/cadres"), &city).await;
    let row = page
        .between(&format!("/orgs/{CHANGXING}/cadres\">"), "</tr>")
        .unwrap();
    assert!(
        row.contains(&format!(
            "{} / {}",
            changxing["secretaries"], changxing["villages"]
        )) && row.contains(&format!(">{}</td>", changxing["first_secretaries"])),
        "{row} against {changxing}"
    );
    // A county reads its own, not another's.
    let changxing = app.token("changxing.admin").await;
    let res = app
        .get(&format!("/api/v1/orgs/{WUXING}/cadres/summary"), &changxing)
        .await;
    assert_eq!(res.status, StatusCode::NOT_FOUND);
    // 向阳村's 杨祥春, called back from his company early in 2012.
    let xiangyang = app
        .db
        .org_children(
            &baiqian_domain::scope::Scope::everything(),
            &baiqian_domain::org::OrgCode::parse("330503102").unwrap(),
            false,
        )
        .await
        .unwrap()
        .into_iter()
        .find(|o| o.name == "向阳村")
        .expect("向阳村 in 双林镇");
    let page = app
        .get(&format!("/orgs/{}/cadres", xiangyang.code.as_str()), &city)
        .await;
    assert_eq!(page.status, StatusCode::OK);
    let current = page.between("id=\"current-secretary\"", "</dl>").unwrap();
    assert!(current.contains("杨祥春"), "{current}");
    assert!(current.contains("能人回归"), "{current}");
    assert!(current.contains("2012-02-01"), "{current}");
    // Every figure opens a list of exactly that many (a page of 100 at most).
    let list = app
        .get(&format!("/orgs/{CITY}/cadres?list=stationed"), &city)
        .await;
    assert_eq!(list.status, StatusCode::OK);
    let table = list.between("id=\"cadre-list\"", "</table>").unwrap();
    assert_eq!(table.matches("<tr>").count() - 1, 60);
    let list = app
        .get(&format!("/orgs/{CITY}/cadres?list=adjusted"), &city)
        .await;
    let table = list.between("id=\"cadre-list\"", "</table>").unwrap();
    assert_eq!(table.matches("<tr>").count() - 1, 32);
}
both!(the_demo_has_the_articles_cadres);

async fn a_township_adjusts_an_unfit_secretary(app: TestApp) {
    let township = app.login("meishan.admin").await;
    let secretary = app.login("xinmin.secretary").await;
    let other = app.login("miaoxi.admin").await;
    let city = app.token("city.admin").await;
    let before = summary(&app, &city, MEISHAN).await["secretaries_adjusted"]
        .as_i64()
        .unwrap();
    let path = format!("/orgs/{XINMIN}/secretaries");
    let form = |ending: &'static str, reason: &'static str, since: &'static str| {
        vec![
            ("ending", ending),
            ("reason", reason),
            ("name", "沈国华"),
            ("phone", "13905720001"),
            ("origin", "returned"),
            ("origin_note", "回乡创业的企业主"),
            ("since", since),
        ]
    };
    let audit = app.audit_count().await;
    // Refusals: the village's own secretary, another township, no reason, no ending, a
    // date in the future. None writes anything.
    let res = app
        .post_form(
            &path,
            &form("adjusted", "考核不称职", "2016-02-20"),
            &secretary,
        )
        .await;
    assert_eq!(res.status, StatusCode::FORBIDDEN);
    let res = app
        .post_form(&path, &form("adjusted", "考核不称职", "2016-02-20"), &other)
        .await;
    assert_eq!(res.status, StatusCode::NOT_FOUND);
    let res = app
        .post_form(&path, &form("adjusted", " ", "2016-02-20"), &township)
        .await;
    assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY);
    let res = app
        .post_form(&path, &form("", "", "2016-02-20"), &township)
        .await;
    assert_eq!(res.status, StatusCode::CONFLICT);
    let res = app
        .post_form(
            &path,
            &form("adjusted", "考核不称职", "2017-01-01"),
            &township,
        )
        .await;
    assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(app.audit_count().await, audit);
    // The adjustment.
    let res = app
        .post_form(
            &path,
            &form("adjusted", "2015 年度考核不称职", "2016-02-20"),
            &township,
        )
        .await;
    assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.text());
    let page = app.get(&format!("/orgs/{XINMIN}/cadres"), &township).await;
    let current = page.between("id=\"current-secretary\"", "</dl>").unwrap();
    assert!(current.contains("沈国华"), "{current}");
    assert!(
        current.contains("139****0001"),
        "the phone masked: {current}"
    );
    assert!(!current.contains("13905720001"));
    let history = page
        .between("id=\"secretary-history\"", "</table>")
        .unwrap();
    assert!(history.contains("2015 年度考核不称职"), "{history}");
    assert!(history.contains("沈国华"), "the successor: {history}");
    assert!(history.contains("不胜任调整"), "{history}");
    // The tree names the new secretary; the figure moved by one.
    assert_eq!(
        app.node(XINMIN).await.secretary_name.as_deref(),
        Some("沈国华")
    );
    let after = summary(&app, &city, MEISHAN).await["secretaries_adjusted"]
        .as_i64()
        .unwrap();
    assert_eq!(after, before + 1);
    // A year's grade: within the term, not the future; the page shows it.
    let id = page
        .between("id=\"current-secretary\" data-id=\"", "\"")
        .unwrap();
    let grade = format!("/secretaries/{id}/fitness");
    let res = app
        .post_form(
            &grade,
            &[("year", "2015"), ("grade", "competent")],
            &township,
        )
        .await;
    assert_eq!(
        res.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "before the term"
    );
    let res = app
        .post_form(&grade, &[("year", "2016"), ("grade", "great")], &township)
        .await;
    assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY);
    let res = app
        .post_form(&grade, &[("year", "2016"), ("grade", "称职")], &township)
        .await;
    assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.text());
    let page = app.get(&format!("/orgs/{XINMIN}/cadres"), &secretary).await;
    let fitness = page.between("id=\"secretary-fitness\"", "</dd>").unwrap();
    assert!(fitness.contains("2016 称职"), "{fitness}");
    // The secretary reads the page but is offered no form.
    assert!(!page.text().contains("id=\"appoint-form\""));
    // The whole phone, to a role that may see it, each look audited; a leader may not.
    let reveal = format!("/secretaries/{id}/reveal");
    let leader = app.login("meishan.leader").await;
    let audit = app.audit_count().await;
    let res = app.post_form(&reveal, &[], &leader).await;
    assert_eq!(res.status, StatusCode::FORBIDDEN);
    let res = app.post_form(&reveal, &[], &township).await;
    assert_eq!(res.status, StatusCode::OK);
    let phone = res.between("id=\"secretary-phone\">", "</dd>").unwrap();
    assert!(phone.starts_with("13905720001"), "{phone}");
    assert_eq!(app.audit_count().await, audit + 1);
    let res = app
        .post_form("/secretaries/999999/reveal", &[], &township)
        .await;
    assert_eq!(res.status, StatusCode::NOT_FOUND);
}
both!(a_township_adjusts_an_unfit_secretary);

async fn a_county_dispatches_a_first_secretary_and_the_township_keeps_the_reports(app: TestApp) {
    let county = app.login("changxing.admin").await;
    let township = app.login("meishan.admin").await;
    let city = app.token("city.admin").await;
    // The village of 煤山镇 without a first secretary, found from the demo's list.
    let meishan = app.node(MEISHAN).await;
    let villages = app
        .db
        .org_children(
            &baiqian_domain::scope::Scope::everything(),
            &meishan.code,
            false,
        )
        .await
        .unwrap();
    let mut free = None;
    for v in villages
        .iter()
        .filter(|v| v.level == baiqian_domain::org::Level::Village)
    {
        if app.db.first_secretaries_of(v).await.unwrap().is_empty() {
            free = Some(v.code.as_str().to_string());
            break;
        }
    }
    let village = free.expect("a village of 煤山镇 without a first secretary");
    let before = summary(&app, &city, CHANGXING).await;
    let path = format!("/orgs/{village}/first-secretaries");
    let form = |from: &'static str| {
        vec![
            ("name", "钱立新"),
            ("sent_from", from),
            ("sent_by", "长兴县农业局"),
            ("start_on", "2016-01-05"),
            ("term_end", "2018-01-04"),
            ("stationed", "1"),
        ]
    };
    let audit = app.audit_count().await;
    // A county sends from its own bodies, not the city's; a township does not dispatch.
    let res = app.post_form(&path, &form("city"), &county).await;
    assert_eq!(res.status, StatusCode::FORBIDDEN);
    let res = app.post_form(&path, &form("county"), &township).await;
    assert_eq!(res.status, StatusCode::FORBIDDEN);
    let mut bad = form("county");
    bad[4] = ("term_end", "2015-12-31");
    let res = app.post_form(&path, &bad, &county).await;
    assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(app.audit_count().await, audit);
    let res = app.post_form(&path, &form("county"), &county).await;
    assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.text());
    let dispatch = res.location().unwrap();
    // Another county neither reads the dispatch nor reports on it.
    let wuxing = app.login("wuxing.admin").await;
    assert_eq!(
        app.get(&dispatch, &wuxing).await.status,
        StatusCode::NOT_FOUND
    );
    let res = app
        .post_form(
            &format!("{dispatch}/reports"),
            &[("quarter", "2016-Q1"), ("body", "走访农户")],
            &wuxing,
        )
        .await;
    assert_eq!(res.status, StatusCode::NOT_FOUND);
    // One in post per village.
    let res = app.post_form(&path, &form("county"), &county).await;
    assert_eq!(res.status, StatusCode::CONFLICT);
    let after = summary(&app, &city, CHANGXING).await;
    assert_eq!(
        after["first_secretaries"].as_i64().unwrap(),
        before["first_secretaries"].as_i64().unwrap() + 1
    );
    assert_eq!(
        after["stationed"].as_i64().unwrap(),
        before["stationed"].as_i64().unwrap() + 1
    );
    // The dispatch page: the village's last rating before the term (2015, published).
    let page = app.get(&dispatch, &township).await;
    assert_eq!(page.status, StatusCode::OK);
    let before_term = page.between("id=\"term-before\">", "</td>").unwrap();
    assert!(before_term.starts_with("2015 · "), "{before_term}");
    // The township records the report of the quarter (2016-Q1 on the test's day), once;
    // not a quarter before the term or after today.
    let reports = format!("{dispatch}/reports");
    for q in ["2015-Q4", "2016-Q2", "2016-Q9"] {
        let res = app
            .post_form(
                &reports,
                &[("quarter", q), ("body", "走访农户 120 户")],
                &township,
            )
            .await;
        assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY, "{q}");
    }
    let res = app
        .post_form(
            &reports,
            &[("quarter", "2016-Q1"), ("body", "走访农户 120 户")],
            &township,
        )
        .await;
    assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.text());
    let res = app
        .post_form(
            &reports,
            &[("quarter", "2016-Q1"), ("body", "再报一次")],
            &township,
        )
        .await;
    assert_eq!(res.status, StatusCode::CONFLICT);
    let page = app.get(&dispatch, &township).await;
    assert!(
        page.between("id=\"reports\"", "</ol>")
            .unwrap()
            .contains("走访农户 120 户")
    );
    // The county ends it; a second end is refused.
    let end = format!("{dispatch}/end");
    let res = app.post_form(&end, &[("on", "2016-02-29")], &county).await;
    assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.text());
    let res = app.post_form(&end, &[("on", "2016-02-29")], &county).await;
    assert_eq!(res.status, StatusCode::CONFLICT);
    assert_eq!(
        summary(&app, &city, CHANGXING).await["first_secretaries"],
        before["first_secretaries"]
    );
}
both!(a_county_dispatches_a_first_secretary_and_the_township_keeps_the_reports);

async fn a_township_is_told_of_missing_grades_and_reports(app: TestApp) {
    let township = app.token("meishan.admin").await;
    let tasks = app.get("/api/v1/me/tasks", &township).await.json();
    let kinds: Vec<&str> = tasks["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|t| t["kind"].as_str())
        .collect();
    // The test's day is 2016-03-01: 2015's grades are due, and the reports of 2015-Q4 of the
    // first secretaries under 煤山镇 (dispatched in March 2015).
    assert!(kinds.contains(&"fitness_due"), "{tasks}");
    let city = app.token("city.admin").await;
    let under = summary(&app, &city, MEISHAN).await["first_secretaries"]
        .as_i64()
        .unwrap();
    let reports = kinds.iter().filter(|k| **k == "report_due").count() as i64;
    assert_eq!(reports, under, "{tasks}");
    // Grading every secretary of 2015 clears the first; the county is not told.
    let county = app.token("changxing.admin").await;
    let county_tasks = app.get("/api/v1/me/tasks", &county).await.json();
    assert!(
        !county_tasks.to_string().contains("fitness_due"),
        "{county_tasks}"
    );
}
both!(a_township_is_told_of_missing_grades_and_reports);

async fn officials_rosters_import_through_the_shared_importer(app: TestApp) {
    let county = app.token("changxing.admin").await;
    let township = app.login("meishan.admin").await;
    let secretary = app.login("xinmin.secretary").await;
    for (code, name) in [("330522109291", "新建一村"), ("330522109292", "新建二村")] {
        let res = app
            .post_json(
                &format!("/api/v1/orgs/{MEISHAN}/children"),
                &serde_json::json!({"code": code, "name": name, "level": "village"}),
                &county,
            )
            .await;
        assert_eq!(res.status, StatusCode::CREATED, "{}", res.text());
    }
    let xinmin_secretary = app.node(XINMIN).await.secretary_name.clone().unwrap();
    let other = app
        .db
        .org_children(
            &baiqian_domain::scope::Scope::everything(),
            &app.node(MEISHAN).await.code,
            false,
        )
        .await
        .unwrap()
        .into_iter()
        .find(|o| o.level == baiqian_domain::org::Level::Village && o.code.as_str() != XINMIN)
        .unwrap();
    // The official's own sheet: a title line, their header words, names for codes.
    let file = crate::support::xlsx(&[
        vec!["煤山镇村党组织书记名册"],
        vec!["序号", "村名", "姓名", "手机", "书记来源", "任职时间"],
        vec![
            "1",
            "新建一村",
            "王永明",
            "13905720002",
            "能人回归",
            "2015/6/1",
        ],
        vec![
            "2",
            "新民村",
            &xinmin_secretary,
            "",
            "本村培养",
            "2010-01-01",
        ],
        vec![
            "3",
            "新建二村",
            "张海燕",
            "1390572",
            "大学生村官",
            "2015-07-01",
        ],
        vec!["4", "龙山村", "施益忠", "", "", "2012-01-01"],
        vec!["5", &other.name, "不是他", "", "", "2012-01-01"],
    ]);
    let path = format!("/orgs/{MEISHAN}/secretaries/import");
    let res = app.post_file(&path, &file, "all", &secretary).await;
    assert_eq!(res.status, StatusCode::FORBIDDEN);
    let audit = app.audit_count().await;
    let res = app.post_file(&path, &file, "all", &township).await;
    assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY);
    let report = res.between("id=\"import-report\"", "</table>").unwrap();
    for (row, column) in [("5", "联系电话"), ("6", "村"), ("7", "书记姓名")] {
        assert!(
            report.contains(&format!("<td class=\"num\">{row}</td><td>{column} (")),
            "row {row} {column}: {report}"
        );
    }
    assert!(report.contains("龙山村"), "{report}");
    assert!(
        report.contains(&other.secretary_name.clone().unwrap()),
        "{report}"
    );
    assert_eq!(app.audit_count().await, audit, "nothing written");
    assert_eq!(app.node("330522109291").await.secretary_name, None);
    // Exactly the good rows when asked.
    let res = app.post_file(&path, &file, "good_rows", &township).await;
    assert_eq!(
        res.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "the bad rows are still reported"
    );
    assert!(
        res.text().contains("id=\"import-result\""),
        "{}",
        res.text()
    );
    assert_eq!(
        app.node("330522109291").await.secretary_name.as_deref(),
        Some("王永明")
    );
    assert_eq!(app.node("330522109292").await.secretary_name, None);
    let page = app.get("/orgs/330522109291/cadres", &township).await;
    let current = page.between("id=\"current-secretary\"", "</dl>").unwrap();
    assert!(
        current.contains("能人回归") && current.contains("2015-06-01"),
        "{current}"
    );

    // First secretaries: a county records its own bodies' only.
    let firsts = crate::support::xlsx(&[
        vec![
            "村",
            "姓名",
            "派出层级",
            "派出单位",
            "到村时间",
            "任期届满",
            "是否驻村",
        ],
        vec![
            "新建一村",
            "钱立新",
            "县派",
            "长兴县农业局",
            "2016-01-05",
            "2018-01-04",
            "是",
        ],
        vec![
            "新建二村",
            "周春林",
            "市派",
            "市财政局",
            "2016-01-05",
            "2018-01-04",
            "否",
        ],
    ]);
    let path = format!("/orgs/{MEISHAN}/first-secretaries/import");
    let county_session = app.login("changxing.admin").await;
    let res = app.post_file(&path, &firsts, "all", &township).await;
    assert_eq!(
        res.status,
        StatusCode::FORBIDDEN,
        "a township does not dispatch"
    );
    let res = app.post_file(&path, &firsts, "all", &county_session).await;
    assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY);
    let report = res.between("id=\"import-report\"", "</table>").unwrap();
    assert!(
        report.contains("<td class=\"num\">3</td><td>派出层级 ("),
        "{report}"
    );
    let res = app
        .post_file(&path, &firsts, "good_rows", &county_session)
        .await;
    assert!(
        res.text().contains("id=\"import-result\""),
        "{}",
        res.text()
    );
    let village = app.node("330522109291").await;
    let fs = app.db.first_secretaries_of(&village).await.unwrap();
    assert_eq!(fs.len(), 1);
    assert!(fs[0].stationed);
    assert!(
        app.db
            .first_secretaries_of(&app.node("330522109292").await)
            .await
            .unwrap()
            .is_empty()
    );
}
both!(officials_rosters_import_through_the_shared_importer);

/// A county admin reads the cadres of the county, a township, a village and a dispatch at a
/// phone's 360 px and a desk's 1440 px in both languages: nothing wider than the screen; the
/// stationed figure opens a list of exactly that many. Screenshots go to
/// `target/browser-cadres-*.png` for a person to look at.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_county_admin_reads_the_cadres_on_a_phone_and_a_desk() {
    use crate::browser::{keep_screenshot, overflow, required, submit_login, with_browser};
    use fantoccini::Locator;
    let Some((driver, chromium)) = required() else {
        return;
    };
    let Some(app) = TestApp::new(baiqian_store::Backend::Sqlite).await else {
        return;
    };
    let county = app.node(CHANGXING).await;
    let (firsts, _) = app
        .db
        .first_secretary_list(&county, true, 0, 1)
        .await
        .unwrap();
    let dispatch = format!("/first-secretaries/{}", firsts[0].id);
    let village = format!("/orgs/{}/cadres", firsts[0].org_code);
    with_browser(&app, &driver, &chromium, move |c, base| async move {
        submit_login(&c, &base, "changxing.admin").await?;
        c.wait().for_element(Locator::Css("main")).await?;
        let pages = [
            ("county", format!("/orgs/{CHANGXING}/cadres")),
            ("township", format!("/orgs/{MEISHAN}/cadres?list=first")),
            ("village", village.clone()),
            ("dispatch", dispatch.clone()),
            (
                "import",
                format!("/orgs/{MEISHAN}/first-secretaries/import"),
            ),
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
                    keep_screenshot(&c, &format!("browser-cadres-{name}-{lang}-{width}.png"))
                        .await?;
                }
            }
        }
        c.goto(&format!("{base}/orgs/{CHANGXING}/cadres")).await?;
        let link = c.find(Locator::Css("#fig-stationed")).await?;
        let figure: usize = link.text().await?.parse().unwrap();
        link.click().await?;
        c.wait().for_element(Locator::Id("cadre-list")).await?;
        let rows = c
            .find_all(Locator::Css("#cadre-list tbody tr"))
            .await?
            .len();
        assert_eq!(rows, figure);
        Ok(())
    })
    .await;
}
