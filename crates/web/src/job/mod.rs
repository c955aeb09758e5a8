//! Jobs (后台任务): a long import or export runs on its own task, not inside the request that
//! asked for it. Its row in the database says where it is; while it runs, the rows found and
//! done live here in memory (an import holds SQLite's writer for its whole transaction, so
//! progress is not written to the database as it goes). Only the account that started a job
//! sees it. A job belongs to the node that runs it: the node beats its heart on the job's row
//! every `HEARTBEAT`; a restarted node marks its own old jobs interrupted, and any node marks a
//! job interrupted once its heartbeat has stopped (an import's transaction was never committed,
//! an export's half-written file is removed). Another node's start leaves a running job alone.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Arc, Mutex};

use askama::Template;
use axum::Json;
use axum::extract::{OriginalUri, Path, State};
use axum::response::Response;
use baiqian_domain::Msg;
use baiqian_domain::capability::Capability;
use baiqian_store::Db;
use baiqian_store::job::{Job, JobEnd, JobKind, JobStatus, STALE_AFTER_MS};
use serde::{Deserialize, Serialize};

use crate::auth::{Auth, CurrentUser};
use crate::error::{AppError, html};
use crate::form::ReportRow;
use crate::frame::{Frame, here};
use crate::i18n::{Lang, Tr};
use crate::routes::Routes;
use crate::state::AppState;

pub fn routes() -> Routes {
    Routes::new()
        .get("/jobs/{id}", Capability::SignedIn, page)
        .get("/jobs/{id}/file", Capability::SignedIn, file)
        .get("/api/v1/jobs/{id}", Capability::SignedIn, api_job)
}

/// At most this many bad rows are kept with a finished job (the count is kept whole).
pub const MAX_REPORTED: usize = 1000;

/// Rows found and done of a running job.
#[derive(Debug, Default)]
pub struct Progress {
    id: i64,
    found: AtomicI64,
    done: AtomicI64,
}

impl Progress {
    pub fn id(&self) -> i64 {
        self.id
    }

    pub fn found(&self, n: i64) {
        self.found.store(n, Ordering::Relaxed);
    }

    pub fn advance(&self, n: i64) {
        self.done.fetch_add(n, Ordering::Relaxed);
    }

    /// (rows found, rows done).
    pub fn get(&self) -> (i64, i64) {
        (
            self.found.load(Ordering::Relaxed),
            self.done.load(Ordering::Relaxed),
        )
    }
}

/// How often a node beats its heart on the jobs it runs (and looks for jobs whose node stopped).
pub const HEARTBEAT: std::time::Duration = std::time::Duration::from_secs(10);

/// The jobs of this node: where their files go (a directory every node reads), and the progress
/// of those it runs.
pub struct Jobs {
    dir: PathBuf,
    /// This node's name, on every job it starts.
    node: String,
    live: Mutex<HashMap<i64, Arc<Progress>>>,
}

impl Jobs {
    pub fn new(dir: PathBuf, node: String) -> Self {
        Self {
            dir,
            node,
            live: Mutex::new(HashMap::new()),
        }
    }

    /// This node's name.
    pub fn node(&self) -> &str {
        &self.node
    }

    /// The node's name as it may appear in a file name.
    fn node_file_tag(&self) -> String {
        self.node
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() || c == '-' || c == '.' {
                    c
                } else {
                    '_'
                }
            })
            .collect()
    }

    fn live(&self) -> Result<std::sync::MutexGuard<'_, HashMap<i64, Arc<Progress>>>, AppError> {
        self.live
            .lock()
            .map_err(|_| AppError::Internal("jobs lock poisoned".into()))
    }

    fn track(&self, id: i64) -> Result<Arc<Progress>, AppError> {
        let p = Arc::new(Progress {
            id,
            ..Progress::default()
        });
        self.live()?.insert(id, p.clone());
        Ok(p)
    }

    fn forget(&self, id: i64) {
        if let Ok(mut live) = self.live() {
            live.remove(&id);
        }
    }

    fn progress(&self, id: i64) -> Option<(i64, i64)> {
        self.live().ok()?.get(&id).map(|p| p.get())
    }

    /// An export's file while it is written.
    pub fn part_path(&self, id: i64) -> PathBuf {
        self.dir.join(format!("job-{id}.xlsx.part"))
    }

    /// An export's finished file.
    pub fn file_path(&self, id: i64) -> PathBuf {
        self.dir.join(format!("job-{id}.xlsx"))
    }

    /// A fresh file name for a download written before it is sent.
    pub fn scratch_path(&self) -> Result<PathBuf, AppError> {
        std::fs::create_dir_all(&self.dir).map_err(|e| {
            AppError::Internal(format!("jobs directory {}: {e}", self.dir.display()))
        })?;
        Ok(self.dir.join(format!(
            "scratch-{}-{}.xlsx.part",
            self.node_file_tag(),
            &crate::auth::random_token()?[..16]
        )))
    }

    /// Removes the half-written files of `ids` (jobs that ended interrupted).
    fn remove_parts(&self, ids: &[i64]) {
        for id in ids {
            let _ = std::fs::remove_file(self.part_path(*id));
        }
    }

    /// Before serving: marks interrupted the jobs this node left running when it stopped, and
    /// those of any node whose heartbeat has stopped; removes their half-written files and this
    /// node's scratch files. Another node's running jobs are left alone (the directory is shared).
    /// Returns how many jobs were interrupted.
    pub async fn recover(&self, db: &Db, now: i64) -> Result<usize, AppError> {
        let ids = db
            .interrupt_jobs(Some(&self.node), now - STALE_AFTER_MS, now)
            .await?;
        self.remove_parts(&ids);
        let mine = format!("scratch-{}-", self.node_file_tag());
        if let Ok(entries) = std::fs::read_dir(&self.dir) {
            for e in entries.flatten() {
                let name = e.file_name().to_string_lossy().into_owned();
                if name.starts_with(&mine) && name.ends_with(".part") {
                    let _ = std::fs::remove_file(e.path());
                }
            }
        }
        if !ids.is_empty() {
            tracing::warn!(jobs = ?ids, node = %self.node, "jobs interrupted by a stop");
        }
        Ok(ids.len())
    }

    /// One heartbeat: this node's running jobs are alive; any node's job whose heartbeat is
    /// older than `STALE_AFTER_MS` is interrupted (its node stopped). Returns those interrupted.
    pub async fn beat(&self, db: &Db, now: i64) -> Result<Vec<i64>, AppError> {
        db.beat_jobs(&self.node, now).await?;
        let ids = db.interrupt_jobs(None, now - STALE_AFTER_MS, now).await?;
        self.remove_parts(&ids);
        if !ids.is_empty() {
            tracing::warn!(jobs = ?ids, "jobs interrupted: their node's heartbeat stopped");
        }
        Ok(ids)
    }
}

