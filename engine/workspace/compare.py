"""Compare and summarise inspection decisions, never across frameworks that cannot be compared.

A grade means something only within its framework (its scale, its criteria, its cycle).
`compare` looks at two decisions: under one framework it says how far apart they are;
under two it needs a mapping declared in a framework's `comparability:`, and otherwise
refuses, quoting what the frameworks say about comparison. `summary` counts outcomes per
area, one table per framework: distributions are never merged across frameworks.

Decisions come from case files, scored on the spot, or from JSON Lines files written by
`arbiter score --format json`. A JSON Lines file is data from outside, however it looks:
each line is bounded in length and nesting before it is parsed (json.loads recurses once
per level), checked against the record's model (language/decision_model.py), and its ids checked
against the catalog before any file is looked up by them. Every problem is located at its
line and column, and all of a file's problems are reported at once.
"""

from __future__ import annotations

import json
import re
from collections import Counter, defaultdict
from dataclasses import dataclass
from itertools import accumulate, count
from pathlib import Path
from typing import Any, BinaryIO, Iterator, Optional

from ..compiler.compile import compile_set
from ..language.catalog import Catalog, declared_kind
from ..language.decision_model import RULES_KIND, Problem, record_problems, shown
from ..language.diagnostics import Diagnostic, DiagnosticError, suggest
from ..language.load import display_path, open_regular_file
from ..language.models import NOT_GRADED, UNDECIDED
from .runner import CASE_KINDS

JSON_LINES_SUFFIXES = (".jsonl", ".json")
MAX_RECORD_BYTES = 1024 * 1024  # the largest record the project writes is about 13 KB
MAX_NESTING = 32  # the records Arbiter writes nest 5 deep
SPECIAL_OUTCOMES = (UNDECIDED, NOT_GRADED)  # outcomes of every framework, besides its levels
OUTCOME_FIELDS = ("outcome", "uncapped_outcome", "computed_outcome")
ONE_PER_LINE = "give one decision record per line, as `arbiter score --format json` writes"


@dataclass(frozen=True)
class Decision:
    """A decision record and where it came from, so that a refusal can point at it."""

    record: dict[str, Any]
    path: str  # as shown to the user
    line: int = 0  # its line in a JSON Lines file; 0 for a decision scored from a case file

    def refusal(self, message: str, hint: str) -> Diagnostic:
        return Diagnostic(self.path, self.line, 1 if self.line else 0, "E160", message, hint)


def read_decisions(paths: list[Path], catalog: Catalog, score) -> list[Decision]:
    """Decisions from JSON Lines files, or by scoring case files and folders; the problems
    of every file at once."""
    decisions: list[Decision] = []
    problems: list[Diagnostic] = []
    cases: list[Path] = []
    for path in paths:
        if path.suffix in JSON_LINES_SUFFIXES:
            found, trouble = read_json_lines(path, catalog)
            decisions += found
            problems += trouble
        elif (wrong_kind := _not_evidence(path)) is not None:
            problems.append(wrong_kind)
        else:
            cases.append(path)
    if cases:
        results, trouble = score(cases, catalog)
        problems += trouble
        decisions += [Decision(r, display_path(result.path)) for result in results for r in result.records]
    if problems:
        raise DiagnosticError(problems)
    return decisions


def _not_evidence(path: Path) -> Diagnostic | None:
    """A criteria or rules file given where decisions are read: said so at the file, rather
    than as a file that points at the wrong kind."""
    kind = declared_kind(path) if path.is_file() else None
    if kind is None or kind in CASE_KINDS:
        return None
    return Diagnostic(display_path(path), 0, 0, "E114", f"a {kind} file holds no decision",
                      "give case files (or folders of them), or JSON Lines written by `arbiter score --format json`")


def main_decision(decisions: list[Decision], path: Path) -> Decision:
    """The decision a file stands for: its last record (a selection's is the process's)."""
    if not decisions:
        place = "folder" if path.is_dir() else "file"
        raise DiagnosticError([Diagnostic(display_path(path), 0, 0, "E160", f"no decision to compare in this {place}",
                                          "give a case file or a JSON Lines decision file")])
    return decisions[-1]


def decisions_to_compare(first: Path, second: Path, catalog: Catalog, score) -> tuple[Decision, Decision]:
    """The decision each file stands for, with the problems of both files at once."""
    chosen: list[Decision] = []
    problems: list[Diagnostic] = []
    for path in (first, second):
        try:
            chosen.append(main_decision(read_decisions([path], catalog, score), path))
        except DiagnosticError as error:
            problems += error.diagnostics
    if problems:
        raise DiagnosticError(problems)
    return chosen[0], chosen[1]


# --- JSON Lines ------------------------------------------------------------------------------

