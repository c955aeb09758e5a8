//! The rating round in the browser and the API: boards at every level, a village's
//! self-assessment with evidence, review, approval, publication, send-back, thresholds and
//! re-rating, class decisions, star history, and the pioneer criteria's data.

pub mod standard;

use std::collections::HashMap;
use std::path::PathBuf;

use askama::Template;
use axum::Form;
use axum::Json;
use axum::extract::{Multipart, OriginalUri, Path, Query, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use baiqian_domain::Msg;
use baiqian_domain::capability::Capability;
use baiqian_domain::org::{Level, OrgCode};
use baiqian_domain::rating::{
    LaggingRule, PioneerCriterion, PioneerFacts, PromotionLevel, Stage, Thresholds, VillageClass,
};
use baiqian_domain::role::Role;
use baiqian_store::StoreError;
use baiqian_store::kernel::Node;
use baiqian_store::rating::standard::StandardSet;
use baiqian_store::rating::{
    Assessment, AssessmentFilter, FactsRow, ItemInput, Moves, NewRound, Round, ScoredItem,
    StarYear, Step, StepAction, Tally, VillageFacts, china_date,
};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::auth::{Auth, CurrentUser};
use crate::error::{AppError, html};
use crate::excel::{self, Cell};
use crate::extract::{CodeParam, YearParam};
use crate::form::{ReportRow, report_rows_with};
use crate::frame::Frame;
use crate::i18n::{Lang, Tr};
use crate::routes::Routes;
use crate::state::AppState;

pub fn routes() -> Routes {
    Routes::new()
        .get("/ratings", Capability::ReadRatings, ratings_home)
        .get(
            "/orgs/{code}/ratings",
            Capability::ReadRatings,
            ratings_latest,
        )
        .get(
            "/orgs/{code}/ratings/{year}",
            Capability::ReadRatings,
            ratings_page,
        )
        .get(
            "/orgs/{code}/ratings/{year}/villages",
            Capability::ReadRatings,
            villages_page,
        )
        .post(
            "/orgs/{code}/ratings/{year}/open",
            Capability::Publish,
            open_round,
        )
        .post(
            "/orgs/{code}/ratings/{year}/rules",
            Capability::Publish,
            set_rules,
        )
        .post(
            "/orgs/{code}/ratings/{year}/publish",
            Capability::Publish,
            publish,
        )
        .post(
            "/orgs/{code}/ratings/{year}/standard",
            Capability::Approve,
            assign_set,
        )
        .post("/assessments/{id}/scores", Capability::Assess, save_scores)
        .post("/assessments/{id}/step", Capability::Assess, step)
        .post("/assessments/{id}/class", Capability::Approve, decide_class)
        .post(
            "/assessments/{id}/evidence",
            Capability::Assess,
            upload_evidence,
        )
        .get("/evidence/{id}", Capability::ReadRatings, evidence_file)
        .get(
            "/orgs/{code}/village-facts/{year}",
            Capability::ReadRatings,
            facts_page,
        )
        .post(
            "/orgs/{code}/village-facts/{year}",
            Capability::ImportVillageFacts,
            facts_import,
        )
        .get(
            "/api/v1/orgs/{code}/ratings/{year}",
            Capability::ReadRatings,
            api_ratings,
        )
        .merge(standard::routes())
}

/// Largest evidence file: 8 MiB (a phone photo or a scanned page).
pub const MAX_EVIDENCE_BYTES: usize = 8 * 1024 * 1024;

/// A figure, or a dash where there is none.
fn dash(v: &Option<i64>) -> String {
    v.map(|v| v.to_string()).unwrap_or_else(|| "—".into())
}

fn here(uri: &OriginalUri) -> String {
    uri.0
        .path_and_query()
        .map(|p| p.as_str().to_string())
        .unwrap_or_default()
}

fn today(state: &AppState) -> String {
    china_date(state.clock.now_ms())
}

fn current_year(state: &AppState) -> i64 {
    today(state)
        .get(..4)
        .and_then(|y| y.parse().ok())
        .unwrap_or(2016)
}

/// The ratings of the reader's own node, in the newest year with a round.
async fn ratings_home(State(state): State<AppState>, Auth(me): Auth) -> Result<Redirect, AppError> {
    let own = state
        .db
        .org(
            me.scope(),
            &me.actor.scope.root.clone().ok_or(AppError::NotFound)?,
        )
        .await?;
    let year = state
        .db
        .round_years(&own)
        .await?
        .first()
        .copied()
        .unwrap_or_else(|| current_year(&state));
    Ok(Redirect::to(&format!("/orgs/{}/ratings/{year}", own.code)))
}

/// A node's ratings in the newest year with a round (this year when none).
async fn ratings_latest(
    State(state): State<AppState>,
    Auth(me): Auth,
    CodeParam(code): CodeParam,
) -> Result<Redirect, AppError> {
    let org = state.db.org(me.scope(), &code).await?;
    let year = state
        .db
        .round_years(&org)
        .await?
        .first()
        .copied()
        .unwrap_or_else(|| current_year(&state));
    Ok(Redirect::to(&format!("/orgs/{}/ratings/{year}", org.code)))
}

#[derive(Template)]
#[template(path = "rating/board.html")]
struct BoardPage {
    tr: Tr,
    f: Frame,
    org: Node,
    year: i64,
    years: Vec<i64>,
    round: Option<Round>,
    own: Tally,
    children: Vec<(Node, Tally)>,
    /// City admin at the round's (or a new round's) node.
    is_round_owner: bool,
    can_assign: bool,
    sets: Vec<StandardSet>,
    moves: Option<Moves>,
    error: Option<String>,
}

impl BoardPage {
    fn stage_name(&self, i: &usize) -> String {
        Stage::ALL
            .get(*i)
            .map(|s| {
                self.tr
                    .t(&format!("rating.stage.{}", s.as_str()))
                    .to_string()
            })
            .unwrap_or_default()
    }
    fn stage_key(&self, i: &usize) -> &'static str {
        Stage::ALL.get(*i).map(|s| s.as_str()).unwrap_or("")
    }
    fn class_key(&self, i: &usize) -> &'static str {
        VillageClass::ALL.get(*i).map(|s| s.as_str()).unwrap_or("")
    }
    fn class_name(&self, key: &str) -> String {
        self.tr.t(&format!("rating.class.{key}")).to_string()
    }
    fn class_opt(&self, c: &Option<VillageClass>) -> String {
        c.map(|c| self.class_name(c.as_str()))
            .unwrap_or_else(|| "—".into())
    }
    fn opt(&self, v: &Option<i64>) -> String {
        dash(v)
    }
}

