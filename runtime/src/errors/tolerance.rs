use rdkafka::message::{Message, OwnedMessage};

use super::{DeadLetterQueue, ErrorContext};
use crate::config_provider::Secrets;
use crate::connector_config::{ErrorHandlingConfig, Tolerance};
use crate::monitoring::TaskMetrics;

/// Why a task stopped: becomes the FAILED status and its trace.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{trace}")]
pub struct TaskFailure {
    pub trace: String,
}

impl TaskFailure {
    pub fn new(trace: impl Into<String>) -> Self {
        Self {
            trace: trace.into(),
        }
    }

    /// The same failure with `secrets` taken out of its trace.
    pub fn masked(self, secrets: &Secrets) -> Self {
        Self::new(secrets.mask(&self.trace))
    }

    /// A trace from an error and its chain of causes, one per line as a
    /// Java trace lists them.
    pub fn from_error(error: &dyn std::error::Error) -> Self {
        let mut trace = error.to_string();
        let mut cause = error.source();
        while let Some(e) = cause {
            trace.push_str("\nCaused by: ");
            trace.push_str(&e.to_string());
            cause = e.source();
        }
        Self::new(trace)
    }
}

/// Applies `errors.tolerance` to a poison record: log it, dead-letter it, or
/// fail the task. Every stage reports through here.
pub struct ErrorReporter {
    config: ErrorHandlingConfig,
    dlq: Option<DeadLetterQueue>,
    task_label: String,
    metrics: TaskMetrics,
    /// Taken out of every message, log line and DLQ header.
    secrets: Secrets,
}

impl ErrorReporter {
    pub fn new(
        config: ErrorHandlingConfig,
        dlq: Option<DeadLetterQueue>,
        task_label: String,
        metrics: TaskMetrics,
    ) -> Self {
        Self {
            config,
            dlq,
            task_label,
            metrics,
            secrets: Secrets::default(),
        }
    }

    /// Mask `secrets` in what the reporter writes (the error log, the DLQ
    /// headers, the failure when tolerance is exceeded).
    pub fn masking(self, secrets: Secrets) -> Self {
        Self { secrets, ..self }
    }

    /// `Ok` means the record is dealt with (skipped, in the DLQ if there is
    /// one) and its offset may be committed; `Err` means the task must fail.
    pub async fn report(
        &self,
        record: &OwnedMessage,
        ctx: &ErrorContext,
    ) -> Result<(), TaskFailure> {
        // A sink's or converter's message may echo a secret (a client
        // library quoting a malformed key): none leaves from here.
        let masked = ErrorContext {
            exception_class: self.secrets.mask(&ctx.exception_class),
            message: self.secrets.mask(&ctx.message),
            ..ctx.clone()
        };
        let ctx = &masked;
        self.metrics.records_failed.increment(1);
        if self.config.tolerance == Tolerance::None {
            return Err(TaskFailure::new(format!(
                "ConnectException: Tolerance exceeded in error handler\nCaused by: {}\n\tat record topic={} partition={} offset={}",
                ctx.trace(),
                record.topic(),
                record.partition(),
                record.offset()
            )));
        }
        if self.config.log_enable {
            let contents = if self.config.log_include_messages {
                let shown = |bytes: Option<&[u8]>| {
                    self.secrets
                        .mask(&bytes.map(String::from_utf8_lossy).unwrap_or_default())
                };
                format!(
                    ", key='{}', value='{}'",
                    shown(record.key()),
                    shown(record.payload())
                )
            } else {
                String::new()
            };
            tracing::error!(
                "Error encountered in task {}. Executing stage '{}' with class '{}', where consumed record is \
                 {{topic='{}', partition={}, offset={}{contents}}}: {}: {}",
                self.task_label,
                ctx.stage.as_str(),
                ctx.executing_class,
                record.topic(),
                record.partition(),
                record.offset(),
                ctx.exception_class,
                ctx.message,
            );
        }
        if let Some(dlq) = &self.dlq {
            // A DLQ that cannot be written must not lose the record: fail.
            if let Err(e) = dlq.send(record, ctx).await {
                self.metrics.dlq_failures.increment(1);
                return Err(TaskFailure::from_error(&e));
            }
            self.metrics.dlq_produced.increment(1);
        }
        self.metrics.records_skipped.increment(1);
        Ok(())
    }
}
