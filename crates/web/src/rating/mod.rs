//! The rating round in the browser and the API: boards at every level, a village's
//! self-assessment with evidence, review, approval, publication, send-back, thresholds and
//! re-rating, class decisions, star history, and the pioneer criteria's data.

pub(crate) mod api;
mod assessment;
mod board;
mod charts;
mod evidence;
mod facts;
mod home;
pub(crate) mod public;
mod round;
mod screen;

pub mod standard;

// The parts share their helpers through this module (each part says `use super::*`).
pub(crate) use self::home::{SeenTallies, home_part, tasks};
pub(crate) use self::screen::screen_part;
#[allow(unused_imports)]
use self::{
    api::*, assessment::*, board::*, charts::*, evidence::*, facts::*, public::*, round::*,
    screen::*,
};

use std::collections::HashMap;

use askama::Template;
use axum::Form;
use axum::Json;
use axum::extract::{Multipart, OriginalUri, Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use baiqian_domain::Msg;
use baiqian_domain::capability::Capability;
use baiqian_domain::org::{Level, OrgCode};
use baiqian_domain::rating::{
    LaggingRule, PioneerCriterion, PioneerFacts, PromotionLevel, Stage, Thresholds, VillageClass,
};
use baiqian_domain::role::Role;
use baiqian_domain::scope::Scope;
use baiqian_store::StoreError;
use baiqian_store::kernel::Node;
use baiqian_store::rating::standard::StandardSet;
use baiqian_store::rating::{
    Assessment, AssessmentFilter, AssessmentOrder, FactsRow, ItemInput, Moves, NewRound, Round,
    ScoredItem, StarYear, Step, StepAction, Tally, VillageFacts, china_date,
};
use serde::{Deserialize, Serialize};

use crate::auth::{Auth, CurrentUser};
use crate::error::{AppError, html};
use crate::excel::{self, Cell};
use crate::extract::{CodeParam, YearParam};
use crate::form::{ReportRow, report_rows_with};
use crate::frame::{Frame, ScreenPart, here};
use crate::i18n::{Lang, Tr};
use crate::routes::Routes;
use crate::state::AppState;

pub fn routes() -> Routes {
    Routes::new()
        .get("/ratings", Capability::ReadRatings, ratings_home)
        .get(
            "/orgs/{code}/ratings",
            Capability::ReadRatings,
            ratings_latest,
        )
        .get(
            "/orgs/{code}/ratings/{year}",
            Capability::ReadRatings,
            ratings_page,
        )
        .get(
            "/orgs/{code}/ratings/{year}/chart/{chart}",
            Capability::ReadRatings,
            chart_data,
        )
        .get(
            "/orgs/{code}/ratings/{year}/villages",
            Capability::ReadRatings,
            villages_page,
        )
        .post(
            "/orgs/{code}/ratings/{year}/open",
            Capability::Publish,
            open_round,
        )
        .post(
            "/orgs/{code}/ratings/{year}/rules",
            Capability::Publish,
            set_rules,
        )
        .post(
            "/orgs/{code}/ratings/{year}/publish",
            Capability::Publish,
            publish,
        )
        .post(
            "/orgs/{code}/ratings/{year}/standard",
            Capability::Approve,
            assign_set,
        )
        .post("/assessments/{id}/scores", Capability::Assess, save_scores)
        .post("/assessments/{id}/step", Capability::Assess, step)
        .post("/assessments/{id}/class", Capability::Approve, decide_class)
        .post(
            "/assessments/{id}/evidence",
            Capability::Assess,
            upload_evidence,
        )
        .get("/evidence/{id}", Capability::ReadRatings, evidence_file)
        .get(
            "/orgs/{code}/village-facts/{year}",
            Capability::ReadRatings,
            facts_page,
        )
        .post(
            "/orgs/{code}/village-facts/{year}",
            Capability::ImportVillageFacts,
            facts_import,
        )
        .get(
            "/api/v1/orgs/{code}/ratings/{year}",
            Capability::ReadRatings,
            api_ratings,
        )
        .get(
            "/orgs/{code}/village-facts/{year}/template.xlsx",
            Capability::ImportVillageFacts,
            facts_template,
        )
        .merge(standard::routes())
        .get("/public", Capability::Public, public_home)
        .get("/public/orgs/{code}", Capability::Public, public_org)
        .get(
            "/api/v1/public/orgs/{code}/ratings/{year}",
            Capability::Public,
            api_public_ratings,
        )
        .get(
            "/orgs/{code}/ratings/{year}/villages.xlsx",
            Capability::ExportLists,
            villages_export,
        )
        .get(
            "/orgs/{code}/ratings/{year}/board.xlsx",
            Capability::ExportLists,
            board_export,
        )
}

/// A figure, or a dash where there is none.
fn dash(v: &Option<i64>) -> String {
    v.map(|v| v.to_string()).unwrap_or_else(|| "—".into())
}

/// The rating vocabulary in the reader's language, for the templates of every rating page:
/// stages, classes and stars by value or by their place in the board's columns.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Words(pub(crate) Tr);

impl Words {
    pub(crate) fn stage(&self, s: &Stage) -> String {
        self.0
            .t(&format!("rating.stage.{}", s.as_str()))
            .to_string()
    }
    /// The stage in column `i` of [`Stage::ALL`].
    pub(crate) fn stage_at(&self, i: &usize) -> String {
        Stage::ALL
            .get(*i)
            .map(|s| self.stage(s))
            .unwrap_or_default()
    }
    pub(crate) fn stage_key(&self, i: &usize) -> &'static str {
        Stage::ALL.get(*i).map(|s| s.as_str()).unwrap_or("")
    }
    pub(crate) fn class(&self, c: &VillageClass) -> String {
        self.0
            .t(&format!("rating.class.{}", c.as_str()))
            .to_string()
    }
    /// The class in column `i` of [`VillageClass::ALL`].
    pub(crate) fn class_at(&self, i: &usize) -> String {
        VillageClass::ALL
            .get(*i)
            .map(|c| self.class(c))
            .unwrap_or_default()
    }
    pub(crate) fn class_key(&self, i: &usize) -> &'static str {
        VillageClass::ALL.get(*i).map(|c| c.as_str()).unwrap_or("")
    }
    pub(crate) fn class_opt(&self, c: &Option<VillageClass>) -> String {
        c.map(|c| self.class(&c)).unwrap_or_else(|| "—".into())
    }
    /// Stars as ★★★, a dash when unrated.
    pub(crate) fn stars(&self, s: &Option<i64>) -> String {
        s.map(|s| "★".repeat(s.clamp(0, 5) as usize))
            .unwrap_or_else(|| "—".into())
    }
    pub(crate) fn opt(&self, v: &Option<i64>) -> String {
        dash(v)
    }
}

