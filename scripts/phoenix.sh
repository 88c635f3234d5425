#!/usr/bin/env bash
# Arize Phoenix (https://github.com/Arize-ai/phoenix), the LLM trace UI, for the
# Phoenix test and for looking at runs by hand.
#
#   scripts/phoenix.sh install      install the pinned arize-phoenix (and the pinned
#                                   OpenInference / OpenTelemetry semconv packages)
#                                   into ./.venv when missing
#   scripts/phoenix.sh path         install when missing; print the `phoenix` command's path
#   scripts/phoenix.sh start        start `phoenix serve` in the background; prints its PID.
#                                   PHOENIX_HOST (default 127.0.0.1), PHOENIX_PORT (6006),
#                                   PHOENIX_GRPC_PORT (4317) and PHOENIX_WORKING_DIR
#                                   (./.venv/phoenix) are Phoenix's own variables.
#   scripts/phoenix.sh stop         stop the Phoenix started by `start`, by its PID
#
# Idempotent: once installed, `install` and `path` only look for the command.
# The Phoenix test calls `path` itself, so `scripts/test.sh` needs no extra step.
set -euo pipefail
cd "$(dirname "$0")/.."
PHOENIX_VERSION="20.26.1"
# The conventions' own packages (Phoenix depends on both); the semconv tests
# read the attribute names from them.
OPENINFERENCE_SEMCONV_VERSION="0.1.42"
OTEL_SEMCONV_VERSION="0.66b2"
VENV=".venv"
# shellcheck source=scripts/venv.sh
. scripts/venv.sh
PID_FILE="$VENV/phoenix.pid"
LOG_FILE="$VENV/phoenix.log"

installed() {
    [ -x "$VENV/bin/phoenix" ] && [ -f "$VENV/.phoenix-$PHOENIX_VERSION-$OPENINFERENCE_SEMCONV_VERSION-$OTEL_SEMCONV_VERSION" ]
}

install() {
    venv_install installed "arize-phoenix==$PHOENIX_VERSION" \
        "openinference-semantic-conventions==$OPENINFERENCE_SEMCONV_VERSION" \
        "opentelemetry-semantic-conventions==$OTEL_SEMCONV_VERSION"
    if [ ! -x "$VENV/bin/phoenix" ]; then
        echo "arize-phoenix $PHOENIX_VERSION installed, but $VENV/bin/phoenix is missing" >&2
        exit 1
    fi
    touch "$VENV/.phoenix-$PHOENIX_VERSION-$OPENINFERENCE_SEMCONV_VERSION-$OTEL_SEMCONV_VERSION"
}

case "${1:-path}" in
    install)
        install
        ;;
    path)
        install
        realpath "$VENV/bin/phoenix"
        ;;
    start)
        install
        export PHOENIX_HOST="${PHOENIX_HOST:-127.0.0.1}"
        export PHOENIX_PORT="${PHOENIX_PORT:-6006}"
        export PHOENIX_GRPC_PORT="${PHOENIX_GRPC_PORT:-4317}"
        export PHOENIX_WORKING_DIR="${PHOENIX_WORKING_DIR:-$VENV/phoenix}"
        export PHOENIX_TELEMETRY_ENABLED="${PHOENIX_TELEMETRY_ENABLED:-false}"
        mkdir -p "$PHOENIX_WORKING_DIR"
        "$VENV/bin/phoenix" serve >"$LOG_FILE" 2>&1 &
        echo $! >"$PID_FILE"
        echo "phoenix started, PID $(cat "$PID_FILE"), UI http://$PHOENIX_HOST:$PHOENIX_PORT, OTLP gRPC $PHOENIX_HOST:$PHOENIX_GRPC_PORT, log $LOG_FILE"
        ;;
    stop)
        if [ ! -s "$PID_FILE" ]; then
            echo "no $PID_FILE: Phoenix was not started by scripts/phoenix.sh start" >&2
            exit 1
        fi
        kill "$(cat "$PID_FILE")" 2>/dev/null || true
        rm -f "$PID_FILE"
        ;;
    *)
        echo "usage: scripts/phoenix.sh install | path | start | stop" >&2
        exit 2
        ;;
esac
