//! The rating boards' charts (the data behind `templates/_chart.html`): a node's stars, classes
//! and stages in a year, its area children's stars side by side, and
//! its stars over the last five years. Every value links to the
//! villages behind it, the same lists the board's table links to.

use super::*;
use crate::chart::{ChartData, ChartKind};

/// `GET /orgs/{code}/ratings/{year}/chart/{chart}`: `stars`, `classes`, `stages`, `children`, `history`
/// (the last five years' stars).
pub(super) async fn chart_data(
    State(state): State<AppState>,
    Auth(me): Auth,
    tr: Tr,
    CodeParam(code): CodeParam,
    YearParam(year): YearParam,
    Path(params): Path<HashMap<String, String>>,
) -> Result<Response, AppError> {
    let org = state.db.org(me.scope(), &code).await?;
    let round = state
        .db
        .round_for(&org, year)
        .await?
        .ok_or(AppError::NotFound)?;
    let today = today(&state);
    let list = |node: &str, query: String| format!("/orgs/{node}/ratings/{year}/villages?{query}");
    let chart = params.get("chart").map(String::as_str).unwrap_or("");
    let data = match chart {
        "children" => {
            let (_, children) = area_tallies(&state, &me, &round, &org, &today).await?;
            let (areas, tallies): (Vec<Node>, Vec<Tally>) = children.into_iter().unzip();
            let mut data = ChartData::new(
                ChartKind::Bar,
                areas.iter().map(|a| a.name.clone()).collect(),
            )
            .stacked();
            for s in (1..=5usize).rev() {
                data = data.series(
                    format!("{s}★"),
                    tallies.iter().map(|t| t.stars[s - 1] as f64).collect(),
                    areas
                        .iter()
                        .map(|a| list(a.code.as_str(), format!("stars={s}")))
                        .collect(),
                );
            }
            data
        }
        "history" => {
            // The node's last five years up to this one, oldest first, stars stacked.
            let mut years: Vec<i64> = state
                .db
                .round_years(&org)
                .await?
                .into_iter()
                .filter(|y| *y <= year)
                .take(5)
                .collect();
            years.reverse();
            let mut tallies = Vec::with_capacity(years.len());
            for y in &years {
                tallies.push(match state.db.round_for(&org, *y).await? {
                    Some(r) => state.db.rating_counts(&r, &org, &today).await?,
                    None => Tally::default(),
                });
            }
            let here = org.code.as_str();
            let mut data = ChartData::new(
                ChartKind::Bar,
                years.iter().map(|y| y.to_string()).collect(),
            )
            .stacked();
            for s in (1..=5usize).rev() {
                data = data.series(
                    format!("{s}★"),
                    tallies.iter().map(|t| t.stars[s - 1] as f64).collect(),
                    years
                        .iter()
                        .map(|y| format!("/orgs/{here}/ratings/{y}/villages?stars={s}"))
                        .collect(),
                );
            }
            data
        }
        "stars" | "classes" | "stages" => {
            let t = state.db.rating_tally(&round, &org, &today).await?;
            let here = org.code.as_str();
            match chart {
                "stars" => {
                    ChartData::new(ChartKind::Bar, (1..=5).map(|s| format!("{s}★")).collect())
                        .series(
                            tr.t("rating.villages").to_string(),
                            t.stars.iter().map(|n| *n as f64).collect(),
                            (1..=5).map(|s| list(here, format!("stars={s}"))).collect(),
                        )
                }
                "classes" => ChartData::new(
                    ChartKind::Pie,
                    VillageClass::ALL
                        .iter()
                        .map(|c| tr.t(&format!("rating.class.{}", c.as_str())).to_string())
                        .collect(),
                )
                .series(
                    tr.t("rating.class").to_string(),
                    t.classes.iter().map(|n| *n as f64).collect(),
                    VillageClass::ALL
                        .iter()
                        .map(|c| list(here, format!("class={}", c.as_str())))
                        .collect(),
                ),
                _ => ChartData::new(
                    ChartKind::Bar,
                    Stage::ALL
                        .iter()
                        .map(|s| tr.t(&format!("rating.stage.{}", s.as_str())).to_string())
                        .collect(),
                )
                .series(
                    tr.t("rating.villages").to_string(),
                    t.stages.iter().map(|n| *n as f64).collect(),
                    Stage::ALL
                        .iter()
                        .map(|s| list(here, format!("stage={}", s.as_str())))
                        .collect(),
                ),
            }
        }
        _ => return Err(AppError::NotFound),
    };
    Ok(data.into_response())
}
