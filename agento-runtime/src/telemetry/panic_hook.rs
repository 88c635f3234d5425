//! The panic hook that remembers a panic's message for the span it unwinds.

use std::sync::Once;

use crate::span::remember_panic;

/// Installs the hook once per process, in front of the hook already set.
pub(super) fn install() {
    static HOOK: Once = Once::new();
    HOOK.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            let payload = info.payload();
            let message = payload
                .downcast_ref::<&str>()
                .map(|s| (*s).to_owned())
                .or_else(|| payload.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "a panic with a non-text payload".to_owned());
            let location = info
                .location()
                .map(|l| format!(" at {}:{}", l.file(), l.line()))
                .unwrap_or_default();
            remember_panic(format!("panicked: {message}{location}"));
            previous(info);
        }));
    });
}
