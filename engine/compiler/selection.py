"""Selection processes compiled: the plan (gates, scored cells, rating scale) and the
durable-rules ruleset that decides a candidate field in three stages of rules.

- cell (one event per candidate, scored cell and gate): each agreed rating is a `cell` fact
  and each gate a `gate` fact holding its threshold. `cell:below` fires when the cell's
  rating is below the gate's threshold, `cell:meets` when it is not; the firing holds the
  cell and the gate it matched.
- gate (one event per candidate): from the candidate's fact, which counts its `cell:below`
  conclusions, `gate:pass` (none) or `gate:fail` (one or more) fires. Each action asserts a
  result fact recording the conclusion.
- rank (one event): from a summary of those conclusions (how many passed, the highest
  total among them, how many share it) and of the stages (how many are not yet held),
  `rank:incomplete` (a stage still to fill), else `rank:none`, `rank:preferred` (joined with
  the one passing result at the top) or `rank:tie` fires.

A selection may be scored after any stage (the plan's `stages`: each a group of scored
exercises). Only the cells of the stages held (every cell filled) are facts; the cells of a
stage not yet held are not asked about, so gates are judged, and totals summed, on the
cells held, and the outcome is `incomplete` until every stage is held.

A process scored by a pair table (`scoring: {method: pair_table, ...}`) has no gates and no
agreed ratings; its stages are:

- cell (one event per candidate and scored cell): each cell is a `cell` fact holding its two
  individual ratings, lower first, and each table row a `pair` fact. One rule per category,
  `pair:<category>`, fires when the cell's two ratings are the row's pair; the firing holds the
  row it matched, and its action asserts the cell's category (a `graded` fact). The table
  maps every pair exactly once (checked), so exactly one rule answers each cell.
- resolve (one event per cell with a recorded resolution): each resolution is a `resolution`
  fact holding the pair it resolved (lower first) and the category the panel settled on.
  `resolution:applies` fires when the cell's category needs resolving and its pair is the
  resolution's, and its action asserts the settled category (a `settled` fact). Otherwise the
  table's category stands: `resolution:lapsed:low` or `resolution:lapsed:high` fires when the
  cell's pair is another (a resolution stands for the pair it resolved only), and
  `resolution:not-needed` when the pair's category needs no resolving (the check refuses such
  a resolution in a file, E159; the rule keeps the engine from ever applying one).
- result (one event per candidate): from the candidate's fact, which counts its cells (a
  settled cell in its settled category) in a failing category, in a category needing a
  tiebreaker or discussion, and in the ranking categories, `result:fail` (a failing cell),
  `result:pending` (none failing, one or more to resolve) or `result:pass` fires, and asserts
  the result fact.
- rank (one event): `rank:incomplete` when a stage is not yet held, else `rank:pending` when
  any candidate is pending (the outcome waits for the tiebreaker or discussion), otherwise
  `rank:none`, `rank:preferred` or `rank:tie`, as above, on the passers' counts of cells in
  the ranking categories.

The rules do not grow with the process: a gate is a fact, not a rule, so a process of many
gates has as many rules as one of a single gate (and the cell rule joins one gate fact by its
id). Each cell rule's event is its first pattern, so the core joins a cell with a gate only
when an event asks about that pair, never every cell with every gate.

Negation would express "no rating below the threshold" or "no other passer scores higher"
directly, but durable-rules 2.0.28 gets correlated negation wrong when facts arrive in some
orders, so the host refuses it: the stages count conclusions instead (runtime/selection.py
counts between stages; the rules compare).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any, Optional

from ..language.appointment_models import (CompetencyFramework, SelectionProcess, cvf_areas, pair_table, scored_cells,
                                           stages)
from ..language.canonical import canonical_json, canonical_model, sha256_bytes
from ..language.models import Scale
from .compile import Compiled, observers, render_ruleset, ruleset_name

RULESET_FORMAT = "arbiter-ruleset/1"


@dataclass(frozen=True)
class GateSpec:
    id: str
    threshold: int
    description: str
    source: Optional[str]


@dataclass(frozen=True)
class CategorySpec:
    id: str
    label: str
    result: str  # what a cell in it means for the candidate: pass, fail, tiebreaker or discuss


@dataclass(frozen=True)
class PairSpec:
    row: int  # the table row, counted from 0, as the process writes it
    low: int
    high: int
    category: str


@dataclass(frozen=True)
class PairTablePlan:
    categories: tuple[CategorySpec, ...]
    pairs: tuple[PairSpec, ...]
    rank_by: tuple[str, ...]
    choice: str
    source: Optional[str]

    def category(self, category_id: str) -> CategorySpec:
        return next(c for c in self.categories if c.id == category_id)


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
    pair_table: Optional[PairTablePlan] = None  # None: the sum of agreed ratings, with gates
    stages: tuple[tuple[str, tuple[str, ...]], ...] = ()  # (stage, its scored exercises), in scoring order

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        if self.pair_table is None:  # a summing process's plan is written as it always was
            del data["pair_table"]
        return data

    def area_name(self, area: str) -> str:
        return dict(self.area_names).get(area, area)

    def stage_of(self, exercise: str) -> str:
        return next(stage for stage, exercises in self.stages if exercise in exercises)


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
        tie_policy=process.tie_policy, criteria_sha256=criteria_sha, pair_table=_pair_table_plan(process),
        stages=tuple(stages(process)))
    durable = build_ruleset(plan) if plan.pair_table is None else build_pair_ruleset(plan)
    ruleset = {"format": RULESET_FORMAT, "kind": "selection_process", "id": process.id, "plan": plan.to_json(),
               "durable": durable}
    return Compiled(plan, ruleset, render_ruleset(ruleset), criteria)  # type: ignore[arg-type]


def _stage(name: str, *tests: dict) -> dict:
    return {"$and": [{"kind": "stage"}, {"stage": name}, *tests]}


def _cell_rule(comparison: str) -> dict[str, Any]:
    """The cell named by the event, compared with the threshold of the gate the event names."""
    gate = {"$and": [{"kind": "gate"}, {"gate": {"ev": "gate"}}]}
    cell = {"$and": [{"kind": "cell"}, {"cand": {"ev": "cand"}}, {"exercise": {"ev": "exercise"}},
                     {"area": {"ev": "area"}}, {comparison: {"rating": {"g": "threshold"}}}]}
    return {"all": [{"ev": _stage("cell")}, {"g": gate}, {"c": cell}], "pri": 0}


def _gate_rule(test: dict) -> dict[str, Any]:
    """The candidate named by the event, by how many `cell:below` conclusions it has."""
    return {"all": [{"t": {"$and": [{"kind": "candidate"}, test]}}, {"ev": _stage("gate", {"cand": {"t": "cand"}})}],
            "pri": 0}


def _incomplete_rule() -> dict[str, Any]:
    """A stage not yet held: nothing is decided until every stage is in."""
    return {"all": [{"s": {"$and": [{"kind": "summary"}, {"$gte": {"unheld": 1}}]}}, {"ev": _stage("rank")}],
            "pri": 0, "run": "rank:incomplete"}


def build_ruleset(plan: SelectionPlan) -> dict[str, Any]:
    held = {"unheld": 0}
    rules = {
        "cell:below": {**_cell_rule("$lt"), "run": "cell:below"},
        "cell:meets": {**_cell_rule("$gte"), "run": "cell:meets"},
        "gate:pass": {**_gate_rule({"shortfalls": 0}), "run": "gate:pass"},
        "gate:fail": {**_gate_rule({"$gte": {"shortfalls": 1}}), "run": "gate:fail"},
        "rank:incomplete": _incomplete_rule(),
        "rank:none": {"all": [{"s": {"$and": [{"kind": "summary"}, held, {"passers": 0}]}}, {"ev": _stage("rank")}],
                      "pri": 1, "run": "rank:none"},
        "rank:preferred": {"all": [{"s": {"$and": [{"kind": "summary"}, held, {"at_top": 1}]}},
                                   {"r": {"$and": [{"kind": "result"}, {"passed": 1}, {"total": {"s": "top"}}]}},
                                   {"ev": _stage("rank")}], "pri": 2, "run": "rank:preferred"},
        "rank:tie": {"all": [{"s": {"$and": [{"kind": "summary"}, held, {"$gte": {"at_top": 2}}]}},
                             {"ev": _stage("rank")}], "pri": 3, "run": "rank:tie"},
    }
    # A gate or cell fact passes its patterns' only constant test (its kind); the other kinds need an observer.
    rules.update(observers("candidate", "result", "summary"))
    return {ruleset_name(plan.process, rules): rules}


# --- pair tables -----------------------------------------------------------------------------

def _pair_table_plan(process: SelectionProcess) -> Optional[PairTablePlan]:
    scoring = pair_table(process)
    if scoring is None:
        return None
    categories = tuple(CategorySpec(c.id, c.label or c.id, c.resolution or ("pass" if c.passes else "fail"))
                       for c in scoring.categories)
    pairs = tuple(PairSpec(i, min(row.ratings), max(row.ratings), row.category) for i, row in enumerate(scoring.table))
    return PairTablePlan(categories, pairs, scoring.rank_by, scoring.choice, scoring.source)


def _pair_rule(category: str) -> dict[str, Any]:
    """The cell named by the event, whose two ratings (lower first) are a row of this category."""
    pair = {"$and": [{"kind": "pair"}, {"category": category}]}
    cell = {"$and": [{"kind": "cell"}, {"cand": {"ev": "cand"}}, {"exercise": {"ev": "exercise"}},
                     {"area": {"ev": "area"}}, {"low": {"p": "low"}}, {"high": {"p": "high"}}]}
    return {"all": [{"ev": _stage("cell")}, {"p": pair}, {"c": cell}], "pri": 0, "run": f"pair:{category}"}


def _resolution_rule(*tests: dict) -> dict[str, Any]:
    """The resolution recorded for the cell named by the event, and that cell's category as the
    category rules graded it; `tests` compare the cell's pair with the resolution's."""
    at_cell = [{"cand": {"ev": "cand"}}, {"exercise": {"ev": "exercise"}}, {"area": {"ev": "area"}}]
    resolution = {"$and": [{"kind": "resolution"}, *at_cell]}
    graded = {"$and": [{"kind": "graded"}, *at_cell, *tests]}
    return {"all": [{"ev": _stage("resolve")}, {"r": resolution}, {"g": graded}], "pri": 0}


def resolution_rules() -> dict[str, Any]:
    """A resolution settles a cell whose category needs resolving, for the pair it resolved; a
    cell rated another pair, or whose category needs no resolving, keeps the table's category
    (the four rules exclude each other, and one answers every cell)."""
    same_pair = ({"low": {"r": "low"}}, {"high": {"r": "high"}})
    return {
        "resolution:applies": {**_resolution_rule({"resolve": 1}, *same_pair), "run": "resolution:applies"},
        "resolution:not-needed": {**_resolution_rule({"resolve": 0}, *same_pair), "run": "resolution:not-needed"},
        "resolution:lapsed:low": {**_resolution_rule({"$neq": {"low": {"r": "low"}}}), "run": "resolution:lapsed:low"},
        "resolution:lapsed:high": {**_resolution_rule({"low": {"r": "low"}}, {"$neq": {"high": {"r": "high"}}}),
                                   "run": "resolution:lapsed:high"},
    }


def _result_rule(*tests: dict) -> dict[str, Any]:
    """The candidate named by the event, by how many of its cells fall in each kind of category."""
    return {"all": [{"t": {"$and": [{"kind": "candidate"}, *tests]}}, {"ev": _stage("result", {"cand": {"t": "cand"}})}],
            "pri": 0}


def build_pair_ruleset(plan: SelectionPlan) -> dict[str, Any]:
    assert plan.pair_table is not None
    rules = {f"pair:{c.id}": _pair_rule(c.id) for c in plan.pair_table.categories}
    rules.update(resolution_rules())
    waiting = {"pending": 0}
    held = {"unheld": 0}
    rules.update({
        "result:fail": {**_result_rule({"$gte": {"failing": 1}}), "run": "result:fail"},
        "result:pending": {**_result_rule({"failing": 0}, {"$gte": {"unresolved": 1}}), "run": "result:pending"},
        "result:pass": {**_result_rule({"failing": 0}, {"unresolved": 0}), "run": "result:pass"},
        "rank:incomplete": _incomplete_rule(),
        "rank:pending": {"all": [{"s": {"$and": [{"kind": "summary"}, held, {"$gte": {"pending": 1}}]}},
                                 {"ev": _stage("rank")}], "pri": 1, "run": "rank:pending"},
        "rank:none": {"all": [{"s": {"$and": [{"kind": "summary"}, held, waiting, {"passers": 0}]}},
                              {"ev": _stage("rank")}], "pri": 2, "run": "rank:none"},
        "rank:preferred": {"all": [{"s": {"$and": [{"kind": "summary"}, held, waiting, {"at_top": 1}]}},
                                   {"r": {"$and": [{"kind": "result"}, {"passed": 1}, {"total": {"s": "top"}}]}},
                                   {"ev": _stage("rank")}], "pri": 3, "run": "rank:preferred"},
        "rank:tie": {"all": [{"s": {"$and": [{"kind": "summary"}, held, waiting, {"$gte": {"at_top": 2}}]}},
                             {"ev": _stage("rank")}], "pri": 4, "run": "rank:tie"},
    })
    # A pair fact passes its category rule's tests; a cell fact its only constant test (its kind).
    # A resolution fact's tests all compare it with other facts; a settled fact no rule reads.
    rules.update(observers("candidate", "result", "summary", "graded", "settled"))
    return {ruleset_name(plan.process, rules): rules}
