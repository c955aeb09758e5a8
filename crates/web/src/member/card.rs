//! A member's card page, card actions and transfer.

use super::*;

#[derive(Template)]
#[template(path = "member/card.html")]
pub(super) struct CardPage {
    tr: Tr,
    f: Frame,
    m: Member,
    card_no: String,
    svg: String,
}

/// The printable member card: its number and the same as a QR code (what a reader or an NFC
/// tag carries). Only the active card is shown; a member without one has no card page.
pub(super) async fn card_page(
    State(state): State<AppState>,
    Auth(me): Auth,
    tr: Tr,
    uri: OriginalUri,
    Path(id): Path<i64>,
) -> Result<Response, AppError> {
    let m = member_in_reach(&state, &me, id).await?;
    let card_no = m.card_no.clone().ok_or(AppError::NotFound)?;
    let svg = qrcode::QrCode::new(card_no.as_bytes())
        .map(|q| {
            q.render::<qrcode::render::svg::Color>()
                .min_dimensions(120, 120)
                .build()
        })
        .map_err(|e| AppError::Internal(format!("qr: {e}")))?;
    html(&CardPage {
        tr,
        f: Frame::new(&state, &me, tr, &here(&uri), "tree").await?,
        m,
        card_no,
        svg,
    })
}

/// A card reported lost, revoked, or reissued (the old one is refused from then on).
pub(super) async fn card_action(
    State(state): State<AppState>,
    Auth(me): Auth,
    Path((id, action)): Path<(i64, String)>,
) -> Result<Response, AppError> {
    state.db.member(me.scope(), id).await?;
    require_manager(&me)?;
    let now = state.clock.now_ms();
    match action.as_str() {
        "lost" => state.db.end_card(&me.actor, id, "lost", now).await?,
        "revoke" => state.db.end_card(&me.actor, id, "revoked", now).await?,
        "reissue" => {
            state.db.reissue_card(&me.actor, id, now).await?;
        }
        _ => return Err(AppError::NotFound),
    }
    Ok(Redirect::to(&format!("/members/{id}")).into_response())
}

#[derive(Template)]
#[template(path = "member/transfer.html")]
pub(super) struct TransferPage {
    tr: Tr,
    f: Frame,
    m: Member,
    to: String,
    reason: String,
    errors: Vec<FieldError>,
}

impl TransferPage {
    fn error_for(&self, field: &str) -> String {
        crate::form::errors_of(&self.errors, field)
    }
}

pub(super) async fn transfer_form(
    State(state): State<AppState>,
    Auth(me): Auth,
    tr: Tr,
    uri: OriginalUri,
    Path(id): Path<i64>,
) -> Result<Response, AppError> {
    let m = state.db.member(me.scope(), id).await?;
    require_manager(&me)?;
    html(&TransferPage {
        tr,
        f: Frame::new(&state, &me, tr, &here(&uri), "tree").await?,
        m,
        to: String::new(),
        reason: String::new(),
        errors: Vec::new(),
    })
}

#[derive(Deserialize)]
pub(super) struct TransferForm {
    #[serde(default)]
    to: String,
    #[serde(default)]
    reason: String,
}

pub(super) async fn transfer(
    State(state): State<AppState>,
    Auth(me): Auth,
    tr: Tr,
    uri: OriginalUri,
    Path(id): Path<i64>,
    Form(form): Form<TransferForm>,
) -> Result<Response, AppError> {
    let m = state.db.member(me.scope(), id).await?;
    require_manager(&me)?;
    let result = match OrgCode::parse(&form.to) {
        Ok(to) => {
            state
                .db
                .transfer_member(&me.actor, id, &to, &form.reason, state.clock.now_ms())
                .await
        }
        Err(e) => Err(StoreError::Invalid(e.msg())),
    };
    let m2 = match result {
        Ok(_) => return Ok(Redirect::to(&format!("/members/{id}")).into_response()),
        Err(StoreError::Invalid(msg)) => msg,
        Err(e) => return Err(e.into()),
    };
    let field = if m2.key.starts_with("org.error.reason") {
        "reason"
    } else {
        "to"
    };
    let errors = vec![FieldError {
        field,
        message: tr.msg(&m2),
    }];
    let mut res = html(&TransferPage {
        tr,
        f: Frame::new(&state, &me, tr, &here(&uri), "tree").await?,
        m,
        to: form.to,
        reason: form.reason,
        errors,
    })?;
    *res.status_mut() = StatusCode::UNPROCESSABLE_ENTITY;
    Ok(res)
}
