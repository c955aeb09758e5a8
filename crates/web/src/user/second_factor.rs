//! The second factor in the browser: setting up an authenticator app from a QR code, giving its
//! code (or a recovery code) after the password, and replacing the recovery codes.
//!
//! After a right password, an account with a second factor holds a session that reaches only
//! these routes (`auth::AuthStage`); a code taken here replaces that session with a new one that
//! records how it was authenticated. A role the policy names that has no second factor yet is
//! sent to set one up before anything else.

use askama::Template;
use axum::Form;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use baiqian_domain::capability::Capability;
use baiqian_domain::second_factor::{
    self as factor, AuthMethod, RECOVERY_CODE_BYTES, RECOVERY_CODES, SECRET_BYTES, TotpSecret,
};
use serde::Deserialize;

use crate::auth::{
    Auth, AuthStage, CurrentUser, SESSION_COOKIE, cookie, is_local_path, random_token, sha256_hex,
    with_next,
};
use crate::error::{AppError, html};
use crate::i18n::Tr;
use crate::routes::Routes;
use crate::state::AppState;
use crate::throttle::ClientAddress;

use crate::auth::{SECOND_FACTOR_PATH as SIGN_IN_PATH, SECOND_FACTOR_SETUP_PATH as SETUP_PATH};

const RECOVERY_PATH: &str = "/me/second-factor/recovery-codes";

pub fn routes() -> Routes {
    Routes::new()
        .get(SIGN_IN_PATH, Capability::OwnSecondFactor, sign_in_form)
        .post(SIGN_IN_PATH, Capability::OwnSecondFactor, sign_in)
        .get(SETUP_PATH, Capability::OwnSecondFactor, setup_page)
        .post(SETUP_PATH, Capability::OwnSecondFactor, confirm)
        .post(
            RECOVERY_PATH,
            Capability::OwnSecondFactor,
            replace_recovery_codes,
        )
}

#[derive(Deserialize)]
struct NextQuery {
    next: Option<String>,
}

#[derive(Deserialize)]
struct CodeForm {
    #[serde(default)]
    code: String,
    next: Option<String>,
}

fn local_next(next: Option<String>) -> String {
    next.filter(|n| is_local_path(n) && !n.starts_with("/login") && !n.starts_with(SETUP_PATH))
        .unwrap_or_else(|| "/".into())
}

#[derive(Template)]
#[template(path = "auth/second_factor.html")]
struct SignInPage {
    tr: Tr,
    csrf: String,
    next: String,
    login: String,
    error: Option<String>,
}

#[derive(Template)]
#[template(path = "user/second_factor.html")]
struct SetupPage {
    tr: Tr,
    csrf: String,
    next: String,
    login: String,
    /// Whether the account's role must have a second factor.
    required: bool,
    /// Being set up: the QR code (SVG) and the secret to type in, grouped by four.
    setup: Option<(String, String)>,
    /// On: since when, and recovery codes left.
    on: Option<(String, i64)>,
    /// Just issued, shown once.
    fresh_codes: Vec<String>,
    error: Option<String>,
}

/// A page that shows a secret: never kept by a cache or shown from history.
fn private(page: Result<Response, AppError>, status: StatusCode) -> Result<Response, AppError> {
    let mut res = page?;
    *res.status_mut() = status;
    res.headers_mut().insert(
        header::CACHE_CONTROL,
        axum::http::HeaderValue::from_static("no-store"),
    );
    Ok(res)
}

async fn sign_in_form(
    Auth(me): Auth,
    tr: Tr,
    Query(q): Query<NextQuery>,
) -> Result<Response, AppError> {
    let next = local_next(q.next);
    if let Some(elsewhere) = elsewhere(&me, AuthStage::SecondFactorDue, &next) {
        return Ok(elsewhere);
    }
    private(
        html(&SignInPage {
            tr,
            csrf: me.csrf.clone().unwrap_or_default(),
            next,
            login: me.user.login.clone(),
            error: None,
        }),
        StatusCode::OK,
    )
}

/// Where a caller not at `stage` goes instead: a complete sign-in to `next`, the others to
/// their own step.
fn elsewhere(me: &CurrentUser, stage: AuthStage, next: &str) -> Option<Response> {
    if me.stage == stage {
        return None;
    }
    Some(
        match me.stage {
            AuthStage::Complete => Redirect::to(next),
            AuthStage::SecondFactorDue => Redirect::to(&with_next(SIGN_IN_PATH, next)),
            AuthStage::SecondFactorSetupDue => Redirect::to(&with_next(SETUP_PATH, next)),
        }
        .into_response(),
    )
}

