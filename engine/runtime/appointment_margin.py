"""Margins of appointment decisions, in the shape of an inspection's (runtime/margin.py): the
single changes that would change the outcome, and the fewest changes that would move it one
level up and one level down. Each example is decided by the rules; the oracle
(oracle/appointment_reference.py) works the same figures out from the files' models, and the
tests require the two to agree.

What one change is, for each kind of decision:

- a candidate: one point on one agreed rating. Its levels, highest first: preferred, tied at
  the top, passed every gate below the top, failed a gate. Single changes are the one-point
  variants of any rating in the field (the sensitivity scan's, already decided) that change
  the candidate's level; up and down count points on the candidate's own ratings only, so
  they say how far the candidate's own marks were from another level.
- a hearing: one member's vote for the veto, more (up, towards a veto; at most every member
  present) or fewer (down).
- a compliance check: one requirement's result, met or not met (up is towards compliant).
- an appointment pack: one of its checks concluding the other way, or the hearing's outcome
  the other way; its levels, highest first: holds, vetoed, does not hold (`pack_margin`).

How the fewest changes are found. For a hearing, by trying one vote more (or fewer) at a time,
each count decided by the rules, until the outcome changes. For a compliance check, the rules'
overall stage is asked about the requirements' results with the failed ones met (up) or the
first met one failed (down). For a pack, every subset of its four items flipped is asked of
the rules' overall stage, by size. For a candidate, from what the rules concluded about its cells:

- up from failing: every `cell:below` conclusion must go, and one point at a time a cell
  below its gate's threshold needs threshold - rating points; the example raises each such
  cell to the highest threshold it fell below;
- up from passing below the top: the total must reach the top passer's, and each point adds
  one to it, so the fewest is the difference, placed on cells with room below the scale's
  highest value; up from a tie: one point more than the others at the top;
- down from preferred: either a `cell:meets` conclusion turns to `cell:below` (rating -
  threshold + 1 points on one cell), or the total falls to the runner-up's among the passers,
  whichever takes fewer points; down from a tie: one point off the total; down from passing:
  one cell below its threshold.

For a pair-table candidate a change is one point on one individual rating, and its levels
are preferred, tied, passed, pending (a tiebreaker or discussion to come) and failed. From the
category rules' firings the margin knows each cell's two ratings and category; for each cell
and category, the fewest points that bring the cell's pair to a row of that category (either
assessor's rating moved, in either order) is arithmetic on the table. A resolution stands for
the pair it resolved only: that pair puts the cell in the settled category, and every other
pair (any move of either rating, unless it comes back to the same two ratings) in the table's,
so moving a settled cell's rating may make it wait again. Then:

- up from failing: every failing cell into a category that does not fail; up from pending:
  every cell into a passing category;
- up from passing below the top (tied: one more): every cell passing, and as many cells in the
  ranking categories as the top passer's count; the cheapest such choice is found cell by cell
  (a table of the fewest points for each count of ranking cells); while another candidate is
  pending, the outcome waits, and no change to the candidate's own cells moves it up;
- down: one cell into a category that does not pass (from pending: one that fails), or, from
  preferred or tied, the count of ranking cells taken down to the runner-up's (one below it
  from a tie), whichever takes fewer points.

While a stage is still to fill (the outcome incomplete), a candidate's margin is over the
cells held only, and its unit says so: its level is passed, failed or pending on those cells,
down counts the points that fail (or leave pending) a cell held, up from failing or pending
the points that pass every cell held, and up from passing is unreachable, since no change to
the cells held decides the outcome before the other stages are in. The sensitivity scan moves
the ratings held only.

Those counts are arithmetic on the values the rules matched (ratings, thresholds, totals), not a
decision: each example is then given to the rules, whose conclusion is the example's outcome,
and the margin is refused if it does not reach the target.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from itertools import combinations
from typing import Any, Callable, Optional

from ..compiler.compile import Compiled
from ..compiler.compliance import CompliancePlan
from ..compiler.pack import PackPlan
from ..compiler.selection import PairSpec, SelectionPlan
from ..language.appointment_models import Appointment, Hearing
from . import hearing as hearing_runtime
from .compliance import ComplianceEvaluation, requirement_results
from .margin import FOUND, NO_LEVEL, UNREACHABLE, Change, Reach, SingleChange
from .pack import PackEvaluation, PackInputs, check_results
from .selection import RESOLUTIONS, SelectionDecision, SelectionEvaluation, evaluate

# A candidate's levels, highest first.
STANDINGS = ("preferred", "tied", "passed", "failed")
PAIR_STANDINGS = ("preferred", "tied", "passed", "pending", "failed")  # a pair table's
RATING_UNIT = "one point on one agreed rating; up and down move the candidate's own ratings only"
INDIVIDUAL_UNIT = "one point on one individual rating; up and down move the candidate's own ratings only"
# While a stage is still to fill, the margin is over the cells held, and says so: no change to
# them makes anyone preferred or tied, as the outcome waits for the stages to come.
HELD_ONLY = ("; over the stages held only (the outcome is incomplete, so no change to them reaches preferred or "
             "tied)")
VOTE_UNIT = "one member's vote for the veto"
REQUIREMENT_UNIT = "one requirement's result, met or not met"


@dataclass(frozen=True)
class AppointmentMargin:
    unit: str
    outcome: str
    single: tuple[SingleChange, ...]
    up: Reach
    down: Reach


class MarginError(RuntimeError):
    """An example the rules do not decide as the search said they would: a bug, never input."""


# --- candidates --------------------------------------------------------------------------

def standing(evaluation: SelectionEvaluation, candidate: str) -> str:
    if candidate in evaluation.pending:
        return "pending"
    if not evaluation.passed[candidate]:
        return "failed"
    if evaluation.preferred == candidate:
        return "preferred"
    return "tied" if candidate in evaluation.tied else "passed"


def candidate_margins(compiled: Compiled, appt: Appointment, decided: SelectionDecision) -> dict[str, AppointmentMargin]:
    return {t.candidate: candidate_margin(compiled, appt, decided, t.candidate) for t in decided.evaluation.tallies}


def candidate_margin(compiled: Compiled, appt: Appointment, decided: SelectionDecision,
                     candidate: str) -> AppointmentMargin:
    if compiled.plan.pair_table is not None:  # type: ignore[attr-defined]
        return pair_candidate_margin(compiled, appt, decided, candidate)
    base = decided.evaluation
    level = standing(base, candidate)
    after = ((v, standing(v.evaluation, candidate)) for v in decided.variants)
    single = tuple(sorted((SingleChange(Change("rating", f"{v.candidate}/{v.exercise}/{v.area}", v.before, v.after),
                                        moved) for v, moved in after if moved != level),
                          key=lambda s: STANDINGS.index(s.outcome)))
    cells = _Cells(compiled, appt, base, candidate)
    return AppointmentMargin(unit_for(RATING_UNIT, base), level, single, _reach(cells, level, "up"),
                             _reach(cells, level, "down"))


def unit_for(unit: str, base: SelectionEvaluation) -> str:
    """The unit of a candidate's margin, marked as over the stages held while the outcome is incomplete."""
    return unit + HELD_ONLY if base.outcome == "incomplete" else unit


