//! The test harness: a fresh database per test (a temp SQLite file, or a new PostgreSQL
//! database), the Huzhou demo world in it, the real router driven in-process.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, OnceLock};

use axum::Router;
use axum::body::Body;
use axum::http::{Method, Request, StatusCode, header};
use baiqian_store::{Backend, Db};
use baiqian_web::auth::{hash_password, random_token, sha256_hex};
use baiqian_web::clock::ManualClock;
use baiqian_web::{AppState, Config};
use tower::ServiceExt;

/// 2016-03-01 09:30 China time, the campaign's first spring: the demo world's today, as
/// `baiqian demo` serves it.
pub const T0: i64 = baiqian_demo::DEMO_TODAY_MS;

static COUNTER: AtomicUsize = AtomicUsize::new(0);
static DEMO_HASH: OnceLock<String> = OnceLock::new();
static PG_CLEANED: tokio::sync::OnceCell<()> = tokio::sync::OnceCell::const_new();

/// Runs a test body once per backend: `both!(name)` expects `async fn name(app: TestApp)`.
#[macro_export]
macro_rules! both {
    ($name:ident, roster) => {
        mod $name {
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                if let Some(app) = $crate::support::TestApp::with(
                    baiqian_store::Backend::Sqlite,
                    baiqian_demo::Roster::Members,
                )
                .await
                {
                    super::$name(app).await;
                }
            }
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                if let Some(app) = $crate::support::TestApp::with(
                    baiqian_store::Backend::Postgres,
                    baiqian_demo::Roster::Members,
                )
                .await
                {
                    super::$name(app).await;
                }
            }
        }
    };
    ($name:ident) => {
        mod $name {
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                if let Some(app) =
                    $crate::support::TestApp::new(baiqian_store::Backend::Sqlite).await
                {
                    super::$name(app).await;
                }
            }
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                if let Some(app) =
                    $crate::support::TestApp::new(baiqian_store::Backend::Postgres).await
                {
                    super::$name(app).await;
                }
            }
        }
    };
}

pub struct TestApp {
    pub state: AppState,
    pub router: Router,
    pub clock: Arc<ManualClock>,
    pub db: Db,
    /// The evidence directory of this app (removed with it).
    pub evidence_dir: std::path::PathBuf,
    cleanup: Option<Cleanup>,
}

enum Cleanup {
    Sqlite(std::path::PathBuf),
    Postgres { admin_url: String, name: String },
}

/// The PostgreSQL admin URL tests use, e.g. `postgres://postgres@127.0.0.1:5432/postgres`.
pub fn pg_admin_url() -> Option<String> {
    std::env::var("BAIQIAN_TEST_PG")
        .ok()
        .filter(|s| !s.is_empty())
}

fn with_database(admin_url: &str, name: &str) -> String {
    let (base, query) = match admin_url.split_once('?') {
        Some((b, q)) => (b, Some(q)),
        None => (admin_url, None),
    };
    let root = match base.rfind('/') {
        Some(i) if i > "postgres://".len() => &base[..i],
        _ => base,
    };
    match query {
        Some(q) => format!("{root}/{name}?{q}"),
        None => format!("{root}/{name}"),
    }
}

/// The server's warnings and errors go to the test's captured output: an answer 500 in a
/// failing test then shows its cause (an internal error's detail is logged, never answered).
fn log_warnings_into_tests() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        let _ = tracing_subscriber::fmt()
            .with_env_filter(tracing_subscriber::EnvFilter::new("warn"))
            .with_test_writer()
            .try_init();
    });
}

impl TestApp {
    /// A fresh app on `backend`; `None` (the test passes as skipped) only for PostgreSQL when
    /// `BAIQIAN_TEST_PG` is unset. When it is set, an unreachable server fails the test.
    pub async fn new(backend: Backend) -> Option<TestApp> {
        Self::with(backend, baiqian_demo::Roster::Without).await
    }

