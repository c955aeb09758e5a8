//! One error type for pages and the JSON API. A handler returns `AppError`; the response it
//! becomes carries the error as an extension, and `render_errors` (which knows the reader's
//! language and whether the request was for the API) turns it into an HTML page or
//! `{"error":{"code":…,"message":…}}`.

use askama::Template;
use axum::body::Body;
use axum::extract::Request;
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Redirect, Response};
use baiqian_domain::Msg;
use baiqian_store::StoreError;

use axum::extract::State;

use baiqian_domain::capability::Capability;

use crate::auth::ErrorReader;
use crate::frame::Frame;
use crate::i18n::Tr;
use crate::state::AppState;

#[derive(serde::Serialize, utoipa::ToSchema)]
pub struct ErrorDetail {
    /// `not_found`, `unauthenticated`, `forbidden`, `invalid`, `conflict`, `csrf`, `internal`,
    /// `bad_request`; a refused check-in carries its rule's own code (`outside_window`,
    /// `unknown_card`, `card_inactive`, `unknown_event`, `unknown_member`, `future`,
    /// `device_revoked`, `device_elsewhere`, `qr`, `qr_stale`).
    pub code: String,
    /// In the reader's language.
    pub message: String,
}

#[derive(serde::Serialize, utoipa::ToSchema)]
pub struct ErrorBody {
    pub error: ErrorDetail,
}

#[derive(Debug, thiserror::Error)]
pub enum AppError {
    /// Absent or outside the caller's scope: always the same answer.
    #[error("not found")]
    NotFound,
    #[error("login required")]
    Unauthenticated,
    /// Signed in with the password; the account's second factor is still to come.
    #[error("second factor required")]
    SecondFactorDue,
    /// The role must have a second factor and the account has none yet.
    #[error("second factor to be set up")]
    SecondFactorSetupDue,
    /// Inside scope, but the caller's role may not do it.
    #[error("denied: {}", .0.key)]
    Denied(Msg),
    #[error("invalid: {}", .0.key)]
    Invalid(Msg),
    /// A check-in its rules refused (422): the JSON code is the rule's own (`outside_window`,
    /// `card_inactive`, `device_revoked`, …), so a reader can act on it without parsing text.
    #[error("refused: {}", .0.key)]
    Refused(Msg),
    /// Out of turn, or the record's state does not allow it.
    #[error("conflict: {}", .0.key)]
    Conflict(Msg),
    #[error("CSRF token missing or wrong")]
    Csrf,
    /// Too many requests from one address: try again after these seconds (429).
    #[error("too many requests, retry after {0} s")]
    TooMany(u64),
    #[error("internal: {0}")]
    Internal(String),
}

impl From<StoreError> for AppError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::NotFound => AppError::NotFound,
            StoreError::Denied(m) => AppError::Denied(m),
            StoreError::Invalid(m) => AppError::Invalid(m),
            StoreError::Conflict(m) => AppError::Conflict(m),
            other => AppError::Internal(other.to_string()),
        }
    }
}

/// The error a response stands for, read by `render_errors`.
#[derive(Debug, Clone)]
pub struct ErrorInfo {
    pub code: &'static str,
    pub msg: Msg,
}

impl AppError {
    pub fn status(&self) -> StatusCode {
        match self {
            AppError::NotFound => StatusCode::NOT_FOUND,
            AppError::Unauthenticated | AppError::SecondFactorDue => StatusCode::UNAUTHORIZED,
            AppError::SecondFactorSetupDue => StatusCode::FORBIDDEN,
            AppError::Denied(_) | AppError::Csrf => StatusCode::FORBIDDEN,
            AppError::Invalid(_) | AppError::Refused(_) => StatusCode::UNPROCESSABLE_ENTITY,
            AppError::Conflict(_) => StatusCode::CONFLICT,
            AppError::TooMany(_) => StatusCode::TOO_MANY_REQUESTS,
            AppError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn info(&self) -> ErrorInfo {
        let (code, msg) = match self {
            AppError::NotFound => ("not_found", Msg::new("error.not_found")),
            AppError::Unauthenticated => ("unauthenticated", Msg::new("error.unauthenticated")),
            AppError::SecondFactorDue => ("second_factor_due", Msg::new("error.second_factor_due")),
            AppError::SecondFactorSetupDue => (
                "second_factor_setup_due",
                Msg::new("error.second_factor_setup_due"),
            ),
            AppError::Denied(m) => ("forbidden", m.clone()),
            AppError::Invalid(m) => ("invalid", m.clone()),
            AppError::Refused(m) => (m.key.rsplit('.').next().unwrap_or("invalid"), m.clone()),
            AppError::Conflict(m) => ("conflict", m.clone()),
            AppError::Csrf => ("csrf", Msg::new("error.csrf")),
            AppError::TooMany(_) => ("too_many", Msg::new("error.too_many")),
            AppError::Internal(_) => ("internal", Msg::new("error.internal")),
        };
        ErrorInfo { code, msg }
    }
}

impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        if let AppError::Internal(detail) = &self {
            tracing::error!(%detail, "request failed");
        }
        let mut res = self.status().into_response();
        if let AppError::TooMany(secs) = &self {
            res.headers_mut()
                .insert(axum::http::header::RETRY_AFTER, (*secs).into());
        }
        res.extensions_mut().insert(self.info());
        res
    }
}

#[derive(Template)]
#[template(path = "error.html")]
struct ErrorPage<'a> {
    tr: Tr,
    status: u16,
    message: &'a str,
    hint: &'a str,
}

/// The error page of a signed-in reader: their frame and menu kept, the message and what to do.
#[derive(Template)]
#[template(path = "error_framed.html")]
struct FramedErrorPage<'a> {
    tr: Tr,
    f: Frame,
    status: u16,
    message: &'a str,
    hint: &'a str,
}

