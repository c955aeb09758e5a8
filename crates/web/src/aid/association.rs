//! An association's page: its members (ID numbers and phones masked), projects, fund, grants
//! and loans, with the forms of whoever keeps it, and the steps of a grant (approve or refuse,
//! pay, outcome).

use askama::Template;
use axum::Form;
use axum::extract::{OriginalUri, Path, State};
use axum::response::{IntoResponse, Redirect, Response};
use baiqian_domain::aid::{GrantStage, ProjectKind};
use baiqian_domain::capability::Capability;
use baiqian_store::aid::{
    AidMember, AidRevealed, Association, Fund, Grant, Loan, NewAidMember, NewGrant, NewLoan,
    NewProject, Programme, Project, Receipt,
};
use serde::Deserialize;

use super::{approves, keeps, today};
use crate::auth::{Auth, CurrentUser};
use crate::error::{AppError, html};
use crate::frame::{Frame, here};
use crate::i18n::Tr;
use crate::routes::Routes;
use crate::state::AppState;

pub(super) fn routes() -> Routes {
    Routes::new()
        .get("/aid/associations/{id}", Capability::ReadAid, page)
        .post(
            "/aid/associations/{id}/members",
            Capability::KeepAid,
            add_member,
        )
        .post(
            "/aid/associations/{id}/projects",
            Capability::KeepAid,
            add_project,
        )
        .post("/aid/associations/{id}/funds", Capability::KeepAid, receive)
        .post(
            "/aid/associations/{id}/grants",
            Capability::KeepAid,
            apply_grant,
        )
        .post(
            "/aid/associations/{id}/loans",
            Capability::KeepAid,
            apply_loan,
        )
        .post(
            "/aid/grants/{id}/approve",
            Capability::ApproveAid,
            approve_grant,
        )
        .post(
            "/aid/grants/{id}/refuse",
            Capability::ApproveAid,
            refuse_grant,
        )
        .post(
            "/aid/members/{id}/reveal",
            Capability::RevealPersonalData,
            reveal_member,
        )
        .post("/aid/grants/{id}/pay", Capability::KeepAid, pay_grant)
        .post(
            "/aid/grants/{id}/outcome",
            Capability::KeepAid,
            grant_outcome,
        )
}

#[derive(Template)]
#[template(path = "aid/association.html")]
struct AssociationPage {
    tr: Tr,
    f: Frame,
    a: Association,
    members: Vec<AidMember>,
    projects: Vec<Project>,
    fund: Fund,
    grants: Vec<Grant>,
    loans: Vec<Loan>,
    programmes: Vec<Programme>,
    keeps: bool,
    approves: bool,
    login: String,
    kinds: Vec<ProjectKind>,
    today: String,
    /// The reader may unseal a member's ID number and phone, and the one unsealed now.
    may_reveal: bool,
    revealed: Option<AidRevealed>,
}

impl AssociationPage {
    fn kind(&self, k: &ProjectKind) -> String {
        self.tr.word("aid.project", k.as_str())
    }
    fn grant_stage(&self, g: &Grant) -> String {
        self.tr.word("aid.grant_stage", g.stage.as_str())
    }
    fn loan_stage(&self, l: &Loan) -> String {
        super::stage_word(self.tr, l)
    }
    /// The reader may approve or refuse this grant: an approver who did not apply for it.
    fn may_decide(&self, g: &Grant) -> bool {
        self.approves && g.stage == GrantStage::Applied && g.applied_by != self.login
    }
    /// The reader may pay it: a keeper who did not approve it.
    fn may_pay(&self, g: &Grant) -> bool {
        self.keeps
            && g.stage == GrantStage::Approved
            && g.approved_by.as_deref() != Some(self.login.as_str())
    }
    fn may_record_outcome(&self, g: &Grant) -> bool {
        self.keeps && g.stage == GrantStage::Paid
    }
    fn revealed_for(&self, m: &AidMember) -> Option<&AidRevealed> {
        self.revealed.as_ref().filter(|r| r.member_id == m.id)
    }
    fn party_members(&self) -> Vec<&AidMember> {
        self.members.iter().filter(|m| m.party_member).collect()
    }
}

