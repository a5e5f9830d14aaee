//! The container stack and the monitoring files: `docker-compose.yml`,
//! `Dockerfile`, `.dockerignore` and `deploy/`. Nothing here starts Docker;
//! what can be checked without it is: the compose file's services and the
//! paths it mounts, that the host's `CONNECT_*` variables are settings the
//! worker accepts (through its own parser), the Dockerfile's COPY sources,
//! the alert rules with `promtool` (syntax and unit tests), and that the
//! rules and the dashboard name only series of
//! `connect_api::metrics::CATALOGUE`.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::Command;

use connect_api::metrics::{CATALOGUE, Kind};
use connect_runtime::worker_config::WorkerConfig;
use regex::Regex;
use serde_json::Value as Json;
use serde_norway::Value as Yaml;

// ---------------------------------------------------------------- helpers

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn read(rel: &str) -> String {
    let path = root().join(rel);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()))
}

/// A YAML file, with `<<` merge keys applied (compose resolves them too).
fn yaml(rel: &str) -> Yaml {
    let mut value: Yaml =
        serde_norway::from_str(&read(rel)).unwrap_or_else(|e| panic!("{rel} is not YAML: {e}"));
    value
        .apply_merge()
        .unwrap_or_else(|e| panic!("{rel}: bad merge key: {e}"));
    value
}

fn compose() -> Yaml {
    yaml("docker-compose.yml")
}

fn dashboard() -> Json {
    let rel = "deploy/grafana/dashboards/connect-host.json";
    serde_json::from_str(&read(rel)).unwrap_or_else(|e| panic!("{rel} is not JSON: {e}"))
}

/// A scalar as compose reads it (`5000` and `"5000"` alike).
fn scalar(value: &Yaml) -> String {
    match value {
        Yaml::String(s) => s.clone(),
        Yaml::Number(n) => n.to_string(),
        Yaml::Bool(b) => b.to_string(),
        Yaml::Null => String::new(),
        other => panic!("expected a scalar, got {other:?}"),
    }
}

/// Compose's interpolation with nothing set in the environment:
/// `${X:-default}` and `${X-default}` are the default, `${X}` is empty.
fn interpolate(raw: &str) -> String {
    let var = Regex::new(r"\$\{[A-Za-z_][A-Za-z0-9_]*(?::?-([^}]*))?\}").unwrap();
    var.replace_all(&raw.replace("$$", "\u{0}"), "$1")
        .replace('\u{0}', "$")
}

fn services(compose: &Yaml) -> &serde_norway::Mapping {
    compose["services"]
        .as_mapping()
        .expect("docker-compose.yml has a services map")
}

fn service<'a>(compose: &'a Yaml, name: &str) -> &'a Yaml {
    compose["services"]
        .get(name)
        .unwrap_or_else(|| panic!("docker-compose.yml has no service '{name}'"))
}

/// The services built from the repository's Dockerfile: connect-host and
/// its variants.
fn host_services(compose: &Yaml) -> Vec<(String, &Yaml)> {
    services(compose)
        .iter()
        .filter(|(_, svc)| {
            let build = &svc["build"];
            let dockerfile = build["dockerfile"].as_str().unwrap_or("Dockerfile");
            (build.is_mapping() || build.is_string())
                && Path::new(dockerfile).file_name() == Some("Dockerfile".as_ref())
        })
        .map(|(name, svc)| (scalar(name), svc))
        .collect()
}

/// A service's environment, in either of compose's forms, interpolated.
fn environment(svc: &Yaml) -> BTreeMap<String, String> {
    match &svc["environment"] {
        Yaml::Null => BTreeMap::new(),
        Yaml::Mapping(map) => map
            .iter()
            .map(|(k, v)| (scalar(k), interpolate(&scalar(v))))
            .collect(),
        Yaml::Sequence(items) => items
            .iter()
            .map(|item| {
                let item = scalar(item);
                let (k, v) = item.split_once('=').unwrap_or((&item, ""));
                (k.to_string(), interpolate(v))
            })
            .collect(),
        other => panic!("environment must be a map or a list, got {other:?}"),
    }
}

/// One mount of a service: a bind mount from the repository (source
/// relative to it) or a named volume.
#[derive(Debug)]
struct Mount {
    source: String,
    target: String,
    bind: bool,
}

