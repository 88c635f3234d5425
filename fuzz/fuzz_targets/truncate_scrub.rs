//! Truncation then scrubbing on arbitrary text: the cut is a character prefix
//! plus the marker, and a known secret never survives.
#![no_main]

use agento_runtime::secrets::Scrubber;
use agento_runtime::truncate::{KEEP_CHARS, MARKER, truncate};

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let cut = truncate(text);
    assert_eq!(cut.original_chars, text.chars().count());
    if cut.truncated {
        assert!(cut.text.ends_with(MARKER));
        assert_eq!(cut.text.chars().count(), KEEP_CHARS + MARKER.chars().count());
    }
    let secret = "fuzz-secret-9f8e7d";
    let scrubber = Scrubber::with_secrets([secret]);
    assert!(!scrubber.scrub(&format!("{text}{secret}")).contains(secret));
});
