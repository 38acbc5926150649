"""Cases: load an evidence record with its criteria, score it, and check its expectation.

One runner serves `arbiter score`, `arbiter test` and the pytest suite.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any, Optional

from ..compiler.compile import Compiled, compile_loaded
from ..language.canonical import canonical_case
from ..language.criteria import Criteria, load_criteria
from ..language.catalog import Catalog, Loaded, expected_id
from ..language.check import check_case
from ..language.diagnostics import Diagnostic, DiagnosticError, suggest
from ..language.load import Document, load_file
from ..language.models import Case
from ..language.validate import INTACT, Damage, to_model
from ..runtime.decide import evaluate, limiters_holding
from ..runtime.margin import margin
from ..runtime.tally import Evidence
from .record import decision_record


@dataclass(frozen=True)
class LoadedCase:
    case: Case
    loaded: Loaded
    compiled: Compiled

    @cached_property
    def evidence(self) -> bytes:
        """The case in canonical form, worked out once: its decision hashes it, the ledger keeps it."""
        return canonical_case(self.case)


def load_case(path: Path, catalog: Catalog) -> LoadedCase:
    """Read a case and compile its criteria; every problem in the case at once."""
    return read_case(load_file(path), catalog)


def read_case(doc: Document, catalog: Catalog) -> LoadedCase:
    """A case from its loaded document (a file, or data built in memory): validated, checked
    against the criteria it names, and those compiled. Read first, then compile: no stage is
    entered twice."""
    case = to_model(doc, "case")
    problems = case_id_matches_place(case, doc)
    try:
        criteria = criteria_named_by(case, doc, catalog)
    except DiagnosticError as error:
        raise DiagnosticError(problems + error.diagnostics) from None
    problems += check_case_against(criteria, case, doc, catalog.criterion_homes) + written_link_problems(case, doc)
    try:
        compiled = compile_loaded(catalog, criteria)
    except DiagnosticError as error:  # the criteria too large to compile (E134, E135)
        raise DiagnosticError(problems + error.diagnostics) from None
    if problems:
        raise DiagnosticError(problems)
    return LoadedCase(case, Loaded(case, doc), compiled)


def case_id_matches_place(case: Case, doc: Document) -> list[Diagnostic]:
    """E115 when the case's id is not its path below cases/ (data handed over in code has no place)."""
    want = None if doc.in_memory else expected_id(Path(doc.path), "cases")
    if want is not None and case.id != want:
        return [doc.diag(("id",), "E115", f"id '{case.id}' does not match the file's place ({want})",
                         f"write id: {want}")]
    return []


def criteria_named_by(case: Case, doc: Document, catalog: Catalog) -> Criteria:
    """The criteria set a case names, with its framework and scale; E120 at the case's
    `criteria:` line when there is no such set."""
    if not catalog.criteria_path(case.criteria).is_file():
        raise DiagnosticError([doc.diag(("criteria",), "E120", f"unknown criteria set '{case.criteria}'",
                                        _suggest_set(case.criteria, catalog))])
    return load_criteria(catalog, case.criteria)


def check_case_against(criteria: Criteria, case: Case, doc: Document, homes=None,
                       damage: Damage = INTACT) -> list[Diagnostic]:
    """A case's cross-references against the criteria it names (homes: criterion -> set, lazily;
    damage: what salvage left out of a case whose shape is wrong)."""
    return check_case(case, doc, criteria.criteria.model, criteria.framework.model, criteria.scale.model, homes,
                      damage)


def written_link_problems(case: Case, doc: Document) -> list[Diagnostic]:
    """A link in a file names its input and nothing more: the grade and the record's hash are
    filled in once the input is decided, so writing them by hand could only disagree."""
    found = []
    for sub in sorted(case.subgrades):
        entry = case.subgrade(sub)
        if not entry.is_input:
            continue
        if entry.grade is not None or entry.record_sha256 is not None:
            found.append(doc.diag(("subgrades", sub), "E113",
                                  f"sub-area '{sub}' takes its grade from a decision, so it is given no "
                                  "grade or record_sha256 of its own",
                                  "write only decision: <case id> or decision_id: <id>, or only grade: <level>"))
        elif entry.decision is not None and entry.decision_id is not None:
            found.append(doc.diag(("subgrades", sub), "E113", f"sub-area '{sub}' names both a case and a recorded decision",
                                  "keep decision: <case id> or decision_id: <id>"))
    return found


def _suggest_set(name: str, catalog: Catalog) -> str:
    return suggest(name, catalog.criteria_set_ids())


def score(loaded: LoadedCase) -> dict[str, Any]:
    return decide_case(loaded.compiled, loaded.case, loaded.evidence)


def decide_case(compiled: Compiled, case: Case, evidence: Optional[bytes] = None) -> dict[str, Any]:
    """A checked case decided by compiled criteria, with its margin (each change the runtime
    decides too), then recorded from what the runtime returned: `score` and `replay` alike.
    `evidence` is the case's canonical form when the caller holds it already."""
    if any(case.subgrade(sub).is_input and case.subgrade(sub).grade is None for sub in case.subgrades):
        raise ValueError(f"case '{case.id}' takes sub-area grades from other decisions: decide it with "
                         "inspections.graph.decide_graph, which takes them first")
    facts = Evidence.from_case(case, compiled.plan)
    evaluation = evaluate(compiled, facts, limiters=True)
    return decision_record(compiled, case, evaluation, margin(compiled, facts, evaluation.computed),
                           limiters_holding(compiled, evaluation), evidence)


@dataclass(frozen=True)
class Expectation:
    expected: Optional[str]
    actual: str

    @property
    def met(self) -> bool:
        return self.expected is None or self.expected == self.actual


def expectation(loaded: LoadedCase, record: dict[str, Any]) -> Expectation:
    expect = loaded.case.expect
    return Expectation(expect.outcome if expect else None, record["outcome"])
