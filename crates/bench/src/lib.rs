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
