"""WSGI applications for tests/wfaib/test_wsgi_environ.py, served by granian: the names in
each request's environ, with and without WithoutProcessEnvironment in front."""

import json

from wfaib.wsgi_environ import WithoutProcessEnvironment


def unwrapped(environ, start_response):
    body = json.dumps(sorted(environ)).encode()
    start_response("200 OK", [("Content-Type", "application/json"),
                              ("Content-Length", str(len(body)))])
    return [body]


application = WithoutProcessEnvironment(unwrapped)
