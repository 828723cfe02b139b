"""Providers: one `complete(request, on_text)` over each vendor's SDK, with the same retries,
timeouts and error messages.

    provider = open_provider(ctx, kind="openai", api_key=key, base_url=None, timeout=60)
    result = provider.complete(request, on_text=lambda delta: ...)   # ChatResult

Retries: a 429, 408/409 or 5xx answer (and a dropped connection) is tried again up to `retries`
times, after the provider's Retry-After (seconds or an HTTP date) when it sends one (at most
`RETRY_AFTER_CAP` seconds: asked to wait longer, the call fails at once so the node's own
retry settings, which can park the run, take over), else after a short exponential backoff.
The SDKs' own retries are off. Errors become `NodeError`s naming the provider, the status and
the provider's message, with the API key scrubbed from anything the provider echoes.
"""

from __future__ import annotations

import datetime as dt
import email.utils
import functools
import math
import re
import time
from collections.abc import Callable
from typing import Any, Protocol

import httpx

from ..base import NodeError
from .chat import ChatRequest, ChatResult

RETRY_AFTER_CAP = 60.0  # seconds: the longest Retry-After a node waits in its thread
BACKOFF = (1.0, 8.0)  # first delay, cap (doubling in between) without a Retry-After
RETRYABLE_STATUS = frozenset({408, 409, 429})

OnText = Callable[[str], None]


@functools.cache
def _sdk_errors() -> tuple[tuple[type[Exception], ...], ...]:
    """(status, timeout, connection) error classes of both SDKs, whose errors have the same
    shapes (anthropic's are modelled on openai's). Imported on the first error only: the SDKs
    cost ~100 MB and seconds of start-up in every process that never calls a model."""
    import anthropic
    import openai

    return ((openai.APIStatusError, anthropic.APIStatusError),
            (openai.APITimeoutError, anthropic.APITimeoutError),
            (openai.APIConnectionError, anthropic.APIConnectionError))


@functools.cache
def _stream_errors() -> tuple[tuple[type[Exception], ...], tuple[type[Exception], ...]]:
    """(timeout, transport) errors of the HTTP clients under both SDKs (httpx for openai,
    httpx2 for anthropic), raised unwrapped while a streamed answer is read. httpx2 is
    imported here, not at start-up: only the anthropic provider uses it."""
    import httpx2

    return ((httpx.TimeoutException, httpx2.TimeoutException),
            (httpx.TransportError, httpx2.TransportError))


class Provider(Protocol):
    name: str

    def complete(self, request: ChatRequest, on_text: OnText | None = None) -> ChatResult:
        """One model call (streamed when `request.stream`: each piece of text is handed to
        `on_text` as it arrives); retried as the module says; NodeError on failure."""
        ...


def _body_message(body: Any) -> str:
    """The provider's own error message from an error body ({"error": {"message"}} or
    {"message"})."""
    if isinstance(body, dict):
        inner = body.get("error", body)
        if isinstance(inner, dict) and isinstance(inner.get("message"), str):
            return inner["message"]
        if isinstance(body.get("message"), str):
            return body["message"]
    return ""


def retry_after(headers: Any, *, now: float | None = None) -> float | None:
    """Seconds to wait from `retry-after-ms`, or `Retry-After` as delta seconds or as an HTTP
    date (RFC 9110; a date in the past: 0). None when absent or unreadable."""
    if headers is None:
        return None
    for name, scale in (("retry-after-ms", 0.001), ("retry-after", 1.0)):
        value = headers.get(name)
        if value is None:
            continue
        try:
            seconds = float(value) * scale
        except ValueError:
            seconds = _seconds_until(value, now) if name == "retry-after" else -1
        if seconds >= 0 and math.isfinite(seconds):
            return seconds
    return None


def _seconds_until(date: str, now: float | None) -> float:
    try:
        when = email.utils.parsedate_to_datetime(date)
    except (TypeError, ValueError, IndexError):
        return -1
    if when.tzinfo is None:  # "-0000": the RFC's UTC
        when = when.replace(tzinfo=dt.UTC)
    return max(0.0, when.timestamp() - (time.time() if now is None else now))


class CallFailed(Exception):
    """A failed call: the message for the user, whether to try again, the wait asked for."""

    def __init__(self, message: str, *, retryable: bool, retry_after: float | None = None):
        super().__init__(message)
        self.message, self.retryable, self.retry_after = message, retryable, retry_after


# How providers say the prompt does not fit the model's context window, and the numbers in it:
# OpenAI and compatible servers (vLLM, LiteLLM...): "This model's maximum context length is
# 8192 tokens. However, your messages resulted in 9100 tokens..." (code
# context_length_exceeded); Anthropic: "prompt is too long: 210000 tokens > 200000 maximum".
_CONTEXT_LIMIT = (re.compile(r"maximum context length is (?P<limit>\d+)", re.I),
                  re.compile(r"(?P<used>\d+) tokens? > (?P<limit>\d+) maximum", re.I),
                  re.compile(r"context (?:window|length)[^.\d]*?(?P<limit>\d+) tokens", re.I))
