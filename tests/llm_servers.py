"""A model server on 127.0.0.1 speaking OpenAI's chat completions (`POST /v1/chat/completions`)
and Anthropic's messages (`POST /v1/messages`) wire formats, answers and SSE streams, for tests
that drive the real openai and anthropic SDKs.

    server = ModelServer().start()
    server.reply("Hi there", prompt_tokens=12, completion_tokens=3, cached_tokens=4)
    server.fail(429, "slow down", headers={"Retry-After": "0"})
    server.gate = threading.Event()   # a stream pauses after its first piece until set
    server.steps = threading.Semaphore(0)  # ... after each text piece, until released

Scripted answers are used in order, one per request; with none left the server echoes the last
user message ("echo: <text>" plus " [system: <system>]"). Every usage it reports is appended to
`reported` so tests can compare the ledger with what "the provider" billed. Header names are
lower-cased in `requests`. A wrong key answers 401 in the provider's own error shape.
`AgentServer` (below) adds `call_tools` and `/v1/embeddings` for the agent and retrieval
nodes. (A plain scriptable HTTP server: tests/servers.py.)
"""

from __future__ import annotations

import json
import math
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from tests.servers import Request

OPENAI_PATH = "/v1/chat/completions"
ANTHROPIC_PATH = "/v1/messages"


@dataclass
class Reply:
    text: str
    prompt_tokens: int | None = None
    completion_tokens: int | None = None
    cached_tokens: int = 0
    tool_calls: list[dict[str, Any]] = field(default_factory=list)  # {id, name, arguments}


@dataclass
class Failure:
    status: int
    message: str
    headers: dict[str, str] = field(default_factory=dict)
    code: str | None = None  # OpenAI's error code (e.g. context_length_exceeded)


def _text_of(content: Any) -> str:
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "".join(b.get("text", "") for b in content if isinstance(b, dict))
    return ""


