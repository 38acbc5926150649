"""Hypothesis strategies for generated criteria and evidence, kept in one place.

`criteria_and_case(monotone=False)` draws a whole world: a scale, a framework (tiers,
flags, factors, quantifiers, grade rules, caps, floors), a criteria set with sub-areas,
and a schema-valid case for it. Every selection is drawn from criteria that exist and
every bound is reachable, so the world always compiles. With `monotone=True` the
framework only uses conditions for which meeting one more criterion can only help:
counts of met criteria (or of factors) for grades and floors, counts of not-met
criteria for caps and for the lowest grade.

`scored_worlds(monotone=False, small=False)` draws worlds of scored inputs: criteria scored on
scales of their own beside met/not-met ones, an exclusive group, and conditions on one score or
on a sum of scores with every whole-number bound; every bound is one some score can meet.

`quantifier_ladder` and `case_meeting` build worlds exhaustively instead: quantifiers of one
kind over a set of a given size, and a case meeting a given number of its criteria.
"""

from __future__ import annotations

from hypothesis import strategies as st

from engine.language.appointment_models import CompetencyFramework, CvfCompetency, CvfLevel, CvfValue
from engine.language.criteria import Criteria
from engine.language.models import (Case, Concern, Condition, Criterion, CriteriaSet, Described, Everything,
                           ExclusiveGroup, Finding, Floor, Framework, GradeRule, HIT_POLICIES, HitPolicy, Level,
                           Limiter, Override, Quantifier, Scale, ScoreScale, Selection, Subgrade, SubgradeCount, SubgradeEntry,
                           SubgradeSelection, Undecided)

TIERS = ["fair", "good", "core"]
FLAGS = ["significant", "critical"]
FACTORS = ["beacon", "innovation"]
FRACTIONS = [0, 0.25, 0.4, 0.5, 0.6, 2 / 3, 0.75, 0.8, 0.9, 1]


@st.composite
def scales(draw) -> Scale:
    count = draw(st.integers(2, 5))
    levels = tuple(Level(id=f"l{i}", label=f"Level {i}", definition=f"level {i} of {count}") for i in range(count))
    return Scale(arbiter="scale", id="gen-scale", title="Generated scale", levels=levels)


@st.composite
def criteria_sets(draw) -> CriteriaSet:
    count = draw(st.integers(1, 25))
    criteria = []
    for i in range(count):
        tier = draw(st.sampled_from(TIERS[:2]))
        flags = tuple(f for f in FLAGS if draw(st.booleans()))
        criteria.append(Criterion(id=f"k{i}", tier=tier, flags=flags, text=f"criterion {i}"))
    subgrades = tuple(Subgrade(id=f"s{i}", title=f"sub-area {i}") for i in range(draw(st.integers(0, 4))))
    return CriteriaSet(arbiter="criteria", id="gen/set", framework="gen", title="Generated area",
                       criteria=tuple(criteria), subgrades=subgrades)


def _quantifiers(draw) -> dict[str, Quantifier]:
    quantifiers = {}
    for i in range(draw(st.integers(1, 4))):
        bound = draw(st.sampled_from(["at_least", "more_than", "at_most", "less_than"]))
        quantifiers[f"q{i}"] = Quantifier(**{bound: draw(st.sampled_from(FRACTIONS))}, phrase=f"quantifier {i}")
    return quantifiers


def _selection(draw, cs: CriteriaSet) -> Selection:
    """A selection that matches at least the criterion it was drawn from."""
    anchor = draw(st.sampled_from(cs.criteria))
    tier = anchor.tier if draw(st.booleans()) else None
    flags = tuple(f for f in anchor.flags if draw(st.booleans()))
    ids = ()
    if draw(st.integers(0, 4)) == 0:
        others = [c.id for c in cs.criteria]
        ids = tuple(sorted({anchor.id, *draw(st.lists(st.sampled_from(others), max_size=3))}))
    return Selection(tier=tier, flags=flags, ids=ids)


def _members(cs: CriteriaSet, sel: Selection) -> int:
    from engine.language.models import select_criteria
    return len(select_criteria(cs, sel))


def never_holds(q: Quantifier) -> bool:
    """More than all, or less than none: a condition using it is refused (E133)."""
    return q.bound in (("more_than", 1), ("less_than", 0))


def _count_condition(draw, cs: CriteriaSet, quantifiers: dict, quantity: str, monotone: bool) -> Condition:
    sel = _selection(draw, cs)
    size = _members(cs, sel)
    upward = [n for n, q in quantifiers.items() if q.bound[0] in ("at_least", "more_than")
              and not (q.bound[0] == "more_than" and q.bound[1] == 1)]
    choices = ["at_least"] + (["is"] if (upward or not monotone) else []) + ([] if monotone else ["at_most", "exactly"])
    bound = draw(st.sampled_from(choices))
    if bound == "is":
        names = upward if monotone else [n for n, q in quantifiers.items() if not never_holds(q)]
        if names:
            return Condition(**{quantity: sel, "is": draw(st.sampled_from(sorted(names)))})
        bound = "at_least"
    value = draw(st.integers(0, size))
    return Condition(**{quantity: sel, bound: value})


