//! Files built to take the server down (issue 29), posted to every import route: each is
//! refused with a message naming the limit, nothing is written, the server answers on, and the
//! process's peak memory stays bounded. A binary of its own, so the peak read at the end is
//! this set's (and the demo worlds it builds), not the rest of the suite's.

// A failed expectation in a test is a panic by design.
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "it/support.rs"]
#[allow(dead_code)]
mod support;

use std::io::Write;
use std::sync::LazyLock;

use axum::http::StatusCode;
use baiqian_store::Backend;
use support::codes::{CITY, MEISHAN};
use support::{TestApp, Who, peak_rss_mb};

/// The peak memory the whole set may reach, both backends' worlds included.
const PEAK_RSS_MB: u64 = 300;

/// A valid workbook with a header and one cell at `(row, col)` (0-based): a few kilobytes that
/// address a grid as large as that cell is far.
fn far_cell(row: u32, col: u16) -> Vec<u8> {
    let mut wb = rust_xlsxwriter::Workbook::new();
    let ws = wb.add_worksheet();
    for (c, h) in ["代码", "名称", "层级", "上级代码"].iter().enumerate() {
        ws.write_string(0, c as u16, *h).unwrap();
    }
    ws.write_string(row, col, "x").unwrap();
    wb.save_to_buffer().unwrap()
}

/// One cell at `XFD1048576`, the last an `.xlsx` can address.
static FAR_CELL: LazyLock<Vec<u8>> = LazyLock::new(|| far_cell(1_048_575, 16_383));
/// One cell at row 40,000, column 300.
static DEEP_AND_WIDE: LazyLock<Vec<u8>> = LazyLock::new(|| far_cell(39_999, 299));

/// A zip whose worksheet declares (and unpacks to) 1 GB of zeros: 9.9 MiB sent, just under the
/// 10 MB routes' limit (each copy of it, in the test and in the server, shows in the peak).
static BOMB: LazyLock<Vec<u8>> = LazyLock::new(|| {
    let mut zip = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let opts = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated)
        .compression_level(Some(1))
        .large_file(true);
    zip.start_file("xl/worksheets/sheet1.xml", opts).unwrap();
    let zeros = vec![0u8; 1 << 20];
    for _ in 0..1024 {
        zip.write_all(&zeros).unwrap();
    }
    zip.finish().unwrap().into_inner()
});

/// A CSV of one line: `mb` MB of one field, no line end.
fn one_line_csv(mb: usize) -> Vec<u8> {
    vec![b'a'; mb << 20]
}

/// An `.ods` whose one row with content is repeated a million times (a few hundred bytes).
static ODS_REPEATED: LazyLock<Vec<u8>> = LazyLock::new(|| {
    let mut zip = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let stored =
        zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Stored);
    zip.start_file("mimetype", stored).unwrap();
    zip.write_all(b"application/vnd.oasis.opendocument.spreadsheet")
        .unwrap();
    zip.start_file("content.xml", stored).unwrap();
    zip.write_all(
        br#"<?xml version="1.0" encoding="UTF-8"?>
<office:document-content xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0" xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0"><office:body><office:spreadsheet><table:table table:name="S"><table:table-row table:number-rows-repeated="1000000"><table:table-cell table:number-columns-repeated="50" office:value-type="string"><text:p>x</text:p></table:table-cell></table:table-row></table:table></office:spreadsheet></office:body></office:document-content>"#,
    )
    .unwrap();
    zip.finish().unwrap().into_inner()
});

