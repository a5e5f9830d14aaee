//! A Confluent Schema Registry client for the registry converters: schemas
//! by id, read once and cached.
//!
//! - The cache is bounded (`schemas.cache.config` entries, least recently
//!   used out first) and holds each converter's parsed form of a schema.
//! - One fetch per id is in flight at a time, however many records wait.
//! - An id the registry does not know is remembered for [`NEGATIVE_TTL`], so
//!   a topic full of bad ids does not hammer the registry.
//! - Unreachable, timing out or failing (5xx, auth) is [`RegistryError::Unavailable`]:
//!   the task backs off and retries; records are never dead-lettered for it.

use std::collections::{BTreeMap, HashMap};
use std::num::NonZeroUsize;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use base64::Engine as _;
use connect_api::schema::{Field, Schema, SchemaKind};
use futures::FutureExt as _;
use futures::future::{BoxFuture, Shared};
use serde::Deserialize;

use super::{ConversionError, ConverterConfigError, Prepare};

/// How long an unknown schema id is remembered as unknown.
pub const NEGATIVE_TTL: Duration = Duration::from_secs(30);
/// One request to the registry gives up after this long.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(10);

#[derive(Debug, Clone, thiserror::Error)]
pub enum RegistryError {
    /// The registry answered that the id or subject does not exist.
    #[error("{message} (error code {code})")]
    NotFound { code: i64, message: String },
    /// The registry cannot be used now: retry later.
    #[error("{0}")]
    Unavailable(String),
    /// The registry's answer cannot be used (a schema that does not parse).
    #[error("{0}")]
    Invalid(String),
}

/// A schema as `GET /schemas/ids/{id}` returns it.
#[derive(Debug, Clone, Deserialize)]
pub struct RegisteredSchema {
    pub schema: String,
    /// AVRO when absent, as the registry leaves it out for Avro.
    #[serde(rename = "schemaType", default = "avro")]
    pub schema_type: String,
    #[serde(default)]
    pub references: Vec<Reference>,
}

fn avro() -> String {
    "AVRO".into()
}

#[derive(Debug, Clone, Deserialize)]
pub struct Reference {
    pub name: String,
    pub subject: String,
    pub version: i32,
}

/// A subject version, as `GET /subjects/{s}/versions/{v}` and
/// `POST /subjects/{s}` return it.
#[derive(Debug, Clone, Deserialize)]
pub struct SubjectVersion {
    pub version: i32,
    #[serde(default)]
    pub schema: String,
    #[serde(default)]
    pub references: Vec<Reference>,
}

#[derive(Deserialize)]
struct ErrorBody {
    error_code: i64,
    message: String,
}

/// The registry settings of one converter (under `value.converter.` or
/// `key.converter.`), as Confluent's `AbstractKafkaSchemaSerDeConfig` names them.
#[derive(Debug, Clone)]
pub struct RegistryConfig {
    /// Base URLs, user info taken out (it becomes `authorization`).
    pub urls: Vec<String>,
    /// TLS for `https://` registries (`schema.registry.ssl.*`).
    pub tls: Arc<rustls::ClientConfig>,
    /// `Authorization` value for every request, from the basic or bearer settings.
    pub authorization: Option<String>,
    pub cache_capacity: NonZeroUsize,
}

