"""The decision ledger: an append-only SQLite file that an auditor can verify and replay.

Three tables:

- entries: one row per event (a decision, an override, a purge), in order, with who
  recorded it (actor) and from which machine (host). Each row's hash covers the previous
  row's hash and every column of the row (chain.py: the recipe), so changing,
  inserting or removing a row breaks the chain at that row. (Removing rows from the end
  leaves a shorter valid chain: only a head hash kept elsewhere reveals that; see
  `verify(head=...)`.)
- blobs: criteria (canonical form), compiled rulesets, evidence, decision records and
  personal data, each stored once under its sha256, so a decision can be replayed after
  the files on disk have changed or gone. Personal data (names, free-text notes) is a blob
  of its own: a purge erases its content and records what it erased, and the chain still
  verifies because entries hold only the hashes.
- meta: the format, and nothing else: arbiter-ledger/2 (schema 2). A file an earlier
  release wrote (arbiter-ledger/1: no actor and host) is refused by every command but
  `upgrade`, which migrates it in place, in one transaction.

Nothing a command acts on lies outside the chain. A blob's content is covered by its
sha256, which the entries hold. Its kind is covered by its place in the entries' refs: a
decision's refs are criteria, ruleset, evidence[, personal], record, in that order
(`blob_roles`), and a purge's refs are all personal data, so a blob whose kind differs from
the role its entries give it has been changed. Its erasure is covered by the purge entries:
a blob has no content exactly when a purge entry lists it, and its erased_at is that
entry's timestamp. meta and the schema itself (tables, indexes, no triggers) must be exactly
what a ledger writes.

Checked every time an existing file is opened: a few indexed reads, the same work whatever
the ledger's size (on a 100,000-entry, 68 MiB ledger the checks take about 0.25 ms and the
whole open under 1 ms, where a full verify takes about 1.3 s, 0.2 s of it `quick_check`):

- it is a non-empty file (an empty one is not a ledger: only a path where nothing exists
  starts a new ledger), and SQLite can read its first page;
- its size is exactly the page count its header gives times the page size, which catches a
  truncated or extended file (SQLite itself pads a short last page with zeros);
- its schema and meta are exactly a ledger's;
- the last entry: its hash, its link to the entry before it, and its blobs (present,
  content matching the hash, kind matching the role, erased only by a purge).

So a damaged or truncated file is refused (E170) before anything is written to it, and the
head a command prints or builds on is sound. `show`, `replay` and `override` also check the
decision they act on in the same way (E172), and `purge`, which rewrites the whole file
anyway, runs a full verify first. Only `verify` reads everything (every entry's hash and
link, every blob against its hash, its role and its purge, and SQLite's `quick_check` of
every page), so only it finds a change to any other entry or blob, a blob that no entry
rests on, and damage in the middle of the file that no query happens to read (a broken
index page, an orphaned page).

Every write is one transaction (BEGIN IMMEDIATE ... COMMIT, synchronous=FULL): a process
killed mid-write leaves the decision wholly present or wholly absent, and concurrent
writers queue. Inside one, the head is read once and kept, and the blobs a batch shares are
stored once, so a batch of thousands of decisions costs little more than its rows. Readers
open the file read-only, so they never create or change a file (the one exception: a killed
writer's rollback journal, which SQLite must roll back to read).
"""

from __future__ import annotations

import contextlib
import datetime
import functools
import json
import os
import secrets
import sqlite3
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator, Optional

from ..language.canonical import HASH, sha256_bytes
from ..language.diagnostics import Diagnostic, DiagnosticError
from .chain import (FORMAT, GENESIS, LEGACY_FORMATS, SCHEMA_VERSION, SEPARATOR, Entry, current_actor, current_host,
                    entry_hash, hash_of, recipe_2_bytes)

# Pages of 16 KiB hold a decision record (a few KiB) without overflow pages: a large batch
# writes and syncs about a third less than with SQLite's default of 4 KiB.
PAGE_SIZE = 16384
WRITE_CACHE_KIB = 256 * 1024  # a writer's page cache, at most: a batch of 10,000 decisions (140 MiB) fits


# Schema 2: who recorded each entry and from which machine (NULL only on entries an earlier
# release wrote, which keep recipe 1: see chain.py).
_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS entries (
    seq INTEGER PRIMARY KEY,
    prev TEXT NOT NULL,
    hash TEXT NOT NULL,
    type TEXT NOT NULL,
    ref TEXT NOT NULL,
    refs TEXT NOT NULL,
    recorded_at TEXT NOT NULL,
    body TEXT NOT NULL,
    actor TEXT,
    host TEXT
);
CREATE INDEX IF NOT EXISTS entries_ref ON entries(ref);
CREATE TABLE IF NOT EXISTS blobs (
    sha256 TEXT PRIMARY KEY,
    kind TEXT NOT NULL,
    content BLOB,
    erased_at TEXT
);
"""
# Schema 1, which an earlier release wrote: schema 2 without the actor and host columns.
_SCHEMA_1 = _SCHEMA.replace("    body TEXT NOT NULL,\n    actor TEXT,\n    host TEXT\n", "    body TEXT NOT NULL\n")

# Schema 1 -> 2, in one transaction (`Ledger.upgrade`): old entries keep NULL actor and host.
UPGRADE_STEPS = ("ALTER TABLE entries ADD COLUMN actor TEXT",
                 "ALTER TABLE entries ADD COLUMN host TEXT",
                 f"UPDATE meta SET value = '{FORMAT}' WHERE key = 'format'")

# The kind of each blob a decision rests on, in the order of its refs (with and without
# personal data). The order is part of the format: it is what puts a blob's kind in the chain.
DECISION_BLOBS = {4: ("criteria", "ruleset", "evidence", "record"),
                  5: ("criteria", "ruleset", "evidence", "personal", "record")}
_KINDS_RAW = {kind: kind.encode() for kind in DECISION_BLOBS[5]}
_PERSONAL_RAW = _KINDS_RAW["personal"]


def ledger_place(path: Path) -> str:
    """Where a problem with the ledger file is reported: the option that names it."""
    return f"--ledger {path}"


def blob_roles(type_: str, count: int) -> Optional[tuple[str, ...]]:
    """The kind each of an entry's `count` refs must be, in order; None when no entry of
    this type holds that many blobs."""
    if type_ == "decision":
        return DECISION_BLOBS.get(count)
    if type_ == "purge":
        return ("personal",) * count if count else None
    if type_ == "override":
        return () if count == 0 else None
    return None


def now() -> str:
    return datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0).isoformat()


def recorded_date(recorded_at: str) -> datetime.date:
    """The UTC calendar date of an entry's timestamp (ISO 8601, written in UTC)."""
    stamp = datetime.datetime.fromisoformat(recorded_at)
    return (stamp.astimezone(datetime.timezone.utc) if stamp.tzinfo else stamp).date()


