"""n8n expressions (JavaScript inside `{{ }}`) translated to WFAIB's (Python in the sandbox).

    translate("$json.total > 5 && $json.ok")            -> "input.total > 5 and input.ok"
    translate('$node["Get user"].json.name', ids)       -> "nodes.get_user.name"
    field_value("=Hi {{ $json.name }}", ids)            -> "Hi {{ input.name }}"

Only a safe, common subset is translated, token by token: data references (`$json`,
`$input.item.json`, `$input.first().json`, `$node["Name"].json`, `$('Name').item.json`, `$now`,
`$today`, `$workflow`, `$execution`, `$vars`), operators (`===`, `&&`, `!`...), literals, a few
functions and methods with a Python twin. Anything else (arrow functions, ternaries, template
literals, other methods, `$env`) raises `Untranslatable` with the reason: the importer reports
it and puts `{{ n8n_unconverted("<original>") }}` in its place, which fails the node clearly
when run. Every string this module emits is a Python literal with braces escaped, so nothing
in an n8n value can close a `{{ }}` early or be evaluated as a template.
"""

from __future__ import annotations

import keyword
import re
from collections.abc import Mapping

from nodes.config_fields import syntax_problem


class Untranslatable(Exception):
    """An n8n expression with no WFAIB equivalent; the message says why."""


_TOKEN = re.compile(r"""
    (?P<space>\s+)
  | (?P<string>'(?:[^'\\]|\\.)*'|"(?:[^"\\]|\\.)*")
  | (?P<template>`)
  | (?P<number>\d+(?:\.\d+)?(?:[eE][+-]?\d+)?)
  | (?P<name>[$A-Za-z_][$A-Za-z0-9_]*)
  | (?P<op>===|!==|==|!=|<=|>=|&&|\|\||=>|\?\?|\?\.|\*\*|[-+*/%<>!?:.,()\[\]{}=])
""", re.VERBOSE | re.DOTALL)

_OPS = {"===": "==", "!==": "!=", "&&": "and", "||": "or"}
_LITERALS = {"true": "True", "false": "False", "null": "None", "undefined": "None"}
_FUNCTIONS = {"String": "str", "Number": "float", "parseInt": "int", "parseFloat": "float",
              "Boolean": "bool", "Math.round": "round", "Math.floor": "math_floor",
              "Math.ceil": "math_ceil", "Math.max": "max", "Math.min": "min", "Math.abs": "abs",
              "Math.sqrt": "math_sqrt", "JSON.stringify": "json_dumps",
              "JSON.parse": "json_loads", "Object.keys": "list", "Array.isArray": None}
_METHODS = {"toLowerCase": "lower", "toUpperCase": "upper", "trim": "strip",
            "startsWith": "startswith", "endsWith": "endswith", "replaceAll": "replace",
            "split": "split", "trimStart": "lstrip", "trimEnd": "rstrip"}
_SIMPLE_GLOBALS = {"$now": "now", "$today": "now[:10]", "$json": "input"}
_META = {("$workflow", "id"): "run.workflow_id", ("$workflow", "name"): "run.workflow",
         ("$execution", "id"): "run.id"}


def py_str(text: str) -> str:
    """A Python string literal for `text` whose source holds no brace (so it never ends a
    `{{ }}`) and no line break."""
    out = []
    for ch in text:
        if ch in "{}\\\"" or ord(ch) < 32 or ord(ch) == 127:
            out.append(f"\\x{ord(ch):02x}")
        else:
            out.append(ch)
    return '"' + "".join(out) + '"'


def _js_string(token: str) -> str:
    """The value of a JavaScript string literal (common escapes)."""
    body = token[1:-1]
    escapes = {"n": "\n", "t": "\t", "r": "\r", "\\": "\\", "'": "'", '"': '"', "/": "/"}
    return re.sub(r"\\(.)", lambda m: escapes.get(m.group(1), m.group(1)), body)


def _tokens(source: str) -> list[tuple[str, str]]:
    pos, found = 0, []
    while pos < len(source):
        match = _TOKEN.match(source, pos)
        if not match:
            raise Untranslatable(f"cannot read {source[pos:pos + 20]!r}")
        kind = match.lastgroup or ""
        if kind == "template":
            raise Untranslatable("template literals (`...${}`) are not translated")
        if kind != "space":
            found.append((kind, match.group()))
        pos = match.end()
    return found


