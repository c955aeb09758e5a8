//! Cadres loaded many at a time (the demo, and rosters that arrive whole): multi-row
//! statements in one transaction with one audit row, never one transaction per person.

use baiqian_domain::cadre::{SecretaryOrigin, SentFrom, TermEnd};
use baiqian_domain::member::Phone;
use baiqian_domain::org::OrgCode;
use serde_json::json;
use sqlx::Row;

use crate::audit::{self, Change};
use crate::vault::Vault;
use crate::{Actor, Db, Result, StoreError};

/// A secretary's term, already parsed. `successor` is the index, in the same load, of the
/// term that followed this one.
#[derive(Debug, Clone)]
pub struct BulkSecretary {
    pub org_code: OrgCode,
    pub name: String,
    pub phone: Option<Phone>,
    pub origin: SecretaryOrigin,
    pub origin_note: String,
    pub since: String,
    pub until: Option<String>,
    pub end: Option<(TermEnd, String)>,
    pub successor: Option<usize>,
}

/// A first secretary's dispatch, already parsed.
#[derive(Debug, Clone)]
pub struct BulkFirstSecretary {
    pub org_code: OrgCode,
    pub name: String,
    pub phone: Option<Phone>,
    pub sent_from: SentFrom,
    pub sent_by: String,
    pub start_on: String,
    pub term_end: String,
    pub stationed: bool,
}

fn seal(vault: &Vault, phone: &Option<Phone>) -> Result<(Option<String>, Option<String>)> {
    match phone {
        Some(p) => Ok((
            Some(
                vault
                    .seal(p.as_str())
                    .map_err(|e| StoreError::Corrupt(format!("vault: {e}")))?,
            ),
            Some(p.masked()),
        )),
        None => Ok((None, None)),
    }
}

impl Db {
    /// Loads secretaries' terms and first secretaries' dispatches into villages of the
    /// actor's scope; the tree's secretary names follow the terms in post. All or nothing.
    pub async fn bulk_load_cadres(
        &self,
        actor: &Actor,
        vault: &Vault,
        secretaries: &[BulkSecretary],
        firsts: &[BulkFirstSecretary],
        now: i64,
    ) -> Result<()> {
        let mut tx = self.write().await?;
        let paths: std::collections::HashMap<String, String> = sqlx::query(
            "SELECT code, path FROM orgs WHERE level = 'village' AND path >= $1 AND path < $2",
        )
        .bind(actor.scope.lower())
        .bind(actor.scope.upper())
        .fetch_all(tx.conn())
        .await?
        .iter()
        .map(|r| Ok((r.try_get("code")?, r.try_get("path")?)))
        .collect::<Result<_>>()?;
        let path_of = |code: &OrgCode| {
            paths
                .get(code.as_str())
                .cloned()
                .ok_or(StoreError::NotFound)
        };
        let first: i64 = sqlx::query("SELECT COALESCE(MAX(id), 0) + 1 FROM secretaries")
            .fetch_one(tx.conn())
            .await?
            .try_get(0)?;
        const W: usize = 13;
        let per = crate::bulk::rows_per_statement(W);
        for (n, chunk) in secretaries.chunks(per).enumerate() {
            let sql = format!(
                "INSERT INTO secretaries (id, org_code, org_path, name, phone_sealed, phone_masked, \
                 origin, origin_note, since, until, end_kind, end_reason, created_at, updated_at) VALUES {}",
                crate::bulk::values(
                    "(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?13)",
                    W,
                    chunk.len(),
                    1
                )
            );
            let mut q = sqlx::query(&sql);
            for (k, s) in chunk.iter().enumerate() {
                let (sealed, masked) = seal(vault, &s.phone)?;
                q = q
                    .bind(first + (n * per + k) as i64)
                    .bind(s.org_code.as_str().to_string())
                    .bind(path_of(&s.org_code)?)
                    .bind(s.name.clone())
                    .bind(sealed)
                    .bind(masked)
                    .bind(s.origin.as_str())
                    .bind(s.origin_note.clone())
                    .bind(s.since.clone())
                    .bind(s.until.clone())
                    .bind(s.end.as_ref().map(|e| e.0.as_str()))
                    .bind(s.end.as_ref().map(|e| e.1.clone()))
                    .bind(now);
            }
            q.execute(tx.conn()).await.map_err(|e| {
                crate::on_unique(e, baiqian_domain::Msg::new("cadre.error.in_post"))
            })?;
        }
        // Successors after every row is in: a successor may sit in a later statement.
        for (k, s) in secretaries.iter().enumerate() {
            if let Some(next) = s.successor {
                if next >= secretaries.len() {
                    return Err(StoreError::Invalid(baiqian_domain::Msg::new(
                        "cadre.error.successor",
                    )));
                }
                sqlx::query("UPDATE secretaries SET successor_id = $1 WHERE id = $2")
                    .bind(first + next as i64)
                    .bind(first + k as i64)
                    .execute(tx.conn())
                    .await?;
            }
        }
        self.after_explicit_ids(tx.conn(), "secretaries").await?;
        const WF: usize = 12;
        let per = crate::bulk::rows_per_statement(WF);
        for chunk in firsts.chunks(per) {
            let sql = format!(
                "INSERT INTO first_secretaries (org_code, org_path, name, phone_sealed, phone_masked, \
                 sent_from, sent_by, start_on, term_end, stationed, created_by, created_at, updated_at) VALUES {}",
                crate::bulk::values(
                    "(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?12)",
                    WF,
                    chunk.len(),
                    1
                )
            );
            let mut q = sqlx::query(&sql);
            for f in chunk {
                let (sealed, masked) = seal(vault, &f.phone)?;
                q = q
                    .bind(f.org_code.as_str().to_string())
                    .bind(path_of(&f.org_code)?)
                    .bind(f.name.clone())
                    .bind(sealed)
                    .bind(masked)
                    .bind(f.sent_from.as_str())
                    .bind(f.sent_by.clone())
                    .bind(f.start_on.clone())
                    .bind(f.term_end.clone())
                    .bind(i64::from(f.stationed))
                    .bind(actor.login.clone())
                    .bind(now);
            }
            q.execute(tx.conn()).await.map_err(|e| {
                crate::on_unique(e, baiqian_domain::Msg::new("cadre.error.first_in_post"))
            })?;
        }
        sqlx::query(
            "UPDATE orgs SET secretary_name = (SELECT s.name FROM secretaries s \
             WHERE s.org_code = orgs.code AND s.until IS NULL), updated_at = $1 \
             WHERE EXISTS (SELECT 1 FROM secretaries s WHERE s.org_code = orgs.code \
             AND s.until IS NULL AND s.id >= $2)",
        )
        .bind(now)
        .bind(first)
        .execute(tx.conn())
        .await?;
        let change = Change {
            action: "bulk_load",
            entity: "secretary",
            key: format!("{} + {}", secretaries.len(), firsts.len()),
            org_path: actor.scope.lower().to_string(),
            before: None,
            after: Some(
                json!({ "secretaries": secretaries.len(), "first_secretaries": firsts.len() }),
            ),
            reason: None,
        };
        audit::record(tx.conn(), actor, now, change).await?;
        tx.commit().await?;
        Ok(())
    }
}
