"""Panel rules compiled: the hearing plan and the ruleset that decides a veto.

The veto needs at least a fraction (two-thirds) of the Panel's *members*, never of those
present. The tally scales both sides to whole numbers (votes x 3 and members x 2), and a
rule compares them: durable-rules' own arithmetic gave wrong answers in our probes, and
whole numbers keep "exactly two-thirds" exact.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any, Optional

from ..language.appointment_models import PanelRulesFile
from ..language.canonical import canonical_json, canonical_model, sha256_bytes
from .compile import Compiled, observers, render_ruleset, ruleset_name

RULESET_FORMAT = "arbiter-ruleset/1"


@dataclass(frozen=True)
class HearingPlan:
    panel_rules: str
    title: str
    numerator: int
    denominator: int
    veto_text: str
    on_veto: str
    on_no_veto: str
    source: Optional[str]
    criteria_sha256: str

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def compile_hearing(rules: PanelRulesFile) -> Compiled:
    criteria = canonical_json({"panel_rules": canonical_model(rules)})
    plan = HearingPlan(rules.id, rules.title, rules.veto.at_least.numerator, rules.veto.at_least.denominator,
                       rules.veto.text, rules.on_veto, rules.on_no_veto, rules.veto.source, sha256_bytes(criteria))
    stage = {"$and": [{"kind": "stage"}, {"stage": "veto"}]}
    body = {
        "veto": {"all": [{"t": {"$and": [{"kind": "vote"}, {"$gte": {"votes_scaled": {"$m": "needed_scaled"}}}]}},
                         {"ev": stage}], "pri": 0, "run": "veto"},
        "no-veto": {"all": [{"ev": stage}], "pri": 1, "run": "no-veto"},
        **observers("vote"),
    }
    name = ruleset_name(rules.id, body)
    ruleset = {"format": RULESET_FORMAT, "kind": "panel_rules", "id": rules.id, "plan": plan.to_json(),
               "durable": {name: body}}
    return Compiled(plan, ruleset, render_ruleset(ruleset), criteria)  # type: ignore[arg-type]
