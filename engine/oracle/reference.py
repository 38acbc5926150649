"""The oracle for inspections: a case graded straight from the criteria as written.

It reads what people write (the scale, the framework, the criteria set and the case) and
applies criteria/README.md's rules directly: a condition selects its criteria from the set
and counts their findings (or reads a score, or adds up scores); a quantifier compares the
observed fraction with its own, as exact fractions; the grade rules are tried in the scale's
order, each with the rules it builds on; then floors, limiters, undecided and a recorded
judgement.

It imports nothing from the compiler or the runtime. The durable-rules path turns
quantifiers into whole-number thresholds, orders the rules and chains builds_on in the
compiler; an oracle reading that plan would agree with any mistake made there. Tests
require the two to reach the same decision on every case and every generated world.
"""

from __future__ import annotations

import operator
from dataclasses import dataclass
from fractions import Fraction
from typing import Callable, Optional, Union

from ..language.criteria import Criteria
from ..language.models import (NOT_GRADED, UNDECIDED, Case, Condition, CriteriaSet, Floor, Framework, GradeRule,
                               Limiter, Quantifier, Scale, select_criteria, select_subgrades)

Where = tuple[Union[str, int], ...]  # where the framework writes a condition: ("grades", 0, "when", 1)

FINDING_QUANTITIES = ("met", "not_met", "not_assessed")

# criteria/README.md: at_least f means count/size >= f, more_than >, at_most <=, less_than <.
QUANTIFIER_COMPARISONS: dict[str, Callable[[Fraction, Fraction], bool]] = {
    "at_least": operator.ge, "more_than": operator.gt, "at_most": operator.le, "less_than": operator.lt,
}


@dataclass(frozen=True)
class Observation:
    """One condition of the framework, observed in the case."""

    where: Where
    rule: str  # the rule that writes it, as people name it: grade rule 'good', limiter 'failed-critical'
    quantity: str  # met, not_met, not_assessed, factors_present, subgrades_at_or_below, ...
    observed: Optional[int]  # a count or a sum of scores; for worst/best sub-area grade, that grade's place
    #                          on the scale (0 the highest), None when no sub-area counts; for one
    #                          criterion's score, the score, None when it was not assessed
    total: Optional[int]  # how many criteria, factors or sub-areas it looks at; None for causes of concern
    holds: bool

    def describe(self) -> str:
        of = "" if self.total is None else f" of {self.total}"
        return (f"{self.rule}, condition {self.where[-1] + 1}: {self.quantity} {self.observed}{of}: "
                f"{'holds' if self.holds else 'does not hold'}")


@dataclass(frozen=True)
class OracleResult:
    outcome: str  # a level id, professional_judgement or not_graded
    uncapped: str  # what the grade rules gave, before floors and limiters
    computed: str  # the rules' outcome, before a recorded professional judgement
    decided_by: Optional[str]  # the level whose grade rule gave the grade; None when none did, or not graded
    limiter: Optional[str]  # the limiter that lowered the grade, by its id in the framework
    floor: Optional[str]  # the floor that raised it
    observations: tuple[Observation, ...]  # every condition the framework writes
    deciding: tuple[Observation, ...]  # the deciding grade rule's conditions, with those it builds on
    rule: str = "level:undecided"  # the level-stage rule, named as criteria/README.md names them
    holding: tuple[str, ...] = ()  # every limiter whose conditions hold, in the framework's order
    overruled_by: Optional[str] = None  # the absolute limiter that lowered a recorded judgement to its cap


def evaluate(criteria: Criteria, case: Case) -> OracleResult:
    """The case graded under loaded criteria (the three checked files)."""
    return grade(criteria.scale.model, criteria.framework.model, criteria.criteria.model, case)


