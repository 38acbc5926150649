"""`arbiter new-case`: a blank inspection evidence record for a criteria set.

Laws: the blank of every criteria set is YAML whose comments name every criterion; left blank,
it is refused at every blank line and at nothing else; filled in with any values the set
allows, it validates and is exactly the evidence those values are (the same evidence hash and
outcome as the same values handed over as data), so nothing in the blank is decided for the
assessor. The option errors exit 2 with their codes and write nothing.

The golden blank (tests/golden/new-case/) is written, when missing, by
ARBITER_WRITE_GOLDENS=1 python -m pytest tests/test_new_case.py, as test_golden.py's are.
"""

from __future__ import annotations

import os
import re

import pytest
import yaml
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st

import engine
from engine.cli import main
from engine.language.criteria import load_criteria

from .conftest import ROOT
from .test_golden import check_golden

SETS = engine.load_catalog(ROOT).criteria_set_ids()
GOLDEN = ROOT / "tests" / "golden" / "new-case"
SUBJECT = "Constructed force"


def run(*args):
    return CliRunner().invoke(main, [str(a) for a in args], catch_exceptions=False)


def blank(catalog, set_id: str, case_id: str = "mine/filled") -> str:
    return engine.new_case(catalog, set_id, SUBJECT, case_id)


def model(catalog, set_id: str):
    return load_criteria(catalog, set_id).criteria.model


# --- what the blank holds ----------------------------------------------------------------------

@pytest.mark.parametrize("set_id", SETS)
def test_the_blank_of_every_set_is_yaml_commented_with_every_criterion(catalog, set_id):
    text = blank(catalog, set_id)
    data = yaml.safe_load(text)
    cs = model(catalog, set_id)
    fw = load_criteria(catalog, set_id).framework.model
    assert data["criteria"] == set_id and data["subject"] == SUBJECT and data["id"] == "mine/filled"
    assert [f["criterion"] for f in data["findings"] or []] == [c.id for c in cs.criteria]
    assert all(set(f) == {"criterion", "score" if c.scored else "finding"} and None in f.values()
               for f, c in zip(data["findings"] or [], cs.criteria))
    assert data.get("factors", {}) == {name: None for name in fw.factors}
    assert data.get("subgrades", {}) == {sub.id: None for sub in cs.subgrades}
    comments = "\n".join(line for line in text.splitlines() if line.lstrip().startswith("#"))
    flat = " ".join(comments.replace("#", " ").split())
    for criterion in cs.criteria:
        assert f"{criterion.id}: tier {criterion.tier}" in flat
        assert " ".join(criterion.text.split()) in flat
        assert all(flag in flat for flag in criterion.flags) and all(s in flat for s in criterion.sources)
        if criterion.scored:
            assert f"scored {criterion.scored.min} to {criterion.scored.max}" in flat
    for group in cs.exclusive:
        assert f"exclusive group {group.id}: {'exactly one' if group.exactly_one else 'at most one'}" in flat


def test_the_header_states_each_quantifier_as_this_set_counts_it(catalog):
    text = blank(catalog, "hmic-2007/missing-persons")
    header = " ".join(text.split("arbiter: case")[0].replace("#", " ").split())
    assert "'vast majority' (the vast majority of) means at least 0.8 (000:281-282), here good criteria met " \
           "at least 4 of 4 [choice: the report does not quantify 'the vast majority'" in header
    assert "stays in the denominator of every fraction" in header
    assert "critical criteria" not in header  # the set has none, so the limiter needing one never applies


def test_the_golden_blank(catalog):
    result = run("new-case", "hmic-2007/missing-persons", "--subject", "Kent Police", "--id", "mine/missing-persons",
                 "--root", ROOT)
    assert result.exit_code == 0, result.output
    check_golden(GOLDEN / "hmic-2007__missing-persons.yaml", result.stdout.rstrip("\n"))


# --- left blank, it is refused at every blank ---------------------------------------------------

