//! A node's problem board and list, a problem's page, its steps, plan and evidence, the
//! export and the summary API.

use super::*;

/// The status word of the list of unresolved problems (open, in progress or reopened).
pub(super) const UNRESOLVED: &str = "unresolved";

/// How many problems a board lists per page.
const PAGE: i64 = 100;

#[derive(Deserialize, Default)]
pub(super) struct ListQuery {
    status: Option<String>,
    overdue: Option<String>,
    extended: Option<String>,
    extension: Option<String>,
    survey: Option<i64>,
    group: Option<String>,
    offset: Option<i64>,
}

impl ListQuery {
    /// The filter it asks for; a status that is none of ours is a URL that leads nowhere.
    fn filter(&self) -> Result<ProblemFilter, AppError> {
        // `unresolved` is the three statuses a deadline binds, as the figures count them.
        let wanted = self.status.as_deref().filter(|s| !s.is_empty());
        let unresolved = wanted == Some(UNRESOLVED);
        let status = match wanted.filter(|_| !unresolved) {
            Some(s) => Some(ProblemStatus::parse(s).ok_or(AppError::NotFound)?),
            None => None,
        };
        Ok(ProblemFilter {
            status,
            overdue: self.overdue.as_deref() == Some("1"),
            extended: self.extended.as_deref() == Some("1"),
            extension_waiting: self.extension.as_deref() == Some("waiting"),
            survey_id: self.survey,
            item_group: self.group.clone().filter(|g| !g.is_empty()),
            unclosed: false,
            unresolved,
        })
    }
}

