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

A pair-table process (compiler/selection.py) runs the same way with its own stages: each
cell's category (`pair:<category>`), whether a recorded resolution settles it
(`resolution:applies`; or `resolution:lapsed:low` or `:high` when the cell is rated another
pair than the one resolved, `resolution:not-needed` when its category needs no resolving), each candidate's result (`result:pass`, `result:pending` or
`result:fail`) and the outcome (`rank:pending` besides the three above). Python puts each
cell's two individual ratings in order (the lower first, and of equal ratings the member
whose id sorts first), and each resolution's pair, before the stages; between the cell and
result stages it counts each candidate's cells (a settled cell in the category
`resolution:applies` concluded) in a failing category, in a category to resolve and in the
ranking categories (the candidate's total); between the result and rank stages, the summary, with
how many candidates are pending. Its sensitivity scan moves one individual rating.

Staged scoring: before the stages, Python finds which of the plan's stages are held (every
cell of the stage, for every candidate, filled: `progress`); only the cells of held stages
become facts and are asked about, the totals and counts are over those cells, and the
summary carries how many stages are not yet held, from which `rank:incomplete` concludes.
The check has already refused a stage partly filled, so a stage is either held or blank.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any, Optional

from ..compiler.compile import Compiled
from ..compiler.selection import PairTablePlan, SelectionPlan
from ..language.appointment_models import Appointment, Rating, agreed, given_ratings, is_blank
from ..language.decision_model import candidate_result
from . import durable

RESOLUTIONS = ("tiebreaker", "discuss")  # what a category that needs resolving calls for


@dataclass(frozen=True)
class CandidateTally:
    candidate: str
    total: int  # the sum of its agreed ratings in the scored exercises


@dataclass(frozen=True)
class Progress:
    """How far the panel has got: the stages held (every cell of the stage filled, for every
    candidate), the plan's cells in them, and how many cells the other stages still need."""

    held: tuple[str, ...]
    unheld: tuple[str, ...]
    cells: tuple[tuple[str, str], ...]  # (exercise, area) of the held stages, in the plan's order
    still_to_fill: int  # cells of the stages not held, over every candidate


def progress(plan: SelectionPlan, appt: Appointment) -> Progress:
    """Counted, never decided: whether each stage's cells are all filled."""
    cells = agreed(appt)
    candidates = [c.id for c in appt.candidates]
    filled = {key for key, rating in cells.items() if not is_blank(rating)}
    held, unheld, to_fill = [], [], 0
    for stage, exercises in plan.stages:
        mine = [(cand, ex, area) for cand in candidates for ex, area in plan.cells if ex in exercises]
        if all(cell in filled for cell in mine):
            held.append(stage)
        else:
            unheld.append(stage)
            to_fill += sum(1 for cell in mine if cell not in filled)
    exercises_held = {ex for stage, exercises in plan.stages if stage in held for ex in exercises}
    return Progress(tuple(held), tuple(unheld), tuple(c for c in plan.cells if c[0] in exercises_held), to_fill)


