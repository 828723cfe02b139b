"""The node contract's other half: what a node may ask of the engine while it runs.

A node's `run(ctx, config, input)` receives an object satisfying `NodeContext`; the engine
implements it (`runs.engine.context.EngineContext`), and a test may hand in its own. Nodes act
only through it: they import no models and no engine modules.

    def run(self, ctx: NodeContext, config: MyConfig, input: Any) -> Any:
        response = ctx.http_request("GET", config.url, timeout=10)
        return ctx.evaluate("input.total * 2", {"input": response.json()})

Methods that reach back into the run (respond, run_subworkflow, resume_token, resume_url)
are only available to node types that declare `inline_only` (or `suspends`); elsewhere they
raise `NodeError`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, Protocol, TypedDict

if TYPE_CHECKING:
    import anthropic
    import httpx
    import openai


class SubworkflowOutcome(TypedDict):
    """How a child run ended, as `NodeContext.run_subworkflow` reports it."""

    run_id: int
    workflow: str
    status: str  # "succeeded", "failed", "cancelled", "waiting"
    result: Any
    error: str | None
    error_node_id: str | None


class WorkflowInfo(TypedDict):
    """Another workflow of the project as a tool-calling node sees it
    (`NodeContext.describe_workflow`): its trigger's declared `input_schema` (None: any)."""

    id: int
    name: str
    description: str
    input_schema: dict[str, Any] | None


class Credential(TypedDict):
    """A stored secret as a node receives it."""

    id: int
    name: str
    kind: str
    data: dict[str, Any]


class FileRef(TypedDict):
    """A file of the run as nodes pass it in JSON: its bytes stay in the file store."""

    name: str
    size: int
    content_type: str
    key: str


class StoredObject(TypedDict):
    """One entry of `ObjectStore.list`."""

    key: str
    size: int
    modified: str  # ISO 8601


class ObjectStore(Protocol):
    """A place a storage node reads and writes (`NodeContext.object_store`): keys are relative
    paths ("in/report.pdf"); a key escaping the store ("..", absolute, a symlink out of a
    local root) raises NodeError, as does a missing object."""

    def read(self, key: str) -> tuple[bytes, str]:
        """The object's bytes and content type."""
        ...

    def write(self, key: str, data: bytes, content_type: str) -> None: ...

    def list(self, prefix: str, limit: int) -> tuple[list[StoredObject], bool]:
        """Up to `limit` objects under `prefix` (recursively), and whether there are more."""
        ...

    def delete(self, key: str) -> bool:
        """Whether there was an object to delete."""
        ...
class ModelUsage(TypedDict):
    """One model call's usage as a node reports it (`record_usage`); `cost` is the estimate in
    USD the engine fills in from its price table (None: the model has no price)."""

    provider: str  # "openai", "anthropic"
    model: str
    prompt_tokens: int  # including cached_tokens
    completion_tokens: int
    cached_tokens: int
    cost: float | None


class ConversationMemory(Protocol):
    """Conversation memory of the run's project, keyed by session id (ai/memory.py)."""

    def load(self, session_id: str, *, window: int = 20,
             max_tokens: int | None = None) -> list[dict[str, str]]: ...

    def append(self, session_id: str, messages: list[dict[str, Any]]) -> int: ...

    def clear(self, session_id: str) -> int: ...


class VectorStore(Protocol):
    """The vector store of the run's project, by collection (ai/vectors.py)."""

    def insert(self, collection: str, items: list[dict[str, Any]]) -> list[str]: ...

    def query(self, collection: str, vector: list[float], *, top_k: int = 4,
              where: dict[str, Any] | None = None) -> list[dict[str, Any]]: ...

    def delete(self, collection: str, *, ids: list[str] | None = None,
               where: dict[str, Any] | None = None) -> int: ...


