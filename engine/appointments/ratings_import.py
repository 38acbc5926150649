"""Reading a filled scoresheet back into appointment evidence: a workbook written by
`spreadsheet`, or a CSV file with documented columns.

Every value read keeps its place (`ratings.xlsx:cand-a!H9`, or a CSV line and field), and the
evidence built from them is then checked by the normal loader (`appointments.read_evidence`),
whose problems, located by field, are told at the cell they came from. Problems of reading
itself (text in a rating cell, a sheet that is missing) are found first and reported with the
loader's, all at once. A row with no rating, no rationale and no resolution is left out of
the evidence: its cell is still to fill.
"""

from __future__ import annotations

import csv
import io
import re
import warnings
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Optional

from openpyxl import load_workbook

from ..language.catalog import Catalog, expected_id
from ..language.diagnostics import Diagnostic, DiagnosticError, did_you_mean, sorted_unique
from ..language.load import dump_yaml, from_data, load_bytes, open_regular_file
from .appointments import read_evidence
from .spreadsheet import ABOUT, FORMAT, INDIVIDUAL, KEY_ROW_MARK, RESOLUTION_KEYS

MAX_WORKBOOK_BYTES = 8 * 1024 * 1024  # a form for dozens of candidates is well under 1 MiB
MAX_UNPACKED_BYTES = 64 * 1024 * 1024  # a workbook is a zip: refuse one that unpacks to more
CSV_COLUMNS = ("candidate", "exercise", "area", "agreed", "rationale", "recorded_by") + RESOLUTION_KEYS
_WHOLE = re.compile(r"\s*[-+]?[0-9]+\s*")
_FIELD = re.compile(r"\.([^.\[\]]+)|\[([0-9]+)\]")


@dataclass(frozen=True)
class Place:
    """Where a value was read: a workbook cell (`file:sheet!A1`) or a CSV line and field."""

    path: str
    line: int = 0
    col: int = 0

    def diag(self, code: str, message: str, suggestion: Optional[str] = None) -> Diagnostic:
        return Diagnostic(self.path, self.line, self.col, code, message, suggestion)


@dataclass
class Reading:
    """What a sheet gave: the evidence data, each value's place, and what could not be read.
    Filled in as the sheets are read (so not frozen), and handed on only to be checked."""

    shown: str
    data: dict[str, Any] = field(default_factory=dict)
    places: dict[tuple, Place] = field(default_factory=dict)
    problems: list[Diagnostic] = field(default_factory=list)
    rated: set[str] = field(default_factory=set)  # candidates with rows on some sheet, filled or not
    unusable: bool = False  # no evidence can be built (a CSV file's header row is wrong): the loader is not asked

    def relocate(self, diagnostics: list[Diagnostic]) -> list[Diagnostic]:
        """The loader's problems, located by field in data named `shown`, told at their cells."""
        moved = []
        for d in diagnostics:
            rest = d.path[len(self.shown):] if d.path.startswith(self.shown) else None
            if rest is None or (rest and rest[0] not in ".["):
                moved.append(d)  # a problem of another file (the process it names), at its own place
                continue
            place = self._place(tuple(name or int(index) for name, index in _FIELD.findall(rest)))
            moved.append(Diagnostic(place.path, place.line, place.col, d.code, d.message, d.suggestion))
        taken = {(d.path, d.line, d.col) for d in self.problems}  # a value not read may be missed again there
        return self.problems + [d for d in moved if (d.path, d.line, d.col) not in taken]

    def _place(self, loc: tuple) -> Place:
        while loc and loc not in self.places:
            loc = loc[:-1]
        return self.places.get(loc, Place(self.shown))


# --- the command: read, check through the loader, write YAML -----------------------------------

def import_ratings(catalog: Catalog, path: Path, shown: str, output: Optional[Path], sheet_id: Optional[str],
                   csv_header: Optional[dict[str, Any]] = None) -> str:
    """The evidence file (YAML text) a filled workbook or CSV file holds, checked as `arbiter
    score` checks it; every problem at once, at its cell."""
    blob = _read(path, shown)
    reading = read_workbook(blob, shown) if csv_header is None else read_csv(blob, shown, csv_header)
    if sheet_id is not None:
        reading.data["id"], reading.places[("id",)] = sheet_id, Place("--id")
    problems = _place_problems(reading, output)
    try:
        if not reading.unusable:
            read_evidence(from_data(reading.data, shown), catalog)
    except DiagnosticError as error:
        problems += error.diagnostics
    problems = reading.relocate(problems)
    if problems:
        raise DiagnosticError(sorted_unique(problems))
    return f"# Imported by arbiter import from {Path(shown).name}.\n" + dump_yaml(reading.data)


