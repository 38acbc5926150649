"""The evidence space of one criteria set, enumerated exactly, and what lint learns from it.

A criteria set's decision depends on the evidence only through its plan's quantities (the
tally vector: criteria met, factors present, sub-areas at or below a level, the worst sub-area
grade, a score, a sum of scores, causes of concern). So the space to search is not every
evidence record, but every tally vector some valid evidence record gives.

What is enumerated. The criteria, factors and sub-areas of the set are partitioned into
classes by signature: which quantities count them, which exclusive groups hold them, and a
scored criterion's scale. Members of one class are interchangeable: any evidence and the same
evidence with two members of a class swapped give the same tally vector. So the evidence is
determined, up to the tally vector, by how many members of each class are in each state (a
composition per class). A state is what a member can be: a criterion met, not met or not
assessed (or each score of a scored one), a factor present or absent, a sub-area at each level
of the scale or not counted (ungraded, or carried over where the framework excludes those).
States that every quantity reading the class counts alike are one state, so a class counted
only by `met` has two: met, or not (not met and not assessed count alike there); where an
exclusive group holds the class, the states it tells apart stay apart. Causes of concern are a
count, enumerated from none up to one more than the largest number a condition compares them
with: every larger count meets and misses the same conditions. The classes are combined one at
a time, keeping each distinct partial tally vector once (with, for each exclusive group, how
many of its members are met and whether any is assessed, so that evidence breaking a group is
dropped at the end), so the work grows with the number of distinct tally vectors, not with the
number of evidence records.

Why it is exact. Every tally vector listed comes from a concrete evidence record (its
representative, the smallest: fewest findings against the area (criteria not met or not
assessed, scores below the top, factors absent, causes of concern), then fewest sub-areas below
the best level, then the smallest total shortfall, then the fewest members in the worst states),
and every valid evidence record's tally vector is listed, because its class compositions are
among those combined. Nothing is sampled, and no two counts are merged but the causes of
concern past the largest compared with. Where the combination would take more than MAX_STEPS
steps, the set is reported as too large (L208) and nothing about it is said approximately.

What is decided, and by what. Every condition's truth is the plan's whole-number test on its
quantity (the test the compiled pattern makes), so tally vectors fall into condition-truth
patterns. Each pattern's representative is written as an evidence record, validated and checked
as a case file is, and decided by durable-rules (runtime/decide.evaluate): every grade,
outcome, decisive limiter and floor this module reports is the one the rules concluded. As a
cross-check, the tally of the record must be the enumerated vector, the rule that fired in each
stage must be the first of the stage whose conditions hold in the pattern and whose trigger the
stage event meets, and the limiters durable-rules says hold must be those whose conditions hold;
a disagreement raises durable.EngineError, never a silent choice of one side.

What lint reports from the decided patterns, counting tally vectors: two grade rules of
different grades holding together under a unique hit policy (L201, error, with the smallest
evidence where that pair's both-hold rule fires); tally vectors where no grade rule holds (L202,
warning: there professional judgement decides); a level that is never the outcome (L203,
error); a limiter never the decisive cap, or a floor never the decisive floor (L204, L205,
warning, saying whether its conditions never hold or why it never applies where they do); a
condition that holds on every reachable tally vector, or on none (L206, L207, warning). Each is
placed where the framework writes it, and carries, where evidence can show it, its witness.

What is not linted: a recorded professional judgement (the override stage) and the absolute
limiters that only bound such a judgement: without a recorded judgement neither runs, and a
judgement can be any level. A criteria set that is not graded has no grade rule to lint.
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import combinations
from typing import Any, Callable, Iterator, Mapping, Optional

from ..compiler.compile import LIMITS_STAGE, Compiled, compile_loaded, condition_places
from ..compiler.plan import Plan, PlanCondition, PlanRule, Quantity, Trigger
from ..language.catalog import Catalog
from ..language.criteria import Criteria, load_criteria
from ..language.models import UNDECIDED, rule_name
from ..runtime import durable
from ..runtime.tally import NO_GRADE, NO_SCORE
from .findings import LintFinding
from .evidence import Assignment, Decided, decide, describe, witness_record

MAX_STEPS = 1_000_000  # partial tally vectors extended by one class's composition; beyond it, L208

ADD, HIGHEST, LOWEST = "add", "highest", "lowest"  # how a quantity combines its members
_NONE_COUNTED = 1 << 30  # the lowest rank of no sub-area yet; becomes NO_GRADE once all are combined
_COMBINE = {"worst_subgrade": HIGHEST, "score": HIGHEST, "best_subgrade": LOWEST}  # the rest add up
_IDENTITY = {ADD: 0, HIGHEST: NO_GRADE, LOWEST: _NONE_COUNTED}  # NO_GRADE == NO_SCORE: nothing counted
CONCERNS = "causes_of_concern"


class TooLarge(Exception):
    """The space needs more than MAX_STEPS steps to enumerate exactly."""


# --- classes of interchangeable members --------------------------------------------------------

@dataclass(frozen=True)
class State:
    value: Any  # as a witness writes it: met/not_met/not_assessed or a score; True/False; a level rank or None
    effect: tuple[int, ...]  # what one member in this state adds to each quantity reading its class
    role: str  # for exclusive groups: "met", "assessed" (not met, but assessed) or "" (not assessed)
    cost: tuple[int, int, int]  # (findings not met, sub-areas below the best level, shortfall)


@dataclass(frozen=True)
class Option:
    """One composition of a class: how many members are in each state."""

    counts: tuple[int, ...]  # per state, in the class's order (best first)
    effect: tuple[int, ...]  # per quantity the class is read by
    met: int
    assessed: int
    cost: tuple[int, int, int]
    order: tuple[int, ...]  # the counts worst state first: the last tie-break between representatives


@dataclass(frozen=True)
class MemberClass:
    kind: str  # criterion | factor | subgrade | causes_of_concern
    members: tuple[str, ...]
    reads: tuple[int, ...]  # indices of the plan quantities that count its members
    groups: tuple[int, ...]  # indices of the plan's exclusive groups that hold its members
    states: tuple[State, ...]  # best first, no two counted alike
    options: tuple[Option, ...]

    def members_in_states(self, option: Option) -> Iterator[tuple[str, State]]:
        """The members, in order, given the option's states, best first."""
        states = [state for state, n in zip(self.states, option.counts) for _ in range(n)]
        return zip(self.members, states)