class ModelServer:
    def __init__(self, *, api_key: str = "sk-test") -> None:
        self.api_key = api_key
        self.script: deque[Reply | Failure] = deque()
        self.requests: list[Request] = []
        self.reported: list[dict[str, int]] = []
        self.gate: threading.Event | None = None
        self.steps: threading.Semaphore | None = None
        self.lock = threading.Lock()
        server = self

        class _Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                headers = {k.lower(): v for k, v in self.headers.items()}
                req = Request("POST", self.path, headers, self.rfile.read(length))
                with server.lock:
                    server.requests.append(req)
                try:
                    server.handle(self, req)
                except (BrokenPipeError, ConnectionResetError):
                    pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
        self.httpd.daemon_threads = True
        self.port = self.httpd.server_address[1]
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    # -- the test's side ---------------------------------------------------------------------
    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> ModelServer:
        self.thread.start()
        return self

    def stop(self) -> None:
        if self.gate is not None:
            self.gate.set()
        if self.steps is not None:
            self.steps.release(1000)
        self.httpd.shutdown()
        self.httpd.server_close()

    def reply(self, text: str, **usage: Any) -> None:
        """The next answer; `tool_calls=[{"id", "name", "arguments"}]` asks for tools."""
        self.script.append(Reply(text, **usage))

    def fail(self, status: int, message: str, headers: dict[str, str] | None = None,
             code: str | None = None) -> None:
        self.script.append(Failure(status, message, headers or {}, code))

    def count(self, path: str) -> int:
        with self.lock:
            return sum(1 for r in self.requests if r.path.split("?", 1)[0] == path)

    # -- serving -----------------------------------------------------------------------------
    def handle(self, out: BaseHTTPRequestHandler, req: Request) -> None:
        path = req.path.split("?", 1)[0]
        anthropic = path == ANTHROPIC_PATH
        if path not in (OPENAI_PATH, ANTHROPIC_PATH):
            return self._send(out, 404, {"error": {"message": "not found"}})
        bearer = (req.headers.get("authorization") or "").removeprefix("Bearer ")
        # Anthropic's SDK sends its key as x-api-key (1.x) or as a bearer token (2.x).
        key = (req.headers.get("x-api-key") or bearer) if anthropic else bearer
        if key != self.api_key:
            # Echoing the wrong key, as some providers do: the node must not repeat it.
            return self._error(out, anthropic, Failure(401, f"Incorrect API key provided: "
                                                            f"{key}"))
        step = self.script.popleft() if self.script else None
        if isinstance(step, Failure):
            return self._error(out, anthropic, step)
        body = req.json()
        reply = step or self._echo(body, anthropic)
        usage = self._usage(body, reply)
        with self.lock:
            self.reported.append(usage)
        if body.get("stream"):
            events = (self._anthropic_events if anthropic else self._openai_events)(
                body, reply, usage)
            return self._stream(out, events)
        answer = (self._anthropic_answer if anthropic else self._openai_answer)(
            body, reply, usage)
        return self._send(out, 200, answer)

    def _echo(self, body: dict[str, Any], anthropic: bool) -> Reply:
        messages = body["messages"]
        user = next(_text_of(m["content"]) for m in reversed(messages) if m["role"] == "user")
        system = body.get("system", "") if anthropic else next(
            (m["content"] for m in messages if m["role"] == "system"), "")
        return Reply(f"echo: {user}" + (f" [system: {system}]" if system else ""))

    def _usage(self, body: dict[str, Any], reply: Reply) -> dict[str, int]:
        words = sum(len(_text_of(m.get("content")).split()) for m in body["messages"])
        words += len(str(body.get("system", "")).split())
        return {"prompt_tokens": reply.prompt_tokens if reply.prompt_tokens is not None
                else words,
                "completion_tokens": reply.completion_tokens
                if reply.completion_tokens is not None else len(reply.text.split()),
                "cached_tokens": reply.cached_tokens}

    @staticmethod
    def _pieces(text: str) -> list[str]:
        words = text.split(" ")
        return [w + (" " if i < len(words) - 1 else "") for i, w in enumerate(words)]

    def _openai_answer(self, body: dict[str, Any], reply: Reply,
                       usage: dict[str, int]) -> dict[str, Any]:
        return {
            "id": "chatcmpl-test", "object": "chat.completion", "created": int(time.time()),
            "model": body["model"],
            "choices": [{"index": 0, "finish_reason": "tool_calls" if reply.tool_calls
                         else "stop", "message": {
                             "role": "assistant", "content": reply.text,
                             **({"tool_calls": [
                                 {"id": c["id"], "type": "function", "function": {
                                     "name": c["name"],
                                     "arguments": json.dumps(c["arguments"])}}
                                 for c in reply.tool_calls]} if reply.tool_calls else {})}}],
            "usage": self._openai_usage(usage),
        }

    @staticmethod
    def _openai_usage(usage: dict[str, int]) -> dict[str, Any]:
        return {"prompt_tokens": usage["prompt_tokens"],
                "completion_tokens": usage["completion_tokens"],
                "total_tokens": usage["prompt_tokens"] + usage["completion_tokens"],
                "prompt_tokens_details": {"cached_tokens": usage["cached_tokens"]}}

    def _openai_events(self, body: dict[str, Any], reply: Reply,
                       usage: dict[str, int]) -> list[bytes]:
        base = {"id": "chatcmpl-test", "object": "chat.completion.chunk",
                "created": int(time.time()), "model": body["model"]}
        events = [{**base, "choices": [{"index": 0, "delta": {"role": "assistant",
                                                              "content": piece},
                                        "finish_reason": None}]}
                  for piece in self._pieces(reply.text)]
        for index, call in enumerate(reply.tool_calls):  # arguments in two pieces
            arguments = json.dumps(call["arguments"])
            half = len(arguments) // 2
            for i, piece in enumerate((arguments[:half], arguments[half:])):
                events.append({**base, "choices": [{"index": 0, "finish_reason": None,
                                                    "delta": {"tool_calls": [{
                    "index": index, **({"id": call["id"], "type": "function"} if not i else {}),
                    "function": {"name": call["name"] if not i else None,
                                 "arguments": piece}}]}}]})
        events.append({**base, "choices": [{"index": 0, "delta": {}, "finish_reason":
                                            "tool_calls" if reply.tool_calls else "stop"}]})
        if (body.get("stream_options") or {}).get("include_usage"):
            events.append({**base, "choices": [], "usage": self._openai_usage(usage)})
        return [f"data: {json.dumps(e)}\n\n".encode() for e in events] + [b"data: [DONE]\n\n"]

    def _anthropic_answer(self, body: dict[str, Any], reply: Reply,
                          usage: dict[str, int]) -> dict[str, Any]:
        return {"id": "msg_test", "type": "message", "role": "assistant",
                "model": body["model"],
                "content": [{"type": "text", "text": reply.text}] + [
                    {"type": "tool_use", "id": c["id"], "name": c["name"],
                     "input": c["arguments"]} for c in reply.tool_calls],
                "stop_reason": "tool_use" if reply.tool_calls else "end_turn",
                "stop_sequence": None,
                "usage": self._anthropic_usage(usage)}

    @staticmethod
    def _anthropic_usage(usage: dict[str, int]) -> dict[str, int]:
        # Anthropic counts cache reads apart from input_tokens.
        return {"input_tokens": usage["prompt_tokens"] - usage["cached_tokens"],
                "output_tokens": usage["completion_tokens"],
                "cache_read_input_tokens": usage["cached_tokens"],
                "cache_creation_input_tokens": 0}

    def _anthropic_events(self, body: dict[str, Any], reply: Reply,
                          usage: dict[str, int]) -> list[bytes]:
        wire = self._anthropic_usage(usage)
        start = {"type": "message_start", "message": {
            "id": "msg_test", "type": "message", "role": "assistant", "content": [],
            "model": body["model"], "stop_reason": None, "stop_sequence": None,
            "usage": {**wire, "output_tokens": 1}}}
        events: list[dict[str, Any]] = [
            start, {"type": "content_block_start", "index": 0,
                    "content_block": {"type": "text", "text": ""}}]
        events += [{"type": "content_block_delta", "index": 0,
                    "delta": {"type": "text_delta", "text": piece}}
                   for piece in self._pieces(reply.text)]
        events.append({"type": "content_block_stop", "index": 0})
        for index, call in enumerate(reply.tool_calls, 1):
            arguments = json.dumps(call["arguments"])
            events += [{"type": "content_block_start", "index": index, "content_block": {
                "type": "tool_use", "id": call["id"], "name": call["name"], "input": {}}},
                {"type": "content_block_delta", "index": index, "delta": {
                    "type": "input_json_delta", "partial_json": arguments[:5]}},
                {"type": "content_block_delta", "index": index, "delta": {
                    "type": "input_json_delta", "partial_json": arguments[5:]}},
                {"type": "content_block_stop", "index": index}]
        stop = "tool_use" if reply.tool_calls else "end_turn"
        events += [{"type": "message_delta", "delta": {"stop_reason": stop,
                                                       "stop_sequence": None},
                    "usage": {"output_tokens": wire["output_tokens"]}},
                   {"type": "message_stop"}]
        return [f"event: {e['type']}\ndata: {json.dumps(e)}\n\n".encode() for e in events]

    def _error(self, out: BaseHTTPRequestHandler, anthropic: bool, failure: Failure) -> None:
        kind = {400: "invalid_request_error", 401: "authentication_error",
                429: "rate_limit_error"}.get(failure.status, "api_error")
        body = ({"type": "error", "error": {"type": kind, "message": failure.message}}
                if anthropic else
                {"error": {"message": failure.message, "type": kind, "code": failure.code}})
        self._send(out, failure.status, body, failure.headers)

    @staticmethod
    def _send(out: BaseHTTPRequestHandler, status: int, body: Any,
              headers: dict[str, str] | None = None) -> None:
        payload = json.dumps(body).encode()
        out.send_response(status)
        out.send_header("Content-Type", "application/json")
        for key, value in (headers or {}).items():
            out.send_header(key, value)
        out.send_header("Content-Length", str(len(payload)))
        out.end_headers()
        out.wfile.write(payload)

    def _stream(self, out: BaseHTTPRequestHandler, events: list[bytes]) -> None:
        """Server-sent events, written and flushed one by one (HTTP/1.0: the end of the body is
        the end of the connection); with a `gate`, the stream pauses after its first text
        piece until the test opens it; with `steps`, after each text piece until the test
        releases one more."""
        out.send_response(200)
        out.send_header("Content-Type", "text/event-stream")
        out.send_header("Cache-Control", "no-cache")
        out.end_headers()
        texts = 0
        for event in events:
            out.wfile.write(event)
            out.wfile.flush()
            if b'"content": "' in event or b'"text_delta"' in event:
                texts += 1
                if texts == 1 and self.gate is not None:
                    self.gate.wait(30)
                if self.steps is not None:
                    self.steps.acquire(timeout=30)

