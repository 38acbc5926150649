"""Check: semantic rules beyond the schema, each a small pass returning diagnostics.

The passes for one file kind all run, so an author sees every problem at once. Passes:

    scale      : unique_level_ids
    framework  : levels_exist, vocabulary_exists, builds_on_is_lower (so never circular), unique ids
    criteria   : unique_criterion_ids, criteria_vocabulary, exclusive_groups, selections_not_empty
    case       : findings_match_criteria, findings_fit_their_scales, exclusive_groups_hold, factors_match,
                 subgrades_match, expectation_is_a_level

A file whose shape is wrong is checked on what validated of it (`validate.salvage`); its
`damage` says what was left out. A check that concludes from what is *not* written (a
missing finding, a name nothing defines) runs only where `damage.spares` the part it reads.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import Callable, Iterable, Iterator

from .diagnostics import Diagnostic, suggest
from .load import Document
from .models import (LEVEL_QUANTITIES, NOT_GRADED, UNDECIDED, Case, Condition, CriteriaSet, Framework, Scale,
                     Selection, counted_criteria, group_breach, may_select_none, rule_name, select_subgrades)
from .validate import EACH, INTACT, Damage


@dataclass(frozen=True)
class Repeat:
    """How to report a value written twice where it must be unique: E121 says
    `duplicate <what> '<value>' (first at line N)`, with a hint that fits what was repeated
    (an id is renamed; a second rule for a level is merged into the first)."""

    what: str
    hint: str


def unique_id(thing: str) -> Repeat:
    """Two things of one kind sharing an id: either two things, or one written twice."""
    return Repeat(f"{thing} id", f"each {thing} needs its own id; rename one, or remove it if it repeats the other")


LEVEL_ID = unique_id("level")
CRITERION_ID = unique_id("criterion")
SUBGRADE_ID = unique_id("sub-area")
GROUP_ID = unique_id("exclusive group")
GROUP_MEMBER = Repeat("member", "list each criterion of an exclusive group once")
GRADE_RULE = Repeat("grade rule", "a level reached by more than one rule needs an id for each (id: good-by-count); "
                                  "rename one, or remove it if it repeats the other")
FACTOR_LISTED = Repeat("factor", "list each factor once: a factor is present or not")
BOUND_ID = Repeat("limiter or floor id", "limiters and floors share one set of ids; rename one, or remove it "
                                         "if it repeats the other")


# Names the compiled rules and outcomes already use: a level or a limiter named so would share
# a rule id or a conclusion with the engine's own (`level:undecided`, `cap:none`, "pass").
RESERVED_LEVEL_IDS = ("undecided", "not-graded", "not_graded", "professional_judgement", "pass", "override",
                      "both")  # level:both:<a>:<b> is a unique hit policy's rule
RESERVED_BOUND_IDS = ("none",)
RESERVED_RULE_IDS = RESERVED_LEVEL_IDS


def check_scale(scale: Scale, doc: Document) -> list[Diagnostic]:
    found = list(_duplicates(doc, [(("levels", i, "id"), lv.id) for i, lv in enumerate(scale.levels)], LEVEL_ID))
    found += [doc.diag(("levels", i, "id"), "E113", f"level id '{lv.id}' is reserved: the engine's own rules and "
                                                    "outcomes use it", "rename the level")
              for i, lv in enumerate(scale.levels) if lv.id in RESERVED_LEVEL_IDS]
    return found


def _reserved_bound_ids(fw: Framework, doc: Document) -> list[Diagnostic]:
    return [doc.diag((group, i, "id"), "E113", f"id '{x.id}' is reserved: the rule that applies when no "
                                               f"{group[:-1]} does is called so", "rename it")
            for group in ("limiters", "floors") for i, x in enumerate(getattr(fw, group)) if x.id in RESERVED_BOUND_IDS]


def check_framework(fw: Framework, doc: Document, scale: Scale, damage: Damage = INTACT) -> list[Diagnostic]:
    levels = [lv.id for lv in scale.levels]
    found: list[Diagnostic] = []
    found += _levels_exist(fw, doc, levels)
    found += _reserved_bound_ids(fw, doc)
    found += _vocabulary_exists(fw, doc, levels, damage)
    found += _builds_on_is_lower(fw, doc, levels, damage)
    found += _builds_on_under_unique(fw, doc, damage)
    found += _duplicates(doc, [(("grades", i, "id" if g.id else "level"), rule_name(g)) for i, g in enumerate(fw.grades)],
                         GRADE_RULE)
    found += _alternatives_named(fw, doc, levels)
    found += _duplicates(doc, [(("limiters", i, "id"), x.id) for i, x in enumerate(fw.limiters)]
                         + [(("floors", i, "id"), x.id) for i, x in enumerate(fw.floors)], BOUND_ID)
    return found


def _levels_exist(fw: Framework, doc: Document, levels: list[str]) -> Iterator[Diagnostic]:
    refs = [(("grades", i, "level"), g.level) for i, g in enumerate(fw.grades)]
    refs += [(("grades", i, "builds_on"), g.builds_on) for i, g in enumerate(fw.grades) if g.builds_on]
    refs += [(("limiters", i, "cap"), x.cap) for i, x in enumerate(fw.limiters)]
    refs += [(("floors", i, "floor"), x.floor) for i, x in enumerate(fw.floors)]
    for loc, level in refs:
        if level not in levels:
            yield doc.diag(loc, "E125", f"unknown level '{level}' (scale '{fw.scale}')", suggest(level, levels))


def framework_conditions(fw: Framework) -> Iterator[tuple[tuple, Condition]]:
    """Every condition in the framework with its location."""
    for group in ("grades", "limiters", "floors"):
        for i, item in enumerate(getattr(fw, group)):
            for j, cond in enumerate(item.when):
                yield (group, i, "when", j), cond


def _vocabulary_exists(fw: Framework, doc: Document, levels: list[str], damage: Damage) -> Iterator[Diagnostic]:
    """Each name a condition uses is defined by the framework (a definition salvage left out
    defines nothing here, so names of that vocabulary go unchecked until it is fixed)."""
    for loc, cond in framework_conditions(fw):
        quantity = cond.quantity
        selection = getattr(cond, quantity)
        if isinstance(selection, Selection):
            yield from _selection_vocabulary(fw, doc, loc + (quantity,), selection, damage)
        if quantity == "factors_present":
            yield from _factor_list(fw, doc, loc + (quantity,), selection, damage)
        if quantity.startswith("subgrades_at") and selection.level not in levels:
            yield doc.diag(loc + (quantity, "level"), "E125", f"unknown level '{selection.level}'",
                           suggest(selection.level, levels))
        bound, value = cond.bound
        if bound == "is" and value not in fw.quantifiers and damage.spares("quantifiers"):
            yield doc.diag(loc + ("is",), "E120", f"unknown quantifier '{value}'",
                           suggest(value, fw.quantifiers))
        if quantity in LEVEL_QUANTITIES and value not in levels:
            yield doc.diag(loc + (bound,), "E125", f"unknown level '{value}'", suggest(str(value), levels))


def _factor_list(fw: Framework, doc: Document, loc: tuple, factors: tuple[str, ...],
                 damage: Damage) -> Iterator[Diagnostic]:
    """Each factor known, listed once (a factor is present or not: listed twice it would be
    counted twice), and at least one: a share of no factors means nothing."""
    if not factors:
        yield doc.diag(loc, "E130", "the condition lists no factors", "list the factors it counts, or remove it")
    if damage.spares("factors"):
        for k, factor in enumerate(factors):
            if factor not in fw.factors:
                yield doc.diag(loc + (k,), "E120", f"unknown factor '{factor}'", suggest(factor, fw.factors))
    yield from _duplicates(doc, [(loc + (k,), factor) for k, factor in enumerate(factors)], FACTOR_LISTED)


def _selection_vocabulary(fw: Framework, doc: Document, loc: tuple, sel: Selection,
                          damage: Damage) -> Iterator[Diagnostic]:
    if sel.tier is not None and sel.tier not in fw.tiers and damage.spares("tiers"):
        yield doc.diag(loc + ("tier",), "E120", f"unknown tier '{sel.tier}'", suggest(sel.tier, fw.tiers))
    flags = [(loc + ("flag",), sel.flag)] if sel.flag else []
    flags += [(loc + ("flags", k), f) for k, f in enumerate(sel.flags)]
    for flag_loc, flag in flags:
        if flag not in fw.flags and damage.spares("flags"):
            yield doc.diag(flag_loc, "E120", f"unknown flag '{flag}'", suggest(flag, fw.flags))


def _alternatives_named(fw: Framework, doc: Document, levels: list[str]) -> list[Diagnostic]:
    """A grade rule's id names it in rule ids (level:<level>:<id>) and in builds_on, so it may not
    be another level's id or a word the engine's rules use; builds_on names a level that one
    rule reaches, since a level reached in several ways gives no single set of conditions."""
    found = []
    for i, g in enumerate(fw.grades):
        if g.id is not None and g.id != g.level and (g.id in levels or g.id in RESERVED_RULE_IDS):
            found.append(doc.diag(("grades", i, "id"), "E113", f"grade rule id '{g.id}' is a level or a name the "
                                  "engine's rules use", f"name the rule after what it checks, e.g. {g.level}-by-count"))
        ways = [rule_name(r) for r in fw.grades if r.level == g.builds_on]
        if g.builds_on is not None and len(ways) > 1 and len(set(ways)) == len(ways):  # else E121 says it
            found.append(doc.diag(("grades", i, "builds_on"), "E113",
                                  f"builds_on '{g.builds_on}', a level reached by {len(ways)} rules",
                                  "write out the conditions this rule needs, instead of building on one of them"))
    return found


def _builds_on_under_unique(fw: Framework, doc: Document, damage: Damage) -> list[Diagnostic]:
    """Under a unique hit policy, a rule that builds on another holds only when that one does
    too, so its grade could never be given. A hit policy salvage left out is not known to be
    unique: the default would stand in for what the file meant to write."""
    if fw.hit_policy.policy != "unique" or not damage.spares("hit_policy"):
        return []
    return [doc.diag(("grades", i, "builds_on"), "E113",
                     f"'{g.level}' builds on '{g.builds_on}' under a unique hit policy: its rule holds only when "
                     f"the rule for '{g.builds_on}' holds too, so '{g.level}' could never be the grade",
                     "declare hit_policy: {policy: best} (the highest grade whose rule holds), or write the "
                     "conditions out without builds_on")
            for i, g in enumerate(fw.grades) if g.builds_on]


def _builds_on_is_lower(fw: Framework, doc: Document, levels: list[str], damage: Damage) -> Iterator[Diagnostic]:
    """A grade builds on the rule of a lower grade; a level with no rule has nothing to build on.

    Building only downwards also rules out circles (E131 names the first wrong step)."""
    ruled = [g.level for g in fw.grades]
    for i, grade in enumerate(fw.grades):
        base = grade.builds_on
        if base is None or base not in levels or grade.level not in levels:
            continue
        if base not in ruled and not damage.spares("grades", EACH, "level"):
            continue  # the rule for base may be the one salvage left out
        if base not in ruled:
            yield doc.diag(("grades", i, "builds_on"), "E120", f"builds_on '{base}', but no grade rule is written for '{base}'",
                           suggest(base, ruled))
        elif levels.index(base) <= levels.index(grade.level):
            yield doc.diag(("grades", i, "builds_on"), "E131",
                           f"'{grade.level}' builds on '{base}', which is not a lower level",
                           "a grade builds on a grade below it, e.g. excellent builds_on good")


def check_criteria_set(cs: CriteriaSet, doc: Document, fw: Framework, fw_doc: Document,
                       damage: Damage = INTACT) -> list[Diagnostic]:
    found: list[Diagnostic] = []
    found += _duplicates(doc, [(("criteria", i, "id"), c.id) for i, c in enumerate(cs.criteria)], CRITERION_ID)
    found += _duplicates(doc, [(("subgrades", i, "id"), s.id) for i, s in enumerate(cs.subgrades)], SUBGRADE_ID)
    for i, crit in enumerate(cs.criteria):
        if crit.tier not in fw.tiers:
            found.append(doc.diag(("criteria", i, "tier"), "E120", f"unknown tier '{crit.tier}' (framework '{fw.id}')",
                                  suggest(crit.tier, fw.tiers)))
        for k, flag in enumerate(crit.flags):
            if flag not in fw.flags:
                found.append(doc.diag(("criteria", i, "flags", k), "E120", f"unknown flag '{flag}' (framework '{fw.id}')",
                                      suggest(flag, fw.flags)))
    found += _exclusive_groups(cs, doc)
    whole = all(damage.spares(*part) for part in _WHAT_SELECTIONS_READ)
    if not cs.criteria and not cs.subgrades and whole:
        found.append(doc.diag(("criteria",), "E130", "the set has no criteria and no sub-areas",
                              "list the criteria this area is judged on", at_key=True))
    if not found and whole:  # an unknown tier or flag would make selections look empty: report it alone
        found += _selections_not_empty(cs, doc, fw, fw_doc)
    return found


def _exclusive_groups(cs: CriteriaSet, doc: Document) -> list[Diagnostic]:
    """Group ids unique; each group of at least two distinct yes/no criteria of the set; a
    criterion in at most one group."""
    found = list(_duplicates(doc, [(("exclusive", i, "id"), g.id) for i, g in enumerate(cs.exclusive)], GROUP_ID))
    by_id = {c.id: c for c in cs.criteria}
    home: dict[str, str] = {}
    for i, group in enumerate(cs.exclusive):
        loc = ("exclusive", i, "criteria")
        found += _duplicates(doc, [(loc + (k,), cid) for k, cid in enumerate(group.criteria)], GROUP_MEMBER)
        if len(set(group.criteria)) < 2:
            found.append(doc.diag(loc, "E113", f"exclusive group '{group.id}' has {len(set(group.criteria))} "
                                               "criterion; a group needs at least two",
                                  "list two or more criteria, or remove the group"))
        for k, cid in enumerate(group.criteria):
            if cid not in by_id:
                found.append(doc.diag(loc + (k,), "E122", f"unknown criterion '{cid}' in exclusive group "
                                                          f"'{group.id}'", suggest(cid, by_id)))
            elif by_id[cid].scored is not None:
                found.append(doc.diag(loc + (k,), "E113", f"criterion '{cid}' is scored, so it is never met: an "
                                                          "exclusive group lists met/not-met criteria",
                                      "remove it from the group"))
            elif home.setdefault(cid, group.id) != group.id:
                found.append(doc.diag(loc + (k,), "E113", f"criterion '{cid}' is already in exclusive group "
                                                          f"'{home[cid]}'; a criterion is in at most one group",
                                      "remove it from one of the groups"))
    return found


# What the framework's selections are matched against: with any of it lost, a selection
# could look empty, or an id unknown, only because of the shape problem.
_WHAT_SELECTIONS_READ = (("criteria", EACH, "id"), ("criteria", EACH, "tier"), ("criteria", EACH, "flags"),
                         ("criteria", EACH, "scored"), ("subgrades", EACH, "id"))


def _rule_name(fw: Framework, loc: tuple) -> str:
    group, index = loc[0], loc[1]
    item = getattr(fw, group)[index]
    if group == "grades":
        return f"grade rule '{rule_name(item)}'"
    return f"{'limiter' if group == 'limiters' else 'floor'} '{item.id}'"


def _selections_not_empty(cs: CriteriaSet, doc: Document, fw: Framework, fw_doc: Document) -> Iterator[Diagnostic]:
    criterion_ids = [c.id for c in cs.criteria]
    subgrade_ids = [s.id for s in cs.subgrades]
    reported: set[str] = set()
    for loc, cond in framework_conditions(fw):
        quantity = cond.quantity
        selection = getattr(cond, quantity)
        line, _ = fw_doc.where(loc)
        if isinstance(selection, Selection):
            for k, cid in enumerate(selection.ids):
                if cid not in criterion_ids:
                    yield fw_doc.diag(loc + (quantity, "ids", k), "E122", f"unknown criterion '{cid}' in set '{cs.id}'",
                                      suggest(cid, criterion_ids))
            kind = _kind_counted(cs, quantity)
            shown = kind + _show(selection)
            if not counted_criteria(cs, quantity, selection) and not may_select_none(loc, cond) \
                    and shown not in reported:
                reported.add(shown)
                yield doc.diag(("criteria",), "E130",
                               f"no {kind}criterion in this set matches {_show(selection)}, which "
                               f"{_rule_name(fw, loc)} of framework '{fw.id}' counts ({fw_doc.path}:{line})",
                               "add a criterion with that tier and flags, or change the framework's condition",
                               at_key=True)
        elif quantity == "score":
            yield from _scored_criterion(cs, fw_doc, loc + (quantity,), selection)
        elif quantity not in ("factors_present", "causes_of_concern"):
            of = selection.of
            for k, sid in enumerate(of or ()):
                if sid not in subgrade_ids:
                    yield fw_doc.diag(loc + (quantity, "of", k), "E120", f"unknown sub-area '{sid}' in set '{cs.id}'",
                                      suggest(sid, subgrade_ids))
            if not select_subgrades(cs, of):
                yield doc.diag(("subgrades",), "E130",
                               f"no sub-area in this set matches the condition at {fw_doc.path}:{line}",
                               "list the sub-areas graded in this set under 'subgrades:'")


def _kind_counted(cs: CriteriaSet, quantity: str) -> str:
    """Which criteria a selection's quantity ranges over, as the E130 message names them."""
    if quantity == "score_sum":
        return "scored "
    return "met/not-met " if any(c.scored for c in cs.criteria) else ""