def _effect(quantity: Quantity, kind: str, value: Any) -> int:
    """What one member in a state adds to a quantity (runtime/tally.py counts the same way)."""
    q = quantity.kind
    if kind == "criterion":
        if q == "score":
            return value if isinstance(value, int) else NO_SCORE
        if q == "score_sum":
            return value if isinstance(value, int) else 0
        return int(value == q)
    if kind == "factor":
        return int(value is True)
    if kind == CONCERNS:
        return value
    if value is None:  # a sub-area not counted
        return _IDENTITY[_COMBINE.get(q, ADD)]
    if q == "subgrades_at_or_below":
        return int(value >= quantity.level_rank)
    if q == "subgrades_at_or_above":
        return int(value <= quantity.level_rank)
    if q == "subgrades_at":
        return int(value == quantity.level_rank)
    return value  # worst or best sub-area grade: the rank itself


def _raw_states(plan: Plan, kind: str, scale: Optional[tuple[int, int]],
                concern_cap: int) -> list[tuple[Any, tuple[int, int, int]]]:
    """Every state a member can be in, best first, with its cost."""
    if kind == "criterion" and scale:
        low, high = scale
        return [(s, (int(s < high), 0, high - s)) for s in range(high, low - 1, -1)] + \
               [("not_assessed", (1, 0, high - low + 1))]
    if kind == "criterion":
        return [("met", (0, 0, 0)), ("not_met", (1, 0, 1)), ("not_assessed", (1, 0, 2))]
    if kind == "factor":
        return [(True, (0, 0, 0)), (False, (1, 0, 1))]
    if kind == CONCERNS:
        return [(n, (n, 0, n)) for n in range(concern_cap + 1)]
    return [(lv.rank, (0, int(lv.rank > 0), lv.rank)) for lv in plan.levels] + [(None, (0, 1, len(plan.levels)))]


