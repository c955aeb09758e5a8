//! Trust in the ledger (issue 30): nobody closes their own problem (the four-eyes rule), a
//! deadline moves only with a reason and later only when the level above approves, the board
//! counts the extended beside the overdue, and leaders guide and look without driving problems.
//! Each refusal is clear and writes nothing.

use axum::http::StatusCode;

use crate::both;
use crate::support::codes::{MEISHAN, XINMIN};
use crate::support::{TestApp, Who, between};

const HEFU: &str = baiqian_demo::ledger::HEFU;
const CHENTA: &str = baiqian_demo::CHENTA;

/// Reports a problem of 新民村 due on `deadline` as `who`; returns its id.
async fn report(app: &TestApp, who: &Who, deadline: &str) -> i64 {
    let res = app
        .post_form(
            &format!("/orgs/{XINMIN}/problems"),
            &[
                ("village", XINMIN),
                ("source", "survey"),
                ("description", "党员活动室漏雨，无法开展活动"),
                ("owner_name", "王建国"),
                ("measures", "修缮屋顶，更换门窗"),
                ("deadline", deadline),
                ("found_on", "2016-02-01"),
            ],
            who,
        )
        .await;
    assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.text());
    res.location()
        .and_then(|l| l.strip_prefix("/problems/").and_then(|n| n.parse().ok()))
        .expect("redirect to the problem")
}

async fn summary(app: &TestApp, code: &str, who: &Who) -> serde_json::Value {
    let res = app
        .get(&format!("/api/v1/orgs/{code}/problems/summary"), who)
        .await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.text());
    res.json()
}

/// The extension request waiting on problem `id`.
async fn waiting_extension(app: &TestApp, id: i64) -> i64 {
    sqlx::query_scalar(
        "SELECT id FROM deadline_extensions WHERE problem_id = $1 AND status = 'pending'",
    )
    .bind(id)
    .fetch_one(app.db.pool())
    .await
    .unwrap()
}

/// Logs a visit to 陈塔村 by leader `leader_id` as `who`.
async fn log_chenta_visit(
    app: &TestApp,
    leader_id: i64,
    on: &str,
    kind: &str,
    findings: &str,
    who: &Who,
) {
    let res = app
        .post_form(
            &format!("/orgs/{CHENTA}/visits"),
            &[
                ("leader_id", &leader_id.to_string()),
                ("visited_on", on),
                ("place", CHENTA),
                ("kind", kind),
                ("findings", findings),
            ],
            who,
        )
        .await;
    assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.text());
}

fn step(s: &'static str, note: &'static str) -> [(&'static str, &'static str); 2] {
    [("step", s), ("note", note)]
}

/// Rows of a board's list (`query` after `?`).
async fn listed(app: &TestApp, code: &str, query: &str, who: &Who) -> usize {
    let page = app
        .get(&format!("/orgs/{code}/problems?{query}"), who)
        .await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.text());
    between(&page.text(), "id=\"problems\"", "</table>")
        .map(|t| t.matches("href=\"/problems/").count())
        .unwrap_or(0)
}

async fn the_maker_never_closes_their_own_problem(app: TestApp) {
    let town = app.login("meishan.admin").await;
    let county = app.login("changxing.admin").await;
    // The reproduction: one township admin, start → rectify → verify.
    let id = report(&app, &town, "2016-06-30").await;
    for s in [step("start", ""), step("rectify", "屋顶已修缮")] {
        let res = app
            .post_form(&format!("/problems/{id}/steps"), &s, &town)
            .await;
        assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.text());
    }
    // The page does not offer what the rule refuses, and says why.
    let page = app.get(&format!("/problems/{id}"), &town).await.text();
    assert!(!page.contains("id=\"step-verify\""), "verify offered");
    assert!(page.contains("id=\"step-reopen\""), "sending back stays");
    assert!(page.contains("id=\"four-eyes-hint\""));
    let audits = app.audit_count().await;
    let res = app
        .post_form(
            &format!("/problems/{id}/checks"),
            &step("verify", ""),
            &town,
        )
        .await;
    assert_eq!(res.status, StatusCode::FORBIDDEN, "{}", res.text());
    assert!(
        res.text().contains("不能复核自己经手的事项"),
        "{}",
        res.text()
    );
    assert_eq!(app.audit_count().await, audits, "a refusal writes nothing");
    // Someone else above the village closes it.
    let page = app.get(&format!("/problems/{id}"), &county).await.text();
    assert!(page.contains("id=\"step-verify\""));
    let res = app
        .post_form(
            &format!("/problems/{id}/checks"),
            &step("verify", "现场查看"),
            &county,
        )
        .await;
    assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.text());
    let rows: Vec<(String, String)> = sqlx::query_as(
        "SELECT action, actor_login FROM audit_log WHERE entity = 'problem' AND entity_key = $1 \
         ORDER BY id",
    )
    .bind(format!("#{id} {XINMIN}"))
    .fetch_all(app.db.pool())
    .await
    .unwrap();
    let last = rows.last().unwrap();
    assert_eq!(
        (last.0.as_str(), last.1.as_str()),
        ("verify", "changxing.admin")
    );
}
both!(the_maker_never_closes_their_own_problem);

