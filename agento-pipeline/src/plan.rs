//! The plan structure of stage 1: extracting it from a model's reply and
//! validating every field.
//!
//! Models wrap JSON in code fences and prose; [`extract_json`] finds the first
//! balanced JSON object (string-aware), and [`PlanStructure::from_reply`]
//! validates it with errors that name the field.
//!
//! ```
//! use agento_pipeline::plan::PlanStructure;
//! let reply = r#"Sure! ```json
//! {"Title": "Bakery", "Overall_Summary": "Open it", "Original_Goal": "x",
//!  "Detailed_Outline": [{"name": "Lease", "content": "Find a shop"}],
//!  "Evaluation_Criteria": {"Lease": "Signed"}, "Success_Measures": ["Open by June"]}
//! ```"#;
//! let plan = PlanStructure::from_reply(reply, "Open a bakery").unwrap();
//! assert_eq!(plan.original_goal, "Open a bakery");
//! ```

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// The most outline steps a plan may have; more is an error, not a silent cut.
pub const MAX_OUTLINE_STEPS: usize = 50;

/// One step of the outline.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OutlineStep {
    /// The step's name.
    pub name: String,
    /// What the step is (later: its drafted deliverable).
    pub content: String,
}

/// The plan structure (stage 1's output).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlanStructure {
    /// The plan's title.
    #[serde(rename = "Title")]
    pub title: String,
    /// A summary of the plan.
    #[serde(rename = "Overall_Summary")]
    pub overall_summary: String,
    /// The goal, exactly as the user gave it.
    #[serde(rename = "Original_Goal")]
    pub original_goal: String,
    /// The steps.
    #[serde(rename = "Detailed_Outline")]
    pub detailed_outline: Vec<OutlineStep>,
    /// Step name → how to judge the step.
    #[serde(rename = "Evaluation_Criteria")]
    pub evaluation_criteria: BTreeMap<String, String>,
    /// How to judge the whole plan.
    #[serde(rename = "Success_Measures")]
    pub success_measures: Vec<String>,
    /// The expected answer, when the goal file gave one (for evaluators).
    #[serde(
        rename = "Expected_Response",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub expected_response: Option<String>,
}

/// Why a plan was rejected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PlanError {
    /// No JSON object in the reply.
    #[error("the reply holds no JSON object")]
    NoJson,
    /// JSON that does not parse.
    #[error("the JSON in the reply does not parse: {0}")]
    Syntax(String),
    /// A field is missing or has the wrong type or value.
    #[error("field `{field}` {problem}")]
    Field {
        /// The field's path, e.g. `Detailed_Outline[2].name`.
        field: String,
        /// What is wrong with it.
        problem: String,
    },
    /// Too many outline steps.
    #[error("the outline has {0} steps; at most {MAX_OUTLINE_STEPS} are accepted")]
    TooManySteps(usize),
}

fn field(field: impl Into<String>, problem: impl Into<String>) -> PlanError {
    PlanError::Field {
        field: field.into(),
        problem: problem.into(),
    }
}

/// The first balanced JSON object in `text` (braces inside strings ignored).
///
/// ```
/// use agento_pipeline::plan::extract_json;
/// assert_eq!(extract_json("see {\"a\": \"}\"} and {\"b\": 1}"), Some("{\"a\": \"}\"}"));
/// assert_eq!(extract_json("no json { here"), None);
/// ```
pub fn extract_json(text: &str) -> Option<&str> {
    let mut from = 0;
    while let Some(offset) = text[from..].find('{') {
        let start = from + offset;
        let mut depth = 0usize;
        let mut in_string = false;
        let mut escaped = false;
        for (i, c) in text[start..].char_indices() {
            if in_string {
                match c {
                    _ if escaped => escaped = false,
                    '\\' => escaped = true,
                    '"' => in_string = false,
                    _ => {}
                }
                continue;
            }
            match c {
                '"' => in_string = true,
                '{' => depth += 1,
                '}' => {
                    depth -= 1;
                    if depth == 0 {
                        let candidate = &text[start..=start + i];
                        if serde_json::from_str::<Value>(candidate).is_ok() {
                            return Some(candidate);
                        }
                        break;
                    }
                }
                _ => {}
            }
        }
        from = start + 1;
    }
    None
}

fn text(value: &Value, key: &str, path: &str) -> Result<String, PlanError> {
    match value.get(key) {
        None | Some(Value::Null) => Err(field(path, "is missing")),
        Some(Value::String(s)) if s.trim().is_empty() => Err(field(path, "is empty")),
        Some(Value::String(s)) => Ok(s.clone()),
        Some(other) => Err(field(
            path,
            format!("must be a string, not {}", kind(other)),
        )),
    }
}

fn kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