class _Translator:
    def __init__(self, source: str, node_ids: Mapping[str, str],
                 shapes: Mapping[str, str], input_shape: str | None):
        self.toks = _tokens(source)
        self.ids = node_ids
        self.shapes = shapes  # n8n node name -> "webhook" | "http" (outputs shaped unlike ours)
        self.input_shape = input_shape  # the shape of $json
        self.i = 0
        self.out: list[str] = []

    def peek(self, offset: int = 0) -> tuple[str, str]:
        j = self.i + offset
        return self.toks[j] if j < len(self.toks) else ("", "")

    def take(self, *values: str) -> bool:
        """Consume the next tokens when they are exactly `values`."""
        if all(self.peek(k)[1] == v for k, v in enumerate(values)):
            self.i += len(values)
            return True
        return False

    def node_ref(self, name_token: str) -> str:
        name = _js_string(name_token)
        if name not in self.ids:
            raise Untranslatable(f"it reads node {name!r}, which is not in the workflow")
        return f"nodes.{self.ids[name]}"

    def webhook_part(self, ref: str, shape: str | None) -> str:
        """n8n's webhook output is {body, headers, query, params}; WFAIB's is the body.
        n8n's HTTP Request output is the response body; WFAIB's is {status, headers, body}."""
        if shape == "http":
            return ref + ".body"
        if shape != "webhook":
            return ref
        if self.take(".", "body") or self.take("[", '"body"', "]") or \
                self.take("[", "'body'", "]"):
            return ref
        if self.peek()[1] in (".", "["):
            raise Untranslatable("a webhook's headers, query and params are not passed on "
                                 "(only its body, the run's input)")
        return ref

    _ITEM_TAILS = ((".", "item", ".", "json"), (".", "first", "(", ")", ".", "json"),
                   (".", "last", "(", ")", ".", "json"))

    def _item_tail(self) -> bool:
        return any(self.take(*tail) for tail in self._ITEM_TAILS)

    def _named_node(self, open_: str, close: str) -> str | None:
        """`$node["Name"]` / `$("Name")`: the node's reference, or None if not this form."""
        if not (self.peek()[1] == open_ and self.peek(1)[0] == "string"
                and self.peek(2)[1] == close):
            return None
        name = _js_string(self.peek(1)[1])
        ref = self.node_ref(self.peek(1)[1])
        self.i += 3
        return self.webhook_part(ref, self.shapes.get(name)) if (
            self.take(".", "json") if open_ == "[" else self._item_tail()) else ""

    def dollar(self, name: str) -> str:
        if name == "$now" and self.take(".", "toISO", "(", ")"):
            return "now"
        if name == "$json":
            return self.webhook_part("input", self.input_shape)
        if name in _SIMPLE_GLOBALS:
            return _SIMPLE_GLOBALS[name]
        if name == "$input":
            if self._item_tail():
                return self.webhook_part("input", self.input_shape)
            raise Untranslatable("$input is translated only as $input.item.json or "
                                 "$input.first().json (WFAIB passes one value, not items)")
        if name in ("$node", "$"):
            ref = self._named_node("[", "]") if name == "$node" else self._named_node("(", ")")
            if ref:
                return ref
            raise Untranslatable(f"{name} is translated only as $node[\"Name\"].json or "
                                 "$(\"Name\").item.json")
        if name == "$vars" and self.take("."):
            kind, key = self.peek()
            self.i += 1
            if kind != "name":
                raise Untranslatable("$vars. needs a name")
            return f"vars.{key}"
        for (obj, attr), ours in _META.items():
            if name == obj and self.take(".", attr):
                return ours
        if name == "$env":
            raise Untranslatable("$env: environment variables are not readable by expressions; "
                                 "use project variables (vars.<key>) or credentials")
        raise Untranslatable(f"{name} has no WFAIB equivalent")

    def name(self, word: str) -> None:
        if word.startswith("$"):
            self.out.append(self.dollar(word))
            return
        if word in _LITERALS:
            self.out.append(_LITERALS[word])
            return
        js = None
        if self.peek()[1] == "." and self.peek(2)[1] == "(" \
                and f"{word}.{self.peek(1)[1]}" in _FUNCTIONS:
            js = f"{word}.{self.peek(1)[1]}"
            self.i += 2
        elif word in _FUNCTIONS and self.peek()[1] == "(":
            js = word
        if js is None:
            raise Untranslatable(f"the name {word!r} has no WFAIB equivalent (only $json, "
                                 "$node, $input and the like are translated)")
        ours = _FUNCTIONS[js]
        if ours is None:
            raise Untranslatable(f"{js}() has no WFAIB equivalent")
        self.out.append(ours)

    def member(self) -> None:
        """After a `.`: a property (kept; a Python keyword becomes ["..."]) or a method."""
        kind, word = self.peek()
        self.i += 1
        if kind != "name":
            raise Untranslatable("a '.' must be followed by a name")
        if self.peek()[1] == "(":
            if word not in _METHODS:
                raise Untranslatable(f"the method .{word}() is not translated")
            self.out.append("." + _METHODS[word])
            return
        if word == "length":
            self._wrap_length()
            return
        if keyword.iskeyword(word) or word.startswith("$") or word.startswith("_"):
            self.out.append(f"[{py_str(word)}]")
        else:
            self.out.append("." + word)

    def _wrap_length(self) -> None:
        """`x.length` -> `len(x)`: wraps the chain just emitted (a name or literal, then
        members, subscripts and calls)."""
        out, j = self.out, len(self.out) - 1
        while j >= 0:
            part = out[j]
            if part.startswith(".") or (part.startswith("[") and len(part) > 1):
                j -= 1
                continue
            if part in (")", "]"):
                depth = 0
                while j >= 0:
                    depth += out[j] in (")", "]")
                    depth -= out[j] in ("(", "[", "len(")
                    if depth == 0:
                        break
                    j -= 1
                before = out[j - 1] if j > 0 else " "
                if not before.startswith(" ") and before not in ("(", "[", ",", "len("):
                    j -= 1
                    continue
            break
        if j < 0:
            raise Untranslatable(".length of this value is not translated")
        self.out[j:] = ["len(", *out[j:], ")"]

    def run(self) -> str:
        while self.i < len(self.toks):
            kind, text = self.toks[self.i]
            self.i += 1
            if kind == "string":
                self.out.append(py_str(_js_string(text)))
            elif kind == "number":
                self.out.append(text)
            elif kind == "name":
                self.name(text)
            elif text == ".":
                self.member()
            elif text in _OPS:
                self.out.append(f" {_OPS[text]} ")
            elif text == "!":
                self.out.append(" not ")
            elif text in ("?", ":", "=>", "??", "?.", "{", "}", "="):
                what = {"?": "the ?: operator", ":": "the ?: operator", "=>": "functions",
                        "??": "the ?? operator", "?.": "optional chaining (?.)",
                        "{": "object literals", "}": "object literals", "=": "assignment"}
                raise Untranslatable(f"{what[text]} is not translated")
            elif text in ("==", "!="):
                self.out.append(f" {text} ")
            else:
                self.out.append(text if text in "()[]," else f" {text} ")
        return "".join(self.out).strip()


