"""Built-in node types: one module per type; importing this package registers them all."""

from . import http, llm, transform, webhook  # noqa: F401
from . import condition, delay, loop, merge, respond, subworkflow, switch  # noqa: F401
from . import wait_for_webhook  # noqa: F401
from . import schedule  # noqa: F401
from . import code  # noqa: F401