/// A ledger imported as already rectified counts as the importer's rectification: they do not
/// verify it either.
async fn an_imported_rectification_is_not_verified_by_its_importer(app: TestApp) {
    let town = app.login("meishan.admin").await;
    let county = app.login("changxing.admin").await;
    let file = crate::support::xlsx(&[
        vec!["村", "问题", "整改措施", "责任人", "整改时限", "状态"],
        vec![
            "新民村",
            "村务公开栏内容陈旧",
            "每月更新",
            "村党组织书记",
            "2016-06-30",
            "已整改",
        ],
    ]);
    let res = app
        .post_file(
            &format!("/orgs/{MEISHAN}/problems/import"),
            &file,
            "all",
            &town,
        )
        .await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.text());
    let id: i64 =
        sqlx::query_scalar("SELECT MAX(id) FROM problems WHERE description = '村务公开栏内容陈旧'")
            .fetch_one(app.db.pool())
            .await
            .unwrap();
    let res = app
        .post_form(
            &format!("/problems/{id}/checks"),
            &step("verify", ""),
            &town,
        )
        .await;
    assert_eq!(res.status, StatusCode::FORBIDDEN, "{}", res.text());
    let res = app
        .post_form(
            &format!("/problems/{id}/checks"),
            &step("verify", ""),
            &county,
        )
        .await;
    assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.text());
}
both!(an_imported_rectification_is_not_verified_by_its_importer);

