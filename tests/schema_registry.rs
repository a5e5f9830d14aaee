//! Schema Registry converters end to end: records serialized by Confluent's
//! own Python serializers (confluent-kafka: Avro, JSON Schema, Protobuf)
//! against the test registry, read by the worker into FileStream and into
//! Qdrant; logical types, a schema evolution, unknown ids and bad magic
//! bytes in the DLQ, a registry outage that loses nothing and dead-letters
//! nothing, an HTTPS registry with basic credentials, and Confluent 8's
//! schema GUIDs in headers.

mod support;

use std::path::PathBuf;
use std::process::Command;
use std::time::Duration;

use rdkafka::message::{Headers, Message, OwnedMessage};
use serde_json::{Value, json};
use support::kafka::{self, Rec};
use support::qdrant::{self, QdrantServer};
use support::schema_registry::{self, SchemaRegistry};
use support::worker::{lines, wait_lines};
use support::{Broker, Worker, eventually};

/// The Python with confluent-kafka that scripts/setup.sh installs.
fn python() -> PathBuf {
    let cache = std::env::var("CONNECTHOST_CACHE").unwrap_or_else(|_| {
        format!(
            "{}/.cache/connect-host",
            std::env::var("HOME").unwrap_or_default()
        )
    });
    PathBuf::from(cache).join("sr-venv/bin/python")
}

/// Produce `count` records from `first` with Confluent's serializer for
/// `format` (`avro`, `json` or `protobuf`), schema version `version` (1, or
/// 2 with an added field; Protobuf has one).
fn produce(
    broker: &Broker,
    registry: &SchemaRegistry,
    topic: &str,
    format: &str,
    version: u8,
    first: u32,
    count: u32,
) {
    produce_as(
        broker,
        registry,
        topic,
        format,
        version,
        (first, count),
        false,
    );
}

/// [`produce`], with the schema's GUID in the `__value_schema_id` header
/// (Confluent 8) when `guid_header`.
fn produce_as(
    broker: &Broker,
    registry: &SchemaRegistry,
    topic: &str,
    format: &str,
    version: u8,
    (first, count): (u32, u32),
    guid_header: bool,
) {
    let script = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/support/python/sr_produce.py"
    );
    let mut command = Command::new(python());
    if let Some(ca) = &registry.ca {
        command.env("SR_CA", ca);
    }
    if let Some(user_info) = &registry.user_info {
        command.env("SR_USER_INFO", user_info);
    }
    if guid_header {
        command.env("SR_SCHEMA_ID", "header");
    }
    let out = command
        .args([script, &broker.bootstrap(), &registry.url, topic, format])
        .args([version.to_string(), first.to_string(), count.to_string()])
        .output()
        .expect("run sr_produce.py (scripts/setup.sh installs its venv)");
    assert!(
        out.status.success(),
        "sr_produce.py failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).lines().count(),
        count as usize
    );
}

/// The DLQ of `topic` once it holds `count` records; the first must be the
/// unknown schema id 999 at `offset`, its message naming where it was and
/// its first bytes (and `what`, the format's words).
fn dead_letters(
    broker: &Broker,
    topic: &str,
    count: usize,
    offset: i64,
    what: &str,
) -> Vec<OwnedMessage> {
    let dlq = kafka::read_all(
        &broker.bootstrap(),
        &format!("{topic}-dlq"),
        1,
        count,
        Duration::from_secs(30),
    );
    assert_eq!(dlq.len(), count, "{topic}-dlq");
    let unknown = kafka::header(&dlq[0], "__connect.errors.exception.message").unwrap();
    assert!(
        unknown.contains(what)
            && unknown.contains(&format!("topic {topic}, partition 0, offset {offset}"))
            && unknown.contains("first bytes: 00 00 00 03 e7"),
        "{unknown}"
    );
    dlq
}

fn file_connector(topic: &str, file: &std::path::Path, registry: &SchemaRegistry) -> Value {
    json!({
        "connector.class": "org.apache.kafka.connect.file.FileStreamSinkConnector",
        "tasks.max": "1",
        "topics": topic,
        "file": file.display().to_string(),
        "key.converter": "org.apache.kafka.connect.storage.StringConverter",
        "value.converter": "io.confluent.connect.avro.AvroConverter",
        "value.converter.schema.registry.url": registry.url,
        "errors.tolerance": "all",
        "errors.deadletterqueue.topic.name": format!("{topic}-dlq"),
        "errors.deadletterqueue.topic.replication.factor": "1",
        "errors.deadletterqueue.context.headers.enable": "true",
    })
}

