"""The decision record: everything an auditor needs to check and replay one decision.

A record is plain JSON with no timestamps, so the same criteria and evidence always give
the same bytes. It carries the sha256 of the criteria (canonical form), of the compiled
ruleset and of the evidence, and the versions of the engine and of durable-rules.
Its shape is language.decision_model.InspectionDecision, which `summary` and `compare` read
it back with: the tests check every
record of every shipped and generated case against that model.
"""

from __future__ import annotations

from typing import Any, Optional

from ..compiler.compile import Compiled
from ..language.canonical import ENGINE_VERSION, canonical_case, durable_rules_version, inspection_decision_id, sha256_bytes
from ..language.models import Case
from ..runtime import durable
from ..runtime.decide import Evaluation
from ..runtime.margin import Change, Margin, Reach
from .explain import hit_policy, limiter_lines, observed_each, outcome_label, plan_memo, undecided_reason, why_not

RECORD_FORMAT = "arbiter-decision/1"


def decision_record(compiled: Compiled, case: Case, evaluation: Evaluation,
                    margin: Optional[Margin] = None, holding: tuple[durable.Firing, ...] = (),
                    evidence: Optional[bytes] = None) -> dict[str, Any]:
    """The record of what the runtime returned: the evaluation, the margin it found for it
    (cases.decide_case always finds one; without one, as for a caller that only evaluates, the
    record's margin is null), and the firings that say which limiters hold (limiters_holding).
    `evidence` is the case's canonical form, when the caller holds it already."""
    plan = compiled.plan
    evidence_sha = sha256_bytes(canonical_case(case) if evidence is None else evidence)
    decision_id = inspection_decision_id(compiled.sha256, evidence_sha)
    deciding = evaluation.firings[0]
    return {
        "format": RECORD_FORMAT,
        "decision_id": decision_id,
        "case": case.id,
        "subject": case.subject,
        "constructed": case.constructed,
        "framework": plan.framework,
        "framework_version": plan.framework_version,
        "criteria_set": plan.criteria_set,
        "area": plan.title,
        "outcome": evaluation.outcome,
        "outcome_label": outcome_label(plan, evaluation.outcome),
        "uncapped_outcome": evaluation.uncapped,
        "uncapped_label": outcome_label(plan, evaluation.uncapped),
        "limiter": _bound(compiled, evaluation.limiter, "cap"),
        "floor": _bound(compiled, evaluation.floor, "floor"),
        "computed_outcome": evaluation.computed,
        "computed_label": outcome_label(plan, evaluation.computed),
        "override": _override(plan, case),
        "overruled_by": _bound(compiled, evaluation.overruled_by, "absolute"),
        "undecided_reason": undecided_reason(plan, evaluation),
        "subgrades": _subgrades(plan, case),
        **({"inputs": inputs} if (inputs := _inputs(case)) else {}),
        "causes_of_concern": [c.model_dump(mode="json") for c in case.causes_of_concern],
        "areas_for_improvement": [a.model_dump(mode="json", exclude_none=True) for a in case.areas_for_improvement],
        "hit_policy": hit_policy(plan) if plan.graded else None,
        "decided_by": {
            "rule": deciding.rule,
            "conditions": observed_each(plan, map(plan.condition, plan.rule(deciding.rule).when), evaluation),
        },
        "why_not": why_not(plan, evaluation),
        "margin": None if margin is None else _margin(plan, margin),
        "limiters": limiter_lines(plan, evaluation, holding),
        "trace": [f.to_json() for f in evaluation.firings + holding],
        "tallies": observed_each(plan, plan.conditions, evaluation),
        "quantifiers": _quantifiers(compiled),
        "criteria_sha256": plan.criteria_sha256,
        "ruleset_sha256": compiled.sha256,
        "evidence_sha256": evidence_sha,
        "engine_version": ENGINE_VERSION,
        "durable_rules_version": durable_rules_version(),
    }


def _margin(plan, margin: Margin) -> dict[str, Any]:
    """The margin as the runtime found it, with labels."""
    return {
        "outcome": margin.outcome,
        "outcome_label": outcome_label(plan, margin.outcome),
        "single_changes": [{**_change(s.change), "outcome": s.outcome, "outcome_label": outcome_label(plan, s.outcome)}
                           for s in margin.single],
        "up": _reach(plan, margin.up),
        "down": _reach(plan, margin.down),
        "search_limit": margin.search_limit,
    }


def _change(change: Change) -> dict[str, Any]:
    # A switch in an exclusive group also names the member it replaces; no other change has the key.
    replaces = {} if change.replaces is None else {"replaces": change.replaces}
    return {"kind": change.item, "id": change.id, "from": change.before, "to": change.after, **replaces}


def _reach(plan, reach: Reach) -> dict[str, Any]:
    return {
        "status": reach.status,
        "target": reach.target,
        "target_label": outcome_label(plan, reach.target) if reach.target else None,
        "fewest_changes": reach.fewest,
        "more_than": reach.more_than,
        "example": [_change(c) for c in reach.example],
        "example_outcome": reach.example_outcome,
        "example_label": outcome_label(plan, reach.example_outcome) if reach.example_outcome else None,
    }


def _override(plan, case: Case) -> dict[str, Any] | None:
    if case.override is None:
        return None
    return {**case.override.model_dump(mode="json"), "label": outcome_label(plan, case.override.outcome)}


def _subgrades(plan, case: Case) -> list[dict[str, Any]]:
    """Every sub-area grade with where it came from and whether it counted."""
    out = []
    for sub_id in sorted(case.subgrades):
        entry = case.subgrade(sub_id)
        out.append({"id": sub_id, "grade": entry.grade, "provenance": entry.provenance,
                    "counted": entry.grade is not None and plan.counts_subgrade(entry.provenance),
                    **({"carried_from": entry.carried_from, "year": entry.year} if entry.carried_from else {}),
                    **({"decision": entry.decision, "decision_id": entry.decision_id} if entry.is_input else {}),
                    **({"source": entry.source} if entry.source else {})})
    return out


def _inputs(case: Case) -> list[dict[str, Any]]:
    """Each decision a sub-area's grade was taken from, by id and by the hash of its record, so
    that a replay can rebuild the whole chain and tell which link changed."""
    return [{"subarea": sub_id, "case": entry.decision, "decision_id": entry.decision_id,
             "record_sha256": entry.record_sha256, "outcome": entry.grade}
            for sub_id in sorted(case.subgrades) if (entry := case.subgrade(sub_id)).is_input]


def _bound(compiled: Compiled, bound_id: str | None, stage: str) -> dict[str, Any] | None:
    if bound_id is None:
        return None
    rule = next(r for r in compiled.plan.rules if r.limiter == bound_id and r.stage == stage)
    return {"id": bound_id, "stage": rule.stage, "level": rule.conclude, "description": rule.describe,
            "choice": rule.choice, "source": rule.source}


def _quantifiers(compiled: Compiled) -> dict[str, Any]:
    """The quantifiers the plan's conditions use, worked out once per plan; each record gets its own copy."""
    memo = plan_memo(compiled.plan)
    if "quantifiers" not in memo:
        memo["quantifiers"] = _quantifiers_used(compiled)
    return {name: dict(q) for name, q in memo["quantifiers"].items()}


def _quantifiers_used(compiled: Compiled) -> dict[str, Any]:
    used = {}
    for cond in compiled.plan.conditions:
        q = cond.quantifier
        if q is not None:
            used[q.name] = {"phrase": q.phrase, "bound": q.bound, "fraction": q.fraction,
                            "choice": q.choice, "source": q.source}
    return dict(sorted(used.items()))
