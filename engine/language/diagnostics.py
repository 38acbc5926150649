"""Diagnostics: one shape for every problem in a user's file.

A diagnostic names the file, the 1-based line and column, a stable code, what is wrong
and, where we can tell, what would be valid. Stages return lists of diagnostics rather
than raising on the first problem, so the author sees every problem at once.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass, field
from typing import Iterable

# Stable codes. A code never changes meaning once published; tests assert codes and
# golden files pin the wording. criteria/README.md documents each with an example.
CODES: dict[str, str] = {
    "E100": "file-unreadable",
    "E101": "not-utf8",
    "E102": "file-too-large",
    "E103": "yaml-syntax",
    "E104": "duplicate-key",
    "E105": "anchor-or-alias",
    "E106": "implicit-type",
    "E107": "not-one-document",
    "E108": "explicit-tag",
    "E109": "control-character",
    "E110": "unknown-field",
    "E111": "missing-field",
    "E112": "wrong-type",
    "E113": "invalid-value",
    "E114": "wrong-file-kind",
    "E115": "id-does-not-match-path",
    "E116": "bad-citation",
    "E117": "output-refused",
    "E120": "unknown-reference",
    "E121": "duplicate-id",
    "E122": "unknown-criterion",
    "E123": "missing-finding",
    "E124": "duplicate-finding",
    "E125": "unknown-level",
    "E126": "score-off-scale",
    "E127": "wrong-kind-of-finding",
    "E128": "exclusive-group-broken",
    "E130": "empty-selection",
    "E131": "cyclic-builds-on",
    "E132": "bad-quantifier",
    "E133": "bad-comparison",
    "E134": "too-many-rules",
    "E135": "too-many-conditions",
    "E136": "too-many-for-the-engine",
    "E150": "rating-not-on-scale",
    "E151": "area-not-assessed-by-exercise",
    "E152": "missing-rating",
    "E153": "missing-rationale",
    "E154": "not-a-scoring-panel-member",
    "E155": "pair-not-in-table",
    "E156": "pair-mapped-twice",
    "E157": "not-two-ratings",
    "E158": "agreed-rating-under-pair-table",
    "E159": "resolution-not-needed",
    "E160": "not-comparable",
    "E170": "ledger-unreadable",
    "E171": "decision-not-in-ledger",
    "E172": "decision-cannot-be-rebuilt",
    "E173": "override-without-rationale",
    "E174": "bad-option-value",
    "E177": "nested-too-deeply",
    "E180": "decision-cycle",
    "E181": "input-on-another-scale",
    "E182": "input-not-graded",
    "E183": "input-not-recorded",
    "E184": "ledgers-diverge",
    "E140": "stale-ruleset",
    "E141": "missing-ruleset",
    "E142": "orphan-ruleset",
}


@dataclass(frozen=True, slots=True)
class Diagnostic:
    """One problem, located in a file. Line and column are 1-based; 0 means unknown."""

    path: str
    line: int
    col: int
    code: str
    message: str
    suggestion: str | None = None
    severity: str = "error"

    def __post_init__(self) -> None:
        if self.code not in CODES:
            raise ValueError(f"unregistered diagnostic code {self.code}")

    @property
    def name(self) -> str:
        return CODES[self.code]

    def sort_key(self) -> tuple:
        return (self.path, self.line, self.col, self.code, self.message)

    def render(self) -> str:
        # A problem with no place in a file (a command-line value, a whole ledger) names
        # what it is about, `--before: ...`, never a meaningless `0:0`.
        where = f"{self.path}:{self.line}:{self.col}" if self.line else self.path
        text = f"{where}: {self.severity} {self.code}: {self.message}"
        if self.suggestion:
            text += f"\n  hint: {self.suggestion}"
        return text

    def to_dict(self) -> dict:
        return {
            "path": self.path,
            "line": self.line,
            "col": self.col,
            "code": self.code,
            "name": self.name,
            "message": self.message,
            "suggestion": self.suggestion,
        }


@dataclass
class DiagnosticError(Exception):
    """Raised by a stage that cannot go on; carries every problem it found."""

    diagnostics: list[Diagnostic] = field(default_factory=list)

    def __str__(self) -> str:
        return render_all(self.diagnostics)


def sorted_unique(diagnostics: Iterable[Diagnostic]) -> list[Diagnostic]:
    return sorted(set(diagnostics), key=Diagnostic.sort_key)


def render_all(diagnostics: Iterable[Diagnostic]) -> str:
    return "\n".join(d.render() for d in sorted_unique(diagnostics))


def did_you_mean(name: str, options: Iterable[str]) -> str | None:
    """A did-you-mean phrase for a misspelt id, or None when nothing is close."""
    options = sorted(set(options))
    close = difflib.get_close_matches(str(name), options, n=1, cutoff=0.6)
    return f"did you mean '{close[0]}'?" if close else None


def valid_list(options: Iterable[str], limit: int = 12) -> str:
    options = sorted(set(options))
    shown = ", ".join(f"'{o}'" for o in options[:limit])
    if len(options) > limit:
        shown += f", ... ({len(options) - limit} more)"
    return shown or "(none defined)"


def suggest(name: str, options: Iterable[str]) -> str:
    """Did-you-mean when one is close (it names a valid value); else the valid values."""
    options = list(options)
    return did_you_mean(name, options) or f"valid: {valid_list(options)}"
