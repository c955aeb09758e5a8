use axum::http::StatusCode;
use baiqian_domain::org::OrgCode;
use serde_json::json;

use crate::both;
use crate::support::codes::*;
use crate::support::{TestApp, Who};

/// 天能集团's Party committee, in 煤山镇: where 新民村's members work.
pub(crate) const TIANNENG: &str = "330522109-001";

pub(crate) async fn member(app: &TestApp, who: &Who, seq: u32, home: &str) -> (i64, String) {
    let id =
        baiqian_domain::member::with_check_digit(&format!("330522198005041{:02}", seq * 2 - 1))
            .unwrap();
    let body = json!({"name": format!("党员{seq}"), "gender": "M", "birth_date": "1980-05-04", "id_number": id, "home_org": home, "joined": "2005-07-01"});
    let res = app.post_json("/api/v1/members", &body, who).await;
    assert_eq!(res.status, StatusCode::CREATED, "{}", res.text());
    let j = res.json();
    (
        j["id"].as_i64().unwrap(),
        j["card_no"].as_str().unwrap().to_string(),
    )
}

pub(crate) async fn event(app: &TestApp, who: &Who, org: &str) -> i64 {
    let body = json!({"date": "2016-03-01", "starts_at": "2016-03-01T09:00:00+08:00", "ends_at": "2016-03-01T11:00:00+08:00", "topic": "学习党章", "place": "村部会议室"});
    let res = app
        .post_json(&format!("/api/v1/orgs/{org}/events"), &body, who)
        .await;
    assert_eq!(res.status, StatusCode::CREATED, "{}", res.text());
    res.json()["id"].as_i64().unwrap()
}

pub(crate) async fn device(app: &TestApp, org: &str) -> Who {
    let secret = baiqian_web::auth::random_token().unwrap();
    let code = OrgCode::parse(org).unwrap();
    app.db
        .create_device(
            &baiqian_store::Actor::cli(),
            &code,
            "读卡器",
            &baiqian_web::auth::sha256_hex(&secret),
            crate::support::T0,
        )
        .await
        .unwrap();
    Who::Bearer(format!("dev_{secret}"))
}

pub(crate) fn swipe(client: &str, card: &str, event: i64, at: &str) -> serde_json::Value {
    json!({"client_id": client, "card_no": card, "event_id": event, "at": at})
}

/// The kept rollups of March 2016 equal a recount from the check-ins themselves, at each node;
/// returns what was kept, in order.
pub(crate) async fn rollups_match_recount(
    app: &TestApp,
    codes: &[&str],
) -> Vec<baiqian_store::checkin::Attendance> {
    let mut kept_all = Vec::new();
    for code in codes {
        let c = OrgCode::parse(code).unwrap();
        let kept = app
            .db
            .attendance(&baiqian_domain::scope::Scope::everything(), &c, "2016-03")
            .await
            .unwrap();
        let recount = app
            .db
            .attendance_from_scratch(&app.node(code).await, "2016-03")
            .await
            .unwrap();
        assert_eq!(kept, recount, "{code}");
        kept_all.push(kept);
    }
    kept_all
}

