use axum::http::StatusCode;

use crate::both;
use crate::support::codes::*;
use crate::support::{Session, TestApp, Who};

async fn login_rotates_the_session_and_cookies_are_locked_down(app: TestApp) {
    let a = app.login("city.admin").await;
    let b = app.login("city.admin").await;
    let (Who::Session(a), Who::Session(b)) = (&a, &b) else {
        unreachable!()
    };
    assert_ne!(a.cookie, b.cookie, "a new session id at every login");
    // The login response's cookie is HttpOnly and SameSite.
    let form = app.get("/login", &Who::Anonymous).await;
    let set = form.set_cookie_header("bq_login_csrf").unwrap();
    assert!(
        set.contains("HttpOnly") && set.contains("SameSite=Lax"),
        "{set}"
    );
    let res = app
        .try_login("city.admin", baiqian_demo::DEMO_PASSWORD)
        .await
        .unwrap();
    let Who::Session(s) = res else { unreachable!() };
    assert_eq!(s.cookie.len(), 64);
    // Logging out ends the session on the server, not only in the browser.
    let who = Who::Session(b.clone());
    let out = app.post_form("/logout", &[], &who).await;
    assert_eq!(out.status, StatusCode::SEE_OTHER);
    assert_eq!(
        app.get("/orgs/330500", &who).await.status,
        StatusCode::SEE_OTHER
    );
    assert_eq!(
        app.get("/orgs/330500", &Who::Session(a.clone()))
            .await
            .status,
        StatusCode::OK
    );
    // The login form refuses a post without its own CSRF cookie.
    let req = axum::http::Request::builder()
        .method("POST")
        .uri("/login")
        .header("content-type", "application/x-www-form-urlencoded")
        .body(axum::body::Body::from(
            "csrf=abc&login=city.admin&password=Baiqian%402016",
        ))
        .unwrap();
    let res = app.request(req).await;
    assert_eq!(res.status, StatusCode::UNAUTHORIZED);
    assert!(res.cookie("bq_session").is_none());
}
both!(login_rotates_the_session_and_cookies_are_locked_down);

async fn five_failures_lock_the_account_for_fifteen_minutes(app: TestApp) {
    let (here, elsewhere) = (Some("10.0.0.1"), Some("10.0.0.2"));
    let audit0 = app.audit_count().await;
    for i in 0..5 {
        let res = app
            .try_login_from("meishan.admin", "Wrong-pass1", here)
            .await
            .unwrap_err();
        assert_eq!(res.status, StatusCode::UNAUTHORIZED, "try {i}");
        assert!(res.text().contains("账号或密码不正确"));
    }
    assert_eq!(app.audit_count().await, audit0 + 1, "the lock is audited");
    let res = app
        .try_login_from("meishan.admin", baiqian_demo::DEMO_PASSWORD, here)
        .await
        .unwrap_err();
    assert_eq!(
        res.status,
        StatusCode::UNAUTHORIZED,
        "the right password is refused while locked"
    );
    assert!(
        app.try_login_from("meishan.admin", baiqian_demo::DEMO_PASSWORD, elsewhere)
            .await
            .is_ok(),
        "the owner elsewhere is not locked out"
    );
    app.clock.advance_minutes(14);
    assert!(
        app.try_login_from("meishan.admin", baiqian_demo::DEMO_PASSWORD, here)
            .await
            .is_err()
    );
    app.clock.advance_minutes(2);
    assert!(
        app.try_login_from("meishan.admin", baiqian_demo::DEMO_PASSWORD, here)
            .await
            .is_ok(),
        "unlocked after 15 minutes"
    );
    // Locked again; the township's administrator unlocks it at once.
    for _ in 0..5 {
        app.try_login_from("meishan.admin", "Wrong-pass1", here)
            .await
            .unwrap_err();
    }
    let id = app
        .db
        .user_by_login("meishan.admin")
        .await
        .unwrap()
        .unwrap()
        .id;
    let county = app.login("changxing.admin").await;
    let accounts = app.get("/users", &county).await.text();
    assert!(
        accounts.contains(&format!("/users/{id}/unlock")),
        "the accounts page offers the unlock"
    );
    let res = app
        .post_form(&format!("/users/{id}/unlock"), &[], &county)
        .await;
    assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.text());
    assert!(
        app.try_login_from("meishan.admin", baiqian_demo::DEMO_PASSWORD, here)
            .await
            .is_ok(),
        "unlocked by the administrator"
    );
}
both!(five_failures_lock_the_account_for_fifteen_minutes);

