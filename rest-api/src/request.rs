//! Request parsing: path segments, query flags and JSON bodies, each
//! failing with Connect's error codes (400, 415), within bounds: a URL
//! longer than [`MAX_URI_BYTES`] is 414 and a body larger than
//! [`MAX_BODY_BYTES`] 413, before anything else is read of it.

use std::pin::Pin;
use std::time::Duration;

use bytes::{Buf, Bytes};
use http_body_util::{BodyExt, LengthLimitError, Limited};
use hyper::body::Body;
use hyper::{Request, StatusCode};
use serde_json::Value;

use crate::ApiError;

/// The largest request body read (1 MiB): a connector config is a few
/// KiB. Larger ones are 413, whether `Content-Length` announces them or
/// they turn out larger while read; no more than this is ever buffered.
pub const MAX_BODY_BYTES: usize = 1024 * 1024;

/// The longest path and query served (8 KiB, as Jetty's default request
/// header buffer bounds Connect's); longer ones are 414.
pub const MAX_URI_BYTES: usize = 8 * 1024;

pub struct Parsed {
    pub method: hyper::Method,
    /// The path and query as sent, for forwarding to the leader.
    pub path_and_query: String,
    pub segments: Vec<String>,
    pub query: Vec<(String, String)>,
    pub host: Option<String>,
    pub content_type: Option<String>,
    pub body: Bytes,
}

impl Parsed {
    pub async fn from<B>(req: Request<B>) -> Result<Self, ApiError>
    where
        B: Body,
        B::Error: std::fmt::Display,
    {
        let (parts, body) = req.into_parts();
        let uri_len = parts.uri.path_and_query().map_or(0, |pq| pq.as_str().len());
        if uri_len > MAX_URI_BYTES {
            return Err(ApiError::new(
                StatusCode::URI_TOO_LONG,
                format!("Request URI is {uri_len} bytes long; at most {MAX_URI_BYTES} are allowed"),
            ));
        }
        let announced = parts
            .headers
            .get(hyper::header::CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse::<u64>().ok());
        let mut body = std::pin::pin!(body);
        if let Some(n) = announced.filter(|n| *n > MAX_BODY_BYTES as u64) {
            if n <= (MAX_BODY_BYTES + DRAIN_BYTES) as u64 {
                drain(body.as_mut()).await;
            }
            return Err(body_too_large());
        }
        let collected = Limited::new(body.as_mut().map_err(|e| e.to_string()), MAX_BODY_BYTES)
            .collect()
            .await;
        let body = match collected {
            Ok(collected) => collected.to_bytes(),
            Err(e) if e.downcast_ref::<LengthLimitError>().is_some() => {
                drain(body.as_mut()).await;
                return Err(body_too_large());
            }
            Err(e) => {
                return Err(ApiError::bad_request(format!(
                    "cannot read request body: {e}"
                )));
            }
        };
        let segments = parts
            .uri
            .path()
            .split('/')
            .filter(|s| !s.is_empty())
            .map(percent_decode)
            .collect();
        let query = parts
            .uri
            .query()
            .unwrap_or_default()
            .split('&')
            .filter(|s| !s.is_empty())
            .map(|pair| match pair.split_once('=') {
                Some((k, v)) => (percent_decode(k), percent_decode(v)),
                None => (percent_decode(pair), String::new()),
            })
            .collect();
        let header = |name| {
            parts
                .headers
                .get(name)
                .and_then(|v: &hyper::header::HeaderValue| v.to_str().ok())
                .map(str::to_string)
        };
        Ok(Self {
            method: parts.method.clone(),
            path_and_query: parts
                .uri
                .path_and_query()
                .map_or_else(|| parts.uri.path().to_string(), ToString::to_string),
            segments,
            query,
            host: header(hyper::header::HOST),
            content_type: header(hyper::header::CONTENT_TYPE),
            body,
        })
    }

