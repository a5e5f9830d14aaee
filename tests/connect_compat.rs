//! Dropping in beside Kafka Connect: the REST surface row by row against
//! what Connect answers (each row names the Connect source it follows),
//! secrets that survive read-then-write, the pause/restart/resume cycle,
//! Connect's worker settings, offsets set while stopped, and reads that
//! never wait behind a slow write. Real broker, real worker processes.

mod support;

use std::path::Path;
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use support::kafka::{self, Rec};
use support::worker::lines;
use support::{Broker, Worker, eventually};

fn file_config(dir: &Path, topic: &str) -> Value {
    json!({"connector.class": "org.apache.kafka.connect.file.FileStreamSinkConnector", "topics": topic,
           "file": dir.join(format!("{topic}.txt")).display().to_string(), "tasks.max": "1",
           "value.converter": "org.apache.kafka.connect.storage.StringConverter"})
}

/// What a row expects back.
enum Expect {
    /// Connect's error body (`error_code` = status, exactly two fields) whose message contains this.
    Error(&'static str),
    /// No body at all.
    Empty,
    /// A JSON body for which the check holds (described for the failure message).
    Json(&'static str, fn(&Value) -> bool),
}

struct Row {
    /// The Connect source file and method this answer comes from.
    source: &'static str,
    method: &'static str,
    path: &'static str,
    body: Option<Value>,
    status: u16,
    expect: Expect,
}

fn row(
    source: &'static str,
    method: &'static str,
    path: &'static str,
    body: Option<Value>,
    status: u16,
    expect: Expect,
) -> Row {
    Row {
        source,
        method,
        path,
        body,
        status,
        expect,
    }
}

fn names(defs: &Value) -> Vec<&str> {
    defs.as_array()
        .map(|a| a.iter().filter_map(|d| d["name"].as_str()).collect())
        .unwrap_or_default()
}

fn def<'a>(defs: &'a Value, name: &str) -> &'a Value {
    defs.as_array()
        .and_then(|a| a.iter().find(|d| d["name"] == name))
        .unwrap_or(&Value::Null)
}

fn report_entry<'a>(report: &'a Value, name: &str) -> &'a Value {
    report["configs"]
        .as_array()
        .and_then(|a| a.iter().find(|c| c["value"]["name"] == name))
        .unwrap_or(&Value::Null)
}

