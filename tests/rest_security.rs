//! The REST API's security against the real worker: HTTPS listeners from
//! PEM files (with and without client certificates), the slow-client and
//! header bounds, Basic authentication with roles and hashed passwords,
//! bearer tokens, start-up errors naming the setting, and a cluster of two
//! https workers that forwards a write to its leader with the caller's
//! credentials.

mod support;

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use base64::Engine;
use http_body_util::{BodyExt, Full};
use hyper::body::Bytes;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName};
use serde_json::{Value, json};
use support::tls::{Pki, pki};
use support::{Broker, Worker, cluster_env, eventually, free_port};

/// The settings of https listeners with `pki`'s files.
fn tls_env(pki: &Pki) -> Vec<(String, String)> {
    vec![
        (
            "CONNECT_LISTENERS_HTTPS_SSL_CERTIFICATE_LOCATION".into(),
            pki.cert.display().to_string(),
        ),
        (
            "CONNECT_LISTENERS_HTTPS_SSL_KEY_LOCATION".into(),
            pki.key.display().to_string(),
        ),
    ]
}

/// What an HTTPS client trusts and shows.
#[derive(Clone, Copy)]
struct Client<'a> {
    /// The CA file trusted; `None`: no CA at all.
    ca: Option<&'a Path>,
    /// A client certificate and key.
    identity: Option<(&'a Path, &'a Path)>,
}

struct Answer {
    status: u16,
    headers: hyper::HeaderMap,
    body: Value,
}

/// One request over HTTPS (reqwest here has no TLS: see Cargo.toml).
async fn https(
    client: Client<'_>,
    port: u16,
    method: &str,
    path: &str,
    authorization: Option<&str>,
    body: Option<&Value>,
) -> Result<Answer, String> {
    let mut roots = rustls::RootCertStore::empty();
    if let Some(ca) = client.ca {
        for cert in CertificateDer::pem_file_iter(ca).unwrap() {
            roots.add(cert.unwrap()).unwrap();
        }
    }
    let builder = rustls::ClientConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .unwrap()
    .with_root_certificates(roots);
    let config = match client.identity {
        Some((cert, key)) => builder
            .with_client_auth_cert(
                CertificateDer::pem_file_iter(cert)
                    .unwrap()
                    .map(Result::unwrap)
                    .collect(),
                PrivateKeyDer::from_pem_file(key).unwrap(),
            )
            .unwrap(),
        None => builder.with_no_client_auth(),
    };
    let tcp = tokio::net::TcpStream::connect(("127.0.0.1", port))
        .await
        .map_err(|e| format!("connect: {e}"))?;
    let tls = tokio_rustls::TlsConnector::from(Arc::new(config))
        .connect(ServerName::try_from("127.0.0.1").unwrap(), tcp)
        .await
        .map_err(|e| format!("TLS handshake: {e}"))?;
    let (mut sender, connection) =
        hyper::client::conn::http1::handshake(hyper_util::rt::TokioIo::new(tls))
            .await
            .map_err(|e| format!("HTTP handshake: {e}"))?;
    tokio::spawn(connection);
    let mut request = hyper::Request::builder()
        .method(method)
        .uri(path)
        .header("host", format!("127.0.0.1:{port}"))
        .header("content-type", "application/json");
    if let Some(authorization) = authorization {
        request = request.header("authorization", authorization);
    }
    let body = body.map_or_else(Bytes::new, |b| Bytes::from(b.to_string()));
    let response = sender
        .send_request(request.body(Full::new(body)).unwrap())
        .await
        .map_err(|e| format!("request: {e}"))?;
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    let bytes = response
        .into_body()
        .collect()
        .await
        .map_err(|e| format!("body: {e}"))?
        .to_bytes();
    let text = String::from_utf8_lossy(&bytes).to_string();
    let body = serde_json::from_str(&text).unwrap_or(Value::String(text));
    Ok(Answer {
        status,
        headers,
        body,
    })
}

fn basic(user: &str, password: &str) -> String {
    format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"))
    )
}

/// A worker process whose listeners may be https (the support's `Worker`
/// waits for health over plain http).
struct Process {
    child: Child,
    log: PathBuf,
}

