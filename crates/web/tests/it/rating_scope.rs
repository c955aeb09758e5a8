//! Ratings seen from the edges: evidence stored by hash and in scope, boards at every level,
//! every rating route refusing outside scope, a village founded or retired mid-round.

use crate::both;
use crate::rating::{set_by_code, xinmin_2016};
use crate::support::codes::*;
use crate::support::{TestApp, xlsx};
use axum::http::StatusCode;
use baiqian_domain::scope::Scope;

/// The smallest PNG header `infer` recognises (content decides the type, not the name).
pub const PNG: &[u8] =
    b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0\0\x01\0\0\0\x01\x08\x06\0\0\0\x1f\x15\xc4\x89";

async fn evidence_is_checked_stored_by_hash_and_scoped(app: TestApp) {
    let (a, items, _) = app
        .db
        .assessment_of(&Scope::everything(), &app.node(XINMIN).await, 2016)
        .await
        .unwrap()
        .unwrap();
    let item = items[0].item.id.to_string();
    let sec = app.login("xinmin.secretary").await;
    let path = format!("/assessments/{}/evidence", a.id);
    let audits = app.audit_count().await;
    // Text pretending to be a picture; an empty file; someone else's village.
    let res = app
        .post_multipart(
            &path,
            &[("item_id", &item)],
            &[("file", "photo.png", b"not a picture")],
            &sec,
        )
        .await;
    assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY);
    let res = app
        .post_multipart(
            &path,
            &[("item_id", &item)],
            &[("file", "x.png", b"")],
            &sec,
        )
        .await;
    assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY);
    let other = app.login("longshan.secretary").await;
    let res = app
        .post_multipart(
            &path,
            &[("item_id", &item)],
            &[("file", "x.png", PNG)],
            &other,
        )
        .await;
    assert_eq!(res.status, StatusCode::NOT_FOUND);
    let town = app.login("meishan.admin").await;
    let res = app
        .post_multipart(
            &path,
            &[("item_id", &item)],
            &[("file", "x.png", PNG)],
            &town,
        )
        .await;
    assert_eq!(res.status, StatusCode::CONFLICT, "not the township's turn");
    assert_eq!(app.audit_count().await, audits);
    assert!(
        !app.evidence_dir.exists() || std::fs::read_dir(&app.evidence_dir).unwrap().count() == 0
    );

    let res = app
        .post_multipart(
            &path,
            &[("item_id", &item)],
            &[("file", "会议记录.png", PNG)],
            &sec,
        )
        .await;
    assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.text());
    let (_, items, _) = app
        .db
        .assessment_of(&Scope::everything(), &app.node(XINMIN).await, 2016)
        .await
        .unwrap()
        .unwrap();
    let e = &items[0].evidence[0];
    assert_eq!(e.mime, "image/png");
    assert_eq!(e.file_name, "会议记录.png");
    let stored = app.evidence_dir.join(&e.sha256[..2]).join(&e.sha256);
    assert_eq!(std::fs::read(&stored).unwrap(), PNG);
    let url = format!("/evidence/{}", e.id);
    let res = app.get(&url, &sec).await;
    assert_eq!(res.status, StatusCode::OK);
    assert_eq!(res.body, PNG);
    assert_eq!(app.get(&url, &town).await.status, StatusCode::OK);
    assert_eq!(app.get(&url, &other).await.status, StatusCode::NOT_FOUND);
    let miaoxi = app.login("miaoxi.admin").await;
    assert_eq!(app.get(&url, &miaoxi).await.status, StatusCode::NOT_FOUND);
}
both!(evidence_is_checked_stored_by_hash_and_scoped);

async fn boards_show_every_level_in_scope(app: TestApp) {
    let county = app.login("changxing.admin").await;
    let res = app
        .get(&format!("/orgs/{CHANGXING}/ratings/2016"), &county)
        .await;
    assert_eq!(res.status, StatusCode::OK);
    let board = res.between("id=\"rating-board\"", "</table>").unwrap();
    assert!(board.contains("煤山镇"), "townships listed");
    assert!(
        board.contains("villages?stage=draft"),
        "figures link to their rows"
    );
    let total = res.between("id=\"board-total\"", "</tr>").unwrap();
    assert!(total.contains(">248<"), "长兴县's 248 villages: {total}");
    // The rows behind a figure, and the city's board out of a county's reach.
    let res = app
        .get(
            &format!("/orgs/{CHANGXING}/ratings/2016/villages?stars=5"),
            &county,
        )
        .await;
    assert_eq!(res.status, StatusCode::OK);
    assert_eq!(
        app.get(&format!("/orgs/{WUXING}/ratings/2016"), &county)
            .await
            .status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        app.get(&format!("/orgs/{CITY}/ratings/2016/villages"), &county)
            .await
            .status,
        StatusCode::NOT_FOUND
    );
    // A village's page: its history over both years.
    let sec = app.login("xinmin.secretary").await;
    let res = app.get(&format!("/orgs/{XINMIN}/ratings/2016"), &sec).await;
    assert_eq!(res.status, StatusCode::OK);
    let history = res.between("id=\"star-history\"", "</table>").unwrap();
    assert!(
        history.contains("2015") && history.contains("2016"),
        "{history}"
    );
    assert!(
        res.text().contains("id=\"scores-form\""),
        "the secretary's turn"
    );
    // In English too.
    let res = app
        .get_lang(
            &format!("/orgs/{XINMIN}/ratings/2016"),
            &sec.with_lang("en"),
        )
        .await;
    assert!(res.text().contains("Self-assessment"), "{}", res.text());
}
both!(boards_show_every_level_in_scope);

