//! Micro-wishes in the browser and the API (党员微心愿): a node's board (posted, claimed,
//! fulfilled, confirmed; those open, unclaimed too long, in hand and stalled, each opening its
//! rows), a village's form to post one, a wish's page with the one step that waits for the
//! reader, and the member's own wishes on their home. The store checks role, scope and who
//! may take each step again on every write; a refusal writes nothing.

use askama::Template;
use axum::Json;
use axum::extract::{OriginalUri, Path, Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use baiqian_domain::capability::Capability;
use baiqian_domain::org::Level;
use baiqian_store::kernel::Node;
use baiqian_store::wish::{NewWish, Wish, WishFilter, WishStatus, WishSummary, WishTaskKind};
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
        .get("/orgs/{code}/wishes", Capability::ReadWishes, board)
        .post("/orgs/{code}/wishes", Capability::KeepWishes, post_wish)
        .get("/wishes/{id}", Capability::ReadWishes, page)
        .post("/wishes/{id}/{action}", Capability::KeepWishes, step)
        .get(
            "/api/v1/orgs/{code}/wishes/summary",
            Capability::ReadWishes,
            api_summary,
        )
}

#[derive(Template)]
#[template(path = "wish/board.html")]
struct BoardPage {
    tr: Tr,
    f: Frame,
    org: Node,
    summary: WishSummary,
    list: &'static str,
    wishes: Vec<Wish>,
    total: i64,
    page: i64,
    pages: i64,
    /// The reader may post a wish here.
    posts: bool,
}

impl BoardPage {
    fn status(&self, w: &Wish) -> String {
        self.tr.word("wish.status", w.status.as_str())
    }
}

#[derive(Deserialize, Default)]
struct BoardQuery {
    #[serde(default)]
    list: String,
    #[serde(default)]
    page: String,
}

/// `GET /orgs/{code}/wishes`.
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
    let filter = match q.list.as_str() {
        "" => WishFilter::All,
        s => WishFilter::parse(s).ok_or(AppError::NotFound)?,
    };
    let page: i64 = q.page.parse().unwrap_or(1).clamp(1, 100_000);
    let now = state.clock.now_ms();
    let summary = state.db.wish_summary(&org, now).await?;
    let wishes = state
        .db
        .wishes_under(&me.actor, &org, filter, now, (page - 1) * PAGE, PAGE)
        .await?;
    let total = summary.figure(filter);
    html(&BoardPage {
        tr,
        f: Frame::new(&state, &me, tr, &here(&uri), "wishes").await?,
        posts: org.level == Level::Village && me.role().may(Capability::KeepWishes),
        org,
        summary,
        list: filter.as_str(),
        wishes,
        total,
        page,
        pages: (total + PAGE - 1) / PAGE,
    })
}

#[derive(Deserialize, Default)]
struct WishForm {
    #[serde(default)]
    title: String,
    #[serde(default)]
    detail: String,
    #[serde(default)]
    villager_name: String,
    #[serde(default)]
    villager_address: String,
    #[serde(default)]
    phone: String,
}

/// `POST /orgs/{code}/wishes`: posts a villager's wish at this village.
async fn post_wish(
    State(state): State<AppState>,
    Auth(me): Auth,
    CodeParam(code): CodeParam,
    axum::Form(form): axum::Form<WishForm>,
) -> Result<Response, AppError> {
    let org = state.db.org(me.scope(), &code).await?;
    let id = state
        .db
        .post_wish(
            &me.actor,
            &state.vault,
            &org,
            &NewWish {
                title: form.title,
                detail: form.detail,
                villager_name: form.villager_name,
                villager_address: form.villager_address,
                phone: form.phone,
            },
            state.clock.now_ms(),
        )
        .await?;
    Ok(Redirect::to(&format!("/wishes/{id}")).into_response())
}

#[derive(Template)]
#[template(path = "wish/show.html")]
struct WishPage {
    tr: Tr,
    f: Frame,
    w: Wish,
    login: String,
    keeps: bool,
}

impl WishPage {
    fn status(&self) -> String {
        self.tr.word("wish.status", self.w.status.as_str())
    }
    fn mine(&self) -> bool {
        self.w.posted_by == self.login
    }
    fn holding(&self) -> bool {
        self.w.claimed_by.as_deref() == Some(self.login.as_str())
    }
    fn may_claim(&self) -> bool {
        self.keeps && self.w.status == WishStatus::Posted && !self.mine()
    }
    fn may_fulfil(&self) -> bool {
        self.w.status == WishStatus::Claimed && self.holding()
    }
    fn may_confirm(&self) -> bool {
        self.w.status == WishStatus::Fulfilled && self.mine()
    }
    /// The poster, or an administration (who sees the villager), while nobody holds it.
    fn may_cancel(&self) -> bool {
        self.keeps
            && self.w.status == WishStatus::Posted
            && (self.mine() || self.w.villager.is_some())
    }
}

