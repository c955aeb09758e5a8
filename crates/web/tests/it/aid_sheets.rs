//! The associations' sheets: repayments posted from an officer's own `.xlsx` (a title line, their
//! header words, loans by number with the borrower as a check). A bad row rejects the whole file
//! and writes nothing; asked for the good rows, exactly those are posted, each loan's books
//! equal to its entries afterwards.

use axum::http::StatusCode;

use crate::both;
use crate::support::{TestApp, xlsx};

/// 新市镇's loans being repaid: (id, borrower, what is owed, fen).
async fn open_loans(app: &TestApp) -> Vec<(i64, String, i64)> {
    sqlx::query_as(
        "SELECT l.id, m.name, l.scheduled_fen - l.paid_fen FROM aid_loans l \
         JOIN aid_members m ON m.id = l.borrower_id WHERE l.stage = 'disbursed' ORDER BY l.id",
    )
    .fetch_all(app.db.pool())
    .await
    .expect("loans")
}

async fn entries(app: &TestApp) -> i64 {
    let (n,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM aid_loan_entries")
        .fetch_one(app.db.pool())
        .await
        .expect("entries");
    n
}

fn yuan(fen: i64) -> String {
    format!("{}.{:02}", fen / 100, fen % 100)
}

async fn repayments_come_in_from_an_officers_sheet(app: TestApp) {
    let xinshi = baiqian_demo::aid::XINSHI;
    let url = format!("/orgs/{xinshi}/aid/repayments/import");
    let city = app.login("city.admin").await;
    let page = app.get(&url, &city).await;
    assert_eq!(page.status, StatusCode::OK);
    let loans = open_loans(&app).await;
    assert!(loans.len() >= 3, "{loans:?}");
    let (a, b, c) = (&loans[0], &loans[1], &loans[2]);
    let rows = |bad: bool| -> Vec<Vec<String>> {
        let mut rows = vec![
            vec!["新市镇互助会还款登记表（2016年2月）".to_string()],
            vec![
                "借据号".into(),
                "户名".into(),
                "入账日期".into(),
                "金额".into(),
            ],
            vec![
                format!("#{}", a.0),
                a.1.clone(),
                "2016-02-29".into(),
                "1000".into(),
            ],
            vec![
                b.0.to_string(),
                String::new(),
                "2016/2/28".into(),
                yuan(b.2),
            ],
        ];
        if bad {
            // More than is owed, a borrower who is not the loan's, a day to come, no such loan.
            rows.push(vec![
                c.0.to_string(),
                String::new(),
                "2016-02-29".into(),
                yuan(c.2 + 1),
            ]);
            rows.push(vec![
                c.0.to_string(),
                "王五".into(),
                "2016-02-29".into(),
                "10".into(),
            ]);
            rows.push(vec![
                c.0.to_string(),
                String::new(),
                "2016-03-02".into(),
                "10".into(),
            ]);
            rows.push(vec![
                "99999".into(),
                String::new(),
                "2016-02-29".into(),
                "10".into(),
            ]);
        }
        rows
    };
    let file = |rows: Vec<Vec<String>>| {
        let r: Vec<Vec<&str>> = rows
            .iter()
            .map(|r| r.iter().map(String::as_str).collect())
            .collect();
        xlsx(&r)
    };
    let (audit, before) = (app.audit_count().await, entries(&app).await);
    let res = app.post_file(&url, &file(rows(true)), "all", &city).await;
    assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY);
    let report = res
        .between("id=\"import-report\"", "</table>")
        .unwrap_or_default();
    for (row, column) in [
        (5, "还款金额"),
        (6, "借款人"),
        (7, "还款日期"),
        (8, "贷款编号"),
    ] {
        assert!(
            report.contains(&format!(">{row}</td>")) && report.contains(column),
            "row {row} {column}: {report}"
        );
    }
    assert!(
        report.contains("The borrower does not match"),
        "in English too"
    );
    assert_eq!(
        (app.audit_count().await, entries(&app).await),
        (audit, before)
    );
    // The good rows only: two repayments, b repaid in full.
    let res = app
        .post_file(&url, &file(rows(true)), "good_rows", &city)
        .await;
    assert_eq!(
        res.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "still reports the bad rows"
    );
    assert!(
        res.text().contains("id=\"import-result\""),
        "{}",
        res.text()
    );
    assert_eq!(entries(&app).await, before + 2);
    assert_eq!(app.audit_count().await, audit + 1);
    let (stage,): (String,) = sqlx::query_as("SELECT stage FROM aid_loans WHERE id = $1")
        .bind(b.0)
        .fetch_one(app.db.pool())
        .await
        .expect("b");
    assert_eq!(stage, "repaid");
    for id in [a.0, b.0] {
        let (paid, from_entries): (i64, Option<i64>) = sqlx::query_as(
            "SELECT l.paid_fen, (SELECT CAST(SUM(e.interest_fen + e.principal_fen) AS BIGINT) \
             FROM aid_loan_entries e WHERE e.loan_id = l.id AND e.kind <> 'disbursement') \
             FROM aid_loans l WHERE l.id = $1",
        )
        .bind(id)
        .fetch_one(app.db.pool())
        .await
        .expect("books");
        assert_eq!(Some(paid), from_entries);
    }
    // Outside one's area the loans are not there: 长兴县's administration posts nothing.
    let changxing = app.login("changxing.admin").await;
    let res = app
        .post_file(
            &format!("/orgs/{xinshi}/aid/repayments/import"),
            &file(rows(false)),
            "all",
            &changxing,
        )
        .await;
    assert_eq!(res.status, StatusCode::NOT_FOUND);
    let res = app
        .post_file(
            "/orgs/330522/aid/repayments/import",
            &file(rows(false)),
            "all",
            &changxing,
        )
        .await;
    assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(entries(&app).await, before + 2);
}
both!(repayments_come_in_from_an_officers_sheet);

