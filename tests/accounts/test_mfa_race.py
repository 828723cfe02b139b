"""The same TOTP code sent twice at once signs in once: the device row is locked while a code is
checked, so the second check sees the step already used (any database, any web process)."""

import threading
import time

import pyotp
import pytest
from django.db import connection

from accounts.mfa import mfa_verify, totp_enrol_confirm, totp_enrol_start
from tests.factories import UserFactory


@pytest.mark.django_db(transaction=True)
def test_a_code_sent_twice_at_once_is_accepted_once():
    user = UserFactory()
    secret = totp_enrol_start(user=user).secret
    totp_enrol_confirm(user=user, code=pyotp.TOTP(secret).now())
    code = pyotp.TOTP(secret).at(time.time() + 30)
    barrier = threading.Barrier(4)
    results: list[str | None] = []

    def attempt():
        barrier.wait()
        try:
            results.append(mfa_verify(user=user, code=code))
        finally:
            connection.close()

    threads = [threading.Thread(target=attempt) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert results.count("totp") == 1
    assert results.count(None) == 3
