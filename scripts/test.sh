#!/usr/bin/env bash
# The whole test suite: `scripts/test.sh` (what .ci/run calls after the lint gates).
set -euo pipefail
cd "$(dirname "$0")/.."
cargo test --workspace --locked "$@"
# Without the default `enabled` feature telemetry is compiled out: its own build.
cargo test -p agento --no-default-features --locked --test disabled --test ui "$@"
# The integrations (one feature per client crate): their own build of the facade.
cargo test -p agento --features async-openai --locked --test async_openai "$@"
