use agento::llm_span;
#[llm_span(system = "openai", model = "gpt-4.1")]
struct Client;
fn main() {}
