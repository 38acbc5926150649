"""Compliance decided: each requirement measured as whole numbers and the framework's
ruleset fired (compiler/compliance.py has the rules and the measures' meaning).
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from typing import Any

from ..compiler.compile import Compiled
from ..compiler.compliance import CompliancePlan, RequirementSpec
from ..language.appointment_models import ComplianceRecord
from . import durable


def measure(spec: RequirementSpec, record: ComplianceRecord) -> dict[str, int]:
    """The whole numbers a requirement's rules compare, from the record: its condition's, then its test's."""
    return {**condition_measure(spec, record), **test_measure(spec, record)}


def condition_measure(spec: RequirementSpec, record: ComplianceRecord) -> dict[str, int]:
    if spec.when in ("differ", "equal"):
        a, b = (record.numbers[name] for name in spec.when_inputs)
        return {f"{spec.key}_when": abs(a - b)}
    if spec.when in ("is_true", "is_false"):
        return {f"{spec.key}_when": 1 if record.flags[spec.when_inputs[0]] else 0}
    return {}


def test_measure(spec: RequirementSpec, record: ComplianceRecord) -> dict[str, int]:
    k = spec.key
    if spec.test == "days_between":
        start, end = (datetime.date.fromisoformat(record.dates[name]) for name in spec.inputs)
        return {k: (end - start).days}
    if spec.test == "ratio":
        value, base = (record.numbers[name] for name in spec.inputs)
        return {f"{k}_diff": abs(value - base) * spec.denominator, f"{k}_allowed": spec.bound * base}
    if spec.test == "value":
        return {k: record.numbers[spec.inputs[0]]}
    if spec.test == "is_true":
        return {k: 1 if record.flags[spec.inputs[0]] else 0}
    present = set(record.lists[spec.inputs[0]])
    return {k: sum(1 for item in spec.items if item not in present)}


@dataclass(frozen=True)
class ComplianceEvaluation:
    measures: dict[str, int]
    passed: dict[str, bool]  # met, or does not apply
    applies: dict[str, bool]  # False where the requirement's condition does not hold
    outcome: str  # compliant | not_compliant
    firings: tuple[durable.Firing, ...]


def _react(rule: str, matched: dict[str, dict[str, Any]]) -> list[durable.Effect]:
    if not rule.startswith("req:"):
        return []
    req = matched["ev"]["req"]
    return [("assert", {"kind": "result", "id": f"result:{req}", "req": req, "passed": 0 if rule.endswith(":fail") else 1})]


def evaluate(compiled: Compiled, record: ComplianceRecord) -> ComplianceEvaluation:
    plan: CompliancePlan = compiled.plan  # type: ignore[assignment]
    measures: dict[str, int] = {}
    for spec in plan.requirements:
        measures.update(measure(spec, record))
    name = compiled.durable_name
    with durable.host().session(name, compiled.ruleset["durable"][name], _react) as session:
        session.assert_facts([{"kind": "record", "id": "record", **measures}])
        firings = []
        for spec in plan.requirements:
            firings += session.post({"kind": "stage", "stage": "requirement", "req": spec.id})
        firings += session.post({"kind": "stage", "stage": "overall"})
    decided = [f for f in firings if f.rule.startswith("req:")]
    passed = {f.matched["ev"]["req"]: not f.rule.endswith(":fail") for f in decided}
    applies = {f.matched["ev"]["req"]: not f.rule.endswith(":not-applicable") for f in decided}
    if len(passed) != len(plan.requirements) or firings[-1].rule not in ("compliant", "not-compliant"):
        raise durable.EngineError(f"unexpected firings {[f.rule for f in firings]}")
    outcome = "compliant" if firings[-1].rule == "compliant" else "not_compliant"
    return ComplianceEvaluation(measures, passed, applies, outcome, tuple(firings))


def requirement_results(compiled: Compiled, passed: dict[str, bool]) -> str:
    """The overall stage alone, on given results of the requirements (the margin asks it about
    changed results): compliant | not_compliant."""
    name = compiled.durable_name
    results = [{"kind": "result", "id": f"result:{req}", "req": req, "passed": 1 if ok else 0} for req, ok in passed.items()]
    firings = durable.host().run(name, compiled.ruleset["durable"][name], results, {"kind": "stage", "stage": "overall"},
                                 lambda rule, matched: [])
    if len(firings) != 1 or firings[0].rule not in ("compliant", "not-compliant"):
        raise durable.EngineError(f"unexpected firings {[f.rule for f in firings]}")
    return "compliant" if firings[0].rule == "compliant" else "not_compliant"
