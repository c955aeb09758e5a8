//! Long imports and exports as jobs (后台任务), and the files officials have that Rust cannot
//! write: an `.xls` roster from old Excel, a password-protected workbook, formula cells.

use axum::http::StatusCode;
use baiqian_domain::member::with_check_digit;
use baiqian_store::job::JobKind;
use rust_xlsxwriter::{Formula, Workbook};

use crate::both;
use crate::support::codes::*;
use crate::support::{TestApp, Who};

const XLS_ROSTER: &[u8] = include_bytes!("../fixtures/roster.xls");
const PROTECTED_XLSX: &[u8] = include_bytes!("../fixtures/protected.xlsx");

fn id_number(birth: &str, seq: usize) -> String {
    (seq..seq + 50)
        .filter_map(|s| with_check_digit(&format!("330522{birth}{s:03}")))
        .find(|id| !id.ends_with('X'))
        .expect("an ID number")
}

/// A roster of `n` people in 新民村 under a title line, as a job would get it.
fn roster(n: usize, bad_row: Option<usize>) -> Vec<u8> {
    let mut wb = Workbook::new();
    let ws = wb.add_worksheet();
    ws.write_string(0, 0, "新民村党员花名册").unwrap();
    for (c, h) in ["姓名", "公民身份号码", "入党时间", "所在党组织"]
        .iter()
        .enumerate()
    {
        ws.write_string(1, c as u16, *h).unwrap();
    }
    for i in 0..n {
        let r = 2 + i as u32;
        ws.write_string(r, 0, format!("测试{i:04}")).unwrap();
        let id = if bad_row == Some(i) {
            "33052219800101000".to_string()
        } else {
            id_number(
                &format!("1980{:02}{:02}", 1 + i % 12, 1 + i / 12 % 28),
                i % 900,
            )
        };
        ws.write_string(r, 1, id).unwrap();
        ws.write_string(r, 2, "2001-07-01").unwrap();
        ws.write_string(r, 3, "新民村").unwrap();
    }
    wb.save_to_buffer().unwrap()
}

async fn start_import(app: &TestApp, file: &[u8], mode: &str, who: &Who) -> i64 {
    let res = app
        .post_multipart(
            &format!("/api/v1/orgs/{XINMIN}/members/import-jobs"),
            &[("mode", mode)],
            &[("file", "花名册.xlsx", file)],
            who,
        )
        .await;
    assert_eq!(res.status, StatusCode::ACCEPTED, "{}", res.text());
    let body = res.json();
    assert_eq!(
        body["url"],
        format!("/api/v1/jobs/{}", body["id"]),
        "{body}"
    );
    body["id"].as_i64().unwrap()
}

async fn an_import_job_reports_progress_and_its_outcome(app: TestApp) {
    let town = app.token("meishan.admin").await;
    let before = app.node(XINMIN).await.member_count;
    let audits = app.audit_count().await;
    let job = start_import(&app, &roster(1500, None), "all", &town).await;
    let done = app.finished_job(job, &town).await;
    assert_eq!(done["status"], "done", "{done}");
    assert_eq!(done["kind"], "member_import");
    assert_eq!(done["created"], 1500, "{done}");
    assert_eq!(done["rows_done"], 1500, "{done}");
    assert_eq!(done["rows_found"], 1500, "{done}");
    assert_eq!(done["error_count"], 0);
    assert_eq!(app.node(XINMIN).await.member_count, before + 1500);
    assert_eq!(
        app.audit_count().await,
        audits + 1500,
        "one audit row a member"
    );
    // The page says the same.
    let page = app.get(&format!("/jobs/{job}"), &town).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(
        page.text().contains("id=\"import-result\""),
        "{}",
        page.text()
    );
    // Nobody else sees it, not even someone above.
    let city = app.token("city.admin").await;
    assert_eq!(
        app.get(&format!("/api/v1/jobs/{job}"), &city).await.status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        app.get(&format!("/jobs/{job}"), &city).await.status,
        StatusCode::NOT_FOUND
    );

    // The same people again, all or nothing, one bad ID besides: nothing written, every row said.
    let audits = app.audit_count().await;
    let job = start_import(&app, &roster(1500, Some(700)), "all", &town).await;
    let done = app.finished_job(job, &town).await;
    assert_eq!(done["status"], "done", "{done}");
    assert_eq!(done["created"], 0, "{done}");
    // 1,499 already on the roster; the bad number also leaves gender and birth date unknown.
    assert_eq!(done["error_count"], 1499 + 3, "{done}");
    assert_eq!(
        done["errors"].as_array().unwrap().len(),
        baiqian_web::job::MAX_REPORTED,
        "the first bad rows kept"
    );
    assert_eq!(done["errors"][0]["row"], 3, "{}", done["errors"][0]);
    assert_eq!(app.node(XINMIN).await.member_count, before + 1500);
    assert_eq!(app.audit_count().await, audits, "nothing written");
    let page = app.get(&format!("/jobs/{job}"), &town).await.text();
    assert!(page.contains("id=\"import-rejected\""), "{page}");
}
both!(an_import_job_reports_progress_and_its_outcome);

