"""`arbiter impact`: the decisions an edit to the criteria changes, graded both ways through durable-rules.

The edit tried is the one a policy officer makes: 'the vast majority' of the 2007 framework
read as at least 75% rather than 80%. Which decisions it changes is worked out here without
impact, from the case files and the criteria files themselves: the threshold for Excellent is
the smallest whole number of Good criteria that reaches the fraction, so a set's threshold
moves only when the two fractions round up to different counts, and a case moves only when
it stands between the two.
"""

from __future__ import annotations

import io
import json
import math
import re
import shutil
import subprocess
import sys
from fractions import Fraction
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

import engine
from engine import cli
from engine.cli import main
from engine.language.load import dump_yaml

from .conftest import ROOT
from .test_golden import check_golden

GOLDEN = ROOT / "tests" / "golden" / "impact"
FRAMEWORK = "criteria/hmic-2007/framework.yaml"
HMIC_CASES = ["cases/kent-2007", "cases/national-2007", "cases/constructed-2007"]
PUBLISHED_CASE = "cases/kent-2007/missing-persons.yaml"  # reads a published grade from the report
OLD, NEW = Fraction(4, 5), Fraction(3, 4)


def run(*args):
    return CliRunner().invoke(main, [str(a) for a in args], catch_exceptions=False)


def git(project: Path, *args: str) -> str:
    return subprocess.run(["git", "-C", str(project), "-c", "user.name=Policy", "-c", "user.email=policy@example.org",
                           *args], check=True, capture_output=True, text=True).stdout


def copy_project(target: Path) -> Path:
    for folder in ("criteria", "rules", "cases"):
        shutil.copytree(ROOT / folder, target / folder)
    return target


def commit_project(project: Path) -> None:
    git(project, "init", "-q")
    git(project, "add", "-A")
    git(project, "commit", "-q", "-m", "criteria as published")


def lower_vast_majority(project: Path) -> None:
    path = project / FRAMEWORK
    text = path.read_text(encoding="utf-8")
    edited = text.replace("    at_least: 0.8\n", "    at_least: 0.75\n").replace(
        "Arbiter reads it as at least 80%", "Arbiter reads it as at least 75%")
    assert edited.count("0.75") == 1 and "at least 75%" in edited
    path.write_text(edited, encoding="utf-8")


def read_yaml(path: Path):
    return yaml.safe_load(path.read_text(encoding="utf-8"))


def criteria_of(project: Path, set_id: str) -> list[dict]:
    return read_yaml(project / "criteria" / f"{set_id}.yaml")["criteria"]


def between_thresholds(project: Path, set_id: str) -> tuple[int, int, int]:
    """(Good criteria in the set, the Excellent threshold at 80%, at 75%): the least count that reaches each."""
    good = sum(1 for c in criteria_of(project, set_id) if c["tier"] == "good")
    return good, math.ceil(OLD * good), math.ceil(NEW * good)


def publish_a_case_between(project: Path) -> None:
    """Kent's missing-persons case, rewritten so that its evidence stands between the two
    thresholds: every Fair criterion met, Good criteria met up to the 75% threshold, both
    factors. It keeps its published grade (recorded as HMIC's judgement) and its citation."""
    path = project / PUBLISHED_CASE
    case = read_yaml(path)
    criteria = criteria_of(project, case["criteria"])
    good, _, low = between_thresholds(project, case["criteria"])
    good_ids = [c["id"] for c in sorted((c for c in criteria if c["tier"] == "good"),
                                        key=lambda c: "critical" not in c.get("flags", []))]
    met = {c["id"] for c in criteria if c["tier"] == "fair"} | set(good_ids[:low])
    for finding in case["findings"]:
        finding["finding"] = "met" if finding["criterion"] in met else "not_met"
    case["factors"] = {"beacon": True, "evaluated_innovation": True}
    path.write_text(dump_yaml(case), encoding="utf-8")


@pytest.fixture(scope="module")
def lowered(tmp_path_factory):
    """A project committed as published, with 'the vast majority' then lowered in the working
    tree; the rules' grades of every 2007 case before the edit (durable-rules, through the API)."""
    project = copy_project(tmp_path_factory.mktemp("impact") / "project")
    publish_a_case_between(project)
    commit_project(project)
    catalog = engine.load_catalog(project)
    results, problems = engine.score_files(catalog, [project / folder for folder in HMIC_CASES])
    assert not problems
    before = {r.records[0]["case"]: r.records[0]["computed_outcome"] for r in results}
    lower_vast_majority(project)
    return project, before