async fn a_deadline_moves_with_a_reason_and_later_only_when_approved(app: TestApp) {
    let village = app.login("xinmin.secretary").await;
    let town = app.login("meishan.admin").await;
    let county = app.login("changxing.admin").await;
    // Due before the test clock's day (2016-03-01): overdue since the daily mark.
    let id = report(&app, &village, "2016-02-20").await;
    app.db
        .mark_overdue_problems(&baiqian_store::Actor::cli(), "2016-03-01", 0)
        .await
        .unwrap();
    let before = summary(&app, XINMIN, &village).await;
    assert_eq!(
        (before["overdue"].as_i64(), before["extended"].as_i64()),
        (Some(1), Some(0))
    );
    let plan = |deadline: &'static str, reason: &'static str| {
        [
            ("owner_name", "王建国"),
            ("measures", "修缮屋顶，更换门窗"),
            ("deadline", deadline),
            ("deadline_reason", reason),
        ]
    };
    // The reproduction: moved to 2099 quietly. Without a reason: refused, nothing written.
    let audits = app.audit_count().await;
    let res = app
        .post_form(
            &format!("/problems/{id}/plan"),
            &plan("2099-12-31", " "),
            &village,
        )
        .await;
    assert_eq!(
        res.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        res.text()
    );
    assert!(res.text().contains("调整时限的理由"), "{}", res.text());
    assert_eq!(app.audit_count().await, audits);
    // With a reason it is a request: the deadline in force and the overdue count stay.
    let res = app
        .post_form(
            &format!("/problems/{id}/plan"),
            &plan("2099-12-31", "雨季无法施工"),
            &village,
        )
        .await;
    assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.text());
    assert_eq!(
        res.location().as_deref(),
        Some(format!("/problems/{id}#extensions").as_str())
    );
    assert_eq!(
        summary(&app, XINMIN, &village).await,
        before,
        "nothing moved yet"
    );
    let page = app.get(&format!("/problems/{id}"), &village).await.text();
    assert!(
        page.contains("id=\"problem-deadline\">2016-02-20"),
        "{page}"
    );
    assert!(page.contains("雨季无法施工") && page.contains("待审批"));
    assert!(
        !page.contains("action=\"/deadline-extensions/"),
        "the village does not decide"
    );
    // A second request while one waits is refused.
    let res = app
        .post_form(
            &format!("/problems/{id}/plan"),
            &plan("2016-12-31", "再延"),
            &village,
        )
        .await;
    assert_eq!(res.status, StatusCode::CONFLICT, "{}", res.text());
    // The township sees it waiting: a task, and the list behind it.
    let tasks = app.get("/api/v1/me/tasks", &town).await.json();
    assert!(
        tasks["items"]
            .as_array()
            .unwrap()
            .iter()
            .any(|t| t["kind"] == "problem_extension"),
        "{tasks}"
    );
    assert_eq!(listed(&app, MEISHAN, "extension=waiting", &town).await, 1);
    let ext = waiting_extension(&app, id).await;
    // The village may not decide; another township does not see it; a decision is approve or
    // refuse; a refusal needs a reason.
    let audits = app.audit_count().await;
    let res = app
        .post_form(
            &format!("/deadline-extensions/{ext}"),
            &[("decision", "approve"), ("note", "")],
            &app.login("miaoxi.admin").await,
        )
        .await;
    assert_eq!(res.status, StatusCode::NOT_FOUND, "{}", res.text());
    let res = app
        .post_form(
            &format!("/deadline-extensions/{ext}"),
            &[("decision", "maybe"), ("note", "")],
            &town,
        )
        .await;
    assert_eq!(
        res.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        res.text()
    );
    let res = app
        .post_form(
            &format!("/deadline-extensions/{ext}"),
            &[("decision", "approve"), ("note", "")],
            &village,
        )
        .await;
    assert_eq!(res.status, StatusCode::FORBIDDEN);
    let res = app
        .post_form(
            &format!("/deadline-extensions/{ext}"),
            &[("decision", "refuse"), ("note", "")],
            &town,
        )
        .await;
    assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(app.audit_count().await, audits);
    // Approved by the township: the new deadline holds, the board counts it extended, and the
    // page keeps the original and the days late against it.
    let res = app
        .post_form(
            &format!("/deadline-extensions/{ext}"),
            &[("decision", "approve"), ("note", "同意")],
            &town,
        )
        .await;
    assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.text());
    let after = summary(&app, XINMIN, &village).await;
    assert_eq!(
        (after["overdue"].as_i64(), after["extended"].as_i64()),
        (Some(0), Some(1))
    );
    let town_counts = summary(&app, MEISHAN, &town).await;
    assert_eq!(
        listed(&app, MEISHAN, "extended=1", &town).await as i64,
        town_counts["extended"].as_i64().unwrap()
    );
    let page = app.get(&format!("/problems/{id}"), &village).await.text();
    assert!(page.contains("id=\"problem-deadline\">2099-12-31"));
    assert!(page.contains("id=\"problem-original\">原定 2016-02-20"));
    assert!(
        page.contains("id=\"problem-late-original\">较原定时限逾期 10 天"),
        "{page}"
    );
    assert!(page.contains("id=\"problem-extended\""));
    assert!(page.contains("已批准"));
    // A request the township admin files is decided by someone else: not by them.
    let res = app
        .post_form(
            &format!("/problems/{id}/plan"),
            &plan("2100-06-30", "工程顺延"),
            &town,
        )
        .await;
    assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.text());
    let ext = waiting_extension(&app, id).await;
    let res = app
        .post_form(
            &format!("/deadline-extensions/{ext}"),
            &[("decision", "approve"), ("note", "")],
            &town,
        )
        .await;
    assert_eq!(res.status, StatusCode::FORBIDDEN, "{}", res.text());
    let res = app
        .post_form(
            &format!("/deadline-extensions/{ext}"),
            &[("decision", "refuse"), ("note", "时限不再延长")],
            &county,
        )
        .await;
    assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.text());
    // Earlier, with a reason, applies at once; back at the original it is no longer extended.
    let res = app
        .post_form(
            &format!("/problems/{id}/plan"),
            &plan("2016-02-20", "按原定时限督办"),
            &village,
        )
        .await;
    assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.text());
    let back = summary(&app, XINMIN, &village).await;
    assert_eq!(
        (back["overdue"].as_i64(), back["extended"].as_i64()),
        (Some(1), Some(0))
    );
    // Every move is in the audit log with its reason.
    let reasons: Vec<Option<String>> = sqlx::query_scalar(
        "SELECT reason FROM audit_log WHERE entity IN ('problem', 'deadline_extension') \
         AND entity_key LIKE $1 AND action <> 'create' ORDER BY id",
    )
    .bind(format!("%#{id} {XINMIN}"))
    .fetch_all(app.db.pool())
    .await
    .unwrap();
    assert_eq!(
        reasons,
        [
            Some("同意".to_string()),
            Some("时限不再延长".to_string()),
            Some("按原定时限督办".to_string()),
        ]
    );
    assert_eq!(
        app.db.problem_tallies_kept().await.unwrap(),
        app.db.problem_tallies_recounted().await.unwrap()
    );
    assert_eq!(
        app.db.problem_group_tallies_kept().await.unwrap(),
        app.db.problem_group_tallies_recounted().await.unwrap()
    );
}
both!(a_deadline_moves_with_a_reason_and_later_only_when_approved);

