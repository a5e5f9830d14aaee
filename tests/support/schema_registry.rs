//! A small Confluent Schema Registry for tests: the endpoints that
//! Confluent's serializers and our converters use, Confluent's error codes
//! and content type, a request counter, and an outage switch.
//!
//! - `POST /subjects/{s}/versions`: register (same schema text, same id);
//! - `POST /subjects/{s}`: look a schema up under a subject (40401, 40403);
//! - `GET /schemas/ids/{id}`: a schema by id (40403);
//! - `GET /schemas/guids/{guid}`: a schema by its GUID (Confluent 8; 40403);
//!   every schema has one, derived from its id ([`guid`]);
//! - `GET /subjects/{s}/versions/{v|latest}`: a subject version (40401, 40402);
//! - `GET /subjects`: the subjects.
//!
//! Optionally over TLS and requiring HTTP basic credentials, like a secured
//! registry ([`SchemaRegistry::start_secured`]).

use std::collections::BTreeMap;
use std::convert::Infallible;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use http_body_util::{BodyExt, Full};
use hyper::body::{Bytes, Incoming};
use hyper::{Request, Response};
use serde_json::{Value, json};

const CONTENT_TYPE: &str = "application/vnd.schemaregistry.v1+json";

#[derive(Default)]
struct State {
    /// id → (schema text, schema type, references).
    schemas: BTreeMap<u32, (String, String, Value)>,
    /// subject → versions, each a schema id.
    subjects: BTreeMap<String, Vec<u32>>,
}

pub struct SchemaRegistry {
    pub url: String,
    /// What a client needs: the CA to trust and the credentials, if secured.
    pub ca: Option<std::path::PathBuf>,
    pub user_info: Option<String>,
    state: Arc<Mutex<State>>,
    requests: Arc<AtomicU64>,
    down: Arc<AtomicBool>,
    server: tokio::task::JoinHandle<()>,
}

impl Drop for SchemaRegistry {
    fn drop(&mut self) {
        self.server.abort();
    }
}

impl SchemaRegistry {
    pub async fn start() -> Self {
        Self::start_secured(None, None).await
    }

    /// Serve HTTPS with `pki`'s server certificate when set, and answer
    /// 401 to requests without the basic credentials `user_info`
    /// (`user:password`) when that is set.
    pub async fn start_secured(pki: Option<&super::tls::Pki>, user_info: Option<&str>) -> Self {
        let acceptor = pki.map(|pki| {
            let (cert, key) = (&pki.cert, &pki.key);
            use rustls::pki_types::pem::PemObject;
            let chain = rustls::pki_types::CertificateDer::pem_file_iter(cert)
                .unwrap()
                .collect::<Result<Vec<_>, _>>()
                .unwrap();
            let key = rustls::pki_types::PrivateKeyDer::from_pem_file(key).unwrap();
            let config = rustls::ServerConfig::builder_with_provider(Arc::new(
                rustls::crypto::ring::default_provider(),
            ))
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_no_client_auth()
            .with_single_cert(chain, key)
            .unwrap();
            tokio_rustls::TlsAcceptor::from(Arc::new(config))
        });
        let expected_auth: Option<Arc<str>> = user_info.map(|u| {
            use base64::Engine as _;
            format!(
                "Basic {}",
                base64::engine::general_purpose::STANDARD.encode(u)
            )
            .into()
        });
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let scheme = if acceptor.is_some() { "https" } else { "http" };
        let url = format!("{scheme}://{}", listener.local_addr().unwrap());
        let state = Arc::new(Mutex::new(State::default()));
        let requests = Arc::new(AtomicU64::new(0));
        let down = Arc::new(AtomicBool::new(false));
        let (s, r, d) = (state.clone(), requests.clone(), down.clone());
        let server = tokio::spawn(async move {
            loop {
                let Ok((stream, _)) = listener.accept().await else {
                    return;
                };
                let (s, r, d) = (s.clone(), r.clone(), d.clone());
                let (acceptor, auth) = (acceptor.clone(), expected_auth.clone());
                tokio::spawn(async move {
                    let service = hyper::service::service_fn(move |req| {
                        let (s, r, d, auth) = (s.clone(), r.clone(), d.clone(), auth.clone());
                        async move {
                            let authorized = auth.as_deref().is_none_or(|expected| {
                                req.headers()
                                    .get("authorization")
                                    .and_then(|h| h.to_str().ok())
                                    == Some(expected)
                            });
                            if !authorized {
                                r.fetch_add(1, Ordering::SeqCst);
                                return Ok::<_, Infallible>(error(401, 401, "Unauthorized".into()));
                            }
                            Ok::<_, Infallible>(handle(req, &s, &r, &d).await)
                        }
                    });
                    let http = hyper::server::conn::http1::Builder::new();
                    let _ = match acceptor {
                        Some(acceptor) => match acceptor.accept(stream).await {
                            Ok(tls) => {
                                http.serve_connection(hyper_util::rt::TokioIo::new(tls), service)
                                    .await
                            }
                            Err(_) => return,
                        },
                        None => {
                            http.serve_connection(hyper_util::rt::TokioIo::new(stream), service)
                                .await
                        }
                    };
                });
            }
        });
        Self {
            url,
            ca: pki.map(|p| p.ca.clone()),
            user_info: user_info.map(str::to_string),
            state,
            requests,
            down,
            server,
        }
    }