/// What the reader can do about an error of this status.
fn hint_key(status: StatusCode) -> &'static str {
    match status.as_u16() {
        404 => "error.hint.not_found",
        403 => "error.hint.forbidden",
        409 => "error.hint.conflict",
        400 | 422 => "error.hint.invalid",
        413 => "error.hint.too_large",
        429 => "error.hint.too_many",
        500..=599 => "error.hint.internal",
        _ => "error.hint.other",
    }
}

/// A failed request as its error page needs it.
struct Failed<'a> {
    status: StatusCode,
    path: &'a str,
    query: Option<&'a str>,
    info: ErrorInfo,
}

/// Renders error responses in the reader's language, as JSON under `/api/` and HTML elsewhere.
/// Rejections from axum's own extractors (bad JSON, bad form, bad path) become the same shape.
pub async fn render_errors(
    State(state): State<AppState>,
    tr: Tr,
    req: Request,
    next: Next,
) -> Response {
    let path = req.uri().path().to_string();
    let query = req.uri().query().map(str::to_string);
    let is_api = path.starts_with("/api/");
    let res = next.run(req).await;
    let status = res.status();
    if !(status.is_client_error() || status.is_server_error()) {
        return res;
    }
    let reader = res.extensions().get::<ErrorReader>().cloned();
    let ours = res
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("text/html") || v.starts_with("application/json"));
    let info = match res.extensions().get::<ErrorInfo>() {
        Some(i) => i.clone(),
        // A page a handler rendered with an error status (a form with its errors): as it is.
        None if ours => return res,
        None => {
            // A rejection from an extractor: its plain-text body names the problem in English.
            let (parts, body) = res.into_parts();
            let detail = axum::body::to_bytes(body, 4096)
                .await
                .map(|b| String::from_utf8_lossy(&b).to_string())
                .unwrap_or_default();
            let code = if parts.status == StatusCode::NOT_FOUND {
                "not_found"
            } else {
                "bad_request"
            };
            let key = match parts.status {
                StatusCode::NOT_FOUND => "error.not_found",
                StatusCode::PAYLOAD_TOO_LARGE => "error.too_large",
                StatusCode::METHOD_NOT_ALLOWED => "error.method",
                _ => "error.bad_request",
            };
            tracing::debug!(status = %parts.status, %detail, "extractor rejection");
            let status = if parts.status == StatusCode::UNPROCESSABLE_ENTITY {
                StatusCode::BAD_REQUEST
            } else {
                parts.status
            };
            let failed = Failed {
                status,
                path: &path,
                query: query.as_deref(),
                info: ErrorInfo {
                    code,
                    msg: Msg::new(key),
                },
            };
            return finish(&state, reader, tr, is_api, failed).await;
        }
    };
    // A refusal that says when to come back (429) keeps saying it on the rendered page.
    let retry_after = res.headers().get(header::RETRY_AFTER).cloned();
    let failed = Failed {
        status,
        path: &path,
        query: query.as_deref(),
        info,
    };
    let mut res = finish(&state, reader, tr, is_api, failed).await;
    if let Some(v) = retry_after {
        res.headers_mut().insert(header::RETRY_AFTER, v);
    }
    res
}

async fn finish(
    state: &AppState,
    reader: Option<ErrorReader>,
    tr: Tr,
    is_api: bool,
    failed: Failed<'_>,
) -> Response {
    let Failed {
        status,
        path,
        query,
        info,
    } = failed;
    let login_step = match info.code {
        "unauthenticated" => Some("/login"),
        "second_factor_due" => Some(crate::auth::SECOND_FACTOR_PATH),
        "second_factor_setup_due" => Some(crate::auth::SECOND_FACTOR_SETUP_PATH),
        _ => None,
    };
    if let Some(step) = login_step.filter(|_| !is_api) {
        let next = match query {
            Some(q) => format!("{path}?{q}"),
            None => path.to_string(),
        };
        return Redirect::to(&crate::auth::with_next(step, &next)).into_response();
    }
    let message = tr.msg(&info.msg);
    if is_api {
        let body = serde_json::json!({ "error": { "code": info.code, "message": message } });
        let mut res = (status, axum::Json(body)).into_response();
        if status == StatusCode::UNAUTHORIZED {
            res.headers_mut()
                .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        }
        return res;
    }
    let hint = tr.t(hint_key(status));
    let here = match query {
        Some(q) => format!("{path}?{q}"),
        None => path.to_string(),
    };
    let framed = match reader {
        Some(ErrorReader(me)) => match Frame::new(state, &me, tr, &here, "").await {
            Ok(f) => FramedErrorPage {
                tr,
                f,
                status: status.as_u16(),
                message: &message,
                hint,
            }
            .render()
            .ok(),
            Err(e) => {
                tracing::warn!(error = %e, "the error page's frame did not load");
                None
            }
        },
        None => None,
    };
    let page = ErrorPage {
        tr,
        status: status.as_u16(),
        message: &message,
        hint,
    };
    match framed.map_or_else(|| page.render(), Ok) {
        Ok(html) => {
            let mut res = Response::new(Body::from(html));
            *res.status_mut() = status;
            res.headers_mut().insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static("text/html; charset=utf-8"),
            );
            res
        }
        Err(e) => {
            tracing::error!(error = %e, "error page did not render");
            (status, message).into_response()
        }
    }
}

/// Renders a page template into an HTML response.
pub fn html<T: Template>(page: &T) -> Result<Response, AppError> {
    let body = page
        .render()
        .map_err(|e| AppError::Internal(format!("template: {e}")))?;
    let mut res = Response::new(Body::from(body));
    res.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=utf-8"),
    );
    Ok(res)
}
