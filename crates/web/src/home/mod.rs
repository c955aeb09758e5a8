//! Where each role lands and what waits for them: `/` is a home made for the reader's role,
//! `/api/v1/me/tasks` the list of what waits for them in their scope. The areas plug their
//! parts in here (each one's `tasks`); this module only gathers them, so a later area adds its
//! own kinds without touching the others.

use askama::Template;
use axum::Json;
use axum::extract::{OriginalUri, State};
use axum::response::{IntoResponse, Response};
use baiqian_domain::capability::Capability;

use crate::auth::{Auth, CurrentUser};
use crate::error::{AppError, html};
use crate::frame::{Frame, here};
use crate::i18n::Tr;
use crate::routes::Routes;
use crate::state::AppState;
pub use crate::task::{Task, Tasks};

mod screen;

pub fn routes() -> Routes {
    Routes::new()
        .get("/", Capability::SignedIn, home)
        .get("/api/v1/me/tasks", Capability::SignedIn, api_tasks)
        .get(
            "/orgs/{code}/screen",
            Capability::ReadRatings,
            screen::screen_page,
        )
}

/// Every area's tasks for the reader, the soonest due first (those without a date last).
pub(crate) async fn tasks(
    state: &AppState,
    me: &CurrentUser,
    tr: Tr,
    seen: &mut crate::rating::SeenTallies,
) -> Result<Vec<Task>, AppError> {
    let mut items = crate::rating::tasks(state, me, tr, seen).await?;
    items.extend(crate::checkin::tasks(state, me, tr).await?);
    items.extend(crate::ledger::tasks(state, me, tr).await?);
    items.extend(crate::plan::tasks(state, me, tr).await?);
    items.extend(crate::cadre::tasks(state, me, tr).await?);
    items.extend(crate::aid::tasks(state, me, tr).await?);
    items.extend(crate::wish::tasks(state, me, tr).await?);
    items.extend(crate::station::tasks(state, me, tr).await?);
    items.extend(crate::post::tasks(state, me, tr).await?);
    items.sort_by(|a, b| match (&a.due, &b.due) {
        (Some(x), Some(y)) => x.cmp(y),
        (Some(_), None) => std::cmp::Ordering::Less,
        (None, Some(_)) => std::cmp::Ordering::Greater,
        (None, None) => std::cmp::Ordering::Equal,
    });
    Ok(items)
}

#[utoipa::path(
    get,
    path = "/api/v1/me/tasks",
    responses((status = 200, body = Tasks), (status = 401))
)]
/// `GET /api/v1/me/tasks`: what waits for the caller, in their scope.
pub(crate) async fn api_tasks(
    State(state): State<AppState>,
    Auth(me): Auth,
    tr: Tr,
) -> Result<Response, AppError> {
    Ok(Json(Tasks {
        items: tasks(&state, &me, tr, &mut crate::rating::SeenTallies::default()).await?,
    })
    .into_response())
}

#[derive(Template)]
#[template(path = "home/home.html")]
struct HomePage {
    tr: Tr,
    f: Frame,
    today: String,
    tasks: Vec<Task>,
    /// Each area's part of the home, already rendered, in order.
    parts: Vec<String>,
}

impl HomePage {
    fn is_late(&self, t: &Task) -> bool {
        t.due.as_deref().is_some_and(|d| d < self.today.as_str())
    }
}

/// The reader's home: what waits for them, then each area's part for their role.
async fn home(
    State(state): State<AppState>,
    Auth(me): Auth,
    tr: Tr,
    uri: OriginalUri,
) -> Result<Response, AppError> {
    let mut seen = crate::rating::SeenTallies::default();
    let tasks = tasks(&state, &me, tr, &mut seen).await?;
    let mut parts = Vec::new();
    parts.extend(crate::member::home_part(&state, &me, tr).await?);
    parts.extend(crate::ledger::leader_home_part(&state, &me, tr).await?);
    parts.extend(crate::checkin::home_part(&state, &me, tr).await?);
    parts.extend(crate::wish::home_part(&state, &me, tr).await?);
    parts.extend(crate::rating::home_part(&state, &me, tr, &mut seen).await?);
    html(&HomePage {
        tr,
        f: Frame::new(&state, &me, tr, &here(&uri), "home").await?,
        today: baiqian_domain::time::china_date(state.clock.now_ms()),
        tasks,
        parts,
    })
}
