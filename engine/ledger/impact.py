"""Impact on recorded decisions: each decision in a ledger, its stored evidence graded under
the base criteria and under the working criteria (as `replay --with-current-criteria` grades
it under today's), compared as `arbiter impact` compares cases.
"""

from __future__ import annotations

from typing import Any, Optional

from ..compiler.plan import Plan
from ..language.catalog import Catalog
from ..language.diagnostics import DiagnosticError
from ..language.models import Case
from ..workspace.impact import DecisionChange, compare_records, side_of
from ..workspace.runner import cited_publication
from .audit import Stored, _current, _records_from, _same_subject, stored
from .ledger import Ledger

RECORDED = "recorded evidence"  # what the base grades for a recorded decision: the evidence the ledger keeps


def recorded_changes(ledger: Ledger, base: Catalog, working: Catalog) -> tuple[tuple[DecisionChange, ...], int]:
    """(the recorded decisions whose outcome, limiter or margin differ between the base and the
    working criteria, how many do not), in the ledger's order."""
    changes: list[DecisionChange] = []
    unchanged = 0
    seen: set[str] = set()
    for entry in ledger.entries():
        if entry.type != "decision" or entry.ref in seen:
            continue
        seen.add(entry.ref)
        change = _recorded_change(stored(ledger, entry.ref), base, working)
        unchanged += change is None
        changes += [change] if change else []
    return tuple(changes), unchanged


def _recorded_change(s: Stored, base: Catalog, working: Catalog) -> Optional[DecisionChange]:
    name = f"decision {s.entry.ref}"
    published = cited_publication(Case.model_validate(s.evidence)) if s.body["kind"] == "case" else None
    (before, old_plan, old_problem), (after, new_plan, new_problem) = _graded(s, base), _graded(s, working)
    if before is not None and after is not None:
        return compare_records(name, RECORDED, before, after, (old_plan, new_plan), published)
    problem = old_problem and f"not graded under the base: {old_problem}" or f"not graded under the working criteria: {new_problem}"
    return DecisionChange(name, s.record["case"], RECORDED, before and side_of(before), after and side_of(after),
                          ("outcome",), None, (), published, problem)


def _graded(s: Stored, catalog: Catalog) -> tuple[Optional[dict[str, Any]], Optional[Plan], str]:
    """The stored evidence decided under a catalog's criteria: (record, plan, '') or (None, None, why not)."""
    try:
        compiled, rules = _current(catalog, s)
        record = next((r for r in _records_from(s, compiled, rules) if _same_subject(r, s.record)), None)
    except DiagnosticError as error:
        first = error.diagnostics[0]
        return None, None, f"{first.code} {first.message}"
    if record is None:
        return None, None, "the decision's subject is no longer decided"
    return record, compiled.plan if s.body["kind"] == "case" else None, ""
