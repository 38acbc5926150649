"""Explain: what each condition observed against what it required, and why no higher grade.

Nothing here decides anything: the outcome comes from the rules that fired. This module
restates the plan's conditions against the tallies the engine was given, in words an
assessor can check by hand, with every quantifier's chosen fraction shown.
"""

from __future__ import annotations

from typing import Any, Iterable

from ..compiler.plan import Plan, PlanCondition, PlanLevel, PlanRule, Quantity
from ..language.models import NOT_GRADED, NOT_GRADED_LABEL, UNDECIDED, UNDECIDED_LABEL
from ..runtime.decide import Evaluation
from ..language.memo import memo_of


def condition_holds(cond: PlanCondition, value: int) -> bool:
    if value < 0:
        # The worst or best of no counted sub-area, or the score of a criterion not assessed
        # (counts and sums are never negative): the rules' guard makes it hold nothing.
        return False
    if cond.op == "==":
        return value == cond.threshold
    return value >= cond.threshold if cond.op == ">=" else value <= cond.threshold


def plan_memo(plan: Plan) -> dict[Any, Any]:
    """What this stage works out once from a plan alone (language/memo.py)."""
    return memo_of(plan, "explain")


_MEMO_ENTRIES = 4096  # per plan: conditions times the values they observed, with what else is worked out once


def observed(plan: Plan, cond: PlanCondition, evaluation: Evaluation) -> dict[str, Any]:
    """A condition against the value it observed, as a fresh dict: each record owns its own."""
    return dict(_observation(plan_memo(plan), plan, cond, evaluation.quantities[cond.quantity]))


def observed_each(plan: Plan, conditions: Iterable[PlanCondition], evaluation: Evaluation) -> list[dict[str, Any]]:
    """`observed` for each condition, in order."""
    memo, quantities = plan_memo(plan), evaluation.quantities
    return [dict(_observation(memo, plan, cond, quantities[cond.quantity])) for cond in conditions]


def _observation(memo: dict[Any, Any], plan: Plan, cond: PlanCondition, value: int) -> dict[str, Any]:
    """The observation shared by every decision where the condition observed this value (a
    condition observes few distinct values; the words for each are worked out once): not to
    be changed, only copied."""
    key = ("observed", cond.id, value)
    found = memo.get(key)
    if found is None:
        if len(memo) >= _MEMO_ENTRIES:
            memo.clear()
        found = memo[key] = _observed(plan, cond, value)
    return found


def _observed(plan: Plan, cond: PlanCondition, value: int) -> dict[str, Any]:
    quantity = plan.quantity(cond.quantity)
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
    if cond.strict is not None:  # as written: below 2 is compiled as at most 1
        return f"{cond.strict} {cond.threshold + 1 if cond.strict == 'below' else cond.threshold - 1}"
    return f"{ {'>=': 'at least', '<=': 'at most', '==': 'exactly'}[cond.op]} {cond.threshold}"


def condition_text(plan: Plan, cond: PlanCondition, value: int) -> str:
    """E.g. "good criteria met 7 of 9 = 0.78; 'vast majority' means at least 0.8: not reached (needs at least 8)"."""
    quantity = plan.quantity(cond.quantity)
    verdict = "reached" if condition_holds(cond, value) else "not reached"
    if cond.level_bound is not None:
        shown = plan.level_at(value).label if value >= 0 else "(no counted sub-area has a grade)"
        return f"{quantity.describe} {shown}: {verdict} (needs {_required(plan, cond)})"
    if quantity.kind in ("score", "score_sum"):
        return f"{_score_text(plan, quantity, value)}: {verdict} (needs {_required(plan, cond)})"
    text = f"{quantity.describe} {value} of {cond.total}"
    if cond.quantifier is not None:
        q = cond.quantifier
        ratio = value / cond.total if cond.total else 0.0
        text += f" = {ratio:.2f}; '{q.name.replace('_', ' ')}' means {q.bound.replace('_', ' ')} {q.fraction}"
    return f"{text}: {verdict} (needs {_required(plan, cond)})"


