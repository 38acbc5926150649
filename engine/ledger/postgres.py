"""The decision ledger on a PostgreSQL server: the same store as the SQLite file (ledger.py),
for a team whose assessors record from several machines at once.

The tables, the chain and every check are the SQLite ledger's (schema 2: meta, entries,
blobs; chain.py's recipe). What differs is who guards them:

- The schema and the roles are created once by `arbiter ledger init --postgres`
  (postgres_schema.sql); opening never creates anything, so a database without the schema
  is refused (E170) rather than turned into a ledger.
- Appends are totally ordered by one transaction-level advisory lock (LOCK_KEY), taken
  first in every write transaction and by the purge function: the head an append builds
  on cannot change until it commits, so the chain never forks, whichever machine writes.
- The server, not this client, refuses changes: the writer role may only INSERT, triggers
  refuse UPDATE and DELETE, and only the purge function (arbiter_purge) erases personal
  data, recording the erasure in the chain in the same transaction.
- A lost connection (server restarted, connection killed) rolls the open transaction back
  on the server: each call is wholly recorded or not at all, and is reported as E170 with
  the advice to run the command again (a decision already recorded is not recorded twice).

Opening checks what the server can tell cheaply: the tables and their columns, the schema
version in meta, and the last entry with its link and blobs. `verify` reads every entry
through a server-side cursor in large batches and hashes each row inline, and checks every
blob against its hash, its role and its purge, as the SQLite ledger's verify does (there is
no page-level check: the server owns its files).
"""

from __future__ import annotations

import concurrent.futures
import contextlib
import itertools
import urllib.parse
from typing import Callable, Iterator, Optional

import psycopg

from ..language.diagnostics import Diagnostic, DiagnosticError
from .chain import FORMAT, GENESIS, LEGACY_FORMATS, Entry, current_actor, current_host, entry_hash, hash_of
# The SQLite ledger's checks of the chain, one entry and one blob: both stores say the same.
from .ledger import ChainWalk, SharedQueries, Verification, _blob_mismatch, blob_roles, now

# The advisory lock every append transaction takes first, and postgres_schema.sql's
# arbiter_purge() too: the eight bytes "arbiter" 0x01 read as a big-endian integer.
LOCK_KEY = 7021782974087918081
TABLES = {"meta": ("key", "value"),
          "entries": ("seq", "prev", "hash", "type", "ref", "refs", "recorded_at", "body", "actor", "host"),
          "blobs": ("sha256", "kind", "content", "erased_at")}
_ENTRY_COLUMNS = ", ".join(TABLES["entries"])
# The case a decision entry's body names, read from its text as the SQLite store reads it
# (ledger.CASE_IN_BODY says why that is the case): what follows its first '"case":"' up to the
# next quote.
_CASE_IN_BODY = """split_part(substr(body, strpos(body, '"case":"') + 8), '"', 1)"""
BATCH = 20_000  # rows per round trip of verify's server-side cursors
RETRY_HINT = ("nothing of this call was recorded, or all of it: run the same command again; a decision already "
              "recorded is not recorded twice")


def masked(url: str) -> str:
    """The URL with its password (in the user part or a password= parameter) replaced by ***."""
    parts = urllib.parse.urlsplit(url)
    netloc = parts.netloc
    if "@" in netloc:
        user, _, host = netloc.rpartition("@")
        if ":" in user:
            netloc = f"{user.split(':', 1)[0]}:***@{host}"
    query = "&".join(f"{key}=***" if key.lower() == "password" else piece
                     for piece in parts.query.split("&") if piece
                     for key in [piece.split("=", 1)[0]]) if parts.query else ""
    return urllib.parse.urlunsplit((parts.scheme, netloc, parts.path, query, parts.fragment))


def _entry(row: tuple) -> Entry:
    seq, prev, digest, type_, ref, refs, recorded_at, body, actor, host = row
    return Entry(seq, prev, digest, type_, ref, tuple(refs.split()), recorded_at, body, actor, host)


