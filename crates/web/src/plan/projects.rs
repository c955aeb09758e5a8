//! Projects in the browser (项目化攻坚): the projects run at a node and below, the form a county
//! or township uses to start one, and a project's page with its villages, their results and the
//! project's own. The store checks who runs a node's projects again; a refusal writes nothing.

use baiqian_domain::plan::{ProjectKind, project_runner};
use baiqian_store::plan::{NewProject, Project, ProjectVillage};

use super::*;

#[derive(Template)]
#[template(path = "plan/projects.html")]
struct ProjectsPage {
    tr: Tr,
    f: Frame,
    org: Node,
    projects: Vec<Project>,
    runs: bool,
    kinds: Vec<ProjectKind>,
    today: String,
}

impl ProjectsPage {
    fn kind(&self, k: &ProjectKind) -> String {
        self.tr.word("project.kind", k.as_str())
    }
}

fn runs(me: &CurrentUser, org: &Node) -> bool {
    project_runner(org.level) == Some(me.role()) && me.scope().is_root_path(&org.path)
}

/// `GET /orgs/{code}/projects`.
pub(super) async fn list(
    State(state): State<AppState>,
    Auth(me): Auth,
    tr: Tr,
    uri: OriginalUri,
    CodeParam(code): CodeParam,
) -> Result<Response, AppError> {
    let org = state.db.org(me.scope(), &code).await?;
    if !matches!(org.level, Level::City | Level::County | Level::Township) {
        return Err(AppError::NotFound);
    }
    html(&ProjectsPage {
        tr,
        f: Frame::new(&state, &me, tr, &here(&uri), "targets").await?,
        projects: state.db.projects_under(&org).await?,
        runs: runs(&me, &org),
        org,
        kinds: ProjectKind::ALL.to_vec(),
        today: today(&state),
    })
}

#[derive(Deserialize, Default)]
pub(super) struct NewProjectForm {
    #[serde(default)]
    name: String,
    #[serde(default)]
    kind: String,
    #[serde(default)]
    weakness: String,
    #[serde(default)]
    start_on: String,
}

/// `POST /orgs/{code}/projects`.
pub(super) async fn create(
    State(state): State<AppState>,
    Auth(me): Auth,
    CodeParam(code): CodeParam,
    Form(form): Form<NewProjectForm>,
) -> Result<Response, AppError> {
    let org = state.db.org(me.scope(), &code).await?;
    let id = state
        .db
        .create_project(
            &me.actor,
            &org,
            &NewProject {
                name: form.name,
                kind: form.kind,
                weakness: form.weakness,
                start_on: form.start_on,
            },
            &today(&state),
            state.clock.now_ms(),
        )
        .await?;
    Ok(Redirect::to(&format!("/projects/{id}")).into_response())
}

#[derive(Template)]
#[template(path = "plan/project.html")]
struct ProjectPage {
    tr: Tr,
    f: Frame,
    project: Project,
    villages: Vec<ProjectVillage>,
    runs: bool,
}

impl ProjectPage {
    fn kind(&self) -> String {
        self.tr.word("project.kind", self.project.kind.as_str())
    }
}

/// `GET /projects/{id}`.
pub(super) async fn show(
    State(state): State<AppState>,
    Auth(me): Auth,
    tr: Tr,
    uri: OriginalUri,
    Path(id): Path<i64>,
) -> Result<Response, AppError> {
    let (project, villages) = state.db.project(&me.actor, id).await?;
    let code = baiqian_domain::org::OrgCode::parse(&project.org_code)
        .map_err(|_| AppError::Internal("project org code".into()))?;
    let org = state.db.org(me.scope(), &code).await?;
    html(&ProjectPage {
        tr,
        f: Frame::new(&state, &me, tr, &here(&uri), "targets").await?,
        runs: runs(&me, &org) && project.finished_on.is_none(),
        project,
        villages,
    })
}

#[derive(Deserialize, Default)]
pub(super) struct VillageForm {
    #[serde(default)]
    village: String,
    #[serde(default)]
    result: String,
}

/// `POST /projects/{id}/villages`: a village covered, or its result.
pub(super) async fn village(
    State(state): State<AppState>,
    Auth(me): Auth,
    Path(id): Path<i64>,
    Form(form): Form<VillageForm>,
) -> Result<Response, AppError> {
    state
        .db
        .set_project_village(
            &me.actor,
            id,
            &form.village,
            &form.result,
            state.clock.now_ms(),
        )
        .await?;
    Ok(Redirect::to(&format!("/projects/{id}")).into_response())
}

#[derive(Deserialize, Default)]
pub(super) struct FinishForm {
    #[serde(default)]
    result: String,
}

/// `POST /projects/{id}/finish`.
pub(super) async fn finish(
    State(state): State<AppState>,
    Auth(me): Auth,
    Path(id): Path<i64>,
    Form(form): Form<FinishForm>,
) -> Result<Response, AppError> {
    state
        .db
        .finish_project(
            &me.actor,
            id,
            &form.result,
            &today(&state),
            state.clock.now_ms(),
        )
        .await?;
    Ok(Redirect::to(&format!("/projects/{id}")).into_response())
}
