"""Revisions in the ledger: a changed evidence file recorded again supersedes what was recorded,
says who recorded it and why, and shows what changed, cell by cell or finding by finding; the
decision id and its replay do not depend on any of that; a ledger written before revisions
existed still verifies and replays; and a failed recording leaves nothing behind."""

from __future__ import annotations

import functools
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st

from engine.cli import main
from engine.language.canonical import canonical_appointment_evidence
from engine.language.load import from_data
from engine.language.validate import to_model
from engine.ledger import audit
from engine.ledger import ledger as ledger_module
from engine.ledger.ledger import Ledger
from engine.ledger.revisions import evidence_changes, revision_of
from engine.workspace.runner import score_data

from .conftest import ROOT

SELECTION = ROOT / "cases" / "appointments" / "kent-cc-2022" / "selection.yaml"
CHILD_ABUSE = ROOT / "cases" / "kent-2007" / "child-abuse.yaml"
FIXTURE = ROOT / "tests" / "fixtures" / "ledger-before-revisions.sqlite"


def run(*args):
    return CliRunner().invoke(main, [str(a) for a in args], catch_exceptions=False)


def data_of(path: Path) -> dict:
    return yaml.safe_load(path.read_text(encoding="utf-8"))


def written(folder: Path, name: str, data: dict) -> Path:
    path = folder / name
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return path


def revised_selection(data: dict) -> dict:
    """The Kent selection with one cell moderated again: cand-a's media transparency 3 -> 4."""
    changed = json.loads(json.dumps(data))
    changed.pop("expect", None)
    cell = next(r for r in changed["ratings"] if (r["candidate"], r["exercise"], r["area"])
                == ("cand-a", "media", "transparency"))
    cell["agreed"], cell["individual"]["boughton"] = 4, 4
    cell["rationale"] = "Moderated again: the independent member's notes support 4."
    return changed


def score_args(ledger: Path, *paths: Path) -> list:
    return ["score", *paths, "--format", "json", "--record", "--ledger", ledger, "--root", ROOT]


def decisions(ledger: Path) -> list:
    with Ledger.open_for_reading(ledger) as opened:
        return [e for e in opened.entries() if e.type == "decision"]


@pytest.fixture()
def recorded_then_changed(tmp_path):
    """A ledger holding the Kent selection, and the same selection file changed in one cell."""
    original = data_of(SELECTION)
    original.pop("expect")
    first = written(tmp_path, "selection.yaml", original)
    ledger = tmp_path / "ledger.sqlite"
    assert run(*score_args(ledger, first)).exit_code == 0
    second = written(tmp_path, "selection-revised.yaml", revised_selection(original))
    return ledger, second


def test_a_revision_without_by_is_refused_naming_the_earlier_decision_and_records_nothing(recorded_then_changed):
    ledger, changed = recorded_then_changed
    before = decisions(ledger)
    result = run(*score_args(ledger, changed))
    assert result.exit_code == 2
    assert "--by: error E174: decision " + before[0].ref in result.output
    assert "is already recorded with other evidence" in result.output and "give --by NAME" in result.output
    assert decisions(ledger) == before


def test_a_revision_links_to_what_it_supersedes_and_says_who_and_why(recorded_then_changed):
    ledger, changed = recorded_then_changed
    before = decisions(ledger)
    result = run(*score_args(ledger, changed), "--by", "Rebecca Humphreys", "--reason", "notes re-read")
    assert result.exit_code == 0, result.output
    after = decisions(ledger)[len(before):]
    assert len(after) == len(before) == 3  # two candidates and the process
    for old, new in zip(before, after):
        revision = revision_of(new)
        assert revision.supersedes == ((old.seq, old.ref),)
        assert (revision.by, revision.reason) == ("Rebecca Humphreys", "notes re-read")
    with Ledger.open_for_reading(ledger) as opened:
        assert opened.verify().ok


