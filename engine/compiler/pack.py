"""Pack rules compiled: the plan and the ruleset that decide whether one appointment's pack holds.

A pack names the selection, compliance and hearing decisions of one appointment. The runtime
asserts one `pack` fact holding what those decisions concluded (the selection's outcome and
preferred candidate, the candidate the Panel heard, the compliance outcome and the hearing's)
and the rules compare them. Each check is decided by its own rules on its own event,
`check:<id>:pass` when the pack fact meets its test, else `check:<id>:fail`, and each asserts
a result fact. Then, on the overall event, `pack:vetoed` fires when it can join a passing result
for every check and a vetoed hearing, `pack:holds` when it can join a passing result for every
check, and otherwise `pack:does-not-hold` (plain joins, no negation, as in compliance.py).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any, Optional

from ..language.canonical import canonical_json, canonical_model, sha256_bytes
from ..language.pack_models import CHECKS, PackRulesFile
from .compile import Compiled, observers, render_ruleset, ruleset_name

RULESET_FORMAT = "arbiter-ruleset/1"
# What each check's pass rule tests in the pack fact: the outcome ids the appointment kinds'
# rules conclude, and the one comparison of two values of the fact (durable-rules' `$m`).
_TESTS: dict[str, list[dict[str, Any]]] = {
    "selection_decided": [{"selection_outcome": "preferred"}],
    "hearing_candidate": [{"heard": {"$m": "preferred"}}],
    "compliance_holds": [{"compliance_outcome": "compliant"}],
}


@dataclass(frozen=True)
class CheckSpec:
    id: str
    text: str
    source: Optional[str]


@dataclass(frozen=True)
class PackPlan:
    pack_rules: str
    title: str
    checks: tuple[CheckSpec, ...]
    on_holds: str
    on_vetoed: str
    on_does_not_hold: str
    source: Optional[str]
    criteria_sha256: str

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    def consequence(self, outcome: str) -> str:
        return {"holds": self.on_holds, "vetoed": self.on_vetoed, "does_not_hold": self.on_does_not_hold}[outcome]


def compile_pack(rules: PackRulesFile) -> Compiled:
    criteria = canonical_json({"pack_rules": canonical_model(rules)})
    checks = tuple(CheckSpec(check, getattr(rules.checks, check).text, getattr(rules.checks, check).source)
                   for check in CHECKS)
    plan = PackPlan(rules.id, rules.title, checks, rules.on_holds, rules.on_vetoed, rules.on_does_not_hold,
                    rules.source, sha256_bytes(criteria))
    body: dict[str, Any] = {}
    for check in CHECKS:
        event = {"$and": [{"kind": "stage"}, {"stage": "check"}, {"check": check}]}
        body[f"check:{check}:pass"] = {"all": [{"p": {"$and": [{"kind": "pack"}, *_TESTS[check]]}}, {"ev": event}],
                                       "pri": 0, "run": f"check:{check}:pass"}
        body[f"check:{check}:fail"] = {"all": [{"ev": event}], "pri": 1, "run": f"check:{check}:fail"}
    overall = {"$and": [{"kind": "stage"}, {"stage": "overall"}]}
    passing = [{f"c{i}": {"$and": [{"kind": "result"}, {"check": check}, {"passed": 1}]}}
               for i, check in enumerate(CHECKS)]
    body["pack:vetoed"] = {"all": passing + [{"h": {"$and": [{"kind": "pack"}, {"hearing_outcome": "veto"}]}},
                                             {"ev": overall}], "pri": 0, "run": "pack:vetoed"}
    body["pack:holds"] = {"all": passing + [{"ev": overall}], "pri": 1, "run": "pack:holds"}
    body["pack:does-not-hold"] = {"all": [{"ev": overall}], "pri": 2, "run": "pack:does-not-hold"}
    body.update(observers("pack", "result"))
    name = ruleset_name(rules.id, body)
    ruleset = {"format": RULESET_FORMAT, "kind": "pack_rules", "id": rules.id, "plan": plan.to_json(),
               "durable": {name: body}}
    return Compiled(plan, ruleset, render_ruleset(ruleset), criteria)  # type: ignore[arg-type]
