"""Requirements that apply only when a condition holds: durable-rules against the oracle on
generated frameworks and records, and the record and explanation of one that does not apply."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from engine.compiler import compliance as compile_compliance_rules
from engine.language.appointment_models import ComplianceFramework, ComplianceRecord, Condition, Requirement
from engine.language.diagnostics import DiagnosticError
from engine.language.load import from_data
from engine.language.validate import to_model
from engine.oracle import appointment_reference as oracle
from engine.runtime import compliance

NUMBERS, FLAGS = ["n0", "n1", "n2"], ["f0", "f1"]


@st.composite
def conditions(draw) -> Condition:
    test = draw(st.sampled_from(["differ", "equal", "is_true", "is_false"]))
    if test in ("differ", "equal"):
        return Condition(**{test: tuple(draw(st.lists(st.sampled_from(NUMBERS), min_size=2, max_size=2, unique=True)))})
    return Condition(**{test: draw(st.sampled_from(FLAGS))})


@st.composite
def requirements(draw, index: int) -> Requirement:
    when = draw(st.one_of(st.none(), conditions()))
    test = draw(st.sampled_from(["value", "is_true"]))
    if test == "value":
        return Requirement(id=f"req-{index}", description="d", applies_when=when, value=draw(st.sampled_from(NUMBERS)),
                           at_least=draw(st.integers(0, 3)))
    return Requirement(id=f"req-{index}", description="d", applies_when=when, is_true=draw(st.sampled_from(FLAGS)))


@st.composite
def worlds(draw):
    count = draw(st.integers(1, 5))
    framework = ComplianceFramework(arbiter="compliance", id="gen/compliance", title="Generated requirements",
                                    requirements=tuple(draw(requirements(i)) for i in range(count)))
    record = ComplianceRecord(arbiter="compliance_record", id="gen/record", compliance=framework.id, subject="Generated",
                              constructed=True, numbers={n: draw(st.integers(0, 3)) for n in NUMBERS},
                              flags={f: draw(st.booleans()) for f in FLAGS})
    return framework, compile_compliance_rules.compile_compliance(framework), record


@given(worlds())
def test_durable_rules_and_the_oracle_agree_on_conditional_requirements(world):
    """Whether each requirement applies and is met, and the outcome, for every kind of condition
    (small numbers, so that equal and differing values both come up often)."""
    framework, compiled, record = world
    decided = compliance.evaluate(compiled, record)
    assert decided.applies == {r.id: oracle.requirement_applies(r, record) for r in framework.requirements}
    assert decided.passed == oracle.compliance(framework, record)
    assert decided.outcome == ("compliant" if all(decided.passed.values()) else "not_compliant")


@given(worlds())
def test_a_requirement_that_does_not_apply_is_met_whatever_its_test_reads(world):
    """Turning the test's input every way changes nothing while the condition does not hold."""
    framework, compiled, record = world
    decided = compliance.evaluate(compiled, record)
    for requirement in framework.requirements:
        if decided.applies[requirement.id]:
            continue
        assert decided.passed[requirement.id]
        if requirement.is_true is not None and requirement.is_true not in _condition_inputs(requirement):
            flipped = record.model_copy(update={"flags": {**record.flags,
                                                          requirement.is_true: not record.flags[requirement.is_true]}})
            assert compliance.evaluate(compiled, flipped).passed[requirement.id]


def _condition_inputs(requirement: Requirement) -> set[str]:
    when = requirement.applies_when
    return {name for name in (*(when.differ or ()), *(when.equal or ()), when.is_true, when.is_false) if name}


@pytest.mark.parametrize("written,found", [
    ({"differ": ["a", "b"], "is_true": "c"}, "differ, is_true"),
    ({}, "none"),
])
def test_a_condition_needs_exactly_one_test(written, found):
    data = {"arbiter": "compliance", "id": "gen/compliance", "title": "T",
            "requirements": [{"id": "r", "description": "d", "is_true": "x", "applies_when": written}]}
    with pytest.raises(DiagnosticError) as caught:
        to_model(from_data(data, "framework"))
    [problem] = caught.value.diagnostics
    assert problem.code == "E133" and f"found {found}" in problem.message


@pytest.mark.parametrize("present", [(), ("a",), ("a", "b"), ("a", "b", "c")])
def test_a_list_lacking_items_is_measured_by_how_many_it_lacks(present):
    """The rule compares the count of missing items with none; the explanation states the count."""
    framework = ComplianceFramework(
        arbiter="compliance", id="gen/compliance", title="Generated requirements",
        requirements=(Requirement(id="items", description="d", contains_all="given", items=("a", "b", "c")),))
    record = ComplianceRecord(arbiter="compliance_record", id="gen/record", compliance=framework.id, subject="S",
                              constructed=True, lists={"given": present})
    decided = compliance.evaluate(compile_compliance_rules.compile_compliance(framework), record)
    assert decided.measures == {"r1": 3 - len(present)}
    assert decided.passed == {"items": len(present) == 3} == oracle.compliance(framework, record)
