"""Moving a ledger's contents out and across: export, `log --format`, and `ledger copy` between
SQLite files and a real PostgreSQL server."""

from __future__ import annotations

import csv
import datetime
import io
import json
import sqlite3
from pathlib import Path
from typing import Optional

import pytest
from click.testing import CliRunner
from hypothesis import given
from hypothesis import strategies as st

from engine import api
from engine.cli import main
from engine.language.canonical import sha256_bytes
from engine.ledger.chain import GENESIS, Entry, hash_of
from engine.ledger import transfer
from engine.ledger.transfer import LOG_FIELDS, Exported, export_line, parse_export_line

from .conftest import ROOT

KENT = sorted((ROOT / "cases" / "kent-2007").glob("*.yaml"))
SELECTION = ROOT / "cases" / "appointments" / "kent-cc-2022" / "selection.yaml"
# A fixed date past every entry: a date worked out at import goes stale when a run crosses midnight.
PAST_EVERY_ENTRY = "2999-01-01"


def run(*args):
    return CliRunner().invoke(main, [str(a) for a in args], catch_exceptions=False)


def record(ledger, *cases, actor: str = "assessor one", by: Optional[str] = None):
    """Record as `actor` ($ARBITER_ACTOR); `by` names who records a revision."""
    result = CliRunner(env={"ARBITER_ACTOR": actor}).invoke(
        main, [str(a) for a in ("score", *cases, "--format", "json", "--record", "--ledger", ledger, "--root", ROOT)]
        + (["--by", by] if by else []), catch_exceptions=False)
    assert result.exit_code == 0, result.output


def purge(ledger):
    result = run("purge", "--before", PAST_EVERY_ENTRY, "--yes", "--ledger", ledger)
    assert result.exit_code == 0, result.output


def exported(ledger) -> str:
    result = run("export", "--ledger", ledger)
    assert result.exit_code == 0, result.output
    return result.output


def head(ledger) -> str:
    result = run("head", "--ledger", ledger)
    assert result.exit_code == 0, result.output
    return result.output.strip()


def copy(source, destination):
    return run("ledger", "copy", source, destination)


@pytest.fixture(scope="module")
def varied(tmp_path_factory) -> Path:
    """A ledger holding inspections, an appointment with personal data, an override and a purge
    (the tests only read it)."""
    path = tmp_path_factory.mktemp("varied") / "varied.sqlite"
    record(path, *KENT[:2])
    record(path, SELECTION)
    first = json.loads(run("log", "--format", "jsonl", "--ledger", path).output.splitlines()[0])
    overridden = run("override", first["decision_id"], "--outcome", "poor", "--rationale", "risk to children",
                     "--by", "HMI J. Smith", "--ledger", path)
    assert overridden.exit_code == 0, overridden.output
    purge(path)
    record(path, KENT[2])
    return path


# --- export -----------------------------------------------------------------------------

def test_export_holds_every_entry_and_blob_and_recomputes(varied):
    lines = exported(varied).splitlines()
    records = [parse_export_line(line) for line in lines]
    store = api.open_ledger(varied, "read")
    assert [r.entry for r in records] == list(store.entries())
    prev, blobs = GENESIS, {}
    for record in records:
        assert record.entry.prev == prev and hash_of(record.entry) == record.entry.hash
        prev = record.entry.hash
        for kind, sha, content, erased_at in record.blobs:
            assert sha not in blobs  # each blob once, with the first entry resting on it
            blobs[sha] = (kind, content, erased_at)
            assert (content is None) == (erased_at is not None)
            assert content is None or sha256_bytes(content) == sha
        assert set(record.entry.refs) <= set(blobs)
    purges = [r.entry for r in records if r.entry.type == "purge"]
    erased = {sha: at for sha, (_, content, at) in blobs.items() if content is None}
    assert purges and erased == {sha: e.recorded_at for e in purges for sha in e.refs}
    assert {blobs[sha][0] for sha in erased} == {"personal"}
    assert all(r.entry.actor and r.entry.host for r in records)
    assert {r.entry.actor for r in records if r.entry.type == "decision"} == {"assessor one"}


def test_export_is_deterministic_and_a_line_is_canonical(varied):
    text = exported(varied)
    assert text == exported(varied)
    for line in text.splitlines():
        assert line == json.dumps(json.loads(line), sort_keys=True, ensure_ascii=False, separators=(",", ":"))
        assert export_line(parse_export_line(line)) == line


