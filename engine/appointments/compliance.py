"""Process compliance: the statutory and procedural requirements of an appointment.

Each requirement is decided by its own pair of rules on its own event: `req:<id>:pass`
when the record's values meet the test, else `req:<id>:fail`; each action asserts a
result fact. Then `compliant` fires only when it can join a passing result for every
requirement (a plain join, no negation); otherwise `not-compliant`.

The tally turns the record into whole numbers the rules compare: days between two dates;
for a ratio within a fraction, |value - base| x denominator and numerator x base; a count
of missing list items; 1 or 0 for a yes/no.
"""

from __future__ import annotations

import datetime
from dataclasses import asdict, dataclass
from typing import Any, Optional

from ..compiler.compile import Compiled, canonical_json, canonical_model, observers, render_ruleset, ruleset_name, sha256_bytes
from ..language.appointment_models import ComplianceFramework, ComplianceRecord, Requirement
from ..runtime import durable

RULESET_FORMAT = "arbiter-ruleset/1"


@dataclass(frozen=True)
class RequirementSpec:
    id: str
    key: str  # the field prefix in the record fact: r1, r2, ...
    test: str
    description: str
    inputs: tuple[str, ...]
    bound: Optional[int]  # at_least / at_most / numerator
    denominator: Optional[int]
    direction: Optional[str]  # at_least | at_most for value tests
    items: tuple[str, ...]
    source: Optional[str]


@dataclass(frozen=True)
class CompliancePlan:
    compliance: str
    title: str
    requirements: tuple[RequirementSpec, ...]
    criteria_sha256: str

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def _spec(i: int, r: Requirement) -> RequirementSpec:
    test = r.test
    inputs = {"days_between": r.days_between, "ratio": r.ratio}.get(test) or (getattr(r, test),)
    bound, denominator, direction = None, None, None
    if test == "days_between":
        bound, direction = r.at_least, "at_least"
    elif test == "ratio":
        bound, denominator = r.within.numerator, r.within.denominator
    elif test == "value":
        direction = "at_most" if r.at_most is not None else "at_least"
        bound = r.at_most if r.at_most is not None else r.at_least
    return RequirementSpec(r.id, f"r{i + 1}", test, r.description, tuple(inputs), bound, denominator, direction,
                           tuple(r.items), r.source)


def _test(spec: RequirementSpec) -> list[dict]:
    k = spec.key
    if spec.test == "ratio":
        return [{"$lte": {f"{k}_diff": {"$m": f"{k}_allowed"}}}]
    if spec.test in ("days_between", "value"):
        return [{"$gte" if spec.direction == "at_least" else "$lte": {k: spec.bound}}]
    if spec.test == "is_true":
        return [{k: 1}]
    return [{k: 0}]  # contains_all: no item missing


def compile_compliance(framework: ComplianceFramework) -> Compiled:
    specs = tuple(_spec(i, r) for i, r in enumerate(framework.requirements))
    criteria = canonical_json({"compliance": canonical_model(framework)})
    plan = CompliancePlan(framework.id, framework.title, specs, sha256_bytes(criteria))
    body: dict[str, Any] = {}
    for spec in specs:
        event = {"$and": [{"kind": "stage"}, {"stage": "requirement"}, {"req": spec.id}]}
        body[f"req:{spec.id}:pass"] = {"all": [{"t": {"$and": [{"kind": "record"}, *_test(spec)]}}, {"ev": event}],
                                       "pri": 0, "run": f"req:{spec.id}:pass"}
        body[f"req:{spec.id}:fail"] = {"all": [{"ev": event}], "pri": 1, "run": f"req:{spec.id}:fail"}
    overall = {"$and": [{"kind": "stage"}, {"stage": "overall"}]}
    body["compliant"] = {"all": [{spec.key: {"$and": [{"kind": "result"}, {"req": spec.id}, {"passed": 1}]}} for spec in specs]
                         + [{"ev": overall}], "pri": 0, "run": "compliant"}
    body["not-compliant"] = {"all": [{"ev": overall}], "pri": 1, "run": "not-compliant"}
    body.update(observers("record", "result"))
    name = ruleset_name(framework.id, body)
    ruleset = {"format": RULESET_FORMAT, "kind": "compliance", "id": framework.id, "plan": plan.to_json(),
               "durable": {name: body}}
    return Compiled(plan, ruleset, render_ruleset(ruleset), criteria)  # type: ignore[arg-type]


def measure(spec: RequirementSpec, record: ComplianceRecord) -> dict[str, int]:
    """The whole numbers a requirement's rule compares, from the record."""
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
    passed: dict[str, bool]
    outcome: str  # compliant | not_compliant
    firings: tuple[durable.Firing, ...]


def _react(rule: str, matched: dict[str, dict[str, Any]]) -> list[durable.Effect]:
    if not rule.startswith("req:"):
        return []
    req = matched["ev"]["req"]
    return [("assert", {"kind": "result", "id": f"result:{req}", "req": req, "passed": 1 if rule.endswith(":pass") else 0})]


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
    passed = {f.matched["ev"]["req"]: f.rule.endswith(":pass") for f in firings if f.rule.startswith("req:")}
    if len(passed) != len(plan.requirements) or firings[-1].rule not in ("compliant", "not-compliant"):
        raise durable.EngineError(f"unexpected firings {[f.rule for f in firings]}")
    outcome = "compliant" if firings[-1].rule == "compliant" else "not_compliant"
    return ComplianceEvaluation(measures, passed, outcome, tuple(firings))


def explain_requirement(spec: RequirementSpec, evaluation: ComplianceEvaluation) -> str:
    """Observed against required, in words."""
    m, k = evaluation.measures, spec.key
    verdict = "met" if evaluation.passed[spec.id] else "NOT met"
    if spec.test == "days_between":
        text = f"{m[k]} days from {spec.inputs[0]} to {spec.inputs[1]}; at least {spec.bound} required"
    elif spec.test == "ratio":
        text = (f"|{spec.inputs[0]} - {spec.inputs[1]}| x {spec.denominator} = {m[k + '_diff']} against "
                f"{spec.bound} x {spec.inputs[1]} = {m[k + '_allowed']} (within {spec.bound}/{spec.denominator})")
    elif spec.test == "value":
        text = f"{spec.inputs[0]} = {m[k]}; {spec.direction.replace('_', ' ')} {spec.bound} required"
    elif spec.test == "is_true":
        text = f"{spec.inputs[0]} is {'true' if m[k] else 'false'}"
    else:
        text = f"{spec.inputs[0]} lacks {m[k]} of {len(spec.items)} required items ({', '.join(spec.items)})"
    return f"{spec.id}: {text}: {verdict}"
