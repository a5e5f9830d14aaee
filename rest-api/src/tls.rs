//! HTTPS for the REST listeners: rustls (with ring) configured from PEM
//! files, Connect's `listeners.https.ssl.*` settings read as PEM rather than
//! Java keystores, and the client side that forwards to an https leader.
//!
//! Every error names the setting and the file, so start-up says what to fix.

use std::sync::Arc;

pub use connect_runtime::tls::TlsError;
use connect_runtime::tls::{certificates, error, private_key, provider, roots};
use connect_runtime::worker_config::{ClientAuth, RestTls};
use rustls::server::WebPkiClientVerifier;
use rustls::{ClientConfig, ServerConfig};

pub use tokio_rustls::TlsAcceptor;

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
    connect_runtime::tls::client_config(
        tls.and_then(|t| t.truststore.as_ref()),
        tls.map(|t| (&t.certificate, &t.key)),
    )
}
