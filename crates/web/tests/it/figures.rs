//! Every figure opens a list of exactly that many (issue 31): on every problem board of the demo
//! (the city, each county, each township), each figure of the summary — found, open (with the
//! reopened), in progress, rectified, verified, overdue, extended — equals the total of the list
//! API with that figure's filter, and a list that fits one page holds that many items. And the
//! reproduction: 和孚镇's "待整改" opens every open and reopened problem on the board's page.

use axum::http::StatusCode;
use sqlx::Row;

use crate::both;
use crate::support::{TestApp, between};

const HEFU: &str = baiqian_demo::ledger::HEFU;

async fn every_figure_opens_a_list_of_exactly_that_many(app: TestApp) {
    let city = app.login("city.admin").await;
    let boards: Vec<String> = sqlx::query(
        "SELECT code FROM orgs WHERE level IN ('city', 'county', 'township') AND retired_at IS NULL ORDER BY path",
    )
    .fetch_all(app.db.pool())
    .await
    .unwrap()
    .iter()
    .map(|r| r.try_get::<String, _>(0).unwrap())
    .collect();
    assert_eq!(boards.len(), 1 + 5 + 68);
    let reopened: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM problems WHERE status = 'reopened'")
            .fetch_one(app.db.pool())
            .await
            .unwrap();
    assert!(reopened > 0, "the demo holds reopened problems to count");
    let mut checked = 0;
    for code in &boards {
        let summary = app
            .get(&format!("/api/v1/orgs/{code}/problems/summary"), &city)
            .await
            .json();
        for (figure, query) in [
            ("found", ""),
            ("open", "status=open"),
            ("in_progress", "status=in_progress"),
            ("rectified", "status=rectified"),
            ("verified", "status=verified"),
            ("overdue", "overdue=true"),
            ("extended", "extended=true"),
        ] {
            let res = app
                .get(&format!("/api/v1/orgs/{code}/problems?{query}"), &city)
                .await;
            assert_eq!(res.status, StatusCode::OK, "{}", res.text());
            let list = res.json();
            let want = summary[figure].as_i64().unwrap();
            assert_eq!(
                list["total"].as_i64(),
                Some(want),
                "{code} {figure}: the figure and its list differ"
            );
            let items = list["items"].as_array().unwrap();
            assert_eq!(items.len() as i64, want.min(100), "{code} {figure}");
            if figure == "open" {
                assert!(items.iter().all(|i| i["status"] == "open"));
            }
            checked += 1;
        }
    }
    assert_eq!(checked, boards.len() * 7);
    // Bad filters are refused, not ignored.
    for query in ["status=reopened", "status=done", "page=0", "overdue=maybe"] {
        let res = app
            .get(&format!("/api/v1/orgs/{HEFU}/problems?{query}"), &city)
            .await;
        assert!(
            matches!(
                res.status,
                StatusCode::UNPROCESSABLE_ENTITY | StatusCode::BAD_REQUEST
            ),
            "{query}: {}",
            res.status
        );
    }
    // Another township's list does not exist for a township admin (scope, as for every page).
    let elsewhere = app.login("meishan.admin").await;
    let res = app
        .get(&format!("/api/v1/orgs/{HEFU}/problems"), &elsewhere)
        .await;
    assert_eq!(res.status, StatusCode::NOT_FOUND, "{}", res.text());
    // The board's own page: "待整改" lists the open and the reopened.
    let town = app.login("hefu.admin").await;
    let summary = app
        .get(&format!("/api/v1/orgs/{HEFU}/problems/summary"), &town)
        .await
        .json();
    let reopened_here: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM problems WHERE status = 'reopened' AND village_path LIKE $1",
    )
    .bind(format!("%/{HEFU}/%"))
    .fetch_one(app.db.pool())
    .await
    .unwrap();
    assert!(reopened_here > 0, "和孚镇 has reopened problems");
    let page = app
        .get(&format!("/orgs/{HEFU}/problems?status=open"), &town)
        .await;
    let rows = between(&page.text(), "id=\"problems\"", "</table>")
        .map(|t| t.matches("href=\"/problems/").count())
        .unwrap_or(0);
    assert_eq!(rows as i64, summary["open"].as_i64().unwrap());
    // The township's task list names every overdue problem: one task whose list is the
    // board's overdue figure.
    let overdue = summary["overdue"].as_i64().unwrap();
    assert!(overdue > 1, "和孚镇 has overdue problems: {summary}");
    let tasks = app.get("/api/v1/me/tasks", &town).await.json();
    let all = tasks["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["kind"] == "problem_overdue_all")
        .cloned()
        .unwrap_or_else(|| panic!("no overdue task: {tasks}"));
    assert!(
        all["title"]
            .as_str()
            .unwrap()
            .contains(&overdue.to_string()),
        "{all}"
    );
    let url = all["url"].as_str().unwrap();
    assert_eq!(url, format!("/orgs/{HEFU}/problems?overdue=1"));
    let page = app.get(url, &town).await;
    let rows = between(&page.text(), "id=\"problems\"", "</table>")
        .map(|t| t.matches("href=\"/problems/").count())
        .unwrap_or(0);
    assert_eq!(rows as i64, overdue);
}
both!(every_figure_opens_a_list_of_exactly_that_many);

