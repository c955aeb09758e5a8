//! Logging in and out.

use askama::Template;
use axum::Form;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::{IntoResponse, Redirect, Response};
use baiqian_store::user::FailedLogin;
use serde::Deserialize;

use crate::auth::is_local_path;
use crate::auth::{
    LOGIN_CSRF_COOKIE, SESSION_COOKIE, cookie, random_token, set_cookie, sha256_hex,
    verify_password,
};
use crate::error::{AppError, html};
use crate::i18n::Tr;
use crate::routes::Routes;
use crate::state::AppState;
use baiqian_domain::capability::Capability;

pub fn routes() -> Routes {
    Routes::new()
        .get("/login", Capability::Public, login_form)
        .post("/login", Capability::Public, login)
        .post("/logout", Capability::SignedIn, logout)
}

/// A demo login as the login page shows it.
pub struct DemoLogin {
    pub login: String,
    pub role: String,
    pub place: String,
}

#[derive(Template)]
#[template(path = "auth/login.html")]
struct LoginPage {
    tr: Tr,
    csrf: String,
    next: String,
    login: String,
    error: Option<String>,
    demo: Vec<DemoLogin>,
    demo_password: String,
}

#[derive(Deserialize)]
struct NextQuery {
    next: Option<String>,
}

fn login_page(
    state: &AppState,
    tr: Tr,
    csrf: String,
    next: String,
    login: String,
    error: Option<String>,
) -> LoginPage {
    let (demo, demo_password) = match &state.config.demo {
        Some(d) => (
            d.accounts
                .iter()
                .map(|a| DemoLogin {
                    login: a.login.clone(),
                    role: tr.role(a.role.as_str()),
                    place: a.place.clone(),
                })
                .collect(),
            d.password.clone(),
        ),
        None => (Vec::new(), String::new()),
    };
    LoginPage {
        tr,
        csrf,
        next,
        login,
        error,
        demo,
        demo_password,
    }
}

fn with_login_csrf(mut res: Response, state: &AppState, token: &str) -> Result<Response, AppError> {
    let c = set_cookie(LOGIN_CSRF_COOKIE, token, state.config.secure_cookies, None);
    res.headers_mut().append(
        header::SET_COOKIE,
        HeaderValue::from_str(&c).map_err(|e| AppError::Internal(e.to_string()))?,
    );
    Ok(res)
}

async fn login_form(
    State(state): State<AppState>,
    tr: Tr,
    Query(q): Query<NextQuery>,
) -> Result<Response, AppError> {
    let token = random_token()?;
    let next = q
        .next
        .filter(|n| is_local_path(n))
        .unwrap_or_else(|| "/".into());
    let page = login_page(&state, tr, token.clone(), next, String::new(), None);
    with_login_csrf(html(&page)?, &state, &token)
}

#[derive(Deserialize)]
struct LoginForm {
    login: String,
    password: String,
    csrf: String,
    next: Option<String>,
}

/// Checks the password, counting failures towards the lockout; on success starts a new session
/// (a new id, whatever cookie came in) and ends the one the browser had.
async fn login(
    State(state): State<AppState>,
    tr: Tr,
    headers: HeaderMap,
    Form(form): Form<LoginForm>,
) -> Result<Response, AppError> {
    let now = state.clock.now_ms();
    let next = form
        .next
        .clone()
        .filter(|n| is_local_path(n))
        .unwrap_or_else(|| "/".into());
    let login_name = form.login.trim().to_lowercase();
    let fail = |key: &str, args: &[(&str, &str)]| -> Result<Response, AppError> {
        let token = random_token()?;
        let page = login_page(
            &state,
            tr,
            token.clone(),
            next.clone(),
            login_name.chars().take(32).collect(),
            Some(tr.f(key, args)),
        );
        let mut res = html(&page)?;
        *res.status_mut() = axum::http::StatusCode::UNAUTHORIZED;
        with_login_csrf(res, &state, &token)
    };
    let expected = cookie(headers.get(header::COOKIE), LOGIN_CSRF_COOKIE);
    if expected.as_deref() != Some(form.csrf.as_str()) || form.csrf.is_empty() {
        return fail("login.error.expired", &[]);
    }
    let user = state.db.user_by_login(&login_name).await?;
    let Some(user) = user else {
        // Spend the same time as a real check, so timing does not tell which logins exist.
        let pw = form.password.clone();
        let _ = tokio::task::spawn_blocking(move || verify_password(&DUMMY_HASH, &pw)).await;
        return fail("login.error.wrong", &[]);
    };
    if user.is_locked(now) {
        let until = tr.datetime(user.locked_until.unwrap_or(now));
        return fail("login.error.locked", &[("until", &until)]);
    }
    let hash = user.password_hash.clone();
    let pw = form.password.clone();
    let ok = tokio::task::spawn_blocking(move || verify_password(&hash, &pw))
        .await
        .unwrap_or(false);
    if !ok || user.disabled {
        let policy = &state.config.policy;
        let outcome = state
            .db
            .record_failed_login(
                &user,
                policy.max_failed_attempts,
                policy.lockout_minutes * 60_000,
                now,
            )
            .await?;
        if outcome == FailedLogin::Locked {
            tracing::warn!(login = %user.login, "account locked after failed logins");
            let until = tr.datetime(now + policy.lockout_minutes * 60_000);
            return fail("login.error.locked", &[("until", &until)]);
        }
        return fail("login.error.wrong", &[]);
    }
    if let Some(old) = cookie(headers.get(header::COOKIE), SESSION_COOKIE) {
        state.db.end_session(&sha256_hex(&old)).await?;
    }
    let session = random_token()?;
    let csrf = random_token()?;
    state
        .db
        .start_session(user.id, &sha256_hex(&session), &csrf, now)
        .await?;
    tracing::info!(login = %user.login, "logged in");
    let mut res = Redirect::to(&next).into_response();
    let secure = state.config.secure_cookies;
    for c in [
        set_cookie(SESSION_COOKIE, &session, secure, None),
        set_cookie(LOGIN_CSRF_COOKIE, "", secure, Some(0)),
    ] {
        res.headers_mut().append(
            header::SET_COOKIE,
            HeaderValue::from_str(&c).map_err(|e| AppError::Internal(e.to_string()))?,
        );
    }
    Ok(res)
}

/// An argon2id hash of a random string, for timing-equal refusals of unknown logins.
static DUMMY_HASH: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| {
    random_token()
        .and_then(|t| crate::auth::hash_password(&t))
        .unwrap_or_default()
});

async fn logout(State(state): State<AppState>, headers: HeaderMap) -> Result<Response, AppError> {
    if let Some(s) = cookie(headers.get(header::COOKIE), SESSION_COOKIE) {
        state.db.end_session(&sha256_hex(&s)).await?;
    }
    let mut res = Redirect::to("/login").into_response();
    let c = set_cookie(SESSION_COOKIE, "", state.config.secure_cookies, Some(0));
    res.headers_mut().append(
        header::SET_COOKIE,
        HeaderValue::from_str(&c).map_err(|e| AppError::Internal(e.to_string()))?,
    );
    Ok(res)
}
