//! Truncation of large text attributes (memo §4).
//!
//! A text longer than [`LIMIT_CHARS`] characters is stored as its first
//! [`KEEP_CHARS`] characters followed by [`MARKER`]. Lengths are counted in
//! characters (Unicode scalar values), never bytes, so a cut never splits a
//! UTF-8 sequence. A text that must be cut is scrubbed first
//! ([`crate::secrets`]), so a secret across the cut is replaced whole.
//!
//! Span attributes are recorded whole on the calling thread and cut where a
//! span leaves the process — the archive writer, the OTLP exporter and the
//! secrets stage in front of every other processor — after the span has been
//! scrubbed: the calling thread neither counts
//! characters nor scrubs nor copies past the cut.
//!
//! ```
//! use agento_runtime::truncate::{truncate, MARKER};
//! let short = truncate("hello");
//! assert!(!short.truncated);
//! let long = "é".repeat(9000);
//! let cut = truncate(&long);
//! assert!(cut.truncated);
//! assert_eq!(cut.original_chars, 9000);
//! assert_eq!(cut.text.chars().count(), 8000 + MARKER.chars().count());
//! ```

use std::borrow::Cow;
use std::sync::Arc;

use opentelemetry::{Key, KeyValue, StringValue, Value};

use crate::attributes::{
    AGENTO_RESPONSE_LENGTH, AGENTO_RESPONSE_TRUNCATED_REASON, GEN_AI_RESPONSE_CONTENT,
    GEN_AI_RESPONSE_TRUNCATED,
};
use crate::secrets::scrub;
use crate::semconv::genai::{
    GEN_AI_INPUT_MESSAGES, GEN_AI_OUTPUT_MESSAGES, GEN_AI_SYSTEM_INSTRUCTIONS,
};
use crate::semconv::openinference::{INPUT_VALUE, OUTPUT_VALUE};

/// Texts with more characters than this are truncated.
pub const LIMIT_CHARS: usize = 8192;
/// How many characters a truncated text keeps.
pub const KEEP_CHARS: usize = 8000;
/// What a truncated text ends with.
pub const MARKER: &str = "...[truncated]";
/// The value of the `*truncated_reason` attribute.
pub const REASON_SIZE_LIMIT: &str = "size_limit";

/// A text after truncation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Truncated<'a> {
    /// The text to store: the input, or its first [`KEEP_CHARS`] characters and [`MARKER`].
    pub text: Cow<'a, str>,
    /// Whether the input was cut.
    pub truncated: bool,
    /// The input's length in characters.
    pub original_chars: usize,
}

/// Truncates `text` per memo §4; a text that is cut is scrubbed first.
///
/// Cheap for short texts: a text of at most [`LIMIT_CHARS`] bytes cannot have more
/// characters than that, and is returned borrowed.
///
/// ```
/// let long = "a".repeat(8193);
/// let t = agento_runtime::truncate::truncate(&long);
/// assert!(t.text.ends_with("...[truncated]"));
/// assert_eq!(t.original_chars, 8193);
/// ```
pub fn truncate(text: &str) -> Truncated<'_> {
    cut(text, true)
}

/// [`truncate`] for a text already scrubbed (no second scrub).
fn truncate_clean(text: &str) -> Truncated<'_> {
    cut(text, false)
}

fn cut(text: &str, scrub_first: bool) -> Truncated<'_> {
    if text.len() <= LIMIT_CHARS {
        return Truncated {
            text: Cow::Borrowed(text),
            truncated: false,
            original_chars: char_count(text),
        };
    }
    let cut = char_boundary_after(text, KEEP_CHARS);
    // The first KEEP_CHARS characters end at `cut`: count only the rest.
    let original_chars = if cut < text.len() {
        KEEP_CHARS + char_count(&text[cut..])
    } else {
        char_count(text)
    };
    if original_chars <= LIMIT_CHARS {
        return Truncated {
            text: Cow::Borrowed(text),
            truncated: false,
            original_chars,
        };
    }
    // Scrub before cutting: a secret across the cut would leave a prefix that
    // no longer looks like a secret.
    let clean = if scrub_first {
        scrub(text)
    } else {
        Cow::Borrowed(text)
    };
    let cut = match &clean {
        Cow::Borrowed(_) => cut,
        Cow::Owned(clean) => {
            let cut = char_boundary_after(clean, KEEP_CHARS);
            if cut == clean.len() || KEEP_CHARS + char_count(&clean[cut..]) <= LIMIT_CHARS {
                return Truncated {
                    text: Cow::Owned(clean.clone()),
                    truncated: false,
                    original_chars,
                };
            }
            cut
        }
    };
    let mut kept = String::with_capacity(cut + MARKER.len());
    kept.push_str(&clean[..cut]);
    kept.push_str(MARKER);
    Truncated {
        text: Cow::Owned(kept),
        truncated: true,
        original_chars,
    }
}