def _score_text(plan: Plan, quantity: Quantity, value: int) -> str:
    """E.g. "ss-finance score 1 on a 1-4 scale", "sum of the scores of service criteria 9 of at most 16"."""
    if quantity.kind == "score":
        scale = plan.score_range(quantity.members[0])
        shown = "not assessed" if value < 0 else str(value)
        return f"{quantity.describe} {shown} on a {scale.low}-{scale.high} scale"
    most = sum(plan.score_range(member).high for member in quantity.members)
    return f"{quantity.describe} {value} of at most {most} (a criterion not assessed adds nothing)"


def why_not(plan: Plan, evaluation: Evaluation) -> list[dict[str, Any]]:
    """For each level above the outcome (every level when undecided): why it was not given.

    Tied to what fired: a level above the grade the grade rules and floors gave was tried first
    and not given, so its rule's conditions that do not hold are the reason; a level at or below
    that grade was given and then taken away by what fired after, a cap or a recorded judgement."""
    if evaluation.outcome == NOT_GRADED:
        return []
    top = len(plan.levels) if evaluation.outcome == UNDECIDED else plan.level(evaluation.outcome).rank
    given = _given_before_lowering(plan, evaluation)
    memo, quantities = plan_memo(plan), evaluation.quantities
    ways_to = _level_rules(plan)
    reasons = []
    for level in plan.levels[:top]:
        rules = ways_to.get(level.id, [])  # its alternatives
        entry: dict[str, Any] = {"level": level.id, "label": level.label}
        if given is not None and level.rank >= given.rank:
            entry["failed"] = []
            entry["reason"] = _lowered(plan, evaluation, level, given)
        elif not rules:
            entry["failed"] = []
            entry["reason"] = "no grade rule in the framework reaches this level"
        else:
            failing = [[dict(c) for c in (_observation(memo, plan, cond, quantities[cond.quantity])
                                          for cond in map(plan.condition, rule.when)) if not c["holds"]]
                       for rule in rules]
            if all(failing):  # no way to the level holds: each way's conditions not reached
                entry["failed"] = list({c["condition"]: c for failed in failing for c in failed}.values())
                entry["reason"] = " or ".join(
                    (f"{rule.id}: " if len(rules) > 1 else "") + "; ".join(c["text"] for c in failed)
                    for rule, failed in zip(rules, failing))
                if len(rules) > 1:
                    entry["alternatives"] = [{"rule": rule.id, "failed": [c["condition"] for c in failed]}
                                             for rule, failed in zip(rules, failing)]
            else:
                entry["failed"] = []
                entry["reason"] = _passed_over(plan, evaluation, level)
        reasons.append(entry)
    return reasons


POLICY_WORDS = {
    "unique": "at most one grade's rule may hold",
    "first": "the rule written first in the framework that holds gives the grade",
    "worst": "the lowest grade whose rule holds",
    "best": "the highest grade whose rule holds",
}


def _passed_over(plan: Plan, evaluation: Evaluation, level: PlanLevel) -> str:
    """Why a level whose rule holds is not the grade: the hit policy chose the rule that fired."""
    fired = plan.rule(evaluation.firings[0].rule)
    if fired.id.startswith("level:both:"):
        return f"its rule holds, but {fired.describe}"
    return (f"its rule holds, but the hit policy is {plan.hit_policy} ({POLICY_WORDS[plan.hit_policy]}), "
            f"and rule {fired.id} fired")


def _level_rules(plan: Plan) -> dict[str, list[PlanRule]]:
    """Level id -> the grade rules that conclude it (a level reached in several ways has several),
    worked out once per plan."""
    memo = plan_memo(plan)
    if "level_rules" not in memo:
        ways_to: dict[str, list[PlanRule]] = {}
        for rule in plan.stage_rules("level"):
            ways_to.setdefault(rule.conclude, []).append(rule)
        memo["level_rules"] = ways_to
    return memo["level_rules"]


def _given_before_lowering(plan: Plan, evaluation: Evaluation) -> PlanLevel | None:
    """The grade the grade rules and the floors concluded, before any cap or judgement; None
    when they left it undecided."""
    given = None
    for firing in evaluation.firings:
        rule = plan.rule(firing.rule)
        if rule.stage in ("level", "floor") and rule.conclude in _level_ids(plan):
            given = plan.level(rule.conclude)
    return given


