"""README's operations section stays true: its environment table is what
wfaib/env_reference.py generates (so it lists every variable .env.example and wfaib/conf.py
know), and it lists exactly the compose file's services."""

from __future__ import annotations

import re
from pathlib import Path

import yaml
from django.conf import settings

from wfaib import conf
from wfaib.env_reference import END, START, markdown, variables

ROOT = Path(settings.BASE_DIR)


def readme() -> str:
    return (ROOT / "README.md").read_text()


def test_the_readme_environment_table_is_current():
    text = readme()
    block = START + text.split(START, 1)[1].split(END, 1)[0] + END
    assert block == markdown(), "run: python -m wfaib.env_reference --write"


def test_the_readme_lists_every_variable_with_a_meaning():
    text = readme()
    listed = set(re.findall(r"^\| `([A-Z][A-Z0-9_]*)` \|", text, re.MULTILINE))
    env_example = (ROOT / ".env.example").read_text()
    names = {name for _title, rows in variables(env_example) for name, _d, _m in rows}
    assert {s.env_var for s in conf.DECLARED} <= names
    assert names <= listed
    assert [n for _t, rows in variables(env_example) for n, _d, m in rows if not m] == []


def test_the_readme_lists_exactly_the_compose_services():
    section = readme().split("### Docker Compose", 1)[1].split("\n#", 1)[0]
    listed = set(re.findall(r"^\| `([a-z-]+)` \|", section, re.MULTILINE))
    services = yaml.safe_load((ROOT / "docker-compose.yml").read_text())["services"]
    assert listed == set(services)


def test_the_readme_covers_the_operations_topics():
    section = readme().split("## Operations", 1)[1].split("\n## ", 1)[0]
    for topic in ("Environment variables", "Scaling workers", "Backups and restore",
                  "Upgrades", "Key rotation", "Retention", "Metrics", "Tracing"):
        assert f"### {topic}" in section, topic
    for command in ("pg_dump", "pg_restore", ".backup", "migrate", "rotate_keys",
                    "prune_runs --dry-run"):
        assert command in section, command
