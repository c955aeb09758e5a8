//! Every main page on a phone and a desk, in both languages: no page wider than the window, the
//! header on one row, and tap targets of at least 44 px on the phone. Screenshots land in
//! `target/screens/` for a person to look at.

use fantoccini::Locator;

use crate::browser::{log_in, required, with_browser};
use crate::support::TestApp;
use crate::support::codes::{CHANGXING, CITY, MEISHAN, WUXING, XINMIN};

/// What the page measures in the browser: the document's width against the window's, the
/// header's height against its first row's, and each control smaller than 44 px.
const MEASURE: &str = "
  var doc = document.documentElement;
  var bar = document.querySelector('.topbar');
  var small = [];
  if (window.innerWidth <= 760) {
    document.querySelectorAll('button, a.button, select, input:not([type=hidden]):not([type=checkbox]):not([type=radio]), .topbar a, .sidenav a')
      .forEach(function (e) {
        var r = e.getBoundingClientRect();
        var st = getComputedStyle(e);
        if (r.width === 0 || r.height === 0 || st.visibility === 'hidden') return;
        if (r.height < 44) small.push((e.id || e.name || e.textContent.trim().slice(0, 20) || e.tagName) + ' ' + Math.round(r.height) + 'px');
      });
  }
  var wide = [];
  if (doc.scrollWidth > window.innerWidth) {
    document.querySelectorAll('main *').forEach(function (e) {
      var r = e.getBoundingClientRect();
      if (r.right > window.innerWidth + 1 && wide.length < 5 && !e.closest('.table-wrap, .chart-box'))
        wide.push(e.tagName + (e.id ? '#' + e.id : '') + '.' + e.className + ' ' + Math.round(r.right) + 'px');
    });
  }
  // A name squeezed into a column one character per line: a cell of a few characters with no
  // space whose text lies on as many lines as it has characters.
  var broken = [];
  document.querySelectorAll('main td, main th, main dd, main dt').forEach(function (e) {
    var t = e.textContent.trim();
    if (t.length < 2 || t.length > 16 || /\\s/.test(t) || broken.length >= 5) return;
    // The lines the text itself lies on (its text nodes only, not the boxes around it).
    var tops = [];
    var walk = document.createTreeWalker(e, NodeFilter.SHOW_TEXT);
    var size = parseFloat(getComputedStyle(e).fontSize) || 16;
    for (var n = walk.nextNode(); n; n = walk.nextNode()) {
      if (!n.textContent.trim()) continue;
      var range = document.createRange();
      range.selectNodeContents(n);
      Array.prototype.forEach.call(range.getClientRects(), function (q) {
        if (q.width > 0 && q.height > 0 && !tops.some(function (y) { return Math.abs(y - q.top) < size / 2; })) tops.push(q.top);
      });
    }
    var lines = tops.length;
    if (lines >= 2 && lines >= Array.from(t).length) {
      var r = e.getBoundingClientRect();
      broken.push(t + ' ' + Math.round(r.width) + 'x' + Math.round(r.height));
    }
  });
  return [doc.scrollWidth, window.innerWidth, bar ? bar.getBoundingClientRect().height : 0, small, wide, broken];
