//! Rosters as village branches really keep them (党员花名册): a merged title row, a 填报单位 line,
//! their own header words with spaces in them, dates as they type them, organizations by name, a
//! totals row — imported through `POST /api/v1/orgs/{code}/members/import`.

use axum::http::StatusCode;
use baiqian_domain::member::with_check_digit;
use rust_xlsxwriter::{ExcelDateTime, Format, Workbook};

use crate::both;
use crate::support::TestApp;
use crate::support::codes::*;

/// An ID number born on `birth` (`YYYYMMDD`) whose check character is (or is not) `X`.
fn id_born(birth: &str, male: bool, want_x: bool) -> String {
    (0..500)
        .map(|seq| seq * 2 + usize::from(male))
        .filter_map(|seq| with_check_digit(&format!("330522{birth}{seq:03}")))
        .find(|id| id.ends_with('X') == want_x)
        .expect("an ID number")
}

/// The sheet a village branch would send: rows as (cells), a real Excel date in one cell.
fn officials_roster(rows: &[[&str; 9]], date_cell: Option<(u32, u16)>) -> Vec<u8> {
    let mut wb = Workbook::new();
    let ws = wb.add_worksheet();
    let title = Format::new().set_bold();
    ws.merge_range(0, 0, 0, 8, "新民村党员花名册", &title)
        .unwrap();
    ws.write_string(1, 0, "填报单位：新民村党总支").unwrap();
    ws.write_string(1, 7, "填报日期：2016年3月").unwrap();
    let header = [
        "序号",
        "姓　名",
        "性 别",
        "出生年月",
        "公民身份号码",
        "入党时间",
        "联系电话",
        "所在党组织",
        "备注",
    ];
    for (c, h) in header.iter().enumerate() {
        ws.write_string(2, c as u16, *h).unwrap();
    }
    for (r, row) in rows.iter().enumerate() {
        for (c, cell) in row.iter().enumerate() {
            ws.write_string(3 + r as u32, c as u16, *cell).unwrap();
        }
    }
    if let Some((r, c)) = date_cell {
        let date = ExcelDateTime::from_ymd(1990, 2, 10).unwrap();
        let fmt = Format::new().set_num_format("yyyy-mm-dd");
        ws.write_datetime_with_format(r, c, &date, &fmt).unwrap();
    }
    wb.save_to_buffer().unwrap()
}

async fn import(
    app: &TestApp,
    code: &str,
    file: &[u8],
    mode: &str,
    who: &crate::support::Who,
) -> (StatusCode, serde_json::Value) {
    let res = app
        .post_multipart(
            &format!("/api/v1/orgs/{code}/members/import"),
            &[("mode", mode)],
            &[("file", "党员花名册.xlsx", file)],
            who,
        )
        .await;
    (res.status, res.json())
}

