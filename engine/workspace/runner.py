"""Runner: the library calls behind each CLI command, returning data for the CLI to render.

Files are dispatched by the kind they declare: inspection cases go through
`inspections.cases`, the appointment evidence kinds through `appointments.appointments`.
The appointment part and its oracle are imported when a file of one of its kinds is met (once
per file, never per decision), so scoring inspection cases loads none of it.
"""

from __future__ import annotations

import codecs
import json
import os
import re
from collections import Counter
from dataclasses import astuple, dataclass
from functools import cached_property, partial
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Optional

from ..compiler.compile import compile_criteria, compile_set, write_all
from ..language.criteria import load_criteria, load_scale
from ..inspections.cases import LoadedCase, expectation, load_case, read_case, score
from ..inspections.explain import render_text
from ..inspections.graph import Decided, RecordedInput, case_path, decide_graph
from ..inspections.graph import Outcome as GraphOutcome
from ..language.catalog import MISSING, REGULAR, Catalog, declared_kind, expected_id, file_of_kind, file_status, kind_phrase
from ..language.check import check_framework, check_scale
from ..language.diagnostics import Diagnostic, DiagnosticError, sorted_unique, suggest
from ..language.load import Document, display_path, from_data, is_regular_file, load_file, read_regular_file, read_source, real_path
from ..language.models import ID_MAX_LENGTH, NOT_GRADED, id_length_problem
from ..language.options import option_error
from ..language.output import write_new_file
from ..language.validate import file_kind

if TYPE_CHECKING:
    from ..appointments.appointments import LoadedEvidence
    from ..appointments.pack import LoadedPack
    from ..language.decision_model import RecordModel
    from ..oracle import reference

_ID = re.compile(r"[a-z0-9][a-z0-9_-]*")
_PATH_ID = re.compile(r"[a-z0-9][a-z0-9_-]*(/[a-z0-9][a-z0-9_-]*)*")
JSON_SUFFIXES = (".jsonl", ".json")  # decision records, as `arbiter score --format json` writes them

EXPECTED_SUFFIX = ".expected"
# The kinds the appointment part decides, named here rather than read from it so that knowing
# them imports none of it (tests/test_startup.py holds them equal to the part's own).
APPOINTMENT_EVIDENCE_KINDS = ("appointment", "hearing", "compliance_record")
APPOINTMENT_RULE_KINDS = ("selection_process", "panel_rules", "compliance")
PACK_KIND = "appointment_pack"
PACK_RULES_KIND = "pack_rules"
CASE_KINDS = ("case",) + APPOINTMENT_EVIDENCE_KINDS + (PACK_KIND,)


@dataclass(frozen=True)
class Scored:
    """One scored evidence file (or evidence record in memory): its decision records and how
    they compare with its expectation."""

    path: Path
    kind: str  # "case" (an inspection area) or an appointment evidence kind
    records: list[dict[str, Any]]  # the decision records, as JSON data
    expected: str  # '' when the file states no expectation
    actual: str
    met: bool
    render: Callable[[str, bool], str]  # (explain mode, markdown) -> text
    source: Any  # the loaded case or evidence, for the oracle and the ledger
    # The decisions this one rests on, decided first: those a case takes sub-area grades from,
    # or a pack's selection, compliance and hearing.
    inputs: tuple["Scored", ...] = ()

    @cached_property
    def decisions(self) -> tuple[RecordModel, ...]:
        """The decision records as frozen objects (decision.outcome, decision.why_not, ...)."""
        from ..language.decision_model import model_for  # read-back models: only callers of this need them

        return tuple(model_for(record).model_validate(record) for record in self.records)

    def json_lines(self) -> list[str]:
        """One line per decision record, as `arbiter score --format json` prints them."""
        return [json.dumps(record, ensure_ascii=False) for record in self.records]

    def explain(self, mode: str = "full", markdown: bool = False) -> str:
        """The explanation `arbiter score --explain MODE` prints (off, fails or full)."""
        return self.render(mode, markdown)


def yaml_files(paths: list[Path]) -> list[Path]:
    """Files named directly, and the regular *.yaml files below folders."""
    found: list[Path] = []
    empty: list[Path] = []
    for path in paths:
        below = files_below(path) if path.is_dir() else [path]
        found += below
        empty += [path] if not below else []
    _refuse_empty(empty, "YAML files")
    return found


def _refuse_empty(folders: list[Path], what: str) -> None:
    """A folder given on the command line with nothing in it to run is a mistake (a wrong path,
    or files of another kind): saying "0 passed" would let it pass unnoticed."""
    if folders:
        raise DiagnosticError([Diagnostic(display_path(folder), 0, 0, "E100", f"the folder holds no {what}",
                                          "give the folder that holds them, or the files themselves")
                               for folder in folders])


def files_below(folder: Path) -> list[Path]:
    """The *.yaml files below a folder, sorted. Only regular files (or links to them) count:
    a pipe, device or socket is never opened (reading one may block for ever), and a broken
    link or a link loop is skipped. Links to folders are not followed, so a search ends."""
    return [path for path in sorted(folder.rglob("*.yaml")) if is_regular_file(path)]


