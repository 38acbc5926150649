"""Pair-table processes and their evidence checked: each mistake located, with its code, and a
summing process held to what it always needed."""

from __future__ import annotations

import copy
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from engine.appointments.scoresheet import scoresheet
from engine.compiler.selection import compile_selection
from engine.language.appointment_models import SelectionProcess
from engine.language.catalog import Catalog
from engine.language.diagnostics import DiagnosticError
from engine.language.load import dump_yaml, load_file
from engine.workspace.runner import validate_file

from .conftest import ROOT
from .strategies import RATING_SCALE, pair_table_processes
from .test_pair_table_laws import CVF

PROCESS = ROOT / "criteria" / "examples-pair-table" / "assessment.yaml"
EVIDENCE = ROOT / "cases" / "examples-pair-table" / "passes.yaml"
KENT = ROOT / "criteria" / "appointments" / "kent-chief-constable-2022.yaml"


def problems(tmp_path: Path, catalog, data: dict) -> list[tuple[str, str]]:
    """(code, message) of every problem validating the data as a file."""
    path = tmp_path / "file.yaml"
    path.write_text(dump_yaml(data), encoding="utf-8")
    with pytest.raises(DiagnosticError) as raised:
        validate_file(path, catalog)
    return [(d.code, d.message) for d in raised.value.diagnostics]


def process(**changes) -> dict:
    data = copy.deepcopy(load_file(PROCESS).data)
    data["id"] = "file"
    data.update(changes)
    return data


def test_a_pair_table_process_has_no_gates_and_ranks_by_its_categories(tmp_path, catalog):
    data = process(gates=[{"id": "g", "description": "three", "every_rating_at_least": 3}],
                   ranking="highest_total_among_gate_passers")
    found = problems(tmp_path, catalog, data)
    assert [code for code, _ in found] == ["E113", "E113"]
    assert "does not go with scoring pair_table" in found[0][1] and "has no gates" in found[1][1]


def test_each_category_passes_fails_or_waits_and_ranking_counts_passing_ones(tmp_path, catalog):
    data = process()
    data["scoring"]["categories"][0]["resolution"] = "discuss"  # strong: passes and a resolution
    data["scoring"]["rank_by"] = ["not_yet", "strong", "nothing"]
    found = problems(tmp_path, catalog, data)
    assert ("E113", "category 'strong' needs exactly one of passes and resolution") in found
    assert ("E113", "category 'not_yet' does not pass, so no passer has a cell in it to count") in found
    assert ("E120", "unknown category 'nothing'") in found


def test_a_table_row_off_the_scale_or_of_an_unknown_category_is_refused(tmp_path, catalog):
    data = process()
    data["scoring"]["table"][0] = {"ratings": [5, 6], "category": "strongg"}
    codes = {code for code, _ in problems(tmp_path, catalog, data)}
    assert {"E150", "E120", "E155"} <= codes  # [5, 5] is no longer mapped


def test_a_summing_process_takes_no_pair_table_keys_and_needs_gates(tmp_path, catalog):
    data = copy.deepcopy(load_file(KENT).data)
    data["id"] = "file"
    data["scoring"] = {"method": "sum_of_agreed_ratings", "choice": "x"}
    assert problems(tmp_path, catalog, data) == [("E113", "choice belong to a pair table, not to sum_of_agreed_ratings")]
    del data["gates"]
    data["scoring"] = "sum_of_agreed_ratings"
    assert problems(tmp_path, catalog, data) == [("E111", "missing field 'gates' at the top level")]


def test_a_summed_rating_still_needs_its_agreed_rating(tmp_path, catalog):
    data = copy.deepcopy(load_file(ROOT / "cases" / "appointments" / "constructed" / "tie.yaml").data)
    data["id"] = "file"
    data.pop("expect", None)
    del data["ratings"][0]["agreed"]
    assert problems(tmp_path, catalog, data) == [("E111", "missing field 'agreed' in 'ratings[0]'")]