impl Process {
    fn spawn(dir: &Path, env: &[(String, String)]) -> Self {
        std::fs::create_dir_all(dir.join("connectors.d")).unwrap();
        let log = dir.join("worker.log");
        let file = std::fs::File::create(&log).unwrap();
        let child = Command::new(Worker::bin())
            .env_clear()
            .env(
                "CONNECT_CONFIG_STORAGE_FILE_FILENAME",
                dir.join("configs.json"),
            )
            .env("CONNECT_CONNECTORS_DIR", dir.join("connectors.d"))
            .env("CONNECT_CONSUMER_SESSION_TIMEOUT_MS", "6000")
            .env("CONNECT_CONSUMER_HEARTBEAT_INTERVAL_MS", "500")
            .env(
                "RUST_LOG",
                std::env::var("WORKER_RUST_LOG").unwrap_or_else(|_| "info".into()),
            )
            .envs(
                ["PATH", "HOME", "LD_LIBRARY_PATH", "CONNECTHOST_MODEL_DIR"]
                    .iter()
                    .filter_map(|k| std::env::var(k).ok().map(|v| (*k, v))),
            )
            .envs(env.iter().cloned())
            .stdout(Stdio::from(file.try_clone().unwrap()))
            .stderr(Stdio::from(file))
            .spawn()
            .expect("start connect-host");
        Self { child, log }
    }

    /// Start, then wait until `GET /health` answers 200 over https.
    async fn start_https(dir: &Path, port: u16, ca: &Path, env: &[(String, String)]) -> Self {
        let mut process = Self::spawn(dir, env);
        let start = Instant::now();
        let client = Client {
            ca: Some(ca),
            identity: None,
        };
        loop {
            if let Ok(answer) = https(client, port, "GET", "/health", None, None).await
                && answer.status == 200
            {
                return process;
            }
            if let Some(status) = process.child.try_wait().unwrap() {
                panic!("connect-host exited with {status}:\n{}", process.log());
            }
            assert!(
                start.elapsed() < Duration::from_secs(30),
                "worker not healthy over https in 30s:\n{}",
                process.log()
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// Whether this worker leads its cluster now, from its log.
    fn leads(&self) -> bool {
        let log = self.log();
        log.rfind("this worker leads the cluster")
            .is_some_and(|at| {
                log.rfind("no longer the cluster's leader")
                    .is_none_or(|no| no < at)
            })
    }
}

impl Drop for Process {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        if std::thread::panicking() {
            eprintln!(
                "--- worker log ({}) ---\n{}",
                self.log.display(),
                self.log()
            );
        }
    }
}

fn env(pairs: &[(&str, String)]) -> Vec<(String, String)> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.clone()))
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn https_listener_answers_clients_that_trust_its_ca() {
    let dir = tempfile::tempdir().unwrap();
    let pki = pki(dir.path());
    let broker = Broker::start();
    let (http_port, https_port, admin_port) = (free_port(), free_port(), free_port());
    let mut settings = env(&[
        ("CONNECT_BOOTSTRAP_SERVERS", broker.bootstrap()),
        (
            "CONNECT_LISTENERS",
            format!("https://127.0.0.1:{https_port},http://127.0.0.1:{http_port}"),
        ),
        (
            "CONNECT_ADMIN_LISTENERS",
            format!("https://127.0.0.1:{admin_port}"),
        ),
    ]);
    settings.extend(tls_env(&pki));
    let _worker = Process::start_https(dir.path(), https_port, &pki.ca, &settings).await;
    let trusting = Client {
        ca: Some(&pki.ca),
        identity: None,
    };
    for path in ["/", "/connectors"] {
        let answer = https(trusting, https_port, "GET", path, None, None)
            .await
            .unwrap();
        assert_eq!(answer.status, 200, "GET {path}: {}", answer.body);
    }
    let root = https(trusting, https_port, "GET", "/", None, None)
        .await
        .unwrap();
    assert_eq!(root.body["version"], "3.9.0", "{}", root.body);
    // admin.listeners may be https too, with the same files.
    let loggers = https(trusting, admin_port, "GET", "/admin/loggers", None, None)
        .await
        .unwrap();
    assert_eq!(loggers.status, 200, "{}", loggers.body);
    assert!(loggers.body["root"].is_object(), "{}", loggers.body);
    // The second listener of the list is plain http.
    let plain = reqwest::Client::new();
    let over_http = plain
        .get(format!("http://127.0.0.1:{http_port}/connectors"))
        .send()
        .await
        .unwrap();
    assert_eq!(over_http.status(), 200);
    // Plain HTTP to the HTTPS port gets no answer.
    let result = plain
        .get(format!("http://127.0.0.1:{https_port}/connectors"))
        .send()
        .await;
    assert!(
        result.is_err(),
        "plain HTTP answered on the HTTPS port: {result:?}"
    );
    // A client that does not trust the CA refuses the certificate.
    let untrusting = Client {
        ca: None,
        identity: None,
    };
    let refused = https(untrusting, https_port, "GET", "/", None, None).await;
    assert!(
        refused.as_ref().is_err_and(|e| e.contains("TLS")),
        "{:?}",
        refused.map(|a| a.status)
    );
    // HTTPS to the plain listener fails too.
    assert!(
        https(trusting, http_port, "GET", "/", None, None)
            .await
            .is_err()
    );
    // Headers are bounded: 431 beyond 64 KiB.
    let big = plain
        .get(format!("http://127.0.0.1:{http_port}/connectors"))
        .header("x-padding", "a".repeat(70 * 1024))
        .send()
        .await
        .unwrap();
    assert_eq!(big.status(), 431);
    let fine = plain
        .get(format!("http://127.0.0.1:{http_port}/connectors"))
        .header("x-padding", "a".repeat(30 * 1024))
        .send()
        .await
        .unwrap();
    assert_eq!(fine.status(), 200);
}

