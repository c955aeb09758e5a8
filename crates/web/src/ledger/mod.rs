//! The problem ledger in the browser and the API: a node's problem board (counts by status,
//! each child's, the list behind every figure), a problem's page with its steps, plan and
//! evidence, the leaders' visits and pledges, and the tasks they (and the daily mark, `crate::daily`) put on
//! the owners' and guiding leaders' lists.

pub(crate) mod api;
mod file;
mod import;
mod leader;
mod manage;
pub(crate) mod problems;
pub(crate) mod rest;
mod screen;
mod sheets;
mod visit_import;
pub(crate) mod visits;

pub(crate) use leader::home_part as leader_home_part;
pub(crate) use screen::screen_part;

use askama::Template;
use axum::Form;
use axum::Json;
use axum::extract::{Multipart, OriginalUri, Path, Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use baiqian_domain::capability::Capability;
use baiqian_domain::ledger::{ProblemSource, ProblemStatus, ProblemStep, VisitKind};
use baiqian_domain::org::{Level, OrgCode};
use baiqian_domain::time::china_date;
use baiqian_store::kernel::Node;
use baiqian_store::ledger::{
    ChildCounts, DeadlineExtension, NewProblem, NewVisit, Pledge, PledgePlace, Problem,
    ProblemCounts, ProblemEvidence, ProblemFilter, ProblemPlan, ProblemUpdate, Survey, Visit,
};
use serde::{Deserialize, Serialize};

use crate::auth::{Auth, CurrentUser};
use crate::error::{AppError, html};
use crate::extract::CodeParam;
use crate::frame::{Frame, here};
use crate::i18n::Tr;
use crate::routes::Routes;
use crate::state::AppState;
use crate::task::Task;

pub fn routes() -> Routes {
    Routes::new()
        .get(
            "/orgs/{code}/problems",
            Capability::ReadProblems,
            problems::board,
        )
        .post(
            "/orgs/{code}/problems",
            Capability::ReportProblems,
            problems::create,
        )
        .get(
            "/orgs/{code}/problems/import",
            Capability::ReportProblems,
            import::page::<import::Problems>,
        )
        .post(
            "/orgs/{code}/problems/import",
            Capability::ReportProblems,
            import::import::<import::Problems>,
        )
        .get(
            "/orgs/{code}/problems.xlsx",
            Capability::ExportLists,
            problems::export,
        )
        .get(
            "/orgs/{code}/problems/chart/{chart}",
            Capability::ReadProblems,
            problems::chart_data,
        )
        .get(
            "/api/v1/orgs/{code}/problems/summary",
            Capability::ReadProblems,
            api::api_summary,
        )
        .get(
            "/api/v1/orgs/{code}/problems",
            Capability::ReadProblems,
            api::api_list,
        )
        .post(
            "/api/v1/orgs/{code}/problems",
            Capability::ReportProblems,
            rest::api_create_problem,
        )
        .get(
            "/api/v1/problems/{id}",
            Capability::ReadProblems,
            rest::api_problem,
        )
        .post(
            "/api/v1/problems/{id}/steps",
            Capability::ReportProblems,
            rest::api_step,
        )
        .post(
            "/api/v1/problems/{id}/checks",
            Capability::VerifyProblems,
            rest::api_check,
        )
        .post(
            "/api/v1/problems/{id}/plan",
            Capability::ReportProblems,
            rest::api_plan,
        )
        .get(
            "/api/v1/orgs/{code}/visits",
            Capability::ReadVisits,
            rest::api_visits,
        )
        .get(
            "/api/v1/orgs/{code}/surveys",
            Capability::ReadProblems,
            rest::api_surveys,
        )
        .get(
            "/api/v1/orgs/{code}/leaders",
            Capability::ReadVisits,
            rest::api_leaders,
        )
        .post(
            "/api/v1/orgs/{code}/visits",
            Capability::LogVisits,
            rest::api_log_visit,
        )
        .get("/problems/{id}", Capability::ReadProblems, problems::show)
        .post(
            "/problems/{id}/steps",
            Capability::ReportProblems,
            problems::step,
        )
        .post(
            "/problems/{id}/checks",
            Capability::VerifyProblems,
            problems::check,
        )
        .post(
            "/problems/{id}/plan",
            Capability::ReportProblems,
            problems::plan,
        )
        .post(
            "/problems/{id}/evidence",
            Capability::ReportProblems,
            problems::upload,
        )
        .post(
            "/deadline-extensions/{id}",
            Capability::VerifyProblems,
            problems::decide_extension,
        )
        .get(
            "/problem-evidence/{id}",
            Capability::ReadProblems,
            problems::evidence_file,
        )
        .get("/orgs/{code}/visits", Capability::ReadVisits, visits::list)
        .get(
            "/orgs/{code}/visits.xlsx",
            Capability::ReadVisits,
            visits::export,
        )
        .get(
            "/pledges.xlsx",
            Capability::ReadVisits,
            visits::export_pledges,
        )
        .get(
            "/orgs/{code}/leaders.xlsx",
            Capability::ReadVisits,
            visits::export_leaders,
        )
        .get(
            "/orgs/{code}/pledges.xlsx",
            Capability::ReadVisits,
            visits::export_node_pledges,
        )
        .get(
            "/orgs/{code}/pledges/import",
            Capability::LogVisits,
            import::page::<sheets::Pledges>,
        )
        .post(
            "/orgs/{code}/pledges/import",
            Capability::LogVisits,
            import::import::<sheets::Pledges>,
        )
        .get(
            "/orgs/{code}/surveys.xlsx",
            Capability::ReadProblems,
            sheets::export_surveys,
        )
        .get(
            "/orgs/{code}/surveys/import",
            Capability::RunSurveys,
            import::page::<sheets::Surveys>,
        )
        .post(
            "/orgs/{code}/surveys/import",
            Capability::RunSurveys,
            import::import::<sheets::Surveys>,
        )
        .get(
            "/orgs/{code}/leaders/import",
            Capability::ManageLeaders,
            import::page::<sheets::Leaders>,
        )
        .post(
            "/orgs/{code}/leaders/import",
            Capability::ManageLeaders,
            import::import::<sheets::Leaders>,
        )
        .get(
            "/orgs/{code}/visits/import",
            Capability::LogVisits,
            import::page::<visit_import::Visits>,
        )
        .post(
            "/orgs/{code}/visits/import",
            Capability::LogVisits,
            import::import::<visit_import::Visits>,
        )
        .post("/orgs/{code}/visits", Capability::LogVisits, visits::create)
        .post(
            "/visits/{id}/problems",
            Capability::LogVisits,
            visits::to_problem,
        )
        .get("/pledges", Capability::ReadVisits, visits::pledges)
        .get("/pledges/{id}", Capability::ReadVisits, visits::pledge)
        .get(
            "/api/v1/pledges",
            Capability::ReadVisits,
            visits::api_pledges,
        )
        .get("/surveys/{id}", Capability::ReadProblems, manage::survey)
        .post(
            "/orgs/{code}/surveys",
            Capability::RunSurveys,
            manage::create_survey,
        )
        .post(
            "/surveys/{id}/villages",
            Capability::RunSurveys,
            manage::finish_village,
        )
        .get(
            "/orgs/{code}/leaders",
            Capability::ReadVisits,
            manage::leaders,
        )
        .post(
            "/orgs/{code}/leaders",
            Capability::ManageLeaders,
            manage::create_leader,
        )
        .post(
            "/leaders/{id}/areas",
            Capability::ManageLeaders,
            manage::assign_area,
        )
        .post("/pledges", Capability::LogVisits, manage::create_pledge)
        .get(
            "/orgs/{code}/file",
            Capability::ReadVillageFiles,
            file::show,
        )
        .post(
            "/orgs/{code}/file",
            Capability::KeepVillageFiles,
            file::save,
        )
        .get(
            "/orgs/{code}/file.xlsx",
            Capability::ExportLists,
            file::export,
        )
}

/// Today in China, as deadlines are written.
/// The pledges in the reader's scope made by leaders at or under `org`: the node's screen and
/// its pledges' export list the same ones.
async fn pledges_under(
    state: &AppState,
    me: &CurrentUser,
    org: &Node,
) -> Result<Vec<Pledge>, AppError> {
    let leaders: std::collections::HashSet<i64> = state
        .db
        .leaders_under(org)
        .await?
        .iter()
        .map(|l| l.id)
        .collect();
    Ok(state
        .db
        .pledges_in(me.scope())
        .await?
        .into_iter()
        .filter(|p| leaders.contains(&p.leader_id))
        .collect())
}

fn today(state: &AppState) -> String {
    china_date(state.clock.now_ms())
}

/// What waits for the reader in the ledger: their overdue problems (owned, or in villages they
/// guide), and for those who verify, the deadline extensions others asked for and the problems
/// rectified and waiting to be checked.
pub(crate) async fn tasks(
    state: &AppState,
    me: &CurrentUser,
    tr: Tr,
) -> Result<Vec<Task>, AppError> {
    let mut out = Vec::new();
    let today = today(state);
    for p in state.db.overdue_problems_for(me.user.id, 50).await? {
        // The list is the caller's; a problem outside their scope is not (a moved account).
        if !me.scope().contains_path(&p.village_path) {
            continue;
        }
        let late = p.days_late(&today).unwrap_or(0).to_string();
        out.push(Task {
            kind: "problem_overdue",
            title: tr.f(
                "problem.task.overdue",
                &[
                    ("village", &p.village_name),
                    ("description", &short(&p.description, 30)),
                    ("days", &late),
                ],
            ),
            url: format!("/problems/{}", p.id),
            due: Some(p.deadline.clone()),
        });
    }
    let (reports, verifies) = (
        me.role().may(Capability::ReportProblems),
        me.role().may(Capability::VerifyProblems),
    );
    let Some(root) = me.scope().root.clone().filter(|_| reports || verifies) else {
        return Ok(out);
    };
    // One look at the node's tallies serves both: those who do the work see all that is overdue
    // under them as one task whose list holds exactly the board's figure (the ones they own are
    // also named above); those who verify see what waits for them.
    let node = state.db.org(me.scope(), &root).await?;
    let counts = state.db.problem_counts(&node).await?;
    if reports && counts.overdue > 0 {
        out.push(Task {
            kind: "problem_overdue_all",
            title: tr.f(
                "problem.task.overdue_all",
                &[("n", &tr.num(counts.overdue)), ("org", &node.name)],
            ),
            url: format!("/orgs/{}/problems?overdue=1", node.code),
            due: None,
        });
    }
    if verifies {
        let waiting = state.db.extensions_waiting(&node, &me.actor.login).await?;
        if waiting > 0 {
            out.push(Task {
                kind: "problem_extension",
                title: tr.f(
                    "problem.task.extension",
                    &[("n", &tr.num(waiting)), ("org", &node.name)],
                ),
                url: format!("/orgs/{}/problems?extension=waiting", node.code),
                due: None,
            });
        }
        if counts.rectified > 0 {
            out.push(Task {
                kind: "problem_verify",
                title: tr.f(
                    "problem.task.verify",
                    &[("n", &tr.num(counts.rectified)), ("org", &node.name)],
                ),
                url: format!("/orgs/{}/problems?status=rectified", node.code),
                due: None,
            });
        }
    }
    Ok(out)
}

/// The first `n` characters of a text, with an ellipsis when cut.
fn short(s: &str, n: usize) -> String {
    if s.chars().count() <= n {
        s.to_string()
    } else {
        format!("{}…", s.chars().take(n).collect::<String>())
    }
}
