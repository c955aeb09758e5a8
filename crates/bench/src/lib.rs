//! What the province benchmarks share: a fresh database per run, medians.

use std::time::Duration;

use baiqian_store::Db;

pub mod wire;

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

/// A sheet as the upload forms send it: `mode=all` and the file, as multipart/form-data.
/// Returns the content type (with its boundary) and the body.
pub fn multipart_xlsx(name: &str, file: &[u8]) -> (String, Vec<u8>) {
    let boundary = "baiqianbenchboundary7d3a";
    let mut body = Vec::with_capacity(file.len() + 512);
    body.extend_from_slice(
        format!(
            "--{boundary}\r\nContent-Disposition: form-data; name=\"mode\"\r\n\r\nall\r\n\
             --{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{name}\"\r\n\
             Content-Type: application/vnd.openxmlformats-officedocument.spreadsheetml.sheet\r\n\r\n"
        )
        .as_bytes(),
    );
    body.extend_from_slice(file);
    body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
    (format!("multipart/form-data; boundary={boundary}"), body)
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
    let token = token_for(
        db,
        "bench.city",
        baiqian_domain::role::Role::CityAdmin,
        root,
        now,
    )
    .await?;
    let state = baiqian_web::AppState::new(
        db.clone(),
        baiqian_store::vault::Vault::random()?,
        std::sync::Arc::new(baiqian_web::clock::ManualClock::new(now)),
        baiqian_web::Config::default(),
    );
    Ok((baiqian_web::app(state), token))
}

/// A new account of `role` at `org` and a bearer token for it: the same router then answers as
/// that user.
pub async fn token_for(
    db: &Db,
    login: &str,
    role: baiqian_domain::role::Role,
    org: &str,
    now: i64,
) -> Result<String, BoxError> {
    use baiqian_store::user::NewUser;
    let cli = baiqian_store::Actor::cli();
    let user = db
        .create_user(
            &cli,
            NewUser {
                login: login.into(),
                name: "基准".into(),
                role,
                org_code: baiqian_domain::org::OrgCode::parse(org).map_err(|e| e.to_string())?,
                password_hash: baiqian_web::auth::hash_password("Bench@2016x")
                    .map_err(|e| e.to_string())?,
            },
            now,
        )
        .await?;
    let token = baiqian_web::auth::random_token().map_err(|e| e.to_string())?;
    db.issue_token(&cli, &user, &baiqian_web::auth::sha256_hex(&token), now)
        .await?;
    Ok(token)
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
            // As a browser asks: the time includes compressing the answer.
            .header(axum::http::header::ACCEPT_ENCODING, "gzip, deflate, br")
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

/// `path` asked as `token`'s holder, its JSON answer (an error unless 200).
pub async fn get_json(
    router: &axum::Router,
    token: &str,
    path: &str,
) -> Result<serde_json::Value, BoxError> {
    use tower::ServiceExt;
    let req = axum::http::Request::builder()
        .uri(path)
        .header(axum::http::header::AUTHORIZATION, format!("Bearer {token}"))
        .body(axum::body::Body::empty())?;
    let res = router.clone().oneshot(req).await?;
    let status = res.status();
    let body = axum::body::to_bytes(res.into_body(), 16 * 1024 * 1024).await?;
    if status != axum::http::StatusCode::OK {
        return Err(format!("{path}: {status}").into());
    }
    Ok(serde_json::from_slice(&body)?)
}

/// What a browser with an empty cache transfers to show `path`: the page itself, then every
/// `/static/` file it names (scripts and style sheets), each asked for with
/// `Accept-Encoding: gzip, deflate, br` as a browser asks. Returns (page bytes, static bytes, number of static files).
pub async fn first_load_bytes(
    router: &axum::Router,
    token: &str,
    path: &str,
) -> Result<(usize, usize, usize), BoxError> {
    use tower::ServiceExt;
    let get = |uri: String| async move {
        let req = axum::http::Request::builder()
            .uri(uri.as_str())
            .header(axum::http::header::AUTHORIZATION, format!("Bearer {token}"))
            .header(axum::http::header::ACCEPT_ENCODING, "gzip, deflate, br")
            .body(axum::body::Body::empty())?;
        let res = router.clone().oneshot(req).await?;
        if res.status() != axum::http::StatusCode::OK {
            return Err::<_, BoxError>(format!("{uri}: {}", res.status()).into());
        }
        Ok(axum::body::to_bytes(res.into_body(), 16 * 1024 * 1024).await?)
    };
    let page = get(path.to_string()).await?;
    // The names of the files are read off the page as sent uncompressed.
    let plain = {
        let req = axum::http::Request::builder()
            .uri(path)
            .header(axum::http::header::AUTHORIZATION, format!("Bearer {token}"))
            .body(axum::body::Body::empty())?;
        let res = router.clone().oneshot(req).await?;
        axum::body::to_bytes(res.into_body(), 16 * 1024 * 1024).await?
    };
    let html = String::from_utf8_lossy(&plain);
    let mut files: Vec<String> = Vec::new();
    for attr in ["src=\"/static/", "href=\"/static/"] {
        for (at, _) in html.match_indices(attr) {
            let start = at + attr.len() - "/static/".len();
            if let Some(len) = html[start..].find('"') {
                files.push(html[start..start + len].to_string());
            }
        }
    }
    files.sort();
    files.dedup();
    let mut statics = 0;
    for f in &files {
        statics += get(f.clone()).await?.len();
    }
    Ok((page.len(), statics, files.len()))
}
