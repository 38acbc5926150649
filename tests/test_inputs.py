"""Hostile inputs: whatever a user gives a command, the answer is a located diagnostic with a
stable code and a hint, and exit 2; never a traceback, never a hang, never a changed file."""

from __future__ import annotations

import errno
import os
import re
import resource
import stat
import shutil
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from click.testing import CliRunner

from engine.language import load
from engine.language.catalog import MISSING, REGULAR, Catalog, declared_kind, file_status
from engine.cli import main
from engine.language.diagnostics import DiagnosticError
from engine.language.load import load_bytes, load_file, read_regular_file
from engine.workspace.runner import case_files, yaml_files

from .conftest import ROOT

KENT_CASE = ROOT / "cases" / "kent-2007" / "child-abuse.yaml"
SELECTION = ROOT / "cases" / "appointments" / "kent-cc-2022" / "selection.yaml"
PROCESS_ID = "appointments/kent-chief-constable-2022"
CRITERIA_FILE = ROOT / "criteria" / "hmic-2007" / "child-abuse.yaml"
SHEET_ARGS = ("--candidates", "cand-a", "--panel", "pcc:chair")
HANG = 30  # seconds: far beyond any of these commands, short enough to fail rather than hang CI


def run(*args):
    return CliRunner().invoke(main, [str(a) for a in args], catch_exceptions=False)


def within(seconds: float, action):
    """action's result, failing the test (not hanging it) when it does not finish in time.

    Never for an action that scores: durable-rules runs in one thread of a process only.
    """
    outcome: dict = {}

    def target():
        try:
            outcome["value"] = action()
        except BaseException as error:  # any failure, handed back to the test thread
            outcome["error"] = error

    worker = threading.Thread(target=target, daemon=True)
    worker.start()
    worker.join(seconds)
    assert not worker.is_alive(), f"still running after {seconds}s: it hangs"
    if "error" in outcome:
        raise outcome["error"]
    return outcome.get("value")


class Finished:
    """A command run in a child process: exit_code and output, as CliRunner gives them."""

    def __init__(self, completed: subprocess.CompletedProcess):
        self.exit_code = completed.returncode
        self.output = completed.stdout + completed.stderr


def run_bounded(*args) -> Finished:
    """Run a command in a child process with 1 GiB of memory and HANG seconds: reading a
    device or a huge file whole fails there, not on the machine running the tests."""
    def limit_memory():
        resource.setrlimit(resource.RLIMIT_AS, (1024 ** 3, 1024 ** 3))

    return Finished(subprocess.run([sys.executable, "-c", "from engine.cli import main; main()", *map(str, args)],
                                   cwd=ROOT, preexec_fn=limit_memory, capture_output=True, text=True, timeout=HANG))


def refused(result, code: str) -> str:
    """The output of a command that must refuse its input with code, as the rules say."""
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output
    assert f"error {code}:" in result.output, result.output
    assert "hint:" in result.output, result.output
    assert ":0:0:" not in result.output, result.output
    return result.output


def with_line(text: str, pattern: str, replacement: str) -> str:
    changed, count = re.subn(pattern, replacement, text, count=1, flags=re.M)
    assert count == 1, pattern
    return changed


# --- characters YAML forbids -----------------------------------------------------------------

@pytest.mark.parametrize("char,name", [("\x00", "U+0000 (NUL)"), ("\x01", "U+0001"),
                                       ("\uffff", "U+FFFF (noncharacter)")])
def test_a_forbidden_character_in_a_comment_is_located(tmp_path, char, name):
    text = KENT_CASE.read_text(encoding="utf-8")
    case = tmp_path / "case.yaml"
    case.write_text(with_line(text, r"^subject: .*$", "# said by the force" + char + "\n\\g<0>"), encoding="utf-8")
    output = refused(run("validate", case, "--root", ROOT), "E109")
    line = text[: text.index("\nsubject:")].count("\n") + 2
    assert f"case.yaml:{line}:20: error E109: character {name} is not allowed" in output


def test_a_forbidden_character_is_reported_with_every_other_problem(tmp_path):
    text = KENT_CASE.read_text(encoding="utf-8")
    text = with_line(text, r"^subject: (.*)$", "subject: \\1\x01\nsubjet: typo")
    case = tmp_path / "case.yaml"
    case.write_text(text.replace("period:", "# \x00\nperiod:", 1), encoding="utf-8")
    output = refused(run("validate", case, "--root", ROOT), "E109")
    assert output.count("error E109:") == 2 and "error E110: unknown field 'subjet'" in output


def test_a_file_holding_nothing_but_a_nul_is_empty_and_says_why():
    with pytest.raises(DiagnosticError) as raised:
        load_bytes(b"\x00", "nul.yaml")
    assert [d.code for d in raised.value.diagnostics] == ["E109", "E107"]


