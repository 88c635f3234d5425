//! Writing the tools' output: a closed pipe (`| head -1`) ends the command
//! quietly with the exit code it would have had; any other write error (a
//! full disk, `> /dev/full`) is one clear message and exit code 2.

use std::io::Write;
use std::process::ExitCode;

/// Prints `message` as `error: …` on stderr (never panics) and gives exit code 2.
pub fn fail(message: &str) -> ExitCode {
    warn(&format!("error: {}", message.trim_end()));
    ExitCode::from(2)
}

/// One line on stderr; a closed or full stderr is ignored.
pub fn warn(line: &str) {
    let _ = writeln!(std::io::stderr().lock(), "{line}");
}

/// Writes `text` to stdout and gives `code`, or what a write error calls for.
pub fn print(text: &str, code: ExitCode) -> ExitCode {
    let mut stdout = std::io::stdout().lock();
    match stdout
        .write_all(text.as_bytes())
        .and_then(|()| stdout.flush())
    {
        Ok(()) => code,
        Err(error) => written(&error, code),
    }
}

/// The exit code after the write error `error`: `code` for a closed pipe
/// (the reader has all it wanted), otherwise 2 with a message.
pub fn written(error: &std::io::Error, code: ExitCode) -> ExitCode {
    if error.kind() == std::io::ErrorKind::BrokenPipe {
        code
    } else {
        fail(&format!("cannot write to stdout: {error}"))
    }
}
