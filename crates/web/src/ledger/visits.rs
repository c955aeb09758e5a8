//! Leaders' visits (走访调研): the log of a node with the form to add one, a visit's page
//! whose findings become problems in one step, and the pledges (公开承诺) with their coverage.

use super::*;

use baiqian_store::ledger::Leader;

#[derive(Deserialize, Default)]
pub(super) struct VisitQuery {
    leader: Option<i64>,
    page: Option<String>,
}

/// Visits per page of the log.
const VISITS_PAGE: i64 = 50;

#[derive(Template)]
#[template(path = "ledger/visits.html")]
struct VisitsPage {
    tr: Tr,
    f: Frame,
    org: Node,
    today: String,
    visits: Vec<Visit>,
    /// The leaders serving in the reader's scope, with the areas they guide.
    leaders: Vec<Leader>,
    /// Who the reader may log a visit for (a leader: themselves).
    loggable: Vec<Leader>,
    /// Where a visit may be logged from this page: the node itself and the places under it.
    places: Vec<Node>,
    kinds: Vec<&'static str>,
    leader: Option<i64>,
    /// The log's size, and this page of it.
    total: i64,
    page: i64,
    pages: i64,
}

impl VisitsPage {
    /// The log's address for another page, keeping the leader chosen.
    fn page_url(&self, page: i64) -> String {
        match self.leader {
            Some(l) => format!("/orgs/{}/visits?leader={l}&page={page}", self.org.code),
            None => format!("/orgs/{}/visits?page={page}", self.org.code),
        }
    }
    fn kind_name(&self, k: &VisitKind) -> String {
        self.tr.word("visit.kind", k.as_str())
    }
    /// Whether the reader may turn this visit's findings into problems: whoever reports
    /// problems, any visit; a leader, only their own.
    fn may_turn(&self, v: &Visit) -> bool {
        self.f.may(Capability::ReportProblems) || self.loggable.iter().any(|l| l.id == v.leader_id)
    }
    /// The villages of this page under a visited township, for its findings' form.
    fn villages_of(&self, place: &str) -> Vec<&Node> {
        self.places
            .iter()
            .filter(|p| p.parent_code.as_deref() == Some(place))
            .collect()
    }
}

/// Leaders the caller may log for: a leader themselves, an office every leader in scope.
fn loggable(me: &CurrentUser, all: &[Leader]) -> Vec<Leader> {
    if !me.role().may(Capability::LogVisits) {
        return Vec::new();
    }
    if me.role() == baiqian_domain::role::Role::Leader {
        all.iter()
            .filter(|l| l.user_id == Some(me.user.id))
            .cloned()
            .collect()
    } else {
        all.to_vec()
    }
}

async fn leaders_in_scope(state: &AppState, me: &CurrentUser) -> Result<Vec<Leader>, AppError> {
    let root = me.scope().root.clone().ok_or(AppError::NotFound)?;
    let own = state.db.org(me.scope(), &root).await?;
    Ok(state.db.leaders_under(&own).await?)
}

pub(super) async fn list(
    State(state): State<AppState>,
    Auth(me): Auth,
    tr: Tr,
    uri: OriginalUri,
    CodeParam(code): CodeParam,
    Query(q): Query<VisitQuery>,
) -> Result<Response, AppError> {
    let org = state.db.org(me.scope(), &code).await?;
    let total = state.db.count_visits_under(&org, q.leader).await?;
    let pages = ((total + VISITS_PAGE - 1) / VISITS_PAGE).max(1);
    let page = q
        .page
        .as_deref()
        .and_then(|p| p.trim().parse::<i64>().ok())
        .unwrap_or(1)
        .clamp(1, pages);
    let visits = state
        .db
        .visits_under(&org, q.leader, (VISITS_PAGE, (page - 1) * VISITS_PAGE))
        .await?;
    let leaders = leaders_in_scope(&state, &me).await?;
    let loggable = loggable(&me, &leaders);
    let mut places = Vec::new();
    if !loggable.is_empty() && matches!(org.level, Level::Township | Level::Village) {
        places.push(org.clone());
        if org.level == Level::Township {
            places.extend(
                state
                    .db
                    .org_children(me.scope(), &code, false)
                    .await?
                    .into_iter()
                    .filter(|c| c.level == Level::Village),
            );
        }
    }
    html(&VisitsPage {
        tr,
        f: Frame::new(&state, &me, tr, &here(&uri), "visits").await?,
        today: today(&state),
        org,
        visits,
        leaders,
        loggable,
        places,
        kinds: VisitKind::ALL.iter().map(|k| k.as_str()).collect(),
        leader: q.leader,
        total,
        page,
        pages,
    })
}