def case_files(paths: list[Path]) -> list[Path]:
    """Evidence files named directly, or found below folders (skipping invalid/ there)."""
    found: list[Path] = []
    empty: list[Path] = []
    for path in paths:
        if path.is_dir():
            below = [p for p in files_below(path)
                     if "invalid" not in p.relative_to(path).parts and declared_kind(p) in CASE_KINDS]
            found += below
            empty += [path] if not below else []
        else:
            found.append(path)
    _refuse_empty(empty, "case files (arbiter: case, appointment, hearing or compliance_record)")
    return found


def kind_of(doc: Document) -> str:
    """The kind a loaded file declares; when it declares none, with the file's other problems."""
    try:
        return file_kind(doc)
    except DiagnosticError as error:
        raise DiagnosticError(list(doc.problems) + error.diagnostics) from None


def evidence_kind(path: Path, purpose: str) -> str:
    """The kind of a file given as a case, or E114 saying what the file is instead.

    purpose says what the command does with cases, e.g. "arbiter test runs cases".
    """
    sniffed = declared_kind(path)
    if sniffed in CASE_KINDS and path.suffix not in JSON_SUFFIXES:
        return sniffed  # loading it as that kind reports anything else wrong with it
    shown = display_path(path)
    what = _not_yaml(path)
    if what:
        raise DiagnosticError([Diagnostic(shown, 0, 0, "E114", f"the file is {what}, not a case; {purpose}",
                                          _CASE_HINT)])
    doc = load_file(path)
    kind = kind_of(doc)
    if kind not in CASE_KINDS:
        raise DiagnosticError([doc.diag(("arbiter",), "E114",
                                        f"the file is {kind_phrase(kind)} file, not a case; {purpose}",
                                        _CASE_HINT)])
    return kind


_CASE_HINT = f"give case files or folders of them; a case declares arbiter: one of {', '.join(CASE_KINDS)}"
_SNIFF_BYTES = 8192


def _not_yaml(path: Path) -> str | None:
    """'a JSON Lines file' or 'a binary file' when the file is plainly not one to load as YAML."""
    if path.suffix in JSON_SUFFIXES:
        return "a JSON Lines file of decisions"
    try:
        head = read_regular_file(path, _SNIFF_BYTES)[:_SNIFF_BYTES]
    except OSError:
        return None  # loading it says why it cannot be read
    try:
        codecs.getincrementaldecoder("utf-8")().decode(head, final=False)
    except UnicodeDecodeError:
        # Text in another encoding is reported as not UTF-8; a NUL as well means binary.
        return "a binary file" if b"\0" in head else None
    return None


def validate_paths(paths: list[Path], catalog: Catalog) -> tuple[int, list[Diagnostic]]:
    """Validate each file by its kind; returns the number checked and every problem."""
    files = yaml_files(paths)
    problems: list[Diagnostic] = []
    for path in files:
        try:
            validate_file(path, catalog)
        except DiagnosticError as error:
            problems += error.diagnostics
    return len(files), sorted_unique(problems)


def validate_file(path: Path, catalog: Catalog) -> None:
    kind = kind_of(load_file(path))
    try:
        _validate_as(kind, path, catalog)
    except DiagnosticError as error:
        # A shape problem stops the loaders before the cross-reference checks: those run on
        # what did validate of the file, so every problem in it is reported at once.
        raise _with_cross_checks(error, path, kind, catalog) from None


def _with_cross_checks(error: DiagnosticError, path: Path, kind: str, catalog: Catalog) -> DiagnosticError:
    """A file's shape problems with its cross-reference problems (crosscheck.py, imported only
    when a file does not load)."""
    from .crosscheck import cross_check_misshapen

    return DiagnosticError(error.diagnostics + cross_check_misshapen(path, kind, catalog))


def _validate_as(kind: str, path: Path, catalog: Catalog) -> None:
    if kind == "case":
        loaded = load_case(path, catalog)
        # the decisions it takes grades from are checked and decided, to know each is a grade
        outcome = decide_graph({loaded.case.id: loaded}, catalog, load_case, score, decide_roots=False)
        _raise_if(outcome.problems_of(loaded.case.id))
    elif kind in APPOINTMENT_EVIDENCE_KINDS:
        from ..appointments.appointments import load_evidence
        load_evidence(path, catalog)
    elif kind == PACK_KIND:
        from ..appointments.pack import load_pack
        load_pack(path, catalog)
    elif kind == PACK_RULES_KIND:
        from ..appointments.pack import compile_pack_rules
        compile_pack_rules(catalog, catalog.load(path, kind))
    elif kind in APPOINTMENT_RULE_KINDS:
        from ..appointments.appointments import compile_rules
        compile_rules(catalog, catalog.load(path, kind))
    elif kind == "criteria":
        compile_criteria(load_criteria(catalog, catalog.load(path, kind).model.id, path))
    else:
        loaded = catalog.load(path, kind)
        _raise_if(_standalone_checks(catalog, kind, loaded))


def _standalone_checks(catalog: Catalog, kind: str, loaded) -> list[Diagnostic]:
    if kind == "framework":
        scale = load_scale(catalog, loaded)
        problems = check_scale(scale.model, scale.doc) + check_framework(loaded.model, loaded.doc, scale.model)
        return problems or _as_compiled_with_its_sets(catalog, loaded)
    if kind == "competency_framework":
        from ..language.appointment_check import check_cvf
        return check_cvf(loaded.model, loaded.doc)
    return check_scale(loaded.model, loaded.doc)


