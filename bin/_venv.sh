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
    # (grep drops the harmless "Location … is ignored" notes of this machine's pip config)
    python -m pip install --quiet --disable-pip-version-check --upgrade pip 2>&1 | grep -v "^WARNING: Location" || true
    python -m pip install --quiet --disable-pip-version-check -r "$REQS" 2>&1 | grep -v "^WARNING: Location" || true
    python -c "import django, rest_framework" # fail here if the install did not work
    touch "$stamp"
fi
