//! Standard sets (标准) and their items (条目): versioned, owned by a level of the tree, entered
//! in the UI or imported from a spreadsheet. A set a round uses is read-only; a change is a new
//! version.

use baiqian_domain::Msg;
use baiqian_domain::scope::Scope;
use serde::Serialize;
use sqlx::any::AnyRow;
use sqlx::{AnyConnection, Row};

use crate::audit::{self, Change};
use crate::import::ImportError;
use crate::{Actor, Db, Result, StoreError};

#[derive(Debug, Clone, Serialize)]
pub struct StandardSet {
    pub id: i64,
    pub code: String,
    pub version: i64,
    pub name: String,
    pub owner_code: String,
    pub owner_name: String,
    pub owner_path: String,
    pub item_count: i64,
    pub full_total: i64,
    /// Used by a rating round: read-only from then on.
    pub locked: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StandardItem {
    pub id: i64,
    pub group_name: String,
    pub code: String,
    pub body: String,
    pub full_score: i64,
    pub guidance: String,
    pub evidence: String,
    /// 一票否决: failing it caps the stars.
    pub veto: bool,
}

/// An item as entered, checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewItem {
    pub group_name: String,
    pub code: String,
    pub body: String,
    pub full_score: i64,
    pub guidance: String,
    pub evidence: String,
    pub veto: bool,
}

/// An item as read from a spreadsheet row (text cells) or a form.
#[derive(Debug, Clone, Default)]
pub struct ItemRow {
    pub row: usize,
    pub group_name: String,
    pub code: String,
    pub body: String,
    pub full_score: String,
    pub guidance: String,
    pub evidence: String,
    pub veto: String,
}

const MAX_ITEMS: usize = 500;
const MAX_TEXT: usize = 500;

fn text(
    row: usize,
    column: &'static str,
    s: &str,
    max: usize,
    required: bool,
    errs: &mut Vec<ImportError>,
) -> String {
    let t = s.trim();
    if required && t.is_empty() {
        errs.push(ImportError {
            row,
            column,
            msg: Msg::new("standard.error.required"),
        });
    } else if t.chars().count() > max {
        errs.push(ImportError {
            row,
            column,
            msg: Msg::new("standard.error.too_long").arg("max", max),
        });
    }
    t.to_string()
}

/// Checks one item; every bad cell is reported.
pub fn parse_item(r: &ItemRow) -> std::result::Result<NewItem, Vec<ImportError>> {
    let mut errs = Vec::new();
    let group_name = text(r.row, "group", &r.group_name, 60, true, &mut errs);
    let code = text(r.row, "code", &r.code, 20, true, &mut errs);
    if code.chars().any(char::is_whitespace) {
        errs.push(ImportError {
            row: r.row,
            column: "code",
            msg: Msg::new("standard.error.code"),
        });
    }
    let body = text(r.row, "body", &r.body, MAX_TEXT, true, &mut errs);
    let full_score = match r.full_score.trim().parse::<i64>() {
        Ok(v) if (0..=100).contains(&v) => v,
        _ => {
            errs.push(ImportError {
                row: r.row,
                column: "full_score",
                msg: Msg::new("standard.error.full_score"),
            });
            0
        }
    };
    let guidance = text(r.row, "guidance", &r.guidance, MAX_TEXT, false, &mut errs);
    let evidence = text(r.row, "evidence", &r.evidence, MAX_TEXT, false, &mut errs);
    let veto = match r.veto.trim() {
        "是" | "yes" | "true" | "1" => true,
        "否" | "no" | "false" | "0" | "" => false,
        _ => {
            errs.push(ImportError {
                row: r.row,
                column: "veto",
                msg: Msg::new("standard.error.veto"),
            });
            false
        }
    };
    if !veto && full_score == 0 {
        errs.push(ImportError {
            row: r.row,
            column: "full_score",
            msg: Msg::new("standard.error.full_score"),
        });
    }
    if errs.is_empty() {
        Ok(NewItem {
            group_name,
            code,
            body,
            full_score,
            guidance,
            evidence,
            veto,
        })
    } else {
        Err(errs)
    }
}

/// Checks every row of a set: each item, and codes unique within the set.
pub fn parse_items(rows: &[ItemRow]) -> std::result::Result<Vec<NewItem>, Vec<ImportError>> {
    let mut errs = Vec::new();
    let mut items: Vec<NewItem> = Vec::new();
    if rows.len() > MAX_ITEMS {
        return Err(vec![ImportError {
            row: 1,
            column: "code",
            msg: Msg::new("import.error.too_many_rows").arg("max", MAX_ITEMS),
        }]);
    }
    for r in rows {
        match parse_item(r) {
            Ok(item) => {
                if items.iter().any(|i| i.code == item.code) {
                    errs.push(ImportError {
                        row: r.row,
                        column: "code",
                        msg: Msg::new("standard.error.duplicate_code").arg("code", &item.code),
                    });
                } else {
                    items.push(item);
                }
            }
            Err(mut e) => errs.append(&mut e),
        }
    }
    if errs.is_empty() {
        Ok(items)
    } else {
        Err(errs)
    }
}

