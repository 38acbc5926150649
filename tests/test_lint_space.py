"""The exhaustive analysis of `arbiter lint` (engine/lint/space.py): overlaps, gaps, unreachable
grades, limiters and floors that never apply, conditions that always or never hold, each on a
constructed example, with counts checked by brute force and witnesses graded by durable-rules."""

from __future__ import annotations

import itertools
import json
import re
import shutil
from pathlib import Path

import pytest
from hypothesis import event, given, note, settings

import engine
from engine.compiler.compile import compile_criteria, compile_set
from engine.language.catalog import Catalog
from engine.language.criteria import load_criteria
from engine.language.models import UNDECIDED, group_breach
from engine.lint.findings import LintFinding
from engine.lint.space import TooLarge, analyse, analyse_criteria, condition_holds, explore
from engine.runtime.tally import Evidence, tally

from .conftest import ROOT
from .strategies import scored_worlds, worlds

FIVE = "examples-hit-policy/five-questions"


def by_code(findings: list[LintFinding], code: str) -> list[LintFinding]:
    return [f for f in findings if f.code == code]


def counts_in(message: str) -> tuple[int, int]:
    """The 'N of M reachable tally vectors' a message states."""
    found = re.search(r"(\d+) of (\d+) reachable tally vectors", message)
    assert found, message
    return int(found.group(1)), int(found.group(2))


# --- brute force, independent of the classes -----------------------------------------------------

def every_evidence(criteria, cap: int):
    """Every valid evidence of a criteria set, member by member (no classes): each criterion met,
    not met or not assessed (or each score), each factor, each sub-area at each level or not
    counted, causes of concern from 0 to cap; exclusive groups kept (models.group_breach)."""
    cs, fw, scale = criteria.criteria.model, criteria.framework.model, criteria.scale.model
    finding_choices = [[*c.scored.values, "not_assessed"] if c.scored else ["met", "not_met", "not_assessed"]
                       for c in cs.criteria]
    ranks = list(range(len(scale.levels))) + [None]
    for findings in itertools.product(*finding_choices):
        values = dict(zip((c.id for c in cs.criteria), findings))
        if any(group_breach(g.exactly_one, [values.get(m) for m in g.criteria]) for g in cs.exclusive):
            continue
        for factors in itertools.product([True, False], repeat=len(fw.factors)):
            for subgrades in itertools.product(ranks, repeat=len(cs.subgrades)):
                counted = {s.id: r for s, r in zip(cs.subgrades, subgrades) if r is not None}
                for concerns in range(cap + 1):
                    yield Evidence(values, dict(zip(fw.factors, factors)), counted, concerns)


def brute_force_tallies(criteria, plan, cap: int) -> set[tuple[int, ...]]:
    return {tuple(tally(plan, e)[q.id] for q in plan.quantities) for e in every_evidence(criteria, cap)}


def evidence_count(criteria, cap: int) -> int:
    cs, fw, scale = criteria.criteria.model, criteria.framework.model, criteria.scale.model
    size = (len(scale.levels) + 1) ** len(cs.subgrades) * 2 ** len(fw.factors) * (cap + 1)
    for c in cs.criteria:
        size *= len(c.scored.values) + 1 if c.scored else 3
    return size


def concern_cap(plan) -> int:
    kinds = {q.id: q.kind for q in plan.quantities}
    return max((c.threshold for c in plan.conditions if kinds[c.quantity] == "causes_of_concern"), default=-1) + 1


def holds(plan, tally_vector, rule_id) -> bool:
    index = {q.id: i for i, q in enumerate(plan.quantities)}
    kinds = [q.kind for q in plan.quantities]
    return all(condition_holds(c, kinds[index[c.quantity]], tally_vector[index[c.quantity]])
               for c in (plan.condition(cid) for cid in plan.rule(rule_id).when))


# --- the shipped overlapping framework ----------------------------------------------------------