def read_json_lines(path: Path, catalog: Catalog) -> tuple[list[Decision], list[Diagnostic]]:
    """The valid decisions of a JSON Lines file, and every problem of the others."""
    where = display_path(path)
    decisions: list[Decision] = []
    problems: list[Diagnostic] = []
    try:
        for number, raw in _numbered_lines(path):
            record, trouble = _read_line(where, number, raw, catalog)
            problems += trouble
            if record is not None and not trouble:
                decisions.append(Decision(record, where, number))
    except OSError as error:
        problems.append(Diagnostic(where, 0, 0, "E100", f"cannot read file: {error.strerror or error}",
                                   "give a JSON Lines file written by `arbiter score --format json`"))
    return decisions, problems


def _numbered_lines(path: Path) -> Iterator[tuple[int, bytes | None]]:
    """Each line with its number; None for a line longer than MAX_RECORD_BYTES, which is
    skipped without being held in memory."""
    with open_regular_file(path) as stream:  # never a pipe or a device: opening one may block
        for number in count(1):
            line = stream.readline(MAX_RECORD_BYTES + 1)
            if not line:
                return
            if len(line) > MAX_RECORD_BYTES and not line.endswith(b"\n"):
                _skip_rest_of_line(stream)
                yield number, None
            else:
                yield number, line


def _skip_rest_of_line(stream: BinaryIO) -> None:
    while chunk := stream.readline(64 * 1024):
        if chunk.endswith(b"\n"):
            return


class _Unreadable(Exception):
    """A line that cannot be read as a record at all: one problem, and nothing more to check."""

    def __init__(self, code: str, message: str, hint: str = ONE_PER_LINE, col: int = 1):
        super().__init__(message)
        self.code, self.message, self.hint, self.col = code, message, hint, col


def _read_line(where: str, number: int, raw: bytes | None,
               catalog: Catalog) -> tuple[dict[str, Any] | None, list[Diagnostic]]:
    """One line's record and its problems; (None, []) for a blank line."""
    try:
        text = _text_of(raw)
        if not text.strip():
            return None, []
        record, repeated = _parsed(text)
    except _Unreadable as line:
        return None, [Diagnostic(where, number, line.col, line.code, line.message, line.hint)]
    problems = record_problems(record) + _repeated_keys(record, repeated)
    if not problems:
        try:
            problems = reference_problems(record, catalog)
        except DiagnosticError as error:  # a criteria file of the project itself is broken
            return None, error.diagnostics
    return record, _located(where, number, text, record, problems)


def _text_of(raw: bytes | None) -> str:
    if raw is None:
        raise _Unreadable("E102", f"the line is longer than {MAX_RECORD_BYTES:,} bytes; no decision record is")
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as error:
        raise _Unreadable("E101", f"line is not UTF-8: byte 0x{raw[error.start]:02x} cannot be decoded",
                          "save the file as UTF-8", len(raw[:error.start].decode("utf-8", "replace")) + 1) from None


def _parsed(text: str) -> tuple[Any, list[tuple[dict, str]]]:
    """The line parsed, once it is known to be shallow enough for json.loads to recurse."""
    depth = nesting_depth(text)
    if depth > MAX_NESTING:
        raise _Unreadable("E177", f"the record nests {depth:,} levels deep; the limit is {MAX_NESTING}")
    try:
        record, repeated = parse_json(text)
    except json.JSONDecodeError as error:
        raise _Unreadable("E103", f"not a JSON decision record: {error.msg}", col=error.colno) from None
    except ValueError:  # json.loads refuses a number of more than 4,300 digits
        raise _Unreadable("E103", "not a JSON decision record: a number too long to read") from None
    if "\\u" in text and _holds_lone_surrogate(record):
        raise _Unreadable("E101", "the record escapes half of a UTF-16 pair (a lone surrogate such as \\ud800), "
                                  "which is not text", "save the record as UTF-8 text")
    return record, repeated


_JSON_STRING = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"', re.S)
_NOT_A_BRACKET = re.compile(r"[^\[\]{}]+")


def nesting_depth(text: str) -> int:
    """How deep arrays and objects nest in a line of JSON, counted without parsing it:
    strings are taken out first, so that brackets inside text do not count."""
    brackets = _NOT_A_BRACKET.sub("", _JSON_STRING.sub("", text))
    return max(accumulate((1 if b in "[{" else -1 for b in brackets), initial=0))


def parse_json(text: str) -> tuple[Any, list[tuple[dict, str]]]:
    """The parsed line, and each (object, key) written more than once in it: json.loads
    silently keeps the last, and a record must not say two things at once."""
    repeated: list[tuple[dict, str]] = []

    def keep_pairs(pairs: list[tuple[str, Any]]) -> dict:
        obj = dict(pairs)
        if len(obj) < len(pairs):
            repeated.extend((obj, key) for key, n in Counter(k for k, _ in pairs).items() if n > 1)
        return obj

    return json.loads(text, object_pairs_hook=keep_pairs), repeated


