"""The PostgreSQL ledger's own guarantees, on a real server (tests/postgres_cluster.py): what
each role may do, enforced by the database whoever connects; the purge function's chain entry;
the schema file run twice; and writers that are many, killed, or cut off by a restart."""

from __future__ import annotations

import functools
import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Optional

import psycopg
import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from engine.cli import main
from engine.language.canonical import sha256_bytes
from engine.ledger import chain
from engine.ledger.postgres_setup import load_schema, schema_sql

from . import postgres_cluster as pg
from .conftest import ROOT

ARBITER = Path(sys.executable).parent / "arbiter"
NOW = "2024-06-30T12:00:00+00:00"
# Strings a hand-made JSON encoder gets wrong: quotes, backslashes, every kind of control
# character, a slash, DEL, non-ASCII in and beyond the Basic Multilingual Plane, U+2028.
AWKWARD = ['quote " and backslash \\ and slash /', "tab\t newline\n return\r feed\f bell\x07 back\b",
           "\x01\x1f\x7f", "Ünïcödé — ☃ 𝄞 \u2028 \ufeff", "", "{\"json\": [1, 2]}"]
TABLES = ("meta", "entries", "blobs")


def connect(url: str, login: str | None = None) -> psycopg.Connection:
    return pg.connect(pg.login_url(url, login) if login else url)


def append(db: psycopg.Connection, type_: str = "override", ref: str = "0123456789abcdef", refs: tuple = (),
           body: str = "{}", actor: str | None = "ada", host: str | None = "office-a") -> chain.Entry:
    """Append one entry as a writer would (under the lock, after the head), through SQL alone."""
    with db.transaction():
        db.execute("SELECT pg_advisory_xact_lock(%s)", (lock_key(),))
        last = db.execute("SELECT seq, hash FROM entries ORDER BY seq DESC LIMIT 1").fetchone()
        seq, prev = (last[0] + 1, last[1]) if last else (1, chain.GENESIS)
        digest = chain.entry_hash(seq, prev, type_, ref, refs, NOW, body, actor, host)
        db.execute("INSERT INTO entries (seq, prev, hash, type, ref, refs, recorded_at, body, actor, host) "
                   "VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s)",
                   (seq, prev, digest, type_, ref, " ".join(refs), NOW, body, actor, host))
    return chain.Entry(seq, prev, digest, type_, ref, tuple(refs), NOW, body, actor, host)


def add_blob(db: psycopg.Connection, kind: str, content: bytes) -> str:
    sha = sha256_bytes(content)
    db.execute("INSERT INTO blobs (sha256, kind, content) VALUES (%s, %s, %s) ON CONFLICT DO NOTHING",
               (sha, kind, content))
    return sha


def lock_key() -> int:
    return int(re.search(r"pg_advisory_xact_lock\((\d+)\)", schema_sql()).group(1))


def refused(db: psycopg.Connection, statement: str, parameters: tuple = ()) -> str:
    """The server's refusal of a statement (which changes nothing), as its message."""
    with pytest.raises(psycopg.Error) as caught:
        with db.transaction():
            db.execute(statement, parameters)
    return str(caught.value)


def catalog_state(db: psycopg.Connection) -> list:
    """What the schema file creates, as the catalog holds it: tables and columns, triggers,
    functions, roles and every privilege."""
    queries = [
        "SELECT table_name, column_name, data_type FROM information_schema.columns WHERE table_schema = 'public' "
        "ORDER BY 1, 2",
        "SELECT tgrelid::regclass::text, tgname, tgtype, tgfoid::regproc::text FROM pg_trigger WHERE NOT tgisinternal "
        "ORDER BY 1, 2",
        "SELECT proname, md5(prosrc), prosecdef, proacl::text FROM pg_proc "
        "WHERE pronamespace = 'public'::regnamespace ORDER BY 1",
        "SELECT relname, relacl::text FROM pg_class WHERE relnamespace = 'public'::regnamespace ORDER BY 1",
        "SELECT rolname, rolcanlogin FROM pg_roles WHERE rolname LIKE 'arbiter%' ORDER BY 1",
        "SELECT key, value FROM meta ORDER BY key",
    ]
    return [db.execute(query).fetchall() for query in queries]


