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
        let Pipeline {
            vendors,
            console,
            stream,
            ..
        } = self.pipeline;
        if !stream {
            return vendors.chat(vendor, request).await;
        }
        let started = Instant::now();
        let stream = vendors.chat_stream(vendor, request).await?;
        console.stream_start();
        let mut first_chunk = None;
        let mut chunks = 0_u64;
        let reply = collect(vendor, vendors.model(vendor), stream, |text| {
            chunks += 1;
            first_chunk.get_or_insert_with(|| started.elapsed().as_secs_f64());
            console.stream_text(text);
        })
        .await;
        record_streamed(first_chunk, chunks);
        reply
    }
}
