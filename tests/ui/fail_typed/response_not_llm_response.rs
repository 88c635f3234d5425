use agento::llm_span;
#[llm_span(system = "gemini", model = "gemini-2.5-pro")]
fn call() -> Result<u32, std::fmt::Error> { Ok(1) }
fn main() { let _ = call(); }
