#!/usr/bin/env bash
# Debian's headless Chromium for the HTML report test; installs it when missing
# (idempotent) and prints its path.
set -euo pipefail
if ! command -v chromium >/dev/null 2>&1; then
    export DEBIAN_FRONTEND=noninteractive
    SUDO=""
    if [ "$(id -u)" != 0 ]; then SUDO="sudo"; fi
    $SUDO apt-get update -qq >&2
    $SUDO apt-get install -y -qq chromium >&2
fi
command -v chromium
