"""Command-line values that are well formed but wrong here, located by the option's name.

Two kinds of mistake, two shapes, both exit 2:

- a value that is wrong on its face (`--before tomorrow`) is a click usage error raised by a
  parameter type in cli.py, naming the option and the accepted form;
- a value that is well formed but unknown in context (`--framework nope` in a ledger that has
  no such framework) is a Diagnostic whose place is the option, `--framework: error E174: ...`,
  with a did-you-mean, raised here by `option_error`.
"""

from __future__ import annotations

from typing import Iterable

from .diagnostics import Diagnostic, DiagnosticError, suggest


def option_error(option: str, message: str, hint: str, code: str = "E174") -> DiagnosticError:
    """A command-line value that is well formed but wrong here, located at its option."""
    return DiagnosticError([Diagnostic(option, 0, 0, code, message, hint)])


def unknown_value(option: str, what: str, value: str, known: Iterable[str]) -> DiagnosticError:
    """`--framework: error E174: no framework 'nope' ...` with a did-you-mean or the valid values."""
    return option_error(option, f"no {what} {value!r}", suggest(value, list(known)))