";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_main_page_fits_a_phone_and_a_desk() {
    let Some((driver, chromium)) = required() else {
        return;
    };
    // With the roster: a member's record and its form are among the pages.
    let app = TestApp::with(
        baiqian_store::Backend::Sqlite,
        baiqian_demo::Roster::Members,
    )
    .await
    .expect("sqlite app");
    let hefu = baiqian_demo::ledger::HEFU;
    let (problem,): (i64,) =
        sqlx::query_as("SELECT MIN(id) FROM problems WHERE village_path LIKE '%/' || $1 || '/%'")
            .bind(hefu)
            .fetch_one(app.db.pool())
            .await
            .expect("a problem of 和孚镇");
    let (survey,): (i64,) = sqlx::query_as("SELECT MIN(id) FROM surveys")
        .fetch_one(app.db.pool())
        .await
        .expect("the survey of 和孚镇");
    let (member,): (i64,) = sqlx::query_as(
        "SELECT member_id FROM users WHERE login = 'xinmin.member' AND member_id IS NOT NULL",
    )
    .fetch_one(app.db.pool())
    .await
    .expect("the demo member's record");
    let (station, request, code): (i64, i64, String) = sqlx::query_as(
        "SELECT s.id, MIN(r.id), MIN(r.code) FROM stations s JOIN service_requests r \
         ON r.station_id = s.id WHERE s.name = '劳岭红管家服务驿站' GROUP BY s.id",
    )
    .fetch_one(app.db.pool())
    .await
    .expect("劳岭's station and a request");
    let (post,): (i64,) = sqlx::query_as("SELECT MIN(id) FROM welfare_posts")
        .fetch_one(app.db.pool())
        .await
        .expect("林城镇's post");
    let moganshan = baiqian_demo::station::MOGANSHAN;
    let lincheng = baiqian_demo::post::LINCHENG;
    let pages: Vec<(&str, Vec<String>)> = vec![
        (
            "moganshan.admin",
            vec![
                format!("/orgs/{moganshan}/stations"),
                format!("/stations/{station}"),
                format!("/service-requests/{request}"),
            ],
        ),
        (
            "lincheng.admin",
            vec![format!("/orgs/{lincheng}/posts"), format!("/posts/{post}")],
        ),
        (
            "lincheng.supervisor",
            vec!["/".into(), format!("/posts/{post}")],
        ),
        (
            "city.admin",
            vec![
                "/".into(),
                format!("/orgs/{CITY}"),
                format!("/orgs/{CITY}/ratings/2015"),
                format!("/orgs/{CITY}/ratings/2016"),
                format!("/orgs/{CITY}/screen"),
                format!("/orgs/{CITY}/ratings/2015/villages?stars=5"),
                format!("/orgs/{CITY}/attendance"),
                format!("/orgs/{CITY}/village-facts/2016"),
                "/standards".into(),
                "/users".into(),
                "/audit".into(),
                "/search?q=xm".into(),
                format!("/orgs/{CITY}/problems"),
                format!("/orgs/{WUXING}/problems"),
                format!("/orgs/{WUXING}/ratings/2016"),
                format!("/orgs/{CITY}/visits"),
                "/pledges".into(),
            ],
        ),
        (
            "hefu.admin",
            vec![
                format!("/orgs/{hefu}/problems"),
                format!("/problems/{problem}"),
                format!("/orgs/{hefu}/visits"),
                format!("/orgs/{hefu}/problems/import"),
                format!("/orgs/{hefu}/file"),
                format!("/orgs/{hefu}/leaders"),
                format!("/surveys/{survey}"),
            ],
        ),
        (
            "chenta.secretary",
            vec![format!("/orgs/{}/file", baiqian_demo::CHENTA)],
        ),
        (
            "meishan.admin",
            vec![
                "/".into(),
                format!("/orgs/{MEISHAN}/ratings/2016"),
                format!("/orgs/{MEISHAN}/members"),
                format!("/orgs/{MEISHAN}/members?part=mobile"),
                format!("/members/{member}"),
                format!("/members/{member}/edit"),
                format!("/orgs/{MEISHAN}/events"),
            ],
        ),
        (
            "xinmin.secretary",
            vec![
                "/".into(),
                format!("/orgs/{XINMIN}/ratings/2016"),
                format!("/orgs/{XINMIN}/attendance"),
                format!("/orgs/{XINMIN}/devices"),
            ],
        ),
        ("xinmin.member", vec!["/".into(), "/checkin".into()]),
        ("city.leader", vec!["/".into()]),
        (
            "",
            vec![
                "/public".into(),
                format!("/public/orgs/{CITY}"),
                format!("/public/orgs/{CHANGXING}"),
                format!("/public/stations/{station}"),
                format!("/public/requests/{code}"),
            ],
        ),
    ];
    with_browser(&app, &driver, &chromium, |c, base| async move {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target/screens");
        let _ = std::fs::create_dir_all(&dir);
        let mut failures = Vec::new();
        for (login, urls) in &pages {
            c.delete_all_cookies().await?;
            if !login.is_empty() {
                c.set_window_size(1280, 900).await?;
                log_in(&c, &base, login).await?;
            }
            for lang in ["zh-CN", "en"] {
                c.goto(&format!("{base}/lang/{lang}?back=%2Fpublic"))
                    .await?;
                for url in urls {
                    for width in [360u32, 1440] {
                        c.set_window_size(width, 900).await?;
                        c.goto(&format!("{base}{url}")).await?;
                        c.wait().for_element(Locator::Css("main")).await?;
                        let m = c.execute(MEASURE, vec![]).await?;
                        let (doc, win) =
                            (m[0].as_f64().unwrap_or(0.0), m[1].as_f64().unwrap_or(0.0));
                        let bar = m[2].as_f64().unwrap_or(0.0);
                        let what = format!("{login} {url} {lang} {width}px");
                        if doc > win {
                            failures.push(format!(
                                "{what}: the page is {doc} px wide in a {win} px window: {}",
                                m[4]
                            ));
                        }
                        if bar > 64.0 {
                            failures.push(format!(
                                "{what}: the header is {bar} px high (more than one row)"
                            ));
                        }
                        if let Some(small) = m[3].as_array().filter(|s| !s.is_empty()) {
                            failures.push(format!("{what}: tap targets under 44 px: {small:?}"));
                        }
                        if let Some(broken) = m[5].as_array().filter(|s| !s.is_empty()) {
                            failures.push(format!(
                                "{what}: names broken one character per line: {broken:?}"
                            ));
                        }
                        let name: String = format!("{login}{url}")
                            .chars()
                            .map(|ch| if ch.is_ascii_alphanumeric() { ch } else { '_' })
                            .collect();
                        if let Ok(png) = c.screenshot().await {
                            let _ =
                                std::fs::write(dir.join(format!("{name}-{lang}-{width}.png")), png);
                        }
                    }
                }
            }
        }
        assert!(failures.is_empty(), "{}", failures.join("\n"));
        Ok(())
    })
    .await;
}