def _place_problems(reading: Reading, output: Optional[Path]) -> list[Diagnostic]:
    """Written under cases/, the evidence's id must be its place there (as the loader requires of a file)."""
    want = expected_id(output, "cases") if output is not None else None
    have = reading.data.get("id")
    if want is None or have == want:
        return []
    return [Diagnostic(reading.shown + ".id", 0, 0, "E115", f"id '{have}' does not match the output's place ({want})",
                       f"import with --id {want}, or write the file where its id says")]


def _read(path: Path, shown: str) -> bytes:
    try:
        with open_regular_file(path) as stream:
            blob = stream.read(MAX_WORKBOOK_BYTES + 1)
    except OSError as error:
        raise DiagnosticError([Diagnostic(shown, 0, 0, "E100", f"cannot read file: {error.strerror or error}",
                                          "check the path")]) from None
    if len(blob) > MAX_WORKBOOK_BYTES:
        raise DiagnosticError([Diagnostic(shown, 0, 0, "E102", f"file is more than {MAX_WORKBOOK_BYTES:,} bytes",
                                          "a scoresheet needs far less; is this the right file?")])
    return blob


# --- a workbook --------------------------------------------------------------------------------

def read_workbook(blob: bytes, shown: str) -> Reading:
    """The evidence a workbook written by `arbiter scoresheet --format xlsx` holds."""
    book = _open_workbook(blob, shown)
    reading = Reading(shown)
    about = book[ABOUT] if ABOUT in book.sheetnames else None
    if about is None or _about_rows(about).get("format", (None,))[0] is None \
            or _about_rows(about)["format"][0].value != FORMAT:
        raise DiagnosticError([Diagnostic(shown, 0, 0, "E114", "not a scoresheet workbook: no About sheet naming "
                                          f"the form {FORMAT}", "fill in a workbook written by arbiter scoresheet "
                                          "--format xlsx")])
    _read_about(about, reading)
    ratings, shortlisting = [], []
    for sheet in book.worksheets:
        if sheet is not about:
            _read_table(sheet, reading, ratings, shortlisting)
    _missing_sheets(reading)
    reading.data["ratings"] = [r for r, _ in ratings]
    for i, (_, places) in enumerate(ratings):
        reading.places.update({("ratings", i) + loc: place for loc, place in places.items()})
    if shortlisting:
        reading.data["shortlisting"] = [s for s, _ in shortlisting]
        for i, (_, places) in enumerate(shortlisting):
            reading.places.update({("shortlisting", i) + loc: place for loc, place in places.items()})
    if "expect" in reading.data:  # the evidence keeps its keys in the file's order
        reading.data["expect"] = reading.data.pop("expect")
    return reading


def _open_workbook(blob: bytes, shown: str):
    problem = None
    try:
        with zipfile.ZipFile(io.BytesIO(blob)) as archive:
            if sum(info.file_size for info in archive.infolist()) > MAX_UNPACKED_BYTES:
                problem = f"the workbook unpacks to more than {MAX_UNPACKED_BYTES:,} bytes"
            else:
                with warnings.catch_warnings():  # openpyxl warns of Excel extensions it drops; none hold ratings
                    warnings.simplefilter("ignore")
                    return load_workbook(io.BytesIO(blob), data_only=True)
    except zipfile.BadZipFile as error:
        problem = f"not an .xlsx workbook, or a damaged one ({error})"
    except (KeyError, ValueError, TypeError, OSError, EOFError, zipfile.LargeZipFile) as error:
        problem = f"the workbook cannot be read: {str(error)[:200] or type(error).__name__}"
    except Exception as error:  # openpyxl raises many kinds on a damaged part; all mean the same to the user
        problem = f"the workbook cannot be read: {type(error).__name__}: {str(error)[:200]}"
    raise DiagnosticError([Diagnostic(shown, 0, 0, "E100", problem, "save it again from the spreadsheet program as "
                                      ".xlsx, or write a new one with arbiter scoresheet --format xlsx")])


def _ref(shown: str, sheet, cell) -> Place:
    title = sheet.title if re.fullmatch(r"[A-Za-z0-9_.-]+", sheet.title) else "'" + sheet.title.replace("'", "''") + "'"
    return Place(f"{shown}:{title}!{cell.coordinate}")


