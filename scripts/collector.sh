#!/usr/bin/env bash
# rotel (https://github.com/streamfold/rotel), a real OpenTelemetry collector
# shipped on PyPI, for the live-export tests and for watching spans by hand.
#
#   scripts/collector.sh install           install rotel into ./.venv when missing
#   scripts/collector.sh path              install when missing; print rotel-agent's path
#   scripts/collector.sh start [ARGS...]   start rotel-agent in the background, logging
#                                          received spans; prints its PID. Default:
#                                          gRPC 127.0.0.1:4317, HTTP 127.0.0.1:4318,
#                                          spans logged to .venv/rotel.log (ARGS replace
#                                          the defaults after `start`)
#   scripts/collector.sh stop              stop the rotel started by `start`, by its PID
#
# Idempotent: once installed, `install` and `path` only look for the binary.
# The tests call `path` themselves, so `scripts/test.sh` needs no extra step.
set -euo pipefail
cd "$(dirname "$0")/.."
ROTEL_VERSION="0.0.1a15"
VENV=".venv"
# shellcheck source=scripts/venv.sh
. scripts/venv.sh
PID_FILE="$VENV/rotel.pid"
LOG_FILE="$VENV/rotel.log"

agent() {
    find "$VENV" -path '*/site-packages/rotel/rotel-agent' -type f 2>/dev/null | head -n 1
}

has_agent() {
    [ -n "$(agent)" ]
}

install() {
    venv_install has_agent "rotel==$ROTEL_VERSION"
    if ! has_agent; then
        echo "rotel $ROTEL_VERSION installed, but its rotel-agent binary is not in $VENV" >&2
        exit 1
    fi
}

case "${1:-path}" in
    install)
        install
        ;;
    path)
        install
        realpath "$(agent)"
        ;;
    start)
        install
        shift
        if [ "$#" -eq 0 ]; then
            set -- --otlp-grpc-endpoint 127.0.0.1:4317 --otlp-http-endpoint 127.0.0.1:4318 \
                --exporter blackhole --debug-log traces --debug-log-verbosity detailed
        fi
        "$(agent)" start "$@" >"$LOG_FILE" 2>&1 &
        echo $! >"$PID_FILE"
        echo "rotel-agent started, PID $(cat "$PID_FILE"), log $LOG_FILE"
        ;;
    stop)
        if [ ! -s "$PID_FILE" ]; then
            echo "no $PID_FILE: rotel was not started by scripts/collector.sh start" >&2
            exit 1
        fi
        kill "$(cat "$PID_FILE")" 2>/dev/null || true
        rm -f "$PID_FILE"
        ;;
    *)
        echo "usage: scripts/collector.sh install | path | start [ARGS...] | stop" >&2
        exit 2
        ;;
esac
