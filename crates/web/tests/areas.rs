//! The walls between the web layer's areas: an area imports the shared modules (state, auth,
//! routes, extract, form, frame, i18n, excel, error, …), never another area; and a route enters
//! the router only through `routes::Routes`, with its capability.

// A failed expectation in a test is a panic by design.
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "../../store/tests/walls/mod.rs"]
mod walls;

use std::path::Path;

const AREAS: &[&str] = &[
    "audit", "checkin", "ledger", "member", "org", "rating", "user",
];
const SHARED: &[&str] = &[
    "app",
    "assets",
    "auth",
    "chart",
    "clock",
    "drafts",
    "job",
    "error",
    "evidence",
    "excel",
    "extract",
    "form",
    "frame",
    "home",
    "i18n",
    "metrics",
    "openapi",
    "request_log",
    "routes",
    "state",
    "throttle",
];

fn src() -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("src")
}

#[test]
fn areas_import_the_shared_modules_never_each_other() {
    walls::check(&src(), AREAS, SHARED);
}

/// `axum`'s own `.route(` would add a route without a capability: only `routes.rs` calls it.
#[test]
fn every_route_goes_through_the_capability_table() {
    let mut offenders = Vec::new();
    let mut stack = vec![src()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).unwrap().flatten() {
            let p = entry.path();
            if p.is_dir() {
                stack.push(p);
            } else if p.file_name().is_some_and(|n| n != "routes.rs") {
                let text = std::fs::read_to_string(&p).unwrap();
                if text.contains(".route(") || text.contains("axum::routing::") {
                    offenders.push(p.display().to_string());
                }
            }
        }
    }
    assert!(
        offenders.is_empty(),
        "routes outside routes.rs: {offenders:?}"
    );
}
