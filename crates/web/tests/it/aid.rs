//! The mutual-aid associations through the HTTP app: a village founds an association and its
//! members; a credit loan goes from application to repaid by the right hands, with every
//! maker = checker step refused and nothing written; a missed instalment turns it overdue the
//! next day (injected clock) and onto its officer's task list; a repayment entered in error is
//! reversed by another hand, the entries append-only; a grant is applied for, approved and
//! paid out of a fund that reconciles.

use axum::http::StatusCode;
use baiqian_domain::member::with_check_digit;

use crate::both;
use crate::support::codes::{MEISHAN, XINMIN};
use crate::support::{TestApp, Who};

const DAY_MS: i64 = 86_400_000;

async fn summary(app: &TestApp, who: &Who, code: &str) -> serde_json::Value {
    let res = app
        .get(&format!("/api/v1/orgs/{code}/aid/summary"), who)
        .await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.text());
    res.json()
}

/// The id at the end of a redirect's location (`/aid/associations/7` → 7).
fn id_in(res: &crate::support::TestResponse) -> i64 {
    assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.text());
    res.location()
        .and_then(|l| l.rsplit('/').next().and_then(|n| n.parse().ok()))
        .expect("a redirect to the new record")
}

/// A count as the boards show it: `20,318`.
fn thousands(n: i64) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

