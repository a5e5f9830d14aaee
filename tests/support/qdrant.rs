//! The Qdrant-protocol test server (tests/qdrant-server, built by
//! scripts/setup.sh on qdrant-edge), stoppable and restartable on its data;
//! optionally over TLS and/or requiring an API key, like a secured Qdrant.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use qdrant_client::Qdrant;

pub struct QdrantServer {
    child: Option<Child>,
    pub port: u16,
    data: PathBuf,
    security: Security,
}

/// How a server is secured (`Default`: plain gRPC, no key).
#[derive(Clone, Debug, Default)]
pub struct Security {
    /// Serve gRPC over TLS with this certificate.
    pub tls: Option<TlsFiles>,
    /// Require this key in the `api-key` header of every call but the health check.
    pub api_key: Option<String>,
}

/// PEM files: the server's certificate and key, and the CA that signed it.
#[derive(Clone, Debug)]
pub struct TlsFiles {
    pub cert: PathBuf,
    pub key: PathBuf,
    pub ca: PathBuf,
}

impl TlsFiles {
    /// A fresh CA (`ca.pem`) and a server certificate it signed for
    /// `127.0.0.1` and `localhost` (`server.pem`, `server-key.pem`), in `dir`.
    pub fn self_signed(dir: &Path) -> Self {
        let pki = super::tls::pki(dir);
        Self {
            cert: pki.cert,
            key: pki.key,
            ca: pki.ca,
        }
    }
}

pub fn server_bin() -> PathBuf {
    if let Ok(p) = std::env::var("QDRANT_TEST_SERVER_BIN") {
        return PathBuf::from(p);
    }
    let home = std::env::var("HOME").unwrap_or_else(|_| "/root".into());
    PathBuf::from(home).join(".cache/connect-host/target-qdrant-server/debug/qdrant-test-server")
}

impl QdrantServer {
    pub fn start(data: &Path) -> Self {
        Self::start_secured(data, Security::default())
    }

    /// Start with TLS and/or an API key (`start_again` keeps them).
    pub fn start_secured(data: &Path, security: Security) -> Self {
        let mut s = Self {
            child: None,
            port: super::free_port(),
            data: data.to_path_buf(),
            security,
        };
        s.start_again();
        s
    }

    pub fn start_again(&mut self) {
        let bin = server_bin();
        assert!(
            bin.exists(),
            "{} missing — run scripts/setup.sh (or set QDRANT_TEST_SERVER_BIN)",
            bin.display()
        );
        let mut args = vec![
            "--port".to_string(),
            self.port.to_string(),
            "--data-dir".to_string(),
            self.data.display().to_string(),
        ];
        if let Some(tls) = &self.security.tls {
            args.extend([
                "--tls-cert".to_string(),
                tls.cert.display().to_string(),
                "--tls-key".to_string(),
                tls.key.display().to_string(),
            ]);
        }
        if let Some(key) = &self.security.api_key {
            args.extend(["--api-key".to_string(), key.clone()]);
        }
        let child = Command::new(bin)
            .args(&args)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start the qdrant test server");
        self.child = Some(child);
        let start = Instant::now();
        while std::net::TcpStream::connect(("127.0.0.1", self.port)).is_err() {
            if let Some(status) = self.child.as_mut().unwrap().try_wait().unwrap() {
                panic!("qdrant test server exited with {status} (arguments {args:?})");
            }
            assert!(
                start.elapsed() < Duration::from_secs(30),
                "qdrant test server did not listen"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// SIGTERM: the server flushes and exits.
    pub fn stop(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = Command::new("kill")
                .args(["-TERM", &c.id().to_string()])
                .status();
            let start = Instant::now();
            while c.try_wait().unwrap().is_none() && start.elapsed() < Duration::from_secs(20) {
                std::thread::sleep(Duration::from_millis(50));
            }
            let _ = c.kill();
            let _ = c.wait();
        }
    }

    /// `https://` when the server serves TLS.
    pub fn url(&self) -> String {
        let scheme = if self.security.tls.is_some() {
            "https"
        } else {
            "http"
        };
        format!("{scheme}://127.0.0.1:{}", self.port)
    }

    /// A client sending the server's API key, if any. Over TLS it trusts
    /// what qdrant-client trusts: the platform's roots, or only those in
    /// `SSL_CERT_FILE` when that is set (rustls-native-certs).
    pub fn client(&self) -> Qdrant {
        Qdrant::from_url(&self.url())
            .api_key(self.security.api_key.clone())
            .skip_compatibility_check()
            .build()
            .unwrap()
    }
}

impl Drop for QdrantServer {
    fn drop(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

/// Every point of `collection` (id as text → payload as JSON).
pub async fn all_points(
    client: &Qdrant,
    collection: &str,
) -> std::collections::HashMap<String, serde_json::Value> {
    use qdrant_client::qdrant::ScrollPointsBuilder;
    let mut out = std::collections::HashMap::new();
    let mut offset = None;
    loop {
        let mut req = ScrollPointsBuilder::new(collection)
            .limit(1000)
            .with_payload(true);
        if let Some(o) = offset.take() {
            req = req.offset(o);
        }
        let page = client.scroll(req).await.expect("scroll");
        for p in page.result {
            let id = match p.id.and_then(|i| i.point_id_options) {
                Some(qdrant_client::qdrant::point_id::PointIdOptions::Uuid(u)) => u,
                Some(qdrant_client::qdrant::point_id::PointIdOptions::Num(n)) => n.to_string(),
                None => continue,
            };
            let payload: serde_json::Value = serde_json::Value::Object(
                p.payload
                    .into_iter()
                    .map(|(k, v)| (k, serde_json::to_value(&v).unwrap_or_default()))
                    .collect(),
            );
            out.insert(id, payload);
        }
        match page.next_page_offset {
            Some(next) => offset = Some(next),
            None => return out,
        }
    }
}

/// Every point of `collection` once it holds `n`, waiting up to two minutes.
pub async fn wait_points(
    client: &Qdrant,
    collection: &str,
    n: u64,
) -> std::collections::HashMap<String, serde_json::Value> {
    super::eventually(Duration::from_secs(120), &format!("{n} points"), || async {
        (count(client, collection).await == Some(n)).then_some(())
    })
    .await;
    all_points(client, collection).await
}

pub async fn count(client: &Qdrant, collection: &str) -> Option<u64> {
    use qdrant_client::qdrant::CountPointsBuilder;
    client
        .count(CountPointsBuilder::new(collection).exact(true))
        .await
        .ok()
        .and_then(|r| r.result)
        .map(|r| r.count)
}
