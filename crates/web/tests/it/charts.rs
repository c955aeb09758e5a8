//! The boards' chart data: the same figures as the board, each value linking to its rows.

use axum::http::StatusCode;

use crate::both;
use crate::support::TestApp;
use crate::support::codes::{CHANGXING, CITY, MEISHAN, WUXING};

async fn chart_values_are_the_boards_figures_and_link_to_their_villages(app: TestApp) {
    let city = app.token("city.admin").await;
    let summary = app
        .get(&format!("/api/v1/orgs/{CITY}/ratings/2015"), &city)
        .await
        .json();
    let stars = app
        .get(&format!("/orgs/{CITY}/ratings/2015/chart/stars"), &city)
        .await;
    assert_eq!(stars.status, StatusCode::OK, "{}", stars.text());
    let d = stars.json();
    assert_eq!(d["kind"], "bar");
    let values = d["series"][0]["values"].as_array().unwrap().clone();
    let links = d["series"][0]["links"].as_array().unwrap().clone();
    for s in 1..=5usize {
        assert_eq!(
            values[s - 1].as_f64().unwrap() as i64,
            summary["stars"][s.to_string()].as_i64().unwrap(),
            "{s}★"
        );
        // The link opens exactly that many villages.
        let list = app.get(links[s - 1].as_str().unwrap(), &city).await;
        assert_eq!(list.status, StatusCode::OK);
        let rows = list
            .between("<tbody>", "</tbody>")
            .unwrap_or_default()
            .matches("<tr")
            .count() as i64;
        assert_eq!(rows, values[s - 1].as_f64().unwrap() as i64, "{s}★ list");
    }
    let classes = app
        .get(&format!("/orgs/{CITY}/ratings/2015/chart/classes"), &city)
        .await
        .json();
    assert_eq!(classes["kind"], "pie");
    let total: f64 = classes["series"][0]["values"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_f64().unwrap())
        .sum();
    let rated: i64 = (1..=5)
        .map(|s| summary["stars"][s.to_string()].as_i64().unwrap())
        .sum();
    assert_eq!(total as i64, rated);

    // The children chart: one category per county, their stars summing to the city's.
    let children = app
        .get(&format!("/orgs/{CITY}/ratings/2015/chart/children"), &city)
        .await
        .json();
    assert!(children["stacked"].as_bool().unwrap());
    let cats = children["categories"].as_array().unwrap();
    assert!(cats.iter().any(|c| c == "长兴县"), "{cats:?}");
    let five = &children["series"][0];
    assert_eq!(five["name"], "5★");
    let sum: f64 = five["values"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_f64().unwrap())
        .sum();
    assert_eq!(sum as i64, summary["stars"]["5"].as_i64().unwrap());
    assert!(
        five["links"]
            .as_array()
            .unwrap()
            .iter()
            .any(|l| l == &format!("/orgs/{CHANGXING}/ratings/2015/villages?stars=5"))
    );

    // Out of scope, an unknown chart, a year without a round: 404.
    let township = app.token("meishan.admin").await;
    for (url, who) in [
        (
            format!("/orgs/{WUXING}/ratings/2015/chart/stars"),
            &township,
        ),
        (
            format!("/orgs/{MEISHAN}/ratings/2015/chart/nonsense"),
            &township,
        ),
        (format!("/orgs/{CITY}/ratings/2010/chart/stars"), &city),
    ] {
        assert_eq!(
            app.get(&url, who).await.status,
            StatusCode::NOT_FOUND,
            "{url}"
        );
    }
}
both!(chart_values_are_the_boards_figures_and_link_to_their_villages);

async fn static_files_are_hashed_cached_and_compressed(app: TestApp) {
    let page = app.get("/login", &crate::support::Who::Anonymous).await;
    let css = page
        .between("<link rel=\"stylesheet\" href=\"", "\"")
        .expect("the stylesheet's URL");
    assert!(
        css.starts_with("/static/app.") && css.len() > "/static/app.css".len(),
        "{css}"
    );
    let req = axum::http::Request::builder()
        .uri(&css)
        .header("accept-encoding", "gzip, br")
        .body(axum::body::Body::empty())
        .unwrap();
    let res = app.request(req).await;
    assert_eq!(res.status, StatusCode::OK);
    assert_eq!(res.headers["content-encoding"], "gzip");
    assert!(
        res.headers["cache-control"]
            .to_str()
            .unwrap()
            .contains("immutable")
    );
    // The plain name answers too, uncompressed for a client that did not ask, briefly cached.
    let plain = app
        .get("/static/app.css", &crate::support::Who::Anonymous)
        .await;
    assert_eq!(plain.status, StatusCode::OK);
    assert!(plain.headers.get("content-encoding").is_none());
    assert!(plain.text().contains("--red"));
}
both!(static_files_are_hashed_cached_and_compressed);

