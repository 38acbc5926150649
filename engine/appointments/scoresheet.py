"""Scoresheet: a blank appointment evidence file for a selection process.

It has every required cell (candidate x scored exercise x assessed area), each commented
with the behaviours at the level the process assesses, so an assessor fills in ratings
and rationales and scores the file without changing its structure. A cell left blank is
not yet filled: the selection is scored on the stages held and the rest are still to fill,
never read as ratings. The cell list (`form_cells`) is shared with the workbook form
(`spreadsheet`).
"""

from __future__ import annotations

import json
import textwrap
from dataclasses import dataclass

from ..language.appointment_models import CompetencyFramework, SelectionProcess, pair_table
from ..language.load import resolve_plain
from ..language.options import option_error


@dataclass(frozen=True)
class FormCell:
    """One cell of a scoresheet, in either form (YAML or workbook): what it is and what it assesses."""

    candidate: str
    exercise: str
    area: str
    area_name: str
    heading: str  # which behaviours follow: the level assessed, or a value's
    behaviours: tuple[str, ...]


def form_cells(process: SelectionProcess, cvf: CompetencyFramework, candidates: list[str]) -> list[FormCell]:
    """Every required cell (candidate x scored exercise x assessed area), in the order the
    evidence file keeps them: candidate, then the process's exercises and areas."""
    cells = []
    for cand in candidates:
        for exercise in (e for e in process.exercises if e.scored):
            for area in exercise.assesses:
                cells.append(FormCell(cand, exercise.id, area, *_behaviours(cvf, area, process.level)))
    return cells


def scorers_and_recorder(process: SelectionProcess, panel: list[tuple[str, str]]) -> tuple[list[str], str]:
    """The members who rate, and who records the agreed ratings: the first member in a role the
    process names to record, else the first who does not score (an adviser), else the first."""
    scorers = [m for m, role in panel if role in process.panel.scoring_roles]
    named = [m for m, role in panel if role in process.panel.recorder_roles]
    recorder = next(iter(named), next((m for m, role in panel if role not in process.panel.scoring_roles), panel[0][0]))
    return scorers, recorder


def parse_panel(entries: list[str], process: SelectionProcess) -> list[tuple[str, str]]:
    """'name' or 'name:role'; a bare name is a scoring member (the process's first scoring role)."""
    panel = []
    roles = process.panel.scoring_roles + process.panel.advisory_roles
    for entry in entries:
        member, _, role = entry.partition(":")
        role = role or process.panel.scoring_roles[0]
        if role not in roles:
            raise option_error("--panel", f"unknown panel role '{role}' for '{member}'", f"valid: {', '.join(roles)}",
                               "E120")
        panel.append((member, role))
    return panel


INSTRUCTIONS = (
    "# Fill in each individual rating, the agreed rating (a whole number on the rating scale) and the",
    "# rationale for every cell; leave the structure as it is. Then: arbiter score <this file>",
)
PAIR_INSTRUCTIONS = (  # a pair table maps two assessors' ratings; it takes no agreed rating
    "# Fill in the two assessors' ratings (keep two members per cell, remove the others) and the",
    "# rationale for every cell; leave the structure as it is. Then: arbiter score <this file>",
)


def scoresheet(process: SelectionProcess, cvf: CompetencyFramework, sheet_id: str,
               candidates: list[str], panel: list[tuple[str, str]]) -> str:
    scorers, recorder = scorers_and_recorder(process, panel)
    paired = pair_table(process) is not None
    lines = [
        f"# Scoresheet: {process.title}.",
        *(PAIR_INSTRUCTIONS if paired else INSTRUCTIONS),
        "arbiter: appointment",
        f"id: {_text(sheet_id)}",
        f"process: {process.id}",
        "constructed: false",
        "panel:",
        *[f"  - {{id: {_text(member)}, role: {role}}}" for member, role in panel],
        "candidates:",
        *[f"  - {{id: {_text(cand)}}}" for cand in candidates],
        "ratings:",
    ]
    for cell in form_cells(process, cvf, candidates):
        lines += _cell(cell, scorers, recorder, paired)
    return "\n".join(lines) + "\n"


def _cell(cell: FormCell, scorers: list[str], recorder: str, paired: bool = False) -> list[str]:
    cand, exercise, area = cell.candidate, cell.exercise, cell.area
    comment = [f"  # {cand} / {exercise} / {cell.area_name}: {cell.heading}"]
    for behaviour in cell.behaviours:
        wrapped = textwrap.wrap(behaviour, 96)
        comment += [f"  #   - {wrapped[0]}"] + [f"  #     {more}" for more in wrapped[1:]]
    return comment + [
        f"  - candidate: {_text(cand)}",
        f"    exercise: {exercise}",
        f"    area: {area}",
        "    individual:",
        *[f"      {_text(scorer)}:" for scorer in scorers],
        *([] if paired else ["    agreed:"]),
        '    rationale: ""',
        f"    recorded_by: {_text(recorder)}",
    ]


def _text(value: str) -> str:
    """An id as the file must hold it: plain where a reader takes it as that text, else quoted
    (a member called `y` or `no` would read as a yes/no, `1` as a number)."""
    return value if resolve_plain(value) == (value, None) else json.dumps(value)


def _behaviours(cvf: CompetencyFramework, area: str, level: int) -> tuple[str, str, tuple[str, ...]]:
    for value in cvf.values:
        if value.id == area:
            return value.name, "value (no levels): its behaviours", value.behaviours
    competency = next(c for c in cvf.competencies if c.id == area)
    at_level = next(lv for lv in competency.levels if lv.level == level)
    note = "levels are cumulative, so levels below apply too" if cvf.levels_cumulative and level > 1 else ""
    return competency.name, f"level {level} behaviours" + (f" ({note})" if note else ""), at_level.behaviours
