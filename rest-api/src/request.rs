//! Request parsing: path segments, query flags and JSON bodies, each
//! failing with Connect's error codes (400, 415).

use bytes::Bytes;
use http_body_util::BodyExt;
use hyper::body::Body;
use hyper::{Request, StatusCode};
use serde_json::Value;

use crate::ApiError;

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
        let body = body
            .collect()
            .await
            .map_err(|e| ApiError::bad_request(format!("cannot read request body: {e}")))?
            .to_bytes();
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

fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'%' if i + 2 < bytes.len() => {
                match u8::from_str_radix(
                    std::str::from_utf8(&bytes[i + 1..i + 3]).unwrap_or("zz"),
                    16,
                ) {
                    Ok(b) => {
                        out.push(b);
                        i += 3;
                        continue;
                    }
                    Err(_) => out.push(b'%'),
                }
            }
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    #[test]
    fn decodes_percent_escapes() {
        assert_eq!(super::percent_decode("my%20conn"), "my conn");
        assert_eq!(super::percent_decode("a%2Fb"), "a/b");
        assert_eq!(super::percent_decode("100%"), "100%");
    }
}
