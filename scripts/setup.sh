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
apt_updated=""
apt_install() {  # Debian packages, with one `apt-get update` per run
  echo "setup: installing Debian packages: $*" >&2
  [ -n "$apt_updated" ] || { need_root apt-get update -qq; apt_updated=1; }
  DEBIAN_FRONTEND=noninteractive need_root apt-get install -y -qq "$@" >/dev/null
}

# 0. What a bare Debian machine lacks: python3 with its venv module (3.11 or newer), Node.js and npm.
missing=()
command -v python3 >/dev/null || missing+=(python3)
python3 -c 'import ensurepip, venv' 2>/dev/null || missing+=(python3-venv)
command -v node >/dev/null || missing+=(nodejs)
command -v npm >/dev/null || missing+=(npm)
[ ${#missing[@]} = 0 ] || apt_install "${missing[@]}"
if ! python3 -c 'import sys; sys.exit(sys.version_info < (3, 11))'; then
  echo "setup: cnn101 needs Python 3.11 or newer as python3 (found $(python3 --version 2>&1))" >&2
  exit 1
fi
if ! node -e 'process.exit(Number(process.versions.node.split(".")[0]) < 18 ? 1 : 0)'; then
  echo "setup: cnn101 needs Node.js 18 or newer (found $(node --version)); 20 is what it is tested with" >&2
  exit 1
fi

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
  apt_install chromium fonts-dejavu-core
fi
