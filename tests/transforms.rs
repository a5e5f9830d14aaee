//! Single Message Transforms end to end through the real broker and worker:
//! a predicate-gated Filter and a chain of field SMTs and a topic router in
//! front of the FileStream sink; dropped and re-routed records still commit
//! the offsets of the topic they were consumed from.

mod support;

use std::time::Duration;

use serde_json::json;
use support::kafka::{self, Rec};
use support::worker::{lines, wait_lines};
use support::{Broker, Worker, eventually};

#[tokio::test(flavor = "multi_thread")]
async fn chain_filters_transforms_and_routes_while_offsets_follow_the_original_topic() {
    let dir = tempfile::tempdir().unwrap();
    let broker = Broker::start();
    kafka::create_topic(&broker.bootstrap(), "orders", 2).await;
    let producer = kafka::producer(&broker.bootstrap());
    let mut expected = Vec::new();
    for p in 0..2 {
        let mut records = Vec::new();
        for i in 0..30 {
            let id = p * 30 + i;
            let mut rec = Rec::value(
                p,
                json!({"payload": {"id": id, "user": {"name": format!("u{id}"), "secret": "s3cr3t"}}})
                    .to_string(),
            );
            if id % 4 == 0 {
                rec.headers.push(("skip".into(), b"yes".to_vec()));
            } else {
                expected.push(json!({
                    "id": id, "name": format!("u{id}"), "source": "e2e", "routed_to": "routed-orders"
                }));
            }
            records.push(rec);
        }
        kafka::produce(&producer, "orders", records).await;
    }
    assert_eq!(expected.len(), 45);

    let worker = Worker::start(&broker.bootstrap(), dir.path(), &[]).await;
    let out = dir.path().join("out.txt");
    let config = json!({
        "connector.class": "org.apache.kafka.connect.file.FileStreamSinkConnector",
        "tasks.max": "1",
        "topics": "orders",
        "file": out.display().to_string(),
        "value.converter": "org.apache.kafka.connect.json.JsonConverter",
        "value.converter.schemas.enable": "false",
        "transforms": "skip,extract,flatten,replace,route,insert",
        "transforms.skip.type": "org.apache.kafka.connect.transforms.Filter",
        "transforms.skip.predicate": "hasSkip",
        "transforms.extract.type": "org.apache.kafka.connect.transforms.ExtractField$Value",
        "transforms.extract.field": "payload",
        "transforms.flatten.type": "Flatten$Value",
        "transforms.flatten.delimiter": "_",
        "transforms.replace.type": "ReplaceField$Value",
        "transforms.replace.exclude": "user_secret",
        "transforms.replace.renames": "user_name:name",
        "transforms.route.type": "RegexRouter",
        "transforms.route.regex": "(.*)",
        "transforms.route.replacement": "routed-$1",
        "transforms.insert.type": "InsertField$Value",
        "transforms.insert.static.field": "source",
        "transforms.insert.static.value": "e2e",
        "transforms.insert.topic.field": "routed_to",
        "predicates": "hasSkip",
        "predicates.hasSkip.type": "org.apache.kafka.connect.transforms.predicates.HasHeaderKey",
        "predicates.hasSkip.name": "skip",
    });
    let (code, body) = worker
        .call(
            "POST",
            "/connectors",
            Some(&json!({"name": "smt-file", "config": config})),
        )
        .await;
    assert_eq!(code, 201, "{body}");

    wait_lines(&out, 45, "45 lines").await;
    eventually(
        Duration::from_secs(30),
        "offsets of the original topic committed to the end",
        || async {
            let c = kafka::committed(&broker.bootstrap(), "connect-smt-file", "orders", 2);
            (c.len() == 2 && c.values().all(|o| *o == 30)).then_some(())
        },
    )
    .await;
    let mut got: Vec<serde_json::Value> = lines(&out)
        .iter()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{l}: {e}")))
        .collect();
    let key = |v: &serde_json::Value| v["id"].as_i64().unwrap();
    got.sort_by_key(key);
    expected.sort_by_key(key);
    assert_eq!(got, expected);

    // A transformation without a type is refused at create, update and validate.
    let bad = json!({
        "connector.class": "org.apache.kafka.connect.file.FileStreamSinkConnector",
        "topics": "orders",
        "file": out.display().to_string(),
        "transforms": "foo",
    });
    let (code, body) = worker
        .call(
            "POST",
            "/connectors",
            Some(&json!({"name": "bad-smt", "config": bad})),
        )
        .await;
    assert_eq!(code, 400, "{body}");
    assert!(body.to_string().contains("foo"), "{body}");
    let (code, body) = worker
        .call("PUT", "/connectors/smt-file/config", Some(&bad))
        .await;
    assert_eq!(code, 400, "{body}");
    assert!(body.to_string().contains("transforms.foo.type"), "{body}");
    let (code, body) = worker
        .call(
            "PUT",
            "/connector-plugins/FileStreamSinkConnector/config/validate",
            Some(&bad),
        )
        .await;
    assert_eq!(code, 200, "{body}");
    let foo_type = body["configs"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["value"]["name"] == "transforms.foo.type")
        .unwrap_or_else(|| panic!("{body}"));
    assert!(
        foo_type["value"]["errors"][0]
            .as_str()
            .unwrap()
            .contains("foo"),
        "{body}"
    );
}

