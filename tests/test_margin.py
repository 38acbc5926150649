"""The margin of an inspection decision, checked against every change it could have missed.

On generated criteria and evidence: every single change the record lists changes the rules'
outcome as it says, and no change it leaves out changes it; on worlds small enough to try every
combination of findings and factors, the fewest changes up and down are the fewest there are,
and their example reaches what it says. Where the dense worlds draw an exclusive group, only
evidence validation accepts counts, and a switch of the group's met member counts once. Every
outcome here is decided twice, by durable-rules and by the oracle, which must agree.
"""

from __future__ import annotations

import dataclasses
from itertools import product

from hypothesis import given, settings
from hypothesis import strategies as st

from engine.compiler.compile import Compiled, compile_criteria
from engine.inspections.cases import check_case_against, decide_case
from engine.language.criteria import Criteria
from engine.language.decision_model import validated
from engine.language.load import Document
from engine.language.models import (NOT_GRADED, UNDECIDED, Case, Condition, Criterion, CriteriaSet, Described,
                                   ExclusiveGroup, Finding, Floor, Framework, GradeRule, HIT_POLICIES, HitPolicy, Level, Limiter, Scale, Selection, Undecided)
from engine.oracle import reference
from engine.runtime.decide import evaluate
from engine.runtime.margin import BEYOND_LIMIT, FOUND, margin
from engine.runtime.tally import Evidence

from .strategies import FACTORS, worlds

FINDING_VALUES = ("met", "not_met", "not_assessed")
FACTOR_VALUES = {"present": True, "absent": False}
SMALL = 4  # findings in a world small enough to try every combination (3^4 x 2^2 = 324 cases)


# --- changing a case, and deciding it both ways ----------------------------------------------

def changed_case(case: Case, changes: list[dict]) -> Case:
    """The case with findings and factors changed as margin entries say (kind, id, to; a switch's
    replaced member not met)."""
    findings = {f.criterion: f for f in case.findings}
    factors = dict(case.factors)
    for change in changes:
        if change.get("replaces"):
            findings[change["replaces"]] = Finding(criterion=change["replaces"], finding="not_met")
        if change["kind"] == "finding":
            findings[change["id"]] = Finding(criterion=change["id"], finding=change["to"])
        else:
            factors[change["id"]] = FACTOR_VALUES[change["to"]]
    return case.model_copy(update={"findings": tuple(findings.values()), "factors": factors})


def rules_outcome(criteria: Criteria, compiled: Compiled, case: Case) -> str:
    """The rules' outcome (before any recorded judgement), by durable-rules and by the oracle."""
    durable = evaluate(compiled, Evidence.from_case(case, compiled.plan)).computed
    oracle = reference.evaluate(criteria, case).computed
    assert durable == oracle, f"durable-rules {durable}, oracle {oracle}"
    return durable


def value_of(case: Case, kind: str, item_id: str) -> str:
    if kind == "finding":
        return next(f.finding for f in case.findings if f.criterion == item_id)
    return "present" if case.factors.get(item_id) is True else "absent"


def valid(criteria: Criteria, case: Case) -> bool:
    """Whether validation accepts the case: with an exclusive group, not every combination is evidence."""
    return not criteria.criteria.model.exclusive or check_case_against(criteria, case, Document("<case>", {})) == []


def every_single_change(criteria: Criteria, case: Case) -> list[dict]:
    """Each other value of one finding or factor, and each switch of a group's met member to a
    member not met."""
    changes = [{"kind": "finding", "id": f.criterion, "from": f.finding, "to": to}
               for f in case.findings for to in FINDING_VALUES if to != f.finding]
    for group in criteria.criteria.model.exclusive:
        met = next((m for m in group.criteria if value_of(case, "finding", m) == "met"), None)
        changes += [{"kind": "finding", "id": m, "from": "not_met", "to": "met", "replaces": met}
                    for m in group.criteria if met and value_of(case, "finding", m) == "not_met"]
    for name in case.factors:
        before = value_of(case, "factor", name)
        changes.append({"kind": "factor", "id": name, "from": before, "to": "absent" if before == "present" else "present"})
    return changes


