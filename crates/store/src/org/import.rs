//! Importing part of the tree from rows already read from a spreadsheet.

use super::*;
use crate::import::{ImportError, ImportMode, ImportOutcome};

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
