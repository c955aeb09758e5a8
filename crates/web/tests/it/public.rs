//! The published results anyone may read (公示): what a published round covers, and nothing
//! of a round in progress, of people, or of the signed-in system.

use axum::http::StatusCode;

use crate::both;
use crate::support::codes::{CITY, MEISHAN, XINMIN};
use crate::support::{TestApp, Who};

async fn published_years_are_public_and_the_year_in_progress_is_not(app: TestApp) {
    let anon = Who::Anonymous;
    let public = app
        .get(&format!("/api/v1/public/orgs/{CITY}/ratings/2015"), &anon)
        .await;
    assert_eq!(public.status, StatusCode::OK, "{}", public.text());
    let city = app.token("city.admin").await;
    let scoped = app
        .get(&format!("/api/v1/orgs/{CITY}/ratings/2015"), &city)
        .await;
    assert_eq!(
        public.json(),
        scoped.json(),
        "the same figures as signed in"
    );
    let j = public.json();
    assert_eq!(j["published"], true);
    let rated: i64 = (1..=5)
        .map(|s| j["stars"][s.to_string()].as_i64().unwrap())
        .sum();
    assert!(rated > 900, "2015 rated every village: {j}");

    // 2016 is in progress; 2010 had no round; 999999 is nowhere.
    for url in [
        format!("/api/v1/public/orgs/{CITY}/ratings/2016"),
        format!("/api/v1/public/orgs/{XINMIN}/ratings/2016"),
        format!("/api/v1/public/orgs/{CITY}/ratings/2010"),
        "/api/v1/public/orgs/999999/ratings/2015".to_string(),
        format!("/public/orgs/{CITY}?year=2016"),
        "/public/orgs/999999".to_string(),
    ] {
        let res = app.get(&url, &anon).await;
        assert_eq!(res.status, StatusCode::NOT_FOUND, "{url}");
    }
}
both!(published_years_are_public_and_the_year_in_progress_is_not);

async fn public_pages_show_stars_and_classes_and_nothing_personal(app: TestApp) {
    let anon = Who::Anonymous;
    let xinmin = app.node(XINMIN).await;
    let village = app.get(&format!("/public/orgs/{XINMIN}"), &anon).await;
    assert_eq!(village.status, StatusCode::OK);
    let history = village
        .between("id=\"public-history\"", "</table>")
        .expect("the village's years");
    assert!(
        history.contains("2015") && history.contains('★'),
        "{history}"
    );
    assert!(
        !history.contains("2016"),
        "2016 is not published: {history}"
    );

    let township = app.get(&format!("/public/orgs/{MEISHAN}"), &anon).await;
    assert_eq!(township.status, StatusCode::OK);
    let children = township
        .between("id=\"public-children\"", "</table>")
        .expect("the villages of the township");
    assert!(children.contains(&xinmin.name), "{children}");
    assert!(children.contains(&format!("/public/orgs/{XINMIN}")));

    let home = app.get("/public", &anon).await;
    assert_eq!(home.status, StatusCode::OK);
    assert!(home.text().contains(&format!("/public/orgs/{CITY}")));

    for page in [&village, &township, &home] {
        let text = page.text();
        if let Some(secretary) = &xinmin.secretary_name {
            assert!(
                !text.contains(secretary.as_str()),
                "a name on a public page"
            );
        }
        for internal in ["href=\"/orgs/", "/members/", "/audit", "/users", "csrf"] {
            assert!(!text.contains(internal), "{internal} on a public page");
        }
    }
    // In English too.
    let en = app
        .get_lang(&format!("/public/orgs/{MEISHAN}"), &anon.with_lang("en"))
        .await;
    assert!(en.text().contains("Published ratings"), "{}", en.text());
}
both!(public_pages_show_stars_and_classes_and_nothing_personal);
