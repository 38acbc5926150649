"""Every case in cases/ meets its expectation; every invalid file gives its golden diagnostics."""

from __future__ import annotations

import pytest

from engine.language.catalog import declared_kind
from engine.workspace.runner import CASE_KINDS, run_tests, yaml_files

from .conftest import ROOT

CASE_FILES = yaml_files([ROOT / "cases"])


@pytest.mark.parametrize("path", CASE_FILES, ids=lambda p: p.relative_to(ROOT / "cases").as_posix())
def test_case(path, catalog):
    (result,) = run_tests([path], catalog)
    assert result.passed, result.detail or f"expected {result.expected}, got {result.actual}"


PUBLISHED_2007 = {
    "neighbourhood-policing": "fair",
    "performance-management": "good",
    "child-abuse": "fair",
    "domestic-violence": "fair",
    "public-protection": "fair",
    "missing-persons": "good",
}


@pytest.mark.parametrize("area,grade", sorted(PUBLISHED_2007.items()))
def test_kent_2007_reproduces_published_grade(area, grade, catalog):
    """Kent's published 2007 grades (000:657-679), independent of the cases' own expect blocks."""
    from engine.inspections.cases import load_case, score

    record = score(load_case(ROOT / "cases" / "kent-2007" / f"{area}.yaml", catalog))
    assert record["outcome"] == grade
    assert record["constructed"] is False


def test_constructed_cases_say_so(catalog):
    from engine.inspections.cases import load_case

    for path in sorted((ROOT / "cases" / "constructed-2007").glob("*.yaml")):
        case = load_case(path, catalog).case
        assert case.constructed and case.note.startswith("Constructed"), path


def test_corpus_covers_every_outcome(catalog):
    from engine.workspace.runner import score_file

    outcomes = {score_file(p, catalog).records[-1]["outcome"] for p in CASE_FILES
                if "invalid" not in p.parts and declared_kind(p) in CASE_KINDS}
    assert {"excellent", "good", "fair", "poor", "professional_judgement"} <= outcomes
    assert {"preferred", "tie", "no_appointable_candidate", "veto", "no_veto", "compliant", "not_compliant"} <= outcomes


def test_flags_are_shown_on_the_decision_not_raised_as_errors(catalog):
    from engine.workspace.runner import score_file

    process = score_file(ROOT / "cases" / "appointments" / "constructed" / "flags.yaml", catalog).records[-1]
    assert {f["code"] for f in process["flags"]} == {"F201", "F202", "F203"}
    assert process["outcome"] == "preferred"


def test_kent_2022_compliance_passes_with_no_day_to_spare(catalog):
    from engine.workspace.runner import score_file

    record = score_file(ROOT / "cases" / "appointments" / "kent-cc-2022" / "compliance.yaml", catalog).records[0]
    window = next(r for r in record["requirements"] if r["requirement"] == "advert-window")
    assert record["outcome"] == "compliant" and window["text"].startswith("advert-window: 21 days")


def test_the_readme_states_how_many_published_grades_the_rules_reproduce(catalog):
    """`arbiter test` prints the count; the README states the same one (Published grades reproduced)."""
    from engine.workspace.runner import reproduction

    count = reproduction(run_tests([ROOT / "cases"], catalog))
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert count.describe() in readme
    assert count.published == count.reproduced + count.by_judgement  # no case misses its published grade silently


def test_a_published_grade_only_a_judgement_reaches_is_counted_apart(catalog):
    from engine.workspace.runner import reproduction

    (result,) = run_tests([ROOT / "cases" / "kent-peel" / "2018" / "effectiveness.yaml"], catalog)
    assert result.published is not None and result.published.by == "judgement"
    assert reproduction([result]).describe() == "0 of 1 published grades reproduced by the rules, 1 only by recorded judgement"


