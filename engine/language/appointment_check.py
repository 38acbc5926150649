"""Check: the appointment file kinds' cross-references, and the flags a panel should see.

Passes, all run so that an author sees every problem at once:

    competency framework : unique ids, clusters and competencies agree, levels 1..n
    selection process    : areas exist, level exists, gate thresholds are ratings, the moderation
                           spread is one the scale allows, roles (and those that record), a stage
                           only on a scored exercise; a pair table's categories, and
                           its rows mapping every pair of ratings exactly once
    appointment          : ids unique, every cell of a stage begun rated once with a rationale
                           by the panel (a stage wholly blank is still to fill, not an error),
                           ratings on the scale, areas assessed by their exercise; an agreed
                           rating in each cell, or under a pair table two individual ones only,
                           and a recorded resolution only where the pair needs one
    hearing              : votes and attendance fit the membership
    compliance record    : every value a requirement tests is given, dates are dates

Flags are not errors: they go on the decision for the panel to see (moderation).
As in `check`, a file whose shape is wrong is checked on what validated of it, and a check
that concludes from what is not written runs only where `damage.spares` what it reads.
"""

from __future__ import annotations

import datetime
import re
from dataclasses import dataclass
from typing import Iterator, Optional

from .appointment_models import (Appointment, CompetencyFramework, ComplianceFramework, ComplianceRecord,
                                 Hearing, Rating, Scoring, SelectionProcess, cvf_areas, given_ratings, is_blank,
                                 pair_table, panel_order, stages)
from .check import Repeat, _duplicates, unique_id
from .diagnostics import Diagnostic, suggest
from .load import Document, field_path
from .models import Scale
from .validate import EACH, INTACT, Damage

AREA_ID = Repeat("area id", "values and competencies share one set of ids; rename one, or remove it if it repeats "
                            "the other")
CLUSTER_ID = unique_id("cluster")
EXERCISE_ID = unique_id("exercise")
GATE_ID = unique_id("gate")
CATEGORY_ID = unique_id("category")
RANKED_CATEGORY = Repeat("ranking category", "list each category once in rank_by")
RANKING_FOR = {"sum_of_agreed_ratings": "highest_total_among_gate_passers",
               "pair_table": "most_cells_in_rank_categories_among_passers"}
CANDIDATE_ID = Repeat("candidate id", "list each candidate once; if these are two people, give one of them another id")
MEMBER_ID = Repeat("panel member id", "list each panel member once; if these are two people, give one of them "
                                      "another id")


def area_assessed(exercise_id: str) -> Repeat:
    return Repeat("area", f"exercise '{exercise_id}' assesses each area once; remove the repeat")


def check_cvf(cvf: CompetencyFramework, doc: Document, damage: Damage = INTACT) -> list[Diagnostic]:
    found = list(_duplicates(doc, [(("values", i, "id"), v.id) for i, v in enumerate(cvf.values)]
                             + [(("competencies", i, "id"), c.id) for i, c in enumerate(cvf.competencies)], AREA_ID))
    found += _duplicates(doc, [(("clusters", i, "id"), c.id) for i, c in enumerate(cvf.clusters)], CLUSTER_ID)
    clusters = [c.id for c in cvf.clusters]
    competencies = [c.id for c in cvf.competencies]
    for i, comp in enumerate(cvf.competencies):
        if clusters and comp.cluster not in clusters and damage.spares("clusters", EACH, "id"):
            found.append(doc.diag(("competencies", i, "cluster"), "E120", f"unknown cluster '{comp.cluster}'",
                                  suggest(comp.cluster, clusters)))
        levels = [lv.level for lv in comp.levels]
        if levels != list(range(1, len(levels) + 1)) and damage.spares("competencies", i, "levels"):
            found.append(doc.diag(("competencies", i, "levels"), "E113",
                                  f"levels of '{comp.id}' are {levels}; they must run 1, 2, 3, ... in order",
                                  "list each level once, lowest first", at_key=True))
    for i, cluster in enumerate(cvf.clusters):
        for k, comp_id in enumerate(cluster.competencies):
            if comp_id not in competencies and damage.spares("competencies", EACH, "id"):
                found.append(doc.diag(("clusters", i, "competencies", k), "E120", f"unknown competency '{comp_id}'",
                                      suggest(comp_id, competencies)))
    return found


def rating_values(scale: Scale) -> list[int]:
    return [lv.value for lv in scale.levels if lv.value is not None]