impl PlanStructure {
    /// The JSON Schema of the plan a model is asked for (Gemini's
    /// `responseJsonSchema` in JSON mode). It names the same keys as the
    /// serde names of [`PlanStructure`] and [`OutlineStep`] — a unit test
    /// holds the two together.
    ///
    /// ```
    /// let schema = agento_pipeline::plan::PlanStructure::json_schema();
    /// assert_eq!(schema["required"][0], "Title");
    /// ```
    pub fn json_schema() -> &'static Value {
        static SCHEMA: std::sync::OnceLock<Value> = std::sync::OnceLock::new();
        SCHEMA.get_or_init(|| {
            let text = |description: &str| serde_json::json!({"type": "string", "description": description});
            serde_json::json!({
                "type": "object",
                "properties": {
                    "Title": text("a short title"),
                    "Overall_Summary": text("two or three sentences"),
                    "Original_Goal": text("the goal, verbatim"),
                    "Detailed_Outline": {
                        "type": "array",
                        "minItems": 1,
                        "maxItems": MAX_OUTLINE_STEPS,
                        "items": {
                            "type": "object",
                            "properties": {"name": text("a unique step name"), "content": text("what the step is")},
                            "required": ["name", "content"],
                        },
                    },
                    "Evaluation_Criteria": {
                        "type": "object",
                        "description": "each step name mapped to how to judge that step",
                        "additionalProperties": {"type": "string"},
                    },
                    "Success_Measures": {"type": "array", "items": {"type": "string"}},
                },
                "required": ["Title", "Overall_Summary", "Original_Goal", "Detailed_Outline", "Evaluation_Criteria", "Success_Measures"],
            })
        })
    }

    /// Extracts, validates and normalises the plan in a model's `reply`;
    /// `Original_Goal` is set to `goal` whatever the model wrote.
    pub fn from_reply(reply: &str, goal: &str) -> Result<Self, PlanError> {
        let json = extract_json(reply).ok_or_else(|| {
            if reply.contains('{') {
                PlanError::Syntax("no balanced, valid JSON object was found".to_owned())
            } else {
                PlanError::NoJson
            }
        })?;
        let value: Value =
            serde_json::from_str(json).map_err(|e| PlanError::Syntax(e.to_string()))?;
        let mut plan = Self::from_value(&value)?;
        goal.clone_into(&mut plan.original_goal);
        Ok(plan)
    }

    /// Validates a parsed plan (the stage outputs are read back this way too).
    pub fn from_value(value: &Value) -> Result<Self, PlanError> {
        if !value.is_object() {
            return Err(field(
                "(top level)",
                format!("must be an object, not {}", kind(value)),
            ));
        }
        let steps = outline(value)?;
        let evaluation_criteria = evaluation_criteria(value)?;
        let success_measures = success_measures(value)?;
        let expected_response = match value.get("Expected_Response") {
            None | Some(Value::Null) => None,
            Some(Value::String(s)) => Some(s.clone()),
            Some(other) => {
                return Err(field(
                    "Expected_Response",
                    format!("must be a string, not {}", kind(other)),
                ));
            }
        };
        Ok(Self {
            title: text(value, "Title", "Title")?,
            overall_summary: text(value, "Overall_Summary", "Overall_Summary")?,
            original_goal: text(value, "Original_Goal", "Original_Goal")?,
            detailed_outline: steps,
            evaluation_criteria,
            success_measures,
            expected_response,
        })
    }

    /// The evaluation criteria of step `name` (empty when the model gave none).
    pub fn criteria(&self, name: &str) -> &str {
        self.evaluation_criteria
            .get(name)
            .map_or("", String::as_str)
    }
}

/// `Detailed_Outline`: one to [`MAX_OUTLINE_STEPS`] steps with distinct names.
fn outline(value: &Value) -> Result<Vec<OutlineStep>, PlanError> {
    let outline = match value.get("Detailed_Outline") {
        None | Some(Value::Null) => return Err(field("Detailed_Outline", "is missing")),
        Some(Value::Array(steps)) => steps,
        Some(other) => {
            return Err(field(
                "Detailed_Outline",
                format!("must be an array of {{name, content}}, not {}", kind(other)),
            ));
        }
    };
    if outline.is_empty() {
        return Err(field("Detailed_Outline", "has no steps"));
    }
    if outline.len() > MAX_OUTLINE_STEPS {
        return Err(PlanError::TooManySteps(outline.len()));
    }
    let mut steps = Vec::with_capacity(outline.len());
    for (i, step) in outline.iter().enumerate() {
        let name = text(step, "name", &format!("Detailed_Outline[{i}].name"))?;
        if steps.iter().any(|s: &OutlineStep| s.name == name) {
            return Err(field(
                format!("Detailed_Outline[{i}].name"),
                format!("repeats the step name {name:?}"),
            ));
        }
        let content = text(step, "content", &format!("Detailed_Outline[{i}].content"))?;
        steps.push(OutlineStep { name, content });
    }
    Ok(steps)
}

