//! Functions whose future is written out rather than `async fn`: a body that
//! returns `impl Future` built from one `async` block, a `BoxFuture` built by
//! `Box::pin(async move { … })`, and `#[async_trait]` methods (whose bodies
//! become the latter). The macros see
//! through both, as `tracing-attributes` does: the spans are the same as for
//! the `async fn` they stand for, and they last as long as the future.

use std::future::Future;
use std::sync::atomic::{AtomicU32, Ordering};

use agento::attributes;
use agento::{ErrorInfo, LlmResponse, llm_span, retry_spans, step};
use async_trait::async_trait;
use futures_util::future::BoxFuture;
use opentelemetry::Value;
use opentelemetry::trace::Status;

mod common;
use common::{attr, block_on, one, record};

#[derive(Debug)]
struct Reply(String);

impl LlmResponse for Reply {
    fn text(&self) -> &str {
        &self.0
    }
}

#[derive(Debug)]
struct Busy;

impl std::fmt::Display for Busy {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("the vendor is busy")
    }
}

impl ErrorInfo for Busy {
    fn error_type(&self) -> std::borrow::Cow<'static, str> {
        "http.503".into()
    }
}

#[llm_span(system = "gemini", model = "gemini-2.5-pro", prompt = prompt)]
fn ask_later(prompt: &str) -> impl Future<Output = Result<Reply, Busy>> + '_ {
    async move {
        tokio::time::sleep(std::time::Duration::from_millis(30)).await;
        Ok(Reply(prompt.to_uppercase()))
    }
}

#[test]
fn impl_future_gets_the_span_of_the_async_fn_it_stands_for() {
    let (reply, spans) = record(|| {
        block_on(async {
            let future = ask_later("bakery");
            // Nothing ran yet: the span starts when the future is first polled.
            let started = std::time::Instant::now();
            let reply = future.await;
            (reply, started.elapsed())
        })
    });
    let (reply, waited) = reply;
    assert_eq!(reply.expect("a reply").0, "BAKERY");
    let span = one(&spans, "llm.gemini.ask_later");
    assert_eq!(
        attr(span, attributes::GEN_AI_SYSTEM),
        Some(Value::from("gemini"))
    );
    assert_eq!(
        attr(span, attributes::GEN_AI_RESPONSE_CONTENT),
        Some(Value::from("BAKERY"))
    );
    let lasted = span
        .end_time
        .duration_since(span.start_time)
        .expect("end after start");
    assert!(
        lasted >= std::time::Duration::from_millis(30) && lasted <= waited,
        "the span covers the future's run: {lasted:?} of {waited:?}"
    );
}

#[step(fields(goal))]
fn outline(goal: String) -> BoxFuture<'static, Result<String, Busy>> {
    Box::pin(async move { Ok(ask_later(&goal).await?.0) })
}

#[test]
fn box_future_gets_the_span_of_the_async_fn_it_stands_for() {
    let (outline, spans) = record(|| block_on(outline("bakery".to_owned())));
    assert_eq!(outline.expect("an outline"), "BAKERY");
    let step = one(&spans, "outline");
    assert_eq!(attr(step, "agento.goal"), Some(Value::from("bakery")));
    assert_eq!(step.status, Status::Ok);
    let call = one(&spans, "llm.gemini.ask_later");
    assert_eq!(
        call.parent_span_id,
        step.span_context.span_id(),
        "the call made while the future runs is inside the step span"
    );
    assert!(call.end_time <= step.end_time);
}

#[async_trait]
trait Vendor {
    async fn ask(&self, prompt: &str) -> Result<Reply, Busy>;
    async fn plan(&self, goal: &str) -> Result<String, Busy>;
}

struct Flaky {
    model: String,
    calls: AtomicU32,
}

#[async_trait]
impl Vendor for Flaky {
    #[retry_spans(max = 3, backoff = "none")]
    #[llm_span(system = "openai", model = self.model.as_str(), prompt = prompt)]
    async fn ask(&self, prompt: &str) -> Result<Reply, Busy> {
        if self.calls.fetch_add(1, Ordering::SeqCst) == 0 {
            return Err(Busy);
        }
        Ok(Reply(format!("draft for {prompt}")))
    }

    #[step(kind = AGENT, fields(goal))]
    async fn plan(&self, goal: &str) -> Result<String, Busy> {
        Ok(self.ask(goal).await?.0)
    }
}

#[test]
fn async_trait_methods_get_attempt_and_step_spans() {
    let vendor = Flaky {
        model: "gpt-4.1".to_owned(),
        calls: AtomicU32::new(0),
    };
    let (plan, spans) = record(|| block_on(vendor.plan("bakery")));
    assert_eq!(plan.expect("a plan"), "draft for bakery");
    let step = one(&spans, "plan");
    assert_eq!(
        attr(step, attributes::OPENINFERENCE_SPAN_KIND),
        Some(Value::from("AGENT"))
    );
    assert_eq!(attr(step, "agento.goal"), Some(Value::from("bakery")));
    let retry = one(&spans, "llm.openai.ask.with_retry");
    assert_eq!(retry.parent_span_id, step.span_context.span_id());
    let failed = one(&spans, "attempt_0");
    let succeeded = one(&spans, "attempt_1");
    for attempt in [failed, succeeded] {
        assert_eq!(attempt.parent_span_id, retry.span_context.span_id());
        assert_eq!(
            attr(attempt, attributes::GEN_AI_REQUEST_MODEL),
            Some(Value::from("gpt-4.1"))
        );
    }
    assert!(
        matches!(failed.status, Status::Error { .. }),
        "{:?}",
        failed.status
    );
    assert_eq!(attr(failed, "error.type"), Some(Value::from("http.503")));
    assert_eq!(succeeded.status, Status::Ok);
    assert_eq!(
        attr(succeeded, attributes::GEN_AI_RESPONSE_CONTENT),
        Some(Value::from("draft for bakery"))
    );
}