/// A value as a URL's query writes it.
pub(super) fn query_value(s: &str) -> String {
    form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

#[derive(Template)]
#[template(path = "ledger/board.html")]
struct BoardPage {
    tr: Tr,
    f: Frame,
    org: Node,
    today: String,
    counts: ProblemCounts,
    children: Vec<ChildCounts>,
    /// The problems by standard item group (问题类别).
    groups: Vec<(String, ProblemCounts)>,
    surveys: Vec<Survey>,
    problems: Vec<Problem>,
    filter: ProblemFilter,
    /// The query of the list shown, for the next page's link.
    query: String,
    offset: i64,
    more: bool,
    /// Villages a new problem may be reported for (the node itself, or its villages).
    villages: Vec<Node>,
    sources: Vec<&'static str>,
    /// For a new survey of a township: its leaders, and each village with the leader who
    /// guides it now (the form's default).
    guides: Vec<baiqian_store::ledger::Leader>,
    guides_for: Vec<(Node, Option<i64>)>,
}

impl BoardPage {
    fn status_name(&self, s: &ProblemStatus) -> String {
        self.tr.word("problem.status", s.as_str())
    }
    fn late(&self, p: &Problem) -> String {
        p.days_late(&self.today)
            .map(|d| self.tr.f("problem.days_late", &[("n", &d.to_string())]))
            .unwrap_or_default()
    }
    /// The list before the breakdowns: when a figure was opened (the reader came for its rows),
    /// and on a village's own board, where the problems are the work. On a phone the
    /// breakdowns would otherwise put the first problem thousands of pixels down.
    fn list_first(&self) -> bool {
        self.is_filtered() || self.org.level == Level::Village
    }
    fn is_filtered(&self) -> bool {
        self.filter.status.is_some()
            || self.filter.unresolved
            || self.filter.overdue
            || self.filter.extended
            || self.filter.extension_waiting
            || self.filter.survey_id.is_some()
            || self.filter.item_group.is_some()
    }
    fn guided(&self, guide: &Option<i64>, leader: &i64) -> bool {
        *guide == Some(*leader)
    }
    fn chart_url(&self, chart: &str) -> String {
        format!("/orgs/{}/problems/chart/{chart}", self.org.code)
    }
    /// The list of one group's problems, with a further `query` (`status=…`).
    fn group_link(&self, group: &str, query: &str) -> String {
        let mut q = format!("group={}", query_value(group));
        if !query.is_empty() {
            q.push('&');
            q.push_str(query);
        }
        format!("/orgs/{}/problems?{q}", self.org.code)
    }

    fn chosen(&self, s: &str) -> bool {
        if self.filter.unresolved {
            s == UNRESOLVED
        } else {
            self.filter.status.map(|x| x.as_str()) == Some(s)
        }
    }
}

/// The problem board of a node: its counts (from the tallies), each child's counts, the
/// surveys of its townships, and the list behind whichever figure was opened.
pub(super) async fn board(
    State(state): State<AppState>,
    Auth(me): Auth,
    tr: Tr,
    uri: OriginalUri,
    CodeParam(code): CodeParam,
    Query(q): Query<ListQuery>,
) -> Result<Response, AppError> {
    let org = state.db.org(me.scope(), &code).await?;
    if !matches!(
        org.level,
        Level::City | Level::County | Level::Township | Level::Village
    ) {
        return Err(AppError::NotFound);
    }
    let mut filter = q.filter()?;
    // Above a township the list with no filter is the overdue one: the rest is the counts'.
    let unfiltered = filter.status.is_none()
        && !filter.unresolved
        && !filter.overdue
        && !filter.extended
        && !filter.extension_waiting
        && filter.survey_id.is_none()
        && filter.item_group.is_none();
    if unfiltered && matches!(org.level, Level::City | Level::County) {
        filter.overdue = true;
    }
    let offset = q.offset.unwrap_or(0).max(0);
    let mut problems = state
        .db
        .problems_under(&org, &filter, PAGE + 1, offset)
        .await?;
    let more = problems.len() as i64 > PAGE;
    problems.truncate(PAGE as usize);
    let children = if org.level == Level::Village {
        Vec::new()
    } else {
        state.db.problem_counts_by_child(&org).await?
    };
    let villages = if !me.role().may(Capability::ReportProblems) {
        Vec::new()
    } else if org.level == Level::Village {
        vec![org.clone()]
    } else if org.level == Level::Township {
        state
            .db
            .org_children(me.scope(), &code, false)
            .await?
            .into_iter()
            .filter(|c| c.level == Level::Village)
            .collect()
    } else {
        Vec::new()
    };
    let (guides, guides_for) =
        if org.level == Level::Township && me.role().may(Capability::RunSurveys) {
            let leaders = state.db.leaders_under(&org).await?;
            let of = state
                .db
                .org_children(me.scope(), &code, false)
                .await?
                .into_iter()
                .filter(|c| c.level == Level::Village)
                .map(|v| {
                    let guide = leaders
                        .iter()
                        .find(|l| l.areas.iter().any(|(c, _)| c == v.code.as_str()))
                        .map(|l| l.id);
                    (v, guide)
                })
                .collect();
            (leaders, of)
        } else {
            (Vec::new(), Vec::new())
        };
    let mut query = Vec::new();
    if let Some(s) = filter.status {
        query.push(format!("status={}", s.as_str()));
    }
    if filter.unresolved {
        query.push(format!("status={UNRESOLVED}"));
    }
    if filter.overdue {
        query.push("overdue=1".into());
    }
    if filter.extended {
        query.push("extended=1".into());
    }
    if filter.extension_waiting {
        query.push("extension=waiting".into());
    }
    if let Some(s) = filter.survey_id {
        query.push(format!("survey={s}"));
    }
    if let Some(g) = &filter.item_group {
        query.push(format!("group={}", query_value(g)));
    }
    html(&BoardPage {
        tr,
        f: Frame::new(&state, &me, tr, &here(&uri), "problems").await?,
        today: today(&state),
        counts: state.db.problem_counts(&org).await?,
        surveys: state.db.surveys_under(&org).await?,
        groups: state.db.problem_counts_by_group(&org).await?,
        guides,
        guides_for,
        children,
        problems,
        filter,
        query: query.join("&"),
        offset,
        more,
        villages,
        sources: vec![
            ProblemSource::Survey.as_str(),
            ProblemSource::Rating.as_str(),
            ProblemSource::Other.as_str(),
        ],
        org,
    })
}

#[derive(Deserialize, Default)]
pub(crate) struct ProblemForm {
    #[serde(default)]
    pub(super) village: String,
    #[serde(default)]
    pub(super) source: String,
    #[serde(default)]
    pub(super) item_code: String,
    #[serde(default)]
    pub(super) item_group: String,
    #[serde(default)]
    pub(super) description: String,
    #[serde(default)]
    pub(super) owner_name: String,
    #[serde(default)]
    pub(super) owner_login: String,
    #[serde(default)]
    pub(super) measures: String,
    #[serde(default)]
    pub(super) deadline: String,
    #[serde(default)]
    pub(super) found_on: String,
}

impl ProblemForm {
    pub(super) fn into_new(self, source: &str, visit_id: Option<i64>) -> NewProblem {
        NewProblem {
            village: self.village,
            source: if source.is_empty() {
                self.source
            } else {
                source.into()
            },
            survey_id: None,
            visit_id,
            item_code: self.item_code,
            item_group: self.item_group,
            description: self.description,
            owner_name: self.owner_name,
            owner_login: self.owner_login,
            measures: self.measures,
            deadline: self.deadline,
            found_on: self.found_on,
        }
    }
}

/// Reports a problem of a village under the page's node.
pub(super) async fn create(
    State(state): State<AppState>,
    Auth(me): Auth,
    CodeParam(code): CodeParam,
    Form(form): Form<ProblemForm>,
) -> Result<Response, AppError> {
    let org = state.db.org(me.scope(), &code).await?;
    place_under(&state, &me, &org, &form.village).await?;
    let id = state
        .db
        .create_problem(&me.actor, &form.into_new("", None), state.clock.now_ms())
        .await?;
    Ok(Redirect::to(&format!("/problems/{id}")).into_response())
}

#[derive(Template)]
#[template(path = "ledger/problem.html")]
struct ProblemPage {
    tr: Tr,
    f: Frame,
    p: Problem,
    today: String,
    updates: Vec<ProblemUpdate>,
    evidence: Vec<ProblemEvidence>,
    /// Steps the reader may take now, by the table and the problem's status.
    steps: Vec<ProblemStep>,
    checks: Vec<ProblemStep>,
    can_plan: bool,
    /// The reader recorded the rectification waiting to be checked: someone else verifies it.
    rectified_by_me: bool,
    extensions: Vec<DeadlineExtension>,
    /// The reader may decide extensions here (above the village); not their own requests.
    can_decide: bool,
    login: String,
}

impl ProblemPage {
    fn status_name(&self, s: &ProblemStatus) -> String {
        self.tr.word("problem.status", s.as_str())
    }
    fn status_text(&self, s: &str) -> String {
        self.tr.word("problem.status", s)
    }
    fn step_name(&self, s: &str) -> String {
        self.tr.word("problem.step", s)
    }
    fn late(&self) -> String {
        self.p
            .days_late(&self.today)
            .map(|d| self.tr.f("problem.days_late", &[("n", &d.to_string())]))
            .unwrap_or_default()
    }
    /// "N days past the original deadline", when an extension hides that.
    fn late_against_original(&self) -> String {
        self.p
            .days_late_against_original(&self.today)
            .map(|d| {
                self.tr
                    .f("problem.days_late_original", &[("n", &d.to_string())])
            })
            .unwrap_or_default()
    }
    fn extension_status(&self, e: &DeadlineExtension) -> String {
        self.tr.word("extension.status", e.status.as_str())
    }
    fn may_decide(&self, e: &DeadlineExtension) -> bool {
        self.can_decide
            && e.status == baiqian_domain::trust::ExtensionStatus::Pending
            && e.requested_by != self.login
    }
    fn waiting(&self, e: &DeadlineExtension) -> bool {
        e.status == baiqian_domain::trust::ExtensionStatus::Pending
    }
    fn kib(&self, n: &i64) -> String {
        crate::evidence::kib(*n)
    }
    /// The status badge's colour: closed green, waiting for its check amber, late red.
    fn badge(&self) -> &'static str {
        match self.p.status {
            ProblemStatus::Verified => "ok",
            ProblemStatus::Rectified => "due",
            _ if self.p.overdue => "overdue",
            _ => "",
        }
    }
}

