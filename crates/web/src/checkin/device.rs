//! Card readers and kiosks (读卡器) of an organization: the list of its subtree's readers, a new
//! reader registered with its token shown once, a lost reader revoked. The command line's
//! `baiqian device` does the same for operators.

use askama::Template;
use axum::Form;
use axum::extract::{OriginalUri, Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use baiqian_domain::Msg;
use baiqian_domain::capability::Capability;
use baiqian_domain::org::OrgCode;
use baiqian_store::StoreError;
use baiqian_store::checkin::{Device, DeviceRow};
use baiqian_store::kernel::Node;
use serde::Deserialize;

use crate::auth::DEVICE_TOKEN_PREFIX;
use crate::auth::{Auth, CurrentUser, random_token, sha256_hex};
use crate::error::{AppError, html};
use crate::extract::CodeParam;
use crate::frame::Frame;
use crate::i18n::Tr;
use crate::routes::Routes;
use crate::state::AppState;

pub fn routes() -> Routes {
    Routes::new()
        .get("/orgs/{code}/devices", Capability::ReadReaders, list)
        .post("/orgs/{code}/devices", Capability::ManageReaders, register)
        .post("/devices/{id}/revoke", Capability::ManageReaders, revoke)
}

#[derive(Template)]
#[template(path = "device/list.html")]
struct ListPage {
    tr: Tr,
    f: Frame,
    org: Node,
    devices: Vec<DeviceRow>,
    can_manage: bool,
    name: String,
    error: Option<String>,
}

impl ListPage {
    fn when(&self, ms: &i64) -> String {
        self.tr.datetime(*ms)
    }
}

#[derive(Template)]
#[template(path = "device/created.html")]
struct CreatedPage {
    tr: Tr,
    f: Frame,
    org: Node,
    device: Device,
    token: String,
}

async fn list_page(
    state: &AppState,
    me: &CurrentUser,
    tr: Tr,
    uri: &OriginalUri,
    code: &OrgCode,
    name: String,
    error: Option<String>,
) -> Result<Response, AppError> {
    let org = state.db.org(me.scope(), code).await?;
    let failed = error.is_some();
    let mut res = html(&ListPage {
        tr,
        f: Frame::new(state, me, tr, uri.0.path(), "tree").await?,
        devices: state.db.devices_under(me.scope(), code).await?,
        can_manage: me.role().may_manage_members() && !org.is_retired(),
        org,
        name,
        error,
    })?;
    if failed {
        *res.status_mut() = StatusCode::UNPROCESSABLE_ENTITY;
    }
    Ok(res)
}

async fn list(
    State(state): State<AppState>,
    Auth(me): Auth,
    tr: Tr,
    uri: OriginalUri,
    CodeParam(code): CodeParam,
) -> Result<Response, AppError> {
    list_page(&state, &me, tr, &uri, &code, String::new(), None).await
}

#[derive(Deserialize)]
struct NewDevice {
    #[serde(default)]
    name: String,
}

/// Registers a reader at the node; the page that answers shows its token, once.
async fn register(
    State(state): State<AppState>,
    Auth(me): Auth,
    tr: Tr,
    uri: OriginalUri,
    CodeParam(org_code): CodeParam,
    Form(form): Form<NewDevice>,
) -> Result<Response, AppError> {
    let secret = random_token()?;
    let device = match state
        .db
        .create_device(
            &me.actor,
            &org_code,
            &form.name,
            &sha256_hex(&secret),
            state.clock.now_ms(),
        )
        .await
    {
        Ok(d) => d,
        Err(StoreError::Invalid(m)) => {
            return list_page(
                &state,
                &me,
                tr,
                &uri,
                &org_code,
                form.name,
                Some(tr.msg(&m)),
            )
            .await;
        }
        Err(e) => return Err(e.into()),
    };
    let org = state.db.org(me.scope(), &org_code).await?;
    let mut res = html(&CreatedPage {
        tr,
        f: Frame::new(&state, &me, tr, uri.0.path(), "tree").await?,
        org,
        device,
        token: format!("{DEVICE_TOKEN_PREFIX}{secret}"),
    })?;
    *res.status_mut() = StatusCode::CREATED;
    // The token must not linger in a cache between here and the browser.
    res.headers_mut().insert(
        axum::http::header::CACHE_CONTROL,
        axum::http::HeaderValue::from_static("no-store"),
    );
    Ok(res)
}

async fn revoke(
    State(state): State<AppState>,
    Auth(me): Auth,
    Path(id): Path<i64>,
) -> Result<Response, AppError> {
    let device = state
        .db
        .revoke_device(&me.actor, id, state.clock.now_ms())
        .await
        .map_err(|e| match e {
            StoreError::Conflict(_) => AppError::Conflict(Msg::new("device.error.revoked")),
            other => other.into(),
        })?;
    // This server forgets the token at once; the batch refuses its swipes on every server.
    state.devices.forget_all();
    Ok(Redirect::to(&format!("/orgs/{}/devices", device.org_code)).into_response())
}
