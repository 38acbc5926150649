"""The laws of scored inputs, one per test, checked on generated scored criteria and evidence:
criteria scored on scales of their own, conditions on one score and on sums of scores with
every bound (at_least, at_most, exactly, below, above), and exclusive groups."""

from __future__ import annotations

import json
from dataclasses import replace
from itertools import product

from hypothesis import given, settings
from hypothesis import strategies as st

from engine.compiler.compile import compile_criteria
from engine.inspections.cases import check_case_against
from engine.language.load import Document
from engine.language.models import FINDINGS, UNDECIDED, Finding
from engine.oracle import reference
from engine.runtime.decide import evaluate
from engine.runtime.margin import margin
from engine.runtime.tally import Evidence
from engine.workspace.runner import engines_disagree

from .strategies import scored_worlds
from .test_laws import _round_trip, assert_not_lowered, score


@given(scored_worlds())
def test_generated_scored_cases_are_valid(world):
    """Every generated case passes the checks: scores on their scales, exclusive groups kept."""
    criteria, case = world
    assert check_case_against(criteria, case, Document("<case>", {})) == []


@given(scored_worlds())
def test_durable_rules_and_oracle_agree_on_scores(world):
    """durable-rules (scores and sums counted in Python, compared by rules) and the oracle
    (which reads each score from the case and compares it with the bound as written) reach the
    same outcome, by the same rules, with every condition observing the same score or sum."""
    criteria, case = world
    assert engines_disagree(score(criteria, case), reference.evaluate(criteria, case)) == ""


@given(scored_worlds())
def test_scored_determinism(world):
    """Scoring the same scored criteria and evidence twice gives byte-identical records."""
    criteria, case = world
    assert json.dumps(score(criteria, case)) == json.dumps(score(criteria, case))


@given(scored_worlds(monotone=True), st.data())
def test_raising_a_score_never_lowers_the_grade(world, data):
    """Raising one assessed score by one point never lowers the grade, when the hit policy is
    best, every grade rule and floor needs scores or sums at least (or above) a bound, and
    every cap needs them at most (or below) one.

    (Either outcome may be 'professional judgement required', which is not a grade: the law
    compares grades only.)"""
    criteria, case = world
    scales = {c.id: c.scored for c in criteria.criteria.model.criteria if c.scored}
    raisable = [i for i, f in enumerate(case.findings) if f.score is not None and f.score < scales[f.criterion].max]
    if not raisable:
        return
    i = data.draw(st.sampled_from(raisable))
    findings = list(case.findings)
    findings[i] = Finding(criterion=findings[i].criterion, score=findings[i].score + 1)
    assert_not_lowered(criteria, case, case.model_copy(update={"findings": tuple(findings)}))


@given(scored_worlds())
def test_each_single_score_change_the_margin_lists_is_what_the_rules_decide(world):
    """Every change of one scored finding to another score or to not assessed: the margin lists
    it exactly when it changes the rules' outcome, with the outcome both durable-rules and the
    oracle give the changed case."""
    criteria, case = world
    compiled = compile_criteria(criteria)
    evidence = Evidence.from_case(case, compiled.plan)
    computed = evaluate(compiled, evidence).computed
    listed = {(s.change.id, s.change.after): s.outcome
              for s in margin(compiled, evidence, computed).single if s.change.item == "finding"}
    scales = {c.id: c.scored for c in criteria.criteria.model.criteria if c.scored}
    read = {q.members[0] for q in compiled.plan.quantities if q.kind == "score"} | \
        {m for q in compiled.plan.quantities if q.kind == "score_sum" for m in q.members}
    for index, finding in enumerate(case.findings):
        if finding.criterion not in scales:
            continue
        for after in [*scales[finding.criterion].values, "not_assessed"]:
            if after == finding.value:
                continue
            changed = Finding(criterion=finding.criterion, score=after) if isinstance(after, int) \
                else Finding(criterion=finding.criterion, finding=after)
            findings = list(case.findings)
            findings[index] = changed
            other = case.model_copy(update={"findings": tuple(findings), "override": None})
            durable = evaluate(compiled, Evidence.from_case(other, compiled.plan)).computed
            assert durable == reference.evaluate(criteria, other).computed
            expected = durable if durable != computed else None
            assert listed.get((finding.criterion, after)) == expected, (finding.criterion, after)
            if finding.criterion not in read:
                assert expected is None  # a score no condition reads changes nothing


FEWEST_VARIANTS = 700  # worlds small enough to decide every combination of findings


def _variants(case, scales) -> list[tuple]:
    """Every combination of values of the case's findings: scores on each scale, not assessed,
    met and not met (valid or not: the laws keep the valid ones)."""
    choices = [[*scales[f.criterion].values, "not_assessed"] if f.criterion in scales
               else ["met", "not_met", "not_assessed"] for f in case.findings]
    total = 1
    for values in choices:
        total *= len(values)
    return [] if total > FEWEST_VARIANTS else list(product(*choices))


def _with_findings(case, findings: dict):
    """The case with these findings (criterion -> met | not_met | not_assessed or a score), no override."""
    written = tuple(Finding(criterion=cid, score=v) if isinstance(v, int) else Finding(criterion=cid, finding=v)
                    for cid, v in findings.items())
    return case.model_copy(update={"findings": written, "override": None})


def _valid(criteria, case) -> bool:
    """Whether validation accepts the case (exclusive groups kept: E128)."""
    return check_case_against(criteria, case, Document("<case>", {})) == []


