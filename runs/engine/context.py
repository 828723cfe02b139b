"""The engine's side of the node contract (`nodes.context.NodeContext`): expression
evaluation, outbound HTTP, LLM clients, the code sandbox, logging, and the run's services for
nodes that reach back into the engine.

    ctx = EngineContext(node_id="n", node_type="http", names={"input": ...},
                        services=RunServices(...))   # services: the executor's, or None

Nodes act only through this object, so they stay free of models and easy to test.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

import httpx

from nodes.base import NodeError
from nodes.context import (
    ConversationMemory,
    Credential,
    FileRef,
    ModelUsage,
    ObjectStore,
    SubworkflowOutcome,
    VectorStore,
    WorkflowInfo,
)
from nodes.context import NodeContext as NodeContract

from . import connections, object_stores, outbound
from .expressions import ExpressionError, evaluate
from .memory_buffer import MemoryBuffer
from .metering import UsageMeter
from .resume_tokens import resume_url
from .sandbox_process import CodeError, run_code

if TYPE_CHECKING:
    import anthropic
    import openai

logger = logging.getLogger("wfaib.nodes")


class FileAccess(Protocol):
    """The run's file store as the context reaches it (runs.engine.files.RunFileAccess)."""

    def save(self, name: str, data: bytes, content_type: str) -> FileRef: ...

    def open(self, ref: Any) -> bytes: ...


@dataclass(frozen=True)
class RunServices:
    """What the executor hands to a node that reaches back into the run (inline_only or
    suspends). `credential` is an optional lookup; runs pass theirs to the context."""

    respond: Callable[[dict[str, Any]], bool]
    run_subworkflow: Callable[[int, Any], SubworkflowOutcome]
    resume_token: Callable[[], str]  # made when a node asks (an HMAC): only wait nodes do
    depth: int = 0
    credential: Callable[[int | str], Credential] | None = None
    describe_workflow: Callable[[int], WorkflowInfo] | None = None


