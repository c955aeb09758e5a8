//! The tree's writer (组织树维护): create, edit, move, retire and import nodes. Reading the tree
//! is the kernel's; what other areas keep per node follows these changes through
//! `kernel::tree_changed`.

use baiqian_domain::Msg;
use baiqian_domain::org::{self, Level, OrgCode, PartyOrgKind};
use serde_json::json;
use sqlx::{AnyConnection, Row};

use crate::audit::{self, Change};
use crate::bulk;
use crate::kernel::{Node, Org, TreeEvent, bump_member_counts, org_in_scope, reload, tree_changed};
use crate::{Actor, Db, Result, StoreError, on_unique};

pub use crate::kernel::LevelCounts;

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
    /// Creates a node under a parent in the actor's scope; one audit row.
    pub async fn create_org(&self, actor: &Actor, new: NewOrg, now: i64) -> Result<Node> {
        if !actor.role.may_change_tree() {
            return Err(StoreError::Denied(Msg::new("error.denied")));
        }
        let mut tx = self.write().await?;
        let created = insert_checked(tx.conn(), actor, &new, now).await?;
        tx.commit().await?;
        Ok(Node::found(created))
    }

    /// Renames a node and edits its Party organization. The scope root's own name is changed from
    /// above; its Party organization details may be kept by its own admin or secretary.
    pub async fn edit_org(
        &self,
        actor: &Actor,
        code: &OrgCode,
        edit: OrgEdit,
        now: i64,
    ) -> Result<Node> {
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
        Ok(Node::found(after))
    }

    /// Moves a node (and its subtree) under another parent in scope, with a reason.
    pub async fn move_org(
        &self,
        actor: &Actor,
        code: &OrgCode,
        new_parent: &OrgCode,
        reason: &str,
        now: i64,
    ) -> Result<Node> {
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
        tree_changed(
            tx.conn(),
            actor,
            TreeEvent::Moved {
                old_path: &before.path,
                new_path: &new_path,
            },
            now,
        )
        .await?;
        // Member counts are subtree counts: the subtree's members leave the old ancestors and
        // join the new ones.
        if before.member_count != 0 {
            if let Some(old_parent) = before.path.strip_suffix(&format!("{}/", code.as_str())) {
                bump_member_counts(tx.conn(), old_parent, -before.member_count).await?;
            }
            bump_member_counts(tx.conn(), &parent.path, before.member_count).await?;
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
        Ok(Node::found(after))
    }

    /// Retires a node that has no active children: it stays with its history, out of counts.
    pub async fn retire_org(
        &self,
        actor: &Actor,
        code: &OrgCode,
        reason: &str,
        now: i64,
    ) -> Result<Node> {
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
        // What hung on the node ends with it: its place in open rounds, its accounts, its
        // card readers.
        tree_changed(
            tx.conn(),
            actor,
            TreeEvent::Retired {
                node: &after,
                reason: &reason,
            },
            now,
        )
        .await?;
        tx.commit().await?;
        Ok(Node::found(after))
    }

    /// Loads many nodes at once with multi-row statements (demo and benchmark worlds).
    /// Not audited row by row: one audit row records the load.
    pub async fn bulk_insert_orgs(&self, actor: &Actor, rows: &[BulkOrg], now: i64) -> Result<()> {
        let mut tx = self.write().await?;
        for chunk in rows.chunks(bulk::rows_per_statement(13)) {
            let sql = format!(
                "INSERT INTO orgs (code, name, level, parent_code, path, pinyin, party_org_kind, party_org_name, \
                 secretary_name, member_count, code_invented, created_at, updated_at) VALUES {}",
                bulk::values(&bulk::plain_row(13), 13, chunk.len(), 1)
            );
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
    tree_changed(conn, actor, TreeEvent::Created(&created), now).await?;
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

mod import;

pub use import::ImportRow;
