"""Compile: criteria (scale + framework + criteria set) -> frozen Plan -> durable-rules ruleset.

Passes, in order, on criteria that language.criteria has read and checked:

    lower_conditions   quantifiers -> exact whole-number thresholds, via fractions
    build_rules        the grade table in the hit policy's order (with a rule per pair of
                       grade rules under unique), floor and cap tables, the override and
                       absolute stages, and the rules asking whether each limiter holds;
                       sizes checked against MAX_RULES (E134) and MAX_CONDITIONS (E135)
    build_ruleset      the durable-rules JSON: one pattern per condition, one stage event

The ruleset is built so that none of durable-rules' looping shapes can arise: every
rule joins exactly one stage *event* (events are consumed, so a rule cannot re-fire),
every pattern starts with a `kind` discriminator the engine's state never has, nothing
tests the state or tests only for an absent field, and actions never change the state;
and it stays well inside the sizes that crash the engine (bench/limits.py).
`durable.check_ruleset_shape` re-checks all this before anything is registered.
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass
from functools import cached_property
from fractions import Fraction
from math import ceil, floor
from pathlib import Path
from typing import Any, Callable

from ..language.canonical import canonical_json, sha256_bytes
from ..language.catalog import Catalog
from ..language.criteria import Criteria, load_criteria
from ..language.diagnostics import Diagnostic, DiagnosticError
from ..language.load import real_path
from ..language.models import (NOT_GRADED, SCORE_QUANTITIES, STRICT_BOUNDS, Condition, CriteriaSet, Framework, Scale,
                               Selection, counted_criteria, may_select_none, rule_name, select_subgrades)
from .plan import Plan, PlanCondition, PlanGroup, PlanLevel, PlanRule, Quantity, QuantifierUse, ScoreRange, Trigger

PLAN_FORMAT = "arbiter-plan/1"
RULESET_FORMAT = "arbiter-ruleset/1"
# Sizes a criteria set may compile to, well inside what durable-rules' C core survives
# (bench/limits.py; runtime/durable.py's MAX_ limits, which these keep within):
MAX_RULES = 30  # rules per set (E134): every rule's pattern on the tally fact, and on the stage event, can
#                 hold at once, and 65 tests holding at once for one fact abort the core
MAX_CONDITIONS = 100  # distinct conditions per set (E135): the tally fact holds one property for each,
#                       and a fact of 255 properties segfaults the core


@dataclass(frozen=True)
class Compiled:
    plan: Plan
    ruleset: dict[str, Any]  # the file written to rules/
    text: str  # its canonical text
    criteria: bytes = b""  # the criteria it was compiled from, canonical JSON (hashed, kept in the ledger)

    @cached_property
    def text_bytes(self) -> bytes:
        """The ruleset as the ledger stores it (UTF-8), encoded once, not per decision."""
        return self.text.encode()

    @cached_property
    def sha256(self) -> str:
        """The ruleset's hash, in every decision record: worked out once, not per decision."""
        return sha256_bytes(self.text_bytes)

    @cached_property
    def criteria_sha256(self) -> str:
        return sha256_bytes(self.criteria)

    @property
    def durable_name(self) -> str:
        return next(iter(self.ruleset["durable"]))


# --- lower_conditions --------------------------------------------------------------------

