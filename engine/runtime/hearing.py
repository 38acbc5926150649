"""The confirmation hearing decided: the vote tallied as whole numbers and the panel rules'
ruleset fired (compiler/hearing.py says why the numbers are scaled).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..compiler.compile import Compiled
from ..compiler.hearing import HearingPlan
from ..language.appointment_models import Hearing
from . import durable


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