def _about_rows(sheet) -> dict[str, tuple]:
    """The About sheet's rows by their hidden key (column A); members and candidates by id."""
    rows: dict[str, Any] = {}
    for row in sheet.iter_rows(min_col=1, max_col=4):
        key = row[0].value
        if key in ("member", "candidate"):
            rows.setdefault(key, []).append(row[1:])
        elif isinstance(key, str):
            rows[key] = row[2:]
    return rows


def _read_about(sheet, reading: Reading) -> None:
    rows, data = _about_rows(sheet), reading.data
    data["arbiter"] = "appointment"
    for key in ("id", "process", "constructed", "note"):
        if key in rows:
            cell = rows[key][0]
            reading.places[(key,)] = _ref(reading.shown, sheet, cell)
            value = _text_value(cell.value)
            if key == "constructed":
                value = _flag(cell.value, reading, reading.places[(key,)])
            if value is not None:
                data[key] = value
    data["panel"] = _people(sheet, reading, rows.get("member", []), "panel", ("id", "role", "name"))
    data["candidates"] = _people(sheet, reading, rows.get("candidate", []), "candidates", ("id", "name"))
    if "expect" in rows and _text_value(rows["expect"][0].value):
        _read_expect(sheet, rows["expect"][0], reading)


def _flag(value: Any, reading: Reading, place: Place) -> Optional[bool]:
    if isinstance(value, bool):
        return value
    text = _text_value(value)
    if text in ("true", "false"):
        return text == "true"
    reading.problems.append(place.diag("E113", f"constructed must be true or false, not {text!r}",
                                       "write true when the ratings are constructed, else false"))
    return False  # a stand-in, so the loader does not report it missing; the problem stops the import


def _people(sheet, reading: Reading, rows: list, group: str, keys: tuple[str, ...]) -> list[dict]:
    people = []
    for i, row in enumerate(rows):
        entry = {}
        for key, cell in zip(keys, row):
            reading.places[(group, i, key)] = _ref(reading.shown, sheet, cell)
            value = _text_value(cell.value)
            if value is not None:
                entry[key] = value
        reading.places[(group, i)] = reading.places[(group, i, "id")]
        people.append(entry)
    return people


def _read_expect(sheet, cell, reading: Reading) -> None:
    """The expectation a test case carries, kept as YAML text and read in the strict dialect."""
    place = _ref(reading.shown, sheet, cell)
    reading.places[("expect",)] = place
    try:
        doc = load_bytes(str(cell.value).encode("utf-8"), place.path)
    except DiagnosticError as error:
        reading.problems += [place.diag(d.code, d.message, d.suggestion) for d in error.diagnostics]
        return
    reading.problems += [place.diag(d.code, d.message, d.suggestion) for d in doc.problems]
    reading.data["expect"] = doc.data


def _read_table(sheet, reading: Reading, ratings: list, shortlisting: list) -> None:
    """A candidate's sheet or the shortlisting sheet: the columns named by the hidden key row."""
    rows = list(sheet.iter_rows())
    start = next((i for i, row in enumerate(rows) if row and row[0].value == KEY_ROW_MARK), None)
    if start is None:
        reading.problems.append(Place(f"{reading.shown}:{sheet.title}").diag(
            "E111", "this sheet has no key row naming its columns", "keep the sheets as arbiter scoresheet wrote them"))
        return
    keys = {0: "candidate"} | {i: cell.value for i, cell in enumerate(rows[start]) if i and isinstance(cell.value, str)}
    shortlist = "element" in keys.values()
    for row in rows[start + 2:]:
        values = {keys[i]: (cell.value, _ref(reading.shown, sheet, cell)) for i, cell in enumerate(row) if i in keys}
        candidate = _text_value(values.get("candidate", (None,))[0])
        if candidate is None:
            continue
        entry = _shortlist_entry(values, reading) if shortlist else rating_entry(values, reading)
        if entry is not None:
            (shortlisting if shortlist else ratings).append(entry)
        if not shortlist:
            reading.rated.add(candidate)


def _missing_sheets(reading: Reading) -> None:
    """A candidate the About sheet lists with no rows anywhere: their sheet was removed."""
    for i, candidate in enumerate(reading.data.get("candidates", [])):
        if candidate.get("id") not in reading.rated:
            reading.problems.append(reading.places[("candidates", i, "id")].diag(
                "E111", f"no sheet holds the ratings of candidate '{candidate.get('id')}'",
                "keep every candidate's sheet; write a new workbook with arbiter scoresheet --format xlsx --from"))


