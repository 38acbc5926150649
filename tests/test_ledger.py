"""The decision ledger: record, verify, replay, override, purge, and survive real processes."""

from __future__ import annotations

import json
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from engine.ledger import audit
from engine.cli import main
from engine.ledger.ledger import Ledger
from engine.workspace.runner import CASE_KINDS, score_paths, yaml_files
from engine.language.catalog import declared_kind

from .conftest import ROOT

ARBITER = Path(sys.executable).parent / "arbiter"
KENT_SELECTION = ROOT / "cases" / "appointments" / "kent-cc-2022" / "selection.yaml"
NAMES = ["Tim Smith", "Matthew Scott", "Matthew Boughton", "Henu Cummins", "Rebecca Humphreys"]


def run(*args):
    return CliRunner().invoke(main, [str(a) for a in args], catch_exceptions=False)


def recorded(tmp_path, *cases) -> Path:
    path = tmp_path / "ledger.sqlite"
    result = run("score", *cases, "--format", "json", "--record", "--ledger", path, "--root", ROOT)
    assert result.exit_code == 0, result.output
    return path


def decision_ids(path: Path) -> list[str]:
    return [e.ref for e in Ledger.open_for_reading(path).entries() if e.type == "decision"]


def every_case() -> list[Path]:
    return [p for p in yaml_files([ROOT / "cases"]) if "invalid" not in p.parts and declared_kind(p) in CASE_KINDS]


def test_every_recorded_case_replays_byte_identical(tmp_path, catalog):
    path = tmp_path / "ledger.sqlite"
    results, problems = score_paths(every_case(), catalog)
    assert not problems
    ledger = Ledger.open_for_writing(path)
    audit.record_results(ledger, results)
    ids = decision_ids(path)
    assert len(ids) == sum(len(r.records) for r in results) > 300
    for decision in ids:
        replayed = audit.replay(ledger, decision)
        assert replayed.identical, (decision, replayed.differences)
    assert ledger.verify().ok


def test_replay_works_after_the_files_on_disk_are_gone(tmp_path):
    project = tmp_path / "project"
    shutil.copytree(ROOT / "criteria", project / "criteria")
    shutil.copytree(ROOT / "cases" / "kent-2007", project / "cases" / "kent-2007")
    path = recorded(tmp_path, project / "cases" / "kent-2007" / "child-abuse.yaml")
    shutil.rmtree(project)
    (decision,) = decision_ids(path)
    assert run("replay", decision, "--ledger", path).exit_code == 0