    /// Requests answered so far (an outage's 503s included).
    pub fn requests(&self) -> u64 {
        self.requests.load(Ordering::SeqCst)
    }

    /// While down, every request gets 503 with error code 50003.
    pub fn set_down(&self, down: bool) {
        self.down.store(down, Ordering::SeqCst);
    }

    /// The ids registered so far.
    pub fn ids(&self) -> Vec<u32> {
        self.state.lock().unwrap().schemas.keys().copied().collect()
    }
}

fn reply(status: u16, body: Value) -> Response<Full<Bytes>> {
    Response::builder()
        .status(status)
        .header("Content-Type", CONTENT_TYPE)
        .body(Full::new(Bytes::from(body.to_string())))
        .unwrap()
}

fn error(status: u16, code: u32, message: String) -> Response<Full<Bytes>> {
    reply(status, json!({"error_code": code, "message": message}))
}

async fn handle(
    req: Request<Incoming>,
    state: &Mutex<State>,
    requests: &AtomicU64,
    down: &AtomicBool,
) -> Response<Full<Bytes>> {
    requests.fetch_add(1, Ordering::SeqCst);
    if down.load(Ordering::SeqCst) {
        return error(
            503,
            50003,
            "Error while forwarding the request to the leader".into(),
        );
    }
    let method = req.method().clone();
    let path = req.uri().path().to_string();
    let body = req
        .into_body()
        .collect()
        .await
        .map(|b| b.to_bytes())
        .unwrap_or_default();
    let body: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    let parts: Vec<String> = path
        .trim_matches('/')
        .split('/')
        .map(percent_decode)
        .collect();
    let parts: Vec<&str> = parts.iter().map(String::as_str).collect();
    let mut st = state.lock().unwrap();
    match (method.as_str(), parts.as_slice()) {
        ("GET", ["subjects"]) => reply(200, json!(st.subjects.keys().collect::<Vec<_>>())),
        ("GET", ["schemas", kind @ ("ids" | "guids"), id]) => {
            let number = if *kind == "ids" {
                id.parse().ok()
            } else {
                st.schemas.keys().copied().find(|n| guid(*n) == *id)
            };
            let Some((schema, kind, refs)) = number.and_then(|id: u32| st.schemas.get(&id)) else {
                return error(404, 40403, format!("Schema {id} not found"));
            };
            let mut out = json!({"schema": schema});
            if kind != "AVRO" {
                out["schemaType"] = json!(kind);
            }
            if refs.as_array().is_some_and(|r| !r.is_empty()) {
                out["references"] = refs.clone();
            }
            reply(200, out)
        }
        ("POST", ["subjects", subject, "versions"]) => {
            let Some(schema) = body.get("schema").and_then(Value::as_str) else {
                return error(422, 42201, "Empty schema".into());
            };
            let kind = body
                .get("schemaType")
                .and_then(Value::as_str)
                .unwrap_or("AVRO")
                .to_string();
            let refs = body.get("references").cloned().unwrap_or(json!([]));
            let id = match st
                .schemas
                .iter()
                .find(|(_, (s, k, _))| s == schema && *k == kind)
            {
                Some((id, _)) => *id,
                None => {
                    let id = st.schemas.len() as u32 + 1;
                    st.schemas.insert(id, (schema.to_string(), kind, refs));
                    id
                }
            };
            let versions = st.subjects.entry(subject.to_string()).or_default();
            if !versions.contains(&id) {
                versions.push(id);
            }
            reply(200, json!({"id": id, "guid": guid(id)}))
        }
        ("POST", ["subjects", subject]) => {
            let Some(versions) = st.subjects.get(*subject) else {
                return error(404, 40401, format!("Subject '{subject}' not found."));
            };
            let schema = body.get("schema").and_then(Value::as_str).unwrap_or("");
            match versions
                .iter()
                .enumerate()
                .find(|(_, id)| st.schemas[id].0 == schema)
            {
                Some((i, id)) => reply(
                    200,
                    json!({"subject": subject, "id": id, "version": i + 1, "schema": schema}),
                ),
                None => error(404, 40403, "Schema not found".into()),
            }
        }
        ("GET", ["subjects", subject, "versions", version]) => {
            let Some(versions) = st.subjects.get(*subject) else {
                return error(404, 40401, format!("Subject '{subject}' not found."));
            };
            let index = match *version {
                "latest" => versions.len().checked_sub(1),
                v => v.parse::<usize>().ok().and_then(|v| v.checked_sub(1)),
            };
            let Some((i, id)) = index.and_then(|i| versions.get(i).map(|id| (i, *id))) else {
                return error(404, 40402, format!("Version {version} not found."));
            };
            let (schema, kind, refs) = &st.schemas[&id];
            reply(
                200,
                json!({"subject": subject, "id": id, "version": i + 1, "schema": schema,
                       "schemaType": kind, "references": refs}),
            )
        }
        _ => error(404, 404, format!("HTTP 404 Not Found: {method} {path}")),
    }
}

/// The GUID of schema `id`: fixed per id, as a registry's is per schema.
pub fn guid(id: u32) -> String {
    format!("{id:08x}-5c4e-4d1a-9b7e-0c0ffee00000")
}

fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%'
            && i + 2 < bytes.len()
            && let Ok(b) = u8::from_str_radix(&s[i + 1..i + 3], 16)
        {
            out.push(b);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}