#[derive(Template)]
#[template(path = "rating/village.html")]
struct VillagePage {
    tr: Tr,
    f: Frame,
    org: Node,
    year: i64,
    years: Vec<i64>,
    round: Round,
    a: Assessment,
    groups: Vec<(String, Vec<ScoredItem>)>,
    steps: Vec<Step>,
    history: Vec<StarYear>,
    pioneer: Vec<(PioneerCriterion, bool)>,
    facts: PioneerFacts,
    gaps: Vec<String>,
    /// The village fills its scores (draft, village secretary).
    can_self: bool,
    /// The township changes scores (submitted, township admin).
    can_review: bool,
    can_forward: bool,
    can_back: bool,
    can_decide: bool,
    next_actor: String,
    next_due: String,
    error: Option<String>,
    typed: HashMap<i64, Typed>,
}

/// What a reader typed for an item, kept when a save fails.
#[derive(Debug, Clone, Default)]
struct Typed {
    score: String,
    vetoed: bool,
    text: String,
}

impl VillagePage {
    fn stage_name(&self, s: &Stage) -> String {
        self.tr
            .t(&format!("rating.stage.{}", s.as_str()))
            .to_string()
    }
    fn stage_text(&self, s: &str) -> String {
        self.tr.t(&format!("rating.stage.{s}")).to_string()
    }
    fn action_name(&self, s: &str) -> String {
        self.tr.t(&format!("rating.action.{s}")).to_string()
    }
    fn class_name(&self, c: &VillageClass) -> String {
        self.tr
            .t(&format!("rating.class.{}", c.as_str()))
            .to_string()
    }
    fn goal(&self, c: &VillageClass) -> String {
        self.tr
            .t(&format!("rating.goal.{}", c.as_str()))
            .to_string()
    }
    fn forward_label(&self) -> String {
        self.tr
            .t(&format!("rating.forward.{}", self.a.stage.as_str()))
            .to_string()
    }
    fn criterion(&self, c: &PioneerCriterion) -> String {
        self.tr
            .t(&format!("rating.pioneer.{}", c.as_str()))
            .to_string()
    }
    fn is_done(&self, s: &Stage) -> bool {
        *s < self.a.stage
    }
    fn is_current(&self, s: &Stage) -> bool {
        *s == self.a.stage
    }
    fn opt(&self, v: &Option<i64>) -> String {
        dash(v)
    }
    fn time(&self, ms: &i64) -> String {
        self.tr.datetime(*ms)
    }
    fn role_name(&self, r: &str) -> String {
        self.tr.role(r)
    }
    fn typed_score(&self, it: &ScoredItem) -> String {
        match self.typed.get(&it.item.id) {
            Some(t) => t.score.clone(),
            None if self.can_review => it.score.map(|s| s.to_string()).unwrap_or_default(),
            None => it.self_score.map(|s| s.to_string()).unwrap_or_default(),
        }
    }
    fn typed_veto(&self, it: &ScoredItem) -> bool {
        match self.typed.get(&it.item.id) {
            Some(t) => t.vetoed,
            None if self.can_review => it.vetoed,
            None => it.self_vetoed,
        }
    }
    fn typed_text(&self, it: &ScoredItem) -> String {
        match self.typed.get(&it.item.id) {
            Some(t) => t.text.clone(),
            None if self.can_review => it.review_reason.clone().unwrap_or_default(),
            None => it.note.clone(),
        }
    }
    fn yuan(&self, fen: &i64) -> String {
        format!("¥{}", baiqian_domain::rating::yuan_text(*fen))
    }
    fn kib(&self, n: &i64) -> String {
        format!("{:.1} KiB", *n as f64 / 1024.0)
    }
}

