"""Compliance frameworks compiled: the statutory and procedural requirements of an appointment
as a plan and a ruleset.

Each requirement is decided by its own pair of rules on its own event: `req:<id>:pass`
when the record's values meet the test, else `req:<id>:fail`; each action asserts a
result fact. Then `compliant` fires only when it can join a passing result for every
requirement (a plain join, no negation); otherwise `not-compliant`.

The tally turns the record into whole numbers the rules compare: days between two dates;
for a ratio within a fraction, |value - base| x denominator and numerator x base; a count
of missing list items; 1 or 0 for a yes/no.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any, Optional

from ..language.appointment_models import ComplianceFramework, Requirement
from ..language.canonical import canonical_json, canonical_model, sha256_bytes
from .compile import Compiled, observers, render_ruleset, ruleset_name

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
