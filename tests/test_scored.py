"""Scored inputs: scores on a scale, conditions on a score and on sums of scores (with below and
above), exclusive groups, and how each is checked, tallied, explained and given a margin."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from engine.compiler.compile import compile_criteria, compile_set
from engine.inspections.cases import check_case_against, decide_case
from engine.language.criteria import Criteria, check_criteria
from engine.language.diagnostics import DiagnosticError
from engine.language.load import Document
from engine.language.models import (Case, Condition, Criterion, CriteriaSet, Described, ExclusiveGroup, Finding,
                                    Framework, GradeRule, HitPolicy, Level, Limiter, Scale, ScoreScale, Selection,
                                    Undecided)
from engine.oracle import reference
from engine.runtime.decide import evaluate
from engine.runtime.margin import FOUND, margin
from engine.runtime.tally import Evidence, tally_fact

SCALE = Scale(arbiter="scale", id="gen-scale", title="Generated scale",
              levels=tuple(Level(id=f"l{i}", label=f"Level {i}", definition=f"level {i}") for i in range(3)))
ONE_TO_FOUR = ScoreScale(min=1, max=4)


def _set(groups: tuple = ()) -> CriteriaSet:
    scored = tuple(Criterion(id=f"v{i}", tier="core", text=f"service {i}", scored=ONE_TO_FOUR) for i in range(3))
    plain = tuple(Criterion(id=f"k{i}", tier="fair", text=f"rating {i}") for i in range(3))
    return CriteriaSet(arbiter="criteria", id="gen/set", framework="gen", title="Generated area",
                       criteria=scored + plain, exclusive=groups)


def _criteria(grades: tuple, limiters: tuple = (), groups: tuple = ()) -> Criteria:
    framework = Framework(
        arbiter="framework", id="gen", title="Generated framework", version="1", scale=SCALE.id,
        tiers={"core": Described(description="scored"), "fair": Described(description="met or not")},
        grades=grades, limiters=limiters, hit_policy=HitPolicy(policy="best"),
        undecided=Undecided(outcome="professional_judgement", reason="no rule decides"))
    return Criteria.from_models(SCALE, framework, _set(groups))


def _case(**values) -> Case:
    findings = tuple(Finding(criterion=cid, score=v) if isinstance(v, int) else Finding(criterion=cid, finding=v)
                     for cid, v in values.items())
    return Case(arbiter="case", id="gen/case", criteria="gen/set", subject="Generated force", constructed=True,
                findings=findings)


SUM = Selection(tier="core")
EVERY = dict(v0=3, v1=3, v2=3, k0="met", k1="not_met", k2="not_met")


def _codes(criteria: Criteria) -> list[str]:
    with pytest.raises(DiagnosticError) as caught:
        check_criteria(criteria)
        compile_criteria(criteria)
    return [d.code for d in caught.value.diagnostics]


def test_a_sum_no_scores_can_reach_is_refused():
    """Three 1-4 scores add up to at most 12: a sum of at least 30 can never hold (E133)."""
    assert _codes(_criteria((GradeRule(level="l0", when=(Condition(score_sum=SUM, at_least=30),)),))) == ["E133"]


@pytest.mark.parametrize("bound", [{"at_least": 5}, {"below": 1}, {"at_most": 0}, {"exactly": 7}, {"above": 4}])
def test_a_score_bound_off_the_scale_is_refused(bound):
    """A single score runs from 1 to 4: at least 5, below 1, above 4 ... can never hold (E133)."""
    assert _codes(_criteria((GradeRule(level="l0", when=(Condition(score="v0", **bound),)),))) == ["E133"]


def test_a_score_condition_names_a_scored_criterion():
    """E113 for a met/not-met criterion, E122 for one the set lacks."""
    assert _codes(_criteria((GradeRule(level="l0", when=(Condition(score="k0", at_least=1),)),))) == ["E113"]
    assert _codes(_criteria((GradeRule(level="l0", when=(Condition(score="v9", at_least=1),)),))) == ["E122"]


def test_a_sum_over_no_scored_criterion_is_an_empty_selection():
    assert _codes(_criteria((GradeRule(level="l0", when=(Condition(score_sum=Selection(tier="fair"),
                                                                   at_least=1),)),))) == ["E130"]


def test_bounds_on_levels_and_scores_are_of_their_kind():
    """below/above compare whole numbers, never a level; a score is never compared with a quantifier."""
    with pytest.raises(ValidationError, match="E133"):
        Condition(worst_subgrade={}, below=1)
    with pytest.raises(ValidationError, match="E133"):
        Condition(score="v0", **{"is": "most"})


def test_a_finding_is_a_finding_or_a_score():
    with pytest.raises(ValidationError, match="E113"):
        Finding(criterion="v0", finding="met", score=3)
    with pytest.raises(ValidationError, match="E111"):
        Finding(criterion="v0")


def test_findings_are_checked_against_their_scales_and_groups():
    """E126 for a score off the scale, E127 for the wrong kind of finding, E128 for an exclusive
    group with two met, or none met where exactly one is needed (unless none was assessed)."""
    group = ExclusiveGroup(id="g", criteria=("k0", "k1", "k2"), exactly_one=True)
    criteria = _criteria((GradeRule(level="l0", when=(Condition(score_sum=SUM, at_least=1),)),), groups=(group,))

    def codes(**changes) -> list[str]:
        return [d.code for d in check_case_against(criteria, _case(**{**EVERY, **changes}), Document("<c>", {}))]

    assert codes() == []
    assert codes(v0=5) == ["E126"]
    assert codes(v0="met", k0=2, k1="met") == ["E127", "E127"]
    assert codes(k1="met") == ["E128"]
    assert codes(k0="not_met") == ["E128"]
    assert codes(k0="not_assessed", k1="not_assessed", k2="not_assessed") == []


def test_a_score_not_assessed_holds_no_score_condition_and_adds_nothing_to_a_sum():
    """The tally gives -1 for the score of a criterion not assessed (so even 'below 2' fails) and
    leaves it out of a sum; durable-rules and the oracle agree."""
    criteria = _criteria((GradeRule(level="l0", when=(Condition(score_sum=SUM, at_least=6),)),
                          GradeRule(level="l1", when=(Condition(score="v0", below=2),))))
    compiled = compile_criteria(criteria)
    case = _case(**{**EVERY, "v0": "not_assessed"})
    fact = tally_fact(compiled.plan, evaluate(compiled, Evidence.from_case(case, compiled.plan)).quantities)
    assert sorted(v for k, v in fact.items() if k.startswith("c")) == [-1, 6]
    assert evaluate(compiled, Evidence.from_case(case, compiled.plan)).computed == "l0"
    assert reference.evaluate(criteria, case).computed == "l0"
    case = _case(**{**EVERY, "v0": "not_assessed", "v1": 2})  # sum 5
    assert evaluate(compiled, Evidence.from_case(case, compiled.plan)).computed == "professional_judgement"
    assert reference.evaluate(criteria, case).computed == "professional_judgement"


def test_only_not_assessing_a_score_lifts_a_cap_on_it():
    """A cap that holds for every score of v0 (at most 4) is lifted only by v0 not assessed: a
    change towards a lower score, which moves the condition towards holding by its count, is
    still the one change up. The margin finds it."""
    criteria = _criteria((GradeRule(level="l0", when=(Condition(score_sum=SUM, at_least=0),)),),
                         limiters=(Limiter(id="cap", cap="l2", description="v0 assessed",
                                           when=(Condition(score="v0", at_most=4),)),))
    compiled = compile_criteria(criteria)
    evidence = Evidence.from_case(_case(**EVERY), compiled.plan)
    assert evaluate(compiled, evidence).computed == "l2"
    up = margin(compiled, evidence, "l2").up
    assert (up.status, up.fewest, [(c.id, c.after) for c in up.example]) == (FOUND, 1, [("v0", "not_assessed")])


def test_the_example_explains_scores_as_conditions(catalog):
    """"sv-response score 1 on a 1-4 scale: reached (needs below 2)", and the margin's changes
    name scores."""
    compiled = compile_set(catalog, "examples-scored/four-services")
    record = decide_case(compiled, catalog.load(catalog.root / "cases/examples-scored/one-service-below-two.yaml",
                                                "case").model)
    texts = [t["text"] for t in record["tallies"]]
    assert "sv-response score 1 on a 1-4 scale: reached (needs below 2)" in texts
    assert "sv-finance score 4 on a 1-4 scale: not reached (needs below 2)" in texts
    assert record["margin"]["up"]["example"] == [{"kind": "finding", "id": "sv-response", "from": 1, "to": 2}]


def test_a_limiter_summing_scores_a_set_lacks_never_applies_there():
    """As for counts: a limiter that needs a sum of at least 1 over no scored criterion of the set
    is no error, and never holds."""
    criteria = _criteria((GradeRule(level="l0", when=(Condition(score_sum=SUM, at_least=0),)),),
                         limiters=(Limiter(id="cap", cap="l2", description="none here",
                                           when=(Condition(score_sum=Selection(tier="fair"), at_least=1),)),))
    check_criteria(criteria)
    compiled = compile_criteria(criteria)
    case = _case(**EVERY)
    assert evaluate(compiled, Evidence.from_case(case, compiled.plan)).computed == "l0"
    assert reference.evaluate(criteria, case).computed == "l0"


def _problems(criteria: Criteria) -> list:
    with pytest.raises(DiagnosticError) as caught:
        check_criteria(criteria)
        compile_criteria(criteria)
    return caught.value.diagnostics


@pytest.mark.parametrize("place", ["grade", "limiter"])
def test_a_bound_no_score_can_meet_is_refused_saying_the_range(place):
    """Refused in a grade rule and in a limiter alike: a limiter over scores the set has is no
    limiter that may find none (as one summing a tier the set lacks is), so it is checked."""
    condition = Condition(score_sum=SUM, at_least=30)
    grades = (GradeRule(level="l0", when=(condition if place == "grade" else Condition(score_sum=SUM, at_least=0),)),)
    limiters = (Limiter(id="cap", cap="l2", description="never", when=(condition,)),) if place == "limiter" else ()
    [problem] = [d for d in _problems(_criteria(grades, limiters=limiters)) if d.code == "E133"]
    assert (problem.code, problem.suggestion) == ("E133", "write a bound from 0 to 12")
    assert problem.message.startswith("condition can never hold in set 'gen/set': ")
    assert problem.message.endswith(" runs from 0 to 12, never at least 30")
    [single] = _problems(_criteria((GradeRule(level="l0", when=(Condition(score="v0", at_most=0),)),)))
    assert single.message.endswith(" runs from 1 to 4, never at most 0") and single.suggestion == "write a bound from 1 to 4"


@pytest.mark.parametrize("place", ["grade", "limiter"])
def test_a_count_more_than_the_set_has_is_refused_saying_how_many_it_has(place):
    """Five met of three fair criteria can never hold, in a grade rule or in a limiter alike:
    a limiter that may find none is excused only where its selection finds none."""
    condition = Condition(met=Selection(tier="fair"), at_least=5)
    grades = (GradeRule(level="l0", when=(condition if place == "grade" else Condition(score_sum=SUM, at_least=0),)),)
    limiters = (Limiter(id="cap", cap="l2", description="never", when=(condition,)),) if place == "limiter" else ()
    [problem] = [d for d in _problems(_criteria(grades, limiters=limiters)) if d.code == "E133"]
    assert (problem.message, problem.suggestion) == ("condition can never hold in set 'gen/set': needs 5 but only 3 to "
                                                     "count", "lower the bound or widen the selection")


@pytest.mark.parametrize("not_assessed,grade", [(2, "l0"), (1, "professional_judgement")])
def test_findings_not_assessed_are_counted_as_such(not_assessed, grade):
    """A grade that needs two fair criteria not assessed: the rules count them as the oracle does."""
    criteria = _criteria((GradeRule(level="l0", when=(Condition(not_assessed=Selection(tier="fair"), at_least=2),)),))
    compiled = compile_criteria(criteria)
    findings = ["not_assessed"] * not_assessed + ["met"] * (3 - not_assessed)
    case = _case(v0=3, v1=3, v2=3, **{f"k{i}": finding for i, finding in enumerate(findings)})
    assert evaluate(compiled, Evidence.from_case(case, compiled.plan)).computed == grade
    assert reference.evaluate(criteria, case).computed == grade


def test_the_rule_for_two_grades_holding_at_once_cites_the_hit_policy():
    """Under a unique hit policy, the rule that leaves the grade undecided when two grades' rules
    hold carries the policy's source and choice."""
    grades = (GradeRule(level="l0", when=(Condition(met=Selection(tier="fair"), at_least=2),)),
              GradeRule(level="l1", when=(Condition(met=Selection(tier="fair"), at_least=1),)))
    criteria = _criteria(grades)
    policy = HitPolicy(policy="unique", choice="at most one grade's rule may hold", source="001:12")
    framework = criteria.framework.model.model_copy(update={"hit_policy": policy})
    plan = compile_criteria(Criteria.from_models(SCALE, framework, _set())).plan
    both = [rule for rule in plan.rules if rule.id.startswith("level:both:")]
    assert both and all((rule.source, rule.choice) == ("001:12", "at most one grade's rule may hold") for rule in both)


