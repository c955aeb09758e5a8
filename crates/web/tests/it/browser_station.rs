//! A red-butler station in a real browser: a tourist on a 360 px phone, never signed in, opens
//! the station's page, asks for a service, is sent to the request's page with its follow-up
//! code; after the volunteer has done it, they find it again by typing the code and rate it.
//! The keeper's board at a desk in English. Screenshots go to `target/browser-station-*.png`.

use fantoccini::Locator;

use crate::browser::{log_in, overflow, required, with_browser};
use crate::support::TestApp;

fn shot(name: &str, png: Vec<u8>) {
    let _ = std::fs::write(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join(format!("../../target/browser-station-{name}.png")),
        png,
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_tourist_asks_a_station_and_follows_the_request_on_a_phone() {
    let Some((driver, chromium)) = required() else {
        return;
    };
    let app = TestApp::new(baiqian_store::Backend::Sqlite)
        .await
        .expect("sqlite app");
    let station: i64 =
        sqlx::query_scalar("SELECT id FROM stations WHERE name = '劳岭红管家服务驿站'")
            .fetch_one(app.db.pool())
            .await
            .expect("劳岭's station");
    let db = app.db.clone();
    with_browser(&app, &driver, &chromium, move |c, base| async move {
        c.set_window_size(360, 800).await?;
        c.goto(&format!("{base}/public/stations/{station}")).await?;
        c.wait().for_element(Locator::Id("request-form")).await?;
        assert!(
            overflow(&c).await? <= 0,
            "the station page is wider than a phone"
        );
        shot("public-360", c.screenshot().await?);
        c.find(Locator::Css("#q-service option:nth-child(1)"))
            .await?
            .click()
            .await?;
        c.find(Locator::Id("q-name"))
            .await?
            .send_keys("王游客")
            .await?;
        c.find(Locator::Id("q-phone"))
            .await?
            .send_keys("13905720031")
            .await?;
        c.find(Locator::Id("q-place"))
            .await?
            .send_keys("劳岭村游客中心")
            .await?;
        c.find(Locator::Id("q-wanted"))
            .await?
            .send_keys("明天上午")
            .await?;
        c.find(Locator::Id("send-request")).await?.click().await?;
        let code = c
            .wait()
            .for_element(Locator::Css("#follow-code strong"))
            .await?
            .text()
            .await?;
        assert_eq!(code.len(), 10, "{code}");
        let status = c.find(Locator::Id("follow-status")).await?.text().await?;
        assert_eq!(status, "待派单");
        let phone = c.find(Locator::Id("follow-phone")).await?.text().await?;
        assert!(!phone.contains("13905720031"), "{phone}");
        assert!(
            overflow(&c).await? <= 0,
            "the follow-up page is wider than a phone"
        );
        shot("follow-360", c.screenshot().await?);

        // The station's keeper and volunteer do it (their own pages are tested elsewhere).
        let id: i64 = sqlx::query_scalar("SELECT id FROM service_requests WHERE code = $1")
            .bind(&code)
            .fetch_one(db.pool())
            .await
            .expect("the request");
        let actor = |login: &'static str| {
            let db = db.clone();
            async move {
                db.user_by_login(login)
                    .await
                    .expect("read")
                    .expect("a demo login")
                    .actor()
                    .expect("an actor")
            }
        };
        let now = crate::support::T0 + 120_000;
        db.assign_service_request(
            &actor("moganshan.admin").await,
            id,
            "moganshan.volunteer",
            now,
        )
        .await
        .expect("assigned");
        db.complete_service_request(
            &actor("moganshan.volunteer").await,
            id,
            "讲解了一个半小时",
            now + 3_600_000,
        )
        .await
        .expect("done");

        // The tourist comes back later: the station's page, their code typed in lower case.
        c.goto(&format!("{base}/public/stations/{station}")).await?;
        c.find(Locator::Id("q-code"))
            .await?
            .send_keys(&code.to_lowercase())
            .await?;
        c.find(Locator::Id("find-request")).await?.click().await?;
        c.wait().for_element(Locator::Id("feedback-form")).await?;
        let status = c.find(Locator::Id("follow-status")).await?.text().await?;
        assert_eq!(status, "已办结");
        c.find(Locator::Css("input[name='score'][value='5']"))
            .await?
            .click()
            .await?;
        c.find(Locator::Id("send-feedback")).await?.click().await?;
        let score = c
            .wait()
            .for_element(Locator::Id("follow-score"))
            .await?
            .text()
            .await?;
        assert_eq!(score, "5 / 5");
        shot("rated-360", c.screenshot().await?);

        // The keeper's board at a desk, in English.
        c.set_window_size(1440, 900).await?;
        log_in(&c, &base, "moganshan.admin").await?;
        c.goto(&format!("{base}/lang/en")).await?;
        c.goto(&format!("{base}/orgs/330521106/stations")).await?;
        c.wait().for_element(Locator::Id("station-list")).await?;
        // The chart of response and completion times draws from its data endpoint.
        c.wait()
            .for_element(Locator::Css("#chart-stations[data-ready] svg"))
            .await?;
        assert!(overflow(&c).await? <= 0, "the board is wider than the desk");
        shot("board-1440-en", c.screenshot().await?);
        c.goto(&format!("{base}/stations/{station}")).await?;
        c.wait().for_element(Locator::Id("request-list")).await?;
        shot("station-1440-en", c.screenshot().await?);
        Ok(())
    })
    .await;
}
