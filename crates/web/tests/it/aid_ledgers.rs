//! The associations' ledgers from officials' own sheets (a title line, their header words,
//! places and people by name): associations, members, grant and loan applications. A bad row
//! rejects the whole file and writes nothing, reported by row and column in both languages;
//! asked for the good rows, exactly those come in, one audit row each. Grants and loans come in
//! as applications that other hands still approve; a village reaches only its own associations.

use axum::http::StatusCode;
use baiqian_domain::member::with_check_digit;

use crate::both;
use crate::support::codes::{MEISHAN, XINMIN};
use crate::support::{TestApp, TestResponse, Who, xlsx};

async fn count(app: &TestApp, table: &str) -> i64 {
    let (n,): (i64,) = sqlx::query_as(&format!("SELECT COUNT(*) FROM {table}"))
        .fetch_one(app.db.pool())
        .await
        .expect("count");
    n
}

/// Posts a sheet of `rows` (under a title line) to the ledger's import.
async fn post(
    app: &TestApp,
    code: &str,
    ledger: &str,
    rows: &[Vec<&str>],
    mode: &str,
    who: &Who,
) -> TestResponse {
    let mut sheet = vec![vec!["梅山镇互助会台账（2016年）"]];
    sheet.extend(rows.iter().cloned());
    app.post_file(
        &format!("/orgs/{code}/aid/{ledger}/import"),
        &xlsx(&sheet),
        mode,
        who,
    )
    .await
}

/// The report of a rejected file holds each (row, column) and the English words.
fn reports(res: &TestResponse, cells: &[(usize, &str)], english: &str) {
    assert_eq!(
        res.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        res.text()
    );
    let report = res
        .between("id=\"import-report\"", "</table>")
        .unwrap_or_default();
    for (row, column) in cells {
        assert!(
            report.contains(&format!(">{row}</td>")) && report.contains(column),
            "row {row} {column}: {report}"
        );
    }
    assert!(report.contains(english), "in English too: {report}");
}

/// Posts `rows` all-or-nothing (rejected, nothing written, `bad` reported), then for the good
/// rows only (exactly `good` written to `table`, one audit row each).
#[allow(clippy::too_many_arguments)]
async fn rejected_then_good_rows(
    app: &TestApp,
    code: &str,
    ledger: &str,
    table: &str,
    rows: &[Vec<&str>],
    bad: &[(usize, &str)],
    english: &str,
    good: i64,
    who: &Who,
) {
    let (audit, before) = (app.audit_count().await, count(app, table).await);
    let res = post(app, code, ledger, rows, "all", who).await;
    reports(&res, bad, english);
    assert_eq!(count(app, table).await, before, "{ledger}: nothing written");
    assert_eq!(app.audit_count().await, audit);
    let res = post(app, code, ledger, rows, "good_rows", who).await;
    assert_eq!(
        count(app, table).await,
        before + good,
        "{ledger}: {}",
        res.text()
    );
    assert_eq!(app.audit_count().await, audit + good);
    assert!(
        res.text().contains("id=\"import-result\""),
        "{}",
        res.text()
    );
}

/// The URL of the task of `kind` for record `id` on the reader's list, if it is there.
async fn waits(app: &TestApp, who: &Who, kind: &str, id: i64) -> Option<String> {
    let tasks = app.get("/api/v1/me/tasks", who).await.json();
    tasks["items"].as_array().and_then(|items| {
        items
            .iter()
            .filter(|t| t["kind"] == kind)
            .filter_map(|t| t["url"].as_str())
            .find(|u| u.ends_with(&format!("/{id}")) || u.ends_with(&format!("-{id}")))
            .map(str::to_string)
    })
}

async fn association_of(app: &TestApp, grant: i64) -> i64 {
    let (a,): (i64,) = sqlx::query_as("SELECT association_id FROM aid_grants WHERE id = $1")
        .bind(grant)
        .fetch_one(app.db.pool())
        .await
        .expect("the grant");
    a
}