def blank_lines(text: str) -> set[int]:
    """Where validation must point: each finding entry's first line (E111), each empty factor or
    sub-area value (E112)."""
    lines = set()
    for number, line in enumerate(text.splitlines(), start=1):
        if line.startswith("  - criterion: ") or re.fullmatch(r"  [a-z0-9_-]+:", line):
            lines.add(number)
    return lines


@pytest.mark.parametrize("set_id", SETS)
def test_an_unfilled_blank_is_refused_at_each_blank_line(catalog, tmp_path, set_id):
    path = tmp_path / "blank.yaml"
    text = blank(catalog, set_id)
    path.write_text(text, encoding="utf-8")
    checked, problems = engine.validate(catalog, [path])
    assert checked == 1
    wanted = blank_lines(text)
    assert {p.line for p in problems} == wanted, engine.render_all(problems)
    assert len(problems) == len(wanted), engine.render_all(problems)  # each blank told once
    assert {p.code for p in problems} <= {"E111", "E112", "E113"}
    with pytest.raises(engine.DiagnosticError):
        engine.score(catalog, path)


def test_one_finding_left_blank_is_the_one_problem(catalog, tmp_path):
    text = blank(catalog, "hmic-2007/missing-persons")
    filled = fill_text(text, {c.id: "met" for c in model(catalog, "hmic-2007/missing-persons").criteria[1:]},
                       {"beacon": False, "evaluated_innovation": True}, {})
    path = tmp_path / "one-left.yaml"
    path.write_text(filled, encoding="utf-8")
    result = run("validate", path, "--root", ROOT)
    assert result.exit_code == 2
    line = filled.splitlines().index("  - criterion: mp-risk-assessment") + 1
    assert f"one-left.yaml:{line}:5: error E111: a finding needs finding:" in result.output
    assert "1 problem found" in result.output


def test_a_blank_sub_area_is_told_plainly(catalog, tmp_path):
    path = tmp_path / "blank.yaml"
    path.write_text(blank(catalog, "examples-counting/four-questions"), encoding="utf-8")
    result = run("validate", path, "--root", ROOT)
    line = path.read_text(encoding="utf-8").splitlines().index("  q1:") + 1
    assert f"blank.yaml:{line}:6: error E112: 'subgrades.q1' must be text or a mapping (key: value lines), " \
           "not empty\n" in result.output
    assert result.output.count("error E112") == 4  # four sub-areas, each once


# --- filled in, it is the evidence its values say ---------------------------------------------

@st.composite
def fills(draw, catalog):
    """A set, and values for every blank of its record that validation accepts."""
    set_id = draw(st.sampled_from(SETS))
    criteria = load_criteria(catalog, set_id)
    cs, fw, scale = criteria.criteria.model, criteria.framework.model, criteria.scale.model
    findings: dict[str, object] = {}
    for group in cs.exclusive:
        choices = list(group.criteria) + ([] if group.exactly_one else [None])
        met = draw(st.sampled_from(choices + ["not_assessed"]))
        for member in group.criteria:
            findings[member] = ("not_assessed" if met == "not_assessed" else "met" if member == met else "not_met")
    for criterion in cs.criteria:
        if criterion.id in findings:
            continue
        if criterion.scored:
            findings[criterion.id] = draw(st.one_of(st.integers(criterion.scored.min, criterion.scored.max),
                                                   st.just("not_assessed")))
        else:
            findings[criterion.id] = draw(st.sampled_from(["met", "not_met", "not_assessed"]))
    factors = {name: draw(st.booleans()) for name in fw.factors}
    subgrades = {sub.id: draw(st.sampled_from([level.id for level in scale.levels])) for sub in cs.subgrades}
    return set_id, findings, factors, subgrades


