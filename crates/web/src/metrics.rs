//! Request metrics in the Prometheus text format: counts by route and status, latency.

use std::time::Instant;

use axum::extract::{MatchedPath, Request, State};
use axum::middleware::Next;
use axum::response::Response;
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;

use crate::error::AppError;
use crate::state::AppState;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RequestLabels {
    method: String,
    route: String,
    status: u16,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RefusalLabels {
    reason: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RouteLabels {
    route: String,
}

pub struct Metrics {
    registry: Registry,
    requests: Family<RequestLabels, Counter>,
    errors: Family<RequestLabels, Counter>,
    latency: Family<RouteLabels, Histogram>,
    /// Requests a route's capability guard refused (answered 404).
    denied: Counter,
    /// Logins turned away before a password check: `throttled` (429), `busy` (503).
    login_refused: Family<RefusalLabels, Counter>,
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

impl Metrics {
    pub fn new() -> Self {
        let mut registry = Registry::with_prefix("baiqian");
        let requests = Family::<RequestLabels, Counter>::default();
        let errors = Family::<RequestLabels, Counter>::default();
        let latency = Family::<RouteLabels, Histogram>::new_with_constructor(|| {
            Histogram::new(exponential_buckets(0.0005, 2.0, 14))
        });
        registry.register("http_requests", "HTTP requests answered", requests.clone());
        registry.register(
            "http_errors",
            "HTTP requests answered with a 5xx status",
            errors.clone(),
        );
        registry.register(
            "http_request_duration_seconds",
            "Time to answer a request",
            latency.clone(),
        );
        let denied = Counter::default();
        registry.register(
            "requests_denied",
            "Requests refused because the caller's role lacks the route's capability",
            denied.clone(),
        );
        let login_refused = Family::<RefusalLabels, Counter>::default();
        registry.register(
            "logins_refused",
            "Logins turned away before a password check: throttled (429) or busy (503)",
            login_refused.clone(),
        );
        Self {
            login_refused,
            denied,
            registry,
            requests,
            errors,
            latency,
        }
    }

    /// A login turned away before its password was checked.
    pub fn count_login_refused(&self, reason: &'static str) {
        self.login_refused
            .get_or_create(&RefusalLabels { reason })
            .inc();
    }

    pub fn count_denied(&self) {
        self.denied.inc();
    }

    /// How many requests the capability guards refused so far.
    pub fn denied(&self) -> u64 {
        self.denied.get()
    }

    pub fn encode(&self) -> Result<String, AppError> {
        let mut out = String::new();
        prometheus_client::encoding::text::encode(&mut out, &self.registry)
            .map_err(|e| AppError::Internal(format!("metrics: {e}")))?;
        Ok(out)
    }
}

/// Counts and times every request by its route pattern (never the raw path, so codes in URLs
/// don't multiply the series), and logs it (`request_log`).
pub async fn track(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let start = Instant::now();
    let method = req.method().to_string();
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map(|p| p.as_str().to_string())
        .unwrap_or_else(|| "unmatched".into());
    let res = next.run(req).await;
    let elapsed = start.elapsed();
    let status = res.status().as_u16();
    let labels = RequestLabels {
        method: method.clone(),
        route: route.clone(),
        status,
    };
    state.metrics.requests.get_or_create(&labels).inc();
    if status >= 500 {
        state.metrics.errors.get_or_create(&labels).inc();
    }
    state
        .metrics
        .latency
        .get_or_create(&RouteLabels {
            route: route.clone(),
        })
        .observe(elapsed.as_secs_f64());
    if crate::request_log::enabled() {
        crate::request_log::record(&method, &route, status, elapsed.as_micros() as u64);
    }
    res
}
