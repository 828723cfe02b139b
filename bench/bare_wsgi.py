"""WSGI entry point of the bare stack (bench/bare_settings.py): no scheduler, no middleware."""

import os

from django.core.wsgi import get_wsgi_application

os.environ["DJANGO_SETTINGS_MODULE"] = "bench.bare_settings"
application = get_wsgi_application()
