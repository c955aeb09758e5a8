//! A home for every role and `/api/v1/me/tasks`: what waits for each reader, in their scope,
//! and nothing a role may not see.

use axum::http::StatusCode;
use baiqian_domain::scope::Scope;

use crate::both;
use crate::support::codes::{CITY, MEISHAN, XINMIN};
use crate::support::{TestApp, Who};

async fn tasks_of(app: &TestApp, who: &Who) -> Vec<serde_json::Value> {
    let res = app.get("/api/v1/me/tasks", who).await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.text());
    res.json()["items"].as_array().cloned().unwrap_or_default()
}

fn of_kind<'a>(items: &'a [serde_json::Value], kind: &str) -> Vec<&'a serde_json::Value> {
    items.iter().filter(|t| t["kind"] == kind).collect()
}

async fn each_role_is_told_what_waits_for_it_in_its_scope(app: TestApp) {
    let xinmin = crate::rating::xinmin_2016(&app).await;
    let round = app
        .db
        .round_for(&app.node(XINMIN).await, 2016)
        .await
        .unwrap()
        .unwrap();
    let secretary = app.token("xinmin.secretary").await;
    let township = app.token("meishan.admin").await;

    // The village secretary: the 2016 self-assessment, due on the round's date.
    let items = tasks_of(&app, &secretary).await;
    let own = of_kind(&items, "rating_self_assessment");
    assert_eq!(own.len(), 1, "{items:?}");
    assert_eq!(own[0]["url"], format!("/orgs/{XINMIN}/ratings/2016"));
    assert_eq!(own[0]["due"], round.self_due.as_str());
    assert!(own[0]["title"].as_str().unwrap().contains("2016"));
    let before = of_kind(&tasks_of(&app, &township).await, "rating_review")
        .into_iter()
        .filter(|t| t["url"] == format!("/orgs/{XINMIN}/ratings/2016"))
        .count();
    assert_eq!(before, 0, "not submitted yet");

    // Submitted: it leaves the secretary's list and waits for the township.
    crate::rating::score_xinmin_2016(&app).await;
    let sec = app.login("xinmin.secretary").await;
    let res = app
        .post_form(
            &format!("/assessments/{}/step", xinmin.id),
            &[("action", "forward")],
            &sec,
        )
        .await;
    assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.text());
    let items = tasks_of(&app, &secretary).await;
    assert!(
        of_kind(&items, "rating_self_assessment").is_empty(),
        "{items:?}"
    );
    let items = tasks_of(&app, &township).await;
    let reviews = of_kind(&items, "rating_review");
    let mine: Vec<_> = reviews
        .iter()
        .filter(|t| t["url"] == format!("/orgs/{XINMIN}/ratings/2016"))
        .collect();
    assert_eq!(mine.len(), 1, "{items:?}");
    assert_eq!(mine[0]["due"], round.review_due.as_str());
    // Every review waiting is a village of 煤山镇, and no other role's stage shows.
    let meishan = app.node(MEISHAN).await;
    for t in &items {
        let url = t["url"].as_str().unwrap();
        if !url.starts_with("/orgs/") {
            // A dispatch's, a wish's or a loan's page answers only within the reader's scope.
            assert_eq!(
                app.get(url, &township).await.status,
                StatusCode::OK,
                "{url}"
            );
            continue;
        }
        let code = url.split('/').nth(2).unwrap();
        let node = app
            .db
            .org(
                &Scope::everything(),
                &baiqian_domain::org::OrgCode::parse(code).unwrap(),
            )
            .await
            .unwrap();
        assert!(node.path.starts_with(&meishan.path), "{url} outside 煤山镇");
        assert_ne!(t["kind"], "rating_self_assessment");
        assert_ne!(t["kind"], "rating_approval");
    }

    // A member acts on no rating; an auditor has nothing to do.
    let member = app.token("xinmin.member").await;
    for t in tasks_of(&app, &member).await {
        assert!(!t["kind"].as_str().unwrap().starts_with("rating"), "{t}");
    }
    let auditor = app.token("meishan.auditor").await;
    for t in tasks_of(&app, &auditor).await {
        assert_eq!(t["kind"], "rating_late", "{t}");
    }
    // Without an account: 401.
    let res = app.get("/api/v1/me/tasks", &Who::Anonymous).await;
    assert_eq!(res.status, StatusCode::UNAUTHORIZED);
}
both!(each_role_is_told_what_waits_for_it_in_its_scope);

