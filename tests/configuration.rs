//! Malformed worker and connector configs: clear errors naming the problem,
//! nothing crashes.

mod support;

use std::process::Command;
use std::time::Duration;

use serde_json::json;
use support::{Broker, Worker, eventually, kafka};

/// Run the worker binary with only these CONNECT_* variables and return
/// (exit success, stderr).
fn start_with(env: &[(&str, &str)], args: &[&str]) -> (bool, String) {
    let port = support::free_port().to_string();
    let out = Command::new(Worker::bin())
        .env_clear()
        .env("CONNECT_LISTENERS", format!("http://127.0.0.1:{port}"))
        .envs(env.iter().copied())
        .args(args)
        .output()
        .unwrap();
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn malformed_worker_settings_stop_start_up_naming_the_setting() {
    let cases: &[(&[(&str, &str)], &str)] = &[
        (
            &[("CONNECT_LOG4J_ROOT_LOGLEVEL", "LOUD")],
            "log4j.root.loglevel",
        ),
        (
            &[("CONNECT_OFFSET_FLUSH_INTERVAL_MS", "often")],
            "offset.flush.interval.ms",
        ),
        (
            &[("CONNECT_LISTENERS", "https://0.0.0.0:8083")],
            "listeners",
        ),
        (
            &[("CONNECT_CONSUMER_NO_SUCH_PROPERTY", "1")],
            "no.such.property",
        ),
        (&[("CONNECT_PRODUCER_ACKS", "several")], "acks"),
        (&[("CONNECT_BOOTSTRAP_SERVERS", " ")], "bootstrap.servers"),
    ];
    for (env, named) in cases {
        let (ok, stderr) = start_with(env, &[]);
        assert!(!ok, "{env:?} must stop start-up");
        assert!(
            stderr.contains(named),
            "error for {env:?} names {named}: {stderr}"
        );
        assert!(!stderr.contains("panicked"), "{stderr}");
    }
    let (ok, stderr) = start_with(&[], &["--config", "/nonexistent/worker.properties"]);
    assert!(!ok);
    assert!(
        stderr.contains("/nonexistent/worker.properties"),
        "{stderr}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_properties_worker_file_configures_the_worker() {
    let dir = tempfile::tempdir().unwrap();
    let broker = Broker::start();
    let port = support::free_port();
    let file = dir.path().join("worker.properties");
    std::fs::write(
        &file,
        format!(
            "bootstrap.servers={}\nlisteners=http://127.0.0.1:{port}\nrest.advertised.host.name=worker-a\n\
             key.converter=org.apache.kafka.connect.storage.StringConverter\nkey.converter.schemas.enable=false\n\
             config.storage.file.filename={}\nconnectors.dir={}\nplugin.path=/usr/share/java\n",
            broker.bootstrap(),
            dir.path().join("configs.json").display(),
            dir.path().join("none.d").display()
        ),
    )
    .unwrap();
    let mut child = Command::new(Worker::bin())
        .args(["--config", file.to_str().unwrap()])
        .env_clear()
        .spawn()
        .unwrap();
    let client = reqwest::Client::new();
    let info = eventually(Duration::from_secs(30), "worker up", || async {
        client
            .get(format!("http://127.0.0.1:{port}/"))
            .send()
            .await
            .ok()?
            .json::<serde_json::Value>()
            .await
            .ok()
    })
    .await;
    assert_eq!(info["kafka_cluster_id"], "tansu_cluster");
    let _ = child.kill();
    let _ = child.wait();
}

#[tokio::test(flavor = "multi_thread")]
async fn bad_connector_files_are_skipped_with_their_reason_and_good_ones_run() {
    let dir = tempfile::tempdir().unwrap();
    let broker = Broker::start();
    kafka::create_topic(&broker.bootstrap(), "t", 1).await;
    let d = dir.path().join("connectors.d");
    std::fs::create_dir_all(&d).unwrap();
    std::fs::write(
        d.join("good.json"),
        json!({"name": "good", "config": {"connector.class": "file", "topics": "t",
        "file": dir.path().join("good.txt").display().to_string()}})
        .to_string(),
    )
    .unwrap();
    std::fs::write(d.join("broken.json"), "{ this is not json").unwrap();
    std::fs::write(
        d.join("invalid.properties"),
        "name=invalid\nconnector.class=file\ntasks.max=lots\n",
    )
    .unwrap();
    std::fs::write(
        d.join("unknown.json"),
        r#"{"name":"unknown","config":{"connector.class":"com.example.Missing","topics":"t"}}"#,
    )
    .unwrap();
    // The REST API's name rule holds for files too: a name no path can address.
    std::fs::write(
        d.join("slash.json"),
        r#"{"name":"a/b","config":{"connector.class":"file","topics":"t","file":"/tmp/slash.txt"}}"#,
    )
    .unwrap();
    let w = Worker::start(&broker.bootstrap(), dir.path(), &[]).await;
    assert_eq!(w.get("/connectors").await.1, json!(["good"]));
    w.wait_state("good", "RUNNING", 1).await;
    let log = w.log();
    assert!(
        log.contains("broken.json") && log.contains("not valid JSON"),
        "{log}"
    );
    assert!(
        log.contains("invalid.properties") && log.contains("tasks.max"),
        "{log}"
    );
    assert!(
        log.contains("unknown.json") && log.contains("com.example.Missing"),
        "{log}"
    );
    assert!(
        log.contains("slash.json") && log.contains("may not contain '/'"),
        "{log}"
    );
}

/// `log.format=json`: every line is one JSON object, and what a task logs
/// names its connector and task; text (the default) names them too.
#[tokio::test(flavor = "multi_thread")]
async fn log_lines_are_json_when_asked_and_name_the_task() {
    let broker = Broker::start();
    kafka::create_topic(&broker.bootstrap(), "logged", 1).await;
    for (format, json_lines) in [("json", true), ("text", false)] {
        let dir = tempfile::tempdir().unwrap();
        let worker = Worker::start(
            &broker.bootstrap(),
            dir.path(),
            &[("CONNECT_LOG_FORMAT", format)],
        )
        .await;
        let config = json!({
            "connector.class": "FileStreamSink",
            "topics": "logged",
            "file": dir.path().join("out.txt").display().to_string(),
        });
        let body = json!({"name": "logged", "config": config});
        assert_eq!(worker.call("POST", "/connectors", Some(&body)).await.0, 201);
        // The task logs its partition assignment.
        let line = eventually(
            Duration::from_secs(30),
            "the task's assignment logged",
            || async {
                worker
                    .log()
                    .lines()
                    .find(|l| l.contains("partitions assigned"))
                    .map(str::to_string)
            },
        )
        .await;
        if json_lines {
            for l in worker.log().lines().filter(|l| !l.trim().is_empty()) {
                serde_json::from_str::<serde_json::Value>(l)
                    .unwrap_or_else(|e| panic!("not a JSON line ({e}): {l}"));
            }
            let v: serde_json::Value = serde_json::from_str(&line).unwrap();
            assert_eq!(v["span"]["connector"], "logged", "{line}");
            assert_eq!(v["span"]["task"], 0, "{line}");
            assert_eq!(v["level"], "INFO");
        } else {
            assert!(serde_json::from_str::<serde_json::Value>(&line).is_err());
            assert!(line.contains("connector=logged task=0"), "{line}");
        }
    }
}
