#!/usr/bin/env bash
# The main job: install what is needed, build the bundle from the installed Nmap database
# (plus signatures/*.probes), and show what it holds.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
.venv/bin/sigc build
.venv/bin/sigc stats build/signatures.db