/// The ledgers go out as Excel: each export holds the rows its board figure counts, and the
/// loans' sheet, its 贷款编号 column kept and a repayment typed into a copy, posts back.
async fn the_ledgers_go_out_and_the_loans_come_back(app: TestApp) {
    let xinshi = baiqian_demo::aid::XINSHI;
    let city = app.login("city.admin").await;
    let summary = app
        .get(&format!("/api/v1/orgs/{xinshi}/aid/summary"), &city)
        .await
        .json();
    for (file, figure) in [
        ("associations", &summary["associations"]),
        ("members", &summary["members"]),
        ("loans", &summary["loans"]),
    ] {
        let res = app
            .get(&format!("/orgs/{xinshi}/aid/{file}.xlsx"), &city)
            .await;
        assert_eq!(res.status, StatusCode::OK, "{file}");
        let table = baiqian_web::excel::read_first_sheet(&res.body).expect("a workbook");
        // A title line, the header, then one row each.
        assert_eq!(Some((table.len() - 2) as i64), figure.as_i64(), "{file}");
    }
    let res = app
        .get(
            &format!("/orgs/{xinshi}/aid/loans.xlsx?list=outstanding"),
            &city,
        )
        .await;
    let table = baiqian_web::excel::read_first_sheet(&res.body).expect("a workbook");
    assert_eq!(table[1][0], "贷款编号");
    assert!(table[1].iter().any(|h| h == "借款人"));
    // The officer keeps the number and the name, and types the day and the amount.
    let rows: Vec<Vec<String>> = vec![
        table[0].clone(),
        vec![
            "贷款编号".into(),
            "借款人".into(),
            "还款日期".into(),
            "还款金额".into(),
        ],
        vec![
            table[2][0].clone(),
            table[2][1].clone(),
            "2016-02-29".into(),
            "500".into(),
        ],
    ];
    let r: Vec<Vec<&str>> = rows
        .iter()
        .map(|r| r.iter().map(String::as_str).collect())
        .collect();
    let before = entries(&app).await;
    let res = app
        .post_file(
            &format!("/orgs/{xinshi}/aid/repayments/import"),
            &xlsx(&r),
            "all",
            &city,
        )
        .await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.text());
    assert_eq!(entries(&app).await, before + 1);
}
both!(the_ledgers_go_out_and_the_loans_come_back);
