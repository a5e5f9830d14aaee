//! One place that decides what happens when a stage fails (Connect's
//! `RetryWithToleranceOperator`): retriable failures are retried with
//! backoff, as long as the stage's retry limit allows; what still fails is
//! the caller's to report under `errors.tolerance`.

use std::future::Future;
use std::pin::Pin;
use std::time::Duration;

use tokio::time::Instant;

use super::{Backoff, ErrorContext, Stage};
use crate::config_provider::Secrets;

/// How long a stage retries a retriable failure.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RetryLimit {
    /// `errors.retry.timeout=0`: the first failure is final.
    Never,
    /// Retry until this much time has passed since the first failure.
    For(Duration),
    /// `errors.retry.timeout=-1`, and always for a sink's `put` (Connect
    /// retries a `RetriableException` from `put` without end).
    Forever,
}

impl RetryLimit {
    /// Connect's meaning of `errors.retry.timeout` in milliseconds.
    pub fn from_timeout_ms(ms: i64) -> Self {
        match ms {
            0 => Self::Never,
            ms if ms < 0 => Self::Forever,
            ms => Self::For(Duration::from_millis(ms as u64)),
        }
    }
}

/// How one attempt of a stage failed.
#[derive(Debug, Clone)]
pub enum StageFailure {
    /// Worth another attempt (the sink or a service it needs is down).
    Retriable(ErrorContext),
    /// No attempt will succeed (a poison record, a fatal sink error).
    Final(ErrorContext),
    /// A service the stage needs is out of reach (a schema registry): the
    /// record is not at fault, so it is retried without end, whatever the
    /// stage's limit, and never sent to the DLQ for it.
    Unavailable(ErrorContext),
}

impl StageFailure {
    pub fn context(&self) -> &ErrorContext {
        match self {
            StageFailure::Retriable(ctx)
            | StageFailure::Final(ctx)
            | StageFailure::Unavailable(ctx) => ctx,
        }
    }
}

/// What a stage came to.
#[derive(Debug)]
pub enum Outcome<T> {
    Done(T),
    /// It failed for good: report it (DLQ, log, or fail the task).
    Failed(ErrorContext),
    /// The task was told to stop while waiting to retry.
    Stopped,
}

/// What the operator needs from the task between attempts.
pub trait RetryHost {
    /// Wait `delay` (keeping the consumer alive, fetching paused); `false`
    /// when the task must stop instead of retrying.
    fn wait(&mut self, delay: Duration) -> impl Future<Output = bool> + Send;
}

/// One attempt of a stage, borrowing the host for its duration.
pub type Attempt<'a, T> = Pin<Box<dyn Future<Output = Result<T, StageFailure>> + Send + 'a>>;

/// Gives a closure the signature [`RetryWithToleranceOperator::execute`]
/// takes (an attempt borrowing the host for as long as it runs), which
/// closure inference alone does not find.
pub fn attempt<H, T, F>(f: F) -> F
where
    F: for<'a> FnMut(&'a mut H) -> Attempt<'a, T>,
{
    f
}

#[derive(Debug, Clone)]
pub struct RetryWithToleranceOperator {
    /// The limit of the convert stages (`errors.retry.timeout`).
    convert_limit: RetryLimit,
    /// `errors.retry.delay.max.ms`.
    delay_max: Duration,
    /// Counts every retry (Connect's `total-retries`).
    retries: metrics::Counter,
    /// Taken out of the retry warnings.
    secrets: Secrets,
}

/// The first retry waits about this long, then the wait doubles.
const FIRST_DELAY: Duration = Duration::from_millis(100);

impl RetryWithToleranceOperator {
    pub fn new(convert_limit: RetryLimit, delay_max: Duration) -> Self {
        Self {
            convert_limit,
            delay_max,
            retries: metrics::Counter::noop(),
            secrets: Secrets::default(),
        }
    }

    /// Mask `secrets` in the warnings it logs.
    pub fn masking(self, secrets: Secrets) -> Self {
        Self { secrets, ..self }
    }

    /// Count retries in `retries`.
    pub fn counting(self, retries: metrics::Counter) -> Self {
        Self { retries, ..self }
    }

    fn limit(&self, stage: Stage) -> RetryLimit {
        match stage {
            Stage::KeyConverter
            | Stage::ValueConverter
            | Stage::HeaderConverter
            | Stage::Transformation => self.convert_limit,
            Stage::TaskPut => RetryLimit::Forever,
        }
    }

