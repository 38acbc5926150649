"""Spreadsheet scoresheets: the workbook form `arbiter scoresheet --format xlsx` writes, and
`arbiter import` reading a filled workbook (or a CSV file) back into an evidence file."""

from __future__ import annotations

import csv
import io
import zipfile
from functools import lru_cache
from pathlib import Path

import openpyxl
import pytest
import yaml
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st

import engine
from engine.appointments.ratings_import import read_workbook
from engine.appointments.scoresheet import form_cells
from engine.appointments.spreadsheet import workbook_bytes
from engine.cli import main
from engine.language.appointment_models import Appointment, Candidate, PanelMember, Rating, ShortlistScore
from engine.language.catalog import Catalog

from .conftest import ROOT
from .test_golden import check_golden
from .strategies import RATING_SCALE, generated_cvf, pair_fields, pair_table_processes

PROCESS = "appointments/kent-chief-constable-2022"
KENT = ROOT / "cases" / "appointments" / "kent-cc-2022" / "selection.yaml"
PANEL = "pcc:chair,boughton:member,cummins:independent,hr:hr_adviser"
GOLDEN = ROOT / "tests" / "golden" / "spreadsheet"


def run(*args):
    return CliRunner().invoke(main, [str(a) for a in args], catch_exceptions=False)


def refused(result, *codes: str) -> str:
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output
    for code in codes:
        assert f"error {code}:" in result.output, result.output
    return result.output


def reissued(tmp_path: Path, source: Path = KENT, name: str = "ratings.xlsx") -> Path:
    made = run("scoresheet", PROCESS, "--format", "xlsx", "--from", source, "-o", tmp_path / name, "--root", ROOT)
    assert made.exit_code == 0, made.output
    return tmp_path / name


def edited(path: Path, edits: dict[tuple[str, str], object]) -> Path:
    """The workbook with cells changed as a person would type into them."""
    book = openpyxl.load_workbook(path)
    for (sheet, cell), value in edits.items():
        book[sheet][cell] = value
    book.save(path)
    return path


@lru_cache(maxsize=1)
def kent_models():
    catalog = Catalog(ROOT)
    process = catalog.load(catalog.path_of(PROCESS), "selection_process").model
    cvf = catalog.load(catalog.path_of(process.competency_framework), "competency_framework").model
    scale = catalog.load(catalog.scale_path(process.rating_scale), "scale").model
    return process, cvf, scale


# --- the round trip ------------------------------------------------------------------------------

SELECTIONS = sorted(p for p in (ROOT / "cases").rglob("*.yaml")
                    if "invalid" not in p.parts and "arbiter: appointment\n" in p.read_text(encoding="utf-8"))


def _blank(cell: dict) -> bool:
    """A cell written with nothing in it, as a YAML scoresheet leaves it."""
    return cell.get("agreed") is None and not (cell.get("rationale") or "").strip() and cell.get("resolution") is None \
        and all(v is None for v in (cell.get("individual") or {}).values())


@pytest.mark.parametrize("source", SELECTIONS, ids=lambda p: p.relative_to(ROOT / "cases").with_suffix("").as_posix())
def test_a_filled_workbook_scores_to_the_same_decisions_as_the_yaml_it_came_from(source, tmp_path, catalog):
    """Write a selection's evidence into a workbook, import it, score both: the same records,
    byte for byte (outcome, totals, ranks and decision ids, which hash the evidence's meaning).
    Cells the file writes blank are left out on import: a blank cell and one not written are the
    same evidence, so even the ids are the same."""
    made = run("scoresheet", yaml.safe_load(source.read_text(encoding="utf-8"))["process"], "--format", "xlsx",
               "--from", source, "-o", tmp_path / "ratings.xlsx", "--root", ROOT)
    assert made.exit_code == 0, made.output
    imported = run("import", tmp_path / "ratings.xlsx", "-o", tmp_path / "selection.yaml", "--root", ROOT)
    assert imported.exit_code == 0, imported.output
    original = yaml.safe_load(source.read_text(encoding="utf-8"))
    again = yaml.safe_load((tmp_path / "selection.yaml").read_text(encoding="utf-8"))
    original["ratings"] = [cell for cell in original["ratings"] if not _blank(cell)]
    assert again == original
    assert engine.score(catalog, tmp_path / "selection.yaml").json_lines() == engine.score(catalog, source).json_lines()


