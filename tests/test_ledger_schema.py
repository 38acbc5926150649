"""The SQLite ledger's schema 2: who recorded each entry, `arbiter ledger upgrade` of a ledger
an earlier release wrote, a decision recorded once however often it is retried, entries
copied in exactly as another ledger holds them, and batches larger than one SQL condition."""

from __future__ import annotations

import dataclasses
import getpass
import json
import shutil
import sqlite3
from pathlib import Path

import pytest
from click.testing import CliRunner

from engine.cli import main
from engine.ledger import audit, chain
from engine.ledger import ledger as ledger_module
from engine.ledger.ledger import Ledger
from engine.workspace.runner import score_paths

from .conftest import ROOT

SCHEMA_1 = ROOT / "tests" / "fixtures" / "ledger-schema-1.sqlite"  # decisions, an override, a purge, a decision
KENT = sorted((ROOT / "cases" / "kent-2007").glob("*.yaml"))
CHILD_ABUSE = ROOT / "cases" / "kent-2007" / "child-abuse.yaml"


def run(*args, env=None):
    return CliRunner().invoke(main, [str(a) for a in args], catch_exceptions=False, env=env)


def record(path: Path, *cases: Path, by: str | None = None, env=None):
    result = run("score", *cases, "--format", "json", "--record", "--ledger", path, "--root", ROOT,
                 *(["--by", by] if by else []), env=env)
    assert result.exit_code == 0, result.output
    return result


def table(path: Path, query: str) -> list[tuple]:
    with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as db:
        return db.execute(query).fetchall()


@pytest.fixture()
def old(tmp_path) -> Path:
    path = tmp_path / "old.sqlite"
    shutil.copyfile(SCHEMA_1, path)
    return path


# --- a ledger an earlier release wrote --------------------------------------------------------

def test_every_command_refuses_a_schema_1_ledger_with_the_upgrade_hint_and_changes_nothing(old):
    before = old.read_bytes()
    for args in (["verify"], ["head"], ["log"], ["show", "4"], ["replay", "4"], ["export"],
                 ["purge", "--before", "2999-01-01", "--yes"],
                 ["override", "4", "--outcome", "good", "--rationale", "r", "--by", "b"],
                 ["score", CHILD_ABUSE, "--record", "--format", "json"]):
        result = run(*args, "--ledger", old)
        assert result.exit_code == 2, (args, result.output)
        assert f"--ledger {old}: error E170: this ledger was written by an earlier release (schema 1)" in result.output
        assert f"hint: run: arbiter ledger upgrade --ledger {old}" in result.output
    assert old.read_bytes() == before


def test_upgrade_keeps_every_entry_and_blob_and_every_decision_replays(old):
    entries, blobs = table(old, "SELECT * FROM entries ORDER BY seq"), table(old, "SELECT * FROM blobs ORDER BY sha256")
    with Ledger.open_for_upgrading(old) as opened:
        assert opened.schema_version() == 1
        head_before = opened.verify().head
    result = run("ledger", "upgrade", "--ledger", old, "--yes")
    assert result.exit_code == 0, result.output
    assert f"will upgrade {old}: schema 1 -> 2 (arbiter-ledger/2), in one transaction" in result.output
    assert f"upgraded {old} to schema 2: ledger verified, 8 entries, head {head_before}" in result.output
    assert table(old, "SELECT * FROM entries ORDER BY seq") == [(*row, None, None) for row in entries]
    assert table(old, "SELECT * FROM blobs ORDER BY sha256") == blobs
    assert table(old, "SELECT key, value FROM meta") == [("format", chain.FORMAT)]
    with Ledger.open_for_reading(old) as opened:
        assert opened.schema_version() == 2 and opened.verify().ok
        for entry in opened.entries():
            assert entry.recipe == 1
            if entry.type == "decision":  # written by the release before this one: byte-identical
                assert audit.replay(opened, str(entry.seq)).identical, entry.ref
    assert run("verify", "--ledger", old, "--head", head_before).exit_code == 0


def test_a_decision_appended_after_the_upgrade_uses_recipe_2_and_the_chain_verifies(old):
    assert run("ledger", "upgrade", "--ledger", old, "--yes").exit_code == 0
    record(old, ROOT / "cases" / "kent-2007" / "domestic-violence.yaml", by="HMI B")
    with Ledger.open_for_reading(old) as opened:
        last = list(opened.entries())[-1]
        assert (last.seq, last.recipe, last.actor) == (9, 2, "HMI B") and last.host == chain.current_host()
        assert chain.hash_of(last) == last.hash and opened.verify().ok
    assert run("replay", last.ref, "--ledger", old).exit_code == 0
    assert "recorded by HMI B on" in run("show", last.ref, "--ledger", old).output
    assert "recorded at 2026-11-30T21:15:26+00:00 (by a release that did not record who or where)" in run(
        "show", "4", "--ledger", old).output