def test_forbidden_characters_are_counted_by_line_up_to_a_limit():
    blob = b"a: b\n" + b"# \x01\x02\n" * (load.MAX_REPORTED_LINES + 5)
    problems = load_bytes(blob, "x.yaml").problems
    assert len(problems) == load.MAX_REPORTED_LINES + 1
    assert "(and 1 more on this line)" in problems[0].message
    assert problems[-1].message.startswith("5 more lines")


# --- only regular files, and never more than the limit -----------------------------------------

@pytest.mark.skipif(not Path("/dev/zero").exists(), reason="needs /dev/zero")
@pytest.mark.parametrize("command", ["score", "test"])
def test_a_device_is_never_read(command):
    output = refused(run_bounded(command, "/dev/zero", "--root", ROOT), "E100")
    assert "/dev/zero: error E100: not a regular file: it is a device" in output


def test_the_size_is_checked_before_reading(tmp_path):
    huge = tmp_path / "huge.yaml"
    with huge.open("wb") as stream:
        stream.truncate(4 * 1024 ** 3)  # sparse: 4 GiB, more than the child process may hold
    output = refused(run_bounded("validate", huge, "--root", ROOT), "E102")
    assert f"file is {4 * 1024 ** 3:,} bytes; the limit is" in output


@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="needs /proc")
def test_the_read_is_bounded_when_a_file_says_it_is_empty(monkeypatch):
    """Files under /proc report size 0 and have content, as a file that grows after the check."""
    assert os.stat("/proc/self/status").st_size == 0
    monkeypatch.setattr(load, "MAX_BYTES", 16)
    with pytest.raises(DiagnosticError) as raised:
        load_file("/proc/self/status")
    (problem,) = raised.value.diagnostics
    assert problem.code == "E102" and "more than 16 bytes" in problem.message
    assert len(read_regular_file("/proc/self/status", 16)) == 17


# --- pipes, sockets, links -----------------------------------------------------------------

needs_fifo = pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs named pipes")


@needs_fifo
@pytest.mark.parametrize("command", ["score", "validate", "test", "summary"])
def test_a_pipe_named_directly_is_refused_unopened(tmp_path, command):
    pipe = tmp_path / "pipe.yaml"
    os.mkfifo(pipe)
    output = refused(within(HANG, lambda: run(command, pipe, "--root", ROOT)), "E100")
    assert "not a regular file: it is a named pipe (FIFO)" in output


@needs_fifo
@pytest.mark.parametrize("command,done", [("validate", "1 file valid"), ("score", "kent-2007/child-abuse"),
                                          ("test", "1 passed, 0 failed"), ("summary", "hmic-2007")])
def test_pipes_and_link_loops_in_a_folder_are_skipped(tmp_path, command, done):
    folder = tmp_path / "cases"
    (folder / "kent-2007").mkdir(parents=True)
    (folder / "kent-2007" / "child-abuse.yaml").write_bytes(KENT_CASE.read_bytes())
    os.mkfifo(folder / "pipe.yaml")
    (folder / "loop-a.yaml").symlink_to("loop-b.yaml")
    (folder / "loop-b.yaml").symlink_to("loop-a.yaml")
    (folder / "nested").symlink_to(folder, target_is_directory=True)  # a folder loop
    # The search alone in a thread: durable-rules, which scores, runs in one thread only.
    assert within(HANG, lambda: yaml_files([folder])) == [folder / "kent-2007" / "child-abuse.yaml"]
    assert within(HANG, lambda: case_files([folder])) == [folder / "kent-2007" / "child-abuse.yaml"]
    result = run(command, folder, "--root", ROOT)
    assert result.exit_code == 0, result.output
    assert done in result.output


@needs_fifo
def test_sniffing_a_kind_never_opens_a_pipe(tmp_path):
    pipe = tmp_path / "pipe.yaml"
    os.mkfifo(pipe)
    assert within(HANG, lambda: declared_kind(pipe)) is None
    assert within(HANG, lambda: file_status(pipe)) == "not a regular file"


def test_a_link_loop_named_as_output_is_refused(tmp_path):
    (tmp_path / "a.yaml").symlink_to("b.yaml")
    (tmp_path / "b.yaml").symlink_to("a.yaml")
    output = refused(within(HANG, lambda: run("scoresheet", PROCESS_ID, *SHEET_ARGS, "-o", tmp_path / "a.yaml",
                                              "--root", ROOT)), "E117")
    assert "--output: error E117:" in output and "symbolic link" in output


# --- ids long enough to break a path -------------------------------------------------------------

LONG = "a" * 300


