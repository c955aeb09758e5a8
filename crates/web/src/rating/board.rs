//! The rating boards: a node's round at a glance, its children's figures, a village's page, and
//! the drill-down lists behind every figure.

use super::*;

#[derive(Template)]
#[template(path = "rating/board.html")]
pub(super) struct BoardPage {
    tr: Tr,
    f: Frame,
    org: Node,
    year: i64,
    years: Vec<i64>,
    round: Option<Round>,
    own: Tally,
    /// The area children's figures (a city's counties, a county's townships).
    children: Vec<(Node, Tally)>,
    /// A township's villages, one row each (its children are villages, not areas to sum).
    villages: Vec<Assessment>,
    today: String,
    w: Words,
    /// City admin at the round's (or a new round's) node.
    is_round_owner: bool,
    /// Villages of the round not yet approved: publishing is shown disabled while any are.
    unapproved: i64,
    can_assign: bool,
    sets: Vec<StandardSet>,
    moves: Option<Moves>,
    error: Option<String>,
}

impl BoardPage {
    fn chart_url(&self, name: &str) -> String {
        format!("/orgs/{}/ratings/{}/chart/{name}", self.org.code, self.year)
    }
    /// A township's village behind its deadline in the round.
    fn is_late(&self, a: &Assessment) -> bool {
        self.round
            .as_ref()
            .is_some_and(|r| r.is_late(a.stage, &self.today))
    }
}

#[derive(Template)]
#[template(path = "rating/village.html")]
pub(super) struct VillagePage {
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
pub(super) struct Typed {
    pub(super) score: String,
    pub(super) vetoed: bool,
    pub(super) text: String,
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
    fn yuan(&self, fen: &baiqian_domain::money::Fen) -> String {
        format!("¥{}", fen.yuan_text())
    }
    fn kib(&self, n: &i64) -> String {
        kib(*n)
    }
}

#[derive(Deserialize)]
pub(super) struct BoardQuery {
    #[serde(default)]
    stage: String,
    #[serde(default)]
    stars: String,
    #[serde(default)]
    class: String,
    #[serde(default)]
    late: String,
    #[serde(default)]
    sort: String,
}

pub(super) async fn board_page(
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
    let (own, children, villages) = match &round {
        Some(r) if org.level == Level::Township => {
            let villages = state
                .db
                .assessments_under(r, &org, &AssessmentFilter::default(), &today, 5000)
                .await?;
            (
                state.db.rating_tally(r, &org, &today).await?,
                Vec::new(),
                villages,
            )
        }
        Some(r) => {
            let (own, children) = area_tallies(state, me, r, &org, &today).await?;
            (own, children, Vec::new())
        }
        None => (Tally::default(), Vec::new(), Vec::new()),
    };
    let is_round_owner = me.role() == Role::CityAdmin && me.scope().is_root_path(&org.path);
    let can_assign = me.role() == Role::CountyAdmin
        && me.scope().is_root_path(&org.path)
        && round.as_ref().is_some_and(|r| r.published_at.is_none());
    let unapproved = match &round {
        Some(r) if is_round_owner && r.published_at.is_none() => {
            state.db.assessments_not_approved(r.id).await?
        }
        _ => 0,
    };
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
        villages,
        today,
        w: Words(tr),
        is_round_owner,
        unapproved,
        can_assign,
        sets,
        moves,
        error,
    })
}

