use axum::http::StatusCode;
use serde_json::json;

use crate::both;
use crate::support::codes::*;
use baiqian_domain::org::OrgCode;
use baiqian_domain::scope::Scope;

use crate::support::{TestApp, xlsx};

/// A valid ID number for a man born 1980-05-04 (sequence `seq`, odd).
fn id_for(seq: u32) -> String {
    baiqian_domain::member::with_check_digit(&format!("330522198005041{:02}", seq * 2 - 1)).unwrap()
}

fn member_json(id: &str, home: &str) -> serde_json::Value {
    json!({"name": "许月刚", "gender": "M", "birth_date": "1980-05-04", "id_number": id, "phone": "13857200001",
           "home_org": home, "joined": "2005-07-01"})
}

async fn add_read_and_refuse_members_in_scope(app: TestApp) {
    let town = app.token("meishan.admin").await;
    let audit0 = app.audit_count().await;
    let id = id_for(1);
    let res = app
        .post_json("/api/v1/members", &member_json(&id, XINMIN), &town)
        .await;
    assert_eq!(res.status, StatusCode::CREATED, "{}", res.text());
    let created = res.json();
    let member_id = created["id"].as_i64().unwrap();
    assert!(created["card_no"].as_str().unwrap().starts_with("330522"));
    assert_eq!(app.audit_count().await, audit0 + 1);
    let got = app
        .get(&format!("/api/v1/members/{member_id}"), &town)
        .await
        .json();
    assert_eq!(
        got["id_number"],
        format!("{}********{}", &id[..6], &id[14..])
    );
    assert_eq!(got["phone"], "138****0001");
    // Stored protected: neither the ID number nor the phone is in the database in clear, nor in the audit log.
    let row: (String, String) =
        sqlx::query_as("SELECT id_sealed, id_hash FROM members WHERE id = $1")
            .bind(member_id)
            .fetch_one(app.db.pool())
            .await
            .unwrap();
    assert!(!row.0.contains(&id) && !row.1.contains(&id));
    let audit: Vec<(String,)> =
        sqlx::query_as("SELECT after_json FROM audit_log WHERE entity = 'member'")
            .fetch_all(app.db.pool())
            .await
            .unwrap();
    assert!(
        audit
            .iter()
            .all(|(a,)| !a.contains(&id) && !a.contains("13857200001"))
    );

    // Refusals: nothing written.
    let member = app.token("xinmin.member").await;
    let before = app.audit_count().await;
    let bad_check = format!("{}{}", &id[..17], if id.ends_with('0') { '1' } else { '0' });
    for (body, expect) in [
        (member_json(&id, XINMIN), "已登记"),
        (member_json(&bad_check, XINMIN), "校验位"),
        (
            json!({"name": "许月刚", "gender": "F", "birth_date": "1980-05-04", "id_number": id_for(2), "home_org": XINMIN, "joined": "2005-07-01"}),
            "性别",
        ),
        (
            json!({"name": "许月刚", "gender": "M", "birth_date": "1980-05-05", "id_number": id_for(2), "home_org": XINMIN, "joined": "2005-07-01"}),
            "出生日期",
        ),
        (
            json!({"name": "许月刚", "gender": "M", "birth_date": "1980-05-04", "id_number": id_for(2), "home_org": XINMIN, "joined": "1995-07-01"}),
            "18",
        ),
        (
            json!({"name": "<i>x</i>", "gender": "M", "birth_date": "1980-05-04", "id_number": id_for(2), "home_org": XINMIN, "joined": "2005-07-01", "phone": "12345"}),
            "手机号",
        ),
        (member_json(&id_for(2), TONGQIAO), "不在您的权限范围内"),
    ] {
        let res = app.post_json("/api/v1/members", &body, &town).await;
        assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
        assert!(
            res.json()["error"]["message"]
                .as_str()
                .unwrap()
                .contains(expect),
            "{body}: {}",
            res.text()
        );
    }
    let res = app
        .post_json("/api/v1/members", &member_json(&id_for(2), XINMIN), &member)
        .await;
    assert_eq!(res.status, StatusCode::FORBIDDEN);
    assert_eq!(app.audit_count().await, before);

    // Outside scope: every member route is 404.
    let wuxing = app.login("wuxing.admin").await;
    let wuxing_api = app.token("wuxing.admin").await;
    assert_eq!(
        app.get(&format!("/api/v1/members/{member_id}"), &wuxing_api)
            .await
            .status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        app.get(&format!("/api/v1/orgs/{XINMIN}/members"), &wuxing_api)
            .await
            .status,
        StatusCode::NOT_FOUND
    );
    for path in [
        format!("/members/{member_id}"),
        format!("/members/{member_id}/transfer"),
        format!("/orgs/{XINMIN}/members"),
        format!("/orgs/{XINMIN}/members/new"),
        format!("/orgs/{XINMIN}/members.xlsx"),
        format!("/orgs/{XINMIN}/members/import"),
    ] {
        assert_eq!(
            app.get(&path, &wuxing).await.status,
            StatusCode::NOT_FOUND,
            "{path}"
        );
    }
    let res = app
        .post_form(&format!("/members/{member_id}/reveal"), &[], &wuxing)
        .await;
    assert_eq!(res.status, StatusCode::NOT_FOUND);
    let res = app
        .post_form(
            &format!("/members/{member_id}/transfer"),
            &[("to", LONGSHAN), ("reason", "工作调动")],
            &wuxing,
        )
        .await;
    assert_eq!(res.status, StatusCode::NOT_FOUND);
    assert_eq!(app.audit_count().await, before + 1, "only the token issue");

    // Inside scope: the roster and the page, masked.
    let town_web = app.login("meishan.admin").await;
    let roster = app
        .get(&format!("/orgs/{MEISHAN}/members"), &town_web)
        .await;
    assert_eq!(roster.status, StatusCode::OK);
    assert!(roster.text().contains("许月刚") && !roster.text().contains(&id));
    let list = app
        .get(&format!("/api/v1/orgs/{MEISHAN}/members"), &town)
        .await
        .json();
    assert_eq!(list["items"].as_array().unwrap().len(), 1);
}
both!(add_read_and_refuse_members_in_scope);

