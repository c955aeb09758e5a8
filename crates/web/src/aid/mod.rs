//! The mutual-aid associations in the browser and the API (党群创业互助会): a node's board
//! (associations, members, people helped, loans lent, outstanding and overdue, what the
//! associations founded; each figure opens its rows), an association's page with its members,
//! projects, fund, grants and loans, and a loan's page with its schedule, ledger and the step
//! that waits. The store checks role, scope and the maker-checker rule again on every write;
//! a refusal writes nothing.

mod association;
mod export;
mod import;
mod loan;

use askama::Template;
use axum::Json;
use axum::extract::{OriginalUri, Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use baiqian_domain::aid::{ProjectKind, RepaymentMethod};
use baiqian_domain::capability::Capability;
use baiqian_domain::org::Level;
use baiqian_domain::time::china_date;
use baiqian_store::aid::{
    AidMember, AidStep, AidSummary, Association, Loan, LoanFilter, NewAssociation, NewProgramme,
    Programme, Project,
};
use baiqian_store::kernel::Node;
use serde::Deserialize;

use crate::auth::{Auth, CurrentUser};
use crate::error::{AppError, html};
use crate::extract::CodeParam;
use crate::frame::{Frame, here};
use crate::i18n::Tr;
use crate::routes::Routes;
use crate::state::AppState;

/// Rows per page of a list.
const PAGE: i64 = 100;

pub fn routes() -> Routes {
    Routes::new()
        .get("/orgs/{code}/aid", Capability::ReadAid, board)
        .post(
            "/orgs/{code}/aid/associations",
            Capability::KeepAid,
            create_association,
        )
        .post(
            "/orgs/{code}/aid/programmes",
            Capability::ApproveAid,
            create_programme,
        )
        .get(
            "/orgs/{code}/aid/chart/{chart}",
            Capability::ReadAid,
            chart_data,
        )
        .get(
            "/orgs/{code}/aid/associations.xlsx",
            Capability::ReadAid,
            export::associations,
        )
        .get(
            "/orgs/{code}/aid/members.xlsx",
            Capability::ReadAid,
            export::members,
        )
        .get(
            "/orgs/{code}/aid/grants.xlsx",
            Capability::ReadAid,
            export::grants,
        )
        .get(
            "/orgs/{code}/aid/loans.xlsx",
            Capability::ReadAid,
            export::loans,
        )
        .get(
            "/orgs/{code}/aid/{ledger}/import",
            Capability::KeepAid,
            import::page,
        )
        .post(
            "/orgs/{code}/aid/{ledger}/import",
            Capability::KeepAid,
            import::import,
        )
        .get(
            "/api/v1/orgs/{code}/aid/summary",
            Capability::ReadAid,
            api_summary,
        )
        .merge(association::routes())
        .merge(loan::routes())
}

fn today(state: &AppState) -> String {
    china_date(state.clock.now_ms())
}

/// A loan's stage in words; one being repaid with an instalment missed is "overdue".
fn stage_word(tr: Tr, l: &Loan) -> String {
    if l.overdue_since.is_some() && l.stage == baiqian_domain::aid::LoanStage::Disbursed {
        return tr.t("aid.overdue").to_string();
    }
    tr.word("aid.stage", l.stage.as_str())
}

/// A yearly rate kept in basis points, as written in percent: 560 → `5.60`.
fn rate_text(bp: i64) -> String {
    format!("{}.{:02}", bp / 100, bp % 100)
}

/// Whether the reader keeps the associations' records at `path`.
fn keeps(me: &CurrentUser, path: &str) -> bool {
    me.role().may(Capability::KeepAid) && me.scope().contains_path(path)
}

/// Whether the reader approves grants and loans at `path`.
fn approves(me: &CurrentUser, path: &str) -> bool {
    me.role().may(Capability::ApproveAid) && me.scope().contains_path(path)
}

/// Which rows the board shows under its figures.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum List {
    Associations,
    Members,
    Helped,
    Loans(LoanFilter),
    Projects(ProjectKind),
}

impl List {
    fn parse(s: &str) -> Option<Self> {
        match s {
            "associations" => Some(List::Associations),
            "members" => Some(List::Members),
            "helped" => Some(List::Helped),
            _ => LoanFilter::parse(s)
                .map(List::Loans)
                .or_else(|| ProjectKind::parse(s).map(List::Projects)),
        }
    }