impl RegistryConfig {
    pub fn from_props(props: &connect_api::ConfigMap) -> Result<Self, ConverterConfigError> {
        // Every setting read here is listed in SETTINGS (the task's log
        // names the others as unread).
        let get = |key: &str| {
            debug_assert!(SETTINGS.contains(&key), "{key} missing from SETTINGS");
            props.get(key)
        };
        let invalid = |key: &'static str, value: &str, reason: &'static str| {
            ConverterConfigError::InvalidValue {
                key,
                value: value.to_string(),
                reason,
            }
        };
        let urls: Vec<String> = get("schema.registry.url")
            .map(|v| crate::transforms::split_list(v))
            .unwrap_or_default()
            .into_iter()
            .map(|u| u.trim_end_matches('/').to_string())
            .collect();
        if urls.is_empty() {
            return Err(ConverterConfigError::Missing {
                key: "schema.registry.url",
            });
        }
        for url in &urls {
            if !url.starts_with("http://") && !url.starts_with("https://") {
                // (Its user info is a secret.)
                let shown = match user_info(url) {
                    Some(info) => url.replacen(info, crate::config_provider::HIDDEN, 1),
                    None => url.clone(),
                };
                return Err(invalid(
                    "schema.registry.url",
                    &shown,
                    "not an http:// or https:// URL",
                ));
            }
        }
        let source = get("basic.auth.credentials.source").map(|s| s.trim().to_ascii_uppercase());
        let basic = |user_info: &str| {
            let encoded = base64::engine::general_purpose::STANDARD.encode(user_info);
            Some(format!("Basic {encoded}"))
        };
        // Confluent's client reads the deprecated name first.
        let user_info_setting = get("schema.registry.basic.auth.user.info")
            .filter(|v| !v.is_empty())
            .map(|v| ("schema.registry.basic.auth.user.info", v))
            .or_else(|| get("basic.auth.user.info").map(|v| ("basic.auth.user.info", v)));
        let mut authorization = match source.as_deref() {
            // URL, Confluent's default, sends nothing when the URL holds no
            // user info.
            None | Some("" | "URL") => user_info(&urls[0]).and_then(basic),
            Some("USER_INFO") => match user_info_setting {
                Some((_, info)) if info.contains(':') => basic(info),
                Some((key, _)) => {
                    return Err(ConverterConfigError::InvalidValue {
                        key,
                        // Never the secret itself.
                        value: crate::config_provider::HIDDEN.to_string(),
                        reason: "expected <user>:<password>",
                    });
                }
                None => {
                    return Err(ConverterConfigError::Missing {
                        key: "basic.auth.user.info",
                    });
                }
            },
            Some(other) => {
                return Err(invalid(
                    "basic.auth.credentials.source",
                    other,
                    "supported: USER_INFO, URL",
                ));
            }
        };
        if let Some(token) = get("bearer.auth.token").filter(|t| !t.trim().is_empty()) {
            let source = get("bearer.auth.credentials.source")
                .map_or("STATIC_TOKEN".into(), |s| s.trim().to_ascii_uppercase());
            if source != "STATIC_TOKEN" {
                return Err(invalid(
                    "bearer.auth.credentials.source",
                    &source,
                    "supported: STATIC_TOKEN",
                ));
            }
            authorization = Some(format!("Bearer {}", token.trim()));
        }
        let tls = tls_config(props)?;
        let urls = urls
            .iter()
            .map(|u| match user_info(u) {
                Some(info) => u.replacen(&format!("{info}@"), "", 1),
                None => u.clone(),
            })
            .collect();
        let cache_capacity = match get("schemas.cache.config") {
            None => NonZeroUsize::new(1000).expect("non-zero"),
            Some(v) => v
                .trim()
                .parse::<usize>()
                .ok()
                .and_then(NonZeroUsize::new)
                .ok_or_else(|| invalid("schemas.cache.config", v, "expected a positive integer"))?,
        };
        Ok(Self {
            urls,
            tls,
            authorization,
            cache_capacity,
        })
    }
}

/// The registry client settings of Confluent's converters
/// (`AbstractKafkaSchemaSerDeConfig`, `AbstractDataConfig`) that this host
/// reads, as `GET /connector-plugins/{converter}/config` serves them; the
/// PASSWORD ones are masked like a connector's.
#[derive(schemars::JsonSchema)]
#[allow(dead_code)]
pub(super) struct RegistryClientConfig {
    /// Comma-separated list of URLs for schema registry instances that can be used to look up schemas (http:// or https://, tried in order).
    #[schemars(rename = "schema.registry.url", extend("x-connect-type" = "LIST", "x-importance" = "HIGH"))]
    url: String,
    /// Specify how to pick the credentials for Basic Auth header. The supported values are URL and USER_INFO.
    #[schemars(rename = "basic.auth.credentials.source", default = "url_source", extend("x-importance" = "MEDIUM"))]
    basic_auth_credentials_source: String,
    /// Specify the user info for Basic Auth in the form of {username}:{password}
    #[schemars(rename = "basic.auth.user.info", default, extend("writeOnly" = true, "x-importance" = "MEDIUM"))]
    basic_auth_user_info: String,
    /// Deprecated name of basic.auth.user.info, read first when set.
    #[schemars(rename = "schema.registry.basic.auth.user.info", default, extend("writeOnly" = true, "x-importance" = "MEDIUM"))]
    schema_registry_basic_auth_user_info: String,
    /// Specify how to pick the credentials for Bearer Auth header. The supported value is STATIC_TOKEN.
    #[schemars(rename = "bearer.auth.credentials.source", default = "static_token", extend("x-importance" = "MEDIUM"))]
    bearer_auth_credentials_source: String,
    /// Specify the Bearer token to be used for authentication
    #[schemars(rename = "bearer.auth.token", default, extend("writeOnly" = true, "x-importance" = "MEDIUM"))]
    bearer_auth_token: String,
    /// Size of the converted schemas cache
    #[schemars(rename = "schemas.cache.config", default = "super::thousand", extend("x-connect-type" = "INT", "x-importance" = "LOW"))]
    schemas_cache_config: i32,
    /// The location of the trust store file: PEM certificates of the CAs an https:// registry is checked against (default: the system's).
    #[schemars(rename = "schema.registry.ssl.truststore.location", default, extend("x-importance" = "HIGH"))]
    truststore_location: String,
    /// The file format of the trust store file; this host reads PEM.
    #[schemars(rename = "schema.registry.ssl.truststore.type", default = "pem", extend("x-importance" = "MEDIUM"))]
    truststore_type: String,
    /// The location of the key store file: a PEM file with the client certificate chain and its unencrypted key.
    #[schemars(rename = "schema.registry.ssl.keystore.location", default, extend("x-importance" = "HIGH"))]
    keystore_location: String,
    /// The file format of the key store file; this host reads PEM.
    #[schemars(rename = "schema.registry.ssl.keystore.type", default = "pem", extend("x-importance" = "MEDIUM"))]
    keystore_type: String,
    /// The endpoint identification algorithm to validate server hostname using server certificate; this host always verifies it (https).
    #[schemars(rename = "schema.registry.ssl.endpoint.identification.algorithm", default = "https", extend("x-importance" = "LOW"))]
    endpoint_identification_algorithm: String,
}

