//! The cluster's stores against the real broker: two stores on the same
//! topics stand for two workers, and must hold the same view.

// Only the broker and `eventually` are used here.
#[allow(unused_imports)]
mod support;

use std::time::Duration;

use connect_api::ConfigMap;
use connect_runtime::status::{InstanceStatus, State, TargetState};
use connect_runtime::storage::{
    ConfigBackingStore, KafkaConfigStore, KafkaStatusStore, StatusBackingStore, StatusKey,
};
use connect_runtime::worker_config::WorkerConfig;
use rdkafka::admin::{AdminClient, AdminOptions, ResourceSpecifier};
use rdkafka::client::DefaultClientContext;
use support::kafka::{self, Rec};
use support::{Broker, eventually};

fn worker(bootstrap: &str) -> WorkerConfig {
    WorkerConfig::from_settings([("bootstrap.servers".to_string(), bootstrap.to_string())].into())
        .unwrap()
}

fn config(pairs: &[(&str, &str)]) -> ConfigMap {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

async fn cleanup_policy(bootstrap: &str, topic: &str) -> Option<String> {
    let admin: AdminClient<DefaultClientContext> = rdkafka::ClientConfig::new()
        .set("bootstrap.servers", bootstrap)
        .create()
        .unwrap();
    let results = admin
        .describe_configs([&ResourceSpecifier::Topic(topic)], &AdminOptions::new())
        .await
        .ok()?;
    let resource = results.into_iter().next()?.ok()?;
    resource.get("cleanup.policy").and_then(|e| e.value.clone())
}

#[tokio::test(flavor = "multi_thread")]
async fn two_workers_share_configs_targets_and_task_configs() {
    let broker = Broker::start();
    let settings = worker(&broker.bootstrap());
    let a = KafkaConfigStore::open(&settings, "cluster-configs", 1)
        .await
        .unwrap();
    let ca = config(&[("connector.class", "FileStreamSink"), ("topics", "t")]);
    a.put_connector_config("orders-sink", ca.clone(), Some(TargetState::Paused))
        .await
        .unwrap();
    a.put_task_configs("orders-sink", vec![ca.clone(), ca.clone()])
        .await
        .unwrap();
    // A write is read back by its own store before it returns.
    let mine = a.connector("orders-sink").unwrap();
    assert_eq!(mine.target_state, TargetState::Paused);
    assert_eq!(mine.tasks.len(), 2);

    // A second worker starting now reads the same view from the topic.
    let b = KafkaConfigStore::open(&settings, "cluster-configs", 1)
        .await
        .unwrap();
    assert_eq!(b.snapshot(), a.snapshot());

    // A change on b reaches a through the topic.
    b.put_target_state("orders-sink", TargetState::Stopped)
        .await
        .unwrap();
    b.put_task_configs("orders-sink", Vec::new()).await.unwrap();
    eventually(Duration::from_secs(10), "a sees STOPPED", || async {
        let seen = a.connector("orders-sink")?;
        (seen.target_state == TargetState::Stopped && seen.tasks.is_empty()).then_some(())
    })
    .await;

    // A record no worker can read is skipped, and the store goes on.
    let producer = kafka::producer(&broker.bootstrap());
    let mut garbage = Rec::value(0, "not json");
    garbage.key = Some(b"connector-broken".to_vec());
    let mut unknown = Rec::value(0, "{}");
    unknown.key = Some(b"who-knows".to_vec());
    kafka::produce(&producer, "cluster-configs", vec![garbage, unknown]).await;
    a.remove_connector("orders-sink").await.unwrap();
    assert!(a.connector("orders-sink").is_none());
    eventually(Duration::from_secs(10), "b sees the delete", || async {
        b.snapshot().is_empty().then_some(())
    })
    .await;
    let c = KafkaConfigStore::open(&settings, "cluster-configs", 1)
        .await
        .unwrap();
    assert!(
        c.snapshot().is_empty(),
        "a worker starting after the delete: {:?}",
        c.snapshot()
    );
    assert_eq!(
        cleanup_policy(&broker.bootstrap(), "cluster-configs")
            .await
            .as_deref(),
        Some("compact")
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn statuses_reach_every_worker_and_a_replaced_instance_cannot_overwrite() {
    let broker = Broker::start();
    let settings = worker(&broker.bootstrap());
    let a = KafkaStatusStore::open(&settings, "cluster-status", 5, 1)
        .await
        .unwrap();
    let b = KafkaStatusStore::open(&settings, "cluster-status", 5, 1)
        .await
        .unwrap();
    let status = |state, worker: &str| {
        Some(InstanceStatus {
            state,
            worker_id: worker.into(),
            trace: None,
        })
    };
    let task = StatusKey::Task("orders-sink".into(), 1);
    let connector = StatusKey::Connector("orders-sink".into());
    a.put(&connector, status(State::Running, "a:8083"), 1);
    a.put(&task, status(State::Unassigned, "a:8083"), 2);
    a.put(&task, status(State::Running, "a:8083"), 3);
    // Reported by an instance older than the one now running: dropped.
    a.put(&task, status(State::Failed, "a:8083"), 2);
    assert_eq!(a.get(&task).unwrap().state, State::Running);
    let seen = eventually(Duration::from_secs(10), "b sees both statuses", || async {
        let task_status = b.get(&task)?;
        b.get(&connector)?;
        (task_status.state == State::Running).then_some(task_status)
    })
    .await;
    assert_eq!(seen.worker_id, "a:8083");
    assert_eq!(b.tasks("orders-sink").len(), 1);

    a.remove_connector("orders-sink");
    eventually(
        Duration::from_secs(10),
        "b sees the statuses go",
        || async {
            (b.get(&connector).is_none() && b.tasks("orders-sink").is_empty()).then_some(())
        },
    )
    .await;
    // A worker starting later reads the same (empty) view.
    let c = KafkaStatusStore::open(&settings, "cluster-status", 5, 1)
        .await
        .unwrap();
    assert!(c.get(&connector).is_none());
    assert_eq!(
        cleanup_policy(&broker.bootstrap(), "cluster-status")
            .await
            .as_deref(),
        Some("compact")
    );
}
