//! The audit log's hash chain (哈希链): every row names its place (`seq`, 1, 2, … without gaps),
//! the hash of the row before it and its own hash, SHA-256 over a canonical encoding of its
//! fields. A row changed, removed or slipped in behind the application's back breaks the chain
//! at that row, and `Db::verify_audit_chain` names it. A rewrite of the whole chain is caught by
//! an anchor: the head (`seq`, hash) the server writes to its log output every day, kept apart
//! from the database.

use sha2::{Digest, Sha256};
use sqlx::{AnyConnection, Row};

use crate::{Backend, Db, Result, StoreError};

/// The hash before the first row.
pub const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// An audit row's fields as the chain hashes them.
pub struct Fields<'a> {
    pub at: i64,
    pub actor_id: Option<i64>,
    pub actor_login: &'a str,
    pub actor_role: &'a str,
    pub action: &'a str,
    pub entity: &'a str,
    pub entity_key: &'a str,
    pub org_path: &'a str,
    pub before_json: Option<&'a str>,
    pub after_json: Option<&'a str>,
    pub reason: Option<&'a str>,
}

/// The hash of the row at `seq` after `prev`: each field length-prefixed (an absent one marked
/// apart from an empty one), so no two different rows encode alike.
pub fn row_hash(seq: i64, prev: &str, f: &Fields<'_>) -> String {
    let mut h = Sha256::new();
    h.update(b"baiqian audit chain 1\0");
    let mut put = |v: Option<&[u8]>| match v {
        None => h.update([0u8]),
        Some(b) => {
            h.update([1u8]);
            h.update((b.len() as u64).to_le_bytes());
            h.update(b);
        }
    };
    let (seq, at, actor_id) = (
        seq.to_string(),
        f.at.to_string(),
        f.actor_id.map(|i| i.to_string()),
    );
    put(Some(seq.as_bytes()));
    put(Some(prev.as_bytes()));
    put(Some(at.as_bytes()));
    put(actor_id.as_deref().map(str::as_bytes));
    for s in [
        f.actor_login,
        f.actor_role,
        f.action,
        f.entity,
        f.entity_key,
        f.org_path,
    ] {
        put(Some(s.as_bytes()));
    }
    for s in [f.before_json, f.after_json, f.reason] {
        put(s.map(str::as_bytes));
    }
    hex::encode(h.finalize())
}

/// The chain's head (last `seq` and its hash), held for this transaction: the no-op update takes
/// PostgreSQL's row lock (SQLite's writer lock is held already), so links are appended one
/// transaction at a time across every node.
pub(crate) async fn head(conn: &mut AnyConnection) -> Result<(i64, String)> {
    let r = sqlx::query("UPDATE audit_chain SET seq = seq WHERE id = 1 RETURNING seq, head")
        .fetch_one(conn)
        .await?;
    Ok((r.try_get(0)?, r.try_get(1)?))
}

pub(crate) async fn set_head(conn: &mut AnyConnection, seq: i64, hash: &str) -> Result<()> {
    sqlx::query("UPDATE audit_chain SET seq = $1, head = $2 WHERE id = 1")
        .bind(seq)
        .bind(hash)
        .execute(conn)
        .await?;
    Ok(())
}

const ROW_COLUMNS: &str = "id, seq, prev_hash, row_hash, at, actor_id, actor_login, actor_role, \
    action, entity, entity_key, org_path, before_json, after_json, reason";

/// The hash a stored row should have at `seq` after `prev`.
fn stored_hash(r: &sqlx::any::AnyRow, seq: i64, prev: &str) -> Result<String> {
    let text = |c: &str| -> Result<String> { Ok(r.try_get::<String, _>(c)?) };
    let opt = |c: &str| -> Result<Option<String>> { Ok(r.try_get::<Option<String>, _>(c)?) };
    let (login, role, action, entity, key, path) = (
        text("actor_login")?,
        text("actor_role")?,
        text("action")?,
        text("entity")?,
        text("entity_key")?,
        text("org_path")?,
    );
    let (before, after, reason) = (opt("before_json")?, opt("after_json")?, opt("reason")?);
    Ok(row_hash(
        seq,
        prev,
        &Fields {
            at: r.try_get("at")?,
            actor_id: r.try_get("actor_id")?,
            actor_login: &login,
            actor_role: &role,
            action: &action,
            entity: &entity,
            entity_key: &key,
            org_path: &path,
            before_json: before.as_deref(),
            after_json: after.as_deref(),
            reason: reason.as_deref(),
        },
    ))
}

/// Seals every row not yet in the chain into it, oldest first (the migration's step for the
/// rows kept before the chain); returns how many.
pub(crate) async fn seal_unchained(conn: &mut AnyConnection) -> Result<i64> {
    let (mut seq, mut prev) = head(conn).await?;
    let mut sealed = 0;
    loop {
        let rows = sqlx::query(&format!(
            "SELECT {ROW_COLUMNS} FROM audit_log WHERE seq IS NULL ORDER BY id LIMIT 1000"
        ))
        .fetch_all(&mut *conn)
        .await?;
        if rows.is_empty() {
            break;
        }
        for r in &rows {
            seq += 1;
            let hash = stored_hash(r, seq, &prev)?;
            sqlx::query(
                "UPDATE audit_log SET seq = $1, prev_hash = $2, row_hash = $3 WHERE id = $4",
            )
            .bind(seq)
            .bind(&prev)
            .bind(&hash)
            .bind(r.try_get::<i64, _>("id")?)
            .execute(&mut *conn)
            .await?;
            prev = hash;
            sealed += 1;
        }
    }
    set_head(conn, seq, &prev).await?;
    Ok(sealed)
}

