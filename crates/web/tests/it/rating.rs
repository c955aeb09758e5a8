//! Standards, the rating round from self-assessment to publication, re-rating, the pioneer
//! check, evidence — each through the HTTP app, with out-of-scope and out-of-turn refusals.

use axum::http::StatusCode;
use baiqian_domain::rating::Stage;
use baiqian_domain::scope::Scope;
use baiqian_store::rating::BulkScore;
use baiqian_store::rating::standard::StandardSet;

use crate::both;
use crate::support::codes::*;
use crate::support::{TestApp, Who, between, xlsx};

pub(crate) async fn set_by_code(app: &TestApp, code: &str) -> StandardSet {
    app.db
        .standard_sets(&Scope::everything())
        .await
        .unwrap()
        .into_iter()
        .find(|s| s.code == code)
        .unwrap()
}

pub(crate) fn sheet(bytes: &[u8]) -> Vec<Vec<String>> {
    baiqian_web::excel::read_first_sheet(bytes).unwrap()
}

async fn standard_set_round_trips_through_xlsx(app: TestApp) {
    let city = app.login("city.admin").await;
    let v1 = set_by_code(&app, "HZ-BQ").await;
    let exported = app
        .get(&format!("/standards/{}/export", v1.id), &city)
        .await;
    assert_eq!(exported.status, StatusCode::OK);
    let res = app
        .post_multipart(
            "/standards",
            &[("code", "HZ-BQ"), ("name", "湖州市基本要求（修订）")],
            &[("file", "hzbq.xlsx", &exported.body)],
            &city,
        )
        .await;
    assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.text());
    let v2_id: i64 = res
        .location()
        .unwrap()
        .trim_start_matches("/standards/")
        .parse()
        .unwrap();
    let (v2, _) = app
        .db
        .standard_set(&Scope::everything(), v2_id)
        .await
        .unwrap();
    assert_eq!((v2.code.as_str(), v2.version), ("HZ-BQ", 2));
    assert_eq!(v2.item_count, v1.item_count);
    assert!(!v2.locked && v1.locked, "v1 is used by rounds, v2 is new");
    let again = app.get(&format!("/standards/{v2_id}/export"), &city).await;
    assert_eq!(sheet(&again.body), sheet(&exported.body), "round trip");
    assert!(sheet(&exported.body).len() > 20);

    // A bad sheet: every bad cell reported, nothing written.
    let sets = app
        .db
        .standard_sets(&Scope::everything())
        .await
        .unwrap()
        .len();
    let audits = app.audit_count().await;
    let bad = xlsx(&[
        vec![
            "分组",
            "编号",
            "内容",
            "满分",
            "评分说明",
            "佐证材料",
            "一票否决",
        ],
        vec!["组织", "X1", "班子健全", "5", "", "", "否"],
        vec!["组织", "X1", "重复编号", "5", "", "", "否"],
        vec!["组织", "X2", "分数不对", "abc", "", "", "否"],
        vec!["组织", "X3", "否决填错", "0", "", "", "也许"],
    ]);
    let res = app
        .post_multipart(
            "/standards",
            &[("code", "HZ-NEW"), ("name", "新标准")],
            &[("file", "bad.xlsx", &bad)],
            &city,
        )
        .await;
    assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY);
    let report = res.between("id=\"import-report\"", "</table>").unwrap();
    for needle in [
        "编号 (code)",
        "满分 (full_score)",
        "一票否决 (veto)",
        ">3<",
        ">4<",
        ">5<",
    ] {
        assert!(report.contains(needle), "{needle} in {report}");
    }
    assert!(report.contains("appears twice"), "English too: {report}");
    assert_eq!(
        app.db
            .standard_sets(&Scope::everything())
            .await
            .unwrap()
            .len(),
        sets
    );
    assert_eq!(app.audit_count().await, audits);

    // A set in use is read-only; the new version takes an item typed in the form.
    let item = [
        ("group_name", "组织建设"),
        ("code", "A9"),
        ("body", "新增条目"),
        ("full_score", "2"),
    ];
    let res = app
        .post_form(&format!("/standards/{}/items", v1.id), &item, &city)
        .await;
    assert_eq!(res.status, StatusCode::CONFLICT);
    let res = app
        .post_form(&format!("/standards/{v2_id}/items"), &item, &city)
        .await;
    assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.text());

    // Scope: 南浔区's own set is not 长兴县's to read; the city's applies to every village.
    let nx = set_by_code(&app, "NX-33").await;
    let cx = app.login("changxing.admin").await;
    assert_eq!(
        app.get(&format!("/standards/{}", nx.id), &cx).await.status,
        StatusCode::NOT_FOUND
    );
    let sec = app.login("xinmin.secretary").await;
    assert_eq!(
        app.get(&format!("/standards/{}", v1.id), &sec).await.status,
        StatusCode::OK
    );
    let res = app
        .post_multipart(
            "/standards",
            &[("code", "V1"), ("name", "村标准")],
            &[],
            &sec,
        )
        .await;
    assert_eq!(res.status, StatusCode::FORBIDDEN);
}
both!(standard_set_round_trips_through_xlsx);

