//! A node's targets in the JSON API.

use super::*;

/// One target at the node asked for.
#[derive(serde::Serialize, utoipa::ToSchema)]
pub struct TargetItem {
    /// The measure: `pioneer_villages`, `villages_advanced`, `villages_at_four_stars`,
    /// `townships_advanced`, `model_townships`.
    pub key: String,
    pub name: String,
    /// `count` or `percent`.
    pub unit: String,
    /// The goal at this node (a count goal is the node's share of the city's).
    pub goal: i64,
    /// Counted from the ratings: a count, or a percentage to one decimal.
    pub actual: f64,
    /// Villages or townships counted, among how many.
    pub count: i64,
    pub of: i64,
    /// Where the straight line from the campaign's start to the goal stands today.
    pub expected: f64,
    pub due: String,
}

#[derive(serde::Serialize, utoipa::ToSchema)]
pub struct TargetItems {
    pub campaign: String,
    pub year: i64,
    pub items: Vec<TargetItem>,
}

#[utoipa::path(
    get,
    path = "/api/v1/orgs/{code}/targets/{year}",
    params(("code" = String, Path), ("year" = i64, Path)),
    responses((status = 200, body = TargetItems), (status = 404))
)]
pub(crate) async fn api_targets(
    State(state): State<AppState>,
    Auth(me): Auth,
    tr: Tr,
    CodeParam(code): CodeParam,
    YearParam(year): YearParam,
) -> Result<Response, AppError> {
    let (org, campaign) = campaign_of(&state, &me, &code).await?;
    if campaign.targets_of(year).next().is_none() {
        return Err(AppError::NotFound);
    }
    let standing = state.db.node_standing(&campaign, &org, &[], year).await?;
    let whole = state.db.campaign_area(&campaign).await?;
    let items = progress(&state, &campaign, year, &standing.node, &whole)
        .into_iter()
        .map(|p| TargetItem {
            key: p.measure.as_str().into(),
            name: tr.word("plan.measure", p.measure.as_str()),
            unit: match p.unit() {
                Unit::Count => "count".into(),
                Unit::Percent => "percent".into(),
            },
            goal: p.goal,
            actual: p.actual,
            count: p.count,
            of: p.base,
            expected: p.expected,
            due: p.due,
        })
        .collect();
    Ok(Json(TargetItems {
        campaign: campaign.name,
        year,
        items,
    })
    .into_response())
}