async fn a_roster_as_villages_keep_it_goes_in(app: TestApp) {
    let town = app.token("meishan.admin").await;
    let a = id_born("19800504", true, true).to_lowercase();
    let b = id_born("19900210", false, false);
    let c = id_born("19751103", true, false);
    let d = id_born("19800504", true, false);
    let e = id_born("19820101", false, false);
    let rows = [
        [
            "1",
            "佘　胜",
            "男",
            "1980.05",
            a.as_str(),
            "2006年7月1日",
            "138 5720 0001",
            "新民村党总支",
            "",
        ],
        // Its birth date is a real Excel date cell (written below).
        [
            "2",
            "沈丽",
            "女",
            "",
            b.as_str(),
            "2012-07-01",
            "",
            "新民村",
            "调入",
        ],
        ["", "", "", "", "", "", "", "", ""],
        // No organization on a township's page: which village?
        [
            "3",
            "王一",
            "男",
            "19751103",
            c.as_str(),
            "20000701",
            "",
            "",
            "",
        ],
        // The first row's person again.
        [
            "4",
            "佘胜",
            "男",
            "1980-05-04",
            a.as_str(),
            "2006-07-01",
            "",
            "新民村",
            "",
        ],
        // The month written differs from the ID number's.
        [
            "5",
            "李二",
            "男",
            "1975.03",
            d.as_str(),
            "2004.07.01",
            "",
            "新民村",
            "",
        ],
        [
            "6",
            "赵三",
            "女",
            "1982年1月",
            e.as_str(),
            "2006.07",
            "",
            "不存在村",
            "",
        ],
        ["合计", "6人", "", "", "", "", "", "", ""],
        ["备注：以上信息经支部核对。", "", "", "", "", "", "", "", ""],
    ];
    let file = officials_roster(&rows, Some((4, 3)));
    let audits = app.audit_count().await;

    // All or nothing: refused whole, every bad row named by the sheet's own number and column.
    let (status, body) = import(&app, MEISHAN, &file, "all", &town).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert_eq!(body["created"], 0);
    let errors: Vec<(i64, String, String)> = body["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["row"].as_i64().unwrap(),
                e["column"].as_str().unwrap().to_string(),
                e["message"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    let expect = [
        (7, "组织关系所在地代码", "所在党组织"),
        (8, "身份证号", "第4行"),
        (9, "出生日期", "身份证号不一致"),
        (10, "组织关系所在地代码", "不存在村"),
    ];
    for (row, column, words) in expect {
        assert!(
            errors
                .iter()
                .any(|(r, c, m)| *r == row && c == column && m.contains(words)),
            "row {row} {column} ({words}) not reported: {errors:?}"
        );
    }
    assert_eq!(errors.len(), expect.len(), "{errors:?}");
    assert_eq!(
        app.audit_count().await,
        audits,
        "a refused file writes nothing"
    );

    // The good rows only: 佘胜 (month from the ID number, lowercase x) and 沈丽 (an Excel date).
    let (status, body) = import(&app, MEISHAN, &file, "good_rows", &town).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["created"], 2, "{body}");
    let roster = app
        .get(&format!("/api/v1/orgs/{XINMIN}/members?q=佘胜"), &town)
        .await
        .json();
    let she = &roster["items"][0];
    assert_eq!(she["birth_date"], "1980-05-04");
    assert_eq!(she["gender"], "M");
    assert_eq!(she["joined"], "2006-07-01");
    let shen = app
        .get(&format!("/api/v1/orgs/{XINMIN}/members?q=沈丽"), &town)
        .await
        .json();
    assert_eq!(shen["items"][0]["birth_date"], "1990-02-10");

    // The same file again: everyone is already on the roster, nobody is imported twice.
    let (_, again) = import(&app, MEISHAN, &file, "good_rows", &town).await;
    assert_eq!(again["created"], 0, "{again}");

    // The page's report gives each problem in both languages.
    let session = app.login("meishan.admin").await;
    let res = app
        .post_file(
            &format!("/orgs/{MEISHAN}/members/import"),
            &file,
            "all",
            &session,
        )
        .await;
    assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY);
    let page = res.text();
    assert!(
        page.contains("与身份证号不一致") && page.contains("differs from the ID number"),
        "{page}"
    );
}
both!(a_roster_as_villages_keep_it_goes_in);

/// On a village's page the organization column may be left out: everyone is that village's.
async fn on_a_village_page_the_village_is_the_default(app: TestApp) {
    let secretary = app.token("xinmin.secretary").await;
    let id = id_born("19850315", false, false);
    let file = officials_roster(
        &[[
            "1",
            "陈　芳",
            "",
            "",
            id.as_str(),
            "2008年7月1日",
            "",
            "",
            "",
        ]],
        None,
    );
    let (status, body) = import(&app, XINMIN, &file, "all", &secretary).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["created"], 1);
    let got = app
        .get(&format!("/api/v1/orgs/{XINMIN}/members?q=陈"), &secretary)
        .await
        .json();
    let m = got["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["name"] == "陈芳")
        .unwrap_or_else(|| panic!("{got}"));
    // Gender and birth date from the ID number.
    assert_eq!(m["gender"], "F");
    assert_eq!(m["birth_date"], "1985-03-15");
    assert_eq!(m["home_org"], XINMIN);
}
both!(on_a_village_page_the_village_is_the_default);

/// Not a spreadsheet: a clear error, nothing written.
async fn not_a_spreadsheet_is_refused(app: TestApp) {
    let town = app.token("meishan.admin").await;
    let audits = app.audit_count().await;
    let (status, body) = import(&app, MEISHAN, b"PK\x03\x04 not really", "all", &town).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert!(
        body["error"]["message"]
            .as_str()
            .is_some_and(|m| !m.is_empty())
    );
    assert_eq!(app.audit_count().await, audits);
}
both!(not_a_spreadsheet_is_refused);