def translate(source: str, node_ids: Mapping[str, str], *,
              shapes: Mapping[str, str] | None = None, input_shape: str | None = None) -> str:
    """The WFAIB expression for one n8n expression (the text inside `{{ }}`). `shapes`:
    n8n node names whose output differs in shape ("webhook", "http"); `input_shape`: the
    shape of `$json` (the node's inputs all come from such nodes)."""
    source = source.strip()
    if not source:
        raise Untranslatable("empty expression")
    if len(source) > 5_000:
        raise Untranslatable("longer than 5,000 characters")
    result = _Translator(source, node_ids, shapes or {}, input_shape).run()
    result = re.sub(r"\s+", " ", result).strip()
    problem = syntax_problem(result)
    if problem:
        raise Untranslatable(f"translated to {result[:80]!r}, which is not valid: {problem}")
    return result


_N8N_TEMPLATE = re.compile(r"\{\{(.*?)\}\}", re.DOTALL)


def unconverted(original: str) -> str:
    """The template put where an expression could not be translated: it fails the node when
    run, naming the original (kept as a literal for the user to rewrite)."""
    return "{{ n8n_unconverted(" + py_str(original[:2000]) + ") }}"


def escape_literal(text: str) -> str:
    """Fixed n8n text as a WFAIB template: a literal `{{` is written `{{ '{{' }}`."""
    return text.replace("{{", "{{ \"\\x7b\\x7b\" }}") if "{{" in text else text
