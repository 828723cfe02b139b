"""Built-in node types: one module per type; importing this package registers them all."""

from . import (  # noqa: F401
    code,
    condition,
    delay,
    http,
    llm,
    loop,
    merge,
    respond,
    schedule,
    subworkflow,
    switch,
    transform,
    wait_for_webhook,
    webhook,
)
