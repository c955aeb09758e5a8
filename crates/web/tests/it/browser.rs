//! The browser test: Debian's Chromium, driven through chromedriver (WebDriver), logs in,
//! switches the language, and drills from the city down to a village. Runs when
//! `BAIQIAN_TEST_BROWSER` is set (CI sets it); then a missing browser fails the test.

use fantoccini::actions::InputSource;
use std::time::Duration;

use fantoccini::{ClientBuilder, Locator};
use serde_json::json;

use crate::support::TestApp;

pub(crate) fn required() -> Option<(String, String)> {
    if std::env::var("BAIQIAN_TEST_BROWSER")
        .map(|v| v.is_empty() || v == "0")
        .unwrap_or(true)
    {
        eprintln!("browser: skipped (BAIQIAN_TEST_BROWSER is not set)");
        return None;
    }
    let driver = std::env::var("CHROMEDRIVER").unwrap_or_else(|_| "/usr/bin/chromedriver".into());
    let chromium = std::env::var("CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".into());
    assert!(
        std::path::Path::new(&driver).exists(),
        "BAIQIAN_TEST_BROWSER is set but {driver} is missing (apt-get install chromium-driver)"
    );
    assert!(
        std::path::Path::new(&chromium).exists(),
        "BAIQIAN_TEST_BROWSER is set but {chromium} is missing (apt-get install chromium)"
    );
    Some((driver, chromium))
}