#[derive(Deserialize, Default)]
pub(super) struct VisitForm {
    #[serde(default)]
    leader_id: String,
    #[serde(default)]
    visited_on: String,
    #[serde(default)]
    place: String,
    #[serde(default)]
    kind: String,
    #[serde(default)]
    findings: String,
}

pub(super) async fn create(
    State(state): State<AppState>,
    Auth(me): Auth,
    CodeParam(code): CodeParam,
    Form(form): Form<VisitForm>,
) -> Result<Response, AppError> {
    let org = state.db.org(me.scope(), &code).await?;
    let new = NewVisit {
        leader_id: form.leader_id.trim().parse().unwrap_or(0),
        visited_on: form.visited_on,
        place: form.place,
        kind: form.kind,
        findings: form.findings,
    };
    super::problems::place_under(&state, &me, &org, &new.place).await?;
    let id = state
        .db
        .log_visit(&me.actor, &new, state.clock.now_ms())
        .await?;
    Ok(Redirect::to(&format!("/orgs/{code}/visits#visit-{id}")).into_response())
}

/// A finding of a visit recorded as a problem of the visited village (or of one of the
/// visited township's villages).
pub(super) async fn to_problem(
    State(state): State<AppState>,
    Auth(me): Auth,
    Path(id): Path<i64>,
    Form(form): Form<super::problems::ProblemForm>,
) -> Result<Response, AppError> {
    state.db.visit(me.scope(), id).await?;
    let pid = state
        .db
        .create_problem(
            &me.actor,
            &form.into_new(ProblemSource::Visit.as_str(), Some(id)),
            state.clock.now_ms(),
        )
        .await?;
    Ok(Redirect::to(&format!("/problems/{pid}")).into_response())
}

#[derive(Template)]
#[template(path = "ledger/pledges.html")]
struct PledgesPage {
    tr: Tr,
    f: Frame,
    pledges: Vec<Pledge>,
    /// For a new pledge: who the reader may pledge for, and over which nodes (their own and
    /// the areas right under it).
    leaders: Vec<Leader>,
    scopes: Vec<Node>,
    today: String,
    /// The reader's own node, where a pledges' list is imported.
    root: Option<String>,
}

impl PledgesPage {
    fn percent(&self, p: &Pledge) -> i64 {
        percent(p)
    }
}

pub(super) fn percent(p: &Pledge) -> i64 {
    if p.target == 0 {
        0
    } else {
        p.visited * 100 / p.target
    }
}

pub(super) async fn pledges(
    State(state): State<AppState>,
    Auth(me): Auth,
    tr: Tr,
    uri: OriginalUri,
) -> Result<Response, AppError> {
    let leaders = loggable(&me, &leaders_in_scope(&state, &me).await?);
    let mut scopes = Vec::new();
    if !leaders.is_empty() {
        let root = me.scope().root.clone().ok_or(AppError::NotFound)?;
        scopes.push(state.db.org(me.scope(), &root).await?);
        scopes.extend(
            state
                .db
                .org_children(me.scope(), &root, false)
                .await?
                .into_iter()
                .filter(|c| c.level.is_area()),
        );
    }
    html(&PledgesPage {
        tr,
        f: Frame::new(&state, &me, tr, &here(&uri), "visits").await?,
        pledges: state.db.pledges_in(me.scope()).await?,
        leaders,
        scopes,
        root: me.scope().root.as_ref().map(|c| c.to_string()),
        today: today(&state),
    })
}

#[derive(Template)]
#[template(path = "ledger/pledge.html")]
struct PledgePage {
    tr: Tr,
    f: Frame,
    p: Pledge,
    remaining: Vec<PledgePlace>,
    more: i64,
}

impl PledgePage {
    fn percent(&self) -> i64 {
        percent(&self.p)
    }
}

/// How many of the places not yet visited a pledge's page lists.
const REMAINING_SHOWN: i64 = 1000;