/// `config` with the settings of `extra` added (or replaced).
fn with(mut config: Value, extra: Value) -> Value {
    for (k, v) in extra.as_object().expect("settings") {
        config[k] = v.clone();
    }
    config
}

/// A Qdrant sink on `topic` into collection `topic`, values read by the
/// registry converter `converter`, texts from `template`, ids from `id`.
fn qdrant_connector(
    topic: &str,
    server: &QdrantServer,
    registry: &SchemaRegistry,
    converter: &str,
    template: &str,
) -> Value {
    json!({
        "connector.class": "qdrant-embedding",
        "topics": topic,
        "qdrant.url": server.url(),
        "collection.name": topic,
        "embedding.device": "cpu",
        "embedding.text.template": template,
        "id.strategy": "field:id",
        "key.converter": "org.apache.kafka.connect.storage.StringConverter",
        "value.converter": converter,
        "value.converter.schema.registry.url": registry.url,
    })
}

/// What FileStream writes for record `i` (Connect's `Struct.toString`,
/// logical values in their documented text form, nulls left out).
fn expected_line(i: u32, version: u8) -> String {
    assert!(i < 31);
    let day = format!("2024-05-{:02}", 1 + i);
    let colour = ["RED", "GREEN", "BLUE"][i as usize % 3];
    let second = 30 + i;
    let at = format!(
        "2024-05-01T13:{:02}:{:02}.123Z",
        45 + second / 60,
        second % 60
    );
    let price = format!("{i}.{:02}", i % 100);
    let mut line = format!(
        "Struct{{id={i},name=product {i},price={price},added={day},at={at},colour={colour}"
    );
    if i.is_multiple_of(2) {
        line.push_str(&format!(",note=note {i}"));
    }
    if version == 2 {
        line.push_str(&format!(",description=described {i}"));
    }
    line.push('}');
    line
}

#[tokio::test(flavor = "multi_thread")]
async fn avro_from_confluents_serializer_reaches_filestream_across_a_schema_evolution_and_bad_ids_go_to_the_dlq()
 {
    let dir = tempfile::tempdir().unwrap();
    let broker = Broker::start();
    let registry = SchemaRegistry::start().await;
    kafka::create_topic(&broker.bootstrap(), "products", 1).await;
    produce(&broker, &registry, "products", "avro", 1, 0, 10);
    produce(&broker, &registry, "products", "avro", 2, 10, 10);
    assert_eq!(registry.ids(), [1, 2], "v1 and v2 registered");
    // Poison: an id the registry does not know, and bytes that are not the
    // wire format at all.
    let producer = kafka::producer(&broker.bootstrap());
    kafka::produce(
        &producer,
        "products",
        vec![
            Rec::value(0, vec![0u8, 0, 0, 0x03, 0xe7, 2, 4]),
            Rec::value(0, b"{\"plain\":\"json\"}".to_vec()),
        ],
    )
    .await;
    produce(&broker, &registry, "products", "avro", 1, 20, 5);

    let before = registry.requests();
    let worker = Worker::start(&broker.bootstrap(), dir.path(), &[]).await;
    let out = dir.path().join("products.txt");
    worker
        .create("products-file", file_connector("products", &out, &registry))
        .await;
    let written = wait_lines(&out, 25, "25 Avro records in the file").await;
    let expected: Vec<String> = (0..10)
        .map(|i| expected_line(i, 1))
        .chain((10..20).map(|i| expected_line(i, 2)))
        .chain((20..25).map(|i| expected_line(i, 1)))
        .collect();
    assert_eq!(written, expected);

    // The unknown id and the bad magic byte.
    let dlq = dead_letters(&broker, "products", 2, 20, "Avro schema for id 999");
    assert_eq!(
        kafka::header(&dlq[0], "__connect.errors.stage"),
        Some("VALUE_CONVERTER")
    );
    let magic = kafka::header(&dlq[1], "__connect.errors.exception.message").unwrap();
    assert!(
        magic.contains("Unknown magic byte") && magic.contains("offset 21"),
        "{magic}"
    );
    // Three schema fetches (ids 1, 2 and 999) and two best-effort version
    // lookups per task start (a task restarted while the connector starts
    // begins with an empty cache, so at most twice that); none per record.
    let requests = registry.requests() - before;
    assert!((5..=10).contains(&requests), "{requests} registry requests");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_registry_outage_is_retried_and_loses_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let broker = Broker::start();
    let registry = SchemaRegistry::start().await;
    kafka::create_topic(&broker.bootstrap(), "outage", 1).await;
    produce(&broker, &registry, "outage", "avro", 1, 0, 5);
    produce(&broker, &registry, "outage", "avro", 2, 5, 5);
    registry.set_down(true);

    let worker = Worker::start(&broker.bootstrap(), dir.path(), &[]).await;
    let out = dir.path().join("outage.txt");
    worker
        .create("outage-file", file_connector("outage", &out, &registry))
        .await;
    // The task keeps asking: the registry sees retries, nothing is written.
    let asked = registry.requests();
    eventually(
        Duration::from_secs(30),
        "retries against the down registry",
        || async { (registry.requests() >= asked + 3).then_some(()) },
    )
    .await;
    assert!(lines(&out).is_empty());
    let status = worker.get("/connectors/outage-file/status").await.1;
    assert_eq!(status["tasks"][0]["state"], "RUNNING", "{status}");

    registry.set_down(false);
    let written = wait_lines(&out, 10, "all 10 records after the outage").await;
    let expected: Vec<String> = (0..5)
        .map(|i| expected_line(i, 1))
        .chain((5..10).map(|i| expected_line(i, 2)))
        .collect();
    assert_eq!(written, expected);
    let dlq = kafka::read_all(
        &broker.bootstrap(),
        "outage-dlq",
        1,
        1,
        Duration::from_secs(3),
    );
    assert!(dlq.is_empty(), "nothing dead-lettered for an outage");
}

