"""Decision records read back by `summary` and `compare` are input from outside, not trusted.

Each regression test below is one way a JSON Lines file used to reach a traceback, a file
outside the project, or a silent exit 0. The property at the end mutates valid records of
every kind and asserts that only Arbiter diagnostics ever come out.
"""

from __future__ import annotations

import copy
import json
import tempfile
from functools import cache
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st

from engine.language.catalog import Catalog
from engine.cli import main
from engine.workspace.compare import MAX_NESTING, MAX_RECORD_BYTES, compare, read_decisions, summary
from engine.language.decision_model import validated
from engine.language.diagnostics import DiagnosticError
from engine.workspace.runner import score_paths

from .conftest import ROOT

INSPECTION_CASES = ("kent-2007/missing-persons", "kent-peel/2018/effectiveness", "kent-peel/2021/investigating-crime")
APPOINTMENT_CASES = ("appointments/kent-cc-2022/selection", "appointments/kent-cc-2022/hearing",
                     "appointments/kent-cc-2022/compliance")


@cache
def records_of(case: str) -> tuple[dict[str, Any], ...]:
    results, problems = score_paths([ROOT / "cases" / f"{case}.yaml"], Catalog(ROOT))
    assert not problems
    return tuple(r for result in results for r in result.records)


def graded() -> dict[str, Any]:
    """A copy of Kent's 2007 missing-persons decision (Good, framework hmic-2007)."""
    return json.loads(json.dumps(records_of(INSPECTION_CASES[0])[0]))


def write_lines(folder: Path, *lines: dict[str, Any] | str, name: str = "decisions.jsonl") -> Path:
    path = folder / name
    path.write_text("".join((line if isinstance(line, str) else json.dumps(line)) + "\n" for line in lines),
                    encoding="utf-8")
    return path


def run(*args) -> Any:
    return CliRunner().invoke(main, [str(a) for a in args] + ["--root", str(ROOT)])


def refused(result) -> str:
    """The output of a command that stopped on diagnostics: exit 2, and never a traceback."""
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output and ":0:0:" not in result.output
    return result.output


def value_column(record: dict[str, Any], key: str) -> int:
    """Where a top-level value starts on the line json.dumps writes for the record."""
    text = json.dumps(record)
    return text.index(f'"{key}": ') + len(f'"{key}": ') + 1


# --- ids that lead out of the project ------------------------------------------------------

def test_a_criteria_set_leading_out_of_the_project_is_never_read(tmp_path):
    outside = tmp_path / "elsewhere" / "secret.yaml"
    outside.parent.mkdir()
    outside.write_text("arbiter: criteria\nsecret_key: 1\n", encoding="utf-8")
    record = graded() | {"criteria_set": "../" * 40 + outside.with_suffix("").as_posix().lstrip("/")}
    path = write_lines(tmp_path, record)
    output = refused(run("summary", path))
    assert f"{path}:1:{value_column(record, 'criteria_set')}: error E113: 'criteria_set' is" in output
    assert "no '..'" in output and "secret_key" not in output


def test_a_framework_leading_out_of_the_project_is_never_read(tmp_path):
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    (outside / "framework.yaml").write_text("arbiter: framework\nsecret_key: 1\n", encoding="utf-8")
    record = graded() | {"framework": "../" * 40 + outside.as_posix().lstrip("/")}
    first, second = write_lines(tmp_path, graded(), name="a.jsonl"), write_lines(tmp_path, record, name="b.jsonl")
    for result in (run("compare", first, second), run("summary", second)):
        output = refused(result)
        assert f"{second}:1:{value_column(record, 'framework')}: error E113: 'framework' is" in output
        assert "secret_key" not in output and "framework.yaml" not in output


def test_an_absolute_id_is_refused(tmp_path):
    record = graded() | {"criteria_set": "/etc/passwd"}
    assert "error E113: 'criteria_set' is '/etc/passwd'" in refused(run("summary", write_lines(tmp_path, record)))


# --- fields of the wrong type or value ----------------------------------------------------