    fn as_str(self) -> &'static str {
        match self {
            List::Associations => "associations",
            List::Members => "members",
            List::Helped => "helped",
            List::Loans(f) => f.as_str(),
            List::Projects(k) => k.as_str(),
        }
    }
}

/// A child's figures, for the table under a township, county or the city.
struct ChildRow {
    code: String,
    name: String,
    summary: AidSummary,
}

#[derive(Template)]
#[template(path = "aid/board.html")]
struct BoardPage {
    tr: Tr,
    f: Frame,
    org: Node,
    summary: AidSummary,
    children: Vec<ChildRow>,
    list: &'static str,
    associations: Vec<Association>,
    members: Vec<AidMember>,
    loans: Vec<Loan>,
    projects: Vec<Project>,
    total: i64,
    page: i64,
    pages: i64,
    programmes: Vec<Programme>,
    /// The reader may found an association here, and set up a programme.
    founds: bool,
    sets_programmes: bool,
    methods: Vec<RepaymentMethod>,
    today: String,
}

impl BoardPage {
    fn list_is(&self, l: &str) -> bool {
        self.list == l
    }
    fn is_loan_list(&self) -> bool {
        LoanFilter::parse(self.list).is_some()
    }
    fn is_project_list(&self) -> bool {
        ProjectKind::parse(self.list).is_some()
    }
    fn stage(&self, l: &Loan) -> String {
        stage_word(self.tr, l)
    }
    fn method(&self, m: &RepaymentMethod) -> String {
        self.tr.word("aid.method", m.as_str())
    }
    fn rate(&self, bp: &i64) -> String {
        format!("{}%", rate_text(*bp))
    }
}

#[derive(Deserialize, Default)]
struct BoardQuery {
    #[serde(default)]
    list: String,
    #[serde(default)]
    page: String,
}

