#!/usr/bin/env bash
# Set up everything and run all tests (the README's test command; .ci/run calls it).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh dev
.venv/bin/python build.py
CNN101_NO_SKIP=1 exec .venv/bin/python -m pytest "$@"