def test_upgrade_says_a_current_ledger_is_current_and_changes_nothing(tmp_path):
    path = tmp_path / "new.sqlite"
    record(path, CHILD_ABUSE)
    before = path.read_bytes()
    result = run("ledger", "upgrade", "--ledger", path)
    assert result.exit_code == 0 and f"{path} is at the current schema (2): nothing to upgrade" in result.output
    assert path.read_bytes() == before


def test_upgrade_asks_first_and_without_anyone_to_ask_changes_nothing(old):
    before = old.read_bytes()
    result = run("ledger", "upgrade", "--ledger", old)
    assert result.exit_code == 2 and "nothing was upgraded: there is no one to confirm" in result.output
    assert old.read_bytes() == before


@pytest.mark.parametrize("failure", ["a statement", "the verification after"])
def test_a_failure_mid_upgrade_leaves_the_file_as_it_was(old, monkeypatch, failure):
    before = old.read_bytes()
    if failure == "a statement":  # the columns are added, then the format cannot be set
        monkeypatch.setattr(ledger_module, "UPGRADE_STEPS", (*ledger_module.UPGRADE_STEPS[:2], "UPDATE no_such_table SET x = 1"))
    else:
        real = Ledger._require_verifies

        def verify_then_fail(self, when):
            if when == "after the upgrade":
                raise RuntimeError("the machine stopped")
            return real(self, when)
        monkeypatch.setattr(Ledger, "_require_verifies", verify_then_fail)
    with Ledger.open_for_upgrading(old) as opened:
        with pytest.raises(Exception):
            opened.upgrade()
        assert opened.schema_version() == 1
    assert old.read_bytes() == before
    assert table(old, "SELECT key, value FROM meta") == [("format", "arbiter-ledger/1")]


def test_a_ledger_that_does_not_verify_is_not_upgraded(old):
    with sqlite3.connect(old) as db:
        db.execute("UPDATE entries SET body = replace(body, 'cand-b', 'cand-c') WHERE seq = 2")
    before = old.read_bytes()
    result = run("ledger", "upgrade", "--ledger", old, "--yes")
    assert result.exit_code == 2
    assert "error E170: the ledger does not verify before the upgrade (entry 2: entry 2 does not match its hash" in result.output
    assert old.read_bytes() == before


# --- who and when ---------------------------------------------------------------------------

def test_the_actor_is_by_else_the_environment_else_the_operating_system_user(tmp_path):
    path = tmp_path / "ledger.sqlite"
    record(path, KENT[0], by="HMI J. Smith")
    record(path, KENT[1], env={"ARBITER_ACTOR": "HMI A. Lead"})
    record(path, KENT[2], env={"ARBITER_ACTOR": None})
    assert [row[0] for row in table(path, "SELECT actor FROM entries ORDER BY seq")] == [
        "HMI J. Smith", "HMI A. Lead", getpass.getuser()]
    assert {row[0] for row in table(path, "SELECT host FROM entries")} == {chain.current_host()}
    listed = run("log", "--actor", "HMI A. Lead", "--ledger", path).output
    assert "HMI A. Lead" in listed and "HMI J. Smith" not in listed and len(listed.splitlines()) == 3
    assert "by" in run("log", "--ledger", path).output.splitlines()[0].split()


def test_log_refuses_an_actor_no_entry_has_with_a_did_you_mean(tmp_path):
    path = tmp_path / "ledger.sqlite"
    record(path, KENT[0], by="HMI J. Smith")
    result = run("log", "--actor", "HMI J. Smyth", "--ledger", path)
    assert result.exit_code == 2
    assert "--actor: error E174: no decision recorded by 'HMI J. Smyth' in this ledger" in result.output
    assert "did you mean 'HMI J. Smith'?" in result.output


def test_override_and_purge_record_who_made_them(tmp_path):
    path = tmp_path / "ledger.sqlite"
    record(path, ROOT / "cases" / "appointments" / "kent-cc-2022" / "hearing.yaml", CHILD_ABUSE)
    assert run("override", "2", "--outcome", "poor", "--rationale", "risk", "--by", "HMI J. Smith",
               "--ledger", path).exit_code == 0
    assert run("purge", "--before", "2999-01-01", "--yes", "--by", "DPO", "--ledger", path).exit_code == 0
    assert table(path, "SELECT type, actor FROM entries WHERE type != 'decision' ORDER BY seq") == [
        ("override", "HMI J. Smith"), ("purge", "DPO")]
    shown = run("show", "2", "--ledger", path).output
    assert "final outcome (override, entry 3" in shown and "  recorded by HMI J. Smith on" in shown
    assert run("verify", "--ledger", path).exit_code == 0


# --- recorded once ----------------------------------------------------------------------------

def test_the_same_decision_scored_again_is_not_recorded_twice(tmp_path):
    path = tmp_path / "ledger.sqlite"
    record(path, *KENT)
    again = record(path, *KENT)
    assert len(table(path, "SELECT seq FROM entries")) == len(KENT)
    assert "already recorded as entry 1: not recorded again" in again.output
    assert f"recorded 0 decision(s) in {path}" in again.output


