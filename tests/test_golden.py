"""Golden files for what people read: explanations and compiled rulesets.

Explanations live in tests/golden/explain/<case>.txt (full mode) and <case>.fails.txt.
To write a missing golden file, run:

    ARBITER_WRITE_GOLDENS=1 python -m pytest tests/test_golden.py

That writes only files that do not exist yet; an existing expectation is never
overwritten. To change one on purpose, delete it, regenerate it, and review the diff.
Compiled rulesets are golden too: rules/ is checked by `arbiter compile --check`, and
test_compiled_rulesets_are_current below does the same inside pytest.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from engine.workspace.runner import compilers, score_file

from .conftest import ROOT

GOLDEN = ROOT / "tests" / "golden" / "explain"
# Every hand-written case; the 258 generated national records are covered by the summary test.
CASES = sorted(p for p in (ROOT / "cases").rglob("*.yaml") if not {"invalid", "national-2007"} & set(p.parts))


def check_golden(path: Path, actual: str) -> None:
    if not path.is_file():
        if os.environ.get("ARBITER_WRITE_GOLDENS") == "1":
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(actual + "\n", encoding="utf-8")
            pytest.skip(f"wrote missing golden file {path.relative_to(ROOT)}; review it")
        pytest.fail(f"golden file {path.relative_to(ROOT)} is missing; "
                    "run ARBITER_WRITE_GOLDENS=1 python -m pytest tests/test_golden.py")
    assert actual + "\n" == path.read_text(encoding="utf-8")


@pytest.mark.parametrize("mode", ["full", "fails"])
@pytest.mark.parametrize("path", CASES, ids=lambda p: p.relative_to(ROOT / "cases").with_suffix("").as_posix())
def test_explanation(path, mode, catalog):
    result = score_file(path, catalog)
    name = path.relative_to(ROOT / "cases").with_suffix("").as_posix().replace("/", "__")
    suffix = ".txt" if mode == "full" else ".fails.txt"
    check_golden(GOLDEN / f"{name}{suffix}", result.render(mode, False))


def test_compiled_rulesets_are_current(catalog):
    for file_id, compile_one in compilers(catalog):
        path = catalog.ruleset_path(file_id)
        assert path.is_file(), f"{path} missing: run arbiter compile"
        assert path.read_text(encoding="utf-8") == compile_one().text, f"{path} is stale: run arbiter compile"
