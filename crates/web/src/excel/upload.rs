//! A file as a form uploads it (上传文件): written to a temporary file as its bytes arrive, so a
//! request holds one chunk of it in memory, never the whole file (a roster may be 128 MB). The
//! temporary file goes when the last handle to it does; it lives in the system's temporary
//! directory (`TMPDIR`), which is node-local on purpose: an upload is read by the request (or the
//! job) that received it.

use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use axum::body::{Body, Bytes};
use axum::extract::Request;
use axum::extract::multipart::Field;
use axum::middleware::Next;
use axum::response::Response;
use baiqian_domain::Msg;
use futures_util::{Stream, StreamExt};
use tokio::io::AsyncWriteExt;

use crate::error::AppError;

/// An uploaded file on disk; cloning shares the same file.
#[derive(Clone)]
pub struct UploadedFile {
    path: Arc<tempfile::TempPath>,
    len: u64,
}

impl UploadedFile {
    /// Writes `field` to a new temporary file as it arrives, refusing it past `max_bytes` (the
    /// route's limit, named in the message).
    pub async fn receive(mut field: Field<'_>, max_bytes: usize) -> Result<UploadedFile, AppError> {
        let broken = super::upload_failed(max_bytes);
        let spool = |e: std::io::Error| AppError::Internal(format!("upload spool: {e}"));
        let tmp = tokio::task::spawn_blocking(tempfile::NamedTempFile::new)
            .await
            .map_err(|e| AppError::Internal(format!("upload spool: {e}")))?
            .map_err(spool)?;
        let (file, path) = tmp.into_parts();
        let mut out = tokio::io::BufWriter::with_capacity(1 << 16, tokio::fs::File::from_std(file));
        let mut len = 0u64;
        while let Some(chunk) = field.chunk().await.map_err(broken)? {
            len += chunk.len() as u64;
            if len > max_bytes as u64 {
                return Err(super::file_too_large(max_bytes));
            }
            out.write_all(&chunk).await.map_err(spool)?;
        }
        out.flush().await.map_err(spool)?;
        Ok(UploadedFile {
            path: Arc::new(path),
            len,
        })
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The whole file in memory, for the routes whose limit is small (10 MB).
    pub async fn bytes(&self) -> Result<Vec<u8>, AppError> {
        tokio::fs::read(self.path.as_ref().as_ref() as &std::path::Path)
            .await
            .map_err(|e| AppError::Internal(format!("upload read: {e}")))
    }

    /// The file as a sheet source, read where it lies.
    pub fn source(&self) -> super::stream::Source<'static> {
        super::stream::Source::File(self.path.clone())
    }
}

/// Reads the file of an upload that may be absent (`None`): its bytes, or none.
pub async fn bytes_of(file: &Option<UploadedFile>) -> Result<Vec<u8>, AppError> {
    match file {
        Some(f) => f.bytes().await,
        None => Ok(Vec::new()),
    }
}

/// "No file was chosen" when the upload is missing or empty.
pub fn require(file: Option<UploadedFile>) -> Result<UploadedFile, Msg> {
    file.filter(|f| !f.is_empty())
        .ok_or_else(|| Msg::new("import.error.no_file"))
}

/// Most bytes of a multipart body handed on between two yields.
const PACE_BYTES: usize = 1 << 20;

/// Multipart bodies reach their handler paced: the multipart parser buffers everything its
/// body stream has ready, and a body that is always ready (a fast client on a near network, or
/// one held in memory) would sit in memory whole before the first chunk reaches the disk.
/// Yielding after each `PACE_BYTES` lets the parser hand on what it holds first.
pub async fn pace(req: Request, next: Next) -> Response {
    let multipart = req
        .headers()
        .get(axum::http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|t| t.starts_with("multipart/form-data"));
    if !multipart {
        return next.run(req).await;
    }
    let (parts, body) = req.into_parts();
    let paced = Paced {
        inner: body.into_data_stream(),
        since_yield: 0,
    };
    next.run(Request::from_parts(parts, Body::from_stream(paced)))
        .await
}

struct Paced {
    inner: axum::body::BodyDataStream,
    since_yield: usize,
}

impl Stream for Paced {
    type Item = Result<Bytes, axum::Error>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        if self.since_yield >= PACE_BYTES {
            self.since_yield = 0;
            cx.waker().wake_by_ref();
            return Poll::Pending;
        }
        let next = self.inner.poll_next_unpin(cx);
        if let Poll::Ready(Some(Ok(chunk))) = &next {
            self.since_yield += chunk.len();
        }
        next
    }
}
