//! The whole-township advancement (整乡提升) of the townships under a node, criterion by
//! criterion with what is missing, and the city's naming of model townships (先进乡镇).

use super::*;

#[derive(Template)]
#[template(path = "plan/advancement.html")]
struct AdvancementPage {
    tr: Tr,
    f: Frame,
    org: Node,
    campaign: Campaign,
    year: i64,
    years: Vec<i64>,
    townships: Vec<TownshipStanding>,
    advanced: usize,
    models: usize,
}

impl AdvancementPage {
    fn criterion(&self, c: &baiqian_domain::plan::CriterionCheck) -> String {
        criterion_words(&self.tr, c, self.campaign.rule.min_stars)
    }
    fn rule(&self) -> String {
        let mut parts = vec![self.tr.f(
            "plan.rule.min_stars",
            &[("stars", &self.campaign.rule.min_stars.to_string())],
        )];
        if self.campaign.rule.none_lagging {
            parts.push(self.tr.t("plan.rule.none_lagging").to_string());
        }
        if self.campaign.rule.scheme_done {
            parts.push(self.tr.t("plan.rule.scheme_done").to_string());
        }
        parts.join(self.tr.t("plan.rule.and"))
    }
}

/// `GET /orgs/{code}/advancement/{year}`: every township under the node (or the node itself).
pub(super) async fn page(
    State(state): State<AppState>,
    Auth(me): Auth,
    tr: Tr,
    uri: OriginalUri,
    CodeParam(code): CodeParam,
    YearParam(year): YearParam,
) -> Result<Response, AppError> {
    let (org, campaign) = campaign_of(&state, &me, &code).await?;
    if !(campaign.first_year..=campaign.last_year).contains(&year) {
        return Err(AppError::NotFound);
    }
    let townships = state.db.township_standings(&campaign, &org, year).await?;
    html(&AdvancementPage {
        tr,
        f: Frame::new(&state, &me, tr, &here(&uri), "targets").await?,
        advanced: townships.iter().filter(|t| t.advanced).count(),
        models: townships.iter().filter(|t| t.model.is_some()).count(),
        years: (campaign.first_year..=campaign.last_year).collect(),
        org,
        campaign,
        year,
        townships,
    })
}

#[derive(Deserialize, Default)]
pub(super) struct ModelForm {
    #[serde(default)]
    reason: String,
}

/// `POST /orgs/{code}/advancement/{year}/model`: names the township `code` a model township of
/// the year, with a reason. Only an advanced township; nothing is written on refusal.
pub(super) async fn designate(
    State(state): State<AppState>,
    Auth(me): Auth,
    CodeParam(code): CodeParam,
    YearParam(year): YearParam,
    Form(form): Form<ModelForm>,
) -> Result<Response, AppError> {
    let (org, campaign) = campaign_of(&state, &me, &code).await?;
    state
        .db
        .designate_model_township(
            &me.actor,
            &campaign,
            year,
            &org.code,
            &form.reason,
            state.clock.now_ms(),
        )
        .await?;
    let parent = org
        .parent_code
        .clone()
        .unwrap_or_else(|| org.code.as_str().to_string());
    Ok(Redirect::to(&format!("/orgs/{parent}/advancement/{year}#t-{}", org.code)).into_response())
}
