"""Margin: how far an inspection decision is from another outcome, each answer decided by the rules.

Two questions about the rules' outcome (before any recorded professional judgement, which
stands whatever the evidence says):

- single changes: every finding or factor whose change alone would change the outcome, and
  to what outcome;
- the fewest changes to findings and factors that would move the grade at least one level up,
  and at least one level down.

Every candidate is decided by `decide.evaluate` on the changed evidence: nothing here compares
a count with a threshold. What keeps the search cheap, and still exact:

- Interchangeable items. Two findings with the same value, counted by the same quantities,
  in the same exclusive group or in none, change the tallies alike and keep the groups
  alike, so the search counts how many members of each such class change to each value
  rather than which ones; changed evidence whose tallies were already decided
  is not decided again (the engine is given nothing but the tallies), nor is a set of changes
  that moves the quantities the target depends on as one already decided did.
- Directions. For a target ("Excellent or better"), each condition the target depends on is
  one the target needs to hold, one it needs to fail, or both (`polarities`, read from the
  plan's first-hit stages). A change that moves every condition it touches away from the
  target is never part of a fewest set: removing it from any set that reaches the target
  leaves a set that still does, and a smaller one. Such changes, and changes touching no
  condition the target depends on, are left out of the search. This is the monotonicity law
  (turning a not-met finding into met never lowers a grade) put to work, derived per
  condition so it holds for any framework, monotone or not.
- Sizes in increasing order: the first size at which some set reaches the target is the
  fewest. When every change left in is one that only helps, reaching the target is monotone
  in the sets, so after the single changes (decided already) the largest sets show at once
  when the target cannot be reached at all.

A scored criterion's finding changes to any other score on its scale, or to not assessed, in
one change: the margin counts findings changed, whatever the size of each change. The score of
one criterion not assessed holds no condition, so a change to or from not assessed may move a
condition on that score either way, and is never left out for its direction.

Exclusive groups (one rating per key question) are kept: every change set proposed or decided
leaves each group as validation (language/check.py, E128) accepts a case. Moving a group's one
met member to another, the old one becoming not met and a not-met one met, is one change, as
an assessor reads one rating differently (a switch: its Change names the member met in place
of the other, `replaces`); a change that would leave a group with two members met, or an
`exactly_one` group with none met while some member is assessed, is never proposed. Group and
value are part of what makes findings interchangeable, and every member of a group is in the
classes, counted or not (a switch to an uncounted member still moves the old member's counts).
A change inside a group is never left out for its direction: one that hinders may be the one
that keeps a group valid. So the largest sets are no proof that a target cannot be reached
when a group's change is in the search, and the search then goes by size to the end.

Besides the single changes, the search tries at most SEARCH_LIMIT sets of changes per
direction (a set being one choice of how many members of each class change to each value).
Past it the answer is "more than k changes", k being the largest size tried in full, and the
record says so.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from itertools import product
from types import MappingProxyType
from typing import Iterator, Optional, Union

from ..compiler.compile import Compiled
from ..compiler.plan import Plan
from ..language.models import FINDINGS, NOT_GRADED, SCORE_QUANTITIES, UNDECIDED, group_breach
from .decide import evaluate
from .tally import Evidence, score_of, tally

SEARCH_LIMIT = 5000  # sets of two or more changes tried per direction
PRESENT, ABSENT = "present", "absent"
MAX_LARGEST_SETS = 64  # largest sets tried before the search when only helping changes are left in

HELP, HINDER = 1, -1

# Statuses of a search for the next level up or down.
FOUND = "found"  # fewest_changes is exact, and example is one such set
UNREACHABLE = "unreachable"  # no change to findings or factors reaches the target
BEYOND_LIMIT = "beyond_limit"  # every set of at most more_than changes was tried, none reaches it
NO_LEVEL = "no_level"  # the outcome is the highest (or lowest) level
NO_GRADE = "no_grade"  # the rules give no grade to move from (professional judgement, not graded)


@dataclass(frozen=True)
class Change:
    """One thing changed: a finding to another value, a factor present or absent, or a switch
    in an exclusive group (this finding met in place of `replaces`); for the appointment
    margins (appointment_margin.py) a rating, the votes or a requirement's result."""

    item: str  # finding | factor, or rating | votes | requirement
    id: str
    before: Union[str, int]  # met | not_met | not_assessed or a score, present | absent; a rating or a count of votes
    after: Union[str, int]
    replaces: Optional[str] = None  # a switch in an exclusive group: the member met before, not met after

    def findings_changed(self) -> tuple["Change", ...]:
        """The change finding by finding: a switch is this member met and the one it replaces not met."""
        if self.replaces is None:
            return (self,)
        return (self, Change(self.item, self.replaces, "met", "not_met"))