def grade(scale: Scale, framework: Framework, criteria_set: CriteriaSet, case: Case) -> OracleResult:
    """The case graded under the three models, as criteria/README.md says a grade is decided."""
    if not criteria_set.graded:
        return OracleResult(NOT_GRADED, NOT_GRADED, NOT_GRADED, None, None, None, (), (), "level:not-graded")
    places = {level.id: place for place, level in enumerate(scale.levels)}
    evidence = _Evidence.read(case, framework, places)
    observations = {where: observe(condition, where, rule, framework, criteria_set, evidence, places)
                    for where, rule, condition in written_conditions(framework)}
    holds = {where: seen.holds for where, seen in observations.items()}

    decided, rule, deciding_rules = grade_rule_given(framework, holds, places)
    floor = applying_floor(framework, holds, decided, places)
    raised = floor.floor if floor else decided
    limiter = applying_limiter(framework, holds, raised, places)
    computed = (limiter.cap if limiter else raised) or UNDECIDED
    deciding = tuple(observations[where] for index in deciding_rules for where in needed_for(index, framework))
    judged = case.override.outcome if case.override else computed
    overruling = overruling_limiter(framework, holds, judged, places) if case.override else None
    return OracleResult(
        outcome=overruling.cap if overruling else judged, overruled_by=overruling.id if overruling else None,
        uncapped=decided or UNDECIDED, computed=computed, decided_by=decided,
        limiter=limiter.id if limiter else None, floor=floor.id if floor else None,
        observations=tuple(observations.values()), deciding=deciding, rule=rule,
        holding=tuple(x.id for i, x in enumerate(framework.limiters) if _all_hold("limiters", i, x, holds)))


def written_conditions(framework: Framework) -> list[tuple[Where, str, Condition]]:
    """Every condition of the grade rules, floors and limiters, with where it is written and
    the rule that writes it."""
    return [((group, i, "when", j), _rule_name(group, item), condition)
            for group in ("grades", "floors", "limiters")
            for i, item in enumerate(getattr(framework, group))
            for j, condition in enumerate(item.when)]


def _rule_name(group: str, item: Union[GradeRule, Floor, Limiter]) -> str:
    if isinstance(item, GradeRule):
        return f"grade rule '{item.id or item.level}'"
    return f"{'floor' if group == 'floors' else 'limiter'} '{item.id}'"


# --- what the case shows -------------------------------------------------------------------

@dataclass(frozen=True)
class _Evidence:
    findings: dict[str, Union[str, int]]  # criterion -> met | not_met | not_assessed, or its score
    factors: dict[str, bool]
    subgrade_places: dict[str, int]  # sub-area -> its grade's place on the scale, for sub-areas that count
    concerns: int

    @classmethod
    def read(cls, case: Case, framework: Framework, places: dict[str, int]) -> "_Evidence":
        found = {f.criterion: f.finding if f.score is None else f.score for f in case.findings}
        return cls(found, dict(case.factors),
                   {sub: places[grade] for sub, grade in counted_subgrades(case, framework).items()},
                   len(case.causes_of_concern))


def counted_subgrades(case: Case, framework: Framework) -> dict[str, str]:
    """Sub-area grades that count: graded in this inspection, or carried over from an earlier
    one when the framework counts those; an ungraded sub-area never counts."""
    counted = {}
    for sub, entry in case.subgrades.items():
        if isinstance(entry, str):  # a bare level: graded in this inspection
            counted[sub] = entry
        elif entry.provenance == "inspected" or (entry.provenance == "carried_over"
                                                  and framework.carried_over == "counted"):
            counted[sub] = entry.grade
    return counted


