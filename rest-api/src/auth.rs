//! REST authentication, as Kafka Connect's `BasicAuthSecurityRestExtension`
//! with its `PropertyFileLoginModule`: HTTP Basic credentials checked
//! against a file of `user: password[, role]` lines
//! (`rest.auth.credentials.file`), plus optional bearer tokens
//! (`rest.auth.tokens.file`, `token[, role]` lines).
//!
//! A password is plain text, an argon2 hash (`$argon2id$…`) or a bcrypt
//! hash (`$2b$…`). Hashes are slow on purpose: they are checked on blocking
//! threads, a few at a time, and a verified (user, password) pair is
//! remembered, keyed by an HMAC under a key made at start-up, so the
//! next request costs no hashing. Secrets are compared through HMAC tags
//! (constant time) and never logged.
//!
//! Roles: `admin` (also when no role is given) may do everything,
//! `read-only` may only `GET`, `HEAD` and `OPTIONS`.

use std::collections::{HashMap, HashSet};
use std::path::Path;
use std::sync::Mutex;

use base64::Engine;
use connect_runtime::worker_config::RestAuth;
use hyper::header::HeaderMap;
use hyper::{Method, StatusCode};
use ring::hmac;

/// What a user or token may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// Everything.
    Admin,
    /// `GET`, `HEAD` and `OPTIONS` only.
    ReadOnly,
}

/// Why a request is refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Denied {
    /// 401: no credentials, or not valid ones.
    Unauthenticated,
    /// 403: valid credentials of a read-only user for a write.
    ReadOnly,
}

/// Connect's `JaasBasicAuthFilter` message for a request it does not let in.
pub const UNAUTHORIZED_MESSAGE: &str = "User cannot access the resource.";
/// The realm in `WWW-Authenticate`.
pub const REALM: &str = "connect-host";

enum Secret {
    /// The HMAC tag of the password.
    Plain(hmac::Tag),
    Argon2(String),
    Bcrypt(String),
}

struct User {
    secret: Secret,
    role: Role,
}

/// Verified (user, password) pairs kept at most; then the cache starts over.
const CACHE_LIMIT: usize = 10_000;

/// The credentials a worker accepts.
pub struct Auth {
    users: HashMap<String, User>,
    /// Tokens by their HMAC tag.
    tokens: HashMap<Vec<u8>, Role>,
    basic: bool,
    bearer: bool,
    /// Start-up's random key for every tag of this process.
    key: hmac::Key,
    /// Tags of (user, password) pairs whose hash verified.
    verified: Mutex<HashSet<Vec<u8>>>,
    /// Bounds the hash verifications running at once (CPU and memory).
    hashing: tokio::sync::Semaphore,
}

impl std::fmt::Debug for Auth {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Auth")
            .field("users", &self.users.len())
            .field("tokens", &self.tokens.len())
            .finish_non_exhaustive()
    }
}

impl Auth {
    /// The files of `settings`, read and checked; `None` when neither is set
    /// (the REST API is then open, as Connect's without an extension).
    pub fn load(settings: &RestAuth) -> Result<Option<Self>, AuthFileError> {
        if !settings.enabled() {
            return Ok(None);
        }
        let rng = ring::rand::SystemRandom::new();
        let key =
            hmac::Key::generate(hmac::HMAC_SHA256, &rng).map_err(|_| AuthFileError::Random)?;
        let mut auth = Self {
            users: HashMap::new(),
            tokens: HashMap::new(),
            basic: settings.credentials_file.is_some(),
            bearer: settings.tokens_file.is_some(),
            key,
            verified: Mutex::new(HashSet::new()),
            hashing: tokio::sync::Semaphore::new(
                std::thread::available_parallelism().map_or(2, |n| n.get().clamp(1, 4)),
            ),
        };
        if let Some(path) = &settings.credentials_file {
            auth.load_credentials(path).map_err(|message| {
                AuthFileError::file("rest.auth.credentials.file", path, message)
            })?;
        }
        if let Some(path) = &settings.tokens_file {
            auth.load_tokens(path)
                .map_err(|message| AuthFileError::file("rest.auth.tokens.file", path, message))?;
        }
        Ok(Some(auth))
    }

