//! Roles as capabilities: every route of the router, asked by every role, answers as the
//! role × capability table (`baiqian_domain::capability::GRANTS`) says; and a member reaches
//! their own record and nothing of other people.

use axum::body::Body;
use axum::http::{Method, Request, StatusCode, header};
use baiqian_domain::capability::Capability;
use baiqian_domain::role::Role;

use crate::both;
use crate::support::codes::XINMIN;
use crate::support::{TestApp, Who};

/// One account per role, all with 新民村 in scope.
const ACCOUNTS: [(Role, &str); 7] = [
    (Role::CityAdmin, "city.admin"),
    (Role::CountyAdmin, "changxing.admin"),
    (Role::TownshipAdmin, "meishan.admin"),
    (Role::VillageSecretary, "xinmin.secretary"),
    (Role::Member, "xinmin.member"),
    (Role::Leader, "meishan.leader"),
    (Role::Auditor, "meishan.auditor"),
];

/// A concrete URL for a route pattern. Ids point at nothing: the guard decides before any
/// handler reads them, and nothing a handler could do to a real record happens.
fn concrete(path: &str) -> String {
    path.replace("{code}", XINMIN)
        .replace("{id}", "987654321")
        .replace("{year}", "2016")
        .replace("{month}", "2016-05")
        .replace("{file}", "app.css")
        .replace("{lang}", "en")
        .replace("{action}", "end")
        .replace("{measure}", "pioneer_villages")
        .replace("{ledger}", "members")
}

async fn ask(app: &TestApp, method: &Method, url: &str, who: &Who) -> StatusCode {
    let mut b = Request::builder().method(method.clone()).uri(url);
    if let Who::Bearer(t) = who {
        b = b.header(header::AUTHORIZATION, format!("Bearer {t}"));
    }
    let body = if *method == Method::POST {
        b = b.header(header::CONTENT_TYPE, "application/json");
        Body::from("{}")
    } else {
        Body::empty()
    };
    app.request(b.body(body).expect("request")).await.status
}

async fn every_route_answers_each_role_as_the_table_says(app: TestApp) {
    let routes = baiqian_web::app::routes().specs();
    assert!(routes.len() > 70, "the table lists {} routes", routes.len());
    let mut tokens = Vec::new();
    for (role, login) in ACCOUNTS {
        tokens.push((role, login, app.token(login).await));
    }
    let mut checked = 0;
    for spec in &routes {
        let url = concrete(spec.path);
        for (role, login, who) in &tokens {
            let before = app.state.metrics.denied();
            let status = ask(&app, &spec.method, &url, who).await;
            let denied = app.state.metrics.denied() - before;
            let expected = u64::from(!role.may(spec.capability));
            assert_eq!(
                denied, expected,
                "{login} ({role:?}) {} {} needs {:?}: the guard's answer differs from the table",
                spec.method, spec.path, spec.capability
            );
            if expected == 1 {
                let answer = if spec.capability.denied_as_absent() {
                    StatusCode::NOT_FOUND
                } else {
                    StatusCode::FORBIDDEN
                };
                assert_eq!(status, answer, "{login} {} {url}", spec.method);
            } else if spec.capability != Capability::Public {
                assert_ne!(
                    status,
                    StatusCode::UNAUTHORIZED,
                    "{login} {} {url}: the token should speak for them",
                    spec.method
                );
            }
            checked += 1;
        }
        // Without an account only the public routes are reached; the rest ask for a login.
        let status = ask(&app, &spec.method, &url, &Who::Anonymous).await;
        if spec.capability != Capability::Public {
            assert!(
                status == StatusCode::UNAUTHORIZED || status.is_redirection(),
                "anonymous {} {url}: {status}",
                spec.method
            );
        }
    }
    assert_eq!(checked, routes.len() * ACCOUNTS.len());
    eprintln!(
        "{} routes × {} roles checked against the table",
        routes.len(),
        ACCOUNTS.len()
    );
}
both!(every_route_answers_each_role_as_the_table_says);