/// A leader reads the ledger, logs their own visits and turns their own visit's findings into
/// problems; driving problems (reporting, steps, plans, evidence) is the village's and the
/// administrations' work.
async fn leaders_guide_and_look_but_do_not_drive_problems(app: TestApp) {
    let leader = app.login("hefu.leader").await;
    let town = app.login("hefu.admin").await;
    let problem: i64 = sqlx::query_scalar(
        "SELECT id FROM problems WHERE village_code = $1 \
         AND status IN ('open', 'in_progress', 'reopened') ORDER BY id LIMIT 1",
    )
    .bind(CHENTA)
    .fetch_one(app.db.pool())
    .await
    .unwrap();
    assert_eq!(
        app.get(&format!("/problems/{problem}"), &leader)
            .await
            .status,
        StatusCode::OK,
        "a leader reads"
    );
    let page = app
        .get(&format!("/problems/{problem}"), &leader)
        .await
        .text();
    assert!(!page.contains(&format!("action=\"/problems/{problem}/steps\"")));
    assert!(!page.contains("id=\"plan\""));
    let audits = app.audit_count().await;
    for (path, fields) in [
        (
            format!("/problems/{problem}/steps"),
            vec![("step", "start"), ("note", "")],
        ),
        (
            format!("/problems/{problem}/plan"),
            vec![
                ("owner_name", "x"),
                ("measures", "y"),
                ("deadline", "2099-12-31"),
                ("deadline_reason", "z"),
            ],
        ),
        (
            format!("/orgs/{CHENTA}/problems"),
            vec![
                ("village", CHENTA),
                ("source", "survey"),
                ("description", "x"),
                ("owner_name", "y"),
                ("measures", "z"),
                ("deadline", "2016-06-30"),
            ],
        ),
        (
            format!("/orgs/{HEFU}/leaders"),
            vec![("name", "张三"), ("title", "镇长")],
        ),
    ] {
        let res = app.post_form(&path, &fields, &leader).await;
        assert_eq!(res.status, StatusCode::FORBIDDEN, "{path}: {}", res.text());
    }
    assert_eq!(app.audit_count().await, audits, "refusals write nothing");
    // Another leader's visit is not theirs to turn into a problem; their own is.
    let own_leader: i64 = app
        .get(&format!("/orgs/{HEFU}/visits"), &leader)
        .await
        .between("name=\"leader_id\"><option value=\"", "\"")
        .and_then(|id| id.parse().ok())
        .expect("the leader's own record, the only one offered");
    log_chenta_visit(
        &app,
        own_leader,
        "2016-02-25",
        "research",
        "村务公开栏内容陈旧",
        &leader,
    )
    .await;
    let visit_of = |mine: bool| {
        let sql = format!(
            "SELECT MAX(v.id) FROM visits v WHERE v.place_code = $1 AND v.leader_id {} $2",
            if mine { "=" } else { "<>" }
        );
        let pool = app.db.pool().clone();
        async move {
            sqlx::query_scalar::<_, Option<i64>>(&sql)
                .bind(CHENTA)
                .bind(own_leader)
                .fetch_one(&pool)
                .await
                .unwrap()
        }
    };
    // Another leader of the township visits too, logged by the township's office.
    let other_leader: i64 = sqlx::query_scalar(
        "SELECT l.id FROM leaders l, orgs o WHERE o.code = $1 \
         AND substr(l.org_path, 1, length(o.path)) = o.path AND l.id <> $2 ORDER BY l.id LIMIT 1",
    )
    .bind(HEFU)
    .bind(own_leader)
    .fetch_one(app.db.pool())
    .await
    .unwrap();
    log_chenta_visit(
        &app,
        other_leader,
        "2016-02-26",
        "forum",
        "后备干部不足",
        &town,
    )
    .await;
    let (own, theirs) = (visit_of(true).await.unwrap(), visit_of(false).await);
    let finding = [
        ("village", CHENTA),
        ("description", "村务公开栏内容陈旧"),
        ("owner_name", "村党组织书记"),
        ("measures", "每月更新公开栏"),
        ("deadline", "2016-06-30"),
    ];
    let theirs = theirs.expect("the other leader's visit");
    let audits = app.audit_count().await;
    let res = app
        .post_form(&format!("/visits/{theirs}/problems"), &finding, &leader)
        .await;
    assert_eq!(res.status, StatusCode::FORBIDDEN, "{}", res.text());
    assert_eq!(app.audit_count().await, audits);
    let visits = app
        .get(&format!("/orgs/{CHENTA}/visits"), &leader)
        .await
        .text();
    assert!(visits.contains(&format!("action=\"/visits/{own}/problems\"")));
    assert!(!visits.contains(&format!("action=\"/visits/{theirs}/problems\"")));
    let res = app
        .post_form(&format!("/visits/{own}/problems"), &finding, &leader)
        .await;
    assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.text());
    // The township still names leaders.
    let res = app
        .post_form(
            &format!("/orgs/{HEFU}/leaders"),
            &[("name", "张三"), ("title", "镇长")],
            &town,
        )
        .await;
    assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.text());
}
both!(leaders_guide_and_look_but_do_not_drive_problems);