async fn every_rating_route_refuses_outside_scope(app: TestApp) {
    let audits = app.audit_count().await;
    let cx = app.login("changxing.admin").await;
    let wuxing = app.login("wuxing.admin").await;
    let meishan = app.login("meishan.admin").await;
    // Another county's board, its newest-year link, its pioneer data and their export.
    for path in [
        format!("/orgs/{WUXING}/ratings"),
        format!("/orgs/{WUXING}/village-facts/2016"),
        format!("/orgs/{WUXING}/village-facts/2016?format=xlsx"),
    ] {
        assert_eq!(
            app.get(&path, &cx).await.status,
            StatusCode::NOT_FOUND,
            "{path}"
        );
    }
    assert_eq!(
        app.get(&format!("/orgs/{CHANGXING}/ratings"), &cx)
            .await
            .location(),
        Some(format!("/orgs/{CHANGXING}/ratings/2016"))
    );
    // Another county's set may not be read, exported or used; the city's may not be changed.
    let nx = set_by_code(&app, "NX-33").await;
    let hz = set_by_code(&app, "HZ-BQ").await;
    assert_eq!(
        app.get(&format!("/standards/{}/export", nx.id), &cx)
            .await
            .status,
        StatusCode::NOT_FOUND
    );
    let res = app
        .post_form(
            &format!("/orgs/{CHANGXING}/ratings/2016/standard"),
            &[("set_id", &nx.id.to_string())],
            &cx,
        )
        .await;
    assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY);
    let res = app
        .post_form(
            &format!("/orgs/{WUXING}/ratings/2016/standard"),
            &[("set_id", &hz.id.to_string())],
            &cx,
        )
        .await;
    assert_eq!(res.status, StatusCode::NOT_FOUND);
    let res = app
        .post_form(
            &format!("/standards/{}/items", hz.id),
            &[
                ("group_name", "g"),
                ("code", "Z1"),
                ("body", "b"),
                ("full_score", "1"),
            ],
            &cx,
        )
        .await;
    assert_eq!(
        res.status,
        StatusCode::FORBIDDEN,
        "the city's set is not the county's"
    );
    // A class decision on another county's village; pioneer data for a village outside the
    // township.
    let a = xinmin_2016(&app).await;
    let res = app
        .post_form(
            &format!("/assessments/{}/class", a.id),
            &[("class", "lagging"), ("reason", "越权")],
            &wuxing,
        )
        .await;
    assert_eq!(res.status, StatusCode::NOT_FOUND);
    let sheet = xlsx(&[
        vec!["代码", "村级集体经济年经常性收入(元)"],
        vec![LONGSHAN, "600000"],
    ]);
    let res = app
        .post_file(
            &format!("/orgs/{MEISHAN}/village-facts/2016"),
            &sheet,
            "all",
            &meishan,
        )
        .await;
    assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(res.text().contains(LONGSHAN));
    assert_eq!(app.audit_count().await, audits);
    // In scope, the county's own drafts switch to a set it may use.
    let res = app
        .post_form(
            &format!("/orgs/{CHANGXING}/ratings/2016/standard"),
            &[("set_id", &hz.id.to_string())],
            &cx,
        )
        .await;
    assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.text());
    assert_eq!(app.audit_count().await, audits + 1);
}
both!(every_rating_route_refuses_outside_scope);