def _any_condition(draw, cs: CriteriaSet, scale: Scale, quantifiers: dict) -> Condition:
    kinds = ["met", "not_met", "not_assessed", "factors_present", "causes_of_concern"]
    if cs.subgrades:
        kinds += ["subgrades_at_or_below", "subgrades_at_or_above", "subgrades_at", "worst_subgrade", "best_subgrade"]
    kind = draw(st.sampled_from(kinds))
    levels = [lv.id for lv in scale.levels]
    if kind in ("met", "not_met", "not_assessed"):
        return _count_condition(draw, cs, quantifiers, kind, monotone=False)
    if kind == "factors_present":
        factors = tuple(sorted(set(draw(st.lists(st.sampled_from(FACTORS), min_size=1, max_size=2)))))
        return Condition(factors_present=factors, **{draw(st.sampled_from(["at_least", "exactly"])):
                                                     draw(st.integers(0, len(factors)))})
    if kind == "causes_of_concern":
        return Condition(causes_of_concern=Everything(), at_least=draw(st.integers(0, 2)))
    of = _subgrade_of(draw, cs)
    if kind.startswith("subgrades_at"):
        size = len(of) if of else len(cs.subgrades)
        spec = SubgradeCount(level=draw(st.sampled_from(levels)), of=of)
        bound = draw(st.sampled_from(["at_least", "at_most", "exactly"]))
        return Condition(**{kind: spec, bound: draw(st.integers(0, size))})
    bound = draw(st.sampled_from(["at_least", "at_most"]))
    return Condition(**{kind: SubgradeSelection(of=of), bound: draw(st.sampled_from(levels))})


def _subgrade_of(draw, cs: CriteriaSet):
    if draw(st.booleans()):
        return None
    ids = [s.id for s in cs.subgrades]
    return tuple(sorted(set(draw(st.lists(st.sampled_from(ids), min_size=1, max_size=len(ids))))))


def _monotone_condition(draw, cs: CriteriaSet, quantifiers: dict, lowest: bool, scale: Scale) -> Condition:
    kinds = ["met", "met", "factors_present"] + (["not_met"] if lowest else [])
    kind = draw(st.sampled_from(kinds + (["subgrades_at_or_above", "worst_subgrade"] if cs.subgrades else [])))
    levels = [lv.id for lv in scale.levels]
    if kind == "subgrades_at_or_above":  # more sub-areas at or above a level: raising a grade only helps
        of = _subgrade_of(draw, cs)
        size = len(of) if of else len(cs.subgrades)
        return Condition(subgrades_at_or_above=SubgradeCount(level=draw(st.sampled_from(levels)), of=of),
                         at_least=draw(st.integers(0, size)))
    if kind == "worst_subgrade":
        return Condition(worst_subgrade=SubgradeSelection(of=_subgrade_of(draw, cs)), at_least=draw(st.sampled_from(levels)))
    if kind == "factors_present":
        factors = tuple(sorted(set(draw(st.lists(st.sampled_from(FACTORS), min_size=1, max_size=2)))))
        return Condition(factors_present=factors, at_least=draw(st.integers(0, len(factors))))
    return _count_condition(draw, cs, quantifiers, kind, monotone=True)


@st.composite
def worlds(draw, monotone: bool = False) -> tuple[Criteria, Case]:
    scale = draw(scales())
    cs = draw(criteria_sets())
    quantifiers = _quantifiers(draw)
    levels = [lv.id for lv in scale.levels]
    graded = [lv for lv in levels if draw(st.booleans())] or [levels[-1]]
    # Meeting more criteria never lowers the grade only when the highest grade whose rule holds
    # is given (best): under worst, first or unique, a lower rule that comes to hold can.
    policy = "best" if monotone else draw(st.sampled_from(HIT_POLICIES))
    grades = []
    for level in graded:
        lowest = level == levels[-1]
        conditions = tuple(
            _monotone_condition(draw, cs, quantifiers, lowest, scale) if monotone
            else _any_condition(draw, cs, scale, quantifiers)
            for _ in range(draw(st.integers(1, 3))))
        builds_on = None  # a grade may build on a lower one only
        lower = [g for g in graded if levels.index(g) > levels.index(level)]
        if lower and policy != "unique" and draw(st.booleans()):  # refused under unique (check.py)
            builds_on = draw(st.sampled_from(lower))
        grades.append(GradeRule(level=level, builds_on=builds_on, when=conditions))
    # A level reached another way too (an alternative), where no rule builds on that level.
    # Under unique a rule per pair of grade rules is added: at most 5 grade rules keep every
    # generated set within the 30 rules a set may compile to (E134).
    bases = {g.builds_on for g in grades}
    for level in [g.level for g in grades if g.level not in bases]:
        if draw(st.integers(0, 3)) == 0 and (policy != "unique" or len(grades) < 5):
            lowest = level == levels[-1]
            grades.append(GradeRule(level=level, id=f"{level}-alt", when=tuple(
                _monotone_condition(draw, cs, quantifiers, lowest, scale) if monotone
                else _any_condition(draw, cs, scale, quantifiers) for _ in range(draw(st.integers(1, 2))))))
    limiters = tuple(
        Limiter(id=f"cap{i}", cap=draw(st.sampled_from(levels)), description=f"cap {i}", absolute=draw(st.booleans()),
                when=(_count_condition(draw, cs, quantifiers, "not_met", monotone=True) if monotone
                      else _any_condition(draw, cs, scale, quantifiers),))
        for i in range(draw(st.integers(0, 2))))
    # Five grade rules under unique (16 rules with their pairs), two absolute limiters (9) and
    # the overrides (2) leave room for one floor (3 at most) within the 30 rules (E134).
    most_floors = 1 if policy == "unique" and len(grades) >= 5 else 2
    floors = tuple(
        Floor(id=f"floor{i}", floor=draw(st.sampled_from(levels)), description=f"floor {i}",
              when=(_count_condition(draw, cs, quantifiers, "met", monotone=True) if monotone
                    else _any_condition(draw, cs, scale, quantifiers),))
        for i in range(draw(st.integers(0, most_floors))))
    framework = Framework(
        arbiter="framework", id="gen", title="Generated framework", version="1", scale=scale.id,
        tiers={t: Described(description=f"tier {t}") for t in TIERS},
        flags={f: Described(description=f"flag {f}") for f in FLAGS},
        factors={f: Described(description=f"factor {f}") for f in FACTORS},
        quantifiers=quantifiers, grades=tuple(grades), limiters=limiters, floors=floors,
        hit_policy=HitPolicy(policy=policy), carried_over=draw(st.sampled_from(["counted", "excluded"])),
        undecided=Undecided(outcome="professional_judgement", reason="no rule decides"))
    case = draw(cases_for(cs, scale))
    return Criteria.from_models(scale, framework, cs), case


