//! The check behind both crates' `tests/areas.rs`: an area's files import the shared modules
//! and never another area. Reads every `crate::…` path of an area's sources, `use` lines and
//! inline paths alike.

use std::path::{Path, PathBuf};

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
pub fn crate_modules(text: &str) -> Vec<(usize, String)> {
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

pub fn violations(src: &Path, areas: &[&str]) -> Vec<String> {
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

/// Where a kernel module (shared, below every area) imports an area.
pub fn kernel_violations(src: &Path, kernel: &[&str], areas: &[&str]) -> Vec<String> {
    let mut found = Vec::new();
    for module in kernel {
        let mut files = sources(&src.join(module));
        let single = src.join(format!("{module}.rs"));
        if single.exists() {
            files.push(single);
        }
        for file in files {
            let text = std::fs::read_to_string(&file).expect("readable source");
            for (line, imported) in crate_modules(&text) {
                if areas.contains(&imported.as_str()) {
                    found.push(format!(
                        "{}:{line}: `{module}` imports `{imported}`, a layer above it",
                        file.display()
                    ));
                }
            }
        }
    }
    found
}

/// Fails unless every module of `src` is an area, shared, or above the areas (composing them,
/// `above`), no area imports another, and nothing below imports a module above.
pub fn check(src: &Path, areas: &[&str], shared: &[&str], above: &[&str]) {
    let found = violations(src, areas);
    assert!(found.is_empty(), "walls broken:\n{}", found.join("\n"));
    let below: Vec<&str> = areas.iter().chain(shared).copied().collect();
    let found = kernel_violations(src, &below, above);
    assert!(
        found.is_empty(),
        "a module below imports one above the areas:\n{}",
        found.join("\n")
    );
    // Every module of the crate is an area or shared: a new one must say which it is.
    for entry in std::fs::read_dir(src).expect("src").flatten() {
        let name = entry
            .file_name()
            .to_string_lossy()
            .trim_end_matches(".rs")
            .to_string();
        if name == "lib" {
            continue;
        }
        assert!(
            areas.contains(&name.as_str())
                || shared.contains(&name.as_str())
                || above.contains(&name.as_str()),
            "src/{name} is neither an area, shared nor above: add it to AREAS, SHARED or ABOVE"
        );
    }
}
