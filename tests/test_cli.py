"""The command line: help with examples, output formats, exit codes."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from engine.cli import main

from .conftest import ROOT

KENT = sorted(str(p) for p in (ROOT / "cases" / "kent-2007").glob("*.yaml"))
REQUIRED_KEYS = {"decision_id", "case", "subject", "framework", "outcome", "outcome_label", "uncapped_outcome",
                 "limiter", "why_not", "trace", "criteria_sha256", "ruleset_sha256", "evidence_sha256",
                 "engine_version"}


def run(*args):
    return CliRunner().invoke(main, [str(a) for a in args], catch_exceptions=False)


@pytest.mark.parametrize("command", ["validate", "compile", "score", "test", "scoresheet", "summary", "compare",
                                     "verify", "head", "log", "show", "replay", "override", "purge"])
def test_every_command_has_help_with_an_example(command):
    result = run(command, "--help")
    assert result.exit_code == 0
    assert "Example:" in result.output and f"arbiter {command}" in result.output


def test_score_json_gives_the_six_published_grades():
    result = run("score", *KENT, "--format", "json")
    assert result.exit_code == 0, result.output
    records = [json.loads(line) for line in result.output.splitlines()]
    assert REQUIRED_KEYS <= set(records[0])
    assert {r["case"]: r["outcome"] for r in records} == {
        "kent-2007/child-abuse": "fair", "kent-2007/domestic-violence": "fair",
        "kent-2007/missing-persons": "good", "kent-2007/neighbourhood-policing": "fair",
        "kent-2007/performance-management": "good", "kent-2007/public-protection": "fair"}


@pytest.mark.parametrize("fmt", ["table", "markdown"])
def test_score_table_and_markdown_explain_failures(fmt):
    result = run("score", KENT[0], "--format", fmt)
    assert result.exit_code == 0
    assert "Why not Good" in result.output and "Fair" in result.output


def test_score_exits_1_when_a_case_misses_its_expectation(tmp_path):
    case = (ROOT / "cases" / "kent-2007" / "child-abuse.yaml").read_text(encoding="utf-8")
    wrong = tmp_path / "wrong.yaml"
    assert "expect:\n  outcome: fair" in case
    wrong.write_text(case.replace("expect:\n  outcome: fair", "expect:\n  outcome: good"), encoding="utf-8")
    result = run("score", wrong, "--root", ROOT)
    assert result.exit_code == 1
    assert "good (NOT MET)" in result.output


def test_score_exits_2_on_invalid_input_without_a_traceback():
    result = run("score", ROOT / "cases" / "invalid" / "unknown-criterion.yaml")
    assert result.exit_code == 2
    assert "E122" in result.output and "Traceback" not in result.output


def test_validate_reports_every_problem_with_location():
    result = run("validate", ROOT / "cases" / "invalid")
    assert result.exit_code == 2
    assert "cases/invalid/" in result.output and ": error E" in result.output


def test_validate_accepts_the_project_files():
    result = run("validate", ROOT / "criteria", ROOT / "cases" / "kent-2007", ROOT / "cases" / "constructed-2007")
    assert result.exit_code == 0, result.output


def test_compile_check_passes_on_the_committed_rules():
    result = run("compile", "--check", "--root", ROOT)
    assert result.exit_code == 0, result.output


def test_compile_check_fails_on_a_stale_ruleset(tmp_path):
    import shutil

    shutil.copytree(ROOT / "criteria", tmp_path / "criteria")
    shutil.copytree(ROOT / "rules", tmp_path / "rules")
    stale = tmp_path / "rules" / "hmic-2007" / "child-abuse.json"
    stale.write_text(stale.read_text(encoding="utf-8").replace('"pri": 1', '"pri": 2', 1), encoding="utf-8")
    result = run("compile", "--check", "--root", tmp_path)
    assert result.exit_code == 1
    assert "E140" in result.output and "child-abuse" in result.output
    assert run("compile", "--root", tmp_path).exit_code == 0
    assert run("compile", "--check", "--root", tmp_path).exit_code == 0


def test_test_command_closes_with_a_count():
    result = run("test", ROOT / "cases" / "kent-2007")
    assert result.exit_code == 0
    assert "\n6 passed, 0 failed\n" in result.output
    assert result.output.rstrip().endswith("0 of 6 published grades reproduced by the rules, 6 only by recorded judgement "
                                           "(cases read from a report whose expect: cites the published grade)")


def test_usage_error_exits_2():
    assert run("score").exit_code == 2
    assert run("score", "--format", "xml", KENT[0]).exit_code == 2


def test_compile_check_reports_an_orphaned_ruleset_and_never_deletes_it(tmp_path):
    import shutil

    shutil.copytree(ROOT / "criteria", tmp_path / "criteria")
    shutil.copytree(ROOT / "rules", tmp_path / "rules")
    orphan = tmp_path / "rules" / "hmic-2007" / "old-area.json"
    orphan.write_text("{}\n", encoding="utf-8")
    result = run("compile", "--check", "--root", tmp_path)
    assert result.exit_code == 1 and "E142" in result.output
    run("compile", "--root", tmp_path)
    assert orphan.is_file()


def test_score_kent_2022_names_the_nominee_with_every_gate_shown():
    result = run("score", ROOT / "cases" / "appointments" / "kent-cc-2022" / "selection.yaml")
    assert result.exit_code == 0, result.output
    assert "Outcome: Preferred candidate: cand-a" in result.output
    assert result.output.count("gate 'every-area-3-or-above'") == 2
    assert "Total" in result.output and "Rank" in result.output


def test_a_selection_gives_json_lines_per_candidate_and_for_the_process():
    result = run("score", ROOT / "cases" / "appointments" / "kent-cc-2022" / "selection.yaml", "--format", "json")
    records = [json.loads(line) for line in result.output.splitlines()]
    assert [r["kind"] for r in records] == ["candidate", "candidate", "appointment"]
    assert all(REQUIRED_KEYS <= set(r) for r in records)
    assert records[-1]["preferred"] == "cand-a"


def test_a_filled_in_scoresheet_scores_without_structural_edits(tmp_path):
    """Generate a sheet for 2 candidates and 3 members, fill in only ratings and
    rationales, and score it."""
    import re

    sheet = tmp_path / "sheet.yaml"
    made = run("scoresheet", "appointments/kent-chief-constable-2022", "--candidates", "cand-a,cand-b",
               "--panel", "pcc:chair,boughton:member,cummins:independent,hr:hr_adviser", "-o", sheet, "--root", ROOT)
    assert made.exit_code == 0, made.output
    blank = sheet.read_text(encoding="utf-8")
    blank_sheet = run("score", sheet, "--root", ROOT, "--format", "json")  # nothing filled: every stage still to come
    assert blank_sheet.exit_code == 0, blank_sheet.output
    assert json.loads(blank_sheet.output.splitlines()[-1])["stages"]["still_to_fill"] == 24
    assert blank.count("- candidate:") == 24 and "I act as a role model" in blank
    filled = re.sub(r"^(      [a-z0-9_-]+:)$", r"\1 4", blank, flags=re.M)
    filled = filled.replace("    agreed:\n", "    agreed: 3\n").replace('rationale: ""', 'rationale: "evidence seen"')
    sheet.write_text(filled, encoding="utf-8")
    scored = run("score", sheet, "--root", ROOT, "--format", "json")
    assert scored.exit_code == 0, scored.output
    process = json.loads(scored.output.splitlines()[-1])
    assert process["outcome"] == "tie" and process["tied"] == ["cand-a", "cand-b"]
    assert {f["code"] for f in process["flags"]} == {"F201"}  # agreed 3 lies outside individual 4s


def test_a_scoresheet_quotes_ids_a_reader_would_take_for_something_else(tmp_path):
    """Members and candidates called `y`, `no` or `1` are written quoted, so the sheet reads
    back as the ids given, not as yes/no or numbers, and scores."""
    sheet = tmp_path / "sheet.yaml"
    made = run("scoresheet", "appointments/kent-chief-constable-2022", "--candidates", "no,1",
               "--panel", "y:chair,on:member,cummins:independent,hr:hr_adviser", "-o", sheet, "--root", ROOT)
    assert made.exit_code == 0, made.output
    text = sheet.read_text(encoding="utf-8")
    assert '{id: "y", role: chair}' in text and '{id: "no"}' in text and '- candidate: "1"' in text
    scored = run("score", sheet, "--root", ROOT, "--format", "json")
    assert scored.exit_code == 0, scored.output
    process = json.loads(scored.output.splitlines()[-1])
    assert [p["id"] for p in process["panel"]] == ["y", "on", "cummins", "hr"]
    assert [c["candidate"] for c in process["candidates"]] == ["1", "no"]


def test_scoresheet_never_overwrites(tmp_path):
    existing = tmp_path / "sheet.yaml"
    existing.write_text("keep me\n", encoding="utf-8")
    result = run("scoresheet", "appointments/kent-chief-constable-2022", "--candidates", "cand-a",
                 "--panel", "pcc:chair", "-o", existing, "--root", ROOT)
    assert result.exit_code == 2 and existing.read_text(encoding="utf-8") == "keep me\n"
