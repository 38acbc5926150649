"""The workbook form of a scoresheet: an .xlsx file a panel fills in, and its layout.

The workbook has one sheet per candidate, because the panel agrees a candidate's ratings
exercise by exercise and the adviser writes each candidate's feedback from that candidate's
rows: a candidate's whole assessment reads top to bottom on one sheet, in the evidence file's
order (exercise, then area). An "About" sheet holds what the evidence says of itself (id,
process, panel, candidates), and a "Shortlisting" sheet the shortlisting scores, when the
process has shortlisting elements.

Every sheet is protected and only the input cells are unlocked: ratings (a drop-down of the
rating scale's values, read from the scale file), the rationale, the recorder, names and the
note. Each row is identified by hidden keys (candidate, exercise and area ids in hidden
columns), and each column by a hidden key row, so a label that is renamed or a row that is
moved cannot misplace a rating: `ratings_import` reads the keys, never the labels. The
workbook's structure (its sheets) is locked too.

The form is written from an evidence record: a blank one (no ratings) for a new sheet, or a
filled one to re-issue it, so that reading the workbook back gives the same evidence.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from typing import Any, Iterable, Optional

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill, Protection
from openpyxl.utils import get_column_letter
from openpyxl.utils.exceptions import IllegalCharacterError
from openpyxl.workbook.protection import WorkbookProtection
from openpyxl.worksheet.datavalidation import DataValidation
from openpyxl.worksheet.worksheet import Worksheet

from ..language.appointment_models import (Appointment, Candidate, CompetencyFramework, PanelMember, SelectionProcess,
                                           pair_table)
from ..language.appointment_check import rating_values
from ..language.load import dump_yaml
from ..language.models import Scale
from ..language.options import option_error
from .appointments import LoadedEvidence
from .scoresheet import FormCell, form_cells, scorers_and_recorder

FORMAT = "arbiter-scoresheet/1"  # written on the About sheet; a workbook without it is not one of ours
ABOUT, SHORTLISTING = "About", "Shortlisting"
KEY_ROW_MARK = "key"  # column A of the hidden row that names each column
IDENTITY_KEYS = ("candidate", "exercise", "area")  # the hidden columns A-C of a rating row
SHORTLIST_KEYS = ("candidate", "element")
INDIVIDUAL = "individual:"  # a member's rating column: individual:<member id>
RESOLUTION_KEYS = ("resolution.pair", "resolution.category", "resolution.by", "resolution.rationale",
                   "resolution.tiebreak_rating")
LIST_LIMIT = 255  # Excel refuses a drop-down list written out longer than this
INPUTS = ("rating", "text", "member", "category")  # the kinds of column a panel writes in

_INPUT = PatternFill("solid", fgColor="FFF2CC")  # input cells are shaded, the rest is read-only
_WRAP = Alignment(wrap_text=True, vertical="top")
_BOLD = Font(bold=True)


@dataclass(frozen=True)
class Column:
    key: str  # the hidden key the reader goes by
    header: str  # what the panel reads
    width: int
    kind: str = "label"  # label (read-only), hidden; inputs: rating, text, member, category


def rating_columns(process: SelectionProcess, scorers: list[str], roles: dict[str, str]) -> list[Column]:
    """The columns of a candidate's sheet: the hidden identity, what is assessed, each scorer's
    rating, the agreed rating (none under a pair table), the rationale and the recorder."""
    columns = [Column(key, key, 4, "hidden") for key in IDENTITY_KEYS]
    columns += [Column("exercise_title", "Exercise", 22), Column("area_name", "Area", 24),
                Column("behaviours", f"Behaviours assessed (level {process.level})", 60)]
    columns += [Column(INDIVIDUAL + m, f"{m} ({roles[m]})", 12, "rating") for m in scorers]
    if pair_table(process) is None:
        columns.append(Column("agreed", "Agreed rating", 12, "rating"))
    columns += [Column("rationale", "Rationale for the agreed rating", 48, "text"),
                Column("recorded_by", "Recorded by", 14, "member")]
    if pair_table(process) is not None:
        columns += [Column("resolution.pair", "Pair resolved (e.g. 3,5)", 12, "text"),
                    Column("resolution.category", "Resolved category", 14, "category"),
                    Column("resolution.by", "Resolved by", 14, "member"),
                    Column("resolution.rationale", "Resolution rationale", 36, "text"),
                    Column("resolution.tiebreak_rating", "Tiebreak rating", 12, "rating")]
    return columns


def shortlist_columns() -> list[Column]:
    return [Column("candidate", "candidate", 4, "hidden"), Column("element", "element", 4, "hidden"),
            Column("candidate_label", "Candidate", 16), Column("element_name", "Element", 32),
            Column("score", "Score", 10, "rating"), Column("rationale", "Rationale", 60, "text")]


def workbook_bytes(evidence: Appointment, process: SelectionProcess, cvf: CompetencyFramework, scale: Scale) -> bytes:
    """The workbook for this evidence: every required cell, filled where the evidence fills it."""
    book = Workbook()
    try:
        _about(book.active, evidence, process)
        for candidate in evidence.candidates:
            _candidate_sheet(book.create_sheet(_sheet_title(candidate.id, book)), evidence, process, cvf, scale,
                             candidate.id)
        if process.shortlisting is not None:
            _shortlisting_sheet(book.create_sheet(SHORTLISTING), evidence, process, cvf, scale)
    except IllegalCharacterError as error:
        raise option_error("--from", f"a text holds a character a workbook cannot hold: {error}",
                           "remove control characters from the evidence's texts", "E113") from None
    book.security = WorkbookProtection(lockStructure=True)
    stream = io.BytesIO()
    book.save(stream)
    return stream.getvalue()


def blank_evidence(process: SelectionProcess, sheet_id: str, candidates: list[str],
                   panel: list[tuple[str, str]]) -> Appointment:
    """The evidence a new form starts from: who is on the panel and who is assessed, no ratings."""
    return Appointment(arbiter="appointment", id=sheet_id, process=process.id, constructed=False,
                       panel=tuple(PanelMember(id=m, role=role) for m, role in panel),
                       candidates=tuple(Candidate(id=c) for c in candidates))


def evidence_to_reissue(loaded: LoadedEvidence, process: SelectionProcess, candidates: Optional[list[str]],
                        panel: Optional[list[str]], sheet_id: Optional[str]) -> Appointment:
    """A checked evidence file to write into the form again: a selection's, under this process."""
    if loaded.kind != "appointment":
        raise option_error("--from", f"{loaded.doc.path} is a {loaded.kind.replace('_', ' ')} record, not a "
                           "selection's evidence", "give an evidence file that declares arbiter: appointment", "E114")
    if loaded.evidence.process != process.id:
        raise option_error("--from", f"{loaded.doc.path} is scored under '{loaded.evidence.process}', not "
                           f"'{process.id}'", f"give PROCESS {loaded.evidence.process}", "E113")
    if candidates is not None or panel is not None:
        raise option_error("--candidates" if candidates is not None else "--panel", "given with --from, whose "
                           "evidence names its candidates and panel", "leave it out, or edit the evidence file", "E174")
    return loaded.evidence.model_copy(update={"id": sheet_id}) if sheet_id else loaded.evidence


