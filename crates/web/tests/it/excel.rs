use axum::http::StatusCode;

use crate::both;
use crate::support::codes::*;
use crate::support::{TestApp, xlsx};

const HEADER: [&str; 8] = [
    "代码",
    "名称",
    "层级",
    "上级代码",
    "党组织类型",
    "党组织名称",
    "书记",
    "党员数",
];

async fn export_then_import_round_trips_unchanged(app: TestApp) {
    let county = app.login("changxing.admin").await;
    let res = app
        .get(&format!("/orgs/{MEISHAN}/export.xlsx"), &county)
        .await;
    assert_eq!(res.status, StatusCode::OK);
    assert!(
        res.headers["content-type"]
            .to_str()
            .unwrap()
            .contains("spreadsheetml")
    );
    let file = res.body.clone();
    // 煤山镇 itself, its 22 villages, 天能集团.
    let table = baiqian_web::excel::read_first_sheet(&file).unwrap();
    assert_eq!(table[0], HEADER);
    assert_eq!(table.len(), 1 + 1 + 22 + 1);
    let before = (app.org_count().await, app.audit_count().await);
    let res = app
        .post_file(&format!("/orgs/{CHANGXING}/import"), &file, "all", &county)
        .await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.text());
    let text = res.text();
    assert!(text.contains("import-result"));
    assert_eq!(
        before,
        (app.org_count().await, app.audit_count().await),
        "an unchanged file changes nothing"
    );
    let again = app
        .get(&format!("/orgs/{MEISHAN}/export.xlsx"), &county)
        .await;
    assert_eq!(
        baiqian_web::excel::read_first_sheet(&again.body).unwrap(),
        table
    );
}
both!(export_then_import_round_trips_unchanged);

async fn a_bad_file_is_reported_row_by_row_and_changes_nothing(app: TestApp) {
    let town = app.login("meishan.admin").await;
    let rows = vec![
        HEADER.to_vec(),
        vec![
            "330522109290",
            "好村",
            "村",
            MEISHAN,
            "党支部",
            "",
            "王建国",
            "30",
        ],
        vec!["3305221092", "坏代码村", "村", MEISHAN, "", "", "", "10"],
        vec!["330522109291", "层级村", "小组", MEISHAN, "", "", "", "10"],
        vec!["330522101292", "外村", "村", HONGQIAO, "", "", "", "10"],
        vec![
            "330522109293",
            "<script>x</script>",
            "村",
            MEISHAN,
            "",
            "",
            "",
            "10",
        ],
        vec!["330522109290", "重复村", "村", MEISHAN, "", "", "", "10"],
        vec![
            "330522109294",
            "类型村",
            "村",
            MEISHAN,
            "党小组",
            "",
            "",
            "",
        ],
        vec![
            "330522109295",
            "又一好村",
            "村",
            MEISHAN,
            "党总支",
            "又一好村党总支",
            "",
            "55",
        ],
    ];
    let file = xlsx(&rows);
    let before = (app.org_count().await, app.audit_count().await);
    let res = app
        .post_file(&format!("/orgs/{MEISHAN}/import"), &file, "all", &town)
        .await;
    assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY);
    let text = res.text();
    assert!(text.contains("import-rejected"));
    assert_eq!(
        before,
        (app.org_count().await, app.audit_count().await),
        "a rejected file changes nothing"
    );
    let report = text.split("id=\"import-report\"").nth(1).unwrap();
    // Every bad row is named with its column, in Chinese and in English.
    for (row, column, zh, en) in [
        (3, "代码 (code)", "格式不正确", "malformed"),
        (4, "层级 (level)", "层级", "not valid"),
        (
            5,
            "上级代码 (parent_code)",
            "不在您的权限范围内",
            "outside your scope",
        ),
        (6, "名称 (name)", "不能含有字符", "must not contain"),
        (7, "代码 (code)", "重复", "repeats row 2"),
        (
            8,
            "党组织类型 (party_org_kind)",
            "党组织类型",
            "Party organization kind",
        ),
    ] {
        let cell = format!("<td class=\"num\">{row}</td><td>{column}</td>");
        let at = report
            .find(&cell)
            .unwrap_or_else(|| panic!("row {row} {column} not reported"));
        let rest = &report[at..];
        let rest = &rest[..rest.find("</tr>").unwrap()];
        assert!(rest.contains(zh) && rest.contains(en), "row {row}: {rest}");
    }
    assert!(
        !report.contains("<td class=\"num\">2</td>")
            && !report.contains("<td class=\"num\">9</td>"),
        "good rows are not reported"
    );
    assert!(!text.contains("<script>x</script>"));

    // Asked for, exactly the good rows are imported.
    let res = app
        .post_file(
            &format!("/orgs/{MEISHAN}/import"),
            &file,
            "good_rows",
            &town,
        )
        .await;
    assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(res.text().contains("import-result"));
    assert_eq!(app.org_count().await, before.0 + 2);
    // Each village, and its draft in the demo's open 2016 round.
    assert_eq!(app.audit_count().await, before.1 + 4);
    let api = app.token("meishan.admin").await;
    let good = app.get("/api/v1/orgs/330522109295", &api).await.json();
    assert_eq!(good["party_org"]["kind"], "general_branch");
    assert_eq!(
        app.get("/api/v1/orgs/330522109290", &api).await.json()["name"],
        "好村"
    );
}
both!(a_bad_file_is_reported_row_by_row_and_changes_nothing);