#[tokio::test(flavor = "multi_thread")]
async fn avro_records_become_points_with_their_fields_as_payload() {
    let dir = tempfile::tempdir().unwrap();
    let broker = Broker::start();
    let registry = SchemaRegistry::start().await;
    let server = QdrantServer::start(&dir.path().join("qdrant"));
    kafka::create_topic(&broker.bootstrap(), "avro-products", 1).await;
    produce(&broker, &registry, "avro-products", "avro", 2, 0, 12);

    let worker = Worker::start(&broker.bootstrap(), dir.path(), &[]).await;
    let config = with(
        qdrant_connector(
            "avro-products",
            &server,
            &registry,
            "io.confluent.connect.avro.AvroConverter",
            "{name}: {description}",
        ),
        json!({"collection.name": "products"}),
    );
    worker.create("avro-qdrant", config).await;
    let client = server.client();
    let points = qdrant::wait_points(&client, "products", 12).await;
    let p = &points["3"];
    assert_eq!(p["name"], "product 3");
    assert_eq!(p["price"], 3.03);
    assert_eq!(p["added"], "2024-05-04");
    assert_eq!(p["at"], "2024-05-01T13:45:33.123Z");
    assert_eq!(p["colour"], "RED");
    assert_eq!(p["note"], Value::Null);
    assert_eq!(p["description"], "described 3");
}

/// What FileStream writes for Protobuf record `i`: ProtobufData's struct
/// (the oneof first, as `detail_0`), Connect's `Struct.toString`.
fn expected_protobuf_line(i: u32) -> String {
    let second = 30 + i;
    let at = format!(
        "2024-05-01T13:{:02}:{:02}.123Z",
        45 + second / 60,
        second % 60
    );
    let mut line = String::from("Struct{");
    match i % 3 {
        0 => line.push_str(&format!("detail_0=Struct{{note=note {i}}},")),
        1 => line.push_str(&format!("detail_0=Struct{{rank={i}}},")),
        _ => {}
    }
    line.push_str(&format!(
        "id={i},name=product {i},price={i}.{:02},added=2024-05-{:02},at={at},colour={},tags=[t{i}, all]",
        i % 100,
        1 + i,
        ["RED", "GREEN", "BLUE"][i as usize % 3],
    ));
    if i.is_multiple_of(2) {
        line.push_str(&format!(
            ",dims=Struct{{width={i}.5,height={}.0}}",
            2 * i + 1
        ));
    }
    line.push_str(&format!(",stock={{north={i}, south={}}}}}", 2 * i));
    line
}

