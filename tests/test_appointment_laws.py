"""The laws of appointments, one per test, on generated processes, panels and ratings."""

from __future__ import annotations

from dataclasses import astuple

import pytest
from hypothesis import given
from hypothesis import strategies as st

from engine.oracle import appointment_reference
from engine.compiler import compliance as compile_compliance_rules
from engine.compiler import hearing as compile_hearing_rules
from engine.compiler import selection as compile_selection_rules
from engine.runtime import compliance, hearing, selection
from engine.language.appointment_models import (Appointment, Candidate, ComplianceFramework, ComplianceRecord, Exercise,
                                                Fraction, Gate, Hearing, PanelMember, PanelRules, PanelRulesFile, Rating,
                                                Requirement, SelectionProcess, VetoRule)

from .strategies import RATING_SCALE, generated_cvf

AREAS = ["v1", "v2", "c1", "c2", "c3"]
CVF = generated_cvf(AREAS)
SCALE = RATING_SCALE
ROLES = ["chair", "member", "independent", "hr_adviser"]


@st.composite
def processes(draw) -> SelectionProcess:
    count = draw(st.integers(1, 3))
    exercises = []
    for i in range(count):
        areas = draw(st.lists(st.sampled_from(AREAS), min_size=1, max_size=4, unique=True))
        exercises.append(Exercise(id=f"e{i}", title=f"Exercise {i}", assesses=tuple(areas), scored=i == 0 or draw(st.booleans())))
    gates = tuple(Gate(id=f"g{i}", description="every rating at least", every_rating_at_least=draw(st.integers(1, 5)))
                  for i in range(draw(st.integers(1, 2))))
    return SelectionProcess(
        arbiter="selection_process", id="gen/process", title="Generated process", role="Chief Constable",
        competency_framework="gen-cvf", level=1, rating_scale="gen-rating", exercises=tuple(exercises), gates=gates,
        scoring="sum_of_agreed_ratings", ranking="highest_total_among_gate_passers", tie_policy="refer_to_panel",
        panel=PanelRules(scoring_roles=("chair", "member", "independent"), advisory_roles=("hr_adviser",),
                         independent_role="independent"))


@st.composite
def fields(draw, process: SelectionProcess) -> Appointment:
    candidates = [f"cand-{i}" for i in range(draw(st.integers(1, 5)))]
    panel = tuple(PanelMember(id=f"m{i}", role=draw(st.sampled_from(ROLES))) for i in range(draw(st.integers(1, 4))))
    scorers = [m.id for m in panel if m.role != "hr_adviser"]
    ratings = []
    for cand in candidates:
        for exercise in process.exercises:
            for area in exercise.assesses:
                ratings.append(Rating(candidate=cand, exercise=exercise.id, area=area,
                                      individual={m: draw(st.integers(1, 5)) for m in scorers},
                                      agreed=draw(st.integers(1, 5)), rationale="r", recorded_by=panel[0].id))
    return Appointment(arbiter="appointment", id="gen/appointment", process=process.id, constructed=True,
                       panel=panel, candidates=tuple(Candidate(id=c) for c in candidates), ratings=tuple(ratings))


@st.composite
def selections(draw):
    process = draw(processes())
    return process, compile_selection_rules.compile_selection(process, CVF, SCALE), draw(fields(process))


@given(selections(), st.randoms(use_true_random=False))
def test_reordering_candidates_members_or_cells_changes_nothing(world, rnd):
    """The order in which candidates, panel members and cells are written does not matter."""
    _, compiled, appt = world
    assert selection.evaluate(compiled, reordered(appt, rnd)) == selection.evaluate(compiled, appt)


def reordered(appt, rnd):
    """The same field with its candidates, panel members and cells each written in another order."""
    shuffled = [list(appt.candidates), list(appt.panel), list(appt.ratings)]
    for items in shuffled:
        rnd.shuffle(items)
    return appt.model_copy(update={"candidates": tuple(shuffled[0]), "panel": tuple(shuffled[1]),
                                   "ratings": tuple(shuffled[2])})