# --- the About sheet -----------------------------------------------------------------------

def _about(sheet: Worksheet, evidence: Appointment, process: SelectionProcess) -> None:
    sheet.title = ABOUT
    sheet["B1"], sheet["B1"].font = f"Scoresheet: {process.title}", Font(bold=True, size=14)
    sheet["B2"] = ("Fill in each candidate's sheet: ratings from the drop-downs, the rationale and who recorded "
                   "it. Rows left blank are left out (stages still to come). Then: arbiter import <this file>")
    rows: list[tuple[str, tuple[Any, ...], bool]] = [
        ("format", ("Form", FORMAT), False),
        ("id", ("Evidence id", evidence.id), False),
        ("process", ("Selection process", evidence.process), False),
        ("constructed", ("Constructed ratings", "true" if evidence.constructed else "false"), False),
        ("note", ("Note", evidence.note), True),
        ("expect", ("Expected outcome (for tests)", dump_yaml(_expect_data(evidence)) if evidence.expect else None),
         False),
    ]
    row = 4
    for key, values, editable in rows:
        _key_row(sheet, row, key, values, editable={3} if editable else set())
        row += 1
    sheet.row_dimensions[row - 1].hidden = evidence.expect is None  # carried unchanged; shown when there is one
    row += 1
    _headers(sheet, row, ("Panel member", "Role", "Name"))
    for member in evidence.panel:
        row += 1
        _key_row(sheet, row, "member", (member.id, member.role, member.name), editable={4})
    row += 2
    _headers(sheet, row, ("Candidate", "Name"))
    for candidate in evidence.candidates:
        row += 1
        _key_row(sheet, row, "candidate", (candidate.id, candidate.name), editable={3})
    sheet.column_dimensions["A"].hidden = True
    for letter, width in (("B", 28), ("C", 60), ("D", 28)):
        sheet.column_dimensions[letter].width = width
    sheet.protection.enable()