def _as_compiled_with_its_sets(catalog: Catalog, framework) -> list[Diagnostic]:
    """What compiling the framework with each criteria set that uses it says about the framework
    itself: some limits (rules and conditions per set) show only once rules are built. Problems
    of a set's own file are that file's, and are reported when it is validated."""
    found: list[Diagnostic] = []
    for set_id in catalog.criteria_set_ids():
        try:
            if catalog.load(catalog.criteria_path(set_id), "criteria").model.framework == framework.model.id:
                compile_set(catalog, set_id)
        except DiagnosticError as error:
            found += [d for d in error.diagnostics if d.path == framework.doc.path]
    return found


def _raise_if(problems: list[Diagnostic]) -> None:
    if problems:
        raise DiagnosticError(problems)


def compilers(catalog: Catalog) -> list[tuple[str, Callable]]:
    """Everything under criteria/ that compiles to rules/, by id."""
    from ..appointments.appointments import compile_rules
    from ..appointments.pack import compile_pack_rules

    found: list[tuple[str, Callable]] = [(s, lambda s=s: compile_set(catalog, s)) for s in catalog.criteria_set_ids()]
    for kind in APPOINTMENT_RULE_KINDS:
        found += [(i, lambda i=i, k=kind: compile_rules(catalog, catalog.load(catalog.path_of(i), k)))
                  for i in catalog.ids_of_kind(kind)]
    found += [(i, lambda i=i: compile_pack_rules(catalog, catalog.load(catalog.path_of(i), PACK_RULES_KIND)))
              for i in catalog.ids_of_kind(PACK_RULES_KIND)]
    return found


def compile_all(catalog: Catalog, check_only: bool) -> tuple[list[str], list[Diagnostic], int]:
    to_compile = compilers(catalog)
    changed, problems = write_all(catalog, check_only, to_compile)
    return changed, problems, len(to_compile)


def make_scoresheet(catalog: Catalog, process: str, candidates: list[str], panel: list[str],
                    sheet_id: str | None, output: Path | None) -> str:
    """A blank appointment file for a process given by id (or path)."""
    from ..appointments.appointments import compile_rules, load_reference
    from ..appointments.scoresheet import parse_panel, scoresheet

    loaded = catalog.load(_process_path(catalog, process), "selection_process")
    compile_rules(catalog, loaded)  # the process must be valid before a sheet is made from it
    cvf = load_reference(catalog, loaded, "competency_framework", "competency_framework")
    _raise_if(_people_problems(candidates, panel) + _sheet_id_problems(sheet_id))
    members = parse_panel(panel, loaded.model)
    if sheet_id is None:
        sheet_id = (expected_id(output, "cases") if output else None) or "scoresheet"
    return scoresheet(loaded.model, cvf.model, sheet_id, candidates, members)


def write_scoresheet(output: Path, text: str | bytes) -> None:
    """Write a new scoresheet file; never over an existing file, nor through a symbolic link."""
    write_new_file(output, text, "--output")


def make_workbook(catalog: Catalog, process: str, candidates: Optional[list[str]], panel: Optional[list[str]],
                  sheet_id: str | None, output: Path | None, source: Path | None) -> bytes:
    """The workbook form of a scoresheet (.xlsx): blank for the candidates and panel given, or
    filled from an evidence file (`source`), which is checked as `arbiter score` checks it."""
    from ..appointments import spreadsheet  # openpyxl: only the workbook commands load it
    from ..appointments.appointments import compile_rules, load_evidence, load_reference
    from ..appointments.scoresheet import parse_panel

    loaded = catalog.load(_process_path(catalog, process), "selection_process")
    compile_rules(catalog, loaded)
    cvf = load_reference(catalog, loaded, "competency_framework", "competency_framework")
    scale = load_reference(catalog, loaded, "rating_scale", "scale")
    _raise_if(_sheet_id_problems(sheet_id))
    if source is not None:
        evidence = spreadsheet.evidence_to_reissue(load_evidence(source, catalog), loaded.model, candidates, panel,
                                                   sheet_id)
    else:
        if candidates is None or panel is None:
            raise option_error("--candidates" if candidates is None else "--panel", "missing",
                               "give --candidates and --panel, or --from an evidence file to re-issue", "E174")
        _raise_if(_people_problems(candidates, panel))
        sheet_id = sheet_id or (expected_id(output, "cases") if output else None) or "scoresheet"
        evidence = spreadsheet.blank_evidence(loaded.model, sheet_id, candidates, parse_panel(panel, loaded.model))
    return spreadsheet.workbook_bytes(evidence, loaded.model, cvf.model, scale.model)


