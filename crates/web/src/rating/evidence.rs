//! Evidence files: uploaded to an assessment's item, stored by SHA-256, served back in scope.

use super::*;

/// The kinds of evidence accepted, recognised by their content (not their name).
pub(super) const EVIDENCE_TYPES: [&str; 3] = ["image/jpeg", "image/png", "application/pdf"];

/// Where evidence files live: `dir/ab/abcdef…` by SHA-256.
pub(super) fn evidence_path(dir: &std::path::Path, sha: &str) -> PathBuf {
    dir.join(&sha[..2]).join(sha)
}

/// Stores bytes under their hash; an existing file with that hash is the same content.
pub(super) async fn store_evidence(
    dir: &std::path::Path,
    sha: &str,
    bytes: &[u8],
) -> Result<(), AppError> {
    let path = evidence_path(dir, sha);
    if tokio::fs::try_exists(&path).await.unwrap_or(false) {
        return Ok(());
    }
    let io = |e: std::io::Error| AppError::Internal(format!("evidence {}: {e}", path.display()));
    let parent = path
        .parent()
        .ok_or_else(|| AppError::Internal("evidence dir".into()))?;
    tokio::fs::create_dir_all(parent).await.map_err(io)?;
    let tmp = parent.join(format!("{sha}.tmp{}", std::process::id()));
    {
        use tokio::io::AsyncWriteExt;
        let mut f = tokio::fs::File::create(&tmp).await.map_err(io)?;
        f.write_all(bytes).await.map_err(io)?;
        f.sync_all().await.map_err(io)?;
    }
    tokio::fs::rename(&tmp, &path).await.map_err(io)?;
    Ok(())
}

/// What an htmx upload answers: the item's evidence list as it now stands.
#[derive(Template)]
#[template(path = "rating/evidence_list.html")]
pub(super) struct EvidenceList {
    evidence: Vec<baiqian_store::rating::Evidence>,
}

impl EvidenceList {
    fn kib(&self, n: &i64) -> String {
        kib(*n)
    }
}

/// A file's size as the evidence lists show it: `12.3 KiB`.
pub(super) fn kib(bytes: i64) -> String {
    format!("{:.1} KiB", bytes as f64 / 1024.0)
}

/// An upload from the page's htmx form answers with the item's evidence list, swapped in place,
/// so that scores typed and not yet saved stay in their boxes; a refused upload answers 422 with
/// the reason, shown in the save bar. Without JavaScript it is a full post, as before.
pub(super) async fn upload_evidence(
    State(state): State<AppState>,
    Auth(me): Auth,
    tr: Tr,
    headers: axum::http::HeaderMap,
    Path(id): Path<i64>,
    multipart: Multipart,
) -> Result<Response, AppError> {
    let htmx = from_htmx(&headers);
    match receive_evidence(&state, &me, id, multipart).await {
        Ok((a, item_id)) if htmx => {
            let (_, items, _) = assessment_by_id(&state, &me, a.id).await?;
            let evidence = items
                .into_iter()
                .find(|i| i.item.id == item_id)
                .map(|i| i.evidence)
                .unwrap_or_default();
            html(&EvidenceList { evidence })
        }
        Ok((a, _)) => Ok(back_to(&a)),
        Err(AppError::Invalid(m) | AppError::Conflict(m)) if htmx => {
            let mut res = html(&SavedFragment::refused(tr, tr.msg(&m)))?;
            *res.status_mut() = StatusCode::UNPROCESSABLE_ENTITY;
            res.headers_mut().insert(
                "hx-retarget",
                axum::http::HeaderValue::from_static("#save-status"),
            );
            Ok(res)
        }
        Err(e) => Err(e),
    }
}

async fn receive_evidence(
    state: &AppState,
    me: &CurrentUser,
    id: i64,
    mut multipart: Multipart,
) -> Result<(Assessment, i64), AppError> {
    let dir = state
        .config
        .evidence_dir
        .clone()
        .ok_or_else(|| AppError::Invalid(Msg::new("rating.error.no_evidence_dir")))?;
    let broken = |_| AppError::Invalid(Msg::new("import.error.upload"));
    let (mut item_id, mut file, mut name) = (0i64, Vec::new(), String::new());
    while let Some(field) = multipart.next_field().await.map_err(broken)? {
        match field.name().unwrap_or_default() {
            "item_id" => {
                item_id = field
                    .text()
                    .await
                    .map_err(broken)?
                    .trim()
                    .parse()
                    .unwrap_or(0)
            }
            "file" => {
                name = field.file_name().unwrap_or("evidence").to_string();
                file = field.bytes().await.map_err(broken)?.to_vec();
            }
            _ => {}
        }
    }
    if file.is_empty() {
        return Err(AppError::Invalid(Msg::new("import.error.no_file")));
    }
    if file.len() > MAX_EVIDENCE_BYTES {
        return Err(AppError::Invalid(
            Msg::new("rating.error.evidence_size").arg("max", MAX_EVIDENCE_BYTES / 1024 / 1024),
        ));
    }
    let mime = infer::get(&file)
        .map(|t| t.mime_type())
        .filter(|m| EVIDENCE_TYPES.contains(m))
        .ok_or_else(|| AppError::Invalid(Msg::new("rating.error.evidence_type")))?;
    // Scope and turn are checked before any byte is written.
    let a = state.db.assessment_by_id(me.scope(), id).await?;
    if a.stage != Stage::Draft || me.role() != Role::VillageSecretary {
        return Err(AppError::Conflict(
            Msg::new("rating.error.out_of_turn").arg("stage", a.stage.as_str()),
        ));
    }
    let sha = hex::encode(Sha256::digest(&file));
    store_evidence(&dir, &sha, &file).await?;
    let a_id = a.id;
    state
        .db
        .add_evidence(
            &me.actor,
            a_id,
            item_id,
            &sha,
            mime,
            file.len() as i64,
            &name,
            state.clock.now_ms(),
        )
        .await?;
    Ok((a, item_id))
}

/// An evidence file, to readers whose scope holds its village.
pub(super) async fn evidence_file(
    State(state): State<AppState>,
    Auth(me): Auth,
    Path(id): Path<i64>,
) -> Result<Response, AppError> {
    let e = state.db.evidence(me.scope(), id).await?;
    let dir = state
        .config
        .evidence_dir
        .clone()
        .ok_or(AppError::NotFound)?;
    let bytes = tokio::fs::read(evidence_path(&dir, &e.sha256))
        .await
        .map_err(|err| AppError::Internal(format!("evidence {}: {err}", e.sha256)))?;
    let mime = HeaderValue::from_str(&e.mime).map_err(|err| AppError::Internal(err.to_string()))?;
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