    /// A fresh app whose demo world has its member roster (68,000 members: slower to build).
    pub async fn with(backend: Backend, roster: baiqian_demo::Roster) -> Option<TestApp> {
        log_warnings_into_tests();
        let n = COUNTER.fetch_add(1, Ordering::SeqCst);
        let (url, cleanup) = match backend {
            Backend::Sqlite => {
                let dir = std::env::temp_dir().join(format!(
                    "baiqian-test-{}-{n}-{}",
                    std::process::id(),
                    &random_token().ok()?[..8]
                ));
                std::fs::create_dir_all(&dir).expect("temp dir");
                let path = dir.join("test.db");
                (format!("sqlite://{}", path.display()), Cleanup::Sqlite(dir))
            }
            Backend::Postgres => {
                let Some(admin_url) = pg_admin_url() else {
                    eprintln!("postgres: skipped (BAIQIAN_TEST_PG is not set)");
                    return None;
                };
                let admin = Db::connect(&admin_url)
                    .await
                    .unwrap_or_else(|e| panic!("BAIQIAN_TEST_PG={admin_url} unreachable: {e}"));
                PG_CLEANED
                    .get_or_init(|| async {
                        // Databases a crashed earlier run left behind: never this process's,
                        // nor those of another test process still running beside this one.
                        let rows: Vec<(String,)> = sqlx::query_as(
                            "SELECT datname::text FROM pg_database WHERE datname LIKE 'bq_test_%'",
                        )
                        .fetch_all(admin.pool())
                        .await
                        .unwrap_or_default();
                        let alive = |d: &str| {
                            d.strip_prefix("bq_test_")
                                .and_then(|rest| rest.split('_').next())
                                .is_some_and(|pid| std::path::Path::new("/proc").join(pid).exists())
                        };
                        for (name,) in rows.into_iter().filter(|(d,)| !alive(d)) {
                            let _ = sqlx::query(&format!(
                                "DROP DATABASE IF EXISTS {name} WITH (FORCE)"
                            ))
                            .execute(admin.pool())
                            .await;
                        }
                    })
                    .await;
                let name = format!("bq_test_{}_{n}", std::process::id());
                sqlx::query(&format!("CREATE DATABASE {name}"))
                    .execute(admin.pool())
                    .await
                    .expect("create test database");
                admin.close().await;
                (
                    with_database(&admin_url, &name),
                    Cleanup::Postgres { admin_url, name },
                )
            }
        };
        let db = Db::connect(&url)
            .await
            .unwrap_or_else(|e| panic!("connect {url}: {e}"));
        assert_eq!(db.backend(), backend);
        db.migrate().await.expect("migrate");
        let hash =
            DEMO_HASH.get_or_init(|| hash_password(baiqian_demo::DEMO_PASSWORD).expect("hash"));
        let hasher = move |_: &str| hash.clone();
        let vault = baiqian_store::vault::Vault::random().expect("vault");
        baiqian_demo::build(&db, &vault, baiqian_demo::DEFAULT_SEED, &hasher, roster, T0)
            .await
            .expect("demo world");
        let clock = Arc::new(ManualClock::new(T0 + 60_000));
        let evidence_dir = std::env::temp_dir().join(format!(
            "baiqian-evidence-{}-{n}-{}",
            std::process::id(),
            &random_token().ok()?[..8]
        ));
        let config = Config {
            evidence_dir: Some(evidence_dir.clone()),
            // Tests name the caller's address in X-Forwarded-For.
            trusted_proxy: true,
            // Tests sign in with the password alone, but those of the second factor
            // (`TestApp::requiring_second_factor`).
            second_factor: baiqian_domain::second_factor::SecondFactorPolicy::none(),
            ..Config::default()
        };
        let state = AppState::new(db.clone(), vault, clock.clone(), config);
        let router = baiqian_web::app(state.clone());
        Some(TestApp {
            state,
            router,
            clock,
            db,
            evidence_dir,
            cleanup: Some(cleanup),
        })
    }

    /// A second app node on the same database, data key, clock and shared files directory, as a
    /// province runs several behind a balancer: its own memory, router and node name. The
    /// database and files stay the first app's (removed with it).
    pub fn another_node(&self, node: &str) -> TestApp {
        let config = Config {
            node: node.into(),
            ..(*self.state.config).clone()
        };
        let state = AppState::new(
            self.db.clone(),
            (*self.state.vault).clone(),
            self.clock.clone(),
            config,
        );
        TestApp {
            router: baiqian_web::app(state.clone()),
            state,
            clock: self.clock.clone(),
            db: self.db.clone(),
            evidence_dir: self.evidence_dir.clone(),
            cleanup: None,
        }
    }

