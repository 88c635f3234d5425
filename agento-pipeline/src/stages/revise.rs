//! Stage 3, `2_Revise-Plan-Stable`: per step with a revision request, up to
//! three iterations of Anthropic instructions → Gemini revision → Anthropic
//! verdict (parsed strictly). YES replaces the content (`accepted_revision`);
//! three NOs keep the original (`timed_out_revision`). Then a holistic review,
//! the final plan on the module span, and the run folder's `RevisedPlan.json`
//! (and the latest copy `data/RevisedPlan.json`).

use agento::attributes::{
    AGENTO_FINAL_CONTENT, AGENTO_FINAL_CRITIQUE, AGENTO_FINAL_PLAN_CONTENT,
    AGENTO_ITERATIONS_TAKEN, AGENTO_LAST_ATTEMPTED_DRAFT, AGENTO_REVISION_REQUEST,
    AGENTO_STEP_NAME, AGENTO_STEP_TYPE,
};
use agento::opentelemetry::KeyValue;
use agento::opentelemetry::trace::SpanKind as OtelSpanKind;
use agento::{
    Conversation, IoValue, SpanGuard, SpanKind, StepType, agento_module, record_expected_response,
    record_final_response, record_module_input, record_user_goal, step,
};
use serde::{Deserialize, Serialize};

use super::calls::Call;
use super::ingest::ProjectPlan;
use super::{Pipeline, PipelineError, REVISED_PLAN_FILE, STAGE_3, prompts};
use crate::plan::PlanStructure;
use crate::verdict::Verdict;

/// Iterations per step before a revision times out.
pub const MAX_ITERATIONS: u32 = 3;

/// Stage 3's output: the final plan and the holistic review.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RevisedPlan {
    /// The plan with accepted revisions in place.
    #[serde(flatten)]
    pub plan: PlanStructure,
    /// The reviewer's assessment of the whole plan.
    #[serde(rename = "Holistic_Review")]
    pub holistic_review: String,
}

/// Runs stage 3, the last one, in the run the context carrier names.
#[agento_module(name = "2_Revise-Plan-Stable", final)]
pub async fn run(pipeline: &Pipeline) -> Result<RevisedPlan, PipelineError> {
    let started = pipeline.begin_stage(
        3,
        STAGE_3,
        &format!(
            "revise (Anthropic {} + Gemini {})",
            pipeline.vendors.anthropic.model(),
            pipeline.vendors.gemini.model()
        ),
    );
    let project = ProjectPlan::read(pipeline)?;
    record_user_goal(&project.plan.original_goal);
    record_module_input(&project);
    if let Some(expected) = &project.plan.expected_response {
        record_expected_response(expected);
    }
    let revised = further_revise_plan(pipeline, &project).await?;
    let final_json = serde_json::to_string(&revised).unwrap_or_default();
    record_final_response(&revised);
    let path = pipeline.write_output(REVISED_PLAN_FILE, &revised)?;
    let output = format!("final plan ({} characters)", final_json.chars().count());
    pipeline.end_stage(STAGE_3, started, &output, &path);
    Ok(revised)
}

/// Revises every step that has a request, then reviews the whole plan.
#[step(kind = CHAIN)]
async fn further_revise_plan(
    pipeline: &Pipeline,
    project: &ProjectPlan,
) -> Result<RevisedPlan, PipelineError> {
    let mut plan = project.plan.clone();
    let goal = plan.original_goal.clone();
    let todo: Vec<usize> = (0..plan.detailed_outline.len())
        .filter(|i| {
            project
                .revision_requests
                .contains_key(&plan.detailed_outline[*i].name)
        })
        .collect();
    let progress = pipeline.console.progress("revisions", todo.len());
    for (n, i) in todo.into_iter().enumerate() {
        let step = &plan.detailed_outline[i];
        let request = project
            .revision_requests
            .get(&step.name)
            .map_or("", String::as_str);
        progress.start(n, &step.name);
        // One GenAI conversation per step's revise loop.
        let conversation = Conversation::new(format!("{}.revise.{i}", run_label(pipeline)));
        let (content, note) = conversation
            .scope(revise_step_with_llms(
                pipeline,
                &goal,
                &step.name,
                &step.content,
                request,
            ))
            .await?;
        pipeline
            .report
            .step(STAGE_3, &plan.detailed_outline[i].name, note.clone());
        progress.done(&format!("{}: {note}", plan.detailed_outline[i].name));
        plan.detailed_outline[i].content = content;
    }
    drop(progress);
    let holistic_review = holistic_review(pipeline, &plan).await?;
    Ok(RevisedPlan {
        plan,
        holistic_review,
    })
}

