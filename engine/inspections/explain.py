"""Explain: what each condition observed against what it required, and why no higher grade.

Nothing here decides anything: the outcome comes from the rules that fired. This module
restates the plan's conditions against the tallies the engine was given, in words an
assessor can check by hand, with every quantifier's chosen fraction shown.
"""

from __future__ import annotations

from typing import Any

from ..compiler.plan import Plan, PlanCondition
from ..language.models import NOT_GRADED, NOT_GRADED_LABEL, UNDECIDED, UNDECIDED_LABEL
from ..runtime.decide import Evaluation


def condition_holds(cond: PlanCondition, value: int) -> bool:
    if cond.level_bound is not None and value < 0:
        return False  # worst or best of no counted sub-area
    return value >= cond.threshold if cond.op == ">=" else value <= cond.threshold


def observed(plan: Plan, cond: PlanCondition, evaluation: Evaluation) -> dict[str, Any]:
    quantity = plan.quantity(cond.quantity)
    value = evaluation.quantities[quantity.id]
    return {
        "condition": cond.id,
        "quantity": quantity.describe,
        "observed": value,
        "of": cond.total,
        "required": _required(plan, cond),
        "holds": condition_holds(cond, value),
        "text": condition_text(plan, cond, value),
        "choice": cond.choice,
    }


def _required(plan: Plan, cond: PlanCondition) -> str:
    if cond.level_bound is not None:
        return f"{cond.level_bound} or {'better' if cond.op == '<=' else 'worse'}"
    return f"{'at least' if cond.op == '>=' else 'at most'} {cond.threshold}"


def condition_text(plan: Plan, cond: PlanCondition, value: int) -> str:
    """E.g. "good criteria met 7 of 9 = 0.78; 'vast majority' means at least 0.8: not reached (needs at least 8)"."""
    quantity = plan.quantity(cond.quantity)
    verdict = "reached" if condition_holds(cond, value) else "not reached"
    if cond.level_bound is not None:
        shown = plan.level_at(value).label if value >= 0 else "(no counted sub-area has a grade)"
        return f"{quantity.describe} {shown}: {verdict} (needs {_required(plan, cond)})"
    text = f"{quantity.describe} {value} of {cond.total}"
    if cond.quantifier is not None:
        q = cond.quantifier
        ratio = value / cond.total if cond.total else 0.0
        text += f" = {ratio:.2f}; '{q.name.replace('_', ' ')}' means {q.bound.replace('_', ' ')} {q.fraction}"
    return f"{text}: {verdict} (needs {_required(plan, cond)})"


def why_not(plan: Plan, evaluation: Evaluation) -> list[dict[str, Any]]:
    """For each level above the outcome (every level when undecided): why it was not given."""
    if evaluation.outcome == NOT_GRADED:
        return []
    top = len(plan.levels) if evaluation.outcome == UNDECIDED else plan.level(evaluation.outcome).rank
    reasons = []
    for level in plan.levels[:top]:
        rule = next((r for r in plan.stage_rules("level") if r.conclude == level.id), None)
        entry: dict[str, Any] = {"level": level.id, "label": level.label}
        if rule is None:
            entry["failed"] = []
            entry["reason"] = "no grade rule in the framework reaches this level"
        else:
            checks = [observed(plan, plan.condition(c), evaluation) for c in rule.when]
            entry["failed"] = [c for c in checks if not c["holds"]]
            entry["reason"] = "; ".join(c["text"] for c in entry["failed"]) or _reached_but(plan, evaluation)
        reasons.append(entry)
    return reasons


def _reached_but(plan: Plan, evaluation: Evaluation) -> str:
    """Why a level whose conditions hold is above the outcome: a limiter or an override."""
    if evaluation.computed != evaluation.outcome:
        return "its conditions hold, but a recorded professional judgement set the outcome"
    rule = next(r for r in plan.rules if r.limiter == evaluation.limiter)
    return f"its conditions hold, but limiter '{evaluation.limiter}' applies: {rule.describe}"


def undecided_reason(plan: Plan, evaluation: Evaluation) -> str | None:
    """The framework's reason no rule decides, when none did (the outcome is professional
    judgement, or a recorded judgement settled what the rules left undecided); else None,
    so a decided record never carries a reason for a decision it does not need."""
    return plan.undecided_reason if UNDECIDED in (evaluation.outcome, evaluation.computed) else None


def outcome_label(plan: Plan, outcome: str) -> str:
    return {UNDECIDED: UNDECIDED_LABEL, NOT_GRADED: NOT_GRADED_LABEL}.get(outcome) or plan.level(outcome).label


