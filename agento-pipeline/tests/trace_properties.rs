//! Properties (proptest) of the archive reader and the trace tools on random
//! parent graphs — cycles, self-parents, missing parents, chains — and on
//! damaged files: reading, tree building, `show`, `report` and `validate`
//! never panic, always end, place every span once, and name exactly the
//! cycles and unreachable spans a naive reference finds. 256 cases each in
//! `scripts/test.sh`; `scripts/fuzz.sh` runs many more (and the cargo-fuzz
//! targets `fuzz/fuzz_targets/archive.rs` and `span_graph.rs` where nightly
//! exists). The fuzz corpus is replayed here too.

use std::collections::BTreeSet;

use agento_pipeline::trace::validate::{Contract, validate_with};
use agento_pipeline::trace::{Archive, Trace, parse, report, show};
use proptest::prelude::*;

fn config() -> ProptestConfig {
    ProptestConfig {
        cases: std::env::var("PROPTEST_CASES")
            .ok()
            .and_then(|n| n.parse().ok())
            .unwrap_or(256),
        ..ProptestConfig::default()
    }
}

const TRACE_ID: &str = "0af7651916cd43dd8448eb211c80319c";

fn id(n: usize) -> String {
    format!("{:016x}", n + 1)
}

/// Span `i`'s parent: `None` a root, `Some(j)` span `j` (missing when `j >= n`).
fn graph() -> impl Strategy<Value = Vec<Option<usize>>> {
    (1_usize..40).prop_flat_map(|n| {
        proptest::collection::vec(
            prop_oneof![1 => Just(None), 6 => (0..n + 3).prop_map(Some)],
            n,
        )
    })
}

/// The graph as an archive: spans spread over lines of 5, keys sometimes empty.
fn archive_text(parents: &[Option<usize>], keyless: bool) -> String {
    let spans: Vec<serde_json::Value> = parents
        .iter()
        .enumerate()
        .map(|(i, parent)| {
            let mut span = serde_json::json!({
                "traceId": TRACE_ID, "spanId": id(i), "name": format!("span_{i}"),
                "kind": 1 + (i % 3), "startTimeUnixNano": ((i * 7919) % 101).to_string(),
                "endTimeUnixNano": "100",
                "attributes": [{"key": "n", "value": {"intValue": i.to_string()}}],
            });
            if let Some(parent) = parent {
                span["parentSpanId"] = id(*parent).into();
            }
            if keyless && i % 2 == 0 {
                span["attributes"]
                    .as_array_mut()
                    .unwrap()
                    .push(serde_json::json!({"value": {"stringValue": "x"}}));
            }
            span
        })
        .collect();
    spans
        .chunks(5)
        .map(|chunk| {
            serde_json::json!({"resourceSpans": [{"scopeSpans": [{"spans": chunk}]}]}).to_string()
                + "\n"
        })
        .collect()
}

/// The naive reference: follow each parent chain at most n steps.
struct Reference {
    /// Spans whose chain ends at a span without parent id (the roots reach them).
    from_roots: BTreeSet<usize>,
    /// Spans on a cycle.
    on_cycles: BTreeSet<usize>,
}

fn reference(parents: &[Option<usize>]) -> Reference {
    let n = parents.len();
    let step = |i: usize| parents[i].filter(|&p| p < n);
    let mut from_roots = BTreeSet::new();
    let mut on_cycles = BTreeSet::new();
    for i in 0..n {
        let mut at = i;
        let mut ended_at_root = None;
        for _ in 0..=n {
            match step(at) {
                Some(p) => at = p,
                None => {
                    ended_at_root = Some(parents[at].is_none());
                    break;
                }
            }
        }
        if ended_at_root == Some(true) {
            from_roots.insert(i);
        }
        let mut at = i;
        for _ in 0..n {
            match step(at) {
                Some(p) => at = p,
                None => break,
            }
            if at == i {
                on_cycles.insert(i);
                break;
            }
        }
    }
    Reference {
        from_roots,
        on_cycles,
    }
}

