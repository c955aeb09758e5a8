use axum::http::StatusCode;

use crate::both;
use crate::support::codes::*;
use crate::support::{TestApp, Who};

async fn health_metrics_and_static(app: TestApp) {
    let res = app.get("/healthz", &Who::Anonymous).await;
    assert_eq!(res.status, StatusCode::OK);
    for f in ["app.css", "htmx.min.js", "app.js"] {
        assert_eq!(
            app.get(&format!("/static/{f}"), &Who::Anonymous)
                .await
                .status,
            StatusCode::OK,
            "{f}"
        );
    }
    // Every page names its icon, and the icon is served.
    let login = app.get("/login", &Who::Anonymous).await.text();
    let icon = crate::support::between(&login, "<link rel=\"icon\" href=\"", "\"")
        .expect("the login page names an icon");
    let res = app.get(&icon, &Who::Anonymous).await;
    assert_eq!(res.status, StatusCode::OK, "{icon}");
    assert_eq!(
        res.headers
            .get("content-type")
            .and_then(|v| v.to_str().ok()),
        Some("image/svg+xml")
    );
    assert_eq!(
        app.get("/static/../Cargo.toml", &Who::Anonymous)
            .await
            .status,
        StatusCode::NOT_FOUND
    );
    let city = app.token("city.admin").await;
    app.get(&format!("/api/v1/orgs/{CITY}"), &city).await;
    let m = app.get("/metrics", &city).await;
    assert_eq!(m.status, StatusCode::OK);
    let text = m.text();
    assert!(text.contains("baiqian_http_requests_total{method=\"GET\",route=\"/api/v1/orgs/{code}\",status=\"200\"}"), "{text}");
    assert!(text.contains("baiqian_http_request_duration_seconds_bucket"));
    let town = app.token("meishan.admin").await;
    assert_eq!(
        app.get("/metrics", &town).await.status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        app.get("/metrics", &Who::Anonymous).await.status,
        StatusCode::SEE_OTHER
    );
}
both!(health_metrics_and_static);

async fn chinese_by_default_english_by_a_remembered_switch(app: TestApp) {
    let who = app.login("changxing.admin").await;
    let zh = app.get(&format!("/orgs/{CHANGXING}"), &who).await.text();
    assert!(zh.contains("lang=\"zh-CN\"") && zh.contains("组织架构"));
    // The scope breadcrumb: 湖州市 › 长兴县.
    assert!(zh.contains("<span>湖州市</span><span class=\"sep\">›</span><span>长兴县</span>"));
    let switch = app.get("/lang/en?back=/orgs/330522", &who).await;
    assert_eq!(switch.status, StatusCode::SEE_OTHER);
    assert_eq!(switch.location().as_deref(), Some("/orgs/330522"));
    let set = switch.set_cookie_header("bq_lang").unwrap();
    assert!(
        set.starts_with("bq_lang=en") && set.contains("Max-Age"),
        "{set}"
    );
    let en = app
        .get_lang(&format!("/orgs/{CHANGXING}"), &who.with_lang("en"))
        .await
        .text();
    assert!(
        en.contains("lang=\"en\"") && en.contains("Organization tree") && !en.contains("组织架构")
    );
    // Errors follow the language too.
    let api = app.token("meishan.admin").await;
    let res = app
        .get_lang(&format!("/api/v1/orgs/{TONGQIAO}"), &api.with_lang("en"))
        .await;
    assert_eq!(
        res.status,
        StatusCode::UNAUTHORIZED,
        "a language cookie is not a login"
    );
    // Open redirects are refused.
    let evil = app.get("/lang/en?back=//evil.example/", &who).await;
    assert_eq!(evil.location().as_deref(), Some("/"));
    assert_eq!(
        app.get("/lang/fr", &who).await.status,
        StatusCode::NOT_FOUND
    );
}
both!(chinese_by_default_english_by_a_remembered_switch);