class _Lowering:
    """Collects quantities and conditions, shared across rules, in first-use order."""

    def __init__(self, criteria: Criteria):
        self.scale: Scale = criteria.scale.model
        self.fw: Framework = criteria.framework.model
        self.cs: CriteriaSet = criteria.criteria.model
        self.fw_doc = criteria.framework.doc
        self.ranks = {lv.id: i for i, lv in enumerate(self.scale.levels)}
        self.quantities: dict[tuple, Quantity] = {}
        self.conditions: dict[tuple, PlanCondition] = {}
        self.first_use: dict[str, tuple] = {}  # condition id -> where the framework first writes it
        self.problems: list[Diagnostic] = []

    def condition(self, cond: Condition, loc: tuple) -> str:
        quantity = self._quantity(cond)
        op, threshold, quantifier, level_bound = self._threshold(cond, quantity)
        total = len(quantity.members)
        strict = cond.bound[0] if cond.bound[0] in STRICT_BOUNDS else None
        if quantity.kind in SCORE_QUANTITIES:
            self.problems += self._score_never_holds(cond, quantity, op, threshold, loc)
        elif op in (">=", "==") and threshold > total and level_bound is None \
                and quantity.kind != "causes_of_concern" and not (total == 0 and may_select_none(loc, cond)):
            self.problems.append(self.fw_doc.diag(
                loc, "E133", f"condition can never hold in set '{self.cs.id}': needs {threshold} but only {total} to count",
                "lower the bound or widen the selection"))
        if op == "<=" and threshold < 0 and level_bound is None:  # less_than 0: no count is below none
            self.problems.append(self.fw_doc.diag(
                loc, "E133", f"condition can never hold in set '{self.cs.id}': needs fewer than none",
                "raise the bound"))
        key = (quantity.id, op, threshold, quantifier, level_bound, cond.choice, cond.source, strict)
        if key not in self.conditions:
            self.conditions[key] = PlanCondition(
                id=f"c{len(self.conditions) + 1}", quantity=quantity.id, op=op, threshold=threshold, total=total,
                quantifier=quantifier, level_bound=level_bound, choice=cond.choice, source=cond.source, strict=strict)
            self.first_use[self.conditions[key].id] = loc
        return self.conditions[key].id

    def score_range(self, criterion: str) -> ScoreRange:
        scale = self.cs.scale_of(criterion)
        return ScoreRange(criterion, scale.min, scale.max)

    def _score_never_holds(self, cond: Condition, quantity: Quantity, op: str, threshold: int,
                           loc: tuple) -> list[Diagnostic]:
        """E133 for a score condition no score on the scale satisfies. A single score ranges over
        its scale (not assessed holds nothing); a sum from 0 (none assessed) to every maximum."""
        if not quantity.members and may_select_none(loc, cond):
            return []  # a limiter or floor summing scores this set does not have: it never applies here
        ranges = [self.score_range(m) for m in quantity.members]
        if quantity.kind == "score":
            low, high = ranges[0].low, ranges[0].high
        else:
            low, high = 0, sum(r.high for r in ranges)
        possible = {">=": threshold <= high, "<=": threshold >= low, "==": low <= threshold <= high}[op]
        if possible:
            return []
        bound, value = cond.bound
        return [self.fw_doc.diag(
            loc, "E133", f"condition can never hold in set '{self.cs.id}': {quantity.describe} runs from {low} to "
                         f"{high}, never {bound.replace('_', ' ')} {value}",
            f"write a bound from {low} to {high}")]

    def _quantity(self, cond: Condition) -> Quantity:
        kind = cond.quantity
        spec = getattr(cond, kind)
        level_rank = None
        if kind == "score":
            members, describe = (spec,), f"{spec} score"
        elif kind == "score_sum":
            members = tuple(counted_criteria(self.cs, kind, spec))
            describe = f"sum of the scores of {_describe_selection(spec)}"
        elif isinstance(spec, Selection):
            members = tuple(counted_criteria(self.cs, kind, spec))
            describe = f"{_describe_selection(spec)} {kind.replace('_', ' ')}"
        elif kind == "factors_present":
            members = tuple(spec)
            describe = f"factors present ({', '.join(spec)})"
        elif kind == "causes_of_concern":
            members, describe = (), "causes of concern recorded"
        else:
            members = tuple(select_subgrades(self.cs, spec.of))
            if kind.startswith("subgrades_at"):
                level_rank = self.ranks[spec.level]
                describe = f"sub-areas graded {spec.level}" + (
                    "" if kind == "subgrades_at" else f" or {'below' if kind.endswith('below') else 'above'}")
            else:
                describe = f"{kind.split('_')[0]} sub-area grade"
        key = (kind, members, level_rank)
        if key not in self.quantities:
            self.quantities[key] = Quantity(f"q{len(self.quantities) + 1}", kind, members, describe, level_rank)
        return self.quantities[key]

    def _threshold(self, cond: Condition, quantity: Quantity):
        bound, value = cond.bound
        if quantity.kind in ("worst_subgrade", "best_subgrade"):
            rank = self.ranks[value]
            return ("<=", rank, None, value) if bound == "at_least" else (">=", rank, None, value)
        if bound != "is":
            whole, number = cond.whole_bound
            return {"at_least": ">=", "at_most": "<=", "exactly": "=="}[whole], number, None, None
        q = self.fw.quantifiers[value]
        kind, fraction = q.bound
        op, threshold = fraction_threshold(kind, Fraction(str(fraction)), len(quantity.members))
        use = QuantifierUse(value, q.phrase, kind, str(fraction), q.choice, q.source)
        return op, threshold, use, None


