//! Cadre rosters from officials' own sheets (干部名册导入): the secretaries in post, and the
//! first secretaries sent, village by name or code, origins and levels in the words officials
//! write. A roster records who is in post; it never changes a secretary silently: a row naming
//! someone else than the one on record is reported (a change is an appointment, with how the
//! term ended). Every bad cell by row and column; all or nothing unless the good rows alone are
//! asked for.

use std::collections::HashSet;

use baiqian_domain::Msg;
use baiqian_domain::cadre::{SecretaryOrigin, SentFrom};
use baiqian_domain::capability::Capability;
use baiqian_domain::member::{Phone, parse_date};
use baiqian_domain::org::path_upper_bound;
use baiqian_domain::role::Role;
use baiqian_domain::time::china_date;
use sqlx::Row;

use super::first::dispatches;
use super::load::{BulkFirstSecretary, BulkSecretary};
use super::{denied, text};
use crate::import::{ImportError, ImportMode, ImportOutcome, pick_org};
use crate::kernel::{Node, ORG_COLUMNS, Org};
use crate::vault::Vault;
use crate::{Actor, Db, Result, StoreError};

/// One row of a secretaries' roster, cells as typed.
#[derive(Debug, Clone, Default)]
pub struct SecretaryRow {
    pub row: usize,
    pub village: String,
    pub name: String,
    pub phone: String,
    pub origin: String,
    pub origin_note: String,
    pub since: String,
}

/// One row of a first secretaries' roster, cells as typed.
#[derive(Debug, Clone, Default)]
pub struct FirstSecretaryRow {
    pub row: usize,
    pub village: String,
    pub name: String,
    pub phone: String,
    pub sent_from: String,
    pub sent_by: String,
    pub start_on: String,
    pub term_end: String,
    pub stationed: String,
}

/// A yes/no cell as officials write it; empty is no.
fn yes_no(s: &str) -> Option<bool> {
    match s.trim() {
        "不驻村" => Some(false),
        "驻村" | "驻点" => Some(true),
        other => crate::check::yes_no(other),
    }
}

fn cell_error(errs: &mut Vec<ImportError>, row: usize, column: &'static str, e: StoreError) {
    if let StoreError::Invalid(msg) | StoreError::Conflict(msg) | StoreError::Denied(msg) = e {
        errs.push(ImportError { row, column, msg });
    }
}

/// Where a roster row's person stands against the record: new to a village with no one in post
/// (`Ok(true)`), the one in post already (`Ok(false)`), or refused — the village named twice in
/// the file, or someone else in post (a change is an appointment, never a roster row).
fn in_post(
    seen: &mut HashSet<String>,
    holders: &std::collections::HashMap<String, String>,
    row: usize,
    village: &Org,
    name: &str,
    other_key: &'static str,
) -> std::result::Result<bool, ImportError> {
    if !seen.insert(village.code.as_str().to_string()) {
        return Err(ImportError {
            row,
            column: "village",
            msg: Msg::new("cadre.error.village_twice").arg("name", &village.name),
        });
    }
    match holders.get(village.code.as_str()) {
        Some(holder) if holder == name => Ok(false),
        Some(holder) => Err(ImportError {
            row,
            column: "name",
            msg: Msg::new(other_key).arg("name", holder),
        }),
        None => Ok(true),
    }
}

/// The villages under `node` in the actor's scope, and who is in post in each (by code).
async fn villages_and_holders(
    db: &Db,
    actor: &Actor,
    node: &Node,
    table: &str,
    open: &str,
) -> Result<(Vec<Org>, std::collections::HashMap<String, String>)> {
    let mut conn = db.pool().acquire().await?;
    let villages = sqlx::query(&format!(
        "SELECT {ORG_COLUMNS} FROM orgs WHERE level = 'village' AND retired_at IS NULL \
         AND path >= $1 AND path < $2 AND path >= $3 AND path < $4 ORDER BY path"
    ))
    .bind(&node.path)
    .bind(path_upper_bound(&node.path))
    .bind(actor.scope.lower())
    .bind(actor.scope.upper())
    .fetch_all(&mut *conn)
    .await?
    .iter()
    .map(Org::from_row)
    .collect::<Result<Vec<_>>>()?;
    let holders = sqlx::query(&format!(
        "SELECT org_code, name FROM {table} WHERE {open} AND org_path >= $1 AND org_path < $2"
    ))
    .bind(&node.path)
    .bind(path_upper_bound(&node.path))
    .fetch_all(&mut *conn)
    .await?
    .iter()
    .map(|r| Ok((r.try_get("org_code")?, r.try_get("name")?)))
    .collect::<Result<_>>()?;
    Ok((villages, holders))
}

