"""The README's table of environment variables, generated from `.env.example` (every variable
the settings read, with its default and comment) and `wfaib/conf.py` (each WFAIB_* setting's
declared default and meaning).

    python -m wfaib.env_reference          # print the Markdown tables
    python -m wfaib.env_reference --write  # replace them in README.md

tests/wfaib/test_readme_operations.py fails when README.md's tables are not what this prints.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

from wfaib.conf import DECLARED

ROOT = Path(__file__).resolve().parent.parent
START, END = "<!-- env-reference:start -->", "<!-- env-reference:end -->"
_SECTION = re.compile(r"^# --- (.+?) -*$")
_VARIABLE = re.compile(r"^([A-Z][A-Z0-9_]*)=(.*)$")


def _cell(text: str) -> str:
    return text.replace("|", "\\|").strip()


def variables(env_example: str) -> list[tuple[str, list[tuple[str, str, str]]]]:
    """[(section, [(name, default, meaning)])] in the order of .env.example (first occurrence
    of a name wins); a variable's meaning is its conf.py help for a WFAIB_* setting, else the
    comment lines just above it."""
    declared = {s.env_var: s for s in DECLARED}
    sections: list[tuple[str, list[tuple[str, str, str]]]] = [("General", [])]
    comment: list[str] = []
    seen: set[str] = set()
    for line in env_example.splitlines():
        line = line.rstrip()
        if heading := _SECTION.match(line):
            sections.append((heading[1].strip(), []))
            comment = []
        elif line.startswith("#"):
            comment.append(line.lstrip("# ").strip())
        elif variable := _VARIABLE.match(line):
            name, default = variable[1], variable[2]
            if name not in seen:
                seen.add(name)
                setting = declared.get(name)
                meaning = setting.help if setting else " ".join(comment)
                sections[-1][1].append((name, default, meaning))
            comment = []  # a comment belongs to the variable right below it
        else:
            comment = []
    return [(title, rows) for title, rows in sections if rows]


def markdown(env_example: str | None = None) -> str:
    text = env_example if env_example is not None else (ROOT / ".env.example").read_text()
    out = [START, ""]
    for title, rows in variables(text):
        out += [f"**{title}**", "", "| Variable | Default | Meaning |", "| --- | --- | --- |"]
        out += [f"| `{name}` | {f'`{_cell(default)}`' if default else ''} | {_cell(meaning)} |"
                for name, default, meaning in rows]
        out.append("")
    out.append(END)
    return "\n".join(out)


def write_readme() -> None:
    readme = ROOT / "README.md"
    text = readme.read_text()
    before, rest = text.split(START, 1)
    _old, after = rest.split(END, 1)
    readme.write_text(before + markdown() + after)


if __name__ == "__main__":
    if "--write" in sys.argv:
        write_readme()
    else:
        sys.stdout.write(markdown() + "\n")
