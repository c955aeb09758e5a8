//! Sessions, bearer tokens, CSRF, passwords, and the extractors handlers use to learn who asks.
//!
//! A browser session is a random id in an HttpOnly, SameSite=Lax cookie; the database keeps only
//! its SHA-256. A new id is made at every login, and sessions end after the configured idle time
//! or when the account is disabled. Every unsafe request on a session must carry the session's
//! CSRF token (a form field, urlencoded or multipart, or the `X-CSRF-Token` header; never the URL). API clients send
//! `Authorization: Bearer <token>` and need no CSRF token, as no cookie speaks for them.

use std::sync::Arc;

use argon2::Argon2;
use argon2::password_hash::{PasswordHash, PasswordHasher, SaltString};
use axum::body::Body;
use axum::extract::{FromRequestParts, Request, State};
use axum::http::request::Parts;
use axum::http::{Method, header};
use axum::middleware::Next;
use axum::response::Response;
use baiqian_domain::role::Role;
use baiqian_domain::scope::Scope;
use baiqian_domain::second_factor::{AuthMethod, SecondFactorPolicy};
use baiqian_store::Actor;
use baiqian_store::user::User;
use sha2::{Digest, Sha256};

use crate::error::AppError;
use crate::i18n::{Lang, Tr};
use crate::state::AppState;

pub const SESSION_COOKIE: &str = "bq_session";
pub const LOGIN_CSRF_COOKIE: &str = "bq_login_csrf";
pub const LANG_COOKIE: &str = "bq_lang";

/// Where a session owing its second factor is sent (`AuthStage::SecondFactorDue`).
pub const SECOND_FACTOR_PATH: &str = "/login/second-factor";
/// Where an account sets up its second factor (`AuthStage::SecondFactorSetupDue`).
pub const SECOND_FACTOR_SETUP_PATH: &str = "/me/second-factor";

/// Card readers' tokens carry this prefix, so the middleware knows where to look them up.
pub const DEVICE_TOKEN_PREFIX: &str = "dev_";

/// The caller of a request, with the scope every query of theirs is bounded by.
#[derive(Debug, Clone)]
pub struct CurrentUser {
    pub user: User,
    pub actor: Actor,
    /// The session's CSRF token; `None` for bearer-token requests.
    pub csrf: Option<String>,
    /// How far the caller has signed in.
    pub stage: AuthStage,
}

/// How far a caller has signed in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuthStage {
    /// Signed in as far as the account needs: every route the role holds is open.
    Complete,
    /// The password was right; the account's second factor is still to come. Only the second
    /// factor's own routes (and signing out) are open.
    SecondFactorDue,
    /// The role must have a second factor and the account has none yet: only setting it up
    /// (and signing out) is open.
    SecondFactorSetupDue,
}

impl AuthStage {
    /// The stage of a session of `user` authenticated by `method` under `policy`. A bearer
    /// token is complete: it is issued by the operator and is itself a long random secret.
    pub fn of_session(user: &User, method: AuthMethod, policy: &SecondFactorPolicy) -> Self {
        if method.has_second_factor() {
            AuthStage::Complete
        } else if user.second_factor {
            AuthStage::SecondFactorDue
        } else if policy.requires(user.role) {
            AuthStage::SecondFactorSetupDue
        } else {
            AuthStage::Complete
        }
    }
}

impl CurrentUser {
    pub fn scope(&self) -> &Scope {
        &self.actor.scope
    }

    pub fn role(&self) -> Role {
        self.user.role
    }
}

/// Extracts the logged-in caller, or answers 401 (API) / redirects to the login page.
pub struct Auth(pub Arc<CurrentUser>);

impl<S: Send + Sync> FromRequestParts<S> for Auth {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        parts
            .extensions
            .get::<Arc<CurrentUser>>()
            .cloned()
            .map(Auth)
            .ok_or(AppError::Unauthenticated)
    }
}