#[derive(Deserialize)]
struct BoardQuery {
    #[serde(default)]
    stage: String,
    #[serde(default)]
    stars: String,
    #[serde(default)]
    class: String,
    #[serde(default)]
    late: String,
}

async fn board_page(
    state: &AppState,
    me: &CurrentUser,
    tr: Tr,
    here: &str,
    org: Node,
    year: i64,
    (moves, error): (Option<Moves>, Option<String>),
) -> Result<BoardPage, AppError> {
    let round = state.db.round_for(&org, year).await?;
    let today = today(state);
    let (own, children) = match &round {
        Some(r) => {
            let areas: Vec<Node> = state
                .db
                .org_children(me.scope(), &org.code, false)
                .await?
                .into_iter()
                .filter(|c| c.level.is_area())
                .collect();
            let figures = state
                .db
                .rating_child_tallies(r, &org, &areas, &today)
                .await?;
            let children: Vec<(Node, Tally)> = areas.into_iter().zip(figures).collect();
            // Every village lies under an area child, so the node's own figures are their sum
            // (one pass over the subtree, not two).
            let own = if children.is_empty() {
                state.db.rating_tally(r, &org, &today).await?
            } else {
                Tally::sum(children.iter().map(|(_, t)| t))
            };
            (own, children)
        }
        None => (Tally::default(), Vec::new()),
    };
    let is_round_owner = me.role() == Role::CityAdmin && me.scope().is_root_path(&org.path);
    let can_assign = me.role() == Role::CountyAdmin
        && me.scope().is_root_path(&org.path)
        && round.as_ref().is_some_and(|r| r.published_at.is_none());
    let sets = if is_round_owner || can_assign {
        state.db.standard_sets(me.scope()).await?
    } else {
        Vec::new()
    };
    Ok(BoardPage {
        tr,
        f: Frame::new(state, me, tr, here, "ratings").await?,
        years: state.db.round_years(&org).await?,
        org,
        year,
        round,
        own,
        children,
        is_round_owner,
        can_assign,
        sets,
        moves,
        error,
    })
}

async fn village_page(
    state: &AppState,
    me: &CurrentUser,
    tr: Tr,
    here: &str,
    org: Node,
    year: i64,
    (error, typed): (Option<String>, HashMap<i64, Typed>),
) -> Result<Option<VillagePage>, AppError> {
    let Some(round) = state.db.round_for(&org, year).await? else {
        return Ok(None);
    };
    let Some((a, items, steps)) = state.db.assessment_of(me.scope(), &org, year).await? else {
        return Ok(None);
    };
    let mut groups: Vec<(String, Vec<ScoredItem>)> = Vec::new();
    for it in items {
        match groups.last_mut() {
            Some((g, v)) if *g == it.item.group_name => v.push(it),
            _ => groups.push((it.item.group_name.clone(), vec![it])),
        }
    }
    let mut facts = state.db.pioneer_facts(&org, year).await?;
    facts.stars = a.stars.unwrap_or(0);
    let pioneer = facts.check();
    let open = round.published_at.is_none();
    let my_turn = open && a.stage.actor() == Some(me.role());
    let gaps = gaps_of(tr, &a, &facts, round.lagging);
    Ok(Some(VillagePage {
        tr,
        f: Frame::new(state, me, tr, here, "ratings").await?,
        years: state.db.round_years(&org).await?,
        history: state.db.star_history(me.scope(), &org).await?,
        can_self: my_turn && a.stage == Stage::Draft,
        can_review: my_turn && a.stage == Stage::Submitted,
        can_forward: my_turn && a.stage < Stage::Approved,
        can_back: my_turn && a.stage.back().is_some(),
        can_decide: open && matches!(me.role(), Role::CountyAdmin | Role::CityAdmin),
        next_actor: a
            .stage
            .actor()
            .map(|r| tr.role(r.as_str()))
            .unwrap_or_default(),
        next_due: round.due_of(a.stage).unwrap_or_default().to_string(),
        org,
        year,
        round,
        a,
        groups,
        steps,
        pioneer,
        facts,
        gaps,
        error,
        typed,
    }))
}

/// What keeps a village from the next class: for lagging, the rule it meets; for advancing,
/// each failing pioneer criterion.
fn gaps_of(tr: Tr, a: &Assessment, facts: &PioneerFacts, rule: LaggingRule) -> Vec<String> {
    let Some(stars) = a.stars else {
        return Vec::new();
    };
    match a.effective_class() {
        Some(VillageClass::Lagging) => {
            let mut g = Vec::new();
            if stars <= rule.max_stars {
                g.push(tr.f(
                    "rating.gap.stars",
                    &[("n", &(rule.max_stars + 1).to_string())],
                ));
            }
            if rule.on_veto && a.veto_failed {
                g.push(tr.t("rating.gap.veto").to_string());
            }
            g
        }
        Some(VillageClass::Advancing) => facts
            .failing()
            .into_iter()
            .map(|c| {
                format!(
                    "{}{}",
                    tr.t("rating.gap.pioneer"),
                    tr.t(&format!("rating.pioneer.{}", c.as_str()))
                )
            })
            .collect(),
        _ => Vec::new(),
    }
}

