#!/bin/sh
# Container entry point: `web` (migrate, then serve), `worker`, `scheduler`, `migrate`, or any
# command.
#   web        granian serving wfaib.wsgi (embedded scheduler too unless WFAIB_SCHEDULER=off);
#              WEB_WORKERS processes (2) of WEB_THREADS blocking threads each (8);
#              MIGRATE_ON_START=0 leaves migrations to a job of their own (Helm); a worker
#              that has not stopped WEB_KILL_TIMEOUT seconds (20) after SIGTERM is killed
#              (granian can hang in its shutdown: emmett-framework/granian#875)
#   worker     a Celery worker executing runs (extra arguments go to manage.py run_worker)
#   scheduler  schedules, watchdog, due waits, retention (manage.py run_scheduler; safe twice)
#   migrate    apply the database migrations and exit (the Helm chart's migration job)
# Metrics of every process of the container are added up through PROMETHEUS_MULTIPROC_DIR
# (a fresh directory at each start).
set -e
export PROMETHEUS_MULTIPROC_DIR="${PROMETHEUS_MULTIPROC_DIR:-/tmp/wfaib-metrics}"
rm -rf "$PROMETHEUS_MULTIPROC_DIR" && mkdir -p "$PROMETHEUS_MULTIPROC_DIR"
case "${1:-web}" in
  web)
    if [ $# -gt 0 ]; then shift; fi
    if [ "${MIGRATE_ON_START:-1}" != "0" ]; then
      python manage.py migrate --noinput
    fi
    exec granian --interface wsgi --host "${WEB_HOST:-0.0.0.0}" --port "${PORT:-8000}" \
      --workers "${WEB_WORKERS:-2}" --blocking-threads "${WEB_THREADS:-8}" \
      --workers-kill-timeout "${WEB_KILL_TIMEOUT:-20}" \
      "$@" wfaib.wsgi:application ;;
  worker) shift; exec python manage.py run_worker "$@" ;;
  scheduler) shift; exec python manage.py run_scheduler "$@" ;;
  migrate) exec python manage.py migrate --noinput ;;
  *) exec "$@" ;;
esac
