"""Absolute limiters: no recorded professional judgement lifts the grade above their cap. A
judgement already recorded in a case is overruled, and the record shows both; a judgement
given to the ledger for a decision where one holds is refused."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from engine.cli import main
from engine.compiler.compile import compile_criteria
from engine.inspections.cases import decide_case
from engine.language.criteria import Criteria
from engine.language.decision_model import validated
from engine.language.models import (Case, Condition, Criterion, CriteriaSet, Described, Finding, Framework, GradeRule,
                                    Level, Limiter, Override, Scale, Selection, Undecided)
from engine.ledger.ledger import Ledger
from engine.oracle import reference
from engine.workspace.runner import engines_disagree

from .conftest import ROOT

LEVELS = ("l0", "l1", "l2")  # highest first


def world(absolute: bool, concern_met: bool, judged: str | None) -> tuple[Criteria, Case]:
    """Grade l0 when k0 is met; a limiter capping at l1 when k1 is not met (absolute or not);
    a judgement of `judged`, if any."""
    scale = Scale(arbiter="scale", id="gen-scale", title="Built scale",
                  levels=tuple(Level(id=lv, label=f"Level {lv}", definition=lv) for lv in LEVELS))
    framework = Framework(
        arbiter="framework", id="gen", title="Built framework", version="1", scale=scale.id,
        tiers={"fair": Described(description="every criterion")},
        grades=(GradeRule(level="l0", when=(Condition(met=Selection(ids=("k0",)), at_least=1),)),),
        limiters=(Limiter(id="k1-not-met", cap="l1", description="k1 is not met", absolute=absolute,
                          when=(Condition(not_met=Selection(ids=("k1",)), at_least=1),)),),
        undecided=Undecided(outcome="professional_judgement", reason="no rule decides"))
    cs = CriteriaSet(arbiter="criteria", id="gen/set", framework="gen", title="Built area",
                     criteria=tuple(Criterion(id=k, tier="fair", text=k) for k in ("k0", "k1")))
    case = Case(arbiter="case", id="gen/case", criteria=cs.id, subject="Built force", constructed=True,
                findings=(Finding(criterion="k0", finding="met"),
                          Finding(criterion="k1", finding="met" if concern_met else "not_met")),
                override=Override(outcome=judged, rationale="judgement", by="HMI") if judged else None)
    return Criteria.from_models(scale, framework, cs), case


@pytest.mark.parametrize("absolute", [True, False])
@pytest.mark.parametrize("concern_met", [True, False])
@pytest.mark.parametrize("judged", [None, *LEVELS])
def test_an_absolute_limiter_overrules_a_judgement_above_its_cap(absolute, concern_met, judged):
    criteria, case = world(absolute, concern_met, judged)
    record = validated(decide_case(compile_criteria(criteria), case))
    assert engines_disagree(record, reference.evaluate(criteria, case)) == ""
    holds = not concern_met
    overruled = absolute and holds and judged == "l0"  # only l0 is above the cap, l1
    expected = "l1" if overruled else judged or ("l1" if holds else "l0")
    assert record["outcome"] == expected
    assert (record["overruled_by"] or {}).get("id") == ("k1-not-met" if overruled else None)
    assert record["limiters"] == ([] if not holds else [
        {**record["limiters"][0], "id": "k1-not-met", "absolute": absolute}])
    if overruled:
        assert record["override"]["outcome"] == "l0" and record["computed_outcome"] == "l1"


def run(*args):
    return CliRunner().invoke(main, [str(a) for a in args], catch_exceptions=False)


def test_a_judgement_above_an_absolute_cap_is_refused_by_the_ledger(tmp_path):
    """examples-counting/two-limiters: the absolute limiter cause-of-concern holds (cap requires
    improvement), so good is refused, located at --outcome, and nothing is recorded."""
    path: Path = tmp_path / "ledger.sqlite"
    scored = run("score", ROOT / "cases" / "examples-counting" / "two-limiters.yaml", "--format", "json", "--record",
                 "--ledger", path, "--root", ROOT)
    assert scored.exit_code == 0, scored.output
    (decision,) = [e.ref for e in Ledger.open_for_reading(path).entries() if e.type == "decision"]
    refused = run("override", decision, "--outcome", "good", "--rationale", "r", "--by", "HMI", "--ledger", path)
    assert refused.exit_code == 2 and "--outcome: error E174" in refused.output
    assert "limiter 'cause-of-concern'" in refused.output and "absolute" in refused.output
    assert [e.type for e in Ledger.open_for_reading(path).entries()] == ["decision"]
    accepted = run("override", decision, "--outcome", "inadequate", "--rationale", "r", "--by", "HMI",
                   "--ledger", path)
    assert accepted.exit_code == 0, accepted.output


def two_caps_world(k1_met: bool, k2_met: bool) -> tuple[Criteria, Case]:
    """Grade l0 when k0 is met; absolute limiters capping at l1 (k1 not met) and, written after
    it, at l2 (k2 not met); a judgement of l0."""
    scale = Scale(arbiter="scale", id="gen-scale", title="Built scale",
                  levels=tuple(Level(id=lv, label=f"Level {lv}", definition=lv) for lv in LEVELS))
    limiters = tuple(Limiter(id=f"{k}-not-met", cap=cap, description=f"{k} is not met", absolute=True,
                             when=(Condition(not_met=Selection(ids=(k,)), at_least=1),))
                     for k, cap in (("k1", "l1"), ("k2", "l2")))
    framework = Framework(
        arbiter="framework", id="gen", title="Built framework", version="1", scale=scale.id,
        tiers={"fair": Described(description="every criterion")},
        grades=(GradeRule(level="l0", when=(Condition(met=Selection(ids=("k0",)), at_least=1),)),),
        limiters=limiters, undecided=Undecided(outcome="professional_judgement", reason="no rule decides"))
    cs = CriteriaSet(arbiter="criteria", id="gen/set", framework="gen", title="Built area",
                     criteria=tuple(Criterion(id=k, tier="fair", text=k) for k in ("k0", "k1", "k2")))
    findings = (Finding(criterion="k0", finding="met"), Finding(criterion="k1", finding="met" if k1_met else "not_met"),
                Finding(criterion="k2", finding="met" if k2_met else "not_met"))
    case = Case(arbiter="case", id="gen/case", criteria=cs.id, subject="Built force", constructed=True,
                findings=findings, override=Override(outcome="l0", rationale="judgement", by="HMI"))
    return Criteria.from_models(scale, framework, cs), case


@pytest.mark.parametrize("k1_met", [True, False])
@pytest.mark.parametrize("k2_met", [True, False])
def test_of_two_absolute_limiters_that_hold_the_lower_cap_overrules_whatever_order_they_are_written_in(k1_met, k2_met):
    criteria, case = two_caps_world(k1_met, k2_met)
    record = validated(decide_case(compile_criteria(criteria), case))
    assert engines_disagree(record, reference.evaluate(criteria, case)) == ""
    overruling = "k2-not-met" if not k2_met else "k1-not-met" if not k1_met else None
    assert (record["overruled_by"] or {}).get("id") == overruling
    assert record["outcome"] == {"k2-not-met": "l2", "k1-not-met": "l1", None: "l0"}[overruling]
