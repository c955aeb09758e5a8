//! The walls between the store's areas: an area imports the shared modules (the tree kernel,
//! import, bulk, backend, audit, vault, …), never another area.

// A failed expectation in a test is a panic by design.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod walls;

use std::path::Path;

const AREAS: &[&str] = &[
    "aid", "cadre", "checkin", "job", "ledger", "member", "org", "plan", "rating", "team", "user",
    "wish", "station", "post",
];
/// Above the areas: work that changes two areas in one transaction, composed from what they lend.
const ABOVE: &[&str] = &["flow"];
const SHARED: &[&str] = &[
    "audit", "backend", "bulk", "check", "import", "kernel", "migrate", "vault",
];

#[test]
fn areas_import_the_shared_modules_never_each_other() {
    walls::check(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("src"),
        AREAS,
        SHARED,
        ABOVE,
    );
}

#[test]
fn the_check_sees_an_import_of_another_area() {
    let text = "use crate::kernel::Node;\nuse crate::{Db, member::Member};\n    crate::rating::join(x); // crate::user\n";
    let names: Vec<String> = walls::crate_modules(text)
        .into_iter()
        .map(|(_, m)| m)
        .collect();
    assert_eq!(names, ["kernel", "Db", "member", "rating"]);
}

/// The store's shared modules are below the areas: none of them imports an area.
#[test]
fn the_shared_modules_import_no_area() {
    let found = walls::kernel_violations(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("src"),
        SHARED,
        AREAS,
    );
    assert!(found.is_empty(), "{}", found.join("\n"));
}