def test_export_to_a_new_file_and_never_over_one(varied, tmp_path):
    out = tmp_path / "ledger.jsonl"
    result = run("export", "-o", out, "--ledger", varied)
    assert result.exit_code == 0 and result.output == f"wrote {out}\n"
    assert out.read_text(encoding="utf-8") == exported(varied)
    refused = run("export", "-o", out, "--ledger", varied)
    assert refused.exit_code == 2 and "--output: error E117" in refused.output
    assert out.read_text(encoding="utf-8") == exported(varied)
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []  # no temporary file left


def test_export_of_no_ledger_is_a_diagnostic(tmp_path):
    result = run("export", "--ledger", tmp_path / "none.sqlite")
    assert result.exit_code == 2 and "E170" in result.output and "Traceback" not in result.output


ENTRY = Entry(1, GENESIS, "0" * 64, "decision", "ab", ("x",), "2024-01-01T00:00:00+00:00", "{}", "a", "h")


@given(content=st.one_of(st.none(), st.binary(max_size=64),
                         st.text(max_size=32).map(lambda t: json.dumps(t, ensure_ascii=False).encode())),
       erased_at=st.one_of(st.none(), st.just("2024-06-30T12:00:00+00:00")))
def test_any_blob_content_round_trips(content, erased_at):
    record = Exported(ENTRY, (("personal", "x", content, erased_at),))
    line = export_line(record)
    assert parse_export_line(line) == record
    blob = json.loads(line)["blobs"][0]
    is_json_text = content is not None and _utf8_json(content)
    assert ("encoding" in blob) == (content is not None and not is_json_text)


def _utf8_json(content: bytes) -> bool:
    try:
        json.loads(content.decode("utf-8"))
    except ValueError:
        return False
    return True


# --- log formats ------------------------------------------------------------------------

def test_log_jsonl_and_csv_hold_the_tables_rows(varied):
    table = run("log", "--ledger", varied).output.splitlines()[2:]
    lines = [json.loads(line) for line in run("log", "--format", "jsonl", "--ledger", varied).output.splitlines()]
    rows = list(csv.DictReader(io.StringIO(run("log", "--format", "csv", "--ledger", varied).output)))
    assert len(lines) == len(rows) == len(table) == 6
    assert [tuple(line) for line in lines] == [LOG_FIELDS] * len(lines)
    for line, row, text in zip(lines, rows, table):
        cells = [str(line[key]) for key in ("entry", "recorded_at", "actor", "decision_id", "case", "subject",
                                            "framework", "computed")] + ([line["override"]] if line["override"] else [])
        assert text.split()[0] == cells[0] and _in_order(text, cells)
        assert row == {key: " ".join(value) if isinstance(value, list) else "" if value is None else str(value)
                       for key, value in line.items()}
        datetime.datetime.fromisoformat(line["recorded_at"])
    assert [line["override"] for line in lines].count("poor") == 1


def _in_order(text: str, cells: list[str]) -> bool:
    at = 0
    for cell in cells:
        at = text.find(cell, at)
        if at < 0:
            return False
        at += len(cell)
    return True


def test_log_formats_apply_the_filters_and_name_revisions(tmp_path):
    ledger = tmp_path / "l.sqlite"
    record(ledger, KENT[0])
    changed = tmp_path / KENT[0].name
    changed.write_text(KENT[0].read_text(encoding="utf-8").replace("finding: met", "finding: not_met", 1),
                       encoding="utf-8")
    assert changed.read_text(encoding="utf-8") != KENT[0].read_text(encoding="utf-8")
    record(ledger, KENT[1])
    record(ledger, changed, by="HMI K. Jones")
    lines = [json.loads(line) for line in run("log", "--format", "jsonl", "--ledger", ledger).output.splitlines()]
    first, second, revision = lines
    assert revision["revises"] == [first["decision_id"]] and first["superseded_by"] == revision["decision_id"]
    assert second["revises"] == [] and second["superseded_by"] is None
    only = run("log", "--format", "csv", "--subject", "nobody", "--ledger", ledger)
    assert only.exit_code == 2 and "--subject: error E174" in only.output


# --- copy between SQLite files ----------------------------------------------------------