    /// The same app (database, data key, clock) served with the campaign's second-factor rule:
    /// administrations and auditors must sign in with two steps.
    pub fn requiring_second_factor(mut self) -> TestApp {
        let config = Config {
            second_factor: baiqian_domain::second_factor::SecondFactorPolicy::default(),
            ..(*self.state.config).clone()
        };
        self.state = AppState::new(
            self.db.clone(),
            (*self.state.vault).clone(),
            self.clock.clone(),
            config,
        );
        self.router = baiqian_web::app(self.state.clone());
        self
    }

    pub async fn request(&self, req: Request<Body>) -> TestResponse {
        let res = self
            .router
            .clone()
            .oneshot(req)
            .await
            .expect("infallible router");
        let status = res.status();
        let headers = res.headers().clone();
        let body = axum::body::to_bytes(res.into_body(), 64 * 1024 * 1024)
            .await
            .expect("body")
            .to_vec();
        TestResponse {
            status,
            headers,
            body,
        }
    }

    pub async fn get(&self, path: &str, who: &Who) -> TestResponse {
        let req = who
            .apply(Request::builder().method(Method::GET).uri(path))
            .body(Body::empty())
            .expect("request");
        self.request(req).await
    }

    /// Posts a form; with a session, the session's CSRF token is added unless `csrf` is given.
    pub async fn post_form(&self, path: &str, fields: &[(&str, &str)], who: &Who) -> TestResponse {
        self.post_form_with(path, fields, who, &[]).await
    }

    /// Posts a form as the page's htmx does (`HX-Request: true`).
    pub async fn post_form_htmx(
        &self,
        path: &str,
        fields: &[(&str, &str)],
        who: &Who,
    ) -> TestResponse {
        self.post_form_with(path, fields, who, &[("hx-request", "true")])
            .await
    }

    async fn post_form_with(
        &self,
        path: &str,
        fields: &[(&str, &str)],
        who: &Who,
        headers: &[(&str, &str)],
    ) -> TestResponse {
        let mut ser = form_urlencoded::Serializer::new(String::new());
        if let Who::Session(s) = who
            && !fields.iter().any(|(k, _)| *k == "csrf")
        {
            ser.append_pair("csrf", &s.csrf);
        }
        for (k, v) in fields {
            ser.append_pair(k, v);
        }
        let mut req = who
            .apply(Request::builder().method(Method::POST).uri(path))
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded");
        for (k, v) in headers {
            req = req.header(*k, *v);
        }
        let req = req.body(Body::from(ser.finish())).expect("request");
        self.request(req).await
    }

    pub async fn post_json(&self, path: &str, body: &serde_json::Value, who: &Who) -> TestResponse {
        let req = who
            .apply(Request::builder().method(Method::POST).uri(path))
            .header(header::CONTENT_TYPE, "application/json")
            .body(Body::from(body.to_string()))
            .expect("request");
        self.request(req).await
    }

    /// Uploads a file as the import form does.
    pub async fn post_file(&self, path: &str, file: &[u8], mode: &str, who: &Who) -> TestResponse {
        self.post_multipart(path, &[("mode", mode)], &[("file", "t.xlsx", file)], who)
            .await
    }

    /// Posts a multipart form: text fields and files `(field, file name, bytes)`; with a session,
    /// the CSRF token goes first in a `csrf` field, as the pages' upload forms send it.
    pub async fn post_multipart(
        &self,
        path: &str,
        fields: &[(&str, &str)],
        files: &[(&str, &str, &[u8])],
        who: &Who,
    ) -> TestResponse {
        self.post_multipart_with(path, fields, files, who, &[])
            .await
    }

    /// Posts a multipart form as the page's htmx does (`HX-Request: true`).
    pub async fn post_multipart_htmx(
        &self,
        path: &str,
        fields: &[(&str, &str)],
        files: &[(&str, &str, &[u8])],
        who: &Who,
    ) -> TestResponse {
        self.post_multipart_with(path, fields, files, who, &[("hx-request", "true")])
            .await
    }