@dataclass(frozen=True)
class SingleChange:
    change: Change
    outcome: str  # the rules' outcome with this change alone


@dataclass(frozen=True)
class Reach:
    """The fewest changes that move the outcome to the target level or beyond it."""

    status: str  # FOUND, UNREACHABLE, BEYOND_LIMIT, NO_LEVEL or NO_GRADE
    target: Optional[str] = None  # the next level that way
    fewest: Optional[int] = None  # FOUND: the fewest changes
    example: tuple[Change, ...] = ()  # FOUND: one set of that many changes
    example_outcome: Optional[str] = None  # FOUND: the rules' outcome with the example
    more_than: Optional[int] = None  # BEYOND_LIMIT: every set of at most this many changes falls short


@dataclass(frozen=True)
class Margin:
    outcome: str  # the rules' outcome the margin is measured from
    single: tuple[SingleChange, ...]
    up: Reach
    down: Reach
    search_limit: int


# --- what can change -------------------------------------------------------------------------

@dataclass(frozen=True)
class ItemClass:
    """Findings (or factors) with one value, counted by the same quantities, in the same
    exclusive group (or none): interchangeable."""

    item: str
    before: Union[str, int]
    members: tuple[str, ...]
    counted_by: frozenset[str]  # quantity ids
    scale: Optional[tuple[int, int]] = None  # a scored criterion's lowest and highest score
    group: Optional[str] = None  # the exclusive group its members are in


@dataclass(frozen=True)
class Way:
    """One way of changing members of a class: to one value, or by a switch to met, moving these quantities."""

    cls: int  # index into the classes
    after: Union[str, int]
    delta: tuple[tuple[str, int], ...]  # (quantity id, how far it moves: one for a count, any for a score)
    unassessing: bool = False  # a score to or from not assessed: a condition on that score may move either way
    replaces: Optional[int] = None  # a switch: the class of the group's met member, which becomes not met


def counted_items(plan: Plan) -> dict[tuple[str, str], frozenset[str]]:
    """(item, id) -> the quantities counting it, in plan order. A finding or factor no quantity
    counts never reaches the engine, so no change to it can change the outcome."""
    counted: dict[tuple[str, str], set[str]] = {}
    for quantity in plan.quantities:
        item = "finding" if quantity.kind in FINDINGS + SCORE_QUANTITIES else \
            "factor" if quantity.kind == "factors_present" else None
        if item is not None:
            for member in quantity.members:
                counted.setdefault((item, member), set()).add(quantity.id)
    return {key: frozenset(ids) for key, ids in counted.items()}


def current_value(evidence: Evidence, item: str, item_id: str) -> Union[str, int]:
    if item == "finding":
        return evidence.findings[item_id]  # a checked case has a finding for every criterion (E123)
    return PRESENT if evidence.factors.get(item_id) is True else ABSENT


def scale_of(plan: Plan, item: str, item_id: str) -> Optional[tuple[int, int]]:
    scored = plan.score_range(item_id) if item == "finding" else None
    return (scored.low, scored.high) if scored else None


