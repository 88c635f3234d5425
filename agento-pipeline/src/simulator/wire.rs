//! The vendor-shaped pieces a whole answer and a streamed one share: response
//! ids, finish reasons and token usage, each written once per vendor.

use serde_json::{Value, json};

use crate::vendors::Vendor;

/// The response id of answer number `sequence`.
pub(super) fn response_id(vendor: Vendor, sequence: u64) -> String {
    match vendor {
        Vendor::Gemini => format!("sim-gemini-{sequence:08}"),
        Vendor::OpenAi => format!("chatcmpl-sim{sequence:08}"),
        Vendor::Anthropic => format!("msg_sim{sequence:020}"),
    }
}

/// Why an answer stopped, in the vendor's words: `blocked` (a filter or a
/// refusal), `cut` at the output limit, or whole.
pub(super) const fn finish_reason(vendor: Vendor, blocked: bool, cut: bool) -> &'static str {
    let (when_blocked, when_cut, whole) = match vendor {
        Vendor::Gemini => ("SAFETY", "MAX_TOKENS", "STOP"),
        Vendor::OpenAi => ("content_filter", "length", "stop"),
        Vendor::Anthropic => ("refusal", "max_tokens", "end_turn"),
    };
    if blocked {
        when_blocked
    } else if cut {
        when_cut
    } else {
        whole
    }
}

/// The usage of an answer of `input` and `output` tokens: OpenAI's and
/// Anthropic's `usage`, Gemini's `usageMetadata` (a quarter of the output is
/// thinking, which counts toward `maxOutputTokens` as Gemini's does).
pub(super) fn usage(vendor: Vendor, input: u64, output: u64) -> Value {
    match vendor {
        Vendor::Gemini => {
            let thoughts = output / 4;
            json!({
                "promptTokenCount": input,
                "candidatesTokenCount": output - thoughts,
                "thoughtsTokenCount": thoughts,
                "totalTokenCount": input + output,
            })
        }
        Vendor::OpenAi => json!({
            "prompt_tokens": input,
            "completion_tokens": output,
            "total_tokens": input + output,
            "prompt_tokens_details": {"cached_tokens": 0},
            "completion_tokens_details": {"reasoning_tokens": 0},
        }),
        Vendor::Anthropic => json!({
            "input_tokens": input,
            "output_tokens": output,
            "cache_creation_input_tokens": 0,
            "cache_read_input_tokens": 0,
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gemini_thinking_is_a_part_of_the_output_and_the_total_adds_up() {
        let usage = usage(Vendor::Gemini, 10, 40);
        assert_eq!(usage["candidatesTokenCount"], 30);
        assert_eq!(usage["thoughtsTokenCount"], 10);
        assert_eq!(usage["totalTokenCount"], 50);
    }

    #[test]
    fn finish_reasons_are_the_vendors_own() {
        assert_eq!(finish_reason(Vendor::OpenAi, false, true), "length");
        assert_eq!(finish_reason(Vendor::Anthropic, true, true), "refusal");
        assert_eq!(finish_reason(Vendor::Gemini, false, false), "STOP");
    }
}
