//! SIGTERM and SIGINT: end the open spans with `ERROR` naming the signal, flush
//! the archive and the exporter within the shutdown bound, exit 143 / 130.

use std::sync::Once;

use signal_hook::consts::{SIGINT, SIGTERM};
use signal_hook::iterator::Signals;

use crate::{registry, telemetry};

/// Installs the handler once per process (later calls do nothing). Returns an
/// error message when the handler cannot be installed.
pub(crate) fn install() -> Result<(), String> {
    static INSTALL: Once = Once::new();
    let mut result = Ok(());
    INSTALL.call_once(|| {
        result = Signals::new([SIGTERM, SIGINT])
            .map_err(|error| format!("cannot handle SIGTERM/SIGINT: {error}"))
            .and_then(|mut signals| {
                registry::enable();
                std::thread::Builder::new()
                    .name("agento-signals".into())
                    .spawn(move || {
                        if let Some(signal) = signals.forever().next() {
                            terminate(signal);
                        }
                    })
                    .map(|_| ())
                    .map_err(|error| format!("cannot start the signal thread: {error}"))
            });
    });
    result
}

fn terminate(signal: i32) -> ! {
    let name = if signal == SIGTERM {
        "SIGTERM"
    } else {
        "SIGINT"
    };
    registry::end_all("signal", &format!("interrupted by {name}"));
    telemetry::shutdown_active();
    std::process::exit(128 + signal);
}
