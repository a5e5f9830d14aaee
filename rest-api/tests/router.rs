//! The router and handlers without a socket (as axum's `examples/testing`
//! does): requests go straight to `route` over a fake herder that records
//! what it was asked, so each test sees both the HTTP answer and whether the
//! control plane was reached at all.

use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use bytes::Bytes;
use connect_api::{ConfigMap, TopicPartition};
use connect_rest::{AppState, Listener, route};
use connect_runtime::herder::*;
use connect_runtime::logging::LogLevels;
use connect_runtime::status::{InstanceStatus, State, TargetState};
use connect_runtime::worker_config::Cors;
use http_body_util::{BodyExt, Full};
use hyper::body::{Body, Frame};
use hyper::{Request, StatusCode};
use serde_json::{Value, json};

/// Knows one connector, "c"; `Forbidden` for topics; an internal error for offsets.
#[derive(Default)]
struct FakeHerder {
    calls: Mutex<Vec<String>>,
}

impl FakeHerder {
    fn called(&self, what: &str) {
        self.calls.lock().unwrap().push(what.to_string());
    }
    fn calls(&self) -> Vec<String> {
        self.calls.lock().unwrap().clone()
    }
    /// "c" exists; "follower" and "rebalancing" answer as a cluster
    /// member would; "panics" is a bug in the control plane; any other
    /// name is unknown.
    fn known(&self, name: &str) -> HerderResult<()> {
        match name {
            "c" => Ok(()),
            "panics" => panic!("index out of bounds in the herder: token=s3cret"),
            "follower" => Err(HerderError::NotLeader {
                leader_url: Some("http://leader:8083".into()),
            }),
            "rebalancing" => Err(HerderError::RebalanceInProgress),
            _ => Err(HerderError::NotFound(format!("Connector {name} not found"))),
        }
    }
}

fn info(name: &str) -> ConnectorInfo {
    ConnectorInfo {
        name: name.into(),
        config: ConfigMap::new(),
        tasks: vec![],
        kind: "sink",
    }
}

