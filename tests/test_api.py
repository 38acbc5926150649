"""The Python API: the README's example runs as written, and the API gives what the CLI gives."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

import engine

from .conftest import ROOT

README = (ROOT / "README.md").read_text(encoding="utf-8")


def readme_example() -> str:
    section = README.split("## Python API", 1)[1]
    return section.split("```python\n", 1)[1].split("```", 1)[0]


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """A project folder whose criteria, rules and cases are the shipped ones, so the example's
    ledger is written here and nowhere else."""
    for name in ("criteria", "rules", "cases"):
        (tmp_path / name).symlink_to(ROOT / name, target_is_directory=True)
    return tmp_path


def test_the_readme_example_runs(project: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.chdir(project)
    exec(compile(readme_example(), "README.md (Python API)", "exec"), {})
    assert (project / "decisions.sqlite").is_file()


def test_a_decision_is_frozen_and_its_json_is_what_the_cli_prints(project: Path):
    from click.testing import CliRunner

    from engine.cli import main

    case = ROOT / "cases" / "appointments" / "kent-cc-2022" / "selection.yaml"
    scored = engine.score(engine.load_catalog(project), case)
    with pytest.raises(Exception):
        scored.decisions[0].outcome = "preferred"  # type: ignore[misc]
    printed = CliRunner().invoke(main, ["score", str(case), "--format", "json", "--root", str(project)]).output
    assert printed.splitlines() == scored.json_lines()
    assert [json.loads(line) for line in printed.splitlines()] == scored.records


def test_evidence_in_memory_decides_as_its_file_does(project: Path):
    import yaml

    catalog = engine.load_catalog(project)
    for case in ("kent-2007/child-abuse", "appointments/kent-cc-2022/selection", "appointments/kent-cc-2022/hearing",
                 "appointments/kent-cc-2022/compliance"):
        path = ROOT / "cases" / f"{case}.yaml"
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        assert engine.score(catalog, data).records == engine.score(catalog, path).records, case


def test_data_a_file_cannot_hold_is_refused_by_field(project: Path):
    catalog = engine.load_catalog(project)
    with pytest.raises(engine.DiagnosticError) as refused:
        engine.score(catalog, {"arbiter": "case", "id": "x", "criteria": "hmic-2007/child-abuse", "subject": 2**60,
                               "findings": [object()]})
    shown = engine.render_all(refused.value.diagnostics)
    assert "evidence.subject: error E106: 1152921504606846976 is not a value" in shown
    assert "evidence.findings[0]: error E106: <object object at" in shown
    with pytest.raises(engine.DiagnosticError) as refused:
        engine.score(catalog, {"arbiter": "scale"})
    assert "evidence.arbiter: error E114: evidence is not a case" in engine.render_all(refused.value.diagnostics)


def test_a_missing_project_is_a_diagnostic(tmp_path: Path):
    with pytest.raises(engine.DiagnosticError) as refused:
        engine.load_catalog(tmp_path / "nowhere")
    assert refused.value.diagnostics[0].code == "E100"
    assert os.listdir(tmp_path) == []
