"""An appointment pack decided: what the selection, compliance and hearing decisions concluded,
asserted as one fact, and the pack rules' ruleset fired (compiler/pack.py has the rules).

Nothing is compared here: the fact holds the outcomes and candidates as the three decisions'
records give them, and the rules say whether the Panel heard the preferred candidate.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Optional

from ..compiler.compile import Compiled
from ..compiler.pack import PackPlan
from . import durable


@dataclass(frozen=True)
class PackInputs:
    """What the pack's three decisions concluded, as their records state it."""

    selection_outcome: str
    preferred: Optional[str]  # the selection's preferred candidate; None without one
    heard: str  # the candidate the Panel heard
    compliance_outcome: str
    hearing_outcome: str

    @classmethod
    def of_records(cls, selection: dict[str, Any], compliance: dict[str, Any], hearing: dict[str, Any]) -> "PackInputs":
        return cls(selection["outcome"], selection.get("preferred"), hearing["subject"], compliance["outcome"],
                   hearing["outcome"])


def pack_fact(inputs: PackInputs) -> dict[str, Any]:
    # No preferred candidate is the empty text, which no candidate id is, so the Panel's
    # candidate never matches it.
    return {"kind": "pack", "id": "pack", "selection_outcome": inputs.selection_outcome,
            "preferred": inputs.preferred or "", "heard": inputs.heard,
            "compliance_outcome": inputs.compliance_outcome, "hearing_outcome": inputs.hearing_outcome}


# The pack outcome each overall rule concludes (compiler/pack.py writes the rules).
OUTCOME_OF_RULE = {"pack:vetoed": "vetoed", "pack:holds": "holds", "pack:does-not-hold": "does_not_hold"}


@dataclass(frozen=True)
class PackEvaluation:
    passed: dict[str, bool]  # by check, in the plan's order
    outcome: str  # holds | vetoed | does_not_hold
    firings: tuple[durable.Firing, ...]


def _react(rule: str, matched: dict[str, dict[str, Any]]) -> list[durable.Effect]:
    if not rule.startswith("check:"):
        return []
    check = matched["ev"]["check"]
    return [("assert", {"kind": "result", "id": f"result:{check}", "check": check,
                        "passed": 0 if rule.endswith(":fail") else 1})]


def evaluate(compiled: Compiled, inputs: PackInputs) -> PackEvaluation:
    plan: PackPlan = compiled.plan  # type: ignore[assignment]
    name = compiled.durable_name
    with durable.host().session(name, compiled.ruleset["durable"][name], _react) as session:
        session.assert_facts([pack_fact(inputs)])
        firings = []
        for check in plan.checks:
            firings += session.post({"kind": "stage", "stage": "check", "check": check.id})
        firings += session.post({"kind": "stage", "stage": "overall"})
    decided = [f for f in firings if f.rule.startswith("check:")]
    passed = {f.matched["ev"]["check"]: f.rule.endswith(":pass") for f in decided}
    if [c.id for c in plan.checks] != list(passed) or not firings or firings[-1].rule not in OUTCOME_OF_RULE:
        raise durable.EngineError(f"unexpected firings {[f.rule for f in firings]}")
    return PackEvaluation(passed, OUTCOME_OF_RULE[firings[-1].rule], tuple(firings))


def check_results(compiled: Compiled, inputs: PackInputs, passed: dict[str, bool]) -> str:
    """The overall stage alone, on given results of the checks and the pack fact of `inputs`
    (the margin asks it about changed results and a changed hearing outcome): holds | vetoed |
    does_not_hold."""
    name = compiled.durable_name
    results = [{"kind": "result", "id": f"result:{check}", "check": check, "passed": 1 if ok else 0}
               for check, ok in passed.items()]
    firings = durable.host().run(name, compiled.ruleset["durable"][name], [pack_fact(inputs), *results],
                                 {"kind": "stage", "stage": "overall"}, lambda rule, matched: [])
    if len(firings) != 1 or firings[0].rule not in OUTCOME_OF_RULE:
        raise durable.EngineError(f"unexpected firings {[f.rule for f in firings]}")
    return OUTCOME_OF_RULE[firings[0].rule]