class _Cells:
    """A candidate's own scored cells as the rules matched them: rating and thresholds."""

    def __init__(self, compiled: Compiled, appt: Appointment, base: SelectionEvaluation, candidate: str):
        plan: SelectionPlan = compiled.plan  # type: ignore[assignment]
        self.compiled, self.appt, self.base, self.candidate = compiled, appt, base, candidate
        self.order = list(plan.cells)
        values = [v for v, _ in plan.ratings]
        self.lowest, self.highest = min(values), max(values)
        self.rating: dict[tuple[str, str], int] = {}
        self.below: dict[tuple[str, str], int] = {}  # cell -> the highest threshold it fell below
        self.meets: dict[tuple[str, str], int] = {}  # cell -> the highest threshold it met
        for firing in base.firings:
            if firing.rule.startswith("cell:") and firing.matched["c"]["cand"] == candidate:
                cell = (firing.matched["c"]["exercise"], firing.matched["c"]["area"])
                self.rating[cell] = firing.matched["c"]["rating"]
                found = self.below if firing.rule == "cell:below" else self.meets
                found[cell] = max(found.get(cell, firing.matched["g"]["threshold"]), firing.matched["g"]["threshold"])
        self.order = [cell for cell in self.order if cell in self.rating]  # the cells held, in the plan's order
        self.total = next(t.total for t in base.tallies if t.candidate == candidate)

    def outcome_of(self, moves: dict[tuple[str, str], int]) -> str:
        """The rules' level for the candidate with these cells set to these ratings."""
        ratings = tuple(r.model_copy(update={"agreed": moves[(r.exercise, r.area)]})
                        if r.candidate == self.candidate and (r.exercise, r.area) in moves else r
                        for r in self.appt.ratings)
        return standing(evaluate(self.compiled, self.appt.model_copy(update={"ratings": ratings})), self.candidate)

    def spread(self, points: int, direction: int) -> Optional[dict[tuple[str, str], int]]:
        """`points` points added (direction 1) or taken (-1) across the cells in plan order, each
        as far as the scale allows; None when the cells have too little room."""
        moves = {}
        for cell in self.order:
            if points == 0:
                break
            room = self.highest - self.rating[cell] if direction > 0 else self.rating[cell] - self.lowest
            step = min(room, points)
            if step:
                moves[cell] = self.rating[cell] + direction * step
                points -= step
        return moves if points == 0 else None

    def fail_one(self) -> Optional[dict[tuple[str, str], int]]:
        """The cheapest single cell to take below the highest threshold it meets, if any can go."""
        options = [(self.rating[c] - t + 1, i, c) for i, c in enumerate(self.order)
                   if (t := self.meets.get(c)) is not None and t - 1 >= self.lowest]
        if not options:
            return None
        _, _, cell = min(options)
        return {cell: self.meets[cell] - 1}

    def others_top(self) -> Optional[int]:
        """The highest total among the other candidates who passed."""
        totals = [t.total for t in self.base.tallies if t.candidate != self.candidate and self.base.passed[t.candidate]]
        return max(totals, default=None)

    def changes(self, moves: dict[tuple[str, str], int]) -> tuple[Change, ...]:
        return tuple(Change("rating", f"{self.candidate}/{ex}/{area}", self.rating[(ex, area)], value)
                     for (ex, area), value in sorted(moves.items(), key=lambda kv: self.order.index(kv[0])))

    def points(self, moves: dict[tuple[str, str], int]) -> int:
        return sum(abs(value - self.rating[cell]) for cell, value in moves.items())


