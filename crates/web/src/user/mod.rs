//! Accounts in the admin's subtree: list, create, disable, enable, unlock.

pub mod me;
pub mod second_factor;
pub mod session;

use askama::Template;
use axum::Form;
use axum::extract::{OriginalUri, Path, Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use baiqian_domain::Msg;
use baiqian_domain::capability::Capability;
use baiqian_domain::org::{self, OrgCode};
use baiqian_domain::password::parse_login;
use baiqian_domain::role::Role;
use baiqian_store::StoreError;
use baiqian_store::user::{NewUser, User};
use serde::Deserialize;

use crate::auth::{Auth, CurrentUser, hash_password};
use crate::error::{AppError, html};
use crate::form::FieldError;
use crate::frame::{Frame, here};
use crate::i18n::Tr;
use crate::routes::Routes;
use crate::state::AppState;

pub fn routes() -> Routes {
    Routes::new()
        .get("/users", Capability::ManageAccounts, list)
        .get("/users/new", Capability::ManageAccounts, new_form)
        .post("/users/new", Capability::ManageAccounts, create)
        .post("/users/{id}/disable", Capability::ManageAccounts, disable)
        .post("/users/{id}/enable", Capability::ManageAccounts, enable)
        .post("/users/{id}/unlock", Capability::ManageAccounts, unlock)
        .merge(session::routes())
        .merge(second_factor::routes())
        .get("/api/v1/me", Capability::SignedIn, me::me)
        .get("/users.xlsx", Capability::ManageAccounts, export)
}

const PAGE: i64 = 50;

fn require_admin(me: &CurrentUser) -> Result<(), AppError> {
    if me.role().may_manage_accounts() {
        Ok(())
    } else {
        Err(AppError::NotFound)
    }
}

#[derive(Template)]
#[template(path = "user/list.html")]
struct ListPage {
    tr: Tr,
    f: Frame,
    users: Vec<User>,
    now: i64,
    /// Accounts the login guard holds locked at some address (`throttle::LoginGuard`).
    throttled: std::collections::HashSet<i64>,
    page: i64,
    more: bool,
    me_id: i64,
}

impl ListPage {
    fn locked(&self, u: &User) -> bool {
        u.is_locked(self.now) || self.throttled.contains(&u.id)
    }
}

#[derive(Deserialize)]
struct PageQuery {
    page: Option<i64>,
}

async fn list(
    State(state): State<AppState>,
    Auth(me): Auth,
    tr: Tr,
    uri: OriginalUri,
    Query(q): Query<PageQuery>,
) -> Result<Response, AppError> {
    require_admin(&me)?;
    let page = q.page.unwrap_or(1).clamp(1, 100_000);
    let mut users = state
        .db
        .users_in_scope(me.scope(), PAGE + 1, (page - 1) * PAGE)
        .await?;
    let more = users.len() as i64 > PAGE;
    users.truncate(PAGE as usize);
    let now = state.clock.now_ms();
    let locked = state.login_guard.locked_logins(now).await?;
    let throttled = users
        .iter()
        .filter(|u| locked.contains(&u.login))
        .map(|u| u.id)
        .collect();
    let page = ListPage {
        tr,
        f: Frame::new(&state, &me, tr, &here(&uri), "accounts").await?,
        users,
        throttled,
        now,
        page,
        more,
        me_id: me.user.id,
    };
    html(&page)
}

#[derive(Deserialize, Default)]
struct UserForm {
    #[serde(default)]
    login: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    role: String,
    #[serde(default)]
    org_code: String,
    #[serde(default)]
    password: String,
}

#[derive(Template)]
#[template(path = "user/new.html")]
struct NewPage {
    tr: Tr,
    f: Frame,
    login: String,
    name: String,
    role: String,
    org_code: String,
    roles: Vec<(&'static str, String)>,
    errors: Vec<FieldError>,
}

impl NewPage {
    fn error_for(&self, field: &str) -> String {
        crate::form::errors_of(&self.errors, field)
    }
}

fn grantable(tr: Tr, me: &CurrentUser) -> Vec<(&'static str, String)> {
    Role::ALL
        .iter()
        .filter(|r| me.role().may_grant(**r))
        .map(|r| (r.as_str(), tr.role(r.as_str())))
        .collect()
}

async fn new_form(
    State(state): State<AppState>,
    Auth(me): Auth,
    tr: Tr,
    uri: OriginalUri,
) -> Result<Response, AppError> {
    require_admin(&me)?;
    let page = NewPage {
        tr,
        f: Frame::new(&state, &me, tr, &here(&uri), "accounts").await?,
        login: String::new(),
        name: String::new(),
        role: String::new(),
        org_code: me.user.org_code.clone(),
        roles: grantable(tr, &me),
        errors: Vec::new(),
    };
    html(&page)
}

async fn create(
    State(state): State<AppState>,
    Auth(me): Auth,
    tr: Tr,
    uri: OriginalUri,
    Form(form): Form<UserForm>,
) -> Result<Response, AppError> {
    require_admin(&me)?;
    let mut errors: Vec<(&'static str, Msg)> = Vec::new();
    let login = parse_login(&form.login)
        .map_err(|m| errors.push(("login", m)))
        .ok();
    let name = org::parse_name(&form.name)
        .map_err(|e| errors.push(("name", e.msg())))
        .ok();
    let role = Role::parse(&form.role)
        .map_err(|_| errors.push(("role", Msg::new("user.error.bad_role"))))
        .ok();
    let org_code = OrgCode::parse(&form.org_code)
        .map_err(|e| errors.push(("org_code", e.msg())))
        .ok();
    if let Err(e) = state.config.policy.check(form.login.trim(), &form.password) {
        errors.push(("password", e.msg()));
    }
    if let (Some(login), Some(name), Some(role), Some(org_code), true) =
        (login, name, role, org_code, errors.is_empty())
    {
        let pw = form.password.clone();
        let hash = tokio::task::spawn_blocking(move || hash_password(&pw))
            .await
            .map_err(|e| AppError::Internal(e.to_string()))??;
        let new = NewUser {
            login,
            name,
            role,
            org_code,
            password_hash: hash,
        };
        match state
            .db
            .create_user(&me.actor, new, state.clock.now_ms())
            .await
        {
            Ok(_) => return Ok(Redirect::to("/users").into_response()),
            Err(StoreError::Invalid(m)) => {
                let field = match m.key {
                    "user.error.login_taken" => "login",
                    "user.error.role_level" => "role",
                    _ => "org_code",
                };
                errors.push((field, m));
            }
            Err(StoreError::Denied(m)) => errors.push(("role", m)),
            Err(e) => return Err(e.into()),
        }
    }
    let page = NewPage {
        tr,
        f: Frame::new(&state, &me, tr, &here(&uri), "accounts").await?,
        login: form.login.chars().take(32).collect(),
        name: form.name.chars().take(60).collect(),
        role: form.role,
        org_code: form.org_code.chars().take(20).collect(),
        roles: grantable(tr, &me),
        errors: errors
            .into_iter()
            .map(|(field, m)| FieldError {
                field,
                message: tr.msg(&m),
            })
            .collect(),
    };
    let mut res = html(&page)?;
    *res.status_mut() = axum::http::StatusCode::UNPROCESSABLE_ENTITY;
    Ok(res)
}

async fn disable(
    State(state): State<AppState>,
    Auth(me): Auth,
    Path(id): Path<i64>,
) -> Result<Response, AppError> {
    require_admin(&me)?;
    state
        .db
        .set_user_disabled(&me.actor, id, true, state.clock.now_ms())
        .await?;
    Ok(Redirect::to("/users").into_response())
}

async fn enable(
    State(state): State<AppState>,
    Auth(me): Auth,
    Path(id): Path<i64>,
) -> Result<Response, AppError> {
    require_admin(&me)?;
    state
        .db
        .set_user_disabled(&me.actor, id, false, state.clock.now_ms())
        .await?;
    Ok(Redirect::to("/users").into_response())
}

async fn unlock(
    State(state): State<AppState>,
    Auth(me): Auth,
    Path(id): Path<i64>,
) -> Result<Response, AppError> {
    require_admin(&me)?;
    let user = state
        .db
        .unlock_user(&me.actor, id, state.clock.now_ms())
        .await?;
    state.login_guard.unlock(&user.login).await?;
    Ok(Redirect::to("/users").into_response())
}

/// The accounts below the admin's node, as `.xlsx`.
async fn export(
    State(state): State<AppState>,
    Auth(me): Auth,
    tr: Tr,
) -> Result<Response, AppError> {
    use crate::excel::Cell;
    let users = state.db.users_in_scope(me.scope(), 100_000, 0).await?;
    let text = |s: &str| Cell::Text(s.to_string());
    let rows: Vec<Vec<Cell>> = users
        .iter()
        .map(|u| {
            vec![
                text(&u.login),
                text(&u.name),
                text(&tr.role(u.role.as_str())),
                text(&u.org_name),
                text(&u.org_code),
                text(if u.disabled { "停用" } else { "启用" }),
            ]
        })
        .collect();
    let columns = [
        ("login", "账号"),
        ("name", "姓名"),
        ("role", "角色"),
        ("org_name", "所在组织"),
        ("org_code", "组织代码"),
        ("status", "状态"),
    ];
    let title = crate::excel::export_title(
        tr,
        "export.users",
        &me.user.org_name,
        &me,
        state.clock.now_ms(),
    );
    let bytes = crate::excel::write_list("账号", &title, &columns, &rows)?;
    crate::excel::xlsx_response(bytes, "users.xlsx")
}
