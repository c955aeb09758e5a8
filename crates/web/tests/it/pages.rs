use axum::http::StatusCode;

use crate::both;
use crate::support::codes::*;
use crate::support::{TestApp, Who};

/// Every tree page, for a township admin: inside scope it answers, outside it is 404.
async fn tree_pages_in_and_out_of_scope(app: TestApp) {
    let town = app.login("meishan.admin").await;
    let pages = [
        "",
        "/new",
        "/edit",
        "/move",
        "/retire",
        "/export.xlsx",
        "/import",
    ];
    for p in pages {
        let inside = app.get(&format!("/orgs/{XINMIN}{p}"), &town).await;
        assert_eq!(inside.status, StatusCode::OK, "/orgs/{XINMIN}{p}");
        let outside = app.get(&format!("/orgs/{TONGQIAO}{p}"), &town).await;
        assert_eq!(outside.status, StatusCode::NOT_FOUND, "/orgs/{TONGQIAO}{p}");
        let above = app.get(&format!("/orgs/{CHANGXING}{p}"), &town).await;
        assert_eq!(above.status, StatusCode::NOT_FOUND, "/orgs/{CHANGXING}{p}");
    }
    // Posting to nodes outside scope: 404 and nothing written.
    let before = (app.org_count().await, app.audit_count().await);
    for (p, fields) in [
        (
            "/new",
            vec![
                ("code", "330522101299"),
                ("name", "新村"),
                ("level", "village"),
                ("party_org_kind", "branch"),
            ],
        ),
        (
            "/edit",
            vec![
                ("name", "改名村"),
                ("party_org_kind", "branch"),
                ("member_count", "3"),
            ],
        ),
        ("/move", vec![("parent", MEISHAN), ("reason", "调整")]),
        ("/retire", vec![("reason", "合并")]),
    ] {
        let res = app
            .post_form(&format!("/orgs/{TONGQIAO}{p}"), &fields, &town)
            .await;
        assert_eq!(res.status, StatusCode::NOT_FOUND, "POST {p}");
    }
    let res = app
        .post_file(&format!("/orgs/{TONGQIAO}/import"), b"x", "all", &town)
        .await;
    assert_eq!(res.status, StatusCode::NOT_FOUND);
    assert_eq!(before, (app.org_count().await, app.audit_count().await));
    // The tree page shows the node, its counts and children.
    let page = app.get(&format!("/orgs/{MEISHAN}"), &town).await.text();
    assert!(page.contains("煤山镇") && page.contains("新民村") && page.contains("天能集团"));
    assert!(
        page.contains("id=\"count-village\">22<"),
        "22 villages under 煤山镇"
    );
    // Anonymous users are sent to the login page.
    let anon = app.get(&format!("/orgs/{XINMIN}"), &Who::Anonymous).await;
    assert_eq!(anon.status, StatusCode::SEE_OTHER);
    assert!(anon.location().unwrap().starts_with("/login?next="));
}
both!(tree_pages_in_and_out_of_scope);

async fn create_edit_move_retire_each_leave_one_audit_row(app: TestApp) {
    let county = app.login("changxing.admin").await;
    let town = app.token("meishan.admin").await;
    let county_api = app.token("changxing.admin").await;
    let audit0 = app.audit_count().await;
    let res = app
        .post_form(
            &format!("/orgs/{MEISHAN}/new"),
            &[
                ("level", "village"),
                ("code", "330522109299"),
                ("name", "试点村"),
                ("party_org_kind", "branch"),
                ("member_count", "31"),
                ("secretary_name", ""),
            ],
            &county,
        )
        .await;
    assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.text());
    assert_eq!(res.location().as_deref(), Some("/orgs/330522109299"));
    // The village, and its draft in the demo's open 2016 round.
    assert_eq!(app.audit_count().await, audit0 + 2);
    let audit0 = audit0 + 1;

    let res = app
        .post_form(
            "/orgs/330522109299/edit",
            &[
                ("name", "试点新村"),
                ("party_org_kind", "general_branch"),
                ("party_org_name", ""),
                ("secretary_name", "王建国"),
                ("member_count", "52"),
            ],
            &county,
        )
        .await;
    assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.text());
    assert_eq!(app.audit_count().await, audit0 + 2);
    let page = app.get("/orgs/330522109299", &county).await.text();
    assert!(page.contains("试点新村党总支") && page.contains("王建国"));

    // Moving a village to another township of the county, with a reason.
    let res = app
        .post_form(
            "/orgs/330522109299/move",
            &[("parent", HONGQIAO), ("reason", "区划调整")],
            &county,
        )
        .await;
    assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.text());
    assert_eq!(app.audit_count().await, audit0 + 3);
    assert_eq!(
        app.get("/api/v1/orgs/330522109299", &town).await.status,
        StatusCode::NOT_FOUND,
        "moved out of 煤山镇's scope"
    );
    let moved = app
        .get("/api/v1/orgs/330522109299", &county_api)
        .await
        .json();
    assert_eq!(moved["parent"], HONGQIAO);

    let res = app
        .post_form(
            "/orgs/330522109299/retire",
            &[("reason", "并入潼桥村")],
            &county,
        )
        .await;
    assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.text());
    // The retirement, and its untouched 2016 draft withdrawn.
    assert_eq!(app.audit_count().await, audit0 + 5);
    let audit0 = audit0 + 1;
    let after = app
        .get(&format!("/api/v1/orgs/{CHANGXING}"), &county_api)
        .await
        .json();
    assert_eq!(
        after["counts"]["village"], 248,
        "a retired village no longer counts"
    );
    // Retired, it keeps its page and refuses changes.
    let page = app.get("/orgs/330522109299", &county).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.text().contains("并入潼桥村"));
    let res = app
        .post_form(
            "/orgs/330522109299/edit",
            &[("name", "再改"), ("party_org_kind", "branch")],
            &county,
        )
        .await;
    assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(app.audit_count().await, audit0 + 4);
}
both!(create_edit_move_retire_each_leave_one_audit_row);