def test_a_blank_workbook_filled_in_like_the_yaml_scoresheet_scores(tmp_path, catalog):
    """The panel's path: a blank form, ratings typed into the unlocked cells, imported, scored."""
    made = run("scoresheet", PROCESS, "--candidates", "cand-a,cand-b", "--panel", PANEL, "--format", "xlsx",
               "-o", tmp_path / "blank.xlsx", "--root", ROOT)
    assert made.exit_code == 0, made.output
    book = openpyxl.load_workbook(tmp_path / "blank.xlsx")
    for candidate, agreed in (("cand-a", 4), ("cand-b", 3)):
        sheet = book[candidate]
        keys = _key_columns(sheet)
        for row in _data_rows(sheet):
            for member in ("pcc", "boughton", "cummins"):
                sheet.cell(row, keys[f"individual:{member}"], agreed)
            sheet.cell(row, keys["agreed"], agreed)
            sheet.cell(row, keys["rationale"], "evidence seen")
    book.save(tmp_path / "filled.xlsx")
    imported = run("import", tmp_path / "filled.xlsx", "-o", tmp_path / "filled.yaml", "--root", ROOT)
    assert imported.exit_code == 0, imported.output
    records = engine.score(catalog, tmp_path / "filled.yaml").records
    assert records[-1]["preferred"] == "cand-a"
    assert {r["subject"]: r["total"] for r in records[:-1]} == {"cand-a": 48, "cand-b": 36}
    assert all(cell["recorded_by"] == "hr" for cell in yaml.safe_load(
        (tmp_path / "filled.yaml").read_text(encoding="utf-8"))["ratings"])  # the form names the adviser


def test_rows_left_blank_are_left_out_of_the_evidence(tmp_path, catalog):
    """A stage still to come: its rows stay blank, are not written as ratings, and the
    evidence scores as incomplete."""
    path = reissued(tmp_path)
    book = openpyxl.load_workbook(path)
    for candidate in ("cand-a", "cand-b"):
        sheet, keys = book[candidate], _key_columns(book[candidate])
        for row in _data_rows(sheet):
            if sheet.cell(row, keys["exercise"]).value == "interview":
                for key in keys:
                    if key.startswith("individual:") or key in ("agreed", "rationale"):
                        sheet.cell(row, keys[key]).value = None
    book.save(path)
    data = read_workbook(path.read_bytes(), "ratings.xlsx").data
    assert data["ratings"] and {r["exercise"] for r in data["ratings"]} == {"media", "presentation"}
    imported = run("import", path, "-o", tmp_path / "staged.yaml", "--root", ROOT)
    assert imported.exit_code == 0, imported.output
    assert engine.score(catalog, tmp_path / "staged.yaml").records[-1]["outcome"] == "incomplete"


def test_a_row_moved_and_a_label_renamed_cannot_misplace_a_rating(tmp_path):
    """The reader goes by the hidden keys: swapping two rows' visible labels and values together,
    or renaming a label, keeps every rating with its cell."""
    path = reissued(tmp_path)
    book = openpyxl.load_workbook(path)
    sheet = book["cand-a"]
    first, second = _data_rows(sheet)[:2]
    for col in range(1, sheet.max_column + 1):
        a, b = sheet.cell(first, col), sheet.cell(second, col)
        a.value, b.value = b.value, a.value
    sheet.cell(first, _key_columns(sheet)["area_name"], "Renamed by hand")
    book.save(path)
    data = read_workbook(path.read_bytes(), "ratings.xlsx").data
    ratings = yaml.safe_load(KENT.read_text(encoding="utf-8"))["ratings"]
    assert data["ratings"] == [ratings[1], ratings[0]] + ratings[2:]


# --- what the workbook holds ---------------------------------------------------------------------

