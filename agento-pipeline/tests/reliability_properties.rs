//! Property tests (proptest) of what parses model output: plan-JSON
//! extraction and validation, and the verdict parser. 256 cases each in
//! `scripts/test.sh`; `scripts/fuzz.sh` runs them with many more (and the
//! cargo-fuzz target `fuzz/fuzz_targets/plan.rs` where nightly exists).

use agento_pipeline::plan::{MAX_OUTLINE_STEPS, PlanError, PlanStructure, extract_json};
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

/// Arbitrary JSON values, nested up to a few levels.
fn json_value() -> impl Strategy<Value = serde_json::Value> {
    let leaf = prop_oneof![
        Just(serde_json::Value::Null),
        any::<bool>().prop_map(serde_json::Value::from),
        any::<i64>().prop_map(serde_json::Value::from),
        "\\PC{0,12}".prop_map(serde_json::Value::from),
    ];
    leaf.prop_recursive(4, 48, 6, |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..6).prop_map(serde_json::Value::from),
            proptest::collection::btree_map(
                prop_oneof![
                    Just("Title".to_owned()),
                    Just("Detailed_Outline".to_owned()),
                    Just("Evaluation_Criteria".to_owned()),
                    Just("Success_Measures".to_owned()),
                    Just("name".to_owned()),
                    Just("content".to_owned()),
                    "[a-z]{1,6}",
                ],
                inner,
                0..6
            )
            .prop_map(|map| serde_json::Value::Object(map.into_iter().collect())),
        ]
    })
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

    #[test]
    fn validation_of_any_json_value_is_a_result_never_a_panic(value in json_value()) {
        match PlanStructure::from_value(&value) {
            Ok(plan) => {
                prop_assert!(!plan.detailed_outline.is_empty());
                prop_assert!(plan.detailed_outline.len() <= MAX_OUTLINE_STEPS);
            }
            Err(error) => prop_assert!(!error.to_string().is_empty()),
        }
    }

    #[test]
    fn outlines_over_the_cap_are_refused_by_count(extra in 1..200_usize) {
        let steps: Vec<String> = (0..MAX_OUTLINE_STEPS + extra).map(|i| format!("s{i}")).collect();
        let reply = plan_json(&steps);
        prop_assert_eq!(
            PlanStructure::from_reply(&reply, "g"),
            Err(PlanError::TooManySteps(MAX_OUTLINE_STEPS + extra))
        );
    }

    #[test]
    fn a_field_of_the_wrong_type_is_named_in_the_error(
        key in prop_oneof![Just("Title"), Just("Overall_Summary"), Just("Detailed_Outline"), Just("Evaluation_Criteria"), Just("Success_Measures")],
        value in prop_oneof![Just(serde_json::json!(7)), Just(serde_json::json!(true)), Just(serde_json::json!({"a": [1]}))],
    ) {
        let mut plan: serde_json::Value = serde_json::from_str(&plan_json(&["A".to_owned()])).unwrap();
        if key == "Evaluation_Criteria" && value.is_object() {
            return Ok(());
        }
        plan[key] = value;
        let error = PlanStructure::from_value(&plan).unwrap_err().to_string();
        prop_assert!(error.contains(&format!("`{key}")), "{}", error);
    }
}

/// The files of `fuzz/corpus/<target>`.
fn corpus(target: &str) -> Vec<(String, Vec<u8>)> {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../fuzz/corpus")
        .join(target);
    let mut files: Vec<(String, Vec<u8>)> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .flatten()
        .map(|entry| {
            let bytes = std::fs::read(entry.path()).expect("a corpus file");
            (entry.file_name().to_string_lossy().into_owned(), bytes)
        })
        .collect();
    files.sort();
    assert!(!files.is_empty(), "{} is empty", dir.display());
    files
}

#[test]
fn the_fuzz_corpus_replays_cleanly() {
    use agento::carrier::{Carrier, CarrierRead};
    use agento::secrets::Scrubber;
    use agento::truncate::truncate;

    for (name, bytes) in corpus("carrier") {
        let loaded = matches!(Carrier::parse(&bytes), CarrierRead::Loaded { .. });
        assert_eq!(loaded, name == "valid.json", "{name}");
    }
    for (name, bytes) in corpus("plan") {
        let text = String::from_utf8_lossy(&bytes);
        let plan = PlanStructure::from_reply(&text, "goal");
        assert_eq!(plan.is_ok(), name == "fenced.txt", "{name}: {plan:?}");
    }
    let secret = "fuzz-secret-9f8e7d";
    let scrubber = Scrubber::with_secrets([secret]);
    for (name, bytes) in corpus("truncate_scrub") {
        let text = format!("{}{secret}", String::from_utf8_lossy(&bytes));
        let clean = scrubber.scrub(&truncate(&text).text).into_owned();
        assert!(!clean.contains(secret), "{name}");
        assert!(!clean.contains("sk-proj-"), "{name}: {clean}");
    }
}
