//! What only PostgreSQL does: identity sequences that must follow explicitly given ids, and
//! `COPY … FROM STDIN` for bulk loads.

use sqlx::AnyConnection;

use crate::Result;

/// Text sent to the server per `COPY` message.
const COPY_CHUNK: usize = 1 << 20;

/// After rows were inserted with explicit ids, the table's identity sequence continues after
/// the largest one.
pub(crate) async fn continue_ids(conn: &mut AnyConnection, table: &str) -> Result<()> {
    sqlx::query(&format!(
        "SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT MAX(id) FROM {table}))"
    ))
    .execute(conn)
    .await?;
    Ok(())
}

/// Streams `rows` into `statement` (a `COPY … FROM STDIN` in text format), each row written
/// by `line` as tab-separated fields (the caller's values hold no tab, newline or backslash).
pub(crate) async fn copy_rows<T>(
    conn: &mut sqlx::PgConnection,
    statement: &str,
    rows: impl IntoIterator<Item = T>,
    mut line: impl FnMut(&mut String, T),
) -> Result<()> {
    let mut copy = conn.copy_in_raw(statement).await?;
    let mut buf = String::with_capacity(COPY_CHUNK + 256);
    for row in rows {
        line(&mut buf, row);
        buf.push('\n');
        if buf.len() >= COPY_CHUNK {
            copy.send(buf.as_bytes()).await?;
            buf.clear();
        }
    }
    if !buf.is_empty() {
        copy.send(buf.as_bytes()).await?;
    }
    copy.finish().await?;
    Ok(())
}
