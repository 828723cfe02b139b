"""Estimated prices of model calls: a default table of list prices (USD per million tokens),
overridden or extended per model by the WFAIB_LLM_PRICES setting.

    WFAIB_LLM_PRICES={"gpt-4o-mini": {"input": 0.15, "output": 0.6, "cached_input": 0.075},
                      "my-local-model": {"input": 0, "output": 0}}
    cost("gpt-4o-mini-2024-07-18", prompt_tokens=1000, completion_tokens=200, cached_tokens=0)

A model is priced by its exact name, else by the longest table entry its name starts with
(dated snapshots share their family's price). A model with no price costs None: its tokens are
counted (and token budgets apply) but no cost is estimated. Cached prompt tokens cost
`cached_input` (default: `input`). Estimates only: a provider's invoice is what counts.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from wfaib.conf import wfaib_settings

# USD per million tokens: input, output, cached input. Public list prices (2025).
DEFAULT_PRICES: dict[str, dict[str, float]] = {
    "gpt-4o-mini": {"input": 0.15, "output": 0.60, "cached_input": 0.075},
    "gpt-4o": {"input": 2.50, "output": 10.00, "cached_input": 1.25},
    "gpt-4.1-nano": {"input": 0.10, "output": 0.40, "cached_input": 0.025},
    "gpt-4.1-mini": {"input": 0.40, "output": 1.60, "cached_input": 0.10},
    "gpt-4.1": {"input": 2.00, "output": 8.00, "cached_input": 0.50},
    "gpt-5-nano": {"input": 0.05, "output": 0.40, "cached_input": 0.005},
    "gpt-5-mini": {"input": 0.25, "output": 2.00, "cached_input": 0.025},
    "gpt-5": {"input": 1.25, "output": 10.00, "cached_input": 0.125},
    "o4-mini": {"input": 1.10, "output": 4.40, "cached_input": 0.275},
    "o3": {"input": 2.00, "output": 8.00, "cached_input": 0.50},
    "claude-3-5-haiku": {"input": 0.80, "output": 4.00, "cached_input": 0.08},
    "claude-3-7-sonnet": {"input": 3.00, "output": 15.00, "cached_input": 0.30},
    "claude-haiku-4-5": {"input": 1.00, "output": 5.00, "cached_input": 0.10},
    "claude-sonnet-4": {"input": 3.00, "output": 15.00, "cached_input": 0.30},
    "claude-opus-4": {"input": 15.00, "output": 75.00, "cached_input": 1.50},
}
MILLION = Decimal(1_000_000)
COST_PLACES = Decimal("0.00000001")


def price_table() -> dict[str, dict[str, Any]]:
    configured = wfaib_settings.LLM_PRICES or {}
    return {**DEFAULT_PRICES, **(configured if isinstance(configured, dict) else {})}


def price_of(model: str) -> dict[str, Decimal] | None:
    """The model's prices per million tokens (input, output, cached_input), or None."""
    table = price_table()
    entry = table.get(model)
    if entry is None:
        prefixes = [name for name in table if model.startswith(name)]
        entry = table[max(prefixes, key=len)] if prefixes else None
    if not isinstance(entry, dict):
        return None
    try:
        prices = {key: Decimal(str(entry.get(key, 0) or 0)) for key in ("input", "output")}
        prices["cached_input"] = Decimal(str(entry.get("cached_input", entry.get("input", 0))
                                             or 0))
    except ArithmeticError:
        return None
    return prices


def cost(model: str, *, prompt_tokens: int, completion_tokens: int,
         cached_tokens: int = 0) -> Decimal | None:
    """The estimated USD cost of one call, or None when the model has no price."""
    prices = price_of(model)
    if prices is None:
        return None
    cached = min(max(cached_tokens, 0), max(prompt_tokens, 0))
    total = ((max(prompt_tokens, 0) - cached) * prices["input"] + cached * prices["cached_input"]
             + max(completion_tokens, 0) * prices["output"]) / MILLION
    return total.quantize(COST_PLACES)
