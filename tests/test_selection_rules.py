"""A selection is decided by rules over its rating cells, and what the record says comes from
those rules' firings.

Every agreed rating in a scored exercise is a cell fact and every gate a gate fact; for each
candidate, cell and gate one of `cell:below` and `cell:meets` fires, holding the cell and the
gate it matched; `gate:pass` or `gate:fail` follows from the count of `cell:below`
conclusions. The tests compare the firings with the evidence read here (never with the
runtime's own arithmetic), show that the record's gate lines follow the firings, check the
ranks against a competition ranking computed here, and check the sensitivity scan's shortcut
(asking the cell rules about the changed cell alone) against a full decision.
"""

from __future__ import annotations

import shutil
from dataclasses import replace
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from engine.appointments.appointment_record import gate_lines, selection_records
from engine.appointments.appointments import decide, load_evidence
from engine.compiler.selection import compile_selection
from engine.language.appointment_check import flags
from engine.language.appointment_models import (Appointment, Candidate, Exercise, Gate, Moderation, PanelMember,
                                                PanelRules, Rating, SelectionProcess)
from engine.language.catalog import Catalog, declared_kind
from engine.runtime import durable, selection

from .conftest import ROOT
from .strategies import RATING_SCALE, generated_cvf

SELECTION_CASES = sorted(p for p in (ROOT / "cases" / "appointments").rglob("*.yaml")
                         if declared_kind(p) == "appointment")


# --- what the evidence says, read here ----------------------------------------------------

def scored_ratings(process: SelectionProcess, appt: Appointment) -> dict[tuple[str, str, str], int]:
    """(candidate, exercise, area) -> agreed rating, for the scored exercises only, and the cells
    filled (a staged file's blank cells belong to stages not yet held, which a file may only
    leave wholly blank)."""
    scored = {e.id for e in process.exercises if e.scored}
    return {(r.candidate, r.exercise, r.area): r.agreed for r in appt.ratings
            if r.exercise in scored and r.agreed is not None}


def passes_every_gate(process: SelectionProcess, appt: Appointment) -> dict[str, bool]:
    ratings = scored_ratings(process, appt)
    return {c.id: all(rating >= gate.every_rating_at_least for (cand, _, _), rating in ratings.items() if cand == c.id
                      for gate in process.gates) for c in appt.candidates}


def competition_ranks(process: SelectionProcess, appt: Appointment) -> dict[str, int | None]:
    """1, 2, 2, 4 among the candidates who pass every gate; None for the others. Walks the
    passers' totals from the highest, giving each group of equal totals the place it starts at."""
    ratings = scored_ratings(process, appt)
    passed = passes_every_gate(process, appt)
    totals = {c: sum(v for (cand, _, _), v in ratings.items() if cand == c) for c in passed if passed[c]}
    ranks: dict[str, int | None] = {c: None for c in passed}
    place = 1
    for total in sorted(set(totals.values()), reverse=True):
        group = [c for c, t in totals.items() if t == total]
        for cand in group:
            ranks[cand] = place
        place += len(group)
    return ranks


def cell_firings(evaluation: selection.SelectionEvaluation) -> list[durable.Firing]:
    return [f for f in evaluation.firings if f.rule.startswith("cell:")]


# --- generated processes and fields -------------------------------------------------------

AREAS = ["v1", "v2", "c1", "c2"]
CVF = generated_cvf(AREAS)
SCALE = RATING_SCALE
PANEL = (PanelMember(id="chair", role="chair"), PanelMember(id="member", role="member"),
         PanelMember(id="independent", role="independent"))


