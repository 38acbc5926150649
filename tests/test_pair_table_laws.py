"""The laws of pair-table selections, one per test, on generated tables, fields and ratings:
durable-rules and the oracle agree on every cell, result and outcome, and on every margin.
Generated fields carry recorded resolutions on some waiting cells (tests/strategies.py), so
every law holds with resolutions too; the last laws are about resolutions themselves."""

from __future__ import annotations

import json
from itertools import product
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from engine.compiler import selection as compile_selection_rules
from engine.language.appointment_models import Appointment, SelectionProcess
from engine.oracle import appointment_reference as oracle
from engine.runtime import appointment_margin, selection

from .strategies import RATING_SCALE, generated_cvf, pair_fields, pair_table_processes
from .test_appointment_margins import fewest_either_way

CVF = generated_cvf(["v1", "v2", "c1", "c2", "c3"])
SCALE_VALUES = [lv.value for lv in RATING_SCALE.levels]
PAIR_MARGIN_WORLDS = Path(__file__).parent / "fixtures" / "pair-margin-worlds"


@st.composite
def pair_selections(draw):
    process = draw(pair_table_processes())
    return process, compile_selection_rules.compile_selection(process, CVF, RATING_SCALE), draw(pair_fields(process))


def categories(evaluation: selection.SelectionEvaluation) -> dict[tuple[str, str, str], str]:
    """Each cell's category, as the rule that fired for it concluded."""
    return {(f.matched["c"]["cand"], f.matched["c"]["exercise"], f.matched["c"]["area"]): f.matched["p"]["category"]
            for f in evaluation.firings if f.rule.startswith("pair:")}


@given(pair_selections())
def test_durable_rules_and_the_oracle_agree_on_pair_tables(world):
    """Every candidate's result (pass, pending or fail), count of ranking cells and rank, and the
    outcome: durable-rules and the oracle agree."""
    process, compiled, appt = world
    decided = selection.evaluate(compiled, appt)
    answer = oracle.selection(process, appt)
    totals = {t.candidate: t.total for t in decided.tallies}
    assert (decided.passed, totals, selection.ranks(decided), decided.outcome, decided.preferred, decided.tied,
            decided.pending) == \
        (answer.passed, answer.totals, answer.ranks, answer.outcome, answer.preferred, answer.tied, answer.pending)


@given(pair_selections())
def test_each_cell_is_answered_by_the_one_row_holding_its_pair(world):
    """The category rule that fires for a cell is the table's row for its two ratings, in either order."""
    process, compiled, appt = world
    fired = categories(selection.evaluate(compiled, appt))
    expected = {(r.candidate, r.exercise, r.area): oracle.category_of(process.scoring, list(r.individual.values())).id
                for r in appt.ratings}
    assert fired == expected


@given(pair_selections(), st.data())
def test_swapping_the_two_assessors_never_changes_a_category(world, data):
    """Exchanging one cell's two ratings between its assessors changes no category, result or outcome."""
    _, compiled, appt = world
    i = data.draw(st.integers(0, len(appt.ratings) - 1))
    rating = appt.ratings[i]
    (m1, r1), (m2, r2) = rating.individual.items()
    swapped = _with(appt, i, {m1: r2, m2: r1})
    before, after = selection.evaluate(compiled, appt), selection.evaluate(compiled, swapped)
    assert categories(after) == categories(before)
    assert (after.passed, after.pending, after.outcome, after.preferred, after.tied) == \
        (before.passed, before.pending, before.outcome, before.preferred, before.tied)


@given(pair_selections(), st.randoms(use_true_random=False))
def test_pair_tables_are_decided_the_same_whatever_the_order_or_the_run(world, rnd):
    """Deciding twice, or with candidates, members, cells and the two ratings of each cell
    written in another order, gives the same evaluation, firing for firing."""
    _, compiled, appt = world
    shuffled = [list(appt.candidates), list(appt.panel), list(appt.ratings)]
    for items in shuffled:
        rnd.shuffle(items)
    ratings = tuple(r.model_copy(update={"individual": dict(reversed(list(r.individual.items())))})
                    for r in shuffled[2])
    reordered = appt.model_copy(update={"candidates": tuple(shuffled[0]), "panel": tuple(shuffled[1]),
                                        "ratings": ratings})
    first = selection.evaluate(compiled, appt)
    assert selection.evaluate(compiled, appt) == first
    assert selection.evaluate(compiled, reordered) == first


@given(pair_selections(), st.data())
def test_a_failing_cell_fails_its_candidate_whatever_its_other_cells(world, data):
    """Monotonicity in categories: with one cell in a failing category, the candidate fails
    however its other cells are rated, and a failed candidate is never preferred or tied.
    (In ratings the table need not be monotone: a published table may map a higher pair to a
    category no better, so the law is stated on categories.)"""
    process, compiled, appt = world
    failing = [r.ratings for r in process.scoring.table
               if next(c for c in process.scoring.categories if c.id == r.category).passes is False]
    if not failing:
        return
    i = data.draw(st.integers(0, len(appt.ratings) - 1))
    (m1, _), (m2, _) = appt.ratings[i].individual.items()
    low, high = data.draw(st.sampled_from(failing))
    decided = selection.evaluate(compiled, _with(appt, i, {m1: low, m2: high}))
    cand = appt.ratings[i].candidate
    assert not decided.passed[cand] and cand not in decided.pending
    assert decided.preferred != cand and cand not in decided.tied