def import_scoresheet(catalog: Catalog, path: Path, output: Path | None, sheet_id: str | None,
                      process: str | None, panel: Optional[list[str]]) -> str:
    """The evidence file (YAML) a filled workbook or CSV file holds, checked as `arbiter score`
    checks it. A workbook names its process and panel; a CSV file's come from the options."""
    from ..appointments import ratings_import  # openpyxl: only the workbook commands load it
    from ..appointments.scoresheet import parse_panel

    shown, suffix = display_path(path), path.suffix.lower()
    if suffix not in (".xlsx", ".csv"):
        raise DiagnosticError([Diagnostic(shown, 0, 0, "E114", f"not a workbook or CSV file: '{path.suffix}'",
                                          "give a filled .xlsx scoresheet or a .csv file of ratings")])
    _raise_if(_sheet_id_problems(sheet_id))
    if suffix == ".xlsx":
        if process is not None or panel is not None:
            raise option_error("--process" if process is not None else "--panel", "given with a workbook, which "
                               "names its own process and panel", "leave it out", "E174")
        return ratings_import.import_ratings(catalog, path, shown, output, sheet_id)
    if process is None or panel is None:
        raise option_error("--process" if process is None else "--panel", "missing: a CSV file of ratings needs "
                           "the process and the panel", "e.g. --process appointments/kent-chief-constable-2022 "
                           "--panel pcc:chair,cummins:independent,hr:hr_adviser", "E174")
    loaded = catalog.load(_process_path(catalog, process), "selection_process")
    _raise_if(_people_problems(["csv"], panel))
    members = parse_panel(panel, loaded.model)
    header = {"arbiter": "appointment", "id": sheet_id or (expected_id(output, "cases") if output else None)
              or "scoresheet", "process": loaded.model.id, "constructed": False,
              "panel": [{"id": m, "role": role} for m, role in members]}
    return ratings_import.import_ratings(catalog, path, shown, output, None, header)


def _process_path(catalog: Catalog, process: str) -> Path:
    """PROCESS names a selection process file, or gives its id under criteria/."""
    given = file_status(Path(process))
    if given == REGULAR:
        return Path(process)
    if not _PATH_ID.fullmatch(process):  # not an id, so a path that cannot be read
        if given == MISSING:
            raise _unknown_process(catalog, process)
        raise option_error("PROCESS", f"cannot read {process}: {given}", "check the path", "E100")
    if id_length_problem(process):
        raise option_error("PROCESS", id_length_problem(process), "give the id of a selection process", "E113")
    return file_of_kind(catalog.path_of(process), process, "PROCESS", "selection_process", "selection process",
                        lambda: _unknown_process(catalog, process), "give the id of a selection process")


def _unknown_process(catalog: Catalog, process: str) -> DiagnosticError:
    return option_error("PROCESS", f"unknown selection process '{process}'",
                        suggest(process, catalog.ids_of_kind("selection_process")), "E120")


def _people_problems(candidates: list[str], panel: list[str]) -> list[Diagnostic]:
    """Candidates' and members' ids are written into the sheet, so they must be ids it accepts."""
    names = candidates + [p.partition(":")[0] for p in panel]
    bad = [name for name in names if _not_an_id(name, _ID)]
    if bad or not candidates or not panel or len(set(candidates)) < len(candidates):
        return option_error("--candidates/--panel",
                            f"ids must be unique, lowercase letters, digits, '-' or '_', at most {ID_MAX_LENGTH} "
                            f"characters: {', '.join(_clipped(name) for name in bad) or 'duplicate or none given'}",
                            "e.g. --candidates cand-a,cand-b --panel pcc:chair,cummins:independent",
                            "E113").diagnostics
    return []


def _sheet_id_problems(sheet_id: str | None) -> list[Diagnostic]:
    """--id is written into the sheet as its id, so it must be a path id, or the sheet would not load."""
    problem = _not_an_id(sheet_id, _PATH_ID) if sheet_id is not None else None
    return option_error("--id", problem, "e.g. --id mine/selection", "E113").diagnostics if problem else []


def _not_an_id(text: str, form: re.Pattern) -> str | None:
    """Why text cannot be an id of this form (too long, or other characters); None when it can."""
    if not form.fullmatch(text):
        return f"'{_clipped(text)}' is not an id: lowercase letters, digits, '-' and '_', parts separated by '/'"
    return id_length_problem(text)


def _clipped(text: str, limit: int = 40) -> str:
    return text if len(text) <= limit else text[:limit] + "..."


def score_file(path: Path, catalog: Catalog, recorded: Optional[RecordedInput] = None) -> Scored:
    """One evidence file scored; a case with the decisions it takes sub-area grades from
    decided first (recorded looks up the ledger's decisions)."""
    [(_, result, problems)] = score_each([path], catalog, recorded)
    _raise_if(problems)
    return result


def score_data(data: Any, catalog: Catalog, name: str = "evidence", recorded: Optional[RecordedInput] = None) -> Scored:
    """Evidence handed over in code: the data a case or appointment evidence file holds."""
    doc = from_data(data, name)
    kind = doc.data.get("arbiter") if isinstance(doc.data, dict) else None
    if kind not in CASE_KINDS:
        raise DiagnosticError(list(doc.problems) + [doc.diag(("arbiter",), "E114", f"{name} is not a case: it declares "
                                                             f"arbiter: {kind!r}", _CASE_HINT)])
    if kind == PACK_KIND:
        from ..appointments.pack import read_pack
        return _pack_scored(Path(name), read_pack(doc, catalog), {})
    if kind != "case":
        from ..appointments.appointments import read_evidence
        return _scored(Path(name), read_evidence(doc, catalog))
    loaded = read_case(doc, catalog)
    scored, outcome = _decide_cases({loaded.case.id: (Path(name), loaded)}, catalog, recorded)
    _raise_if(outcome.problems_of(loaded.case.id))
    return scored[loaded.case.id]


