//! Sign-in hardening: TOTP enrolment, verification and recovery codes; lockout and
//! per-address limits; CSRF on cookie-authenticated changes; password changes that end
//! every session; scoped, revocable API tokens.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::support::{Api, Backend, Process, Server, TestDb, seed};

struct Session {
    cookie: String,
    csrf: String,
}

async fn sign_in(
    url: &str,
    email: &str,
    password: &str,
    code: Option<&str>,
) -> (StatusCode, Value, Option<Session>) {
    let resp = reqwest::Client::new()
        .post(format!("{url}/api/session"))
        .json(&json!({ "email": email, "password": password, "code": code }))
        .send()
        .await
        .unwrap();
    let status = resp.status();
    let cookie = resp
        .headers()
        .get("set-cookie")
        .map(|c| c.to_str().unwrap().split(';').next().unwrap().to_owned());
    let body: Value = resp.json().await.unwrap();
    let session = cookie.map(|cookie| Session {
        cookie,
        csrf: body["csrf_token"].as_str().unwrap_or_default().to_owned(),
    });
    (status, body, session)
}

async fn with_cookie(
    url: &str,
    session: &Session,
    method: Method,
    path: &str,
    body: Option<Value>,
    csrf: Option<&str>,
) -> (StatusCode, Value) {
    let mut req = reqwest::Client::new()
        .request(method, format!("{url}{path}"))
        .header("cookie", &session.cookie);
    if let Some(token) = csrf {
        req = req.header("x-csrf-token", token);
    }
    if let Some(body) = body {
        req = req.json(&body);
    }
    let resp = req.send().await.unwrap();
    let status = resp.status();
    (status, resp.json().await.unwrap_or(Value::Null))
}

pub(crate) fn code_now(secret: &str) -> String {
    let bytes = totp_rs::Secret::Encoded(secret.to_owned())
        .to_bytes()
        .unwrap();
    totp_rs::TOTP::new(totp_rs::Algorithm::SHA1, 6, 1, 30, bytes)
        .unwrap()
        .generate_current()
        .unwrap()
}

fn code_at_next_step(secret: &str) -> String {
    let bytes = totp_rs::Secret::Encoded(secret.to_owned())
        .to_bytes()
        .unwrap();
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    totp_rs::TOTP::new(totp_rs::Algorithm::SHA1, 6, 1, 30, bytes)
        .unwrap()
        .generate(now + 30)
}

