//! Moving and retiring a node, with a reason, and what the page says when the store refuses.

use super::*;

#[derive(Deserialize, Default)]
pub(super) struct ReasonForm {
    #[serde(default)]
    parent: String,
    #[serde(default)]
    reason: String,
}

#[derive(Template)]
#[template(path = "org/action.html")]
pub(super) struct ActionPage {
    tr: Tr,
    f: Frame,
    org: Node,
    /// `move` or `retire`.
    action: &'static str,
    parent: String,
    reason: String,
    errors: Vec<FieldError>,
    /// For a retirement: what it ends (active accounts, devices at the node); empty otherwise.
    ends: String,
}

/// What retiring `node` would end, in words; empty when nothing.
pub(super) async fn retirement_ends(
    state: &AppState,
    tr: Tr,
    node: &Node,
) -> Result<String, AppError> {
    let (accounts, devices) = state.db.access_at(node).await?;
    Ok(if accounts + devices == 0 {
        String::new()
    } else {
        tr.msg(
            &Msg::new("org.retire_ends")
                .arg("accounts", accounts)
                .arg("devices", devices),
        )
    })
}

impl ActionPage {
    fn title(&self) -> &'static str {
        self.tr.t(if self.action == "move" {
            "org.move"
        } else {
            "org.retire"
        })
    }

    fn hint(&self) -> &'static str {
        self.tr.t(if self.action == "move" {
            "org.move_hint"
        } else {
            "org.retire_hint"
        })
    }

    fn error_for(&self, field: &str) -> String {
        crate::form::errors_of(&self.errors, field)
    }
}

pub(super) async fn action_form(
    state: &AppState,
    me: &CurrentUser,
    tr: Tr,
    uri: &OriginalUri,
    code: &OrgCode,
    action: &'static str,
) -> Result<Response, AppError> {
    let node = tree_node_for_change(state, me, code).await?;
    if me.scope().is_root_path(&node.path) {
        return Err(AppError::Denied(Msg::new("error.denied")));
    }
    let ends = if action == "retire" {
        retirement_ends(state, tr, &node).await?
    } else {
        String::new()
    };
    let page = ActionPage {
        tr,
        f: Frame::new(state, me, tr, &here(uri), "tree").await?,
        parent: node.parent_code.clone().unwrap_or_default(),
        org: node,
        action,
        reason: String::new(),
        errors: Vec::new(),
        ends,
    };
    html(&page)
}

pub(super) async fn move_form(
    State(state): State<AppState>,
    Auth(me): Auth,
    tr: Tr,
    uri: OriginalUri,
    CodeParam(code): CodeParam,
) -> Result<Response, AppError> {
    action_form(&state, &me, tr, &uri, &code, "move").await
}

pub(super) async fn retire_form(
    State(state): State<AppState>,
    Auth(me): Auth,
    tr: Tr,
    uri: OriginalUri,
    CodeParam(code): CodeParam,
) -> Result<Response, AppError> {
    action_form(&state, &me, tr, &uri, &code, "retire").await
}

/// A move or retirement the store refused: the form again, with the reason beside its field.
pub(super) struct Refused {
    node: Node,
    action: &'static str,
    form: ReasonForm,
}

impl Refused {
    async fn render(
        self,
        state: &AppState,
        me: &CurrentUser,
        tr: Tr,
        uri: &OriginalUri,
        m: Msg,
    ) -> Result<Response, AppError> {
        let field = match field_of(m.key) {
            "" | "code" | "level" => "parent",
            f => f,
        };
        let ends = if self.action == "retire" {
            retirement_ends(state, tr, &self.node).await?
        } else {
            String::new()
        };
        let page = ActionPage {
            tr,
            f: Frame::new(state, me, tr, &here(uri), "tree").await?,
            ends,
            org: self.node,
            action: self.action,
            parent: self.form.parent,
            reason: self.form.reason,
            errors: vec![FieldError {
                field,
                message: tr.msg(&m),
            }],
        };
        let mut res = html(&page)?;
        *res.status_mut() = axum::http::StatusCode::UNPROCESSABLE_ENTITY;
        Ok(res)
    }
}

pub(super) async fn move_org(
    State(state): State<AppState>,
    Auth(me): Auth,
    tr: Tr,
    uri: OriginalUri,
    CodeParam(code): CodeParam,
    Form(form): Form<ReasonForm>,
) -> Result<Response, AppError> {
    let node = tree_node_for_change(&state, &me, &code).await?;
    let parent = match OrgCode::parse(&form.parent) {
        Ok(p) => p,
        Err(e) => {
            return Refused {
                node,
                action: "move",
                form,
            }
            .render(&state, &me, tr, &uri, e.msg())
            .await;
        }
    };
    match state
        .db
        .move_org(
            &me.actor,
            &node.code,
            &parent,
            &form.reason,
            state.clock.now_ms(),
        )
        .await
    {
        Ok(o) => Ok(Redirect::to(&format!("/orgs/{}", o.code)).into_response()),
        // A parent outside scope is refused like a parent that does not exist.
        Err(StoreError::NotFound) => {
            Refused {
                node,
                action: "move",
                form,
            }
            .render(
                &state,
                &me,
                tr,
                &uri,
                Msg::new("org.error.parent_not_found").arg("code", parent),
            )
            .await
        }
        Err(StoreError::Invalid(m)) => {
            Refused {
                node,
                action: "move",
                form,
            }
            .render(&state, &me, tr, &uri, m)
            .await
        }
        Err(e) => Err(e.into()),
    }
}

pub(super) async fn retire(
    State(state): State<AppState>,
    Auth(me): Auth,
    tr: Tr,
    uri: OriginalUri,
    CodeParam(code): CodeParam,
    Form(form): Form<ReasonForm>,
) -> Result<Response, AppError> {
    let node = tree_node_for_change(&state, &me, &code).await?;
    match state
        .db
        .retire_org(&me.actor, &node.code, &form.reason, state.clock.now_ms())
        .await
    {
        Ok(o) => Ok(Redirect::to(&format!(
            "/orgs/{}",
            o.parent_code.clone().unwrap_or(o.code.to_string())
        ))
        .into_response()),
        Err(StoreError::Invalid(m) | StoreError::Conflict(m)) => {
            Refused {
                node,
                action: "retire",
                form,
            }
            .render(&state, &me, tr, &uri, m)
            .await
        }
        Err(e) => Err(e.into()),
    }
}