@pytest.mark.parametrize("key,value,code,message", [
    ("outcome", None, "E112", "'outcome' must be text, not null"),
    ("outcome", [1], "E112", "'outcome' must be text, not a list"),
    ("outcome", 3, "E112", "'outcome' must be text, not the number 3"),
    ("framework", 5, "E112", "'framework' must be text, not the number 5"),
    ("criteria_set", None, "E112", "'criteria_set' must be text, not null"),
    ("area", None, "E112", "'area' must be text, not null"),
    ("constructed", "yes", "E112", "'constructed' must be true or false, not 'yes'"),
    ("subgrades", {"q1": "good"}, "E112", "'subgrades' must be a list ([...]), not an object"),
    ("outcome", "excelent", "E113", "'outcome' is 'excelent', which is not an outcome of framework 'hmic-2007'"),
    ("uncapped_outcome", "adequate", "E113", "'uncapped_outcome' is 'adequate', which is not an outcome"),
])
def test_a_field_of_the_wrong_type_or_value_is_located_at_it(tmp_path, key, value, code, message):
    record = graded() | {key: value}
    path = write_lines(tmp_path, record)
    output = refused(run("summary", path))
    assert f"{path}:1:{value_column(record, key)}: error {code}: {message}" in output


def test_an_unknown_outcome_gets_a_did_you_mean(tmp_path):
    output = refused(run("summary", write_lines(tmp_path, graded() | {"outcome": "excelent"})))
    assert "hint: did you mean 'excellent'?" in output


@pytest.mark.parametrize("key", ["area", "outcome", "framework", "criteria_set", "case"])
def test_a_missing_field_is_named(tmp_path, key):
    record = graded()
    del record[key]
    path = write_lines(tmp_path, record)
    assert f"{path}:1:1: error E111: missing field '{key}'" in refused(run("summary", path))


def test_a_record_with_a_few_fields_of_the_wrong_types_is_not_accepted(tmp_path):
    path = write_lines(tmp_path, '{"format":"arbiter-decision/1","framework":5,"outcome":[1],"area":null}')
    output = refused(run("summary", path))
    assert f"{path}:1:1: error E111: missing fields 'decision_id', 'case'" in output
    assert f"{path}:1:44: error E112: 'framework' must be text, not the number 5" in output
    assert f"{path}:1:56: error E112: 'outcome' must be text, not a list" in output
    assert f"{path}:1:67: error E112: 'area' must be text, not null" in output


def test_an_unknown_field_is_named_with_a_did_you_mean(tmp_path):
    record = graded() | {"outcom": "good"}
    path = write_lines(tmp_path, record)
    column = json.dumps(record).index('"outcom"') + 1
    output = refused(run("summary", path))
    assert f"{path}:1:{column}: error E110: unknown field 'outcom'" in output
    assert "did you mean 'outcome'?" in output


# --- format and kind ------------------------------------------------------------------------

@pytest.mark.parametrize("change,expected", [
    ({"format": None}, "error E113: unknown record format null"),
    ({"format": "arbiter-decision/2"}, "error E113: unknown record format 'arbiter-decision/2'"),
    ({"kind": "interview"}, "error E113: unknown record kind 'interview'"),
    ({"kind": ["hearing"]}, "error E113: unknown record kind a list"),
])
def test_a_missing_or_unknown_format_or_kind_is_an_error(tmp_path, change, expected):
    output = refused(run("summary", write_lines(tmp_path, graded() | change)))
    assert expected in output


def test_a_record_without_a_format_is_not_a_decision(tmp_path):
    record = graded()
    del record["format"]
    path = write_lines(tmp_path, record)
    assert f"{path}:1:1: error E111: missing field 'format'" in refused(run("summary", path))


def test_a_json_value_that_is_not_an_object_is_not_a_record(tmp_path):
    output = refused(run("summary", write_lines(tmp_path, "[1, 2]", '"text"')))
    assert ":1:1: error E112: a decision record is a JSON object ({...}), not a list" in output
    assert ":2:1: error E112: a decision record is a JSON object ({...}), not '" in output


# --- ids naming files that do not exist -----------------------------------------------------

@pytest.mark.parametrize("change,expected", [
    ({"criteria_set": "hmic-2007/missing-person"},
     "error E120: unknown criteria set 'hmic-2007/missing-person'\n  hint: did you mean 'hmic-2007/missing-persons'?"),
    ({"framework": "hmic-207"}, "error E120: unknown framework 'hmic-207'\n  hint: did you mean 'hmic-2007'?"),
    ({"criteria_set": "hmic-2007/framework"}, "error E120: unknown criteria set 'hmic-2007/framework'"),
    ({"framework": "peel-2015"}, "error E113: criteria set 'hmic-2007/missing-persons' is graded under framework "
                                 "'hmic-2007', not 'peel-2015'"),
])
def test_an_id_must_name_a_file_of_its_kind_in_the_catalog(tmp_path, change, expected):
    path = write_lines(tmp_path, graded() | change)
    output = refused(run("summary", path))
    assert f"{path}:1:" in output and expected in output