def test_a_pair_table_cell_needs_two_ratings_and_no_agreed_one(tmp_path, catalog):
    data = copy.deepcopy(load_file(EVIDENCE).data)
    data["id"] = "file"
    data["ratings"][0]["individual"] = {"lead": 4, "asr1": 4, "asr2": 5}
    data["ratings"][1]["agreed"] = 4
    codes = [code for code, _ in problems(tmp_path, catalog, data)]
    assert codes == ["E157", "E158"]


def test_the_scoresheet_of_a_pair_table_asks_for_no_agreed_rating():
    catalog = Catalog(ROOT)
    loaded = catalog.load(PROCESS, "selection_process")
    cvf = catalog.load(catalog.path_of("cvf"), "competency_framework")
    text = scoresheet(loaded.model, cvf.model, "mine/sheet", ["cand-a"], [("lead", "lead_assessor"), ("asr1", "assessor")])
    assert "agreed:" not in text.replace("no agreed rating", "") and "two assessors' ratings" in text


def test_a_table_of_the_most_categories_runs_in_durable_rules_and_one_more_is_refused():
    """One rule per category: a table at MAX_PAIR_CATEGORIES compiles within the host's limits
    and decides the example field; one category more is E136 at scoring."""
    from pydantic import ValidationError

    from engine.compiler.selection import compile_selection
    from engine.language.appointment_models import MAX_PAIR_CATEGORIES, PairCategory, Scoring
    from engine.runtime import durable, selection

    catalog = Catalog(ROOT)
    process = catalog.load(PROCESS, "selection_process").model
    cvf = catalog.load(catalog.path_of("cvf"), "competency_framework").model
    scale = catalog.load(catalog.scale_path("cvf-rating"), "scale").model
    appt = catalog.load(EVIDENCE, "appointment").model
    extra = tuple(PairCategory(id=f"extra{i}", passes=True) for i in range(MAX_PAIR_CATEGORIES - 5))
    widest = process.scoring.model_copy(update={"categories": process.scoring.categories + extra})
    compiled = compile_selection(process.model_copy(update={"scoring": widest}), cvf, scale)
    rules = compiled.ruleset["durable"][compiled.durable_name]
    durable.check_ruleset_shape(compiled.durable_name, rules)
    assert sum(name.startswith("pair:") for name in rules) == MAX_PAIR_CATEGORIES <= durable.MAX_KIND_PATTERNS
    assert selection.evaluate(compiled, appt).preferred == "cand-a"
    data = widest.model_dump(mode="json", exclude_defaults=True)
    data["categories"].append({"id": "one_more", "passes": True})
    with pytest.raises(ValidationError) as raised:
        Scoring.model_validate(data)
    assert raised.value.errors()[0]["type"] == "E136"


RESOLVED = ROOT / "cases" / "examples-pair-table" / "resolved.yaml"


def resolved_field() -> tuple[dict, dict, dict]:
    """The resolved example as data, with its tiebreaker's and its discussion's resolutions."""
    data = copy.deepcopy(load_file(RESOLVED).data)
    data["id"] = "file"
    data.pop("expect", None)
    tiebreaker, discussion = (r["resolution"] for r in data["ratings"] if "resolution" in r)
    return data, tiebreaker, discussion


def test_a_resolution_is_checked_field_by_field(tmp_path, catalog):
    data, tiebreaker, discussion = resolved_field()
    tiebreaker.update(pair=[3, 4], category="meetz", rationale=" ", tiebreak_rating=6)
    discussion.update(category="tiebreaker", by="hr", tiebreak_rating=4)
    found = problems(tmp_path, catalog, data)
    assert [code for code, _ in found] == ["E113", "E120", "E153", "E150", "E113", "E154", "E113"]
    assert "the resolution is of the pair 3 and 4, but the cell is rated 3 and 5" in found[0][1]
    assert found[1] == ("E120", "unknown category 'meetz'")
    assert found[4] == ("E113", "category 'tiebreaker' itself needs a resolution, so it cannot settle the cell")
    assert found[5] == ("E154", "'hr' is on the panel but does not score, so cannot settle a cell")
    assert "needs a discuss" in found[6][1]


