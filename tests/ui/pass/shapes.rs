//! Every shape of function the macros accept: sync, async, methods (`&self`,
//! `&mut self`), generics, `impl Trait` returns, a model from an expression,
//! retry stacked on llm_span, and each module role.

use agento::{LlmResponse, agento_module, llm_span, retry_spans, step};

struct Reply(String);

impl LlmResponse for Reply {
    fn text(&self) -> &str {
        &self.0
    }
}

#[derive(Debug)]
struct Failure;

impl std::fmt::Display for Failure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("failure")
    }
}

struct Client {
    model: String,
    calls: u32,
}

impl Client {
    #[llm_span(system = "anthropic", model = self.model.as_str(), max_tokens = 1024_u32)]
    fn sync_call(&self, prompt: &str) -> Result<Reply, Failure> {
        Ok(Reply(prompt.to_owned()))
    }

    #[llm_span(system = "openai", model = &self.model, temperature = Some(0.3_f32))]
    async fn async_call(&self, prompt: &str) -> Result<Reply, Failure> {
        Ok(Reply(prompt.to_owned()))
    }

    #[retry_spans(max = 2, base_ms = 1)]
    #[llm_span(system = other("mistral"), model = self.model.clone(), skip(prompt, response), prompt = prompt)]
    fn counted(&mut self, prompt: &str) -> Result<Reply, Failure> {
        self.calls += 1;
        Ok(Reply(prompt.to_owned()))
    }

    #[retry_spans(max = 3, backoff = "none")]
    #[llm_span(system = "gemini", model = "gemini-2.5-pro", name = "llm.gemini.custom")]
    async fn retried(&self, prompt: &str) -> Result<Reply, Failure> {
        self.async_call(prompt).await
    }

    #[step(kind = AGENT, fields(label))]
    fn labelled<T: std::fmt::Display>(&self, label: &str, value: T) -> String {
        format!("{label}{value}")
    }
}

#[retry_spans(max = 1)]
fn plain_retry(n: &u32) -> Result<u32, std::io::Error> {
    Ok(*n)
}

#[step]
fn numbers(limit: u32) -> impl Iterator<Item = u32> {
    0..limit
}

#[step(name = "generic_step", fields(item))]
async fn generic<T: AsRef<str> + Send>(item: String, rest: T) -> Result<usize, Failure> {
    Ok(item.len() + rest.as_ref().len())
}

#[agento_module(name = "1_01_JSON_Goal_to_PlanStructure", first, goal = String::from("Open a bakery"))]
fn first_stage() -> Result<(), Failure> {
    Ok(())
}

#[agento_module(name = "2_Revise-Plan-Stable", final)]
async fn final_stage(client: &Client, steps: &[&str]) -> Result<u32, Failure> {
    agento::record_final_response(&steps);
    Ok(client.calls)
}

#[agento_module(root, crate = ::agento)]
fn whole_run() {}

#[agento_module]
#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Failure> {
    let mut client = Client { model: "claude-sonnet-4-5".into(), calls: 0 };
    client.sync_call("a")?;
    client.async_call("b").await?;
    client.counted("c")?;
    client.retried("d").await?;
    let _ = client.labelled("x", 1);
    let _ = plain_retry(&1);
    let _: Vec<u32> = numbers(3).collect();
    generic(String::new(), "y").await?;
    first_stage()?;
    final_stage(&client, &["step"]).await?;
    whole_run();
    Ok(())
}
