"""The decision ledger: record, verify, replay, override, purge, and survive real processes,
against both stores: a SQLite file and a PostgreSQL database on a real, throwaway server
(tests/postgres_cluster.py). Tests about the SQLite file itself (its pages, its bytes) run on
SQLite alone and say so."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path
from typing import Callable, Iterator

import pytest
import yaml
from click.testing import CliRunner
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from engine.cli import main
from engine.language.diagnostics import DiagnosticError
from engine.language.catalog import declared_kind
from engine.ledger import audit
from engine.ledger.chain import FORMAT, SCHEMA_VERSION
from engine.ledger import store
from engine.ledger.postgres import masked
from engine.ledger.store import is_server_location, open_store
from engine.workspace.runner import CASE_KINDS, score_paths, yaml_files

from . import postgres_cluster as pg
from .conftest import ROOT

ARBITER = Path(sys.executable).parent / "arbiter"
KENT = sorted((ROOT / "cases" / "kent-2007").glob("*.yaml"))
KENT_SELECTION = ROOT / "cases" / "appointments" / "kent-cc-2022" / "selection.yaml"
NAMES = ["Tim Smith", "Matthew Scott", "Matthew Boughton", "Henu Cummins", "Rebecca Humphreys"]
BACKENDS = ["sqlite", "postgresql"]


@pytest.fixture(params=BACKENDS)
def ledger_location(request, tmp_path) -> str:
    """Where a new ledger is recorded: a file in tmp_path, or a fresh PostgreSQL database
    holding the ledger's schema and no entry."""
    if request.param == "sqlite":
        return str(tmp_path / "ledger.sqlite")
    return request.getfixturevalue("postgres_ledger_url")


def run(*args, env=None):
    return CliRunner().invoke(main, [str(a) for a in args], catch_exceptions=False, env=env)


def recorded(location: str, *cases) -> str:
    result = run("score", *cases, "--format", "json", "--record", "--ledger", location, "--root", ROOT)
    assert result.exit_code == 0, result.output
    return location


def opened(location: str, mode: str = "read"):
    return open_store(store.ledger_location(location), mode)


def decision_ids(location: str) -> list[str]:
    with opened(location) as ledger:
        return [e.ref for e in ledger.entries() if e.type == "decision"]


@contextlib.contextmanager
def tampered(location: str) -> Iterator[Callable[..., list]]:
    """Change a ledger behind the engine's back, as someone with the database's own rights
    would: SQL statements written with ? placeholders, run on the SQLite file, or on PostgreSQL
    as the superuser with the ledger's triggers switched off for this session."""
    if is_server_location(location):
        with pg.connect(location, autocommit=False) as db:
            db.execute("SET session_replication_role = replica")
            yield lambda sql, parameters=(): _fetched(db.execute(sql.replace("%", "%%").replace("?", "%s"), parameters))
            db.commit()
        return
    db = sqlite3.connect(location)
    try:
        yield lambda sql, parameters=(): db.execute(sql, parameters).fetchall()
        db.commit()
    finally:
        db.close()


def _fetched(cursor) -> list:
    return cursor.fetchall() if cursor.description else []


def every_case() -> list[Path]:
    return [p for p in yaml_files([ROOT / "cases"]) if "invalid" not in p.parts and declared_kind(p) in CASE_KINDS]


def test_every_recorded_case_replays_byte_identical(ledger_location, catalog):
    results, problems = score_paths(every_case(), catalog)
    assert not problems
    with opened(ledger_location, "write") as ledger:
        audit.record_results(ledger, results)
        ids = decision_ids(ledger_location)
        assert len(ids) == sum(len(r.records) for r in results) > 300
        for decision in ids:
            replayed = audit.replay(ledger, decision)
            assert replayed.identical, (decision, replayed.differences)
        assert ledger.verify().ok


def test_replay_works_after_the_files_on_disk_are_gone(ledger_location, tmp_path):
    project = tmp_path / "project"
    shutil.copytree(ROOT / "criteria", project / "criteria")
    shutil.copytree(ROOT / "cases" / "kent-2007", project / "cases" / "kent-2007")
    recorded(ledger_location, project / "cases" / "kent-2007" / "child-abuse.yaml")
    shutil.rmtree(project)
    (decision,) = decision_ids(ledger_location)
    assert run("replay", decision, "--ledger", ledger_location).exit_code == 0


