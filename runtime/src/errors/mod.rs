//! One error policy for every stage (Connect's `RetryWithToleranceOperator`):
//! backoff for retriable failures, `errors.tolerance` for poison records, the
//! error log and the dead-letter queue.

mod backoff;
mod dead_letter_queue;
mod operator;
mod tolerance;

pub use backoff::Backoff;
pub use dead_letter_queue::DeadLetterQueue;
pub use operator::{
    Attempt, Outcome, RetryHost, RetryLimit, RetryWithToleranceOperator, StageFailure, attempt,
};
pub use tolerance::{ErrorReporter, TaskFailure};

/// Where in the pipeline a record failed; written to `__connect.errors.stage`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stage {
    KeyConverter,
    ValueConverter,
    HeaderConverter,
    Transformation,
    TaskPut,
}

impl Stage {
    pub fn as_str(self) -> &'static str {
        match self {
            Stage::KeyConverter => "KEY_CONVERTER",
            Stage::ValueConverter => "VALUE_CONVERTER",
            Stage::HeaderConverter => "HEADER_CONVERTER",
            Stage::Transformation => "TRANSFORMATION",
            Stage::TaskPut => "TASK_PUT",
        }
    }
}

/// Everything known about one failed record: what the DLQ headers and the
/// error log say.
#[derive(Debug, Clone)]
pub struct ErrorContext {
    pub stage: Stage,
    /// The class that was executing (converter, transformation or connector task).
    pub executing_class: String,
    /// A class-like name of the failure.
    pub exception_class: String,
    pub message: String,
}

impl ErrorContext {
    /// A Connect-style trace: there is no JVM stack, so the trace says where.
    pub fn trace(&self) -> String {
        format!(
            "{}: {}\n\tat stage {} in {}",
            self.exception_class,
            self.message,
            self.stage.as_str(),
            self.executing_class
        )
    }
}

#[cfg(test)]
mod tests {
    use super::Stage;

    #[test]
    fn stages_have_connect_names() {
        assert_eq!(Stage::Transformation.as_str(), "TRANSFORMATION");
        assert_eq!(Stage::HeaderConverter.as_str(), "HEADER_CONVERTER");
    }
}