async fn ratings_page(
    State(state): State<AppState>,
    Auth(me): Auth,
    tr: Tr,
    uri: OriginalUri,
    CodeParam(code): CodeParam,
    YearParam(year): YearParam,
) -> Result<Response, AppError> {
    let (org, year) = node_year(&state, &me, &code, year).await?;
    if org.level == Level::Village
        && let Some(page) = village_page(
            &state,
            &me,
            tr,
            &here(&uri),
            org.clone(),
            year,
            (None, HashMap::new()),
        )
        .await?
    {
        return html(&page);
    }
    html(&board_page(&state, &me, tr, &here(&uri), org, year, (None, None)).await?)
}

#[derive(Template)]
#[template(path = "rating/villages.html")]
struct VillagesPage {
    tr: Tr,
    f: Frame,
    org: Node,
    year: i64,
    rows: Vec<Assessment>,
    filter_text: String,
}

impl VillagesPage {
    fn stage_name(&self, s: &Stage) -> String {
        self.tr
            .t(&format!("rating.stage.{}", s.as_str()))
            .to_string()
    }
    fn class_opt(&self, c: Option<VillageClass>) -> String {
        c.map(|c| {
            self.tr
                .t(&format!("rating.class.{}", c.as_str()))
                .to_string()
        })
        .unwrap_or_else(|| "—".into())
    }
    fn opt(&self, v: &Option<i64>) -> String {
        dash(v)
    }
}

/// The villages behind a board figure.
async fn villages_page(
    State(state): State<AppState>,
    Auth(me): Auth,
    tr: Tr,
    uri: OriginalUri,
    CodeParam(code): CodeParam,
    YearParam(year): YearParam,
    Query(q): Query<BoardQuery>,
) -> Result<Response, AppError> {
    let (org, year) = node_year(&state, &me, &code, year).await?;
    let round = state
        .db
        .round_for(&org, year)
        .await?
        .ok_or(AppError::NotFound)?;
    let filter = AssessmentFilter {
        stage: Stage::parse(&q.stage),
        stars: q.stars.parse().ok().filter(|s| (1..=5).contains(s)),
        class: VillageClass::parse(&q.class),
        late: q.late == "1",
    };
    let mut parts = Vec::new();
    if let Some(s) = filter.stage {
        parts.push(tr.t(&format!("rating.stage.{}", s.as_str())).to_string());
    }
    if let Some(s) = filter.stars {
        parts.push(tr.f("rating.n_stars", &[("n", &s.to_string())]));
    }
    if let Some(c) = filter.class {
        parts.push(tr.t(&format!("rating.class.{}", c.as_str())).to_string());
    }
    if filter.late {
        parts.push(tr.t("rating.late").to_string());
    }
    let rows = state
        .db
        .assessments_under(&round, &org, &filter, &today(&state), 5000)
        .await?;
    html(&VillagesPage {
        tr,
        f: Frame::new(&state, &me, tr, &here(&uri), "ratings").await?,
        org,
        year,
        rows,
        filter_text: parts.join(" · "),
    })
}

/// The board again with the reason a round-level form was refused (422), what was typed kept.
async fn refused_on_board(
    state: &AppState,
    me: &CurrentUser,
    tr: Tr,
    here: &str,
    org: Node,
    year: i64,
    why: &Msg,
) -> Result<Response, AppError> {
    let page = board_page(state, me, tr, here, org, year, (None, Some(tr.msg(why)))).await?;
    let mut res = html(&page)?;
    *res.status_mut() = StatusCode::UNPROCESSABLE_ENTITY;
    Ok(res)
}

/// The node (in the reader's scope) and the year of a `/orgs/{code}/…/{year}` route.
async fn node_year(
    state: &AppState,
    me: &CurrentUser,
    code: &OrgCode,
    year: i64,
) -> Result<(Node, i64), AppError> {
    Ok((state.db.org(me.scope(), code).await?, year))
}

/// The node and year of a round-level action: the city admin at their own node only.
async fn round_owner(
    state: &AppState,
    me: &CurrentUser,
    code: &OrgCode,
    year: i64,
) -> Result<(Node, i64), AppError> {
    let (org, year) = node_year(state, me, code, year).await?;
    if me.role() != Role::CityAdmin || !me.scope().is_root_path(&org.path) {
        return Err(AppError::Denied(Msg::new("error.denied")));
    }
    Ok((org, year))
}

#[derive(Deserialize)]
struct OpenForm {
    set_id: String,
    self_due: String,
    review_due: String,
    approve_due: String,
}

async fn open_round(
    State(state): State<AppState>,
    Auth(me): Auth,
    tr: Tr,
    uri: OriginalUri,
    CodeParam(code): CodeParam,
    YearParam(year): YearParam,
    Form(form): Form<OpenForm>,
) -> Result<Response, AppError> {
    let (org, year) = round_owner(&state, &me, &code, year).await?;
    let new = NewRound {
        year,
        set_id: form.set_id.trim().parse().unwrap_or(0),
        self_due: form.self_due.trim().into(),
        review_due: form.review_due.trim().into(),
        approve_due: form.approve_due.trim().into(),
    };
    match state
        .db
        .open_round(&me.actor, new, state.clock.now_ms())
        .await
    {
        Ok(_) => Ok(Redirect::to(&format!("/orgs/{}/ratings/{year}", org.code)).into_response()),
        Err(StoreError::Invalid(m)) => {
            refused_on_board(&state, &me, tr, &here(&uri), org, year, &m).await
        }
        Err(e) => Err(e.into()),
    }
}