async fn card_checkins_are_idempotent_and_refusals_write_nothing(app: TestApp) {
    let town = app.token("meishan.admin").await;
    let (m1, card1) = member(&app, &town, 1, XINMIN).await;
    let (_, card2) = member(&app, &town, 2, XINMIN).await;
    let ev = event(&app, &town, XINMIN).await;
    let reader = device(&app, XINMIN).await;
    let ok_at = "2016-03-01T09:20:00+08:00";
    let count = |app: &TestApp| {
        let pool = app.db.pool().clone();
        async move {
            sqlx::query_as::<_, (i64,)>("SELECT COUNT(*) FROM checkins")
                .fetch_one(&pool)
                .await
                .unwrap()
                .0
        }
    };

    let first = app
        .post_json(
            "/api/v1/checkins",
            &swipe("c0ffee00-0000-4000-8000-000000000001", &card1, ev, ok_at),
            &reader,
        )
        .await;
    assert_eq!(first.status, StatusCode::CREATED, "{}", first.text());
    assert_eq!(first.json()["status"], "created");
    let again = app
        .post_json(
            "/api/v1/checkins",
            &swipe("c0ffee00-0000-4000-8000-000000000001", &card1, ev, ok_at),
            &reader,
        )
        .await;
    assert_eq!(again.status, StatusCode::OK);
    assert_eq!(again.json()["status"], "repeat");
    assert_eq!(again.json()["id"], first.json()["id"]);
    let second_swipe = app
        .post_json(
            "/api/v1/checkins",
            &swipe("c0ffee00-0000-4000-8000-000000000002", &card1, ev, ok_at),
            &reader,
        )
        .await;
    assert_eq!(second_swipe.status, StatusCode::OK);
    assert_eq!(second_swipe.json()["status"], "already");
    assert_eq!(count(&app).await, 1, "one attendance per member and event");

    // Refusals, each with a clear JSON error and nothing written.
    let other_reader = device(&app, TONGQIAO).await;
    for (body, who, code) in [
        (
            swipe(
                "c0ffee00-0000-4000-8000-000000000003",
                &card2,
                ev,
                "2016-03-01T08:59:00+08:00",
            ),
            &reader,
            "outside_window",
        ),
        (
            swipe(
                "c0ffee00-0000-4000-8000-000000000004",
                &card2,
                ev,
                "2016-03-01T11:01:00+08:00",
            ),
            &reader,
            "outside_window",
        ),
        (
            swipe(
                "c0ffee00-0000-4000-8000-000000000005",
                "3305220000009901",
                ev,
                ok_at,
            ),
            &reader,
            "unknown_card",
        ),
        (
            swipe(
                "c0ffee00-0000-4000-8000-000000000006",
                &card2,
                ev + 999,
                ok_at,
            ),
            &reader,
            "unknown_event",
        ),
        (
            swipe("c0ffee00-0000-4000-8000-000000000007", &card2, ev, ok_at),
            &other_reader,
            "device_elsewhere",
        ),
        (
            swipe(
                "c0ffee00-0000-4000-8000-000000000008",
                &card2,
                ev,
                "yesterday",
            ),
            &reader,
            "invalid",
        ),
        (swipe("x", &card2, ev, ok_at), &reader, "invalid"),
        (
            swipe("c0ffee00-0000-4000-8000-000000000009", &card2, ev, ok_at),
            &Who::Bearer("dev_unknown".into()),
            "unauthenticated",
        ),
    ] {
        let res = app.post_json("/api/v1/checkins", &body, who).await;
        assert!(res.status.is_client_error(), "{body}");
        assert_eq!(res.error_code(), code, "{body}: {}", res.text());
        assert!(!res.json()["error"]["message"].as_str().unwrap().is_empty());
    }
    assert_eq!(count(&app).await, 1);

    // A revoked card is refused from then on; the reissued card works.
    let actor = app
        .db
        .user_by_login("meishan.admin")
        .await
        .unwrap()
        .unwrap()
        .actor()
        .unwrap();
    let member2 = app
        .db
        .members_under(
            &actor.scope,
            &OrgCode::parse(XINMIN).unwrap(),
            "党员2",
            10,
            0,
        )
        .await
        .unwrap();
    let new_card = app
        .db
        .reissue_card(&actor, member2[0].id, crate::support::T0)
        .await
        .unwrap();
    let res = app
        .post_json(
            "/api/v1/checkins",
            &swipe("c0ffee00-0000-4000-8000-000000000010", &card2, ev, ok_at),
            &reader,
        )
        .await;
    assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        res.json()["error"]["message"]
            .as_str()
            .unwrap()
            .contains("注销")
    );
    let res = app
        .post_json(
            "/api/v1/checkins",
            &swipe("c0ffee00-0000-4000-8000-000000000011", &new_card, ev, ok_at),
            &reader,
        )
        .await;
    assert_eq!(res.status, StatusCode::CREATED);
    assert_eq!(
        app.db
            .months_attended(&actor.scope, m1, 2016)
            .await
            .unwrap(),
        ["2016-03"]
    );

    // The offline batch: each item its own result, retries idempotent.
    let batch = json!({"items": [
        swipe("c0ffee00-0000-4000-8000-000000000011", &new_card, ev, ok_at),
        swipe("c0ffee00-0000-4000-8000-000000000012", &card2, ev, ok_at),
        swipe("c0ffee00-0000-4000-8000-000000000013", &card1, ev, ok_at),
    ]});
    let res = app
        .post_json("/api/v1/checkins/batch", &batch, &reader)
        .await;
    assert_eq!(res.status, StatusCode::OK);
    let statuses: Vec<String> = res.json()["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["status"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(statuses, ["repeat", "refused", "already"]);
    assert_eq!(count(&app).await, 2);

    // A reader that never got its answer retries after the card was withdrawn: what it sent
    // was stored, so the answer is the first one's, not a refusal; a new swipe of that card is
    // refused.
    app.db
        .reissue_card(&actor, m1, crate::support::T0)
        .await
        .unwrap();
    let retry = app
        .post_json(
            "/api/v1/checkins",
            &swipe("c0ffee00-0000-4000-8000-000000000001", &card1, ev, ok_at),
            &reader,
        )
        .await;
    assert_eq!(retry.status, StatusCode::OK, "{}", retry.text());
    assert_eq!(retry.json()["status"], "repeat");
    assert_eq!(retry.json()["id"], first.json()["id"]);
    let batch = json!({"items": [
        swipe("c0ffee00-0000-4000-8000-000000000014", &card1, ev, ok_at),
        swipe("c0ffee00-0000-4000-8000-000000000001", &card1, ev, ok_at),
    ]});
    let res = app
        .post_json("/api/v1/checkins/batch", &batch, &reader)
        .await;
    let items = res.json()["items"].as_array().unwrap().clone();
    assert_eq!(
        (items[0]["status"].as_str(), items[1]["status"].as_str()),
        (Some("refused"), Some("repeat"))
    );
    assert_eq!(items[1]["id"], first.json()["id"]);
    assert_eq!(count(&app).await, 2);
}
both!(card_checkins_are_idempotent_and_refusals_write_nothing);