def alternatives(item: str, before: Union[str, int], scale: Optional[tuple[int, int]] = None) -> tuple:
    """Every other value: a scored finding any other score on its scale, or not assessed."""
    if scale is not None:
        values: tuple = (*range(scale[0], scale[1] + 1), "not_assessed")
    else:
        values = FINDINGS if item == "finding" else (PRESENT, ABSENT)
    return tuple(v for v in values if v != before)


def group_of(plan: Plan) -> dict[str, str]:
    """Criterion id -> the exclusive group it is in."""
    return {member: group.id for group in plan.exclusive for member in group.members}


def changeable_items(plan: Plan) -> dict[tuple[str, str], frozenset[str]]:
    """The counted findings and factors (counted_items), then the members of exclusive groups
    no quantity counts: changing one alone changes nothing, but a switch to it moves the
    counts of the member it replaces."""
    items = counted_items(plan)
    for member in group_of(plan):
        items.setdefault(("finding", member), frozenset())
    return items


def item_classes(plan: Plan, evidence: Evidence) -> tuple[ItemClass, ...]:
    """The changeable findings and factors, grouped into interchangeable classes, in plan order."""
    groups = group_of(plan)
    classes: dict[tuple, list[str]] = {}
    for (item, item_id), counted_by in changeable_items(plan).items():
        key = (item, current_value(evidence, item, item_id), counted_by, scale_of(plan, item, item_id),
               groups.get(item_id) if item == "finding" else None)
        classes.setdefault(key, []).append(item_id)
    return tuple(ItemClass(item, before, tuple(members), counted_by, scale, group)
                 for (item, before, counted_by, scale, group), members in classes.items())


def ways(plan: Plan, classes: tuple[ItemClass, ...]) -> tuple[Way, ...]:
    """Every way of changing a member of each class, with its effect on the quantities, and for
    a not-met member of a group whose met member is in another class, the switch to it. (Made
    alone, a way may break a group, as a member becoming met beside the met one: the search
    decides only the sets that keep every group, which may take a second way, as the met member
    becoming not assessed.)"""
    found = []
    for index, cls in enumerate(classes):
        for after in alternatives(cls.item, cls.before, cls.scale):
            unassessing = cls.scale is not None and "not_assessed" in (cls.before, after)
            found.append(Way(index, after, _delta(plan, [(cls, cls.before, after)]), unassessing))
        met_class = _met_class(classes, cls)
        if cls.before == "not_met" and met_class is not None:
            moves = [(cls, "not_met", "met"), (classes[met_class], "met", "not_met")]
            found.append(Way(index, "met", _delta(plan, moves), replaces=met_class))
    return tuple(found)


def _met_class(classes: tuple[ItemClass, ...], cls: ItemClass) -> Optional[int]:
    """The class of the met member of cls's exclusive group, when that is another class."""
    if cls.group is None:
        return None
    return next((i for i, other in enumerate(classes)
                 if other.group == cls.group and other.before == "met" and other is not cls), None)


def _delta(plan: Plan, moves: list[tuple[ItemClass, Union[str, int], Union[str, int]]]) -> tuple[tuple[str, int], ...]:
    """How far each quantity moves when one member of each class moves from one value to another."""
    delta = []
    for quantity in plan.quantities:
        move = sum(_moved(quantity.kind, before, after)
                   for cls, before, after in moves if quantity.id in cls.counted_by)
        if move:
            delta.append((quantity.id, move))
    return tuple(delta)


def _moved(kind: str, before: Union[str, int], after: Union[str, int]) -> int:
    """How a quantity of this kind moves when a member it counts changes value: a count by one,
    a score or a sum of scores by the difference (a criterion not assessed adds nothing to a sum,
    and its own score is runtime/tally.py's NO_SCORE)."""
    if kind == "factors_present":
        return (after == PRESENT) - (before == PRESENT)
    if kind == "score":
        return score_of(after) - score_of(before)
    if kind == "score_sum":
        return _added(after) - _added(before)
    return (after == kind) - (before == kind)