@st.composite
def cases_for(draw, cs: CriteriaSet, scale: Scale) -> Case:
    findings = tuple(Finding(criterion=c.id, finding=draw(st.sampled_from(["met", "not_met", "not_assessed"])))
                     for c in cs.criteria)
    levels = [lv.id for lv in scale.levels]
    subgrades = {s.id: draw(subgrade_entries(levels)) for s in cs.subgrades}
    concerns = tuple(Concern(text=f"concern {i}") for i in range(draw(st.integers(0, 2))))
    override = Override(outcome=draw(st.sampled_from(levels)), rationale="judgement", by="HMI") \
        if draw(st.integers(0, 5)) == 0 else None
    return Case(arbiter="case", id="gen/case", criteria=cs.id, subject="Generated force", constructed=True,
                factors={f: draw(st.booleans()) for f in FACTORS}, subgrades=subgrades, findings=findings,
                causes_of_concern=concerns, override=override)


@st.composite
def subgrade_entries(draw, levels: list[str]):
    """A bare level (inspected), or an entry that is inspected, carried over or ungraded."""
    provenance = draw(st.sampled_from(["bare", "inspected", "carried_over", "ungraded"]))
    if provenance == "bare":
        return draw(st.sampled_from(levels))
    if provenance == "ungraded":
        return SubgradeEntry(provenance="ungraded")
    extra = {"carried_from": "an earlier inspection", "year": 2017} if provenance == "carried_over" else {}
    return SubgradeEntry(grade=draw(st.sampled_from(levels)), provenance=provenance, **extra)


# --- worlds built exhaustively, for the quantifier law -----------------------------------

QUANTIFIER_KINDS = ("at_least", "more_than", "at_most", "less_than")


def quantifier_ladder(kind: str, fractions: tuple[float, ...], size: int) -> Criteria:
    """`size` criteria and one grade rule per fraction, 'the criteria met are <kind> <fraction>
    of them', the strictest reading highest on the scale, and a bottom level no rule gives:
    a case is graded by the strictest that holds, and its record observes every one."""
    upward = kind in ("at_least", "more_than")  # for these, a larger fraction asks more
    ordered = sorted(fractions, reverse=upward)
    names = [f"{kind}_{f:.3g}".replace(".", "_") for f in ordered]  # e.g. more_than_0_5: level and quantifier
    quantifiers = {name: Quantifier(**{kind: f}, phrase=f"{kind.replace('_', ' ')} {f:.3g} of")
                   for name, f in zip(names, ordered)}
    levels = tuple(Level(id=name, label=f"{kind} {f:.3g}", definition=f"{kind} {f} of the criteria are met")
                   for name, f in zip(names, ordered))
    scale = Scale(arbiter="scale", id="gen-scale", title="Generated scale",
                  levels=levels + (Level(id="below", label="Below", definition="no rule gives it"),))
    framework = Framework(
        arbiter="framework", id="gen", title="Generated framework", version="1", scale=scale.id,
        tiers={"core": Described(description="every criterion")}, quantifiers=quantifiers,
        grades=tuple(GradeRule(level=name, when=(Condition(met=Selection(), **{"is": name}),)) for name in names),
        hit_policy=HitPolicy(policy="best"),  # the strictest reading that holds
        undecided=Undecided(outcome="professional_judgement", reason="no quantifier holds"))
    cs = CriteriaSet(arbiter="criteria", id="gen/set", framework="gen", title="Generated area",
                     criteria=tuple(Criterion(id=f"k{i}", tier="core", text=f"criterion {i}") for i in range(size)))
    return Criteria.from_models(scale, framework, cs)


