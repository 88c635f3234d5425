//! Property tests of what parses model output: plan-JSON extraction and
//! validation, and the verdict parser. `scripts/fuzz.sh` runs them longer.

use agento_pipeline::plan::{PlanStructure, extract_json};
use agento_pipeline::verdict::Verdict;
use proptest::prelude::*;

fn config() -> ProptestConfig {
    ProptestConfig {
        cases: std::env::var("PROPTEST_CASES")
            .ok()
            .and_then(|n| n.parse().ok())
            .unwrap_or(256),
        ..ProptestConfig::default()
    }
}

fn plan_json(steps: &[String]) -> String {
    serde_json::json!({
        "Title": "T", "Overall_Summary": "S", "Original_Goal": "model's goal",
        "Detailed_Outline": steps.iter().map(|s| serde_json::json!({"name": s, "content": format!("do {s}")})).collect::<Vec<_>>(),
        "Evaluation_Criteria": steps.iter().map(|s| (s.clone(), serde_json::json!("done"))).collect::<serde_json::Map<_, _>>(),
        "Success_Measures": ["m"],
    })
    .to_string()
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn extraction_never_panics_and_returns_json(text in "\\PC{0,400}") {
        if let Some(json) = extract_json(&text) {
            prop_assert!(serde_json::from_str::<serde_json::Value>(json).is_ok());
            prop_assert!(text.contains(json));
        }
        let _ = PlanStructure::from_reply(&text, "goal");
    }

    #[test]
    fn a_valid_plan_in_prose_is_found_and_its_goal_forced(
        before in "[^{}]{0,200}",
        after in "\\PC{0,200}",
        steps in proptest::collection::btree_set("[A-Za-z][A-Za-z ]{0,20}", 1..8),
        fenced in any::<bool>(),
    ) {
        let steps: Vec<String> = steps.into_iter().collect();
        let json = plan_json(&steps);
        let body = if fenced { format!("```json\n{json}\n```") } else { json };
        let plan = PlanStructure::from_reply(&format!("{before}{body}{after}"), "the user's goal").unwrap();
        prop_assert_eq!(plan.original_goal, "the user's goal");
        prop_assert_eq!(plan.detailed_outline.len(), steps.len());
    }

    #[test]
    fn verdicts_are_yes_only_when_the_first_word_is(text in "\\PC{0,60}") {
        let first: String = text
            .trim_start_matches(|c: char| c.is_whitespace() || matches!(c, '*' | '#' | '"' | '\'' | '`' | '>'))
            .chars()
            .take_while(char::is_ascii_alphabetic)
            .collect();
        prop_assert_eq!(Verdict::parse(&text) == Verdict::Yes, first.eq_ignore_ascii_case("yes"));
    }
}
