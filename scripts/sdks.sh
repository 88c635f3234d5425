#!/usr/bin/env bash
# The vendors' official Python SDKs (openai, anthropic, google-genai, and the
# pydantic their request types are validated with), pinned, for the
# conformance tests in agento-pipeline/tests/sdk_conformance.rs.
#
#   scripts/sdks.sh install    install the pinned SDKs into ./.venv when missing
#   scripts/sdks.sh python     install when missing; print the venv's python path
#
# Idempotent: once installed, both commands only check the pinned versions.
# The tests call `python` themselves, so `scripts/test.sh` needs no extra step.
set -euo pipefail
cd "$(dirname "$0")/.."
VENV=".venv"
# shellcheck source=scripts/venv.sh
. scripts/venv.sh
PINS=(
    "openai==3.54.0"
    "anthropic==2.12.0"
    "google-genai==3.4.0"
    "pydantic==2.14.3"
)

installed() {
    [ -x "$VENV/bin/python" ] || return 1
    "$VENV/bin/python" - "${PINS[@]}" <<'EOF' 2>/dev/null
import sys
from importlib.metadata import version
for pin in sys.argv[1:]:
    name, wanted = pin.split("==")
    if version(name) != wanted:
        sys.exit(1)
EOF
}

install() {
    venv_install installed "${PINS[@]}"
}

case "${1:-python}" in
    install)
        install
        ;;
    python)
        install
        realpath -s "$VENV/bin/python"
        ;;
    *)
        echo "usage: scripts/sdks.sh install | python" >&2
        exit 2
        ;;
esac