def test_copy_to_a_new_file_gives_the_same_ledger(varied, tmp_path):
    target = tmp_path / "copy.sqlite"
    result = copy(varied, target)
    assert result.exit_code == 0, result.output
    assert result.output == (f"copied entries 1 to 8 ({_blob_count(varied)} blobs) from {varied} to {target}; "
                             f"both heads are {head(varied)}\n")
    assert head(target) == head(varied) and exported(target) == exported(varied)
    assert run("verify", "--ledger", target).exit_code == 0
    again = copy(varied, target)
    assert again.exit_code == 0 and "nothing to copy" in again.output and "held the first 8 entries" in again.output


def _blob_count(ledger: Path) -> int:
    with sqlite3.connect(ledger) as db:
        return db.execute("SELECT count(*) FROM blobs").fetchone()[0]


def test_copy_continues_a_destination_holding_the_first_entries(tmp_path):
    source, target = tmp_path / "s.sqlite", tmp_path / "t.sqlite"
    record(source, KENT[0])
    assert copy(source, target).exit_code == 0
    record(source, *KENT[1:3])
    result = copy(source, target)
    assert result.exit_code == 0, result.output
    assert result.output.startswith(f"{target} held the first entry of {source}; copied entries 2 to 3")
    assert head(target) == head(source) and exported(target) == exported(source)


def test_copy_refuses_a_destination_whose_chain_diverges(tmp_path):
    source, target = tmp_path / "s.sqlite", tmp_path / "t.sqlite"
    record(source, KENT[0])
    record(target, KENT[1])
    before = exported(target)
    result = copy(source, target)
    assert result.exit_code == 2 and "Traceback" not in result.output
    assert f"--ledger {target}: error E184: cannot copy into this ledger: its entry 1" in result.output
    assert "the two chains diverge" in result.output
    assert exported(target) == before


def test_copy_refuses_a_destination_longer_than_the_source(tmp_path):
    source, target = tmp_path / "s.sqlite", tmp_path / "t.sqlite"
    record(source, KENT[0])
    assert copy(source, target).exit_code == 0
    record(target, KENT[1])
    result = copy(source, target)
    assert result.exit_code == 2 and "E184" in result.output and "more than the source's 1" in result.output


def test_a_purged_ledger_copies_with_its_erasures(tmp_path):
    source, target = tmp_path / "s.sqlite", tmp_path / "t.sqlite"
    record(source, SELECTION)
    purge(source)
    assert copy(source, target).exit_code == 0
    store = api.open_ledger(target, "read")
    assert store.erased() == api.open_ledger(source, "read").erased() != set()
    assert exported(target) == exported(source)
    assert run("verify", "--ledger", target).exit_code == 0


def test_a_copy_never_erases_and_then_copies_nothing(tmp_path):
    """The destination holds personal data a later purge of the source erased: refused, and the
    entries copied before the purge entry are rolled back with it."""
    source, target = tmp_path / "s.sqlite", tmp_path / "t.sqlite"
    record(source, SELECTION)
    assert copy(source, target).exit_code == 0
    before = exported(target)
    record(source, KENT[0])  # copied first, then the purge stops the copy
    purge(source)
    result = copy(source, target)
    assert result.exit_code == 2 and "E184" in result.output and "a copy never erases" in result.output
    assert exported(target) == before


def test_a_broken_source_is_not_copied_and_starts_no_ledger(tmp_path):
    source, target = tmp_path / "s.sqlite", tmp_path / "t.sqlite"
    record(source, *KENT[:3])
    with sqlite3.connect(source) as db:
        db.execute("UPDATE entries SET body = replace(body, 'fair', 'good') WHERE seq = 2")
    result = copy(source, target)
    assert result.exit_code == 2 and "E170" in result.output and "the source does not verify: entry 2" in result.output
    assert not target.exists()


def test_copy_stops_at_the_head_it_verified(tmp_path):
    """Entries appended to the source after it was verified are left for the next copy."""
    source, target = tmp_path / "s.sqlite", tmp_path / "t.sqlite"
    record(source, KENT[0])
    with api.open_ledger(source, "read") as reading:
        verified = transfer.verified_source(reading)
    record(source, KENT[1])
    with api.open_ledger(source, "read") as reading, api.open_ledger(target, "write") as writing:
        copied = transfer.copy(reading, writing, verified)
    assert (copied.held, copied.copied, copied.head) == (0, 1, verified.head) and head(target) == verified.head
    assert copy(source, target).output.startswith(f"{target} held the first entry of {source}; copied entry 2 ")


def test_an_empty_ledger_copies_as_nothing(tmp_path):
    source = tmp_path / "s.sqlite"
    api.open_ledger(source, "write").close()
    result = copy(source, tmp_path / "t.sqlite")
    assert result.exit_code == 0 and result.output == f"nothing to copy: both heads are {GENESIS}\n"


