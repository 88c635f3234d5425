//! The pipeline's LLM calls, one instrumented function each: a retry span with
//! an LLM span per attempt, named for what the call is for.

use agento::runtime::attributes::{
    AGENTO_CRITERIA, AGENTO_DRAFT_CONTENT, AGENTO_INSTRUCTIONS, AGENTO_USER_GOAL, AGENTO_VERDICT,
};
use agento::{StepType, llm_span, record_text, retry_spans};

use super::prompts::SYSTEM;
use crate::vendors::{ChatRequest, Reply, VendorError, Vendors};
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
               step_type = StepType::Plan, prompt = prompt, system_prompt = SYSTEM)]
    pub(super) async fn generate_plan_structure(
        &self,
        goal: &str,
        prompt: &str,
    ) -> Result<Reply, VendorError> {
        record_text(AGENTO_USER_GOAL, goal);
        self.vendors.gemini.chat(&chat(prompt, 0.1)).await
    }

    #[retry_spans(max = 3, retry_if = VendorError::is_retryable)]
    #[llm_span(system = "openai", model = self.vendors.openai.model(), temperature = 0.7,
               step_type = StepType::Draft, step_name = step, prompt = prompt, system_prompt = SYSTEM)]
    pub(super) async fn draft_step(
        &self,
        goal: &str,
        step: &str,
        criteria: &str,
        instructions: &str,
        prompt: &str,
    ) -> Result<Reply, VendorError> {
        record_text(AGENTO_USER_GOAL, goal);
        record_text(AGENTO_CRITERIA, criteria);
        record_text(AGENTO_INSTRUCTIONS, instructions);
        self.vendors.openai.chat(&chat(prompt, 0.7)).await
    }

    #[retry_spans(max = 3, retry_if = VendorError::is_retryable)]
    #[llm_span(system = "openai", model = self.vendors.openai.model(), temperature = 0.3,
               step_type = StepType::Critique, step_name = step, prompt = prompt, system_prompt = SYSTEM)]
    pub(super) async fn critique_step(
        &self,
        goal: &str,
        step: &str,
        draft: &str,
        prompt: &str,
    ) -> Result<Reply, VendorError> {
        record_text(AGENTO_USER_GOAL, goal);
        record_text(AGENTO_DRAFT_CONTENT, draft);
        self.vendors.openai.chat(&chat(prompt, 0.3)).await
    }

    #[retry_spans(max = 3, retry_if = VendorError::is_retryable)]
    #[llm_span(system = "anthropic", model = self.vendors.anthropic.model(), temperature = 0.3,
               step_type = StepType::RevisionInstruction, step_name = step, prompt = prompt, system_prompt = SYSTEM)]
    pub(super) async fn revision_instruction(
        &self,
        step: &str,
        prompt: &str,
    ) -> Result<Reply, VendorError> {
        self.vendors.anthropic.chat(&chat(prompt, 0.3)).await
    }

    #[retry_spans(max = 3, retry_if = VendorError::is_retryable)]
    #[llm_span(system = "gemini", model = self.vendors.gemini.model(), temperature = 0.4,
               step_type = StepType::RevisionDraft, step_name = step, prompt = prompt, system_prompt = SYSTEM)]
    pub(super) async fn revision_draft(
        &self,
        step: &str,
        prompt: &str,
    ) -> Result<Reply, VendorError> {
        self.vendors.gemini.chat(&chat(prompt, 0.4)).await
    }

    #[retry_spans(max = 3, retry_if = VendorError::is_retryable)]
    #[llm_span(system = "anthropic", model = self.vendors.anthropic.model(), temperature = 0.0,
               step_type = StepType::RevisionVerdict, step_name = step, prompt = prompt, system_prompt = SYSTEM)]
    pub(super) async fn revision_verdict(
        &self,
        step: &str,
        prompt: &str,
    ) -> Result<Reply, VendorError> {
        let reply = self.vendors.anthropic.chat(&chat(prompt, 0.0)).await?;
        record_text(AGENTO_VERDICT, Verdict::parse(&reply.text).as_str());
        Ok(reply)
    }

    /// The review's step type is on the EVALUATOR span around this call (it
    /// holds the plan reviewed), not on the call: one item per review.
    #[retry_spans(max = 3, retry_if = VendorError::is_retryable)]
    #[llm_span(system = "anthropic", model = self.vendors.anthropic.model(), temperature = 0.2,
               prompt = prompt, system_prompt = SYSTEM)]
    pub(super) async fn holistic_review(&self, prompt: &str) -> Result<Reply, VendorError> {
        self.vendors.anthropic.chat(&chat(prompt, 0.2)).await
    }
}