#[tokio::test(flavor = "multi_thread")]
async fn required_client_certificates_are_checked_against_the_truststore() {
    let dir = tempfile::tempdir().unwrap();
    let pki = pki(dir.path());
    let broker = Broker::start();
    let port = free_port();
    let mut settings = env(&[
        ("CONNECT_BOOTSTRAP_SERVERS", broker.bootstrap()),
        ("CONNECT_LISTENERS", format!("https://127.0.0.1:{port}")),
        ("CONNECT_SSL_CLIENT_AUTH", "required".into()),
        (
            "CONNECT_LISTENERS_HTTPS_SSL_TRUSTSTORE_LOCATION",
            pki.ca.display().to_string(),
        ),
    ]);
    settings.extend(tls_env(&pki));
    let process = Process::spawn(dir.path(), &settings);
    let with_certificate = Client {
        ca: Some(&pki.ca),
        identity: Some((&pki.client_cert, &pki.client_key)),
    };
    let answer = eventually(Duration::from_secs(30), "the worker over mTLS", || async {
        https(with_certificate, port, "GET", "/connectors", None, None)
            .await
            .ok()
    })
    .await;
    assert_eq!(answer.status, 200, "{}", answer.body);
    let without = Client {
        ca: Some(&pki.ca),
        identity: None,
    };
    let refused = https(without, port, "GET", "/connectors", None, None).await;
    assert!(
        refused.is_err(),
        "answered without a client certificate: {:?}",
        refused.map(|a| a.status)
    );
    // A certificate of another CA is refused as well.
    let other = tempfile::tempdir().unwrap();
    let stranger = support::tls::pki(other.path());
    let foreign = Client {
        ca: Some(&pki.ca),
        identity: Some((&stranger.client_cert, &stranger.client_key)),
    };
    assert!(
        https(foreign, port, "GET", "/connectors", None, None)
            .await
            .is_err()
    );
    drop(process);
}

/// Runs the worker until it exits; its exit status and output.
fn start_up_failure(settings: &[(String, String)]) -> (bool, String) {
    let output = Command::new(Worker::bin())
        .env_clear()
        .envs(
            ["PATH", "HOME", "LD_LIBRARY_PATH"]
                .iter()
                .filter_map(|k| std::env::var(k).ok().map(|v| (*k, v))),
        )
        .env("CONNECT_BOOTSTRAP_SERVERS", "127.0.0.1:1")
        .envs(settings.iter().cloned())
        .stdin(Stdio::null())
        .output()
        .unwrap();
    (
        output.status.success(),
        String::from_utf8_lossy(&output.stderr).to_string(),
    )
}

