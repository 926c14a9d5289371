//! A local stand-in for the Hugging Face hub: an HTTP/1.1 server on `127.0.0.1` that serves
//! repositories held in memory through the endpoints `hf-hub` uses for downloads:
//!
//! * `GET /api/{models|datasets}/{org}/{name}/revision/{rev}`: `{"id", "sha", "siblings"}`;
//! * `GET /api/{models|datasets}/{org}/{name}/tree/{rev}[?recursive=true]`: the file entries;
//! * `HEAD` / `GET /[datasets/]{org}/{name}/resolve/{rev}/{path}`: the file, with the headers
//!   the hub sends (`ETag`, `X-Repo-Commit`, `Content-Length`);
//! * anything else: `404` with the hub's `X-Error-Code` (`RepoNotFound`, `RevisionNotFound`,
//!   `EntryNotFound`).
//!
//! It counts the requests it answers, so tests can check that a cached or offline lookup made
//! none. Point a [`crate::Hub`] at it with [`crate::HubOptions::endpoint`] = [`MockHub::endpoint`].

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;

use sha2::{Digest, Sha256};

use crate::RepoKind;

/// One repository served by [`MockHub`].
#[derive(Debug, Clone)]
pub struct MockRepo {
    /// Model or dataset.
    pub kind: RepoKind,
    /// `org/name`.
    pub id: String,
    /// The 40-hex commit that `main` (and the commit itself) resolves to.
    pub commit: String,
    /// Repository path -> content.
    pub files: BTreeMap<String, Vec<u8>>,
}

impl MockRepo {
    /// A repository with the given files at a commit derived from its id and contents.
    pub fn new(kind: RepoKind, id: &str, files: BTreeMap<String, Vec<u8>>) -> Self {
        let mut h = Sha256::new();
        h.update(id.as_bytes());
        for (p, c) in &files {
            h.update(p.as_bytes());
            h.update(c);
        }
        let commit = hex(&h.finalize())[..40].to_string();
        MockRepo {
            kind,
            id: id.to_string(),
            commit,
            files,
        }
    }
}

/// The running server; stops when dropped.
pub struct MockHub {
    addr: std::net::SocketAddr,
    requests: Arc<AtomicUsize>,
    stop: Arc<AtomicBool>,
}

impl MockHub {
    /// Start serving `repos` on a free port of `127.0.0.1`.
    pub fn start(repos: Vec<MockRepo>) -> std::io::Result<Self> {
        let listener = TcpListener::bind("127.0.0.1:0")?;
        let addr = listener.local_addr()?;
        let requests = Arc::new(AtomicUsize::new(0));
        let stop = Arc::new(AtomicBool::new(false));
        let repos = Arc::new(repos);
        let (r, s) = (requests.clone(), stop.clone());
        std::thread::spawn(move || {
            for conn in listener.incoming() {
                if s.load(Ordering::SeqCst) {
                    break;
                }
                let Ok(conn) = conn else { continue };
                let (repos, r) = (repos.clone(), r.clone());
                std::thread::spawn(move || serve(conn, &repos, &r));
            }
        });
        Ok(MockHub {
            addr,
            requests,
            stop,
        })
    }

    /// The base URL to use as the hub endpoint.
    pub fn endpoint(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// How many requests were answered so far.
    pub fn requests(&self) -> usize {
        self.requests.load(Ordering::SeqCst)
    }
}

impl Drop for MockHub {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        // Wake the accept loop so it sees the flag.
        let _ = TcpStream::connect(self.addr);
    }
}

/// Lower-case hex of `bytes`.
fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// A response: status, extra headers, body (not sent for `HEAD`).
type Response = (u16, Vec<(String, String)>, Vec<u8>);

/// Answer the requests of one connection (keep-alive) until the client closes it.
fn serve(conn: TcpStream, repos: &[MockRepo], count: &AtomicUsize) {
    let Ok(mut out) = conn.try_clone() else {
        return;
    };
    let mut reader = BufReader::new(conn);
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line).unwrap_or(0) == 0 {
            return;
        }
        let mut parts = line.split_whitespace();
        let (method, target) = (
            parts.next().unwrap_or("").to_string(),
            parts.next().unwrap_or("").to_string(),
        );
        let mut body_len = 0usize;
        loop {
            let mut h = String::new();
            if reader.read_line(&mut h).unwrap_or(0) == 0 {
                return;
            }
            let h = h.trim_end();
            if h.is_empty() {
                break;
            }
            if let Some((k, v)) = h.split_once(':') {
                if k.eq_ignore_ascii_case("content-length") {
                    body_len = v.trim().parse().unwrap_or(0);
                }
            }
        }
        let mut skip = vec![0u8; body_len];
        if std::io::Read::read_exact(&mut reader, &mut skip).is_err() {
            return;
        }
        count.fetch_add(1, Ordering::SeqCst);
        let (status, headers, body) = route(&method, &target, repos);
        let reason = match status {
            200 => "OK",
            404 => "Not Found",
            _ => "Error",
        };
        let mut head = format!(
            "HTTP/1.1 {status} {reason}\r\nContent-Length: {}\r\nConnection: keep-alive\r\n",
            body.len()
        );
        for (k, v) in headers {
            head.push_str(&format!("{k}: {v}\r\n"));
        }
        head.push_str("\r\n");
        let mut msg = head.into_bytes();
        if method != "HEAD" {
            msg.extend_from_slice(&body);
        }
        if out.write_all(&msg).is_err() {
            return;
        }
    }
}