#[tokio::test(flavor = "multi_thread")]
async fn protobuf_from_confluents_serializer_reaches_filestream_and_qdrant_and_unknown_ids_go_to_the_dlq()
 {
    let dir = tempfile::tempdir().unwrap();
    let broker = Broker::start();
    let registry = SchemaRegistry::start().await;
    kafka::create_topic(&broker.bootstrap(), "pb-products", 1).await;
    produce(&broker, &registry, "pb-products", "protobuf", 1, 0, 6);
    assert_eq!(
        registry.ids(),
        [1, 2],
        "shop/common.proto (a reference) and shop.Product"
    );
    // Poison: an id the registry does not know.
    let producer = kafka::producer(&broker.bootstrap());
    kafka::produce(
        &producer,
        "pb-products",
        vec![Rec::value(0, vec![0u8, 0, 0, 0x03, 0xe7, 0, 8, 1])],
    )
    .await;
    produce(&broker, &registry, "pb-products", "protobuf", 1, 6, 3);

    let before = registry.requests();
    let worker = Worker::start(&broker.bootstrap(), dir.path(), &[]).await;
    let out = dir.path().join("pb-products.txt");
    let mut config = file_connector("pb-products", &out, &registry);
    config["value.converter"] = json!("io.confluent.connect.protobuf.ProtobufConverter");
    worker.create("pb-products-file", config).await;
    let written = wait_lines(&out, 9, "9 Protobuf records in the file").await;
    let expected: Vec<String> = (0..9).map(expected_protobuf_line).collect();
    assert_eq!(written, expected);

    dead_letters(&broker, "pb-products", 1, 6, "Protobuf schema for id 999");
    // Schema 2 (serialized), its reference, the best-effort version lookup
    // and id 999: 4 requests per task start (a task restarted while the
    // connector starts begins with an empty cache), none per record.
    let requests = registry.requests() - before;
    assert!((4..=8).contains(&requests), "{requests} registry requests");

    // The same records into Qdrant: payloads in the JSON view (the decimal a
    // number, the date and timestamp as text, the map an object).
    let server = QdrantServer::start(&dir.path().join("qdrant"));
    let qdrant = with(
        qdrant_connector(
            "pb-products",
            &server,
            &registry,
            "io.confluent.connect.protobuf.ProtobufConverter",
            "{name} ({colour})",
        ),
        json!({
            "errors.tolerance": "all",
            "errors.deadletterqueue.topic.name": "pb-products-qdrant-dlq",
            "errors.deadletterqueue.topic.replication.factor": "1",
        }),
    );
    worker.create("pb-products-qdrant", qdrant).await;
    let points = qdrant::wait_points(&server.client(), "pb-products", 9).await;
    let p = &points["4"];
    assert_eq!(p["name"], "product 4");
    assert_eq!(p["price"], 4.04);
    assert_eq!(p["added"], "2024-05-05");
    assert_eq!(p["at"], "2024-05-01T13:45:34.123Z");
    assert_eq!(p["tags"], json!(["t4", "all"]));
    assert_eq!(p["dims"], json!({"width": 4.5, "height": 9.0}));
    assert_eq!(p["stock"], json!({"north": 4, "south": 8}));
}

