#!/usr/bin/env bash
# All the performance figures in one run, printed as one table:
#   per-call cost on the calling thread (#[llm_span] vs hand-written SDK vs
#   tracing-opentelemetry vs none) in two set-ups: `default` (what #[agento_module]
#   builds: signal handling, the archive, OTLP to a discarding collector on
#   127.0.0.1) and `processor` (one processor added with with_span_processor),
#   per-chunk cost of a streaming #[llm_span] over the bare stream,
#   retry overhead, archive throughput, a 1,000,000-span burst with the collector down,
#   and the whole offline run (wall time and peak RSS from /usr/bin/time -v).
# Usage: scripts/bench.sh [--quick]   (--quick: shorter criterion runs, a 100,000-span burst)
set -euo pipefail
cd "$(dirname "$0")/.."
MEASURE=5; BURST=1000000; BURSTS=300
if [ "${1:-}" = "--quick" ]; then MEASURE=2; BURST=100000; BURSTS=100; fi
if ! command -v /usr/bin/time >/dev/null; then apt-get install -y -qq time >/dev/null; fi
LOG=$(mktemp -d)

cargo bench -q --bench llm_span -- --bursts "$BURSTS" >"$LOG/llm.txt" 2>&1
cargo bench -q --bench llm_stream -- --warm-up-time 1 --measurement-time "$MEASURE" >"$LOG/stream.txt" 2>&1
cargo bench -q -p agento-runtime --bench archive -- --warm-up-time 1 --measurement-time "$MEASURE" >"$LOG/archive.txt" 2>&1
cargo run -q --release -p agento-runtime --example burst -- "$BURST" >"$LOG/burst.txt" 2>"$LOG/burst.err"
cargo build -q --release -p agento-pipeline --bin agento
RUN=$(mktemp -d); cp project_goal.json "$RUN/"
( cd "$RUN" && OTEL_TRACES_EXPORTER=none /usr/bin/time -v "$OLDPWD/target/release/agento" run --offline --json >"$LOG/run.json" 2>"$LOG/run.err" )

python3 - "$LOG" <<'PY'
import json, re, sys, pathlib
log = pathlib.Path(sys.argv[1])
llm, archive, burst = (log / "llm.txt").read_text(), (log / "archive.txt").read_text(), (log / "burst.txt").read_text()
run, err = json.loads((log / "run.json").read_text()), (log / "run.err").read_text()
def grab(pattern, text, cast=float):
    m = re.search(pattern, text)
    return cast(m.group(1)) if m else None
rows = []
def row(name, target, value, ok):
    rows.append((name, target, value, "pass" if ok else "MISS"))
for setup, targeted in (("default", True), ("processor", False)):
    line = re.search(r"\[" + setup + r"\] per call[^\n]*", llm).group(0)
    mac, hand = grab(r"#\[llm_span\] (\d+) ns", line), grab(r"hand-written SDK (\d+) ns", line)
    trc, none = grab(r"tracing-opentelemetry (\d+) ns", line), grab(r"none (\d+) ns", line)
    retry = grab(r"\+#\[llm_span\] (\d+) ns", line)
    def target(text):
        return text if targeted else "-"
    row(f"[{setup}] #[llm_span] per call (9 KB reply)", target("<= 1 us"), f"{(mac - none) / 1000:.2f} us", not targeted or mac - none <= 1000)
    row(f"[{setup}] #[llm_span] / hand-written SDK", target("<= 1.05"), f"{mac / hand:.2f} ({hand / 1000:.2f} us)", not targeted or mac / hand <= 1.05)
    row(f"[{setup}] #[llm_span] / tracing-opentelemetry", target("<= 0.5"), f"{mac / trc:.2f} ({trc / 1000:.2f} us)", not targeted or mac / trc <= 0.5)
    row(f"[{setup}] #[retry_spans]+#[llm_span] / #[llm_span]", target("<= 1.3"), f"{retry / mac:.2f} ({retry / 1000:.2f} us)", not targeted or retry / mac <= 1.3)
chunk = grab(r"instrumented over bare ([\d.-]+) ns", (log / "stream.txt").read_text())
row("streaming #[llm_span] per chunk", "<= 50 ns", f"{chunk:.1f} ns" if chunk is not None else "see log", chunk is not None and chunk <= 50)
def thrpt(name):
    m = re.search(name + r"[\s\S]*?thrpt:\s*\[[\d.]+ \w+/s ([\d.]+) (\w)elem/s", archive)
    if not m:
        return None
    return float(m.group(1)) * {"K": 1e3, "M": 1e6, "G": 1e9}.get(m.group(2), 1)
sps = thrpt("encode_512_llm_spans")
e2e = thrpt("end_to_end_llm_span_to_disk")
bps = grab(r"(\d+) bytes per span", archive, int)
row("archive encode, one core", ">= 200k spans/s", f"{sps:,.0f} spans/s, {bps} B/span" if sps else "see log", bool(sps and sps >= 200000))
row("archive end to end (span to disk)", ">= 100k spans/s", f"{e2e:,.0f} spans/s" if e2e else "see log", bool(e2e and e2e >= 100000))
lost, rss = grab(r"on disk \d+, lost (\d+)\)", burst, int), grab(r"peak RSS ([\d.]+) MiB", burst)
dropped = grab(r"dropped-by-queue (\d+)", burst, int)
row("burst: archived spans lost", "0", f"{lost} (OTLP drops counted: {dropped})", lost == 0)
row("burst: peak RSS", "< 512 MB", f"{rss:.0f} MiB", rss < 512)
wall = grab(r"Elapsed \(wall clock\) time \(h:mm:ss or m:ss\): (?:\d+:)?([\d.]+)", err)
maxrss = grab(r"Maximum resident set size \(kbytes\): (\d+)", err) / 1024
row("agento run --offline: wall time", "< 1 s", f"{wall:.2f} s ({run['spans']} spans; stages ms {run['stage_ms']})", wall < 1)
row("agento run --offline: peak RSS", "< 64 MB", f"{maxrss:.1f} MiB", maxrss < 64)
w = [max(len(r[i]) for r in rows + [("figure", "target", "measured", "")]) for i in range(4)]
print(f"{'figure':<{w[0]}} | {'target':<{w[1]}} | {'measured':<{w[2]}} | ")
print("-" * (sum(w) + 9))
for r in rows:
    print(f"{r[0]:<{w[0]}} | {r[1]:<{w[1]}} | {r[2]:<{w[2]}} | {r[3]}")
PY
echo "(logs in $LOG)"