def _scored(path: Path, loaded: LoadedEvidence) -> Scored:
    """Decide appointment evidence, then build the records from the decision."""
    from ..appointments.appointment_record import expectation as appointment_expectation
    from ..appointments.appointment_record import records_for, render
    from ..appointments.appointments import decide

    records = records_for(loaded, decide(loaded))
    expected, actual, met = appointment_expectation(loaded, records)
    return Scored(path, loaded.kind, records, expected, actual, met, partial(render, loaded, records), loaded)


def _pack_scored(path: Path, loaded: LoadedPack, scored: dict[Path, Scored]) -> Scored:
    """Decide a pack's three evidence records (each once in a run: those scored already are
    taken as they are), then the pack on their records."""
    from ..appointments import pack as packs

    inputs = tuple(scored.get(file_key(file)) or _scored(file, evidence) for file, evidence in loaded.inputs.values())
    records = packs.pack_records(loaded.pack, loaded.compiled, packs.decision_inputs(
        {field: result.records for field, result in zip(loaded.inputs, inputs)}))
    expected, actual, met = packs.expectation(loaded.pack, records)
    return Scored(path, packs.KIND, records, expected, actual, met, partial(packs.render, records), loaded, inputs)


def _case_scored(path: Path, decided: Decided, inputs: tuple[Scored, ...]) -> Scored:
    """A case decided (its inputs substituted), as a result with its expectation."""
    record = decided.record
    outcome = expectation(decided.loaded, record)
    return Scored(path, "case", [record], outcome.expected or "", outcome.actual, outcome.met,
                  partial(render_text, record), decided.loaded, inputs)


def score_each(paths: list[Path], catalog: Catalog,
               recorded: Optional[RecordedInput] = None) -> list[tuple[Path, Optional[Scored], list[Diagnostic]]]:
    """Each evidence file scored, in the order given, or its problems. Cases are decided
    together as one graph of decisions feeding decisions: each once, inputs first, however
    many it feeds and in whatever order the files come."""
    return decide_read(read_each(paths, catalog), catalog, recorded)


def read_each(paths: list[Path], catalog: Catalog) -> list[tuple[Path, Any, list[Diagnostic]]]:
    """Each evidence file loaded and checked, in the order given: a case or a pack as loaded
    (decided by `decide_read`), other appointment evidence already scored, or its problems."""
    read: list[tuple[Path, Any, list[Diagnostic]]] = []
    for path in paths:
        try:
            kind = evidence_kind(path, "only cases and appointment evidence are scored")
            if kind == PACK_KIND:
                from ..appointments.pack import load_pack
                read.append((path, _every_problem_at_once(path, kind, catalog, load_pack), []))
            elif kind == "case":
                read.append((path, _every_problem_at_once(path, kind, catalog, load_case), []))
            else:
                from ..appointments.appointments import load_evidence
                read.append((path, _scored(path, _every_problem_at_once(path, kind, catalog, load_evidence)), []))
        except DiagnosticError as error:
            read.append((path, None, error.diagnostics))
    return read


def decide_read(read: list[tuple[Path, Any, list[Diagnostic]]], catalog: Catalog,
                recorded: Optional[RecordedInput] = None) -> list[tuple[Path, Optional[Scored], list[Diagnostic]]]:
    """The files `read_each` read, scored: the cases as one graph, then the packs."""
    cases = {item.case.id: (path, item) for path, item, _ in read if isinstance(item, LoadedCase)}
    scored, outcome = _decide_cases(cases, catalog, recorded)
    read = _packs_decided(read)
    return [(path, scored.get(item.case.id), outcome.problems_of(item.case.id)) if isinstance(item, LoadedCase)
            else (path, item, problems) for path, item, problems in read]


def _packs_decided(read: list[tuple[Path, Any, list[Diagnostic]]]) -> list[tuple[Path, Any, list[Diagnostic]]]:
    """Each pack decided after the evidence of the run, on the same decisions of the files it
    names where the run scored them too."""
    if not any(is_pack(item) for _, item, _ in read):
        return read
    scored = {file_key(path): item for path, item, _ in read if isinstance(item, Scored)}
    return [(path, _pack_scored(path, item, scored), problems) if is_pack(item)
            else (path, item, problems) for path, item, problems in read]


def is_pack(item: Any) -> bool:
    """Whether `read_each` read this item as a pack. What else it reads is a case, a result or
    nothing, so the pack part is imported only for a run that read something else."""
    if item is None or isinstance(item, (LoadedCase, Scored)):
        return False
    from ..appointments.pack import LoadedPack
    return isinstance(item, LoadedPack)


def file_key(path: Path) -> str:
    """The file a path names, however it was written (every path here was read already)."""
    return os.path.realpath(path)


