//! The retry policy: transient failures repeated with jittered exponential backoff within a
//! time budget (`RETRY_TIMEOUT`).

use std::future::Future;
use std::time::{Duration, Instant};

use backon::{ExponentialBuilder, Retryable};

/// First delay between attempts; it doubles (with full jitter) up to [`MAX_DELAY`].
pub const MIN_DELAY: Duration = Duration::from_millis(200);
/// Longest delay between two attempts.
pub const MAX_DELAY: Duration = Duration::from_secs(10);

/// How long one step may spend retrying transient failures.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    /// No retry is started that would begin after this much time (`ZERO`: one attempt).
    pub budget: Duration,
}

impl RetryPolicy {
    /// A policy with this budget.
    pub fn within(budget: Duration) -> Self {
        Self { budget }
    }

    /// Runs `op` until it succeeds, fails permanently (`is_transient` false), or the next delay
    /// would end after the budget. Each retry is logged as one warning line naming `step` and
    /// the cause (`describe`). The total time is bounded by the budget plus one request timeout.
    pub async fn run<T, E, F, Fut>(
        &self,
        step: &str,
        is_transient: impl Fn(&E) -> bool,
        describe: impl Fn(&E) -> String,
        op: F,
    ) -> Result<T, E>
    where
        F: FnMut() -> Fut,
        Fut: Future<Output = Result<T, E>>,
    {
        let deadline = Instant::now() + self.budget;
        let backoff = ExponentialBuilder::default()
            .with_min_delay(MIN_DELAY)
            .with_max_delay(MAX_DELAY)
            .with_factor(2.0)
            .with_jitter()
            .without_max_times();
        op.retry(backoff)
            .when(is_transient)
            .adjust(move |_, delay| delay.filter(|d| Instant::now() + *d <= deadline))
            .notify(|err, delay| {
                tracing::warn!(
                    step,
                    retry_in_ms = u64::try_from(delay.as_millis()).unwrap_or(u64::MAX),
                    cause = %describe(err),
                    "transient failure, retrying"
                );
            })
            .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::cell::Cell;

    #[tokio::test]
    async fn a_transient_failure_is_retried_until_success() {
        let calls = Cell::new(0);
        let result: Result<&str, &str> = RetryPolicy::within(Duration::from_secs(30))
            .run(
                "test",
                |_: &&str| true,
                |e| e.to_string(),
                || async {
                    calls.set(calls.get() + 1);
                    if calls.get() < 3 {
                        Err("busy")
                    } else {
                        Ok("done")
                    }
                },
            )
            .await;
        assert_eq!(result, Ok("done"));
        assert_eq!(calls.get(), 3);
    }

    #[tokio::test]
    async fn a_permanent_failure_is_not_retried() {
        let calls = Cell::new(0);
        let result: Result<(), &str> = RetryPolicy::within(Duration::from_secs(30))
            .run(
                "test",
                |_: &&str| false,
                |e| e.to_string(),
                || async {
                    calls.set(calls.get() + 1);
                    Err("denied")
                },
            )
            .await;
        assert_eq!(result, Err("denied"));
        assert_eq!(calls.get(), 1);
    }

    #[tokio::test]
    async fn a_zero_budget_means_a_single_attempt() {
        let calls = Cell::new(0);
        let result: Result<(), &str> = RetryPolicy::within(Duration::ZERO)
            .run(
                "test",
                |_: &&str| true,
                |e| e.to_string(),
                || async {
                    calls.set(calls.get() + 1);
                    Err("busy")
                },
            )
            .await;
        assert_eq!(result, Err("busy"));
        assert_eq!(calls.get(), 1);
    }
}