/// Checks the code after the password. A wrong code counts as a failed login of the account
/// from this address (the same lock as for the password); a code is taken once; a recovery code
/// is used up and audited. A right one starts a new session recording how it was authenticated.
async fn sign_in(
    State(state): State<AppState>,
    Auth(me): Auth,
    tr: Tr,
    headers: HeaderMap,
    ClientAddress(address): ClientAddress,
    Form(form): Form<CodeForm>,
) -> Result<Response, AppError> {
    let next = local_next(form.next);
    if let Some(elsewhere) = elsewhere(&me, AuthStage::SecondFactorDue, &next) {
        return Ok(elsewhere);
    }
    let now = state.clock.now_ms();
    let login = me.user.login.clone();
    let page = |status: StatusCode, error: String| {
        private(
            html(&SignInPage {
                tr,
                csrf: me.csrf.clone().unwrap_or_default(),
                next: next.clone(),
                login: login.clone(),
                error: Some(error),
            }),
            status,
        )
    };
    let session = cookie(headers.get(header::COOKIE), SESSION_COOKIE).unwrap_or_default();
    if let Some(secs) = state.login_guard.address_blocked(&address, now).await? {
        let minutes = secs.div_ceil(60).to_string();
        return page(
            StatusCode::TOO_MANY_REQUESTS,
            tr.f("login.error.throttled", &[("minutes", &minutes)]),
        );
    }
    if state
        .login_guard
        .pair_blocked(&login, &address, now)
        .await?
        || me.user.is_locked(now)
    {
        state.db.end_session(&sha256_hex(&session)).await?;
        return page(StatusCode::UNAUTHORIZED, locked_message(&state, tr));
    }
    let method = match check_code(&state, &me, &form.code, now).await? {
        Some(method) => method,
        None => {
            let lock_now = state.login_guard.failed(&login, &address, now).await?;
            let until = now + state.config.policy.lockout_minutes * 60_000;
            state
                .db
                .record_failed_login(&me.user, lock_now.then_some((address.as_str(), until)), now)
                .await?;
            if lock_now {
                tracing::warn!(%login, %address, "account locked for an address after wrong second-factor codes");
                state.db.end_session(&sha256_hex(&session)).await?;
                return page(StatusCode::UNAUTHORIZED, locked_message(&state, tr));
            }
            let attempts = state.config.policy.max_failed_attempts.to_string();
            return page(
                StatusCode::UNAUTHORIZED,
                tr.f("second_factor.error.wrong", &[("attempts", &attempts)]),
            );
        }
    };
    state.login_guard.succeeded(&login, &address).await?;
    tracing::info!(%login, method = method.as_str(), "second factor given");
    raised(
        &state,
        &me,
        &session,
        method,
        Redirect::to(&next).into_response(),
    )
    .await
}

fn locked_message(state: &AppState, tr: Tr) -> String {
    let attempts = state.config.policy.max_failed_attempts.to_string();
    let minutes = state.config.policy.lockout_minutes.to_string();
    tr.f(
        "login.error.wrong",
        &[("attempts", &attempts), ("minutes", &minutes)],
    )
}

/// The method a typed code proves, if it is right: an authenticator code not used before, or
/// one of the account's unused recovery codes (used up here).
async fn check_code(
    state: &AppState,
    me: &CurrentUser,
    typed: &str,
    now: i64,
) -> Result<Option<AuthMethod>, AppError> {
    if let Some(code) = factor::parse_code(typed) {
        let record = state.db.totp_record(me.user.id).await?;
        let (Some(sealed), Some(_)) = (record.sealed_secret, record.confirmed_at) else {
            return Ok(None);
        };
        let secret = open_secret(state, &sealed)?;
        let last = u64::try_from(record.last_step).unwrap_or(0);
        // The code on the user's phone follows the wall clock, whatever the app's calendar.
        let Some(step) = secret.matching_step(&code, unix_secs(state.clock.wall_ms()), last) else {
            return Ok(None);
        };
        let step = i64::try_from(step).map_err(|e| AppError::Internal(e.to_string()))?;
        return Ok(state
            .db
            .take_totp_step(me.user.id, step)
            .await?
            .then_some(AuthMethod::PasswordTotp));
    }
    if let Some(code) = factor::normalize_recovery_code(typed) {
        let left = state
            .db
            .use_recovery_code(&me.actor, &me.user, &sha256_hex(&code), now)
            .await?;
        if let Some(left) = left {
            tracing::warn!(login = %me.user.login, left, "signed in with a recovery code");
        }
        return Ok(left.map(|_| AuthMethod::PasswordRecovery));
    }
    Ok(None)
}

