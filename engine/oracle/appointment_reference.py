"""The oracle for appointments: the published rules applied directly, in plain Python.

It reads the files' models, not the compiled plans or tallies, so it checks the whole
path from evidence to decision. Its arithmetic is the rules' own: a veto is a fraction of
the members compared with the rule's fraction, a salary variation a ratio compared with
its allowance, both as exact fractions, where the durable-rules path compares whole
numbers scaled for its rules. Tests require the two to agree.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from fractions import Fraction
from typing import Optional

from ..language.appointment_models import (Appointment, ComplianceFramework, ComplianceRecord, Hearing, PairRow,
                                           PanelRulesFile, Rating, Requirement, Resolution, Scoring, SelectionProcess,
                                           pair_table)


@dataclass(frozen=True)
class SelectionAnswer:
    passed: dict[str, bool]
    totals: dict[str, int]
    ranks: dict[str, Optional[int]]  # competition ranking (1, 2, 2, 4) among those who passed; None for the rest
    outcome: str
    preferred: Optional[str]
    tied: tuple[str, ...]
    pending: tuple[str, ...] = ()  # a pair table's: candidates waiting for a tiebreaker or discussion


def written_in(rating: Rating) -> bool:
    """Whether anything of the cell is written: a rating, a rationale or a resolution."""
    return (rating.agreed is not None or any(v is not None for v in rating.individual.values())
            or bool((rating.rationale or "").strip()) or rating.resolution is not None)


def exercises_held(process: SelectionProcess, appt: Appointment) -> tuple[set[str], bool]:
    """The scored exercises the panel has finished (their stage, the exercises sharing its name
    or the exercise alone, written in every cell for every candidate), and whether every stage is."""
    by_stage: dict[str, list] = {}
    for exercise in process.exercises:
        if exercise.scored:
            by_stage.setdefault(exercise.stage or exercise.id, []).append(exercise)
    written = {(r.candidate, r.exercise, r.area) for r in appt.ratings if written_in(r)}
    held, every = set(), True
    for exercises in by_stage.values():
        if all((c.id, e.id, area) in written for c in appt.candidates for e in exercises for area in e.assesses):
            held |= {e.id for e in exercises}
        else:
            every = False
    return held, every


def selection(process: SelectionProcess, appt: Appointment) -> SelectionAnswer:
    """Gates and totals on the exercises held; nothing is decided until every stage is in."""
    table = pair_table(process)
    if table is not None:
        return pair_selection(process, table, appt)
    scored, every_stage = exercises_held(process, appt)
    lowest_allowed = max(g.every_rating_at_least for g in process.gates)
    passed: dict[str, bool] = {}
    totals: dict[str, int] = {}
    for cand in sorted(c.id for c in appt.candidates):
        mine = [r.agreed for r in appt.ratings if r.candidate == cand and r.exercise in scored]
        passed[cand] = all(score >= lowest_allowed for score in mine)
        totals[cand] = sum(mine)
    ranks = competition_ranks({c: totals[c] for c in passed if passed[c]})
    best = max((totals[c] for c in passed if passed[c]), default=None)
    leaders = tuple(c for c in passed if passed[c] and totals[c] == best)
    ranked = {c: ranks.get(c) for c in passed}
    if not every_stage:
        return SelectionAnswer(passed, totals, ranked, "incomplete", None, ())
    if not leaders:
        return SelectionAnswer(passed, totals, ranked, "no_appointable_candidate", None, ())
    if len(leaders) == 1:
        return SelectionAnswer(passed, totals, ranked, "preferred", leaders[0], ())
    return SelectionAnswer(passed, totals, ranked, "tie", None, leaders)


# --- pair tables: two assessors' ratings mapped by the published table ----------------------

def category_of(table: Scoring, ratings: list[int]):
    """The category of the one row whose pair is these two ratings, in either order."""
    row = next(r for r in table.table if sorted(r.ratings) == sorted(ratings))
    return next(c for c in table.categories if c.id == row.category)


def row_category(table: Scoring, row: PairRow, resolution: Optional[Resolution]) -> str:
    """The category a table row gives a cell: the one a recorded resolution settled on, when the
    row is the pair it resolved and the table sends that pair to a tiebreaker or discussion;
    otherwise the row's own."""
    needs = next(c for c in table.categories if c.id == row.category).resolution
    if resolution is not None and needs and sorted(resolution.pair) == sorted(row.ratings):
        return resolution.category
    return row.category


