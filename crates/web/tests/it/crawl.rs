//! Every page as its users reach it (issue 31): each demo account, in Chinese and in English,
//! follows the links of its pages from its home, breadth first, up to a bound; every link it is
//! offered answers (no dead link, no link to a page its role may not open), and no page shows a
//! translation key, a code in snake_case or a bare error status in its visible text.

use std::collections::{BTreeSet, HashSet, VecDeque};

use axum::http::StatusCode;

use crate::support::TestApp;

/// Pages each account reads in each language.
const PAGES_PER_READER: usize = 150;

/// Every key of the translation files: a page's text never shows one.
fn keys() -> BTreeSet<String> {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/locales/zh-CN.json");
    let text = std::fs::read_to_string(path).expect("locale file");
    let map: serde_json::Map<String, serde_json::Value> =
        serde_json::from_str(&text).expect("locale JSON");
    map.keys().filter(|k| k.contains('.')).cloned().collect()
}

/// A page's visible text: without scripts, styles, tags and attribute values.
fn visible(html: &str) -> String {
    let mut out = String::with_capacity(html.len() / 2);
    let mut rest = html;
    while let Some(i) = rest.find('<') {
        out.push_str(&rest[..i]);
        out.push(' ');
        let after = &rest[i..];
        let skip_to = ["<script", "<style"]
            .iter()
            .find(|t| after.starts_with(*t))
            .map(|t| format!("</{}>", &t[1..]));
        let end = match skip_to {
            Some(close) => after.find(&close).map(|j| j + close.len()),
            None => after.find('>').map(|j| j + 1),
        };
        match end {
            Some(j) => rest = &after[j..],
            None => {
                rest = "";
                break;
            }
        }
    }
    out.push_str(rest);
    out.replace("&amp;", "&")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&#x27;", "'")
        .replace("&nbsp;", " ")
}

/// The words of a text as a code would be written: letters, digits, `_` and `.`.
fn code_words(text: &str) -> impl Iterator<Item = &str> {
    text.split(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == '.'))
        .map(|w| w.trim_matches('.'))
        .filter(|w| !w.is_empty())
}

/// What is wrong with a page's visible text, if anything.
fn faults(text: &str, keys: &BTreeSet<String>) -> Vec<String> {
    let mut found = Vec::new();
    for w in code_words(text) {
        if keys.contains(w) {
            found.push(format!("translation key {w:?}"));
        } else if w.contains('_')
            && w.split('_').all(|p| !p.is_empty())
            && w.chars().any(|c| c.is_ascii_lowercase())
        {
            found.push(format!("code {w:?}"));
        }
    }
    for bare in ["出错了 4", "出错了 5", "Error 4", "Error 5"] {
        if text.contains(bare) {
            found.push(format!("a bare status ({bare}…)"));
        }
    }
    found
}

/// The links of a page worth following: pages of this site, not files, feeds or actions.
fn links(html: &str) -> Vec<String> {
    let mut out = Vec::new();
    for part in html.split("href=\"").skip(1) {
        let Some(end) = part.find('"') else { continue };
        let tag_rest = &part[end..part.find('>').unwrap_or(end)];
        if tag_rest.contains("download") {
            continue;
        }
        let href = part[..end].replace("&amp;", "&");
        let path = href.split('#').next().unwrap_or_default().to_string();
        let skip = !path.starts_with('/')
            || path.starts_with("//")
            || path.starts_with("/static/")
            || path.starts_with("/api/")
            || path.starts_with("/lang")
            || path.starts_with("/logout")
            || path.starts_with("/public/")
            || path.contains("format=xlsx")
            || [
                ".xlsx", ".csv", ".png", ".svg", ".ico", ".json", "/xlsx", "/csv", "/export",
            ]
            .iter()
            .any(|e| path.split('?').next().unwrap_or_default().ends_with(e));
        if !skip {
            out.push(path);
        }
    }
    out
}

