//! A node's targets page, its charts and the list behind each figure.

use std::collections::HashMap;

use super::*;
use crate::chart::{ChartData, ChartKind};

/// `GET /orgs/{code}/targets`: the targets of this year, or of the campaign's nearest year.
pub(super) async fn latest(
    State(state): State<AppState>,
    Auth(me): Auth,
    CodeParam(code): CodeParam,
) -> Result<Response, AppError> {
    let (org, campaign) = campaign_of(&state, &me, &code).await?;
    let this_year: i64 = today(&state)
        .get(..4)
        .and_then(|y| y.parse().ok())
        .unwrap_or(campaign.first_year);
    let years = campaign.target_years();
    let year = years
        .iter()
        .copied()
        .find(|y| *y >= this_year)
        .or_else(|| years.last().copied())
        .ok_or(AppError::NotFound)?;
    Ok(Redirect::to(&format!("/orgs/{}/targets/{year}", org.code)).into_response())
}

/// One child's row: its figure for each of the year's targets.
pub(crate) struct ChildRow {
    pub node: Node,
    pub progress: Vec<Progress>,
}

#[derive(Template)]
#[template(path = "plan/targets.html")]
struct TargetsPage {
    tr: Tr,
    f: Frame,
    org: Node,
    campaign: Campaign,
    year: i64,
    years: Vec<i64>,
    today: String,
    progress: Vec<Progress>,
    children: Vec<ChildRow>,
}

impl TargetsPage {
    fn name(&self, m: &TargetMeasure) -> String {
        self.tr.word("plan.measure", m.as_str())
    }
    fn shown(&self, unit: Unit, v: &f64) -> String {
        shown(&self.tr, unit, *v)
    }
    fn goal(&self, p: &Progress) -> String {
        shown(&self.tr, p.unit(), p.goal as f64)
    }
    fn list(&self, code: &str, m: &TargetMeasure) -> String {
        format!("/orgs/{code}/targets/{}/{}", self.year, m.as_str())
    }
    fn chart_url(&self, m: &TargetMeasure) -> String {
        format!(
            "/orgs/{}/targets/{}/chart/{}",
            self.org.code,
            self.year,
            m.as_str()
        )
    }
}

/// `GET /orgs/{code}/targets/{year}`.
pub(super) async fn page(
    State(state): State<AppState>,
    Auth(me): Auth,
    tr: Tr,
    uri: OriginalUri,
    CodeParam(code): CodeParam,
    YearParam(year): YearParam,
) -> Result<Response, AppError> {
    let (org, campaign) = campaign_of(&state, &me, &code).await?;
    if campaign.targets_of(year).next().is_none() {
        return Err(AppError::NotFound);
    }
    let children = area_children(&state, &me, &org).await?;
    let standing = state
        .db
        .node_standing(&campaign, &org, &children, year)
        .await?;
    let whole = state.db.campaign_area(&campaign).await?;
    let progress = progress(&state, &campaign, year, &standing.node, &whole);
    let children = children
        .into_iter()
        .zip(&standing.children)
        .map(|(node, s)| ChildRow {
            progress: super::progress(&state, &campaign, year, s, &whole),
            node,
        })
        .collect();
    html(&TargetsPage {
        tr,
        f: Frame::new(&state, &me, tr, &here(&uri), "targets").await?,
        years: campaign.target_years(),
        today: today(&state),
        org,
        campaign,
        year,
        progress,
        children,
    })
}

fn measure_of(params: &HashMap<String, String>) -> Result<TargetMeasure, AppError> {
    params
        .get("measure")
        .and_then(|m| TargetMeasure::parse(m))
        .ok_or(AppError::NotFound)
}

/// `GET /orgs/{code}/targets/{year}/chart/{measure}`: each child's figure beside its goal;
/// a click opens the child's list.
pub(super) async fn chart(
    State(state): State<AppState>,
    Auth(me): Auth,
    tr: Tr,
    CodeParam(code): CodeParam,
    YearParam(year): YearParam,
    Path(params): Path<HashMap<String, String>>,
) -> Result<Response, AppError> {
    let measure = measure_of(&params)?;
    let (org, campaign) = campaign_of(&state, &me, &code).await?;
    if !campaign.targets_of(year).any(|t| t.measure == measure) {
        return Err(AppError::NotFound);
    }
    let children = area_children(&state, &me, &org).await?;
    let standing = state
        .db
        .node_standing(&campaign, &org, &children, year)
        .await?;
    let whole = state.db.campaign_area(&campaign).await?;
    let rows: Vec<Progress> = standing
        .children
        .iter()
        .filter_map(|s| {
            progress(&state, &campaign, year, s, &whole)
                .into_iter()
                .find(|p| p.measure == measure)
        })
        .collect();
    let links: Vec<String> = children
        .iter()
        .map(|c| format!("/orgs/{}/targets/{year}/{}", c.code, measure.as_str()))
        .collect();
    let mut data = ChartData::new(
        ChartKind::Bar,
        children.iter().map(|c| c.name.clone()).collect(),
    )
    .series(
        tr.t("plan.actual").to_string(),
        rows.iter().map(|p| p.actual).collect(),
        links,
    )
    .series(
        tr.t("plan.goal").to_string(),
        rows.iter().map(|p| p.goal as f64).collect(),
        Vec::new(),
    );
    if measure.unit() == Unit::Percent {
        data.unit = "%".into();
    }
    Ok(data.into_response())
}

