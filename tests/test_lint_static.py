"""The static checks of `arbiter lint`, each on a constructed example: a `choice:` that states
another number than its quantifier or condition (L210), a criteria file changed since git
HEAD without a new version (L211), a criterion no grade reads (L212)."""

from __future__ import annotations

import os
import shutil
import subprocess
from fractions import Fraction
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from engine.compiler.compile import compile_set
from engine.language.catalog import Catalog
from engine.language.criteria import load_criteria
from engine.lint import static

from .conftest import ROOT

# --- the numbers a text states -----------------------------------------------------------------


@pytest.mark.parametrize("text, value, bound", [
    ("Arbiter reads it as at least 80%", Fraction(4, 5), "at_least"),
    ("reads it as 80 per cent of them", Fraction(4, 5), None),
    ("reads it as 75 percent", Fraction(3, 4), None),
    ("a share of 0.75 or more", Fraction(3, 4), "at_least"),
    ("more than half", Fraction(1, 2), "more_than"),
    ("two-thirds of the criteria", Fraction(2, 3), None),
    ("two thirds of the criteria", Fraction(2, 3), None),
    ("at least three quarters", Fraction(3, 4), "at_least"),
    ("fewer than 40% of them", Fraction(2, 5), "less_than"),
    ("no more than 20%", Fraction(1, 5), "at_most"),
])
def test_a_stated_share_is_read_with_the_bound_beside_it(text, value, bound):
    assert [(r.value, r.bound) for r in static.stated_shares(text)] == [(value, bound)]


@pytest.mark.parametrize("text", [
    "every criterion selected must be met; a criterion not assessed is not met",
    "the report does not quantify 'most' (000:294-295)",
    "rated on the 1-5 scale",
])
def test_a_text_stating_no_share_states_none(text):
    assert static.stated_shares(text) == []


@pytest.mark.parametrize("text, value, bound", [
    ("Arbiter requires at least 3 of them", 3, "at_least"),
    ("two or more sub-areas", 2, "at_least"),
    ("fewer than 4", 4, "less_than"),
])
def test_a_stated_count_needs_its_comparator(text, value, bound):
    assert [(r.value, r.bound) for r in static.stated_counts(text)] == [(value, bound)]


def test_a_number_without_a_comparator_is_no_stated_count():
    assert static.stated_counts("any one service; Arbiter requires both, the strict reading") == []


# --- constructed projects ----------------------------------------------------------------------

def project(tmp_path: Path, *frameworks: str) -> Path:
    """A project folder holding the scales and the named frameworks with their criteria sets."""
    shutil.copytree(ROOT / "criteria" / "scales", tmp_path / "criteria" / "scales")
    for framework in frameworks:
        shutil.copytree(ROOT / "criteria" / framework, tmp_path / "criteria" / framework)
    return tmp_path


