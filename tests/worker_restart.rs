//! A worker killed mid-stream comes back with its connectors (from the
//! config store and `connectors.d/`), their target states, and resumes from
//! committed offsets: every record at least once.

mod support;

use std::collections::BTreeMap;
use std::time::Duration;

use serde_json::json;
use support::kafka::{self, Rec};
use support::worker::lines;
use support::{Broker, Worker, eventually};

#[tokio::test(flavor = "multi_thread")]
async fn sigkill_mid_stream_then_restart_loses_nothing_and_keeps_states() {
    let dir = tempfile::tempdir().unwrap();
    let broker = Broker::start();
    let bootstrap = broker.bootstrap();
    kafka::create_topic(&bootstrap, "stream", 2).await;
    kafka::create_topic(&bootstrap, "quiet", 1).await;
    let out = dir.path().join("out.txt");
    // One connector from connectors.d/ in Connect's .properties form.
    std::fs::create_dir_all(dir.path().join("connectors.d")).unwrap();
    std::fs::write(
        dir.path().join("connectors.d/stream-file.properties"),
        format!(
            "name=stream-file\nconnector.class=FileStreamSinkConnector\ntasks.max=1\ntopics=stream\nfile={}\n\
             value.converter=org.apache.kafka.connect.storage.StringConverter\n",
            out.display()
        ),
    )
    .unwrap();
    let mut worker = Worker::start(&bootstrap, dir.path(), &[]).await;
    let quiet = |name: &str, state: &str| {
        json!({"name": name, "initial_state": state, "config": {"connector.class": "file", "topics": "quiet",
              "file": dir.path().join(format!("{name}.txt")).display().to_string()}})
    };
    assert_eq!(
        worker
            .call("POST", "/connectors", Some(&quiet("paused-one", "PAUSED")))
            .await
            .0,
        201
    );
    assert_eq!(
        worker
            .call(
                "POST",
                "/connectors",
                Some(&quiet("stopped-one", "STOPPED"))
            )
            .await
            .0,
        201
    );
    worker.wait_state("paused-one", "PAUSED", 1).await;

    // Produce 20,000 records while the worker runs; kill it part-way.
    const PER_PARTITION: usize = 10_000;
    let producer_task = {
        let bootstrap = bootstrap.clone();
        tokio::spawn(async move {
            let producer = kafka::producer(&bootstrap);
            for chunk in 0..50 {
                for p in 0..2 {
                    let records = (chunk * 200..(chunk + 1) * 200)
                        .map(|i| Rec::value(p, format!("p{p}-{i:05}")))
                        .collect();
                    kafka::produce(&producer, "stream", records).await;
                }
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        })
    };
    // Kill once offsets have been committed and more has been written since.
    let committed_before = eventually(
        Duration::from_secs(60),
        "a commit, then more written",
        || async {
            let committed = kafka::committed(&bootstrap, "connect-stream-file", "stream", 2);
            let total: i64 = committed.values().sum();
            (total > 0 && lines(&out).len() as i64 > total).then_some(committed)
        },
    )
    .await;
    worker.kill();
    let at_kill = lines(&out).len();
    let committed_total: i64 = committed_before.values().sum();
    worker.start_again().await;
    producer_task.await.unwrap();

    worker.wait_state("stream-file", "RUNNING", 1).await;
    worker.wait_state("paused-one", "PAUSED", 1).await;
    let (_, stopped) = worker.get("/connectors/stopped-one/status").await;
    assert_eq!(stopped["connector"]["state"], "STOPPED");

    let expected: Vec<String> = (0..2)
        .flat_map(|p| (0..PER_PARTITION).map(move |i| format!("p{p}-{i:05}")))
        .collect();
    eventually(
        Duration::from_secs(120),
        "every record at least once",
        || async {
            let have: std::collections::BTreeSet<String> = lines(&out).into_iter().collect();
            expected.iter().all(|e| have.contains(e)).then_some(())
        },
    )
    .await;
    let written = lines(&out);
    let mut counts: BTreeMap<&str, usize> = BTreeMap::new();
    for l in &written {
        *counts.entry(l.as_str()).or_default() += 1;
    }
    let duplicates: usize = counts.values().map(|c| c - 1).sum();
    eprintln!(
        "kill test: {at_kill} lines written and {committed_total} committed at the kill; {} lines in all for {} records: \
         {duplicates} duplicates (redelivered from the last commit)",
        written.len(),
        expected.len()
    );
    assert_eq!(
        counts.len(),
        expected.len(),
        "nothing but the produced records"
    );
    assert!(
        duplicates as i64 <= at_kill as i64 - committed_total,
        "only the uncommitted tail is redelivered: {duplicates} duplicates, {} uncommitted at the kill",
        at_kill as i64 - committed_total
    );
}