#[derive(Deserialize)]
struct RulesForm {
    t2: String,
    t3: String,
    t4: String,
    t5: String,
    veto_cap: String,
    lagging_max: String,
    #[serde(default)]
    lagging_on_veto: String,
}

fn int(s: &str, what: &'static str) -> Result<i64, Msg> {
    s.trim()
        .parse()
        .map_err(|_| Msg::new("rating.error.number").arg("field", what))
}

async fn set_rules(
    State(state): State<AppState>,
    Auth(me): Auth,
    tr: Tr,
    uri: OriginalUri,
    CodeParam(code): CodeParam,
    YearParam(year): YearParam,
    Form(form): Form<RulesForm>,
) -> Result<Response, AppError> {
    let (org, year) = round_owner(&state, &me, &code, year).await?;
    let parsed = (|| {
        let t = Thresholds::new(
            [
                0,
                int(&form.t2, "t2")?,
                int(&form.t3, "t3")?,
                int(&form.t4, "t4")?,
                int(&form.t5, "t5")?,
            ],
            int(&form.veto_cap, "veto_cap")?,
        )?;
        let l = LaggingRule {
            max_stars: int(&form.lagging_max, "lagging_max")?,
            on_veto: form.lagging_on_veto == "1",
        };
        Ok::<_, Msg>((t, l))
    })();
    let result = match parsed {
        Ok((t, l)) => state
            .db
            .set_rules(&me.actor, year, t, l, state.clock.now_ms())
            .await
            .map_err(|e| match e {
                StoreError::Invalid(m) => Ok(m),
                e => Err(e),
            }),
        Err(m) => Err(Ok(m)),
    };
    match result {
        Ok(moves) => {
            html(&board_page(&state, &me, tr, &here(&uri), org, year, (Some(moves), None)).await?)
        }
        Err(Ok(m)) => refused_on_board(&state, &me, tr, &here(&uri), org, year, &m).await,
        Err(Err(e)) => Err(e.into()),
    }
}

async fn publish(
    State(state): State<AppState>,
    Auth(me): Auth,
    CodeParam(code): CodeParam,
    YearParam(year): YearParam,
) -> Result<Response, AppError> {
    let (org, year) = round_owner(&state, &me, &code, year).await?;
    state
        .db
        .publish_round(&me.actor, year, state.clock.now_ms())
        .await?;
    Ok(Redirect::to(&format!("/orgs/{}/ratings/{year}", org.code)).into_response())
}

#[derive(Deserialize)]
struct AssignForm {
    set_id: String,
}

async fn assign_set(
    State(state): State<AppState>,
    Auth(me): Auth,
    CodeParam(code): CodeParam,
    YearParam(year): YearParam,
    Form(form): Form<AssignForm>,
) -> Result<Response, AppError> {
    let (org, year) = node_year(&state, &me, &code, year).await?;
    if me.role() != Role::CountyAdmin || !me.scope().is_root_path(&org.path) {
        return Err(AppError::Denied(Msg::new("error.denied")));
    }
    let set_id = form
        .set_id
        .trim()
        .parse()
        .map_err(|_| AppError::Invalid(Msg::new("rating.error.set")))?;
    state
        .db
        .assign_standard_set(&me.actor, year, set_id, state.clock.now_ms())
        .await?;
    Ok(Redirect::to(&format!("/orgs/{code}/ratings/{year}")).into_response())
}

fn back_to(a: &Assessment) -> Response {
    Redirect::to(&format!("/orgs/{}/ratings/{}", a.org_code, a.year)).into_response()
}

/// Parses the score form: `score_{item}`, `veto_{item}`, `text_{item}`.
fn score_inputs(fields: &[(String, String)]) -> (Vec<(i64, Typed)>, HashMap<i64, Typed>) {
    let mut typed: HashMap<i64, Typed> = HashMap::new();
    let mut order = Vec::new();
    for (k, v) in fields {
        let Some((kind, id)) = k.split_once('_') else {
            continue;
        };
        let Ok(id) = id.parse::<i64>() else {
            continue;
        };
        let t = typed.entry(id).or_insert_with(|| {
            order.push(id);
            Typed::default()
        });
        match kind {
            "score" => t.score = v.clone(),
            "veto" => t.vetoed = v == "1",
            "text" => t.text = v.clone(),
            _ => {}
        }
    }
    let list = order
        .iter()
        .filter_map(|id| typed.get(id).map(|t| (*id, t.clone())))
        .collect();
    (list, typed)
}

