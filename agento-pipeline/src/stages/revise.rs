//! Stage 3, `2_Revise-Plan-Stable`: per step with a revision request, up to
//! three iterations of Anthropic instructions → Gemini revision → Anthropic
//! verdict (parsed strictly). YES replaces the content (`accepted_revision`);
//! three NOs keep the original (`timed_out_revision`). Then a holistic review,
//! the final plan on the module span, and the run folder's `RevisedPlan.json`
//! (and the latest copy `data/RevisedPlan.json`).

use std::time::Instant;

use agento::Conversation;
use agento::IoValue;
use agento::attributes::{
    AGENTO_FINAL_CONTENT, AGENTO_FINAL_CRITIQUE, AGENTO_FINAL_PLAN_CONTENT,
    AGENTO_ITERATIONS_TAKEN, AGENTO_LAST_ATTEMPTED_DRAFT, AGENTO_REVISION_REQUEST,
    AGENTO_STEP_NAME, AGENTO_STEP_TYPE,
};
use agento::opentelemetry::KeyValue;
use agento::opentelemetry::trace::SpanKind as OtelSpanKind;
use agento::{
    SpanGuard, SpanKind, StepType, agento_module, record_expected_response, record_final_response,
    record_module_input, record_user_goal, step,
};
use serde::{Deserialize, Serialize};

use super::calls::Calls;
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
pub async fn run() -> Result<RevisedPlan, PipelineError> {
    let pipeline = Pipeline::get()?;
    pipeline.note_run();
    let started = Instant::now();
    pipeline.console.say(&format!(
        "stage 3/3 {STAGE_3}: revise (Anthropic {} + Gemini {})",
        pipeline.vendors.anthropic.model(),
        pipeline.vendors.gemini.model()
    ));
    let project = ProjectPlan::read(pipeline)?;
    record_user_goal(&project.plan.original_goal);
    record_module_input(&project);
    if let Some(expected) = &project.plan.expected_response {
        record_expected_response(expected);
    }
    let calls = Calls {
        vendors: &pipeline.vendors,
    };
    let revised = further_revise_plan(&calls, &project).await?;
    let final_json = serde_json::to_string(&revised).unwrap_or_default();
    record_final_response(&revised);
    let path = pipeline.write_output(REVISED_PLAN_FILE, &revised)?;
    pipeline.report.stage_time(STAGE_3, started.elapsed());
    pipeline.console.say(&format!(
        "  final plan ({} characters) → {}",
        final_json.chars().count(),
        Pipeline::show(&path)
    ));
    Ok(revised)
}

/// Revises every step that has a request, then reviews the whole plan.
#[step(kind = CHAIN)]
async fn further_revise_plan(
    calls: &Calls<'_>,
    project: &ProjectPlan,
) -> Result<RevisedPlan, PipelineError> {
    let pipeline = Pipeline::get()?;
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
                calls,
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
    let holistic_review = holistic_review(calls, &plan).await?;
    Ok(RevisedPlan {
        plan,
        holistic_review,
    })
}

/// Up to [`MAX_ITERATIONS`] rounds of instructions → revision → verdict for
/// one step; returns the step's content and how it went.
#[step(kind = CHAIN, fields(step_name))]
async fn revise_step_with_llms(
    calls: &Calls<'_>,
    goal: &str,
    step_name: &str,
    original: &str,
    request: &str,
) -> Result<(String, String), PipelineError> {
    let pipeline = Pipeline::get()?;
    let mut last_draft = String::new();
    let mut last_critique = String::new();
    for iteration in 1..=MAX_ITERATIONS {
        let instructions = calls
            .revision_instruction(
                step_name,
                &prompts::revision_instruction(goal, step_name, original, request, iteration),
            )
            .await?;
        pipeline.report.reply(&instructions);
        let draft = calls
            .revision_draft(
                step_name,
                &prompts::revision_draft(goal, step_name, original, &instructions.text, iteration),
            )
            .await?;
        pipeline.report.reply(&draft);
        let verdict_reply = calls
            .revision_verdict(
                step_name,
                &prompts::revision_verdict(goal, step_name, request, &draft.text, iteration),
            )
            .await?;
        pipeline.report.reply(&verdict_reply);
        let verdict = Verdict::parse(&verdict_reply.text);
        if verdict.accepted() {
            let event = event_span(
                "agento.event.accepted_revision",
                StepType::AcceptedRevision,
                SpanKind::Chain,
            );
            event.set_text(AGENTO_STEP_NAME, step_name);
            event.set_text(AGENTO_REVISION_REQUEST, request);
            event.set_text(AGENTO_FINAL_CONTENT, &draft.text);
            event.set_attribute(KeyValue::new(AGENTO_ITERATIONS_TAKEN, i64::from(iteration)));
            event.record_input(&IoValue::Text(request.to_owned()));
            event.record_output(&IoValue::Text(draft.text.clone()));
            event.set_ok();
            return Ok((
                draft.text,
                format!("accepted after {iteration} iteration(s)"),
            ));
        }
        last_draft = draft.text;
        last_critique = verdict_reply.text;
    }
    let event = event_span(
        "agento.event.timed_out_revision",
        StepType::TimedOutRevision,
        SpanKind::Chain,
    );
    event.set_text(AGENTO_STEP_NAME, step_name);
    event.set_text(AGENTO_REVISION_REQUEST, request);
    event.set_text(AGENTO_LAST_ATTEMPTED_DRAFT, &last_draft);
    event.set_text(AGENTO_FINAL_CRITIQUE, &last_critique);
    event.set_attribute(KeyValue::new(
        AGENTO_ITERATIONS_TAKEN,
        i64::from(MAX_ITERATIONS),
    ));
    event.record_input(&IoValue::Text(request.to_owned()));
    event.record_output(&IoValue::Json(serde_json::json!({
        "kept": original,
        "last_attempted_draft": last_draft,
        "final_critique": last_critique,
    })));
    event.set_ok();
    Ok((
        original.to_owned(),
        format!("not accepted in {MAX_ITERATIONS} iterations; original kept"),
    ))
}

/// The holistic review: an EVALUATOR span carrying the final plan, around one
/// Anthropic call.
async fn holistic_review(calls: &Calls<'_>, plan: &PlanStructure) -> Result<String, PipelineError> {
    let plan_json = serde_json::to_string_pretty(plan).unwrap_or_default();
    let span = event_span(
        "agento.event.holistic_review",
        StepType::HolisticReview,
        SpanKind::Evaluator,
    );
    span.set_text(AGENTO_FINAL_PLAN_CONTENT, &plan_json);
    span.record_input(&IoValue::Text(plan_json.clone()));
    let result = span
        .instrument(
            calls.holistic_review(&prompts::holistic_review(&plan.original_goal, &plan_json)),
        )
        .await;
    match &result {
        Ok(reply) => {
            Pipeline::get()?.report.reply(reply);
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

/// A span for one of the pipeline's events, child of the current span.
fn event_span(name: &'static str, step_type: StepType, kind: SpanKind) -> SpanGuard {
    SpanGuard::start_with(
        name,
        kind,
        OtelSpanKind::Internal,
        vec![KeyValue::new(AGENTO_STEP_TYPE, step_type.as_str())],
    )
}