/// Serves `app` on a real port, starts Chromium through chromedriver, and runs `story` with the
/// WebDriver client and the base URL. The story runs in its own task so that a failed assertion
/// or a hung browser still closes the session (ending Chromium) before the test fails.
pub(crate) async fn with_browser<F, Fut>(app: &TestApp, driver: &str, chromium: &str, story: F)
where
    F: FnOnce(fantoccini::Client, String) -> Fut,
    Fut: std::future::Future<Output = Result<(), fantoccini::error::CmdError>> + Send + 'static,
{
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let router = baiqian_web::app(app.state.clone());
    tokio::spawn(async move { axum::serve(listener, router).await });
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let driver = tokio::process::Command::new(driver)
        .arg(format!("--port={port}"))
        .kill_on_drop(true)
        .spawn()
        .expect("start chromedriver");
    let mut up = false;
    for _ in 0..100 {
        if tokio::net::TcpStream::connect(("127.0.0.1", port))
            .await
            .is_ok()
        {
            up = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(up, "chromedriver did not start");
    let profile =
        std::env::temp_dir().join(format!("baiqian-chromium-{}-{port}", std::process::id()));
    let mut caps = serde_json::Map::new();
    caps.insert(
        "goog:chromeOptions".into(),
        json!({
            "binary": chromium,
            "args": ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-quic",
                     "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync",
                     "--window-size=1280,900", format!("--user-data-dir={}", profile.display())]
        }),
    );
    let connector = hyper_util::client::legacy::connect::HttpConnector::new();
    let c = ClientBuilder::new(connector)
        .capabilities(caps)
        .connect(&format!("http://127.0.0.1:{port}"))
        .await
        .expect("WebDriver session");
    let result = tokio::time::timeout(
        Duration::from_secs(300),
        tokio::spawn(story(c.clone(), base)),
    )
    .await;
    let _ = c.close().await;
    drop(driver);
    let _ = std::fs::remove_dir_all(&profile);
    match result {
        Err(_) => panic!("browser story timed out"),
        Ok(Err(join)) if join.is_panic() => std::panic::resume_unwind(join.into_panic()),
        Ok(Err(join)) => panic!("browser story: {join}"),
        Ok(Ok(story)) => story.expect("browser story"),
    }
}

pub(crate) async fn log_in(
    c: &fantoccini::Client,
    base: &str,
    login: &str,
) -> Result<(), fantoccini::error::CmdError> {
    submit_login(c, base, login).await?;
    // Everyone lands on their home, with what waits for them.
    c.wait().for_element(Locator::Id("home-tasks")).await?;
    Ok(())
}

/// Types a demo login and its password into the login page and sends it.
pub(crate) async fn submit_login(
    c: &fantoccini::Client,
    base: &str,
    login: &str,
) -> Result<(), fantoccini::error::CmdError> {
    c.goto(&format!("{base}/login")).await?;
    c.find(Locator::Id("login")).await?.send_keys(login).await?;
    c.find(Locator::Id("password"))
        .await?
        .send_keys(baiqian_demo::DEMO_PASSWORD)
        .await?;
    c.find(Locator::Css("button[type=submit]"))
        .await?
        .click()
        .await
}

/// How many pixels the page is wider than the window: 0 or less when it fits.
pub(crate) async fn overflow(c: &fantoccini::Client) -> Result<i64, fantoccini::error::CmdError> {
    let v = c
        .execute(
            "return document.documentElement.scrollWidth - window.innerWidth",
            vec![],
        )
        .await?;
    Ok(v.as_i64().unwrap_or(i64::MAX))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn login_switch_language_and_drill_from_city_to_village() {
    let Some((driver, chromium)) = required() else {
        return;
    };
    let app = TestApp::new(baiqian_store::Backend::Sqlite)
        .await
        .expect("sqlite app");
    with_browser(&app, &driver, &chromium, |c, base| async move {
        c.goto(&format!("{base}/login")).await?;
        assert!(
            c.find(Locator::Css("#demo-password")).await.is_err(),
            "demo logins are listed in demo mode only"
        );
        log_in(&c, &base, "city.admin").await?;
        c.find(Locator::Css("#sidenav a[href^='/orgs/']"))
            .await?
            .click()
            .await?;
        let title = c
            .wait()
            .for_element(Locator::Id("org-name"))
            .await?
            .text()
            .await?;
        assert!(title.starts_with("湖州市"), "{title}");
        let nav = c
            .find(Locator::Css("#sidenav a[aria-current=page]"))
            .await?
            .text()
            .await?;
        assert_eq!(nav, "组织架构");
        assert_eq!(
            c.find(Locator::Id("count-village")).await?.text().await?,
            "985"
        );

        // Switch to English; the choice is remembered on the next pages.
        c.find(Locator::Css("a[data-lang-switch]"))
            .await?
            .click()
            .await?;
        c.wait()
            .for_element(Locator::XPath(
                "//nav[@id='sidenav']/a[text()='Organization tree']",
            ))
            .await?;

        // Drill down: city → county → township → village.
        for name in ["长兴县", "煤山镇", "新民村"] {
            c.find(Locator::XPath(&format!(
                "//table[@id='children']//a[text()='{name}']"
            )))
            .await?
            .click()
            .await?;
            // Wait for the new page's heading, not the old page's.
            let heading = c
                .wait()
                .for_element(Locator::XPath(&format!(
                    "//h1[@id='org-name' and starts-with(normalize-space(.), '{name}')]"
                )))
                .await?
                .text()
                .await?;
            assert!(heading.starts_with(name), "{heading}");
        }
        let level = c
            .find(Locator::Css("#org-name .level"))
            .await?
            .text()
            .await?;
        assert_eq!(level, "Village");
        let crumbs = c.find(Locator::Css("nav.breadcrumb")).await?.text().await?;
        assert!(
            crumbs.contains("湖州市") && crumbs.contains("长兴县") && crumbs.contains("煤山镇"),
            "{crumbs}"
        );
        let png = c.screenshot().await?;
        let _ = std::fs::write(
            std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("../../target/browser-village.png"),
            png,
        );
        Ok(())
    })
    .await;
}

/// 许月刚 of 新民村 works at 天能集团: the officer there shows the activity day's code, and his
/// phone (here: the browser, logged in as him) opens what the code holds and checks him in.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn member_checks_in_by_scanning_the_rotating_qr_code() {
    let Some((driver, chromium)) = required() else {
        return;
    };
    let app = TestApp::new(baiqian_store::Backend::Sqlite)
        .await
        .expect("sqlite app");
    let town = app.token("meishan.admin").await;
    let id = baiqian_domain::member::with_check_digit("33052219800504001").unwrap();
    let body = json!({"name": "许月刚", "gender": "M", "birth_date": "1980-05-04", "id_number": id, "home_org": baiqian_demo::XINMIN, "joined": "2005-07-01"});
    let member_id = app.post_json("/api/v1/members", &body, &town).await.json()["id"]
        .as_i64()
        .unwrap();
    let admin = app
        .db
        .user_by_login("meishan.admin")
        .await
        .unwrap()
        .unwrap()
        .actor()
        .unwrap();
    let user = app
        .db
        .user_by_login("xinmin.member")
        .await
        .unwrap()
        .unwrap();
    app.db
        .link_user_member(&admin, user.id, member_id, crate::support::T0)
        .await
        .unwrap();
    let event = json!({"date": "2016-03-01", "starts_at": "2016-03-01T09:00:00+08:00", "ends_at": "2016-03-01T11:00:00+08:00", "topic": "学习党章", "place": "天能集团党群服务中心"});
    let event_id = app
        .post_json("/api/v1/orgs/330522109-001/events", &event, &town)
        .await
        .json()["id"]
        .as_i64()
        .unwrap();
    let db = app.db.clone();
    with_browser(&app, &driver, &chromium, move |c, base| async move {
        // The officer's screen at the host shows the code as a picture.
        log_in(&c, &base, "meishan.admin").await?;
        c.goto(&format!("{base}/events/{event_id}/qr")).await?;
        let qr = c.wait().for_element(Locator::Css("#qr")).await?;
        assert!(
            c.find(Locator::Css("#qr svg")).await.is_ok(),
            "the code is drawn"
        );
        let url = qr.attr("data-url").await?.expect("the code's URL");
        c.find(Locator::Css("form[action='/logout'] button"))
            .await?
            .click()
            .await?;
        // Let the logout finish before navigating on, or the navigation would cancel it.
        c.wait().for_element(Locator::Id("login")).await?;

        // The member scans it: the phone opens the URL, logs in, confirms.
        c.goto(&format!("{base}{url}")).await?;
        c.wait()
            .for_element(Locator::Id("login"))
            .await?
            .send_keys("xinmin.member")
            .await?;
        c.find(Locator::Id("password"))
            .await?
            .send_keys(baiqian_demo::DEMO_PASSWORD)
            .await?;
        c.find(Locator::Css("button[type=submit]"))
            .await?
            .click()
            .await?;
        c.wait()
            .for_element(Locator::Id("checkin-submit"))
            .await?
            .click()
            .await?;
        let done = c
            .wait()
            .for_element(Locator::Id("checkin-done"))
            .await?
            .text()
            .await?;
        assert_eq!(done, "签到成功。");
        let n: (i64,) =
            sqlx::query_as("SELECT COUNT(*) FROM checkins WHERE member_id = $1 AND method = 'qr'")
                .bind(member_id)
                .fetch_one(db.pool())
                .await
                .unwrap();
        assert_eq!(n.0, 1);
        Ok(())
    })
    .await;
}

/// 龙山村's secretary fills in the 2016 self-assessment: a photo of the minutes as evidence for
/// the first item, a score for every item, then submits it to the township.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn village_secretary_fills_a_self_assessment_with_evidence() {
    let Some((driver, chromium)) = required() else {
        return;
    };
    let app = TestApp::new(baiqian_store::Backend::Sqlite)
        .await
        .expect("sqlite app");
    let photo = std::env::temp_dir().join(format!("baiqian-minutes-{}.png", std::process::id()));
    std::fs::write(&photo, crate::rating_scope::PNG).unwrap();
    let photo_path = photo.display().to_string();
    let db = app.db.clone();
    let evidence_dir = app.evidence_dir.clone();
    with_browser(&app, &driver, &chromium, move |c, base| async move {
        log_in(&c, &base, "longshan.secretary").await?;
        c.find(Locator::Css("#sidenav a[href='/ratings']"))
            .await?
            .click()
            .await?;
        c.wait().for_element(Locator::Id("scores-form")).await?;
        let current = c
            .find(Locator::Css("#stepper li[aria-current=step]"))
            .await?
            .text()
            .await?;
        assert_eq!(current, "自评中");

        // Evidence for A1: the file input takes the photo's path, as a user picks it.
        c.find(Locator::Id("file_A1"))
            .await?
            .send_keys(&photo_path)
            .await?;
        // A person scrolls the button clear of the save bar that stays at the screen's foot.
        let upload = c.find(Locator::Id("upload_A1")).await?;
        c.execute(
            "arguments[0].scrollIntoView({block: 'center'});",
            vec![serde_json::to_value(&upload)?],
        )
        .await?;
        upload.click().await?;
        let link = c
            .wait()
            .for_element(Locator::Css("#item-A1 a.evidence"))
            .await?;
        assert!(link.text().await?.ends_with(".png"));

        // A score for every item: its full score.
        for input in c.find_all(Locator::Css("input[name^=score_]")).await? {
            let full = input.attr("data-full").await?.unwrap_or_default();
            input.clear().await?;
            input.send_keys(&full).await?;
        }
        c.find(Locator::Id("save-scores")).await?.click().await?;
        let total = c
            .wait()
            .for_element(Locator::XPath(
                "//strong[@id='total' and normalize-space(.)='100']",
            ))
            .await?
            .text()
            .await?;
        assert_eq!(total, "100");

        c.find(Locator::Id("forward-button")).await?.click().await?;
        let now = c
            .wait()
            .for_element(Locator::XPath(
                "//ol[@id='stepper']/li[@aria-current='step' and normalize-space(.)='待乡镇审核']",
            ))
            .await?
            .text()
            .await?;
        assert_eq!(now, "待乡镇审核");
        let stars = c.find(Locator::Id("stars")).await?.text().await?;
        assert_eq!(stars, "5★");

        let (stage, sha): (String, String) = sqlx::query_as(
            "SELECT a.stage, e.sha256 FROM assessments a JOIN evidence e ON e.assessment_id = a.id \
             JOIN rating_rounds r ON r.id = a.round_id WHERE a.org_code = $1 AND r.year = 2016",
        )
        .bind(baiqian_demo::LONGSHAN)
        .fetch_one(db.pool())
        .await
        .unwrap();
        assert_eq!(stage, "submitted");
        assert!(evidence_dir.join(&sha[..2]).join(&sha).exists());
        let png = c.screenshot().await?;
        let _ = std::fs::write(
            std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("../../target/browser-self-assessment.png"),
            png,
        );
        Ok(())
    })
    .await;
    let _ = std::fs::remove_file(&photo);
}