/// A village founded mid-round joins the open round as a draft (the published year is left as
/// it was); retired untouched, its draft is withdrawn; a village whose assessment holds work
/// refuses retirement, and nothing is written.
async fn a_village_founded_mid_round_joins_it_and_leaves_it_untouched(app: TestApp) {
    let county = app.login("changxing.admin").await;
    let total = |year: i64| {
        let app = &app;
        let county = county.clone();
        async move {
            let res = app
                .get(&format!("/orgs/{CHANGXING}/ratings/{year}"), &county)
                .await;
            assert_eq!(res.status, StatusCode::OK);
            res.between("id=\"board-total\"", "</tr>").unwrap()
        }
    };
    assert!(total(2016).await.contains(">248<"));
    let res = app
        .post_form(
            &format!("/orgs/{MEISHAN}/new"),
            &[
                ("level", "village"),
                ("code", "330522109297"),
                ("name", "新建村"),
                ("party_org_kind", "branch"),
                ("member_count", "0"),
                ("secretary_name", ""),
            ],
            &county,
        )
        .await;
    assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.text());
    assert!(total(2016).await.contains(">249<"), "joined the open round");
    assert!(
        total(2015).await.contains(">248<"),
        "the published year as it was"
    );
    let page = app.get("/orgs/330522109297/ratings/2016", &county).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.text());

    let res = app
        .post_form(
            "/orgs/330522109297/retire",
            &[("reason", "建制撤销")],
            &county,
        )
        .await;
    assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.text());
    assert!(total(2016).await.contains(">248<"), "its draft withdrawn");

    // A village whose 2016 assessment is submitted: retiring it is refused, nothing written.
    let round = app
        .db
        .round_for(&app.node(CHANGXING).await, 2016)
        .await
        .unwrap()
        .unwrap();
    let submitted = app
        .db
        .assessments_under(
            &round,
            &app.node(CHANGXING).await,
            &baiqian_store::rating::AssessmentFilter {
                stage: Some(baiqian_domain::rating::Stage::Submitted),
                ..Default::default()
            },
            "2016-12-31",
            1,
        )
        .await
        .unwrap();
    let village = &submitted[0].org_code;
    let audit0 = app.audit_count().await;
    let res = app
        .post_form(
            &format!("/orgs/{village}/retire"),
            &[("reason", "合并")],
            &county,
        )
        .await;
    assert_eq!(
        res.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        res.text()
    );
    assert!(res.text().contains("2016"), "{}", res.text());
    assert_eq!(app.audit_count().await, audit0);
    assert!(total(2016).await.contains(">248<"));
}
both!(a_village_founded_mid_round_joins_it_and_leaves_it_untouched);

/// On a phone the self-assessment saves and uploads without leaving the page (htmx): a save
/// answers with the time and the new total, a refused one with the reason (422) and writes
/// nothing; an upload answers with the item's evidence list only, so typed scores stay put.
async fn the_self_assessment_saves_and_uploads_in_place(app: TestApp) {
    let (a, items, _) = app
        .db
        .assessment_of(&Scope::everything(), &app.node(XINMIN).await, 2016)
        .await
        .unwrap()
        .unwrap();
    let (first, second) = (&items[0].item, &items[1].item);
    let sec = app.login("xinmin.secretary").await;
    // The page carries the htmx form, the save bar with its running total, and the upload forms.
    let page = app
        .get(&format!("/orgs/{XINMIN}/ratings/2016"), &sec)
        .await
        .text();
    assert!(page.contains(&format!("hx-post=\"/assessments/{}/scores\"", a.id)));
    assert!(page.contains("id=\"save-bar\"") && page.contains("id=\"running-total\""));
    assert!(page.contains(&format!("hx-target=\"#evidence-{}\"", first.code)));

    let scores = format!("/assessments/{}/scores", a.id);
    let (k1, k2) = (
        format!("score_{}", first.id),
        format!("score_{}", second.id),
    );
    // Too high a score: the reason, nothing written.
    let audits = app.audit_count().await;
    let too_high = (first.full_score + 1).to_string();
    let res = app
        .post_form_htmx(&scores, &[(&k1, "1"), (&k2, &too_high)], &sec)
        .await;
    assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY);
    let text = res.text();
    assert!(
        text.contains("id=\"save-error\"") && !text.contains("<html"),
        "{text}"
    );
    assert_eq!(app.audit_count().await, audits);
    // A good save: a fragment with the new total for the summary and the bar.
    let res = app
        .post_form_htmx(&scores, &[(&k1, "1"), (&k2, "2")], &sec)
        .await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.text());
    let stored = xinmin_2016(&app).await;
    let total = stored.self_total.expect("a self total");
    let text = res.text();
    assert!(
        text.contains("id=\"saved\"") && !text.contains("<html"),
        "{text}"
    );
    assert!(
        text.contains(&format!("id=\"total\" hx-swap-oob=\"true\">{total}<")),
        "{text}"
    );
    assert_eq!(app.audit_count().await, audits + 1);

    // An upload in place: the item's evidence list, not a page or a redirect.
    let evidence = format!("/assessments/{}/evidence", a.id);
    let item = first.id.to_string();
    let res = app
        .post_multipart_htmx(
            &evidence,
            &[("item_id", &item)],
            &[("file", "公开栏.png", PNG)],
            &sec,
        )
        .await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.text());
    let text = res.text();
    assert!(
        text.contains("公开栏.png")
            && text.contains("href=\"/evidence/")
            && !text.contains("<html"),
        "{text}"
    );
    // A refused upload says why in the save bar and stores nothing.
    let audits = app.audit_count().await;
    let res = app
        .post_multipart_htmx(
            &evidence,
            &[("item_id", &item)],
            &[("file", "x.png", b"not a picture")],
            &sec,
        )
        .await;
    assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        res.headers.get("hx-retarget").and_then(|v| v.to_str().ok()),
        Some("#save-status")
    );
    assert!(res.text().contains("id=\"save-error\""));
    assert_eq!(app.audit_count().await, audits);
}
both!(the_self_assessment_saves_and_uploads_in_place);
