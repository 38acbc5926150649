"""Blank: an inspection evidence record (a case file) to fill in, for one criteria set.

It has a finding for every criterion, every factor of the framework and every sub-area of the
set, each commented with what it stands for (text, tier, flags, citations; a scored
criterion's scale; its exclusive group), and a header saying how the rules will count: the
framework's readings of the source's words as thresholds for this set. An assessor fills in
the values and scores the file without changing its structure.

What a blank holds before it is filled: the values are left empty. An empty finding has
neither `finding:` nor `score:` (E111), an empty factor is not true or false (E112), an empty
sub-area has no grade (E112), so an unfinished record is refused at each blank line and is
never scored as if assessed. Once every blank is filled it validates and scores as any case.
"""

from __future__ import annotations

import json
import re
import textwrap
from pathlib import Path

from ..compiler.compile import compile_loaded
from ..compiler.plan import Plan, PlanCondition
from ..language.catalog import REGULAR, Catalog, expected_id, file_of_kind, file_status
from ..language.criteria import Criteria, load_criteria
from ..language.diagnostics import DiagnosticError, suggest
from ..language.models import Criterion, ExclusiveGroup, id_length_problem
from ..language.options import option_error
from ..language.output import write_new_file

_PATH_ID = re.compile(r"[a-z0-9][a-z0-9_-]*(/[a-z0-9][a-z0-9_-]*)*")
WIDTH = 96  # comment lines are wrapped to this many characters of text
DEFAULT_ID = "new-case"  # when neither --id nor a place under cases/ gives one

INSTRUCTIONS = (
    "Fill in every blank: each finding (met, not_met or not_assessed; a scored criterion: its",
    "score, or finding: not_assessed in place of score:), each factor (true or false) and each",
    "sub-area's grade; leave the structure as it is. A blank left is refused at its line (E111,",
    "E112), so an unfinished record is never scored. Then: arbiter score <this file>",
)


def new_case(catalog: Catalog, criteria_set: str, subject: str, case_id: str | None,
             output: Path | None) -> str:
    """The blank record for a criteria set given by id (or by the path of its file)."""
    problems = _subject_problems(subject) + _case_id_problems(case_id)
    try:
        criteria = _criteria(catalog, criteria_set)
        plan = compile_loaded(catalog, criteria).plan  # a set too large to compile is refused now, not when scored
    except DiagnosticError as error:
        raise DiagnosticError(problems + error.diagnostics) from None
    if problems:
        raise DiagnosticError(problems)
    if case_id is None:
        case_id = (expected_id(output, "cases") if output else None) or DEFAULT_ID
    return blank_case(criteria, plan, case_id, subject)


def _criteria(catalog: Catalog, given: str) -> Criteria:
    """CRITERIA_SET is a criteria set's id, or the path of its file."""
    if _PATH_ID.fullmatch(given):
        if id_length_problem(given):
            raise option_error("CRITERIA_SET", id_length_problem(given), "give the id of a criteria set", "E113")
        return _criteria_at(catalog, catalog.criteria_path(given), given)
    path = Path(given)
    if file_status(path) == REGULAR:
        return _criteria_at(catalog, path, given)
    raise _unknown_set(catalog, given)


def _criteria_at(catalog: Catalog, path: Path, given: str) -> Criteria:
    file_of_kind(path, given, "CRITERIA_SET", "criteria", "criteria set", lambda: _unknown_set(catalog, given),
                 "give the id of a criteria set, e.g. hmic-2007/missing-persons")
    return load_criteria(catalog, catalog.load(path, "criteria").model.id, path)


def _unknown_set(catalog: Catalog, given: str) -> DiagnosticError:
    return option_error("CRITERIA_SET", f"unknown criteria set '{given}'",
                        suggest(given, catalog.criteria_set_ids()), "E120")


def _subject_problems(subject: str) -> list:
    """The subject is written into the record as text: one printable line, not blank."""
    if subject.strip() and subject.isprintable():
        return []
    return option_error("--subject", "the subject must be one line of printable text, not blank",
                        "e.g. --subject 'Kent Police'", "E113").diagnostics


def _case_id_problems(case_id: str | None) -> list:
    """--id is written into the record as its id, so it must be a path id, or the record would not load."""
    if case_id is None:
        return []
    problem = id_length_problem(case_id) if _PATH_ID.fullmatch(case_id) else (
        f"'{case_id[:40]}' is not an id: lowercase letters, digits, '-' and '_', parts separated by '/'")
    return option_error("--id", problem, "e.g. --id mine/missing-persons", "E113").diagnostics if problem else []


# --- the text --------------------------------------------------------------------------------

def blank_case(criteria: Criteria, plan: Plan, case_id: str, subject: str) -> str:
    """The blank record's text: a header, then the case with every value left empty."""
    cs, fw = criteria.criteria.model, criteria.framework.model
    lines = _header(criteria, plan) + [
        "arbiter: case",
        f"id: {case_id}",
        f"criteria: {cs.id}",
        f"subject: {json.dumps(subject, ensure_ascii=False)}",
        "constructed: false",
        "# Optional (criteria/README.md, Case): period:, causes_of_concern:, areas_for_improvement:,",
        "# override: (a recorded professional judgement), expect: (the published outcome)",
    ]
    if fw.factors:
        lines.append("factors:   # true or false")
        for name, factor in fw.factors.items():
            lines += _comment(f"{name}: {factor.description}{_cited(factor.source)}", "  ") + [f"  {name}:"]
    if cs.subgrades:
        lines += _subgrade_lines(criteria)
    groups = {member: group for group in cs.exclusive for member in group.criteria}
    lines.append("findings:" if cs.criteria else "findings: []   # the set has no criteria")
    for criterion in cs.criteria:
        lines += _finding_lines(criterion, fw.tiers, groups.get(criterion.id))
    return "\n".join(lines) + "\n"