def _added(value: Union[str, int]) -> int:
    return value if isinstance(value, int) else 0


# --- deciding changed evidence ---------------------------------------------------------------

def changed(evidence: Evidence, changes: tuple[Change, ...]) -> Evidence:
    """The evidence with the changes made and no recorded judgement: the margin is the rules'."""
    findings = dict(evidence.findings)
    factors = dict(evidence.factors)
    for change in (one for change in changes for one in change.findings_changed()):
        if change.item == "finding":
            findings[change.id] = change.after
        else:
            factors[change.id] = change.after == PRESENT
    return replace(evidence, findings=MappingProxyType(findings), factors=MappingProxyType(factors),
                   override_rank=None)


class Outcomes:
    """The rules' outcome of changed evidence, each distinct tally decided once by the engine.

    The tallies of changed evidence are the tallies of the evidence moved by each change (one
    up or down in each quantity counting what changed), so a set of changes whose tallies were
    already decided is not given to the engine again; the engine is given nothing else."""

    def __init__(self, compiled: Compiled, evidence: Evidence, outcome: str):
        plan = compiled.plan
        self.compiled = compiled
        self.evidence = evidence
        self.base = tally(plan, evidence)
        self.kinds = {q.id: q.kind for q in plan.quantities}
        self.counted = counted_items(plan)
        # The evidence itself was decided already: its rules' outcome is the margin's starting point.
        self.decided: dict[tuple[int, ...], str] = {tuple(self.base.values()): outcome}

    def tallies(self, changes: tuple[Change, ...]) -> tuple[int, ...]:
        values = dict(self.base)
        for change in (one for change in changes for one in change.findings_changed()):
            for quantity in self.counted.get((change.item, change.id), ()):
                values[quantity] += _moved(self.kinds[quantity], change.before, change.after)
        return tuple(values.values())

    def of(self, changes: tuple[Change, ...]) -> str:
        key = self.tallies(changes)
        if key not in self.decided:
            evaluation = evaluate(self.compiled, changed(self.evidence, changes))
            # The moves above must be the tally's own, or a tally decided once would stand for another.
            if tuple(evaluation.quantities.values()) != key:
                raise RuntimeError(f"margin: tallies {key} predicted, {tuple(evaluation.quantities.values())} counted")
            self.decided[key] = evaluation.outcome
        return self.decided[key]


def changes_for(classes: tuple[ItemClass, ...], all_ways: tuple[Way, ...], counts: dict[int, int]) -> tuple[Change, ...]:
    """Concrete changes for how many members each way changes (way index -> count): the first
    members of each class, in order, take the ways in order."""
    taken = [0] * len(classes)
    changes = []
    for index, way in enumerate(all_ways):
        cls = classes[way.cls]
        replaced = None if way.replaces is None else classes[way.replaces].members[0]
        for member in cls.members[taken[way.cls]:taken[way.cls] + counts.get(index, 0)]:
            changes.append(Change(cls.item, member, cls.before, way.after, replaced))
        taken[way.cls] += counts.get(index, 0)
        if way.replaces is not None:
            taken[way.replaces] += counts.get(index, 0)
    return tuple(changes)


def groups_hold(plan: Plan, evidence: Evidence, changes: tuple[Change, ...]) -> bool:
    """Whether the changed evidence keeps every exclusive group as validation (E128) requires:
    at most one member met, and with exactly_one one met unless no member is assessed."""
    if not plan.exclusive:
        return True
    findings = dict(evidence.findings)
    for change in (one for change in changes for one in change.findings_changed() if one.item == "finding"):
        findings[change.id] = change.after
    return not any(group_breach(group.exactly_one, [findings.get(member) for member in group.members])
                   for group in plan.exclusive)


# --- single changes --------------------------------------------------------------------------