/// A roster saved by Excel as CSV on a Chinese Windows (GBK), and the same as UTF-8 with a BOM.
async fn csv_rosters_in_gbk_and_utf8_go_in(app: TestApp) {
    let secretary = app.token("xinmin.secretary").await;
    let a = id_born("19700105", true, false);
    let b = id_born("19720606", false, false);
    let text = format!(
        "新民村党员名册,,,\r\n姓名,公民身份号码,入党时间,联系电话\r\n周　明,{a},1995年7月1日,13857200001\r\n合计,1人,,\r\n"
    );
    let (gbk, _, _) = encoding_rs::GBK.encode(&text);
    let (status, body) = import(&app, XINMIN, &gbk, "all", &secretary).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["created"], 1);
    let utf8 = format!("\u{feff}姓名,身份证号码,入党日期\n吴芳,{b},1996-07-01\n");
    let (status, body) = import(&app, XINMIN, utf8.as_bytes(), "all", &secretary).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["created"], 1);
    for (q, birth) in [("周明", "1970-01-05"), ("吴芳", "1972-06-06")] {
        let got = app
            .get(&format!("/api/v1/orgs/{XINMIN}/members?q={q}"), &secretary)
            .await
            .json();
        assert_eq!(got["items"][0]["birth_date"], birth, "{q}: {got}");
    }
}
both!(csv_rosters_in_gbk_and_utf8_go_in);

/// The roster's export says what it is and who took it, names organizations (code beside),
/// holds real dates, and reads back through the importer's header finder; the template has the
/// importer's headers, an example and a sheet of instructions.
async fn the_export_and_the_template_are_what_officials_expect(app: TestApp) {
    let town = app.token("meishan.admin").await;
    let id = id_born("19800504", true, false);
    let file = officials_roster(
        &[[
            "1",
            "佘胜",
            "男",
            "1980-05-04",
            id.as_str(),
            "2006-07-01",
            "",
            "新民村",
            "=1+2",
        ]],
        None,
    );
    let (status, body) = import(&app, MEISHAN, &file, "all", &town).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let res = app
        .get(&format!("/orgs/{XINMIN}/members.xlsx"), &town)
        .await;
    assert_eq!(res.status, StatusCode::OK);
    let table = baiqian_web::excel::read_first_sheet(&res.body).unwrap();
    assert!(
        table[0][0].contains("新民村") && table[0][0].contains("meishan.admin"),
        "{:?}",
        table[0]
    );
    let header = &table[1];
    let name_col = header.iter().position(|h| h == "所在党组织").unwrap();
    let code_col = header
        .iter()
        .position(|h| h == "组织关系所在地代码")
        .unwrap();
    let birth_col = header.iter().position(|h| h == "出生日期").unwrap();
    let row = table
        .iter()
        .find(|r| r.first().is_some_and(|n| n == "佘胜"))
        .unwrap();
    assert_eq!(row[name_col], "新民村");
    assert_eq!(row[code_col], XINMIN);
    assert_eq!(
        row[birth_col], "1980-05-04",
        "a real date cell reads back as the date"
    );
    // As many rows as the page's roster shows.
    let api = app
        .get(&format!("/api/v1/orgs/{XINMIN}/members?limit=1000"), &town)
        .await
        .json();
    let listed = api["items"].as_array().unwrap().len();
    assert_eq!(table.len() - 2, listed);

    // Formula-like text is written as text.
    let bytes = baiqian_web::excel::write_list(
        "t",
        "title",
        &[("a", "甲")],
        &[vec![baiqian_web::excel::Cell::Text("=1+2".into())]],
    )
    .unwrap();
    let mut wb: calamine::Xlsx<_> =
        calamine::open_workbook_from_rs(std::io::Cursor::new(bytes)).unwrap();
    use calamine::Reader;
    let formulas = wb.worksheet_formula("t").unwrap();
    assert!(
        formulas.used_cells().next().is_none(),
        "no formula was written"
    );
    let values = wb.worksheet_range("t").unwrap();
    assert_eq!(
        values.get_value((2, 0)),
        Some(&calamine::Data::String("=1+2".into()))
    );

    let res = app
        .get(&format!("/orgs/{XINMIN}/members/template.xlsx"), &town)
        .await;
    assert_eq!(res.status, StatusCode::OK);
    let wb: calamine::Xlsx<_> =
        calamine::open_workbook_from_rs(std::io::Cursor::new(res.body.clone())).unwrap();
    assert_eq!(wb.sheet_names().len(), 2, "the roster and its instructions");
    let sheet = baiqian_web::excel::read_first_sheet(&res.body).unwrap();
    assert!(sheet[0][0].contains("新民村"));
    for h in ["姓名", "身份证号", "入党日期", "组织关系所在地代码"] {
        assert!(sheet[1].iter().any(|c| c == h), "{h}: {:?}", sheet[1]);
    }

    // A member cannot have it (managing members is not theirs).
    let member = app.token("xinmin.member").await;
    assert_eq!(
        app.get(&format!("/orgs/{XINMIN}/members/template.xlsx"), &member)
            .await
            .status,
        StatusCode::FORBIDDEN
    );
}
both!(the_export_and_the_template_are_what_officials_expect);

