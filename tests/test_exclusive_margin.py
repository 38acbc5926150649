"""The margin keeps exclusive groups: it never proposes a second member of a group met, nor an
exactly_one group with none met; moving a group's one met member to another is one change (a
switch), named as such in the record and the explanation. The laws over generated worlds are in
test_scored_laws.py; these are the cases that show each point on its own."""

from __future__ import annotations

from engine.compiler.compile import compile_criteria, compile_set
from engine.inspections.cases import check_case_against, decide_case
from engine.inspections.explain import margin_text
from engine.language.criteria import Criteria
from engine.language.decision_model import validated
from engine.language.load import Document
from engine.language.models import (Case, Condition, Criterion, CriteriaSet, Described, ExclusiveGroup, Finding,
                                    Framework, GradeRule, HitPolicy, Level, Scale, Selection, Undecided)
from engine.oracle import reference
from engine.runtime.decide import evaluate
from engine.runtime.margin import FOUND, Change, margin
from engine.runtime.tally import Evidence

SCALE = Scale(arbiter="scale", id="gen-scale", title="Generated scale",
              levels=tuple(Level(id=f"l{i}", label=f"Level {i}", definition=f"level {i}") for i in range(2)))


def _decided(catalog, name: str) -> dict:
    compiled = compile_set(catalog, "examples-scored/four-services")
    case = catalog.load(catalog.root / f"cases/examples-scored/{name}.yaml", "case").model
    return validated(decide_case(compiled, case))


def test_a_second_rating_met_is_never_proposed_and_the_switch_is(catalog):
    """sum-of-twelve rates key question 1 good. Marking kq1-inadequate met beside it would break
    the group (E128): the margin proposes instead kq1-inadequate met in place of kq1-good, one
    change, and says so in the record and the explanation."""
    margin_record = _decided(catalog, "sum-of-twelve")["margin"]
    ratings = [c for c in margin_record["single_changes"] if c["id"].startswith("kq1-")]
    assert ratings == [{"kind": "finding", "id": "kq1-inadequate", "from": "not_met", "to": "met",
                        "replaces": "kq1-good", "outcome": "requires_improvement",
                        "outcome_label": "Requires improvement"}]
    text = margin_text(margin_record, overridden=False)
    assert "kq1-inadequate is met in place of kq1-good" in text
    assert "kq1-inadequate is met;" not in text and "kq1-inadequate is met," not in text


def test_the_inadequate_rating_is_lifted_by_a_switch_never_by_leaving_none(catalog):
    """question-rated-inadequate: kq1-inadequate not met alone would leave the exactly_one group
    with none met; the way up is another rating met in place of it, one change."""
    margin_record = _decided(catalog, "question-rated-inadequate")["margin"]
    assert not any(c["id"] == "kq1-inadequate" for c in margin_record["single_changes"])
    switches = {c["id"] for c in margin_record["single_changes"] if c.get("replaces") == "kq1-inadequate"}
    assert switches == {"kq1-outstanding", "kq1-good", "kq1-requires-improvement"}
    up = margin_record["up"]
    assert (up["status"], up["fewest_changes"], up["example_outcome"]) == ("found", 1, "outstanding")
    assert up["example"] == [{"kind": "finding", "id": "kq1-outstanding", "from": "not_met", "to": "met",
                              "replaces": "kq1-inadequate"}]
    assert "kq1-outstanding met in place of kq1-inadequate gives Outstanding" in margin_text(margin_record, False)


def _grouped(grades: tuple) -> Criteria:
    cs = CriteriaSet(arbiter="criteria", id="gen/set", framework="gen", title="Generated area",
                     criteria=tuple(Criterion(id=f"k{i}", tier="fair", text=f"rating {i}") for i in range(2)),
                     exclusive=(ExclusiveGroup(id="g", criteria=("k0", "k1"), exactly_one=True),))
    framework = Framework(
        arbiter="framework", id="gen", title="Generated framework", version="1", scale=SCALE.id,
        tiers={"fair": Described(description="met or not")}, grades=grades, hit_policy=HitPolicy(policy="best"),
        undecided=Undecided(outcome="professional_judgement", reason="no rule decides"))
    return Criteria.from_models(SCALE, framework, cs)


def _case(**values) -> Case:
    return Case(arbiter="case", id="gen/case", criteria="gen/set", subject="Generated force", constructed=True,
                findings=tuple(Finding(criterion=cid, finding=v) for cid, v in values.items()))


def test_a_change_that_only_keeps_the_group_valid_is_searched():
    """l0 needs k0 not assessed. Alone, that leaves the exactly_one group assessed (k1 not met)
    with none met; with k1 not assessed too the case is valid. k1's change moves no condition
    the target depends on, yet it is in the fewest set: the search keeps a group's changes
    whatever their direction."""
    criteria = _grouped((GradeRule(level="l0", when=(Condition(not_assessed=Selection(ids=("k0",)), at_least=1),)),
                         GradeRule(level="l1", when=(Condition(met=Selection(ids=("k0",)), at_most=1),))))
    compiled = compile_criteria(criteria)
    case = _case(k0="met", k1="not_met")
    evidence = Evidence.from_case(case, compiled.plan)
    assert evaluate(compiled, evidence).computed == "l1"
    found = margin(compiled, evidence, "l1")
    assert not any(s.change.id == "k0" for s in found.single)  # k0 not assessed alone is refused
    assert (found.up.status, found.up.fewest) == (FOUND, 2)
    findings = {"k0": "met", "k1": "not_met"}
    for change in found.up.example:
        findings[change.id] = change.after
    example = _case(**findings)
    assert check_case_against(criteria, example, Document("<case>", {})) == []
    assert reference.evaluate(criteria, example).computed == found.up.example_outcome == "l0"


def test_a_switch_is_one_change_naming_both_findings():
    """A switch changes two findings and counts once: the met member not met, the other met."""
    switch = Change("finding", "k1", "not_met", "met", replaces="k0")
    assert switch.findings_changed() == (switch, Change("finding", "k0", "met", "not_met"))
    assert Change("finding", "k1", "met", "not_met").findings_changed() == (Change("finding", "k1", "met", "not_met"),)
