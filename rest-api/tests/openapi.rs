//! `GET /openapi.json` against the router, without a socket (as
//! rest-api/tests/router.rs does): the document is well formed OpenAPI 3.1,
//! it lists exactly what the router serves (every route of `ROUTES`, and
//! nothing the router refuses), and every operation it lists, sent through
//! `route`, is answered as documented (status, media type, and a JSON body
//! that fits the documented schema).

use std::collections::BTreeSet;
use std::sync::{Arc, LazyLock};

use async_trait::async_trait;
use bytes::Bytes;
use connect_api::{ConfigMap, TopicPartition};
use connect_rest::{AppState, Listener, ROUTES, Route, route};
use connect_runtime::herder::*;
use connect_runtime::logging::LogLevels;
use connect_runtime::status::{InstanceStatus, State, TargetState};
use http_body_util::{BodyExt, Full};
use hyper::{HeaderMap, Method, Request, StatusCode};
use serde_json::{Value, json};

/// Knows one connector, "c" (one task, 0); every call on it succeeds. Any
/// other connector is unknown, as the real herders answer.
struct FakeHerder;

fn known(name: &str) -> HerderResult<()> {
    match name {
        "c" => Ok(()),
        _ => Err(HerderError::NotFound(format!("Connector {name} not found"))),
    }
}

fn info(name: &str) -> ConnectorInfo {
    ConnectorInfo {
        name: name.into(),
        config: ConfigMap::from([("topics".into(), "t".into())]),
        tasks: vec![ConnectorTaskId {
            connector: name.into(),
            task: 0,
        }],
        kind: "sink",
    }
}

fn running() -> InstanceStatus {
    InstanceStatus {
        state: State::Running,
        worker_id: "w:8083".into(),
        trace: None,
    }
}

fn status(name: &str) -> ConnectorStatus {
    ConnectorStatus {
        name: name.into(),
        connector: running(),
        tasks: vec![TaskStatus {
            id: 0,
            status: InstanceStatus {
                state: State::Failed,
                trace: Some("boom".into()),
                ..running()
            },
        }],
        kind: "sink",
    }
}