fn url_source() -> String {
    "URL".into()
}
fn static_token() -> String {
    "STATIC_TOKEN".into()
}
fn pem() -> String {
    "PEM".into()
}
fn https() -> String {
    "https".into()
}

/// The `user:password` of a URL's authority, if it has one.
fn user_info(url: &str) -> Option<&str> {
    let rest = url.split_once("://")?.1;
    let authority = rest.split('/').next()?;
    authority.rsplit_once('@').map(|(info, _)| info)
}

/// The settings [`RegistryConfig::from_props`] reads, besides
/// `schema.registry.ssl.*` (read, or refused when unsupported).
pub(super) const SETTINGS: &[&str] = &[
    "schema.registry.url",
    "basic.auth.credentials.source",
    "basic.auth.user.info",
    "schema.registry.basic.auth.user.info",
    "bearer.auth.credentials.source",
    "bearer.auth.token",
    "schemas.cache.config",
];

/// Connect's markers of a union struct and an enum under
/// `generalized.sum.type.support` (Confluent's `ConnectUnion` and
/// `ConnectEnum`), shared by the three registry converters.
pub(super) const CONNECT_UNION: &str = "org.apache.kafka.connect.data.Union";
pub(super) const CONNECT_ENUM: &str = "org.apache.kafka.connect.data.Enum";

/// `generalized.sum.type.support`'s name for the `n`th union struct a
/// converter meets (Confluent's `GENERALIZED_TYPE_UNION_PREFIX`).
pub(super) fn generalized_union(n: usize) -> String {
    format!("connect_union_{n}")
}

/// `generalized.sum.type.support`'s name for a union struct's field of
/// branch `i` (Confluent's `GENERALIZED_TYPE_UNION_FIELD_PREFIX`).
pub(super) fn generalized_union_field(i: usize) -> String {
    format!("connect_union_field_{i}")
}

/// The struct a general union becomes in AvroData and JsonSchemaData: one
/// field per non-null branch, named `name` (and marked as Connect's
/// `Union` under `generalized.sum.type.support`), optional when a branch
/// is `null`.
pub(super) fn union_struct(
    fields: Vec<Field>,
    name: String,
    generalized: bool,
    nullable: bool,
) -> Schema {
    let mut schema = Schema::new(SchemaKind::Struct(fields)).named(name.clone());
    if generalized {
        schema = schema.parameter(CONNECT_UNION, name);
    }
    schema.optional = nullable;
    schema
}

/// The parameters AvroData and JsonSchemaData mark an enum's STRING schema
/// with: `marker` naming the enum, and `<marker>.<symbol>` per symbol,
/// valued by the symbol; under `generalized.sum.type.support` the marker is
/// Connect's `Enum` instead of the converter's `own`, and each symbol is
/// valued by its index.
pub(super) fn enum_parameters(
    parameters: &mut BTreeMap<String, String>,
    own: &str,
    generalized: bool,
    name: &str,
    symbols: impl IntoIterator<Item = String>,
) {
    let marker = if generalized { CONNECT_ENUM } else { own };
    parameters.insert(marker.to_string(), name.to_string());
    for (i, symbol) in symbols.into_iter().enumerate() {
        let value = if generalized {
            i.to_string()
        } else {
            symbol.clone()
        };
        parameters.insert(format!("{marker}.{symbol}"), value);
    }
}

/// A boolean converter setting, read as Java's `Boolean.parseBoolean`
/// reads it; `read` is the converter's list of settings it reads (the
/// task's log names the others as unread), checked in debug builds.
pub(super) fn flag(
    props: &connect_api::ConfigMap,
    read: &[&str],
    key: &str,
    default: bool,
) -> bool {
    debug_assert!(
        read.contains(&key),
        "{key} missing from the converter's SETTINGS"
    );
    props
        .get(key)
        .map_or(default, |v| v.trim().eq_ignore_ascii_case("true"))
}

