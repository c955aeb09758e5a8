//! Time is injected: the app asks its clock, tests move it (idle sessions, lockouts), and the
//! demo runs on its own calendar (`DemoClock`).

use std::sync::atomic::{AtomicI64, Ordering};

pub trait Clock: Send + Sync {
    /// Milliseconds since the Unix epoch: the app's today, the time every record is dated by.
    fn now_ms(&self) -> i64;

    /// The time outside the app, for what another clock checks (a phone's one-time code): the
    /// same as `now_ms` except on a calendar of its own.
    fn wall_ms(&self) -> i64 {
        self.now_ms()
    }
}

pub struct SystemClock;

impl Clock for SystemClock {
    fn now_ms(&self) -> i64 {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_millis() as i64)
            .unwrap_or(0)
    }
}

/// A clock that stands still until moved.
pub struct ManualClock(AtomicI64);

impl ManualClock {
    pub fn new(ms: i64) -> Self {
        Self(AtomicI64::new(ms))
    }

    pub fn advance_minutes(&self, minutes: i64) {
        self.advance_ms(minutes * 60_000);
    }

    pub fn advance_ms(&self, ms: i64) {
        self.0.fetch_add(ms, Ordering::SeqCst);
    }
}

impl Clock for ManualClock {
    fn now_ms(&self) -> i64 {
        self.0.load(Ordering::SeqCst)
    }
}

/// The demo world's calendar (one calendar for the demo: docs/architecture.md): time runs at
/// its real pace from `base`, a moment inside the campaign's years, so that ratings, activity
/// days, surveys, problems and deadlines all agree on what today is. The wall clock stays real.
pub struct DemoClock {
    base_ms: i64,
    started: std::time::Instant,
}

impl DemoClock {
    /// A clock that reads `base_ms` now and runs on from there.
    pub fn from(base_ms: i64) -> Self {
        Self {
            base_ms,
            started: std::time::Instant::now(),
        }
    }
}

impl Clock for DemoClock {
    fn now_ms(&self) -> i64 {
        let run = i64::try_from(self.started.elapsed().as_millis()).unwrap_or(i64::MAX / 2);
        self.base_ms.saturating_add(run)
    }

    fn wall_ms(&self) -> i64 {
        SystemClock.now_ms()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_demo_calendar_runs_from_its_base_and_the_wall_stays_real() {
        let base = 1_456_795_800_000;
        let clock = DemoClock::from(base);
        let first = clock.now_ms();
        std::thread::sleep(std::time::Duration::from_millis(20));
        let later = clock.now_ms();
        assert!(first >= base && later >= first + 20, "{first} {later}");
        assert!(later < base + 60_000, "it runs at the real pace");
        let wall = clock.wall_ms();
        assert!((wall - SystemClock.now_ms()).abs() < 1_000);
        assert!(
            wall > base + 300 * 24 * 3600 * 1000,
            "the wall clock is today's, not 2016's"
        );
        // Elsewhere the wall is the app's time.
        let manual = ManualClock::new(base);
        assert_eq!(manual.wall_ms(), base);
    }
}
