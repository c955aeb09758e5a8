//! Boards that mean something at each level: a township's villages one row each, drill-down lists
//! that say where each village lies and sort, and the stars of the last years.

use axum::http::StatusCode;

use crate::both;
use crate::support::codes::{CHANGXING, CITY, MEISHAN};
use crate::support::{TestApp, TestResponse};

fn rows_of(res: &TestResponse, table: &str) -> Vec<String> {
    let body = res
        .between(&format!("id=\"{table}\""), "</table>")
        .unwrap_or_default();
    let body = body
        .split_once("<tbody>")
        .map(|(_, b)| b.split("</tbody>").next().unwrap_or_default().to_string())
        .unwrap_or_default();
    body.split("<tr").skip(1).map(str::to_string).collect()
}

async fn a_township_board_lists_its_villages_one_row_each(app: TestApp) {
    let township = app.login("meishan.admin").await;
    let res = app
        .get(&format!("/orgs/{MEISHAN}/ratings/2016"), &township)
        .await;
    assert_eq!(res.status, StatusCode::OK);
    assert!(
        !res.text().contains("id=\"rating-board\""),
        "no grid of 0s and 1s"
    );
    let rows = rows_of(&res, "township-villages");
    let token = app.token("meishan.admin").await;
    let summary = app
        .get(&format!("/api/v1/orgs/{MEISHAN}/ratings/2016"), &token)
        .await
        .json();
    let villages: i64 = summary["stars"]
        .as_object()
        .unwrap()
        .values()
        .map(|v| v.as_i64().unwrap())
        .sum();
    assert!(villages > 1);
    assert_eq!(rows.len() as i64, villages, "one row per village");
    // Each row names the village, links to its page and shows its stage.
    let first = &rows[0];
    assert!(first.contains("/ratings/2016\">"), "{first}");
    assert!(first.contains("villages?stage="), "{first}");
    // The late flags are the villages the late list holds.
    let late_rows = rows
        .iter()
        .filter(|r| r.contains("class=\"status-overdue late\""))
        .count();
    let late_list = app
        .get(
            &format!("/orgs/{MEISHAN}/ratings/2016/villages?late=1"),
            &township,
        )
        .await;
    assert_eq!(late_rows, rows_of(&late_list, "rating-villages").len());

    // A county keeps the grid of its townships.
    let county = app.login("changxing.admin").await;
    let res = app
        .get(&format!("/orgs/{CHANGXING}/ratings/2016"), &county)
        .await;
    assert!(res.text().contains("id=\"rating-board\""));
    assert!(!res.text().contains("id=\"township-villages\""));
}
both!(a_township_board_lists_its_villages_one_row_each);

async fn drill_down_lists_name_county_and_township_and_sort(app: TestApp) {
    let city = app.login("city.admin").await;
    let url = format!("/orgs/{CITY}/ratings/2015/villages?stars=5");
    let res = app.get(&url, &city).await;
    assert_eq!(res.status, StatusCode::OK);
    let rows = rows_of(&res, "rating-villages");
    assert!(!rows.is_empty());
    assert!(
        rows.iter()
            .all(|r| r.contains("县") || r.contains("区") || r.contains("市")),
        "every row names its county"
    );
    assert!(rows.iter().any(|r| r.contains("长兴县")), "{}", rows[0]);

    // Sorting by score keeps the filter and puts the highest first.
    let text = res.text();
    let before = text.split("\" data-sort=\"score\"").next().unwrap();
    let sort = before
        .rsplit("href=\"")
        .next()
        .unwrap()
        .replace("&amp;", "&")
        .replace("&#38;", "&");
    assert!(
        sort.contains("stars=5") && sort.contains("sort=score"),
        "{sort}"
    );
    let sorted = app.get(&sort, &city).await;
    assert_eq!(sorted.status, StatusCode::OK);
    let scores: Vec<i64> = rows_of(&sorted, "rating-villages")
        .iter()
        .map(|r| {
            let cell = r.split("class=\"num\">").nth(1).unwrap();
            cell.split(' ').next().unwrap().trim().parse().unwrap()
        })
        .collect();
    assert_eq!(scores.len(), rows.len(), "the same villages");
    assert!(scores.windows(2).all(|w| w[0] >= w[1]), "{scores:?}");

    // By name: the same villages, another order; an unknown order is the default.
    let by_name = app.get(&format!("{url}&sort=name"), &city).await;
    assert_eq!(rows_of(&by_name, "rating-villages").len(), rows.len());
    let odd = app.get(&format!("{url}&sort=DROP"), &city).await;
    assert_eq!(odd.status, StatusCode::OK);
    assert_eq!(rows_of(&odd, "rating-villages"), rows);

    // The export carries the county and township too.
    let xlsx = app
        .get(
            &format!("/orgs/{CITY}/ratings/2015/villages.xlsx?stars=5"),
            &city,
        )
        .await;
    assert_eq!(xlsx.status, StatusCode::OK);
}
both!(drill_down_lists_name_county_and_township_and_sort);

async fn the_star_history_chart_shows_each_year_and_links_to_its_villages(app: TestApp) {
    let city = app.token("city.admin").await;
    let d = app
        .get(&format!("/orgs/{CITY}/ratings/2016/chart/history"), &city)
        .await;
    assert_eq!(d.status, StatusCode::OK, "{}", d.text());
    let d = d.json();
    let years: Vec<String> = d["categories"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c.as_str().unwrap().to_string())
        .collect();
    assert!(years.len() >= 2 && years.len() <= 5, "{years:?}");
    assert_eq!(years.last().map(String::as_str), Some("2016"));
    let i2015 = years.iter().position(|y| y == "2015").unwrap();
    let summary = app
        .get(&format!("/api/v1/orgs/{CITY}/ratings/2015"), &city)
        .await
        .json();
    let series = d["series"].as_array().unwrap();
    assert_eq!(series.len(), 5);
    for s in series {
        let stars = s["name"].as_str().unwrap().trim_end_matches('★');
        assert_eq!(
            s["values"][i2015].as_f64().unwrap() as i64,
            summary["stars"][stars].as_i64().unwrap(),
            "{stars}★ in 2015"
        );
        assert_eq!(
            s["links"][i2015],
            format!("/orgs/{CITY}/ratings/2015/villages?stars={stars}")
        );
    }
    // The city board shows the chart.
    let page = app.get(&format!("/orgs/{CITY}/ratings/2016"), &city).await;
    assert!(page.text().contains("/chart/history"));
}
both!(the_star_history_chart_shows_each_year_and_links_to_its_villages);