@st.composite
def worlds(draw):
    """A process of one to three gates (thresholds may repeat) and a field of one to four candidates,
    compiled; an unscored exercise is rated too, and no gate may look at it."""
    exercises = [Exercise(id=f"e{i}", title=f"Exercise {i}", scored=i != 2,
                          assesses=tuple(draw(st.lists(st.sampled_from(AREAS), min_size=1, max_size=3, unique=True))))
                 for i in range(draw(st.integers(1, 3)))]
    gates = tuple(Gate(id=f"g{i}", description="every rating at least", every_rating_at_least=draw(st.integers(1, 5)))
                  for i in range(draw(st.integers(1, 3))))
    process = SelectionProcess(
        arbiter="selection_process", id="gen/process", title="Generated process", role="Chief Constable",
        competency_framework="gen-cvf", level=1, rating_scale="gen-rating", exercises=tuple(exercises), gates=gates,
        scoring="sum_of_agreed_ratings", ranking="highest_total_among_gate_passers", tie_policy="refer_to_panel",
        panel=PanelRules(scoring_roles=("chair", "member", "independent"), independent_role="independent"))
    candidates = [f"cand-{i}" for i in range(draw(st.integers(1, 4)))]
    ratings = tuple(Rating(candidate=cand, exercise=e.id, area=area, agreed=draw(st.integers(1, 5)), rationale="r",
                           recorded_by="chair") for cand in candidates for e in exercises for area in e.assesses)
    appt = Appointment(arbiter="appointment", id="gen/appointment", process=process.id, constructed=True, panel=PANEL,
                       candidates=tuple(Candidate(id=c) for c in candidates), ratings=ratings)
    return process, compile_selection(process, CVF, SCALE), appt


# --- the cell rules compare every rating with every gate ----------------------------------

@given(worlds())
def test_every_scored_rating_meets_every_gate_by_a_rule_that_holds_the_cell(world):
    """One firing per candidate, scored cell and gate: `cell:below` exactly when the rating is
    below that gate's threshold, matching the cell fact with that rating and the gate fact
    with that threshold."""
    process, compiled, appt = world
    evaluation = selection.evaluate(compiled, appt)
    ratings = scored_ratings(process, appt)
    expected = [((cand, ex, area, gate.id), ratings[(cand, ex, area)], gate.every_rating_at_least)
                for cand in sorted(c.id for c in appt.candidates)
                for ex, area in [(e.id, a) for e in process.exercises if e.scored for a in e.assesses]
                for gate in process.gates]
    fired = cell_firings(evaluation)
    assert [(f.matched["ev"]["cand"], f.matched["ev"]["exercise"], f.matched["ev"]["area"], f.matched["ev"]["gate"])
            for f in fired] == [key for key, _, _ in expected]
    for firing, ((cand, ex, area, gate), rating, threshold) in zip(fired, expected):
        assert firing.rule == ("cell:below" if rating < threshold else "cell:meets")
        assert firing.matched["c"] == {"kind": "cell", "cand": cand, "exercise": ex, "area": area, "rating": rating}
        assert firing.matched["g"] == {"kind": "gate", "gate": gate, "threshold": threshold}


@given(worlds())
def test_a_candidate_passes_exactly_when_no_cell_rule_concluded_below(world):
    process, compiled, appt = world
    evaluation = selection.evaluate(compiled, appt)
    gate_rules = {f.matched["t"]["cand"]: f for f in evaluation.firings if f.rule.startswith("gate:")}
    below = {c.id: sum(1 for f in cell_firings(evaluation) if f.rule == "cell:below" and f.matched["c"]["cand"] == c.id)
             for c in appt.candidates}
    for cand, firing in gate_rules.items():
        assert firing.matched["t"]["shortfalls"] == below[cand]
        assert firing.rule == ("gate:pass" if below[cand] == 0 else "gate:fail")
    assert evaluation.passed == passes_every_gate(process, appt)


@given(worlds(), st.data())
def test_asking_about_the_changed_cell_alone_decides_as_a_full_evaluation(world, data):
    """The sensitivity scan's shortcut: a field with one agreed rating changed, decided by asking
    the cell rules about that cell alone, is the same evaluation, firing for firing, as one that
    asks about every cell."""
    process, compiled, appt = world
    base = selection.evaluate(compiled, appt)
    scored = {e.id for e in process.exercises if e.scored}
    index = data.draw(st.sampled_from([i for i, r in enumerate(appt.ratings) if r.exercise in scored]))
    changed = appt.ratings[index].model_copy(update={"agreed": data.draw(st.integers(1, 5))})
    variant = appt.model_copy(update={"ratings": appt.ratings[:index] + (changed,) + appt.ratings[index + 1:]})
    assert selection.evaluate_one_changed(compiled, base, variant, changed) == selection.evaluate(compiled, variant)


