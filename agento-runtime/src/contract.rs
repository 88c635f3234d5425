//! The Agento pipeline's evaluation contract, typed: the step types an
//! evaluator makes one item of (`agento.step_type`), and the attribute keys it
//! reads beside them (in [`crate::attributes`]).

use std::fmt;
use std::str::FromStr;

/// A workflow step type of the Agento pipeline.
///
/// Exactly one span per step occurrence carries `agento.step_type`: the one
/// that holds the step's content — the successful attempt of an LLM call, or
/// the semantic span of an event (`accepted_revision`, `timed_out_revision`,
/// `holistic_review`). Failed attempts carry none.
///
/// ```
/// use agento_runtime::StepType;
/// assert_eq!(StepType::HolisticReview.as_str(), "holistic_review");
/// assert_eq!("plan".parse::<StepType>(), Ok(StepType::Plan));
/// assert_eq!(StepType::ALL.len(), 9);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum StepType {
    /// Stage 1: the plan structure (one Gemini call).
    Plan,
    /// Stage 2: a drafted outline step (OpenAI).
    Draft,
    /// Stage 2: a critique asking for improvements (OpenAI).
    Critique,
    /// Stage 3: revision instructions (Anthropic).
    RevisionInstruction,
    /// Stage 3: a revised draft (Gemini).
    RevisionDraft,
    /// Stage 3: the YES/NO verdict on a revised draft (Anthropic).
    RevisionVerdict,
    /// Stage 3: a revision accepted within the iteration limit.
    AcceptedRevision,
    /// Stage 3: a revision that ran out of iterations.
    TimedOutRevision,
    /// Stage 3: the review of the whole plan (the EVALUATOR span).
    HolisticReview,
}

impl StepType {
    /// Every step type, in pipeline order.
    pub const ALL: [Self; 9] = [
        Self::Plan,
        Self::Draft,
        Self::Critique,
        Self::RevisionInstruction,
        Self::RevisionDraft,
        Self::RevisionVerdict,
        Self::AcceptedRevision,
        Self::TimedOutRevision,
        Self::HolisticReview,
    ];

    /// The value of `agento.step_type`.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Plan => "plan",
            Self::Draft => "draft",
            Self::Critique => "critique",
            Self::RevisionInstruction => "revision_instruction",
            Self::RevisionDraft => "revision_draft",
            Self::RevisionVerdict => "revision_verdict",
            Self::AcceptedRevision => "accepted_revision",
            Self::TimedOutRevision => "timed_out_revision",
            Self::HolisticReview => "holistic_review",
        }
    }
}

impl fmt::Display for StepType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A text that is not one of [`StepType::ALL`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnknownStepType(pub String);

impl fmt::Display for UnknownStepType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "unknown step type {:?}; expected one of ", self.0)?;
        for (i, step) in StepType::ALL.iter().enumerate() {
            if i > 0 {
                f.write_str(", ")?;
            }
            f.write_str(step.as_str())?;
        }
        Ok(())
    }
}

impl std::error::Error for UnknownStepType {}

impl FromStr for StepType {
    type Err = UnknownStepType;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .into_iter()
            .find(|step| step.as_str() == text)
            .ok_or_else(|| UnknownStepType(text.to_owned()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_step_type_parses_back() {
        for step in StepType::ALL {
            assert_eq!(step.as_str().parse::<StepType>(), Ok(step));
            assert_eq!(step.to_string(), step.as_str());
        }
        let error = "review".parse::<StepType>().unwrap_err().to_string();
        assert!(
            error.contains("\"review\"") && error.contains("holistic_review"),
            "{error}"
        );
    }
}