/// Which marker attributes a cut text gets, by its key.
enum Markers {
    /// `gen_ai.response.content`: the memo's three markers.
    Response,
    /// A copy of a text recorded under another key too (`input.value`,
    /// `output.value`, the message attributes): none.
    Mirror,
    /// Any other key `K`: `K.truncated` and `K.length`.
    Suffixed,
}

fn markers(key: &str) -> Markers {
    match key {
        GEN_AI_RESPONSE_CONTENT => Markers::Response,
        INPUT_VALUE
        | OUTPUT_VALUE
        | GEN_AI_INPUT_MESSAGES
        | GEN_AI_OUTPUT_MESSAGES
        | GEN_AI_SYSTEM_INSTRUCTIONS => Markers::Mirror,
        _ if (key.starts_with("llm.input_messages.")
            || key.starts_with("llm.output_messages."))
            && key.ends_with(".message.content") =>
        {
            Markers::Mirror
        }
        _ => Markers::Suffixed,
    }
}

/// Cuts every text attribute of a span (already scrubbed) that is over
/// [`LIMIT_CHARS`] characters, per memo §4, and appends the marker attributes
/// for it: the memo's three for `gen_ai.response.content`, none for the
/// copies of a text under OpenInference and GenAI keys (`input.value`,
/// `llm.output_messages.0.message.content`, …), and `K.truncated = true` and
/// `K.length = <characters>` for any other key `K`. One text recorded under
/// several keys is cut once and shared.
pub(crate) fn cut_span_texts(attributes: &mut Vec<KeyValue>) {
    // (address and length of a text, its cut form and length in characters)
    let mut cuts: Vec<((usize, usize), Value, i64)> = Vec::new();
    let mut added = Vec::new();
    for kv in attributes.iter_mut() {
        let Value::String(text) = &kv.value else {
            continue;
        };
        let text = text.as_str();
        if text.len() <= LIMIT_CHARS {
            continue;
        }
        let address = (text.as_ptr() as usize, text.len());
        let (value, length) = match cuts.iter().find(|(seen, ..)| *seen == address) {
            Some((_, value, length)) => (value.clone(), *length),
            None => {
                let truncated = truncate_clean(text);
                if !truncated.truncated {
                    continue;
                }
                let length = i64::try_from(truncated.original_chars).unwrap_or(i64::MAX);
                let value = Value::String(StringValue::from(Arc::<str>::from(truncated.text)));
                cuts.push((address, value.clone(), length));
                (value, length)
            }
        };
        kv.value = value;
        match markers(kv.key.as_str()) {
            Markers::Response => added.extend([
                KeyValue::new(GEN_AI_RESPONSE_TRUNCATED, true),
                KeyValue::new(AGENTO_RESPONSE_TRUNCATED_REASON, REASON_SIZE_LIMIT),
                KeyValue::new(AGENTO_RESPONSE_LENGTH, length),
            ]),
            Markers::Mirror => {}
            Markers::Suffixed => {
                let name = kv.key.as_str();
                added.extend([
                    KeyValue::new(Key::from(format!("{name}.truncated")), true),
                    KeyValue::new(Key::from(format!("{name}.length")), length),
                ]);
            }
        }
    }
    attributes.extend(added);
}

/// Whether `byte` starts a UTF-8 sequence (is not a continuation byte).
#[inline]
const fn starts_char(byte: u8) -> bool {
    // Continuation bytes are 0b10xx_xxxx, i.e. -128..-64 as i8.
    (byte as i8) >= -0x40
}

/// How many characters start in `bytes`. A plain filter-and-count that the
/// compiler turns into vector code: ~10x faster than walking `char_indices`.
fn count_char_starts(bytes: &[u8]) -> usize {
    // Per 32-byte chunk into a `u8` lane sum (no overflow: at most 32), which
    // vectorises; the tail byte by byte.
    let mut chunks = bytes.chunks_exact(32);
    let mut total = 0;
    for chunk in &mut chunks {
        total += usize::from(
            chunk
                .iter()
                .fold(0_u8, |n, &b| n + u8::from(starts_char(b))),
        );
    }
    total
        + chunks
            .remainder()
            .iter()
            .filter(|&&b| starts_char(b))
            .count()
}

