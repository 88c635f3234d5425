//! What leaves the process: each ended span scrubbed of secrets
//! ([`crate::secrets`]), then its large texts cut ([`crate::truncate`]) — in
//! that order, so a secret across a cut is replaced whole. The archive writer
//! and the OTLP exporter ([`Scrubbing`]) prepare spans on their own threads;
//! a processor a user adds sits behind a [`SecretsStage`].

use std::fmt;
use std::time::Duration;

use opentelemetry_sdk::Resource;
use opentelemetry_sdk::error::OTelSdkResult;
use opentelemetry_sdk::trace::{SpanData, SpanExporter};

use crate::end_hook::EndHook;
use crate::secrets::{Scrubber, global_scrubber, scrub_span};
use crate::truncate::cut_span_texts;

/// What leaves the process of `span`: scrubbed ([`scrub_span`]), then each
/// text over the size limit cut with its markers
/// ([`cut_span_texts`]) — in that order, so
/// a secret across a cut is replaced whole.
pub(crate) fn prepare_span(span: &mut SpanData, scrubber: &Scrubber) {
    scrub_span(span, scrubber);
    cut_span_texts(&mut span.attributes);
}

/// The secrets stage: each ended span is scrubbed and its large texts cut
/// ([`prepare_span`]) before the processor behind it sees it. The telemetry
/// builder puts every processor a user adds behind one
/// (`Hooked::new(processor, SecretsStage)`).
#[derive(Debug)]
pub(crate) struct SecretsStage;

impl EndHook for SecretsStage {
    fn on_end(&self, span: &mut SpanData) {
        prepare_span(span, &global_scrubber());
    }
}

/// An exporter that scrubs each batch and cuts its large texts
/// ([`prepare_span`], on the exporting thread) before handing it to `E`: the
/// runtime's OTLP path.
pub(crate) struct Scrubbing<E> {
    inner: E,
    prepared_upstream: bool,
}

impl<E> Scrubbing<E> {
    /// Wraps `inner`. With `prepared_upstream` (the archive writer prepares
    /// every span before handing it on) batches pass through as they are.
    pub(crate) fn new(inner: E, prepared_upstream: bool) -> Self {
        Self {
            inner,
            prepared_upstream,
        }
    }
}

impl<E: fmt::Debug> fmt::Debug for Scrubbing<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("Scrubbing").field(&self.inner).finish()
    }
}

impl<E: SpanExporter> SpanExporter for Scrubbing<E> {
    async fn export(&self, mut batch: Vec<SpanData>) -> OTelSdkResult {
        if !self.prepared_upstream {
            let scrubber = global_scrubber();
            batch
                .iter_mut()
                .for_each(|span| prepare_span(span, &scrubber));
        }
        self.inner.export(batch).await
    }

    fn shutdown_with_timeout(&self, timeout: Duration) -> OTelSdkResult {
        self.inner.shutdown_with_timeout(timeout)
    }

    fn force_flush(&self) -> OTelSdkResult {
        self.inner.force_flush()
    }

    fn set_resource(&mut self, resource: &Resource) {
        self.inner.set_resource(resource);
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::time::SystemTime;

    use opentelemetry::trace::{SpanContext, SpanId, SpanKind};
    use opentelemetry::{InstrumentationScope, Key};
    use opentelemetry_sdk::trace::{SpanEvents, SpanLinks};

    use super::*;
    use crate::truncate::{KEEP_CHARS, MARKER};
    use opentelemetry::trace::Status;
    use opentelemetry::{KeyValue, StringValue, Value};

    fn span(attributes: Vec<KeyValue>) -> SpanData {
        SpanData {
            span_context: SpanContext::empty_context(),
            parent_span_id: SpanId::INVALID,
            parent_span_is_remote: false,
            span_kind: SpanKind::Client,
            name: "llm.openai.draft".into(),
            start_time: SystemTime::UNIX_EPOCH,
            end_time: SystemTime::UNIX_EPOCH,
            attributes,
            dropped_attributes_count: 0,
            events: SpanEvents::default(),
            links: SpanLinks::default(),
            status: Status::Ok,
            instrumentation_scope: InstrumentationScope::default(),
        }
    }

    fn get<'a>(span: &'a SpanData, key: &str) -> Option<&'a Value> {
        span.attributes
            .iter()
            .find(|kv| kv.key.as_str() == key)
            .map(|kv| &kv.value)
    }

    #[test]
    fn a_reply_under_four_keys_is_scrubbed_then_cut_once_with_the_memo_markers() {
        let secret = "prepared-span-secret-4f3e2d1c";
        let scrubber = Scrubber::with_secrets([secret]);
        // The secret straddles character 8000: cut first, a prefix would stay.
        let text = format!("{}{secret}{}", "é".repeat(KEEP_CHARS - 5), "z".repeat(600));
        let shared = Value::String(StringValue::from(Arc::<str>::from(text.as_str())));
        let mut data = span(vec![
            KeyValue::new("gen_ai.response.content", shared.clone()),
            KeyValue::new("output.value", shared.clone()),
            KeyValue::new("llm.output_messages.0.message.content", shared.clone()),
            KeyValue::new("gen_ai.output.messages", shared),
            KeyValue::new("user_goal", "g".repeat(9000)),
            KeyValue::new("short", "kept as it is"),
        ]);
        prepare_span(&mut data, &scrubber);

        let clean = text.replace(secret, crate::secrets::REDACTED);
        let expected: String = clean.chars().take(KEEP_CHARS).collect::<String>() + MARKER;
        for key in [
            "gen_ai.response.content",
            "output.value",
            "llm.output_messages.0.message.content",
            "gen_ai.output.messages",
        ] {
            let value = get(&data, key).expect(key).as_str();
            assert_eq!(value, expected, "{key}");
            assert!(!value.contains("prepared-span"), "{key}");
        }
        let first = get(&data, "gen_ai.response.content").unwrap().as_str();
        let other = get(&data, "output.value").unwrap().as_str();
        assert_eq!(first.as_ptr(), other.as_ptr(), "one cut text, shared");
        assert_eq!(
            get(&data, "gen_ai.response.truncated"),
            Some(&Value::Bool(true))
        );
        assert_eq!(
            get(&data, "agento.response.truncated_reason").map(Value::as_str),
            Some("size_limit".into())
        );
        let length = clean.chars().count() as i64;
        assert_eq!(
            get(&data, "agento.response.length"),
            Some(&Value::I64(length))
        );
        // A copy's key gets no markers; any other key its own two.
        assert!(get(&data, "output.value.truncated").is_none());
        assert_eq!(get(&data, "user_goal.truncated"), Some(&Value::Bool(true)));
        assert_eq!(get(&data, "user_goal.length"), Some(&Value::I64(9000)));
        assert_eq!(
            get(&data, "short").map(Value::as_str),
            Some("kept as it is".into())
        );
        let markers = data
            .attributes
            .iter()
            .filter(|kv| kv.key == Key::from_static_str("gen_ai.response.truncated"))
            .count();
        assert_eq!(markers, 1);
    }

    #[test]
    fn texts_at_the_limit_are_left_whole() {
        let at_limit = "ü".repeat(8192);
        let mut data = span(vec![KeyValue::new(
            "gen_ai.response.content",
            at_limit.clone(),
        )]);
        prepare_span(&mut data, &Scrubber::with_secrets(Vec::<String>::new()));
        assert_eq!(data.attributes.len(), 1);
        assert_eq!(data.attributes[0].value.as_str(), at_limit);
    }
}
