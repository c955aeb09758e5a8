//! A member's record over time: corrections of phone, workplace and the mobile flag, changes of
//! standing (转出、停止党籍、去世) with their history and what follows from them (the roster's
//! count, the card), the register of mobile members, and every month attended.

use axum::http::StatusCode;
use serde_json::json;

use crate::both;
use crate::support::TestApp;
use crate::support::codes::*;

async fn new_member(app: &TestApp, who: &crate::support::Who, seq: u32) -> i64 {
    let id =
        baiqian_domain::member::with_check_digit(&format!("330522198005041{:02}", seq * 2 - 1))
            .unwrap();
    let body = json!({"name": "沈记录", "gender": "M", "birth_date": "1980-05-04", "id_number": id,
        "phone": "13857200001", "home_org": XINMIN, "joined": "2005-07-01"});
    let res = app.post_json("/api/v1/members", &body, who).await;
    assert_eq!(res.status, StatusCode::CREATED, "{}", res.text());
    res.json()["id"].as_i64().unwrap()
}

async fn kept_count(app: &TestApp, code: &str) -> i64 {
    sqlx::query_scalar("SELECT member_count FROM orgs WHERE code = $1")
        .bind(code)
        .fetch_one(app.db.pool())
        .await
        .unwrap()
}

async fn a_record_is_corrected_and_audited(app: TestApp) {
    let town = app.token("meishan.admin").await;
    let id = new_member(&app, &town, 1).await;
    let audits = app.audit_count().await;

    // Bad input: named, nothing written.
    let res = app
        .post_json(
            &format!("/api/v1/members/{id}"),
            &json!({"phone": "12345"}),
            &town,
        )
        .await;
    assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(res.text().contains("手机号"), "{}", res.text());
    assert_eq!(app.audit_count().await, audits);

    // A new phone, a workplace, away to 杭州: one audit row, the phone masked in it.
    let res = app
        .post_json(
            &format!("/api/v1/members/{id}"),
            &json!({"phone": "13900001111", "workplace": "天能集团", "mobile": true, "mobile_where": "杭州"}),
            &town,
        )
        .await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.text());
    let m = res.json();
    assert_eq!(m["phone"], "139****1111");
    assert_eq!(m["workplace"], "天能集团");
    assert_eq!(m["mobile"], true);
    assert_eq!(app.audit_count().await, audits + 1);
    let (before, after): (String, String) = sqlx::query_as(
        "SELECT before_json, after_json FROM audit_log WHERE entity = 'member' AND entity_key = $1 ORDER BY id DESC LIMIT 1",
    )
    .bind(id.to_string())
    .fetch_one(app.db.pool())
    .await
    .unwrap();
    assert!(before.contains("138****0001") && after.contains("139****1111"));
    assert!(
        !after.contains("13900001111"),
        "the audit log keeps no whole phone"
    );

    // A field left out keeps its value; the page form keeps the phone when its box is empty.
    let res = app
        .post_json(
            &format!("/api/v1/members/{id}"),
            &json!({"mobile": false}),
            &town,
        )
        .await;
    let m = res.json();
    assert_eq!(m["phone"], "139****1111");
    assert_eq!(m["workplace"], "天能集团");
    assert_eq!(m["mobile"], false);
    let page = app.login("meishan.admin").await;
    let form = app.get(&format!("/members/{id}/edit"), &page).await;
    assert_eq!(form.status, StatusCode::OK);
    let res = app
        .post_form(
            &format!("/members/{id}/edit"),
            &[
                ("phone", ""),
                ("workplace", "湖州银行"),
                ("mobile_where", ""),
            ],
            &page,
        )
        .await;
    assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.text());
    let got = app
        .get(&format!("/api/v1/members/{id}"), &town)
        .await
        .json();
    assert_eq!(got["phone"], "139****1111");
    assert_eq!(got["workplace"], "湖州银行");

    // A member may not correct even their own record; another county's admin cannot reach it.
    let member = app.token("xinmin.member").await;
    let res = app
        .post_json(
            &format!("/api/v1/members/{id}"),
            &json!({"workplace": "x"}),
            &member,
        )
        .await;
    assert_eq!(res.status, StatusCode::FORBIDDEN);
    let other = app.token("wuxing.admin").await;
    let res = app
        .post_json(
            &format!("/api/v1/members/{id}"),
            &json!({"workplace": "x"}),
            &other,
        )
        .await;
    assert_eq!(res.status, StatusCode::NOT_FOUND);
    let got = app
        .get(&format!("/api/v1/members/{id}"), &town)
        .await
        .json();
    assert_eq!(got["workplace"], "湖州银行");
}
both!(a_record_is_corrected_and_audited);