def _scored_criterion(cs: CriteriaSet, fw_doc: Document, loc: tuple, criterion_id: str) -> Iterator[Diagnostic]:
    """A `score:` condition names a scored criterion of the set."""
    scored = [c.id for c in cs.criteria if c.scored is not None]
    if criterion_id not in [c.id for c in cs.criteria]:
        yield fw_doc.diag(loc, "E122", f"unknown criterion '{criterion_id}' in set '{cs.id}'",
                          suggest(criterion_id, scored))
    elif criterion_id not in scored:
        yield fw_doc.diag(loc, "E113", f"criterion '{criterion_id}' of set '{cs.id}' is met or not met, not scored: "
                                       "a score condition names a scored criterion",
                          f"count it with met: {{ids: [{criterion_id}]}}, or name one of: "
                          f"{', '.join(scored) or 'none'}")


def _show(sel: Selection) -> str:
    parts = [f"{k}: {v}" for k, v in sel.model_dump(exclude_defaults=True).items()]
    return "{" + ", ".join(parts) + "}" if parts else "every criterion"


def check_case(case: Case, doc: Document, cs: CriteriaSet, fw: Framework, scale: Scale,
               homes: Callable[[], dict[str, str]] | None = None, damage: Damage = INTACT) -> list[Diagnostic]:
    """homes() maps criterion ids of other sets to their set, to name a finding's real area;
    it is called only when a finding names a criterion this set lacks."""
    found: list[Diagnostic] = []
    criterion_ids = [c.id for c in cs.criteria]
    seen: dict[str, int] = {}
    for i, finding in enumerate(case.findings):
        loc = ("findings", i, "criterion")
        home = homes().get(finding.criterion) if homes and finding.criterion not in criterion_ids else None
        if finding.criterion not in criterion_ids and home:
            found.append(doc.diag(loc, "E122", f"criterion '{finding.criterion}' belongs to criteria set '{home}', "
                                               f"not '{cs.id}'",
                                  "check the case's 'criteria:' line, or remove this finding"))
        elif finding.criterion not in criterion_ids:
            found.append(doc.diag(loc, "E122", f"finding for unknown criterion '{finding.criterion}' (criteria set '{cs.id}')",
                                  suggest(finding.criterion, criterion_ids)))
        elif finding.criterion in seen:
            first = doc.where(("findings", seen[finding.criterion]))[0]
            found.append(doc.diag(loc, "E124", f"second finding for criterion '{finding.criterion}' (first at line {first})",
                                  "keep one finding per criterion"))
        else:
            seen[finding.criterion] = i
    found += _findings_fit_their_scales(case, doc, cs)
    found += _exclusive_groups_hold(case, doc, cs)
    missing = [cid for cid in criterion_ids if cid not in seen]
    if missing and damage.spares("findings", EACH, "criterion"):
        found.append(doc.diag(("findings",), "E123", f"no finding for {len(missing)} criteria: {', '.join(missing)}",
                              "add a finding for each (met, not_met or not_assessed)", at_key=True))
    found += _factors_match(case, doc, fw, damage)
    found += _subgrades_match(case, doc, cs, scale, damage)
    found += _qualifiers_match(case, doc, fw)
    levels = [lv.id for lv in scale.levels] + [UNDECIDED, NOT_GRADED]
    if case.override and not cs.graded:
        found.append(doc.diag(("override",), "E113", f"criteria set '{cs.id}' is not graded, so there is no grade "
                                                     "to depart from", "remove the override, or grade the set "
                                                     "(graded: true in the criteria set)", at_key=True))
    elif case.override and case.override.outcome not in levels[:-2]:
        found.append(doc.diag(("override", "outcome"), "E125", f"override outcome '{case.override.outcome}' is not a level",
                              suggest(case.override.outcome, levels[:-2])))
    if case.expect and case.expect.outcome not in levels:
        found.append(doc.diag(("expect", "outcome"), "E125", f"expected outcome '{case.expect.outcome}' is not a level",
                              suggest(case.expect.outcome, levels)))
    return found


