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
  total among them, how many share it), `rank:none`, `rank:preferred` (joined with the
  one passing result at the top) or `rank:tie` fires.

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

from ..language.appointment_models import CompetencyFramework, SelectionProcess, cvf_areas, scored_cells
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


def build_ruleset(plan: SelectionPlan) -> dict[str, Any]:
    rules = {
        "cell:below": {**_cell_rule("$lt"), "run": "cell:below"},
        "cell:meets": {**_cell_rule("$gte"), "run": "cell:meets"},
        "gate:pass": {**_gate_rule({"shortfalls": 0}), "run": "gate:pass"},
        "gate:fail": {**_gate_rule({"$gte": {"shortfalls": 1}}), "run": "gate:fail"},
        "rank:none": {"all": [{"s": {"$and": [{"kind": "summary"}, {"passers": 0}]}}, {"ev": _stage("rank")}],
                      "pri": 0, "run": "rank:none"},
        "rank:preferred": {"all": [{"s": {"$and": [{"kind": "summary"}, {"at_top": 1}]}},
                                   {"r": {"$and": [{"kind": "result"}, {"passed": 1}, {"total": {"s": "top"}}]}},
                                   {"ev": _stage("rank")}], "pri": 1, "run": "rank:preferred"},
        "rank:tie": {"all": [{"s": {"$and": [{"kind": "summary"}, {"$gte": {"at_top": 2}}]}}, {"ev": _stage("rank")}],
                     "pri": 2, "run": "rank:tie"},
    }
    # A gate or cell fact passes its patterns' only constant test (its kind); the other kinds need an observer.
    rules.update(observers("candidate", "result", "summary"))
    return {ruleset_name(plan.process, rules): rules}