fn placement() -> Placement {
    Placement {
        epoch: 3,
        workers: [(
            "w:8083".to_string(),
            PlacedWork {
                connectors: vec!["c".into()],
                tasks: info("c").tasks,
            },
        )]
        .into(),
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
        vec!["c".into()]
    }
    async fn connector_info(&self, name: &str) -> HerderResult<ConnectorInfo> {
        known(name).map(|()| info(name))
    }
    async fn connector_config(&self, name: &str) -> HerderResult<ConfigMap> {
        known(name).map(|()| info(name).config)
    }
    async fn connector_status(&self, name: &str) -> HerderResult<ConnectorStatus> {
        known(name).map(|()| status(name))
    }
    async fn task_infos(&self, name: &str) -> HerderResult<Vec<TaskInfo>> {
        known(name).map(|()| {
            vec![TaskInfo {
                id: info(name).tasks[0].clone(),
                config: info(name).config,
            }]
        })
    }
    async fn task_status(&self, name: &str, task: u32) -> HerderResult<TaskStatus> {
        known(name)?;
        match task {
            0 => Ok(status(name).tasks[0].clone()),
            _ => Err(HerderError::NotFound(format!("Task {task} not found"))),
        }
    }
    async fn create_connector(
        &self,
        name: &str,
        _: ConfigMap,
        _: TargetState,
    ) -> HerderResult<ConnectorInfo> {
        match known(name) {
            Ok(()) => Err(HerderError::AlreadyExists(format!(
                "Connector {name} already exists"
            ))),
            Err(_) => Ok(info(name)),
        }
    }
    async fn put_connector_config(
        &self,
        name: &str,
        _: ConfigMap,
    ) -> HerderResult<(bool, ConnectorInfo)> {
        Ok((known(name).is_err(), info(name)))
    }
    async fn patch_connector_config(
        &self,
        name: &str,
        _: Vec<(String, Option<String>)>,
    ) -> HerderResult<ConnectorInfo> {
        known(name).map(|()| info(name))
    }
    async fn delete_connector(&self, name: &str) -> HerderResult<()> {
        known(name)
    }
    async fn pause(&self, name: &str) -> HerderResult<()> {
        known(name)
    }
    async fn resume(&self, name: &str) -> HerderResult<()> {
        known(name)
    }
    async fn stop(&self, name: &str) -> HerderResult<()> {
        known(name)
    }
    async fn restart_connector(
        &self,
        name: &str,
        _: RestartRequest,
    ) -> HerderResult<ConnectorStatus> {
        known(name).map(|()| status(name))
    }
    async fn restart_task(&self, name: &str, _: u32) -> HerderResult<()> {
        known(name)
    }
    async fn active_topics(&self, name: &str) -> HerderResult<Vec<String>> {
        known(name).map(|()| vec!["t".into()])
    }
    async fn reset_active_topics(&self, name: &str) -> HerderResult<()> {
        known(name)
    }
    async fn offsets(&self, name: &str) -> HerderResult<Vec<(TopicPartition, i64)>> {
        known(name).map(|()| vec![(TopicPartition::new("t", 0), 42)])
    }
    async fn alter_offsets(&self, name: &str, _: Vec<OffsetChange>) -> HerderResult<()> {
        known(name)
    }
    async fn reset_offsets(&self, name: &str) -> HerderResult<()> {
        known(name)
    }
    async fn rebalance(&self, connector: Option<&str>) -> HerderResult<Placement> {
        connector.map_or(Ok(()), known).map(|()| placement())
    }
    async fn drain(&self, worker: &str, _: bool) -> HerderResult<()> {
        match worker {
            "w:8083" => Ok(()),
            _ => Err(HerderError::NotFound(format!("Worker {worker} not found"))),
        }
    }
    fn plugins(&self, _: bool) -> Vec<PluginInfo> {
        vec![PluginInfo {
            class_name: "FileStreamSink".into(),
            kind: "sink",
            version: Some("1.0".into()),
        }]
    }
    fn plugin_config(&self, plugin: &str) -> HerderResult<Vec<ConfigKeyInfo>> {
        if plugin != "FileStreamSink" {
            return Err(HerderError::NotFound(format!("Unknown plugin {plugin}.")));
        }
        Ok(vec![ConfigKeyInfo {
            name: "topics".into(),
            kind: connect_api::ConfigType::List,
            required: false,
            default_value: None,
            importance: connect_api::Importance::High,
            documentation: "The topics".into(),
            group: Some("Common".into()),
            width: "LONG",
            display_name: "Topics".into(),
            dependents: vec![],
            order: 4,
        }])
    }
    /// (`ConfigInfo`, the entries, is not public: none here.)
    fn validate(&self, plugin: &str, _: ConfigMap) -> HerderResult<ConfigInfos> {
        self.plugin_config(plugin)?;
        Ok(ConfigInfos {
            name: plugin.into(),
            error_count: 0,
            groups: vec!["Common".into()],
            configs: vec![],
        })
    }
    async fn shutdown(&self) {}
}

const BOTH: Listener = Listener {
    main: true,
    admin: true,
};

/// One state for every test: `LogLevels` installs the process's one
/// subscriber, and only the first one's levels can be changed after.
fn state() -> Arc<AppState> {
    static STATE: LazyLock<Arc<AppState>> = LazyLock::new(|| {
        Arc::new(AppState {
            herder: Arc::new(FakeHerder),
            loggers: Arc::new(LogLevels::init(None)),
            cors: None,
            metrics: Some(Arc::new(|| "# TYPE up gauge\nup 1\n".to_string())),
            auth: None,
        })
    });
    STATE.clone()
}

struct Answer {
    status: StatusCode,
    headers: HeaderMap,
    body: Bytes,
}

