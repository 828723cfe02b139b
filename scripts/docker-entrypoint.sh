#!/bin/sh
# Container entry point: `web` (migrate, then serve), `worker`, `scheduler`, or any command.
set -e
case "${1:-web}" in
  web)
    python manage.py migrate --noinput
    exec granian --interface wsgi --host 0.0.0.0 --port 8000 \
      --workers "${WEB_WORKERS:-2}" wfaib.wsgi:application ;;
  worker) exec celery -A wfaib worker --loglevel INFO ;;
  scheduler) exec python manage.py run_scheduler ;;
  *) exec "$@" ;;
esac