/// An `.xls` (a compound file with a BIFF8 workbook stream) declaring 4,000,000,000 rows and
/// holding a number at row 65,535, column 255.
static XLS_FAR: LazyLock<Vec<u8>> = LazyLock::new(|| {
    let mut cf = cfb::CompoundFile::create(std::io::Cursor::new(Vec::new())).unwrap();
    let mut biff = Vec::new();
    let mut record = |kind: u16, data: &[u8]| {
        biff.extend_from_slice(&kind.to_le_bytes());
        biff.extend_from_slice(&(data.len() as u16).to_le_bytes());
        biff.extend_from_slice(data);
    };
    record(0x0809, &[0, 6, 0x10, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
    let mut dims = Vec::new();
    dims.extend_from_slice(&0u32.to_le_bytes());
    dims.extend_from_slice(&4_000_000_000u32.to_le_bytes());
    dims.extend_from_slice(&0u16.to_le_bytes());
    dims.extend_from_slice(&256u16.to_le_bytes());
    dims.extend_from_slice(&0u16.to_le_bytes());
    record(0x0200, &dims);
    let mut number = Vec::new();
    number.extend_from_slice(&65_535u16.to_le_bytes());
    number.extend_from_slice(&255u16.to_le_bytes());
    number.extend_from_slice(&0u16.to_le_bytes());
    number.extend_from_slice(&1f64.to_le_bytes());
    record(0x0203, &number);
    record(0x000A, &[]);
    let mut s = cf.create_stream("/Workbook").unwrap();
    s.write_all(&biff).unwrap();
    drop(s);
    cf.flush().unwrap();
    cf.into_inner().into_inner()
});

/// What a refusal must say: one of the limits, in words.
const LIMIT_WORDS: &[&str] = &[
    "行数超过上限",
    "列数超过上限",
    "解压后超过",
    "KB，不是有效的表格行",
    "文件超过",
    "个单元格",
];

struct Route {
    path: String,
    /// Extra form fields the route's form sends.
    fields: Vec<(&'static str, &'static str)>,
    who: Who,
    /// Reads the file in a job: the refusal is the job's outcome.
    job: bool,
}

impl Route {
    fn new(path: String, fields: &[(&'static str, &'static str)], who: &Who, job: bool) -> Route {
        Route {
            path,
            fields: fields.to_vec(),
            who: who.clone(),
            job,
        }
    }
}

async fn routes(app: &TestApp) -> Vec<Route> {
    let city = app.login("city.admin").await;
    let county = app.login("changxing.admin").await;
    let town = app.login("meishan.admin").await;
    let town_token = app.token("meishan.admin").await;
    let mode = [("mode", "all")];
    vec![
        Route::new(format!("/orgs/{CITY}/import"), &mode, &city, false),
        Route::new(
            "/standards".into(),
            &[("code", "HOSTILE"), ("name", "敌意标准")],
            &city,
            false,
        ),
        Route::new(
            format!("/orgs/{MEISHAN}/village-facts/2016"),
            &mode,
            &county,
            false,
        ),
        Route::new(
            format!("/orgs/{MEISHAN}/problems/import"),
            &mode,
            &town,
            false,
        ),
        Route::new(
            format!("/orgs/{MEISHAN}/members/import"),
            &mode,
            &town,
            false,
        ),
        Route::new(
            format!("/api/v1/orgs/{MEISHAN}/members/import"),
            &mode,
            &town_token,
            false,
        ),
        Route::new(
            format!("/api/v1/orgs/{MEISHAN}/members/import-jobs"),
            &mode,
            &town_token,
            true,
        ),
    ]
}

/// The route refused the file (422, or its job ended with the file refused and nothing
/// created), naming one of the limits.
async fn assert_refused_naming_a_limit(
    app: &TestApp,
    r: &Route,
    res: support::TestResponse,
    what: &str,
) {
    let text = if r.job && res.status == StatusCode::ACCEPTED {
        let job = app
            .finished_job(res.json()["id"].as_i64().unwrap(), &r.who)
            .await;
        assert!(job["file_error"].is_string(), "{what} on {}: {job}", r.path);
        assert_eq!(job["created"], 0, "{what} on {}: {job}", r.path);
        job["file_error"].to_string()
    } else {
        assert_eq!(
            res.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{what} on {}: {}",
            r.path,
            res.text()
        );
        res.text()
    };
    assert!(
        LIMIT_WORDS.iter().any(|w| text.contains(w)),
        "{what} on {}: no limit named in {}",
        r.path,
        text.chars().take(2000).collect::<String>()
    );
}

async fn every_hostile_file_is_refused_on_every_import_route(app: TestApp) {
    let files: Vec<(&str, &str, Vec<u8>)> = vec![
        ("far cell XFD1048576", "far.xlsx", FAR_CELL.clone()),
        ("row 40,000 column 300", "deep.xlsx", DEEP_AND_WIDE.clone()),
        ("1 GB bomb", "bomb.xlsx", BOMB.clone()),
        (
            "an .ods of a million rows",
            "rows.ods",
            ODS_REPEATED.clone(),
        ),
        ("an .xls of 4e9 rows", "far.xls", XLS_FAR.clone()),
    ];
    let routes = routes(&app).await;
    eprintln!("world built: peak {} MB", peak_rss_mb());
    let audits = app.audit_count().await;
    let orgs = app.org_count().await;
    for (what, name, file) in &files {
        for r in &routes {
            let res = app
                .post_multipart(&r.path, &r.fields, &[("file", name, file)], &r.who)
                .await;
            assert_refused_naming_a_limit(&app, r, res, what).await;
        }
        eprintln!("{what}: peak {} MB", peak_rss_mb());
    }
    // A 100 MB line, sent as it is made: past the limit of every route but the roster's, where
    // it is read to its first 64 KB.
    for r in &routes {
        let res = app
            .post_multipart_streamed_line(&r.path, &r.fields, "line.csv", 100, &r.who)
            .await;
        assert_refused_naming_a_limit(&app, r, res, "a 100 MB line").await;
    }
    eprintln!("a 100 MB line: peak {} MB", peak_rss_mb());
    assert_eq!(app.audit_count().await, audits, "nothing written");
    assert_eq!(app.org_count().await, orgs, "nothing written");
    let alive = app.get("/healthz", &Who::Anonymous).await;
    assert_eq!(alive.status, StatusCode::OK);
}

/// Larger than a route takes: refused with the route's limit named, before it is read.
async fn an_upload_over_the_limit_names_it(app: TestApp) {
    let town = app.login("meishan.admin").await;
    let audits = app.audit_count().await;
    let big = one_line_csv(11);
    let res = app
        .post_multipart(
            &format!("/orgs/{MEISHAN}/problems/import"),
            &[("mode", "all")],
            &[("file", "big.csv", &big)],
            &town,
        )
        .await;
    assert_eq!(
        res.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        res.text()
    );
    assert!(res.text().contains("文件超过10 MB"), "{}", res.text());
    assert_eq!(app.audit_count().await, audits);
}

/// A password-protected workbook (an encrypted package in a compound file) is refused saying so.
async fn a_password_protected_workbook_says_so(app: TestApp) {
    let mut cf = cfb::CompoundFile::create(std::io::Cursor::new(Vec::new())).unwrap();
    for name in ["/EncryptionInfo", "/EncryptedPackage"] {
        cf.create_stream(name)
            .unwrap()
            .write_all(&[7u8; 600])
            .unwrap();
    }
    cf.flush().unwrap();
    let file = cf.into_inner().into_inner();
    let town = app.login("meishan.admin").await;
    let audits = app.audit_count().await;
    let res = app
        .post_file(
            &format!("/orgs/{MEISHAN}/problems/import"),
            &file,
            "all",
            &town,
        )
        .await;
    assert_eq!(
        res.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        res.text()
    );
    assert!(res.text().contains("密码保护"), "{}", res.text());
    assert_eq!(app.audit_count().await, audits);
}

/// Both stories on SQLite, then on PostgreSQL (when `BAIQIAN_TEST_PG` names it), one after the
/// other in this process, whose peak memory is then read: the worlds, the files and every
/// refusal together stay under `PEAK_RSS_MB`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_files_leave_the_server_up_and_its_memory_bounded() {
    for backend in [Backend::Sqlite, Backend::Postgres] {
        if let Some(app) = TestApp::new(backend).await {
            every_hostile_file_is_refused_on_every_import_route(app).await;
        }
        if let Some(app) = TestApp::new(backend).await {
            an_upload_over_the_limit_names_it(app).await;
        }
        if let Some(app) = TestApp::new(backend).await {
            a_password_protected_workbook_says_so(app).await;
        }
    }
    let peak = peak_rss_mb();
    eprintln!("hostile files: peak RSS of the test process {peak} MB");
    assert!(peak < PEAK_RSS_MB, "peak RSS {peak} MB");
}