def distance(criteria: Criteria, case: Case, changes: list[dict]) -> int:
    """How many changes the margin counts for these: one per finding or factor, but a group's met
    member becoming not met and another, not met before, becoming met is one (a switch)."""
    to = {c["id"]: c["to"] for c in changes if c["kind"] == "finding"}
    switches = 0
    for group in criteria.criteria.model.exclusive:
        old = next((m for m in group.criteria if value_of(case, "finding", m) == "met"), None)
        new = next((m for m in group.criteria if to.get(m, value_of(case, "finding", m)) == "met"), None)
        switches += bool(old and new and old != new and to.get(old) == "not_met"
                         and value_of(case, "finding", new) == "not_met")
    return len(changes) - switches


def every_variant(case: Case) -> list[list[dict]]:
    """Every combination of values of the case's findings and factors, as the changes from it."""
    items = [("finding", f.criterion, FINDING_VALUES) for f in case.findings] + \
            [("factor", name, tuple(FACTOR_VALUES)) for name in case.factors]
    variants = []
    for values in product(*(choices for _, _, choices in items)):
        variants.append([{"kind": kind, "id": item_id, "from": value_of(case, kind, item_id), "to": value}
                         for (kind, item_id, _), value in zip(items, values) if value != value_of(case, kind, item_id)])
    return variants


def record_of(criteria: Criteria, case: Case) -> tuple[Compiled, dict]:
    compiled = compile_criteria(criteria)
    return compiled, validated(decide_case(compiled, case))


def in_target(compiled: Compiled, direction: str, target: str, outcome: str) -> bool:
    """Whether an outcome is the target level or beyond it that way (never a non-grade)."""
    if outcome in (UNDECIDED, NOT_GRADED):
        return False
    rank, wanted = compiled.plan.level(outcome).rank, compiled.plan.level(target).rank
    return rank <= wanted if direction == "up" else rank >= wanted


def next_level(compiled: Compiled, outcome: str, direction: str) -> str | None:
    rank = compiled.plan.level(outcome).rank + (-1 if direction == "up" else 1)
    return compiled.plan.level_at(rank).id if 0 <= rank < len(compiled.plan.levels) else None


# --- single changes --------------------------------------------------------------------------

def check_single_changes(criteria: Criteria, case: Case) -> None:
    compiled, record = record_of(criteria, case)
    base = rules_outcome(criteria, compiled, case)
    assert record["margin"]["outcome"] == record["computed_outcome"] == base
    listed = {(c["kind"], c["id"], c["from"], c["to"], c.get("replaces")): c["outcome"]
              for c in record["margin"]["single_changes"]}
    assert len(listed) == len(record["margin"]["single_changes"]), "a change is listed twice"
    for change in every_single_change(criteria, case):
        key = (change["kind"], change["id"], change["from"], change["to"], change.get("replaces"))
        other = changed_case(case, [change])
        if not valid(criteria, other):
            assert key not in listed, f"{key} is listed, but validation refuses the case it makes"
            continue
        outcome = rules_outcome(criteria, compiled, other)
        if outcome == base:
            assert key not in listed, f"{key} is listed as giving {listed.get(key)}, but the outcome stays {base}"
        else:
            assert listed.pop(key, None) == outcome, f"{key} gives {outcome} and is not listed so"
    assert not listed, f"listed changes that are no change to this case: {listed}"


@given(worlds())
def test_single_changes_are_exactly_those_that_change_the_outcome(world):
    """Every single change the margin lists gives the outcome it states, and every change of one
    finding or factor it does not list leaves the rules' outcome as it was."""
    check_single_changes(*world)


@given(worlds(monotone=True))
def test_single_changes_in_monotone_worlds(world):
    """The same, in frameworks where meeting one more criterion can only help."""
    check_single_changes(*world)


