"""The hash recipe, recomputed by someone who has only README.md's section "The hash recipe".

Everything but the last law is written from that section alone: the ledger is made by the
`arbiter` command, read with sqlite3, and every hash is recomputed with hashlib and an RFC 8785
(JCS) implementation, importing nothing from the engine. A change to how Arbiter hashes that
the README does not say fails here.
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
import rfc8785
from hypothesis import example, given
from hypothesis import strategies as st

from .conftest import ROOT

ARBITER = str(Path(sys.executable).parent / "arbiter")
GENESIS = "0" * 64
UNIT_SEPARATOR = "\x1f"
DECISION_KINDS = {4: ("criteria", "ruleset", "evidence", "record"),
                  5: ("criteria", "ruleset", "evidence", "personal", "record")}
APPOINTMENT_KINDS = {"candidate", "appointment", "hearing", "compliance_record", "pack"}


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def arbiter(*args: str | Path, actor: str | None = None) -> subprocess.CompletedProcess:
    env = {**os.environ, **({"ARBITER_ACTOR": actor} if actor else {})}
    result = subprocess.run([ARBITER, *map(str, args)], capture_output=True, text=True, cwd=ROOT, env=env,
                            timeout=600)
    assert result.returncode == 0, result.stderr
    return result


@pytest.fixture(scope="module")
def ledger(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Inspection and appointment decisions (a pack, with its three inputs, and personal data),
    an override and a purge, recorded by two actors."""
    path = tmp_path_factory.mktemp("recipe") / "ledger.sqlite"
    kent = ROOT / "cases" / "appointments" / "kent-cc-2022"
    arbiter("score", kent / "pack.yaml", "--record", "--ledger", path, "--format", "json", actor="HR adviser")
    arbiter("score", ROOT / "cases" / "kent-2007" / "child-abuse.yaml", "--record", "--by", "HMI \"Ann\" O'Neil\\é",
            "--ledger", path, "--format", "json")
    child_abuse = rows(path, "SELECT ref FROM entries WHERE body LIKE '%child-abuse%'")[0][0]
    arbiter("override", child_abuse, "--outcome", "poor", "--rationale", "risk to children\nnoted",
            "--by", "HMI J. Smith", "--ledger", path)
    arbiter("purge", "--before", "2999-01-01", "--yes", "--by", "Data protection officer", "--ledger", path)
    return path


def rows(path: Path, query: str, parameters: tuple = ()) -> list[tuple]:
    with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as db:
        return db.execute(query, parameters).fetchall()


def blobs(path: Path) -> dict[str, tuple[str, bytes | None]]:
    return {sha: (kind, content) for sha, kind, content in rows(path, "SELECT sha256, kind, content FROM blobs")}


def decisions(path: Path) -> list[tuple[int, list[str]]]:
    return [(seq, refs.split()) for seq, refs in rows(path, "SELECT seq, refs FROM entries WHERE type = 'decision' "
                                                             "ORDER BY seq")]


def is_jcs(content: bytes) -> bool:
    """The blob is in canonical form: parsed and canonicalized again, the same bytes."""
    return rfc8785.dumps(json.loads(content)) == content


def test_every_blob_is_stored_under_the_sha256_of_its_content(ledger):
    stored = blobs(ledger)
    assert stored
    for sha, (_, content) in stored.items():
        if content is not None:  # erased personal data keeps only its hash
            assert sha256_hex(content) == sha


def test_a_decision_entry_rests_on_its_blobs_in_the_documented_order(ledger):
    stored = blobs(ledger)
    for _, refs in decisions(ledger):
        assert tuple(stored[sha][0] for sha in refs) == DECISION_KINDS[len(refs)]


def test_criteria_evidence_personal_data_and_records_are_jcs_and_the_ruleset_is_its_rules_file(ledger):
    stored = blobs(ledger)
    rules_files = {sha256_hex(p.read_bytes()) for p in (ROOT / "rules").rglob("*.json")}
    for _, refs in decisions(ledger):
        for sha, kind in zip(refs, DECISION_KINDS[len(refs)]):
            content = stored[sha][1]
            if kind == "ruleset":
                assert content.endswith(b"\n") and sha in rules_files
            elif content is not None:
                assert is_jcs(content), f"{kind} blob {sha[:12]} is not in canonical form"