# --- one row, from a workbook or a CSV file ---------------------------------------------------------

def rating_entry(values: dict[str, tuple[Any, Place]], reading: Reading) -> Optional[tuple[dict, dict]]:
    """A rating cell as the evidence writes it, with each value's place; None when the row is blank."""
    places: dict[tuple, Place] = {}
    individual = _individual(values, reading, places)
    agreed = _number(values, "agreed", reading, places)
    rationale = _text(values, "rationale", places)
    resolution = _resolution(values, reading, places)
    if not individual and agreed is None and not (rationale or "").strip() and resolution is None \
            and ("agreed",) not in places:  # an agreed rating that could not be read is not a blank
        return None
    entry: dict[str, Any] = {key: _text_value(values[key][0]) for key in ("candidate", "exercise", "area")
                             if key in values}
    given = {member: rating for member, rating in individual.items() if rating is not None}
    fields = {"individual": given or None, "agreed": agreed, "rationale": rationale,
              "recorded_by": _text(values, "recorded_by", places), "resolution": resolution}
    entry.update({key: value for key, value in fields.items() if value is not None})
    row = _first_place(values, ("agreed", "rationale"), reading.shown)
    places.update({(key,): _first_place(values, (label, key), reading.shown) for key, label in
                   (("candidate", "candidate"), ("exercise", "exercise_title"), ("area", "area_name"))})
    places[("individual",)] = next((p for k, p in places.items() if k[0] == "individual"), row)
    places[()] = row
    return entry, places


def _individual(values: dict, reading: Reading, places: dict) -> dict[str, Optional[int]]:
    """Each member's rating by their column; None for one that could not be read (so the row is not blank)."""
    found: dict[str, Optional[int]] = {}
    for key, (value, place) in values.items():
        if key.startswith(INDIVIDUAL) and _text_value(value) is not None:
            member = key[len(INDIVIDUAL):]
            places[("individual", member)] = place
            found[member] = _whole(value, place, reading)
    return found


def _first_place(values: dict, keys: tuple[str, ...], shown: str) -> Place:
    """Where a problem about the row is shown: the first of these columns it has (a label a
    person reads before a hidden key), else the file."""
    return next((values[key][1] for key in keys if key in values), Place(shown))


def _shortlist_entry(values: dict[str, tuple[Any, Place]], reading: Reading) -> Optional[tuple[dict, dict]]:
    places: dict[tuple, Place] = {}
    score = _number(values, "score", reading, places)
    rationale = _text(values, "rationale", places)
    if score is None and not (rationale or "").strip() and ("score",) not in places:
        return None
    entry = {"candidate": _text_value(values["candidate"][0]), "element": _text_value(values["element"][0])}
    if score is not None:
        entry["score"] = score
    if rationale is not None:
        entry["rationale"] = rationale
    places[()] = places[("candidate",)] = places[("element",)] = values.get("element_name", values["element"])[1]
    return entry, places


def _resolution(values: dict, reading: Reading, places: dict) -> Optional[dict]:
    """A pair-table cell's recorded resolution: its columns, when any is filled."""
    given = {key: values[key] for key in RESOLUTION_KEYS if key in values and _text_value(values[key][0]) is not None}
    if not given:
        return None
    resolution: dict[str, Any] = {}
    for key, (value, place) in given.items():
        name = key.split(".", 1)[1]
        places[("resolution", name)] = place
        if name == "pair":
            pair = [_whole(part, place, reading) for part in str(value).replace(" and ", ",").split(",")]
            if len(pair) != 2:
                reading.problems.append(place.diag("E113", f"a resolved pair is two ratings, not {value!r}",
                                                   "write the two ratings, e.g. 3,5"))
            elif None not in pair:
                resolution["pair"] = pair
        elif name == "tiebreak_rating":
            rating = _whole(value, place, reading)
            if rating is not None:
                resolution[name] = rating
        else:
            resolution[name] = _text_value(value)
    places[("resolution",)] = next(iter(given.values()))[1]
    return resolution


def _number(values: dict, key: str, reading: Reading, places: dict) -> Optional[int]:
    if key not in values or _text_value(values[key][0]) is None:
        return None
    value, place = values[key]
    places[(key,)] = place
    return _whole(value, place, reading)


def _text(values: dict, key: str, places: dict) -> Optional[str]:
    if key not in values:
        return None
    places[(key,)] = values[key][1]
    return _text_value(values[key][0])


