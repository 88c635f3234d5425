//! Deterministic replies derived from the prompt. Each pipeline prompt starts
//! with a marker line (`[agento:plan]`, `[agento:draft]`, …) and carries
//! `Goal:`, `Step:` and `Iteration:` lines; the simulator answers each kind of
//! prompt the way a capable model would, in shape if not in wisdom.

use std::collections::HashMap;
use std::sync::Mutex;

use agento::StepType;
use serde_json::json;

/// The value of a `Name: value` line of `prompt`.
fn field<'a>(prompt: &'a str, name: &str) -> Option<&'a str> {
    prompt.lines().find_map(|line| {
        line.strip_prefix(name)
            .and_then(|rest| rest.strip_prefix(':'))
            .map(str::trim)
    })
}

/// The marker of `prompt` (`[agento:<step type>]` on its first line), if it
/// has one: the kind of call it is.
pub fn marker(prompt: &str) -> Option<StepType> {
    let first = prompt.lines().next()?.trim();
    first
        .strip_prefix("[agento:")?
        .strip_suffix(']')?
        .parse()
        .ok()
}

/// A stable 64-bit hash (FNV-1a) of `text`, so replies do not change between runs.
fn hash(text: &str) -> u64 {
    text.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    })
}

const STEP_NAMES: [&str; 6] = [
    "Research and Requirements",
    "Resources and Budget",
    "Design and Plan",
    "Build and Test",
    "Launch",
    "Measure and Improve",
];

/// How many verdicts were asked about each step, for verdict prompts without
/// an `Iteration:` line.
#[derive(Debug, Default)]
pub struct Verdicts {
    asked: Mutex<HashMap<(String, String), u32>>,
}

impl Verdicts {
    /// The number (from 1) of this verdict about `step` of `goal`.
    fn next(&self, goal: &str, step: &str) -> u32 {
        let mut asked = self.asked.lock().unwrap_or_else(|e| e.into_inner());
        let count = asked.entry((goal.to_owned(), step.to_owned())).or_default();
        *count = count.saturating_add(1);
        *count
    }
}

/// The reply text for `prompt`. Verdicts say NO to the first revision of a
/// step and YES to the second, so a revise loop takes two iterations: the
/// prompt's `Iteration:` line numbers the verdict when present (stateless),
/// else `verdicts` counts the verdicts asked per step (odd: NO, even: YES, so
/// a simulator serving several runs answers each the same way).
pub fn reply(prompt: &str, verdicts: &Verdicts) -> String {
    let goal = field(prompt, "Goal").unwrap_or("the goal");
    let step = field(prompt, "Step").unwrap_or("the step");
    match marker(prompt) {
        Some(StepType::Plan) => plan(goal),
        Some(StepType::Draft) => format!(
            "## {step}\n\nTo move \"{goal}\" forward, this step delivers three things.\n\n\
             1. A short brief that states what done looks like for {step}, who owns it and by when.\n\
             2. A checklist of the concrete tasks, each small enough to finish in a day.\n\
             3. A review at the end of the step against its evaluation criteria.\n\n\
             Risks: scope creep and missing inputs; both are handled by the weekly review."
        ),
        Some(StepType::Critique) => format!(
            "The draft for \"{step}\" is a sound start but too generic. Name the owner and a date for each task, \
             add a measurable acceptance test for every deliverable, and tie the risks to concrete mitigations \
             that fit the goal \"{goal}\"."
        ),
        Some(StepType::RevisionInstruction) => format!(
            "Revise \"{step}\": (1) give every task an owner and a due date; (2) add one measurable \
             acceptance test per deliverable; (3) replace the generic risks with two risks specific to \
             \"{goal}\", each with a mitigation."
        ),
        Some(StepType::RevisionDraft) => format!(
            "## {step} (revised)\n\n| Task | Owner | Due | Acceptance test |\n|---|---|---|---|\n\
             | Write the brief | Project lead | Week 1 | Brief approved by the sponsor |\n\
             | Build the checklist | Team | Week 1 | Every task sized at one day or less |\n\
             | Step review | Project lead | Week 2 | All criteria met or re-planned |\n\n\
             Risks specific to \"{goal}\": budget overrun (mitigation: a 10% reserve) and \
             supplier delay (mitigation: a second supplier)."
        ),
        Some(StepType::RevisionVerdict) => {
            let number = field(prompt, "Iteration")
                .and_then(|n| n.parse::<u32>().ok())
                .unwrap_or_else(|| verdicts.next(goal, step));
            if number % 2 == 1 {
                format!("NO — \"{step}\" still lacks owners and due dates for some tasks.")
            } else {
                format!("YES — \"{step}\" now has owners, dates and measurable acceptance tests.")
            }
        }
        Some(StepType::HolisticReview) => format!(
            "The plan for \"{goal}\" is coherent: the steps follow each other, each has owners, dates \
             and acceptance tests, and the risks are specific. Keep the weekly review."
        ),
        _ => format!(
            "I received a prompt of {} characters.",
            prompt.chars().count()
        ),
    }
}

fn plan(goal: &str) -> String {
    let seed = hash(goal);
    let count = 3 + usize::try_from(seed % 2).unwrap_or(0);
    let start = usize::try_from((seed >> 8) % 3).unwrap_or(0);
    let steps: Vec<&str> = STEP_NAMES[start..start + count].to_vec();
    let outline: Vec<_> = steps
        .iter()
        .map(|name| json!({"name": name, "content": format!("What {name} means for: {goal}")}))
        .collect();
    let criteria: serde_json::Map<String, serde_json::Value> = steps
        .iter()
        .map(|name| {
            (
                (*name).to_owned(),
                json!(format!("{name} is specific, owned, dated and testable")),
            )
        })
        .collect();
    let plan = json!({
        "Title": format!("Plan: {goal}"),
        "Overall_Summary": format!("A {count}-step plan to achieve: {goal}"),
        "Original_Goal": goal,
        "Detailed_Outline": outline,
        "Evaluation_Criteria": criteria,
        "Success_Measures": ["Every step delivered on time", "The goal is met and measured"],
    });
    let pretty = serde_json::to_string_pretty(&plan).unwrap_or_default();
    format!("Here is the plan structure you asked for.\n\n```json\n{pretty}\n```\n")
}

