"""The loader reads through libyaml's C parser and gives what PyYAML's pure-Python parser gives.

libyaml is the fast reader; PyYAML's own parser is the reference, whose positions and messages
every diagnostic gives. The laws: on any generated YAML text (every scalar style, block and
flow collections, comments, non-ASCII text, CRLF), and on any such text broken by a few edits,
the loader gives the same document (data, every value's and key's line and column, the raw text
of plain scalars, the dialect problems) or the same diagnostics, with libyaml and without it;
and so it does on every YAML file the project ships.
"""

from __future__ import annotations

from pathlib import Path
from unittest import mock

import pytest
from hypothesis import given

from engine.language import load
from engine.language.diagnostics import DiagnosticError

from .conftest import ROOT
from .strategies import broken_yaml_texts, yaml_texts

needs_libyaml = pytest.mark.skipif(load._CParser is None, reason="PyYAML was installed without libyaml")


def read(text: str, libyaml: bool) -> tuple:
    """Everything the loader makes of text: the whole document, or the diagnostics refusing it."""
    blob = text.encode("utf-8")
    with mock.patch.object(load, "_CParser", load._CParser if libyaml else None):
        try:
            doc = load.load_bytes(blob, "case.yaml")
        except DiagnosticError as error:
            return ("refused", error.diagnostics)
    return ("read", doc.data, doc.positions, doc.key_positions, doc.raw, doc.problems)


def read_fast(text: str):
    return load._read_fast(load._FORBIDDEN.sub("", text.removeprefix("\ufeff")), "case.yaml")


@needs_libyaml
@given(yaml_texts())
def test_libyaml_reads_a_document_as_the_python_parser_does(text):
    if text.endswith("\n"):  # else it may end in an empty value, which libyaml places otherwise
        assert read_fast(text) is not None, "well-formed text of the kinds libyaml reads alike is read by libyaml"
    assert read(text, libyaml=True) == read(text, libyaml=False)


@needs_libyaml
@given(broken_yaml_texts())
def test_libyaml_refuses_broken_yaml_as_the_python_parser_does(text):
    assert read(text, libyaml=True) == read(text, libyaml=False)


def shipped_yaml_files() -> list[Path]:
    found = [path for folder in ("criteria", "cases", "tests/fixtures", "tests/golden")
             for path in (ROOT / folder).rglob("*.y*ml")]
    return sorted(found)


@needs_libyaml
def test_every_shipped_file_reads_alike_and_clean_ones_through_libyaml():
    files = shipped_yaml_files()
    assert len(files) > 100
    through_libyaml = 0
    for path in files:
        text = path.read_bytes().decode("utf-8", errors="replace")
        outcome = read(text, libyaml=True)
        assert outcome == read(text, libyaml=False), path
        if outcome[0] == "read" and not outcome[-1]:
            assert read_fast(text) is not None, f"{path}: a clean file is read by libyaml"
            through_libyaml += 1
    assert through_libyaml > 100


# Each text below is one libyaml reads otherwise, or words otherwise, than PyYAML: the loader
# must give PyYAML's reading, word for word.
REFERENCE_READINGS = [
    ("a: b: c\n", "refused", "E103", (1, 5), "invalid YAML: mapping values are not allowed here"),
    ("a: [1, 2\nb: 3\n", "refused", "E103", (2, 2),
     "invalid YAML: expected ',' or ']', but got ':' (while parsing a flow sequence that starts at line 1, column 4)"),
    ("a:\tb\n", "refused", "E103", (1, 3), "invalid YAML: found character '\\t' that cannot start any token (while scanning for the next token)"),
    ("a: 1\n---\nb: 2\n", "refused", "E107", (2, 1), "file holds more than one YAML document"),
    ("a: &x 1\nb: *x\n", "read", "E105", (1, 4), "anchor '&x' is not allowed (the file has 1 anchor and 1 alias)"),
    ("a: *x\n", "read", "E105", (1, 4), "alias '*x' is not allowed"),
    ("a: !!str 1\n", "read", "E108", (1, 4), "explicit tag '!!str' is not allowed"),
    ("a: [b, c?]\n", "refused", "E103", (1, 9),
     "invalid YAML: expected ',' or ']', but got '?' (while parsing a flow sequence)"),  # libyaml reads 'c?'
    ("{id: , a: 1}\n", "read", None, None, None),  # libyaml places the empty value at 'a'
    ("{grade: 'x', \ufeffet: 1.}\n", "read", None, None, None),  # libyaml counts the mark's column otherwise
    ("- ?", "read", None, None, None),  # libyaml places an empty value at the end on a line past the text
    ("a: >#\n  x\n", "refused", "E103", (1, 5), "invalid YAML: expected chomping or indentation indicators, "
     "but found '#' (while scanning a block scalar)"),  # libyaml reads '#' as a comment
    ("a: " + "[" * 70 + "]" * 70 + "\n", "read", None, None, None),  # deeper than libyaml is trusted with
]


@needs_libyaml
@pytest.mark.parametrize("text, outcome, code, where, message", REFERENCE_READINGS)
def test_the_python_parser_reads_what_libyaml_reads_otherwise(text, outcome, code, where, message):
    assert read_fast(text) is None
    assert read(text, libyaml=True) == read(text, libyaml=False)
    result = read(text, libyaml=True)
    assert result[0] == outcome
    if text.startswith("{id: "):
        assert result[2][("id",)] == (1, 5), "an empty value is placed just after its ':'"
    if text == "- ?":
        assert result[2][(0, "")] == (1, 4), "an empty value at the end is placed just after its '?'"
    diagnostics = result[1] if outcome == "refused" else result[-1]
    if code is None:
        assert not diagnostics
        return
    first = diagnostics[0]
    assert (first.code, (first.line, first.col), first.message) == (code, where, message)


@needs_libyaml
def test_libyaml_keeps_columns_in_characters_and_lines_across_crlf():
    text = "naïve: é\r\n評価:\r\n  - 数据\r\n  - 'x'\r\n"
    assert read_fast(text) is not None
    doc = load.load_bytes(text.encode("utf-8"), "case.yaml")
    assert doc.positions[("naïve",)] == (1, 8)
    assert doc.key_positions[("評価",)] == (2, 1)
    assert doc.positions[("評価", 1)] == (4, 5)
    assert read(text, libyaml=True) == read(text, libyaml=False)