/// The `schema.registry.ssl.*` settings this host reads: PEM files, as
/// Kafka's `ssl.*.type=PEM`. Any other one is refused, not ignored.
pub(super) const SSL_SETTINGS: &[&str] = &[
    "schema.registry.ssl.truststore.location",
    "schema.registry.ssl.truststore.type",
    "schema.registry.ssl.keystore.location",
    "schema.registry.ssl.keystore.type",
    "schema.registry.ssl.endpoint.identification.algorithm",
];

/// TLS for https registries: the PEM truststore's CAs (else the system's),
/// and the PEM keystore's certificate and key when the registry asks for
/// a client certificate.
fn tls_config(
    props: &connect_api::ConfigMap,
) -> Result<Arc<rustls::ClientConfig>, ConverterConfigError> {
    let unsupported = |key: &str, reason: &'static str| ConverterConfigError::Unsupported {
        key: key.to_string(),
        reason,
    };
    for (key, value) in props {
        if key.starts_with("schema.registry.ssl.")
            && !value.trim().is_empty()
            && !SSL_SETTINGS.contains(&key.as_str())
        {
            return Err(unsupported(
                key,
                "not supported: this host reads schema.registry.ssl.{truststore,keystore}.location \
                 (PEM) and .endpoint.identification.algorithm=https",
            ));
        }
    }
    for key in [
        "schema.registry.ssl.truststore.type",
        "schema.registry.ssl.keystore.type",
    ] {
        let not_pem = |t: &&String| !t.trim().is_empty() && !t.trim().eq_ignore_ascii_case("PEM");
        if props.get(key).filter(not_pem).is_some() {
            return Err(unsupported(
                key,
                "only PEM files are supported (no JKS or PKCS12)",
            ));
        }
    }
    if let Some(algorithm) = props.get("schema.registry.ssl.endpoint.identification.algorithm")
        && !algorithm.trim().eq_ignore_ascii_case("https")
    {
        return Err(unsupported(
            "schema.registry.ssl.endpoint.identification.algorithm",
            "the registry's host name is always verified (https)",
        ));
    }
    let file = |key: &str| {
        props
            .get(key)
            .filter(|v| !v.trim().is_empty())
            .map(|v| (key.to_string(), std::path::PathBuf::from(v.trim())))
    };
    let truststore = file("schema.registry.ssl.truststore.location");
    let keystore = file("schema.registry.ssl.keystore.location");
    crate::tls::client_config(truststore.as_ref(), keystore.as_ref().map(|k| (k, k)))
        .map_err(|e| ConverterConfigError::Tls(e.to_string()))
}

/// The HTTP side: requests to the first registry URL that answers.
#[derive(Clone)]
pub struct RegistryClient {
    config: Arc<RegistryConfig>,
}

impl RegistryClient {
    pub fn new(config: RegistryConfig) -> Self {
        Self {
            config: Arc::new(config),
        }
    }

    /// A schema by its id (`/schemas/ids/`) or, Confluent 8, its GUID
    /// (`/schemas/guids/`).
    pub async fn schema(
        &self,
        at: SchemaRef,
        serialized: bool,
    ) -> Result<RegisteredSchema, RegistryError> {
        let query = if serialized { "?format=serialized" } else { "" };
        let path = match at {
            SchemaRef::Id(id) => format!("/schemas/ids/{id}"),
            SchemaRef::Guid(guid) => format!("/schemas/guids/{}", uuid::Uuid::from_bytes(guid)),
        };
        self.get(&format!("{path}{query}")).await
    }

    pub async fn subject_version(
        &self,
        subject: &str,
        version: i32,
        serialized: bool,
    ) -> Result<SubjectVersion, RegistryError> {
        let query = if serialized { "?format=serialized" } else { "" };
        self.get(&format!(
            "/subjects/{}/versions/{version}{query}",
            encode(subject)
        ))
        .await
    }

    /// The texts of every schema `references` names, transitively, with the
    /// name each is imported under; dependencies first.
    pub async fn fetch_references(
        &self,
        references: &[Reference],
        serialized: bool,
    ) -> Result<Vec<(String, String)>, RegistryError> {
        let mut out = Vec::new();
        let mut todo: Vec<Reference> = references.to_vec();
        let mut seen = std::collections::HashSet::new();
        while let Some(reference) = todo.pop() {
            if !seen.insert((reference.subject.clone(), reference.version)) {
                continue;
            }
            let found = self
                .subject_version(&reference.subject, reference.version, serialized)
                .await?;
            todo.extend(found.references.iter().cloned());
            out.insert(0, (reference.name, found.schema));
        }
        Ok(out)
    }