/// Up to [`MAX_ITERATIONS`] rounds of instructions → revision → verdict for
/// one step; returns the step's content and how it went.
#[step(kind = CHAIN, fields(step_name))]
async fn revise_step_with_llms(
    pipeline: &Pipeline,
    goal: &str,
    step_name: &str,
    original: &str,
    request: &str,
) -> Result<(String, String), PipelineError> {
    let calls = pipeline.calls();
    let mut last_draft = String::new();
    let mut last_critique = String::new();
    for iteration in 1..=MAX_ITERATIONS {
        let prompt = prompts::revision_instruction(goal, step_name, original, request, iteration);
        let instructions = calls
            .revision_instruction(Call::new(step_name, &prompt))
            .await?;
        pipeline.report.reply(&instructions);
        let prompt =
            prompts::revision_draft(goal, step_name, original, &instructions.text, iteration);
        let draft = calls.revision_draft(Call::new(step_name, &prompt)).await?;
        pipeline.report.reply(&draft);
        let prompt = prompts::revision_verdict(goal, step_name, request, &draft.text, iteration);
        let verdict_reply = calls
            .revision_verdict(Call::new(step_name, &prompt))
            .await?;
        pipeline.report.reply(&verdict_reply);
        let verdict = Verdict::parse(&verdict_reply.text);
        if verdict.accepted() {
            revision_event(
                StepType::AcceptedRevision,
                Revision {
                    step_name,
                    request,
                    iterations: iteration,
                },
                &[(AGENTO_FINAL_CONTENT, &draft.text)],
                &IoValue::Text(draft.text.clone()),
            );
            return Ok((
                draft.text,
                format!("accepted after {iteration} iteration(s)"),
            ));
        }
        last_draft = draft.text;
        last_critique = verdict_reply.text;
    }
    revision_event(
        StepType::TimedOutRevision,
        Revision {
            step_name,
            request,
            iterations: MAX_ITERATIONS,
        },
        &[
            (AGENTO_LAST_ATTEMPTED_DRAFT, &last_draft),
            (AGENTO_FINAL_CRITIQUE, &last_critique),
        ],
        &IoValue::Json(serde_json::json!({
            "kept": original,
            "last_attempted_draft": last_draft,
            "final_critique": last_critique,
        })),
    );
    Ok((
        original.to_owned(),
        format!("not accepted in {MAX_ITERATIONS} iterations; original kept"),
    ))
}

/// What an accepted or timed-out revision event records of its step.
struct Revision<'a> {
    step_name: &'a str,
    request: &'a str,
    iterations: u32,
}

/// The event span ending one step's revise loop (`step_type` is
/// `accepted_revision` or `timed_out_revision`): the step, its request and
/// the iterations taken, `texts` on top, the request as input and `output`.
fn revision_event(
    step_type: StepType,
    revision: Revision<'_>,
    texts: &[(&'static str, &str)],
    output: &IoValue,
) {
    let event = event_span(step_type, SpanKind::Chain);
    event.set_text(AGENTO_STEP_NAME, revision.step_name);
    event.set_text(AGENTO_REVISION_REQUEST, revision.request);
    for (key, text) in texts {
        event.set_text(*key, text);
    }
    event.set_attribute(KeyValue::new(
        AGENTO_ITERATIONS_TAKEN,
        i64::from(revision.iterations),
    ));
    event.record_input(&IoValue::Text(revision.request.to_owned()));
    event.record_output(output);
    event.set_ok();
}

/// The holistic review: an EVALUATOR span carrying the final plan, around one
/// Anthropic call.
async fn holistic_review(
    pipeline: &Pipeline,
    plan: &PlanStructure,
) -> Result<String, PipelineError> {
    let plan_json = serde_json::to_string_pretty(plan).unwrap_or_default();
    let span = event_span(StepType::HolisticReview, SpanKind::Evaluator);
    span.set_text(AGENTO_FINAL_PLAN_CONTENT, &plan_json);
    span.record_input(&IoValue::Text(plan_json.clone()));
    let prompt = prompts::holistic_review(&plan.original_goal, &plan_json);
    let call = Call::new("holistic review", &prompt);
    let result = span
        .instrument(pipeline.calls().holistic_review(call))
        .await;
    match &result {
        Ok(reply) => {
            pipeline.report.reply(reply);
            span.record_output(&IoValue::Text(reply.text.clone()));
            span.set_ok();
        }
        Err(error) => span.record_error(&agento::ErrorInfo::error_type(error), &error.to_string()),
    }
    Ok(result?.text)
}

/// The run id, for ids that must be unique per run.
fn run_label(pipeline: &Pipeline) -> String {
    pipeline
        .run()
        .map_or_else(|| "run".to_owned(), |run| run.run_id.to_string())
}

/// The span of one of the pipeline's events, `agento.event.<step type>`,
/// child of the current span.
fn event_span(step_type: StepType, kind: SpanKind) -> SpanGuard {
    SpanGuard::start_with(
        format!("agento.event.{}", step_type.as_str()),
        kind,
        OtelSpanKind::Internal,
        vec![KeyValue::new(AGENTO_STEP_TYPE, step_type.as_str())],
    )
}