/// 新民村's secretary on a 360 px phone: types two scores (the running total follows), uploads
/// a photo for the first item without leaving the page — the typed scores stay in their boxes —
/// then saves in place; the save bar stays on screen at the bottom all along.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_village_secretary_scores_and_uploads_on_a_phone() {
    let Some((driver, chromium)) = required() else {
        return;
    };
    let app = TestApp::new(baiqian_store::Backend::Sqlite)
        .await
        .expect("sqlite app");
    let photo = std::env::temp_dir().join(format!("baiqian-phone-{}.png", std::process::id()));
    std::fs::write(&photo, crate::rating_scope::PNG).unwrap();
    let photo_path = photo.display().to_string();
    let db = app.db.clone();
    with_browser(&app, &driver, &chromium, move |c, base| async move {
        c.set_window_size(360, 800).await?;
        log_in(&c, &base, "xinmin.secretary").await?;
        c.goto(&format!("{base}/orgs/{XINMIN}/ratings/2016"))
            .await?;
        c.wait().for_element(Locator::Id("scores-form")).await?;
        let inputs = c.find_all(Locator::Css("input[name^=score_]")).await?;
        assert!(inputs.len() >= 2);
        for (input, v) in inputs.iter().zip(["3", "4"]) {
            input.clear().await?;
            input.send_keys(v).await?;
        }
        let first_name = inputs[0].attr("name").await?.unwrap_or_default();
        let running = c.find(Locator::Id("running-total")).await?.text().await?;
        assert_eq!(running, "7", "the running total follows the typing");
        // The save bar sits at the bottom of the screen while the items scroll.
        let bar = c
            .execute(
                "var r = document.getElementById('save-bar').getBoundingClientRect();
                 return [r.top, r.bottom, window.innerHeight];",
                vec![],
            )
            .await?;
        let (top, bottom, height) = (
            bar[0].as_f64().unwrap_or(-1.0),
            bar[1].as_f64().unwrap_or(-1.0),
            bar[2].as_f64().unwrap_or(0.0),
        );
        assert!(
            top >= 0.0 && bottom <= height + 1.0,
            "bar at {top}–{bottom} of {height}"
        );

        // The upload goes by htmx: the list gains the file, the page stays, the scores stay.
        let file = c.find(Locator::Css("input[type=file][id^=file_]")).await?;
        let code = file
            .attr("id")
            .await?
            .unwrap_or_default()
            .replace("file_", "");
        file.send_keys(&photo_path).await?;
        let button = c.find(Locator::Id(&format!("upload_{code}"))).await?;
        c.execute(
            "arguments[0].scrollIntoView({block: 'center'});",
            vec![serde_json::to_value(&button)?],
        )
        .await?;
        button.click().await?;
        c.wait()
            .for_element(Locator::Css(&format!("#evidence-{code} a.evidence")))
            .await?;
        let kept = c
            .find(Locator::Css(&format!("input[name='{first_name}']")))
            .await?
            .prop("value")
            .await?;
        assert_eq!(
            kept.as_deref(),
            Some("3"),
            "the typed score survives the upload"
        );

        c.find(Locator::Id("save-scores")).await?.click().await?;
        c.wait().for_element(Locator::Id("saved")).await?;
        crate::browser::keep_screenshot(&c, "screens/phone-self-assessment-360.png").await?;
        let (self_total,): (Option<i64>,) = sqlx::query_as(
            "SELECT a.self_total FROM assessments a JOIN rating_rounds r ON r.id = a.round_id \
             WHERE a.org_code = $1 AND r.year = 2016",
        )
        .bind(XINMIN)
        .fetch_one(db.pool())
        .await
        .unwrap();
        assert_eq!(self_total, Some(7), "both scores saved");
        Ok(())
    })
    .await;
    let _ = std::fs::remove_file(&photo);
}

