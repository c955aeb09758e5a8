//! The meeting-room screen (数据大屏): a node's campaign at a glance on a 1920×1080 display, in
//! Party red. Like the home, it only gathers the areas' parts — the rating round's figures,
//! stages and charts, the ledger's problems, visits and leaders' pledges — into one row of
//! figures, the bands and a grid of panels; each figure opens the list behind it.

use askama::Template;
use axum::extract::State;
use axum::response::Response;
use baiqian_store::kernel::Node;

use crate::auth::Auth;
use crate::error::{AppError, html};
use crate::extract::CodeParam;
use crate::frame::ScreenPart;
use crate::i18n::Tr;
use crate::state::AppState;

#[derive(Template)]
#[template(path = "home/screen.html")]
struct ScreenPage {
    tr: Tr,
    org: Node,
    parts: Vec<ScreenPart>,
    now: String,
}

/// `GET /orgs/{code}/screen`: the parts the reader's role may read.
pub(super) async fn screen_page(
    State(state): State<AppState>,
    Auth(me): Auth,
    tr: Tr,
    CodeParam(code): CodeParam,
) -> Result<Response, AppError> {
    let org = state.db.org(me.scope(), &code).await?;
    let mut parts = vec![crate::rating::screen_part(&state, &me, tr, &org).await?];
    parts.extend(crate::ledger::screen_part(&state, &me, tr, &org).await?);
    html(&ScreenPage {
        tr,
        org,
        parts,
        now: tr.datetime(state.clock.now_ms()),
    })
}
