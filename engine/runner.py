"""Runner: the library calls behind each CLI command, returning data for the CLI to render.

Files are dispatched by the kind they declare: inspection cases go through `cases`,
the appointment evidence kinds through `appointments`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

from . import appointment_reference, reference
from .appointment_check import check_cvf
from .appointment_record import expectation as appointment_expectation
from .appointment_record import records_for, render
from .appointments import EVIDENCE_KINDS, RULE_KINDS, LoadedEvidence, compile_rules, load_evidence, load_reference
from .cases import expectation, load_case, score
from .catalog import Catalog, declared_kind, expected_id
from .check import check_framework, check_scale
from .compile import compile_criteria, compile_set, load_criteria, load_scale, write_all
from .diagnostics import Diagnostic, DiagnosticError, sorted_unique, suggest
from .explain import render_text
from .load import load_file
from .scoresheet import parse_panel, scoresheet
from .validate import file_kind

_ID = re.compile(r"[a-z0-9][a-z0-9_-]*")

EXPECTED_SUFFIX = ".expected"
CASE_KINDS = ("case",) + EVIDENCE_KINDS


@dataclass(frozen=True)
class CaseResult:
    """One scored evidence file: its decision records and how they compare with its expectation."""

    path: Path
    kind: str  # "case" (an inspection area) or an appointment evidence kind
    records: list[dict[str, Any]]
    expected: str  # '' when the file states no expectation
    actual: str
    met: bool
    render: Callable[[str, bool], str]  # (explain mode, markdown) -> text
    source: Any  # the loaded case or evidence, for the oracle


def yaml_files(paths: list[Path]) -> list[Path]:
    found: list[Path] = []
    for path in paths:
        found += sorted(path.rglob("*.yaml")) if path.is_dir() else [path]
    return found


def case_files(paths: list[Path]) -> list[Path]:
    """Evidence files named directly, or found below folders (skipping invalid/ there)."""
    found: list[Path] = []
    for path in paths:
        if path.is_dir():
            found += [p for p in sorted(path.rglob("*.yaml"))
                      if "invalid" not in p.relative_to(path).parts and declared_kind(p) in CASE_KINDS]
        else:
            found.append(path)
    return found


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
    kind = file_kind(load_file(path))
    if kind == "case":
        load_case(path, catalog)
    elif kind in EVIDENCE_KINDS:
        load_evidence(path, catalog)
    elif kind in RULE_KINDS:
        compile_rules(catalog, catalog.load(path, kind))
    elif kind == "criteria":
        compile_criteria(load_criteria(catalog, catalog.load(path, kind).model.id, path))
    else:
        loaded = catalog.load(path, kind)
        _raise_if(_standalone_checks(catalog, kind, loaded))


def _standalone_checks(catalog: Catalog, kind: str, loaded) -> list[Diagnostic]:
    if kind == "framework":
        scale = load_scale(catalog, loaded)
        return check_scale(scale.model, scale.doc) + check_framework(loaded.model, loaded.doc, scale.model)
    if kind == "competency_framework":
        return check_cvf(loaded.model, loaded.doc)
    return check_scale(loaded.model, loaded.doc)


def _raise_if(problems: list[Diagnostic]) -> None:
    if problems:
        raise DiagnosticError(problems)


def compilers(catalog: Catalog) -> list[tuple[str, Callable]]:
    """Everything under criteria/ that compiles to rules/, by id."""
    found: list[tuple[str, Callable]] = [(s, lambda s=s: compile_set(catalog, s)) for s in catalog.criteria_set_ids()]
    for kind in RULE_KINDS:
        found += [(i, lambda i=i, k=kind: compile_rules(catalog, catalog.load(catalog.path_of(i), k)))
                  for i in catalog.ids_of_kind(kind)]
    return found


def compile_all(catalog: Catalog, check_only: bool) -> tuple[list[str], list[Diagnostic], int]:
    to_compile = compilers(catalog)
    changed, problems = write_all(catalog, check_only, to_compile)
    return changed, problems, len(to_compile)


def make_scoresheet(catalog: Catalog, process: str, candidates: list[str], panel: list[str],
                    sheet_id: str | None, output: Path | None) -> str:
    """A blank appointment file for a process given by id (or path)."""
    path = Path(process) if Path(process).is_file() else catalog.path_of(process)
    if not path.is_file():
        raise DiagnosticError([Diagnostic(process, 0, 0, "E120", f"unknown selection process '{process}'",
                                          suggest(process, catalog.ids_of_kind("selection_process")))])
    loaded = catalog.load(path, "selection_process")
    compile_rules(catalog, loaded)  # the process must be valid before a sheet is made from it
    cvf = load_reference(catalog, loaded, "competency_framework", "competency_framework")
    bad = [name for name in candidates + [p.partition(":")[0] for p in panel] if not _ID.fullmatch(name)]
    if bad or not candidates or not panel or len(set(candidates)) < len(candidates):
        raise DiagnosticError([Diagnostic("--candidates/--panel", 0, 0, "E113",
                                          f"ids must be unique, lowercase letters, digits, '-' or '_': {', '.join(bad) or 'duplicate or none given'}",
                                          "e.g. --candidates cand-a,cand-b --panel pcc:chair,cummins:independent")])
    members = parse_panel(panel, loaded.model)
    if sheet_id is None:
        sheet_id = (expected_id(output, "cases") if output else None) or "scoresheet"
    return scoresheet(loaded.model, cvf.model, sheet_id, candidates, members)


def score_file(path: Path, catalog: Catalog) -> CaseResult:
    if declared_kind(path) in EVIDENCE_KINDS:
        loaded = load_evidence(path, catalog)
        records = records_for(loaded)
        expected, actual, met = appointment_expectation(loaded, records)
        return CaseResult(path, loaded.kind, records, expected, actual, met,
                          lambda mode, markdown: render(loaded, records, mode, markdown), loaded)
    case = load_case(path, catalog)
    record = score(case)
    outcome = expectation(case, record)
    return CaseResult(path, "case", [record], outcome.expected or "", outcome.actual, outcome.met,
                      lambda mode, markdown: render_text(record, mode, markdown), case)


def score_paths(paths: list[Path], catalog: Catalog) -> tuple[list[CaseResult], list[Diagnostic]]:
    results: list[CaseResult] = []
    problems: list[Diagnostic] = []
    for path in case_files(paths):
        try:
            results.append(score_file(path, catalog))
        except DiagnosticError as error:
            problems += error.diagnostics
    return results, sorted_unique(problems)


@dataclass(frozen=True)
class TestResult:
    name: str
    expected: str
    actual: str
    passed: bool
    detail: str = ""


def run_tests(paths: list[Path], catalog: Catalog, update: bool = False) -> list[TestResult]:
    results = []
    for path in yaml_files(paths):
        name = _name(path, catalog)
        if "invalid" in path.parts:
            results.append(_test_invalid(path, name, catalog, update))
        elif declared_kind(path) in CASE_KINDS:
            results.append(_test_case(path, name, catalog))
    return results


def _name(path: Path, catalog: Catalog) -> str:
    try:
        return path.resolve().relative_to(catalog.root.resolve()).as_posix()
    except ValueError:
        return str(path)


def _test_case(path: Path, name: str, catalog: Catalog) -> TestResult:
    try:
        result = score_file(path, catalog)
    except DiagnosticError as error:
        return TestResult(name, "valid", "invalid", False, render_rebased(error.diagnostics, catalog))
    disagreement = oracle_disagrees(result)
    has_expectation = bool(result.expected)
    passed = has_expectation and result.met and not disagreement
    detail = disagreement or ("" if passed else _explain_miss(result, has_expectation))
    return TestResult(name, result.expected or "(none)", result.actual, passed, detail)


def _explain_miss(result: CaseResult, has_expectation: bool) -> str:
    if not has_expectation:
        return "the case has no expect: block"
    return result.render("fails", False)


def oracle_disagrees(result: CaseResult) -> str:
    """'' when the pure-Python oracle reaches the same decisions as durable-rules."""
    if result.kind == "case":
        loaded = result.source
        return engines_disagree(result.records[0], reference.evaluate(loaded.compiled.plan, loaded.case))
    return appointment_disagreement(result.source, result.records)


def appointment_disagreement(loaded: LoadedEvidence, records: list[dict[str, Any]]) -> str:
    final = records[-1]
    if loaded.kind == "appointment":
        answer = appointment_reference.selection(loaded.rules.model, loaded.evidence)
        durable_view = ({c["candidate"]: c["gates"] == "pass" for c in final["candidates"]},
                        {c["candidate"]: c["total"] for c in final["candidates"]},
                        final["outcome"], final["preferred"], tuple(final["tied"]))
        oracle_view = (answer.passed, answer.totals, answer.outcome, answer.preferred, answer.tied)
    elif loaded.kind == "hearing":
        durable_view = final["outcome"]
        oracle_view = appointment_reference.hearing(loaded.rules.model, loaded.evidence)
    else:
        durable_view = {r["requirement"]: r["met"] for r in final["requirements"]}
        oracle_view = appointment_reference.compliance(loaded.rules.model, loaded.evidence)
    if durable_view != oracle_view:
        return f"durable-rules and the oracle disagree:\n  durable-rules: {durable_view}\n  oracle:        {oracle_view}"
    return ""


def engines_disagree(record: dict[str, Any], oracle: reference.OracleResult) -> str:
    """'' when durable-rules and the oracle fired the same rules on the same facts."""
    durable_trace = [(f["rule"], f["matched"]) for f in record["trace"]]
    if durable_trace != [(rule, matched) for rule, matched in oracle.firings] or \
            (record["outcome"], record["uncapped_outcome"]) != (oracle.outcome, oracle.uncapped):
        return (f"durable-rules and the oracle disagree:\n  durable-rules: {record['outcome']} via {durable_trace}\n"
                f"  oracle:        {oracle.outcome} via {list(oracle.firings)}")
    return ""


def _test_invalid(path: Path, name: str, catalog: Catalog, update: bool) -> TestResult:
    try:
        validate_file(path, catalog)
        actual = ""
    except DiagnosticError as error:
        actual = render_rebased(error.diagnostics, catalog)
    golden = path.with_suffix(EXPECTED_SUFFIX)
    if not golden.is_file():
        if not actual:
            return TestResult(name, "diagnostics", "valid", False,
                              "the file is valid, but a file under invalid/ must produce diagnostics")
        if update:
            golden.write_text(actual + "\n", encoding="utf-8")
            return TestResult(name, "(written)", _codes(actual), True)
        return TestResult(name, "diagnostics", _codes(actual), False,
                          f"no {golden.name}; run 'arbiter test --update' to write it, then review it")
    expected = golden.read_text(encoding="utf-8").rstrip("\n")
    passed = bool(actual) and actual == expected
    detail = "" if passed else f"expected:\n{expected}\nactual:\n{actual or '(no diagnostics)'}"
    return TestResult(name, _codes(expected), _codes(actual) or "valid", passed, detail)


def _codes(rendered: str) -> str:
    codes = [line.split(" error ")[1].split(":")[0] for line in rendered.splitlines() if " error " in line]
    return " ".join(dict.fromkeys(codes))


def render_rebased(diagnostics: list[Diagnostic], catalog: Catalog) -> str:
    """Diagnostics rendered with paths relative to the project root, for golden files."""
    root = catalog.root.resolve()
    rebased = []
    for d in sorted_unique(diagnostics):
        path = Path(d.path)
        absolute = path if path.is_absolute() else (Path.cwd() / path)
        try:
            shown = absolute.resolve().relative_to(root).as_posix()
        except ValueError:
            shown = d.path
        rebased.append(Diagnostic(shown, d.line, d.col, d.code, d.message, d.suggestion))
    return "\n".join(d.render() for d in rebased)
