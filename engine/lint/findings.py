"""Lint findings: what `arbiter lint` says about a criteria file, and where.

A finding is about the criteria, not a case: a grade no evidence can reach, two grades'
rules that hold together under a unique hit policy, a `choice:` that states another number
than its quantifier. Each has a stable code (LINT_CODES), a severity, a place in a file
(1-based line and column) and, where evidence can show it, a witness: a minimal evidence
record that demonstrates it, which `--witness DIR` writes out as a case file.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping, Optional

from ..language.models import LINT_CODES as _CODES

# Stable codes; a code never changes meaning once published. The table lives with the models,
# which check the codes a reviewed exception (`lint:`) names; criteria/README.md ("Lint")
# documents each with an example.
LINT_CODES = _CODES

SEVERITIES = ("error", "warning", "info")


@dataclass(frozen=True)
class LintFinding:
    code: str  # a key of LINT_CODES
    severity: str  # error | warning | info; `arbiter lint` exits 1 when any error remains
    path: str  # the file as shown to the user
    line: int  # 1-based; 0 when the finding has no place in the file
    col: int
    message: str
    criteria_set: str = ""  # the criteria set the finding was found in ("" for a framework-wide finding)
    about: str = ""  # the id of what it is about: a rule, grade, limiter, condition or criterion
    suggestion: Optional[str] = None
    # A witness: the data of a complete, valid evidence record (a case file's mapping, with
    # `constructed: true` and an `expect:` of the outcome durable-rules gives it) that shows
    # the finding; None when no evidence can show it (a static finding).
    witness: Optional[Mapping[str, Any]] = None
    accepted: Optional[str] = None  # the reason of the reviewed exception that accepts it, if one does

    def __post_init__(self) -> None:
        if self.code not in LINT_CODES:
            raise ValueError(f"unregistered lint code {self.code}")
        if self.severity not in SEVERITIES:
            raise ValueError(f"unknown severity {self.severity}")

    @property
    def name(self) -> str:
        return LINT_CODES[self.code]

    def witness_data(self) -> Optional[dict]:
        """The witness as plain data (dicts and lists, however frozen it is held), as JSON and
        the YAML writer take it."""
        return _plain(self.witness)

    def sort_key(self) -> tuple:
        return (self.path, self.line, self.col, self.code, self.criteria_set, self.about, self.message)


def _plain(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {key: _plain(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(item) for item in value]
    return value