fn mounts(svc: &Yaml) -> Vec<Mount> {
    let Some(volumes) = svc["volumes"].as_sequence() else {
        return Vec::new();
    };
    volumes
        .iter()
        .map(|v| match v {
            Yaml::String(short) => {
                let short = interpolate(short);
                let mut parts = short.splitn(3, ':');
                let source = parts.next().unwrap_or_default().to_string();
                let target = parts
                    .next()
                    .unwrap_or_else(|| panic!("anonymous volume '{short}': give it a name"))
                    .to_string();
                let bind =
                    source.starts_with('.') || source.starts_with('/') || source.starts_with('~');
                Mount {
                    source,
                    target,
                    bind,
                }
            }
            long => Mount {
                source: interpolate(&scalar(&long["source"])),
                target: scalar(&long["target"]),
                bind: scalar(&long["type"]) == "bind",
            },
        })
        .collect()
}

/// The `CONNECT_*` variables among `vars`.
fn connect_vars(vars: &BTreeMap<String, String>) -> Vec<(String, String)> {
    vars.iter()
        .filter(|(k, _)| k.starts_with("CONNECT_"))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect()
}

/// What the worker makes of `vars`: its config, or why it would not start
/// or would warn about a setting it does not know.
fn worker_config(vars: Vec<(String, String)>) -> Result<WorkerConfig, String> {
    let cfg = WorkerConfig::load(None, vars).map_err(|e| e.to_string())?;
    let unknown = WorkerConfig::unknown_settings(&cfg.settings);
    if !unknown.is_empty() {
        return Err(format!("settings the worker does not know: {unknown:?}"));
    }
    cfg.check_client_settings().map_err(|e| e.to_string())?;
    Ok(cfg)
}

/// A Dockerfile's instructions: continuation lines joined, comments dropped.
fn dockerfile_instructions(text: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut current = String::new();
    for line in text.lines() {
        let trimmed = line.trim();
        if trimmed.starts_with('#') || (current.is_empty() && trimmed.is_empty()) {
            continue;
        }
        match trimmed.strip_suffix('\\') {
            Some(part) => {
                current.push_str(part);
                current.push(' ');
            }
            None => {
                current.push_str(trimmed);
                let (word, rest) = current
                    .trim()
                    .split_once(char::is_whitespace)
                    .unwrap_or((current.trim(), ""));
                out.push((word.to_ascii_uppercase(), rest.trim().to_string()));
                current.clear();
            }
        }
    }
    out
}

/// The paths a COPY/ADD takes from the build context; none for
/// `--from=` (another stage or image).
fn copy_sources(args: &str) -> Vec<String> {
    let mut words: Vec<String> = if args.trim_start().starts_with('[') {
        serde_json::from_str(args).unwrap_or_else(|e| panic!("bad JSON form '{args}': {e}"))
    } else {
        args.split_whitespace().map(str::to_string).collect()
    };
    let flags: Vec<String> = words
        .iter()
        .take_while(|w| w.starts_with("--"))
        .cloned()
        .collect();
    if flags.iter().any(|f| f.starts_with("--from=")) {
        return Vec::new();
    }
    words.drain(..flags.len());
    assert!(
        words.len() >= 2,
        "COPY needs a source and a destination: '{args}'"
    );
    words.pop();
    words
}

/// `.dockerignore`'s patterns as (regex, exception) in order; Docker's
/// rules: a pattern also excludes what is below it, `**` spans folders,
/// `!` re-includes, the last match wins.
fn dockerignore(text: &str) -> Vec<(Regex, bool)> {
    text.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(|line| {
            let (pattern, exception) = match line.strip_prefix('!') {
                Some(p) => (p.trim(), true),
                None => (line, false),
            };
            let pattern = pattern
                .trim_start_matches("./")
                .trim_start_matches('/')
                .trim_end_matches('/');
            let mut re = String::from("^");
            let mut rest = pattern;
            while !rest.is_empty() {
                if let Some(r) = rest.strip_prefix("**/") {
                    re.push_str("(.*/)?");
                    rest = r;
                } else if let Some(r) = rest.strip_prefix("**") {
                    re.push_str(".*");
                    rest = r;
                } else {
                    let c = rest.chars().next().unwrap();
                    match c {
                        '*' => re.push_str("[^/]*"),
                        '?' => re.push_str("[^/]"),
                        c => re.push_str(&regex::escape(&c.to_string())),
                    }
                    rest = &rest[c.len_utf8()..];
                }
            }
            re.push_str("(/.*)?$");
            (Regex::new(&re).unwrap(), exception)
        })
        .collect()
}

fn ignored(patterns: &[(Regex, bool)], path: &str) -> bool {
    let mut excluded = false;
    for (re, exception) in patterns {
        if re.is_match(path) {
            excluded = !exception;
        }
    }
    excluded
}