async fn an_export_job_writes_the_roster_the_page_lists(app: TestApp) {
    let town = app.token("meishan.admin").await;
    let res = app
        .post_json(
            &format!("/api/v1/orgs/{MEISHAN}/members/export-jobs"),
            &serde_json::json!({}),
            &town,
        )
        .await;
    assert_eq!(res.status, StatusCode::ACCEPTED, "{}", res.text());
    let job = res.json()["id"].as_i64().unwrap();
    let done = app.finished_job(job, &town).await;
    assert_eq!(done["status"], "done", "{done}");
    let url = done["download"].as_str().expect("a file").to_string();
    let file = app.get(&url, &town).await;
    assert_eq!(file.status, StatusCode::OK);
    let table = baiqian_web::excel::read_first_sheet(&file.body).unwrap();
    let listed = app
        .db
        .members_under(
            &baiqian_domain::scope::Scope::everything(),
            &baiqian_domain::org::OrgCode::parse(MEISHAN).unwrap(),
            "",
            1_000_000,
            0,
        )
        .await
        .unwrap();
    assert_eq!(table.len() - 2, listed.len(), "every member, nothing more");
    assert_eq!(done["created"], listed.len() as i64);
    for (row, m) in table[2..].iter().zip(&listed) {
        assert_eq!(
            (&row[0], &row[3], &row[6]),
            (&m.name, &m.id_masked, &m.home_org),
            "in the page's order"
        );
    }
    // The same file as the direct download.
    let direct = app
        .get(&format!("/orgs/{MEISHAN}/members.xlsx"), &town)
        .await;
    let again = baiqian_web::excel::read_first_sheet(&direct.body).unwrap();
    assert_eq!(
        again[1..],
        table[1..],
        "the same rows under the same header"
    );
    // The file is its starter's; a member may not have it even with its number.
    let member = app.token("xinmin.member").await;
    assert_eq!(app.get(&url, &member).await.status, StatusCode::NOT_FOUND);
}
both!(an_export_job_writes_the_roster_the_page_lists);