/// 新民村's secretary registers the village office's card reader from the village's page, copies
/// its token (shown once), and later revokes it when the reader goes missing.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn village_secretary_registers_and_revokes_a_card_reader() {
    let Some((driver, chromium)) = required() else {
        return;
    };
    let app = TestApp::new(baiqian_store::Backend::Sqlite)
        .await
        .expect("sqlite app");
    let db = app.db.clone();
    with_browser(&app, &driver, &chromium, move |c, base| async move {
        log_in(&c, &base, "xinmin.secretary").await?;
        c.goto(&format!("{base}/orgs/{}", baiqian_demo::XINMIN))
            .await?;
        c.find(Locator::Css(&format!(
            "a[href='/orgs/{}/devices']",
            baiqian_demo::XINMIN
        )))
        .await?
        .click()
        .await?;
        c.wait()
            .for_element(Locator::Id("name"))
            .await?
            .send_keys("村部一楼读卡器")
            .await?;
        c.find(Locator::Css("#new-device button[type=submit]"))
            .await?
            .click()
            .await?;
        let token = c
            .wait()
            .for_element(Locator::Id("token"))
            .await?
            .prop("value")
            .await?
            .expect("the token is shown");
        assert!(token.starts_with("dev_"), "{token}");
        let hash = baiqian_web::auth::sha256_hex(token.trim_start_matches("dev_"));
        assert!(
            db.device_by_token(&hash).await.unwrap().is_some(),
            "the shown token is the reader's"
        );
        c.find(Locator::Css(&format!(
            "a[href='/orgs/{}/devices']",
            baiqian_demo::XINMIN
        )))
        .await?
        .click()
        .await?;
        c.wait()
            .for_element(Locator::Css("form[action$='/revoke'] button"))
            .await?
            .click()
            .await?;
        let row = c
            .wait()
            .for_element(Locator::XPath("//tr[td[contains(., '已停用')]]"))
            .await?
            .text()
            .await?;
        assert!(
            row.contains("新民村") && row.contains("村部一楼读卡器"),
            "{row}"
        );
        assert!(
            db.device_by_token(&hash).await.unwrap().is_none(),
            "a revoked reader's token opens nothing"
        );
        Ok(())
    })
    .await;
}

