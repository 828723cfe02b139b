#!/usr/bin/env bash
# Install WFAIB into .venv, set up SQLite with the demo workflow, and serve it on :8000.
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-python3}
[ -x .venv/bin/python ] || "$PYTHON" -m venv .venv
.venv/bin/python -m pip install -q --upgrade pip
.venv/bin/python -m pip install -q -e .
export DEBUG=${DEBUG:-1}
# The demo workflow calls this server on loopback, which outbound HTTP refuses by default.
export WFAIB_HTTP_ALLOW=${WFAIB_HTTP_ALLOW:-127.0.0.1}
.venv/bin/python manage.py migrate --noinput -v0
.venv/bin/python manage.py setup_demo
echo "WFAIB is at http://127.0.0.1:8000/ (create a user: .venv/bin/python manage.py createsuperuser)"
exec .venv/bin/python manage.py runserver 127.0.0.1:8000