def fill_text(text: str, findings: dict, factors: dict, subgrades: dict) -> str:
    """Fill the blank's values in place, comments and structure untouched, as an assessor would."""
    out, section, criterion = [], None, None
    for line in text.splitlines():
        if re.fullmatch(r"[a-z_]+:.*", line):
            section = line.split(":", 1)[0]
        if line.startswith("  - criterion: "):
            criterion = line.split(": ", 1)[1]
        bare = re.fullmatch(r"  ([a-z0-9_-]+):", line)
        if line in ("    finding:", "    score:") and criterion in findings:
            value = findings[criterion]
            line = f"    score: {value}" if isinstance(value, int) else f"    finding: {value}"
        elif bare and section == "factors" and bare.group(1) in factors:
            line += " true" if factors[bare.group(1)] else " false"
        elif bare and section == "subgrades" and bare.group(1) in subgrades:
            line += f" {subgrades[bare.group(1)]}"
        out.append(line)
    return "\n".join(out) + "\n"


def as_data(set_id: str, findings: dict, factors: dict, subgrades: dict) -> dict:
    """The same evidence written as data, from the values alone, never from the blank."""
    return {"arbiter": "case", "id": "mine/filled", "criteria": set_id, "subject": SUBJECT, "constructed": False,
            **({"factors": factors} if factors else {}), **({"subgrades": subgrades} if subgrades else {}),
            "findings": [{"criterion": c, **({"score": v} if isinstance(v, int) else {"finding": v})}
                         for c, v in findings.items()]}


@settings(max_examples=120)
@given(data=st.data())
def test_a_filled_blank_validates_and_is_the_evidence_its_values_say(catalog, tmp_path_factory, data):
    set_id, findings, factors, subgrades = data.draw(fills(catalog))
    path = tmp_path_factory.mktemp("filled") / "filled.yaml"
    path.write_text(fill_text(blank(catalog, set_id), findings, factors, subgrades), encoding="utf-8")
    assert engine.validate(catalog, [path]) == (1, [])
    from_file = engine.score(catalog, path).decisions[0]
    from_data = engine.score(catalog, as_data(set_id, findings, factors, subgrades)).decisions[0]
    assert from_file.evidence_sha256 == from_data.evidence_sha256
    assert (from_file.outcome, from_file.decision_id) == (from_data.outcome, from_data.decision_id)


@pytest.mark.parametrize("set_id", SETS)
def test_every_blank_filled_in_scores_through_the_command(catalog, tmp_path, set_id):
    cs = model(catalog, set_id)
    findings = {c.id: (c.scored.max if c.scored else "met") for c in cs.criteria}
    for group in cs.exclusive:  # one member met, as the group requires
        findings.update({member: "met" if k == 0 else "not_met" for k, member in enumerate(group.criteria)})
    criteria = load_criteria(catalog, set_id)
    factors = {name: True for name in criteria.framework.model.factors}
    subgrades = {sub.id: criteria.scale.model.levels[0].id for sub in cs.subgrades}
    cases = tmp_path / "cases" / "mine"
    written = run("new-case", set_id, "--subject", SUBJECT, "-o", cases / "filled.yaml", "--root", ROOT)
    assert written.exit_code == 0, written.output
    path = cases / "filled.yaml"
    assert yaml.safe_load(path.read_text(encoding="utf-8"))["id"] == "mine/filled"  # from its place under cases/
    path.write_text(fill_text(path.read_text(encoding="utf-8"), findings, factors, subgrades), encoding="utf-8")
    result = run("score", path, "--root", ROOT, "--format", "json")
    assert result.exit_code == 0, result.output
    assert '"case": "mine/filled"' in result.stdout


# --- the command's options ----------------------------------------------------------------------

def refused(result, code: str, place: str) -> str:
    assert result.exit_code == 2, result.output
    assert f"{place}: error {code}:" in result.output, result.output
    assert "Traceback" not in result.output
    return result.output


def test_help_has_an_example():
    result = run("new-case", "--help")
    assert result.exit_code == 0 and "Example:" in result.output and "arbiter new-case" in result.output


