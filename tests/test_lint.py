"""`arbiter lint`: which files it reads, reviewed exceptions, the three formats, witnesses written
as case files that score as their finding says, exit codes, and the shipped criteria linting
clean. The analysis itself (overlaps, gaps, unreachable grades) is tested in test_lint_space.py;
the static checks in test_lint_static.py."""

from __future__ import annotations

import json
import os
import re
import shutil
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner
from hypothesis import given
from hypothesis import strategies as st

from engine.api import lint, render_github, render_lint, write_witnesses
from engine.cli import main
from engine.language.catalog import Catalog
from engine.language.diagnostics import Diagnostic, DiagnosticError
from engine.lint.findings import LINT_CODES, LintFinding
from engine.lint.render import escape_data, escape_property

from .conftest import ROOT
from .test_golden import check_golden

GOLDEN = ROOT / "tests" / "golden" / "lint"
HIT_POLICY = "examples-hit-policy"
FIVE = "examples-hit-policy/five-questions"


def arbiter(*args, cwd: Path | None = None):
    previous = Path.cwd()
    os.chdir(cwd or ROOT)
    try:
        return CliRunner().invoke(main, [str(a) for a in args], catch_exceptions=False)
    finally:
        os.chdir(previous)


def project(tmp_path: Path, *frameworks: str) -> Path:
    """A project folder holding the scales and the named frameworks with their criteria sets."""
    shutil.copytree(ROOT / "criteria" / "scales", tmp_path / "criteria" / "scales")
    for framework in frameworks:
        shutil.copytree(ROOT / "criteria" / framework, tmp_path / "criteria" / framework)
    return tmp_path


def without_exceptions(path: Path) -> None:
    """The file as it was before its reviewed exceptions: the findings open again."""
    data = path.read_text(encoding="utf-8")
    if "\nlint:\n" in data:
        head, _, tail = data.partition("\nlint:\n")
        rest = [line for line in tail.splitlines(keepends=True) if not line.startswith((" ", "-"))]
        path.write_text(head + "\n" + "".join(rest), encoding="utf-8")


def add_exceptions(path: Path, *entries: str) -> None:
    without_exceptions(path)
    text = path.read_text(encoding="utf-8").rstrip("\n") + "\nlint:\n"
    path.write_text(text + "".join(f"  - {entry}\n" for entry in entries), encoding="utf-8")


@pytest.fixture
def hit_policy(tmp_path: Path) -> Path:
    """The constructed overlapping framework, with none of its reviewed exceptions."""
    root = project(tmp_path, HIT_POLICY)
    without_exceptions(root / "criteria" / HIT_POLICY / "framework.yaml")
    without_exceptions(root / "criteria" / HIT_POLICY / "five-questions.yaml")
    return root


def codes(report) -> list[tuple[str, str, bool]]:
    return [(f.code, f.about, f.accepted is not None) for f in report.findings]


# --- what it finds, end to end ---------------------------------------------------------------

def test_the_overlapping_framework_has_its_overlap_and_gap_found(hit_policy):
    report = lint(Catalog(hit_policy), [hit_policy / "criteria" / HIT_POLICY])
    found = {f.code: f for f in report.findings}
    assert {"L201", "L202"} <= set(found)
    assert found["L201"].severity == "error" and found["L202"].severity == "warning"
    assert found["L201"].witness is not None and found["L202"].witness is not None
    assert report.failed and report.criteria_sets == (FIVE,)