@dataclass(frozen=True)
class Blob:
    sha256: str
    kind: str
    content: bytes


# The columns an entry is read from; a schema-1 file (opened only to upgrade it) has no actor
# and host, which read as NULL: its entries are recipe-1 entries.
_ENTRY_COLUMNS = {2: "seq, prev, hash, type, ref, refs, recorded_at, body, actor, host",
                  1: "seq, prev, hash, type, ref, refs, recorded_at, body, NULL, NULL"}


# The case a decision entry's body names, read from its text: what follows its '"case":"' up
# to the next quote. A canonical body spells that key once, on the body itself (nested objects
# have no such key), and inside a string every quote is escaped, so the first '"case":"' is it.
# That is the whole id for any id the models accept (none holds a quote); callers look an id up
# by the same text (audit._case_texts) and check each entry found on its parsed body.
_CASE_AT = """instr(body, '"case":"') + 8"""
CASE_IN_BODY = f"""substr(body, {_CASE_AT}, instr(substr(body, {_CASE_AT}), '"') - 1)"""


def _entry(row: tuple) -> Entry:
    seq, *text, actor, host = row
    if any(type(value) is not str for value in text):  # only in a changed file; its hash then fails
        text = [_text(value) for value in text]
    prev, digest, type_, ref, refs, recorded_at, body = text
    return Entry(seq, prev, digest, type_, ref, tuple(refs.split()), recorded_at, body, _text_or_none(actor),
                 _text_or_none(host))


def _text_or_none(value: Any) -> Optional[str]:
    return None if value is None else _text(value)


def _text(value: Any) -> str:
    return value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value)


def _raw(value: Any) -> Optional[bytes]:
    """A stored value as bytes, whatever type a changed file holds it as."""
    if value is None or isinstance(value, bytes):
        return value
    return str(value).encode("utf-8")