def _role(value: Any, exactly_one: bool) -> str:
    if value == "met":
        return "met"
    return "assessed" if exactly_one and value != "not_assessed" else ""


def _states(plan: Plan, cls_kind: str, reads: tuple[int, ...], groups: tuple[int, ...],
            scale: Optional[tuple[int, int]], concern_cap: int) -> tuple[State, ...]:
    """The states a class's quantities (and groups) tell apart, each kept in its best form."""
    exactly_one = any(plan.exclusive[g].exactly_one for g in groups)
    kept: dict[tuple, State] = {}
    for value, cost in _raw_states(plan, cls_kind, scale, concern_cap):
        effect = tuple(_effect(plan.quantities[i], cls_kind, value) for i in reads)
        role = _role(value, exactly_one) if groups else ""
        kept.setdefault((effect, role), State(value, effect, role, cost))
    return tuple(kept.values())


def _compositions(size: int, parts: int) -> Iterator[tuple[int, ...]]:
    if parts == 1:
        yield (size,)
        return
    for first in range(size, -1, -1):
        for rest in _compositions(size - first, parts - 1):
            yield (first,) + rest


def _options(plan: Plan, reads: tuple[int, ...], states: tuple[State, ...], size: int) -> tuple[Option, ...]:
    modes = [_COMBINE.get(plan.quantities[i].kind, ADD) for i in reads]
    options = []
    for counts in _compositions(size, len(states)):
        present = [s for s, n in zip(states, counts) if n]
        effect = []
        for k, mode in enumerate(modes):
            if mode == ADD:
                effect.append(sum(s.effect[k] * n for s, n in zip(states, counts)))
            else:
                pick = max if mode == HIGHEST else min
                effect.append(pick([s.effect[k] for s in present], default=_IDENTITY[mode]))
        cost = (sum(s.cost[0] * n for s, n in zip(states, counts)), sum(s.cost[1] * n for s, n in zip(states, counts)),
                sum(s.cost[2] * n for s, n in zip(states, counts)))
        met = sum(n for s, n in zip(states, counts) if s.role == "met")
        assessed = sum(n for s, n in zip(states, counts) if s.role == "assessed")
        options.append(Option(counts, tuple(effect), met, assessed, cost, tuple(reversed(counts))))
    return tuple(options)


def member_classes(criteria: Criteria, plan: Plan) -> tuple[MemberClass, ...]:
    """The set's criteria, the framework's factors, the set's sub-areas (and the causes of
    concern, when a condition counts them) in classes of interchangeable members."""
    cs, fw = criteria.criteria.model, criteria.framework.model
    readers: dict[tuple[str, str], list[int]] = {}
    for i, q in enumerate(plan.quantities):
        kind = {"factors_present": "factor", CONCERNS: CONCERNS}.get(q.kind)
        kind = kind or ("subgrade" if "subgrade" in q.kind else "criterion")
        for m in (q.members if kind != CONCERNS else (CONCERNS,)):
            readers.setdefault((kind, m), []).append(i)
    groups: dict[str, list[int]] = {}
    for g, group in enumerate(plan.exclusive):
        for m in group.members:
            groups.setdefault(m, []).append(g)
    members = [("criterion", c.id, (c.scored.min, c.scored.max) if c.scored else None) for c in cs.criteria]
    members += [("factor", f, None) for f in fw.factors] + [("subgrade", s.id, None) for s in cs.subgrades]
    if any(kind == CONCERNS for kind, _ in readers):
        members.append((CONCERNS, CONCERNS, None))
    by_signature: dict[tuple, list[str]] = {}
    for kind, member, scale in members:
        reads = tuple(readers.get((kind, member), ()))
        in_groups = tuple(groups.get(member, ())) if kind == "criterion" else ()
        by_signature.setdefault((kind, reads, in_groups, scale), []).append(member)
    cap = _concern_cap(plan)
    classes = []
    for (kind, reads, in_groups, scale), names in by_signature.items():
        states = _states(plan, kind, reads, in_groups, scale, cap)
        classes.append(MemberClass(kind, tuple(names), reads, in_groups, states,
                                   _options(plan, reads, states, len(names))))
    return tuple(classes)