async fn reveal_is_audited_and_transfer_keeps_history(app: TestApp) {
    let county = app.token("changxing.admin").await;
    let id = id_for(3);
    let member_id = app
        .post_json("/api/v1/members", &member_json(&id, XINMIN), &county)
        .await
        .json()["id"]
        .as_i64()
        .unwrap();
    let admin = app.login("changxing.admin").await;
    let audit0 = app.audit_count().await;
    let page = app
        .get(&format!("/members/{member_id}"), &admin)
        .await
        .text();
    assert!(!page.contains(&id), "masked by default");
    let shown = app
        .post_form(&format!("/members/{member_id}/reveal"), &[], &admin)
        .await;
    assert_eq!(shown.status, StatusCode::OK);
    assert!(shown.text().contains(&id) && shown.text().contains("13857200001"));
    assert_eq!(shown.headers["cache-control"], "no-store");
    assert_eq!(
        app.audit_count().await,
        audit0 + 1,
        "who saw it unmasked is audited"
    );
    let leader = app.login("changxing.leader").await;
    assert_eq!(
        app.post_form(&format!("/members/{member_id}/reveal"), &[], &leader)
            .await
            .status,
        StatusCode::FORBIDDEN
    );

    // A transfer to another organization in scope: recorded, never an overwrite.
    let res = app
        .post_form(
            &format!("/members/{member_id}/transfer"),
            &[("to", "330522109-001"), ("reason", "到天能集团工作")],
            &admin,
        )
        .await;
    assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.text());
    let res = app
        .post_form(
            &format!("/members/{member_id}/transfer"),
            &[("to", XINMIN), ("reason", "返乡")],
            &admin,
        )
        .await;
    assert_eq!(res.status, StatusCode::SEE_OTHER);
    let page = app
        .get(&format!("/members/{member_id}"), &admin)
        .await
        .text();
    let history = page.split("id=\"transfers\"").nth(1).unwrap();
    assert!(history.find("到天能集团工作").unwrap() < history.find("返乡").unwrap());
    let transfers: (i64,) =
        sqlx::query_as("SELECT COUNT(*) FROM member_transfers WHERE member_id = $1")
            .bind(member_id)
            .fetch_one(app.db.pool())
            .await
            .unwrap();
    assert_eq!(transfers.0, 2);
    // Counts follow the roster: the member went to 天能集团 and came back to 新民村.
    let count = |code: &'static str| {
        let app = &app;
        let county = county.clone();
        async move {
            app.get(&format!("/api/v1/orgs/{code}"), &county)
                .await
                .json()["party_org"]["member_count"]
                .as_i64()
                .unwrap()
        }
    };
    assert_eq!(
        (
            count(XINMIN).await,
            count("330522109-001").await,
            count(MEISHAN).await
        ),
        (1, 0, 1)
    );
    assert_eq!(app.audit_count().await, audit0 + 3);
    // Refused transfers write nothing.
    for (to, reason, expect) in [
        (XINMIN, "测试", "相同"),
        (LONGSHAN, "调动", "不在您的权限范围内"),
        (HONGQIAO, "", "请填写原因"),
    ] {
        let res = app
            .post_form(
                &format!("/members/{member_id}/transfer"),
                &[("to", to), ("reason", reason)],
                &admin,
            )
            .await;
        assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY, "{to}");
        assert!(res.text().contains(expect), "{to}: {expect}");
    }
    assert_eq!(app.audit_count().await, audit0 + 3);
}
both!(reveal_is_audited_and_transfer_keeps_history);