def test_show_gives_the_cell_by_cell_difference_the_author_and_the_reason(recorded_then_changed):
    ledger, changed = recorded_then_changed
    old_process = decisions(ledger)[-1]
    run(*score_args(ledger, changed), "--by", "Rebecca Humphreys", "--reason", "notes re-read")
    new_process = decisions(ledger)[-1]
    shown = run("show", new_process.ref, "--ledger", ledger).output
    assert "recorded by Rebecca Humphreys: notes re-read" in shown
    assert f"supersedes decision {old_process.ref} (entry {old_process.seq})" in shown
    assert ('  cand-a/media/transparency: agreed 3 -> 4; individual boughton 3 -> 4; rationale "Constructed: an area '
            'of acceptable performance for Transparency in the media exercise." -> "Moderated again: the independent '
            'member\'s notes support 4."') in shown
    earlier = run("show", old_process.ref, "--ledger", ledger).output
    assert f"superseded by decision {new_process.ref} (entry {new_process.seq}" in earlier


def test_log_marks_revised_and_superseded_decisions(recorded_then_changed):
    ledger, changed = recorded_then_changed
    plain = run("log", "--ledger", ledger).output
    assert "revision" not in plain.splitlines()[0]  # no column until there is a revision
    old = decisions(ledger)
    run(*score_args(ledger, changed), "--by", "HR adviser")
    new = decisions(ledger)[len(old):]
    lines = run("log", "--ledger", ledger).output.splitlines()
    assert lines[0].split()[-1] == "revision"
    for before, after in zip(old, new):
        assert any(before.ref in line and line.endswith(f"superseded by {after.ref}") for line in lines)
        assert any(after.ref in line and line.endswith(f"revises {before.ref}") for line in lines)


def test_the_same_evidence_recorded_again_is_not_recorded_twice_and_needs_no_author(tmp_path):
    ledger = tmp_path / "ledger.sqlite"
    assert run(*score_args(ledger, CHILD_ABUSE)).exit_code == 0
    again = run(*score_args(ledger, CHILD_ABUSE))
    assert again.exit_code == 0 and "already recorded as entry 1: not recorded again" in again.output
    entries = decisions(ledger)
    assert len(entries) == 1 and revision_of(entries[0]) is None


def test_an_inspection_revision_shows_the_finding_by_finding_difference(tmp_path):
    ledger = tmp_path / "ledger.sqlite"
    assert run(*score_args(ledger, CHILD_ABUSE)).exit_code == 0
    data = data_of(CHILD_ABUSE)
    data["findings"][0]["finding"] = "met"  # ca-supervision, not met in the report
    changed = written(tmp_path, "child-abuse.yaml", data)
    result = run(*score_args(ledger, changed), "--by", "HMI", "--reason", "re-inspected")
    assert result.exit_code == 0, result.output
    revision = decisions(ledger)[-1]
    shown = run("show", revision.ref, "--ledger", ledger).output
    assert "recorded by HMI: re-inspected" in shown
    assert '  ca-supervision: finding "not_met" -> "met"' in shown
    with Ledger.open_for_reading(ledger) as opened:  # who and why are the entry's: the replay is the record's
        replayed = audit.replay(opened, str(revision.seq))
        assert replayed.identical, replayed.differences


def test_who_and_why_stay_out_of_the_decision_record(recorded_then_changed):
    """The decision ids and records of a revision are those of scoring the changed file with no
    ledger at all: who, why and what it supersedes are the entry's."""
    ledger, changed = recorded_then_changed
    run(*score_args(ledger, changed), "--by", "A", "--reason", "one")
    plain = [json.loads(line) for line in run("score", changed, "--format", "json", "--root", ROOT).output.splitlines()]
    with Ledger.open_for_reading(ledger) as opened:
        revisions = [e for e in opened.entries() if e.type == "decision"][-3:]
        assert [record["decision_id"] for record in plain] == [e.ref for e in revisions]
        assert [audit.stored(opened, str(e.seq)).record for e in revisions] == plain