# --- the fewest changes ------------------------------------------------------------------------

def check_fewest(criteria: Criteria, case: Case, limit: int | None = None) -> None:
    compiled, record = record_of(criteria, case)
    found = record["margin"]
    base = rules_outcome(criteria, compiled, case)
    distances: dict[str, int] = {}  # outcome -> fewest changes giving it
    for changes in every_variant(case):
        other = changed_case(case, changes)
        if not valid(criteria, other):
            continue
        outcome = rules_outcome(criteria, compiled, other)
        count = distance(criteria, case, changes)
        distances[outcome] = min(distances.get(outcome, count), count)
    for direction in ("up", "down"):
        reach = found[direction]
        if base in (UNDECIDED, NOT_GRADED):
            assert reach["status"] == "no_grade", reach
            continue
        target = next_level(compiled, base, direction)
        if target is None:
            assert reach["status"] == "no_level", reach
            continue
        reaching = [n for outcome, n in distances.items() if in_target(compiled, direction, target, outcome)]
        assert reach["target"] == target
        if not reaching:
            assert reach["status"] == "unreachable", (direction, reach)
            continue
        assert (reach["status"], reach["fewest_changes"]) == ("found", min(reaching)), (direction, reach, distances)
        example = reach["example"]
        assert len(example) == len({(c["kind"], c["id"]) for c in example}) == min(reaching)
        assert all(c["from"] == value_of(case, c["kind"], c["id"]) != c["to"] for c in example)
        assert valid(criteria, changed_case(case, example)), example
        outcome = rules_outcome(criteria, compiled, changed_case(case, example))
        assert outcome == reach["example_outcome"] and in_target(compiled, direction, target, outcome)
    if limit is not None:
        check_limit(criteria, compiled, case, distances, limit)


def check_limit(criteria: Criteria, compiled: Compiled, case: Case, distances: dict[str, int], limit: int) -> None:
    """With a small search limit, an answer is either the exact one or 'more than k' with k
    changes truly not enough."""
    base = rules_outcome(criteria, compiled, case)
    bounded = margin(compiled, Evidence.from_case(case, compiled.plan), base, limit)
    for direction, reach in (("up", bounded.up), ("down", bounded.down)):
        if reach.status == BEYOND_LIMIT:
            reaching = [n for outcome, n in distances.items()
                        if in_target(compiled, direction, reach.target, outcome)]
            assert not reaching or min(reaching) > reach.more_than, (direction, reach, distances)
        elif reach.status == FOUND:
            assert reach.fewest == min(n for outcome, n in distances.items()
                                       if in_target(compiled, direction, reach.target, outcome))


def small(world) -> bool:
    return len(world[1].findings) <= SMALL