def test_a_decision_records_hashes_and_its_id_are_recomputed_from_the_stored_blobs(ledger):
    stored = blobs(ledger)
    kinds_seen = set()
    for _, refs in decisions(ledger):
        roles = dict(zip(DECISION_KINDS[len(refs)], refs))
        record = json.loads(stored[roles["record"]][1])
        assert record["criteria_sha256"] == sha256_hex(stored[roles["criteria"]][1])
        assert record["ruleset_sha256"] == sha256_hex(stored[roles["ruleset"]][1])
        assert record["evidence_sha256"] == sha256_hex(stored[roles["evidence"]][1])
        ruleset, evidence, engine = record["ruleset_sha256"], record["evidence_sha256"], record["engine_version"]
        if "kind" in record:
            assert record["kind"] in APPOINTMENT_KINDS
            text = f"{ruleset}:{evidence}:{record['kind']}:{record['subject']}:{engine}"
        else:
            text = f"{ruleset}:{evidence}:{engine}"
        assert record["decision_id"] == sha256_hex(text.encode("utf-8"))[:16]
        kinds_seen.add(record.get("kind", "inspection"))
    assert {"inspection", "pack", "candidate", "hearing", "compliance_record"} <= kinds_seen


def recipe_2(seq: int, prev: str, type_: str, ref: str, refs: str, recorded_at: str, body: str, actor: str,
             host: str) -> str:
    return sha256_hex(rfc8785.dumps({"actor": actor, "body": body, "host": host, "prev": prev,
                                     "recorded_at": recorded_at, "ref": ref, "refs": refs.split(), "seq": seq,
                                     "type": type_}))


def recipe_1(seq: int, prev: str, type_: str, ref: str, refs: str, recorded_at: str, body: str) -> str:
    return sha256_hex(UNIT_SEPARATOR.join((prev, str(seq), type_, ref, " ".join(refs.split()), recorded_at,
                                           body)).encode("utf-8"))


def chain_of(path: Path) -> list[tuple]:
    return rows(path, "SELECT seq, prev, hash, type, ref, refs, recorded_at, body, actor, host FROM entries ORDER BY seq")


def check_chain(path: Path) -> str:
    """Every entry's hash by its recipe and its link to the entry before; the head."""
    prev = GENESIS
    for number, (seq, entry_prev, digest, type_, ref, refs, recorded_at, body, actor, host) in enumerate(
            chain_of(path), start=1):
        assert seq == number and entry_prev == prev
        if actor is None and host is None:
            assert digest == recipe_1(seq, entry_prev, type_, ref, refs, recorded_at, body)
        else:
            assert digest == recipe_2(seq, entry_prev, type_, ref, refs, recorded_at, body, actor, host)
        prev = digest
    return prev


def test_every_entry_is_hashed_by_recipe_2_and_links_to_the_one_before(ledger):
    entries = chain_of(ledger)
    assert {row[3] for row in entries} == {"decision", "override", "purge"}
    assert all(row[8] and row[9] for row in entries)  # every entry written today has an actor and a host
    assert {"HR adviser", "HMI \"Ann\" O'Neil\\é", "HMI J. Smith", "Data protection officer"} == {row[8] for row in entries}
    assert check_chain(ledger) == arbiter("head", "--ledger", ledger).stdout.strip()


def test_an_upgraded_ledger_keeps_recipe_1_for_old_entries_and_uses_recipe_2_after(tmp_path):
    path = tmp_path / "old.sqlite"
    path.write_bytes((ROOT / "tests" / "fixtures" / "ledger-schema-1.sqlite").read_bytes())
    arbiter("ledger", "upgrade", "--ledger", path, "--yes")
    arbiter("score", ROOT / "cases" / "kent-2007" / "domestic-violence.yaml", "--record", "--ledger", path,
            "--format", "json", actor="HMI B")
    entries = chain_of(path)
    assert [row[8] for row in entries[:-1]] == [None] * (len(entries) - 1) and entries[-1][8] == "HMI B"
    assert check_chain(path) == entries[-1][2]