def fraction_threshold(kind: str, fraction: Fraction, total: int) -> tuple[str, int]:
    """The whole-number test equivalent to `count/total <kind> fraction`, exactly."""
    scaled = fraction * total
    if kind == "at_least":
        return ">=", ceil(scaled)
    if kind == "more_than":
        return ">=", floor(scaled) + 1
    if kind == "at_most":
        return "<=", floor(scaled)
    if kind == "less_than":
        return "<=", ceil(scaled) - 1
    raise ValueError(kind)


def _describe_selection(sel: Selection) -> str:
    flags = list(sel.flags) + ([sel.flag] if sel.flag else [])
    words = " ".join(flags + ([sel.tier] if sel.tier else []))
    text = f"{words} criteria" if words else "criteria"
    if sel.ids:
        text += f" among {', '.join(sel.ids)}"
    return text


# --- build_rules -------------------------------------------------------------------------

def build_plan(criteria: Criteria) -> Plan:
    low = _Lowering(criteria)
    fw, scale = low.fw, low.scale
    rules, stages = _all_rules(low) if low.cs.graded else _not_graded_rules()
    low.problems += _too_many_conditions(low) + _too_many_rules(low, rules)
    if low.problems:
        # A limiter is lowered for two stages (its cap, and which limiters hold): each mistake once.
        raise DiagnosticError(list(dict.fromkeys(low.problems)))
    return Plan(
        format=PLAN_FORMAT, criteria_set=low.cs.id, title=low.cs.title, framework=fw.id,
        framework_version=fw.version, scale=scale.id,
        levels=tuple(PlanLevel(lv.id, lv.label, i) for i, lv in enumerate(scale.levels)),
        quantities=tuple(low.quantities.values()), conditions=tuple(low.conditions.values()),
        stages=tuple(stages), rules=tuple(rules), undecided_reason=fw.undecided.reason,
        undecided_source=fw.undecided.source, criteria_sha256=criteria.sha256,
        carried_over=fw.carried_over, graded=low.cs.graded, hit_policy=fw.hit_policy.policy,
        hit_policy_choice=fw.hit_policy.choice, hit_policy_source=fw.hit_policy.source,
        scored=tuple(low.score_range(m) for m in dict.fromkeys(
            m for q in low.quantities.values() if q.kind in SCORE_QUANTITIES for m in q.members)),
        exclusive=tuple(PlanGroup(g.id, g.criteria, g.exactly_one) for g in low.cs.exclusive))


def condition_places(criteria: Criteria) -> dict[str, tuple]:
    """Where the framework first writes each condition of the plan: condition id -> its place in
    the framework file, e.g. ("grades", 2, "when", 0). Lowered exactly as build_plan lowers the
    criteria, so the ids are the plan's (lint locates what it says about a condition here)."""
    low = _Lowering(criteria)
    if low.cs.graded:
        _all_rules(low)
    return dict(low.first_use)


