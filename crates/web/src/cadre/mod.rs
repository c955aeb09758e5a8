//! The cadres in the browser and the API (干部队伍): a village's secretaries term by term with
//! their grades, the forms to appoint, adjust and grade; first secretaries, their dispatch and
//! reports; at a township, county or the city the figures and the lists behind them. The store
//! checks role and scope again on every write; a refusal writes nothing.

pub(crate) mod api;
mod dispatch;
mod import;

use askama::Template;
use axum::Form;
use axum::extract::{OriginalUri, Path, Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use baiqian_domain::Msg;
use baiqian_domain::cadre::{Fitness, SecretaryOrigin, SentFrom, TermEnd};
use baiqian_domain::capability::Capability;
use baiqian_domain::org::Level;
use baiqian_domain::role::Role;
use baiqian_domain::time::china_date;
use baiqian_store::cadre::{
    Appointment, CadreSummary, Ending, FirstSecretary, Grade, NewSecretary, Secretary,
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
        .get("/orgs/{code}/cadres", Capability::ReadCadres, page)
        .post(
            "/orgs/{code}/secretaries",
            Capability::ManageCadres,
            appoint,
        )
        .get(
            "/orgs/{code}/secretaries/import",
            Capability::ManageCadres,
            import::secretaries_page,
        )
        .post(
            "/orgs/{code}/secretaries/import",
            Capability::ManageCadres,
            import::secretaries,
        )
        .get(
            "/orgs/{code}/first-secretaries/import",
            Capability::ManageCadres,
            import::firsts_page,
        )
        .post(
            "/orgs/{code}/first-secretaries/import",
            Capability::ManageCadres,
            import::firsts,
        )
        .post("/secretaries/{id}/fitness", Capability::ManageCadres, grade)
        .post(
            "/secretaries/{id}/reveal",
            Capability::RevealPersonalData,
            reveal,
        )
        .post(
            "/first-secretaries/{id}/reveal",
            Capability::RevealPersonalData,
            dispatch::reveal,
        )
        .post(
            "/orgs/{code}/first-secretaries",
            Capability::ManageCadres,
            dispatch::create,
        )
        .get(
            "/first-secretaries/{id}",
            Capability::ReadCadres,
            dispatch::page,
        )
        .post(
            "/first-secretaries/{id}/reports",
            Capability::ManageCadres,
            dispatch::report,
        )
        .post(
            "/first-secretaries/{id}/end",
            Capability::ManageCadres,
            dispatch::end,
        )
        .get(
            "/api/v1/orgs/{code}/cadres/summary",
            Capability::ReadCadres,
            api::api_summary,
        )
}

fn today(state: &AppState) -> String {
    china_date(state.clock.now_ms())
}

/// Whether the reader keeps the cadres of the village at `path` (the administrations above it).
fn keeps(me: &CurrentUser, path: &str) -> bool {
    me.role().may(Capability::ManageCadres)
        && me.scope().contains_path(path)
        && !me.scope().is_root_path(path)
}

/// A child's figures, for the table under a township, county or the city.
struct ChildRow {
    code: String,
    name: String,
    summary: CadreSummary,
}

/// Which list an area's page shows under its figures.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum List {
    Secretaries,
    Adjusted,
    FirstSecretaries,
    Stationed,
}

impl List {
    fn parse(s: &str) -> Option<Self> {
        match s {
            "secretaries" => Some(List::Secretaries),
            "adjusted" => Some(List::Adjusted),
            "first" => Some(List::FirstSecretaries),
            "stationed" => Some(List::Stationed),
            _ => None,
        }
    }

    fn as_str(self) -> &'static str {
        match self {
            List::Secretaries => "secretaries",
            List::Adjusted => "adjusted",
            List::FirstSecretaries => "first",
            List::Stationed => "stationed",
        }
    }
}

#[derive(Template)]
#[template(path = "cadre/cadres.html")]
struct CadresPage {
    tr: Tr,
    f: Frame,
    org: Node,
    village: bool,
    summary: CadreSummary,
    children: Vec<ChildRow>,
    list: Option<&'static str>,
    secretaries: Vec<Secretary>,
    firsts: Vec<FirstSecretary>,
    total: i64,
    page: i64,
    pages: i64,
    /// The reader keeps this village's cadres; dispatches first secretaries here.
    keeps: bool,
    dispatches: bool,
    origins: Vec<SecretaryOrigin>,
    grades: Vec<Fitness>,
    sent_from: Vec<SentFrom>,
    today: String,
    this_year: i64,
    /// A secretary's whole phone, just revealed (its term's id, the phone).
    revealed: Option<(i64, Option<String>)>,
    can_reveal: bool,
}