def single_changes(plan: Plan, evidence: Evidence, outcomes: Outcomes, base: str) -> tuple[SingleChange, ...]:
    """Every change of one changeable finding or factor that keeps the exclusive groups valid
    (a switch counting as one) and changes the outcome: by the outcome it gives, highest level
    first and no grade last, then findings before factors, each in the order the plan first
    counts it (members of a group no quantity counts after the counted findings)."""
    found = []
    met_members = {m: group.id for group in plan.exclusive for m in group.members if evidence.findings.get(m) == "met"}
    met_in = {group: member for member, group in met_members.items()}
    groups = group_of(plan)
    for item, item_id in sorted(changeable_items(plan), key=lambda key: key[0] != "finding"):
        before = current_value(evidence, item, item_id)
        for after in alternatives(item, before, scale_of(plan, item, item_id)):
            replaced = met_in.get(groups.get(item_id)) if item == "finding" and after == "met" else None
            change = Change(item, item_id, before, after, replaced if before == "not_met" else None)
            if not groups_hold(plan, evidence, (change,)):
                continue
            outcome = outcomes.of((change,))
            if outcome != base:
                found.append(SingleChange(change, outcome))
    return tuple(sorted(found, key=lambda single: _place(plan, single.outcome)))


def _place(plan: Plan, outcome: str) -> int:
    """Levels in the scale's order, then the outcomes that are no grade."""
    return len(plan.levels) if outcome in (UNDECIDED, NOT_GRADED) else plan.level(outcome).rank


# --- which way helps ---------------------------------------------------------------------------

@dataclass(frozen=True)
class Target:
    direction: str  # "up" or "down"
    rank: int  # up: a rank at most this (the level or better); down: at least this (the level or worse)

    def reached(self, plan: Plan, outcome: str) -> bool:
        if outcome in (UNDECIDED, NOT_GRADED):
            return False
        rank = plan.level(outcome).rank
        return rank <= self.rank if self.direction == "up" else rank >= self.rank


def polarities(plan: Plan, target: Target) -> dict[str, frozenset[int]]:
    """Condition id -> HELP when the target needs it to hold, HINDER when it needs it to fail,
    both when either can matter; conditions the target does not depend on are left out.

    From the stages (compiler/compile.py), under the best hit policy: the highest level rule that holds gives the grade;
    a floor that holds raises a decided grade below it to its level, and with no grade decided
    only a floor at the top settles it; a cap that holds lowers a decided grade above it, and
    with no grade decided only a cap at the bottom settles it. So "level T or better" needs a
    grade rule at T or above to hold (or any grade rule and a floor at T or above, or a floor
    at the top) and every cap below T to fail; "level D or worse" needs every grade rule and
    floor above D to fail and a grade rule at D or below to hold, or a cap at the bottom to
    hold, or a cap at D or below and any grade rule (or a floor at the top) to hold."""
    top, bottom = 0, plan.lowest.rank
    rules = {stage: [(plan.level(r.conclude).rank, r.when) for r in plan.stage_rules(stage)
                     if r.conclude not in ("pass", "undecided", "override", NOT_GRADED)]
             for stage in ("level", "floor", "cap")}
    signs: dict[str, set[int]] = {}

    def mark(whens, sign: int) -> None:
        for when in whens:
            for cond in when:
                signs.setdefault(cond, set()).add(sign)

    every_grade_rule = [when for _, when in rules["level"]]
    if plan.hit_policy != "best":
        # Under the other policies a grade rule that holds can keep a level from being given
        # (a lower one under worst, an earlier one under first, a second one under unique), so
        # either way of every grade rule's conditions may matter: none is left out.
        mark(every_grade_rule, HELP)
        mark(every_grade_rule, HINDER)
    if target.direction == "up":
        mark([when for rank, when in rules["level"] if rank <= target.rank], HELP)
        floors = [when for rank, when in rules["floor"] if rank <= target.rank]
        if floors:
            mark(floors + every_grade_rule, HELP)
        mark([when for rank, when in rules["cap"] if rank > target.rank], HINDER)
    else:
        mark([when for rank, when in rules["level"] if rank < target.rank], HINDER)
        mark([when for rank, when in rules["level"] if rank >= target.rank], HELP)
        mark([when for rank, when in rules["floor"] if rank < target.rank], HINDER)
        mark([when for rank, when in rules["cap"] if rank >= target.rank], HELP)
        if any(target.rank <= rank < bottom for rank, _ in rules["cap"]):
            mark(every_grade_rule + [when for rank, when in rules["floor"] if rank == top], HELP)
    return {cond: frozenset(s) for cond, s in signs.items()}


