"""`arbiter cases add-criterion`: a new criterion given a not_assessed finding in every case of its
set, by a text edit that keeps each file as people wrote it, all files or none; then which
outcomes the new denominator changes, as impact against git HEAD reports them."""

from __future__ import annotations

import difflib
import hashlib
import json
import subprocess
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

import engine
from engine.cli import main

from .test_impact import commit_project, copy_project

SET = "hmic-2007/missing-persons"
NEW = "mp-new-check"
CRITERION = f"""  - id: {NEW}
    tier: fair
    text: >-
      A check the policy team adds: the force audits its missing persons records each quarter.
"""
ADDED = [f"- criterion: {NEW}", "  finding: not_assessed", f"  note: added with the new criterion {NEW}; to be assessed"]


def run(*args, stdin: str | None = None):
    return CliRunner().invoke(main, [str(a) for a in args], input=stdin, catch_exceptions=False)


def add_criterion_to_set(project: Path) -> None:
    path = project / "criteria" / f"{SET}.yaml"
    text = path.read_text(encoding="utf-8")
    assert text.count("\ncriteria:\n") == 1
    path.write_text(text.replace("\ncriteria:\n", "\ncriteria:\n" + CRITERION, 1), encoding="utf-8")


def cases_of_set(project: Path) -> list[Path]:
    return sorted(p for p in (project / "cases").rglob("*.yaml")
                  if "invalid" not in p.parts and (yaml.safe_load(p.read_text(encoding="utf-8")) or {}).get("criteria") == SET)


def outcomes(project: Path, cases: list[Path]) -> dict[str, tuple[str, str]]:
    """(outcome, the rules' outcome) of each case, graded by durable-rules through the API."""
    catalog = engine.load_catalog(project)
    results, problems = engine.score_files(catalog, cases)
    assert not problems, engine.render_all(problems)
    return {r.records[0]["case"]: (r.records[0]["outcome"], r.records[0]["computed_outcome"]) for r in results}


@pytest.fixture(scope="module")
def added(tmp_path_factory):
    project = copy_project(tmp_path_factory.mktemp("add-criterion") / "project")
    commit_project(project)
    cases = cases_of_set(project)
    before = {path: path.read_text(encoding="utf-8") for path in cases}
    graded_before = outcomes(project, cases)
    add_criterion_to_set(project)
    result = run("cases", "add-criterion", NEW, "--yes", "--root", project)
    return project, cases, before, graded_before, result


def test_every_case_of_the_set_gets_the_finding_and_keeps_its_text(added):
    project, cases, before, _, result = added
    assert len(cases) > 40
    assert f"to {len(cases)} of the {len(cases)} cases" in result.stdout
    for path in cases:
        old, new = before[path].splitlines(), path.read_text(encoding="utf-8").splitlines()
        diff = [line for line in difflib.ndiff(old, new) if line[:1] in "+-"]
        assert all(line.startswith("+ ") for line in diff), path  # nothing removed or changed: comments kept
        assert [line[2:].strip() for line in diff] == [line.strip() for line in ADDED], path
        finding = [f for f in yaml.safe_load("\n".join(new))["findings"] if f["criterion"] == NEW]
        assert [f["finding"] for f in finding] == ["not_assessed"]
    assert any(line.startswith("#") for line in before[project / "cases/kent-2007/missing-persons.yaml"].splitlines())


def test_the_edited_cases_validate(added):
    project, cases, *_ = added
    checked, problems = engine.validate(engine.load_catalog(project), cases)
    assert checked == len(cases) and not problems, engine.render_all(problems)


def test_the_report_names_exactly_the_cases_whose_outcome_the_new_denominator_changes(added):
    project, cases, _, graded_before, result = added
    graded_after = outcomes(project, cases)
    changed = {case for case in graded_before if graded_before[case] != graded_after[case]}
    assert changed and changed != set(graded_before)
    reported = {line.split()[1] for line in result.stdout.splitlines() if line.startswith("cases/")}
    assert reported == changed
    assert f"{len(changed)} of {len(cases)} decisions change their outcome" in result.stdout
    assert "fair criteria met, all: at least 13 of 13 -> at least 14 of 14" in result.stdout
    published = any(line.rstrip().endswith("PUBLISHED") for line in result.stdout.splitlines())
    assert result.exit_code == (1 if published else 0)


def test_running_it_again_adds_nothing(added):
    project, cases, *_ = added
    texts = [path.read_text(encoding="utf-8") for path in cases]
    result = run("cases", "add-criterion", NEW, "--yes", "--root", project)
    assert result.exit_code == 0 and "nothing to add" in result.stdout
    assert texts == [path.read_text(encoding="utf-8") for path in cases]


def fingerprint(project: Path) -> str:
    return hashlib.sha256(b"".join(p.read_bytes() for p in sorted((project / "cases").rglob("*.yaml")))).hexdigest()


@pytest.fixture
def fresh(tmp_path):
    project = copy_project(tmp_path / "project")
    add_criterion_to_set(project)
    return project


def test_one_file_that_cannot_be_edited_stops_them_all(fresh):
    flow = fresh / "cases" / "national-2007" / "missing-persons" / "force-07.yaml"
    data = yaml.safe_load(flow.read_text(encoding="utf-8"))
    lines = [f"{key}: {yaml.safe_dump(value, default_flow_style=True, width=10000).strip()}" if key == "findings"
             else yaml.safe_dump({key: value}, width=10000).strip() for key, value in data.items()]
    flow.write_text("\n".join(lines) + "\n", encoding="utf-8")
    assert engine.load_catalog(fresh)  # the project still loads
    state = fingerprint(fresh)
    result = run("cases", "add-criterion", NEW, "--yes", "--root", fresh)
    assert result.exit_code == 2
    assert "force-07.yaml" in result.stderr and "error E113" in result.stderr and "flow style" in result.stderr
    assert fingerprint(fresh) == state


def test_without_a_terminal_or_yes_nothing_is_written(fresh):
    state = fingerprint(fresh)
    result = run("cases", "add-criterion", NEW, "--root", fresh)
    assert result.exit_code == 2 and "nothing was written" in result.stderr
    assert "cases/kent-2007/missing-persons.yaml" in result.stdout  # it said what it would do
    assert fingerprint(fresh) == state


def test_an_unknown_criterion_is_e120_with_a_suggestion(fresh):
    result = run("cases", "add-criterion", "mp-new-chek", "--root", fresh)
    assert result.exit_code == 2
    assert "ID: error E120" in result.stderr and f"did you mean '{NEW}'" in result.stderr


def test_outside_a_git_checkout_it_says_why_there_is_no_report(fresh):
    result = run("cases", "add-criterion", NEW, "--yes", "--root", fresh)
    assert result.exit_code == 0, result.output
    assert "no impact report:" in result.stdout and "not in a git checkout" in result.stdout
    assert not subprocess.run(["git", "-C", str(fresh), "rev-parse"], capture_output=True).returncode == 0


def test_before_the_findings_are_added_impact_lists_each_case_as_not_graded(fresh, tmp_path):
    base = copy_project(tmp_path / "before")
    case = fresh / "cases" / "kent-2007" / "missing-persons.yaml"
    result = run("impact", case, "--base-dir", base, "--root", fresh, "--format", "json")
    [change] = json.loads(result.stdout)["changed"]
    assert change["before"]["label"] == "Good (rules: Fair)" and change["after"] is None
    assert change["problem"] == f"not graded under the working criteria: E123 no finding for 1 criteria: {NEW}"
    assert change["published_changed"] and result.exit_code == 1
