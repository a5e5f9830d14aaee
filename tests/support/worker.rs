//! The real `connect-host` process, configured through CONNECT_* variables.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

pub struct Worker {
    child: Option<Child>,
    pub port: u16,
    pub dir: PathBuf,
    env: Vec<(String, String)>,
    client: reqwest::Client,
    starts: u32,
}

impl Worker {
    /// Start a worker whose state lives in `dir`, talking to `bootstrap`.
    pub async fn start(bootstrap: &str, dir: &Path, extra_env: &[(&str, &str)]) -> Self {
        let port = super::free_port();
        std::fs::create_dir_all(dir.join("connectors.d")).unwrap();
        let mut env: Vec<(String, String)> = vec![
            ("CONNECT_BOOTSTRAP_SERVERS".into(), bootstrap.into()),
            (
                "CONNECT_LISTENERS".into(),
                format!("http://127.0.0.1:{port}"),
            ),
            (
                "CONNECT_CONFIG_STORAGE_FILE_FILENAME".into(),
                dir.join("configs.json").display().to_string(),
            ),
            (
                "CONNECT_CONNECTORS_DIR".into(),
                dir.join("connectors.d").display().to_string(),
            ),
            ("CONNECT_OFFSET_FLUSH_INTERVAL_MS".into(), "500".into()),
            ("CONNECT_CONSUMER_SESSION_TIMEOUT_MS".into(), "6000".into()),
            (
                "CONNECT_CONSUMER_HEARTBEAT_INTERVAL_MS".into(),
                "500".into(),
            ),
            (
                "CONNECT_CONSUMER_MAX_POLL_INTERVAL_MS".into(),
                "10000".into(),
            ),
            // WORKER_RUST_LOG=debug shows a failing test's worker in detail.
            (
                "RUST_LOG".into(),
                std::env::var("WORKER_RUST_LOG").unwrap_or_else(|_| "info".into()),
            ),
        ];
        for (k, v) in extra_env {
            env.retain(|(ek, _)| ek != k);
            env.push((k.to_string(), v.to_string()));
        }
        let mut w = Self {
            child: None,
            port,
            dir: dir.to_path_buf(),
            env,
            client: reqwest::Client::new(),
            starts: 0,
        };
        w.spawn().await;
        w
    }