#[tokio::test(flavor = "multi_thread")]
async fn conformance_table_matches_connect() {
    use Expect::*;
    let dir = tempfile::tempdir().unwrap();
    let broker = Broker::start();
    kafka::create_topic(&broker.bootstrap(), "conf", 1).await;
    let w = Worker::start(&broker.bootstrap(), dir.path(), &[]).await;
    let config = file_config(dir.path(), "conf");
    let (code, body) = w
        .call(
            "POST",
            "/connectors",
            Some(&json!({"name": "c", "config": config})),
        )
        .await;
    assert_eq!(code, 201, "{body}");
    w.wait_state("c", "RUNNING", 1).await;
    let patch_offsets = json!({"offsets": [{"partition": {"kafka_topic": "conf", "kafka_partition": 0}, "offset": {"kafka_offset": 1}}]});
    let valid = json!({"name": "v", "topics": "conf", "file": "/tmp/v.txt"});
    let mut bad_header_converter = valid.clone();
    bad_header_converter["header.converter"] = json!("com.example.NoSuchHeaderConverter");
    let mut with_override = valid.clone();
    with_override["consumer.override.max.poll.records"] = json!("100");
    with_override["value.converter"] = json!("org.apache.kafka.connect.json.JsonConverter");

    let rows = vec![
        row(
            "RootResource.serverInfo",
            "GET",
            "/",
            None,
            200,
            Json("version 3.9.0, commit, cluster id, host version", |v| {
                v["version"] == "3.9.0"
                    && v["commit"].is_string()
                    && v["kafka_cluster_id"].is_string()
                    && v["connect_host_version"].is_string()
            }),
        ),
        row(
            "RootResource.healthCheck (KIP-1017)",
            "GET",
            "/health",
            None,
            200,
            Json("healthy", |v| {
                v["status"] == "healthy" && v["message"].is_string()
            }),
        ),
        row(
            "ConnectorsResource.listConnectors",
            "GET",
            "/connectors",
            None,
            200,
            Json("[\"c\"]", |v| *v == json!(["c"])),
        ),
        row(
            "ConnectorsResource.listConnectors",
            "GET",
            "/connectors?expand=status",
            None,
            200,
            Json("status expansion", |v| {
                v["c"]["status"]["connector"]["state"].is_string() && v["c"].get("info").is_none()
            }),
        ),
        row(
            "ConnectorsResource.listConnectors",
            "GET",
            "/connectors?expand=info",
            None,
            200,
            Json("info expansion", |v| v["c"]["info"]["type"] == "sink"),
        ),
        row(
            "ConnectorsResource.listConnectors (unknown expansion ignored)",
            "GET",
            "/connectors?expand=bogus",
            None,
            200,
            Json("{c: {}}", |v| *v == json!({"c": {}})),
        ),
        row(
            "ConnectorsResource.createConnector (AlreadyExistsException)",
            "POST",
            "/connectors",
            Some(
                json!({"name": "c", "config": {"connector.class": "FileStreamSink", "topics": "conf", "file": "/tmp/x"}}),
            ),
            409,
            Error("already exists"),
        ),
        row(
            "ConnectorsResource.createConnector (AbstractHerder unknown class)",
            "POST",
            "/connectors",
            Some(json!({"name": "x", "config": {"connector.class": "Nope", "topics": "conf"}})),
            400,
            Error("Failed to find any class that implements Connector"),
        ),
        row(
            "AbstractHerder.maybeAddConfigErrors",
            "POST",
            "/connectors",
            Some(
                json!({"name": "x", "config": {"connector.class": "FileStreamSink", "topics": "conf", "tasks.max": "0"}}),
            ),
            400,
            Error("Connector configuration is invalid and contains the following 1 error(s)"),
        ),
        row(
            "Deliberate difference: one name rule for every source",
            "POST",
            "/connectors",
            Some(
                json!({"name": "..", "config": {"connector.class": "FileStreamSink", "topics": "conf"}}),
            ),
            400,
            Error("cannot be addressed in a REST path"),
        ),
        row(
            "Deliberate difference: one name rule for every source",
            "PUT",
            "/connectors/tab%09name/config",
            Some(json!({"connector.class": "FileStreamSink", "topics": "conf"})),
            400,
            Error("may not contain '/' or control characters"),
        ),
        row(
            "ConnectorsResource.getConnector",
            "GET",
            "/connectors/c",
            None,
            200,
            Json("ConnectorInfo", |v| {
                v["name"] == "c"
                    && v["config"].is_object()
                    && v["tasks"] == json!([{"connector": "c", "task": 0}])
                    && v["type"] == "sink"
            }),
        ),
        row(
            "ConnectorsResource.getConnector (NotFoundException)",
            "GET",
            "/connectors/missing",
            None,
            404,
            Error("Connector missing not found"),
        ),
        row(
            "ConnectorsResource.getConnectorConfig",
            "GET",
            "/connectors/c/config",
            None,
            200,
            Json("the config", |v| v["topics"] == "conf" && v["name"] == "c"),
        ),
        row(
            "ConnectorsResource.putConnectorConfig (update)",
            "PUT",
            "/connectors/c/config",
            Some(config.clone()),
            200,
            Json("ConnectorInfo", |v| v["name"] == "c" && v["type"] == "sink"),
        ),
        row(
            "ConnectorsResource.putConnectorConfig (create)",
            "PUT",
            "/connectors/made-by-put/config",
            Some(
                json!({"connector.class": "FileStreamSink", "topics": "conf", "file": "/tmp/put.txt"}),
            ),
            201,
            Json("ConnectorInfo", |v| v["name"] == "made-by-put"),
        ),
        row(
            "ConnectorsResource.putConnectorConfig (name mismatch)",
            "PUT",
            "/connectors/c/config",
            Some(json!({"name": "other", "connector.class": "FileStreamSink", "topics": "conf"})),
            400,
            Error(
                "Connector name configuration (other) doesn't match connector name in the URL (c)",
            ),
        ),
        row(
            "ConnectorsResource.patchConnectorConfig",
            "PATCH",
            "/connectors/made-by-put/config",
            Some(json!({"tasks.max": "2"})),
            200,
            Json("patched", |v| v["config"]["tasks.max"] == "2"),
        ),
        row(
            "ConnectorsResource.patchConnectorConfig (NotFoundException)",
            "PATCH",
            "/connectors/missing/config",
            Some(json!({"tasks.max": "2"})),
            404,
            Error("Connector missing not found"),
        ),
        row(
            "ConnectorsResource.destroyConnector",
            "DELETE",
            "/connectors/made-by-put",
            None,
            204,
            Empty,
        ),
        row(
            "ConnectorsResource.getConnectorStatus (NotFoundException)",
            "GET",
            "/connectors/missing/status",
            None,
            404,
            Error("Connector missing not found"),
        ),
        row(
            "ConnectorsResource.getTaskConfigs (NotFoundException)",
            "GET",
            "/connectors/missing/tasks",
            None,
            404,
            Error("Connector missing not found"),
        ),
        row(
            "ConnectorsResource.getConnectorStatus",
            "GET",
            "/connectors/c/status",
            None,
            200,
            Json("ConnectorStateInfo", |v| {
                v["name"] == "c"
                    && v["type"] == "sink"
                    && v["connector"]["worker_id"].is_string()
                    && v["tasks"][0]["id"] == 0
                    && v["tasks"][0]["worker_id"].is_string()
            }),
        ),
        row(
            "ConnectorsResource.getTaskConfigs",
            "GET",
            "/connectors/c/tasks",
            None,
            200,
            Json("TaskInfo list", |v| {
                v[0]["id"] == json!({"connector": "c", "task": 0})
                    && v[0]["config"]["topics"] == "conf"
            }),
        ),
        row(
            "ConnectorsResource.getTasksConfig (deprecated, kcctl)",
            "GET",
            "/connectors/c/tasks-config",
            None,
            200,
            Json("{\"c-0\": config}", |v| v["c-0"]["topics"] == "conf"),
        ),
        row(
            "ConnectorsResource.getTasksConfig",
            "GET",
            "/connectors/missing/tasks-config",
            None,
            404,
            Error("Connector missing not found"),
        ),
        row(
            "ConnectorsResource.getTaskStatus",
            "GET",
            "/connectors/c/tasks/0/status",
            None,
            200,
            Json("TaskState", |v| {
                v["id"] == 0 && v["state"].is_string() && v["worker_id"].is_string()
            }),
        ),
        row(
            "ConnectorsResource.getTaskStatus",
            "GET",
            "/connectors/c/tasks/7/status",
            None,
            404,
            Error("c-7"),
        ),
        row(
            "ConnectorsResource.restartConnector (plain)",
            "POST",
            "/connectors/c/restart",
            None,
            204,
            Empty,
        ),
        row(
            "ConnectorsResource.restartConnector (includeTasks)",
            "POST",
            "/connectors/c/restart?includeTasks=true",
            None,
            202,
            Json("ConnectorStateInfo", |v| {
                v["connector"]["state"].is_string() && v["tasks"].is_array()
            }),
        ),
        row(
            "ConnectorsResource.restartConnector (Boolean.valueOf: not \"true\" is false)",
            "POST",
            "/connectors/c/restart?includeTasks=1&onlyFailed=yes",
            None,
            204,
            Empty,
        ),
        row(
            "ConnectorsResource.restartTask",
            "POST",
            "/connectors/c/tasks/0/restart",
            None,
            204,
            Empty,
        ),
        row(
            "ConnectorsResource.restartTask",
            "POST",
            "/connectors/c/tasks/7/restart",
            None,
            404,
            Error("c-7"),
        ),
        row(
            "ConnectorsResource.pauseConnector",
            "PUT",
            "/connectors/c/pause",
            None,
            202,
            Empty,
        ),
        row(
            "ConnectorsResource.resumeConnector",
            "PUT",
            "/connectors/c/resume",
            None,
            202,
            Empty,
        ),
        row(
            "ConnectorsResource.pauseConnector",
            "PUT",
            "/connectors/missing/pause",
            None,
            404,
            Error("not found"),
        ),
        row(
            "ConnectorsResource.getConnectorActiveTopics",
            "GET",
            "/connectors/c/topics",
            None,
            200,
            Json("{c: {topics: [...]}}", |v| v["c"]["topics"].is_array()),
        ),
        row(
            "ConnectorsResource.getConnectorActiveTopics (no existence check)",
            "GET",
            "/connectors/missing/topics",
            None,
            200,
            Json("empty topics", |v| *v == json!({"missing": {"topics": []}})),
        ),
        row(
            "ConnectorsResource.resetConnectorActiveTopics",
            "PUT",
            "/connectors/c/topics/reset",
            None,
            202,
            Empty,
        ),
        row(
            "ConnectorsResource.getOffsets (Worker.sinkConnectorOffsets)",
            "GET",
            "/connectors/c/offsets",
            None,
            200,
            Json("{offsets: [...]}", |v| v["offsets"].is_array()),
        ),
        row(
            "AbstractHerder.alterConnectorOffsets (must be STOPPED)",
            "PATCH",
            "/connectors/c/offsets",
            Some(patch_offsets.clone()),
            400,
            Error("must be in the STOPPED state"),
        ),
        row(
            "ConnectorsResource.alterConnectorOffsets (empty list)",
            "PATCH",
            "/connectors/c/offsets",
            Some(json!({"offsets": []})),
            400,
            Error("Partitions / offsets need to be provided"),
        ),
        row(
            "AbstractHerder.resetConnectorOffsets (must be STOPPED)",
            "DELETE",
            "/connectors/c/offsets",
            None,
            400,
            Error("must be in the STOPPED state"),
        ),
        row(
            "ConnectorPluginsResource.listConnectorPlugins",
            "GET",
            "/connector-plugins",
            None,
            200,
            Json("sink plugins with versions", |v| {
                v.as_array().is_some_and(|a| {
                    !a.is_empty()
                        && a.iter()
                            .all(|p| p["type"] == "sink" && p["version"].is_string())
                })
            }),
        ),
        row(
            "ConnectorPluginsResource.listConnectorPlugins (blank connectorsOnly is the default)",
            "GET",
            "/connector-plugins?connectorsOnly=",
            None,
            200,
            Json("sinks only", |v| {
                v.as_array()
                    .is_some_and(|a| a.iter().all(|p| p["type"] == "sink"))
            }),
        ),
        row(
            "ConnectorPluginsResource.listConnectorPlugins",
            "GET",
            "/connector-plugins?connectorsOnly=false",
            None,
            200,
            Json("converters too", |v| {
                v.as_array().is_some_and(|a| {
                    a.iter().any(|p| {
                        p["class"] == "org.apache.kafka.connect.json.JsonConverter"
                            && p["type"] == "converter"
                    })
                })
            }),
        ),
        row(
            "AbstractHerder.connectorPluginConfig (own keys, then SinkConnectorConfig's)",
            "GET",
            "/connector-plugins/FileStreamSink/config",
            None,
            200,
            Json("file first, then Connect's sink keys", |v| {
                let n = names(v);
                n.first() == Some(&"file")
                    && [
                        "name",
                        "connector.class",
                        "tasks.max",
                        "tasks.max.enforce",
                        "key.converter",
                        "value.converter",
                        "header.converter",
                        "transforms",
                        "predicates",
                        "config.action.reload",
                        "topics",
                        "topics.regex",
                        "errors.tolerance",
                        "errors.deadletterqueue.topic.name",
                    ]
                    .iter()
                    .all(|k| n.contains(k))
                    && def(v, "tasks.max")["type"] == "INT"
                    && def(v, "tasks.max")["importance"] == "HIGH"
                    && def(v, "tasks.max")["default_value"] == "1"
                    && def(v, "tasks.max")["display_name"] == "Tasks max"
                    && def(v, "key.converter")["type"] == "CLASS"
                    && def(v, "header.converter")["type"] == "CLASS"
                    && def(v, "errors.tolerance")["default_value"] == "none"
                    && def(v, "errors.tolerance")["group"] == "Error Handling"
                    && def(v, "transforms")["group"] == "Transforms"
                    && def(v, "transforms")["type"] == "LIST"
                    && def(v, "errors.deadletterqueue.topic.replication.factor")["type"] == "SHORT"
            }),
        ),
        row(
            "AbstractHerder.connectorPluginConfig (Converter.config())",
            "GET",
            "/connector-plugins/org.apache.kafka.connect.json.JsonConverter/config",
            None,
            200,
            Json("JsonConverterConfig", |v| {
                def(v, "converter.type")["required"] == true
                    && def(v, "schemas.enable")["type"] == "BOOLEAN"
                    && def(v, "schemas.enable")["default_value"] == "true"
                    && def(v, "schemas.enable")["group"] == "Schemas"
                    && def(v, "converter.type")["group"].is_null()
            }),
        ),
        row(
            "AbstractHerder.connectorPluginConfig (StringConverterConfig)",
            "GET",
            "/connector-plugins/StringConverter/config",
            None,
            200,
            Json("converter.encoding", |v| {
                def(v, "converter.encoding")["default_value"] == "UTF-8"
            }),
        ),
        row(
            "AbstractHerder.connectorPluginConfig (AvroConverterConfig, AvroDataConfig)",
            "GET",
            "/connector-plugins/io.confluent.connect.avro.AvroConverter/config",
            None,
            200,
            Json("schema.registry.url", |v| {
                def(v, "schema.registry.url")["type"] == "LIST"
                    && def(v, "schema.registry.url")["required"] == true
                    && def(v, "basic.auth.user.info")["type"] == "PASSWORD"
                    && def(v, "bearer.auth.token")["type"] == "PASSWORD"
                    && def(v, "flatten.singleton.unions")["default_value"] == "true"
                    && def(v, "generalized.sum.type.support")["type"] == "BOOLEAN"
            }),
        ),
        row(
            "AbstractHerder.connectorPluginConfig",
            "GET",
            "/connector-plugins/Nope/config",
            None,
            404,
            Error("Unknown plugin Nope."),
        ),
        row(
            "ConnectorPluginsResource.validateConfigs",
            "PUT",
            "/connector-plugins/FileStreamSink/config/validate",
            Some(valid),
            200,
            Json("ConfigInfos without errors", |v| {
                v["error_count"] == 0
                    && v["groups"]
                        == json!([
                            "Common",
                            "Transforms",
                            "Predicates",
                            "Error Handling",
                            "File"
                        ])
                    && report_entry(v, "tasks.max")["definition"]["type"] == "INT"
            }),
        ),
        row(
            "AbstractHerder.validateConnectorConfig (header.converter ConcreteSubClassValidator)",
            "PUT",
            "/connector-plugins/FileStreamSink/config/validate",
            Some(bad_header_converter),
            200,
            Json("one error on header.converter", |v| {
                v["error_count"] == 1
                    && report_entry(v, "header.converter")["value"]["errors"]
                        == json!([
                            "Invalid value com.example.NoSuchHeaderConverter for configuration header.converter: Class com.example.NoSuchHeaderConverter could not be found."
                        ])
            }),
        ),
        row(
            "AbstractHerder.validateClientOverrides / converter config",
            "PUT",
            "/connector-plugins/FileStreamSink/config/validate",
            Some(with_override),
            200,
            Json("consumer override and converter entries", |v| {
                report_entry(v, "consumer.override.max.poll.records")["definition"]["display_name"]
                    == "max.poll.records"
                    && report_entry(v, "value.converter.schemas.enable")["value"]["value"] == "true"
                    && report_entry(v, "value.converter.converter.type")["value"]["value"]
                        == "value"
            }),
        ),
        row(
            "ConnectorPluginsResource.validateConfigs",
            "PUT",
            "/connector-plugins/Nope/config/validate",
            Some(json!({})),
            404,
            Error("Unknown plugin Nope."),
        ),
        row(
            "LoggingResource.listLoggers",
            "GET",
            "/admin/loggers",
            None,
            200,
            Json("LoggerLevel map", |v| {
                v["root"]["level"].is_string() && v["root"].get("last_modified").is_some()
            }),
        ),
        row(
            "LoggingResource.getLogger",
            "GET",
            "/admin/loggers/root",
            None,
            200,
            Json("level, last_modified null", |v| {
                v["level"].is_string() && v["last_modified"].is_null()
            }),
        ),
        row(
            "LoggingResource.setLevel (worker scope)",
            "PUT",
            "/admin/loggers/connect_rest",
            Some(json!({"level": "DEBUG"})),
            200,
            Json("loggers changed", |v| *v == json!(["connect_rest"])),
        ),
        row(
            "LoggingResource.setLevel (cluster scope)",
            "PUT",
            "/admin/loggers/connect_rest?scope=cluster",
            Some(json!({"level": "INFO"})),
            204,
            Empty,
        ),
        row(
            "LoggingResource.setLevel (unknown scope: worker)",
            "PUT",
            "/admin/loggers/connect_rest?scope=galaxy",
            Some(json!({"level": "WARN"})),
            200,
            Json("loggers changed", |v| *v == json!(["connect_rest"])),
        ),
        row(
            "LoggingResource.setLevel",
            "PUT",
            "/admin/loggers/connect_rest",
            Some(json!({"lvl": "DEBUG"})),
            400,
            Error("Desired 'level' parameter was not specified in request."),
        ),
        row(
            "LoggingResource.setLevel (invalid level is NotFound)",
            "PUT",
            "/admin/loggers/connect_rest",
            Some(json!({"level": "LOUD"})),
            404,
            Error("invalid log level 'LOUD'."),
        ),
        row(
            "LoggingResource.getLogger (KIP-976 last_modified)",
            "GET",
            "/admin/loggers/connect_rest",
            None,
            200,
            Json("WARN, modified", |v| {
                v["level"] == "WARN" && v["last_modified"].is_i64()
            }),
        ),
        row(
            "LoggingResource.getLogger",
            "GET",
            "/admin/loggers/no.such.logger",
            None,
            404,
            Error("Logger no.such.logger not found."),
        ),
        row(
            "Jersey (unmatched path)",
            "GET",
            "/nothing/here",
            None,
            404,
            Error("HTTP 404 Not Found"),
        ),
        row(
            "Jersey (method not allowed)",
            "DELETE",
            "/connectors",
            None,
            405,
            Error("HTTP 405 Method Not Allowed"),
        ),
        row(
            "Deliberate difference: Connect answers 500",
            "POST",
            "/connectors",
            Some(json!({"name": "x", "config": {}, "extra": 1})),
            400,
            Error("Unrecognized field"),
        ),
        row(
            "ConnectorsResource.stopConnector",
            "PUT",
            "/connectors/c/stop",
            None,
            204,
            Empty,
        ),
        row(
            "ConnectorsResource.getTasksConfig (stopped: no tasks)",
            "GET",
            "/connectors/c/tasks-config",
            None,
            200,
            Json("{}", |v| *v == json!({})),
        ),
        row(
            "ConnectorsResource.alterConnectorOffsets (numbers as strings, SinkUtils.parseSinkConnectorOffsets)",
            "PATCH",
            "/connectors/c/offsets",
            Some(
                json!({"offsets": [{"partition": {"kafka_topic": "conf", "kafka_partition": "0"}, "offset": {"kafka_offset": "0"}}]}),
            ),
            200,
            Json("altered", |v| {
                v["message"] == "The offsets for this connector have been altered successfully"
            }),
        ),
        row(
            "SinkUtils.parseSinkConnectorOffsets",
            "PATCH",
            "/connectors/c/offsets",
            Some(
                json!({"offsets": [{"partition": {"kafka_topic": "conf", "kafka_partition": "zero"}, "offset": {"kafka_offset": 0}}]}),
            ),
            400,
            Error("kafka_partition"),
        ),
        row(
            "ConnectorsResource.destroyConnector",
            "DELETE",
            "/connectors/c",
            None,
            204,
            Empty,
        ),
        row(
            "ConnectorsResource.destroyConnector",
            "DELETE",
            "/connectors/c",
            None,
            404,
            Error("Connector c not found"),
        ),
    ];

    let mut failures = Vec::new();
    for r in &rows {
        let (status, body) = w.call(r.method, r.path, r.body.as_ref()).await;
        let ok = status == r.status
            && match &r.expect {
                Error(fragment) => {
                    body["error_code"] == r.status
                        && body["message"]
                            .as_str()
                            .is_some_and(|m| m.contains(fragment))
                        && body.as_object().is_some_and(|o| o.len() == 2)
                }
                Empty => body.is_null(),
                Json(_, check) => check(&body),
            };
        if !ok {
            let wanted = match &r.expect {
                Error(f) => format!("error containing {f:?}"),
                Empty => "no body".to_string(),
                Json(what, _) => what.to_string(),
            };
            failures.push(format!(
                "{} {} ({}): want {} {wanted}, got {status} {body}",
                r.method, r.path, r.source, r.status
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} rows differ from Connect:\n{}",
        failures.len(),
        rows.len(),
        failures.join("\n")
    );

    // Jersey's HEAD and OPTIONS for every resource.
    let client = reqwest::Client::new();
    let head = client.head(w.url("/connectors")).send().await.unwrap();
    assert_eq!(head.status(), 200);
    assert_eq!(head.headers()["content-type"], "application/json");
    assert!(head.bytes().await.unwrap().is_empty(), "HEAD has no body");
    let options = client
        .request(reqwest::Method::OPTIONS, w.url("/connectors/any/config"))
        .send()
        .await
        .unwrap();
    assert_eq!(options.status(), 200);
    let allow: Vec<String> = options.headers()["allow"]
        .to_str()
        .unwrap()
        .split(',')
        .map(str::to_string)
        .collect();
    for method in ["GET", "PUT", "PATCH", "HEAD", "OPTIONS"] {
        assert!(allow.iter().any(|m| m == method), "{allow:?} has {method}");
    }
    assert!(!allow.iter().any(|m| m == "POST"), "{allow:?}");
    let options = client
        .request(reqwest::Method::OPTIONS, w.url("/nothing"))
        .send()
        .await
        .unwrap();
    assert_eq!(options.status(), 404);
}

/// A minimal valid config for each plugin that has a PASSWORD setting, with
/// `secret` in that setting.
fn secret_config(class: &str, secret: &str) -> Option<Value> {
    match class {
        "io.connecthost.qdrant.QdrantEmbeddingSinkConnector" => Some(json!({
            "connector.class": class, "topics": "events", "qdrant.url": "http://127.0.0.1:1",
            "collection.name": "events", "embedding.device": "cpu", "embedding.text.fields": "name",
            "qdrant.api.key": secret,
        })),
        "io.qdrant.kafka.QdrantSinkConnector" => Some(json!({
            "connector.class": class, "topics": "events", "qdrant.grpc.url": "http://127.0.0.1:1",
            "qdrant.api.key": secret,
        })),
        _ => None,
    }
}

fn stored(dir: &Path, connector: &str) -> Value {
    let file: Value =
        serde_json::from_slice(&std::fs::read(dir.join("configs.json")).unwrap()).unwrap();
    file["connectors"][connector]["config"].clone()
}

#[tokio::test(flavor = "multi_thread")]
async fn secrets_survive_get_then_put_patch_and_validate() {
    let dir = tempfile::tempdir().unwrap();
    // No broker is needed: the connectors stay STOPPED.
    let w = Worker::start("127.0.0.1:1", dir.path(), &[]).await;
    let (_, plugins) = w.get("/connector-plugins").await;
    let mut with_secrets = Vec::new();
    for plugin in plugins.as_array().unwrap() {
        let class = plugin["class"].as_str().unwrap();
        let (_, defs) = w.get(&format!("/connector-plugins/{class}/config")).await;
        let secrets: Vec<String> = defs
            .as_array()
            .unwrap()
            .iter()
            .filter(|d| d["type"] == "PASSWORD")
            .map(|d| d["name"].as_str().unwrap().to_string())
            .collect();
        if !secrets.is_empty() {
            with_secrets.push((class.to_string(), secrets));
        }
    }
    assert!(
        !with_secrets.is_empty(),
        "some plugin has a PASSWORD setting"
    );

    for (i, (class, keys)) in with_secrets.iter().enumerate() {
        let key = &keys[0];
        let planted = format!("planted-secret-{i}");
        let config = secret_config(class, &planted)
            .unwrap_or_else(|| panic!("add a minimal config for {class} to secret_config"));
        let name = format!("secret-{i}");
        let (code, body) = w
            .call(
                "POST",
                "/connectors",
                Some(&json!({"name": name, "config": config, "initial_state": "STOPPED"})),
            )
            .await;
        assert_eq!(code, 201, "{body}");
        assert_eq!(body["config"][key], "[hidden]");

        // kcctl's patch: GET the config, PUT it back unchanged.
        let (_, shown) = w.get(&format!("/connectors/{name}/config")).await;
        assert_eq!(shown[key], "[hidden]");
        let (code, body) = w
            .call("PUT", &format!("/connectors/{name}/config"), Some(&shown))
            .await;
        assert_eq!(code, 200, "{body}");
        assert_eq!(
            stored(dir.path(), &name)[key],
            planted,
            "{class}: PUT kept the secret"
        );

        // PATCH carrying the mask keeps it too; a real new value replaces it.
        let (code, body) = w
            .call(
                "PATCH",
                &format!("/connectors/{name}/config"),
                Some(&json!({key: "[hidden]", "tasks.max": "2"})),
            )
            .await;
        assert_eq!(code, 200, "{body}");
        assert_eq!(stored(dir.path(), &name)[key], planted);
        assert_eq!(stored(dir.path(), &name)["tasks.max"], "2");

        // Validate with the masked form of the stored connector: no error.
        let (_, shown) = w.get(&format!("/connectors/{name}/config")).await;
        let (code, report) = w
            .call(
                "PUT",
                &format!("/connector-plugins/{class}/config/validate"),
                Some(&shown),
            )
            .await;
        assert_eq!(code, 200);
        assert_eq!(report["error_count"], 0, "{report}");
        assert_eq!(report_entry(&report, key)["value"]["value"], "[hidden]");

        // The mask with no stored secret behind it is refused, never stored.
        let mut orphan = shown.clone();
        orphan["name"] = json!("nobody");
        let (_, report) = w
            .call(
                "PUT",
                &format!("/connector-plugins/{class}/config/validate"),
                Some(&orphan),
            )
            .await;
        assert_eq!(report["error_count"], 1, "{report}");
        assert!(
            report_entry(&report, key)["value"]["errors"][0]
                .as_str()
                .unwrap()
                .contains("[hidden]")
        );
        orphan.as_object_mut().unwrap().remove("name");
        let (code, body) = w
            .call(
                "POST",
                "/connectors",
                Some(&json!({"name": "nobody", "config": orphan})),
            )
            .await;
        assert_eq!(code, 400, "{body}");
        assert!(body["message"].as_str().unwrap().contains(key.as_str()));

        let (code, _) = w
            .call(
                "PATCH",
                &format!("/connectors/{name}/config"),
                Some(&json!({key: "rotated"})),
            )
            .await;
        assert_eq!(code, 200);
        assert_eq!(stored(dir.path(), &name)[key], "rotated");
    }
    let file = std::fs::read_to_string(dir.path().join("configs.json")).unwrap();
    assert!(
        !file.contains("[hidden]"),
        "the mask is never stored: {file}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn pause_restart_resume_leaves_every_task_running_and_delivering() {
    let dir = tempfile::tempdir().unwrap();
    let broker = Broker::start();
    for topic in ["cycle-plain", "cycle-dlq"] {
        kafka::create_topic(&broker.bootstrap(), topic, 1).await;
    }
    let w = Worker::start(&broker.bootstrap(), dir.path(), &[]).await;
    let mut with_dlq = file_config(dir.path(), "cycle-dlq");
    with_dlq["errors.tolerance"] = json!("all");
    with_dlq["errors.deadletterqueue.topic.name"] = json!("cycle-dlq-dead");
    with_dlq["errors.deadletterqueue.topic.replication.factor"] = json!("1");
    let connectors = [
        ("cycle-plain", file_config(dir.path(), "cycle-plain")),
        ("cycle-dlq", with_dlq),
    ];
    for (name, config) in &connectors {
        let (code, body) = w
            .call(
                "POST",
                "/connectors",
                Some(&json!({"name": name, "config": config})),
            )
            .await;
        assert_eq!(code, 201, "{body}");
    }
    let producer = kafka::producer(&broker.bootstrap());
    // Both connectors cycle side by side, 20 times each.
    let cycle = |name: &'static str| {
        let w = &w;
        let producer = &producer;
        let out = dir.path().join(format!("{name}.txt"));
        async move {
            // The first join completes before the cycles: tansu never
            // rebalances a group whose member left mid-join (see README).
            kafka::produce(
                producer,
                name,
                vec![Rec::value(0, format!("{name}-warm-up"))],
            )
            .await;
            eventually(Duration::from_secs(60), "warm-up delivered", || async {
                lines(&out)
                    .iter()
                    .any(|l| l.ends_with("warm-up"))
                    .then_some(())
            })
            .await;
            for i in 0..20 {
                assert_eq!(
                    w.call("PUT", &format!("/connectors/{name}/pause"), None)
                        .await
                        .0,
                    202
                );
                assert_eq!(
                    w.call("POST", &format!("/connectors/{name}/tasks/0/restart"), None)
                        .await
                        .0,
                    204
                );
                assert_eq!(
                    w.call("PUT", &format!("/connectors/{name}/resume"), None)
                        .await
                        .0,
                    202
                );
                let started = Instant::now();
                eventually(
                    Duration::from_secs(10),
                    &format!("{name} RUNNING after cycle {i}"),
                    || async {
                        let (_, s) = w.get(&format!("/connectors/{name}/status")).await;
                        (s["connector"]["state"] == "RUNNING"
                            && s["tasks"][0]["state"] == "RUNNING")
                            .then_some(())
                    },
                )
                .await;
                assert!(started.elapsed() < Duration::from_secs(10));
                // And the task really delivers (positive control for every cycle).
                let line = format!("{name}-{i}");
                kafka::produce(producer, name, vec![Rec::value(0, line.clone())]).await;
                eventually(
                    Duration::from_secs(60),
                    &format!("{line} delivered"),
                    || async { lines(&out).contains(&line).then_some(()) },
                )
                .await;
                let (_, s) = w.get(&format!("/connectors/{name}/status")).await;
                assert_eq!(
                    s["tasks"][0]["state"], "RUNNING",
                    "still RUNNING after delivering: {s}"
                );
            }
        }
    };
    futures::join!(cycle("cycle-plain"), cycle("cycle-dlq"));
}

#[tokio::test(flavor = "multi_thread")]
async fn connect_worker_settings_and_image_variables_start_and_work() {
    let dir = tempfile::tempdir().unwrap();
    let admin_port = support::free_port();
    let admin = format!("http://127.0.0.1:{admin_port}");
    // No broker: nothing here needs Kafka, and an offsets read shows a 500's cause.
    let w = Worker::start(
        "127.0.0.1:1",
        dir.path(),
        &[
            ("CONNECT_TOPIC_TRACKING_ENABLE", "false"),
            ("CONNECT_TOPIC_TRACKING_ALLOW_RESET", "false"),
            ("CONNECT_ADMIN_LISTENERS", &admin),
            ("CONNECT_ACCESS_CONTROL_ALLOW_ORIGIN", "http://ui.example"),
            (
                "CONNECT_ACCESS_CONTROL_ALLOW_METHODS",
                "GET,POST,PUT,DELETE",
            ),
            (
                "CONNECT_REST_EXTENSION_CLASSES",
                "io.confluent.connect.security.ConnectSecurityExtension",
            ),
            ("CONNECT_LOG4J_ROOT_LOGLEVEL", "INFO"),
            (
                "CONNECT_LOG4J_LOGGERS",
                "org.reflections=ERROR,org.apache.kafka.connect=WARN",
            ),
            ("CONNECT_BOOTSTRAP_SERVRES", "typo:9092"),
        ],
    )
    .await;
    let log = w.log();
    assert!(
        log.contains("The configuration 'bootstrap.servres' was supplied but isn't a known config. Did you mean 'bootstrap.servers'?"),
        "{log}"
    );
    assert!(
        log.contains("io.confluent.connect.security.ConnectSecurityExtension"),
        "{log}"
    );

    // admin.listeners: /admin only there, and only /admin there.
    let client = reqwest::Client::new();
    let loggers: Value = client
        .get(format!("{admin}/admin/loggers"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        loggers["org.reflections"],
        json!({"level": "ERROR", "last_modified": null})
    );
    assert_eq!(loggers["org.apache.kafka.connect"]["level"], "WARN");
    assert_eq!(loggers["root"]["level"], "INFO");
    assert_eq!(w.get("/admin/loggers").await.0, 404);
    let on_admin = client
        .get(format!("{admin}/connectors"))
        .send()
        .await
        .unwrap();
    assert_eq!(on_admin.status(), 404);

    // CORS: a browser UI served from another origin.
    let preflight = client
        .request(reqwest::Method::OPTIONS, w.url("/connectors/x/pause"))
        .header("Origin", "http://ui.example")
        .header("Access-Control-Request-Method", "PUT")
        .send()
        .await
        .unwrap();
    assert_eq!(preflight.status(), 200);
    let h = preflight.headers();
    assert_eq!(h["access-control-allow-origin"], "http://ui.example");
    assert_eq!(h["access-control-allow-methods"], "GET,POST,PUT,DELETE");
    assert_eq!(h["access-control-allow-credentials"], "true");
    assert!(
        h["access-control-allow-headers"]
            .to_str()
            .unwrap()
            .contains("Content-Type")
    );
    let patch_preflight = client
        .request(reqwest::Method::OPTIONS, w.url("/connectors/x/config"))
        .header("Origin", "http://ui.example")
        .header("Access-Control-Request-Method", "PATCH")
        .send()
        .await
        .unwrap();
    assert!(
        patch_preflight
            .headers()
            .get("access-control-allow-origin")
            .is_none()
    );
    let get = client
        .get(w.url("/connectors"))
        .header("Origin", "http://ui.example")
        .send()
        .await
        .unwrap();
    assert_eq!(
        get.headers()["access-control-allow-origin"],
        "http://ui.example"
    );
    let other = client
        .get(w.url("/connectors"))
        .header("Origin", "http://evil.example")
        .send()
        .await
        .unwrap();
    assert_eq!(other.status(), 200);
    assert!(other.headers().get("access-control-allow-origin").is_none());

    // topic.tracking.enable=false: Connect's 403s.
    let config = file_config(dir.path(), "t");
    let (code, body) = w
        .call(
            "POST",
            "/connectors",
            Some(&json!({"name": "tracked", "config": config, "initial_state": "STOPPED"})),
        )
        .await;
    assert_eq!(code, 201, "{body}");
    assert_eq!(
        w.get("/connectors/tracked/topics").await,
        (
            403,
            json!({"error_code": 403, "message": "Topic tracking is disabled."})
        )
    );
    assert_eq!(
        w.call("PUT", "/connectors/tracked/topics/reset", None)
            .await,
        (
            403,
            json!({"error_code": 403, "message": "Topic tracking is disabled."})
        )
    );

    // A 500 carries its cause (here: no broker to read offsets from).
    let (code, body) = w.get("/connectors/tracked/offsets").await;
    assert_eq!(code, 500, "{body}");
    assert!(
        body["message"]
            .as_str()
            .unwrap()
            .contains("cluster metadata"),
        "{body}"
    );

    // Tracking on, reset off.
    let dir2 = tempfile::tempdir().unwrap();
    let w2 = Worker::start(
        "127.0.0.1:1",
        dir2.path(),
        &[("CONNECT_TOPIC_TRACKING_ALLOW_RESET", "false")],
    )
    .await;
    assert_eq!(w2.get("/connectors/any/topics").await.0, 200);
    assert_eq!(
        w2.call("PUT", "/connectors/any/topics/reset", None).await,
        (
            403,
            json!({"error_code": 403, "message": "Topic tracking reset is disabled."})
        )
    );
    // Without admin.listeners the loggers are on the main listener; with it empty, nowhere.
    assert_eq!(w2.get("/admin/loggers").await.0, 200);
    let dir3 = tempfile::tempdir().unwrap();
    let w3 = Worker::start(
        "127.0.0.1:1",
        dir3.path(),
        &[("CONNECT_ADMIN_LISTENERS", "")],
    )
    .await;
    assert_eq!(w3.get("/admin/loggers").await.0, 404);
    assert_eq!(w3.get("/connectors").await.0, 200);
}

#[tokio::test(flavor = "multi_thread")]
async fn offsets_set_while_stopped_are_where_two_partitions_resume() {
    let dir = tempfile::tempdir().unwrap();
    let broker = Broker::start();
    kafka::create_topic(&broker.bootstrap(), "two", 2).await;
    kafka::create_topic(&broker.bootstrap(), "later", 1).await;
    let producer = kafka::producer(&broker.bootstrap());
    // One record per produce call: tansu's memory storage skips the rest of
    // a batch when a fetch starts inside it, so every offset is a batch start.
    for p in 0..2 {
        for i in 0..10 {
            kafka::produce(
                &producer,
                "two",
                vec![Rec::value(p, format!("p{p}-{i:02}"))],
            )
            .await;
        }
    }
    let w = Worker::start(&broker.bootstrap(), dir.path(), &[]).await;
    let out = dir.path().join("two.txt");
    let (code, body) = w
        .call(
            "POST",
            "/connectors",
            Some(&json!({"name": "two", "config": file_config(dir.path(), "two"), "initial_state": "STOPPED"})),
        )
        .await;
    assert_eq!(code, 201, "{body}");
    // Numbers as strings are accepted, as Connect's SinkUtils does.
    let patch = json!({"offsets": [
        {"partition": {"kafka_topic": "two", "kafka_partition": "0"}, "offset": {"kafka_offset": "3"}},
        {"partition": {"kafka_topic": "two", "kafka_partition": 1}, "offset": {"kafka_offset": 4}},
    ]});
    let (code, body) = w
        .call("PATCH", "/connectors/two/offsets", Some(&patch))
        .await;
    assert_eq!(code, 200, "{body}");
    let (_, offsets) = w.get("/connectors/two/offsets").await;
    let mut listed: Vec<(i64, i64)> = offsets["offsets"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| {
            (
                o["partition"]["kafka_partition"].as_i64().unwrap(),
                o["offset"]["kafka_offset"].as_i64().unwrap(),
            )
        })
        .collect();
    listed.sort();
    assert_eq!(listed, vec![(0, 3), (1, 4)]);

    assert_eq!(w.call("PUT", "/connectors/two/resume", None).await.0, 202);
    let expected: Vec<String> = (3..10)
        .map(|i| format!("p0-{i:02}"))
        .chain((4..10).map(|i| format!("p1-{i:02}")))
        .collect();
    eventually(
        Duration::from_secs(60),
        "13 records from offsets 3 and 4",
        || async { (lines(&out).len() >= expected.len()).then_some(()) },
    )
    .await;
    eventually(
        Duration::from_secs(30),
        "offsets 10 and 10 committed",
        || async {
            let (_, o) = w.get("/connectors/two/offsets").await;
            let all = o["offsets"].as_array()?;
            (all.len() == 2 && all.iter().all(|e| e["offset"]["kafka_offset"] == 10)).then_some(())
        },
    )
    .await;
    let mut got = lines(&out);
    got.sort();
    assert_eq!(
        got, expected,
        "exactly from the patched offsets, nothing before"
    );

    // "offset": null resets partition 1: it is read again from the start.
    assert_eq!(w.call("PUT", "/connectors/two/stop", None).await.0, 204);
    let reset = json!({"offsets": [{"partition": {"kafka_topic": "two", "kafka_partition": 1}, "offset": null}]});
    let (code, body) = w
        .call("PATCH", "/connectors/two/offsets", Some(&reset))
        .await;
    assert_eq!(code, 200, "{body}");
    assert_eq!(w.call("PUT", "/connectors/two/resume", None).await.0, 202);
    eventually(
        Duration::from_secs(60),
        "partition 1 read again from 0",
        || async { (lines(&out).len() >= expected.len() + 10).then_some(()) },
    )
    .await;
    let again = lines(&out);
    assert_eq!(again.len(), expected.len() + 10, "only partition 1 again");
    assert_eq!(again[expected.len()], "p1-00", "{again:?}");

    // The connector moves to another topic: GET still lists the group's
    // committed offsets of the topic it no longer reads, as Connect does.
    eventually(
        Duration::from_secs(30),
        "offsets 10 and 10 committed again",
        || async {
            let (_, o) = w.get("/connectors/two/offsets").await;
            let all = o["offsets"].as_array()?;
            (all.len() == 2 && all.iter().all(|e| e["offset"]["kafka_offset"] == 10)).then_some(())
        },
    )
    .await;
    assert_eq!(w.call("PUT", "/connectors/two/stop", None).await.0, 204);
    let mut moved = file_config(dir.path(), "later");
    moved["name"] = json!("two");
    let (code, body) = w.call("PUT", "/connectors/two/config", Some(&moved)).await;
    assert_eq!(code, 200, "{body}");
    let (_, offsets) = w.get("/connectors/two/offsets").await;
    let topics: Vec<&str> = offsets["offsets"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["partition"]["kafka_topic"].as_str().unwrap())
        .collect();
    assert_eq!(topics, vec!["two", "two"], "{offsets}");
}

#[tokio::test(flavor = "multi_thread")]
async fn reads_answer_while_a_slow_start_or_restart_runs() {
    let dir = tempfile::tempdir().unwrap();
    let broker = Broker::start();
    kafka::create_topic(&broker.bootstrap(), "quick", 1).await;
    let w = Worker::start(&broker.bootstrap(), dir.path(), &[]).await;
    let (code, _) = w
        .call(
            "POST",
            "/connectors",
            Some(&json!({"name": "quick", "config": file_config(dir.path(), "quick")})),
        )
        .await;
    assert_eq!(code, 201);
    let slow = json!({"connector.class": "FlakySink", "topics": "quick", "start.delay.ms": "5000",
                      "file": dir.path().join("slow.txt").display().to_string()});
    let reads = || async {
        let started = Instant::now();
        let (list, names) = w.get("/connectors").await;
        let (status, _) = w.get("/connectors/quick/status").await;
        let (own, own_status) = w.get("/connectors/slow/status").await;
        (started.elapsed(), list, names, status, own, own_status)
    };

    // A create whose connector start takes 5 s.
    let url = w.url("/connectors");
    let create = tokio::spawn(async move {
        reqwest::Client::new()
            .post(url)
            .json(&json!({"name": "slow", "config": slow}))
            .send()
            .await
            .unwrap()
            .status()
            .as_u16()
    });
    tokio::time::sleep(Duration::from_millis(500)).await;
    let (took, list, names, status, own, own_status) = reads().await;
    assert!(
        !create.is_finished(),
        "the create is still starting the connector"
    );
    assert_eq!((list, status, own), (200, 200, 200));
    assert_eq!(
        names,
        json!(["quick", "slow"]),
        "the new connector is listed at once"
    );
    assert_eq!(own_status["connector"]["state"], "UNASSIGNED");
    assert!(
        took < Duration::from_secs(2),
        "reads took {took:?} behind a 5 s start"
    );
    assert_eq!(create.await.unwrap(), 201);

    // A restart with tasks, which starts the connector again (5 s).
    let url = w.url("/connectors/slow/restart?includeTasks=true");
    let restart = tokio::spawn(async move {
        reqwest::Client::new()
            .post(url)
            .send()
            .await
            .unwrap()
            .status()
            .as_u16()
    });
    tokio::time::sleep(Duration::from_millis(500)).await;
    let (took, list, _, status, own, own_status) = reads().await;
    assert!(!restart.is_finished(), "the restart is still running");
    assert_eq!((list, status, own), (200, 200, 200));
    assert!(
        took < Duration::from_secs(2),
        "reads took {took:?} behind a 5 s restart"
    );
    // What a client polling meanwhile sees is the restart itself, not a
    // state made up for the answer.
    assert_eq!(
        own_status["connector"]["state"], "RESTARTING",
        "{own_status}"
    );
    assert_eq!(
        own_status["tasks"][0]["state"], "RESTARTING",
        "{own_status}"
    );
    assert_eq!(restart.await.unwrap(), 202);
    w.wait_state("slow", "RUNNING", 1).await;
    let (_, after) = w.get("/connectors/slow/status").await;
    assert_eq!(after["connector"]["state"], "RUNNING", "{after}");
}