/// A Party member's own pages — their record, card, village and its activity days — at a phone's
/// 360 px and a desk's 1440 px, in Chinese and English: nothing wider than the screen, nothing of
/// other members offered. Screenshots go to `target/browser-member-*.png` for a person to look at.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_member_sees_their_own_pages_on_a_phone_and_a_desk() {
    let Some((driver, chromium)) = required() else {
        return;
    };
    let Some(app) = TestApp::with(
        baiqian_store::Backend::Sqlite,
        baiqian_demo::Roster::Members,
    )
    .await
    else {
        return;
    };
    with_browser(&app, &driver, &chromium, move |c, base| async move {
        submit_login(&c, &base, "xinmin.member").await?;
        // Their home is "mine": their record and card one tap away.
        c.wait().for_element(Locator::Css("#home-me")).await?;
        let record = c
            .find(Locator::Css("#home-me a[href^='/members/']"))
            .await?
            .attr("href")
            .await?
            .unwrap_or_default();
        assert!(record.starts_with("/members/"), "{record}");
        let own = record;
        let village = baiqian_demo::XINMIN;
        let pages = [
            ("home", "/".to_string()),
            ("record", own.clone()),
            ("card", format!("{own}/card")),
            ("village", format!("/orgs/{village}")),
            ("events", format!("/orgs/{village}/events")),
        ];
        for lang in ["zh-CN", "en"] {
            c.goto(&format!("{base}/lang/{lang}?back=/")).await?;
            for width in [360u32, 1440] {
                c.set_window_size(width, 900).await?;
                for (name, path) in &pages {
                    c.goto(&format!("{base}{path}")).await?;
                    c.wait().for_element(Locator::Css("main")).await?;
                    let sizes = c
                        .execute(
                            "return [document.documentElement.scrollWidth, window.innerWidth]",
                            vec![],
                        )
                        .await?;
                    let (doc, screen) = (sizes[0].as_i64().unwrap(), sizes[1].as_i64().unwrap());
                    assert!(
                        doc <= screen,
                        "{name} in {lang} at {width} px is {doc} px wide on a {screen} px screen"
                    );
                    let html = c.source().await?;
                    for link in ["/members\"", "members.xlsx", "/devices\"", "/teams\""] {
                        assert!(!html.contains(link), "{name} offers a member {link}");
                    }
                    let png = c.screenshot().await?;
                    let _ = std::fs::write(
                        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(format!(
                            "../../target/browser-member-{name}-{lang}-{width}.png"
                        )),
                        png,
                    );
                }
            }
        }
        Ok(())
    })
    .await;
}