    /// The version of `schema` under `subject` (`POST /subjects/{s}`), which
    /// sets the Connect schema's version. Best-effort: callers ignore errors.
    pub async fn lookup_version(
        &self,
        subject: &str,
        schema: &RegisteredSchema,
    ) -> Result<i32, RegistryError> {
        let mut body = serde_json::json!({ "schema": schema.schema });
        if schema.schema_type != "AVRO" {
            body["schemaType"] = schema.schema_type.clone().into();
        }
        if !schema.references.is_empty() {
            body["references"] = schema
                .references
                .iter()
                .map(|r| serde_json::json!({"name": r.name, "subject": r.subject, "version": r.version}))
                .collect();
        }
        let found: SubjectVersion = self
            .send(
                hyper::Method::POST,
                &format!("/subjects/{}", encode(subject)),
                Some(body.to_string()),
            )
            .await?;
        Ok(found.version)
    }

    async fn get<T: serde::de::DeserializeOwned>(&self, path: &str) -> Result<T, RegistryError> {
        self.send(hyper::Method::GET, path, None).await
    }

    /// One request, tried on each URL in turn until one answers.
    async fn send<T: serde::de::DeserializeOwned>(
        &self,
        method: hyper::Method,
        path: &str,
        body: Option<String>,
    ) -> Result<T, RegistryError> {
        let mut last = RegistryError::Unavailable("no schema registry URL".into());
        for base in &self.config.urls {
            let answer = match self
                .exchange(base, method.clone(), path, body.clone())
                .await
            {
                Ok(answer) => answer,
                Err(e) => {
                    last = RegistryError::Unavailable(format!(
                        "schema registry {base} is unreachable: {e}"
                    ));
                    continue;
                }
            };
            let (status, _, body) = answer;
            if status.is_success() {
                return serde_json::from_slice(&body).map_err(|e| {
                    RegistryError::Invalid(format!("schema registry {base} answered {e}"))
                });
            }
            let error = serde_json::from_slice::<ErrorBody>(&body).ok();
            if status == hyper::StatusCode::NOT_FOUND
                && let Some(ErrorBody {
                    error_code,
                    message,
                }) = error
            {
                return Err(RegistryError::NotFound {
                    code: error_code,
                    message,
                });
            }
            last = RegistryError::Unavailable(format!(
                "schema registry {base} answered {status}: {}",
                error.map_or_else(
                    || String::from_utf8_lossy(&body).into_owned(),
                    |e| e.message
                )
            ));
            if status.is_client_error() {
                break;
            }
        }
        Err(last)
    }
}

impl RegistryClient {
    /// One request to `base`, within [`REQUEST_TIMEOUT`].
    async fn exchange(
        &self,
        base: &str,
        method: hyper::Method,
        path: &str,
        body: Option<String>,
    ) -> Result<crate::tls::Answer, String> {
        let uri: hyper::Uri = format!("{base}{path}")
            .parse()
            .map_err(|e| format!("{e}"))?;
        let authority = uri.authority().map(ToString::to_string).ok_or("no host")?;
        let mut request = hyper::Request::builder()
            .method(method)
            .uri(uri.path_and_query().map_or("/", |p| p.as_str()))
            .header(hyper::header::HOST, authority)
            .header(
                hyper::header::ACCEPT,
                "application/vnd.schemaregistry.v1+json, application/json",
            );
        if let Some(auth) = &self.config.authorization {
            request = request.header(hyper::header::AUTHORIZATION, auth);
        }
        if body.is_some() {
            request = request.header(
                hyper::header::CONTENT_TYPE,
                "application/vnd.schemaregistry.v1+json",
            );
        }
        let request = request
            .body(http_body_util::Full::new(bytes::Bytes::from(
                body.unwrap_or_default(),
            )))
            .map_err(|e| e.to_string())?;
        tokio::time::timeout(
            REQUEST_TIMEOUT,
            crate::tls::send(&uri, &self.config.tls, request),
        )
        .await
        .map_err(|_| format!("no answer within {REQUEST_TIMEOUT:?}"))?
    }
}