@pytest.fixture(scope="module")
def impact_json(lowered):
    project, _ = lowered
    result = run("impact", *(project / folder for folder in HMIC_CASES), "--format", "json", "--root", project)
    return result.exit_code, json.loads(result.stdout)


def expected_changes(project: Path, before: dict[str, str]) -> tuple[set[str], set[str], dict[str, str]]:
    """(every decision whose outcome or margin moves, those whose outcome moves, the moved
    threshold of each), from the case files: a case the rules graded Good moves when its Good
    criteria met fall short of the old threshold (the fewest changes up shrink by one), and
    reaches Excellent when it also reaches the new one and has both factors."""
    moved, outcome, thresholds = set(), set(), {}
    for folder in HMIC_CASES:
        for path in sorted((project / folder).rglob("*.yaml")):
            case = read_yaml(path)
            good, old, new = between_thresholds(project, case["criteria"])
            good_ids = {c["id"] for c in criteria_of(project, case["criteria"]) if c["tier"] == "good"}
            met = sum(1 for f in case["findings"] if f["criterion"] in good_ids and f.get("finding") == "met")
            if old == new or before[case["id"]] != "good" or met >= old:
                continue
            moved.add(case["id"])
            thresholds[case["id"]] = f"good criteria met, vast majority: at least {old} of {good} -> at least {new} of {good}"
            if met >= new and all(case["factors"].values()):
                outcome.add(case["id"])
    return moved, outcome, thresholds


def test_lowering_vast_majority_changes_exactly_the_decisions_between_the_thresholds(lowered, impact_json):
    project, before = lowered
    _, report = impact_json
    moved, outcome, thresholds = expected_changes(project, before)
    assert outcome and moved - outcome  # the edit moves some grades, and some margins only
    listed = {change["decision"]: change for change in report["changed"]}
    assert set(listed) == moved
    assert {d for d, change in listed.items() if "outcome" in change["changed"]} == outcome
    for decision, change in listed.items():
        assert change["thresholds_moved"] == [thresholds[decision]]
        if decision in outcome:
            assert change["after"]["label"].startswith("Excellent") or "(rules: Excellent)" in change["after"]["label"]
            assert change["first_differing_firing"] == "firing 1: level:good then, level:excellent now"
        else:
            assert change["changed"] == ["margin"] and change["first_differing_firing"] is None
    total = sum(1 for folder in HMIC_CASES for _ in (project / folder).rglob("*.yaml"))
    assert report["unchanged"] == total - len(moved) and report["cases"] == total


def test_a_changed_published_grade_is_marked_and_exits_1(lowered, impact_json):
    exit_code, report = impact_json
    published = [c for c in report["changed"] if c["published_changed"]]
    assert [c["case"] for c in published] == [PUBLISHED_CASE]
    assert published[0]["published"] == "000:679"
    assert published[0]["before"]["label"] == "Good" and published[0]["after"]["label"] == "Good (rules: Excellent)"
    assert exit_code == 1 and report["published_changed"] == 1
    project, _ = lowered
    table = run("impact", project / "cases/kent-2007", "--root", project)
    row = next(line for line in table.stdout.splitlines() if line.startswith(PUBLISHED_CASE))
    assert row.rstrip().endswith("PUBLISHED") and table.exit_code == 1


def test_a_change_to_no_published_grade_exits_0(lowered):
    project, _ = lowered
    result = run("impact", project / "cases/national-2007/child-abuse", "--root", project)
    assert result.exit_code == 0, result.output
    assert "decisions changed" in result.stdout and "PUBLISHED" not in result.stdout


def test_jobs_spread_the_grading_without_changing_the_output(lowered):
    project, _ = lowered
    chosen = [project / "cases/kent-2007", project / "cases/national-2007/child-abuse", project / "cases/appointments"]
    one = run("impact", *chosen, "--jobs", "1", "--root", project)
    two = run("impact", *chosen, "--jobs", "2", "--root", project)
    assert one.exit_code == two.exit_code == 1
    assert one.stdout == two.stdout
    assert "vast majority: at least 4 of 4 -> at least 3 of 4" in one.stdout


def test_impact_never_changes_the_working_tree(lowered):
    project, _ = lowered
    state = (git(project, "status", "--porcelain"), git(project, "rev-parse", "HEAD"), git(project, "diff"),
             git(project, "diff", "--cached"))
    assert run("impact", project / "cases/kent-2007", "--base", "HEAD", "--root", project).exit_code == 1
    assert (git(project, "status", "--porcelain"), git(project, "rev-parse", "HEAD"), git(project, "diff"),
            git(project, "diff", "--cached")) == state
    assert state[0].split() == ["M", FRAMEWORK]


