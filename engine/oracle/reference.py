"""The oracle: a small pure-Python evaluator of a Plan, written apart from the engine path.

It shares no code with the runtime (`tally`, `durable`, `decide`): it counts the evidence
itself and walks the plan's first-hit stages directly. Tests require it to agree with durable-rules
on every case and on generated criteria and evidence: the same rules fired, with the
same facts, and the same outcome.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..compiler.plan import Plan, PlanRule
from ..language.models import Case


@dataclass(frozen=True)
class OracleResult:
    firings: tuple[tuple[str, dict], ...]  # (rule id, matched facts by alias)
    uncapped: str
    outcome: str


def _counted_grades(plan: Plan, case: Case) -> dict[str, str]:
    """Sub-area grades that count: inspected ones, and carried-over ones if the plan says so."""
    counted = {}
    for sub_id, entry in case.subgrades.items():
        if isinstance(entry, str):
            counted[sub_id] = entry
        elif entry.provenance == "inspected" or (entry.provenance == "carried_over" and plan.carried_over == "counted"):
            counted[sub_id] = entry.grade
    return counted


def count(plan: Plan, case: Case) -> dict[str, int]:
    """Each quantity's value, computed straight from the case."""
    finding = {f.criterion: f.finding for f in case.findings}
    rank = {lv.id: lv.rank for lv in plan.levels}
    grades = _counted_grades(plan, case)
    values = {}
    for q in plan.quantities:
        if q.kind == "factors_present":
            values[q.id] = len([m for m in q.members if case.factors.get(m) is True])
        elif q.kind in ("met", "not_met", "not_assessed"):
            values[q.id] = len([m for m in q.members if finding.get(m) == q.kind])
        elif q.kind == "causes_of_concern":
            values[q.id] = len(case.causes_of_concern)
        else:
            ranks = [rank[grades[m]] for m in q.members if m in grades]
            values[q.id] = {
                "subgrades_at_or_below": lambda: len([r for r in ranks if r >= q.level_rank]),
                "subgrades_at_or_above": lambda: len([r for r in ranks if r <= q.level_rank]),
                "worst_subgrade": lambda: max(ranks) if ranks else -1,
                "best_subgrade": lambda: min(ranks) if ranks else -1,
            }[q.kind]()
    return values


def evaluate(plan: Plan, case: Case) -> OracleResult:
    if not plan.graded:
        return OracleResult((("level:not-graded", {"ev": {"kind": "stage", "stage": "level"}}),),
                            "not_graded", "not_graded")
    values = count(plan, case)
    value_of = {c.id: values[c.quantity] for c in plan.conditions}
    holds = {c.id: _holds(c, value_of[c.id]) for c in plan.conditions}
    grade: str | None = None  # a level id, or None for undecided
    event: dict[str, Any] = {"kind": "stage", "stage": "level"}
    firings = []
    uncapped = None
    stages = [s for s in plan.stages if s != "override" or case.override is not None]
    for stage in stages:
        event = {**event, "stage": stage}
        rule = next(r for r in plan.stage_rules(stage) if all(holds[c] for c in r.when) and _triggered(r, event)
                    and (r.conclude != "override" or case.override is not None))
        matched = {"t": dict(sorted({"kind": "tally", **value_of}.items()))} if rule.when else {}
        if rule.conclude == "override":
            matched["o"] = {"kind": "override", "rank": plan.level(case.override.outcome).rank}
        matched["ev"] = dict(sorted(event.items()))
        firings.append((rule.id, matched))
        if rule.conclude == "undecided":
            grade = None
        elif rule.conclude == "override":
            grade = case.override.outcome
        elif rule.conclude != "pass":
            grade = rule.conclude
        if stage == "level":
            uncapped = grade
        event = {"kind": "stage", "decided": 0} if grade is None else \
                {"kind": "stage", "decided": 1, "rank": plan.level(grade).rank}
    undecided = "professional_judgement"
    return OracleResult(tuple(firings), uncapped or undecided, grade or undecided)


def _holds(condition, value: int) -> bool:
    if condition.level_bound is not None and value < 0:
        return False  # no counted sub-area has a grade to compare
    return value >= condition.threshold if condition.op == ">=" else value <= condition.threshold


def _triggered(rule: PlanRule, event: dict[str, Any]) -> bool:
    t = rule.trigger
    if t.decided is not None and event.get("decided") != (1 if t.decided else 0):
        return False
    if t.rank_above is not None and not ("rank" in event and event["rank"] < t.rank_above):
        return False
    if t.rank_below is not None and not ("rank" in event and event["rank"] > t.rank_below):
        return False
    return True