async fn a_change_of_standing_is_dated_reasoned_and_kept(app: TestApp) {
    let town = app.token("meishan.admin").await;
    let id = new_member(&app, &town, 2).await;
    let node = app.node(XINMIN).await;
    let on_roster = app.db.member_count_under(&node).await.unwrap();
    assert_eq!(kept_count(&app, XINMIN).await, on_roster);
    let status = |body: serde_json::Value| {
        let app = &app;
        let town = &town;
        async move {
            app.post_json(&format!("/api/v1/members/{id}/status"), &body, town)
                .await
        }
    };

    // Refused, nothing written: a day after today (the demo's 2016-03-01), no reason, a word
    // that is no standing, a day before joining.
    let audits = app.audit_count().await;
    for (body, words) in [
        (
            json!({"status": "suspended", "on_date": "2016-04-01", "reason": "违纪"}),
            "晚于今天",
        ),
        (
            json!({"status": "suspended", "on_date": "2016-02", "reason": ""}),
            "原因",
        ),
        (
            json!({"status": "dead", "on_date": "2016-02", "reason": "x"}),
            "党籍变动",
        ),
        (
            json!({"status": "suspended", "on_date": "2001-01", "reason": "违纪"}),
            "早于入党日期",
        ),
    ] {
        let res = status(body.clone()).await;
        assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
        assert!(res.text().contains(words), "{body}: {}", res.text());
    }
    assert_eq!(app.audit_count().await, audits);

    // Suspended in February 2016: off the roster, not counted, the card revoked, no new card.
    let res =
        status(json!({"status": "suspended", "on_date": "2016-02", "reason": "违纪处分"})).await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.text());
    assert_eq!(res.json()["status"], "suspended");
    assert!(res.json()["card_no"].is_null());
    assert_eq!(
        app.db.member_count_under(&node).await.unwrap(),
        on_roster - 1
    );
    assert_eq!(kept_count(&app, XINMIN).await, on_roster - 1);
    let former = app
        .get(&format!("/api/v1/orgs/{XINMIN}/members?part=former"), &town)
        .await
        .json();
    assert!(
        former["items"]
            .as_array()
            .unwrap()
            .iter()
            .any(|m| m["id"] == id)
    );
    let current = app
        .get(&format!("/api/v1/orgs/{XINMIN}/members?q=沈记录"), &town)
        .await
        .json();
    assert!(current["items"].as_array().unwrap().is_empty());
    let page = app.login("meishan.admin").await;
    let res = app
        .post_form(&format!("/members/{id}/card/reissue"), &[], &page)
        .await;
    assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY);

    // Back on the roster, then deceased: both kept in order, and death is final.
    let res =
        status(json!({"status": "active", "on_date": "2016-02-20", "reason": "处分期满恢复"}))
            .await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.text());
    assert_eq!(kept_count(&app, XINMIN).await, on_roster);
    let res =
        status(json!({"status": "deceased", "on_date": "2016-02-28", "reason": "病故"})).await;
    assert_eq!(res.status, StatusCode::OK);
    let res = status(json!({"status": "active", "on_date": "2016-02-29", "reason": "x"})).await;
    assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(kept_count(&app, XINMIN).await, on_roster - 1);

    let shown = app.get(&format!("/members/{id}"), &page).await.text();
    let history = shown
        .split("id=\"standing\"")
        .nth(1)
        .and_then(|s| s.split("</table>").next())
        .expect("the history of standing");
    let order: Vec<usize> = ["2016-02<", "2016-02-20<", "2016-02-28<", "违纪处分", "病故"]
        .iter()
        .map(|w| {
            history
                .find(w)
                .unwrap_or_else(|| panic!("{w} in {history}"))
        })
        .collect();
    assert!(order[0] < order[1] && order[1] < order[2]);
    assert!(shown.contains("id=\"member-status\">去世<"), "{shown}");
    let edit = app.get(&format!("/members/{id}/edit"), &page).await.text();
    assert!(edit.contains("id=\"no-standing-change\""));

    // The page form names the field it refuses.
    let id2 = new_member(&app, &town, 3).await;
    let res = app
        .post_form(
            &format!("/members/{id2}/status"),
            &[
                ("status", "transferred_out"),
                ("on_date", "1974年13月"),
                ("reason", "转往杭州"),
            ],
            &page,
        )
        .await;
    assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(res.text().contains("1974年13月"), "{}", res.text());
    let res = app
        .post_form(
            &format!("/members/{id2}/status"),
            &[
                ("status", "transferred_out"),
                ("on_date", "2016年1月"),
                ("reason", "转往杭州"),
            ],
            &page,
        )
        .await;
    assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.text());
    let got = app
        .get(&format!("/api/v1/members/{id2}"), &town)
        .await
        .json();
    assert_eq!(got["status"], "transferred_out");
}
both!(a_change_of_standing_is_dated_reasoned_and_kept);