def test_witnesses_are_written_as_cases_that_score_as_their_finding_says(hit_policy, tmp_path):
    report = lint(Catalog(hit_policy), [hit_policy / "criteria" / HIT_POLICY])
    folder = tmp_path / "witnesses"
    written = write_witnesses(report, folder)
    files = [path for path in written if path is not None]
    assert len(files) == sum(1 for f in report.findings if f.witness is not None) >= 2
    for finding, path in zip(report.findings, written):
        if path is None:
            continue
        assert path.parent == folder / HIT_POLICY / "five-questions"
        assert path.name.startswith(finding.code.lower() + "-")
        text = path.read_text(encoding="utf-8")
        assert text.startswith("# Constructed by `arbiter lint`: a witness of " + finding.code)
        assert yaml.safe_load(text)["expect"] == dict(finding.witness["expect"])
    assert arbiter("validate", *files, "--root", hit_policy).exit_code == 0
    scored = arbiter("score", *files, "--root", hit_policy, "--explain", "off")
    assert scored.exit_code == 0, scored.output  # each meets its expect:, as durable-rules decides it
    assert scored.output.count("(met)") == len(files)


def test_the_overlap_witness_has_both_grades_rules_hold_and_no_grade(hit_policy, tmp_path):
    report = lint(Catalog(hit_policy), [hit_policy / "criteria" / HIT_POLICY])
    overlap = next(f for f in report.findings if f.code == "L201")
    assert overlap.witness["expect"]["outcome"] == "professional_judgement"
    out = arbiter("score", *[p for p in write_witnesses(report, tmp_path / "w") if p is not None],
                  "--root", hit_policy, "--format", "json")
    records = [json.loads(line) for line in out.output.splitlines() if line.startswith("{")]
    assert {r["outcome"] for r in records} == {"professional_judgement"}


# --- which files --------------------------------------------------------------------------------

def test_a_framework_stands_for_every_criteria_set_of_it(catalog):
    from engine.lint import lint_targets

    targets = lint_targets(catalog, [ROOT / "criteria" / "hmic-2007" / "framework.yaml"])
    assert targets.set_ids == tuple(s for s in catalog.criteria_set_ids() if s.startswith("hmic-2007/"))
    assert len(targets.set_ids) == 6


def test_a_file_of_another_kind_is_refused(catalog):
    with pytest.raises(DiagnosticError) as raised:
        lint(catalog, [ROOT / "cases" / "kent-2007" / "missing-persons.yaml"])
    assert [d.code for d in raised.value.diagnostics] == ["E114"]
    result = arbiter("lint", "criteria/scales")
    assert result.exit_code == 2 and "E114" in result.output


def test_an_invalid_criteria_file_is_reported_as_validate_reports_it(hit_policy):
    framework = hit_policy / "criteria" / HIT_POLICY / "framework.yaml"
    framework.write_text(framework.read_text(encoding="utf-8").replace("at_least: 3", "at_least: three", 1),
                         encoding="utf-8")
    result = arbiter("lint", framework, "--root", hit_policy)
    assert result.exit_code == 2
    assert "E133" in result.output and "framework.yaml:" in result.output


# --- reviewed exceptions ------------------------------------------------------------------------

def test_a_reviewed_exception_accepts_its_finding_with_the_reason(hit_policy):
    add_exceptions(hit_policy / "criteria" / HIT_POLICY / "framework.yaml",
                   "{code: L201, about: 'requires_improvement:inadequate', reason: the overlap is the example}",
                   "{code: L203, about: inadequate, reason: the overlap hides it on purpose}",
                   "{code: L202, reason: the gap is the example}")
    report = lint(Catalog(hit_policy), [hit_policy / "criteria" / HIT_POLICY])
    assert {f.code: f.accepted for f in report.findings} == {
        "L201": "the overlap is the example", "L203": "the overlap hides it on purpose",
        "L202": "the gap is the example"}
    assert not report.failed and report.accepted == 3 and report.count("warning") == 0
    text = render_lint(report, "text")
    assert "accepted error L201 grade-rules-overlap" in text and "  accepted: the overlap is the example" in text
    assert text.endswith("0 errors, 0 warnings, 3 accepted in 1 criteria set")
    assert render_lint(report, "github").splitlines() == ["0 errors, 0 warnings, 3 accepted in 1 criteria set"]


