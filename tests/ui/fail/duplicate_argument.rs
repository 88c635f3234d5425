use agento::llm_span;
struct Reply;
impl agento::LlmResponse for Reply { fn text(&self) -> &str { "" } }
#[llm_span(system = "gemini", model = "a", model = "b")]
fn call() -> Result<Reply, std::fmt::Error> { Ok(Reply) }
fn main() { let _ = call(); }