def cell_category(table: Scoring, rating: Rating):
    """A cell's category: its pair's row, read with the cell's resolution, if any."""
    given = sorted(v for v in rating.individual.values() if v is not None)
    row = next(r for r in table.table if sorted(r.ratings) == given)
    settled = row_category(table, row, rating.resolution)
    return next(c for c in table.categories if c.id == settled)


def pair_results(process: SelectionProcess, table: Scoring, appt: Appointment) -> tuple[dict[str, str], dict[str, int]]:
    """Each candidate's result (fail on any failing cell; else pending on any cell to resolve;
    else pass) and its count of cells in the ranking categories, on the exercises held."""
    scored, _ = exercises_held(process, appt)
    results, counts = {}, {}
    for cand in sorted(c.id for c in appt.candidates):
        categories = [cell_category(table, r) for r in appt.ratings if r.candidate == cand and r.exercise in scored]
        if any(c.passes is False for c in categories):
            results[cand] = "fail"
        elif any(c.resolution for c in categories):
            results[cand] = "pending"
        else:
            results[cand] = "pass"
        counts[cand] = sum(1 for c in categories if c.id in table.rank_by)
    return results, counts


def pair_selection(process: SelectionProcess, table: Scoring, appt: Appointment) -> SelectionAnswer:
    """The outcome waits while any candidate is pending; otherwise the passer with the most
    cells in the ranking categories is preferred, and equal counts at the top tie."""
    results, counts = pair_results(process, table, appt)
    passed = {c: r == "pass" for c, r in results.items()}
    ranked = {c: competition_ranks({p: counts[p] for p in passed if passed[p]}).get(c) for c in passed}
    pending = tuple(c for c, r in results.items() if r == "pending")
    best = max((counts[c] for c in passed if passed[c]), default=None)
    leaders = tuple(c for c in passed if passed[c] and counts[c] == best)
    if not exercises_held(process, appt)[1]:
        return SelectionAnswer(passed, counts, ranked, "incomplete", None, (), pending)
    if pending:
        return SelectionAnswer(passed, counts, ranked, "resolution_required", None, (), pending)
    if not leaders:
        return SelectionAnswer(passed, counts, ranked, "no_appointable_candidate", None, ())
    if len(leaders) == 1:
        return SelectionAnswer(passed, counts, ranked, "preferred", leaders[0], ())
    return SelectionAnswer(passed, counts, ranked, "tie", None, leaders)


def competition_ranks(totals: dict[str, int]) -> dict[str, int]:
    """Equal totals share a rank and the next rank skips past them: 1, 2, 2, 4."""
    highest_first = sorted(totals.values(), reverse=True)
    return {cand: highest_first.index(total) + 1 for cand, total in totals.items()}


@dataclass(frozen=True)
class HearingAnswer:
    outcome: str  # veto | no_veto
    votes_needed: int  # the fewest votes that are at least the rule's fraction of the members


def hearing(rules: PanelRulesFile, record: Hearing) -> HearingAnswer:
    """A veto needs at least the rule's fraction of the Panel's members (never of those present)."""
    fraction = Fraction(rules.veto.at_least.numerator, rules.veto.at_least.denominator)
    vetoed = Fraction(record.votes_for_veto, record.members) >= fraction
    needed = next(votes for votes in range(record.members + 1) if Fraction(votes, record.members) >= fraction)
    return HearingAnswer("veto" if vetoed else "no_veto", needed)


def compliance(framework: ComplianceFramework, record: ComplianceRecord) -> dict[str, bool]:
    """Whether each requirement is met, by its id."""
    return {requirement.id: requirement_met(requirement, record) for requirement in framework.requirements}


def requirement_applies(requirement: Requirement, record: ComplianceRecord) -> bool:
    """A requirement with a condition applies only where the condition holds."""
    when = requirement.applies_when
    if when is None:
        return True
    if when.differ is not None or when.equal is not None:
        a, b = (record.numbers[name] for name in (when.differ or when.equal))
        return (a != b) if when.differ is not None else (a == b)
    flag = record.flags[when.is_true if when.is_true is not None else when.is_false]
    return flag is True if when.is_true is not None else flag is False