def _findings_fit_their_scales(case: Case, doc: Document, cs: CriteriaSet) -> Iterator[Diagnostic]:
    """A scored criterion's finding is a score on its scale (or not_assessed); a yes/no
    criterion's is met, not_met or not_assessed."""
    known = {c.id: c for c in cs.criteria}
    for i, finding in enumerate(case.findings):
        criterion = known.get(finding.criterion)
        if criterion is None:
            continue  # E122 says so
        scale = criterion.scored
        valid = f"{', '.join(str(v) for v in scale.values)}" if scale else ""
        if scale and finding.finding in ("met", "not_met"):
            yield doc.diag(("findings", i, "finding"), "E127",
                           f"criterion '{criterion.id}' is scored {scale.min} to {scale.max}, so its finding is a "
                           f"score, not {finding.finding}",
                           f"write score: N with N one of {valid}, or finding: not_assessed")
        elif scale is None and finding.score is not None:
            yield doc.diag(("findings", i, "score"), "E127",
                           f"criterion '{criterion.id}' is met or not met, not scored (given score: {finding.score})",
                           "write finding: met, not_met or not_assessed")
        elif scale and finding.score is not None and finding.score not in scale.values:
            yield doc.diag(("findings", i, "score"), "E126",
                           f"score {finding.score} is off the scale of criterion '{criterion.id}' "
                           f"({scale.min} to {scale.max})", f"valid: {valid}")