/// 和孚镇's office sees its board's charts on a desk, then on a 360 px phone closes a problem its
/// village reported rectified: it adds a photo of the work, then verifies; the problem leaves the township's "to verify" list.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_township_closes_a_problem_with_evidence_on_a_phone() {
    let Some((driver, chromium)) = required() else {
        return;
    };
    let app = TestApp::new(baiqian_store::Backend::Sqlite)
        .await
        .expect("sqlite app");
    let hefu = baiqian_demo::ledger::HEFU;
    let photo = std::env::temp_dir().join(format!("baiqian-problem-{}.png", std::process::id()));
    std::fs::write(&photo, crate::rating_scope::PNG).unwrap();
    let photo_path = photo.display().to_string();
    let db = app.db.clone();
    with_browser(&app, &driver, &chromium, move |c, base| async move {
        c.set_window_size(1440, 900).await?;
        log_in(&c, &base, "hefu.admin").await?;
        // The board's charts by item group and by village are drawn.
        c.goto(&format!("{base}/orgs/{hefu}/problems")).await?;
        for chart in ["chart-groups", "chart-children"] {
            c.wait()
                .for_element(Locator::Css(&format!("#{chart}[data-ready] svg")))
                .await?;
        }
        c.execute(
            "document.getElementById('groups-head').scrollIntoView();",
            vec![],
        )
        .await?;
        crate::browser::keep_screenshot(&c, "screens/problem-board-groups-1440.png").await?;
        c.set_window_size(360, 800).await?;
        // From the board's figure to the list behind it, and the first problem on it.
        c.goto(&format!("{base}/orgs/{hefu}/problems")).await?;
        c.find(Locator::Css("a[href$='problems?status=rectified']"))
            .await?
            .click()
            .await?;
        let link = c
            .find(Locator::Css("#problems a[href^='/problems/']"))
            .await?;
        // The figure's list comes first: its first problem on the first screen, not 8,000 px
        // down below the breakdowns.
        let top = c
            .execute(
                "return arguments[0].getBoundingClientRect().top + window.scrollY;",
                vec![serde_json::to_value(&link)?],
            )
            .await?
            .as_f64()
            .unwrap_or(f64::MAX);
        assert!(top < 800.0, "the first problem is {top} px down");
        let href = link.attr("href").await?.unwrap_or_default();
        let id: i64 = href.trim_start_matches("/problems/").parse().unwrap_or(0);
        assert!(id > 0, "{href}");
        c.execute(
            "arguments[0].scrollIntoView({block: 'center'});",
            vec![serde_json::to_value(&link)?],
        )
        .await?;
        link.click().await?;
        c.wait().for_element(Locator::Id("evidence-form")).await?;
        c.find(Locator::Id("evidence-file"))
            .await?
            .send_keys(&photo_path)
            .await?;
        let upload = c.find(Locator::Css("#evidence-form button")).await?;
        c.execute(
            "arguments[0].scrollIntoView({block: 'center'});",
            vec![serde_json::to_value(&upload)?],
        )
        .await?;
        upload.click().await?;
        c.wait().for_element(Locator::Id("evidence-list")).await?;
        let note = c.find(Locator::Id("note-verify")).await?;
        note.send_keys("现场查看，已整改到位").await?;
        let verify = c.find(Locator::Css("#step-verify button")).await?;
        c.execute(
            "arguments[0].scrollIntoView({block: 'center'});",
            vec![serde_json::to_value(&verify)?],
        )
        .await?;
        verify.click().await?;
        // The page before the click has a history too: wait for the verified page itself, not
        // for an element both pages share (under load the old one answered, then went away).
        let status = c
            .wait()
            .for_element(Locator::XPath(
                "//*[@id='problem-status'][normalize-space()='已销号']",
            ))
            .await?
            .text()
            .await?;
        assert_eq!(status, "已销号");
        let width = c
            .execute(
                "return [document.documentElement.scrollWidth, window.innerWidth];",
                vec![],
            )
            .await?;
        assert!(
            width[0].as_f64() <= width[1].as_f64(),
            "the problem page fits the phone: {width:?}"
        );
        crate::browser::keep_screenshot(&c, "screens/phone-problem-verified-360.png").await?;
        let (status, evidence): (String, i64) = sqlx::query_as(
            "SELECT p.status, (SELECT COUNT(*) FROM problem_evidence e WHERE e.problem_id = p.id) \
             FROM problems p WHERE p.id = $1",
        )
        .bind(id)
        .fetch_one(db.pool())
        .await
        .unwrap();
        assert_eq!((status.as_str(), evidence), ("verified", 1));
        Ok(())
    })
    .await;
    let _ = std::fs::remove_file(&photo);
}