async fn attendance_counts_at_home_and_host(app: TestApp) {
    let town = app.token("meishan.admin").await;
    let (_, card) = member(&app, &town, 1, XINMIN).await;
    member(&app, &town, 2, XINMIN).await;
    let (_, guest_card) = member(&app, &town, 3, TIANNENG).await;
    let host_event = event(&app, &town, TIANNENG).await;
    let home_event = event(&app, &town, XINMIN).await;
    let tianneng_reader = device(&app, TIANNENG).await;
    let xinmin_reader = device(&app, XINMIN).await;
    // 新民村's member swipes at 天能集团, where they work; 天能集团's member visits 新民村.
    let r = app
        .post_json(
            "/api/v1/checkins",
            &swipe(
                "a0000000-0000-4000-8000-000000000001",
                &card,
                host_event,
                "2016-03-01T09:10:00+08:00",
            ),
            &tianneng_reader,
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    let r = app
        .post_json(
            "/api/v1/checkins",
            &swipe(
                "a0000000-0000-4000-8000-000000000002",
                &guest_card,
                home_event,
                "2016-03-01T09:10:00+08:00",
            ),
            &xinmin_reader,
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED);

    let get = |code: &'static str| {
        let town = town.clone();
        let app = &app;
        async move {
            app.get(&format!("/api/v1/orgs/{code}/attendance/2016-03"), &town)
                .await
                .json()
        }
    };
    assert_eq!(
        get(XINMIN).await,
        json!({"due": 2, "attended": 1, "guests": 1, "away": 1})
    );
    assert_eq!(
        get(TIANNENG).await,
        json!({"due": 1, "attended": 1, "guests": 1, "away": 1})
    );
    // Seen from the township, both are at home.
    assert_eq!(
        get(MEISHAN).await,
        json!({"due": 3, "attended": 2, "guests": 0, "away": 0})
    );
    // The rollups equal a recount from the check-ins themselves, at every level.
    let codes = [XINMIN, TIANNENG, MEISHAN, CHANGXING, CITY];
    let kept_all = rollups_match_recount(&app, &codes).await;
    for (code, kept) in codes.iter().zip(kept_all) {
        let c = OrgCode::parse(code).unwrap();
        let node = app
            .db
            .org(&baiqian_domain::scope::Scope::everything(), &c)
            .await
            .unwrap();
        let listed = app.db.attendance_of(&[node], "2016-03").await.unwrap();
        assert_eq!(listed, vec![kept], "{code}: the board's batched read");
    }
    // Scope: 洪桥镇's admin cannot read 煤山镇's attendance; a bad month is not a page.
    let other = app.token("changxing.admin").await;
    assert_eq!(
        app.get(
            &format!("/api/v1/orgs/{MEISHAN}/attendance/2016-03"),
            &other
        )
        .await
        .status,
        StatusCode::OK
    );
    let wuxing = app.token("wuxing.admin").await;
    assert_eq!(
        app.get(
            &format!("/api/v1/orgs/{MEISHAN}/attendance/2016-03"),
            &wuxing
        )
        .await
        .status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        app.get(&format!("/api/v1/orgs/{MEISHAN}/attendance/2016-13"), &town)
            .await
            .status,
        StatusCode::NOT_FOUND
    );
    // Events outside scope cannot be created.
    let res = app.post_json(&format!("/api/v1/orgs/{LONGSHAN}/events"), &json!({"date": "2016-03-01", "starts_at": "2016-03-01T09:00:00+08:00", "ends_at": "2016-03-01T11:00:00+08:00", "topic": "学习", "place": "村部"}), &town).await;
    assert_eq!(res.status, StatusCode::NOT_FOUND);
    let res = app.post_json(&format!("/api/v1/orgs/{XINMIN}/events"), &json!({"date": "2016-03-01", "starts_at": "2016-03-01T11:00:00+08:00", "ends_at": "2016-03-01T09:00:00+08:00", "topic": "学习", "place": "村部"}), &town).await;
    assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY);
}
both!(attendance_counts_at_home_and_host);

