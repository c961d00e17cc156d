#!/usr/bin/env bash
# Set up everything and run all tests (the README's test command; .ci/run calls it).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh dev
.venv/bin/python build.py
# Two workers (pytest-xdist), each taking a whole test module at a time, in file order (so the long benchmark
# harness starts early): a module's tests keep their module fixtures and one page, as in a serial run; each
# worker has its own browser, servers and warm contexts. The tests are CPU-bound: more workers than cores
# only add set-up. `-n 0` runs serially.
CNN101_NO_SKIP=1 exec .venv/bin/python -m pytest -n 2 --dist loadfile --no-loadscope-reorder "$@"