class NodeContext(Protocol):
    """What a running node sees. Attributes describe where it runs; methods are services."""

    node_id: str
    node_type: str
    run_id: int | None
    attempt: int  # 1 for the first attempt, 2 for the first retry, ...
    scope: str  # "" at the top level, "loop1[3]" inside a loop iteration

    @property
    def names(self) -> Mapping[str, Any]:
        """The expression names: input, trigger, nodes, run, now."""
        ...

    @property
    def input(self) -> Any: ...

    def evaluate(self, expression: str, extra: Mapping[str, Any] | None = None) -> Any:
        """Evaluate an expression in the sandbox (with `extra` names); NodeError on failure."""
        ...

    def http_request(self, method: str, url: str, **kwargs: Any) -> httpx.Response:
        """An outbound HTTP call through the address guard (httpx keyword arguments)."""
        ...

    def outbound_address(self, host: str, port: int) -> str:
        """The IP address a node may connect to for `host`:`port` (a database, SMTP or IMAP
        server), under the same address policy as HTTP (WFAIB_HTTP_ALLOW opens internal
        hosts); NodeError naming the reason when it is refused or does not resolve."""
        ...

    def local_database_file(self, path: str) -> str:
        """The absolute, resolved path of a SQLite file a node may open: inside one of the
        folders of WFAIB_SQLITE_DIRS (a relative path is taken inside the first); NodeError
        otherwise."""
        ...

    def llm_client(self, *, base_url: str | None, api_key: str | None,
                   timeout: float, organization: str | None = None) -> openai.OpenAI:
        """An OpenAI-compatible client whose transport goes through the address guard."""
        ...

    def anthropic_client(self, *, base_url: str | None, api_key: str | None,
                         timeout: float) -> anthropic.Anthropic:
        """An Anthropic client whose transport goes through the address guard."""
        ...

    # -- model calls: budgets, the cost ledger, streamed output (nodes/ai uses these) -------
    def check_budget(self, *, model: str, prompt_tokens: int, completion_tokens: int) -> None:
        """Before a model call: NodeError naming the budget when this call (its estimated
        prompt tokens plus at most `completion_tokens`) would take the workflow's or project's
        monthly token or cost budget past its limit. Nothing to check: returns."""
        ...

    def record_usage(self, usage: ModelUsage) -> ModelUsage:
        """After a model call: put its usage in the cost ledger (on this node's RunLog and the
        run's totals); returns it with the estimated `cost` filled in."""
        ...

    def publish_partial(self, text: str) -> None:
        """The output so far of a node still at work (a streamed answer), for the run viewer;
        throttled by the engine, dropped when the node ends (its output is stored then)."""
        ...

    # -- data the project keeps for AI nodes (memory, vectors) -----------------------------
    @property
    def memory(self) -> ConversationMemory:
        """Conversation memory of the run's project; NodeError outside a project's run."""
        ...

    @property
    def vectors(self) -> VectorStore:
        """The vector store of the run's project; NodeError outside a project's run."""
        ...

    def run_code(self, code: str, names: Mapping[str, Any], *,
                 timeout: float | None = None, language: str = "python") -> Any:
        """Run multi-line sandboxed Python (or JavaScript, `language="javascript"`) in a
        worker process; its result, or NodeError."""
        ...

    def respond(self, *, status: int, headers: Mapping[str, str], body: Any) -> bool:
        """Set the HTTP answer of the webhook call that started the run (the first respond
        of a run wins; returns whether this one was stored)."""
        ...

    def run_subworkflow(self, workflow_id: int, input: Any) -> SubworkflowOutcome:
        """Run another workflow of the same owner now, in this thread, and report how it
        ended."""
        ...

    def describe_workflow(self, workflow_id: int) -> WorkflowInfo:
        """Another workflow of the same project (name, description, its trigger's input
        schema), for an agent offering it as a tool; NodeError when there is none."""
        ...

    def resume_token(self) -> str:
        """The token that resumes this node's wait (POST /api/resume/<token>)."""
        ...

    def resume_url(self) -> str:
        """The full URL that resumes this node's wait."""
        ...

    def credential(self, credential_id: int | str, *,
                   kinds: Sequence[str] = ()) -> Credential:
        """A stored credential the workflow's project may use (its own or shared with it), by
        id or name, with its secrets decrypted and external values resolved. NodeError when
        there is none, or when `kinds` is given and its kind is not one of them."""
        ...

    def save_file(self, name: str, data: bytes, content_type: str) -> FileRef:
        """Keep `data` as a file of this run (deleted with it); its reference. NodeError over
        WFAIB_FILE_MAX_SIZE or outside a stored run."""
        ...

    def open_file(self, ref: Any) -> bytes:
        """The bytes of a file reference of a run of this workflow's project; NodeError for
        anything else (not a reference, deleted, another project's)."""
        ...

    def object_store(self, backend: str, *, root: str = "",
                     credential: Credential | None = None) -> ObjectStore:
        """A storage node's store: "local" (a folder `root` under WFAIB_STORAGE_ROOT) or "s3"
        (an `s3` credential's bucket, its endpoint under the outbound-address guard)."""
        ...

    def log(self, message: str, *args: Any) -> None: ...