pub(super) async fn show(
    State(state): State<AppState>,
    Auth(me): Auth,
    tr: Tr,
    uri: OriginalUri,
    Path(id): Path<i64>,
) -> Result<Response, AppError> {
    let (p, updates, evidence) = state.db.problem(me.scope(), id).await?;
    let available = |s: &ProblemStep| p.status.after(*s).is_ok();
    let own_village = me.scope().is_root_path(&p.village_path);
    let steps = if me.role().may(Capability::ReportProblems) {
        [ProblemStep::Start, ProblemStep::Rectify]
            .into_iter()
            .filter(available)
            .collect()
    } else {
        Vec::new()
    };
    let can_decide = me.role().may(Capability::VerifyProblems) && !own_village;
    // The four-eyes rule, shown before it refuses: who recorded the rectification does not
    // verify it.
    let rectified_by_me = p.status == ProblemStatus::Rectified
        && updates
            .iter()
            .rev()
            .find(|u| u.records_rectification())
            .is_some_and(|u| u.login == me.actor.login);
    let checks = if can_decide {
        [ProblemStep::Verify, ProblemStep::Reopen]
            .into_iter()
            .filter(available)
            .filter(|s| !(rectified_by_me && *s == ProblemStep::Verify))
            .collect()
    } else {
        Vec::new()
    };
    let extensions = state.db.problem_extensions(me.scope(), id).await?;
    html(&ProblemPage {
        tr,
        f: Frame::new(&state, &me, tr, &here(&uri), "problems").await?,
        today: today(&state),
        can_plan: me.role().may(Capability::ReportProblems) && p.status != ProblemStatus::Verified,
        p,
        updates,
        evidence,
        steps,
        checks,
        rectified_by_me,
        extensions,
        can_decide,
        login: me.actor.login.clone(),
    })
}

