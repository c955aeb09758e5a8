//! Route parameters parsed once, at the door: a malformed one answers 404, as an unknown one
//! does (a URL is not a form; there is nothing to correct).

use std::collections::HashMap;

use axum::extract::{FromRequestParts, Path};
use axum::http::request::Parts;
use baiqian_domain::org::OrgCode;
use baiqian_domain::time::Month;

use crate::error::AppError;

async fn param<S: Send + Sync>(
    parts: &mut Parts,
    state: &S,
    name: &str,
) -> Result<String, AppError> {
    let Path(params) = Path::<HashMap<String, String>>::from_request_parts(parts, state)
        .await
        .map_err(|_| AppError::NotFound)?;
    params.get(name).cloned().ok_or(AppError::NotFound)
}

/// The route's `{code}`: a well-formed division code.
pub struct CodeParam(pub OrgCode);

impl<S: Send + Sync> FromRequestParts<S> for CodeParam {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, AppError> {
        let raw = param(parts, state, "code").await?;
        OrgCode::parse(&raw)
            .map(CodeParam)
            .map_err(|_| AppError::NotFound)
    }
}

/// The route's `{year}`: a rating year, 2000–2100.
pub struct YearParam(pub i64);

impl<S: Send + Sync> FromRequestParts<S> for YearParam {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, AppError> {
        param(parts, state, "year")
            .await?
            .parse::<i64>()
            .ok()
            .filter(|y| (2000..=2100).contains(y))
            .map(YearParam)
            .ok_or(AppError::NotFound)
    }
}

/// The route's `{month}`: `YYYY-MM`.
pub struct MonthParam(pub Month);

impl<S: Send + Sync> FromRequestParts<S> for MonthParam {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, AppError> {
        Month::parse(&param(parts, state, "month").await?)
            .map(MonthParam)
            .ok_or(AppError::NotFound)
    }
}
