//! The web UI at `/ui`, driven end to end in a real browser: Chromium under
//! ChromeDriver (WebDriver, through fantoccini) against a real broker and a
//! real worker. A FileStream sink is created through the generated form,
//! paused, a bad value is typed and its error shown beside its field, then
//! the connector is deleted; screenshots go to `<target>/ui-artifacts/`.

mod support;

use std::future::Future;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use fantoccini::{Client, ClientBuilder, Locator};
use hyper_util::client::legacy::connect::HttpConnector;
use serde_json::{Value, json};
use support::kafka::{self, Rec};
use support::worker::lines;
use support::{Broker, Worker};

const CHROMIUM: &str = "/usr/bin/chromium";
const CHROMEDRIVER: &str = "/usr/bin/chromedriver";
const FILE_SINK: &str = "org.apache.kafka.connect.file.FileStreamSinkConnector";
const CONNECTOR: &str = "ui-file";
const TOPIC: &str = "ui-topic";
/// A second connector, made over REST, whose task fails.
const BROKEN: &str = "ui-broken";
/// How long one step may take before the test fails.
const STEP: Duration = Duration::from_secs(45);

/// ChromeDriver as a child in its own process group; dropping it (panics
/// included) kills the group, so the browser it started goes too.
struct ChromeDriver {
    child: Child,
    port: u16,
    log: PathBuf,
}

impl ChromeDriver {
    fn start(dir: &Path) -> Self {
        for bin in [CHROMIUM, CHROMEDRIVER] {
            assert!(
                Path::new(bin).exists(),
                "{bin} not found — run scripts/setup.sh (Debian's chromium and chromium-driver)"
            );
        }
        let port = support::free_port();
        let log = dir.join("chromedriver.log");
        let child = Command::new(CHROMEDRIVER)
            .arg(format!("--port={port}"))
            .arg(format!("--log-path={}", log.display()))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .process_group(0)
            .spawn()
            .expect("start chromedriver");
        let driver = Self { child, port, log };
        let start = Instant::now();
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(
                start.elapsed() < Duration::from_secs(20),
                "chromedriver did not listen on {port} in 20s:\n{}",
                driver.log_tail()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        driver
    }

    fn log_tail(&self) -> String {
        let log = std::fs::read_to_string(&self.log).unwrap_or_default();
        let tail: Vec<&str> = log.lines().rev().take(40).collect();
        tail.into_iter().rev().collect::<Vec<_>>().join("\n")
    }
}

impl Drop for ChromeDriver {
    fn drop(&mut self) {
        // The group chromedriver leads (process_group(0)): it and Chromium.
        // Bash's own kill: procps-ng 4.0.2's /usr/bin/kill mangles a
        // negative pid (`kill -KILL -31` signals group 3), so never use it here.
        let _ = Command::new("bash")
            .args(["-c", "kill -KILL -- \"-$1\"", "kill"])
            .arg(self.child.id().to_string())
            .stderr(Stdio::null())
            .status();
        let _ = self.child.kill();
        let _ = self.child.wait();
        if std::thread::panicking() {
            eprintln!(
                "--- last lines of the chromedriver log ---\n{}",
                self.log_tail()
            );
        }
    }
}

/// Where test artifacts go: the cargo target dir, never the repository.
fn artifacts_dir() -> PathBuf {
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("target"));
    let dir = target.join("ui-artifacts");
    std::fs::create_dir_all(&dir).expect("create the artifacts dir");
    dir
}

async fn connect_browser(driver: &ChromeDriver, profile: &Path) -> Client {
    let mut caps = serde_json::Map::new();
    caps.insert(
        "goog:chromeOptions".into(),
        json!({
            "binary": CHROMIUM,
            "args": [
                "--headless=new",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-dev-shm-usage",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                format!("--user-data-dir={}", profile.display()),
                "--window-size=1280,1000",
            ],
        }),
    );
    ClientBuilder::new(HttpConnector::new())
        .capabilities(caps)
        .connect(&format!("http://127.0.0.1:{}", driver.port))
        .await
        .unwrap_or_else(|e| panic!("no WebDriver session: {e}\n{}", driver.log_tail()))
}

