"""asteval, imported without numpy: the one place the expression sandbox imports asteval from.

asteval imports numpy when it is installed (WFAIB installs it for the vector store), for two
things the sandbox does not use: numpy's functions in the symbol table (`Sandbox` passes
`use_numpy=False`) and a deny-list of ndarray attributes (no value in a sandbox is an ndarray:
inputs are JSON, and attributes are allow-listed in `interpreter.Sandbox.get_attribute`).
Hiding numpy while asteval loads keeps ~14 MB out of every web and worker process that
evaluates expressions but never searches vectors (bench/RESULTS.md: server RSS). Where numpy
is already loaded, asteval simply finds it, as before; the sandbox behaves the same either way.
"""

from __future__ import annotations

import sys

_hide = "numpy" not in sys.modules
if _hide:
    sys.modules["numpy"] = None  # type: ignore[assignment]  # `import numpy` raises ImportError
try:
    from asteval import Interpreter
    from asteval.astutils import Procedure
finally:
    if _hide and sys.modules.get("numpy", 0) is None:
        del sys.modules["numpy"]

__all__ = ["Interpreter", "Procedure"]
