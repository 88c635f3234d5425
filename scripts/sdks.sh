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
    if installed; then
        return
    fi
    # Concurrent callers (parallel tests) wait for the first one's install.
    mkdir -p "$VENV"
    exec 9>"$VENV/.install.lock"
    flock 9
    if installed; then
        return
    fi
    if [ ! -x "$VENV/bin/pip" ]; then
        python3 -m venv "$VENV" >&2 || {
            echo "cannot create $VENV with python3 -m venv (on Debian: apt-get install python3-venv)" >&2
            exit 1
        }
    fi
    "$VENV/bin/pip" install --quiet --disable-pip-version-check "${PINS[@]}" >&2 || {
        echo "cannot install ${PINS[*]} from PyPI into $VENV (no network?)" >&2
        exit 1
    }
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