/// The figure with `id` on a page, as a number.
fn figure_in(page: &str, id: &str) -> i64 {
    between(page, &format!("id=\"{id}\""), "</a>")
        .and_then(|a| between(&a, "class=\"figure\">", "<"))
        .map(|n| n.replace(',', ""))
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no figure #{id}"))
}

/// The meeting-room screen's ledger figures (issue 31: leaders see their work there too) open
/// lists of exactly that many, and its pledges are the leaders' under the node, those behind
/// first.
async fn the_screen_shows_the_ledger_and_the_pledges(app: TestApp) {
    let town = app.login("hefu.admin").await;
    let screen = app.get(&format!("/orgs/{HEFU}/screen"), &town).await;
    assert_eq!(screen.status, StatusCode::OK);
    let screen = screen.text();
    let summary = app
        .get(&format!("/api/v1/orgs/{HEFU}/problems/summary"), &town)
        .await
        .json();
    let n = |k: &str| summary[k].as_i64().unwrap();
    for (id, query, want) in [
        (
            "screen-unresolved",
            "status=unresolved",
            n("open") + n("in_progress"),
        ),
        ("screen-rectified", "status=rectified", n("rectified")),
        ("screen-overdue", "overdue=1", n("overdue")),
    ] {
        assert_eq!(figure_in(&screen, id), want, "{id}");
        assert!(want > 0 && want <= 100, "{id}: {want} fits one page");
        let page = app
            .get(&format!("/orgs/{HEFU}/problems?{query}"), &town)
            .await
            .text();
        let rows = between(&page, "id=\"problems\"", "</table>")
            .map(|t| t.matches("href=\"/problems/").count())
            .unwrap_or(0);
        assert_eq!(rows as i64, want, "{id}: the figure and its list differ");
    }
    let visits = app
        .get(&format!("/api/v1/orgs/{HEFU}/visits"), &town)
        .await
        .json();
    assert_eq!(
        figure_in(&screen, "screen-visits"),
        visits["total"].as_i64().unwrap()
    );
    // The city's screen names its leaders' pledges, the furthest behind first.
    let city = app.login("city.admin").await;
    let screen = app.get("/orgs/330500/screen", &city).await.text();
    let pledges = app.get("/api/v1/pledges", &city).await.json();
    let today = baiqian_domain::time::china_date(baiqian_web::clock::Clock::now_ms(&*app.clock));
    let pace = |id: i64| {
        let p = pledges["items"]
            .as_array()
            .unwrap()
            .iter()
            .find(|p| p["id"] == id)
            .unwrap_or_else(|| panic!("pledge {id} is in the city's reach"));
        let s = |k: &str| p[k].as_str().unwrap().to_string();
        let n = |k: &str| p[k].as_i64().unwrap();
        baiqian_domain::ledger::PledgePace::of(
            &s("since"),
            &s("due"),
            &today,
            n("target"),
            n("visited"),
        )
        .unwrap()
    };
    let listed: Vec<i64> = screen
        .split("id=\"screen-pledge-")
        .skip(1)
        .filter_map(|s| s.split('"').next()?.parse().ok())
        .collect();
    let all = pledges["items"].as_array().unwrap().len();
    assert!(all > 0, "the demo's leaders have pledges");
    assert_eq!(listed.len(), all.min(5));
    let urgency: Vec<_> = listed.iter().map(|id| pace(*id).urgency()).collect();
    assert!(
        urgency.windows(2).all(|w| w[0] >= w[1]),
        "{listed:?}: {urgency:?}"
    );
}
both!(the_screen_shows_the_ledger_and_the_pledges);