impl Answer {
    fn json(&self) -> Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {:?}", self.body))
    }
    fn media(&self) -> Option<String> {
        self.headers.get("content-type").map(|v| {
            let v = v.to_str().unwrap();
            v.split(';').next().unwrap().trim().to_string()
        })
    }
}

async fn send(state: &Arc<AppState>, method: &Method, uri: &str, body: Option<&Value>) -> Answer {
    let mut req = Request::builder().method(method.clone()).uri(uri);
    if body.is_some() {
        req = req.header("content-type", "application/json");
    }
    let body = body.map(|b| b.to_string()).unwrap_or_default();
    let req = req.body(Full::new(Bytes::from(body))).unwrap();
    let response = route(state.clone(), BOTH, req).await.unwrap();
    let (parts, body) = response.into_parts();
    Answer {
        status: parts.status,
        headers: parts.headers,
        body: body.collect().await.unwrap().to_bytes(),
    }
}

async fn document(state: &Arc<AppState>) -> Value {
    let answer = send(state, &Method::GET, "/openapi.json", None).await;
    assert_eq!(answer.status, StatusCode::OK);
    assert_eq!(answer.media().as_deref(), Some("application/json"));
    answer.json()
}

/// The methods an OpenAPI path item may hold.
const METHODS: &[&str] = &[
    "get", "put", "post", "delete", "options", "head", "patch", "trace",
];

/// Every (path template, method, operation) of the document.
fn operations(doc: &Value) -> Vec<(String, Method, Value)> {
    let paths = doc["paths"].as_object().expect("paths is an object");
    let mut ops = Vec::new();
    for (path, item) in paths {
        let item = item.as_object().expect("a path item is an object");
        for (method, op) in item {
            assert!(
                METHODS.contains(&method.as_str()),
                "{path}: {method} is not an HTTP method"
            );
            let method = Method::from_bytes(method.to_ascii_uppercase().as_bytes()).unwrap();
            ops.push((path.clone(), method, op.clone()));
        }
    }
    ops
}

fn walk<'a>(value: &'a Value, found: &mut Vec<(&'a str, &'a Value)>) {
    match value {
        Value::Object(map) => {
            for (k, v) in map {
                found.push((k, v));
                walk(v, found);
            }
        }
        Value::Array(items) => items.iter().for_each(|v| walk(v, found)),
        _ => {}
    }
}

/// `#/a/b` → the value it points at in `doc`.
fn resolve<'a>(doc: &'a Value, reference: &str) -> Option<&'a Value> {
    doc.pointer(reference.strip_prefix('#')?)
}

fn template_params(path: &str) -> Vec<&str> {
    path.split('/')
        .filter(|s| s.starts_with('{') && s.ends_with('}'))
        .map(|s| &s[1..s.len() - 1])
        .collect()
}