def _reach(cells: _Cells, level: str, direction: str) -> Reach:
    return _reach_next(STANDINGS, cells, level, direction, _up_moves if direction == "up" else _down_moves)


def _reach_next(standings: tuple[str, ...], cells: Any, level: str, direction: str,
                moves_for: Callable[[Any, str], Optional[dict]]) -> Reach:
    """The next level up or down the standings: the moves found, decided by the rules, and
    refused (an internal error) if the rules do not reach it."""
    rank = standings.index(level)
    target_rank = rank - 1 if direction == "up" else rank + 1
    if not 0 <= target_rank < len(standings):
        return Reach(NO_LEVEL)
    target = standings[target_rank]
    moves = moves_for(cells, level)
    if not moves:
        return Reach(UNREACHABLE, target)
    outcome = cells.outcome_of(moves)
    got = standings.index(outcome)
    if not (got <= target_rank if direction == "up" else got >= target_rank):
        raise MarginError(f"margin: {cells.candidate} {direction} with {moves} gives {outcome}, not {target}")
    return Reach(FOUND, target, cells.points(moves), cells.changes(moves), outcome)


def _up_moves(cells: _Cells, level: str) -> Optional[dict[tuple[str, str], int]]:
    if level == "passed" and cells.base.outcome == "incomplete":  # the outcome waits for the stages to come
        return None
    if level == "failed":
        if any(t > cells.highest for t in cells.below.values()):
            return None
        return dict(cells.below)
    top = cells.others_top()
    # passing below the top: reach the top total; tied: one point past it
    return cells.spread(top - cells.total + (1 if level == "tied" else 0), 1)