def _too_many_conditions(low: _Lowering) -> list[Diagnostic]:
    """E135 at the first condition past the limit, where the framework writes it."""
    if len(low.conditions) <= MAX_CONDITIONS:
        return []
    where = low.first_use[f"c{MAX_CONDITIONS + 1}"]
    return [low.fw_doc.diag(
        where, "E135", f"criteria set '{low.cs.id}' compiles to {len(low.conditions)} distinct conditions, and this "
                       f"is number {MAX_CONDITIONS + 1}; the limit is {MAX_CONDITIONS}",
        "use fewer distinct conditions (one written the same way in several rules counts once), "
        "or split the rules across frameworks")]


LIMITS_STAGE = "limits"  # asked after the decision, outside the stage chain: which limiters hold
_RULE_LISTS = {"level": "grades", "floor": "floors", "cap": "limiters", LIMITS_STAGE: "limiters",
               "absolute": "limiters"}  # stage -> the framework list behind it


def _too_many_rules(low: _Lowering, rules: list[PlanRule]) -> list[Diagnostic]:
    """E134 at the framework's list (grades, floors or limiters) that makes the most rules."""
    if len(rules) <= MAX_RULES:
        return []
    per_list = Counter(_RULE_LISTS.get(rule.stage, "overrides") for rule in rules)  # in stage order
    largest = max((name for name in per_list if name != "overrides"), key=lambda name: per_list[name])
    parts = ", ".join(f"{n} for its {name}" if name != "overrides" else f"{n} for overrides"
                      for name, n in per_list.items())
    return [low.fw_doc.diag(
        (largest,), "E134", f"criteria set '{low.cs.id}' compiles to {len(rules)} rules ({parts}); "
                                         f"the limit is {MAX_RULES}",
        "use fewer grades, floors or limiters, or split them across frameworks", at_key=True)]


def _all_rules(low: _Lowering) -> tuple[list[PlanRule], list[str]]:
    """Grade rules, then floors and caps when the framework has them, then any override."""
    rules, stages = _level_rules(low), ["level"]
    if low.fw.floors:
        stages.append("floor")
        rules += _bound_rules(low, "floor")
    if low.fw.limiters:
        stages.append("cap")
        rules += _bound_rules(low, "cap")
        rules += _holding_rules(low)
    stages.append("override")
    rules += [PlanRule("override:applied", "override", (), Trigger(), "override",
                       "a recorded professional judgement departs from the rules' outcome"),
              PlanRule("override:none", "override", (), Trigger(), "pass", "no professional judgement is recorded")]
    if any(x.absolute for x in low.fw.limiters):
        stages.append("absolute")
        rules += _absolute_rules(low)
    return rules, stages


def _absolute_rules(low: _Lowering) -> list[PlanRule]:
    """After a recorded judgement, the limiters no judgement may lift the grade above: lowest
    cap first, each fires when its conditions hold and the grade is above its cap."""
    absolute = sorted(((i, x) for i, x in enumerate(low.fw.limiters) if x.absolute),
                      key=lambda item: (-low.ranks[item[1].cap], item[0]))
    rules = [PlanRule(f"absolute:{x.id}", "absolute",
                      tuple(dict.fromkeys(low.condition(c, ("limiters", i, "when", j)) for j, c in enumerate(x.when))),
                      Trigger(True, rank_above=low.ranks[x.cap]), x.cap,
                      f"{x.description}: no recorded judgement lifts the grade above {x.cap}", x.id, x.source, x.choice)
             for i, x in absolute]
    return rules + [PlanRule("absolute:none", "absolute", (), Trigger(), "pass", "no absolute limiter overrules")]


def _not_graded_rules() -> tuple[list[PlanRule], list[str]]:
    """An area the framework inspects but does not grade: one rule, and it says so."""
    return [PlanRule("level:not-graded", "level", (), Trigger(), NOT_GRADED,
                     "the criteria set is inspected but not graded")], ["level"]