fn encode(segment: &str) -> String {
    segment
        .bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

type Fetch<T> = Shared<BoxFuture<'static, Result<Arc<T>, RegistryError>>>;

/// What a converter keeps per schema id: its parsed form `T` of each schema,
/// the unknown ids, and the fetches in flight.
pub struct SchemaCache<T> {
    client: RegistryClient,
    parsed: Mutex<lru::LruCache<SchemaRef, Arc<T>>>,
    unknown: Mutex<HashMap<SchemaRef, (Instant, String)>>,
    in_flight: Mutex<HashMap<SchemaRef, Fetch<T>>>,
    /// Whether schemas are fetched with `?format=serialized` (Protobuf).
    serialized: bool,
}

/// How a converter turns a registered schema into its parsed form, given
/// the subject the record's topic maps to (for the version lookup).
pub type Parse<T> = Arc<
    dyn Fn(RegistryClient, RegisteredSchema, String) -> BoxFuture<'static, Result<T, RegistryError>>
        + Send
        + Sync,
>;

/// What the cache knows of an id right now.
pub enum Lookup<T> {
    Ready(Arc<T>),
    Unknown(String),
    Missing,
}

impl<T: Send + Sync + 'static> SchemaCache<T> {
    pub fn new(config: RegistryConfig) -> Self {
        let capacity = config.cache_capacity;
        Self {
            client: RegistryClient::new(config),
            parsed: Mutex::new(lru::LruCache::new(capacity)),
            unknown: Mutex::new(HashMap::new()),
            in_flight: Mutex::new(HashMap::new()),
            serialized: false,
        }
    }

    /// Fetch schemas with `?format=serialized` (Protobuf's base64
    /// FileDescriptorProto).
    pub fn serialized(mut self) -> Self {
        self.serialized = true;
        self
    }

    pub fn lookup(&self, id: SchemaRef) -> Lookup<T> {
        if let Some(t) = self.parsed.lock().expect("cache lock").get(&id) {
            return Lookup::Ready(t.clone());
        }
        let mut unknown = self.unknown.lock().expect("cache lock");
        match unknown.get(&id) {
            Some((since, why)) if since.elapsed() < NEGATIVE_TTL => Lookup::Unknown(why.clone()),
            Some(_) => {
                unknown.remove(&id);
                Lookup::Missing
            }
            None => Lookup::Missing,
        }
    }

    /// Fetch and parse schema `id` unless it is known either way; the
    /// returned future completes once [`Self::lookup`] has an answer.
    pub fn prepare(
        self: &Arc<Self>,
        id: SchemaRef,
        subject: String,
        parse: &Parse<T>,
    ) -> Option<Prepare> {
        if !matches!(self.lookup(id), Lookup::Missing) {
            return None;
        }
        let fetch = {
            let mut in_flight = self.in_flight.lock().expect("cache lock");
            in_flight
                .entry(id)
                .or_insert_with(|| {
                    let cache = self.clone();
                    let parse = parse.clone();
                    async move {
                        let client = cache.client.clone();
                        let result = match client.schema(id, cache.serialized).await {
                            Ok(schema) => parse(client, schema, subject).await.map(Arc::new),
                            Err(e) => Err(e),
                        };
                        cache.in_flight.lock().expect("cache lock").remove(&id);
                        match &result {
                            Ok(t) => {
                                cache.parsed.lock().expect("cache lock").put(id, t.clone());
                            }
                            Err(RegistryError::NotFound { .. } | RegistryError::Invalid(_)) => {
                                let why = result.as_ref().err().map(ToString::to_string);
                                cache
                                    .unknown
                                    .lock()
                                    .expect("cache lock")
                                    .insert(id, (Instant::now(), why.unwrap_or_default()));
                            }
                            Err(RegistryError::Unavailable(_)) => {}
                        }
                        result
                    }
                    .boxed()
                    .shared()
                })
                .clone()
        };
        Some(
            async move {
                match fetch.await {
                    Ok(_) | Err(RegistryError::NotFound { .. } | RegistryError::Invalid(_)) => {
                        Ok(())
                    }
                    Err(RegistryError::Unavailable(why)) => Err(ConversionError::Unavailable(why)),
                }
            }
            .boxed(),
        )
    }

    /// The parsed schema `id` for `at`'s record `bytes` once [`Self::prepare`]
    /// has run: a DLQ error for an unknown id, `Unavailable` when it was
    /// evicted since (fetched again on the retry). `format` names the
    /// schema type in messages ("Avro", "Protobuf").
    pub fn ready(
        &self,
        at: super::Origin<'_>,
        bytes: &[u8],
        id: SchemaRef,
        format: &str,
    ) -> Result<Arc<T>, ConversionError> {
        match self.lookup(id) {
            Lookup::Ready(t) => Ok(t),
            Lookup::Unknown(why) => Err(unreadable(
                at,
                bytes,
                &format!("Error retrieving {format} schema for {id}: {why}"),
            )),
            Lookup::Missing => Err(ConversionError::Unavailable(format!(
                "{format} schema {id} is not cached yet"
            ))),
        }
    }
}

/// The registered schema a record names: by id (magic byte 0 and a 4-byte
/// big-endian id), or by GUID (magic byte 1 and 16 bytes, Confluent 8).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SchemaRef {
    Id(u32),
    Guid([u8; 16]),
}

