"""Hypothesis strategies for generated criteria and evidence, kept in one place.

`criteria_and_case(monotone=False)` draws a whole world: a scale, a framework (tiers,
flags, factors, quantifiers, grade rules, caps, floors), a criteria set with sub-areas,
and a schema-valid case for it. Every selection is drawn from criteria that exist and
every bound is reachable, so the world always compiles. With `monotone=True` the
framework only uses conditions for which meeting one more criterion can only help:
counts of met criteria (or of factors) for grades and floors, counts of not-met
criteria for caps and for the lowest grade.

`quantifier_ladder` and `case_meeting` build worlds exhaustively instead: quantifiers of one
kind over a set of a given size, and a case meeting a given number of its criteria.
"""

from __future__ import annotations

from hypothesis import strategies as st

from engine.language.appointment_models import CompetencyFramework, CvfCompetency, CvfLevel, CvfValue
from engine.language.criteria import Criteria
from engine.language.models import (Case, Concern, Condition, Criterion, CriteriaSet, Described, Everything, Finding, Floor,
                           Framework, GradeRule, HIT_POLICIES, HitPolicy, Level, Limiter, Override, Quantifier, Scale, Selection, Subgrade,
                           SubgradeCount, SubgradeEntry, SubgradeSelection, Undecided)

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
    floors = tuple(
        Floor(id=f"floor{i}", floor=draw(st.sampled_from(levels)), description=f"floor {i}",
              when=(_count_condition(draw, cs, quantifiers, "met", monotone=True) if monotone
                    else _any_condition(draw, cs, scale, quantifiers),))
        for i in range(draw(st.integers(0, 2))))
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
