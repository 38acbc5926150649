"""The confirmation hearing: does the Panel's vote veto the proposed appointment?

The veto needs at least a fraction (two-thirds) of the Panel's *members*, never of those
present. The tally scales both sides to whole numbers (votes x 3 and members x 2), and a
rule compares them: durable-rules' own arithmetic gave wrong answers in our probes, and
whole numbers keep "exactly two-thirds" exact.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any, Optional

from ..compiler.compile import Compiled, canonical_json, canonical_model, observers, render_ruleset, ruleset_name, sha256_bytes
from ..language.appointment_models import Hearing, PanelRulesFile
from ..runtime import durable

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


@dataclass(frozen=True)
class HearingEvaluation:
    votes: int
    members: int
    needed: int  # the smallest number of votes that is at least the fraction of the members
    outcome: str  # veto | no_veto
    firings: tuple[durable.Firing, ...]


def vote_fact(plan: HearingPlan, hearing: Hearing) -> dict[str, Any]:
    return {"kind": "vote", "id": "vote", "votes": hearing.votes_for_veto, "members": hearing.members,
            "votes_scaled": hearing.votes_for_veto * plan.denominator, "needed_scaled": hearing.members * plan.numerator}


def evaluate(compiled: Compiled, hearing: Hearing) -> HearingEvaluation:
    plan: HearingPlan = compiled.plan  # type: ignore[assignment]
    name = compiled.durable_name
    firings = durable.host().run(name, compiled.ruleset["durable"][name], [vote_fact(plan, hearing)],
                                 {"kind": "stage", "stage": "veto"}, lambda rule, matched: [])
    if len(firings) != 1:
        raise durable.EngineError(f"expected one firing, got {[f.rule for f in firings]}")
    outcome = "veto" if firings[0].rule == "veto" else "no_veto"
    needed = -(-hearing.members * plan.numerator // plan.denominator)  # exact ceiling
    return HearingEvaluation(hearing.votes_for_veto, hearing.members, needed, outcome, tuple(firings))


def arithmetic(plan: HearingPlan, evaluation: HearingEvaluation) -> str:
    """E.g. '8 of 12 members: 8 x 3 = 24 >= 2 x 12 = 24, at least two-thirds of the members: veto (needs 8)'."""
    lhs, rhs = evaluation.votes * plan.denominator, evaluation.members * plan.numerator
    relation = ">=" if lhs >= rhs else "<"
    verdict = "veto" if evaluation.outcome == "veto" else "no veto"
    return (f"{evaluation.votes} of {evaluation.members} members voted to veto: {evaluation.votes} x {plan.denominator} = "
            f"{lhs} {relation} {plan.numerator} x {evaluation.members} = {rhs}; at least {plan.numerator}/{plan.denominator} "
            f"of the members needs {evaluation.needed} of {evaluation.members}: {verdict}")