def check_rating_scale(scale: Scale, doc: Document) -> list[Diagnostic]:
    missing = [i for i, lv in enumerate(scale.levels) if lv.value is None]
    found = [doc.diag(("levels", i), "E111", f"rating level '{scale.levels[i].id}' has no value",
                      "give each rating level the number assessors write, e.g. value: 3") for i in missing]
    values = sorted(set(rating_values(scale)))
    # A change of one point is the unit of the sensitivity scan and the margin, so every
    # whole value between the lowest and the highest must be a rating.
    if values and values != list(range(values[0], values[-1] + 1)):
        gaps = sorted(set(range(values[0], values[-1] + 1)) - set(values))
        found.append(doc.diag(("levels",), "E113", f"rating values {', '.join(map(str, values))} skip "
                              f"{', '.join(map(str, gaps))}: the values must be whole numbers one point apart",
                              f"give the levels the values {values[0]} to {values[-1]}, one point apart"))
    return found


def check_process(process: SelectionProcess, doc: Document, cvf: CompetencyFramework, scale: Scale,
                  damage: Damage = INTACT) -> list[Diagnostic]:
    areas = cvf_areas(cvf)
    values = rating_values(scale)
    found = list(_duplicates(doc, [(("exercises", i, "id"), e.id) for i, e in enumerate(process.exercises)],
                             EXERCISE_ID))
    found += _duplicates(doc, [(("gates", i, "id"), g.id) for i, g in enumerate(process.gates)], GATE_ID)
    cvf_levels = sorted({lv.level for c in cvf.competencies for lv in c.levels})
    if process.level not in cvf_levels:
        found.append(doc.diag(("level",), "E113", f"level {process.level} is not a level of '{cvf.id}'",
                              f"valid: {', '.join(map(str, cvf_levels))}"))
    for i, exercise in enumerate(process.exercises):
        found += _duplicates(doc, [(("exercises", i, "assesses", k), a) for k, a in enumerate(exercise.assesses)],
                             area_assessed(exercise.id))
        for k, area in enumerate(exercise.assesses):
            if area not in areas:
                found.append(doc.diag(("exercises", i, "assesses", k), "E120", f"unknown CVF area '{area}'",
                                      suggest(area, areas)))
        for k, cell in enumerate(exercise.reconstructed):
            if cell.area not in exercise.assesses and damage.spares("exercises", i, "assesses"):
                found.append(doc.diag(("exercises", i, "reconstructed", k, "area"), "E120",
                                      f"reconstructed cell '{cell.area}' is not an area exercise '{exercise.id}' assesses",
                                      suggest(cell.area, exercise.assesses)))
    if not any(e.scored for e in process.exercises) and damage.spares("exercises", EACH, "scored"):
        found.append(doc.diag(("exercises",), "E130", "no exercise is scored, so there is no cumulative score",
                              "mark the exercises that count with scored: true", at_key=True))
    for i, gate in enumerate(process.gates):
        if gate.every_rating_at_least not in values:
            found.append(doc.diag(("gates", i, "every_rating_at_least"), "E150",
                                  f"{gate.every_rating_at_least} is not a rating on scale '{scale.id}'",
                                  f"valid: {', '.join(map(str, values))}"))
    widest = max(values, default=0) - min(values, default=0)  # the largest spread the scale allows
    if process.moderation and process.moderation.spread_at_least > widest:
        found.append(doc.diag(("moderation", "spread_at_least"), "E113",
                              f"no two ratings on scale '{scale.id}' differ by {process.moderation.spread_at_least}, "
                              f"so no cell would ever be flagged", f"at most {widest} on this scale"))
    found += _stages_and_recorders(process, doc, damage)
    if process.panel.independent_role not in process.panel.scoring_roles and damage.spares("panel", "scoring_roles"):
        found.append(doc.diag(("panel", "independent_role"), "E120",
                              f"independent role '{process.panel.independent_role}' is not a scoring role",
                              suggest(process.panel.independent_role, process.panel.scoring_roles)))
    found += _scoring(process, doc, values, damage)
    if process.shortlisting:
        for k, element in enumerate(process.shortlisting.elements):
            if element not in areas:
                found.append(doc.diag(("shortlisting", "elements", k), "E120", f"unknown CVF area '{element}'",
                                      suggest(element, areas)))
    return found


def _stages_and_recorders(process: SelectionProcess, doc: Document, damage: Damage) -> list[Diagnostic]:
    """A stage belongs to a scored exercise; the roles that may record are roles of the panel."""
    found = []
    for i, exercise in enumerate(process.exercises):
        if exercise.stage is not None and not exercise.scored:
            found.append(doc.diag(("exercises", i, "stage"), "E113", f"exercise '{exercise.id}' is not scored, so it "
                                  "is scored at no stage", "remove stage:, or mark the exercise scored: true"))
    roles = process.panel.scoring_roles + process.panel.advisory_roles
    if damage.spares("panel", "scoring_roles") and damage.spares("panel", "advisory_roles"):
        for k, role in enumerate(process.panel.recorder_roles):
            if role not in roles:
                found.append(doc.diag(("panel", "recorder_roles", k), "E120", f"unknown panel role '{role}'",
                                      suggest(role, roles)))
    return found