impl CadresPage {
    /// The phone as shown: whole when just revealed for this term, else masked.
    fn phone(&self, s: &Secretary) -> String {
        match &self.revealed {
            Some((id, p)) if *id == s.id => p.clone().unwrap_or_else(|| "—".into()),
            _ => s.phone_masked.clone().unwrap_or_else(|| "—".into()),
        }
    }
    fn revealed_here(&self, s: &Secretary) -> bool {
        matches!(&self.revealed, Some((id, _)) if *id == s.id)
    }
    fn origin(&self, o: &SecretaryOrigin) -> String {
        self.tr.word("cadre.origin", o.as_str())
    }
    fn grade(&self, g: &Fitness) -> String {
        self.tr.word("cadre.grade", g.as_str())
    }
    fn end_kind(&self, k: &Option<TermEnd>) -> String {
        k.map(|k| self.tr.word("cadre.end", k.as_str()))
            .unwrap_or_default()
    }
    fn from(&self, s: &SentFrom) -> String {
        self.tr.word("cadre.sent_from", s.as_str())
    }
    fn current(&self) -> Option<&Secretary> {
        self.secretaries.first().filter(|s| s.until.is_none())
    }
    fn past(&self) -> Vec<&Secretary> {
        self.secretaries
            .iter()
            .filter(|s| s.until.is_some())
            .collect()
    }
    fn first_in_post(&self) -> Option<&FirstSecretary> {
        self.firsts.first().filter(|f| f.ended_on.is_none())
    }
    fn grade_years(&self) -> Vec<i64> {
        (self.this_year - 4..=self.this_year).rev().collect()
    }
    fn list_is(&self, l: &str) -> bool {
        self.list == Some(l)
    }
}

#[derive(Deserialize, Default, Clone)]
struct PageQuery {
    #[serde(default)]
    list: String,
    #[serde(default)]
    page: String,
}

/// `GET /orgs/{code}/cadres`.
async fn page(
    State(state): State<AppState>,
    Auth(me): Auth,
    tr: Tr,
    uri: OriginalUri,
    CodeParam(code): CodeParam,
    Query(q): Query<PageQuery>,
) -> Result<Response, AppError> {
    render(&state, &me, tr, &uri, &code, &q, None).await
}

/// `POST /secretaries/{id}/reveal`: the village's page with this secretary's whole phone, the
/// look audited.
async fn reveal(
    State(state): State<AppState>,
    Auth(me): Auth,
    tr: Tr,
    uri: OriginalUri,
    Path(id): Path<i64>,
) -> Result<Response, AppError> {
    let (code, phone) = state
        .db
        .reveal_cadre_phone(
            &me.actor,
            &state.vault,
            baiqian_store::cadre::CadreKind::Secretary,
            id,
            state.clock.now_ms(),
        )
        .await?;
    let code = baiqian_domain::org::OrgCode::parse(&code)
        .map_err(|_| AppError::Internal("secretary's village code".into()))?;
    let mut res = render(
        &state,
        &me,
        tr,
        &uri,
        &code,
        &PageQuery::default(),
        Some((id, phone)),
    )
    .await?;
    no_store(&mut res);
    Ok(res)
}

/// A page that shows personal data unmasked is kept by no cache.
fn no_store(res: &mut Response) {
    res.headers_mut().insert(
        axum::http::header::CACHE_CONTROL,
        axum::http::HeaderValue::from_static("no-store"),
    );
}

async fn render(
    state: &AppState,
    me: &CurrentUser,
    tr: Tr,
    uri: &OriginalUri,
    code: &baiqian_domain::org::OrgCode,
    q: &PageQuery,
    revealed: Option<(i64, Option<String>)>,
) -> Result<Response, AppError> {
    let org = state.db.org(me.scope(), code).await?;
    if !matches!(
        org.level,
        Level::City | Level::County | Level::Township | Level::Village
    ) {
        return Err(AppError::NotFound);
    }
    let village = org.level == Level::Village;
    let summary = state.db.cadre_summary(&org).await?;
    let list = if q.list.is_empty() {
        None
    } else {
        Some(List::parse(&q.list).ok_or(AppError::NotFound)?)
    };
    let page: i64 = q.page.parse().unwrap_or(1).clamp(1, 100_000);
    let offset = (page - 1) * PAGE;
    let mut children = Vec::new();
    let (mut secretaries, mut firsts, mut total) = (Vec::new(), Vec::new(), 0);
    if village {
        secretaries = state.db.secretaries_of(&org).await?;
        firsts = state.db.first_secretaries_of(&org).await?;
    } else {
        let areas: Vec<Node> = state
            .db
            .org_children(me.scope(), &org.code, false)
            .await?
            .into_iter()
            .filter(|c| matches!(c.level, Level::County | Level::Township | Level::Village))
            .collect();
        let summaries = state.db.cadre_summaries(&org, &areas).await?;
        children = areas
            .iter()
            .zip(summaries)
            .map(|(c, summary)| ChildRow {
                code: c.code.as_str().to_string(),
                name: c.name.clone(),
                summary,
            })
            .collect();
        match list {
            Some(l @ (List::Secretaries | List::Adjusted)) => {
                (secretaries, total) = state
                    .db
                    .secretary_list(&org, l == List::Adjusted, offset, PAGE)
                    .await?;
            }
            Some(l) => {
                (firsts, total) = state
                    .db
                    .first_secretary_list(&org, l == List::Stationed, offset, PAGE)
                    .await?;
            }
            None => {}
        }
    }
    let today = today(state);
    let this_year = today.get(0..4).and_then(|y| y.parse().ok()).unwrap_or(2016);
    html(&CadresPage {
        tr,
        f: Frame::new(state, me, tr, &here(uri), "cadres").await?,
        keeps: village && keeps(me, &org.path),
        dispatches: village
            && keeps(me, &org.path)
            && matches!(me.role(), Role::CityAdmin | Role::CountyAdmin),
        org,
        village,
        summary,
        children,
        list: list.map(List::as_str),
        secretaries,
        firsts,
        total,
        page,
        pages: (total + PAGE - 1) / PAGE,
        origins: SecretaryOrigin::ALL.to_vec(),
        grades: Fitness::ALL.to_vec(),
        sent_from: vec![SentFrom::City, SentFrom::County],
        today,
        this_year,
        revealed,
        can_reveal: me.role().may_see_personal_data(),
    })
}

