"""WFAIB: workflow automation with AI built in.

The Celery app (wfaib/celery.py) is not loaded here, unlike Celery's Django recipe: a process
that runs its workflows inline never needs it (~5 MB in each web worker). Whatever uses Celery
imports `wfaib.celery` itself: the Celery executor (runs/celery_executor.py), the tasks
(runs/tasks.py, so that `@shared_task` binds to this app), `run_worker`; and `celery -A wfaib`
finds the app in `wfaib.celery` on its own.
"""