def _down_moves(cells: _Cells, level: str) -> Optional[dict[tuple[str, str], int]]:
    fail = cells.fail_one()
    if level == "passed":
        return fail
    if level == "tied":
        lower = cells.spread(1, -1)
        return lower if lower is not None else fail
    runner_up = cells.others_top()
    lower = None if runner_up is None else cells.spread(cells.total - runner_up, -1)
    options = [m for m in (fail, lower) if m is not None]
    return min(options, key=cells.points) if options else None


# --- pair-table candidates --------------------------------------------------------------------

INFINITE = float("inf")
Moves = dict[tuple[str, str], dict[str, int]]  # cell -> its two individual ratings, by member


class _PairCells:
    """A candidate's own cells as the category rules matched them: who rated what, and the
    fewest points that bring each cell into each category."""

    def __init__(self, compiled: Compiled, appt: Appointment, base: SelectionEvaluation, candidate: str):
        plan: SelectionPlan = compiled.plan  # type: ignore[assignment]
        assert plan.pair_table is not None
        self.compiled, self.appt, self.base, self.candidate = compiled, appt, base, candidate
        self.table, self.order = plan.pair_table, list(plan.cells)
        self.ratings: dict[tuple[str, str], dict[str, int]] = {}
        self.resolved: dict[tuple[str, str], tuple[tuple[int, int], str]] = {}  # cell -> (pair resolved, category)
        for firing in base.firings:
            cell, resolution = firing.matched.get("c", {}), firing.matched.get("r", {})
            if firing.rule.startswith("pair:") and cell["cand"] == candidate:
                self.ratings[(cell["exercise"], cell["area"])] = {cell["low_by"]: cell["low"], cell["high_by"]: cell["high"]}
            if firing.rule.startswith("resolution:") and resolution["cand"] == candidate:
                self.resolved[(resolution["exercise"], resolution["area"])] = (
                    (resolution["low"], resolution["high"]), resolution["category"])
        self.order = [cell for cell in self.order if cell in self.ratings]  # the cells held, in the plan's order
        counts = [t for t in base.tallies if t.candidate != candidate and base.passed[t.candidate]]
        self.others_top = max((t.total for t in counts), default=None)
        self.others_pending = any(c != candidate for c in base.pending)

    def kind(self, category: str) -> str:
        return self.table.category(category).result

    def category_of(self, cell: tuple[str, str], pair: PairSpec) -> str:
        """Where the pair puts the cell: the settled category when it is the pair a resolution
        of the cell resolved (and needs resolving), else the table's."""
        resolved, settled = self.resolved.get(cell, (None, None))
        if resolved == (pair.low, pair.high) and self.kind(pair.category) in RESOLUTIONS:
            return settled
        return pair.category

    def to_category(self, cell: tuple[str, str], categories: set[str]) -> tuple[float, dict[str, int]]:
        """The fewest points, and the ratings they give, that put the cell in one of the categories."""
        (m1, r1), (m2, r2) = sorted(self.ratings[cell].items())
        best: tuple[float, dict[str, int]] = (INFINITE, {})
        for pair in self.table.pairs:
            if self.category_of(cell, pair) in categories:
                for a, b in ((pair.low, pair.high), (pair.high, pair.low)):
                    cost = abs(a - r1) + abs(b - r2)
                    if cost < best[0]:
                        best = (cost, {m1: a, m2: b})
        return best

    def categories(self, *kinds: str, ranked: Optional[bool] = None) -> set[str]:
        return {c.id for c in self.table.categories
                if c.result in kinds and (ranked is None or (c.id in self.table.rank_by) == ranked)}

    def one_cell(self, categories: set[str]) -> Optional[Moves]:
        """The cheapest single cell moved into one of the categories (cells in plan order break ties)."""
        options = [(cost, i, cell, moved) for i, cell in enumerate(self.order)
                   for cost, moved in [self.to_category(cell, categories)] if cost < INFINITE]
        if not options:
            return None
        cost, _, cell, moved = min(options, key=lambda o: o[:2])
        return {cell: moved} if cost else None

    def every_cell(self, categories: set[str]) -> Optional[Moves]:
        """Every cell brought into one of the categories, each the cheapest way."""
        moves = {}
        for cell in self.order:
            cost, moved = self.to_category(cell, categories)
            if cost == INFINITE:
                return None
            if cost:
                moves[cell] = moved
        return moves

    def ranked_count(self, low: int, high: int) -> Optional[Moves]:
        """Every cell passing, with between low and high of them in the ranking categories: the
        cheapest such choice, by a table of the fewest points for each count so far."""
        ranked, plain = self.categories("pass", ranked=True), self.categories("pass", ranked=False)
        best: dict[int, tuple[float, Moves]] = {0: (0, {})}
        for cell in self.order:
            step: dict[int, tuple[float, Moves]] = {}
            for count, (cost, moves) in best.items():
                for extra, categories in ((1, ranked), (0, plain)):
                    more, moved = self.to_category(cell, categories)
                    option = (cost + more, {**moves, **({cell: moved} if more else {})})
                    if more < INFINITE and option[0] < step.get(count + extra, (INFINITE,))[0]:
                        step[count + extra] = option
            best = step
        options = [(cost, count) for count, (cost, _) in best.items() if low <= count <= high]
        if not options:
            return None
        return best[min(options)[1]][1]

    def outcome_of(self, moves: Moves) -> str:
        ratings = tuple(r.model_copy(update={"individual": moves[(r.exercise, r.area)]})
                        if r.candidate == self.candidate and (r.exercise, r.area) in moves else r
                        for r in self.appt.ratings)
        return standing(evaluate(self.compiled, self.appt.model_copy(update={"ratings": ratings})), self.candidate)

    def changes(self, moves: Moves) -> tuple[Change, ...]:
        return tuple(Change("rating", f"{self.candidate}/{ex}/{area}/{member}", self.ratings[(ex, area)][member], value)
                     for (ex, area) in sorted(moves, key=self.order.index)
                     for member, value in sorted(moves[(ex, area)].items())
                     if value != self.ratings[(ex, area)][member])

    def points(self, moves: Moves) -> int:
        return sum(abs(value - self.ratings[cell][member]) for cell, moved in moves.items()
                   for member, value in moved.items())


