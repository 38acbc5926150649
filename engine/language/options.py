"""Command-line values: parsed and checked where they are typed, located by the option's name.

Two kinds of mistake, two shapes, both exit 2:

- a value that is wrong on its face (`--before tomorrow`) is a click usage error raised by a
  parameter type here, naming the option and the accepted form;
- a value that is well formed but unknown in context (`--framework nope` in a ledger that has
  no such framework) is a Diagnostic whose place is the option, `--framework: error E174: ...`,
  with a did-you-mean, raised by `option_error`.
"""

from __future__ import annotations

import datetime
from typing import Iterable

import click

from .diagnostics import Diagnostic, DiagnosticError, suggest

DATE_FORM = "YYYY-MM-DD"


class IsoDate(click.ParamType):
    """A calendar date written YYYY-MM-DD; anything else ('tomorrow', '31/12/2019',
    '2024-02-30', '') is refused before any command runs."""

    name = "date"

    def convert(self, value, param, ctx) -> datetime.date:
        if isinstance(value, datetime.date):
            return value
        text = str(value)
        try:
            if len(text) != 10:
                raise ValueError(text)
            return datetime.date.fromisoformat(text)
        except ValueError:
            self.fail(f"E174: {text!r} is not a date; write it as {DATE_FORM} (e.g. 2024-06-30)", param, ctx)


ISO_DATE = IsoDate()


class HeadHash(click.ParamType):
    """A ledger head as `arbiter head` prints it: 64 lowercase hexadecimal digits."""

    name = "hash"

    def convert(self, value, param, ctx) -> str:
        text = str(value)
        if len(text) != 64 or any(ch not in "0123456789abcdef" for ch in text):
            self.fail(f"E174: {text[:80]!r} is not a head hash; give the 64 hexadecimal digits `arbiter head` "
                      "printed", param, ctx)
        return text


HEAD_HASH = HeadHash()


def option_error(option: str, message: str, hint: str, code: str = "E174") -> DiagnosticError:
    """A command-line value that is well formed but wrong here, located at its option."""
    return DiagnosticError([Diagnostic(option, 0, 0, code, message, hint)])


def unknown_value(option: str, what: str, value: str, known: Iterable[str]) -> DiagnosticError:
    """`--framework: error E174: no framework 'nope' ...` with a did-you-mean or the valid values."""
    return option_error(option, f"no {what} {value!r}", suggest(value, list(known)))