def test_an_appointment_record_must_name_rules_of_its_kind(tmp_path):
    hearing = dict(records_of(APPOINTMENT_CASES[1])[0]) | {"framework": "appointments/kent-chief-constable-2022"}
    output = refused(run("summary", write_lines(tmp_path, hearing)))
    assert "error E120: unknown panel rules 'appointments/kent-chief-constable-2022'" in output
    assert "hint: valid: 'panels/confirmation-hearing'" in output


def test_an_appointment_outcome_must_be_its_kinds(tmp_path):
    hearing = dict(records_of(APPOINTMENT_CASES[1])[0]) | {"outcome": "vetoed"}
    output = refused(run("summary", write_lines(tmp_path, hearing)))
    assert "error E113: 'outcome' is 'vetoed', which is not allowed\n  hint: did you mean 'veto'?" in output


# --- huge, deep and broken lines ---------------------------------------------------------

@pytest.mark.parametrize("line", ["[" * 100_000 + "]" * 100_000, '{"a":' * 100_000 + "1" + "}" * 100_000])
def test_deeply_nested_json_is_refused_before_it_is_parsed(tmp_path, line):
    path = write_lines(tmp_path, line)
    output = refused(run("summary", path))
    assert f"{path}:1:1: error E177: the record nests 100,000 levels deep; the limit is {MAX_NESTING}" in output


def test_nesting_inside_a_record_counts_but_brackets_inside_text_do_not(tmp_path):
    brackets_in_text = graded() | {"area": "{[" * 1000}
    deep_trace = json.dumps(graded() | {"trace": "@"}).replace('"@"', "[" * (MAX_NESTING + 1) + "]" * (MAX_NESTING + 1))
    path = write_lines(tmp_path, brackets_in_text, deep_trace)
    output = refused(run("summary", path))
    assert f"{path}:2:1: error E177: the record nests {MAX_NESTING + 2} levels deep" in output
    assert f"{path}:1:" not in output


def test_a_line_longer_than_the_bound_is_skipped_unread_and_the_next_still_checked(tmp_path):
    long = graded() | {"area": "x" * (MAX_RECORD_BYTES + 1)}
    path = write_lines(tmp_path, long, graded() | {"outcome": None})
    output = refused(run("summary", path))
    assert f"{path}:1:1: error E102: the line is longer than {MAX_RECORD_BYTES:,} bytes" in output
    assert f"{path}:2:{value_column(graded(), 'outcome')}: error E112" in output


def test_a_number_too_long_to_read_is_a_syntax_error(tmp_path):
    path = write_lines(tmp_path, json.dumps(graded()).replace('"outcome": "good"', '"outcome": ' + "9" * 5000))
    assert f"{path}:1:1: error E103: not a JSON decision record: a number too long to read" in \
        refused(run("summary", path))


def test_broken_json_is_located_at_its_column(tmp_path):
    path = write_lines(tmp_path, '{"format": "arbiter-decision/1", "case": }')
    assert f"{path}:1:42: error E103: not a JSON decision record: Expecting value" in refused(run("summary", path))


def test_a_line_that_is_not_utf8_is_located_at_its_byte(tmp_path):
    path = tmp_path / "decisions.jsonl"
    path.write_bytes(b'{"area": "caf\xe9"}\n')
    assert f"{path}:1:14: error E101: line is not UTF-8: byte 0xe9 cannot be decoded" in refused(run("summary", path))


def test_half_a_character_escaped_in_json_is_refused(tmp_path):
    path = write_lines(tmp_path, json.dumps(graded() | {"area": "\ud800"}))
    assert f"{path}:1:1: error E101: the record escapes half of a UTF-16 pair" in refused(run("summary", path))


def test_a_key_written_twice_is_refused(tmp_path):
    text = json.dumps(graded()).replace('"outcome": "good"', '"outcome": "poor", "outcome": "good"')
    column = text.index('"outcome": "good"') + 1
    path = write_lines(tmp_path, text)
    assert f"{path}:1:{column}: error E104: duplicate key 'outcome'" in refused(run("summary", path))