async fn each_role_lands_on_its_own_home(app: TestApp) {
    // The city: the round's stages, stars and classes, each a link to its villages.
    let city = app.login("city.admin").await;
    let home = app.get("/", &city).await;
    assert_eq!(home.status, StatusCode::OK, "{}", home.text());
    let stages = home
        .between("id=\"home-stages\"", "</dl>")
        .expect("the round's stages");
    assert!(stages.contains(&format!("/orgs/{CITY}/ratings/2016/villages?stage=draft")));
    assert!(home.text().contains("id=\"home-tasks\""));

    // The village secretary: the self-assessment one tap away, the village's years.
    let sec = app.login("xinmin.secretary").await;
    let home = app.get("/", &sec).await;
    let tasks = home.between("id=\"home-tasks\"", "</section>").unwrap();
    assert!(
        tasks.contains(&format!("href=\"/orgs/{XINMIN}/ratings/2016\"")),
        "{tasks}"
    );
    assert!(home.text().contains("id=\"home-history\""));

    // The member: their own record and card, their attendance; nobody else, no boards.
    let member = app.login("xinmin.member").await;
    let me = app.get("/api/v1/me", &member).await.json();
    let own_id = me["member"]["id"].as_i64().expect("the member's record");
    let home = app.get("/", &member).await;
    assert_eq!(home.status, StatusCode::OK);
    let mine = home.between("id=\"home-me\"", "</section>").unwrap();
    assert!(mine.contains(&format!("/members/{own_id}/card")), "{mine}");
    assert!(home.text().contains("id=\"home-my-attendance\""));
    assert!(!home.text().contains("id=\"home-ratings\""));
    let others = app
        .db
        .members_under(
            &Scope::everything(),
            &baiqian_domain::org::OrgCode::parse(XINMIN).unwrap(),
            "",
            50,
            0,
        )
        .await
        .unwrap();
    for m in others.iter().filter(|m| m.id != own_id) {
        assert!(
            !home.text().contains(&format!("/members/{}", m.id)),
            "another member on the member's home"
        );
    }
    // In English.
    let en = app.get_lang("/", &member.with_lang("en")).await;
    assert!(en.text().contains("My member card"), "{}", en.text());
}
both!(each_role_lands_on_its_own_home, roster);

/// A leader's home shows their own work: the places they guide with what is open and late
/// there (each figure the length of the list it opens), the visits they logged, and each of
/// their pledges with the share done and whether it keeps pace with its dates.
async fn a_leader_sees_their_places_visits_and_pledges(app: TestApp) {
    let leader = app.login("city.leader").await;
    let home = app.get("/", &leader).await;
    assert_eq!(home.status, StatusCode::OK);
    let part = home
        .text()
        .split("id=\"home-leader\"")
        .nth(1)
        .and_then(|s| s.split("</section>").next())
        .expect("the leader's part of the home")
        .to_string();
    // 和孚镇, which he guides: its overdue figure is the length of its overdue list.
    let hefu = baiqian_demo::ledger::HEFU;
    let row = part
        .split(&format!("id=\"my-place-{hefu}\""))
        .nth(1)
        .and_then(|s| s.split("</tr>").next())
        .expect("和孚镇 among his places")
        .to_string();
    let api = app.token("city.leader").await;
    let overdue = app
        .get(&format!("/api/v1/orgs/{hefu}/problems?overdue=true"), &api)
        .await
        .json()["total"]
        .as_i64()
        .unwrap();
    assert!(overdue > 0);
    assert!(row.contains(&format!(">{overdue}</a>")), "{row}");
    // His visits, counted from the log.
    let (id, visits): (i64, i64) = sqlx::query_as(
        "SELECT l.id, (SELECT COUNT(*) FROM visits v WHERE v.leader_id = l.id) FROM leaders l \
         JOIN users u ON u.id = l.user_id WHERE u.login = 'city.leader'",
    )
    .fetch_one(app.db.pool())
    .await
    .unwrap();
    assert!(part.contains(&format!("visits?leader={id}")));
    assert!(part.contains(&format!("{visits}")), "{part}");
    // His pledge: the share done and its pace on the demo's day.
    let pledges = app.get("/api/v1/pledges", &api).await.json();
    let mine: Vec<&serde_json::Value> = pledges["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|p| p["leader"] == "裘东耀")
        .collect();
    assert!(!mine.is_empty());
    for p in mine {
        let (target, visited) = (
            p["target"].as_i64().unwrap(),
            p["visited"].as_i64().unwrap(),
        );
        let block = part
            .split(&format!("id=\"my-pledge-{}\"", p["id"]))
            .nth(1)
            .and_then(|s| s.split("class=\"pledge\"").next())
            .unwrap();
        assert!(
            block.contains(&format!(">{}%<", visited * 100 / target)),
            "{block}"
        );
        let pace = baiqian_domain::ledger::PledgePace::of(
            p["since"].as_str().unwrap(),
            p["due"].as_str().unwrap(),
            "2016-03-01",
            target,
            visited,
        )
        .unwrap();
        let word = match pace {
            baiqian_domain::ledger::PledgePace::Done => "已全部走遍".to_string(),
            baiqian_domain::ledger::PledgePace::OnTrack => "按期推进".to_string(),
            baiqian_domain::ledger::PledgePace::Behind(n) => format!("落后进度 {n} 个"),
            baiqian_domain::ledger::PledgePace::Missed(n) => format!("已过期，尚差 {n} 个"),
        };
        assert!(block.contains(&word), "{word}: {block}");
    }
    // Someone who is no leader has no such part.
    let town = app.login("hefu.admin").await;
    assert!(
        !app.get("/", &town)
            .await
            .text()
            .contains("id=\"home-leader\"")
    );
}
both!(a_leader_sees_their_places_visits_and_pledges);
