//! The three streaming vendor clients over real HTTP on loopback, against the
//! simulator's server-sent events: the assembled reply equals the
//! non-streamed one, a mid-stream error event and a stall past the timeout
//! end the stream with the right error, and a slow first chunk shows in the
//! span's time to first chunk.

use std::time::Duration;

use agento::llm_span;
use agento_pipeline::simulator::{AnswerMode, VendorBehaviour};
use agento_pipeline::vendors::stream::collect;
use agento_pipeline::vendors::{ChatRequest, Chunk, ChunkStream, Vendor, VendorError, Vendors};
use futures_util::StreamExt;
use opentelemetry::Value;
use opentelemetry_sdk::trace::InMemorySpanExporter;

mod support_vendors;
use support_vendors::{KEY, PLAN, simulator, vendors_at};

/// Each vendor's streamed reply to the plan prompt, as the items of its
/// stream, from a simulator behaving as `behaviour`, read with `timeout`.
async fn streams_of_each_vendor(
    behaviour: VendorBehaviour,
    timeout: Duration,
) -> Vec<(Vendor, Vec<Result<Chunk, VendorError>>)> {
    let simulator = simulator(behaviour).await;
    let vendors = vendors_at(&simulator.base_url(), timeout);
    let mut streams = Vec::new();
    for vendor in Vendor::ALL {
        let stream = vendors
            .chat_stream(vendor, &ChatRequest::new(PLAN))
            .await
            .expect("opens");
        streams.push((vendor, stream.collect().await));
    }
    simulator.shutdown().await;
    streams
}

#[tokio::test]
async fn each_streamed_reply_assembles_to_the_non_streamed_one() {
    let simulator = simulator(VendorBehaviour::default()).await;
    let vendors = vendors_at(&simulator.base_url(), Duration::from_secs(10));
    let request = ChatRequest::new(PLAN);
    for vendor in Vendor::ALL {
        let whole = vendors
            .chat(vendor, &request)
            .await
            .expect("the plain call");
        let stream = vendors
            .chat_stream(vendor, &request)
            .await
            .expect("the stream opens");
        let mut deltas = 0;
        let streamed = collect(vendor, "unnamed", stream, |text| {
            if !text.is_empty() {
                deltas += 1;
            }
        })
        .await
        .expect("the stream ends well");
        assert!(
            deltas > 3,
            "{vendor}: the plan came in {deltas} text chunks"
        );
        assert_eq!(streamed.text, whole.text, "{vendor}");
        assert_eq!(streamed.usage, whole.usage, "{vendor}");
        assert_eq!(streamed.finish_reasons, whole.finish_reasons, "{vendor}");
        assert_eq!(streamed.model, whole.model, "{vendor}");
        assert!(streamed.id.is_some(), "{vendor}");
    }
    simulator.shutdown().await;
}

#[tokio::test]
async fn a_streamed_answer_stopped_for_safety_is_blocked_as_a_whole_one_is() {
    let simulator = simulator(VendorBehaviour {
        mode: AnswerMode::Safety,
        ..VendorBehaviour::default()
    })
    .await;
    let vendors = vendors_at(&simulator.base_url(), Duration::from_secs(10));
    let request = ChatRequest::new(PLAN);
    for vendor in Vendor::ALL {
        let whole = vendors.chat(vendor, &request).await.expect_err("blocked");
        let stream = vendors
            .chat_stream(vendor, &request)
            .await
            .expect("the stream opens");
        let streamed = collect(vendor, "unnamed", stream, |_| {})
            .await
            .expect_err("a blocked stream is an error");
        let (
            VendorError::Blocked { reason, .. },
            VendorError::Blocked {
                reason: streamed_reason,
                ..
            },
        ) = (&whole, &streamed)
        else {
            panic!("{vendor}: whole {whole:?}, streamed {streamed:?}");
        };
        assert_eq!(streamed_reason, reason, "{vendor}");
        assert!(!streamed.is_retryable(), "{vendor}");
    }
    simulator.shutdown().await;
}

