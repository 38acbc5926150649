"""Decisions that feed decisions: the graph's checks, its order, its laws, and the ledger's chain.

The chain is the constructed example (criteria/examples-decision-graph, cases/examples-decision-graph):
three key-question decisions, one capped by its own limiter, feed an overall decision.
"""

from __future__ import annotations

import dataclasses
import json
import sqlite3
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st

import engine
from engine.cli import main
from engine.inspections.cases import load_case, read_case, score
from engine.inspections.graph import Node, cycles, decide_graph, decision_order
from engine.language.canonical import canonical_json, sha256_bytes
from engine.language.criteria import load_criteria
from engine.language.decision_model import validated
from engine.language.diagnostics import DiagnosticError
from engine.language.load import from_data
from engine.language.models import Case
from engine.oracle import reference
from engine.workspace.runner import score_paths

from .conftest import ROOT
from .strategies import GRAPH_LEVELS, decision_chains

EXAMPLES = ROOT / "cases" / "examples-decision-graph"
OVERALL = EXAMPLES / "overall.yaml"
Q2 = "examples-decision-graph/q2-investigating-crime"


def decide(catalog, cases: list[dict]):
    """Cases given as data, decided together as one graph."""
    roots = {data["id"]: read_case(from_data(data, data["id"]), catalog) for data in cases}
    return decide_graph(roots, catalog, load_case, score)


def data_of(path: Path) -> dict:
    return yaml.safe_load(path.read_text(encoding="utf-8"))


def oracle_outcome(catalog, data: dict) -> str:
    case = Case.model_validate(data)
    return reference.evaluate(load_criteria(catalog, case.criteria), case).outcome


# --- the graph ----------------------------------------------------------------------------

def test_the_example_overall_takes_the_capped_grade_of_question_2(catalog):
    results, problems = score_paths([OVERALL], catalog)
    assert problems == []
    assert [r.records[0]["case"] for r in results] == [
        "examples-decision-graph/q1-preventing-crime", Q2, "examples-decision-graph/q3-protecting-vulnerable-people",
        "examples-decision-graph/overall"]
    q2, overall = results[1].records[0], results[3].records[0]
    assert (q2["uncapped_outcome"], q2["outcome"], q2["limiter"]["id"]) == ("outstanding", "requires_improvement",
                                                                            "failed-critical")
    link = next(i for i in overall["inputs"] if i["subarea"] == "q2")
    assert link == {"subarea": "q2", "case": Q2, "decision_id": q2["decision_id"],
                    "record_sha256": sha256_bytes(canonical_json(q2)), "outcome": "requires_improvement"}
    assert overall["outcome"] == "requires_improvement"
    validated(overall)  # the reader of decision records accepts the links
    assert f"Sub-area q2: requires_improvement, inspected, from decision {q2['decision_id'][:8]} (case {Q2}): counted" \
        in results[3].explain("full")


def test_each_case_is_decided_once_however_many_it_feeds(catalog, monkeypatch):
    decided = []
    real = engine.workspace.runner.score
    monkeypatch.setattr(engine.workspace.runner, "score", lambda loaded: decided.append(loaded.case.id) or real(loaded))
    results, problems = score_paths([EXAMPLES / "overall.yaml", EXAMPLES / "overall-q2-by-hand.yaml"], catalog)
    assert problems == []
    assert sorted(decided) == sorted(set(decided)) and len(decided) == 5
    assert len(results) == 5  # the three questions once, and the two overall decisions


def test_a_changed_input_changes_the_dependent_decision_id(catalog):
    chain = [data_of(EXAMPLES / f"{name}.yaml") for name in
             ("q1-preventing-crime", "q2-investigating-crime", "q3-protecting-vulnerable-people", "overall")]
    before = decide(catalog, chain).decided["examples-decision-graph/overall"].record
    chain[1]["findings"][4]["finding"] = "not_assessed"  # q2-innovation: q2 is still capped at requires improvement
    after = decide(catalog, chain).decided["examples-decision-graph/overall"].record
    assert before["outcome"] == after["outcome"] == "requires_improvement"
    assert before["decision_id"] != after["decision_id"]
    assert [i["decision_id"] for i in before["inputs"]][1] != [i["decision_id"] for i in after["inputs"]][1]