/// Poll `check` until it is `Ok`; its `Err` says what it saw, for the failure.
async fn wait_until<T, F, Fut>(what: &str, mut check: F) -> Result<T, String>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, String>>,
{
    let start = Instant::now();
    loop {
        match check().await {
            Ok(v) => return Ok(v),
            Err(seen) if start.elapsed() > STEP => {
                return Err(format!(
                    "timed out after {STEP:?} waiting for {what}; last seen: {seen}"
                ));
            }
            Err(_) => tokio::time::sleep(Duration::from_millis(150)).await,
        }
    }
}

fn tid(testid: &str) -> String {
    format!("[data-testid=\"{testid}\"]")
}

async fn find(c: &Client, testid: &str) -> Result<fantoccini::elements::Element, String> {
    c.find(Locator::Css(&tid(testid)))
        .await
        .map_err(|e| format!("no element {testid}: {e}"))
}

async fn text_of(c: &Client, testid: &str) -> Result<String, String> {
    find(c, testid)
        .await?
        .text()
        .await
        .map_err(|e| format!("text of {testid}: {e}"))
}

/// Wait until `testid`'s text satisfies `ok`.
async fn wait_text(
    c: &Client,
    testid: &str,
    what: &str,
    ok: impl Fn(&str) -> bool,
) -> Result<String, String> {
    wait_until(what, || async {
        let text = text_of(c, testid).await?;
        if ok(&text) {
            Ok(text)
        } else {
            Err(format!("{testid} reads {text:?}"))
        }
    })
    .await
}

/// Click an enabled element; the list is redrawn as it polls, so a stale
/// element is looked up again.
async fn click(c: &Client, testid: &str) -> Result<(), String> {
    wait_until(&format!("a click on {testid}"), || async {
        let el = find(c, testid).await?;
        if !el.is_enabled().await.map_err(|e| e.to_string())? {
            return Err(format!("{testid} is disabled"));
        }
        el.click().await.map_err(|e| format!("click {testid}: {e}"))
    })
    .await
}

async fn type_into(c: &Client, testid: &str, text: &str) -> Result<(), String> {
    let el = wait_until(&format!("field {testid}"), || find(c, testid)).await?;
    el.clear()
        .await
        .map_err(|e| format!("clear {testid}: {e}"))?;
    el.send_keys(text)
        .await
        .map_err(|e| format!("type into {testid}: {e}"))
}

async fn rest_state(worker: &Worker) -> Result<Value, String> {
    let (code, status) = worker.get(&format!("/connectors/{CONNECTOR}/status")).await;
    if code == 200 {
        Ok(status)
    } else {
        Err(format!("GET status answered {code}: {status}"))
    }
}

/// Save a screenshot of the whole page (the window grown to its height).
async fn screenshot(c: &Client, file: &str) -> Result<PathBuf, String> {
    let height = c
        .execute(
            "window.scrollTo(0, 0); \
             return Math.ceil(document.documentElement.scrollHeight \
                              + window.outerHeight - window.innerHeight);",
            vec![],
        )
        .await
        .ok()
        .and_then(|v| v.as_u64())
        .unwrap_or(1000)
        .clamp(1000, 4000) as u32;
    let _ = c.set_window_size(1280, height).await;
    let png = c
        .screenshot()
        .await
        .map_err(|e| format!("screenshot: {e}"))?;
    let _ = c.set_window_size(1280, 1000).await;
    if !png.starts_with(b"\x89PNG") {
        return Err("the screenshot is not a PNG".into());
    }
    let path = artifacts_dir().join(file);
    std::fs::write(&path, png).map_err(|e| format!("write {}: {e}", path.display()))?;
    Ok(path)
}