def _scoring(process: SelectionProcess, doc: Document, values: list[int], damage: Damage) -> list[Diagnostic]:
    """The scoring method agrees with the ranking and the gates; a pair table is checked whole."""
    if not damage.spares("scoring"):  # salvage left the method out: nothing here can be judged
        return []
    table = pair_table(process)
    method = "pair_table" if table else "sum_of_agreed_ratings"
    found = []
    if damage.spares("ranking") and process.ranking != RANKING_FOR[method]:
        found.append(doc.diag(("ranking",), "E113", f"ranking '{process.ranking}' does not go with scoring {method}",
                              f"write ranking: {RANKING_FOR[method]}"))
    if table is None and not process.gates and damage.spares("gates"):
        found.append(doc.diag((), "E111", "missing field 'gates' at the top level", "add 'gates:'; summed agreed ratings are "
                              "passed or failed by gates", at_key=True))
    if table is not None and process.gates:
        found.append(doc.diag(("gates",), "E113", "a pair-table process has no gates: a candidate passes or fails "
                              "by its cells' categories", "remove gates:, or give the categories passes: true or "
                              "false", at_key=True))
    if table is not None:
        found += _pair_table(table, doc, values)
    return found


def _pair_table(table: Scoring, doc: Document, values: list[int]) -> list[Diagnostic]:
    at = ("scoring",)
    found = list(_duplicates(doc, [(at + ("categories", i, "id"), c.id) for i, c in enumerate(table.categories)],
                             CATEGORY_ID))
    for i, category in enumerate(table.categories):
        if (category.passes is None) == (category.resolution is None):
            found.append(doc.diag(at + ("categories", i), "E113", f"category '{category.id}' needs exactly one of "
                                  "passes and resolution", "write passes: true or passes: false for a category that "
                                  "settles the cell, or resolution: tiebreaker or discuss for one that does not",
                                  at_key=True))
    ids = [c.id for c in table.categories]
    passing = [c.id for c in table.categories if c.passes]
    found += _duplicates(doc, [(at + ("rank_by", k), c) for k, c in enumerate(table.rank_by)], RANKED_CATEGORY)
    for k, category in enumerate(table.rank_by):
        if category not in ids:
            found.append(doc.diag(at + ("rank_by", k), "E120", f"unknown category '{category}'", suggest(category, ids)))
        elif category not in passing:
            found.append(doc.diag(at + ("rank_by", k), "E113", f"category '{category}' does not pass, so no passer "
                                  "has a cell in it to count", f"rank by passing categories: {', '.join(passing)}"))
    for i, row in enumerate(table.table):
        if row.category not in ids:
            found.append(doc.diag(at + ("table", i, "category"), "E120", f"unknown category '{row.category}'",
                                  suggest(row.category, ids)))
        for k, rating in enumerate(row.ratings):
            if rating not in values:
                found.append(doc.diag(at + ("table", i, "ratings", k), "E150", f"{rating} is not a rating on the "
                                      "scale", f"valid: {', '.join(map(str, values))}"))
    return found + _pair_coverage(table, doc, values)


def _pair_coverage(table: Scoring, doc: Document, values: list[int]) -> list[Diagnostic]:
    """Every unordered pair of scale values mapped by exactly one row: E156 at each repeat, E155 for those missing."""
    found = []
    first: dict[tuple[int, int], int] = {}
    for i, row in enumerate(table.table):
        pair = (min(row.ratings), max(row.ratings))
        if pair in first:
            line = doc.where(("scoring", "table", first[pair]))[0]
            found.append(doc.diag(("scoring", "table", i, "ratings"), "E156",
                                  f"the pair {pair[0]} and {pair[1]} is mapped again (first at line {line}); a pair "
                                  "is unordered, so [a, b] and [b, a] are one pair", "keep one row for the pair, "
                                  "with the category the published table gives"))
        first.setdefault(pair, i)
    ordered = sorted(set(values))
    missing = [f"[{a}, {b}]" for k, a in enumerate(ordered) for b in ordered[k:] if (a, b) not in first]
    if missing:
        found.append(doc.diag(("scoring", "table"), "E155", f"the table maps no category for {len(missing)} pair(s) "
                              f"of ratings: {', '.join(missing)}", "add a row for each, e.g. {ratings: "
                              f"{missing[0]}, category: ...}}: every pair two assessors can give must have a "
                              "category", at_key=True))
    return found