def test_a_failure_mid_way_records_nothing_of_the_call(recorded_then_changed, monkeypatch, catalog):
    """Recording is one transaction: when the third entry cannot be written, the two before it
    are not in the ledger either, and what was recorded before stays intact."""
    ledger, changed = recorded_then_changed
    with Ledger.open_for_reading(ledger) as opened:
        head_before, count_before = opened.head(), len(list(opened.entries()))
    calls = []
    original = ledger_module.Ledger._insert_entry

    def failing(self, *args):
        calls.append(args)
        if len(calls) == 3:
            raise OSError("disk full")
        return original(self, *args)

    monkeypatch.setattr(ledger_module.Ledger, "_insert_entry", failing)
    scored = score_data(data_of(changed), catalog)
    with Ledger.open_for_writing(ledger) as opened, pytest.raises(OSError):
        audit.record_results(opened, [scored], by="A")
    assert len(calls) == 3
    with Ledger.open_for_reading(ledger) as opened:
        assert (opened.head(), len(list(opened.entries()))) == (head_before, count_before)
        assert opened.verify().ok


KILLED_WRITER = """
import sys
from pathlib import Path
from engine.ledger import audit
from engine.language.catalog import Catalog
from engine.ledger.ledger import Ledger
from engine.workspace.runner import score_paths
results, _ = score_paths([Path(sys.argv[3])], Catalog(Path(sys.argv[2])))
ledger = Ledger.open_for_writing(Path(sys.argv[1]))
print("ready", flush=True)
while True:
    audit.record_results(ledger, results)
"""


def test_a_writer_killed_mid_call_leaves_whole_calls_only(tmp_path):
    """A real process recording a selection (three decisions a call) over and over, killed at
    any moment: the ledger verifies and holds whole calls only, a multiple of three entries."""
    path = tmp_path / "ledger.sqlite"
    for delay in (0.3, 0.8):
        proc = subprocess.Popen([sys.executable, "-c", KILLED_WRITER, str(path), str(ROOT), str(SELECTION)],
                                stdout=subprocess.PIPE, cwd=ROOT)
        assert proc.stdout.readline().strip() == b"ready"
        time.sleep(delay)
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
        with Ledger.open_for_reading(path) as opened:
            assert opened.verify().ok
            assert len(list(opened.entries())) % 3 == 0


def test_by_and_reason_without_record_are_refused(tmp_path):
    result = run("score", CHILD_ABUSE, "--by", "A", "--root", ROOT)
    assert result.exit_code == 2
    assert "--by: error E174: --by only goes with --record" in result.output
    both = run("score", CHILD_ABUSE, "--by", "A", "--reason", "why", "--root", ROOT).output
    assert "--by: error E174: --by and --reason only go with --record" in both


# --- a ledger written before revisions existed ----------------------------------------------

@pytest.fixture()
def old_ledger(tmp_path) -> Path:
    """A copy of a ledger written (decisions, an override, a purge, more decisions) by the code
    as it was before revisions were recorded, upgraded to the current schema as
    `arbiter ledger upgrade` does (its entries keep the recipe they were written with)."""
    path = tmp_path / "old.sqlite"
    shutil.copyfile(FIXTURE, path)
    with Ledger.open_for_upgrading(path) as opened:
        assert opened.upgrade().ok
    return path


def test_a_ledger_written_before_revisions_still_verifies_and_replays(old_ledger):
    with Ledger.open_for_reading(old_ledger) as opened:
        verification = opened.verify()
        assert verification.ok and verification.entries == 16, verification.problem
        for entry in (e for e in opened.entries() if e.type == "decision"):
            replayed = audit.replay(opened, str(entry.seq))
            kind = json.loads(entry.body)["kind"]
            # The selection's records gained keys since (the grid, the panel, the stages), so
            # only the other kinds can replay byte-identical; every decision replays.
            assert replayed.identical or kind in ("appointment", "candidate"), (entry.ref, replayed.differences)
    assert "override" in run("log", "--ledger", old_ledger).output.splitlines()[0]
    assert "good by A. Lead" in run("show", "80da7770b95b009f", "--ledger", old_ledger).output