async fn save_scores(
    State(state): State<AppState>,
    Auth(me): Auth,
    tr: Tr,
    uri: OriginalUri,
    Path(id): Path<i64>,
    Form(fields): Form<Vec<(String, String)>>,
) -> Result<Response, AppError> {
    let (list, typed) = score_inputs(&fields);
    let (current, items, _) = assessment_by_id(&state, &me, id).await?;
    let mut inputs = Vec::new();
    let mut error = None;
    for (item_id, t) in &list {
        let Some(it) = items.iter().find(|i| i.item.id == *item_id) else {
            return Err(AppError::NotFound);
        };
        if t.score.trim().is_empty() {
            // Left blank: not scored yet (a draft may be saved part-filled).
            continue;
        }
        match baiqian_domain::rating::parse_score(&t.score, it.item.full_score) {
            Ok(score) => inputs.push(ItemInput {
                item_id: *item_id,
                score,
                vetoed: t.vetoed,
                text: t.text.clone(),
            }),
            Err(m) => {
                error.get_or_insert_with(|| format!("{} {}", it.item.code, tr.msg(&m)));
            }
        }
    }
    let error = match error {
        Some(e) => e,
        None => match state
            .db
            .save_scores(&me.actor, id, &inputs, state.clock.now_ms())
            .await
        {
            Ok(a) => return Ok(back_to(&a)),
            Err(StoreError::Invalid(m)) => tr.msg(&m),
            Err(e) => return Err(e.into()),
        },
    };
    let org = state
        .db
        .org(
            me.scope(),
            &OrgCode::parse(&current.org_code).map_err(|_| AppError::NotFound)?,
        )
        .await?;
    let page = village_page(
        &state,
        &me,
        tr,
        &here(&uri),
        org,
        current.year,
        (Some(error), typed),
    )
    .await?
    .ok_or(AppError::NotFound)?;
    let mut res = html(&page)?;
    *res.status_mut() = StatusCode::UNPROCESSABLE_ENTITY;
    Ok(res)
}

async fn assessment_by_id(
    state: &AppState,
    me: &CurrentUser,
    id: i64,
) -> Result<(Assessment, Vec<ScoredItem>, Vec<Step>), AppError> {
    let a = state.db.assessment_by_id(me.scope(), id).await?;
    let village = state
        .db
        .org(
            me.scope(),
            &OrgCode::parse(&a.org_code).map_err(|_| AppError::NotFound)?,
        )
        .await?;
    state
        .db
        .assessment_of(me.scope(), &village, a.year)
        .await?
        .ok_or(AppError::NotFound)
}

#[derive(Deserialize)]
struct StepForm {
    action: String,
    #[serde(default)]
    reason: String,
}

async fn step(
    State(state): State<AppState>,
    Auth(me): Auth,
    Path(id): Path<i64>,
    Form(form): Form<StepForm>,
) -> Result<Response, AppError> {
    let action = match form.action.as_str() {
        "forward" => StepAction::Forward,
        "back" => StepAction::Back {
            reason: form.reason,
        },
        _ => return Err(AppError::Invalid(Msg::new("rating.error.action"))),
    };
    let a = state
        .db
        .step_assessment(&me.actor, id, action, state.clock.now_ms())
        .await?;
    Ok(back_to(&a))
}

#[derive(Deserialize)]
struct ClassForm {
    #[serde(default)]
    class: String,
    #[serde(default)]
    reason: String,
}

async fn decide_class(
    State(state): State<AppState>,
    Auth(me): Auth,
    Path(id): Path<i64>,
    Form(form): Form<ClassForm>,
) -> Result<Response, AppError> {
    let class = match form.class.as_str() {
        "" | "rule" => None,
        c => Some(
            VillageClass::parse(c)
                .ok_or_else(|| AppError::Invalid(Msg::new("rating.error.class")))?,
        ),
    };
    let a = state
        .db
        .decide_class(&me.actor, id, class, &form.reason, state.clock.now_ms())
        .await?;
    Ok(back_to(&a))
}

/// The kinds of evidence accepted, recognised by their content (not their name).
const EVIDENCE_TYPES: [&str; 3] = ["image/jpeg", "image/png", "application/pdf"];

/// Where evidence files live: `dir/ab/abcdef…` by SHA-256.
fn evidence_path(dir: &std::path::Path, sha: &str) -> PathBuf {
    dir.join(&sha[..2]).join(sha)
}

/// Stores bytes under their hash; an existing file with that hash is the same content.
async fn store_evidence(dir: &std::path::Path, sha: &str, bytes: &[u8]) -> Result<(), AppError> {
    let path = evidence_path(dir, sha);
    if tokio::fs::try_exists(&path).await.unwrap_or(false) {
        return Ok(());
    }
    let io = |e: std::io::Error| AppError::Internal(format!("evidence {}: {e}", path.display()));
    let parent = path
        .parent()
        .ok_or_else(|| AppError::Internal("evidence dir".into()))?;
    tokio::fs::create_dir_all(parent).await.map_err(io)?;
    let tmp = parent.join(format!("{sha}.tmp{}", std::process::id()));
    {
        use tokio::io::AsyncWriteExt;
        let mut f = tokio::fs::File::create(&tmp).await.map_err(io)?;
        f.write_all(bytes).await.map_err(io)?;
        f.sync_all().await.map_err(io)?;
    }
    tokio::fs::rename(&tmp, &path).await.map_err(io)?;
    Ok(())
}