/// The files git would commit under `rel` (tracked, and new ones it does not
/// ignore); a plain walk where git is not available.
fn files_under(rel: &str) -> Vec<String> {
    let out = Command::new("git")
        .current_dir(root())
        .args([
            "ls-files",
            "--cached",
            "--others",
            "--exclude-standard",
            "--",
            rel,
        ])
        .output();
    if let Ok(out) = out
        && out.status.success()
        && !out.stdout.is_empty()
    {
        return String::from_utf8_lossy(&out.stdout)
            .lines()
            .filter(|f| root().join(f).exists())
            .map(str::to_string)
            .collect();
    }
    fn walk(dir: &Path, base: &Path, out: &mut Vec<String>) {
        for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
            let path = entry.path();
            if path.is_dir() {
                if entry.file_name() != "target" {
                    walk(&path, base, out);
                }
            } else {
                out.push(path.strip_prefix(base).unwrap().display().to_string());
            }
        }
    }
    let path = root().join(rel);
    if path.is_file() {
        return vec![rel.to_string()];
    }
    let mut out = Vec::new();
    walk(&path, &root(), &mut out);
    out
}

/// The series names an expression uses.
fn metric_names(expr: &str) -> BTreeSet<String> {
    let re = Regex::new(r"\b(connect_[a-z0-9_]+|process_[a-z_]+)\b").unwrap();
    re.captures_iter(expr).map(|c| c[1].to_string()).collect()
}

/// Why `name` is not a catalogued series, if it is not: a histogram's
/// `_bucket`/`_sum`/`_count` count as the histogram.
fn not_catalogued(name: &str) -> Option<String> {
    if CATALOGUE.iter().any(|s| s.name == name) {
        return None;
    }
    for suffix in ["_bucket", "_sum", "_count"] {
        if let Some(base) = name.strip_suffix(suffix)
            && let Some(series) = CATALOGUE.iter().find(|s| s.name == base)
        {
            return (series.kind != Kind::Histogram)
                .then(|| format!("{name}: {base} is a {:?}, not a histogram", series.kind));
        }
    }
    Some(format!("{name} is not in connect_api::metrics::CATALOGUE"))
}

/// The expressions of the alert rules.
fn rule_exprs() -> Vec<(String, String)> {
    let rules = yaml("deploy/prometheus/rules.yml");
    let groups = rules["groups"].as_sequence().expect("rules.yml has groups");
    let mut out = Vec::new();
    for group in groups {
        for rule in group["rules"].as_sequence().expect("a group has rules") {
            let name = rule["alert"]
                .as_str()
                .or(rule["record"].as_str())
                .unwrap_or("?");
            out.push((name.to_string(), scalar(&rule["expr"])));
        }
    }
    out
}

/// Every panel, those inside rows included.
fn panels(dash: &Json) -> Vec<&Json> {
    let mut out = Vec::new();
    for panel in dash["panels"].as_array().expect("the dashboard has panels") {
        out.push(panel);
        if let Some(nested) = panel["panels"].as_array() {
            out.extend(nested);
        }
    }
    out
}

