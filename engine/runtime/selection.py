"""Selection processes decided: each candidate's total, the three stages of rules in one
durable-rules session, and the sensitivity scan.

Every decision is a rule firing (compiler/selection.py has the rules): whether an agreed
rating is below a gate's threshold (`cell:below` or `cell:meets`), whether a candidate passes
its gates (`gate:pass` or `gate:fail`), and the outcome (`rank:none`, `rank:preferred` or
`rank:tie`). durable-rules has no aggregates, so Python adds and counts, as for inspections:
before the stages, each candidate's total (the sum of its agreed ratings in the scored
exercises); between the cell and gate stages, how many `cell:below` conclusions each
candidate drew; between the gate and rank stages, how many passed, the highest total among
them and how many share it. After the rank stage, for the record: which passers share the
top total when the rules conclude a tie, and the ranks (the passers' totals in order). The
sensitivity scan decides each one-point variant of an agreed rating by the same rules.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import Any, Optional

from ..compiler.compile import Compiled
from ..compiler.selection import SelectionPlan
from ..language.appointment_models import Appointment, Rating, agreed
from . import durable


@dataclass(frozen=True)
class CandidateTally:
    candidate: str
    total: int  # the sum of its agreed ratings in the scored exercises


def tally(plan: SelectionPlan, appt: Appointment) -> list[CandidateTally]:
    """Each candidate's total, in id order: the order of entry must not matter."""
    cells = agreed(appt)
    return [CandidateTally(cand, sum(cells[(cand, ex, area)].agreed for ex, area in plan.cells))
            for cand in sorted(c.id for c in appt.candidates)]


def gate_facts(plan: SelectionPlan) -> list[dict[str, Any]]:
    return [{"kind": "gate", "id": f"gate:{g.id}", "gate": g.id, "threshold": g.threshold} for g in plan.gates]


def cell_fact(rating: Rating) -> dict[str, Any]:
    return {"kind": "cell", "id": f"cell:{rating.candidate}/{rating.exercise}/{rating.area}", "cand": rating.candidate,
            "exercise": rating.exercise, "area": rating.area, "rating": rating.agreed}


def cell_event(candidate: str, exercise: str, area: str, gate: str) -> dict[str, Any]:
    """A question for the cell rules: is this candidate's rating in this cell below this gate's threshold?"""
    return {"kind": "stage", "stage": "cell", "cand": candidate, "exercise": exercise, "area": area, "gate": gate}


@dataclass(frozen=True)
class SelectionEvaluation:
    tallies: tuple[CandidateTally, ...]
    passed: dict[str, bool]
    outcome: str
    preferred: Optional[str]
    tied: tuple[str, ...]
    firings: tuple[durable.Firing, ...]


def _react(rule: str, matched: dict[str, dict[str, Any]]) -> list[durable.Effect]:
    """Gate actions record their conclusion as a result fact; cell and rank actions only conclude."""
    if not rule.startswith("gate:"):
        return []
    cand = matched["t"]
    return [("assert", {"kind": "result", "id": f"result:{cand['cand']}", "cand": cand["cand"],
                        "passed": 1 if rule == "gate:pass" else 0, "total": cand["total"]})]


def evaluate(compiled: Compiled, appt: Appointment) -> SelectionEvaluation:
    """The three stages in one session: every scored cell against every gate, then the gates,
    then the rank. Candidates in id order, cells in the plan's, gates in the process's."""
    plan: SelectionPlan = compiled.plan  # type: ignore[assignment]
    tallies = tally(plan, appt)
    cells = agreed(appt)
    with _session(compiled) as session:
        session.assert_facts(gate_facts(plan) + [cell_fact(cells[(t.candidate, ex, area)])
                                                 for t in tallies for ex, area in plan.cells])
        cell_firings = [_ask(session, cell_event(t.candidate, ex, area, g.id))
                        for t in tallies for ex, area in plan.cells for g in plan.gates]
        return _decide_field(session, tallies, cell_firings)


def evaluate_one_changed(compiled: Compiled, base: SelectionEvaluation, appt: Appointment,
                         changed: Rating) -> SelectionEvaluation:
    """`appt`, which differs from the evaluation `base` only in the agreed rating `changed`,
    decided by the same rules; the cell rules are asked again about that cell alone.

    A cell rule joins one cell fact and one gate fact, so the other cells' conclusions are the
    base's firings unchanged; the gate and rank stages run again on the new conclusions. The
    result equals `evaluate(compiled, appt)` (tests/test_selection_rules.py checks it), at the
    cost of one firing per gate instead of one per candidate, cell and gate."""
    plan: SelectionPlan = compiled.plan  # type: ignore[assignment]
    where = (changed.candidate, changed.exercise, changed.area)
    with _session(compiled) as session:
        session.assert_facts(gate_facts(plan) + [cell_fact(changed)])
        cell_firings = [_ask(session, cell_event(*where, f.matched["g"]["gate"])) if _cell_of(f) == where else f
                        for f in base.firings if f.rule.startswith("cell:")]
        return _decide_field(session, tally(plan, appt), cell_firings)


def _session(compiled: Compiled):
    name = compiled.durable_name
    return durable.host().session(name, compiled.ruleset["durable"][name], _react)