def _concern_cap(plan: Plan) -> int:
    """One more than the largest number of causes of concern a condition compares with."""
    quantities = {q.id for q in plan.quantities if q.kind == CONCERNS}
    return max((c.threshold for c in plan.conditions if c.quantity in quantities), default=-1) + 1


# --- the space ---------------------------------------------------------------------------------

@dataclass(frozen=True)
class Space:
    """Every reachable tally vector of a plan, each with its smallest evidence."""

    plan: Plan
    classes: tuple[MemberClass, ...]
    tallies: Mapping[tuple[int, ...], tuple]  # tally vector -> (cost, order, option index per class)
    steps: int  # the work the enumeration took

    def pattern(self, tally: tuple[int, ...]) -> tuple[bool, ...]:
        """Which conditions hold on a tally vector."""
        return self.patterns()(tally)

    def patterns(self) -> Callable[[tuple[int, ...]], tuple[bool, ...]]:
        """pattern(), for many tally vectors: each condition's truth is worked out once per value."""
        index = {q.id: i for i, q in enumerate(self.plan.quantities)}
        tests = [(index[c.quantity], c, self.plan.quantities[index[c.quantity]].kind) for c in self.plan.conditions]
        known: list[dict[int, bool]] = [{} for _ in tests]

        def truth(tally: tuple[int, ...]) -> tuple[bool, ...]:
            out = []
            for (i, condition, kind), seen in zip(tests, known):
                value = tally[i]
                if value not in seen:
                    seen[value] = condition_holds(condition, kind, value)
                out.append(seen[value])
            return tuple(out)

        return truth

    def reduced(self, tally: Mapping[str, int]) -> tuple[int, ...]:
        """A concrete evidence's tally (by quantity id, as runtime/tally.py gives it) as the space
        lists it: causes of concern past the largest count compared with are counted at one past it."""
        cap = _concern_cap(self.plan)
        return tuple(min(tally[q.id], cap) if q.kind == CONCERNS else tally[q.id] for q in self.plan.quantities)

    def evidence(self, tally: tuple[int, ...]) -> Assignment:
        """The smallest evidence giving a tally vector."""
        picks = self.tallies[tally][2]
        findings: dict[str, Any] = {}
        factors: dict[str, bool] = {}
        subgrades: dict[str, Optional[int]] = {}
        concerns = 0
        for cls, pick in zip(self.classes, picks):
            for member, state in cls.members_in_states(cls.options[pick]):
                if cls.kind == "criterion":
                    findings[member] = state.value
                elif cls.kind == "factor":
                    factors[member] = state.value
                elif cls.kind == "subgrade":
                    subgrades[member] = state.value
                else:
                    concerns = state.value
        return Assignment(findings, factors, subgrades, concerns)


def condition_holds(condition: PlanCondition, kind: str, value: int) -> bool:
    """The compiled pattern's test (compiler/compile.py, _tally_pattern): a worst or best grade
    of no sub-area, and the score of a criterion not assessed, are -1 and hold nothing."""
    if (condition.level_bound is not None or kind == "score") and value < 0:
        return False
    if condition.op == ">=":
        return value >= condition.threshold
    if condition.op == "<=":
        return value <= condition.threshold
    return value == condition.threshold


def explore(criteria: Criteria, plan: Plan, max_steps: int = MAX_STEPS) -> Space:
    """Every reachable tally vector of the plan, with its smallest evidence; TooLarge when that
    takes more than max_steps."""
    classes = member_classes(criteria, plan)
    modes = [_COMBINE.get(q.kind, ADD) for q in plan.quantities]
    start = tuple(_IDENTITY[m] for m in modes)
    partial: dict[tuple, tuple] = {(start, (0, 0) * len(plan.exclusive)): ((0, 0, 0), (), ())}
    steps = 0
    for cls in classes:
        steps += len(partial) * len(cls.options)
        if steps > max_steps:
            raise TooLarge(steps)
        partial = _extend(partial, cls, modes)
    tallies: dict[tuple[int, ...], tuple] = {}
    for (tally, status), best in partial.items():
        if not _groups_kept(plan, status):
            continue
        final = tuple(NO_GRADE if v == _NONE_COUNTED else v for v in tally)
        if final not in tallies or best < tallies[final]:
            tallies[final] = best
    return Space(plan, classes, tallies, steps)


