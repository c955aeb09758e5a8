//! Loading many wishes at once (the demo world, a province for the benchmark): multi-row
//! statements, phones sealed as the form seals them, one audit row.

use serde_json::json;
use sqlx::Row;

use super::WishStatus;
use crate::audit::{self, Change};
use crate::bulk::{Rows, Value, opt, text};
use crate::vault::Vault;
use crate::{Actor, Db, Result, StoreError};

/// A wish as loaded, with how far it got.
#[derive(Debug, Clone)]
pub struct BulkWish {
    pub org_code: String,
    pub title: String,
    pub detail: String,
    pub villager_name: String,
    pub villager_address: String,
    pub phone: Option<String>,
    pub status: WishStatus,
    pub posted_by: String,
    pub posted_at: i64,
    pub claimed_by: Option<String>,
    pub claimed_at: Option<i64>,
    pub fulfilled_at: Option<i64>,
    pub fulfil_note: Option<String>,
    pub confirmed_at: Option<i64>,
}

fn int(v: Option<i64>) -> Value {
    v.map_or(Value::NullInt, Value::Int)
}

impl Db {
    /// Loads wishes at villages in the actor's scope. One transaction, one audit row.
    pub async fn bulk_load_wishes(
        &self,
        actor: &Actor,
        vault: &Vault,
        wishes: &[BulkWish],
        now: i64,
    ) -> Result<usize> {
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
        let mut rows = Rows::new(
            "INSERT INTO wishes (org_code, org_path, title, detail, villager_name, villager_address, \
             phone_sealed, phone_masked, status, posted_by, posted_at, claimed_by, claimed_at, \
             fulfilled_at, fulfil_note, confirmed_at, updated_at)",
            17,
        );
        for w in wishes {
            let path = paths.get(&w.org_code).ok_or(StoreError::NotFound)?;
            let held = !matches!(w.status, WishStatus::Posted | WishStatus::Withdrawn);
            if held != w.claimed_by.is_some() {
                return Err(StoreError::Corrupt(format!(
                    "wish {}: status {} with claimer {:?}",
                    w.title,
                    w.status.as_str(),
                    w.claimed_by
                )));
            }
            let (sealed, masked) =
                crate::check::sealed_phone(vault, w.phone.as_deref().unwrap_or(""))?;
            rows.push(vec![
                text(&w.org_code),
                text(path),
                text(&w.title),
                text(&w.detail),
                text(&w.villager_name),
                text(&w.villager_address),
                opt(&sealed),
                opt(&masked),
                text(w.status.as_str()),
                text(&w.posted_by),
                Value::Int(w.posted_at),
                opt(&w.claimed_by),
                int(w.claimed_at),
                int(w.fulfilled_at),
                opt(&w.fulfil_note),
                int(w.confirmed_at),
                Value::Int(
                    w.confirmed_at
                        .or(w.fulfilled_at)
                        .or(w.claimed_at)
                        .unwrap_or(w.posted_at),
                ),
            ]);
        }
        rows.write(tx.conn()).await?;
        super::refresh_tallies(tx.conn(), actor.scope.lower()).await?;
        audit::record(
            tx.conn(),
            actor,
            now,
            Change {
                action: "bulk_load",
                entity: "wish",
                key: format!("{} wishes", wishes.len()),
                org_path: actor.scope.lower().to_string(),
                before: None,
                after: Some(json!({ "wishes": wishes.len() })),
                reason: None,
            },
        )
        .await?;
        tx.commit().await?;
        Ok(wishes.len())
    }
}