@given(pair_selections())
def test_a_pending_candidate_makes_the_outcome_wait(world):
    """While any candidate has a cell to resolve and no failing cell, nobody is preferred or tied."""
    _, compiled, appt = world
    decided = selection.evaluate(compiled, appt)
    if decided.pending:
        assert (decided.outcome, decided.preferred, decided.tied) == ("resolution_required", None, ())
    else:
        assert decided.outcome != "resolution_required"


@settings(max_examples=50)
@given(pair_selections())
def test_pair_margins_agree_with_the_oracle(world):
    """Each candidate's level, the points on its own individual ratings to the next level up
    and down, and the one-point changes of any individual rating that change its level:
    durable-rules (each example decided by the rules) and the oracle agree."""
    assert_pair_margins_agree(*world)


@pytest.mark.parametrize("path", sorted(PAIR_MARGIN_WORLDS.glob("*.json")), ids=lambda p: p.stem)
def test_pair_margins_agree_with_the_oracle_in_fields_kept_for_their_corners(path):
    """The law above, on fields a long search found where a plausible slip in the margin's
    search (each file's `shows` says which) gives a different figure than the oracle: drawn
    examples reach these corners only now and then, so they are kept and tried every run."""
    world = json.loads(path.read_text(encoding="utf-8"))
    process = SelectionProcess.model_validate(world["process"])
    appt = Appointment.model_validate(world["appointment"])
    assert_pair_margins_agree(process, compile_selection_rules.compile_selection(process, CVF, RATING_SCALE), appt)


def assert_pair_margins_agree(process, compiled, appt: Appointment) -> None:
    decided = selection.decide(compiled, appt)
    for candidate, margin in appointment_margin.candidate_margins(compiled, appt, decided).items():
        answer = oracle.candidate_margin(process, SCALE_VALUES, appt, candidate)
        assert (margin.outcome, oracle.Distance(margin.up.status, margin.up.fewest),
                oracle.Distance(margin.down.status, margin.down.fewest)) == (answer.outcome, answer.up, answer.down)
        assert {(s.change.id, s.change.after, s.outcome) for s in margin.single} == \
            oracle_single_changes(process, appt, candidate)
        for direction, reach in (("up", margin.up), ("down", margin.down)):
            if reach.status == "found":
                assert sum(abs(c.after - c.before) for c in reach.example) == reach.fewest
                assert all(c.id.startswith(f"{candidate}/") for c in reach.example)
                place, target = (appointment_margin.PAIR_STANDINGS.index(x) for x in (reach.example_outcome, reach.target))
                assert place <= target if direction == "up" else place >= target


def oracle_single_changes(process, appt: Appointment, candidate: str) -> set[tuple[str, int, str]]:
    before = oracle.standing(oracle.selection(process, appt), candidate)
    found = set()
    for i, rating in enumerate(appt.ratings):
        for member, score in rating.individual.items():
            for value in (score - 1, score + 1):
                if value in SCALE_VALUES:
                    moved = _with(appt, i, {**rating.individual, member: value})
                    after = oracle.standing(oracle.selection(process, moved), candidate)
                    if after != before:
                        found.add((f"{rating.candidate}/{rating.exercise}/{rating.area}/{member}", value, after))
    return found


@settings(max_examples=40, deadline=None)
@given(st.data())
def test_the_oracle_pair_margin_is_the_fewest_found_by_trying_every_rating(data):
    """On small fields (at most two cells a candidate), every combination of a candidate's own
    individual ratings is tried; the fewest points that reach the next level up, or down, or
    beyond, is the oracle's figure."""
    process = data.draw(pair_table_processes(areas=("v1", "v2"), most_cells=2))
    appt = data.draw(pair_fields(process, most_candidates=3))
    for candidate in sorted(c.id for c in appt.candidates):
        answer = oracle.candidate_margin(process, SCALE_VALUES, appt, candidate)
        assert (answer.up, answer.down) == exhaustive(process, appt, candidate), candidate


def exhaustive(process, appt: Appointment, candidate: str) -> tuple[oracle.Distance, oracle.Distance]:
    mine = [(i, member) for i, r in enumerate(appt.ratings) if r.candidate == candidate for member in r.individual]
    order = oracle.PAIR_STANDINGS
    level = order.index(oracle.standing(oracle.selection(process, appt), candidate))
    tries = []
    for values in product(SCALE_VALUES, repeat=len(mine)):
        moved, cost = appt, 0
        for (i, member), value in zip(mine, values):
            cost += abs(value - appt.ratings[i].individual[member])
            moved = _with(moved, i, {**moved.ratings[i].individual, member: value})
        tries.append((cost, order.index(oracle.standing(oracle.selection(process, moved), candidate))))
    return fewest_either_way(tries, level, len(order) - 1)