def _extend(partial: dict, cls: MemberClass, modes: list[str]) -> dict:
    reads = [(i, modes[i]) for i in cls.reads]
    extended: dict[tuple, tuple] = {}
    for (tally, status), (cost, order, picks) in partial.items():
        for index, option in enumerate(cls.options):
            values = list(tally)
            for (i, mode), v in zip(reads, option.effect):
                if mode == ADD:
                    values[i] += v
                elif (v > values[i]) if mode == HIGHEST else (v < values[i]):
                    values[i] = v
            key = (tuple(values), _group_status(status, cls, option))
            best = ((cost[0] + option.cost[0], cost[1] + option.cost[1], cost[2] + option.cost[2]),
                    order + option.order, picks + (index,))
            if key not in extended or best < extended[key]:
                extended[key] = best
    return extended


def _group_status(status: tuple, cls: MemberClass, option: Option) -> tuple:
    """Per exclusive group: members met (2 standing for more than one) and whether any is
    assessed without being met."""
    if not cls.groups:
        return status
    values = list(status)
    for g in cls.groups:
        values[2 * g] = min(2, values[2 * g] + option.met)
        values[2 * g + 1] = min(1, values[2 * g + 1] + option.assessed)
    return tuple(values)


def _groups_kept(plan: Plan, status: tuple) -> bool:
    """models.group_breach, on counts: at most one met; with exactly_one, one met unless none
    of the group is assessed."""
    for g, group in enumerate(plan.exclusive):
        met, assessed = status[2 * g], status[2 * g + 1]
        if met > 1 or (group.exactly_one and met == 0 and assessed):
            return False
    return True


# --- deciding each pattern by durable-rules ------------------------------------------------------

@dataclass(frozen=True)
class Pattern:
    holds: tuple[bool, ...]  # per plan condition
    tallies: int  # how many reachable tally vectors have this pattern
    tally: tuple[int, ...]  # the tally vector of its smallest evidence
    decided: Decided  # that evidence, as durable-rules decides it


def decide_patterns(criteria: Criteria, compiled: Compiled, space: Space) -> list[Pattern]:
    """Each distinct condition-truth pattern, with its smallest evidence decided by durable-rules
    and checked against the pattern."""
    plan = compiled.plan
    grouped: dict[tuple[bool, ...], list] = {}
    pattern = space.patterns()
    for tally, best in space.tallies.items():
        holds = pattern(tally)
        entry = grouped.setdefault(holds, [0, None, None])
        entry[0] += 1
        if entry[1] is None or best < entry[1]:
            entry[1], entry[2] = best, tally
    patterns = []
    for holds, (count, _, tally) in grouped.items():
        decided = decide(criteria, compiled, space.evidence(tally))
        _cross_check(plan, holds, tally, decided)
        patterns.append(Pattern(holds, count, tally, decided))
    return sorted(patterns, key=lambda p: space.tallies[p.tally])  # smallest evidence first


def _tally_of(plan: Plan, decided: Decided) -> tuple[int, ...]:
    return tuple(decided.evaluation.quantities[q.id] for q in plan.quantities)


def _cross_check(plan: Plan, holds: tuple[bool, ...], tally: tuple[int, ...], decided: Decided) -> None:
    """The record's tally is the enumerated one; in each stage, the rule durable-rules fired is the
    first whose conditions hold in the pattern and whose trigger the stage event meets; the
    limiters durable-rules says hold are those whose conditions hold."""
    truth = {c.id: h for c, h in zip(plan.conditions, holds)}
    if _tally_of(plan, decided) != tally:
        raise durable.EngineError(f"lint: the evidence built for tally {tally} tallies "
                                  f"{_tally_of(plan, decided)} in set '{plan.criteria_set}'")
    for firing in decided.evaluation.firings:
        stage = plan.rule(firing.rule).stage
        event = firing.matched.get("ev", {})
        expected = next((r.id for r in plan.stage_rules(stage)
                         if all(truth[c] for c in r.when) and _trigger_met(r.trigger, event)), None)
        if expected != firing.rule:
            raise durable.EngineError(f"lint: durable-rules fired {firing.rule} where the conditions give "
                                      f"{expected} (set '{plan.criteria_set}', tally {tally})")
    holding = {r.limiter for r in plan.stage_rules(LIMITS_STAGE) if r.limiter and all(truth[c] for c in r.when)}
    if holding != set(decided.holding):
        raise durable.EngineError(f"lint: durable-rules says limiters {sorted(decided.holding)} hold where the "
                                  f"conditions give {sorted(holding)} (set '{plan.criteria_set}', tally {tally})")