/// Opens the 2017 round as the city and approves every village but 新民村 in bulk, so that
/// 新民村's own steps decide when the round can be published.
pub(crate) async fn open_2017(app: &TestApp) -> i64 {
    let city = app.login("city.admin").await;
    let set = set_by_code(app, "HZ-BQ").await;
    let form = [
        ("set_id", set.id.to_string()),
        ("self_due", "2017-10-31".to_string()),
        ("review_due", "2017-11-30".to_string()),
        ("approve_due", "2017-12-20".to_string()),
    ];
    let fields: Vec<(&str, &str)> = form.iter().map(|(k, v)| (*k, v.as_str())).collect();
    // A county may not open the city's round; nothing is written.
    let audits = app.audit_count().await;
    let cx = app.login("changxing.admin").await;
    let res = app
        .post_form(
            &format!("/orgs/{CHANGXING}/ratings/2017/open"),
            &fields,
            &cx,
        )
        .await;
    assert_eq!(res.status, StatusCode::FORBIDDEN);
    assert_eq!(app.audit_count().await, audits);
    let res = app
        .post_form(&format!("/orgs/{CITY}/ratings/2017/open"), &fields, &city)
        .await;
    assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.text());
    let round = app
        .db
        .round_for(&app.node(CITY).await, 2017)
        .await
        .unwrap()
        .unwrap();
    let (_, items) = app
        .db
        .standard_set(&Scope::everything(), set.id)
        .await
        .unwrap();
    let villages: Vec<String> = app
        .db
        .assessments_under(
            &round,
            &app.node(CITY).await,
            &Default::default(),
            "2017-01-01",
            5000,
        )
        .await
        .unwrap()
        .into_iter()
        .map(|a| a.org_code)
        .filter(|c| c != XINMIN)
        .collect();
    let scores: Vec<BulkScore> = villages
        .into_iter()
        .map(|org_code| BulkScore {
            org_code,
            stage: Stage::Approved,
            items: items.iter().map(|i| (i.id, i.full_score, false)).collect(),
        })
        .collect();
    app.db
        .bulk_score_round(
            &baiqian_store::Actor::cli(),
            round.id,
            &scores,
            crate::support::T0,
        )
        .await
        .unwrap();
    round.id
}

pub(crate) async fn xinmin_2017(app: &TestApp) -> (i64, Vec<(i64, i64, bool)>) {
    let (a, items, _) = app
        .db
        .assessment_of(&Scope::everything(), &app.node(XINMIN).await, 2017)
        .await
        .unwrap()
        .unwrap();
    (
        a.id,
        items
            .iter()
            .map(|i| (i.item.id, i.item.full_score, i.item.veto))
            .collect(),
    )
}

/// 新民村's 2016 assessment as it stands.
pub(crate) async fn xinmin_2016(app: &TestApp) -> baiqian_store::rating::Assessment {
    app.db
        .assessment_of(&Scope::everything(), &app.node(XINMIN).await, 2016)
        .await
        .unwrap()
        .unwrap()
        .0
}

pub(crate) async fn stage_of(app: &TestApp, id: i64) -> Stage {
    app.db
        .assessment_by_id(&Scope::everything(), id)
        .await
        .unwrap()
        .stage
}