def pair_candidate_margin(compiled: Compiled, appt: Appointment, decided: SelectionDecision,
                          candidate: str) -> AppointmentMargin:
    base = decided.evaluation
    level = standing(base, candidate)
    after = ((v, standing(v.evaluation, candidate)) for v in decided.variants)
    single = tuple(sorted((SingleChange(Change("rating", f"{v.candidate}/{v.exercise}/{v.area}/{v.member}", v.before,
                                               v.after), moved) for v, moved in after if moved != level),
                          key=lambda s: PAIR_STANDINGS.index(s.outcome)))
    cells = _PairCells(compiled, appt, base, candidate)
    return AppointmentMargin(unit_for(INDIVIDUAL_UNIT, base), level, single, _pair_reach(cells, level, "up"),
                             _pair_reach(cells, level, "down"))


def _pair_reach(cells: _PairCells, level: str, direction: str) -> Reach:
    return _reach_next(PAIR_STANDINGS, cells, level, direction, _pair_up if direction == "up" else _pair_down)


def _pair_up(cells: _PairCells, level: str) -> Optional[Moves]:
    if level == "failed":
        return cells.every_cell(cells.categories("pass", "tiebreaker", "discuss"))
    if level == "pending":
        return cells.every_cell(cells.categories("pass"))
    if cells.others_pending or cells.others_top is None or cells.base.outcome == "incomplete":
        return None  # the outcome waits (for a resolution, or the stages to come); or nobody else passes
    need = cells.others_top + (1 if level == "tied" else 0)
    return cells.ranked_count(need, len(cells.order))