#[tokio::test]
async fn the_document_is_openapi_3_1() {
    let doc = document(&state()).await;
    assert_eq!(doc["openapi"], "3.1.0");
    assert_eq!(doc["info"]["version"], env!("CARGO_PKG_VERSION"));
    assert!(!doc["info"]["title"].as_str().unwrap().is_empty());
    assert!(
        !doc["components"]["schemas"].as_object().unwrap().is_empty(),
        "no schemas"
    );

    // Every $ref resolves inside the document; no schema keeps its own
    // definitions (schemars' `$defs` all moved to components/schemas).
    let mut entries = Vec::new();
    walk(&doc, &mut entries);
    let refs: Vec<&str> = entries
        .iter()
        .filter(|(k, _)| *k == "$ref")
        .map(|(_, v)| v.as_str().expect("a $ref is a string"))
        .collect();
    assert!(refs.len() > 10, "{refs:?}");
    for r in &refs {
        assert!(
            r.starts_with("#/components/schemas/"),
            "{r} is not a component"
        );
        assert!(resolve(&doc, r).is_some(), "{r} does not resolve");
    }
    assert!(
        !entries
            .iter()
            .any(|(k, _)| *k == "$defs" || *k == "definitions"),
        "definitions left outside components"
    );
    // Every schema in components is used.
    for name in doc["components"]["schemas"].as_object().unwrap().keys() {
        let r = format!("#/components/schemas/{name}");
        assert!(refs.contains(&r.as_str()), "{name} is never used");
    }

    let ops = operations(&doc);
    assert!(ops.len() >= ROUTES.len(), "{} operations", ops.len());
    let mut ids = BTreeSet::new();
    for (path, method, op) in &ops {
        let at = format!("{method} {path}");
        assert!(
            ids.insert(
                op["operationId"]
                    .as_str()
                    .expect("an operationId")
                    .to_string()
            ),
            "{at}: operationId repeated"
        );
        assert!(
            op["summary"].as_str().is_some_and(|s| !s.is_empty()),
            "{at}"
        );
        let responses = op["responses"].as_object().expect("responses");
        assert!(!responses.is_empty(), "{at}: no responses");
        assert!(
            responses.keys().any(|code| code.starts_with('2')),
            "{at}: no success response"
        );
        for (code, response) in responses {
            let code: u16 = code.parse().unwrap_or_else(|_| panic!("{at}: code {code}"));
            assert!(StatusCode::from_u16(code).is_ok(), "{at}: {code}");
            assert!(response["description"].is_string(), "{at} {code}");
            if code == 204 {
                assert!(response.get("content").is_none(), "{at}: a 204 has no body");
            }
            // Errors carry Connect's error body (a starting worker's health aside).
            if code >= 400 && !(path == "/health" && code == 503) {
                assert_eq!(
                    response["content"]["application/json"]["schema"]["$ref"],
                    "#/components/schemas/ErrorMessage",
                    "{at} {code}"
                );
            }
        }
        // Path parameters: exactly the template's, all required.
        let params = op["parameters"].as_array().cloned().unwrap_or_default();
        let in_path: Vec<&str> = params
            .iter()
            .filter(|p| p["in"] == "path")
            .map(|p| {
                assert_eq!(p["required"], true, "{at}");
                p["name"].as_str().unwrap()
            })
            .collect();
        assert_eq!(in_path, template_params(path), "{at}");
        for p in &params {
            assert!(p["schema"].is_object(), "{at}: {p}");
            assert!(
                ["path", "query"].contains(&p["in"].as_str().unwrap()),
                "{at}: {p}"
            );
        }
        if let Some(body) = op.get("requestBody") {
            assert!(
                body["content"]["application/json"]["schema"].is_object(),
                "{at}"
            );
        }
    }
    // The non-JSON answers.
    let media = |path: &str| {
        doc["paths"][path]["get"]["responses"]["200"]["content"]
            .as_object()
            .unwrap()
            .keys()
            .cloned()
            .collect::<Vec<_>>()
    };
    assert_eq!(media("/metrics"), ["text/plain"]);
    assert_eq!(media("/ui"), ["text/html"]);
    assert_eq!(media("/openapi.json"), ["application/json"]);
}

#[test]
fn routes_are_unique_and_unambiguous() {
    for (i, a) in ROUTES.iter().enumerate() {
        assert!(!a.methods.is_empty(), "{}", a.path);
        for b in &ROUTES[i + 1..] {
            let (sa, sb): (Vec<_>, Vec<_>) = (a.segments().collect(), b.segments().collect());
            let overlap = sa.len() == sb.len()
                && sa
                    .iter()
                    .zip(&sb)
                    .all(|(x, y)| x == y || Route::is_param(x) || Route::is_param(y));
            assert!(!overlap, "{} and {} match the same paths", a.path, b.path);
        }
    }
}

#[tokio::test]
async fn every_route_is_documented() {
    let doc = document(&state()).await;
    for route in ROUTES {
        for method in route.methods {
            let op = &doc["paths"][route.path][method.as_str().to_ascii_lowercase()];
            assert!(op.is_object(), "{method} {} is not documented", route.path);
        }
    }
}