def _expect_data(evidence: Appointment) -> dict:
    return evidence.expect.model_dump(mode="json", exclude_defaults=True)


def _key_row(sheet: Worksheet, row: int, key: str, values: Iterable[Any], editable: set[int]) -> None:
    sheet.cell(row, 1, key)
    for col, value in enumerate(values, start=2):
        cell = _text(sheet.cell(row, col), value)
        cell.alignment = _WRAP
        if col in editable:
            _unlock(cell)


def _headers(sheet: Worksheet, row: int, labels: Iterable[str], first: int = 2) -> None:
    for col, label in enumerate(labels, start=first):
        sheet.cell(row, col, label).font = _BOLD


# --- a candidate's sheet -------------------------------------------------------------------

def _candidate_sheet(sheet: Worksheet, evidence: Appointment, process: SelectionProcess, cvf: CompetencyFramework,
                     scale: Scale, candidate: str) -> None:
    roles = {m.id: m.role for m in evidence.panel}
    scorers = [m.id for m in evidence.panel if m.role in process.panel.scoring_roles]
    columns = rating_columns(process, scorers, roles)
    name = next((c.name for c in evidence.candidates if c.id == candidate and c.name), None)
    sheet.cell(1, 4, f"{candidate}{f' ({name})' if name else ''}: {process.title}").font = Font(bold=True, size=14)
    row = _scale_block(sheet, scale, 3)
    filled = {(r.candidate, r.exercise, r.area): r for r in evidence.ratings}
    titles = {e.id: e.title for e in process.exercises}
    cells = form_cells(process, cvf, [candidate])
    first = row + 2
    _column_keys(sheet, row, columns)
    for offset, cell in enumerate(cells):
        _rating_row(sheet, first + offset, columns, cell, titles, filled.get((cell.candidate, cell.exercise, cell.area)),
                    _default_recorder(evidence, process))
    choices = {"rating": [str(v) for v in sorted(rating_values(scale))], "member": [m.id for m in evidence.panel],
               "category": _settling_categories(process)}
    _layout(sheet, columns, row + 1, first, first + len(cells) - 1, choices)
    _refuse_unplaced(evidence, filled, cells, candidate)


def _default_recorder(evidence: Appointment, process: SelectionProcess) -> str:
    """Who records a row not yet filled, as the YAML scoresheet names them."""
    return scorers_and_recorder(process, [(m.id, m.role) for m in evidence.panel])[1]


