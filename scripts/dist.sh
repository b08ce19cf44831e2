#!/usr/bin/env bash
# Build what ships, into dist/ (or the folder given):
#   sigscan-VERSION-py3-none-any.whl            the runtime (needs regex; sigscan[orjson] adds orjson)
#   sigscan_compiler-VERSION-py3-none-any.whl   the compiler, sigc (requires sigscan==VERSION)
#   sigscan.pyz                                 the runtime as one file: python3 -S sigscan.pyz
# Usage: scripts/dist.sh [OUTDIR]
# Offline: it builds with the tools of the development environment (.venv, or $PYTHON), made by
# scripts/setup.sh --dev, with no isolated build environment to download.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
out=$(realpath -m "${1:-$root/dist}")
cd "$root"
python=${PYTHON:-.venv/bin/python}

if ! command -v "$python" >/dev/null 2>&1; then
    echo "dist: no Python at $python (run scripts/setup.sh --dev, or set PYTHON)" >&2
    exit 2
fi
for module in build hatchling; do
    if ! "$python" -c "import $module" 2>/dev/null; then
        echo "dist: $python has no '$module' module (run scripts/setup.sh --dev, or pip install $module)" >&2
        exit 2
    fi
done

mkdir -p "$out"
rm -f "$out"/sigscan-*.whl "$out"/sigscan_compiler-*.whl "$out"/sigscan.pyz
for half in runtime compiler; do
    if ! log=$("$python" -m build --wheel --no-isolation --outdir "$out" "$half" 2>&1); then
        printf '%s\n' "$log" >&2
        echo "dist: building the $half wheel failed" >&2
        exit 1
    fi
done
"$python" scripts/pyz.py "$out/sigscan.pyz"
ls -l "$out"/sigscan-*.whl "$out"/sigscan_compiler-*.whl "$out"/sigscan.pyz | awk '{print "dist: " $5 " bytes  " $NF}'