impl std::fmt::Display for SchemaRef {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            SchemaRef::Id(id) => write!(f, "id {id}"),
            SchemaRef::Guid(guid) => write!(f, "guid {}", uuid::Uuid::from_bytes(*guid)),
        }
    }
}

/// The schema reference at the head of `bytes`, and what follows it.
pub fn read_ref(bytes: &[u8]) -> Option<(SchemaRef, &[u8])> {
    match bytes {
        [0, a, b, c, d, rest @ ..] => {
            Some((SchemaRef::Id(u32::from_be_bytes([*a, *b, *c, *d])), rest))
        }
        [1, rest @ ..] if rest.len() >= 16 => {
            let (guid, rest) = rest.split_at(16);
            Some((SchemaRef::Guid(guid.try_into().expect("16 bytes")), rest))
        }
        _ => None,
    }
}

/// A record's schema reference and the body its schema reads. Confluent 8
/// may put the reference in a header (`__value_schema_id`): the payload is
/// then all body, after what follows the reference in the header
/// (Protobuf's message indexes). Otherwise the payload starts with it.
pub fn locate<'a>(
    header: Option<&'a [u8]>,
    payload: &'a [u8],
) -> Option<(SchemaRef, std::borrow::Cow<'a, [u8]>)> {
    match header {
        Some(header) => {
            let (at, tail) = read_ref(header)?;
            let body = if tail.is_empty() {
                std::borrow::Cow::Borrowed(payload)
            } else {
                std::borrow::Cow::Owned([tail, payload].concat())
            };
            Some((at, body))
        }
        None => read_ref(payload).map(|(at, body)| (at, std::borrow::Cow::Borrowed(body))),
    }
}

/// The DLQ message for bytes that are not Confluent's wire format or whose
/// schema id is unknown: where the record is, and its first bytes.
pub fn unreadable(at: super::Origin<'_>, bytes: &[u8], why: &str) -> ConversionError {
    let head: Vec<String> = bytes.iter().take(16).map(|b| format!("{b:02x}")).collect();
    ConversionError::Data(format!(
        "{why} ({at}; first bytes: {})",
        if head.is_empty() {
            "none".to_string()
        } else {
            head.join(" ")
        }
    ))
}

/// How one registered schema reads a record's body (what follows the
/// magic byte and the schema id), per format.
pub trait Decode: Send + Sync + 'static {
    fn decode(&self, body: &[u8]) -> Result<connect_api::SchemaAndValue, String>;
}

/// A Schema Registry converter: Confluent's wire format, the schema cache,
/// and a format's [`Decode`] (Avro, JSON Schema, Protobuf).
pub struct RegistryConverter<T> {
    class: &'static str,
    /// The format's name in messages ("Avro").
    format: &'static str,
    cache: Arc<SchemaCache<T>>,
    parse: Parse<T>,
    /// `-key` or `-value`: the subject is `<topic><suffix>` (TopicNameStrategy).
    suffix: &'static str,
    /// The header that may hold the schema reference (Confluent 8).
    header: &'static str,
}

impl<T: Decode> RegistryConverter<T> {
    pub fn new(
        class: &'static str,
        format: &'static str,
        cache: SchemaCache<T>,
        parse: Parse<T>,
        is_key: bool,
    ) -> Self {
        Self {
            class,
            format,
            cache: Arc::new(cache),
            parse,
            suffix: if is_key { "-key" } else { "-value" },
            header: if is_key {
                "__key_schema_id"
            } else {
                "__value_schema_id"
            },
        }
    }

    /// `at`'s schema reference and body, or the DLQ error for bytes that
    /// name no schema.
    fn locate<'a>(
        &self,
        at: super::Origin<'a>,
        bytes: &'a [u8],
    ) -> Result<(SchemaRef, std::borrow::Cow<'a, [u8]>), ConversionError> {
        locate(at.headers.last(self.header), bytes).ok_or_else(|| {
            unreadable(
                at,
                bytes,
                "Unknown magic byte: not Confluent's Schema Registry wire format",
            )
        })
    }
}

impl<T: Decode> super::Converter for RegistryConverter<T> {
    fn class_name(&self) -> &'static str {
        self.class
    }

    fn prepare(&self, at: super::Origin<'_>, bytes: Option<&[u8]>) -> Option<Prepare> {
        // Only the reference: the body is not needed to fetch the schema.
        let (id, _) = read_ref(at.headers.last(self.header).unwrap_or(bytes?))?;
        let subject = format!("{}{}", at.topic, self.suffix);
        self.cache.prepare(id, subject, &self.parse)
    }

    fn to_connect(
        &self,
        at: super::Origin<'_>,
        bytes: Option<&[u8]>,
    ) -> Result<connect_api::Data, ConversionError> {
        let Some(bytes) = bytes else {
            return Ok(connect_api::Data::Null);
        };
        let (id, body) = self.locate(at, bytes)?;
        let decoder = self.cache.ready(at, bytes, id, self.format)?;
        decoder
            .decode(&body)
            .map(connect_api::Data::Typed)
            .map_err(|e| {
                unreadable(
                    at,
                    bytes,
                    &format!("Error deserializing {} message for {id}: {e}", self.format),
                )
            })
    }
}

