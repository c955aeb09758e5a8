//! A scope (权限范围): the subtree of the organization tree a user may see.

use crate::org::{OrgCode, path_upper_bound};

/// The subtree rooted at one node, given by the root's materialized path.
/// Store queries take a scope and filter with `path >= lower AND path < upper` in SQL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Scope {
    /// `None` for the whole database (the command line's reach).
    pub root: Option<OrgCode>,
    lower: String,
    upper: String,
}

impl Scope {
    pub fn new(root: OrgCode, root_path: &str) -> Self {
        Self {
            root: Some(root),
            lower: root_path.to_string(),
            upper: path_upper_bound(root_path),
        }
    }

    /// Every path: all paths start with `/`.
    pub fn everything() -> Self {
        Self {
            root: None,
            lower: "/".into(),
            upper: path_upper_bound("/"),
        }
    }

    pub fn lower(&self) -> &str {
        &self.lower
    }

    pub fn upper(&self) -> &str {
        &self.upper
    }

    pub fn contains_path(&self, path: &str) -> bool {
        path >= self.lower.as_str() && path < self.upper.as_str()
    }

    /// The root itself is in scope, but its own record (name, place) is changed from above.
    pub fn is_root_path(&self, path: &str) -> bool {
        path == self.lower
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn contains_subtree_only() {
        let root = match OrgCode::parse("330522") {
            Ok(c) => c,
            Err(e) => panic!("{e}"),
        };
        let s = Scope::new(root, "/330500/330522/");
        assert!(s.contains_path("/330500/330522/"));
        assert!(s.contains_path("/330500/330522/330522108/330522108201/"));
        assert!(!s.contains_path("/330500/"));
        assert!(!s.contains_path("/330500/330523/330523101/"));
    }
}
