//! Public-welfare supervision posts in the browser and the API (党建+公益岗): a node's board of
//! its posts (patrols and issues of the last 30 days, issues not yet filed), a post's page with
//! its rota, patrol log and issues, the forms of each hand — the township keeps the rota and
//! files an issue as a problem in the village's situation file; the supervisor on duty logs
//! their patrol and what they found. The store checks role, scope and who may on every write.

use askama::Template;
use axum::Json;
use axum::extract::{OriginalUri, Path, State};
use axum::response::{IntoResponse, Redirect, Response};
use baiqian_domain::capability::Capability;
use baiqian_domain::org::Level;
use baiqian_domain::time::china_date;
use baiqian_store::kernel::Node;
use baiqian_store::post::{
    Duty, NewPatrol, NewPost, Patrol, PatrolIssue, PostFigures, WelfarePost,
};
use serde::Deserialize;

use baiqian_store::post::IssueFiling;

use crate::auth::Auth;
use crate::error::{AppError, html};
use crate::extract::CodeParam;
use crate::frame::{Frame, here};
use crate::i18n::Tr;
use crate::routes::Routes;
use crate::state::AppState;

const DAY_MS: i64 = 86_400_000;

pub fn routes() -> Routes {
    Routes::new()
        .get("/orgs/{code}/posts", Capability::ReadPosts, board)
        .post("/orgs/{code}/posts", Capability::KeepPosts, open_post)
        .get("/posts/{id}", Capability::ReadPosts, post_page)
        .post("/posts/{id}/duties", Capability::KeepPosts, add_duty)
        .post("/posts/{id}/patrols", Capability::Patrol, log_patrol)
        .post("/patrols/{id}/issues", Capability::Patrol, report_issue)
        .post(
            "/patrol-issues/{id}/problem",
            Capability::ReportProblems,
            file_issue,
        )
        .get(
            "/api/v1/orgs/{code}/posts",
            Capability::ReadPosts,
            api_posts,
        )
}

#[derive(Template)]
#[template(path = "post/board.html")]
struct BoardPage {
    tr: Tr,
    f: Frame,
    org: Node,
    posts: Vec<PostFigures>,
    opens: bool,
}

/// `GET /orgs/{code}/posts`.
async fn board(
    State(state): State<AppState>,
    Auth(me): Auth,
    tr: Tr,
    uri: OriginalUri,
    CodeParam(code): CodeParam,
) -> Result<Response, AppError> {
    let org = state.db.org(me.scope(), &code).await?;
    if !matches!(
        org.level,
        Level::City | Level::County | Level::Township | Level::Village
    ) {
        return Err(AppError::NotFound);
    }
    let posts = state.db.posts_under(&org, state.clock.now_ms()).await?;
    html(&BoardPage {
        tr,
        f: Frame::new(&state, &me, tr, &here(&uri), "posts").await?,
        opens: me.role().may(Capability::KeepPosts)
            && matches!(org.level, Level::Township | Level::Village),
        org,
        posts,
    })
}

#[derive(Deserialize, Default)]
struct PostForm {
    #[serde(default)]
    name: String,
    #[serde(default)]
    duty: String,
    #[serde(default)]
    route: String,
}

/// `POST /orgs/{code}/posts`.
async fn open_post(
    State(state): State<AppState>,
    Auth(me): Auth,
    CodeParam(code): CodeParam,
    axum::Form(form): axum::Form<PostForm>,
) -> Result<Response, AppError> {
    let org = state.db.org(me.scope(), &code).await?;
    let id = state
        .db
        .create_post(
            &me.actor,
            &org,
            &NewPost {
                name: form.name,
                duty: form.duty,
                route: form.route,
            },
            state.clock.now_ms(),
        )
        .await?;
    Ok(Redirect::to(&format!("/posts/{id}")).into_response())
}