def _level_rules(low: _Lowering) -> list[PlanRule]:
    """The grade rules as a first-hit table in the order the hit policy gives them: the scale's
    (best), the scale's reversed (worst) or the file's (first), a level's alternatives in the
    order written; for unique, before the grade rules, one rule per pair of rules of two levels
    that concludes undecided when both hold."""
    levels = {lv.id: lv for lv in low.scale.levels}
    per_level = Counter(g.level for g in low.fw.grades)
    singles = []
    for i, grade in sorted(enumerate(low.fw.grades), key=lambda item: low.ranks[item[1].level]):  # highest first
        when: list[str] = []
        for k, rule in _chain(low.fw.grades, i):
            for j, cond in enumerate(rule.when):
                cid = low.condition(cond, ("grades", k, "when", j))
                if cid not in when:
                    when.append(cid)
        level = levels[grade.level]
        rule_id = f"level:{grade.level}" if per_level[grade.level] == 1 else f"level:{grade.level}:{rule_name(grade)}"
        describe = f"{level.label}: every condition holds" + (f" (builds on {grade.builds_on})" if grade.builds_on else "")
        singles.append((i, PlanRule(rule_id, "level", tuple(when), Trigger(), grade.level, describe,
                                    source=grade.source)))
    policy = low.fw.hit_policy.policy
    if policy == "worst":
        singles.sort(key=lambda item: (-low.ranks[item[1].conclude], item[0]))
    elif policy == "first":
        singles.sort(key=lambda item: item[0])
    ordered = [rule for _, rule in singles]
    labels = {lv.id: lv.label for lv in low.scale.levels}
    both = _both_hold_rules(ordered, labels, low.fw.hit_policy) if policy == "unique" else []
    return both + ordered + [PlanRule("level:undecided", "level", (), Trigger(), "undecided",
                                      "no grade rule holds", source=low.fw.undecided.source)]


def _both_hold_rules(singles: list[PlanRule], labels: dict[str, str], policy) -> list[PlanRule]:
    """For a unique hit policy: a rule for each pair of rules of two levels, in the grade rules'
    order, that fires when both hold and leaves the grade undecided, naming both."""
    rules = []
    for i, higher in enumerate(singles):
        for lower in singles[i + 1:]:
            if lower.conclude == higher.conclude:
                continue  # two ways to one grade agree
            when = tuple(dict.fromkeys(higher.when + lower.when))
            names = f"{higher.id.removeprefix('level:')}:{lower.id.removeprefix('level:')}"
            describe = (f"the rules for {labels[higher.conclude]} and {labels[lower.conclude]} both hold, and the "
                        f"hit policy (unique) lets only one grade's rule hold")
            rules.append(PlanRule(f"level:both:{names}", "level", when, Trigger(), "undecided", describe,
                                  source=policy.source, choice=policy.choice))
    return rules


def _chain(grades: tuple, index: int) -> list:
    """(index, rule) for the grade rule and those it builds on, the lowest first (builds_on names
    a level reached by one rule: language/check.py)."""
    chain = []
    while index is not None:
        chain.append((index, grades[index]))
        base = grades[index].builds_on
        index = next((k for k, g in enumerate(grades) if g.level == base), None) if base else None
    return list(reversed(chain))


def _bound_rules(low: _Lowering, stage: str) -> list[PlanRule]:
    items = low.fw.floors if stage == "floor" else low.fw.limiters
    group = "floors" if stage == "floor" else "limiters"
    ranked = [(low.ranks[getattr(x, stage)], i, x) for i, x in enumerate(items)]
    # Most decisive first: the highest floor, the lowest cap.
    ranked.sort(key=lambda t: (t[0] if stage == "floor" else -t[0], t[1]))
    pinned_rank = 0 if stage == "floor" else len(low.scale.levels) - 1
    rules = []
    for rank, i, item in ranked:
        level = getattr(item, stage)
        when = tuple(dict.fromkeys(low.condition(c, (group, i, "when", j)) for j, c in enumerate(item.when)))
        trigger = Trigger(True, rank_below=rank) if stage == "floor" else Trigger(True, rank_above=rank)
        verb = "raises the grade to" if stage == "floor" else "caps the grade at"
        rules.append(PlanRule(f"{stage}:{item.id}", stage, when, trigger, level,
                              f"{item.description}: {verb} {level}", item.id, item.source, item.choice))
        if rank == pinned_rank:
            # With no grade decided, only a bound at the end of the scale settles the outcome.
            rules.append(PlanRule(f"{stage}:{item.id}:undecided", stage, when, Trigger(False), level,
                                  f"{item.description}: any judgement would be {level}", item.id, item.source,
                                  item.choice))
    rules.append(PlanRule(f"{stage}:none", stage, (), Trigger(), "pass", f"no {stage} applies"))
    return rules


