"""Stage-by-stage scoring: a selection scored after any of its stages.

A stage is held when every one of its cells is filled, for every candidate; the cells of the
stages not yet held are counted, once, as cells still to fill; gates and totals are on the
cells held; and the outcome, decided by the rules, is incomplete until every stage is held.
"""

from __future__ import annotations

import json
import shutil

import pytest
from hypothesis import given
from hypothesis import strategies as st

from engine.appointments.appointment_record import records_for, render
from engine.appointments.appointments import decide, load_evidence
from engine.compiler import selection as compile_selection_rules
from engine.language.appointment_models import stages
from engine.language.decision_model import validated
from engine.language.diagnostics import DiagnosticError
from engine.oracle import appointment_reference as oracle
from engine.runtime import appointment_margin, selection

from .conftest import ROOT
from .strategies import RATING_SCALE, pair_fields, pair_table_processes, staged_fields, staged_processes
from .test_appointment_laws import CVF, assert_the_oracle_agrees, fields, processes, reordered

STAGED = ROOT / "cases" / "appointments" / "constructed" / "staged-after-media.yaml"
KENT = ROOT / "cases" / "appointments" / "kent-cc-2022" / "selection.yaml"
SCALE_VALUES = [lv.value for lv in RATING_SCALE.levels]


@st.composite
def staged_selections(draw):
    process = draw(staged_processes(draw(processes())))
    appt = draw(staged_fields(process, draw(fields(process))))
    return process, compile_selection_rules.compile_selection(process, CVF, RATING_SCALE), appt


@st.composite
def staged_pair_selections(draw):
    process = draw(staged_processes(draw(pair_table_processes(areas=("v1", "v2", "c1", "c2")))))
    appt = draw(staged_fields(process, draw(pair_fields(process))))
    cvf = CVF.model_copy(update={"id": "gen-cvf"})
    return process, compile_selection_rules.compile_selection(process, cvf, RATING_SCALE), appt


def _every_stage_held(process, appt) -> bool:
    """Read here from the evidence: every scored cell of every candidate has an agreed rating
    or individual ratings written."""
    written = {(r.candidate, r.exercise, r.area) for r in appt.ratings
               if r.agreed is not None or any(v is not None for v in r.individual.values())}
    return all((c.id, e.id, area) in written for c in appt.candidates for e in process.exercises if e.scored
               for area in e.assesses)


def _only(process, exercises: tuple[str, ...]):
    """The process with only these exercises scored."""
    return process.model_copy(update={"exercises": tuple(e.model_copy(update={"scored": e.id in exercises})
                                                         for e in process.exercises)})


# --- laws ---------------------------------------------------------------------------------------

@given(staged_selections())
def test_durable_rules_and_the_oracle_agree_on_staged_selections(world):
    """On a field scored after some of its stages, durable-rules and the oracle agree on every
    gate, total, rank and the outcome."""
    assert_the_oracle_agrees(*world)


@given(staged_selections())
def test_the_outcome_is_incomplete_exactly_while_a_stage_is_still_to_fill(world):
    process, compiled, appt = world
    decided = selection.evaluate(compiled, appt)
    assert (decided.outcome == "incomplete") == (not _every_stage_held(process, appt))
    stages_not_held = sum(1 for _, exercises in stages(process)
                          if not _every_stage_held(_only(process, exercises), appt))
    assert decided.firings[-1].matched["s"]["unheld"] == stages_not_held
    assert (decided.progress.still_to_fill == 0) == (decided.outcome != "incomplete")


@given(staged_selections())
def test_gates_and_totals_are_judged_on_the_cells_held_only(world):
    """A cell of a stage not yet held is never asked about (no cell rule fires for it), and each
    total is the sum of the candidate's agreed ratings in the stages held, found here."""
    process, compiled, appt = world
    decided = selection.evaluate(compiled, appt)
    held = {ex for _, exercises in stages(process) if _every_stage_held(_only(process, exercises), appt)
            for ex in exercises}
    asked = {f.matched["c"]["exercise"] for f in decided.firings if f.rule.startswith("cell:")}
    assert asked <= held
    assert {t.candidate: t.total for t in decided.tallies} == \
        {c.id: sum(r.agreed for r in appt.ratings if r.candidate == c.id and r.exercise in held)
         for c in appt.candidates}