def case_meeting(cs: CriteriaSet, met: int) -> Case:
    """A case in which the first `met` criteria of the set are met and the others not."""
    findings = tuple(Finding(criterion=c.id, finding="met" if i < met else "not_met") for i, c in enumerate(cs.criteria))
    return Case(arbiter="case", id="gen/case", criteria=cs.id, subject="Generated force", constructed=True,
                findings=findings)


# --- scored inputs: criteria scored on a scale, sums of scores, exclusive groups ---------------

SCORED_TIER = "core"  # the tier of every generated scored criterion (criteria_sets never uses it)
STRICT = ("below", "above")


@st.composite
def scored_sets(draw, small: bool = False, grouped: bool = False) -> CriteriaSet:
    """Met/not-met criteria (fair tier) and scored ones (core tier), each scored on its own
    scale, and at most one exclusive group of met/not-met criteria (grouped: always one). Small:
    few enough criteria and scores to try every combination of findings (at most 3^3 x 5 or
    3^2 x 5^2)."""
    most = 3 if small else 4
    plain = [Criterion(id=f"k{i}", tier="fair", text=f"criterion {i}")
             for i in range(draw(st.integers(2 if grouped else 1, most)))]
    scored = []
    for i in range(draw(st.integers(1, (2 if len(plain) < 3 else 1) if small else most))):
        low = draw(st.integers(0, 2))
        scored.append(Criterion(id=f"v{i}", tier=SCORED_TIER, text=f"scored criterion {i}",
                                scored=ScoreScale(min=low, max=low + draw(st.integers(1, 3 if small else 4)))))
    groups = ()
    if len(plain) >= 2 and (grouped or draw(st.booleans())):
        members = tuple(c.id for c in plain[:draw(st.integers(2, len(plain)))])
        groups = (ExclusiveGroup(id="g0", criteria=members, exactly_one=draw(st.booleans())),)
    return CriteriaSet(arbiter="criteria", id="gen/set", framework="gen", title="Generated area",
                       criteria=tuple(plain + scored), exclusive=groups)


def _score_bounds(low: int, high: int, bounds: tuple[str, ...]) -> list[tuple[str, int]]:
    """Every bound of these kinds that some value from low to high meets (none is refused, E133)."""
    reach = {"at_least": range(low, high + 1), "at_most": range(low, high + 1), "exactly": range(low, high + 1),
             "below": range(low + 1, high + 2), "above": range(max(low - 1, 0), high)}
    return [(bound, value) for bound in bounds for value in reach[bound]]


def _score_condition(draw, cs: CriteriaSet, bounds: tuple[str, ...]) -> Condition:
    """A condition on one scored criterion's score, or on the sum of a selection's scores."""
    scored = [c for c in cs.criteria if c.scored]
    if draw(st.booleans()):
        criterion = draw(st.sampled_from(scored))
        bound, value = draw(st.sampled_from(_score_bounds(criterion.scored.min, criterion.scored.max, bounds)))
        return Condition(score=criterion.id, **{bound: value})
    chosen = scored if draw(st.booleans()) else draw(st.lists(st.sampled_from(scored), min_size=1, unique=True))
    selection = Selection(tier=SCORED_TIER) if chosen is scored else Selection(ids=tuple(sorted(c.id for c in chosen)))
    bound, value = draw(st.sampled_from(_score_bounds(0, sum(c.scored.max for c in chosen), bounds)))
    return Condition(score_sum=selection, **{bound: value})


def _plain_condition(draw, cs: CriteriaSet) -> Condition:
    """A count of met, not met or not assessed among the met/not-met criteria, or some of them
    (an exclusive group's members among them, so that a switch inside the group can move it)."""
    plain = [c.id for c in cs.criteria if not c.scored]
    quantity = draw(st.sampled_from(["met", "met", "not_met", "not_assessed"]))
    chosen = plain if draw(st.booleans()) else draw(st.lists(st.sampled_from(plain), min_size=1, unique=True))
    selection = Selection(tier="fair") if chosen is plain else Selection(ids=tuple(sorted(chosen)))
    bound = draw(st.sampled_from(["at_least", "at_least", "at_most", "exactly"]))
    return Condition(**{quantity: selection, bound: draw(st.integers(0, len(chosen)))})


