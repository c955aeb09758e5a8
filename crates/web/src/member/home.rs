//! The member's part of a home ("我的"): their own record and printable card. Nothing of
//! other members.

use super::*;

#[derive(Template)]
#[template(path = "member/home.html")]
struct MemberHome {
    tr: Tr,
    member: Member,
}

pub(crate) async fn home_part(
    state: &AppState,
    me: &CurrentUser,
    tr: Tr,
) -> Result<Option<String>, AppError> {
    let Some(id) = me.user.member_id else {
        return Ok(None);
    };
    let member = match state.db.member(me.scope(), id).await {
        Ok(m) => m,
        // An official whose own branch lies outside the account's scope.
        Err(StoreError::NotFound) => return Ok(None),
        Err(e) => return Err(e.into()),
    };
    Ok(Some(MemberHome { tr, member }.render().map_err(|e| {
        AppError::Internal(format!("template: {e}"))
    })?))
}
