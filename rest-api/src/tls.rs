//! HTTPS for the REST listeners: rustls (with ring) configured from PEM
//! files, Connect's `listeners.https.ssl.*` settings read as PEM rather than
//! Java keystores, and the client side that forwards to an https leader.
//!
//! Every error names the setting and the file, so start-up says what to fix.

use std::path::PathBuf;
use std::sync::Arc;

use connect_runtime::worker_config::{ClientAuth, RestTls};
use rustls::crypto::CryptoProvider;
use rustls::pki_types::pem::{self, PemObject};
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::server::WebPkiClientVerifier;
use rustls::{ClientConfig, RootCertStore, ServerConfig};

pub use tokio_rustls::TlsAcceptor;

/// The one crypto provider of this host: ring, as tonic's rustls uses.
fn provider() -> Arc<CryptoProvider> {
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
fn error(setting: &(String, PathBuf), message: impl std::fmt::Display) -> TlsError {
    TlsError::File {
        setting: setting.0.clone(),
        path: setting.1.clone(),
        message: message.to_string(),
    }
}

fn read(setting: &(String, PathBuf)) -> Result<Vec<u8>, TlsError> {
    std::fs::read(&setting.1).map_err(|e| error(setting, format!("cannot read the file: {e}")))
}

/// Every certificate of a PEM file, in order.
fn certificates(setting: &(String, PathBuf)) -> Result<Vec<CertificateDer<'static>>, TlsError> {
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
fn private_key(setting: &(String, PathBuf)) -> Result<PrivateKeyDer<'static>, TlsError> {
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
fn roots(setting: &(String, PathBuf)) -> Result<RootCertStore, TlsError> {
    let mut roots = RootCertStore::empty();
    for certificate in certificates(setting)? {
        roots
            .add(certificate)
            .map_err(|e| error(setting, format!("not a usable CA certificate: {e}")))?;
    }
    Ok(roots)
}

/// The server side of an HTTPS listener: its certificate chain and key,
/// and client certificates checked against the truststore when
/// `ssl.client.auth` asks for them.
pub fn server_config(tls: &RestTls) -> Result<Arc<ServerConfig>, TlsError> {
    let provider = provider();
    let chain = certificates(&tls.certificate)?;
    let key = private_key(&tls.key)?;
    let builder = ServerConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()?;
    let builder = match tls.client_auth {
        ClientAuth::None => builder.with_no_client_auth(),
        ClientAuth::Requested | ClientAuth::Required => {
            let truststore = tls.truststore.as_ref().ok_or(TlsError::NoTruststore)?;
            let mut verifier =
                WebPkiClientVerifier::builder_with_provider(Arc::new(roots(truststore)?), provider);
            if tls.client_auth == ClientAuth::Requested {
                verifier = verifier.allow_unauthenticated();
            }
            let verifier = verifier.build().map_err(|e| error(truststore, e))?;
            builder.with_client_cert_verifier(verifier)
        }
    };
    let mut config = builder
        .with_single_cert(chain, key)
        .map_err(|source| TlsError::NotAPair {
            pair: format!(
                "{}={} and {}={}",
                tls.certificate.0,
                tls.certificate.1.display(),
                tls.key.0,
                tls.key.1.display()
            ),
            source,
        })?;
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(Arc::new(config))
}

/// Accepts TLS connections with [`server_config`].
pub fn acceptor(tls: &RestTls) -> Result<TlsAcceptor, TlsError> {
    server_config(tls).map(TlsAcceptor::from)
}

/// The client side for forwarding to an https leader: trusts the
/// truststore's CAs when one is set (else the system's roots), and shows
/// this worker's own certificate when the leader asks for one
/// (`ssl.client.auth`).
pub fn client_config(tls: Option<&RestTls>) -> Result<Arc<ClientConfig>, TlsError> {
    let roots = match tls.and_then(|t| t.truststore.as_ref()) {
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
    let config = match tls {
        Some(tls) => builder
            .with_client_auth_cert(certificates(&tls.certificate)?, private_key(&tls.key)?)
            .map_err(|e| error(&tls.key, e))?,
        None => builder.with_no_client_auth(),
    };
    Ok(Arc::new(config))
}
