use axum::http::StatusCode;

use crate::both;
use crate::support::TestApp;
use crate::support::codes::*;

async fn auditors_read_changes_within_their_scope_only(app: TestApp) {
    let county = app.login("changxing.admin").await;
    let wuxing = app.login("wuxing.admin").await;
    let res = app
        .post_form(
            &format!("/orgs/{XINMIN}/edit"),
            &[
                ("name", "新民村"),
                ("party_org_kind", "general_branch"),
                ("secretary_name", "许月刚"),
            ],
            &county,
        )
        .await;
    assert_eq!(res.status, StatusCode::SEE_OTHER);
    let res = app
        .post_form(
            &format!("/orgs/{LONGSHAN}/edit"),
            &[
                ("name", "龙山村"),
                ("party_org_kind", "branch"),
                ("secretary_name", "施益忠"),
            ],
            &wuxing,
        )
        .await;
    assert_eq!(res.status, StatusCode::SEE_OTHER);

    let cx_auditor = app.login("changxing.auditor").await;
    let page = app.get("/audit", &cx_auditor).await;
    assert_eq!(page.status, StatusCode::OK);
    let text = page.text();
    assert!(
        text.contains(XINMIN) && text.contains("changxing.admin"),
        "the county's change is listed"
    );
    assert!(!text.contains(LONGSHAN), "another county's change is not");
    // In words: the action and the object by name, and the changed fields as a table of
    // before → after, never the stored codes or JSON.
    assert!(
        text.contains("<td data-label=\"操作\">修改</td>")
            && text.contains("<td data-label=\"对象\">组织</td>"),
        "{text}"
    );
    let row = text
        .split("<th scope=\"row\">书记</th>")
        .nth(1)
        .and_then(|rest| rest.split("</tr>").next())
        .unwrap_or_default();
    assert!(
        row.ends_with("<td>许月刚</td>"),
        "the secretary, before → after: {row}"
    );
    assert!(
        !row.is_empty() && !text.contains("<th scope=\"row\">党组织类型</th>"),
        "only the fields that changed (the kind stayed): {text}"
    );
    for raw in ["secretary_name", "&#34;", "general_branch"] {
        assert!(
            !text.contains(&format!(">{raw}")) && !text.contains("{&#34;"),
            "{raw} shown raw"
        );
    }
    // English reads the same in English.
    let en_auditor = cx_auditor.with_lang("en");
    let text_en = app.get_lang("/audit", &en_auditor).await.text();
    assert!(
        text_en.contains("<th scope=\"row\">Secretary</th>"),
        "{text_en}"
    );
    // The filters offer the kinds by name; choosing one keeps it chosen.
    let filtered = app
        .get_lang("/audit?entity=org&action=update", &en_auditor)
        .await
        .text();
    assert!(filtered.contains("<option value=\"org\" selected>Organization</option>"));
    assert!(filtered.contains("<option value=\"update\" selected>Changed</option>"));

    let city_auditor = app.token("city.auditor").await;
    let all = app
        .get("/api/v1/audit?action=update", &city_auditor)
        .await
        .json();
    let keys: Vec<&str> = all["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["key"].as_str().unwrap())
        .collect();
    assert!(keys.contains(&XINMIN) && keys.contains(&LONGSHAN));
    let item = all["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["key"] == XINMIN)
        .unwrap();
    assert_eq!(item["actor"], "changxing.admin");
    assert_eq!(item["role"], "county-admin");
    assert_ne!(item["before"]["secretary_name"], "许月刚");
    assert_eq!(item["after"]["secretary_name"], "许月刚");
    // Filters live in the URL.
    let only = app
        .get(
            &format!("/api/v1/audit?actor=wuxing.admin&key={LONGSHAN}"),
            &city_auditor,
        )
        .await
        .json();
    assert_eq!(only["items"].as_array().unwrap().len(), 1);

    let town_auditor = app.token("meishan.auditor").await;
    let town = app.get("/api/v1/audit", &town_auditor).await.json();
    assert!(
        town["items"].as_array().unwrap().iter().all(|i| i["key"]
            .as_str()
            .unwrap()
            .starts_with(MEISHAN)
            || i["entity"] != "org")
    );
    // Members and leaders have no audit log.
    let member = app.login("xinmin.member").await;
    assert_eq!(
        app.get("/audit", &member).await.status,
        StatusCode::NOT_FOUND
    );
    let leader = app.token("city.leader").await;
    assert_eq!(
        app.get("/api/v1/audit", &leader).await.status,
        StatusCode::NOT_FOUND
    );
}
both!(auditors_read_changes_within_their_scope_only);

async fn the_audit_log_cannot_be_changed(app: TestApp) {
    let n = app.audit_count().await;
    assert!(n > 0, "the demo load is audited");
    let upd = sqlx::query("UPDATE audit_log SET actor_login = 'x'")
        .execute(app.db.pool())
        .await;
    assert!(upd.is_err(), "UPDATE must be refused");
    let del = sqlx::query("DELETE FROM audit_log")
        .execute(app.db.pool())
        .await;
    assert!(del.is_err(), "DELETE must be refused");
    assert_eq!(app.audit_count().await, n);
    // And the application has no route that would try.
    let admin = app.login("city.admin").await;
    for path in ["/audit/1", "/audit/1/edit", "/api/v1/audit/1"] {
        assert_eq!(
            app.post_form(path, &[], &admin).await.status,
            StatusCode::NOT_FOUND,
            "{path}"
        );
    }
}
both!(the_audit_log_cannot_be_changed);

/// The audit log in words (issue 31): every field name, action, object kind and status the
/// demo world's log holds has words in both languages, so the log never shows a code.
async fn every_recorded_field_and_status_has_words(app: TestApp) {
    use baiqian_web::i18n::{Lang, Tr};
    // A problem reported and started, so the log holds a status change besides the demo's.
    let village = app.login("xinmin.secretary").await;
    let res = app
        .post_form(
            &format!("/orgs/{}/problems", crate::support::codes::XINMIN),
            &[
                ("village", crate::support::codes::XINMIN),
                ("source", "survey"),
                ("description", "党员活动室漏雨"),
                ("owner_name", "王建国"),
                ("measures", "修缮屋顶"),
                ("deadline", "2016-06-30"),
                ("found_on", "2016-02-01"),
            ],
            &village,
        )
        .await;
    let id = res.location().unwrap_or_default();
    let res = app
        .post_form(
            &format!("{id}/steps"),
            &[("step", "start"), ("note", "")],
            &village,
        )
        .await;
    assert_eq!(
        res.status,
        axum::http::StatusCode::SEE_OTHER,
        "{}",
        res.text()
    );
    let rows: Vec<(String, String, Option<String>, Option<String>)> =
        sqlx::query_as("SELECT action, entity, before_json, after_json FROM audit_log")
            .fetch_all(app.db.pool())
            .await
            .unwrap();
    assert!(rows.len() > 100, "the demo's log: {} rows", rows.len());
    let mut keys = std::collections::BTreeSet::new();
    let mut statuses = std::collections::BTreeSet::new();
    for (action, entity, before, after) in &rows {
        keys.insert(format!("audit.action.{action}"));
        keys.insert(format!("audit.entity.{entity}"));
        for json in [before, after].into_iter().flatten() {
            if let Ok(serde_json::Value::Object(m)) = serde_json::from_str(json) {
                for (k, v) in m {
                    keys.insert(format!("audit.field.{k}"));
                    if k == "status"
                        && let Some(s) = v.as_str()
                    {
                        statuses.insert(s.to_string());
                    }
                }
            }
        }
    }
    let mut missing = Vec::new();
    for lang in [Lang::Zh, Lang::En] {
        let tr = Tr::new(lang);
        for k in &keys {
            if tr.t(k) == k.as_str() {
                missing.push(format!("{lang:?} {k}"));
            }
        }
        for s in &statuses {
            let shown = baiqian_web::audit::words::value(tr, "status", &serde_json::json!(s));
            if shown == *s {
                missing.push(format!("{lang:?} status {s}"));
            }
        }
    }
    assert!(
        statuses.contains("in_progress"),
        "a status change is in the log: {statuses:?}"
    );
    assert!(missing.is_empty(), "shown as codes: {missing:#?}");
    // Tenths of a mu read as mu.
    let tr = Tr::new(Lang::Zh);
    assert_eq!(
        baiqian_web::audit::words::value(tr, "land_tenth_mu", &serde_json::json!(155)),
        "15.5 亩"
    );
}
both!(every_recorded_field_and_status_has_words);