fn header<'a>(m: &'a rdkafka::message::OwnedMessage, key: &str) -> Option<&'a str> {
    use rdkafka::message::{Headers, Message};
    m.headers()?
        .iter()
        .find(|h| h.key == key)
        .and_then(|h| std::str::from_utf8(h.value?).ok())
}

#[tokio::test(flavor = "multi_thread")]
async fn tolerated_transformation_errors_go_to_the_dlq_at_stage_transformation() {
    let dir = tempfile::tempdir().unwrap();
    let broker = Broker::start();
    kafka::create_topic(&broker.bootstrap(), "mixed", 1).await;
    let producer = kafka::producer(&broker.bootstrap());
    // Every 5th value is not a map: ExtractField$Value cannot take a field of it.
    let records = (0..20)
        .map(|i| {
            let v = if i % 5 == 0 {
                json!([i])
            } else {
                json!({"v": i})
            };
            Rec::value(0, v.to_string())
        })
        .collect();
    kafka::produce(&producer, "mixed", records).await;
    let worker = Worker::start(&broker.bootstrap(), dir.path(), &[]).await;
    let out = dir.path().join("out.txt");
    let config = json!({
        "connector.class": "org.apache.kafka.connect.file.FileStreamSinkConnector",
        "topics": "mixed",
        "file": out.display().to_string(),
        "value.converter": "org.apache.kafka.connect.json.JsonConverter",
        "value.converter.schemas.enable": "false",
        "transforms": "pick",
        "transforms.pick.type": "org.apache.kafka.connect.transforms.ExtractField$Value",
        "transforms.pick.field": "v",
        "errors.tolerance": "all",
        "errors.deadletterqueue.topic.name": "mixed-dlq",
        "errors.deadletterqueue.topic.replication.factor": "1",
        "errors.deadletterqueue.context.headers.enable": "true",
    });
    let (code, body) = worker
        .call(
            "POST",
            "/connectors",
            Some(&json!({"name": "pick-file", "config": config})),
        )
        .await;
    assert_eq!(code, 201, "{body}");
    wait_lines(&out, 16, "16 lines").await;
    let expected: Vec<String> = (0..20)
        .filter(|i| i % 5 != 0)
        .map(|i| i.to_string())
        .collect();
    assert_eq!(lines(&out), expected);
    let dlq = kafka::read_all(
        &broker.bootstrap(),
        "mixed-dlq",
        1,
        4,
        Duration::from_secs(30),
    );
    assert_eq!(dlq.len(), 4);
    for m in &dlq {
        assert_eq!(header(m, "__connect.errors.stage"), Some("TRANSFORMATION"));
        assert_eq!(
            header(m, "__connect.errors.class.name"),
            Some("org.apache.kafka.connect.transforms.ExtractField$Value")
        );
    }
    eventually(
        Duration::from_secs(30),
        "offsets committed to the end",
        || async {
            let c = kafka::committed(&broker.bootstrap(), "connect-pick-file", "mixed", 1);
            (c.get(&0) == Some(&20)).then_some(())
        },
    )
    .await;
}