/// A plan a careless model might write: prose around JSON whose outline is
/// a string and whose criteria are a list.
pub fn broken_plan() -> String {
    "Sure! Here is my plan: {\"Title\": \"Plan\", \"Overall_Summary\": \"S\", \"Original_Goal\": \"G\",      \"Detailed_Outline\": \"first research, then build\", \"Evaluation_Criteria\": [\"good\"],      \"Success_Measures\": 3} Hope this helps!"
        .to_owned()
}

/// The reply of JSON mode: the fenced JSON block of `text` (else its first
/// balanced JSON object) as compact JSON, or `text` itself as a JSON string
/// when it holds no JSON object.
pub fn json_only(text: &str) -> String {
    text.split("```json")
        .nth(1)
        .and_then(|rest| rest.split("```").next())
        .and_then(|block| serde_json::from_str::<serde_json::Value>(block).ok())
        .or_else(|| {
            crate::plan::extract_json(text)
                .and_then(|object| serde_json::from_str::<serde_json::Value>(object).ok())
        })
        .unwrap_or_else(|| serde_json::Value::String(text.to_owned()))
        .to_string()
}

/// `text` padded with filler to at least `bytes` bytes.
pub fn pad(mut text: String, bytes: usize) -> String {
    const FILLER: &str = " Further detail follows to make this answer long.";
    while text.len() < bytes {
        text.push_str(FILLER);
    }
    text
}

/// A plausible token count for `text` (about 1.3 tokens per word).
pub fn tokens(text: &str) -> u64 {
    let words = u64::try_from(text.split_whitespace().count()).unwrap_or(u64::MAX);
    words.saturating_mul(13) / 10 + 1
}

/// `text` cut to what fits in `max_tokens` (whole words), its token count,
/// and whether it was cut.
pub fn limit(text: String, max_tokens: Option<u64>) -> (String, u64, bool) {
    let count = tokens(&text);
    match max_tokens {
        Some(max) if count > max => {
            let words = usize::try_from(max.saturating_mul(10) / 13).unwrap_or(usize::MAX);
            let cut: Vec<&str> = text.split_whitespace().take(words).collect();
            (cut.join(" "), max, true)
        }
        _ => (text, count, false),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn verdicts_alternate_no_then_yes() {
        let verdicts = Verdicts::default();
        let ask = "[agento:revision_verdict]\nGoal: Open a bakery\nStep: Launch\n";
        assert!(reply(ask, &verdicts).starts_with("NO"));
        assert!(reply(ask, &verdicts).starts_with("YES"));
    }

    #[test]
    fn json_mode_keeps_the_fenced_object_or_quotes_the_text() {
        assert_eq!(json_only("Here:\n```json\n{\"a\": 1}\n```\n"), r#"{"a":1}"#);
        assert_eq!(json_only("plain"), r#""plain""#);
    }

    #[test]
    fn limit_cuts_whole_words_to_the_token_budget() {
        assert_eq!(
            limit("one two three four five".into(), Some(3)),
            ("one two".into(), 3, true)
        );
        assert_eq!(limit("one two".into(), None), ("one two".into(), 3, false));
    }

    #[test]
    fn markers_and_fields_are_read_from_the_prompt() {
        let prompt = "[agento:revision_verdict]\nGoal: Open a bakery\nStep: Launch\nIteration: 2\n";
        assert_eq!(marker(prompt), Some(StepType::RevisionVerdict));
        let verdicts = Verdicts::default();
        assert!(reply(prompt, &verdicts).starts_with("YES"));
        assert!(reply(prompt, &verdicts).starts_with("YES"), "stateless");
        let first = prompt.replace("Iteration: 2", "Iteration: 1");
        assert!(reply(&first, &verdicts).starts_with("NO"));
        assert_eq!(marker("no marker"), None);
    }

    #[test]
    fn verdicts_without_an_iteration_line_are_counted_per_step() {
        let verdicts = Verdicts::default();
        let ask = |step: &str| {
            reply(
                &format!("[agento:revision_verdict]\nGoal: G\nStep: {step}\n"),
                &verdicts,
            )
        };
        assert!(ask("Launch").starts_with("NO"));
        assert!(
            ask("Build").starts_with("NO"),
            "each step has its own count"
        );
        assert!(ask("Launch").starts_with("YES"));
        assert!(ask("Build").starts_with("YES"));
        assert!(ask("Launch").starts_with("NO"), "a new run starts over");
    }

    #[test]
    fn the_plan_is_deterministic_fenced_json() {
        let prompt = "[agento:plan]\nGoal: Open a bakery\n";
        let verdicts = Verdicts::default();
        assert_eq!(reply(prompt, &verdicts), reply(prompt, &verdicts));
        let text = reply(prompt, &verdicts);
        let json = text
            .split("```json")
            .nth(1)
            .and_then(|t| t.split("```").next())
            .unwrap();
        let plan: serde_json::Value = serde_json::from_str(json).unwrap();
        assert_eq!(plan["Original_Goal"], "Open a bakery");
        let steps = plan["Detailed_Outline"].as_array().unwrap();
        assert!((3..=4).contains(&steps.len()));
        for step in steps {
            assert!(plan["Evaluation_Criteria"][step["name"].as_str().unwrap()].is_string());
        }
    }
}