def _whole(value: Any, place: Place, reading: Reading) -> Optional[int]:
    """A whole number, as a rating cell holds it (a number, or text of one); else a problem at its cell."""
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str) and _WHOLE.fullmatch(value):
        return int(value)
    reading.problems.append(place.diag("E112", f"{_shown_value(value)} is not a whole number",
                                       "choose a rating from the cell's drop-down (the rating scale)"))
    return None


def _text_value(value: Any) -> Optional[str]:
    """A cell's text: None for an empty cell; a number typed where text goes is read as written."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return value if isinstance(value, str) else str(value)


def _shown_value(value: Any) -> str:
    text = repr(value) if isinstance(value, str) else str(value)
    return text if len(text) <= 40 else text[:37] + "..."


# --- a CSV file ------------------------------------------------------------------------------------

def read_csv(blob: bytes, shown: str, header: dict[str, Any]) -> Reading:
    """Rating cells from a CSV file with a header row: candidate, exercise, area, one
    individual:<member> column per scoring member, agreed, rationale and recorded_by (and a
    pair table's resolution.* columns). The rest of the evidence (id, process, panel) comes
    from the command line; the candidates are those the rows name, in order."""
    try:
        text = blob.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        line = blob[:error.start].count(b"\n") + 1
        raise DiagnosticError([Diagnostic(shown, line, 0, "E101", f"file is not UTF-8: byte 0x{blob[error.start]:02x} "
                                          "cannot be decoded", "save the CSV file as UTF-8")]) from None
    reading = Reading(shown, data=dict(header))
    reading.places.update({(key,): Place(option) for key, option in (("id", "--id"), ("process", "--process"),
                                                                     ("panel", "--panel"))})
    reader = csv.reader(io.StringIO(text, newline=""))
    columns = _csv_columns(next(reader, None), reading, [m["id"] for m in header.get("panel", [])])
    if columns is None:
        return reading
    entries, candidates, line = [], [], reader.line_num
    for row in reader:
        first, line = line + 1, reader.line_num
        values = {columns[i]: (cell, Place(shown, first, i + 1)) for i, cell in enumerate(row) if i in columns}
        if not any(cell.strip() for cell in row):
            continue
        candidate = _text_value(values.get("candidate", (None,))[0])
        if candidate is not None and candidate not in candidates:
            candidates.append(candidate)
        entry = rating_entry(values, reading)
        if entry is not None:
            entries.append(entry)
    reading.data["candidates"] = [{"id": c} for c in candidates]
    reading.data["ratings"] = [entry for entry, _ in entries]
    for i, (_, places) in enumerate(entries):
        reading.places.update({("ratings", i) + loc: place for loc, place in places.items()})
    return reading


def _csv_columns(names: Optional[list[str]], reading: Reading, members: list[str]) -> Optional[dict[int, str]]:
    """The header row's columns by position; unknown, repeated and missing ones, and a member's
    column for one not on the panel, are problems at line 1 (once, not at every row)."""
    if not names:
        reading.problems.append(Place(reading.shown, 1, 1).diag("E111", "no header row", _csv_hint()))
        reading.unusable = True
        return None
    columns, known = {}, list(CSV_COLUMNS)
    for i, name in enumerate(names):
        name = name.strip()
        place = Place(reading.shown, 1, i + 1)
        if name in columns.values():
            reading.problems.append(place.diag("E104", f"column '{name}' appears twice", "keep one column of each name"))
        elif name.startswith(INDIVIDUAL) and name[len(INDIVIDUAL):] not in members:
            member = name[len(INDIVIDUAL):]
            reading.problems.append(place.diag("E154", f"'{member}' is not on the panel (--panel)",
                                               did_you_mean(member, members) or f"the panel: {', '.join(members)}"))
        elif name in CSV_COLUMNS or name.startswith(INDIVIDUAL):
            columns[i] = name
        else:
            reading.problems.append(place.diag("E110", f"unknown column '{name}'",
                                               did_you_mean(name, known + [INDIVIDUAL + "<member>"]) or _csv_hint()))
    missing = [name for name in ("candidate", "exercise", "area", "recorded_by") if name not in columns.values()]
    if missing:
        reading.problems.append(Place(reading.shown, 1, 1).diag("E111", f"missing column(s): {', '.join(missing)}",
                                                                _csv_hint()))
        reading.unusable = True
    return columns


def _csv_hint() -> str:
    return ("columns: candidate, exercise, area, individual:<member id> for each scoring member, agreed, rationale, "
            "recorded_by")