@st.composite
def dense_worlds(draw) -> tuple[Criteria, Case]:
    """Small worlds dense in what the search reasons about, which general worlds reach rarely:
    every finding counted by its own mix of conditions, counts bounded from above and below,
    grades that build on others, caps and floors at any level, several at once, and sometimes
    an exclusive group (and a case that keeps it)."""
    levels = tuple(Level(id=f"l{i}", label=f"Level {i}", definition=f"level {i}") for i in range(draw(st.integers(2, 4))))
    scale = Scale(arbiter="scale", id="gen-scale", title="Generated scale", levels=levels)
    ids = [f"k{i}" for i in range(draw(st.integers(1, SMALL)))]
    groups = ()
    if len(ids) >= 2 and draw(st.booleans()):
        groups = (ExclusiveGroup(id="g0", criteria=tuple(ids[:draw(st.integers(2, len(ids)))]),
                                 exactly_one=draw(st.booleans())),)
    cs = CriteriaSet(arbiter="criteria", id="gen/set", framework="gen", title="Generated area",
                     criteria=tuple(Criterion(id=i, tier="fair", text=f"criterion {i}") for i in ids), exclusive=groups)

    def condition() -> Condition:
        kind = draw(st.sampled_from(["met", "met", "not_met", "not_assessed", "factors_present"]))
        members = tuple(sorted(set(draw(st.lists(st.sampled_from(FACTORS if kind == "factors_present" else ids),
                                                 min_size=1, max_size=len(ids) + 2)))))
        counted = members if kind == "factors_present" else Selection(ids=members)
        return Condition(**{kind: counted, draw(st.sampled_from(["at_least", "at_least", "at_most", "exactly"])):
                            draw(st.integers(0, len(members)))})

    graded = [lv.id for lv in levels if draw(st.booleans())] or [levels[-1].id]
    policy = draw(st.sampled_from(HIT_POLICIES))
    grades = tuple(GradeRule(level=level, when=tuple(condition() for _ in range(draw(st.integers(1, 2)))),
                             builds_on=None if policy == "unique" else  # refused under unique (check.py)
                             draw(st.sampled_from([None] + graded[graded.index(level) + 1:])))
                   for level in graded)
    level_ids = [lv.id for lv in levels]
    limiters = tuple(Limiter(id=f"cap{i}", cap=draw(st.sampled_from(level_ids)), description=f"cap {i}",
                             when=(condition(),)) for i in range(draw(st.integers(0, 2))))
    floors = tuple(Floor(id=f"floor{i}", floor=draw(st.sampled_from(level_ids)), description=f"floor {i}",
                         when=(condition(),)) for i in range(draw(st.integers(0, 2))))
    framework = Framework(
        arbiter="framework", id="gen", title="Generated framework", version="1", scale=scale.id,
        tiers={"fair": Described(description="every criterion")},
        factors={f: Described(description=f"factor {f}") for f in FACTORS},
        grades=grades, limiters=limiters, floors=floors, hit_policy=HitPolicy(policy=policy),
        undecided=Undecided(outcome="professional_judgement", reason="no rule decides"))
    values = {i: draw(st.sampled_from(FINDING_VALUES)) for i in ids}
    for group in groups:  # a valid case: at most one member met, exactly one if the group says so
        met = draw(st.sampled_from(([] if group.exactly_one else [None]) + list(group.criteria)))
        values.update({m: "met" if m == met else draw(st.sampled_from(["not_met", "not_assessed"]))
                       for m in group.criteria})
    case = Case(arbiter="case", id="gen/case", criteria=cs.id, subject="Generated force", constructed=True,
                factors={f: draw(st.booleans()) for f in FACTORS},
                findings=tuple(Finding(criterion=i, finding=values[i]) for i in ids))
    return Criteria.from_models(scale, framework, cs), case


@settings(max_examples=100)
@given(worlds().filter(small), st.integers(1, 12))
def test_fewest_changes_are_fewest(world, limit):
    """On worlds small enough to decide every combination of findings and factors: the fewest
    changes up and down are the fewest, their example gives what it says, an unreachable level
    is reached by no combination, and a search cut short by its limit never claims too much."""
    check_fewest(*world, limit=limit)


@settings(max_examples=100)
@given(worlds(monotone=True).filter(small))
def test_fewest_changes_in_monotone_worlds(world):
    """The same where meeting one more criterion can only help, the shape the search prunes by."""
    check_fewest(*world)


@settings(max_examples=200)
@given(dense_worlds(), st.integers(1, 12))
def test_fewest_changes_in_dense_worlds(world, limit):
    """The same on small worlds built densely from caps, floors and bounds both ways."""
    check_fewest(*world, limit=limit)


@settings(max_examples=200)
@given(dense_worlds())
def test_single_changes_in_dense_worlds(world):
    """Every single change listed, and none left out, on the dense small worlds."""
    check_single_changes(*world)


# --- worlds where one step of the search's reasoning matters ---------------------------------
# Each of these fails if the search leaves out changes that the step says can help: it then
# finds a larger set, or none.

