"""A request's environ holds the request, not the server process's environment
(wfaib/wsgi_environ.py): granian and wsgiref copy os.environ into every request's environ, and
Django keeps it as request.META."""

import io
import json
import subprocess
import sys
from pathlib import Path

import httpx
import pytest
from django.conf import settings
from django.core.handlers.wsgi import WSGIHandler
from django.test import override_settings

from wfaib.wsgi_environ import PER_REQUEST, WithoutProcessEnvironment, process_names

PROCESS = {  # what a server process's environment holds, with names that look like a request's
    "SECRET_KEY": "s3cret", "DATABASE_URL": "postgres://wfaib:pa55@db/wfaib",
    "WFAIB_CREDENTIALS_KEY": "k3y", "PATH": "/usr/bin", "SERVER_NAME": "process-host",
    "CONTENT_TYPE": "text/x-process", "HTTPS": "on", "HTTP_PROXY": "http://proxy:3128",
    "HTTP_HOST": "process.example", "wsgi.bogus": "1",
}


def scope(**extra):
    """What granian puts over the copy of the process's environment for one request."""
    return {"REQUEST_METHOD": "GET", "SCRIPT_NAME": "", "PATH_INFO": "/meta",
            "QUERY_STRING": "", "SERVER_NAME": "127.0.0.1", "SERVER_PORT": "8000",
            "SERVER_PROTOCOL": "HTTP/1.1", "REMOTE_ADDR": "127.0.0.1",
            "HTTP_HOST": "testserver", "HTTP_X_ASKED": "yes", "wsgi.url_scheme": "http",
            "wsgi.input": io.BytesIO(b""), "wsgi.errors": sys.stderr, **extra}


def test_the_names_taken_out_are_the_processs_own_not_a_requests():
    names = process_names(PROCESS)
    assert names == {"SECRET_KEY", "DATABASE_URL", "WFAIB_CREDENTIALS_KEY", "PATH"}
    assert not names & PER_REQUEST


@pytest.mark.django_db  # Django's handler closes old connections around the request
@override_settings(ROOT_URLCONF="tests.wfaib.urls_meta", ALLOWED_HOSTS=["testserver"])
def test_django_sees_the_request_without_the_processs_variables():
    app = WithoutProcessEnvironment(WSGIHandler(), PROCESS)
    statuses = []
    environ = {**PROCESS, **scope()}  # as granian builds it: basic_env | scope
    body = b"".join(app(environ, lambda status, headers, exc=None: statuses.append(status)))
    assert statuses == ["200 OK"]
    shown = json.loads(body)
    for secret in ("SECRET_KEY", "DATABASE_URL", "WFAIB_CREDENTIALS_KEY", "PATH"):
        assert secret not in shown["meta"]
    assert b"s3cret" not in body
    assert b"pa55" not in body
    # The request's own: its method, host and headers, and the server's name for it.
    assert {"REQUEST_METHOD", "SERVER_NAME", "HTTP_HOST", "HTTP_X_ASKED"} <= set(shown["meta"])
    assert environ["SERVER_NAME"] == "127.0.0.1"
    assert environ["HTTP_HOST"] == "testserver"
    # A CGI or HTTP_ name of the process that the request did not set stays (documented).
    assert environ["HTTPS"] == "on"
    assert environ["CONTENT_TYPE"] == "text/x-process"
    assert "Proxy" in shown["headers"]
    assert "X-Asked" in shown["headers"]


def test_a_variable_set_after_start_up_is_left_alone():
    app = WithoutProcessEnvironment(lambda environ, start_response: [b""], {"A": "1"})
    environ = {"A": "1", "B": "2", **scope()}
    app(environ, lambda *args: None)
    assert "A" not in environ
    assert environ["B"] == "2"


def _serve_and_ask(attribute: str, tmp_path: Path) -> list[str]:
    import socket
    import time

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = {"PATH": "/usr/bin:/bin", "WFAIB_ENV_MARKER": "leak",
           "PYTHONPATH": str(settings.BASE_DIR)}
    log = open(tmp_path / f"granian-{attribute}.log", "w")  # closed below
    server = subprocess.Popen(
        [str(Path(sys.executable).parent / "granian"), "--interface", "wsgi", "--host",
         "127.0.0.1", "--port", str(port), "--workers", "1", "--no-ws", "--working-dir",
         str(settings.BASE_DIR), f"tests.wfaib.wsgi_echo:{attribute}"],
        env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                return httpx.get(f"http://127.0.0.1:{port}/", timeout=5).json()
            except httpx.HTTPError as exc:
                if server.poll() is not None or time.monotonic() > deadline:
                    log.flush()
                    raise AssertionError((tmp_path / f"granian-{attribute}.log")
                                         .read_text()) from exc
                time.sleep(0.2)
    finally:
        server.terminate()
        server.wait(timeout=30)
        log.close()


@pytest.mark.slow
@pytest.mark.own_database
def test_granian_copies_the_process_environment_and_the_wrapper_takes_it_out(tmp_path):
    """The premise, on the server WFAIB ships: without the wrapper a variable of the process
    is in the request's environ; with it, it is not, and the request's own names are."""
    assert "WFAIB_ENV_MARKER" in _serve_and_ask("unwrapped", tmp_path)
    names = _serve_and_ask("application", tmp_path)
    assert "WFAIB_ENV_MARKER" not in names
    assert {"REQUEST_METHOD", "PATH_INFO", "HTTP_HOST", "wsgi.input"} <= set(names)


@pytest.mark.slow
@pytest.mark.own_database
def test_the_served_application_is_wrapped(tmp_path):
    env = {"PATH": "/usr/bin:/bin", "DEBUG": "1", "WFAIB_SCHEDULER": "off",
           "DJANGO_SETTINGS_MODULE": "wfaib.settings",
           "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}"}
    code = ("import wfaib.wsgi as w\n"
            "from wfaib.wsgi_environ import WithoutProcessEnvironment as W\n"
            "print(type(w.application) is W, 'DATABASE_URL' in w.application.names)")
    done = subprocess.run([sys.executable, "-c", code], cwd=settings.BASE_DIR, env=env,
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["True", "True"]
