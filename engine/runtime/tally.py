"""Tally: count what each condition of a plan looks at, and turn the counts into facts.

durable-rules has no aggregate construct, and counting by rules costs one Python action
per finding (about 60 microseconds each). So counting happens here, before the engine,
and the engine receives one tally fact per condition; every decision (does the count
reach the threshold, which grade, which limiter) is made by rules firing on those facts.
"""

from __future__ import annotations

from dataclasses import dataclass
from operator import countOf
from types import MappingProxyType
from typing import Any, Mapping, Optional, Union

from ..compiler.plan import Plan, Quantity
from ..language.models import Case
from ..language.memo import memo_of


@dataclass(frozen=True)
class Evidence:
    """What the tally stage reads from a case: findings (met, not_met or not_assessed, or a
    scored criterion's score), factors, the ranks of the sub-areas that count (inspected, or
    carried over when the framework says so), causes of concern, and a recorded override."""

    findings: Mapping[str, Union[str, int]]
    factors: Mapping[str, bool]
    subgrade_ranks: Mapping[str, int]
    concerns: int = 0
    override_rank: Optional[int] = None

    @classmethod
    def from_case(cls, case: Case, plan: Plan) -> "Evidence":
        ranks = {lv.id: lv.rank for lv in plan.levels}
        entries = {k: case.subgrade(k) for k in case.subgrades}
        counted = {k: ranks[e.grade] for k, e in entries.items() if plan.counts_subgrade(e.provenance)}
        return cls(
            MappingProxyType({f.criterion: f.value for f in case.findings}),
            MappingProxyType(dict(case.factors)),
            MappingProxyType(counted),
            len(case.causes_of_concern),
            ranks[case.override.outcome] if case.override else None,
        )


def quantity_value(quantity: Quantity, evidence: Evidence) -> int:
    """A quantity other than findings counted by value (which `tally` counts itself)."""
    kind, members = quantity.kind, quantity.members
    if kind == "factors_present":
        return sum(1 for m in members if evidence.factors.get(m) is True)
    if kind == "causes_of_concern":
        return evidence.concerns
    if kind == "score":
        return score_of(evidence.findings.get(members[0]))
    if kind == "score_sum":  # a criterion not assessed adds nothing
        return sum(value for value in (evidence.findings.get(m) for m in members) if isinstance(value, int))
    ranks = [evidence.subgrade_ranks[m] for m in members if m in evidence.subgrade_ranks]
    if kind == "subgrades_at_or_below":
        return sum(1 for r in ranks if r >= quantity.level_rank)
    if kind == "subgrades_at_or_above":
        return sum(1 for r in ranks if r <= quantity.level_rank)
    if kind == "subgrades_at":
        return sum(1 for r in ranks if r == quantity.level_rank)
    if kind == "worst_subgrade":
        return max(ranks, default=NO_GRADE)
    if kind == "best_subgrade":
        return min(ranks, default=NO_GRADE)
    raise ValueError(f"unknown quantity kind {kind}")


def tally(plan: Plan, evidence: Evidence) -> dict[str, int]:
    """Each quantity's value, by quantity id. Findings counted by value are the most common
    quantity, on every decision and every change the margin tries: counted in C (countOf)."""
    findings = evidence.findings.get
    return {q.id: countOf(map(findings, q.members), q.kind) if q.kind in _FINDING_COUNTS
            else quantity_value(q, evidence) for q in plan.quantities}


_FINDING_COUNTS = frozenset(("met", "not_met", "not_assessed"))


def score_of(value: Union[str, int, None]) -> int:
    """A scored criterion's score; NO_SCORE when it was not assessed."""
    return value if isinstance(value, int) else NO_SCORE


TALLY_FACT_ID = "tallies"
NO_GRADE = -1  # worst or best of no counted sub-area: the rules' guard makes it hold nothing
NO_SCORE = -1  # the score of a criterion not assessed: the same guard makes it hold nothing


def override_fact(evidence: Evidence) -> list[dict]:
    if evidence.override_rank is None:
        return []
    return [{"kind": "override", "id": "override", "rank": evidence.override_rank}]


def tally_fact(plan: Plan, quantities: Mapping[str, int]) -> dict:
    """One fact holding every condition's observed value, keyed by condition id.

    Values are ints: durable-rules coerces '1' == 1 == True."""
    fact: dict = {"kind": "tally", "id": TALLY_FACT_ID}
    for condition, quantity in _read_by(plan):
        fact[condition] = int(quantities[quantity])
    return fact


def _read_by(plan: Plan) -> tuple[tuple[str, str], ...]:
    """(condition id, the quantity it reads) for each condition, in plan order."""
    memo = plan_memo(plan)
    if "read_by" not in memo:
        memo["read_by"] = tuple((c.id, c.quantity) for c in plan.conditions)
    return memo["read_by"]


def plan_memo(plan: Plan) -> dict[Any, Any]:
    """What this stage works out once from a plan alone (language/memo.py)."""
    return memo_of(plan, "decide")
