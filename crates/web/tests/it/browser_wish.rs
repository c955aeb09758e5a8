//! Micro-wishes in a real browser, on a phone: a member of 新民村 goes from their home to the
//! village's wishes, opens one nobody has claimed and claims it, and then sees whom it is for;
//! the board fits a phone in Chinese and a desk in English. Screenshots go to
//! `target/browser-wish-*.png`.

use fantoccini::Locator;

use crate::browser::{log_in, overflow, required, with_browser};
use crate::support::TestApp;
use crate::support::codes::XINMIN;

fn shot(name: &str, png: Vec<u8>) {
    let _ = std::fs::write(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join(format!("../../target/browser-wish-{name}.png")),
        png,
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_member_claims_a_wish_on_a_phone() {
    let Some((driver, chromium)) = required() else {
        return;
    };
    let app = TestApp::new(baiqian_store::Backend::Sqlite)
        .await
        .expect("sqlite app");
    app.db
        .create_user(
            &baiqian_store::Actor::cli(),
            baiqian_store::user::NewUser {
                login: "xinmin.helper".into(),
                name: "新民村党员".into(),
                role: baiqian_domain::role::Role::Member,
                org_code: baiqian_domain::org::OrgCode::parse(XINMIN).expect("code"),
                password_hash: baiqian_web::auth::hash_password(baiqian_demo::DEMO_PASSWORD)
                    .expect("hash"),
            },
            crate::support::T0,
        )
        .await
        .expect("a member's login");
    let (id, villager): (i64, String) = sqlx::query_as(
        "SELECT id, villager_name FROM wishes WHERE org_code = $1 AND status = 'posted' \
         AND title = '想学用智能手机和子女视频'",
    )
    .bind(XINMIN)
    .fetch_one(app.db.pool())
    .await
    .expect("新民村's open wish");
    let db = app.db.clone();
    with_browser(&app, &driver, &chromium, move |c, base| async move {
        c.set_window_size(360, 800).await?;
        log_in(&c, &base, "xinmin.helper").await?;
        c.find(Locator::Id("open-wishes")).await?.click().await?;
        c.wait().for_element(Locator::Id("wish-figures")).await?;
        assert!(overflow(&c).await? <= 0, "the board is wider than a phone");
        shot("board-360", c.screenshot().await?);
        c.find(Locator::Css(&format!("a[href='/wishes/{id}']")))
            .await?
            .click()
            .await?;
        c.wait().for_element(Locator::Id("claim-wish")).await?;
        // Before the claim, whom it is for is not shown to this member.
        let facts = c.find(Locator::Id("wish-facts")).await?.text().await?;
        assert!(!facts.contains(&villager), "{facts}");
        assert!(overflow(&c).await? <= 0, "the wish is wider than a phone");
        c.find(Locator::Id("claim-wish")).await?.click().await?;
        let name = c
            .wait()
            .for_element(Locator::Id("villager-name"))
            .await?
            .text()
            .await?;
        assert_eq!(name, villager);
        let status = c.find(Locator::Id("wish-status")).await?.text().await?;
        assert_eq!(status, "已认领");
        c.wait().for_element(Locator::Id("fulfil-form")).await?;
        shot("claimed-360", c.screenshot().await?);
        let (status, holder): (String, Option<String>) =
            sqlx::query_as("SELECT status, claimed_by FROM wishes WHERE id = $1")
                .bind(id)
                .fetch_one(db.pool())
                .await
                .expect("the wish");
        assert_eq!(
            (status.as_str(), holder.as_deref()),
            ("claimed", Some("xinmin.helper"))
        );
        // The city's board, at a desk, in English.
        c.delete_all_cookies().await?;
        c.set_window_size(1440, 900).await?;
        log_in(&c, &base, "city.admin").await?;
        c.goto(&format!("{base}/lang/en")).await?;
        c.goto(&format!("{base}/orgs/330500/wishes?list=stalled"))
            .await?;
        c.wait().for_element(Locator::Id("wish-list")).await?;
        assert!(overflow(&c).await? <= 0, "the board is wider than the desk");
        shot("board-1440-en", c.screenshot().await?);
        Ok(())
    })
    .await;
}
