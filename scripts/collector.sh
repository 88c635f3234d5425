#!/usr/bin/env bash
# rotel, a real OpenTelemetry collector (Rust, from PyPI), for the live-export tests.
#
#   scripts/collector.sh path      install rotel into ./.venv when missing; print the rotel-agent path
#   scripts/collector.sh start ARGS...   run rotel-agent in the foreground with ARGS
#
# Idempotent and quick once installed. The tests call `path` themselves.
set -euo pipefail
cd "$(dirname "$0")/.."
ROTEL_VERSION="0.0.1a15"
VENV=".venv"

agent() {
    find "$VENV" -path '*/site-packages/rotel/rotel-agent' -type f 2>/dev/null | head -n 1
}

install() {
    if [ -n "$(agent)" ]; then
        return
    fi
    if [ ! -x "$VENV/bin/pip" ]; then
        python3 -m venv "$VENV" >&2
    fi
    "$VENV/bin/pip" install --quiet --disable-pip-version-check "rotel==$ROTEL_VERSION" >&2
    if [ -z "$(agent)" ]; then
        echo "rotel $ROTEL_VERSION installed, but its rotel-agent binary is not in $VENV" >&2
        exit 1
    fi
}

case "${1:-path}" in
    path)
        install
        realpath "$(agent)"
        ;;
    start)
        install
        shift
        exec "$(agent)" start "$@"
        ;;
    *)
        echo "usage: scripts/collector.sh path | start ARGS..." >&2
        exit 2
        ;;
esac
