//! Red-butler service stations through the HTTP app: the demo's ten stations of 德清 with
//! their 27 services; a request made by someone who never signs in (JSON and the phone form),
//! followed by its code; bad input refused with nothing written; the keeper assigns a
//! volunteer, the volunteer marks it done, the requester rates it; other hands are refused;
//! the kept figures are the rows'; one address past its budget gets 429 and another does not.

use axum::http::StatusCode;

use crate::both;
use crate::support::{TestApp, Who};

const DEQING: &str = "330521";

async fn request_rows(app: &TestApp) -> i64 {
    sqlx::query_scalar("SELECT COUNT(*) FROM service_requests")
        .fetch_one(app.db.pool())
        .await
        .expect("count")
}

/// A (station, service)'s kept figures: ids, received, waiting, in hand, done, withdrawn,
/// response and completion ms, score sum.
type Tally = (i64, i64, i64, i64, i64, i64, i64, i64, i64, i64);

/// The kept figures of every (station, service), in a fixed order.
async fn tallies(app: &TestApp) -> Vec<Tally> {
    let rows: Vec<Tally> = sqlx::query_as(
        "SELECT station_id, service_id, received, waiting, in_hand, done, withdrawn, \
         response_ms, completion_ms, score_sum FROM station_tallies \
         WHERE received > 0 ORDER BY station_id, service_id",
    )
    .fetch_all(app.db.pool())
    .await
    .expect("tallies");
    rows
}

/// The figures kept change by change equal the figures recomputed from the requests.
async fn assert_tallies_are_the_rows(app: &TestApp) {
    let kept = tallies(app).await;
    app.db
        .refresh_all_station_tallies()
        .await
        .expect("recompute");
    assert_eq!(
        kept,
        tallies(app).await,
        "kept figures differ from the rows"
    );
}

/// A station of 莫干山镇 by name, with the services it offers.
async fn station(app: &TestApp, name: &str) -> (i64, Vec<(i64, String)>) {
    let city = app.token("city.admin").await;
    let list = app
        .get(&format!("/api/v1/orgs/{DEQING}/stations"), &city)
        .await
        .json();
    let id = list["items"]
        .as_array()
        .expect("items")
        .iter()
        .find(|s| s["name"] == name)
        .and_then(|s| s["id"].as_i64())
        .expect("the station");
    let services = app
        .get(
            &format!("/api/v1/public/stations/{id}/services"),
            &Who::Anonymous,
        )
        .await;
    assert_eq!(services.status, StatusCode::OK, "{}", services.text());
    let services = services.json()["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|s| {
            (
                s["id"].as_i64().expect("id"),
                s["name"].as_str().expect("name").to_string(),
            )
        })
        .collect();
    (id, services)
}

async fn the_demo_has_the_articles_stations(app: TestApp) {
    let city = app.token("city.admin").await;
    let list = app
        .get(&format!("/api/v1/orgs/{DEQING}/stations"), &city)
        .await;
    assert_eq!(list.status, StatusCode::OK, "{}", list.text());
    let items = list.json()["items"].as_array().expect("items").clone();
    assert_eq!(items.len(), 10, "德清's ten stations");
    assert!(items.iter().all(|s| s["services"].as_i64() > Some(8)));
    assert!(items.iter().any(|s| s["name"] == "劳岭红管家服务驿站"));
    let (catalogue, domains, kinds): (i64, i64, String) = sqlx::query_as(
        "SELECT COUNT(*), COUNT(DISTINCT domain), MIN(clients) FROM station_services WHERE org_code = $1",
    )
    .bind(DEQING)
    .fetch_one(app.db.pool())
    .await
    .expect("catalogue");
    assert_eq!((catalogue, domains), (27, 4), "27 services in four domains");
    assert!(!kinds.is_empty());
    let clients: Vec<String> = sqlx::query_scalar("SELECT clients FROM station_services")
        .fetch_all(app.db.pool())
        .await
        .expect("clients");
    for kind in ["member", "villager", "tourist", "owner"] {
        assert!(clients.iter().any(|c| c.contains(kind)), "{kind}");
    }
    let statuses: Vec<String> =
        sqlx::query_scalar("SELECT DISTINCT status FROM service_requests ORDER BY status")
            .fetch_all(app.db.pool())
            .await
            .expect("statuses");
    assert_eq!(statuses, ["assigned", "done", "received", "withdrawn"]);
    // The board's figures are the rows': the city's sum, and the kept tallies.
    let board = app.get(&format!("/orgs/{DEQING}/stations"), &city).await;
    assert_eq!(board.status, StatusCode::OK);
    let rows = request_rows(&app).await;
    assert!(
        board
            .text()
            .contains(&format!("id=\"fig-received\">{rows}<")),
        "the board counts {rows} requests"
    );
    assert_tallies_are_the_rows(&app).await;
    // The volunteer's list holds what was given to them and not done.
    let volunteer = app.token("moganshan.volunteer").await;
    let tasks = app.get("/api/v1/me/tasks", &volunteer).await.json();
    let waiting: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM service_requests WHERE assigned_to = 'moganshan.volunteer' AND status = 'assigned'",
    )
    .fetch_one(app.db.pool())
    .await
    .expect("count");
    let listed = tasks["items"]
        .as_array()
        .expect("items")
        .iter()
        .filter(|t| t["kind"] == "service_request_do")
        .count();
    assert!(waiting > 0);
    assert_eq!(listed as i64, waiting);
}
both!(the_demo_has_the_articles_stations);

