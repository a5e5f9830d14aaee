//! A fuzz run of the REST API against the real worker process: at least
//! 10,000 requests generated from the OpenAPI document the worker serves
//! (`GET /openapi.json`: its paths, methods, parameters and request body
//! schemas), mixed with random mutations: other methods, odd paths
//! (percent-encoded junk, `..`, very long segments, unicode, control
//! characters, sent raw over a socket so that nothing normalizes them),
//! bodies of the wrong type, deeply nested, huge, not UTF-8 or empty, odd
//! headers, and connector names with odd characters.
//!
//! Two real connectors run throughout (FileStream sinks fed through a
//! topic); no generated request names them. Afterwards: no answer was a
//! 5xx, every error answer of the API carried Connect's error body, the
//! worker process is alive and logged no panic, the two connectors are
//! RUNNING with their configs unchanged and new records still reach their
//! files, and no name turned into a path in the worker's directory.
//!
//! Generated configs that validate create real FileStream sinks writing
//! under the run's directory (never elsewhere); the Qdrant sink is only
//! validated, never created (each would load the embedding model).
//!
//! The generator is seeded: `REST_FUZZ_SEED=<seed>` replays the requests
//! of a run (the seed is printed; what runs concurrently may interleave
//! differently), `REST_FUZZ_REQUESTS=<n>` changes how many are sent, and
//! `REST_FUZZ_DUMP=1` prints every answer with its request.

mod support;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use futures::StreamExt;
use serde_json::{Map, Value, json};
use support::kafka::{self, Rec};
use support::worker::lines;
use support::{Broker, Worker, eventually};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// The connectors that must come through the run untouched.
const KEPT: [&str; 2] = ["keep-a", "keep-b"];
/// Requests in flight at once.
const IN_FLIGHT: usize = 16;
/// The worker's limits (rest-api/src/request.rs).
const MAX_BODY: usize = 1024 * 1024;
const MAX_URI: usize = 8 * 1024;

/// SplitMix64: small, and the same sequence for a seed on every platform
/// and with every version of every crate.
struct Rng(u64);

impl Rng {
    fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    /// In `0..n` (`n` > 0).
    fn below(&mut self, n: usize) -> usize {
        (self.next_u64() % n as u64) as usize
    }
    /// True `percent` times in a hundred.
    fn chance(&mut self, percent: u64) -> bool {
        self.next_u64() % 100 < percent
    }
    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }
}

/// One generated request.
#[derive(Debug, Clone)]
struct FuzzRequest {
    /// Sent over a plain socket, bytes as generated (reqwest would
    /// normalize the path and refuse odd bytes).
    raw: bool,
    method: String,
    /// Path and query, as sent.
    target: Vec<u8>,
    headers: Vec<(String, Vec<u8>)>,
    body: Vec<u8>,
}

impl FuzzRequest {
    /// For a failure report: what was sent, shortened.
    fn describe(&self) -> String {
        let short = |bytes: &[u8], n: usize| {
            let text = String::from_utf8_lossy(&bytes[..bytes.len().min(n)])
                .escape_debug()
                .to_string();
            if bytes.len() > n {
                format!("{text}… ({} bytes)", bytes.len())
            } else {
                text
            }
        };
        let headers: Vec<String> = self
            .headers
            .iter()
            .map(|(k, v)| format!("{k}: {}", short(v, 60)))
            .collect();
        format!(
            "{}{} {} [{}] body: {}",
            if self.raw { "(raw) " } else { "" },
            self.method.escape_debug(),
            short(&self.target, 200),
            headers.join("; "),
            short(&self.body, 300)
        )
    }
}

/// An operation of the OpenAPI document.
#[derive(Debug, Clone)]
struct Operation {
    method: String,
    template: String,
    /// Query parameters: name and schema.
    query: Vec<(String, Value)>,
    body: Option<Value>,
}

fn operations(doc: &Value) -> Vec<Operation> {
    let mut ops = Vec::new();
    for (path, item) in doc["paths"].as_object().expect("paths") {
        for (method, op) in item.as_object().expect("a path item") {
            let query = op["parameters"]
                .as_array()
                .into_iter()
                .flatten()
                .filter(|p| p["in"] == "query")
                .map(|p| (p["name"].as_str().unwrap().to_string(), p["schema"].clone()))
                .collect();
            ops.push(Operation {
                method: method.to_ascii_uppercase(),
                template: path.clone(),
                query,
                body: op
                    .get("requestBody")
                    .map(|b| b["content"]["application/json"]["schema"].clone()),
            });
        }
    }
    ops
}