def test_a_changed_field_breaks_the_recomputed_chain(ledger, tmp_path):
    """The recomputation can fail: the actor is covered by the entry's hash."""
    changed = tmp_path / "changed.sqlite"
    changed.write_bytes(ledger.read_bytes())
    with sqlite3.connect(changed) as db:
        db.execute("UPDATE entries SET actor = 'someone else' WHERE seq = 2")
    with pytest.raises(AssertionError):
        check_chain(changed)


# --- the one law that reads the engine: its fast encoder is RFC 8785's ----------------------

UTF8_TEXT = st.text(st.characters(exclude_categories=("Cs",)))  # any text a UTF-8 column holds: no lone surrogates


@given(st.integers(min_value=1, max_value=2**53 - 1), st.lists(UTF8_TEXT, min_size=7, max_size=7),
       st.lists(UTF8_TEXT, max_size=6))
def test_the_verify_loops_canonical_json_is_rfc_8785_on_any_strings(seq, texts, refs):
    """chain.fast_chain_bytes (verify's and append's encoder) gives RFC 8785's bytes for any
    strings: quotes, backslashes, control characters, U+2028, astral characters."""
    from engine.ledger import chain

    prev, type_, ref, recorded_at, body, actor, host = texts
    expected = rfc8785.dumps(chain.chain_object(seq, prev, type_, ref, refs, recorded_at, body, actor, host))
    assert chain.fast_chain_bytes(seq, prev, type_, ref, refs, recorded_at, body, actor, host) == expected


@given(st.integers(min_value=1, max_value=2**53 - 1),
       st.lists(st.one_of(UTF8_TEXT, st.text(st.characters(min_codepoint=0x20, max_codepoint=0x7e))), min_size=7,
                max_size=7),
       st.lists(UTF8_TEXT, max_size=6))
def test_the_verify_loops_canonical_json_over_raw_columns_is_rfc_8785(seq, texts, refs):
    """chain.recipe_2_bytes (the same over columns read as UTF-8 bytes, with a shortcut for
    printable ASCII) gives RFC 8785's bytes too."""
    from engine.ledger import chain

    prev, type_, ref, recorded_at, body, actor, host = texts
    expected = rfc8785.dumps(chain.chain_object(seq, prev, type_, ref, refs, recorded_at, body, actor, host))
    raw = [text.encode("utf-8") for text in (prev, type_, ref)]
    assert chain.recipe_2_bytes(seq, *raw, [r.encode("utf-8") for r in refs], recorded_at.encode("utf-8"),
                                body.encode("utf-8"), actor.encode("utf-8"), host.encode("utf-8")) == expected


JSON_DATA = st.recursive(
    st.none() | st.booleans() | UTF8_TEXT | st.floats(allow_nan=False, allow_infinity=False)
    | st.integers(min_value=-(2**60), max_value=2**60),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(UTF8_TEXT, children, max_size=4),
    max_leaves=12)


@given(JSON_DATA)
@example({"\uff61": 1, "\U0001f600": 2})  # code point order puts U+FF61 first, UTF-16 order U+1F600
@example([1.0, 1e21, 2**53])  # spelled 1, 1e+21 by JCS; an integer JCS refuses
@example({"\x00\x1f\x7f\u2028": "\b\t\n\f\r\"\\\x01\x1e"})  # which characters are escaped, and how
@example(functools.reduce(lambda inner, _: [inner], range(300), []))  # deeper than orjson nests
def test_canonical_json_is_rfc_8785_on_any_json_data(data):
    """canonical.canonical_json (every hashed object) gives the rfc8785 package's bytes, or
    refuses what it refuses (integers beyond 2**53): its shortcut through orjson changes no
    byte, whatever the data (floats, astral keys, control characters, any strings)."""
    from engine.language.canonical import canonical_json

    try:
        expected = rfc8785.dumps(data)
    except rfc8785.CanonicalizationError:
        with pytest.raises(rfc8785.CanonicalizationError):
            canonical_json(data)
        return
    assert canonical_json(data) == expected