def _decide_cases(cases: dict[str, tuple[Path, LoadedCase]], catalog: Catalog,
                  recorded: Optional[RecordedInput]) -> tuple[dict[str, Scored], GraphOutcome]:
    """The cases and every case they take a grade from, decided inputs first; an input not
    given is read from cases/ by its id."""
    outcome = decide_graph({case_id: loaded for case_id, (_, loaded) in cases.items()}, catalog, load_case, score,
                           recorded)
    scored: dict[str, Scored] = {}
    for case_id, decided in outcome.decided.items():
        path = cases[case_id][0] if case_id in cases else case_path(catalog, case_id)
        inputs = tuple(scored[d.loaded.case.id] for d in outcome.inputs_of(case_id))
        scored[case_id] = _case_scored(path, decided, inputs)
    return scored, outcome


def _every_problem_at_once(path: Path, kind: str, catalog: Catalog, load: Callable):
    """Load an evidence file; when it does not load, its cross-reference problems come with its
    shape problems, as `validate` reports them."""
    try:
        return load(path, catalog)
    except DiagnosticError as error:
        raise _with_cross_checks(error, path, kind, catalog) from None


def score_paths(paths: list[Path], catalog: Catalog,
                recorded: Optional[RecordedInput] = None) -> tuple[list[Scored], list[Diagnostic]]:
    """Every evidence file below paths scored, and the problems of those that could not be.
    A case's inputs come just before the first case that takes a grade from them, once."""
    return gather_scored(score_each(case_files(paths), catalog, recorded))


def gather_scored(scored_files: list[tuple[Path, Optional[Scored], list[Diagnostic]]]
                  ) -> tuple[list[Scored], list[Diagnostic]]:
    """The results of `score_each` in order, each decision once (inputs before the first case
    that needs them), and every problem, sorted."""
    results: list[Scored] = []
    listed: set[int] = set()  # ids of the results listed, which stay alive in results: one look-up per result
    problems: list[Diagnostic] = []
    for _, result, found in scored_files:
        problems += found
        for each in (result.inputs + (result,)) if result else ():
            if id(each) not in listed:
                listed.add(id(each))
                results.append(each)
    return results, sorted_unique(problems)


@dataclass(frozen=True)
class TestResult:
    name: str
    expected: str
    actual: str
    passed: bool
    detail: str = ""
    published: Optional["PublishedGrade"] = None  # when the case reproduces a grade an inspectorate published


@dataclass(frozen=True)
class PublishedGrade:
    """A grade published in a report, as a case reproduces it: by the rules alone, only by the
    published grade recorded as a judgement (`override:`), or not at all."""

    criteria_set: str
    source: str  # where the grade is published
    grade: str
    computed: str  # what the rules gave
    by: str  # "rules", "judgement" or "missed"


@dataclass(frozen=True)
class Reproduction:
    reproduced: int  # by the rules alone
    by_judgement: int  # only by the published grade recorded as a judgement
    published: int  # distinct published grades among the cases run

    def describe(self) -> str:
        return (f"{self.reproduced} of {self.published} published grades reproduced by the rules, "
                f"{self.by_judgement} only by recorded judgement")


def reproduction(results: list[TestResult]) -> Reproduction:
    """How many of the published grades among the cases run the rules reproduce. A grade is
    counted once however many cases reproduce it (Kent's 2007 areas are also in the national set)."""
    grades = {(g.criteria_set, g.source): g for g in (r.published for r in results) if g is not None}
    by = Counter(g.by for g in grades.values())
    return Reproduction(by["rules"], by["judgement"], len(grades))


def published_grade(result: Scored) -> Optional[PublishedGrade]:
    """A case reproduces a published grade when its evidence is read from a report
    (constructed: false) and its expectation cites where the grade is published; not graded
    is no grade."""
    source = published_source(result)
    if source is None:
        return None
    case = result.source.case
    record = result.records[0]
    grade, computed = case.expect.outcome, record["computed_outcome"]
    by = "rules" if computed == grade else ("judgement" if record["outcome"] == grade else "missed")
    return PublishedGrade(record["criteria_set"], case.expect.source, grade, computed, by)


def published_source(result: Scored) -> Optional[str]:
    """Where the grade a case reproduces is published, when it reproduces one (as above)."""
    return cited_publication(result.source.case) if result.kind == "case" else None


def cited_publication(case: Any) -> Optional[str]:
    """Where the grade an inspection case's expectation cites is published: only for evidence
    read from a report (constructed: false), and not graded is no grade."""
    if case.constructed or case.expect is None or case.expect.source is None \
            or case.expect.outcome == NOT_GRADED:
        return None
    return case.expect.source


def run_tests(paths: list[Path], catalog: Catalog, update: bool = False) -> list[TestResult]:
    """Run cases found below folders, and files named directly, which must be cases (or
    examples under invalid/): a file that is no test is refused, never counted as none."""
    return run_test_files(files_to_test(paths), catalog, update)


def run_test_files(tests: list[Path], catalog: Catalog, update: bool = False) -> list[TestResult]:
    """Each file `files_to_test` found run, in order; the cases scored together, as one graph."""
    scored = {path: (result, problems) for path, result, problems
              in score_each([path for path in tests if "invalid" not in path.parts], catalog)}
    return [result_of_test(path, *scored.get(path, (None, [])), catalog, update) for path in tests]