def _trigger_met(trigger: Trigger, event: Mapping[str, Any]) -> bool:
    if trigger.decided is not None and event.get("decided") != int(trigger.decided):
        return False
    rank = event.get("rank")
    if trigger.rank_above is not None and (rank is None or not rank < trigger.rank_above):
        return False
    return trigger.rank_below is None or (rank is not None and rank > trigger.rank_below)


# --- findings ------------------------------------------------------------------------------------

def analyse(catalog: Catalog, set_id: str) -> list[LintFinding]:
    """Lint findings L201-L208 for one criteria set under criteria/ (see the module docstring)."""
    criteria = load_criteria(catalog, set_id)
    return analyse_criteria(criteria, compile_loaded(catalog, criteria))


def analyse_criteria(criteria: Criteria, compiled: Compiled, max_steps: int = MAX_STEPS) -> list[LintFinding]:
    """Lint findings L201-L208 for loaded, checked criteria and their compiled plan."""
    plan = compiled.plan
    if not plan.graded:
        return []  # inspected, not graded: no grade rule to lint
    lint = _Lint(criteria, plan)
    try:
        space = explore(criteria, plan, max_steps)
    except TooLarge as error:
        return [lint.finding("L208", "info", ("grades",), "grades",
                             f"the evidence space of set '{plan.criteria_set}' takes more than {max_steps} steps "
                             f"to enumerate exactly ({error.args[0]} needed so far): it is not analysed",
                             "split the set, or count fewer distinct selections")]
    lint.patterns = decide_patterns(criteria, compiled, space)
    lint.total = len(space.tallies)
    return sorted(lint.overlaps() + lint.gaps() + lint.unreachable() + lint.bounds("cap") + lint.bounds("floor")
                  + lint.conditions(condition_places(criteria)), key=LintFinding.sort_key)


