"""Regressions for what the fuzz law (tests/test_fuzz.py) found beyond the known defects.

Each test edits a copy of the project and runs `arbiter` in a child process, so that a crash
inside durable-rules fails the test rather than killing pytest.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from engine.language.catalog import declared_kind

from .conftest import ROOT

ARBITER = str(Path(sys.executable).parent / "arbiter")


@pytest.fixture
def project(tmp_path: Path) -> Path:
    for tree in ("criteria", "cases", "rules"):
        shutil.copytree(ROOT / tree, tmp_path / tree)
    return tmp_path


def arbiter(project: Path, *args: object) -> subprocess.CompletedProcess:
    return subprocess.run([ARBITER, *map(str, args)], capture_output=True, text=True, timeout=120, cwd=project)


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text, old
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def assert_refused(result: subprocess.CompletedProcess, *expected: str) -> None:
    assert result.returncode == 2, (result.returncode, result.stderr)
    assert "Traceback" not in result.stderr + result.stdout
    for text in expected:
        assert text in result.stderr


@pytest.mark.parametrize("number", ["9" * 5000, "9007199254740993", "-9007199254740993"])
def test_a_number_too_large_to_compare_is_a_located_dialect_error(project, number):
    hearing = project / "cases/appointments/kent-cc-2022/hearing.yaml"
    text = hearing.read_text(encoding="utf-8")
    line = next(i for i, row in enumerate(text.splitlines(), 1) if row.startswith("members:"))
    edit(hearing, next(row for row in text.splitlines() if row.startswith("members:")), f"members: {number}")
    for command in ("validate", "score"):
        assert_refused(arbiter(project, command, hearing), f"hearing.yaml:{line}:10: error E106: ", "too large a number")


def test_the_largest_comparable_number_is_read():
    from engine.language.load import resolve_plain
    assert resolve_plain(str(2**53 - 1)) == (2**53 - 1, None)
    assert resolve_plain("1e999")[1] is not None  # infinity is not a number the rules can compare


def test_a_repeated_compliance_requirement_id_is_e121_not_an_engine_failure(project):
    framework = project / "criteria/compliance/chief-constable-appointment.yaml"
    edit(framework, "- id: salary-variation", "- id: advert-window")
    assert_refused(arbiter(project, "validate", framework), "error E121: duplicate requirement id 'advert-window'")
    assert_refused(arbiter(project, "score", project / "cases/appointments/kent-cc-2022/compliance.yaml"),
                   "error E121")


def test_an_override_of_an_area_that_is_not_graded_is_refused_before_the_engine(project):
    case = project / "cases/kent-peel/2021/victim-service-assessment.yaml"
    case.write_text(case.read_text(encoding="utf-8") + 'override:\n  outcome: good\n  rationale: a judgement\n'
                    '  by: someone\n  source: "003:1"\n', encoding="utf-8")
    for command in ("validate", "score"):
        assert_refused(arbiter(project, command, case), "error E113: criteria set", "is not graded")


def test_the_host_refuses_a_fact_no_rule_accepts_without_crashing():
    code = """
from engine.runtime import durable
rules = {"r": {"all": [{"m": {"kind": "tally"}}, {"e": {"$and": [{"kind": "stage"}]}}], "run": "r"}}
try:
    durable.host().run("kinds-probe", rules, [{"kind": "override", "outcome": "good"}], {"kind": "stage"},
                       lambda rule, matched: [])
except durable.EngineError as error:
    print("refused:", error)
"""
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, cwd=ROOT)
    assert result.returncode == 0, result.stderr
    assert "refused: no rule accepts a message of kind 'override' in this ruleset" in result.stdout


@pytest.mark.parametrize("file, old, new, message", [
    ("criteria/examples-counting/framework.yaml", "- id: any-inadequate", "- id: none", "id 'none' is reserved"),
    ("criteria/scales/peel-4-tier.yaml", "- id: good", "- id: undecided", "level id 'undecided' is reserved"),
])
def test_ids_the_engine_uses_for_its_own_rules_are_reserved(project, file, old, new, message):
    """A limiter named 'none' shared its rule id with 'no limiter applies', and silently vanished."""
    edit(project / file, old, new)
    assert_refused(arbiter(project, "validate", project / file), f"error E113: {message}")


@pytest.mark.parametrize("line", ["arbiter: case  # a comment", 'arbiter: "case"', "arbiter: 'case'"])
def test_the_kind_is_read_as_the_yaml_reader_reads_it(tmp_path, line):
    path = tmp_path / "x.yaml"
    path.write_text(f"{line}\nid: x\n", encoding="utf-8")
    assert declared_kind(path) == "case"


def test_a_long_header_comment_does_not_hide_the_kind(project):
    """A case with more than 4 KB of comments before its kind was skipped by folder walks."""
    case = project / "cases/kent-2007/child-abuse.yaml"
    case.write_text("# a long note\n" * 600 + case.read_text(encoding="utf-8"), encoding="utf-8")
    assert declared_kind(case) == "case"
    result = arbiter(project, "test", project / "cases/kent-2007")
    assert result.returncode == 0, result.stdout
    assert "6 passed, 0 failed" in result.stdout
