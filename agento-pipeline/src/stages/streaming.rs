//! `agento run --stream`: each call asks its vendor for server-sent events,
//! shows the text as it arrives (on a terminal) and assembles the same
//! [`Reply`] a plain call returns, so the stage outputs and the trace are the
//! same. The call's LLM span (opened by `#[llm_span]` around the body)
//! additionally records `gen_ai.request.stream`,
//! `gen_ai.response.time_to_first_chunk` and `agento.response.chunks`.

use std::time::Instant;

use agento::record_streamed;

use super::Pipeline;
use super::calls::Calls;
use crate::vendors::stream::collect;
use crate::vendors::{ChatRequest, Reply, Vendor, VendorError};

impl Calls<'_> {
    /// One call of `vendor`: streamed under `--stream`, else whole.
    pub(super) async fn ask(
        &self,
        vendor: Vendor,
        request: &ChatRequest<'_>,
    ) -> Result<Reply, VendorError> {
        let pipeline = Pipeline::get().ok();
        if !pipeline.is_some_and(|p| p.stream) {
            return match vendor {
                Vendor::Gemini => self.vendors.gemini.chat(request).await,
                Vendor::OpenAi => self.vendors.openai.chat(request).await,
                Vendor::Anthropic => self.vendors.anthropic.chat(request).await,
            };
        }
        let started = Instant::now();
        let (stream, model) = match vendor {
            Vendor::Gemini => (
                self.vendors.gemini.chat_stream(request).await?,
                self.vendors.gemini.model(),
            ),
            Vendor::OpenAi => (
                self.vendors.openai.chat_stream(request).await?,
                self.vendors.openai.model(),
            ),
            Vendor::Anthropic => (
                self.vendors.anthropic.chat_stream(request).await?,
                self.vendors.anthropic.model(),
            ),
        };
        let console = pipeline.map(|p| &p.console);
        if let Some(console) = console {
            console.stream_start();
        }
        let mut first_chunk = None;
        let mut chunks = 0_u64;
        let reply = collect(vendor, model, stream, |text| {
            chunks += 1;
            first_chunk.get_or_insert_with(|| started.elapsed().as_secs_f64());
            if let Some(console) = console {
                console.stream_text(text);
            }
        })
        .await;
        record_streamed(first_chunk, chunks);
        reply
    }
}
