"""The Celery app for the distributed executor (WFAIB_EXECUTOR=celery).

    celery -A wfaib worker --concurrency 4      # or: manage.py run_worker

Configured from Django settings with the CELERY_ prefix (broker: CELERY_BROKER_URL, Redis or
RabbitMQ by URL); tasks are found in each app's tasks.py (runs/tasks.py).
"""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "wfaib.settings")

app = Celery("wfaib")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