def test_the_drop_downs_protection_and_keys_are_in_the_workbook(tmp_path):
    process, cvf, scale = kent_models()
    book = openpyxl.load_workbook(reissued(tmp_path))
    assert book.security.lockStructure
    values = ",".join(str(lv.value) for lv in sorted(scale.levels, key=lambda lv: lv.value))
    for candidate in ("cand-a", "cand-b"):
        sheet = book[candidate]
        keys, rows = _key_columns(sheet), _data_rows(sheet)
        assert sheet.protection.sheet
        assert [sheet.column_dimensions[letter].hidden for letter in "ABC"] == [True, True, True]
        assert sheet.row_dimensions[rows[0] - 2].hidden  # the key row
        assert [(sheet.cell(r, 1).value, sheet.cell(r, 2).value, sheet.cell(r, 3).value) for r in rows] == \
            [(c.candidate, c.exercise, c.area) for c in form_cells(process, cvf, [candidate])]
        lists = {str(dv.sqref): dv for dv in sheet.data_validations.dataValidation}
        for key in ("individual:pcc", "individual:boughton", "individual:independent", "agreed"):
            column = openpyxl.utils.get_column_letter(keys[key])
            validation = lists[f"{column}{rows[0]}:{column}{rows[-1]}"]
            assert validation.type == "list" and validation.formula1 == f'"{values}"'
            assert validation.showErrorMessage
        for key, locked in (("agreed", False), ("rationale", False), ("recorded_by", False), ("individual:pcc", False),
                            ("area_name", True), ("behaviours", True), ("exercise", True)):
            assert all(sheet.cell(r, keys[key]).protection.locked == locked for r in rows), key
        text = "\n".join(str(c.value) for row in sheet.iter_rows() for c in row if c.value is not None)
        assert all(level.definition in text and level.label in text for level in scale.levels)
        competency = next(c for c in cvf.competencies if c.id == "we_analyse_critically")
        assert all(b in text for b in next(lv for lv in competency.levels if lv.level == process.level).behaviours)
    assert book["About"].protection.sheet and book["Shortlisting"].protection.sheet


def test_text_starting_with_an_equals_sign_stays_text(tmp_path):
    process, cvf, scale = kent_models()
    evidence = _evidence(process, {("cand-a", "media", "transparency"): Rating(
        candidate="cand-a", exercise="media", area="transparency", individual={"pcc": 3}, agreed=3,
        rationale="=SUM(A1:A3) is what the candidate said", recorded_by="hr")})
    book = openpyxl.load_workbook(io.BytesIO(workbook_bytes(evidence, process, cvf, scale)))
    assert not any(c.data_type == "f" for s in book.worksheets for row in s.iter_rows() for c in row)
    assert Appointment.model_validate(read_workbook(workbook_bytes(evidence, process, cvf, scale), "x.xlsx").data) \
        == evidence


def test_candidates_whose_ids_excel_would_clip_alike_get_sheets_of_their_own():
    """Excel holds 31 characters of a sheet's title; the reader goes by the hidden keys anyway."""
    process, cvf, scale = kent_models()
    long = "candidate-with-a-very-long-pseudonym"
    evidence = Appointment(arbiter="appointment", id="gen/long", process=process.id, constructed=False,
                           panel=(PanelMember(id="pcc", role="chair"), PanelMember(id="hr", role="hr_adviser")),
                           candidates=(Candidate(id=long + "-1"), Candidate(id=long + "-2")),
                           ratings=(Rating(candidate=long + "-2", exercise="media", area="transparency",
                                           individual={"pcc": 2}, agreed=2, rationale="r", recorded_by="hr"),))
    blob = workbook_bytes(evidence, process, cvf, scale)
    titles = openpyxl.load_workbook(io.BytesIO(blob)).sheetnames
    assert len(set(titles)) == len(titles) == 4 and all(len(t) <= 31 for t in titles)
    assert Appointment.model_validate(read_workbook(blob, "long.xlsx").data) == evidence


# --- every problem, at its sheet and cell ------------------------------------------------------------