@pytest.mark.parametrize("what", ["entry", "blob"])
def test_one_changed_byte_is_reported_at_the_right_entry(tmp_path, what):
    path = recorded(tmp_path, *sorted((ROOT / "cases" / "kent-2007").glob("*.yaml")))
    db = sqlite3.connect(path)
    if what == "entry":
        body = db.execute("SELECT body FROM entries WHERE seq = 4").fetchone()[0]
        db.execute("UPDATE entries SET body = ? WHERE seq = 4", (body.replace('"fair"', '"good"', 1),))
        expected = "entry 4"
    else:
        refs = db.execute("SELECT refs FROM entries WHERE seq = 5").fetchone()[0].split()
        sha, content = db.execute("SELECT sha256, content FROM blobs WHERE sha256 = ?", (refs[-1],)).fetchone()
        changed = bytearray(content)
        changed[len(changed) // 2] ^= 1
        db.execute("UPDATE blobs SET content = ? WHERE sha256 = ?", (bytes(changed), sha))
        expected = "entry 5"
    db.commit()
    db.close()
    result = run("verify", "--ledger", path)
    assert result.exit_code == 1
    assert f"{expected}:" in result.output


def test_entries_removed_from_the_end_are_caught_only_with_a_head_kept_elsewhere(tmp_path):
    path = recorded(tmp_path, *sorted((ROOT / "cases" / "kent-2007").glob("*.yaml")))
    head = Ledger.open_for_reading(path).head()
    db = sqlite3.connect(path)
    db.execute("DELETE FROM entries WHERE seq = (SELECT max(seq) FROM entries)")
    db.commit()
    careless = run("verify", "--ledger", path)  # the removed entry's own blobs are left behind
    assert careless.exit_code == 1 and "belongs to no entry" in careless.output
    db.execute("DELETE FROM blobs WHERE NOT EXISTS (SELECT 1 FROM entries WHERE instr(refs, sha256) > 0)")
    db.commit()
    db.close()
    assert run("verify", "--ledger", path).exit_code == 0  # a shorter chain is still a valid chain
    result = run("verify", "--head", head, "--ledger", path)
    assert result.exit_code == 1 and "removed from the end" in result.output


def test_an_override_is_a_new_entry_and_needs_a_rationale(tmp_path):
    path = recorded(tmp_path, ROOT / "cases" / "kent-2007" / "child-abuse.yaml")
    (decision,) = decision_ids(path)
    before = next(Ledger.open_for_reading(path).entries())
    refused = run("override", decision, "--outcome", "poor", "--rationale", "  ", "--by", "HMI", "--ledger", path)
    assert refused.exit_code == 2 and "E173" in refused.output
    assert run("override", decision, "--outcome", "poor", "--rationale", "risk to children", "--by", "HMI",
               "--ledger", path).exit_code == 0
    entries = list(Ledger.open_for_reading(path).entries())
    assert entries[0] == before and [e.type for e in entries] == ["decision", "override"]
    shown = run("show", decision, "--ledger", path).output
    assert "computed outcome: Fair" in shown and "final outcome (override" in shown and "risk to children" in shown
    assert "poor" in run("log", "--ledger", path).output
    assert run("verify", "--ledger", path).exit_code == 0


def test_purge_erases_personal_data_and_the_chain_still_verifies(tmp_path):
    path = recorded(tmp_path, KENT_SELECTION, ROOT / "cases" / "appointments" / "kent-cc-2022" / "hearing.yaml")
    raw = path.read_bytes()
    assert any(name.encode() in raw for name in NAMES)
    shown = run("show", decision_ids(path)[0], "--ledger", path).output
    assert "Tim Smith" not in shown and "pseudonyms shown" in shown
    assert "Tim Smith" in run("show", decision_ids(path)[0], "--reveal", "--ledger", path).output
    result = run("purge", "--before", "2999-01-01", "--yes", "--ledger", path)
    assert result.exit_code == 0 and "erased" in result.output
    raw = path.read_bytes()
    assert not [name for name in NAMES if name.encode() in raw]
    assert run("verify", "--ledger", path).exit_code == 0
    for decision in decision_ids(path):
        assert run("replay", decision, "--ledger", path).exit_code == 0
    assert "erased" in run("show", decision_ids(path)[0], "--reveal", "--ledger", path).output


def test_replay_with_current_criteria_shows_what_changed_and_which_rule(tmp_path):
    project = tmp_path / "project"
    shutil.copytree(ROOT / "criteria", project / "criteria")
    shutil.copytree(ROOT / "cases" / "kent-2007", project / "cases" / "kent-2007")
    path = recorded(tmp_path, project / "cases" / "kent-2007" / "missing-persons.yaml")
    framework = project / "criteria" / "hmic-2007" / "framework.yaml"
    fair_rule = "      - met: {tier: fair, flag: significant}\n        is: all"  # Fair: every significant Fair criterion
    assert fair_rule in framework.read_text(encoding="utf-8")
    framework.write_text(framework.read_text(encoding="utf-8").replace(
        fair_rule, "      - met: {tier: fair}\n        is: all"), encoding="utf-8")  # now every Fair criterion
    (decision,) = decision_ids(path)
    assert run("replay", decision, "--ledger", path).exit_code == 0  # the stored ruleset is unchanged
    result = run("replay", decision, "--with-current-criteria", "--ledger", path, "--root", project)
    assert result.exit_code == 1
    assert 'computed_outcome: "fair" -> "professional_judgement"' in result.output
    assert "first rule that differs: firing 1: level:fair then, level:undecided now" in result.output


def test_several_processes_recording_at_once_lose_nothing(tmp_path):
    path = tmp_path / "ledger.sqlite"
    cases = sorted(str(p) for p in (ROOT / "cases" / "kent-2007").glob("*.yaml"))
    procs = [subprocess.Popen([str(ARBITER), "score", *cases, "--format", "json", "--record", "--ledger", str(path),
                               "--root", str(ROOT)], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
             for _ in range(4)]
    for proc in procs:
        assert proc.wait(timeout=300) == 0, proc.stderr.read()
    assert len(decision_ids(path)) == 4 * len(cases)
    assert Ledger.open_for_reading(path).verify().ok


KILLED_WRITER = """
import sys
from pathlib import Path
from engine.ledger import audit
from engine.language.catalog import Catalog
from engine.ledger.ledger import Ledger
from engine.workspace.runner import score_paths
catalog = Catalog(Path(sys.argv[2]))
results, _ = score_paths([Path(sys.argv[3])], catalog)
ledger = Ledger.open_for_writing(Path(sys.argv[1]))
print("ready", flush=True)
while True:
    audit.record_results(ledger, results)
"""


def test_a_writer_killed_mid_write_leaves_a_ledger_that_verifies(tmp_path):
    path = tmp_path / "ledger.sqlite"
    for delay in (0.3, 0.7, 1.1):
        proc = subprocess.Popen([sys.executable, "-c", KILLED_WRITER, str(path), str(ROOT), str(KENT_SELECTION)],
                                stdout=subprocess.PIPE, cwd=ROOT)
        assert proc.stdout.readline().strip() == b"ready"
        time.sleep(delay)
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
        verification = Ledger.open_for_reading(path).verify()
        assert verification.ok, verification.problem
    ledger = Ledger.open_for_reading(path)
    for entry in ledger.entries():  # every decision wholly present: its blobs are all there
        assert all(ledger.blob(sha) is not None for sha in entry.refs)


@pytest.mark.parametrize("damage", ["truncate", "garbage"])
def test_a_damaged_ledger_gets_a_diagnostic_and_is_not_written(tmp_path, damage):
    path = recorded(tmp_path, *sorted((ROOT / "cases" / "kent-2007").glob("*.yaml")))
    blob = path.read_bytes()
    path.write_bytes(blob[: len(blob) // 3] if damage == "truncate" else blob[:100] + b"\xff" * 4096 + blob[4196:])
    before = path.read_bytes()
    for args in (["verify"], ["log"], ["head"], ["score", ROOT / "cases" / "kent-2007" / "child-abuse.yaml", "--record"]):
        result = run(*args, "--ledger", path)
        assert result.exit_code != 0 and "Traceback" not in result.output
        assert "E170" in result.output or "entry" in result.output
    assert path.read_bytes() == before


def test_verify_and_friends_never_create_a_ledger(tmp_path):
    missing = tmp_path / "none.sqlite"
    result = run("verify", "--ledger", missing)
    assert result.exit_code == 2 and "E170" in result.output and not missing.exists()


def test_json_decision_lines_match_the_ledger_records(tmp_path):
    path = tmp_path / "ledger.sqlite"
    out = run("score", KENT_SELECTION, "--format", "json", "--record", "--ledger", path, "--root", ROOT).output
    lines = [json.loads(line) for line in out.splitlines() if line.startswith("{")]
    assert [r["decision_id"] for r in lines] == decision_ids(path)


def test_another_sqlite_file_is_never_turned_into_a_ledger(tmp_path):
    other = tmp_path / "other.sqlite"
    db = sqlite3.connect(other)
    db.execute("CREATE TABLE notes (text)")
    db.commit()
    db.close()
    before = other.read_bytes()
    result = run("score", ROOT / "cases" / "kent-2007" / "child-abuse.yaml", "--record", "--ledger", other)
    assert result.exit_code == 2 and "E170" in result.output
    assert other.read_bytes() == before


from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

COLUMNS = ["prev", "hash", "type", "ref", "refs", "recorded_at", "body"]


@pytest.fixture(scope="module")
def small_ledger(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("ledger")
    path = folder / "ledger.sqlite"
    result = CliRunner().invoke(main, ["score", *map(str, sorted((ROOT / "cases" / "kent-2007").glob("*.yaml"))),
                                       "--format", "json", "--record", "--ledger", str(path), "--root", str(ROOT)])
    assert result.exit_code == 0
    return path


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(seq=st.integers(1, 6), column=st.sampled_from(COLUMNS), position=st.integers(0, 10_000), bit=st.integers(0, 6))
def test_any_changed_byte_of_any_entry_is_caught_at_that_entry(small_ledger, tmp_path_factory, seq, column, position, bit):
    """Law: flipping one bit of any field of any entry breaks the chain exactly there."""
    copy = tmp_path_factory.mktemp("flip") / "ledger.sqlite"
    shutil.copy(small_ledger, copy)
    db = sqlite3.connect(copy)
    db.text_factory = bytes
    value = bytearray(db.execute(f"SELECT {column} FROM entries WHERE seq = ?", (seq,)).fetchone()[0])
    value[position % len(value)] ^= 1 << bit
    db.execute(f"UPDATE entries SET {column} = ? WHERE seq = ?", (bytes(value).decode("latin-1"), seq))
    db.commit()
    db.close()
    verification = Ledger.open_for_verifying(copy).verify()
    assert not verification.ok and verification.at == seq, verification
