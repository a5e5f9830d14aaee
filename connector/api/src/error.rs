//! The two ways a sink can fail, and the error a connector reports for one bad record.

/// Failure of a whole `put`/`flush`. The variant decides what the runtime does,
/// so a sink must say which one it means.
#[derive(Debug, Clone, thiserror::Error)]
pub enum SinkError {
    /// The sink is temporarily unavailable (unreachable, timeout, overload):
    /// the runtime backs off, pauses fetching and redelivers the same batch.
    /// Never sent to the dead-letter queue, never committed past.
    #[error("retriable: {0}")]
    Retriable(String),
    /// The task cannot go on; it is marked FAILED with this message.
    #[error("{0}")]
    Fatal(String),
}

impl SinkError {
    pub fn retriable(msg: impl Into<String>) -> Self {
        Self::Retriable(msg.into())
    }
    pub fn fatal(msg: impl Into<String>) -> Self {
        Self::Fatal(msg.into())
    }
}

/// Why one record can never be written. Reported through [`crate::PutContext`]
/// (Connect's `ErrantRecordReporter`), it ends up in the dead-letter queue.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordError {
    /// A class-like name for the kind of failure, written to the
    /// `__connect.errors.exception.class.name` header.
    pub kind: String,
    /// A sentence a person understands.
    pub message: String,
}

impl RecordError {
    pub fn new(kind: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            kind: kind.into(),
            message: message.into(),
        }
    }
}

impl std::fmt::Display for RecordError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.kind, self.message)
    }
}