/// A township admin uploads a roster as a branch keeps it, reads the preview (header found under
/// the title lines, the sheet's columns, the first rows, the bad row) and imports the good rows.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_township_admin_previews_a_roster_and_imports_the_good_rows() {
    let Some((driver, chromium)) = required() else {
        return;
    };
    let Some(app) = TestApp::new(baiqian_store::Backend::Sqlite).await else {
        return;
    };
    let id = baiqian_domain::member::with_check_digit("33052219800504013").unwrap();
    let mut wb = rust_xlsxwriter::Workbook::new();
    let ws = wb.add_worksheet();
    ws.merge_range(
        0,
        0,
        0,
        5,
        "新民村党员花名册",
        &rust_xlsxwriter::Format::new(),
    )
    .unwrap();
    ws.write_string(1, 0, "填报单位：新民村党总支").unwrap();
    let rows = [
        [
            "姓　名",
            "性别",
            "出生年月",
            "公民身份号码",
            "入党时间",
            "所在党组织",
        ],
        [
            "佘　胜",
            "男",
            "1980.05",
            id.as_str(),
            "2006年7月1日",
            "新民村党总支",
        ],
        ["李二", "男", "1975.03", id.as_str(), "2004-07-01", "新民村"],
    ];
    for (r, row) in rows.iter().enumerate() {
        for (c, cell) in row.iter().enumerate() {
            ws.write_string(2 + r as u32, c as u16, *cell).unwrap();
        }
    }
    let path = std::env::temp_dir().join(format!("baiqian-roster-{}.xlsx", std::process::id()));
    std::fs::write(&path, wb.save_to_buffer().unwrap()).unwrap();
    let file = path.display().to_string();
    let db = app.db.clone();
    with_browser(&app, &driver, &chromium, move |c, base| async move {
        log_in(&c, &base, "meishan.admin").await?;
        c.goto(&format!(
            "{base}/orgs/{}/members/import",
            baiqian_demo::MEISHAN
        ))
        .await?;
        c.find(Locator::Id("file")).await?.send_keys(&file).await?;
        c.find(Locator::Id("import-submit")).await?.click().await?;
        let preview = c
            .wait()
            .for_element(Locator::Id("import-preview"))
            .await?
            .text()
            .await?;
        assert!(preview.contains("第 3 行找到表头"), "{preview}");
        assert!(
            preview.contains("公民身份号码") && preview.contains("佘胜"),
            "{preview}"
        );
        c.set_window_size(360, 900).await?;
        let sizes = c
            .execute(
                "return [document.documentElement.scrollWidth, window.innerWidth]",
                vec![],
            )
            .await?;
        assert!(
            sizes[0].as_i64() <= sizes[1].as_i64(),
            "the preview is wider than a phone: {sizes:?}"
        );
        let png = c.screenshot().await?;
        let _ = std::fs::write(
            std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("../../target/browser-import-preview-360.png"),
            png,
        );
        c.set_window_size(1280, 900).await?;
        c.find(Locator::Id("preview-good-rows"))
            .await?
            .click()
            .await?;
        c.find(Locator::Id("preview-import")).await?.click().await?;
        let done = c
            .wait()
            .for_element(Locator::Id("import-result"))
            .await?
            .text()
            .await?;
        assert!(done.contains('1'), "{done}");
        let n: (i64,) = sqlx::query_as("SELECT COUNT(*) FROM members WHERE name = '佘胜'")
            .fetch_one(db.pool())
            .await
            .unwrap();
        assert_eq!(n.0, 1);
        Ok(())
    })
    .await;
    let _ = std::fs::remove_file(&path);
}