_CONTEXT_USED = re.compile(r"resulted in (?P<used>\d+) tokens|requested (?P<req>\d+) tokens",
                           re.I)
_CONTEXT_WORDS = ("context_length_exceeded", "maximum context length", "prompt is too long",
                  "context window", "context length")


def _context_too_long(provider: str, status: int, body: Any, reason: str) -> str | None:
    """A clear message for a prompt over the model's context window (None: another error)."""
    inner = body.get("error", body) if isinstance(body, dict) else None
    code = str(inner.get("code") or "") if isinstance(inner, dict) else ""
    text = f"{code} {reason}".lower()
    if status not in (400, 413) or not any(word in text for word in _CONTEXT_WORDS):
        return None
    limit = used = None
    for pattern in _CONTEXT_LIMIT:
        found = pattern.search(reason)
        if found:
            limit, used = found.group("limit"), found.groupdict().get("used")
            break
    if used is None and (found := _CONTEXT_USED.search(reason)):
        used = found.group("used") or found.group("req")
    size = (f"the model's limit is {int(limit):,} tokens" if limit else
            "the provider named no limit")
    sent = f", this request needs {int(used):,}" if used else ""
    return (f"the prompt is too long for the model's context window ({size}{sent}): send "
            f"fewer or shorter messages (a smaller memory window, fewer retrieved documents), "
            f"lower max_tokens, or pick a model with a larger context. {provider} said: "
            f"{reason}")


def describe_error(exc: Exception, *, provider: str, timeout: float) -> CallFailed | None:
    """An SDK error as a CallFailed (None: not an SDK error)."""
    status_errors, timeouts, connection_errors = _sdk_errors()
    stream_timeouts, stream_errors = _stream_errors()
    if isinstance(exc, status_errors):
        error: Any = exc  # openai.APIStatusError or anthropic.APIStatusError
        status = error.status_code
        reason = _body_message(error.body) or error.response.reason_phrase or "no message"
        too_long = _context_too_long(provider, status, error.body, reason)
        if too_long:
            return CallFailed(too_long, retryable=False)
        retryable = status in RETRYABLE_STATUS or status >= 500
        hint = " (check the credential's API key)" if status == 401 else ""
        return CallFailed(f"{provider} answered {status}: {reason}{hint}", retryable=retryable,
                          retry_after=retry_after(error.response.headers) if retryable else None)
    if isinstance(exc, (*timeouts, *stream_timeouts)):  # a timeout is a connection error
        return CallFailed(f"{provider} did not answer within {timeout:g}s (the node's timeout)",
                          retryable=False)
    if isinstance(exc, connection_errors):
        cause = exc.__cause__ or exc.__context__
        detail = str(cause) if cause is not None and str(cause) else str(exc)
        refused = detail.startswith("refused") or "refused:" in detail
        return CallFailed(f"could not reach {provider}: {detail}", retryable=not refused)
    if isinstance(exc, stream_errors):  # part of the answer was streamed: not tried again
        return CallFailed(f"the connection to {provider} broke while the answer streamed: "
                          f"{exc or type(exc).__name__}", retryable=False)
    return None


class BaseProvider:
    """The retry loop and error mapping; subclasses implement `_call`."""

    name = ""

    def __init__(self, *, api_key: str, timeout: float, retries: int = 2,
                 sleep: Callable[[float], None] = time.sleep):
        self._api_key = api_key
        self.timeout = timeout
        self.retries = retries
        self._sleep = sleep

    def _call(self, request: ChatRequest, on_text: OnText | None) -> ChatResult:
        raise NotImplementedError

    def scrub(self, text: str) -> str:
        """`text` without the API key (a provider may echo part of a wrong key; the whole
        key never leaves here)."""
        return text.replace(self._api_key, "***") if self._api_key else text

    def complete(self, request: ChatRequest, on_text: OnText | None = None) -> ChatResult:
        delay = BACKOFF[0]
        for attempt in range(self.retries + 1):
            try:
                return self._call(request, on_text)
            except NodeError:
                raise
            except Exception as exc:
                failed = describe_error(exc, provider=self.name, timeout=self.timeout)
                if failed is None:
                    raise
            message = self.scrub(failed.message)
            if not failed.retryable or attempt == self.retries:
                tries = f" (after {attempt + 1} attempts)" if attempt else ""
                raise NodeError(message + tries) from None
            wait = failed.retry_after if failed.retry_after is not None else delay
            if wait > RETRY_AFTER_CAP:
                raise NodeError(f"{message}; it asks to retry after {wait:g}s, longer than the "
                                f"{RETRY_AFTER_CAP:g}s a node waits (use the node's retry "
                                f"settings for longer waits)") from None
            self._sleep(wait)
            delay = min(delay * 2, BACKOFF[1])
        raise AssertionError("unreachable")  # the loop returns or raises
