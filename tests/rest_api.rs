//! Every endpoint of Connect's REST API against the real worker: success and
//! error paths, Connect's JSON shapes, status codes and error body.

mod support;

use std::time::Duration;

use serde_json::{Value, json};
use support::{Broker, Worker, eventually, kafka};

fn file_config(dir: &std::path::Path, topic: &str) -> Value {
    json!({"connector.class": "org.apache.kafka.connect.file.FileStreamSinkConnector", "topics": topic,
           "file": dir.join(format!("{topic}.txt")).display().to_string(), "tasks.max": 1})
}

/// Connect's error body: exactly error_code and message.
fn assert_error(resp: &(u16, Value), code: u16, fragment: &str) {
    let (status, body) = resp;
    assert_eq!(*status, code, "{body}");
    assert_eq!(body["error_code"], code, "{body}");
    let message = body["message"]
        .as_str()
        .unwrap_or_else(|| panic!("no message in {body}"));
    assert!(
        message.contains(fragment),
        "'{message}' should contain '{fragment}'"
    );
    assert_eq!(
        body.as_object().unwrap().len(),
        2,
        "only error_code and message: {body}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn the_whole_connect_rest_surface() {
    let dir = tempfile::tempdir().unwrap();
    let broker = Broker::start();
    kafka::create_topic(&broker.bootstrap(), "a", 1).await;
    let w = Worker::start(&broker.bootstrap(), dir.path(), &[]).await;
    let d = dir.path();

    // Root and health.
    let (code, root) = w.get("/").await;
    assert_eq!(code, 200);
    assert!(
        root["version"].is_string() && root["commit"].is_string(),
        "{root}"
    );
    assert_eq!(root["kafka_cluster_id"], "tansu_cluster");
    let (code, health) = w.get("/health").await;
    assert_eq!((code, health["status"].as_str()), (200, Some("healthy")));

    // Create: 201 + Location, then 409, 400s, 415.
    assert_eq!(w.get("/connectors").await, (200, json!([])));
    let resp = w
        .client_post_raw(
            "/connectors",
            &json!({"name": "alpha", "config": file_config(d, "a")}),
        )
        .await;
    assert_eq!(resp.0, 201);
    assert!(
        resp.2
            .as_deref()
            .is_some_and(|l| l.ends_with("/connectors/alpha")),
        "Location: {:?}",
        resp.2
    );
    assert_eq!(resp.1["name"], "alpha");
    assert_eq!(resp.1["type"], "sink");
    assert_eq!(resp.1["tasks"], json!([{"connector": "alpha", "task": 0}]));
    assert_eq!(
        resp.1["config"]["tasks.max"], "1",
        "numbers are stored as strings"
    );
    assert_error(
        &w.call(
            "POST",
            "/connectors",
            Some(&json!({"name": "alpha", "config": file_config(d, "a")})),
        )
        .await,
        409,
        "already exists",
    );
    assert_error(
        &w.raw(
            "POST",
            "/connectors",
            "application/json",
            "{\"name\": \"x\", ",
        )
        .await,
        400,
        "Malformed JSON",
    );
    assert_error(
        &w.raw("POST", "/connectors", "text/plain", "name=x").await,
        415,
        "Unsupported Media Type",
    );
    assert_error(
        &w.call(
            "POST",
            "/connectors",
            Some(&json!({"config": file_config(d, "a")})),
        )
        .await,
        400,
        "name",
    );
    assert_error(
        &w.call(
            "POST",
            "/connectors",
            Some(&json!({"name": 5, "config": {}})),
        )
        .await,
        400,
        "\"name\" must be a string",
    );
    assert_error(
        &w.call(
            "POST",
            "/connectors",
            Some(&json!({"name": "b", "config": {"topics": ["a"]}})),
        )
        .await,
        400,
        "\"topics\"",
    );
    assert_error(
        &w.call(
            "POST",
            "/connectors",
            Some(&json!({"name": "b", "config": {"topics": "a"}})),
        )
        .await,
        400,
        "connector.class",
    );
    assert_error(
        &w.call("POST", "/connectors", Some(&json!({"name": "b", "config": {"connector.class": "NoSuchConnector", "topics": "a"}}))).await,
        400,
        "Failed to find any class that implements Connector",
    );
    let invalid = json!({"name": "b", "config": {"connector.class": "file", "tasks.max": "zero", "topics": "a", "topics.regex": "a.*",
                         "errors.tolerance": "some", "value.converter": "NoConverter"}});
    let resp = w.call("POST", "/connectors", Some(&invalid)).await;
    assert_error(
        &resp,
        400,
        "Connector configuration is invalid and contains the following 4 error(s)",
    );
    let msg = resp.1["message"].as_str().unwrap();
    for key in ["tasks.max", "topics", "errors.tolerance", "value.converter"] {
        assert!(msg.contains(key), "{msg} names {key}");
    }
    assert_error(
        &w.call(
            "POST",
            "/connectors",
            Some(&json!({"name": "c", "config": file_config(d, "a"), "initial_state": "SLEEPING"})),
        )
        .await,
        400,
        "initial_state",
    );
    let (code, _) = w.call("POST", "/connectors", Some(&json!({"name": "paused", "config": file_config(d, "a"), "initial_state": "PAUSED"}))).await;
    assert_eq!(code, 201);
    let (code, _) = w.call("POST", "/connectors", Some(&json!({"name": "stopped", "config": file_config(d, "a"), "initial_state": "STOPPED"}))).await;
    assert_eq!(code, 201);

    // Listing and expansion.
    assert_eq!(
        w.get("/connectors").await.1,
        json!(["alpha", "paused", "stopped"])
    );
    w.wait_state("alpha", "RUNNING", 1).await;
    w.wait_state("paused", "PAUSED", 1).await;
    let (_, expanded) = w.get("/connectors?expand=status").await;
    assert_eq!(expanded["alpha"]["status"]["connector"]["state"], "RUNNING");
    assert_eq!(
        expanded["stopped"]["status"]["connector"]["state"],
        "STOPPED"
    );
    assert!(expanded["alpha"].get("info").is_none());
    let (_, expanded) = w.get("/connectors?expand=info").await;
    assert_eq!(expanded["alpha"]["info"]["config"]["topics"], "a");
    let (_, both) = w.get("/connectors?expand=status&expand=info").await;
    assert!(both["paused"]["status"].is_object() && both["paused"]["info"].is_object());
    // ConnectorsResource.listConnectors ignores an unknown expansion.
    let (code, ignored) = w.get("/connectors?expand=everything").await;
    assert_eq!((code, &ignored["alpha"]), (200, &json!({})), "{ignored}");

    // Info, status, tasks.
    let (code, info) = w.get("/connectors/alpha").await;
    assert_eq!(code, 200);
    assert_eq!(info["config"]["name"], "alpha");
    assert_error(
        &w.get("/connectors/nope").await,
        404,
        "Connector nope not found",
    );
    let (_, status) = w.get("/connectors/alpha/status").await;
    assert_eq!(status["name"], "alpha");
    assert_eq!(status["type"], "sink");
    assert_eq!(
        status["connector"]["worker_id"],
        format!("127.0.0.1:{}", w.port)
    );
    assert_eq!(status["tasks"][0]["id"], 0);
    assert_error(&w.get("/connectors/nope/status").await, 404, "not found");
    let (_, tasks) = w.get("/connectors/alpha/tasks").await;
    assert_eq!(tasks[0]["id"], json!({"connector": "alpha", "task": 0}));
    assert_eq!(tasks[0]["config"]["topics"], "a");
    let (code, task) = w.get("/connectors/alpha/tasks/0/status").await;
    assert_eq!((code, &task["state"]), (200, &json!("RUNNING")));
    assert_error(
        &w.get("/connectors/alpha/tasks/3/status").await,
        404,
        "alpha-3",
    );
    assert_error(
        &w.get("/connectors/alpha/tasks/x/status").await,
        404,
        "Task x",
    );

    // Config: GET, PUT (update 200, create 201, name mismatch 400), PATCH.
    let (_, config) = w.get("/connectors/alpha/config").await;
    assert_eq!(
        config["connector.class"],
        "org.apache.kafka.connect.file.FileStreamSinkConnector"
    );
    let mut updated = file_config(d, "a");
    updated["tasks.max"] = json!("1");
    updated["value.converter"] = json!("StringConverter");
    let (code, body) = w
        .call("PUT", "/connectors/alpha/config", Some(&updated))
        .await;
    assert_eq!(code, 200, "{body}");
    assert_eq!(body["config"]["value.converter"], "StringConverter");
    let (code, _) = w
        .call(
            "PUT",
            "/connectors/gamma/config",
            Some(&file_config(d, "a")),
        )
        .await;
    assert_eq!(code, 201);
    let mut mismatched = file_config(d, "a");
    mismatched["name"] = json!("other");
    assert_error(
        &w.call("PUT", "/connectors/gamma/config", Some(&mismatched))
            .await,
        400,
        "doesn't match connector name in the URL",
    );
    assert_error(
        &w.raw(
            "PUT",
            "/connectors/gamma/config",
            "application/json",
            "[1,2]",
        )
        .await,
        400,
        "JSON object",
    );
    let (code, patched) = w
        .call(
            "PATCH",
            "/connectors/alpha/config",
            Some(&json!({"value.converter": null, "tasks.max": "1"})),
        )
        .await;
    assert_eq!(code, 200, "{patched}");
    assert!(
        patched["config"].get("value.converter").is_none(),
        "null removes the key: {patched}"
    );
    assert_error(
        &w.call("PATCH", "/connectors/nope/config", Some(&json!({"a": "b"})))
            .await,
        404,
        "not found",
    );
    assert_error(
        &w.call(
            "PATCH",
            "/connectors/alpha/config",
            Some(&json!({"tasks.max": "-3"})),
        )
        .await,
        400,
        "tasks.max",
    );

    // Pause, resume, stop: codes and 404s.
    assert_eq!(w.call("PUT", "/connectors/alpha/pause", None).await.0, 202);
    w.wait_state("alpha", "PAUSED", 1).await;
    assert_eq!(w.call("PUT", "/connectors/alpha/resume", None).await.0, 202);
    w.wait_state("alpha", "RUNNING", 1).await;
    assert_eq!(w.call("PUT", "/connectors/gamma/stop", None).await.0, 204);
    for path in [
        "/connectors/nope/pause",
        "/connectors/nope/resume",
        "/connectors/nope/stop",
    ] {
        assert_error(&w.call("PUT", path, None).await, 404, "not found");
    }
    assert_error(
        &w.call("POST", "/connectors/nope/restart", None).await,
        404,
        "not found",
    );
    // JAX-RS Boolean params: anything but "true" is false, so a plain restart.
    assert_eq!(
        w.call("POST", "/connectors/alpha/restart?includeTasks=maybe", None)
            .await,
        (204, Value::Null)
    );

    // Topics, on a connector left alone (tansu breaks a group whose member
    // leaves mid-join, as alpha's did when reconfigured at once).
    kafka::create_topic(&broker.bootstrap(), "b", 1).await;
    assert_eq!(
        w.call("PUT", "/connectors/beta/config", Some(&file_config(d, "b")))
            .await
            .0,
        201
    );
    let producer = kafka::producer(&broker.bootstrap());
    kafka::produce(&producer, "b", vec![kafka::Rec::value(0, "\"hello\"")]).await;
    eventually(Duration::from_secs(30), "active topic", || async {
        let (_, t) = w.get("/connectors/beta/topics").await;
        (t == json!({"beta": {"topics": ["b"]}})).then_some(())
    })
    .await;
    assert_eq!(
        w.call("PUT", "/connectors/beta/topics/reset", None).await.0,
        202
    );
    assert_eq!(
        w.get("/connectors/beta/topics").await.1,
        json!({"beta": {"topics": []}})
    );
    // ConnectorsResource.getConnectorActiveTopics does not look the connector up.
    assert_eq!(
        w.get("/connectors/nope/topics").await,
        (200, json!({"nope": {"topics": []}}))
    );

    // Offsets: GET shape, PATCH validation.
    let (code, offsets) = w.get("/connectors/alpha/offsets").await;
    assert_eq!(code, 200);
    assert!(offsets["offsets"].is_array());
    assert_error(
        &w.call(
            "PATCH",
            "/connectors/gamma/offsets",
            Some(&json!({"offsets": [{"partition": {"kafka_topic": "a"}}]})),
        )
        .await,
        400,
        "kafka_partition",
    );
    assert_error(&w.call("PATCH", "/connectors/gamma/offsets", Some(&json!({"offsets": [{"partition": {"kafka_topic": "a", "kafka_partition": 0}, "offset": {"kafka_offset": "x"}}]}))).await, 400, "kafka_offset");
    assert_error(
        &w.call(
            "PATCH",
            "/connectors/gamma/offsets",
            Some(&json!({"partitions": []})),
        )
        .await,
        400,
        "offsets",
    );
    assert_error(&w.get("/connectors/nope/offsets").await, 404, "not found");

    // Plugins: list, config, validate.
    let (_, plugins) = w.get("/connector-plugins").await;
    let classes: Vec<&str> = plugins
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["class"].as_str().unwrap())
        .collect();
    assert!(classes.contains(&"org.apache.kafka.connect.file.FileStreamSinkConnector"));
    assert!(
        plugins
            .as_array()
            .unwrap()
            .iter()
            .all(|p| p["type"] == "sink")
    );
    let (_, all) = w.get("/connector-plugins?connectorsOnly=false").await;
    assert!(all.as_array().unwrap().iter().any(|p| p["class"]
        == "org.apache.kafka.connect.json.JsonConverter"
        && p["type"] == "converter"));
    let (code, defs) = w
        .get("/connector-plugins/FileStreamSinkConnector/config")
        .await;
    assert_eq!(code, 200);
    assert_eq!(defs[0]["name"], "file");
    assert_eq!(defs[0]["type"], "STRING");
    assert!(
        defs[0]["documentation"]
            .as_str()
            .unwrap()
            .contains("Destination filename")
    );
    assert_error(
        &w.get("/connector-plugins/Nope/config").await,
        404,
        "Unknown plugin",
    );
    let (code, report) = w
        .call(
            "PUT",
            "/connector-plugins/FileStreamSinkConnector/config/validate",
            Some(&json!({"topics": "a", "tasks.max": "0"})),
        )
        .await;
    assert_eq!(code, 200);
    assert_eq!(
        report["name"],
        "org.apache.kafka.connect.file.FileStreamSinkConnector"
    );
    assert_eq!(report["error_count"], 2, "{report}");
    assert!(
        report["groups"]
            .as_array()
            .unwrap()
            .contains(&json!("Common"))
    );
    let find = |name: &str| {
        report["configs"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["definition"]["name"] == name)
            .cloned()
            .unwrap()
    };
    assert!(
        find("tasks.max")["value"]["errors"][0]
            .as_str()
            .unwrap()
            .contains("at least 1")
    );
    assert!(
        find("name")["value"]["errors"][0]
            .as_str()
            .unwrap()
            .contains("Missing required configuration")
    );
    assert_eq!(
        find("errors.tolerance")["value"]["recommended_values"],
        json!(["none", "all"])
    );
    assert_eq!(find("topics")["value"]["errors"], json!([]));
    assert_error(
        &w.call(
            "PUT",
            "/connector-plugins/FileStreamSinkConnector/config/validate",
            Some(&json!({"connector.class": "FlakySink"})),
        )
        .await,
        400,
        "does not match",
    );
    assert_error(
        &w.raw(
            "PUT",
            "/connector-plugins/FileStreamSinkConnector/config/validate",
            "application/json",
            "nope",
        )
        .await,
        400,
        "Malformed JSON",
    );

    // Loggers.
    let (_, loggers) = w.get("/admin/loggers").await;
    assert_eq!(loggers["root"]["level"], "INFO");
    let (code, changed) = w
        .call(
            "PUT",
            "/admin/loggers/connect_runtime",
            Some(&json!({"level": "DEBUG"})),
        )
        .await;
    assert_eq!((code, changed), (200, json!(["connect_runtime"])));
    let logger = w.get("/admin/loggers/connect_runtime").await.1;
    assert_eq!(logger["level"], "DEBUG");
    assert!(logger["last_modified"].is_i64(), "{logger}");
    assert_error(
        &w.call(
            "PUT",
            "/admin/loggers/root",
            Some(&json!({"level": "LOUD"})),
        )
        .await,
        404,
        "invalid log level 'LOUD'",
    );
    assert_error(
        &w.get("/admin/loggers/never.set").await,
        404,
        "Logger never.set not found",
    );

    // Unknown paths 404, wrong methods 405.
    assert_error(&w.get("/nothing/here").await, 404, "HTTP 404 Not Found");
    assert_error(
        &w.call("DELETE", "/connectors", None).await,
        405,
        "HTTP 405 Method Not Allowed",
    );
    assert_error(
        &w.call("POST", "/connectors/alpha/pause", None).await,
        405,
        "Method Not Allowed",
    );

    // Delete: 204 then 404.
    assert_eq!(w.call("DELETE", "/connectors/gamma", None).await.0, 204);
    assert_error(
        &w.call("DELETE", "/connectors/gamma", None).await,
        404,
        "not found",
    );
    assert_eq!(
        w.get("/connectors").await.1,
        json!(["alpha", "beta", "paused", "stopped"])
    );
}
