#!/usr/bin/env bash
# Install WFAIB into .venv, set up SQLite with the demo workflow, and serve it.
#
#   ./scripts/quickstart.sh                 serve on http://127.0.0.1:8000/
#   PORT=9000 ./scripts/quickstart.sh       another port (HOST=0.0.0.0 to listen on all)
#   WFAIB_ADMIN_EMAIL=you@example.com WFAIB_ADMIN_PASSWORD='a long passphrase' \
#     ./scripts/quickstart.sh               also create your superuser (no prompt needed)
#   ./scripts/quickstart.sh --no-serve      set up only (--no-install: skip pip)
#
# The first run writes .env (DEBUG=1, a SECRET_KEY of its own, loopback allowed for the demo's
# HTTP call); manage.py reads it, so every command printed below works in a fresh shell.
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-python3}
PORT=${PORT:-8000}
HOST=${HOST:-127.0.0.1}
install=1 serve=1
for arg in "$@"; do
  case "$arg" in
    --no-install) install=0 ;;
    --no-serve) serve=0 ;;
    *) echo "unknown option: $arg (see the top of $0)" >&2; exit 2 ;;
  esac
done

if [ "$install" = 1 ]; then
  [ -x .venv/bin/python ] || "$PYTHON" -m venv .venv
  .venv/bin/python -m pip install -q --upgrade pip
  .venv/bin/python -m pip install -q -e .
fi

if [ ! -f .env ]; then
  secret=$(.venv/bin/python -c 'import secrets; print(secrets.token_urlsafe(50))')
  cat > .env <<EOF
# Written by scripts/quickstart.sh for local development (manage.py and the servers read it;
# variables set in the environment win). Not for production: see .env.example.
DEBUG=1
SECRET_KEY=$secret
# The demo workflow calls this server on loopback, which outbound HTTP refuses by default.
WFAIB_HTTP_ALLOW=127.0.0.1
EOF
  echo "Wrote .env (DEBUG=1, a new SECRET_KEY, WFAIB_HTTP_ALLOW=127.0.0.1)."
fi
# Where the demo's HTTP node calls this server (kept in the demo when it is first created).
export WFAIB_BASE_URL=${WFAIB_BASE_URL:-http://127.0.0.1:$PORT}

.venv/bin/python manage.py migrate --noinput -v0
.venv/bin/python manage.py setup_demo
if [ -n "${WFAIB_ADMIN_EMAIL:-}" ]; then
  .venv/bin/python manage.py create_admin
  account_hint="sign in as $WFAIB_ADMIN_EMAIL"
else
  account_hint="create your account first"
fi

demo=$(.venv/bin/python manage.py shell -v0 -c \
  "from workflows.models import Workflow; print(Workflow.objects.get(name='demo').pk)")

cat <<EOF

WFAIB is at http://$HOST:$PORT/ ($account_hint). In another terminal, in $(pwd):
  \$ .venv/bin/python manage.py createsuperuser
  \$ WFAIB_ADMIN_EMAIL=you@example.com WFAIB_ADMIN_PASSWORD='a long passphrase' .venv/bin/python manage.py create_admin
  \$ .venv/bin/python manage.py run_workflow demo --input '{"name": "Ada"}'
  \$ curl -s -X POST http://$HOST:$PORT/api/webhook/$demo -H 'Content-Type: application/json' -d '{"name": "Ada"}'
(createsuperuser asks for the email and password; create_admin takes them from the environment.)
EOF
[ "$serve" = 1 ] || exit 0
exec .venv/bin/python manage.py runserver "$HOST:$PORT"