# --- the schema file --------------------------------------------------------------------------

def test_the_lock_the_store_takes_is_the_one_the_purge_function_takes():
    from engine.ledger.postgres import LOCK_KEY
    assert lock_key() == LOCK_KEY
    assert f"{LOCK_KEY} (the eight bytes" in schema_sql()  # the comment names the same number
    assert LOCK_KEY == int.from_bytes(b"arbiter\x01", "big")


def test_running_the_schema_file_again_changes_nothing(postgres_ledger_url):
    with connect(postgres_ledger_url) as db:
        append(db)
        before = catalog_state(db)
        with db.transaction():
            load_schema(db)
        assert catalog_state(db) == before
        assert db.execute("SELECT count(*) FROM entries").fetchone() == (1,)
        assert db.execute("SELECT value FROM meta WHERE key = 'format'").fetchone() == ("arbiter-ledger/2",)


# --- the chain's recipe in SQL ----------------------------------------------------------------

def sql_hash(db: psycopg.Connection, seq: int, prev: str, type_: str, ref: str, refs: tuple, recorded_at: str,
             body: str, actor: str | None, host: str | None) -> str:
    return db.execute("SELECT arbiter_entry_hash(%s, %s, %s, %s, %s, %s, %s, %s, %s)",
                      (seq, prev, type_, ref, " ".join(refs), recorded_at, body, actor, host)).fetchone()[0]


@pytest.mark.parametrize("text", AWKWARD)
def test_the_database_hashes_an_entry_exactly_as_the_recipe_says(postgres_ledger_url, text):
    refs = (sha256_bytes(b"a"), sha256_bytes(b"b"))
    with connect(postgres_ledger_url) as db:
        for recipe_actor, recipe_host in ((text, text), (None, None)):
            for fields in ((7, chain.GENESIS, "purge", text, refs, NOW, text),
                           (123456789012, "f" * 64, text, "", (), text, "{}")):
                assert sql_hash(db, *fields, recipe_actor, recipe_host) == chain.entry_hash(*fields, recipe_actor,
                                                                                            recipe_host)


PG_TEXT = st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"), max_size=40)


@pytest.fixture(scope="module")
def hashing_database(postgres_cluster):
    name = pg.create_database(postgres_cluster)
    with connect(postgres_cluster.url_for(name)) as db:
        yield db
    pg.drop_database(postgres_cluster, name)


