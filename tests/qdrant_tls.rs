//! TLS to Qdrant with an API key, end to end: the Qdrant-protocol test
//! server serves gRPC over TLS with a certificate from a CA made here, and
//! requires an API key; the real worker, told to trust that CA through
//! `SSL_CERT_FILE` (what qdrant-client's rustls-native-certs reads), writes
//! to `https://` with the key. A wrong key fails the task, naming the key
//! setting, and loses nothing once corrected; plain `http://` to the TLS
//! port does not get through.
//!
//! One test on purpose: it sets `SSL_CERT_FILE` in this process (for the
//! checking client), which must not race with another test.

mod support;

use std::time::Duration;

use event_generator::Generator;
use qdrant_client::{Qdrant, QdrantError};
use serde_json::{Value, json};
use support::kafka::{self, Rec};
use support::qdrant::{self, QdrantServer, Security, TlsFiles};
use support::{Broker, Worker, eventually};

const TOPIC: &str = "secure-events";
const KEY: &str = "k3y-for-the-tls-test";
const WRONG_KEY: &str = "n0t-the-k3y";
const EVENTS: usize = 12;

fn connector(url: &str, collection: &str, api_key: &str) -> Value {
    json!({
        "connector.class": "qdrant-embedding",
        "topics": TOPIC,
        "tasks.max": "1",
        "qdrant.url": url,
        "qdrant.api.key": api_key,
        "collection.name": collection,
        "embedding.device": "cpu",
        "embedding.text.template": "{product.name}: {product.description}",
        "id.strategy": "field:event_id",
        "value.converter": "org.apache.kafka.connect.json.JsonConverter",
        "value.converter.schemas.enable": "false",
        "key.converter": "org.apache.kafka.connect.storage.StringConverter",
    })
}

fn client(url: &str, api_key: Option<&str>) -> Qdrant {
    Qdrant::from_url(url)
        .api_key(api_key)
        .skip_compatibility_check()
        .build()
        .unwrap()
}

/// The gRPC status code (its name) and message of a refused call.
fn refusal(e: QdrantError) -> (String, String) {
    match e {
        QdrantError::ResponseError { status } => {
            (format!("{:?}", status.code()), status.message().to_string())
        }
        other => panic!("not a gRPC refusal: {other}"),
    }
}

/// The ids of the points in `collection`, sorted.
async fn ids(client: &Qdrant, collection: &str) -> Vec<String> {
    let mut ids: Vec<String> = qdrant::all_points(client, collection)
        .await
        .into_keys()
        .collect();
    ids.sort();
    ids
}