def test_the_overlap_and_the_gap_of_five_questions_are_found_with_exact_counts(catalog):
    criteria = load_criteria(catalog, FIVE)
    plan = compile_set(catalog, FIVE).plan
    every = brute_force_tallies(criteria, plan, 0)  # all 5^5 sub-area assignments, one by one
    both = {t for t in every if holds(plan, t, "level:requires_improvement") and holds(plan, t, "level:inadequate")}
    grades = [r.id for r in plan.stage_rules("level") if r.conclude != "undecided"]
    gap = {t for t in every if not any(holds(plan, t, r) for r in grades)}
    assert both and gap

    findings = analyse(catalog, FIVE)
    [overlap] = by_code(findings, "L201")
    assert overlap.about == "requires_improvement:inadequate" and overlap.severity == "error"
    assert "level:requires_improvement" in overlap.message and "level:inadequate" in overlap.message
    assert counts_in(overlap.message) == (len(both), len(every))
    [missing] = by_code(findings, "L202")
    assert missing.severity == "warning"
    assert counts_in(missing.message) == (len(gap), len(every))
    assert "1 Requires improvement" in missing.message  # one sub-area below good, as the framework's choice says


def test_five_questions_witnesses_are_cases_durable_rules_grades_as_the_findings_say(catalog):
    findings = analyse(catalog, FIVE)
    [overlap] = by_code(findings, "L201")
    [missing] = by_code(findings, "L202")
    for finding, rule in ((overlap, "level:both:requires_improvement:inadequate"), (missing, "level:undecided")):
        witness = dict(finding.witness)
        assert witness["constructed"] is True and witness["criteria"] == FIVE
        assert witness["expect"] == {"outcome": UNDECIDED}
        record = engine.score(catalog, witness).records[0]
        assert record["outcome"] == UNDECIDED
        assert record["decided_by"]["rule"] == rule
    grades = dict(missing.witness)["subgrades"]
    assert sorted(grades.values()) == ["outstanding"] * 4 + ["requires_improvement"]  # the smallest gap


def test_findings_are_located_in_the_framework_file(catalog):
    findings = analyse(catalog, FIVE)
    [overlap] = by_code(findings, "L201")
    path = Path(ROOT / overlap.path) if not Path(overlap.path).is_absolute() else Path(overlap.path)
    assert path.name == "framework.yaml"
    lines = path.read_text(encoding="utf-8").splitlines()
    assert lines[overlap.line - 1][overlap.col - 1:].startswith("level: inadequate")


# --- constructed projects ------------------------------------------------------------------------

SCALE = "peel-4-tier"


def project(tmp_path: Path, framework: str, criteria: str) -> Catalog:
    """A project of one scale (copied from criteria/scales), one framework and one criteria set."""
    (tmp_path / "criteria" / "scales").mkdir(parents=True)
    shutil.copy(ROOT / "criteria" / "scales" / f"{SCALE}.yaml", tmp_path / "criteria" / "scales")
    (tmp_path / "criteria" / "made").mkdir()
    (tmp_path / "criteria" / "made" / "framework.yaml").write_text(
        f"arbiter: framework\nid: made\ntitle: Constructed\nversion: '1'\nscale: {SCALE}\n"
        f"tiers:\n  core: {{description: every criterion}}\n"
        f"undecided: {{outcome: professional_judgement, reason: no rule decides}}\n" + framework, encoding="utf-8")
    (tmp_path / "criteria" / "made" / "area.yaml").write_text(
        "arbiter: criteria\nid: made/area\nframework: made\ntitle: Constructed area\n" + criteria, encoding="utf-8")
    return Catalog(tmp_path)


THREE = """criteria:
  - {id: a, tier: core, text: criterion a}
  - {id: b, tier: core, text: criterion b}
  - {id: c, tier: core, text: criterion c}
"""


def test_a_grade_whose_conditions_never_hold_together_is_unreachable(tmp_path):
    catalog = project(tmp_path, """hit_policy: {policy: best}
grades:
  - level: outstanding
    when:
      - {met: {}, at_least: 3}
      - {not_met: {}, at_least: 1}
  - level: good
    when: [{met: {}, at_least: 2}]
  - level: requires_improvement
    when: [{met: {}, at_most: 1}]
""", THREE)
    findings = analyse(catalog, "made/area")
    unreachable = {f.about: f for f in by_code(findings, "L203")}
    assert set(unreachable) == {"outstanding", "inadequate"}
    assert "never hold together" in unreachable["outstanding"].message
    assert "no grade rule gives it" in unreachable["inadequate"].message
    assert unreachable["outstanding"].witness is None
    assert not by_code(findings, "L202")  # good and requires improvement cover every count