/// Everything the tools do with a trace, checked to be total.
fn run_tools(archive: &Archive, trace: &Trace) -> (String, Vec<String>) {
    let shown = show::render(
        trace,
        show::Style {
            colour: false,
            attrs: true,
        },
    );
    let _ = show::summary(trace);
    let page = report::render(trace);
    assert!(page.ends_with("</html>\n"));
    let violations = validate_with(archive, trace, Contract::Agento)
        .iter()
        .map(ToString::to_string)
        .collect();
    (shown, violations)
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn random_parent_graphs_are_read_walked_and_judged_right(
        parents in graph(),
        keyless in any::<bool>(),
    ) {
        let archive = parse(archive_text(&parents, keyless).as_bytes());
        prop_assert!(archive.bad_lines.is_empty(), "{:?}", archive.bad_lines);
        prop_assert_eq!(archive.traces.len(), 1);
        let trace = &archive.traces[0];
        prop_assert_eq!(trace.spans.len(), parents.len());
        let index = |name: &str| name.trim_start_matches("span_").parse::<usize>().unwrap();

        let tree = trace.tree();
        let placed: Vec<usize> = tree.order().iter().map(|p| index(&trace.spans[p.index].name)).collect();
        let unique: BTreeSet<usize> = placed.iter().copied().collect();
        prop_assert_eq!(placed.len(), parents.len());
        prop_assert_eq!(unique.len(), parents.len());

        let expected = reference(&parents);
        let cycle_members: BTreeSet<usize> = tree
            .cycles()
            .iter()
            .flatten()
            .map(|&i| index(&trace.spans[i].name))
            .collect();
        prop_assert_eq!(&cycle_members, &expected.on_cycles);

        let (shown, violations) = run_tools(&archive, trace);
        let drawn = shown.lines().filter(|l| l.contains("span_") && l.contains(" ms ")).count();
        prop_assert_eq!(drawn, parents.len(), "{}", shown);
        let cycles_named = violations.iter().filter(|v| v.contains("parent ids form a cycle")).count();
        prop_assert_eq!(cycles_named, tree.cycles().len());

        let roots: Vec<usize> = (0..parents.len()).filter(|&i| parents[i].is_none()).collect();
        let unreachable: BTreeSet<usize> = violations
            .iter()
            .filter(|v| v.ends_with("not reachable from the root"))
            .map(|v| index(v.split(' ').next().unwrap()))
            .collect();
        if roots.len() == 1 {
            let not_from_root: BTreeSet<usize> =
                (0..parents.len()).filter(|i| !expected.from_roots.contains(i)).collect();
            prop_assert_eq!(unreachable, not_from_root);
        }
        let keyless_named = violations.iter().filter(|v| v.contains("an attribute without a key")).count();
        prop_assert_eq!(keyless_named, if keyless { parents.len().div_ceil(2) } else { 0 });
    }

    #[test]
    fn damaged_archives_are_read_line_by_line_without_panics(
        parents in graph(),
        cut in any::<prop::sample::Index>(),
        garbage in proptest::collection::vec(any::<u8>(), 0..64),
    ) {
        let text = archive_text(&parents, true);
        let whole_lines = text.lines().count();
        let at = cut.index(text.len());
        let mut damaged = text.as_bytes()[..at].to_vec();
        damaged.push(b'\n');
        damaged.extend(garbage.iter().map(|&b| if b == b'\n' { b' ' } else { b }));
        damaged.push(b'\n');
        damaged.extend_from_slice(&text.as_bytes()[at..]);
        let archive = parse(&damaged);
        let read: usize = archive.traces.iter().map(|t| t.spans.len()).sum();
        // At most the two lines the cut and the garbage touched are lost.
        prop_assert!(read + 10 >= parents.len(), "{} of {}", read, parents.len());
        prop_assert!(archive.bad_lines.iter().all(|(n, _)| *n <= whole_lines + 2));
        for trace in &archive.traces {
            run_tools(&archive, trace);
        }
    }

    #[test]
    fn arbitrary_bytes_never_panic_the_reader(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
        let archive = parse(&bytes);
        for trace in &archive.traces {
            run_tools(&archive, trace);
        }
    }
}

#[test]
fn the_fuzz_corpus_is_read_and_judged() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../fuzz/corpus/archive");
    let mut seen = 0;
    for entry in std::fs::read_dir(&dir).expect("the committed corpus") {
        let path = entry.unwrap().path();
        let archive = parse(&std::fs::read(&path).unwrap());
        for trace in &archive.traces {
            run_tools(&archive, trace);
        }
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        let trace = &archive.traces[0];
        let violations: Vec<String> = validate_with(&archive, trace, Contract::General)
            .iter()
            .map(ToString::to_string)
            .collect();
        match name.as_str() {
            "cycle.json" => assert!(
                violations.contains(&format!(
                    "-: parent ids form a cycle: {} → {} → {}",
                    id(1),
                    id(2),
                    id(1)
                )),
                "{violations:?}"
            ),
            "deep_chain.json" => {
                assert!(violations.is_empty(), "{violations:?}");
                assert_eq!(trace.tree().order().last().unwrap().depth, 299);
            }
            "keyless.json" => {
                assert_eq!(trace.spans[0].attributes[0].0, "");
                assert_eq!(
                    trace.spans[0].module.as_deref(),
                    Some("2_Revise-Plan-Stable")
                );
            }
            "malformed_line.json" => {
                assert_eq!(archive.bad_lines.len(), 1);
                assert_eq!(archive.bad_lines[0].0, 2);
                assert_eq!(trace.spans.len(), 2);
            }
            _ => {}
        }
        seen += 1;
    }
    assert!(seen >= 7, "{seen} corpus files");
}
