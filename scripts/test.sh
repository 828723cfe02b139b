#!/usr/bin/env bash
# Run the test suite: builds .venv from pyproject.toml if needed, then pytest (parallel).
# DATABASE_URL chooses the database (SQLite by default). Extra arguments go to pytest;
# `--install-only` builds .venv and stops (.ci/run does that once before its parallel runs).
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-python3}
if [ ! -x .venv/bin/python ] || [ pyproject.toml -nt .venv/.installed ]; then
  [ -x .venv/bin/python ] || "$PYTHON" -m venv .venv
  .venv/bin/python -m pip install -q --upgrade pip
  .venv/bin/python -m pip install -q -e '.[test,dev]'
  touch .venv/.installed
fi
[ "${1:-}" = "--install-only" ] && exit 0
exec .venv/bin/python -m pytest -n "${PYTEST_WORKERS:-2}" "$@"
