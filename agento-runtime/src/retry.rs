//! The retry driver behind `#[retry_spans]`: a `<name>.with_retry` span with one
//! `attempt_<n>` child per try.

use std::time::Duration;

use opentelemetry::trace::SpanKind as OtelSpanKind;
use opentelemetry::{Context, KeyValue};

use crate::attempt::{AttemptMarker, attempt_name};
use crate::attributes::{GEN_AI_SYSTEM, RETRY_ATTEMPT, RETRY_MAX_ATTEMPTS};
use crate::backoff::Backoff;
use crate::error::ErrorReport;
use crate::semconv::Semconv;
use crate::span::{SpanGuard, SpanKind};

/// What is fixed for every call of one retried function.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetrySpec {
    /// The span name, `<name>.with_retry`.
    pub span_name: &'static str,
    /// The OpenInference kind of the retry span (`CHAIN`: it groups attempts;
    /// over `#[llm_span]` each attempt is the LLM span).
    pub kind: SpanKind,
    /// `gen_ai.system` of the call, when it is an LLM call (memo convention).
    pub system: Option<&'static str>,
    /// `retry.max_attempts`, at least 1.
    pub max_attempts: u32,
    /// The delay between attempts.
    pub backoff: Backoff,
    /// Whether the driver opens the `attempt_<n>` spans itself. `false` when
    /// `#[llm_span]` is stacked below: the LLM span then is the attempt span.
    pub attempt_spans: bool,
}

/// One attempt in progress.
#[derive(Debug)]
pub struct Attempt {
    cx: Context,
    span: Option<SpanGuard>,
    number: u32,
}

impl Attempt {
    /// The context to run the attempt in.
    pub fn context(&self) -> &Context {
        &self.cx
    }

    /// The attempt number, from 0.
    pub fn number(&self) -> u32 {
        self.number
    }
}

/// What to do after an attempt.
#[derive(Debug)]
pub enum RetryStep<T, E> {
    /// Return this result to the caller.
    Done(Result<T, E>),
    /// Sleep this long, then try again.
    Wait(Duration),
}

/// A retried call in progress.
///
/// ```
/// use agento_runtime::SpanKind;
/// use agento_runtime::__private::{Backoff, Retry, RetrySpec, RetryStep};
/// static SPEC: RetrySpec = RetrySpec {
///     span_name: "fetch.with_retry", kind: SpanKind::Chain, system: None,
///     max_attempts: 3, backoff: Backoff::None, attempt_spans: true,
/// };
/// let mut retry = Retry::start(&SPEC);
/// let result = loop {
///     let attempt = retry.begin_attempt();
///     let outcome: Result<u32, String> = if attempt.number() == 0 { Err("flaky".into()) } else { Ok(7) };
///     let failure = outcome.as_ref().err().map(|e| (agento_runtime::ErrorReport::of(e), true));
///     match retry.finish_attempt(attempt, outcome, failure) {
///         RetryStep::Done(result) => break result,
///         RetryStep::Wait(delay) => std::thread::sleep(delay),
///     }
/// };
/// assert_eq!(result, Ok(7));
/// ```
#[derive(Debug)]
pub struct Retry {
    span: SpanGuard,
    spec: &'static RetrySpec,
    next: u32,
}

impl Retry {
    /// Opens the retry span as a child of the current context.
    pub fn start(spec: &'static RetrySpec) -> Self {
        let mut attributes = vec![KeyValue::new(
            RETRY_MAX_ATTEMPTS,
            i64::from(spec.max_attempts),
        )];
        if let Some(system) = spec.system.filter(|_| Semconv::current().memo) {
            attributes.push(KeyValue::new(GEN_AI_SYSTEM, system));
        }
        let span = SpanGuard::start_with(
            spec.span_name,
            spec.kind,
            OtelSpanKind::Internal,
            attributes,
        );
        Self {
            span,
            spec,
            next: 0,
        }
    }

    /// The retry span's context.
    pub fn context(&self) -> &Context {
        self.span.context()
    }

    /// Begins the next attempt.
    pub fn begin_attempt(&mut self) -> Attempt {
        let number = self.next;
        self.next += 1;
        if self.spec.attempt_spans {
            let span = SpanGuard::start_in(
                self.span.context(),
                attempt_name(number),
                self.spec.kind,
                OtelSpanKind::Internal,
                vec![KeyValue::new(RETRY_ATTEMPT, i64::from(number))],
            );
            Attempt {
                cx: span.context().clone(),
                span: Some(span),
                number,
            }
        } else {
            let retry_span = self.span.span().span_context().span_id();
            Attempt {
                cx: self.span.context().with_value(AttemptMarker {
                    retry_span,
                    attempt: number,
                }),
                span: None,
                number,
            }
        }
    }

    /// Ends `attempt` with `result`. `failure` is the report of the error and
    /// whether it may be retried (`None` for `Ok`).
    pub fn finish_attempt<T, E>(
        &mut self,
        attempt: Attempt,
        result: Result<T, E>,
        failure: Option<(ErrorReport, bool)>,
    ) -> RetryStep<T, E> {
        let Some((report, retryable)) = failure else {
            if let Some(span) = &attempt.span {
                span.set_ok();
            }
            self.span.set_ok();
            return RetryStep::Done(result);
        };
        if let Some(span) = &attempt.span {
            span.record_report(&report);
        }
        drop(attempt);
        let attempts = self.next;
        if retryable && attempts < self.spec.max_attempts {
            return RetryStep::Wait(self.spec.backoff.delay(attempts - 1, report.retry_after));
        }
        let message = if retryable {
            format!(
                "all {attempts} attempts failed; last error: {}",
                report.message
            )
        } else {
            format!(
                "attempt {} failed with an error that is not retried: {}",
                attempts - 1,
                report.message
            )
        };
        self.span.record_error(&report.error_type, &message);
        RetryStep::Done(result)
    }
}

/// Sleeps `delay` in an async context (tokio).
pub async fn sleep(delay: Duration) {
    tokio::time::sleep(delay).await;
}
