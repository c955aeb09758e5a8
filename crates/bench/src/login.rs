//! `baiqian-login-bench`: what signing in with two steps costs (issue 30). Builds the light demo
//! world, starts the release server with `serve` as shipped (default logging, and the default
//! rule: administrations and auditors must give a second factor), and then, over HTTP, as a
//! person would:
//!
//! 1. sets up an authenticator for every administration and auditor account (password, read the
//!    secret off the setup page, send the code an app would show);
//! 2. signs each of them in, `--rounds` times: the password step and the code step timed apart;
//! 3. signs in as many village secretaries, password only (their role needs no second factor).
//!
//! Each sign-in comes from an address of its own, sequentially: the figure is the cost of one
//! person's sign-in on an idle server, not a load test.

use std::time::{Duration, Instant};

use baiqian_bench::wire::{csrf_field, http, light_demo, login_form, set_cookie, start_server};
use baiqian_bench::{BoxError, median, ms};
use baiqian_domain::second_factor::{STEP_SECONDS, TotpSecret};
use clap::Parser;
use sqlx::Row;

#[derive(Parser, Debug)]
#[command(
    name = "baiqian-login-bench",
    about = "Two-step sign-in against the release server (see docs/benchmarks.md)"
)]
struct Args {
    /// The server binary (build it with `cargo build --release`).
    #[arg(long, default_value = "target/release/baiqian")]
    server: std::path::PathBuf,
    /// Sign-ins of each administration account (each round waits for a new 30-second code).
    #[arg(long, default_value_t = 2)]
    rounds: usize,
}

fn step_now() -> u64 {
    u64::try_from(chrono::Utc::now().timestamp()).unwrap_or(0) / STEP_SECONDS
}

fn address(i: usize) -> String {
    format!("10.9.{}.{}", i / 250, i % 250 + 1)
}

/// The password step: the session cookie and where it sends, and how long the POST took.
async fn password_step(
    port: u16,
    login: &str,
    at: &str,
) -> Result<(String, String, Duration), BoxError> {
    let form = login_form(port).await?;
    let body = format!(
        "csrf={}&login={login}&password={}&next=%2F",
        form.1,
        baiqian_demo::DEMO_PASSWORD
    );
    let head = format!(
        "POST /login HTTP/1.1\r\nCookie: {}\r\nX-Forwarded-For: {at}\r\nContent-Type: application/x-www-form-urlencoded\r\n",
        form.0
    );
    let t = Instant::now();
    let (status, headers, _) = http(port, &head, body.as_bytes()).await?;
    let took = t.elapsed();
    if status != 303 {
        return Err(format!("{login}: password step answered {status}").into());
    }
    let cookie = set_cookie(&headers, "bq_session").ok_or("no session cookie")?;
    let location = headers
        .iter()
        .find(|(k, _)| k == "location")
        .map(|(_, v)| v.clone())
        .unwrap_or_default();
    Ok((cookie, location, took))
}

async fn get(port: u16, path: &str, cookie: &str) -> Result<Vec<u8>, BoxError> {
    let (status, _, body) = http(
        port,
        &format!("GET {path} HTTP/1.1\r\nCookie: {cookie}\r\n"),
        b"",
    )
    .await?;
    if status != 200 {
        return Err(format!("GET {path}: {status}").into());
    }
    Ok(body)
}

async fn post(
    port: u16,
    path: &str,
    cookie: &str,
    at: &str,
    body: &str,
) -> Result<(u16, Duration), BoxError> {
    let head = format!(
        "POST {path} HTTP/1.1\r\nCookie: {cookie}\r\nX-Forwarded-For: {at}\r\nContent-Type: application/x-www-form-urlencoded\r\n"
    );
    let t = Instant::now();
    let (status, _, _) = http(port, &head, body.as_bytes()).await?;
    Ok((status, t.elapsed()))
}

fn line(what: &str, times: &[Duration]) {
    let worst = times.iter().max().copied().unwrap_or_default();
    println!(
        "{what}: {} sign-ins, median {:.1} ms, worst {:.1} ms",
        times.len(),
        ms(median(times.to_vec())),
        ms(worst)
    );
}