/// The template is handed around: its example row names nobody of the 67,910-member roster,
/// by name or by phone.
async fn the_templates_example_is_nobody_real(app: TestApp) {
    let town = app.token("meishan.admin").await;
    let members: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM members")
        .fetch_one(app.db.pool())
        .await
        .unwrap();
    assert!(members > 60_000, "the whole roster: {members}");
    let res = app
        .get(&format!("/orgs/{XINMIN}/members/template.xlsx"), &town)
        .await;
    assert_eq!(res.status, StatusCode::OK);
    let sheet = baiqian_web::excel::read_first_sheet(&res.body).unwrap();
    // Its example row is made up: no member of the roster has its name or its phone.
    let example = &sheet[2];
    let named: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM members WHERE name = $1")
        .bind(&example[0])
        .fetch_one(app.db.pool())
        .await
        .unwrap();
    assert_eq!(named, 0, "the example is a real member: {example:?}");
    let phone = baiqian_domain::member::Phone::parse(&example[4]).expect("an example phone");
    let look_alike: Vec<String> =
        sqlx::query_scalar("SELECT phone_sealed FROM members WHERE phone_masked = $1")
            .bind(phone.masked())
            .fetch_all(app.db.pool())
            .await
            .unwrap();
    assert!(
        look_alike
            .iter()
            .all(|sealed| app.state.vault.open(sealed).ok().as_deref() != Some(phone.as_str())),
        "the example's phone is a real member's"
    );
}
both!(the_templates_example_is_nobody_real, roster);

/// A decompression bomb (a small file that unpacks to 300 MB) is refused before it is unpacked.
async fn a_decompression_bomb_is_refused(app: TestApp) {
    use std::io::Write;
    let mut zip = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let opts = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated)
        .large_file(true);
    zip.start_file("xl/worksheets/sheet1.xml", opts).unwrap();
    let zeros = vec![0u8; 1 << 20];
    for _ in 0..300 {
        zip.write_all(&zeros).unwrap();
    }
    let bytes = zip.finish().unwrap().into_inner();
    assert!(bytes.len() < 2 << 20, "{} bytes", bytes.len());
    let town = app.token("meishan.admin").await;
    let audits = app.audit_count().await;
    let (status, body) = import(&app, MEISHAN, &bytes, "all", &town).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("解压后超过"),
        "{body}"
    );
    assert_eq!(app.audit_count().await, audits);
}
both!(a_decompression_bomb_is_refused);

/// On the page: the upload shows a preview (header found, columns read, first rows, problems)
/// and writes nothing; the user then imports the good rows; the draft is used once.
async fn the_page_previews_then_imports_the_good_rows(app: TestApp) {
    let town = app.login("meishan.admin").await;
    let good = id_born("19800504", true, false);
    let rows = [
        [
            "1",
            "佘　胜",
            "男",
            "1980.05",
            good.as_str(),
            "2006年7月1日",
            "",
            "新民村",
            "",
        ],
        [
            "2",
            "李二",
            "男",
            "1975.03",
            good.as_str(),
            "2004-07-01",
            "",
            "新民村",
            "",
        ],
    ];
    let file = officials_roster(&rows, None);
    let audits = app.audit_count().await;
    let res = app
        .post_multipart(
            &format!("/orgs/{MEISHAN}/members/import"),
            &[("step", "preview"), ("mode", "all")],
            &[("file", "花名册.xlsx", &file)],
            &town,
        )
        .await;
    assert_eq!(res.status, StatusCode::OK);
    let html = res.text();
    assert!(html.contains("id=\"import-preview\""), "{html}");
    assert!(
        html.contains("第 3 行找到表头"),
        "the header under two title lines"
    );
    assert!(
        html.contains("公民身份号码") && html.contains("入党时间"),
        "the sheet's own headers shown"
    );
    assert!(
        html.contains("佘胜") && html.contains("1980-05-04"),
        "the row as it will be stored"
    );
    assert!(html.contains("import-report"), "the problem row listed");
    assert_eq!(app.audit_count().await, audits, "a preview writes nothing");
    let draft = html
        .split("name=\"draft\" value=\"")
        .nth(1)
        .and_then(|s| s.split('"').next())
        .unwrap()
        .to_string();
    let path = format!("/orgs/{MEISHAN}/members/import/commit");
    let res = app
        .post_form(&path, &[("draft", &draft), ("mode", "good_rows")], &town)
        .await;
    assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.text());
    let job = TestApp::job_of(&res);
    let done = app.finished_job(job, &town).await;
    assert_eq!(done["status"], "done", "{done}");
    assert_eq!(done["created"], 1, "{done}");
    let page = app.get(&format!("/jobs/{job}"), &town).await;
    assert!(
        page.text().contains("id=\"import-result\""),
        "{}",
        page.text()
    );
    assert!(
        page.text().contains("import-report"),
        "the bad row still listed"
    );
    assert_eq!(app.audit_count().await, audits + 1, "exactly the good row");
    // Used once; another account cannot use someone's draft either.
    let res = app
        .post_form(&path, &[("draft", &draft), ("mode", "good_rows")], &town)
        .await;
    assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(app.audit_count().await, audits + 1);
}
both!(the_page_previews_then_imports_the_good_rows);