    async fn post_multipart_with(
        &self,
        path: &str,
        fields: &[(&str, &str)],
        files: &[(&str, &str, &[u8])],
        who: &Who,
        headers: &[(&str, &str)],
    ) -> TestResponse {
        let boundary = "XbaiqianBoundaryX";
        let mut body = Vec::new();
        let csrf = match who {
            Who::Session(s) if !fields.iter().any(|(k, _)| *k == "csrf") => {
                Some(("csrf", s.csrf.as_str()))
            }
            _ => None,
        };
        for (k, v) in csrf.iter().chain(fields.iter()) {
            body.extend_from_slice(
                format!(
                    "--{boundary}\r\nContent-Disposition: form-data; name=\"{k}\"\r\n\r\n{v}\r\n"
                )
                .as_bytes(),
            );
        }
        for (k, name, bytes) in files {
            body.extend_from_slice(
                format!("--{boundary}\r\nContent-Disposition: form-data; name=\"{k}\"; filename=\"{name}\"\r\nContent-Type: application/octet-stream\r\n\r\n")
                    .as_bytes(),
            );
            body.extend_from_slice(bytes);
            body.extend_from_slice(b"\r\n");
        }
        body.extend_from_slice(format!("--{boundary}--\r\n").as_bytes());
        let mut req = who
            .apply(Request::builder().method(Method::POST).uri(path))
            .header(
                header::CONTENT_TYPE,
                format!("multipart/form-data; boundary={boundary}"),
            );
        for (k, v) in headers {
            req = req.header(*k, *v);
        }
        let req = req.body(Body::from(body)).expect("request");
        self.request(req).await
    }

    /// Posts a multipart form whose file is `mb` MB of `a` with no line end, generated as it is
    /// sent: the test holds none of it, so a peak read afterwards is the server's.
    #[allow(dead_code, reason = "the hostile-input binary's, not every binary's")]
    pub async fn post_multipart_streamed_line(
        &self,
        path: &str,
        fields: &[(&str, &str)],
        file_name: &str,
        mb: usize,
        who: &Who,
    ) -> TestResponse {
        let boundary = "XbaiqianBoundaryX";
        let mut head = String::new();
        if let Who::Session(s) = who {
            head.push_str(&format!(
                "--{boundary}\r\nContent-Disposition: form-data; name=\"csrf\"\r\n\r\n{}\r\n",
                s.csrf
            ));
        }
        for (k, v) in fields {
            head.push_str(&format!(
                "--{boundary}\r\nContent-Disposition: form-data; name=\"{k}\"\r\n\r\n{v}\r\n"
            ));
        }
        head.push_str(&format!("--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{file_name}\"\r\nContent-Type: text/csv\r\n\r\n"));
        let chunk = axum::body::Bytes::from(vec![b'a'; 1 << 20]);
        let parts = std::iter::once(axum::body::Bytes::from(head))
            .chain(std::iter::repeat_n(chunk, mb))
            .chain(std::iter::once(axum::body::Bytes::from(format!(
                "\r\n--{boundary}--\r\n"
            ))))
            .map(Ok::<_, std::io::Error>);
        let req = who
            .apply(Request::builder().method(Method::POST).uri(path))
            .header(
                header::CONTENT_TYPE,
                format!("multipart/form-data; boundary={boundary}"),
            )
            .body(Body::from_stream(futures_util::stream::iter(parts)))
            .expect("request");
        self.request(req).await
    }

    /// The node with `code`, looked up with the whole tree in scope (tests read as the system).
    pub async fn node(&self, code: &str) -> baiqian_store::kernel::Node {
        let code = baiqian_domain::org::OrgCode::parse(code).expect("a valid code");
        self.db
            .org(&baiqian_domain::scope::Scope::everything(), &code)
            .await
            .expect("the node exists")
    }

    /// A bearer token for a demo login.
    pub async fn token(&self, login: &str) -> Who {
        let user = self
            .db
            .user_by_login(login)
            .await
            .expect("db")
            .expect("demo login exists");
        let token = random_token().expect("random");
        self.db
            .issue_token(&baiqian_store::Actor::cli(), &user, &sha256_hex(&token), T0)
            .await
            .expect("token");
        Who::Bearer(token)
    }

    /// Logs in through the real login form; returns the session cookie and its CSRF token.
    pub async fn login(&self, login: &str) -> Who {
        match self.try_login(login, baiqian_demo::DEMO_PASSWORD).await {
            Ok(who) => who,
            Err(res) => panic!("login {login} failed: {} {}", res.status, res.text()),
        }
    }

    pub async fn try_login(&self, login: &str, password: &str) -> Result<Who, TestResponse> {
        self.try_login_from(login, password, None).await
    }

