//! Stage inputs and outputs: bounded reads with clear errors, atomic writes.

use std::io::{Read, Write};
use std::path::{Path, PathBuf};

use agento::secrets::scrub;
use serde::Serialize;

/// Input files larger than this are refused (a goal or plan is kilobytes).
pub const MAX_INPUT_BYTES: u64 = 4 * 1024 * 1024;

/// A file that could not be read or written.
#[derive(Debug, thiserror::Error)]
#[error("{path}: {reason}")]
pub struct FileError {
    /// The file.
    pub path: PathBuf,
    /// What went wrong.
    pub reason: String,
}

impl FileError {
    fn new(path: &Path, reason: impl Into<String>) -> Self {
        Self {
            path: path.to_owned(),
            reason: reason.into(),
        }
    }
}

/// Reads `path` as UTF-8 JSON text (a leading byte-order mark is skipped),
/// refusing files over [`MAX_INPUT_BYTES`]. `what` names the file in errors;
/// `if_missing` is the advice given when it does not exist.
pub fn read_json(
    path: &Path,
    what: &str,
    if_missing: &str,
) -> Result<serde_json::Value, FileError> {
    let file = std::fs::File::open(path).map_err(|error| {
        if error.kind() == std::io::ErrorKind::NotFound {
            FileError::new(path, format!("{what} not found ({if_missing})"))
        } else {
            FileError::new(path, format!("cannot read {what}: {error}"))
        }
    })?;
    let mut bytes = Vec::new();
    file.take(MAX_INPUT_BYTES + 1)
        .read_to_end(&mut bytes)
        .map_err(|error| FileError::new(path, format!("cannot read {what}: {error}")))?;
    if bytes.len() as u64 > MAX_INPUT_BYTES {
        return Err(FileError::new(
            path,
            format!(
                "{what} is larger than {} MiB",
                MAX_INPUT_BYTES / 1024 / 1024
            ),
        ));
    }
    let text = std::str::from_utf8(&bytes)
        .map_err(|error| FileError::new(path, format!("{what} is not UTF-8 text ({error})")))?;
    serde_json::from_str(text.strip_prefix('\u{feff}').unwrap_or(text))
        .map_err(|error| FileError::new(path, format!("{what} is not valid JSON: {error}")))
}

/// `value` with every registered secret and token shape scrubbed from its
/// strings and object keys ([`agento::secrets::scrub`]), so that stage
/// outputs never hold what the archive would not.
pub fn scrubbed_json(value: serde_json::Value) -> serde_json::Value {
    use serde_json::Value;
    match value {
        Value::String(text) => Value::String(scrub(&text).into_owned()),
        Value::Array(items) => Value::Array(items.into_iter().map(scrubbed_json).collect()),
        Value::Object(map) => Value::Object(
            map.into_iter()
                .map(|(key, value)| (scrub(&key).into_owned(), scrubbed_json(value)))
                .collect(),
        ),
        other => other,
    }
}

/// Writes `value` as pretty JSON to `path` atomically: a temporary file in the
/// same directory, synced, then renamed over `path`. A crash leaves the old
/// file or the new one, never a partial one.
pub fn write_json_atomic<T: Serialize + ?Sized>(path: &Path, value: &T) -> Result<(), FileError> {
    let dir = path
        .parent()
        .filter(|dir| !dir.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir)
        .map_err(|error| FileError::new(path, format!("cannot create its directory: {error}")))?;
    let mut json = serde_json::to_vec_pretty(value)
        .map_err(|error| FileError::new(path, format!("cannot encode: {error}")))?;
    json.push(b'\n');
    let mut temporary = tempfile::NamedTempFile::new_in(dir).map_err(|error| {
        FileError::new(path, format!("cannot create a temporary file: {error}"))
    })?;
    temporary
        .write_all(&json)
        .and_then(|()| temporary.as_file().sync_all())
        .map_err(|error| FileError::new(path, format!("cannot write: {error}")))?;
    temporary
        .persist(path)
        .map_err(|error| FileError::new(path, format!("cannot replace: {}", error.error)))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scrubbed_json_keeps_plain_values() {
        let value = scrubbed_json(serde_json::json!({"a": ["plain"]}));
        assert_eq!(value, serde_json::json!({"a": ["plain"]}));
    }

    #[test]
    fn atomic_write_replaces_and_reads_back() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("out.json");
        write_json_atomic(&path, &serde_json::json!({"a": 1})).unwrap();
        write_json_atomic(&path, &serde_json::json!({"a": 2})).unwrap();
        assert_eq!(read_json(&path, "the output", "").unwrap()["a"], 2);
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
    }

    #[test]
    fn bad_inputs_say_what_is_wrong() {
        let dir = tempfile::tempdir().unwrap();
        let missing =
            read_json(&dir.path().join("nope.json"), "the plan", "run stage 1").unwrap_err();
        assert!(
            missing
                .to_string()
                .contains("nope.json: the plan not found (run stage 1)")
        );
        let binary = dir.path().join("bin.json");
        std::fs::write(&binary, [0xff, 0xfe, 0x00]).unwrap();
        assert!(
            read_json(&binary, "the goal file", "")
                .unwrap_err()
                .reason
                .contains("not UTF-8")
        );
        let prose = dir.path().join("prose.json");
        std::fs::write(&prose, "open a bakery").unwrap();
        assert!(
            read_json(&prose, "the goal file", "")
                .unwrap_err()
                .reason
                .contains("not valid JSON")
        );
        let bom = dir.path().join("bom.json");
        std::fs::write(&bom, "\u{feff}{\"goal\": \"x\"}").unwrap();
        assert_eq!(read_json(&bom, "the goal file", "").unwrap()["goal"], "x");
    }

    #[test]
    fn registered_secrets_are_scrubbed_from_values_and_keys() {
        agento::secrets::register_secret("files-test-secret-0f9e8d7c6b");
        let value = scrubbed_json(serde_json::json!({
            "goal": "use files-test-secret-0f9e8d7c6b here",
            "files-test-secret-0f9e8d7c6b": [1, "files-test-secret-0f9e8d7c6b"],
        }));
        let text = value.to_string();
        assert!(!text.contains("files-test-secret-0f9e8d7c6b"), "{text}");
        assert_eq!(value["goal"], "use [REDACTED] here");
    }
}
