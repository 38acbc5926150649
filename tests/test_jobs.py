"""`--jobs N`: score, test and impact spread over processes print exactly what one process
prints, exit alike, report the same problems in the same order and record the same ledger
entries; a progress bar is drawn on standard error only when it is a terminal.

The whole cases/ tree is run both ways: inspections, PEEL, decision graphs, appointments and
packs (whose files are decided in the calling process when they rest on other files of the
run), and the invalid examples."""

from __future__ import annotations

import json
import os
import pty
import select
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from engine.cli import main
from engine.language.catalog import Catalog
from engine.runtime import durable
from engine.workspace import parallel, runner

from .conftest import ROOT
from .test_impact import copy_project, lower_vast_majority

CASES = ROOT / "cases"
INVALID = sorted((CASES / "invalid").rglob("*.yaml"))
GRAPH = CASES / "examples-decision-graph"
ARBITER = Path(sys.executable).parent / "arbiter"


def run(*args):
    return CliRunner().invoke(main, [str(a) for a in args], catch_exceptions=False)


def same_run(*args):
    """The command run with --jobs 1 and --jobs 2: the second must print and exit exactly as
    the first does. Returns the first."""
    one = run(*args, "--jobs", "1")
    two = run(*args, "--jobs", "2")
    assert (two.exit_code, two.stdout) == (one.exit_code, one.stdout)
    assert two.stderr == one.stderr
    return one


@pytest.mark.parametrize("options", [
    ["--format", "json"],
    ["--format", "table"],
    ["--format", "markdown", "--explain", "full"],
])
def test_score_prints_the_same_over_two_processes(options):
    """Every case of the tree, and the invalid examples named one by one (their problems)."""
    first = same_run("score", CASES, *INVALID, *options, "--root", ROOT)
    assert first.exit_code == 2 and "error E" in first.stderr
    if options[1] == "json":
        assert len(first.stdout.splitlines()) > 300


def test_score_of_valid_cases_exits_0_both_ways():
    first = same_run("score", CASES / "kent-2007", CASES / "appointments", GRAPH, "--root", ROOT)
    assert first.exit_code == 0 and first.stderr == ""


def test_test_prints_the_same_over_two_processes():
    first = same_run("test", "--root", ROOT)
    assert first.exit_code == 0 and " 0 failed" in first.stdout


def test_a_failing_test_fails_alike(tmp_path):
    project = copy_project(tmp_path / "project")
    case = project / "cases/kent-2007/child-abuse.yaml"
    text = case.read_text(encoding="utf-8")
    assert text.count("expect:\n  outcome: fair\n") == 1
    case.write_text(text.replace("expect:\n  outcome: fair\n", "expect:\n  outcome: poor\n"), encoding="utf-8")
    first = same_run("test", project / "cases/kent-2007", project / "cases/national-2007", "--root", project)
    assert first.exit_code == 1 and "1 failed" in first.stdout


def test_impact_prints_the_same_over_two_processes(tmp_path):
    base = copy_project(tmp_path / "base")
    project = copy_project(tmp_path / "project")
    lower_vast_majority(project)
    first = same_run("impact", "--base-dir", base, "--root", project)
    assert "vast majority: at least 4 of 4 -> at least 3 of 4" in first.stdout


def test_a_file_given_elsewhere_feeds_the_graph_alike(tmp_path):
    """A case's input given at another place than cases/ (same id, other findings) is the one
    the run decides, whichever process the two files would fall to: the case and its input are
    decided together in the calling process."""
    project = copy_project(tmp_path / "project")
    moved = tmp_path / "elsewhere" / "q1.yaml"
    moved.parent.mkdir()
    source = (project / "cases/examples-decision-graph/q1-preventing-crime.yaml").read_text(encoding="utf-8")
    moved.write_text(source.replace("finding: met", "finding: not_met"), encoding="utf-8")
    assert moved.read_text(encoding="utf-8") != source
    between = sorted((project / "cases/national-2007").rglob("*.yaml"))[:40]
    args = ["score", project / "cases/examples-decision-graph/overall.yaml", *between, moved,
            "--format", "json", "--root", project]
    first = same_run(*args)
    alone = run("score", project / "cases/examples-decision-graph/overall.yaml", "--format", "json", "--root", project)
    overall = [line for line in first.stdout.splitlines() if '"examples-decision-graph/overall"' in line]
    assert overall and overall[0] not in alone.stdout  # the input given decided it, not the one under cases/


def test_files_resting_on_nothing_are_decided_in_the_other_processes():
    """Each process decides with its own durable-rules host: files that rest on no other file
    of the run leave this process's host untouched (it runs no evaluation)."""
    catalog = Catalog(ROOT)
    paths = sorted((CASES / "national-2007").rglob("*.yaml"))[:24]
    serial, _ = runner.score_paths(paths, catalog)
    own = durable.host()
    before = own.evaluations
    spread, problems = parallel.score_paths(paths, catalog, 2, sources=False)
    assert durable.host() is own and own.evaluations == before
    assert not problems and [r.json_lines() for r in spread] == [r.json_lines() for r in serial]
    assert all(r.source is None for r in spread)
    assert [r.explain("full", True) for r in spread] == [r.explain("full", True) for r in serial]