#[tokio::test(flavor = "multi_thread")]
async fn https_with_an_api_key_writes_and_a_wrong_key_fails_until_corrected() {
    let dir = tempfile::tempdir().unwrap();
    let tls = TlsFiles::self_signed(&dir.path().join("tls"));
    let server = QdrantServer::start_secured(
        &dir.path().join("qdrant"),
        Security {
            tls: Some(tls.clone()),
            api_key: Some(KEY.into()),
        },
    );
    let https = server.url();
    let http = format!("http://127.0.0.1:{}", server.port);
    assert!(https.starts_with("https://"), "{https}");

    // The server's certificate is checked: without the CA among the trusted
    // roots, the TLS handshake fails.
    let untrusted = client(&https, Some(KEY))
        .list_collections()
        .await
        .expect_err("a server certificate from an unknown CA must be refused");
    eprintln!("https without trusting the CA: {untrusted}");
    // (UnknownIssuer; a host with no CA roots at all refuses it too.)
    let why = format!("{untrusted:?}");
    assert!(
        why.contains("UnknownIssuer") || why.contains("NativeCertsNotFound"),
        "{why}"
    );
    // Plain gRPC to the TLS port does not get through, right key or not
    // (the TLS side drops the connection: an h2, transport or cancelled error).
    let plain = client(&http, Some(KEY))
        .list_collections()
        .await
        .expect_err("plain http:// to the TLS port must fail");
    eprintln!("http:// to the TLS port: {plain}");

    // SAFETY: the only test of this binary, before any client library that
    // reads the environment from C (librdkafka) has started; qdrant-client's
    // rustls-native-certs reads it through std::env at each connection.
    unsafe { std::env::set_var("SSL_CERT_FILE", &tls.ca) };
    // The API key is required, and checked, on every call.
    let (code, message) = refusal(client(&https, None).list_collections().await.unwrap_err());
    assert_eq!(code, "Unauthenticated", "{message}");
    assert!(message.contains("Must provide an API key"), "{message}");
    let (code, message) = refusal(
        client(&https, Some(WRONG_KEY))
            .list_collections()
            .await
            .unwrap_err(),
    );
    assert_eq!(code, "Unauthenticated", "{message}");
    assert!(message.contains("Invalid api-key"), "{message}");
    let checker = server.client();
    checker
        .list_collections()
        .await
        .expect("https with the CA trusted and the right key");

    // A handful of events, read by three connectors.
    let broker = Broker::start();
    kafka::create_topic(&broker.bootstrap(), TOPIC, 1).await;
    let mut generator = Generator::new(11, 20, 0.0);
    let events: Vec<_> = (0..EVENTS).map(|_| generator.next_event()).collect();
    let producer = kafka::producer(&broker.bootstrap());
    let records = events
        .iter()
        .map(|e| Rec {
            partition: 0,
            key: Some(e.key.clone().into_bytes()),
            value: Some(e.value.clone()),
            headers: vec![],
        })
        .collect();
    kafka::produce(&producer, TOPIC, records).await;
    let mut expected: Vec<String> = events.iter().map(|e| e.event_id.clone()).collect();
    expected.sort();

    let ca = tls.ca.display().to_string();
    let worker = Worker::start(
        &broker.bootstrap(),
        dir.path(),
        &[("SSL_CERT_FILE", ca.as_str())],
    )
    .await;
    for (name, url, collection, key) in [
        ("tls-right-key", &https, "secure", KEY),
        ("tls-wrong-key", &https, "wrong-key", WRONG_KEY),
        ("plain-to-tls", &http, "plain", KEY),
    ] {
        let (code, body) = worker
            .call(
                "PUT",
                &format!("/connectors/{name}/config"),
                Some(&connector(url, collection, key)),
            )
            .await;
        assert_eq!(code, 201, "{name}: {body}");
    }

    // https:// with the right key: every event becomes a point.
    eventually(
        Duration::from_secs(180),
        "every event in 'secure' over https",
        || async { (qdrant::count(&checker, "secure").await == Some(EVENTS as u64)).then_some(()) },
    )
    .await;
    assert_eq!(ids(&checker, "secure").await, expected);

    // A wrong key: the task fails, saying why, and writes nothing.
    let status = eventually(
        Duration::from_secs(120),
        "the wrong-key task FAILED",
        || async {
            let (_, s) = worker.get("/connectors/tls-wrong-key/status").await;
            (s["tasks"][0]["state"] == "FAILED").then_some(s)
        },
    )
    .await;
    let trace = status["tasks"][0]["trace"].as_str().unwrap_or_default();
    assert!(
        trace.contains("refused the credentials")
            && trace.contains("qdrant.api.key")
            && trace.contains("Invalid api-key"),
        "{status}"
    );
    assert!(
        !checker.collection_exists("wrong-key").await.unwrap(),
        "nothing written with a wrong key"
    );
    assert!(
        !worker.log().contains(WRONG_KEY) && !worker.log().contains(KEY),
        "keys never reach the log"
    );

    // Plain http:// to the TLS port: the task retries (an endpoint problem,
    // not a record's) and nothing gets through.
    let retry = eventually(
        Duration::from_secs(60),
        "the plain-http task retrying",
        || async {
            worker
                .log()
                .lines()
                .find(|l| l.contains("connector=plain-to-tls") && l.contains("sink is unavailable"))
                .map(str::to_string)
        },
    )
    .await;
    eprintln!("plain http:// connector: {retry}");
    let (_, status) = worker.get("/connectors/plain-to-tls/status").await;
    assert_eq!(status["tasks"][0]["state"], "RUNNING", "{status}");
    assert!(
        !checker.collection_exists("plain").await.unwrap(),
        "nothing written over plain http://"
    );

    // The key corrected: the events the failed task never wrote arrive.
    let (code, body) = worker
        .call(
            "PUT",
            "/connectors/tls-wrong-key/config",
            Some(&connector(&https, "wrong-key", KEY)),
        )
        .await;
    assert_eq!(code, 200, "{body}");
    eventually(
        Duration::from_secs(180),
        "every event in 'wrong-key' once the key is corrected",
        || async {
            (qdrant::count(&checker, "wrong-key").await == Some(EVENTS as u64)).then_some(())
        },
    )
    .await;
    assert_eq!(ids(&checker, "wrong-key").await, expected, "nothing lost");
    worker.wait_state("tls-wrong-key", "RUNNING", 1).await;
}