class SharedQueries:
    """What both stores (SQLite here, PostgreSQL in postgres.py) read and check alike: blobs,
    the head, one entry on its own, and what verify finds after its walk. Each store gives
    `_rows(query, parameters)`, its query placeholder `PLACEHOLDER`, its text search function
    `CONTAINS`, `_purge_of(sha)` and `_blob_problem`."""

    PLACEHOLDER = "?"

    def decision(self, ref: str) -> Entry:
        """The decision entry with this decision id (or entry number)."""
        by_number = ref.isdigit() and len(ref) < 16  # decision ids are 16 hex digits, sometimes all digits
        rows = self._rows(f"SELECT {self._columns} FROM entries WHERE type = 'decision' AND "
                          f"{'seq' if by_number else 'ref'} = {self.PLACEHOLDER} ORDER BY seq LIMIT 1",
                          (int(ref) if by_number else ref,))
        if not rows:
            raise DiagnosticError([Diagnostic("DECISION", 0, 0, "E171", f"no decision '{ref}' in {self.path}",
                                              "list decisions with: arbiter log")])
        return self._entry_of(rows[0])

    def blob(self, sha: str) -> Optional[Blob]:
        """A stored blob; content is b'' when erased, None when absent."""
        rows = self._rows(f"SELECT sha256, kind, content FROM blobs WHERE sha256 = {self.PLACEHOLDER}", (sha,))
        return Blob(rows[0][0], rows[0][1], bytes(rows[0][2] or b"")) if rows else None

    def erased_at(self, sha: str) -> Optional[str]:
        rows = self._rows(f"SELECT erased_at FROM blobs WHERE sha256 = {self.PLACEHOLDER}", (sha,))
        return rows[0][0] if rows else None

    def erased(self) -> set[str]:
        """The blobs whose content a purge erased."""
        return {sha for (sha,) in self._rows("SELECT sha256 FROM blobs WHERE content IS NULL")}

    def head(self) -> str:
        rows = self._rows("SELECT hash FROM entries ORDER BY seq DESC LIMIT 1")
        return rows[0][0] if rows else GENESIS

    def entry_problem(self, entry: Entry) -> Optional[str]:
        """What is wrong with one entry, checked on its own: its hash, its link to the entry
        before it, and every blob it rests on (with the purge entry that erased it, if one
        did). None when it is sound."""
        if hash_of(entry) != entry.hash:
            return f"entry {entry.seq} does not match its hash: a field of it was changed"
        earlier = entry.seq - 1
        before = (self._rows(f"SELECT hash FROM entries WHERE seq = {self.PLACEHOLDER}", (earlier,))
                  if earlier else [(GENESIS,)])
        if not before:
            return f"entry {earlier} is missing: entries were removed"
        if entry.prev != before[0][0]:
            return f"entry {entry.seq} does not link to entry {earlier}: its prev hash is not entry {earlier}'s hash"
        roles = blob_roles(entry.type, len(entry.refs))
        if roles is None:
            return f"entry {entry.seq} is a {entry.type!r} entry with {len(entry.refs)} blobs, which no ledger writes"
        for sha, role in zip(entry.refs, roles):
            problem = self._ref_problem(entry, sha, role)
            if problem:
                return problem
        return None

    def _ref_problem(self, entry: Entry, sha: str, role: str) -> Optional[str]:
        rows = self._rows(f"SELECT kind, content, erased_at FROM blobs WHERE sha256 = {self.PLACEHOLDER}", (sha,))
        if not rows:
            return f"entry {entry.seq} rests on blob {sha[:12]}, which is not in the ledger"
        kind, content, erased_at = rows[0]
        erased_by = None
        if content is None:  # erased: by which purge entry (a purge erases its own refs), and is that one sound?
            purge = entry if entry.type == "purge" else self._purge_of(sha)
            problem = self.entry_problem(purge) if purge is not None and purge is not entry else None
            if problem:
                return f"the purge that erased blob {sha[:12]} is broken: {problem}"
            erased_by = purge.recorded_at if purge is not None else None
        content = bytes(content) if isinstance(content, memoryview) else content  # PostgreSQL's bytea
        return _blob_mismatch(sha.encode(), kind, content, erased_at, role.encode(), _raw(erased_by))

    # --- what verify finds after the walk, the same on both stores -----------------------

    CONTAINS = "instr"  # the SQL function that finds a text in another: instr(haystack, needle)

    def verified(self, walk: "ChainWalk", head: Optional[str]) -> "Verification":
        """After a walk through every entry that found no break: the blobs against what the
        chain says of them, the store's own structure, and the head kept elsewhere."""
        broken = self._role_clash(walk.held) or self._blob_problem(walk.held, walk.erased)
        if broken:
            return Verification(walk.seq, broken[1], broken[0])
        structure = self._structure_problem()
        if structure:
            return Verification(walk.seq, structure, None)
        last = walk.prev.decode()
        if head is not None and walk.head_at is None:
            return Verification(walk.seq, f"head {head} is not in the chain (its last entry, {walk.seq}, has hash "
                                          f"{last}): entries may have been removed from the end", walk.seq + 1)
        return Verification(walk.seq, None, None, last, (walk.seq - walk.head_at) if walk.head_at else None)

    def _role_clash(self, held: dict[bytes, set[bytes]]) -> Optional[tuple[Optional[int], str]]:
        """A blob that decisions hold as two different kinds (a ledger never writes one)."""
        kinds = sorted(held)
        for i, first in enumerate(kinds):
            for second in kinds[i + 1:]:
                both = held[first] & held[second]
                if both:
                    sha = min(both)
                    return (self._first_entry_resting_on(sha),
                            f"blob {_text(sha[:12])} is held as {first.decode()} by one entry and as "
                            f"{second.decode()} by another")
        return None

    def _first_entry_resting_on(self, sha: bytes) -> Optional[int]:
        rows = self._rows(f"SELECT min(seq) FROM entries WHERE {self.CONTAINS}(refs, {self.PLACEHOLDER}) > 0",
                          (_text(sha),))
        return rows[0][0] if rows else None

    def _blob_problem(self, held: dict[bytes, set[bytes]], erased: dict[bytes, bytes]
                      ) -> Optional[tuple[Optional[int], str]]:
        raise NotImplementedError

    def _structure_problem(self) -> Optional[str]:
        return None

    _columns = ""  # the entries' columns a store selects, in Entry's order

    @staticmethod
    def _entry_of(row: tuple) -> Entry:
        raise NotImplementedError

    def _rows(self, query: str, parameters: tuple = ()) -> list[tuple]:
        raise NotImplementedError

    def _purge_of(self, sha: str) -> Optional[Entry]:
        raise NotImplementedError