async fn bad_form_input_is_explained_and_writes_nothing(app: TestApp) {
    let county = app.login("changxing.admin").await;
    let before = (app.org_count().await, app.audit_count().await);
    let long_name = "长".repeat(61);
    let cases: Vec<(Vec<(&str, &str)>, &str)> = vec![
        (
            vec![
                ("level", "village"),
                ("code", "33052210"),
                ("name", "新村"),
                ("party_org_kind", "branch"),
            ],
            "格式不正确",
        ),
        (
            vec![
                ("level", "village"),
                ("code", "330522101299"),
                ("name", "新村"),
                ("party_org_kind", "branch"),
            ],
            "不在上级",
        ),
        (
            vec![
                ("level", "village"),
                ("code", "330522109299"),
                ("name", "<b>村</b>"),
                ("party_org_kind", "branch"),
            ],
            "不能含有字符",
        ),
        (
            vec![
                ("level", "village"),
                ("code", "330522109299"),
                ("name", "a\"; DELETE FROM orgs; --"),
                ("party_org_kind", "branch"),
            ],
            "不能含有字符",
        ),
        (
            vec![
                ("level", "village"),
                ("code", "330522109299"),
                ("name", &long_name),
                ("party_org_kind", "branch"),
            ],
            "不能超过60",
        ),
        (
            vec![
                ("level", "county"),
                ("code", "330522109299"),
                ("name", "新村"),
                ("party_org_kind", "branch"),
            ],
            "不能隶属于",
        ),
        (
            vec![
                ("level", "village"),
                ("code", "330522109299"),
                ("name", "新村"),
                ("party_org_kind", "cell"),
            ],
            "党组织类型",
        ),
        (
            vec![
                ("level", "village"),
                ("code", XINMIN),
                ("name", "新村"),
                ("party_org_kind", "branch"),
            ],
            "已被使用",
        ),
    ];
    for (fields, expect) in cases {
        let res = app
            .post_form(&format!("/orgs/{MEISHAN}/new"), &fields, &county)
            .await;
        assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY, "{fields:?}");
        let html = res.text();
        assert!(
            html.contains("error-summary") && html.contains(expect),
            "{fields:?}: expected {expect:?}"
        );
        // What was typed comes back, escaped.
        assert!(!html.contains("<b>村</b>"));
    }
    // Moves: into its own subtree, to a parent outside scope, without a reason.
    for (fields, expect) in [
        (vec![("parent", XINMIN), ("reason", "测试")], "自身"),
        (
            vec![("parent", WUXING), ("reason", "测试")],
            "不在您的权限范围内",
        ),
        (vec![("parent", HONGQIAO), ("reason", "")], "请填写原因"),
        (vec![("parent", "33x"), ("reason", "测试")], "格式不正确"),
    ] {
        let res = app
            .post_form(&format!("/orgs/{MEISHAN}/move"), &fields, &county)
            .await;
        assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY, "{fields:?}");
        assert!(res.text().contains(expect), "{fields:?}");
    }
    let res = app
        .post_form(
            &format!("/orgs/{MEISHAN}/retire"),
            &[("reason", "测试撤销")],
            &county,
        )
        .await;
    assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        res.text().contains("下级组织"),
        "a township with villages cannot be retired"
    );
    assert_eq!(before, (app.org_count().await, app.audit_count().await));
}
both!(bad_form_input_is_explained_and_writes_nothing);