/// What anyone reaches without an account, route by route: signing in, health, static files,
/// the language switch, the API's description, the readers' check-ins (a reader brings its own
/// token) and the published ratings. A route added as public shows up here to be looked at.
#[test]
fn only_these_routes_are_public() {
    let public: std::collections::BTreeSet<String> = baiqian_web::app::routes()
        .specs()
        .into_iter()
        .filter(|r| r.capability == Capability::Public)
        .map(|r| format!("{} {}", r.method, r.path))
        .collect();
    let expected: std::collections::BTreeSet<String> = [
        "GET /api/v1/openapi.json",
        "GET /api/v1/public/orgs/{code}/ratings/{year}",
        "GET /api/v1/public/requests/{code}",
        "GET /api/v1/public/stations/{id}/services",
        "GET /healthz",
        "GET /lang/{lang}",
        "GET /login",
        "GET /public",
        "GET /public/orgs/{code}",
        "GET /public/requests",
        "GET /public/requests/{code}",
        "GET /public/stations/{id}",
        "GET /static/{file}",
        "POST /api/v1/checkins",
        "POST /api/v1/checkins/batch",
        "POST /api/v1/public/stations/{id}/requests",
        "POST /login",
        "POST /logout",
        "POST /public/requests/{code}/feedback",
        "POST /public/stations/{id}/requests",
    ]
    .into_iter()
    .map(String::from)
    .collect();
    assert_eq!(public, expected);
}

/// Each (method, path) once: a second registration would make the table ambiguous.
#[test]
fn the_route_table_has_each_route_once() {
    let routes = baiqian_web::app::routes().specs();
    let mut seen = std::collections::HashSet::new();
    for r in &routes {
        assert!(
            seen.insert((r.method.clone(), r.path)),
            "{} {} twice",
            r.method,
            r.path
        );
    }
}

async fn a_member_reaches_their_own_record_and_no_one_elses(app: TestApp) {
    let member = app.token("xinmin.member").await;
    let me = app.get("/api/v1/me", &member).await;
    assert_eq!(me.status, StatusCode::OK, "{}", me.text());
    let me = me.json();
    assert_eq!(me["login"], "xinmin.member");
    assert_eq!(me["role"], "member");
    assert_eq!(me["org"]["code"], XINMIN);
    assert_eq!(me["member"]["name"], "许月刚");
    let own = me["member"]["id"].as_i64().expect("a linked member");
    assert!(
        me["member"]["card_no"]
            .as_str()
            .is_some_and(|c| c.len() == 16)
    );

    // Their own record, card and member page.
    for url in [
        format!("/api/v1/members/{own}"),
        format!("/members/{own}"),
        format!("/members/{own}/card"),
    ] {
        assert_eq!(app.get(&url, &member).await.status, StatusCode::OK, "{url}");
    }
    // Their home is "mine": their record and card, not the village's admin page.
    let home = app.get("/", &member).await;
    assert_eq!(home.status, StatusCode::OK);
    assert!(
        home.text()
            .contains(&format!("href=\"/members/{own}/card\""))
    );
    assert!(!home.text().contains(&format!("/orgs/{XINMIN}/members")));

    // Another member of the same village, the roster, its export, the readers: not there.
    let other: (i64,) =
        sqlx::query_as("SELECT id FROM members WHERE home_org = $1 AND id <> $2 LIMIT 1")
            .bind(XINMIN)
            .bind(own)
            .fetch_one(app.db.pool())
            .await
            .expect("a second member");
    for url in [
        format!("/api/v1/members/{}", other.0),
        format!("/members/{}", other.0),
        format!("/members/{}/card", other.0),
        format!("/orgs/{XINMIN}/members"),
        format!("/api/v1/orgs/{XINMIN}/members"),
        format!("/orgs/{XINMIN}/members.xlsx"),
        format!("/orgs/{XINMIN}/devices"),
        format!("/orgs/{XINMIN}/teams"),
        format!("/orgs/{XINMIN}/attendance"),
    ] {
        assert_eq!(
            app.get(&url, &member).await.status,
            StatusCode::NOT_FOUND,
            "{url}"
        );
    }
    // The village's public facts and its activity days stay open to them.
    assert_eq!(
        app.get(&format!("/orgs/{XINMIN}"), &member).await.status,
        StatusCode::OK
    );
    assert_eq!(
        app.get(&format!("/orgs/{XINMIN}/events"), &member)
            .await
            .status,
        StatusCode::OK
    );
    // The village page offers a member none of the links that would answer 404.
    let page = app.login("xinmin.member").await;
    let html = app.get(&format!("/orgs/{XINMIN}"), &page).await.text();
    for link in [
        "/members\"",
        "/members.xlsx",
        "/devices",
        "/teams",
        "/export.xlsx",
    ] {
        assert!(!html.contains(link), "a member's village page links {link}");
    }
    // The secretary still reads both members.
    let secretary = app.token("xinmin.secretary").await;
    for id in [own, other.0] {
        assert_eq!(
            app.get(&format!("/api/v1/members/{id}"), &secretary)
                .await
                .status,
            StatusCode::OK
        );
    }
}
both!(a_member_reaches_their_own_record_and_no_one_elses, roster);