def test_a_count_below_none_is_refused_with_its_suggestion():
    [problem] = _problems(_criteria((GradeRule(level="l0", when=(Condition(met=Selection(tier="fair"), below=0),)),)))
    assert (problem.code, problem.message, problem.suggestion) == (
        "E133", "condition can never hold in set 'gen/set': needs fewer than none", "raise the bound")


@pytest.mark.parametrize("kind", ["worst_subgrade", "best_subgrade"])
def test_the_worst_or_best_of_no_counted_sub_area_is_no_grade(kind):
    """With no sub-area counted (none graded, or every one carried over where that does not
    count), the worst and best grade are NO_GRADE (-1), which holds no condition; with some,
    the highest rank number (the worst grade) or the lowest (the best)."""
    from engine.compiler.plan import Quantity
    from engine.runtime.tally import NO_GRADE, quantity_value

    quantity = Quantity(id="q", kind=kind, members=("a", "b", "c"), describe=kind.replace("_", " "))
    none_counted = Evidence(findings={}, factors={}, subgrade_ranks={"other": 0})
    assert NO_GRADE == -1 and quantity_value(quantity, none_counted) == NO_GRADE
    some = Evidence(findings={}, factors={}, subgrade_ranks={"a": 1, "c": 3, "other": 0})
    assert quantity_value(quantity, some) == (3 if kind == "worst_subgrade" else 1)


def test_a_quantity_of_an_unknown_kind_is_refused_by_name():
    from engine.compiler.plan import Quantity
    from engine.runtime.tally import quantity_value

    with pytest.raises(ValueError, match="^unknown quantity kind most_of$"):
        quantity_value(Quantity(id="q", kind="most_of", members=(), describe="q"), Evidence({}, {}, {}))