fn optional_phone(s: &str) -> Result<Option<Phone>> {
    if s.trim().is_empty() {
        return Ok(None);
    }
    Phone::parse(s)
        .map(Some)
        .map_err(|e| StoreError::Invalid(e.msg()))
}

fn date_cell(s: &str, key: &'static str) -> Result<String> {
    parse_date(s).map_err(|_| StoreError::Invalid(Msg::new(key)))
}

fn outcome(
    errors: Vec<ImportError>,
    created: usize,
    unchanged: usize,
    mode: ImportMode,
) -> (ImportOutcome, bool) {
    let write = created > 0 && (errors.is_empty() || mode == ImportMode::GoodRowsOnly);
    (
        ImportOutcome {
            created: if write { created } else { 0 },
            updated: 0,
            unchanged,
            committed: write,
            errors,
        },
        write,
    )
}

impl Db {
    /// Imports the secretaries in post of the villages under `node`.
    pub async fn import_secretary_rows(
        &self,
        actor: &Actor,
        vault: &Vault,
        node: &Node,
        rows: &[SecretaryRow],
        mode: ImportMode,
        now: i64,
    ) -> Result<ImportOutcome> {
        if !actor.role.may(Capability::ManageCadres) {
            return Err(denied());
        }
        let today = china_date(now);
        let (villages, holders) =
            villages_and_holders(self, actor, node, "secretaries", "until IS NULL").await?;
        let mut errors = Vec::new();
        let mut good = Vec::new();
        let mut unchanged = 0;
        let mut seen = HashSet::new();
        for r in rows {
            let mut errs = Vec::new();
            let village = pick_org(&villages, &r.village)
                .map_err(|m| cell_error(&mut errs, r.row, "village", StoreError::Invalid(m)))
                .ok()
                .cloned();
            let name = text(&r.name, 2, 20, "cadre.error.name")
                .map_err(|e| cell_error(&mut errs, r.row, "name", e))
                .ok();
            let phone = optional_phone(&r.phone)
                .map_err(|e| cell_error(&mut errs, r.row, "phone", e))
                .ok();
            let origin = if r.origin.trim().is_empty() {
                Some(SecretaryOrigin::Other)
            } else {
                SecretaryOrigin::parse(&r.origin)
            };
            if origin.is_none() {
                cell_error(
                    &mut errs,
                    r.row,
                    "origin",
                    StoreError::Invalid(Msg::new("cadre.error.origin")),
                );
            }
            let origin_note = text(&r.origin_note, 0, 200, "cadre.error.note")
                .map_err(|e| cell_error(&mut errs, r.row, "origin_note", e))
                .ok();
            let since = date_cell(&r.since, "cadre.error.since")
                .and_then(|d| {
                    if d > today {
                        Err(StoreError::Invalid(Msg::new("cadre.error.future")))
                    } else {
                        Ok(d)
                    }
                })
                .map_err(|e| cell_error(&mut errs, r.row, "since", e))
                .ok();
            let (
                true,
                Some(village),
                Some(name),
                Some(phone),
                Some(origin),
                Some(origin_note),
                Some(since),
            ) = (
                errs.is_empty(),
                village,
                name,
                phone,
                origin,
                origin_note,
                since,
            )
            else {
                errors.extend(errs);
                continue;
            };
            match in_post(
                &mut seen,
                &holders,
                r.row,
                &village,
                &name,
                "cadre.error.other_in_post",
            ) {
                Ok(false) => unchanged += 1,
                Err(e) => errors.push(e),
                Ok(true) => good.push(BulkSecretary {
                    org_code: village.code.clone(),
                    name,
                    phone,
                    origin,
                    origin_note,
                    since,
                    until: None,
                    end: None,
                    successor: None,
                }),
            }
        }
        let (out, write) = outcome(errors, good.len(), unchanged, mode);
        if write {
            self.bulk_load_cadres(actor, vault, &good, &[], now).await?;
        }
        Ok(out)
    }