/// The statements that make the log append-only (run again once the migration has sealed it).
pub(crate) fn guards(backend: Backend) -> &'static str {
    match backend {
        Backend::Sqlite => {
            "CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log \
             BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END; \
             CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log \
             BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END;"
        }
        Backend::Postgres => {
            "CREATE TRIGGER audit_log_no_change BEFORE UPDATE OR DELETE ON audit_log \
             FOR EACH ROW EXECUTE FUNCTION audit_log_append_only(); \
             CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log \
             FOR EACH STATEMENT EXECUTE FUNCTION audit_log_append_only();"
        }
    }
}

/// Where the chain broke, and how.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChainBreak {
    /// The audit row's id (for a missing link, the row after the gap).
    pub id: i64,
    pub seq: Option<i64>,
    pub kind: BreakKind,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BreakKind {
    /// The row's fields do not hash to its stored hash: it was changed.
    Changed,
    /// The row does not follow the one before it: rows before it were removed or reordered.
    Link,
    /// A row outside the chain: slipped in behind the application's back.
    Unchained,
    /// The chain ends before the head the database records: rows at its end were removed.
    Head,
    /// The chain does not pass through the anchor given.
    Anchor,
}

impl BreakKind {
    pub fn as_str(self) -> &'static str {
        match self {
            BreakKind::Changed => "changed",
            BreakKind::Link => "link",
            BreakKind::Unchained => "unchained",
            BreakKind::Head => "head",
            BreakKind::Anchor => "anchor",
        }
    }
}

/// What a walk of the chain found.
#[derive(Debug, Clone)]
pub struct ChainCheck {
    pub rows: i64,
    /// The last link walked: its `seq` and hash.
    pub head_seq: i64,
    pub head: String,
    pub broken: Option<ChainBreak>,
}

/// How many rows a walk reads at a time.
const WALK_PAGE: i64 = 5_000;

impl Db {
    /// The chain's head as recorded: what an anchor writes down.
    pub async fn audit_chain_head(&self) -> Result<(i64, String)> {
        let r = sqlx::query("SELECT seq, head FROM audit_chain WHERE id = 1")
            .fetch_one(self.pool())
            .await?;
        Ok((r.try_get(0)?, r.try_get(1)?))
    }

    /// Walks the whole chain in `seq` order, a page at a time (memory stays that of one page
    /// whatever the log's size), recomputing every hash; stops at the first break. With an
    /// `anchor` (`seq`, hash written down earlier), the chain must pass through it.
    pub async fn verify_audit_chain(&self, anchor: Option<(i64, &str)>) -> Result<ChainCheck> {
        let mut check = ChainCheck {
            rows: 0,
            head_seq: 0,
            head: GENESIS.to_string(),
            broken: None,
        };
        let unchained: Option<i64> =
            sqlx::query("SELECT MIN(id) FROM audit_log WHERE seq IS NULL OR row_hash IS NULL")
                .fetch_one(self.pool())
                .await?
                .try_get(0)?;
        let mut anchor_seen = false;
        'walk: loop {
            let rows = sqlx::query(&format!(
                "SELECT {ROW_COLUMNS} FROM audit_log WHERE seq > $1 ORDER BY seq LIMIT $2"
            ))
            .bind(check.head_seq)
            .bind(WALK_PAGE)
            .fetch_all(self.pool())
            .await?;
            if rows.is_empty() {
                break;
            }
            for r in &rows {
                let id: i64 = r.try_get("id")?;
                let seq: i64 = r.try_get("seq")?;
                let at = |kind| ChainBreak {
                    id,
                    seq: Some(seq),
                    kind,
                };
                let prev: Option<String> = r.try_get("prev_hash")?;
                if seq != check.head_seq + 1 || prev.as_deref() != Some(check.head.as_str()) {
                    check.broken = Some(at(BreakKind::Link));
                    break 'walk;
                }
                let stored: Option<String> = r.try_get("row_hash")?;
                let hash = stored_hash(r, seq, &check.head)?;
                if stored.as_deref() != Some(hash.as_str()) {
                    check.broken = Some(at(BreakKind::Changed));
                    break 'walk;
                }
                if let Some((s, h)) = anchor
                    && s == seq
                {
                    if h != hash {
                        check.broken = Some(at(BreakKind::Anchor));
                        break 'walk;
                    }
                    anchor_seen = true;
                }
                check.rows += 1;
                check.head_seq = seq;
                check.head = hash;
            }
        }
        if check.broken.is_none()
            && let Some(id) = unchained
        {
            check.broken = Some(ChainBreak {
                id,
                seq: None,
                kind: BreakKind::Unchained,
            });
        }
        if check.broken.is_none() {
            let (seq, head) = self.audit_chain_head().await?;
            if seq != check.head_seq || head != check.head {
                check.broken = Some(ChainBreak {
                    id: 0,
                    seq: Some(check.head_seq + 1),
                    kind: BreakKind::Head,
                });
            } else if let Some((s, _)) = anchor
                && !anchor_seen
            {
                check.broken = Some(ChainBreak {
                    id: 0,
                    seq: Some(s),
                    kind: BreakKind::Anchor,
                });
            }
        }
        Ok(check)
    }
}

/// An anchor as written: `SEQ:HASH`.
pub fn parse_anchor(s: &str) -> std::result::Result<(i64, String), StoreError> {
    let bad = || StoreError::Invalid(baiqian_domain::Msg::new("audit.error.anchor"));
    let (seq, hash) = s.trim().split_once(':').ok_or_else(bad)?;
    let seq: i64 = seq.parse().map_err(|_| bad())?;
    let hash = hash.to_ascii_lowercase();
    if seq < 1 || hash.len() != 64 || !hash.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(bad());
    }
    Ok((seq, hash))
}
