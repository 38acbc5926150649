"""Diagnostics say what is wrong in words that fit, and a file's problems come all at once.

- every message our model validators raise renders with no template placeholder left in it;
- a repeated value's hint (E121) fits what was repeated;
- a file with a shape problem still gets its cross-reference checks, on what did validate,
  with no problem reported only because of the shape one (the oracle: breaking the shape of
  any one part of a file never adds a problem the file did not have);
- a decided record carries no reason for being undecided.
"""

from __future__ import annotations

import ast
import copy
import dataclasses
import inspect
import re
from pathlib import Path
from string import Formatter

import pytest
from pydantic import ValidationError

from engine.language import appointment_models, models
from engine.inspections.cases import load_case, score
from engine.workspace.crosscheck import cross_check
from engine.language.diagnostics import CODES, DiagnosticError
from engine.inspections.explain import render_text
from engine.language.load import dump_yaml, load_file
from engine.workspace.runner import validate_file
from engine.language.validate import ALL_MODELS, file_kind

from .conftest import ROOT

# --- custom error templates -----------------------------------------------------------------

ERROR_CLASSES = ("coded_error", "PydanticCustomError")


def raised_templates() -> list[str]:
    """The message template of every coded error the model modules can raise, read from source."""
    found = []
    for module in (models, appointment_models):
        tree = ast.parse(inspect.getsource(module))
        helper = {id(n) for f in ast.walk(tree) if getattr(f, "name", None) == "coded_error" for n in ast.walk(f)}
        for node in ast.walk(tree):
            if id(node) in helper:
                continue  # the helper itself passes its template on
            if isinstance(node, ast.Call) and getattr(node.func, "id", None) in ERROR_CLASSES and len(node.args) > 1:
                template = node.args[1]
                assert isinstance(template, ast.Constant), \
                    f"{module.__name__}:{node.lineno}: a template must be written out; pass values in the context"
                found.append(template.value)
    return found


def test_templates_use_only_plain_placeholders():
    """pydantic fills `{name}` and nothing else: `{value!r}` would be printed as it stands."""
    templates = raised_templates()
    assert len(templates) >= 14
    for template in templates:
        for _, name, spec, conversion in Formatter().parse(template):
            assert name is None or not (spec or conversion), template


# One input raising each template (a few raise the same code with different words).
def _too_many(file_id: str, key: str) -> dict:
    """A shipped file with its list `key` one entry over the engine's limit (E136)."""
    data = copy.deepcopy(load_file(ROOT / "criteria" / f"{file_id}.yaml").data)
    limit = appointment_models.MAX_GATES if key == "gates" else appointment_models.MAX_REQUIREMENTS
    data[key] = [dict(copy.deepcopy(data[key][0]), id=f"entry-{i}") for i in range(limit + 1)]
    return data


def _too_many_categories() -> dict:
    """The example pair table with categories past the limit, each mapped by no row."""
    data = copy.deepcopy(load_file(ROOT / "criteria" / "examples-pair-table" / "assessment.yaml").data["scoring"])
    data["categories"] += [{"id": f"extra{i}", "passes": True} for i in range(appointment_models.MAX_PAIR_CATEGORIES)]
    return data