async fn signin(backend: Backend) {
    let db = TestDb::new(backend).await;
    let store = db.store().await;
    let people = seed(&store).await;
    let server = Server::start(store).await;
    let url = server.url.clone();
    let alice = Api::new(&url, Some(&people.alice));
    let r = alice.report("CLOUDSTACK", "Sign-in scenario").await;

    // TOTP: enrol (the password asked again), confirm with a first code, get recovery codes.
    let (status, _) = alice
        .post(
            "/api/me/totp",
            json!({ "password": "not alice's password" }),
        )
        .await;
    assert_eq!(
        status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "a session alone changes no second factor"
    );
    let (status, setup) = alice
        .post("/api/me/totp", json!({ "password": people.alice_password }))
        .await;
    assert_eq!(status, StatusCode::OK, "{setup}");
    let secret = setup["secret"].as_str().unwrap().to_owned();
    assert!(
        setup["uri"]
            .as_str()
            .unwrap()
            .starts_with("otpauth://totp/Embargo:alice%40example.org?secret=")
    );
    let (status, body) = alice
        .post("/api/me/totp/confirm", json!({ "code": "000000x" }))
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    let first = code_now(&secret);
    let (status, codes) = alice
        .post("/api/me/totp/confirm", json!({ "code": first }))
        .await;
    assert_eq!(status, StatusCode::OK, "{codes}");
    let recovery: Vec<String> = codes["recovery_codes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c.as_str().unwrap().to_owned())
        .collect();
    assert_eq!(recovery.len(), 10);
    let (status, _) = alice
        .post("/api/me/totp", json!({ "password": people.alice_password }))
        .await;
    assert_eq!(
        status,
        StatusCode::CONFLICT,
        "enrolment does not restart silently"
    );

    // The password alone no longer signs in; the code does, once.
    let (status, body, session) =
        sign_in(&url, "alice@example.org", people.alice_password, None).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(body["error"], "code_required");
    assert!(session.is_none());
    // The code used to confirm was this step's: it cannot be replayed; the next step's can.
    let (status, _, _) = sign_in(
        &url,
        "alice@example.org",
        people.alice_password,
        Some(&first),
    )
    .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "a code is good once");
    let next = code_at_next_step(&secret);
    let (status, body, session) = sign_in(
        &url,
        "alice@example.org",
        people.alice_password,
        Some(&next),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let session = session.unwrap();
    let (status, _, _) = sign_in(
        &url,
        "alice@example.org",
        people.alice_password,
        Some(&next),
    )
    .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "replayed");
    // A recovery code signs in once, in any case.
    let (status, _, _) = sign_in(
        &url,
        "alice@example.org",
        people.alice_password,
        Some(&recovery[0].to_uppercase()),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let (status, _, _) = sign_in(
        &url,
        "alice@example.org",
        people.alice_password,
        Some(&recovery[0]),
    )
    .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);

    // CSRF: a change made with the cookie needs the session's token.
    let note = json!({ "text": "from the browser" });
    let path = format!("/api/cases/{r}/notes");
    let (status, body) = with_cookie(
        &url,
        &session,
        Method::POST,
        &path,
        Some(note.clone()),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    assert!(body["message"].as_str().unwrap().contains("X-CSRF-Token"));
    let (status, _) = with_cookie(
        &url,
        &session,
        Method::POST,
        &path,
        Some(note.clone()),
        Some("forged"),
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, _) = with_cookie(
        &url,
        &session,
        Method::POST,
        &path,
        Some(note.clone()),
        Some(&session.csrf),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED);
    let (status, me) = with_cookie(&url, &session, Method::GET, "/api/me", None, None).await;
    assert_eq!(status, StatusCode::OK, "reads need no token");
    assert_eq!(me["csrf_token"], session.csrf.as_str());

    // A password change ends every session.
    let change = json!({ "current": people.alice_password, "new": "a brand new password" });
    let (status, _) = with_cookie(
        &url,
        &session,
        Method::POST,
        "/api/me/password",
        Some(json!({ "current": "wrong one here", "new": "a brand new password" })),
        Some(&session.csrf),
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    let (status, _) = with_cookie(
        &url,
        &session,
        Method::POST,
        "/api/me/password",
        Some(change),
        Some(&session.csrf),
    )
    .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (status, _) = with_cookie(&url, &session, Method::GET, "/api/me", None, None).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "the old session is over");
    let (status, _, _) = sign_in(
        &url,
        "alice@example.org",
        "a brand new password",
        Some(&recovery[1]),
    )
    .await;
    assert_eq!(status, StatusCode::OK);

    // Lockout: five failures lock this client out of the account, even with the right
    // password (another client is not: see attacks::lockout_reveals_nothing_and_locks_no_one_out).
    for _ in 0..5 {
        let (status, _, _) = sign_in(&url, "fiona@example.org", "not fiona's password", None).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
    }
    let fiona_store = db.store().await;
    let fiona = fiona_store
        .user_by_email("fiona@example.org")
        .await
        .unwrap();
    fiona_store
        .set_password(fiona.id, "fiona's real password")
        .await
        .unwrap();
    fiona_store.close().await;
    let (status, body, _) = sign_in(&url, "fiona@example.org", "fiona's real password", None).await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS);
    assert!(
        body["message"]
            .as_str()
            .unwrap()
            .contains("too many failed sign-ins"),
        "{body}"
    );

    // The password change ended alice's API tokens too.
    assert_eq!(alice.get("/api/me").await.0, StatusCode::UNAUTHORIZED);
    let token_store = db.store().await;
    let alice_id = token_store
        .user_by_email("alice@example.org")
        .await
        .unwrap()
        .id;
    let fresh = token_store
        .create_token(alice_id, "after the change")
        .await
        .unwrap();
    token_store.close().await;
    let alice = Api::new(&url, Some(&fresh.secret));

    // Tokens: a read-only token reads and cannot change; a revoked one does nothing.
    let (status, made) = alice
        .post(
            "/api/tokens",
            json!({ "name": "dashboard", "scope": "read", "password": "a brand new password" }),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED);
    let reader = Api::new(&url, made["token"].as_str());
    let (status, _) = reader.get(&format!("/api/cases/{r}")).await;
    assert_eq!(status, StatusCode::OK);
    let (status, body) = reader.post(&path, json!({ "text": "no" })).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert!(body["message"].as_str().unwrap().contains("read-only"));
    let (status, _) = alice
        .request(Method::DELETE, &format!("/api/tokens/{}", made["id"]), None)
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (status, _) = reader.get(&format!("/api/cases/{r}")).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);

    // Tokens are stored as hashes only.
    let db_store = db.store().await;
    db_store.close().await;
    if let embargo_store::Database::Sqlite(path) = db.database() {
        let bytes = std::fs::read(path).unwrap();
        let token = made["token"].as_str().unwrap();
        assert!(!bytes.windows(token.len()).any(|w| w == token.as_bytes()));
    }
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn signin_sqlite() {
    signin(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn signin_postgres() {
    signin(Backend::Postgres).await;
}

async fn an_address_is_limited_whatever_the_account(backend: Backend) {
    let db = TestDb::new(backend).await;
    let store = db.store().await;
    let people = seed(&store).await;
    let server = Server::start(store).await;
    for n in 0..embargo_server::limiter::MAX_FAILURES {
        let (status, _, _) = sign_in(
            &server.url,
            &format!("guess{n}@example.org"),
            "guessing the password",
            None,
        )
        .await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
    }
    let (status, body, _) = sign_in(
        &server.url,
        "alice@example.org",
        people.alice_password,
        None,
    )
    .await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS, "{body}");
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_address_is_limited_whatever_the_account_sqlite() {
    an_address_is_limited_whatever_the_account(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_address_is_limited_whatever_the_account_postgres() {
    an_address_is_limited_whatever_the_account(Backend::Postgres).await;
}

/// A client spreading failed sign-ins over two servers on one database meets the same
/// limit as on one: the events are counted in the database, not in each server.
async fn the_address_limit_holds_across_servers(backend: Backend) {
    let db = TestDb::new(backend).await;
    let store = db.store().await;
    seed(&store).await;
    store.close().await;
    let a = Process::serve(db.command(&[]));
    let b = Process::serve(db.command(&[]));
    let http = reqwest::Client::new();
    let attempt = |url: String, n: usize| {
        let http = http.clone();
        async move {
            http.post(format!("{url}/api/session"))
                .json(&serde_json::json!({
                    "email": format!("guess{n}@example.org"),
                    "password": "guessing the password",
                }))
                .send()
                .await
                .unwrap()
                .status()
        }
    };
    for n in 0..embargo_server::limiter::MAX_FAILURES {
        let url = if n % 2 == 0 { &a.url } else { &b.url };
        assert_eq!(
            attempt(url.clone(), n).await,
            reqwest::StatusCode::UNAUTHORIZED,
            "{backend:?}: attempt {n}"
        );
    }
    for url in [&a.url, &b.url] {
        assert_eq!(
            attempt(url.clone(), 999).await,
            reqwest::StatusCode::TOO_MANY_REQUESTS,
            "{backend:?}: {url} refuses the address after the shared limit"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_address_limit_holds_across_servers_sqlite() {
    the_address_limit_holds_across_servers(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_address_limit_holds_across_servers_postgres() {
    the_address_limit_holds_across_servers(Backend::Postgres).await;
}

/// The proxy of `tests/tools/proxy.py`: round robin over the given servers; stops when
/// dropped.
struct Proxy {
    child: std::process::Child,
    url: String,
}

impl Proxy {
    fn start(backends: &[&Process]) -> Proxy {
        use std::io::BufRead;
        let script = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/tools/proxy.py");
        let mut child = std::process::Command::new("/usr/bin/python3")
            .arg(script)
            .args(
                backends
                    .iter()
                    .map(|p| p.url.rsplit(':').next().unwrap().to_owned()),
            )
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        let mut line = String::new();
        std::io::BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        Proxy {
            child,
            url: format!("http://127.0.0.1:{}", line.trim()),
        }
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        drop(self.child.stdin.take());
        let _ = self.child.wait();
    }
}

/// Two servers behind a reverse proxy they trust (by address): each client is counted by
/// the address the proxy forwards, over both servers together. A client that goes round
/// the proxy cannot choose its address with a forged header.
async fn the_limit_holds_behind_a_trusted_proxy(backend: Backend) {
    let db = TestDb::new(backend).await;
    let store = db.store().await;
    seed(&store).await;
    store.close().await;
    let server = || {
        let mut cmd = db.command(&[]);
        cmd.env("EMBARGO_TRUSTED_PROXIES", "127.0.0.2/32");
        Process::serve(cmd)
    };
    let (a, b) = (server(), server());
    let proxy = Proxy::start(&[&a, &b]);
    // Two clients with addresses of their own on the loopback network.
    let client = |last: u8| {
        reqwest::Client::builder()
            .local_address(std::net::IpAddr::from([127, 0, 0, last]))
            .build()
            .unwrap()
    };
    let (mallory, carol) = (client(3), client(4));
    let attempt = |http: &reqwest::Client, url: &str, forged: Option<&str>| {
        let mut request = http.post(format!("{url}/api/session")).json(&json!({
            "email": format!("guess{}@example.org", rand::random::<u32>()),
            "password": "guessing the password",
        }));
        if let Some(forged) = forged {
            request = request.header("X-Forwarded-For", forged);
        }
        async move {
            let response = request.send().await.unwrap();
            let backend = response
                .headers()
                .get("x-proxy-backend")
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned);
            (response.status(), backend)
        }
    };
    let mut backends = std::collections::BTreeSet::new();
    for n in 0..embargo_server::limiter::MAX_FAILURES {
        // A header the client adds itself changes nothing: the proxy appends the address
        // it saw, and that is the one counted.
        let forged = (n % 3 == 0).then_some("198.51.100.7");
        let (status, via) = attempt(&mallory, &proxy.url, forged).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{backend:?}: attempt {n}");
        backends.insert(via.unwrap());
    }
    assert_eq!(
        backends.len(),
        2,
        "the proxy spread the attempts over both servers"
    );
    for _ in 0..2 {
        let (status, _) = attempt(&mallory, &proxy.url, None).await;
        assert_eq!(status, StatusCode::TOO_MANY_REQUESTS, "{backend:?}");
    }
    // Another client behind the same proxy is its own address.
    let (status, _) = attempt(&carol, &proxy.url, None).await;
    assert_eq!(
        status,
        StatusCode::UNAUTHORIZED,
        "{backend:?}: carol is not mallory"
    );
    // Straight to a server, a forged header is not believed: mallory stays mallory, and
    // carol cannot get mallory locked out or borrow another address.
    let (status, _) = attempt(&mallory, &a.url, Some("203.0.113.9")).await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS, "{backend:?}");
    let (status, _) = attempt(&carol, &b.url, Some("127.0.0.3")).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{backend:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_limit_holds_behind_a_trusted_proxy_sqlite() {
    the_limit_holds_behind_a_trusted_proxy(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_limit_holds_behind_a_trusted_proxy_postgres() {
    the_limit_holds_behind_a_trusted_proxy(Backend::Postgres).await;
}