def _cell_of(firing: durable.Firing) -> tuple[str, str, str]:
    cell = firing.matched["c"]
    return cell["cand"], cell["exercise"], cell["area"]


def _decide_field(session: durable.Session, tallies: list[CandidateTally],
                  cell_firings: list[durable.Firing]) -> SelectionEvaluation:
    """The gate stage on the cell rules' conclusions, then the rank stage on the gate rules'."""
    session.assert_facts(candidate_facts(tallies, cell_firings))
    gate_firings = [_ask(session, {"kind": "stage", "stage": "gate", "cand": t.candidate}) for t in tallies]
    passed = {f.matched["t"]["cand"]: f.rule == "gate:pass" for f in gate_firings}
    session.assert_facts([summary_fact(tallies, passed)])
    decided = _ask(session, {"kind": "stage", "stage": "rank"})
    return conclude(tallies, passed, (*cell_firings, *gate_firings, decided))


def _ask(session: durable.Session, event: dict[str, Any]) -> durable.Firing:
    """Post one stage event; exactly one rule answers it, as the rules of a stage exclude each other."""
    firings = session.post(event)
    if len(firings) != 1:
        raise durable.EngineError(f"expected one rule to answer {event}, got {[f.rule for f in firings]}")
    return firings[0]


def candidate_facts(tallies: list[CandidateTally], cell_firings: list[durable.Firing]) -> list[dict[str, Any]]:
    """What the gate rules need: each candidate's total, and how many `cell:below` conclusions
    the cell rules drew for it (counted, never compared, here)."""
    below = Counter(f.matched["c"]["cand"] for f in cell_firings if f.rule == "cell:below")
    return [{"kind": "candidate", "id": f"cand:{t.candidate}", "cand": t.candidate, "total": t.total,
             "shortfalls": below[t.candidate]} for t in tallies]


def summary_fact(tallies: list[CandidateTally], passed: dict[str, bool]) -> dict[str, Any]:
    """What the rank rules need, counted from the gate rules' conclusions."""
    totals = [t.total for t in tallies if passed[t.candidate]]
    top = max(totals, default=0)
    return {"kind": "summary", "id": "summary", "passers": len(totals), "top": top,
            "at_top": sum(1 for total in totals if total == top)}


def conclude(tallies: list[CandidateTally], passed: dict[str, bool],
             firings: tuple[durable.Firing, ...]) -> SelectionEvaluation:
    """Read the outcome from the rank rule that fired (the last firing)."""
    decided = firings[-1]
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

@dataclass(frozen=True)
class Variant:
    """The field with one agreed rating moved by one point, decided by the same rules."""

    candidate: str
    exercise: str
    area: str
    before: int
    after: int
    evaluation: SelectionEvaluation


def one_point_variants(compiled: Compiled, appt: Appointment, base: SelectionEvaluation) -> tuple[Variant, ...]:
    """Every agreed rating moved one point up and one down, where the scale allows, each
    variant decided by the rules (`evaluate_one_changed`): candidates in id order, cells in
    the plan's, down before up."""
    plan: SelectionPlan = compiled.plan  # type: ignore[assignment]
    values = {v for v, _ in plan.ratings}
    cells = agreed(appt)
    found = []
    for cand in sorted(c.id for c in appt.candidates):
        for exercise, area in plan.cells:
            rating = cells[(cand, exercise, area)]
            for moved in (rating.agreed - 1, rating.agreed + 1):
                if moved in values:
                    variant, changed = _with_rating(appt, rating, moved)
                    found.append(Variant(cand, exercise, area, rating.agreed, moved,
                                         evaluate_one_changed(compiled, base, variant, changed)))
    return tuple(found)


def sensitivity(base: SelectionEvaluation, variants: tuple[Variant, ...]) -> list[dict[str, Any]]:
    """The variants that change a pass or fail, or the outcome, with what they change."""
    found = []
    for v in variants:
        changes = _differences(base, v.evaluation)
        if changes:
            found.append({"candidate": v.candidate, "exercise": v.exercise, "area": v.area, "from": v.before,
                          "to": v.after, "changes": changes})
    return found


def _with_rating(appt: Appointment, rating: Rating, value: int) -> tuple[Appointment, Rating]:
    """The appointment with one agreed rating changed to `value`, and that changed rating."""
    changed = rating.model_copy(update={"agreed": value})
    ratings = tuple(changed if r is rating else r for r in appt.ratings)
    return appt.model_copy(update={"ratings": ratings}), changed


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
    """A selection decided: the rules' conclusions, the ranking among those who passed, every
    one-point variant as the rules decided it, and those that alter a gate or the outcome. The
    records (and the margins, runtime/appointment_margin.py) are built from this alone."""

    evaluation: SelectionEvaluation
    ranks: dict[str, Optional[int]]
    variants: tuple[Variant, ...]
    sensitivity: tuple[dict[str, Any], ...]


def decide(compiled: Compiled, appt: Appointment) -> SelectionDecision:
    evaluation = evaluate(compiled, appt)
    variants = one_point_variants(compiled, appt, evaluation)
    return SelectionDecision(evaluation, ranks(evaluation), variants, tuple(sensitivity(evaluation, variants)))
