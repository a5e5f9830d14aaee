//! Secrets through Connect's ConfigProviders, end to end: the real broker,
//! the real worker process and the Qdrant test server requiring an API key.
//! A connector's key comes from a `${file:…}` reference (another's from a
//! `${dir:…}`, a collection name from `${env:…}`); the stores and the REST
//! API show only the reference, references without a value fail the
//! connector naming the reference, and a secret that a client library
//! echoes (qdrant-client quotes a malformed key) is masked in traces, logs
//! and the dead-letter queue. Then everything the test saw is searched for
//! the planted secrets.

mod support;

use std::path::Path;
use std::time::Duration;

use qdrant_client::qdrant::{CreateCollectionBuilder, Distance, VectorParamsBuilder};
use rdkafka::Message;
use rdkafka::message::{Headers, OwnedMessage};
use serde_json::{Value, json};
use support::kafka::{self, Rec, header};
use support::qdrant::{self, QdrantServer, Security};
use support::{Broker, Worker, eventually};

const FILE_PROVIDER: &str = "org.apache.kafka.common.config.provider.FileConfigProvider";
const ENV_PROVIDER: &str = "org.apache.kafka.common.config.provider.EnvVarConfigProvider";
const DIR_PROVIDER: &str = "org.apache.kafka.common.config.provider.DirectoryConfigProvider";

/// A string no code would write by chance.
fn unique(tag: &str) -> String {
    use std::hash::BuildHasher;
    let n = std::collections::hash_map::RandomState::new()
        .hash_one((std::process::id(), std::time::SystemTime::now()));
    format!("{tag}{n:016x}")
}

/// Everything seen, by where it was seen, to be searched at the end.
#[derive(Default)]
struct Seen(Vec<(String, String)>);

impl Seen {
    fn add(&mut self, what: impl Into<String>, text: impl Into<String>) {
        self.0.push((what.into(), text.into()));
    }

    async fn get(&mut self, worker: &Worker, path: &str) -> (u16, Value) {
        let (code, body) = worker.get(path).await;
        self.add(format!("GET {path}"), body.to_string());
        (code, body)
    }

    async fn call(&mut self, worker: &Worker, method: &str, path: &str, body: &Value) -> Value {
        let (code, answer) = worker.call(method, path, Some(body)).await;
        assert!(
            (200..300).contains(&code),
            "{method} {path}: {code} {answer}"
        );
        self.add(format!("{method} {path}"), answer.to_string());
        answer
    }

    fn assert_absent(&self, secret: &str, except: &[&str]) {
        for (what, text) in &self.0 {
            if !except.contains(&what.as_str()) {
                assert!(
                    !text.contains(secret),
                    "the secret {secret} appears in {what}:\n{text}"
                );
            }
        }
    }
}

fn dlq_text(m: &OwnedMessage) -> String {
    let mut text = String::new();
    if let Some(headers) = m.headers() {
        for h in headers.iter() {
            let value = h.value.map(String::from_utf8_lossy).unwrap_or_default();
            text.push_str(&format!("{}={value}\n", h.key));
        }
    }
    text.push_str(&kafka::payload_str(m));
    text
}

fn vector_record(id: u64, collection: &str) -> Rec {
    Rec::value(
        0,
        json!({"collection_name": collection, "id": id, "vector": [0.1, 0.2, 0.3, id as f32], "payload": {"n": id}})
            .to_string(),
    )
}

/// Qdrant's own connector class (records carry their vectors): nothing to embed.
fn pre_embedded(url: &str, topic: &str, api_key: &str) -> Value {
    json!({
        "connector.class": "io.qdrant.kafka.QdrantSinkConnector",
        "topics": topic,
        "qdrant.url": url,
        "qdrant.api.key": api_key,
        "value.converter": "org.apache.kafka.connect.json.JsonConverter",
        "value.converter.schemas.enable": "false",
    })
}

async fn create(seen: &mut Seen, worker: &Worker, name: &str, config: &Value) {
    seen.call(
        worker,
        "POST",
        "/connectors",
        &json!({"name": name, "config": config}),
    )
    .await;
}

