//! Card readers: two writers racing on the same swipes, readers registered and revoked in scope.

use crate::both;
use crate::checkin::{member, rollups_match_recount, swipe};
use crate::support::codes::*;
use crate::support::{TestApp, Who};
use axum::http::StatusCode;
use baiqian_domain::org::OrgCode;

/// Two servers on one database (a province runs several): the same swipes reach both, as retries
/// racing their originals and as a member swiping at two readers. Every pair is stored once, each
/// request gets a true answer, nothing fails, and the rollups match a recount.
async fn two_writers_racing_on_the_same_swipes_store_each_once(app: TestApp) {
    use baiqian_store::checkin::{Attendee, CheckinOutcome, CheckinRequest, NewEvent};
    let town = app.token("meishan.admin").await;
    let mut members = Vec::new();
    for seq in 1..=24 {
        members.push(member(&app, &town, seq, XINMIN).await.0);
    }
    let other = baiqian_store::Db::connect(app.db.url()).await.unwrap();
    let t = |h: i64| crate::support::T0 + h * 3_600_000;
    let request = |client: String, member_id: i64, event_id: i64| CheckinRequest {
        client_id: client,
        attendee: Attendee::Member(member_id),
        event_id,
        at: t(0),
        method: "manual",
        device: None,
        actor_login: Some("meishan.admin".into()),
        reason: Some("读卡器离线，补录".into()),
    };
    for round in 0..8 {
        let ev = app
            .db
            .create_event(
                &baiqian_store::Actor::cli(),
                NewEvent {
                    org: OrgCode::parse(XINMIN).unwrap(),
                    day: "2016-03-01".into(),
                    starts_at: t(-1),
                    ends_at: t(2),
                    topic: format!("学习{round}"),
                    place: "村部".into(),
                },
                "race-secret",
                t(-2),
            )
            .await
            .unwrap()
            .id;
        let cid = |k: usize, side: u8| format!("a{round:07}-000{side}-4000-8000-{k:012}");
        // Server A: every member once. Server B: the same client ids (retries), then the same
        // members under new client ids (a second reader), in the opposite order.
        let a: Vec<_> = members
            .iter()
            .enumerate()
            .map(|(k, m)| request(cid(k, 0), *m, ev))
            .collect();
        let mut b: Vec<_> = a.clone();
        b.extend(
            members
                .iter()
                .enumerate()
                .map(|(k, m)| request(cid(k, 1), *m, ev)),
        );
        b.reverse();
        let (ra, rb) = tokio::join!(
            app.db.apply_checkins(a.clone(), t(1)),
            other.apply_checkins(b.clone(), t(1))
        );
        let (ra, rb) = (ra.unwrap(), rb.unwrap());
        let stored = app.db.event_attendance_count(ev).await.unwrap();
        assert_eq!(stored, members.len() as i64, "round {round}");
        for (k, m) in members.iter().enumerate() {
            let outcomes: Vec<&CheckinOutcome> = a
                .iter()
                .zip(&ra)
                .chain(b.iter().zip(&rb))
                .filter(|(r, _)| r.attendee == Attendee::Member(*m))
                .map(|(_, o)| o)
                .collect();
            let created: Vec<i64> = outcomes
                .iter()
                .filter_map(|o| match o {
                    CheckinOutcome::Created { id, .. } => Some(*id),
                    _ => None,
                })
                .collect();
            assert_eq!(created.len(), 1, "round {round}, member {k}: {outcomes:?}");
            for o in &outcomes {
                match o {
                    CheckinOutcome::Created { .. } | CheckinOutcome::Already => {}
                    // A repeat names the stored check-in.
                    CheckinOutcome::Repeat { id } => {
                        assert_eq!(*id, created[0], "round {round}, member {k}: {outcomes:?}")
                    }
                    CheckinOutcome::Refused(m) => panic!("refused: {}", m.key),
                }
            }
        }
    }
    other.close().await;
    rollups_match_recount(&app, &[XINMIN, MEISHAN, CHANGXING, CITY]).await;
}
both!(two_writers_racing_on_the_same_swipes_store_each_once);