/// `Evaluation_Criteria`: step name → criteria (a text, or a list of texts
/// joined with `; `).
fn evaluation_criteria(value: &Value) -> Result<BTreeMap<String, String>, PlanError> {
    let criteria = match value.get("Evaluation_Criteria") {
        None | Some(Value::Null) => return Err(field("Evaluation_Criteria", "is missing")),
        Some(Value::Object(map)) => map,
        Some(other) => {
            return Err(field(
                "Evaluation_Criteria",
                format!(
                    "must be an object (step name → criteria), not {}",
                    kind(other)
                ),
            ));
        }
    };
    let mut evaluation_criteria = BTreeMap::new();
    for (name, criterion) in criteria {
        let criterion = match criterion {
            Value::String(s) => s.clone(),
            Value::Array(items) if items.iter().all(Value::is_string) => items
                .iter()
                .filter_map(Value::as_str)
                .collect::<Vec<_>>()
                .join("; "),
            other => {
                return Err(field(
                    format!("Evaluation_Criteria.{name}"),
                    format!("must be a string, not {}", kind(other)),
                ));
            }
        };
        evaluation_criteria.insert(name.clone(), criterion);
    }
    Ok(evaluation_criteria)
}

/// `Success_Measures`: a list of texts (or one text).
fn success_measures(value: &Value) -> Result<Vec<String>, PlanError> {
    match value.get("Success_Measures") {
        None | Some(Value::Null) => Err(field("Success_Measures", "is missing")),
        Some(Value::Array(items)) => items
            .iter()
            .enumerate()
            .map(|(i, item)| match item {
                Value::String(s) => Ok(s.clone()),
                other => Err(field(
                    format!("Success_Measures[{i}]"),
                    format!("must be a string, not {}", kind(other)),
                )),
            })
            .collect(),
        Some(Value::String(s)) => Ok(vec![s.clone()]),
        Some(other) => Err(field(
            "Success_Measures",
            format!("must be an array of strings, not {}", kind(other)),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn valid() -> Value {
        serde_json::json!({
            "Title": "T", "Overall_Summary": "S", "Original_Goal": "G",
            "Detailed_Outline": [{"name": "A", "content": "a"}, {"name": "B", "content": "b"}],
            "Evaluation_Criteria": {"A": "ok", "B": ["x", "y"]},
            "Success_Measures": ["done"]
        })
    }

    #[test]
    fn the_json_schema_names_exactly_the_serde_fields() {
        let plan = PlanStructure::from_reply(&valid().to_string(), "G").unwrap();
        let value = serde_json::to_value(&plan).unwrap();
        let schema = PlanStructure::json_schema();
        let keys = |v: &Value| {
            let mut keys: Vec<String> = v.as_object().unwrap().keys().cloned().collect();
            keys.sort();
            keys
        };
        assert_eq!(keys(&value), keys(&schema["properties"]));
        let mut required: Vec<String> = schema["required"]
            .as_array()
            .unwrap()
            .iter()
            .map(|k| k.as_str().unwrap().to_owned())
            .collect();
        required.sort();
        assert_eq!(required, keys(&value), "every field is required");
        assert_eq!(
            keys(&value["Detailed_Outline"][0]),
            keys(&schema["properties"]["Detailed_Outline"]["items"]["properties"])
        );
    }

    #[test]
    fn prose_and_fences_around_the_json_are_ignored() {
        let reply = format!("Here you go:\n```json\n{}\n```\nAnything else?", valid());
        let plan = PlanStructure::from_reply(&reply, "Open a bakery").unwrap();
        assert_eq!(plan.original_goal, "Open a bakery");
        assert_eq!(plan.detailed_outline.len(), 2);
        assert_eq!(plan.criteria("B"), "x; y");
    }

    #[test]
    fn each_broken_field_is_named() {
        let cases: [(&str, Value, &str); 6] = [
            ("Title", Value::Null, "field `Title` is missing"),
            (
                "Title",
                Value::from(3),
                "field `Title` must be a string, not a number",
            ),
            (
                "Detailed_Outline",
                Value::from("x"),
                "field `Detailed_Outline` must be an array",
            ),
            (
                "Detailed_Outline",
                serde_json::json!([{"name": "A"}]),
                "field `Detailed_Outline[0].content` is missing",
            ),
            (
                "Evaluation_Criteria",
                serde_json::json!([]),
                "field `Evaluation_Criteria` must be an object",
            ),
            (
                "Success_Measures",
                serde_json::json!([1]),
                "field `Success_Measures[0]` must be a string",
            ),
        ];
        for (key, value, expected) in cases {
            let mut plan = valid();
            plan[key] = value;
            let error = PlanStructure::from_value(&plan).unwrap_err().to_string();
            assert!(error.starts_with(expected), "{key}: {error}");
        }
    }

    #[test]
    fn unbalanced_braces_and_no_json_are_errors() {
        assert_eq!(
            PlanStructure::from_reply("no plan today", "g"),
            Err(PlanError::NoJson)
        );
        assert!(matches!(
            PlanStructure::from_reply("{\"Title\": \"x\"", "g"),
            Err(PlanError::Syntax(_))
        ));
    }

    #[test]
    fn too_many_steps_is_a_clear_error() {
        let mut plan = valid();
        plan["Detailed_Outline"] = (0..=MAX_OUTLINE_STEPS)
            .map(|i| serde_json::json!({"name": format!("s{i}"), "content": "c"}))
            .collect();
        assert_eq!(
            PlanStructure::from_value(&plan),
            Err(PlanError::TooManySteps(MAX_OUTLINE_STEPS + 1))
        );
    }
}