    /// The login page's pre-session CSRF cookie and token.
    pub async fn login_form(&self) -> (String, String) {
        let form = self.get("/login", &Who::Anonymous).await;
        assert_eq!(form.status, StatusCode::OK);
        let pre = form.cookie("bq_login_csrf").expect("login csrf cookie");
        let csrf = form
            .between("name=\"csrf\" value=\"", "\"")
            .expect("csrf field");
        (pre, csrf)
    }

    /// Posts the login form (`form` from `login_form`), from `address` when given (the tests'
    /// server trusts `X-Forwarded-For`).
    pub async fn post_login(
        &self,
        form: &(String, String),
        login: &str,
        password: &str,
        address: Option<&str>,
    ) -> TestResponse {
        let body = form_urlencoded::Serializer::new(String::new())
            .append_pair("csrf", &form.1)
            .append_pair("login", login)
            .append_pair("password", password)
            .append_pair("next", "/")
            .finish();
        let mut req = Request::builder()
            .method(Method::POST)
            .uri("/login")
            .header(header::COOKIE, format!("bq_login_csrf={}", form.0))
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded");
        if let Some(a) = address {
            req = req.header("x-forwarded-for", a);
        }
        self.request(req.body(Body::from(body)).expect("request"))
            .await
    }

    pub async fn try_login_from(
        &self,
        login: &str,
        password: &str,
        address: Option<&str>,
    ) -> Result<Who, TestResponse> {
        let form = self.login_form().await;
        let res = self.post_login(&form, login, password, address).await;
        if res.status != StatusCode::SEE_OTHER {
            return Err(res);
        }
        let cookie = res.cookie("bq_session").expect("session cookie");
        let mut who = Who::Session(Session {
            cookie,
            csrf: String::new(),
        });
        let page = self.get("/", &who).await;
        assert_eq!(page.status, StatusCode::OK, "{}", page.text());
        let csrf = page
            .between("<meta name=\"csrf-token\" content=\"", "\"")
            .expect("csrf meta");
        if let Who::Session(s) = &mut who {
            s.csrf = csrf;
        }
        Ok(who)
    }

    /// Follows a job until it ends; its view (`GET /api/v1/jobs/{id}`).
    pub async fn finished_job(&self, id: i64, who: &Who) -> serde_json::Value {
        for _ in 0..3000 {
            let res = self.get(&format!("/api/v1/jobs/{id}"), who).await;
            assert_eq!(res.status, StatusCode::OK, "{}", res.text());
            let job = res.json();
            if job["status"] != "running" {
                return job;
            }
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
        panic!("job {id} still running after a minute");
    }

    /// The job a redirect (`/jobs/{id}`) points at.
    pub fn job_of(res: &TestResponse) -> i64 {
        res.location()
            .and_then(|l| l.strip_prefix("/jobs/").and_then(|id| id.parse().ok()))
            .unwrap_or_else(|| panic!("not a job's page: {:?} {}", res.location(), res.text()))
    }

    pub async fn audit_count(&self) -> i64 {
        self.db.audit_count().await.expect("audit count")
    }

    pub async fn org_count(&self) -> i64 {
        self.db.org_count_all().await.expect("org count")
    }
}

impl Drop for TestApp {
    fn drop(&mut self) {
        if self.cleanup.is_none() {
            // Another node of the app: the files are the first app's.
            return;
        }
        let _ = std::fs::remove_dir_all(&self.evidence_dir);
        let _ = std::fs::remove_dir_all(self.evidence_dir.with_extension("jobs"));
        match self.cleanup.take() {
            Some(Cleanup::Sqlite(dir)) => {
                let _ = std::fs::remove_dir_all(dir);
            }
            Some(Cleanup::Postgres { admin_url, name }) => {
                // Drop runs outside async; a thread with its own runtime removes the database.
                let _ = std::thread::spawn(move || {
                    let Ok(rt) = tokio::runtime::Builder::new_current_thread()
                        .enable_all()
                        .build()
                    else {
                        return;
                    };
                    rt.block_on(async {
                        if let Ok(admin) = Db::connect(&admin_url).await {
                            let _ = sqlx::query(&format!(
                                "DROP DATABASE IF EXISTS {name} WITH (FORCE)"
                            ))
                            .execute(admin.pool())
                            .await;
                            admin.close().await;
                        }
                    });
                })
                .join();
            }
            None => {}
        }
    }
}

#[derive(Clone, Debug)]
pub struct Session {
    pub cookie: String,
    pub csrf: String,
}

#[derive(Clone, Debug)]
pub enum Who {
    Anonymous,
    Bearer(String),
    Session(Session),
}

impl Who {
    fn apply(&self, b: axum::http::request::Builder) -> axum::http::request::Builder {
        match self {
            Who::Anonymous => b,
            Who::Bearer(t) => b.header(header::AUTHORIZATION, format!("Bearer {t}")),
            Who::Session(s) => b.header(header::COOKIE, format!("bq_session={}", s.cookie)),
        }
    }