/// The reader's language: Chinese unless they chose English (a remembered cookie). The
/// browser's Accept-Language is not consulted: the platform's working language is Chinese.
impl<S: Send + Sync> FromRequestParts<S> for Tr {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        let lang =
            cookie(parts.headers.get(header::COOKIE), LANG_COOKIE).and_then(|v| Lang::parse(&v));
        Ok(Tr::new(lang.unwrap_or(Lang::Zh)))
    }
}

/// The value of cookie `name` in a `Cookie` header.
pub fn cookie(header: Option<&axum::http::HeaderValue>, name: &str) -> Option<String> {
    let raw = header?.to_str().ok()?;
    cookie::Cookie::split_parse(raw)
        .filter_map(Result::ok)
        .find(|c| c.name() == name)
        .map(|c| c.value().to_string())
}

/// A `Set-Cookie` value: HttpOnly, SameSite=Lax, path `/`, Secure when configured.
pub fn set_cookie(name: &str, value: &str, secure: bool, max_age_secs: Option<i64>) -> String {
    let mut c = cookie::Cookie::build((name.to_string(), value.to_string()))
        .http_only(true)
        .same_site(cookie::SameSite::Lax)
        .path("/")
        .secure(secure);
    if let Some(s) = max_age_secs {
        c = c.max_age(cookie::time::Duration::seconds(s));
    }
    c.build().to_string()
}

/// 32 random bytes, hex: session ids, CSRF tokens, API tokens.
pub fn random_token() -> Result<String, AppError> {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes).map_err(|e| AppError::Internal(format!("random: {e}")))?;
    Ok(hex::encode(bytes))
}

pub fn sha256_hex(s: &str) -> String {
    hex::encode(Sha256::digest(s.as_bytes()))
}

/// An argon2id PHC string with a fresh salt.
pub fn hash_password(password: &str) -> Result<String, AppError> {
    let mut salt = [0u8; 16];
    getrandom::fill(&mut salt).map_err(|e| AppError::Internal(format!("random: {e}")))?;
    let salt =
        SaltString::encode_b64(&salt).map_err(|e| AppError::Internal(format!("salt: {e}")))?;
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| AppError::Internal(format!("argon2: {e}")))
}

/// Whether `password` matches the stored PHC string, with argon2's working memory given, grown to
/// what the hash needs and kept by the caller for the next check: a login then allocates nothing large (argon2id takes
/// 19 MiB a check, and a freed buffer stays in the allocator's arena of whichever thread ran
/// it). A malformed hash never matches.
pub fn verify_password_in(memory: &mut Vec<argon2::Block>, hash: &str, password: &str) -> bool {
    use argon2::{Algorithm, Params, Version};
    let Ok(parsed) = PasswordHash::new(hash) else {
        return false;
    };
    let Ok(algorithm) = Algorithm::try_from(parsed.algorithm) else {
        return false;
    };
    let Ok(version) = parsed.version.map(Version::try_from).transpose() else {
        return false;
    };
    let Ok(params) = Params::try_from(&parsed) else {
        return false;
    };
    let (Some(salt), Some(expected)) = (parsed.salt, parsed.hash) else {
        return false;
    };
    let mut salt_bytes = [0u8; 64];
    let Ok(salt) = salt.decode_b64(&mut salt_bytes) else {
        return false;
    };
    let blocks = params.block_count();
    if memory.len() < blocks {
        memory.resize(blocks, argon2::Block::default());
    }
    let mut out = vec![0u8; expected.len()];
    let argon = Argon2::new(algorithm, version.unwrap_or_default(), params);
    argon
        .hash_password_into_with_memory(password.as_bytes(), salt, &mut out, &mut memory[..blocks])
        .is_ok()
        && out.len() == expected.as_bytes().len()
        && out
            .iter()
            .zip(expected.as_bytes())
            .fold(0u8, |acc, (a, b)| acc | (a ^ b))
            == 0
}

