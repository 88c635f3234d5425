use agento::{llm_span, retry_spans};
struct Reply;
impl agento::LlmResponse for Reply { fn text(&self) -> &str { "" } }
#[llm_span(system = "gemini", model = "gemini-2.5-pro")]
#[retry_spans(max = 3)]
fn call() -> Result<Reply, std::fmt::Error> { Ok(Reply) }
fn main() { let _ = call(); }
