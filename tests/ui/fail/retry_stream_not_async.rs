use agento::{LlmChunk, llm_span, retry_spans};
use futures_util::stream::Stream;

struct Chunk;

impl LlmChunk for Chunk {
    fn text_delta(&self) -> &str {
        ""
    }
}

#[retry_spans(max = 2)]
#[llm_span(system = "openai", model = "gpt-4.1")]
fn reply() -> Result<impl Stream<Item = Result<Chunk, std::io::Error>>, std::io::Error> {
    Ok(futures_util::stream::empty())
}

fn main() {}
