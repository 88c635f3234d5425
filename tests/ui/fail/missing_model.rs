use agento::llm_span;
struct Reply;
impl agento::LlmResponse for Reply { fn text(&self) -> &str { "" } }
#[llm_span(system = "openai")]
fn call() -> Result<Reply, std::fmt::Error> { Ok(Reply) }
fn main() { let _ = call(); }
