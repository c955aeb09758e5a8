//! A flood of bad logins (issue 29): slowed per address, bounded in memory, and the owner of an
//! account still gets in. A binary of its own, so the peak memory read at the end is this
//! story's (and the demo worlds it builds).

// A failed expectation in a test is a panic by design.
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "it/support.rs"]
#[allow(dead_code)]
mod support;

use baiqian_store::Backend;
use support::{TestApp, peak_rss_mb};

/// 64 clients from 8 addresses send 2,000 bad logins at once: the addresses are told to wait
/// (429) or that the checks are busy (503), nothing else fails, and the owner of an account
/// logging in from an address of their own meanwhile gets in at the first try.
async fn a_login_flood_is_slowed_and_the_owner_gets_in(app: TestApp) {
    let app = std::sync::Arc::new(app);
    let (clients, logins) = (64usize, 2000usize);
    let mut tasks = Vec::new();
    for c in 0..clients {
        let app = app.clone();
        tasks.push(tokio::spawn(async move {
            let address = format!("10.66.0.{}", c % 8 + 1);
            let form = app.login_form().await;
            let mut answers = std::collections::BTreeMap::<u16, usize>::new();
            for i in (c..logins).step_by(clients) {
                let res = app
                    .post_login(&form, &format!("guess{i}"), "Wrong-pass1", Some(&address))
                    .await;
                *answers.entry(res.status.as_u16()).or_insert(0) += 1;
            }
            answers
        }));
    }
    tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    let owner = app
        .try_login_from(
            "meishan.admin",
            baiqian_demo::DEMO_PASSWORD,
            Some("10.200.0.1"),
        )
        .await;
    let mut answers = std::collections::BTreeMap::<u16, usize>::new();
    for t in tasks {
        for (k, v) in t.await.unwrap() {
            *answers.entry(k).or_insert(0) += v;
        }
    }
    eprintln!("login flood: answers {answers:?}");
    assert!(owner.is_ok(), "the owner was refused during the flood");
    assert_eq!(answers.values().sum::<usize>(), logins);
    assert!(answers.get(&429).copied().unwrap_or(0) > 0, "{answers:?}");
    assert!(
        answers.keys().all(|k| [401, 429, 503].contains(k)),
        "{answers:?}"
    );
    // 8 addresses, 30 failures each before they must wait (and the two in flight when the
    // thirtieth came back).
    assert!(
        answers.get(&401).copied().unwrap_or(0) <= 8 * 32,
        "{answers:?}"
    );
}

/// The peak memory a flood may take the process to, both backends' worlds included.
const PEAK_RSS_MB: u64 = 300;

/// On SQLite, then on PostgreSQL (when `BAIQIAN_TEST_PG` names it), one after the other; then
/// the process's peak memory (134 MB measured: argon2's working memory is reused, not
/// allocated per check).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_login_flood_is_slowed_on_both_databases() {
    for backend in [Backend::Sqlite, Backend::Postgres] {
        if let Some(app) = TestApp::new(backend).await {
            a_login_flood_is_slowed_and_the_owner_gets_in(app).await;
        }
    }
    let peak = peak_rss_mb();
    eprintln!("login flood: peak RSS of the test process {peak} MB");
    assert!(peak < PEAK_RSS_MB, "peak RSS {peak} MB");
}