#[derive(Template)]
#[template(path = "post/show.html")]
struct PostPage {
    tr: Tr,
    f: Frame,
    p: WelfarePost,
    duties: Vec<Duty>,
    patrols: Vec<Patrol>,
    issues: Vec<PatrolIssue>,
    /// Accounts at and under the post's place (for the rota), and its villages (for an issue).
    accounts: Vec<(String, String)>,
    villages: Vec<(String, String)>,
    today: String,
    login: String,
    keeps: bool,
    patrols_here: bool,
    files: bool,
}

impl PostPage {
    fn status(&self, i: &PatrolIssue) -> String {
        i.problem_status
            .as_deref()
            .map(|s| self.tr.word("problem.status", s))
            .unwrap_or_default()
    }
    fn on_duty_today(&self) -> bool {
        self.duties
            .iter()
            .any(|d| d.date == self.today && d.supervisor == self.login)
    }
    /// The reader's latest patrol here: what a report of an issue belongs to.
    fn my_last_patrol(&self) -> Option<&Patrol> {
        self.patrols.iter().find(|p| p.supervisor == self.login)
    }
}

/// `GET /posts/{id}`: the rota from a week back to two weeks ahead, the last 100 patrols and
/// issues.
async fn post_page(
    State(state): State<AppState>,
    Auth(me): Auth,
    tr: Tr,
    uri: OriginalUri,
    Path(id): Path<i64>,
) -> Result<Response, AppError> {
    let p = state.db.welfare_post(&me.actor, id).await?;
    let now = state.clock.now_ms();
    let (from, to) = (china_date(now - 7 * DAY_MS), china_date(now + 14 * DAY_MS));
    let keeps = me.role().may(Capability::KeepPosts);
    let (duties, patrols, issues) = tokio::try_join!(
        state.db.post_duties(id, &from, &to),
        state.db.post_patrols(id, 100),
        state.db.post_issues(id, 100),
    )?;
    let (accounts, villages) = if keeps || me.role().may(Capability::Patrol) {
        state.db.post_people_and_places(&me.actor, id).await?
    } else {
        (Vec::new(), Vec::new())
    };
    html(&PostPage {
        tr,
        f: Frame::new(&state, &me, tr, &here(&uri), "posts").await?,
        p,
        duties,
        patrols,
        issues,
        accounts,
        villages,
        today: china_date(now),
        login: me.actor.login.clone(),
        keeps,
        patrols_here: me.role().may(Capability::Patrol),
        files: me.role().may(Capability::ReportProblems),
    })
}

#[derive(Deserialize, Default)]
struct DutyForm {
    #[serde(default)]
    date: String,
    #[serde(default)]
    supervisor: String,
}

/// `POST /posts/{id}/duties`: a supervisor on the rota for a day.
async fn add_duty(
    State(state): State<AppState>,
    Auth(me): Auth,
    Path(id): Path<i64>,
    axum::Form(form): axum::Form<DutyForm>,
) -> Result<Response, AppError> {
    state
        .db
        .set_post_duty(
            &me.actor,
            id,
            &form.date,
            &form.supervisor,
            state.clock.now_ms(),
        )
        .await?;
    Ok(Redirect::to(&format!("/posts/{id}#rota")).into_response())
}

#[derive(Deserialize, Default)]
struct PatrolForm {
    #[serde(default)]
    date: String,
    #[serde(default)]
    started: String,
    #[serde(default)]
    ended: String,
    #[serde(default)]
    route: String,
    #[serde(default)]
    note: String,
}

/// `POST /posts/{id}/patrols`: the supervisor on duty logs their patrol.
async fn log_patrol(
    State(state): State<AppState>,
    Auth(me): Auth,
    Path(id): Path<i64>,
    axum::Form(form): axum::Form<PatrolForm>,
) -> Result<Response, AppError> {
    state
        .db
        .log_patrol(
            &me.actor,
            id,
            &NewPatrol {
                date: form.date,
                started: form.started,
                ended: form.ended,
                route: form.route,
                note: form.note,
            },
            state.clock.now_ms(),
        )
        .await?;
    Ok(Redirect::to(&format!("/posts/{id}#patrols")).into_response())
}

