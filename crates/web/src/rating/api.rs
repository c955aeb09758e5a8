//! A node's ratings in the JSON API.

use super::*;

/// `GET /api/v1/orgs/{code}/ratings/{year}`: the ratings of the villages under a node.
#[derive(Serialize, utoipa::ToSchema)]
pub struct RatingsSummary {
    pub year: i64,
    pub published: bool,
    /// Rated villages by stars `"1"`…`"5"`, and `"unrated"`.
    pub stars: std::collections::BTreeMap<String, i64>,
    /// Rated villages by class: `pioneer`, `advancing`, `lagging`.
    pub classes: std::collections::BTreeMap<String, i64>,
}

#[utoipa::path(
    get,
    path = "/api/v1/orgs/{code}/ratings/{year}",
    params(("code" = String, Path), ("year" = i64, Path)),
    responses((status = 200, body = RatingsSummary), (status = 404))
)]
pub(crate) async fn api_ratings(
    State(state): State<AppState>,
    Auth(me): Auth,
    CodeParam(code): CodeParam,
    YearParam(year): YearParam,
) -> Result<Response, AppError> {
    let (round, t) = state
        .db
        .rating_summary(me.scope(), &code, year, &today(&state))
        .await?;
    let Some(round) = round else {
        return Err(AppError::NotFound);
    };
    Ok(Json(summary(year, round.published_at.is_some(), &t)).into_response())
}

/// The summary's shape from a tally: the scoped and the public API answer alike.
pub(crate) fn summary(year: i64, published: bool, t: &Tally) -> RatingsSummary {
    let mut stars: std::collections::BTreeMap<String, i64> =
        (1..=5).map(|s| (s.to_string(), t.stars[s - 1])).collect();
    stars.insert("unrated".into(), t.unrated());
    let classes = VillageClass::ALL
        .iter()
        .enumerate()
        .map(|(i, c)| (c.as_str().to_string(), t.classes[i]))
        .collect();
    RatingsSummary {
        year,
        published,
        stars,
        classes,
    }
}