async fn roles_limit_what_can_be_changed(app: TestApp) {
    let sec = app.login("xinmin.secretary").await;
    let before = app.audit_count().await;
    // A village secretary keeps the Party organization's details but does not reshape the tree.
    assert_eq!(
        app.get(&format!("/orgs/{XINMIN}/new"), &sec).await.status,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        app.get(&format!("/orgs/{XINMIN}/move"), &sec).await.status,
        StatusCode::FORBIDDEN
    );
    let res = app
        .post_form(
            &format!("/orgs/{XINMIN}/edit"),
            &[
                ("name", "新民村"),
                ("party_org_kind", "general_branch"),
                ("member_count", "58"),
                ("secretary_name", "许月刚"),
            ],
            &sec,
        )
        .await;
    assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.text());
    assert_eq!(app.audit_count().await, before + 1);
    let res = app
        .post_form(
            &format!("/orgs/{XINMIN}/edit"),
            &[
                ("name", "新名村"),
                ("party_org_kind", "branch"),
                ("member_count", "58"),
            ],
            &sec,
        )
        .await;
    assert_eq!(
        res.status,
        StatusCode::FORBIDDEN,
        "renaming one's own node is done from above"
    );
    // Leaders and auditors read only.
    let leader = app.login("meishan.leader").await;
    assert_eq!(
        app.get(&format!("/orgs/{XINMIN}"), &leader).await.status,
        StatusCode::OK
    );
    assert_eq!(
        app.get(&format!("/orgs/{XINMIN}/edit"), &leader)
            .await
            .status,
        StatusCode::FORBIDDEN
    );
    let res = app
        .post_form(
            &format!("/orgs/{XINMIN}/edit"),
            &[
                ("name", "新民村"),
                ("party_org_kind", "branch"),
                ("member_count", "1"),
            ],
            &leader,
        )
        .await;
    assert_eq!(res.status, StatusCode::FORBIDDEN);
    assert_eq!(app.audit_count().await, before + 1);
}
both!(roles_limit_what_can_be_changed);

async fn search_by_name_and_pinyin_initials_within_scope(app: TestApp) {
    let city = app.login("city.admin").await;
    let res = app.get("/search?q=lsc", &city).await.text();
    assert!(res.contains("龙山村"), "pinyin initials find 龙山村");
    let res = app.get("/search?q=cxx", &city).await.text();
    assert!(res.contains("长兴县"), "长 read as chang");
    let res = app.get("/search?q=%E6%96%B0%E6%B0%91", &city).await.text();
    assert!(res.contains("新民村"));
    let res = app.get("/search?q=%25", &city).await;
    assert_eq!(res.status, StatusCode::OK);
    assert!(
        res.text().contains("no-results"),
        "% is a literal, not a wildcard"
    );
    let town = app.login("meishan.admin").await;
    let res = app.get("/search?q=lsc", &town).await.text();
    assert!(!res.contains("龙山村"), "outside scope");
}
both!(search_by_name_and_pinyin_initials_within_scope);

