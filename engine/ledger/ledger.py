"""The decision ledger: an append-only SQLite file that an auditor can verify and replay.

Three tables:

- entries: one row per event (a decision, an override, a purge), in order. Each row's
  hash covers the previous row's hash and every column of the row, so changing,
  inserting or removing a row breaks the chain at that row. (Removing rows from the end
  leaves a shorter valid chain: only a head hash kept elsewhere reveals that; see
  `verify(head=...)`.)
- blobs: criteria (canonical form), compiled rulesets, evidence, decision records and
  personal data, each stored once under its sha256, so a decision can be replayed after
  the files on disk have changed or gone. Personal data (names, free-text notes) is a blob
  of its own: a purge erases its content and records what it erased, and the chain still
  verifies because entries hold only the hashes.
- meta: the format, and nothing else.

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
writers queue. Readers open the file read-only, so they never create or change a file (the
one exception: a killed writer's rollback journal, which SQLite must roll back to read).
"""

from __future__ import annotations

import contextlib
import datetime
import functools
import os
import secrets
import sqlite3
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterator, Optional

from ..language.canonical import HASH, sha256_bytes, sha256_text
from ..language.diagnostics import Diagnostic, DiagnosticError

DEFAULT_LEDGER = "arbiter-ledger.sqlite"
LEDGER_ENV = "ARBITER_LEDGER"
GENESIS = "0" * 64
FORMAT = "arbiter-ledger/1"
SEPARATOR = "\x1f"  # between the hashed columns: no column may contain it (ids, hashes, JSON)

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
    body TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS entries_ref ON entries(ref);
