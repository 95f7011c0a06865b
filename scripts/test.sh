#!/usr/bin/env bash
# Sets up and runs every test: the Python packages, Debian's Chromium for the browser tests, then pytest.
# Extra arguments go to pytest, e.g. `bash scripts/test.sh tests/core -x`.
# --quick leaves out the tests marked slow (pyproject.toml); CI (.ci/run) runs everything.
set -euo pipefail
cd "$(dirname "$0")/.."
args=()
for a in "$@"; do
  if [ "$a" = "--quick" ]; then args+=(-m "not slow"); else args+=("$a"); fi
done
python -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt
if ! command -v chromium >/dev/null 2>&1; then
  if [ "$(id -u)" = 0 ]; then
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
  else
    echo "The browser tests need Debian's chromium: sudo apt-get install chromium" >&2
  fi
fi
exec python -m pytest ${args[@]+"${args[@]}"}