def tally(plan: SelectionPlan, appt: Appointment) -> list[CandidateTally]:
    """Each candidate's total over the cells held, in id order: the order of entry must not matter."""
    cells, held = agreed(appt), progress(plan, appt).cells
    return [CandidateTally(cand, sum(cells[(cand, ex, area)].agreed for ex, area in held))
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
    pending: tuple[str, ...] = field(default=())  # a pair table's: candidates waiting for a tiebreaker or discussion
    progress: Optional[Progress] = None  # the stages held and still to fill


def _reactor(table: Optional[PairTablePlan]):
    """The actions of a process's rules: `_react`, with a pair table's categories at hand."""
    return lambda rule, matched: _react(table, rule, matched)


def _react(table: Optional[PairTablePlan], rule: str, matched: dict[str, dict[str, Any]]) -> list[durable.Effect]:
    """Gate and result actions record their conclusion as a result fact; a pair table's cell
    actions the cell's category (its pair, and whether the category needs resolving: the
    category rule that fired is the one for that category), and a resolution that applies
    the settled category; other cell actions and rank actions only conclude."""
    if rule.startswith("pair:") and table is not None:
        cell, row = matched["c"], matched["p"]
        resolve = table.category(row["category"]).result in RESOLUTIONS
        return [("assert", {"kind": "graded", "id": f"graded:{cell['cand']}/{cell['exercise']}/{cell['area']}",
                            "cand": cell["cand"], "exercise": cell["exercise"], "area": cell["area"],
                            "category": row["category"], "row": row["row"], "low": cell["low"], "high": cell["high"],
                            "resolve": 1 if resolve else 0})]
    if rule == "resolution:applies":
        settled = matched["r"]
        return [("assert", {"kind": "settled", "id": f"settled:{settled['cand']}/{settled['exercise']}/{settled['area']}",
                            "cand": settled["cand"], "exercise": settled["exercise"], "area": settled["area"],
                            "category": settled["category"]})]
    if rule.startswith("result:"):
        cand = matched["t"]
        return [("assert", {"kind": "result", "id": f"result:{cand['cand']}", "cand": cand["cand"],
                            "passed": 1 if rule == "result:pass" else 0,
                            "pending": 1 if rule == "result:pending" else 0, "total": cand["total"]})]
    if not rule.startswith("gate:"):
        return []
    cand = matched["t"]
    return [("assert", {"kind": "result", "id": f"result:{cand['cand']}", "cand": cand["cand"],
                        "passed": 1 if rule == "gate:pass" else 0, "total": cand["total"]})]


def evaluate(compiled: Compiled, appt: Appointment) -> SelectionEvaluation:
    """The three stages in one session: every scored cell against every gate, then the gates,
    then the rank. Candidates in id order, cells in the plan's, gates in the process's."""
    plan: SelectionPlan = compiled.plan  # type: ignore[assignment]
    if plan.pair_table is not None:
        return _evaluate_pairs(compiled, appt)
    tallies = tally(plan, appt)
    cells, stages = agreed(appt), progress(plan, appt)
    with _session(compiled) as session:
        session.assert_facts(gate_facts(plan) + [cell_fact(cells[(t.candidate, ex, area)])
                                                 for t in tallies for ex, area in stages.cells])
        cell_firings = [_ask(session, cell_event(t.candidate, ex, area, g.id))
                        for t in tallies for ex, area in stages.cells for g in plan.gates]
        return _decide_field(session, tallies, cell_firings, stages)


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
    if plan.pair_table is not None:
        with _session(compiled) as session:
            session.assert_facts(pair_facts(plan.pair_table) + [pair_cell_fact(changed)] + resolution_facts([changed]))
            cell_firings = [_ask(session, pair_cell_event(*where)) if _cell_of(f) == where else f
                            for f in base.firings if f.rule.startswith("pair:")]
            cell_firings += [_ask(session, resolve_event(*where)) if _resolved_cell(f) == where else f
                             for f in base.firings if f.rule.startswith("resolution:")]
            return _decide_pairs(session, plan.pair_table, [t.candidate for t in base.tallies], cell_firings,
                                 base.progress)
    with _session(compiled) as session:
        session.assert_facts(gate_facts(plan) + [cell_fact(changed)])
        cell_firings = [_ask(session, cell_event(*where, f.matched["g"]["gate"])) if _cell_of(f) == where else f
                        for f in base.firings if f.rule.startswith("cell:")]
        return _decide_field(session, tally(plan, appt), cell_firings, base.progress)


def _session(compiled: Compiled):
    name = compiled.durable_name
    table = compiled.plan.pair_table  # type: ignore[attr-defined]
    return durable.host().session(name, compiled.ruleset["durable"][name], _reactor(table))


def _cell_of(firing: durable.Firing) -> tuple[str, str, str]:
    cell = firing.matched["c"]
    return cell["cand"], cell["exercise"], cell["area"]


def _decide_field(session: durable.Session, tallies: list[CandidateTally], cell_firings: list[durable.Firing],
                  stages: Progress) -> SelectionEvaluation:
    """The gate stage on the cell rules' conclusions, then the rank stage on the gate rules'."""
    session.assert_facts(candidate_facts(tallies, cell_firings))
    gate_firings = [_ask(session, {"kind": "stage", "stage": "gate", "cand": t.candidate}) for t in tallies]
    passed = {f.matched["t"]["cand"]: f.rule == "gate:pass" for f in gate_firings}
    session.assert_facts([summary_fact(tallies, passed, stages)])
    decided = _ask(session, {"kind": "stage", "stage": "rank"})
    return conclude(tallies, passed, (*cell_firings, *gate_firings, decided), stages)


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


def summary_fact(tallies: list[CandidateTally], passed: dict[str, bool], stages: Progress) -> dict[str, Any]:
    """What the rank rules need, counted from the gate rules' conclusions, and how many stages
    are not yet held."""
    totals = [t.total for t in tallies if passed[t.candidate]]
    top = max(totals, default=0)
    return {"kind": "summary", "id": "summary", "passers": len(totals), "top": top,
            "at_top": sum(1 for total in totals if total == top), "unheld": len(stages.unheld)}


def conclude(tallies: list[CandidateTally], passed: dict[str, bool], firings: tuple[durable.Firing, ...],
             stages: Progress) -> SelectionEvaluation:
    """Read the outcome from the rank rule that fired (the last firing)."""
    decided = firings[-1]
    outcome = decided.rule.split(":", 1)[1]
    outcome = {"none": "no_appointable_candidate", "pending": "resolution_required"}.get(outcome, outcome)
    preferred = decided.matched["r"]["cand"] if outcome == "preferred" else None
    top = decided.matched.get("s", {}).get("top")
    tied = tuple(t.candidate for t in tallies if passed[t.candidate] and t.total == top) if outcome == "tie" else ()
    return SelectionEvaluation(tuple(tallies), passed, outcome, preferred, tied, firings, progress=stages)


# --- pair tables ----------------------------------------------------------------------------

def pair_facts(table: PairTablePlan) -> list[dict[str, Any]]:
    return [{"kind": "pair", "id": f"pair:{p.row}", "row": p.row, "low": p.low, "high": p.high,
             "category": p.category} for p in table.pairs]


def pair_cell_fact(rating: Rating) -> dict[str, Any]:
    """A cell's two individual ratings, the lower first (of equal ratings, the member whose id
    sorts first), so that one table row answers for both orders."""
    (low_by, low), (high_by, high) = sorted(given_ratings(rating).items(), key=lambda kv: (kv[1], kv[0]))
    return {"kind": "cell", "id": f"cell:{rating.candidate}/{rating.exercise}/{rating.area}", "cand": rating.candidate,
            "exercise": rating.exercise, "area": rating.area, "low": low, "low_by": low_by, "high": high,
            "high_by": high_by}


def pair_cell_event(candidate: str, exercise: str, area: str) -> dict[str, Any]:
    """A question for the category rules: which row of the table holds this cell's pair?"""
    return {"kind": "stage", "stage": "cell", "cand": candidate, "exercise": exercise, "area": area}


def resolution_facts(ratings) -> list[dict[str, Any]]:
    """Each recorded resolution: the pair it resolved (the lower first), the category settled
    on, who settled it, and a tiebreaker's third rating when one was given."""
    facts = []
    for rating in ratings:
        if rating.resolution is not None:
            low, high = sorted(rating.resolution.pair)
            third = rating.resolution.tiebreak_rating
            facts.append({"kind": "resolution", "id": f"resolution:{rating.candidate}/{rating.exercise}/{rating.area}",
                          "cand": rating.candidate, "exercise": rating.exercise, "area": rating.area, "low": low,
                          "high": high, "category": rating.resolution.category, "by": rating.resolution.by,
                          **({"tiebreak_rating": third} if third is not None else {})})
    return facts


def resolve_event(candidate: str, exercise: str, area: str) -> dict[str, Any]:
    """A question for the resolution rules: does this cell's recorded resolution settle it?"""
    return {"kind": "stage", "stage": "resolve", "cand": candidate, "exercise": exercise, "area": area}


def _resolved_cell(firing: durable.Firing) -> tuple[str, str, str]:
    resolution = firing.matched["r"]
    return resolution["cand"], resolution["exercise"], resolution["area"]


def _evaluate_pairs(compiled: Compiled, appt: Appointment) -> SelectionEvaluation:
    plan: SelectionPlan = compiled.plan  # type: ignore[assignment]
    table = plan.pair_table
    assert table is not None
    candidates = sorted(c.id for c in appt.candidates)
    cells, stages = agreed(appt), progress(plan, appt)
    ordered = [cells[(cand, ex, area)] for cand in candidates for ex, area in stages.cells]
    with _session(compiled) as session:
        session.assert_facts(pair_facts(table) + [pair_cell_fact(r) for r in ordered] + resolution_facts(ordered))
        cell_firings = [_ask(session, pair_cell_event(r.candidate, r.exercise, r.area)) for r in ordered]
        cell_firings += [_ask(session, resolve_event(r.candidate, r.exercise, r.area))
                         for r in ordered if r.resolution is not None]
        return _decide_pairs(session, table, candidates, cell_firings, stages)


def category_counts(table: PairTablePlan, candidates: list[str],
                    cell_firings: list[durable.Firing]) -> dict[str, dict[str, int]]:
    """Each candidate's cells, counted by what the category rules concluded, or, for a cell a
    resolution settled, what `resolution:applies` concluded: in a failing category, in one to
    resolve, and in the ranking categories (its total)."""
    counts = {cand: {"failing": 0, "unresolved": 0, "total": 0} for cand in candidates}
    settled = {_resolved_cell(f): f.matched["r"]["category"] for f in cell_firings if f.rule == "resolution:applies"}
    for firing in cell_firings:
        if not firing.rule.startswith("pair:"):
            continue
        category = table.category(settled.get(_cell_of(firing), firing.matched["p"]["category"]))
        mine = counts[firing.matched["c"]["cand"]]
        mine["failing"] += category.result == "fail"
        mine["unresolved"] += category.result in RESOLUTIONS
        mine["total"] += category.id in table.rank_by
    return counts


def _decide_pairs(session: durable.Session, table: PairTablePlan, candidates: list[str],
                  cell_firings: list[durable.Firing], stages: Progress) -> SelectionEvaluation:
    """The result stage on the category rules' conclusions, then the rank stage on the result rules'."""
    counts = category_counts(table, candidates, cell_firings)
    session.assert_facts([{"kind": "candidate", "id": f"cand:{cand}", "cand": cand, **counts[cand]}
                          for cand in candidates])
    result_firings = [_ask(session, {"kind": "stage", "stage": "result", "cand": cand}) for cand in candidates]
    passed = {f.matched["t"]["cand"]: f.rule == "result:pass" for f in result_firings}
    pending = tuple(f.matched["t"]["cand"] for f in result_firings if f.rule == "result:pending")
    tallies = [CandidateTally(cand, counts[cand]["total"]) for cand in candidates]
    session.assert_facts([{**summary_fact(tallies, passed, stages), "pending": len(pending)}])
    decided = _ask(session, {"kind": "stage", "stage": "rank"})
    concluded = conclude(tallies, passed, (*cell_firings, *result_firings, decided), stages)
    return SelectionEvaluation(concluded.tallies, passed, concluded.outcome, concluded.preferred, concluded.tied,
                               concluded.firings, pending, stages)


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
    member: Optional[str] = None  # a pair table's: whose individual rating moved


def one_point_variants(compiled: Compiled, appt: Appointment, base: SelectionEvaluation) -> tuple[Variant, ...]:
    """Every agreed rating (under a pair table, every individual rating) moved one point down
    and one up, where the scale allows, each variant decided by the rules
    (`evaluate_one_changed`): candidates in id order, cells in the plan's, members in id order,
    down before up."""
    plan: SelectionPlan = compiled.plan  # type: ignore[assignment]
    values = {v for v, _ in plan.ratings}
    cells = agreed(appt)
    held = base.progress.cells if base.progress else plan.cells
    found = []
    for cand in sorted(c.id for c in appt.candidates):
        for exercise, area in held:
            rating = cells[(cand, exercise, area)]
            for member, before in _rated(rating, plan.pair_table is not None):
                for moved in (before - 1, before + 1):
                    if moved in values:
                        variant, changed = _with_rating(appt, rating, member, moved)
                        found.append(Variant(cand, exercise, area, before, moved,
                                             evaluate_one_changed(compiled, base, variant, changed), member))
    return tuple(found)


def _rated(rating: Rating, by_pair_table: bool) -> list[tuple[Optional[str], int]]:
    """(member, rating) for each rating a one-point change moves: the agreed one (member None),
    or under a pair table each member's own."""
    return sorted(given_ratings(rating).items()) if by_pair_table else [(None, rating.agreed)]


def sensitivity(base: SelectionEvaluation, variants: tuple[Variant, ...]) -> list[dict[str, Any]]:
    """The variants that change a pass or fail, or the outcome, with what they change."""
    found = []
    for v in variants:
        changes = _differences(base, v.evaluation, "result" if v.member else "gates")
        if changes:
            found.append({"candidate": v.candidate, "exercise": v.exercise, "area": v.area,
                          **({"member": v.member} if v.member else {}), "from": v.before, "to": v.after,
                          "changes": changes})
    return found


def _with_rating(appt: Appointment, rating: Rating, member: Optional[str], value: int) -> tuple[Appointment, Rating]:
    """The appointment with one rating changed to `value` (the agreed one, or that member's
    own), and that changed rating."""
    update = {"agreed": value} if member is None else {"individual": {**rating.individual, member: value}}
    changed = rating.model_copy(update=update)
    ratings = tuple(changed if r is rating else r for r in appt.ratings)
    return appt.model_copy(update={"ratings": ratings}), changed


def _differences(before: SelectionEvaluation, after: SelectionEvaluation, word: str) -> list[str]:
    """What changed: each candidate's gates (a pair table's result: pass, pending or fail), and the outcome."""
    changes = [f"{cand} {word}: {result_of(before, cand)} -> {result_of(after, cand)}"
               for cand in before.passed if result_of(before, cand) != result_of(after, cand)]
    if (before.outcome, before.preferred, before.tied, before.pending) != \
            (after.outcome, after.preferred, after.tied, after.pending):
        changes.append(f"outcome: {describe_outcome(before)} -> {describe_outcome(after)}")
    return changes


def result_of(evaluation: SelectionEvaluation, candidate: str) -> str:
    """A candidate's result as the rules concluded it: pass, pending (a pair table's) or fail."""
    return candidate_result(evaluation.passed[candidate], candidate in evaluation.pending)


def describe_outcome(evaluation: SelectionEvaluation) -> str:
    if evaluation.outcome == "preferred":
        return f"preferred {evaluation.preferred}"
    if evaluation.outcome == "tie":
        return f"tie between {', '.join(evaluation.tied)}"
    if evaluation.outcome == "resolution_required":
        return f"a tiebreaker or discussion for {', '.join(evaluation.pending)}"
    if evaluation.outcome == "incomplete":
        return "incomplete"
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
