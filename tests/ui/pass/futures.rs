//! Futures written out: `-> impl Future` built from one `async` block,
//! `BoxFuture` built by `Box::pin(async move { … })`, and `#[async_trait]`
//! methods, under each macro.
use std::future::Future;

use agento::{LlmResponse, llm_span, retry_spans, step};
use async_trait::async_trait;
use futures_util::future::{BoxFuture, LocalBoxFuture};

struct Reply(String);

impl LlmResponse for Reply {
    fn text(&self) -> &str {
        &self.0
    }
}

#[retry_spans(max = 2, backoff = "none")]
#[llm_span(system = "gemini", model = "gemini-2.5-pro", prompt = prompt)]
fn ask(prompt: &str) -> impl Future<Output = Result<Reply, std::io::Error>> + '_ {
    async move { Ok(Reply(prompt.to_owned())) }
}

#[step(fields(goal))]
fn plan(goal: String) -> impl Future<Output = Result<String, std::io::Error>> {
    async move { Ok(ask(&goal).await?.0) }
}

#[retry_spans(max = 2)]
fn bare(n: u32) -> impl Future<Output = Result<u32, std::io::Error>> {
    async move { Ok(n + 1) }
}

#[retry_spans(max = 2)]
#[llm_span(system = "openai", model = "gpt-4.1", prompt = prompt)]
fn boxed(prompt: String) -> BoxFuture<'static, Result<Reply, std::io::Error>> {
    Box::pin(async move { Ok(Reply(prompt.clone())) })
}

#[step]
fn local(n: u32) -> LocalBoxFuture<'static, u32> {
    Box::pin(async move { n + 1 })
}

#[async_trait]
trait Vendor: Send + Sync {
    async fn chat(&self, prompt: &str) -> Result<Reply, std::io::Error>;
    async fn review(&self, draft: String) -> Result<String, std::io::Error>;
}

struct Anthropic {
    model: String,
}

#[async_trait]
impl Vendor for Anthropic {
    #[retry_spans(max = 3)]
    #[llm_span(system = "anthropic", model = self.model.as_str(), prompt = prompt)]
    async fn chat(&self, prompt: &str) -> Result<Reply, std::io::Error> {
        Ok(Reply(prompt.to_owned()))
    }

    #[step(kind = EVALUATOR, fields(draft))]
    async fn review(&self, draft: String) -> Result<String, std::io::Error> {
        Ok(self.chat(&draft).await?.0)
    }
}

fn main() {
    let _ = (plan("bakery".to_owned()), bare(1));
    let _ = (boxed("bakery".to_owned()), local(1));
    let vendor: Box<dyn Vendor> = Box::new(Anthropic {
        model: "claude".to_owned(),
    });
    let _ = vendor.review("draft".to_owned());
}