async fn roster_import_rejects_a_bad_check_digit_by_row_and_column(app: TestApp) {
    let town = app.login("meishan.admin").await;
    let good1 = id_for(5);
    let good2 = baiqian_domain::member::with_check_digit("33052219900210002").unwrap();
    let bad = format!(
        "{}{}",
        &id_for(6)[..17],
        if id_for(6).ends_with('1') { '2' } else { '1' }
    );
    let other = baiqian_domain::member::with_check_digit("33052219900210004").unwrap();
    let header = vec![
        "姓名",
        "性别",
        "出生日期",
        "身份证号",
        "手机号",
        "组织关系所在地代码",
        "入党日期",
        "工作单位",
        "流动党员",
        "流动去向",
    ];
    let rows = vec![
        header.clone(),
        vec![
            "佘胜",
            "男",
            "1980-05-04",
            good1.as_str(),
            "13857200002",
            XINMIN,
            "2006-07-01",
            "天能集团",
            "否",
            "",
        ],
        vec![
            "错号",
            "男",
            "1980-05-04",
            bad.as_str(),
            "",
            XINMIN,
            "2006-07-01",
            "",
            "",
            "",
        ],
        vec![
            "沈丽",
            "女",
            "1990-02-10",
            good2.as_str(),
            "",
            XINMIN,
            "2012-07-01",
            "",
            "是",
            "杭州",
        ],
        vec![
            "重号",
            "男",
            "1980-05-04",
            good1.as_str(),
            "",
            XINMIN,
            "2006-07-01",
            "",
            "",
            "",
        ],
        vec![
            "外村",
            "女",
            "1990-02-10",
            other.as_str(),
            "",
            TONGQIAO,
            "2012-07-01",
            "",
            "",
            "",
        ],
    ];
    let file = xlsx(&rows);
    let before = app.audit_count().await;
    let res = app
        .post_file(
            &format!("/orgs/{MEISHAN}/members/import"),
            &file,
            "all",
            &town,
        )
        .await;
    assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY);
    let text = res.text();
    let report = text.split("id=\"import-report\"").nth(1).unwrap();
    for (row, column, zh, en) in [
        (3, "身份证号 (id_number)", "校验位", "check digit"),
        (5, "身份证号 (id_number)", "重复", "repeats row 2"),
        (
            6,
            "组织关系所在地代码 (home_org)",
            "不在您的权限范围内",
            "outside your scope",
        ),
    ] {
        let cell = format!("<td class=\"num\">{row}</td><td>{column}</td>");
        let at = report
            .find(&cell)
            .unwrap_or_else(|| panic!("row {row} not reported: {report}"));
        let rest = &report[at..];
        let rest = &rest[..rest.find("</tr>").unwrap()];
        assert!(rest.contains(zh) && rest.contains(en), "{rest}");
    }
    assert_eq!(
        app.audit_count().await,
        before,
        "a rejected file writes nothing"
    );
    let res = app
        .post_file(
            &format!("/orgs/{MEISHAN}/members/import"),
            &file,
            "good_rows",
            &town,
        )
        .await;
    assert!(res.text().contains("import-result"));
    assert_eq!(
        app.audit_count().await,
        before + 2,
        "exactly the two good rows"
    );
    let roster = app
        .get(&format!("/orgs/{XINMIN}/members"), &town)
        .await
        .text();
    assert!(roster.contains("佘胜") && roster.contains("沈丽") && !roster.contains("错号"));
    let export = app
        .get(&format!("/orgs/{XINMIN}/members.xlsx"), &town)
        .await;
    let table = baiqian_web::excel::read_first_sheet(&export.body).unwrap();
    // The title line, the header, the two members.
    assert_eq!(table.len(), 4);
    assert!(
        table.iter().all(|r| !r.contains(&good1)),
        "exports are masked"
    );
}
both!(roster_import_rejects_a_bad_check_digit_by_row_and_column);

