//! Tree building on arbitrary parent graphs: byte `i` names span `i`'s
//! parent (0 = a root, a value past the end = a missing parent), so cycles,
//! self-parents and long chains come up at once. Every span is placed once,
//! and a span is reachable exactly when its parent chain ends at a top.
#![no_main]

use agento_runtime::archive::{SpanRecord, Tree};

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let spans: Vec<SpanRecord> = data
        .iter()
        .enumerate()
        .map(|(i, &parent)| SpanRecord {
            span_id: format!("{:016x}", i + 1),
            parent_span_id: if parent == 0 {
                String::new()
            } else {
                format!("{:016x}", parent)
            },
            start_ns: u64::from(parent),
            ..SpanRecord::default()
        })
        .collect();
    let tree = Tree::build(&spans);
    assert_eq!(tree.order().len(), spans.len());
    let reachable: Vec<bool> = {
        let mut out = vec![false; spans.len()];
        for placed in tree.reachable() {
            out[placed.index] = true;
        }
        out
    };
    for (i, &reached) in reachable.iter().enumerate() {
        // Follow the parent chain at most n steps: it ends at a top or loops.
        let mut at = i;
        let mut ends = false;
        for _ in 0..=spans.len() {
            match tree.parent(at) {
                Some(p) => at = p,
                None => {
                    ends = true;
                    break;
                }
            }
        }
        assert_eq!(reached, ends, "span {i}");
    }
    let on_cycles: usize = tree.cycles().iter().map(Vec::len).sum();
    assert!(on_cycles <= tree.unreachable().len());
});