pub(super) async fn village_page(
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

/// A node's area children with their figures, and the node's own figures (their sum, or its own
/// tally when it has no area children): what the board's table and its children chart show.
pub(super) async fn area_tallies(
    state: &AppState,
    me: &CurrentUser,
    round: &Round,
    org: &Node,
    today: &str,
) -> Result<(Tally, Vec<(Node, Tally)>), AppError> {
    let areas: Vec<Node> = state
        .db
        .org_children(me.scope(), &org.code, false)
        .await?
        .into_iter()
        .filter(|c| c.level.is_area())
        .collect();
    let figures = state
        .db
        .rating_child_tallies(round, org, &areas, today)
        .await?;
    let children: Vec<(Node, Tally)> = areas.into_iter().zip(figures).collect();
    // Every village lies under an area child, so the node's own figures are their sum
    // (one pass over the subtree, not two).
    let own = if children.is_empty() {
        state.db.rating_tally(round, org, today).await?
    } else {
        Tally::sum(children.iter().map(|(_, t)| t))
    };
    Ok((own, children))
}

/// What keeps a village from the next class: for lagging, the rule it meets; for advancing,
/// each failing pioneer criterion.
pub(super) fn gaps_of(
    tr: Tr,
    a: &Assessment,
    facts: &PioneerFacts,
    rule: LaggingRule,
) -> Vec<String> {
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

pub(super) async fn ratings_page(
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
pub(super) struct VillagesPage {
    tr: Tr,
    f: Frame,
    org: Node,
    year: i64,
    rows: Vec<Assessment>,
    filter_text: String,
    /// The page's filters, for its export and sort links.
    query: String,
    order: AssessmentOrder,
    orders: [AssessmentOrder; 5],
    w: Words,
}

impl VillagesPage {
    /// The link that sorts the list by `order`, keeping its filters.
    fn sort_url(&self, order: &AssessmentOrder) -> String {
        let mut q = form_urlencoded::Serializer::new(String::new());
        for (k, v) in form_urlencoded::parse(self.query.as_bytes()) {
            if k != "sort" {
                q.append_pair(&k, &v);
            }
        }
        q.append_pair("sort", order.as_str());
        format!(
            "/orgs/{}/ratings/{}/villages?{}",
            self.org.code,
            self.year,
            q.finish()
        )
    }
    fn sort_name(&self, order: &AssessmentOrder) -> String {
        self.tr
            .t(&format!("rating.sort.{}", order.as_str()))
            .to_string()
    }
}

/// The villages behind a board figure.
pub(super) async fn villages_page(
    State(state): State<AppState>,
    Auth(me): Auth,
    tr: Tr,
    uri: OriginalUri,
    CodeParam(code): CodeParam,
    YearParam(year): YearParam,
    Query(q): Query<BoardQuery>,
) -> Result<Response, AppError> {
    villages(state, me, tr, uri, code, year, q, false).await
}

/// The same list as `.xlsx`, with the page's filters.
pub(super) async fn villages_export(
    State(state): State<AppState>,
    Auth(me): Auth,
    tr: Tr,
    uri: OriginalUri,
    CodeParam(code): CodeParam,
    YearParam(year): YearParam,
    Query(q): Query<BoardQuery>,
) -> Result<Response, AppError> {
    villages(state, me, tr, uri, code, year, q, true).await
}

#[allow(clippy::too_many_arguments)]
async fn villages(
    state: AppState,
    me: std::sync::Arc<CurrentUser>,
    tr: Tr,
    uri: OriginalUri,
    code: OrgCode,
    year: i64,
    q: BoardQuery,
    export: bool,
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
        order: AssessmentOrder::parse(&q.sort).unwrap_or_default(),
    };
    let mut parts = Vec::new();
    if let Some(s) = filter.stage {
        parts.push(tr.t(&format!("rating.stage.{}", s.as_str())).to_string());
    }
    if let Some(s) = filter.stars {
        parts.push(n_stars(tr, s));
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
    if export {
        return villages_sheet(&state, &me, tr, &org, year, &parts.join(" · "), &rows);
    }
    html(&VillagesPage {
        tr,
        f: Frame::new(&state, &me, tr, &here(&uri), "ratings").await?,
        org,
        year,
        rows,
        filter_text: parts.join(" · "),
        query: uri.0.query().unwrap_or_default().to_string(),
        order: filter.order,
        orders: AssessmentOrder::ALL,
        w: Words(tr),
    })
}

/// The board again with the reason a round-level form was refused (422), what was typed kept.
pub(super) async fn refused_on_board(
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

fn villages_sheet(
    state: &AppState,
    me: &CurrentUser,
    tr: Tr,
    org: &Node,
    year: i64,
    filter_text: &str,
    rows: &[Assessment],
) -> Result<Response, AppError> {
    use crate::excel::Cell;
    let opt = |v: Option<i64>| v.map(Cell::Number).unwrap_or(Cell::Text(String::new()));
    let cells: Vec<Vec<Cell>> = rows
        .iter()
        .map(|a| {
            vec![
                Cell::Text(a.county_name.clone().unwrap_or_default()),
                Cell::Text(a.township_name.clone().unwrap_or_default()),
                Cell::Text(a.org_name.clone()),
                Cell::Text(a.org_code.clone()),
                Cell::Text(
                    tr.t(&format!("rating.stage.{}", a.stage.as_str()))
                        .to_string(),
                ),
                opt(a.self_total),
                opt(a.total),
                Cell::Number(a.full_total),
                opt(a.stars),
                Cell::Text(
                    a.effective_class()
                        .map(|c| tr.t(&format!("rating.class.{}", c.as_str())).to_string())
                        .unwrap_or_default(),
                ),
            ]
        })
        .collect();
    let columns = [
        ("county", "县区"),
        ("township", "乡镇"),
        ("village", "村"),
        ("code", "代码"),
        ("stage", "阶段"),
        ("self_total", "自评分"),
        ("total", "得分"),
        ("full_total", "满分"),
        ("stars", "星级"),
        ("class", "类别"),
    ];
    let what = format!("{year} {} {filter_text}", tr.t("export.ratings"));
    let title = crate::excel::export_title(tr, &what, &org.name, me, state.clock.now_ms());
    let bytes = crate::excel::write_list("星级评定", &title, &columns, &cells)?;
    crate::excel::xlsx_response(bytes, &format!("ratings-{}-{year}.xlsx", org.code))
}

/// A node's rating board as `.xlsx`: each child's figures and the node's own, as the board shows.
pub(super) async fn board_export(
    State(state): State<AppState>,
    Auth(me): Auth,
    tr: Tr,
    uri: OriginalUri,
    CodeParam(code): CodeParam,
    YearParam(year): YearParam,
) -> Result<Response, AppError> {
    use crate::excel::Cell;
    let (org, year) = node_year(&state, &me, &code, year).await?;
    let board = board_page(&state, &me, tr, &here(&uri), org, year, (None, None)).await?;
    let row = |name: &str, code: &str, t: &Tally| {
        let mut r = vec![
            Cell::Text(name.to_string()),
            Cell::Text(code.to_string()),
            Cell::Number(t.villages),
        ];
        r.extend(t.stages.iter().map(|n| Cell::Number(*n)));
        r.push(Cell::Number(t.late));
        r.extend(t.stars.iter().map(|n| Cell::Number(*n)));
        r.extend(t.classes.iter().map(|n| Cell::Number(*n)));
        r
    };
    let mut rows: Vec<Vec<Cell>> = board
        .children
        .iter()
        .map(|(n, t)| row(&n.name, n.code.as_str(), t))
        .collect();
    rows.push(row(&board.org.name, board.org.code.as_str(), &board.own));
    let stage_headers: Vec<String> = Stage::ALL
        .iter()
        .map(|s| tr.t(&format!("rating.stage.{}", s.as_str())).to_string())
        .collect();
    let class_headers: Vec<String> = VillageClass::ALL
        .iter()
        .map(|c| tr.t(&format!("rating.class.{}", c.as_str())).to_string())
        .collect();
    let star_headers: Vec<String> = (1..=5).map(|n| n_stars(tr, n)).collect();
    let mut headers: Vec<String> = vec![
        tr.t("org.name").into(),
        tr.t("org.code").into(),
        tr.t("export.villages").into(),
    ];
    headers.extend(stage_headers);
    headers.push(tr.t("rating.late").into());
    headers.extend(star_headers);
    headers.extend(class_headers);
    let columns: Vec<(&str, &str)> = headers.iter().map(|h| ("", h.as_str())).collect();
    let what = format!("{year} {}", tr.t("export.ratings"));
    let title = crate::excel::export_title(tr, &what, &board.org.name, &me, state.clock.now_ms());
    let bytes = crate::excel::write_list("星级评定", &title, &columns, &rows)?;
    crate::excel::xlsx_response(bytes, &format!("ratings-board-{code}-{year}.xlsx"))
}

/// "1 star", "3 stars" (Chinese has one form).
fn n_stars(tr: Tr, n: i64) -> String {
    if n == 1 {
        tr.t("rating.one_star").to_string()
    } else {
        tr.f("rating.n_stars", &[("n", &n.to_string())])
    }
}