#[test]
fn unusable_tls_and_credentials_files_stop_start_up_naming_the_setting() {
    let dir = tempfile::tempdir().unwrap();
    let pki = pki(dir.path());
    let listeners = (
        "CONNECT_LISTENERS".to_string(),
        format!("https://127.0.0.1:{}", free_port()),
    );
    let missing = dir.path().join("missing.pem");
    let (ok, stderr) = start_up_failure(&[
        listeners.clone(),
        (
            "CONNECT_LISTENERS_HTTPS_SSL_CERTIFICATE_LOCATION".into(),
            missing.display().to_string(),
        ),
        (
            "CONNECT_LISTENERS_HTTPS_SSL_KEY_LOCATION".into(),
            pki.key.display().to_string(),
        ),
    ]);
    assert!(!ok);
    assert!(
        stderr.contains("listeners.https.ssl.certificate.location")
            && stderr.contains(&missing.display().to_string()),
        "{stderr}"
    );
    // A certificate where the key should be.
    let (ok, stderr) = start_up_failure(&[
        listeners.clone(),
        (
            "CONNECT_LISTENERS_HTTPS_SSL_CERTIFICATE_LOCATION".into(),
            pki.cert.display().to_string(),
        ),
        (
            "CONNECT_LISTENERS_HTTPS_SSL_KEY_LOCATION".into(),
            pki.cert.display().to_string(),
        ),
    ]);
    assert!(!ok);
    assert!(
        stderr.contains("listeners.https.ssl.key.location") && stderr.contains("no private key"),
        "{stderr}"
    );
    // An https listener without files.
    let (ok, stderr) = start_up_failure(std::slice::from_ref(&listeners));
    assert!(!ok);
    assert!(
        stderr.contains("listeners.https.ssl.certificate.location"),
        "{stderr}"
    );
    // A credentials file that is not there.
    let (ok, stderr) = start_up_failure(&[(
        "CONNECT_REST_AUTH_CREDENTIALS_FILE".into(),
        dir.path().join("users.properties").display().to_string(),
    )]);
    assert!(!ok);
    assert!(
        stderr.contains("rest.auth.credentials.file") && stderr.contains("users.properties"),
        "{stderr}"
    );
}

/// `connect-host hash-password` with the password on stdin.
fn hash_password(password: &str, args: &[&str]) -> String {
    use std::io::Write;
    let mut child = Command::new(Worker::bin())
        .arg("hash-password")
        .args(args)
        .envs(
            ["LD_LIBRARY_PATH"]
                .iter()
                .filter_map(|k| std::env::var(k).ok().map(|v| (*k, v))),
        )
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    writeln!(child.stdin.take().unwrap(), "{password}").unwrap();
    let output = child.wait_with_output().unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).unwrap().trim().to_string()
}

/// The credentials of the auth tests, with one argon2 and one bcrypt user.
fn credentials_file(dir: &Path) -> PathBuf {
    let argon = hash_password("argon-pw", &[]);
    assert!(argon.starts_with("$argon2id$"), "{argon}");
    let bcrypt = hash_password("bcrypt-pw", &["--bcrypt", "--cost", "4"]);
    assert!(bcrypt.starts_with("$2b$04$"), "{bcrypt}");
    let path = dir.join("users.properties");
    std::fs::write(
        &path,
        format!(
            "# Connect's PropertyFileLoginModule format, with roles\n\
             admin: adminpw, admin\n\
             viewer: viewerpw, read-only\n\
             argon: {argon}\n\
             bcrypt: {bcrypt}, read-only\n"
        ),
    )
    .unwrap();
    path
}

fn file_sink(name: &str, dir: &Path) -> Value {
    json!({
        "name": name,
        "config": {
            "connector.class": "FileStreamSink",
            "topics": "secured",
            "file": dir.join(format!("{name}.txt")).display().to_string(),
        }
    })
}