/// A village merged away: retiring it ends access through it — its secretary's account (session
/// and API token) and its card reader — at once, each audited with the retirement's reason; the
/// form says beforehand what will end.
async fn retiring_a_node_ends_its_accounts_and_readers(app: TestApp) {
    let county = app.login("changxing.admin").await;
    let res = app
        .post_form(
            &format!("/orgs/{MEISHAN}/new"),
            &[
                ("level", "village"),
                ("code", "330522109298"),
                ("name", "待并村"),
                ("party_org_kind", "branch"),
                ("member_count", "12"),
                ("secretary_name", ""),
            ],
            &county,
        )
        .await;
    assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.text());
    let village = baiqian_domain::org::OrgCode::parse("330522109298").unwrap();
    app.db
        .create_user(
            &baiqian_store::Actor::cli(),
            baiqian_store::user::NewUser {
                login: "daibing.secretary".into(),
                name: "待并村书记".into(),
                role: baiqian_domain::role::Role::VillageSecretary,
                org_code: village.clone(),
                password_hash: baiqian_web::auth::hash_password(baiqian_demo::DEMO_PASSWORD)
                    .unwrap(),
            },
            crate::support::T0,
        )
        .await
        .unwrap();
    app.db
        .create_device(
            &baiqian_store::Actor::cli(),
            &village,
            "村部读卡器",
            "retire-test-token-hash",
            crate::support::T0,
        )
        .await
        .unwrap();
    let session = app.login("daibing.secretary").await;
    let api = app.token("daibing.secretary").await;
    assert_eq!(
        app.get("/api/v1/orgs/330522109298", &api).await.status,
        StatusCode::OK
    );

    let form = app.get("/orgs/330522109298/retire", &county).await;
    assert_eq!(form.status, StatusCode::OK);
    assert!(
        form.text().contains("1 个在用账号") && form.text().contains("1 台读卡器"),
        "{}",
        form.text()
    );
    let audit0 = app.audit_count().await;
    let res = app
        .post_form(
            "/orgs/330522109298/retire",
            &[("reason", "并入新民村")],
            &county,
        )
        .await;
    assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.text());
    // The retirement, its untouched 2016 draft withdrawn, the account, the reader.
    assert_eq!(app.audit_count().await, audit0 + 4);
    assert_eq!(
        app.get("/api/v1/orgs/330522109298", &api).await.status,
        StatusCode::UNAUTHORIZED
    );
    let page = app.get("/orgs/330522109298", &session).await;
    assert_eq!(page.status, StatusCode::SEE_OTHER, "the session ended");
    assert!(
        app.try_login("daibing.secretary", baiqian_demo::DEMO_PASSWORD)
            .await
            .is_err(),
        "the account is disabled"
    );
    let devices = app.db.devices(&baiqian_store::Actor::cli()).await.unwrap();
    let reader = devices
        .iter()
        .find(|r| r.device.org_code == "330522109298")
        .unwrap();
    assert!(reader.revoked_at.is_some(), "the reader is revoked");
    let audit = app.get("/audit?q=daibing.secretary", &county).await.text();
    assert!(audit.contains("并入新民村"), "{audit}");
}
both!(retiring_a_node_ends_its_accounts_and_readers);

/// A village moved to another township takes its members and its records along: the old
/// township's member count loses them and the new one's gains them, its open assessment is the
/// new township's to see and no longer the old one's.
async fn a_moved_village_takes_its_members_and_assessment_along(app: TestApp) {
    use baiqian_domain::org::OrgCode;
    use baiqian_domain::scope::Scope;
    let count = |code: &'static str| {
        let db = app.db.clone();
        async move {
            db.org(&Scope::everything(), &OrgCode::parse(code).unwrap())
                .await
                .unwrap()
                .member_count
        }
    };
    let (xinmin, meishan, hongqiao, county0) = (
        count(XINMIN).await,
        count(MEISHAN).await,
        count(HONGQIAO).await,
        count(CHANGXING).await,
    );
    assert!(xinmin > 0, "the roster is loaded");
    let county = app.login("changxing.admin").await;
    let town = app.login("meishan.admin").await;
    let listed = |code: &'static str, who: &Who| {
        let path = format!("/orgs/{code}/ratings/2016/villages");
        let app = &app;
        let who = who.clone();
        async move {
            let res = app.get(&path, &who).await;
            assert_eq!(res.status, StatusCode::OK, "{path}");
            res.text().contains("新民村")
        }
    };
    assert!(listed(MEISHAN, &town).await);
    assert!(!listed(HONGQIAO, &county).await);

    let res = app
        .post_form(
            &format!("/orgs/{XINMIN}/move"),
            &[("parent", HONGQIAO), ("reason", "区划调整")],
            &county,
        )
        .await;
    assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.text());
    assert_eq!(count(XINMIN).await, xinmin);
    assert_eq!(count(MEISHAN).await, meishan - xinmin);
    assert_eq!(count(HONGQIAO).await, hongqiao + xinmin);
    assert_eq!(count(CHANGXING).await, county0, "still in 长兴县");
    assert!(
        listed(HONGQIAO, &county).await,
        "the new township's to review"
    );
    assert!(!listed(MEISHAN, &town).await);
    assert_eq!(
        app.get(&format!("/orgs/{XINMIN}/ratings/2016"), &town)
            .await
            .status,
        StatusCode::NOT_FOUND,
        "out of the old township's reach"
    );
    // Its members' home is the village: it cannot be retired until they are transferred.
    let audit0 = app.audit_count().await;
    let res = app
        .post_form(
            &format!("/orgs/{XINMIN}/retire"),
            &[("reason", "并村")],
            &county,
        )
        .await;
    assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(res.text().contains("转接组织关系"), "{}", res.text());
    assert_eq!(app.audit_count().await, audit0);
}
both!(
    a_moved_village_takes_its_members_and_assessment_along,
    roster
);