#[cfg(test)]
mod tests {
    use super::{RegistryConfig, SchemaRef, locate, read_ref};

    #[test]
    fn basic_auth_credentials_are_picked_as_confluents_client_picks_them() {
        let auth = |pairs: &[(&str, &str)]| {
            RegistryConfig::from_props(&crate::test_support::config_map(pairs))
                .map(|c| (c.urls, c.authorization))
                .map_err(|e| e.to_string())
        };
        let basic = |info: &str| {
            use base64::Engine as _;
            Some(format!(
                "Basic {}",
                base64::engine::general_purpose::STANDARD.encode(info)
            ))
        };
        // URL is the default source: the URL's user info, taken out of it.
        assert_eq!(
            auth(&[("schema.registry.url", "http://u:p@sr:8081")]),
            Ok((vec!["http://sr:8081".to_string()], basic("u:p")))
        );
        // Spelled out with a URL without user info: no header, no error.
        assert_eq!(
            auth(&[
                ("schema.registry.url", "http://sr:8081"),
                ("basic.auth.credentials.source", "URL")
            ]),
            Ok((vec!["http://sr:8081".to_string()], None))
        );
        // USER_INFO reads the deprecated name first, as Confluent does.
        let user_info = [
            ("schema.registry.url", "http://sr:8081"),
            ("basic.auth.credentials.source", "USER_INFO"),
            ("basic.auth.user.info", "new:secret"),
        ];
        assert_eq!(auth(&user_info).unwrap().1, basic("new:secret"));
        let mut both = user_info.to_vec();
        both.push(("schema.registry.basic.auth.user.info", "old:secret"));
        assert_eq!(auth(&both).unwrap().1, basic("old:secret"));
        // A malformed one is refused without showing it.
        let bad = auth(&[
            ("schema.registry.url", "http://sr:8081"),
            ("basic.auth.credentials.source", "USER_INFO"),
            ("basic.auth.user.info", "no-colon-secret"),
        ])
        .unwrap_err();
        assert!(bad.contains("basic.auth.user.info"), "{bad}");
        assert!(!bad.contains("no-colon-secret"), "{bad}");
    }

    const GUID: [u8; 16] = [
        0x0f, 0x1e, 0x2d, 0x3c, 0x4b, 0x5a, 0x69, 0x78, 0x87, 0x96, 0xa5, 0xb4, 0xc3, 0xd2, 0xe1,
        0xf0,
    ];

    #[test]
    fn the_payload_names_its_schema_by_id_or_guid() {
        assert_eq!(
            read_ref(&[0, 0, 0, 1, 2, 9, 9]),
            Some((SchemaRef::Id(258), &[9u8, 9][..]))
        );
        let mut v1 = vec![1];
        v1.extend(GUID);
        v1.push(7);
        assert_eq!(read_ref(&v1), Some((SchemaRef::Guid(GUID), &[7u8][..])));
        assert_eq!(read_ref(&v1[..10]), None, "a GUID cut short");
        assert_eq!(read_ref(&[2, 0, 0, 0, 1]), None, "an unknown magic byte");
        assert_eq!(read_ref(&[0, 0, 1]), None);
        assert_eq!(
            SchemaRef::Guid(GUID).to_string(),
            "guid 0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0"
        );
        assert_eq!(SchemaRef::Id(5).to_string(), "id 5");
    }

    #[test]
    fn a_header_reference_leaves_the_whole_payload_as_the_body() {
        let mut header = vec![1];
        header.extend(GUID);
        let (at, body) = locate(Some(&header), b"avro").unwrap();
        assert_eq!((at, &body[..]), (SchemaRef::Guid(GUID), &b"avro"[..]));
        // Protobuf's message indexes follow the reference in the header.
        header.extend([2, 4]);
        let (_, body) = locate(Some(&header), b"msg").unwrap();
        assert_eq!(&body[..], &[2, 4, b'm', b's', b'g'][..]);
        let (at, body) = locate(Some(&[0, 0, 0, 0, 3]), b"json").unwrap();
        assert_eq!((at, &body[..]), (SchemaRef::Id(3), &b"json"[..]));
        assert!(locate(Some(&[9]), b"x").is_none(), "a bad header");
        let (at, body) = locate(None, &[0, 0, 0, 0, 4, 1]).unwrap();
        assert_eq!((at, &body[..]), (SchemaRef::Id(4), &[1u8][..]));
    }
}