CREATE TABLE IF NOT EXISTS blobs (
    sha256 TEXT PRIMARY KEY,
    kind TEXT NOT NULL,
    content BLOB,
    erased_at TEXT
);
"""

# The kind of each blob a decision rests on, in the order of its refs (with and without
# personal data). The order is part of the format: it is what puts a blob's kind in the chain.
DECISION_BLOBS = {4: ("criteria", "ruleset", "evidence", "record"),
                  5: ("criteria", "ruleset", "evidence", "personal", "record")}
_KINDS_RAW = {kind: kind.encode() for kind in DECISION_BLOBS[5]}
_PERSONAL_RAW = _KINDS_RAW["personal"]


def ledger_path(option: Optional[Path]) -> Path:
    """--ledger, else $ARBITER_LEDGER, else arbiter-ledger.sqlite in the working folder."""
    return Path(option or os.environ.get(LEDGER_ENV) or DEFAULT_LEDGER)


def ledger_place(path: Path) -> str:
    """Where a problem with the ledger file is reported: the option that names it."""
    return f"--ledger {path}"


def entry_hash(prev: str, seq: int, type_: str, ref: str, refs: str, recorded_at: str, body: str) -> str:
    joined = SEPARATOR.join((prev, str(seq), type_, ref, refs, recorded_at, body))
    return sha256_text(joined)


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
class Entry:
    seq: int
    prev: str
    hash: str
    type: str  # decision | override | purge
    ref: str  # decision_id for decisions and overrides
    refs: tuple[str, ...]  # blob hashes this entry rests on
    recorded_at: str
    body: str  # JSON details


@dataclass(frozen=True)
class Blob:
    sha256: str
    kind: str
    content: bytes


_ENTRY_COLUMNS = "seq, prev, hash, type, ref, refs, recorded_at, body"


def _entry(row: tuple) -> Entry:
    seq, *text = row
    if any(type(value) is not str for value in text):  # only in a changed file; its hash then fails
        text = [_text(value) for value in text]
    prev, digest, type_, ref, refs, recorded_at, body = text
    return Entry(seq, prev, digest, type_, ref, tuple(refs.split()), recorded_at, body)


def _text(value: Any) -> str:
    return value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value)


def _raw(value: Any) -> Optional[bytes]:
    """A stored value as bytes, whatever type a changed file holds it as."""
    if value is None or isinstance(value, bytes):
        return value
    return str(value).encode("utf-8")


class Ledger:
    """One ledger file. Use `open_for_writing`, `open_existing_for_writing`,
    `open_for_reading` or `open_for_verifying`; each checks the file first."""

    def __init__(self, path: Path, connection: sqlite3.Connection):
        self.path = path
        self.place = ledger_place(path)
        self._db = connection

    # --- opening ------------------------------------------------------------------------

    @classmethod
    def open_for_writing(cls, path: Path) -> "Ledger":
        """For recording: starts a new ledger only where no file exists."""
        if not os.path.lexists(path):
            _create(path)
        return cls.open_existing_for_writing(path)

    @classmethod
    def open_existing_for_writing(cls, path: Path) -> "Ledger":
        """For commands that change a ledger but never start one (override, purge)."""
        ledger = cls._open(path, "rw", check_tip=True)
        ledger._db.execute("PRAGMA journal_mode=DELETE")
        ledger._db.execute("PRAGMA synchronous=FULL")
        return ledger

    @classmethod
    def open_for_reading(cls, path: Path) -> "Ledger":
        return cls._open(path, "ro", check_tip=True)

    @classmethod
    def open_for_verifying(cls, path: Path) -> "Ledger":
        """Like open_for_reading, but a broken last entry is left to `verify` to report,
        with the entry where the chain breaks."""
        return cls._open(path, "ro", check_tip=False)

    @classmethod
    def _open(cls, path: Path, mode: str, check_tip: bool) -> "Ledger":
        _require_file(path)
        try:
            return cls._connect_checked(path, mode, check_tip)
        except sqlite3.OperationalError as error:
            if mode != "ro" or "readonly" not in str(error) or not Path(f"{path}-journal").exists():
                raise damaged(path, error) from None
        except sqlite3.DatabaseError as error:
            raise damaged(path, error) from None
        # A writer was killed mid-transaction and left its rollback journal: SQLite's own
        # recovery rolls that transaction back on the next read-write open, restoring the
        # last committed state. Nothing committed is touched.
        try:
            return cls._connect_checked(path, "rw", check_tip)
        except sqlite3.DatabaseError as error:
            raise damaged(path, error) from None

    @classmethod
    def _connect_checked(cls, path: Path, mode: str, check_tip: bool) -> "Ledger":
        ledger = cls(path, _connect(path, mode))
        try:
            ledger._check_on_open(check_tip)
        except BaseException:
            ledger.close()
            raise
        return ledger

    def _check_on_open(self, check_tip: bool) -> None:
        # One read transaction: it holds SQLite's shared lock, so no writer commits while
        # the file's size and last entry are compared.
        self._db.execute("BEGIN")
        try:
            self._check_schema()
            self._check_size()
            self._check_meta()
            if check_tip:
                self._check_last_entry()
        finally:
            if self._db.in_transaction:
                self._db.execute("ROLLBACK")

    def _check_schema(self) -> None:
        found = _schema(self._db)
        expected = _ledger_schema()
        if found == expected:
            return
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

    def _check_meta(self) -> None:
        meta = dict(self._db.execute("SELECT key, value FROM meta").fetchall())
        if meta.get("format") != FORMAT:
            raise self._not_a_ledger(f"not an Arbiter ledger (format {meta.get('format', 'missing')})")
        extra = sorted(set(meta) - {"format"})
        if extra:
            raise self._damaged(f"its meta table holds {', '.join(map(repr, extra))}, which a ledger never writes")

    def _check_last_entry(self) -> None:
        row = self._db.execute(f"SELECT {_ENTRY_COLUMNS} FROM entries ORDER BY seq DESC LIMIT 1").fetchone()
        problem = self.entry_problem(_entry(row)) if row else None
        if problem:
            raise self._damaged(f"its last entry is broken: {problem}", "nothing was written to it; run arbiter verify")

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
        except sqlite3.DatabaseError as error:
            raise damaged(self.path, error) from None

    def add(self, type_: str, ref: str, body: str, blobs: list[tuple[str, str, bytes]]) -> Entry:
        """Store blobs and one entry inside the open `transaction`."""
        if not self._db.in_transaction:
            raise RuntimeError("Ledger.add outside a transaction")
        kinds = tuple(kind for kind, _, _ in blobs)
        if kinds != blob_roles(type_, len(blobs)):  # the order of refs is what puts kinds in the chain
            raise ValueError(f"a {type_} entry cannot rest on blobs of kinds {kinds}")
        for kind, sha, content in blobs:
            self._db.execute("INSERT OR IGNORE INTO blobs (sha256, kind, content) VALUES (?, ?, ?)",
                             (sha, kind, content))
        return self._insert_entry(type_, ref, " ".join(sha for _, sha, _ in blobs), now(), body)

    def _insert_entry(self, type_: str, ref: str, refs: str, recorded_at: str, body: str) -> Entry:
        last = self._db.execute("SELECT seq, hash FROM entries ORDER BY seq DESC LIMIT 1").fetchone()
        seq, prev = (last[0] + 1, last[1]) if last else (1, GENESIS)
        digest = entry_hash(prev, seq, type_, ref, refs, recorded_at, body)
        self._db.execute("INSERT INTO entries VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                         (seq, prev, digest, type_, ref, refs, recorded_at, body))
        return Entry(seq, prev, digest, type_, ref, tuple(refs.split()), recorded_at, body)

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
                entry = self._insert_entry("purge", "", " ".join(erased), stamp, body_for(stamp, erased))
                self._db.execute("COMMIT")
            except BaseException:
                if self._db.in_transaction:
                    self._db.execute("ROLLBACK")
                raise
            self._db.execute("VACUUM")
        except sqlite3.DatabaseError as error:
            raise damaged(self.path, error) from None
        return entry

    # --- reading ------------------------------------------------------------------------

    def entries(self) -> Iterator[Entry]:
        try:
            for row in self._db.execute(f"SELECT {_ENTRY_COLUMNS} FROM entries ORDER BY seq"):
                yield _entry(row)
        except sqlite3.DatabaseError as error:
            raise damaged(self.path, error) from None

    def decision(self, ref: str) -> Entry:
        """The decision entry with this decision id (or entry number)."""
        by_number = ref.isdigit() and len(ref) < 16  # decision ids are 16 hex digits, sometimes all digits
        rows = self._rows(f"SELECT {_ENTRY_COLUMNS} FROM entries WHERE type = 'decision' AND "
                          + ("seq = ?" if by_number else "ref = ?") + " ORDER BY seq LIMIT 1",
                          (int(ref) if by_number else ref,))
        if not rows:
            raise DiagnosticError([Diagnostic("DECISION", 0, 0, "E171", f"no decision '{ref}' in {self.path}",
                                              "list decisions with: arbiter log")])
        return _entry(rows[0])

    def decisions_holding(self, fragments: list[str], newest_first: bool = False) -> Iterator[Entry]:
        """Each decision entry whose body holds one of these texts, in order (or newest first, so
        that a caller may stop early): a plain substring search (no JSON parsing, no index: the
        schema is fixed), which callers narrow down."""
        if not fragments:
            return
        tests = " OR ".join("instr(body, ?) > 0" for _ in fragments)
        query = (f"SELECT {_ENTRY_COLUMNS} FROM entries WHERE type = 'decision' AND ({tests}) "
                 f"ORDER BY seq{' DESC' if newest_first else ''}")
        try:
            for row in self._db.execute(query, tuple(fragments)):
                yield _entry(row)
        except sqlite3.DatabaseError as error:
            raise damaged(self.path, error) from None

    def overrides_of(self, decision_id: str) -> list[Entry]:
        return [_entry(row) for row in self._rows(
            f"SELECT {_ENTRY_COLUMNS} FROM entries WHERE type = 'override' AND ref = ? ORDER BY seq", (decision_id,))]

    def blob(self, sha: str) -> Optional[Blob]:
        """A stored blob; content is b'' when erased, None when absent."""
        rows = self._rows("SELECT sha256, kind, content FROM blobs WHERE sha256 = ?", (sha,))
        return Blob(rows[0][0], rows[0][1], rows[0][2] or b"") if rows else None

    def erased_at(self, sha: str) -> Optional[str]:
        rows = self._rows("SELECT erased_at FROM blobs WHERE sha256 = ?", (sha,))
        return rows[0][0] if rows else None

    def erased(self) -> set[str]:
        """The blobs whose content a purge erased."""
        return {sha for (sha,) in self._rows("SELECT sha256 FROM blobs WHERE content IS NULL")}

    def head(self) -> str:
        rows = self._rows("SELECT hash FROM entries ORDER BY seq DESC LIMIT 1")
        return rows[0][0] if rows else GENESIS

    def _rows(self, query: str, parameters: tuple = ()) -> list[tuple]:
        """A query's rows; SQLite finding the file damaged is a diagnostic, never a traceback."""
        try:
            return self._db.execute(query, parameters).fetchall()
        except sqlite3.DatabaseError as error:
            raise damaged(self.path, error) from None

    # --- checking one entry -------------------------------------------------------------

    def entry_problem(self, entry: Entry) -> Optional[str]:
        """What is wrong with one entry, checked on its own: its hash, its link to the entry
        before it, and every blob it rests on (with the purge entry that erased it, if one
        did). None when it is sound."""
        if entry_hash(entry.prev, entry.seq, entry.type, entry.ref, " ".join(entry.refs), entry.recorded_at,
                      entry.body) != entry.hash:
            return f"entry {entry.seq} does not match its hash: a field of it was changed"
        earlier = entry.seq - 1
        before = self._rows("SELECT hash FROM entries WHERE seq = ?", (earlier,)) if earlier else [(GENESIS,)]
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
        rows = self._rows("SELECT kind, content, erased_at FROM blobs WHERE sha256 = ?", (sha,))
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
        return _blob_mismatch(sha.encode(), kind, content, erased_at, role.encode(), _raw(erased_by))

    def _purge_of(self, sha: str) -> Optional[Entry]:
        # Purge entries have an empty ref: the index on ref finds them without reading every entry.
        rows = self._rows(f"SELECT {_ENTRY_COLUMNS} FROM entries WHERE ref = '' AND type = 'purge' "
                          "AND instr(refs, ?) > 0 ORDER BY seq LIMIT 1", (sha,))
        return _entry(rows[0]) if rows else None

    # --- verifying ----------------------------------------------------------------------

    def verify(self, head: Optional[str] = None) -> "Verification":
        """Check every entry's link and hash, every blob against its hash, its role and its
        purge, and every page of the file; stop at the first break.

        The loop is the hot path of auditing a large ledger (a million entries in seconds):
        columns are read as raw bytes (no text decoding), each row is hashed inline, and a
        row is examined in detail only when something is off."""
        sha256, sep = HASH, SEPARATOR.encode()
        seq, prev, head_at = 0, GENESIS.encode(), None
        wanted = head.encode() if head is not None else None
        held: dict[bytes, set[bytes]] = {kind: set() for kind in _KINDS_RAW.values()}  # kind -> blobs held as it
        add_criteria, add_ruleset, add_evidence, add_personal, add_record = (held[_KINDS_RAW[kind]].add
                                                                             for kind in DECISION_BLOBS[5])
        erased: dict[bytes, bytes] = {}  # blob -> when the purge entry that lists it erased it
        self._db.text_factory = bytes
        try:
            blobs = {sha for (sha,) in self._db.execute("SELECT sha256 FROM blobs")}
            for row in self._db.execute(f"SELECT {_ENTRY_COLUMNS} FROM entries ORDER BY seq"):
                seq += 1
                number, row_prev, digest, type_, ref, refs, recorded_at, body = row
                parts = refs.split()
                joined = sep.join((row_prev, b"%d" % number, type_, ref, refs, recorded_at, body))
                if (number != seq or row_prev != prev or sha256(joined).hexdigest().encode() != digest
                        or not blobs.issuperset(parts)):
                    text_row = (number, *(_text(v) for v in row[1:]))
                    return Verification(seq - 1, _entry_problem(text_row, seq, prev.decode(), blobs), number)
                if type_ == b"decision" and 4 <= len(parts) <= 5:  # each blob's kind is its place: DECISION_BLOBS
                    add_criteria(parts[0])
                    add_ruleset(parts[1])
                    add_evidence(parts[2])
                    add_record(parts[-1])
                    if len(parts) == 5:
                        add_personal(parts[3])
                else:
                    problem = _other_entry_problem(seq, type_, parts, recorded_at, held[_PERSONAL_RAW], erased)
                    if problem:
                        return Verification(seq - 1, problem, seq)
                prev = digest
                if digest == wanted:
                    head_at = seq
            broken = self._role_clash(held) or self._blob_problem(held, erased)
            if broken:
                return Verification(seq, broken[1], broken[0])
            structure = _text(self._db.execute("PRAGMA quick_check").fetchone()[0])
            if structure != "ok":
                found = [line for line in structure.splitlines() if not line.startswith("***")]
                return Verification(seq, f"the file's structure is damaged: {(found or [structure])[0]}", None)
        except sqlite3.DatabaseError as error:
            return Verification(seq, f"the file is damaged after entry {seq}: {error}", seq + 1)
        finally:
            self._db.text_factory = str
        last = prev.decode()
        if head is not None and head_at is None:
            return Verification(seq, f"head {head} is not in the chain (its last entry, {seq}, has hash {last}): "
                                     f"entries may have been removed from the end", seq + 1)
        return Verification(seq, None, None, last, (seq - head_at) if head_at else None)

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

    def _first_entry_resting_on(self, sha: bytes) -> Optional[int]:
        return self._db.execute("SELECT min(seq) FROM entries WHERE instr(refs, ?) > 0",
                                (_text(sha),)).fetchone()[0]


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
    number, row_prev, digest, type_, ref, refs, recorded_at, body = row
    if number != seq:
        return f"entry {seq} is missing (the next is {number}): entries were removed"
    if row_prev != prev:
        return f"entry {seq} does not link to entry {seq - 1}: its prev hash is not entry {seq - 1}'s hash"
    if entry_hash(row_prev, number, type_, ref, refs, recorded_at, body) != digest:
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
def _ledger_schema() -> dict[str, tuple[str, str, Optional[str]]]:
    db = sqlite3.connect(":memory:")
    try:
        db.executescript(_SCHEMA)
        return _schema(db)
    finally:
        db.close()


def damaged(path: Path, error: Exception) -> DiagnosticError:
    return DiagnosticError([Diagnostic(ledger_place(path), 0, 0, "E170",
                                       f"the ledger file is damaged or not a ledger: {error}",
                                       "nothing was written to it; verify a copy, or restore it from a backup")])
