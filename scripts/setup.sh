#!/usr/bin/env bash
# Set up everything cnn101 needs on a fresh Debian machine; safe to run again (it skips what is done).
#   bash scripts/setup.sh app   # what building and serving the site needs
#   bash scripts/setup.sh dev   # plus TensorFlow, pytest, Playwright and Debian's Chromium for the tests
set -euo pipefail
profile="${1:-app}"
cd "$(dirname "$0")/.."
root="$(pwd)"
stamp_dir="$root/.venv/.stamps"

need_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }

# 1. Python virtual environment in the repo.
if [ ! -x .venv/bin/python ]; then
  python3 -m venv .venv
  .venv/bin/python -m pip install -q --upgrade pip
fi
mkdir -p "$stamp_dir"
extras="image,lite"
[ "$profile" = dev ] && extras="dev"
want="$(cat pyproject.toml constraints.txt | sha256sum | cut -c1-16)-$extras"
if [ "$(cat "$stamp_dir/pip" 2>/dev/null)" != "$want" ]; then
  echo "setup: installing Python packages ($extras) into .venv" >&2
  .venv/bin/python -m pip install -q -c constraints.txt -e ".[$extras]"  # exact versions: constraints.txt
  echo "$want" > "$stamp_dir/pip"
fi

# 2. npm packages pinned by package-lock.json (Pyodide runtime, PyScript, TF.js for benchmarks).
if [ -f package-lock.json ]; then
  want_npm="$(sha256sum package-lock.json | cut -c1-16)"
  if [ "$(cat "$stamp_dir/npm" 2>/dev/null)" != "$want_npm" ] || [ ! -d node_modules ]; then
    echo "setup: npm ci" >&2
    npm ci --no-audit --no-fund --loglevel=error
    echo "$want_npm" > "$stamp_dir/npm"
  fi
fi

# 3. Debian's Chromium for the browser tests (never 'playwright install').
if [ "$profile" = dev ] && [ ! -x /usr/bin/chromium ]; then
  echo "setup: installing Debian chromium" >&2
  need_root apt-get update -qq
  DEBIAN_FRONTEND=noninteractive need_root apt-get install -y -qq chromium fonts-dejavu-core >/dev/null
fi