@pytest.mark.parametrize("what", ["entry", "blob"])
def test_one_changed_byte_is_reported_at_the_right_entry(ledger_location, what):
    recorded(ledger_location, *KENT)
    with tampered(ledger_location) as sql:
        if what == "entry":
            (body,), = sql("SELECT body FROM entries WHERE seq = 4")
            sql("UPDATE entries SET body = ? WHERE seq = 4", (body.replace('"fair"', '"good"', 1),))
            expected = "entry 4"
        else:
            (refs,), = sql("SELECT refs FROM entries WHERE seq = 5")
            (sha, content), = sql("SELECT sha256, content FROM blobs WHERE sha256 = ?", (refs.split()[-1],))
            changed = bytearray(content)
            changed[len(changed) // 2] ^= 1
            sql("UPDATE blobs SET content = ? WHERE sha256 = ?", (bytes(changed), sha))
            expected = "entry 5"
    result = run("verify", "--ledger", ledger_location)
    assert result.exit_code == 1
    assert f"{expected}:" in result.output


def test_entries_removed_from_the_end_are_caught_only_with_a_head_kept_elsewhere(ledger_location):
    recorded(ledger_location, *KENT)
    head = run("head", "--ledger", ledger_location).output.strip()
    with tampered(ledger_location) as sql:
        sql("DELETE FROM entries WHERE seq = (SELECT max(seq) FROM entries)")
    careless = run("verify", "--ledger", ledger_location)  # the removed entry's own blobs are left behind
    assert careless.exit_code == 1 and "belongs to no entry" in careless.output
    with tampered(ledger_location) as sql:
        sql("DELETE FROM blobs WHERE NOT EXISTS (SELECT 1 FROM entries WHERE refs LIKE '%' || sha256 || '%')")
    assert run("verify", "--ledger", ledger_location).exit_code == 0  # a shorter chain is still a valid chain
    result = run("verify", "--head", head, "--ledger", ledger_location)
    assert result.exit_code == 1 and "removed from the end" in result.output


def test_a_broken_last_entry_is_refused_before_anything_is_written(ledger_location):
    recorded(ledger_location, *KENT[:2])
    with tampered(ledger_location) as sql:
        sql("UPDATE entries SET recorded_at = '2001-01-01T00:00:00+00:00' WHERE seq = 2")
    for args in (["log"], ["head"], ["score", KENT[2], "--record"]):
        result = run(*args, "--ledger", ledger_location)
        assert result.exit_code == 2 and "E170" in result.output and "last entry is broken" in result.output
    assert len(decision_ids_unchecked(ledger_location)) == 2


def decision_ids_unchecked(location: str) -> list[str]:
    with open_store(store.ledger_location(location), "verify") as ledger:
        return [e.ref for e in ledger.entries() if e.type == "decision"]


def test_a_case_recorded_with_other_evidence_supersedes_its_own_decisions_only(ledger_location, tmp_path):
    """The history a recording is checked against is found by the case each entry's body names,
    which the store reads from the body's text (on the server too): the revision of one Kent
    case supersedes that case's decision and no other, and the case's history holds both."""
    recorded(ledger_location, *KENT)
    data = yaml.safe_load(KENT[0].read_text(encoding="utf-8"))
    data["findings"][0]["finding"] = "not_met" if data["findings"][0]["finding"] == "met" else "met"
    changed = tmp_path / KENT[0].name
    changed.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    result = run("score", changed, "--format", "json", "--record", "--ledger", ledger_location, "--root", ROOT,
                 "--by", "HMI")
    assert result.exit_code == 0, result.output
    with opened(ledger_location) as ledger:
        first, *_, revision = [e for e in ledger.entries() if e.type == "decision"]
        assert json.loads(revision.body)["supersedes"] == [{"decision_id": first.ref, "entry": first.seq}]
        assert audit.decisions_of_cases(ledger, [data["id"]]) == [first, revision]


def test_an_override_is_a_new_entry_and_needs_a_rationale(ledger_location):
    recorded(ledger_location, ROOT / "cases" / "kent-2007" / "child-abuse.yaml")
    (decision,) = decision_ids(ledger_location)
    with opened(ledger_location) as ledger:
        before = next(ledger.entries())
    refused = run("override", decision, "--outcome", "poor", "--rationale", "  ", "--by", "HMI",
                  "--ledger", ledger_location)
    assert refused.exit_code == 2 and "E173" in refused.output
    assert run("override", decision, "--outcome", "poor", "--rationale", "risk to children", "--by", "HMI",
               "--ledger", ledger_location).exit_code == 0
    with opened(ledger_location) as ledger:
        entries = list(ledger.entries())
    assert entries[0] == before and [e.type for e in entries] == ["decision", "override"]
    shown = run("show", decision, "--ledger", ledger_location).output
    assert "computed outcome: Fair" in shown and "final outcome (override" in shown and "risk to children" in shown
    assert "poor" in run("log", "--ledger", ledger_location).output
    assert run("verify", "--ledger", ledger_location).exit_code == 0


def test_purge_erases_personal_data_and_the_chain_still_verifies(ledger_location):
    recorded(ledger_location, KENT_SELECTION, ROOT / "cases" / "appointments" / "kent-cc-2022" / "hearing.yaml")
    assert held_names(ledger_location)
    shown = run("show", decision_ids(ledger_location)[0], "--ledger", ledger_location).output
    assert "Tim Smith" not in shown and "pseudonyms shown" in shown
    assert "Tim Smith" in run("show", decision_ids(ledger_location)[0], "--reveal", "--ledger", ledger_location).output
    result = run("purge", "--before", "2999-01-01", "--yes", "--ledger", ledger_location)
    assert result.exit_code == 0 and "erased" in result.output
    assert not held_names(ledger_location)
    assert run("verify", "--ledger", ledger_location).exit_code == 0
    for decision in decision_ids(ledger_location):
        assert run("replay", decision, "--ledger", ledger_location).exit_code == 0
    assert "erased" in run("show", decision_ids(ledger_location)[0], "--reveal", "--ledger", ledger_location).output
    with opened(ledger_location) as ledger:
        purge = list(ledger.entries())[-1]
    assert purge.type == "purge" and purge.actor and purge.host  # the erasure is in the chain, with who and where


def held_names(location: str) -> list[str]:
    """The names still readable in the ledger: anywhere in the SQLite file (a purge rewrites it,
    so no erased byte remains), or in any blob's content on the server."""
    if is_server_location(location):
        with tampered(location) as sql:
            return [name for name in NAMES
                    if sql("SELECT 1 FROM blobs WHERE position(convert_to(?, 'UTF8') IN content) > 0", (name,))]
    raw = Path(location).read_bytes()
    return [name for name in NAMES if name.encode() in raw]


def test_replay_with_current_criteria_shows_what_changed_and_which_rule(ledger_location, tmp_path):
    project = tmp_path / "project"
    shutil.copytree(ROOT / "criteria", project / "criteria")
    shutil.copytree(ROOT / "cases" / "kent-2007", project / "cases" / "kent-2007")
    recorded(ledger_location, project / "cases" / "kent-2007" / "missing-persons.yaml")
    framework = project / "criteria" / "hmic-2007" / "framework.yaml"
    fair_rule = "      - met: {tier: fair, flag: significant}\n        is: all"  # Fair: every significant Fair criterion
    assert fair_rule in framework.read_text(encoding="utf-8")
    framework.write_text(framework.read_text(encoding="utf-8").replace(
        fair_rule, "      - met: {tier: fair}\n        is: all"), encoding="utf-8")  # now every Fair criterion
    (decision,) = decision_ids(ledger_location)
    assert run("replay", decision, "--ledger", ledger_location).exit_code == 0  # the stored ruleset is unchanged
    result = run("replay", decision, "--with-current-criteria", "--ledger", ledger_location, "--root", project)
    assert result.exit_code == 1
    assert 'computed_outcome: "fair" -> "professional_judgement"' in result.output
    assert "first rule that differs: firing 1: level:fair then, level:undecided now" in result.output


def test_several_processes_recording_at_once_lose_nothing(ledger_location):
    cases = [str(p) for p in KENT + sorted((ROOT / "cases" / "national-2007").glob("*.yaml"))]
    shares = [cases[i::4] for i in range(4)]  # different cases each: every decision is a new one
    procs = [subprocess.Popen([str(ARBITER), "score", *share, "--format", "json", "--record", "--ledger",
                               ledger_location, "--root", str(ROOT)], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
             for share in shares]
    lines = []
    for proc in procs:
        out, err = proc.communicate(timeout=300)
        assert proc.returncode in (0, 1), err
        lines += [json.loads(line)["decision_id"] for line in out.decode().splitlines() if line.startswith("{")]
    assert sorted(decision_ids(ledger_location)) == sorted(lines) and len(lines) >= len(cases)
    with opened(ledger_location) as ledger:
        assert ledger.verify().ok


KILLED_WRITER = """
import sys
from pathlib import Path
from engine.ledger import audit
from engine.language.catalog import Catalog
from engine.ledger.store import ledger_location, open_store
from engine.workspace.runner import score_paths
catalog = Catalog(Path(sys.argv[2]))
results, _ = score_paths([Path(p) for p in sys.argv[3:]], catalog)
ledger = open_store(ledger_location(sys.argv[1]), "write")
print("ready", flush=True)
while True:  # each decision, then an override of it: every turn appends, whatever is recorded already
    for result in results:
        audit.record_results(ledger, [result])
        decision = result.records[0]["decision_id"]
        audit.override(ledger, decision, "poor", "checked again", "HMI")
"""


def test_a_writer_killed_mid_write_leaves_a_ledger_that_verifies(ledger_location):
    for delay in (0.3, 0.7, 1.1):
        proc = subprocess.Popen([sys.executable, "-c", KILLED_WRITER, ledger_location, str(ROOT), *map(str, KENT)],
                                stdout=subprocess.PIPE, cwd=ROOT)
        assert proc.stdout.readline().strip() == b"ready"
        time.sleep(delay)
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
        with opened(ledger_location) as ledger:
            verification = ledger.verify()
        assert verification.ok, verification.problem
    with opened(ledger_location) as ledger:
        entries = list(ledger.entries())
        assert any(e.type == "override" for e in entries)
        for entry in entries:  # every decision wholly present: its blobs are all there
            assert all(ledger.blob(sha) is not None for sha in entry.refs)


def test_json_decision_lines_match_the_ledger_records(ledger_location):
    out = run("score", KENT_SELECTION, "--format", "json", "--record", "--ledger", ledger_location, "--root", ROOT).output
    lines = [json.loads(line) for line in out.splitlines() if line.startswith("{")]
    assert [r["decision_id"] for r in lines] == decision_ids(ledger_location)


def test_a_report_reads_its_decision_from_either_store(ledger_location, tmp_path):
    recorded(ledger_location, KENT[0])
    (decision,) = decision_ids(ledger_location)
    result = run("report", decision, "--ledger", ledger_location, "-o", tmp_path / "report.html", "--root", ROOT)
    assert result.exit_code == 0, result.output
    assert decision in (tmp_path / "report.html").read_text(encoding="utf-8")


def test_every_entry_says_who_recorded_it_where_and_when(ledger_location):
    recorded(ledger_location, KENT[0])
    assert run("override", "1", "--outcome", "poor", "--rationale", "risk", "--by", "Inspector Jones",
               "--ledger", ledger_location).exit_code == 0
    with opened(ledger_location) as ledger:
        decision, override = ledger.entries()
        assert ledger.schema_version() == SCHEMA_VERSION
    assert decision.actor and decision.host and decision.recipe == 2
    assert override.actor == "Inspector Jones"


def test_copy_in_takes_the_next_sound_entry_and_nothing_else(ledger_location, tmp_path):
    source = recorded(str(tmp_path / "source.sqlite"), *KENT[:2])
    with opened(source) as reading:
        first, second = reading.entries()
        blobs = [[(blob.kind, sha, blob.content, None) for sha in entry.refs for blob in [reading.blob(sha)]]
                 for entry in (first, second)]
    with opened(ledger_location, "write") as writing:
        for wrong, reason in ((second, "cannot follow"), (first.__class__(**{**first.__dict__, "body": "{}"}),
                                                          "does not match its hash")):
            with pytest.raises(ValueError, match=reason), writing.transaction():
                writing.copy_in(wrong, blobs[0])
        with writing.transaction():
            writing.copy_in(first, blobs[0])
            writing.copy_in(second, blobs[1])
        assert writing.head() == second.hash and writing.verify().ok


# --- the PostgreSQL store's own ways of failing ---------------------------------------------

def test_a_server_ledger_named_in_the_environment_is_used(postgres_ledger_url, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    environment = {"ARBITER_LEDGER": postgres_ledger_url}
    assert run("score", KENT[0], "--record", "--root", ROOT, env=environment).exit_code == 0
    assert "1 entries" in run("verify", env=environment).output
    assert not list(tmp_path.iterdir())  # no file was started


@pytest.mark.parametrize("problem", ["no such role", "no server", "no such database", "no ledger schema"])
def test_a_server_that_cannot_be_used_gets_E170_with_the_password_masked(postgres_cluster, problem):
    secret = "s3cret-pw"
    url = {"no such role": postgres_cluster.url_for("postgres", "nobody_here", secret),
           "no server": f"postgresql://postgres:{secret}@127.0.0.1:1/ledger",
           "no such database": postgres_cluster.url_for("no_such_database", password=secret),
           "no ledger schema": postgres_cluster.url_for("postgres", password=secret)}[problem]
    for args in (["verify"], ["log"], ["score", KENT[0], "--record"]):
        result = run(*args, "--ledger", url, "--root", ROOT) if args[0] == "score" else run(*args, "--ledger", url)
        assert result.exit_code == 2 and "E170" in result.output, result.output
        assert "Traceback" not in result.output and secret not in result.output and ":***@" in result.output
    if problem == "no ledger schema":
        assert "arbiter ledger init --postgres" in result.output
        assert scalar(postgres_cluster.url, "SELECT count(*) FROM pg_tables WHERE schemaname = 'public'") == 0


def test_a_connection_cut_mid_session_is_E170_with_the_advice_to_run_again(postgres_ledger_url):
    recorded(postgres_ledger_url, KENT[0])
    with opened(postgres_ledger_url, "append") as ledger:
        with pg.connect(postgres_ledger_url) as admin:
            admin.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'arbiter'")
        with pytest.raises(DiagnosticError) as raised:
            ledger.head()
    (problem,) = raised.value.diagnostics
    assert problem.code == "E170" and "stopped answering" in problem.message
    assert "run the same command again" in str(raised.value)


def test_a_password_never_leaves_the_url():
    assert masked("postgresql://ann:pa%40ss@db.example:5433/ledger?password=x&sslmode=require") == \
        "postgresql://ann:***@db.example:5433/ledger?password=***&sslmode=require"
    assert masked("postgres://db.example/ledger") == "postgres://db.example/ledger"


def scalar(url: str, query: str):
    with pg.connect(url) as db:
        return db.execute(query).fetchone()[0]


def test_a_database_holding_something_else_is_never_written(postgres_cluster):
    database = pg.create_database(postgres_cluster)
    url = postgres_cluster.url_for(database)
    try:
        with tampered(url) as sql:
            sql("UPDATE meta SET value = 'notes/1' WHERE key = 'format'")
        result = run("score", KENT[0], "--record", "--ledger", url, "--root", ROOT)
        assert result.exit_code == 2 and "not an Arbiter ledger (format notes/1)" in result.output
        assert scalar(url, "SELECT count(*) FROM entries") == 0
    finally:
        pg.drop_database(postgres_cluster, database)


def test_a_ledger_location_must_be_a_file_or_a_postgresql_url():
    for value, words in (("", "empty"), ("mysql://host/db", "mysql:// is not a ledger location")):
        result = run("log", "--ledger", value)
        assert result.exit_code == 2 and "E174" in result.output and words in result.output


def test_both_stores_write_the_same_format():
    assert FORMAT == f"arbiter-ledger/{SCHEMA_VERSION}"


# --- about the SQLite file itself -------------------------------------------------------------

@pytest.mark.parametrize("damage", ["truncate", "garbage"])
def test_a_damaged_ledger_file_gets_a_diagnostic_and_is_not_written(tmp_path, damage):
    """SQLite only: a file's pages can be cut or overwritten; a server's storage is its own."""
    path = Path(recorded(str(tmp_path / "ledger.sqlite"), *KENT))
    blob = path.read_bytes()
    path.write_bytes(blob[: len(blob) // 3] if damage == "truncate" else blob[:100] + b"\xff" * 4096 + blob[4196:])
    before = path.read_bytes()
    for args in (["verify"], ["log"], ["head"], ["score", ROOT / "cases" / "kent-2007" / "child-abuse.yaml", "--record"]):
        result = run(*args, "--ledger", path)
        assert result.exit_code != 0 and "Traceback" not in result.output
        assert "E170" in result.output or "entry" in result.output
    assert path.read_bytes() == before


def test_verify_and_friends_never_create_a_ledger_file(tmp_path):
    """SQLite only: a server ledger is never created by recording (see the E170 tests above)."""
    missing = tmp_path / "none.sqlite"
    result = run("verify", "--ledger", missing)
    assert result.exit_code == 2 and "E170" in result.output and not missing.exists()


def test_another_sqlite_file_is_never_turned_into_a_ledger(tmp_path):
    """SQLite only: a file that is another program's database."""
    other = tmp_path / "other.sqlite"
    db = sqlite3.connect(other)
    db.execute("CREATE TABLE notes (text)")
    db.commit()
    db.close()
    before = other.read_bytes()
    result = run("score", ROOT / "cases" / "kent-2007" / "child-abuse.yaml", "--record", "--ledger", other)
    assert result.exit_code == 2 and "E170" in result.output
    assert other.read_bytes() == before


# --- a law: any changed bit of any entry is caught there ----------------------------------------

COLUMNS = ["prev", "hash", "type", "ref", "refs", "recorded_at", "body", "actor", "host"]


@pytest.fixture(scope="module", params=BACKENDS)
def small_ledger(request, tmp_path_factory) -> str:
    """Six decisions, recorded once for the module; each example changes one value and puts it back."""
    if request.param == "sqlite":
        location = str(tmp_path_factory.mktemp("ledger") / "ledger.sqlite")
    else:
        cluster = request.getfixturevalue("postgres_cluster")
        database = pg.create_database(cluster)
        request.addfinalizer(lambda: pg.drop_database(cluster, database))
        location = cluster.url_for(database)
    return recorded(location, *KENT)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(seq=st.integers(1, 6), column=st.sampled_from(COLUMNS), position=st.integers(0, 10_000), bit=st.integers(0, 6))
def test_any_changed_bit_of_any_entry_is_caught_at_that_entry(small_ledger, seq, column, position, bit):
    """Law: flipping one bit of any field of any entry breaks the chain exactly there."""
    with tampered(small_ledger) as sql:
        (original,), = sql(f"SELECT {column} FROM entries WHERE seq = ?", (seq,))
    value = bytearray(original.encode("utf-8"))
    value[position % len(value)] ^= 1 << bit
    changed = bytes(value).decode("latin-1")
    assume("\x00" not in changed)  # PostgreSQL's text holds no NUL character
    with tampered(small_ledger) as sql:
        sql(f"UPDATE entries SET {column} = ? WHERE seq = ?", (changed, seq))
    try:
        with open_store(store.ledger_location(small_ledger), "verify") as ledger:
            verification = ledger.verify()
    finally:
        with tampered(small_ledger) as sql:
            sql(f"UPDATE entries SET {column} = ? WHERE seq = ?", (original, seq))
    assert not verification.ok and verification.at == seq, verification