class Ledger(SharedQueries):
    """One ledger file. Use `open_for_writing`, `open_existing_for_writing`,
    `open_for_reading` or `open_for_verifying` (or `open_for_upgrading`); each checks the
    file first. A writer records every entry it adds as made by `actor` (chain.current_actor:
    the name given, else $ARBITER_ACTOR, else the operating system's user) on this host."""

    _entry_of = staticmethod(_entry)

    def __init__(self, path: Path, connection: sqlite3.Connection, actor: Optional[str] = None):
        self.path = path
        self.place = ledger_place(path)
        self._db = connection
        self._version = SCHEMA_VERSION  # what the file holds, set by the checks on open
        self._actor = current_actor(actor)
        self._host = current_host()
        self._tip: Optional[tuple[int, str]] = None  # (seq, hash) of the last entry, inside a write transaction
        self._stored: set[str] = set()  # blobs this write transaction has stored (a batch shares its criteria)

    # --- opening ------------------------------------------------------------------------

    @classmethod
    def open_for_writing(cls, path: Path, actor: Optional[str] = None) -> "Ledger":
        """For recording: starts a new ledger only where no file exists."""
        if not os.path.lexists(path):
            _create(path)
        return cls.open_existing_for_writing(path, actor)

    @classmethod
    def open_existing_for_writing(cls, path: Path, actor: Optional[str] = None) -> "Ledger":
        """For commands that change a ledger but never start one (override, purge)."""
        return cls._writable(cls._open(path, "rw", check_tip=True, actor=actor))

    @classmethod
    def open_for_reading(cls, path: Path) -> "Ledger":
        return cls._open(path, "ro", check_tip=True)

    @classmethod
    def open_for_verifying(cls, path: Path) -> "Ledger":
        """Like open_for_reading, but a broken last entry is left to `verify` to report,
        with the entry where the chain breaks."""
        return cls._open(path, "ro", check_tip=False)

    @classmethod
    def open_for_upgrading(cls, path: Path) -> "Ledger":
        """The one opener that accepts a ledger an earlier release wrote, for `upgrade`."""
        return cls._writable(cls._open(path, "rw", check_tip=True, legacy=True))

    @staticmethod
    def _writable(ledger: "Ledger") -> "Ledger":
        ledger._db.execute("PRAGMA journal_mode=DELETE")
        ledger._db.execute("PRAGMA synchronous=FULL")
        # A large batch is one transaction: pages it changes stay in memory until the commit,
        # rather than spilling to the file mid-transaction (each spill syncs the journal).
        ledger._db.execute(f"PRAGMA cache_size=-{WRITE_CACHE_KIB}")
        return ledger

    @classmethod
    def _open(cls, path: Path, mode: str, check_tip: bool, actor: Optional[str] = None,
              legacy: bool = False) -> "Ledger":
        _require_file(path)
        try:
            return cls._connect_checked(path, mode, check_tip, actor, legacy)
        except sqlite3.OperationalError as error:
            if mode != "ro" or "readonly" not in str(error) or not Path(f"{path}-journal").exists():
                raise damaged(path, error) from None
        except sqlite3.DatabaseError as error:
            raise damaged(path, error) from None
        # A writer was killed mid-transaction and left its rollback journal: SQLite's own
        # recovery rolls that transaction back on the next read-write open, restoring the
        # last committed state. Nothing committed is touched.
        try:
            return cls._connect_checked(path, "rw", check_tip, actor, legacy)
        except sqlite3.DatabaseError as error:
            raise damaged(path, error) from None

    @classmethod
    def _connect_checked(cls, path: Path, mode: str, check_tip: bool, actor: Optional[str],
                         legacy: bool) -> "Ledger":
        ledger = cls(path, _connect(path, mode), actor)
        try:
            ledger._check_on_open(check_tip, legacy)
        except BaseException:
            ledger.close()
            raise
        return ledger

    def _check_on_open(self, check_tip: bool, legacy: bool = False) -> None:
        # One read transaction: it holds SQLite's shared lock, so no writer commits while
        # the file's size and last entry are compared.
        self._db.execute("BEGIN")
        try:
            self._version = self._check_schema()
            self._check_size()
            self._check_meta(legacy)
            if check_tip:
                self._check_last_entry()
        finally:
            if self._db.in_transaction:
                self._db.execute("ROLLBACK")

    def _check_schema(self) -> int:
        """The schema version the file's tables are; anything else is refused."""
        found = _schema(self._db)
        for version, schemas in _ledger_schemas().items():
            if found in schemas:
                return version
        expected = _ledger_schemas()[SCHEMA_VERSION][0]
        if not set(found) & set(expected):
            names = ", ".join(sorted(found)) or "none"
            raise self._not_a_ledger(f"not an Arbiter ledger (its tables and indexes: {names})")
        differences = [f"{expected[n][0]} {n} missing" for n in sorted(set(expected) - set(found))]
        differences += [f"{found[n][0]} {n} added" for n in sorted(set(found) - set(expected))]
        differences += [f"{found[n][0]} {n} changed" for n in sorted(set(found) & set(expected)) if found[n] != expected[n]]
        raise self._damaged(f"its schema is not a ledger's: {', '.join(differences)}")

    def _check_size(self) -> None:
        page_size = self._db.execute("PRAGMA page_size").fetchone()[0]
        pages = self._db.execute("PRAGMA page_count").fetchone()[0]
        size = os.stat(self.path).st_size
        if size != page_size * pages:
            raise self._damaged(f"the file is {size:,} bytes but its header says {pages:,} pages of {page_size:,} bytes "
                                f"({page_size * pages:,} bytes): it was truncated or extended")

    def _check_meta(self, legacy: bool) -> None:
        meta = dict(self._db.execute("SELECT key, value FROM meta").fetchall())
        written = meta.get("format")
        version = SCHEMA_VERSION if written == FORMAT else LEGACY_FORMATS.get(written)
        if version is None:
            raise self._not_a_ledger(f"not an Arbiter ledger (format {written or 'missing'})")
        if version != self._version:
            raise self._damaged(f"its format says {written} but its tables are schema {self._version}'s")
        extra = sorted(set(meta) - {"format"})
        if extra:
            raise self._damaged(f"its meta table holds {', '.join(map(repr, extra))}, which a ledger never writes")
        if version != SCHEMA_VERSION and not legacy:
            raise DiagnosticError([Diagnostic(self.place, 0, 0, "E170",
                                              f"this ledger was written by an earlier release (schema {version}); "
                                              "nothing was written to it",
                                              f"run: arbiter ledger upgrade {self.place}")])

    def _check_last_entry(self) -> None:
        row = self._db.execute(f"SELECT {self._columns} FROM entries ORDER BY seq DESC LIMIT 1").fetchone()
        problem = self.entry_problem(_entry(row)) if row else None
        if problem:
            raise self._damaged(f"its last entry is broken: {problem}", "nothing was written to it; run arbiter verify")

    @property
    def _columns(self) -> str:
        return _ENTRY_COLUMNS[self._version]

    def _damaged(self, what: str, hint: str = "nothing was written to it; verify a copy, or restore it from a backup"
                 ) -> DiagnosticError:
        return DiagnosticError([Diagnostic(self.place, 0, 0, "E170", f"the ledger file is damaged: {what}", hint)])

    def _not_a_ledger(self, what: str) -> DiagnosticError:
        return DiagnosticError([Diagnostic(self.place, 0, 0, "E170", what,
                                           f"expected {FORMAT}; a new ledger is started only where no file exists")])

    def close(self) -> None:
        self._db.close()

    def __enter__(self) -> "Ledger":
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()

    def schema_version(self) -> int:
        return self._version

    # --- upgrading ----------------------------------------------------------------------

    def upgrade(self) -> Optional[Verification]:
        """Migrate a ledger an earlier release wrote to the current schema, in one transaction:
        verified first (a ledger that does not verify is refused, unchanged), migrated, and
        verified again before the commit, so the file is either wholly upgraded or as it was.
        Old entries keep their recipe (their actor and host stay NULL). None when the ledger
        is current already (nothing is changed); else the verification after the upgrade."""
        if self._version == SCHEMA_VERSION:
            return None
        self._require_verifies("before the upgrade")
        before = self._version
        try:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                for statement in UPGRADE_STEPS:
                    self._db.execute(statement)
                self._version = SCHEMA_VERSION
                after = self._require_verifies("after the upgrade")
                self._db.execute("COMMIT")
            except BaseException:
                if self._db.in_transaction:
                    self._db.execute("ROLLBACK")
                self._version = before
                raise
        except sqlite3.DatabaseError as error:
            raise damaged(self.path, error) from None
        return after

    def _require_verifies(self, when: str) -> Verification:
        result = self.verify()
        if not result.ok:
            where = f"entry {result.at}: " if result.at else ""
            raise DiagnosticError([Diagnostic(self.place, 0, 0, "E170",
                                              f"the ledger does not verify {when} ({where}{result.problem}); "
                                              "nothing was changed", "run arbiter verify, and restore the file from "
                                                                     "a backup")])
        return result

    # --- writing ------------------------------------------------------------------------

    def append(self, type_: str, ref: str, body: str, blobs: list[tuple[str, str, bytes]]) -> Entry:
        """Store blobs (kind, sha256, content) and one entry, in one transaction."""
        with self.transaction():
            return self.add(type_, ref, body, blobs)

    @contextlib.contextmanager
    def transaction(self) -> Iterator[None]:
        """One write transaction (BEGIN IMMEDIATE ... COMMIT): every entry `add`ed inside it
        is committed together, or, when anything fails, none is. Reads inside it see the file
        as no other writer can change it until the commit."""
        try:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                yield
                self._db.execute("COMMIT")
            except BaseException:
                if self._db.in_transaction:
                    self._db.execute("ROLLBACK")
                raise
            finally:
                self._tip = None
                self._stored.clear()
        except sqlite3.DatabaseError as error:
            raise damaged(self.path, error) from None

    def add(self, type_: str, ref: str, body: str, blobs: list[tuple[str, str, bytes]]) -> Entry:
        """Store blobs and one entry inside the open `transaction`, recorded by this ledger's
        actor on this host."""
        if not self._db.in_transaction:
            raise RuntimeError("Ledger.add outside a transaction")
        kinds = tuple(kind for kind, _, _ in blobs)
        if kinds != blob_roles(type_, len(blobs)):  # the order of refs is what puts kinds in the chain
            raise ValueError(f"a {type_} entry cannot rest on blobs of kinds {kinds}")
        new = [(sha, kind, content) for kind, sha, content in blobs if sha not in self._stored]
        if new:
            self._db.executemany("INSERT OR IGNORE INTO blobs (sha256, kind, content) VALUES (?, ?, ?)", new)
            self._stored.update(sha for sha, _, _ in new)
        return self._insert_entry(type_, ref, tuple(sha for _, sha, _ in blobs), now(), body)

    def copy_in(self, entry: Entry, blobs: list[tuple[str, str, Optional[bytes], Optional[str]]]) -> Entry:
        """Store an entry exactly as another ledger holds it (its seq, prev, hash, time, actor
        and host), with its blobs (kind, sha256, content or None when erased, erased_at),
        inside the open `transaction`: only as the next link of this chain, and only when its
        hash is its fields' (ValueError with the reason otherwise)."""
        if not self._db.in_transaction:
            raise RuntimeError("Ledger.copy_in outside a transaction")
        seq, prev = self._head_in_transaction()
        if entry.seq != seq + 1:
            raise ValueError(f"entry {entry.seq} cannot follow entry {seq}: the next entry here is {seq + 1}")
        if entry.prev != prev:
            raise ValueError(f"entry {entry.seq} does not link to this ledger's head {prev}")
        if hash_of(entry) != entry.hash:
            raise ValueError(f"entry {entry.seq} does not match its hash: a field of it was changed")
        self._db.executemany("INSERT OR IGNORE INTO blobs (sha256, kind, content, erased_at) VALUES (?, ?, ?, ?)",
                             [(sha, kind, content, erased_at) for kind, sha, content, erased_at in blobs])
        self._db.execute("INSERT INTO entries VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                         (entry.seq, entry.prev, entry.hash, entry.type, entry.ref, " ".join(entry.refs),
                          entry.recorded_at, entry.body, entry.actor, entry.host))
        self._tip = (entry.seq, entry.hash)
        return entry

    def _head_in_transaction(self) -> tuple[int, str]:
        """The last entry's (seq, hash), read once per write transaction and then kept: no
        other writer can append until this one commits, so the next entry need not read it."""
        if self._tip is None:
            last = self._db.execute("SELECT seq, hash FROM entries ORDER BY seq DESC LIMIT 1").fetchone()
            self._tip = (last[0], last[1]) if last else (0, GENESIS)
        return self._tip

    def _insert_entry(self, type_: str, ref: str, refs: tuple[str, ...], recorded_at: str, body: str) -> Entry:
        last, prev = self._head_in_transaction()
        seq = last + 1
        digest = entry_hash(seq, prev, type_, ref, refs, recorded_at, body, self._actor, self._host)
        self._db.execute("INSERT INTO entries VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                         (seq, prev, digest, type_, ref, " ".join(refs), recorded_at, body, self._actor, self._host))
        self._tip = (seq, digest)
        return Entry(seq, prev, digest, type_, ref, refs, recorded_at, body, self._actor, self._host)

    def erase_personal(self, shas: list[str], body_for: Callable[[str, list[str]], str]) -> Optional[Entry]:
        """Erase personal-data blobs and record the erasure in the chain, atomically; then
        rewrite the file so no erased byte remains in it. Only blobs stored as personal data
        and not yet erased are erased, and the purge entry lists exactly those;
        body_for(timestamp, erased) gives its body."""
        if not shas:
            return None
        try:
            self._db.execute("PRAGMA secure_delete=ON")
            self._db.execute("BEGIN IMMEDIATE")
            try:
                stamp = now()
                erased = [sha for sha in shas if self._db.execute(
                    "UPDATE blobs SET content = NULL, erased_at = ? "
                    "WHERE sha256 = ? AND kind = 'personal' AND content IS NOT NULL", (stamp, sha)).rowcount]
                if not erased:  # another purge erased them meanwhile
                    self._db.execute("ROLLBACK")
                    return None
                entry = self._insert_entry("purge", "", tuple(erased), stamp, body_for(stamp, erased))
                self._db.execute("COMMIT")
            except BaseException:
                if self._db.in_transaction:
                    self._db.execute("ROLLBACK")
                raise
            finally:
                self._tip = None
            self._db.execute("VACUUM")
        except sqlite3.DatabaseError as error:
            raise damaged(self.path, error) from None
        return entry

    # --- reading ------------------------------------------------------------------------

    def entries(self) -> Iterator[Entry]:
        try:
            for row in self._db.execute(f"SELECT {self._columns} FROM entries ORDER BY seq"):
                yield _entry(row)
        except sqlite3.DatabaseError as error:
            raise damaged(self.path, error) from None

    def decisions_about(self, cases: list[str], newest_first: bool = False) -> Iterator[Entry]:
        """Each decision entry whose body names one of these cases (each as the body's text
        spells it up to any quote), in order (or newest first, so that a caller may stop early).
        SQLite reads the case from the body's text (CASE_IN_BODY) and looks it up in the list,
        so any number of cases costs one pass over the entries; callers check each entry on its
        parsed body."""
        query = (f"SELECT {self._columns} FROM entries WHERE type = 'decision' AND {CASE_IN_BODY} IN "
                 f"(SELECT value FROM json_each(?)) ORDER BY seq{' DESC' if newest_first else ''}")
        try:
            for row in self._db.execute(query, (json.dumps(cases),)):
                yield _entry(row)
        except sqlite3.DatabaseError as error:
            raise damaged(self.path, error) from None

    def overrides_of(self, decision_id: str) -> list[Entry]:
        return [_entry(row) for row in self._rows(
            f"SELECT {self._columns} FROM entries WHERE type = 'override' AND ref = ? ORDER BY seq", (decision_id,))]

    def _rows(self, query: str, parameters: tuple = ()) -> list[tuple]:
        """A query's rows; SQLite finding the file damaged is a diagnostic, never a traceback."""
        try:
            return self._db.execute(query, parameters).fetchall()
        except sqlite3.DatabaseError as error:
            raise damaged(self.path, error) from None

    def _purge_of(self, sha: str) -> Optional[Entry]:
        # Purge entries have an empty ref: the index on ref finds them without reading every entry.
        rows = self._rows(f"SELECT {self._columns} FROM entries WHERE ref = '' AND type = 'purge' "
                          "AND instr(refs, ?) > 0 ORDER BY seq LIMIT 1", (sha,))
        return _entry(rows[0]) if rows else None

    # --- verifying ----------------------------------------------------------------------

    def verify(self, head: Optional[str] = None) -> "Verification":
        """Check every entry's link and hash, every blob against its hash, its role and its
        purge, and every page of the file; stop at the first break.

        The loop is the hot path of auditing a large ledger (a million entries in seconds):
        columns are read as raw bytes, each row is hashed inline by its recipe (recipe 2's
        canonical JSON through the standard library's C string encoder, `recipe_2_bytes`),
        and a row is examined in detail only when something is off."""
        walk = ChainWalk(head)
        self._db.text_factory = bytes
        try:
            blobs = {sha for (sha,) in self._db.execute("SELECT sha256 FROM blobs")}
            broken = walk.through(self._db.execute(f"SELECT {self._columns} FROM entries ORDER BY seq"), blobs)
            return broken or self.verified(walk, head)
        except sqlite3.DatabaseError as error:
            return Verification(walk.seq, f"the file is damaged after entry {walk.seq}: {error}", walk.seq + 1)
        finally:
            self._db.text_factory = str

    def _structure_problem(self) -> Optional[str]:
        """SQLite's own check of every page of the file."""
        structure = _text(self._db.execute("PRAGMA quick_check").fetchone()[0])
        if structure == "ok":
            return None
        found = [line for line in structure.splitlines() if not line.startswith("***")]
        return f"the file's structure is damaged: {(found or [structure])[0]}"

    def _blob_problem(self, held: dict[bytes, set[bytes]], erased: dict[bytes, bytes]
                      ) -> Optional[tuple[Optional[int], str]]:
        """The first blob that does not match what the chain says of it, and the first entry
        resting on it."""
        for sha, kind, content, erased_at in self._db.execute("SELECT sha256, kind, content, erased_at FROM blobs"):
            role = kind if sha in held.get(kind, ()) else next((k for k, shas in held.items() if sha in shas), None)
            what = _blob_mismatch(sha, kind, content, erased_at, role, erased.get(sha))
            if what:
                return (self._first_entry_resting_on(sha), what)
        return None


class ChainWalk:
    """One pass through every entry, in order, as raw column bytes: the hot path of auditing
    a large ledger (a million entries in seconds), the same on both stores. Each row is hashed
    inline by its recipe (recipe 2's canonical JSON through `recipe_2_bytes`) and examined in
    detail only when something is off. What it has seen stays here, so a store whose read
    fails part way can say after which entry."""

    def __init__(self, head: Optional[str] = None) -> None:
        self.seq = 0
        self.prev = GENESIS.encode()
        self.wanted = head.encode() if head is not None else None  # a head kept elsewhere
        self.head_at: Optional[int] = None  # the entry whose hash it is
        self.held: dict[bytes, set[bytes]] = {kind: set() for kind in _KINDS_RAW.values()}  # kind -> blobs held as it
        self.erased: dict[bytes, bytes] = {}  # blob -> when the purge entry that lists it erased it

    def through(self, rows: Iterable[tuple], blobs: set[bytes]) -> Optional["Verification"]:
        """Walk rows (seq, prev, hash, type, ref, refs, recorded_at, body, actor, host; text
        as bytes); the first break found, or None."""
        sha256, sep, space, recipe_2 = HASH, SEPARATOR.encode(), b" ", recipe_2_bytes
        seq, prev, wanted = self.seq, self.prev, self.wanted
        add_criteria, add_ruleset, add_evidence, add_personal, add_record = (self.held[_KINDS_RAW[kind]].add
                                                                             for kind in DECISION_BLOBS[5])
        try:
            for row in rows:
                seq += 1
                number, row_prev, digest, type_, ref, refs, recorded_at, body, actor, host = row
                parts = refs.split()
                if actor is None and host is None:  # recipe 1: an entry an earlier release wrote
                    hashed = sep.join((row_prev, b"%d" % number, type_, ref, space.join(parts), recorded_at, body))
                else:
                    hashed = recipe_2(number, row_prev, type_, ref, parts, recorded_at, body, actor, host)
                if (number != seq or row_prev != prev or sha256(hashed).hexdigest().encode() != digest
                        or not blobs.issuperset(parts)):
                    text_row = (number, *(_text_or_none(v) for v in row[1:]))
                    problem = _entry_problem(text_row, seq, prev.decode(), blobs)
                    if problem:
                        return Verification(seq - 1, problem, number)
                if type_ == b"decision" and 4 <= len(parts) <= 5:  # each blob's kind is its place: DECISION_BLOBS
                    add_criteria(parts[0])
                    add_ruleset(parts[1])
                    add_evidence(parts[2])
                    add_record(parts[-1])
                    if len(parts) == 5:
                        add_personal(parts[3])
                else:
                    problem = _other_entry_problem(seq, type_, parts, recorded_at, self.held[_PERSONAL_RAW],
                                                   self.erased)
                    if problem:
                        return Verification(seq - 1, problem, seq)
                prev = digest
                if digest == wanted:
                    self.head_at = seq
        finally:
            self.seq, self.prev = seq, prev
        return None


@dataclass(frozen=True)
class Verification:
    entries: int  # entries that verified before any problem
    problem: Optional[str]
    at: Optional[int]  # the entry (seq) where the chain breaks; None when the problem is in no entry
    head: str = GENESIS
    after_head: Optional[int] = None  # entries appended after the given head

    @property
    def ok(self) -> bool:
        return self.problem is None


def _entry_problem(row: tuple, seq: int, prev: str, blobs: set[bytes]) -> Optional[str]:
    number, row_prev, digest, type_, ref, refs, recorded_at, body, actor, host = row
    if number != seq:
        return f"entry {seq} is missing (the next is {number}): entries were removed"
    if row_prev != prev:
        return f"entry {seq} does not link to entry {seq - 1}: its prev hash is not entry {seq - 1}'s hash"
    if entry_hash(number, row_prev, type_, ref, refs.split(), recorded_at, body, actor, host) != digest:
        return f"entry {seq} does not match its hash: a field of it was changed"
    missing = [sha for sha in refs.split() if sha.encode() not in blobs]
    if missing:
        return f"entry {seq} rests on blob {missing[0][:12]}, which is not in the ledger"
    return None


def _other_entry_problem(seq: int, type_: bytes, parts: list[bytes], recorded_at: bytes,
                         personal: set[bytes], erased: dict[bytes, bytes]) -> Optional[str]:
    """An override or a purge (or an entry no ledger writes); a purge's erasures are noted.
    `personal` holds the blobs earlier decisions hold as personal data."""
    if blob_roles(_text(type_), len(parts)) is None:
        return f"entry {seq} is a {_text(type_)!r} entry with {len(parts)} blobs, which no ledger writes"
    if type_ != b"purge":
        return None
    for sha in parts:
        if sha not in personal:
            return f"entry {seq} erased blob {_text(sha[:12])}, which no earlier decision holds as personal data"
        erased.setdefault(sha, recorded_at)
    return None


def _blob_mismatch(sha: bytes, kind: Any, content: Any, erased_at: Any,
                   role: Optional[bytes], erased_by: Optional[bytes]) -> Optional[str]:
    """How a blob differs from what the chain says of it: the kind its entries give it (role)
    and when a purge entry erased it (erased_by). Raw bytes, as `verify` reads them."""
    kind, content, erased_at = _raw(kind), _raw(content), _raw(erased_at)
    name, stored = sha[:12].decode(errors="replace"), kind.decode(errors="replace")
    if role is None:
        return f"{stored} blob {name} belongs to no entry: it was added, or the entries resting on it were removed"
    if kind != role:
        return f"blob {name} is stored as {stored} but its entries hold it as {role.decode()}: its kind was changed"
    if content is None:
        if role != _PERSONAL_RAW:
            return f"{stored} blob {name} has no content: only personal data is ever erased"
        if erased_by is None:
            return f"{stored} blob {name} has no content and no purge entry erased it"
        if erased_at != erased_by:
            return (f"{stored} blob {name} was erased at {erased_by.decode(errors='replace')} but says erased at "
                    f"{erased_at.decode(errors='replace') if erased_at else 'never'}: its erasure time was changed")
        return None
    if sha256_bytes(content).encode() != sha:
        return f"{stored} blob {name} does not match its hash: its content was changed"
    if erased_by is not None:
        return f"{stored} blob {name} was erased by a purge entry but holds content again"
    if erased_at is not None:
        return f"{stored} blob {name} holds its content but says erased at {erased_at.decode(errors='replace')}"
    return None


# --- files ------------------------------------------------------------------------------

def _connect(path: Path, mode: str) -> sqlite3.Connection:
    """A connection through a file: URI, percent-encoded so that any file name works ('#',
    '?', '%', spaces, non-ASCII); mode ro and rw never create a file."""
    return sqlite3.connect(f"{path.resolve().as_uri()}?mode={mode}", uri=True, timeout=60, isolation_level=None)


def _require_file(path: Path) -> None:
    if not os.path.lexists(path):
        raise DiagnosticError([Diagnostic(ledger_place(path), 0, 0, "E170", "no ledger file here",
                                          "record decisions with: arbiter score CASE --record, or pass --ledger")])
    if not path.is_file():
        raise DiagnosticError([Diagnostic(ledger_place(path), 0, 0, "E170", "not a ledger: not a regular file",
                                          "pass --ledger with a ledger file")])
    if path.stat().st_size == 0:
        raise DiagnosticError([Diagnostic(ledger_place(path), 0, 0, "E170", "not a ledger: the file is empty",
                                          "a new ledger is started only where no file exists; pass --ledger "
                                          "with another path")])


def _create(path: Path) -> None:
    """Start a new ledger where no file exists: build it aside, then link it into place, so
    that no other process ever sees a half-made or empty file at the path."""
    new = path.parent / f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}.new"
    try:
        db = _connect(new, "rwc")
        try:
            db.execute(f"PRAGMA page_size={PAGE_SIZE}")  # before the first table: fixed for the file's life
            db.execute("PRAGMA journal_mode=DELETE")
            db.execute("PRAGMA synchronous=FULL")
            db.execute("BEGIN IMMEDIATE")
            for statement in filter(str.strip, _SCHEMA.split(";")):
                db.execute(statement)
            db.execute("INSERT INTO meta VALUES ('format', ?)", (FORMAT,))
            db.execute("COMMIT")
        finally:
            db.close()
        _link_into_place(new, path)
    except (OSError, sqlite3.DatabaseError) as error:
        raise DiagnosticError([Diagnostic(ledger_place(path), 0, 0, "E170", f"cannot start a ledger here: {error}",
                                          "check that the folder exists and can be written")]) from None
    finally:
        for leftover in (new, Path(f"{new}-journal")):
            leftover.unlink(missing_ok=True)