/// Confluent 8 names a record's schema by GUID in a header: Avro records
/// so produced sit beside id-prefixed ones on one topic, Protobuf keeps its
/// message indexes in the header, and an unknown GUID goes to the DLQ.
#[tokio::test(flavor = "multi_thread")]
async fn schema_guids_in_headers_are_read_beside_id_prefixes() {
    let dir = tempfile::tempdir().unwrap();
    let broker = Broker::start();
    let registry = SchemaRegistry::start().await;
    kafka::create_topic(&broker.bootstrap(), "guids", 1).await;
    kafka::create_topic(&broker.bootstrap(), "pb-guids", 1).await;
    produce(&broker, &registry, "guids", "avro", 1, 0, 3);
    produce_as(&broker, &registry, "guids", "avro", 2, (3, 3), true);
    let unknown = {
        let mut header = vec![1u8];
        header.extend([0xab; 16]);
        Rec {
            headers: vec![("__value_schema_id".into(), header)],
            ..Rec::value(0, b"not read".to_vec())
        }
    };
    let producer = kafka::producer(&broker.bootstrap());
    kafka::produce(&producer, "guids", vec![unknown]).await;
    produce_as(&broker, &registry, "guids", "avro", 1, (6, 2), true);
    produce_as(&broker, &registry, "pb-guids", "protobuf", 1, (0, 4), true);

    // The serializer put v2's GUID, not its id, in the header, and the
    // payload is the bare Avro body.
    let sent = kafka::read_all(&broker.bootstrap(), "guids", 1, 9, Duration::from_secs(30));
    let header = sent[3]
        .headers()
        .and_then(|h| h.iter().find(|h| h.key == "__value_schema_id"))
        .and_then(|h| h.value)
        .expect("a __value_schema_id header");
    let hex: String = header[1..].iter().map(|b| format!("{b:02x}")).collect();
    assert_eq!(header[0], 1, "magic byte 1: a GUID");
    assert_eq!(hex, schema_registry::guid(2).replace('-', ""));
    assert_eq!(sent[3].payload().map(|p| p[0]), Some(0x06), "id 3, zigzag");
    assert!(
        sent[0].headers().is_none(),
        "id-prefixed records have no header"
    );

    let worker = Worker::start(&broker.bootstrap(), dir.path(), &[]).await;
    let out = dir.path().join("guids.txt");
    worker
        .create("guids-file", file_connector("guids", &out, &registry))
        .await;
    let written = wait_lines(&out, 8, "8 Avro records in the file").await;
    let expected: Vec<String> = (0..8)
        .map(|i| expected_line(i, if (3..6).contains(&i) { 2 } else { 1 }))
        .collect();
    assert_eq!(written, expected);
    let dlq = kafka::read_all(
        &broker.bootstrap(),
        "guids-dlq",
        1,
        1,
        Duration::from_secs(30),
    );
    let why = kafka::header(&dlq[0], "__connect.errors.exception.message").unwrap();
    assert!(
        why.contains("Avro schema for guid abababab-abab-abab-abab-abababababab")
            && why.contains("topic guids, partition 0, offset 6"),
        "{why}"
    );

    let pb_out = dir.path().join("pb-guids.txt");
    let mut config = file_connector("pb-guids", &pb_out, &registry);
    config["value.converter"] = json!("io.confluent.connect.protobuf.ProtobufConverter");
    worker.create("pb-guids-file", config).await;
    let written = wait_lines(&pb_out, 4, "4 Protobuf records in the file").await;
    let expected: Vec<String> = (0..4).map(expected_protobuf_line).collect();
    assert_eq!(written, expected);
}

/// What FileStream writes for JSON Schema record `i` (fields in the
/// schema's property order; Date and Timestamp in their text form).
fn expected_json_line(i: u32, version: u8) -> String {
    let colour = ["RED", "GREEN", "BLUE"][i as usize % 3];
    let mut line = format!(
        "Struct{{id={i},name=product {i},price={},added=2024-05-{:02},at=2024-05-01T13:45:{:02}.123Z,colour={colour}",
        f64::from(i) + 0.5,
        1 + i,
        30 + i
    );
    if i.is_multiple_of(2) {
        line.push_str(&format!(",note=note {i}"));
    }
    if version >= 2 {
        line.push_str(&format!(",description=described {i}"));
    }
    if version == 2 {
        // The oneOf's struct: the string branch for even records, else the integer one.
        let (branch, code) = if i.is_multiple_of(2) {
            (0, format!("c{i}"))
        } else {
            (1, i.to_string())
        };
        line.push_str(&format!(
            ",code=Struct{{io.confluent.connect.json.OneOf.field.{branch}={code}}}"
        ));
    }
    line.push('}');
    line
}

