"""The oracle for appointments: the published rules applied directly, in plain Python.

It reads the files' models, not the compiled plans or tallies, so it checks the whole
path from evidence to decision. Tests require it to agree with durable-rules.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

from ..language.appointment_models import Appointment, ComplianceFramework, ComplianceRecord, Hearing, PanelRulesFile, SelectionProcess


@dataclass(frozen=True)
class SelectionAnswer:
    passed: dict[str, bool]
    totals: dict[str, int]
    outcome: str
    preferred: Optional[str]
    tied: tuple[str, ...]


def selection(process: SelectionProcess, appt: Appointment) -> SelectionAnswer:
    scored = {e.id for e in process.exercises if e.scored}
    lowest_allowed = max(g.every_rating_at_least for g in process.gates)
    passed: dict[str, bool] = {}
    totals: dict[str, int] = {}
    for cand in sorted(c.id for c in appt.candidates):
        mine = [r.agreed for r in appt.ratings if r.candidate == cand and r.exercise in scored]
        passed[cand] = all(score >= lowest_allowed for score in mine)
        totals[cand] = sum(mine)
    best = max((totals[c] for c in passed if passed[c]), default=None)
    leaders = tuple(c for c in passed if passed[c] and totals[c] == best)
    if not leaders:
        return SelectionAnswer(passed, totals, "no_appointable_candidate", None, ())
    if len(leaders) == 1:
        return SelectionAnswer(passed, totals, "preferred", leaders[0], ())
    return SelectionAnswer(passed, totals, "tie", None, leaders)


def hearing(rules: PanelRulesFile, record: Hearing) -> str:
    fraction = rules.veto.at_least
    vetoed = record.votes_for_veto * fraction.denominator >= fraction.numerator * record.members
    return "veto" if vetoed else "no_veto"


def compliance(framework: ComplianceFramework, record: ComplianceRecord) -> dict[str, bool]:
    import datetime

    results = {}
    for r in framework.requirements:
        if r.test == "days_between":
            start, end = (datetime.date.fromisoformat(record.dates[k]) for k in r.days_between)
            results[r.id] = (end - start).days >= r.at_least
        elif r.test == "ratio":
            value, base = (record.numbers[k] for k in r.ratio)
            results[r.id] = abs(value - base) * r.within.denominator <= r.within.numerator * base
        elif r.test == "value":
            value = record.numbers[r.value]
            results[r.id] = value <= r.at_most if r.at_most is not None else value >= r.at_least
        elif r.test == "is_true":
            results[r.id] = record.flags[r.is_true] is True
        else:
            results[r.id] = set(r.items) <= set(record.lists[r.contains_all])
    return results