    /// `user: password[, role…]` as a Java properties file (Connect's
    /// `PropertyFileLoginModule` reads it with `Properties.load`).
    fn load_credentials(&mut self, path: &Path) -> Result<(), String> {
        let file = std::fs::File::open(path).map_err(|e| format!("cannot read the file: {e}"))?;
        let entries = java_properties::read(std::io::BufReader::new(file))
            .map_err(|e| format!("not a valid properties file: {e}"))?;
        for (user, value) in entries {
            let user = user.trim().to_string();
            let (password, roles) = split_password(&value);
            if password.is_empty() {
                return Err(format!("user '{user}' has no password"));
            }
            let secret = self
                .secret(password)
                .map_err(|e| format!("user '{user}': {e}"))?;
            let role = role(roles.iter().copied(), &format!("user '{user}'"));
            self.users.insert(user, User { secret, role });
        }
        if self.users.is_empty() {
            return Err("no users in the file".into());
        }
        Ok(())
    }

    /// `token[, role]` lines; `#` starts a comment line.
    fn load_tokens(&mut self, path: &Path) -> Result<(), String> {
        let text =
            std::fs::read_to_string(path).map_err(|e| format!("cannot read the file: {e}"))?;
        for (number, line) in text.lines().enumerate() {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') || line.starts_with('!') {
                continue;
            }
            let mut fields = line.split(',').map(str::trim);
            let token = fields.next().unwrap_or_default();
            if token.is_empty() {
                return Err(format!("line {}: no token", number + 1));
            }
            let role = role(fields, &format!("line {}", number + 1));
            let tag = hmac::sign(&self.key, token.as_bytes());
            self.tokens.insert(tag.as_ref().to_vec(), role);
        }
        if self.tokens.is_empty() {
            return Err("no tokens in the file".into());
        }
        Ok(())
    }

    fn secret(&self, password: &str) -> Result<Secret, String> {
        if password.starts_with("$argon2") {
            let parsed = argon2::PasswordHash::new(password)
                .map_err(|e| format!("not a valid argon2 hash: {e}"))?;
            if parsed.hash.is_none() || parsed.salt.is_none() {
                return Err("not a valid argon2 hash: it has no salt or no hash".into());
            }
            return Ok(Secret::Argon2(password.to_string()));
        }
        if ["$2a$", "$2b$", "$2x$", "$2y$"]
            .iter()
            .any(|p| password.starts_with(p))
        {
            password
                .parse::<bcrypt::HashParts>()
                .map_err(|e| format!("not a valid bcrypt hash: {e}"))?;
            return Ok(Secret::Bcrypt(password.to_string()));
        }
        // Jetty's obfuscations are not hashes worth keeping.
        if ["MD5:", "CRYPT:", "OBF:"]
            .iter()
            .any(|p| password.starts_with(p))
        {
            return Err(
                "Jetty's MD5:, CRYPT: and OBF: passwords are not supported: use plain text, \
                 an argon2 hash or a bcrypt hash (connect-host hash-password)"
                    .into(),
            );
        }
        Ok(Secret::Plain(hmac::sign(&self.key, password.as_bytes())))
    }

    /// The `WWW-Authenticate` challenges of a 401.
    pub fn challenges(&self) -> Vec<String> {
        let mut challenges = Vec::new();
        if self.basic {
            challenges.push(format!("Basic realm=\"{REALM}\""));
        }
        if self.bearer {
            challenges.push(format!("Bearer realm=\"{REALM}\""));
        }
        challenges
    }

    /// Whether a request may go on. `/health` and CORS preflights need no
    /// credentials; everything else needs valid ones, and a write an admin.
    pub async fn check(
        &self,
        method: &Method,
        path: &str,
        headers: &HeaderMap,
    ) -> Result<(), Denied> {
        if is_open(method, path, headers) {
            return Ok(());
        }
        let role = match headers
            .get(hyper::header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
        {
            Some(value) => self.authenticate(value).await,
            None => None,
        };
        match role {
            None => {
                tracing::debug!(%method, path, "request failed authentication");
                Err(Denied::Unauthenticated)
            }
            Some(Role::ReadOnly)
                if !matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS) =>
            {
                tracing::debug!(%method, path, "read-only credentials refused a write");
                Err(Denied::ReadOnly)
            }
            Some(_) => Ok(()),
        }
    }

    /// The role of an `Authorization` value's credentials, if they are valid.
    async fn authenticate(&self, authorization: &str) -> Option<Role> {
        let (scheme, credentials) = authorization.trim().split_once(' ')?;
        let credentials = credentials.trim();
        if scheme.eq_ignore_ascii_case("basic") && self.basic {
            let decoded = base64::engine::general_purpose::STANDARD
                .decode(credentials)
                .ok()?;
            let decoded = String::from_utf8(decoded).ok()?;
            let (user, password) = decoded.split_once(':')?;
            self.verify_password(user, password).await
        } else if scheme.eq_ignore_ascii_case("bearer") && self.bearer {
            let tag = hmac::sign(&self.key, credentials.as_bytes());
            self.tokens.get(tag.as_ref()).copied()
        } else {
            None
        }
    }

    async fn verify_password(&self, user: &str, password: &str) -> Option<Role> {
        let entry = self.users.get(user)?;
        let hash = match &entry.secret {
            Secret::Plain(tag) => {
                return hmac::verify(&self.key, password.as_bytes(), tag.as_ref())
                    .is_ok()
                    .then_some(entry.role);
            }
            Secret::Argon2(hash) | Secret::Bcrypt(hash) => hash.clone(),
        };
        let pair = {
            let mut context = hmac::Context::with_key(&self.key);
            context.update(user.as_bytes());
            context.update(&[0]);
            context.update(password.as_bytes());
            context.sign().as_ref().to_vec()
        };
        if self.verified.lock().ok()?.contains(&pair) {
            return Some(entry.role);
        }
        let _permit = self.hashing.acquire().await.ok()?;
        let argon2 = matches!(entry.secret, Secret::Argon2(_));
        let password = password.to_string();
        let valid = tokio::task::spawn_blocking(move || verify_hash(argon2, &hash, &password))
            .await
            .unwrap_or(false);
        if !valid {
            return None;
        }
        let mut verified = self.verified.lock().ok()?;
        if verified.len() >= CACHE_LIMIT {
            verified.clear();
        }
        verified.insert(pair);
        Some(entry.role)
    }
}

