//! The runtime's own messages on stderr (warnings, the exit line, errors).
//! `eprintln!` panics when stderr is gone — the terminal closed (SIGHUP),
//! `2>&1 | head` — and a message is never worth a panic on the exit path.

use std::io::Write;

/// Writes `text` and a newline to stderr, ignoring a failed write.
pub(crate) fn line(text: &str) {
    let mut stderr = std::io::stderr().lock();
    let _ = stderr
        .write_all(text.as_bytes())
        .and_then(|()| stderr.write_all(b"\n"));
}

/// Writes `message` as a warning (`agento: warning: …`), scrubbed of secrets.
pub(crate) fn warn(message: &str) {
    line(&format!(
        "agento: warning: {}",
        crate::secrets::scrub(message)
    ));
}
