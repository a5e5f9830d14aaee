//! The one error type of the API, rendered as Connect's error body.

use connect_runtime::herder::HerderError;
use hyper::StatusCode;
use schemars::JsonSchema;
use serde::Serialize;

#[derive(Debug, Clone)]
pub struct ApiError {
    pub status: StatusCode,
    pub message: String,
    /// The leader's REST URL, when the request is the leader's to serve
    /// and this worker may forward it there (Connect's forwarding).
    pub forward_to: Option<String>,
}

impl ApiError {
    pub fn new(status: StatusCode, message: impl Into<String>) -> Self {
        Self {
            status,
            message: message.into(),
            forward_to: None,
        }
    }
    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, message)
    }
    pub fn not_found() -> Self {
        Self::new(StatusCode::NOT_FOUND, "HTTP 404 Not Found")
    }
    pub fn method_not_allowed() -> Self {
        Self::new(
            StatusCode::METHOD_NOT_ALLOWED,
            "HTTP 405 Method Not Allowed",
        )
    }
    pub fn body(&self) -> ErrorMessage {
        ErrorMessage {
            error_code: self.status.as_u16(),
            message: self.message.clone(),
        }
    }
}

/// Connect's error body (`ErrorMessage`): every error answer carries it.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct ErrorMessage {
    /// The HTTP status code, repeated.
    pub error_code: u16,
    pub message: String,
}

impl From<HerderError> for ApiError {
    fn from(e: HerderError) -> Self {
        match e {
            HerderError::NotFound(m) => Self::new(StatusCode::NOT_FOUND, m),
            HerderError::AlreadyExists(m) => Self::new(StatusCode::CONFLICT, m),
            // Connect answers both with 409 when it cannot forward; the client retries.
            HerderError::NotLeader { ref leader_url } => Self {
                forward_to: leader_url.clone(),
                ..Self::new(StatusCode::CONFLICT, e.to_string())
            },
            e @ HerderError::RebalanceInProgress => Self::new(StatusCode::CONFLICT, e.to_string()),
            HerderError::BadRequest(m) => Self::new(StatusCode::BAD_REQUEST, m),
            HerderError::Forbidden(m) => Self::new(StatusCode::FORBIDDEN, m),
            // Connect's exception mapper answers with the cause; the herder
            // has already taken every secret out of it.
            HerderError::Internal(m) => {
                tracing::error!("request failed: {m}");
                Self::new(StatusCode::INTERNAL_SERVER_ERROR, m)
            }
        }
    }
}