async fn full_round_from_self_assessment_to_publication(app: TestApp) {
    open_2017(&app).await;
    let (id, items) = xinmin_2017(&app).await;
    let sec = app.login("xinmin.secretary").await;
    let town = app.login("meishan.admin").await;
    let county = app.login("changxing.admin").await;
    let city = app.login("city.admin").await;
    let step = |who: &Who, action: &str, reason: &str| {
        let who = who.clone();
        let (action, reason) = (action.to_string(), reason.to_string());
        let app = &app;
        async move {
            app.post_form(
                &format!("/assessments/{id}/step"),
                &[("action", &action), ("reason", &reason)],
                &who,
            )
            .await
        }
    };

    // The village cannot submit before scoring every item.
    let res = step(&sec, "forward", "").await;
    assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(stage_of(&app, id).await, Stage::Draft);

    // A score above the item's full score is refused; nothing written.
    let audits = app.audit_count().await;
    let (first, full, _) = items[0];
    let res = app
        .post_form(
            &format!("/assessments/{id}/scores"),
            &[(&format!("score_{first}"), &(full + 1).to_string())],
            &sec,
        )
        .await;
    assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(res.text().contains("value=\""), "typed values kept");
    assert_eq!(app.audit_count().await, audits);

    // Out of scope and out of turn: nothing written.
    let other = app.login("longshan.secretary").await;
    let fields: Vec<(String, String)> = items
        .iter()
        .map(|(i, f, _)| (format!("score_{i}"), f.to_string()))
        .collect();
    let form: Vec<(&str, &str)> = fields
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    let res = app
        .post_form(&format!("/assessments/{id}/scores"), &form, &other)
        .await;
    assert_eq!(res.status, StatusCode::NOT_FOUND);
    let res = app
        .post_form(&format!("/assessments/{id}/scores"), &form, &town)
        .await;
    assert_eq!(res.status, StatusCode::CONFLICT);
    assert_eq!(
        step(&town, "forward", "").await.status,
        StatusCode::CONFLICT
    );
    assert_eq!(
        step(&county, "forward", "").await.status,
        StatusCode::CONFLICT
    );
    assert_eq!(app.audit_count().await, audits);
    assert_eq!(stage_of(&app, id).await, Stage::Draft);

    // The village scores every item and submits.
    let res = app
        .post_form(&format!("/assessments/{id}/scores"), &form, &sec)
        .await;
    assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.text());
    assert_eq!(
        step(&sec, "forward", "").await.status,
        StatusCode::SEE_OTHER
    );
    assert_eq!(stage_of(&app, id).await, Stage::Submitted);
    assert_eq!(step(&sec, "forward", "").await.status, StatusCode::CONFLICT);

    // Another township cannot see it; 煤山镇 changes a score only with a reason.
    let miaoxi = app.login("miaoxi.admin").await;
    assert_eq!(
        step(&miaoxi, "forward", "").await.status,
        StatusCode::NOT_FOUND
    );
    let lowered = (full - 2).to_string();
    let key = format!("score_{first}");
    let res = app
        .post_form(
            &format!("/assessments/{id}/scores"),
            &[(&key, &lowered)],
            &town,
        )
        .await;
    assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY);
    let text_key = format!("text_{first}");
    let res = app
        .post_form(
            &format!("/assessments/{id}/scores"),
            &[(&key, &lowered), (&text_key, "会议记录不全")],
            &town,
        )
        .await;
    assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.text());

    // Sent back with a reason, resubmitted, reviewed.
    assert_eq!(
        step(&town, "back", " ").await.status,
        StatusCode::UNPROCESSABLE_ENTITY
    );
    assert_eq!(
        step(&town, "back", "请补充佐证材料").await.status,
        StatusCode::SEE_OTHER
    );
    assert_eq!(stage_of(&app, id).await, Stage::Draft);
    assert_eq!(
        step(&sec, "forward", "").await.status,
        StatusCode::SEE_OTHER
    );
    assert_eq!(
        step(&town, "forward", "").await.status,
        StatusCode::SEE_OTHER
    );
    assert_eq!(stage_of(&app, id).await, Stage::Reviewed);

    // While a village waits for approval, the city's board shows publishing disabled and why;
    // without its box ticked a publish is refused on the board, nothing written.
    let board = app
        .get(&format!("/orgs/{CITY}/ratings/2017"), &city)
        .await
        .text();
    let blocked = between(&board, "id=\"publish-blocked\">", "</p>").unwrap_or_default();
    assert!(
        blocked.contains('1'),
        "the reason names the count: {blocked}"
    );
    assert!(board.contains("aria-describedby=\"publish-blocked\""));
    let audits = app.audit_count().await;
    let res = app
        .post_form(&format!("/orgs/{CITY}/ratings/2017/publish"), &[], &city)
        .await;
    assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(res.text().contains("请勾选确认") && res.text().contains("id=\"sidenav\""));
    assert_eq!(app.audit_count().await, audits);
    // Another county cannot approve; the city may not publish before 长兴县 approves.
    let wuxing = app.login("wuxing.admin").await;
    assert_eq!(
        step(&wuxing, "forward", "").await.status,
        StatusCode::NOT_FOUND
    );
    let res = app
        .post_form(
            &format!("/orgs/{CITY}/ratings/2017/publish"),
            &[("confirm", "1")],
            &city,
        )
        .await;
    assert_eq!(res.status, StatusCode::CONFLICT);
    assert!(res.text().contains("1"), "names the count: {}", res.text());
    assert_eq!(
        step(&county, "forward", "").await.status,
        StatusCode::SEE_OTHER
    );
    assert_eq!(stage_of(&app, id).await, Stage::Approved);

    // The county may not publish; the city does.
    let res = app
        .post_form(
            &format!("/orgs/{CHANGXING}/ratings/2017/publish"),
            &[("confirm", "1")],
            &county,
        )
        .await;
    assert_eq!(res.status, StatusCode::FORBIDDEN);
    let res = app
        .post_form(
            &format!("/orgs/{CITY}/ratings/2017/publish"),
            &[("confirm", "1")],
            &city,
        )
        .await;
    assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.text());
    assert_eq!(stage_of(&app, id).await, Stage::Published);
    let res = app
        .post_form(&format!("/assessments/{id}/scores"), &form, &sec)
        .await;
    assert_eq!(res.status, StatusCode::CONFLICT, "published is final");

    // Every step is on the village's page and in the audit log.
    let page = app.get(&format!("/orgs/{XINMIN}/ratings/2017"), &sec).await;
    assert_eq!(page.status, StatusCode::OK);
    let steps = page.between("id=\"steps\"", "</ol>").unwrap();
    for s in [
        "xinmin.secretary",
        "meishan.admin",
        "changxing.admin",
        "city.admin",
        "请补充佐证材料",
    ] {
        assert!(steps.contains(s), "{s} in {steps}");
    }
    let audit = app.get("/audit?entity=assessment", &city).await;
    assert!(
        audit.text().contains("<td data-label=\"操作\">退回</td>"),
        "the step in words: {}",
        audit.text()
    );

    // The API over 煤山镇: published, every village rated.
    let token = app.token("meishan.admin").await;
    let res = app
        .get(&format!("/api/v1/orgs/{MEISHAN}/ratings/2017"), &token)
        .await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.text());
    let j = res.json();
    assert_eq!(j["year"], 2017);
    assert_eq!(j["published"], true);
    let rated: i64 = (1..=5)
        .map(|s| j["stars"][s.to_string()].as_i64().unwrap())
        .sum();
    let classes: i64 = ["pioneer", "advancing", "lagging"]
        .iter()
        .map(|c| j["classes"][c].as_i64().unwrap())
        .sum();
    let meishan = app
        .db
        .org(
            &Scope::everything(),
            &baiqian_domain::org::OrgCode::parse(MEISHAN).unwrap(),
        )
        .await
        .unwrap();
    let villages = app.db.org_counts(&meishan).await.unwrap();
    assert_eq!(rated, villages.village);
    assert_eq!(j["stars"]["unrated"], 0);
    assert_eq!(classes, rated);
    // Outside the reader's scope: 404.
    let res = app
        .get(&format!("/api/v1/orgs/{WUXING}/ratings/2017"), &token)
        .await;
    assert_eq!(res.status, StatusCode::NOT_FOUND);
}
both!(full_round_from_self_assessment_to_publication);