/// `GET /aid/associations/{id}`.
async fn page(
    State(state): State<AppState>,
    Auth(me): Auth,
    tr: Tr,
    uri: OriginalUri,
    Path(id): Path<i64>,
) -> Result<Response, AppError> {
    show(&state, &me, tr, &uri, id, None).await
}

/// `POST /aid/members/{id}/reveal`: the association's page with one member's ID number and
/// phone unsealed (audited), never cached.
async fn reveal_member(
    State(state): State<AppState>,
    Auth(me): Auth,
    tr: Tr,
    uri: OriginalUri,
    Path(id): Path<i64>,
) -> Result<Response, AppError> {
    let revealed = state
        .db
        .reveal_aid_member(&me.actor, &state.vault, id, state.clock.now_ms())
        .await?;
    let mut res = show(
        &state,
        &me,
        tr,
        &uri,
        revealed.association_id,
        Some(revealed),
    )
    .await?;
    res.headers_mut().insert(
        axum::http::header::CACHE_CONTROL,
        axum::http::HeaderValue::from_static("no-store"),
    );
    Ok(res)
}

async fn show(
    state: &AppState,
    me: &CurrentUser,
    tr: Tr,
    uri: &OriginalUri,
    id: i64,
    revealed: Option<AidRevealed>,
) -> Result<Response, AppError> {
    let a = state.db.association(&me.actor, id).await?;
    html(&AssociationPage {
        tr,
        f: Frame::new(state, me, tr, &here(uri), "aid").await?,
        members: state.db.aid_members_of(a.id).await?,
        projects: state.db.aid_projects_of(a.id).await?,
        fund: state.db.fund_of(a.id).await?,
        grants: state.db.grants_of(a.id).await?,
        loans: state.db.loans_of(a.id).await?,
        programmes: state.db.programmes_for(&a.org_path).await?,
        keeps: keeps(me, &a.org_path),
        approves: approves(me, &a.org_path),
        login: me.actor.login.clone(),
        kinds: ProjectKind::ALL.to_vec(),
        today: today(state),
        may_reveal: me.role().may(Capability::RevealPersonalData),
        revealed,
        a,
    })
}

fn back(id: i64) -> Response {
    Redirect::to(&format!("/aid/associations/{id}")).into_response()
}

#[derive(Deserialize, Default)]
struct MemberForm {
    #[serde(default)]
    name: String,
    #[serde(default)]
    party_member: String,
    #[serde(default)]
    id_number: String,
    #[serde(default)]
    phone: String,
    #[serde(default)]
    in_difficulty: String,
    #[serde(default)]
    helped_on: String,
    #[serde(default)]
    change_note: String,
    #[serde(default)]
    mentor: String,
    #[serde(default)]
    households_led: String,
    #[serde(default)]
    joined_on: String,
}

async fn add_member(
    State(state): State<AppState>,
    Auth(me): Auth,
    Path(id): Path<i64>,
    Form(form): Form<MemberForm>,
) -> Result<Response, AppError> {
    state
        .db
        .add_aid_member(
            &me.actor,
            &state.vault,
            id,
            &NewAidMember {
                name: form.name,
                party_member: !form.party_member.is_empty(),
                id_number: form.id_number,
                phone: form.phone,
                in_difficulty: !form.in_difficulty.is_empty(),
                helped_on: form.helped_on,
                change_note: form.change_note,
                mentor: form.mentor,
                households_led: form.households_led,
                joined_on: form.joined_on,
            },
            &today(&state),
            state.clock.now_ms(),
        )
        .await?;
    Ok(back(id))
}

#[derive(Deserialize, Default)]
struct ProjectForm {
    #[serde(default)]
    kind: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    founded_on: String,
    #[serde(default)]
    note: String,
}

async fn add_project(
    State(state): State<AppState>,
    Auth(me): Auth,
    Path(id): Path<i64>,
    Form(form): Form<ProjectForm>,
) -> Result<Response, AppError> {
    state
        .db
        .add_aid_project(
            &me.actor,
            id,
            &NewProject {
                kind: form.kind,
                name: form.name,
                founded_on: form.founded_on,
                note: form.note,
            },
            &today(&state),
            state.clock.now_ms(),
        )
        .await?;
    Ok(back(id))
}

#[derive(Deserialize, Default)]
struct ReceiptForm {
    #[serde(default)]
    amount: String,
    #[serde(default)]
    source: String,
    #[serde(default)]
    on: String,
}