def test_an_exception_about_another_id_accepts_nothing_and_is_itself_a_finding(hit_policy):
    framework = hit_policy / "criteria" / HIT_POLICY / "framework.yaml"
    add_exceptions(framework, "{code: L203, about: outstanding, reason: a misplaced review}")
    report = lint(Catalog(hit_policy), [hit_policy / "criteria" / HIT_POLICY])
    assert ("L203", "inadequate", False) in codes(report)
    [unused] = [f for f in report.findings if f.code == "L213"]
    assert (unused.severity, unused.about) == ("warning", "outstanding")
    assert framework.read_text(encoding="utf-8").splitlines()[unused.line - 1].strip().startswith("- {code: L203")


def test_a_criteria_set_exception_covers_that_set_alone(hit_policy):
    add_exceptions(hit_policy / "criteria" / HIT_POLICY / "five-questions.yaml",
                   "{code: L202, reason: reviewed for this set}")
    report = lint(Catalog(hit_policy), [hit_policy / "criteria" / HIT_POLICY / "five-questions.yaml"])
    assert [f.accepted for f in report.findings if f.code == "L202"] == ["reviewed for this set"]
    assert "L213" not in {f.code for f in report.findings}


def test_a_framework_exception_is_unused_only_when_every_set_of_it_was_linted(hit_policy):
    second = hit_policy / "criteria" / HIT_POLICY / "two-questions.yaml"
    text = (hit_policy / "criteria" / FIVE).with_suffix(".yaml").read_text(encoding="utf-8")
    second.write_text(text.replace(FIVE, f"{HIT_POLICY}/two-questions"), encoding="utf-8")
    add_exceptions(hit_policy / "criteria" / HIT_POLICY / "framework.yaml", "{code: L204, reason: never matches}")
    one = lint(Catalog(hit_policy), [second])
    assert "L213" not in {f.code for f in one.findings}  # the other set might have had it
    every = lint(Catalog(hit_policy), [hit_policy / "criteria" / HIT_POLICY])
    assert [f.code for f in every.findings].count("L213") == 1


def test_an_exception_must_name_a_lint_code_and_give_a_reason(hit_policy):
    framework = hit_policy / "criteria" / HIT_POLICY / "framework.yaml"
    add_exceptions(framework, "{code: L299, reason: no such code}", "{code: L202}")
    result = arbiter("validate", framework, "--root", hit_policy)
    assert result.exit_code == 2
    assert "E113: unknown lint code 'L299'" in result.output
    assert ", ".join(LINT_CODES) in result.output  # the valid codes, in the hint
    assert "E111: missing field 'reason'" in result.output


def test_exceptions_change_no_compiled_ruleset(catalog):
    """A reviewed exception grades nothing: the criteria's hash, and rules/, are unchanged by one."""
    from engine.language.criteria import load_criteria

    criteria = load_criteria(catalog, FIVE)
    assert criteria.framework.model.lint  # the shipped example carries its reviews
    assert "lint" not in json.dumps(criteria.canonical())


# --- formats --------------------------------------------------------------------------------------

def test_text_output_is_golden(hit_policy):
    result = arbiter("lint", "criteria", "--witness", "witnesses", cwd=hit_policy)
    assert result.exit_code == 1
    check_golden(GOLDEN / "examples-hit-policy.txt", result.output.rstrip("\n"))


def test_shipped_exceptions_text_is_golden():
    result = arbiter("lint", f"criteria/{HIT_POLICY}")
    assert result.exit_code == 0
    check_golden(GOLDEN / "examples-hit-policy-accepted.txt", result.output.rstrip("\n"))