@pytest.fixture(scope="module")
def beside(tmp_path_factory):
    """The same edit, with the base as a folder beside the project (no git), named relatively
    so that the output is the same wherever the test runs."""
    top = tmp_path_factory.mktemp("impact-dir")
    publish_a_case_between(copy_project(top / "before"))
    project = copy_project(top / "project")
    publish_a_case_between(project)
    lower_vast_majority(project)
    return top


@pytest.mark.parametrize("fmt, suffix", [("table", "txt"), ("json", "json"), ("markdown", "md")])
def test_output_formats(beside, fmt, suffix, monkeypatch):
    monkeypatch.chdir(beside / "project")
    result = run("impact", "cases/kent-2007", "cases/national-2007/missing-persons", "--base-dir", "../before",
                 "--format", fmt)
    assert result.exit_code == 1, result.output
    check_golden(GOLDEN / f"vast-majority.{suffix}", result.stdout.rstrip("\n"))


def test_markdown_is_a_pull_request_description(beside, monkeypatch):
    monkeypatch.chdir(beside / "project")
    lines = run("impact", "cases/national-2007/missing-persons", "--base-dir", "../before",
                "--format", "markdown").stdout.splitlines()
    assert lines[0].startswith("## ") and "decisions changed" in lines[2]
    assert lines[4].startswith("| case") and set(lines[5]) <= set("|-: ")


def test_a_case_new_since_the_base_is_graded_as_the_working_copy(beside, monkeypatch):
    project = beside / "project"
    monkeypatch.chdir(project)
    new = project / "cases" / "kent-2007" / "missing-persons-again.yaml"
    text = (project / PUBLISHED_CASE).read_text(encoding="utf-8")
    new.write_text(text.replace("id: kent-2007/missing-persons", "id: kent-2007/missing-persons-again"),
                   encoding="utf-8")
    try:
        report = json.loads(run("impact", "cases/kent-2007", "--base-dir", "../before", "--format", "json").stdout)
    finally:
        new.unlink()
    changed = {c["case"]: c for c in report["changed"]}
    copy, original = changed.pop("cases/kent-2007/missing-persons-again.yaml"), changed.pop(PUBLISHED_CASE)
    assert report["cases"] == 7 and not changed and report["unchanged"] == 5
    assert original["base_case"] == "base" and copy["base_case"] == "working copy"
    assert (copy["before"], copy["after"], copy["changed"]) == (original["before"], original["after"], original["changed"])


def test_recorded_decisions_are_compared_too(tmp_path):
    project = copy_project(tmp_path / "project")
    base = copy_project(tmp_path / "before")
    ledger = tmp_path / "decisions.sqlite"
    cases = [project / "cases" / "national-2007" / "missing-persons" / f"force-{n:02}.yaml" for n in (1, 2, 3, 5)]
    catalog = engine.load_catalog(project)
    with engine.open_ledger(ledger) as opened:
        engine.record(opened, [engine.score(catalog, case) for case in cases])
    lower_vast_majority(project)
    report = json.loads(run("impact", *cases, "--base-dir", base, "--ledger", ledger, "--format", "json",
                            "--root", project).stdout)
    by_case = {c["decision"]: (c["changed"], c["thresholds_moved"]) for c in report["changed"] if c["case"].startswith("cases/")}
    by_record = {c["decision"]: (c["changed"], c["thresholds_moved"]) for c in report["changed"]
                 if c["case"].startswith("decision ")}
    assert by_case and by_record == by_case
    assert all(c["base_case"] == "recorded evidence" for c in report["changed"] if c["case"].startswith("decision "))
    assert report["recorded"] == 4 and report["unchanged"] == 2 * (4 - len(by_case))


@pytest.mark.parametrize("args, option, code", [
    (["--jobs", "0"], "--jobs", "E174"),
    (["--jobs", "-3"], "--jobs", "E174"),
    (["--base", "no-such-revision"], "--base", "E174"),
    (["--base-dir", "nowhere"], "--base-dir", "E100"),
    (["--base", "HEAD", "--base-dir", "."], "--base", "E174"),
])
def test_option_mistakes_exit_2_with_a_code(lowered, args, option, code, monkeypatch):
    project, _ = lowered
    monkeypatch.chdir(project)
    result = run("impact", "cases/kent-2007", *args)
    assert result.exit_code == 2
    assert f"{option}: error {code}" in result.stderr and "hint:" in result.stderr
    assert "Traceback" not in result.output