/// An unknown login, a wrong password and a locked account get the same page, byte for byte
/// (but the login as typed), so nobody learns which logins exist or are locked.
async fn refusals_do_not_tell_which_logins_exist_or_are_locked(app: TestApp) {
    let at = Some("10.0.0.7");
    for _ in 0..5 {
        app.try_login_from("meishan.admin", "Wrong-pass1", at)
            .await
            .unwrap_err();
    }
    let form = app.login_form().await;
    let answer = |res: crate::support::TestResponse, login: &str| {
        assert_eq!(res.status, StatusCode::UNAUTHORIZED, "{login}");
        (
            res.text().replace(login, "LOGIN"),
            res.cookie("bq_login_csrf"),
        )
    };
    let unknown = answer(
        app.post_login(&form, "nobody.here", "Wrong-pass1", at)
            .await,
        "nobody.here",
    );
    let wrong = answer(
        app.post_login(&form, "changxing.admin", "Wrong-pass1", at)
            .await,
        "changxing.admin",
    );
    let locked = answer(
        app.post_login(&form, "meishan.admin", baiqian_demo::DEMO_PASSWORD, at)
            .await,
        "meishan.admin",
    );
    assert!(unknown.0.contains("账号或密码不正确"));
    assert_eq!(unknown, wrong);
    assert_eq!(unknown, locked);
}
both!(refusals_do_not_tell_which_logins_exist_or_are_locked);

/// An address that keeps failing, whatever the account, is told to wait (429, `Retry-After`),
/// counted in `/metrics`; another address is not affected; the wait ends with the window.
async fn an_address_that_keeps_failing_is_told_to_wait(app: TestApp) {
    let at = Some("10.0.0.9");
    let form = app.login_form().await;
    for i in 0..30 {
        let res = app
            .post_login(&form, &format!("guess{i}"), "Wrong-pass1", at)
            .await;
        assert_eq!(res.status, StatusCode::UNAUTHORIZED, "try {i}");
    }
    let res = app
        .post_login(&form, "meishan.admin", baiqian_demo::DEMO_PASSWORD, at)
        .await;
    assert_eq!(res.status, StatusCode::TOO_MANY_REQUESTS, "{}", res.text());
    assert_eq!(
        res.headers.get("retry-after").and_then(|v| v.to_str().ok()),
        Some("900")
    );
    assert!(res.text().contains("15 分钟后再试"), "{}", res.text());
    assert!(
        app.try_login_from(
            "meishan.admin",
            baiqian_demo::DEMO_PASSWORD,
            Some("10.0.0.10")
        )
        .await
        .is_ok()
    );
    let city = app.login("city.admin").await;
    let metrics = app.get("/metrics", &city).await.text();
    assert!(
        metrics.contains("baiqian_logins_refused_total{reason=\"throttled\"} 1"),
        "{metrics}"
    );
    app.clock.advance_minutes(16);
    assert!(
        app.try_login_from("meishan.admin", baiqian_demo::DEMO_PASSWORD, at)
            .await
            .is_ok()
    );
}
both!(an_address_that_keeps_failing_is_told_to_wait);

async fn idle_sessions_end_after_thirty_minutes(app: TestApp) {
    let who = app.login("changxing.admin").await;
    app.clock.advance_minutes(20);
    assert_eq!(
        app.get(&format!("/orgs/{CHANGXING}"), &who).await.status,
        StatusCode::OK
    );
    app.clock.advance_minutes(20);
    assert_eq!(
        app.get(&format!("/orgs/{CHANGXING}"), &who).await.status,
        StatusCode::OK,
        "activity keeps it alive"
    );
    app.clock.advance_minutes(31);
    let res = app.get(&format!("/orgs/{CHANGXING}"), &who).await;
    assert_eq!(res.status, StatusCode::SEE_OTHER);
    assert!(res.location().unwrap().starts_with("/login"));
}
both!(idle_sessions_end_after_thirty_minutes);

async fn unsafe_requests_need_the_csrf_token(app: TestApp) {
    let who = app.login("changxing.admin").await;
    let before = (app.org_count().await, app.audit_count().await);
    let fields = [
        ("level", "village"),
        ("code", "330522109299"),
        ("name", "新村"),
        ("party_org_kind", "branch"),
    ];
    let Who::Session(s) = &who else {
        unreachable!()
    };
    let forged = Who::Session(Session {
        cookie: s.cookie.clone(),
        csrf: "0".repeat(64),
    });
    let res = app
        .post_form(&format!("/orgs/{MEISHAN}/new"), &fields, &forged)
        .await;
    assert_eq!(res.status, StatusCode::FORBIDDEN);
    let mut no_token = fields.to_vec();
    no_token.push(("csrf", ""));
    let res = app
        .post_form(&format!("/orgs/{MEISHAN}/new"), &no_token, &who)
        .await;
    assert_eq!(res.status, StatusCode::FORBIDDEN);
    let res = app
        .post_file(&format!("/orgs/{MEISHAN}/import"), b"x", "all", &forged)
        .await;
    assert_eq!(res.status, StatusCode::FORBIDDEN);
    assert_eq!(before, (app.org_count().await, app.audit_count().await));
    let ok = app
        .post_form(&format!("/orgs/{MEISHAN}/new"), &fields, &who)
        .await;
    assert_eq!(ok.status, StatusCode::SEE_OTHER);
}
both!(unsafe_requests_need_the_csrf_token);