def _scale_block(sheet: Worksheet, scale: Scale, row: int) -> int:
    """The rating scale's values, labels and definitions above the ratings; returns the next free row."""
    sheet.cell(row, 4, f"Rating scale: {scale.title}").font = _BOLD
    for level in scale.levels:
        if level.value is None:
            continue
        row += 1
        sheet.cell(row, 4, level.value).alignment = _WRAP
        sheet.cell(row, 5, level.label).alignment = _WRAP
        sheet.cell(row, 6, level.definition).alignment = _WRAP
        _fit_height(sheet, row, [(level.label, 24), (level.definition, 60)])
    return row + 2


def _column_keys(sheet: Worksheet, row: int, columns: list[Column]) -> None:
    """The hidden row that names each column for the reader, and the visible headers under it."""
    sheet.cell(row, 1, KEY_ROW_MARK)
    for col, column in enumerate(columns, start=1):
        if col > 1:
            sheet.cell(row, col, column.key)
        header = sheet.cell(row + 1, col, column.header)
        header.font, header.alignment = _BOLD, _WRAP
    sheet.row_dimensions[row].hidden = True


def _rating_row(sheet: Worksheet, row: int, columns: list[Column], cell: FormCell, titles: dict[str, str],
                rating, recorder: str) -> None:
    values = _row_values(cell, titles, rating, recorder)
    for col, column in enumerate(columns, start=1):
        target = _text(sheet.cell(row, col), values.get(column.key))
        target.alignment = _WRAP
        if column.kind in INPUTS:
            _unlock(target)
    _fit_height(sheet, row, [(values.get(c.key), c.width) for c in columns if c.kind != "hidden"])


def _row_values(cell: FormCell, titles: dict[str, str], rating, recorder: str) -> dict[str, Any]:
    behaviours = f"{cell.heading}:\n" + "\n".join(f"- {b}" for b in cell.behaviours)
    values: dict[str, Any] = {"candidate": cell.candidate, "exercise": cell.exercise, "area": cell.area,
                              "exercise_title": titles[cell.exercise], "area_name": cell.area_name,
                              "behaviours": behaviours, "recorded_by": recorder}
    if rating is None:
        return values
    values.update({INDIVIDUAL + m: v for m, v in rating.individual.items()})
    values.update({"agreed": rating.agreed, "rationale": rating.rationale, "recorded_by": rating.recorded_by})
    if rating.resolution is not None:
        res = rating.resolution
        values.update({"resolution.pair": f"{res.pair[0]},{res.pair[1]}", "resolution.category": res.category,
                       "resolution.by": res.by, "resolution.rationale": res.rationale,
                       "resolution.tiebreak_rating": res.tiebreak_rating})
    return values


def _refuse_unplaced(evidence: Appointment, filled: dict, cells: list[FormCell], candidate: str) -> None:
    """A rating the form has no row for (or a member it has no column for) would be lost: refused."""
    rows = {(c.candidate, c.exercise, c.area) for c in cells}
    scorers = {m.id for m in evidence.panel}
    lost = [f"{'/'.join(key)}" for key in filled if key[0] == candidate and key not in rows]
    lost += [f"{'/'.join(key)}: {m}" for key, r in filled.items() if key[0] == candidate for m in r.individual
             if m not in scorers]
    if lost:
        raise option_error("--from", f"the form has no place for: {', '.join(lost)}",
                           "score only the process's scored exercises and areas, by its panel", "E151")


_CHOICE_NAMES = {"rating": "a rating on the scale above", "member": "a panel member's id (About sheet)",
                 "category": "a category of the process's pair table that settles the cell"}


def _layout(sheet: Worksheet, columns: list[Column], header_row: int, first: int, last: int,
            choices: dict[str, list[str]]) -> None:
    """Widths, hidden keys, drop-downs (choices by kind of column) and protection."""
    for col, column in enumerate(columns, start=1):
        letter = get_column_letter(col)
        sheet.column_dimensions[letter].width = column.width
        sheet.column_dimensions[letter].hidden = column.kind == "hidden"
        if column.kind in choices and last >= first:
            _drop_down(sheet, choices[column.kind], f"{letter}{first}:{letter}{last}", _CHOICE_NAMES[column.kind])
    sheet.freeze_panes = sheet.cell(header_row + 1, 4)
    sheet.protection.enable()