#[derive(Deserialize, Default)]
pub(crate) struct StepForm {
    #[serde(default)]
    pub(super) step: String,
    #[serde(default)]
    pub(super) note: String,
}

impl StepForm {
    /// The step asked for, through the door it came by: the village's steps (start, rectify)
    /// or the checks above it (verify, reopen).
    pub(super) fn step(&self, checks: bool) -> Result<ProblemStep, AppError> {
        ProblemStep::parse(self.step.trim())
            .filter(|s| s.is_check() == checks)
            .ok_or_else(|| {
                AppError::Invalid(
                    baiqian_domain::Msg::new("problem.error.step").arg("step", &self.step),
                )
            })
    }
}

/// A place named by code that lies under the page's node (and in the caller's scope).
pub(super) async fn place_under(
    state: &AppState,
    me: &CurrentUser,
    node: &Node,
    code: &str,
) -> Result<Node, AppError> {
    let code = OrgCode::parse(code.trim()).map_err(|e| AppError::Invalid(e.msg()))?;
    let place = state.db.org(me.scope(), &code).await?;
    if place.path.starts_with(&node.path) {
        Ok(place)
    } else {
        Err(AppError::NotFound)
    }
}

async fn take_step(
    state: &AppState,
    me: &CurrentUser,
    id: i64,
    form: StepForm,
    checks: bool,
) -> Result<Response, AppError> {
    let step = form.step(checks)?;
    state
        .db
        .problem_step(&me.actor, id, step, &form.note, state.clock.now_ms())
        .await?;
    Ok(Redirect::to(&format!("/problems/{id}")).into_response())
}

/// Start or rectify: the village's own steps (and those above it acting for it).
pub(super) async fn step(
    State(state): State<AppState>,
    Auth(me): Auth,
    Path(id): Path<i64>,
    Form(form): Form<StepForm>,
) -> Result<Response, AppError> {
    take_step(&state, &me, id, form, false).await
}

/// Verify or reopen: the level above the village checks its work.
pub(super) async fn check(
    State(state): State<AppState>,
    Auth(me): Auth,
    Path(id): Path<i64>,
    Form(form): Form<StepForm>,
) -> Result<Response, AppError> {
    take_step(&state, &me, id, form, true).await
}

