//! The Qdrant-protocol test server (tests/qdrant-server, built by
//! scripts/setup.sh on qdrant-edge), stoppable and restartable on its data.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use qdrant_client::Qdrant;

pub struct QdrantServer {
    child: Option<Child>,
    pub port: u16,
    data: PathBuf,
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
        let mut s = Self {
            child: None,
            port: super::free_port(),
            data: data.to_path_buf(),
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
        let child = Command::new(bin)
            .args([
                "--port",
                &self.port.to_string(),
                "--data-dir",
                self.data.to_str().unwrap(),
            ])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start the qdrant test server");
        self.child = Some(child);
        let start = Instant::now();
        while std::net::TcpStream::connect(("127.0.0.1", self.port)).is_err() {
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

    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    pub fn client(&self) -> Qdrant {
        Qdrant::from_url(&self.url())
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

pub async fn count(client: &Qdrant, collection: &str) -> Option<u64> {
    use qdrant_client::qdrant::CountPointsBuilder;
    client
        .count(CountPointsBuilder::new(collection).exact(true))
        .await
        .ok()
        .and_then(|r| r.result)
        .map(|r| r.count)
}