/// Scores every item of 新民村's 2016 assessment at full marks and takes it to approval.
pub(crate) async fn approve_xinmin_2016(app: &TestApp) -> i64 {
    let id = score_xinmin_2016(app).await;
    for login in ["xinmin.secretary", "meishan.admin", "changxing.admin"] {
        let who = app.login(login).await;
        let res = app
            .post_form(
                &format!("/assessments/{id}/step"),
                &[("action", "forward")],
                &who,
            )
            .await;
        assert_eq!(res.status, StatusCode::SEE_OTHER, "{login}: {}", res.text());
    }
    id
}

/// Scores every item of 新民村's 2016 self-assessment at full marks, as its secretary.
pub(crate) async fn score_xinmin_2016(app: &TestApp) -> i64 {
    let (a, items, _) = app
        .db
        .assessment_of(&Scope::everything(), &app.node(XINMIN).await, 2016)
        .await
        .unwrap()
        .unwrap();
    let fields: Vec<(String, String)> = items
        .iter()
        .map(|i| {
            (
                format!("score_{}", i.item.id),
                i.item.full_score.to_string(),
            )
        })
        .collect();
    let form: Vec<(&str, &str)> = fields
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    let sec = app.login("xinmin.secretary").await;
    let res = app
        .post_form(&format!("/assessments/{}/scores", a.id), &form, &sec)
        .await;
    assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.text());
    a.id
}

