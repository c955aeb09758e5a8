//! The application: the router that merges each area's routes, and the few routes of the
//! site itself (home, health, metrics, language, static files).

use axum::Router;
use axum::extract::{DefaultBodyLimit, Path, Query, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::{from_fn, from_fn_with_state};
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;

use crate::auth::{LANG_COOKIE, is_local_path, set_cookie};
use crate::error::AppError;
use crate::i18n::Lang;
use crate::routes::Routes;
use crate::state::{AppState, MAX_UPLOAD_BYTES};
use baiqian_domain::capability::Capability;

/// Every route of the application with the capability it needs.
pub fn routes() -> Routes {
    Routes::new()
        .get("/healthz", Capability::Public, healthz)
        .get("/metrics", Capability::ReadMetrics, metrics)
        .get("/lang/{lang}", Capability::Public, switch_lang)
        .get("/static/{file}", Capability::Public, crate::assets::serve)
        .get(
            "/api/v1/openapi.json",
            Capability::Public,
            crate::openapi::openapi,
        )
        .merge(crate::home::routes())
        .merge(crate::org::routes())
        .merge(crate::member::routes())
        .merge(crate::checkin::routes())
        .merge(crate::rating::routes())
        .merge(crate::ledger::routes())
        .merge(crate::plan::routes())
        .merge(crate::cadre::routes())
        .merge(crate::aid::routes())
        .merge(crate::wish::routes())
        .merge(crate::station::routes())
        .merge(crate::post::routes())
        .merge(crate::user::routes())
        .merge(crate::audit::routes())
        .merge(crate::job::routes())
}

pub fn app(state: AppState) -> Router {
    routes()
        .into_router(&state)
        .fallback(|| async { AppError::NotFound })
        .layer(DefaultBodyLimit::max(MAX_UPLOAD_BYTES))
        .layer(from_fn(crate::excel::upload::pace))
        .layer(from_fn_with_state(state.clone(), crate::auth::authenticate))
        .layer(from_fn_with_state(
            state.clone(),
            crate::error::render_errors,
        ))
        .layer(from_fn_with_state(state.clone(), security_headers))
        .layer(from_fn_with_state(state.clone(), crate::metrics::track))
        .layer(compression())
        .with_state(state)
}

/// Pages and API answers go out compressed (brotli or gzip, as the browser takes them): a board
/// is mostly repeated markup. Static files come precompressed already (their own
/// `Content-Encoding` makes this layer leave them alone), and spreadsheets, images and
/// downloads are compressed formats or large streams not worth the CPU.
fn compression()
-> tower_http::compression::CompressionLayer<impl tower_http::compression::Predicate> {
    use tower_http::compression::{CompressionLayer, Predicate, predicate::SizeAbove};
    let textual = |_: StatusCode,
                   _: axum::http::Version,
                   h: &axum::http::HeaderMap,
                   _: &axum::http::Extensions| {
        h.get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|t| t.starts_with("text/html") || t.starts_with("application/json"))
    };
    CompressionLayer::new().compress_when(SizeAbove::new(1024).and(textual))
}

async fn healthz(State(state): State<AppState>) -> Response {
    match state.db.ping().await {
        Ok(()) => (StatusCode::OK, "ok").into_response(),
        Err(e) => {
            tracing::error!(error = %e, "health check: database unreachable");
            (StatusCode::SERVICE_UNAVAILABLE, "database unreachable").into_response()
        }
    }
}

/// Prometheus metrics, for the city administrators only (the route's capability: others get
/// 404, the route does not exist for them).
async fn metrics(State(state): State<AppState>) -> Result<Response, AppError> {
    let body = state.metrics.encode()?;
    Ok((
        [(
            header::CONTENT_TYPE,
            "application/openmetrics-text; version=1.0.0; charset=utf-8",
        )],
        body,
    )
        .into_response())
}

#[derive(Deserialize)]
struct Back {
    back: Option<String>,
}

/// Switches the interface language; the choice is kept in a cookie for a year.
async fn switch_lang(
    State(state): State<AppState>,
    Path(lang): Path<String>,
    Query(q): Query<Back>,
) -> Result<Response, AppError> {
    let lang = Lang::parse(&lang).ok_or(AppError::NotFound)?;
    let back = q
        .back
        .filter(|b| is_local_path(b))
        .unwrap_or_else(|| "/".into());
    let mut res = Redirect::to(&back).into_response();
    let c = set_cookie(
        LANG_COOKIE,
        lang.code(),
        state.config.secure_cookies,
        Some(365 * 24 * 3600),
    );
    res.headers_mut().insert(
        header::SET_COOKIE,
        HeaderValue::from_str(&c).map_err(|e| AppError::Internal(e.to_string()))?,
    );
    Ok(res)
}

/// The content security policy of every answer: scripts and styles only from the server's own
/// files (no inline script, handler or style attribute anywhere), no framing, no plugins.
const CONTENT_SECURITY_POLICY: &str = "default-src 'self'; script-src 'self'; style-src 'self'; \
    img-src 'self' data: blob:; font-src 'self'; connect-src 'self'; object-src 'none'; \
    base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

/// Headers every answer carries: the content security policy, no sniffing, no framing, the
/// referrer kept on this site; pages and API answers (which may hold personal data) are not
/// stored by browsers or proxies unless their handler said otherwise; HSTS when served over
/// TLS (`--secure-cookies`, or `X-Forwarded-Proto: https` from a trusted proxy), when every
/// cookie set is `Secure` too.
pub async fn security_headers(
    State(state): State<AppState>,
    req: axum::extract::Request,
    next: axum::middleware::Next,
) -> Response {
    let tls = state.config.secure_cookies
        || (state.config.trusted_proxy
            && req
                .headers()
                .get("x-forwarded-proto")
                .is_some_and(|v| v.as_bytes().eq_ignore_ascii_case(b"https")));
    let mut res = next.run(req).await;
    let h = res.headers_mut();
    // A PDF shown in the browser's own viewer keeps what its handler set.
    let pdf = h
        .get(header::CONTENT_TYPE)
        .is_some_and(|v| v.as_bytes().starts_with(b"application/pdf"));
    if !pdf {
        h.insert(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(CONTENT_SECURITY_POLICY),
        );
    }
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("same-origin"),
    );
    let dynamic = h
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|t| t.starts_with("text/html") || t.starts_with("application/json"));
    if dynamic && !h.contains_key(header::CACHE_CONTROL) {
        h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    if tls {
        h.insert(
            header::STRICT_TRANSPORT_SECURITY,
            HeaderValue::from_static("max-age=31536000; includeSubDomains"),
        );
        mark_cookies_secure(h);
    }
    res
}

/// Served over TLS, every cookie is `Secure` (the browser never sends it over plain HTTP),
/// whether the server was told so (`--secure-cookies`) or learns it from a trusted proxy.
fn mark_cookies_secure(h: &mut axum::http::HeaderMap) {
    let cookies: Vec<HeaderValue> = h.get_all(header::SET_COOKIE).iter().cloned().collect();
    if cookies.is_empty() {
        return;
    }
    h.remove(header::SET_COOKIE);
    for c in cookies {
        let secure = c
            .to_str()
            .map(|t| {
                t.to_ascii_lowercase()
                    .split(';')
                    .any(|a| a.trim() == "secure")
            })
            .unwrap_or(true);
        let value = if secure {
            c
        } else {
            let mut v = c.as_bytes().to_vec();
            v.extend_from_slice(b"; Secure");
            HeaderValue::from_bytes(&v).unwrap_or(c)
        };
        h.append(header::SET_COOKIE, value);
    }
}
