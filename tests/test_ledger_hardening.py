"""The ledger refuses what it cannot trust: dates that are not dates, damaged or changed
files, values no recorded decision has; it erases only after saying what and being told to;
and any file name works."""

from __future__ import annotations

import datetime
import json
import os
import pty
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path
from typing import Callable

import pytest
import yaml
from click.testing import CliRunner

from engine.ledger import audit, chain
from engine.ledger import ledger as ledger_module
from engine.cli import main
from engine.ledger.ledger import Ledger
from engine.workspace.runner import score_paths

from .conftest import ROOT

ARBITER = Path(sys.executable).parent / "arbiter"
KENT = ROOT / "cases" / "kent-2007"
APPOINTMENT = ROOT / "cases" / "appointments" / "kent-cc-2022"
CHILD_ABUSE = KENT / "child-abuse.yaml"
SELECTION = APPOINTMENT / "selection.yaml"
HEARING = APPOINTMENT / "hearing.yaml"
NAMES = ["Tim Smith", "Matthew Scott", "Matthew Boughton", "Henu Cummins", "Rebecca Humphreys"]
NOT_DATES = ["tomorrow", "31/12/2019", "2024-13-01", "2024-02-30", "", "2024-1-1", "2024-06-30T00:00"]


def run(*args, input: str | None = None):
    return CliRunner().invoke(main, [str(a) for a in args], input=input, catch_exceptions=False)


def record(path: Path, *cases: Path):
    result = run("score", *cases, "--format", "json", "--record", "--ledger", path, "--root", ROOT)
    assert result.exit_code == 0, result.output
    return result


def decisions(path: Path) -> list[ledger_module.Entry]:
    return [e for e in Ledger.open_for_reading(path).entries() if e.type == "decision"]


def decision_of(path: Path, case: str, subject: str | None = None) -> str:
    for entry in decisions(path):
        body = json.loads(entry.body)
        if body["case"] == case and (subject is None or body["subject"] == subject):
            return entry.ref
    raise AssertionError(f"no decision for {case}")


def names_in(path: Path) -> list[str]:
    raw = path.read_bytes()
    return [name for name in NAMES if name.encode() in raw]


def usage_error_for_date(result, option: str) -> bool:
    return result.exit_code == 2 and f"'{option}'" in result.output and "YYYY-MM-DD" in result.output


def recorded_at(monkeypatch, stamp: str) -> None:
    """Record as if the clock said `stamp` (UTC)."""
    monkeypatch.setattr(ledger_module, "now", lambda: stamp)