async fn post_fields(
    app: &TestApp,
    path: &str,
    fields: &[(&'static str, String)],
    who: &Who,
) -> crate::support::TestResponse {
    let f: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (*k, v.as_str())).collect();
    app.post_form(path, &f, who).await
}

async fn loan_row(app: &TestApp, id: i64) -> (String, i64, i64, i64, Option<String>) {
    sqlx::query_as(
        "SELECT stage, scheduled_fen, paid_fen, principal_paid_fen, overdue_since FROM aid_loans WHERE id = $1",
    )
    .bind(id)
    .fetch_one(app.db.pool())
    .await
    .expect("the loan")
}

/// The paid figure the loan row keeps equals what its entries add up to.
async fn books_agree(app: &TestApp, id: i64) {
    let (sum_paid, sum_principal): (Option<i64>, Option<i64>) = sqlx::query_as(
        "SELECT CAST(SUM(interest_fen + principal_fen) AS BIGINT), CAST(SUM(principal_fen) AS BIGINT) FROM aid_loan_entries \
         WHERE loan_id = $1 AND kind IN ('repayment', 'reversal')",
    )
    .bind(id)
    .fetch_one(app.db.pool())
    .await
    .expect("entries");
    let (scheduled,): (Option<i64>,) = sqlx::query_as(
        "SELECT CAST(SUM(principal_fen + interest_fen) AS BIGINT) FROM aid_instalments WHERE loan_id = $1",
    )
    .bind(id)
    .fetch_one(app.db.pool())
    .await
    .expect("schedule");
    let (_, row_scheduled, paid, principal_paid, _) = loan_row(app, id).await;
    assert_eq!(sum_paid.unwrap_or(0), paid);
    assert_eq!(sum_principal.unwrap_or(0), principal_paid);
    assert_eq!(scheduled.unwrap_or(0), row_scheduled);
}

async fn a_credit_loan_goes_from_application_to_repaid_by_the_right_hands(app: TestApp) {
    let secretary = app.login("xinmin.secretary").await;
    let township = app.login("meishan.admin").await;
    let county = app.login("changxing.admin").await;
    let other_township = app.login("miaoxi.admin").await;
    let city = app.token("city.admin").await;
    // The demo's associations are there already: what follows is counted from here.
    let base = summary(&app, &city, MEISHAN).await;
    let grew = |s: &serde_json::Value, key: &str| {
        s[key].as_i64().unwrap_or(0) - base[key].as_i64().unwrap_or(0)
    };

    // The village founds its association and enrols a Party member and a villager she mentors.
    let res = app
        .post_form(
            &format!("/orgs/{XINMIN}/aid/associations"),
            &[
                ("name", "新民村茶叶创业互助会"),
                ("trade", "茶叶种植"),
                ("founded_on", "2014-11-05"),
            ],
            &secretary,
        )
        .await;
    let association = id_in(&res);
    let members = format!("/aid/associations/{association}/members");
    let id_number = with_check_digit("33052219800504101").expect("an ID number");
    let res = app
        .post_form(
            &members,
            &[
                ("name", "周永琴"),
                ("party_member", "1"),
                ("phone", "13905720011"),
                ("joined_on", "2014-11-05"),
                ("households_led", "12"),
            ],
            &secretary,
        )
        .await;
    assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.text());
    let res = app
        .post_form(
            &members,
            &[
                ("name", "周火青"),
                ("id_number", &id_number),
                ("phone", "13905720012"),
                ("in_difficulty", "1"),
                ("helped_on", "2015-12-20"),
                ("change_note", "种茶五十亩，年收入过十万"),
                ("mentor", "周永琴"),
                ("joined_on", "2014-12-01"),
            ],
            &secretary,
        )
        .await;
    assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.text());
    // A mentor who is not a Party member of the association is the form's error.
    let audit = app.audit_count().await;
    let res = app
        .post_form(
            &members,
            &[
                ("name", "沈阿大"),
                ("mentor", "周火青"),
                ("joined_on", "2015-01-01"),
            ],
            &secretary,
        )
        .await;
    assert!(res.status.is_client_error(), "{}", res.status);
    assert_eq!(app.audit_count().await, audit);
    // The ID number and phone are sealed and shown masked, never whole.
    let page = app
        .get(&format!("/aid/associations/{association}"), &township)
        .await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(!page.text().contains(&id_number) && !page.text().contains("13905720012"));
    assert!(page.text().contains("周永琴"), "the mentor is named");
    let stored: (Option<String>,) = sqlx::query_as(
        "SELECT id_sealed FROM aid_members WHERE name = '周火青' AND association_id = $1",
    )
    .bind(association)
    .fetch_one(app.db.pool())
    .await
    .expect("member");
    assert!(stored.0.is_some_and(|s| !s.contains(&id_number)));
    // Another township sees none of it.
    let res = app
        .get(&format!("/aid/associations/{association}"), &other_township)
        .await;
    assert_eq!(res.status, StatusCode::NOT_FOUND);

    // The township sets the programme's terms; a village may not.
    let programme_form = [
        ("name", "梅山镇创业信用贷款"),
        ("limit", "300000"),
        ("rate", "6"),
        ("months", "12"),
        ("method", "equal_instalments"),
    ];
    let res = app
        .post_form(
            &format!("/orgs/{MEISHAN}/aid/programmes"),
            &programme_form,
            &secretary,
        )
        .await;
    assert!(
        matches!(res.status, StatusCode::FORBIDDEN | StatusCode::NOT_FOUND),
        "{}",
        res.status
    );
    let res = app
        .post_form(
            &format!("/orgs/{MEISHAN}/aid/programmes"),
            &programme_form,
            &township,
        )
        .await;
    assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.text());
    let (programme,): (i64,) = sqlx::query_as("SELECT MAX(id) FROM aid_programmes")
        .fetch_one(app.db.pool())
        .await
        .expect("programme");
    let (borrower,): (i64,) =
        sqlx::query_as("SELECT id FROM aid_members WHERE name = '周火青' AND association_id = $1")
            .bind(association)
            .fetch_one(app.db.pool())
            .await
            .expect("borrower");
    let (programme, borrower) = (programme.to_string(), borrower.to_string());
    let apply = |amount: &'static str| {
        vec![
            ("programme", programme.clone()),
            ("borrower", borrower.clone()),
            ("principal", amount.to_string()),
            ("purpose", "五十亩茶园两年的肥料".to_string()),
        ]
    };
    let loans = format!("/aid/associations/{association}/loans");

    // Above the programme's limit: refused, nothing written.
    let audit = app.audit_count().await;
    let res = post_fields(&app, &loans, &apply("300000.01"), &secretary).await;
    assert!(res.status.is_client_error(), "{}", res.status);
    assert_eq!(app.audit_count().await, audit);
    let res = post_fields(&app, &loans, &apply("100000"), &secretary).await;
    let loan = id_in(&res);
    let step = |what: &str| format!("/aid/loans/{loan}/{what}");

    // Maker-checker: the applicant may not review it; the reviewer may not approve it; the
    // approver may not disburse it. Each refusal writes nothing.
    let refused = |res: &crate::support::TestResponse| {
        assert!(
            matches!(res.status, StatusCode::FORBIDDEN | StatusCode::CONFLICT),
            "{} {}",
            res.status,
            res.text()
        );
    };
    let audit = app.audit_count().await;
    refused(&app.post_form(&step("review"), &[], &secretary).await);
    assert_eq!(loan_row(&app, loan).await.0, "applied");
    assert_eq!(app.audit_count().await, audit);
    // Nor can a step be skipped: approval before review.
    refused(&app.post_form(&step("approve"), &[], &county).await);
    assert_eq!(
        app.post_form(&step("review"), &[], &township).await.status,
        StatusCode::SEE_OTHER
    );
    let audit = app.audit_count().await;
    refused(&app.post_form(&step("approve"), &[], &township).await);
    assert_eq!(loan_row(&app, loan).await.0, "reviewed");
    assert_eq!(app.audit_count().await, audit);
    assert_eq!(
        app.post_form(&step("approve"), &[], &county).await.status,
        StatusCode::SEE_OTHER
    );
    let audit = app.audit_count().await;
    refused(
        &app.post_form(&step("disburse"), &[("on", "2016-03-01")], &county)
            .await,
    );
    assert_eq!(loan_row(&app, loan).await.0, "approved");
    assert_eq!(app.audit_count().await, audit);
    // A date in the future is refused too.
    let res = app
        .post_form(&step("disburse"), &[("on", "2016-03-02")], &township)
        .await;
    assert!(res.status.is_client_error(), "{}", res.status);
    let res = app
        .post_form(&step("disburse"), &[("on", "2016-03-01")], &township)
        .await;
    assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.text());
    // The schedule of the worked example: 12 instalments of 8,606.64, the last 8,606.69.
    let (stage, scheduled, ..) = loan_row(&app, loan).await;
    assert_eq!((stage.as_str(), scheduled), ("disbursed", 10_327_973));
    let page = app.get(&format!("/aid/loans/{loan}"), &secretary).await;
    assert!(page.text().contains("2016-04-01") && page.text().contains("¥8,606.64"));
    assert!(page.text().contains("¥8,606.69"));
    let s = summary(&app, &city, MEISHAN).await;
    assert_eq!(
        (
            s["loans"].as_i64(),
            s["lent_fen"].as_i64(),
            s["outstanding_fen"].as_i64()
        ),
        (Some(1), Some(10_000_000), Some(10_000_000)),
        "{s}"
    );

    // The first instalment is paid; an overpayment is refused with what is owed.
    let repay = step("repay");
    let res = app
        .post_form(
            &repay,
            &[("amount", "8606.64"), ("on", "2016-03-01")],
            &secretary,
        )
        .await;
    assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.text());
    let audit = app.audit_count().await;
    let res = app
        .post_form(
            &repay,
            &[("amount", "100000"), ("on", "2016-03-01")],
            &secretary,
        )
        .await;
    assert!(res.status.is_client_error());
    assert!(res.text().contains("94673.09"), "says what is owed");
    assert_eq!(app.audit_count().await, audit);
    books_agree(&app, loan).await;

    // The second instalment (due 2016-05-01) is missed: on 2 May the loan is overdue, and on
    // the task list of the township officer who disbursed it.
    app.clock.advance_ms(62 * DAY_MS);
    baiqian_web::daily::mark_overdue_if_new_day(&app.state, None).await;
    // Two months on, everyone signs in again.
    let secretary = app.login("xinmin.secretary").await;
    let township = app.login("meishan.admin").await;
    let county = app.login("changxing.admin").await;
    let city = app.token("city.admin").await;
    let (stage, .., overdue) = loan_row(&app, loan).await;
    assert_eq!(
        (stage.as_str(), overdue.as_deref()),
        ("disbursed", Some("2016-05-02"))
    );
    assert_eq!(grew(&summary(&app, &city, MEISHAN).await, "overdue"), 1);
    let tasks = app.get("/api/v1/me/tasks", &township).await.json();
    let task = tasks["items"]
        .as_array()
        .and_then(|t| t.iter().find(|t| t["kind"] == "loan_overdue").cloned())
        .unwrap_or_else(|| panic!("the officer's task in {tasks}"));
    assert_eq!(task["url"], format!("/aid/loans/{loan}"));
    let tasks = app.get("/api/v1/me/tasks", &county).await.json();
    assert!(
        !tasks.to_string().contains("loan_overdue"),
        "only the officer's"
    );

    // A repayment entered in error: its recorder may not reverse it; another hand does, with a
    // reason. The entry stays; the books go back.
    let res = app
        .post_form(
            &repay,
            &[("amount", "8606.64"), ("on", "2016-05-02")],
            &secretary,
        )
        .await;
    assert_eq!(res.status, StatusCode::SEE_OTHER);
    assert_eq!(loan_row(&app, loan).await.4, None, "caught up");
    let (entry,): (i64,) = sqlx::query_as(
        "SELECT MAX(id) FROM aid_loan_entries WHERE loan_id = $1 AND kind = 'repayment'",
    )
    .bind(loan)
    .fetch_one(app.db.pool())
    .await
    .expect("entry");
    let entry = entry.to_string();
    let audit = app.audit_count().await;
    refused(
        &app.post_form(
            &step("reverse"),
            &[("entry", &entry), ("reason", "金额录错")],
            &secretary,
        )
        .await,
    );
    assert_eq!(app.audit_count().await, audit);
    let res = app
        .post_form(&step("reverse"), &[("entry", &entry)], &township)
        .await;
    assert!(res.status.is_client_error(), "a reason is required");
    let res = app
        .post_form(
            &step("reverse"),
            &[("entry", &entry), ("reason", "金额录错")],
            &township,
        )
        .await;
    assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.text());
    let (_, _, paid, _, overdue) = loan_row(&app, loan).await;
    assert_eq!((paid, overdue.as_deref()), (860_664, Some("2016-05-02")));
    books_agree(&app, loan).await;
    // Twice is refused.
    refused(
        &app.post_form(
            &step("reverse"),
            &[("entry", &entry), ("reason", "金额录错")],
            &township,
        )
        .await,
    );
    // The ledger is append-only, even to the application's own connection.
    assert!(
        sqlx::query("UPDATE aid_loan_entries SET amount_fen = 0")
            .execute(app.db.pool())
            .await
            .is_err()
    );
    assert!(
        sqlx::query("DELETE FROM aid_loan_entries")
            .execute(app.db.pool())
            .await
            .is_err()
    );

    // The rest is paid: repaid, nothing outstanding, and no further repayment taken.
    let res = app
        .post_form(
            &repay,
            &[("amount", "94673.09"), ("on", "2016-05-02")],
            &secretary,
        )
        .await;
    assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.text());
    let (stage, scheduled, paid, principal_paid, overdue) = loan_row(&app, loan).await;
    assert_eq!(stage, "repaid");
    assert_eq!(
        (paid, principal_paid, overdue),
        (scheduled, 10_000_000, None)
    );
    books_agree(&app, loan).await;
    let res = app
        .post_form(&repay, &[("amount", "1"), ("on", "2016-05-02")], &secretary)
        .await;
    assert_eq!(res.status, StatusCode::CONFLICT, "{}", res.text());
    let s = summary(&app, &city, MEISHAN).await;
    assert_eq!(
        (
            grew(&s, "loans"),
            grew(&s, "outstanding_fen"),
            grew(&s, "overdue")
        ),
        (1, 0, 0),
        "{s}"
    );
    assert_eq!((grew(&s, "associations"), grew(&s, "members")), (1, 2));
    assert_eq!((grew(&s, "helped"), grew(&s, "households_led")), (1, 12));
    // Every step is in the audit log under the loan.
    let (steps,): (i64,) = sqlx::query_as(
        "SELECT COUNT(*) FROM audit_log WHERE entity = 'aid_loan' AND entity_key LIKE $1",
    )
    .bind(format!("#{loan}%"))
    .fetch_one(app.db.pool())
    .await
    .expect("audit");
    // apply, review, approve, disburse, three repayments, overdue, reversal.
    assert_eq!(steps, 9);
}
both!(a_credit_loan_goes_from_application_to_repaid_by_the_right_hands);