RAISING = [
    (models.Quantifier, {"phrase": "most of", "at_least": 0.5, "more_than": 0.5}),
    (models.Quantifier, {"phrase": "most of", "at_least": 80}),
    (models.Condition, {"met": {}, "not_met": {}, "is": "most"}),
    (models.Condition, {"met": {}}),
    (models.Condition, {"worst_subgrade": {}, "at_least": 3}),
    (models.Condition, {"worst_subgrade": {}, "exactly": "good"}),
    (models.Condition, {"met": {}, "at_least": "good"}),
    (models.Condition, {"subgrades_at_or_below": {"level": "good"}, "is": "most"}),
    (models.Condition, {"met": {}, "at_least": -1}),
    (models.Condition, {"worst_subgrade": {}, "below": 2}),
    (models.Condition, {"score": "v0", "is": "most"}),
    (models.ScoreScale, {"min": 4, "max": 1}),
    (models.ScoreScale, {"min": 1, "max": 4, "labels": ["poor", "good"]}),
    (models.Finding, {"criterion": "v0"}),
    (models.Finding, {"criterion": "v0", "finding": "met", "score": 3}),
    (models.SubgradeEntry, {"provenance": "inspected"}),
    (models.SubgradeEntry, {"grade": "good", "provenance": "ungraded"}),
    (models.SubgradeEntry, {"grade": "good", "provenance": "carried_over"}),
    (models.SubgradeEntry, {"decision": "examples/q1", "provenance": "carried_over"}),
    (models.SubgradeEntry, {"decision": "examples/q1", "decision_id": "d4af1cb27a65b2f1"}),
    (models.Subgrade, {"id": "q" * 101, "title": "an id over the length limit"}),
    (models.LintException, {"code": "L299", "reason": "no lint code has this number"}),
    (appointment_models.Fraction, {"numerator": 3, "denominator": 2}),
    (appointment_models.Requirement, {"id": "r", "description": "no test"}),
    (appointment_models.Requirement, {"id": "r", "description": "a value with no bound", "value": "term"}),
    (appointment_models.Requirement, {"id": "r", "description": "a bound it ignores", "value": "term", "at_most": 60,
                                      "within": {"numerator": 1, "denominator": 10}}),
    (appointment_models.Requirement, {"id": "r", "description": "two bounds", "value": "term", "at_most": 60,
                                      "at_least": 12}),
    (appointment_models.Condition, {"differ": ["a", "b"], "is_true": "c"}),
    (appointment_models.ComplianceFramework, _too_many("compliance/chief-constable-appointment", "requirements")),
    (appointment_models.SelectionProcess, _too_many("appointments/kent-chief-constable-2022", "gates")),
    (appointment_models.Scoring, {"method": "sum_of_agreed_ratings", "rank_by": ["strong"]}),
    (appointment_models.Scoring, {"method": "pair_table", "assessors": 2}),
    (appointment_models.Scoring, _too_many_categories()),
]


def coded_errors(model_cls, data) -> list[dict]:
    with pytest.raises(ValidationError) as raised:
        model_cls.model_validate(data)
    return [e for e in raised.value.errors() if e["type"] in CODES]


def test_every_template_renders_with_no_placeholder_left():
    rendered = [e["msg"] for model_cls, data in RAISING for e in coded_errors(model_cls, data)]
    for message in rendered:
        assert "{" not in message and "}" not in message, message
    for template in raised_templates():  # every template is raised by some input above
        pattern = "".join(re.escape(text) + (".+?" if name is not None else "")
                          for text, name, _, _ in Formatter().parse(template))
        assert any(re.fullmatch(pattern, m) for m in rendered), f"no input raises {template!r}"


def test_a_value_in_a_message_is_shown_as_written():
    (level,) = coded_errors(models.Condition, {"worst_subgrade": {}, "at_least": 3})
    assert level["msg"] == "worst_subgrade is compared with a level id (at_least: good), not 3"
    (count,) = coded_errors(models.Condition, {"met": {}, "at_least": "good"})
    assert count["msg"] == "met is a count: at_least takes a whole number, not 'good'"


def diagnostics_of(tmp_path: Path, catalog, data: dict, name: str = "file.yaml"):
    path = tmp_path / name
    path.write_text(dump_yaml(data), encoding="utf-8")
    with pytest.raises(DiagnosticError) as raised:
        validate_file(path, catalog)
    return raised.value.diagnostics


def test_each_coded_error_has_a_hint_of_its_own(tmp_path, catalog):
    """A requirement with no test is told about tests, not about a condition's quantity."""
    data = load_file(ROOT / "criteria" / "compliance" / "chief-constable-appointment.yaml").data
    data = copy.deepcopy(data)
    del data["requirements"][0]["days_between"]
    (problem,) = diagnostics_of(tmp_path, catalog, data)
    assert problem.code == "E133" and "quantity" not in problem.suggestion and "test" in problem.suggestion


# --- E121: what to do about a repeat ---------------------------------------------------------

def framework_data() -> dict:
    return copy.deepcopy(load_file(ROOT / "criteria" / "hmic-2007" / "framework.yaml").data)


def test_a_second_rule_for_a_level_needs_an_id_of_its_own(tmp_path, catalog):
    data = framework_data()
    data["grades"].append(copy.deepcopy(data["grades"][1]))
    (problem,) = diagnostics_of(tmp_path, catalog, data)
    assert problem.code == "E121"
    assert problem.message.startswith(f"duplicate grade rule '{data['grades'][1]['level']}'")
    assert problem.suggestion.startswith("a level reached by more than one rule needs an id for each")
    data["grades"][-1]["id"] = "good-another-way"  # an alternative: the level is reached either way,
    data["grades"][0].pop("builds_on")  # so nothing may build on it (which of its rules?)
    validated = tmp_path / "framework.yaml"
    validated.write_text(dump_yaml(data), encoding="utf-8")
    validate_file(validated, catalog)