    pub fn bin() -> &'static str {
        env!("CARGO_BIN_EXE_connect-host")
    }

    async fn spawn(&mut self) {
        self.starts += 1;
        let log =
            std::fs::File::create(self.dir.join(format!("worker-{}.log", self.starts))).unwrap();
        let child = Command::new(Self::bin())
            .env_clear()
            .envs(self.env.iter().cloned())
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            // Where the embedding model and libtorch are found.
            .envs(
                ["HOME", "LD_LIBRARY_PATH", "CONNECTHOST_MODEL_DIR"]
                    .iter()
                    .filter_map(|k| std::env::var(k).ok().map(|v| (*k, v))),
            )
            .stdout(Stdio::from(log.try_clone().unwrap()))
            .stderr(Stdio::from(log))
            .spawn()
            .expect("start connect-host");
        self.child = Some(child);
        let start = Instant::now();
        loop {
            if let Ok(r) = self.client.get(self.url("/health")).send().await
                && r.status() == 200
            {
                return;
            }
            if let Some(status) = self.child.as_mut().unwrap().try_wait().unwrap() {
                panic!(
                    "connect-host exited with {status} during start-up:\n{}",
                    self.log()
                );
            }
            assert!(
                start.elapsed() < Duration::from_secs(30),
                "worker not healthy in 30s:\n{}",
                self.log()
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.join(format!("worker-{}.log", self.starts)))
            .unwrap_or_default()
    }

    /// SIGKILL: no shutdown, no final commit.
    pub fn kill(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }

    /// SIGTERM and wait for a clean exit.
    pub fn stop(&mut self) {
        if let Some(mut c) = self.child.take() {
            unsafe_sigterm(c.id());
            let start = Instant::now();
            while c.try_wait().unwrap().is_none() {
                if start.elapsed() > Duration::from_secs(30) {
                    let _ = c.kill();
                    break;
                }
                std::thread::sleep(Duration::from_millis(50));
            }
        }
    }

    pub async fn restart(&mut self) {
        self.kill();
        self.spawn().await;
    }

    /// Start again after `kill`/`stop`, same port and state directory.
    pub async fn start_again(&mut self) {
        self.spawn().await;
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.port)
    }

    pub async fn call(&self, method: &str, path: &str, body: Option<&Value>) -> (u16, Value) {
        let m = reqwest::Method::from_bytes(method.as_bytes()).unwrap();
        let mut req = self.client.request(m, self.url(path));
        if let Some(b) = body {
            req = req.json(b);
        }
        let resp = req.send().await.expect("request");
        let status = resp.status().as_u16();
        let text = resp.text().await.unwrap_or_default();
        let value = if text.is_empty() {
            Value::Null
        } else {
            serde_json::from_str(&text).unwrap_or(Value::String(text))
        };
        (status, value)
    }

    /// POST returning status, body and the Location header.
    pub async fn client_post_raw(&self, path: &str, body: &Value) -> (u16, Value, Option<String>) {
        let resp = self
            .client
            .post(self.url(path))
            .json(body)
            .send()
            .await
            .expect("request");
        let status = resp.status().as_u16();
        let location = resp
            .headers()
            .get("location")
            .and_then(|l| l.to_str().ok())
            .map(str::to_string);
        (status, resp.json().await.unwrap_or(Value::Null), location)
    }

    /// A request with a raw body and content type.
    pub async fn raw(
        &self,
        method: &str,
        path: &str,
        content_type: &str,
        body: &str,
    ) -> (u16, Value) {
        let m = reqwest::Method::from_bytes(method.as_bytes()).unwrap();
        let resp = self
            .client
            .request(m, self.url(path))
            .header("content-type", content_type)
            .body(body.to_string())
            .send()
            .await
            .expect("request");
        let status = resp.status().as_u16();
        let text = resp.text().await.unwrap_or_default();
        (
            status,
            serde_json::from_str(&text).unwrap_or(Value::String(text)),
        )
    }

    /// A request retried while the cluster answers 409 (a rebalance or
    /// hand-over in progress, Connect's answer), as Connect clients retry;
    /// up to a minute.
    pub async fn call_through_rebalance(
        &self,
        method: &str,
        path: &str,
        body: Option<&Value>,
    ) -> (u16, Value) {
        let what = format!("{method} {path} without 409");
        super::eventually(std::time::Duration::from_secs(60), &what, || async {
            let (code, body) = self.call(method, path, body).await;
            (code != 409).then_some((code, body))
        })
        .await
    }

    /// Create connector `name` with `config`; it must be accepted (201).
    pub async fn create(&self, name: &str, config: Value) {
        let (code, body) = self
            .call(
                "POST",
                "/connectors",
                Some(&serde_json::json!({"name": name, "config": config})),
            )
            .await;
        assert_eq!(code, 201, "{body}");
    }

    pub async fn get(&self, path: &str) -> (u16, Value) {
        self.call("GET", path, None).await
    }

    /// Wait until the connector and all its tasks (at least `tasks`) are in `state`.
    pub async fn wait_state(&self, connector: &str, state: &str, tasks: usize) -> Value {
        super::eventually(
            Duration::from_secs(60),
            &format!("{connector} to be {state}"),
            || async {
                let (code, status) = self.get(&format!("/connectors/{connector}/status")).await;
                let ok = code == 200
                    && status["connector"]["state"] == state
                    && status["tasks"]
                        .as_array()
                        .is_some_and(|t| t.len() >= tasks && t.iter().all(|t| t["state"] == state));
                ok.then_some(status)
            },
        )
        .await
    }
}

fn unsafe_sigterm(pid: u32) {
    let _ = Command::new("kill")
        .args(["-TERM", &pid.to_string()])
        .status();
}

impl Drop for Worker {
    fn drop(&mut self) {
        self.kill();
        if std::thread::panicking() {
            let log = self.log();
            let tail: Vec<&str> = log.lines().rev().take(80).collect();
            eprintln!(
                "--- last lines of the worker log ({}) ---",
                self.dir.display()
            );
            for line in tail.into_iter().rev() {
                eprintln!("{line}");
            }
        }
    }
}

/// Lines of a file, empty if it does not exist yet.
/// The file's lines once it holds at least `n` (`what` names them),
/// waiting up to a minute.
pub async fn wait_lines(path: &Path, n: usize, what: &str) -> Vec<String> {
    super::eventually(std::time::Duration::from_secs(60), what, || async {
        let l = lines(path);
        (l.len() >= n).then_some(l)
    })
    .await
}

pub fn lines(path: &Path) -> Vec<String> {
    std::fs::read_to_string(path)
        .map(|s| s.lines().map(str::to_string).collect())
        .unwrap_or_default()
}