def test_a_limiter_whose_cap_the_grade_is_always_at_never_applies(tmp_path):
    catalog = project(tmp_path, """hit_policy: {policy: best}
grades:
  - level: outstanding
    when: [{met: {}, at_least: 3}]
  - level: good
    when: [{met: {}, at_least: 2}]
  - level: requires_improvement
    when: [{met: {}, at_most: 1}]
limiters:
  - id: one-missed
    cap: good
    description: a criterion not met
    when: [{not_met: {}, at_least: 1}]
  - id: nothing-assessed
    cap: inadequate
    description: nothing assessed
    when: [{not_assessed: {}, at_least: 3}]
""", THREE)
    findings = analyse(catalog, "made/area")
    [never] = by_code(findings, "L204")
    assert never.about == "one-missed" and never.severity == "warning"
    assert "already at or below Good" in never.message
    record = engine.score(catalog, dict(never.witness)).records[0]  # its conditions hold, yet it does not cap
    assert record["limiter"] is None and record["outcome"] in ("good", "requires_improvement")
    assert "one-missed" in json.dumps(record["limiters"])
    assert {f.about for f in by_code(findings, "L203")} == set()  # inadequate comes from the other limiter


def test_a_floor_below_every_reachable_grade_never_applies(tmp_path):
    catalog = project(tmp_path, """hit_policy: {policy: best}
grades:
  - level: good
    when: [{met: {}, at_least: 2}]
  - level: requires_improvement
    when: [{met: {}, at_most: 1}]
floors:
  - id: one-met
    floor: inadequate
    description: a criterion met
    when: [{met: {}, at_least: 1}]
""", THREE)
    findings = analyse(catalog, "made/area")
    [never] = by_code(findings, "L205")
    assert never.about == "one-met" and "already at or above Inadequate" in never.message
    assert {f.about for f in by_code(findings, "L203")} == {"outstanding", "inadequate"}


def test_conditions_that_always_or_never_hold_are_found_at_their_place(tmp_path):
    catalog = project(tmp_path, """hit_policy: {policy: best}
grades:
  - level: good
    when:
      - {met: {ids: [a, b]}, at_least: 1}
      - {not_met: {}, at_most: 3}
  - level: requires_improvement
    when:
      - {met: {ids: [a, b]}, at_least: 2}
""", THREE + """exclusive:
  - {id: one-of-two, criteria: [a, b]}
""")
    findings = analyse(catalog, "made/area")
    [always] = by_code(findings, "L206")
    [never] = by_code(findings, "L207")
    assert "not met at most 3" in always.message
    assert "met at least 2" in never.message  # at most one of a and b is met: the group is respected
    text = (tmp_path / "criteria" / "made" / "framework.yaml").read_text(encoding="utf-8").splitlines()
    assert text[always.line - 1][always.col - 1:].startswith("{not_met: {}, at_most: 3}")
    assert text[never.line - 1][never.col - 1:].startswith("{met: {ids: [a, b]}, at_least: 2}")


def test_no_witness_breaks_an_exclusive_group(tmp_path):
    catalog = project(tmp_path, """hit_policy: {policy: unique}
grades:
  - level: good
    when: [{met: {ids: [a, b]}, at_least: 1}]
  - level: requires_improvement
    when: [{not_met: {}, at_least: 1}]
""", THREE + """exclusive:
  - {id: one-of-two, criteria: [a, b], exactly_one: true}
""")
    findings = analyse(catalog, "made/area")
    witnesses = [dict(f.witness) for f in findings if f.witness]
    assert by_code(findings, "L201") and by_code(findings, "L202")
    for witness in witnesses:
        values = {f["criterion"]: f.get("finding") for f in witness["findings"]}
        assert group_breach(True, [values["a"], values["b"]]) is None
        assert engine.score(catalog, witness).records[0]["outcome"] == witness["expect"]["outcome"]
    [gap] = by_code(findings, "L202")
    # Exactly one of a and b is met unless neither is assessed: the only gap is neither assessed, c met.
    assert counts_in(gap.message)[0] == 1 and "not assessed: a, b" in gap.message


