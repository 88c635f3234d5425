//! The GenAI convention's message attributes (`gen_ai.input.messages`,
//! `gen_ai.output.messages`, `gen_ai.system_instructions`) are JSON documents
//! around texts of up to 8 KB. Escaping such a text into JSON costs more than
//! the rest of a span, so the calling thread records only the (truncated,
//! shared) text under the attribute's key, and the export threads — the
//! archive writer and the OTLP exporter, after scrubbing — wrap it into the
//! registry's shape here.

use opentelemetry::{Array, Value};
use opentelemetry_sdk::trace::SpanData;
use serde::Serialize;

use crate::attributes::GEN_AI_RESPONSE_FINISH_REASONS;
use crate::semconv::genai::{
    GEN_AI_INPUT_MESSAGES, GEN_AI_OUTPUT_MESSAGES, GEN_AI_SYSTEM_INSTRUCTIONS, finish_reason,
};

/// Wraps the bare texts of `span`'s message attributes into the GenAI
/// registry's JSON shape (once per export path).
pub(crate) fn expand(span: &mut SpanData) {
    let mut finish: Option<String> = None;
    let mut any = false;
    for kv in &span.attributes {
        match kv.key.as_str() {
            GEN_AI_RESPONSE_FINISH_REASONS => {
                if let Value::Array(Array::String(reasons)) = &kv.value {
                    finish = reasons.first().map(|r| finish_reason(r.as_str()));
                }
            }
            GEN_AI_INPUT_MESSAGES | GEN_AI_OUTPUT_MESSAGES | GEN_AI_SYSTEM_INSTRUCTIONS => {
                any = true;
            }
            _ => {}
        }
    }
    if !any {
        return;
    }
    let finish = finish.unwrap_or_else(|| "stop".to_owned());
    for kv in &mut span.attributes {
        let text = kv.value.as_str();
        let part = [Part {
            content: &text,
            kind: "text",
        }];
        let wrapped = match kv.key.as_str() {
            GEN_AI_INPUT_MESSAGES => to_json(
                text.len(),
                &[Message {
                    finish_reason: None,
                    parts: &part,
                    role: "user",
                }],
            ),
            GEN_AI_OUTPUT_MESSAGES => to_json(
                text.len(),
                &[Message {
                    finish_reason: Some(&finish),
                    parts: &part,
                    role: "assistant",
                }],
            ),
            GEN_AI_SYSTEM_INSTRUCTIONS => to_json(text.len(), &part),
            _ => continue,
        };
        kv.value = Value::from(wrapped);
    }
}

/// One text part of a message (fields in the order `serde_json`'s maps
/// keep, alphabetical, so that the JSON is what it always was).
#[derive(Serialize)]
struct Part<'a> {
    content: &'a str,
    #[serde(rename = "type")]
    kind: &'static str,
}

/// One message.
#[derive(Serialize)]
struct Message<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    finish_reason: Option<&'a str>,
    parts: &'a [Part<'a>],
    role: &'static str,
}

/// `value`, around a text of `text_len` bytes, as compact JSON, strings
/// escaped by SIMD scans (`sonic-rs`), written into one allocation.
fn to_json<T: Serialize + ?Sized>(text_len: usize, value: &T) -> String {
    let mut out = Vec::with_capacity(text_len + text_len / 8 + 96);
    let mut serializer = sonic_rs::Serializer::new(&mut out);
    // Texts and constants only: serialising cannot fail, and JSON is UTF-8.
    if value.serialize(&mut serializer).is_err() {
        return String::new();
    }
    String::from_utf8(out).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use opentelemetry::KeyValue;
    use opentelemetry::StringValue;
    use opentelemetry_sdk::trace::{SpanEvents, SpanLinks};
    use serde_json::json;

    fn span(attributes: Vec<KeyValue>) -> SpanData {
        SpanData {
            span_context: opentelemetry::trace::SpanContext::empty_context(),
            parent_span_id: opentelemetry::trace::SpanId::INVALID,
            parent_span_is_remote: false,
            span_kind: opentelemetry::trace::SpanKind::Client,
            name: "attempt_0".into(),
            start_time: std::time::SystemTime::UNIX_EPOCH,
            end_time: std::time::SystemTime::UNIX_EPOCH,
            attributes,
            dropped_attributes_count: 0,
            events: SpanEvents::default(),
            links: SpanLinks::default(),
            status: opentelemetry::trace::Status::Unset,
            instrumentation_scope: opentelemetry::InstrumentationScope::default(),
        }
    }

    fn json_of(span: &SpanData, key: &str) -> serde_json::Value {
        let kv = span.attributes.iter().find(|kv| kv.key.as_str() == key);
        serde_json::from_str(&kv.expect(key).value.as_str()).expect("JSON")
    }

    #[test]
    fn texts_become_the_registry_shapes() {
        let mut data = span(vec![
            KeyValue::new(GEN_AI_INPUT_MESSAGES, "Plan \"this\""),
            KeyValue::new(GEN_AI_SYSTEM_INSTRUCTIONS, "Be exact"),
            KeyValue::new(GEN_AI_OUTPUT_MESSAGES, "Done"),
            KeyValue::new(
                GEN_AI_RESPONSE_FINISH_REASONS,
                Value::Array(Array::String(vec![StringValue::from("end_turn")])),
            ),
        ]);
        expand(&mut data);
        assert_eq!(
            json_of(&data, GEN_AI_INPUT_MESSAGES),
            json!([{"role": "user", "parts": [{"type": "text", "content": "Plan \"this\""}]}])
        );
        assert_eq!(
            json_of(&data, GEN_AI_SYSTEM_INSTRUCTIONS),
            json!([{"type": "text", "content": "Be exact"}])
        );
        assert_eq!(
            json_of(&data, GEN_AI_OUTPUT_MESSAGES),
            json!([{"role": "assistant", "parts": [{"type": "text", "content": "Done"}], "finish_reason": "stop"}])
        );
    }

    #[test]
    fn the_json_is_byte_for_byte_what_serde_json_wrote() {
        let text = "quote \" nl \n tab \t é 𝄞 \u{1}";
        let mut data = span(vec![
            KeyValue::new(GEN_AI_INPUT_MESSAGES, text),
            KeyValue::new(GEN_AI_OUTPUT_MESSAGES, text),
            KeyValue::new(GEN_AI_SYSTEM_INSTRUCTIONS, text),
        ]);
        expand(&mut data);
        let written = |key: &str| {
            let kv = data.attributes.iter().find(|kv| kv.key.as_str() == key);
            kv.expect(key).value.as_str().into_owned()
        };
        assert_eq!(
            written(GEN_AI_INPUT_MESSAGES),
            json!([{"role": "user", "parts": [{"type": "text", "content": text}]}]).to_string()
        );
        assert_eq!(
            written(GEN_AI_OUTPUT_MESSAGES),
            json!([{"role": "assistant", "parts": [{"type": "text", "content": text}], "finish_reason": "stop"}]).to_string()
        );
        assert_eq!(
            written(GEN_AI_SYSTEM_INSTRUCTIONS),
            json!([{"type": "text", "content": text}]).to_string()
        );
    }
}
