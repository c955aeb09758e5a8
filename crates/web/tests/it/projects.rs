//! Projects (项目化攻坚): a township runs its own, covers its villages and records their
//! results and its own; a county reads them, runs none of the township's; the demo's projects
//! are the article's.

use axum::http::StatusCode;

use crate::both;
use crate::support::TestApp;
use crate::support::codes::{CHANGXING, CITY, HONGQIAO, LONGSHAN, MEISHAN, XINMIN};

async fn a_township_runs_a_project_over_its_villages(app: TestApp) {
    let township = app.login("meishan.admin").await;
    let county = app.login("changxing.admin").await;
    let secretary = app.login("xinmin.secretary").await;
    let other = app.login("hefu.admin").await;
    let path = format!("/orgs/{MEISHAN}/projects");
    let form = |name: &'static str, start: &'static str| {
        vec![
            ("name", name),
            ("kind", "five_year_plan"),
            ("weakness", "集体经济欠发达村经常性收入低"),
            ("start_on", start),
        ]
    };
    let audit = app.audit_count().await;
    // Only the township's own administration runs its projects: not the county above, and a
    // village's secretary does not see the township at all.
    let res = app
        .post_form(&path, &form("煤山镇五年强村计划", "2016-01-10"), &county)
        .await;
    assert_eq!(res.status, StatusCode::FORBIDDEN);
    let res = app
        .post_form(&path, &form("煤山镇五年强村计划", "2016-01-10"), &secretary)
        .await;
    assert_eq!(res.status, StatusCode::NOT_FOUND);
    let res = app
        .post_form(&path, &form("煤山镇五年强村计划", "2016-01-10"), &other)
        .await;
    assert_eq!(res.status, StatusCode::NOT_FOUND);
    let res = app
        .post_form(&path, &form("煤", "2016-01-10"), &township)
        .await;
    assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY);
    let res = app
        .post_form(&path, &form("煤山镇五年强村计划", "2017-01-10"), &township)
        .await;
    assert_eq!(
        res.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "not in the future"
    );
    assert_eq!(app.audit_count().await, audit);
    let res = app
        .post_form(&path, &form("煤山镇五年强村计划", "2016-01-10"), &township)
        .await;
    assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.text());
    let project = res.location().unwrap();
    // Another township neither reads the project nor adds to it.
    assert_eq!(
        app.get(&project, &other).await.status,
        StatusCode::NOT_FOUND
    );
    let res = app
        .post_form(
            &format!("{project}/villages"),
            &[("village", "陈塔村"), ("result", "")],
            &other,
        )
        .await;
    assert_eq!(res.status, StatusCode::NOT_FOUND);
    // Villages by name or code, only under the township; a result recorded later.
    let villages = format!("{project}/villages");
    let res = app
        .post_form(
            &villages,
            &[("village", "新民村"), ("result", "")],
            &township,
        )
        .await;
    assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.text());
    let res = app
        .post_form(
            &villages,
            &[("village", LONGSHAN), ("result", "")],
            &township,
        )
        .await;
    assert_eq!(
        res.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "龙山村 is not 煤山镇's"
    );
    let res = app
        .post_form(
            &villages,
            &[
                ("village", XINMIN),
                ("result", "村级集体经济年收入增至 60 万元"),
            ],
            &township,
        )
        .await;
    assert_eq!(res.status, StatusCode::SEE_OTHER);
    let page = app.get(&project, &county).await;
    assert_eq!(page.status, StatusCode::OK);
    let table = page.between("id=\"project-villages\"", "</table>").unwrap();
    assert!(
        table.contains("新民村") && table.contains("60 万元"),
        "{table}"
    );
    assert!(
        !page.text().contains("id=\"finish-project\""),
        "the county reads, does not run it"
    );
    // Done with its result; then nothing more moves.
    let finish = format!("{project}/finish");
    let res = app.post_form(&finish, &[("result", "x")], &township).await;
    assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY);
    let res = app
        .post_form(&finish, &[("result", "新民村集体经济摘帽")], &township)
        .await;
    assert_eq!(res.status, StatusCode::SEE_OTHER);
    let res = app
        .post_form(&finish, &[("result", "再次完成")], &township)
        .await;
    assert_eq!(res.status, StatusCode::CONFLICT);
    let res = app
        .post_form(
            &villages,
            &[("village", "新民村"), ("result", "改写")],
            &township,
        )
        .await;
    assert_eq!(res.status, StatusCode::CONFLICT);
    // The county's list shows it among its townships' projects.
    let list = app
        .get(&format!("/orgs/{CHANGXING}/projects"), &county)
        .await;
    let rows = list.between("id=\"projects\"", "</table>").unwrap();
    assert!(rows.contains("煤山镇五年强村计划"), "{rows}");
    assert!(rows.contains("洪桥镇党群创业互助会"), "the demo's: {rows}");
    assert!(!rows.contains("双林镇"), "another county's: {rows}");
}
both!(a_township_runs_a_project_over_its_villages);