/// `GET /orgs/{code}/aid`.
async fn board(
    State(state): State<AppState>,
    Auth(me): Auth,
    tr: Tr,
    uri: OriginalUri,
    CodeParam(code): CodeParam,
    Query(q): Query<BoardQuery>,
) -> Result<Response, AppError> {
    let org = state.db.org(me.scope(), &code).await?;
    if !matches!(
        org.level,
        Level::City | Level::County | Level::Township | Level::Village
    ) {
        return Err(AppError::NotFound);
    }
    let list = match q.list.as_str() {
        "" => List::Associations,
        s => List::parse(s).ok_or(AppError::NotFound)?,
    };
    let page: i64 = q.page.parse().unwrap_or(1).clamp(1, 100_000);
    let offset = (page - 1) * PAGE;
    let summary = state.db.aid_summary(&org).await?;
    let mut children = Vec::new();
    if org.level != Level::Village {
        let areas: Vec<Node> = state
            .db
            .org_children(me.scope(), &org.code, false)
            .await?
            .into_iter()
            .filter(|c| matches!(c.level, Level::County | Level::Township | Level::Village))
            .collect();
        let summaries = state.db.aid_summaries(&org, &areas).await?;
        children = areas
            .iter()
            .zip(summaries)
            .map(|(c, summary)| ChildRow {
                code: c.code.as_str().to_string(),
                name: c.name.clone(),
                summary,
            })
            .collect();
    }
    let (mut associations, mut members, mut loans, mut projects) =
        (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    let total = match list {
        List::Associations => {
            let (l, n) = state.db.associations_under(&org, offset, PAGE).await?;
            associations = l;
            n
        }
        List::Members | List::Helped => {
            let (l, n) = state
                .db
                .aid_members_under(&org, list == List::Helped, offset, PAGE)
                .await?;
            members = l;
            n
        }
        List::Loans(filter) => {
            let (l, n) = state.db.loans_under(&org, filter, offset, PAGE).await?;
            loans = l;
            n
        }
        List::Projects(kind) => {
            let (l, n) = state
                .db
                .aid_projects_under(&org, kind, offset, PAGE)
                .await?;
            projects = l;
            n
        }
    };
    html(&BoardPage {
        tr,
        f: Frame::new(&state, &me, tr, &here(&uri), "aid").await?,
        founds: matches!(org.level, Level::Village | Level::Township) && keeps(&me, &org.path),
        sets_programmes: approves(&me, &org.path),
        programmes: state.db.programmes_for(&org.path).await?,
        org,
        summary,
        children,
        list: list.as_str(),
        associations,
        members,
        loans,
        projects,
        total,
        page,
        pages: (total + PAGE - 1) / PAGE,
        methods: vec![
            RepaymentMethod::EqualInstalments,
            RepaymentMethod::InterestMonthly,
        ],
        today: today(&state),
    })
}

#[derive(Deserialize, Default)]
struct AssociationForm {
    #[serde(default)]
    name: String,
    #[serde(default)]
    trade: String,
    #[serde(default)]
    founded_on: String,
}

/// `POST /orgs/{code}/aid/associations`: founds an association here.
async fn create_association(
    State(state): State<AppState>,
    Auth(me): Auth,
    CodeParam(code): CodeParam,
    axum::Form(form): axum::Form<AssociationForm>,
) -> Result<Response, AppError> {
    let org = state.db.org(me.scope(), &code).await?;
    let id = state
        .db
        .create_association(
            &me.actor,
            &org,
            &NewAssociation {
                name: form.name,
                trade: form.trade,
                founded_on: form.founded_on,
            },
            &today(&state),
            state.clock.now_ms(),
        )
        .await?;
    Ok(Redirect::to(&format!("/aid/associations/{id}")).into_response())
}

#[derive(Deserialize, Default)]
struct ProgrammeForm {
    #[serde(default)]
    name: String,
    #[serde(default)]
    limit: String,
    #[serde(default)]
    rate: String,
    #[serde(default)]
    months: String,
    #[serde(default)]
    method: String,
}

/// `POST /orgs/{code}/aid/programmes`: a credit programme's terms, as data.
async fn create_programme(
    State(state): State<AppState>,
    Auth(me): Auth,
    CodeParam(code): CodeParam,
    axum::Form(form): axum::Form<ProgrammeForm>,
) -> Result<Response, AppError> {
    let org = state.db.org(me.scope(), &code).await?;
    state
        .db
        .create_programme(
            &me.actor,
            &org,
            &NewProgramme {
                name: form.name,
                limit: form.limit,
                rate: form.rate,
                months: form.months,
                method: form.method,
            },
            state.clock.now_ms(),
        )
        .await?;
    Ok(Redirect::to(&format!("/orgs/{}/aid", org.code)).into_response())
}

/// The association figures under a node.
#[derive(serde::Serialize, utoipa::ToSchema)]
pub struct AidSummaryView {
    pub code: String,
    pub associations: i64,
    pub members: i64,
    /// Members helped out of poverty (脱贫).
    pub helped: i64,
    /// Loans disbursed (repaid or not), the principal lent and still owed, in fen; loans
    /// overdue now.
    pub loans: i64,
    pub lent_fen: i64,
    pub outstanding_fen: i64,
    pub overdue: i64,
    pub cooperatives: i64,
    pub leading_firms: i64,
    pub startup_bases: i64,
    pub households_led: i64,
    pub grants_paid: i64,
    pub grants_paid_fen: i64,
}

#[utoipa::path(
    get,
    path = "/api/v1/orgs/{code}/aid/summary",
    params(("code" = String, Path)),
    responses((status = 200, body = AidSummaryView), (status = 404))
)]
pub(crate) async fn api_summary(
    State(state): State<AppState>,
    Auth(me): Auth,
    CodeParam(code): CodeParam,
) -> Result<Response, AppError> {
    let org = state.db.org(me.scope(), &code).await?;
    let s = state.db.aid_summary(&org).await?;
    Ok(Json(AidSummaryView {
        code: org.code.as_str().to_string(),
        associations: s.associations,
        members: s.members,
        helped: s.helped,
        loans: s.loans,
        lent_fen: s.lent_fen,
        outstanding_fen: s.outstanding_fen,
        overdue: s.overdue,
        cooperatives: s.cooperatives,
        leading_firms: s.leading_firms,
        startup_bases: s.startup_bases,
        households_led: s.households_led,
        grants_paid: s.grants_paid,
        grants_paid_fen: s.grants_paid_fen,
    })
    .into_response())
}