async fn a_grant_is_paid_out_of_a_fund_that_reconciles(app: TestApp) {
    let secretary = app.login("xinmin.secretary").await;
    let township = app.login("meishan.admin").await;
    let res = app
        .post_form(
            &format!("/orgs/{XINMIN}/aid/associations"),
            &[
                ("name", "新民村茶农互助会"),
                ("trade", "茶叶"),
                ("founded_on", "2015-01-10"),
            ],
            &secretary,
        )
        .await;
    let association = id_in(&res);
    let res = app
        .post_form(
            &format!("/aid/associations/{association}/members"),
            &[
                ("name", "朱吉利"),
                ("in_difficulty", "1"),
                ("joined_on", "2015-01-10"),
            ],
            &secretary,
        )
        .await;
    assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.text());
    let (member,): (i64,) = sqlx::query_as("SELECT MAX(id) FROM aid_members WHERE name = '朱吉利'")
        .fetch_one(app.db.pool())
        .await
        .expect("member");
    let member = member.to_string();
    let res = app
        .post_form(
            &format!("/aid/associations/{association}/funds"),
            &[
                ("amount", "10000"),
                ("source", "梅山镇党委"),
                ("on", "2015-02-01"),
            ],
            &secretary,
        )
        .await;
    assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.text());
    let grants = format!("/aid/associations/{association}/grants");
    for amount in ["6000", "5000"] {
        let res = app
            .post_form(
                &grants,
                &[
                    ("beneficiary", &member),
                    ("purpose", "两年茶园肥料"),
                    ("amount", amount),
                ],
                &secretary,
            )
            .await;
        assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.text());
    }
    let ids: Vec<(i64,)> =
        sqlx::query_as("SELECT id FROM aid_grants WHERE association_id = $1 ORDER BY id")
            .bind(association)
            .fetch_all(app.db.pool())
            .await
            .expect("grants");
    let (first, second) = (ids[0].0, ids[1].0);
    // A village secretary may not approve; the township does; the approver may not pay.
    let audit = app.audit_count().await;
    let res = app
        .post_form(&format!("/aid/grants/{first}/approve"), &[], &secretary)
        .await;
    assert_eq!(res.status, StatusCode::FORBIDDEN);
    for id in [first, second] {
        let res = app
            .post_form(&format!("/aid/grants/{id}/approve"), &[], &township)
            .await;
        assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.text());
    }
    let audit_after = app.audit_count().await;
    assert_eq!(audit_after, audit + 2);
    let res = app
        .post_form(
            &format!("/aid/grants/{first}/pay"),
            &[("on", "2015-03-01")],
            &township,
        )
        .await;
    assert_eq!(res.status, StatusCode::FORBIDDEN, "{}", res.text());
    assert_eq!(app.audit_count().await, audit_after);
    let res = app
        .post_form(
            &format!("/aid/grants/{first}/pay"),
            &[("on", "2015-03-01")],
            &secretary,
        )
        .await;
    assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.text());
    // The second would overdraw the fund: refused, saying what it holds.
    let res = app
        .post_form(
            &format!("/aid/grants/{second}/pay"),
            &[("on", "2015-03-01")],
            &secretary,
        )
        .await;
    assert_eq!(res.status, StatusCode::CONFLICT);
    assert!(res.text().contains("4000"), "{}", res.text());
    let fund = app.db.fund_of(association).await.expect("fund");
    assert_eq!(
        (
            fund.received.0,
            fund.paid.0,
            fund.balance.0,
            fund.grants_paid.0
        ),
        (1_000_000, 600_000, 400_000, 600_000)
    );
    assert!(fund.reconciles());
    let page = app
        .get(&format!("/aid/associations/{association}"), &township)
        .await;
    assert!(page.text().contains("¥4,000") && !page.text().contains("fund-unreconciled"));
    let res = app
        .post_form(
            &format!("/aid/grants/{first}/outcome"),
            &[("outcome", "五十亩茶园增收两成")],
            &secretary,
        )
        .await;
    assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.text());
    let city = app.token("city.admin").await;
    let s = summary(&app, &city, XINMIN).await;
    assert_eq!(
        (s["grants_paid"].as_i64(), s["grants_paid_fen"].as_i64()),
        (Some(1), Some(600_000)),
        "新民村's association in the demo has no grant"
    );
}
both!(a_grant_is_paid_out_of_a_fund_that_reconciles);

