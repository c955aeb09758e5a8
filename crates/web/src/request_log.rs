//! The request log (访问日志): one line per request — when, method, route, status, time taken —
//! on stderr beside the rest of the log, on by default (`RUST_LOG` at `info`, target
//! `baiqian::request`; `RUST_LOG=warn` silences it).
//!
//! Why not one `tracing` event per request: on two cores the formatted event and its own
//! `write(2)` cost 11–34 % of the throughput of the cheapest requests (docs/benchmarks.md).
//! Here a request appends a short line to a shared buffer (its timestamp formatted once per
//! second), and a thread of its own writes the buffer out every 100 ms. Nothing is dropped: a
//! buffer that outgrows `HIGH_WATER` is written out by the request that finds it so.

use std::fmt::Write as _;
use std::io::Write as _;
use std::sync::{Mutex, MutexGuard, OnceLock};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// The `tracing` target whose level switches the request log (`RUST_LOG=baiqian::request=off`).
pub const TARGET: &str = "baiqian::request";

const FLUSH_EVERY: Duration = Duration::from_millis(100);
const HIGH_WATER: usize = 4 * 1024 * 1024;

struct Buffer {
    text: String,
    /// The second `stamp` was formatted for.
    second: u64,
    /// `2026-12-03T06:50:12.` for `second`.
    stamp: String,
}

struct RequestLog {
    buffer: Mutex<Buffer>,
}

static LOG: OnceLock<RequestLog> = OnceLock::new();

fn log() -> &'static RequestLog {
    LOG.get_or_init(|| {
        let spawned = std::thread::Builder::new()
            .name("baiqian-request-log".into())
            .spawn(|| {
                loop {
                    std::thread::sleep(FLUSH_EVERY);
                    flush();
                }
            });
        if let Err(e) = spawned {
            // Without the thread, lines still reach stderr at the high-water mark and at exit.
            tracing::error!(error = %e, "request log: cannot start its writer thread");
        }
        RequestLog {
            buffer: Mutex::new(Buffer {
                text: String::with_capacity(64 * 1024),
                second: 0,
                stamp: String::new(),
            }),
        }
    })
}

fn lock(log: &RequestLog) -> MutexGuard<'_, Buffer> {
    // A panic while holding the lock leaves only a partly written line behind.
    log.buffer.lock().unwrap_or_else(|e| e.into_inner())
}

/// Whether `RUST_LOG` asks for the request log.
pub fn enabled() -> bool {
    tracing::enabled!(target: TARGET, tracing::Level::INFO)
}

/// Appends one request's line.
pub fn record(method: &str, route: &str, status: u16, micros: u64) {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default();
    let log = log();
    let mut b = lock(log);
    let second = now.as_secs();
    if second != b.second || b.stamp.is_empty() {
        b.second = second;
        b.stamp = chrono::DateTime::from_timestamp(second as i64, 0)
            .map(|t| t.format("%Y-%m-%dT%H:%M:%S.").to_string())
            .unwrap_or_default();
    }
    let Buffer { text, stamp, .. } = &mut *b;
    // Writing into a String cannot fail.
    let _ = writeln!(
        text,
        "{stamp}{:06}Z  INFO {TARGET}: request method={method} route={route} status={status} micros={micros}",
        now.subsec_micros()
    );
    if text.len() >= HIGH_WATER {
        let full = std::mem::take(text);
        drop(b);
        write_out(&full);
    }
}

/// Writes out what is buffered (the writer thread, and the server at exit).
pub fn flush() {
    let Some(log) = LOG.get() else {
        return;
    };
    let text = {
        let mut b = lock(log);
        if b.text.is_empty() {
            return;
        }
        std::mem::replace(&mut b.text, String::with_capacity(64 * 1024))
    };
    write_out(&text);
}

fn write_out(text: &str) {
    let mut err = std::io::stderr().lock();
    if err
        .write_all(text.as_bytes())
        .and_then(|()| err.flush())
        .is_err()
    {
        // stderr is gone (a closed pipe): there is nowhere left to say so.
    }
}
