//! A node's plan of a year in the browser (县县有规划、乡乡有方案、村村有计划): its items and
//! steps, the forms its writer uses (start, add items, send up, mark done) and the level
//! above's (approve, send back with a reason), and the plans of the node's children. The
//! store checks role, level and scope again; a refusal writes nothing.

use baiqian_domain::ledger::{ProblemStatus, ProblemStep};
use baiqian_domain::plan::{PlanStatus, plan_approver, plan_writer};
use baiqian_store::plan::{ItemProblem, NewPlanItem, Plan, PlanDecision, PlanItem, PlanSummary};

use super::*;

#[derive(Template)]
#[template(path = "plan/plan.html")]
struct PlanPage {
    tr: Tr,
    f: Frame,
    org: Node,
    year: i64,
    plan: Option<Plan>,
    children: Vec<PlanSummary>,
    /// The reader writes this node's plan; or decides on it.
    writes: bool,
    approves: bool,
    measures: Vec<TargetMeasure>,
    /// The village's problems not yet closed, offered to a new item (its writer's, a village's).
    offered: Vec<ItemProblem>,
}

impl PlanPage {
    fn status(&self, s: &PlanStatus) -> String {
        self.tr.word("plan.status", s.as_str())
    }
    fn kind(&self) -> String {
        self.tr.word("plan.kind", self.org.level.as_str())
    }
    fn measure(&self, m: &Option<TargetMeasure>) -> String {
        m.map(|m| self.tr.word("plan.measure", m.as_str()))
            .unwrap_or_default()
    }
    fn years(&self) -> Vec<i64> {
        vec![self.year - 1, self.year, self.year + 1]
    }
    fn action(&self, a: &str) -> String {
        self.tr.word("plan.action", a)
    }
    fn problem_status(&self, s: &ProblemStatus) -> String {
        self.tr.word("problem.status", s.as_str())
    }
    /// What finishing an item records of its problems still open, if any.
    fn rectify_note(&self, i: &PlanItem) -> Option<String> {
        let n = i
            .problems
            .iter()
            .filter(|p| p.status.after(ProblemStep::Rectify).is_ok())
            .count();
        (n > 0).then(|| self.tr.f("plan.done_rectifies", &[("n", &n.to_string())]))
    }
}

/// `GET /orgs/{code}/plans/{year}`.
pub(super) async fn page(
    State(state): State<AppState>,
    Auth(me): Auth,
    tr: Tr,
    uri: OriginalUri,
    CodeParam(code): CodeParam,
    YearParam(year): YearParam,
) -> Result<Response, AppError> {
    let org = state.db.org(me.scope(), &code).await?;
    if plan_writer(org.level).is_none() && org.level != Level::City {
        return Err(AppError::NotFound);
    }
    let plan = state.db.plan_of(&org, year).await?;
    let children = area_children(&state, &me, &org).await?;
    let children = state.db.plans_of_children(&children, year).await?;
    let writes = plan_writer(org.level) == Some(me.role()) && me.scope().is_root_path(&org.path);
    let approves = plan_approver(org.level) == Some(me.role())
        && me.scope().contains_path(&org.path)
        && !me.scope().is_root_path(&org.path);
    let editable = plan.as_ref().is_some_and(|p| p.status.editable());
    let offered = if writes && editable {
        state.db.problems_to_plan(&org).await?
    } else {
        Vec::new()
    };
    html(&PlanPage {
        tr,
        f: Frame::new(&state, &me, tr, &here(&uri), "targets").await?,
        org,
        year,
        plan,
        children,
        writes,
        approves,
        measures: TargetMeasure::ALL.to_vec(),
        offered,
    })
}

#[derive(Deserialize, Default)]
pub(super) struct NewPlanForm {
    #[serde(default)]
    title: String,
}