    /// Run `attempt` until it succeeds, fails for good, or the retry limit
    /// of the stage it failed in is spent; between attempts `host` waits
    /// with backoff.
    pub async fn execute<H: RetryHost, T>(
        &self,
        host: &mut H,
        mut attempt: impl for<'a> FnMut(&'a mut H) -> Attempt<'a, T>,
    ) -> Outcome<T> {
        let mut backoff = Backoff::new(FIRST_DELAY, self.delay_max);
        let mut first_failure: Option<Instant> = None;
        loop {
            let (failure, limit) = match attempt(host).await {
                Ok(value) => return Outcome::Done(value),
                Err(StageFailure::Final(ctx)) => return Outcome::Failed(ctx),
                Err(StageFailure::Retriable(ctx)) => {
                    let limit = self.limit(ctx.stage);
                    (ctx, limit)
                }
                Err(StageFailure::Unavailable(ctx)) => (ctx, RetryLimit::Forever),
            };
            let since = *first_failure.get_or_insert_with(Instant::now);
            let mut delay = backoff.next_delay();
            match limit {
                RetryLimit::Never => return Outcome::Failed(failure),
                RetryLimit::For(limit) => {
                    let left = limit.saturating_sub(since.elapsed());
                    if left.is_zero() {
                        return Outcome::Failed(failure);
                    }
                    delay = delay.min(left);
                }
                RetryLimit::Forever => {}
            }
            let what = match failure.stage {
                Stage::TaskPut => "sink is unavailable",
                Stage::KeyConverter | Stage::ValueConverter | Stage::HeaderConverter => {
                    "converter cannot proceed"
                }
                Stage::Transformation => "transformation cannot proceed",
            };
            tracing::warn!(
                stage = failure.stage.as_str(),
                attempt = backoff.attempts(),
                "{what}, retrying in {delay:?}: {}: {}",
                self.secrets.mask(&failure.exception_class),
                self.secrets.mask(&failure.message)
            );
            self.retries.increment(1);
            if !host.wait(delay).await {
                return Outcome::Stopped;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Counts waits; stops after `stop_after` of them.
    struct Host {
        waited: Vec<Duration>,
        stop_after: usize,
    }

    impl RetryHost for Host {
        async fn wait(&mut self, delay: Duration) -> bool {
            self.waited.push(delay);
            tokio::time::sleep(delay).await;
            self.waited.len() < self.stop_after
        }
    }

    fn host() -> Host {
        Host {
            waited: Vec::new(),
            stop_after: usize::MAX,
        }
    }

    fn ctx(stage: Stage) -> ErrorContext {
        ErrorContext {
            stage,
            executing_class: "test".into(),
            exception_class: "RetriableException".into(),
            message: "registry down".into(),
        }
    }

    /// Fails retriably `failures` times, then succeeds.
    fn flaky(
        stage: Stage,
        failures: usize,
    ) -> impl for<'a> FnMut(&'a mut Host) -> Attempt<'a, usize> {
        let mut calls = 0;
        move |_: &mut Host| {
            calls += 1;
            let result = if calls <= failures {
                Err(StageFailure::Retriable(ctx(stage)))
            } else {
                Ok(calls)
            };
            Box::pin(async move { result })
        }
    }

    fn operator(timeout_ms: i64) -> RetryWithToleranceOperator {
        RetryWithToleranceOperator::new(
            RetryLimit::from_timeout_ms(timeout_ms),
            Duration::from_secs(1),
        )
    }

    #[tokio::test(start_paused = true)]
    async fn a_zero_timeout_does_not_retry_a_conversion() {
        let mut host = host();
        let outcome = operator(0)
            .execute(&mut host, flaky(Stage::ValueConverter, 1))
            .await;
        assert!(matches!(outcome, Outcome::Failed(c) if c.message == "registry down"));
        assert!(host.waited.is_empty());
    }

    #[tokio::test(start_paused = true)]
    async fn a_conversion_is_retried_until_the_timeout_then_fails() {
        let mut host = host();
        let started = Instant::now();
        let outcome = operator(5_000)
            .execute(&mut host, flaky(Stage::KeyConverter, usize::MAX))
            .await;
        assert!(matches!(outcome, Outcome::Failed(_)));
        let took = started.elapsed();
        assert!(
            took >= Duration::from_secs(5) && took < Duration::from_secs(6),
            "gave up after {took:?}"
        );
        assert!(host.waited.len() > 3, "{:?}", host.waited);

        // Within the timeout, a conversion that recovers succeeds.
        let outcome = operator(5_000)
            .execute(&mut host, flaky(Stage::KeyConverter, 2))
            .await;
        assert!(matches!(outcome, Outcome::Done(3)));
    }

    #[tokio::test(start_paused = true)]
    async fn minus_one_retries_a_conversion_forever() {
        let mut host = host();
        let outcome = operator(-1)
            .execute(&mut host, flaky(Stage::ValueConverter, 50))
            .await;
        assert!(matches!(outcome, Outcome::Done(51)));
        assert!(host.waited.iter().all(|d| *d <= Duration::from_secs(1)));
    }

    #[tokio::test(start_paused = true)]
    async fn a_put_is_retried_whatever_the_timeout_until_told_to_stop() {
        let mut host = host();
        let outcome = operator(0)
            .execute(&mut host, flaky(Stage::TaskPut, 20))
            .await;
        assert!(
            matches!(outcome, Outcome::Done(21)),
            "errors.retry.timeout does not bound put"
        );
        let mut stopping = Host {
            waited: Vec::new(),
            stop_after: 3,
        };
        let outcome = operator(0)
            .execute(&mut stopping, flaky(Stage::TaskPut, usize::MAX))
            .await;
        assert!(matches!(outcome, Outcome::Stopped));
        assert_eq!(stopping.waited.len(), 3);
    }

    #[tokio::test(start_paused = true)]
    async fn a_final_failure_is_never_retried() {
        let mut host = host();
        let outcome = operator(-1)
            .execute(&mut host, |_: &mut Host| {
                Box::pin(async { Err::<(), _>(StageFailure::Final(ctx(Stage::TaskPut))) })
            })
            .await;
        assert!(matches!(outcome, Outcome::Failed(_)));
        assert!(host.waited.is_empty());
    }
}
