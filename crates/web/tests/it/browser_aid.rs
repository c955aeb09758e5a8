//! The mutual-aid associations in a real browser: 龙山村's secretary enters a grant for 朱吉利
//! on a phone, and 妙西镇's administration approves it at a desk; both pages fit the screen, in
//! Chinese and English; the ledgers' import pages open from the board and fit both screens.
//! Screenshots go to `target/browser-aid-*.png`.

use fantoccini::Locator;

use crate::browser::{log_in, overflow, required, with_browser};
use crate::support::TestApp;

fn shot(name: &str, png: Vec<u8>) {
    let _ = std::fs::write(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join(format!("../../target/browser-aid-{name}.png")),
        png,
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_village_secretary_enters_a_grant_and_the_township_approves_it() {
    let Some((driver, chromium)) = required() else {
        return;
    };
    let app = TestApp::new(baiqian_store::Backend::Sqlite)
        .await
        .expect("sqlite app");
    let db = app.db.clone();
    let longshan = baiqian_demo::LONGSHAN;
    // 妙西镇, 龙山村's township.
    let miaoxi = &longshan[..9];
    let (association,): (i64,) =
        sqlx::query_as("SELECT id FROM aid_associations WHERE org_code = $1")
            .bind(longshan)
            .fetch_one(db.pool())
            .await
            .expect("龙山村's association");
    with_browser(&app, &driver, &chromium, move |c, base| async move {
        // The secretary, on a phone: from the village's page to its association.
        c.set_window_size(360, 800).await?;
        log_in(&c, &base, "longshan.secretary").await?;
        c.goto(&format!("{base}/orgs/{longshan}")).await?;
        c.find(Locator::Id("open-aid")).await?.click().await?;
        c.wait()
            .for_element(Locator::Css(&format!(
                "a[href='/aid/associations/{association}']"
            )))
            .await?
            .click()
            .await?;
        c.wait().for_element(Locator::Id("grant-form")).await?;
        assert!(overflow(&c).await? <= 0, "the association's page is wider than a phone");
        c.find(Locator::Css("#grant-form summary"))
            .await?
            .click()
            .await?;
        let beneficiary = c.find(Locator::Id("g-beneficiary")).await?;
        beneficiary.select_by_label("朱吉利").await?;
        c.find(Locator::Id("g-purpose"))
            .await?
            .send_keys("2016 年春茶采摘人工")
            .await?;
        c.find(Locator::Id("g-amount"))
            .await?
            .send_keys("3000")
            .await?;
        shot("grant-360", c.screenshot().await?);
        c.find(Locator::Css("#grant-form button[type=submit]"))
            .await?
            .click()
            .await?;
        let row = c
            .wait()
            .for_element(Locator::XPath(
                "//table[@id='grant-list']//tr[td[contains(., '春茶采摘')]]",
            ))
            .await?
            .text()
            .await?;
        assert!(row.contains("已申请") && row.contains("¥3,000"), "{row}");
        // The secretary has no approve button on her own application.
        assert!(
            c.find(Locator::Css("button[id^='approve-grant-']")).await.is_err(),
            "a village may not approve"
        );

        // 妙西镇's administration, at a desk, in English: approves it.
        c.delete_all_cookies().await?;
        c.set_window_size(1440, 900).await?;
        log_in(&c, &base, "miaoxi.admin").await?;
        c.goto(&format!("{base}/lang/en")).await?;
        c.goto(&format!("{base}/aid/associations/{association}"))
            .await?;
        let approve = c
            .wait()
            .for_element(Locator::XPath(
                "//table[@id='grant-list']//tr[td[contains(., '春茶采摘')]]//button[starts-with(@id, 'approve-grant-')]",
            ))
            .await?;
        assert!(overflow(&c).await? <= 0, "the page is wider than the desk");
        approve.click().await?;
        let row = c
            .wait()
            .for_element(Locator::XPath(
                "//table[@id='grant-list']//tr[td[contains(., '春茶采摘')] and td[contains(., 'Approved')]]",
            ))
            .await?
            .text()
            .await?;
        assert!(row.contains("¥3,000"), "{row}");
        shot("approved-1440-en", c.screenshot().await?);
        let (stage, approved_by): (String, Option<String>) = sqlx::query_as(
            "SELECT stage, approved_by FROM aid_grants WHERE purpose LIKE '%春茶采摘%'",
        )
        .fetch_one(db.pool())
        .await
        .expect("the grant");
        assert_eq!((stage.as_str(), approved_by.as_deref()), ("approved", Some("miaoxi.admin")));
        // The township's board draws its charts by village beside the table.
        c.goto(&format!("{base}/orgs/{}/aid", miaoxi)).await?;
        c.wait()
            .for_element(Locator::Css("#chart-members[data-ready] svg"))
            .await?;
        c.wait().for_element(Locator::Css("#chart-loans[data-ready] svg")).await?;
        assert!(overflow(&c).await? <= 0, "the board is wider than the desk");
        shot("board-1440-en", c.screenshot().await?);
        c.set_window_size(360, 800).await?;
        assert!(overflow(&c).await? <= 0, "the board is wider than a phone");
        shot("board-360-en", c.screenshot().await?);
        // The ledgers' imports open from the board; the page fits a phone and a desk.
        c.find(Locator::Css("#aid-imports summary"))
            .await?
            .click()
            .await?;
        c.find(Locator::Id("import-members")).await?.click().await?;
        let columns = c
            .wait()
            .for_element(Locator::Id("import-columns"))
            .await?
            .text()
            .await?;
        assert!(columns.contains("结对党员"), "{columns}");
        assert!(overflow(&c).await? <= 0, "the import page is wider than a phone");
        shot("import-members-360-en", c.screenshot().await?);
        c.goto(&format!("{base}/lang/zh")).await?;
        c.set_window_size(1440, 900).await?;
        c.goto(&format!("{base}/orgs/{}/aid/loans/import", miaoxi))
            .await?;
        c.wait().for_element(Locator::Id("import-submit")).await?;
        assert!(overflow(&c).await? <= 0, "the import page is wider than the desk");
        shot("import-loans-1440-zh", c.screenshot().await?);
        Ok(())
    })
    .await;
}