def _exclusive_groups_hold(case: Case, doc: Document, cs: CriteriaSet) -> Iterator[Diagnostic]:
    """At most one criterion of an exclusive group is met; with exactly_one, exactly one is,
    unless none of the group was assessed."""
    where = {f.criterion: i for i, f in enumerate(case.findings)}
    values = {f.criterion: f.value for f in case.findings}
    for group in cs.exclusive:
        breach = group_breach(group.exactly_one, [values.get(cid) for cid in group.criteria])
        met = [cid for cid in group.criteria if values.get(cid) == "met"]
        allowed = "exactly one" if group.exactly_one else "at most one"
        if breach == "several met":
            yield doc.diag(("findings", where[met[1]], "finding"), "E128",
                           f"{len(met)} criteria of exclusive group '{group.id}' are met ({', '.join(met)}); "
                           f"it allows {allowed}", f"keep one of {', '.join(met)} met and mark the others not_met")
        elif breach == "none met":
            yield doc.diag(("findings",), "E128",
                           f"no criterion of exclusive group '{group.id}' is met ({', '.join(group.criteria)}); "
                           "it needs exactly one", "mark the one that applies met, or every one of them "
                                                   "not_assessed if the question was not assessed", at_key=True)


def _factors_match(case: Case, doc: Document, fw: Framework, damage: Damage) -> Iterator[Diagnostic]:
    for name in case.factors:
        if name not in fw.factors:
            yield doc.diag(("factors", name), "E120", f"unknown factor '{name}' (framework '{fw.id}')",
                           suggest(name, fw.factors), at_key=True)
    missing = [f for f in fw.factors if f not in case.factors and damage.spares("factors", f)]
    if missing:
        yield doc.diag(("factors",), "E123", f"no value for factor(s): {', '.join(missing)}",
                       "give each factor true or false", at_key=True)


