#!/usr/bin/env bash
# Set up, build dist/ if needed, and serve the site on 127.0.0.1 (prints the URL).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh app
exec .venv/bin/python build.py serve "$@"
