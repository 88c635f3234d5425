//! Stage 1, `1_01_JSON_Goal_to_PlanStructure`: the goal file → one Gemini call
//! → a validated plan structure in the run folder's `plan_structure.json`
//! (and the latest copy `data/plan_structure.json`).

use agento::attributes::AGENTO_USER_GOAL;
use agento::{agento_module, record_module_output, record_user_goal, step};

use super::calls::Call;
use super::{PLAN_STRUCTURE_FILE, Pipeline, PipelineError, STAGE_1, prompts};
use crate::goal::Goal;
use crate::plan::PlanStructure;

/// Runs stage 1: a new run (or, inside `agento run`, the first module of it).
#[agento_module(name = "1_01_JSON_Goal_to_PlanStructure", first)]
pub async fn run(pipeline: &Pipeline) -> Result<PlanStructure, PipelineError> {
    let started = pipeline.begin_stage(
        1,
        STAGE_1,
        &format!(
            "goal → plan structure (Gemini {})",
            pipeline.vendors.gemini.model()
        ),
    );
    let goal = Goal::read(&pipeline.goal_path)?;
    record_user_goal(&goal.goal);
    let mut plan = generate_plan_structure(pipeline, &goal.goal).await?;
    plan.expected_response = goal.expected_response;
    let path = pipeline.write_output(PLAN_STRUCTURE_FILE, &plan)?;
    record_module_output(&plan);
    let output = format!(
        "plan \"{}\" with {} steps",
        plan.title,
        plan.detailed_outline.len()
    );
    pipeline.end_stage(STAGE_1, started, &output, &path);
    Ok(plan)
}

/// Asks for the plan structure and validates it.
#[step(kind = CHAIN)]
async fn generate_plan_structure(
    pipeline: &Pipeline,
    goal: &str,
) -> Result<PlanStructure, PipelineError> {
    let call = Call {
        step: "plan",
        prompt: &prompts::plan(goal),
        notes: &[(AGENTO_USER_GOAL, goal)],
    };
    let reply = pipeline.calls().generate_plan_structure(call).await?;
    pipeline.report.reply(&reply);
    PlanStructure::from_reply(&reply.text, goal).map_err(|error| PipelineError::Plan {
        model: reply.model.clone(),
        error,
    })
}
