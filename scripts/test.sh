#!/usr/bin/env bash
# Install everything the tests need, then run ruff, mypy --strict and the whole test suite.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh --dev
echo "== ruff"
.venv/bin/ruff check compiler runtime tests benchmarks
echo "== mypy --strict"
.venv/bin/mypy --strict
echo "== pytest"
.venv/bin/pytest -q -p no:cacheprovider "$@"