/// Every string a user reads comes from the locale files: no Chinese text in templates or in
/// the web crate's code outside the locale files (place names are data and live in the demo).
#[test]
fn no_inline_chinese_in_templates() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("templates");
    let mut stack = vec![root];
    let mut checked = 0;
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
                continue;
            }
            let text = std::fs::read_to_string(&path).unwrap();
            checked += 1;
            let cjk: Vec<char> = text
                .chars()
                .filter(|c| ('\u{4e00}'..='\u{9fff}').contains(c))
                .collect();
            assert!(
                cjk.is_empty(),
                "{} has inline Chinese: {}",
                path.display(),
                cjk.iter().collect::<String>()
            );
        }
    }
    assert!(checked >= 10);
}

/// Every key a template asks for exists in the locale files.
#[test]
fn template_keys_exist() {
    let zh: std::collections::HashMap<String, String> =
        serde_json::from_str(baiqian_web::i18n::ZH_SOURCE).unwrap();
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("templates");
    let mut stack = vec![root];
    let mut keys = 0;
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
                continue;
            }
            let text = std::fs::read_to_string(&path).unwrap();
            for part in text.split("tr.t(\"").skip(1) {
                let key = part.split('"').next().unwrap();
                assert!(
                    zh.contains_key(key),
                    "{}: key {key} missing",
                    path.display()
                );
                keys += 1;
            }
        }
    }
    assert!(keys > 100);
}

async fn demo_logins_are_listed_in_demo_mode_only(app: TestApp) {
    let plain = app.get("/login", &Who::Anonymous).await.text();
    assert!(!plain.contains("city.admin") && !plain.contains(baiqian_demo::DEMO_PASSWORD));
    let demo = baiqian_web::DemoLogins {
        password: baiqian_demo::DEMO_PASSWORD.into(),
        accounts: vec![baiqian_web::DemoLoginEntry {
            login: "city.admin".into(),
            role: baiqian_domain::role::Role::CityAdmin,
            place: "湖州市".into(),
        }],
    };
    let config = baiqian_web::Config {
        demo: Some(demo),
        ..Default::default()
    };
    let state = baiqian_web::AppState::new(
        app.db.clone(),
        (*app.state.vault).clone(),
        app.clock.clone(),
        config,
    );
    let res = tower::ServiceExt::oneshot(
        baiqian_web::app(state),
        axum::http::Request::get("/login")
            .body(axum::body::Body::empty())
            .unwrap(),
    )
    .await
    .unwrap();
    let body = axum::body::to_bytes(res.into_body(), 1 << 20)
        .await
        .unwrap();
    let text = String::from_utf8_lossy(&body);
    assert!(
        text.contains("city.admin")
            && text.contains(baiqian_demo::DEMO_PASSWORD)
            && text.contains("市委组织部管理员")
    );
}
both!(demo_logins_are_listed_in_demo_mode_only);

/// Every message the code names (`Msg::new("key"…)`, in every crate) exists in both locale
/// files: an error the user is shown is never a raw key.
#[test]
fn message_keys_exist() {
    let zh: std::collections::HashMap<String, String> =
        serde_json::from_str(baiqian_web::i18n::ZH_SOURCE).unwrap();
    let en: std::collections::HashMap<String, String> =
        serde_json::from_str(baiqian_web::i18n::EN_SOURCE).unwrap();
    let crates = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let mut stack = vec![crates];
    let mut keys = 0;
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                if path.file_name().is_some_and(|n| n != "target") {
                    stack.push(path);
                }
                continue;
            }
            if path.extension().is_none_or(|e| e != "rs")
                || path.to_string_lossy().contains("/tests/")
            {
                continue;
            }
            let text = std::fs::read_to_string(&path).unwrap();
            for part in text.split("Msg::new(").skip(1) {
                let Some(key) = part
                    .trim_start()
                    .strip_prefix('"')
                    .and_then(|k| k.split('"').next())
                else {
                    continue;
                };
                for (lang, map) in [("zh", &zh), ("en", &en)] {
                    assert!(
                        map.contains_key(key),
                        "{}: message {key} missing in {lang}",
                        path.display()
                    );
                }
                keys += 1;
            }
        }
    }
    assert!(keys > 300, "{keys} messages found");
}
