//! Run ids and archive file names.

use std::fmt;
use std::fs::OpenOptions;
use std::io;
use std::path::{Path, PathBuf};

use chrono::{DateTime, TimeDelta, Utc};

const FORMAT: &str = "%Y%m%dT%H%M%S%6f";

/// The id of one pipeline run.
///
/// A run id is the UTC time the run started, to the microsecond
/// (`YYYYmmddTHHMMSSffffff`); the archive of the run is
/// `agento_run_<run id>.otlp.json`. The first stage claims a name no other run
/// holds, so two runs started in the same microsecond still get two files.
///
/// ```
/// let id = agento_runtime::RunId::parse("20261122T093512123456").unwrap();
/// assert_eq!(id.archive_file_name(), "agento_run_20261122T093512123456.otlp.json");
/// assert!(agento_runtime::RunId::parse("../../etc/passwd").is_none());
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct RunId(String);

impl RunId {
    /// The id for a run starting at `time`.
    pub fn at(time: DateTime<Utc>) -> Self {
        Self(time.format(FORMAT).to_string())
    }

    /// Parses an id; only the exact `YYYYmmddTHHMMSSffffff` shape is accepted,
    /// so an id can never name a path outside the data directory.
    pub fn parse(text: &str) -> Option<Self> {
        let bytes = text.as_bytes();
        let shaped = bytes.len() == 21
            && bytes[8] == b'T'
            && bytes
                .iter()
                .enumerate()
                .all(|(i, b)| i == 8 || b.is_ascii_digit());
        (shaped && chrono::NaiveDateTime::parse_from_str(text, FORMAT).is_ok())
            .then(|| Self(text.to_owned()))
    }

    /// The id as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// `agento_run_<id>.otlp.json`.
    pub fn archive_file_name(&self) -> String {
        format!("agento_run_{}.otlp.json", self.0)
    }

    /// Claims a new run in `data_dir`: creates the directory when needed and an
    /// empty archive file with a name no other run holds (moving a microsecond
    /// on while the name is taken). Returns the id and the archive path.
    pub(crate) fn claim(data_dir: &Path) -> io::Result<(Self, PathBuf)> {
        std::fs::create_dir_all(data_dir)?;
        let mut time = Utc::now();
        loop {
            let id = Self::at(time);
            let path = data_dir.join(id.archive_file_name());
            match OpenOptions::new().write(true).create_new(true).open(&path) {
                Ok(_) => return Ok((id, path)),
                Err(error) if error.kind() == io::ErrorKind::AlreadyExists => {
                    time += TimeDelta::microseconds(1);
                }
                Err(error) => return Err(error),
            }
        }
    }
}

impl fmt::Display for RunId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn format_is_utc_with_microseconds() {
        let time = DateTime::parse_from_rfc3339("2026-11-22T09:35:12.000042Z")
            .unwrap()
            .with_timezone(&Utc);
        assert_eq!(RunId::at(time).as_str(), "20261122T093512000042");
    }

    #[test]
    fn parse_rejects_other_shapes() {
        for bad in [
            "",
            "20261122T0935120000",
            "20261122X093512000042",
            "20261342T093512000042",
            "2026112T0935120000421",
            "../agento_run_x",
        ] {
            assert!(RunId::parse(bad).is_none(), "{bad}");
        }
    }

    #[test]
    fn claims_are_unique() {
        let dir = std::env::temp_dir().join(format!("agento-claim-{}", uuid::Uuid::new_v4()));
        let names: std::collections::HashSet<_> =
            (0..50).map(|_| RunId::claim(&dir).unwrap().1).collect();
        assert_eq!(names.len(), 50);
        std::fs::remove_dir_all(dir).unwrap();
    }
}
