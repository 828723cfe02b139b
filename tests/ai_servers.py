"""The model server of tests/llm_servers.py grown for agents and retrieval: scripted tool calls
(OpenAI `tool_calls`, Anthropic `tool_use` blocks, in plain answers and in SSE streams) and
OpenAI's embeddings endpoint (`POST /v1/embeddings`).

    server = AgentServer().start()
    server.call_tools(("get_weather", {"city": "Paris"}))   # the next answer asks for a tool
    server.reply("It is sunny.")                             # the one after answers
    server.embed_with = lambda text: [...]                   # vectors for /v1/embeddings

Embeddings default to a deterministic bag-of-letters vector (DIMENSIONS long), so texts that
share words come out close; they consume scripted failures (`fail`), never scripted replies.
"""

from __future__ import annotations

import json
import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from typing import Any

from tests.llm_servers import ModelServer, Reply
from tests.servers import Request

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
        from tests.llm_servers import Failure
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