#[derive(Deserialize, Default)]
pub(crate) struct PlanForm {
    #[serde(default)]
    pub(super) owner_name: String,
    #[serde(default)]
    pub(super) owner_login: String,
    #[serde(default)]
    pub(super) measures: String,
    #[serde(default)]
    pub(super) deadline: String,
    #[serde(default)]
    pub(super) deadline_reason: String,
}

impl PlanForm {
    pub(super) fn into_plan(self) -> ProblemPlan {
        ProblemPlan {
            owner_name: self.owner_name,
            owner_login: self.owner_login,
            measures: self.measures,
            deadline: self.deadline,
            deadline_reason: self.deadline_reason,
        }
    }
}

/// A new owner, measures or deadline. A later deadline is filed as a request for the level
/// above: the problem's page then shows it waiting.
pub(super) async fn plan(
    State(state): State<AppState>,
    Auth(me): Auth,
    Path(id): Path<i64>,
    Form(form): Form<PlanForm>,
) -> Result<Response, AppError> {
    let plan = form.into_plan();
    let out = state
        .db
        .plan_problem(&me.actor, id, &plan, state.clock.now_ms())
        .await?;
    let anchor = if out.extension.is_some() {
        "#extensions"
    } else {
        ""
    };
    Ok(Redirect::to(&format!("/problems/{id}{anchor}")).into_response())
}

#[derive(Deserialize, Default)]
pub(super) struct DecisionForm {
    #[serde(default)]
    decision: String,
    #[serde(default)]
    note: String,
}

/// Approves or refuses a deadline extension (the level above the village, not the requester).
pub(super) async fn decide_extension(
    State(state): State<AppState>,
    Auth(me): Auth,
    Path(id): Path<i64>,
    Form(form): Form<DecisionForm>,
) -> Result<Response, AppError> {
    let approve = match form.decision.as_str() {
        "approve" => true,
        "refuse" => false,
        other => {
            return Err(AppError::Invalid(
                baiqian_domain::Msg::new("problem.error.decision").arg("value", other),
            ));
        }
    };
    let p = state
        .db
        .decide_extension(&me.actor, id, approve, &form.note, state.clock.now_ms())
        .await?;
    Ok(Redirect::to(&format!("/problems/{}#extensions", p.id)).into_response())
}

/// An evidence file of a problem's rectification (a photo, a scanned page).
pub(super) async fn upload(
    State(state): State<AppState>,
    Auth(me): Auth,
    Path(id): Path<i64>,
    multipart: Multipart,
) -> Result<Response, AppError> {
    let upload = crate::evidence::Upload::read(&state, multipart).await?;
    // Scope and state are checked before any byte is written.
    let (p, _, _) = state.db.problem(me.scope(), id).await?;
    if p.status == ProblemStatus::Verified {
        return Err(AppError::Conflict(
            baiqian_domain::Msg::new("problem.error.closed").arg("id", id),
        ));
    }
    upload.keep().await?;
    state
        .db
        .add_problem_evidence(
            &me.actor,
            id,
            &upload.sha256,
            upload.mime,
            upload.size(),
            &upload.file_name,
            state.clock.now_ms(),
        )
        .await?;
    Ok(Redirect::to(&format!("/problems/{id}#evidence")).into_response())
}

pub(super) async fn evidence_file(
    State(state): State<AppState>,
    Auth(me): Auth,
    Path(id): Path<i64>,
) -> Result<Response, AppError> {
    let e = state.db.problem_evidence(me.scope(), id).await?;
    crate::evidence::serve(&state, &e.sha256, &e.mime).await
}

