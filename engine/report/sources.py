"""The decisions a report is made from, each with what the report may show beside its record.

A decision comes from one of three places, and each gives what it holds:

    case or evidence file   scored now: the record, the evidence, the criteria, the names
    JSON Lines file         the record only (checked as `summary` reads it); the criteria
                            from the project when their hash is the record's
    ledger id               the record and its stored evidence, criteria and names

A report never decides: every outcome it shows is the record's, as the rules concluded it.
Evidence and criteria are shown beside it (findings with their citations, the rating
scale's definitions), and names only when asked for (`--reveal`).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Optional

from ..appointments.appointments import compile_rules
from ..compiler.compile import compile_set
from ..language.canonical import canonical_appointment_evidence, canonical_case, personal_data, sha256_bytes
from ..language.catalog import Catalog
from ..language.diagnostics import Diagnostic, DiagnosticError
from ..language.load import display_path
from ..ledger.audit import stored
from ..ledger.ledger import Ledger
from ..workspace import compare
from ..workspace.runner import Scored

FILE_SUFFIXES = (".yaml", ".yml", ".jsonl", ".json")


@dataclass(frozen=True)
class Source:
    """One decision record and what is held beside it (None where the source holds none)."""

    record: dict[str, Any]
    origin: str  # the file, or `ledger <id>`, as shown to the reader
    evidence: Optional[dict[str, Any]] = None  # canonical evidence: findings, ratings, rationales
    criteria: Optional[dict[str, Any]] = None  # canonical criteria the decision was made under
    personal: Optional[dict[str, Any]] = None  # names, held apart; shown only with --reveal

    @property
    def kind(self) -> str:
        return self.record.get("kind", "case")


def is_file_argument(text: str) -> bool:
    """A path (it exists, or it is written as one) rather than a ledger id."""
    return Path(text).exists() or "/" in text or text.endswith(FILE_SUFFIXES)


def gather(catalog: Catalog, arguments: list[str], score: Callable, open_ledger: Callable[[], Ledger]) -> list[Source]:
    """The decisions each argument names, in the order given; every problem at once."""
    problems: list[Diagnostic] = []
    found: list[Source] = []
    ids = [text for text in arguments if not is_file_argument(text)]
    for text in arguments:
        if text in ids:
            continue
        try:
            found += from_path(catalog, Path(text), score)
        except DiagnosticError as error:
            problems += error.diagnostics
    if ids:
        try:
            with open_ledger() as ledger:
                found += [from_ledger(ledger, ref) for ref in ids]
        except DiagnosticError as error:
            problems += error.diagnostics
    if problems:
        raise DiagnosticError(problems)
    return distinct(found)


def distinct(sources: list[Source]) -> list[Source]:
    """Each decision once, where first named (a pack's file also scores the records it names,
    which may be given too); of two copies, the one that holds its evidence is kept."""
    kept: dict[str, Source] = {}
    for source in sources:
        key = source.record.get("decision_id", id(source))
        if key not in kept or (kept[key].evidence is None and source.evidence is not None):
            kept[key] = source
    return list(kept.values())


def from_path(catalog: Catalog, path: Path, score: Callable) -> list[Source]:
    if not path.exists():
        raise DiagnosticError([Diagnostic(display_path(path), 0, 0, "E100", "cannot read file: no such file",
                                          "give a case file, a JSON Lines decision file or a ledger decision id")])
    if path.suffix in compare.JSON_LINES_SUFFIXES:
        decisions, problems = compare.read_json_lines(path, catalog)
        if problems:
            raise DiagnosticError(problems)
        return [from_json_line(catalog, d.record, f"{d.path}:{d.line}") for d in decisions]
    results, problems = score([path], catalog)
    if problems:
        raise DiagnosticError(problems)
    return [source for result in results for source in from_scored(result)]


def from_scored(result: Scored) -> list[Source]:
    """Each record of a scored file, with the evidence and criteria it was decided on."""
    loaded = result.source
    criteria = json.loads(loaded.compiled.criteria)
    if result.kind == "case":
        evidence, personal = json.loads(canonical_case(loaded.case)), None
    else:
        evidence = json.loads(canonical_appointment_evidence(loaded.evidence))
        personal = personal_data(loaded.evidence) or None
    origin = display_path(result.path)
    return [Source(record, origin, evidence, criteria, personal) for record in result.records]


def from_ledger(ledger: Ledger, ref: str) -> Source:
    s = stored(ledger, ref)
    return Source(s.record, f"ledger {s.entry.ref} (entry {s.entry.seq})", s.evidence, s.criteria, s.personal)


def from_json_line(catalog: Catalog, record: dict[str, Any], origin: str) -> Source:
    """A record read back; the project's criteria are shown beside it only when their hash is
    the one the record was decided under (otherwise they may say something else)."""
    criteria = _project_criteria(catalog, record)
    if criteria is not None and sha256_bytes(criteria) != record.get("criteria_sha256"):
        criteria = None
    return Source(record, origin, None, json.loads(criteria) if criteria else None)


def _project_criteria(catalog: Catalog, record: dict[str, Any]) -> Optional[bytes]:
    try:
        if "criteria_set" in record:
            return compile_set(catalog, record["criteria_set"]).criteria
        if record.get("framework"):
            loaded = catalog.load(catalog.path_of(record["framework"]), _rules_kind(record))
            return compile_rules(catalog, loaded).criteria
    except (DiagnosticError, OSError, KeyError, ValueError):
        return None
    return None


def _rules_kind(record: dict[str, Any]) -> str:
    return {"hearing": "panel_rules", "compliance_record": "compliance"}.get(record.get("kind", ""), "selection_process")