def check_appointment(appt: Appointment, doc: Document, process: SelectionProcess, scale: Scale,
                      damage: Damage = INTACT) -> list[Diagnostic]:
    found = list(_duplicates(doc, [(("candidates", i, "id"), c.id) for i, c in enumerate(appt.candidates)],
                             CANDIDATE_ID))
    found += _duplicates(doc, [(("panel", i, "id"), m.id) for i, m in enumerate(appt.panel)], MEMBER_ID)
    found += _panel_roles(appt, doc, process)
    found += _ratings(appt, doc, process, scale, damage)
    if damage.spares("ratings", EACH, "candidate"):  # a rating salvage left out may fill the cell
        found += _unfilled_cells(appt, doc, process)
    found += _shortlisting(appt, doc, process, scale)
    if damage.spares("candidates", EACH, "id"):
        found += _appointment_expect(appt, doc)
    return found


def _panel_roles(appt: Appointment, doc: Document, process: SelectionProcess) -> Iterator[Diagnostic]:
    roles = process.panel.scoring_roles + process.panel.advisory_roles
    for i, member in enumerate(appt.panel):
        if member.role not in roles:
            yield doc.diag(("panel", i, "role"), "E120", f"unknown panel role '{member.role}'", suggest(member.role, roles))


def _ratings(appt: Appointment, doc: Document, process: SelectionProcess, scale: Scale,
             damage: Damage) -> Iterator[Diagnostic]:
    candidates = [c.id for c in appt.candidates]
    candidates_whole = damage.spares("candidates", EACH, "id")
    panel_whole = damage.spares("panel", EACH, "id")  # else a name may be on the part salvage left out
    exercises = {e.id: e for e in process.exercises}
    scorers = {m.id for m in appt.panel if m.role in process.panel.scoring_roles}
    members = [m.id for m in appt.panel]
    values = rating_values(scale)
    seen: dict[tuple, int] = {}
    for i, rating in enumerate(appt.ratings):
        at = ("ratings", i)
        if rating.candidate not in candidates and candidates_whole:
            yield doc.diag(at + ("candidate",), "E120", f"unknown candidate '{rating.candidate}'", suggest(rating.candidate, candidates))
        exercise = exercises.get(rating.exercise)
        if exercise is None:
            yield doc.diag(at + ("exercise",), "E120", f"unknown exercise '{rating.exercise}'", suggest(rating.exercise, exercises))
        elif rating.area not in exercise.assesses:
            yield doc.diag(at + ("area",), "E151", f"exercise '{exercise.id}' does not assess '{rating.area}'",
                           f"it assesses: {', '.join(exercise.assesses)}")
        key = (rating.candidate, rating.exercise, rating.area)
        if key in seen:
            first = doc.where(("ratings", seen[key]))[0]
            yield doc.diag(at + ("area",), "E121", f"second rating for {'/'.join(key)} (first at line {first})",
                           "keep one agreed rating per candidate, exercise and area")
        seen.setdefault(key, i)
        if is_blank(rating):  # not yet filled: its stage decides whether that is an error (_unfilled_cells)
            continue
        yield from _cell_ratings(rating, at, doc, pair_table(process) is not None, damage)
        if rating.agreed is not None and rating.agreed not in values:
            yield doc.diag(at + ("agreed",), "E150", f"agreed rating {rating.agreed} is not on the scale",
                           f"valid: {', '.join(map(str, values))}")
        for member, score in rating.individual.items():
            if member not in members:
                if panel_whole:
                    yield doc.diag(at + ("individual", member), "E154", f"'{member}' is not on the panel",
                                   suggest(member, sorted(scorers)), at_key=True)
            elif member not in scorers:
                yield doc.diag(at + ("individual", member), "E154", f"'{member}' is on the panel but does not score",
                               _who_scores(scorers, process, panel_whole), at_key=True)
            if score is not None and score not in values:  # a member left blank gave no rating (F204)
                yield doc.diag(at + ("individual", member), "E150", f"{member}'s rating {score} is not on the scale",
                               f"valid: {', '.join(map(str, values))}")
        if not (rating.rationale or "").strip():
            yield doc.diag(at + ("rationale",), "E153", "the agreed rating has no rationale",
                           "record why the panel agreed this rating", at_key=True)
        if rating.recorded_by not in members and panel_whole:
            yield doc.diag(at + ("recorded_by",), "E154", f"'{rating.recorded_by}' is not on the panel",
                           suggest(rating.recorded_by, members))
        if rating.resolution is not None:
            yield from _resolution(rating, at + ("resolution",), doc, process, values, (members, scorers, panel_whole))


