//! The goal file: `{"goal": "...", "expected_response": "..."}` (the second
//! key optional).

use std::path::Path;

use crate::files::{FileError, read_json};

/// The longest goal accepted, in characters.
pub const MAX_GOAL_CHARS: usize = 20_000;

/// What the user asks the pipeline for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Goal {
    /// The goal.
    pub goal: String,
    /// The answer an evaluator expects, if the file gives one.
    pub expected_response: Option<String>,
}

/// A goal file that cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum GoalError {
    /// Not readable or not JSON.
    #[error(transparent)]
    File(#[from] FileError),
    /// JSON of the wrong shape.
    #[error("{path}: {reason}")]
    Shape {
        /// The file.
        path: String,
        /// What is wrong.
        reason: String,
    },
}

impl Goal {
    /// Reads and checks the goal file at `path`.
    pub fn read(path: &Path) -> Result<Self, GoalError> {
        let value = read_json(
            path,
            "the goal file",
            "say which file holds the goal with --goal FILE; the default is project_goal.json",
        )?;
        Self::from_value(&value).map_err(|reason| GoalError::Shape {
            path: path.display().to_string(),
            reason,
        })
    }

    /// Checks a parsed goal file.
    pub fn from_value(value: &serde_json::Value) -> Result<Self, String> {
        let object = value
            .as_object()
            .ok_or("the goal file must hold a JSON object like {\"goal\": \"...\"}")?;
        let goal = match object.get("goal") {
            None => return Err("the goal file has no \"goal\" key".to_owned()),
            Some(serde_json::Value::String(goal)) => goal.trim().to_owned(),
            Some(_) => return Err("\"goal\" must be a string".to_owned()),
        };
        if goal.is_empty() {
            return Err("\"goal\" is empty: say what the plan is for".to_owned());
        }
        if goal.chars().count() > MAX_GOAL_CHARS {
            return Err(format!(
                "\"goal\" is longer than {MAX_GOAL_CHARS} characters"
            ));
        }
        if goal
            .chars()
            .any(|c| c.is_control() && !matches!(c, '\n' | '\t' | '\r'))
        {
            return Err("\"goal\" holds control characters".to_owned());
        }
        let expected_response = match object.get("expected_response") {
            None | Some(serde_json::Value::Null) => None,
            Some(serde_json::Value::String(text)) => Some(text.clone()),
            Some(_) => return Err("\"expected_response\" must be a string".to_owned()),
        };
        Ok(Self {
            goal,
            expected_response,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_goal_is_a_non_blank_string() {
        let goal = Goal::from_value(&serde_json::json!({"goal": "Open a bakery"})).unwrap();
        assert_eq!(goal.goal, "Open a bakery");
        assert!(Goal::from_value(&serde_json::json!({"goal": "  "})).is_err());
    }
}
