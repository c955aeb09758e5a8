//! The tree kernel (组织树内核): what every area stands on. A node of the tree, its lookup within
//! a scope (the only way to get a [`Node`]), the path bounds and subtree predicates that keep
//! every query inside a scope, the member-count plumbing, and the one downward path by which
//! the tree's changes (a node created, moved, retired) reach the areas that keep records per
//! node ([`TreeEvent`], followed by each area's hook listed in `crate::TREE_FOLLOWERS`).
//!
//! Areas (`org`, `member`, `checkin`, `rating`, `team`, `user`, `ledger`, `plan`) import this module, `import`,
//! `bulk`, `time` and `audit`, never one another: `tests/areas.rs` reads their `use` lines.

mod cascade;
mod node;
mod tree;

pub use cascade::TreeEvent;
pub(crate) use cascade::{Follower, tree_changed};
pub use node::Node;

use baiqian_domain::org::{Level, OrgCode, PartyOrgKind};
use baiqian_domain::scope::Scope;
use serde::Serialize;
use serde_json::json;
use sqlx::any::AnyRow;
use sqlx::{AnyConnection, Row};

use crate::{Result, StoreError};

pub(crate) const ORG_COLUMNS: &str = "code, name, level, parent_code, path, party_org_kind, party_org_name, \
    secretary_name, member_count, code_invented, retired_at, retired_reason";

/// A node of the tree with its Party organization.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Org {
    pub code: OrgCode,
    pub name: String,
    pub level: Level,
    pub parent_code: Option<String>,
    pub path: String,
    pub party_org_kind: PartyOrgKind,
    pub party_org_name: String,
    pub secretary_name: Option<String>,
    pub member_count: i64,
    /// The demo's codes are invented where the official one is not known.
    pub code_invented: bool,
    pub retired_at: Option<i64>,
    pub retired_reason: Option<String>,
}

impl Org {
    pub(crate) fn from_row(r: &AnyRow) -> Result<Self> {
        let code: String = r.try_get("code")?;
        let corrupt = |what: &str| StoreError::Corrupt(format!("org {code}: {what}"));
        Ok(Self {
            code: OrgCode::parse(&code).map_err(|_| corrupt("code"))?,
            name: r.try_get("name")?,
            level: Level::parse(&r.try_get::<String, _>("level")?).map_err(|_| corrupt("level"))?,
            parent_code: r.try_get("parent_code")?,
            path: r.try_get("path")?,
            party_org_kind: PartyOrgKind::parse(&r.try_get::<String, _>("party_org_kind")?)
                .map_err(|_| corrupt("party_org_kind"))?,
            party_org_name: r.try_get("party_org_name")?,
            secretary_name: r.try_get("secretary_name")?,
            member_count: r.try_get("member_count")?,
            code_invented: r.try_get::<i64, _>("code_invented")? != 0,
            retired_at: r.try_get("retired_at")?,
            retired_reason: r.try_get("retired_reason")?,
        })
    }

    pub fn is_retired(&self) -> bool {
        self.retired_at.is_some()
    }

    pub(crate) fn audit_json(&self) -> serde_json::Value {
        json!({
            "code": self.code, "name": self.name, "level": self.level, "parent_code": self.parent_code,
            "party_org_kind": self.party_org_kind, "party_org_name": self.party_org_name,
            "secretary_name": self.secretary_name, "member_count": self.member_count,
            "retired_at": self.retired_at, "retired_reason": self.retired_reason,
        })
    }
}

/// Counts of active descendants by level.
#[derive(Debug, Clone, Default, Serialize, PartialEq, Eq)]
pub struct LevelCounts {
    pub county: i64,
    pub township: i64,
    pub village: i64,
    pub enterprise: i64,
    pub institution: i64,
}

impl LevelCounts {
    pub(crate) fn add(&mut self, level: &str, n: i64) {
        match level {
            "county" => self.county += n,
            "township" => self.township += n,
            "village" => self.village += n,
            "enterprise" => self.enterprise += n,
            "institution" => self.institution += n,
            _ => {}
        }
    }
}

/// The node with `code` if it lies in `scope`, else `NotFound` (never telling which).
pub(crate) async fn org_in_scope(
    conn: &mut AnyConnection,
    scope: &Scope,
    code: &OrgCode,
) -> Result<Org> {
    let sql =
        format!("SELECT {ORG_COLUMNS} FROM orgs WHERE code = $1 AND path >= $2 AND path < $3");
    let row = sqlx::query(&sql)
        .bind(code.as_str())
        .bind(scope.lower())
        .bind(scope.upper())
        .fetch_optional(&mut *conn)
        .await?;
    match row {
        Some(r) => Org::from_row(&r),
        None => Err(StoreError::NotFound),
    }
}