pub(super) async fn pledge(
    State(state): State<AppState>,
    Auth(me): Auth,
    tr: Tr,
    uri: OriginalUri,
    Path(id): Path<i64>,
) -> Result<Response, AppError> {
    let p = state.db.pledge(me.scope(), id).await?;
    let remaining = state
        .db
        .pledge_remaining(me.scope(), id, REMAINING_SHOWN)
        .await?;
    let more = (p.target - p.visited - remaining.len() as i64).max(0);
    html(&PledgePage {
        tr,
        f: Frame::new(&state, &me, tr, &here(&uri), "visits").await?,
        p,
        remaining,
        more,
    })
}

/// One pledge in `GET /api/v1/pledges`.
#[derive(Serialize, utoipa::ToSchema)]
pub struct PledgeView {
    pub id: i64,
    pub leader: String,
    /// The division code of the node whose places are pledged.
    pub scope: String,
    pub scope_name: String,
    /// `village` or `township`.
    pub place_level: String,
    pub title: String,
    pub since: String,
    pub due: String,
    /// Places of that level under the scope.
    pub target: i64,
    /// Of them, visited by the leader since the pledge (from the visit log).
    pub visited: i64,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct PledgeItems {
    pub items: Vec<PledgeView>,
}

#[utoipa::path(
    get,
    path = "/api/v1/pledges",
    responses((status = 200, body = PledgeItems), (status = 401))
)]
/// `GET /api/v1/pledges`: the pledges over nodes in the caller's scope, with coverage.
pub(crate) async fn api_pledges(
    State(state): State<AppState>,
    Auth(me): Auth,
) -> Result<Response, AppError> {
    let items = state
        .db
        .pledges_in(me.scope())
        .await?
        .into_iter()
        .map(|p| PledgeView {
            id: p.id,
            leader: p.leader_name,
            scope: p.scope_code,
            scope_name: p.scope_name,
            place_level: p.place_level,
            title: p.title,
            since: p.since,
            due: p.due,
            target: p.target,
            visited: p.visited,
        })
        .collect();
    Ok(Json(PledgeItems { items }).into_response())
}

/// The most visits one export holds (a province's log over years is far less per node).
const EXPORT_VISITS: i64 = 100_000;

/// `GET /orgs/{code}/visits.xlsx`: the visit log under a node (of one leader when asked), as
/// the page lists it, for officials' own files.
pub(super) async fn export(
    State(state): State<AppState>,
    Auth(me): Auth,
    tr: Tr,
    CodeParam(code): CodeParam,
    Query(q): Query<VisitQuery>,
) -> Result<Response, AppError> {
    use crate::excel::Cell;
    let org = state.db.org(me.scope(), &code).await?;
    let visits = state
        .db
        .visits_under(&org, q.leader, (EXPORT_VISITS, 0))
        .await?;
    // In the words the officials' ledgers use, whatever the reader's language.
    let zh = Tr::new(crate::i18n::Lang::Zh);
    let rows: Vec<Vec<Cell>> = visits
        .iter()
        .map(|v| {
            vec![
                Cell::Date(v.visited_on.clone()),
                Cell::Text(v.leader_name.clone()),
                Cell::Text(v.leader_title.clone()),
                Cell::Text(v.parent_name.clone()),
                Cell::Text(v.place_name.clone()),
                Cell::Text(v.place_code.clone()),
                Cell::Text(zh.word("visit.kind", v.kind.as_str())),
                Cell::Text(v.findings.clone()),
                Cell::Number(v.problems),
            ]
        })
        .collect();
    let columns = [
        ("visited_on", "走访日期"),
        ("leader", "领导"),
        ("title", "职务"),
        ("township", "乡镇"),
        ("place", "走访地点"),
        ("place_code", "地点代码"),
        ("kind", "方式"),
        ("findings", "发现的问题"),
        ("problems", "转为问题数"),
    ];
    let title =
        crate::excel::export_title(tr, "export.visits", &org.name, &me, state.clock.now_ms());
    let bytes = crate::excel::write_list("走访记录", &title, &columns, &rows)?;
    crate::excel::xlsx_response(bytes, &format!("visits-{code}.xlsx"))
}

/// `GET /pledges.xlsx`: the pledges in the reader's scope with their coverage and pace.
pub(super) async fn export_pledges(
    State(state): State<AppState>,
    Auth(me): Auth,
    tr: Tr,
) -> Result<Response, AppError> {
    let pledges = state.db.pledges_in(me.scope()).await?;
    let root = match &me.scope().root {
        Some(code) => state.db.org(me.scope(), code).await?.name.clone(),
        None => String::new(),
    };
    pledges_sheet(&state, &me, tr, &pledges, &root, "pledges.xlsx")
}