def _holds_lone_surrogate(record: Any) -> bool:
    """JSON can escape half a character ("\\ud800"); such a string cannot be printed."""
    try:
        json.dumps(record, ensure_ascii=False).encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False


def _repeated_keys(record: Any, repeated: list[tuple[dict, str]]) -> list[Problem]:
    return [Problem((key,) if obj is record else (), "E104",
                    f"duplicate key {shown(key)}" + ("" if obj is record else " in an object of the record"),
                    "keep one of them; JSON readers silently keep the last", at_key=obj is record)
            for obj, key in repeated]


def _located(where: str, number: int, text: str, record: Any, problems: list[Problem]) -> list[Diagnostic]:
    """Problems at the record's line, and at the column of the top-level key they concern
    (of its value, unless the key itself is the problem)."""
    if not problems:
        return []
    start = len(text) - len(text.lstrip()) + 1
    columns = top_level_columns(text) if isinstance(record, dict) else {}
    located = []
    for problem in problems:
        key_col, value_col = columns.get(problem.loc[0], (start, start)) if problem.loc else (start, start)
        col = key_col if problem.at_key and len(problem.loc) == 1 else value_col
        located.append(Diagnostic(where, number, col, problem.code, problem.message, problem.hint))
    return located


_SPACE = re.compile(r"[ \t\r\n]*")
_DECODER = json.JSONDecoder()


def top_level_columns(text: str) -> dict[str, tuple[int, int]]:
    """1-based columns of each top-level key and of its value, in a line already parsed
    as a JSON object (so its syntax is known to be right)."""
    columns: dict[str, tuple[int, int]] = {}
    index = _SPACE.match(text).end() + 1  # past '{'
    while True:
        index = _SPACE.match(text, index).end()
        if text[index] == "}":
            return columns
        key_at = index
        key, index = json.decoder.scanstring(text, index + 1)
        value_at = _SPACE.match(text, _SPACE.match(text, index).end() + 1).end()  # past ':'
        _, index = _DECODER.raw_decode(text, value_at)
        columns[key] = (key_at + 1, value_at + 1)
        index = _SPACE.match(text, index).end()
        if text[index] == "}":
            return columns
        index += 1  # past ','


# --- references into the catalog --------------------------------------------------------------

def reference_problems(record: dict[str, Any], catalog: Catalog) -> list[Problem]:
    """Ids that name files must name files under criteria/ of the right kind, and outcomes
    must be outcomes of the record's framework. Only for a record its model accepts."""
    kind = record.get("kind")
    if kind is None:
        return _inspection_references(record, catalog)
    rules_kind = RULES_KIND[kind]
    known = catalog.ids_of_kind(rules_kind)
    if record["framework"] in known:
        return []
    return [_unknown("framework", rules_kind.replace("_", " "), record["framework"], known)]


def _inspection_references(record: dict[str, Any], catalog: Catalog) -> list[Problem]:
    frameworks = catalog.memo(("framework ids",), catalog.framework_ids)
    criteria_sets = catalog.criteria_set_ids()
    problems = []
    if record["framework"] not in frameworks:
        problems.append(_unknown("framework", "framework", record["framework"], frameworks))
    if record["criteria_set"] not in criteria_sets:
        problems.append(_unknown("criteria_set", "criteria set", record["criteria_set"], criteria_sets))
    if problems:
        return problems
    plan = compile_set(catalog, record["criteria_set"]).plan
    if plan.framework != record["framework"]:
        return [Problem(("framework",), "E113", f"criteria set '{record['criteria_set']}' is graded under framework "
                                                f"'{plan.framework}', not '{record['framework']}'",
                        f"a record of that area has framework '{plan.framework}'")]
    outcomes = [level.id for level in plan.levels] + list(SPECIAL_OUTCOMES)
    return [Problem((field,), "E113", f"'{field}' is {shown(record[field])}, which is not an outcome of "
                                      f"framework '{plan.framework}'", suggest(record[field], outcomes))
            for field in OUTCOME_FIELDS if record[field] not in outcomes]


def _unknown(field: str, what: str, value: str, known: list[str]) -> Problem:
    return Problem((field,), "E120", f"unknown {what} '{value}'", suggest(value, known))


# --- summary and compare ------------------------------------------------------------------------

@dataclass(frozen=True)
class Distribution:
    framework: str
    columns: list[str]  # level labels in scale order, then any other outcomes
    rows: list[tuple[str, list[int], int]]  # (area, counts per column, total)
    constructed: int = 0  # how many of the decisions rest on evidence written for the project, not read from a report

    @property
    def decisions(self) -> int:
        return sum(total for _, _, total in self.rows)

    def provenance(self) -> str:
        """What the table can show: counts of decisions, published or constructed."""
        if not self.constructed:
            return f"all {self.decisions} decisions rest on evidence read from published reports"
        return (f"{self.constructed} of {self.decisions} decisions rest on constructed evidence (constructed: true), "
                "written for the project, not read from a report: for those the table shows what the rules give, "
                "not what an inspectorate published")