def test_a_repeated_area_in_an_exercise_is_removed(tmp_path, catalog):
    data = copy.deepcopy(load_file(ROOT / "criteria" / "appointments" / "kent-chief-constable-2022.yaml").data)
    exercise = data["exercises"][0]
    exercise["assesses"].append(exercise["assesses"][0])
    (problem,) = diagnostics_of(tmp_path, catalog, data)
    assert problem.code == "E121" and problem.message.startswith(f"duplicate area '{exercise['assesses'][0]}'")
    assert "remove the repeat" in problem.suggestion and exercise["id"] in problem.suggestion


# --- a shape problem does not hide the reference problems ------------------------------------

def edited(relative: str, *edits) -> dict:
    """A copy of a project file's data with each (place, value) written in."""
    data = copy.deepcopy(load_file(ROOT / relative).data)
    for place, value in edits:
        target = data
        for step in place[:-1]:
            target = target[step]
        target[place[-1]] = value
    return data


# (file, a shape problem, a reference problem, the codes of both)
BOTH = [
    ("criteria/scales/hmic-2007-grades.yaml", (("levels", 0, "label"), ["a", "list"]),
     (("levels", 2, "id"), "good"), {"E112", "E121"}),
    ("criteria/hmic-2007/framework.yaml", (("quantifiers", "vast_majority", "at_least"), 80),
     (("grades", 0, "level"), "excelent"), {"E132", "E125"}),
    ("criteria/hmic-2007/missing-persons.yaml", (("criteria", 0, "text"), ["a", "list"]),
     (("criteria", 3, "tier"), "god"), {"E112", "E120"}),
    ("cases/kent-2007/missing-persons.yaml", (("findings", 0, "finding"), "mett"),
     (("expect", "outcome"), "excelent"), {"E113", "E125"}),
    ("criteria/cvf.yaml", (("values", 0, "name"), ["a", "list"]),
     (("competencies", 2, "cluster"), "nowhere"), {"E112", "E120"}),
    ("criteria/appointments/kent-chief-constable-2022.yaml", (("exercises", 0, "title"), ["a", "list"]),
     (("exercises", 1, "assesses", 0), "nowhere"), {"E112", "E120"}),
    ("cases/appointments/constructed/single-candidate.yaml", (("ratings", 0, "agreed"), 3.5),
     (("ratings", 4, "exercise"), "nowhere"), {"E112", "E120"}),
    ("cases/appointments/kent-cc-2022/hearing.yaml", (("note",), ["a", "list"]), (("present",), 14),
     {"E112", "E113"}),
    ("cases/appointments/kent-cc-2022/compliance.yaml", (("subject",), ["a", "list"]),
     (("dates", "advert_published"), "2022-13-03"), {"E112", "E113"}),
]


def test_every_file_kind_is_cross_checked_despite_its_shape():
    from engine.workspace.crosscheck import _CHECKS, NEEDS

    assert set(_CHECKS) == set(NEEDS) == set(ALL_MODELS)


@pytest.mark.parametrize("relative,shape,reference,codes", BOTH, ids=[b[0] for b in BOTH])
def test_shape_and_reference_problems_are_reported_together(tmp_path, catalog, relative, shape, reference, codes):
    problems = diagnostics_of(tmp_path, catalog, edited(relative, shape, reference))
    assert {d.code for d in problems} == codes, "\n".join(d.render() for d in problems)


def test_a_reference_problem_is_located_past_an_entry_left_out(tmp_path, catalog):
    """Entries after one that salvage left out keep their own lines."""
    data = edited("cases/appointments/constructed/single-candidate.yaml", (("ratings", 0, "agreed"), 3.5),
                  (("ratings", 4, "exercise"), "nowhere"))
    path = tmp_path / "file.yaml"
    path.write_text(dump_yaml(data), encoding="utf-8")
    doc = load_file(path)
    unknown = next(d for d in diagnostics_of(tmp_path, catalog, data) if d.code == "E120")
    assert (unknown.line, unknown.col) == doc.where(("ratings", 4, "exercise"))