async fn pages_go_out_compressed_and_spreadsheets_do_not(app: TestApp) {
    let crate::support::Who::Bearer(token) = app.token("city.admin").await else {
        panic!("a token");
    };
    let get = |uri: &str, encodings: &str| {
        axum::http::Request::builder()
            .uri(uri)
            .header("authorization", format!("Bearer {token}"))
            .header("accept-encoding", encodings)
            .body(axum::body::Body::empty())
            .unwrap()
    };
    let plain = app
        .request(get("/orgs/330500/ratings/2015", "identity"))
        .await;
    assert_eq!(plain.status, StatusCode::OK);
    assert!(plain.headers.get("content-encoding").is_none());
    let res = app.request(get("/orgs/330500/ratings/2015", "gzip")).await;
    assert_eq!(res.status, StatusCode::OK);
    assert_eq!(res.headers["content-encoding"], "gzip");
    let mut page = String::new();
    std::io::Read::read_to_string(
        &mut flate2::read::GzDecoder::new(res.body.as_slice()),
        &mut page,
    )
    .unwrap();
    assert_eq!(page, plain.text(), "the same page, compressed");
    assert!(
        res.body.len() * 3 < plain.body.len(),
        "{} of {}",
        res.body.len(),
        plain.body.len()
    );
    let sheet = app
        .request(get("/orgs/330500/ratings/2015/board.xlsx", "gzip, br"))
        .await;
    assert_eq!(sheet.status, StatusCode::OK);
    assert!(
        sheet.headers.get("content-encoding").is_none(),
        "an .xlsx is a zip already"
    );
}
both!(pages_go_out_compressed_and_spreadsheets_do_not);

/// The meeting-room screen shows the city's campaign: the last published year's stars and
/// classes, this year's round by stage, each figure the board's and linking to its villages;
/// its charts are the boards' charts; out of scope it is not there.
async fn the_screen_shows_the_campaign_and_every_figure_opens_its_villages(app: TestApp) {
    let city = app.token("city.admin").await;
    let summary = app
        .get(&format!("/api/v1/orgs/{CITY}/ratings/2015"), &city)
        .await
        .json();
    let web = app.login("city.admin").await;
    let page = app.get(&format!("/orgs/{CITY}/screen"), &web).await;
    assert_eq!(page.status, StatusCode::OK);
    let figure = |id: &str| -> (i64, String) {
        let block = page
            .between(&format!("id=\"{id}\""), "</a>")
            .unwrap_or_default();
        let n = block
            .split("class=\"figure\">")
            .nth(1)
            .and_then(|s| s.split('<').next())
            .map(|s| s.replace(',', ""))
            .and_then(|s| s.parse().ok())
            .unwrap_or(-1);
        let href = page
            .text()
            .split(&format!("id=\"{id}\""))
            .next()
            .and_then(|before| before.rsplit("href=\"").next())
            .and_then(|s| s.split('"').next())
            .unwrap_or_default()
            .replace("&#38;", "&");
        (n, href)
    };
    for (id, stars) in [("screen-five-stars", 5), ("screen-four-stars", 4)] {
        let (n, href) = figure(id);
        assert_eq!(
            n,
            summary["stars"][stars.to_string()].as_i64().unwrap(),
            "{id}"
        );
        assert_eq!(
            href,
            format!("/orgs/{CITY}/ratings/2015/villages?stars={stars}")
        );
        let list = app.get(&href, &web).await;
        let rows = list
            .between("<tbody>", "</tbody>")
            .unwrap_or_default()
            .matches("<tr")
            .count() as i64;
        assert_eq!(rows, n, "{id}: the list holds the figure's villages");
    }
    let (late, href) = figure("screen-late");
    assert!(
        late >= 0 && href.ends_with("/ratings/2016/villages?late=1"),
        "{href}"
    );
    let text = page.text();
    for chart in ["children", "classes", "history"] {
        assert!(
            text.contains(&format!(
                "data-chart=\"/orgs/{CITY}/ratings/2015/chart/{chart}\""
            )),
            "{chart}"
        );
    }
    assert!(text.contains(&format!(
        "data-chart=\"/orgs/{CITY}/ratings/2016/chart/stages\""
    )));
    assert!(text.contains("id=\"screen-chart-attendance\""));
    // A township sees its own villages; another county's admin finds no such screen.
    let town = app.login("meishan.admin").await;
    let tpage = app.get(&format!("/orgs/{MEISHAN}/screen"), &town).await;
    assert_eq!(tpage.status, StatusCode::OK);
    let township = app
        .get(
            &format!("/api/v1/orgs/{MEISHAN}/ratings/2015"),
            &app.token("meishan.admin").await,
        )
        .await
        .json();
    let five = tpage
        .between("id=\"screen-five-stars\"", "</a>")
        .unwrap_or_default();
    assert!(
        five.contains(&format!(
            "class=\"figure\">{}<",
            township["stars"]["5"].as_i64().unwrap()
        )),
        "{five}"
    );
    let wuxing = app.login("wuxing.admin").await;
    assert_eq!(
        app.get(&format!("/orgs/{CHANGXING}/screen"), &wuxing)
            .await
            .status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        app.get(&format!("/orgs/{MEISHAN}/screen"), &wuxing)
            .await
            .status,
        StatusCode::NOT_FOUND
    );
}
both!(the_screen_shows_the_campaign_and_every_figure_opens_its_villages);