/// The city's 2015 board draws its charts; a click on the tallest bar of the stars chart opens
/// the villages behind it, the same list the table's figure links to.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_click_on_a_board_chart_opens_the_villages_behind_it() {
    let Some((driver, chromium)) = required() else {
        return;
    };
    let app = TestApp::new(baiqian_store::Backend::Sqlite)
        .await
        .expect("sqlite app");
    with_browser(&app, &driver, &chromium, |c, base| async move {
        log_in(&c, &base, "city.admin").await?;
        c.set_window_size(1440, 900).await?;
        c.goto(&format!("{base}/orgs/330500/ratings/2015")).await?;
        for id in ["chart-children", "chart-stars", "chart-classes", "chart-stages"] {
            c.wait()
                .for_element(Locator::Css(&format!("#{id}[data-ready] svg")))
                .await?;
        }
        let at = c
            .execute(
                "var box = document.getElementById('chart-stars'); box.scrollIntoView({block: 'center'});
                 var ch = echarts.getInstanceByDom(box); var d = ch.getOption().series[0].data;
                 var i = d.indexOf(Math.max.apply(null, d));
                 var p = ch.convertToPixel({seriesIndex: 0}, [i, d[i] / 2]);
                 var r = box.getBoundingClientRect();
                 return [r.left + p[0], r.top + p[1], i + 1, d[i]];",
                vec![],
            )
            .await?;
        let (x, y) = (at[0].as_f64().unwrap(), at[1].as_f64().unwrap());
        let (stars, count) = (at[2].as_i64().unwrap(), at[3].as_i64().unwrap());
        assert!(count > 0, "the tallest bar has villages");
        let png = c.screenshot().await?;
        let _ = std::fs::write(
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target/browser-board-charts-1440.png"),
            png,
        );
        click_at(&c, x, y).await?;
        c.wait().for_element(Locator::Id("rating-villages")).await?;
        let url = c.current_url().await?;
        assert_eq!(url.path(), "/orgs/330500/ratings/2015/villages");
        assert_eq!(url.query(), Some(format!("stars={stars}").as_str()));
        let rows = c
            .find_all(Locator::Css("#rating-villages tbody tr"))
            .await?
            .len() as i64;
        assert_eq!(rows, count, "the list holds the bar's villages");
        Ok(())
    })
    .await;
}