def _holding_rules(low: _Lowering) -> list[PlanRule]:
    """Outside the stage chain: one rule per limiter, `holds:<id>`, that fires when the limiter's
    conditions hold and an event asks about it, and `holds:none` for one that does not. The
    record names every limiter that holds, the decisive one and those whose cap the grade was
    already at or below (runtime/decide.py, limiters_holding)."""
    rules = []
    for i, item in enumerate(low.fw.limiters):
        when = tuple(dict.fromkeys(low.condition(c, ("limiters", i, "when", j)) for j, c in enumerate(item.when)))
        rules.append(PlanRule(f"holds:{item.id}", LIMITS_STAGE, when, Trigger(), "holds",
                              f"{item.description}: its conditions hold", item.id, item.source, item.choice))
    rules.append(PlanRule("holds:none", LIMITS_STAGE, (), Trigger(), "pass", "the limiter asked about does not hold"))
    return rules


# --- build_ruleset -----------------------------------------------------------------------

def build_ruleset(plan: Plan) -> dict[str, Any]:
    """The durable-rules ruleset: one rule per plan rule, plus an observer for the tallies.

    All tallies travel in one fact, so a rule is a join of two patterns: the tally fact
    with every condition of the rule, and its stage event. (durable-rules cannot bind
    one fact to two patterns, and one fact per condition costs a join per condition.)
    """
    rules: dict[str, Any] = {}
    for stage in plan.stages + ((LIMITS_STAGE,) if plan.stage_rules(LIMITS_STAGE) else ()):
        for pri, rule in enumerate(plan.stage_rules(stage)):
            patterns = [{"t": _tally_pattern(plan, [plan.condition(c) for c in rule.when])}] if rule.when else []
            if rule.conclude == "override":
                patterns.append({"o": {"kind": "override"}})
            event = _event_pattern(stage, rule.trigger)
            if stage == LIMITS_STAGE and rule.limiter:  # the limiter the event asks about
                event = {"$and": event["$and"] + [{"limiter": rule.limiter}]}
            patterns.append({"ev": event})
            rules[rule.id] = {"all": patterns, "pri": pri, "run": rule.id}
    if plan.conditions:
        rules.update(observers("tally"))
    return {ruleset_name(plan.criteria_set, rules): rules}


def observers(*kinds: str) -> dict[str, Any]:
    """durable-rules raises on a fact no rule's alpha network accepts. An observer accepts
    every fact of a kind and waits for a fact that is never asserted, so it never fires."""
    return {f"observe-{kind}": {"all": [{"t": {"kind": kind}}, {"n": {"kind": "never"}}], "pri": 0,
                                "run": f"observe-{kind}"} for kind in kinds}


def ruleset_name(file_id: str, rules: dict[str, Any]) -> str:
    """A versioned name: durable-rules registers a name once per host, so the name carries
    a hash of the rules, and changed rules register under a new name."""
    safe = "".join(ch if ch.isalnum() else "_" for ch in file_id)
    return f"arbiter_{safe}_{sha256_bytes(canonical_json(rules))[:12]}"


def _tally_pattern(plan: Plan, conditions: list[PlanCondition]) -> dict:
    tests: list[dict] = [{"kind": "tally"}]
    for c in conditions:
        # A worst/best grade over no counted sub-area, and the score of a criterion not assessed,
        # are -1 (runtime/tally.py): the condition never holds.
        if c.level_bound is not None or plan.quantity(c.quantity).kind == "score":
            tests.append({"$gte": {c.id: 0}})
        tests.append({c.id: c.threshold} if c.op == "==" else {"$gte" if c.op == ">=" else "$lte": {c.id: c.threshold}})
    return {"$and": tests}