def test_a_third_rating_comes_from_a_third_assessor(tmp_path, catalog):
    data, tiebreaker, _ = resolved_field()
    tiebreaker["by"] = "asr1"  # rated the cell 3
    found = problems(tmp_path, catalog, data)
    assert [code for code, _ in found] == ["E113"]
    assert "'asr1' gave one of the cell's two ratings" in found[0][1]
    del tiebreaker["tiebreak_rating"]  # the lead, or an assessor, may decide without a third rating
    tiebreaker["by"] = "smith"
    assert problems(tmp_path, catalog, data) == [("E154", "'smith' is not on the panel")]


def test_a_resolution_never_replaces_a_category_the_table_settles(tmp_path, catalog):
    data, tiebreaker, _ = resolved_field()
    data["ratings"][0]["resolution"] = dict(tiebreaker, pair=[5, 5])  # cand-a's 5 and 5: strong
    found = problems(tmp_path, catalog, data)
    assert found == [("E159", "the pair 5 and 5 maps to 'strong', which needs no resolution: a resolution cannot "
                              "replace the table's category")]
    kent = copy.deepcopy(load_file(ROOT / "cases" / "appointments" / "constructed" / "tie.yaml").data)
    kent["id"] = "file"
    kent.pop("expect", None)
    kent["ratings"][0]["resolution"] = {"pair": [3, 4], "category": "x", "by": "pcc", "rationale": "r"}
    assert [code for code, _ in problems(tmp_path, catalog, kent)] == ["E159"]



@settings(max_examples=10)
@given(pair_table_processes(), st.sampled_from([None, "002:1151-1156"]))
def test_the_compiled_table_keeps_its_choice_and_source(drawn, source):
    """What the process file says of its table (its choice and, where given, its source) is in
    the plan, and so in rules/ and in the ledger's copy of the ruleset."""
    scoring = {**drawn.scoring.model_dump(), "source": source}
    made = SelectionProcess.model_validate({**drawn.model_dump(), "scoring": scoring})
    table = compile_selection(made, CVF, RATING_SCALE).plan.pair_table
    assert (table.choice, table.source) == (made.scoring.choice, source)


def test_a_resolution_the_check_would_refuse_still_never_replaces_the_tables_category(catalog):
    """E159 refuses a resolution of a pair the table settles; given one all the same (evidence
    built in code, never checked), the rules keep the table's category: `resolution:not-needed`
    answers the cell, whose graded fact says it needs no resolving, and the outcome is the one
    without the resolution."""
    from engine.appointments.appointments import load_evidence
    from engine.runtime import selection

    loaded = load_evidence(RESOLVED, catalog)
    appt = loaded.evidence
    settled = next(r.resolution for r in appt.ratings if r.resolution is not None)
    first = appt.ratings[0]  # cand-a's 5 and 5: strong, which passes and ranks
    assert (first.candidate, sorted(first.individual.values()), first.resolution) == ("cand-a", [5, 5], None)
    wrong = first.model_copy(update={"resolution": settled.model_copy(update={"pair": (5, 5), "category": "not_yet"})})
    changed = appt.model_copy(update={"ratings": (wrong, *appt.ratings[1:])})
    decided = selection.evaluate(loaded.compiled, changed)
    [answer] = [f for f in decided.firings if f.rule.startswith("resolution:")
                and (f.matched["r"]["cand"], f.matched["r"]["area"]) == ("cand-a", first.area)]
    assert (answer.rule, answer.matched["g"]["category"], answer.matched["g"]["resolve"]) == \
        ("resolution:not-needed", "strong", 0)
    before = selection.evaluate(loaded.compiled, appt)
    assert (decided.passed, decided.tallies, decided.outcome, decided.preferred) == \
        (before.passed, before.tallies, before.outcome, before.preferred) == \
        (before.passed, before.tallies, "preferred", "cand-a")