    /// Imports the first secretaries in post in the villages under `node`.
    pub async fn import_first_secretary_rows(
        &self,
        actor: &Actor,
        vault: &Vault,
        node: &Node,
        rows: &[FirstSecretaryRow],
        mode: ImportMode,
        now: i64,
    ) -> Result<ImportOutcome> {
        if !matches!(actor.role, Role::CityAdmin | Role::CountyAdmin) {
            return Err(denied());
        }
        let today = china_date(now);
        let (villages, holders) =
            villages_and_holders(self, actor, node, "first_secretaries", "ended_on IS NULL")
                .await?;
        let mut errors = Vec::new();
        let mut good = Vec::new();
        let mut unchanged = 0;
        let mut seen = HashSet::new();
        for r in rows {
            let mut errs = Vec::new();
            let village = pick_org(&villages, &r.village)
                .map_err(|m| cell_error(&mut errs, r.row, "village", StoreError::Invalid(m)))
                .ok()
                .cloned();
            let name = text(&r.name, 2, 20, "cadre.error.name")
                .map_err(|e| cell_error(&mut errs, r.row, "name", e))
                .ok();
            let phone = optional_phone(&r.phone)
                .map_err(|e| cell_error(&mut errs, r.row, "phone", e))
                .ok();
            let from = SentFrom::parse(&r.sent_from);
            match (from, &village) {
                (None, _) => cell_error(
                    &mut errs,
                    r.row,
                    "sent_from",
                    StoreError::Invalid(Msg::new("cadre.error.sent_from")),
                ),
                (Some(f), Some(v)) if !dispatches(actor, f, &v.path) => cell_error(
                    &mut errs,
                    r.row,
                    "sent_from",
                    StoreError::Invalid(Msg::new("cadre.error.sent_from_denied")),
                ),
                _ => {}
            }
            let sent_by = text(&r.sent_by, 2, 60, "cadre.error.sent_by")
                .map_err(|e| cell_error(&mut errs, r.row, "sent_by", e))
                .ok();
            let start_on = date_cell(&r.start_on, "cadre.error.start")
                .and_then(|d| {
                    if d > today {
                        Err(StoreError::Invalid(Msg::new("cadre.error.future")))
                    } else {
                        Ok(d)
                    }
                })
                .map_err(|e| cell_error(&mut errs, r.row, "start_on", e))
                .ok();
            let term_end = date_cell(&r.term_end, "cadre.error.term_end")
                .and_then(|d| match &start_on {
                    Some(s) if d <= *s => {
                        Err(StoreError::Invalid(Msg::new("cadre.error.term_end")))
                    }
                    _ => Ok(d),
                })
                .map_err(|e| cell_error(&mut errs, r.row, "term_end", e))
                .ok();
            let stationed = yes_no(&r.stationed);
            if stationed.is_none() {
                cell_error(
                    &mut errs,
                    r.row,
                    "stationed",
                    StoreError::Invalid(Msg::new("cadre.error.stationed")),
                );
            }
            let (
                true,
                Some(village),
                Some(name),
                Some(phone),
                Some(sent_from),
                Some(sent_by),
                Some(start_on),
                Some(term_end),
                Some(stationed),
            ) = (
                errs.is_empty(),
                village,
                name,
                phone,
                from,
                sent_by,
                start_on,
                term_end,
                stationed,
            )
            else {
                errors.extend(errs);
                continue;
            };
            match in_post(
                &mut seen,
                &holders,
                r.row,
                &village,
                &name,
                "cadre.error.other_first_in_post",
            ) {
                Ok(false) => unchanged += 1,
                Err(e) => errors.push(e),
                Ok(true) => good.push(BulkFirstSecretary {
                    org_code: village.code.clone(),
                    name,
                    phone,
                    sent_from,
                    sent_by,
                    start_on,
                    term_end,
                    stationed,
                }),
            }
        }
        let (out, write) = outcome(errors, good.len(), unchanged, mode);
        if write {
            self.bulk_load_cadres(actor, vault, &[], &good, now).await?;
        }
        Ok(out)
    }
}