/// A path template with sample values: the test herder's connector, task,
/// plugin and worker, and a logger that exists.
fn instantiate(path: &str, connector: &str) -> String {
    let uri = path
        .replace("{connector}", connector)
        .replace("{task}", "0")
        .replace("{plugin}", "FileStreamSink")
        .replace("{worker}", "w:8083")
        .replace("{logger}", "root");
    assert!(!uri.contains('{'), "{path}: a parameter without a sample");
    uri
}

/// A valid body for each request schema the document names.
fn sample_body(doc: &Value, op: &Value) -> Option<Value> {
    let schema = &op.get("requestBody")?["content"]["application/json"]["schema"];
    let name = schema["$ref"]
        .as_str()
        .expect("request bodies are named types");
    let config = json!({"connector.class": "FileStreamSink", "topics": "t", "tasks.max": 1});
    let body = match name.rsplit('/').next().unwrap() {
        "CreateConnectorRequest" => json!({"name": "new", "config": config}),
        "ConfigValues" => config,
        "ConnectorOffsets" => json!({"offsets": [
            {"partition": {"kafka_topic": "t", "kafka_partition": 0}, "offset": {"kafka_offset": 5}},
            {"partition": {"kafka_topic": "t", "kafka_partition": "1"}, "offset": null},
        ]}),
        "LoggerLevelRequest" => json!({"level": "DEBUG"}),
        other => panic!("no sample body for {other}"),
    };
    // The sample fits the documented schema, or the sample is wrong.
    if let Err(e) = fits(doc, schema, &body) {
        panic!("sample body for {name} does not fit: {e}");
    }
    Some(body)
}

#[tokio::test]
async fn every_documented_operation_is_served_as_documented() {
    let state = state();
    let doc = document(&state).await;
    for (path, method, op) in operations(&doc) {
        let body = sample_body(&doc, &op);
        let responses = &op["responses"];
        // The known connector: a success, answered as documented.
        let uri = instantiate(&path, "c");
        let at = format!("{method} {uri}");
        let answer = send(&state, &method, &uri, body.as_ref()).await;
        assert_ne!(answer.status, StatusCode::METHOD_NOT_ALLOWED, "{at}");
        assert!(answer.status.is_success(), "{at}: {:?}", answer.body);
        let response = &responses[answer.status.as_str()];
        assert!(response.is_object(), "{at}: {} undocumented", answer.status);
        match response.get("content").and_then(Value::as_object) {
            None => assert!(answer.body.is_empty(), "{at}: a body not documented"),
            Some(content) => {
                let media = answer.media().unwrap_or_else(|| panic!("{at}: no type"));
                let documented = content
                    .get(&media)
                    .unwrap_or_else(|| panic!("{at}: {media} not documented"));
                if media == "application/json" {
                    let value = answer.json();
                    if let Err(e) = fits(&doc, &documented["schema"], &value) {
                        panic!("{at}: {value} does not fit its schema: {e}");
                    }
                } else {
                    assert!(!answer.body.is_empty(), "{at}");
                }
            }
        }
        // An unknown connector: the herder's 404 (not the router's), documented.
        if path.contains("{connector}") {
            let uri = instantiate(&path, "nope");
            let at = format!("{method} {uri}");
            let answer = send(&state, &method, &uri, body.as_ref()).await;
            assert_ne!(answer.status, StatusCode::METHOD_NOT_ALLOWED, "{at}");
            let response = &responses[answer.status.as_str()];
            assert!(response.is_object(), "{at}: {} undocumented", answer.status);
            if answer.status == StatusCode::NOT_FOUND {
                assert_eq!(
                    answer.json()["message"],
                    "Connector nope not found",
                    "{at}: the router's 404"
                );
            }
            if !answer.body.is_empty() {
                let schema = &response["content"]["application/json"]["schema"];
                fits(&doc, schema, &answer.json()).unwrap_or_else(|e| panic!("{at}: {e}"));
            }
        }
    }
}