@pytest.fixture(scope="module")
def kent_and_appointments(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("ledger") / "ledger.sqlite"
    record(path, *sorted(KENT.glob("*.yaml")), SELECTION, HEARING)
    return path


@pytest.fixture
def ledger_copy(kent_and_appointments, tmp_path) -> Path:
    copy = tmp_path / "ledger.sqlite"
    shutil.copy(kent_and_appointments, copy)
    return copy


# --- 1. purge: dates are dates; it says what it erases and asks first ---------------------

@pytest.mark.parametrize("text", NOT_DATES)
def test_purge_refuses_a_date_that_is_not_an_iso_date_and_erases_nothing(ledger_copy, text):
    before = ledger_copy.read_bytes()
    result = run("purge", "--before", text, "--yes", "--ledger", ledger_copy)
    assert usage_error_for_date(result, "--before"), result.output
    assert ledger_copy.read_bytes() == before and names_in(ledger_copy)


@pytest.mark.parametrize("option", ["--since", "--until"])
@pytest.mark.parametrize("text", NOT_DATES)
def test_log_refuses_a_date_that_is_not_an_iso_date(ledger_copy, option, text):
    assert usage_error_for_date(run("log", option, text, "--ledger", ledger_copy), option)


def test_purge_and_log_compare_the_recorded_utc_date_with_the_given_date(tmp_path, monkeypatch, catalog):
    path = tmp_path / "ledger.sqlite"
    results, _ = score_paths([SELECTION, HEARING], catalog)
    store = Ledger.open_for_writing(path)
    recorded_at(monkeypatch, "2019-12-31T23:59:59+00:00")
    audit.record_results(store, [results[0]])
    recorded_at(monkeypatch, "2020-01-01T00:00:00+00:00")
    audit.record_results(store, [results[1]])
    monkeypatch.undo()

    assert {r.case for r in audit.log(store, until=datetime.date(2019, 12, 31))} == {"appointments/kent-cc-2022/selection"}
    assert {r.case for r in audit.log(store, since=datetime.date(2020, 1, 1))} == {"appointments/kent-cc-2022/hearing"}
    plan = audit.purge_plan(store, datetime.date(2020, 1, 1))
    assert plan.describe() == "1 personal-data blob of 3 decisions recorded from 2019-12-31 to 2019-12-31"
    audit.purge(store, plan)
    shown = {json.loads(e.body)["case"]: audit.show(store, e.ref, True) for e in store.entries() if e.type == "decision"}
    assert "personal data: erased" in shown["appointments/kent-cc-2022/selection"]
    assert "personal data: erased" not in shown["appointments/kent-cc-2022/hearing"]
    assert store.verify().ok


def test_personal_data_also_held_by_a_later_decision_is_kept(tmp_path, monkeypatch, catalog):
    path = tmp_path / "ledger.sqlite"
    data = yaml.safe_load(SELECTION.read_text(encoding="utf-8"))
    cell = next(r for r in data["ratings"] if (r["candidate"], r["exercise"], r["area"]) == ("cand-a", "media", "transparency"))
    cell["agreed"], cell["individual"]["boughton"] = 4, 4  # moderated again: the same people, other evidence
    moderated = tmp_path / "selection.yaml"
    moderated.write_text(yaml.safe_dump({k: v for k, v in data.items() if k != "expect"}, sort_keys=False), encoding="utf-8")
    (results, _), (later, _) = score_paths([SELECTION], catalog), score_paths([moderated], catalog)
    store = Ledger.open_for_writing(path)
    recorded_at(monkeypatch, "2020-01-01T00:00:00+00:00")
    audit.record_results(store, results)
    recorded_at(monkeypatch, "2023-01-01T00:00:00+00:00")
    audit.record_results(store, later, by="HR adviser")  # the same people: the same personal blob
    monkeypatch.undo()
    assert audit.purge_plan(store, datetime.date(2022, 1, 1)).blobs == ()
    assert len(audit.purge_plan(store, datetime.date(2023, 1, 2)).blobs) == 1


def test_purge_says_what_it_will_erase_and_a_dry_run_erases_nothing(ledger_copy):
    before = ledger_copy.read_bytes()
    result = run("purge", "--before", "2999-01-01", "--dry-run", "--ledger", ledger_copy)
    today = datetime.datetime.now(datetime.timezone.utc).date()
    recorded_on = (today, today - datetime.timedelta(days=1))  # the fixture may have recorded before midnight
    assert result.exit_code == 0, result.output
    assert "2 personal-data blobs of 4 decisions recorded from" in result.output
    assert any(str(day) in result.output for day in recorded_on) and "nothing was erased" in result.output
    assert ledger_copy.read_bytes() == before


def test_purge_without_yes_and_with_no_one_to_ask_erases_nothing(ledger_copy):
    before = ledger_copy.read_bytes()
    for stdin in (None, "y\n"):  # standard input is not a terminal: a piped 'y' is no confirmation
        result = run("purge", "--before", "2999-01-01", "--ledger", ledger_copy, input=stdin)
        assert result.exit_code == 2 and "--yes" in result.output and "nothing was erased" in result.output
        assert ledger_copy.read_bytes() == before


def test_purge_with_yes_erases_and_says_what(ledger_copy):
    result = run("purge", "--before", "2999-01-01", "--yes", "--ledger", ledger_copy)
    assert result.exit_code == 0 and "will erase 2 personal-data blobs of 4 decisions" in result.output
    assert "erased 2 personal-data blob(s)" in result.output
    assert not names_in(ledger_copy)
    again = run("purge", "--before", "2999-01-01", "--yes", "--ledger", ledger_copy)
    assert again.exit_code == 0 and "nothing to erase" in again.output


def purge_on_a_terminal(path: Path, typed: bytes) -> tuple[int, str]:
    """Run `arbiter purge` with a terminal as standard input, typing `typed` at it."""
    master, slave = pty.openpty()
    try:
        proc = subprocess.Popen([str(ARBITER), "purge", "--before", "2999-01-01", "--ledger", str(path)],
                                stdin=slave, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        os.write(master, typed)
        out, _ = proc.communicate(timeout=120)
    finally:
        os.close(master)
        os.close(slave)
    return proc.returncode, out.decode()


def test_purge_on_a_terminal_asks_and_erases_only_on_yes(ledger_copy):
    before = ledger_copy.read_bytes()
    code, out = purge_on_a_terminal(ledger_copy, b"n\n")
    assert code == 1 and "Erase them?" in out and "nothing was erased" in out
    assert ledger_copy.read_bytes() == before
    code, out = purge_on_a_terminal(ledger_copy, b"\x04")  # end of input, no answer
    assert code == 2 and "--yes" in out and ledger_copy.read_bytes() == before
    code, out = purge_on_a_terminal(ledger_copy, b"y\n")
    assert code == 0 and "erased 2 personal-data blob(s)" in out, out
    assert not names_in(ledger_copy) and run("verify", "--ledger", ledger_copy).exit_code == 0


# --- 3. a damaged file is refused by every command and never written -----------------------

def every_command(path: Path, decision: str) -> list[list]:
    ledger = ["--ledger", path]
    return [["verify", *ledger], ["head", *ledger], ["log", *ledger], ["show", decision, *ledger],
            ["replay", decision, *ledger],
            ["override", decision, "--outcome", "poor", "--rationale", "r", "--by", "HMI", *ledger],
            ["purge", "--before", "2999-01-01", "--yes", *ledger],
            ["score", CHILD_ABUSE, "--record", "--root", ROOT, *ledger]]


DAMAGE: dict[str, Callable[[bytes], bytes]] = {
    "truncated by one byte": lambda raw: raw[:-1],
    "truncated by one page": lambda raw: raw[:-4096],
    "truncated to the header": lambda raw: raw[:100],
    "extended by a few bytes": lambda raw: raw + b"\0" * 10,
    "first page overwritten": lambda raw: raw[:100] + b"\xff" * 3996 + raw[4096:],
}


@pytest.mark.parametrize("damage", DAMAGE)
def test_a_damaged_ledger_gets_e170_from_every_command_and_is_never_written(ledger_copy, damage):
    decision = decision_of(ledger_copy, "kent-2007/child-abuse")
    ledger_copy.write_bytes(DAMAGE[damage](ledger_copy.read_bytes()))
    before = ledger_copy.read_bytes()
    for args in every_command(ledger_copy, decision):
        result = run(*args)
        assert result.exit_code == 2, (args, result.output)
        assert f"--ledger {ledger_copy}: error E170" in result.output, (args, result.output)
        assert ledger_copy.read_bytes() == before, args


def test_an_empty_file_is_not_a_ledger_and_stays_empty(tmp_path):
    empty = tmp_path / "empty.sqlite"
    empty.write_bytes(b"")
    for args in every_command(empty, "1"):
        result = run(*args)
        assert result.exit_code == 2 and "E170" in result.output and "empty" in result.output, (args, result.output)
    assert empty.read_bytes() == b"" and sorted(os.listdir(tmp_path)) == ["empty.sqlite"]


def test_only_a_path_where_nothing_exists_starts_a_ledger(tmp_path):
    path = tmp_path / "new.sqlite"
    record(path, CHILD_ABUSE)
    assert sorted(os.listdir(tmp_path)) == ["new.sqlite"]  # built aside, then linked into place
    assert run("verify", "--ledger", path).exit_code == 0
    missing_folder = tmp_path / "no-such-folder" / "ledger.sqlite"
    result = run("score", CHILD_ABUSE, "--record", "--ledger", missing_folder, "--root", ROOT)
    assert result.exit_code == 2 and "E170" in result.output and "cannot start a ledger here" in result.output


def test_a_changed_last_entry_is_refused_on_open_and_reported_by_verify(ledger_copy):
    db = sqlite3.connect(ledger_copy)
    db.execute("UPDATE entries SET body = replace(body, 'no_veto', 'veto') WHERE seq = (SELECT max(seq) FROM entries)")
    db.commit()
    db.close()
    before = ledger_copy.read_bytes()
    for args in (["head"], ["log"], ["score", CHILD_ABUSE, "--record", "--root", ROOT]):
        result = run(*args, "--ledger", ledger_copy)
        assert result.exit_code == 2 and "E170" in result.output and "last entry" in result.output, result.output
    assert ledger_copy.read_bytes() == before
    last = len(list(Ledger.open_for_verifying(ledger_copy).entries()))
    result = run("verify", "--ledger", ledger_copy)
    assert result.exit_code == 1 and f"entry {last}: entry {last} does not match its hash" in result.output


def test_verify_finds_damage_in_the_middle_of_the_file_that_no_query_reads(ledger_copy):
    db = sqlite3.connect(ledger_copy)
    root = db.execute("SELECT rootpage FROM sqlite_master WHERE name = 'entries_ref'").fetchone()[0]
    page_size = db.execute("PRAGMA page_size").fetchone()[0]
    db.close()
    raw = bytearray(ledger_copy.read_bytes())
    start = (root - 1) * page_size
    raw[start + 3: start + 5] = b"\xff\xff"  # the index page's cell count
    ledger_copy.write_bytes(bytes(raw))
    assert run("head", "--ledger", ledger_copy).exit_code == 0  # nothing on open reads that page
    result = run("verify", "--ledger", ledger_copy)
    assert result.exit_code == 1 and "the file's structure is damaged" in result.output, result.output
    shown = run("show", decision_of_raw(ledger_copy), "--ledger", ledger_copy)  # looked up through the index
    assert shown.exit_code == 2 and "E170" in shown.output, shown.output


# --- 4. every stored field is covered: verify catches it, purge and replay do not act -------

def covered_ledger(path: Path) -> dict[str, str]:
    """A ledger holding each kind of entry and blob state; returns names -> decision ids.

    Entries: 1 a graded area, 2-4 a selection (personal data, erased by 5), 5 a purge,
    6 a hearing (personal data, kept), 7 an override of 1 (the last entry)."""
    record(path, CHILD_ABUSE, SELECTION)
    assert run("purge", "--before", "2999-01-01", "--yes", "--ledger", path).exit_code == 0
    record(path, HEARING)
    area = decision_of(path, "kent-2007/child-abuse")
    assert run("override", area, "--outcome", "poor", "--rationale", "r", "--by", "HMI", "--ledger", path).exit_code == 0
    types = [e.type for e in Ledger.open_for_reading(path).entries()]
    assert types == ["decision"] * 4 + ["purge", "decision", "override"], types
    return {"area": area, "candidate": decisions(path)[1].ref,
            "hearing": decision_of(path, "appointments/kent-cc-2022/hearing")}


def refs_of(db: sqlite3.Connection, seq: int) -> list[str]:
    return db.execute("SELECT refs FROM entries WHERE seq = ?", (seq,)).fetchone()[0].split()


def flip(text: str) -> str:
    """The same text with its middle character changed."""
    i = len(text) // 2
    return text[:i] + ("0" if text[i] != "0" else "1") + text[i + 1:]


def change_entry(column: str, seq: int) -> Callable[[sqlite3.Connection], None]:
    def change(db: sqlite3.Connection) -> None:
        if column == "seq":
            db.execute("UPDATE entries SET seq = seq + 100 WHERE seq = ?", (seq,))
            return
        value = db.execute(f"SELECT {column} FROM entries WHERE seq = ?", (seq,)).fetchone()[0]
        db.execute(f"UPDATE entries SET {column} = ? WHERE seq = ?", (flip(value), seq))
    return change


def change_blob(column: str, seq: int, role: int, value=None) -> Callable[[sqlite3.Connection], None]:
    """Change a column of the blob at position `role` of entry `seq`'s refs."""
    def change(db: sqlite3.Connection) -> None:
        sha = refs_of(db, seq)[role]
        new = value
        if column == "sha256":
            new = flip(sha)
        elif column == "content":
            content = db.execute("SELECT content FROM blobs WHERE sha256 = ?", (sha,)).fetchone()[0]
            new = content[:-2] + b"!}"
        db.execute(f"UPDATE blobs SET {column} = ? WHERE sha256 = ?", (new, sha))
    return change


def sql(statement: str) -> Callable[[sqlite3.Connection], None]:
    return lambda db: db.execute(statement)


EVIDENCE, PERSONAL = 2, 3
TAMPERING: dict[str, tuple[Callable[[sqlite3.Connection], None], str | None]] = {  # -> the decision it affects
    # entries: every column, on a decision whose personal data was erased
    **{f"entries.{column}": (change_entry(column, 2), "candidate")
       for column in ("seq", "prev", "hash", "type", "ref", "refs", "recorded_at", "body")},
    "entries.body of the purge": (change_entry("body", 5), "candidate"),
    "entries.body of the last entry": (change_entry("body", 7), "area"),
    # blobs: every column
    "blobs.sha256": (change_blob("sha256", 6, EVIDENCE), "hearing"),
    "blobs.kind (evidence called personal data)": (change_blob("kind", 6, EVIDENCE, "personal"), "hearing"),
    "blobs.kind (personal data called evidence)": (change_blob("kind", 6, PERSONAL, "evidence"), "hearing"),
    "blobs.content": (change_blob("content", 6, EVIDENCE), "hearing"),
    "blobs.content removed": (change_blob("content", 6, EVIDENCE, None), "hearing"),
    "blobs.erased_at added": (change_blob("erased_at", 6, PERSONAL, "2020-01-01T00:00:00+00:00"), "hearing"),
    "blobs.erased_at changed": (change_blob("erased_at", 2, PERSONAL, "2020-01-01T00:00:00+00:00"), "candidate"),
    "blobs.erased_at removed": (change_blob("erased_at", 2, PERSONAL, None), "candidate"),
    "blobs row added": (sql("INSERT INTO blobs VALUES ('" + "ab" * 32 + "', 'personal', x'00', NULL)"), None),
    # meta, and the schema itself
    "meta.key": (sql("UPDATE meta SET key = 'formats'"), "area"),
    "meta.value": (sql("UPDATE meta SET value = 'arbiter-ledger/1'"), "area"),  # the tables say schema 2
    "meta row added": (sql("INSERT INTO meta VALUES ('owner', 'someone')"), "area"),
    "trigger added": (sql("CREATE TRIGGER t AFTER INSERT ON entries BEGIN DELETE FROM blobs; END"), "area"),
}


@pytest.fixture(scope="module")
def covered(tmp_path_factory) -> tuple[Path, dict[str, str]]:
    path = tmp_path_factory.mktemp("covered") / "ledger.sqlite"
    return path, covered_ledger(path)


@pytest.mark.parametrize("tampering", TAMPERING)
def test_every_stored_field_is_covered_and_nothing_acts_on_a_changed_file(covered, tmp_path, tampering):
    source, ids = covered
    path = tmp_path / "ledger.sqlite"
    shutil.copy(source, path)
    change, affected = TAMPERING[tampering]
    db = sqlite3.connect(path)
    change(db)
    db.commit()
    db.close()
    before = path.read_bytes()

    verified = run("verify", "--ledger", path)
    assert verified.exit_code in (1, 2) and "ledger verified" not in verified.output, verified.output
    purged = run("purge", "--before", "2999-01-01", "--yes", "--ledger", path)
    assert purged.exit_code == 2 and "E170" in purged.output, purged.output
    assert path.read_bytes() == before
    if affected is None:  # a blob no entry rests on changes no decision: replay has nothing to refuse
        return
    replayed = run("replay", ids[affected], "--ledger", path)
    assert replayed.exit_code == 2 and "byte-identical" not in replayed.output, replayed.output
    assert path.read_bytes() == before


def test_evidence_relabelled_as_personal_data_is_never_erased(ledger_copy):
    hearing = decision_of(ledger_copy, "appointments/kent-cc-2022/hearing")
    db = sqlite3.connect(ledger_copy)
    evidence = refs_of(db, next(e.seq for e in decisions(ledger_copy) if e.ref == hearing))[EVIDENCE]
    db.execute("UPDATE blobs SET kind = 'personal' WHERE sha256 = ?", (evidence,))
    db.commit()
    db.close()
    verified = run("verify", "--ledger", ledger_copy)
    assert verified.exit_code == 1 and "its kind was changed" in verified.output
    assert run("purge", "--before", "2999-01-01", "--yes", "--ledger", ledger_copy).exit_code == 2
    db = sqlite3.connect(ledger_copy)
    assert db.execute("SELECT content IS NOT NULL FROM blobs WHERE sha256 = ?", (evidence,)).fetchone()[0] == 1
    db.close()


def test_verify_reports_a_purge_that_erased_what_is_not_personal_data(ledger_copy):
    """What an earlier purge of a relabelled blob left: the erasure is in the chain, yet wrong."""
    store = Ledger.open_existing_for_writing(ledger_copy)
    evidence = audit._roles(store.decision(decision_of(ledger_copy, "kent-2007/child-abuse")))["evidence"]
    db = store._db
    db.execute("BEGIN IMMEDIATE")
    stamp = ledger_module.now()
    db.execute("UPDATE blobs SET content = NULL, erased_at = ? WHERE sha256 = ?", (stamp, evidence))
    entry = store._insert_entry("purge", "", (evidence,), stamp, "{}")
    db.execute("COMMIT")
    result = store.verify()
    assert not result.ok and result.at == entry.seq and "no earlier decision holds as personal data" in result.problem


def test_append_refuses_blobs_out_of_their_places(ledger_copy):
    store = Ledger.open_existing_for_writing(ledger_copy)
    with pytest.raises(ValueError):
        store.append("decision", "x", "{}", [("evidence", "a" * 64, b"x")] * 4)


# --- 5. any file name works; reading never creates a file ----------------------------------

FILE_NAMES = ["a#b.sqlite", "a?b.sqlite", "100%25.sqlite", "with space.sqlite", "ünïcödé-日本.sqlite",
              "-leading-dash.sqlite", "%.sqlite"]


@pytest.mark.parametrize("name", FILE_NAMES)
def test_any_file_name_works_for_every_ledger_command(tmp_path, monkeypatch, name):
    monkeypatch.chdir(tmp_path)
    record(Path(name), CHILD_ABUSE)
    decision = decision_of(Path(name), "kent-2007/child-abuse")
    for args in (["verify"], ["head"], ["log"], ["show", decision], ["replay", decision],
                 ["override", decision, "--outcome", "Poor", "--rationale", "r", "--by", "HMI"],
                 ["purge", "--before", "2999-01-01", "--dry-run"]):
        result = run(*args, "--ledger", name)
        assert result.exit_code == 0, (args, result.output)
    assert os.listdir(tmp_path) == [name]


@pytest.mark.parametrize("name", FILE_NAMES)
def test_read_only_commands_never_create_a_file(tmp_path, monkeypatch, name):
    monkeypatch.chdir(tmp_path)
    for args in (["verify"], ["head"], ["log"], ["show", "1"], ["replay", "1"],
                 ["purge", "--before", "2999-01-01", "--dry-run"]):
        result = run(*args, "--ledger", name)
        assert result.exit_code == 2 and f"--ledger {name}: error E170: no ledger file here" in result.output
    assert os.listdir(tmp_path) == []


# --- 8. filters: by id or label; unknown values are errors located at their option ---------

@pytest.mark.parametrize("label", ["Fair", "fair", "FAIR", " fair "])
def test_log_accepts_an_outcome_by_id_or_label_in_any_case(ledger_copy, label):
    result = run("log", "--outcome", label, "--ledger", ledger_copy)
    assert result.exit_code == 0
    assert result.output.count("kent-2007/") == 4 and "missing-persons" not in result.output


@pytest.mark.parametrize("label", ["Preferred candidate: cand-a", "preferred candidate", "No veto", "gates passed"])
def test_log_accepts_appointment_outcomes_as_printed(ledger_copy, label):
    result = run("log", "--outcome", label, "--ledger", ledger_copy)
    assert result.exit_code == 0 and "appointments/kent-cc-2022" in result.output


def test_every_printed_appointment_label_names_its_outcome(catalog):
    results, _ = score_paths(sorted(APPOINTMENT.glob("*.yaml")), catalog)
    for record_ in (r for result in results for r in result.records):
        choices = audit.APPOINTMENT_OUTCOMES[record_["kind"]]
        named = audit._named(record_["outcome_label"], [(o, audit.APPOINTMENT_LABELS[o]) for o in choices])
        assert named == {record_["outcome"]}, record_["outcome_label"]


@pytest.mark.parametrize("option, value, message, hint", [
    ("--framework", "hmic-207", "no framework 'hmic-207' in this ledger", "did you mean 'hmic-2007'?"),
    ("--framework", "nope", "no framework 'nope' in this ledger", "valid: "),
    ("--subject", "Kent Polic", "no subject 'Kent Polic' in this ledger", "did you mean 'Kent Police'?"),
    ("--outcome", "fiar", "no decision in this ledger has the outcome 'fiar'", "did you mean 'fair'?"),
    ("--outcome", "Excellent", "no decision in this ledger has the outcome 'Excellent'", "valid: "),
])
def test_log_refuses_a_value_no_recorded_decision_has(ledger_copy, option, value, message, hint):
    result = run("log", option, value, "--ledger", ledger_copy)
    assert result.exit_code == 2
    assert f"{option}: error E174: {message}\n  hint: {hint}" in result.output


def test_log_refuses_an_until_before_since(ledger_copy):
    result = run("log", "--since", "2024-06-01", "--until", "2024-01-01", "--ledger", ledger_copy)
    assert result.exit_code == 2 and "--until: error E174" in result.output


def test_log_shows_every_override_even_one_that_restores_the_computed_outcome(ledger_copy):
    decision = decision_of(ledger_copy, "kent-2007/child-abuse")
    for outcome in ("Poor", "fair"):
        assert run("override", decision, "--outcome", outcome, "--rationale", "r", "--by", "HMI",
                   "--ledger", ledger_copy).exit_code == 0
    (row,) = [line for line in run("log", "--ledger", ledger_copy).output.splitlines() if decision in line]
    assert row.split()[-2:] == ["fair", "fair"]  # computed fair, overridden back to fair


def test_override_accepts_an_outcome_by_id_or_label_and_records_the_id(ledger_copy):
    decision = decision_of(ledger_copy, "kent-2007/child-abuse")
    for given in ("Poor", "POOR", "poor"):
        assert run("override", decision, "--outcome", given, "--rationale", "r", "--by", "HMI",
                   "--ledger", ledger_copy).exit_code == 0
    overrides = Ledger.open_for_reading(ledger_copy).overrides_of(decision)
    assert [json.loads(o.body)["outcome"] for o in overrides] == ["poor"] * 3
    refused = run("override", decision, "--outcome", "Fiar", "--rationale", "r", "--by", "HMI", "--ledger", ledger_copy)
    assert refused.exit_code == 2
    assert f"--outcome: error E174: 'Fiar' is not an outcome of decision {decision}\n  hint: did you mean 'Fair'?" \
        in refused.output


def test_ledger_diagnostics_name_the_option_or_argument_never_0_0(ledger_copy, tmp_path):
    decision = decision_of(ledger_copy, "kent-2007/child-abuse")
    missing = tmp_path / "missing.sqlite"
    outputs = {
        f"--ledger {missing}: error E170": run("log", "--ledger", missing).output,
        "DECISION: error E171": run("show", "0123456789abcdef", "--ledger", ledger_copy).output,
        "--rationale: error E173": run("override", decision, "--outcome", "poor", "--rationale", " ", "--by", "HMI",
                                       "--ledger", ledger_copy).output,
        "--by: error E173": run("override", decision, "--outcome", "poor", "--rationale", "r", "--by", "",
                                "--ledger", ledger_copy).output,
    }
    db = sqlite3.connect(ledger_copy)
    record_blob = db.execute("SELECT refs FROM entries WHERE ref = ?", (decision,)).fetchone()[0].split()[-1]
    db.execute("UPDATE blobs SET content = x'00' WHERE sha256 = ?", (record_blob,))
    db.commit()
    db.close()
    outputs[f"--ledger {ledger_copy}: error E172"] = run("replay", decision, "--ledger", ledger_copy).output
    for start, output in outputs.items():
        assert output.startswith(start), output
        assert ":0:0" not in output


def decision_of_raw(path: Path) -> str:
    """A decision id read without SQLite's indexes (the first decision's)."""
    db = sqlite3.connect(path)
    try:
        return db.execute("SELECT ref FROM entries WHERE type = 'decision' ORDER BY seq LIMIT 1").fetchone()[0]
    finally:
        db.close()


def extended(path: Path, count: int) -> None:
    """Chain copies of the ledger's own entries onto it until it holds `count` entries."""
    template = list(Ledger.open_for_reading(path).entries())
    db = sqlite3.connect(path)
    seq, prev = db.execute("SELECT seq, hash FROM entries ORDER BY seq DESC LIMIT 1").fetchone()
    rows = []
    for i in range(seq + 1, count + 1):
        t = template[i % len(template)]
        digest = chain.entry_hash(i, prev, t.type, t.ref, t.refs, t.recorded_at, t.body, t.actor, t.host)
        rows.append((i, prev, digest, t.type, t.ref, " ".join(t.refs), t.recorded_at, t.body, t.actor, t.host))
        prev = digest
    db.executemany("INSERT INTO entries VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", rows)
    db.commit()
    db.close()


def open_check_steps(path: Path) -> int:
    """How much work SQLite does for the checks on open, in tens of VM instructions."""
    store = Ledger.open_for_reading(path)
    steps = [0]

    def count() -> int:
        steps[0] += 1
        return 0
    store._db.set_progress_handler(count, 10)
    store._check_on_open(check_tip=True)
    store.close()
    return steps[0]


def test_the_check_on_open_does_not_grow_with_the_ledger(covered, tmp_path):
    """Schema, meta, size and the last entry: bounded work, never a pass over the entries."""
    path = tmp_path / "ledger.sqlite"
    shutil.copy(covered[0], path)
    steps = []
    for count in (7 * 30 + 2, 7 * 3000 + 2):  # each last entry: a copy of entry 2, whose personal data was erased
        extended(path, count)
        steps.append(open_check_steps(path))
    assert run("verify", "--ledger", path).exit_code == 0
    assert 0 < steps[1] <= steps[0] + 5, steps  # a 100 times longer chain: a deeper index at most



@pytest.mark.parametrize("head", ["", "abc", "G" * 64, "0" * 63, "0" * 65])
def test_verify_refuses_a_head_that_is_not_a_hash(ledger_copy, head):
    result = run("verify", "--head", head, "--ledger", ledger_copy)
    assert result.exit_code == 2
    assert "Invalid value for '--head': E174:" in result.output and "64 hexadecimal digits" in result.output