# --- rendering ---------------------------------------------------------------------------

def render_text(record: dict[str, Any], mode: str, markdown: bool = False) -> str:
    """The explanation of one decision record. mode: off | fails | full."""
    if mode == "off":
        return ""
    bullet = "- " if markdown else "  - "
    head = "### " if markdown else ""
    lines = [f"{head}{record['subject']}: {record['area']} ({record['case']})",
             f"Outcome: {record['outcome_label']}" + _uncapped_note(record)]
    # The test undecided_reason makes, not the field itself: records in a ledger made before
    # that field was cleared on decided outcomes still carry it there.
    if UNDECIDED in (record["outcome"], record["computed_outcome"]):
        lines.append(f"Reason no rule decides: {record['undecided_reason']}")
    if record["override"]:
        o = record["override"]
        lines.append(f"Override by {o['by']} ({o.get('source') or 'no source'}): the rules gave "
                     f"{record['computed_label']}; recorded judgement {o['label']}. Rationale: {o['rationale']}")
    for key, word in (("floor", "Floor"), ("limiter", "Limiter")):  # floors apply first; caps win
        bound = record[key]
        if bound:
            lines.append(f"{word}: {bound['id']}: {bound['description']}"
                         + (f" [choice: {bound['choice']}]" if bound.get("choice") else ""))
    decided = record["decided_by"]
    if decided["conditions"]:
        lines.append(f"Decided by rule {decided['rule']}:")
        lines += [f"{bullet}{_with_choice(c)}" for c in decided["conditions"]]
    else:
        lines.append(f"Decided by rule {decided['rule']}.")
    for sub in record["subgrades"]:
        state = "counted" if sub["counted"] else "not counted"
        carried = f" from {sub['carried_from']} ({sub['year']})" if sub.get("carried_from") else ""
        lines.append(f"Sub-area {sub['id']}: {sub['grade'] or 'no grade'}, {sub['provenance'].replace('_', ' ')}"
                     f"{carried}: {state}")
    lines += [f"Cause of concern: {c['text']}" for c in record["causes_of_concern"]]
    lines += ["Area for improvement" + (f" ({a['qualifier'].replace('_', ' ')})" if a.get("qualifier") else "")
              + f": {a['text']}" for a in record["areas_for_improvement"]]
    for entry in record["why_not"]:
        lines.append(f"Why not {entry['label']}: {entry['reason']}" if entry["failed"] == [] else f"Why not {entry['label']}:")
        lines += [f"{bullet}{_with_choice(c)}" for c in entry["failed"]]
    # The seeds never quantify their words: every explanation shows the file's readings.
    if record["quantifiers"]:
        lines.append("Readings of the source's words (chosen by the criteria file):")
    for name, q in record["quantifiers"].items():
        choice = f" [choice: {q['choice']}]" if q.get("choice") else ""
        lines.append(f"{bullet}'{name.replace('_', ' ')}' means {q['bound'].replace('_', ' ')} {q['fraction']}{choice}")
    if mode == "full":
        if record["tallies"]:
            lines.append("Tallies given to the rules engine (one fact, by condition):")
        lines += [f"{bullet}{t['condition']} = {t['observed']}: {t['quantity']} (of {t['of']}; a rule needs {t['required']})"
                  for t in record["tallies"]]
        lines.append("Rules fired:")
        for firing in record["trace"]:
            facts = ", ".join(f"{alias}={_fact(f)}" for alias, f in firing["matched"].items())
            lines.append(f"{bullet}{firing['rule']}: {facts}")
        lines.append(f"criteria sha256 {record['criteria_sha256']}")
        lines.append(f"ruleset sha256 {record['ruleset_sha256']}")
        lines.append(f"evidence sha256 {record['evidence_sha256']}")
    return "\n".join(lines)


def _with_choice(condition: dict[str, Any]) -> str:
    choice = condition.get("choice")
    return condition["text"] + (f" [choice: {choice}]" if choice else "")


def _uncapped_note(record: dict[str, Any]) -> str:
    if record["override"]:
        return f" (a recorded professional judgement; the rules gave {record['computed_label']})"
    if record["uncapped_outcome"] != record["outcome"]:
        return f" (before limits: {record['uncapped_label']})"
    return ""


def _fact(fact: dict[str, Any]) -> str:
    return "{" + ", ".join(f"{k}: {v}" for k, v in fact.items()) + "}"