# --- the record's gate lines are the firings ------------------------------------------------

@pytest.mark.parametrize("path", SELECTION_CASES, ids=lambda p: p.stem)
def test_the_records_failing_cells_are_the_cell_rules_firings(catalog, path):
    """Each gate line lists the cells whose `cell:below` firing names that gate, and the
    candidate's trace holds those firings with the cell they matched."""
    loaded = load_evidence(path, catalog)
    records = selection_records(loaded, decide(loaded))
    ratings = scored_ratings(loaded.rules.model, loaded.evidence)
    for record in records[:-1]:
        below = [f for f in record["trace"] if f["rule"] == "cell:below"]
        for line in record["gates"]:
            cells = [f["matched"]["c"] for f in below if f["matched"]["g"]["gate"] == line["gate"]]
            assert len(line["failing"]) == len(cells) and line["passed"] == (not cells)
            for text, cell in zip(line["failing"], cells):
                assert f" at {cell['exercise']} rated {cell['rating']} < " in text
                assert cell["rating"] == ratings[(record["subject"], cell["exercise"], cell["area"])]
        assert record["outcome"] == ("gates_passed" if not below else "gate_failed")


def test_gate_lines_follow_the_firings_not_the_evidence(catalog):
    """Change what a `cell:below` firing matched, and the gate line says what the firing says:
    the record restates the rules' conclusions and never compares a rating again."""
    loaded = load_evidence(ROOT / "cases" / "appointments" / "constructed" / "gate-failed.yaml", catalog)
    evaluation = decide(loaded).decision.evaluation
    index = next(i for i, f in enumerate(evaluation.firings) if f.rule == "cell:below")
    firing = evaluation.firings[index]
    doctored = replace(firing, matched={**firing.matched, "c": {**firing.matched["c"], "rating": 1}})
    firings = evaluation.firings[:index] + (doctored,) + evaluation.firings[index + 1:]
    (line,) = gate_lines(loaded.compiled.plan, replace(evaluation, firings=firings), "cand-a")
    assert line["failing"] == ["area 'Integrity' at interview rated 1 < 3: gate failed"]  # the evidence says 2
    cleared = evaluation.firings[:index] + (replace(firing, rule="cell:meets"),) + evaluation.firings[index + 1:]
    (line,) = gate_lines(loaded.compiled.plan, replace(evaluation, firings=cleared), "cand-a")
    assert line["passed"] and line["failing"] == []


# --- ranks, against a ranking computed here ---------------------------------------------------

@pytest.mark.parametrize("path", SELECTION_CASES, ids=lambda p: p.stem)
def test_shipped_ranks_are_the_competition_ranking_of_the_passers(catalog, path):
    loaded = load_evidence(path, catalog)
    records = selection_records(loaded, decide(loaded))
    expected = competition_ranks(loaded.rules.model, loaded.evidence)
    assert {r["subject"]: r["rank"] for r in records[:-1]} == expected
    assert {c["candidate"]: c["rank"] for c in records[-1]["candidates"]} == expected


def test_the_shipped_cases_rank_a_tie_and_a_failed_candidate(catalog):
    """The ranking above is tested on a shared place and on a candidate with no rank."""
    ranks = [competition_ranks(loaded.rules.model, loaded.evidence)
             for loaded in (load_evidence(p, catalog) for p in SELECTION_CASES)]
    assert any(sorted(r.values(), key=str) == [1, 1] for r in ranks)  # tie.yaml: two share first place
    assert any(None in r.values() for r in ranks)


@given(worlds())
def test_ranks_are_the_competition_ranking_of_the_passers(world):
    process, compiled, appt = world
    assert selection.ranks(selection.evaluate(compiled, appt)) == competition_ranks(process, appt)


