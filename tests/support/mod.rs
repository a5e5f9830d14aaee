//! Test harness: a real tansu broker on loopback and the real `connect-host`
//! binary, driven over HTTP and the Kafka protocol. Nothing here is a mock.
#![allow(dead_code)]

pub mod broker;
pub mod kafka;
pub mod qdrant;
pub mod schema_registry;
pub mod tls;
pub mod worker;

use std::future::Future;
use std::time::{Duration, Instant};

pub use broker::Broker;
pub use worker::Worker;

/// Poll `check` until it yields `Some`, or panic with `what` after `timeout`.
pub async fn eventually<T, F, Fut>(timeout: Duration, what: &str, mut check: F) -> T
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Option<T>>,
{
    let start = Instant::now();
    loop {
        if let Some(v) = check().await {
            return v;
        }
        if start.elapsed() > timeout {
            panic!("timed out after {timeout:?} waiting for {what}");
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// A free TCP port on loopback.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Worker settings that make a worker a member of the test cluster.
pub fn cluster_env() -> Vec<(&'static str, &'static str)> {
    vec![
        ("CONNECT_GROUP_ID", "connect-cluster"),
        ("CONNECT_CONFIG_STORAGE_TOPIC", "cluster-configs"),
        ("CONNECT_STATUS_STORAGE_TOPIC", "cluster-status"),
        ("CONNECT_CONFIG_STORAGE_REPLICATION_FACTOR", "1"),
        ("CONNECT_STATUS_STORAGE_REPLICATION_FACTOR", "1"),
        // tansu never reassigns a forming group whose leader sent LeaveGroup
        // (README, "Known limits"): consumers go silently, as after a crash.
        ("CONNECT_INTERNAL_LEAVE_GROUP_ON_CLOSE", "false"),
    ]
}
