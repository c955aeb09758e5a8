//! What the offices set up for the ledger: a township's survey (排摸) with the leader who guides
//! each village, villages marked surveyed, the leaders of a node and the areas they guide
//! (联系指导), and leaders' pledges (公开承诺). Every refusal writes nothing; the store checks
//! scope and input again.

use baiqian_store::ledger::{Leader, NewSurvey, SurveyVillage};

use super::*;

#[derive(Template)]
#[template(path = "ledger/survey.html")]
struct SurveyPage {
    tr: Tr,
    f: Frame,
    s: Survey,
    villages: Vec<SurveyVillage>,
    today: String,
}

/// A survey's villages: done or to do, each with its guide and the problems it found.
pub(super) async fn survey(
    State(state): State<AppState>,
    Auth(me): Auth,
    tr: Tr,
    uri: OriginalUri,
    Path(id): Path<i64>,
) -> Result<Response, AppError> {
    let s = state.db.survey(me.scope(), id).await?;
    let township = OrgCode::parse(&s.township_code).map_err(|e| AppError::Invalid(e.msg()))?;
    let node = state.db.org(me.scope(), &township).await?;
    html(&SurveyPage {
        tr,
        f: Frame::new(&state, &me, tr, &here(&uri), "problems").await?,
        villages: state.db.survey_villages(&node, id).await?,
        today: today(&state),
        s,
    })
}

/// Starts a township's survey. The form names the title, the standards surveyed against, the
/// start, and per village `village` (repeated) with its guide in `guide_{code}`.
pub(super) async fn create_survey(
    State(state): State<AppState>,
    Auth(me): Auth,
    CodeParam(code): CodeParam,
    Form(fields): Form<Vec<(String, String)>>,
) -> Result<Response, AppError> {
    let field = |name: &str| {
        fields
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
            .unwrap_or_default()
    };
    let mut villages = Vec::new();
    for (k, v) in &fields {
        if k == "village" {
            let guide = match field(&format!("guide_{v}")).trim() {
                "" => None,
                g => Some(g.parse::<i64>().map_err(|_| {
                    AppError::Invalid(baiqian_domain::Msg::new("visit.error.leader").arg("id", g))
                })?),
            };
            villages.push((v.clone(), guide, None));
        }
    }
    if villages.is_empty() {
        return Err(AppError::Invalid(baiqian_domain::Msg::new(
            "survey.error.no_villages",
        )));
    }
    let id = state
        .db
        .create_survey(
            &me.actor,
            &NewSurvey {
                township: code.as_str().to_string(),
                title: field("title"),
                basis: field("basis"),
                started_on: field("started_on"),
                villages,
            },
            state.clock.now_ms(),
        )
        .await?;
    Ok(Redirect::to(&format!("/surveys/{id}")).into_response())
}

#[derive(Deserialize, Default)]
pub(super) struct DoneForm {
    #[serde(default)]
    village: String,
    #[serde(default)]
    done_on: String,
}

/// Marks one of a survey's villages surveyed (on the day given, or today).
pub(super) async fn finish_village(
    State(state): State<AppState>,
    Auth(me): Auth,
    Path(id): Path<i64>,
    Form(form): Form<DoneForm>,
) -> Result<Response, AppError> {
    let village = OrgCode::parse(form.village.trim()).map_err(|e| AppError::Invalid(e.msg()))?;
    let on = if form.done_on.trim().is_empty() {
        today(&state)
    } else {
        form.done_on
    };
    state
        .db
        .finish_survey_village(&me.actor, id, &village, &on, state.clock.now_ms())
        .await?;
    Ok(Redirect::to(&format!("/surveys/{id}")).into_response())
}

#[derive(Template)]
#[template(path = "ledger/leaders.html")]
struct LeadersPage {
    tr: Tr,
    f: Frame,
    org: Node,
    leaders: Vec<Leader>,
    /// Whether the reader may name leaders and assign their areas here.
    may_name: bool,
    /// The townships and villages right under the node (its villages, for a township), which a
    /// leader of it may be assigned to guide.
    areas: Vec<Node>,
    today: String,
}