class PostgresLedger(SharedQueries):
    """One ledger in a PostgreSQL database. Use `open_for_writing`, `open_existing_for_writing`,
    `open_for_reading` or `open_for_verifying`; each checks the database first."""

    PLACEHOLDER = "%s"
    CONTAINS = "strpos"
    _columns = _ENTRY_COLUMNS
    _entry_of = staticmethod(_entry)

    def __init__(self, url: str, connection: psycopg.Connection, actor: Optional[str] = None):
        self.url = url
        self.path = masked(url)
        self.place = f"--ledger {self.path}"
        self.actor = current_actor(actor)
        self.host = current_host()
        self._db = connection
        self._writing = False
        self._tip: Optional[tuple[int, str]] = None  # (seq, hash) of the last entry, inside a write transaction

    # --- opening ------------------------------------------------------------------------

    @classmethod
    def open_for_writing(cls, url: str, actor: Optional[str] = None) -> "PostgresLedger":
        """For recording. A server ledger is never started here: `arbiter ledger init
        --postgres` creates its schema and roles once, as the database's owner."""
        return cls._open(url, check_tip=True, actor=actor)

    @classmethod
    def open_existing_for_writing(cls, url: str, actor: Optional[str] = None) -> "PostgresLedger":
        return cls._open(url, check_tip=True, actor=actor)

    @classmethod
    def open_for_reading(cls, url: str) -> "PostgresLedger":
        return cls._open(url, check_tip=True)

    @classmethod
    def open_for_verifying(cls, url: str) -> "PostgresLedger":
        """Like open_for_reading, but a broken last entry is left to `verify` to report."""
        return cls._open(url, check_tip=False)

    @classmethod
    def _open(cls, url: str, check_tip: bool, actor: Optional[str] = None) -> "PostgresLedger":
        try:
            connection = psycopg.connect(url, autocommit=True, connect_timeout=10,
                                         application_name="arbiter")
        except psycopg.Error as error:
            raise unreachable(url, error) from None
        ledger = cls(url, connection, actor)
        try:
            with ledger._server_errors():
                ledger._check_on_open(check_tip)
        except BaseException:
            ledger.close()
            raise
        return ledger

    def _check_on_open(self, check_tip: bool) -> None:
        with self._db.transaction():  # one snapshot: the tables, meta and last entry agree
            self._db.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY")
            self._check_tables()
            self._check_meta()
            if check_tip:
                self._check_last_entry()

    def _check_tables(self) -> None:
        rows = self._db.execute(
            "SELECT table_name, column_name FROM information_schema.columns WHERE table_schema = 'public' "
            "AND table_name = ANY(%s) ORDER BY table_name, ordinal_position", (list(TABLES),)).fetchall()
        found: dict[str, set[str]] = {}
        for table, column in rows:
            found.setdefault(table, set()).add(column)
        if not found:
            raise DiagnosticError([Diagnostic(self.place, 0, 0, "E170",
                                              "not an Arbiter ledger: the database holds no ledger tables",
                                              f"create the schema and roles once with: arbiter ledger init "
                                              f"--postgres --ledger {self.path}")])
        differences = [f"table {t} missing" for t in TABLES if t not in found]
        differences += [f"column {t}.{c} missing" for t, columns in TABLES.items() if t in found
                        for c in columns if c not in found[t]]
        differences += [f"column {t}.{c} added" for t, columns in found.items() for c in sorted(columns - set(TABLES[t]))]
        if differences:
            raise self._damaged(f"its schema is not a ledger's: {', '.join(differences)}")

    def _check_meta(self) -> None:
        meta = dict(self._db.execute("SELECT key, value FROM meta").fetchall())
        found = meta.get("format")
        if found in LEGACY_FORMATS:
            raise DiagnosticError([Diagnostic(self.place, 0, 0, "E170",
                                              f"written by an earlier release (schema {LEGACY_FORMATS[found]})",
                                              f"run: arbiter ledger upgrade --ledger {self.path}")])
        if found != FORMAT:
            raise DiagnosticError([Diagnostic(self.place, 0, 0, "E170",
                                              f"not an Arbiter ledger (format {found or 'missing'})",
                                              f"expected {FORMAT}; create the schema with: arbiter ledger init "
                                              f"--postgres --ledger {self.path}")])
        extra = sorted(set(meta) - {"format"})
        if extra:
            raise self._damaged(f"its meta table holds {', '.join(map(repr, extra))}, which a ledger never writes")

    def _check_last_entry(self) -> None:
        row = self._db.execute(f"SELECT {_ENTRY_COLUMNS} FROM entries ORDER BY seq DESC LIMIT 1").fetchone()
        problem = self.entry_problem(_entry(row)) if row else None
        if problem:
            raise self._damaged(f"its last entry is broken: {problem}", "nothing was written to it; run arbiter verify")

    def _damaged(self, what: str, hint: str = "nothing was written to it; verify it, or restore it from a backup"
                 ) -> DiagnosticError:
        return DiagnosticError([Diagnostic(self.place, 0, 0, "E170", f"the ledger is damaged: {what}", hint)])

    def schema_version(self) -> int:
        found = self._rows("SELECT value FROM meta WHERE key = 'format'")
        value = found[0][0] if found else None
        return LEGACY_FORMATS.get(value, 2 if value == FORMAT else 0)

    def close(self) -> None:
        self._db.close()

    def __enter__(self) -> "PostgresLedger":
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()

    @contextlib.contextmanager
    def _server_errors(self) -> Iterator[None]:
        """The server's refusals and a lost connection as diagnostics, never a traceback."""
        try:
            yield
        except (psycopg.OperationalError, psycopg.InterfaceError) as error:
            raise lost(self.url, error) from None
        except psycopg.Error as error:
            raise refused(self.url, error) from None

    # --- writing ------------------------------------------------------------------------

    def append(self, type_: str, ref: str, body: str, blobs: list[tuple[str, str, bytes]]) -> Entry:
        """Store blobs (kind, sha256, content) and one entry, in one transaction."""
        with self.transaction():
            return self.add(type_, ref, body, blobs)

    @contextlib.contextmanager
    def transaction(self) -> Iterator[None]:
        """One write transaction: every entry `add`ed inside it is committed together, or,
        when anything fails, none is. It takes the ledger's advisory lock first, so the
        head it reads cannot change before it commits."""
        with self._server_errors():
            with self._db.transaction():
                self._db.execute("SELECT pg_advisory_xact_lock(%s)", (LOCK_KEY,))
                self._writing, self._tip = True, None
                try:
                    yield
                finally:
                    self._writing, self._tip = False, None

    def add(self, type_: str, ref: str, body: str, blobs: list[tuple[str, str, bytes]]) -> Entry:
        """Store blobs and one entry inside the open `transaction`."""
        if not self._writing:
            raise RuntimeError("PostgresLedger.add outside a transaction")
        kinds = tuple(kind for kind, _, _ in blobs)
        if kinds != blob_roles(type_, len(blobs)):  # the order of refs is what puts kinds in the chain
            raise ValueError(f"a {type_} entry cannot rest on blobs of kinds {kinds}")
        if blobs:
            with self._db.cursor() as cursor:
                cursor.executemany("INSERT INTO blobs (sha256, kind, content) VALUES (%s, %s, %s) "
                                   "ON CONFLICT (sha256) DO NOTHING", [(sha, kind, content) for kind, sha, content in blobs])
        seq, prev = self._next()
        refs = tuple(sha for _, sha, _ in blobs)
        recorded_at = now()
        digest = entry_hash(seq, prev, type_, ref, refs, recorded_at, body, self.actor, self.host)
        entry = Entry(seq, prev, digest, type_, ref, refs, recorded_at, body, self.actor, self.host)
        self._insert(entry)
        return entry

    def _next(self) -> tuple[int, str]:
        """The next entry's number and the hash it links to: read once per write transaction
        (under the advisory lock no other writer appends until it commits), then kept."""
        if self._tip is None:
            last = self._db.execute("SELECT seq, hash FROM entries ORDER BY seq DESC LIMIT 1").fetchone()
            self._tip = (last[0], last[1]) if last else (0, GENESIS)
        return self._tip[0] + 1, self._tip[1]

    def _insert(self, entry: Entry) -> None:
        self._db.execute(f"INSERT INTO entries ({_ENTRY_COLUMNS}) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s)",
                         (entry.seq, entry.prev, entry.hash, entry.type, entry.ref, " ".join(entry.refs),
                          entry.recorded_at, entry.body, entry.actor, entry.host))
        self._tip = (entry.seq, entry.hash)

    def copy_in(self, entry: Entry, blobs: list[tuple[str, str, Optional[bytes], Optional[str]]]) -> Entry:
        """Store an entry exactly as another ledger holds it (its number, link, hash, time and
        author) with its blobs (kind, sha256, content or None when erased, erased_at), inside
        the open `transaction`; ValueError when it does not extend this chain."""
        if not self._writing:
            raise RuntimeError("PostgresLedger.copy_in outside a transaction")
        seq, prev = self._next()
        if entry.seq != seq:
            raise ValueError(f"entry {entry.seq} cannot follow entry {seq - 1}: the next entry here is {seq}")
        if entry.prev != prev:
            raise ValueError(f"entry {entry.seq} does not link to this ledger's head {prev}")
        if hash_of(entry) != entry.hash:
            raise ValueError(f"entry {entry.seq} does not match its hash: a field of it was changed")
        if blobs:
            with self._db.cursor() as cursor:
                cursor.executemany("INSERT INTO blobs (sha256, kind, content, erased_at) VALUES (%s, %s, %s, %s) "
                                   "ON CONFLICT (sha256) DO NOTHING", [(sha, kind, content, erased_at)
                                                                       for kind, sha, content, erased_at in blobs])
        self._insert(entry)
        return entry

    def erase_personal(self, shas: list[str], body_for: Callable[[str, list[str]], str]) -> Optional[Entry]:
        """Erase personal-data blobs and record the erasure in the chain, atomically, through
        the database's purge function (the only way a blob is ever changed). Only blobs stored
        as personal data and not yet erased are erased, and the purge entry lists exactly
        those; body_for(timestamp, erased) gives its body."""
        if not shas:
            return None
        with self.transaction():  # the lock holds the erasable set still until the function runs
            rows = self._db.execute("SELECT sha256 FROM blobs WHERE sha256 = ANY(%s) AND kind = 'personal' "
                                    "AND content IS NOT NULL", (list(shas),)).fetchall()
            erasable = {sha for (sha,) in rows}
            wanted = [sha for sha in shas if sha in erasable]
            if not wanted:  # another purge erased them meanwhile
                return None
            stamp = now()
            body = body_for(stamp, wanted)
            done = self._db.execute("SELECT seq, hash, erased FROM arbiter_purge(%s, %s, %s, %s, %s)",
                                    (wanted, stamp, body, self.actor, self.host)).fetchone()
            if done is None:
                return None
            seq, digest, erased = done
            row = self._db.execute(f"SELECT {_ENTRY_COLUMNS} FROM entries WHERE seq = %s", (seq,)).fetchone()
        entry = _entry(row)
        if entry.hash != digest or list(entry.refs) != list(erased):
            raise self._damaged(f"the purge function recorded entry {seq} differently from what it returned")
        return entry

    # --- reading ------------------------------------------------------------------------

    def entries(self) -> Iterator[Entry]:
        return self._pages("type <> ''", ())  # every entry: type is never empty

    def decisions_about(self, cases: list[str], newest_first: bool = False) -> Iterator[Entry]:
        """Each decision entry whose body names one of these cases (each as the body's text
        spells it up to any quote), in order (or newest first, so that a caller may stop early):
        the server reads the case from the body's text as SQLite's store does (CASE_IN_BODY) and
        looks it up in the list, so any number of cases costs one pass; callers check each entry
        on its parsed body."""
        return self._pages(f"type = 'decision' AND {_CASE_IN_BODY} = ANY(%s)", (list(cases),), newest_first)

    def _pages(self, condition: str, parameters: tuple, newest_first: bool = False) -> Iterator[Entry]:
        """The entries meeting a condition, a page at a time, each page a query of its own after
        the last entry seen: no transaction stays open between pages (a caller may stop early,
        or write in between), and since entries are only ever appended, the pages join into
        one consistent run."""
        after, order, step = ("<", "DESC", 1_000) if newest_first else (">", "", BATCH)
        last: Optional[int] = None
        while True:
            bound = f" AND seq {after} %s" if last is not None else ""
            rows = self._rows(f"SELECT {_ENTRY_COLUMNS} FROM entries WHERE {condition}{bound} "
                              f"ORDER BY seq {order} LIMIT {step}", parameters + ((last,) if last is not None else ()))
            yield from map(_entry, rows)
            if len(rows) < step:
                return
            last = rows[-1][0]

    def overrides_of(self, decision_id: str) -> list[Entry]:
        return [_entry(row) for row in self._rows(
            f"SELECT {_ENTRY_COLUMNS} FROM entries WHERE type = 'override' AND ref = %s ORDER BY seq", (decision_id,))]

    def _rows(self, query: str, parameters: tuple = ()) -> list[tuple]:
        with self._server_errors():
            return self._db.execute(query, parameters).fetchall()

    def _purge_of(self, sha: str) -> Optional[Entry]:
        # Purge entries have an empty ref: the index on ref finds them without reading every entry.
        rows = self._rows(f"SELECT {_ENTRY_COLUMNS} FROM entries WHERE ref = '' AND type = 'purge' "
                          "AND strpos(refs, %s) > 0 ORDER BY seq LIMIT 1", (sha,))
        return _entry(rows[0]) if rows else None

    # --- verifying ----------------------------------------------------------------------

    def verify(self, head: Optional[str] = None) -> Verification:
        """Check every entry's link and hash, and every blob against its hash, its role and its
        purge; stop at the first break. One read-only snapshot, so appends made meanwhile are
        not half seen."""
        with self._server_errors(), self._db.transaction():
            self._db.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY")
            # Text as the server stores it (UTF-8 bytes, undecoded), as the SQLite ledger's
            # verify reads its columns: psycopg returns text as bytes under SQL_ASCII.
            self._db.execute("SET LOCAL client_encoding = 'SQL_ASCII'")
            return self._verify_snapshot(head)

    def _verify_snapshot(self, head: Optional[str]) -> Verification:
        """The hot path of auditing a large ledger (a million entries in seconds): rows come in
        large batches of a server-side cursor, as raw bytes; each is hashed inline by its recipe
        (recipe 2 through chain.recipe_2_bytes), and a row is examined in detail only when
        something is off."""
        walk = ChainWalk(head)
        blobs = {sha for (sha,) in self._db.execute("SELECT sha256 FROM blobs")}
        with self._db.cursor(name="arbiter_verify") as cursor, _prefetching(cursor) as rows:
            cursor.execute(f"SELECT {_ENTRY_COLUMNS} FROM entries ORDER BY seq")
            broken = walk.through(rows, blobs)
        return broken or self.verified(walk, head)

    def _blob_problem(self, held: dict[bytes, set[bytes]], erased: dict[bytes, bytes]
                      ) -> Optional[tuple[Optional[int], str]]:
        """The first blob that does not match what the chain says of it, and the first entry
        resting on it."""
        with self._db.cursor(name="arbiter_blobs", binary=True) as cursor:  # binary: bytea without unescaping
            cursor.itersize = BATCH
            cursor.execute("SELECT sha256, kind, content, erased_at FROM blobs")
            for sha, kind, content, erased_at in cursor:
                role = kind if sha in held.get(kind, ()) else next((k for k, shas in held.items() if sha in shas), None)
                what = _blob_mismatch(sha, kind, content, erased_at, role, erased.get(sha))
                if what:
                    return (self._first_entry_resting_on(sha), what)
        return None