#[derive(Deserialize, Default)]
struct AppointForm {
    #[serde(default)]
    name: String,
    #[serde(default)]
    phone: String,
    #[serde(default)]
    origin: String,
    #[serde(default)]
    origin_note: String,
    #[serde(default)]
    since: String,
    /// How the current term ends: empty (nobody in post), `adjusted` or `left`.
    #[serde(default)]
    ending: String,
    #[serde(default)]
    reason: String,
}

/// `POST /orgs/{code}/secretaries`: a new secretary, ending the current one's term.
async fn appoint(
    State(state): State<AppState>,
    Auth(me): Auth,
    CodeParam(code): CodeParam,
    Form(form): Form<AppointForm>,
) -> Result<Response, AppError> {
    let org = state.db.org(me.scope(), &code).await?;
    let ending = match form.ending.trim() {
        "" => None,
        e => Some(Ending {
            kind: TermEnd::parse(e).ok_or(AppError::Invalid(Msg::new("cadre.error.ending")))?,
            reason: form.reason,
        }),
    };
    let appointment = Appointment {
        secretary: NewSecretary {
            name: form.name,
            phone: form.phone,
            origin: form.origin,
            origin_note: form.origin_note,
            since: form.since,
        },
        ending,
    };
    state
        .db
        .appoint_secretary(
            &me.actor,
            &state.vault,
            &org,
            &appointment,
            &today(&state),
            state.clock.now_ms(),
        )
        .await?;
    Ok(Redirect::to(&format!("/orgs/{}/cadres", org.code)).into_response())
}

#[derive(Deserialize, Default)]
struct GradeForm {
    #[serde(default)]
    year: String,
    #[serde(default)]
    grade: String,
    #[serde(default)]
    note: String,
}

/// `POST /secretaries/{id}/fitness`: a year's grade.
async fn grade(
    State(state): State<AppState>,
    Auth(me): Auth,
    Path(id): Path<i64>,
    Form(form): Form<GradeForm>,
) -> Result<Response, AppError> {
    let year: i64 = form
        .year
        .trim()
        .parse()
        .map_err(|_| AppError::Invalid(Msg::new("cadre.error.year")))?;
    let grade = Fitness::parse(&form.grade)
        .ok_or_else(|| AppError::Invalid(Msg::new("cadre.error.grade")))?;
    let village = state
        .db
        .grade_secretary(
            &me.actor,
            id,
            &Grade {
                year,
                grade,
                note: form.note,
            },
            &today(&state),
            state.clock.now_ms(),
        )
        .await?;
    Ok(Redirect::to(&format!("/orgs/{village}/cadres")).into_response())
}

/// What waits for a township in the cadres: last year's fitness grades once the year is over,
/// and first secretaries' reports of the last quarter (`fitness_due`, `report_due`).
pub(crate) async fn tasks(
    state: &AppState,
    me: &CurrentUser,
    tr: Tr,
) -> Result<Vec<crate::task::Task>, AppError> {
    if me.role() != Role::TownshipAdmin {
        return Ok(Vec::new());
    }
    let today = today(state);
    let year: i64 = today.get(0..4).and_then(|y| y.parse().ok()).unwrap_or(0) - 1;
    let home = me.user.org_code.clone();
    let mut out = Vec::new();
    let due = state.db.fitness_due(&me.actor, year).await?;
    if due > 0 {
        out.push(crate::task::Task {
            kind: "fitness_due",
            title: tr.f(
                "cadre.task.fitness",
                &[("n", &tr.num(due)), ("year", &year.to_string())],
            ),
            url: format!("/orgs/{home}/cadres?list=secretaries"),
            due: None,
        });
    }
    for r in state.db.reports_due(&me.actor, &today, 50).await? {
        out.push(crate::task::Task {
            kind: "report_due",
            title: tr.f(
                "cadre.task.report",
                &[
                    ("name", &r.name),
                    ("org", &r.org_name),
                    ("quarter", &r.quarter),
                ],
            ),
            url: format!("/first-secretaries/{}", r.id),
            due: None,
        });
    }
    Ok(out)
}
