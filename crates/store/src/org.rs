//! Queries of the organization tree. Every read and write is bounded by the caller's scope in SQL.

use baiqian_domain::Msg;
use baiqian_domain::org::{self, Level, OrgCode, PartyOrgKind};
use baiqian_domain::scope::Scope;
use serde::Serialize;
use serde_json::json;
use sqlx::any::AnyRow;
use sqlx::{AnyConnection, Row};

use crate::audit::{self, Change};
use crate::{Actor, Db, Result, StoreError, like_escape, on_unique};

const ORG_COLUMNS: &str = "code, name, level, parent_code, path, party_org_kind, party_org_name, \
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
    fn from_row(r: &AnyRow) -> Result<Self> {
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

    fn audit_json(&self) -> serde_json::Value {
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
    fn add(&mut self, level: &str, n: i64) {
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

/// A new node as given by a form, the API or an imported row (already parsed).
#[derive(Debug, Clone)]
pub struct NewOrg {
    pub code: OrgCode,
    pub name: String,
    pub level: Level,
    pub parent: OrgCode,
    pub party_org_kind: PartyOrgKind,
    pub party_org_name: String,
    pub secretary_name: Option<String>,
    /// Used by bulk loads only (the demo writes counts its roster then fills); a node created
    /// one by one starts at 0.
    pub member_count: i64,
}

/// The fields of a node that may be edited in place. (Its member count is not one of them: it
/// is the count of its roster, kept by the member functions.)
#[derive(Debug, Clone, PartialEq)]
pub struct OrgEdit {
    pub name: String,
    pub party_org_kind: PartyOrgKind,
    pub party_org_name: String,
    pub secretary_name: Option<String>,
}

/// A row for bulk loading (the demo and benchmark generators): path and code flags precomputed.
#[derive(Debug, Clone)]
pub struct BulkOrg {
    pub org: NewOrg,
    pub path: String,
    pub code_invented: bool,
}

impl Db {
    /// The node with `code` if it lies in `scope`; retired nodes included.
    pub async fn org(&self, scope: &Scope, code: &OrgCode) -> Result<Org> {
        let mut conn = self.pool().acquire().await?;
        org_in_scope(&mut conn, scope, code).await
    }

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
    ) -> Result<Vec<Org>> {
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
        rows.iter().map(Org::from_row).collect()
    }

    /// Active descendants of the node at `path` by level (the node itself not counted).
    pub async fn org_counts(&self, path: &str) -> Result<LevelCounts> {
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
    pub async fn org_ancestors(&self, scope: &Scope, node: &Org) -> Result<Vec<(String, String)>> {
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
    pub async fn org_search(&self, scope: &Scope, q: &str, limit: i64) -> Result<Vec<Org>> {
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
        rows.iter().map(Org::from_row).collect()
    }

    /// Every node of the subtree under `code` (included), parents before children, for export.
    pub async fn org_subtree(
        &self,
        scope: &Scope,
        code: &OrgCode,
        with_retired: bool,
    ) -> Result<Vec<Org>> {
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
        rows.iter().map(Org::from_row).collect()
    }

    /// Creates a node under a parent in the actor's scope; one audit row.
    pub async fn create_org(&self, actor: &Actor, new: NewOrg, now: i64) -> Result<Org> {
        if !actor.role.may_change_tree() {
            return Err(StoreError::Denied(Msg::new("error.denied")));
        }
        let mut tx = self.write().await?;
        let created = insert_checked(tx.conn(), actor, &new, now).await?;
        tx.commit().await?;
        Ok(created)
    }

    /// Renames a node and edits its Party organization. The scope root's own name is changed from
    /// above; its Party organization details may be kept by its own admin or secretary.
    pub async fn edit_org(
        &self,
        actor: &Actor,
        code: &OrgCode,
        edit: OrgEdit,
        now: i64,
    ) -> Result<Org> {
        let mut tx = self.write().await?;
        let before = org_in_scope(tx.conn(), &actor.scope, code).await?;
        if before.is_retired() {
            return Err(StoreError::Invalid(Msg::new("org.error.retired")));
        }
        let renames = edit.name != before.name;
        if !actor.role.may_edit_party_org()
            || (renames
                && (!actor.role.may_change_tree() || actor.scope.is_root_path(&before.path)))
        {
            return Err(StoreError::Denied(Msg::new("error.denied")));
        }
        sqlx::query(
            "UPDATE orgs SET name = $1, pinyin = $2, party_org_kind = $3, party_org_name = $4, secretary_name = $5, \
             updated_at = $6 WHERE code = $7",
        )
        .bind(&edit.name)
        .bind(org::pinyin_initials(&edit.name))
        .bind(edit.party_org_kind.as_str())
        .bind(&edit.party_org_name)
        .bind(&edit.secretary_name)
        .bind(now)
        .bind(code.as_str())
        .execute(tx.conn())
        .await?;
        let after = reload(tx.conn(), code).await?;
        audit::record(
            tx.conn(),
            actor,
            now,
            Change::update(
                "org",
                code.as_str(),
                &after.path,
                before.audit_json(),
                after.audit_json(),
            ),
        )
        .await?;
        tx.commit().await?;
        Ok(after)
    }

    /// Moves a node (and its subtree) under another parent in scope, with a reason.
    pub async fn move_org(
        &self,
        actor: &Actor,
        code: &OrgCode,
        new_parent: &OrgCode,
        reason: &str,
        now: i64,
    ) -> Result<Org> {
        if !actor.role.may_change_tree() {
            return Err(StoreError::Denied(Msg::new("error.denied")));
        }
        let reason = org::parse_reason(reason).map_err(|e| StoreError::Invalid(e.msg()))?;
        let mut tx = self.write().await?;
        let before = org_in_scope(tx.conn(), &actor.scope, code).await?;
        let parent = org_in_scope(tx.conn(), &actor.scope, new_parent).await?;
        if actor.scope.is_root_path(&before.path) || before.level == Level::City {
            return Err(StoreError::Denied(Msg::new("error.denied")));
        }
        if before.is_retired() || parent.is_retired() {
            return Err(StoreError::Invalid(Msg::new("org.error.retired")));
        }
        if parent.path.starts_with(&before.path) {
            return Err(StoreError::Invalid(Msg::new("org.error.move_into_self")));
        }
        if before.parent_code.as_deref() == Some(parent.code.as_str()) {
            return Err(StoreError::Invalid(Msg::new("org.error.move_same_parent")));
        }
        if !before.level.may_sit_under(parent.level) {
            return Err(StoreError::Invalid(
                org::OrgError::WrongParentLevel {
                    level: before.level,
                    parent_level: parent.level,
                }
                .msg(),
            ));
        }
        let new_path = org::child_path(&parent.path, code);
        sqlx::query(
            "UPDATE orgs SET path = $1 || substr(path, CAST($2 AS INTEGER)), updated_at = $3 WHERE path >= $4 AND path < $5",
        )
        .bind(&new_path)
        .bind(before.path.chars().count() as i64 + 1)
        .bind(now)
        .bind(&before.path)
        .bind(org::path_upper_bound(&before.path))
        .execute(tx.conn())
        .await?;
        sqlx::query("UPDATE orgs SET parent_code = $1 WHERE code = $2")
            .bind(parent.code.as_str())
            .bind(code.as_str())
            .execute(tx.conn())
            .await?;
        // The records of the subtree's nodes carry their node's path for scope filters: they move
        // with it (a moved village's assessment is the new township's to review). The audit log
        // keeps the path at the time of each change.
        for (table, column) in [
            ("assessments", "org_path"),
            ("rating_rounds", "org_path"),
            ("standard_sets", "owner_path"),
            ("featured_practices", "org_path"),
            ("beautiful_villages", "org_path"),
            ("collective_incomes", "org_path"),
            ("volunteer_teams", "org_path"),
        ] {
            sqlx::query(&format!(
                "UPDATE {table} SET {column} = $1 || substr({column}, CAST($2 AS INTEGER)) \
                 WHERE {column} >= $3 AND {column} < $4"
            ))
            .bind(&new_path)
            .bind(before.path.chars().count() as i64 + 1)
            .bind(&before.path)
            .bind(org::path_upper_bound(&before.path))
            .execute(tx.conn())
            .await?;
        }
        // Member counts are subtree counts: the subtree's members leave the old ancestors and
        // join the new ones.
        if before.member_count != 0 {
            if let Some(old_parent) = before.path.strip_suffix(&format!("{}/", code.as_str())) {
                crate::member::bump_member_counts(tx.conn(), old_parent, -before.member_count)
                    .await?;
            }
            crate::member::bump_member_counts(tx.conn(), &parent.path, before.member_count).await?;
        }
        let after = reload(tx.conn(), code).await?;
        let mut change = Change::update(
            "org",
            code.as_str(),
            &after.path,
            before.audit_json(),
            after.audit_json(),
        );
        change.action = "move";
        change.reason = Some(reason);
        audit::record(tx.conn(), actor, now, change).await?;
        tx.commit().await?;
        Ok(after)
    }

    /// Retires a node that has no active children: it stays with its history, out of counts.
    pub async fn retire_org(
        &self,
        actor: &Actor,
        code: &OrgCode,
        reason: &str,
        now: i64,
    ) -> Result<Org> {
        if !actor.role.may_change_tree() {
            return Err(StoreError::Denied(Msg::new("error.denied")));
        }
        let reason = org::parse_reason(reason).map_err(|e| StoreError::Invalid(e.msg()))?;
        let mut tx = self.write().await?;
        let before = org_in_scope(tx.conn(), &actor.scope, code).await?;
        if actor.scope.is_root_path(&before.path) || before.level == Level::City {
            return Err(StoreError::Denied(Msg::new("error.denied")));
        }
        if before.is_retired() {
            return Err(StoreError::Invalid(Msg::new("org.error.retired")));
        }
        let active_children: i64 =
            sqlx::query("SELECT COUNT(*) FROM orgs WHERE parent_code = $1 AND retired_at IS NULL")
                .bind(code.as_str())
                .fetch_one(tx.conn())
                .await?
                .try_get(0)?;
        if active_children > 0 {
            return Err(StoreError::Invalid(
                Msg::new("org.error.has_children").arg("n", active_children),
            ));
        }
        // A member's home organization (组织关系所在地) must exist: transfer them first.
        if before.member_count > 0 {
            return Err(StoreError::Invalid(
                Msg::new("org.error.has_members").arg("n", before.member_count),
            ));
        }
        sqlx::query(
            "UPDATE orgs SET retired_at = $1, retired_reason = $2, updated_at = $1 WHERE code = $3",
        )
        .bind(now)
        .bind(&reason)
        .bind(code.as_str())
        .execute(tx.conn())
        .await?;
        let after = reload(tx.conn(), code).await?;
        let mut change = Change::update(
            "org",
            code.as_str(),
            &after.path,
            before.audit_json(),
            after.audit_json(),
        );
        change.action = "retire";
        change.reason = Some(reason.clone());
        audit::record(tx.conn(), actor, now, change).await?;
        if after.level == Level::Village {
            crate::rating::leave_open_rounds(tx.conn(), actor, &after, now).await?;
        }
        // Access through the node ends with it: its accounts and its card readers.
        crate::user::disable_accounts_at(tx.conn(), actor, code.as_str(), &reason, now).await?;
        crate::checkin::revoke_devices_at(
            tx.conn(),
            actor,
            code.as_str(),
            &after.path,
            &reason,
            now,
        )
        .await?;
        tx.commit().await?;
        Ok(after)
    }

    /// Loads many nodes at once with multi-row statements (demo and benchmark worlds).
    /// Not audited row by row: one audit row records the load.
    pub async fn bulk_insert_orgs(&self, actor: &Actor, rows: &[BulkOrg], now: i64) -> Result<()> {
        // A few hundred parameters a statement: see `checkin::IN_CHUNK` for why.
        const PER_STATEMENT: usize = 50;
        let mut tx = self.write().await?;
        for chunk in rows.chunks(PER_STATEMENT) {
            let mut sql = String::from(
                "INSERT INTO orgs (code, name, level, parent_code, path, pinyin, party_org_kind, party_org_name, \
                 secretary_name, member_count, code_invented, created_at, updated_at) VALUES ",
            );
            for i in 0..chunk.len() {
                let b = i * 13;
                if i > 0 {
                    sql.push(',');
                }
                sql.push('(');
                for k in 1..=13 {
                    if k > 1 {
                        sql.push(',');
                    }
                    sql.push('$');
                    sql.push_str(&(b + k).to_string());
                }
                sql.push(')');
            }
            let mut q = sqlx::query(&sql);
            for r in chunk {
                let o = &r.org;
                let parent = (o.level != Level::City).then(|| o.parent.as_str().to_string());
                q = q
                    .bind(o.code.as_str().to_string())
                    .bind(o.name.clone())
                    .bind(o.level.as_str())
                    .bind(parent)
                    .bind(r.path.clone())
                    .bind(org::pinyin_initials(&o.name))
                    .bind(o.party_org_kind.as_str())
                    .bind(o.party_org_name.clone())
                    .bind(o.secretary_name.clone())
                    .bind(o.member_count)
                    .bind(i64::from(r.code_invented))
                    .bind(now)
                    .bind(now);
            }
            q.execute(tx.conn()).await?;
        }
        let root = rows
            .first()
            .map(|r| r.path.clone())
            .unwrap_or_else(|| "/".into());
        audit::record(
            tx.conn(),
            actor,
            now,
            Change {
                action: "bulk_load",
                entity: "org",
                key: root.clone(),
                org_path: root,
                before: None,
                after: Some(json!({ "rows": rows.len() })),
                reason: None,
            },
        )
        .await?;
        tx.commit().await?;
        Ok(())
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

async fn reload(conn: &mut AnyConnection, code: &OrgCode) -> Result<Org> {
    org_in_scope(conn, &Scope::everything(), code).await
}

/// Inserts a node after every check that needs the database: parent in scope and active, shape
/// and place of the code, code unused. One audit row.
pub(crate) async fn insert_checked(
    conn: &mut AnyConnection,
    actor: &Actor,
    new: &NewOrg,
    now: i64,
) -> Result<Org> {
    let parent = match org_in_scope(conn, &actor.scope, &new.parent).await {
        Ok(p) => p,
        Err(StoreError::NotFound) => {
            return Err(StoreError::Invalid(
                Msg::new("org.error.parent_not_found").arg("code", &new.parent),
            ));
        }
        Err(e) => return Err(e),
    };
    if parent.is_retired() {
        return Err(StoreError::Invalid(
            Msg::new("org.error.parent_retired").arg("code", &new.parent),
        ));
    }
    new.code
        .check_fits(new.level, &parent.code, parent.level)
        .map_err(|e| StoreError::Invalid(e.msg()))?;
    let path = org::child_path(&parent.path, &new.code);
    sqlx::query(
        "INSERT INTO orgs (code, name, level, parent_code, path, pinyin, party_org_kind, party_org_name, \
         secretary_name, member_count, code_invented, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, 0, $11, $11)",
    )
    .bind(new.code.as_str())
    .bind(&new.name)
    .bind(new.level.as_str())
    .bind(parent.code.as_str())
    .bind(&path)
    .bind(org::pinyin_initials(&new.name))
    .bind(new.party_org_kind.as_str())
    .bind(&new.party_org_name)
    .bind(&new.secretary_name)
    // A new node has no members yet; the roster counts them in.
    .bind(0_i64)
    .bind(now)
    .execute(&mut *conn)
    .await
    // The code may exist outside the caller's scope; the message does not say where.
    .map_err(|e| on_unique(e, Msg::new("org.error.code_taken").arg("code", &new.code)))?;
    let created = reload(conn, &new.code).await?;
    audit::record(
        conn,
        actor,
        now,
        Change::create("org", new.code.as_str(), &path, created.audit_json()),
    )
    .await?;
    if created.level == Level::Village {
        crate::rating::join_open_rounds(conn, actor, &created, now).await?;
    }
    Ok(created)
}

/// Updates a node from an imported row (name and Party organization), when anything differs.
/// Returns whether it changed.
pub(crate) async fn update_from_import(
    conn: &mut AnyConnection,
    actor: &Actor,
    existing: &Org,
    edit: &OrgEdit,
    now: i64,
) -> Result<bool> {
    let same = existing.name == edit.name
        && existing.party_org_kind == edit.party_org_kind
        && existing.party_org_name == edit.party_org_name
        && existing.secretary_name == edit.secretary_name;
    if same {
        return Ok(false);
    }
    sqlx::query(
        "UPDATE orgs SET name = $1, pinyin = $2, party_org_kind = $3, party_org_name = $4, secretary_name = $5, \
         updated_at = $6 WHERE code = $7",
    )
    .bind(&edit.name)
    .bind(org::pinyin_initials(&edit.name))
    .bind(edit.party_org_kind.as_str())
    .bind(&edit.party_org_name)
    .bind(&edit.secretary_name)
    .bind(now)
    .bind(existing.code.as_str())
    .execute(&mut *conn)
    .await?;
    let after = reload(conn, &existing.code).await?;
    audit::record(
        conn,
        actor,
        now,
        Change::update(
            "org",
            existing.code.as_str(),
            &after.path,
            existing.audit_json(),
            after.audit_json(),
        ),
    )
    .await?;
    Ok(true)
}

pub use import::{ImportError, ImportMode, ImportOutcome, ImportRow};

mod import {
    //! Importing part of the tree from rows already read from a spreadsheet.

    use super::*;

    /// One spreadsheet row, cells as text, with its 1-based row number in the sheet.
    #[derive(Debug, Clone, Default)]
    pub struct ImportRow {
        pub row: usize,
        pub code: String,
        pub name: String,
        pub level: String,
        pub parent_code: String,
        pub party_org_kind: String,
        pub party_org_name: String,
        pub secretary_name: String,
        pub member_count: String,
    }

    #[derive(Debug, Clone, Copy, PartialEq, Eq)]
    pub enum ImportMode {
        /// Any bad row rejects the whole file.
        AllOrNothing,
        /// Import exactly the good rows; rows that depend on a bad row are bad too.
        GoodRowsOnly,
    }

    /// A bad cell: row number, column (the field name), and what is wrong.
    #[derive(Debug, Clone, PartialEq)]
    pub struct ImportError {
        pub row: usize,
        pub column: &'static str,
        pub msg: Msg,
    }

    #[derive(Debug, Clone, Default, PartialEq)]
    pub struct ImportOutcome {
        pub created: usize,
        pub updated: usize,
        pub unchanged: usize,
        pub errors: Vec<ImportError>,
        /// Whether anything was written (false when the file was rejected).
        pub committed: bool,
    }

    struct Parsed {
        row: usize,
        new: NewOrg,
    }

    fn parse_row(r: &ImportRow) -> std::result::Result<Parsed, Vec<ImportError>> {
        let mut errs = Vec::new();
        let mut err = |column: &'static str, msg: Msg| {
            errs.push(ImportError {
                row: r.row,
                column,
                msg,
            })
        };
        let code = OrgCode::parse(&r.code)
            .map_err(|e| err("code", e.msg()))
            .ok();
        let name = org::parse_name(&r.name)
            .map_err(|e| err("name", e.msg()))
            .ok();
        let level = Level::parse(r.level.trim())
            .map_err(|e| err("level", e.msg()))
            .ok();
        let parent = OrgCode::parse(&r.parent_code)
            .map_err(|e| err("parent_code", e.msg()))
            .ok();
        // The member count column is exported for reading and ignored on import: a count is the
        // roster's, never typed.
        let kind = if r.party_org_kind.trim().is_empty() {
            Some(PartyOrgKind::Branch)
        } else {
            PartyOrgKind::parse(&r.party_org_kind)
                .map_err(|e| err("party_org_kind", e.msg()))
                .ok()
        };
        let party_org_name = if r.party_org_name.trim().is_empty() {
            match (&name, kind) {
                (Some(n), Some(k)) => Some(format!("{n}{}", k.zh())),
                _ => None,
            }
        } else {
            org::parse_name(&r.party_org_name)
                .map_err(|e| err("party_org_name", e.msg()))
                .ok()
        };
        let secretary_name = if r.secretary_name.trim().is_empty() {
            Some(None)
        } else {
            org::parse_name(&r.secretary_name)
                .map(Some)
                .map_err(|e| err("secretary_name", e.msg()))
                .ok()
        };
        match (
            code,
            name,
            level,
            parent,
            kind,
            party_org_name,
            secretary_name,
        ) {
            (
                Some(code),
                Some(name),
                Some(level),
                Some(parent),
                Some(party_org_kind),
                Some(party_org_name),
                Some(secretary_name),
            ) if errs.is_empty() => Ok(Parsed {
                row: r.row,
                new: NewOrg {
                    code,
                    name,
                    level,
                    parent,
                    party_org_kind,
                    party_org_name,
                    secretary_name,
                    member_count: 0,
                },
            }),
            _ => Err(errs),
        }
    }

    impl Db {
        /// Imports rows into the actor's scope: new codes are created under their parent (which
        /// must exist in scope or come earlier in the file), existing codes in scope are updated
        /// (their parent must stay the same; moving is its own action). In `AllOrNothing` mode a
        /// single bad row writes nothing; every bad row is reported either way.
        pub async fn import_orgs(
            &self,
            actor: &Actor,
            rows: &[ImportRow],
            mode: ImportMode,
            now: i64,
        ) -> Result<ImportOutcome> {
            if !actor.role.may_change_tree() {
                return Err(StoreError::Denied(Msg::new("error.denied")));
            }
            let mut out = ImportOutcome::default();
            let mut seen: Vec<(String, usize)> = Vec::new();
            let mut failed_codes: Vec<String> = Vec::new();
            let mut tx = self.write().await?;
            for r in rows {
                let p = match parse_row(r) {
                    Ok(p) => p,
                    Err(errs) => {
                        failed_codes.push(r.code.trim().to_string());
                        out.errors.extend(errs);
                        continue;
                    }
                };
                let row_err = |column: &'static str, msg: Msg| ImportError {
                    row: p.row,
                    column,
                    msg,
                };
                if let Some((_, first)) = seen.iter().find(|(c, _)| c == p.new.code.as_str()) {
                    out.errors.push(row_err(
                        "code",
                        Msg::new("import.error.duplicate_code").arg("row", first),
                    ));
                    continue;
                }
                seen.push((p.new.code.as_str().to_string(), p.row));
                if failed_codes.iter().any(|c| c == p.new.parent.as_str()) {
                    failed_codes.push(p.new.code.as_str().to_string());
                    out.errors.push(row_err(
                        "parent_code",
                        Msg::new("import.error.parent_row_bad").arg("code", &p.new.parent),
                    ));
                    continue;
                }
                // A savepoint per row lets "good rows only" keep going after a row the database refuses.
                sqlx::query("SAVEPOINT import_row")
                    .execute(tx.conn())
                    .await?;
                let result = apply_row(tx.conn(), actor, &p, now).await;
                match result {
                    Ok(RowResult::Created) => out.created += 1,
                    Ok(RowResult::Updated) => out.updated += 1,
                    Ok(RowResult::Unchanged) => out.unchanged += 1,
                    Err(StoreError::Invalid(msg)) => {
                        failed_codes.push(p.new.code.as_str().to_string());
                        let column = column_of(msg.key);
                        out.errors.push(row_err(column, msg));
                        sqlx::query("ROLLBACK TO SAVEPOINT import_row")
                            .execute(tx.conn())
                            .await?;
                    }
                    Err(e) => return Err(e),
                }
                sqlx::query("RELEASE SAVEPOINT import_row")
                    .execute(tx.conn())
                    .await?;
            }
            out.errors.sort_by_key(|e| e.row);
            if out.errors.is_empty() || mode == ImportMode::GoodRowsOnly {
                tx.commit().await?;
                out.committed = out.created + out.updated > 0;
            } else {
                drop(tx);
                out.created = 0;
                out.updated = 0;
                out.unchanged = 0;
                out.committed = false;
            }
            Ok(out)
        }
    }

    enum RowResult {
        Created,
        Updated,
        Unchanged,
    }

    async fn apply_row(
        conn: &mut AnyConnection,
        actor: &Actor,
        p: &Parsed,
        now: i64,
    ) -> Result<RowResult> {
        match org_in_scope(conn, &actor.scope, &p.new.code).await {
            Ok(existing) => {
                if existing.parent_code.as_deref() != Some(p.new.parent.as_str()) {
                    return Err(StoreError::Invalid(Msg::new("import.error.parent_differs")));
                }
                if existing.level != p.new.level {
                    return Err(StoreError::Invalid(Msg::new("import.error.level_differs")));
                }
                if existing.is_retired() {
                    return Err(StoreError::Invalid(Msg::new("org.error.retired")));
                }
                if actor.scope.is_root_path(&existing.path) && existing.name != p.new.name {
                    return Err(StoreError::Invalid(Msg::new("import.error.root_rename")));
                }
                let edit = OrgEdit {
                    name: p.new.name.clone(),
                    party_org_kind: p.new.party_org_kind,
                    party_org_name: p.new.party_org_name.clone(),
                    secretary_name: p.new.secretary_name.clone(),
                };
                if update_from_import(conn, actor, &existing, &edit, now).await? {
                    Ok(RowResult::Updated)
                } else {
                    Ok(RowResult::Unchanged)
                }
            }
            Err(StoreError::NotFound) => {
                insert_checked(conn, actor, &p.new, now).await?;
                Ok(RowResult::Created)
            }
            Err(e) => Err(e),
        }
    }

    fn column_of(key: &str) -> &'static str {
        match key {
            "org.error.parent_not_found"
            | "org.error.parent_retired"
            | "import.error.parent_differs" => "parent_code",
            "org.error.wrong_parent_level" | "import.error.level_differs" => "level",
            "import.error.root_rename" => "name",
            _ => "code",
        }
    }
}