def test_a_two_case_cycle_is_named_whole_and_nothing_in_it_is_decided(catalog):
    a = {**data_of(OVERALL), "id": "cycle/a"}
    b = {**data_of(OVERALL), "id": "cycle/b"}
    a["subgrades"] = {**a["subgrades"], "q1": {"decision": "cycle/b"}}
    b["subgrades"] = {**b["subgrades"], "q3": {"decision": "cycle/a"}}
    outcome = decide(catalog, [a, b])
    assert "cycle/a" not in outcome.decided and "cycle/b" not in outcome.decided
    found = [d for d in outcome.problems_of("cycle/b") if d.code == "E180"]
    assert len(found) == 1 and "cycle/a -> cycle/b -> cycle/a" in found[0].message
    assert found[0].path == "cycle/a.subgrades.q1.decision"


def test_cycles_are_found_once_each_from_their_smallest_member():
    def node(*targets):
        case = Case.model_validate({"arbiter": "case", "id": "x", "criteria": "c", "subject": "s", "constructed": True,
                                    "subgrades": {f"s{i}": {"decision": t} for i, t in enumerate(targets)}})
        return Node(dataclasses.make_dataclass("L", [("case", Case)])(case))
    nodes = {"a": node("b"), "b": node("c", "b"), "c": node("a"), "d": node("a")}
    assert cycles(nodes) == [["a", "b", "c"], ["b"]]
    assert decision_order(nodes) == []  # everything depends on a cycle
    assert decision_order({"a": node("b"), "b": node(), "c": node()}) == ["b", "a", "c"]


def test_an_input_with_no_grade_stops_the_dependent_decision(catalog):
    data = {**data_of(OVERALL), "id": "x/overall"}
    data["subgrades"] = {**data["subgrades"], "q3": {"decision": "examples-decision-graph/q3-undecided"}}
    outcome = decide(catalog, [data])
    assert "examples-decision-graph/q3-undecided" in outcome.decided
    assert "x/overall" not in outcome.decided
    assert [d.code for d in outcome.problems_of("x/overall")] == ["E182"]


# --- the laws -----------------------------------------------------------------------------

@settings(max_examples=40)
@given(decision_chains())
def test_a_chain_decides_as_the_case_with_its_inputs_written_by_hand(catalog, chain):
    """Deciding a case through the graph equals deciding it with each input's outcome written
    by hand, through durable-rules and through the oracle alike; an input with no grade stops it."""
    questions, overall = chain
    outcome = decide(catalog, [*questions.values(), overall])
    durable = {sub: outcome.decided[q["id"]].record["outcome"] for sub, q in questions.items()}
    oracle = {sub: oracle_outcome(catalog, q) for sub, q in questions.items()}
    assert durable == oracle  # every node agrees
    if not set(durable.values()) <= set(GRAPH_LEVELS):
        assert overall["id"] not in outcome.decided
        assert {d.code for d in outcome.problems_of(overall["id"])} == {"E182"}
        return
    written = {**overall, "subgrades": {**overall["subgrades"], **durable}}
    by_hand = score(read_case(from_data(written, "written"), catalog))
    through = outcome.decided[overall["id"]].record
    for field in ("outcome", "computed_outcome", "uncapped_outcome", "decided_by", "tallies", "why_not"):
        assert through[field] == by_hand[field], field
    assert through["outcome"] == oracle_outcome(catalog, {**overall, "subgrades": {**overall["subgrades"], **oracle}})


@settings(max_examples=25)
@given(decision_chains(), st.randoms(use_true_random=False))
def test_a_chain_is_decided_the_same_whatever_the_order_and_however_often(catalog, chain, rnd):
    """The order the cases are given in never changes an outcome or an id, and deciding again
    gives byte-identical records."""
    questions, overall = chain
    cases = [*questions.values(), overall]
    first = decide(catalog, cases)
    rnd.shuffle(cases)
    again = decide(catalog, cases)
    assert set(first.decided) == set(again.decided)
    for case_id, decided in first.decided.items():
        assert canonical_json(decided.record) == canonical_json(again.decided[case_id].record)


def test_the_files_order_never_changes_an_outcome_or_an_id(catalog):
    files = sorted(EXAMPLES.glob("*.yaml"))
    forward, _ = score_paths(files, catalog)
    backward, _ = score_paths(list(reversed(files)), catalog)
    ids = lambda results: sorted((r.records[0]["case"], r.records[0]["decision_id"], r.actual) for r in results)  # noqa: E731
    assert ids(forward) == ids(backward)