/// A set's code: letters, digits and `-`, up to 20.
pub fn parse_set_code(s: &str) -> std::result::Result<String, Msg> {
    let t = s.trim();
    if t.is_empty() || t.len() > 20 || !t.chars().all(|c| c.is_ascii_alphanumeric() || c == '-') {
        return Err(Msg::new("standard.error.set_code"));
    }
    Ok(t.to_string())
}

/// A set's name: 1 to 60 characters, quotes and punctuation allowed (official titles have them).
pub fn parse_set_name(s: &str) -> std::result::Result<String, Msg> {
    let t = s.trim();
    if t.is_empty() {
        return Err(Msg::new("standard.error.required"));
    }
    if t.chars().count() > 60 || t.chars().any(char::is_control) {
        return Err(Msg::new("standard.error.too_long").arg("max", 60));
    }
    Ok(t.to_string())
}

const SET_COLUMNS: &str = "s.id, s.code, s.version, s.name, s.owner_code, o.name AS owner_name, \
     s.owner_path, \
     (SELECT COUNT(*) FROM standard_items i WHERE i.set_id = s.id) AS item_count, \
     (SELECT CAST(COALESCE(SUM(i.full_score), 0) AS BIGINT) FROM standard_items i WHERE i.set_id = s.id) AS full_total, \
     CASE WHEN EXISTS (SELECT 1 FROM rating_rounds r WHERE r.set_id = s.id) \
          OR EXISTS (SELECT 1 FROM assessments a WHERE a.set_id = s.id) THEN 1 ELSE 0 END AS uses";

/// Visible: owned inside the scope, or by a node above the scope's root (its standards apply).
const SET_VISIBLE: &str = "((s.owner_path >= $1 AND s.owner_path < $2) \
     OR substr($3, 1, length(s.owner_path)) = s.owner_path)";

fn set_from_row(r: &AnyRow) -> Result<StandardSet> {
    Ok(StandardSet {
        id: r.try_get("id")?,
        code: r.try_get("code")?,
        version: r.try_get("version")?,
        name: r.try_get("name")?,
        owner_code: r.try_get("owner_code")?,
        owner_name: r.try_get("owner_name")?,
        owner_path: r.try_get("owner_path")?,
        item_count: r.try_get("item_count")?,
        full_total: r.try_get("full_total")?,
        locked: r.try_get::<i64, _>("uses")? > 0,
    })
}

fn item_from_row(r: &AnyRow) -> Result<StandardItem> {
    Ok(StandardItem {
        id: r.try_get("id")?,
        group_name: r.try_get("group_name")?,
        code: r.try_get("code")?,
        body: r.try_get("body")?,
        full_score: r.try_get("full_score")?,
        guidance: r.try_get("guidance")?,
        evidence: r.try_get("evidence")?,
        veto: r.try_get::<i64, _>("veto")? != 0,
    })
}

pub(crate) async fn items_of(conn: &mut AnyConnection, set_id: i64) -> Result<Vec<StandardItem>> {
    sqlx::query(
        "SELECT id, group_name, code, body, full_score, guidance, evidence, veto \
         FROM standard_items WHERE set_id = $1 ORDER BY position",
    )
    .bind(set_id)
    .fetch_all(conn)
    .await?
    .iter()
    .map(item_from_row)
    .collect()
}

async fn set_in(conn: &mut AnyConnection, scope: &Scope, id: i64) -> Result<StandardSet> {
    let row = sqlx::query(&format!(
        "SELECT {SET_COLUMNS} FROM standard_sets s JOIN orgs o ON o.code = s.owner_code \
         WHERE s.id = $4 AND {SET_VISIBLE}"
    ))
    .bind(scope.lower())
    .bind(scope.upper())
    .bind(scope.lower())
    .bind(id)
    .fetch_optional(conn)
    .await?;
    row.as_ref()
        .map(set_from_row)
        .transpose()?
        .ok_or(StoreError::NotFound)
}

async fn insert_items(
    conn: &mut AnyConnection,
    set_id: i64,
    first_position: i64,
    items: &[NewItem],
) -> Result<()> {
    for (i, it) in items.iter().enumerate() {
        sqlx::query(
            "INSERT INTO standard_items (set_id, position, group_name, code, body, full_score, guidance, evidence, veto) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
        )
        .bind(set_id)
        .bind(first_position + i as i64)
        .bind(&it.group_name)
        .bind(&it.code)
        .bind(&it.body)
        .bind(it.full_score)
        .bind(&it.guidance)
        .bind(&it.evidence)
        .bind(i64::from(it.veto))
        .execute(&mut *conn)
        .await
        .map_err(|e| {
            crate::on_unique(
                e,
                Msg::new("standard.error.duplicate_code").arg("code", &it.code),
            )
        })?;
    }
    Ok(())
}