/// The roster's parts each list exactly as many as their figure says; the register of mobile
/// members is the members away, with where to.
async fn the_roster_parts_match_their_figures(app: TestApp) {
    let town = app.login("meishan.admin").await;
    // One member away to 杭州 and one off the roster, so that every part holds someone.
    let api = app.token("meishan.admin").await;
    let first = app
        .get(&format!("/api/v1/orgs/{XINMIN}/members"), &api)
        .await
        .json();
    let (a, b) = (
        first["items"][0]["id"].as_i64().unwrap(),
        first["items"][1]["id"].as_i64().unwrap(),
    );
    let res = app
        .post_json(
            &format!("/api/v1/members/{a}"),
            &json!({"mobile": true, "mobile_where": "杭州"}),
            &api,
        )
        .await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.text());
    let res = app
        .post_json(
            &format!("/api/v1/members/{b}/status"),
            &json!({"status": "transferred_out", "on_date": "2016-01", "reason": "转往杭州"}),
            &api,
        )
        .await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.text());
    for (part, sql) in [
        ("current", "status = 'active'"),
        ("mobile", "status = 'active' AND mobile = 1"),
        ("former", "status <> 'active'"),
    ] {
        let expect: i64 = sqlx::query_scalar(&format!(
            "SELECT COUNT(*) FROM members WHERE home_org = $1 AND {sql}"
        ))
        .bind(XINMIN)
        .fetch_one(app.db.pool())
        .await
        .unwrap();
        let page = app
            .get(&format!("/orgs/{XINMIN}/members?part={part}"), &town)
            .await;
        assert_eq!(page.status, StatusCode::OK);
        let figure = page
            .between(&format!("id=\"part-{part}\""), "</a>")
            .unwrap();
        assert!(figure.contains(&format!(">{expect}<")), "{part}: {figure}");
        // Every page of the list, counted.
        let mut listed = 0;
        for n in 1.. {
            let p = app
                .get(
                    &format!("/orgs/{XINMIN}/members?part={part}&page={n}"),
                    &town,
                )
                .await
                .text();
            let rows = p
                .split("<tbody>")
                .nth(1)
                .map(|b| b.matches("<tr>").count())
                .unwrap_or(0);
            listed += rows;
            if !p.contains(&format!("page={}\"", n + 1)) {
                break;
            }
        }
        assert_eq!(listed as i64, expect, "{part}");
    }
    let mobile = app
        .get(&format!("/orgs/{XINMIN}/members?part=mobile"), &town)
        .await
        .text();
    assert!(mobile.contains("杭州"), "the register says where they are");
    assert_eq!(
        app.get(&format!("/orgs/{XINMIN}/members?part=gone"), &town)
            .await
            .status,
        StatusCode::NOT_FOUND
    );
}
both!(the_roster_parts_match_their_figures, roster);

/// A member sees every month they attended, year by year, not only this year and last.
async fn a_member_sees_every_month_attended(app: TestApp) {
    let member = app.login("xinmin.member").await;
    let token = app.token("xinmin.member").await;
    let me = app.get("/api/v1/me", &token).await.json();
    let id = me["member"]["id"].as_i64().unwrap();
    let months: Vec<(String,)> =
        sqlx::query_as("SELECT month FROM member_months WHERE member_id = $1 ORDER BY month")
            .bind(id)
            .fetch_all(app.db.pool())
            .await
            .unwrap();
    assert!(!months.is_empty(), "the demo's member has attended");
    let page = app.get(&format!("/members/{id}"), &member).await.text();
    let section = page
        .split("id=\"attended\"")
        .nth(1)
        .and_then(|s| s.split("</section>").next())
        .unwrap();
    assert_eq!(section.matches("class=\"chip\"").count(), months.len());
    let years: std::collections::BTreeSet<&str> = months.iter().map(|(m,)| &m[..4]).collect();
    assert!(years.len() > 1, "more than this year: {years:?}");
    for y in years {
        assert!(section.contains(&format!("id=\"attended-{y}\"")), "{y}");
    }
    let home = app.get("/", &member).await.text();
    assert!(home.contains(&format!("/members/{id}#attended")));
}
/// On the full demo: a year of activity days, over 2015 and 2016.
mod a_member_sees_every_month_attended {
    use baiqian_demo::Roster::MembersAndActivity;
    use baiqian_store::Backend;

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn sqlite() {
        if let Some(app) = crate::support::TestApp::with(Backend::Sqlite, MembersAndActivity).await
        {
            super::a_member_sees_every_month_attended(app).await;
        }
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn postgres() {
        if let Some(app) =
            crate::support::TestApp::with(Backend::Postgres, MembersAndActivity).await
        {
            super::a_member_sees_every_month_attended(app).await;
        }
    }
}
