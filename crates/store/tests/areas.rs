//! The walls between the store's areas: an area's files import the shared modules (the tree
//! kernel, import, audit, vault, …) and never another area. Reads every `crate::…` path in the
//! area's sources, `use` lines and inline paths alike.

// A failed expectation in a test is a panic by design.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::{Path, PathBuf};

const AREAS: &[&str] = &["checkin", "member", "org", "rating", "team", "user"];
const SHARED: &[&str] = &[
    "audit", "backend", "bulk", "import", "kernel", "migrate", "time", "vault",
];

fn sources(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let Ok(entries) = std::fs::read_dir(dir) else {
        return out;
    };
    for entry in entries.flatten() {
        let p = entry.path();
        if p.is_dir() {
            out.extend(sources(&p));
        } else if p.extension().is_some_and(|e| e == "rs") {
            out.push(p);
        }
    }
    out
}

/// The modules a file names as `crate::<module>`, with their line numbers.
fn crate_modules(text: &str) -> Vec<(usize, String)> {
    let ident = |s: &str| -> String {
        s.trim()
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
            .collect()
    };
    let mut out = Vec::new();
    for (n, line) in text.lines().enumerate() {
        let mut rest = line.split("//").next().unwrap_or_default();
        while let Some(i) = rest.find("crate::") {
            let after = &rest[i + "crate::".len()..];
            if let Some(inner) = after.strip_prefix('{') {
                // `use crate::{a, b::c}`: every first segment inside the braces.
                for part in inner.split('}').next().unwrap_or_default().split(',') {
                    let seg = ident(part);
                    if !seg.is_empty() {
                        out.push((n + 1, seg));
                    }
                }
            } else {
                let seg = ident(after);
                if !seg.is_empty() {
                    out.push((n + 1, seg));
                }
            }
            rest = after;
        }
    }
    out
}

fn violations(src: &Path, areas: &[&str]) -> Vec<String> {
    let mut found = Vec::new();
    for area in areas {
        let mut files = sources(&src.join(area));
        let single = src.join(format!("{area}.rs"));
        if single.exists() {
            files.push(single);
        }
        assert!(
            !files.is_empty(),
            "area {area} has no sources under {}",
            src.display()
        );
        for file in files {
            let text = std::fs::read_to_string(&file).expect("readable source");
            for (line, module) in crate_modules(&text) {
                if module != *area && areas.contains(&module.as_str()) {
                    found.push(format!(
                        "{}:{line}: area `{area}` imports area `{module}`",
                        file.display()
                    ));
                }
            }
        }
    }
    found
}

#[test]
fn areas_import_the_shared_modules_never_each_other() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let found = violations(&src, AREAS);
    assert!(found.is_empty(), "walls broken:\n{}", found.join("\n"));
    // Every module of the crate is an area or shared: a new one must say which it is.
    for entry in std::fs::read_dir(&src).expect("src").flatten() {
        let name = entry
            .file_name()
            .to_string_lossy()
            .trim_end_matches(".rs")
            .to_string();
        if name == "lib" {
            continue;
        }
        assert!(
            AREAS.contains(&name.as_str()) || SHARED.contains(&name.as_str()),
            "src/{name} is neither an area nor shared: add it to AREAS or SHARED"
        );
    }
}

#[test]
fn the_check_sees_an_import_of_another_area() {
    let text = "use crate::kernel::Node;\nuse crate::{Db, member::Member};\n    crate::rating::join(x); // crate::user\n";
    let names: Vec<String> = crate_modules(text).into_iter().map(|(_, m)| m).collect();
    assert_eq!(names, ["kernel", "Db", "member", "rating"]);
}
