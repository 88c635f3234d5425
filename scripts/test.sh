#!/usr/bin/env bash
# The whole test suite: `scripts/test.sh` (what .ci/run calls after the lint gates).
set -euo pipefail
cd "$(dirname "$0")/.."
cargo test --workspace --all-features --locked "$@"