/// Keeps a screenshot at `target/{name}` for a person to look at; failing to write it is not the
/// story's failure.
pub(crate) async fn keep_screenshot(
    c: &fantoccini::Client,
    name: &str,
) -> Result<(), fantoccini::error::CmdError> {
    let png = c.screenshot().await?;
    let _ = std::fs::write(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../target")
            .join(name),
        png,
    );
    Ok(())
}

/// A mouse click at a point of the window, as a person clicks a bar of a chart.
pub(crate) async fn click_at(
    c: &fantoccini::Client,
    x: f64,
    y: f64,
) -> Result<(), fantoccini::error::CmdError> {
    let click = fantoccini::actions::MouseActions::new("mouse".into())
        .then(fantoccini::actions::PointerAction::MoveTo {
            duration: None,
            x,
            y,
        })
        .then(fantoccini::actions::PointerAction::Down {
            button: fantoccini::actions::MOUSE_BUTTON_LEFT,
        })
        .then(fantoccini::actions::PointerAction::Up {
            button: fantoccini::actions::MOUSE_BUTTON_LEFT,
        });
    c.perform_actions(click).await
}

/// 煤山镇's attendance opens on the demo's last month with figures and charts twelve months; a
/// click on January's bar opens January's attendance, where the villages' absent are named.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_click_on_the_attendance_chart_opens_that_month() {
    let Some((driver, chromium)) = required() else {
        return;
    };
    let app = TestApp::with(
        baiqian_store::Backend::Sqlite,
        baiqian_demo::Roster::MembersAndActivity,
    )
    .await
    .expect("sqlite app");
    with_browser(&app, &driver, &chromium, |c, base| async move {
        log_in(&c, &base, "meishan.admin").await?;
        c.set_window_size(1440, 900).await?;
        c.goto(&format!("{base}/orgs/330522109/attendance")).await?;
        let title = c.find(Locator::Css("h1 small")).await?.text().await?;
        assert_eq!(title, "2016-02", "the demo's last month with figures");
        c.wait()
            .for_element(Locator::Css("#chart-attendance[data-ready] svg"))
            .await?;
        let at = c
            .execute(
                "var box = document.getElementById('chart-attendance'); box.scrollIntoView({block: 'center'});
                 var ch = echarts.getInstanceByDom(box); var o = ch.getOption();
                 var i = o.xAxis[0].data.indexOf('2016-01'); var v = o.series[0].data[i];
                 var l = ch.getModel().getSeriesByIndex(0).getData().getItemLayout(i);
                 var r = box.getBoundingClientRect();
                 return [r.left + l.x + l.width / 2, r.top + l.y + l.height / 2, v];",
                vec![],
            )
            .await?;
        let (x, y) = (at[0].as_f64().unwrap_or(0.0), at[1].as_f64().unwrap_or(0.0));
        assert!(at[2].as_f64().unwrap_or(0.0) > 0.0, "January has attendance");
        click_at(&c, x, y).await?;
        c.wait()
            .for_element(Locator::XPath("//h1/small[normalize-space(.)='2016-01']"))
            .await?;
        let url = c.current_url().await?;
        assert_eq!(url.path(), "/orgs/330522109/attendance");
        assert_eq!(url.query(), Some("month=2016-01"));
        keep_screenshot(&c, "browser-attendance-chart-1440.png").await?;
        // On a phone every month keeps its label (turned to fit), none hidden.
        c.set_window_size(360, 800).await?;
        c.goto(&format!("{base}/orgs/330522109/attendance")).await?;
        c.wait()
            .for_element(Locator::Css("#chart-attendance[data-ready] svg"))
            .await?;
        let shown = c
            .execute(
                "var n = 0; document.querySelectorAll('#chart-attendance svg text').forEach(function (t) {
                   var r = t.getBoundingClientRect();
                   if (/^\\d{4}-\\d{2}$/.test(t.textContent.trim()) && r.width > 0 && getComputedStyle(t).display !== 'none' && t.getAttribute('opacity') !== '0') n++;
                 }); return n;",
                vec![],
            )
            .await?;
        assert_eq!(shown.as_i64(), Some(12), "every month labelled at 360 px");
        keep_screenshot(&c, "browser-attendance-chart-360.png").await?;
        Ok(())
    })
    .await;
}

