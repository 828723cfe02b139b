"""The workflow engine: plans a definition's graph and advances a run node by node.

It imports no request or DRF code and no services; it is driven by `runs.dispatch` (inline
threads or Celery), by the CLI and by tests, all through `runs.engine.executor.execute_run`,
and reports back through the hooks it is handed (hooks.py). executor.py lists its parts.
"""