/// The demo's accounts whose pages are read.
const READERS: &[&str] = &[
    "city.admin",
    "city.leader",
    "city.auditor",
    "changxing.admin",
    "changxing.leader",
    "meishan.admin",
    "meishan.leader",
    "hefu.admin",
    "hefu.leader",
    "chenta.secretary",
    "xinmin.secretary",
    "xinmin.member",
];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_page_a_role_reaches_answers_and_shows_no_code() {
    let Some(app) = TestApp::new(baiqian_store::Backend::Sqlite).await else {
        return;
    };
    let keys = keys();
    let mut problems = Vec::new();
    let mut read = 0;
    for login in READERS {
        let who = app.login(login).await;
        for lang in ["zh-CN", "en"] {
            let reader = who.with_lang(lang);
            let mut seen: HashSet<String> = HashSet::new();
            let mut queue = VecDeque::from(["/".to_string()]);
            seen.insert("/".into());
            let mut pages = 0;
            while let Some(path) = queue.pop_front() {
                if pages >= PAGES_PER_READER {
                    break;
                }
                let res = app.get_lang(&path, &reader).await;
                pages += 1;
                if res.status == StatusCode::SEE_OTHER || res.status == StatusCode::FOUND {
                    continue;
                }
                if res.status != StatusCode::OK {
                    problems.push(format!("{login} {lang} {path}: {}", res.status));
                    continue;
                }
                let html = res.text();
                for f in faults(&visible(&html), &keys) {
                    problems.push(format!("{login} {lang} {path}: {f}"));
                }
                for link in links(&html) {
                    if seen.insert(link.clone()) {
                        queue.push_back(link);
                    }
                }
            }
            read += pages;
        }
    }
    eprintln!("the crawl read {read} pages");
    assert!(read > READERS.len() * 2 * 10, "the crawl read {read} pages");
    let distinct: BTreeSet<String> = problems.into_iter().collect();
    assert!(
        distinct.is_empty(),
        "{} faults over {read} pages:\n{}",
        distinct.len(),
        distinct.into_iter().take(80).collect::<Vec<_>>().join("\n")
    );
}

#[test]
fn the_checks_see_what_they_look_for() {
    let keys: BTreeSet<String> = ["plan.item".to_string()].into();
    let html = "<p>plan.item · in_progress · 出错了 409</p><script>var a_b = 1;</script>\
                <a href=\"/x\" title=\"a_b\">ok</a>";
    let f = faults(&visible(html), &keys);
    assert_eq!(f.len(), 3, "{f:?}");
    assert!(faults(&visible("<p>新民村 · city.admin · 2016-03-01</p>"), &keys).is_empty());
    assert_eq!(
        links("<a href=\"/orgs/1?a=1&amp;b=2\">x</a><a href=\"/static/x.css\">"),
        ["/orgs/1?a=1&b=2"]
    );
}

/// An error page keeps a signed-in reader's frame and menu and says what to do; without an
/// account it is the plain page, with the same message and advice; the API answers JSON.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_error_page_keeps_the_frame_and_says_what_to_do() {
    let Some(app) = TestApp::new(baiqian_store::Backend::Sqlite).await else {
        return;
    };
    let town = app.login("meishan.admin").await;
    // Outside 煤山镇: not found, inside the reader's frame.
    let res = app.get("/orgs/330522101201", &town).await;
    assert_eq!(res.status, StatusCode::NOT_FOUND);
    let page = res.text();
    assert!(page.contains("id=\"sidenav\""), "the menu is kept");
    assert!(page.contains("data-status=\"404\""));
    assert!(page.contains("请检查网址"), "it says what to do");
    assert!(faults(&visible(&page), &keys()).is_empty());
    // A step out of turn: a conflict, with its reason and what to do.
    let county = app.login("changxing.admin").await;
    let scheme = app
        .db
        .plan_of(&app.node(crate::support::codes::HONGQIAO).await, 2016)
        .await
        .unwrap()
        .expect("洪桥镇's scheme waits for 长兴县");
    let decide = format!("/plans/{}/decide", scheme.id);
    let res = app
        .post_form(&decide, &[("action", "approve")], &county)
        .await;
    assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.text());
    let res = app
        .post_form(&decide, &[("action", "approve")], &county)
        .await;
    assert_eq!(res.status, StatusCode::CONFLICT);
    let page = res.text();
    assert!(
        page.contains("id=\"sidenav\"") && page.contains("请刷新页面"),
        "{page}"
    );
    // In English too.
    let en = app
        .get_lang("/orgs/330522101201", &town.with_lang("en"))
        .await
        .text();
    assert!(en.contains("id=\"sidenav\"") && en.contains("Check the address"));
    // Without an account: the login (a page of the site), or the plain page for a bad path.
    let res = app
        .get("/static/nothing-here.css", &crate::support::Who::Anonymous)
        .await;
    assert_eq!(res.status, StatusCode::NOT_FOUND);
    let plain = res.text();
    assert!(!plain.contains("id=\"sidenav\"") && plain.contains("请检查网址"));
    // The API keeps its JSON.
    let res = app.get("/api/v1/orgs/330522101201", &town).await;
    assert_eq!(res.status, StatusCode::NOT_FOUND);
    assert_eq!(res.json()["error"]["code"], "not_found");
}
