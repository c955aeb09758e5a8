//! Jobs (后台任务): a long import or export runs apart from the request that asked for it, and
//! its row here says how far it got. Only the account that started a job sees it. A job belongs
//! to the node that runs it, which beats its heart on the row while it runs (`node.rs`).

mod node;
pub use node::STALE_AFTER_MS;

use serde::Serialize;
use sqlx::Row;

use crate::{Actor, Db, Result, StoreError};

/// What a job does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum JobKind {
    MemberImport,
    MemberExport,
}

impl JobKind {
    pub fn as_str(self) -> &'static str {
        match self {
            JobKind::MemberImport => "member_import",
            JobKind::MemberExport => "member_export",
        }
    }

    fn parse(s: &str) -> Result<Self> {
        match s {
            "member_import" => Ok(JobKind::MemberImport),
            "member_export" => Ok(JobKind::MemberExport),
            other => Err(StoreError::Corrupt(format!("job kind {other}"))),
        }
    }
}

/// Where a job is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum JobStatus {
    Running,
    /// Finished: the import committed (or rejected the file), the export's file is ready.
    Done,
    /// Stopped by an error; nothing of it was written.
    Failed,
    /// The server stopped while it ran; nothing of it was written.
    Interrupted,
}

impl JobStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            JobStatus::Running => "running",
            JobStatus::Done => "done",
            JobStatus::Failed => "failed",
            JobStatus::Interrupted => "interrupted",
        }
    }

    fn parse(s: &str) -> Result<Self> {
        match s {
            "running" => Ok(JobStatus::Running),
            "done" => Ok(JobStatus::Done),
            "failed" => Ok(JobStatus::Failed),
            "interrupted" => Ok(JobStatus::Interrupted),
            other => Err(StoreError::Corrupt(format!("job status {other}"))),
        }
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct Job {
    pub id: i64,
    pub kind: JobKind,
    pub org_code: String,
    pub status: JobStatus,
    pub rows_found: i64,
    pub rows_done: i64,
    pub created: i64,
    pub error_count: i64,
    pub result_json: Option<String>,
    pub file_name: Option<String>,
    pub created_at: i64,
    pub finished_at: Option<i64>,
}

/// How a job ended.
#[derive(Debug, Clone, Default)]
pub struct JobEnd {
    pub rows_found: i64,
    pub rows_done: i64,
    pub created: i64,
    pub error_count: i64,
    pub result_json: Option<String>,
    pub file_name: Option<String>,
}

impl Db {
    /// Records a job the actor starts on `org_code` (already checked in scope by the caller).
    /// The job runs on `node`, whose heartbeat starts now.
    pub async fn start_job(
        &self,
        actor: &Actor,
        kind: JobKind,
        org_code: &str,
        node: &str,
        now: i64,
    ) -> Result<i64> {
        let mut tx = self.write().await?;
        let id: i64 = sqlx::query(
            "INSERT INTO jobs (kind, user_id, org_code, status, created_at, node, heartbeat_at) \
             VALUES ($1, $2, $3, 'running', $4, $5, $4) RETURNING id",
        )
        .bind(kind.as_str())
        .bind(actor.user_id)
        .bind(org_code)
        .bind(now)
        .bind(node)
        .fetch_one(tx.conn())
        .await?
        .try_get(0)?;
        tx.commit().await?;
        Ok(id)
    }

    /// Ends a running job.
    pub async fn end_job(&self, id: i64, status: JobStatus, end: &JobEnd, now: i64) -> Result<()> {
        let mut tx = self.write().await?;
        sqlx::query(
            "UPDATE jobs SET status = $1, rows_found = $2, rows_done = $3, created = $4, error_count = $5, \
             result_json = $6, file_name = $7, finished_at = $8 WHERE id = $9 AND status = 'running'",
        )
        .bind(status.as_str())
        .bind(end.rows_found)
        .bind(end.rows_done)
        .bind(end.created)
        .bind(end.error_count)
        .bind(end.result_json.clone())
        .bind(end.file_name.clone())
        .bind(now)
        .bind(id)
        .execute(tx.conn())
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// One of the actor's own jobs.
    pub async fn job(&self, actor: &Actor, id: i64) -> Result<Job> {
        let row = sqlx::query(
            "SELECT id, kind, org_code, status, rows_found, rows_done, created, error_count, result_json, file_name, \
             created_at, finished_at FROM jobs WHERE id = $1 AND user_id = $2",
        )
        .bind(id)
        .bind(actor.user_id)
        .fetch_optional(self.pool())
        .await?
        .ok_or(StoreError::NotFound)?;
        Ok(Job {
            id: row.try_get("id")?,
            kind: JobKind::parse(&row.try_get::<String, _>("kind")?)?,
            org_code: row.try_get("org_code")?,
            status: JobStatus::parse(&row.try_get::<String, _>("status")?)?,
            rows_found: row.try_get("rows_found")?,
            rows_done: row.try_get("rows_done")?,
            created: row.try_get("created")?,
            error_count: row.try_get("error_count")?,
            result_json: row.try_get("result_json")?,
            file_name: row.try_get("file_name")?,
            created_at: row.try_get("created_at")?,
            finished_at: row.try_get("finished_at")?,
        })
    }
}