/// The city's screen on a 1920×1080 meeting-room display: everything on one screen without
/// scrolling, every chart drawn; a click on the five-star figure opens those villages.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_city_screen_fits_a_meeting_room_display_and_drills_down() {
    let Some((driver, chromium)) = required() else {
        return;
    };
    let app = TestApp::new(baiqian_store::Backend::Sqlite)
        .await
        .expect("sqlite app");
    with_browser(&app, &driver, &chromium, |c, base| async move {
        log_in(&c, &base, "city.admin").await?;
        // The window's outer size holds the browser's own bars: make the page's 1920×1080.
        c.set_window_size(1920, 1080).await?;
        let inner = c
            .execute("return [window.innerWidth, window.innerHeight];", vec![])
            .await?;
        let (w, h) = (
            inner[0].as_u64().unwrap_or(1920) as u32,
            inner[1].as_u64().unwrap_or(1080) as u32,
        );
        c.set_window_size(1920 + (1920 - w), 1080 + (1080 - h)).await?;
        c.goto(&format!("{base}/orgs/330500/screen")).await?;
        for id in [
            "screen-chart-children",
            "screen-chart-classes",
            "screen-chart-history",
            "screen-chart-stages",
            "screen-chart-attendance",
        ] {
            c.wait()
                .for_element(Locator::Css(&format!("#{id}[data-ready] svg")))
                .await?;
        }
        let size = c
            .execute(
                "var d = document.documentElement; return [d.scrollWidth, d.scrollHeight, window.innerWidth, window.innerHeight];",
                vec![],
            )
            .await?;
        let n = |i: usize| size[i].as_f64().unwrap_or(f64::MAX);
        keep_screenshot(&c, "browser-screen-1920.png").await?;
        assert!(n(0) <= n(2) && n(1) <= n(3), "the screen scrolls: {size:?}");
        let five = c.find(Locator::Id("screen-five-stars")).await?;
        let count: i64 = five
            .find(Locator::Css(".figure"))
            .await?
            .text()
            .await?
            .replace(',', "")
            .parse()
            .unwrap_or(-1);
        five.click().await?;
        c.wait().for_element(Locator::Id("rating-villages")).await?;
        let url = c.current_url().await?;
        assert_eq!(url.path(), "/orgs/330500/ratings/2015/villages");
        let rows = c
            .find_all(Locator::Css("#rating-villages tbody tr"))
            .await?
            .len() as i64;
        assert_eq!(rows, count);
        Ok(())
    })
    .await;
}
