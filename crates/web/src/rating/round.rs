//! The round's own actions: the city opens it, sets its rules and publishes it; a county
//! assigns its standard set.

use super::*;

/// The node and year of a round-level action: the city admin at their own node only.
pub(super) async fn round_owner(
    state: &AppState,
    me: &CurrentUser,
    code: &OrgCode,
    year: i64,
) -> Result<(Node, i64), AppError> {
    let (org, year) = node_year(state, me, code, year).await?;
    if me.role() != Role::CityAdmin || !me.scope().is_root_path(&org.path) {
        return Err(AppError::Denied(Msg::new("error.denied")));
    }
    Ok((org, year))
}

#[derive(Deserialize)]
pub(super) struct OpenForm {
    set_id: String,
    self_due: String,
    review_due: String,
    approve_due: String,
}

pub(super) async fn open_round(
    State(state): State<AppState>,
    Auth(me): Auth,
    tr: Tr,
    uri: OriginalUri,
    CodeParam(code): CodeParam,
    YearParam(year): YearParam,
    Form(form): Form<OpenForm>,
) -> Result<Response, AppError> {
    let (org, year) = round_owner(&state, &me, &code, year).await?;
    let new = NewRound {
        year,
        set_id: form.set_id.trim().parse().unwrap_or(0),
        self_due: form.self_due.trim().into(),
        review_due: form.review_due.trim().into(),
        approve_due: form.approve_due.trim().into(),
    };
    match state
        .db
        .open_round(&me.actor, new, state.clock.now_ms())
        .await
    {
        Ok(_) => Ok(Redirect::to(&format!("/orgs/{}/ratings/{year}", org.code)).into_response()),
        Err(StoreError::Invalid(m)) => {
            refused_on_board(&state, &me, tr, &here(&uri), org, year, &m).await
        }
        Err(e) => Err(e.into()),
    }
}

#[derive(Deserialize)]
pub(super) struct RulesForm {
    t2: String,
    t3: String,
    t4: String,
    t5: String,
    veto_cap: String,
    lagging_max: String,
    #[serde(default)]
    lagging_on_veto: String,
    /// The box that says re-rating every village at once is meant.
    #[serde(default)]
    confirm: String,
}

/// An irreversible act's form: its box says it is meant.
#[derive(Deserialize)]
pub(super) struct ConfirmForm {
    #[serde(default)]
    confirm: String,
}

pub(super) fn int(s: &str, what: &'static str) -> Result<i64, Msg> {
    s.trim()
        .parse()
        .map_err(|_| Msg::new("rating.error.number").arg("field", what))
}

pub(super) async fn set_rules(
    State(state): State<AppState>,
    Auth(me): Auth,
    tr: Tr,
    uri: OriginalUri,
    CodeParam(code): CodeParam,
    YearParam(year): YearParam,
    Form(form): Form<RulesForm>,
) -> Result<Response, AppError> {
    let (org, year) = round_owner(&state, &me, &code, year).await?;
    if form.confirm != "1" {
        return refused_on_board(
            &state,
            &me,
            tr,
            &here(&uri),
            org,
            year,
            &Msg::new("rating.error.confirm_rerate"),
        )
        .await;
    }
    let parsed = (|| {
        let t = Thresholds::new(
            [
                0,
                int(&form.t2, "t2")?,
                int(&form.t3, "t3")?,
                int(&form.t4, "t4")?,
                int(&form.t5, "t5")?,
            ],
            int(&form.veto_cap, "veto_cap")?,
        )?;
        let l = LaggingRule {
            max_stars: int(&form.lagging_max, "lagging_max")?,
            on_veto: form.lagging_on_veto == "1",
        };
        Ok::<_, Msg>((t, l))
    })();
    let result = match parsed {
        Ok((t, l)) => state
            .db
            .set_rules(&me.actor, year, t, l, state.clock.now_ms())
            .await
            .map_err(|e| match e {
                StoreError::Invalid(m) => Ok(m),
                e => Err(e),
            }),
        Err(m) => Err(Ok(m)),
    };
    match result {
        Ok(moves) => {
            html(&board_page(&state, &me, tr, &here(&uri), org, year, (Some(moves), None)).await?)
        }
        Err(Ok(m)) => refused_on_board(&state, &me, tr, &here(&uri), org, year, &m).await,
        Err(Err(e)) => Err(e.into()),
    }
}

/// Publishes the round, when its box says so; a refusal is the board again with the reason
/// (while villages wait for approval the page shows the button disabled with the same reason).
pub(super) async fn publish(
    State(state): State<AppState>,
    Auth(me): Auth,
    tr: Tr,
    uri: OriginalUri,
    CodeParam(code): CodeParam,
    YearParam(year): YearParam,
    Form(form): Form<ConfirmForm>,
) -> Result<Response, AppError> {
    let (org, year) = round_owner(&state, &me, &code, year).await?;
    if form.confirm != "1" {
        let why = Msg::new("rating.error.confirm_publish");
        return refused_on_board(&state, &me, tr, &here(&uri), org, year, &why).await;
    }
    match state
        .db
        .publish_round(&me.actor, year, state.clock.now_ms())
        .await
    {
        Ok(_) => Ok(Redirect::to(&format!("/orgs/{}/ratings/{year}", org.code)).into_response()),
        Err(StoreError::Conflict(why)) => {
            let mut res = refused_on_board(&state, &me, tr, &here(&uri), org, year, &why).await?;
            *res.status_mut() = axum::http::StatusCode::CONFLICT;
            Ok(res)
        }
        Err(e) => Err(e.into()),
    }
}

#[derive(Deserialize)]
pub(super) struct AssignForm {
    set_id: String,
}

pub(super) async fn assign_set(
    State(state): State<AppState>,
    Auth(me): Auth,
    CodeParam(code): CodeParam,
    YearParam(year): YearParam,
    Form(form): Form<AssignForm>,
) -> Result<Response, AppError> {
    let (org, year) = node_year(&state, &me, &code, year).await?;
    if me.role() != Role::CountyAdmin || !me.scope().is_root_path(&org.path) {
        return Err(AppError::Denied(Msg::new("error.denied")));
    }
    let set_id = form
        .set_id
        .trim()
        .parse()
        .map_err(|_| AppError::Invalid(Msg::new("rating.error.set")))?;
    state
        .db
        .assign_standard_set(&me.actor, year, set_id, state.clock.now_ms())
        .await?;
    Ok(Redirect::to(&format!("/orgs/{code}/ratings/{year}")).into_response())
}