def test_a_revision_appended_to_an_old_ledger_keeps_the_chain_verifying(old_ledger, tmp_path):
    data = data_of(CHILD_ABUSE)
    data["findings"][0]["finding"] = "met"
    changed = written(tmp_path, "child-abuse.yaml", data)
    result = run(*score_args(old_ledger, changed), "--by", "HMI")
    assert result.exit_code == 0, result.output
    with Ledger.open_for_reading(old_ledger) as opened:
        assert opened.verify().ok
        last = [e for e in opened.entries() if e.type == "decision"][-1]
        assert revision_of(last).supersedes == ((1, "80da7770b95b009f"),)
    assert "superseded by" in run("show", "80da7770b95b009f", "--ledger", old_ledger).output


# --- the difference itself ------------------------------------------------------------------

CELLS = st.lists(st.tuples(st.integers(0, 23), st.integers(1, 5), st.sampled_from(["pcc", "boughton", None])),
                 max_size=6)


@functools.cache
def kent_selection() -> tuple[dict, dict]:
    """The Kent selection's data, and its canonical evidence as the ledger keeps it."""
    data = data_of(SELECTION)
    return data, json.loads(canonical_appointment_evidence(to_model(from_data(data, "evidence"))))


@given(edits=CELLS)
def test_the_difference_names_exactly_the_cells_changed(edits):
    """Law: whatever cells are edited (agreed or one member's rating), the lines name those cells
    and no others, each once, in the canonical evidence the ledger keeps."""
    data, old = kent_selection()
    changed = json.loads(json.dumps(data))
    touched = set()
    for index, value, member in edits:
        cell = changed["ratings"][index]
        target, key = (cell["individual"], member) if member else (cell, "agreed")
        if target[key] != value:
            target[key] = value
        touched.add(index)
    new = json.loads(canonical_appointment_evidence(to_model(from_data(changed, "evidence"))))
    lines = evidence_changes(old, new)
    names = [line.split(":", 1)[0] for line in lines]
    expected = {f"{c['candidate']}/{c['exercise']}/{c['area']}" for i, c in enumerate(changed["ratings"])
                if i in touched and c != data["ratings"][i]}
    assert sorted(names) == sorted(expected)


# --- the links, as a law ----------------------------------------------------------------------

@functools.cache
def child_abuse_versions() -> tuple:
    """Three versions of one inspection case, scored once: as published, and two re-readings."""
    from engine.language.catalog import Catalog

    catalog = Catalog(ROOT)
    versions = []
    for met in ((), ("ca-supervision",), ("ca-supervision", "ca-staffing-model")):
        data = data_of(CHILD_ABUSE)
        for finding in data["findings"]:
            if finding["criterion"] in met:
                finding["finding"] = "met"
        versions.append(score_data(data, catalog))
    return tuple(versions)


@settings(max_examples=25)  # each example writes a ledger, every recording durable on disk
@given(sequence=st.lists(st.integers(0, 2), min_size=1, max_size=6))
def test_each_revision_supersedes_exactly_what_nothing_superseded_yet(tmp_path_factory, sequence):
    """Law: recording versions of one case in any order, a recording whose evidence differs from
    the latest recorded is a revision of the decisions nothing superseded yet, and one with the
    same evidence as the latest is not recorded again (the entry holding it is named); the
    chain verifies."""
    versions = child_abuse_versions()
    path = tmp_path_factory.mktemp("law") / "ledger.sqlite"
    heads: list[tuple[int, int]] = []  # (entry, version) recorded and not yet superseded
    with Ledger.open_for_writing(path) as opened:
        for version in sequence:
            recorded = audit.record_decisions(opened, [versions[version]], by="assessor")
            if heads and heads[-1][1] == version:
                assert not recorded.entries and [e.seq for e in recorded.already] == [heads[-1][0]]
                continue
            (entry,) = recorded.entries
            revision = revision_of(entry)
            if heads:
                assert revision is not None and [seq for seq, _ in revision.supersedes] == [seq for seq, _ in heads]
            else:
                assert revision is None
            heads = [(entry.seq, version)]
        assert opened.verify().ok