async fn a_request_from_the_public_is_followed_done_and_rated(app: TestApp) {
    let (station_id, services) = station(&app, "劳岭红管家服务驿站").await;
    let (service_id, service_name) = services[0].clone();
    let url = format!("/api/v1/public/stations/{station_id}/requests");
    let good = serde_json::json!({
        "service_id": service_id, "name": "王游客", "phone": "13905720031",
        "place": "劳岭村游客中心", "note": "两位老人，想听讲解"
    });

    // Bad input, a service the station does not offer and a station that is not there:
    // refused, nothing written.
    let before = (request_rows(&app).await, app.audit_count().await);
    for (field, value) in [
        ("name", serde_json::json!("")),
        ("phone", serde_json::json!("123")),
        ("place", serde_json::json!("")),
        ("service_id", serde_json::json!(987_654_321)),
        ("note", serde_json::json!("很".repeat(301))),
    ] {
        let mut body = good.clone();
        body[field] = value;
        let res = app.post_json(&url, &body, &Who::Anonymous).await;
        assert_eq!(
            res.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{field}: {}",
            res.text()
        );
    }
    let res = app
        .post_json(
            "/api/v1/public/stations/987654321/requests",
            &good,
            &Who::Anonymous,
        )
        .await;
    assert!(res.status.is_client_error(), "{}", res.status);
    assert_eq!(before, (request_rows(&app).await, app.audit_count().await));

    // Made without signing in; followed by its code, the phone masked.
    let res = app.post_json(&url, &good, &Who::Anonymous).await;
    assert_eq!(res.status, StatusCode::CREATED, "{}", res.text());
    let code = res.json()["code"].as_str().expect("code").to_string();
    assert_eq!(code.len(), 10);
    let follow = app
        .get(&format!("/api/v1/public/requests/{code}"), &Who::Anonymous)
        .await;
    assert_eq!(follow.status, StatusCode::OK);
    let f = follow.json();
    assert_eq!(f["status"], "received");
    assert_eq!(f["service"], service_name.as_str());
    assert_eq!(f["station"], "劳岭红管家服务驿站");
    assert!(
        !follow.text().contains("13905720031"),
        "the phone is masked"
    );
    // Lower case and spaces are forgiven; a wrong code is not found.
    let lower = app
        .get(
            &format!("/api/v1/public/requests/{}", code.to_lowercase()),
            &Who::Anonymous,
        )
        .await;
    assert_eq!(lower.status, StatusCode::OK);
    let wrong = app
        .get("/api/v1/public/requests/ABCDEFGHJK", &Who::Anonymous)
        .await;
    assert_eq!(wrong.status, StatusCode::NOT_FOUND);

    // The phone form: a page for the station; a refusal keeps what was typed.
    let page = app
        .get(&format!("/public/stations/{station_id}"), &Who::Anonymous)
        .await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.text().contains("劳岭红管家服务驿站"));
    let rows = request_rows(&app).await;
    let sid = service_id.to_string();
    let form = app
        .post_form(
            &format!("/public/stations/{station_id}/requests"),
            &[
                ("service_id", &sid),
                ("name", "李业主"),
                ("phone", "12"),
                ("place", "仙潭村民宿"),
            ],
            &Who::Anonymous,
        )
        .await;
    assert_eq!(form.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(form.text().contains("李业主"), "what was typed is kept");
    assert!(form.text().contains("request-error"));
    assert_eq!(rows, request_rows(&app).await);
    let form = app
        .post_form(
            &format!("/public/stations/{station_id}/requests"),
            &[
                ("service_id", &sid),
                ("name", "李业主"),
                ("phone", "13805720032"),
                ("place", "仙潭村民宿"),
                ("wanted", "明天上午"),
            ],
            &Who::Anonymous,
        )
        .await;
    assert_eq!(form.status, StatusCode::SEE_OTHER, "{}", form.text());
    let to = form.location().expect("to the follow-up page");
    assert!(to.starts_with("/public/requests/"), "{to}");
    let page = app.get(&to, &Who::Anonymous).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.text().contains("follow-code"));
    assert!(!page.text().contains("13805720032"));

    // Someone signed in (an official on their own phone) uses the same form without a token.
    let Who::Session(official) = app.login("meishan.admin").await else {
        panic!("a session");
    };
    let body =
        format!("service_id={sid}&name=%E5%BC%A0&phone=13805720033&place=%E5%8A%B3%E5%B2%AD");
    let req = axum::http::Request::builder()
        .method(axum::http::Method::POST)
        .uri(format!("/public/stations/{station_id}/requests"))
        .header(
            axum::http::header::COOKIE,
            format!("bq_session={}", official.cookie),
        )
        .header(
            axum::http::header::CONTENT_TYPE,
            "application/x-www-form-urlencoded",
        )
        .body(axum::body::Body::from(body))
        .expect("request");
    let form = app.request(req).await;
    assert_eq!(form.status, StatusCode::SEE_OTHER, "{}", form.text());

    // The keeper of 莫干山镇 assigns it; another township sees nothing and writes nothing.
    let id: i64 = sqlx::query_scalar("SELECT id FROM service_requests WHERE code = $1")
        .bind(&code)
        .fetch_one(app.db.pool())
        .await
        .expect("id");
    let keeper = app.login("moganshan.admin").await;
    let other = app.login("meishan.admin").await;
    let volunteer = app.login("moganshan.volunteer").await;
    let stranger = app.login("xinmin.member").await;
    let audit = app.audit_count().await;
    assert_eq!(
        app.get(&format!("/service-requests/{id}"), &other)
            .await
            .status,
        StatusCode::NOT_FOUND
    );
    for who in [&other, &volunteer] {
        let res = app
            .post_form(
                &format!("/service-requests/{id}/assign"),
                &[("volunteer", "moganshan.volunteer")],
                who,
            )
            .await;
        assert!(res.status.is_client_error(), "{}", res.status);
    }
    // Only someone at the station's place may be given it; nobody is not someone.
    for volunteer in ["xinmin.member", "", " "] {
        let res = app
            .post_form(
                &format!("/service-requests/{id}/assign"),
                &[("volunteer", volunteer)],
                &keeper,
            )
            .await;
        assert_eq!(
            res.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{volunteer:?}"
        );
    }
    assert_eq!(audit, app.audit_count().await);
    let page = app.get(&format!("/service-requests/{id}"), &keeper).await;
    assert!(page.text().contains("王游客"));
    assert!(
        !page.text().contains("13905720031"),
        "masked for the keeper"
    );
    let res = app
        .post_form(
            &format!("/service-requests/{id}/assign"),
            &[("volunteer", "moganshan.volunteer")],
            &keeper,
        )
        .await;
    assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.text());
    assert_eq!(audit + 1, app.audit_count().await);

    // The volunteer sees the phone whole and marks it done; a stranger may not.
    let page = app
        .get(&format!("/service-requests/{id}"), &volunteer)
        .await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(
        page.text().contains("13905720031"),
        "whole for the volunteer"
    );
    let res = app
        .post_form(
            &format!("/service-requests/{id}/done"),
            &[("note", "讲解了一个半小时")],
            &stranger,
        )
        .await;
    assert_eq!(res.status, StatusCode::NOT_FOUND);
    let res = app
        .post_form(
            &format!("/service-requests/{id}/done"),
            &[("note", "")],
            &volunteer,
        )
        .await;
    assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY);
    let res = app
        .post_form(
            &format!("/service-requests/{id}/done"),
            &[("note", "讲解了一个半小时")],
            &volunteer,
        )
        .await;
    assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.text());
    assert_eq!(audit + 2, app.audit_count().await);
    let res = app
        .post_form(
            &format!("/service-requests/{id}/done"),
            &[("note", "再办一次")],
            &volunteer,
        )
        .await;
    assert_eq!(res.status, StatusCode::CONFLICT, "done once");

    // The requester rates it once, with the code.
    let feedback = format!("/public/requests/{code}/feedback");
    let res = app
        .post_form(&feedback, &[("score", "9")], &Who::Anonymous)
        .await;
    assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY);
    let res = app
        .post_form(
            &feedback,
            &[("score", "5"), ("note", "讲得好")],
            &Who::Anonymous,
        )
        .await;
    assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.text());
    let res = app
        .post_form(&feedback, &[("score", "1")], &Who::Anonymous)
        .await;
    assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY, "rated once");
    let f = app
        .get(&format!("/api/v1/public/requests/{code}"), &Who::Anonymous)
        .await
        .json();
    assert_eq!(
        (f["status"].clone(), f["feedback_score"].clone()),
        ("done".into(), 5.into())
    );
    assert_tallies_are_the_rows(&app).await;
}
both!(a_request_from_the_public_is_followed_done_and_rated);

