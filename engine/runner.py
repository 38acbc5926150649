"""Runner: the library calls behind each CLI command, returning data for the CLI to render."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from . import reference
from .cases import Expectation, LoadedCase, case_files, expectation, load_case, score
from .catalog import Catalog
from .check import check_framework, check_scale
from .compile import compile_criteria, load_criteria, load_scale, write_all
from .diagnostics import Diagnostic, DiagnosticError, sorted_unique
from .explain import render_text
from .load import load_file
from .validate import file_kind

EXPECTED_SUFFIX = ".expected"


@dataclass(frozen=True)
class CaseResult:
    path: Path
    record: dict[str, Any]
    expectation: Expectation


def yaml_files(paths: list[Path]) -> list[Path]:
    found: list[Path] = []
    for path in paths:
        found += sorted(path.rglob("*.yaml")) if path.is_dir() else [path]
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
        return
    model = catalog.load(path, kind)
    if kind not in ("scale", "framework", "criteria"):
        return
    if kind == "criteria":
        compile_criteria(load_criteria(catalog, model.model.id, path))
    elif kind == "framework":
        scale = load_scale(catalog, model)
        problems = check_scale(scale.model, scale.doc) + check_framework(model.model, model.doc, scale.model)
        if problems:
            raise DiagnosticError(problems)
    else:
        problems = check_scale(model.model, model.doc)
        if problems:
            raise DiagnosticError(problems)


def compile_all(catalog: Catalog, check_only: bool) -> tuple[list[str], list[Diagnostic], int]:
    changed, problems = write_all(catalog, check_only)
    return changed, problems, len(catalog.criteria_set_ids())


def score_paths(paths: list[Path], catalog: Catalog) -> tuple[list[CaseResult], list[Diagnostic]]:
    results: list[CaseResult] = []
    problems: list[Diagnostic] = []
    for path in case_files(paths):
        try:
            loaded = load_case(path, catalog)
        except DiagnosticError as error:
            problems += error.diagnostics
            continue
        record = score(loaded)
        results.append(CaseResult(path, record, expectation(loaded, record)))
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
        else:
            results.append(_test_case(path, name, catalog))
    return results


def _name(path: Path, catalog: Catalog) -> str:
    try:
        return path.resolve().relative_to(catalog.root.resolve()).as_posix()
    except ValueError:
        return str(path)


def _test_case(path: Path, name: str, catalog: Catalog) -> TestResult:
    try:
        loaded = load_case(path, catalog)
    except DiagnosticError as error:
        return TestResult(name, "valid", "invalid", False, render_rebased(error.diagnostics, catalog))
    record = score(loaded)
    oracle = reference.evaluate(loaded.compiled.plan, loaded.case)
    expected = loaded.case.expect.outcome if loaded.case.expect else "(none)"
    disagreement = engines_disagree(record, oracle)
    passed = loaded.case.expect is not None and record["outcome"] == expected and not disagreement
    detail = disagreement or ("" if passed else _explain_miss(loaded, record))
    return TestResult(name, expected, record["outcome"], passed, detail)


def _explain_miss(loaded: LoadedCase, record: dict[str, Any]) -> str:
    if loaded.case.expect is None:
        return "the case has no expect: block"
    return render_text(record, "fails")


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
        if update and actual:
            golden.write_text(actual + "\n", encoding="utf-8")
            return TestResult(name, "(written)", _codes(actual), True)
        if not actual:
            return TestResult(name, "diagnostics", "valid", False,
                              "the file is valid, but a file under invalid/ must produce diagnostics")
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