def files_to_test(paths: list[Path]) -> list[Path]:
    """The files `run_tests` runs, in order: cases below the folders, and every file named."""
    named = [path for path in paths if not path.is_dir()]
    _raise_if([problem for path in named for problem in _not_a_test(path)])
    tests = [path for path in yaml_files(paths)
             if path in named or "invalid" in path.parts or declared_kind(path) in CASE_KINDS]
    _refuse_empty([folder for folder in paths if folder.is_dir()
                   and not any(folder in test.parents for test in tests)],
                  "cases and no invalid/ examples")
    return tests


def result_of_test(path: Path, result: Optional[Scored], problems: list[Diagnostic], catalog: Catalog,
                   update: bool) -> TestResult:
    """One file run: an example under invalid/ against its golden diagnostics, a case (scored
    as result, or its problems) against its expectation and the oracle."""
    name = _name(path, catalog)
    if "invalid" in path.parts:
        return _test_invalid(path, name, catalog, update)
    return _test_case(name, result, problems, catalog)


def _not_a_test(path: Path) -> list[Diagnostic]:
    """Why a file named to arbiter test cannot be run, or nothing."""
    try:
        if "invalid" in path.parts:
            _require_regular_file(path)
        else:
            evidence_kind(path, "arbiter test runs cases")
    except DiagnosticError as error:
        return error.diagnostics
    return []


def _require_regular_file(path: Path) -> None:
    """An invalid example must at least be a regular file: its problems are the test."""
    if not is_regular_file(path):
        load_file(path)  # says why it cannot be read


def _name(path: Path, catalog: Catalog) -> str:
    try:
        return real_path(path).relative_to(real_path(catalog.root)).as_posix()
    except ValueError:
        return str(path)


def _test_case(name: str, result: Optional[Scored], problems: list[Diagnostic], catalog: Catalog) -> TestResult:
    """A case scored (with the decisions it takes grades from) against its expectation, and
    every one of those decisions against the oracle."""
    if result is None or problems:
        return TestResult(name, "valid", "invalid", False, render_rebased(problems, catalog))
    disagreement = next(filter(None, (oracle_disagrees(each, catalog) for each in result.inputs + (result,))), "")
    has_expectation = bool(result.expected)
    passed = has_expectation and result.met and not disagreement
    detail = disagreement or ("" if passed else _explain_miss(result, has_expectation))
    return TestResult(name, result.expected or "(none)", result.actual, passed, detail, published_grade(result))


def _explain_miss(result: Scored, has_expectation: bool) -> str:
    if not has_expectation:
        return "the case has no expect: block"
    return result.render("fails", False)


def oracle_disagrees(result: Scored, catalog: Catalog) -> str:
    """'' when the pure-Python oracle reaches the same decisions as durable-rules. The oracle
    reads the criteria files themselves, never what they were compiled to."""
    if result.kind == "case":
        from ..oracle import reference  # only `arbiter test` asks the oracle

        case = result.source.case
        return engines_disagree(result.records[0], reference.evaluate(load_criteria(catalog, case.criteria), case))
    if result.kind == PACK_KIND:
        return pack_disagreement(result.source, result.records[-1])
    return appointment_disagreement(result.source, result.records)


def pack_disagreement(loaded: LoadedPack, record: dict[str, Any]) -> str:
    """'' when the oracle, deciding the three evidence records itself, reaches the pack's checks
    and outcome as durable-rules did."""
    from ..oracle import pack_reference

    evidence = {field: each for field, (_, each) in loaded.inputs.items()}
    selection, compliance, hearing = evidence["selection"], evidence["compliance"], evidence["hearing"]
    answer = pack_reference.pack(selection.rules.model, selection.evidence, compliance.rules.model,
                                 compliance.evidence, hearing.rules.model, hearing.evidence)
    durable_view = ({c["check"]: c["holds"] for c in record["checks"]}, record["outcome"])
    if durable_view != (answer.passed, answer.outcome):
        return (f"durable-rules and the oracle disagree:\n  durable-rules: {durable_view}\n"
                f"  oracle:        {(answer.passed, answer.outcome)}")
    return ""


def appointment_disagreement(loaded: LoadedEvidence, records: list[dict[str, Any]]) -> str:
    from ..oracle import appointment_reference

    final = records[-1]
    if loaded.kind == "appointment":
        answer = appointment_reference.selection(loaded.rules.model, loaded.evidence)
        durable_view = ({c["candidate"]: c["gates"] == "pass" for c in final["candidates"]},
                        {c["candidate"]: c["total"] for c in final["candidates"]},
                        {c["candidate"]: c["rank"] for c in final["candidates"]},
                        final["outcome"], final["preferred"], tuple(final["tied"]),
                        tuple(c["candidate"] for c in final["candidates"] if c["gates"] == "pending"))
        oracle_view = (answer.passed, answer.totals, answer.ranks, answer.outcome, answer.preferred, answer.tied,
                       answer.pending)
    elif loaded.kind == "hearing":
        durable_view = (final["outcome"], final["votes_needed"])
        oracle_view = astuple(appointment_reference.hearing(loaded.rules.model, loaded.evidence))
    else:
        durable_view = {r["requirement"]: r["met"] for r in final["requirements"]}
        oracle_view = appointment_reference.compliance(loaded.rules.model, loaded.evidence)
    if durable_view != oracle_view:
        return f"durable-rules and the oracle disagree:\n  durable-rules: {durable_view}\n  oracle:        {oracle_view}"
    return ""


