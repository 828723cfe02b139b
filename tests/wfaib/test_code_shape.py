"""Gates on the code's shape (issue #12): no app module over 500 lines, no app function over
cyclomatic complexity 20 as radon measures it. Migrations are generated and left out."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.conf import settings
from radon.complexity import cc_visit

ROOT = Path(settings.BASE_DIR)
PACKAGES = ("accounts", "audit", "nodes", "runs", "wfaib", "workflows")
MAX_LINES = 500
MAX_COMPLEXITY = 20


def app_modules() -> list[Path]:
    return sorted(path for package in PACKAGES for path in (ROOT / package).rglob("*.py")
                  if "migrations" not in path.relative_to(ROOT).parts)


def long_modules(paths: list[Path], limit: int = MAX_LINES) -> list[str]:
    found = []
    for path in paths:
        count = len(path.read_text(encoding="utf-8").splitlines())
        if count > limit:
            found.append(f"{path.relative_to(ROOT)}: {count} lines")
    return found


def complex_functions(paths: list[Path], limit: int = MAX_COMPLEXITY) -> list[str]:
    found = []
    for path in paths:
        for block in cc_visit(path.read_text(encoding="utf-8")):
            # cc_visit lists functions and classes; a class's own score is the sum of its
            # methods', each of which is also listed (as a method) and checked on its own.
            if getattr(block, "is_method", None) is None and hasattr(block, "methods"):
                continue
            if block.complexity > limit:
                found.append(f"{path.relative_to(ROOT)}:{block.lineno} {block.fullname}: "
                             f"{block.complexity}")
    return found


def test_the_app_modules_are_found() -> None:
    paths = app_modules()
    assert ROOT / "runs" / "services.py" in paths
    assert not [p for p in paths if "migrations" in p.parts]


def test_no_app_module_is_over_500_lines() -> None:
    assert long_modules(app_modules()) == []


def test_no_app_function_is_over_complexity_20() -> None:
    assert complex_functions(app_modules()) == []


@pytest.fixture
def sample(tmp_path: Path) -> Path:
    branches = "\n".join(f"    if x == {i}:\n        return {i}" for i in range(25))
    source = (f"def tangled(x):\n{branches}\n    return -1\n\n\n"
              "class Small:\n    def plain(self):\n        return 1\n")
    path = tmp_path / "sample.py"
    path.write_text(source + "\n" * 500, encoding="utf-8")
    return path


def test_the_gates_catch_an_offender(sample: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("tests.wfaib.test_code_shape.ROOT", sample.parent)
    assert long_modules([sample]) == [f"sample.py: {len(sample.read_text().splitlines())} lines"]
    assert complex_functions([sample]) == ["sample.py:1 tangled: 26"]