def test_json_output_carries_every_field_and_the_summary(hit_policy):
    result = arbiter("lint", "criteria", "--format", "json", cwd=hit_policy)
    document = json.loads(result.output)
    assert document["format"] == "arbiter-lint/1"
    assert document["summary"]["errors"] == sum(1 for f in document["findings"] if f["severity"] == "error")
    overlap = next(f for f in document["findings"] if f["code"] == "L201")
    assert set(overlap) >= {"code", "name", "severity", "path", "line", "col", "criteria_set", "about", "message",
                            "suggestion", "accepted", "witness", "witness_file"}
    assert overlap["witness"]["expect"]["outcome"] == "professional_judgement"


def test_github_output_is_one_annotation_per_open_finding(hit_policy):
    result = arbiter("lint", "criteria", "--format", "github", cwd=hit_policy)
    annotations = [line for line in result.output.splitlines() if line.startswith("::")]
    overlap = next(line for line in annotations if "title=L201 grade-rules-overlap" in line)
    assert overlap.startswith(f"::error file=criteria/{HIT_POLICY}/framework.yaml,line=")
    assert any(line.startswith("::warning ") and "L202" in line for line in annotations)
    assert result.exit_code == 1


def test_github_escapes_what_the_runner_unescapes():
    assert escape_data("50% of a\r\nb") == "50%25 of a%0D%0Ab"
    assert escape_property("a:b,c%") == "a%3Ab%2Cc%25"
    finding = LintFinding("L210", "error", "f,1:2.yaml", 3, 4, "says 80%\nnot 75%", suggestion=None)
    from engine.lint import LintReport

    text = render_lint(LintReport((finding,), ("x",), ("f,1:2.yaml",)), "github")
    assert text.splitlines()[0] == ("::error file=f%2C1%3A2.yaml,line=3,col=4,title=L210 "
                                    "choice-disagrees-with-quantifier::says 80%25%0Anot 75%25")


def test_validate_speaks_github_too(hit_policy):
    framework = hit_policy / "criteria" / HIT_POLICY / "framework.yaml"
    framework.write_text(framework.read_text(encoding="utf-8").replace("at_least: 3", "at_least: three", 1),
                         encoding="utf-8")
    result = arbiter("validate", f"criteria/{HIT_POLICY}/framework.yaml", "--format", "github", cwd=hit_policy)
    assert result.exit_code == 2
    [annotation] = [line for line in result.output.splitlines() if line.startswith("::error ")]
    assert annotation.startswith(f"::error file=criteria/{HIT_POLICY}/framework.yaml,line=")
    assert "title=E133 bad-comparison::" in annotation and "%0Ahint: " in annotation
    assert arbiter("validate", "criteria", "--format", "github").exit_code == 0


def test_a_problem_with_no_file_is_annotated_without_one():
    [line] = render_github([Diagnostic("--witness", 0, 0, "E117", "x exists", "give a new folder")]).splitlines()
    assert line == "::error title=E117 output-refused::--witness: x exists%0Ahint: give a new folder"


# --- witnesses: never over a file, nor through a link ---------------------------------------------

def test_a_witness_is_never_written_over_a_file(hit_policy, tmp_path):
    folder = tmp_path / "w"
    assert arbiter("lint", "criteria", "--witness", folder, cwd=hit_policy).exit_code == 1
    before = {p: p.read_bytes() for p in folder.rglob("*.yaml")}
    again = arbiter("lint", "criteria", "--witness", folder, cwd=hit_policy)
    assert again.exit_code == 2 and "E117" in again.output and "never written over a file" in again.output
    assert {p: p.read_bytes() for p in folder.rglob("*.yaml")} == before
    assert not [p for p in folder.rglob("*") if p.name.endswith(".tmp")]


def test_a_witness_is_never_written_through_a_symbolic_link(hit_policy, tmp_path):
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (tmp_path / "w").mkdir()
    (tmp_path / "w" / HIT_POLICY).symlink_to(elsewhere)
    result = arbiter("lint", "criteria", "--witness", tmp_path / "w", cwd=hit_policy)
    assert result.exit_code == 2 and "symbolic link" in result.output
    assert list(elsewhere.iterdir()) == []