@given(selections(), st.data())
def test_raising_one_agreed_rating_never_hurts_that_candidate(world, data):
    """Raising one agreed rating never turns a pass into a fail and never lowers that
    candidate's rank."""
    _, compiled, appt = world
    raisable = [i for i, r in enumerate(appt.ratings) if r.agreed < 5]
    if not raisable:
        return
    i = data.draw(st.sampled_from(raisable))
    rating = appt.ratings[i]
    ratings = list(appt.ratings)
    ratings[i] = rating.model_copy(update={"agreed": rating.agreed + 1})
    before = selection.evaluate(compiled, appt)
    after = selection.evaluate(compiled, appt.model_copy(update={"ratings": tuple(ratings)}))
    cand = rating.candidate
    assert not (before.passed[cand] and not after.passed[cand])
    if before.passed[cand]:
        assert selection.ranks(after)[cand] <= selection.ranks(before)[cand]


@given(selections())
def test_durable_rules_and_the_oracle_agree_on_selections(world):
    """durable-rules and the oracle agree on every gate, total and the outcome."""
    assert_the_oracle_agrees(*world)


def assert_the_oracle_agrees(process, compiled, appt) -> None:
    """Every gate, total, rank and the outcome, as durable-rules and the oracle decide them."""
    decided = selection.evaluate(compiled, appt)
    answer = appointment_reference.selection(process, appt)
    totals = {t.candidate: t.total for t in decided.tallies}
    assert (decided.passed, totals, selection.ranks(decided), decided.outcome, decided.preferred, decided.tied) == \
        (answer.passed, answer.totals, answer.ranks, answer.outcome, answer.preferred, answer.tied)


@st.composite
def hearings(draw):
    denominator = draw(st.integers(1, 5))
    numerator = draw(st.integers(1, denominator))
    rules = panel_rules(numerator, denominator)
    members = draw(st.integers(1, 25))
    votes = draw(st.integers(0, members))
    record = Hearing(arbiter="hearing", id="gen/hearing", panel_rules=rules.id, candidate="cand-x", constructed=True,
                     members=members, votes_for_veto=votes)
    return rules, compile_hearing_rules.compile_hearing(rules), record


@given(hearings())
def test_the_veto_is_monotone_in_votes(world):
    """One more vote for a veto never turns a veto into no veto."""
    _, compiled, record = world
    if record.votes_for_veto == record.members:
        return
    more = record.model_copy(update={"votes_for_veto": record.votes_for_veto + 1})
    if hearing.evaluate(compiled, record).outcome == "veto":
        assert hearing.evaluate(compiled, more).outcome == "veto"


@given(hearings())
def test_durable_rules_and_the_oracle_agree_on_hearings(world):
    """The veto and the votes it needs, on generated rules and votes."""
    rules, compiled, record = world
    decided = hearing.evaluate(compiled, record)
    assert (decided.outcome, decided.needed) == astuple(appointment_reference.hearing(rules, record))


def panel_rules(numerator: int, denominator: int) -> PanelRulesFile:
    return PanelRulesFile(arbiter="panel_rules", id="gen/panel", title="Generated panel",
                          veto=VetoRule(at_least=Fraction(numerator=numerator, denominator=denominator), of="members",
                                        text="veto"), on_veto="must not appoint", on_no_veto="recommendation")


# What this law catches: a veto decided at the wrong side of its fraction. The panel rules
# compile to a rule comparing votes x denominator with numerator x members; were it '>'
# instead of '>=' (compiler/hearing.py), exactly two-thirds (8 of 12) would be no veto. The
# random law above reaches that boundary only by chance; this one tries every vote count
# of every membership, for every fraction with a denominator up to 6.
VETO_FRACTIONS = [(n, d) for d in range(1, 7) for n in range(1, d + 1)]


@pytest.mark.parametrize("numerator,denominator", VETO_FRACTIONS, ids=[f"{n}of{d}" for n, d in VETO_FRACTIONS])
def test_the_veto_agrees_at_every_vote_of_every_membership(numerator, denominator):
    """For every membership from 1 to 30 and every number of votes from none to all,
    durable-rules and the oracle agree on the veto and on the votes it needs."""
    rules = panel_rules(numerator, denominator)
    compiled = compile_hearing_rules.compile_hearing(rules)
    for members in range(1, 31):
        for votes in range(members + 1):
            record = Hearing(arbiter="hearing", id="gen/hearing", panel_rules=rules.id, candidate="cand-x",
                             constructed=True, members=members, votes_for_veto=votes)
            decided = hearing.evaluate(compiled, record)
            assert (decided.outcome, decided.needed) == astuple(appointment_reference.hearing(rules, record)), \
                f"{votes} of {members} members, at least {numerator}/{denominator}"