def _settling_categories(process: SelectionProcess) -> list[str]:
    """The categories a resolution may settle a cell in: those that need no resolution themselves."""
    table = pair_table(process)
    return [c.id for c in table.categories if c.resolution is None] if table is not None else []


def _drop_down(sheet: Worksheet, choices: list[str], cells: str, what: str) -> None:
    listed = ",".join(choices)
    if len(listed) + 2 > LIST_LIMIT:  # too long for a written-out list: the import still checks each value
        return
    validation = DataValidation(type="list", formula1=f'"{listed}"', allow_blank=True, showErrorMessage=True,
                                errorTitle="Not on the list", error=f"Choose {what}: {', '.join(choices)}.")
    sheet.add_data_validation(validation)
    validation.add(cells)


# --- shortlisting --------------------------------------------------------------------------

def _shortlisting_sheet(sheet: Worksheet, evidence: Appointment, process: SelectionProcess,
                        cvf: CompetencyFramework, scale: Scale) -> None:
    columns = shortlist_columns()
    sheet.cell(1, 3, f"Shortlisting: {process.title}").font = Font(bold=True, size=14)
    sheet.cell(2, 3, process.shortlisting.rule).alignment = _WRAP
    row = _scale_block(sheet, scale, 4)
    _column_keys(sheet, row, columns)
    scores = {(s.candidate, s.element): s for s in evidence.shortlisting}
    names = _area_names(cvf)
    first = line = row + 2
    for candidate in evidence.candidates:
        for element in process.shortlisting.elements:
            score = scores.pop((candidate.id, element), None)
            values = {"candidate": candidate.id, "element": element, "candidate_label": candidate.id,
                      "element_name": names.get(element, element), "score": score.score if score else None,
                      "rationale": score.rationale if score else None}
            for col, column in enumerate(columns, start=1):
                cell = _text(sheet.cell(line, col), values[column.key])
                cell.alignment = _WRAP
                if column.kind in INPUTS:
                    _unlock(cell)
            line += 1
    if scores:
        raise option_error("--from", f"the form has no row for shortlisting scores {', '.join('/'.join(k) for k in scores)}",
                           "give one score per candidate and shortlisting element of the process", "E120")
    _layout(sheet, columns, row + 1, first, line - 1, {"rating": [str(v) for v in sorted(rating_values(scale))]})


def _area_names(cvf: CompetencyFramework) -> dict[str, str]:
    return {**{v.id: v.name for v in cvf.values}, **{c.id: c.name for c in cvf.competencies}}


# --- cells ---------------------------------------------------------------------------------

def _text(cell, value: Optional[Any]):
    """Set a value as itself: text that starts with '=' stays text, never a formula."""
    cell.value = value
    if isinstance(value, str) and cell.data_type == "f":
        cell.data_type = "s"
    return cell


def _fit_height(sheet: Worksheet, row: int, texts: list[tuple[Any, int]]) -> None:
    """Tall enough for its longest wrapped text: not every spreadsheet program sizes rows itself."""
    def lines(text: Any, width: int) -> int:
        return sum(max(1, -(-len(part) // max(1, width - 2))) for part in str(text).split("\n")) if text else 1
    sheet.row_dimensions[row].height = min(409, 15 * max(lines(text, width) for text, width in texts))


def _unlock(cell) -> None:
    cell.protection = Protection(locked=False)
    cell.fill = _INPUT


def _sheet_title(candidate: str, book: Workbook) -> str:
    """A candidate's id as the sheet's title (the reader goes by the hidden keys, not the title):
    clipped to Excel's 31 characters and made unique."""
    title, n = candidate[:31], 2
    taken = {s.title.lower() for s in book.worksheets} | {ABOUT.lower(), SHORTLISTING.lower()}
    while title.lower() in taken:
        suffix = f"~{n}"
        title, n = candidate[:31 - len(suffix)] + suffix, n + 1
    return title