def test_a_disagreement_with_the_oracle_names_each_condition_it_observes_as_people_read_it():
    """When the record states none of the conditions the oracle observes, `arbiter test` lists
    each one: the rule, the condition's place in it counted from 1, what was counted, out of
    how many (nothing for causes of concern, which range over no list) and whether it holds."""
    from engine.compiler.compile import compile_criteria
    from engine.inspections.cases import decide_case
    from engine.language.criteria import Criteria
    from engine.language.decision_model import validated
    from engine.language.models import (Case, Condition, Criterion, CriteriaSet, Described, Everything, Finding,
                                        Framework, GradeRule, Level, Limiter, Scale, Selection, Undecided)
    from engine.oracle import reference
    from engine.workspace.runner import engines_disagree

    scale = Scale(arbiter="scale", id="gen-scale", title="Built scale",
                  levels=tuple(Level(id=lv, label=f"Level {lv}", definition=lv) for lv in ("l0", "l1", "l2")))
    framework = Framework(
        arbiter="framework", id="gen", title="Built framework", version="1", scale=scale.id,
        tiers={"fair": Described(description="every criterion")},
        grades=(GradeRule(level="l0", when=(Condition(met=Selection(ids=("k0",)), at_least=1),
                                            Condition(causes_of_concern=Everything(), at_most=0))),),
        limiters=(Limiter(id="k1-not-met", cap="l1", description="k1 is not met",
                          when=(Condition(not_met=Selection(ids=("k1",)), at_least=1),)),),
        undecided=Undecided(outcome="professional_judgement", reason="no rule decides"))
    criteria_set = CriteriaSet(arbiter="criteria", id="gen/set", framework="gen", title="Built area",
                               criteria=tuple(Criterion(id=k, tier="fair", text=k) for k in ("k0", "k1")))
    case = Case(arbiter="case", id="gen/case", criteria=criteria_set.id, subject="Built force", constructed=True,
                findings=(Finding(criterion="k0", finding="met"), Finding(criterion="k1", finding="met")))
    criteria = Criteria.from_models(scale, framework, criteria_set)
    record = validated(decide_case(compile_criteria(criteria), case))
    oracle = reference.evaluate(criteria, case)
    assert engines_disagree(record, oracle) == ""
    assert engines_disagree({**record, "tallies": []}, oracle).splitlines()[1:] == [
        "  conditions the oracle observes, which durable-rules does not state: ["
        "\"grade rule 'l0', condition 1: met 1 of 1: holds\", "
        "\"grade rule 'l0', condition 2: causes_of_concern 0: holds\", "
        "\"limiter 'k1-not-met', condition 1: not_met 0 of 1: does not hold\"]"]


def test_the_oracle_names_the_rule_each_condition_belongs_to_by_its_kind():
    """The rule `arbiter test` names beside each condition the oracle observes: a grade rule by
    its id (or its level), a floor as a floor and a limiter as a limiter, each by its id."""
    from engine.language.models import (Condition, Described, Floor, Framework, GradeRule, Level, Limiter, Scale,
                                        Selection, Undecided)
    from engine.oracle import reference

    scale = Scale(arbiter="scale", id="gen-scale", title="Built scale",
                  levels=tuple(Level(id=lv, label=f"Level {lv}", definition=lv) for lv in ("l0", "l1", "l2")))
    met = Condition(met=Selection(ids=("k0",)), at_least=1)
    framework = Framework(
        arbiter="framework", id="gen", title="Built framework", version="1", scale=scale.id,
        tiers={"fair": Described(description="every criterion")},
        grades=(GradeRule(level="l0", when=(met,)),),
        floors=(Floor(id="k0-met", floor="l1", description="k0 is met", when=(met,)),),
        limiters=(Limiter(id="k1-not-met", cap="l1", description="k1 is not met",
                          when=(Condition(not_met=Selection(ids=("k1",)), at_least=1),)),),
        undecided=Undecided(outcome="professional_judgement", reason="no rule decides"))
    assert [(where[0], rule) for where, rule, _ in reference.written_conditions(framework)] == [
        ("grades", "grade rule 'l0'"), ("floors", "floor 'k0-met'"), ("limiters", "limiter 'k1-not-met'")]