fn today(state: &AppState) -> String {
    china_date(state.clock.now_ms())
}

fn current_year(state: &AppState) -> i64 {
    today(state)
        .get(..4)
        .and_then(|y| y.parse().ok())
        .unwrap_or(2016)
}

/// The ratings of the reader's own node, in the newest year with a round.
async fn ratings_home(State(state): State<AppState>, Auth(me): Auth) -> Result<Redirect, AppError> {
    let own = state
        .db
        .org(
            me.scope(),
            &me.actor.scope.root.clone().ok_or(AppError::NotFound)?,
        )
        .await?;
    let year = state
        .db
        .round_years(&own)
        .await?
        .first()
        .copied()
        .unwrap_or_else(|| current_year(&state));
    Ok(Redirect::to(&format!("/orgs/{}/ratings/{year}", own.code)))
}

/// A node's ratings in the newest year with a round (this year when none).
async fn ratings_latest(
    State(state): State<AppState>,
    Auth(me): Auth,
    CodeParam(code): CodeParam,
) -> Result<Redirect, AppError> {
    let org = state.db.org(me.scope(), &code).await?;
    let year = state
        .db
        .round_years(&org)
        .await?
        .first()
        .copied()
        .unwrap_or_else(|| current_year(&state));
    Ok(Redirect::to(&format!("/orgs/{}/ratings/{year}", org.code)))
}

/// The node (in the reader's scope) and the year of a `/orgs/{code}/…/{year}` route.
async fn node_year(
    state: &AppState,
    me: &CurrentUser,
    code: &OrgCode,
    year: i64,
) -> Result<(Node, i64), AppError> {
    Ok((state.db.org(me.scope(), code).await?, year))
}