fn panel_exprs(panel: &Json) -> Vec<String> {
    panel["targets"]
        .as_array()
        .map(|targets| {
            targets
                .iter()
                .filter_map(|t| t["expr"].as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default()
}

/// The dashboard's PromQL: every target's, and the variables' queries
/// (`label_values(metric, label)`: the metric).
fn dashboard_exprs(dash: &Json) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for panel in panels(dash) {
        let title = panel["title"].as_str().unwrap_or("?");
        for expr in panel_exprs(panel) {
            out.push((title.to_string(), expr));
        }
    }
    for var in dash["templating"]["list"].as_array().into_iter().flatten() {
        let query = var["query"]["query"]
            .as_str()
            .or(var["query"].as_str())
            .unwrap_or_default();
        out.push((format!("variable {}", var["name"]), query.to_string()));
    }
    out
}

fn promtool() -> String {
    let bin = std::env::var("PROMTOOL").unwrap_or_else(|_| "promtool".into());
    let found = Command::new(&bin)
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    assert!(
        found,
        "'{bin}' not found: scripts/setup.sh installs it (Debian's prometheus package), or set PROMTOOL"
    );
    bin
}

fn run_promtool(args: &[&str]) {
    let bin = promtool();
    let out = Command::new(&bin)
        .current_dir(root())
        .args(args)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "promtool {} failed:\n{}{}",
        args.join(" "),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

// ------------------------------------------------------------------ tests

#[test]
fn compose_runs_kafka_qdrant_the_host_prometheus_and_grafana() {
    let compose = compose();
    let images: BTreeMap<String, String> = services(&compose)
        .iter()
        .map(|(name, svc)| {
            (
                scalar(name),
                svc["image"].as_str().unwrap_or_default().to_string(),
            )
        })
        .collect();
    for (name, image) in [
        ("kafka", "apache/kafka:"),
        ("qdrant", "qdrant/qdrant:"),
        ("prometheus", "prom/prometheus:"),
        ("grafana", "grafana/grafana:"),
    ] {
        let got = images
            .get(name)
            .unwrap_or_else(|| panic!("no service '{name}' in {images:?}"));
        assert!(
            got.starts_with(image),
            "{name} runs '{got}', expected {image}…"
        );
    }
    // Kafka in KRaft mode: broker and controller in one node, no ZooKeeper.
    let kafka = environment(service(&compose, "kafka"));
    assert_eq!(
        kafka.get("KAFKA_PROCESS_ROLES").map(String::as_str),
        Some("broker,controller")
    );
    assert!(!kafka.keys().any(|k| k.contains("ZOOKEEPER")), "{kafka:?}");

    // The host: built from the Dockerfile, on CPU by default, and a GPU
    // variant in the `gpu` profile that asks for NVIDIA devices.
    let hosts = host_services(&compose);
    let profiles = |svc: &Yaml| -> Vec<String> {
        svc["profiles"]
            .as_sequence()
            .map(|p| p.iter().map(scalar).collect())
            .unwrap_or_default()
    };
    let nvidia = |svc: &Yaml| -> bool {
        svc["deploy"]["resources"]["reservations"]["devices"]
            .as_sequence()
            .is_some_and(|devices| {
                devices.iter().any(|d| {
                    scalar(&d["driver"]) == "nvidia"
                        && d["capabilities"]
                            .as_sequence()
                            .is_some_and(|c| c.iter().any(|c| scalar(c) == "gpu"))
                })
            })
    };
    let cpu: Vec<_> = hosts
        .iter()
        .filter(|(_, s)| profiles(s).is_empty())
        .collect();
    assert_eq!(
        cpu.len(),
        1,
        "one host service runs without a profile: {:?}",
        hosts.iter().map(|h| &h.0).collect::<Vec<_>>()
    );
    assert_eq!(cpu[0].0, "connect-host");
    assert!(!nvidia(cpu[0].1), "the default host must not need a GPU");
    let gpu: Vec<_> = hosts
        .iter()
        .filter(|(_, s)| profiles(s).contains(&"gpu".to_string()))
        .collect();
    assert_eq!(gpu.len(), 1, "one host service in the gpu profile");
    assert!(nvidia(gpu[0].1), "{} reserves no NVIDIA GPU", gpu[0].0);
    for (name, svc) in &hosts {
        let build = &svc["build"];
        let context = build["context"].as_str().or(build.as_str()).unwrap_or(".");
        let dockerfile = build["dockerfile"].as_str().unwrap_or("Dockerfile");
        assert!(
            root().join(context).join(dockerfile).is_file(),
            "{name}: no {context}/{dockerfile}"
        );
        let depends: Vec<String> = match &svc["depends_on"] {
            Yaml::Mapping(m) => m.keys().map(scalar).collect(),
            Yaml::Sequence(s) => s.iter().map(scalar).collect(),
            _ => Vec::new(),
        };
        assert!(
            depends.contains(&"kafka".to_string()),
            "{name} should wait for kafka: {depends:?}"
        );
    }
}

#[test]
fn the_hosts_connect_variables_are_settings_the_worker_accepts() {
    // The checker itself: a misspelt variable or a bad value is caught.
    let bad = |k: &str, v: &str| worker_config(vec![(k.to_string(), v.to_string())]);
    assert!(
        bad("CONNECT_BOOTSTRAP_SERVRES", "kafka:9092")
            .unwrap_err()
            .contains("bootstrap.servres")
    );
    assert!(bad("CONNECT_OFFSET_FLUSH_INTERVAL_MS", "soon").is_err());
    assert!(bad("CONNECT_BOOTSTRAP_SERVERS", "kafka:9092").is_ok());

    let compose = compose();
    let image_env: BTreeMap<String, String> = dockerfile_instructions(&read("Dockerfile"))
        .into_iter()
        .filter(|(word, _)| word == "ENV")
        .flat_map(|(_, args)| {
            args.split_whitespace()
                .filter_map(|kv| kv.split_once('='))
                .map(|(k, v)| (k.to_string(), v.trim_matches('"').to_string()))
                .collect::<Vec<_>>()
        })
        .collect();
    let kafka = environment(service(&compose, "kafka"));
    let advertised = kafka
        .get("KAFKA_ADVERTISED_LISTENERS")
        .expect("kafka advertises listeners");
    let hosts = host_services(&compose);
    assert!(!hosts.is_empty());
    for (name, svc) in hosts {
        // The image's ENV, then the service's environment over it.
        let mut vars = image_env.clone();
        vars.extend(environment(svc));
        let vars = connect_vars(&vars);
        assert!(!vars.is_empty(), "{name} sets no CONNECT_* variable");
        let cfg = worker_config(vars.clone()).unwrap_or_else(|e| panic!("{name}: {e}\n{vars:?}"));

        // It reaches Kafka on a listener the broker advertises.
        for server in cfg.bootstrap_servers.split(',') {
            assert!(
                advertised
                    .split(',')
                    .any(|l| l.ends_with(&format!("://{server}"))),
                "{name}: bootstrap.servers {server} is not one of kafka's listeners {advertised}"
            );
        }
        // Its connectors folder and state file are where volumes are.
        let mounted = mounts(svc);
        let connectors_dir = cfg.settings["connectors.dir"].clone();
        let dir_mount = mounted
            .iter()
            .find(|m| m.bind && m.target == connectors_dir)
            .unwrap_or_else(|| {
                panic!(
                    "{name}: connectors.dir {connectors_dir} is not a mounted folder: {mounted:?}"
                )
            });
        let files = std::fs::read_dir(root().join(&dir_mount.source))
            .unwrap()
            .count();
        assert!(
            files > 0,
            "{name}: {} has no connector file",
            dir_mount.source
        );
        let state = &cfg.settings["config.storage.file.filename"];
        assert!(
            mounted
                .iter()
                .any(|m| !m.bind && Path::new(state).starts_with(&m.target)),
            "{name}: {state} is not on a named volume: the connectors' state would be lost with the container"
        );
        // It listens on the port it publishes, under the name Prometheus scrapes.
        let port = cfg.listen_port.to_string();
        let ports: Vec<String> = svc["ports"]
            .as_sequence()
            .into_iter()
            .flatten()
            .map(scalar)
            .collect();
        assert!(
            ports.iter().any(|p| p.ends_with(&format!(":{port}"))),
            "{name} listens on {port} but publishes {ports:?}"
        );
        let targets = prometheus_targets();
        assert!(
            targets.contains(&cfg.worker_id),
            "{name}: worker id {} (the `worker` label) is not a Prometheus target {targets:?}",
            cfg.worker_id
        );
    }
}

fn prometheus_targets() -> Vec<String> {
    let prom = yaml("deploy/prometheus/prometheus.yml");
    prom["scrape_configs"]
        .as_sequence()
        .expect("prometheus.yml has scrape_configs")
        .iter()
        .flat_map(|job| {
            job["static_configs"]
                .as_sequence()
                .cloned()
                .unwrap_or_default()
        })
        .flat_map(|sc| sc["targets"].as_sequence().cloned().unwrap_or_default())
        .map(|t| scalar(&t))
        .collect()
}

#[test]
fn prometheus_scrapes_every_host_variant_by_a_name_it_answers_to() {
    let compose = compose();
    for (name, svc) in host_services(&compose) {
        let mut names = vec![name.clone()];
        if let Some(networks) = svc["networks"].as_mapping() {
            for (_, net) in networks {
                names.extend(
                    net["aliases"]
                        .as_sequence()
                        .into_iter()
                        .flatten()
                        .map(scalar),
                );
            }
        }
        let targets = prometheus_targets();
        assert!(
            targets
                .iter()
                .any(|t| names.iter().any(|n| t.starts_with(&format!("{n}:")))),
            "{name} (answering to {names:?}) is not scraped: {targets:?}"
        );
    }
}

#[test]
fn every_path_compose_mounts_exists() {
    let compose = compose();
    let named: BTreeSet<String> = compose["volumes"]
        .as_mapping()
        .map(|m| m.keys().map(scalar).collect())
        .unwrap_or_default();
    let mut binds = 0;
    for (name, svc) in services(&compose) {
        let name = scalar(name);
        for mount in mounts(svc) {
            if mount.bind {
                binds += 1;
                assert!(
                    mount.source.starts_with("./"),
                    "{name}: mount {} from outside the repository",
                    mount.source
                );
                assert!(
                    root().join(&mount.source).exists(),
                    "{name}: {} does not exist",
                    mount.source
                );
            } else {
                assert!(
                    named.contains(&mount.source),
                    "{name}: volume '{}' is not declared",
                    mount.source
                );
            }
        }
    }
    assert!(
        binds >= 4,
        "the stack mounts connectors, rules, provisioning, dashboards"
    );

    // Where each tool reads its files is where they are mounted.
    let prom = service(&compose, "prometheus");
    let config = prom["command"]
        .as_sequence()
        .into_iter()
        .flatten()
        .map(scalar)
        .find_map(|a| a.strip_prefix("--config.file=").map(str::to_string))
        .unwrap_or_else(|| "/etc/prometheus/prometheus.yml".into());
    let config_dir = Path::new(&config).parent().unwrap().display().to_string();
    assert!(
        mounts(prom)
            .iter()
            .any(|m| m.bind && m.target == config_dir && m.source == "./deploy/prometheus"),
        "prometheus reads {config}: mount ./deploy/prometheus at {config_dir}"
    );
    let grafana = mounts(service(&compose, "grafana"));
    let provider = yaml("deploy/grafana/provisioning/dashboards/connect-host.yml");
    let path = scalar(&provider["providers"][0]["options"]["path"]);
    assert!(
        grafana
            .iter()
            .any(|m| m.target == path && m.source == "./deploy/grafana/dashboards"),
        "the dashboard provider reads {path}: mount ./deploy/grafana/dashboards there"
    );
    for kind in ["datasources", "dashboards"] {
        let target = format!("/etc/grafana/provisioning/{kind}");
        assert!(
            grafana.iter().any(|m| m.target == target
                && m.source == format!("./deploy/grafana/provisioning/{kind}")),
            "grafana: provisioning/{kind} is not mounted at {target}"
        );
    }
}

#[test]
fn the_compose_connectors_are_the_local_ones_pointed_at_the_qdrant_service() {
    let compose = compose();
    let names = |dir: &str| -> BTreeSet<String> {
        std::fs::read_dir(root().join(dir))
            .unwrap()
            .flatten()
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .collect()
    };
    assert_eq!(
        names("connectors.d"),
        names("deploy/connectors.d"),
        "deploy/connectors.d mirrors connectors.d"
    );
    for file in names("deploy/connectors.d") {
        let load =
            |dir: &str| -> Json { serde_json::from_str(&read(&format!("{dir}/{file}"))).unwrap() };
        let (mut local, mut stack) = (load("connectors.d"), load("deploy/connectors.d"));
        let url = stack["config"]["qdrant.url"]
            .as_str()
            .expect("qdrant.url")
            .to_string();
        let hostport = url.strip_prefix("http://").expect("http://host:port");
        let (host, port) = hostport.split_once(':').expect("host:port");
        assert!(
            services(&compose).contains_key(host),
            "{file}: qdrant.url {url} names no service"
        );
        assert_eq!(port, "6334", "{file}: Qdrant's gRPC port");
        // Apart from where Qdrant is, the same connector.
        local["config"]["qdrant.url"] = Json::Null;
        stack["config"]["qdrant.url"] = Json::Null;
        assert_eq!(
            local, stack,
            "{file}: deploy/connectors.d and connectors.d differ beyond qdrant.url"
        );
    }
}

#[test]
fn every_path_the_dockerfile_copies_is_in_the_build_context() {
    let ignore = dockerignore(&read(".dockerignore"));
    // The checkers themselves.
    assert_eq!(copy_sources("--from=build /a /b"), Vec::<String>::new());
    assert_eq!(copy_sources("--chown=1:1 a b ./"), vec!["a", "b"]);
    assert_eq!(copy_sources(r#"["a b", "/c"]"#), vec!["a b"]);
    for excluded in [
        ".git",
        ".git/HEAD",
        "target",
        "target/release/x",
        "connector/api/target",
        "tests/qdrant-server/target/debug/x",
    ] {
        assert!(
            ignored(&ignore, excluded),
            ".dockerignore must keep {excluded} out"
        );
    }
    assert!(!ignored(&ignore, "Cargo.toml"));

    let instructions = dockerfile_instructions(&read("Dockerfile"));
    let mut sources = Vec::new();
    for (word, args) in &instructions {
        if word == "COPY" || word == "ADD" {
            sources.extend(copy_sources(args));
        }
    }
    assert!(sources.len() >= 5, "{sources:?}");
    for source in &sources {
        assert!(
            !source.contains('*'),
            "COPY {source}: name the path, the test checks it"
        );
        let rel = source.trim_start_matches("./").trim_end_matches('/');
        assert!(
            root().join(rel).exists(),
            "Dockerfile copies {source}, which does not exist"
        );
        let files = files_under(rel);
        assert!(!files.is_empty(), "{source} is empty");
        for file in files {
            assert!(
                !ignored(&ignore, &file),
                "COPY {source}: .dockerignore leaves out {file}"
            );
        }
    }
    // cargo needs every workspace member's manifest.
    let cargo_toml = read("Cargo.toml");
    let list = Regex::new(r#"members\s*=\s*\[([^\]]*)\]"#)
        .unwrap()
        .captures(&cargo_toml)
        .expect("workspace members")[1]
        .to_string();
    let members: Vec<String> = Regex::new(r#""([^"]+)""#)
        .unwrap()
        .captures_iter(&list)
        .map(|c| c[1].to_string())
        .collect();
    assert!(members.len() >= 5, "{members:?}");
    for member in &members {
        assert!(
            sources.iter().any(|s| {
                let s = s.trim_start_matches("./").trim_end_matches('/');
                *member == s || member.starts_with(&format!("{s}/"))
            }),
            "the Dockerfile does not copy workspace member {member}"
        );
    }

    // The runtime stage: libtorch and the model found, not root, port, health.
    let last_from = instructions.iter().rposition(|(w, _)| w == "FROM").unwrap();
    let runtime = &instructions[last_from..];
    let has =
        |word: &str, needle: &str| runtime.iter().any(|(w, a)| w == word && a.contains(needle));
    assert!(
        instructions.iter().filter(|(w, _)| w == "FROM").count() >= 2,
        "a multi-stage build"
    );
    assert!(has("ENV", "LD_LIBRARY_PATH=") && has("ENV", "CONNECTHOST_MODEL_DIR="));
    assert!(has("EXPOSE", "8083"));
    assert!(has("HEALTHCHECK", "/health"));
    let user = runtime
        .iter()
        .rev()
        .find(|(w, _)| w == "USER")
        .map(|(_, a)| a.as_str());
    assert!(
        user.is_some_and(|u| !u.starts_with("root") && !u.starts_with("0")),
        "the runtime stage runs as root ({user:?})"
    );
}

#[test]
fn promtool_accepts_the_rules_and_the_config() {
    run_promtool(&["check", "rules", "deploy/prometheus/rules.yml"]);
    run_promtool(&["check", "config", "deploy/prometheus/prometheus.yml"]);
    // Each alert fires on its input and stays quiet on a healthy neighbour.
    run_promtool(&["test", "rules", "deploy/prometheus/rules.test.yml"]);
}

#[test]
fn the_alerts_cover_lag_failed_tasks_the_dlq_and_qdrant() {
    let exprs = rule_exprs();
    let alert = |name: &str| -> &str {
        &exprs
            .iter()
            .find(|(n, _)| n == name)
            .unwrap_or_else(|| panic!("no alert {name}"))
            .1
    };
    assert!(alert("ConnectConsumerLagGrowing").contains("connect_sink_task_consumer_lag"));
    assert!(alert("ConnectConsumerLagGrowing").contains("by (connector)"));
    assert!(alert("ConnectTaskFailed").contains(r#"connect_task_state{state="failed"}"#));
    assert!(
        alert("ConnectDeadLetterQueueRateHigh")
            .contains("connect_task_error_deadletterqueue_produced_total")
    );
    assert!(
        alert("ConnectQdrantUpsertPermanentErrors").contains("connect_qdrant_upsert_errors_total")
    );
}

#[test]
fn rules_and_dashboard_name_only_catalogued_series() {
    // The checker itself.
    assert_eq!(
        not_catalogued("connect_sink_task_put_batch_seconds_bucket"),
        None
    );
    assert_eq!(not_catalogued("process_resident_memory_bytes"), None);
    assert!(not_catalogued("connect_sink_task_records_read_total_bucket").is_some());
    assert!(not_catalogued("connect_sink_task_records_typo_total").is_some());
    assert_eq!(
        metric_names(r#"rate(connect_a_total{x="connect_b"}[5m]) / process_cpu"#),
        BTreeSet::from([
            "connect_a_total".into(),
            "connect_b".into(),
            "process_cpu".into()
        ])
    );

    let mut used = BTreeSet::new();
    let mut problems = Vec::new();
    for (file, exprs) in [
        ("rules.yml", rule_exprs()),
        ("connect-host.json", dashboard_exprs(&dashboard())),
    ] {
        for (name, expr) in exprs {
            let names = metric_names(&expr);
            assert!(
                !names.is_empty() || expr.contains("up{"),
                "{file} {name}: no series in '{expr}'"
            );
            for series in names {
                if let Some(why) = not_catalogued(&series) {
                    problems.push(format!("{file} {name}: {why}"));
                }
                used.insert(series);
            }
        }
    }
    assert!(problems.is_empty(), "{problems:#?}");
    assert!(used.len() >= 15, "{used:?}");
}

#[test]
fn the_dashboard_has_the_panels() {
    let dash = dashboard();
    assert_eq!(dash["uid"], "connect-host");
    let all = panels(&dash);
    let by_title: BTreeMap<&str, &Json> = all
        .iter()
        .filter_map(|p| p["title"].as_str().map(|t| (t, *p)))
        .collect();
    let quantiles = [
        "histogram_quantile(0.5,",
        "histogram_quantile(0.95,",
        "histogram_quantile(0.99,",
    ];
    // Title, series its queries must read, and fragments they must contain.
    let required: &[(&str, &[&str], &[&str])] = &[
        (
            "Throughput: records read / put per connector",
            &[
                "connect_sink_task_records_read_total",
                "connect_sink_task_records_put_total",
            ],
            &["by (connector)"],
        ),
        ("Consumer lag", &["connect_sink_task_consumer_lag"], &[]),
        (
            "Put latency (p50 / p95 / p99)",
            &["connect_sink_task_put_batch_seconds_bucket"],
            &quantiles,
        ),
        (
            "Dead-letter queue rate",
            &["connect_task_error_deadletterqueue_produced_total"],
            &["rate("],
        ),
        (
            "Embedding cache hit ratio",
            &[
                "connect_embedding_cache_hits_total",
                "connect_embedding_cache_lookups_total",
            ],
            &[],
        ),
        (
            "Embedded texts/s",
            &["connect_embedding_texts_total"],
            &["rate("],
        ),
        (
            "Embedding batch latency (p50 / p95 / p99)",
            &["connect_embedding_batch_seconds_bucket"],
            &quantiles,
        ),
        (
            "Qdrant upsert latency (p50 / p95 / p99)",
            &["connect_qdrant_upsert_seconds_bucket"],
            &quantiles,
        ),
        (
            "Qdrant upsert errors",
            &["connect_qdrant_upsert_errors_total"],
            &["kind"],
        ),
        (
            "Task states per worker",
            &["connect_task_state"],
            &["worker", "state"],
        ),
        (
            "Resident memory (RSS)",
            &["process_resident_memory_bytes"],
            &[],
        ),
    ];
    for (title, series, fragments) in required {
        let panel = by_title
            .get(title)
            .unwrap_or_else(|| panic!("no panel '{title}' among {:?}", by_title.keys()));
        let exprs = panel_exprs(panel).join("\n");
        let names = metric_names(&exprs);
        for s in *series {
            assert!(names.contains(*s), "'{title}' does not read {s}: {exprs}");
        }
        for f in *fragments {
            assert!(exprs.contains(f), "'{title}' lacks '{f}': {exprs}");
        }
    }

    // Panels: unique ids, on the 24-column grid, on the provisioned data source.
    let datasource = yaml("deploy/grafana/provisioning/datasources/prometheus.yml");
    let uid = scalar(&datasource["datasources"][0]["uid"]);
    let url = scalar(&datasource["datasources"][0]["url"]);
    assert!(
        url.starts_with("http://prometheus:"),
        "the data source is the prometheus service: {url}"
    );
    let mut ids = BTreeSet::new();
    for panel in &all {
        let title = panel["title"].as_str().unwrap_or("?");
        assert!(
            ids.insert(panel["id"].as_i64().expect("a panel id")),
            "duplicate id: {title}"
        );
        let grid = &panel["gridPos"];
        let (x, w) = (grid["x"].as_i64().unwrap(), grid["w"].as_i64().unwrap());
        assert!(
            x >= 0 && w > 0 && x + w <= 24,
            "{title} is off the grid: {grid}"
        );
        if panel["type"] != "row" {
            assert_eq!(
                panel["datasource"]["uid"].as_str(),
                Some(uid.as_str()),
                "{title}"
            );
            for target in panel["targets"].as_array().into_iter().flatten() {
                assert_eq!(
                    target["datasource"]["uid"].as_str(),
                    Some(uid.as_str()),
                    "{title}"
                );
            }
        }
    }
}

#[test]
fn the_dashboards_queries_are_valid_promql() {
    // promtool parses them as recording rules, with Grafana's variables
    // replaced as Grafana would.
    let dash = dashboard();
    let mut rules = String::from("groups:\n  - name: dashboard\n    rules:\n");
    let mut n = 0;
    for (title, expr) in dashboard_exprs(&dash) {
        if expr.starts_with("label_values(") {
            continue;
        }
        let expr = expr
            .replace("$__rate_interval", "1m")
            .replace("$__interval", "15s")
            .replace("$worker", ".*")
            .replace("$connector", ".*");
        assert!(!expr.contains('$'), "{title}: unknown variable in {expr}");
        n += 1;
        rules.push_str(&format!(
            "      - record: dashboard:query_{n}\n        expr: {}\n",
            serde_json::to_string(&expr).unwrap()
        ));
    }
    assert!(n >= 20, "{n} queries");
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("dashboard-queries.yml");
    std::fs::write(&path, rules).unwrap();
    run_promtool(&["check", "rules", path.to_str().unwrap()]);
}
