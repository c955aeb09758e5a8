//! The browser test: Debian's Chromium, driven through chromedriver (WebDriver), logs in,
//! switches the language, and drills from the city down to a village. Runs when
//! `BAIQIAN_TEST_BROWSER` is set (CI sets it); then a missing browser fails the test.

use std::time::Duration;

use fantoccini::{ClientBuilder, Locator};
use serde_json::json;

use crate::support::TestApp;

fn required() -> Option<(String, String)> {
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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn login_switch_language_and_drill_from_city_to_village() {
    let Some((driver, chromium)) = required() else {
        return;
    };
    let app = TestApp::new(baiqian_store::Backend::Sqlite)
        .await
        .expect("sqlite app");
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let router = baiqian_web::app(app.state.clone());
    tokio::spawn(async move { axum::serve(listener, router).await });

    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let _driver = tokio::process::Command::new(&driver)
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

    let c2 = c.clone();
    let story = async move {
        let c = c2;
        // Log in as the city's organization department.
        eprintln!("browser: login page");
        c.goto(&format!("{base}/login")).await?;
        assert!(
            c.find(Locator::Css("#demo-password")).await.is_err(),
            "demo logins are listed in demo mode only"
        );
        c.find(Locator::Id("login"))
            .await?
            .send_keys("city.admin")
            .await?;
        c.find(Locator::Id("password"))
            .await?
            .send_keys(baiqian_demo::DEMO_PASSWORD)
            .await?;
        eprintln!("browser: submit");
        c.find(Locator::Css("button[type=submit]"))
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

        eprintln!("browser: logged in");
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

        eprintln!("browser: English");
        // Drill down: city → county → township → village.
        for name in ["长兴县", "煤山镇", "新民村"] {
            c.find(Locator::XPath(&format!(
                "//table[@id='children']//a[text()='{name}']"
            )))
            .await?
            .click()
            .await?;
            let heading = c
                .wait()
                .for_element(Locator::Id("org-name"))
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
        let out = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../target/browser-village.png");
        let _ = std::fs::write(out, png);
        Ok::<(), fantoccini::error::CmdError>(())
    };
    // The story runs in its own task so that a failed assertion or a hung browser still lets
    // the session close (ending Chromium) before the test fails.
    let result = tokio::time::timeout(Duration::from_secs(120), tokio::spawn(story)).await;
    let _ = c.close().await;
    drop(_driver);
    let _ = std::fs::remove_dir_all(&profile);
    match result {
        Err(_) => panic!("browser story timed out"),
        Ok(Err(join)) if join.is_panic() => std::panic::resume_unwind(join.into_panic()),
        Ok(Err(join)) => panic!("browser story: {join}"),
        Ok(Ok(story)) => story.expect("browser story"),
    }
}