/// What waits for a reader: the overdue loans they disbursed (`loan_overdue`), and the loan and
/// grant steps the maker-checker rule leaves to them (`loan_review`, `loan_approval`,
/// `loan_disbursement`, `grant_approval`, `grant_payment`).
pub(crate) async fn tasks(
    state: &AppState,
    me: &CurrentUser,
    tr: Tr,
) -> Result<Vec<crate::task::Task>, AppError> {
    if !me.role().may(Capability::KeepAid) {
        return Ok(Vec::new());
    }
    let mut items: Vec<crate::task::Task> = state
        .db
        .overdue_loans_kept_by(&me.actor)
        .await?
        .into_iter()
        .map(|l| crate::task::Task {
            kind: "loan_overdue",
            title: tr.f(
                "aid.task.overdue",
                &[
                    ("name", &l.borrower_name),
                    ("association", &l.association_name),
                    ("owed", &tr.yuan(l.outstanding())),
                ],
            ),
            url: format!("/aid/loans/{}", l.id),
            due: l.overdue_since,
        })
        .collect();
    for w in state.db.aid_steps_waiting(&me.actor).await? {
        let key = match w.step {
            AidStep::LoanReview => "aid.task.loan_review",
            AidStep::LoanApproval => "aid.task.loan_approval",
            AidStep::LoanDisbursement => "aid.task.loan_disbursement",
            AidStep::GrantApproval => "aid.task.grant_approval",
            AidStep::GrantPayment => "aid.task.grant_payment",
        };
        let url = match w.step {
            AidStep::GrantApproval | AidStep::GrantPayment => {
                format!("/aid/associations/{}#grant-{}", w.association_id, w.id)
            }
            _ => format!("/aid/loans/{}", w.id),
        };
        items.push(crate::task::Task {
            kind: w.step.as_str(),
            title: tr.f(
                key,
                &[
                    ("name", &w.person),
                    ("association", &w.association_name),
                    ("amount", &tr.yuan(w.amount)),
                ],
            ),
            url,
            due: None,
        });
    }
    Ok(items)
}

/// `GET /orgs/{code}/aid/chart/{chart}`: by child, `members` (members and those helped out of
/// poverty) or `loans` (lent and outstanding, in 万元); every bar opens the child's list.
async fn chart_data(
    State(state): State<AppState>,
    Auth(me): Auth,
    tr: Tr,
    axum::extract::Path((code, chart)): axum::extract::Path<(String, String)>,
) -> Result<Response, AppError> {
    use crate::chart::{ChartData, ChartKind};
    let code = baiqian_domain::org::OrgCode::parse(&code).map_err(|_| AppError::NotFound)?;
    let org = state.db.org(me.scope(), &code).await?;
    let areas: Vec<Node> = state
        .db
        .org_children(me.scope(), &org.code, false)
        .await?
        .into_iter()
        .filter(|c| matches!(c.level, Level::County | Level::Township | Level::Village))
        .collect();
    let summaries = state.db.aid_summaries(&org, &areas).await?;
    let names: Vec<String> = areas.iter().map(|c| c.name.clone()).collect();
    let links = |list: &str| -> Vec<String> {
        areas
            .iter()
            .map(|c| format!("/orgs/{}/aid?list={list}", c.code))
            .collect()
    };
    let wan = |fen: i64| (fen as f64 / 1_000_000.0 * 100.0).round() / 100.0;
    let data = match chart.as_str() {
        "members" => ChartData::new(ChartKind::Bar, names)
            .series(
                tr.t("aid.members").to_string(),
                summaries.iter().map(|s| s.members as f64).collect(),
                links("members"),
            )
            .series(
                tr.t("aid.helped").to_string(),
                summaries.iter().map(|s| s.helped as f64).collect(),
                links("helped"),
            ),
        "loans" => {
            let mut d = ChartData::new(ChartKind::Bar, names)
                .series(
                    tr.t("aid.lent").to_string(),
                    summaries.iter().map(|s| wan(s.lent_fen)).collect(),
                    links("lent"),
                )
                .series(
                    tr.t("aid.outstanding").to_string(),
                    summaries.iter().map(|s| wan(s.outstanding_fen)).collect(),
                    links("outstanding"),
                );
            d.unit = tr.t("aid.unit_wan").to_string();
            d
        }
        _ => return Err(AppError::NotFound),
    };
    Ok(data.into_response())
}