/// The node with `code` wherever it is (after a write, to return what was written).
pub(crate) async fn reload(conn: &mut AnyConnection, code: &OrgCode) -> Result<Org> {
    org_in_scope(conn, &Scope::everything(), code).await
}

/// Adds `delta` to the member count of the node at `path` and of every node above it: a node's
/// count is the number of members in its subtree. Kept in the same transaction as the roster.
pub(crate) async fn bump_member_counts(
    conn: &mut AnyConnection,
    path: &str,
    delta: i64,
) -> Result<()> {
    let codes: Vec<&str> = path
        .trim_matches('/')
        .split('/')
        .filter(|c| !c.is_empty())
        .collect();
    let sql = format!(
        "UPDATE orgs SET member_count = member_count + $1 WHERE code IN ({})",
        (2..codes.len() + 2)
            .map(|i| format!("${i}"))
            .collect::<Vec<_>>()
            .join(", ")
    );
    let mut q = sqlx::query(&sql).bind(delta);
    for c in codes {
        q = q.bind(c);
    }
    q.execute(conn).await?;
    Ok(())
}

/// The materialized path of the node with `code`.
pub(crate) async fn org_path(conn: &mut AnyConnection, code: &str) -> Result<String> {
    Ok(sqlx::query("SELECT path FROM orgs WHERE code = $1")
        .bind(code)
        .fetch_one(conn)
        .await?
        .try_get(0)?)
}

/// Rewrites the paths in `column` of `table` for a subtree moved from `old` to `new` (records
/// carry their node's path for scope filters, and move with it).
pub(crate) async fn move_paths(
    conn: &mut AnyConnection,
    table: &str,
    column: &str,
    old: &str,
    new: &str,
) -> Result<()> {
    sqlx::query(&format!(
        "UPDATE {table} SET {column} = $1 || substr({column}, CAST($2 AS INTEGER)) \
         WHERE {column} >= $3 AND {column} < $4"
    ))
    .bind(new)
    .bind(old.chars().count() as i64 + 1)
    .bind(old)
    .bind(baiqian_domain::org::path_upper_bound(old))
    .execute(conn)
    .await?;
    Ok(())
}

/// The nodes at and under `node` in the actor's reach, of the given levels (a fixed list of
/// quoted level names, never a user's words), by path.
pub(crate) async fn orgs_under(
    conn: &mut AnyConnection,
    actor: &crate::Actor,
    node: &Node,
    levels: &str,
) -> Result<Vec<Org>> {
    sqlx::query(&format!(
        "SELECT {} FROM orgs WHERE level IN ({levels}) AND retired_at IS NULL \
         AND path >= $1 AND path < $2 AND path >= $3 AND path < $4 ORDER BY path",
        ORG_COLUMNS
    ))
    .bind(&node.path)
    .bind(baiqian_domain::org::path_upper_bound(&node.path))
    .bind(actor.scope.lower())
    .bind(actor.scope.upper())
    .fetch_all(conn)
    .await?
    .iter()
    .map(Org::from_row)
    .collect()
}

/// The active accounts at or under `path` (login, name), by name: who may be given a station's
/// request or put on a post's rota. With `login`, that account only (if it is one of them).
pub(crate) async fn accounts_under(
    conn: &mut AnyConnection,
    path: &str,
    login: Option<&str>,
) -> Result<Vec<(String, String)>> {
    // An empty login names nobody (it would match everyone in the query below).
    if login.is_some_and(|l| l.trim().is_empty()) {
        return Ok(Vec::new());
    }
    sqlx::query(
        "SELECT u.login, u.name FROM users u JOIN orgs o ON o.code = u.org_code \
         WHERE o.path >= $1 AND o.path < $2 AND u.disabled = 0 AND ($3 = '' OR u.login = $3) \
         ORDER BY u.name, u.login LIMIT 500",
    )
    .bind(path)
    .bind(baiqian_domain::org::path_upper_bound(path))
    .bind(login.unwrap_or_default())
    .fetch_all(&mut *conn)
    .await?
    .iter()
    .map(|r| Ok((r.try_get(0)?, r.try_get(1)?)))
    .collect()
}

/// Whether `path` is the node `root` or lies at most `levels` below it: what waits near a
/// record goes to its own node and the few above, not to every administration up to the city.
pub fn within_levels(root: &str, path: &str, levels: usize) -> bool {
    path.starts_with(root) && path[root.len()..].matches('/').count() <= levels
}