def _pair_down(cells: _PairCells, level: str) -> Optional[Moves]:
    if level == "pending":
        return cells.one_cell(cells.categories("fail"))
    unsettled = cells.one_cell(cells.categories("fail", "tiebreaker", "discuss"))
    if level == "passed" or cells.others_top is None:
        return unsettled
    fewer = cells.ranked_count(0, cells.others_top - (1 if level == "tied" else 0))
    options = [m for m in (unsettled, fewer) if m]
    return min(options, key=cells.points) if options else None


# --- the hearing -------------------------------------------------------------------------

def hearing_margin(compiled: Compiled, hearing: Hearing, outcome: str) -> AppointmentMargin:
    """One vote at a time, each count decided by the rules, up to every member present (every
    member, when the record does not say how many were present) or down to none."""
    votes = hearing.votes_for_veto
    most = hearing.present if hearing.present is not None else hearing.members

    def decided(count: int) -> str:
        return hearing_runtime.evaluate(compiled, hearing.model_copy(update={"votes_for_veto": count})).outcome

    single = tuple(SingleChange(Change("votes", "votes_for_veto", votes, count), moved)
                   for count in (votes - 1, votes + 1) if 0 <= count <= most
                   if (moved := decided(count)) != outcome)

    def towards(target: str, counts: range) -> Reach:
        if outcome == target:
            return Reach(NO_LEVEL)
        for count in counts:
            if decided(count) == target:
                return Reach(FOUND, target, abs(count - votes), (Change("votes", "votes_for_veto", votes, count),), target)
        return Reach(UNREACHABLE, target)

    return AppointmentMargin(VOTE_UNIT, outcome, single, towards("veto", range(votes + 1, most + 1)),
                             towards("no_veto", range(votes - 1, -1, -1)))


# --- compliance --------------------------------------------------------------------------

def compliance_margin(compiled: Compiled, evaluation: ComplianceEvaluation) -> AppointmentMargin:
    """Requirements' results changed and the rules' overall stage asked again."""
    plan: CompliancePlan = compiled.plan  # type: ignore[assignment]
    passed = evaluation.passed
    order = [spec.id for spec in plan.requirements]

    def flipped(*ids: str) -> tuple[Change, ...]:
        return tuple(Change("requirement", i, _met(passed[i]), _met(not passed[i])) for i in ids)

    def decided(changes: tuple[Change, ...]) -> str:
        results = dict(passed)
        results.update({c.id: c.after == "met" for c in changes})
        return requirement_results(compiled, results)

    single = tuple(SingleChange(c, outcome) for i in order
                   for c in flipped(i) if (outcome := decided((c,))) != evaluation.outcome)
    failed = [i for i in order if not passed[i]]
    met = [i for i in order if passed[i]]

    def towards(target: str, changes: tuple[Change, ...]) -> Reach:
        if evaluation.outcome == target:
            return Reach(NO_LEVEL)
        if not changes:
            return Reach(UNREACHABLE, target)
        outcome = decided(changes)
        if outcome != target:
            raise MarginError(f"margin: {changes} gives {outcome}, not {target}")
        return Reach(FOUND, target, len(changes), changes, outcome)

    return AppointmentMargin(REQUIREMENT_UNIT, evaluation.outcome, single, towards("compliant", flipped(*failed)),
                             towards("not_compliant", flipped(*met[:1])))


def _met(value: bool) -> str:
    return "met" if value else "not_met"