@given(staged_selections(), st.randoms(use_true_random=False))
def test_reordering_a_staged_field_changes_nothing(world, rnd):
    """Which stages are held does not depend on the order candidates, members or cells are written in."""
    _, compiled, appt = world
    assert selection.evaluate(compiled, reordered(appt, rnd)) == selection.evaluate(compiled, appt)


@given(staged_pair_selections())
def test_durable_rules_and_the_oracle_agree_on_staged_pair_tables(world):
    process, compiled, appt = world
    decided = selection.evaluate(compiled, appt)
    answer = oracle.selection(process, appt)
    totals = {t.candidate: t.total for t in decided.tallies}
    assert (decided.passed, totals, decided.outcome, decided.preferred, decided.tied, decided.pending) == \
        (answer.passed, answer.totals, answer.outcome, answer.preferred, answer.tied, answer.pending)


@given(staged_selections())
def test_staged_margins_agree_with_the_oracle(world):
    """While a stage is still to fill, a candidate's margin is over the cells held: durable-rules
    and the oracle agree on its level and the points to the next level up and down."""
    process, compiled, appt = world
    decided = selection.decide(compiled, appt)
    for candidate, margin in appointment_margin.candidate_margins(compiled, appt, decided).items():
        answer = oracle.candidate_margin(process, SCALE_VALUES, appt, candidate)
        assert (margin.outcome, margin.up.status, margin.up.fewest, margin.down.status, margin.down.fewest) == \
            (answer.outcome, answer.up.status, answer.up.fewest, answer.down.status, answer.down.fewest), candidate
        if decided.evaluation.outcome == "incomplete":
            assert "over the stages held only" in margin.unit


@given(staged_pair_selections())
def test_staged_pair_table_margins_agree_with_the_oracle(world):
    process, compiled, appt = world
    decided = selection.decide(compiled, appt)
    for candidate, margin in appointment_margin.candidate_margins(compiled, appt, decided).items():
        answer = oracle.candidate_margin(process, SCALE_VALUES, appt, candidate)
        assert (margin.outcome, margin.up.status, margin.up.fewest, margin.down.status, margin.down.fewest) == \
            (answer.outcome, answer.up.status, answer.up.fewest, answer.down.status, answer.down.fewest), candidate


# --- the constructed staged case ------------------------------------------------------------------

def test_a_selection_scored_after_its_first_stage_is_incomplete(catalog):
    loaded = load_evidence(STAGED, catalog)
    records = records_for(loaded, decide(loaded))
    for record in records:
        validated(record)
    process = records[-1]
    assert process["outcome"] == "incomplete"
    assert process["stages"] == {"order": ["media", "presentation", "interview"], "held": ["media"],
                                 "still_to_fill": 18}
    assert process["outcome_label"] == "Incomplete: 18 cells still to fill (stage presentation, interview)"
    assert {c["candidate"]: (c["gates"], c["total"], c["subtotals"]) for c in process["candidates"]} == \
        {"cand-a": ("pass", 11, {"media": 11}), "cand-b": ("pass", 9, {"media": 9})}
    assert [c["held"] for c in process["cells"]].count(True) == 6
    assert all(c["agreed"] is None and c["individual"] == {} for c in process["cells"] if not c["held"])


def test_the_cells_still_to_fill_are_one_line_not_one_per_cell(catalog):
    loaded = load_evidence(STAGED, catalog)
    text = render(loaded, records_for(loaded, decide(loaded)), "fails")
    assert text.count("cells still to fill") == 2  # the line under the table, and the outcome's label
    assert "18 cells still to fill (stage presentation, interview)" in text