async fn volunteer_teams_are_kept_in_scope(app: TestApp) {
    let town = app.token("meishan.admin").await;
    let add = |name: &str, seq: u32, home: &str| {
        let id =
            baiqian_domain::member::with_check_digit(&format!("330522198005041{:02}", seq * 2 - 1))
                .unwrap();
        serde_json::json!({"name": name, "gender": "M", "birth_date": "1980-05-04", "id_number": id, "home_org": home, "joined": "2005-07-01"})
    };
    let res = app
        .post_json("/api/v1/members", &add("沈建国", 1, XINMIN), &town)
        .await;
    let mine = res.json()["id"].as_i64().unwrap();
    let cx = app.token("changxing.admin").await;
    let other = app
        .post_json("/api/v1/members", &add("王永明", 2, TONGQIAO), &cx)
        .await
        .json()["id"]
        .as_i64()
        .unwrap();

    let sec = app.login("xinmin.secretary").await;
    let audits = app.audit_count().await;
    let res = app
        .post_form(
            &format!("/orgs/{XINMIN}/teams"),
            &[("name", " "), ("purpose", "x")],
            &sec,
        )
        .await;
    assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY);
    let res = app
        .post_form(
            &format!("/orgs/{XINMIN}/teams"),
            &[("name", "红色代办队"), ("purpose", "代办证件")],
            &sec,
        )
        .await;
    assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.text());
    let team = app
        .db
        .teams_of(&Scope::everything(), &OrgCode::parse(XINMIN).unwrap())
        .await
        .unwrap()[0]
        .id;
    // A member outside the secretary's village is refused; their own joins.
    let res = app
        .post_form(
            &format!("/teams/{team}/members"),
            &[("member_id", &other.to_string())],
            &sec,
        )
        .await;
    assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY);
    let res = app
        .post_form(
            &format!("/teams/{team}/members"),
            &[("member_id", &mine.to_string()), ("note", "队长")],
            &sec,
        )
        .await;
    assert_eq!(res.status, StatusCode::SEE_OTHER);
    assert_eq!(app.audit_count().await, audits + 2);
    let page = app.get(&format!("/orgs/{XINMIN}/teams"), &sec).await;
    assert!(page.text().contains("沈建国") && page.text().contains("队长"));
    // Another village's secretary sees nothing of it and cannot add to it; a leader may not
    // form teams.
    let longshan = app.login("longshan.secretary").await;
    assert_eq!(
        app.get(&format!("/orgs/{XINMIN}/teams"), &longshan)
            .await
            .status,
        StatusCode::NOT_FOUND
    );
    let res = app
        .post_form(
            &format!("/teams/{team}/members"),
            &[("member_id", &mine.to_string())],
            &longshan,
        )
        .await;
    assert_eq!(res.status, StatusCode::NOT_FOUND);
    let leader = app.login("meishan.leader").await;
    let res = app
        .post_form(
            &format!("/orgs/{XINMIN}/teams"),
            &[("name", "车队"), ("purpose", "接送")],
            &leader,
        )
        .await;
    assert_eq!(res.status, StatusCode::FORBIDDEN);
    assert_eq!(app.audit_count().await, audits + 2);
}
both!(volunteer_teams_are_kept_in_scope);