def summary(records: list[dict[str, Any]], catalog: Catalog) -> list[Distribution]:
    """Outcome counts per area, one distribution per framework, in the scale's order."""
    by_framework: dict[str, dict[str, Counter]] = defaultdict(lambda: defaultdict(Counter))
    constructed: Counter = Counter()
    titles: dict[str, str] = {}
    for record in records:
        if "criteria_set" not in record:  # appointment decisions have no area to count
            continue
        by_framework[record["framework"]][record["criteria_set"]][record["outcome"]] += 1
        constructed[record["framework"]] += bool(record["constructed"])
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
        distributions.append(Distribution(framework, labels + [names.get(o, o) for o in others], rows,
                                          constructed[framework]))
    return distributions


@dataclass(frozen=True)
class Comparison:
    first: dict[str, Any]
    second: dict[str, Any]
    mapping: str  # how the second's grade was read on the first's scale
    difference: int  # levels the second is above (+) or below (-) the first
    text: str


def compare(first: Decision, second: Decision, catalog: Catalog) -> Comparison:
    refusals = [d.refusal(f"'{d.record['case']}' has no grade to compare ({d.record['outcome_label']})",
                          "compare two graded decisions") for d in (first, second) if not _graded(d.record)]
    if refusals:
        raise DiagnosticError(refusals)
    a, b = first.record, second.record
    ranks = {lv.id: lv.rank for lv in compile_set(catalog, a["criteria_set"]).plan.levels}
    second_on_first, mapping = _read_on_scale(first, second, catalog)
    difference = ranks[a["outcome"]] - ranks[second_on_first]
    direction = "the same grade" if difference == 0 else (
        f"{abs(difference)} level{'s' if abs(difference) != 1 else ''} {'higher' if difference > 0 else 'lower'}")
    text = (f"{b['case']} ({b['outcome_label']}, {b['framework']}) is {direction} than "
            f"{a['case']} ({a['outcome_label']}, {a['framework']})")
    return Comparison(a, b, mapping, difference, text if difference else text.replace(" than ", " as "))


def _graded(record: dict[str, Any]) -> bool:
    return "criteria_set" in record and record["outcome"] not in SPECIAL_OUTCOMES


def _read_on_scale(first: Decision, second: Decision, catalog: Catalog) -> tuple[str, str]:
    a, b = first.record, second.record
    if a["framework"] == b["framework"]:
        return b["outcome"], "same framework"
    ours, theirs = _comparability(a["framework"], catalog), _comparability(b["framework"], catalog)
    mapping = (ours.comparable_with.get(b["framework"]) if ours else None)
    if mapping is not None and b["outcome"] in mapping:
        return mapping[b["outcome"]], f"mapping declared by {a['framework']}"
    reverse = (theirs.comparable_with.get(a["framework"]) if theirs else None)
    if reverse is not None:
        back = {v: k for k, v in reverse.items()}
        if b["outcome"] in back:
            return back[b["outcome"]], f"mapping declared by {b['framework']}"
    statements = [f"{fw}: {c.statement.strip()} ({c.source})" for fw, c in
                  ((a["framework"], ours), (b["framework"], theirs)) if c is not None]
    # Located at the second decision: it is its grade that cannot be read on the first's scale.
    raise DiagnosticError([second.refusal(
        f"grades under '{a['framework']}' and '{b['framework']}' cannot be compared: no mapping "
        f"between them is declared. " + " ".join(statements),
        "compare decisions under one framework, or declare a mapping under comparability: in a framework")])


def _comparability(framework_id: str, catalog: Catalog):
    return catalog.load(catalog.framework_path(framework_id), "framework").model.comparability


def first_differing_firing(old: dict[str, Any], new: dict[str, Any]) -> Optional[str]:
    """The first rule firing that differs between two records of one decision (`replay
    --with-current-criteria` and `impact` both name it): another rule, the same rule matching
    other facts (other counts), or firings more or fewer; None when the traces agree."""
    for i, (a, b) in enumerate(zip(old.get("trace", []), new.get("trace", []))):
        if a["rule"] != b["rule"]:
            return f"firing {i + 1}: {a['rule']} then, {b['rule']} now"
        if a != b:
            return f"firing {i + 1}: {a['rule']} both times, matching other facts"
    extra = len(new.get("trace", [])) - len(old.get("trace", []))
    return f"{abs(extra)} firing(s) {'more' if extra > 0 else 'fewer'} now" if extra else None