def effect(plan: Plan, way: Way, polarity: dict[str, frozenset[int]]) -> frozenset[int]:
    """HELP, HINDER, both or neither: how a way of changing moves the conditions the target
    depends on (a condition moves towards holding when its count moves towards its bound)."""
    moves = dict(way.delta)
    found: set[int] = set()
    for cond in plan.conditions:
        move = moves.get(cond.quantity, 0)
        if move and cond.id in polarity:
            either_way = way.unassessing and plan.quantity(cond.quantity).kind == "score"
            if cond.op == "==" or either_way:  # a count asked for exactly: a move either way can reach it or leave it
                found |= {sign for sign in polarity[cond.id]} | {-sign for sign in polarity[cond.id]}
                continue
            towards_holding = (move > 0) == (cond.op == ">=")
            found |= {sign if towards_holding else -sign for sign in polarity[cond.id]}
    return frozenset(found)


# --- the fewest changes --------------------------------------------------------------------------

@dataclass(frozen=True)
class Search:
    classes: tuple[ItemClass, ...]
    ways: tuple[Way, ...]
    useful: tuple[int, ...]  # indexes of the ways that can help reach the target
    only_help: bool  # every useful way only helps: reaching the target is monotone
    depends_on: tuple[str, ...]  # the quantities of the conditions the target depends on

    def sameness(self, counts: dict[int, int]) -> tuple[int, ...]:
        """How far a set of changes moves each quantity the target depends on: two sets that
        move them alike reach the target alike, so only one of them is decided."""
        moved = dict.fromkeys(self.depends_on, 0)
        for index, count in counts.items():
            for quantity, move in self.ways[index].delta:
                if quantity in moved:
                    moved[quantity] += move * count
        return tuple(moved.values())


def search_for(plan: Plan, classes: tuple[ItemClass, ...], all_ways: tuple[Way, ...], target: Target) -> Search:
    polarity = polarities(plan, target)
    effects = [effect(plan, way, polarity) for way in all_ways]
    # A change inside an exclusive group may be what keeps the group valid: never left out.
    grouped = [classes[way.cls].group is not None for way in all_ways]
    useful = tuple(i for i, e in enumerate(effects) if HELP in e or grouped[i])
    depends_on = tuple(dict.fromkeys(plan.condition(c).quantity for c in polarity))
    only_help = all(effects[i] == {HELP} and not grouped[i] for i in useful)
    return Search(classes, all_ways, useful, only_help, depends_on)


def sets_of_size(search: Search, size: int) -> Iterator[dict[int, int]]:
    """Every way of making `size` changes with the useful ways (way index -> count), no class
    changing more members than it has (a switch takes a member of its class and the group's met
    member), in a fixed order."""
    room = [len(cls.members) for cls in search.classes]

    def fill(position: int, left: int) -> Iterator[dict[int, int]]:
        if position == len(search.useful):
            if left == 0:
                yield {}
            return
        index = search.useful[position]
        way = search.ways[index]
        taken = (way.cls,) if way.replaces is None else (way.cls, way.replaces)
        for count in range(min(left, *(room[cls] for cls in taken)), -1, -1):
            for cls in taken:
                room[cls] -= count
            for rest in fill(position + 1, left - count):
                yield {index: count, **rest} if count else rest
            for cls in taken:
                room[cls] += count

    yield from fill(0, size)


