//! The static files, embedded in the binary: each served under a name carrying its content's
//! hash (`app.3f2a1b4c0d.css`) with a year's cache lifetime, so a page's second load fetches
//! nothing and a new release is fetched at once; text is sent gzip-compressed to browsers that
//! take it. The plain name still answers, briefly cached, for links kept from before.

use std::io::Write;
use std::sync::OnceLock;

use axum::extract::Path;
use axum::http::{HeaderMap, header};
use axum::response::{IntoResponse, Response};
use sha2::{Digest, Sha256};

use crate::error::AppError;

struct Asset {
    name: &'static str,
    body: &'static [u8],
    mime: &'static str,
}

const ASSETS: &[Asset] = &[
    Asset {
        name: "app.css",
        body: include_bytes!("../static/app.css"),
        mime: "text/css; charset=utf-8",
    },
    Asset {
        name: "app.js",
        body: include_bytes!("../static/app.js"),
        mime: "text/javascript; charset=utf-8",
    },
    Asset {
        name: "htmx.min.js",
        body: include_bytes!("../static/htmx.min.js"),
        mime: "text/javascript; charset=utf-8",
    },
    Asset {
        name: "chart.js",
        body: include_bytes!("../static/chart.js"),
        mime: "text/javascript; charset=utf-8",
    },
    Asset {
        name: "favicon.svg",
        body: include_bytes!("../static/favicon.svg"),
        mime: "image/svg+xml",
    },
    Asset {
        name: "echarts.min.js",
        body: include_bytes!("../static/echarts.min.js"),
        mime: "text/javascript; charset=utf-8",
    },
];

struct Prepared {
    asset: &'static Asset,
    hashed: String,
    /// Gzip-compressed body (empty when compression did not pay).
    gzip: Vec<u8>,
}

fn prepared() -> &'static [Prepared] {
    static PREPARED: OnceLock<Vec<Prepared>> = OnceLock::new();
    PREPARED.get_or_init(|| {
        ASSETS
            .iter()
            .map(|asset| {
                let hash = hex::encode(Sha256::digest(asset.body));
                let short = hash.get(..10).unwrap_or(&hash);
                let hashed = match asset.name.rsplit_once('.') {
                    Some((stem, ext)) => format!("{stem}.{short}.{ext}"),
                    None => format!("{}.{short}", asset.name),
                };
                Prepared {
                    asset,
                    hashed,
                    gzip: gzip(asset.body),
                }
            })
            .collect()
    })
}

fn gzip(body: &[u8]) -> Vec<u8> {
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    match enc.write_all(body).and_then(|()| enc.finish()) {
        Ok(z) if z.len() < body.len() => z,
        _ => Vec::new(),
    }
}

/// The URL of an embedded file under its hashed name, for templates.
pub fn url(name: &str) -> String {
    prepared()
        .iter()
        .find(|p| p.asset.name == name)
        .map(|p| format!("/static/{}", p.hashed))
        .unwrap_or_else(|| format!("/static/{name}"))
}

/// `GET /static/{file}`.
pub async fn serve(Path(file): Path<String>, headers: HeaderMap) -> Result<Response, AppError> {
    let (p, immutable) = prepared()
        .iter()
        .find_map(|p| {
            if p.hashed == file {
                Some((p, true))
            } else if p.asset.name == file {
                Some((p, false))
            } else {
                None
            }
        })
        .ok_or(AppError::NotFound)?;
    let cache = if immutable {
        "public, max-age=31536000, immutable"
    } else {
        "public, max-age=300"
    };
    let takes_gzip = headers
        .get(header::ACCEPT_ENCODING)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.split(',').any(|e| e.trim().starts_with("gzip")));
    let mut res = if takes_gzip && !p.gzip.is_empty() {
        (
            [
                (header::CONTENT_TYPE, p.asset.mime),
                (header::CACHE_CONTROL, cache),
                (header::CONTENT_ENCODING, "gzip"),
            ],
            p.gzip.clone(),
        )
            .into_response()
    } else {
        (
            [
                (header::CONTENT_TYPE, p.asset.mime),
                (header::CACHE_CONTROL, cache),
            ],
            p.asset.body,
        )
            .into_response()
    };
    res.headers_mut().insert(
        header::VARY,
        axum::http::HeaderValue::from_static("Accept-Encoding"),
    );
    Ok(res)
}