#[async_trait]
impl Herder for FakeHerder {
    async fn start(&self) -> HerderResult<()> {
        Ok(())
    }
    fn is_ready(&self) -> bool {
        true
    }
    async fn server_info(&self) -> ServerInfo {
        ServerInfo::new("abc".into(), Some("cluster".into()))
    }
    async fn connectors(&self) -> Vec<String> {
        self.called("connectors");
        vec!["c".into()]
    }
    async fn connector_info(&self, name: &str) -> HerderResult<ConnectorInfo> {
        self.known(name).map(|()| info(name))
    }
    async fn connector_config(&self, name: &str) -> HerderResult<ConfigMap> {
        self.known(name).map(|()| ConfigMap::new())
    }
    async fn connector_status(&self, name: &str) -> HerderResult<ConnectorStatus> {
        Err(HerderError::NotFound(format!("Connector {name} not found")))
    }
    async fn task_infos(&self, name: &str) -> HerderResult<Vec<TaskInfo>> {
        self.known(name).map(|()| vec![])
    }
    async fn task_status(&self, name: &str, _: u32) -> HerderResult<TaskStatus> {
        Err(HerderError::NotFound(format!("Connector {name} not found")))
    }
    async fn create_connector(
        &self,
        name: &str,
        _: ConfigMap,
        initial: TargetState,
    ) -> HerderResult<ConnectorInfo> {
        self.called(&format!("create {name} {initial:?}"));
        Ok(info(name))
    }
    async fn put_connector_config(
        &self,
        name: &str,
        _: ConfigMap,
    ) -> HerderResult<(bool, ConnectorInfo)> {
        self.called(&format!("put {name}"));
        Ok((true, info(name)))
    }
    async fn patch_connector_config(
        &self,
        name: &str,
        _: Vec<(String, Option<String>)>,
    ) -> HerderResult<ConnectorInfo> {
        self.known(name).map(|()| info(name))
    }
    async fn delete_connector(&self, name: &str) -> HerderResult<()> {
        self.known(name)
    }
    async fn pause(&self, name: &str) -> HerderResult<()> {
        self.called(&format!("pause {name}"));
        self.known(name)
    }
    async fn resume(&self, name: &str) -> HerderResult<()> {
        self.known(name)
    }
    async fn stop(&self, name: &str) -> HerderResult<()> {
        self.known(name)
    }
    async fn restart_connector(
        &self,
        name: &str,
        request: RestartRequest,
    ) -> HerderResult<ConnectorStatus> {
        self.called(&format!(
            "restart {name} tasks={} failed={}",
            request.include_tasks, request.only_failed
        ));
        Ok(ConnectorStatus {
            name: name.into(),
            connector: InstanceStatus {
                state: State::Restarting,
                worker_id: "w:1".into(),
                trace: None,
            },
            tasks: vec![],
            kind: "sink",
        })
    }
    async fn restart_task(&self, name: &str, _: u32) -> HerderResult<()> {
        self.known(name)
    }
    async fn active_topics(&self, _: &str) -> HerderResult<Vec<String>> {
        Err(HerderError::Forbidden("Topic tracking is disabled.".into()))
    }
    async fn reset_active_topics(&self, _: &str) -> HerderResult<()> {
        Err(HerderError::Forbidden("Topic tracking is disabled.".into()))
    }
    async fn offsets(&self, _: &str) -> HerderResult<Vec<(TopicPartition, i64)>> {
        Err(HerderError::Internal(
            "cannot read cluster metadata: timed out".into(),
        ))
    }
    async fn alter_offsets(&self, name: &str, changes: Vec<OffsetChange>) -> HerderResult<()> {
        self.called(&format!("alter {name} {changes:?}"));
        Ok(())
    }
    async fn reset_offsets(&self, name: &str) -> HerderResult<()> {
        self.known(name)
    }
    async fn rebalance(&self, connector: Option<&str>) -> HerderResult<Placement> {
        self.called(&format!("rebalance {connector:?}"));
        Ok(Placement::default())
    }
    async fn drain(&self, worker: &str, drained: bool) -> HerderResult<()> {
        self.called(&format!("drain {worker} {drained}"));
        Ok(())
    }
    fn plugins(&self, connectors_only: bool) -> Vec<PluginInfo> {
        self.called(&format!("plugins connectors_only={connectors_only}"));
        vec![]
    }
    fn plugin_config(&self, plugin: &str) -> HerderResult<Vec<ConfigKeyInfo>> {
        Err(HerderError::NotFound(format!("Unknown plugin {plugin}.")))
    }
    fn validate(&self, plugin: &str, _: ConfigMap) -> HerderResult<ConfigInfos> {
        Err(HerderError::NotFound(format!("Unknown plugin {plugin}.")))
    }
    async fn shutdown(&self) {}
}

struct App {
    herder: Arc<FakeHerder>,
    state: Arc<AppState>,
}

fn app(cors: Option<Cors>) -> App {
    let herder = Arc::new(FakeHerder::default());
    let state = Arc::new(AppState {
        herder: herder.clone(),
        loggers: Arc::new(LogLevels::init(None)),
        cors,
        metrics: None,
        auth: None,
    });
    App { herder, state }
}

const MAIN: Listener = Listener {
    main: true,
    admin: true,
};

impl App {
    async fn send(
        &self,
        listener: Listener,
        req: Request<Full<Bytes>>,
    ) -> (StatusCode, hyper::HeaderMap, Bytes) {
        let response = route(self.state.clone(), listener, req).await.unwrap();
        let (parts, body) = response.into_parts();
        (
            parts.status,
            parts.headers,
            body.collect().await.unwrap().to_bytes(),
        )
    }

    async fn call(&self, method: &str, uri: &str, body: &str) -> (StatusCode, Value) {
        let req = Request::builder()
            .method(method)
            .uri(uri)
            .header("content-type", "application/json")
            .body(Full::new(Bytes::from(body.to_string())))
            .unwrap();
        let (status, _, bytes) = self.send(MAIN, req).await;
        let value = if bytes.is_empty() {
            Value::Null
        } else {
            serde_json::from_slice(&bytes).unwrap()
        };
        (status, value)
    }
}