def test_the_rules_decide_incomplete(catalog):
    """The outcome is the `rank:incomplete` firing, on the count of stages not yet held."""
    loaded = load_evidence(STAGED, catalog)
    decided = decide(loaded).decision.evaluation
    assert decided.firings[-1].rule == "rank:incomplete"
    assert decided.firings[-1].matched["s"]["unheld"] == 2


def test_a_staged_case_scores_with_the_cli():
    from click.testing import CliRunner

    from engine.cli import main

    result = CliRunner().invoke(main, ["score", str(STAGED), "--root", str(ROOT), "--format", "json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.output.splitlines()[-1])["outcome"] == "incomplete"


# --- what is refused ---------------------------------------------------------------------------------

def _copy(tmp_path, name: str, edit) -> object:
    shutil.copytree(ROOT / "criteria", tmp_path / "criteria")
    target = tmp_path / "cases" / "appointments" / "constructed" / name
    target.parent.mkdir(parents=True)
    target.write_text(edit(STAGED.read_text(encoding="utf-8")), encoding="utf-8")
    return target


def test_a_partly_filled_stage_is_an_error_at_each_cell_not_filled(tmp_path):
    """Filling one presentation cell makes the presentation stage partly filled: each of its
    other five cells is an error at its own line, which says the stage is partly filled."""
    from engine.language.catalog import Catalog

    def fill_one(text: str) -> str:
        head, _, tail = text.partition("    exercise: presentation\n")
        tail = tail.replace("    agreed:\n", "    agreed: 3\n", 1).replace('rationale: ""', 'rationale: "seen"', 1)
        return head + "    exercise: presentation\n" + tail

    path = _copy(tmp_path, "staged-after-media.yaml", fill_one)
    with pytest.raises(DiagnosticError) as raised:
        load_evidence(path, Catalog(tmp_path))
    problems = raised.value.diagnostics
    assert [p.code for p in problems] == ["E152"] * 5
    assert len({p.line for p in problems}) == 5
    assert all("stage 'presentation' is partly filled (1 of 6 cells)" in p.message for p in problems)


def test_a_stage_on_an_exercise_that_is_not_scored_is_refused(tmp_path):
    import engine

    shutil.copytree(ROOT / "criteria", tmp_path / "criteria")
    path = tmp_path / "criteria" / "appointments" / "kent-chief-constable-2022.yaml"
    text = path.read_text(encoding="utf-8")
    text = text.replace("    scored: true\n    assesses: [we_analyse_critically, we_deliver",
                        "    scored: false\n    stage: day-one\n    assesses: [we_analyse_critically, we_deliver")
    text = text.replace("  independent_role: independent\n", "  independent_role: independent\n"
                        "  recorder_roles: [hr_advisor]\n")
    path.write_text(text, encoding="utf-8")
    from engine.language.catalog import Catalog

    _, problems = engine.validate(Catalog(tmp_path), [path])
    assert sorted((p.code, p.message.split(",")[0]) for p in problems) == [
        ("E113", "exercise 'media' is not scored"), ("E120", "unknown panel role 'hr_advisor'")]


def test_exercises_sharing_a_stage_are_held_together(catalog):
    """Two exercises named to one stage: the stage is held only when both are filled."""
    process = catalog.load(catalog.path_of("appointments/kent-chief-constable-2022"), "selection_process").model
    exercises = tuple(e.model_copy(update={"stage": "day-one"}) if e.id in ("media", "presentation") else e
                      for e in process.exercises)
    day_one = process.model_copy(update={"exercises": exercises})
    assert stages(day_one) == [("day-one", ("media", "presentation")), ("interview", ("interview",))]
    staged = load_evidence(STAGED, catalog).evidence
    answer = oracle.selection(day_one, staged)
    assert answer.outcome == "incomplete" and answer.totals == {"cand-a": 0, "cand-b": 0}
    kent = load_evidence(KENT, catalog).evidence
    assert oracle.selection(day_one, kent).outcome == "preferred"


def _pair_table_after_its_first_stage(cand_a_pairs: tuple) -> tuple:
    """(process, compiled, appointment): a pair table of two exercises scored after the first,
    cand-b rated 5 and 5 in both areas, cand-a given the pairs (area, lead, assessor) named."""
    from engine.language.appointment_models import Appointment, SelectionProcess

    from .test_pair_table_laws import PAIR_MARGIN_WORLDS

    world = json.loads((PAIR_MARGIN_WORLDS / "another-candidate-waits.json").read_text(encoding="utf-8"))
    first = world["process"]["exercises"][0]
    process = SelectionProcess.model_validate({**world["process"], "exercises": [
        first, {**first, "id": "e1", "title": "Exercise 1"}]})
    cell = {"individual": {"lead": 5, "assessor": 5}, "rationale": "r", "recorded_by": "hr"}
    ratings = [{**cell, "candidate": "cand-b", "exercise": "e0", "area": area} for area in ("v1", "v2")]
    ratings += [{**cell, "candidate": "cand-a", "exercise": "e0", "area": area, "individual": {"lead": low, "assessor": high}}
                for area, low, high in cand_a_pairs]
    appt = Appointment.model_validate({
        "arbiter": "appointment", "id": "gen/staged-pairs", "process": process.id, "constructed": True,
        "panel": [{"id": "lead", "role": "lead"}, {"id": "assessor", "role": "assessor"},
                  {"id": "hr", "role": "hr_adviser"}],
        "candidates": [{"id": "cand-a"}, {"id": "cand-b"}], "ratings": ratings})
    compiled = compile_selection_rules.compile_selection(process, CVF.model_copy(update={"id": "gen-cvf"}),
                                                         RATING_SCALE)
    return process, compiled, appt


def test_a_cell_waiting_on_a_tiebreaker_in_a_stage_held_leaves_its_candidate_pending_while_incomplete():
    """A pair table scored after its first stage: cand-a's pair 1 and 5 goes to a tiebreaker, so
    cand-a waits while the second stage is still to fill. Durable-rules and the oracle agree on
    who passed, who waits, the counts and ranks over the stage held, and each candidate's margin
    (cand-a's level is pending)."""
    from .test_pair_table_laws import assert_pair_margins_agree

    process, compiled, appt = _pair_table_after_its_first_stage((("v1", 1, 5), ("v2", 4, 4)))
    decided = selection.evaluate(compiled, appt)
    answer = oracle.selection(process, appt)
    totals = {t.candidate: t.total for t in decided.tallies}
    assert (decided.outcome, decided.pending) == ("incomplete", ("cand-a",))
    assert (decided.passed, totals, selection.ranks(decided), decided.outcome, decided.preferred, decided.tied,
            decided.pending) == \
        (answer.passed, answer.totals, answer.ranks, answer.outcome, answer.preferred, answer.tied, answer.pending)
    assert oracle.standing(answer, "cand-a") == "pending"
    assert_pair_margins_agree(process, compiled, appt)


def test_while_a_pair_table_stage_is_still_to_fill_no_passer_can_move_up():
    """A pair table scored after its first stage, both candidates passing and nobody waiting:
    the outcome is incomplete, so neither passer can rise to a tie or to preferred until the
    second stage is in (up is unreachable for both, by the rules and by the oracle)."""
    from .test_pair_table_laws import assert_pair_margins_agree

    # cand-a's 1 and 1 passes but does not rank
    process, compiled, appt = _pair_table_after_its_first_stage((("v1", 1, 1), ("v2", 4, 4)))
    decided = selection.decide(compiled, appt)
    assert (decided.evaluation.outcome, decided.evaluation.pending, decided.evaluation.passed) == \
        ("incomplete", (), {"cand-a": True, "cand-b": True})
    margins = appointment_margin.candidate_margins(compiled, appt, decided)
    assert {c: (m.outcome, m.up.status, m.up.target) for c, m in margins.items()} == \
        {"cand-a": ("passed", "unreachable", "tied"), "cand-b": ("passed", "unreachable", "tied")}
    assert_pair_margins_agree(process, compiled, appt)
