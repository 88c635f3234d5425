use std::future::Future;

use agento::{LlmResponse, llm_span};

struct Reply(String);

impl LlmResponse for Reply {
    fn text(&self) -> &str {
        &self.0
    }
}

#[llm_span(system = "gemini", model = "gemini-2.5-pro")]
fn ask(prompt: String) -> impl Future<Output = Result<Reply, std::io::Error>> {
    let prompt = prompt.to_uppercase();
    async move { Ok(Reply(prompt)) }
}

fn main() {
    let _ = ask("bakery".to_owned());
}