async fn the_demo_has_the_articles_associations(app: TestApp) {
    use crate::support::codes::{CITY, LONGSHAN, TONGQIAO};
    let city = app.token("city.admin").await;
    let s = summary(&app, &city, CITY).await;
    assert_eq!(s["associations"], 810, "{s}");
    assert!(s["members"].as_i64().unwrap_or(0) >= 20_000, "{s}");
    assert!(s["helped"].as_i64().unwrap_or(0) >= 2_300, "{s}");
    assert_eq!(
        (&s["cooperatives"], &s["leading_firms"], &s["startup_bases"]),
        (&358.into(), &120.into(), &356.into()),
        "{s}"
    );
    // The city's table by county shows each county's own figures.
    let board = app.get(&format!("/orgs/{CITY}/aid"), &city).await;
    let mut counted = 0;
    for county in ["330502", "330503", "330521", "330522", "330523"] {
        let c = summary(&app, &city, county).await;
        let row = board
            .between(&format!("/orgs/{county}/aid\">"), "</tr>")
            .unwrap_or_default();
        assert!(
            row.contains(&format!(
                ">{}</td>",
                thousands(c["members"].as_i64().unwrap_or(-1))
            )),
            "{county}: {row} against {c}"
        );
        counted += c["associations"].as_i64().unwrap_or(0);
    }
    assert_eq!(counted, 810);
    // The charts draw the same figures, each bar opening the child's list.
    let members = app
        .get(&format!("/orgs/{CITY}/aid/chart/members"), &city)
        .await
        .json();
    let total: f64 = members["series"][0]["values"]
        .as_array()
        .map(|v| v.iter().filter_map(|x| x.as_f64()).sum())
        .unwrap_or(0.0);
    assert_eq!(Some(total as i64), s["members"].as_i64(), "{members}");
    assert_eq!(
        members["series"][1]["links"][0],
        "/orgs/330502/aid?list=helped"
    );
    let loans = app
        .get(&format!("/orgs/{CITY}/aid/chart/loans"), &city)
        .await
        .json();
    let lent: f64 = loans["series"][0]["values"]
        .as_array()
        .map(|v| v.iter().filter_map(|x| x.as_f64()).sum())
        .unwrap_or(0.0);
    assert_eq!(lent, 534.0, "5,340,000 yuan is 534 万元: {loans}");
    assert_eq!(
        app.get(&format!("/orgs/{CITY}/aid/chart/nope"), &city)
            .await
            .status,
        StatusCode::NOT_FOUND
    );
    // 新市镇's four lend: 43 borrowers, 5,000,000+ yuan since November 2014, some repaid,
    // two overdue on the demo's today.
    let xinshi = baiqian_demo::aid::XINSHI;
    let x = summary(&app, &city, xinshi).await;
    // The township's own four (its villages have theirs too), and all the loans are theirs.
    let (own,): (i64,) =
        sqlx::query_as("SELECT COUNT(*) FROM aid_associations WHERE org_code = $1")
            .bind(xinshi)
            .fetch_one(app.db.pool())
            .await
            .expect("associations");
    assert_eq!((own, &x["loans"]), (4, &43.into()), "{x}");
    assert!(x["lent_fen"].as_i64().unwrap_or(0) >= 500_000_000, "{x}");
    assert_eq!(x["overdue"], 2, "{x}");
    // They wait on the list of the township's loan officer, who disbursed them.
    let officer = app.login("xinshi.admin").await;
    let tasks = app.get("/api/v1/me/tasks", &officer).await.json();
    let overdue = tasks["items"].as_array().map_or(0, |t| {
        t.iter().filter(|t| t["kind"] == "loan_overdue").count()
    });
    assert_eq!(overdue, 2, "{tasks}");
    let (borrowers, first): (i64, String) = sqlx::query_as(
        "SELECT COUNT(DISTINCT borrower_id), MIN(disbursed_on) FROM aid_loans WHERE org_path LIKE $1",
    )
    .bind(format!("%/{xinshi}/%"))
    .fetch_one(app.db.pool())
    .await
    .expect("loans");
    assert_eq!(borrowers, 43);
    assert!(first.starts_with("2014-11"), "{first}");
    // Every figure of the board opens a list of that many.
    for (list, figure) in [("overdue", &x["overdue"]), ("lent", &x["loans"])] {
        let page = app
            .get(&format!("/orgs/{xinshi}/aid?list={list}"), &city)
            .await;
        assert_eq!(page.status, StatusCode::OK);
        let head = page
            .between("id=\"list-head\"", "</h2>")
            .unwrap_or_default();
        assert!(
            head.contains(&format!(">{figure}</small>")),
            "{list}: {head}"
        );
    }
    let repaid = app
        .get(&format!("/orgs/{xinshi}/aid?list=repaid"), &city)
        .await;
    let rows = repaid
        .between("id=\"aid-list\"", "</table>")
        .unwrap_or_default()
        .matches("<tr>")
        .count();
    assert!(rows > 1, "some are repaid");
    // Each loan's books equal its entries.
    let loans: Vec<(i64,)> = sqlx::query_as("SELECT id FROM aid_loans")
        .fetch_all(app.db.pool())
        .await
        .expect("loans");
    for (id,) in loans {
        books_agree(&app, id).await;
    }
    // 龙山村's 6,000 yuan to 朱吉利, out of a fund that reconciles.
    let l = summary(&app, &city, LONGSHAN).await;
    assert_eq!(
        (&l["grants_paid"], &l["grants_paid_fen"]),
        (&1.into(), &600_000.into())
    );
    let (association,): (i64,) = sqlx::query_as(
        "SELECT g.association_id FROM aid_grants g JOIN aid_members m ON m.id = g.beneficiary_id WHERE m.name = '朱吉利'",
    )
    .fetch_one(app.db.pool())
    .await
    .expect("朱吉利's grant");
    assert!(
        app.db
            .fund_of(association)
            .await
            .expect("fund")
            .reconciles()
    );
    // 潼桥村: 周火青 mentored by 周永琴, the incubation base.
    let (tongqiao,): (i64,) = sqlx::query_as("SELECT id FROM aid_associations WHERE org_code = $1")
        .bind(TONGQIAO)
        .fetch_one(app.db.pool())
        .await
        .expect("潼桥村's association");
    let page = app
        .get(&format!("/aid/associations/{tongqiao}"), &city)
        .await;
    let row = page.between("周火青</th>", "</tr>").unwrap_or_default();
    assert!(row.contains("周永琴"), "{row}");
    assert!(page.text().contains("潼桥村创业孵化基地"));
}
both!(the_demo_has_the_articles_associations);