def largest_sets(search: Search) -> Optional[list[dict[int, int]]]:
    """Each way of changing every member of every class a useful way changes, or None when
    there are more than MAX_LARGEST_SETS of them."""
    per_class: dict[int, list[int]] = {}
    for index in search.useful:
        per_class.setdefault(search.ways[index].cls, []).append(index)
    options = [list(_splits(indexes, len(search.classes[cls].members))) for cls, indexes in per_class.items()]
    total = 1
    for choices in options:
        total *= len(choices)
    if total > MAX_LARGEST_SETS:
        return None
    return [{k: v for part in combo for k, v in part.items()} for combo in product(*options)]


def _splits(indexes: list[int], size: int) -> Iterator[dict[int, int]]:
    """Every way of sharing `size` changes among the ways (indexes) of one class."""
    if len(indexes) == 1:
        yield {indexes[0]: size}
        return
    for count in range(size, -1, -1):
        for rest in _splits(indexes[1:], size - count):
            yield {indexes[0]: count, **rest}


def fewest_changes(plan: Plan, search: Search, outcomes: Outcomes, target: Target, limit: int) -> Reach:
    """Sets of changes by increasing size until one reaches the target, leaving out those that
    break an exclusive group. Single changes were all decided already, so they go first; then,
    when only helping changes are left in, the largest sets show whether the target can be
    reached at all."""
    level = plan.level_at(target.rank).id
    falling_short: set[tuple[int, ...]] = set()  # how sets already decided moved the quantities
    tried = 0
    most = sum(len(search.classes[c].members) for c in {search.ways[i].cls for i in search.useful})
    for size in range(1, most + 1):
        if size == 2 and search.only_help and not can_reach(plan, search, outcomes, target):
            return Reach(UNREACHABLE, level)
        for counts in sets_of_size(search, size):
            if size > 1:  # single changes are all decided anyway: the limit is on larger sets
                if tried >= limit:
                    return Reach(BEYOND_LIMIT, level, more_than=size - 1)
                tried += 1
            sameness = search.sameness(counts)
            if sameness in falling_short:
                continue
            changes = changes_for(search.classes, search.ways, counts)
            if not groups_hold(plan, outcomes.evidence, changes):
                continue
            outcome = outcomes.of(changes)
            if target.reached(plan, outcome):
                return Reach(FOUND, level, size, changes, outcome)
            falling_short.add(sameness)
    return Reach(UNREACHABLE, level)


def can_reach(plan: Plan, search: Search, outcomes: Outcomes, target: Target) -> bool:
    """False only when no largest set reaches the target: with only helping changes, every set
    is part of a largest one, which reaches the target if it does. True when there are too many
    largest sets to try (the search then finds out by size)."""
    largest = largest_sets(search)
    return largest is None or any(
        target.reached(plan, outcomes.of(changes_for(search.classes, search.ways, counts))) for counts in largest)


# --- the margin ------------------------------------------------------------------------------

def margin(compiled: Compiled, evidence: Evidence, outcome: str, limit: int = SEARCH_LIMIT) -> Margin:
    """The margin of the rules' outcome (Evaluation.computed) for this evidence."""
    plan = compiled.plan
    classes = item_classes(plan, evidence)
    outcomes = Outcomes(compiled, evidence, outcome)
    single = single_changes(plan, evidence, outcomes, outcome)
    if outcome in (UNDECIDED, NOT_GRADED):
        return Margin(outcome, single, Reach(NO_GRADE), Reach(NO_GRADE), limit)
    all_ways = ways(plan, classes)
    rank = plan.level(outcome).rank

    def towards(direction: str, next_rank: int) -> Reach:
        if next_rank not in {lv.rank for lv in plan.levels}:
            return Reach(NO_LEVEL)
        target = Target(direction, next_rank)
        return fewest_changes(plan, search_for(plan, classes, all_ways, target), outcomes, target, limit)

    return Margin(outcome, single, towards("up", rank - 1), towards("down", rank + 1), limit)