#[tokio::test]
async fn nothing_undocumented_is_served() {
    let state = state();
    let doc = document(&state).await;
    let ops = operations(&doc);
    let paths: BTreeSet<&String> = ops.iter().map(|(p, _, _)| p).collect();
    let all = [
        Method::GET,
        Method::POST,
        Method::PUT,
        Method::PATCH,
        Method::DELETE,
    ];
    for path in paths {
        let uri = instantiate(path, "c");
        let documented: Vec<&Method> = ops
            .iter()
            .filter(|(p, _, _)| p == path)
            .map(|(_, m, _)| m)
            .collect();
        for method in all.iter().filter(|m| !documented.contains(m)) {
            let answer = send(&state, method, &uri, Some(&json!({}))).await;
            assert_eq!(
                (answer.status, answer.json()),
                (
                    StatusCode::METHOD_NOT_ALLOWED,
                    json!({"error_code": 405, "message": "HTTP 405 Method Not Allowed"})
                ),
                "{method} {uri} is served but not documented"
            );
        }
        // HEAD comes with GET only; OPTIONS names exactly what is documented.
        let head = send(&state, &Method::HEAD, &uri, None).await;
        let has_get = documented.contains(&&Method::GET);
        assert_eq!(
            head.status == StatusCode::METHOD_NOT_ALLOWED,
            !has_get,
            "HEAD {uri}: {}",
            head.status
        );
        let options = send(&state, &Method::OPTIONS, &uri, None).await;
        let allow: BTreeSet<&str> = options.headers["allow"]
            .to_str()
            .unwrap()
            .split(',')
            .collect();
        let mut expected: BTreeSet<&str> = documented.iter().map(|m| m.as_str()).collect();
        expected.insert("OPTIONS");
        if has_get {
            expected.insert("HEAD");
        }
        assert_eq!(allow, expected, "OPTIONS {uri}");
    }
    // Paths the document does not list are not served.
    for uri in [
        "/openapi",
        "/connectors/c/nothing",
        "/admin",
        "/connectors/c/tasks/0",
    ] {
        let answer = send(&state, &Method::GET, uri, None).await;
        assert_eq!(answer.status, StatusCode::NOT_FOUND, "{uri}");
        assert_eq!(answer.json()["message"], "HTTP 404 Not Found", "{uri}");
    }
}