def _cell_ratings(rating, at: tuple, doc: Document, paired: bool, damage: Damage) -> Iterator[Diagnostic]:
    """Summed ratings need the agreed one; a pair table needs two individual ratings and no
    agreed one, which could otherwise be summed or read in their place. What is missing is
    judged only where salvage left out no rating's part of that name."""
    if not paired and rating.agreed is None and damage.spares("ratings", EACH, "agreed"):
        yield doc.diag(at, "E111", f"missing field 'agreed' in '{field_path(at)[1:]}'", "add 'agreed:'", at_key=True)
    if paired and rating.agreed is not None:
        yield doc.diag(at + ("agreed",), "E158", "an agreed rating in a pair-table process: the table maps the two "
                       "assessors' ratings, and an agreed rating would never be read", "remove agreed:; under a "
                       "pair table each cell's category comes from its two individual ratings", at_key=True)
    if paired and len(given_ratings(rating)) != 2 and damage.spares("ratings", EACH, "individual"):
        yield doc.diag(at + ("individual",), "E157", f"a pair-table cell needs exactly two individual ratings, "
                       f"from two scoring members; it has {len(given_ratings(rating))}",
                       "give the two assessors' own ratings by their panel ids, e.g. individual: {lead: 4, "
                       "asr1: 5}", at_key=True)


def _resolution(rating, at: tuple, doc: Document, process: SelectionProcess, values: list[int],
                panel: tuple[list[str], set[str], bool]) -> Iterator[Diagnostic]:
    """A recorded resolution settles a cell whose pair the table sends to a tiebreaker or a
    discussion, for that pair only, with a category that settles it, by a scoring member, with
    a rationale; anywhere else it would silently replace what the table says."""
    table, resolution = pair_table(process), rating.resolution
    if table is None:
        yield doc.diag(at, "E159", "a resolution in a process that sums agreed ratings: only a pair-table cell "
                       "whose pair needs a tiebreaker or discussion takes one", "remove resolution:; the agreed "
                       "rating is the panel's settled view", at_key=True)
        return
    ratings = sorted(given_ratings(rating).values())
    if len(ratings) != 2 or not set(ratings) <= set(values):  # E157 or E150 already says what is wrong
        return
    categories = {c.id: c for c in table.categories}
    row = next((r for r in table.table if sorted(r.ratings) == ratings), None)
    if row is None or row.category not in categories:  # the process's own check reports its table
        return
    needs = categories[row.category].resolution
    if needs is None:
        yield doc.diag(at, "E159", f"the pair {ratings[0]} and {ratings[1]} maps to '{row.category}', which needs no "
                       "resolution: a resolution cannot replace the table's category", "remove resolution:; only a "
                       "cell whose pair maps to a tiebreaker or discussion category takes one", at_key=True)
        return
    yield from _resolved_pair(resolution, at, doc, ratings)
    yield from _resolved_category(resolution, at, doc, table)
    yield from _resolver(rating, at, doc, process, panel)
    if not (resolution.rationale or "").strip():
        yield doc.diag(at + ("rationale",), "E153", "the resolution has no rationale",
                       "record why the tiebreaker or discussion settled on this category", at_key=True)
    yield from _tiebreak_rating(rating, at, doc, needs, values)


def _resolved_pair(resolution, at: tuple, doc: Document, ratings: list[int]) -> Iterator[Diagnostic]:
    if sorted(resolution.pair) != ratings:
        low, high = sorted(resolution.pair)
        yield doc.diag(at + ("pair",), "E113", f"the resolution is of the pair {low} and {high}, but the cell is rated "
                       f"{ratings[0]} and {ratings[1]}: a resolution stands only for the pair it resolved",
                       f"write pair: [{ratings[0]}, {ratings[1]}] if it resolved these ratings; if the ratings "
                       "changed since, the new pair needs its own resolution")


def _resolved_category(resolution, at: tuple, doc: Document, table: Scoring) -> Iterator[Diagnostic]:
    settling = [c.id for c in table.categories if c.resolution is None]
    if resolution.category not in {c.id for c in table.categories}:
        yield doc.diag(at + ("category",), "E120", f"unknown category '{resolution.category}'",
                       suggest(resolution.category, settling))
    elif resolution.category not in settling:
        yield doc.diag(at + ("category",), "E113", f"category '{resolution.category}' itself needs a resolution, so "
                       "it cannot settle the cell", f"resolve to a category that passes or fails: {', '.join(settling)}")


def _resolver(rating, at: tuple, doc: Document, process: SelectionProcess,
              panel: tuple[list[str], set[str], bool]) -> Iterator[Diagnostic]:
    """Who settled the cell: a scoring member of the panel (E154 otherwise)."""
    members, scorers, panel_whole = panel
    by = rating.resolution.by
    if by not in members:
        if panel_whole:
            yield doc.diag(at + ("by",), "E154", f"'{by}' is not on the panel", suggest(by, sorted(scorers)))
    elif by not in scorers:
        yield doc.diag(at + ("by",), "E154", f"'{by}' is on the panel but does not score, so cannot settle a cell",
                       _who_scores(scorers, process, panel_whole))


