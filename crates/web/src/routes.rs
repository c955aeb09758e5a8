//! The only way a route enters the router: with the capability it needs. An area lists its
//! routes as `Routes`; `app()` merges them, and each method handler is wrapped in a guard that
//! refuses a caller whose role lacks the capability (`baiqian_domain::capability::GRANTS`):
//! 404 for what they may not read (as for anything out of scope), 403 for an act they may not
//! do on what they see. The list itself (`RouteSpec`) is what the route ×
//! role test walks. A caller still owing their second factor reaches only the routes of
//! `Capability::OwnSecondFactor` (`auth::AuthStage`).

use axum::Router;
use axum::extract::{Request, State};
use axum::handler::Handler;
use axum::http::Method;
use axum::middleware::{Next, from_fn_with_state};
use axum::response::{IntoResponse, Response};
use axum::routing::{MethodRouter, get, post};
use baiqian_domain::capability::Capability;
use std::sync::Arc;

use crate::auth::{AuthStage, CurrentUser};
use crate::error::AppError;
use crate::state::AppState;

/// One route: method, path pattern, the capability it needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RouteSpec {
    pub method: Method,
    pub path: &'static str,
    pub capability: Capability,
}

type Guarded = Box<dyn FnOnce(AppState) -> MethodRouter<AppState> + Send>;

/// An area's routes before they meet the state their guards read.
#[derive(Default)]
pub struct Routes {
    entries: Vec<(RouteSpec, Guarded)>,
}

impl Routes {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn get<H, T>(self, path: &'static str, capability: Capability, handler: H) -> Self
    where
        H: Handler<T, AppState>,
        T: 'static,
    {
        self.add(Method::GET, path, capability, move || get(handler))
    }

    pub fn post<H, T>(self, path: &'static str, capability: Capability, handler: H) -> Self
    where
        H: Handler<T, AppState>,
        T: 'static,
    {
        self.add(Method::POST, path, capability, move || post(handler))
    }

    /// A POST taking a large upload (a roster file): the body may be up to
    /// `MAX_ROSTER_UPLOAD_BYTES` instead of the default `MAX_UPLOAD_BYTES`.
    pub fn post_upload<H, T>(self, path: &'static str, capability: Capability, handler: H) -> Self
    where
        H: Handler<T, AppState>,
        T: 'static,
    {
        self.add(Method::POST, path, capability, move || {
            post(handler).layer(axum::extract::DefaultBodyLimit::max(
                crate::state::MAX_ROSTER_UPLOAD_BYTES,
            ))
        })
    }

    fn add(
        mut self,
        method: Method,
        path: &'static str,
        capability: Capability,
        make: impl FnOnce() -> MethodRouter<AppState> + Send + 'static,
    ) -> Self {
        let spec = RouteSpec {
            method,
            path,
            capability,
        };
        let guarded: Guarded = Box::new(move |state: AppState| {
            make().layer(from_fn_with_state(Guard { capability, state }, guard))
        });
        self.entries.push((spec, guarded));
        self
    }

    pub fn merge(mut self, other: Routes) -> Self {
        self.entries.extend(other.entries);
        self
    }

    /// The table: what the route × role test walks and the OpenAPI check reads.
    pub fn specs(&self) -> Vec<RouteSpec> {
        self.entries.iter().map(|(s, _)| s.clone()).collect()
    }

    /// The router, every method handler behind its guard.
    pub fn into_router(self, state: &AppState) -> Router<AppState> {
        self.entries
            .into_iter()
            .fold(Router::new(), |router, (spec, make)| {
                router.route(spec.path, make(state.clone()))
            })
    }
}

#[derive(Clone)]
struct Guard {
    capability: Capability,
    state: AppState,
}

async fn guard(State(g): State<Guard>, req: Request, next: Next) -> Response {
    if g.capability == Capability::Public {
        return next.run(req).await;
    }
    let Some((role, stage)) = req
        .extensions()
        .get::<Arc<CurrentUser>>()
        .map(|me| (me.role(), me.stage))
    else {
        return AppError::Unauthenticated.into_response();
    };
    // Half signed in, one reaches the second factor's own routes and nothing else.
    if g.capability != Capability::OwnSecondFactor {
        match stage {
            AuthStage::Complete => {}
            AuthStage::SecondFactorDue => return AppError::SecondFactorDue.into_response(),
            AuthStage::SecondFactorSetupDue => {
                return AppError::SecondFactorSetupDue.into_response();
            }
        }
    }
    if !role.may(g.capability) {
        g.state.metrics.count_denied();
        return if g.capability.denied_as_absent() {
            AppError::NotFound
        } else {
            AppError::Denied(baiqian_domain::Msg::new("error.denied"))
        }
        .into_response();
    }
    next.run(req).await
}