def _level_ids(plan: Plan) -> frozenset[str]:
    memo = plan_memo(plan)
    if "level_ids" not in memo:
        memo["level_ids"] = frozenset(lv.id for lv in plan.levels)
    return memo["level_ids"]


def _lowered(plan: Plan, evaluation: Evaluation, level: PlanLevel, given: PlanLevel) -> str:
    """Why a level the rules gave (or better) is above the outcome, from what fired after: the
    cap that lowered the grade below the level, and a recorded judgement that set the outcome
    below what the rules gave. Either or both; one of them always did."""
    reasons = []
    cap = next((plan.rule(f.rule) for f in evaluation.firings if plan.rule(f.rule).stage == "cap"
                and plan.rule(f.rule).limiter), None)
    if cap is not None and plan.level(cap.conclude).rank > level.rank:
        reasons.append(f"limiter '{cap.limiter}' applies: {cap.describe}")
    if evaluation.computed != evaluation.outcome and evaluation.computed in _level_ids(plan) \
            and plan.level(evaluation.computed).rank <= level.rank:
        reasons.append(f"a recorded professional judgement set the outcome (the rules gave "
                       f"{plan.level(evaluation.computed).label})")
    if evaluation.floor:
        graded = plan.level(evaluation.uncapped).label if evaluation.uncapped != UNDECIDED else "no grade"
        given_by = f"the grade rules give {graded}, raised to {given.label} by floor '{evaluation.floor}'"
    else:
        given_by = f"the grade rules give {given.label}"
    return f"{given_by}, but " + " and ".join(reasons)


def limiter_lines(plan: Plan, evaluation: Evaluation, holding: tuple) -> list[dict[str, Any]]:
    """Every limiter the rules found holding (its `holds:<id>` rule fired), the decisive one
    marked: the cap that fired in the cap stage. One that holds but is not decisive says why:
    the grade before the caps was already at or below its cap, or a lower cap decided."""
    held = [plan.rule(f.rule) for f in holding if plan.rule(f.rule).limiter]
    if not held:
        return []
    caps = _cap_rules(plan)
    given = _given_before_lowering(plan, evaluation)
    lines = []
    for rule in held:
        cap = caps[rule.limiter]
        decisive = rule.limiter == evaluation.limiter
        if decisive:
            note = f"decisive: caps the grade at {plan.level(cap.conclude).label}"
        elif given is not None and given.rank >= plan.level(cap.conclude).rank:
            note = f"holds, but the grade was already at or below its cap, {plan.level(cap.conclude).label}"
        elif evaluation.limiter:
            note = f"holds, but limiter '{evaluation.limiter}' capped the grade first, at or below this cap"
        else:
            note = "holds, but with no grade decided only a cap at the lowest level settles the outcome"
        lines.append({"id": rule.limiter, "cap": cap.conclude, "decisive": decisive, "note": note,
                      "absolute": any(r.limiter == rule.limiter for r in plan.stage_rules("absolute")),
                      "description": cap.describe, "choice": rule.choice, "source": rule.source})
    return lines


def _cap_rules(plan: Plan) -> dict[str, PlanRule]:
    """Limiter id -> its own cap rule (not its rule for an undecided grade), worked out once per plan."""
    memo = plan_memo(plan)
    if "cap_rules" not in memo:
        caps: dict[str, PlanRule] = {}
        for rule in plan.stage_rules("cap"):
            if rule.limiter:
                caps.setdefault(rule.limiter, rule)
        memo["cap_rules"] = caps
    return memo["cap_rules"]


def undecided_reason(plan: Plan, evaluation: Evaluation) -> str | None:
    """The framework's reason no rule decides, when none did (the outcome is professional
    judgement, or a recorded judgement settled what the rules left undecided); else None,
    so a decided record never carries a reason for a decision it does not need."""
    if UNDECIDED not in (evaluation.outcome, evaluation.computed):
        return None
    fired = plan.rule(evaluation.firings[0].rule)
    if fired.id.startswith("level:both:"):  # two grades' rules hold under a unique hit policy
        return f"{fired.describe}; professional judgement decides between them"
    return plan.undecided_reason