async fn ledgers_come_in_from_officials_sheets(app: TestApp) {
    let township = app.login("meishan.admin").await;
    let city = app.login("city.admin").await;
    let page = app
        .get(&format!("/orgs/{MEISHAN}/aid/members/import"), &township)
        .await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(
        page.text().contains("结对党员"),
        "the columns read are listed"
    );
    let res = app
        .get(&format!("/orgs/{MEISHAN}/aid/nothing/import"), &township)
        .await;
    assert_eq!(res.status, StatusCode::NOT_FOUND);

    // Associations: the village by name or by code; an unknown place, a name taken by a row
    // above, a missing trade and a day to come are each their cell's error.
    rejected_then_good_rows(
        &app,
        MEISHAN,
        "associations",
        "aid_associations",
        &[
            vec!["所在村", "互助会名称", "产业", "成立时间"],
            vec!["新民村", "新民村白茶互助会", "白茶种植", "2015/3/1"],
            vec![XINMIN, "新民村竹笋互助会", "竹笋加工", "2015-04-01"],
            vec!["无此村", "某某互助会", "茶叶种植", "2015-01-01"],
            vec!["新民村", "新民村白茶互助会", "白茶种植", "2015-03-01"],
            vec!["新民村", "新民村花木互助会", "", "2015-03-01"],
            vec!["新民村", "新民村花木互助会", "花木种植", "2099-01-01"],
        ],
        &[(5, "所在地"), (6, "互助会"), (7, "行业"), (8, "成立日期")],
        "No organization",
        2,
        &township,
    )
    .await;

    // Members: a mentor enrolled in a row above; Party member and household in difficulty in
    // the officials' words; a word that is neither, a wrong check digit, a day out of poverty
    // for a household not in difficulty, a mentor who is no Party member, and an association
    // that is not there.
    let id_number = with_check_digit("33052219800504102").expect("an ID number");
    let mut wrong = id_number.clone();
    let last = if wrong.ends_with('1') { "2" } else { "1" };
    wrong.replace_range(17.., last);
    let a = "新民村白茶互助会";
    rejected_then_good_rows(
        &app,
        MEISHAN,
        "members",
        "aid_members",
        &[
            vec![
                "互助会",
                "会员姓名",
                "政治面貌",
                "身份证号码",
                "联系电话",
                "是否困难户",
                "脱贫时间",
                "帮扶党员",
                "带动户数",
                "入会时间",
                "帮扶成效",
            ],
            vec![
                a,
                "李春芳",
                "党员",
                "",
                "13905720021",
                "否",
                "",
                "",
                "8",
                "2015-03-01",
                "",
            ],
            vec![
                a,
                "王小明",
                "群众",
                &id_number,
                "13905720022",
                "是",
                "2015-12-20",
                "李春芳",
                "0",
                "2015-03-02",
                "种白茶二十亩",
            ],
            vec![a, "赵一", "也许", "", "", "", "", "", "", "2015-03-02", ""],
            vec![
                a,
                "钱二",
                "否",
                &wrong,
                "",
                "",
                "",
                "",
                "",
                "2015-03-02",
                "",
            ],
            vec![
                a,
                "孙三",
                "否",
                "",
                "",
                "否",
                "2016-01-01",
                "",
                "",
                "2015-03-02",
                "",
            ],
            vec![
                a,
                "周四",
                "否",
                "",
                "",
                "",
                "",
                "王小明",
                "",
                "2015-03-02",
                "",
            ],
            vec![
                "无此互助会",
                "吴五",
                "否",
                "",
                "",
                "",
                "",
                "",
                "",
                "2015-03-02",
                "",
            ],
        ],
        &[
            (5, "党员"),
            (6, "身份证号"),
            (7, "脱贫日期"),
            (8, "结对党员"),
            (9, "互助会"),
        ],
        "No association called",
        2,
        &township,
    )
    .await;
    // The ID number and phone are sealed, shown masked; the mentor is named.
    let (sealed, masked, mentor): (Option<String>, Option<String>, Option<i64>) = sqlx::query_as(
        "SELECT id_sealed, id_masked, mentor_id FROM aid_members WHERE name = '王小明'",
    )
    .fetch_one(app.db.pool())
    .await
    .expect("the member");
    assert!(sealed.is_some_and(|s| !s.contains(&id_number)));
    assert!(masked.is_some_and(|m| m.contains('*')));
    assert!(mentor.is_some(), "李春芳 mentors 王小明");
    let export = app
        .get(&format!("/orgs/{XINMIN}/aid/members.xlsx"), &township)
        .await;
    assert_eq!(export.status, StatusCode::OK);
    assert!(!export.text().contains(&id_number));
    // The township may see them whole, once, audited; another township may not reach them.
    let (member,): (i64,) = sqlx::query_as("SELECT id FROM aid_members WHERE name = '王小明'")
        .fetch_one(app.db.pool())
        .await
        .expect("the member");
    let audit = app.audit_count().await;
    let other = app.login("miaoxi.admin").await;
    let res = app
        .post_form(&format!("/aid/members/{member}/reveal"), &[], &other)
        .await;
    assert_eq!(res.status, StatusCode::NOT_FOUND);
    assert_eq!(app.audit_count().await, audit);
    let res = app
        .post_form(&format!("/aid/members/{member}/reveal"), &[], &township)
        .await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.text());
    assert!(res.text().contains(&id_number) && res.text().contains("13905720022"));
    assert_eq!(
        res.headers
            .get(axum::http::header::CACHE_CONTROL)
            .and_then(|v| v.to_str().ok()),
        Some("no-store")
    );
    assert_eq!(app.audit_count().await, audit + 1);
    let (action, entity): (String, String) =
        sqlx::query_as("SELECT action, entity FROM audit_log ORDER BY id DESC LIMIT 1")
            .fetch_one(app.db.pool())
            .await
            .expect("the audit row");
    assert_eq!((action.as_str(), entity.as_str()), ("reveal", "aid_member"));

    // Grant applications: the member by name; one not in the association, an amount that is
    // no amount.
    rejected_then_good_rows(
        &app,
        MEISHAN,
        "grants",
        "aid_grants",
        &[
            vec!["互助会", "帮扶对象", "资金用途", "帮扶金额"],
            vec![a, "王小明", "购买白茶苗", "3000"],
            vec![a, "无此人", "购买肥料", "1000"],
            vec![a, "王小明", "购买肥料", "三千"],
        ],
        &[(4, "受助人"), (5, "金额（元）")],
        "no member called",
        1,
        &township,
    )
    .await;
    let (grant, stage, applied_by): (i64, String, String) =
        sqlx::query_as("SELECT id, stage, applied_by FROM aid_grants WHERE purpose = '购买白茶苗'")
            .fetch_one(app.db.pool())
            .await
            .expect("the grant");
    assert_eq!(
        (stage.as_str(), applied_by.as_str()),
        ("applied", "meishan.admin")
    );
    // The sheet was the maker: the approval waits on the county's list, not the importer's,
    // and the importer may not approve it; the city does.
    let county = app.login("changxing.admin").await;
    assert!(
        waits(&app, &township, "grant_approval", grant)
            .await
            .is_none()
    );
    assert_eq!(
        waits(&app, &county, "grant_approval", grant).await,
        Some(format!(
            "/aid/associations/{}#grant-{grant}",
            association_of(&app, grant).await
        ))
    );
    let audit = app.audit_count().await;
    let res = app
        .post_form(&format!("/aid/grants/{grant}/approve"), &[], &township)
        .await;
    assert!(res.status.is_client_error(), "{}", res.status);
    assert_eq!(app.audit_count().await, audit);
    let res = app
        .post_form(&format!("/aid/grants/{grant}/approve"), &[], &city)
        .await;
    assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.text());
    // Paying it waits for the village and the township, not for whoever approved it.
    let secretary = app.login("xinmin.secretary").await;
    assert!(
        waits(&app, &secretary, "grant_payment", grant)
            .await
            .is_some()
    );
    assert!(
        waits(&app, &township, "grant_payment", grant)
            .await
            .is_some()
    );
    assert!(waits(&app, &city, "grant_payment", grant).await.is_none());
    assert!(
        waits(&app, &county, "grant_approval", grant)
            .await
            .is_none()
    );
    let grants = app
        .get(&format!("/orgs/{MEISHAN}/aid/grants.xlsx"), &township)
        .await;
    assert_eq!(grants.status, StatusCode::OK);

    // Loan applications need a programme that applies: none yet, so the cell says so.
    let loans = [
        vec!["互助会", "借款人", "信贷项目", "贷款金额", "贷款用途"],
        vec![a, "王小明", "", "50000", "扩种白茶"],
        vec![a, "王小明", "", "500000", "建茶厂"],
        vec![a, "李春芳", "无此项目", "1000", "买茶机"],
        vec![a, "李春芳", "", "1000", ""],
    ];
    let res = post(&app, MEISHAN, "loans", &loans[..2], "all", &township).await;
    reports(&res, &[(3, "信贷项目")], "Name the credit programme");
    let res = app
        .post_form(
            &format!("/orgs/{MEISHAN}/aid/programmes"),
            &[
                ("name", "梅山镇创业信用贷款"),
                ("limit", "300000"),
                ("rate", "6"),
                ("months", "12"),
                ("method", "equal_instalments"),
            ],
            &township,
        )
        .await;
    assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.text());
    rejected_then_good_rows(
        &app,
        MEISHAN,
        "loans",
        "aid_loans",
        &loans,
        &[(4, "本金（元）"), (5, "信贷项目"), (6, "用途")],
        "Above the programme",
        1,
        &township,
    )
    .await;
    let (stage, applied_by, principal): (String, String, i64) = sqlx::query_as(
        "SELECT stage, applied_by, principal_fen FROM aid_loans WHERE purpose = '扩种白茶'",
    )
    .fetch_one(app.db.pool())
    .await
    .expect("the loan");
    assert_eq!(
        (stage.as_str(), applied_by.as_str(), principal),
        ("applied", "meishan.admin", 5_000_000)
    );
    // Its review waits for the village, not for the township that entered it.
    let (loan,): (i64,) = sqlx::query_as("SELECT id FROM aid_loans WHERE purpose = '扩种白茶'")
        .fetch_one(app.db.pool())
        .await
        .expect("the loan");
    assert_eq!(
        waits(&app, &secretary, "loan_review", loan).await,
        Some(format!("/aid/loans/{loan}"))
    );
    assert!(waits(&app, &township, "loan_review", loan).await.is_none());

    // A village reaches only its own associations: 龙山村's is not under 新民村.
    let before = count(&app, "aid_members").await;
    let res = post(
        &app,
        XINMIN,
        "members",
        &[
            vec!["互助会", "姓名", "入会日期"],
            vec!["龙山村党群创业互助会", "郑六", "2015-03-02"],
        ],
        "good_rows",
        &secretary,
    )
    .await;
    reports(&res, &[(3, "互助会")], "No association called");
    assert_eq!(count(&app, "aid_members").await, before);
}
both!(ledgers_come_in_from_officials_sheets);
