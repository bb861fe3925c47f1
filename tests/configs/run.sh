#!/usr/bin/env bash
# Validates the shipped host configs (envoy/, kong-wasm/, deploy/) with validate.py, in a venv at
# target/config-venv. The first run creates the venv and installs requirements.txt from
# PyPI; later runs reuse it (reinstalling only when requirements.txt changes) and need no
# network. Extra arguments go to validate.py (-v prints every check).
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
venv="$root/target/config-venv"
req="$root/tests/configs/requirements.txt"
stamp="$venv/.installed-requirements.txt"   # the requirements.txt last installed
python="${PYTHON:-python3}"

command -v "$python" >/dev/null || { echo "run.sh: $python not found (Python >= 3.11 needed)" >&2; exit 1; }
"$python" -c 'import sys; sys.exit(sys.version_info < (3, 11))' ||
    { echo "run.sh: $("$python" --version 2>&1) is too old: envoy-data-plane needs Python >= 3.11" >&2; exit 1; }

# A venv whose interpreter no longer runs (moved, or its Python was removed) is rebuilt.
if [ -e "$venv" ] && ! "$venv/bin/python" -c 'import pip' >/dev/null 2>&1; then
    rm -rf "$venv"
fi

if [ ! -e "$venv" ]; then
    # Debian's own python3 needs the python3-venv package for `-m venv` (ensurepip).
    if ! "$python" -c 'import venv, ensurepip' >/dev/null 2>&1; then
        echo "run.sh: installing python3-venv (needed for python -m venv)" >&2
        sudo=""
        if [ "$(id -u)" -ne 0 ]; then
            command -v sudo >/dev/null ||
                { echo "run.sh: as root, run: apt-get install python3-venv" >&2; exit 1; }
            sudo="sudo"
        fi
        { $sudo apt-get update -qq && $sudo apt-get install -y -qq python3-venv >/dev/null; } ||
            { echo "run.sh: could not install python3-venv (apt-get install python3-venv)" >&2; exit 1; }
    fi
    "$python" -m venv "$venv"
fi

if ! cmp -s "$req" "$stamp"; then
    "$venv/bin/python" -m pip install --quiet --disable-pip-version-check -r "$req"
    cp "$req" "$stamp"
fi

exec "$venv/bin/python" "$root/tests/configs/validate.py" "$@"
