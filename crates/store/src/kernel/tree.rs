//! Reading the tree within a scope: children, counts, ancestors, search, subtrees.

use baiqian_domain::org::{self, OrgCode};
use baiqian_domain::scope::Scope;
use sqlx::Row;

use super::{LevelCounts, Node, ORG_COLUMNS, Org};
use crate::{Db, Result, like_escape};

impl Db {
    /// How many nodes the database holds, retired included (zero means an empty tree).
    pub async fn org_count_all(&self) -> Result<i64> {
        Ok(sqlx::query("SELECT COUNT(*) FROM orgs")
            .fetch_one(self.pool())
            .await?
            .try_get(0)?)
    }

    /// Direct children of a node in scope, by code; retired ones only when asked for.
    pub async fn org_children(
        &self,
        scope: &Scope,
        code: &OrgCode,
        with_retired: bool,
    ) -> Result<Vec<Node>> {
        let parent = self.org(scope, code).await?;
        let sql = format!(
            "SELECT {ORG_COLUMNS} FROM orgs WHERE parent_code = $1 AND path >= $2 AND path < $3 {} ORDER BY code",
            if with_retired {
                ""
            } else {
                "AND retired_at IS NULL"
            }
        );
        let rows = sqlx::query(&sql)
            .bind(parent.code.as_str())
            .bind(scope.lower())
            .bind(scope.upper())
            .fetch_all(self.pool())
            .await?;
        rows.iter()
            .map(|r| Org::from_row(r).map(Node::found))
            .collect()
    }

    /// The tree's top nodes (the cities), not retired: where the public results begin.
    pub async fn org_roots(&self) -> Result<Vec<Node>> {
        let rows = sqlx::query(&format!(
            "SELECT {ORG_COLUMNS} FROM orgs WHERE parent_code IS NULL AND retired_at IS NULL ORDER BY code"
        ))
        .fetch_all(self.pool())
        .await?;
        rows.iter()
            .map(|r| Org::from_row(r).map(Node::found))
            .collect()
    }

    /// Active descendants of a node by level (the node itself not counted).
    pub async fn org_counts(&self, node: &Node) -> Result<LevelCounts> {
        let path = node.path.as_str();
        let rows = sqlx::query(
            "SELECT level, COUNT(*) AS n FROM orgs WHERE path > $1 AND path < $2 AND retired_at IS NULL GROUP BY level",
        )
        .bind(path)
        .bind(org::path_upper_bound(path))
        .fetch_all(self.pool())
        .await?;
        let mut counts = LevelCounts::default();
        for r in &rows {
            counts.add(&r.try_get::<String, _>("level")?, r.try_get("n")?);
        }
        Ok(counts)
    }

    /// For each active child of a node in scope, its active descendants by level: one query.
    pub async fn org_children_counts(
        &self,
        scope: &Scope,
        code: &OrgCode,
    ) -> Result<Vec<(String, LevelCounts)>> {
        let parent = self.org(scope, code).await?;
        let rows = sqlx::query(
            "SELECT c.code AS code, d.level AS level, COUNT(*) AS n FROM orgs c \
             JOIN orgs d ON d.path > c.path AND d.path < (substr(c.path, 1, length(c.path) - 1) || '0') \
             WHERE c.parent_code = $1 AND c.retired_at IS NULL AND d.retired_at IS NULL \
             GROUP BY c.code, d.level",
        )
        .bind(parent.code.as_str())
        .fetch_all(self.pool())
        .await?;
        let mut out: Vec<(String, LevelCounts)> = Vec::new();
        for r in &rows {
            let code: String = r.try_get("code")?;
            let idx = match out.iter().position(|(c, _)| *c == code) {
                Some(i) => i,
                None => {
                    out.push((code, LevelCounts::default()));
                    out.len() - 1
                }
            };
            out[idx]
                .1
                .add(&r.try_get::<String, _>("level")?, r.try_get("n")?);
        }
        Ok(out)
    }