@settings(max_examples=200, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(seq=st.integers(1, 2**53 - 1), words=st.lists(PG_TEXT, min_size=6, max_size=6),
       refs=st.lists(st.text("0123456789abcdef", min_size=1, max_size=64), max_size=5))
def test_the_database_and_the_recipe_agree_on_any_strings(hashing_database, seq, words, refs):
    prev, type_, ref, body, actor, host = words
    fields = (seq, prev, type_, ref, tuple(refs), NOW, body, actor, host)
    assert sql_hash(hashing_database, *fields) == chain.entry_hash(*fields)


# --- what each role may do --------------------------------------------------------------------

def test_a_writer_may_append_and_nothing_else(postgres_ledger_url):
    with connect(postgres_ledger_url, "ledger_writer") as db:
        sha = add_blob(db, "personal", b"Tim Smith")
        entry = append(db, refs=(sha,))
        for table in TABLES:
            assert "permission denied" in refused(db, f"UPDATE {table} SET {'value' if table == 'meta' else 'hash' if table == 'entries' else 'kind'} = 'x'")
            assert "permission denied" in refused(db, f"DELETE FROM {table}")
            assert "permission denied" in refused(db, f"TRUNCATE {table}")
        assert "permission denied" in refused(db, "INSERT INTO meta VALUES ('format', 'arbiter-ledger/3')")
        assert "permission denied" in refused(db, "SELECT * FROM arbiter_purge(%s, %s, '{}', 'ada', 'office-a')",
                                              ([sha], NOW))
        assert db.execute("SELECT hash FROM entries").fetchall() == [(entry.hash,)]
        assert db.execute("SELECT content FROM blobs").fetchall() == [(b"Tim Smith",)]


def test_a_writer_cannot_fork_or_forge_the_chain(postgres_ledger_url):
    with connect(postgres_ledger_url, "ledger_writer") as db:
        first = append(db)
        insert = ("INSERT INTO entries (seq, prev, hash, type, ref, refs, recorded_at, body, actor, host) "
                  "VALUES (%s, %s, %s, 'override', 'r', '', %s, '{}', 'ada', 'office-a')")
        forged = chain.entry_hash(2, first.prev, "override", "r", (), NOW, "{}", "ada", "office-a")
        assert "does not follow the head" in refused(db, insert, (2, first.prev, forged, NOW))  # a fork from entry 0
        assert "does not follow the head" in refused(db, insert, (3, first.hash, forged, NOW))  # a gap
        assert "not the hash of its fields" in refused(db, insert, (2, first.hash, "0" * 64, NOW))
        another_first = chain.entry_hash(1, chain.GENESIS, "override", "r", (), NOW, "{}", "ada", "office-a")
        assert "duplicate key" in refused(db, insert, (1, chain.GENESIS, another_first, NOW))  # a second entry 1
        assert "not stored under the sha256" in refused(
            db, "INSERT INTO blobs (sha256, kind, content) VALUES (%s, 'evidence', 'changed')", (sha256_bytes(b"x"),))
        assert db.execute("SELECT count(*) FROM entries").fetchone() == (1,)


def test_an_auditor_may_only_read(postgres_ledger_url):
    with connect(postgres_ledger_url, "ledger_writer") as writer:
        sha = add_blob(writer, "personal", b"Tim Smith")
        append(writer, refs=(sha,))
    with connect(postgres_ledger_url, "ledger_auditor") as db:
        for table in TABLES:
            assert db.execute(f"SELECT count(*) FROM {table}").fetchone() == (1,)
            assert "permission denied" in refused(db, f"DELETE FROM {table}")
            assert "permission denied" in refused(db, f"TRUNCATE {table}")
        assert "permission denied" in refused(db, "INSERT INTO blobs (sha256, kind, content) VALUES (%s, 'x', 'x')",
                                              (sha256_bytes(b"x"),))
        assert "permission denied" in refused(db, "INSERT INTO entries SELECT * FROM entries")
        assert "permission denied" in refused(db, "UPDATE blobs SET content = NULL, erased_at = %s", (NOW,))
        assert "permission denied" in refused(db, "SELECT * FROM arbiter_purge(%s, %s, '{}', 'ada', 'office-a')",
                                              ([sha], NOW))


def test_even_the_owner_cannot_change_or_remove_an_entry(postgres_ledger_url):
    with connect(postgres_ledger_url) as db:  # the superuser, who owns the tables
        sha = add_blob(db, "personal", b"Tim Smith")
        append(db, refs=(sha,))
        for statement in ("UPDATE entries SET body = '{\"outcome\": \"good\"}'", "DELETE FROM entries",
                          "UPDATE blobs SET content = 'Tom Smith'", "UPDATE blobs SET content = NULL, erased_at = 'now'",
                          "DELETE FROM blobs", "UPDATE meta SET value = 'arbiter-ledger/1'", "DELETE FROM meta",
                          "TRUNCATE entries", "TRUNCATE blobs", "TRUNCATE meta"):
            assert "the ledger is append-only" in refused(db, statement), statement


def test_only_the_purge_function_erases_and_a_role_that_sets_its_flag_cannot(postgres_ledger_url, postgres_cluster):
    with connect(postgres_ledger_url, "ledger_writer") as writer:
        sha = add_blob(writer, "personal", b"Tim Smith")
        append(writer, refs=(sha,))
    with connect(postgres_ledger_url) as admin:  # a role given UPDATE by mistake is still refused by the trigger
        admin.execute("GRANT UPDATE ON blobs TO ledger_writer_b")
    with connect(postgres_ledger_url, "ledger_writer_b") as db:
        with pytest.raises(psycopg.Error, match="append-only"):
            with db.transaction():
                db.execute("SELECT set_config('arbiter.purging', 'on', true)")
                db.execute("UPDATE blobs SET content = NULL, erased_at = %s", (NOW,))
    with connect(postgres_ledger_url, "ledger_purger") as db:
        assert "permission denied" in refused(db, "UPDATE blobs SET content = NULL, erased_at = %s", (NOW,))
        assert "permission denied" in refused(db, "INSERT INTO entries SELECT * FROM entries")
        assert db.execute("SELECT content FROM blobs").fetchone() == (b"Tim Smith",)


@pytest.mark.parametrize("text", AWKWARD[:4])
def test_the_purge_function_erases_personal_data_and_chains_the_erasure(postgres_ledger_url, text):
    with connect(postgres_ledger_url, "ledger_writer") as writer:
        names, notes = (add_blob(writer, "personal", content) for content in (b"Tim", b"notes"))
        evidence = add_blob(writer, "evidence", b"{}")
        append(writer, refs=(names,))
        decision = append(writer, refs=(notes,))
    body = '{"erased": ' + text.replace("\\", "\\\\").replace('"', '\\"') + "}"  # any text: the body is opaque
    with connect(postgres_ledger_url, "ledger_purger") as db:
        with db.transaction():
            rows = db.execute("SELECT seq, hash, erased FROM arbiter_purge(%s, %s, %s, %s, %s)",
                              ([notes, evidence, "f" * 64, names, notes], NOW, body, text or "x", f"host {text}"))
            (seq, digest, erased), = rows.fetchall()
        assert (seq, erased) == (decision.seq + 1, [notes, names])  # in the order given, each once, personal only
        row = db.execute("SELECT seq, prev, hash, type, ref, refs, recorded_at, body, actor, host FROM entries "
                         "WHERE seq = %s", (seq,)).fetchone()
        purge = chain.Entry(row[0], row[1], row[2], row[3], row[4], tuple(row[5].split()), *row[6:])
        assert purge.hash == digest == chain.hash_of(purge)
        assert (purge.prev, purge.type, purge.ref, purge.refs, purge.body) == (decision.hash, "purge", "", (notes, names),
                                                                               body)
        assert purge.recorded_at == NOW and purge.actor == (text or "x") and purge.host == f"host {text}"
        assert dict(db.execute("SELECT sha256, content FROM blobs").fetchall()) == {names: None, notes: None,
                                                                                    evidence: b"{}"}
        assert db.execute("SELECT count(*) FROM blobs WHERE erased_at = %s", (NOW,)).fetchone() == (2,)
        with db.transaction():  # nothing left to erase: no row, no entry
            assert db.execute("SELECT * FROM arbiter_purge(%s, %s, '{}', 'x', 'y')", ([names], NOW)).fetchall() == []
        assert db.execute("SELECT max(seq) FROM entries").fetchone() == (seq,)


def test_the_purge_function_refuses_a_time_or_author_it_cannot_chain(postgres_ledger_url):
    with connect(postgres_ledger_url, "ledger_writer") as writer:
        sha = add_blob(writer, "personal", b"Tim")
        append(writer, refs=(sha,))
    with connect(postgres_ledger_url, "ledger_purger") as db:
        for when, actor in (("2024-06-30", "x"), ("2024-06-30T12:00:00Z", "x"), (NOW, ""), (NOW, None)):
            assert "arbiter:" in refused(db, "SELECT * FROM arbiter_purge(%s, %s, '{}', %s, 'y')", ([sha], when, actor))
        assert db.execute("SELECT content FROM blobs").fetchone() == (b"Tim",)


# --- writers that are many, killed, or cut off ----------------------------------------------

NATIONAL = sorted((ROOT / "cases" / "national-2007").rglob("*.yaml"))
OFFICES = {"office-a": "ledger_writer", "office-b": "ledger_writer_b"}  # each office's login role


def score_command(url: str, *cases: Path) -> list[str]:
    return [str(ARBITER), "score", *map(str, cases), "--format", "json", "--record", "--ledger", url,
            "--root", str(ROOT)]


def writer_env(actor: str) -> dict[str, str]:
    return {**os.environ, "ARBITER_ACTOR": actor}


def decision_rows(url: str) -> list[tuple]:
    with connect(url) as db:
        return db.execute("SELECT ref, actor, host FROM entries WHERE type = 'decision' ORDER BY seq").fetchall()


def printed_decisions(output: str) -> set[str]:
    return {json.loads(line)["decision_id"] for line in output.splitlines() if line.startswith("{")}


def verified(url: str) -> subprocess.CompletedProcess:
    return subprocess.run([str(ARBITER), "verify", "--ledger", url], capture_output=True, text=True, timeout=300)


@functools.cache
def machine_namer() -> Optional[list[str]]:
    """A command prefix that runs a program in a namespace of its own, where it may give the
    machine another name (as a writer in another office would see it); None where this
    machine does not allow it."""
    for prefix in (["unshare", "--uts"], ["unshare", "--user", "--map-root-user", "--uts"]):
        try:
            probe = subprocess.run([*prefix, "sh", "-c", "hostname probe && hostname"], capture_output=True,
                                   text=True, timeout=30)
        except OSError:
            return None
        if probe.returncode == 0 and probe.stdout.strip() == "probe":
            return prefix
    return None


def on_machine(host: str, command: list[str]) -> list[str]:
    prefix = machine_namer()
    return [*prefix, "sh", "-c", 'hostname "$0" && exec "$@"', host, *command] if prefix else command


def test_eight_writers_in_two_offices_lose_nothing_and_record_nothing_twice(postgres_ledger_url):
    shared, own = NATIONAL[0], NATIONAL[1:33]  # every writer also records the same shared case
    writers = []
    for number in range(8):
        office = "office-a" if number < 4 else "office-b"
        url = pg.login_url(postgres_ledger_url, OFFICES[office])
        writers.append((f"assessor {number} ({office})", office, url, [shared, *own[number * 4:(number + 1) * 4]]))
    running = [subprocess.Popen(on_machine(office, score_command(url, *cases)), env=writer_env(actor),
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
               for actor, office, url, cases in writers]
    outputs = []
    for process in running:
        out, err = process.communicate(timeout=600)
        assert process.returncode == 0, err
        outputs.append(out)
    recorded = decision_rows(postgres_ledger_url)
    refs = [ref for ref, _, _ in recorded]
    assert len(refs) == len(set(refs)) == 33  # the shared case once, every writer's own cases once each
    assert set(refs) == set().union(*map(printed_decisions, outputs))
    assert {actor for _, actor, _ in recorded} == {actor for actor, _, _, _ in writers}
    hosts = set(OFFICES) if machine_namer() else {chain.current_host()}
    assert {host for _, _, host in recorded} == hosts
    check = verified(postgres_ledger_url)
    assert check.returncode == 0, check.stdout + check.stderr


PAUSE_AT = """
CREATE FUNCTION pause_writer() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.seq = {seq} THEN PERFORM pg_sleep(120); END IF;
    RETURN NEW;
END $$;
CREATE TRIGGER pause_writer AFTER INSERT ON entries FOR EACH ROW EXECUTE FUNCTION pause_writer();
"""


def pause_writers_at(url: str, seq: int) -> None:
    """Make the writer that inserts entry `seq` wait inside its transaction, before it commits:
    the entries before it in the same call are written but not committed."""
    with connect(url) as db:
        db.execute(PAUSE_AT.format(seq=seq))


def stop_pausing(url: str) -> None:
    with connect(url) as db:
        db.execute("DROP TRIGGER pause_writer ON entries")


def wait_for_paused_writer(url: str) -> int:
    """The server process of the writer paused in its transaction, once it is."""
    database = url.rsplit("/", 1)[1]
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        with connect(url) as db:
            row = db.execute("SELECT pid FROM pg_stat_activity WHERE datname = %s AND wait_event = 'PgSleep'",
                             (database,)).fetchone()
        if row:
            return row[0]
        time.sleep(0.2)
    raise AssertionError("no writer reached the pause")


def wait_until_gone(url: str, pid: int) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        with connect(url) as db:
            if db.execute("SELECT 1 FROM pg_stat_activity WHERE pid = %s", (pid,)).fetchone() is None:
                return
        time.sleep(0.2)
    raise AssertionError(f"server process {pid} is still there")


def record_first_decision(url: str) -> str:
    first = subprocess.run(score_command(pg.login_url(url, "ledger_writer"), NATIONAL[0]), env=writer_env("ada"),
                           capture_output=True, text=True, timeout=300)
    assert first.returncode == 0, first.stderr
    return first.stdout


def retried_twice(url: str, command: list[str]) -> subprocess.CompletedProcess:
    """Run the interrupted command again, then once more: the first retry records what was
    missing, the second finds everything recorded, and each decision is held once."""
    retry = subprocess.run(command, env=writer_env("ada"), capture_output=True, text=True, timeout=300)
    assert retry.returncode == 0, retry.stderr
    again = subprocess.run(command, env=writer_env("ada"), capture_output=True, text=True, timeout=300)
    assert again.returncode == 0 and "already recorded" in again.stderr
    refs = [ref for ref, _, _ in decision_rows(url)]
    assert len(refs) == len(set(refs)) == 3
    return retry


def test_a_writer_killed_inside_its_transaction_leaves_nothing_and_its_retry_records_once(postgres_ledger_url):
    url = pg.login_url(postgres_ledger_url, "ledger_writer")
    record_first_decision(postgres_ledger_url)
    pause_writers_at(postgres_ledger_url, 3)  # the killed call's first decision is entry 2, in the open transaction
    command = score_command(url, NATIONAL[1], NATIONAL[2])
    writer = subprocess.Popen(command, env=writer_env("ada"), stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    backend = wait_for_paused_writer(postgres_ledger_url)
    writer.send_signal(signal.SIGKILL)
    writer.wait(timeout=60)
    wait_until_gone(postgres_ledger_url, backend)  # the server saw the client go and rolled its transaction back
    stop_pausing(postgres_ledger_url)
    assert len(decision_rows(postgres_ledger_url)) == 1
    check = verified(postgres_ledger_url)
    assert check.returncode == 0, check.stdout + check.stderr
    retry = retried_twice(postgres_ledger_url, command)
    refs = [ref for ref, _, _ in decision_rows(postgres_ledger_url)]
    assert set(refs[1:]) == printed_decisions(retry.stdout)
    assert verified(postgres_ledger_url).returncode == 0


def test_a_server_restarted_mid_write_gets_a_clear_error_and_the_retry_records_once(postgres_ledger_url,
                                                                                     postgres_cluster):
    url = pg.login_url(postgres_ledger_url, "ledger_writer")
    record_first_decision(postgres_ledger_url)
    pause_writers_at(postgres_ledger_url, 3)
    command = score_command(url, NATIONAL[1], NATIONAL[2])
    writer = subprocess.Popen(command, env=writer_env("ada"), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              text=True)
    wait_for_paused_writer(postgres_ledger_url)
    postgres_cluster.restart(mode="immediate")  # as a crash: the server recovers from its log on start
    out, err = writer.communicate(timeout=120)
    assert writer.returncode == 2, out + err
    assert "E170" in err and "run the same command again" in err and "Traceback" not in out + err
    stop_pausing(postgres_ledger_url)
    assert len(decision_rows(postgres_ledger_url)) == 1
    retried_twice(postgres_ledger_url, command)
    check = verified(postgres_ledger_url)
    assert check.returncode == 0, check.stdout + check.stderr


# --- arbiter ledger init --postgres -----------------------------------------------------------

def init(*args: str, env: dict | None = None):
    return CliRunner().invoke(main, ["ledger", "init", *args], env=env, catch_exceptions=False)


@pytest.fixture
def empty_database_url(postgres_cluster):
    """A new database with nothing in it (not copied from the template)."""
    name = f"empty_{os.getpid()}_{time.monotonic_ns()}"
    with connect(postgres_cluster.url) as admin:
        admin.execute(f"CREATE DATABASE {name}")
    yield postgres_cluster.url_for(name, password="admin-secret")  # the test server ignores passwords
    pg.drop_database(postgres_cluster, name)


def test_init_creates_the_schema_and_the_login_roles_once(empty_database_url):
    name = empty_database_url.rsplit("/", 1)[1]
    writer, auditor = f"{name}_alice", f"{name}_bob"
    first = init("--postgres", "--ledger", empty_database_url, "--writer", writer, "--auditor", auditor, "--yes",
                 env={"ARBITER_WRITER_PASSWORD": "alice-secret"})
    assert first.exit_code == 0, first.output
    assert "table entries" in first.output and "triggers arbiter_check_entry on entries" in first.output
    assert f"login role {writer} in arbiter_writer (password from $ARBITER_WRITER_PASSWORD)" in first.output
    assert f"login role {auditor} in arbiter_auditor (no password" in first.output
    assert "secret" not in first.output and "postgres:***@" in first.output
    with connect(empty_database_url) as db:
        before = catalog_state(db)
        assert db.execute("SELECT rolpassword IS NOT NULL FROM pg_authid WHERE rolname = %s",
                          (writer,)).fetchone() == (True,)
    second = init("--postgres", "--ledger", empty_database_url, "--writer", writer, "--auditor", auditor)
    assert second.exit_code == 0 and "nothing to create" in second.output
    with connect(empty_database_url) as db:
        assert catalog_state(db) == before
    with connect(empty_database_url, writer) as db:
        append(db)
    with connect(empty_database_url, auditor) as db:
        assert "permission denied" in refused(db, "INSERT INTO entries SELECT * FROM entries")
    assert verified(empty_database_url).returncode == 0


def test_init_adds_an_existing_role_to_its_group(empty_database_url):
    carol = f"{empty_database_url.rsplit('/', 1)[1]}_carol"
    with connect(empty_database_url) as db:
        db.execute(f"CREATE ROLE {carol} LOGIN")
    result = init("--postgres", "--ledger", empty_database_url, "--purger", carol, "--yes")
    assert result.exit_code == 0 and f"the existing role {carol} joins arbiter_purger" in result.output
    with connect(empty_database_url, carol) as db:
        assert db.execute("SELECT pg_has_role('arbiter_purger', 'MEMBER')").fetchone() == (True,)


def test_init_without_a_terminal_to_ask_at_creates_nothing(empty_database_url):
    result = init("--postgres", "--ledger", empty_database_url)
    assert result.exit_code == 2 and "will create" in result.output and "nothing was created" in result.output
    with connect(empty_database_url) as db:
        assert db.execute("SELECT to_regclass('public.entries')").fetchone() == (None,)


def test_init_refuses_what_it_cannot_set_up_saying_where(tmp_path, empty_database_url, postgres_cluster):
    cases = [
        (["--ledger", empty_database_url], "--postgres: error E174"),
        (["--postgres", "--ledger", str(tmp_path / "ledger.sqlite")], "--ledger: error E174"),
        (["--postgres", "--ledger", empty_database_url, "--writer", "Robert'); DROP TABLE x; --", "--auditor", "ann",
          "--purger", "ann"], "--writer: error E174"),
        (["--postgres", "--ledger", pg.login_url(empty_database_url, "ledger_writer")],
         "may not create tables in the schema public"),
        (["--postgres", "--ledger", f"postgresql://u:pw-secret@127.0.0.1:{postgres_cluster.port}/no_such_database"],
         "error E170: cannot connect"),
    ]
    for args, expected in cases:
        result = init(*args, "--yes")
        assert result.exit_code == 2 and expected in result.output, result.output
        assert "Traceback" not in result.output and "secret" not in result.output
    assert "--auditor: error E174: 'ann' is named for more than one role" in init(*cases[2][0]).output
    with connect(empty_database_url) as db:
        assert db.execute("SELECT to_regclass('public.entries')").fetchone() == (None,)


# --- the roles, through the commands ------------------------------------------------------------

KENT_SELECTION = ROOT / "cases" / "appointments" / "kent-cc-2022" / "selection.yaml"


def as_login(url: str, login: str, *args: str):
    return CliRunner().invoke(main, [*args, "--ledger", pg.login_url(url, login)], env={"ARBITER_ACTOR": login},
                              catch_exceptions=False)


def test_each_role_may_run_its_commands_and_is_refused_the_others(postgres_ledger_url):
    score = ("score", str(KENT_SELECTION), "--record", "--root", str(ROOT))
    purge = ("purge", "--before", "2999-01-01", "--yes")
    recorded = as_login(postgres_ledger_url, "ledger_writer", *score)
    assert recorded.exit_code == 0, recorded.output
    count = len(decision_rows(postgres_ledger_url))
    another = ("score", str(NATIONAL[0]), "--record", "--root", str(ROOT))  # not recorded yet
    for login, command in (("ledger_writer", purge), ("ledger_auditor", another), ("ledger_auditor", purge),
                           ("ledger_purger", another)):
        result = as_login(postgres_ledger_url, login, *command)
        assert result.exit_code == 2 and "E170" in result.output and "Traceback" not in result.output, (login,
                                                                                                       result.output)
        assert "permission denied" in result.output
    for login in ("ledger_writer", "ledger_auditor", "ledger_purger"):
        for command in (("verify",), ("log",), ("head",)):
            assert as_login(postgres_ledger_url, login, *command).exit_code == 0, (login, command)
    with connect(postgres_ledger_url) as db:
        assert db.execute("SELECT count(*) FROM entries").fetchone() == (count,)
        assert db.execute("SELECT count(*) FROM blobs WHERE content IS NULL").fetchone() == (0,)
    erased = as_login(postgres_ledger_url, "ledger_purger", *purge)
    assert erased.exit_code == 0 and f"purge recorded as entry {count + 1}" in erased.output, erased.output
    with connect(postgres_ledger_url) as db:
        assert db.execute("SELECT type, actor FROM entries WHERE seq = %s", (count + 1,)).fetchone() == (
            "purge", "ledger_purger")
        assert db.execute("SELECT count(*) FROM blobs WHERE kind = 'personal' AND content IS NOT NULL"
                          ).fetchone() == (0,)
    assert as_login(postgres_ledger_url, "ledger_auditor", "verify").exit_code == 0


def test_ledger_init_has_help_with_an_example():
    result = CliRunner().invoke(main, ["ledger", "init", "--help"])
    assert result.exit_code == 0 and "Example:" in result.output and "arbiter ledger init --postgres" in result.output