def _tiebreak_rating(rating, at: tuple, doc: Document, needs: str, values: list[int]) -> Iterator[Diagnostic]:
    """A third assessor's rating: on the scale, for a tiebreaker only, from someone who did not rate the cell."""
    third = rating.resolution.tiebreak_rating
    if third is None:
        return
    where = at + ("tiebreak_rating",)
    if third not in values:
        yield doc.diag(where, "E150", f"tiebreak rating {third} is not on the scale", f"valid: {', '.join(map(str, values))}")
    if needs != "tiebreaker":
        yield doc.diag(where, "E113", f"a tiebreak rating on a cell whose pair needs a {needs}, which ends in an agreed "
                       "category, not a third rating", "remove tiebreak_rating:; give the category agreed")
    elif rating.resolution.by in given_ratings(rating):
        yield doc.diag(at + ("by",), "E113", f"'{rating.resolution.by}' gave one of the cell's two ratings, so the "
                       "tiebreak rating is not a third assessor's", "name the third assessor who gave the tiebreak "
                       "rating, or remove tiebreak_rating: if the lead decided without one")


def _who_scores(scorers: set[str], process: SelectionProcess, panel_whole: bool) -> str:
    """The members who score; the roles that score when salvage left part of the panel out."""
    if panel_whole:
        return f"scoring members: {', '.join(sorted(scorers))}"
    return f"scoring roles: {', '.join(process.panel.scoring_roles)}"


def _unfilled_cells(appt: Appointment, doc: Document, process: SelectionProcess) -> Iterator[Diagnostic]:
    """A stage whose cells are all blank or absent is not yet held: the decision counts its
    cells as still to fill, and that is no error. A stage partly filled is an error at each
    cell not filled (at the blank cell's line, or at `ratings:` for a cell not written)."""
    written = {(r.candidate, r.exercise, r.area): i for i, r in enumerate(appt.ratings)}
    filled = {key for key, i in written.items() if not is_blank(appt.ratings[i])}
    assesses = {e.id: e.assesses for e in process.exercises}
    rated = "ratings" if pair_table(process) else "agreed rating"
    for stage, exercises in stages(process):
        cells = [(c.id, ex, area) for c in appt.candidates for ex in exercises for area in assesses[ex]]
        done = sum(1 for cell in cells if cell in filled)
        if done == 0:
            continue
        for cand, ex, area in (cell for cell in cells if cell not in filled):
            at = ("ratings", written[(cand, ex, area)]) if (cand, ex, area) in written else ("ratings",)
            yield doc.diag(at, "E152", f"candidate '{cand}' has no {rated} for {ex}/{area}, and stage '{stage}' is "
                           f"partly filled ({done} of {len(cells)} cells): a stage is scored only once every cell of "
                           "it is filled", "fill this cell; or, to score the stages before it, leave the whole stage "
                           "blank", at_key=True)


def _shortlisting(appt: Appointment, doc: Document, process: SelectionProcess, scale: Scale) -> Iterator[Diagnostic]:
    if not appt.shortlisting:
        return
    elements = process.shortlisting.elements if process.shortlisting else ()
    values = rating_values(scale)
    seen: dict[tuple, int] = {}
    for i, score in enumerate(appt.shortlisting):
        if score.element not in elements:
            yield doc.diag(("shortlisting", i, "element"), "E120", f"'{score.element}' is not a shortlisting element",
                           suggest(score.element, elements))
        if score.score not in values:
            yield doc.diag(("shortlisting", i, "score"), "E150", f"shortlisting score {score.score} is not on the scale",
                           f"valid: {', '.join(map(str, values))}")
        key = (score.candidate, score.element)
        if key in seen:
            first = doc.where(("shortlisting", seen[key]))[0]
            yield doc.diag(("shortlisting", i, "element"), "E121",
                           f"second shortlisting score for {score.candidate}/{score.element} (first at line {first})",
                           "keep one shortlisting score per candidate and element")
        seen.setdefault(key, i)


def _appointment_expect(appt: Appointment, doc: Document) -> Iterator[Diagnostic]:
    if appt.expect is None:
        return
    candidates = [c.id for c in appt.candidates]
    named = [(("expect", "preferred"), appt.expect.preferred)] if appt.expect.preferred else []
    named += [(("expect", "tied", k), c) for k, c in enumerate(appt.expect.tied)]
    named += [(("expect", "candidates", c), c) for c in appt.expect.candidates]
    for loc, cand in named:
        if cand not in candidates:
            yield doc.diag(loc, "E120", f"unknown candidate '{cand}' in expect", suggest(cand, candidates))