@settings(max_examples=25)
@given(decision_chains())
def test_a_better_input_never_gives_a_worse_overall_grade(catalog, chain):
    """Under the example's overall rules, raising one linked key question's grade (here, by
    meeting every one of its criteria) never lowers the overall grade."""
    questions, overall = chain
    before = decide(catalog, [*questions.values(), overall])
    sub = sorted(questions)[0]
    best = {**questions[sub], "findings": [{**f, "finding": "met"} for f in questions[sub]["findings"]]}
    after = decide(catalog, [*{**questions, sub: best}.values(), overall])
    if overall["id"] in before.decided and overall["id"] in after.decided:
        rank = GRAPH_LEVELS.index
        assert rank(after.decided[overall["id"]].record["outcome"]) <= rank(before.decided[overall["id"]].record["outcome"])


# --- the ledger -----------------------------------------------------------------------------

def run(*args):
    return CliRunner().invoke(main, [str(a) for a in args], catch_exceptions=False)


def entries(path: Path) -> list[tuple[int, str]]:
    with sqlite3.connect(path) as db:
        return db.execute("SELECT seq, ref FROM entries WHERE type = 'decision' ORDER BY seq").fetchall()


def test_recording_a_chain_records_the_inputs_first_once_and_replays_it_whole(tmp_path):
    ledger = tmp_path / "ledger.sqlite"
    result = run("score", OVERALL, "--format", "json", "--record", "--ledger", ledger, "--root", ROOT)
    assert result.exit_code == 0, result.output
    records = [json.loads(line) for line in result.stdout.splitlines()]
    assert [ref for _, ref in entries(ledger)] == [r["decision_id"] for r in records]
    overall = records[-1]
    assert [i["decision_id"] for i in overall["inputs"]] == [r["decision_id"] for r in records[:3]]
    again = run("score", EXAMPLES / "overall-q2-by-hand.yaml", "--record", "--ledger", ledger, "--root", ROOT)
    assert again.exit_code == 0
    assert len(entries(ledger)) == 5  # its two inputs were recorded already: only it is appended
    replayed = run("replay", overall["decision_id"], "--ledger", ledger)
    assert replayed.exit_code == 0, replayed.output
    assert replayed.output == (f"{overall['decision_id']}: byte-identical, with the 3 decision(s) it takes "
                               "sub-area grades from\n")
    assert run("verify", "--ledger", ledger).exit_code == 0


def test_a_recorded_decision_feeds_a_case_by_its_id(tmp_path, catalog):
    with engine.open_ledger(tmp_path / "ledger.sqlite") as ledger:
        engine.record(ledger, [engine.score(catalog, EXAMPLES / "q2-investigating-crime.yaml")])
        q2 = engine.score(catalog, EXAMPLES / "q2-investigating-crime.yaml").records[0]
        by_case = engine.score(catalog, OVERALL).records[0]
        data = data_of(OVERALL)
        data["subgrades"]["q2"] = {"decision_id": q2["decision_id"]}
        by_id = engine.score(catalog, data, ledger=ledger).records[0]
        assert by_id["decision_id"] == by_case["decision_id"]  # the same chain is the same decision
        data["subgrades"]["q2"] = {"decision_id": "0123456789abcdef"}
        with pytest.raises(DiagnosticError) as error:
            engine.score(catalog, data, ledger=ledger)
        assert [(d.code, d.path) for d in error.value.diagnostics] == [("E171", "evidence.subgrades.q2.decision_id")]


def test_replay_names_the_link_that_changed(tmp_path, catalog):
    scored = engine.score(catalog, OVERALL)
    q2 = next(s for s in scored.inputs if s.records[0]["case"] == Q2)
    altered = dataclasses.replace(q2, records=[{**q2.records[0], "durable_rules_version": "0.0.0"}])
    with engine.open_ledger(tmp_path / "ledger.sqlite") as ledger:
        engine.record(ledger, [altered])  # the same id, another record
        engine.record(ledger, [scored])  # q2 is found already recorded, so the altered record stays linked
        result = engine.replay(ledger, scored.records[0]["decision_id"])
    assert not result.identical
    named = f"input sub-area 'q2' (case {Q2}, decision {q2.records[0]['decision_id']})"
    assert any(line.startswith(f"{named}: its record's sha256 is") for line in result.differences)
    assert any(line.startswith(f"{named}: durable_rules_version") for line in result.differences)


def test_a_decision_is_not_recorded_without_its_inputs(tmp_path, catalog):
    scored = dataclasses.replace(engine.score(catalog, OVERALL), inputs=())
    with engine.open_ledger(tmp_path / "ledger.sqlite") as ledger:
        with pytest.raises(DiagnosticError) as error:
            engine.record(ledger, [scored])
        assert {d.code for d in error.value.diagnostics} == {"E183"}
        assert entries(ledger.path) == []