    /// A boolean query flag as JAX-RS parses Connect's `Boolean` params:
    /// `true` (any case) is true, anything else (absent, empty, `yes`) false.
    pub fn flag(&self, name: &str) -> bool {
        self.query_value(name)
            .is_some_and(|v| v.eq_ignore_ascii_case("true"))
    }

    /// A primitive flag whose default is true (`connectorsOnly`): absent or
    /// blank is true, any other value than `true` false.
    pub fn flag_default_true(&self, name: &str) -> bool {
        self.query_value(name)
            .is_none_or(|v| v.trim().is_empty() || v.eq_ignore_ascii_case("true"))
    }

    pub fn has_query(&self, name: &str) -> bool {
        self.query.iter().any(|(k, _)| k == name)
    }

    /// The first value of a query parameter.
    pub fn query_value(&self, name: &str) -> Option<&str> {
        self.query
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    pub fn query_values(&self, name: &str) -> Vec<&str> {
        self.query
            .iter()
            .filter(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
            .collect()
    }

    /// The body as JSON: 415 unless JSON is declared (or nothing is), 400
    /// when it does not parse.
    pub fn json(&self) -> Result<Value, ApiError> {
        if let Some(ct) = &self.content_type {
            let media = ct
                .split(';')
                .next()
                .unwrap_or_default()
                .trim()
                .to_ascii_lowercase();
            if media != "application/json" && !media.ends_with("+json") {
                return Err(ApiError::new(
                    StatusCode::UNSUPPORTED_MEDIA_TYPE,
                    "HTTP 415 Unsupported Media Type",
                ));
            }
        }
        if self.body.iter().all(u8::is_ascii_whitespace) {
            return Err(ApiError::bad_request(
                "Request body is missing: a JSON body is required",
            ));
        }
        serde_json::from_slice(&self.body)
            .map_err(|e| ApiError::bad_request(format!("Malformed JSON in request body: {e}")))
    }
}

/// How much of a body past [`MAX_BODY_BYTES`] is still read, and thrown
/// away, so that a client still sending it reads its 413 rather than a
/// reset connection; a larger one gets the 413 and the connection closed
/// under it.
const DRAIN_BYTES: usize = 8 * 1024 * 1024;
/// How long that may take.
const DRAIN_TIME: Duration = Duration::from_secs(5);

/// Read and discard the rest of a refused body, within bounds.
async fn drain<B: Body>(mut body: Pin<&mut B>) {
    let mut left = DRAIN_BYTES;
    let discard = async {
        while let Some(Ok(frame)) = body.frame().await {
            let n = frame.data_ref().map_or(0, Buf::remaining);
            if n > left {
                return;
            }
            left -= n;
        }
    };
    let _ = tokio::time::timeout(DRAIN_TIME, discard).await;
}

fn body_too_large() -> ApiError {
    ApiError::new(
        StatusCode::PAYLOAD_TOO_LARGE,
        format!("Request body is larger than {MAX_BODY_BYTES} bytes, the most this worker reads"),
    )
}

fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'%' if i + 2 < bytes.len() => match (hex(bytes[i + 1]), hex(bytes[i + 2])) {
                (Some(hi), Some(lo)) => {
                    out.push(hi << 4 | lo);
                    i += 3;
                    continue;
                }
                _ => out.push(b'%'),
            },
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn hex(digit: u8) -> Option<u8> {
    (digit as char).to_digit(16).map(|d| d as u8)
}

#[cfg(test)]
mod tests {
    #[test]
    fn decodes_percent_escapes() {
        assert_eq!(super::percent_decode("my%20conn"), "my conn");
        assert_eq!(super::percent_decode("a%2Fb"), "a/b");
        assert_eq!(super::percent_decode("100%"), "100%");
        assert_eq!(super::percent_decode("%+5%-1%4"), "%+5%-1%4");
        assert_eq!(super::percent_decode("%e2%82%ac%ff"), "€\u{fffd}");
    }
}
