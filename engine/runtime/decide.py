"""Decide: facts in, durable-rules rules fire, conclusions out.

The tally facts and a first stage event go into the engine. Each stage is a first-hit
table; the rule that fires records its conclusion by handing the next stage an event
that carries it (`decided`, `rank`). The outcome is the conclusion of the last rule
that fired: nothing here compares a count with a threshold or picks a grade.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Optional

from ..compiler.compile import LIMITS_STAGE, Compiled
from ..compiler.plan import Plan, PlanRule
from ..language.models import NOT_GRADED, UNDECIDED
from . import durable
from .tally import Evidence, override_fact, plan_memo, tally, tally_fact

FIRST_EVENT = {"kind": "stage", "stage": "level"}


@dataclass(frozen=True)
class Evaluation:
    quantities: dict[str, int]  # quantity id -> value
    firings: tuple[durable.Firing, ...]
    uncapped: str  # level id or UNDECIDED
    outcome: str
    limiter: Optional[str]  # id of the limiter (cap) that changed the grade
    floor: Optional[str]  # id of the floor that changed the grade
    computed: str  # the rules' outcome before any recorded professional judgement
    overruled_by: Optional[str] = None  # id of the absolute limiter that lowered a recorded judgement
    holding: Optional[tuple[durable.Firing, ...]] = None  # limiters_holding's answer, when asked with the decision


def evaluate(compiled: Compiled, evidence: Evidence, limiters: bool = False) -> Evaluation:
    """The rules' decision on the evidence. With `limiters` (for a decision record), every
    limiter is also asked whether it holds (limiters_holding), in the same session once the
    decision is made, which saves asserting the tallies again."""
    plan = compiled.plan
    quantities = tally(plan, evidence)
    facts = ([tally_fact(plan, quantities)] if plan.conditions else []) + override_fact(evidence)
    stages, react = _chain(plan, evidence.override_rank is not None)
    asked = _limit_events(plan) if limiters else ()
    name = compiled.durable_name
    firings = durable.host().run_each(name, compiled.ruleset["durable"][name], facts, (FIRST_EVENT, *asked), react)
    if not asked:
        return conclude(plan, quantities, tuple(firings), stages)
    cut = len(firings) - len(asked)  # the chain's firings, then the limiters' (conclude checks the chain's)
    holding = tuple(firings[cut:])
    if any(plan.rule(f.rule).stage != LIMITS_STAGE for f in holding):
        raise durable.EngineError(f"expected one firing per limiter, got {[f.rule for f in holding]}")
    return conclude(plan, quantities, tuple(firings[:cut]), stages, holding)


def _chain(plan: Plan, has_override: bool):
    """The stages to run and the action behind their rules, worked out once per plan."""
    memo = plan_memo(plan)
    key = ("chain", has_override)
    if key not in memo:
        stages = stages_to_run(plan, has_override)
        memo[key] = (stages, _reactor(plan, stages))
    return memo[key]


def _limit_events(plan: Plan) -> tuple[dict[str, Any], ...]:
    """One event per limiter, asking whether its conditions hold; worked out once per plan."""
    memo = plan_memo(plan)
    if "limit_events" not in memo:
        memo["limit_events"] = tuple({"kind": "stage", "stage": LIMITS_STAGE, "limiter": rule.limiter}
                                     for rule in plan.stage_rules(LIMITS_STAGE) if rule.limiter)
    return memo["limit_events"]


def limiters_holding(compiled: Compiled, evaluation: Evaluation) -> tuple[durable.Firing, ...]:
    """Every limiter asked, one event each, whether its conditions hold: `holds:<id>` fires
    when they do, `holds:none` when they do not (compiler/compile.py). Apart from the decision,
    which caps with the one decisive limiter only: the record names every one that holds.
    An evaluation that asked them already (evaluate's `limiters`) has the answer."""
    if evaluation.holding is not None:
        return evaluation.holding
    plan = compiled.plan
    asked = _limit_events(plan)
    if not asked:
        return ()
    name = compiled.durable_name
    return _one_each(asked, tuple(durable.host().run_each(
        name, compiled.ruleset["durable"][name], [tally_fact(plan, evaluation.quantities)],  # the decision's own tallies
        asked, _no_effects)))


def _one_each(asked: tuple[dict[str, Any], ...], firings: tuple[durable.Firing, ...]) -> tuple[durable.Firing, ...]:
    if len(firings) != len(asked):
        raise durable.EngineError(f"expected one firing per limiter, got {[f.rule for f in firings]}")
    return firings


def _no_effects(rule: str, matched: dict[str, dict[str, Any]]) -> list:
    return []


def stages_to_run(plan: Plan, has_override: bool) -> tuple[str, ...]:
    """The override stage runs only when the case records a judgement: without one it has
    nothing to decide, and skipping it saves a rule firing on every evaluation. Nor does the
    absolute stage, which only overrules a judgement: without one the cap stage has capped."""
    if has_override:
        return plan.stages
    return tuple(s for s in plan.stages if s not in ("override", "absolute"))


def _reactor(plan: Plan, stages: tuple[str, ...]):
    """The action behind every rule: pass the rule's conclusion on to the next stage."""
    following = dict(zip(stages, stages[1:]))

    def react(rule_id: str, matched: dict[str, dict[str, Any]]) -> list[dict[str, Any]]:
        rule = plan.rule(rule_id)
        after = following.get(rule.stage)
        if after is None:
            return []
        return [("post", stage_event(after, _concluded_rank(plan, rule, matched)))]

    return react


def _concluded_rank(plan: Plan, rule: PlanRule, matched: dict[str, Any]) -> Optional[int]:
    event = matched["ev"]
    if rule.conclude == "pass":
        return event.get("rank") if event.get("decided") == 1 else None
    if rule.conclude in ("undecided", NOT_GRADED):
        return None
    if rule.conclude == "override":
        return matched["o"]["rank"]
    return plan.level(rule.conclude).rank


def stage_event(stage: str, rank: Optional[int]) -> dict[str, Any]:
    if rank is None:
        return {"kind": "stage", "stage": stage, "decided": 0}
    return {"kind": "stage", "stage": stage, "decided": 1, "rank": rank}


def conclude(plan: Plan, quantities: dict[str, int], firings: tuple[durable.Firing, ...],
             stages: tuple[str, ...], holding: Optional[tuple[durable.Firing, ...]] = None) -> Evaluation:
    """Read the conclusions the fired rules recorded; one firing per stage is required."""
    rules = [plan.rule(f.rule) for f in firings]
    if [rule.stage for rule in rules] != list(stages):
        raise durable.EngineError(f"expected one firing per stage {list(stages)}, got {[r.stage for r in rules]}")
    if not plan.graded:
        return Evaluation(quantities, firings, NOT_GRADED, NOT_GRADED, None, None, NOT_GRADED, holding=holding)
    level_of = lambda rank: UNDECIDED if rank is None else plan.level_at(rank).id  # noqa: E731
    rank: Optional[int] = None
    uncapped = computed = UNDECIDED
    limiter = floor = overruled_by = None
    for firing, rule in zip(firings, rules):
        if rule.stage == "override":
            computed = level_of(rank)  # the rules' outcome, before the recorded judgement
        rank = _concluded_rank(plan, rule, firing.matched)
        if rule.stage == "level":
            uncapped = level_of(rank)
        elif rule.limiter and rule.stage == "cap":
            limiter = rule.limiter
        elif rule.limiter and rule.stage == "floor":
            floor = rule.limiter
        elif rule.limiter and rule.stage == "absolute":
            overruled_by = rule.limiter
    outcome = level_of(rank)
    if "override" not in stages:
        computed = outcome
    return Evaluation(quantities, firings, uncapped, outcome, limiter, floor, computed, overruled_by, holding)