async fn upload_evidence(
    State(state): State<AppState>,
    Auth(me): Auth,
    Path(id): Path<i64>,
    mut multipart: Multipart,
) -> Result<Response, AppError> {
    let dir = state
        .config
        .evidence_dir
        .clone()
        .ok_or_else(|| AppError::Invalid(Msg::new("rating.error.no_evidence_dir")))?;
    let broken = |_| AppError::Invalid(Msg::new("import.error.upload"));
    let (mut item_id, mut file, mut name) = (0i64, Vec::new(), String::new());
    while let Some(field) = multipart.next_field().await.map_err(broken)? {
        match field.name().unwrap_or_default() {
            "item_id" => {
                item_id = field
                    .text()
                    .await
                    .map_err(broken)?
                    .trim()
                    .parse()
                    .unwrap_or(0)
            }
            "file" => {
                name = field.file_name().unwrap_or("evidence").to_string();
                file = field.bytes().await.map_err(broken)?.to_vec();
            }
            _ => {}
        }
    }
    if file.is_empty() {
        return Err(AppError::Invalid(Msg::new("import.error.no_file")));
    }
    if file.len() > MAX_EVIDENCE_BYTES {
        return Err(AppError::Invalid(
            Msg::new("rating.error.evidence_size").arg("max", MAX_EVIDENCE_BYTES / 1024 / 1024),
        ));
    }
    let mime = infer::get(&file)
        .map(|t| t.mime_type())
        .filter(|m| EVIDENCE_TYPES.contains(m))
        .ok_or_else(|| AppError::Invalid(Msg::new("rating.error.evidence_type")))?;
    // Scope and turn are checked before any byte is written.
    let a = state.db.assessment_by_id(me.scope(), id).await?;
    if a.stage != Stage::Draft || me.role() != Role::VillageSecretary {
        return Err(AppError::Conflict(
            Msg::new("rating.error.out_of_turn").arg("stage", a.stage.as_str()),
        ));
    }
    let sha = hex::encode(Sha256::digest(&file));
    store_evidence(&dir, &sha, &file).await?;
    let a_id = a.id;
    state
        .db
        .add_evidence(
            &me.actor,
            a_id,
            item_id,
            &sha,
            mime,
            file.len() as i64,
            &name,
            state.clock.now_ms(),
        )
        .await?;
    Ok(back_to(&a))
}

/// An evidence file, to readers whose scope holds its village.
async fn evidence_file(
    State(state): State<AppState>,
    Auth(me): Auth,
    Path(id): Path<i64>,
) -> Result<Response, AppError> {
    let e = state.db.evidence(me.scope(), id).await?;
    let dir = state
        .config
        .evidence_dir
        .clone()
        .ok_or(AppError::NotFound)?;
    let bytes = tokio::fs::read(evidence_path(&dir, &e.sha256))
        .await
        .map_err(|err| AppError::Internal(format!("evidence {}: {err}", e.sha256)))?;
    let mime = HeaderValue::from_str(&e.mime).map_err(|err| AppError::Internal(err.to_string()))?;
    Ok((
        [
            (header::CONTENT_TYPE, mime),
            (
                header::X_CONTENT_TYPE_OPTIONS,
                HeaderValue::from_static("nosniff"),
            ),
            (
                header::CACHE_CONTROL,
                HeaderValue::from_static("private, max-age=3600"),
            ),
        ],
        bytes,
    )
        .into_response())
}

/// The facts sheet's columns.
pub const FACTS_COLUMNS: [(&str, &str); 7] = [
    ("code", "代码"),
    ("name", "村名"),
    ("income", "村级集体经济年经常性收入(元)"),
    ("beautiful_level", "美丽乡村创建级别"),
    ("beautiful_year", "美丽乡村创建年度"),
    ("practice", "党建特色工作"),
    ("practice_level", "推广层级"),
];

fn facts_header(field: &str) -> &'static str {
    FACTS_COLUMNS
        .iter()
        .find(|(f, _)| *f == field)
        .map(|(_, h)| *h)
        .unwrap_or("")
}

#[derive(Template)]
#[template(path = "rating/facts.html")]
struct FactsPage {
    tr: Tr,
    f: Frame,
    org: Node,
    year: i64,
    rows: Vec<VillageFacts>,
    can_import: bool,
    done: bool,
    committed: bool,
    updated: usize,
    file_error: Option<String>,
    report: Vec<ReportRow>,
}

impl FactsPage {
    fn yuan(&self, fen: &Option<i64>) -> String {
        fen.map(|f| format!("¥{}", baiqian_domain::rating::yuan_text(f)))
            .unwrap_or_else(|| "—".into())
    }
    fn level(&self, l: &PromotionLevel) -> String {
        self.tr
            .t(&format!("rating.level.{}", l.as_str()))
            .to_string()
    }
}

#[derive(Deserialize)]
struct FormatQuery {
    #[serde(default)]
    format: String,
}