#[tokio::test(flavor = "multi_thread")]
async fn smts_and_predicates_are_plugins_and_timestamp_converter_converts() {
    let dir = tempfile::tempdir().unwrap();
    let broker = Broker::start();
    let worker = Worker::start(&broker.bootstrap(), dir.path(), &[]).await;

    let (code, plugins) = worker.get("/connector-plugins?connectorsOnly=false").await;
    assert_eq!(code, 200, "{plugins}");
    let listed =
        |class: &str, kind: &str| {
            plugins.as_array().unwrap().iter().any(|p| {
                p["class"] == class && p["type"] == kind && p["version"].as_str().is_some()
            })
        };
    assert!(
        listed(
            "org.apache.kafka.connect.transforms.TimestampConverter$Value",
            "transformation"
        ),
        "{plugins}"
    );
    assert!(listed(
        "org.apache.kafka.connect.transforms.Cast$Key",
        "transformation"
    ));
    assert!(listed(
        "org.apache.kafka.connect.transforms.predicates.RecordIsTombstone",
        "predicate"
    ));
    // Debezium's unwrap runs natively, so it is listed with its settings.
    assert!(listed(
        "io.debezium.transforms.ExtractNewRecordState",
        "transformation"
    ));
    let (code, keys) = worker
        .get("/connector-plugins/io.debezium.transforms.ExtractNewRecordState/config")
        .await;
    assert_eq!(code, 200, "{keys}");
    assert!(
        keys.as_array()
            .unwrap()
            .iter()
            .any(|k| k["name"] == "delete.tombstone.handling.mode"),
        "{keys}"
    );
    let (_, connectors_only) = worker.get("/connector-plugins").await;
    assert!(
        !connectors_only
            .as_array()
            .unwrap()
            .iter()
            .any(|p| p["type"] == "transformation" || p["type"] == "predicate"),
        "{connectors_only}"
    );

    let (code, keys) = worker
        .get("/connector-plugins/org.apache.kafka.connect.transforms.TimestampConverter$Value/config")
        .await;
    assert_eq!(code, 200, "{keys}");
    let target = keys
        .as_array()
        .unwrap()
        .iter()
        .find(|k| k["name"] == "target.type")
        .unwrap_or_else(|| panic!("{keys}"));
    assert_eq!(target["type"], "STRING");
    assert_eq!(target["required"], true);
    assert_eq!(target["importance"], "HIGH");
    let (code, keys) = worker.get("/connector-plugins/HasHeaderKey/config").await;
    assert_eq!(code, 200, "{keys}");
    assert_eq!(keys[0]["name"], "name", "{keys}");

    kafka::create_topic(&broker.bootstrap(), "events", 1).await;
    let producer = kafka::producer(&broker.bootstrap());
    // 2017-01-03T06:30:01.864Z and 2024-02-29T23:59:59.999Z.
    let records = [1_483_425_001_864_i64, 1_709_251_199_999]
        .iter()
        .map(|at| Rec::value(0, json!({"at": at, "n": 1}).to_string()))
        .collect();
    kafka::produce(&producer, "events", records).await;
    let out = dir.path().join("out.txt");
    let mut config = json!({
        "connector.class": "org.apache.kafka.connect.file.FileStreamSinkConnector",
        "topics": "events",
        "file": out.display().to_string(),
        "value.converter": "org.apache.kafka.connect.json.JsonConverter",
        "value.converter.schemas.enable": "false",
        "transforms": "day",
        "transforms.day.type": "org.apache.kafka.connect.transforms.TimestampConverter$Value",
        "transforms.day.field": "at",
        "transforms.day.target.type": "string",
        "transforms.day.format": "yyyy-ww",
    });
    // A pattern letter this host does not support is refused, named.
    let (code, body) = worker
        .call(
            "POST",
            "/connectors",
            Some(&json!({"name": "ts-file", "config": config})),
        )
        .await;
    assert_eq!(code, 400, "{body}");
    assert!(
        body.to_string().contains("transforms.day.format") && body.to_string().contains("'w'"),
        "{body}"
    );
    config["transforms.day.format"] = json!("yyyy-MM-dd");
    let (code, body) = worker
        .call(
            "POST",
            "/connectors",
            Some(&json!({"name": "ts-file", "config": config})),
        )
        .await;
    assert_eq!(code, 201, "{body}");
    wait_lines(&out, 2, "2 lines").await;
    let got: Vec<serde_json::Value> = lines(&out)
        .iter()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{l}: {e}")))
        .collect();
    assert_eq!(
        got,
        [
            json!({"at": "2017-01-03", "n": 1}),
            json!({"at": "2024-02-29", "n": 1})
        ]
    );
}