def test_a_decision_recorded_again_after_a_revision_is_a_revision_back(tmp_path):
    path = tmp_path / "ledger.sqlite"
    data = CHILD_ABUSE.read_text(encoding="utf-8")
    changed = tmp_path / "child-abuse.yaml"
    changed.write_text(data.replace("finding: not_met", "finding: met", 1), encoding="utf-8")
    assert changed.read_text(encoding="utf-8") != data
    record(path, CHILD_ABUSE)
    record(path, changed, by="HMI")
    record(path, CHILD_ABUSE, by="HMI")
    refs = [row[0] for row in table(path, "SELECT ref FROM entries ORDER BY seq")]
    assert len(refs) == 3 and refs[0] == refs[2] != refs[1]
    assert json.loads(table(path, "SELECT body FROM entries WHERE seq = 3")[0][0])["supersedes"] == [
        {"entry": 2, "decision_id": refs[1]}]


def test_one_call_naming_a_case_twice_records_it_once(tmp_path):
    path = tmp_path / "ledger.sqlite"
    record(path, CHILD_ABUSE, CHILD_ABUSE)
    assert len(table(path, "SELECT seq FROM entries")) == 1


def test_a_batch_finds_each_case_s_history_by_the_case_exactly(tmp_path, catalog):
    """The history a batch is checked against is found by the case each entry's body names:
    ids that begin one another (batch/1, batch/10 to batch/19) are told apart, in a batch and
    when one case is asked for."""
    (result,), _ = score_paths([CHILD_ABUSE], catalog)

    def scored(i):
        return dataclasses.replace(result, records=[{**result.records[0], "case": f"batch/{i}",
                                                     "decision_id": f"{i:016x}"}])

    with Ledger.open_for_writing(tmp_path / "ledger.sqlite") as opened:
        first = audit.record_decisions(opened, [scored(1)])
        second = audit.record_decisions(opened, [scored(i) for i in range(10, 20)] + [scored(1)])
        assert len(second.entries) == 10 and second.already == first.entries
        assert audit.decisions_of_cases(opened, ["batch/1"]) == list(first.entries)
        assert [e.ref for e in audit.decisions_of_cases(opened, ["batch/12", "batch/1"])] == [f"{i:016x}" for i in (1, 12)]
        assert audit.decisions_of_cases(opened, ['batch/1"']) == []
        quoted = audit.record_decisions(opened, [dataclasses.replace(result, records=[  # an id no model accepts
            {**result.records[0], "case": 'batch/1"', "decision_id": "q" * 16}])])
        assert audit.decisions_of_cases(opened, ['batch/1"']) == list(quoted.entries)
        assert audit.decisions_of_cases(opened, ["batch/1"]) == list(first.entries)
        assert opened.verify().ok


def test_a_batch_of_more_cases_than_one_sql_condition_holds_is_recorded_once(tmp_path, catalog):
    """SQLite refuses a condition of more than 1,000 terms; a batch of 1,100 cases is recorded."""
    (result,), _ = score_paths([CHILD_ABUSE], catalog)
    batch = [dataclasses.replace(result, records=[{**result.records[0], "case": f"batch/{i}",
                                                   "decision_id": f"{i:016x}"}]) for i in range(1100)]
    with Ledger.open_for_writing(tmp_path / "ledger.sqlite") as opened:
        first = audit.record_decisions(opened, batch)
        second = audit.record_decisions(opened, batch)
        assert len(first.entries) == 1100 and not first.already
        assert not second.entries and second.already == first.entries
        assert opened.verify().ok


# --- copying entries in exactly -----------------------------------------------------------------

def test_copy_in_reproduces_a_ledger_entry_for_entry_and_refuses_what_does_not_link(old, tmp_path):
    assert run("ledger", "upgrade", "--ledger", old, "--yes").exit_code == 0
    record(old, ROOT / "cases" / "kent-2007" / "domestic-violence.yaml", by="HMI B")
    copy = tmp_path / "copy.sqlite"
    with Ledger.open_for_reading(old) as source, Ledger.open_for_writing(copy) as destination:
        entries = list(source.entries())
        with destination.transaction():
            for entry in entries:
                blobs = [(b.kind, sha, b.content or None, source.erased_at(sha))
                         for sha in entry.refs for b in [source.blob(sha)]]
                destination.copy_in(entry, blobs)
        assert destination.head() == source.head() and destination.verify().ok
        bad = chain.Entry(len(entries) + 1, destination.head(), "0" * 64, "override", entries[-1].ref, (),
                          entries[-1].recorded_at, "{}", "a", "b")
        for wrong, reason in ((bad, "does not match its hash"),
                              (bad.__class__(**{**bad.__dict__, "seq": bad.seq + 1}), "cannot follow entry"),
                              (bad.__class__(**{**bad.__dict__, "prev": "1" * 64}), "does not link")):
            with pytest.raises(ValueError, match=reason), destination.transaction():
                destination.copy_in(wrong, [])
        assert destination.head() == source.head()


def test_ledger_upgrade_has_help_with_an_example():
    result = run("ledger", "upgrade", "--help")
    assert result.exit_code == 0 and "Example:" in result.output and "arbiter ledger upgrade" in result.output