class _Lint:
    """The findings of one analysed set, read from its decided patterns."""

    def __init__(self, criteria: Criteria, plan: Plan):
        self.criteria, self.plan = criteria, plan
        self.fw = criteria.framework.model
        self.doc = criteria.framework.doc
        self.patterns: list[Pattern] = []
        self.total = 0
        self.labels = {lv.id: lv.label for lv in plan.levels}
        self.labels[UNDECIDED] = "professional judgement"

    # where things are written
    def finding(self, code: str, severity: str, loc: tuple, about: str, message: str, suggestion: str,
                witness: Optional[Decided] = None, note: str = "") -> LintFinding:
        line, col = self.doc.where(loc) if not self.doc.in_memory else (0, 0)
        record = witness_record(self.criteria, witness, f"{code.lower()}-{about}", f"{code}: {note or message}") \
            if witness else None
        return LintFinding(code, severity, self.doc.path, line, col, message, self.plan.criteria_set, about,
                           suggestion, record)

    def written_as(self, place: tuple, fallback: str) -> str:
        """A condition named by where it is written, `good.when[1]` or `failed-critical-criterion.when[0]`,
        so that a reviewed exception's `about:` survives the plan numbering its conditions anew."""
        if len(place) < 4 or place[2] != "when":
            return fallback
        section, index, _, position = place[:4]
        entries = {"grades": self.fw.grades, "limiters": self.fw.limiters, "floors": self.fw.floors}.get(section)
        if entries is None or index >= len(entries):
            return fallback
        entry = entries[index]
        return f"{rule_name(entry) if section == 'grades' else entry.id}.when[{position}]"

    def grade_rules(self) -> list[PlanRule]:
        return [r for r in self.plan.stage_rules("level") if r.conclude in self.labels and r.conclude != UNDECIDED
                and not r.id.startswith("level:both:")]

    def grade_place(self, rule: PlanRule) -> tuple:
        """The framework's grade entry a level rule was compiled from (compile.py names it
        level:<level>, or level:<level>:<rule name> when the level has several)."""
        for i, grade in enumerate(self.fw.grades):
            if grade.level == rule.conclude and rule.id in (f"level:{grade.level}",
                                                            f"level:{grade.level}:{rule_name(grade)}"):
                return ("grades", i)
        return ("grades",)

    def holding(self, rule_when: tuple[str, ...]) -> Callable[[Pattern], bool]:
        index = {c.id: i for i, c in enumerate(self.plan.conditions)}
        return lambda p: all(p.holds[index[c]] for c in rule_when)

    def share(self, patterns: list[Pattern]) -> str:
        return f"{sum(p.tallies for p in patterns)} of {self.total} reachable tally vectors"

    # L201
    def overlaps(self) -> list[LintFinding]:
        if self.plan.hit_policy != "unique":
            return []
        found = []
        for higher, lower in combinations(self.grade_rules(), 2):
            if higher.conclude == lower.conclude:
                continue  # two ways to one grade agree
            both = [p for p in self.patterns if self.holding(higher.when)(p) and self.holding(lower.when)(p)]
            if not both:
                continue
            names = f"{higher.id.removeprefix('level:')}:{lower.id.removeprefix('level:')}"
            own = [p for p in both if p.decided.evaluation.firings[0].rule == f"level:both:{names}"]
            witness = (own or both)[0].decided
            a, b = self.labels[higher.conclude], self.labels[lower.conclude]
            place = max(self.grade_place(higher), self.grade_place(lower))
            found.append(self.finding(
                "L201", "error", place, names,
                f"the rules for {a} ({higher.id}) and {b} ({lower.id}) both hold on {self.share(both)}, and the "
                f"unique hit policy then leaves the grade to professional judgement; smallest example: "
                f"{describe(self.criteria, witness.assignment)}",
                "make the two rules' conditions exclusive, or declare the hit policy (best, worst or first) "
                "that says which grade is given", witness,
                f"the rules for {a} and {b} both hold"))
        return found

    # L202
    def gaps(self) -> list[LintFinding]:
        rules = self.grade_rules()
        gap = [p for p in self.patterns if not any(self.holding(r.when)(p) for r in rules)]
        if not gap:
            return []
        if not rules:
            return [self.finding("L202", "warning", ("undecided",), "grades",
                                 "the framework writes no grade rule, so every case is left to professional "
                                 "judgement",
                                 "write the grade rules the source publishes, or accept the gap with a reviewed "
                                 "exception", gap[0].decided, "no grade rule is written")]
        example = describe(self.criteria, gap[0].decided.assignment)
        return [self.finding("L202", "warning", ("grades",), "grades",
                             f"no grade rule holds on {self.share(gap)}, so professional judgement decides there; "
                             f"smallest example: {example}",
                             "widen or add a grade rule to cover them, or accept the gap with a reviewed exception",
                             gap[0].decided, f"no grade rule holds ({example})")]

    # L203
    def unreachable(self) -> list[LintFinding]:
        rules = self.grade_rules()
        if not rules and not self.fw.limiters and not self.fw.floors:
            return []  # no rule gives any grade: the gap (L202) says so once
        outcomes = {p.decided.evaluation.outcome for p in self.patterns}
        found = []
        for level in self.plan.levels:
            if level.id in outcomes:
                continue
            own = [r for r in rules if r.conclude == level.id]
            held = [p for p in self.patterns if any(self.holding(r.when)(p) for r in own)]
            if not own:
                why = "no grade rule gives it, and no floor or limiter brings the grade to it"
            elif not held:
                why = "its rule's conditions never hold together on reachable evidence"
            else:
                instead = sorted({self.labels[p.decided.evaluation.outcome] for p in held})
                why = (f"its rule holds on {self.share(held)}, but the outcome there is "
                       f"{' or '.join(instead)} (hit policy {self.plan.hit_policy}, floors and limiters)")
            place = self.grade_place(own[0]) if own else ("scale",)
            found.append(self.finding("L203", "error", place, level.id, f"{level.label} is never the outcome: {why}",
                                      "change the grade rules so that some evidence gives it, or remove the grade",
                                      held[0].decided if held else None, f"{level.label} is not given"))
        return found

    # L204, L205
    def bounds(self, stage: str) -> list[LintFinding]:
        items = self.fw.limiters if stage == "cap" else self.fw.floors
        found = []
        for i, item in enumerate(items):
            rule = next(r for r in self.plan.stage_rules(stage) if r.limiter == item.id)
            applied = [p for p in self.patterns if getattr(p.decided.evaluation, "limiter" if stage == "cap"
                                                            else "floor") == item.id]
            if applied:
                continue
            held = [p for p in self.patterns if self.holding(rule.when)(p)]
            code, what, group = ("L204", "limiter", "limiters") if stage == "cap" else ("L205", "floor", "floors")
            bound = self.labels[rule.conclude]
            if not held:
                why = "its conditions never hold on reachable evidence" + self._counts_nothing(rule.when)
            else:
                reasons = self._bound_reasons(held, stage, bound)
                why = f"its conditions hold on {self.share(held)}, but there {reasons}"
            verb = "caps" if stage == "cap" else "raises"
            found.append(self.finding(code, "warning", (group, i), item.id,
                                      f"{what} '{item.id}' never {verb} the grade: {why}",
                                      f"check the {what}'s conditions and its level, or remove it",
                                      held[0].decided if held else None,
                                      f"{what} '{item.id}' holds but does not apply"))
        return found

    def _counts_nothing(self, when: tuple[str, ...]) -> str:
        """Why a condition never holds when its selection is empty in this set (the compiler lets a
        limiter or floor select nothing: models.may_select_none)."""
        empty = [self.plan.quantity(self.plan.condition(c).quantity).describe for c in when
                 if self.plan.condition(c).total == 0 and self.plan.quantity(self.plan.condition(c).quantity).kind
                 not in (CONCERNS,)]
        return f" ({', '.join(empty)}: this set has none to count)" if empty else ""

    def _bound_reasons(self, held: list[Pattern], stage: str, bound: str) -> str:
        reasons = []
        for p in held:
            other = p.decided.evaluation.limiter if stage == "cap" else p.decided.evaluation.floor
            if other:
                reasons.append(f"another {'limiter caps lower' if stage == 'cap' else 'floor raises higher'}")
            elif p.decided.evaluation.outcome == UNDECIDED:
                reasons.append("no grade is decided")
            else:
                reasons.append(f"the grade is already at or {'below' if stage == 'cap' else 'above'} {bound}")
        return " or ".join(dict.fromkeys(reasons))

    # L206, L207
    def conditions(self, places: Mapping[str, tuple]) -> list[LintFinding]:
        found = []
        for k, condition in enumerate(self.plan.conditions):
            truths = {p.holds[k] for p in self.patterns}
            if len(truths) != 1:
                continue
            always = truths == {True}
            text = condition_text(self.plan, condition)
            place = places.get(condition.id, ("grades",))
            found.append(self.finding(
                "L206" if always else "L207", "warning", place, self.written_as(place, condition.id),
                f"condition '{text}' {'always' if always else 'never'} holds on reachable evidence"
                + self._counts_nothing((condition.id,)),
                "remove the condition, or change its bound" if always else
                "change its bound or selection so that some evidence meets it, or remove the rule"))
        return found


def condition_text(plan: Plan, condition: PlanCondition) -> str:
    """A condition in words: 'sub-areas graded outstanding or above at least 3'."""
    quantity = plan.quantity(condition.quantity)
    if condition.level_bound is not None:
        return f"{quantity.describe} {'at least' if condition.op == '<=' else 'at most'} {condition.level_bound}"
    word = {">=": "at least", "<=": "at most", "==": "exactly"}[condition.op]
    if condition.quantifier:
        return f"{quantity.describe} is {condition.quantifier.name} ({word} {condition.threshold} of {condition.total})"
    return f"{quantity.describe} {word} {condition.threshold}"