def test_outside_a_git_checkout_the_base_must_be_a_folder(tmp_path):
    project = copy_project(tmp_path / "project")
    result = run("impact", "--root", project)
    assert result.exit_code == 2
    assert "--base: error E100" in result.stderr and "not in a git checkout" in result.stderr
    assert "--base-dir" in result.stderr  # the suggestion


@pytest.mark.parametrize("command", [["impact"], ["cases", "add-criterion"]])
def test_help_has_an_example(command):
    result = run(*command, "--help")
    assert result.exit_code == 0 and "Example:" in result.stdout and f"arbiter {' '.join(command)}" in result.stdout


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


@pytest.mark.parametrize("terminal, files, drawn", [(True, 40, True), (False, 40, False), (True, 5, False)])
def test_the_progress_bar_is_drawn_only_on_a_terminal_for_a_long_run(terminal, files, drawn, monkeypatch):
    stream = Terminal() if terminal else io.StringIO()
    monkeypatch.setattr(sys, "stderr", stream)
    with cli._Progress() as progress:
        for done in range(1, files + 1):
            progress(done, files)
    assert ("grading" in stream.getvalue()) == drawn


def test_a_file_that_is_no_case_is_refused(lowered, monkeypatch):
    project, _ = lowered
    monkeypatch.chdir(project)
    result = run("impact", "cases/kent-2007", FRAMEWORK)
    assert result.exit_code == 2
    assert f"{FRAMEWORK}:" in result.stderr and "error E114" in result.stderr and "Traceback" not in result.output


def test_appointment_decisions_are_compared_too(tmp_path, monkeypatch):
    """A veto needing three quarters of the panel rather than two thirds: the hearings where 8 of
    12 and 9 of 13 members voted for it no longer veto (8 x 4 < 3 x 12, 9 x 4 < 3 x 13), the one
    of 8 of 13 still does not, and the pack that rests on the 9 of 13 now holds."""
    project = copy_project(tmp_path / "project")
    copy_project(tmp_path / "before")
    rules = project / "criteria" / "panels" / "confirmation-hearing.yaml"
    text = rules.read_text(encoding="utf-8")
    assert text.count("at_least: {numerator: 2, denominator: 3}") == 1
    rules.write_text(text.replace("at_least: {numerator: 2, denominator: 3}", "at_least: {numerator: 3, denominator: 4}"),
                     encoding="utf-8")
    monkeypatch.chdir(project)
    report = json.loads(run("impact", "cases/appointments/constructed", "--base-dir", "../before",
                            "--format", "json").stdout)
    outcomes = {c["case"]: (c["decision"], c["before"]["outcome"], c["after"]["outcome"])
                for c in report["changed"] if "outcome" in c["changed"]}
    assert outcomes == {
        "cases/appointments/constructed/veto-8-of-12.yaml": ("hearing cand-x", "veto", "no_veto"),
        "cases/appointments/constructed/veto-cand-a.yaml": ("hearing cand-a", "veto", "no_veto"),
        "cases/appointments/constructed/pack-vetoed.yaml": ("pack Constructed appointment pack: pack-vetoed",
                                                            "vetoed", "holds")}
    change = next(c for c in report["changed"] if c["case"].endswith("veto-8-of-12.yaml"))
    assert change["first_differing_firing"].startswith("firing 1: ")


def test_a_project_in_a_folder_of_a_larger_repository(tmp_path):
    repository = tmp_path / "repository"
    project = copy_project(repository / "policy")
    commit_project(repository)
    lower_vast_majority(project)
    result = run("impact", project / "cases/national-2007/child-abuse", "--root", project, "--format", "json")
    report = json.loads(result.stdout)
    assert report["base"].startswith("HEAD (") and report["cases"] == 43
    assert report["changed"] and all(c["base_case"] == "base" for c in report["changed"])


def test_the_readme_example_is_what_impact_prints(lowered, monkeypatch: pytest.MonkeyPatch):
    """README.md, "What an edit changes", shows impact on this very edit: its summary line (but
    the base commit, which differs per copy) and its rows are what the command prints."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("## What an edit changes: arbiter impact\n", 1)[1].split("\n## ", 1)[0]
    block = section.split("```\n$ arbiter impact ", 1)[1].split("```", 1)[0]
    command, *shown = block.splitlines()
    project, _ = lowered
    monkeypatch.chdir(project)
    printed = run("impact", *command.split()).stdout.splitlines()
    mask = lambda line: re.sub(r"HEAD \([0-9a-f]{7}\)", "HEAD (...)", line)  # noqa: E731
    printed = [mask(line) for line in printed]
    for line in (mask(line) for line in shown if line.strip() and line.strip() != "..."):
        assert line in printed, line
