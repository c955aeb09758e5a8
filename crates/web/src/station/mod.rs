//! Red-butler service stations in the browser and the API (红管家服务驿站): a node's board of
//! its stations with their figures and a chart of response times, a county's catalogue of
//! services, a station's page (its services and their figures, its offer, its requests), a
//! request's page where the keeper gives it to a volunteer and the volunteer marks it done.
//! The public side (no sign-in) is `public`. The store checks role, scope and who may take
//! each step again on every write; a refusal writes nothing.

pub(crate) mod public;

use askama::Template;
use axum::Json;
use axum::extract::{OriginalUri, Path, Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use baiqian_domain::capability::Capability;
use baiqian_domain::org::Level;
use baiqian_store::kernel::Node;
use baiqian_store::station::{
    ClientKind, NewService, NewStation, RequestFilter, RequestStatus, Service, ServiceDomain,
    ServiceFigures, ServiceMode, ServiceRequest, Station, StationFigures, StationTotals,
};
use serde::Deserialize;

use crate::auth::{Auth, CurrentUser};
use crate::chart::{ChartData, ChartKind};
use crate::error::{AppError, html};
use crate::extract::CodeParam;
use crate::frame::{Frame, here};
use crate::i18n::Tr;
use crate::routes::Routes;
use crate::state::AppState;

/// Rows per page: a board's stations, a station's requests.
const PAGE: i64 = 100;

pub fn routes() -> Routes {
    Routes::new()
        .get("/orgs/{code}/stations", Capability::ReadStations, board)
        .post(
            "/orgs/{code}/stations",
            Capability::KeepStations,
            open_station,
        )
        .get(
            "/orgs/{code}/stations/chart",
            Capability::ReadStations,
            chart,
        )
        .post(
            "/orgs/{code}/station-services",
            Capability::KeepStations,
            add_service,
        )
        .get("/stations/{id}", Capability::ReadStations, station_page)
        .post("/stations/{id}/offers", Capability::KeepStations, offers)
        .get(
            "/service-requests/{id}",
            Capability::ReadStations,
            request_page,
        )
        .post(
            "/service-requests/{id}/done",
            Capability::ServeStations,
            done,
        )
        .post(
            "/service-requests/{id}/{action}",
            Capability::KeepStations,
            keeper_step,
        )
        .get(
            "/api/v1/orgs/{code}/stations",
            Capability::ReadStations,
            api_stations,
        )
        .merge(public::routes())
}

/// A figure with one decimal, or a dash.
fn one_decimal(v: Option<f64>) -> String {
    v.map_or_else(|| "—".into(), |v| format!("{v:.1}"))
}

#[derive(Template)]
#[template(path = "station/board.html")]
struct BoardPage {
    tr: Tr,
    f: Frame,
    org: Node,
    totals: StationTotals,
    stations: Vec<StationFigures>,
    catalogue: Vec<Service>,
    /// All the stations under the node; the page shown of how many.
    count: i64,
    page: i64,
    pages: i64,
    /// The reader may open a station here / keep the catalogue here.
    opens: bool,
    catalogues: bool,
}

impl BoardPage {
    fn chart_url(&self) -> String {
        format!("/orgs/{}/stations/chart?page={}", self.org.code, self.page)
    }
    fn minutes(&self, t: &StationTotals) -> String {
        one_decimal(t.response_minutes())
    }
    fn hours(&self, t: &StationTotals) -> String {
        one_decimal(t.completion_hours())
    }
    fn score(&self, t: &StationTotals) -> String {
        one_decimal(t.score())
    }
    fn domain(&self, s: &Service) -> String {
        self.tr.word("station.domain", s.domain.as_str())
    }
    fn mode(&self, s: &Service) -> String {
        self.tr.word("station.mode", s.mode.as_str())
    }
    fn clients(&self, s: &Service) -> String {
        s.clients
            .iter()
            .map(|c| self.tr.word("station.client", c.as_str()))
            .collect::<Vec<_>>()
            .join("、")
    }
    fn domains(&self) -> Vec<(&'static str, String)> {
        ServiceDomain::ALL
            .iter()
            .map(|d| (d.as_str(), self.tr.word("station.domain", d.as_str())))
            .collect()
    }
    fn modes(&self) -> Vec<(&'static str, String)> {
        ServiceMode::ALL
            .iter()
            .map(|d| (d.as_str(), self.tr.word("station.mode", d.as_str())))
            .collect()
    }
    fn client_kinds(&self) -> Vec<(&'static str, String)> {
        ClientKind::ALL
            .iter()
            .map(|d| (d.as_str(), self.tr.word("station.client", d.as_str())))
            .collect()
    }
}

/// The levels a stations board is for.
fn board_level(node: &Node) -> Result<(), AppError> {
    if matches!(
        node.level,
        Level::City | Level::County | Level::Township | Level::Village
    ) {
        Ok(())
    } else {
        Err(AppError::NotFound)
    }
}

#[derive(Deserialize, Default)]
struct PageQuery {
    #[serde(default)]
    page: String,
}

/// `GET /orgs/{code}/stations`: the figures of all the stations under the node, and a page of
/// a hundred of them, by place, with a chart of the page.
async fn board(
    State(state): State<AppState>,
    Auth(me): Auth,
    tr: Tr,
    uri: OriginalUri,
    CodeParam(code): CodeParam,
    Query(q): Query<PageQuery>,
) -> Result<Response, AppError> {
    let org = state.db.org(me.scope(), &code).await?;
    board_level(&org)?;
    let page: i64 = q.page.parse().unwrap_or(1).clamp(1, 100_000);
    let (totals, count, stations, catalogue) = tokio::try_join!(
        state.db.station_totals_under(&org),
        state.db.station_count_under(&org),
        state
            .db
            .station_figures_under(&org, (page - 1) * PAGE, PAGE),
        state.db.station_catalogue(&org),
    )?;
    let keeps = me.role().may(Capability::KeepStations);
    html(&BoardPage {
        tr,
        f: Frame::new(&state, &me, tr, &here(&uri), "stations").await?,
        opens: keeps && matches!(org.level, Level::Township | Level::Village),
        catalogues: keeps && org.level == Level::County,
        org,
        totals,
        stations,
        catalogue,
        count,
        page,
        pages: (count + PAGE - 1) / PAGE,
    })
}

#[derive(Deserialize, Default)]
struct StationForm {
    #[serde(default)]
    name: String,
    #[serde(default)]
    address: String,
    #[serde(default)]
    teams: String,
}

/// `POST /orgs/{code}/stations`: opens a station here.
async fn open_station(
    State(state): State<AppState>,
    Auth(me): Auth,
    CodeParam(code): CodeParam,
    axum::Form(form): axum::Form<StationForm>,
) -> Result<Response, AppError> {
    let org = state.db.org(me.scope(), &code).await?;
    let id = state
        .db
        .create_station(
            &me.actor,
            &org,
            &NewStation {
                name: form.name,
                address: form.address,
                teams: form.teams,
            },
            state.clock.now_ms(),
        )
        .await?;
    Ok(Redirect::to(&format!("/stations/{id}")).into_response())
}

/// `POST /orgs/{code}/station-services`: a service into the county's catalogue. The client
/// kinds come as repeated `client` fields.
async fn add_service(
    State(state): State<AppState>,
    Auth(me): Auth,
    CodeParam(code): CodeParam,
    body: axum::body::Bytes,
) -> Result<Response, AppError> {
    let org = state.db.org(me.scope(), &code).await?;
    let mut new = NewService::default();
    for (k, v) in form_urlencoded::parse(&body) {
        match k.as_ref() {
            "name" => new.name = v.into_owned(),
            "domain" => new.domain = v.into_owned(),
            "mode" => new.mode = v.into_owned(),
            "client" if new.clients.len() < 8 => new.clients.push(v.into_owned()),
            _ => {}
        }
    }
    state
        .db
        .add_station_service(&me.actor, &org, &new, state.clock.now_ms())
        .await?;
    Ok(Redirect::to(&format!("/orgs/{}/stations#catalogue", org.code)).into_response())
}

/// `GET /orgs/{code}/stations/chart?page=`: each station's of the board's page, mean minutes to
/// a volunteer and hours to done, a click opening the station.
async fn chart(
    State(state): State<AppState>,
    Auth(me): Auth,
    tr: Tr,
    CodeParam(code): CodeParam,
    Query(q): Query<PageQuery>,
) -> Result<Response, AppError> {
    let org = state.db.org(me.scope(), &code).await?;
    board_level(&org)?;
    let page: i64 = q.page.parse().unwrap_or(1).clamp(1, 100_000);
    let stations = state
        .db
        .station_figures_under(&org, (page - 1) * PAGE, PAGE)
        .await?;
    let names = stations.iter().map(|s| s.name.clone()).collect();
    let links: Vec<String> = stations
        .iter()
        .map(|s| format!("/stations/{}", s.station_id))
        .collect();
    let round = |v: Option<f64>| v.map_or(0.0, |v| (v * 10.0).round() / 10.0);
    Ok(ChartData::new(ChartKind::Bar, names)
        .series(
            tr.t("station.response_minutes").to_string(),
            stations
                .iter()
                .map(|s| round(s.totals.response_minutes()))
                .collect(),
            links.clone(),
        )
        .series(
            tr.t("station.completion_hours").to_string(),
            stations
                .iter()
                .map(|s| round(s.totals.completion_hours()))
                .collect(),
            links,
        )
        .into_response())
}

#[derive(Template)]
#[template(path = "station/show.html")]
struct StationPage {
    tr: Tr,
    f: Frame,
    s: Station,
    services: Vec<ServiceFigures>,
    catalogue: Vec<Service>,
    offered: Vec<i64>,
    requests: Vec<ServiceRequest>,
    list: &'static str,
    page: i64,
    keeps: bool,
    /// The reader sees the station's requests (a volunteer sees only theirs, on their home).
    reads_requests: bool,
}

impl StationPage {
    fn current(&self, code: &str) -> bool {
        code == self.list
    }
    fn minutes(&self, t: &StationTotals) -> String {
        one_decimal(t.response_minutes())
    }
    fn hours(&self, t: &StationTotals) -> String {
        one_decimal(t.completion_hours())
    }
    fn score(&self, t: &StationTotals) -> String {
        one_decimal(t.score())
    }
    fn status(&self, r: &ServiceRequest) -> String {
        self.tr.word("station.status", r.status.as_str())
    }
    fn lists(&self) -> Vec<(&'static str, String)> {
        std::iter::once("all")
            .chain(RequestStatus::ALL.iter().map(|s| s.as_str()))
            .map(|s| (s, self.tr.word("station.list", s)))
            .collect()
    }
}

#[derive(Deserialize, Default)]
struct ListQuery {
    #[serde(default)]
    list: String,
    #[serde(default)]
    page: String,
}

/// Whether a role reads a station's requests: its keepers, and the readers who serve none
/// (leaders, auditors); a volunteer sees the ones given to them.
fn reads_requests(me: &CurrentUser) -> bool {
    me.role().may(Capability::KeepStations) || !me.role().may(Capability::ServeStations)
}

/// `GET /stations/{id}`.
async fn station_page(
    State(state): State<AppState>,
    Auth(me): Auth,
    tr: Tr,
    uri: OriginalUri,
    Path(id): Path<i64>,
    Query(q): Query<ListQuery>,
) -> Result<Response, AppError> {
    let s = state.db.station(&me.actor, id).await?;
    let filter = match q.list.as_str() {
        "" | "all" => RequestFilter::All,
        l => RequestFilter::Status(RequestStatus::parse(l).ok_or(AppError::NotFound)?),
    };
    let list = match filter {
        RequestFilter::All => "all",
        RequestFilter::Status(s) => s.as_str(),
    };
    let page: i64 = q.page.parse().unwrap_or(1).clamp(1, 100_000);
    let keeps = me.role().may(Capability::KeepStations);
    let reads = reads_requests(&me);
    let services = state.db.station_service_figures(id).await?;
    let catalogue = if keeps {
        let node = state
            .db
            .org(
                me.scope(),
                &baiqian_domain::org::OrgCode::parse(&s.org_code)
                    .map_err(|_| AppError::NotFound)?,
            )
            .await?;
        state.db.station_catalogue(&node).await?
    } else {
        Vec::new()
    };
    let offered = state
        .db
        .station_services(id)
        .await?
        .iter()
        .map(|v| v.id)
        .collect();
    let requests = if reads {
        state
            .db
            .station_requests(&me.actor, id, filter, (page - 1) * PAGE, PAGE)
            .await?
    } else {
        Vec::new()
    };
    html(&StationPage {
        tr,
        f: Frame::new(&state, &me, tr, &here(&uri), "stations").await?,
        s,
        services,
        catalogue,
        offered,
        requests,
        list,
        page,
        keeps,
        reads_requests: reads,
    })
}

/// `POST /stations/{id}/offers`: the services the station offers (repeated `service`
/// fields) and whether it takes requests (`open`).
async fn offers(
    State(state): State<AppState>,
    Auth(me): Auth,
    Path(id): Path<i64>,
    body: axum::body::Bytes,
) -> Result<Response, AppError> {
    let mut ids = Vec::new();
    let mut open = false;
    for (k, v) in form_urlencoded::parse(&body) {
        match k.as_ref() {
            "service" if ids.len() < 200 => ids.push(v.parse::<i64>().map_err(|_| {
                AppError::Invalid(baiqian_domain::Msg::new("station.error.service"))
            })?),
            "open" => open = v == "1",
            _ => {}
        }
    }
    state
        .db
        .set_station_offers(&me.actor, id, &ids, open, state.clock.now_ms())
        .await?;
    Ok(Redirect::to(&format!("/stations/{id}")).into_response())
}

#[derive(Template)]
#[template(path = "station/request.html")]
struct RequestPage {
    tr: Tr,
    f: Frame,
    r: ServiceRequest,
    volunteers: Vec<(String, String)>,
    keeps: bool,
    login: String,
}

impl RequestPage {
    fn status(&self) -> String {
        self.tr.word("station.status", self.r.status.as_str())
    }
    fn open(&self) -> bool {
        matches!(
            self.r.status,
            RequestStatus::Received | RequestStatus::Assigned
        )
    }
    fn may_complete(&self) -> bool {
        self.r.status == RequestStatus::Assigned
            && (self.keeps || self.r.assigned_to.as_deref() == Some(self.login.as_str()))
    }
    fn volunteer_name(&self) -> String {
        let login = self.r.assigned_to.as_deref().unwrap_or_default();
        self.volunteers
            .iter()
            .find(|(l, _)| l == login)
            .map_or_else(|| login.to_string(), |(_, n)| format!("{n}（{login}）"))
    }
}

/// `GET /service-requests/{id}`.
async fn request_page(
    State(state): State<AppState>,
    Auth(me): Auth,
    tr: Tr,
    uri: OriginalUri,
    Path(id): Path<i64>,
) -> Result<Response, AppError> {
    let r = state
        .db
        .service_request(&me.actor, &state.vault, id)
        .await?;
    let keeps = me.role().may(Capability::KeepStations);
    let volunteers = if keeps {
        state.db.station_volunteers(&me.actor, r.station_id).await?
    } else {
        Vec::new()
    };
    let mut res = html(&RequestPage {
        tr,
        f: Frame::new(&state, &me, tr, &here(&uri), "stations").await?,
        login: me.actor.login.clone(),
        r,
        volunteers,
        keeps,
    })?;
    // The volunteer sees the requester's phone whole.
    res.headers_mut().insert(
        axum::http::header::CACHE_CONTROL,
        axum::http::HeaderValue::from_static("no-store"),
    );
    Ok(res)
}

#[derive(Deserialize, Default)]
struct StepForm {
    #[serde(default)]
    volunteer: String,
    #[serde(default)]
    note: String,
    #[serde(default)]
    reason: String,
}

/// `POST /service-requests/{id}/done`: the volunteer (or a keeper) marks it done.
async fn done(
    State(state): State<AppState>,
    Auth(me): Auth,
    Path(id): Path<i64>,
    axum::Form(form): axum::Form<StepForm>,
) -> Result<Response, AppError> {
    state
        .db
        .complete_service_request(&me.actor, id, &form.note, state.clock.now_ms())
        .await?;
    Ok(Redirect::to(&format!("/service-requests/{id}")).into_response())
}

/// `POST /service-requests/{id}/{assign,withdraw}`.
async fn keeper_step(
    State(state): State<AppState>,
    Auth(me): Auth,
    Path((id, action)): Path<(i64, String)>,
    axum::Form(form): axum::Form<StepForm>,
) -> Result<Response, AppError> {
    let now = state.clock.now_ms();
    match action.as_str() {
        "assign" => {
            state
                .db
                .assign_service_request(&me.actor, id, form.volunteer.trim(), now)
                .await?
        }
        "withdraw" => {
            state
                .db
                .withdraw_service_request(&me.actor, id, &form.reason, now)
                .await?
        }
        _ => return Err(AppError::NotFound),
    }
    Ok(Redirect::to(&format!("/service-requests/{id}")).into_response())
}

#[derive(serde::Serialize, utoipa::ToSchema)]
pub struct StationItem {
    id: i64,
    name: String,
    /// Where it is in the tree.
    org_code: String,
    /// How many services it offers.
    services: i64,
    /// Taking requests from the public.
    open: bool,
}

#[derive(serde::Serialize, utoipa::ToSchema)]
pub struct StationItems {
    items: Vec<StationItem>,
}

#[utoipa::path(
    get,
    path = "/api/v1/orgs/{code}/stations",
    params(("code" = String, Path, description = "division code")),
    responses((status = 200, body = StationItems), (status = 404))
)]
/// `GET /api/v1/orgs/{code}/stations`: the stations at and under a node.
pub async fn api_stations(
    State(state): State<AppState>,
    Auth(me): Auth,
    CodeParam(code): CodeParam,
) -> Result<Response, AppError> {
    let org = state.db.org(me.scope(), &code).await?;
    let items = state
        .db
        .stations_under(&org)
        .await?
        .into_iter()
        .map(|s| StationItem {
            id: s.id,
            name: s.name,
            org_code: s.org_code,
            services: s.services,
            open: s.open,
        })
        .collect();
    Ok(Json(StationItems { items }).into_response())
}

/// What waits for a reader at the stations: requests given to them to do, and for the
/// keepers of a station's place (and the one above) requests nobody was given yet.
pub(crate) async fn tasks(
    state: &AppState,
    me: &CurrentUser,
    tr: Tr,
) -> Result<Vec<crate::task::Task>, AppError> {
    if !me.role().may(Capability::ServeStations) {
        return Ok(Vec::new());
    }
    Ok(state
        .db
        .station_tasks(&me.actor)
        .await?
        .into_iter()
        .map(|t| {
            let (kind, key) = if t.mine {
                ("service_request_do", "station.task.do")
            } else {
                ("service_request_assign", "station.task.assign")
            };
            crate::task::Task {
                kind,
                title: tr.f(key, &[("service", &t.service), ("station", &t.station)]),
                url: format!("/service-requests/{}", t.id),
                due: None,
            }
        })
        .collect())
}