#[derive(Deserialize, Default)]
pub(super) struct CountedQuery {
    /// `1`: those the figure does not count yet (what is missing).
    #[serde(default)]
    missing: String,
    /// The page of the list, from 1 (`COUNTED_PAGE` rows each).
    #[serde(default)]
    page: String,
}

/// Rows per page of the list behind a figure.
const COUNTED_PAGE: usize = 100;

/// A row of the list behind a figure: a village or a township.
pub(crate) enum Counted {
    Village(VillageStanding),
    Township(TownshipStanding),
}

#[derive(Template)]
#[template(path = "plan/counted.html")]
struct CountedPage {
    tr: Tr,
    f: Frame,
    org: Node,
    year: i64,
    measure: TargetMeasure,
    missing: bool,
    /// This page's rows of `total`.
    rows: Vec<Counted>,
    total: usize,
    page: usize,
    pages: usize,
    min_stars: i64,
}

impl CountedPage {
    fn name(&self) -> String {
        self.tr.word("plan.measure", self.measure.as_str())
    }
    fn stars(&self, s: &Option<i64>) -> String {
        s.map(|s| "★".repeat(s.clamp(0, 5) as usize))
            .unwrap_or_else(|| "—".into())
    }
    fn class(&self, v: &VillageStanding) -> String {
        v.class
            .map(|c| self.tr.word("rating.class", c.as_str()))
            .unwrap_or_else(|| "—".into())
    }
    fn criterion(&self, c: &baiqian_domain::plan::CriterionCheck) -> String {
        criterion_words(&self.tr, c, self.min_stars)
    }
}

/// `GET /orgs/{code}/targets/{year}/{measure}`: exactly the villages or townships the figure
/// counts (or, with `missing=1`, those it does not count yet).
pub(super) async fn counted(
    State(state): State<AppState>,
    Auth(me): Auth,
    tr: Tr,
    uri: OriginalUri,
    CodeParam(code): CodeParam,
    Path(params): Path<HashMap<String, String>>,
    Query(q): Query<CountedQuery>,
) -> Result<Response, AppError> {
    let measure = measure_of(&params)?;
    // The year from the same path (one extractor fewer: `YearParam` reads it the same way).
    let year = params
        .get("year")
        .and_then(|y| y.parse::<i64>().ok())
        .filter(|y| (2000..=2100).contains(y))
        .ok_or(AppError::NotFound)?;
    let (org, campaign) = campaign_of(&state, &me, &code).await?;
    if !campaign.targets_of(year).any(|t| t.measure == measure) {
        return Err(AppError::NotFound);
    }
    let missing = q.missing == "1";
    let page = q
        .page
        .trim()
        .parse::<usize>()
        .unwrap_or(1)
        .clamp(1, 100_000);
    let (total, rows): (usize, Vec<Counted>) = match measure.among() {
        baiqian_domain::plan::Among::Villages => {
            let limit = COUNTED_PAGE as i64;
            let offset = ((page - 1) * COUNTED_PAGE) as i64;
            let (total, rows) = state
                .db
                .counted_villages(&campaign, &org, year, (measure, missing), (limit, offset))
                .await?
                .ok_or(AppError::NotFound)?;
            (
                usize::try_from(total).unwrap_or(0),
                rows.into_iter().map(Counted::Village).collect(),
            )
        }
        baiqian_domain::plan::Among::Townships => {
            let wanted = |s: &Standing| (s.count(measure) > 0) != missing;
            let all: Vec<TownshipStanding> = state
                .db
                .township_standings(&campaign, &org, year)
                .await?
                .into_iter()
                .filter(|t| wanted(&t.standing))
                .collect();
            let total = all.len();
            let rows = all
                .into_iter()
                .skip((page - 1) * COUNTED_PAGE)
                .take(COUNTED_PAGE)
                .map(Counted::Township)
                .collect();
            (total, rows)
        }
    };
    let pages = total.div_ceil(COUNTED_PAGE).max(1);
    let page = page.min(pages);
    html(&CountedPage {
        tr,
        f: Frame::new(&state, &me, tr, &here(&uri), "targets").await?,
        org,
        year,
        measure,
        missing,
        rows,
        total,
        page,
        pages,
        min_stars: campaign.rule.min_stars,
    })
}
