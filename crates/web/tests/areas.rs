//! The walls between the web layer's areas: an area imports the shared modules (state, auth,
//! routes, extract, form, frame, i18n, excel, error, …), never another area; and a route enters
//! the router only through `routes::Routes`, with its capability.

// A failed expectation in a test is a panic by design.
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "../../store/tests/walls/mod.rs"]
mod walls;

use std::path::Path;

const AREAS: &[&str] = &[
    "aid", "audit", "cadre", "checkin", "ledger", "member", "org", "plan", "post", "rating",
    "station", "user", "wish",
];
const SHARED: &[&str] = &[
    "app",
    "assets",
    "auth",
    "chart",
    "checkin_writer",
    "clock",
    "daily",
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
    "task",
    "throttle",
];

fn src() -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("src")
}

#[test]
fn areas_import_the_shared_modules_never_each_other() {
    walls::check(&src(), AREAS, SHARED, &[]);
}

/// The kernel — every shared module but the composition root that assembles the areas (`app`,
/// `openapi`, `home`) — imports no area: shared types live below their users.
#[test]
fn the_kernel_imports_no_area() {
    let kernel: Vec<&str> = SHARED
        .iter()
        .copied()
        .filter(|m| !["app", "openapi", "home"].contains(m))
        .collect();
    let found = walls::kernel_violations(&src(), &kernel, AREAS);
    assert!(found.is_empty(), "{}", found.join("\n"));
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

/// No source file of the workspace passes 800 lines: a file that long holds more than one
/// thing, and each thing gets its own file.
#[test]
fn no_source_file_passes_800_lines() {
    const MAX_LINES: usize = 800;
    let crates = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let mut stack: Vec<std::path::PathBuf> = std::fs::read_dir(&crates)
        .unwrap()
        .flatten()
        .map(|e| e.path().join("src"))
        .filter(|p| p.is_dir())
        .collect();
    assert!(stack.len() >= 5, "the workspace's crates: {stack:?}");
    let mut long = Vec::new();
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).unwrap().flatten() {
            let path = entry.path();
            if path.is_dir() {
                stack.push(path);
            } else if path.extension().is_some_and(|e| e == "rs") {
                let lines = std::fs::read_to_string(&path).unwrap().lines().count();
                if lines > MAX_LINES {
                    long.push(format!("{} ({lines})", path.display()));
                }
            }
        }
    }
    assert!(long.is_empty(), "split these: {long:?}");
}
