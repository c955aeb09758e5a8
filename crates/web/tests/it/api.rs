use axum::http::StatusCode;
use serde_json::json;

use crate::both;
use crate::support::codes::*;
use crate::support::{TestApp, Who};

async fn counts_match_the_article(app: TestApp) {
    let city = app.token("city.admin").await;
    let res = app.get("/api/v1/orgs/330500", &city).await;
    assert_eq!(res.status, StatusCode::OK);
    let j = res.json();
    assert_eq!(j["code"], "330500");
    assert_eq!(j["name"], "湖州市");
    assert_eq!(j["level"], "city");
    assert_eq!(j["parent"], serde_json::Value::Null);
    assert_eq!(
        j["counts"],
        json!({"county": 5, "township": 68, "village": 985})
    );
    let cx = app.get("/api/v1/orgs/330522", &city).await.json();
    assert_eq!(cx["counts"]["village"], 248);
    assert_eq!(cx["parent"], "330500");
    let kids = app.get("/api/v1/orgs/330500/children", &city).await.json();
    let names: Vec<&str> = kids["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["吴兴区", "南浔区", "德清县", "长兴县", "安吉县"]);
    let longshan = app
        .get(&format!("/api/v1/orgs/{LONGSHAN}"), &city)
        .await
        .json();
    assert_eq!(longshan["name"], "龙山村");
    assert_eq!(
        longshan["party_org"]["member_count"], 36,
        "龙山村's 36 roster rows"
    );
    // Every count is its roster's: the city's count is the number of members.
    let members: (i64,) = sqlx::query_as("SELECT COUNT(*) FROM members")
        .fetch_one(app.db.pool())
        .await
        .unwrap();
    assert_eq!(j["party_org"]["member_count"], members.0);
    for code in [
        "330522",
        baiqian_demo::MEISHAN,
        baiqian_demo::XINMIN,
        "330522109-001",
    ] {
        let org = app.get(&format!("/api/v1/orgs/{code}"), &city).await.json();
        assert_eq!(
            org["party_org"]["member_count"],
            app.db
                .member_count_under(&app.node(code).await)
                .await
                .unwrap(),
            "{code}"
        );
    }
    // 龙山村's 15 members with cars are its volunteer car fleet, shown at the village.
    let sec = app.login("longshan.secretary").await;
    let page = app.get(&format!("/orgs/{LONGSHAN}/teams"), &sec).await;
    assert_eq!(page.status, axum::http::StatusCode::OK);
    let team = page.between("党员爱心车队", "</section>").unwrap();
    assert_eq!(team.matches("href=\"/members/").count(), 15, "{team}");
    let fleet = &app
        .db
        .teams_of(
            &baiqian_domain::scope::Scope::everything(),
            &baiqian_domain::org::OrgCode::parse(LONGSHAN).unwrap(),
        )
        .await
        .unwrap()[0];
    assert_eq!(fleet.members.len(), 15);
    assert!(fleet.members.iter().all(|m| m.home_org_name == "龙山村"));
}
both!(counts_match_the_article, roster);

async fn outside_scope_is_404_on_every_api_route(app: TestApp) {
    let town = app.token("meishan.admin").await;
    // Inside: own township and its village.
    for path in [
        format!("/api/v1/orgs/{MEISHAN}"),
        format!("/api/v1/orgs/{XINMIN}"),
        format!("/api/v1/orgs/{MEISHAN}/children"),
        format!("/api/v1/orgs/{MEISHAN}/search?q=xmc"),
    ] {
        assert_eq!(app.get(&path, &town).await.status, StatusCode::OK, "{path}");
    }
    // Outside: a village of another township, that township, the county, the city.
    for path in [
        format!("/api/v1/orgs/{TONGQIAO}"),
        format!("/api/v1/orgs/{HONGQIAO}"),
        format!("/api/v1/orgs/{CHANGXING}"),
        format!("/api/v1/orgs/{CITY}"),
        format!("/api/v1/orgs/{HONGQIAO}/children"),
        format!("/api/v1/orgs/{HONGQIAO}/search?q=t"),
    ] {
        let res = app.get(&path, &town).await;
        assert_eq!(res.status, StatusCode::NOT_FOUND, "{path}");
        assert_eq!(res.error_code(), "not_found");
    }
    // A code that does not exist answers exactly like one outside scope.
    let ghost = app.get("/api/v1/orgs/330522109299", &town).await;
    let outside = app.get(&format!("/api/v1/orgs/{TONGQIAO}"), &town).await;
    assert_eq!(ghost.status, outside.status);
    assert_eq!(ghost.body, outside.body);
    // Creating under a parent outside scope: 404, nothing written.
    let before = (app.org_count().await, app.audit_count().await);
    let res = app
        .post_json(
            &format!("/api/v1/orgs/{HONGQIAO}/children"),
            &json!({"code": "330522101299", "name": "新村", "level": "village"}),
            &town,
        )
        .await;
    assert_eq!(res.status, StatusCode::NOT_FOUND);
    assert_eq!(before, (app.org_count().await, app.audit_count().await));
    // Search never reaches outside scope.
    let found = app
        .get(&format!("/api/v1/orgs/{MEISHAN}/search?q=tqc"), &town)
        .await
        .json();
    assert_eq!(found["items"], json!([]));
    // No or a wrong token: 401 in JSON.
    let anon = app
        .get(&format!("/api/v1/orgs/{MEISHAN}"), &Who::Anonymous)
        .await;
    assert_eq!(anon.status, StatusCode::UNAUTHORIZED);
    assert_eq!(anon.error_code(), "unauthenticated");
    let wrong = app
        .get(
            &format!("/api/v1/orgs/{MEISHAN}"),
            &Who::Bearer("nope".into()),
        )
        .await;
    assert_eq!(wrong.status, StatusCode::UNAUTHORIZED);
}
both!(outside_scope_is_404_on_every_api_route);

async fn api_create_child_validates_and_audits(app: TestApp) {
    let county = app.token("changxing.admin").await;
    let path = format!("/api/v1/orgs/{MEISHAN}/children");
    let before = (app.org_count().await, app.audit_count().await);
    let bad = [
        json!({"code": "33052210929", "name": "新村", "level": "village"}),
        json!({"code": "330522101299", "name": "新村", "level": "village"}),
        json!({"code": "330522109299", "name": "<script>alert(1)</script>", "level": "village"}),
        json!({"code": "330522109299", "name": "x'; DROP TABLE orgs; --", "level": "village"}),
        json!({"code": "330522109299", "name": "村".repeat(61), "level": "village"}),
        json!({"code": "330522109299", "name": "新村", "level": "township"}),
        json!({"code": "330522109299", "name": "新村", "level": "hamlet"}),
        json!({"code": XINMIN, "name": "新村", "level": "village"}),
    ];
    for body in &bad {
        let res = app.post_json(&path, body, &county).await;
        assert_eq!(
            res.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{body}: {}",
            res.text()
        );
        assert_eq!(res.error_code(), "invalid");
        assert!(!res.json()["error"]["message"].as_str().unwrap().is_empty());
    }
    let malformed = app
        .request(
            axum::http::Request::builder()
                .method("POST")
                .uri(&path)
                .header(
                    "authorization",
                    match &county {
                        Who::Bearer(t) => format!("Bearer {t}"),
                        _ => unreachable!(),
                    },
                )
                .header("content-type", "application/json")
                .body(axum::body::Body::from("{not json"))
                .unwrap(),
        )
        .await;
    assert_eq!(malformed.status, StatusCode::BAD_REQUEST);
    assert_eq!(malformed.error_code(), "bad_request");
    assert_eq!(
        before,
        (app.org_count().await, app.audit_count().await),
        "a refused request wrote something"
    );

    let res = app.post_json(&path, &json!({"code": "330522109299", "name": "试点村", "level": "village", "member_count": 40, "secretary": "王建国"}), &county).await;
    assert_eq!(res.status, StatusCode::CREATED, "{}", res.text());
    let j = res.json();
    assert_eq!(j["parent"], MEISHAN);
    assert_eq!(j["party_org"]["name"], "试点村党支部");
    assert_eq!(app.org_count().await, before.0 + 1);
    // The village, and its draft in the demo's open 2016 round.
    assert_eq!(app.audit_count().await, before.1 + 2);
    let counts = app
        .get(&format!("/api/v1/orgs/{CHANGXING}"), &county)
        .await
        .json();
    assert_eq!(counts["counts"]["village"], 249);
    // A member may read but not create.
    let member = app.token("xinmin.member").await;
    let res = app
        .post_json(
            &path,
            &json!({"code": "330522109298", "name": "另村", "level": "village"}),
            &member,
        )
        .await;
    // Refused before scope is looked at: a member's role never changes the tree (and the
    // answer is the same for any code, so it tells nothing about which exist).
    assert_eq!(res.status, StatusCode::FORBIDDEN);
    assert_eq!(app.org_count().await, before.0 + 1);
}
both!(api_create_child_validates_and_audits);

async fn openapi_describes_the_routes(app: TestApp) {
    let res = app.get("/api/v1/openapi.json", &Who::Anonymous).await;
    // The document describes the API and holds no data, so it is served without a login.
    assert_eq!(res.status, StatusCode::OK);
    let j = res.json();
    for p in [
        "/api/v1/orgs/{code}",
        "/api/v1/orgs/{code}/children",
        "/api/v1/orgs/{code}/search",
        "/api/v1/audit",
    ] {
        assert!(j["paths"].get(p).is_some(), "{p} missing from OpenAPI");
    }
    assert!(j["components"]["schemas"].get("OrgView").is_some());
}
both!(openapi_describes_the_routes);
