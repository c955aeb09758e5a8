//! A node's cadre figures in the JSON API.

use axum::Json;

use super::*;

/// The cadre figures under a node.
#[derive(serde::Serialize, utoipa::ToSchema)]
pub struct CadreSummaryView {
    pub code: String,
    /// Villages under the node, and those with a secretary in post.
    pub villages: i64,
    pub secretaries: i64,
    /// Village secretaries adjusted as unfit (不胜任调整), over the whole history.
    pub secretaries_adjusted: i64,
    /// First secretaries (第一书记) in post, and those of them stationed in their village.
    pub first_secretaries: i64,
    pub stationed: i64,
}

#[utoipa::path(
    get,
    path = "/api/v1/orgs/{code}/cadres/summary",
    params(("code" = String, Path)),
    responses((status = 200, body = CadreSummaryView), (status = 404))
)]
pub(crate) async fn api_summary(
    State(state): State<AppState>,
    Auth(me): Auth,
    CodeParam(code): CodeParam,
) -> Result<Response, AppError> {
    let org = state.db.org(me.scope(), &code).await?;
    let s = state.db.cadre_summary(&org).await?;
    Ok(Json(CadreSummaryView {
        code: org.code.as_str().to_string(),
        villages: s.villages,
        secretaries: s.secretaries,
        secretaries_adjusted: s.secretaries_adjusted,
        first_secretaries: s.first_secretaries,
        stationed: s.stationed,
    })
    .into_response())
}