async fn rotating_qr_codes_expire(app: TestApp) {
    let town = app.token("meishan.admin").await;
    let (member_id, _) = member(&app, &town, 1, XINMIN).await;
    let ev = event(&app, &town, TIANNENG).await;
    // Link 许月刚's account to the roster row, as the township does.
    let admin = app
        .db
        .user_by_login("meishan.admin")
        .await
        .unwrap()
        .unwrap()
        .actor()
        .unwrap();
    let user = app
        .db
        .user_by_login("xinmin.member")
        .await
        .unwrap()
        .unwrap();
    app.db
        .link_user_member(&admin, user.id, member_id, crate::support::T0)
        .await
        .unwrap();
    let phone = app.token("xinmin.member").await;

    let qr = app
        .get(&format!("/api/v1/events/{ev}/qr"), &town)
        .await
        .json();
    let code = qr["code"].as_str().unwrap().to_string();
    assert!(qr["url"].as_str().unwrap().starts_with("/checkin?code="));
    // A forged signature and a code from another event are refused.
    // Change the signature's last digit (to another digit, whatever it was).
    let last = if code.ends_with('0') { '1' } else { '0' };
    let forged = format!("{}{last}", &code[..code.len() - 1]);
    let r = app
        .post_json(
            "/api/v1/checkins/qr",
            &json!({"code": forged, "client_id": "b0000000-0000-4000-8000-000000000001"}),
            &phone,
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(r.error_code(), "qr", "{}", r.text());
    // A code photographed and used 36 seconds later is stale.
    app.clock.advance_ms(36_000);
    let r = app
        .post_json(
            "/api/v1/checkins/qr",
            &json!({"code": code, "client_id": "b0000000-0000-4000-8000-000000000002"}),
            &phone,
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.text());
    assert_eq!(r.error_code(), "qr_stale");
    assert!(
        r.json()["error"]["message"]
            .as_str()
            .unwrap()
            .contains("过期")
    );
    // The current code works, once.
    let fresh = app
        .get(&format!("/api/v1/events/{ev}/qr"), &town)
        .await
        .json()["code"]
        .as_str()
        .unwrap()
        .to_string();
    let r = app
        .post_json(
            "/api/v1/checkins/qr",
            &json!({"code": fresh, "client_id": "b0000000-0000-4000-8000-000000000003"}),
            &phone,
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    let r = app
        .post_json(
            "/api/v1/checkins/qr",
            &json!({"code": fresh, "client_id": "b0000000-0000-4000-8000-000000000004"}),
            &phone,
        )
        .await;
    assert_eq!(r.json()["status"], "already");
    // Only officers see the code; a member cannot fetch it to check in from home.
    assert_eq!(
        app.get(&format!("/api/v1/events/{ev}/qr"), &phone)
            .await
            .status,
        StatusCode::NOT_FOUND
    );
    let months = app
        .db
        .months_attended(&baiqian_domain::scope::Scope::everything(), member_id, 2016)
        .await
        .unwrap();
    assert_eq!(months, ["2016-03"]);
}
both!(rotating_qr_codes_expire);

async fn attendance_page_and_card_actions_in_scope(app: TestApp) {
    let town = app.token("meishan.admin").await;
    let (member_id, card) = member(&app, &town, 1, XINMIN).await;
    let ev = event(&app, &town, XINMIN).await;
    let reader = device(&app, XINMIN).await;
    let web = app.login("meishan.admin").await;
    // The card is reported lost: refused at the reader from then on; a new card works.
    let audit0 = app.audit_count().await;
    assert_eq!(
        app.post_form(&format!("/members/{member_id}/card/lost"), &[], &web)
            .await
            .status,
        StatusCode::SEE_OTHER
    );
    // While active, the card prints with its number as a QR code; once lost, there is no card
    // to print.
    let lost_page = app.get(&format!("/members/{member_id}/card"), &web).await;
    assert_eq!(lost_page.status, StatusCode::NOT_FOUND);
    let r = app
        .post_json(
            "/api/v1/checkins",
            &swipe(
                "e0000000-0000-4000-8000-000000000001",
                &card,
                ev,
                "2016-03-01T09:20:00+08:00",
            ),
            &reader,
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        app.post_form(&format!("/members/{member_id}/card/reissue"), &[], &web)
            .await
            .status,
        StatusCode::SEE_OTHER
    );
    assert_eq!(app.audit_count().await, audit0 + 2);
    let page = app.get(&format!("/members/{member_id}"), &web).await.text();
    let new_card = page
        .split("id=\"card-no\">")
        .nth(1)
        .unwrap()
        .split('<')
        .next()
        .unwrap()
        .to_string();
    assert_ne!(new_card, card);
    let printed = app.get(&format!("/members/{member_id}/card"), &web).await;
    assert_eq!(printed.status, StatusCode::OK);
    let qr = printed.between("id=\"card-qr\"", "</div>").unwrap();
    assert!(
        qr.contains(&format!("data-token=\"{new_card}\"")) && qr.contains("<svg"),
        "{qr}"
    );
    let wuxing = app.login("wuxing.admin").await;
    assert_eq!(
        app.get(&format!("/members/{member_id}/card"), &wuxing)
            .await
            .status,
        StatusCode::NOT_FOUND
    );
    let r = app
        .post_json(
            "/api/v1/checkins",
            &swipe(
                "e0000000-0000-4000-8000-000000000002",
                &new_card,
                ev,
                "2016-03-01T09:21:00+08:00",
            ),
            &reader,
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    // Outside scope and outside the role: refused, nothing written.
    let leader = app.login("meishan.leader").await;
    for action in ["lost", "revoke", "reissue", "melt"] {
        assert_eq!(
            app.post_form(&format!("/members/{member_id}/card/{action}"), &[], &wuxing)
                .await
                .status,
            StatusCode::NOT_FOUND,
            "{action}"
        );
    }
    assert_eq!(
        app.post_form(&format!("/members/{member_id}/card/revoke"), &[], &leader)
            .await
            .status,
        StatusCode::FORBIDDEN
    );
    assert_eq!(app.audit_count().await, audit0 + 2);

    // The board: the township, and each village below it with its own figures.
    let page = app
        .get(&format!("/orgs/{MEISHAN}/attendance?month=2016-03"), &web)
        .await;
    assert_eq!(page.status, StatusCode::OK);
    let text = page.text();
    assert!(
        text.contains("id=\"att-attended\">1<") && text.contains("新民村"),
        "{text}"
    );
    assert!(text.contains("id=\"att-due\">1<"));
    assert_eq!(
        app.get(&format!("/orgs/{MEISHAN}/attendance?month=2016-3"), &web)
            .await
            .status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        app.get(&format!("/orgs/{MEISHAN}/attendance"), &wuxing)
            .await
            .status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        app.get(&format!("/orgs/{LONGSHAN}/attendance"), &web)
            .await
            .status,
        StatusCode::NOT_FOUND
    );
}
both!(attendance_page_and_card_actions_in_scope);

/// The bulk loader of the demo's year of activity days keeps the same rollups the writer does.
async fn bulk_loaded_checkins_keep_the_rollups(app: TestApp) {
    use baiqian_store::checkin::{BulkCheckin, NewEvent};
    let actor = baiqian_store::Actor::cli();
    let t = |h: i64| crate::support::T0 + h * 3_600_000;
    let events = vec![
        NewEvent {
            org: OrgCode::parse(XINMIN).unwrap(),
            day: "2016-03-01".into(),
            starts_at: t(-1),
            ends_at: t(2),
            topic: "学习".into(),
            place: "村部".into(),
        },
        NewEvent {
            org: OrgCode::parse(TIANNENG).unwrap(),
            day: "2016-03-01".into(),
            starts_at: t(-1),
            ends_at: t(2),
            topic: "学习".into(),
            place: "厂区".into(),
        },
    ];
    let ids = app
        .db
        .bulk_load_events(&actor, &events, "s", t(0))
        .await
        .unwrap();
    let members: Vec<(i64,)> =
        sqlx::query_as("SELECT id FROM members WHERE home_org = $1 ORDER BY id LIMIT 10")
            .bind(XINMIN)
            .fetch_all(app.db.pool())
            .await
            .unwrap();
    assert_eq!(members.len(), 10, "the roster is there");
    let rows: Vec<BulkCheckin> = members
        .iter()
        .enumerate()
        .map(|(i, (m,))| BulkCheckin {
            event_id: ids[i % 2],
            member_id: *m,
            at: t(0),
        })
        .collect();
    app.db.bulk_load_checkins(&rows, t(0)).await.unwrap();
    rollups_match_recount(&app, &[XINMIN, TIANNENG, MEISHAN, CITY]).await;
    let x = app
        .db
        .attendance(
            &baiqian_domain::scope::Scope::everything(),
            &OrgCode::parse(XINMIN).unwrap(),
            "2016-03",
        )
        .await
        .unwrap();
    assert_eq!((x.attended, x.away), (10, 5));
}
both!(bulk_loaded_checkins_keep_the_rollups, roster);

async fn events_page_lists_and_schedules_in_scope(app: TestApp) {
    let web = app.login("xinmin.secretary").await;
    let audit0 = app.audit_count().await;
    let fields = [
        ("date", "2016-03-15"),
        ("start", "09:00"),
        ("end", "11:00"),
        ("topic", "学习党章"),
        ("place", "村部会议室"),
    ];
    let res = app
        .post_form(&format!("/orgs/{XINMIN}/events"), &fields, &web)
        .await;
    assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.text());
    assert!(res.location().unwrap().starts_with("/events/"));
    assert_eq!(app.audit_count().await, audit0 + 1);
    let page = app.get(&format!("/orgs/{XINMIN}/events"), &web).await;
    assert_eq!(page.status, StatusCode::OK);
    let text = page.text();
    assert!(
        text.contains("学习党章") && text.contains("2016年3月15日 09:00") && text.contains("/qr\"")
    );
    // A day whose window has closed offers no QR code to scan.
    let past = [
        ("date", "2016-02-20"),
        ("start", "09:00"),
        ("end", "11:00"),
        ("topic", "学习系列讲话"),
        ("place", "村部会议室"),
    ];
    let res = app
        .post_form(&format!("/orgs/{XINMIN}/events"), &past, &web)
        .await;
    assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.text());
    let text = app
        .get(&format!("/orgs/{XINMIN}/events"), &web)
        .await
        .text();
    let row = crate::support::between(&text, "学习系列讲话", "</tr>").unwrap();
    assert!(
        row.contains("签到已结束") && !row.contains("/qr\""),
        "{row}"
    );
    let row = crate::support::between(&text, "学习党章", "</tr>").unwrap();
    assert!(row.contains("/qr\""), "{row}");
    // The end before the start, a bad date, markup: explained, nothing written.
    for (k, v, expect) in [
        ("end", "08:00", "结束时间"),
        ("date", "2016-02-30", "不是有效日期"),
        ("topic", "<b>x</b>", "不能含有字符"),
    ] {
        let bad: Vec<(&str, &str)> = fields
            .iter()
            .map(|(fk, fv)| if *fk == k { (*fk, v) } else { (*fk, *fv) })
            .collect();
        let res = app
            .post_form(&format!("/orgs/{XINMIN}/events"), &bad, &web)
            .await;
        assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY, "{k}");
        assert!(res.text().contains(expect), "{k}: {expect}");
    }
    assert_eq!(app.audit_count().await, audit0 + 2);
    // Outside scope: 404; a leader reads but does not schedule.
    assert_eq!(
        app.get(&format!("/orgs/{TONGQIAO}/events"), &web)
            .await
            .status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        app.post_form(&format!("/orgs/{TONGQIAO}/events"), &fields, &web)
            .await
            .status,
        StatusCode::NOT_FOUND
    );
    let leader = app.login("meishan.leader").await;
    assert_eq!(
        app.get(&format!("/orgs/{XINMIN}/events"), &leader)
            .await
            .status,
        StatusCode::OK
    );
    assert_eq!(
        app.post_form(&format!("/orgs/{XINMIN}/events"), &fields, &leader)
            .await
            .status,
        StatusCode::FORBIDDEN
    );
    assert_eq!(app.audit_count().await, audit0 + 2);
}
both!(events_page_lists_and_schedules_in_scope);

