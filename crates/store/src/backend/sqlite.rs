//! What only the embedded SQLite backend does: the check-in batches' own rusqlite connection.

use std::time::Duration;

use crate::{Result, StoreError};

/// The embedded database's check-in connection: rusqlite, opened on first use, driven from a
/// blocking thread one batch at a time (the caller holds the writer lock). A batch crosses
/// threads once; through sqlx each statement and each row crossed to its worker thread and back.
pub(crate) struct SqliteCheckins {
    pub(crate) path: String,
    pub(crate) conn: std::sync::Mutex<Option<rusqlite::Connection>>,
}

impl SqliteCheckins {
    /// Runs `f` on the connection, opening it first if needed. Blocks: call from a blocking thread.
    pub(crate) fn with<T>(
        &self,
        f: impl FnOnce(&mut rusqlite::Connection) -> Result<T>,
    ) -> Result<T> {
        let mut slot = self
            .conn
            .lock()
            .map_err(|_| StoreError::Corrupt("check-in connection lock poisoned".into()))?;
        if slot.is_none() {
            let c = rusqlite::Connection::open(&self.path)?;
            // The same settings as the pool's connections (see `Db::connect`).
            c.busy_timeout(Duration::from_secs(10))?;
            c.pragma_update(None, "journal_mode", "WAL")?;
            c.pragma_update(None, "synchronous", "FULL")?;
            c.pragma_update(None, "foreign_keys", "ON")?;
            *slot = Some(c);
        }
        match slot.as_mut() {
            Some(c) => f(c),
            None => Err(StoreError::Corrupt("check-in connection missing".into())),
        }
    }

    pub(crate) fn close(&self) {
        if let Ok(mut slot) = self.conn.lock() {
            *slot = None;
        }
    }
}
