"""Conditions whose meaning the language left open are refused where they are written.

Reading the framework's words without the compiler (engine/oracle/reference.py) showed three
conditions the compiler and a plain reading would decide differently: a factor listed twice
(counted twice), a share of no factors, and a share below none. Each is a mistake in the
file, so each is refused, at its line, before anything is compiled.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from .conftest import ROOT

ARBITER = str(Path(sys.executable).parent / "arbiter")
FACTORS = "      - factors_present: [beacon, evaluated_innovation]"


@pytest.fixture
def framework(tmp_path: Path) -> Path:
    for tree in ("criteria", "cases", "rules"):
        shutil.copytree(ROOT / tree, tmp_path / tree)
    return tmp_path / "criteria" / "hmic-2007" / "framework.yaml"


def validate(framework: Path) -> subprocess.CompletedProcess:
    project = framework.parents[2]
    return subprocess.run([ARBITER, "validate", str(framework)], capture_output=True, text=True, timeout=120,
                          cwd=project)


def rewrite(framework: Path, old: str, new: str) -> None:
    text = framework.read_text(encoding="utf-8")
    assert old in text, old
    framework.write_text(text.replace(old, new, 1), encoding="utf-8")


def line_of(framework: Path, text: str) -> int:
    return next(n for n, line in enumerate(framework.read_text(encoding="utf-8").splitlines(), 1) if text in line)


def test_a_factor_listed_twice_is_refused(framework: Path):
    rewrite(framework, FACTORS, "      - factors_present: [beacon, beacon]")
    result = validate(framework)
    line = line_of(framework, "[beacon, beacon]")
    assert result.returncode == 2
    assert f"framework.yaml:{line}:35: error E121: duplicate factor 'beacon' (first at line {line})" in result.stderr


def test_a_share_of_no_factors_is_refused(framework: Path):
    rewrite(framework, FACTORS, "      - factors_present: []")
    result = validate(framework)
    assert result.returncode == 2
    assert f"framework.yaml:{line_of(framework, 'factors_present: []')}:" in result.stderr
    assert "error E130: the condition lists no factors" in result.stderr


def test_a_share_below_none_can_never_hold(framework: Path):
    rewrite(framework, "    more_than: 0.5", "    less_than: 0")
    result = validate(framework)
    assert result.returncode == 2
    assert "error E133: condition can never hold in set 'hmic-2007/child-abuse': needs fewer than none" in result.stderr


COMPLIANCE = "criteria/compliance/chief-constable-appointment.yaml"
RECORD = "cases/appointments/kent-cc-2022/compliance.yaml"


def run_in(project: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([ARBITER, *args], capture_output=True, text=True, timeout=120, cwd=project)


@pytest.mark.parametrize("old, new, message", [
    ("    at_least: 21\n", "    at_least: 21\n    at_most: 30\n", "error E133: days_between does not use at_most"),
    ("    at_most: 60\n", "    at_most: 60\n    at_least: 12\n", "error E133: value takes at_least or at_most, not both"),
])
def test_a_bound_a_requirement_would_not_read_is_refused(framework: Path, old: str, new: str, message: str):
    """The compiler reads one bound per test: any other would be silently ignored."""
    project = framework.parents[2]
    rewrite(project / COMPLIANCE, old, new)
    result = run_in(project, "validate", COMPLIANCE)
    assert result.returncode == 2 and message in result.stderr, result.stderr


@pytest.mark.parametrize("base", ["0", "-17221800"])
def test_a_ratio_needs_a_positive_base(framework: Path, base: str):
    project = framework.parents[2]
    rewrite(project / RECORD, "  base_salary: 17221800", f"  base_salary: {base}")
    result = run_in(project, "score", RECORD)
    assert result.returncode == 2
    assert f"error E113: base_salary is {base}: requirement 'salary-variation' compares a ratio to it" in result.stderr
