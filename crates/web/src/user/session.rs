//! Logging in and out.

use askama::Template;
use axum::Form;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;

use crate::auth::is_local_path;
use crate::auth::{
    LOGIN_CSRF_COOKIE, SESSION_COOKIE, cookie, random_token, set_cookie, sha256_hex,
    verify_password_in,
};
use crate::error::{AppError, html};
use crate::i18n::Tr;
use crate::routes::Routes;
use crate::state::AppState;
use crate::throttle::ClientAddress;
use baiqian_domain::capability::Capability;

pub fn routes() -> Routes {
    Routes::new()
        .get("/login", Capability::Public, login_form)
        .post("/login", Capability::Public, login)
        // Public: it ends whatever session the browser holds, one still owing its second
        // factor included (the session's CSRF token is checked all the same).
        .post("/logout", Capability::Public, logout)
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
///
/// An unknown login, a wrong password, a disabled account and a lock give the same page in the
/// same time (a password check always runs, through the bounded `LoginGuard`): nobody learns
/// which logins exist or are locked. An address that failed too often is told to wait (429),
/// whatever account it names; when every check is taken and the queue is full, 503.
async fn login(
    State(state): State<AppState>,
    tr: Tr,
    headers: HeaderMap,
    ClientAddress(address): ClientAddress,
    Form(form): Form<LoginForm>,
) -> Result<Response, AppError> {
    let now = state.clock.now_ms();
    let next = form
        .next
        .clone()
        .filter(|n| is_local_path(n))
        .unwrap_or_else(|| "/".into());
    // A login is at most 32 characters (`password::parse_login`): one character more keeps a
    // longer one from matching any account, and bounds what the throttle remembers of it.
    let login_name: String = form.login.trim().to_lowercase().chars().take(33).collect();
    let policy = &state.config.policy;
    let page = |status: StatusCode, token: &str, error: String| -> Result<Response, AppError> {
        let page = login_page(
            &state,
            tr,
            token.to_string(),
            next.clone(),
            login_name.clone(),
            Some(error),
        );
        let mut res = html(&page)?;
        *res.status_mut() = status;
        with_login_csrf(res, &state, token)
    };
    let expected = cookie(headers.get(header::COOKIE), LOGIN_CSRF_COOKIE);
    if expected.as_deref() != Some(form.csrf.as_str()) || form.csrf.is_empty() {
        return page(
            StatusCode::UNAUTHORIZED,
            &random_token()?,
            tr.t("login.error.expired").to_string(),
        );
    }
    // The form's own token is good: the answer reuses it, so refusals do not differ by a token.
    let token = form.csrf.clone();
    let wait = |status: StatusCode, secs: u64, key: &str| -> Result<Response, AppError> {
        let minutes = secs.div_ceil(60).to_string();
        let mut res = page(status, &token, tr.f(key, &[("minutes", &minutes)]))?;
        res.headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from(secs));
        Ok(res)
    };
    if let Some(secs) = state.login_guard.address_blocked(&address, now).await? {
        state.metrics.count_login_refused("throttled");
        tracing::warn!(%address, "login refused: too many failures from this address");
        return wait(StatusCode::TOO_MANY_REQUESTS, secs, "login.error.throttled");
    }
    let user = state.db.user_by_login(&login_name).await?;
    let locked = state
        .login_guard
        .pair_blocked(&login_name, &address, now)
        .await?
        || user.as_ref().is_some_and(|u| u.is_locked(now));
    // Spend the same time whoever it is, so timing does not tell which logins exist.
    let hash = match &user {
        Some(u) => u.password_hash.clone(),
        None => DUMMY_HASH.clone(),
    };
    let pw = form.password.clone();
    let Ok(matched) = state
        .login_guard
        .check(&address, move |memory| {
            verify_password_in(memory, &hash, &pw)
        })
        .await
    else {
        state.metrics.count_login_refused("busy");
        return wait(StatusCode::SERVICE_UNAVAILABLE, 1, "login.error.busy");
    };
    let user = match user {
        Some(u) if matched && !locked && !u.disabled => u,
        other => {
            let lock_now = state.login_guard.failed(&login_name, &address, now).await?;
            if let Some(u) = other {
                let until = now + policy.lockout_minutes * 60_000;
                state
                    .db
                    .record_failed_login(&u, lock_now.then_some((address.as_str(), until)), now)
                    .await?;
                if lock_now {
                    tracing::warn!(login = %u.login, %address, "account locked for an address after failed logins");
                }
            }
            let attempts = policy.max_failed_attempts.to_string();
            let minutes = policy.lockout_minutes.to_string();
            return page(
                StatusCode::UNAUTHORIZED,
                &token,
                tr.f(
                    "login.error.wrong",
                    &[("attempts", &attempts), ("minutes", &minutes)],
                ),
            );
        }
    };
    state.login_guard.succeeded(&login_name, &address).await?;
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
    // The password alone may not be the whole sign-in: the second factor comes next, or its
    // setup when the role must have one.
    use crate::auth::with_next;
    let target = if user.second_factor {
        with_next(crate::auth::SECOND_FACTOR_PATH, &next)
    } else if state.config.second_factor.requires(user.role) {
        with_next(crate::auth::SECOND_FACTOR_SETUP_PATH, &next)
    } else {
        next.clone()
    };
    let mut res = Redirect::to(&target).into_response();
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