@dataclass(frozen=True)
class Flag:
    """Something the panel should see, not an error: the decision still stands. A flag about a
    cell names it; every flag names the people concerned: the scorers and the ratings involved
    (`ratings`, in panel order) and the members it is about (`members`)."""

    code: str
    message: str
    candidate: Optional[str] = None
    exercise: Optional[str] = None
    area: Optional[str] = None
    ratings: tuple[tuple[str, int], ...] = ()
    members: tuple[str, ...] = ()

    def to_json(self) -> dict:
        return {"code": self.code, "message": self.message, "candidate": self.candidate, "exercise": self.exercise,
                "area": self.area, "ratings": dict(self.ratings), "members": list(self.members)}


FLAGS = {
    "F201": "agreed-outside-individual-range",
    "F202": "individual-ratings-far-apart",  # as far apart as the process's moderation.spread_at_least
    "F203": "too-few-independent-members",
    "F204": "individual-rating-missing",  # a scoring member gave no rating in a filled cell
    "F205": "recorded-by-a-scoring-role",  # or by a role the process's panel.recorder_roles does not name
}


def flags(appt: Appointment, process: SelectionProcess) -> list[Flag]:
    """Every number used here is the process's: `panel.min_independent` (F203) and
    `moderation.spread_at_least` (F202, raised only when the process declares it). Cell flags
    come in candidate (id), exercise and area (the process's) order, members in `panel_order`,
    so that no flag depends on the order a file is written in; blank cells raise none."""
    found = []
    independents = [m.id for m in appt.panel if m.role == process.panel.independent_role]
    if len(independents) < process.panel.min_independent:
        found.append(Flag("F203", f"the panel has {len(independents)} independent member(s); the process requires "
                                  f"at least {process.panel.min_independent}", members=tuple(independents)))
    order = {m.id: k for k, m in enumerate(panel_order(appt, process))}
    for rating in _cells_in_order(appt, process):
        found += _cell_flags(rating, appt, process, order)
    return found + _recorder_flags(appt, process)


def _cells_in_order(appt: Appointment, process: SelectionProcess) -> list[Rating]:
    """The filled cells, candidates in id order, then exercises and areas in the process's."""
    cells = {(r.candidate, r.exercise, r.area): r for r in appt.ratings if not is_blank(r)}
    return [cells[key] for key in ((c, e.id, area) for c in sorted(c.id for c in appt.candidates)
                                   for e in process.exercises for area in e.assesses) if key in cells]


def _named(ratings: dict[str, int]) -> str:
    return ", ".join(f"{member} {value}" for member, value in ratings.items())


def _cell_flags(rating: Rating, appt: Appointment, process: SelectionProcess, order: dict[str, int]) -> list[Flag]:
    """F201, F202 and F204 on one filled cell, each naming the scorers and their ratings."""
    given = dict(sorted(given_ratings(rating).items(), key=lambda kv: (order.get(kv[0], len(order)), kv[0])))
    where = {"candidate": rating.candidate, "exercise": rating.exercise, "area": rating.area}
    cell = f"{rating.candidate} {rating.exercise}/{rating.area}"
    found = []
    missing = tuple(m.id for m in panel_order(appt, process) if m.role in process.panel.scoring_roles
                    and m.id not in given)
    if missing and pair_table(process) is None:  # a pair table's cell is rated by two of the scorers only
        roles = {m.id: m.role for m in appt.panel}
        found.append(Flag("F204", f"{cell}: no individual rating from {', '.join(f'{m} ({roles[m]})' for m in missing)}"
                                  + (f"; the moderation checks read only {_named(given)}" if given else
                                     "; no individual rating was recorded, so the moderation checks cannot be made"),
                          **where, ratings=tuple(given.items()), members=missing))
    if not given:
        return found
    low, high = min(given.values()), max(given.values())
    lowest = [m for m, v in given.items() if v == low]
    highest = [m for m, v in given.items() if v == high]
    if rating.agreed is not None and not low <= rating.agreed <= high:
        found.append(Flag("F201", f"{cell}: agreed {rating.agreed} is outside the individual ratings {low}-{high} "
                                  f"({_named(given)})", **where, ratings=tuple(given.items()),
                          members=tuple(given)))
    spread = process.moderation.spread_at_least if process.moderation else None
    if spread is not None and high - low >= spread:
        far = tuple(m for m in given if m in lowest or m in highest)
        found.append(Flag("F202", f"{cell}: individual ratings {_named(given)} differ by {high - low} "
                                  f"({' and '.join(lowest)} gave {low}, {' and '.join(highest)} gave {high}; the "
                                  f"process flags {spread} or more): a case for moderation",
                          **where, ratings=tuple(given.items()), members=far))
    return found