/// Undo percent-encoding (`%2F` and friends).
fn decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' && i + 2 < b.len() {
            if let Ok(v) = u8::from_str_radix(&s[i + 1..i + 3], 16) {
                out.push(v);
                i += 3;
                continue;
            }
        }
        out.push(b[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// A 404 with the hub's error code.
fn not_found(code: &str) -> Response {
    (
        404,
        vec![
            ("X-Error-Code".into(), code.into()),
            ("Content-Type".into(), "application/json".into()),
        ],
        format!("{{\"error\":\"{code}\"}}").into_bytes(),
    )
}

/// JSON 200.
fn json(v: serde_json::Value) -> Response {
    (
        200,
        vec![("Content-Type".into(), "application/json".into())],
        v.to_string().into_bytes(),
    )
}

/// Find `org/name` of `kind` at the start of `segs`; returns the repo and the rest.
fn find_repo<'a, 'b>(
    repos: &'a [MockRepo],
    kind: RepoKind,
    segs: &'b [String],
) -> Option<(&'a MockRepo, &'b [String])> {
    if segs.len() < 2 {
        return None;
    }
    let id = format!("{}/{}", segs[0], segs[1]);
    repos
        .iter()
        .find(|r| r.kind == kind && r.id == id)
        .map(|r| (r, &segs[2..]))
}

/// Whether `rev` names the repository's one commit.
fn rev_ok(repo: &MockRepo, rev: &str) -> bool {
    rev == "main" || rev == repo.commit
}

fn route(method: &str, target: &str, repos: &[MockRepo]) -> Response {
    let path = target.split('?').next().unwrap_or("");
    let segs: Vec<String> = path
        .split('/')
        .filter(|s| !s.is_empty())
        .map(decode)
        .collect();
    // API: /api/{models|datasets}/{org}/{name}/{revision|tree}/{rev}
    if segs.first().map(String::as_str) == Some("api") && segs.len() >= 2 {
        let kind = match segs[1].as_str() {
            "models" => RepoKind::Model,
            "datasets" => RepoKind::Dataset,
            _ => return not_found("RepoNotFound"),
        };
        let Some((repo, rest)) = find_repo(repos, kind, &segs[2..]) else {
            return not_found("RepoNotFound");
        };
        return match rest {
            [op, rev, ..] if (op == "revision" || op == "tree") && !rev_ok(repo, rev) => {
                not_found("RevisionNotFound")
            }
            [op, _] if op == "revision" => json(serde_json::json!({
                "id": repo.id,
                "sha": repo.commit,
                "siblings": repo.files.keys().map(|k| serde_json::json!({"rfilename": k})).collect::<Vec<_>>(),
            })),
            [op, _, sub @ ..] if op == "tree" => {
                let prefix = sub.join("/");
                let entries: Vec<_> = repo
                    .files
                    .iter()
                    .filter(|(p, _)| prefix.is_empty() || p.starts_with(&format!("{prefix}/")))
                    .map(|(p, c)| {
                        serde_json::json!({"type": "file", "oid": etag(c), "size": c.len(), "path": p})
                    })
                    .collect();
                json(serde_json::Value::Array(entries))
            }
            _ => not_found("EntryNotFound"),
        };
    }
    // Downloads: /[datasets/]{org}/{name}/resolve/{rev}/{path...}
    let (kind, rest) = match segs.first().map(String::as_str) {
        Some("datasets") => (RepoKind::Dataset, &segs[1..]),
        _ => (RepoKind::Model, &segs[..]),
    };
    let Some((repo, rest)) = find_repo(repos, kind, rest) else {
        return not_found("RepoNotFound");
    };
    match rest {
        [op, rev, file @ ..] if op == "resolve" && !file.is_empty() => {
            if !rev_ok(repo, rev) {
                return not_found("RevisionNotFound");
            }
            let name = file.join("/");
            match repo.files.get(&name) {
                Some(c) if method == "HEAD" || method == "GET" => (
                    200,
                    vec![
                        ("ETag".into(), format!("\"{}\"", etag(c))),
                        ("X-Repo-Commit".into(), repo.commit.clone()),
                        ("Content-Type".into(), "application/octet-stream".into()),
                    ],
                    c.clone(),
                ),
                _ => not_found("EntryNotFound"),
            }
        }
        _ => not_found("EntryNotFound"),
    }
}

/// The ETag the hub gives an LFS file: its SHA-256.
fn etag(content: &[u8]) -> String {
    hex(&Sha256::digest(content))
}
