"""Selection processes decided: each candidate's tally, the two stages of rules in one
durable-rules session, and the sensitivity scan.

Counting (ratings below a threshold, totals, the summary between the stages) is done in
Python, as for inspections; every decision is a rule firing (compiler/selection.py has the
rules). The sensitivity scan decides each one-point variant of an agreed rating by the
same rules.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Optional

from ..compiler.compile import Compiled
from ..compiler.selection import SelectionPlan
from ..language.appointment_models import Appointment, Rating, agreed
from . import durable


@dataclass(frozen=True)
class CandidateTally:
    candidate: str
    shortfalls: tuple[int, ...]  # per gate: how many agreed ratings fall below its threshold
    total: int


def tally(plan: SelectionPlan, appt: Appointment) -> list[CandidateTally]:
    cells = agreed(appt)
    tallies = []
    for cand in sorted(c.id for c in appt.candidates):  # id order: the order of entry must not matter
        scores = [cells[(cand, ex, area)].agreed for ex, area in plan.cells]
        shortfalls = tuple(sum(1 for s in scores if s < g.threshold) for g in plan.gates)
        tallies.append(CandidateTally(cand, shortfalls, sum(scores)))
    return tallies


@dataclass(frozen=True)
class SelectionEvaluation:
    tallies: tuple[CandidateTally, ...]
    passed: dict[str, bool]
    outcome: str
    preferred: Optional[str]
    tied: tuple[str, ...]
    firings: tuple[durable.Firing, ...]


def _react(rule: str, matched: dict[str, dict[str, Any]]) -> list[durable.Effect]:
    """Gate actions record their conclusion as a result fact; rank actions only conclude."""
    if not rule.startswith("gate:"):
        return []
    ev = matched["ev"]
    return [("assert", {"kind": "result", "id": f"result:{ev['cand']}", "cand": ev["cand"],
                        "passed": 1 if rule == "gate:pass" else 0, "total": ev["total"]})]


def evaluate(compiled: Compiled, appt: Appointment) -> SelectionEvaluation:
    plan: SelectionPlan = compiled.plan  # type: ignore[assignment]
    tallies = tally(plan, appt)
    name = compiled.durable_name
    with durable.host().session(name, compiled.ruleset["durable"][name], _react) as session:
        session.assert_facts([{"kind": "candidate", "id": f"cand:{t.candidate}", "cand": t.candidate, "total": t.total,
                               **{f"g{i + 1}": n for i, n in enumerate(t.shortfalls)}} for t in tallies])
        firings: list[durable.Firing] = []
        for t in tallies:
            firings += session.post({"kind": "stage", "stage": "gate", "cand": t.candidate, "total": t.total})
        passed = {f.matched["ev"]["cand"]: f.rule == "gate:pass" for f in firings}
        session.assert_facts([summary_fact(tallies, passed)])
        firings += session.post({"kind": "stage", "stage": "rank"})
    return conclude(tallies, passed, tuple(firings))


def summary_fact(tallies: list[CandidateTally], passed: dict[str, bool]) -> dict[str, Any]:
    """What the rank rules need, counted from the gate rules' conclusions."""
    totals = [t.total for t in tallies if passed[t.candidate]]
    top = max(totals, default=0)
    return {"kind": "summary", "id": "summary", "passers": len(totals), "top": top,
            "at_top": sum(1 for total in totals if total == top)}


def conclude(tallies: list[CandidateTally], passed: dict[str, bool],
             firings: tuple[durable.Firing, ...]) -> SelectionEvaluation:
    rank_firings = [f for f in firings if f.rule.startswith("rank:")]
    if len(rank_firings) != 1 or len(firings) != len(tallies) + 1:
        raise durable.EngineError(f"expected one gate firing per candidate and one rank firing, got "
                                  f"{[f.rule for f in firings]}")
    decided = rank_firings[0]
    outcome = decided.rule.split(":", 1)[1]
    outcome = "no_appointable_candidate" if outcome == "none" else outcome
    preferred = decided.matched["r"]["cand"] if outcome == "preferred" else None
    top = decided.matched.get("s", {}).get("top")
    tied = tuple(t.candidate for t in tallies if passed[t.candidate] and t.total == top) if outcome == "tie" else ()
    return SelectionEvaluation(tuple(tallies), passed, outcome, preferred, tied, firings)


def ranks(evaluation: SelectionEvaluation) -> dict[str, Optional[int]]:
    """Competition ranking (1, 2, 2, 4) by total among the candidates who passed every gate."""
    passing = [t for t in evaluation.tallies if evaluation.passed[t.candidate]]
    return {t.candidate: (1 + sum(1 for o in passing if o.total > t.total) if evaluation.passed[t.candidate] else None)
            for t in evaluation.tallies}


# --- sensitivity -------------------------------------------------------------------------

def sensitivity(compiled: Compiled, appt: Appointment, base: SelectionEvaluation) -> list[dict[str, Any]]:
    """Cells where moving one agreed rating by one point would change a pass or fail, or
    the outcome. Each variant is decided by the same rules."""
    plan: SelectionPlan = compiled.plan  # type: ignore[assignment]
    values = {v for v, _ in plan.ratings}
    cells = agreed(appt)
    found = []
    for cand in sorted(c.id for c in appt.candidates):
        for exercise, area in plan.cells:
            rating = cells[(cand, exercise, area)]
            for delta in (-1, 1):
                moved = rating.agreed + delta
                if moved not in values:
                    continue
                variant = _with_rating(appt, rating, moved)
                changes = _differences(base, evaluate(compiled, variant))
                if changes:
                    found.append({"candidate": cand, "exercise": exercise, "area": area, "from": rating.agreed,
                                  "to": moved, "changes": changes})
    return found


def _with_rating(appt: Appointment, rating: Rating, value: int) -> Appointment:
    ratings = tuple(r.model_copy(update={"agreed": value}) if r is rating else r for r in appt.ratings)
    return appt.model_copy(update={"ratings": ratings})


def _differences(before: SelectionEvaluation, after: SelectionEvaluation) -> list[str]:
    changes = [f"{cand} gates: {'pass' if before.passed[cand] else 'fail'} -> {'pass' if after.passed[cand] else 'fail'}"
               for cand in before.passed if before.passed[cand] != after.passed[cand]]
    if (before.outcome, before.preferred, before.tied) != (after.outcome, after.preferred, after.tied):
        changes.append(f"outcome: {describe_outcome(before)} -> {describe_outcome(after)}")
    return changes


def describe_outcome(evaluation: SelectionEvaluation) -> str:
    if evaluation.outcome == "preferred":
        return f"preferred {evaluation.preferred}"
    if evaluation.outcome == "tie":
        return f"tie between {', '.join(evaluation.tied)}"
    return "no appointable candidate"


# --- everything a selection's records need ------------------------------------------------

@dataclass(frozen=True)
class SelectionDecision:
    """A selection decided: the rules' conclusions, the ranking among those who passed, and the
    one-point changes that would alter a gate or the outcome. The records are built from this
    alone."""

    evaluation: SelectionEvaluation
    ranks: dict[str, Optional[int]]
    sensitivity: tuple[dict[str, Any], ...]


def decide(compiled: Compiled, appt: Appointment) -> SelectionDecision:
    evaluation = evaluate(compiled, appt)
    return SelectionDecision(evaluation, ranks(evaluation), tuple(sensitivity(compiled, appt, evaluation)))