def test_ties_name_the_files_that_rest_on_others():
    """The files decided again with the whole run: a graph's cases, a pack and its evidence,
    and cases sharing an id; none of the others."""
    catalog = Catalog(ROOT)
    paths = [GRAPH / "overall.yaml", CASES / "kent-2007/child-abuse.yaml", GRAPH / "q1-preventing-crime.yaml",
             CASES / "appointments/kent-cc-2022/selection.yaml", CASES / "appointments/kent-cc-2022/pack.yaml",
             CASES / "appointments/constructed/tie.yaml", CASES / "kent-2007/child-abuse.yaml"]
    ties = [parallel.ties_of(path, item) for path, item, _ in runner.read_each(paths, catalog)]
    assert parallel.tied(ties) == [0, 1, 2, 3, 4, 6]
    assert parallel.tied(ties[1:2] + ties[5:6]) == []


def test_record_appends_the_same_entries(tmp_path):
    """--record stays in the calling process, one transaction: the same entries, in the same
    order, with the same blobs."""
    ledgers = []
    for jobs in ("1", "2"):
        ledger = tmp_path / f"ledger-{jobs}.sqlite"
        result = run("score", CASES / "kent-2007", CASES / "appointments", GRAPH, "--record", "--ledger", ledger,
                     "--by", "tester", "--jobs", jobs, "--format", "json", "--root", ROOT)
        assert result.exit_code == 0, result.output
        ledgers.append(ledger)
    one, two = (entries(ledger) for ledger in ledgers)
    assert one == two and len(one) > 20


def entries(ledger: Path) -> list[dict]:
    """Every entry exported, without what depends on when it was recorded."""
    exported = run("export", "--ledger", ledger)
    assert exported.exit_code == 0, exported.output
    return [{key: value for key, value in json.loads(line).items() if key not in ("recorded_at", "hash", "prev")}
            for line in exported.stdout.splitlines()]


@pytest.mark.parametrize("command", [["score", CASES / "kent-2007"], ["test"], ["impact", "--base-dir", ROOT]])
@pytest.mark.parametrize("value", ["0", "-1", "two", "1.5", "", "99999999999"])
def test_a_bad_number_of_processes_is_refused(command, value):
    result = run(*command, "--jobs", value, "--root", ROOT)
    assert result.exit_code == 2
    assert "--jobs: error E174" in result.stderr and "hint:" in result.stderr
    assert "Traceback" not in result.output and result.stdout == ""


def test_auto_is_one_process_per_core():
    assert parallel.parse_jobs("auto") == parallel.available_cores() >= 1
    assert parallel.parse_jobs(" 3 ") == 3
    result = run("score", CASES / "kent-2007", "--jobs", "auto", "--root", ROOT)
    assert result.exit_code == 0


@pytest.mark.parametrize("jobs", [0, -2, True, 1.0])
def test_the_api_refuses_a_number_that_is_no_number_of_processes(jobs):
    with pytest.raises(Exception) as raised:
        parallel.score_paths([CASES / "kent-2007"], Catalog(ROOT), jobs)
    assert "E174" in str(raised.value)


def test_a_progress_bar_only_on_a_terminal():
    """Standard error a terminal: a bar, and standard output unchanged; a pipe: no bar."""
    args = [str(ARBITER), "score", str(CASES / "national-2007"), "--jobs", "2", "--format", "json",
            "--root", str(ROOT)]
    piped = subprocess.run(args, capture_output=True, text=True, timeout=600)
    stdout, terminal_text, code = run_with_terminal_stderr(args)
    assert code == piped.returncode == 0
    assert stdout == piped.stdout and piped.stderr == ""
    assert "grading" in terminal_text and "100%" in terminal_text


def run_with_terminal_stderr(args: list[str]) -> tuple[str, str, int]:
    """Run args with standard error a pseudo-terminal and standard output a pipe."""
    controller, terminal = pty.openpty()
    process = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=terminal, stdin=subprocess.DEVNULL)
    os.close(terminal)
    shown = bytearray()
    reading = [process.stdout.fileno(), controller]
    output = bytearray()
    while reading:
        ready, _, _ = select.select(reading, [], [], 600)
        if not ready:
            process.kill()
            raise AssertionError("the command did not finish")
        for fd in ready:
            try:
                chunk = os.read(fd, 65536)
            except OSError:  # the terminal closes once the command has ended
                chunk = b""
            if not chunk:
                reading.remove(fd)
            elif fd == controller:
                shown += chunk
            else:
                output += chunk
    os.close(controller)
    return output.decode(), shown.decode(errors="replace"), process.wait(timeout=60)


def test_help_shows_the_option():
    for command in ("score", "test", "impact"):
        result = run(command, "--help")
        assert "--jobs N|auto" in result.stdout
