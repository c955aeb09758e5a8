//! `GET /api/v1/me`: who the caller is.

use axum::Json;
use axum::extract::State;
use serde::Serialize;
use utoipa::ToSchema;

use crate::auth::Auth;
use crate::error::{AppError, ErrorBody};
use crate::state::AppState;

/// The caller's own member record, as `/api/v1/me` shows it.
#[derive(Serialize, ToSchema)]
pub struct MeMember {
    pub id: i64,
    pub name: String,
    /// The active card's number; null between cards.
    pub card_no: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct MeOrg {
    pub code: String,
    pub name: String,
}

/// Who the caller is: login, role, node, and their own member record when the account is a
/// member's.
#[derive(Serialize, ToSchema)]
pub struct MeView {
    pub login: String,
    /// `city-admin`, `county-admin`, `township-admin`, `village-secretary`, `member`, `leader`
    /// or `auditor`.
    pub role: String,
    pub org: MeOrg,
    pub member: Option<MeMember>,
}

#[utoipa::path(get, path = "/api/v1/me",
    responses((status = 200, body = MeView), (status = 401, body = ErrorBody)))]
pub async fn me(State(state): State<AppState>, Auth(me): Auth) -> Result<Json<MeView>, AppError> {
    let member = match me.user.member_id {
        Some(id) => {
            let m = state.db.member(me.scope(), id).await?;
            Some(MeMember {
                id: m.id,
                name: m.name,
                card_no: m.card_no,
            })
        }
        None => None,
    };
    Ok(Json(MeView {
        login: me.user.login.clone(),
        role: me.role().as_str().to_string(),
        org: MeOrg {
            code: me.user.org_code.clone(),
            name: me.user.org_name.clone(),
        },
        member,
    }))
}
