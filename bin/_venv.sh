# Sourced by bin/serve and bin/test: make .venv (Python 3.11) and install the
# requirements when they changed since the last install.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
REQS=${1:-requirements.txt}
PY=${PYTHON:-python3.11}
command -v "$PY" >/dev/null 2>&1 || PY=python3
if [ ! -x .venv/bin/python ]; then
    "$PY" -m venv .venv
fi
# shellcheck disable=SC1091
. .venv/bin/activate
stamp=.venv/.installed-$(cat requirements*.txt | sha256sum | cut -c1-16)-$(basename "$REQS")
if [ ! -e "$stamp" ]; then
    log=$(mktemp)
    # (grep drops the harmless "Location … is ignored" notes of this machine's pip config)
    if ! { python -m pip install --quiet --disable-pip-version-check --upgrade pip \
           && python -m pip install --quiet --disable-pip-version-check -r "$REQS"; } >"$log" 2>&1; then
        grep -v "^WARNING: Location" "$log" >&2; rm -f "$log"; exit 1
    fi
    rm -f "$log"
    touch "$stamp"
fi