async fn the_demo_has_the_articles_projects(app: TestApp) {
    let city = app.token("city.admin").await;
    let list = app.get(&format!("/orgs/{CITY}/projects"), &city).await;
    assert_eq!(list.status, StatusCode::OK);
    let rows = list.between("id=\"projects\"", "</table>").unwrap();
    for name in ["党群创业互助会", "乡贤参事会", "五年强村计划"] {
        assert!(rows.contains(name), "{name}: {rows}");
    }
    let hongqiao = app.get(&format!("/orgs/{HONGQIAO}/projects"), &city).await;
    let id = hongqiao.between("<a href=\"/projects/", "\"").unwrap();
    let page = app.get(&format!("/projects/{id}"), &city).await;
    assert!(page.text().contains("周火青"), "潼桥村's result");
}
both!(the_demo_has_the_articles_projects);

async fn a_plan_goes_out_to_excel_and_comes_back(app: TestApp) {
    let township = app.login("meishan.admin").await;
    let county = app.login("changxing.admin").await;
    let path = format!("/orgs/{MEISHAN}/plans/2016");
    let res = app
        .post_form(&path, &[("title", "煤山镇2016年整乡提升方案")], &township)
        .await;
    assert_eq!(res.status, StatusCode::SEE_OTHER);
    // The official's sheet: a title line, their header words, a target in their words.
    let file = crate::support::xlsx(&[
        vec!["煤山镇2016年整乡提升方案"],
        vec!["序号", "工作任务", "推进措施", "负责人", "完成时间", "目标"],
        vec![
            "1",
            "后进村摘帽",
            "第一书记驻村",
            "镇组织委员",
            "2016/11/30",
            "整乡提升",
        ],
        vec!["2", "党员活动室改造", "", "", "2016-09-30", ""],
        vec![
            "3",
            "集体经济增收",
            "发展苗木基地",
            "镇长",
            "2016-13-01",
            "晋位提升",
        ],
        vec![
            "4",
            "先锋村创建",
            "",
            "镇党委书记",
            "2016-12-31",
            "火星目标",
        ],
    ]);
    let import = format!("{path}/import");
    let res = app.post_file(&import, &file, "all", &county).await;
    assert_eq!(
        res.status,
        StatusCode::FORBIDDEN,
        "the county does not write it"
    );
    let audit = app.audit_count().await;
    let res = app.post_file(&import, &file, "all", &township).await;
    assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY);
    let report = res.between("id=\"import-report\"", "</table>").unwrap();
    for (row, column) in [("4", "责任人"), ("5", "完成时限"), ("6", "对应目标")] {
        assert!(
            report.contains(&format!("<td class=\"num\">{row}</td><td>{column} (")),
            "row {row} {column}: {report}"
        );
    }
    assert_eq!(app.audit_count().await, audit, "nothing written");
    let res = app.post_file(&import, &file, "good_rows", &township).await;
    assert!(
        res.text().contains("id=\"import-result\""),
        "{}",
        res.text()
    );
    // Out again: the one good row, in the words the import reads.
    let res = app.get(&format!("{path}/xlsx"), &county).await;
    assert_eq!(res.status, StatusCode::OK);
    let table = baiqian_web::excel::read_first_sheet(&res.body).unwrap();
    let flat: Vec<String> = table.iter().flatten().cloned().collect();
    for want in ["后进村摘帽", "第一书记驻村", "2016-11-30", "整乡提升乡镇"] {
        assert!(flat.iter().any(|c| c == want), "{want} in {flat:?}");
    }
    assert!(!flat.iter().any(|c| c == "集体经济增收"));
    // The sheet read back in is the same item again.
    let res = app.post_file(&import, &res.body, "all", &township).await;
    assert!(
        res.text().contains("id=\"import-result\""),
        "{}",
        res.text()
    );
}
both!(a_plan_goes_out_to_excel_and_comes_back);