/// The problems of a node as `.xlsx`, with the filter of the board.
pub(super) async fn export(
    State(state): State<AppState>,
    Auth(me): Auth,
    tr: Tr,
    CodeParam(code): CodeParam,
    Query(q): Query<ListQuery>,
) -> Result<Response, AppError> {
    use crate::excel::Cell;
    let org = state.db.org(me.scope(), &code).await?;
    let filter = q.filter()?;
    let problems = state.db.problems_under(&org, &filter, 100_000, 0).await?;
    let now = today(&state);
    let zh = Tr::new(crate::i18n::Lang::Zh);
    let rows: Vec<Vec<Cell>> = problems
        .iter()
        .map(|p| {
            vec![
                Cell::Text(p.township_name.clone()),
                Cell::Text(p.village_name.clone()),
                Cell::Text(p.item_code.clone().unwrap_or_default()),
                Cell::Text(p.item_group.clone()),
                Cell::Text(p.description.clone()),
                Cell::Text(p.owner_name.clone()),
                Cell::Text(p.measures.clone()),
                Cell::Date(p.deadline.clone()),
                // In the words the import reads back, whatever the reader's language.
                Cell::Text(zh.word("problem.status", p.status.as_str())),
                Cell::Number(p.days_late(&now).unwrap_or(0)),
                Cell::Date(p.found_on.clone()),
            ]
        })
        .collect();
    let columns = [
        ("township", "乡镇"),
        ("village", "村"),
        ("item_code", "对照标准"),
        ("item_group", "问题类别"),
        ("description", "问题"),
        ("owner_name", "责任人"),
        ("measures", "整改措施"),
        ("deadline", "整改时限"),
        ("status", "状态"),
        ("days_late", "逾期天数"),
        ("found_on", "发现日期"),
    ];
    let title =
        crate::excel::export_title(tr, "export.problems", &org.name, &me, state.clock.now_ms());
    let bytes = crate::excel::write_list("问题清单", &title, &columns, &rows)?;
    crate::excel::xlsx_response(bytes, &format!("problems-{code}.xlsx"))
}

/// `GET /orgs/{code}/problems/chart/{chart}`: `groups` (the problems by standard item group)
/// or `children` (by child), each stacked by status; every value links to the list behind it.
pub(super) async fn chart_data(
    State(state): State<AppState>,
    Auth(me): Auth,
    tr: Tr,
    CodeParam(code): CodeParam,
    Path(params): Path<std::collections::HashMap<String, String>>,
) -> Result<Response, AppError> {
    use crate::chart::{ChartData, ChartKind};
    let org = state.db.org(me.scope(), &code).await?;
    // (where each bar's list is, its name, its counts)
    let bars: Vec<(String, String, ProblemCounts)> = match params.get("chart").map(String::as_str) {
        Some("groups") => state
            .db
            .problem_counts_by_group(&org)
            .await?
            .into_iter()
            .map(|(g, c)| {
                let name = if g.is_empty() {
                    tr.t("problem.no_group").to_string()
                } else {
                    g.clone()
                };
                (
                    format!("/orgs/{code}/problems?group={}", query_value(&g)),
                    name,
                    c,
                )
            })
            .collect(),
        Some("children") if org.level != Level::Village => state
            .db
            .problem_counts_by_child(&org)
            .await?
            .into_iter()
            .map(|c| (format!("/orgs/{}/problems?", c.code), c.name, c.counts))
            .collect(),
        _ => return Err(AppError::NotFound),
    };
    let mut data = ChartData::new(
        ChartKind::Bar,
        bars.iter().map(|(_, name, _)| name.clone()).collect(),
    )
    .stacked();
    let count = |c: &ProblemCounts, s: ProblemStatus| match s {
        ProblemStatus::Open | ProblemStatus::Reopened => c.open,
        ProblemStatus::InProgress => c.in_progress,
        ProblemStatus::Rectified => c.rectified,
        ProblemStatus::Verified => c.verified,
    };
    for status in [
        ProblemStatus::Open,
        ProblemStatus::InProgress,
        ProblemStatus::Rectified,
        ProblemStatus::Verified,
    ] {
        data = data.series(
            tr.word("problem.status", status.as_str()),
            bars.iter()
                .map(|(_, _, c)| count(c, status) as f64)
                .collect(),
            bars.iter()
                .map(|(list, _, _)| {
                    let sep = if list.ends_with('?') { "" } else { "&" };
                    format!("{list}{sep}status={}", status.as_str())
                })
                .collect(),
        );
    }
    Ok(data.into_response())
}