/// Pages in a PDF as Chromium writes it: each page object says `/Type /Page`.
fn pdf_pages(pdf: &[u8]) -> usize {
    let text = String::from_utf8_lossy(pdf);
    text.match_indices("/Type /Page")
        .filter(|(at, m)| !text[at + m.len()..].starts_with('s'))
        .count()
}

/// 陈塔村's situation file prints as the booklet: on one A4 page, or on the small A5 book officials
/// carry with its open problems running onto a second (the print style drops the site's
/// navigation and the entry form, and lays the problems out as a table at any width).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_village_file_prints_as_a_booklet() {
    let Some((driver, chromium)) = required() else {
        return;
    };
    let app = TestApp::with(
        baiqian_store::Backend::Sqlite,
        baiqian_demo::Roster::Members,
    )
    .await
    .expect("sqlite app");
    let chenta = baiqian_demo::CHENTA;
    with_browser(&app, &driver, &chromium, move |c, base| async move {
        use fantoccini::wd::{PrintConfiguration, PrintMargins, PrintSize};
        c.set_window_size(1280, 900).await?;
        log_in(&c, &base, "chenta.secretary").await?;
        for (paper, size) in [
            (
                "a5",
                PrintSize {
                    width: 14.8,
                    height: 21.0,
                },
            ),
            ("a4", PrintSize::A4),
        ] {
            c.goto(&format!(
                "{base}/orgs/{chenta}/file?year=2016&paper={paper}"
            ))
            .await?;
            c.wait().for_element(Locator::Id("village-file")).await?;
            let margin = if paper == "a5" { 0.8 } else { 1.5 };
            let config = PrintConfiguration::builder()
                .size(size)
                .margins(PrintMargins {
                    top: margin,
                    bottom: margin,
                    left: margin,
                    right: margin,
                })
                .build()
                .expect("a print configuration");
            let pdf = c.print(config).await?;
            assert!(pdf.starts_with(b"%PDF"), "{paper}: a PDF");
            let _ = std::fs::write(
                std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
                    .join(format!("../../target/screens/village-file-{paper}.pdf")),
                &pdf,
            );
            // The file's facts and the list of its open problems (陈塔村's 2016 booklet): one
            // A4 page; on A5 the list may run onto a second page, never further.
            let most = if paper == "a5" { 2 } else { 1 };
            let pages = pdf_pages(&pdf);
            assert!(
                (1..=most).contains(&pages),
                "{paper}: the file is {pages} pages"
            );
        }
        Ok(())
    })
    .await;
}