def hit_policy(plan: Plan) -> dict[str, Any]:
    return {"policy": plan.hit_policy, "meaning": POLICY_WORDS[plan.hit_policy], "choice": plan.hit_policy_choice,
            "source": plan.hit_policy_source}


def outcome_label(plan: Plan, outcome: str) -> str:
    return _NO_GRADE_LABELS.get(outcome) or plan.level(outcome).label


_NO_GRADE_LABELS = {UNDECIDED: UNDECIDED_LABEL, NOT_GRADED: NOT_GRADED_LABEL}


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
    overruled = record.get("overruled_by")  # absent from records written before absolute limiters
    if overruled:
        lines.append(f"Limiter '{overruled['id']}' is absolute: no recorded judgement lifts the grade above "
                     f"{overruled['level']}, so it overrules the judgement ({record['override']['label']})")
    holding = [x for x in record.get("limiters") or [] if not x["decisive"]]  # absent from older records
    lines += [f"Limiter '{x['id']}' {x['note']}" for x in holding]
    decided = record["decided_by"]
    if decided["conditions"]:
        lines.append(f"Decided by rule {decided['rule']}:")
        lines += [f"{bullet}{_with_choice(c)}" for c in decided["conditions"]]
    else:
        lines.append(f"Decided by rule {decided['rule']}.")
    policy = record.get("hit_policy")  # absent from records written before hit policies were declared
    if policy:
        lines.append(f"Hit policy: {policy['policy']} ({policy['meaning']})"
                     + (f" [choice: {policy['choice']}]" if policy.get("choice") else ""))
    for sub in record["subgrades"]:
        state = "counted" if sub["counted"] else "not counted"
        carried = f" from {sub['carried_from']} ({sub['year']})" if sub.get("carried_from") else ""
        taken = f", from decision {sub['decision_id'][:8]} (case {sub['decision']})" if sub.get("decision_id") else ""
        lines.append(f"Sub-area {sub['id']}: {sub['grade'] or 'no grade'}, {sub['provenance'].replace('_', ' ')}"
                     f"{carried}{taken}: {state}")
    lines += [f"Cause of concern: {c['text']}" for c in record["causes_of_concern"]]
    lines += ["Area for improvement" + (f" ({a['qualifier'].replace('_', ' ')})" if a.get("qualifier") else "")
              + f": {a['text']}" for a in record["areas_for_improvement"]]
    for entry in record["why_not"]:
        lines.append(f"Why not {entry['label']}: {entry['reason']}" if entry["failed"] == [] else f"Why not {entry['label']}:")
        if entry.get("alternatives"):  # each way to the level, with its conditions not reached
            shown = {c["condition"]: c for c in entry["failed"]}
            for way in entry["alternatives"]:
                lines.append(f"{bullet}by rule {way['rule']}:")
                lines += [f"    {bullet}{_with_choice(shown[c])}" for c in way["failed"]]
        else:
            lines += [f"{bullet}{_with_choice(c)}" for c in entry["failed"]]
    if record.get("margin"):  # records written before margins were recorded have none
        lines.append(margin_text(record["margin"], record["override"] is not None))
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


# --- the margin, in one line -------------------------------------------------------------

_VALUE_WORDS = {"met": "met", "not_met": "not met", "not_assessed": "not assessed", "present": "present",
                "absent": "absent"}


def margin_text(margin: dict[str, Any], overridden: bool) -> str:
    """E.g. "Margin: up a level takes 3 changes (e.g. a met, b met and beacon present give
    Excellent); down a level takes 1 change (e.g. c not met gives Poor). One change alone gives
    Fair if any one of d, e is not met or not assessed; Poor if c is not met."""
    head = "Margin of the rules' outcome (the recorded judgement stands whatever the evidence): " if overridden \
        else "Margin: "
    if margin["up"]["status"] == "no_grade":
        moves = f"the rules give no grade ({margin['outcome_label']}), so none to move up or down from"
    elif margin["up"]["status"] == margin["down"]["status"] == "unreachable":
        moves = "no change to findings or factors moves it up or down a level"
    else:
        moves = f"{_reach_text('up', margin['up'], margin)}; {_reach_text('down', margin['down'], margin)}"
    return f"{head}{moves}. {_single_changes_text(margin['single_changes'])}."