def test_witnesses_under_cases_take_their_place_as_id(hit_policy):
    folder = hit_policy / "cases" / "lint"
    assert arbiter("lint", "criteria", "--witness", folder, cwd=hit_policy).exit_code == 1
    for path in folder.rglob("*.yaml"):
        assert yaml.safe_load(path.read_text(encoding="utf-8"))["id"] == \
            path.relative_to(hit_policy / "cases").with_suffix("").as_posix()
    assert arbiter("test", folder, cwd=hit_policy).exit_code == 0


# --- the shipped criteria -------------------------------------------------------------------------

@pytest.fixture(scope="module")
def shipped():
    return lint(Catalog(ROOT))


def test_the_shipped_criteria_lint_clean(shipped, catalog):
    """Every finding on a shipped set is accepted by a reviewed exception, with its reason."""
    report = shipped
    open_findings = [f"{f.path}:{f.line}: {f.code} {f.message}" for f in report.findings if f.accepted is None]
    assert open_findings == []
    assert set(report.criteria_sets) == set(catalog.criteria_set_ids())
    assert arbiter("lint").exit_code == 0


def test_every_lint_code_is_documented_with_an_example():
    language = (ROOT / "criteria" / "README.md").read_text(encoding="utf-8")
    section = language.split("\n## Lint\n", 1)[1].split("\n## ", 1)[0]
    for code, name in LINT_CODES.items():
        assert f"\n### {code} {name}\n" in section, code
        body = section.split(f"### {code} {name}\n", 1)[1].split("\n### ", 1)[0]
        assert code == "L208" or f" {code} {name}: " in body, code  # a finding as printed


def test_lint_has_help_with_an_example():
    result = arbiter("lint", "--help")
    assert result.exit_code == 0 and "Example:" in result.output and "arbiter lint" in result.output


@given(st.text())
def test_an_escaped_property_holds_no_separator_and_unescapes_to_itself(text):
    escaped = escape_property(text)
    assert not set(escaped) & {":", ",", "\r", "\n"}
    unescaped = escaped
    for code, char in (("%3A", ":"), ("%2C", ","), ("%0D", "\r"), ("%0A", "\n"), ("%25", "%")):
        unescaped = unescaped.replace(code, char)
    assert unescaped == text  # every % left after escaping starts a code, so decoding %25 last is exact


def test_every_witness_of_the_shipped_criteria_passes_as_a_case(shipped, tmp_path):
    """Through durable-rules and the oracle alike, each witness meets its expect:."""
    from engine.api import run_tests

    written = [p for p in write_witnesses(shipped, tmp_path / "w") if p is not None]
    assert len(written) == sum(1 for f in shipped.findings if f.witness is not None) >= 10
    results = run_tests(Catalog(ROOT), [tmp_path / "w"])
    assert len(results) == len(written)
    assert [r.name for r in results if not r.passed] == []


def test_the_readmes_quote_lint_as_it_prints():
    """The lint output README.md and criteria/README.md quote for the constructed overlapping
    framework is, line for line, the golden output of linting it without its exceptions."""
    golden = (ROOT / "tests" / "golden" / "lint" / "examples-hit-policy.txt").read_text(encoding="utf-8")
    printed = set(golden.replace("witnesses/", "lint-witnesses/").splitlines())
    quoted = [line for doc in ("README.md", "criteria/README.md")
              for line in (ROOT / doc).read_text(encoding="utf-8").splitlines()
              if line.startswith("criteria/examples-hit-policy/framework.yaml:")
              and re.search(r": (error|warning) L20\d ", line)]
    assert len(quoted) >= 4
    readme = (ROOT / "README.md").read_text(encoding="utf-8").split("## Lint\n", 1)[1].split("\n## ", 1)[0]
    quoted += [line for line in readme.splitlines() if line.startswith("  ") and ("hint:" in line or "witness:" in line)]
    for line in quoted:
        assert line in printed, line
