//! Several app nodes on one database: each running job carries its node's heartbeat, and
//! periodic work is claimed per day by one node.

use sqlx::Row;

use crate::{Db, Result};

/// A running job whose heartbeat is older than this has lost its node: six missed beats of
/// `web::job::HEARTBEAT` (10 s), so a busy node is never taken for a dead one.
pub const STALE_AFTER_MS: i64 = 60_000;

impl Db {
    /// The node's heartbeat on every job it runs.
    pub async fn beat_jobs(&self, node: &str, now: i64) -> Result<u64> {
        let mut tx = self.write().await?;
        let n =
            sqlx::query("UPDATE jobs SET heartbeat_at = $1 WHERE status = 'running' AND node = $2")
                .bind(now)
                .bind(node)
                .execute(tx.conn())
                .await?
                .rows_affected();
        tx.commit().await?;
        Ok(n)
    }

    /// Marks interrupted the running jobs whose heartbeat stopped before `stale_before`, and, when
    /// `starting` names a node, every job of that node (it has just started, so they are from
    /// before its start: nothing runs them). Returns their ids. Another node's live jobs are
    /// never touched: their heartbeat is fresh.
    pub async fn interrupt_jobs(
        &self,
        starting: Option<&str>,
        stale_before: i64,
        now: i64,
    ) -> Result<Vec<i64>> {
        let mut tx = self.write().await?;
        let ids = sqlx::query(
            "UPDATE jobs SET status = 'interrupted', finished_at = $1 \
             WHERE status = 'running' AND (heartbeat_at < $2 OR node = $3) RETURNING id",
        )
        .bind(now)
        .bind(stale_before)
        // No node is named '\u{1}': with no node starting, only the stale match.
        .bind(starting.unwrap_or("\u{1}"))
        .fetch_all(tx.conn())
        .await?
        .iter()
        .map(|r| r.try_get::<i64, _>(0))
        .collect::<std::result::Result<Vec<_>, _>>()?;
        tx.commit().await?;
        Ok(ids)
    }

    /// Claims `task` for `day` for this node: true when this node is to run it. A day already
    /// claimed is refused, unless its claim is older than `lease_ms` and unfinished (its node
    /// stopped midway), when it is taken over. One row per (task, day), so two nodes asking at
    /// once get one yes between them.
    pub async fn claim_periodic(
        &self,
        task: &str,
        day: &str,
        node: &str,
        now: i64,
        lease_ms: i64,
    ) -> Result<bool> {
        let mut tx = self.write().await?;
        let inserted = sqlx::query(
            "INSERT INTO periodic_runs (task, day, node, claimed_at) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (task, day) DO NOTHING",
        )
        .bind(task)
        .bind(day)
        .bind(node)
        .bind(now)
        .execute(tx.conn())
        .await?
        .rows_affected();
        let claimed = if inserted == 1 {
            true
        } else {
            sqlx::query(
                "UPDATE periodic_runs SET node = $1, claimed_at = $2 \
                 WHERE task = $3 AND day = $4 AND finished_at IS NULL AND claimed_at < $5",
            )
            .bind(node)
            .bind(now)
            .bind(task)
            .bind(day)
            .bind(now - lease_ms)
            .execute(tx.conn())
            .await?
            .rows_affected()
                == 1
        };
        tx.commit().await?;
        Ok(claimed)
    }

    /// The claimed run finished: the day is done for every node.
    pub async fn finish_periodic(&self, task: &str, day: &str, node: &str, now: i64) -> Result<()> {
        let mut tx = self.write().await?;
        sqlx::query(
            "UPDATE periodic_runs SET finished_at = $1 WHERE task = $2 AND day = $3 AND node = $4",
        )
        .bind(now)
        .bind(task)
        .bind(day)
        .bind(node)
        .execute(tx.conn())
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// The claimed run failed: the claim is given back, so the next try (of any node) runs it.
    pub async fn release_periodic(&self, task: &str, day: &str, node: &str) -> Result<()> {
        let mut tx = self.write().await?;
        sqlx::query(
            "DELETE FROM periodic_runs WHERE task = $1 AND day = $2 AND node = $3 AND finished_at IS NULL",
        )
        .bind(task)
        .bind(day)
        .bind(node)
        .execute(tx.conn())
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// The claim of `task` on `day` (none or one row): its node and when it finished, if it did.
    pub async fn periodic_runs(&self, task: &str, day: &str) -> Result<Vec<(String, Option<i64>)>> {
        sqlx::query("SELECT node, finished_at FROM periodic_runs WHERE task = $1 AND day = $2")
            .bind(task)
            .bind(day)
            .fetch_all(self.pool())
            .await?
            .iter()
            .map(|r| Ok((r.try_get(0)?, r.try_get(1)?)))
            .collect()
    }
}
