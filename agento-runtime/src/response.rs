//! What an instrumented LLM call returns: [`LlmResponse`].

use crate::usage::TokenUsage;

/// The parts of a vendor response that `#[llm_span]` records.
///
/// Implement it for each client's response type. Only [`text`](Self::text) is
/// required; the rest default to "not reported".
///
/// ```
/// use agento_runtime::LlmResponse;
/// use agento_runtime::{TokenCounts, TokenUsage};
///
/// struct Reply { text: String, usage: TokenCounts, model: String, finish: Vec<String> }
///
/// impl LlmResponse for Reply {
///     fn text(&self) -> &str { &self.text }
///     fn usage(&self) -> Option<&dyn TokenUsage> { Some(&self.usage) }
///     fn response_model(&self) -> Option<&str> { Some(&self.model) }
///     fn finish_reasons(&self) -> &[String] { &self.finish }
/// }
/// ```
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not an LLM response",
    label = "`#[llm_span]` records the `Ok` value of this type",
    note = "return a type that implements `agento::LlmResponse` (its text, token usage, response model and finish reasons)"
)]
pub trait LlmResponse {
    /// The generated text.
    fn text(&self) -> &str;
    /// Token counts, when the vendor reported them.
    fn usage(&self) -> Option<&dyn TokenUsage> {
        None
    }
    /// The model that answered (`gen_ai.response.model`).
    fn response_model(&self) -> Option<&str> {
        None
    }
    /// Why generation stopped, one entry per choice.
    fn finish_reasons(&self) -> &[String] {
        &[]
    }
    /// The vendor's id for this response.
    fn response_id(&self) -> Option<&str> {
        None
    }
    /// Why generation stopped, for reply types that keep it as something
    /// other than `String`s (an enum): when `Some`, recorded instead of
    /// [`finish_reasons`](Self::finish_reasons).
    fn finish_reason_names(&self) -> Option<Vec<&str>> {
        None
    }
}

impl LlmResponse for String {
    fn text(&self) -> &str {
        self
    }
}

impl LlmResponse for &str {
    fn text(&self) -> &str {
        self
    }
}

impl<T: LlmResponse + ?Sized> LlmResponse for Box<T> {
    fn text(&self) -> &str {
        (**self).text()
    }
    fn usage(&self) -> Option<&dyn TokenUsage> {
        (**self).usage()
    }
    fn response_model(&self) -> Option<&str> {
        (**self).response_model()
    }
    fn finish_reasons(&self) -> &[String] {
        (**self).finish_reasons()
    }
    fn response_id(&self) -> Option<&str> {
        (**self).response_id()
    }
    fn finish_reason_names(&self) -> Option<Vec<&str>> {
        (**self).finish_reason_names()
    }
}
