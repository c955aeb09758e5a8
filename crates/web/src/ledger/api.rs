//! The problem ledger as JSON: a node's figures (`summary`) and the list behind each figure, with
//! the same filters as the board, so that a phone app or another system reads what the board
//! shows — and the figure and its list always agree.

use super::*;

/// `GET /api/v1/orgs/{code}/problems/summary`: the problems of the villages under a node.
#[derive(Serialize, utoipa::ToSchema)]
pub struct ProblemSummary {
    pub found: i64,
    /// Open, including those reopened after a check.
    pub open: i64,
    pub in_progress: i64,
    pub rectified: i64,
    pub verified: i64,
    pub overdue: i64,
    /// Unresolved, with a deadline extended past the original (延期).
    pub extended: i64,
}

#[utoipa::path(
    get,
    path = "/api/v1/orgs/{code}/problems/summary",
    params(("code" = String, Path)),
    responses((status = 200, body = ProblemSummary), (status = 404))
)]
pub(crate) async fn api_summary(
    State(state): State<AppState>,
    Auth(me): Auth,
    CodeParam(code): CodeParam,
) -> Result<Response, AppError> {
    let org = state.db.org(me.scope(), &code).await?;
    let c = state.db.problem_counts(&org).await?;
    Ok(Json(ProblemSummary {
        found: c.found,
        open: c.open,
        in_progress: c.in_progress,
        rectified: c.rectified,
        verified: c.verified,
        overdue: c.overdue,
        extended: c.extended,
    })
    .into_response())
}

/// `GET /api/v1/orgs/{code}/problems` query: the board's filters and a page.
#[derive(Deserialize)]
pub(crate) struct ApiListQuery {
    /// `open` (with the reopened), `in_progress`, `rectified` or `verified`.
    status: Option<String>,
    /// `true`: only the overdue.
    overdue: Option<bool>,
    /// `true`: only the extended (unresolved, due after the original deadline).
    extended: Option<bool>,
    /// From 1; 100 a page.
    page: Option<i64>,
}

/// One problem of a list.
#[derive(Serialize, utoipa::ToSchema)]
pub struct ProblemItem {
    pub id: i64,
    /// The village's code and name.
    pub village: String,
    pub village_name: String,
    pub township_name: String,
    /// `open` (a reopened problem is open again), `in_progress`, `rectified`, `verified`.
    pub status: String,
    /// Whether it was found wanting at a check and is open again.
    pub reopened: bool,
    pub description: String,
    pub owner: String,
    pub deadline: String,
    pub original_deadline: String,
    pub overdue: bool,
    pub extended: bool,
}

impl From<Problem> for ProblemItem {
    fn from(p: Problem) -> Self {
        Self {
            id: p.id,
            village: p.village_code,
            village_name: p.village_name,
            township_name: p.township_name,
            status: match p.status {
                ProblemStatus::Reopened => ProblemStatus::Open,
                s => s,
            }
            .as_str()
            .to_string(),
            reopened: p.status == ProblemStatus::Reopened,
            description: p.description,
            owner: p.owner_name,
            deadline: p.deadline,
            original_deadline: p.original_deadline,
            overdue: p.overdue,
            extended: p.extended,
        }
    }
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct ProblemItems {
    /// Problems matching the filter over every page: the figure the summary gives for it.
    pub total: i64,
    pub page: i64,
    pub per_page: i64,
    pub items: Vec<ProblemItem>,
}

const PER_PAGE: i64 = 100;

#[utoipa::path(
    get,
    path = "/api/v1/orgs/{code}/problems",
    params(("code" = String, Path), ("status" = Option<String>, Query, description = "open (with the reopened), in_progress, rectified or verified"),
           ("overdue" = Option<bool>, Query), ("extended" = Option<bool>, Query), ("page" = Option<i64>, Query, description = "from 1; 100 a page")),
    responses((status = 200, body = ProblemItems), (status = 404), (status = 422))
)]
pub(crate) async fn api_list(
    State(state): State<AppState>,
    Auth(me): Auth,
    CodeParam(code): CodeParam,
    Query(q): Query<ApiListQuery>,
) -> Result<Response, AppError> {
    let org = state.db.org(me.scope(), &code).await?;
    let status = match q.status.as_deref().filter(|s| !s.is_empty()) {
        Some(s) => Some(
            ProblemStatus::parse(s)
                .filter(|s| *s != ProblemStatus::Reopened)
                .ok_or_else(|| {
                    AppError::Invalid(
                        baiqian_domain::Msg::new("problem.error.status").arg("value", s),
                    )
                })?,
        ),
        None => None,
    };
    let page = q.page.unwrap_or(1);
    if !(1..=100_000).contains(&page) {
        return Err(AppError::Invalid(baiqian_domain::Msg::new("error.page")));
    }
    let filter = ProblemFilter {
        status,
        overdue: q.overdue.unwrap_or(false),
        extended: q.extended.unwrap_or(false),
        ..ProblemFilter::default()
    };
    let total = state.db.count_problems_under(&org, &filter).await?;
    let items = state
        .db
        .problems_under(&org, &filter, PER_PAGE, (page - 1) * PER_PAGE)
        .await?
        .into_iter()
        .map(ProblemItem::from)
        .collect();
    Ok(Json(ProblemItems {
        total,
        page,
        per_page: PER_PAGE,
        items,
    })
    .into_response())
}
