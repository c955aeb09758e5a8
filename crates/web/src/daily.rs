//! The daily overdue mark (逾期标记): once each China day, every unresolved problem past its
//! deadline is marked overdue and counted on the boards above it and on its owner's and
//! guiding leader's task lists; every credit loan whose instalment fell due unpaid turns
//! overdue and goes on its loan officer's list. The day comes from the injected clock, so tests move it. Each
//! day's mark is followed by the audit chain's anchor in the log output. With several app nodes
//! on one database, each day is claimed by one node (`periodic_runs`) and marked once.

use std::time::Duration;

use baiqian_domain::role::Role;
use baiqian_domain::scope::Scope;
use baiqian_store::Actor;

use crate::state::AppState;

/// The daily mark's name among the periodic runs claimed per day.
pub const DAILY_TASK: &str = "overdue_mark";

/// A node that claimed the day and stopped before finishing gives it up to another after this.
const CLAIM_LEASE_MS: i64 = 10 * 60_000;

/// Who the audit log names for the mark.
fn daily_actor() -> Actor {
    Actor {
        user_id: None,
        login: "daily".into(),
        role: Role::CityAdmin,
        scope: Scope::everything(),
    }
}

/// Marks what became overdue when the China date differs from `last` (the day last marked);
/// returns the day now marked. A failure is logged and leaves `last`, to be tried again.
pub async fn mark_overdue_if_new_day(state: &AppState, last: Option<&str>) -> Option<String> {
    let now = state.clock.now_ms();
    let today = baiqian_domain::time::china_date(now);
    if last == Some(today.as_str()) {
        return Some(today);
    }
    // With several nodes up, one of them marks the day: the others find it claimed.
    let node = state.jobs.node();
    match state
        .db
        .claim_periodic(DAILY_TASK, &today, node, now, CLAIM_LEASE_MS)
        .await
    {
        Ok(true) => {}
        Ok(false) => {
            // Claimed by another node: done, or still running there (looked at again next
            // minute, and taken over once its lease ends unfinished).
            return match state.db.periodic_runs(DAILY_TASK, &today).await {
                Ok(runs) if runs.iter().any(|(_, finished)| finished.is_some()) => Some(today),
                Ok(_) => last.map(str::to_string),
                Err(e) => {
                    tracing::error!(day = %today, error = %e, "daily claim not read");
                    last.map(str::to_string)
                }
            };
        }
        Err(e) => {
            tracing::error!(day = %today, error = %e, "daily mark not claimed");
            return last.map(str::to_string);
        }
    }
    let marked = match state
        .db
        .mark_overdue_problems(&daily_actor(), &today, now)
        .await
    {
        Ok(problems) => state
            .db
            .mark_overdue_loans(&daily_actor(), &today, now)
            .await
            .map(|loans| (problems, loans)),
        Err(e) => Err(e),
    };
    match marked {
        Ok((problems, loans)) => {
            if let Err(e) = state
                .db
                .finish_periodic(DAILY_TASK, &today, node, now)
                .await
            {
                tracing::error!(day = %today, error = %e, "daily mark's end not recorded");
            }
            tracing::info!(day = %today, problems, loans, node, "overdue problems and loans marked");
            write_anchor(state, &today).await;
            Some(today)
        }
        Err(e) => {
            tracing::error!(day = %today, error = %e, "overdue mark failed");
            if let Err(e) = state.db.release_periodic(DAILY_TASK, &today, node).await {
                tracing::error!(day = %today, error = %e, "daily claim not given back");
            }
            last.map(str::to_string)
        }
    }
}

/// Writes the audit chain's head to the log output (`baiqian audit verify --anchor SEQ:HASH`
/// checks a database against it later): a copy kept apart from the database shows whether the
/// chain was rewritten since.
async fn write_anchor(state: &AppState, day: &str) {
    match state.db.audit_chain_head().await {
        Ok((seq, head)) => {
            tracing::info!(target: "baiqian::audit", day, anchor = %format!("{seq}:{head}"), "audit chain anchor");
        }
        Err(e) => tracing::error!(day, error = %e, "audit chain anchor not read"),
    }
}

/// The mark's loop in the server: at start, then each minute it looks whether the day changed.
pub fn spawn_daily(state: AppState) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut last: Option<String> = None;
        let mut tick = tokio::time::interval(Duration::from_secs(60));
        loop {
            tick.tick().await;
            last = mark_overdue_if_new_day(&state, last.as_deref()).await;
        }
    })
}