def _recorder_flags(appt: Appointment, process: SelectionProcess) -> list[Flag]:
    """F205, once per member who recorded cells in a role that may not record: one of the
    process's `panel.recorder_roles` when it names them, otherwise any role that does not score
    (the record is kept by someone outside the scoring, as an HR adviser keeps it)."""
    roles = {m.id: m.role for m in appt.panel}
    allowed = process.panel.recorder_roles
    recorded: dict[str, int] = {}
    for rating in appt.ratings:
        if not is_blank(rating) and rating.recorded_by in roles:
            recorded[rating.recorded_by] = recorded.get(rating.recorded_by, 0) + 1
    found = []
    for member, count in ((m.id, recorded[m.id]) for m in panel_order(appt, process) if m.id in recorded):
        role = roles[member]
        if allowed and role not in allowed:
            why = f"the process has cells recorded by {', '.join(allowed)}"
        elif not allowed and role in process.panel.scoring_roles:
            why = "a scoring member; the process names no recorder_roles, so the recorder is one who does not score"
        else:
            continue
        found.append(Flag("F205", f"{member} ({role}) recorded {count} cell(s): {why}", members=(member,)))
    return found


def check_hearing(hearing: Hearing, doc: Document) -> list[Diagnostic]:
    found = []
    if hearing.present is not None and hearing.present > hearing.members:
        found.append(doc.diag(("present",), "E113", f"{hearing.present} present from a Panel of {hearing.members} members",
                              "attendance cannot exceed the membership"))
    if hearing.votes_for_veto > hearing.members:
        found.append(doc.diag(("votes_for_veto",), "E113", f"{hearing.votes_for_veto} votes from a Panel of "
                                                           f"{hearing.members} members", "votes cannot exceed the membership"))
    elif hearing.present is not None and hearing.votes_for_veto > hearing.present:
        found.append(doc.diag(("votes_for_veto",), "E113", f"{hearing.votes_for_veto} votes from {hearing.present} present",
                              "votes cannot exceed the members present"))
    return found


REQUIREMENT_ID = unique_id("requirement")


def check_compliance_framework(framework: ComplianceFramework, doc: Document) -> list[Diagnostic]:
    """Each requirement is decided by its own pair of rules, named by its id: two with one id
    would send durable-rules the same result twice."""
    return list(_duplicates(doc, [(("requirements", i, "id"), r.id) for i, r in enumerate(framework.requirements)],
                            REQUIREMENT_ID))


def check_compliance_record(record: ComplianceRecord, doc: Document, framework: ComplianceFramework,
                            damage: Damage = INTACT) -> list[Diagnostic]:
    found = []
    for key, text in record.dates.items():
        if not _is_date(text):
            found.append(doc.diag(("dates", key), "E113", f"'{text}' is not a calendar date written YYYY-MM-DD",
                                  "write a real date, year-month-day, e.g. \"2022-10-03\""))
    for requirement in framework.requirements:
        for section, key in _needs(requirement):
            if key not in getattr(record, section) and damage.spares(section, key):
                found.append(doc.diag((section,), "E123", f"requirement '{requirement.id}' needs {section[:-1]} '{key}'",
                                      f"add {key} under {section}:", at_key=True))
        if requirement.ratio is not None:
            base = requirement.ratio[1]
            value = record.numbers.get(base)
            if isinstance(value, int) and value <= 0:  # a ratio within a fraction of nothing, or of less, means nothing
                found.append(doc.diag(("numbers", base), "E113", f"{base} is {value}: requirement '{requirement.id}' "
                                      "compares a ratio to it, which needs a positive base",
                                      f"give {base} as a number above 0"))
    return found


def _is_date(text: str) -> bool:
    if not re.fullmatch(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", text):
        return False
    try:
        datetime.date.fromisoformat(text)
    except ValueError:
        return False
    return True


def _needs(requirement) -> list[tuple[str, str]]:
    """What the requirement reads from the record: its condition's inputs, then its test's."""
    when = requirement.applies_when
    needs = [] if when is None else [("numbers", k) for k in (when.differ or when.equal or ())] + \
        [("flags", k) for k in (when.is_true, when.is_false) if k is not None]
    return list(dict.fromkeys(needs + _test_needs(requirement)))


def _test_needs(requirement) -> list[tuple[str, str]]:
    test = requirement.test
    if test == "days_between":
        return [("dates", k) for k in requirement.days_between]
    if test == "ratio":
        return [("numbers", k) for k in requirement.ratio]
    if test == "value":
        return [("numbers", requirement.value)]
    if test == "is_true":
        return [("flags", requirement.is_true)]
    return [("lists", requirement.contains_all)]