/// Resolves the caller from a bearer token or the session cookie, and checks CSRF on unsafe
/// requests made with the session.
pub async fn authenticate(
    State(state): State<AppState>,
    req: Request,
    next: Next,
) -> Result<Response, AppError> {
    let now = state.clock.now_ms();
    let bearer = req
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(|t| t.trim().to_string());
    if let Some(token) = bearer
        .as_deref()
        .and_then(|t| t.strip_prefix(DEVICE_TOKEN_PREFIX))
    {
        // From the cache: a burst of swipes does not read the devices table per swipe. The
        // check-in writer re-checks in its transaction that the device is not revoked.
        let device = state
            .devices
            .get(&state.db, &sha256_hex(token))
            .await?
            .ok_or(AppError::Unauthenticated)?;
        let mut req = req;
        req.extensions_mut().insert(device);
        return Ok(next.run(req).await);
    }
    if let Some(token) = bearer {
        let user = state
            .db
            .token_user(&sha256_hex(&token))
            .await?
            .ok_or(AppError::Unauthenticated)?;
        let actor = user.actor()?;
        let mut req = req;
        req.extensions_mut().insert(Arc::new(CurrentUser {
            user,
            actor,
            csrf: None,
            stage: AuthStage::Complete,
        }));
        return Ok(next.run(req).await);
    }
    let session = cookie(req.headers().get(header::COOKIE), SESSION_COOKIE);
    let Some(session) = session else {
        return Ok(next.run(req).await);
    };
    let idle_ms = state.config.policy.idle_timeout_minutes * 60_000;
    let Some(baiqian_store::user::Session {
        user,
        csrf,
        auth_method,
    }) = state
        .db
        .session_user(&sha256_hex(&session), idle_ms, now)
        .await?
    else {
        return Ok(next.run(req).await);
    };
    let stage = AuthStage::of_session(&user, auth_method, &state.config.second_factor);
    let actor = user.actor()?;
    let mut req = req;
    // The login form carries its own pre-session token (a browser may still hold an old session);
    // the public forms act for nobody and read no session (`station::public`).
    let path = req.uri().path();
    let sessionless =
        path == "/login" || path.starts_with("/public/") || path.starts_with("/api/v1/public/");
    if !matches!(*req.method(), Method::GET | Method::HEAD | Method::OPTIONS) && !sessionless {
        req = check_csrf(req, &csrf).await?;
    }
    let me = Arc::new(CurrentUser {
        user,
        actor,
        csrf: Some(csrf),
        stage,
    });
    req.extensions_mut().insert(me.clone());
    let mut res = next.run(req).await;
    if (res.status().is_client_error() || res.status().is_server_error())
        && me.stage == AuthStage::Complete
    {
        // The error page keeps the reader's frame and menu (`error::render_errors`).
        res.extensions_mut().insert(ErrorReader(me));
    }
    Ok(res)
}

/// The signed-in reader of a page that failed, for its error page's frame.
#[derive(Clone)]
pub struct ErrorReader(pub Arc<CurrentUser>);

/// How far into a multipart body its `csrf` field is looked for.
const CSRF_SCAN_BYTES: usize = 64 * 1024;

/// Largest urlencoded form body read for its CSRF field.
const FORM_LIMIT: usize = 256 * 1024;

