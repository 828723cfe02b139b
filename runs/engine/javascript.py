"""Run `code`-node JavaScript in V8 (mini-racer), inside a code worker process.

    run_javascript("return input.map(x => x * 2)", {"input": [1, 2]}, timeout=5,
                   memory_mb=128)   -> [2, 4]

The code is the body of a function, as in n8n's Code node: `return` gives the node's output
(or, as in the Python node, a variable `result`); it sees `input`, `trigger`, `nodes`, `run`
and `now` as JSON values. Each job gets a fresh V8 context, so nothing (a polluted prototype,
a global) carries over to the next run. The context has only the language itself: no
`require`, `process`, `fetch`, timers, WebAssembly or shared memory. V8 stops a job at the
timeout and at the heap limit (`memory_mb`); the worker's RLIMIT_DATA bounds what lives
outside the heap (array buffers), and a V8 that dies of it takes only the worker process.
"""

from __future__ import annotations

import json
import re
from typing import Any

NAMES = ("input", "trigger", "nodes", "run", "now")

# Runs first in every fresh context: what a browser or mini-racer adds beyond the language
# goes, and `console` is a silent stand-in (code pasted from elsewhere logs).
_PRELUDE = """
(function () {
  for (const name of ["WebAssembly", "SharedArrayBuffer", "Atomics", "setTimeout",
                      "clearTimeout", "__timer_manager"]) {
    if (!delete globalThis[name]) globalThis[name] = undefined;  // a `var`: not deletable
  }
  const quiet = () => undefined;
  globalThis.console = Object.freeze({log: quiet, info: quiet, warn: quiet, error: quiet,
                                      debug: quiet});
})();
"""
_LINE = re.compile(r"^<anonymous>:(\d+): (.*)$")


class JavaScriptError(Exception):
    """The code failed or hit a limit; `reason`, `lineno` (when known) and whether the worker
    should be replaced (`recycle`)."""

    def __init__(self, reason: str, lineno: int | None = None, recycle: bool = False):
        super().__init__(f"line {lineno}: {reason}" if lineno else reason)
        self.reason = reason
        self.lineno = lineno
        self.recycle = recycle


def warm() -> None:
    """Load V8 (the library and its ICU data) now, before the worker drops its rights."""
    from py_mini_racer import MiniRacer

    with MiniRacer() as racer:
        racer.eval("1")


def _source(code: str, names: dict[str, Any], max_output: int) -> str:
    """The script: the user's code as a function body starting on line 1, so V8's line
    numbers are the user's; it ends in the result's JSON text (or, past `max_output`
    characters, only that text's length, so no huge string leaves V8)."""
    args = ", ".join(json.dumps(names.get(name), ensure_ascii=False) for name in NAMES)
    return (f"const __wfaib_value = (function ({', '.join(NAMES)}) {{{code}\n"
            f";return typeof result === 'undefined' ? null : result;\n"
            f"}})({args});\nconst __wfaib_text = JSON.stringify(__wfaib_value);\n"
            f"__wfaib_text !== undefined && __wfaib_text.length > {max_output} ? "
            f"__wfaib_text.length : __wfaib_text")


def _failure(message: str, user_lines: int) -> JavaScriptError:
    first = message.strip().splitlines()[0] if message.strip() else "the code failed"
    match = _LINE.match(first)
    if not match:
        return JavaScriptError(first[:500])
    line, text = int(match.group(1)), match.group(2)
    if not re.match(r"^[A-Za-z]*Error\b", text):
        text = f"Uncaught {text}"
    if line > user_lines:  # the wrapper's last line: turning the result into JSON
        return JavaScriptError(f"the result is not JSON: {text}"[:500])
    return JavaScriptError(text[:500], line)


def run_javascript(code: str, names: dict[str, Any], *, timeout: float, memory_mb: int,
                   max_output: int = 32_000_000) -> Any:
    """Run `code` in a fresh V8 context; its JSON result, or JavaScriptError."""
    from py_mini_racer import (
        JSEvalException,
        JSOOMException,
        JSParseException,
        JSTimeoutException,
        MiniRacer,
    )

    user_lines = code.count("\n") + 1
    with MiniRacer() as racer:
        racer.set_hard_memory_limit(memory_mb * 1024 * 1024)
        racer.eval(_PRELUDE)
        try:
            text = racer.eval(_source(code, names, max_output), timeout_sec=timeout)
        except JSTimeoutException:
            raise JavaScriptError(f"timed out after {timeout:g}s") from None
        except JSOOMException:
            raise JavaScriptError(f"memory limit exceeded ({memory_mb} MB)",
                                  recycle=True) from None
        except (JSParseException, JSEvalException) as exc:
            if racer.was_hard_memory_limit_reached():
                raise JavaScriptError(f"memory limit exceeded ({memory_mb} MB)",
                                      recycle=True) from None
            raise _failure(str(exc), user_lines) from None
    if isinstance(text, (int, float)) or isinstance(text, str) and len(text) > max_output:
        raise JavaScriptError(f"result too large (over {max_output:,} characters)")
    if not isinstance(text, str):  # undefined: JSON.stringify of a function or undefined
        return None
    return json.loads(text)
