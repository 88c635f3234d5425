use agento::llm_span;

struct Chunks;

#[llm_span(system = "openai", model = "gpt-4.1", stream)]
fn reply() -> Result<Chunks, std::io::Error> {
    Ok(Chunks)
}

fn main() {}