    /// The ancestors of a node from the scope root down to the node's parent, for a breadcrumb.
    pub async fn org_ancestors(&self, scope: &Scope, node: &Node) -> Result<Vec<(String, String)>> {
        let codes: Vec<&str> = node.path.trim_matches('/').split('/').collect();
        let mut out = Vec::new();
        // A path holds at most five codes; one query for all of them.
        let rows = sqlx::query(
            "SELECT code, name, path FROM orgs WHERE code IN ($1, $2, $3, $4, $5) AND path >= $6 AND path < $7 ORDER BY length(path)",
        )
        .bind(codes.first().copied().unwrap_or(""))
        .bind(codes.get(1).copied().unwrap_or(""))
        .bind(codes.get(2).copied().unwrap_or(""))
        .bind(codes.get(3).copied().unwrap_or(""))
        .bind(codes.get(4).copied().unwrap_or(""))
        .bind(scope.lower())
        .bind(scope.upper())
        .fetch_all(self.pool())
        .await?;
        for r in &rows {
            let code: String = r.try_get("code")?;
            if code != node.code.as_str() {
                out.push((code, r.try_get("name")?));
            }
        }
        Ok(out)
    }

    /// Active nodes in scope whose name contains `q` or whose pinyin initials start with it.
    pub async fn org_search(&self, scope: &Scope, q: &str, limit: i64) -> Result<Vec<Node>> {
        let q = q.trim();
        if q.is_empty() {
            return Ok(Vec::new());
        }
        let esc = like_escape(q);
        let sql = format!(
            "SELECT {ORG_COLUMNS} FROM orgs WHERE path >= $1 AND path < $2 AND retired_at IS NULL \
             AND (name LIKE $3 ESCAPE '\\' OR pinyin LIKE $4 ESCAPE '\\' OR pinyin LIKE $5 ESCAPE '\\' \
             OR code LIKE $6 ESCAPE '\\') ORDER BY length(path), code LIMIT $7"
        );
        let rows = sqlx::query(&sql)
            .bind(scope.lower())
            .bind(scope.upper())
            .bind(format!("%{esc}%"))
            .bind(format!("{}%", esc.to_lowercase()))
            .bind(format!("% {}%", esc.to_lowercase()))
            .bind(format!("{esc}%"))
            .bind(limit)
            .fetch_all(self.pool())
            .await?;
        rows.iter()
            .map(|r| Org::from_row(r).map(Node::found))
            .collect()
    }

    /// Every node of the subtree under `code` (included), parents before children, for export.
    pub async fn org_subtree(
        &self,
        scope: &Scope,
        code: &OrgCode,
        with_retired: bool,
    ) -> Result<Vec<Node>> {
        let root = self.org(scope, code).await?;
        let sql = format!(
            "SELECT {ORG_COLUMNS} FROM orgs WHERE path >= $1 AND path < $2 {} ORDER BY path",
            if with_retired {
                ""
            } else {
                "AND retired_at IS NULL"
            }
        );
        let rows = sqlx::query(&sql)
            .bind(&root.path)
            .bind(org::path_upper_bound(&root.path))
            .fetch_all(self.pool())
            .await?;
        rows.iter()
            .map(|r| Org::from_row(r).map(Node::found))
            .collect()
    }

    /// How many members on the roster (在册) have their home organization under a node.
    pub async fn member_count_under(&self, node: &Node) -> Result<i64> {
        let path = node.path.as_str();
        Ok(sqlx::query(
            "SELECT COUNT(*) FROM members m JOIN orgs o ON o.code = m.home_org \
             WHERE o.path >= $1 AND o.path < $2 AND m.status = 'active'",
        )
        .bind(path)
        .bind(baiqian_domain::org::path_upper_bound(path))
        .fetch_one(self.pool())
        .await?
        .try_get(0)?)
    }
}