def test_every_problem_in_a_workbook_is_told_at_its_cell_at_once(tmp_path):
    path = edited(reissued(tmp_path), {("cand-a", "J12"): 7, ("cand-a", "G13"): "four", ("cand-b", "L14"): "bob",
                                       ("cand-b", "K15"): None})
    output = refused(run("import", path, "--root", ROOT), "E150", "E112", "E154", "E153")
    assert "ratings.xlsx:cand-a!J12: error E150: agreed rating 7 is not on the scale" in output
    assert "ratings.xlsx:cand-a!G13: error E112: 'four' is not a whole number" in output
    assert "ratings.xlsx:cand-b!L14: error E154: 'bob' is not on the panel" in output
    assert "ratings.xlsx:cand-b!K15: error E153:" in output
    assert "4 problems found" in output


def test_the_problems_of_a_workbook_and_a_csv_file_read_as_the_golden_files(tmp_path, monkeypatch):
    """The whole text a panel's adviser reads, pinned (tests/golden/spreadsheet/)."""
    monkeypatch.chdir(tmp_path)  # paths are shown relative to the working folder
    path = edited(reissued(tmp_path), {("cand-a", "J12"): 7, ("cand-a", "G13"): "four", ("cand-b", "L14"): "bob",
                                       ("cand-b", "K15"): "  ", ("Shortlisting", "E13"): 0, ("About", "C7"): "maybe"})
    check_golden(GOLDEN / "workbook-problems.txt", refused(run("import", path.name, "--root", ROOT)).rstrip("\n"))
    csv_path = _kent_csv(tmp_path / "ratings.csv")
    lines = csv_path.read_text(encoding="utf-8").splitlines()
    lines[0] = lines[0].replace("individual:pcc", "individual:pc") + ",agreed,agred"
    lines[3] = lines[3].removesuffix(",hr") + ",hq"
    csv_path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    output = refused(run("import", csv_path.name, "--process", PROCESS, "--panel", "pcc:chair,boughton:member,"
                         "independent:independent,hr:hr_adviser", "--root", ROOT))
    check_golden(GOLDEN / "csv-problems.txt", output.rstrip("\n"))


def test_an_unreadable_rating_is_told_once(tmp_path):
    """The agreed rating that cannot be read is not also reported as missing."""
    path = edited(reissued(tmp_path), {("cand-a", "J12"): "4.5"})
    output = refused(run("import", path, "--root", ROOT), "E112")
    assert output.count("cand-a!J12") == 1 and "1 problem found" in output


def test_a_missing_sheet_is_told_at_its_candidate(tmp_path):
    path = reissued(tmp_path)
    book = openpyxl.load_workbook(path)
    book.remove(book["cand-b"])
    book.save(path)
    output = refused(run("import", path, "--root", ROOT), "E111")
    assert "ratings.xlsx:About!B19: error E111: no sheet holds the ratings of candidate 'cand-b'" in output


def test_a_file_that_is_not_a_workbook_is_refused(tmp_path):
    yaml_named_xlsx = tmp_path / "selection.xlsx"
    yaml_named_xlsx.write_bytes(KENT.read_bytes())
    assert "not an .xlsx workbook" in refused(run("import", yaml_named_xlsx, "--root", ROOT), "E100")
    assert "not a workbook or CSV file" in refused(run("import", KENT, "--root", ROOT), "E114")
    other = tmp_path / "other.xlsx"
    openpyxl.Workbook().save(other)
    assert "not a scoresheet workbook" in refused(run("import", other, "--root", ROOT), "E114")