def engines_disagree(record: dict[str, Any], oracle: reference.OracleResult) -> str:
    """'' when durable-rules and the oracle reach the same decision: what the oracle can know
    without the compiled plan (the outcomes, the deciding level, the limiter and floor by their
    ids, and what each condition observed), compared with what the record states."""
    stated = [
        ("outcome", record["outcome"], oracle.outcome),
        ("uncapped outcome", record["uncapped_outcome"], oracle.uncapped),
        ("outcome before any recorded judgement", record["computed_outcome"], oracle.computed),
        ("deciding rule", record["decided_by"]["rule"], oracle.rule),
        ("limiters that hold", tuple(x["id"] for x in record.get("limiters") or ()), oracle.holding),
        ("absolute limiter overruling the judgement", (record.get("overruled_by") or {}).get("id"),
         oracle.overruled_by),
        ("limiter", (record["limiter"] or {}).get("id"), oracle.limiter),
        ("floor", (record["floor"] or {}).get("id"), oracle.floor),
    ]
    differences = [f"{what}: durable-rules {ours!r}, oracle {theirs!r}" for what, ours, theirs in stated
                   if ours != theirs]
    differences += _conditions_differ("conditions of the deciding rule", record["decided_by"]["conditions"],
                                      oracle.deciding)
    differences += _conditions_differ("conditions", record["tallies"], oracle.observations)
    if differences:
        return "durable-rules and the oracle disagree:\n" + "\n".join(f"  {line}" for line in differences)
    return ""


def _conditions_differ(what: str, stated: list[dict[str, Any]],
                       observed: tuple[reference.Observation, ...]) -> list[str]:
    """Compare (observed, of, holds) as sets: the compiled plan writes a condition repeated in
    several rules once, the framework as often as it is written."""
    ours: dict[tuple, list[str]] = {}
    for condition in stated:
        ours.setdefault((condition["observed"], condition["of"], condition["holds"]), []).append(condition["text"])
    theirs: dict[tuple, list[str]] = {}
    for observation in observed:
        theirs.setdefault(_in_record_terms(observation), []).append(observation.describe())
    only_ours = [text for key, texts in ours.items() if key not in theirs for text in texts]
    only_theirs = [text for key, texts in theirs.items() if key not in ours for text in texts]
    found = []
    if only_ours:
        found.append(f"{what} durable-rules states, which the oracle does not observe (the same count and verdict): "
                     f"{only_ours}")
    if only_theirs:
        found.append(f"{what} the oracle observes, which durable-rules does not state: {only_theirs}")
    return found


def _in_record_terms(observation: reference.Observation) -> tuple[int, int, bool]:
    """An observation as a record states a condition: the worst or best grade of no counted
    sub-area is -1, and a count with nothing to range over (causes of concern) is 'of 0'."""
    observed = -1 if observation.observed is None else observation.observed
    return observed, observation.total or 0, observation.holds


def _test_invalid(path: Path, name: str, catalog: Catalog, update: bool) -> TestResult:
    try:
        validate_file(path, catalog)
        actual = ""
    except DiagnosticError as error:
        actual = render_rebased(error.diagnostics, catalog)
    try:
        return _against_golden(path, name, actual, update)
    except DiagnosticError as error:  # the golden file itself cannot be read or written
        return TestResult(name, "diagnostics", _codes(actual) or "valid", False,
                          render_rebased(error.diagnostics, catalog))


def _against_golden(path: Path, name: str, actual: str, update: bool) -> TestResult:
    golden = path.with_suffix(EXPECTED_SUFFIX)
    if file_status(golden) == MISSING:
        if not actual:
            return TestResult(name, "diagnostics", "valid", False,
                              "the file is valid, but a file under invalid/ must produce diagnostics")
        if update:
            write_new_file(golden, actual + "\n", "--update")
            return TestResult(name, "(written)", _codes(actual), True)
        return TestResult(name, "diagnostics", _codes(actual), False,
                          f"no {golden.name}; run 'arbiter test --update' to write it, then review it")
    expected = read_source(golden, display_path(golden)).decode("utf-8", errors="replace").rstrip("\n")
    passed = bool(actual) and actual == expected
    detail = "" if passed else f"expected:\n{expected}\nactual:\n{actual or '(no diagnostics)'}"
    return TestResult(name, _codes(expected), _codes(actual) or "valid", passed, detail)


def _codes(rendered: str) -> str:
    codes = [line.split(" error ")[1].split(":")[0] for line in rendered.splitlines() if " error " in line]
    return " ".join(dict.fromkeys(codes))


def render_rebased(diagnostics: list[Diagnostic], catalog: Catalog) -> str:
    """Diagnostics rendered with paths relative to the project root, for golden files."""
    root = real_path(catalog.root)
    rebased = []
    for d in sorted_unique(diagnostics):
        path = Path(d.path)
        absolute = path if path.is_absolute() else (Path.cwd() / path)
        try:
            shown = real_path(absolute).relative_to(root).as_posix()
        except ValueError:
            shown = d.path
        rebased.append(Diagnostic(shown, d.line, d.col, d.code, d.message, d.suggestion))
    return "\n".join(d.render() for d in rebased)