/// Everything but RFC 3986's unreserved characters percent-encoded.
fn encode(s: &str) -> String {
    s.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

/// A path segment as the worker reads it (`%XX` decoded, lossy UTF-8).
fn decode(segment: &[u8]) -> String {
    let mut out = Vec::new();
    let mut i = 0;
    while i < segment.len() {
        let hex = |b: u8| (b as char).to_digit(16);
        if segment[i] == b'%'
            && i + 2 < segment.len()
            && let (Some(h), Some(l)) = (hex(segment[i + 1]), hex(segment[i + 2]))
        {
            out.push((h * 16 + l) as u8);
            i += 3;
        } else {
            out.push(segment[i]);
            i += 1;
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Whether a request's path, as the worker splits and decodes it, names
/// one of the kept connectors (such a request is never sent).
fn touches_kept(path: &[u8]) -> bool {
    path.split(|b| *b == b'/')
        .filter(|s| !s.is_empty())
        .any(|s| {
            let name = decode(s);
            KEPT.contains(&name.as_str()) || KEPT.contains(&name.trim())
        })
}

/// Connector names: plain ones that can be created, and every kind the
/// worker must refuse or take as they are. Never a kept one.
fn names() -> Vec<String> {
    let mut names: Vec<String> = (0..6).map(|i| format!("fuzz-{i}")).collect();
    names.extend(
        [
            "with space",
            " padded ",
            "ünïcode-名前",
            "emoji-😀",
            "a.b",
            "..a",
            "...",
            "a\\b",
            "CON",
            "-",
            "%41",
            "%2e%2e",
            "\u{202e}rtl",
            "",
            "  ",
            ".",
            "..",
            "a/b",
            "../../etc/passwd",
            "/abs",
            "..\\..\\x",
            "tab\there",
            "new\nline",
            "nul\0byte",
            "del\u{7f}",
            "nel\u{85}",
            "?query",
            "#frag",
            "semi;colon",
            "keep-a ",
            "KEEP-A",
        ]
        .iter()
        .map(|s| s.to_string()),
    );
    names.push("x".repeat(249));
    names.push("y".repeat(250));
    names.push("é".repeat(125));
    names.push("z".repeat(1000));
    names.retain(|n| !KEPT.contains(&n.trim()));
    names
}

/// JSON strings a fuzzer likes.
fn odd_strings() -> Vec<String> {
    let mut s: Vec<String> = [
        "",
        " ",
        "0",
        "-1",
        "true",
        "null",
        "[]",
        "{}",
        "\u{0}",
        "\u{1}\u{2}",
        "ünïcode",
        "😀",
        "\u{202e}",
        "../../..",
        "%00",
        "%",
        "\\",
        "\"",
        "'; DROP TABLE",
        "${env:HOME}",
        "[hidden]",
        "\r\n",
        "a,b,,c",
        "*",
        ".*",
        "(",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    s.push("s".repeat(10_000));
    s
}

struct Generator {
    rng: Rng,
    doc: Value,
    ops: Vec<Operation>,
    names: Vec<String>,
    odd: Vec<String>,
    plugins: Vec<String>,
    loggers: Vec<String>,
    config_keys: Vec<String>,
    out_dir: PathBuf,
    worker_id: String,
}

const METHODS: &[&str] = &[
    "GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS", "TRACE", "get", "FOO", "PROPFIND",
];

impl Generator {
    fn request(&mut self) -> FuzzRequest {
        loop {
            let request = self.candidate();
            let path_end = request
                .target
                .iter()
                .position(|b| *b == b'?')
                .unwrap_or(request.target.len());
            if !touches_kept(&request.target[..path_end]) {
                return request;
            }
        }
    }

    fn candidate(&mut self) -> FuzzRequest {
        // Operations that take a body twice as often as the others.
        let weighted = self.ops.len() + self.ops.iter().filter(|o| o.body.is_some()).count();
        let mut at = self.rng.below(weighted);
        let op = self
            .ops
            .iter()
            .find(|o| {
                let weight = if o.body.is_some() { 2 } else { 1 };
                if at < weight {
                    return true;
                }
                at -= weight;
                false
            })
            .unwrap()
            .clone();
        let raw = self.rng.chance(25);
        let method = if self.rng.chance(80) {
            op.method.clone()
        } else if raw && self.rng.chance(20) {
            // Not even a token.
            self.rng
                .pick(&["G ET", "", "GET\t", "ÜBER", "\u{1}"])
                .to_string()
        } else {
            self.rng.pick(METHODS).to_string()
        };
        let mut target = self.path(&op.template, raw);
        let query = self.query(&op, raw);
        if !query.is_empty() {
            target.push(b'?');
            target.extend(query);
        }
        let (body, content_type) = self.body(&op, raw);
        let mut headers = Vec::new();
        if let Some(ct) = content_type {
            headers.push(("Content-Type".to_string(), ct));
        }
        headers.extend(self.headers(raw));
        FuzzRequest {
            raw,
            method,
            target,
            headers,
            body,
        }
    }

    /// The template filled in, then maybe mutated.
    fn path(&mut self, template: &str, raw: bool) -> Vec<u8> {
        let mut segments: Vec<Vec<u8>> = template
            .split('/')
            .filter(|s| !s.is_empty())
            .map(|s| {
                if s.starts_with('{') {
                    self.param(&s[1..s.len() - 1], raw)
                } else {
                    s.as_bytes().to_vec()
                }
            })
            .collect();
        match self.rng.below(100) {
            0..=64 => {}
            65..=69 => segments.push(self.junk_segment(raw)),
            70..=73 if !segments.is_empty() => {
                segments.pop();
            }
            74..=79 if !segments.is_empty() => {
                let i = self.rng.below(segments.len());
                segments[i] = self.junk_segment(raw);
            }
            80..=83 => {
                let i = self.rng.below(segments.len() + 1);
                segments.insert(
                    i,
                    self.rng
                        .pick(&["..", ".", "", "%2e%2e", "%2F"])
                        .as_bytes()
                        .to_vec(),
                );
            }
            84..=87 => {
                segments = (0..self.rng.below(6))
                    .map(|_| self.junk_segment(raw))
                    .collect()
            }
            88..=90 => {
                // Very long: over the limit, or just under it.
                let n = if self.rng.chance(50) {
                    MAX_URI + self.rng.below(4096)
                } else {
                    MAX_URI - 64
                };
                segments.push(vec![b'l'; n]);
            }
            91..=92 => {
                segments = (0..self.rng.below(2000) + 10)
                    .map(|_| b"s".to_vec())
                    .collect()
            }
            _ => {}
        }
        let mut path = Vec::new();
        for s in &segments {
            path.push(b'/');
            path.extend(s);
        }
        if path.is_empty() || self.rng.chance(5) {
            path.push(b'/');
        }
        if raw && self.rng.chance(2) {
            // Not origin-form at all.
            let targets: [&[u8]; 5] = [
                b"*",
                b"http://other:1/connectors",
                b"connectors",
                b"//",
                b"",
            ];
            return self.rng.pick(&targets).to_vec();
        }
        path
    }

    /// Half the time a plain one (connectors come and go under those).
    fn name(&mut self) -> String {
        if self.rng.chance(50) {
            format!("fuzz-{}", self.rng.below(6))
        } else {
            self.rng.pick(&self.names).clone()
        }
    }

    fn junk_segment(&mut self, raw: bool) -> Vec<u8> {
        let choice = self.rng.below(8);
        let s = match choice {
            0 => "%zz%".to_string(),
            1 => "%00%ff%fe".to_string(),
            2 => encode(&self.rng.pick(&self.odd).clone()),
            3 => "ünïcode😀".to_string(),
            4 => (0..self.rng.below(40) + 1)
                .map(|_| char::from(b'!' + self.rng.below(94) as u8))
                .filter(|c| *c != '/' && *c != '?' && *c != '#')
                .collect(),
            5 => "%25%32%66".to_string(),
            6 => "openapi.json".to_string(),
            _ => self
                .rng
                .pick(&[
                    "connectors",
                    "admin",
                    "tasks",
                    "config",
                    "status",
                    "0",
                    ";",
                    "~",
                ])
                .to_string(),
        };
        let mut bytes = s.into_bytes();
        if raw && self.rng.chance(30) {
            // Bytes no client would send: controls, invalid UTF-8, spaces.
            let odds: [&[u8]; 9] = [
                b"\x01",
                b"\x7f",
                b"\xff\xfe",
                b"\xc3",
                b" ",
                b"\t",
                b"\"",
                b"<>",
                b"\\",
            ];
            let odd = *self.rng.pick(&odds);
            let at = self.rng.below(bytes.len() + 1);
            bytes.splice(at..at, odd.iter().copied());
        }
        bytes
    }

    fn param(&mut self, name: &str, raw: bool) -> Vec<u8> {
        let value = match name {
            "connector" => self.name(),
            "task" => self
                .rng
                .pick(&[
                    "0",
                    "1",
                    "2",
                    "-1",
                    "4294967296",
                    "99999999999999999999",
                    "abc",
                    "0x1",
                    "1.0",
                    " 1",
                ])
                .to_string(),
            "plugin" => {
                if self.rng.chance(70) {
                    self.rng.pick(&self.plugins).clone()
                } else {
                    self.rng.pick(&self.odd).clone()
                }
            }
            "worker" => {
                if self.rng.chance(50) {
                    self.worker_id.clone()
                } else {
                    self.rng
                        .pick(&["x:1", "", "127.0.0.1", "[::1]:8083", "😀:1"])
                        .to_string()
                }
            }
            "logger" => {
                if self.rng.chance(70) {
                    self.rng.pick(&self.loggers).clone()
                } else {
                    self.rng
                        .pick(&["a::b", "..", "org.apache.kafka", "", "ünï"])
                        .to_string()
                }
            }
            _ => "x".to_string(),
        };
        match self.rng.below(10) {
            // As sent raw: unencoded (controls, spaces, unicode and all).
            0 | 1 if raw => value.into_bytes(),
            2 => encode(&encode(&value)).into_bytes(),
            _ => encode(&value).into_bytes(),
        }
    }

    fn query(&mut self, op: &Operation, raw: bool) -> Vec<u8> {
        let mut pairs: Vec<String> = Vec::new();
        for (name, schema) in &op.query {
            if self.rng.chance(50) {
                let value = match self.value(schema, 0) {
                    Value::String(s) => s,
                    Value::Array(items) => items
                        .first()
                        .and_then(Value::as_str)
                        .unwrap_or("status")
                        .to_string(),
                    other => other.to_string(),
                };
                pairs.push(format!("{name}={}", encode(&value)));
            }
        }
        if self.rng.chance(15) {
            let junk = self.rng.pick(&[
                "a=b=c",
                "&&&",
                "=",
                "%",
                "%zz=%",
                "forward",
                "forward=true",
                "expand=status&expand=info",
                "connectorsOnly=",
                "includeTasks=TRUE&onlyFailed=true",
                "scope=cluster",
                "x=%F0%9F%98%80",
                "%00=%00",
            ]);
            pairs.push(junk.to_string());
        }
        if self.rng.chance(2) {
            pairs.push(format!("long={}", "q".repeat(MAX_URI)));
        }
        let mut query = pairs.join("&").into_bytes();
        if raw && self.rng.chance(5) {
            query.extend(b"\xff raw");
        }
        query
    }

    /// A body and its content type.
    fn body(&mut self, op: &Operation, raw: bool) -> (Vec<u8>, Option<Vec<u8>>) {
        let content_type = match self.rng.below(20) {
            0 => None,
            1 => Some(b"text/plain".to_vec()),
            2 => Some(b"application/x-www-form-urlencoded".to_vec()),
            3 => Some(b"APPLICATION/JSON; charset=UTF-8".to_vec()),
            4 => Some(b"application/vnd.kafka+json".to_vec()),
            5 => Some(b";;;".to_vec()),
            6 => Some(format!("application/json; {}", "p".repeat(4000)).into_bytes()),
            7 if raw => Some(b"application/json\xff\x01".to_vec()),
            _ => Some(b"application/json".to_vec()),
        };
        let schema = op.body.clone();
        let body = match (schema, self.rng.below(100)) {
            (_, 0..=4) => Vec::new(),
            (Some(schema), 5..=54) => self.value(&schema, 0).to_string().into_bytes(),
            (Some(schema), 55..=69) => {
                let mut v = self.value(&schema, 0);
                self.mutate(&mut v);
                v.to_string().into_bytes()
            }
            (_, 70..=74) => {
                // Deep nesting: arrays, objects, inside a config.
                let depth = self.rng.below(100_000) + 100;
                match self.rng.below(3) {
                    0 => "[".repeat(depth).into_bytes(),
                    1 => format!("{}1{}", "{\"a\":".repeat(depth), "}".repeat(depth)).into_bytes(),
                    _ => format!(
                        "{{\"name\":\"fuzz-0\",\"config\":{{\"a\":{}{}}}}}",
                        "[".repeat(depth),
                        "]".repeat(depth)
                    )
                    .into_bytes(),
                }
            }
            (_, 75..=78) => {
                // Huge strings, within the limit or past it.
                let n = if self.rng.chance(50) {
                    self.rng.below(MAX_BODY - 100)
                } else {
                    MAX_BODY + self.rng.below(100_000)
                };
                json!({"name": "fuzz-1", "config": {"connector.class": "FileStreamSink", "x": "h".repeat(n)}})
                    .to_string()
                    .into_bytes()
            }
            (_, 79..=83) => {
                // Not UTF-8.
                let mut bytes: Vec<u8> = (0..self.rng.below(2000)).map(|_| self.rng.next_u64() as u8).collect();
                if self.rng.chance(50) {
                    bytes = b"{\"name\": \"fuzz-2\xff\xfe\", \"config\": {}}".to_vec();
                }
                bytes
            }
            (_, 84..=89) => self
                .rng
                .pick(&[
                    "null", "1", "\"x\"", "true", "[]", "{", "{}", "{\"name\":", "\u{feff}{}", "1e400",
                    "{\"offsets\": [{\"partition\": {\"kafka_topic\": \"t\", \"kafka_partition\": 18446744073709551616}}]}",
                    "{\"level\": \"TRACE\", \"level\": 5}", "{\"name\":\"a\",\"name\":\"b\",\"config\":{}}",
                    "{\"tasks.max\": -0.0}", "  \n\t ",
                ])
                .as_bytes()
                .to_vec(),
            (None, _) if self.rng.chance(70) => Vec::new(),
            _ => self.value(&json!({"type": "object", "additionalProperties": true}), 0).to_string().into_bytes(),
        };
        (body, content_type)
    }

    fn headers(&mut self, raw: bool) -> Vec<(String, Vec<u8>)> {
        let mut headers = Vec::new();
        for _ in 0..self.rng.below(3) {
            let (name, value): (&str, Vec<u8>) = match self.rng.below(9) {
                0 => (
                    "Accept",
                    self.rng
                        .pick(&["*/*", "text/html", "application/xml", ""])
                        .as_bytes()
                        .to_vec(),
                ),
                1 => ("Origin", b"http://evil.example".to_vec()),
                2 => ("Access-Control-Request-Method", b"DELETE".to_vec()),
                3 => ("X-Fuzz", vec![b'v'; self.rng.below(16 * 1024)]),
                4 => ("Accept-Encoding", b"gzip, br".to_vec()),
                5 => ("Expect", b"100-continue".to_vec()),
                6 if raw => ("X-Odd", b"\xff\xfe\x01".to_vec()),
                7 if raw => (
                    "Content-Length",
                    self.rng
                        .pick(&["abc", "-1", "99999999999999999999", "5000000"])
                        .as_bytes()
                        .to_vec(),
                ),
                _ => ("X-Unicode", "ünï".as_bytes().to_vec()),
            };
            headers.push((name.to_string(), value));
        }
        headers
    }

    /// A value that fits `schema` (the document's JSON Schema 2020-12),
    /// with a connector config's known keys where a config is asked for.
    fn value(&mut self, schema: &Value, depth: usize) -> Value {
        if depth > 8 {
            return Value::Null;
        }
        if let Some(r) = schema.get("$ref").and_then(Value::as_str) {
            if r.ends_with("/ConfigValues") && self.rng.chance(90) {
                return self.config();
            }
            let target = self
                .doc
                .pointer(&r[1..])
                .cloned()
                .unwrap_or(Value::Bool(true));
            return self.value(&target, depth + 1);
        }
        for key in ["anyOf", "oneOf"] {
            if let Some(options) = schema.get(key).and_then(Value::as_array) {
                let choice = options[self.rng.below(options.len())].clone();
                return self.value(&choice, depth + 1);
            }
        }
        if let Some(values) = schema.get("enum").and_then(Value::as_array) {
            return values[self.rng.below(values.len())].clone();
        }
        if let Some(c) = schema.get("const") {
            return c.clone();
        }
        let types: Vec<String> = match schema.get("type") {
            Some(Value::String(t)) => vec![t.clone()],
            Some(Value::Array(ts)) => ts
                .iter()
                .filter_map(|t| t.as_str().map(String::from))
                .collect(),
            _ => vec![
                "string".into(),
                "integer".into(),
                "object".into(),
                "boolean".into(),
            ],
        };
        match self.rng.pick(&types).as_str() {
            "object" => {
                let mut map = Map::new();
                let required: Vec<&str> = schema["required"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter_map(Value::as_str)
                    .collect();
                if let Some(props) = schema.get("properties").and_then(Value::as_object) {
                    for (key, sub) in props {
                        if required.contains(&key.as_str()) || self.rng.chance(60) {
                            let v = if key == "name" && self.rng.chance(80) {
                                Value::String(self.name())
                            } else if key == "initial_state" && self.rng.chance(80) {
                                let states = ["RUNNING", "PAUSED", "STOPPED", "paused", "BOGUS"];
                                json!(self.rng.pick(&states))
                            } else {
                                self.value(sub, depth + 1)
                            };
                            map.insert(key.clone(), v);
                        }
                    }
                }
                match schema.get("additionalProperties") {
                    Some(Value::Bool(false)) => {}
                    extra => {
                        let extra = extra.cloned().unwrap_or(Value::Bool(true));
                        for _ in 0..self.rng.below(3) {
                            let key = self.rng.pick(&self.odd).clone();
                            map.insert(key, self.value(&extra, depth + 1));
                        }
                    }
                }
                Value::Object(map)
            }
            "array" => {
                let items = schema.get("items").cloned().unwrap_or(Value::Bool(true));
                Value::Array(
                    (0..self.rng.below(4))
                        .map(|_| self.value(&items, depth + 1))
                        .collect(),
                )
            }
            "integer" => {
                json!(
                    *self
                        .rng
                        .pick(&[0i64, 1, 2, 7, -1, i64::MAX, i64::MIN, 2_147_483_648])
                )
            }
            "number" => json!(*self.rng.pick(&[0.5, -1.5, 1e300])),
            "boolean" => json!(self.rng.chance(50)),
            "null" => Value::Null,
            _ => {
                let pattern = schema.get("pattern").and_then(Value::as_str);
                if pattern.is_some() && self.rng.chance(70) {
                    json!(self.rng.pick(&["0", "42", " 7 ", "-3"]).to_string())
                } else if schema == &Value::Bool(true) || self.rng.chance(60) {
                    json!(
                        self.rng
                            .pick(&[
                                "DEBUG", "INFO", "TRACE", "OFF", "RUNNING", "STOPPED", "PAUSED",
                                "t"
                            ])
                            .to_string()
                    )
                } else {
                    json!(self.rng.pick(&self.odd).clone())
                }
            }
        }
    }

    /// A connector config from the plugins' own keys, often valid.
    fn config(&mut self) -> Value {
        if self.rng.chance(40) {
            // One that works, so that connectors come and go.
            let mut good = json!({
                "connector.class": "FileStreamSink",
                "topics": "fuzz-t",
                "file": self.out_dir.join(format!("out-{}.txt", self.rng.below(4))),
                "value.converter": "org.apache.kafka.connect.storage.StringConverter",
            });
            if self.rng.chance(30) {
                let tasks = ["1", "2", "3", "1001", "2147483647", "4294967295"];
                good["tasks.max"] = json!(self.rng.pick(&tasks));
            }
            return good;
        }
        let mut c = Map::new();
        if self.rng.chance(85) {
            let class = self.rng.pick(&[
                "FileStreamSink",
                "org.apache.kafka.connect.file.FileStreamSinkConnector",
                "file",
                "FlakySink",
                "NoSuchConnector",
                "",
                "org.apache.kafka.connect.file.FileStreamSourceConnector",
            ]);
            c.insert("connector.class".into(), json!(class));
        }
        if self.rng.chance(80) {
            let topics = self.rng.pick(&[
                "fuzz-t",
                "fuzz-t,fuzz-u",
                "keep-a-topic",
                "",
                "bad topic!",
                ",,",
            ]);
            c.insert("topics".into(), json!(topics));
        } else if self.rng.chance(30) {
            c.insert(
                "topics.regex".into(),
                json!(self.rng.pick(&["fuzz-.*", "(", ".*"])),
            );
        }
        if self.rng.chance(75) {
            c.insert("file".into(), json!(self.file()));
        }
        if self.rng.chance(30) {
            let tasks = self.rng.pick(&[
                "1",
                "2",
                "0",
                "-1",
                "abc",
                "",
                "3",
                "2147483647",
                "4294967296",
                "1e3",
            ]);
            c.insert("tasks.max".into(), json!(tasks));
        }
        if self.rng.chance(10) {
            c.insert("name".into(), json!(self.rng.pick(&self.names).clone()));
        }
        let extra = if self.rng.chance(50) {
            0
        } else {
            self.rng.below(4)
        };
        for _ in 0..extra {
            let key = self.rng.pick(&self.config_keys).clone();
            let value = match key.as_str() {
                "file" | "attempts.file" => json!(self.file()),
                k if k.ends_with("converter") => json!(self.rng.pick(&[
                    "org.apache.kafka.connect.storage.StringConverter",
                    "org.apache.kafka.connect.json.JsonConverter",
                    "NoSuchConverter",
                ])),
                "errors.tolerance" => json!(self.rng.pick(&["none", "all", "some"])),
                k if k.ends_with(".ms") || k.contains("delay") => {
                    json!(self.rng.pick(&["0", "100", "-1", "x"]).to_string())
                }
                _ => json!(self.rng.pick(&self.odd).clone()),
            };
            c.insert(key, value);
        }
        Value::Object(c)
    }

    /// Where a generated sink may write: inside the run's directory, or
    /// nowhere (a directory that does not exist).
    fn file(&mut self) -> String {
        match self.rng.below(10) {
            0 => String::new(),
            1 => "/nonexistent-rest-fuzz/x.txt".into(),
            2 => self.out_dir.display().to_string(),
            _ => self
                .out_dir
                .join(format!("out-{}.txt", self.rng.below(4)))
                .display()
                .to_string(),
        }
    }

    /// Replace one node with a value of another type, or remove it.
    fn mutate(&mut self, v: &mut Value) {
        let others = [
            json!(null),
            json!(7),
            json!(-1.5),
            json!("s"),
            json!(true),
            json!([1, "a"]),
            json!({"k": {}}),
        ];
        match v {
            Value::Object(map) if !map.is_empty() && self.rng.chance(75) => {
                let keys: Vec<String> = map.keys().cloned().collect();
                let key = self.rng.pick(&keys).clone();
                if self.rng.chance(20) {
                    map.remove(&key);
                } else {
                    self.mutate(map.get_mut(&key).unwrap());
                }
            }
            Value::Array(items) if !items.is_empty() && self.rng.chance(75) => {
                let i = self.rng.below(items.len());
                self.mutate(&mut items[i]);
            }
            _ => *v = self.rng.pick(&others).clone(),
        }
    }
}

/// What a request got back.
#[derive(Debug)]
enum Outcome {
    Answer { status: u16, body: Vec<u8> },
    NoAnswer(String),
}

async fn send(client: &reqwest::Client, port: u16, r: &FuzzRequest) -> Outcome {
    if r.raw {
        return send_raw(port, r).await;
    }
    let target = String::from_utf8_lossy(&r.target).into_owned();
    let method = match reqwest::Method::from_bytes(r.method.as_bytes()) {
        Ok(m) => m,
        Err(e) => return Outcome::NoAnswer(format!("method: {e}")),
    };
    let mut req = client.request(method, format!("http://127.0.0.1:{port}{target}"));
    for (k, v) in &r.headers {
        req = req.header(k.as_str(), v.as_slice());
    }
    match req.body(r.body.clone()).send().await {
        Ok(resp) => {
            let status = resp.status().as_u16();
            match resp.bytes().await {
                Ok(body) => Outcome::Answer {
                    status,
                    body: body.to_vec(),
                },
                Err(e) => Outcome::NoAnswer(format!("reading the body of a {status}: {e}")),
            }
        }
        Err(e) => Outcome::NoAnswer(format!("{e:?}")),
    }
}

/// HTTP/1.1 over a plain socket: the request line and headers exactly as
/// generated, then the answer's status.
async fn send_raw(port: u16, r: &FuzzRequest) -> Outcome {
    let stream = match tokio::net::TcpStream::connect(("127.0.0.1", port)).await {
        Ok(s) => s,
        Err(e) => return Outcome::NoAnswer(format!("connect: {e}")),
    };
    let mut head = Vec::new();
    head.extend(r.method.as_bytes());
    head.push(b' ');
    head.extend(&r.target);
    head.extend(format!(" HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\n").as_bytes());
    let announced = r
        .headers
        .iter()
        .any(|(k, _)| k.eq_ignore_ascii_case("content-length"));
    for (k, v) in &r.headers {
        head.extend(k.as_bytes());
        head.extend(b": ");
        head.extend(v);
        head.extend(b"\r\n");
    }
    if !announced {
        head.extend(format!("Content-Length: {}\r\n", r.body.len()).as_bytes());
    }
    head.extend(b"\r\n");
    let (mut read, mut write) = stream.into_split();
    let body = r.body.clone();
    // Written beside the reading: the worker may answer (413) before it
    // has read everything.
    let writer = tokio::spawn(async move {
        let _ = write.write_all(&head).await;
        let _ = write.write_all(&body).await;
        write
    });
    let mut answer = Vec::new();
    let mut buf = vec![0u8; 64 * 1024];
    let read_all = async {
        loop {
            match read.read(&mut buf).await {
                Ok(0) | Err(_) => break,
                Ok(n) => answer.extend(&buf[..n]),
            }
            if answer.len() > 4 * MAX_BODY {
                break;
            }
        }
    };
    // A wrong Content-Length leaves the worker waiting for the rest.
    let timed_out = tokio::time::timeout(Duration::from_secs(10), read_all)
        .await
        .is_err();
    writer.abort();
    // Past any interim answer (`100 Continue`).
    let mut answer = &answer[..];
    while answer.starts_with(b"HTTP/1.1 1")
        && let Some(end) = answer.windows(4).position(|w| w == b"\r\n\r\n")
    {
        answer = &answer[end + 4..];
    }
    let status = answer
        .strip_prefix(b"HTTP/1.1 ")
        .and_then(|rest| std::str::from_utf8(rest.get(..3)?).ok())
        .and_then(|s| s.parse().ok());
    match status {
        Some(status) => {
            let body = answer
                .windows(4)
                .position(|w| w == b"\r\n\r\n")
                .map(|i| answer[i + 4..].to_vec())
                .unwrap_or_default();
            Outcome::Answer { status, body }
        }
        None if timed_out => Outcome::NoAnswer("no answer within 10 s".into()),
        None => Outcome::NoAnswer(format!("closed with {} bytes", answer.len())),
    }
}

fn file_config(topic: &str, file: &Path) -> Value {
    json!({
        "connector.class": "org.apache.kafka.connect.file.FileStreamSinkConnector",
        "tasks.max": "1",
        "topics": topic,
        "file": file.display().to_string(),
        "value.converter": "org.apache.kafka.connect.storage.StringConverter",
    })
}

/// The worker's process id: the connect-host process listening on `port`
/// (the harness keeps its `Child` to itself).
fn worker_pid(port: u16) -> Option<u32> {
    let listener = format!("CONNECT_LISTENERS=http://127.0.0.1:{port}");
    std::fs::read_dir("/proc")
        .ok()?
        .flatten()
        .find_map(|entry| {
            let pid: u32 = entry.file_name().to_str()?.parse().ok()?;
            let cmdline = std::fs::read(entry.path().join("cmdline")).ok()?;
            let exe = cmdline.split(|b| *b == 0).next()?;
            if exe != Worker::bin().as_bytes() {
                return None;
            }
            let environ = std::fs::read(entry.path().join("environ")).ok()?;
            environ
                .split(|b| *b == 0)
                .any(|kv| kv == listener.as_bytes())
                .then_some(pid)
        })
}

/// Running, not exited (a zombie has exited: nobody has waited for it yet).
fn alive(pid: u32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .ok()
        .and_then(|stat| {
            let state = stat.rsplit_once(')')?.1.trim_start().chars().next()?;
            Some(state != 'Z' && state != 'X')
        })
        .unwrap_or(false)
}

async fn produce(broker: &Broker, topic: &str, from: usize, n: usize) -> Vec<String> {
    let values: Vec<String> = (from..from + n)
        .map(|i| format!("{topic}-{i:04}"))
        .collect();
    let records = values.iter().map(|v| Rec::value(0, v.clone())).collect();
    kafka::produce(&kafka::producer(&broker.bootstrap()), topic, records).await;
    values
}

async fn wait_lines(file: &Path, expected: &[String]) {
    eventually(
        Duration::from_secs(60),
        &format!("{} to hold {expected:?}", file.display()),
        || async {
            let have = lines(file);
            expected.iter().all(|e| have.contains(e)).then_some(())
        },
    )
    .await;
}

/// A request over a plain socket (reqwest would take `..` in a path as a
/// dot segment): status and JSON body.
async fn raw_call(port: u16, method: &str, target: &str, body: &Value) -> (u16, Value) {
    let request = FuzzRequest {
        raw: true,
        method: method.into(),
        target: target.as_bytes().to_vec(),
        headers: vec![("Content-Type".into(), b"application/json".to_vec())],
        body: body.to_string().into_bytes(),
    };
    match send_raw(port, &request).await {
        Outcome::Answer { status, body } => {
            (status, serde_json::from_slice(&body).unwrap_or(Value::Null))
        }
        Outcome::NoAnswer(why) => panic!("{method} {target}: {why}"),
    }
}

/// Every byte percent-encoded.
fn encode_all(s: &str) -> String {
    s.bytes().map(|b| format!("%{b:02X}")).collect()
}

/// Names the worker must refuse, with what its message says; then odd
/// names it must take as they are, never as paths.
async fn limits_and_names_are_checked(w: &Worker, dir: &Path) {
    let config = file_config("fuzz-t", &dir.join("fuzz-out").join("names.txt"));
    let long = "x".repeat(250);
    let refused: &[(&str, &str)] = &[
        ("a/b", "may not contain '/'"),
        ("../../etc/passwd", "may not contain '/'"),
        ("/abs", "may not contain '/'"),
        ("..", "cannot be addressed"),
        (".", "cannot be addressed"),
        ("   ", "must not be empty"),
        ("tab\there", "control characters"),
        ("nul\0byte", "control characters"),
        ("nel\u{85}", "control characters"),
        ("esc\u{1b}[31m", "control characters"),
        (&long, "at most 249"),
    ];
    for (name, message) in refused {
        let post = w
            .call(
                "POST",
                "/connectors",
                Some(&json!({"name": name, "config": config})),
            )
            .await;
        let put = raw_call(
            w.port,
            "PUT",
            &format!("/connectors/{}/config", encode_all(name)),
            &config,
        )
        .await;
        let mut answers = vec![("POST", post), ("PUT", put)];
        // Unencoded, a '/' makes another path (empty segments are
        // skipped: `/connectors//abs/config` is `abs`'s); the rest is sent.
        if !name.contains('/') {
            let put_raw = raw_call(
                w.port,
                "PUT",
                &format!("/connectors/{name}/config"),
                &config,
            )
            .await;
            answers.push(("PUT unencoded", put_raw));
        }
        for (how, (status, body)) in answers {
            // Controls and spaces in a request line: no request at all.
            if how == "PUT unencoded" && name.chars().any(|c| c.is_control() || c == ' ') {
                assert!(
                    status == 400 || status == 404,
                    "{how} {name:?}: {status} {body}"
                );
                continue;
            }
            assert_eq!(status, 400, "{how} {name:?}: {body}");
            assert_eq!(body["error_code"], 400, "{how} {name:?}: {body}");
            let text = body["message"].as_str().unwrap();
            // A POSTed name is trimmed first: a blank one is no name.
            let blank_post =
                how == "POST" && name.trim().is_empty() && text.contains("must be given");
            assert!(
                text.contains(message) || blank_post,
                "{how} {name:?}: {body} should say {message:?}"
            );
        }
    }
    // Connect trims a POSTed name; the 249-byte topic-name limit is in bytes.
    let x249 = "x".repeat(249);
    for (name, stored) in [
        ("  padded  ", "padded"),
        ("..a", "..a"),
        ("a\\..\\b", "a\\..\\b"),
        ("%2e%2e", "%2e%2e"),
        ("ünïcode-名前", "ünïcode-名前"),
        (x249.as_str(), x249.as_str()),
    ] {
        let (status, body) = w
            .call(
                "POST",
                "/connectors",
                Some(&json!({"name": name, "config": config})),
            )
            .await;
        assert_eq!(
            (status, body["name"].as_str()),
            (201, Some(stored)),
            "{name:?}: {body}"
        );
        let (status, body) = w
            .call("DELETE", &format!("/connectors/{}", encode(stored)), None)
            .await;
        assert_eq!(status, 204, "{stored:?}: {body}");
    }
    // Bodies past 1 MiB and URLs past 8 KiB: Connect's error body, also to
    // a client still sending (the rest of a body up to 8 MiB more is read).
    let huge = json!({"name": "huge", "config": {"x": "h".repeat(MAX_BODY * 3 / 2)}});
    let (status, body) = w.call("POST", "/connectors", Some(&huge)).await;
    assert_eq!(status, 413, "{body}");
    assert_eq!(
        body["message"],
        "Request body is larger than 1048576 bytes, the most this worker reads"
    );
    let (status, body) = w.get(&format!("/connectors/{}", "u".repeat(MAX_URI))).await;
    assert_eq!((status, &body["error_code"]), (414, &json!(414)), "{body}");
    // Offsets of partitions the cluster does not have: the client's mistake.
    let (status, body) = w
        .call(
            "POST",
            "/connectors",
            Some(&json!({"name": "stopped", "config": config, "initial_state": "STOPPED"})),
        )
        .await;
    assert_eq!(status, 201, "{body}");
    for offset in [json!(null), json!({"kafka_offset": 3})] {
        let change = json!({"offsets": [
            {"partition": {"kafka_topic": "fuzz-t", "kafka_partition": 0}, "offset": offset},
            {"partition": {"kafka_topic": "no-such-topic", "kafka_partition": 0}, "offset": offset},
            {"partition": {"kafka_topic": "fuzz-t", "kafka_partition": 7}, "offset": offset},
        ]});
        let (status, body) = w
            .call("PATCH", "/connectors/stopped/offsets", Some(&change))
            .await;
        assert_eq!(
            (status, body["message"].as_str()),
            (
                400,
                Some(
                    "Partitions no-such-topic-0, fuzz-t-7 are not in the Kafka cluster: their offsets cannot be altered"
                )
            ),
            "{body}"
        );
    }
    assert_eq!(w.call("DELETE", "/connectors/stopped", None).await.0, 204);
    // A connector asks for a config per task up front: tasks.max is bounded.
    for tasks in ["1001", "2147483647", "4294967295"] {
        let mut config = config.clone();
        config["tasks.max"] = json!(tasks);
        let (status, body) = w
            .call("PUT", "/connectors/many-tasks/config", Some(&config))
            .await;
        assert_eq!(status, 400, "tasks.max {tasks}: {body}");
        let text = body["message"].as_str().unwrap();
        assert!(
            text.contains(&format!(
                "Invalid value {tasks} for configuration tasks.max: Value must be no more than 1000"
            )),
            "{body}"
        );
    }
    let long = "é".repeat(125);
    let (status, body) = w
        .call(
            "PUT",
            &format!("/connectors/{}/config", encode(&long)),
            Some(&config),
        )
        .await;
    assert_eq!(
        (status, &body["error_code"]),
        (400, &json!(400)),
        "250 bytes in 125 characters: {body}"
    );
}

/// What the worker's directory may hold: nothing a name could have made.
fn assert_no_name_became_a_path(dir: &Path) {
    let allowed = [
        "configs.json",
        "configs.json.tmp",
        "connectors.d",
        "fuzz-out",
        "keep-a.txt",
        "keep-b.txt",
    ];
    for entry in std::fs::read_dir(dir).unwrap().flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        assert!(
            allowed.contains(&name.as_str()) || name.starts_with("worker-"),
            "{name} appeared in the worker's directory"
        );
    }
    assert_eq!(
        std::fs::read_dir(dir.join("connectors.d")).unwrap().count(),
        0,
        "connectors.d/ is only read"
    );
    for entry in std::fs::read_dir(dir.join("fuzz-out")).unwrap().flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        assert!(
            name.starts_with("out-") || name == "names.txt",
            "fuzz-out/{name}"
        );
    }
    // The store is one JSON file; every name in it is a key, not a path.
    let store: Value =
        serde_json::from_slice(&std::fs::read(dir.join("configs.json")).unwrap()).unwrap();
    assert!(store["connectors"].is_object(), "{store}");
    assert!(!Path::new("/etc/passwd.json").exists() && !Path::new("/abs").exists());
}

#[tokio::test(flavor = "multi_thread")]
async fn ten_thousand_generated_requests_never_break_the_worker() {
    let seed: u64 = std::env::var("REST_FUZZ_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| {
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap()
                .as_nanos() as u64
        });
    let count: usize = std::env::var("REST_FUZZ_REQUESTS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(10_000);
    println!("rest_fuzz seed: {seed} (REST_FUZZ_SEED={seed} replays this run)");

    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let out_dir = dir.join("fuzz-out");
    std::fs::create_dir_all(&out_dir).unwrap();
    let broker = Broker::start();
    for topic in ["keep-a-topic", "keep-b-topic", "fuzz-t"] {
        kafka::create_topic(&broker.bootstrap(), topic, 1).await;
    }
    let w = Worker::start(&broker.bootstrap(), dir, &[]).await;
    let pid = worker_pid(w.port).expect("the worker's process");

    // Two real connectors, with records flowing.
    let mut kept = BTreeMap::new();
    for name in KEPT {
        let topic = format!("{name}-topic");
        let file = dir.join(format!("{name}.txt"));
        let (status, body) = w
            .call(
                "PUT",
                &format!("/connectors/{name}/config"),
                Some(&file_config(&topic, &file)),
            )
            .await;
        assert_eq!(status, 201, "{body}");
        w.wait_state(name, "RUNNING", 1).await;
        let values = produce(&broker, &topic, 0, 5).await;
        wait_lines(&file, &values).await;
        let (_, config) = w.get(&format!("/connectors/{name}/config")).await;
        let (_, status) = w.get(&format!("/connectors/{name}/status")).await;
        println!("kept {name}: config {config}, status {status}");
        kept.insert(name, (topic, file, config));
    }

    limits_and_names_are_checked(&w, dir).await;

    // What to generate from: the document, the plugins and their keys, the loggers.
    let (status, doc) = w.get("/openapi.json").await;
    assert_eq!(status, 200);
    assert_eq!(doc["openapi"], "3.1.0");
    let ops = operations(&doc);
    assert!(ops.len() >= 30, "{} operations", ops.len());
    let (_, plugins) = w.get("/connector-plugins?connectorsOnly=false").await;
    let plugins: Vec<String> = plugins
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["class"].as_str().unwrap().to_string())
        .chain(["FileStreamSink", "qdrant-embedding", "FlakySink"].map(String::from))
        .collect();
    let (_, keys) = w.get("/connector-plugins/FileStreamSink/config").await;
    let config_keys: Vec<String> = keys
        .as_array()
        .unwrap()
        .iter()
        .map(|k| k["name"].as_str().unwrap().to_string())
        .collect();
    let (_, loggers) = w.get("/admin/loggers").await;
    let loggers: Vec<String> = loggers.as_object().unwrap().keys().cloned().collect();
    let mut generator = Generator {
        rng: Rng(seed),
        doc,
        ops,
        names: names(),
        odd: odd_strings(),
        plugins,
        loggers,
        config_keys,
        out_dir: out_dir.clone(),
        worker_id: format!("127.0.0.1:{}", w.port),
    };
    let requests: Vec<FuzzRequest> = (0..count).map(|_| generator.request()).collect();

    // The run.
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(20))
        .build()
        .unwrap();
    let port = w.port;
    let requests = Arc::new(requests);
    let started = Instant::now();
    let outcomes: Vec<(usize, Outcome)> = futures::stream::iter(0..requests.len())
        .map(|i| {
            let client = client.clone();
            let requests = requests.clone();
            async move { (i, send(&client, port, &requests[i]).await) }
        })
        .buffer_unordered(IN_FLIGHT)
        .collect()
        .await;
    let elapsed = started.elapsed();

    // Figures.
    let mut by_status: BTreeMap<String, usize> = BTreeMap::new();
    let mut server_errors = Vec::new();
    let mut bad_error_bodies = Vec::new();
    let mut no_answer = Vec::new();
    for (i, outcome) in &outcomes {
        let r = &requests[*i];
        match outcome {
            Outcome::Answer { status, body } => {
                *by_status.entry(status.to_string()).or_default() += 1;
                if std::env::var("REST_FUZZ_DUMP").is_ok() {
                    eprintln!(
                        "DUMP {status} {} {}",
                        String::from_utf8_lossy(&body[..body.len().min(300)]),
                        r.describe().chars().take(300).collect::<String>()
                    );
                }
                if *status >= 500 {
                    server_errors.push(format!(
                        "#{i} {status} {} ← {}",
                        String::from_utf8_lossy(body),
                        r.describe()
                    ));
                }
                // Every error the API answers carries Connect's body (hyper's
                // own 400 for an unparseable request has none).
                if *status >= 400 && !body.is_empty() && r.method != "HEAD" {
                    let fits = serde_json::from_slice::<Value>(body).is_ok_and(|v| {
                        v["error_code"] == *status
                            && v["message"].is_string()
                            && v.as_object().is_some_and(|o| o.len() == 2)
                    });
                    if !fits {
                        bad_error_bodies.push(format!(
                            "#{i} {status} {} ← {}",
                            String::from_utf8_lossy(body),
                            r.describe()
                        ));
                    }
                }
            }
            Outcome::NoAnswer(why) => {
                *by_status.entry("no answer".into()).or_default() += 1;
                // A malformed request may be dropped; a well-formed one not.
                if !r.raw {
                    no_answer.push(format!("#{i} {why} ← {}", r.describe()));
                }
            }
        }
    }
    println!(
        "rest_fuzz: {} requests in {:.1} s ({:.0} requests/s, {IN_FLIGHT} in flight), seed {seed}",
        outcomes.len(),
        elapsed.as_secs_f64(),
        outcomes.len() as f64 / elapsed.as_secs_f64()
    );
    println!("rest_fuzz: answers by status: {by_status:?}");

    // The worker lives, and logged no panic.
    assert!(alive(pid), "the worker process exited:\n{}", w.log());
    let (status, _) = w.get("/health").await;
    assert_eq!(status, 200);
    let panics: Vec<String> = w
        .log()
        .lines()
        .filter(|l| l.contains("panicked"))
        .map(String::from)
        .collect();
    assert!(
        server_errors.is_empty()
            && bad_error_bodies.is_empty()
            && no_answer.is_empty()
            && panics.is_empty(),
        "seed {seed}: {} 5xx answers, {} error bodies not Connect's, {} well-formed requests unanswered, {} panics logged; the first few:\n{}\n{}\n{}\n{}",
        server_errors.len(),
        bad_error_bodies.len(),
        no_answer.len(),
        panics.len(),
        server_errors
            .iter()
            .take(8)
            .cloned()
            .collect::<Vec<_>>()
            .join("\n"),
        bad_error_bodies
            .iter()
            .take(8)
            .cloned()
            .collect::<Vec<_>>()
            .join("\n"),
        no_answer
            .iter()
            .take(8)
            .cloned()
            .collect::<Vec<_>>()
            .join("\n"),
        panics
            .iter()
            .take(8)
            .cloned()
            .collect::<Vec<_>>()
            .join("\n"),
    );

    // The kept connectors: there, unchanged, RUNNING, and records flow.
    for (name, (topic, file, config)) in &kept {
        let (status, now) = w.get(&format!("/connectors/{name}/config")).await;
        assert_eq!((status, &now), (200, config), "{name}'s config");
        w.wait_state(name, "RUNNING", 1).await;
        let values = produce(&broker, topic, 5, 5).await;
        wait_lines(file, &values).await;
    }
    assert!(alive(pid), "the worker process exited:\n{}", w.log());
    assert_no_name_became_a_path(dir);
}
