//! The archive reader and the trace tools on arbitrary bytes: parsing, tree
//! building, `show`, `report` and `validate` never panic, always end, and
//! place every span exactly once (cycles, deep chains and keyless attributes
//! are in the corpus).
#![no_main]

use agento_pipeline::trace::{report, show, validate};

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let archive = agento_runtime::archive::parse(data);
    for trace in &archive.traces {
        let tree = trace.tree();
        let mut seen = vec![false; trace.spans.len()];
        for placed in tree.order() {
            assert!(!seen[placed.index], "a span placed twice");
            seen[placed.index] = true;
        }
        assert!(seen.iter().all(|&s| s), "a span left out");
        let style = show::Style {
            colour: false,
            attrs: true,
        };
        let _ = show::render(trace, style);
        let _ = show::summary(trace);
        let _ = report::render(trace);
        let _ = validate::validate(&archive, trace);
    }
});
