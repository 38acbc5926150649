"""Data flows one way: following `arbiter score` on one case never re-enters a stage it has left.

Every call into a stage's module-level functions is traced while the CLI scores a case in
process. The stages come in pipeline order:

    read     language: load, validate, check, appointment_check, criteria, catalog
    compile  compiler/
    decide   runtime/ (tally and decide, every kind)
    report   inspections/explain and record, appointments/appointment_record
    ledger   ledger/ (with --record)

What is not a stage is not traced: the spine that calls each stage in turn (cli, api,
workspace, inspections/cases, appointments/appointments), and the vocabulary every stage
shares (the models, diagnostics, canonical forms, options), as are methods of the frozen data
a stage returns (reading a plan is not compiling it). A record built by calling back into
the runtime, or hashing through the compiler, shows up here as a step backwards.
"""

from __future__ import annotations

import importlib
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from engine.cli import main

from .conftest import ROOT

ORDER = ("read", "compile", "decide", "report", "ledger")
STAGES = {
    "engine.language.load": "read", "engine.language.validate": "read", "engine.language.check": "read",
    "engine.language.appointment_check": "read", "engine.language.criteria": "read", "engine.language.catalog": "read",
    "engine.compiler": "compile", "engine.runtime": "decide",
    "engine.inspections.explain": "report", "engine.inspections.record": "report",
    "engine.appointments.appointment_record": "report",
    "engine.ledger": "ledger",
}
CASES = ["kent-2007/child-abuse", "kent-peel/2018/effectiveness", "appointments/kent-cc-2022/selection",
         "appointments/kent-cc-2022/hearing", "appointments/kent-cc-2022/compliance",
         "appointments/constructed/gate-failed"]


def stage_of(module: str) -> str | None:
    while module:
        if module in STAGES:
            return STAGES[module]
        module = module.rpartition(".")[0]
    return None


def import_every_module() -> None:
    """Commands import a part when they first call it; importing runs module and class bodies,
    which define a stage rather than enter it, so every module is imported before a trace."""
    for path in sorted((ROOT / "engine").rglob("*.py")):
        parts = path.relative_to(ROOT).with_suffix("").parts
        importlib.import_module(".".join(parts[:-1] if parts[-1] == "__init__" else parts))


def stages_entered(*args: str) -> list[tuple[str, str]]:
    """(stage, function) each time a different stage is entered, while `arbiter ARGS` runs."""
    import_every_module()
    entered: list[tuple[str, str]] = []

    def trace(frame, event, arg):
        if event != "call" or "." in frame.f_code.co_qualname:  # methods and nested helpers belong to their caller
            return
        stage = stage_of(frame.f_globals.get("__name__", ""))
        if stage and (not entered or entered[-1][0] != stage):
            entered.append((stage, f"{frame.f_globals['__name__']}.{frame.f_code.co_name}"))

    sys.setprofile(trace)
    try:
        result = CliRunner().invoke(main, list(args), catch_exceptions=False)
    finally:
        sys.setprofile(None)
    assert result.exit_code == 0, result.output
    return entered


def steps_back(entered: list[tuple[str, str]]) -> list[str]:
    return [f"{before[1]} ({before[0]}) -> {after[1]} ({after[0]})"
            for before, after in zip(entered, entered[1:]) if ORDER.index(after[0]) < ORDER.index(before[0])]


@pytest.mark.parametrize("case", CASES)
def test_scoring_a_case_passes_each_stage_once_in_order(case: str):
    entered = stages_entered("score", str(ROOT / "cases" / f"{case}.yaml"), "--explain", "full", "--root", str(ROOT))
    assert [stage for stage, _ in entered] == ["read", "compile", "decide", "report"], "\n".join(steps_back(entered))


def test_recording_comes_last(tmp_path: Path):
    case = ROOT / "cases" / "appointments" / "kent-cc-2022" / "selection.yaml"
    entered = stages_entered("score", str(case), "--record", "--ledger", str(tmp_path / "ledger.sqlite"), "--root", str(ROOT))
    assert [stage for stage, _ in entered] == ["read", "compile", "decide", "report", "ledger"], \
        "\n".join(steps_back(entered))


def test_a_step_back_is_seen():
    """The check itself: a record that decides again is caught."""
    assert steps_back([("read", "a"), ("decide", "b"), ("report", "c"), ("decide", "d")]) == [
        "c (report) -> d (decide)"]
