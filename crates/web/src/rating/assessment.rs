//! A village's assessment: saving scores, moving it through its stages, deciding its class.

use super::*;

pub(super) fn back_to(a: &Assessment) -> Response {
    Redirect::to(&format!("/orgs/{}/ratings/{}", a.org_code, a.year)).into_response()
}

/// Parses the score form: `score_{item}`, `veto_{item}`, `text_{item}`.
pub(super) fn score_inputs(
    fields: &[(String, String)],
) -> (Vec<(i64, Typed)>, HashMap<i64, Typed>) {
    let mut typed: HashMap<i64, Typed> = HashMap::new();
    let mut order = Vec::new();
    for (k, v) in fields {
        let Some((kind, id)) = k.split_once('_') else {
            continue;
        };
        let Ok(id) = id.parse::<i64>() else {
            continue;
        };
        let t = typed.entry(id).or_insert_with(|| {
            order.push(id);
            Typed::default()
        });
        match kind {
            "score" => t.score = v.clone(),
            "veto" => t.vetoed = v == "1",
            "text" => t.text = v.clone(),
            _ => {}
        }
    }
    let list = order
        .iter()
        .filter_map(|id| typed.get(id).map(|t| (*id, t.clone())))
        .collect();
    (list, typed)
}

/// What an htmx save answers: the time saved and the new total (swapped into the page's
/// summary and save bar), or why nothing was saved.
#[derive(Template)]
#[template(path = "rating/saved.html")]
pub(super) struct SavedFragment {
    tr: Tr,
    at: String,
    total: String,
    error: Option<String>,
}

impl SavedFragment {
    pub(super) fn refused(tr: Tr, why: String) -> Self {
        Self {
            tr,
            at: String::new(),
            total: String::new(),
            error: Some(why),
        }
    }
}

/// Whether a request came from htmx (which then wants a fragment, not a page or a redirect).
pub(super) fn from_htmx(headers: &axum::http::HeaderMap) -> bool {
    headers
        .get("hx-request")
        .is_some_and(|v| v.as_bytes() == b"true")
}

pub(super) async fn save_scores(
    State(state): State<AppState>,
    Auth(me): Auth,
    tr: Tr,
    uri: OriginalUri,
    headers: axum::http::HeaderMap,
    Path(id): Path<i64>,
    Form(fields): Form<Vec<(String, String)>>,
) -> Result<Response, AppError> {
    let htmx = from_htmx(&headers);
    let (list, typed) = score_inputs(&fields);
    let (current, items, _) = assessment_by_id(&state, &me, id).await?;
    let mut inputs = Vec::new();
    let mut error = None;
    for (item_id, t) in &list {
        let Some(it) = items.iter().find(|i| i.item.id == *item_id) else {
            return Err(AppError::NotFound);
        };
        if t.score.trim().is_empty() {
            // Left blank: not scored yet (a draft may be saved part-filled).
            continue;
        }
        match baiqian_domain::rating::parse_score(&t.score, it.item.full_score) {
            Ok(score) => inputs.push(ItemInput {
                item_id: *item_id,
                score,
                vetoed: t.vetoed,
                text: t.text.clone(),
            }),
            Err(m) => {
                error.get_or_insert_with(|| format!("{} {}", it.item.code, tr.msg(&m)));
            }
        }
    }
    let error = match error {
        Some(e) => e,
        None => match state
            .db
            .save_scores(&me.actor, id, &inputs, state.clock.now_ms())
            .await
        {
            Ok(a) if htmx => {
                let total = if a.stage == Stage::Draft {
                    a.self_total
                } else {
                    a.total
                };
                return html(&SavedFragment {
                    tr,
                    at: baiqian_domain::time::format(state.clock.now_ms(), "%H:%M")
                        .unwrap_or_default(),
                    total: total.map_or_else(|| "—".into(), |t| t.to_string()),
                    error: None,
                });
            }
            Ok(a) => return Ok(back_to(&a)),
            Err(StoreError::Invalid(m)) => tr.msg(&m),
            Err(e) => return Err(e.into()),
        },
    };
    if htmx {
        let mut res = html(&SavedFragment::refused(tr, error))?;
        *res.status_mut() = StatusCode::UNPROCESSABLE_ENTITY;
        return Ok(res);
    }
    let org = state
        .db
        .org(
            me.scope(),
            &OrgCode::parse(&current.org_code).map_err(|_| AppError::NotFound)?,
        )
        .await?;
    let page = village_page(
        &state,
        &me,
        tr,
        &here(&uri),
        org,
        current.year,
        (Some(error), typed),
    )
    .await?
    .ok_or(AppError::NotFound)?;
    let mut res = html(&page)?;
    *res.status_mut() = StatusCode::UNPROCESSABLE_ENTITY;
    Ok(res)
}

pub(super) async fn assessment_by_id(
    state: &AppState,
    me: &CurrentUser,
    id: i64,
) -> Result<(Assessment, Vec<ScoredItem>, Vec<Step>), AppError> {
    let a = state.db.assessment_by_id(me.scope(), id).await?;
    let village = state
        .db
        .org(
            me.scope(),
            &OrgCode::parse(&a.org_code).map_err(|_| AppError::NotFound)?,
        )
        .await?;
    state
        .db
        .assessment_of(me.scope(), &village, a.year)
        .await?
        .ok_or(AppError::NotFound)
}

#[derive(Deserialize)]
pub(super) struct StepForm {
    action: String,
    #[serde(default)]
    reason: String,
}

pub(super) async fn step(
    State(state): State<AppState>,
    Auth(me): Auth,
    Path(id): Path<i64>,
    Form(form): Form<StepForm>,
) -> Result<Response, AppError> {
    let action = match form.action.as_str() {
        "forward" => StepAction::Forward,
        "back" => StepAction::Back {
            reason: form.reason,
        },
        _ => return Err(AppError::Invalid(Msg::new("rating.error.action"))),
    };
    let a = state
        .db
        .step_assessment(&me.actor, id, action, state.clock.now_ms())
        .await?;
    Ok(back_to(&a))
}

#[derive(Deserialize)]
pub(super) struct ClassForm {
    #[serde(default)]
    class: String,
    #[serde(default)]
    reason: String,
}

pub(super) async fn decide_class(
    State(state): State<AppState>,
    Auth(me): Auth,
    Path(id): Path<i64>,
    Form(form): Form<ClassForm>,
) -> Result<Response, AppError> {
    let class = match form.class.as_str() {
        "" | "rule" => None,
        c => Some(
            VillageClass::parse(c)
                .ok_or_else(|| AppError::Invalid(Msg::new("rating.error.class")))?,
        ),
    };
    let a = state
        .db
        .decide_class(&me.actor, id, class, &form.reason, state.clock.now_ms())
        .await?;
    Ok(back_to(&a))
}