def _header(criteria: Criteria, plan: Plan) -> list[str]:
    cs, fw, scale = criteria.criteria.model, criteria.framework.model, criteria.scale.model
    levels = ", ".join(level.label for level in scale.levels)
    title = cs.title if cs.title[-1] in ".?!" else cs.title + "."
    text = [f"A blank inspection evidence record for {cs.id}: {title}",
            f"Framework {fw.id} ({fw.title}), version {fw.version}; grades: {levels}."]
    if not cs.graded:
        text.append("This area is inspected but not graded: its outcome is 'not graded'.")
    lines = _comment(" ".join(text), "") + [f"# {line}" for line in INSTRUCTIONS]
    counting = _counting_lines(plan)
    if counting:
        lines += ["#", "# What the rules read, as compiled for this set (criteria/README.md: Conditions):"] + counting
    return lines


def _counting_lines(plan: Plan) -> list[str]:
    """The framework's readings, as the thresholds this set's sizes make of them: each
    quantifier with its choice, then each condition that carries a choice of its own."""
    lines: list[str] = []
    counts_findings = any(plan.quantity(c.quantity).kind in ("met", "not_met") for c in plan.conditions)
    if counts_findings:
        lines += _bullet("a criterion not_assessed counts as neither met nor not met, and stays in the "
                         "denominator of every fraction")
    by_quantifier: dict[str, list[PlanCondition]] = {}
    for cond in plan.conditions:
        if cond.quantifier is not None:
            by_quantifier.setdefault(cond.quantifier.name, []).append(cond)
    for name, conds in by_quantifier.items():
        q = conds[0].quantifier
        uses = "; ".join(dict.fromkeys(plan.condition_words(c) for c in conds))
        choice = f" [choice: {q.choice}]" if q.choice else ""
        lines += _bullet(f"'{name.replace('_', ' ')}' ({q.phrase}) means {q.bound.replace('_', ' ')} {q.fraction}"
                         f"{_cited(q.source)}, here {uses}{choice}")
    others = {}
    for cond in plan.conditions:
        if cond.quantifier is None and _can_hold(plan, cond):
            others.setdefault(plan.condition_words(cond) + (f" [choice: {cond.choice}]" if cond.choice else ""), None)
    for text in others:
        lines += _bullet(text)
    if plan.hit_policy_choice:
        lines += _bullet(f"when two grade rules hold: hit policy {plan.hit_policy} [choice: {plan.hit_policy_choice}]")
    return lines


def _can_hold(plan: Plan, cond: PlanCondition) -> bool:
    """False for a count that needs more members than it has: a limiter needing a critical
    criterion, in a set with none, never applies there, and is not worth the assessor's time."""
    counted = plan.quantity(cond.quantity).kind in ("met", "not_met", "not_assessed", "factors_present")
    return not (counted and cond.op == ">=" and cond.threshold > cond.total)


def _subgrade_lines(criteria: Criteria) -> list[str]:
    levels = ", ".join(level.id for level in criteria.scale.model.levels)
    lines = ["subgrades:   # a level, or {provenance: ungraded}, or {grade: <level>, provenance: carried_over,",
             "             # carried_from: <inspection>, year: <year>}, or {decision: <case id>}",
             f"             # levels: {levels}"]
    for sub in criteria.criteria.model.subgrades:
        lines += _comment(f"{sub.id}: {sub.title}{_cited(sub.source)}", "  ") + [f"  {sub.id}:"]
    return lines


def _finding_lines(criterion: Criterion, tiers: dict, group: ExclusiveGroup | None) -> list[str]:
    facts = [f"tier {criterion.tier}" + (f" ({tiers[criterion.tier].description})" if criterion.tier in tiers else "")]
    if criterion.flags:
        facts.append("flags " + ", ".join(criterion.flags))
    if criterion.sources:
        facts.append("sources " + ", ".join(criterion.sources))
    if criterion.scored is not None:
        facts.append(_scale_words(criterion))
    if group is not None:
        rule = "exactly one" if group.exactly_one else "at most one"
        facts.append(f"exclusive group {group.id}: {rule} of {', '.join(group.criteria)} met")
    lines = _comment(f"{criterion.id}: " + "; ".join(facts), "  ") + _comment(criterion.text, "  ", indent="  ")
    value = "score" if criterion.scored is not None else "finding"
    return lines + [f"  - criterion: {criterion.id}", f"    {value}:"]


def _scale_words(criterion: Criterion) -> str:
    scale = criterion.scored
    words = ""
    if scale.labels:
        words = " (" + ", ".join(f"{score} {label}" for score, label in zip(range(scale.min, scale.max + 1),
                                                                           scale.labels)) + ")"
    return f"scored {scale.min} to {scale.max}{words}"


def _cited(source: str | None) -> str:
    return f" ({source})" if source else ""


def _comment(text: str, margin: str, indent: str = "") -> list[str]:
    """Text as comment lines at a margin; every line of it, so a line break in the text never
    ends the comment."""
    words = " ".join(text.split())
    wrapped = textwrap.wrap(words, WIDTH - len(indent), break_long_words=False, break_on_hyphens=False)
    return [f"{margin}# {indent}{line}" for line in wrapped]


def _bullet(text: str) -> list[str]:
    first, *more = textwrap.wrap(" ".join(text.split()), WIDTH - 4, break_long_words=False, break_on_hyphens=False)
    return [f"#   - {first}"] + [f"#     {line}" for line in more]


# --- writing ----------------------------------------------------------------------------------

def write_new_case(path: Path, text: str, option: str = "--output") -> None:
    """Write the blank where no file is (language/output.py: whole, and never over anything)."""
    write_new_file(path, text, option)