APPOINTMENTS = ROOT / "cases" / "appointments" / "kent-cc-2022"
NAMING_FIELDS = [(KENT_CASE, "criteria", "score"), (SELECTION, "process", "score"),
                 (APPOINTMENTS / "hearing.yaml", "panel_rules", "score"),
                 (APPOINTMENTS / "compliance.yaml", "compliance", "score"), (CRITERIA_FILE, "framework", "validate")]


@pytest.mark.parametrize("source,field,command", NAMING_FIELDS, ids=[field for _, field, _ in NAMING_FIELDS])
@pytest.mark.parametrize("value,limit", [(LONG, "an id is at most 100 characters"),
                                         ("/".join(["d" * 90] * 3), "a path id is at most 200 characters")],
                         ids=["one-part", "whole-path"])
def test_an_id_too_long_for_a_file_name_is_refused_at_its_line(tmp_path, source, field, command, value, limit):
    text = source.read_text(encoding="utf-8")
    changed = tmp_path / "file.yaml"
    changed.write_text(with_line(text, rf"^{field}: .*$", f"{field}: {value}"), encoding="utf-8")
    line = text[: re.search(rf"^{field}:", text, re.M).start()].count("\n") + 1
    output = refused(run(command, changed, "--root", ROOT), "E113")
    assert f"file.yaml:{line}:1: error E113: {limit}" in output


def test_a_process_id_too_long_for_a_file_name_is_refused_at_its_argument():
    output = refused(run("scoresheet", LONG, *SHEET_ARGS, "--root", ROOT), "E113")
    assert "PROCESS: error E113: an id is at most 100 characters" in output


def test_a_path_that_cannot_be_looked_up_is_said_so():
    assert file_status(Path("criteria") / f"{LONG}.yaml") == os.strerror(errno.ENAMETOOLONG)
    assert file_status(ROOT / "nope.yaml") == MISSING
    assert file_status(ROOT / "README.md" / "below.yaml") == MISSING
    assert file_status(KENT_CASE) == REGULAR


@pytest.mark.parametrize("option,value,place", [("--id", "x: y", "--id"), ("--id", LONG, "--id"),
                                                ("--candidates", LONG, "--candidates/--panel")])
def test_scoresheet_ids_are_checked_before_they_are_written(option, value, place):
    args = {"--candidates": "cand-a", "--panel": "pcc:chair", option: value}
    output = refused(run("scoresheet", PROCESS_ID, *[part for pair in args.items() for part in pair], "--root", ROOT),
                     "E113")
    assert output.startswith(f"{place}: error E113:")


# --- one file, one kind ----------------------------------------------------------------------

def test_a_process_then_a_case_naming_it_as_criteria_in_one_run(tmp_path):
    case = tmp_path / "case.yaml"
    case.write_text(with_line(KENT_CASE.read_text(encoding="utf-8"), r"^criteria: .*$", f"criteria: {PROCESS_ID}"),
                    encoding="utf-8")
    output = refused(run("score", SELECTION, case, "--root", ROOT, "--format", "json"), "E114")
    assert "kent-chief-constable-2022.yaml:3:10: error E114: expected a criteria file, found a selection_process" \
        in output


def test_the_catalog_never_answers_one_path_as_two_kinds():
    catalog = Catalog(ROOT)
    path = catalog.path_of(PROCESS_ID)
    assert catalog.load(path, "selection_process").model.arbiter == "selection_process"
    with pytest.raises(DiagnosticError) as raised:
        catalog.load(path, "criteria")
    assert [d.code for d in raised.value.diagnostics] == ["E114"]


def test_evidence_naming_a_file_of_another_kind_is_told_at_its_line(tmp_path):
    evidence = tmp_path / "hearing.yaml"
    hearing = (ROOT / "cases" / "appointments" / "kent-cc-2022" / "hearing.yaml").read_text(encoding="utf-8")
    evidence.write_text(with_line(hearing, r"^panel_rules: .*$", f"panel_rules: {PROCESS_ID}"), encoding="utf-8")
    output = refused(run("validate", evidence, "--root", ROOT), "E114")
    assert f"hearing.yaml:5:14: error E114: '{PROCESS_ID}' is a selection process file, not a panel rules file" \
        in output


def test_scoresheet_of_a_criteria_set_is_told_at_its_argument():
    output = refused(run("scoresheet", "hmic-2007/child-abuse", *SHEET_ARGS, "--root", ROOT), "E114")
    assert "PROCESS: error E114: 'hmic-2007/child-abuse' is a criteria file, not a selection process" in output


# --- what each command is given ----------------------------------------------------------------

def test_test_names_a_criteria_file_for_what_it_is():
    output = refused(run("test", CRITERIA_FILE, "--root", ROOT), "E114")
    assert "child-abuse.yaml:2:10: error E114: the file is a criteria file, not a case; arbiter test runs cases" \
        in output


