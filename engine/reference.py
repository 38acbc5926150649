"""The oracle: a small pure-Python evaluator of a Plan, written apart from the engine path.

It shares no code with `tally`, `durable` or `decide`: it counts the evidence itself and
walks the plan's first-hit stages directly. Tests require it to agree with durable-rules
on every case and on generated criteria and evidence: the same rules fired, with the
same facts, and the same outcome.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .models import Case
from .plan import Plan, PlanRule


@dataclass(frozen=True)
class OracleResult:
    firings: tuple[tuple[str, dict], ...]  # (rule id, matched facts by alias)
    uncapped: str
    outcome: str


def count(plan: Plan, case: Case) -> dict[str, int]:
    """Each quantity's value, computed straight from the case."""
    finding = {f.criterion: f.finding for f in case.findings}
    rank = {lv.id: lv.rank for lv in plan.levels}
    values = {}
    for q in plan.quantities:
        if q.kind == "factors_present":
            values[q.id] = len([m for m in q.members if case.factors.get(m) is True])
        elif q.kind in ("met", "not_met", "not_assessed"):
            values[q.id] = len([m for m in q.members if finding.get(m) == q.kind])
        else:
            ranks = [rank[case.subgrades[m]] for m in q.members]
            values[q.id] = {
                "subgrades_at_or_below": lambda: len([r for r in ranks if r >= q.level_rank]),
                "subgrades_at_or_above": lambda: len([r for r in ranks if r <= q.level_rank]),
                "worst_subgrade": lambda: max(ranks),
                "best_subgrade": lambda: min(ranks),
            }[q.kind]()
    return values


def evaluate(plan: Plan, case: Case) -> OracleResult:
    values = count(plan, case)
    value_of = {c.id: values[c.quantity] for c in plan.conditions}
    holds = {c.id: (value_of[c.id] >= c.threshold if c.op == ">=" else value_of[c.id] <= c.threshold)
             for c in plan.conditions}
    grade: str | None = None  # a level id, or None for undecided
    event: dict[str, Any] = {"kind": "stage", "stage": "level"}
    firings = []
    uncapped = None
    for stage in plan.stages:
        event = {**event, "stage": stage}
        rule = next(r for r in plan.stage_rules(stage) if all(holds[c] for c in r.when) and _triggered(r, event))
        matched = {"t": dict(sorted({"kind": "tally", **value_of}.items()))} if rule.when else {}
        matched["ev"] = dict(sorted(event.items()))
        firings.append((rule.id, matched))
        if rule.conclude == "undecided":
            grade = None
        elif rule.conclude != "pass":
            grade = rule.conclude
        if stage == "level":
            uncapped = grade
        event = {"kind": "stage", "decided": 0} if grade is None else \
                {"kind": "stage", "decided": 1, "rank": plan.level(grade).rank}
    undecided = "professional_judgement"
    return OracleResult(tuple(firings), uncapped or undecided, grade or undecided)


def _triggered(rule: PlanRule, event: dict[str, Any]) -> bool:
    t = rule.trigger
    if t.decided is not None and event.get("decided") != (1 if t.decided else 0):
        return False
    if t.rank_above is not None and not ("rank" in event and event["rank"] < t.rank_above):
        return False
    if t.rank_below is not None and not ("rank" in event and event["rank"] > t.rank_below):
        return False
    return True
