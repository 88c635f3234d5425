//! The pipeline's LLM calls, one instrumented function each: a retry span with
//! an LLM span per attempt, named for what the call is for.

use agento::runtime::attributes::AGENTO_USER_GOAL;
use agento::{llm_span, record_text, retry_spans};

use super::prompts::SYSTEM;
use crate::vendors::{ChatRequest, Reply, Vendor, VendorError, Vendors};
use crate::verdict::Verdict;

/// The calls, over the process's vendor clients.
pub(super) struct Calls<'a> {
    pub(super) vendors: &'a Vendors,
}

fn chat(prompt: &str, temperature: f64) -> ChatRequest<'_> {
    ChatRequest {
        system: Some(SYSTEM),
        prompt,
        temperature: Some(temperature),
        max_tokens: None,
    }
}

impl Calls<'_> {
    #[retry_spans(max = 3, retry_if = VendorError::is_retryable)]
    #[llm_span(system = "gemini", model = self.vendors.gemini.model(), temperature = 0.1,
               step_type = "plan", prompt = prompt)]
    pub(super) async fn generate_plan_structure(
        &self,
        goal: &str,
        prompt: &str,
    ) -> Result<Reply, VendorError> {
        record_text(AGENTO_USER_GOAL, goal);
        self.ask(Vendor::Gemini, &chat(prompt, 0.1)).await
    }

    #[retry_spans(max = 3, retry_if = VendorError::is_retryable)]
    #[llm_span(system = "openai", model = self.vendors.openai.model(), temperature = 0.7,
               step_type = "draft", step_name = step, prompt = prompt)]
    pub(super) async fn draft_step(
        &self,
        goal: &str,
        step: &str,
        criteria: &str,
        instructions: &str,
        prompt: &str,
    ) -> Result<Reply, VendorError> {
        record_text(AGENTO_USER_GOAL, goal);
        record_text("agento.criteria", criteria);
        record_text("agento.instructions", instructions);
        self.ask(Vendor::OpenAi, &chat(prompt, 0.7)).await
    }

    #[retry_spans(max = 3, retry_if = VendorError::is_retryable)]
    #[llm_span(system = "openai", model = self.vendors.openai.model(), temperature = 0.3,
               step_type = "critique", step_name = step, prompt = prompt)]
    pub(super) async fn critique_step(
        &self,
        goal: &str,
        step: &str,
        draft: &str,
        prompt: &str,
    ) -> Result<Reply, VendorError> {
        record_text(AGENTO_USER_GOAL, goal);
        record_text("agento.draft_content", draft);
        self.ask(Vendor::OpenAi, &chat(prompt, 0.3)).await
    }

    #[retry_spans(max = 3, retry_if = VendorError::is_retryable)]
    #[llm_span(system = "anthropic", model = self.vendors.anthropic.model(), temperature = 0.3,
               step_type = "revision_instruction", step_name = step, prompt = prompt)]
    pub(super) async fn revision_instruction(
        &self,
        step: &str,
        prompt: &str,
    ) -> Result<Reply, VendorError> {
        self.ask(Vendor::Anthropic, &chat(prompt, 0.3)).await
    }

    #[retry_spans(max = 3, retry_if = VendorError::is_retryable)]
    #[llm_span(system = "gemini", model = self.vendors.gemini.model(), temperature = 0.4,
               step_type = "revision_draft", step_name = step, prompt = prompt)]
    pub(super) async fn revision_draft(
        &self,
        step: &str,
        prompt: &str,
    ) -> Result<Reply, VendorError> {
        self.ask(Vendor::Gemini, &chat(prompt, 0.4)).await
    }

    #[retry_spans(max = 3, retry_if = VendorError::is_retryable)]
    #[llm_span(system = "anthropic", model = self.vendors.anthropic.model(), temperature = 0.0,
               step_type = "revision_verdict", step_name = step, prompt = prompt)]
    pub(super) async fn revision_verdict(
        &self,
        step: &str,
        prompt: &str,
    ) -> Result<Reply, VendorError> {
        let reply = self.ask(Vendor::Anthropic, &chat(prompt, 0.0)).await?;
        record_text("agento.verdict", Verdict::parse(&reply.text).as_str());
        Ok(reply)
    }

    #[retry_spans(max = 3, retry_if = VendorError::is_retryable)]
    #[llm_span(system = "anthropic", model = self.vendors.anthropic.model(), temperature = 0.2,
               step_type = "holistic_review", prompt = prompt)]
    pub(super) async fn holistic_review(&self, prompt: &str) -> Result<Reply, VendorError> {
        self.ask(Vendor::Anthropic, &chat(prompt, 0.2)).await
    }
}