/// `GET /wishes/{id}`.
async fn page(
    State(state): State<AppState>,
    Auth(me): Auth,
    tr: Tr,
    uri: OriginalUri,
    Path(id): Path<i64>,
) -> Result<Response, AppError> {
    let w = state.db.wish(&me.actor, &state.vault, id).await?;
    let mut res = html(&WishPage {
        tr,
        f: Frame::new(&state, &me, tr, &here(&uri), "wishes").await?,
        login: me.actor.login.clone(),
        keeps: me.role().may(Capability::KeepWishes),
        w,
    })?;
    // The villager's phone may be on it, whole.
    res.headers_mut().insert(
        axum::http::header::CACHE_CONTROL,
        axum::http::HeaderValue::from_static("no-store"),
    );
    Ok(res)
}

#[derive(Deserialize, Default)]
struct StepForm {
    #[serde(default)]
    note: String,
    #[serde(default)]
    reason: String,
}

/// `POST /wishes/{id}/{claim,release,fulfil,confirm,cancel}`.
async fn step(
    State(state): State<AppState>,
    Auth(me): Auth,
    Path((id, action)): Path<(i64, String)>,
    axum::Form(form): axum::Form<StepForm>,
) -> Result<Response, AppError> {
    let now = state.clock.now_ms();
    let db = &state.db;
    match action.as_str() {
        "claim" => db.claim_wish(&me.actor, id, now).await?,
        "release" => db.release_wish(&me.actor, id, now).await?,
        "fulfil" => db.fulfil_wish(&me.actor, id, &form.note, now).await?,
        "confirm" => db.confirm_wish(&me.actor, id, now).await?,
        "cancel" => db.cancel_wish(&me.actor, id, &form.reason, now).await?,
        _ => return Err(AppError::NotFound),
    }
    Ok(Redirect::to(&format!("/wishes/{id}")).into_response())
}

#[derive(serde::Serialize, utoipa::ToSchema)]
pub struct WishSummaryBody {
    /// Wishes posted (withdrawn ones aside), and of those how many got claimed, fulfilled and
    /// confirmed.
    posted: i64,
    claimed: i64,
    fulfilled: i64,
    confirmed: i64,
    /// Open now; open longer than seven days; claimed and not yet fulfilled; of those, for
    /// longer than fourteen days.
    open: i64,
    unclaimed_long: i64,
    in_hand: i64,
    stalled: i64,
}

#[utoipa::path(
    get,
    path = "/api/v1/orgs/{code}/wishes/summary",
    params(("code" = String, Path, description = "division code")),
    responses((status = 200, body = WishSummaryBody), (status = 404))
)]
/// `GET /api/v1/orgs/{code}/wishes/summary`: the wishes under a node.
pub async fn api_summary(
    State(state): State<AppState>,
    Auth(me): Auth,
    CodeParam(code): CodeParam,
) -> Result<Response, AppError> {
    let org = state.db.org(me.scope(), &code).await?;
    let s = state.db.wish_summary(&org, state.clock.now_ms()).await?;
    Ok(Json(WishSummaryBody {
        posted: s.posted,
        claimed: s.claimed,
        fulfilled: s.fulfilled,
        confirmed: s.confirmed,
        open: s.open,
        unclaimed_long: s.unclaimed_long,
        in_hand: s.in_hand,
        stalled: s.stalled,
    })
    .into_response())
}

/// What waits for a reader among the wishes: one to confirm, one to fulfil, and for the
/// village and its township those unclaimed or stalled too long.
pub(crate) async fn tasks(
    state: &AppState,
    me: &CurrentUser,
    tr: Tr,
) -> Result<Vec<crate::task::Task>, AppError> {
    Ok(state
        .db
        .wish_tasks(&me.actor, state.clock.now_ms())
        .await?
        .into_iter()
        .map(|t| {
            let key = match t.kind {
                WishTaskKind::Confirm => "wish.task.confirm",
                WishTaskKind::Fulfil => "wish.task.fulfil",
                WishTaskKind::Unclaimed => "wish.task.unclaimed",
                WishTaskKind::Stalled => "wish.task.stalled",
            };
            crate::task::Task {
                kind: t.kind.as_str(),
                title: tr.f(key, &[("title", &t.title), ("place", &t.org_name)]),
                url: format!("/wishes/{}", t.id),
                due: None,
            }
        })
        .collect())
}

#[derive(Template)]
#[template(path = "wish/home.html")]
struct WishHome {
    tr: Tr,
    home_code: String,
    wishes: Vec<Wish>,
    login: String,
}

impl WishHome {
    fn status(&self, w: &Wish) -> String {
        self.tr.word("wish.status", w.status.as_str())
    }
}

/// The reader's own wishes on their home ("我的心愿"): those they posted and those they hold.
pub(crate) async fn home_part(
    state: &AppState,
    me: &CurrentUser,
    tr: Tr,
) -> Result<Option<String>, AppError> {
    if !me.role().may(Capability::KeepWishes) {
        return Ok(None);
    }
    let wishes = state.db.my_wishes(&me.actor, &state.vault).await?;
    if wishes.is_empty() && me.role().may(Capability::ManageMembers) {
        return Ok(None);
    }
    let home_code = me.scope().lower().trim_end_matches('/');
    let home_code = home_code.rsplit('/').next().unwrap_or_default().to_string();
    Ok(Some(
        WishHome {
            tr,
            home_code,
            wishes,
            login: me.actor.login.clone(),
        }
        .render()
        .map_err(|e| AppError::Internal(format!("template: {e}")))?,
    ))
}
