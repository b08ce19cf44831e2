#!/usr/bin/env bash
# Installs what sigc needs on a Debian machine: Nmap (its database is sigc's input, its binary
# the reference we compare with), a virtual environment in .venv, and sigc itself.
# Usage: scripts/setup.sh [--dev]   (--dev adds the test and lint tools)
set -euo pipefail
cd "$(dirname "$0")/.."

apt_packages=(nmap)
if [[ "${1:-}" == "--dev" ]]; then
    apt_packages+=(ndiff)
fi

missing=()
for pkg in "${apt_packages[@]}"; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done
if ((${#missing[@]})); then
    echo "setup: installing ${missing[*]} with apt-get" >&2
    sudo_cmd=()
    if [[ $(id -u) -ne 0 ]]; then sudo_cmd=(sudo); fi
    "${sudo_cmd[@]}" apt-get update -qq
    DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

python=${PYTHON:-python3}
if ! "$python" -c 'import sys; sys.exit(sys.version_info < (3, 11))'; then
    echo "setup: sigc needs Python 3.11 or newer; $python is $("$python" --version 2>&1)" >&2
    exit 2
fi
if [[ ! -x .venv/bin/python ]]; then
    "$python" -m venv .venv
fi
extras=""
if [[ "${1:-}" == "--dev" ]]; then extras="[dev]"; fi
.venv/bin/python -m pip install -q --disable-pip-version-check -e ".${extras}" 2>&1 | grep -v "^WARNING: Location" >&2 || true
.venv/bin/python -c 'import sigc, sigscan' || { echo "setup: installing sigc failed" >&2; exit 1; }