def test_an_unknown_set_is_refused_with_a_did_you_mean():
    output = refused(run("new-case", "hmic-2007/missing-person", "--subject", SUBJECT, "--root", ROOT),
                     "E120", "CRITERIA_SET")
    assert "did you mean 'hmic-2007/missing-persons'?" in output
    output = refused(run("new-case", "nothing-like-it", "--subject", SUBJECT, "--root", ROOT), "E120", "CRITERIA_SET")
    assert "valid: 'examples-" in output


def test_a_set_given_by_its_file_is_the_set(catalog):
    by_path = run("new-case", ROOT / "criteria" / "hmic-2007" / "child-abuse.yaml", "--subject", SUBJECT,
                  "--root", ROOT)
    assert by_path.exit_code == 0 and by_path.stdout == run("new-case", "hmic-2007/child-abuse", "--subject", SUBJECT,
                                                            "--root", ROOT).stdout


@pytest.mark.parametrize("args, code, place", [
    (["hmic-2007/framework"], "E114", "CRITERIA_SET"),                # a file of another kind
    (["hmic-2007/child-abuse", "--id", "Mine/Case"], "E113", "--id"),  # not an id: the record would not load
    (["hmic-2007/child-abuse", "--subject", " "], "E113", "--subject"),
    (["hmic-2007/child-abuse", "--subject", "two\nlines"], "E113", "--subject"),
])
def test_values_that_would_not_load_are_refused_at_their_option(args, code, place):
    subject = [] if "--subject" in args else ["--subject", SUBJECT]
    refused(run("new-case", *args, *subject, "--root", ROOT), code, place)


def test_an_existing_output_is_never_overwritten(tmp_path):
    existing = tmp_path / "case.yaml"
    existing.write_text("keep me\n", encoding="utf-8")
    output = refused(run("new-case", "hmic-2007/child-abuse", "--subject", SUBJECT, "-o", existing, "--root", ROOT),
                     "E117", "--output")
    assert "exists; a file is never overwritten" in output
    assert existing.read_text(encoding="utf-8") == "keep me\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["case.yaml"]  # no temporary file left behind


@pytest.mark.parametrize("target_exists", [True, False])
def test_a_symbolic_link_is_never_written_through(tmp_path, target_exists):
    target = tmp_path / "target.yaml"
    if target_exists:
        target.write_text("keep me\n", encoding="utf-8")
    link = tmp_path / "link.yaml"
    link.symlink_to(target)
    output = refused(run("new-case", "hmic-2007/child-abuse", "--subject", SUBJECT, "-o", link, "--root", ROOT),
                     "E117", "--output")
    assert "is a symbolic link" in output
    assert target.read_text(encoding="utf-8") == "keep me\n" if target_exists else not target.exists()
    assert link.is_symlink()


def test_an_output_is_written_whole(tmp_path):
    path = tmp_path / "cases" / "kent" / "child-abuse.yaml"
    result = run("new-case", "hmic-2007/child-abuse", "--subject", "Kent Police", "-o", path, "--root", ROOT)
    assert result.exit_code == 0 and result.stdout == f"wrote {path}\n"
    written = path.read_text(encoding="utf-8")
    assert written == run("new-case", "hmic-2007/child-abuse", "--subject", "Kent Police", "--id", "kent/child-abuse",
                          "--root", ROOT).stdout
    assert sorted(p.name for p in path.parent.iterdir()) == ["child-abuse.yaml"]
    umask = os.umask(0)
    os.umask(umask)
    assert path.stat().st_mode & 0o777 == 0o666 & ~umask  # as any new file, not a private temporary's mode


def test_a_subject_is_written_as_text_whatever_it_holds(catalog):
    subject = 'Kent Police: "the force" # not a comment'
    data = yaml.safe_load(engine.new_case(catalog, "hmic-2007/child-abuse", subject))
    assert data["subject"] == subject and data["id"] == "new-case"