# The oracle: break the shape of one part of a file, anywhere, and the cross-reference checks
# that still run find nothing the whole file did not have. A problem they add is a follow-on
# of the shape problem (a finding left out reported as missing, a definition left out
# reported as unknown) or is put at the wrong line.
ORACLE_FILES = [
    "criteria/scales/cvf-rating.yaml",
    "criteria/hmic-2007/framework.yaml",
    "criteria/examples-counting/framework.yaml",
    "criteria/examples-counting/four-questions.yaml",
    "cases/examples-counting/departure-recorded.yaml",
    "cases/kent-peel/2018/effectiveness.yaml",
    "criteria/appointments/kent-chief-constable-2022.yaml",
    "criteria/panels/confirmation-hearing.yaml",
    "criteria/compliance/chief-constable-appointment.yaml",
    "cases/appointments/kent-cc-2022/hearing.yaml",
    "cases/appointments/kent-cc-2022/compliance.yaml",
    "criteria/packs/appointment.yaml",
    "cases/appointments/kent-cc-2022/pack.yaml",
    # files with reference problems of their own, which must stay as they are
    "cases/invalid/pack-unknown-case.yaml",
    "cases/invalid/unknown-criterion.yaml",
    "cases/invalid/framework-unknown-level.yaml",
    "cases/invalid/criteria-unknown-tier.yaml",
    "cases/invalid/appointment-unknown-exercise.yaml",
    "cases/invalid/appointment-adviser-scores.yaml",
]
WRONG = {"?": [None]}  # no field, list or mapping of any file kind accepts this


def places(data, at=()):
    """Every place in the data: each mapping value and each list entry, at any depth."""
    items = data.items() if isinstance(data, dict) else enumerate(data) if isinstance(data, list) else ()
    for step, value in items:
        if at + (step,) != ("arbiter",):
            yield at + (step,)
            yield from places(value, at + (step,))


def with_value(data, place, value):
    if not place:
        return value
    copied = dict(data) if isinstance(data, dict) else list(data)
    copied[place[0]] = with_value(data[place[0]], place[1:], value)
    return copied


def with_key_misspelt(data, place):
    """The key at place written with an extra letter (only keys of fields: top level, list entries)."""
    def misspell(mapping):
        return {(key + "x" if key == place[-1] else key): value for key, value in mapping.items()}
    if len(place) == 1:
        return misspell(data)
    parent = data
    for step in place[:-1]:
        parent = parent[step]
    return with_value(data, place[:-1], misspell(parent))


def problems(doc, catalog) -> set[tuple]:
    try:
        validate_file(Path(doc.path), catalog)
    except DiagnosticError as error:
        return {(d.path, d.line, d.col, d.code, d.message) for d in error.diagnostics}
    return set()


@pytest.mark.parametrize("relative", ORACLE_FILES)
def test_a_shape_problem_adds_no_other_problem(relative, catalog):
    doc = load_file(ROOT / relative)
    kind = file_kind(doc)
    had = problems(doc, catalog)
    breaks = [(place, with_value(doc.data, place, WRONG)) for place in places(doc.data)]
    breaks += [(place, with_key_misspelt(doc.data, place)) for place in places(doc.data)
               if len(place) == 1 or isinstance(place[-2], int)]
    for place, data in breaks:
        broken = dataclasses.replace(doc, data=data)
        with pytest.raises(ValidationError):
            ALL_MODELS[kind].model_validate(data)  # the break is a shape problem
        added = [d.render() for d in cross_check(broken, kind, catalog)
                 if (d.path, d.line, d.col, d.code, d.message) not in had]
        assert not added, f"breaking {place}:\n" + "\n".join(added)


# --- the decision record -----------------------------------------------------------------------

def record_of(relative: str, catalog) -> dict:
    return score(load_case(ROOT / relative, catalog))


def test_a_decided_record_has_no_undecided_reason(catalog):
    record = record_of("cases/kent-2007/missing-persons.yaml", catalog)
    assert record["outcome"] == "good" and record["undecided_reason"] is None
    assert "Reason no rule decides" not in render_text(record, "full")


def test_an_undecided_record_says_why(catalog):
    record = record_of("cases/constructed-2007/professional-judgement.yaml", catalog)
    assert record["outcome"] == "professional_judgement" and record["undecided_reason"]
    assert f"Reason no rule decides: {record['undecided_reason']}" in render_text(record, "full")


def test_a_judgement_on_what_the_rules_left_undecided_keeps_the_reason(catalog):
    """The rules decided nothing and a recorded judgement did: the reason is why one was needed."""
    record = record_of("cases/kent-peel/2018/effectiveness.yaml", catalog)
    assert record["computed_outcome"] == "professional_judgement" != record["outcome"]
    assert record["undecided_reason"] and "Reason no rule decides" in render_text(record, "full")


@pytest.mark.parametrize("name", ["case-shape-and-reference", "appointment-shape-and-reference"])
def test_score_reports_shape_and_reference_problems_together_as_validate_does(name, catalog):
    from engine.workspace.runner import render_rebased, score_paths
    _, problems = score_paths([ROOT / "cases" / "invalid" / f"{name}.yaml"], catalog)
    golden = (ROOT / "cases" / "invalid" / f"{name}.expected").read_text(encoding="utf-8").rstrip("\n")
    assert render_rebased(problems, catalog) == golden