# -- agents and retrieval ------------------------------------------------------------------
# The model server grown for agents and retrieval: scripted tool calls (OpenAI `tool_calls`,
# Anthropic `tool_use` blocks, in plain answers and in SSE streams) and OpenAI's embeddings
# endpoint (`POST /v1/embeddings`).
#
#     server = AgentServer().start()
#     server.call_tools(("get_weather", {"city": "Paris"}))   # the next answer asks for a tool
#     server.reply("It is sunny.")                             # the one after answers
#     server.embed_with = lambda text: [...]                   # vectors for /v1/embeddings
#
# Embeddings default to a deterministic bag-of-letters vector (DIMENSIONS long), so texts that
# share words come out close; they consume scripted failures (`fail`), never scripted replies.

EMBEDDINGS_PATH = "/v1/embeddings"
DIMENSIONS = 8


@dataclass
class ToolReply(Reply):
    calls: list[tuple[str, dict[str, Any]]] = field(default_factory=list)


def letters_vector(text: str) -> list[float]:
    vector = [0.0] * DIMENSIONS
    for char in text.lower():
        if char.isalpha():
            vector[ord(char) % DIMENSIONS] += 1.0
    norm = math.sqrt(sum(v * v for v in vector)) or 1.0
    return [v / norm for v in vector]