impl Db {
    /// The sets the caller may read: their own area's and those of the levels above.
    pub async fn standard_sets(&self, scope: &Scope) -> Result<Vec<StandardSet>> {
        sqlx::query(&format!(
            "SELECT {SET_COLUMNS} FROM standard_sets s JOIN orgs o ON o.code = s.owner_code \
             WHERE {SET_VISIBLE} ORDER BY s.owner_path, s.code, s.version DESC"
        ))
        .bind(scope.lower())
        .bind(scope.upper())
        .bind(scope.lower())
        .fetch_all(self.pool())
        .await?
        .iter()
        .map(set_from_row)
        .collect()
    }

    pub async fn standard_set(
        &self,
        scope: &Scope,
        id: i64,
    ) -> Result<(StandardSet, Vec<StandardItem>)> {
        let mut conn = self.pool().acquire().await?;
        let set = set_in(&mut conn, scope, id).await?;
        let items = items_of(&mut conn, id).await?;
        Ok((set, items))
    }

    /// Creates a set, or the next version of the caller's set with that code. The owner is the
    /// caller's own node (an admin's scope root).
    pub async fn create_standard_set(
        &self,
        actor: &Actor,
        code: &str,
        name: &str,
        items: &[NewItem],
        now: i64,
    ) -> Result<StandardSet> {
        if !actor.role.is_admin() {
            return Err(StoreError::Denied(Msg::new("error.denied")));
        }
        let owner = actor.scope.root.clone().ok_or(StoreError::NotFound)?;
        let code = parse_set_code(code).map_err(StoreError::Invalid)?;
        let name = parse_set_name(name).map_err(StoreError::Invalid)?;
        let mut tx = self.write().await?;
        let owner_path = crate::kernel::org_path(tx.conn(), owner.as_str()).await?;
        let prev = sqlx::query(
            "SELECT owner_code, COALESCE(MAX(version), 0) FROM standard_sets WHERE code = $1 GROUP BY owner_code",
        )
        .bind(&code)
        .fetch_all(tx.conn())
        .await?;
        let mut version = 1;
        for r in &prev {
            let o: String = r.try_get(0)?;
            if o != owner.as_str() {
                return Err(StoreError::Invalid(
                    Msg::new("standard.error.code_taken").arg("code", &code),
                ));
            }
            version = r.try_get::<i64, _>(1)? + 1;
        }
        let id: i64 = sqlx::query(
            "INSERT INTO standard_sets (code, version, name, owner_code, owner_path, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
        )
        .bind(&code)
        .bind(version)
        .bind(&name)
        .bind(owner.as_str())
        .bind(&owner_path)
        .bind(now)
        .fetch_one(tx.conn())
        .await?
        .try_get(0)?;
        insert_items(tx.conn(), id, 1, items).await?;
        audit::record(
            tx.conn(),
            actor,
            now,
            Change::create(
                "standard_set",
                &format!("{code} v{version}"),
                &owner_path,
                serde_json::json!({"name": name, "items": items.len(),
                    "full_total": items.iter().map(|i| i.full_score).sum::<i64>()}),
            ),
        )
        .await?;
        let set = set_in(tx.conn(), &actor.scope, id).await?;
        tx.commit().await?;
        Ok(set)
    }

    /// Adds an item at the end of a set the caller's area owns and no round uses yet.
    pub async fn add_standard_item(
        &self,
        actor: &Actor,
        set_id: i64,
        item: &NewItem,
        now: i64,
    ) -> Result<StandardItem> {
        let mut tx = self.write().await?;
        let set = set_in(tx.conn(), &actor.scope, set_id).await?;
        if !actor.role.is_admin() || !actor.scope.contains_path(&set.owner_path) {
            return Err(StoreError::Denied(Msg::new("error.denied")));
        }
        if set.locked {
            return Err(StoreError::Conflict(Msg::new("standard.error.locked")));
        }
        insert_items(
            tx.conn(),
            set_id,
            set.item_count + 1,
            std::slice::from_ref(item),
        )
        .await?;
        audit::record(
            tx.conn(),
            actor,
            now,
            Change::create(
                "standard_item",
                &format!("{} v{} {}", set.code, set.version, item.code),
                &set.owner_path,
                serde_json::json!({"group": item.group_name, "body": item.body,
                    "full_score": item.full_score, "veto": item.veto}),
            ),
        )
        .await?;
        let items = items_of(tx.conn(), set_id).await?;
        tx.commit().await?;
        items
            .into_iter()
            .find(|i| i.code == item.code)
            .ok_or(StoreError::NotFound)
    }
}
