"""Compliance frameworks compiled: the statutory and procedural requirements of an appointment
as a plan and a ruleset.

Each requirement is decided by its own rules on its own event: `req:<id>:pass` when the
record's values meet the test, else `req:<id>:fail`; before them, for a requirement that
applies only when a condition holds, `req:<id>:not-applicable` when it does not (which
counts as met). Each action asserts a result fact. Then `compliant` fires only when it can join a passing result for every
requirement (a plain join, no negation); otherwise `not-compliant`.

The tally turns the record into whole numbers the rules compare: days between two dates;
for a ratio within a fraction, |value - base| x denominator and numerator x base; a count
of missing list items; 1 or 0 for a yes/no; for a condition, |a - b| for two numbers that
must differ or be equal, 1 or 0 for a yes/no.
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
    when: Optional[str] = None  # the condition's test: differ | equal | is_true | is_false
    when_inputs: tuple[str, ...] = ()


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
    when = r.applies_when
    when_inputs = () if when is None else tuple(getattr(when, when.test)) if when.test in ("differ", "equal") \
        else (getattr(when, when.test),)
    return RequirementSpec(r.id, f"r{i + 1}", test, r.description, tuple(inputs), bound, denominator, direction,
                           tuple(r.items), r.source, None if when is None else when.test, when_inputs)


def _test(spec: RequirementSpec) -> list[dict]:
    k = spec.key
    if spec.test == "ratio":
        return [{"$lte": {f"{k}_diff": {"$m": f"{k}_allowed"}}}]
    if spec.test in ("days_between", "value"):
        return [{"$gte" if spec.direction == "at_least" else "$lte": {k: spec.bound}}]
    if spec.test == "is_true":
        return [{k: 1}]
    return [{k: 0}]  # contains_all: no item missing


# The test on `<key>_when` under which a requirement does not apply: its condition fails.
_DOES_NOT_APPLY = {
    "differ": lambda k: {f"{k}_when": 0},  # |a - b| is 0: the numbers are equal
    "equal": lambda k: {"$gte": {f"{k}_when": 1}},
    "is_true": lambda k: {f"{k}_when": 0},
    "is_false": lambda k: {f"{k}_when": 1},
}


def compile_compliance(framework: ComplianceFramework) -> Compiled:
    specs = tuple(_spec(i, r) for i, r in enumerate(framework.requirements))
    criteria = canonical_json({"compliance": canonical_model(framework)})
    plan = CompliancePlan(framework.id, framework.title, specs, sha256_bytes(criteria))
    body: dict[str, Any] = {}
    for spec in specs:
        event = {"$and": [{"kind": "stage"}, {"stage": "requirement"}, {"req": spec.id}]}
        if spec.when is not None:
            body[f"req:{spec.id}:not-applicable"] = {
                "all": [{"t": {"$and": [{"kind": "record"}, _DOES_NOT_APPLY[spec.when](spec.key)]}}, {"ev": event}],
                "pri": 0, "run": f"req:{spec.id}:not-applicable"}
        first = 0 if spec.when is None else 1  # the rules of a requirement that always applies keep their places
        body[f"req:{spec.id}:pass"] = {"all": [{"t": {"$and": [{"kind": "record"}, *_test(spec)]}}, {"ev": event}],
                                       "pri": first, "run": f"req:{spec.id}:pass"}
        body[f"req:{spec.id}:fail"] = {"all": [{"ev": event}], "pri": first + 1, "run": f"req:{spec.id}:fail"}
    overall = {"$and": [{"kind": "stage"}, {"stage": "overall"}]}
    body["compliant"] = {"all": [{spec.key: {"$and": [{"kind": "result"}, {"req": spec.id}, {"passed": 1}]}} for spec in specs]
                         + [{"ev": overall}], "pri": 0, "run": "compliant"}
    body["not-compliant"] = {"all": [{"ev": overall}], "pri": 1, "run": "not-compliant"}
    body.update(observers("record", "result"))
    name = ruleset_name(framework.id, body)
    ruleset = {"format": RULESET_FORMAT, "kind": "compliance", "id": framework.id, "plan": plan.to_json(),
               "durable": {name: body}}
    return Compiled(plan, ruleset, render_ruleset(ruleset), criteria)  # type: ignore[arg-type]
