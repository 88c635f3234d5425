//! Stage 2, `1_05_Ingest-PlanStructure-to-Plan`: per outline step, one OpenAI
//! call drafts the deliverable; then per step one call critiques the draft and
//! asks for improvements. Output: the run folder's `project_plan.json` (and
//! the latest copy `data/project_plan.json`).

use std::collections::BTreeMap;

use agento::attributes::{
    AGENTO_CRITERIA, AGENTO_DRAFT_CONTENT, AGENTO_INSTRUCTIONS, AGENTO_USER_GOAL,
};
use agento::{agento_module, record_module_input, record_module_output, record_user_goal, step};
use serde::{Deserialize, Serialize};

use super::calls::Call;
use super::{PLAN_STRUCTURE_FILE, PROJECT_PLAN_FILE, Pipeline, PipelineError, STAGE_2, prompts};
use crate::plan::PlanStructure;

/// Stage 2's output: the plan with drafted contents and a revision request per step.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProjectPlan {
    /// The plan, its outline contents replaced by the drafts.
    #[serde(flatten)]
    pub plan: PlanStructure,
    /// Step name → the improvements asked for.
    pub revision_requests: BTreeMap<String, String>,
}

impl ProjectPlan {
    /// Reads and validates the run's `project_plan.json`.
    pub fn read(pipeline: &Pipeline) -> Result<Self, PipelineError> {
        let (path, value) = pipeline.read_input(PROJECT_PLAN_FILE, "the project plan")?;
        let shape = |reason: String| PipelineError::Shape {
            path: path.display().to_string(),
            reason,
        };
        let plan = PlanStructure::from_value(&value).map_err(|e| shape(e.to_string()))?;
        let requests = value
            .get("revision_requests")
            .ok_or_else(|| shape("field `revision_requests` is missing".to_owned()))?;
        let revision_requests: BTreeMap<String, String> = serde_json::from_value(requests.clone())
            .map_err(|e| {
                shape(format!(
                    "field `revision_requests` must map step names to texts: {e}"
                ))
            })?;
        Ok(Self {
            plan,
            revision_requests,
        })
    }
}

/// Runs stage 2 in the run the context carrier names.
#[agento_module(name = "1_05_Ingest-PlanStructure-to-Plan")]
pub async fn run(pipeline: &Pipeline) -> Result<ProjectPlan, PipelineError> {
    let started = pipeline.begin_stage(
        2,
        STAGE_2,
        &format!(
            "drafts and revision requests (OpenAI {})",
            pipeline.vendors.openai.model()
        ),
    );
    let (input, value) = pipeline.read_input(PLAN_STRUCTURE_FILE, "the plan structure")?;
    let plan = PlanStructure::from_value(&value).map_err(|e| PipelineError::Shape {
        path: input.display().to_string(),
        reason: e.to_string(),
    })?;
    record_user_goal(&plan.original_goal);
    record_module_input(&plan);
    let drafted = develop_drafts(pipeline, &plan).await?;
    let revision_requests = generate_revision_requests(pipeline, &drafted).await?;
    let project = ProjectPlan {
        plan: drafted,
        revision_requests,
    };
    let path = pipeline.write_output(PROJECT_PLAN_FILE, &project)?;
    record_module_output(&project);
    pipeline.end_stage(STAGE_2, started, "drafted plan", &path);
    Ok(project)
}

/// Drafts every outline step's deliverable.
#[step(kind = CHAIN)]
async fn develop_drafts(
    pipeline: &Pipeline,
    plan: &PlanStructure,
) -> Result<PlanStructure, PipelineError> {
    let mut drafted = plan.clone();
    let progress = pipeline
        .console
        .progress("drafts", plan.detailed_outline.len());
    for (i, step) in drafted.detailed_outline.iter_mut().enumerate() {
        progress.start(i, &step.name);
        let criteria = plan.criteria(&step.name);
        let prompt = prompts::draft(plan, &step.name, &step.content, criteria);
        let call = Call {
            step: &step.name,
            prompt: &prompt,
            notes: &[
                (AGENTO_USER_GOAL, &plan.original_goal),
                (AGENTO_CRITERIA, criteria),
                (AGENTO_INSTRUCTIONS, &step.content),
            ],
        };
        let reply = pipeline.calls().draft_step(call).await?;
        pipeline.report.reply(&reply);
        pipeline.report.step(STAGE_2, &step.name, "drafted");
        progress.done(&format!(
            "{}: {} characters drafted",
            step.name,
            reply.text.chars().count()
        ));
        step.content = reply.text;
    }
    Ok(drafted)
}

/// Critiques every draft and asks for specific improvements.
#[step(kind = CHAIN)]
async fn generate_revision_requests(
    pipeline: &Pipeline,
    plan: &PlanStructure,
) -> Result<BTreeMap<String, String>, PipelineError> {
    let mut requests = BTreeMap::new();
    let progress = pipeline
        .console
        .progress("critiques", plan.detailed_outline.len());
    for (i, step) in plan.detailed_outline.iter().enumerate() {
        progress.start(i, &step.name);
        let prompt = prompts::critique(
            &plan.original_goal,
            &step.name,
            &step.content,
            plan.criteria(&step.name),
        );
        let call = Call {
            step: &step.name,
            prompt: &prompt,
            notes: &[
                (AGENTO_USER_GOAL, &plan.original_goal),
                (AGENTO_DRAFT_CONTENT, &step.content),
            ],
        };
        let reply = pipeline.calls().critique_step(call).await?;
        pipeline.report.reply(&reply);
        pipeline.report.step(STAGE_2, &step.name, "critiqued");
        progress.done(&format!("{}: revision requested", step.name));
        requests.insert(step.name.clone(), reply.text);
    }
    Ok(requests)
}