@st.composite
def scored_worlds(draw, monotone: bool = False, small: bool = False, grouped: bool = False) -> tuple[Criteria, Case]:
    """A framework whose conditions read scores and sums of scores (and sometimes counts among
    the met/not-met criteria, more often when they form an exclusive group), a scored criteria
    set (grouped: always with an exclusive group), and a valid case. With monotone=True: the best hit policy,
    grade rules and floors that need scores or sums at least (or above) a bound, and caps that
    need them at most (or below) one, so raising a score only makes a grade or floor's condition
    hold and a cap's fail."""
    scale = draw(scales())
    cs = draw(scored_sets(small, grouped))
    levels = [lv.id for lv in scale.levels]
    policy = "best" if monotone else draw(st.sampled_from(HIT_POLICIES))
    rising = ("at_least", "above") if monotone else ("at_least", "at_most", "exactly", "below", "above")
    falling = ("at_most", "below") if monotone else rising

    def conditions(bounds: tuple[str, ...], most: int) -> tuple[Condition, ...]:
        drawn = [_score_condition(draw, cs, bounds) for _ in range(draw(st.integers(1, most)))]
        if draw(st.integers(0, 3 if not cs.exclusive else 1)) == 0:
            drawn.append(_plain_condition(draw, cs))
        return tuple(drawn)

    graded = [lv for lv in levels if draw(st.booleans())] or [levels[-1]]
    grades = tuple(GradeRule(level=level, when=conditions(rising, 2)) for level in graded[:4])
    limiters = tuple(Limiter(id=f"cap{i}", cap=draw(st.sampled_from(levels)), description=f"cap {i}",
                             absolute=draw(st.booleans()), when=conditions(falling, 1))
                     for i in range(draw(st.integers(0, 2))))
    floors = tuple(Floor(id=f"floor{i}", floor=draw(st.sampled_from(levels)), description=f"floor {i}",
                         when=conditions(rising, 1))
                   for i in range(draw(st.integers(0, 1))))
    framework = Framework(
        arbiter="framework", id="gen", title="Generated framework", version="1", scale=scale.id,
        tiers={t: Described(description=f"tier {t}") for t in TIERS}, grades=grades, limiters=limiters,
        floors=floors, hit_policy=HitPolicy(policy=policy),
        undecided=Undecided(outcome="professional_judgement", reason="no rule decides"))
    return Criteria.from_models(scale, framework, cs), draw(scored_cases_for(cs, scale))


@st.composite
def scored_cases_for(draw, cs: CriteriaSet, scale: Scale) -> Case:
    """A valid case: a score on its scale (or not assessed) for each scored criterion, and
    findings that keep each exclusive group to at most (or exactly) one met."""
    values: dict[str, object] = {}
    for c in cs.criteria:
        choices = [*c.scored.values, "not_assessed"] if c.scored else ["met", "not_met", "not_assessed"]
        values[c.id] = draw(st.sampled_from(choices))
    for group in cs.exclusive:
        met = draw(st.sampled_from([None, *group.criteria])) if not group.exactly_one \
            else draw(st.sampled_from(group.criteria))
        for cid in group.criteria:
            values[cid] = "met" if cid == met else draw(st.sampled_from(["not_met", "not_assessed"]))
    findings = tuple(Finding(criterion=cid, score=v) if isinstance(v, int) else Finding(criterion=cid, finding=v)
                     for cid, v in values.items())
    override = Override(outcome=draw(st.sampled_from([lv.id for lv in scale.levels])), rationale="judgement",
                        by="HMI") if draw(st.integers(0, 5)) == 0 else None
    return Case(arbiter="case", id="gen/case", criteria=cs.id, subject="Generated force", constructed=True,
                findings=findings, override=override)


# --- the appointment side's generated frameworks ----------------------------------------------

def generated_cvf(areas: list[str]) -> CompetencyFramework:
    """A competency framework whose first two areas are values and the rest competencies."""
    return CompetencyFramework(
        arbiter="competency_framework", id="gen-cvf", title="Generated framework", levels_cumulative=True,
        cumulative_text="cumulative",
        values=tuple(CvfValue(id=v, name=f"Value {v}", description=("d",), behaviours=("b",)) for v in areas[:2]),
        competencies=tuple(CvfCompetency(id=c, name=f"Competency {c}", cluster="k", description=("d",),
                                         levels=(CvfLevel(level=1, behaviours=("b",)),)) for c in areas[2:]))


RATING_SCALE = Scale(arbiter="scale", id="gen-rating", title="1-5",
                     levels=tuple(Level(id=str(v), label=f"r{v}", definition="d", value=v) for v in (5, 4, 3, 2, 1)))


# --- pair tables: two assessors' ratings mapped by a table to a category (appointments) ------

PAIR_KINDS = ("pass", "fail", "tiebreaker", "discuss")