/// `POST /orgs/{code}/plans/{year}`: the writer starts the node's plan.
pub(super) async fn create(
    State(state): State<AppState>,
    Auth(me): Auth,
    CodeParam(code): CodeParam,
    YearParam(year): YearParam,
    Form(form): Form<NewPlanForm>,
) -> Result<Response, AppError> {
    let org = state.db.org(me.scope(), &code).await?;
    state
        .db
        .create_plan(&me.actor, &org, year, &form.title, state.clock.now_ms())
        .await?;
    Ok(Redirect::to(&format!("/orgs/{code}/plans/{year}", code = org.code)).into_response())
}

fn back_to(plan: &Plan) -> Response {
    Redirect::to(&format!("/orgs/{}/plans/{}", plan.org_code, plan.year)).into_response()
}

/// `POST /plans/{id}/items`: content, measures, owner, deadline, the target served, and on a
/// village's plan any number of `problem` fields, each a problem of the village the item serves.
pub(super) async fn add_item(
    State(state): State<AppState>,
    Auth(me): Auth,
    Path(id): Path<i64>,
    Form(fields): Form<Vec<(String, String)>>,
) -> Result<Response, AppError> {
    let field = |name: &str| {
        fields
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
            .unwrap_or_default()
    };
    let measure = match field("measure").trim() {
        "" => None,
        m => Some(
            TargetMeasure::parse(m)
                .ok_or_else(|| AppError::Invalid(baiqian_domain::Msg::new("plan.error.measure")))?,
        ),
    };
    let problems = fields
        .iter()
        .filter(|(k, _)| k == "problem")
        .map(|(_, v)| {
            v.trim()
                .parse::<i64>()
                .map_err(|_| AppError::Invalid(baiqian_domain::Msg::new("plan.error.problem")))
        })
        .collect::<Result<Vec<_>, _>>()?;
    let item = NewPlanItem {
        content: field("content"),
        measures: field("measures"),
        owner: field("owner"),
        deadline: field("deadline"),
        measure,
        problems,
    };
    state
        .db
        .add_plan_item(&me.actor, id, &item, state.clock.now_ms())
        .await?;
    Ok(back_to(&state.db.plan(&me.actor, id).await?))
}

/// `POST /plans/{id}/submit`.
pub(super) async fn submit(
    State(state): State<AppState>,
    Auth(me): Auth,
    Path(id): Path<i64>,
) -> Result<Response, AppError> {
    state
        .db
        .submit_plan(&me.actor, id, state.clock.now_ms())
        .await?;
    Ok(back_to(&state.db.plan(&me.actor, id).await?))
}

#[derive(Deserialize, Default)]
pub(super) struct DecideForm {
    #[serde(default)]
    action: String,
    #[serde(default)]
    reason: String,
}

/// `POST /plans/{id}/decide`: `action=approve`, or `action=send_back` with a reason.
pub(super) async fn decide(
    State(state): State<AppState>,
    Auth(me): Auth,
    Path(id): Path<i64>,
    Form(form): Form<DecideForm>,
) -> Result<Response, AppError> {
    let decision = match form.action.as_str() {
        "approve" => PlanDecision::Approve,
        "send_back" => PlanDecision::SendBack {
            reason: form.reason,
        },
        _ => {
            return Err(AppError::Invalid(baiqian_domain::Msg::new(
                "plan.error.action",
            )));
        }
    };
    state
        .db
        .decide_plan(&me.actor, id, &decision, state.clock.now_ms())
        .await?;
    Ok(back_to(&state.db.plan(&me.actor, id).await?))
}

#[derive(Deserialize, Default)]
pub(super) struct DoneForm {
    #[serde(default)]
    item: String,
}

/// `POST /plans/{id}/done`: the item `item` of an approved plan is done.
pub(super) async fn done(
    State(state): State<AppState>,
    Auth(me): Auth,
    Path(id): Path<i64>,
    Form(form): Form<DoneForm>,
) -> Result<Response, AppError> {
    let item: i64 = form.item.trim().parse().map_err(|_| AppError::NotFound)?;
    state
        .db
        .finish_plan_item(&me.actor, id, item, state.clock.now_ms())
        .await?;
    Ok(back_to(&state.db.plan(&me.actor, id).await?))
}