#[tokio::main]
async fn main() -> Result<(), BoxError> {
    let args = Args::parse();
    let dir = std::env::temp_dir().join(format!("baiqian-login-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    let db = light_demo(&args.server, &dir, "login")?;
    let store = baiqian_store::Db::connect(&db).await?;
    let logins = |roles: &'static str| {
        let store = store.clone();
        async move {
            sqlx::query(&format!(
                "SELECT login FROM users WHERE role IN ({roles}) AND disabled = 0 ORDER BY login"
            ))
            .fetch_all(store.pool())
            .await
            .map(|rows| {
                rows.iter()
                    .filter_map(|r| r.try_get::<String, _>(0).ok())
                    .collect::<Vec<_>>()
            })
        }
    };
    let admins = logins("'city-admin', 'county-admin', 'township-admin', 'auditor'").await?;
    // As many password-only sign-ins as two-step ones, the secretaries taken in turn.
    let secretaries: Vec<String> = logins("'village-secretary'")
        .await?
        .into_iter()
        .cycle()
        .take(admins.len() * args.rounds)
        .collect();
    store.close().await;
    let (mut server, port) = start_server(&args.server, &db, &dir).await?;

    // 1. Every administration sets up its authenticator.
    let t = Instant::now();
    let mut accounts = Vec::new();
    for (i, login) in admins.iter().enumerate() {
        let at = address(i);
        let (cookie, location, _) = password_step(port, login, &at).await?;
        if !location.starts_with("/me/second-factor") {
            return Err(format!("{login} was not sent to set up: {location}").into());
        }
        let page = get(port, "/me/second-factor", &cookie).await?;
        let text = String::from_utf8_lossy(&page);
        let typed = text
            .split("id=\"second-factor-secret\">")
            .nth(1)
            .and_then(|p| p.split("</code>").next())
            .ok_or("no secret on the setup page")?;
        let secret =
            TotpSecret::parse_base32(&typed.replace(' ', "")).ok_or("the secret is not base 32")?;
        let csrf = csrf_field(&page).ok_or("no csrf")?;
        let step = step_now();
        let body = format!("csrf={csrf}&code={}&next=%2F", secret.code_at_step(step));
        let (status, _) = post(port, "/me/second-factor", &cookie, &at, &body).await?;
        if status != 200 {
            return Err(format!("{login}: setup answered {status}").into());
        }
        accounts.push((login.clone(), at, secret, step));
    }
    println!(
        "set up: {} administration and auditor accounts in {:.1} s",
        accounts.len(),
        t.elapsed().as_secs_f64()
    );

    // 2. Two-step sign-ins. A code is taken once: each sign-in of an account uses a later step
    //    (the next one is accepted early, as a phone's clock may run ahead).
    let (mut passwords, mut codes, mut wholes) = (Vec::new(), Vec::new(), Vec::new());
    for _ in 0..args.rounds {
        for (login, at, secret, last) in &mut accounts {
            let mut step = step_now().max(*last + 1);
            while step > step_now() + 1 {
                tokio::time::sleep(Duration::from_millis(500)).await;
                step = step_now().max(*last + 1);
            }
            let (cookie, location, password) = password_step(port, login, at).await?;
            let page = get(port, &location, &cookie).await?;
            let csrf = csrf_field(&page).ok_or("no csrf")?;
            let body = format!("csrf={csrf}&code={}&next=%2F", secret.code_at_step(step));
            let (status, code) = post(port, "/login/second-factor", &cookie, at, &body).await?;
            if status != 303 {
                return Err(format!("{login}: code step answered {status}").into());
            }
            *last = step;
            passwords.push(password);
            codes.push(code);
            wholes.push(password + code);
        }
    }
    line("administrations, password step", &passwords);
    line("administrations, code step", &codes);
    line("administrations, both steps", &wholes);

    // 3. Password only, for comparison.
    let mut alone = Vec::new();
    for (i, login) in secretaries.iter().enumerate() {
        let (_, location, took) = password_step(port, login, &address(1000 + i)).await?;
        if location != "/" {
            return Err(format!("{login} was sent to {location}").into());
        }
        alone.push(took);
    }
    line("village secretaries, password only", &alone);
    let _ = server.kill().await;
    let _ = std::fs::remove_dir_all(&dir);
    Ok(())
}