def _distance(criteria, before: dict, after: dict) -> int:
    """Findings read differently, a group's met member moving to a member not met before (the
    old one now not met) counting once: the margin's count of changes."""
    changed = sum(1 for cid in before if before[cid] != after[cid])
    for group in criteria.criteria.model.exclusive:
        old = next((m for m in group.criteria if before[m] == "met"), None)
        new = next((m for m in group.criteria if after[m] == "met"), None)
        if old and new and old != new and after[old] == "not_met" and before[new] == "not_met":
            changed -= 1
    return changed


def _applied(findings: dict, changes) -> dict:
    """Findings with the margin's changes made, a switch's replaced member not met."""
    result = dict(findings)
    for change in changes:
        result[change.id] = change.after
        if change.replaces is not None:
            assert findings[change.replaces] == "met" and change.before == "not_met" and change.after == "met"
            result[change.replaces] = "not_met"
    return result


@settings(max_examples=60)
@given(scored_worlds(small=True))
def test_the_fewest_score_changes_are_the_fewest_there_are(world):
    """On worlds small enough to try every combination of findings, the margin's fewest changes
    up and down a level (a scored finding changing to any other score, or to not assessed, in
    one change; a group's met member moving to another in one change) are the fewest any valid
    combination needs (one validation accepts, exclusive groups kept), and its example is valid
    evidence, as many changes, that reaches the target."""
    check_fewest_valid_changes(*world)


@settings(max_examples=150)
@given(scored_worlds(small=True, grouped=True))
def test_the_fewest_changes_keep_exclusive_groups(world):
    """The same on worlds that always have an exclusive group, where a set of changes that
    breaks it, or a switch the search misses, would show."""
    check_fewest_valid_changes(*world)


def check_fewest_valid_changes(criteria, case) -> None:
    compiled = compile_criteria(criteria)
    plan = compiled.plan
    scales = {c.id: c.scored for c in criteria.criteria.model.criteria if c.scored}
    variants = _variants(case, scales)
    assert variants, "a small world has few enough combinations to try"
    evidence = Evidence.from_case(case, plan)
    base = evaluate(compiled, evidence).computed
    found = margin(compiled, evidence, base)
    if base == UNDECIDED:
        return
    before = {f.criterion: f.value for f in case.findings}
    fewest: dict[str, int] = {}
    for values in variants:
        findings = dict(zip(before, values))
        if not _valid(criteria, _with_findings(case, findings)):
            continue
        changes = _distance(criteria, before, findings)
        outcome = evaluate(compiled, replace(evidence, findings=findings, override_rank=None)).computed
        fewest[outcome] = min(fewest.get(outcome, changes), changes)
    for reach, step in ((found.up, -1), (found.down, 1)):
        rank = plan.level(base).rank + step
        if not 0 <= rank < len(plan.levels):
            continue
        reaching = [n for outcome, n in fewest.items() if outcome != UNDECIDED
                    and (plan.level(outcome).rank - rank) * step >= 0]
        assert (reach.status, reach.fewest) == (("found", min(reaching)) if reaching else ("unreachable", None)), \
            (reach, fewest)
        if reach.status == "found":
            example = _with_findings(case, _applied(before, reach.example))
            assert _valid(criteria, example), reach.example
            assert _distance(criteria, before, _applied(before, reach.example)) == len(reach.example) == reach.fewest
            assert reference.evaluate(criteria, example).computed == reach.example_outcome


@settings(max_examples=200)
@given(scored_worlds(grouped=True))
def test_single_changes_keep_exclusive_groups(world):
    """The single changes the margin lists for met/not-met findings are exactly the valid ones
    (validation accepts the changed case) that change the rules' outcome, as durable-rules and
    the oracle decide it: each other value of one finding, and each switch of a group's met
    member to a member not met (one change). None marks a second member of a group met or
    leaves an exactly_one group with none met."""
    criteria, case = world
    compiled = compile_criteria(criteria)
    evidence = Evidence.from_case(case, compiled.plan)
    computed = evaluate(compiled, evidence).computed
    listed = {(s.change.id, s.change.after, s.change.replaces): s.outcome
              for s in margin(compiled, evidence, computed).single
              if s.change.item == "finding" and not isinstance(s.change.after, int) and s.change.before in FINDINGS}
    before = {f.criterion: f.value for f in case.findings}
    plain = [cid for cid, value in before.items() if value in FINDINGS]
    candidates = [(cid, after, None) for cid in plain for after in FINDINGS if after != before[cid]]
    for group in criteria.criteria.model.exclusive:
        old = next((m for m in group.criteria if before[m] == "met"), None)
        candidates += [(m, "met", old) for m in group.criteria if old and before[m] == "not_met"]
    expected = {}
    for cid, after, replaces in candidates:
        other = _with_findings(case, {**before, cid: after, **({replaces: "not_met"} if replaces else {})})
        if not _valid(criteria, other):
            continue
        durable = evaluate(compiled, Evidence.from_case(other, compiled.plan)).computed
        assert durable == reference.evaluate(criteria, other).computed
        if durable != computed:
            expected[(cid, after, replaces)] = durable
    assert listed == expected


@given(scored_worlds())
def test_scored_criteria_and_evidence_survive_yaml_round_trip(world):
    """Score scales, exclusive groups, score conditions and scores survive load, dump, load."""
    criteria, case = world
    for loaded in (criteria.framework, criteria.criteria):
        assert _round_trip(loaded.model) == loaded.model
    assert _round_trip(case) == case