@st.composite
def pair_table_processes(draw, areas: tuple[str, ...] = ("v1", "v2", "c1", "c2"), most_cells: int = 4):
    """A selection process scored by a generated pair table on the 1-5 rating scale: every
    unordered pair of ratings mapped to one of up to five categories (the first always passes,
    so a ranking category exists), and one to three scored cells per exercise."""
    from engine.language.appointment_models import Exercise, PairCategory, PairRow, PanelRules, Scoring, SelectionProcess

    kinds = ["pass"] + draw(st.lists(st.sampled_from(PAIR_KINDS), max_size=4))
    categories = tuple(PairCategory(id=f"k{i}", passes=kind == "pass" if kind in ("pass", "fail") else None,
                                    resolution=kind if kind in ("tiebreaker", "discuss") else None)
                       for i, kind in enumerate(kinds))
    values = [lv.value for lv in RATING_SCALE.levels]
    rows = tuple(PairRow(ratings=draw(st.sampled_from([(a, b), (b, a)])), category=draw(st.sampled_from(categories)).id)
                 for a in values for b in values if a <= b)
    passing = [c.id for c in categories if c.passes]
    rank_by = tuple(draw(st.lists(st.sampled_from(passing), min_size=1, unique=True)))
    exercises, left = [], most_cells
    for i in range(draw(st.integers(1, 2))):
        if left == 0:
            break
        chosen = draw(st.lists(st.sampled_from(areas), min_size=1, max_size=min(3, left), unique=True))
        left -= len(chosen)
        exercises.append(Exercise(id=f"e{i}", title=f"Exercise {i}", assesses=tuple(chosen), scored=True))
    scoring = Scoring(method="pair_table", assessors=2, categories=categories, table=rows, rank_by=rank_by,
                      choice="generated")
    return SelectionProcess(
        arbiter="selection_process", id="gen/pairs", title="Generated pair-table process", role="Superintendent",
        competency_framework="gen-cvf", level=1, rating_scale="gen-rating", exercises=tuple(exercises),
        scoring=scoring, ranking="most_cells_in_rank_categories_among_passers", tie_policy="refer_to_panel",
        panel=PanelRules(scoring_roles=("lead", "assessor"), advisory_roles=("hr_adviser",), independent_role="assessor"))


@st.composite
def pair_resolutions(draw, process, individual: dict[str, int]):
    """Maybe a recorded resolution for a cell rated `individual`: where its pair needs resolving,
    often one of that pair (a settling category, by any assessor, sometimes with a third
    rating); now and then one of another pair, which a file may not hold (E113) but which the
    rules must leave unapplied, as they do when a rating moves after the resolution."""
    from engine.language.appointment_models import Resolution

    table = process.scoring
    row = next(r for r in table.table if sorted(r.ratings) == sorted(individual.values()))
    needs = next(c for c in table.categories if c.id == row.category).resolution
    settling = [c.id for c in table.categories if c.resolution is None]
    stale = draw(st.integers(0, 9)) == 0
    if not (needs or stale) or not draw(st.booleans()):
        return None
    pair = tuple(draw(st.sampled_from(table.table)).ratings) if stale else tuple(individual.values())
    return Resolution(pair=pair, category=draw(st.sampled_from(settling)), by=draw(st.sampled_from(["a0", "a1", "a2"])),
                      rationale="r", tiebreak_rating=draw(st.one_of(st.none(), st.integers(1, 5))))


@st.composite
def pair_fields(draw, process, most_candidates: int = 4):
    """Candidates rated in every scored cell by two of three assessors, each on their own; a
    cell whose pair needs a tiebreaker or discussion may carry its resolution."""
    from engine.language.appointment_models import Appointment, Candidate, PanelMember, Rating

    panel = (PanelMember(id="a0", role="lead"), PanelMember(id="a1", role="assessor"),
             PanelMember(id="a2", role="assessor"), PanelMember(id="hr", role="hr_adviser"))
    candidates = [f"cand-{i}" for i in range(draw(st.integers(1, most_candidates)))]
    ratings = []
    for cand in candidates:
        for exercise in process.exercises:
            for area in exercise.assesses:
                pair = draw(st.lists(st.sampled_from(["a0", "a1", "a2"]), min_size=2, max_size=2, unique=True))
                individual = {m: draw(st.integers(1, 5)) for m in pair}
                ratings.append(Rating(candidate=cand, exercise=exercise.id, area=area, individual=individual,
                                      rationale="r", recorded_by="hr",
                                      resolution=draw(pair_resolutions(process, individual))))
    return Appointment(arbiter="appointment", id="gen/pairs-appointment", process=process.id, constructed=True,
                       panel=panel, candidates=tuple(Candidate(id=c) for c in candidates), ratings=tuple(ratings))


# --- decisions that feed decisions (criteria/examples-decision-graph) -------------------------

GRAPH_QUESTIONS = {"q1": "q1-preventing-crime", "q2": "q2-investigating-crime", "q3": "q3-protecting-vulnerable-people"}
GRAPH_CRITERIA = ("leadership", "practice", "supervision", "learning", "innovation")
GRAPH_LEVELS = ("outstanding", "good", "requires_improvement", "inadequate")


@st.composite
def decision_chains(draw) -> tuple[dict[str, dict], dict]:
    """A generated chain: key-question cases of the constructed sets with drawn findings, each
    kept in memory under a generated id, and an overall case that takes some of its sub-areas
    from them (`decision:`) and the rest by hand. Returns (key-question cases by sub-area, the
    overall case), as the data the files would hold."""
    linked = draw(st.lists(st.sampled_from(sorted(GRAPH_QUESTIONS)), min_size=1, max_size=3, unique=True))
    questions = {}
    for sub in sorted(linked):
        findings = [{"criterion": f"{sub}-{name}", "finding": draw(st.sampled_from(["met", "not_met", "not_assessed"]))}
                    for name in GRAPH_CRITERIA]
        questions[sub] = {"arbiter": "case", "id": f"generated/{sub}",
                          "criteria": f"examples-decision-graph/questions/{GRAPH_QUESTIONS[sub]}",
                          "subject": "Generated force", "constructed": True, "findings": findings}
    subgrades = {sub: {"decision": questions[sub]["id"]} if sub in questions else draw(st.sampled_from(GRAPH_LEVELS))
                 for sub in sorted(GRAPH_QUESTIONS)}
    overall = {"arbiter": "case", "id": "generated/overall", "criteria": "examples-decision-graph/overall",
               "subject": "Generated force", "constructed": True, "subgrades": subgrades}
    return questions, overall