/// The tallies each association keeps equal what its rows give, after the demo's load and
/// after the forms' writes (the boards sum the tallies).
async fn the_tallies_equal_the_rows(app: TestApp) {
    let secretary = app.login("xinmin.secretary").await;
    let res = app
        .post_form(
            &format!("/orgs/{XINMIN}/aid/associations"),
            &[
                ("name", "新民村竹木互助会"),
                ("trade", "竹木加工"),
                ("founded_on", "2015-05-01"),
            ],
            &secretary,
        )
        .await;
    let association = id_in(&res);
    for (name, helped) in [("沈一", ""), ("沈二", "2016-01-01")] {
        let res = app
            .post_form(
                &format!("/aid/associations/{association}/members"),
                &[
                    ("name", name),
                    ("in_difficulty", "1"),
                    ("helped_on", helped),
                    ("households_led", "3"),
                    ("joined_on", "2015-05-01"),
                ],
                &secretary,
            )
            .await;
        assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.text());
    }
    let res = app
        .post_form(
            &format!("/aid/associations/{association}/projects"),
            &[
                ("kind", "cooperative"),
                ("name", "竹木专业合作社"),
                ("founded_on", "2015-09-01"),
            ],
            &secretary,
        )
        .await;
    assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.text());
    let (off,): (i64,) = sqlx::query_as(
        "SELECT COUNT(*) FROM aid_associations a WHERE \
         a.t_members <> (SELECT COUNT(*) FROM aid_members m WHERE m.association_id = a.id) \
         OR a.t_helped <> (SELECT COUNT(*) FROM aid_members m WHERE m.association_id = a.id AND m.helped_on IS NOT NULL) \
         OR a.t_households_led <> COALESCE((SELECT SUM(m.households_led) FROM aid_members m WHERE m.association_id = a.id), 0) \
         OR a.t_loans <> (SELECT COUNT(*) FROM aid_loans l WHERE l.association_id = a.id AND l.stage IN ('disbursed', 'repaid')) \
         OR a.t_outstanding_fen <> COALESCE((SELECT SUM(l.principal_fen - l.principal_paid_fen) FROM aid_loans l WHERE l.association_id = a.id AND l.stage = 'disbursed'), 0) \
         OR a.t_overdue <> (SELECT COUNT(*) FROM aid_loans l WHERE l.association_id = a.id AND l.stage = 'disbursed' AND l.overdue_since IS NOT NULL) \
         OR a.t_cooperatives <> (SELECT COUNT(*) FROM aid_projects p WHERE p.association_id = a.id AND p.kind = 'cooperative') \
         OR a.t_grants_paid_fen <> COALESCE((SELECT SUM(g.amount_fen) FROM aid_grants g WHERE g.association_id = a.id AND g.stage = 'paid'), 0)",
    )
    .fetch_one(app.db.pool())
    .await
    .expect("tallies");
    assert_eq!(off, 0);
    let (members, helped, led, coops): (i64, i64, i64, i64) = sqlx::query_as(
        "SELECT t_members, t_helped, t_households_led, t_cooperatives FROM aid_associations WHERE id = $1",
    )
    .bind(association)
    .fetch_one(app.db.pool())
    .await
    .expect("the new association");
    assert_eq!((members, helped, led, coops), (2, 1, 6, 1));
}
both!(the_tallies_equal_the_rows);