/// In Chromium, as the township that decides: a problem whose deadline was extended once and
/// has a second request waiting shows its original deadline, the days late against it, the
/// extensions and the decision form — on a phone (360 px) and a desk (1,440 px), in Chinese
/// and English, no wider than the screen.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn in_the_browser_a_problem_shows_its_extensions_on_a_phone_and_a_desk() {
    use crate::browser::{keep_screenshot, log_in, overflow, required, with_browser};
    use fantoccini::Locator;
    let Some((driver, chromium)) = required() else {
        return;
    };
    let app = TestApp::new(baiqian_store::Backend::Sqlite)
        .await
        .expect("sqlite app");
    let village = app.login("xinmin.secretary").await;
    let town = app.login("meishan.admin").await;
    let id = report(&app, &village, "2016-02-20").await;
    app.db
        .mark_overdue_problems(&baiqian_store::Actor::cli(), "2016-03-01", 0)
        .await
        .unwrap();
    for (deadline, reason) in [("2016-06-30", "雨季无法施工"), ("2016-09-30", "材料未到")]
    {
        let res = app
            .post_form(
                &format!("/problems/{id}/plan"),
                &[
                    ("owner_name", "王建国"),
                    ("measures", "修缮屋顶，更换门窗"),
                    ("deadline", deadline),
                    ("deadline_reason", reason),
                ],
                &village,
            )
            .await;
        assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.text());
        if deadline == "2016-06-30" {
            let ext = waiting_extension(&app, id).await;
            let res = app
                .post_form(
                    &format!("/deadline-extensions/{ext}"),
                    &[("decision", "approve"), ("note", "同意")],
                    &town,
                )
                .await;
            assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.text());
        }
    }
    with_browser(&app, &driver, &chromium, move |c, base| async move {
        log_in(&c, &base, "meishan.admin").await?;
        for lang in ["zh", "en"] {
            if lang == "en" {
                c.goto(&format!("{base}/lang/en?back=/problems/{id}"))
                    .await?;
            } else {
                c.goto(&format!("{base}/problems/{id}")).await?;
            }
            c.wait()
                .for_element(Locator::Id("problem-original"))
                .await?;
            c.find(Locator::Css("form[action^='/deadline-extensions/']"))
                .await?;
            for width in [360, 1440] {
                c.set_window_size(width, 900).await?;
                let over = overflow(&c).await?;
                assert!(over <= 0, "{lang} at {width} px: {over} px too wide");
                c.execute(
                    "document.getElementById('extensions')?.scrollIntoView()",
                    vec![],
                )
                .await?;
                keep_screenshot(
                    &c,
                    &format!("browser-problem-extensions-{lang}-{width}.png"),
                )
                .await?;
            }
        }
        Ok(())
    })
    .await;
}
