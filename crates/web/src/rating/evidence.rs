//! Evidence files: uploaded to an assessment's item, stored by SHA-256, served back in scope.

use super::*;

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

pub(super) use crate::evidence::kib;

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
    multipart: Multipart,
) -> Result<(Assessment, i64), AppError> {
    let upload = crate::evidence::Upload::read(state, multipart).await?;
    let item_id = upload.id_field("item_id");
    // Scope and turn are checked before any byte is written.
    let a = state.db.assessment_by_id(me.scope(), id).await?;
    if a.stage != Stage::Draft || me.role() != Role::VillageSecretary {
        return Err(AppError::Conflict(
            Msg::new("rating.error.out_of_turn").arg("stage", a.stage.as_str()),
        ));
    }
    upload.keep().await?;
    state
        .db
        .add_evidence(
            &me.actor,
            a.id,
            item_id,
            &upload.sha256,
            upload.mime,
            upload.size(),
            &upload.file_name,
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
    crate::evidence::serve(&state, &e.sha256, &e.mime).await
}
