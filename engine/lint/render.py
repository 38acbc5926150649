"""A lint report, and validation's diagnostics, as people and CI read them, as yamllint does:

- text: `path:line:col: severity CODE name: message`, a hint line, a witness line when one
  was written, an accepted line for a reviewed exception; then a one-line summary;
- json: one document, every finding with all its fields, and the summary;
- github: GitHub workflow annotations (`::error file=...,line=...,col=...,title=...::message`),
  one per finding still open (accepted ones are not problems, so they are not annotated).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Iterable, Optional, Sequence

from ..language.diagnostics import Diagnostic, sorted_unique
from .findings import LintFinding

if TYPE_CHECKING:
    from . import LintReport

FORMATS = ("text", "json", "github")
JSON_FORMAT = "arbiter-lint/1"
GITHUB_LEVELS = {"error": "error", "warning": "warning", "info": "notice"}


def render(report: "LintReport", fmt: str, witnesses: Sequence[Optional[Path]] = ()) -> str:
    """The report in a format of FORMATS; witnesses are the files written, one per finding."""
    written = list(witnesses) or [None] * len(report.findings)
    if fmt == "json":
        return render_json(report, written)
    if fmt == "github":
        return render_github(report)
    return render_text(report, written)


def _where(path: str, line: int, col: int) -> str:
    return f"{path}:{line}:{col}" if line else path


def render_text(report: "LintReport", witnesses: Sequence[Optional[Path]]) -> str:
    lines = []
    for finding, witness in zip(report.findings, witnesses):
        state = f"accepted {finding.severity}" if finding.accepted is not None else finding.severity
        lines.append(f"{_where(finding.path, finding.line, finding.col)}: {state} {finding.code} {finding.name}: "
                     f"{_in_set(finding)}{finding.message}")
        if finding.accepted is not None:
            lines.append(f"  accepted: {finding.accepted}")
        elif finding.suggestion:
            lines.append(f"  hint: {finding.suggestion}")
        if witness is not None:
            lines.append(f"  witness: {witness}")
    lines.append(summary_line(report))
    return "\n".join(lines)


def _in_set(finding: LintFinding) -> str:
    """A framework-wide place (a grade rule, a limiter) is linted once per criteria set, so
    the line says which set it is about; a finding in the set's own file needs no such word."""
    if not finding.criteria_set or finding.path.endswith(f"{finding.criteria_set}.yaml"):
        return ""
    return f"in {finding.criteria_set}: "


def _plural(count: int, word: str) -> str:
    return f"{count} {word}{'' if count == 1 else 's'}"


def summary_line(report: "LintReport") -> str:
    infos = report.count("info")
    parts = [_plural(report.count("error"), "error"), _plural(report.count("warning"), "warning")]
    parts += [f"{infos} info"] if infos else []
    parts.append(f"{report.accepted} accepted")
    return f"{', '.join(parts)} in {_plural(len(report.criteria_sets), 'criteria set')}"


def finding_data(finding: LintFinding, witness: Optional[Path]) -> dict:
    return {"code": finding.code, "name": finding.name, "severity": finding.severity, "path": finding.path,
            "line": finding.line, "col": finding.col, "criteria_set": finding.criteria_set, "about": finding.about,
            "message": finding.message, "suggestion": finding.suggestion, "accepted": finding.accepted,
            "witness": finding.witness_data(), "witness_file": str(witness) if witness else None}


def render_json(report: "LintReport", witnesses: Sequence[Optional[Path]]) -> str:
    summary = {"errors": report.count("error"), "warnings": report.count("warning"), "infos": report.count("info"),
               "accepted": report.accepted, "criteria_sets": list(report.criteria_sets), "files": list(report.files)}
    document = {"format": JSON_FORMAT, "findings": [finding_data(f, w) for f, w in zip(report.findings, witnesses)],
                "summary": summary}
    return json.dumps(document, indent=2, ensure_ascii=False)


# --- GitHub workflow annotations -------------------------------------------------------------

def escape_data(text: str) -> str:
    """A workflow command's message: %, CR and LF escaped, as GitHub's runner unescapes them."""
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def escape_property(text: str) -> str:
    """A property value (file, title): also : and , which separate properties."""
    return escape_data(text).replace(":", "%3A").replace(",", "%2C")


def annotation(level: str, path: str, line: int, col: int, title: str, message: str) -> str:
    properties = [f"file={escape_property(path)}"] if path else []
    properties += [f"line={line}", f"col={col}"] if line else []
    properties.append(f"title={escape_property(title)}")
    return f"::{level} {','.join(properties)}::{escape_data(message)}"


def _with_hint(message: str, hint: Optional[str]) -> str:
    return f"{message}\nhint: {hint}" if hint else message


def render_github(report: "LintReport") -> str:
    lines = [annotation(GITHUB_LEVELS[f.severity], f.path, f.line, f.col, f"{f.code} {f.name}",
                        _with_hint(_in_set(f) + f.message, f.suggestion))
             for f in report.findings if f.accepted is None]
    return "\n".join(lines + [summary_line(report)])


def github_diagnostics(diagnostics: Iterable[Diagnostic]) -> str:
    """Validation's problems as annotations. A problem with no place in a file (a command-line
    option, `--root`) is annotated without a file, its place leading the message."""
    lines = []
    for d in sorted_unique(diagnostics):
        in_file = not d.path.startswith("-")
        message = _with_hint(d.message if in_file else f"{d.path}: {d.message}", d.suggestion)
        lines.append(annotation(GITHUB_LEVELS.get(d.severity, "error"), d.path if in_file else "", d.line, d.col,
                                f"{d.code} {d.name}", message))
    return "\n".join(lines)