/// The heartbeat's loop in the server.
pub fn spawn_heartbeat(state: AppState) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(HEARTBEAT);
        loop {
            tick.tick().await;
            let now = state.clock.now_ms();
            if let Err(e) = state.jobs.beat(&state.db, now).await {
                tracing::error!(error = %e, "job heartbeat failed");
            }
            if let Err(e) = state
                .db
                .forget_login_strikes(now, state.config.policy.lockout_minutes * 60_000)
                .await
            {
                tracing::error!(error = %e, "expired login strikes not removed");
            }
        }
    })
}

/// Records a job on `org_code` for the caller and runs `work` on its own task. `work` gets the
/// state and the job's progress and says how it ended; an error ends the job as failed (and is
/// logged), the user sees that it failed.
pub async fn start<F, Fut>(
    state: &AppState,
    me: &CurrentUser,
    kind: JobKind,
    org_code: &str,
    work: F,
) -> Result<i64, AppError>
where
    F: FnOnce(AppState, Arc<Progress>) -> Fut + Send + 'static,
    Fut: std::future::Future<Output = Result<JobEnd, AppError>> + Send + 'static,
{
    std::fs::create_dir_all(&state.jobs.dir).map_err(|e| {
        AppError::Internal(format!("jobs directory {}: {e}", state.jobs.dir.display()))
    })?;
    let id = state
        .db
        .start_job(
            &me.actor,
            kind,
            org_code,
            &state.jobs.node,
            state.clock.now_ms(),
        )
        .await?;
    let progress = state.jobs.track(id)?;
    let st = state.clone();
    tokio::spawn(async move {
        let outcome = work(st.clone(), progress.clone()).await;
        let (status, end) = match outcome {
            Ok(end) => (JobStatus::Done, end),
            Err(e) => {
                tracing::error!(job = id, kind = kind.as_str(), error = %e, "job failed");
                let _ = std::fs::remove_file(st.jobs.part_path(id));
                let (found, done) = progress.get();
                (
                    JobStatus::Failed,
                    JobEnd {
                        rows_found: found,
                        rows_done: done,
                        ..JobEnd::default()
                    },
                )
            }
        };
        if let Err(e) = st.db.end_job(id, status, &end, st.clock.now_ms()).await {
            tracing::error!(job = id, error = %e, "job end not recorded");
        }
        st.jobs.forget(id);
    });
    Ok(id)
}

/// What a finished import keeps: whether it wrote anything, and its first bad rows.
#[derive(Serialize, Deserialize, Default)]
struct ImportResult {
    #[serde(default)]
    committed: bool,
    #[serde(default)]
    errors: Vec<ReportRow>,
    /// Why the file itself was refused, in Chinese and English.
    #[serde(default)]
    file_error: Option<(String, String)>,
}

pub fn report_json(committed: bool, rows: &[ReportRow]) -> String {
    serde_json::json!({ "committed": committed, "errors": rows }).to_string()
}

pub fn file_error_json(m: &Msg) -> String {
    serde_json::json!({
        "file_error": [Tr::new(Lang::Zh).msg(m), Tr::new(Lang::En).msg(m)]
    })
    .to_string()
}

fn result_of(job: &Job) -> ImportResult {
    job.result_json
        .as_deref()
        .and_then(|j| serde_json::from_str(j).ok())
        .unwrap_or_default()
}