#[tokio::test(flavor = "multi_thread")]
async fn json_schema_from_confluents_serializer_reaches_filestream_and_qdrant() {
    let dir = tempfile::tempdir().unwrap();
    let broker = Broker::start();
    let registry = SchemaRegistry::start().await;
    let server = QdrantServer::start(&dir.path().join("qdrant"));
    kafka::create_topic(&broker.bootstrap(), "js-products", 1).await;
    produce(&broker, &registry, "js-products", "json", 1, 0, 4);
    produce(&broker, &registry, "js-products", "json", 2, 4, 4);
    // v3 is an allOf of v1's object and one more property.
    produce(&broker, &registry, "js-products", "json", 3, 8, 4);
    assert_eq!(registry.ids(), [1, 2, 3], "v1, v2 and v3 registered");

    let worker = Worker::start(&broker.bootstrap(), dir.path(), &[]).await;
    let out = dir.path().join("js-products.txt");
    let mut config = file_connector("js-products", &out, &registry);
    config["value.converter"] = json!("io.confluent.connect.json.JsonSchemaConverter");
    worker.create("js-file", config).await;
    let qdrant = qdrant_connector(
        "js-products",
        &server,
        &registry,
        "io.confluent.connect.json.JsonSchemaConverter",
        "{name} ({colour})",
    );
    worker.create("js-qdrant", qdrant).await;

    let written = wait_lines(&out, 12, "12 JSON Schema records in the file").await;
    let expected: Vec<String> = (0..4)
        .map(|i| expected_json_line(i, 1))
        .chain((4..8).map(|i| expected_json_line(i, 2)))
        .chain((8..12).map(|i| expected_json_line(i, 3)))
        .collect();
    assert_eq!(written, expected);

    let client = server.client();
    let points = qdrant::wait_points(&client, "js-products", 12).await;
    assert_eq!(points["10"]["description"], "described 10");
    assert_eq!(points["10"]["colour"], "GREEN");
    let p = &points["5"];
    assert_eq!(p["name"], "product 5");
    assert_eq!(p["price"], 5.5);
    assert_eq!(p["added"], "2024-05-06");
    assert_eq!(p["at"], "2024-05-01T13:45:35.123Z");
    assert_eq!(p["description"], "described 5");
    assert_eq!(
        p["code"],
        json!({"io.confluent.connect.json.OneOf.field.0": null,
               "io.confluent.connect.json.OneOf.field.1": 5})
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn an_https_registry_with_basic_auth_is_read_with_the_right_settings_and_retried_with_wrong_ones()
 {
    let dir = tempfile::tempdir().unwrap();
    let pki = support::tls::pki(&dir.path().join("pki"));
    let broker = Broker::start();
    let registry = SchemaRegistry::start_secured(Some(&pki), Some("sr-user:sr-secret")).await;
    assert!(registry.url.starts_with("https://"));
    kafka::create_topic(&broker.bootstrap(), "secure", 1).await;
    produce(&broker, &registry, "secure", "avro", 1, 0, 3);

    let worker = Worker::start(&broker.bootstrap(), dir.path(), &[]).await;
    let secured = |file: &str, password: &str| {
        let config = file_connector("secure", &dir.path().join(file), &registry);
        with(
            config,
            json!({
                "value.converter.schema.registry.ssl.truststore.location": pki.ca.display().to_string(),
                "value.converter.schema.registry.ssl.truststore.type": "PEM",
                "value.converter.basic.auth.credentials.source": "USER_INFO",
                "value.converter.basic.auth.user.info": format!("sr-user:{password}"),
            }),
        )
    };
    // A Java keystore is refused, naming the setting, not ignored.
    let mut jks = secured("jks.txt", "sr-secret");
    jks["value.converter.schema.registry.ssl.truststore.type"] = json!("JKS");
    let (code, body) = worker
        .call("PUT", "/connectors/jks/config", Some(&jks))
        .await;
    assert_eq!(code, 400, "{body}");
    assert!(
        body["message"]
            .as_str()
            .unwrap()
            .contains("schema.registry.ssl.truststore.type"),
        "{body}"
    );

    // Wrong password: retried (401 is the registry's answer, not the
    // record's fault), nothing written, nothing dead-lettered.
    let (code, body) = worker
        .call(
            "PUT",
            "/connectors/wrong/config",
            Some(&secured("wrong.txt", "nope")),
        )
        .await;
    assert_eq!(code, 201, "{body}");
    let asked = registry.requests();
    eventually(
        Duration::from_secs(30),
        "retries with the wrong password",
        || async { (registry.requests() >= asked + 3).then_some(()) },
    )
    .await;
    assert!(lines(&dir.path().join("wrong.txt")).is_empty());
    let status = worker.get("/connectors/wrong/status").await.1;
    assert_eq!(status["tasks"][0]["state"], "RUNNING", "{status}");

    let (code, body) = worker
        .call(
            "PUT",
            "/connectors/right/config",
            Some(&secured("right.txt", "sr-secret")),
        )
        .await;
    assert_eq!(code, 201, "{body}");
    let written = wait_lines(&dir.path().join("right.txt"), 3, "3 records over HTTPS").await;
    let expected: Vec<String> = (0..3).map(|i| expected_line(i, 1)).collect();
    assert_eq!(written, expected);
    let dlq = kafka::read_all(
        &broker.bootstrap(),
        "secure-dlq",
        1,
        1,
        Duration::from_secs(3),
    );
    assert!(
        dlq.is_empty(),
        "nothing dead-lettered for a refused password"
    );
    // The registry password is a secret: the API hides it.
    let (_, shown) = worker.get("/connectors/right/config").await;
    assert_eq!(shown["value.converter.basic.auth.user.info"], "[hidden]");

    // The user info in the URL, with the default credentials source (URL),
    // as Confluent's client reads it.
    let in_url = registry
        .url
        .replacen("https://", "https://sr-user:sr-secret@", 1);
    let mut config = file_connector("secure", &dir.path().join("in-url.txt"), &registry);
    config = with(
        config,
        json!({
            "value.converter.schema.registry.url": in_url,
            "value.converter.schema.registry.ssl.truststore.location": pki.ca.display().to_string(),
        }),
    );
    let (code, body) = worker
        .call("PUT", "/connectors/in-url/config", Some(&config))
        .await;
    assert_eq!(code, 201, "{body}");
    let written = wait_lines(
        &dir.path().join("in-url.txt"),
        3,
        "3 records, user info in the URL",
    )
    .await;
    assert_eq!(written, expected);
}

#[tokio::test(flavor = "multi_thread")]
async fn smts_on_avro_structs_keep_and_change_the_schema() {
    let dir = tempfile::tempdir().unwrap();
    let broker = Broker::start();
    let registry = SchemaRegistry::start().await;
    kafka::create_topic(&broker.bootstrap(), "smt-products", 1).await;
    produce(&broker, &registry, "smt-products", "avro", 1, 0, 4);

    let worker = Worker::start(&broker.bootstrap(), dir.path(), &[]).await;
    let out = dir.path().join("smt.txt");
    let config = file_connector("smt-products", &out, &registry);
    let chain = json!({
        "transforms": "drop,mask,cast,insert",
        "transforms.drop.type": "org.apache.kafka.connect.transforms.ReplaceField$Value",
        "transforms.drop.exclude": "note,at",
        "transforms.drop.renames": "colour:color",
        "transforms.mask.type": "org.apache.kafka.connect.transforms.MaskField$Value",
        "transforms.mask.fields": "price",
        "transforms.cast.type": "org.apache.kafka.connect.transforms.Cast$Value",
        "transforms.cast.spec": "id:string",
        "transforms.insert.type": "org.apache.kafka.connect.transforms.InsertField$Value",
        "transforms.insert.offset.field": "offset",
    });
    let config = with(config, chain);
    worker.create("smt-file", config).await;
    let written = wait_lines(&out, 4, "4 transformed records").await;
    // The struct keeps its schema through the chain: Decimal masked to its
    // zero at scale 2, the date still a Date, the id a string.
    let expected: Vec<String> = (0..4u32)
        .map(|i| {
            format!(
                "Struct{{id={i},name=product {i},price=0.00,added=2024-05-{:02},color={},offset={i}}}",
                1 + i,
                ["RED", "GREEN", "BLUE"][i as usize % 3]
            )
        })
        .collect();
    assert_eq!(written, expected);

    // The reshaping SMTs keep a schema too: the timestamp becomes a Date,
    // the record is hoisted into a struct, then flattened back with a prefix.
    let out = dir.path().join("reshaped.txt");
    let config = file_connector("smt-products", &out, &registry);
    let chain = json!({
        "transforms": "day,hoist,flat",
        "transforms.day.type": "org.apache.kafka.connect.transforms.TimestampConverter$Value",
        "transforms.day.field": "at",
        "transforms.day.target.type": "Date",
        "transforms.hoist.type": "org.apache.kafka.connect.transforms.HoistField$Value",
        "transforms.hoist.field": "product",
        "transforms.flat.type": "org.apache.kafka.connect.transforms.Flatten$Value",
        "transforms.flat.delimiter": "_",
    });
    let config = with(config, chain);
    worker.create("reshape-file", config).await;
    let written = wait_lines(&out, 4, "4 reshaped records").await;
    let expected: Vec<String> = (0..4u32)
        .map(|i| {
            let mut line = format!(
                "Struct{{product_id={i},product_name=product {i},product_price={i}.{:02},product_added=2024-05-{:02},product_at=2024-05-01,product_colour={}",
                i % 100,
                1 + i,
                ["RED", "GREEN", "BLUE"][i as usize % 3]
            );
            if i.is_multiple_of(2) {
                line.push_str(&format!(",product_note=note {i}"));
            }
            line + "}"
        })
        .collect();
    assert_eq!(written, expected);
}