def test_test_names_a_binary_file_for_what_it_is(tmp_path):
    binary = tmp_path / "ledger.yaml"
    binary.write_bytes(bytes(range(256)) * 4)
    output = refused(run("test", binary, "--root", ROOT), "E114")
    assert "ledger.yaml: error E114: the file is a binary file, not a case" in output


def test_test_names_json_lines_for_what_they_are(tmp_path):
    decisions = tmp_path / "decisions.jsonl"
    decisions.write_text(run("score", KENT_CASE, "--format", "json").output, encoding="utf-8")
    output = refused(run("test", decisions, "--root", ROOT), "E114")
    assert "decisions.jsonl: error E114: the file is a JSON Lines file of decisions, not a case" in output


def test_test_refuses_every_file_that_is_no_test_at_once(tmp_path):
    binary = tmp_path / "binary.yaml"
    binary.write_bytes(b"\x00\xff" * 64)
    output = refused(run("test", CRITERIA_FILE, binary, KENT_CASE, "--root", ROOT), "E114")
    assert "2 problems found" in output and "passed" not in output


def test_a_case_named_directly_still_runs():
    result = run("test", KENT_CASE)
    assert result.exit_code == 0 and "\n1 passed, 0 failed\n" in result.output


@pytest.mark.parametrize("command", [("validate", KENT_CASE), ("score", KENT_CASE), ("test",), ("compile",),
                                     ("summary", KENT_CASE), ("scoresheet", PROCESS_ID, *SHEET_ARGS)])
def test_a_missing_root_is_said_so(tmp_path, command):
    output = refused(run(*command, "--root", tmp_path / "nonexistent"), "E100")
    assert f"--root: error E100: no such folder: {tmp_path / 'nonexistent'}" in output


def test_a_root_without_criteria_is_said_so(tmp_path):
    output = refused(run("validate", KENT_CASE, "--root", tmp_path), "E100")
    assert f"--root: error E100: {tmp_path} has no criteria/ folder" in output


def test_scoresheet_never_writes_through_a_link(tmp_path):
    target = tmp_path / "elsewhere.yaml"
    link = tmp_path / "sheet.yaml"
    link.symlink_to(target)  # pointing nowhere yet: a plain exists() check passes it
    output = refused(run("scoresheet", PROCESS_ID, *SHEET_ARGS, "-o", link, "--root", ROOT), "E117")
    assert f"--output: error E117: {link} is a symbolic link" in output
    assert not target.exists() and link.is_symlink()


def test_scoresheet_never_overwrites_and_says_so_at_the_option(tmp_path):
    existing = tmp_path / "sheet.yaml"
    existing.write_text("keep me\n", encoding="utf-8")
    output = refused(run("scoresheet", PROCESS_ID, *SHEET_ARGS, "-o", existing, "--root", ROOT), "E117")
    assert f"--output: error E117: {existing} exists" in output
    assert existing.read_text(encoding="utf-8") == "keep me\n"


def test_update_never_writes_a_golden_file_through_a_link(tmp_path):
    invalid = tmp_path / "invalid"
    invalid.mkdir()
    (invalid / "bad.yaml").write_text("arbiter: casee\n", encoding="utf-8")
    target = tmp_path / "elsewhere.txt"
    (invalid / "bad.expected").symlink_to(target)
    result = run("test", "--update", invalid, "--root", ROOT)
    assert result.exit_code == 1 and "E117" in result.output and not target.exists()


def test_a_regular_file_reads_whole():
    blob = read_regular_file(KENT_CASE, load.MAX_BYTES)
    assert blob == KENT_CASE.read_bytes() and stat.S_ISREG(os.stat(KENT_CASE).st_mode)


@pytest.mark.parametrize("command", ["validate", "score", "test"])
def test_a_folder_with_nothing_to_run_is_refused_not_counted_as_none(tmp_path, command):
    (tmp_path / "notes.txt").write_text("not yaml", encoding="utf-8")
    result = CliRunner().invoke(main, [command, str(tmp_path), "--root", str(ROOT)])
    assert result.exit_code == 2, result.output
    assert "error E100: the folder holds no" in result.output


def test_a_folder_of_criteria_is_not_a_folder_of_tests():
    result = CliRunner().invoke(main, ["test", str(ROOT / "criteria" / "scales"), "--root", str(ROOT)])
    assert result.exit_code == 2 and "holds no cases" in result.output, result.output


def test_a_symbolic_link_loop_in_rules_is_an_orphan_not_a_crash(tmp_path):
    for tree in ("criteria", "rules"):
        shutil.copytree(ROOT / tree, tmp_path / tree)
    (tmp_path / "rules" / "loop.json").symlink_to("loop.json")
    result = CliRunner().invoke(main, ["compile", "--check", "--root", str(tmp_path)])
    assert result.exit_code == 1 and "rules/loop.json:1:1: error E142" in result.output, result.output