/// A job as the caller sees it: with the live progress while it runs.
async fn own_job(state: &AppState, me: &CurrentUser, id: i64) -> Result<Job, AppError> {
    let mut job = state.db.job(&me.actor, id).await?;
    // The organization must still be in the caller's scope.
    let code =
        baiqian_domain::org::OrgCode::parse(&job.org_code).map_err(|_| AppError::NotFound)?;
    state.db.org(me.scope(), &code).await?;
    if job.status == JobStatus::Running
        && let Some((found, done)) = state.jobs.progress(id)
    {
        job.rows_found = found;
        job.rows_done = done;
    }
    Ok(job)
}

#[derive(Template)]
#[template(path = "job/show.html")]
struct JobPage {
    tr: Tr,
    f: Frame,
    job: Job,
    kind: &'static str,
    status: &'static str,
    running: bool,
    percent: i64,
    result: ImportResult,
    download: bool,
}

async fn page(
    State(state): State<AppState>,
    Auth(me): Auth,
    tr: Tr,
    uri: OriginalUri,
    Path(id): Path<i64>,
) -> Result<Response, AppError> {
    let job = own_job(&state, &me, id).await?;
    let percent = if job.rows_found > 0 {
        (job.rows_done * 100 / job.rows_found).clamp(0, 100)
    } else {
        0
    };
    html(&JobPage {
        tr,
        f: Frame::new(&state, &me, tr, &here(&uri), "tree").await?,
        kind: match job.kind {
            JobKind::MemberImport => "job.kind.member_import",
            JobKind::MemberExport => "job.kind.member_export",
        },
        status: match job.status {
            JobStatus::Running => "job.status.running",
            JobStatus::Done => "job.status.done",
            JobStatus::Failed => "job.status.failed",
            JobStatus::Interrupted => "job.status.interrupted",
        },
        running: job.status == JobStatus::Running,
        percent,
        result: result_of(&job),
        download: job.status == JobStatus::Done && job.kind == JobKind::MemberExport,
        job,
    })
}

/// A job as the API shows it.
#[derive(Serialize, utoipa::ToSchema)]
pub struct JobView {
    pub id: i64,
    pub kind: &'static str,
    pub org_code: String,
    /// `running`, `done`, `failed` or `interrupted` (the server stopped; nothing was written).
    pub status: &'static str,
    pub rows_found: i64,
    pub rows_done: i64,
    /// Members imported, or rows exported.
    pub created: i64,
    pub error_count: i64,
    /// The first bad rows of an import (`row`, `column`, `zh`, `en`).
    pub errors: Vec<JobErrorView>,
    /// Why an import's file was refused.
    pub file_error: Option<String>,
    /// Where a finished export's file is.
    pub download: Option<String>,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct JobErrorView {
    pub row: usize,
    pub column: String,
    pub message: String,
}

pub fn view(job: &Job, tr: Tr) -> JobView {
    let result = result_of(job);
    let en = tr.lang == Lang::En;
    JobView {
        id: job.id,
        kind: job.kind.as_str(),
        org_code: job.org_code.clone(),
        status: job.status.as_str(),
        rows_found: job.rows_found,
        rows_done: job.rows_done,
        created: job.created,
        error_count: job.error_count,
        errors: result
            .errors
            .into_iter()
            .map(|r| JobErrorView {
                row: r.row,
                column: r.column,
                message: if en { r.en } else { r.zh },
            })
            .collect(),
        file_error: result
            .file_error
            .map(|(zh, en_text)| if en { en_text } else { zh }),
        download: (job.status == JobStatus::Done && job.kind == JobKind::MemberExport)
            .then(|| format!("/jobs/{}/file", job.id)),
    }
}

/// One of the caller's jobs: its progress while it runs, its outcome once it ended.
#[utoipa::path(get, path = "/api/v1/jobs/{id}", params(("id" = i64, Path)),
    responses((status = 200, body = JobView), (status = 404, body = crate::error::ErrorBody)))]
pub(crate) async fn api_job(
    State(state): State<AppState>,
    Auth(me): Auth,
    tr: Tr,
    Path(id): Path<i64>,
) -> Result<Json<JobView>, AppError> {
    let job = own_job(&state, &me, id).await?;
    Ok(Json(view(&job, tr)))
}

/// A finished export's file. Its contents were checked when the job started; the caller must
/// still hold the capability now.
async fn file(
    State(state): State<AppState>,
    Auth(me): Auth,
    Path(id): Path<i64>,
) -> Result<Response, AppError> {
    let job = own_job(&state, &me, id).await?;
    if job.kind != JobKind::MemberExport
        || job.status != JobStatus::Done
        || !me.actor.role.may(Capability::ExportPersonalData)
    {
        return Err(AppError::NotFound);
    }
    let bytes = tokio::fs::read(state.jobs.file_path(id))
        .await
        .map_err(|_| AppError::NotFound)?;
    crate::excel::xlsx_response(bytes, job.file_name.as_deref().unwrap_or("export.xlsx"))
}