def _link_into_place(new: Path, path: Path) -> None:
    try:
        os.link(new, path)  # atomic, and never replaces an existing file
    except FileExistsError:
        return  # another process started a ledger here first: record into that one
    except OSError:  # a file system without hard links: create exclusively, then copy
        try:
            with open(path, "xb") as out:
                out.write(new.read_bytes())
                out.flush()
                os.fsync(out.fileno())
        except FileExistsError:
            return


def _schema(db: sqlite3.Connection) -> dict[str, tuple[str, str, Optional[str]]]:
    """name -> (type, table, SQL with whitespace collapsed), ignoring the statistics tables
    ANALYZE may add (they change no result)."""
    rows = db.execute("SELECT type, name, tbl_name, sql FROM sqlite_master").fetchall()
    return {name: (type_, table, " ".join(sql.split()) if sql else None)
            for type_, name, table, sql in rows if not name.startswith("sqlite_stat")}


@functools.cache
def _ledger_schemas() -> dict[int, list[dict[str, tuple[str, str, Optional[str]]]]]:
    """Each schema version's tables and indexes as SQLite stores them: schema 2 as a new
    ledger has it, and as `upgrade` leaves a schema-1 file (SQLite keeps the added columns'
    text apart); schema 1 as an earlier release wrote it."""
    return {SCHEMA_VERSION: [_schema_after(_SCHEMA), _schema_after(_SCHEMA_1, *UPGRADE_STEPS[:2])],
            1: [_schema_after(_SCHEMA_1)]}


def _schema_after(script: str, *statements: str) -> dict[str, tuple[str, str, Optional[str]]]:
    db = sqlite3.connect(":memory:")
    try:
        db.executescript(script)
        for statement in statements:
            db.execute(statement)
        return _schema(db)
    finally:
        db.close()


def damaged(path: Path, error: Exception) -> DiagnosticError:
    return DiagnosticError([Diagnostic(ledger_place(path), 0, 0, "E170",
                                       f"the ledger file is damaged or not a ledger: {error}",
                                       "nothing was written to it; verify a copy, or restore it from a backup")])
