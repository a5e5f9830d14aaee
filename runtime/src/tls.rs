//! The client side of TLS and a one-request HTTP/1 client, shared by the
//! REST API (forwarding to an https leader) and the Schema Registry
//! converters: rustls with ring, configured from PEM files. Every error
//! names the setting and the file, so start-up says what to fix.

use std::path::PathBuf;
use std::sync::Arc;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::{Request, StatusCode, Uri};
use hyper_util::rt::TokioIo;
use rustls::crypto::CryptoProvider;
use rustls::pki_types::pem::{self, PemObject};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName};
use rustls::{ClientConfig, RootCertStore};
use tokio::io::{AsyncRead, AsyncWrite};

/// A setting's name and the file it names, for error messages.
pub type Setting = (String, PathBuf);

/// The one crypto provider of this host: ring, as tonic's rustls uses.
pub fn provider() -> Arc<CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

/// Why HTTPS cannot be set up; each names the setting (and file) to fix.
#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    /// A setting's file is unreadable or holds nothing usable.
    #[error("{setting}={}: {message}", path.display())]
    File {
        setting: String,
        path: PathBuf,
        message: String,
    },
    #[error("ssl.client.auth needs listeners.https.ssl.truststore.location")]
    NoTruststore,
    /// `pair` names both settings and files.
    #[error("{pair}: the certificate and the key are not a usable pair: {source}")]
    NotAPair { pair: String, source: rustls::Error },
    #[error("cannot set up TLS: {0}")]
    Setup(#[from] rustls::Error),
}

/// `setting=path: message`.
pub fn error(setting: &Setting, message: impl std::fmt::Display) -> TlsError {
    TlsError::File {
        setting: setting.0.clone(),
        path: setting.1.clone(),
        message: message.to_string(),
    }
}

fn read(setting: &Setting) -> Result<Vec<u8>, TlsError> {
    std::fs::read(&setting.1).map_err(|e| error(setting, format!("cannot read the file: {e}")))
}

/// Every certificate of a PEM file, in order.
pub fn certificates(setting: &Setting) -> Result<Vec<CertificateDer<'static>>, TlsError> {
    let bytes = read(setting)?;
    let certificates = CertificateDer::pem_slice_iter(&bytes)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| error(setting, format!("not a valid PEM file: {e}")))?;
    if certificates.is_empty() {
        return Err(error(
            setting,
            "no certificate in the file (expected PEM '-----BEGIN CERTIFICATE-----' blocks)",
        ));
    }
    Ok(certificates)
}

/// The first private key of a PEM file (PKCS#8, PKCS#1 or SEC1).
pub fn private_key(setting: &Setting) -> Result<PrivateKeyDer<'static>, TlsError> {
    let bytes = read(setting)?;
    PrivateKeyDer::from_pem_slice(&bytes).map_err(|e| match e {
        pem::Error::NoItemsFound => error(
            setting,
            "no private key in the file (expected an unencrypted PEM 'PRIVATE KEY', \
             'RSA PRIVATE KEY' or 'EC PRIVATE KEY' block; encrypted keys are not supported)",
        ),
        e => error(setting, format!("not a valid PEM file: {e}")),
    })
}

/// The CA certificates of a PEM truststore.
pub fn roots(setting: &Setting) -> Result<RootCertStore, TlsError> {
    let mut roots = RootCertStore::empty();
    for certificate in certificates(setting)? {
        roots
            .add(certificate)
            .map_err(|e| error(setting, format!("not a usable CA certificate: {e}")))?;
    }
    Ok(roots)
}

/// A TLS client: trusts the CAs of `truststore` when one is set (else the
/// system's roots), and shows `identity` (certificate chain, key) when the
/// server asks for a client certificate.
pub fn client_config(
    truststore: Option<&Setting>,
    identity: Option<(&Setting, &Setting)>,
) -> Result<Arc<ClientConfig>, TlsError> {
    let roots = match truststore {
        Some(truststore) => roots(truststore)?,
        None => {
            let mut roots = RootCertStore::empty();
            let native = rustls_native_certs::load_native_certs();
            for e in &native.errors {
                tracing::debug!("system CA certificates: {e}");
            }
            roots.add_parsable_certificates(native.certs);
            roots
        }
    };
    let builder = ClientConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()?
        .with_root_certificates(roots);
    let config = match identity {
        Some((certificate, key)) => builder
            .with_client_auth_cert(certificates(certificate)?, private_key(key)?)
            .map_err(|e| error(key, e))?,
        None => builder.with_no_client_auth(),
    };
    Ok(Arc::new(config))
}

/// The status, `Location` header and body of a response.
pub type Answer = (StatusCode, Option<String>, Bytes);

/// One request on a new connection, over TLS with `tls` for `https://`
/// (for rare requests: forwarded writes, registry schema fetches).
pub async fn send(
    uri: &Uri,
    tls: &Arc<ClientConfig>,
    request: Request<Full<Bytes>>,
) -> Result<Answer, String> {
    let https = match uri.scheme_str() {
        Some("https") => true,
        Some("http") => false,
        other => return Err(format!("unsupported scheme {other:?}")),
    };
    let host = uri
        .host()
        .ok_or("the URL has no host")?
        .trim_matches(['[', ']'])
        .to_string();
    let port = uri.port_u16().unwrap_or(if https { 443 } else { 80 });
    let tcp = tokio::net::TcpStream::connect((host.as_str(), port))
        .await
        .map_err(|e| format!("cannot connect to {host}:{port}: {e}"))?;
    if !https {
        return exchange(tcp, request).await;
    }
    let name = ServerName::try_from(host.clone()).map_err(|e| format!("{host}: {e}"))?;
    let stream = tokio_rustls::TlsConnector::from(tls.clone())
        .connect(name, tcp)
        .await
        .map_err(|e| format!("TLS with {host}:{port}: {e}"))?;
    exchange(stream, request).await
}

async fn exchange<S>(stream: S, request: Request<Full<Bytes>>) -> Result<Answer, String>
where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let (mut sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
        .await
        .map_err(|e| e.to_string())?;
    tokio::spawn(async move {
        if let Err(e) = connection.await {
            tracing::debug!("forwarding connection: {e}");
        }
    });
    let response = sender
        .send_request(request)
        .await
        .map_err(|e| e.to_string())?;
    let status = response.status();
    let location = response
        .headers()
        .get(hyper::header::LOCATION)
        .and_then(|l| l.to_str().ok())
        .map(str::to_string);
    let body = response
        .into_body()
        .collect()
        .await
        .map_err(|e| e.to_string())?
        .to_bytes();
    Ok((status, location, body))
}