fn error(code: u16, message: &str) -> Value {
    json!({"error_code": code, "message": message})
}

#[tokio::test]
async fn bad_bodies_are_answered_without_reaching_the_herder() {
    let app = app(None);
    let (status, body) = app.call("POST", "/connectors", "{not json").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(
        body["message"].as_str().unwrap().contains("Malformed JSON"),
        "{body}"
    );
    let (status, body) = app
        .call(
            "POST",
            "/connectors",
            r#"{"name": "x", "config": {"a": 1}, "extra": true}"#,
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(
        body["message"].as_str().unwrap().contains("extra"),
        "{body}"
    );
    let (status, _) = app
        .call("PATCH", "/connectors/c/offsets", r#"{"offsets": []}"#)
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(app.herder.calls().is_empty(), "{:?}", app.herder.calls());
    // Positive control: a good body does reach it, numbers as strings parsed.
    let (status, _) = app
        .call(
            "PATCH",
            "/connectors/c/offsets",
            r#"{"offsets": [{"partition": {"kafka_topic": "t", "kafka_partition": "2"}, "offset": {"kafka_offset": "7"}}]}"#,
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(app.herder.calls().len(), 1);
    assert!(
        app.herder.calls()[0].contains("partition: 2") && app.herder.calls()[0].contains("Some(7)"),
        "{:?}",
        app.herder.calls()
    );
}

#[tokio::test]
async fn herder_errors_become_connects_error_body() {
    let app = app(None);
    assert_eq!(
        app.call("GET", "/connectors/nope", "").await,
        (
            StatusCode::NOT_FOUND,
            error(404, "Connector nope not found")
        )
    );
    assert_eq!(
        app.call("GET", "/connectors/c/topics", "").await,
        (
            StatusCode::FORBIDDEN,
            error(403, "Topic tracking is disabled.")
        )
    );
    // What a cluster answers while it cannot act: 409, as Connect does.
    assert_eq!(
        app.call("PUT", "/connectors/rebalancing/pause", "").await,
        (
            StatusCode::CONFLICT,
            error(
                409,
                "Cannot complete request because of a conflicting operation (e.g. worker rebalance)"
            )
        )
    );
    // A follower forwards to the leader; one that cannot be reached is a 409.
    assert_eq!(
        app.call("PUT", "/connectors/follower/resume", "").await,
        (
            StatusCode::CONFLICT,
            error(
                409,
                "Cannot complete request because of a conflicting operation (e.g. worker rebalance)"
            )
        )
    );
    // A request already forwarded is never forwarded again.
    assert_eq!(
        app.call("PUT", "/connectors/follower/resume?forward=false", "")
            .await,
        (
            StatusCode::CONFLICT,
            error(
                409,
                "Cannot complete request because this worker is not the leader (the leader is http://leader:8083)"
            )
        )
    );
    // A 500 carries its cause.
    assert_eq!(
        app.call("GET", "/connectors/c/offsets", "").await,
        (
            StatusCode::INTERNAL_SERVER_ERROR,
            error(500, "cannot read cluster metadata: timed out")
        )
    );
    assert_eq!(
        app.call("DELETE", "/connectors", "").await,
        (
            StatusCode::METHOD_NOT_ALLOWED,
            error(405, "HTTP 405 Method Not Allowed")
        )
    );
    assert_eq!(
        app.call("GET", "/nothing", "").await,
        (StatusCode::NOT_FOUND, error(404, "HTTP 404 Not Found"))
    );
}

#[tokio::test]
async fn query_flags_parse_as_jax_rs_does() {
    let app = app(None);
    // A plain restart is 204 with no body; with either flag, 202 and the status.
    for (query, expected, code) in [
        ("", "tasks=false failed=false", StatusCode::NO_CONTENT),
        (
            "?includeTasks=TRUE",
            "tasks=true failed=false",
            StatusCode::ACCEPTED,
        ),
        (
            "?includeTasks=yes&onlyFailed=1",
            "tasks=false failed=false",
            StatusCode::NO_CONTENT,
        ),
        (
            "?onlyFailed=true",
            "tasks=false failed=true",
            StatusCode::ACCEPTED,
        ),
    ] {
        let (status, body) = app
            .call("POST", &format!("/connectors/c/restart{query}"), "")
            .await;
        assert_eq!(status, code, "{query}");
        if code == StatusCode::ACCEPTED {
            assert_eq!(body["connector"]["state"], "RESTARTING", "{body}");
        } else {
            assert_eq!(body, Value::Null);
        }
        assert_eq!(
            app.herder.calls().last().unwrap(),
            &format!("restart c {expected}")
        );
    }
    for (query, expected) in [
        ("", "true"),
        ("?connectorsOnly=", "true"),
        ("?connectorsOnly=false", "false"),
        ("?connectorsOnly=nope", "false"),
    ] {
        app.call("GET", &format!("/connector-plugins{query}"), "")
            .await;
        assert_eq!(
            app.herder.calls().last().unwrap(),
            &format!("plugins connectors_only={expected}")
        );
    }
}

#[tokio::test]
async fn head_options_cors_and_listeners() {
    let app = app(Some(Cors {
        allow_origin: "http://ui.example".into(),
        allow_methods: "GET,PUT".into(),
    }));
    let req = |method: &str, uri: &str| {
        Request::builder()
            .method(method)
            .uri(uri)
            .header("origin", "http://ui.example")
            .body(Full::new(Bytes::new()))
            .unwrap()
    };
    let (status, headers, body) = app.send(MAIN, req("HEAD", "/connectors")).await;
    assert_eq!((status, body.is_empty()), (StatusCode::OK, true));
    assert_eq!(headers["access-control-allow-origin"], "http://ui.example");
    let (status, headers, _) = app.send(MAIN, req("OPTIONS", "/connectors/c/pause")).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(headers["allow"], "PUT,OPTIONS");
    let mut preflight = req("OPTIONS", "/connectors/c/pause");
    preflight
        .headers_mut()
        .insert("access-control-request-method", "PUT".parse().unwrap());
    let (_, headers, _) = app.send(MAIN, preflight).await;
    assert_eq!(headers["access-control-allow-methods"], "GET,PUT");
    let mut refused = req("OPTIONS", "/connectors/c");
    refused
        .headers_mut()
        .insert("access-control-request-method", "DELETE".parse().unwrap());
    let (_, headers, _) = app.send(MAIN, refused).await;
    assert!(headers.get("access-control-allow-origin").is_none());
    // admin.listeners: the main listener no longer serves /admin, the admin one only /admin.
    let main_only = Listener {
        main: true,
        admin: false,
    };
    let admin_only = Listener {
        main: false,
        admin: true,
    };
    assert_eq!(
        app.send(main_only, req("GET", "/admin/loggers")).await.0,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        app.send(admin_only, req("GET", "/admin/loggers")).await.0,
        StatusCode::OK
    );
    assert_eq!(
        app.send(admin_only, req("GET", "/connectors")).await.0,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        app.send(main_only, req("GET", "/connectors")).await.0,
        StatusCode::OK
    );
}

#[tokio::test]
async fn a_panicking_handler_is_a_plain_500_and_the_api_serves_on() {
    let app = app(None);
    for (method, uri) in [
        ("GET", "/connectors/panics"),
        ("DELETE", "/connectors/panics"),
        ("PUT", "/connectors/panics/pause"),
    ] {
        let req = Request::builder()
            .method(method)
            .uri(uri)
            .body(Full::new(Bytes::new()))
            .unwrap();
        let (status, headers, body) = app.send(MAIN, req).await;
        assert_eq!(status, StatusCode::INTERNAL_SERVER_ERROR, "{method} {uri}");
        assert_eq!(headers["content-type"], "application/json");
        // Connect's error body, and nothing of the panic.
        assert_eq!(
            serde_json::from_slice::<Value>(&body).unwrap(),
            error(
                500,
                "The request failed on an internal error; the worker's log has the details"
            )
        );
        let text = String::from_utf8_lossy(&body);
        for leak in ["s3cret", "index out of bounds", "panicked", "herder", ".rs"] {
            assert!(!text.contains(leak), "{method} {uri}: {text}");
        }
    }
    // The same router goes on answering.
    assert_eq!(app.call("GET", "/connectors/c", "").await.0, StatusCode::OK);
}

/// A body that never ends: 64 KiB of spaces, again and again.
struct Endless {
    sent: usize,
}

impl Body for Endless {
    type Data = Bytes;
    type Error = std::convert::Infallible;
    fn poll_frame(
        mut self: std::pin::Pin<&mut Self>,
        _: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<Result<Frame<Bytes>, Self::Error>>> {
        self.sent += 64 * 1024;
        std::task::Poll::Ready(Some(Ok(Frame::data(Bytes::from(vec![b' '; 64 * 1024])))))
    }
}

#[tokio::test]
async fn bodies_over_one_mebibyte_are_413_without_reaching_the_herder() {
    let app = app(None);
    let too_large = error(
        413,
        "Request body is larger than 1048576 bytes, the most this worker reads",
    );
    let parse = |bytes: &Bytes| serde_json::from_slice::<Value>(bytes).unwrap();
    // As read: one byte over the limit.
    let mut body = vec![b' '; 1024 * 1024 + 1];
    body[0] = b'{';
    let req = Request::builder()
        .method("POST")
        .uri("/connectors")
        .header("content-type", "application/json")
        .body(Full::new(Bytes::from(body)))
        .unwrap();
    let (status, headers, bytes) = app.send(MAIN, req).await;
    assert_eq!(
        (status, parse(&bytes)),
        (StatusCode::PAYLOAD_TOO_LARGE, too_large.clone())
    );
    assert_eq!(headers["connection"], "close");
    // As announced: refused before a byte of it is read.
    let req = Request::builder()
        .method("PUT")
        .uri("/connectors/c/config")
        .header("content-length", "5000000000")
        .body(Full::new(Bytes::new()))
        .unwrap();
    let (status, _, bytes) = app.send(MAIN, req).await;
    assert_eq!(
        (status, parse(&bytes)),
        (StatusCode::PAYLOAD_TOO_LARGE, too_large.clone())
    );
    // A body that never ends is read no further than the limit.
    let req = Request::builder()
        .method("PATCH")
        .uri("/connectors/c/config")
        .body(Endless { sent: 0 })
        .unwrap();
    let response = tokio::time::timeout(
        std::time::Duration::from_secs(10),
        route(app.state.clone(), MAIN, req),
    )
    .await
    .expect("an endless body is not read to its end")
    .unwrap();
    assert_eq!(response.status(), StatusCode::PAYLOAD_TOO_LARGE);
    assert!(app.herder.calls().is_empty(), "{:?}", app.herder.calls());
    // At the limit, the body is read and parsed.
    let config = br#"{"connector.class": "FileStreamSink"}"#;
    let mut body = config.to_vec();
    body.resize(1024 * 1024, b' ');
    let req = Request::builder()
        .method("PUT")
        .uri("/connectors/new/config")
        .header("content-type", "application/json")
        .body(Full::new(Bytes::from(body)))
        .unwrap();
    let (status, _, _) = app.send(MAIN, req).await;
    assert_eq!(status, StatusCode::CREATED);
    assert_eq!(app.herder.calls(), ["put new"]);
}

#[tokio::test]
async fn urls_over_eight_kibibytes_are_414() {
    let app = app(None);
    let long = format!("/connectors/{}", "a".repeat(8 * 1024));
    let (status, body) = app.call("GET", &long, "").await;
    assert_eq!(
        (status, body),
        (
            StatusCode::URI_TOO_LONG,
            error(
                414,
                "Request URI is 8204 bytes long; at most 8192 are allowed"
            )
        )
    );
    let (status, _) = app
        .call(
            "GET",
            &format!("/connectors?expand={}", "x".repeat(8 * 1024)),
            "",
        )
        .await;
    assert_eq!(status, StatusCode::URI_TOO_LONG);
    // Just under the limit, the path is served (an unknown connector).
    let at_limit = format!("/connectors/{}", "a".repeat(8 * 1024 - 12));
    let (status, body) = app.call("GET", &at_limit, "").await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{body}");
}