class AgentServer(ModelServer):
    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.embed_with: Callable[[str], list[float]] = letters_vector
        self.embedded: list[str] = []

    def call_tools(self, *calls: tuple[str, dict[str, Any]], text: str = "",
                   **usage: int) -> None:
        self.script.append(ToolReply(text, calls=list(calls), **usage))

    def tool_results(self, index: int = -1) -> list[str]:
        """The tool results the agent sent in request `index` (both wire formats)."""
        body = self.requests[index].json()
        found = []
        for message in body["messages"]:
            if message["role"] == "tool":
                found.append(message["content"])
            elif isinstance(message.get("content"), list):
                found += [b["content"] for b in message["content"]
                          if b.get("type") == "tool_result"]
        return found

    # -- serving -----------------------------------------------------------------------------
    def handle(self, out: BaseHTTPRequestHandler, req: Request) -> None:
        if req.path.split("?", 1)[0] == EMBEDDINGS_PATH:
            return self._embeddings(out, req)
        return super().handle(out, req)

    def _embeddings(self, out: BaseHTTPRequestHandler, req: Request) -> None:
        if (req.headers.get("authorization") or "") != f"Bearer {self.api_key}":
            key = (req.headers.get("authorization") or "").removeprefix("Bearer ")
            return self._error(out, False, self._failure(401, f"Incorrect API key: {key}"))
        if self.script and not isinstance(self.script[0], Reply):  # a scripted failure
            return self._error(out, False, self.script.popleft())
        body = req.json()
        texts = body["input"] if isinstance(body["input"], list) else [body["input"]]
        self.embedded += texts
        tokens = sum(len(t.split()) for t in texts)
        with self.lock:
            self.reported.append({"prompt_tokens": tokens, "completion_tokens": 0,
                                  "cached_tokens": 0})
        self._send(out, 200, {
            "object": "list", "model": body["model"],
            "data": [{"object": "embedding", "index": i, "embedding": self.embed_with(t)}
                     for i, t in enumerate(texts)],
            "usage": {"prompt_tokens": tokens, "total_tokens": tokens}})
        return None

    @staticmethod
    def _failure(status: int, message: str) -> Any:
        return Failure(status, message)

    def _openai_answer(self, body: dict[str, Any], reply: Reply,
                       usage: dict[str, int]) -> dict[str, Any]:
        answer = super()._openai_answer(body, reply, usage)
        if isinstance(reply, ToolReply) and reply.calls:
            choice = answer["choices"][0]
            choice["finish_reason"] = "tool_calls"
            choice["message"]["content"] = reply.text or None
            choice["message"]["tool_calls"] = [
                {"id": f"call_{i}", "type": "function",
                 "function": {"name": name, "arguments": json.dumps(args)}}
                for i, (name, args) in enumerate(reply.calls)]
        return answer

    def _anthropic_answer(self, body: dict[str, Any], reply: Reply,
                          usage: dict[str, int]) -> dict[str, Any]:
        answer = super()._anthropic_answer(body, reply, usage)
        if isinstance(reply, ToolReply) and reply.calls:
            answer["stop_reason"] = "tool_use"
            answer["content"] = ([{"type": "text", "text": reply.text}] if reply.text else []) \
                + [{"type": "tool_use", "id": f"toolu_{i}", "name": name, "input": args}
                   for i, (name, args) in enumerate(reply.calls)]
        return answer

    def _openai_events(self, body: dict[str, Any], reply: Reply,
                       usage: dict[str, int]) -> list[bytes]:
        if not (isinstance(reply, ToolReply) and reply.calls):
            return super()._openai_events(body, reply, usage)
        base = {"id": "chatcmpl-test", "object": "chat.completion.chunk",
                "created": int(time.time()), "model": body["model"]}
        events = [{**base, "choices": [{"index": 0, "finish_reason": None, "delta": {
            "role": "assistant", "tool_calls": [{
                "index": i, "id": f"call_{i}", "type": "function",
                "function": {"name": name, "arguments": json.dumps(args)}}]}}]}
            for i, (name, args) in enumerate(reply.calls)]
        events.append({**base, "choices": [{"index": 0, "delta": {},
                                            "finish_reason": "tool_calls"}]})
        events.append({**base, "choices": [], "usage": self._openai_usage(usage)})
        return [f"data: {json.dumps(e)}\n\n".encode() for e in events] + [b"data: [DONE]\n\n"]