def observe(condition: Condition, where: Where, rule: str, framework: Framework, criteria_set: CriteriaSet,
            evidence: _Evidence, places: dict[str, int]) -> Observation:
    quantity = condition.quantity
    spec = getattr(condition, quantity)
    bound, value = condition.bound
    if quantity == "score":
        found = evidence.findings.get(spec)
        score = found if isinstance(found, int) else None  # not assessed: no score, and the condition fails
        return Observation(where, rule, quantity, score, 1, score is not None and compare(score, bound, value))
    if quantity == "score_sum":
        chosen = _selected(criteria_set, spec, scored=True)
        total = sum(found for found in (evidence.findings.get(c) for c in chosen) if isinstance(found, int))
        return Observation(where, rule, quantity, total, len(chosen), compare(total, bound, value))
    if quantity in FINDING_QUANTITIES:
        # A scored criterion is never met or not met: counts range over the met/not-met criteria.
        chosen = _selected(criteria_set, spec, scored=False)
        count = sum(1 for criterion in chosen if evidence.findings.get(criterion) == quantity)
        return Observation(where, rule, quantity, count, len(chosen),
                           count_holds(count, len(chosen), bound, value, framework.quantifiers))
    if quantity == "factors_present":
        listed = list(dict.fromkeys(spec))  # a factor is present or not, however often it is listed
        count = sum(1 for factor in listed if evidence.factors.get(factor) is True)
        return Observation(where, rule, quantity, count, len(listed),
                           count_holds(count, len(listed), bound, value, framework.quantifiers))
    if quantity == "causes_of_concern":
        return Observation(where, rule, quantity, evidence.concerns, None,
                           count_holds(evidence.concerns, None, bound, value, framework.quantifiers))
    chosen = select_subgrades(criteria_set, spec.of)
    graded = [evidence.subgrade_places[sub] for sub in chosen if sub in evidence.subgrade_places]
    if quantity in ("subgrades_at_or_below", "subgrades_at_or_above", "subgrades_at"):
        level = places[spec.level]
        if quantity == "subgrades_at":
            count = sum(1 for place in graded if place == level)
        else:
            at_or_below = quantity == "subgrades_at_or_below"  # a lower grade has a larger place
            count = sum(1 for place in graded if (place >= level if at_or_below else place <= level))
        return Observation(where, rule, quantity, count, len(chosen),
                           count_holds(count, len(chosen), bound, value, framework.quantifiers))
    extreme = max(graded, default=None) if quantity == "worst_subgrade" else min(graded, default=None)
    return Observation(where, rule, quantity, extreme, len(chosen), grade_holds(extreme, bound, places[value]))


def _selected(criteria_set: CriteriaSet, spec, scored: bool) -> list[str]:
    """The criteria a selection keeps, scored ones only or met/not-met ones only."""
    kept = set(select_criteria(criteria_set, spec))
    return [c.id for c in criteria_set.criteria if c.id in kept and (c.scored is not None) == scored]


# criteria/README.md: a whole-number bound compared with a count, a score or a sum of scores.
WHOLE_COMPARISONS: dict[str, Callable[[int, int], bool]] = {
    "at_least": operator.ge, "at_most": operator.le, "exactly": operator.eq, "below": operator.lt,
    "above": operator.gt,
}


def compare(number: int, bound: str, value: int) -> bool:
    return WHOLE_COMPARISONS[bound](number, value)


def count_holds(count: int, total: Optional[int], bound: str, value, quantifiers: dict[str, Quantifier]) -> bool:
    if bound in WHOLE_COMPARISONS:
        return compare(count, bound, value)
    return meets(quantifiers[value], count, total)


def meets(quantifier: Quantifier, count: int, total: Optional[int]) -> bool:
    """Whether count of total, as an exact fraction, meets the quantifier's fraction."""
    if not total:
        return False  # no fraction of nothing: a quantifier over no criteria or factors holds nothing
    comparison, written = quantifier.bound
    # The decimal as the file writes it (0.8 is 4/5), not the binary float nearest to it.
    return QUANTIFIER_COMPARISONS[comparison](Fraction(count, total), Fraction(str(written)))


def grade_holds(place: Optional[int], bound: str, level_place: int) -> bool:
    """A worst or best sub-area grade compared with a level: at_least good is good or better."""
    if place is None:
        return False  # the worst or best of no counted sub-area holds nothing
    return place <= level_place if bound == "at_least" else place >= level_place


# --- how a grade is decided ----------------------------------------------------------------

