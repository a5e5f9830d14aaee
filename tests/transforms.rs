//! Single Message Transforms end to end through the real broker and worker:
//! a predicate-gated Filter and a chain of field SMTs and a topic router in
//! front of the FileStream sink; dropped and re-routed records still commit
//! the offsets of the topic they were consumed from.

mod support;

use std::time::Duration;

use serde_json::json;
use support::kafka::{self, Rec};
use support::worker::lines;
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

    eventually(Duration::from_secs(60), "45 lines", || async {
        (lines(&out).len() >= 45).then_some(())
    })
    .await;
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
    eventually(Duration::from_secs(60), "16 lines", || async {
        (lines(&out).len() >= 16).then_some(())
    })
    .await;
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