def test_a_damaged_workbook_is_refused(tmp_path):
    path = reissued(tmp_path)
    blob = path.read_bytes()
    path.write_bytes(blob[: len(blob) // 2])
    refused(run("import", path, "--root", ROOT), "E100")
    with zipfile.ZipFile(io.BytesIO(blob)) as archive, zipfile.ZipFile(path, "w") as damaged:
        for item in archive.infolist():
            part = archive.read(item)
            damaged.writestr(item, part[: len(part) // 2] if item.filename.startswith("xl/worksheets/") else part)
    assert "the workbook cannot be read" in refused(run("import", path, "--root", ROOT), "E100")


def test_import_never_overwrites_and_the_id_must_match_the_place(tmp_path):
    path = reissued(tmp_path)
    existing = tmp_path / "selection.yaml"
    existing.write_text("mine\n", encoding="utf-8")
    assert "exists" in refused(run("import", path, "-o", existing, "--root", ROOT), "E117")
    assert existing.read_text(encoding="utf-8") == "mine\n"
    placed = tmp_path / "cases" / "mine" / "selection.yaml"
    output = refused(run("import", path, "-o", placed, "--root", ROOT), "E115")
    assert "ratings.xlsx:About!C5: error E115" in output and "--id mine/selection" in output
    assert not placed.exists()
    assert run("import", path, "-o", placed, "--id", "mine/selection", "--root", ROOT).exit_code == 0


def test_the_options_that_mean_nothing_here_are_refused(tmp_path):
    refused(run("scoresheet", PROCESS, "--candidates", "cand-a", "--panel", PANEL, "--format", "xlsx", "--root", ROOT),
            "E174")
    refused(run("scoresheet", PROCESS, "--from", KENT, "--root", ROOT), "E174")
    refused(run("scoresheet", PROCESS, "--format", "xlsx", "-o", tmp_path / "x.xlsx", "--root", ROOT), "E174")
    refused(run("scoresheet", PROCESS, "--format", "xlsx", "--from", KENT, "--candidates", "cand-a",
                "-o", tmp_path / "x.xlsx", "--root", ROOT), "E174")
    hearing = KENT.with_name("hearing.yaml")
    refused(run("scoresheet", PROCESS, "--format", "xlsx", "--from", hearing, "-o", tmp_path / "x.xlsx",
                "--root", ROOT), "E114")
    refused(run("import", reissued(tmp_path), "--process", PROCESS, "--root", ROOT), "E174")
    assert not (tmp_path / "x.xlsx").exists()


# --- CSV ------------------------------------------------------------------------------------------------

def _kent_csv(path: Path) -> Path:
    ratings = yaml.safe_load(KENT.read_text(encoding="utf-8"))["ratings"]
    members = ["pcc", "boughton", "independent"]
    with path.open("w", encoding="utf-8", newline="") as stream:
        writer = csv.writer(stream)
        writer.writerow(["candidate", "exercise", "area", *[f"individual:{m}" for m in members], "agreed",
                         "rationale", "recorded_by"])
        for r in ratings:
            writer.writerow([r["candidate"], r["exercise"], r["area"], *[r["individual"][m] for m in members],
                             r["agreed"], r["rationale"], r["recorded_by"]])
    return path


def test_a_csv_file_of_ratings_imports_to_the_same_cells_and_outcome(tmp_path, catalog):
    path = _kent_csv(tmp_path / "ratings.csv")
    imported = run("import", path, "--process", PROCESS, "--panel", "pcc:chair,boughton:member,"
                   "independent:independent,hr:hr_adviser", "-o", tmp_path / "selection.yaml", "--root", ROOT)
    assert imported.exit_code == 0, imported.output
    data = yaml.safe_load((tmp_path / "selection.yaml").read_text(encoding="utf-8"))
    assert data["ratings"] == yaml.safe_load(KENT.read_text(encoding="utf-8"))["ratings"]
    assert [c["id"] for c in data["candidates"]] == ["cand-a", "cand-b"]
    mine, kent = engine.score(catalog, tmp_path / "selection.yaml").records, engine.score(catalog, KENT).records
    assert [(r["outcome"], r.get("total")) for r in mine] == [(r["outcome"], r.get("total")) for r in kent]


def test_every_problem_in_a_csv_file_is_told_at_its_line_and_field(tmp_path):
    path = _kent_csv(tmp_path / "ratings.csv")
    lines = path.read_text(encoding="utf-8").splitlines()
    lines[0] = lines[0].replace("recorded_by", "recorded_by,agred")
    lines[1] = lines[1].replace(",4,4,4,4,", ",4,9,4,4,")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    output = refused(run("import", path, "--process", PROCESS, "--panel", "pcc:chair,boughton:member,"
                         "independent:independent,hr:hr_adviser", "--root", ROOT), "E110", "E150")
    assert "ratings.csv:1:10: error E110: unknown column 'agred'" in output and "did you mean 'agreed'?" in output
    assert "ratings.csv:2:5: error E150: boughton's rating 9 is not on the scale" in output
    refused(run("import", path, "--root", ROOT), "E174")  # a CSV file names no process or panel


# --- the law ---------------------------------------------------------------------------------------

def _evidence(process, filled: dict, shortlisting: tuple = (), names: dict | None = None) -> Appointment:
    names = names or {}
    return Appointment(arbiter="appointment", id="gen/selection", process=process.id, constructed=True,
                       panel=(PanelMember(id="pcc", role="chair", name=names.get("pcc")),
                              PanelMember(id="boughton", role="member"), PanelMember(id="hr", role="hr_adviser")),
                       candidates=(Candidate(id="cand-a", name=names.get("cand-a")), Candidate(id="cand-b")),
                       ratings=tuple(filled.values()), shortlisting=shortlisting)


TEXT = st.text(st.characters(codec="utf-8", exclude_categories=("Cc", "Cs", "Zl", "Zp")), min_size=1,
               max_size=40).filter(lambda t: t.strip())


@st.composite
def kent_fields(draw) -> Appointment:
    """Ratings drawn for some of the Kent process's cells (the rest still to fill): individual
    ratings from some scorers, an agreed rating, a rationale (any text), a recorder."""
    process, cvf, scale = kent_models()
    values = [lv.value for lv in scale.levels]
    filled = {}
    for cell in form_cells(process, cvf, ["cand-a", "cand-b"]):
        if draw(st.booleans()):
            continue
        individual = draw(st.dictionaries(st.sampled_from(["pcc", "boughton"]), st.sampled_from(values)))
        filled[(cell.candidate, cell.exercise, cell.area)] = Rating(
            candidate=cell.candidate, exercise=cell.exercise, area=cell.area, individual=individual,
            agreed=draw(st.one_of(st.none(), st.sampled_from(values))), rationale=draw(TEXT),
            recorded_by=draw(st.sampled_from(["hr", "pcc"])))
    shortlisting = tuple(ShortlistScore(candidate=c, element=e, score=draw(st.sampled_from(values)),
                                        rationale=draw(st.one_of(st.none(), TEXT)))
                         for c in ("cand-a", "cand-b") for e in process.shortlisting.elements if draw(st.booleans()))
    names = draw(st.dictionaries(st.sampled_from(["pcc", "cand-a"]), TEXT))
    return _evidence(process, filled, shortlisting, names)


@settings(max_examples=25)
@given(kent_fields())
def test_reading_a_written_workbook_gives_back_the_evidence(evidence):
    """Law: for drawn ratings, rationales, shortlisting scores and names, import(write(evidence))
    is the evidence (cells not rated are blank rows, left out again)."""
    process, cvf, scale = kent_models()
    blob = workbook_bytes(evidence, process, cvf, scale)
    reading = read_workbook(blob, "drawn.xlsx")
    assert not reading.problems
    assert Appointment.model_validate(reading.data) == evidence


@settings(max_examples=15)
@given(st.data())
def test_a_pair_table_workbook_gives_back_its_ratings_and_resolutions(data):
    """Law: the same for a pair-table process, whose cells have two assessors' ratings and may
    carry a recorded resolution (its pair, category, resolver, rationale and tiebreak rating)."""
    process = data.draw(pair_table_processes())
    evidence = data.draw(pair_fields(process, most_candidates=2))
    cvf = generated_cvf(["v1", "v2", "c1", "c2"])
    reading = read_workbook(workbook_bytes(evidence, process, cvf, RATING_SCALE), "pairs.xlsx")
    assert not reading.problems
    assert Appointment.model_validate(reading.data) == evidence


# --- helpers -----------------------------------------------------------------------------------------

def _key_columns(sheet) -> dict[str, int]:
    row = next(r for r in sheet.iter_rows() if r[0].value == "key")
    return {"candidate": 1} | {c.value: c.column for c in row[1:] if c.value}


def _data_rows(sheet) -> list[int]:
    key_row = next(r for r in sheet.iter_rows() if r[0].value == "key")[0].row
    return [r for r in range(key_row + 2, sheet.max_row + 1) if sheet.cell(r, 1).value]


def test_import_has_help_with_an_example():
    result = run("import", "--help")
    assert result.exit_code == 0 and "Example:" in result.output and "arbiter import ratings.xlsx" in result.output
