#!/usr/bin/env bash
# The main job: install what is needed, build the bundle from the installed Nmap database
# (plus signatures/*.probes), show what it holds, then detect what runs on 127.0.0.1
# (Nmap's 1,000 most frequent TCP ports; loopback only).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
.venv/bin/sigc build
.venv/bin/sigc stats build/signatures.db
.venv/bin/sigscan scan 127.0.0.1 -oX build/scan.xml -oJ build/scan.ndjson
