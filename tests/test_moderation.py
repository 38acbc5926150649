"""Moderation that names people, and the selection record a report is built from.

A spread (F202) or an agreed rating outside the individual ones (F201) names each scorer with
their rating; a filled cell missing a scoring member's rating is flagged (F204); the recorder
is a role that does not score unless the process names the roles that record (F205). The
record carries every cell with its agreed and individual ratings, rationale, recorder and
flags, the panel by id and role, each candidate's subtotals, and the stages.
"""

from __future__ import annotations

import pytest

from engine.appointments.appointment_record import records_for, render
from engine.appointments.appointments import decide, load_evidence
from engine.language.appointment_check import flags
from engine.language.appointment_models import (Appointment, Candidate, Exercise, Gate, Moderation, PanelMember,
                                                PanelRules, Rating, SelectionProcess)
from engine.language.decision_model import validated

from .conftest import ROOT

FLAGGED = ROOT / "cases" / "appointments" / "constructed" / "flags.yaml"
KENT = ROOT / "cases" / "appointments" / "kent-cc-2022" / "selection.yaml"
PANEL = (PanelMember(id="chair", role="chair"), PanelMember(id="member", role="member"),
         PanelMember(id="independent", role="independent"), PanelMember(id="hr", role="hr_adviser"))


def _process(recorder_roles: tuple[str, ...] = ()) -> SelectionProcess:
    return SelectionProcess(
        arbiter="selection_process", id="gen/process", title="t", role="r", competency_framework="gen-cvf", level=1,
        rating_scale="gen-rating", exercises=(Exercise(id="e0", title="e", assesses=("v1",), scored=True),),
        gates=(Gate(id="g", description="d", every_rating_at_least=1),), scoring="sum_of_agreed_ratings",
        ranking="highest_total_among_gate_passers", tie_policy="refer_to_panel",
        panel=PanelRules(scoring_roles=("chair", "member", "independent"), advisory_roles=("hr_adviser",),
                         independent_role="independent", recorder_roles=recorder_roles),
        moderation=Moderation(spread_at_least=2, choice="c"))


def _flags(individual: dict, agreed: int = 3, recorded_by: str = "hr", recorder_roles: tuple[str, ...] = ()):
    appt = Appointment(arbiter="appointment", id="gen/appointment", process="gen/process", constructed=True,
                       panel=PANEL, candidates=(Candidate(id="cand-a"),),
                       ratings=(Rating(candidate="cand-a", exercise="e0", area="v1", individual=individual,
                                       agreed=agreed, rationale="r", recorded_by=recorded_by),))
    return flags(appt, _process(recorder_roles))


def test_a_spread_names_each_scorer_and_who_gave_the_extremes():
    (flag,) = _flags({"chair": 4, "member": 2, "independent": 3})
    assert flag.code == "F202"
    assert flag.to_json() == {
        "code": "F202", "candidate": "cand-a", "exercise": "e0", "area": "v1",
        "message": "cand-a e0/v1: individual ratings chair 4, member 2, independent 3 differ by 2 (member gave 2, "
                   "chair gave 4; the process flags 2 or more): a case for moderation",
        "ratings": {"chair": 4, "member": 2, "independent": 3}, "members": ["chair", "member"]}


def test_an_agreed_rating_outside_the_individual_ones_names_the_scorers():
    (flag,) = _flags({"chair": 3, "member": 3, "independent": 4}, agreed=5)
    assert (flag.code, flag.ratings, flag.members) == \
        ("F201", (("chair", 3), ("member", 3), ("independent", 4)), ("chair", "member", "independent"))
    assert "agreed 5 is outside the individual ratings 3-4 (chair 3, member 3, independent 4)" in flag.message


@pytest.mark.parametrize("individual", [{"chair": 3, "member": 3}, {"chair": 3, "member": 3, "independent": None}])
def test_a_cell_missing_a_scoring_members_rating_is_flagged(individual):
    """Left out, or left blank: either way the independent member gave no rating, and the
    moderation checks, which compare the ratings given, say whose they read."""
    (flag,) = _flags(individual)
    assert (flag.code, flag.members, dict(flag.ratings)) == ("F204", ("independent",), {"chair": 3, "member": 3})
    assert flag.message == ("cand-a e0/v1: no individual rating from independent (independent); the moderation "
                            "checks read only chair 3, member 3")


def test_a_cell_with_no_individual_rating_says_the_checks_cannot_be_made():
    (flag,) = _flags({})
    assert flag.code == "F204" and flag.members == ("chair", "member", "independent")
    assert "the moderation checks cannot be made" in flag.message


def test_the_recorder_is_a_role_that_does_not_score_unless_the_process_says_otherwise():
    every_rating = {"chair": 3, "member": 3, "independent": 3}
    assert _flags(every_rating) == []  # the HR adviser records
    (flag,) = _flags(every_rating, recorded_by="chair")
    assert (flag.code, flag.members, flag.area) == ("F205", ("chair",), None)
    assert flag.message.startswith("chair (chair) recorded 1 cell(s): a scoring member")
    assert _flags(every_rating, recorded_by="chair", recorder_roles=("chair", "hr_adviser")) == []
    (flag,) = _flags(every_rating, recorded_by="hr", recorder_roles=("chair",))
    assert flag.message == "hr (hr_adviser) recorded 1 cell(s): the process has cells recorded by chair"