async fn accounts_are_managed_within_scope(app: TestApp) {
    let town = app.login("meishan.admin").await;
    let list = app.get("/users", &town).await;
    assert_eq!(list.status, StatusCode::OK);
    let text = list.text();
    assert!(
        text.contains("xinmin.secretary")
            && !text.contains("city.admin")
            && !text.contains("longshan.secretary")
    );
    let audit0 = app.audit_count().await;
    // Weak passwords, roles above one's own, nodes outside scope: refused with the reason.
    for (fields, expect) in [
        (
            vec![
                ("login", "xm.clerk"),
                ("name", "村文书"),
                ("role", "member"),
                ("org_code", XINMIN),
                ("password", "short"),
            ],
            "密码至少8位",
        ),
        (
            vec![
                ("login", "xm.clerk"),
                ("name", "村文书"),
                ("role", "member"),
                ("org_code", XINMIN),
                ("password", "alllowercase"),
            ],
            "至少3类",
        ),
        (
            vec![
                ("login", "xm.clerk"),
                ("name", "村文书"),
                ("role", "county-admin"),
                ("org_code", XINMIN),
                ("password", "Good-Pass-2016"),
            ],
            "不能进行此操作",
        ),
        (
            vec![
                ("login", "xm.clerk"),
                ("name", "村文书"),
                ("role", "member"),
                ("org_code", TONGQIAO),
                ("password", "Good-Pass-2016"),
            ],
            "不在您的权限范围内",
        ),
        (
            vec![
                ("login", "xm.clerk"),
                ("name", "村文书"),
                ("role", "village-secretary"),
                ("org_code", MEISHAN),
                ("password", "Good-Pass-2016"),
            ],
            "不能设在",
        ),
        (
            vec![
                ("login", "Bad Login"),
                ("name", "村文书"),
                ("role", "member"),
                ("org_code", XINMIN),
                ("password", "Good-Pass-2016"),
            ],
            "账号应为",
        ),
        (
            vec![
                ("login", "xinmin.member"),
                ("name", "村文书"),
                ("role", "member"),
                ("org_code", XINMIN),
                ("password", "Good-Pass-2016"),
            ],
            "已存在",
        ),
    ] {
        let res = app.post_form("/users/new", &fields, &town).await;
        assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY, "{fields:?}");
        assert!(res.text().contains(expect), "{fields:?}: expected {expect}");
    }
    assert_eq!(app.audit_count().await, audit0);
    let res = app
        .post_form(
            "/users/new",
            &[
                ("login", "xm.clerk"),
                ("name", "村文书"),
                ("role", "member"),
                ("org_code", XINMIN),
                ("password", "Good-Pass-2016"),
            ],
            &town,
        )
        .await;
    assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.text());
    assert_eq!(app.audit_count().await, audit0 + 1);
    assert!(app.try_login("xm.clerk", "Good-Pass-2016").await.is_ok());

    // Disabling ends the account's sessions and tokens at once.
    let victim = app.login("xinmin.secretary").await;
    let token = app.token("xinmin.secretary").await;
    let id = app
        .db
        .user_by_login("xinmin.secretary")
        .await
        .unwrap()
        .unwrap()
        .id;
    let res = app
        .post_form(&format!("/users/{id}/disable"), &[], &town)
        .await;
    assert_eq!(res.status, StatusCode::SEE_OTHER);
    assert_eq!(
        app.get(&format!("/orgs/{XINMIN}"), &victim).await.status,
        StatusCode::SEE_OTHER
    );
    assert_eq!(
        app.get(&format!("/api/v1/orgs/{XINMIN}"), &token)
            .await
            .status,
        StatusCode::UNAUTHORIZED
    );
    assert!(
        app.try_login("xinmin.secretary", baiqian_demo::DEMO_PASSWORD)
            .await
            .is_err()
    );
    assert_eq!(
        app.post_form(&format!("/users/{id}/enable"), &[], &town)
            .await
            .status,
        StatusCode::SEE_OTHER
    );
    assert!(
        app.try_login("xinmin.secretary", baiqian_demo::DEMO_PASSWORD)
            .await
            .is_ok()
    );
    // create, token, disable, enable
    assert_eq!(app.audit_count().await, audit0 + 4);

    // Accounts outside scope do not exist for this admin.
    let other = app
        .db
        .user_by_login("longshan.secretary")
        .await
        .unwrap()
        .unwrap()
        .id;
    for action in ["disable", "enable", "unlock"] {
        let res = app
            .post_form(&format!("/users/{other}/{action}"), &[], &town)
            .await;
        assert_eq!(res.status, StatusCode::NOT_FOUND, "{action}");
    }
    // Non-admins have no accounts page.
    let member = app.login("xinmin.member").await;
    assert_eq!(
        app.get("/users", &member).await.status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(app.audit_count().await, audit0 + 4);
}
both!(accounts_are_managed_within_scope);