#[derive(Deserialize, Default)]
struct IssueForm {
    #[serde(default)]
    village: String,
    #[serde(default)]
    spot: String,
    #[serde(default)]
    description: String,
}

/// `POST /patrols/{id}/issues`: what the patrol found.
async fn report_issue(
    State(state): State<AppState>,
    Auth(me): Auth,
    Path(id): Path<i64>,
    axum::Form(form): axum::Form<IssueForm>,
) -> Result<Response, AppError> {
    state
        .db
        .report_patrol_issue(
            &me.actor,
            id,
            &form.village,
            &form.spot,
            &form.description,
            state.clock.now_ms(),
        )
        .await?;
    let post: i64 = state.db.patrol_post(id).await?;
    Ok(Redirect::to(&format!("/posts/{post}#issues")).into_response())
}

#[derive(Deserialize, Default)]
struct FileForm {
    #[serde(default)]
    owner_name: String,
    #[serde(default)]
    owner_login: String,
    #[serde(default)]
    measures: String,
    #[serde(default)]
    deadline: String,
}

/// `POST /patrol-issues/{id}/problem`: the issue into the village's situation file.
async fn file_issue(
    State(state): State<AppState>,
    Auth(me): Auth,
    Path(id): Path<i64>,
    axum::Form(form): axum::Form<FileForm>,
) -> Result<Response, AppError> {
    let problem = state
        .db
        .file_patrol_issue(
            &me.actor,
            id,
            &IssueFiling {
                owner_name: form.owner_name,
                owner_login: form.owner_login,
                measures: form.measures,
                deadline: form.deadline,
            },
            state.clock.now_ms(),
        )
        .await?;
    Ok(Redirect::to(&format!("/problems/{problem}")).into_response())
}

#[derive(serde::Serialize, utoipa::ToSchema)]
pub struct PostItem {
    id: i64,
    name: String,
    org_code: String,
    /// Patrols and issues found in the last 30 days; issues not yet filed as problems.
    patrols: i64,
    issues: i64,
    unfiled: i64,
}

#[derive(serde::Serialize, utoipa::ToSchema)]
pub struct PostItems {
    items: Vec<PostItem>,
}

#[utoipa::path(
    get,
    path = "/api/v1/orgs/{code}/posts",
    params(("code" = String, Path, description = "division code")),
    responses((status = 200, body = PostItems), (status = 404))
)]
/// `GET /api/v1/orgs/{code}/posts`: the welfare posts at and under a node.
pub async fn api_posts(
    State(state): State<AppState>,
    Auth(me): Auth,
    CodeParam(code): CodeParam,
) -> Result<Response, AppError> {
    let org = state.db.org(me.scope(), &code).await?;
    let items = state
        .db
        .posts_under(&org, state.clock.now_ms())
        .await?
        .into_iter()
        .map(|f| PostItem {
            id: f.post.id,
            name: f.post.name,
            org_code: f.post.org_code,
            patrols: f.patrols,
            issues: f.issues,
            unfiled: f.unfiled,
        })
        .collect();
    Ok(Json(PostItems { items }).into_response())
}

/// What waits for a supervisor: today's patrol at a post where they are on the rota.
pub(crate) async fn tasks(
    state: &AppState,
    me: &crate::auth::CurrentUser,
    tr: Tr,
) -> Result<Vec<crate::task::Task>, AppError> {
    if !me.role().may(Capability::Patrol) {
        return Ok(Vec::new());
    }
    let today = china_date(state.clock.now_ms());
    Ok(state
        .db
        .patrols_due(&me.actor, &today)
        .await?
        .into_iter()
        .map(|(id, name)| crate::task::Task {
            kind: "patrol_due",
            title: tr.f("post.task.patrol", &[("post", &name)]),
            url: format!("/posts/{id}#patrols"),
            due: Some(today.clone()),
        })
        .collect())
}