/// No rendered page puts the CSRF token in a URL (forms carry it in a field).
async fn no_page_puts_the_csrf_token_in_a_url(app: TestApp) {
    let city = app.login("city.admin").await;
    let secretary = app.login("xinmin.secretary").await;
    let pages = [
        (&city, format!("/orgs/{XINMIN}/import")),
        (&city, format!("/orgs/{XINMIN}/members/import")),
        (&city, "/standards".to_string()),
        (&city, format!("/orgs/{XINMIN}/village-facts/2016")),
        (&secretary, format!("/orgs/{XINMIN}/ratings/2016")),
    ];
    let mut seen_forms = 0;
    for (who, url) in pages {
        let res = app.get(&url, who).await;
        let html = res.text();
        assert!(
            !html.contains("csrf="),
            "{url} puts the CSRF token in a URL"
        );
        seen_forms += html.matches("multipart/form-data").count();
    }
    assert!(
        seen_forms >= 3,
        "the upload forms were not on these pages ({seen_forms})"
    );
}
both!(no_page_puts_the_csrf_token_in_a_url);

/// Every page and API answer, as the city's administrator gets it: the content security policy
/// and the other headers (`app::security_headers`); a page or JSON answer is not stored; no
/// page holds an inline script, an inline event handler or a style attribute (the policy would
/// refuse them).
async fn every_answer_carries_the_security_headers(app: TestApp) {
    let city = app.login("city.admin").await;
    let mut pages = 0;
    for spec in baiqian_web::app::routes().specs() {
        if spec.method != Method::GET {
            continue;
        }
        let url = concrete(spec.path);
        let res = app.get(&url, &city).await;
        let h = |name: &str| {
            res.headers
                .get(name)
                .and_then(|v| v.to_str().ok())
                .unwrap_or_default()
                .to_string()
        };
        let ctype = h("content-type");
        if ctype.starts_with("application/pdf") {
            continue;
        }
        let csp = h("content-security-policy");
        assert!(
            csp.contains("script-src 'self'") && csp.contains("frame-ancestors 'none'"),
            "{url}: {csp:?}"
        );
        assert!(!csp.contains("unsafe-inline"), "{url}: {csp}");
        assert_eq!(h("x-content-type-options"), "nosniff", "{url}");
        assert_eq!(h("referrer-policy"), "same-origin", "{url}");
        assert_eq!(h("x-frame-options"), "DENY", "{url}");
        if ctype.starts_with("text/html") || ctype.starts_with("application/json") {
            assert_eq!(h("cache-control"), "no-store", "{url}");
        }
        if ctype.starts_with("text/html") {
            pages += 1;
            let html = res.text();
            assert!(!html.contains("<script>"), "{url} has an inline script");
            assert!(!html.contains(" style=\""), "{url} has a style attribute");
            let handler = html.split(" on").skip(1).find(|rest| {
                let name: String = rest.chars().take_while(char::is_ascii_lowercase).collect();
                !name.is_empty() && rest[name.len()..].starts_with("=\"")
            });
            assert!(
                handler.is_none(),
                "{url} has an inline handler: on{handler:?}"
            );
        }
    }
    assert!(pages > 20, "only {pages} pages were read");
}
both!(every_answer_carries_the_security_headers);

/// Behind a trusted proxy that terminated TLS (`X-Forwarded-Proto: https`), the answers carry
/// HSTS and every cookie is `Secure`; over plain HTTP neither (the tests' server is told it is
/// behind a trusted proxy and not configured for TLS).
async fn over_tls_from_a_trusted_proxy_cookies_are_secure(app: TestApp) {
    let ask = |proto: Option<&'static str>| {
        let mut req = Request::builder().uri("/login");
        if let Some(p) = proto {
            req = req.header("x-forwarded-proto", p);
        }
        req.body(Body::empty()).unwrap()
    };
    let plain = app.request(ask(None)).await;
    let tls = app.request(ask(Some("https"))).await;
    let cookies = |res: &crate::support::TestResponse| -> Vec<String> {
        res.headers
            .get_all("set-cookie")
            .iter()
            .map(|v| v.to_str().unwrap().to_string())
            .collect()
    };
    assert!(
        !cookies(&plain).is_empty(),
        "the login form sets its cookie"
    );
    assert!(cookies(&plain).iter().all(|c| !c.contains("Secure")));
    assert!(plain.headers.get("strict-transport-security").is_none());
    assert_eq!(cookies(&tls).len(), cookies(&plain).len());
    assert!(
        cookies(&tls).iter().all(|c| c.ends_with("; Secure")),
        "{:?}",
        cookies(&tls)
    );
    assert!(tls.headers.get("strict-transport-security").is_some());
}
both!(over_tls_from_a_trusted_proxy_cookies_are_secure);
