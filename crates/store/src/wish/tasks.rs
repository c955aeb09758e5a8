//! What waits for a reader among the wishes (待办): a fulfilled wish for its poster to
//! confirm, a claimed one for its claimer to fulfil, and for the village and its township the
//! wishes nobody claimed for `UNCLAIMED_DAYS` and the claims not fulfilled in `STALLED_DAYS`.

use baiqian_domain::capability::Capability;
use sqlx::Row;

use super::{DAY_MS, STALLED_DAYS, UNCLAIMED_DAYS};
use crate::kernel::within_levels;
use crate::{Actor, Db, Result};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WishTaskKind {
    Confirm,
    Fulfil,
    Unclaimed,
    Stalled,
}

impl WishTaskKind {
    pub fn as_str(self) -> &'static str {
        match self {
            WishTaskKind::Confirm => "wish_confirm",
            WishTaskKind::Fulfil => "wish_fulfil",
            WishTaskKind::Unclaimed => "wish_unclaimed",
            WishTaskKind::Stalled => "wish_stalled",
        }
    }
}

#[derive(Debug, Clone)]
pub struct WishTask {
    pub kind: WishTaskKind,
    pub id: i64,
    pub title: String,
    pub org_name: String,
}

/// The most waiting wishes read for one reader.
const READ_AT_MOST: i64 = 200;

impl Db {
    /// The wishes that wait for `actor`, oldest first.
    pub async fn wish_tasks(&self, actor: &Actor, now: i64) -> Result<Vec<WishTask>> {
        if !actor.role.may(Capability::KeepWishes) {
            return Ok(Vec::new());
        }
        let root = actor.scope.lower();
        let administers = actor.role.may(Capability::ManageMembers);
        let rows = sqlx::query(
            "SELECT w.id, w.title, o.name AS org_name, w.org_path, w.status, w.posted_by, w.claimed_by, \
             w.posted_at, w.claimed_at FROM wishes w JOIN orgs o ON o.code = w.org_code \
             WHERE w.org_path >= $1 AND w.org_path < $2 AND ( \
               (w.status = 'fulfilled' AND w.posted_by = $3) \
               OR (w.status = 'claimed' AND w.claimed_by = $3) \
               OR ($4 = 1 AND w.status = 'posted' AND w.posted_at < $5) \
               OR ($4 = 1 AND w.status = 'claimed' AND w.claimed_at < $6)) \
             ORDER BY w.id LIMIT $7",
        )
        .bind(root)
        .bind(actor.scope.upper())
        .bind(&actor.login)
        .bind(i64::from(administers))
        .bind(now - UNCLAIMED_DAYS * DAY_MS)
        .bind(now - STALLED_DAYS * DAY_MS)
        .bind(READ_AT_MOST)
        .fetch_all(self.pool())
        .await?;
        let mut out = Vec::new();
        for r in &rows {
            let path: String = r.try_get("org_path")?;
            let status: String = r.try_get("status")?;
            let mine = |col: &str| -> Result<bool> {
                Ok(r.try_get::<Option<String>, _>(col)?.as_deref() == Some(actor.login.as_str()))
            };
            let kind = match status.as_str() {
                "fulfilled" => WishTaskKind::Confirm,
                "claimed" if mine("claimed_by")? => WishTaskKind::Fulfil,
                "claimed" if within_levels(root, &path, 1) => WishTaskKind::Stalled,
                "posted" if within_levels(root, &path, 1) => WishTaskKind::Unclaimed,
                _ => continue,
            };
            out.push(WishTask {
                kind,
                id: r.try_get("id")?,
                title: r.try_get("title")?,
                org_name: r.try_get("org_name")?,
            });
        }
        Ok(out)
    }
}
