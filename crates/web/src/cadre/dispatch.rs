//! A first secretary's dispatch (第一书记选派): the page with the village's stars, class and
//! problems over the term and the quarterly reports; the forms to dispatch, report and end.

use baiqian_store::cadre::{DispatchView, NewDispatch, TermSnapshot};

use super::*;

#[derive(Template)]
#[template(path = "cadre/dispatch.html")]
struct DispatchPage {
    tr: Tr,
    f: Frame,
    view: DispatchView,
    keeps: bool,
    ends: bool,
    today: String,
    /// The whole phone, just revealed (none if none was given).
    revealed: Option<Option<String>>,
    can_reveal: bool,
}

impl DispatchPage {
    fn from(&self) -> String {
        self.tr.word(
            "cadre.sent_from",
            self.view.first_secretary.sent_from.as_str(),
        )
    }
    fn snapshot(&self, s: &Option<TermSnapshot>) -> String {
        match s {
            Some(s) => {
                let stars = s
                    .stars
                    .map(|n| self.tr.f("cadre.stars", &[("n", &n.to_string())]))
                    .unwrap_or_else(|| "—".into());
                let class = s
                    .class
                    .map(|c| self.tr.word("rating.class", c.as_str()))
                    .unwrap_or_default();
                format!("{} · {stars} {class}", s.year)
            }
            None => self.tr.t("cadre.no_rating").to_string(),
        }
    }
    fn phone(&self) -> String {
        match &self.revealed {
            Some(p) => p.clone(),
            None => self.view.first_secretary.phone_masked.clone(),
        }
        .unwrap_or_else(|| "—".into())
    }
    fn quarter(&self) -> String {
        baiqian_domain::cadre::quarter_of(&self.today).unwrap_or_default()
    }
}

/// `GET /first-secretaries/{id}`.
pub(super) async fn page(
    State(state): State<AppState>,
    Auth(me): Auth,
    tr: Tr,
    uri: OriginalUri,
    Path(id): Path<i64>,
) -> Result<Response, AppError> {
    render(&state, &me, tr, &uri, id, None).await
}

/// `POST /first-secretaries/{id}/reveal`: the dispatch with the whole phone, the look audited.
pub(super) async fn reveal(
    State(state): State<AppState>,
    Auth(me): Auth,
    tr: Tr,
    uri: OriginalUri,
    Path(id): Path<i64>,
) -> Result<Response, AppError> {
    let (_, phone) = state
        .db
        .reveal_cadre_phone(
            &me.actor,
            &state.vault,
            baiqian_store::cadre::CadreKind::FirstSecretary,
            id,
            state.clock.now_ms(),
        )
        .await?;
    let mut res = render(&state, &me, tr, &uri, id, Some(phone)).await?;
    no_store(&mut res);
    Ok(res)
}

async fn render(
    state: &AppState,
    me: &CurrentUser,
    tr: Tr,
    uri: &OriginalUri,
    id: i64,
    revealed: Option<Option<String>>,
) -> Result<Response, AppError> {
    let today = today(state);
    let view = state.db.dispatch(&me.actor, id, &today).await?;
    let path = view.first_secretary.org_path.clone();
    let ends = keeps(me, &path)
        && match me.role() {
            Role::CityAdmin => true,
            Role::CountyAdmin => view.first_secretary.sent_from == SentFrom::County,
            _ => false,
        };
    html(&DispatchPage {
        tr,
        f: Frame::new(state, me, tr, &here(uri), "cadres").await?,
        keeps: keeps(me, &path) && view.first_secretary.ended_on.is_none(),
        ends: ends && view.first_secretary.ended_on.is_none(),
        view,
        today,
        revealed,
        can_reveal: me.role().may_see_personal_data(),
    })
}

#[derive(Deserialize, Default)]
pub(super) struct DispatchForm {
    #[serde(default)]
    name: String,
    #[serde(default)]
    phone: String,
    #[serde(default)]
    sent_from: String,
    #[serde(default)]
    sent_by: String,
    #[serde(default)]
    start_on: String,
    #[serde(default)]
    term_end: String,
    #[serde(default)]
    stationed: String,
}

/// `POST /orgs/{code}/first-secretaries`.
pub(super) async fn create(
    State(state): State<AppState>,
    Auth(me): Auth,
    CodeParam(code): CodeParam,
    Form(form): Form<DispatchForm>,
) -> Result<Response, AppError> {
    let org = state.db.org(me.scope(), &code).await?;
    let stationed = match form.stationed.as_str() {
        "" | "0" | "no" => false,
        "1" | "yes" | "on" => true,
        _ => return Err(AppError::Invalid(Msg::new("cadre.error.stationed"))),
    };
    let new = NewDispatch {
        name: form.name,
        phone: form.phone,
        sent_from: form.sent_from,
        sent_by: form.sent_by,
        start_on: form.start_on,
        term_end: form.term_end,
        stationed,
    };
    let id = state
        .db
        .dispatch_first_secretary(
            &me.actor,
            &state.vault,
            &org,
            &new,
            &today(&state),
            state.clock.now_ms(),
        )
        .await?;
    Ok(Redirect::to(&format!("/first-secretaries/{id}")).into_response())
}

#[derive(Deserialize, Default)]
pub(super) struct ReportForm {
    #[serde(default)]
    quarter: String,
    #[serde(default)]
    body: String,
}

/// `POST /first-secretaries/{id}/reports`.
pub(super) async fn report(
    State(state): State<AppState>,
    Auth(me): Auth,
    Path(id): Path<i64>,
    Form(form): Form<ReportForm>,
) -> Result<Response, AppError> {
    state
        .db
        .record_report(
            &me.actor,
            id,
            &form.quarter,
            &form.body,
            &today(&state),
            state.clock.now_ms(),
        )
        .await?;
    Ok(Redirect::to(&format!("/first-secretaries/{id}")).into_response())
}

#[derive(Deserialize, Default)]
pub(super) struct EndForm {
    #[serde(default)]
    on: String,
}

/// `POST /first-secretaries/{id}/end`.
pub(super) async fn end(
    State(state): State<AppState>,
    Auth(me): Auth,
    Path(id): Path<i64>,
    Form(form): Form<EndForm>,
) -> Result<Response, AppError> {
    state
        .db
        .end_dispatch(
            &me.actor,
            id,
            &form.on,
            &today(&state),
            state.clock.now_ms(),
        )
        .await?;
    Ok(Redirect::to(&format!("/first-secretaries/{id}")).into_response())
}
