"""Evidence built by lint: validated as case files are, decided by durable-rules, written as witnesses.

An Assignment is evidence as the space enumerates it (each criterion's finding or score, each
factor, each sub-area's level rank or None when it is not counted, the number of causes of
concern). `decide` writes it as a case's data, reads that back through the project's own
loader and case checks (so every witness is a valid case), and decides it with
runtime/decide.evaluate; `witness_record` adds the note and the `expect:` of the outcome the
rules gave.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass
from typing import Any, Mapping, Optional

from ..compiler.compile import Compiled
from ..language.criteria import Criteria
from ..language.load import from_data
from ..language.models import Case
from ..language.validate import to_model
from ..inspections.cases import check_case_against
from ..language.diagnostics import DiagnosticError
from ..runtime import durable
from ..runtime.decide import Evaluation, evaluate, limiters_holding
from ..runtime.tally import Evidence

SUBJECT = "Constructed example"
MOST_NAMED = 4  # criteria named one by one in a description; more are counted


@dataclass(frozen=True)
class Assignment:
    findings: Mapping[str, Any]  # criterion -> met, not_met, not_assessed or a score
    factors: Mapping[str, bool]
    subgrades: Mapping[str, Optional[int]]  # sub-area -> level rank, None when not counted
    concerns: int = 0


@dataclass(frozen=True)
class Decided:
    assignment: Assignment
    data: Mapping[str, Any]  # the evidence record, without note and expect
    evaluation: Evaluation
    holding: tuple[str, ...]  # the limiters durable-rules says hold


def case_data(criteria: Criteria, assignment: Assignment, case_id: str) -> dict[str, Any]:
    """The evidence as a case file holds it."""
    levels = [lv.id for lv in criteria.scale.model.levels]
    data: dict[str, Any] = {"arbiter": "case", "id": case_id, "criteria": criteria.criteria.model.id,
                            "subject": SUBJECT, "constructed": True}
    if assignment.factors:
        data["factors"] = dict(assignment.factors)
    if assignment.subgrades:
        data["subgrades"] = {sub: levels[rank] if rank is not None else {"provenance": "ungraded"}
                             for sub, rank in assignment.subgrades.items()}
    if assignment.findings:
        data["findings"] = [{"criterion": c, "score": v} if isinstance(v, int) else {"criterion": c, "finding": v}
                            for c, v in assignment.findings.items()]
    if assignment.concerns:
        data["causes_of_concern"] = [{"text": f"constructed cause of concern {n + 1}"}
                                     for n in range(assignment.concerns)]
    return data


def decide(criteria: Criteria, compiled: Compiled, assignment: Assignment) -> Decided:
    """The evidence validated and checked as a case, then decided by durable-rules."""
    data = case_data(criteria, assignment, f"{criteria.criteria.model.id}/lint-witness")
    case = valid_case(criteria, data)
    evaluation = evaluate(compiled, Evidence.from_case(case, compiled.plan))
    holding = tuple(compiled.plan.rule(f.rule).limiter for f in limiters_holding(compiled, evaluation)
                    if compiled.plan.rule(f.rule).limiter)
    return Decided(assignment, data, evaluation, holding)


def valid_case(criteria: Criteria, data: Mapping[str, Any]) -> Case:
    """A witness read as a case file is: a witness that fails is lint's own mistake."""
    doc = from_data(dict(data), "witness")
    try:
        case = to_model(doc, "case")
        problems = check_case_against(criteria, case, doc)
    except DiagnosticError as error:
        problems = error.diagnostics
    if problems:
        raise durable.EngineError(f"lint built an invalid witness for set '{criteria.criteria.model.id}': "
                                  + "; ".join(f"{p.path}: {p.code} {p.message}" for p in problems))
    return case  # type: ignore[return-value]


def witness_record(criteria: Criteria, decided: Decided, name: str, note: str) -> dict[str, Any]:
    """The decided evidence as a complete case: a constructed id under the set's, a note saying
    what it shows, and the outcome durable-rules gave as its expectation."""
    data = dict(decided.data)
    data["id"] = f"{criteria.criteria.model.id}/{_slug(name)}"
    data["note"] = f"Constructed by arbiter lint. {note}"
    data["expect"] = {"outcome": decided.evaluation.outcome}
    ordered = ("arbiter", "id", "criteria", "subject", "constructed", "note", "factors", "subgrades", "findings",
               "causes_of_concern", "expect")
    record = {key: data[key] for key in ordered if key in data}
    valid_case(criteria, record)
    return record


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9_-]+", "-", text.lower()).strip("-")[:100] or "witness"


def describe(criteria: Criteria, assignment: Assignment) -> str:
    """The evidence in words, by how it departs from the best: 'sub-areas: 4 Outstanding,
    1 Requires improvement; every criterion met'."""
    parts = []
    levels = criteria.scale.model.levels
    if assignment.subgrades:
        counted = Counter(assignment.subgrades.values())
        words = [f"{counted[i]} {lv.label}" for i, lv in enumerate(levels) if counted[i]]
        words += [f"{counted[None]} not graded"] if counted[None] else []
        parts.append("sub-areas: " + ", ".join(words))
    parts += _findings_in_words(criteria, assignment.findings)
    if assignment.factors:
        present = [f for f, v in assignment.factors.items() if v]
        parts.append(f"factors present: {', '.join(present)}" if present else "no factor present")
    if assignment.concerns:
        parts.append(f"{assignment.concerns} cause{'s' if assignment.concerns > 1 else ''} of concern")
    return "; ".join(parts) or "no evidence to record"


def _findings_in_words(criteria: Criteria, findings: Mapping[str, Any]) -> list[str]:
    if not findings:
        return []
    scored = {c.id: c.scored for c in criteria.criteria.model.criteria if c.scored}
    parts = [f"{c} scored {v}" for c, v in findings.items() if isinstance(v, int)]
    plain = {c: v for c, v in findings.items() if c not in scored}
    unscored = [c for c in scored if findings[c] == "not_assessed"]
    for value, word in (("not_met", "not met"), ("not_assessed", "not assessed")):
        named = [c for c, v in plain.items() if v == value] + (unscored if value == "not_assessed" else [])
        if named:
            listed = ", ".join(named) if len(named) <= MOST_NAMED else f"{len(named)} criteria"
            parts.append(f"{word}: {listed}")
    if plain and all(v == "met" for v in plain.values()):
        parts.insert(0, "every criterion met" if not scored else "every met/not-met criterion met")
    return parts
