//! Evidence files (佐证材料) of any area: an upload read and checked at the door (kind by
//! content, size), kept content-addressed by SHA-256 in the evidence directory, served back
//! with the headers a file of unknown origin needs.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use axum::extract::Multipart;
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use baiqian_domain::Msg;
use sha2::{Digest, Sha256};

use crate::error::AppError;
use crate::state::AppState;

/// Largest evidence file: 8 MiB (a phone photo or a scanned page).
pub const MAX_EVIDENCE_BYTES: usize = 8 * 1024 * 1024;

/// The kinds of evidence accepted, recognised by their content (not their name).
pub const EVIDENCE_TYPES: [&str; 3] = ["image/jpeg", "image/png", "application/pdf"];

/// An evidence upload as checked: its bytes, hash, kind and name, and the form's other fields.
pub struct Upload {
    pub dir: PathBuf,
    pub fields: HashMap<String, String>,
    pub bytes: Vec<u8>,
    pub sha256: String,
    pub mime: &'static str,
    pub file_name: String,
}

impl Upload {
    /// Reads a multipart form with one `file` and checks the file; nothing is stored yet (the
    /// caller checks scope and turn first, then calls [`Upload::keep`]).
    pub async fn read(state: &AppState, mut multipart: Multipart) -> Result<Upload, AppError> {
        let dir = state
            .config
            .evidence_dir
            .clone()
            .ok_or_else(|| AppError::Invalid(Msg::new("rating.error.no_evidence_dir")))?;
        let broken = crate::excel::upload_failed(crate::state::MAX_UPLOAD_BYTES);
        let (mut fields, mut bytes, mut file_name) = (HashMap::new(), Vec::new(), String::new());
        while let Some(field) = multipart.next_field().await.map_err(broken)? {
            let name = field.name().unwrap_or_default().to_string();
            if name == "file" {
                file_name = field.file_name().unwrap_or("evidence").to_string();
                bytes = field.bytes().await.map_err(broken)?.to_vec();
            } else {
                let text = field.text().await.map_err(broken)?;
                fields.insert(name, text);
            }
        }
        if bytes.is_empty() {
            return Err(AppError::Invalid(Msg::new("import.error.no_file")));
        }
        if bytes.len() > MAX_EVIDENCE_BYTES {
            return Err(AppError::Invalid(
                Msg::new("rating.error.evidence_size").arg("max", MAX_EVIDENCE_BYTES / 1024 / 1024),
            ));
        }
        let mime = infer::get(&bytes)
            .map(|t| t.mime_type())
            .and_then(|m| EVIDENCE_TYPES.into_iter().find(|t| *t == m))
            .ok_or_else(|| AppError::Invalid(Msg::new("rating.error.evidence_type")))?;
        let sha256 = hex::encode(Sha256::digest(&bytes));
        Ok(Upload {
            dir,
            fields,
            bytes,
            sha256,
            mime,
            file_name,
        })
    }

    /// A form field as an id (0 when absent or not a number).
    pub fn id_field(&self, name: &str) -> i64 {
        self.fields
            .get(name)
            .and_then(|v| v.trim().parse().ok())
            .unwrap_or(0)
    }

    /// Stores the bytes under their hash; an existing file with that hash is the same content.
    pub async fn keep(&self) -> Result<(), AppError> {
        let path = evidence_path(&self.dir, &self.sha256);
        if tokio::fs::try_exists(&path).await.unwrap_or(false) {
            return Ok(());
        }
        let io =
            |e: std::io::Error| AppError::Internal(format!("evidence {}: {e}", path.display()));
        let parent = path
            .parent()
            .ok_or_else(|| AppError::Internal("evidence dir".into()))?;
        tokio::fs::create_dir_all(parent).await.map_err(io)?;
        // Unique across the nodes sharing the directory (a process id is not, across hosts).
        let tmp = parent.join(format!(
            "{}.tmp-{}",
            self.sha256,
            &crate::auth::random_token()?[..16]
        ));
        {
            use tokio::io::AsyncWriteExt;
            let mut f = tokio::fs::File::create(&tmp).await.map_err(io)?;
            f.write_all(&self.bytes).await.map_err(io)?;
            f.sync_all().await.map_err(io)?;
        }
        tokio::fs::rename(&tmp, &path).await.map_err(io)?;
        Ok(())
    }

    pub fn size(&self) -> i64 {
        self.bytes.len() as i64
    }
}

/// Where evidence files live: `dir/ab/abcdef…` by SHA-256.
pub fn evidence_path(dir: &Path, sha: &str) -> PathBuf {
    dir.join(sha.get(..2).unwrap_or("00")).join(sha)
}

/// An evidence file's bytes as a response, to a reader the caller has already checked.
pub async fn serve(state: &AppState, sha256: &str, mime: &str) -> Result<Response, AppError> {
    let dir = state
        .config
        .evidence_dir
        .clone()
        .ok_or(AppError::NotFound)?;
    let bytes = tokio::fs::read(evidence_path(&dir, sha256))
        .await
        .map_err(|err| AppError::Internal(format!("evidence {sha256}: {err}")))?;
    let mime = HeaderValue::from_str(mime).map_err(|err| AppError::Internal(err.to_string()))?;
    Ok((
        [
            (header::CONTENT_TYPE, mime),
            (
                header::X_CONTENT_TYPE_OPTIONS,
                HeaderValue::from_static("nosniff"),
            ),
            (
                header::CACHE_CONTROL,
                HeaderValue::from_static("private, max-age=3600"),
            ),
        ],
        bytes,
    )
        .into_response())
}

/// A file's size as the evidence lists show it: `12.3 KiB`.
pub fn kib(bytes: i64) -> String {
    format!("{:.1} KiB", bytes as f64 / 1024.0)
}