def test_competition_ranking_skips_the_places_a_tie_takes():
    """The independent ranking itself: totals 5, 4, 4, 2 and a candidate failing the gate (1 < 2)
    give 1, 2, 2, 4 and no rank."""
    process = SelectionProcess(
        arbiter="selection_process", id="gen/process", title="t", role="r", competency_framework="gen-cvf", level=1,
        rating_scale="gen-rating", exercises=(Exercise(id="e0", title="e", assesses=("v1",), scored=True),),
        gates=(Gate(id="g", description="d", every_rating_at_least=2),), scoring="sum_of_agreed_ratings",
        ranking="highest_total_among_gate_passers", tie_policy="refer_to_panel",
        panel=PanelRules(scoring_roles=("chair",), independent_role="chair"))
    agreed = {"a": 5, "b": 4, "c": 4, "d": 2, "e": 1}
    appt = Appointment(arbiter="appointment", id="gen/appointment", process=process.id, constructed=True, panel=PANEL,
                       candidates=tuple(Candidate(id=c) for c in agreed),
                       ratings=tuple(Rating(candidate=c, exercise="e0", area="v1", agreed=v, rationale="r",
                                            recorded_by="chair") for c, v in agreed.items()))
    assert competition_ranks(process, appt) == {"a": 1, "b": 2, "c": 2, "d": 4, "e": None}
    compiled = compile_selection(process, CVF, SCALE)
    assert selection.ranks(selection.evaluate(compiled, appt)) == {"a": 1, "b": 2, "c": 2, "d": 4, "e": None}


# --- moderation: the process's numbers --------------------------------------------------------

def _process_with(moderation: Moderation | None) -> SelectionProcess:
    return SelectionProcess(
        arbiter="selection_process", id="gen/process", title="t", role="r", competency_framework="gen-cvf", level=1,
        rating_scale="gen-rating", exercises=(Exercise(id="e0", title="e", assesses=("v1",), scored=True),),
        gates=(Gate(id="g", description="d", every_rating_at_least=1),), scoring="sum_of_agreed_ratings",
        ranking="highest_total_among_gate_passers", tie_policy="refer_to_panel",
        panel=PanelRules(scoring_roles=("chair", "member", "independent"), independent_role="independent"),
        moderation=moderation)


def _spread_flags(process: SelectionProcess, individual: dict[str, int]) -> list[str]:
    appt = Appointment(arbiter="appointment", id="gen/appointment", process=process.id, constructed=True, panel=PANEL,
                       candidates=(Candidate(id="cand-a"),),
                       ratings=(Rating(candidate="cand-a", exercise="e0", area="v1", individual=individual, agreed=3,
                                       rationale="r", recorded_by="chair"),))
    return [f.message for f in flags(appt, process) if f.code == "F202"]


def test_the_spread_that_flags_moderation_is_read_from_the_process():
    two_apart = {"chair": 2, "member": 3, "independent": 4}
    at_two = _process_with(Moderation(spread_at_least=2, choice="c"))
    at_three = _process_with(Moderation(spread_at_least=3, choice="c"))
    assert _spread_flags(at_two, two_apart) == [
        "cand-a e0/v1: individual ratings chair 2, member 3, independent 4 differ by 2 (chair gave 2, independent "
        "gave 4; the process flags 2 or more): a case for moderation"]
    assert _spread_flags(at_three, two_apart) == []
    assert _spread_flags(at_three, {"chair": 1, "member": 3, "independent": 4}) != []
    assert _spread_flags(_process_with(None), two_apart) == []  # no number declared, none assumed


def test_kent_declares_its_spread_as_a_choice_with_the_passage_it_reads(catalog):
    process = catalog.load(catalog.path_of("appointments/kent-chief-constable-2022"), "selection_process").model
    assert process.moderation.spread_at_least == 2
    assert process.moderation.source == "002:1151-1156"
    assert "gives no number" in process.moderation.choice and "Arbiter chooses 2" in process.moderation.choice


def test_a_spread_no_two_ratings_can_reach_is_refused_where_it_is_written(tmp_path):
    import engine

    shutil.copytree(ROOT / "criteria", tmp_path / "criteria")
    path = tmp_path / "criteria" / "appointments" / "kent-chief-constable-2022.yaml"
    text = path.read_text(encoding="utf-8")
    assert "  spread_at_least: 2" in text
    path.write_text(text.replace("  spread_at_least: 2", "  spread_at_least: 5"), encoding="utf-8")
    _, problems = engine.validate(Catalog(tmp_path), [path])
    line = next(n for n, text in enumerate(path.read_text(encoding="utf-8").splitlines(), 1) if "spread_at_least" in text)
    assert [(p.code, p.line, p.message) for p in problems] == [
        ("E113", line, "no two ratings on scale 'cvf-rating' differ by 5, so no cell would ever be flagged")]
    assert Path(problems[0].path).name == path.name


