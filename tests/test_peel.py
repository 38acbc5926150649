"""PEEL: Kent's published grades, carried-over and ungraded areas, the national summary,
and the refusal to compare grades across frameworks."""

from __future__ import annotations

import pytest
from click.testing import CliRunner
from hypothesis import given
from hypothesis import strategies as st

from engine.cli import main
from engine.workspace.compare import summary
from engine.language.models import UNDECIDED, SubgradeEntry
from engine.workspace.runner import score_file, score_paths

from .conftest import ROOT
from .strategies import worlds
from .test_laws import score

PUBLISHED = {
    "2015/q1-preventing-crime": "good", "2015/q2-investigating-crime": "good",
    "2015/q3-protecting-vulnerable-people": "requires_improvement", "2015/q4-serious-organised-crime": "good",
    "2015/effectiveness": "good",
    "2018/q2-investigating-crime": "good", "2018/q3-protecting-vulnerable-people": "good",
    "2018/q5-specialist-capabilities": "not_graded", "2018/effectiveness": "good",
    "2021/crime-data-integrity": "outstanding", "2021/treatment-of-the-public": "good",
    "2021/preventing-crime": "good", "2021/responding-to-the-public": "requires_improvement",
    "2021/investigating-crime": "requires_improvement", "2021/protecting-vulnerable-people": "adequate",
    "2021/managing-offenders": "requires_improvement", "2021/developing-a-positive-workplace": "good",
    "2021/good-use-of-resources": "good", "2021/victim-service-assessment": "not_graded",
}


@pytest.mark.parametrize("case,grade", sorted(PUBLISHED.items()))
def test_kent_peel_scores_to_its_published_grade(case, grade, catalog):
    assert score_file(ROOT / "cases" / "kent-peel" / f"{case}.yaml", catalog).records[0]["outcome"] == grade


def test_the_2018_pillar_shows_which_question_grades_were_carried_over(catalog):
    record = score_file(ROOT / "cases" / "kent-peel" / "2018" / "effectiveness.yaml", catalog).records[0]
    subs = {s["id"]: s for s in record["subgrades"]}
    assert [k for k, s in subs.items() if s["provenance"] == "carried_over"] == ["q1", "q4"]
    assert subs["q1"]["counted"] and subs["q1"]["year"] == 2017
    assert subs["q5"] == {"id": "q5", "grade": None, "provenance": "ungraded", "counted": False, "source": "004:149"}
    assert record["computed_outcome"] == UNDECIDED and record["override"]["source"] == "004:10"


def test_the_national_summary_reproduces_the_published_2007_table(catalog):
    results, problems = score_paths([ROOT / "cases" / "national-2007"], catalog)
    assert not problems
    (dist,) = summary([r for result in results for r in result.records], catalog)
    table = {area: counts for area, counts, _ in dist.rows}
    assert dist.columns == ["Excellent", "Good", "Fair", "Poor"]
    assert table == {  # 000:641-655
        "Neighbourhood Policing": [6, 14, 21, 2],
        "Performance management": [6, 29, 8, 0],
        "Protecting vulnerable people - Child abuse": [3, 17, 21, 2],
        "Protecting vulnerable people - Domestic violence": [1, 13, 27, 2],
        "Protecting vulnerable people - Public protection": [2, 16, 23, 2],
        "Protecting vulnerable people - Missing persons": [1, 21, 21, 0],
    }
    kent = [r for result in results for r in result.records if r["case"].endswith("/kent")]
    assert len(kent) == 6 and not any(r["constructed"] for r in kent)
    assert (dist.decisions, dist.constructed) == (258, 252)
    assert dist.provenance().startswith("252 of 258 decisions rest on constructed evidence")


def test_a_summary_of_published_evidence_says_so(catalog):
    results, _ = score_paths([ROOT / "cases" / "kent-2007"], catalog)
    (dist,) = summary([r for result in results for r in result.records], catalog)
    assert dist.provenance() == "all 6 decisions rest on evidence read from published reports"


def test_summaries_of_different_frameworks_are_never_merged(catalog):
    results, _ = score_paths([ROOT / "cases" / "kent-peel"], catalog)
    frameworks = [d.framework for d in summary([r for res in results for r in res.records], catalog)]
    assert frameworks == sorted(set(frameworks)) and {"peel-2015", "peel-2018", "peel-2021"} <= set(frameworks)


def test_comparing_2015_with_2021_is_refused_with_the_seed_statement():
    first = ROOT / "cases" / "kent-peel" / "2015" / "q3-protecting-vulnerable-people.yaml"
    second = ROOT / "cases" / "kent-peel" / "2021" / "protecting-vulnerable-people.yaml"
    result = CliRunner().invoke(main, ["compare", str(first), str(second)])
    assert result.exit_code == 2
    assert "E160" in result.output and "'peel-2015'" in result.output and "'peel-2021'" in result.output
    assert "it is not possible to make direct comparisons between the grades awarded" in result.output.replace("\n", " ")


def test_comparing_within_one_framework_says_how_far_apart():
    first = ROOT / "cases" / "kent-peel" / "2021" / "investigating-crime.yaml"
    second = ROOT / "cases" / "kent-peel" / "2021" / "crime-data-integrity.yaml"
    result = CliRunner().invoke(main, ["compare", str(first), str(second)])
    assert result.exit_code == 0 and "3 levels higher" in result.output


@given(worlds(monotone=True), st.data())
def test_raising_one_subarea_grade_never_lowers_the_grade(world, data):
    """Monotonicity of aggregation: one sub-area graded one level higher never lowers the
    grade (for frameworks whose sub-area rules count at or above a level, or the worst)."""
    criteria, case = world
    counted = [k for k in case.subgrades if case.subgrade(k).grade not in (None, "l0")]
    if not counted:
        return
    key = data.draw(st.sampled_from(counted))
    entry = case.subgrade(key)
    higher = f"l{int(entry.grade[1:]) - 1}"
    raised = case.model_copy(update={"subgrades": {**case.subgrades, key: entry.model_copy(update={"grade": higher})}})
    before, after = score(criteria, case), score(criteria, raised)
    if UNDECIDED in (before["outcome"], after["outcome"]):
        return
    assert int(after["outcome"][1:]) <= int(before["outcome"][1:])


@given(worlds(), st.data())
def test_an_ungraded_or_excluded_carried_over_area_never_counts(world, data):
    """Changing a sub-area grade that does not count changes nothing but its own line, and
    the record never shows a carried-over or ungraded area as inspected."""
    criteria, case = world
    framework = criteria.framework.model
    silent = [k for k in case.subgrades if case.subgrade(k).provenance == "ungraded"
              or (case.subgrade(k).provenance == "carried_over" and framework.carried_over == "excluded")]
    record = score(criteria, case)
    for sub in record["subgrades"]:
        assert sub["provenance"] == case.subgrade(sub["id"]).provenance
        assert sub["counted"] == (sub["id"] not in silent)
    if not silent:
        return
    key = data.draw(st.sampled_from(silent))
    levels = [lv.id for lv in criteria.scale.model.levels]
    changed = SubgradeEntry(grade=data.draw(st.sampled_from(levels)), provenance="carried_over",
                            carried_from="an earlier inspection", year=2016)
    if framework.carried_over == "counted":
        changed = SubgradeEntry(provenance="ungraded")
    other = score(criteria, case.model_copy(update={"subgrades": {**case.subgrades, key: changed}}))
    assert (other["outcome"], other["trace"]) == (record["outcome"], record["trace"])