def outcome_changes(decided: SelectionDecision) -> tuple[tuple[Change, SelectionEvaluation], ...]:
    """The one-point variants that change the selection's outcome (who is preferred, who ties,
    or that nobody is appointable), each with the rules' evaluation of it."""
    base = decided.evaluation
    return tuple((Change("rating", "/".join(filter(None, (v.candidate, v.exercise, v.area, v.member))), v.before,
                         v.after), v.evaluation)
                 for v in decided.variants
                 if (v.evaluation.outcome, v.evaluation.preferred, v.evaluation.tied, v.evaluation.pending)
                 != (base.outcome, base.preferred, base.tied, base.pending))


# --- the appointment pack ----------------------------------------------------------------

# The pack's levels, highest first: holding, holding but vetoed (every check passes, as for
# holds, and the Panel vetoed), not holding (a check fails).
PACK_LEVELS = ("holds", "vetoed", "does_not_hold")
PACK_UNIT = "one of the pack's checks concluding the other way, or the hearing's outcome the other way"
HEARING_OUTCOME = "hearing_outcome"


def pack_margin(compiled: Compiled, evaluation: PackEvaluation, inputs: PackInputs) -> AppointmentMargin:
    """The pack's checks and the hearing's outcome flipped, each combination decided by the
    rules' overall stage (runtime/pack.check_results).

    The levels are ordered holds > vetoed > does_not_hold, and up and down mean what they mean
    for a candidate: the fewest flips that move the pack to the next level that way or beyond
    it. From vetoed, up is to holds and down to does_not_hold; from holds, down counts the flips
    that reach vetoed or does_not_hold; from does_not_hold, up counts the flips that reach
    vetoed or holds. The fewest are found by trying every subset of the four items by size,
    and the example is the first subset of that size, items in plan order (checks, then the
    hearing's outcome). Single changes name the outcome of each flip alone, so a level one flip
    reaches is always shown, the middle one included."""
    plan: PackPlan = compiled.plan  # type: ignore[assignment]
    passed = evaluation.passed
    items = [Change("check", c.id, _holds(passed[c.id]), _holds(not passed[c.id])) for c in plan.checks]
    items.append(Change("hearing_outcome", HEARING_OUTCOME, inputs.hearing_outcome, _other_hearing(inputs.hearing_outcome)))

    def decided(changes: tuple[Change, ...]) -> str:
        results = dict(passed)
        results.update({c.id: c.after == "holds" for c in changes if c.item == "check"})
        hearing = next((c.after for c in changes if c.item == "hearing_outcome"), inputs.hearing_outcome)
        return check_results(compiled, replace(inputs, hearing_outcome=hearing), results)

    outcomes = {changes: decided(changes) for size in range(1, len(items) + 1)
                for changes in combinations(items, size)}
    single = tuple(SingleChange(item, outcomes[(item,)]) for item in items if outcomes[(item,)] != evaluation.outcome)
    return AppointmentMargin(PACK_UNIT, evaluation.outcome, single, _pack_reach(evaluation.outcome, outcomes, "up"),
                             _pack_reach(evaluation.outcome, outcomes, "down"))


def _pack_reach(outcome: str, outcomes: dict[tuple[Change, ...], str], direction: str) -> Reach:
    """The fewest flips that reach the next level `direction` or beyond it (dicts keep the
    subsets in order of size, then plan order)."""
    rank = PACK_LEVELS.index(outcome)
    target_rank = rank - 1 if direction == "up" else rank + 1
    if not 0 <= target_rank < len(PACK_LEVELS):
        return Reach(NO_LEVEL)
    reached = (PACK_LEVELS.index(got) <= target_rank if direction == "up" else PACK_LEVELS.index(got) >= target_rank
               for got in outcomes.values())
    for (changes, got), reaches in zip(outcomes.items(), reached):
        if reaches:
            return Reach(FOUND, PACK_LEVELS[target_rank], len(changes), changes, got)
    return Reach(UNREACHABLE, PACK_LEVELS[target_rank])


def _holds(value: bool) -> str:
    return "holds" if value else "fails"


def _other_hearing(outcome: str) -> str:
    return "no_veto" if outcome == "veto" else "veto"