/// Registers record 入党时间 and 转正时间 to the month ("1974年7月", "1974.07"): such a date is
/// kept to the month, shown and exported as written, never refused nor given an invented day;
/// a full-membership date before the joining date, or a joining before 18, is a row error.
async fn dates_to_the_month_are_kept_as_written(app: TestApp) {
    let secretary = app.token("xinmin.secretary").await;
    let old = id_born("19500105", true, false);
    let young = id_born("19500302", false, false);
    let wrong = id_born("19700606", false, false);
    let text = format!(
        "新民村党员名册,,,,\r\n姓名,公民身份号码,入党时间,转正时间,联系电话\r\n\
         周老明,{old},1974年7月,1975.07,13857200001\r\n\
         吴小芳,{young},1967年12月,,\r\n\
         钱晓燕,{wrong},1996-07-01,1995年7月,\r\n"
    );
    let audits = app.audit_count().await;
    let (status, body) = import(&app, XINMIN, text.as_bytes(), "all", &secretary).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    let errors: Vec<(i64, String)> = body["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["row"].as_i64().unwrap(),
                e["column"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    assert_eq!(
        errors,
        vec![(4, "入党日期".to_string()), (5, "转正日期".to_string())],
        "{body}"
    );
    assert_eq!(
        app.audit_count().await,
        audits,
        "a refused file writes nothing"
    );

    let (status, body) = import(&app, XINMIN, text.as_bytes(), "good_rows", &secretary).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["created"], 1, "{body}");
    let got = app
        .get(
            &format!("/api/v1/orgs/{XINMIN}/members?q=周老明"),
            &secretary,
        )
        .await
        .json();
    let m = &got["items"][0];
    assert_eq!(m["joined"], "1974-07", "{got}");
    assert_eq!(m["confirmed"], "1975-07", "{got}");
    let page = app
        .get(&format!("/members/{}", m["id"]), &secretary)
        .await
        .text();
    assert!(
        page.contains("1974-07<") && page.contains("1975-07<"),
        "{page}"
    );
    assert!(!page.contains("1974-07-01"), "no day is invented");

    let res = app
        .get(&format!("/orgs/{XINMIN}/members.xlsx"), &secretary)
        .await;
    let table = baiqian_web::excel::read_first_sheet(&res.body).unwrap();
    let col = |h: &str| table[1].iter().position(|c| c == h).unwrap();
    let row = table
        .iter()
        .find(|r| r.first().is_some_and(|n| n == "周老明"))
        .unwrap();
    assert_eq!(row[col("入党日期")], "1974-07");
    assert_eq!(row[col("转正日期")], "1975-07");

    // The form takes the month too, and refuses a full membership before joining.
    let id = id_born("19600101", true, false);
    let body = serde_json::json!({"name": "孙明月", "gender": "M", "birth_date": "1960-01-01",
        "id_number": id, "home_org": XINMIN, "joined": "1985.07", "confirmed": "1984年7月"});
    let res = app.post_json("/api/v1/members", &body, &secretary).await;
    assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        res.text().contains("转正日期早于入党日期"),
        "{}",
        res.text()
    );
    let mut body = body;
    body["confirmed"] = "1986年7月".into();
    let res = app.post_json("/api/v1/members", &body, &secretary).await;
    assert_eq!(res.status, StatusCode::CREATED, "{}", res.text());
    let id = res.json()["id"].as_i64().unwrap();
    let got = app
        .get(&format!("/api/v1/members/{id}"), &secretary)
        .await
        .json();
    assert_eq!(got["joined"], "1985-07");
    assert_eq!(got["confirmed"], "1986-07");
}
both!(dates_to_the_month_are_kept_as_written);