def grade_rule_given(framework: Framework, holds: dict[Where, bool],
                     places: dict[str, int]) -> tuple[Optional[str], str, tuple[int, ...]]:
    """(the level given or None, the rule that decides it, the grade rules that rule holds).

    Among the grade rules that hold (each with every rule it builds on), the hit policy picks
    the highest level's (best), the lowest's (worst), the one written first (first), or the only
    level's (unique); a level's alternatives in the order written. Under unique, when rules of
    two levels hold, no level is given, and the rule names the first two of them."""
    grades = framework.grades
    order = sorted(range(len(grades)), key=lambda i: places[grades[i].level])  # highest level first
    policy = framework.hit_policy.policy
    if policy == "worst":
        order = sorted(order, key=lambda i: -places[grades[i].level])
    elif policy == "first":
        order = sorted(order)
    holding = [i for i in order if all(holds[where] for where in needed_for(i, framework))]
    if not holding:
        return None, "level:undecided", ()
    first = holding[0]
    other = next((i for i in holding if grades[i].level != grades[first].level), None)
    if policy == "unique" and other is not None:
        return None, f"level:both:{_named(first, framework)}:{_named(other, framework)}", (first, other)
    return grades[first].level, f"level:{_named(first, framework)}", (first,)


def _named(index: int, framework: Framework) -> str:
    """A grade rule's name in the rules' ids: its level, and its own id when its level has others."""
    rule = framework.grades[index]
    alternatives = sum(1 for g in framework.grades if g.level == rule.level)
    return rule.level if alternatives == 1 else f"{rule.level}:{rule.id or rule.level}"


def needed_for(index: int, framework: Framework) -> list[Where]:
    """The conditions of a grade rule and of each rule down its builds_on chain (builds_on names
    a level that one rule reaches)."""
    needed: list[Where] = []
    current: Optional[int] = index
    while current is not None:
        rule = framework.grades[current]
        needed += [("grades", current, "when", j) for j in range(len(rule.when))]
        current = next((k for k, g in enumerate(framework.grades) if g.level == rule.builds_on), None) \
            if rule.builds_on else None
    return needed


def _all_hold(group: str, i: int, item: Union[Floor, Limiter], holds: dict[Where, bool]) -> bool:
    return all(holds[(group, i, "when", j)] for j in range(len(item.when)))


def applying_floor(framework: Framework, holds: dict[Where, bool], grade: Optional[str],
                   places: dict[str, int]) -> Optional[Floor]:
    """The highest floor whose conditions hold and that raises the grade (the first written
    among equals). With no grade decided, only a floor at the top of the scale raises it:
    any judgement would then be that level."""
    def raises(floor: Floor) -> bool:
        return places[floor.floor] == 0 if grade is None else places[floor.floor] < places[grade]
    applying = [f for i, f in enumerate(framework.floors) if _all_hold("floors", i, f, holds) and raises(f)]
    return min(applying, key=lambda f: places[f.floor], default=None)


def overruling_limiter(framework: Framework, holds: dict[Where, bool], judged: str,
                       places: dict[str, int]) -> Optional[Limiter]:
    """The lowest cap of an absolute limiter that holds and is below a recorded judgement (the
    first written among equals): no judgement lifts the grade above it."""
    above = [x for i, x in enumerate(framework.limiters) if x.absolute and _all_hold("limiters", i, x, holds)
             and places[x.cap] > places[judged]]
    return max(above, key=lambda x: places[x.cap], default=None)


def applying_limiter(framework: Framework, holds: dict[Where, bool], grade: Optional[str],
                     places: dict[str, int]) -> Optional[Limiter]:
    """The lowest cap whose conditions hold and that lowers the grade (the first written among
    equals). It applies after the floors, so caps win over them. With no grade decided, only a
    cap at the bottom of the scale lowers it: any judgement would then be that level."""
    bottom = len(places) - 1

    def lowers(limiter: Limiter) -> bool:
        return places[limiter.cap] == bottom if grade is None else places[limiter.cap] > places[grade]
    applying = [x for i, x in enumerate(framework.limiters) if _all_hold("limiters", i, x, holds) and lowers(x)]
    return max(applying, key=lambda x: places[x.cap], default=None)
