"""Compare and summarise inspection decisions, never across frameworks that cannot be compared.

A grade means something only within its framework (its scale, its criteria, its cycle).
`compare` looks at two decisions: under one framework it says how far apart they are;
under two it needs a mapping declared in a framework's `comparability:`, and otherwise
refuses, quoting what the frameworks say about comparison. `summary` counts outcomes per
area, one table per framework: distributions are never merged across frameworks.
"""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .catalog import Catalog
from .compile import compile_set
from .diagnostics import Diagnostic, DiagnosticError
from .models import NOT_GRADED, UNDECIDED


def read_decisions(paths: list[Path], catalog: Catalog, score) -> list[dict[str, Any]]:
    """Decision records from JSON Lines files, or by scoring case files and folders."""
    records: list[dict[str, Any]] = []
    cases: list[Path] = []
    for path in paths:
        if path.suffix in (".jsonl", ".json"):
            records += _json_lines(path)
        else:
            cases.append(path)
    if cases:
        results, problems = score(cases, catalog)
        if problems:
            raise DiagnosticError(problems)
        records += [r for result in results for r in result.records]
    return records


def main_decision(records: list[dict[str, Any]]) -> dict[str, Any]:
    """The decision a file stands for: its last record (a selection's is the process's)."""
    if not records:
        raise DiagnosticError([Diagnostic("compare", 0, 0, "E160", "no decision to compare in that file",
                                          "give a case file or a JSON Lines decision file")])
    return records[-1]


def _json_lines(path: Path) -> list[dict[str, Any]]:
    records = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        try:
            records.append(json.loads(line))
        except json.JSONDecodeError as error:
            raise DiagnosticError([Diagnostic(str(path), number, error.colno, "E103",
                                              f"not a JSON decision record: {error.msg}",
                                              "give one decision record per line, as `arbiter score --format json` writes")]) from None
    return records


@dataclass(frozen=True)
class Distribution:
    framework: str
    columns: list[str]  # level labels in scale order, then any other outcomes
    rows: list[tuple[str, list[int], int]]  # (area, counts per column, total)


def summary(records: list[dict[str, Any]], catalog: Catalog) -> list[Distribution]:
    """Outcome counts per area, one distribution per framework, in the scale's order."""
    by_framework: dict[str, dict[str, Counter]] = defaultdict(lambda: defaultdict(Counter))
    titles: dict[str, str] = {}
    for record in records:
        if "criteria_set" not in record:  # appointment decisions have no area to count
            continue
        by_framework[record["framework"]][record["criteria_set"]][record["outcome"]] += 1
        titles[record["criteria_set"]] = record["area"]
    distributions = []
    for framework in sorted(by_framework):
        areas = by_framework[framework]
        plan = compile_set(catalog, next(iter(areas))).plan
        ids = [lv.id for lv in plan.levels]
        labels = [lv.label for lv in plan.levels]
        others = sorted({o for counts in areas.values() for o in counts} - set(ids))
        names = {UNDECIDED: "Professional judgement required", NOT_GRADED: "Not graded"}
        rows = []
        for set_id in sorted(areas):
            counts = [areas[set_id][level] for level in ids + others]
            rows.append((titles[set_id], counts, sum(counts)))
        distributions.append(Distribution(framework, labels + [names.get(o, o) for o in others], rows))
    return distributions


@dataclass(frozen=True)
class Comparison:
    first: dict[str, Any]
    second: dict[str, Any]
    mapping: str  # how the second's grade was read on the first's scale
    difference: int  # levels the second is above (+) or below (-) the first
    text: str


def compare(first: dict[str, Any], second: dict[str, Any], catalog: Catalog) -> Comparison:
    for record in (first, second):
        if record["outcome"] in (UNDECIDED, NOT_GRADED) or "criteria_set" not in record:
            raise _refuse(f"'{record['case']}' has no grade to compare ({record['outcome_label']})",
                          "compare two graded decisions")
    ranks = {lv.id: lv.rank for lv in compile_set(catalog, first["criteria_set"]).plan.levels}
    second_on_first, mapping = _read_on_scale(first, second, catalog)
    difference = ranks[first["outcome"]] - ranks[second_on_first]
    direction = "the same grade" if difference == 0 else (
        f"{abs(difference)} level{'s' if abs(difference) != 1 else ''} {'higher' if difference > 0 else 'lower'}")
    text = (f"{second['case']} ({second['outcome_label']}, {second['framework']}) is {direction} than "
            f"{first['case']} ({first['outcome_label']}, {first['framework']})")
    return Comparison(first, second, mapping, difference, text if difference else text.replace(" than ", " as "))


def _read_on_scale(first: dict[str, Any], second: dict[str, Any], catalog: Catalog) -> tuple[str, str]:
    if first["framework"] == second["framework"]:
        return second["outcome"], "same framework"
    ours, theirs = _comparability(first["framework"], catalog), _comparability(second["framework"], catalog)
    mapping = (ours.comparable_with.get(second["framework"]) if ours else None)
    if mapping is not None and second["outcome"] in mapping:
        return mapping[second["outcome"]], f"mapping declared by {first['framework']}"
    reverse = (theirs.comparable_with.get(first["framework"]) if theirs else None)
    if reverse is not None:
        back = {v: k for k, v in reverse.items()}
        if second["outcome"] in back:
            return back[second["outcome"]], f"mapping declared by {second['framework']}"
    statements = [f"{fw}: {c.statement.strip()} ({c.source})" for fw, c in
                  ((first["framework"], ours), (second["framework"], theirs)) if c is not None]
    raise _refuse(f"grades under '{first['framework']}' and '{second['framework']}' cannot be compared: no mapping "
                  f"between them is declared. " + " ".join(statements),
                  "compare decisions under one framework, or declare a mapping under comparability: in a framework")


def _comparability(framework_id: str, catalog: Catalog):
    return catalog.load(catalog.framework_path(framework_id), "framework").model.comparability


def _refuse(message: str, hint: str) -> DiagnosticError:
    return DiagnosticError([Diagnostic("compare", 0, 0, "E160", message, hint)])
