//! The campaign's targets in the browser and the API (专项行动的目标): progress at every level
//! against each year's targets, with the straight line to the date, each figure opening the
//! list of villages or townships it counts; the whole-township advancement (整乡提升) of every
//! township criterion by criterion; model townships named by the city with a reason; the
//! cascaded plans, written by each level and approved by the one above.

mod advancement;
pub(crate) mod api;
mod plans;
mod projects;
mod sheets;
mod targets;

use askama::Template;
use axum::Form;
use axum::Json;
use axum::extract::{OriginalUri, Path, Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use baiqian_domain::capability::Capability;
use baiqian_domain::org::Level;
use baiqian_domain::plan::{Standing, TargetMeasure, Unit, expected_by, goal_at};
use baiqian_domain::time::{china_date, day_start_ms};
use baiqian_store::kernel::Node;
use baiqian_store::plan::{Campaign, Target, TownshipStanding, VillageStanding};
use serde::Deserialize;

use crate::auth::{Auth, CurrentUser};
use crate::error::{AppError, html};
use crate::extract::{CodeParam, YearParam};
use crate::frame::{Frame, here};
use crate::i18n::Tr;
use crate::routes::Routes;
use crate::state::AppState;

pub fn routes() -> Routes {
    Routes::new()
        .get(
            "/orgs/{code}/targets",
            Capability::ReadTargets,
            targets::latest,
        )
        .get(
            "/orgs/{code}/targets/{year}",
            Capability::ReadTargets,
            targets::page,
        )
        .get(
            "/orgs/{code}/targets/{year}/chart/{measure}",
            Capability::ReadTargets,
            targets::chart,
        )
        .get(
            "/orgs/{code}/targets/{year}/{measure}",
            Capability::ReadTargets,
            targets::counted,
        )
        .get(
            "/orgs/{code}/advancement/{year}",
            Capability::ReadTargets,
            advancement::page,
        )
        .post(
            "/orgs/{code}/advancement/{year}/model",
            Capability::ManageCampaign,
            advancement::designate,
        )
        .get(
            "/orgs/{code}/plans/{year}",
            Capability::ReadTargets,
            plans::page,
        )
        .post(
            "/orgs/{code}/plans/{year}",
            Capability::KeepPlans,
            plans::create,
        )
        .get(
            "/orgs/{code}/plans/{year}/xlsx",
            Capability::ExportLists,
            sheets::export,
        )
        .get(
            "/orgs/{code}/plans/{year}/import",
            Capability::KeepPlans,
            sheets::import_page,
        )
        .post(
            "/orgs/{code}/plans/{year}/import",
            Capability::KeepPlans,
            sheets::import,
        )
        .post("/plans/{id}/items", Capability::KeepPlans, plans::add_item)
        .post("/plans/{id}/submit", Capability::KeepPlans, plans::submit)
        .post("/plans/{id}/done", Capability::KeepPlans, plans::done)
        .post(
            "/plans/{id}/decide",
            Capability::ApprovePlans,
            plans::decide,
        )
        .get(
            "/orgs/{code}/projects",
            Capability::ReadTargets,
            projects::list,
        )
        .post(
            "/orgs/{code}/projects",
            Capability::KeepPlans,
            projects::create,
        )
        .get("/projects/{id}", Capability::ReadTargets, projects::show)
        .post(
            "/projects/{id}/villages",
            Capability::KeepPlans,
            projects::village,
        )
        .post(
            "/projects/{id}/finish",
            Capability::KeepPlans,
            projects::finish,
        )
        .get(
            "/api/v1/orgs/{code}/targets/{year}",
            Capability::ReadTargets,
            api::api_targets,
        )
}

/// The campaign over a node in scope, or 404: a node outside every campaign has no targets.
async fn campaign_of(
    state: &AppState,
    me: &CurrentUser,
    code: &baiqian_domain::org::OrgCode,
) -> Result<(Node, Campaign), AppError> {
    let org = state.db.org(me.scope(), code).await?;
    let campaign = state
        .db
        .campaign_for(&org)
        .await?
        .ok_or(AppError::NotFound)?;
    Ok((org, campaign))
}

/// A target as read at one node: the goal there, the figure, the line's figure by today.
#[derive(Debug, Clone)]
pub(crate) struct Progress {
    pub measure: TargetMeasure,
    pub goal: i64,
    pub actual: f64,
    /// How many villages or townships the figure counts, among how many.
    pub count: i64,
    pub base: i64,
    pub expected: f64,
    pub due: String,
}

impl Progress {
    pub(crate) fn met(&self) -> bool {
        self.actual >= self.goal as f64
    }

    pub(crate) fn on_track(&self) -> bool {
        self.actual >= self.expected
    }

    pub(crate) fn unit(&self) -> Unit {
        self.measure.unit()
    }
}

/// Every target of a year at a node (`here`), given the campaign's whole area.
pub(crate) fn progress(
    state: &AppState,
    campaign: &Campaign,
    year: i64,
    here: &Standing,
    whole: &Standing,
) -> Vec<Progress> {
    let now = state.clock.now_ms();
    let start = day_start_ms(&format!("{}-01-01", campaign.first_year)).unwrap_or(now);
    campaign
        .targets_of(year)
        .map(|t: &Target| {
            let goal = goal_at(t.measure, t.goal, here, whole);
            let due = day_start_ms(&t.due).map_or(now, |d| d + 86_400_000);
            Progress {
                measure: t.measure,
                goal,
                actual: here.actual(t.measure),
                count: here.count(t.measure),
                base: here.base(t.measure),
                expected: expected_by(goal, start, due, now),
                due: t.due.clone(),
            }
        })
        .collect()
}

/// The children a targets page shows: the areas under the node (counties, townships,
/// villages), never enterprises.
async fn area_children(
    state: &AppState,
    me: &CurrentUser,
    org: &Node,
) -> Result<Vec<Node>, AppError> {
    Ok(state
        .db
        .org_children(me.scope(), &org.code, false)
        .await?
        .into_iter()
        .filter(|c| matches!(c.level, Level::County | Level::Township | Level::Village))
        .collect())
}

/// A figure as shown: a count, or a percentage with one decimal.
pub(crate) fn shown(tr: &Tr, unit: Unit, v: f64) -> String {
    match unit {
        Unit::Count => tr.num(v.round() as i64),
        Unit::Percent => format!("{v:.1}%"),
    }
}

/// A criterion of the advancement rule in words; when unmet, with the villages short.
pub(crate) fn criterion_words(
    tr: &Tr,
    c: &baiqian_domain::plan::CriterionCheck,
    min_stars: i64,
) -> String {
    let name = tr.f(
        &format!("plan.criterion.{}", c.criterion.as_str()),
        &[("stars", &min_stars.to_string())],
    );
    if c.met {
        name
    } else {
        tr.f(
            &format!("plan.missing.{}", c.criterion.as_str()),
            &[("what", &name), ("n", &tr.num(c.missing))],
        )
    }
}

/// What waits for the reader in the plans: schemes sent up for them to decide, and their own
/// plan sent back (`plan_approval`, `plan_sent_back`).
pub(crate) async fn tasks(
    state: &AppState,
    me: &CurrentUser,
    tr: Tr,
) -> Result<Vec<crate::task::Task>, AppError> {
    if !me.role().may(Capability::KeepPlans) && !me.role().may(Capability::ApprovePlans) {
        return Ok(Vec::new());
    }
    Ok(state
        .db
        .plans_waiting(&me.actor, 50)
        .await?
        .into_iter()
        .map(|p| {
            let approval = p.status == baiqian_domain::plan::PlanStatus::Submitted;
            crate::task::Task {
                kind: if approval {
                    "plan_approval"
                } else {
                    "plan_sent_back"
                },
                title: tr.f(
                    if approval {
                        "plan.task.approval"
                    } else {
                        "plan.task.sent_back"
                    },
                    &[("org", &p.org_name), ("title", &p.title)],
                ),
                url: format!("/orgs/{}/plans/{}", p.org_code, p.year),
                due: None,
            }
        })
        .collect())
}

pub(crate) fn today(state: &AppState) -> String {
    china_date(state.clock.now_ms())
}