def built_world(levels: int, findings: dict[str, str], grades=(), limiters=(), floors=(),
                factors: dict[str, bool] | None = None, policy: str = "best") -> tuple[Criteria, Case]:
    """Levels l0 (highest) to l<levels-1>, one criterion per finding, and the rules given."""
    scale = Scale(arbiter="scale", id="gen-scale", title="Built scale",
                  levels=tuple(Level(id=f"l{i}", label=f"Level {i}", definition=f"level {i}") for i in range(levels)))
    cs = CriteriaSet(arbiter="criteria", id="gen/set", framework="gen", title="Built area",
                     criteria=tuple(Criterion(id=i, tier="fair", text=f"criterion {i}") for i in findings))
    framework = Framework(
        arbiter="framework", id="gen", title="Built framework", version="1", scale=scale.id,
        tiers={"fair": Described(description="every criterion")},
        factors={f: Described(description=f"factor {f}") for f in FACTORS},
        grades=tuple(grades), limiters=tuple(limiters), floors=tuple(floors), hit_policy=HitPolicy(policy=policy),
        undecided=Undecided(outcome="professional_judgement", reason="no rule decides"))
    case = Case(arbiter="case", id="gen/case", criteria=cs.id, subject="Built force", constructed=True,
                factors=factors or {f: False for f in FACTORS},
                findings=tuple(Finding(criterion=i, finding=v) for i, v in findings.items()))
    return Criteria.from_models(scale, framework, cs), case


def counts(kind: str, *ids: str, at_least: int = 1) -> Condition:
    return Condition(**{kind: Selection(ids=ids), "at_least": at_least})


def fewest(world, direction: str) -> int:
    check_fewest(*world)
    return record_of(*world)[1]["margin"][direction]["fewest_changes"]


def test_up_through_a_floor_that_needs_a_grade_decided():
    """l2, by k0 met. Not meeting k0 lets the floor raise a decided grade to l1, but leaves no
    grade decided; meeting k1 decides one again. Two changes, one of them to a rule below the
    target, which only keeps a grade decided for the floor to raise."""
    world = built_world(3, {"k0": "met", "k1": "not_met", "k2": "not_met"},
                        grades=[GradeRule(level="l0", when=(Condition(factors_present=tuple(FACTORS), at_least=2),
                                                            counts("met", "k2"))),
                                GradeRule(level="l2", when=(counts("met", "k0", "k1"),))],
                        floors=[Floor(id="raise", floor="l1", description="k0 not met", when=(counts("not_met", "k0"),))])
    assert fewest(world, "up") == 2


def test_down_through_a_cap_that_needs_a_grade_decided():
    """l0, by k0 met. Not meeting k0 brings in the cap at l1 but leaves no grade decided for it
    to lower; meeting k1 decides l0 again, a change towards a higher grade that helps go down."""
    world = built_world(3, {"k0": "met", "k1": "not_met"},
                        grades=[GradeRule(level="l0", when=(counts("met", "k0", "k1"),)),
                                GradeRule(level="l2", when=(Condition(factors_present=tuple(FACTORS), at_least=2),))],
                        limiters=[Limiter(id="cap", cap="l1", description="k0 not met", when=(counts("not_met", "k0"),))])
    assert fewest(world, "down") == 2


def test_down_through_a_cap_and_a_floor_at_the_top():
    """l0, by k1 met. Not meeting k1 brings in the cap at l1 and leaves no grade decided; meeting
    k0 brings in the floor at the top, which decides l0 for the cap to lower."""
    world = built_world(3, {"k0": "not_met", "k1": "met"},
                        grades=[GradeRule(level="l0", when=(counts("met", "k1"),))],
                        limiters=[Limiter(id="cap", cap="l1", description="k1 not met", when=(counts("not_met", "k1"),))],
                        floors=[Floor(id="top", floor="l0", description="k0 met", when=(counts("met", "k0"),))])
    assert fewest(world, "down") == 2


# --- the project's cases -----------------------------------------------------------------------