def requirement_met(requirement: Requirement, record: ComplianceRecord) -> bool:
    """Met, or does not apply."""
    if not requirement_applies(requirement, record):
        return True
    test = requirement.test
    if test == "days_between":
        start, end = (datetime.date.fromisoformat(record.dates[name]) for name in requirement.days_between)
        return within_bounds((end - start).days, requirement)
    if test == "ratio":
        value, base = (record.numbers[name] for name in requirement.ratio)
        allowed = Fraction(requirement.within.numerator, requirement.within.denominator)
        # value/base within the allowance either way of 1; a ratio to nothing is no ratio at all
        return base != 0 and abs(Fraction(value, base) - 1) <= allowed
    if test == "value":
        return within_bounds(record.numbers[requirement.value], requirement)
    if test == "is_true":
        return record.flags[requirement.is_true] is True
    return set(requirement.items) <= set(record.lists[requirement.contains_all])


def within_bounds(measured: int, requirement: Requirement) -> bool:
    """Every bound the requirement writes holds (at_least, at_most, or both)."""
    return ((requirement.at_least is None or measured >= requirement.at_least)
            and (requirement.at_most is None or measured <= requirement.at_most))


# --- margins ---------------------------------------------------------------------------------
# The fewest changes to another level, reasoned from the published rules: a candidate passes
# when every scored rating is at least the highest gate's threshold, and is preferred when it
# alone has the top total among those who pass.

STANDINGS = ("preferred", "tied", "passed", "failed")  # highest first


@dataclass(frozen=True)
class Distance:
    status: str  # found | unreachable | no_level
    fewest: Optional[int] = None


@dataclass(frozen=True)
class MarginAnswer:
    outcome: str
    up: Distance
    down: Distance


def standing(answer: SelectionAnswer, candidate: str) -> str:
    if candidate in answer.pending:
        return "pending"
    if not answer.passed[candidate]:
        return "failed"
    if answer.preferred == candidate:
        return "preferred"
    return "tied" if candidate in answer.tied else "passed"


def candidate_margin(process: SelectionProcess, scale_values: list[int], appt: Appointment,
                     candidate: str) -> MarginAnswer:
    """Points on the candidate's own agreed ratings (scored exercises) to the next level up and down."""
    if pair_table(process) is not None:
        return pair_candidate_margin(process, appt, candidate)
    answer = selection(process, appt)
    level = standing(answer, candidate)
    scored, _ = exercises_held(process, appt)
    mine = [r.agreed for r in appt.ratings if r.candidate == candidate and r.exercise in scored]
    low, high = min(scale_values), max(scale_values)
    must = max(g.every_rating_at_least for g in process.gates)
    others = [answer.totals[c] for c in answer.passed if c != candidate and answer.passed[c]]
    total = answer.totals[candidate]

    def within(points: int, room: int) -> Distance:
        return Distance("found", points) if points <= room else Distance("unreachable")

    # failing a gate: one rating taken below the threshold, where the scale goes that low
    fail = min((r - must + 1 for r in mine), default=None) if must - 1 >= low else None
    room_up, room_down = sum(high - r for r in mine), sum(r - low for r in mine)
    if level == "failed":
        up = Distance("unreachable") if must > high else Distance("found", sum(max(0, must - r) for r in mine))
        down = Distance("no_level")
    elif level == "passed":  # while a stage is still to fill, nobody is preferred whatever the ratings held
        up = Distance("unreachable") if answer.outcome == "incomplete" else within(max(others) - total, room_up)
        down = Distance("unreachable") if fail is None else Distance("found", fail)
    elif level == "tied":
        up = within(1, room_up)
        down = within(1, room_down) if room_down else (Distance("unreachable") if fail is None else Distance("found", fail))
    else:
        up = Distance("no_level")
        options = [fail] if fail is not None else []
        if others and total - max(others) <= room_down:
            options.append(total - max(others))
        down = Distance("found", min(options)) if options else Distance("unreachable")
    return MarginAnswer(level, up, down)


def hearing_margin(rules: PanelRulesFile, record: Hearing) -> MarginAnswer:
    """Votes more (up, to a veto) or fewer (down): at most those present, or every member."""
    answer = hearing(rules, record)
    most = record.present if record.present is not None else record.members
    if answer.outcome == "veto":
        return MarginAnswer("veto", Distance("no_level"),
                            Distance("found", record.votes_for_veto - answer.votes_needed + 1))
    up = Distance("found", answer.votes_needed - record.votes_for_veto) if answer.votes_needed <= most \
        else Distance("unreachable")
    return MarginAnswer("no_veto", up, Distance("no_level"))