async fn broken_and_headless_files_get_a_clear_message(app: TestApp) {
    let town = app.login("meishan.admin").await;
    let before = (app.org_count().await, app.audit_count().await);
    let res = app
        .post_file(
            &format!("/orgs/{MEISHAN}/import"),
            b"PK\x03\x04 this is not a workbook",
            "all",
            &town,
        )
        .await;
    assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY);
    let text = res.text();
    assert!(
        text.contains("不是有效的 Excel") && text.contains("not a valid Excel"),
        "{text}"
    );
    let res = app
        .post_file(&format!("/orgs/{MEISHAN}/import"), b"", "all", &town)
        .await;
    assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY);
    let no_header = xlsx(&[vec!["编号", "名字"], vec!["330522109290", "好村"]]);
    let res = app
        .post_file(&format!("/orgs/{MEISHAN}/import"), &no_header, "all", &town)
        .await;
    assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(res.text().contains("缺少“代码”列"));
    assert_eq!(before, (app.org_count().await, app.audit_count().await));
}
both!(broken_and_headless_files_get_a_clear_message);

/// The tree import's template: the tree sheet's headers under a title line, an example child,
/// an instructions sheet; filled in as it shows, it imports.
async fn the_tree_template_imports_when_filled_in(app: TestApp) {
    let town = app.token("meishan.admin").await;
    let res = app
        .get(&format!("/orgs/{MEISHAN}/import/template.xlsx"), &town)
        .await;
    assert_eq!(res.status, StatusCode::OK);
    let mut wb: calamine::Xlsx<_> =
        calamine::open_workbook_from_rs(std::io::Cursor::new(res.body.clone())).unwrap();
    use calamine::Reader;
    assert_eq!(wb.sheet_names().len(), 2);
    let help = wb.worksheet_range_at(1).unwrap().unwrap();
    assert!(
        help.rows().count() >= 9,
        "a line for each column and the note"
    );
    let table = baiqian_web::excel::read_first_sheet(&res.body).unwrap();
    assert!(table[0][0].contains("煤山镇"));
    assert_eq!(table[1][0], "代码");
    assert_eq!(
        table[2][2], "村",
        "the example is a village under the township"
    );
    assert_eq!(table[2][3], MEISHAN);
    // Fill in the example's code and import it.
    let mut rows: Vec<Vec<&str>> = table
        .iter()
        .map(|r| r.iter().map(String::as_str).collect())
        .collect();
    rows[2][0] = "330522109298";
    let before = app.org_count().await;
    let res = app
        .post_file(
            &format!("/orgs/{MEISHAN}/import"),
            &xlsx(&rows),
            "all",
            &town,
        )
        .await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.text());
    assert_eq!(app.org_count().await, before + 1);
}
both!(the_tree_template_imports_when_filled_in);

/// The standards and village-facts templates: filled in as they show, they import.
async fn the_standard_and_facts_templates_import_when_filled_in(app: TestApp) {
    let city = app.login("city.admin").await;
    let res = app.get("/standards/template.xlsx", &city).await;
    assert_eq!(res.status, StatusCode::OK);
    let table = baiqian_web::excel::read_first_sheet(&res.body).unwrap();
    assert_eq!(table[1][0], "分组");
    let res = app
        .post_multipart(
            "/standards",
            &[("code", "TPL"), ("name", "模板标准")],
            &[("file", "t.xlsx", &res.body)],
            &city,
        )
        .await;
    assert!(
        res.status.is_success() || res.status.is_redirection(),
        "{}",
        res.text()
    );
    let n: (i64,) = sqlx::query_as(
        "SELECT COUNT(*) FROM standard_items i JOIN standard_sets s ON s.id = i.set_id WHERE s.code = 'TPL'",
    )
    .fetch_one(app.db.pool())
    .await
    .unwrap();
    assert_eq!(n.0, 1, "the example item");

    let county = app.login("changxing.admin").await;
    let res = app
        .get(
            &format!("/orgs/{MEISHAN}/village-facts/2016/template.xlsx"),
            &county,
        )
        .await;
    assert_eq!(res.status, StatusCode::OK);
    let table = baiqian_web::excel::read_first_sheet(&res.body).unwrap();
    assert_eq!(table[1][0], "代码");
    assert!(
        table[2][0].starts_with(MEISHAN),
        "an example village under the township"
    );
    let res = app
        .post_file(
            &format!("/orgs/{MEISHAN}/village-facts/2016"),
            &res.body,
            "all",
            &county,
        )
        .await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.text());
    let income: (i64,) = sqlx::query_as(
        "SELECT income_fen FROM collective_incomes WHERE org_code = $1 AND year = 2016",
    )
    .bind(&table[2][0])
    .fetch_one(app.db.pool())
    .await
    .unwrap();
    assert_eq!(income.0, 51_234_560);
}
both!(the_standard_and_facts_templates_import_when_filled_in);