fn unix_secs(now_ms: i64) -> u64 {
    u64::try_from(now_ms / 1000).unwrap_or(0)
}

fn open_secret(state: &AppState, sealed: &str) -> Result<TotpSecret, AppError> {
    let text = state
        .vault
        .open(sealed)
        .map_err(|e| AppError::Internal(format!("second factor secret: {e}")))?;
    TotpSecret::parse_base32(&text)
        .ok_or_else(|| AppError::Internal("second factor secret is not base 32".into()))
}

/// Ends the session the browser holds and answers `res` with a new one authenticated by
/// `method` (a new id whenever what the session may do grows).
async fn raised(
    state: &AppState,
    me: &CurrentUser,
    old_session: &str,
    method: AuthMethod,
    mut res: Response,
) -> Result<Response, AppError> {
    let session = random_token()?;
    let csrf = random_token()?;
    state
        .db
        .raise_session(
            me.user.id,
            &sha256_hex(old_session),
            &sha256_hex(&session),
            &csrf,
            method,
            state.clock.now_ms(),
        )
        .await?;
    let c = crate::auth::set_cookie(SESSION_COOKIE, &session, state.config.secure_cookies, None);
    res.headers_mut().append(
        header::SET_COOKIE,
        axum::http::HeaderValue::from_str(&c).map_err(|e| AppError::Internal(e.to_string()))?,
    );
    Ok(res)
}

async fn setup_page(
    State(state): State<AppState>,
    Auth(me): Auth,
    tr: Tr,
    Query(q): Query<NextQuery>,
) -> Result<Response, AppError> {
    let next = local_next(q.next);
    if me.stage == AuthStage::SecondFactorDue {
        return Ok(Redirect::to(&with_next(SIGN_IN_PATH, &next)).into_response());
    }
    let page = setup_view(&state, &me, tr, next, Vec::new(), None).await?;
    private(html(&page), StatusCode::OK)
}

/// The setup page as it stands: the second factor's state, or a secret being set up (made
/// and kept on the first look, so a reload shows the QR code already scanned).
async fn setup_view(
    state: &AppState,
    me: &CurrentUser,
    tr: Tr,
    next: String,
    fresh_codes: Vec<String>,
    error: Option<String>,
) -> Result<SetupPage, AppError> {
    let record = state.db.totp_record(me.user.id).await?;
    let (setup, on) = match (record.confirmed_at, record.sealed_secret) {
        (Some(at), _) => {
            let left = state.db.recovery_codes_left(me.user.id).await?;
            (None, Some((tr.datetime(at), left)))
        }
        (None, sealed) => {
            let secret = match sealed {
                Some(sealed) => open_secret(state, &sealed)?,
                None => {
                    let mut bytes = [0u8; SECRET_BYTES];
                    getrandom::fill(&mut bytes)
                        .map_err(|e| AppError::Internal(format!("random: {e}")))?;
                    let secret = TotpSecret::from_bytes(bytes);
                    let sealed = state
                        .vault
                        .seal(&secret.to_base32())
                        .map_err(|e| AppError::Internal(format!("seal: {e}")))?;
                    state.db.begin_second_factor(me.user.id, &sealed).await?;
                    secret
                }
            };
            let svg = qrcode::QrCode::new(secret.otpauth_uri(&me.user.login).as_bytes())
                .map(|q| {
                    q.render::<qrcode::render::svg::Color>()
                        .min_dimensions(220, 220)
                        .build()
                })
                .map_err(|e| AppError::Internal(format!("qr: {e}")))?;
            let typed = secret
                .to_base32()
                .as_bytes()
                .chunks(4)
                .map(|c| String::from_utf8_lossy(c).into_owned())
                .collect::<Vec<_>>()
                .join(" ");
            (Some((svg, typed)), None)
        }
    };
    Ok(SetupPage {
        tr,
        csrf: me.csrf.clone().unwrap_or_default(),
        next,
        login: me.user.login.clone(),
        required: state.config.second_factor.requires(me.role()),
        setup,
        on,
        fresh_codes,
        error,
    })
}

