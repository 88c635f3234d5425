#!/usr/bin/env bash
# The longer fuzzing run (CI runs the short one inside scripts/test.sh).
#   scripts/fuzz.sh [SECONDS]   default 60 s per cargo-fuzz target
#   scripts/fuzz.sh check       only type-check the cargo-fuzz targets (stable is enough)
# cargo-fuzz needs a nightly toolchain; where there is none (this project's
# machines have only stable), the proptest properties run with many more cases.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ "${1:-}" = "check" ]; then
    (cd fuzz && cargo check --locked --bins)
    exit
fi
SECONDS_PER_TARGET="${1:-60}"
if cargo +nightly --version >/dev/null 2>&1 && cargo fuzz --version >/dev/null 2>&1; then
    for target in carrier plan truncate_scrub archive span_graph; do
        (cd fuzz && cargo +nightly fuzz run "$target" "corpus/$target" -- -max_total_time="$SECONDS_PER_TARGET")
    done
else
    echo "no nightly toolchain or cargo-fuzz: running the proptest properties with 20000 cases each" >&2
    PROPTEST_CASES=20000 cargo test --release -p agento-runtime --test properties
    PROPTEST_CASES=20000 cargo test --release -p agento-pipeline --test reliability_properties
    PROPTEST_CASES=20000 cargo test --release -p agento-pipeline --test trace_properties
fi
