//! Loading many requests at once (the demo's month of requests): multi-row statements, phones
//! sealed as the form seals them, follow-up codes drawn as the form draws them, the tallies
//! recomputed from the rows, one audit row dated at the load.

use serde_json::json;
use sqlx::Row;

use super::RequestStatus;
use crate::audit::{self, Change};
use crate::bulk::{Rows, Value, opt, text};
use crate::vault::Vault;
use crate::{Actor, Db, Result, StoreError};

/// A request as loaded, with how far it got and when.
#[derive(Debug, Clone)]
pub struct BulkRequest {
    pub station_id: i64,
    pub service_id: i64,
    pub requester: String,
    pub phone: String,
    pub place: String,
    pub wanted: String,
    pub note: String,
    pub status: RequestStatus,
    pub received_at: i64,
    pub assigned_to: Option<String>,
    pub assigned_at: Option<i64>,
    pub done_at: Option<i64>,
    pub done_note: Option<String>,
    pub closed_reason: Option<String>,
    pub feedback_score: Option<i64>,
    pub feedback_note: Option<String>,
}

fn int(v: Option<i64>) -> Value {
    v.map_or(Value::NullInt, Value::Int)
}

impl Db {
    /// Loads requests to stations the actor's scope holds, each for a service its station
    /// offers; returns their follow-up codes in order. One transaction, one audit row.
    pub async fn bulk_load_service_requests(
        &self,
        actor: &Actor,
        vault: &Vault,
        requests: &[BulkRequest],
        now: i64,
    ) -> Result<Vec<String>> {
        let mut tx = self.write().await?;
        let offers: std::collections::HashMap<(i64, i64), String> = sqlx::query(
            "SELECT f.station_id, f.service_id, s.org_path FROM station_offers f \
             JOIN stations s ON s.id = f.station_id WHERE s.org_path >= $1 AND s.org_path < $2",
        )
        .bind(actor.scope.lower())
        .bind(actor.scope.upper())
        .fetch_all(tx.conn())
        .await?
        .iter()
        .map(|r| Ok(((r.try_get(0)?, r.try_get(1)?), r.try_get(2)?)))
        .collect::<Result<_>>()?;
        let mut rows = Rows::new(
            "INSERT INTO service_requests (code, station_id, service_id, org_path, requester, \
             phone_sealed, phone_masked, place, wanted, note, status, received_at, assigned_to, \
             assigned_by, assigned_at, done_at, done_note, closed_reason, feedback_score, \
             feedback_note, feedback_at)",
            21,
        );
        let mut codes = Vec::with_capacity(requests.len());
        for r in requests {
            let path = offers
                .get(&(r.station_id, r.service_id))
                .ok_or(StoreError::NotFound)?;
            let held = !matches!(r.status, RequestStatus::Received);
            if r.assigned_to.is_some() != (held && r.assigned_at.is_some())
                && r.status != RequestStatus::Withdrawn
            {
                return Err(StoreError::Corrupt(format!(
                    "request at station {}: status {} with volunteer {:?}",
                    r.station_id,
                    r.status.as_str(),
                    r.assigned_to
                )));
            }
            let (sealed, masked) = crate::check::sealed_phone(vault, &r.phone)?;
            let code = super::request::new_code()?;
            rows.push(vec![
                text(&code),
                Value::Int(r.station_id),
                Value::Int(r.service_id),
                text(path),
                text(&r.requester),
                opt(&sealed),
                opt(&masked),
                text(&r.place),
                text(&r.wanted),
                text(&r.note),
                text(r.status.as_str()),
                Value::Int(r.received_at),
                opt(&r.assigned_to),
                opt(&r.assigned_to.as_ref().map(|_| actor.login.clone())),
                int(r.assigned_at),
                int(r.done_at),
                opt(&r.done_note),
                opt(&r.closed_reason),
                int(r.feedback_score),
                opt(&r.feedback_note),
                int(r.feedback_score.and(r.done_at)),
            ]);
            codes.push(code);
        }
        rows.write(tx.conn()).await?;
        super::board::refresh_tallies(tx.conn()).await?;
        audit::record(
            tx.conn(),
            actor,
            now,
            Change {
                action: "bulk_load",
                entity: "service_request",
                key: format!("{} requests", requests.len()),
                org_path: actor.scope.lower().to_string(),
                before: None,
                after: Some(json!({ "requests": requests.len() })),
                reason: None,
            },
        )
        .await?;
        tx.commit().await?;
        Ok(codes)
    }
}
