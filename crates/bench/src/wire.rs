//! Plain HTTP/1.1 to the release server, one connection per request (what a browser's first
//! visit costs), and its login form: shared by the benches that drive a running server.

use std::path::Path;
use std::process::Stdio;
use std::time::Duration;

use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;

use crate::BoxError;

/// One request on a connection of its own: status, headers (lower-case names), body.
pub async fn http(
    port: u16,
    head: &str,
    body: &[u8],
) -> Result<(u16, Vec<(String, String)>, Vec<u8>), BoxError> {
    let mut s = TcpStream::connect(("127.0.0.1", port)).await?;
    s.write_all(
        format!(
            "{head}Host: b\r\nConnection: close\r\nContent-Length: {}\r\n\r\n",
            body.len()
        )
        .as_bytes(),
    )
    .await?;
    s.write_all(body).await?;
    let mut raw = Vec::new();
    s.read_to_end(&mut raw).await?;
    let split = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .ok_or("no header end")?;
    let text = String::from_utf8_lossy(&raw[..split]).to_string();
    let mut lines = text.lines();
    let status = lines
        .next()
        .and_then(|l| l.split(' ').nth(1))
        .ok_or("no status")?
        .parse()?;
    let headers = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_string()))
        .collect();
    Ok((status, headers, raw[split + 4..].to_vec()))
}

/// A kept-alive connection: many requests, one after the other, as a busy client sends them.
pub struct KeepAlive {
    r: BufReader<tokio::net::tcp::OwnedReadHalf>,
    w: tokio::net::tcp::OwnedWriteHalf,
}

impl KeepAlive {
    pub async fn open(port: u16) -> Result<Self, BoxError> {
        let s = TcpStream::connect(("127.0.0.1", port)).await?;
        s.set_nodelay(true)?;
        let (r, w) = s.into_split();
        Ok(Self {
            r: BufReader::new(r),
            w,
        })
    }

    /// Sends one whole request (head and body) and reads its answer; returns the status.
    pub async fn send(&mut self, request: &[u8]) -> Result<u16, BoxError> {
        self.w.write_all(request).await?;
        let mut line = String::new();
        self.r.read_line(&mut line).await?;
        let status: u16 = line.split(' ').nth(1).ok_or("no status")?.parse()?;
        let mut len = 0usize;
        loop {
            line.clear();
            self.r.read_line(&mut line).await?;
            if line == "\r\n" || line.is_empty() {
                break;
            }
            if let Some(v) = line.to_ascii_lowercase().strip_prefix("content-length:") {
                len = v.trim().parse()?;
            }
        }
        let mut body = vec![0u8; len];
        self.r.read_exact(&mut body).await?;
        Ok(status)
    }
}

/// The login page's pre-session cookie and token.
pub async fn login_form(port: u16) -> Result<(String, String), BoxError> {
    let (_, headers, body) = http(port, "GET /login HTTP/1.1\r\n", b"").await?;
    let cookie = headers
        .iter()
        .find(|(k, v)| k == "set-cookie" && v.starts_with("bq_login_csrf="))
        .and_then(|(_, v)| v.split(';').next())
        .ok_or("no login cookie")?
        .to_string();
    let page = String::from_utf8_lossy(&body);
    let at = page.find("name=\"csrf\" value=\"").ok_or("no csrf field")? + 19;
    let token = page[at..].split('"').next().unwrap_or_default().to_string();
    Ok((cookie, token))
}

pub async fn post_login(
    port: u16,
    form: &(String, String),
    login: &str,
    password: &str,
    address: &str,
) -> Result<u16, BoxError> {
    let body = format!("csrf={}&login={login}&password={password}&next=%2F", form.1);
    let head = format!(
        "POST /login HTTP/1.1\r\nCookie: {}\r\nX-Forwarded-For: {address}\r\nContent-Type: application/x-www-form-urlencoded\r\n",
        form.0
    );
    Ok(http(port, &head, body.as_bytes()).await?.0)
}

/// The value (`name=value`) of the `Set-Cookie` of cookie `name`.
pub fn set_cookie(headers: &[(String, String)], name: &str) -> Option<String> {
    headers
        .iter()
        .find(|(k, v)| k == "set-cookie" && v.starts_with(&format!("{name}=")))
        .and_then(|(_, v)| v.split(';').next())
        .map(str::to_string)
}

/// The value of the first `name="csrf" value="…"` field of a page.
pub fn csrf_field(body: &[u8]) -> Option<String> {
    let page = String::from_utf8_lossy(body);
    let at = page.find("name=\"csrf\" value=\"")? + 19;
    page[at..].split('"').next().map(str::to_string)
}

/// Builds the light demo world into a new SQLite file `name.db` in `dir` with the release
/// binary `server`; returns the database URL.
pub fn light_demo(server: &Path, dir: &Path, name: &str) -> Result<String, BoxError> {
    let db = format!("sqlite://{}", dir.join(format!("{name}.db")).display());
    let built = std::process::Command::new(server)
        .args(["demo", "--no-serve", "--light", "--db", &db])
        .stdout(Stdio::null())
        .status()?;
    if !built.success() {
        return Err("the demo world was not built".into());
    }
    Ok(db)
}

/// Starts `server serve` on `db` as shipped (default logging, its log to `dir/server.log`),
/// behind `--trusted-proxy` so one process can speak from many addresses, on a free port; waits
/// for `/healthz`. The server ends with the returned child.
pub async fn start_server(
    server: &Path,
    db: &str,
    dir: &Path,
) -> Result<(tokio::process::Child, u16), BoxError> {
    let port = std::net::TcpListener::bind("127.0.0.1:0")?
        .local_addr()?
        .port();
    let child = tokio::process::Command::new(server)
        .args(["serve", "--trusted-proxy", "--db", db, "--listen"])
        .arg(format!("127.0.0.1:{port}"))
        .env_remove("RUST_LOG")
        .env_remove("BAIQIAN_SECOND_FACTOR_ROLES")
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(dir.join("server.log"))?)
        .kill_on_drop(true)
        .spawn()?;
    for _ in 0..200 {
        if http(port, "GET /healthz HTTP/1.1\r\n", b"").await.is_ok() {
            return Ok((child, port));
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    Err("the server did not answer /healthz".into())
}
