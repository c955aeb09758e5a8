//! Published results for anyone (公示), without signing in: the city's headline figures and a
//! page per county, township and village with stars and class for each published year. Only
//! what a published round covers is shown, and only counts, names and stars: nothing personal,
//! nothing of a round still in progress.

use super::*;
use crate::frame::PublicFrame;

/// A year whose round covering the node has been published, with the node's figures.
pub(super) struct PublicYear {
    pub year: i64,
    pub tally: Tally,
}

/// The node's published years, newest first, with its figures in each.
async fn published_years(state: &AppState, node: &Node) -> Result<Vec<(Round, Tally)>, AppError> {
    // The villages are today's, the same in every year: counted once.
    let mut villages = None;
    let mut out = Vec::new();
    for year in state.db.round_years(node).await? {
        if let Some(round) = state.db.round_for(node, year).await?
            && round.published_at.is_some()
        {
            let mut tally = state.db.rating_counts(&round, node, &today(state)).await?;
            tally.villages = match villages {
                Some(n) => n,
                None => *villages.insert(state.db.village_count(node).await?),
            };
            out.push((round, tally));
        }
    }
    Ok(out)
}

/// A node anyone may look at: active, and covered by at least one published round.
async fn public_node(state: &AppState, code: &OrgCode) -> Result<Node, AppError> {
    let node = state.db.org(&Scope::everything(), code).await?;
    if node.retired_at.is_some() {
        return Err(AppError::NotFound);
    }
    Ok(node)
}

#[derive(Template)]
#[template(path = "public/home.html")]
struct PublicHome {
    tr: Tr,
    pf: PublicFrame,
    /// Each top node (the city) with its newest published year.
    cities: Vec<(Node, PublicYear)>,
    w: Words,
}

/// `GET /public`: the headline figures of each city's newest published year.
pub(super) async fn public_home(
    State(state): State<AppState>,
    tr: Tr,
    uri: OriginalUri,
) -> Result<Response, AppError> {
    let mut cities = Vec::new();
    for root in state.db.org_roots().await? {
        if let Some((round, tally)) = published_years(&state, &root).await?.into_iter().next() {
            cities.push((
                root,
                PublicYear {
                    year: round.year,
                    tally,
                },
            ));
        }
    }
    html(&PublicHome {
        tr,
        pf: PublicFrame::new(&uri),
        cities,
        w: Words(tr),
    })
}

#[derive(Template)]
#[template(path = "public/org.html")]
struct PublicOrgPage {
    tr: Tr,
    pf: PublicFrame,
    org: Node,
    /// (code, name) from the top down to the node's parent.
    crumbs: Vec<(String, String)>,
    years: Vec<PublicYear>,
    /// The year the children's table shows.
    year: Option<i64>,
    children: Vec<(Node, Tally)>,
    /// A village's own stars and class in each published year, newest first.
    history: Vec<StarYear>,
    w: Words,
}

impl PublicOrgPage {
    fn is_shown(&self, y: &i64) -> bool {
        self.year == Some(*y)
    }
    fn is_village(&self) -> bool {
        self.org.level == Level::Village
    }
}

#[derive(Deserialize)]
pub(super) struct PublicQuery {
    year: Option<i64>,
}

/// `GET /public/orgs/{code}`: a node's published results, its children's figures in one year.
pub(super) async fn public_org(
    State(state): State<AppState>,
    tr: Tr,
    uri: OriginalUri,
    CodeParam(code): CodeParam,
    Query(q): Query<PublicQuery>,
) -> Result<Response, AppError> {
    let org = public_node(&state, &code).await?;
    let published = published_years(&state, &org).await?;
    if published.is_empty() {
        return Err(AppError::NotFound);
    }
    let shown = match q.year {
        Some(y) => Some(
            published
                .iter()
                .find(|(r, _)| r.year == y)
                .ok_or(AppError::NotFound)?,
        ),
        None => published.first(),
    };
    let (mut children, mut history) = (Vec::new(), Vec::new());
    if org.level == Level::Village {
        let years: Vec<i64> = published.iter().map(|(r, _)| r.year).collect();
        history = state
            .db
            .star_history(&Scope::everything(), &org)
            .await?
            .into_iter()
            .filter(|y| y.stage == Stage::Published && years.contains(&y.year))
            .collect();
        history.reverse();
    } else if let Some((round, _)) = shown {
        let nodes = state
            .db
            .org_children(&Scope::everything(), &org.code, false)
            .await?;
        let tallies = state
            .db
            .rating_child_tallies(round, &org, &nodes, &today(&state))
            .await?;
        children = nodes.into_iter().zip(tallies).collect();
    }
    let crumbs = state.db.org_ancestors(&Scope::everything(), &org).await?;
    let year = shown.map(|(r, _)| r.year);
    html(&PublicOrgPage {
        tr,
        pf: PublicFrame::new(&uri),
        org,
        crumbs,
        year,
        years: published
            .into_iter()
            .map(|(r, tally)| PublicYear {
                year: r.year,
                tally,
            })
            .collect(),
        children,
        history,
        w: Words(tr),
    })
}

#[utoipa::path(
    get,
    path = "/api/v1/public/orgs/{code}/ratings/{year}",
    params(("code" = String, Path), ("year" = i64, Path)),
    responses((status = 200, body = RatingsSummary), (status = 404))
)]
/// `GET /api/v1/public/orgs/{code}/ratings/{year}`: a published year's ratings under a node,
/// for anyone; a year not published (or unknown) is 404.
pub(crate) async fn api_public_ratings(
    State(state): State<AppState>,
    CodeParam(code): CodeParam,
    YearParam(year): YearParam,
) -> Result<Response, AppError> {
    let org = public_node(&state, &code).await?;
    let round = state
        .db
        .round_for(&org, year)
        .await?
        .filter(|r| r.published_at.is_some())
        .ok_or(AppError::NotFound)?;
    let t = state.db.rating_tally(&round, &org, &today(&state)).await?;
    Ok(Json(summary(year, true, &t)).into_response())
}
