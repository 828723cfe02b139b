"""Converters of n8n's flow nodes: If, Switch, Merge, Wait, Schedule Trigger, Loop Over Items
(SplitInBatches)."""

from __future__ import annotations

import re
from typing import Any

from .conditions import filter_expression, one_condition, v1_expression
from .context import Context
from .expressions import Untranslatable, py_str
from .nodes_core import NotConverted, Out, params, version

_CASE = re.compile(r"[^A-Za-z0-9_-]+")


def _condition_or_unconverted(ctx: Context, build: Any, where: str) -> str:
    try:
        return "{{ " + build() + " }}"
    except Untranslatable as exc:
        ctx.report.expressions.append({"node": ctx.node, "field": where, "n8n": "(conditions)",
                                       "wfaib": None, "reason": str(exc)})
        return "{{ n8n_unconverted(" + py_str(f"conditions: {exc}") + ") }}"


def if_node(ctx: Context, node: dict[str, Any]) -> Out:
    p, v = params(node), version(node)
    if v >= 2:
        expression = _condition_or_unconverted(
            ctx, lambda: filter_expression(ctx, p.get("conditions"), "expression"), "expression")
    else:
        expression = _condition_or_unconverted(ctx, lambda: v1_expression(
            ctx, p.get("conditions"), str(p.get("combineOperation", "all")), "expression"),
            "expression")
    return Out("condition", {"expression": expression}, {0: "true", 1: "false"})


def _case_name(raw: Any, i: int, taken: set[str]) -> str:
    name = _CASE.sub("_", str(raw or "")).strip("_")[:40] or f"case_{i}"
    if name in ("default", "error") or name in taken:
        name = f"{name}_{i}"
    taken.add(name)
    return name


def _switch_v3(ctx: Context, p: dict[str, Any]) -> tuple[list[dict[str, str]], Any]:
    rules = (p.get("rules") or {}).get("values") or []
    taken: set[str] = set()
    cases = []
    for i, rule in enumerate(rules):
        name = _case_name(rule.get("outputKey") if rule.get("renameOutput") else None, i, taken)
        cases.append({"name": name, "expression": _condition_or_unconverted(
            ctx, lambda rule=rule, i=i: filter_expression(ctx, rule.get("conditions"),
                                                          f"cases[{i}]"), f"cases[{i}]")})
    options = p.get("options") or {}
    return cases, options.get("fallbackOutput", "none")


def _switch_v1(ctx: Context, p: dict[str, Any]) -> tuple[list[dict[str, str]], Any]:
    kind = str(p.get("dataType", "number"))
    rules = (p.get("rules") or {}).get("rules") or []
    by_output: dict[int, list[str]] = {}
    for i, rule in enumerate(rules):
        out = int(rule.get("output", i)) if str(rule.get("output", i)).isdigit() else i
        try:
            by_output.setdefault(out, []).append(one_condition(
                ctx, p.get("value1"), str(rule.get("operation", "equal")), rule.get("value2"),
                kind, f"cases[{i}]"))
        except Untranslatable as exc:
            ctx.report.expressions.append({"node": ctx.node, "field": f"cases[{i}]",
                                           "n8n": "(rule)", "wfaib": None, "reason": str(exc)})
            by_output.setdefault(out, []).append(
                "n8n_unconverted(" + py_str(f"rule: {exc}") + ")")
    cases = [{"name": f"output_{out}", "expression": "{{ " + " or ".join(conds) + " }}"}
             for out, conds in sorted(by_output.items())]
    fallback = p.get("fallbackOutput", -1)
    return cases, fallback


def switch(ctx: Context, node: dict[str, Any]) -> Out:
    p, v = params(node), version(node)
    if p.get("mode") == "expression":
        raise NotConverted("a Switch in expression mode (an output index) is not converted; "
                           "use rules")
    cases, fallback = (_switch_v3 if v >= 3 else _switch_v1)(ctx, p)
    if not cases:
        raise NotConverted("a Switch without rules")
    if v >= 3:
        ports = {i: c["name"] for i, c in enumerate(cases)}
    else:
        ports = {int(c["name"].removeprefix("output_")): c["name"] for c in cases}
    if fallback == "extra":
        ports[len(cases)] = "default"
    elif isinstance(fallback, int) and fallback >= 0 and fallback in ports:
        ctx.notes.append(f"unmatched items went to output {fallback}; here they leave by "
                         "`default` (connect it)")
    all_matches = (p.get("options") or {}).get("allMatchingOutputs")
    return Out("switch", {"cases": cases, "mode": "all" if all_matches else "first"}, ports)


