"""The decision ledger: an append-only SQLite file that an auditor can verify and replay.

Two tables:

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

Every write is one transaction (BEGIN IMMEDIATE ... COMMIT, synchronous=FULL): a process
killed mid-write leaves the decision wholly present or wholly absent, and concurrent
writers queue. A damaged file is never written to; readers open it read-only.
"""

from __future__ import annotations

import datetime
import hashlib
import os
import sqlite3
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator, Optional

from .diagnostics import Diagnostic, DiagnosticError

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


def ledger_path(option: Optional[Path]) -> Path:
    """--ledger, else $ARBITER_LEDGER, else arbiter-ledger.sqlite in the working folder."""
    return Path(option or os.environ.get(LEDGER_ENV) or DEFAULT_LEDGER)


def entry_hash(prev: str, seq: int, type_: str, ref: str, refs: str, recorded_at: str, body: str) -> str:
    joined = SEPARATOR.join((prev, str(seq), type_, ref, refs, recorded_at, body))
    return hashlib.sha256(joined.encode("utf-8")).hexdigest()


def now() -> str:
    return datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0).isoformat()


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


class Ledger:
    """One ledger file. Use `open_for_writing` or `open_for_reading`."""

    def __init__(self, path: Path, connection: sqlite3.Connection):
        self.path = path
        self._db = connection

    @classmethod
    def open_for_writing(cls, path: Path) -> "Ledger":
        if path.is_file() and path.stat().st_size > 0:
            cls.open_for_reading(path).close()  # an existing file must already be a sound ledger
        try:
            db = sqlite3.connect(path, timeout=60, isolation_level=None)
            db.execute("PRAGMA journal_mode=DELETE")
            db.execute("PRAGMA synchronous=FULL")
            db.execute("BEGIN IMMEDIATE")
            for statement in filter(str.strip, _SCHEMA.split(";")):
                db.execute(statement)
            db.execute("INSERT OR IGNORE INTO meta VALUES ('format', ?)", (FORMAT,))
            db.execute("COMMIT")
            ledger = cls(path, db)
            ledger._check_format()
            return ledger
        except sqlite3.DatabaseError as error:
            raise damaged(path, error) from None

    @classmethod
    def open_existing_for_writing(cls, path: Path) -> "Ledger":
        """For commands that change a ledger but never start one (override, purge)."""
        cls.open_for_reading(path).close()
        return cls.open_for_writing(path)

    @classmethod
    def open_for_reading(cls, path: Path) -> "Ledger":
        if not path.is_file():
            raise DiagnosticError([Diagnostic(str(path), 0, 0, "E170", "no ledger file here",
                                              "record decisions with: arbiter score CASE --record, or pass --ledger")])
        try:
            db = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=60, isolation_level=None)
            ledger = cls(path, db)
            ledger._check_format()
            return ledger
        except sqlite3.OperationalError as error:
            if "readonly" not in str(error) or not Path(f"{path}-journal").exists():
                raise damaged(path, error) from None
        except sqlite3.DatabaseError as error:
            raise damaged(path, error) from None
        # A writer was killed mid-transaction and left its rollback journal: SQLite's own
        # recovery rolls that transaction back on the next read-write open, restoring the
        # last committed state. Nothing committed is touched.
        try:
            ledger = cls(path, sqlite3.connect(path, timeout=60, isolation_level=None))
            ledger._check_format()
            return ledger
        except sqlite3.DatabaseError as error:
            raise damaged(path, error) from None

    def _check_format(self) -> None:
        row = self._db.execute("SELECT value FROM meta WHERE key = 'format'").fetchone()
        if row is None or row[0] != FORMAT:
            raise DiagnosticError([Diagnostic(str(self.path), 0, 0, "E170",
                                              f"not an Arbiter ledger (format {row[0] if row else 'missing'})",
                                              f"expected {FORMAT}")])

    def close(self) -> None:
        self._db.close()

    # --- writing ------------------------------------------------------------------------

    def append(self, type_: str, ref: str, body: str, blobs: list[tuple[str, str, bytes]]) -> Entry:
        """Store blobs (kind, sha256, content) and one entry, in one transaction."""
        refs = " ".join(sha for _, sha, _ in blobs)
        try:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                for kind, sha, content in blobs:
                    self._db.execute("INSERT OR IGNORE INTO blobs (sha256, kind, content) VALUES (?, ?, ?)",
                                     (sha, kind, content))
                last = self._db.execute("SELECT seq, hash FROM entries ORDER BY seq DESC LIMIT 1").fetchone()
                seq, prev = (last[0] + 1, last[1]) if last else (1, GENESIS)
                recorded_at = now()
                digest = entry_hash(prev, seq, type_, ref, refs, recorded_at, body)
                self._db.execute("INSERT INTO entries VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                                 (seq, prev, digest, type_, ref, refs, recorded_at, body))
                self._db.execute("COMMIT")
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
        except sqlite3.DatabaseError as error:
            raise damaged(self.path, error) from None
        return Entry(seq, prev, digest, type_, ref, tuple(refs.split()), recorded_at, body)

    def erase_personal(self, shas: list[str], body_for: Any) -> Optional[Entry]:
        """Erase personal-data blobs and record the erasure in the chain, atomically; then
        rewrite the file so no erased byte remains in it."""
        if not shas:
            return None
        refs = " ".join(shas)
        try:
            self._db.execute("PRAGMA secure_delete=ON")
            self._db.execute("BEGIN IMMEDIATE")
            try:
                stamp = now()
                self._db.executemany("UPDATE blobs SET content = NULL, erased_at = ? WHERE sha256 = ? AND kind = 'personal'",
                                     [(stamp, sha) for sha in shas])
                last = self._db.execute("SELECT seq, hash FROM entries ORDER BY seq DESC LIMIT 1").fetchone()
                seq, prev = (last[0] + 1, last[1]) if last else (1, GENESIS)
                body = body_for(stamp)
                digest = entry_hash(prev, seq, "purge", "", refs, stamp, body)
                self._db.execute("INSERT INTO entries VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                                 (seq, prev, digest, "purge", "", refs, stamp, body))
                self._db.execute("COMMIT")
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("VACUUM")
        except sqlite3.DatabaseError as error:
            raise damaged(self.path, error) from None
        return Entry(seq, prev, digest, "purge", "", tuple(shas), stamp, body)

    # --- reading ------------------------------------------------------------------------

    def entries(self) -> Iterator[Entry]:
        try:
            for row in self._db.execute("SELECT seq, prev, hash, type, ref, refs, recorded_at, body FROM entries ORDER BY seq"):
                yield Entry(row[0], row[1], row[2], row[3], row[4], tuple(row[5].split()), row[6], row[7])
        except sqlite3.DatabaseError as error:
            raise damaged(self.path, error) from None

    def decision(self, ref: str) -> Entry:
        """The decision entry with this decision id (or entry number)."""
        by_number = ref.isdigit() and len(ref) < 16  # decision ids are 16 hex digits, sometimes all digits
        query = "SELECT seq, prev, hash, type, ref, refs, recorded_at, body FROM entries WHERE type = 'decision' AND "
        row = self._db.execute(query + ("seq = ?" if by_number else "ref = ?") + " ORDER BY seq LIMIT 1",
                               (int(ref) if by_number else ref,)).fetchone()
        if row is None:
            raise DiagnosticError([Diagnostic(str(self.path), 0, 0, "E171", f"no decision '{ref}' in the ledger",
                                              "list decisions with: arbiter log")])
        return Entry(row[0], row[1], row[2], row[3], row[4], tuple(row[5].split()), row[6], row[7])

    def overrides_of(self, decision_id: str) -> list[Entry]:
        rows = self._db.execute("SELECT seq, prev, hash, type, ref, refs, recorded_at, body FROM entries "
                                "WHERE type = 'override' AND ref = ? ORDER BY seq", (decision_id,)).fetchall()
        return [Entry(r[0], r[1], r[2], r[3], r[4], tuple(r[5].split()), r[6], r[7]) for r in rows]

    def blob(self, sha: str) -> Optional[Blob]:
        """A stored blob; content is b'' when erased, None when absent."""
        row = self._db.execute("SELECT sha256, kind, content FROM blobs WHERE sha256 = ?", (sha,)).fetchone()
        return None if row is None else Blob(row[0], row[1], row[2] or b"")

    def erased_at(self, sha: str) -> Optional[str]:
        row = self._db.execute("SELECT erased_at FROM blobs WHERE sha256 = ?", (sha,)).fetchone()
        return row[0] if row else None

    def head(self) -> str:
        row = self._db.execute("SELECT hash FROM entries ORDER BY seq DESC LIMIT 1").fetchone()
        return row[0] if row else GENESIS

    def personal_blobs_before(self, cutoff: str) -> list[str]:
        rows = self._db.execute(
            "SELECT DISTINCT b.sha256 FROM entries e JOIN blobs b ON instr(e.refs, b.sha256) > 0 "
            "WHERE e.type = 'decision' AND e.recorded_at < ? AND b.kind = 'personal' AND b.content IS NOT NULL",
            (cutoff,)).fetchall()
        return sorted(r[0] for r in rows)

    # --- verifying ----------------------------------------------------------------------

    def verify(self, head: Optional[str] = None) -> "Verification":
        """Check every entry's link and hash and every blob's content; stop at the first break.

        The loop is the hot path of auditing a large ledger (a million entries in seconds):
        columns are read as raw bytes (no text decoding), each row is hashed inline, and a
        row is examined in detail only when something is off."""
        sha256, sep = hashlib.sha256, SEPARATOR.encode()
        seq, prev, head_at = 0, GENESIS.encode(), None
        wanted = head.encode() if head is not None else None
        self._db.text_factory = bytes
        try:
            blobs = {sha for (sha,) in self._db.execute("SELECT sha256 FROM blobs")}
            erased: set[bytes] = set()
            for row in self._db.execute("SELECT seq, prev, hash, type, ref, refs, recorded_at, body FROM entries ORDER BY seq"):
                seq += 1
                number, row_prev, digest, type_, ref, refs, recorded_at, body = row
                joined = sep.join((row_prev, b"%d" % number, type_, ref, refs, recorded_at, body))
                if (number != seq or row_prev != prev or sha256(joined).hexdigest().encode() != digest
                        or not blobs.issuperset(refs.split())):
                    text_row = tuple(v.decode() if isinstance(v, bytes) else v for v in row)
                    return Verification(seq - 1, _entry_problem(text_row, seq, prev.decode(),
                                                                {b.decode(): "" for b in blobs}), number)
                if type_ == b"purge":
                    erased.update(refs.split())
                prev = digest
                if digest == wanted:
                    head_at = seq
            self._db.text_factory = str
            broken = self._blob_problem({e.decode() for e in erased})
            if broken:
                return Verification(seq, broken[1], broken[0])
        except sqlite3.DatabaseError as error:
            return Verification(seq, f"the file is damaged after entry {seq}: {error}", seq + 1)
        finally:
            self._db.text_factory = str
        last = prev.decode()
        if head is not None and head_at is None:
            return Verification(seq, f"head {head} is not in the chain (its last entry, {seq}, has hash {last}): "
                                     f"entries may have been removed from the end", seq + 1)
        return Verification(seq, None, None, last, (seq - head_at) if head_at else None)

    def _blob_problem(self, erased: set[str]) -> Optional[tuple[int, str]]:
        for sha, kind, content, erased_at in self._db.execute("SELECT sha256, kind, content, erased_at FROM blobs"):
            if content is None:
                if sha in erased and erased_at:
                    continue
                what = f"{kind} blob {sha[:12]} has no content and no purge entry erased it"
            elif hashlib.sha256(content).hexdigest() != sha:
                what = f"{kind} blob {sha[:12]} does not match its hash: its content was changed"
            else:
                continue
            user = self._db.execute("SELECT min(seq) FROM entries WHERE instr(refs, ?) > 0", (sha,)).fetchone()[0]
            return (user or 0, what)
        return None


@dataclass(frozen=True)
class Verification:
    entries: int  # entries that verified before any problem
    problem: Optional[str]
    at: Optional[int]  # the entry (seq) where the chain breaks
    head: str = GENESIS
    after_head: Optional[int] = None  # entries appended after the given head

    @property
    def ok(self) -> bool:
        return self.problem is None


def _entry_problem(row: tuple, seq: int, prev: str, blob_kinds: dict[str, str]) -> Optional[str]:
    number, row_prev, digest, type_, ref, refs, recorded_at, body = row
    if number != seq:
        return f"entry {seq} is missing (the next is {number}): entries were removed"
    if row_prev != prev:
        return f"entry {seq} does not link to entry {seq - 1}: its prev hash is not entry {seq - 1}'s hash"
    if entry_hash(row_prev, number, type_, ref, refs, recorded_at, body) != digest:
        return f"entry {seq} does not match its hash: a field of it was changed"
    missing = [sha for sha in refs.split() if sha not in blob_kinds]
    if missing:
        return f"entry {seq} rests on blob {missing[0][:12]}, which is not in the ledger"
    return None


def damaged(path: Path, error: Exception) -> DiagnosticError:
    return DiagnosticError([Diagnostic(str(path), 0, 0, "E170", f"the ledger file is damaged or not a ledger: {error}",
                                       "nothing was written to it; verify a copy, or restore it from a backup")])