/// Slow on purpose: run it on a blocking thread.
fn verify_hash(argon2: bool, hash: &str, password: &str) -> bool {
    if argon2 {
        use argon2::PasswordVerifier;
        argon2::PasswordHash::new(hash).is_ok_and(|parsed| {
            argon2::Argon2::default()
                .verify_password(password.as_bytes(), &parsed)
                .is_ok()
        })
    } else {
        bcrypt::verify(password, hash).unwrap_or(false)
    }
}

/// Requests answered without credentials: `/health` (for load balancers
/// and orchestrators) and CORS preflights (browsers send them without
/// credentials; they only list the methods allowed).
fn is_open(method: &Method, path: &str, headers: &HeaderMap) -> bool {
    let health =
        path.trim_end_matches('/') == "/health" && matches!(*method, Method::GET | Method::HEAD);
    let preflight = *method == Method::OPTIONS
        && headers.contains_key(hyper::header::ORIGIN)
        && headers.contains_key(hyper::header::ACCESS_CONTROL_REQUEST_METHOD);
    health || preflight
}

/// The password of a credentials line's value and the roles after it. An
/// argon2 hash has commas of its own (`$argon2id$v=19$m=19456,t=2,p=1$…`):
/// its roles start after its last `$` field.
fn split_password(value: &str) -> (&str, Vec<&str>) {
    let value = value.trim();
    let from = if value.starts_with("$argon2") {
        value.rfind('$').unwrap_or(0)
    } else {
        0
    };
    let (password, roles) = match value[from..].find(',') {
        Some(i) => (&value[..from + i], &value[from + i + 1..]),
        None => (value, ""),
    };
    let roles = roles
        .split(',')
        .map(str::trim)
        .filter(|r| !r.is_empty())
        .collect();
    (password.trim(), roles)
}

/// `admin` wins, then `read-only`; no role is `admin`. Other role names
/// (Connect does not check roles at all) are taken as `admin`, with a
/// warning.
fn role<'a>(roles: impl Iterator<Item = &'a str>, whose: &str) -> Role {
    let roles: Vec<String> = roles
        .map(|r| r.trim().to_ascii_lowercase())
        .filter(|r| !r.is_empty())
        .collect();
    if roles.is_empty() || roles.iter().any(|r| r == "admin") {
        return Role::Admin;
    }
    if roles.iter().any(|r| r == "read-only" || r == "readonly") {
        return Role::ReadOnly;
    }
    tracing::warn!(
        "{whose}: roles {roles:?} are neither 'admin' nor 'read-only'; taken as admin \
         (everything allowed), as Connect does not check roles"
    );
    Role::Admin
}

