"""Selection processes: compile, tally and decide a candidate field through durable-rules.

The decision runs in one session, in two stages of rules:

- gate (one event per candidate, in id order): `gate:pass` fires when the candidate's
  tally shows no rating below any gate's threshold; otherwise `gate:fail`. Each action
  asserts a result fact recording the conclusion.
- rank (one event): from a summary of those conclusions (how many passed, the highest
  total among them, how many share it), `rank:none`, `rank:preferred` (joined with the
  one passing result at the top) or `rank:tie` fires.

Counting (ratings below a threshold, totals, the summary) is done in Python between the
stages, as for inspections; every decision is a rule firing. Negation would express
"no other passer scores higher" directly, but durable-rules 2.0.28 gets correlated
negation wrong when facts arrive in some orders, so the host refuses it.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any, Optional

from ..compiler.compile import Compiled, canonical_json, canonical_model, observers, render_ruleset, ruleset_name, sha256_bytes
from ..language.appointment_check import cvf_areas, scored_cells
from ..language.appointment_models import Appointment, CompetencyFramework, Rating, SelectionProcess
from ..language.models import Scale
from ..runtime import durable

RULESET_FORMAT = "arbiter-ruleset/1"
OUTCOMES = {
    "preferred": "Preferred candidate",
    "tie": "Tie: referred to the panel",
    "no_appointable_candidate": "No appointable candidate",
}


@dataclass(frozen=True)
class GateSpec:
    id: str
    threshold: int
    description: str
    source: Optional[str]


@dataclass(frozen=True)
class SelectionPlan:
    process: str
    title: str
    role: str
    level: int
    gates: tuple[GateSpec, ...]
    cells: tuple[tuple[str, str], ...]  # scored (exercise, area), in the process's order
    area_names: tuple[tuple[str, str], ...]
    exercise_titles: tuple[tuple[str, str], ...]
    reconstructed: tuple[tuple[str, str, str], ...]  # (exercise, area, note)
    ratings: tuple[tuple[int, str], ...]  # (value, label), highest first
    tie_policy: str
    criteria_sha256: str

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    def area_name(self, area: str) -> str:
        return dict(self.area_names).get(area, area)


# --- compile -----------------------------------------------------------------------------

def compile_selection(process: SelectionProcess, cvf: CompetencyFramework, scale: Scale) -> Compiled:
    criteria = canonical_json({"process": canonical_model(process), "cvf": canonical_model(cvf),
                               "scale": canonical_model(scale)})
    criteria_sha = sha256_bytes(criteria)
    areas = cvf_areas(cvf)
    plan = SelectionPlan(
        process=process.id, title=process.title, role=process.role, level=process.level,
        gates=tuple(GateSpec(g.id, g.every_rating_at_least, g.description, g.source) for g in process.gates),
        cells=tuple(scored_cells(process)),
        area_names=tuple(sorted((a, areas[a]) for e in process.exercises for a in e.assesses)),
        exercise_titles=tuple((e.id, e.title) for e in process.exercises),
        reconstructed=tuple((e.id, c.area, c.note) for e in process.exercises for c in e.reconstructed),
        ratings=tuple((lv.value, lv.label) for lv in scale.levels if lv.value is not None),
        tie_policy=process.tie_policy, criteria_sha256=criteria_sha)
    ruleset = {"format": RULESET_FORMAT, "kind": "selection_process", "id": process.id, "plan": plan.to_json(),
               "durable": build_ruleset(plan)}
    return Compiled(plan, ruleset, render_ruleset(ruleset), criteria)  # type: ignore[arg-type]


def _stage(name: str, *tests: dict) -> dict:
    return {"$and": [{"kind": "stage"}, {"stage": name}, *tests]}


def build_ruleset(plan: SelectionPlan) -> dict[str, Any]:
    no_shortfall = [{"$lte": {f"g{i + 1}": 0}} for i in range(len(plan.gates))]
    rules = {
        "gate:pass": {"all": [{"t": {"$and": [{"kind": "candidate"}, *no_shortfall]}},
                              {"ev": _stage("gate", {"cand": {"t": "cand"}})}], "pri": 0, "run": "gate:pass"},
        "gate:fail": {"all": [{"ev": _stage("gate")}], "pri": 1, "run": "gate:fail"},
        "rank:none": {"all": [{"s": {"$and": [{"kind": "summary"}, {"passers": 0}]}}, {"ev": _stage("rank")}],
                      "pri": 0, "run": "rank:none"},
        "rank:preferred": {"all": [{"s": {"$and": [{"kind": "summary"}, {"at_top": 1}]}},
                                   {"r": {"$and": [{"kind": "result"}, {"passed": 1}, {"total": {"s": "top"}}]}},
                                   {"ev": _stage("rank")}], "pri": 1, "run": "rank:preferred"},
        "rank:tie": {"all": [{"s": {"$and": [{"kind": "summary"}, {"$gte": {"at_top": 2}}]}}, {"ev": _stage("rank")}],
                     "pri": 2, "run": "rank:tie"},
    }
    rules.update(observers("candidate", "result", "summary"))
    return {ruleset_name(plan.process, rules): rules}


# --- tally -------------------------------------------------------------------------------

@dataclass(frozen=True)
class CandidateTally:
    candidate: str
    shortfalls: tuple[int, ...]  # per gate: how many agreed ratings fall below its threshold
    total: int


def agreed(appt: Appointment) -> dict[tuple[str, str, str], Rating]:
    return {(r.candidate, r.exercise, r.area): r for r in appt.ratings}


def tally(plan: SelectionPlan, appt: Appointment) -> list[CandidateTally]:
    cells = agreed(appt)
    tallies = []
    for cand in sorted(c.id for c in appt.candidates):  # id order: the order of entry must not matter
        scores = [cells[(cand, ex, area)].agreed for ex, area in plan.cells]
        shortfalls = tuple(sum(1 for s in scores if s < g.threshold) for g in plan.gates)
        tallies.append(CandidateTally(cand, shortfalls, sum(scores)))
    return tallies


# --- decide ------------------------------------------------------------------------------

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