def test_scored_criteria_are_enumerated_score_by_score(tmp_path):
    catalog = project(tmp_path, """hit_policy: {policy: unique}
grades:
  - level: outstanding
    when: [{score_sum: {tier: core}, at_least: 7}]
  - level: good
    when: [{score: s1, at_least: 3}]
  - level: requires_improvement
    when: [{score: s1, at_most: 2}]
""", """criteria:
  - {id: s1, tier: core, text: scored one, scored: {min: 1, max: 4}}
  - {id: s2, tier: core, text: scored two, scored: {min: 1, max: 4}}
""")
    findings = analyse(catalog, "made/area")
    criteria = load_criteria(catalog, "made/area")
    plan = compile_set(catalog, "made/area").plan
    every = brute_force_tallies(criteria, plan, 0)
    gap = {t for t in every if not any(holds(plan, t, r) for r in
                                       ("level:outstanding", "level:good", "level:requires_improvement"))}
    [missing] = by_code(findings, "L202")
    assert counts_in(missing.message) == (len(gap), len(every))
    assert "not assessed: s1" in missing.message
    [overlap] = by_code(findings, "L201")
    assert overlap.about == "outstanding:good"
    scores = {f["criterion"]: f.get("score") for f in overlap.witness["findings"]}
    assert scores == {"s1": 4, "s2": 4}  # the smallest: both at their best


def test_a_space_too_large_is_reported_and_not_analysed(catalog):
    criteria = load_criteria(catalog, "hmic-2007/child-abuse")
    findings = analyse_criteria(criteria, compile_set(catalog, "hmic-2007/child-abuse"), max_steps=100)
    assert [(f.code, f.severity) for f in findings] == [("L208", "info")]


# --- laws -------------------------------------------------------------------------------------

LAW_STEPS = 20_000  # generated sets larger than this are not enumerated here (seconds each)
BRUTE_FORCE_MOST = 20_000  # evidence records the brute force tries one by one


def check_space(criteria, case):
    """Soundness: the case's tally vector and condition-truth pattern are enumerated, and the
    smallest evidence of each enumerated vector gives that vector. Completeness (where every
    evidence can be tried): exactly the brute force's vectors are enumerated."""
    compiled = compile_criteria(criteria)
    plan = compiled.plan
    try:
        space = explore(criteria, plan, max_steps=LAW_STEPS)
    except TooLarge:
        note("too large to enumerate within the law's budget")
        event("too large")
        return
    event("enumerated")
    concrete = space.reduced(tally(plan, Evidence.from_case(case, plan)))
    assert concrete in space.tallies
    patterns = {space.pattern(t) for t in space.tallies}
    assert space.pattern(concrete) in patterns
    for vector in list(space.tallies)[:20]:
        evidence = space.evidence(vector)
        counted = {s: r for s, r in evidence.subgrades.items() if r is not None}
        made = Evidence(evidence.findings, evidence.factors, counted, evidence.concerns)
        assert tuple(tally(plan, made)[q.id] for q in plan.quantities) == vector
    cap = concern_cap(plan)
    size = evidence_count(criteria, cap)
    note(f"{size} evidence records, {len(space.tallies)} tally vectors")
    if size <= BRUTE_FORCE_MOST:
        event("compared with the brute force")
        assert set(space.tallies) == brute_force_tallies(criteria, plan, cap)


@given(worlds())
def test_the_space_holds_every_evidence_and_only_reachable_tallies(world):
    check_space(*world)


@given(scored_worlds(small=True))
def test_the_space_of_scored_criteria_and_exclusive_groups_is_exact(world):
    check_space(*world)


@settings(max_examples=min(50, settings().max_examples))  # each example runs durable-rules per pattern
@given(worlds())
def test_analysis_of_generated_criteria_agrees_with_durable_rules(world):
    """Every pattern's evidence is validated and decided by durable-rules, and cross-checked
    against the pattern: the analysis raises rather than disagree."""
    criteria, _ = world
    for finding in analyse_criteria(criteria, compile_criteria(criteria), max_steps=LAW_STEPS):
        assert finding.code in ("L201", "L202", "L203", "L204", "L205", "L206", "L207", "L208")


# --- every shipped criteria set ----------------------------------------------------------------

@pytest.mark.parametrize("set_id", Catalog(ROOT).criteria_set_ids())
def test_every_shipped_criteria_set_is_analysed(catalog, set_id):
    for finding in analyse(catalog, set_id):
        assert finding.criteria_set == set_id
        if finding.witness is not None:
            assert engine.score(catalog, dict(finding.witness)).records[0]["outcome"] == \
                finding.witness["expect"]["outcome"]