class EngineContext:
    """Implements `nodes.context.NodeContext` for a node running inside a run (or alone)."""

    def __init__(
        self,
        *,
        node_id: str,
        node_type: str,
        names: Mapping[str, Any],
        run_id: int | None = None,
        attempt: int = 1,
        expression_timeout: float = 2.0,
        services: RunServices | None = None,
        scope: str = "",
        tenant: Any = None,
        credentials: Callable[[int | str], Credential] | None = None,
        files: FileAccess | None = None,
        meter: UsageMeter | None = None,
        project_id: int | None = None,
        memory_buffer: MemoryBuffer | None = None,
    ):
        self.node_id = node_id
        self.node_type = node_type
        self._names = names
        self.run_id = run_id
        self.attempt = attempt
        self.expression_timeout = expression_timeout
        # Absent when a node is run on its own or does not declare that it reaches back.
        self.services = services
        self.scope = scope  # "" at the top level, "loop1[3]" inside a loop iteration
        self.tenant = tenant  # whose share of the code workers this node uses (runs.tenancy)
        # Looks up a credential by id or name for this run's project (None: not wired here).
        self.credentials = credentials
        # The run's file store (None: files are not available, e.g. a node run on its own).
        self.files = files
        # Model calls: budgets to check, usage to record, partial output (runs.engine.metering).
        self.meter = meter if meter is not None else UsageMeter()
        self.project_id = project_id  # whose memory and vectors the node sees (ai/)
        # Conversation memory loaded by the engine for a node in its own thread (memory_field).
        self.memory_buffer = memory_buffer

    @property
    def names(self) -> Mapping[str, Any]:
        return self._names

    @property
    def input(self) -> Any:
        return self._names.get("input")

    def _services(self, what: str) -> RunServices:
        if self.services is None:
            raise NodeError(f"this node needs the engine's {what}, which is not available "
                            f"here (is it running outside a run, or does its type not declare "
                            f"inline_only?)")
        return self.services

    # -- evaluation and code ---------------------------------------------------------------
    def evaluate(self, expression: str, extra: Mapping[str, Any] | None = None) -> Any:
        names = {**self._names, **extra} if extra else self._names
        try:
            return evaluate(expression, names, timeout=self.expression_timeout)
        except ExpressionError as exc:
            raise NodeError(str(exc)) from None

    # -- the project's AI data -------------------------------------------------------------
    def _project(self, what: str) -> int:
        if self.project_id is None:
            raise NodeError(f"{what} belongs to a project: it is only available in a run")
        return self.project_id

    @property
    def memory(self) -> ConversationMemory:
        if self.memory_buffer is not None:
            return self.memory_buffer
        from ai.memory import ProjectMemory

        return ProjectMemory(self._project("conversation memory"))

    @property
    def vectors(self) -> VectorStore:
        from ai.vectors import ProjectVectors

        return ProjectVectors(self._project("the vector store"))

    def run_code(self, code: str, names: Mapping[str, Any], *,
                 timeout: float | None = None, language: str = "python") -> Any:
        try:
            return run_code(code, dict(names), timeout=timeout, tenant=self.tenant,
                            language=language)
        except CodeError as exc:
            raise NodeError(str(exc)) from None

    # -- the outside world -----------------------------------------------------------------
    def http_request(self, method: str, url: str, **kwargs: Any) -> httpx.Response:
        try:
            return outbound.request(method, url, **kwargs)
        except httpx.TimeoutException:
            raise NodeError(f"{method} {url} timed out after {kwargs.get('timeout')}s") from None
        except httpx.HTTPError as exc:
            raise NodeError(f"{method} {url} failed: {exc}") from None

    def outbound_address(self, host: str, port: int) -> str:
        return connections.outbound_address(host, port)

    def local_database_file(self, path: str) -> str:
        return connections.local_database_file(path)

    def _guarded_base_url(self, base_url: str | None) -> None:
        refused = outbound.refusal_for(base_url) if base_url else None
        if refused:  # checked here for a clear message; the transport checks again
            raise NodeError(f"base_url {base_url}: {refused}")

    def llm_client(self, *, base_url: str | None, api_key: str | None,
                   timeout: float, organization: str | None = None) -> openai.OpenAI:
        import openai

        key = api_key or os.environ.get("OPENAI_API_KEY")
        if not key:
            raise NodeError("no API key: set the node's credential (or api_key), or "
                            "OPENAI_API_KEY")
        self._guarded_base_url(base_url)
        return openai.OpenAI(
            api_key=key,
            base_url=base_url,
            organization=organization,
            timeout=timeout,
            max_retries=0,
            http_client=outbound.llm_http_client(timeout),
        )

    def anthropic_client(self, *, base_url: str | None, api_key: str | None,
                         timeout: float) -> anthropic.Anthropic:
        import anthropic

        from . import outbound_httpx2  # httpx2 is the anthropic SDK's alone: loaded with it

        key = api_key or os.environ.get("ANTHROPIC_API_KEY")
        if not key:
            raise NodeError("no API key: set the node's credential (or api_key), or "
                            "ANTHROPIC_API_KEY")
        self._guarded_base_url(base_url)
        return anthropic.Anthropic(
            api_key=key,
            base_url=base_url,
            timeout=timeout,
            max_retries=0,
            http_client=outbound_httpx2.llm_http_client2(timeout),
        )

    # -- model calls ---------------------------------------------------------------------
    def check_budget(self, *, model: str, prompt_tokens: int, completion_tokens: int) -> None:
        self.meter.check(model=model, prompt_tokens=prompt_tokens,
                         completion_tokens=completion_tokens)

    def record_usage(self, usage: ModelUsage) -> ModelUsage:
        return self.meter.record(usage)

    def publish_partial(self, text: str) -> None:
        self.meter.partial(text)

    def credential(self, credential_id: int | str, *,
                   kinds: Sequence[str] = ()) -> Credential:
        lookup = self.credentials or (self.services.credential if self.services else None)
        if lookup is None:
            raise NodeError(f"credential {credential_id!r}: credentials are not available "
                            f"here (the node is running outside a run)")
        found = lookup(credential_id)
        if kinds and found["kind"] not in kinds:
            raise NodeError(f"credential {found['name']!r} is of kind {found['kind']!r}; this "
                            f"node needs one of: {', '.join(kinds)}")
        return found

    # -- files -----------------------------------------------------------------------------
    def _files(self) -> FileAccess:
        if self.files is None:
            raise NodeError("files are not available here (the node is running outside a run)")
        return self.files

    def save_file(self, name: str, data: bytes, content_type: str) -> FileRef:
        return self._files().save(name, data, content_type)

    def open_file(self, ref: Any) -> bytes:
        return self._files().open(ref)

    def object_store(self, backend: str, *, root: str = "",
                     credential: Credential | None = None) -> ObjectStore:
        return object_stores.object_store(backend, root=root, credential=credential)

    # -- the run ---------------------------------------------------------------------------
    def respond(self, *, status: int, headers: Mapping[str, str], body: Any) -> bool:
        answer = {"status": status, "headers": dict(headers), "body": body}
        scrub = getattr(self.credentials, "scrub", None)  # stored with the run: no secret
        return self._services("respond service").respond(scrub(answer) if scrub else answer)

    def run_subworkflow(self, workflow_id: int, input: Any) -> SubworkflowOutcome:
        return self._services("sub-workflow service").run_subworkflow(workflow_id, input)

    def describe_workflow(self, workflow_id: int) -> WorkflowInfo:
        describe = self._services("workflow lookup").describe_workflow
        if describe is None:
            raise NodeError("other workflows cannot be looked up here")
        return describe(workflow_id)

    def resume_token(self) -> str:
        return self._services("resume token").resume_token()

    def resume_url(self) -> str:
        return resume_url(self._services("resume URL").resume_token())

    def log(self, message: str, *args: Any) -> None:
        scrub = getattr(self.credentials, "scrub", None)  # the run's known secrets
        if scrub is not None:
            message = scrub(message % args if args else message)
            args = ()
            message = message.replace("%", "%%")
        logger.info("[run %s node %s] " + message, self.run_id, self.node_id, *args)


# The name this class had before the contract moved to `nodes.context`.
NodeContext = EngineContext

if TYPE_CHECKING:  # mypy: the engine's context fulfils the node contract
    _fulfils: NodeContract = EngineContext(node_id="", node_type="", names={})
