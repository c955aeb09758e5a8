//! A loan's page: its terms, who did each step, its schedule and its ledger, and the one step
//! that waits (review, approval or refusal, disbursement, a repayment, a reversal) for the hand
//! that may take it.

use askama::Template;
use axum::Form;
use axum::extract::{OriginalUri, Path, State};
use axum::response::{IntoResponse, Redirect, Response};
use baiqian_domain::aid::LoanStage;
use baiqian_domain::capability::Capability;
use baiqian_store::aid::{LoanEntry, LoanView};
use serde::Deserialize;

use super::{approves, keeps, today};
use crate::auth::Auth;
use crate::error::{AppError, html};
use crate::frame::{Frame, here};
use crate::i18n::Tr;
use crate::routes::Routes;
use crate::state::AppState;

pub(super) fn routes() -> Routes {
    Routes::new()
        .get("/aid/loans/{id}", Capability::ReadAid, page)
        .post("/aid/loans/{id}/review", Capability::KeepAid, review)
        .post("/aid/loans/{id}/approve", Capability::ApproveAid, approve)
        .post("/aid/loans/{id}/refuse", Capability::ApproveAid, refuse)
        .post("/aid/loans/{id}/disburse", Capability::KeepAid, disburse)
        .post("/aid/loans/{id}/repay", Capability::KeepAid, repay)
        .post("/aid/loans/{id}/reverse", Capability::KeepAid, reverse)
}

#[derive(Template)]
#[template(path = "aid/loan.html")]
struct LoanPage {
    tr: Tr,
    f: Frame,
    v: LoanView,
    keeps: bool,
    approves: bool,
    login: String,
    today: String,
}

impl LoanPage {
    fn stage(&self) -> String {
        super::stage_word(self.tr, &self.v.loan)
    }
    fn method(&self) -> String {
        self.tr.word("aid.method", self.v.loan.method.as_str())
    }
    fn rate(&self) -> String {
        format!("{}%", super::rate_text(self.v.loan.annual_rate_bp))
    }
    fn entry_kind(&self, e: &LoanEntry) -> String {
        self.tr.word("aid.entry", &e.kind)
    }
    fn did_a_step(&self) -> bool {
        let l = &self.v.loan;
        l.applied_by == self.login || l.reviewed_by.as_deref() == Some(self.login.as_str())
    }
    fn may_review(&self) -> bool {
        self.keeps && self.v.loan.stage == LoanStage::Applied && !self.did_a_step()
    }
    fn may_approve(&self) -> bool {
        self.approves && self.v.loan.stage == LoanStage::Reviewed && !self.did_a_step()
    }
    fn may_refuse(&self) -> bool {
        self.approves
            && matches!(
                self.v.loan.stage,
                LoanStage::Applied | LoanStage::Reviewed | LoanStage::Approved
            )
            && !self.did_a_step()
    }
    fn may_disburse(&self) -> bool {
        self.keeps
            && self.v.loan.stage == LoanStage::Approved
            && self.v.loan.approved_by.as_deref() != Some(self.login.as_str())
    }
    fn may_repay(&self) -> bool {
        self.keeps && self.v.loan.stage == LoanStage::Disbursed
    }
    fn may_reverse(&self, e: &LoanEntry) -> bool {
        self.keeps && e.kind == "repayment" && !e.reversed && e.recorded_by != self.login
    }
}

/// `GET /aid/loans/{id}`.
async fn page(
    State(state): State<AppState>,
    Auth(me): Auth,
    tr: Tr,
    uri: OriginalUri,
    Path(id): Path<i64>,
) -> Result<Response, AppError> {
    let v = state.db.loan(&me.actor, id).await?;
    html(&LoanPage {
        tr,
        f: Frame::new(&state, &me, tr, &here(&uri), "aid").await?,
        keeps: keeps(&me, &v.loan.org_path),
        approves: approves(&me, &v.loan.org_path),
        login: me.actor.login.clone(),
        today: today(&state),
        v,
    })
}

fn back(id: i64) -> Response {
    Redirect::to(&format!("/aid/loans/{id}")).into_response()
}

#[derive(Deserialize, Default)]
struct StepForm {
    #[serde(default)]
    reason: String,
    #[serde(default)]
    on: String,
    #[serde(default)]
    amount: String,
    #[serde(default)]
    entry: String,
}

async fn decide(
    state: &AppState,
    me: &crate::auth::CurrentUser,
    id: i64,
    next: LoanStage,
    reason: &str,
) -> Result<Response, AppError> {
    state
        .db
        .decide_loan(&me.actor, id, next, reason, state.clock.now_ms())
        .await?;
    Ok(back(id))
}

async fn review(
    State(state): State<AppState>,
    Auth(me): Auth,
    Path(id): Path<i64>,
) -> Result<Response, AppError> {
    decide(&state, &me, id, LoanStage::Reviewed, "").await
}

async fn approve(
    State(state): State<AppState>,
    Auth(me): Auth,
    Path(id): Path<i64>,
) -> Result<Response, AppError> {
    decide(&state, &me, id, LoanStage::Approved, "").await
}

async fn refuse(
    State(state): State<AppState>,
    Auth(me): Auth,
    Path(id): Path<i64>,
    Form(form): Form<StepForm>,
) -> Result<Response, AppError> {
    decide(&state, &me, id, LoanStage::Refused, &form.reason).await
}

async fn disburse(
    State(state): State<AppState>,
    Auth(me): Auth,
    Path(id): Path<i64>,
    Form(form): Form<StepForm>,
) -> Result<Response, AppError> {
    state
        .db
        .disburse_loan(
            &me.actor,
            id,
            &form.on,
            &today(&state),
            state.clock.now_ms(),
        )
        .await?;
    Ok(back(id))
}

async fn repay(
    State(state): State<AppState>,
    Auth(me): Auth,
    Path(id): Path<i64>,
    Form(form): Form<StepForm>,
) -> Result<Response, AppError> {
    state
        .db
        .repay_loan(
            &me.actor,
            id,
            &form.amount,
            &form.on,
            &today(&state),
            state.clock.now_ms(),
        )
        .await?;
    Ok(back(id))
}

async fn reverse(
    State(state): State<AppState>,
    Auth(me): Auth,
    Path(id): Path<i64>,
    Form(form): Form<StepForm>,
) -> Result<Response, AppError> {
    let entry: i64 = form.entry.trim().parse().map_err(|_| AppError::NotFound)?;
    state
        .db
        .reverse_loan_entry(
            &me.actor,
            id,
            entry,
            &form.reason,
            &today(&state),
            state.clock.now_ms(),
        )
        .await?;
    Ok(back(id))
}