def test_the_constructed_flags_case_raises_its_flags_naming_people(catalog):
    loaded = load_evidence(FLAGGED, catalog)
    process = records_for(loaded, decide(loaded))[-1]
    validated(process)
    by_code = {f["code"]: f for f in process["flags"]}
    assert set(by_code) == {"F201", "F202", "F203"}
    assert by_code["F202"]["ratings"] == {"pcc": 2, "boughton": 4, "lee": 3}
    assert by_code["F202"]["members"] == ["pcc", "boughton"]
    assert (by_code["F203"]["candidate"], by_code["F203"]["area"], by_code["F203"]["members"]) == (None, None, [])
    flagged = {(c["candidate"], c["exercise"], c["area"]): c["flags"] for c in process["cells"] if c["flags"]}
    assert flagged == {("cand-a", "media", "we_analyse_critically"): ["F201"],
                       ("cand-b", "interview", "public_service"): ["F202"]}


def test_the_table_marks_flagged_cells_with_a_footnote_each(catalog):
    loaded = load_evidence(FLAGGED, catalog)
    text = render(loaded, records_for(loaded, decide(loaded)), "off")
    assert "media / We analyse critically                     4 [1]" in text
    assert "[1] Flag F201: cand-a media/we_analyse_critically: agreed 4" in text
    assert "[2] Flag F202: cand-b interview/public_service" in text
    assert "media subtotal                                    11        9" in text
    assert "Flag F203: the panel has 0 independent member(s)" in text


# --- the selection record: what a report needs ---------------------------------------------------

def test_the_record_carries_every_cell_in_candidate_exercise_area_order(catalog):
    loaded = load_evidence(KENT, catalog)
    process = records_for(loaded, decide(loaded))[-1]
    validated(process)
    plan = loaded.compiled.plan
    assert [(c["candidate"], c["exercise"], c["area"]) for c in process["cells"]] == \
        [(cand, ex, area) for cand in ("cand-a", "cand-b") for ex, area in plan.cells]
    first = process["cells"][0]
    assert first == {"candidate": "cand-a", "exercise": "media", "area": "we_analyse_critically", "stage": "media",
                     "held": True, "agreed": 4, "individual": {"pcc": 4, "boughton": 4, "independent": 4},
                     "rationale": "Constructed: an area of some strength for We analyse critically in the media "
                                  "exercise.", "recorded_by": "hr", "reconstructed": False, "flags": [],
                     "gates_failed": [], "category": None}
    assert process["panel"] == [{"id": "pcc", "role": "chair", "scoring": True},
                                {"id": "boughton", "role": "member", "scoring": True},
                                {"id": "independent", "role": "independent", "scoring": True},
                                {"id": "hr", "role": "hr_adviser", "scoring": False}]
    assert process["stages"] == {"order": ["media", "presentation", "interview"],
                                 "held": ["media", "presentation", "interview"], "still_to_fill": 0}


def test_subtotals_add_up_to_the_total_and_records_carry_no_names(catalog):
    loaded = load_evidence(KENT, catalog)
    process = records_for(loaded, decide(loaded))[-1]
    for line in process["candidates"]:
        assert sum(line["subtotals"].values()) == line["total"]
        assert list(line["subtotals"]) == ["media", "presentation", "interview"]
    text = repr(process)
    assert "Tim Smith" not in text and "Humphreys" not in text


def test_the_gates_a_cell_failed_are_read_from_the_rules(catalog):
    loaded = load_evidence(ROOT / "cases" / "appointments" / "constructed" / "gate-failed.yaml", catalog)
    process = records_for(loaded, decide(loaded))[-1]
    failed = [(c["candidate"], c["exercise"], c["area"], c["gates_failed"]) for c in process["cells"] if c["gates_failed"]]
    assert failed == [("cand-a", "interview", "integrity", ["every-area-3-or-above"])]


def test_a_pair_table_cell_holds_its_two_ratings_and_category(catalog):
    loaded = load_evidence(ROOT / "cases" / "examples-pair-table" / "resolved.yaml", catalog)
    process = records_for(loaded, decide(loaded))[-1]
    validated(process)
    assert all(c["agreed"] is None and len(c["individual"]) == 2 and c["category"] for c in process["cells"])
    categories = {c["category"] for c in process["cells"]}
    assert categories <= {cat.id for cat in loaded.compiled.plan.pair_table.categories}


def test_the_record_does_not_depend_on_the_order_the_file_is_written_in(catalog):
    """The ledger keeps evidence in a canonical order, so a replay rebuilds the record from the
    panel, candidates and cells in another order than the file's: the record must not change."""
    from dataclasses import replace

    loaded = load_evidence(FLAGGED, catalog)
    appt = loaded.evidence
    backwards = appt.model_copy(update={"panel": appt.panel[::-1], "candidates": appt.candidates[::-1],
                                        "ratings": appt.ratings[::-1]})
    flipped = replace(loaded, evidence=backwards, flags=tuple(flags(backwards, loaded.rules.model)))
    assert records_for(flipped, decide(flipped)) == records_for(loaded, decide(loaded))
