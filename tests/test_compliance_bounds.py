"""A compliance requirement on a number is decided as its words say, at every value around its
bound: `value` with `at_least` passes from the bound up, with `at_most` up to the bound, and
durable-rules and the oracle agree at each value (the ratio law in test_appointment_laws.py
does the same for ratios)."""

from __future__ import annotations

import pytest

from engine.compiler import compliance as compile_compliance_rules
from engine.language.appointment_models import ComplianceFramework, ComplianceRecord, Requirement
from engine.oracle import appointment_reference
from engine.runtime import compliance

BOUNDS = [0, 1, 7, 60]


@pytest.mark.parametrize("direction", ["at_least", "at_most"])
@pytest.mark.parametrize("bound", BOUNDS)
def test_a_value_requirement_holds_exactly_on_its_side_of_the_bound(direction, bound):
    framework = ComplianceFramework(
        arbiter="compliance", id="gen/compliance", title="Generated requirements",
        requirements=(Requirement(id="term", description=f"the term is {direction} {bound}", value="months",
                                  **{direction: bound}),))
    compiled = compile_compliance_rules.compile_compliance(framework)
    for months in range(max(0, bound - 3), bound + 4):
        record = ComplianceRecord(arbiter="compliance_record", id="gen/record", compliance=framework.id,
                                  subject="Generated", constructed=True, numbers={"months": months})
        meant = months >= bound if direction == "at_least" else months <= bound
        decided = compliance.evaluate(compiled, record)
        assert decided.passed == {"term": meant} == appointment_reference.compliance(framework, record), \
            f"{months} months, {direction} {bound}"
        assert decided.outcome == ("compliant" if meant else "not_compliant")