@contextlib.contextmanager
def _prefetching(cursor: psycopg.ServerCursor) -> Iterator[Iterator[tuple]]:
    """The rows of a server-side cursor, BATCH at a time, the next batch fetched by a helper
    thread while the caller checks this one: the server reads and sends rows while the client
    hashes (the driver waits for the server without holding the interpreter's lock). On leaving,
    the fetch under way is waited for, so the cursor is never used by two threads at once."""
    with concurrent.futures.ThreadPoolExecutor(1, thread_name_prefix="arbiter-verify") as helper:
        def batches() -> Iterator[list[tuple]]:
            pending = helper.submit(cursor.fetchmany, BATCH)
            while rows := pending.result():
                pending = helper.submit(cursor.fetchmany, BATCH)
                yield rows
        yield itertools.chain.from_iterable(batches())


# --- diagnostics ------------------------------------------------------------------------

def _reason(url: str, error: Exception) -> str:
    """The server's or the driver's words, first line, with any password masked."""
    text = (str(error).strip().splitlines() or [type(error).__name__])[0]
    password = urllib.parse.urlsplit(url).password
    return text.replace(password, "***") if password else text


def unreachable(url: str, error: Exception) -> DiagnosticError:
    """Connecting failed: a wrong address, password or database, or no server there."""
    return DiagnosticError([Diagnostic(f"--ledger {masked(url)}", 0, 0, "E170",
                                       f"cannot connect to the PostgreSQL ledger: {_reason(url, error)}",
                                       "check the server's address, the user, the password and the database name "
                                       "in the URL; nothing was recorded")])


def lost(url: str, error: Exception) -> DiagnosticError:
    """The connection broke during a call (a server restarted, a connection killed)."""
    return DiagnosticError([Diagnostic(f"--ledger {masked(url)}", 0, 0, "E170",
                                       f"the PostgreSQL server stopped answering: {_reason(url, error)}", RETRY_HINT)])


def refused(url: str, error: Exception) -> DiagnosticError:
    """The server refused a statement: a role without the right, or a trigger guarding the chain."""
    return DiagnosticError([Diagnostic(f"--ledger {masked(url)}", 0, 0, "E170",
                                       f"the PostgreSQL server refused: {_reason(url, error)}",
                                       "nothing of this call was recorded; a role without the right (see arbiter "
                                       "ledger init --postgres) cannot do this")])