# --- appointment packs: what the three decisions concluded -----------------------------------

PACK_CANDIDATES = ("cand-a", "cand-b", "1")  # "1": an id the engine must not read as a number


@st.composite
def pack_inputs(draw) -> dict:
    """What a pack's selection, compliance and hearing decisions can conclude, as their records
    state it: a preferred candidate only with the outcome `preferred`."""
    outcome = draw(st.sampled_from(["preferred", "tie", "no_appointable_candidate", "resolution_required",
                                    "incomplete"]))
    preferred = draw(st.sampled_from(PACK_CANDIDATES)) if outcome == "preferred" else None
    return {"selection_outcome": outcome, "preferred": preferred, "heard": draw(st.sampled_from(PACK_CANDIDATES)),
            "compliance_outcome": draw(st.sampled_from(["compliant", "not_compliant"])),
            "hearing_outcome": draw(st.sampled_from(["veto", "no_veto"]))}


# --- staged scoring: a selection scored after some of its stages (appointments) ---------------

@st.composite
def staged_processes(draw, process):
    """The process with its scored exercises in stages: each its own stage (the default, no
    `stage:` written), or, now and then, sharing a named stage with the scored exercise before it."""
    exercises, previous = list(process.exercises), None  # previous: the index of the last scored exercise
    for i, exercise in enumerate(exercises):
        if not exercise.scored:
            continue
        if previous is not None and draw(st.booleans()):
            stage = exercises[previous].stage or exercises[previous].id
            exercises[i] = exercise.model_copy(update={"stage": stage})
        previous = i
    return process.model_copy(update={"exercises": tuple(exercises)})


@st.composite
def staged_fields(draw, process, appt):
    """The field with the cells of some of the process's stages (none, some or all of them) not
    yet filled: each such cell written blank, as a scoresheet leaves it, or not written at all."""
    from engine.language.appointment_models import stages

    chosen = draw(st.lists(st.sampled_from([s for s, _ in stages(process)]), unique=True))
    waiting = {ex for stage, exercises in stages(process) if stage in chosen for ex in exercises}
    ratings = []
    for rating in appt.ratings:
        if rating.exercise not in waiting:
            ratings.append(rating)
        elif draw(st.booleans()):
            ratings.append(rating.model_copy(update={"agreed": None, "rationale": "", "resolution": None,
                                                     "individual": {m: None for m in rating.individual}}))
    return appt.model_copy(update={"ratings": tuple(ratings)})


# YAML text, written by hand rather than dumped, so that it holds what people write: every scalar
# style, block and flow collections, compact and indentless sequences, comments, blank lines,
# non-ASCII text, CRLF line ends, duplicate keys and the YAML 1.1 traps the loader flags.
# `yaml_texts()` draws a well-formed document; `broken_yaml_texts()` draws one with a few
# characters that matter to YAML inserted, deleted or replaced, so that most no longer parse.

_YAML_KEYS = ["grade", "id", "name", "findings", "met", "area", "note", "naïve", "área", "評価", "key with spaces"]
_YAML_PLAIN = ["Kent", "good", "fair", "yes", "no", "On", "off", "y", "N", "true", "False", "null", "~", "0", "7",
               "-3", "+4", "012", "-007", "1.5", ".5", "1e3", "-2.5E-3", ".inf", "-.NaN", "0x1F", "0o17", "0b101",
               "2007-03-01", "12:30", "9007199254740993", "é", "café crème", "数据", "a-b", "a:b", "a#b",
               "x y z", "C++", "50%", "e=mc2", "€5", "😀 ok"]
_YAML_TEXT = st.text(st.sampled_from(list("ab Zé数€😀#:-,[]{}'\"\\!&*?|>%@`\n")), max_size=12)
_COMMENTS = st.sampled_from(["", "", " # note", " # é 数", " #", "  # a: b"])


def _single_quoted(text: str) -> str:
    return "'" + text.replace("'", "''").replace("\n", " ") + "'"