async fn receive(
    State(state): State<AppState>,
    Auth(me): Auth,
    Path(id): Path<i64>,
    Form(form): Form<ReceiptForm>,
) -> Result<Response, AppError> {
    state
        .db
        .receive_funds(
            &me.actor,
            id,
            &Receipt {
                amount: form.amount,
                source: form.source,
                on: form.on,
            },
            &today(&state),
            state.clock.now_ms(),
        )
        .await?;
    Ok(back(id))
}

/// A number a form field names (a member, a programme); anything else is the field's error.
fn id_field(s: &str, key: &'static str) -> Result<i64, AppError> {
    s.trim()
        .parse()
        .map_err(|_| AppError::Invalid(baiqian_domain::Msg::new(key)))
}

#[derive(Deserialize, Default)]
struct GrantForm {
    #[serde(default)]
    beneficiary: String,
    #[serde(default)]
    purpose: String,
    #[serde(default)]
    amount: String,
}

async fn apply_grant(
    State(state): State<AppState>,
    Auth(me): Auth,
    Path(id): Path<i64>,
    Form(form): Form<GrantForm>,
) -> Result<Response, AppError> {
    state
        .db
        .apply_grant(
            &me.actor,
            id,
            &NewGrant {
                beneficiary_id: id_field(&form.beneficiary, "aid.error.borrower")?,
                purpose: form.purpose,
                amount: form.amount,
            },
            state.clock.now_ms(),
        )
        .await?;
    Ok(back(id))
}

#[derive(Deserialize, Default)]
struct LoanForm {
    #[serde(default)]
    programme: String,
    #[serde(default)]
    borrower: String,
    #[serde(default)]
    principal: String,
    #[serde(default)]
    purpose: String,
}

async fn apply_loan(
    State(state): State<AppState>,
    Auth(me): Auth,
    Path(id): Path<i64>,
    Form(form): Form<LoanForm>,
) -> Result<Response, AppError> {
    let loan = state
        .db
        .apply_loan(
            &me.actor,
            id,
            &NewLoan {
                programme_id: id_field(&form.programme, "aid.error.programme")?,
                borrower_id: id_field(&form.borrower, "aid.error.borrower")?,
                principal: form.principal,
                purpose: form.purpose,
            },
            state.clock.now_ms(),
        )
        .await?;
    Ok(Redirect::to(&format!("/aid/loans/{loan}")).into_response())
}

#[derive(Deserialize, Default)]
struct StepForm {
    #[serde(default)]
    reason: String,
    #[serde(default)]
    on: String,
    #[serde(default)]
    outcome: String,
}

/// Where a grant's step lands: its association's page.
async fn grant_back(
    state: &AppState,
    me: &crate::auth::CurrentUser,
    id: i64,
) -> Result<Response, AppError> {
    Ok(back(state.db.grant_association(&me.actor, id).await?))
}

async fn approve_grant(
    State(state): State<AppState>,
    Auth(me): Auth,
    Path(id): Path<i64>,
) -> Result<Response, AppError> {
    state
        .db
        .decide_grant(&me.actor, id, true, "", state.clock.now_ms())
        .await?;
    grant_back(&state, &me, id).await
}

async fn refuse_grant(
    State(state): State<AppState>,
    Auth(me): Auth,
    Path(id): Path<i64>,
    Form(form): Form<StepForm>,
) -> Result<Response, AppError> {
    state
        .db
        .decide_grant(&me.actor, id, false, &form.reason, state.clock.now_ms())
        .await?;
    grant_back(&state, &me, id).await
}

async fn pay_grant(
    State(state): State<AppState>,
    Auth(me): Auth,
    Path(id): Path<i64>,
    Form(form): Form<StepForm>,
) -> Result<Response, AppError> {
    state
        .db
        .pay_grant(
            &me.actor,
            id,
            &form.on,
            &today(&state),
            state.clock.now_ms(),
        )
        .await?;
    grant_back(&state, &me, id).await
}

async fn grant_outcome(
    State(state): State<AppState>,
    Auth(me): Auth,
    Path(id): Path<i64>,
    Form(form): Form<StepForm>,
) -> Result<Response, AppError> {
    state
        .db
        .record_grant_outcome(&me.actor, id, &form.outcome, state.clock.now_ms())
        .await?;
    grant_back(&state, &me, id).await
}
