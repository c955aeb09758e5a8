//! What the province benchmarks share: a fresh database per run, medians.

use std::time::Duration;

use baiqian_store::Db;

pub type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// A new, empty database named `name`: a SQLite file in the temp directory, or, given a
/// PostgreSQL admin URL, a database of that name on the server (dropped first if there).
pub async fn fresh_db(pg: Option<&str>, name: &str) -> Result<(Db, String), BoxError> {
    match pg {
        None => {
            let dir = std::env::temp_dir().join(format!("baiqian-bench-{}", std::process::id()));
            std::fs::create_dir_all(&dir)?;
            let path = dir.join(format!("{name}.db"));
            let _ = std::fs::remove_file(&path);
            let url = format!("sqlite://{}", path.display());
            Ok((Db::connect(&url).await?, url))
        }
        Some(admin_url) => {
            let admin = Db::connect(admin_url).await?;
            baiqian_store::raw_execute(
                &admin,
                &format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"),
            )
            .await?;
            baiqian_store::raw_execute(&admin, &format!("CREATE DATABASE {name}")).await?;
            admin.close().await;
            let base = admin_url.split('?').next().unwrap_or(admin_url);
            let root = base.rsplit_once('/').map(|(r, _)| r).unwrap_or(base);
            let url = format!("{root}/{name}");
            Ok((Db::connect(&url).await?, url))
        }
    }
}

pub fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v.get(v.len() / 2).copied().unwrap_or_default()
}

pub fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

/// The app over `db` and a bearer token of a city admin at `root` (created here), for timing
/// pages through the real router in process.
pub async fn admin_router(
    db: &Db,
    root: &str,
    now: i64,
) -> Result<(axum::Router, String), BoxError> {
    use baiqian_store::user::NewUser;
    let cli = baiqian_store::Actor::cli();
    let user = db
        .create_user(
            &cli,
            NewUser {
                login: "bench.city".into(),
                name: "基准".into(),
                role: baiqian_domain::role::Role::CityAdmin,
                org_code: baiqian_domain::org::OrgCode::parse(root).map_err(|e| e.to_string())?,
                password_hash: baiqian_web::auth::hash_password("Bench@2016x")
                    .map_err(|e| e.to_string())?,
            },
            now,
        )
        .await?;
    let token = baiqian_web::auth::random_token().map_err(|e| e.to_string())?;
    db.issue_token(&cli, &user, &baiqian_web::auth::sha256_hex(&token), now)
        .await?;
    let state = baiqian_web::AppState::new(
        db.clone(),
        baiqian_store::vault::Vault::random()?,
        std::sync::Arc::new(baiqian_web::clock::ManualClock::new(now)),
        baiqian_web::Config::default(),
    );
    Ok((baiqian_web::app(state), token))
}

/// The median server time of `runs` GETs of `path` (each must answer 200).
pub async fn time_get(
    router: &axum::Router,
    token: &str,
    path: &str,
    runs: usize,
) -> Result<Duration, BoxError> {
    use tower::ServiceExt;
    let mut times = Vec::new();
    for _ in 0..runs.max(1) {
        let req = axum::http::Request::builder()
            .uri(path)
            .header(axum::http::header::AUTHORIZATION, format!("Bearer {token}"))
            .body(axum::body::Body::empty())?;
        let t = std::time::Instant::now();
        let res = router.clone().oneshot(req).await?;
        let status = res.status();
        let _ = axum::body::to_bytes(res.into_body(), 16 * 1024 * 1024).await?;
        times.push(t.elapsed());
        if status != axum::http::StatusCode::OK {
            return Err(format!("{path}: {status}").into());
        }
    }
    Ok(median(times))
}