    pub fn with_lang(&self, lang: &str) -> WhoLang {
        WhoLang(self.clone(), lang.to_string())
    }
}

/// A session with a language cookie, for pages in English.
pub struct WhoLang(pub Who, pub String);

impl TestApp {
    pub async fn get_lang(&self, path: &str, who: &WhoLang) -> TestResponse {
        let cookie = match &who.0 {
            Who::Session(s) => format!("bq_session={}; bq_lang={}", s.cookie, who.1),
            _ => format!("bq_lang={}", who.1),
        };
        let req = Request::builder()
            .method(Method::GET)
            .uri(path)
            .header(header::COOKIE, cookie)
            .body(Body::empty())
            .expect("request");
        self.request(req).await
    }
}

#[derive(Debug)]
pub struct TestResponse {
    pub status: StatusCode,
    pub headers: axum::http::HeaderMap,
    pub body: Vec<u8>,
}

impl TestResponse {
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).to_string()
    }

    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.text()))
    }

    pub fn cookie(&self, name: &str) -> Option<String> {
        self.headers
            .get_all(header::SET_COOKIE)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .find_map(|v| {
                let first = v.split(';').next()?;
                let (k, val) = first.split_once('=')?;
                (k.trim() == name).then(|| val.to_string())
            })
    }

    pub fn set_cookie_header(&self, name: &str) -> Option<String> {
        self.headers
            .get_all(header::SET_COOKIE)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .find(|v| v.starts_with(&format!("{name}=")))
            .map(str::to_string)
    }

    pub fn location(&self) -> Option<String> {
        self.headers
            .get(header::LOCATION)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string)
    }

    /// The text between the first `start` and the next `end`.
    pub fn between(&self, start: &str, end: &str) -> Option<String> {
        between(&self.text(), start, end)
    }

    pub fn error_code(&self) -> String {
        self.json()["error"]["code"]
            .as_str()
            .unwrap_or_default()
            .to_string()
    }
}

/// Builds an `.xlsx` file from rows of text cells (the first row is the header).
/// The text of `t` between the first `start` and the next `end`.
pub fn between(t: &str, start: &str, end: &str) -> Option<String> {
    let i = t.find(start)? + start.len();
    let j = t[i..].find(end)? + i;
    Some(t[i..j].to_string())
}

/// The peak resident memory of this test process so far (VmHWM), in MB: read by the test
/// binaries of their own (`hostile`, `flood`) at their end.
#[allow(dead_code)]
pub fn peak_rss_mb() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").expect("/proc/self/status");
    status
        .lines()
        .find(|l| l.starts_with("VmHWM:"))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|n| n.parse::<u64>().ok())
        .expect("VmHWM in /proc/self/status")
        / 1024
}

pub fn xlsx(rows: &[Vec<&str>]) -> Vec<u8> {
    let mut wb = rust_xlsxwriter::Workbook::new();
    let ws = wb.add_worksheet();
    for (r, row) in rows.iter().enumerate() {
        for (c, cell) in row.iter().enumerate() {
            ws.write_string(r as u32, c as u16, *cell).expect("cell");
        }
    }
    wb.save_to_buffer().expect("xlsx")
}

/// Demo codes used across tests.
pub mod codes {
    pub const CITY: &str = "330500";
    pub const CHANGXING: &str = "330522";
    pub const WUXING: &str = "330502";
    pub const MEISHAN: &str = baiqian_demo::MEISHAN;
    pub const XINMIN: &str = baiqian_demo::XINMIN;
    pub const LONGSHAN: &str = baiqian_demo::LONGSHAN;
    /// 洪桥镇, another township of 长兴县.
    pub const HONGQIAO: &str = "330522101";
    /// 潼桥村, the first village of 洪桥镇.
    pub const TONGQIAO: &str = "330522101201";
}
