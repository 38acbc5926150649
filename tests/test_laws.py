"""The laws of grading, one per test, checked on generated criteria and evidence."""

from __future__ import annotations

import json
from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st

from engine.oracle import reference
from engine.inspections.cases import check_case_against
from engine.compiler.compile import compile_criteria
from engine.language.criteria import Criteria
from engine.runtime.decide import evaluate
from engine.language.load import Document, dump_yaml, load_bytes
from engine.language.models import UNDECIDED, Case, Finding
from engine.inspections.record import decision_record
from engine.language.decision_model import validated
from engine.workspace.runner import engines_disagree
from engine.runtime.tally import Evidence
from engine.language.validate import to_model

from .conftest import ROOT
from .strategies import worlds


def score(criteria: Criteria, case: Case) -> dict:
    compiled = compile_criteria(criteria)
    # every generated record is one the reader accepts: the writer is held to the record's model
    return validated(decision_record(compiled, case, evaluate(compiled, Evidence.from_case(case, compiled.plan))))


@given(worlds())
def test_determinism(world):
    """Scoring the same criteria and evidence twice gives byte-identical decision records."""
    criteria, case = world
    assert json.dumps(score(criteria, case)) == json.dumps(score(criteria, case))


@given(worlds(), st.randoms(use_true_random=False))
def test_order_of_findings_does_not_matter(world, rnd):
    """Shuffling findings, factors and sub-area grades changes nothing in the record."""
    criteria, case = world
    findings = list(case.findings)
    rnd.shuffle(findings)
    factors = list(case.factors.items())
    rnd.shuffle(factors)
    subgrades = list(case.subgrades.items())
    rnd.shuffle(subgrades)
    shuffled = case.model_copy(update={"findings": tuple(findings), "factors": dict(factors),
                                       "subgrades": dict(subgrades)})
    assert score(criteria, shuffled) == score(criteria, case)


@given(worlds(monotone=True), st.data())
def test_monotonicity(world, data):
    """Turning one not-met finding into met never lowers the grade.

    (Either outcome may be 'professional judgement required', which is not a grade:
    the law compares grades only.)"""
    criteria, case = world
    not_met = [i for i, f in enumerate(case.findings) if f.finding == "not_met"]
    if not not_met:
        return
    i = data.draw(st.sampled_from(not_met))
    findings = list(case.findings)
    findings[i] = Finding(criterion=findings[i].criterion, finding="met")
    before = score(criteria, case)
    after = score(criteria, case.model_copy(update={"findings": tuple(findings)}))
    if UNDECIDED in (before["outcome"], after["outcome"]):
        return
    rank = {lv.id: lv.rank for lv in compile_criteria(criteria).plan.levels}
    assert rank[after["outcome"]] <= rank[before["outcome"]], (before["outcome"], after["outcome"])


@given(worlds(), st.data())
def test_totality(world, data):
    """Any schema-valid evidence yields a grade, 'professional judgement required' or a
    diagnostic: never another exception."""
    criteria, case = world
    findings = list(case.findings)
    mutation = data.draw(st.sampled_from(["none", "drop", "duplicate", "unknown", "factor", "subgrade"]))
    update: dict = {}
    if mutation == "drop" and findings:
        findings.pop(data.draw(st.integers(0, len(findings) - 1)))
    elif mutation == "duplicate" and findings:
        findings.append(findings[0])
    elif mutation == "unknown":
        findings.append(Finding(criterion="no-such-criterion", finding="met"))
    elif mutation == "factor":
        update["factors"] = {**case.factors, "unheard-of": True}
    elif mutation == "subgrade":
        update["subgrades"] = {**case.subgrades, "s0": "no-such-level"}
    mutated = case.model_copy(update={"findings": tuple(findings), **update})
    problems = check_case_against(criteria, mutated, Document("<case>", {}))
    if problems:
        assert all(p.code.startswith("E1") for p in problems)
        return
    record = score(criteria, mutated)
    levels = [lv.id for lv in compile_criteria(criteria).plan.levels]
    assert record["outcome"] in levels + [UNDECIDED]


@given(worlds())
def test_durable_rules_and_oracle_agree(world):
    """durable-rules and the pure-Python oracle fire the same rules on the same facts and
    reach the same outcome."""
    criteria, case = world
    compiled = compile_criteria(criteria)
    record = score(criteria, case)
    assert engines_disagree(record, reference.evaluate(compiled.plan, case)) == ""


def _round_trip(model):
    text = dump_yaml(model.model_dump(mode="json", by_alias=True, exclude_defaults=True))
    return to_model(load_bytes(text.encode(), "<dumped>"))


@given(worlds())
def test_generated_criteria_survive_yaml_round_trip(world):
    """Criteria and evidence survive load, dump, load unchanged."""
    criteria, case = world
    for loaded in (criteria.scale, criteria.framework, criteria.criteria):
        assert _round_trip(loaded.model) == loaded.model
    assert _round_trip(case) == case


def test_project_files_survive_yaml_round_trip(catalog):
    """Every criteria and case file in the project survives load, dump, load."""
    files = sorted((ROOT / "criteria").rglob("*.yaml")) + sorted(
        p for p in (ROOT / "cases").rglob("*.yaml") if "invalid" not in p.parts)
    assert files
    for path in files:
        model = to_model(load_bytes(Path(path).read_bytes(), str(path)))
        assert _round_trip(model) == model, path


@given(st.text(max_size=40))
def test_any_text_survives_the_dialect(text):
    """Whatever text a field holds, dumping and reading it back gives the same text."""
    dumped = dump_yaml({"value": text})
    assert load_bytes(dumped.encode(), "<t>").data == {"value": text}