/// A POST from an address through the trusted proxy.
async fn post_from(
    app: &TestApp,
    url: &str,
    body: &serde_json::Value,
    address: &str,
) -> StatusCode {
    let req = axum::http::Request::builder()
        .method(axum::http::Method::POST)
        .uri(url)
        .header(axum::http::header::CONTENT_TYPE, "application/json")
        .header("x-forwarded-for", address)
        .body(axum::body::Body::from(body.to_string()))
        .expect("request");
    app.request(req).await.status
}

async fn one_address_past_its_budget_is_throttled_and_others_are_not(app: TestApp) {
    let (station_id, services) = station(&app, "劳岭红管家服务驿站").await;
    let url = format!("/api/v1/public/stations/{station_id}/requests");
    let body = serde_json::json!({
        "service_id": services[0].0, "name": "刷单者", "phone": "13905720031", "place": "村口"
    });
    let rows = request_rows(&app).await;
    let budget = baiqian_web::throttle::PUBLIC_REQUESTS_PER_WINDOW as i64;
    for _ in 0..budget {
        assert_eq!(
            post_from(&app, &url, &body, "203.0.113.7").await,
            StatusCode::CREATED
        );
    }
    // Each refusal waits `PUBLIC_REFUSAL_DELAY` (a second): a few are enough to see.
    let mut refused = 0;
    for _ in 0..3 {
        if post_from(&app, &url, &body, "203.0.113.7").await == StatusCode::TOO_MANY_REQUESTS {
            refused += 1;
        }
    }
    assert_eq!(refused, 3, "past its budget the address is refused");
    assert_eq!(
        rows + budget,
        request_rows(&app).await,
        "refusals write nothing"
    );
    assert_eq!(
        post_from(&app, &url, &body, "198.51.100.2").await,
        StatusCode::CREATED,
        "another address is served"
    );
    // The refusal says when to come back.
    let req = axum::http::Request::builder()
        .method(axum::http::Method::POST)
        .uri(&url)
        .header(axum::http::header::CONTENT_TYPE, "application/json")
        .header("x-forwarded-for", "203.0.113.7")
        .body(axum::body::Body::from(body.to_string()))
        .expect("request");
    let res = app.request(req).await;
    assert_eq!(res.status, StatusCode::TOO_MANY_REQUESTS);
    assert!(res.headers.contains_key(axum::http::header::RETRY_AFTER));
    assert_eq!(res.json()["error"]["code"], "too_many");
    // Codes cannot be tried in bulk: lookups have their budget too.
    let lookups = baiqian_web::throttle::PUBLIC_LOOKUPS_PER_WINDOW;
    let mut last = StatusCode::OK;
    for _ in 0..=lookups {
        let req = axum::http::Request::builder()
            .uri("/api/v1/public/requests/ABCDEFGHJK")
            .header("x-forwarded-for", "203.0.113.9")
            .body(axum::body::Body::empty())
            .expect("request");
        last = app.request(req).await.status;
    }
    assert_eq!(last, StatusCode::TOO_MANY_REQUESTS);
}
both!(one_address_past_its_budget_is_throttled_and_others_are_not);