/// The scenario; `Err` carries what went wrong, with what the page showed.
async fn drive(c: &Client, worker: &Worker, broker: &Broker, out: &Path) -> Result<(), String> {
    c.goto(&worker.url("/ui"))
        .await
        .map_err(|e| format!("open /ui: {e}"))?;
    let title = c.title().await.map_err(|e| e.to_string())?;
    if title != "connect-host" {
        return Err(format!("/ui has the title {title:?}, not the UI's"));
    }

    // --- create the connector through the generated form ---
    let option = format!("{} option[value=\"{FILE_SINK}\"]", tid("plugin-select"));
    wait_until("the FileStreamSink plugin in the select", || async {
        c.find(Locator::Css(&option))
            .await
            .map_err(|e| format!("no option: {e}"))
    })
    .await?;
    find(c, "plugin-select")
        .await?
        .select_by_value(FILE_SINK)
        .await
        .map_err(|e| format!("choose the plugin: {e}"))?;
    let class_field = wait_until("the generated form", || find(c, "field-connector.class")).await?;
    let class = class_field.prop("value").await.map_err(|e| e.to_string())?;
    if class.as_deref() != Some(FILE_SINK) {
        return Err(format!("connector.class field holds {class:?}"));
    }
    // Required keys are marked and come first; defaults are placeholders.
    let form_facts = c
        .execute(
            r#"const q = (k) => document.querySelector(`[data-testid="field-${k}"]`);
               const req = document.querySelector('[data-testid="group-required"]');
               return {
                 first: req.querySelector('input,select').name,
                 nameRequired: q('name').getAttribute('aria-required'),
                 nameInRequired: req.contains(q('name')),
                 fileInRequired: req.contains(q('file')),
                 tasksPlaceholder: q('tasks.max').placeholder,
                 labelled: [...document.querySelectorAll('#form-fields input, #form-fields select')]
                   .every((i) => document.querySelector(`label[for="${CSS.escape(i.id)}"]`)),
               };"#,
            vec![],
        )
        .await
        .map_err(|e| format!("inspect the form: {e}"))?;
    let expected = json!({
        "first": "name", "nameRequired": "true", "nameInRequired": true,
        "fileInRequired": false, "tasksPlaceholder": "1", "labelled": true,
    });
    if form_facts != expected {
        return Err(format!(
            "the form is not as expected: {form_facts} (want {expected})"
        ));
    }

    type_into(c, "field-name", CONNECTOR).await?;
    type_into(c, "field-topics", TOPIC).await?;
    type_into(c, "field-file", &out.display().to_string()).await?;
    type_into(
        c,
        "field-value.converter",
        "org.apache.kafka.connect.storage.StringConverter",
    )
    .await?;
    wait_text(c, "validation-summary", "the form to validate clean", |t| {
        t.contains("valid") && !t.contains("problem")
    })
    .await?;
    click(c, "create").await?;
    wait_text(c, "create-result", "the created message", |t| {
        t.contains(&format!("{CONNECTOR} created"))
    })
    .await?;

    // --- RUNNING in the list, with its task and that task's worker ---
    let status = wait_until("RUNNING over REST", || async {
        let s = rest_state(worker).await?;
        if s["connector"]["state"] == "RUNNING" && s["tasks"][0]["state"] == "RUNNING" {
            Ok(s)
        } else {
            Err(s.to_string())
        }
    })
    .await?;
    let worker_id = status["tasks"][0]["worker_id"]
        .as_str()
        .ok_or("no worker_id in the status")?
        .to_string();
    wait_text(
        c,
        &format!("state-{CONNECTOR}"),
        "RUNNING in the list",
        |t| t == "RUNNING",
    )
    .await?;
    wait_text(
        c,
        &format!("task-state-{CONNECTOR}-0"),
        "task 0 RUNNING",
        |t| t == "RUNNING",
    )
    .await?;
    wait_text(
        c,
        &format!("task-worker-{CONNECTOR}-0"),
        "task 0's worker_id",
        |t| t == worker_id,
    )
    .await?;
    // What the form sent is what the worker holds, and it works.
    let (_, config) = worker.get(&format!("/connectors/{CONNECTOR}/config")).await;
    let want = json!({
        "connector.class": FILE_SINK, "name": CONNECTOR, "topics": TOPIC,
        "file": out.display().to_string(),
        "value.converter": "org.apache.kafka.connect.storage.StringConverter",
    });
    if config != want {
        return Err(format!("the worker holds {config}, not {want}"));
    }
    let producer = kafka::producer(&broker.bootstrap());
    let records = (0..3).map(|i| Rec::value(0, format!("line-{i}"))).collect();
    kafka::produce(&producer, TOPIC, records).await;
    wait_until("3 lines in the sink's file", || async {
        let got = lines(out);
        if got == ["line-0", "line-1", "line-2"] {
            Ok(())
        } else {
            Err(format!("{got:?}"))
        }
    })
    .await?;
    // Throughput: records/s, or "–" while the worker has no such series.
    wait_text(
        c,
        &format!("put-rate-{CONNECTOR}"),
        "a throughput cell",
        |t| t == "–" || t.ends_with("/s"),
    )
    .await?;

    // --- pause through the UI ---
    click(c, &format!("pause-{CONNECTOR}")).await?;
    wait_text(
        c,
        &format!("state-{CONNECTOR}"),
        "PAUSED in the list",
        |t| t == "PAUSED",
    )
    .await?;
    wait_text(
        c,
        &format!("task-state-{CONNECTOR}-0"),
        "task 0 PAUSED",
        |t| t == "PAUSED",
    )
    .await?;
    let s = rest_state(worker).await?;
    if s["connector"]["state"] != "PAUSED" {
        return Err(format!("the UI says PAUSED, REST says {s}"));
    }

    // --- a failing task: its trace, expandable, and a task restart ---
    let missing = out.with_file_name("missing-dir").join("out.txt");
    let (code, body) = worker
        .call(
            "POST",
            "/connectors",
            Some(&json!({"name": BROKEN, "config": {
                "connector.class": "FileStreamSink", "topics": TOPIC,
                "file": missing.display().to_string(),
            }})),
        )
        .await;
    if code != 201 {
        return Err(format!(
            "creating {BROKEN} over REST answered {code}: {body}"
        ));
    }
    wait_text(c, &format!("task-state-{BROKEN}-0"), "task 0 FAILED", |t| {
        t == "FAILED"
    })
    .await?;
    let trace_box = format!("trace-{BROKEN}-0");
    let summary = format!("{} summary", tid(&trace_box));
    wait_until("a click on the trace's summary", || async {
        let el = c
            .find(Locator::Css(&summary))
            .await
            .map_err(|e| format!("no trace summary: {e}"))?;
        el.click().await.map_err(|e| e.to_string())
    })
    .await?;
    let pre = format!("{} pre", tid(&trace_box));
    wait_until("the task's trace shown", || async {
        let el = c
            .find(Locator::Css(&pre))
            .await
            .map_err(|e| e.to_string())?;
        // Text of a closed <details> is not rendered: empty.
        let text = el.text().await.map_err(|e| e.to_string())?;
        if text.contains(&missing.display().to_string()) {
            Ok(())
        } else {
            Err(format!("the trace reads {text:?}"))
        }
    })
    .await?;
    wait_text(c, "failures", "the trace among the latest failures", |t| {
        t.contains(BROKEN) && t.contains("task 0")
    })
    .await?;
    click(c, &format!("task-restart-{BROKEN}-0")).await?;
    wait_text(c, "action-result", "the task restart acknowledged", |t| {
        t == format!("{BROKEN}: task 0 restarting.")
    })
    .await?;

    // --- a bad value: its error is shown beside its field ---
    type_into(c, "field-tasks.max", "abc").await?;
    let error = wait_text(c, "error-tasks.max", "the tasks.max error", |t| {
        t.contains("abc") && t.contains("tasks.max")
    })
    .await?;
    let beside = c
        .execute(
            r#"const i = document.querySelector('[data-testid="field-tasks.max"]');
               const e = document.querySelector('[data-testid="error-tasks.max"]');
               return [i.closest('.field') === e.closest('.field'),
                       i.getAttribute('aria-invalid'),
                       i.getAttribute('aria-describedby').split(' ').includes(e.id)];"#,
            vec![],
        )
        .await
        .map_err(|e| e.to_string())?;
    if beside != json!([true, "true", true]) {
        return Err(format!(
            "the error {error:?} is not tied to its field: {beside}"
        ));
    }
    wait_text(c, "validation-summary", "the summary to count it", |t| {
        t.contains("problem")
    })
    .await?;
    let path = screenshot(c, "ui.png").await?;
    println!("screenshot: {}", path.display());
    let (code, body) = worker
        .call("DELETE", &format!("/connectors/{BROKEN}"), None)
        .await;
    if code != 204 {
        return Err(format!("deleting {BROKEN} answered {code}: {body}"));
    }
    // Fixed, the error goes away.
    type_into(c, "field-tasks.max", "2").await?;
    wait_text(
        c,
        "error-tasks.max",
        "the tasks.max error to clear",
        str::is_empty,
    )
    .await?;

    // --- Connect's error when creating fails (the name is taken) ---
    type_into(c, "field-name", CONNECTOR).await?;
    type_into(c, "field-topics", TOPIC).await?;
    click(c, "create").await?;
    wait_text(c, "create-result", "Connect's 409 shown", |t| {
        t.contains("409") && t.contains("already exists")
    })
    .await?;

    // --- delete through the UI (two clicks) ---
    click(c, &format!("delete-{CONNECTOR}")).await?;
    click(c, &format!("confirm-delete-{CONNECTOR}")).await?;
    wait_until("the connector gone from the list", || async {
        match find(c, &format!("connector-{CONNECTOR}")).await {
            Err(_) => Ok(()),
            Ok(_) => Err("still listed".to_string()),
        }
    })
    .await?;
    wait_until("the empty-list note", || async {
        let shown = find(c, "no-connectors")
            .await?
            .is_displayed()
            .await
            .map_err(|e| e.to_string())?;
        if shown {
            Ok(())
        } else {
            Err("hidden".to_string())
        }
    })
    .await?;
    wait_until("GET /connectors without it", || async {
        let (code, list) = worker.get("/connectors").await;
        let listed = list
            .as_array()
            .is_some_and(|l| l.iter().any(|n| n == CONNECTOR));
        if code == 200 && !listed {
            Ok(())
        } else {
            Err(format!("{code} {list}"))
        }
    })
    .await?;
    screenshot(c, "ui-after-delete.png").await?;
    Ok(())
}

#[tokio::test(flavor = "multi_thread")]
async fn the_ui_creates_pauses_validates_and_deletes_a_connector() {
    let dir = tempfile::tempdir().unwrap();
    let broker = Broker::start();
    kafka::create_topic(&broker.bootstrap(), TOPIC, 1).await;
    let worker = Worker::start(&broker.bootstrap(), dir.path(), &[]).await;
    let out = dir.path().join("out.txt");
    let profile = tempfile::tempdir().unwrap();
    let driver = ChromeDriver::start(dir.path());
    let client = connect_browser(&driver, profile.path()).await;

    let result = drive(&client, &worker, &broker, &out).await;
    if let Err(e) = &result {
        let shot = screenshot(&client, "ui-failure.png").await;
        let page = match client.find(Locator::Css("body")).await {
            Ok(body) => body.text().await.unwrap_or_default(),
            Err(_) => String::new(),
        };
        let _ = client.close().await;
        panic!("{e}\n--- screenshot: {shot:?}\n--- the page's text ---\n{page}");
    }
    client.close().await.expect("end the WebDriver session");
    drop(driver);
}