/// Whether `value` fits `schema`: the JSON Schema 2020-12 keywords the
/// document uses (a small validator, so the test needs no other crate; an
/// unknown keyword fails, so that nothing is silently not checked).
fn fits(doc: &Value, schema: &Value, value: &Value) -> Result<(), String> {
    let schema = match schema {
        Value::Bool(true) => return Ok(()),
        Value::Bool(false) => return Err(format!("nothing fits, {value} given")),
        Value::Object(map) => map,
        other => return Err(format!("not a schema: {other}")),
    };
    for (keyword, arg) in schema {
        match keyword.as_str() {
            "$ref" => {
                let target = resolve(doc, arg.as_str().unwrap()).ok_or("dangling $ref")?;
                fits(doc, target, value).map_err(|e| format!("{arg}: {e}"))?;
            }
            "type" => {
                let types: Vec<&str> = match arg {
                    Value::String(t) => vec![t.as_str()],
                    Value::Array(ts) => ts.iter().map(|t| t.as_str().unwrap()).collect(),
                    _ => return Err(format!("bad type {arg}")),
                };
                let is = |t: &str| match t {
                    "null" => value.is_null(),
                    "boolean" => value.is_boolean(),
                    "object" => value.is_object(),
                    "array" => value.is_array(),
                    "string" => value.is_string(),
                    "number" => value.is_number(),
                    "integer" => value.is_i64() || value.is_u64(),
                    _ => false,
                };
                if !types.iter().any(|t| is(t)) {
                    return Err(format!("{value} is not {arg}"));
                }
            }
            "enum" => {
                if !arg.as_array().unwrap().contains(value) {
                    return Err(format!("{value} not in {arg}"));
                }
            }
            "const" => {
                if arg != value {
                    return Err(format!("{value} is not {arg}"));
                }
            }
            "minimum" => {
                if value.as_f64().is_some_and(|v| v < arg.as_f64().unwrap()) {
                    return Err(format!("{value} < {arg}"));
                }
            }
            "maximum" => {
                if value.as_f64().is_some_and(|v| v > arg.as_f64().unwrap()) {
                    return Err(format!("{value} > {arg}"));
                }
            }
            "minItems" => {
                if value
                    .as_array()
                    .is_some_and(|a| (a.len() as u64) < arg.as_u64().unwrap())
                {
                    return Err(format!("{value}: fewer than {arg} items"));
                }
            }
            "required" => {
                if let Some(obj) = value.as_object() {
                    for key in arg.as_array().unwrap() {
                        if !obj.contains_key(key.as_str().unwrap()) {
                            return Err(format!("{value}: {key} missing"));
                        }
                    }
                }
            }
            "properties" => {
                if let Some(obj) = value.as_object() {
                    for (key, sub) in arg.as_object().unwrap() {
                        if let Some(v) = obj.get(key) {
                            fits(doc, sub, v).map_err(|e| format!(".{key}: {e}"))?;
                        }
                    }
                }
            }
            "additionalProperties" => {
                if let Some(obj) = value.as_object() {
                    let declared = schema.get("properties").and_then(Value::as_object);
                    for (key, v) in obj {
                        if !declared.is_some_and(|d| d.contains_key(key)) {
                            fits(doc, arg, v).map_err(|e| format!(".{key}: {e}"))?;
                        }
                    }
                }
            }
            "items" => {
                if let Some(items) = value.as_array() {
                    for (i, v) in items.iter().enumerate() {
                        fits(doc, arg, v).map_err(|e| format!("[{i}]: {e}"))?;
                    }
                }
            }
            "anyOf" | "oneOf" => {
                let fitting = arg
                    .as_array()
                    .unwrap()
                    .iter()
                    .filter(|s| fits(doc, s, value).is_ok())
                    .count();
                let ok = if keyword == "oneOf" {
                    fitting == 1
                } else {
                    fitting >= 1
                };
                if !ok {
                    return Err(format!("{value}: {fitting} of {keyword} fit"));
                }
            }
            "allOf" => {
                for s in arg.as_array().unwrap() {
                    fits(doc, s, value)?;
                }
            }
            "pattern" | "format" | "description" | "title" | "default" | "examples"
            | "deprecated" | "readOnly" | "writeOnly" => {}
            other => return Err(format!("the test's validator does not know {other}")),
        }
    }
    Ok(())
}

#[test]
fn the_validator_refuses_what_does_not_fit() {
    let doc = json!({"components": {"schemas": {"P": {
        "type": "object",
        "properties": {"n": {"type": "integer", "minimum": 0}, "s": {"type": ["string", "null"]}},
        "required": ["n"],
        "additionalProperties": false,
    }}}});
    let p = json!({"$ref": "#/components/schemas/P"});
    assert!(fits(&doc, &p, &json!({"n": 1, "s": null})).is_ok());
    assert!(fits(&doc, &p, &json!({"n": -1})).is_err());
    assert!(fits(&doc, &p, &json!({"n": 1.5})).is_err());
    assert!(fits(&doc, &p, &json!({"s": "x"})).is_err());
    assert!(fits(&doc, &p, &json!({"n": 1, "x": 2})).is_err());
    assert!(
        fits(
            &doc,
            &json!({"type": "array", "items": p}),
            &json!([{"n": "1"}])
        )
        .is_err()
    );
    assert!(
        fits(
            &doc,
            &json!({"oneOf": [{"type": "array"}, {"type": "object"}]}),
            &json!(1)
        )
        .is_err()
    );
    assert!(fits(&doc, &json!({"unknownKeyword": 1}), &json!(1)).is_err());
}
