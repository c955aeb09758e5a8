//! Statements that differ between the two backends, behind methods: the areas write portable
//! SQL and call these where a backend needs its own.

pub(crate) mod postgres;
pub(crate) mod sqlite;

use sqlx::AnyConnection;

use crate::{Backend, Db, Result};

impl Db {
    /// Rows were inserted into `table` with explicit ids: on PostgreSQL its identity sequence
    /// continues after them (SQLite's rowid needs nothing).
    pub(crate) async fn after_explicit_ids(
        &self,
        conn: &mut AnyConnection,
        table: &str,
    ) -> Result<()> {
        match self.backend() {
            Backend::Postgres => postgres::continue_ids(conn, table).await,
            Backend::Sqlite => Ok(()),
        }
    }
}