def _subgrades_match(case: Case, doc: Document, cs: CriteriaSet, scale: Scale, damage: Damage) -> Iterator[Diagnostic]:
    subgrade_ids = [s.id for s in cs.subgrades]
    levels = [lv.id for lv in scale.levels]
    for name in case.subgrades:
        if name not in subgrade_ids:
            yield doc.diag(("subgrades", name), "E120", f"unknown sub-area '{name}'", suggest(name, subgrade_ids), at_key=True)
        level = case.subgrade(name).grade
        if level is not None and level not in levels:
            yield doc.diag(("subgrades", name), "E125", f"unknown level '{level}' for sub-area '{name}'",
                           suggest(level, levels))
    missing = [s for s in subgrade_ids if s not in case.subgrades and damage.spares("subgrades", s)]
    if missing:
        yield doc.diag(("subgrades",), "E123", f"no grade for sub-area(s): {', '.join(missing)}",
                       "give each sub-area a level", at_key=True)


def _qualifiers_match(case: Case, doc: Document, fw: Framework) -> Iterator[Diagnostic]:
    for i, afi in enumerate(case.areas_for_improvement):
        if afi.qualifier is not None and afi.qualifier not in fw.afi_qualifiers:
            yield doc.diag(("areas_for_improvement", i, "qualifier"), "E113",
                           f"'{afi.qualifier}' is not one of framework '{fw.id}''s qualifier words",
                           suggest(afi.qualifier, fw.afi_qualifiers))


def _duplicates(doc: Document, items: Iterable[tuple[tuple, str]], repeat: Repeat) -> Iterator[Diagnostic]:
    """E121 at each repeat of a value, naming the line of its first appearance."""
    items = list(items)
    counts = Counter(value for _, value in items)
    first: dict[str, tuple] = {}
    for loc, value in items:
        if counts[value] > 1 and value in first:
            line = doc.where(first[value])[0]
            yield doc.diag(loc, "E121", f"duplicate {repeat.what} '{value}' (first at line {line})", repeat.hint)
        first.setdefault(value, loc)