/// The token travels in the `X-CSRF-Token` header (htmx, API-like clients) or in the form's
/// `csrf` field — urlencoded or multipart — never in the URL, where it would reach logs,
/// history and Referer headers.
async fn check_csrf(req: Request, expected: &str) -> Result<Request, AppError> {
    let header_token = req
        .headers()
        .get("x-csrf-token")
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    if let Some(t) = header_token {
        return if constant_eq(&t, expected) {
            Ok(req)
        } else {
            Err(AppError::Csrf)
        };
    }
    let content_type = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_string();
    let (parts, body) = req.into_parts();
    let token = if content_type.starts_with("application/x-www-form-urlencoded") {
        let bytes = axum::body::to_bytes(body, FORM_LIMIT)
            .await
            .map_err(|_| AppError::Invalid(baiqian_domain::Msg::new("error.too_large")))?;
        let token = form_urlencoded::parse(&bytes)
            .find(|(k, _)| k == "csrf")
            .map(|(_, v)| v.to_string());
        (token, Body::from(bytes))
    } else if content_type.starts_with("multipart/form-data") {
        // Only the body's first bytes are read here: the pages send `csrf` first. The whole body
        // then streams on to the handler, which writes a file to disk as it comes and applies
        // its route's limit; nothing here holds an upload.
        use futures_util::StreamExt;
        let mut rest = body.into_data_stream();
        let mut head = Vec::new();
        while head.len() < CSRF_SCAN_BYTES {
            match rest.next().await {
                Some(Ok(chunk)) => head.extend_from_slice(&chunk),
                Some(Err(_)) => {
                    return Err(AppError::Invalid(baiqian_domain::Msg::new(
                        "import.error.upload",
                    )));
                }
                None => break,
            }
        }
        let head = axum::body::Bytes::from(head);
        let token = multipart_field(
            &content_type,
            head.slice(..head.len().min(CSRF_SCAN_BYTES)),
            "csrf",
        )
        .await;
        let whole =
            futures_util::stream::once(async move { Ok::<_, axum::Error>(head) }).chain(rest);
        (token, Body::from_stream(whole))
    } else {
        return Err(AppError::Csrf);
    };
    match token {
        (Some(t), body) if constant_eq(&t, expected) => Ok(Request::from_parts(parts, body)),
        _ => Err(AppError::Csrf),
    }
}

/// The text of field `name` in the first bytes of a multipart body; the handler reads the same
/// bytes again. The pages put `csrf` first, so the scan stops before any file.
async fn multipart_field(
    content_type: &str,
    bytes: axum::body::Bytes,
    name: &str,
) -> Option<String> {
    use axum::extract::FromRequest;
    let req = Request::builder()
        .method(Method::POST)
        .header(header::CONTENT_TYPE, content_type)
        .body(Body::from(bytes))
        .ok()?;
    let mut form = axum::extract::Multipart::from_request(req, &())
        .await
        .ok()?;
    while let Ok(Some(field)) = form.next_field().await {
        if field.name() == Some(name) {
            return field.text().await.ok();
        }
    }
    None
}

fn constant_eq(a: &str, b: &str) -> bool {
    a.len() == b.len()
        && a.bytes()
            .zip(b.bytes())
            .fold(0u8, |acc, (x, y)| acc | (x ^ y))
            == 0
}

/// `path?next=…`: a sign-in step, and the page to return to after it.
pub fn with_next(path: &str, next: &str) -> String {
    let q: String = form_urlencoded::Serializer::new(String::new())
        .append_pair("next", next)
        .finish();
    format!("{path}?{q}")
}

/// A redirect target on this site only: `/x`, never `//host` or `/\host`.
pub fn is_local_path(p: &str) -> bool {
    p.starts_with('/')
        && !p.starts_with("//")
        && !p.starts_with("/\\")
        && !p.chars().any(char::is_control)
}

#[cfg(test)]
mod tests {
    use super::*;
    use argon2::password_hash::PasswordVerifier;

    /// The library's own check, to compare with.
    fn verify_password(hash: &str, password: &str) -> bool {
        PasswordHash::new(hash).is_ok_and(|h| {
            Argon2::default()
                .verify_password(password.as_bytes(), &h)
                .is_ok()
        })
    }

    #[test]
    fn a_check_with_given_memory_agrees_with_the_library_and_reuses_it() {
        let hash = hash_password("Right-pass1").unwrap_or_default();
        let mut memory = Vec::new();
        assert!(verify_password_in(&mut memory, &hash, "Right-pass1"));
        assert!(verify_password(&hash, "Right-pass1"));
        let grown = memory.len();
        assert_eq!(
            grown,
            19 * 1024,
            "argon2id's default 19 MiB in 1 KiB blocks"
        );
        assert!(!verify_password_in(&mut memory, &hash, "Wrong-pass1"));
        assert!(!verify_password(&hash, "Wrong-pass1"));
        assert_eq!(memory.len(), grown, "kept, not grown again");
        assert!(!verify_password_in(
            &mut memory,
            "not a hash",
            "Right-pass1"
        ));
    }
}