#[tokio::test(flavor = "multi_thread")]
async fn basic_auth_lets_in_users_by_role_and_keeps_health_open() {
    let dir = tempfile::tempdir().unwrap();
    let broker = Broker::start();
    let credentials = credentials_file(dir.path());
    let tokens = dir.path().join("tokens");
    std::fs::write(&tokens, "# bearer tokens\nreader-token-123, read-only\n").unwrap();
    let (credentials, tokens) = (
        credentials.display().to_string(),
        tokens.display().to_string(),
    );
    let worker = Worker::start(
        &broker.bootstrap(),
        &dir.path().join("w"),
        &[
            ("CONNECT_REST_AUTH_CREDENTIALS_FILE", credentials.as_str()),
            ("CONNECT_REST_AUTH_TOKENS_FILE", tokens.as_str()),
        ],
    )
    .await;
    let client = reqwest::Client::new();
    let call =
        |method: reqwest::Method, path: &str, auth: Option<(&str, &str)>, body: Option<Value>| {
            let mut request = client.request(method, worker.url(path));
            if let Some((user, password)) = auth {
                request = request.basic_auth(user, Some(password));
            }
            if let Some(body) = body {
                request = request.json(&body);
            }
            async move {
                let response = request.send().await.unwrap();
                let status = response.status().as_u16();
                let challenge = response
                    .headers()
                    .get_all("www-authenticate")
                    .iter()
                    .map(|v| v.to_str().unwrap().to_string())
                    .collect::<Vec<_>>();
                let text = response.text().await.unwrap();
                let body = serde_json::from_str(&text).unwrap_or(Value::String(text));
                (status, challenge, body)
            }
        };
    use reqwest::Method;

    // Open: /health only.
    let (status, _, _) = call(Method::GET, "/health", None, None).await;
    assert_eq!(status, 200);
    let (status, challenge, body) = call(Method::GET, "/connectors", None, None).await;
    assert_eq!(status, 401, "{body}");
    assert!(
        challenge.contains(&"Basic realm=\"connect-host\"".to_string()),
        "{challenge:?}"
    );
    assert_eq!(
        body,
        json!({"error_code": 401, "message": "User cannot access the resource."})
    );
    let (status, _, _) = call(Method::GET, "/", None, None).await;
    assert_eq!(status, 401);
    let (status, _, body) = call(Method::GET, "/connectors", Some(("admin", "wrong")), None).await;
    assert_eq!((status, body["error_code"].clone()), (401, json!(401)));
    let (status, _, _) = call(
        Method::GET,
        "/connectors",
        Some(("nobody", "adminpw")),
        None,
    )
    .await;
    assert_eq!(status, 401);

    // read-only: reads, no writes.
    let viewer = Some(("viewer", "viewerpw"));
    let (status, _, body) = call(Method::GET, "/connectors", viewer, None).await;
    assert_eq!(status, 200, "{body}");
    let (status, _, body) = call(
        Method::POST,
        "/connectors",
        viewer,
        Some(file_sink("by-viewer", dir.path())),
    )
    .await;
    assert_eq!(status, 403, "{body}");
    assert_eq!(body["error_code"], 403, "{body}");
    assert!(
        body["message"].as_str().unwrap().contains("read-only"),
        "{body}"
    );

    // admin: writes.
    let admin = Some(("admin", "adminpw"));
    let (status, _, body) = call(
        Method::POST,
        "/connectors",
        admin,
        Some(file_sink("by-admin", dir.path())),
    )
    .await;
    assert_eq!(status, 201, "{body}");
    let (status, _, body) = call(Method::GET, "/connectors", viewer, None).await;
    assert_eq!((status, body), (200, json!(["by-admin"])));

    // Hashed passwords, twice each (the second from the cache).
    for round in 0..2 {
        let (status, _, body) = call(
            Method::POST,
            "/connectors",
            Some(("argon", "argon-pw")),
            Some(file_sink(&format!("by-argon-{round}"), dir.path())),
        )
        .await;
        assert_eq!(status, 201, "{body}");
        let (status, _, _) = call(
            Method::GET,
            "/connectors",
            Some(("bcrypt", "bcrypt-pw")),
            None,
        )
        .await;
        assert_eq!(status, 200);
        let (status, _, _) = call(
            Method::DELETE,
            "/connectors/by-admin",
            Some(("bcrypt", "bcrypt-pw")),
            None,
        )
        .await;
        assert_eq!(status, 403);
    }
    let (status, _, _) = call(
        Method::GET,
        "/connectors",
        Some(("argon", "argon-px")),
        None,
    )
    .await;
    assert_eq!(status, 401);
    let (status, _, _) = call(
        Method::GET,
        "/connectors",
        Some(("bcrypt", "bcrypt-px")),
        None,
    )
    .await;
    assert_eq!(status, 401);

    // Bearer tokens.
    let bearer = |method: Method, token: &str| {
        client
            .request(method, worker.url("/connectors/by-admin"))
            .bearer_auth(token)
            .send()
    };
    assert_eq!(
        bearer(Method::GET, "reader-token-123")
            .await
            .unwrap()
            .status(),
        200
    );
    assert_eq!(
        bearer(Method::DELETE, "reader-token-123")
            .await
            .unwrap()
            .status(),
        403
    );
    assert_eq!(bearer(Method::GET, "other").await.unwrap().status(), 401);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_follower_forwards_writes_to_an_https_leader_with_the_credentials() {
    let dir = tempfile::tempdir().unwrap();
    let pki = pki(dir.path());
    let broker = Broker::start();
    support::kafka::create_topic(&broker.bootstrap(), "secured", 1).await;
    let credentials = credentials_file(dir.path());
    let mut workers = Vec::new();
    for i in 0..2 {
        let port = free_port();
        let mut settings = env(&[
            ("CONNECT_BOOTSTRAP_SERVERS", broker.bootstrap()),
            ("CONNECT_LISTENERS", format!("https://127.0.0.1:{port}")),
            (
                "CONNECT_LISTENERS_HTTPS_SSL_TRUSTSTORE_LOCATION",
                pki.ca.display().to_string(),
            ),
            (
                "CONNECT_REST_AUTH_CREDENTIALS_FILE",
                credentials.display().to_string(),
            ),
        ]);
        settings.extend(tls_env(&pki));
        settings.extend(
            cluster_env()
                .into_iter()
                .map(|(k, v)| (k.to_string(), v.to_string())),
        );
        let own = dir.path().join(format!("worker-{i}"));
        workers.push((
            Process::start_https(&own, port, &pki.ca, &settings).await,
            port,
        ));
    }
    let client = Client {
        ca: Some(&pki.ca),
        identity: None,
    };
    let leader = eventually(Duration::from_secs(60), "a leader", || async {
        let leading: Vec<usize> = (0..2).filter(|i| workers[*i].0.leads()).collect();
        (leading.len() == 1).then(|| leading[0])
    })
    .await;
    let follower = workers[1 - leader].1;
    let admin = basic("admin", "adminpw");
    let connector = file_sink("forwarded", dir.path());

    // Refused by the follower itself, before any forwarding.
    let refused = https(
        client,
        follower,
        "POST",
        "/connectors",
        None,
        Some(&connector),
    )
    .await
    .unwrap();
    assert_eq!(refused.status, 401, "{}", refused.body);
    assert!(refused.headers.contains_key("www-authenticate"));
    let viewer = basic("viewer", "viewerpw");
    let refused = https(
        client,
        follower,
        "POST",
        "/connectors",
        Some(&viewer),
        Some(&connector),
    )
    .await
    .unwrap();
    assert_eq!(refused.status, 403, "{}", refused.body);

    // The follower forwards the write over https with the credentials; a
    // leader that did not get them would answer 401.
    let created = eventually(
        Duration::from_secs(60),
        "the create to be taken",
        || async {
            let answer = https(
                client,
                follower,
                "POST",
                "/connectors",
                Some(&admin),
                Some(&connector),
            )
            .await
            .ok()?;
            (answer.status != 409).then_some(answer)
        },
    )
    .await;
    assert_eq!(created.status, 201, "{}", created.body);
    assert_eq!(created.body["name"], "forwarded", "{}", created.body);
    // The leader has it.
    let on_leader = https(
        client,
        workers[leader].1,
        "GET",
        "/connectors/forwarded",
        Some(&viewer),
        None,
    )
    .await
    .unwrap();
    assert_eq!(on_leader.status, 200, "{}", on_leader.body);
    assert!(!workers[1 - leader].0.leads());
}