/// The byte index just after the first `chars` characters (or the end).
///
/// The first `chars` bytes hold at most `chars` characters, so their count
/// (vectorised) is a lower bound; the rest is walked byte by byte, which for
/// mostly-ASCII text is a handful of steps.
fn char_boundary_after(text: &str, chars: usize) -> usize {
    let bytes = text.as_bytes();
    if bytes.len() <= chars {
        return bytes.len();
    }
    let mut seen = count_char_starts(&bytes[..chars]);
    for (index, &byte) in bytes.iter().enumerate().skip(chars) {
        if starts_char(byte) {
            if seen == chars {
                return index;
            }
            seen += 1;
        }
    }
    bytes.len()
}

fn char_count(text: &str) -> usize {
    text.chars().count()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_long_text_attribute_is_cut_with_its_markers() {
        let mut attributes = vec![
            KeyValue::new("user_goal", "x".repeat(9000)),
            KeyValue::new("input.value", "y".repeat(9000)),
        ];
        cut_span_texts(&mut attributes);
        assert_eq!(
            attributes[0].value.as_str().len(),
            KEEP_CHARS + MARKER.len()
        );
        assert!(attributes[1].value.as_str().ends_with(MARKER));
        assert_eq!(attributes.len(), 4, "{attributes:?}");
        assert_eq!(attributes[2], KeyValue::new("user_goal.truncated", true));
        assert_eq!(attributes[3], KeyValue::new("user_goal.length", 9000));
    }

    #[test]
    fn boundaries_8191_8192_8193() {
        for (len, cut) in [(8191, false), (8192, false), (8193, true)] {
            let text = "x".repeat(len);
            let t = truncate(&text);
            assert_eq!(t.truncated, cut, "length {len}");
            assert_eq!(t.original_chars, len);
            if cut {
                assert_eq!(t.text.len(), KEEP_CHARS + MARKER.len());
                assert!(t.text.starts_with(&"x".repeat(KEEP_CHARS)));
                assert!(t.text.ends_with(MARKER));
            } else {
                assert_eq!(t.text, text);
            }
        }
    }

    #[test]
    fn multibyte_text_is_counted_in_characters() {
        // 8192 four-byte characters: 32 KiB, but not over the character limit.
        let at_limit = "𝄞".repeat(8192);
        let t = truncate(&at_limit);
        assert!(!t.truncated);
        assert_eq!(t.original_chars, 8192);

        let over = format!("{}ab", "ü".repeat(8191));
        let t = truncate(&over);
        assert!(t.truncated);
        assert_eq!(t.original_chars, 8193);
        let kept: String = over.chars().take(KEEP_CHARS).collect();
        assert_eq!(t.text, format!("{kept}{MARKER}"));
    }

    #[test]
    fn mixed_text_cut_lands_on_a_character_boundary() {
        let text = format!("{}{}", "a".repeat(7999), "日本語".repeat(200));
        let t = truncate(&text);
        assert!(t.truncated);
        assert_eq!(t.original_chars, 7999 + 600);
        assert!(t.text.starts_with(&format!("{}日", "a".repeat(7999))));
        assert_eq!(t.text.chars().count(), KEEP_CHARS + MARKER.chars().count());
    }

    #[test]
    fn a_secret_across_the_cut_is_scrubbed_whole() {
        let secret = "straddling-secret-0f9e8d7c6b5a";
        crate::secrets::register_secret(secret);
        for offset in 1..secret.len() {
            let text = format!(
                "{}{secret}{}",
                "a".repeat(KEEP_CHARS - offset),
                "b".repeat(500)
            );
            let t = truncate(&text);
            assert!(t.truncated);
            let clean = format!(
                "{}[REDACTED]{}",
                "a".repeat(KEEP_CHARS - offset),
                "b".repeat(500)
            );
            let expected: String = clean.chars().take(KEEP_CHARS).collect();
            assert_eq!(t.text, format!("{expected}{MARKER}"), "offset {offset}");
        }
        let key = format!("ghp_{}", "a1B2c3D4e5".repeat(4));
        let text = format!("{} {key} {}", "a".repeat(KEEP_CHARS - 10), "b".repeat(500));
        assert!(!truncate(&text).text.contains("ghp_"));
    }

    #[test]
    fn the_fast_boundary_matches_char_indices() {
        let pieces = ["a", "é", "日本", "𝄞", "ab\u{301}", " "];
        for seed in 0..200_usize {
            let text: String = (0..(seed % 37) + 1)
                .map(|i| pieces[(i * 7 + seed) % pieces.len()])
                .collect();
            for n in 0..=text.chars().count() + 1 {
                let expected = text.char_indices().nth(n).map_or(text.len(), |(i, _)| i);
                assert_eq!(char_boundary_after(&text, n), expected, "{text:?} {n}");
            }
            assert_eq!(char_count(&text), text.chars().count());
        }
    }
}