/// A hash for a credentials file: argon2id with its default parameters,
/// or bcrypt with `bcrypt_cost`.
pub fn hash_password(password: &str, bcrypt_cost: Option<u32>) -> Result<String, HashError> {
    if let Some(cost) = bcrypt_cost {
        return Ok(bcrypt::hash(password, cost)?);
    }
    use argon2::PasswordHasher;
    let mut salt = [0u8; 16];
    ring::rand::SecureRandom::fill(&ring::rand::SystemRandom::new(), &mut salt)
        .map_err(|_| HashError::Random)?;
    let salt = argon2::password_hash::SaltString::encode_b64(&salt)?;
    Ok(argon2::Argon2::default()
        .hash_password(password.as_bytes(), &salt)?
        .to_string())
}

/// Why a password could not be hashed.
#[derive(Debug, thiserror::Error)]
pub enum HashError {
    #[error("bcrypt: {0}")]
    Bcrypt(#[from] bcrypt::BcryptError),
    /// (password-hash's error is no `std::error::Error` without its `std`
    /// feature, so it is carried, not chained.)
    #[error("argon2: {0}")]
    Argon2(argon2::password_hash::Error),
    #[error("cannot make a random salt")]
    Random,
}

impl From<argon2::password_hash::Error> for HashError {
    fn from(e: argon2::password_hash::Error) -> Self {
        Self::Argon2(e)
    }
}

/// Why a credentials or tokens file cannot be used; names the setting and
/// the file, never a password.
#[derive(Debug, thiserror::Error)]
pub enum AuthFileError {
    #[error("{setting}={}: {message}", path.display())]
    File {
        setting: &'static str,
        path: std::path::PathBuf,
        message: String,
    },
    #[error("cannot make a random key")]
    Random,
}

impl AuthFileError {
    fn file(setting: &'static str, path: &Path, message: String) -> Self {
        Self::File {
            setting,
            path: path.to_path_buf(),
            message,
        }
    }
}

/// The status of a refusal.
pub fn status(denied: &Denied) -> StatusCode {
    match denied {
        Denied::Unauthenticated => StatusCode::UNAUTHORIZED,
        Denied::ReadOnly => StatusCode::FORBIDDEN,
    }
}

/// The message of a refusal, in Connect's error body.
pub fn message(denied: &Denied) -> &'static str {
    match denied {
        Denied::Unauthenticated => UNAUTHORIZED_MESSAGE,
        Denied::ReadOnly => "User is read-only: only GET, HEAD and OPTIONS requests are allowed.",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(authorization: Option<String>) -> HeaderMap {
        let mut headers = HeaderMap::new();
        if let Some(a) = authorization {
            headers.insert(hyper::header::AUTHORIZATION, a.parse().unwrap());
        }
        headers
    }

    fn basic(user: &str, password: &str) -> Option<String> {
        Some(format!(
            "Basic {}",
            base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"))
        ))
    }

    #[test]
    fn credentials_lines_split_into_password_and_roles() {
        assert_eq!(split_password(" pw , admin "), ("pw", vec!["admin"]));
        assert_eq!(split_password("pw"), ("pw", vec![]));
        assert_eq!(
            split_password("$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA, read-only"),
            (
                "$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA",
                vec!["read-only"]
            )
        );
        assert_eq!(
            split_password("$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA").1,
            Vec::<&str>::new()
        );
        assert_eq!(role(["read-only"].into_iter(), "u"), Role::ReadOnly);
        assert_eq!(role(["READONLY"].into_iter(), "u"), Role::ReadOnly);
        assert_eq!(role(["read-only", "admin"].into_iter(), "u"), Role::Admin);
        assert_eq!(role([].into_iter(), "u"), Role::Admin);
    }

    #[tokio::test]
    async fn users_roles_hashes_and_tokens() {
        let dir = tempfile::tempdir().unwrap();
        let argon = hash_password("argonpw", None).unwrap();
        // htpasswd writes $2y$; the same hash under any bcrypt version.
        let bcrypt = hash_password("bcryptpw", Some(4))
            .unwrap()
            .replacen("$2b$", "$2y$", 1);
        let credentials = dir.path().join("users.properties");
        std::fs::write(
            &credentials,
            format!(
                "# users\nadmin: adminpw, admin\nviewer: viewerpw, read-only\n\
                 hashed: {argon}, read-only\nbcrypted={bcrypt}\n"
            ),
        )
        .unwrap();
        let tokens = dir.path().join("tokens");
        std::fs::write(&tokens, "# tokens\ns3cr3t-token, read-only\nadmin-token\n").unwrap();
        let auth = Auth::load(&RestAuth {
            credentials_file: Some(credentials),
            tokens_file: Some(tokens),
        })
        .unwrap()
        .unwrap();
        let check = |method: Method, path: &'static str, authorization: Option<String>| {
            let auth = &auth;
            async move { auth.check(&method, path, &headers(authorization)).await }
        };
        use Denied::*;
        assert_eq!(
            check(Method::GET, "/connectors", None).await,
            Err(Unauthenticated)
        );
        assert_eq!(check(Method::GET, "/health", None).await, Ok(()));
        let adminpw = || basic("admin", "adminpw");
        assert_eq!(check(Method::POST, "/connectors", adminpw()).await, Ok(()));
        assert_eq!(
            check(Method::GET, "/connectors", basic("admin", "wrong")).await,
            Err(Unauthenticated)
        );
        assert_eq!(
            check(Method::GET, "/connectors", basic("nobody", "adminpw")).await,
            Err(Unauthenticated)
        );
        let viewer = || basic("viewer", "viewerpw");
        assert_eq!(check(Method::GET, "/connectors", viewer()).await, Ok(()));
        assert_eq!(check(Method::HEAD, "/connectors", viewer()).await, Ok(()));
        assert_eq!(
            check(Method::DELETE, "/connectors/a", viewer()).await,
            Err(ReadOnly)
        );
        // Hashes, twice each: the second time from the cache.
        for _ in 0..2 {
            assert_eq!(
                check(Method::GET, "/", basic("hashed", "argonpw")).await,
                Ok(())
            );
            assert_eq!(
                check(Method::PUT, "/x", basic("hashed", "argonpw")).await,
                Err(ReadOnly)
            );
            assert_eq!(
                check(Method::POST, "/x", basic("bcrypted", "bcryptpw")).await,
                Ok(())
            );
        }
        assert_eq!(
            check(Method::GET, "/", basic("hashed", "argonpx")).await,
            Err(Unauthenticated)
        );
        assert_eq!(
            check(Method::GET, "/", basic("bcrypted", "bcryptpx")).await,
            Err(Unauthenticated)
        );
        let bearer = |t: &str| Some(format!("Bearer {t}"));
        assert_eq!(
            check(Method::GET, "/", bearer("s3cr3t-token")).await,
            Ok(())
        );
        assert_eq!(
            check(Method::POST, "/", bearer("s3cr3t-token")).await,
            Err(ReadOnly)
        );
        assert_eq!(
            check(Method::POST, "/", bearer("admin-token")).await,
            Ok(())
        );
        assert_eq!(
            check(Method::GET, "/", bearer("nope")).await,
            Err(Unauthenticated)
        );
        assert_eq!(
            check(Method::GET, "/", Some("Digest x".into())).await,
            Err(Unauthenticated)
        );
        assert_eq!(auth.challenges().len(), 2);
    }

    #[test]
    fn files_that_cannot_work_are_named() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("users");
        let load = |text: &str| {
            std::fs::write(&file, text).unwrap();
            Auth::load(&RestAuth {
                credentials_file: Some(file.clone()),
                tokens_file: None,
            })
            .map(|_| ())
            .map_err(|e| e.to_string())
        };
        assert!(load("a: pw\n").is_ok());
        let err = load("a: $argon2id$garbage\n").unwrap_err();
        assert!(
            err.contains("rest.auth.credentials.file") && err.contains("'a'"),
            "{err}"
        );
        assert!(load("a: $2b$10$short\n").unwrap_err().contains("bcrypt"));
        assert!(load("a: MD5:abc\n").unwrap_err().contains("MD5"));
        assert!(load("a:\n").unwrap_err().contains("no password"));
        assert!(load("# nobody\n").unwrap_err().contains("no users"));
        let missing = Auth::load(&RestAuth {
            credentials_file: Some(dir.path().join("missing")),
            tokens_file: None,
        })
        .unwrap_err()
        .to_string();
        assert!(
            missing.contains("missing") && missing.contains("cannot read"),
            "{missing}"
        );
    }
}