def _with(appt: Appointment, i: int, individual: dict[str, int]) -> Appointment:
    ratings = list(appt.ratings)
    ratings[i] = ratings[i].model_copy(update={"individual": individual})
    return appt.model_copy(update={"ratings": tuple(ratings)})


@settings(max_examples=30)
@given(pair_selections(), st.data())
def test_a_variant_asked_about_its_changed_cell_alone_is_decided_as_a_whole_field(world, data):
    """The sensitivity scan asks the category rules again about the changed cell only; its
    evaluation equals deciding the changed field from the start, firing for firing."""
    _, compiled, appt = world
    decided = selection.decide(compiled, appt)
    if not decided.variants:
        return
    variant = data.draw(st.sampled_from(decided.variants))
    i = next(k for k, r in enumerate(appt.ratings)
             if (r.candidate, r.exercise, r.area) == (variant.candidate, variant.exercise, variant.area))
    changed = _with(appt, i, {**appt.ratings[i].individual, variant.member: variant.after})
    assert variant.evaluation == selection.evaluate(compiled, changed)


# --- recorded resolutions of tiebreakers and discussions ------------------------------------

def settled_categories(evaluation: selection.SelectionEvaluation) -> dict[tuple[str, str, str], str]:
    """Each cell's category as the rules left it: the category rule's, or, where
    `resolution:applies` fired, the settled category it asserted."""
    found = categories(evaluation)
    found.update({(f.matched["r"]["cand"], f.matched["r"]["exercise"], f.matched["r"]["area"]): f.matched["r"]["category"]
                  for f in evaluation.firings if f.rule == "resolution:applies"})
    return found


def needs_resolving(process, rating) -> bool:
    return oracle.category_of(process.scoring, list(rating.individual.values())).resolution is not None


@given(pair_selections(), st.data())
def test_a_resolution_settles_the_pair_it_resolved_and_no_other(world, data):
    """Every cell is where the oracle puts it: a resolution settles a waiting cell rated the pair
    it resolved, and nothing else; moving either rating of a settled cell one point puts the
    cell in the table's category for its new pair, as the rules decide it."""
    process, compiled, appt = world
    decided = selection.evaluate(compiled, appt)
    assert settled_categories(decided) == {(r.candidate, r.exercise, r.area): oracle.cell_category(process.scoring, r).id
                                           for r in appt.ratings}
    settled = [i for i, r in enumerate(appt.ratings) if r.resolution is not None and needs_resolving(process, r)
               and sorted(r.resolution.pair) == sorted(r.individual.values())]
    if not settled:
        return
    i = data.draw(st.sampled_from(settled))
    rating = appt.ratings[i]
    member = data.draw(st.sampled_from(sorted(rating.individual)))
    value = rating.individual[member] + data.draw(st.sampled_from([-1, 1]))
    if value not in SCALE_VALUES:
        return
    moved = _with(appt, i, {**rating.individual, member: value})
    table_category = oracle.category_of(process.scoring, list(moved.ratings[i].individual.values())).id
    assert settled_categories(selection.evaluate(compiled, moved))[(rating.candidate, rating.exercise, rating.area)] \
        == table_category


@given(pair_selections(), st.data(), st.randoms(use_true_random=False))
def test_resolving_every_waiting_cell_ends_the_wait(world, data, rnd):
    """With a resolution recorded for every cell whose pair needs one, nobody is pending and the
    outcome is decided; a candidate fails exactly when a cell is in a failing category, settled or
    not (monotone: a settled cell never makes a candidate wait). Durable-rules and the oracle
    agree, and deciding again, or in another order, gives the same evaluation."""
    from engine.language.appointment_models import Resolution

    process, compiled, appt = world
    settling = [c for c in process.scoring.categories if c.resolution is None]
    ratings = tuple(r.model_copy(update={"resolution": Resolution(
        pair=tuple(r.individual.values()), category=data.draw(st.sampled_from(settling)).id, by="a2", rationale="r")})
        if needs_resolving(process, r) else r.model_copy(update={"resolution": None}) for r in appt.ratings)
    resolved = appt.model_copy(update={"ratings": ratings})
    decided = selection.evaluate(compiled, resolved)
    assert decided.pending == () and decided.outcome != "resolution_required"
    kinds = {c.id: c.passes for c in process.scoring.categories}
    settled = settled_categories(decided)
    for cand in decided.passed:
        failing = any(kinds[category] is False for (c, _, _), category in settled.items() if c == cand)
        assert decided.passed[cand] is not failing
    answer = oracle.selection(process, resolved)
    assert (decided.passed, decided.outcome, decided.preferred, decided.tied) == \
        (answer.passed, answer.outcome, answer.preferred, answer.tied)
    shuffled = list(resolved.ratings)
    rnd.shuffle(shuffled)
    assert selection.evaluate(compiled, resolved) == decided
    assert selection.evaluate(compiled, resolved.model_copy(update={"ratings": tuple(shuffled)})) == decided