pub(crate) fn facts_sheet(income: &str) -> Vec<u8> {
    xlsx(&[
        vec![
            "代码",
            "村名",
            "村级集体经济年经常性收入(元)",
            "美丽乡村创建级别",
            "美丽乡村创建年度",
            "党建特色工作",
            "推广层级",
        ],
        vec![
            XINMIN,
            "新民村",
            income,
            "市级",
            "2014",
            "党员先锋岗",
            "县级",
        ],
    ])
}

async fn pioneer_check_names_the_failing_criterion(app: TestApp) {
    let city = app.login("city.admin").await;
    // A bad facts sheet: each bad cell reported; nothing written.
    let audits = app.audit_count().await;
    let bad = xlsx(&[
        vec![
            "代码",
            "村级集体经济年经常性收入(元)",
            "美丽乡村创建级别",
            "美丽乡村创建年度",
        ],
        vec![XINMIN, "五十万", "市级", "2014"],
        vec![LONGSHAN, "600000", "镇级", "2030"],
        vec!["330599999999", "1", "", ""],
    ]);
    let res = app
        .post_file(
            &format!("/orgs/{CITY}/village-facts/2016"),
            &bad,
            "all",
            &city,
        )
        .await;
    assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY);
    let report = res.between("id=\"import-report\"", "</table>").unwrap();
    for needle in [
        "income",
        "beautiful_level",
        "beautiful_year",
        "code",
        ">2<",
        ">3<",
        ">4<",
    ] {
        assert!(report.contains(needle), "{needle} in {report}");
    }
    assert_eq!(app.audit_count().await, audits);

    // 新民村 with every criterion met is a pioneer.
    let res = app
        .post_file(
            &format!("/orgs/{CITY}/village-facts/2016"),
            &facts_sheet("600000"),
            "all",
            &city,
        )
        .await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.text());
    approve_xinmin_2016(&app).await;
    let page = app
        .get(&format!("/orgs/{XINMIN}/ratings/2016"), &city)
        .await;
    let class = page.between("id=\"class\">", "</strong>").unwrap();
    assert!(class.contains("先锋示范村"), "{class}");
    assert!(!page.text().contains("class=\"unmet\""));

    // Income below 500,000 yuan: the check names that criterion, and only that one.
    let res = app
        .post_file(
            &format!("/orgs/{CITY}/village-facts/2016"),
            &facts_sheet("499999.99"),
            "all",
            &city,
        )
        .await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.text());
    let page = app
        .get(&format!("/orgs/{XINMIN}/ratings/2016"), &city)
        .await;
    let check = page.between("id=\"pioneer-check\"", "</ul>").unwrap();
    assert!(
        check.contains("class=\"unmet\" data-criterion=\"collective-income\""),
        "{check}"
    );
    assert_eq!(check.matches("class=\"unmet\"").count(), 1, "{check}");
    let class = page.between("id=\"class\">", "</strong>").unwrap();
    assert!(class.contains("全面晋位村"), "{class}");
    let gaps = page.between("id=\"gaps\"", "</ul>").unwrap();
    assert!(gaps.contains("50 万元"), "{gaps}");

    // A county's decision overrides the rule, audited and shown as such; a reason is required.
    let county = app.login("changxing.admin").await;
    let a = xinmin_2016(&app).await;
    let res = app
        .post_form(
            &format!("/assessments/{}/class", a.id),
            &[("class", "pioneer"), ("reason", "")],
            &county,
        )
        .await;
    assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY);
    let res = app
        .post_form(
            &format!("/assessments/{}/class", a.id),
            &[("class", "pioneer"), ("reason", "年底前收入可达标")],
            &county,
        )
        .await;
    assert_eq!(res.status, StatusCode::SEE_OTHER);
    let page = app
        .get(&format!("/orgs/{XINMIN}/ratings/2016"), &city)
        .await;
    assert!(page.text().contains("年底前收入可达标"));
    let audit = app.get("/audit?entity=village_class", &city).await;
    assert!(audit.text().contains("年底前收入可达标"));
    // The village's own secretary may not decide.
    let sec = app.login("xinmin.secretary").await;
    let res = app
        .post_form(
            &format!("/assessments/{}/class", a.id),
            &[("class", "pioneer"), ("reason", "自定")],
            &sec,
        )
        .await;
    assert_eq!(res.status, StatusCode::FORBIDDEN);
}
both!(pioneer_check_names_the_failing_criterion);