/// Out of scope nothing is there, and bad input is refused with nothing written: 长兴县's
/// administration asks for 新市镇's loans and 龙山村's grant (other counties), every route.
async fn other_places_reach_none_of_it_and_bad_input_writes_nothing(app: TestApp) {
    use crate::support::codes::LONGSHAN;
    let xinshi = baiqian_demo::aid::XINSHI;
    let changxing = app.login("changxing.admin").await;
    let (loan,): (i64,) = sqlx::query_as("SELECT MIN(id) FROM aid_loans WHERE stage = 'disbursed'")
        .fetch_one(app.db.pool())
        .await
        .expect("a loan");
    let (grant, association): (i64, i64) =
        sqlx::query_as("SELECT id, association_id FROM aid_grants WHERE org_path LIKE $1")
            .bind(format!("%/{LONGSHAN}/%"))
            .fetch_one(app.db.pool())
            .await
            .expect("龙山村's grant");
    let audit = app.audit_count().await;
    for url in [
        format!("/aid/loans/{loan}"),
        format!("/aid/associations/{association}"),
        format!("/orgs/{xinshi}/aid"),
        format!("/orgs/{xinshi}/aid/loans.xlsx"),
        format!("/orgs/{xinshi}/aid/members.xlsx"),
        format!("/orgs/{xinshi}/aid/chart/loans"),
        format!("/api/v1/orgs/{xinshi}/aid/summary"),
    ] {
        assert_eq!(
            app.get(&url, &changxing).await.status,
            StatusCode::NOT_FOUND,
            "{url}"
        );
    }
    for (url, fields) in [
        (format!("/aid/loans/{loan}/review"), vec![]),
        (
            format!("/aid/loans/{loan}/repay"),
            vec![("amount", "100"), ("on", "2016-02-29")],
        ),
        (
            format!("/aid/loans/{loan}/reverse"),
            vec![("entry", "1"), ("reason", "录错")],
        ),
        (format!("/aid/grants/{grant}/approve"), vec![]),
        (
            format!("/aid/grants/{grant}/outcome"),
            vec![("outcome", "增收")],
        ),
        (
            format!("/aid/associations/{association}/members"),
            vec![("name", "外来人"), ("joined_on", "2016-01-01")],
        ),
        (
            format!("/aid/associations/{association}/funds"),
            vec![
                ("amount", "100"),
                ("source", "长兴县"),
                ("on", "2016-01-01"),
            ],
        ),
        (
            format!("/orgs/{xinshi}/aid/programmes"),
            vec![
                ("name", "外县项目"),
                ("limit", "1000"),
                ("rate", "5"),
                ("months", "12"),
                ("method", "equal_instalments"),
            ],
        ),
    ] {
        let res = app.post_form(&url, &fields, &changxing).await;
        assert_eq!(res.status, StatusCode::NOT_FOUND, "{url}");
    }
    assert_eq!(app.audit_count().await, audit);

    // In its own county, bad input: each refused as the form's error, nothing written.
    let programmes = "/orgs/330522/aid/programmes";
    for (limit, rate, months, method) in [
        ("abc", "5", "12", "equal_instalments"),
        ("300000", "30", "12", "equal_instalments"),
        ("300000", "5", "0", "equal_instalments"),
        ("300000", "5", "12", "weekly"),
    ] {
        let res = app
            .post_form(
                programmes,
                &[
                    ("name", "长兴县创业贷"),
                    ("limit", limit),
                    ("rate", rate),
                    ("months", months),
                    ("method", method),
                ],
                &changxing,
            )
            .await;
        assert!(
            res.status.is_client_error(),
            "{limit} {rate} {months} {method}: {}",
            res.status
        );
    }
    let secretary = app.login("xinmin.secretary").await;
    for fields in [
        vec![
            ("name", "新民村互助会甲"),
            ("trade", "茶"),
            ("founded_on", "2015-01-01"),
        ],
        vec![
            ("name", "新民村互助会乙"),
            ("trade", "茶叶"),
            ("founded_on", "2016-03-02"),
        ],
        vec![
            ("name", "新"),
            ("trade", "茶叶"),
            ("founded_on", "2015-01-01"),
        ],
    ] {
        let res = app
            .post_form(
                &format!("/orgs/{XINMIN}/aid/associations"),
                &fields,
                &secretary,
            )
            .await;
        assert!(res.status.is_client_error(), "{fields:?}: {}", res.status);
    }
    let res = app
        .post_form(
            &format!("/aid/loans/{loan}/repay"),
            &[("amount", "0"), ("on", "2016-02-29")],
            &changxing,
        )
        .await;
    assert_eq!(res.status, StatusCode::NOT_FOUND, "not theirs either");
    assert_eq!(app.audit_count().await, audit);
}
both!(other_places_reach_none_of_it_and_bad_input_writes_nothing);
