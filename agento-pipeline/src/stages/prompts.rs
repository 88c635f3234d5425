//! The prompts. Each starts with a marker line (`[agento:<kind>]`) and carries
//! `Goal:`/`Step:`/`Iteration:` lines: real models read them as context, the
//! offline simulator derives its answers from them.

use crate::plan::PlanStructure;

/// The system instruction of every call.
pub(super) const SYSTEM: &str =
    "You are Agento, a meticulous project planner. Answer exactly in the format asked for.";

pub(super) fn plan(goal: &str) -> String {
    format!(
        "[agento:plan]\nGoal: {goal}\n\n\
         Create a project plan structure for the goal above. Answer with one JSON object, \
         in a ```json code block, with exactly these keys:\n\
         - \"Title\": a short title;\n\
         - \"Overall_Summary\": two or three sentences;\n\
         - \"Original_Goal\": the goal, verbatim;\n\
         - \"Detailed_Outline\": a list of 3 to 8 steps, each {{\"name\": ..., \"content\": ...}} with a unique name;\n\
         - \"Evaluation_Criteria\": an object mapping each step name to how to judge that step;\n\
         - \"Success_Measures\": a list of measurable outcomes for the whole plan.\n"
    )
}

pub(super) fn draft(
    plan: &PlanStructure,
    step: &str,
    instructions: &str,
    criteria: &str,
) -> String {
    let outline: Vec<&str> = plan
        .detailed_outline
        .iter()
        .map(|s| s.name.as_str())
        .collect();
    format!(
        "[agento:draft]\nGoal: {goal}\nStep: {step}\n\n\
         You are drafting one step of the plan \"{title}\" ({summary}). The steps are: {steps}.\n\
         Write the deliverable of the step \"{step}\": {instructions}\n\
         It will be judged by: {criteria}\n\
         Answer with the drafted deliverable only, in Markdown.",
        goal = plan.original_goal,
        title = plan.title,
        summary = plan.overall_summary,
        steps = outline.join(", "),
    )
}

pub(super) fn critique(goal: &str, step: &str, draft: &str, criteria: &str) -> String {
    format!(
        "[agento:critique]\nGoal: {goal}\nStep: {step}\n\n\
         Critique this draft of the step \"{step}\" against its criteria ({criteria}) and the goal. \
         Answer with one paragraph asking for specific, actionable improvements.\n\n--- DRAFT ---\n{draft}"
    )
}

pub(super) fn revision_instruction(
    goal: &str,
    step: &str,
    content: &str,
    request: &str,
    iteration: u32,
) -> String {
    format!(
        "[agento:revision_instruction]\nGoal: {goal}\nStep: {step}\nIteration: {iteration}\n\n\
         A reviewer asked for this revision: {request}\n\
         Write precise, numbered instructions for revising the current content of \"{step}\".\n\n--- CURRENT CONTENT ---\n{content}"
    )
}

pub(super) fn revision_draft(
    goal: &str,
    step: &str,
    content: &str,
    instructions: &str,
    iteration: u32,
) -> String {
    format!(
        "[agento:revision_draft]\nGoal: {goal}\nStep: {step}\nIteration: {iteration}\n\n\
         Revise the content of \"{step}\" following these instructions:\n{instructions}\n\
         Answer with the revised content only.\n\n--- CURRENT CONTENT ---\n{content}"
    )
}

pub(super) fn revision_verdict(
    goal: &str,
    step: &str,
    request: &str,
    revised: &str,
    iteration: u32,
) -> String {
    format!(
        "[agento:revision_verdict]\nGoal: {goal}\nStep: {step}\nIteration: {iteration}\n\n\
         Does the revised content below fully satisfy the revision request \"{request}\"? \
         Start your answer with YES or NO, then give one sentence of reasons.\n\n--- REVISED CONTENT ---\n{revised}"
    )
}

pub(super) fn holistic_review(goal: &str, plan_json: &str) -> String {
    format!(
        "[agento:holistic_review]\nGoal: {goal}\n\n\
         Review the whole plan below for coherence, gaps and risks with respect to the goal. \
         Answer with a short assessment.\n\n--- PLAN ---\n{plan_json}"
    )
}