def _double_quoted(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
    return '"' + escaped + '"'


@st.composite
def _yaml_scalars(draw, in_flow: bool) -> tuple[str, list[str]]:
    """A scalar as (text on its own line, lines that follow it): block scalars take lines."""
    styles = ["plain", "single", "double", "empty"] + ([] if in_flow else ["literal", "folded", "folded_double"])
    style = draw(st.sampled_from(styles))
    if style == "plain":
        return draw(st.sampled_from([p for p in _YAML_PLAIN if not in_flow or not set(p) & set(",[]{}#:")])), []
    if style == "empty":
        return "", []
    if style == "single":
        return _single_quoted(draw(_YAML_TEXT)), []
    if style == "double":
        return _double_quoted(draw(_YAML_TEXT)), []
    lines = draw(st.lists(st.sampled_from(["line one", "é 数 ünïcode", "  indented more", "", "a: b # not a comment",
                                           "- not a list"]), min_size=1, max_size=4))
    if style == "folded_double":  # a double-quoted scalar folded over two lines
        return '"' + lines[0].strip().replace('"', "") + "", [" " + (lines[-1].strip().replace('"', "") or "x") + '"']
    lines[0] = lines[0].strip() or "first"  # a block scalar's first line sets its indentation
    indicator = ("|" if style == "literal" else ">") + draw(st.sampled_from(["", "-", "+"]))
    return indicator, lines


@st.composite
def _yaml_flow(draw, depth: int) -> str:
    if depth >= 2 or draw(st.booleans()):
        return draw(_yaml_scalars(in_flow=True))[0] or "''"
    if draw(st.booleans()):
        items = draw(st.lists(_yaml_flow(depth + 1), max_size=3))
        return "[" + ", ".join(items) + "]"
    keys = draw(st.lists(st.sampled_from(_YAML_KEYS[:6]), max_size=3))
    return "{" + ", ".join(f"{key}: {draw(_yaml_flow(depth + 1))}" for key in keys) + "}"


@st.composite
def _yaml_block(draw, indent: int, depth: int, kind: str) -> list[str]:
    """Lines of a block mapping or sequence whose entries start at column indent."""
    pad = " " * indent
    lines: list[str] = []
    for _ in range(draw(st.integers(1, 3))):
        if draw(st.integers(0, 5)) == 0:
            lines.append(draw(st.sampled_from(["", pad + "# a comment é", "#", pad + "   "])))
        lead = pad + (draw(st.sampled_from(_YAML_KEYS)) + ":" if kind == "map" else "-")
        lines += draw(_yaml_entry(lead, indent, depth))
    return lines


@st.composite
def _yaml_entry(draw, lead: str, indent: int, depth: int) -> list[str]:
    """One entry: lead ('key:' or '-') followed by its value, on this line or the lines below."""
    shape = draw(st.sampled_from(["scalar", "scalar", "flow"] + (["map", "seq"] if depth < 3 else [])))
    comment = draw(_COMMENTS)
    if shape == "flow":
        return [f"{lead} {draw(_yaml_flow(0))}{comment}"]
    if shape == "scalar":
        head, rest = draw(_yaml_scalars(in_flow=False))
        inner = " " * (indent + draw(st.sampled_from([2, 4])))
        return [f"{lead} {head}".rstrip() + ("" if rest else comment)] + [inner + line if line else "" for line in rest]
    step = draw(st.sampled_from([2, 4]))
    if shape == "seq" and lead.endswith(":") and draw(st.booleans()):
        step = 0  # an indentless sequence under a key
    if lead.endswith("-") and shape == "map" and draw(st.booleans()):
        # a compact mapping: the first key on the dash's line, the others under it
        body = draw(_yaml_block(indent + 2, depth + 1, "map"))
        return [lead + " " + body[0].lstrip()] + body[1:] if body[0].strip() else [lead] + body[1:]
    return [lead + comment] + draw(_yaml_block(indent + step, depth + 1, shape))


@st.composite
def yaml_texts(draw) -> str:
    """A well-formed YAML document: a block mapping, now and then a flow collection or a scalar."""
    top = draw(st.sampled_from(["map"] * 6 + ["seq", "flow", "scalar"]))
    if top == "flow":
        lines = [draw(_yaml_flow(0))]
    elif top == "scalar":
        lines = [draw(_yaml_scalars(in_flow=True))[0] or "''"]
    else:
        lines = draw(_yaml_block(0, 0, top))
    if draw(st.integers(0, 4)) == 0:
        lines.insert(0, draw(st.sampled_from(["---", "# heading", "%YAML 1.1\n---"])))
    end = draw(st.sampled_from(["\n", "\n", "\r\n"]))
    return end.join(lines) + draw(st.sampled_from([end, "", end + end, end + "..." + end]))


_YAML_SIGNIFICANT = (list(":-[]{}'\"#&*!|>%@`?,. \n\t\r~é\x85\u2028\u2029\ufeff")
                     + ["---\n", "\n  ", ": ", "- ", "&a ", "*a", "!!str ", "\r\n", "..."])


@st.composite
def broken_yaml_texts(draw) -> str:
    """A YAML document with one to three edits by characters that matter to YAML."""
    text = draw(yaml_texts())
    for _ in range(draw(st.integers(1, 3))):
        at = draw(st.integers(0, len(text)))
        edit = draw(st.sampled_from(["insert", "delete", "replace"]))
        piece = "" if edit == "delete" else draw(st.sampled_from(_YAML_SIGNIFICANT))
        text = text[:at] + piece + text[at + (0 if edit == "insert" else 1):]
    return text
