use agento::llm_span;
use futures_util::stream::Stream;

struct NotAChunk;

#[llm_span(system = "openai", model = "gpt-4.1")]
fn reply() -> impl Stream<Item = Result<NotAChunk, std::io::Error>> {
    futures_util::stream::empty()
}

fn main() {}
