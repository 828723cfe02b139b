#!/bin/sh
# Container entry point: `web` (migrate, then serve), `worker`, `scheduler`, or any command.
#   web        granian serving wfaib.wsgi (embedded scheduler too unless WFAIB_SCHEDULER=off)
#   worker     a Celery worker executing runs (extra arguments go to manage.py run_worker)
#   scheduler  schedules, watchdog, due waits (manage.py run_scheduler; safe to run twice)
set -e
case "${1:-web}" in
  web)
    python manage.py migrate --noinput
    exec granian --interface wsgi --host 0.0.0.0 --port 8000 \
      --workers "${WEB_WORKERS:-2}" wfaib.wsgi:application ;;
  worker) shift; exec python manage.py run_worker "$@" ;;
  scheduler) exec python manage.py run_scheduler ;;
  *) exec "$@" ;;
esac