def test_the_veto_counts_members_not_attendance():
    """8 of 13 members is no veto even when only 10 attended (the arithmetic is on membership)."""
    rules = panel_rules(2, 3)
    record = Hearing(arbiter="hearing", id="gen/hearing", panel_rules=rules.id, candidate="cand-x", constructed=True,
                     members=13, present=10, votes_for_veto=8)
    decided = hearing.evaluate(compile_hearing_rules.compile_hearing(rules), record)
    assert (decided.outcome, decided.needed) == ("no_veto", 9)


@st.composite
def compliance_records(draw):
    import datetime

    from engine.appointments.appointments import compile_rules
    from engine.language.catalog import Catalog

    from .conftest import ROOT

    catalog = Catalog(ROOT)
    loaded = catalog.load(catalog.path_of("compliance/chief-constable-appointment"), "compliance")
    published = datetime.date(2022, 10, 3) + datetime.timedelta(days=draw(st.integers(-400, 400)))
    closes = published + datetime.timedelta(days=draw(st.integers(-5, 40)))
    base = draw(st.integers(1, 30_000_000))
    items = ["candidate_name", "assessment_criteria", "why_criteria_met", "terms_and_conditions"]
    record = ComplianceRecord(
        arbiter="compliance_record", id="gen/compliance", compliance=loaded.model.id, subject="Generated", constructed=True,
        dates={"advert_published": published.isoformat(), "applications_close": closes.isoformat()},
        numbers={"base_salary": base, "offered_salary": base + draw(st.integers(-base // 5, base // 5)),
                 "initial_term_months": draw(st.integers(1, 84))},
        flags={"varied_at_appointment": draw(st.booleans()), "vetted": draw(st.booleans())},
        lists={"notification": tuple(draw(st.lists(st.sampled_from(items), unique=True)))})
    return loaded.model, compile_rules(catalog, loaded), record


@given(compliance_records())
def test_durable_rules_and_the_oracle_agree_on_compliance(world):
    """Every requirement, including the exact 10% and 21-day boundaries, is decided the same."""
    framework, compiled, record = world
    decided = compliance.evaluate(compiled, record)
    assert decided.passed == appointment_reference.compliance(framework, record)
    assert decided.outcome == ("compliant" if all(decided.passed.values()) else "not_compliant")


# The ratio law: a value within a fraction of a base, either way, tried at every value
# around every small base, so the exact edges (110 of 100 within a tenth) are always met.
RATIO_ALLOWANCES = [(1, 10), (1, 4), (1, 3), (1, 2), (1, 1)]


@pytest.mark.parametrize("numerator,denominator", RATIO_ALLOWANCES, ids=[f"{n}of{d}" for n, d in RATIO_ALLOWANCES])
def test_the_ratio_agrees_at_every_value_around_every_base(numerator, denominator):
    """For every base from 1 to 20 and every value from 0 to twice the base, durable-rules
    and the oracle agree on whether the value is within the allowance of the base."""
    framework = ComplianceFramework(
        arbiter="compliance", id="gen/compliance", title="Generated requirements",
        requirements=(Requirement(id="variation", description="within the allowance", ratio=("offered", "base"),
                                  within=Fraction(numerator=numerator, denominator=denominator)),))
    compiled = compile_compliance_rules.compile_compliance(framework)
    for base in range(1, 21):
        for offered in range(2 * base + 1):
            record = ComplianceRecord(arbiter="compliance_record", id="gen/record", compliance=framework.id,
                                      subject="Generated", constructed=True,
                                      numbers={"offered": offered, "base": base})
            assert compliance.evaluate(compiled, record).passed == appointment_reference.compliance(framework, record), \
                f"{offered} against {base}, within {numerator}/{denominator}"