pub(crate) async fn stars_of(app: &TestApp, who: &Who, year: i64) -> Vec<i64> {
    let j = app
        .get(&format!("/api/v1/orgs/{CITY}/ratings/{year}"), who)
        .await
        .json();
    (1..=5)
        .map(|s| j["stars"][s.to_string()].as_i64().unwrap())
        .collect()
}

async fn threshold_change_rerates_and_says_what_moved(app: TestApp) {
    let city = app.login("city.admin").await;
    let token = app.token("city.admin").await;
    let before = stars_of(&app, &token, 2016).await;
    assert!(before[4] > 0, "the demo has 5-star villages: {before:?}");
    let rules = |t5: &'static str, t3: &'static str| {
        vec![
            ("t2", "60"),
            ("t3", t3),
            ("t4", "80"),
            ("t5", t5),
            ("veto_cap", "2"),
            ("lagging_max", "2"),
            ("lagging_on_veto", "1"),
            ("confirm", "1"),
        ]
    };
    // Refused: out of order, a county, a published year. Nothing written.
    let audits = app.audit_count().await;
    let res = app
        .post_form(
            &format!("/orgs/{CITY}/ratings/2016/rules"),
            &rules("95", "55"),
            &city,
        )
        .await;
    assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY);
    let county = app.login("changxing.admin").await;
    let res = app
        .post_form(
            &format!("/orgs/{CHANGXING}/ratings/2016/rules"),
            &rules("95", "70"),
            &county,
        )
        .await;
    assert_eq!(res.status, StatusCode::FORBIDDEN);
    let res = app
        .post_form(
            &format!("/orgs/{CITY}/ratings/2015/rules"),
            &rules("95", "70"),
            &city,
        )
        .await;
    assert_eq!(res.status, StatusCode::CONFLICT);
    assert_eq!(app.audit_count().await, audits);
    assert_eq!(stars_of(&app, &token, 2016).await, before);

    // Without the box that says every village is re-rated: refused on the board, nothing written.
    let unconfirmed: Vec<(&str, &str)> = rules("97", "70")
        .into_iter()
        .filter(|(k, _)| *k != "confirm")
        .collect();
    let res = app
        .post_form(
            &format!("/orgs/{CITY}/ratings/2016/rules"),
            &unconfirmed,
            &city,
        )
        .await;
    assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(res.text().contains("请勾选确认"), "{}", res.text());
    assert_eq!(app.audit_count().await, audits);
    assert_eq!(stars_of(&app, &token, 2016).await, before);

    // Raising the 5-star line moves villages down at once and says so.
    let res = app
        .post_form(
            &format!("/orgs/{CITY}/ratings/2016/rules"),
            &rules("97", "70"),
            &city,
        )
        .await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.text());
    let after = stars_of(&app, &token, 2016).await;
    assert!(after[4] < before[4], "{before:?} → {after:?}");
    assert_eq!(after.iter().sum::<i64>(), before.iter().sum::<i64>());
    let moved = before[4] - after[4];
    let notice = res.between("id=\"rerate-result\"", "</div>").unwrap();
    assert!(notice.contains("降星"), "{notice}");
    assert!(res.text().contains("id=\"moved\""));
    assert!(moved > 0);
    assert_eq!(app.audit_count().await, audits + 1);
    // The benchmark's set-based statement computes the same: after the application's
    // re-rating it finds nothing left to change.
    let round = app
        .db
        .round_for(&app.node(CITY).await, 2016)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        baiqian_store::rating::rerate_set_based(&app.db, round.id)
            .await
            .unwrap(),
        0
    );
}
both!(threshold_change_rerates_and_says_what_moved);