/// Attendance opens on the latest month with figures (February, with the clock in March), names
/// the village's absent members and those who attended elsewhere, each linking to the member;
/// its chart's bars are the month's shares and open that month's page.
async fn attendance_opens_on_the_latest_month_and_names_who_was_absent(app: TestApp) {
    use baiqian_store::checkin::{BulkCheckin, NewEvent};
    let actor = baiqian_store::Actor::cli();
    let start = baiqian_domain::time::china_ms("2016-02-15", "09:00").unwrap();
    let events = [XINMIN, TIANNENG]
        .iter()
        .map(|org| NewEvent {
            org: OrgCode::parse(org).unwrap(),
            day: "2016-02-15".into(),
            starts_at: start,
            ends_at: start + 2 * 3_600_000,
            topic: "党员固定活动日".into(),
            place: "党员活动室".into(),
        })
        .collect::<Vec<_>>();
    let ids = app
        .db
        .bulk_load_events(&actor, &events, "s", crate::support::T0)
        .await
        .unwrap();
    let members: Vec<(i64, String)> =
        sqlx::query_as("SELECT id, name FROM members WHERE home_org = $1 ORDER BY id")
            .bind(XINMIN)
            .fetch_all(app.db.pool())
            .await
            .unwrap();
    assert!(members.len() >= 6, "the roster is there");
    // Three attend at home, the fourth at 天能集团, the rest not at all.
    let rows: Vec<BulkCheckin> = members[..4]
        .iter()
        .enumerate()
        .map(|(i, (m, _))| BulkCheckin {
            event_id: ids[usize::from(i == 3)],
            member_id: *m,
            at: start + i as i64 * 60_000,
        })
        .collect();
    app.db
        .bulk_load_checkins(&rows, crate::support::T0)
        .await
        .unwrap();
    let due = members.len() as i64;

    let web = app.login("meishan.admin").await;
    let page = app.get(&format!("/orgs/{XINMIN}/attendance"), &web).await;
    assert_eq!(page.status, StatusCode::OK);
    let text = page.text();
    assert!(text.contains("<small>2016-02</small>"), "opens on February");
    assert!(text.contains("id=\"att-attended\">4<"), "{text}");
    let absent = page.between("id=\"absent\"", "</ul>").unwrap();
    assert_eq!(
        absent.matches("<li>").count() as i64,
        due - 4,
        "every absent member is named"
    );
    for (id, name) in &members[4..] {
        assert!(
            absent.contains(&format!("href=\"/members/{id}\">{name}<")),
            "{name}"
        );
    }
    for (id, _) in &members[..4] {
        assert!(!absent.contains(&format!("/members/{id}\"")));
    }
    let elsewhere = page.between("id=\"elsewhere\"", "</table>").unwrap();
    assert_eq!(
        elsewhere.matches("<tr>").count(),
        2,
        "a header and one attendance"
    );
    assert!(elsewhere.contains(&format!("href=\"/members/{}\"", members[3].0)));
    assert!(elsewhere.contains("天能集团"), "{elsewhere}");
    // The township's row for the village links its absent figure to those names.
    let town = app
        .get(&format!("/orgs/{MEISHAN}/attendance?month=2016-02"), &web)
        .await
        .text();
    assert!(
        town.contains(&format!(
            "href=\"/orgs/{XINMIN}/attendance?month=2016-02#absent\">{}<",
            due - 4
        )),
        "{town}"
    );
    // The chart: twelve months up to the page's, as shares of the members due, each bar linking
    // to its month.
    let chart = app
        .get(
            &format!("/orgs/{XINMIN}/attendance/chart?month=2016-02"),
            &web,
        )
        .await;
    assert_eq!(chart.status, StatusCode::OK);
    let c = chart.json();
    let months = c["categories"].as_array().unwrap();
    assert_eq!(months.len(), 12);
    assert_eq!(
        (months[0].as_str(), months[11].as_str()),
        (Some("2015-03"), Some("2016-02"))
    );
    let share = |n: i64| (n as f64 * 1000.0 / due as f64).round() / 10.0;
    assert_eq!(c["series"][0]["values"][11].as_f64(), Some(share(4)));
    assert_eq!(c["series"][1]["values"][11].as_f64(), Some(share(1)));
    assert_eq!(c["series"][0]["values"][10].as_f64(), Some(0.0));
    assert_eq!(
        c["series"][0]["links"][11].as_str(),
        Some(format!("/orgs/{XINMIN}/attendance?month=2016-02").as_str())
    );
    assert_eq!(
        c["series"][1]["links"][11].as_str(),
        Some(format!("/orgs/{XINMIN}/attendance?month=2016-02#elsewhere").as_str())
    );
    // Out of scope, or a month that is not one: not there.
    let wuxing = app.login("wuxing.admin").await;
    for (path, who) in [
        (
            format!("/orgs/{XINMIN}/attendance/chart?month=2016-02"),
            &wuxing,
        ),
        (
            format!("/orgs/{XINMIN}/attendance/chart?month=2016-2"),
            &web,
        ),
    ] {
        assert_eq!(
            app.get(&path, who).await.status,
            StatusCode::NOT_FOUND,
            "{path}"
        );
    }
}
both!(
    attendance_opens_on_the_latest_month_and_names_who_was_absent,
    roster
);