def merge(ctx: Context, node: dict[str, Any]) -> Out:
    p, v = params(node), version(node)
    mode = p.get("mode", "append")
    if mode in ("append", "wait"):
        return Out("merge", {"combine": "append" if mode == "append" else "object"})
    if mode in ("passThrough", "chooseBranch"):
        ctx.notes.append("passes on the first input that arrives (n8n chose one input)")
        return Out("merge", {"wait": "first"})
    if mode in ("combine", "mergeByKey", "combineByFields"):
        by = p.get("combineBy", p.get("combinationMode", "mergeByFields" if v >= 2 else ""))
        key = p.get("propertyName1") or p.get("fieldsToMatchString")
        fields = ((p.get("mergeByFields") or {}).get("values") or [{}])[0]
        key = key or (fields.get("field1") if fields.get("field1") == fields.get("field2")
                      else None)
        if by in ("mergeByFields", "combineByFields", "") and isinstance(key, str) and key \
                and "," not in key:
            return Out("merge", {"combine": "join", "key": key.strip()})
        raise NotConverted(f"merging by {by or mode!r} is not converted (append, join on one "
                           "field, or first input)")
    raise NotConverted(f"merge mode {mode!r} is not converted")


_UNITS = {"seconds": 1, "minutes": 60, "hours": 3600, "days": 86400}


def wait(ctx: Context, node: dict[str, Any]) -> Out:
    p, v = params(node), version(node)
    resume = p.get("resume", "timeInterval")
    if resume == "timeInterval":
        unit = p.get("unit", "hours" if v < 1.1 else "seconds")
        amount = p.get("amount", 1)
        if not isinstance(amount, (int, float)) or unit not in _UNITS:
            raise NotConverted(f"a wait of {amount!r} {unit!r} is not converted")
        return Out("delay", {"seconds": float(amount) * _UNITS[unit]})
    if resume == "specificTime":
        return Out("delay", {"until": ctx.value(p.get("dateTime", ""), "until")})
    if resume == "webhook":
        config: dict[str, Any] = {}
        if p.get("limitWaitTime"):
            amount, unit = p.get("resumeAmount", 1), p.get("resumeUnit", "hours")
            if isinstance(amount, (int, float)) and unit in _UNITS:
                config["max_wait"] = float(amount) * _UNITS[unit]
        ctx.notes.append("resumed by POST to the run's resume URL (run.resume_urls), not "
                         "n8n's $execution.resumeUrl")
        return Out("wait_for_webhook", config, {0: "main"})
    raise NotConverted(f"waiting for {resume!r} is not converted")


def _cron(rule: dict[str, Any]) -> dict[str, Any]:
    field = rule.get("field", "days")
    minute = int(rule.get("triggerAtMinute", 0) or 0)
    hour = int(rule.get("triggerAtHour", 0) or 0)
    if field == "cronExpression":
        return {"cron": str(rule.get("expression", "")).strip()}
    if field == "seconds":
        return {"interval": int(rule.get("secondsInterval", 30))}
    if field == "minutes":
        return {"interval": int(rule.get("minutesInterval", 5)) * 60}
    if field == "hours":
        every = int(rule.get("hoursInterval", 1))
        return {"cron": f"{minute} {'*' if every == 1 else f'*/{every}'} * * *"}
    if field == "days":
        every = int(rule.get("daysInterval", 1))
        return {"cron": f"{minute} {hour} {'*' if every == 1 else f'*/{every}'} * *"}
    if field == "weeks":
        days = rule.get("triggerAtDay") or [0]
        if int(rule.get("weeksInterval", 1)) != 1:
            raise NotConverted("a schedule every few weeks is not converted")
        return {"cron": f"{minute} {hour} * * {','.join(str(int(d)) for d in days)}"}
    if field == "months":
        every = int(rule.get("monthsInterval", 1))
        day = int(rule.get("triggerAtDayOfMonth", 1))
        return {"cron": f"{minute} {hour} {day} {'*' if every == 1 else f'*/{every}'} *"}
    raise NotConverted(f"a schedule by {field!r} is not converted")


def schedule(ctx: Context, node: dict[str, Any]) -> Out:
    rules = ((params(node).get("rule") or {}).get("interval")) or [{}]
    if len(rules) > 1:
        ctx.notes.append(f"{len(rules)} schedule rules: only the first is converted")
    try:
        config = _cron(rules[0])
    except (TypeError, ValueError):
        raise NotConverted("the schedule rule is not readable") from None
    if "cron" in config:
        config["timezone"] = ctx.timezone
    return Out("schedule", config)


def split_in_batches(ctx: Context, node: dict[str, Any]) -> Out:
    p, v = params(node), version(node)
    size = p.get("batchSize", 1)
    config: dict[str, Any] = {"items": "{{ input if isinstance(input, list) else [input] }}",
                              "batch_size": size if isinstance(size, int) and size >= 1 else 1}
    ctx.notes.append("the nodes on `each` run once per batch; the loop's results leave by "
                     "`done` (the edge back into the loop is implicit)")
    if v >= 3:
        return Out("loop", config, {0: "done", 1: "each"})
    ctx.notes.append("SplitInBatches v1/v2 looped by connecting back and checking "
                     "noItemsLeft; here its one output is the loop body")
    return Out("loop", config, {0: "each"})
