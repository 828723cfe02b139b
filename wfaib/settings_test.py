"""Settings for the test suite: the real settings, with test-only defaults in the environment."""

import os

os.environ.setdefault("SECRET_KEY", "test-secret-key-not-for-production")
os.environ.setdefault("WFAIB_FAST_PASSWORD_HASHER", "1")

from .settings import *  # noqa: E402,F403