/// `GET /orgs/{code}/pledges.xlsx`: the pledges of the leaders at and under a node, as the
/// pledges' import reads them back.
pub(super) async fn export_node_pledges(
    State(state): State<AppState>,
    Auth(me): Auth,
    tr: Tr,
    CodeParam(code): CodeParam,
) -> Result<Response, AppError> {
    let org = state.db.org(me.scope(), &code).await?;
    let pledges = super::pledges_under(&state, &me, &org).await?;
    pledges_sheet(
        &state,
        &me,
        tr,
        &pledges,
        &org.name,
        &format!("pledges-{code}.xlsx"),
    )
}

/// Pledges as officials keep them: who, over what, which places, the dates, and how far along.
fn pledges_sheet(
    state: &AppState,
    me: &CurrentUser,
    tr: Tr,
    pledges: &[Pledge],
    place: &str,
    file_name: &str,
) -> Result<Response, AppError> {
    use crate::excel::Cell;
    use baiqian_domain::ledger::PledgePace;
    let today = today(state);
    let zh = Tr::new(crate::i18n::Lang::Zh);
    let rows: Vec<Vec<Cell>> = pledges
        .iter()
        .map(|p| {
            let pace = PledgePace::of(&p.since, &p.due, &today, p.target, p.visited)
                .map(|pace| super::leader::pace_words(zh, pace))
                .unwrap_or_default();
            vec![
                Cell::Text(p.leader_name.clone()),
                Cell::Text(p.scope_name.clone()),
                Cell::Text(zh.word("level", &p.place_level)),
                Cell::Text(p.title.clone()),
                Cell::Date(p.since.clone()),
                Cell::Date(p.due.clone()),
                Cell::Number(p.target),
                Cell::Number(p.visited),
                Cell::Number(percent(p)),
                Cell::Text(pace),
            ]
        })
        .collect();
    let columns = [
        ("leader", "领导"),
        ("scope", "范围"),
        ("level", "走遍"),
        ("title", "承诺"),
        ("since", "起始日期"),
        ("due", "完成时限"),
        ("target", "应走访"),
        ("visited", "已走访"),
        ("percent", "完成率(%)"),
        ("pace", "进度"),
    ];
    let title = crate::excel::export_title(tr, "export.pledges", place, me, state.clock.now_ms());
    let bytes = crate::excel::write_list("公开承诺", &title, &columns, &rows)?;
    crate::excel::xlsx_response(bytes, file_name)
}

/// `GET /orgs/{code}/leaders.xlsx`: the leaders serving under a node with the places they guide
/// and how many visits each logged there, for the offices' own lists.
pub(super) async fn export_leaders(
    State(state): State<AppState>,
    Auth(me): Auth,
    tr: Tr,
    CodeParam(code): CodeParam,
) -> Result<Response, AppError> {
    use crate::excel::Cell;
    let org = state.db.org(me.scope(), &code).await?;
    let leaders = state.db.leaders_under(&org).await?;
    let counts = state.db.visit_counts_by_leader(&org).await?;
    let mut rows: Vec<Vec<Cell>> = Vec::with_capacity(leaders.len());
    for l in &leaders {
        let visits = counts
            .iter()
            .find(|(id, _)| *id == l.id)
            .map_or(0, |(_, n)| *n);
        rows.push(vec![
            Cell::Text(l.name.clone()),
            Cell::Text(l.title.clone()),
            Cell::Text(l.org_name.clone()),
            Cell::Text(
                l.areas
                    .iter()
                    .map(|(_, name)| name.as_str())
                    .collect::<Vec<_>>()
                    .join("、"),
            ),
            Cell::Number(visits),
        ]);
    }
    let columns = [
        ("name", "姓名"),
        ("title", "职务"),
        ("org", "单位"),
        ("areas", "联系指导"),
        ("visits", "走访次数"),
    ];
    let title =
        crate::excel::export_title(tr, "export.leaders", &org.name, &me, state.clock.now_ms());
    let bytes = crate::excel::write_list("领导名单", &title, &columns, &rows)?;
    crate::excel::xlsx_response(bytes, &format!("leaders-{code}.xlsx"))
}