def rewrite(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text, old
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def framework_of(root: Path, set_id: str):
    return load_criteria(Catalog(root), set_id).framework


HMIC = "hmic-2007/missing-persons"


# --- L210 --------------------------------------------------------------------------------------

def test_the_shipped_choices_agree_with_their_numbers(catalog):
    for set_id in catalog.criteria_set_ids():
        assert static.choice_findings(load_criteria(catalog, set_id).framework) == [], set_id


def test_a_quantifier_whose_choice_states_another_share_is_an_error(tmp_path):
    root = project(tmp_path, "hmic-2007")
    framework = root / "criteria" / "hmic-2007" / "framework.yaml"
    rewrite(framework, "vast_majority:\n    at_least: 0.8", "vast_majority:\n    at_least: 0.75")
    [finding] = static.choice_findings(framework_of(root, HMIC))
    assert (finding.code, finding.severity, finding.about) == ("L210", "error", "vast_majority")
    assert "at_least 0.75" in finding.message and "'at least 80%'" in finding.message
    line = framework.read_text(encoding="utf-8").splitlines()[finding.line - 1]
    assert "reads it as at least 80%" in line  # the finding points at the choice: text


def test_a_quantifier_whose_choice_bounds_the_other_way_is_an_error(tmp_path):
    root = project(tmp_path, "hmic-2007")
    framework = root / "criteria" / "hmic-2007" / "framework.yaml"
    rewrite(framework, "Arbiter reads it as at least 80%", "Arbiter reads it as more than 80%")
    assert [f.about for f in static.choice_findings(framework_of(root, HMIC))] == ["vast_majority"]


def test_a_choice_stating_the_value_in_words_agrees(tmp_path):
    root = project(tmp_path, "hmic-2007")
    framework = root / "criteria" / "hmic-2007" / "framework.yaml"
    rewrite(framework, "vast_majority:\n    at_least: 0.8", "vast_majority:\n    at_least: 0.75")
    rewrite(framework, "Arbiter reads it as at least 80%", "Arbiter reads it as at least three quarters")
    assert static.choice_findings(framework_of(root, HMIC)) == []


def test_a_condition_whose_choice_states_another_threshold_is_an_error(tmp_path):
    root = project(tmp_path, "hmic-2007")
    framework = root / "criteria" / "hmic-2007" / "framework.yaml"
    rewrite(framework, "Arbiter requires both,", "Arbiter requires at least 3,")
    [finding] = static.choice_findings(framework_of(root, HMIC))
    assert (finding.code, finding.about) == ("L210", "excellent-when-2")
    assert "at_least 2" in finding.message and "'at least 3'" in finding.message


def test_a_condition_whose_choice_states_its_threshold_agrees(tmp_path):
    root = project(tmp_path, "hmic-2007")
    framework = root / "criteria" / "hmic-2007" / "framework.yaml"
    rewrite(framework, "Arbiter requires both,", "Arbiter requires 2 or more,")
    assert static.choice_findings(framework_of(root, HMIC)) == []


# --- L211 --------------------------------------------------------------------------------------

def git(root: Path, *args: str) -> None:
    environment = {**os.environ, "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.org",
                   "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@example.org"}
    subprocess.run(["git", "-C", str(root), *args], check=True, capture_output=True, env=environment)


@pytest.fixture
def committed(tmp_path: Path) -> Path:
    root = project(tmp_path, "hmic-2007")
    git(root, "init", "-q")
    git(root, "add", "criteria")
    git(root, "commit", "-q", "-m", "criteria")
    return root


def version_findings(root: Path, set_id: str = HMIC) -> list:
    catalog = Catalog(root)
    criteria = load_criteria(catalog, set_id)
    framework_path = catalog.framework_path(criteria.framework.model.id)
    framework_before = static.committed(framework_path)
    found = [static.framework_version_finding(criteria.framework, framework_before),
             static.set_version_finding(criteria.criteria, static.committed(catalog.criteria_path(set_id)),
                                        criteria.framework, framework_before)]
    return [f for f in found if f is not None]


def test_an_unchanged_checkout_has_no_version_finding(committed):
    assert version_findings(committed) == []


def test_a_framework_changed_without_a_new_version_is_an_error(committed):
    framework = committed / "criteria" / "hmic-2007" / "framework.yaml"
    rewrite(framework, "vast_majority:\n    at_least: 0.8", "vast_majority:\n    at_least: 0.75")
    [finding] = version_findings(committed)
    assert (finding.code, finding.severity, finding.about) == ("L211", "error", "hmic-2007")
    assert framework.read_text(encoding="utf-8").splitlines()[finding.line - 1].startswith("version:")
    assert "framework_version" in finding.suggestion  # what the records carry as the criteria's version
    rewrite(framework, 'version: "2007.1"', 'version: "2007.2"')
    assert version_findings(committed) == []


def test_a_criteria_set_changed_under_the_same_framework_version_is_an_error(committed):
    criteria = committed / "criteria" / "hmic-2007" / "missing-persons.yaml"
    rewrite(criteria, "    tier: fair\n", "    tier: good\n")
    [finding] = version_findings(committed)
    assert (finding.code, finding.criteria_set, finding.path.endswith("missing-persons.yaml")) == \
        ("L211", HMIC, True)
    assert "hmic-2007" in finding.message and "2007.1" in finding.message
    rewrite(committed / "criteria" / "hmic-2007" / "framework.yaml", 'version: "2007.1"', 'version: "2007.2"')
    assert version_findings(committed) == []


def test_comments_and_reviewed_exceptions_need_no_new_version(committed):
    framework = committed / "criteria" / "hmic-2007" / "framework.yaml"
    framework.write_text("# a new comment\n" + framework.read_text(encoding="utf-8"), encoding="utf-8")
    rewrite(framework, "\nlint:\n", "\nlint:\n  - {code: L204, reason: reviewed since}\n")
    assert version_findings(committed) == []


def test_outside_git_or_untracked_there_is_nothing_to_compare(tmp_path, committed):
    loose = project(tmp_path / "loose", "hmic-2007")
    rewrite(loose / "criteria" / "hmic-2007" / "framework.yaml", "at_least: 0.8", "at_least: 0.75")
    assert version_findings(loose) == []
    shutil.copy(committed / "criteria" / "hmic-2007" / "missing-persons.yaml",
                committed / "criteria" / "hmic-2007" / "copy.yaml")
    rewrite(committed / "criteria" / "hmic-2007" / "copy.yaml", f"id: {HMIC}", "id: hmic-2007/copy")
    assert version_findings(committed, "hmic-2007/copy") == []


# --- L212 --------------------------------------------------------------------------------------

def test_a_criterion_no_condition_selects_is_read_by_no_grade(tmp_path):
    root = project(tmp_path, "hmic-2007")
    rewrite(root / "criteria" / "hmic-2007" / "framework.yaml", "tiers:\n",
            "tiers:\n  context:\n    description: recorded for the report, graded by no rule\n")
    criteria = root / "criteria" / "hmic-2007" / "missing-persons.yaml"
    rewrite(criteria, "criteria:\n", "criteria:\n  - id: mp-context\n    tier: context\n    text: Recorded only.\n")
    catalog = Catalog(root)
    [finding] = static.unread_criteria(load_criteria(catalog, HMIC).criteria, compile_set(catalog, HMIC).plan)
    assert (finding.code, finding.severity, finding.about, finding.criteria_set) == \
        ("L212", "warning", "mp-context", HMIC)
    assert criteria.read_text(encoding="utf-8").splitlines()[finding.line - 1].strip() == "- id: mp-context"


def test_every_criterion_of_a_shipped_hmic_set_is_read(catalog):
    for set_id in [s for s in catalog.criteria_set_ids() if s.startswith("hmic-2007/")]:
        criteria = load_criteria(catalog, set_id).criteria
        assert static.unread_criteria(criteria, compile_set(catalog, set_id).plan) == [], set_id


BOUND_PHRASES = {"at least": "at_least", "more than": "more_than", "fewer than": "less_than", "at most": "at_most"}


@given(st.integers(0, 100), st.sampled_from(sorted(BOUND_PHRASES)), st.sampled_from(["%", " per cent", " percent"]))
def test_a_percentage_with_its_comparator_reads_as_that_share(percent, phrase, sign):
    text = f"Arbiter reads 'some' (001:23-24) as {phrase} {percent}{sign} of the criteria"
    assert [(r.value, r.bound) for r in static.stated_shares(text)] == [(Fraction(percent, 100), BOUND_PHRASES[phrase])]


@given(st.integers(0, 100), st.integers(0, 100))
def test_a_quantifier_agrees_with_its_choice_exactly_when_the_numbers_match(value, stated):
    from engine.language.models import Quantifier

    quantifier = Quantifier(at_least=value / 100, phrase="some of", choice=f"Arbiter reads it as at least {stated}%")
    assert (static.quantifier_disagreement(quantifier) is None) == (Fraction(str(value / 100)) == Fraction(stated, 100))