def test_kent_missing_persons_margin(catalog):
    """Kent's missing persons: the rules give Fair (the published Good is HMIC's recorded
    judgement); two changes reach Good, five are needed to fall to Poor, and any one of four
    significant criteria missed leaves the grade to professional judgement."""
    from engine.workspace.runner import score_file

    from .conftest import ROOT
    record = score_file(ROOT / "cases/kent-2007/missing-persons.yaml", catalog).records[0]
    margin_record = record["margin"]
    assert (record["computed_outcome"], margin_record["outcome"]) == ("fair", "fair")
    assert (margin_record["up"]["status"], margin_record["up"]["fewest_changes"]) == ("found", 2)
    assert (margin_record["down"]["status"], margin_record["down"]["fewest_changes"]) == ("found", 5)
    falls = {(c["id"], c["to"]): c["outcome"] for c in margin_record["single_changes"]}
    assert falls[("mp-risk-assessment", "not_met")] == "professional_judgement"  # significant, not critical
    assert set(falls.values()) == {"professional_judgement"}
    assert not any(c["to"] == "met" for c in margin_record["single_changes"])  # no one change lifts it


def test_a_search_cut_short_says_so(catalog):
    """Past its limit the search says how many changes it tried in full, in the record and the
    text, rather than an answer it did not find: Poor takes 5 changes from Kent's missing
    persons (Fair by the rules); a search allowed 2 sets of two changes or more still finds the
    2 that reach Good, and says falling a level takes more than 1."""
    from engine.inspections.cases import load_case
    from engine.inspections.explain import render_text
    from engine.inspections.record import decision_record

    from .conftest import ROOT
    loaded = load_case(ROOT / "cases/kent-2007/missing-persons.yaml", catalog)
    evidence = Evidence.from_case(loaded.case, loaded.compiled.plan)
    evaluation = evaluate(loaded.compiled, evidence)
    record = validated(decision_record(loaded.compiled, loaded.case, evaluation,
                                       margin(loaded.compiled, evidence, evaluation.computed, limit=2)))
    assert record["margin"]["down"] == {
        "status": "beyond_limit", "target": "poor", "target_label": "Poor", "fewest_changes": None,
        "more_than": 1, "example": [], "example_outcome": None, "example_label": None}
    assert record["margin"]["search_limit"] == 2
    assert "up a level takes 2 changes (e.g. mp-systems-integration met and mp-ppu-alignment met give Good); " \
           "down a level takes more than 1 change (the search stops after 2 sets of two or more changes)" \
           in render_text(record, "fails")


def test_the_largest_sets_are_given_up_when_their_product_passes_the_limit():
    """Two classes of nine interchangeable findings, each with two useful ways: ten ways of
    sharing nine changes for each class, so a hundred largest sets in all, more than
    MAX_LARGEST_SETS (64) though neither class alone has as many: the search goes by size
    instead. One such class alone gives its ten."""
    from engine.runtime.margin import MAX_LARGEST_SETS, ItemClass, Search, Way, largest_sets

    members = tuple(f"k{i}" for i in range(9))
    classes = (ItemClass("finding", "met", members, frozenset({"q"})),
               ItemClass("finding", "not_met", tuple(f"j{i}" for i in range(9)), frozenset({"q"})))
    ways = (Way(0, "not_met", (("q", 1),)), Way(0, "not_assessed", (("q", 1),)),
            Way(1, "met", (("q", 1),)), Way(1, "not_assessed", (("q", 1),)))
    assert 10 <= MAX_LARGEST_SETS < 10 * 10
    assert largest_sets(Search(classes, ways, (0, 1, 2, 3), True, ("q",))) is None
    alone = largest_sets(Search(classes, ways, (0, 1), True, ("q",)))
    assert alone is not None and len(alone) == 10 and all(sum(counts.values()) == 9 for counts in alone)
    seven = tuple(dataclasses.replace(c, members=c.members[:7]) for c in classes)  # eight ways each to share 7
    assert MAX_LARGEST_SETS == 8 * 8 and len(largest_sets(Search(seven, ways, (0, 1, 2, 3), True, ("q",)))) == 64