/// The setup page again, saying the code was not right (422).
async fn wrong_code(
    state: &AppState,
    me: &CurrentUser,
    tr: Tr,
    next: String,
) -> Result<Response, AppError> {
    let error = Some(tr.t("second_factor.error.setup_code").to_string());
    let page = setup_view(state, me, tr, next, Vec::new(), error).await?;
    private(html(&page), StatusCode::UNPROCESSABLE_ENTITY)
}

/// Recovery codes, as shown once and as stored (hashes of the normalized code).
fn new_recovery_codes() -> Result<(Vec<String>, Vec<String>), AppError> {
    let mut shown = Vec::with_capacity(RECOVERY_CODES);
    let mut hashes = Vec::with_capacity(RECOVERY_CODES);
    for _ in 0..RECOVERY_CODES {
        let mut bytes = [0u8; RECOVERY_CODE_BYTES];
        getrandom::fill(&mut bytes).map_err(|e| AppError::Internal(format!("random: {e}")))?;
        let code = factor::recovery_code(bytes);
        let stored = factor::normalize_recovery_code(&code)
            .ok_or_else(|| AppError::Internal("recovery code".into()))?;
        hashes.push(sha256_hex(&stored));
        shown.push(code);
    }
    Ok((shown, hashes))
}

/// A code from the app proves the secret being set up: the second factor is on, the recovery
/// codes are shown once, and the session is raised (it has just given both factors).
async fn confirm(
    State(state): State<AppState>,
    Auth(me): Auth,
    tr: Tr,
    headers: HeaderMap,
    Form(form): Form<CodeForm>,
) -> Result<Response, AppError> {
    let next = local_next(form.next);
    if me.stage == AuthStage::SecondFactorDue || me.user.second_factor {
        // Half signed in: the code first; already on: nothing to set up.
        let to = match me.stage {
            AuthStage::SecondFactorDue => with_next(SIGN_IN_PATH, &next),
            _ => next,
        };
        return Ok(Redirect::to(&to).into_response());
    }
    let now = state.clock.now_ms();
    let record = state.db.totp_record(me.user.id).await?;
    let step = match (record.sealed_secret, factor::parse_code(&form.code)) {
        (Some(sealed), Some(code)) => {
            open_secret(&state, &sealed)?.matching_step(&code, unix_secs(state.clock.wall_ms()), 0)
        }
        _ => None,
    };
    let Some(step) = step.and_then(|s| i64::try_from(s).ok()) else {
        return wrong_code(&state, &me, tr, next).await;
    };
    let (shown, hashes) = new_recovery_codes()?;
    let user = state
        .db
        .confirm_second_factor(&me.actor, &me.user, step, &hashes, now)
        .await?;
    tracing::info!(login = %user.login, "second factor set up");
    let me = CurrentUser {
        user,
        ..(*me).clone()
    };
    let page = setup_view(&state, &me, tr, next, shown, None).await?;
    let session = cookie(headers.get(header::COOKIE), SESSION_COOKIE).unwrap_or_default();
    let res = private(html(&page), StatusCode::OK)?;
    raised(&state, &me, &session, AuthMethod::PasswordTotp, res).await
}

/// New recovery codes for a complete session, proved by a current code from the app (a session
/// left open must not be enough to take the codes).
async fn replace_recovery_codes(
    State(state): State<AppState>,
    Auth(me): Auth,
    tr: Tr,
    Form(form): Form<CodeForm>,
) -> Result<Response, AppError> {
    let next = local_next(form.next);
    if me.stage != AuthStage::Complete || !me.user.second_factor {
        return Ok(elsewhere(&me, AuthStage::Complete, &next)
            .unwrap_or_else(|| Redirect::to(SETUP_PATH).into_response()));
    }
    let now = state.clock.now_ms();
    let proved = match factor::parse_code(&form.code) {
        Some(_) => {
            check_code(&state, &me, &form.code, now).await? == Some(AuthMethod::PasswordTotp)
        }
        None => false,
    };
    if !proved {
        return wrong_code(&state, &me, tr, next).await;
    }
    let (shown, hashes) = new_recovery_codes()?;
    state
        .db
        .replace_recovery_codes(&me.actor, &me.user, &hashes, now)
        .await?;
    let page = setup_view(&state, &me, tr, next, shown, None).await?;
    private(html(&page), StatusCode::OK)
}