def _event_pattern(stage: str, trigger: Trigger) -> dict:
    tests: list[dict] = [{"kind": "stage"}, {"stage": stage}]
    if trigger.decided is not None:
        tests.append({"decided": 1 if trigger.decided else 0})
    if trigger.rank_above is not None:
        tests.append({"$lt": {"rank": trigger.rank_above}})
    if trigger.rank_below is not None:
        tests.append({"$gt": {"rank": trigger.rank_below}})
    return {"$and": tests}


def compile_criteria(criteria: Criteria) -> Compiled:
    """The plan and the ruleset of checked criteria (language.criteria checks them as it loads
    them; criteria built in code are checked with check_criteria first)."""
    plan = build_plan(criteria)
    ruleset = {"format": RULESET_FORMAT, "criteria_set": plan.criteria_set, "plan": plan.to_json(),
               "durable": build_ruleset(plan)}
    return Compiled(plan, ruleset, render_ruleset(ruleset), canonical_json(criteria.canonical()))


def render_ruleset(ruleset: dict[str, Any]) -> str:
    return json.dumps(ruleset, sort_keys=True, indent=2, ensure_ascii=False) + "\n"


def compile_set(catalog: Catalog, set_id: str) -> Compiled:
    """The criteria set at its place under criteria/, loaded, checked and compiled (once per catalog)."""
    return compile_loaded(catalog, load_criteria(catalog, set_id))


def compile_loaded(catalog: Catalog, criteria: Criteria) -> Compiled:
    """Criteria loaded from their place under criteria/ (load_criteria), compiled once per catalog."""
    return catalog.memo(("compiled", criteria.criteria.model.id), lambda: compile_criteria(criteria))


def compiled_from_file(text: str) -> Compiled:
    """A compiled ruleset read back from rules/ (or from a ledger), for replay."""
    ruleset = json.loads(text)
    return Compiled(Plan.from_json(ruleset["plan"]), ruleset, text)


def write_all(catalog: Catalog, check_only: bool,
              compilers: list[tuple[str, Callable[[], Compiled]]]) -> tuple[list[str], list[Diagnostic]]:
    """Compile each (id, compiler); write rules/<id>.json or, with check_only, report stale files."""
    changed: list[str] = []
    problems: list[Diagnostic] = []
    for file_id, compile_one in compilers:
        try:
            compiled = compile_one()
        except DiagnosticError as error:
            problems += error.diagnostics
            continue
        path = catalog.ruleset_path(file_id)
        current = path.read_text(encoding="utf-8") if path.is_file() else None
        if current == compiled.text:
            continue
        changed.append(file_id)
        if check_only:
            code, what = ("E141", "is missing") if current is None else ("E140", "is stale")
            shown = str(path.relative_to(catalog.root))
            problems.append(Diagnostic(shown, 1, 1, code, f"compiled ruleset {what} for '{file_id}'",
                                       "run: arbiter compile"))
        else:
            path.parent.mkdir(parents=True, exist_ok=True)
            _write_atomically(path, compiled.text)
    return changed, problems + _orphans(catalog, {file_id for file_id, _ in compilers})


def _orphans(catalog: Catalog, ids: set[str]) -> list[Diagnostic]:
    """Files in rules/ whose criteria are gone. Reported, never deleted: a person decides."""
    known = {real_path(catalog.ruleset_path(file_id)) for file_id in ids}  # never raises on a link loop
    return [Diagnostic(str(path.relative_to(catalog.root)), 1, 1, "E142",
                       "compiled ruleset has no criteria under criteria/",
                       "delete it if the criteria set was removed on purpose")
            for path in sorted(catalog.rules_dir.rglob("*.json")) if real_path(path) not in known]


def _write_atomically(path: Path, text: str) -> None:
    temp = path.with_suffix(".json.tmp")
    temp.write_text(text, encoding="utf-8")
    temp.replace(path)
