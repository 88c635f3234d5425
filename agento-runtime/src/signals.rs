//! SIGTERM, SIGINT, SIGHUP (the terminal closed) and SIGQUIT: end the open
//! spans with `ERROR` naming the signal, flush the archive and the exporter
//! within the shutdown bound, exit 128 + the signal number (143, 130, 129,
//! 131). A second such signal while the exit flush runs cuts it short: the
//! process exits at once with the same code.
//!
//! What "flush" means is the caller's: [`install`] takes it as a function, so
//! this module knows nothing of the telemetry that installs it.

use std::sync::Once;

use signal_hook::consts::{SIGHUP, SIGINT, SIGQUIT, SIGTERM};
use signal_hook::iterator::Signals;

use crate::registry;

/// The signals handled, with their names.
const HANDLED: [(i32, &str); 4] = [
    (SIGTERM, "SIGTERM"),
    (SIGINT, "SIGINT"),
    (SIGHUP, "SIGHUP"),
    (SIGQUIT, "SIGQUIT"),
];

/// Installs the handler once per process (later calls do nothing): on a
/// signal, the open spans end, then `flush` runs, then the process exits.
/// Returns an error message when the handler cannot be installed.
pub(crate) fn install(flush: fn()) -> Result<(), String> {
    static INSTALL: Once = Once::new();
    let mut result = Ok(());
    INSTALL.call_once(|| {
        result = Signals::new(HANDLED.map(|(signal, _)| signal))
            .map_err(|error| format!("cannot handle SIGTERM/SIGINT/SIGHUP/SIGQUIT: {error}"))
            .and_then(|mut signals| {
                registry::enable();
                std::thread::Builder::new()
                    .name("agento-signals".into())
                    .spawn(move || {
                        let mut received = signals.forever();
                        let Some(first) = received.next() else {
                            return;
                        };
                        let flushing = std::thread::Builder::new()
                            .name("agento-exit".into())
                            .spawn(move || terminate(first, flush));
                        if flushing.is_err() {
                            terminate(first, flush);
                        }
                        if let Some(second) = received.next() {
                            crate::stderr::line(&format!(
                                "agento: {} during the exit flush: exiting without waiting for it",
                                name(second)
                            ));
                            std::process::exit(128 + first);
                        }
                    })
                    .map(|_| ())
                    .map_err(|error| format!("cannot start the signal thread: {error}"))
            });
    });
    result
}

fn name(signal: i32) -> &'static str {
    HANDLED
        .iter()
        .find(|(number, _)| *number == signal)
        .map_or("a signal", |(_, name)| name)
}

fn terminate(signal: i32, flush: fn()) -> ! {
    registry::end_all("signal", &format!("interrupted by {}", name(signal)));
    flush();
    std::process::exit(128 + signal);
}