/// Card readers from the browser: a village secretary registers one (its token shown once, and
/// it works), a bad name is refused with nothing written, the secretary revokes it and its token
/// is refused at once; callers outside the village see nothing, readers without the role change
/// nothing.
async fn card_readers_are_registered_and_revoked_in_scope(app: TestApp) {
    let sec = app.login("xinmin.secretary").await;
    let page = app.get(&format!("/orgs/{XINMIN}/devices"), &sec).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.text().contains("id=\"new-device\""));

    let audit0 = app.audit_count().await;
    let res = app
        .post_form(&format!("/orgs/{XINMIN}/devices"), &[("name", "  ")], &sec)
        .await;
    assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(res.text().contains("error-summary"));
    assert_eq!(app.audit_count().await, audit0);

    let res = app
        .post_form(
            &format!("/orgs/{XINMIN}/devices"),
            &[("name", "村部一楼读卡器")],
            &sec,
        )
        .await;
    assert_eq!(res.status, StatusCode::CREATED, "{}", res.text());
    assert_eq!(app.audit_count().await, audit0 + 1);
    let token = res
        .between("id=\"token\" class=\"token\" value=\"", "\"")
        .unwrap();
    assert!(token.starts_with("dev_"), "{token}");
    let reader = Who::Bearer(token.clone());
    let swipe = swipe(
        "d0000000-0000-4000-8000-000000000001",
        "NO-SUCH-CARD",
        1,
        "2016-03-01T10:00:00+08:00",
    );
    let res = app.post_json("/api/v1/checkins", &swipe, &reader).await;
    assert_eq!(
        res.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "the token opens the door: {}",
        res.text()
    );

    let listed = app.get(&format!("/orgs/{XINMIN}/devices"), &sec).await;
    let id: i64 = listed
        .between("action=\"/devices/", "/revoke\"")
        .unwrap()
        .parse()
        .unwrap();

    // Outside the village: nothing to see, nothing to change; in scope without the role: read only.
    let other = app.login("longshan.secretary").await;
    let auditor = app.login("meishan.auditor").await;
    for (who, read, write) in [
        (&other, StatusCode::NOT_FOUND, StatusCode::NOT_FOUND),
        (&auditor, StatusCode::OK, StatusCode::FORBIDDEN),
    ] {
        let seen = app.get(&format!("/orgs/{XINMIN}/devices"), who).await;
        assert_eq!(seen.status, read);
        if read == StatusCode::OK {
            assert!(seen.text().contains("村部一楼读卡器"));
            assert!(!seen.text().contains("id=\"new-device\""), "read only");
        }
        let posts = [
            (
                format!("/orgs/{XINMIN}/devices"),
                vec![("name", "外来读卡器")],
            ),
            (format!("/devices/{id}/revoke"), vec![]),
        ];
        for (path, fields) in posts {
            assert_eq!(
                app.post_form(&path, &fields, who).await.status,
                write,
                "{path}"
            );
        }
    }
    assert_eq!(app.audit_count().await, audit0 + 1);

    let res = app
        .post_form(&format!("/devices/{id}/revoke"), &[], &sec)
        .await;
    assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.text());
    assert_eq!(app.audit_count().await, audit0 + 2);
    let res = app.post_json("/api/v1/checkins", &swipe, &reader).await;
    assert_eq!(res.status, StatusCode::UNAUTHORIZED, "{}", res.text());
    let res = app
        .post_form(&format!("/devices/{id}/revoke"), &[], &sec)
        .await;
    assert_eq!(res.status, StatusCode::CONFLICT, "revoked already");
    assert_eq!(app.audit_count().await, audit0 + 2);
}
both!(card_readers_are_registered_and_revoked_in_scope);
