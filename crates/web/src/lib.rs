//! The baiqian web application: server-rendered pages, the JSON API, sessions and i18n.

// The composition root and what every area shares.
pub mod app;
pub mod assets;
pub mod auth;
pub mod chart;
pub mod checkin_writer;
pub mod clock;
pub mod daily;
pub mod drafts;
pub mod error;
pub mod evidence;
pub mod excel;
pub mod extract;
pub mod form;
pub mod frame;
pub mod home;
pub mod i18n;
pub mod metrics;
pub mod openapi;
pub mod request_log;
pub mod routes;
pub mod state;
pub mod task;
pub mod throttle;

// The areas: each imports the shared modules above, never another area (tests/areas.rs).
pub mod aid;
pub mod audit;
pub mod cadre;
pub mod checkin;
pub mod job;
pub mod ledger;
pub mod member;
pub mod org;
pub mod plan;
pub mod post;
pub mod rating;
pub mod station;
pub mod user;
pub mod wish;

pub use app::app;
pub use state::{AppState, Config, DemoLoginEntry, DemoLogins};

/// Serves the app on `listener` until Ctrl-C or SIGTERM.
pub async fn serve(state: AppState, listener: tokio::net::TcpListener) -> std::io::Result<()> {
    // What a stopped server left running is marked before anyone can look at it.
    if let Err(e) = state.jobs.recover(&state.db, state.clock.now_ms()).await {
        tracing::error!(error = %e, "interrupted jobs not recovered");
    }
    let daily = daily::spawn_daily(state.clone());
    let heartbeat = job::spawn_heartbeat(state.clone());
    // The peer's address is what login throttling counts by (`throttle::ClientAddress`).
    let served = axum::serve(
        listener,
        app(state).into_make_service_with_connect_info::<std::net::SocketAddr>(),
    )
    .with_graceful_shutdown(shutdown_signal())
    .await;
    daily.abort();
    heartbeat.abort();
    request_log::flush();
    served
}

async fn shutdown_signal() {
    let ctrl_c = async {
        if let Err(e) = tokio::signal::ctrl_c().await {
            tracing::error!(error = %e, "cannot listen for Ctrl-C");
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(e) => {
                tracing::error!(error = %e, "cannot listen for SIGTERM");
                std::future::pending::<()>().await;
            }
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = term => {},
    }
    tracing::info!("shutting down");
}