def _reach_text(direction: str, reach: dict[str, Any], margin: dict[str, Any]) -> str:
    status = reach["status"]
    if status == "no_level":
        return f"no level {'above' if direction == 'up' else 'below'} {margin['outcome_label']}"
    if status == "unreachable":
        return f"no change to findings or factors moves it {direction} a level"
    if status == "beyond_limit":
        return (f"{direction} a level takes more than {_changes(reach['more_than'])} (the search stops after "
                f"{margin['search_limit']:,} sets of two or more changes)")
    example = reach["example"]
    verb = "gives" if len(example) == 1 else "give"
    return (f"{direction} a level takes {_changes(reach['fewest_changes'])} (e.g. {_listed(map(_change_text, example))} "
            f"{verb} {reach['example_label']})")


def _changes(count: int) -> str:
    return f"{count} change{'' if count == 1 else 's'}"


def _change_text(change: dict[str, Any]) -> str:
    return f"{change['id']} {_to_words(change)}"


def _to_words(change: dict[str, Any]) -> str:
    """What a finding or factor becomes: 'not met', 'scored 3', or for a switch in an exclusive
    group 'met in place of kq1-good' (that member, met before, not met)."""
    replaces = change.get("replaces")
    return _value_words(change["to"]) + (f" in place of {replaces}" if replaces else "")


def _value_words(value) -> str:
    """A finding or factor as the margin's sentences say it: 'not met', 'present', 'scored 3'."""
    return f"scored {value}" if isinstance(value, int) else _VALUE_WORDS[value]


def _listed(items) -> str:
    items = list(items)
    return items[0] if len(items) == 1 else f"{', '.join(items[:-1])} and {items[-1]}"


def _single_changes_text(changes: list[dict[str, Any]]) -> str:
    """Grouped by the outcome they give, then by the values they change to, in record order."""
    if not changes:
        return "No single change to a finding or factor changes it"
    by_outcome: dict[str, dict[tuple[str, ...], list[str]]] = {}
    labels: dict[str, str] = {}
    values: dict[tuple[str, str], list[str]] = {}
    for change in changes:
        labels[change["outcome"]] = change["outcome_label"]
        values.setdefault((change["outcome"], change["id"]), []).append(_to_words(change))
    for (outcome, item_id), tos in values.items():
        by_outcome.setdefault(outcome, {}).setdefault(tuple(tos), []).append(item_id)
    clauses = [f"{labels[outcome]} if " + ", or ".join(_group_text(ids, tos) for tos, ids in groups.items())
               for outcome, groups in by_outcome.items()]
    return "One change alone gives " + "; ".join(clauses)


def _group_text(ids: list[str], tos: tuple[str, ...]) -> str:
    which = ids[0] if len(ids) == 1 else f"any one of {', '.join(ids)}"
    return f"{which} is {' or '.join(tos)}"


def _with_choice(condition: dict[str, Any]) -> str:
    choice = condition.get("choice")
    return condition["text"] + (f" [choice: {choice}]" if choice else "")


def _uncapped_note(record: dict[str, Any]) -> str:
    if record.get("overruled_by"):
        return (f" (the recorded judgement, {record['override']['label']}, is overruled by absolute limiter "
                f"'{record['overruled_by']['id']}'; the rules gave {record['computed_label']})")
    if record["override"]:
        return f" (a recorded professional judgement; the rules gave {record['computed_label']})"
    if record["uncapped_outcome"] != record["outcome"]:
        return f" (before limits: {record['uncapped_label']})"
    return ""


def _fact(fact: dict[str, Any]) -> str:
    return "{" + ", ".join(f"{k}: {v}" for k, v in fact.items()) + "}"