def test_every_problem_of_every_line_is_reported_at_once(tmp_path):
    path = write_lines(tmp_path, graded(), "{not json", graded(), graded() | {"outcome": None},
                       graded() | {"framework": "../x", "area": 1}, "[" * 1000 + "]" * 1000)
    output = refused(run("summary", path))
    assert [line.split(": error ")[0].split(":")[-2] for line in output.splitlines() if ": error " in line] == \
        ["2", "4", "5", "5", "6"]
    assert "5 problems found" in output


# --- compare --------------------------------------------------------------------------------

def test_compare_refuses_a_file_of_another_kind_at_the_file(tmp_path):
    framework = ROOT / "criteria" / "hmic-2007" / "framework.yaml"
    output = refused(run("compare", framework, ROOT / "cases" / "kent-2007" / "missing-persons.yaml"))
    assert "criteria/hmic-2007/framework.yaml: error E114: a framework file holds no decision" in output


def test_compare_refuses_a_file_with_no_decisions_at_the_file(tmp_path):
    empty = write_lines(tmp_path, "", " ")
    output = refused(run("compare", empty, write_lines(tmp_path, graded(), name="b.jsonl")))
    assert f"{empty}: error E160: no decision to compare in this file" in output


def test_compare_refuses_an_appointment_decision_at_its_line(tmp_path):
    hearing = write_lines(tmp_path, graded(), *records_of(APPOINTMENT_CASES[1]), name="hearing.jsonl")
    output = refused(run("compare", write_lines(tmp_path, graded()), hearing))
    assert f"{hearing}:2:1: error E160: 'appointments/kent-cc-2022/hearing' has no grade to compare" in output


def test_compare_reports_the_problems_of_both_files_at_once(tmp_path):
    first = write_lines(tmp_path, graded() | {"outcome": None}, name="a.jsonl")
    second = write_lines(tmp_path, graded() | {"framework": "../x"}, name="b.jsonl")
    output = refused(run("compare", first, second))
    assert f"{first}:1:" in output and f"{second}:1:" in output


def test_compare_locates_a_refusal_across_frameworks_at_the_second_decision(tmp_path):
    first = ROOT / "cases" / "kent-peel" / "2015" / "q3-protecting-vulnerable-people.yaml"
    second = ROOT / "cases" / "kent-peel" / "2021" / "protecting-vulnerable-people.yaml"
    assert "cases/kent-peel/2021/protecting-vulnerable-people.yaml: error E160: grades under 'peel-2015' and " \
           "'peel-2021' cannot be compared" in refused(run("compare", first, second))


# --- what the writers write is what the readers read -------------------------------------

def test_every_decision_the_project_writes_reads_back_to_the_same_summary(tmp_path):
    written = run("score", ROOT / "cases", "--format", "json")
    assert written.exit_code == 0
    decisions = tmp_path / "all.jsonl"
    decisions.write_text(written.stdout, encoding="utf-8")
    kinds = {json.loads(line).get("kind", "inspection") for line in written.stdout.splitlines()}
    assert kinds == {"inspection", "candidate", "appointment", "hearing", "compliance_record", "pack"}
    for line in written.stdout.splitlines():
        validated(json.loads(line))  # the writers are held to the model the reader uses
    from_records, from_cases = run("summary", decisions), run("summary", ROOT / "cases")
    assert from_records.exit_code == 0, from_records.output
    assert from_records.output == from_cases.output


def test_within_one_framework_compare_reads_json_lines_as_it_scores_cases(tmp_path):
    first = ROOT / "cases" / "kent-peel" / "2021" / "investigating-crime.yaml"
    second = ROOT / "cases" / "kent-peel" / "2021" / "crime-data-integrity.yaml"
    a = write_lines(tmp_path, *records_of("kent-peel/2021/investigating-crime"), name="a.jsonl")
    b = write_lines(tmp_path, *records_of("kent-peel/2021/crime-data-integrity"), name="b.jsonl")
    from_lines, from_cases = run("compare", a, b), run("compare", first, second)
    assert from_lines.exit_code == 0 and from_lines.output == from_cases.output
    assert "3 levels higher" in from_lines.output


def test_a_decided_record_without_an_undecided_reason_is_valid(tmp_path):
    assert run("summary", write_lines(tmp_path, graded() | {"undecided_reason": None})).exit_code == 0