def _field(ratings: dict[str, list[int]]) -> tuple[SelectionProcess, Appointment]:
    """One scored exercise of three areas and a gate of 3; each candidate's three ratings."""
    areas = ("v1", "v2", "c1")
    process = SelectionProcess(
        arbiter="selection_process", id="gen/process", title="Generated process", role="Chief Constable",
        competency_framework="gen-cvf", level=1, rating_scale="gen-rating",
        exercises=(Exercise(id="e0", title="Exercise", assesses=areas, scored=True),),
        gates=(Gate(id="g0", description="every rating at least 3", every_rating_at_least=3),),
        scoring="sum_of_agreed_ratings", ranking="highest_total_among_gate_passers", tie_policy="refer_to_panel",
        panel=PanelRules(scoring_roles=("chair", "independent"), independent_role="independent"))
    appt = Appointment(arbiter="appointment", id="gen/appointment", process=process.id, constructed=True,
                       panel=(PanelMember(id="m0", role="chair"),),
                       candidates=tuple(Candidate(id=c) for c in ratings),
                       ratings=tuple(Rating(candidate=c, exercise="e0", area=a, individual={"m0": v}, agreed=v,
                                            rationale="r", recorded_by="m0")
                                     for c, values in ratings.items() for a, v in zip(areas, values)))
    return process, appt


def test_a_failed_candidate_with_the_top_total_is_neither_preferred_nor_tied():
    """A candidate who fails a gate but whose total equals the passers' top is not appointable:
    it is never the preferred candidate, nor one of those tied."""
    cvf = generated_cvf(["v1", "v2", "c1"])
    process, sole = _field({"a": [4, 4, 4], "b": [5, 5, 2]})  # b totals 12 too, but rates 2
    compiled = compile_selection(process, cvf, RATING_SCALE)
    decided = selection.evaluate(compiled, sole)
    assert (decided.outcome, decided.preferred, decided.passed) == ("preferred", "a", {"a": True, "b": False})
    process, tie = _field({"a": [4, 4, 4], "b": [5, 5, 2], "c": [3, 4, 5]})
    decided = selection.evaluate(compile_selection(process, cvf, RATING_SCALE), tie)
    assert (decided.outcome, decided.tied) == ("tie", ("a", "c"))


# --- the words the sensitivity scan uses ------------------------------------------------------

@pytest.mark.parametrize("outcome,preferred,tied,pending,words", [
    ("preferred", "cand-a", (), (), "preferred cand-a"),
    ("tie", None, ("cand-a", "cand-b"), (), "tie between cand-a, cand-b"),
    ("resolution_required", None, (), ("cand-b", "cand-c"), "a tiebreaker or discussion for cand-b, cand-c"),
    ("incomplete", None, (), (), "incomplete"),
    ("none_appointable", None, (), (), "no appointable candidate"),
])
def test_each_outcome_is_put_in_words(outcome, preferred, tied, pending, words):
    evaluation = selection.SelectionEvaluation((), {}, outcome, preferred, tied, (), pending)
    assert selection.describe_outcome(evaluation) == words


@pytest.mark.parametrize("path", SELECTION_CASES, ids=lambda p: p.stem)
def test_a_change_to_an_agreed_rating_names_no_member(catalog, path):
    """The sensitivity scan's entries: where the process rates by agreed ratings, an entry names
    the cell, the rating before and after and what changes, and no panel member."""
    loaded = load_evidence(path, catalog)
    if loaded.compiled.plan.pair_table is not None:
        pytest.skip("a pair table's entries are each member's own rating")
    base = selection.evaluate(loaded.compiled, loaded.evidence)
    found = selection.sensitivity(base, selection.one_point_variants(loaded.compiled, loaded.evidence, base))
    assert found and all(set(entry) == {"candidate", "exercise", "area", "from", "to", "changes"} for entry in found)