async fn a_restart_marks_running_jobs_interrupted(app: TestApp) {
    let town = app.token("meishan.admin").await;
    let me = app.get("/api/v1/me", &town).await.json();
    assert_eq!(me["login"], "meishan.admin");
    // A job a stopped server left running, with its half-written file.
    let user = app
        .db
        .user_by_login("meishan.admin")
        .await
        .unwrap()
        .expect("the account");
    let actor = baiqian_store::Actor {
        user_id: Some(user.id),
        login: user.login.clone(),
        role: user.role,
        scope: baiqian_domain::scope::Scope::everything(),
    };
    let id = app
        .db
        .start_job(
            &actor,
            JobKind::MemberExport,
            MEISHAN,
            app.state.jobs.node(),
            1,
        )
        .await
        .unwrap();
    let part = app.state.jobs.part_path(id);
    std::fs::create_dir_all(part.parent().unwrap()).unwrap();
    std::fs::write(&part, b"half").unwrap();
    let n = app.state.jobs.recover(&app.db, 2).await.unwrap();
    assert_eq!(n, 1);
    assert!(!part.exists(), "the half-written file removed");
    let job = app.get(&format!("/api/v1/jobs/{id}"), &town).await.json();
    assert_eq!(job["status"], "interrupted", "{job}");
    assert!(job["download"].is_null());
    let page = app.get(&format!("/jobs/{id}"), &town).await.text();
    assert!(page.contains("id=\"job-interrupted\""), "{page}");
    assert_eq!(
        app.get(&format!("/jobs/{id}/file"), &town).await.status,
        StatusCode::NOT_FOUND
    );
}
both!(a_restart_marks_running_jobs_interrupted);

async fn import(
    app: &TestApp,
    file: &[u8],
    name: &str,
    who: &Who,
) -> (StatusCode, serde_json::Value) {
    let res = app
        .post_multipart(
            &format!("/api/v1/orgs/{XINMIN}/members/import"),
            &[("mode", "all")],
            &[("file", name, file)],
            who,
        )
        .await;
    (res.status, res.json())
}

async fn an_xls_roster_from_old_excel_goes_in(app: TestApp) {
    let town = app.token("meishan.admin").await;
    let (status, body) = import(&app, XLS_ROSTER, "花名册.xls", &town).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["created"], 3, "{body}");
    let listed = app
        .get(&format!("/api/v1/orgs/{XINMIN}/members?q=钱丽芳"), &town)
        .await
        .json();
    let m = &listed["items"][0];
    assert_eq!(m["birth_date"], "1972-08-12", "the day from the ID number");
    assert_eq!(m["joined"], "1998-07-01");
    let listed = app
        .get(&format!("/api/v1/orgs/{XINMIN}/members?q=沈国强"), &town)
        .await
        .json();
    assert_eq!(
        listed["items"][0]["joined"], "1990-07-01",
        "a real date cell"
    );
}
both!(an_xls_roster_from_old_excel_goes_in);

async fn a_password_protected_workbook_is_refused(app: TestApp) {
    let town = app.token("meishan.admin").await;
    let audits = app.audit_count().await;
    let (status, body) = import(&app, PROTECTED_XLSX, "加密.xlsx", &town).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert_eq!(body["error"]["code"], "invalid", "{body}");
    assert_eq!(app.audit_count().await, audits);
}
both!(a_password_protected_workbook_is_refused);

async fn formula_cells_give_their_stored_value(app: TestApp) {
    let town = app.token("meishan.admin").await;
    let id = id_number("19700101", 11);
    let mut wb = Workbook::new();
    let ws = wb.add_worksheet();
    for (c, h) in ["姓名", "身份证号", "入党日期"].iter().enumerate() {
        ws.write_string(0, c as u16, *h).unwrap();
    }
    // A name joined from two cells, as some offices do; the file keeps the value Excel computed.
    ws.write_formula(1, 0, Formula::new("=E2&F2").set_result("何勇"))
        .unwrap();
    ws.write_string(1, 1, &id).unwrap();
    ws.write_string(1, 2, "1995-07-01").unwrap();
    ws.write_string(1, 4, "何").unwrap();
    ws.write_string(1, 5, "勇").unwrap();
    let file = wb.save_to_buffer().unwrap();
    let (status, body) = import(&app, &file, "公式.xlsx", &town).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["created"], 1);
    let listed = app
        .get(&format!("/api/v1/orgs/{XINMIN}/members?q=何勇"), &town)
        .await
        .json();
    assert_eq!(listed["items"].as_array().unwrap().len(), 1, "{listed}");
}
both!(formula_cells_give_their_stored_value);