/// Debezium's ExtractNewRecordState, native: change events in Debezium's
/// JSON (no schemas) become their rows, a delete is rewritten and marked,
/// a tombstone is dropped, and the offsets of all of them are committed.
#[tokio::test(flavor = "multi_thread")]
async fn debezium_change_events_become_rows() {
    let dir = tempfile::tempdir().unwrap();
    let broker = Broker::start();
    kafka::create_topic(&broker.bootstrap(), "db.products", 1).await;
    let event = |op: &str, before: serde_json::Value, after: serde_json::Value| {
        json!({"before": before, "after": after, "op": op, "ts_ms": 1_700_000_000_000i64,
               "source": {"table": "products", "db": "shop"}})
        .to_string()
    };
    let producer = kafka::producer(&broker.bootstrap());
    let mut tombstone = Rec::value(0, Vec::new());
    tombstone.value = None;
    kafka::produce(
        &producer,
        "db.products",
        vec![
            Rec::value(0, event("c", json!(null), json!({"id": 1, "name": "shoe"}))),
            Rec::value(
                0,
                event(
                    "u",
                    json!({"id": 1, "name": "shoe"}),
                    json!({"id": 1, "name": "boot"}),
                ),
            ),
            Rec::value(0, event("d", json!({"id": 1, "name": "boot"}), json!(null))),
            tombstone,
        ],
    )
    .await;
    let worker = Worker::start(&broker.bootstrap(), dir.path(), &[]).await;
    let out = dir.path().join("rows.txt");
    let config = json!({
        "connector.class": "org.apache.kafka.connect.file.FileStreamSinkConnector",
        "tasks.max": "1",
        "topics": "db.products",
        "file": out.display().to_string(),
        "value.converter": "org.apache.kafka.connect.json.JsonConverter",
        "value.converter.schemas.enable": "false",
        "transforms": "unwrap",
        "transforms.unwrap.type": "io.debezium.transforms.ExtractNewRecordState",
        "transforms.unwrap.delete.handling.mode": "rewrite",
        "transforms.unwrap.add.fields": "op,table",
    });
    let (code, body) = worker
        .call("PUT", "/connectors/rows/config", Some(&config))
        .await;
    assert_eq!(code, 201, "{body}");
    let rows = wait_lines(&out, 3, "3 rows").await;
    assert_eq!(
        rows,
        [
            r#"{"id":1,"name":"shoe","__op":"c","__table":"products","__deleted":"false"}"#,
            r#"{"id":1,"name":"boot","__op":"u","__table":"products","__deleted":"false"}"#,
            r#"{"id":1,"name":"boot","__op":"d","__table":"products","__deleted":"true"}"#,
        ]
    );
    eventually(
        Duration::from_secs(30),
        "the tombstone's offset committed",
        || async {
            let committed = kafka::committed(&broker.bootstrap(), "connect-rows", "db.products", 1);
            (committed.get(&0) == Some(&4)).then_some(())
        },
    )
    .await;
}