def test_a_record_the_model_does_not_describe_is_never_written():
    with pytest.raises(ValueError):
        validated(graded() | {"grade": "good"})
    with pytest.raises(ValueError):
        validated(dict(records_of(APPOINTMENT_CASES[1])[0]) | {"votes_for_veto": "7"})


# --- the property: mutated records give diagnostics, never another exception ---------------

@cache
def _every_record_text() -> str:
    return json.dumps([r for case in INSPECTION_CASES + APPOINTMENT_CASES for r in records_of(case)])


def every_record() -> list[dict[str, Any]]:
    """Every record the example cases give (scored once; a fresh copy per call)."""
    return json.loads(_every_record_text())


def places(value: Any, at: tuple = ()) -> list[tuple]:
    """Every path into a record: keys and list indexes."""
    found = [at]
    if isinstance(value, dict):
        found += [p for k, v in value.items() for p in places(v, at + (k,))]
    elif isinstance(value, list):
        found += [p for i, v in enumerate(value) for p in places(v, at + (i,))]
    return found


NESTED = "@nested@"  # replaced in the JSON text: building the nesting in Python would recurse in json.dumps
TRAVERSALS = ["../" * 30 + "etc/passwd", "/etc/passwd", "hmic-2007/../../../tmp", "..", "hmic-2007/", "a\\..\\b",
              "C:/x", "hmic-2007/missing-persons/..", "../criteria/hmic-2007/framework"]
WRONG_VALUES = [None, 0, -1, 2 ** 80, 1.5, True, False, "", "x", "\ud800", "\x00", [], {}, [1], {"a": 1}, ["../x"]]


@st.composite
def mutated_lines(draw) -> str:
    """A valid record with one to three things broken: a key dropped, a value retyped, an id
    leading out of the project, or a value nested deeply; sometimes the line is cut short."""
    record = json.loads(json.dumps(draw(st.sampled_from(every_record()))))
    nest_depth = 0
    for _ in range(draw(st.integers(1, 3))):
        place = draw(st.sampled_from(places(record)[1:]))
        parent = record
        for step in place[:-1]:
            parent = parent[step]
        action = draw(st.sampled_from(["drop", "retype", "traverse", "nest"]))
        if action == "drop" and isinstance(parent, dict):
            del parent[place[-1]]
        elif action == "traverse":
            parent[place[-1]] = draw(st.sampled_from(TRAVERSALS))
        elif action == "nest" and not nest_depth:
            parent[place[-1]] = NESTED
            nest_depth = draw(st.sampled_from([1, 2, MAX_NESTING - 3, MAX_NESTING + 1, 3000]))
        else:  # a copy: the same list put in twice could be put inside itself, a record JSON cannot hold
            parent[place[-1]] = copy.deepcopy(draw(st.sampled_from(WRONG_VALUES)))
    text = json.dumps(record).replace(f'"{NESTED}"', "[" * nest_depth + "{}" + "]" * nest_depth, 1)
    if draw(st.booleans()) and draw(st.booleans()):
        text = text[:draw(st.integers(0, len(text)))]
    return text


@given(line=mutated_lines())
def test_mutated_records_give_only_diagnostics(line, catalog):
    with tempfile.TemporaryDirectory() as folder:
        path = write_lines(Path(folder), line)
        try:
            decisions = read_decisions([path], catalog, score_paths)
        except DiagnosticError as error:
            assert error.diagnostics and all(d.path == str(path) and d.line == 1 for d in error.diagnostics)
            return
        summary([d.record for d in decisions], catalog)
        if decisions:
            try:
                compare(decisions[0], decisions[0], catalog)
            except DiagnosticError as error:
                assert all(d.code == "E160" for d in error.diagnostics)


@settings(max_examples=40)
@given(mutated_lines())
def test_mutated_records_through_the_command_line_exit_0_or_2(line):
    with tempfile.TemporaryDirectory() as folder:
        path = write_lines(Path(folder), line)
        for result in (run("summary", path), run("compare", path, path)):
            assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
            assert result.exit_code in (0, 2), result.output
            assert "Traceback" not in result.output


def test_a_named_pipe_given_as_json_lines_is_refused_without_opening_it(tmp_path, catalog):
    import os
    pipe = tmp_path / "decisions.jsonl"
    os.mkfifo(pipe)
    with pytest.raises(DiagnosticError) as raised:
        read_decisions([pipe], catalog, score_paths)  # a blocking open would hang here
    assert [d.code for d in raised.value.diagnostics] == ["E100"]
