"""Witnesses written out: each finding's evidence record as a case file, ready to become a case.

A witness goes to DIR/<criteria set id>/<code>-<about>.yaml (lower case, since the name is
a case id when DIR is under cases/). Nothing is ever written over an existing file or through
a symbolic link: every target is checked before the first is written, and each file is
written to a temporary file beside it and linked into place, which fails, rather than
replaces, when anything is already there.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any, Optional

from ..language.catalog import expected_id
from ..language.diagnostics import Diagnostic, DiagnosticError
from ..language.load import dump_yaml
from ..language.output import write_new_file
from .findings import LintFinding

OPTION = "--witness"


def witness_targets(findings: tuple[LintFinding, ...], folder: Path) -> tuple[Optional[Path], ...]:
    """Where each finding's witness goes (None for a finding without one), one file each."""
    taken: set[Path] = set()
    targets: list[Optional[Path]] = []
    for finding in findings:
        if finding.witness is None:
            targets.append(None)
            continue
        stem = _file_stem(f"{finding.code}-{finding.about}" if finding.about else finding.code)
        home = folder.joinpath(*(finding.criteria_set or "framework").split("/"))
        target, n = home / f"{stem}.yaml", 1
        while target in taken:
            n += 1
            target = home / f"{stem}-{n}.yaml"
        taken.add(target)
        targets.append(target)
    return tuple(targets)


def _file_stem(text: str) -> str:
    return re.sub(r"[^a-z0-9_-]+", "-", text.lower()).strip("-") or "finding"


def write_witnesses(findings: tuple[LintFinding, ...], folder: Path) -> tuple[Optional[Path], ...]:
    """Write every witness; refuse (E117, at --witness) before writing any if one is in the way."""
    targets = witness_targets(findings, folder)
    problems = [p for target in targets if target is not None for p in _refusal(target, folder)]
    if problems:
        raise DiagnosticError(problems)
    for finding, target in zip(findings, targets):
        if target is not None:
            write_new_file(target, witness_text(finding, target), OPTION, f"give a new {OPTION} folder")
    return targets


def _refusal(target: Path, folder: Path) -> list[Diagnostic]:
    for place in [folder, *reversed([p for p in target.parents if _below(p, folder)])]:
        if place.is_symlink():
            return [_refused(f"{place} is a symbolic link; a witness is never written through one",
                             f"give a {OPTION} folder with no symbolic link in it")]
        if place.exists() and not place.is_dir():
            return [_refused(f"{place} is not a folder", f"give a {OPTION} folder")]
    if target.is_symlink():
        return [_refused(f"{target} is a symbolic link; a witness is never written through one",
                         f"give a new {OPTION} folder")]
    if os.path.lexists(target):
        return [_refused(f"{target} exists; a witness is never written over a file",
                         f"give a new {OPTION} folder, or remove the witnesses of an earlier run first")]
    return []


def _below(path: Path, folder: Path) -> bool:
    return path != folder and folder in path.parents


def _refused(message: str, hint: str) -> Diagnostic:
    return Diagnostic(OPTION, 0, 0, "E117", message, hint)


def witness_text(finding: LintFinding, target: Path) -> str:
    """The case file: a header saying what it demonstrates, then the evidence record."""
    data: dict[str, Any] = finding.witness_data() or {}
    case_id = expected_id(target, "cases")
    if case_id is not None:  # under cases/, a case's id is its place
        data["id"] = case_id
    where = f"{finding.path}:{finding.line}:{finding.col}" if finding.line else finding.path
    header = [f"Constructed by `arbiter lint`: a witness of {finding.code} {finding.name} ({where}).",
              f"It demonstrates: {finding.message}",
              "Its expect: is the outcome durable-rules gives it; `arbiter score` this file to see it."]
    return "".join(_comment(line) for line in header) + dump_yaml(data)


def _comment(text: str) -> str:
    return "".join(f"# {line}".rstrip() + "\n" for line in text.splitlines() or [""])
