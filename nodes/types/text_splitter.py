"""`text_splitter`: cuts long texts into chunks for embedding, recursively by separators
(paragraphs, lines, sentences, words, then characters) so chunks end at natural breaks, each
at most `chunk_size` characters, neighbours sharing up to `chunk_overlap` characters.

`input` is a text, a list of texts, or a list of objects holding `text_field` (e.g. files
read earlier: their other fields, such as the name, are copied into each chunk's metadata).
Output: {chunks: [{text, index, metadata}]}.
"""

from __future__ import annotations

from typing import Any

from pydantic import Field, model_validator

from ..base import NodeConfig, NodeError, NodeType, expression_field
from ..context import NodeContext
from ..registry import register

SEPARATORS = ["\n\n", "\n", ". ", " ", ""]
MAX_CHUNKS = 100_000


class TextSplitterConfig(NodeConfig):
    input: Any = Field("{{ input }}", json_schema_extra=expression_field(format="json"),
                       description="A text, a list of texts or of objects with text_field.")
    text_field: str = Field("text", min_length=1, max_length=100)
    chunk_size: int = Field(1000, ge=10, le=100_000, description="Most characters a chunk.")
    chunk_overlap: int = Field(100, ge=0, le=50_000,
                               description="Characters neighbouring chunks share.")
    separators: list[str] = Field(default_factory=lambda: list(SEPARATORS), max_length=20,
                                  description="Tried in order; \"\" cuts anywhere.")

    @model_validator(mode="after")
    def _overlap(self) -> TextSplitterConfig:
        if self.chunk_overlap >= self.chunk_size:
            raise ValueError("chunk_overlap must be smaller than chunk_size")
        return self


def _pieces(text: str, size: int, separators: list[str]) -> list[str]:
    """`text` cut into pieces of at most `size`, at the first separator that does it."""
    if len(text) <= size:
        return [text]
    sep = next((s for s in separators if s == "" or s in text), "")
    rest = separators[separators.index(sep) + 1:] if sep in separators else []
    parts = list(text) if sep == "" else [p + sep for p in text.split(sep)]
    if sep:
        parts[-1] = parts[-1][:-len(sep)]
    pieces: list[str] = []
    for part in parts:
        pieces += [part] if len(part) <= size else _pieces(part, size, rest or [""])
    return pieces


def split(text: str, size: int, overlap: int, separators: list[str]) -> list[str]:
    """Pieces merged into chunks of at most `size`, each starting with up to `overlap`
    characters of the previous chunk's last pieces."""
    chunks: list[str] = []
    current: list[str] = []
    length = 0
    for piece in _pieces(text, size, separators):
        if current and length + len(piece) > size:
            chunks.append("".join(current))
            while current and (length > overlap or length + len(piece) > size):
                length -= len(current.pop(0))
        current.append(piece)
        length += len(piece)
    if current:
        chunks.append("".join(current))
    return [c.strip() for c in chunks if c.strip()]


@register
class TextSplitterNode(NodeType):
    type = "text_splitter"
    label = "Text splitter"
    category = "ai"
    description = "Cuts long texts into overlapping chunks for embedding."
    icon = "scissors"
    Config = TextSplitterConfig
    pure = True

    def run(self, ctx: NodeContext, config: TextSplitterConfig, input: Any) -> Any:
        values = config.input if isinstance(config.input, list) else [config.input]
        chunks: list[dict[str, Any]] = []
        for i, value in enumerate(values):
            meta = {k: v for k, v in value.items() if k != config.text_field} \
                if isinstance(value, dict) else {}
            text = value.get(config.text_field) if isinstance(value, dict) else value
            if not isinstance(text, str):
                raise NodeError(f"input[{i}]: {config.text_field!r} must be a text")
            for n, chunk in enumerate(split(text, config.chunk_size, config.chunk_overlap,
                                            config.separators)):
                chunks.append({"text": chunk, "index": n, "metadata": {"source": i, **meta}})
                if len(chunks) > MAX_CHUNKS:
                    raise NodeError(f"more than {MAX_CHUNKS} chunks: raise chunk_size")
        return {"chunks": chunks}
