"""The engine's per-node clock (runs/engine/clock.py) is Django's timezone.now() under the
project's USE_TZ = True: aware, in UTC, the same instant."""

import datetime as dt

from django.conf import settings
from django.utils import timezone

from runs.engine.clock import now


def test_the_clock_is_what_timezone_now_returns_with_the_projects_settings():
    assert settings.USE_TZ is True  # what the shortcut relies on
    before = timezone.now()
    got = now()
    after = timezone.now()
    assert got.tzinfo is dt.UTC
    assert before <= got <= after
    assert got.utcoffset() == before.utcoffset() == dt.timedelta(0)