def compliance_margin(framework: ComplianceFramework, record: ComplianceRecord) -> MarginAnswer:
    """Requirements' results to change: every failed one (up), any one met (down)."""
    met = compliance(framework, record)
    if all(met.values()):
        return MarginAnswer("compliant", Distance("no_level"),
                            Distance("found", 1) if met else Distance("unreachable"))
    return MarginAnswer("not_compliant", Distance("found", sum(1 for ok in met.values() if not ok)),
                        Distance("no_level"))


# A pair table's candidate moves by points on its own individual ratings, through these levels.
PAIR_STANDINGS = ("preferred", "tied", "passed", "pending", "failed")  # highest first
NEVER = float("inf")


def pair_candidate_margin(process: SelectionProcess, appt: Appointment, candidate: str) -> MarginAnswer:
    """Points on the candidate's own individual ratings to the next level up and down: each
    cell's cost to reach a kind of category is the nearest row of that kind, in either order,
    each row read with the cell's resolution (which settles the pair it resolved, and no other)."""
    table = pair_table(process)
    answer = selection(process, appt)
    level = standing(answer, candidate)
    scored, _ = exercises_held(process, appt)
    cells = [r for r in appt.ratings if r.candidate == candidate and r.exercise in scored]
    pairs = [([v for v in r.individual.values() if v is not None], r.resolution) for r in cells]
    kinds = {c.id: ("pass" if c.passes else "fail") if c.resolution is None else "resolve" for c in table.categories}

    def cost(cell: tuple[list[int], Optional[Resolution]], wanted) -> float:
        """The fewest points that move this cell's pair to a row whose category `wanted` accepts;
        a resolution settles only the pair it resolved."""
        pair, resolution = cell
        return min((abs(r.ratings[0] - pair[i]) + abs(r.ratings[1] - pair[1 - i])
                    for r in table.table if wanted(row_category(table, r, resolution)) for i in (0, 1)), default=NEVER)

    def every(wanted) -> float:
        return sum(cost(p, wanted) for p in pairs)

    def any_one(wanted) -> float:
        return min((cost(p, wanted) for p in pairs), default=NEVER)

    def counting(low: int, high: int) -> float:
        """Every cell passing with low..high of them in the ranking categories: the cheapest,
        from each cell's cost either way and the savings of counting it, smallest first."""
        in_rank = [cost(p, lambda c: kinds[c] == "pass" and c in table.rank_by) for p in pairs]
        out_rank = [cost(p, lambda c: kinds[c] == "pass" and c not in table.rank_by) for p in pairs]
        forced = sum(1 for a, b in zip(in_rank, out_rank) if b == NEVER)
        if any(a == NEVER and b == NEVER for a, b in zip(in_rank, out_rank)):
            return NEVER
        base = sum(a if b == NEVER else b for a, b in zip(in_rank, out_rank))
        extra = sorted(a - b for a, b in zip(in_rank, out_rank) if a != NEVER and b != NEVER)
        options = [base + sum(extra[:k]) for k in range(len(extra) + 1) if low <= forced + k <= high]
        return min(options, default=NEVER)

    others = [answer.totals[c] for c in answer.passed if c != candidate and answer.passed[c]]
    others_pending = any(c != candidate for c in answer.pending)
    unsettled = any_one(lambda c: kinds[c] != "pass")
    if level == "failed":
        up, down = every(lambda c: kinds[c] != "fail"), None
    elif level == "pending":
        up, down = every(lambda c: kinds[c] == "pass"), any_one(lambda c: kinds[c] == "fail")
    elif level == "passed":
        waits = others_pending or answer.outcome == "incomplete"
        up = NEVER if waits or not others else counting(max(others), len(pairs))
        down = unsettled
    elif level == "tied":
        up, down = counting(max(others) + 1, len(pairs)), min(unsettled, counting(0, max(others) - 1))
    else:
        up = None
        down = min(unsettled, counting(0, max(others))) if others else unsettled

    def distance(points) -> Distance:
        if points is None:
            return Distance("no_level")
        return Distance("unreachable") if points == NEVER else Distance("found", int(points))

    return MarginAnswer(level, distance(up), distance(down))