fn facts_sheet(rows: &[VillageFacts]) -> Result<Vec<u8>, AppError> {
    let mut out = Vec::new();
    for v in rows {
        let base = |practice: Option<&baiqian_store::rating::FeaturedPractice>| {
            vec![
                Cell::Text(v.org_code.clone()),
                Cell::Text(v.org_name.clone()),
                Cell::Text(
                    v.income_fen
                        .map(baiqian_domain::rating::yuan_text)
                        .unwrap_or_default(),
                ),
                Cell::Text(
                    v.beautiful
                        .map(|(l, _)| l.zh().to_string())
                        .unwrap_or_default(),
                ),
                Cell::Text(v.beautiful.map(|(_, y)| y.to_string()).unwrap_or_default()),
                Cell::Text(practice.map(|p| p.title.clone()).unwrap_or_default()),
                Cell::Text(
                    practice
                        .map(|p| p.level.zh().to_string())
                        .unwrap_or_default(),
                ),
            ]
        };
        if v.practices.is_empty() {
            out.push(base(None));
        } else {
            for p in &v.practices {
                out.push(base(Some(p)));
            }
        }
    }
    excel::write_sheet("先锋示范村数据", &FACTS_COLUMNS, &out)
}

async fn facts_page(
    State(state): State<AppState>,
    Auth(me): Auth,
    tr: Tr,
    uri: OriginalUri,
    CodeParam(code): CodeParam,
    YearParam(year): YearParam,
    Query(q): Query<FormatQuery>,
) -> Result<Response, AppError> {
    let (org, year) = node_year(&state, &me, &code, year).await?;
    let rows = state.db.village_facts(&org, year).await?;
    if q.format == "xlsx" {
        return excel::xlsx_response(
            facts_sheet(&rows)?,
            &format!("village-facts-{}-{year}.xlsx", org.code),
        );
    }
    html(&FactsPage {
        tr,
        f: Frame::new(&state, &me, tr, &here(&uri), "ratings").await?,
        org,
        year,
        rows,
        can_import: me.role().is_admin(),
        done: false,
        committed: false,
        updated: 0,
        file_error: None,
        report: Vec::new(),
    })
}

async fn facts_import(
    State(state): State<AppState>,
    Auth(me): Auth,
    tr: Tr,
    uri: OriginalUri,
    CodeParam(code): CodeParam,
    YearParam(year): YearParam,
    mut multipart: Multipart,
) -> Result<Response, AppError> {
    let (org, year) = node_year(&state, &me, &code, year).await?;
    if !me.role().is_admin() {
        return Err(AppError::Denied(Msg::new("error.denied")));
    }
    let (file, mode) = excel::read_upload(&mut multipart).await?;
    let mut page = FactsPage {
        tr,
        f: Frame::new(&state, &me, tr, &here(&uri), "ratings").await?,
        org,
        year,
        rows: Vec::new(),
        can_import: true,
        done: true,
        committed: false,
        updated: 0,
        file_error: None,
        report: Vec::new(),
    };
    let both = |m: &Msg| {
        format!(
            "{} / {}",
            Tr::new(Lang::Zh).msg(m),
            Tr::new(Lang::En).msg(m)
        )
    };
    let table = if file.is_empty() {
        Err(Msg::new("import.error.no_file"))
    } else {
        excel::read_first_sheet(&file)
    };
    let mut ok = false;
    match table {
        Err(m) => page.file_error = Some(both(&m)),
        Ok(table) => match excel::map_columns(
            &table,
            &FACTS_COLUMNS,
            &[
                "name",
                "practice",
                "practice_level",
                "beautiful_level",
                "beautiful_year",
                "income",
            ],
        ) {
            Err(errors) => page.report = report_rows_with(&errors, facts_header),
            Ok(idx) => {
                let rows: Vec<FactsRow> = excel::data_rows(&table, &idx)
                    .into_iter()
                    .map(|(row, c)| FactsRow {
                        row,
                        code: c[0].clone(),
                        income: c[2].clone(),
                        beautiful_level: c[3].clone(),
                        beautiful_year: c[4].clone(),
                        practice: c[5].clone(),
                        practice_level: c[6].clone(),
                    })
                    .collect();
                let out = state
                    .db
                    .import_village_facts(&me.actor, year, &rows, mode, state.clock.now_ms())
                    .await?;
                ok = out.errors.is_empty();
                page.committed = out.committed;
                page.updated = out.updated;
                page.report = report_rows_with(&out.errors, facts_header);
            }
        },
    }
    page.rows = state.db.village_facts(&page.org, year).await?;
    let mut res = html(&page)?;
    if !ok {
        *res.status_mut() = StatusCode::UNPROCESSABLE_ENTITY;
    }
    Ok(res)
}

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
    let mut stars: std::collections::BTreeMap<String, i64> =
        (1..=5).map(|s| (s.to_string(), t.stars[s - 1])).collect();
    stars.insert("unrated".into(), t.unrated());
    let classes = VillageClass::ALL
        .iter()
        .enumerate()
        .map(|(i, c)| (c.as_str().to_string(), t.classes[i]))
        .collect();
    Ok(Json(RatingsSummary {
        year,
        published: round.published_at.is_some(),
        stars,
        classes,
    })
    .into_response())
}