@pytest.mark.parametrize("arguments, where", [(["", "t.sqlite"], "SRC: error E174"),
                                               (["s.sqlite", "http://example.org/x"], "DST: error E174"),
                                               (["missing.sqlite", "t.sqlite"], "E170")])
def test_copy_locations_are_checked(tmp_path, arguments, where):
    record(tmp_path / "s.sqlite", KENT[0])
    result = CliRunner().invoke(main, ["ledger", "copy", *[str(tmp_path / a) if a and "://" not in a else a
                                                           for a in arguments]])
    assert result.exit_code == 2 and where in result.output and "Traceback" not in result.output
    assert not (tmp_path / "t.sqlite").exists()


# --- across PostgreSQL ------------------------------------------------------------------

def test_sqlite_to_postgresql_and_back_keeps_every_entry(varied, tmp_path, postgres_ledger_url):
    there = copy(varied, postgres_ledger_url)
    assert there.exit_code == 0, there.output
    assert f"both heads are {head(varied)}" in there.output
    back = tmp_path / "back.sqlite"
    assert copy(postgres_ledger_url, back).exit_code == 0
    assert head(postgres_ledger_url) == head(back) == head(varied)
    assert exported(postgres_ledger_url) == exported(varied) == exported(back)
    assert run("verify", "--ledger", postgres_ledger_url).exit_code == 0
    assert run("log", "--format", "csv", "--ledger", postgres_ledger_url).output == \
        run("log", "--format", "csv", "--ledger", back).output


def test_a_purge_on_postgresql_copies_back_with_its_erasures(tmp_path, postgres_ledger_url):
    source = tmp_path / "s.sqlite"
    record(source, SELECTION)
    assert copy(source, postgres_ledger_url).exit_code == 0
    record(postgres_ledger_url, KENT[0], actor="assessor two")
    purge(postgres_ledger_url)
    back = tmp_path / "back.sqlite"
    assert copy(postgres_ledger_url, back).exit_code == 0
    assert api.open_ledger(back, "read").erased() == api.open_ledger(postgres_ledger_url, "read").erased() != set()
    assert exported(back) == exported(postgres_ledger_url)
    assert run("verify", "--ledger", back).exit_code == 0


def test_postgresql_refuses_a_diverged_copy(tmp_path, postgres_ledger_url):
    ours, theirs = tmp_path / "a.sqlite", tmp_path / "b.sqlite"
    record(ours, KENT[0])
    record(theirs, KENT[1])
    assert copy(ours, postgres_ledger_url).exit_code == 0
    result = copy(theirs, postgres_ledger_url)
    assert result.exit_code == 2 and "E184" in result.output and "the two chains diverge" in result.output
    assert head(postgres_ledger_url) == head(ours)


def test_the_password_in_a_url_is_never_printed(tmp_path, postgres_ledger_url):
    from tests.postgres_cluster import SUPERUSER, login_url
    source = tmp_path / "s.sqlite"
    record(source, KENT[0])
    with_password = login_url(postgres_ledger_url, SUPERUSER, "s3cret-word")
    result = copy(source, with_password)
    assert result.exit_code == 0, result.output
    assert "s3cret-word" not in result.output and "***" in result.output


@pytest.mark.parametrize("command", [["export"], ["ledger", "copy"]])
def test_each_command_has_help_with_an_example(command):
    result = run(*command, "--help")
    assert result.exit_code == 0
    assert "Example:" in result.output and f"arbiter {' '.join(command)}" in result.output


def test_a_writer_copies_in_an_auditor_exports_and_cannot_copy_in(varied, tmp_path, postgres_ledger_url):
    from tests.postgres_cluster import login_url
    writer, auditor = login_url(postgres_ledger_url, "ledger_writer"), login_url(postgres_ledger_url, "ledger_auditor")
    assert copy(varied, writer).exit_code == 0
    assert exported(auditor) == exported(varied)
    assert run("log", "--format", "jsonl", "--ledger", auditor).output == \
        run("log", "--format", "jsonl", "--ledger", varied).output
    more = tmp_path / "more.sqlite"
    assert copy(varied, more).exit_code == 0
    record(more, KENT[3])
    refused = copy(more, auditor)
    assert refused.exit_code == 2 and "Traceback" not in refused.output and "error E17" in refused.output
    assert head(auditor) == head(varied)