/// The leaders serving at a node and below it, with the areas they guide.
pub(super) async fn leaders(
    State(state): State<AppState>,
    Auth(me): Auth,
    tr: Tr,
    uri: OriginalUri,
    CodeParam(code): CodeParam,
) -> Result<Response, AppError> {
    let org = state.db.org(me.scope(), &code).await?;
    let may_name = me.role().may(Capability::ManageLeaders);
    let areas = if may_name {
        state
            .db
            .org_children(me.scope(), &code, false)
            .await?
            .into_iter()
            .filter(|c| matches!(c.level, Level::Township | Level::Village))
            .collect()
    } else {
        Vec::new()
    };
    html(&LeadersPage {
        tr,
        f: Frame::new(&state, &me, tr, &here(&uri), "visits").await?,
        leaders: state.db.leaders_under(&org).await?,
        may_name,
        areas,
        today: today(&state),
        org,
    })
}

#[derive(Deserialize, Default)]
pub(super) struct LeaderForm {
    #[serde(default)]
    name: String,
    #[serde(default)]
    title: String,
    #[serde(default)]
    login: String,
}

/// Names a leader serving at the node.
pub(super) async fn create_leader(
    State(state): State<AppState>,
    Auth(me): Auth,
    CodeParam(code): CodeParam,
    Form(form): Form<LeaderForm>,
) -> Result<Response, AppError> {
    state
        .db
        .create_leader(
            &me.actor,
            &code,
            &form.name,
            &form.title,
            &form.login,
            state.clock.now_ms(),
        )
        .await?;
    Ok(Redirect::to(&format!("/orgs/{code}/leaders")).into_response())
}

#[derive(Deserialize, Default)]
pub(super) struct AreaForm {
    #[serde(default)]
    area: String,
    #[serde(default)]
    since: String,
    /// The page to go back to.
    #[serde(default)]
    back: String,
}

/// Assigns a township or village to a leader to guide.
pub(super) async fn assign_area(
    State(state): State<AppState>,
    Auth(me): Auth,
    Path(id): Path<i64>,
    Form(form): Form<AreaForm>,
) -> Result<Response, AppError> {
    let area = OrgCode::parse(form.area.trim()).map_err(|e| AppError::Invalid(e.msg()))?;
    state
        .db
        .assign_leader_area(&me.actor, id, &area, &form.since, state.clock.now_ms())
        .await?;
    // Back to the leaders page the form came from, never elsewhere.
    let back = OrgCode::parse(form.back.trim())
        .map(|c| format!("/orgs/{c}/leaders"))
        .unwrap_or_else(|_| "/pledges".into());
    Ok(Redirect::to(&back).into_response())
}

#[derive(Deserialize, Default)]
pub(super) struct PledgeForm {
    #[serde(default)]
    leader: String,
    #[serde(default)]
    scope: String,
    #[serde(default)]
    place_level: String,
    #[serde(default)]
    title: String,
    #[serde(default)]
    since: String,
    #[serde(default)]
    due: String,
}

/// Makes a leader's pledge to visit every township or village under a node.
pub(super) async fn create_pledge(
    State(state): State<AppState>,
    Auth(me): Auth,
    Form(form): Form<PledgeForm>,
) -> Result<Response, AppError> {
    let leader = form.leader.trim().parse::<i64>().map_err(|_| {
        AppError::Invalid(
            baiqian_domain::Msg::new("visit.error.leader").arg("id", form.leader.trim()),
        )
    })?;
    let scope = OrgCode::parse(form.scope.trim()).map_err(|e| AppError::Invalid(e.msg()))?;
    let id = state
        .db
        .create_pledge(
            &me.actor,
            leader,
            &scope,
            &form.place_level,
            &form.title,
            &form.since,
            &form.due,
            state.clock.now_ms(),
        )
        .await?;
    Ok(Redirect::to(&format!("/pledges/{id}")).into_response())
}
