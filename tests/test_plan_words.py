"""A compiled condition in words (the blank record's header, impact's moved thresholds) says the
bound the compiled condition holds, read back and tried on every count it ranges over; and every
condition is found where the framework writes it (where lint reports it)."""

from __future__ import annotations

import re
from dataclasses import replace

from engine.compiler.compile import compile_set, condition_places
from engine.language.criteria import load_criteria

BOUND = re.compile(r"^(at least|at most|exactly|below|above) (-?\d+)(?: of (\d+))?$")
LEVEL = re.compile(r"^(\w+) or (better|worse)$")
HOLDS = {"at least": lambda n, k: n >= k, "at most": lambda n, k: n <= k, "exactly": lambda n, k: n == k,
         "below": lambda n, k: n < k, "above": lambda n, k: n > k}
COMPILED = {">=": lambda n, k: n >= k, "<=": lambda n, k: n <= k, "==": lambda n, k: n == k}
UNCOUNTED = ("score", "score_sum", "causes_of_concern")  # quantities that are a sum, not so many of a total


def graded_plans(catalog):
    for set_id in catalog.criteria_set_ids():
        plan = compile_set(catalog, set_id).plan
        if plan.conditions:
            yield set_id, plan


def count_conditions(plan):
    """The plan's count conditions, and each also written strictly ('above', 'below'), as a
    framework may write it: the words must follow the strict reading too."""
    for cond in plan.conditions:
        if cond.level_bound is None:
            yield cond
            yield replace(cond, op=">=", strict="above")  # above t-1, compiled as at least t
            yield replace(cond, op="<=", strict="below")  # below t+1, compiled as at most t


def test_a_count_bound_in_words_holds_for_exactly_the_counts_the_compiled_condition_holds_for(catalog):
    tried = 0
    for set_id, plan in graded_plans(catalog):
        for cond in count_conditions(plan):
            words = plan.threshold_words(cond)
            found = BOUND.match(words)
            assert found, (set_id, cond.id, words)
            reading, bound, total = found.group(1), int(found.group(2)), found.group(3)
            counted = plan.quantity(cond.quantity).kind not in UNCOUNTED
            assert (total is not None) == counted and (not counted or int(total) == cond.total), (set_id, words)
            assert (reading in ("below", "above")) == (cond.strict is not None), (set_id, words)
            span = range(min(0, cond.threshold) - 2, max(cond.total, cond.threshold) + 3)
            assert [HOLDS[reading](n, bound) for n in span] == [COMPILED[cond.op](n, cond.threshold) for n in span], \
                (set_id, cond, words)
            assert plan.condition_words(cond) == f"{plan.quantity(cond.quantity).describe} {words}"
            tried += 1
    assert tried > 150  # the shipped sets write many count conditions


def level_conditions(plan):
    """The plan's level-bound conditions, and each also bounded the other way ('at_most: fair'
    on a worst or best sub-area grade, compiled as at least fair's rank), which no shipped set
    writes."""
    for cond in plan.conditions:
        if cond.level_bound is not None:
            yield cond
            yield replace(cond, op=">=" if cond.op == "<=" else "<=")


def test_a_level_bound_in_words_names_the_level_and_which_way(catalog):
    ways = set()
    for set_id, plan in graded_plans(catalog):
        for cond in level_conditions(plan):
            found = LEVEL.match(plan.threshold_words(cond))
            assert found, (set_id, cond.id)
            # levels are ranked best first, so "at most this rank" is this level or better
            assert found.groups() == (cond.level_bound, "better" if cond.op == "<=" else "worse"), (set_id, cond)
            ways.add(found.group(2))
    assert ways == {"better", "worse"}


def test_every_compiled_condition_is_found_at_a_when_entry_of_its_framework(catalog):
    for set_id, plan in graded_plans(catalog):
        criteria = load_criteria(catalog, set_id)
        places = condition_places(criteria)
        assert set(places) == {c.id for c in plan.conditions}, set_id
        data = criteria.framework.doc.data
        for cond_id, place in places.items():
            assert place[-2] == "when" and isinstance(place[-1], int), (set_id, cond_id, place)
            node = data
            for step in place:
                node = node[step]
            assert isinstance(node, dict), (set_id, cond_id, place)
