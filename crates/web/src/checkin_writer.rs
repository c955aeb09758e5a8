//! The group-commit check-in writer every check-in goes through, and the readers' token cache:
//! process-wide resources the application state owns, shared by the check-in area's routes.

use std::sync::Arc;
use std::time::Duration;

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use baiqian_store::Db;
use baiqian_store::checkin::{CheckinOutcome, CheckinRequest, Device};
use tokio::sync::{mpsc, oneshot};

use crate::clock::Clock;
use crate::error::AppError;

/// Largest batch one commit takes.
pub(super) const MAX_BATCH: usize = 1024;

pub(super) struct Job {
    req: CheckinRequest,
    reply: oneshot::Sender<Result<CheckinOutcome, String>>,
}

/// The group-commit writer: one task commits in one transaction every check-in that queued while
/// the previous commit ran (on PostgreSQL, two batches may be in flight), and only then answers
/// each. An answer means the check-in is durable.
/// The gathering time is the previous commit's: under a burst the batches grow by themselves, and
/// a lone swipe is not kept waiting. (A fixed 2 ms wait for company, tried first, put a 2 ms floor
/// under every cycle and capped the closed loop at 64 connections ÷ ~6 ms: docs/benchmarks.md.)
#[derive(Clone)]
pub struct CheckinWriter {
    tx: mpsc::Sender<Job>,
}

impl CheckinWriter {
    /// Starts the writer task (call inside a Tokio runtime).
    pub fn spawn(db: Db, clock: Arc<dyn Clock>) -> Self {
        let (tx, mut rx) = mpsc::channel::<Job>(16 * MAX_BATCH);
        // PostgreSQL: a second batch reads and writes while the first commits (its rollup rows
        // wait for the first's); SQLite has one writer, so one batch at a time.
        let in_flight = match db.backend() {
            baiqian_store::Backend::Postgres => 2,
            baiqian_store::Backend::Sqlite => 1,
        };
        let slots = Arc::new(tokio::sync::Semaphore::new(in_flight));
        tokio::spawn(async move {
            while let Some(first) = rx.recv().await {
                let Ok(slot) = slots.clone().acquire_owned().await else {
                    break;
                };
                let mut jobs = vec![first];
                // Under load the queue filled while the last batch committed: take it all at once.
                while jobs.len() < MAX_BATCH {
                    match rx.try_recv() {
                        Ok(j) => jobs.push(j),
                        Err(_) => break,
                    }
                }
                let (reqs, replies): (Vec<CheckinRequest>, Vec<_>) =
                    jobs.into_iter().map(|j| (j.req, j.reply)).unzip();
                let (db, now) = (db.clone(), clock.now_ms());
                tokio::spawn(async move {
                    let size = reqs.len();
                    match db.apply_checkins(reqs, now).await {
                        Ok(outcomes) => {
                            for (reply, outcome) in replies.into_iter().zip(outcomes) {
                                let _ = reply.send(Ok(outcome));
                            }
                        }
                        Err(e) => {
                            tracing::error!(error = %e, batch = size, "check-in batch failed; nothing of it was written");
                            for reply in replies {
                                let _ = reply.send(Err(e.to_string()));
                            }
                        }
                    }
                    drop(slot);
                });
            }
        });
        Self { tx }
    }

    pub async fn submit(&self, req: CheckinRequest) -> Result<CheckinOutcome, AppError> {
        let (reply, rx) = oneshot::channel();
        self.tx
            .send(Job { req, reply })
            .await
            .map_err(|_| AppError::Internal("check-in writer stopped".into()))?;
        rx.await
            .map_err(|_| AppError::Internal("check-in writer dropped a request".into()))?
            .map_err(AppError::Internal)
    }
}

/// A card reader or kiosk, authenticated by its own bearer token.
pub struct DeviceAuth(pub Arc<Device>);

impl<S: Send + Sync> FromRequestParts<S> for DeviceAuth {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        parts
            .extensions
            .get::<Arc<Device>>()
            .cloned()
            .map(DeviceAuth)
            .ok_or(AppError::Unauthenticated)
    }
}

/// Recently seen device tokens, so a burst of swipes does not read the devices table per swipe.
/// A revoked device's check-ins are refused at once all the same (the writer checks the device in
/// its transaction); the cache forgets it within `DEVICE_CACHE_TTL`, and from then on its token
/// is refused at the door (401).
#[derive(Default)]
pub struct DeviceCache(
    std::sync::Mutex<std::collections::HashMap<String, (Arc<Device>, std::time::Instant)>>,
);

pub const DEVICE_CACHE_TTL: Duration = Duration::from_secs(30);

impl DeviceCache {
    pub async fn get(&self, db: &Db, token_hash: &str) -> Result<Option<Arc<Device>>, AppError> {
        if let Ok(map) = self.0.lock()
            && let Some((d, at)) = map.get(token_hash)
            && at.elapsed() < DEVICE_CACHE_TTL
        {
            return Ok(Some(d.clone()));
        }
        let found = db.device_by_token(token_hash).await?.map(Arc::new);
        if let (Some(d), Ok(mut map)) = (&found, self.0.lock()) {
            if map.len() > 10_000 {
                map.clear();
            }
            map.insert(
                token_hash.to_string(),
                (d.clone(), std::time::Instant::now()),
            );
        }
        Ok(found)
    }

    /// Forgets every token (a device was revoked here): each is read again on its next use.
    pub fn forget_all(&self) {
        if let Ok(mut map) = self.0.lock() {
            map.clear();
        }
    }
}
