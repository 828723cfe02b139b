"""Each request's WSGI environ without the server process's own environment variables.

    application = WithoutProcessEnvironment(get_wsgi_application())    # wfaib/wsgi.py

granian, and wsgiref behind `runserver`, start every request's environ from a copy of
`os.environ` (a CGI habit PEP 3333 allows). Django keeps the environ as `request.META`, so
each of the ~20-50 variables of the process sat in every request: SECRET_KEY, DATABASE_URL
with its password, the credentials' key. Django's DEBUG error page prints META (it masks
names with KEY, SECRET, TOKEN or PASS in them, not DATABASE_URL), and `request.headers` went
through every one of them on every request: 5 % of an asynchronous accept's instructions
(bench/RESULTS.md).

The names the process had when the application was loaded are taken out of each environ,
except the ones a server sets per request: the CGI variables, the HTTP_ headers and wsgi.*.
A variable of the process with such a name (HTTP_PROXY, say) stays where the request did not
set it; PEP 3333's servers set the CGI ones themselves, the request's own header wins.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Mapping
from typing import Any

# What a WSGI server sets for the request itself (PEP 3333, RFC 3875), never taken out.
PER_REQUEST = frozenset({
    "REQUEST_METHOD", "SCRIPT_NAME", "PATH_INFO", "QUERY_STRING", "CONTENT_TYPE",
    "CONTENT_LENGTH", "SERVER_NAME", "SERVER_PORT", "SERVER_PROTOCOL", "SERVER_SOFTWARE",
    "GATEWAY_INTERFACE", "REMOTE_ADDR", "REMOTE_PORT", "REMOTE_HOST", "REMOTE_USER",
    "REMOTE_IDENT", "AUTH_TYPE", "PATH_TRANSLATED", "HTTPS", "REQUEST_URI", "RAW_URI",
})


def process_names(environment: Mapping[str, str]) -> frozenset[str]:
    """The names of `environment` a request's environ does without."""
    return frozenset(name for name in environment if name not in PER_REQUEST
                     and not name.startswith(("HTTP_", "wsgi.")))


class WithoutProcessEnvironment:
    def __init__(self, application: Callable[..., Iterable[bytes]],
                 environment: Mapping[str, str] | None = None) -> None:
        self.application = application
        self.names = process_names(os.environ if environment is None else environment)

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]
                 ) -> Iterable[bytes]:
        for name in self.names.intersection(environ):
            del environ[name]
        return self.application(environ, start_response)