fn write(path: &Path, text: &str) {
    std::fs::write(path, text).unwrap();
}

#[tokio::test(flavor = "multi_thread")]
async fn secrets_come_from_config_providers_and_never_show() {
    let dir = tempfile::tempdir().unwrap();
    let planted = unique("planted");
    // A key copied with its line end is not a valid header value:
    // qdrant-client refuses it, quoting it in the error.
    let leaky = unique("leaky");
    let malformed_key = format!("{leaky}\n");

    let secrets = dir.path().join("secrets");
    std::fs::create_dir_all(secrets.join("run")).unwrap();
    let properties = secrets.join("secrets.properties");
    write(
        &properties,
        &format!("# Qdrant\nqdrant.api.key = {planted}\n"),
    );
    write(&secrets.join("run").join("qdrant_api_key"), &planted);
    let file_ref = format!("${{file:{}:qdrant.api.key}}", properties.display());
    let dir_ref = format!("${{dir:{}:qdrant_api_key}}", secrets.join("run").display());

    let broker = Broker::start();
    for topic in ["secret-events", "given-vectors", "leaky-vectors"] {
        kafka::create_topic(&broker.bootstrap(), topic, 1).await;
    }
    // The server refuses calls without this key: points written prove it was resolved.
    let server = QdrantServer::start_secured(
        &dir.path().join("qdrant"),
        Security {
            api_key: Some(planted.clone()),
            ..Security::default()
        },
    );
    let client = server.client();
    client
        .create_collection(
            CreateCollectionBuilder::new("given")
                .vectors_config(VectorParamsBuilder::new(4, Distance::Dot)),
        )
        .await
        .unwrap();

    let producer = kafka::producer(&broker.bootstrap());
    let events: Vec<Rec> = ["Alpine Tent", "Trail Shoes", "Rain Jacket"]
        .iter()
        .map(|name| {
            Rec::value(
                0,
                json!({"product": {"name": name, "description": "outdoor gear"}}).to_string(),
            )
        })
        .collect();
    kafka::produce(&producer, "secret-events", events).await;
    kafka::produce(
        &producer,
        "given-vectors",
        vec![vector_record(1, "given"), vector_record(2, "given")],
    )
    .await;
    kafka::produce(
        &producer,
        "leaky-vectors",
        vec![vector_record(7, "given"), vector_record(8, "given")],
    )
    .await;

    let worker_dir = dir.path().join("worker");
    let secrets_dir = secrets.display().to_string();
    let worker = Worker::start(
        &broker.bootstrap(),
        &worker_dir,
        &[
            ("CONNECT_CONFIG_PROVIDERS", "file,env,dir"),
            ("CONNECT_CONFIG_PROVIDERS_FILE_CLASS", FILE_PROVIDER),
            (
                "CONNECT_CONFIG_PROVIDERS_FILE_PARAM_ALLOWED_PATHS",
                &secrets_dir,
            ),
            ("CONNECT_CONFIG_PROVIDERS_ENV_CLASS", ENV_PROVIDER),
            (
                "CONNECT_CONFIG_PROVIDERS_ENV_PARAM_ALLOWLIST_PATTERN",
                "SECRETS_.*",
            ),
            ("CONNECT_CONFIG_PROVIDERS_DIR_CLASS", DIR_PROVIDER),
            ("SECRETS_COLLECTION", "from_file"),
        ],
    )
    .await;
    let mut seen = Seen::default();

    // 1. Resolved when the connector and its task start: file, env, dir.
    let from_file = json!({
        "connector.class": "qdrant-embedding",
        "topics": "secret-events",
        "qdrant.url": server.url(),
        "qdrant.api.key": file_ref,
        "collection.name": "${env:SECRETS_COLLECTION}",
        "embedding.device": "cpu",
        "embedding.text.template": "{product.name}: {product.description}",
        "value.converter": "org.apache.kafka.connect.json.JsonConverter",
        "value.converter.schemas.enable": "false",
    });
    create(&mut seen, &worker, "from-file", &from_file).await;
    create(
        &mut seen,
        &worker,
        "from-dir",
        &pre_embedded(&server.url(), "given-vectors", &dir_ref),
    )
    .await;
    eventually(
        Duration::from_secs(180),
        "the events embedded into the collection named by ${env:…}",
        || async { (qdrant::count(&client, "from_file").await == Some(3)).then_some(()) },
    )
    .await;
    eventually(
        Duration::from_secs(60),
        "the vectors written with the key from ${dir:…}",
        || async { (qdrant::count(&client, "given").await == Some(2)).then_some(()) },
    )
    .await;

    // 2. Stored and shown as the reference.
    let (_, config) = seen.get(&worker, "/connectors/from-file/config").await;
    assert_eq!(config["qdrant.api.key"], file_ref.as_str());
    assert_eq!(config["collection.name"], "${env:SECRETS_COLLECTION}");
    let (_, info) = seen.get(&worker, "/connectors/from-file").await;
    assert_eq!(info["config"]["qdrant.api.key"], file_ref.as_str());
    let (_, tasks) = seen.get(&worker, "/connectors/from-file/tasks").await;
    assert_eq!(
        tasks[0]["config"]["qdrant.api.key"],
        file_ref.as_str(),
        "task configs keep the reference: {tasks}"
    );
    let (_, tasks) = seen.get(&worker, "/connectors/from-dir/tasks-config").await;
    assert_eq!(
        tasks["from-dir-0"]["qdrant.api.key"],
        dir_ref.as_str(),
        "{tasks}"
    );
    let store = std::fs::read_to_string(worker_dir.join("configs.json")).unwrap();
    assert!(
        store.contains(&file_ref) && store.contains(&dir_ref),
        "{store}"
    );

    // GET-then-PUT keeps the reference, and the connector runs again with it.
    let answer = seen
        .call(&worker, "PUT", "/connectors/from-file/config", &config)
        .await;
    assert_eq!(answer["config"]["qdrant.api.key"], file_ref.as_str());
    let (_, again) = seen.get(&worker, "/connectors/from-file/config").await;
    assert_eq!(again, config);
    worker.wait_state("from-file", "RUNNING", 1).await;

    // 3. References without a value fail the connector, naming the reference.
    let missing_key = format!("${{file:{}:no.such.key}}", properties.display());
    let failing = [
        (
            "missing-key",
            missing_key.clone(),
            format!("no key 'no.such.key' in {}", properties.display()),
        ),
        (
            "not-allowlisted",
            "${env:HOME}".to_string(),
            "environment variable HOME does not match config.providers.env.param.allowlist.pattern"
                .to_string(),
        ),
        (
            "outside-allowed-paths",
            "${file:/etc/passwd:root}".to_string(),
            "/etc/passwd is outside config.providers.file.param.allowed.paths".to_string(),
        ),
        (
            "unknown-provider",
            "${vault:secret/qdrant:api-key}".to_string(),
            "there is no config provider 'vault' (config.providers: dir,env,file)".to_string(),
        ),
    ];
    for (name, reference, _) in &failing {
        create(
            &mut seen,
            &worker,
            name,
            &pre_embedded(&server.url(), "leaky-vectors", reference),
        )
        .await;
    }
    for (name, reference, reason) in &failing {
        let status = worker.wait_state(name, "FAILED", 0).await;
        seen.add(format!("status of {name}"), status.to_string());
        let trace = status["connector"]["trace"].as_str().unwrap_or_default();
        assert_eq!(
            trace,
            format!("Cannot resolve {reference} in 'qdrant.api.key': {reason}"),
            "{status}"
        );
    }

    // 4. A literal secret a client library echoes: masked in the DLQ's
    // headers, the error log and a failed task's trace.
    let mut leaky_config = pre_embedded(&server.url(), "leaky-vectors", &malformed_key);
    for (k, v) in [
        ("errors.tolerance", "all"),
        ("errors.log.enable", "true"),
        ("errors.log.include.messages", "true"),
        ("errors.deadletterqueue.topic.name", "leaky-dlq"),
        ("errors.deadletterqueue.topic.replication.factor", "1"),
        ("errors.deadletterqueue.context.headers.enable", "true"),
    ] {
        leaky_config[k] = json!(v);
    }
    create(&mut seen, &worker, "leaky", &leaky_config).await;
    let strict_config = pre_embedded(&server.url(), "leaky-vectors", &malformed_key);
    create(&mut seen, &worker, "leaky-strict", &strict_config).await;

    let dlq = kafka::read_all(
        &broker.bootstrap(),
        "leaky-dlq",
        1,
        2,
        Duration::from_secs(60),
    );
    assert_eq!(dlq.len(), 2, "both records dead-lettered");
    for m in &dlq {
        let message = header(m, "__connect.errors.exception.message").unwrap_or_default();
        assert_eq!(
            message, "Qdrant rejected the point: Malformed API key or token: [hidden]",
            "the client's echo of the key, masked"
        );
        let trace = header(m, "__connect.errors.exception.stacktrace").unwrap_or_default();
        assert!(
            trace.contains("Malformed API key or token: [hidden]"),
            "{trace}"
        );
        seen.add("a DLQ record", dlq_text(m));
    }
    let strict = eventually(
        Duration::from_secs(60),
        "leaky-strict's task FAILED",
        || async {
            let (_, status) = worker.get("/connectors/leaky-strict/status").await;
            (status["tasks"][0]["state"] == "FAILED").then_some(status)
        },
    )
    .await;
    seen.add("status of leaky-strict", strict.to_string());
    let trace = strict["tasks"][0]["trace"].as_str().unwrap_or_default();
    assert!(
        trace.contains("Tolerance exceeded")
            && trace.contains("Malformed API key or token: [hidden]"),
        "{trace}"
    );
    let (_, shown) = seen.get(&worker, "/connectors/leaky/config").await;
    assert_eq!(shown["qdrant.api.key"], "[hidden]");

    // 5. Everything else a client sees.
    for path in [
        "/connectors?expand=info&expand=status",
        "/connectors/from-file/status",
        "/connectors/from-dir/status",
        "/connectors/leaky/status",
        "/connectors/leaky/tasks",
        "/connectors/leaky-strict/tasks-config",
        "/connectors/missing-key/status",
        "/connectors/missing-key",
        "/metrics",
    ] {
        let (code, _) = seen.get(&worker, path).await;
        assert_eq!(code, 200, "{path}");
    }
    let mut validate_file = from_file.clone();
    validate_file["name"] = json!("from-file");
    seen.call(
        &worker,
        "PUT",
        "/connector-plugins/qdrant-embedding/config/validate",
        &validate_file,
    )
    .await;
    let mut validate_leaky = leaky_config.clone();
    validate_leaky["name"] = json!("leaky");
    let report = seen
        .call(
            &worker,
            "PUT",
            "/connector-plugins/QdrantSinkConnector/config/validate",
            &validate_leaky,
        )
        .await;
    assert_eq!(report["error_count"], 0, "{report}");

    let log = worker.log();
    assert!(
        log.contains("Malformed API key or token: [hidden]"),
        "the error log names the failure, masked"
    );
    seen.add("the worker's log", log);
    seen.add("the config store", store);
    seen.add(
        "the config store, now",
        std::fs::read_to_string(worker_dir.join("configs.json")).unwrap(),
    );

    // The resolved secret is nowhere; the literal one only where it was
    // given to be kept (the config store holds what the user wrote).
    seen.assert_absent(&planted, &[]);
    seen.assert_absent(&leaky, &["the config store", "the config store, now"]);
    assert!(
        seen.0
            .iter()
            .any(|(what, text)| what == "the config store, now" && text.contains(&leaky)),
        "the search would find the literal secret"
    );
    assert!(seen.0.len() > 25, "{} answers searched", seen.0.len());
}
