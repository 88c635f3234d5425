# Sourced by the scripts that install pinned Python tools into ./.venv
# (collector.sh, phoenix.sh, sdks.sh); expects $VENV to be set.

# venv_install CHECK PACKAGE...: unless the command CHECK succeeds, installs
# PACKAGE... (pip requirement specifiers) into $VENV, creating it when needed.
# Concurrent callers (parallel tests) wait for the first one's install and
# then find it done. A failure is one message on stderr and exit 1.
venv_install() {
    local check=$1
    shift
    if "$check"; then
        return
    fi
    mkdir -p "$VENV"
    exec 9>"$VENV/.install.lock"
    flock 9
    if "$check"; then
        return
    fi
    if [ ! -x "$VENV/bin/pip" ]; then
        python3 -m venv "$VENV" >&2 || {
            echo "cannot create $VENV with python3 -m venv (on Debian: apt-get install python3-venv)" >&2
            exit 1
        }
    fi
    "$VENV/bin/pip" install --quiet --disable-pip-version-check "$@" >&2 || {
        echo "cannot install $* from PyPI into $VENV (no network? no wheel for $(uname -sm)?)" >&2
        exit 1
    }
}
