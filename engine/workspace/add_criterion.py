"""Adding a criterion to the cases of its set: a `not_assessed` finding in every case that lacks one.

A new criterion makes every case of its set invalid ("no finding for 1 criteria") until each
says what was found. The finding this writes says nothing was: `not_assessed`, with a note to
assess it, which keeps the case valid and lets the rules count the criterion as not met where
the framework says so. The edit is made to the text, after the last finding, so that each
file keeps its comments and layout; every edited text is parsed and checked against the
criteria before any file is written, and either every file is written or none.
"""

from __future__ import annotations

import os
import re
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Optional

from ..inspections.cases import read_case
from ..language.catalog import Catalog, declared_kind
from ..language.diagnostics import DiagnosticError, sorted_unique, suggest
from ..language.load import Document, display_path, load_bytes, load_file, read_source
from ..language.options import option_error
from .runner import case_files

_TOP_LEVEL_KEY = re.compile(r"[^\s#-]")  # a line that starts a new top-level key (not a comment, not an item)


@dataclass(frozen=True)
class Edit:
    path: Path
    text: str  # the whole new text of the file


@dataclass(frozen=True)
class Addition:
    criterion: str
    criteria_set: str
    edits: tuple[Edit, ...]  # the cases that lack a finding for the criterion
    cases: tuple[Path, ...]  # every case of the set (those that have one already too)

    def describe(self) -> str:
        return (f"add a not_assessed finding for '{self.criterion}' to {len(self.edits)} of the "
                f"{len(self.cases)} cases of criteria set '{self.criteria_set}'")


def plan_addition(catalog: Catalog, criterion: str) -> Addition:
    """The edits that give every case of the criterion's set a finding for it; every problem of
    every edited text at once (DiagnosticError) when any would not validate."""
    homes = catalog.criterion_homes()
    if criterion not in homes:
        raise option_error("ID", f"no criterion '{criterion}' in the working criteria",
                           suggest(criterion, sorted(homes)), "E120")
    set_id = homes[criterion]
    cases = [path for path in _cases_below(catalog) if _criteria_of(path) == set_id]
    edits, problems = [], []
    for path in cases:
        try:
            edit = _edit(path, criterion, catalog)
        except DiagnosticError as error:
            problems += error.diagnostics
            continue
        edits += [edit] if edit else []
    if problems:
        raise DiagnosticError(sorted_unique(problems))
    return Addition(criterion, set_id, tuple(edits), tuple(cases))


def _cases_below(catalog: Catalog) -> list[Path]:
    folder = catalog.root / "cases"
    return [p for p in case_files([folder]) if declared_kind(p) == "case"] if folder.is_dir() else []


def _criteria_of(path: Path) -> Optional[str]:
    """The criteria set a case names, read without checking it against the criteria (a case
    lacking the new finding does not validate yet)."""
    data = load_file(path).data
    return data.get("criteria") if isinstance(data, dict) else None


def _edit(path: Path, criterion: str, catalog: Catalog) -> Optional[Edit]:
    """The new text of one case, checked to parse and validate; None when it has the finding."""
    shown = display_path(path)
    raw = read_source(path, shown)
    doc = load_bytes(raw, shown)
    findings = doc.data.get("findings") or []
    if any(isinstance(f, dict) and f.get("criterion") == criterion for f in findings):
        return None
    text = raw.decode("utf-8")
    new_text = _with_finding(text, doc, criterion)
    new_doc = load_bytes(new_text.encode("utf-8"), shown)
    if new_doc.problems:
        raise DiagnosticError(list(new_doc.problems))
    read_case(new_doc, catalog)  # shape, cross-references against the criteria, compiled
    return Edit(path, new_text)


def _with_finding(text: str, doc: Document, criterion: str) -> str:
    """The text with one finding added after the last line of the findings block (or a new
    findings block at the end), indented as the block's items are, in the file's line endings."""
    newline = "\r\n" if "\r\n" in text else "\n"
    lines = text.splitlines(keepends=True)
    if ("findings",) not in doc.key_positions or not doc.data.get("findings"):
        return _new_block(text, doc, criterion, newline)
    if ("findings", 0) not in doc.positions or doc.positions[("findings",)][0] == doc.key_positions[("findings",)][0]:
        raise DiagnosticError([doc.diag(("findings",), "E113", "the findings are written in flow style ([...]), "
                                                               "which a text edit cannot extend and keep",
                                        f"write them one item a line, or add the finding for '{criterion}' by hand")])
    indent = " " * (doc.positions[("findings",)][1] - 1)
    end = _block_end(lines, doc.key_positions[("findings",)][0], indent)
    before, after = lines[:end], lines[end:]
    if before and not before[-1].endswith(("\n", "\r")):
        before[-1] += newline
    return "".join(before) + _finding_lines(indent, criterion, newline) + "".join(after)


def _block_end(lines: list[str], key_line: int, indent: str) -> int:
    """The index of the line after the findings block's last content line: the block runs
    until a line at the key's column that is not an item of it; comments and blank lines
    just before that line belong to what follows."""
    last = key_line  # 1-based line of the key, so the index after it
    for index in range(key_line, len(lines)):
        line = lines[index]
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        if _TOP_LEVEL_KEY.match(line[:1]):
            break
        last = index + 1
    return last


def _finding_lines(indent: str, criterion: str, newline: str) -> str:
    return newline.join([f"{indent}- criterion: {criterion}",
                         f"{indent}  finding: not_assessed",
                         f"{indent}  note: added with the new criterion {criterion}; to be assessed"]) + newline


def _new_block(text: str, doc: Document, criterion: str, newline: str) -> str:
    """A case with no findings yet (or `findings: []`): the key written anew at the end."""
    if ("findings",) in doc.key_positions:
        raise DiagnosticError([doc.diag(("findings",), "E113", "the case's findings are empty, written in flow style",
                                        f"write findings: as a block, or add the finding for '{criterion}' by hand")])
    ending = "" if text.endswith(("\n", "\r")) or not text else newline
    return text + ending + "findings:" + newline + _finding_lines("  ", criterion, newline)


def write_addition(addition: Addition) -> list[Path]:
    """Write every edited case, each through a temporary file renamed over it."""
    for edit in addition.edits:
        _replace_atomically(edit.path, edit.text)
    return [edit.path for edit in addition.edits]


def _replace_atomically(path: Path, text: str) -> None:
    mode = path.stat().st_mode & 0o777
    descriptor, temp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(descriptor, "w", encoding="utf-8", newline="") as stream:
            stream.write(text)
        os.chmod(temp, mode)
        os.replace(temp, path)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise

