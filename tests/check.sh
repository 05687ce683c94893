#!/usr/bin/env bash
# The test command (README, .ci/run): a fresh virtual environment, the test extras, lint, types, tests.
set -euo pipefail
cd "$(dirname "$0")/.."

# Headless Chromium from Debian's packages drives the report tests; install it where we can.
if ! command -v chromium >/dev/null 2>&1; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "check: installing Debian's chromium for the browser tests" >&2
    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium fonts-noto-cjk >/dev/null) \
      || echo "check: could not install chromium; browser tests will be skipped" >&2
  fi
fi

venv="${TONGBI_VENV:-.venv}"
[ -x "$venv/bin/python" ] || python3 -m venv "$venv"
"$venv/bin/python" -m pip install -q --disable-pip-version-check -e '.[test]'
"$venv/bin/ruff" check jobs tests
"$venv/bin/mypy"
"$venv/bin/python" -m pytest -q "$@"