#[tokio::test]
async fn an_error_event_mid_stream_ends_it_with_a_retryable_error() {
    let behaviour = VendorBehaviour {
        stream_error_after: Some(2),
        ..VendorBehaviour::default()
    };
    for (vendor, got) in streams_of_each_vendor(behaviour, Duration::from_secs(10)).await {
        let (last, chunks) = got.split_last().expect("items");
        let texts: Vec<_> = chunks
            .iter()
            .map(|c| c.as_ref().expect("chunks before the error"))
            .filter(|c| !c.text.is_empty())
            .collect();
        assert_eq!(texts.len(), 2, "{vendor}");
        let error = last.as_ref().expect_err("the stream ends in error");
        assert!(
            matches!(error, VendorError::Connect { message, .. } if message.contains("the stream broke off")),
            "{vendor}: {error}"
        );
        assert!(error.is_retryable());
        assert!(!format!("{error:?}").contains(KEY));
    }
}

#[tokio::test]
async fn a_stall_past_the_timeout_is_a_timeout() {
    let behaviour = VendorBehaviour {
        stream_stall_after: Some(1),
        ..VendorBehaviour::default()
    };
    for (vendor, got) in streams_of_each_vendor(behaviour, Duration::from_millis(400)).await {
        let (last, chunks) = got.split_last().expect("items");
        assert!(chunks.iter().all(Result::is_ok), "{vendor}");
        assert!(
            chunks
                .iter()
                .any(|c| c.as_ref().is_ok_and(|c| !c.text.is_empty())),
            "{vendor}"
        );
        assert!(
            matches!(last, Err(VendorError::Timeout { timeout, .. }) if *timeout == Duration::from_millis(400)),
            "{vendor}: {last:?}"
        );
    }
}

#[llm_span(system = "openai", model = vendors.openai.model(), stream)]
async fn streamed_reply(vendors: &Vendors) -> Result<ChunkStream, VendorError> {
    vendors.openai.chat_stream(&ChatRequest::new(PLAN)).await
}

#[tokio::test]
async fn a_slow_first_chunk_shows_in_the_time_to_first_chunk() {
    let simulator = simulator(VendorBehaviour {
        first_chunk_delay: Duration::from_millis(300),
        ..VendorBehaviour::default()
    })
    .await;
    let vendors = vendors_at(&simulator.base_url(), Duration::from_secs(10));
    let exporter = InMemorySpanExporter::default();
    let telemetry = agento::Telemetry::builder()
        .archive(false)
        .otlp(false)
        .handle_signals(false)
        .new_run(true)
        .with_exporter(exporter.clone())
        .init();
    let stream = streamed_reply(&vendors).await.expect("opens");
    let reply = collect(Vendor::OpenAi, "gpt-4.1", stream, |_| {})
        .await
        .expect("ends well");
    telemetry.flush();
    let spans = exporter.get_finished_spans().expect("spans");
    telemetry.shutdown();
    let span = spans
        .iter()
        .find(|s| s.name == "llm.openai.streamed_reply")
        .expect("the span");
    let attr = |key: &str| {
        span.attributes
            .iter()
            .find(|kv| kv.key.as_str() == key)
            .map(|kv| kv.value.clone())
    };
    match attr("gen_ai.response.time_to_first_chunk") {
        Some(Value::F64(seconds)) => assert!(seconds >= 0.3, "{seconds}"),
        other => panic!("{other:?}"),
    }
    assert_eq!(
        attr("gen_ai.response.content").map(|v| v.to_string()),
        Some(reply.text.clone())
    );
    let output = match reply.usage {
        agento_pipeline::vendors::Usage::OpenAi(usage) => usage.completion_tokens,
        other => panic!("{other:?}"),
    };
    assert_eq!(
        attr("gen_ai.usage.output_tokens"),
        Some(Value::I64(i64::try_from(output).expect("small")))
    );
    simulator.shutdown().await;
}
