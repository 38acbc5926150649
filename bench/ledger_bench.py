"""Ledger benchmark: appends a second with 1 and 8 concurrent writers on PostgreSQL and on
SQLite, verify of 1,000,000 entries on PostgreSQL, and the batch append rate on SQLite.

Run from the repository root (it starts its own throwaway PostgreSQL server with
tests/postgres_cluster.py, so PostgreSQL's server programs must be installed):

    python bench/ledger_bench.py            # full run (a few minutes on 2 cores)
    python bench/ledger_bench.py --quick    # smoke run (smaller counts, same targets)

What it measures, each figure with its target and MET or NOT MET:

1. appends a second: each append is one `score --record` of one case (audit.record_decisions,
   one transaction, durable on commit: synchronous=FULL on SQLite, PostgreSQL's default
   synchronous_commit), by 1 writer process and by 8 concurrent writer processes, on each
   backend; afterwards every ledger must hold every append and verify;
2. verify of 1,000,000 entries on PostgreSQL (target: under 20 s): the ledger is built by
   recording real decisions and then chaining copies of their entries (correct links and
   recipe-2 hashes) with COPY;
3. batch appends on SQLite (target: at least 5,000 decisions a second): `score --record` of
   many cases, one transaction a batch.

The decisions are real: kent-2007's cases, each scored through durable-rules under as many
case ids as the run needs (scoring is not timed). This is a script, not a test: it exits 1
when a ledger loses an append or fails to verify, and 0 otherwise, whatever the timings.
"""

from __future__ import annotations

import argparse
import hashlib
import multiprocessing
import os
import platform
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # run as `python bench/ledger_bench.py` without installing
    sys.path.insert(0, str(ROOT))

import yaml  # noqa: E402

from engine import api  # noqa: E402
from engine.ledger import audit  # noqa: E402
from engine.ledger.chain import fast_chain_bytes, hash_of  # noqa: E402
from engine.ledger.store import open_store  # noqa: E402
from engine.workspace.runner import Scored, score_data  # noqa: E402

TARGET_VERIFY_SECONDS = 20.0
TARGET_BATCH_RATE = 5_000.0
WRITERS = (1, 8)


def _cluster_module():
    """tests/postgres_cluster.py (the tests folder is a package beside engine/)."""
    from tests import postgres_cluster
    return postgres_cluster


@dataclass(frozen=True)
class Sizes:
    appends_alone: int  # by the single writer
    appends_each: int  # by each of the 8 concurrent writers
    batch: int  # decisions a batch
    batches: int
    verify_entries: int


FULL = Sizes(appends_alone=80, appends_each=20, batch=500, batches=4, verify_entries=1_000_000)
QUICK = Sizes(appends_alone=16, appends_each=4, batch=100, batches=2, verify_entries=50_000)


# --- decisions to record -------------------------------------------------------------------

def scored_decisions(count: int) -> list[Scored]:
    """`count` distinct real decisions: the kent-2007 cases scored under new case ids."""
    catalog = api.load_catalog(ROOT)
    cases = [yaml.safe_load(path.read_text(encoding="utf-8"))
             for path in sorted((ROOT / "cases" / "kent-2007").glob("*.yaml"))]
    results = []
    for number in range(count):
        data = dict(cases[number % len(cases)])
        data["id"] = f"{data['id']}-bench-{number}"
        results.append(score_data(data, catalog))
    return results


# --- concurrent appends --------------------------------------------------------------------

_SHARED: list[Scored] = []  # set before forking: the writers inherit it and need not unpickle it


def _writer(location: str, first: int, count: int, start: Any) -> None:
    with open_store(location, "write", actor=f"bench writer {first}") as store:
        start.wait()
        for result in _SHARED[first:first + count]:
            audit.record_decisions(store, [result])


def appends_per_second(location: str, writers: int, each: int) -> tuple[float, int]:
    """(appends a second, entries in the ledger afterwards) with `writers` processes each
    appending `each` decisions, one transaction apiece, all starting together."""
    context = multiprocessing.get_context("fork")
    start = context.Barrier(writers + 1)
    processes = [context.Process(target=_writer, args=(location, n * each, each, start)) for n in range(writers)]
    for process in processes:
        process.start()
    start.wait()
    began = time.perf_counter()
    for process in processes:
        process.join()
    elapsed = time.perf_counter() - began
    if any(process.exitcode for process in processes):
        raise SystemExit(f"a writer failed on {location}")
    return writers * each / elapsed, writers * each


def concurrency_lines(new_location: Callable[[str], str], sizes: Sizes) -> tuple[list[str], bool]:
    lines, sound = [], True
    for backend in ("PostgreSQL", "SQLite"):
        for writers in WRITERS:
            each = sizes.appends_alone if writers == 1 else sizes.appends_each
            location = new_location(backend)
            rate, appended = appends_per_second(location, writers, each)
            with open_store(location, "verify") as store:
                verification = store.verify()
            kept = verification.entries == appended and verification.ok
            sound &= kept
            lines.append(f"{backend:<10} {writers} writer{'s' if writers > 1 else ' '}  {appended:>5,} appends  "
                         f"{rate:>8,.0f} appends/s   target: none lost, the chain verifies "
                         f"({verification.entries:,} entries): {_met(kept)}")
    return lines, sound


# --- verify of a large PostgreSQL ledger ---------------------------------------------------

def build_large(url: str, seeds: list[Scored], count: int) -> None:
    """Record the seed decisions for real, then append copies of their entries up to `count`,
    each linked to the one before and hashed by recipe 2, in one COPY. The insert trigger that
    re-checks each link in the server is switched off for this load only (superuser,
    session_replication_role): verify reads and checks every entry itself."""
    import psycopg

    with open_store(url, "write", actor="bench") as store:
        audit.record_decisions(store, seeds)
        template = list(store.entries())
    last = template[-1]
    with psycopg.connect(url) as connection:
        connection.execute("SET session_replication_role = replica")
        with connection.cursor().copy("COPY entries (seq, prev, hash, type, ref, refs, recorded_at, body, actor, host) "
                                      "FROM STDIN") as copy:
            prev = last.hash
            for chunk in _chained_rows(template, last.seq + 1, count, prev):
                copy.write(chunk)
        connection.execute("ANALYZE entries")


def _chained_rows(template: list, first: int, count: int, prev: str):
    """COPY text for entries first..count, in chunks: each a template entry's fields with its
    own seq and prev, and its recipe-2 hash. The canonical JSON is assembled around the two
    fields that change; the first row is checked against chain.fast_chain_bytes and hash_of."""
    shapes = [_shape(entry) for entry in template]
    lines: list[str] = []
    for seq in range(first, count + 1):
        entry, (head, middle, tail, row_tail) = template[seq % len(template)], shapes[seq % len(template)]
        text = b"%s%s%s%d%s" % (head, prev.encode(), middle, seq, tail)
        if seq == first:
            _check_shape(entry, seq, prev, text)
        digest = hashlib.sha256(text).hexdigest()
        lines.append(f"{seq}\t{prev}\t{digest}\t{row_tail}\n")
        prev = digest
        if len(lines) == 50_000:
            yield "".join(lines).encode()
            lines = []
    if lines:
        yield "".join(lines).encode()


def _shape(entry) -> tuple[bytes, bytes, bytes, str]:
    """The canonical JSON of an entry cut around prev and seq, and its COPY columns after hash."""
    marker_prev, marker_seq = "PREVMARKER", 987654321987  # plain ASCII: JSON writes both as they are
    whole = fast_chain_bytes(marker_seq, marker_prev, entry.type, entry.ref, list(entry.refs), entry.recorded_at,
                             entry.body, entry.actor, entry.host)
    head, rest = whole.split(marker_prev.encode(), 1)
    middle, tail = rest.split(b"%d" % marker_seq, 1)
    columns = (entry.type, entry.ref, " ".join(entry.refs), entry.recorded_at, entry.body, entry.actor, entry.host)
    return head, middle, tail, "\t".join(_copy_text(value) for value in columns)


def _copy_text(value: str) -> str:
    return value.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n").replace("\r", "\\r")


def _check_shape(entry, seq: int, prev: str, text: bytes) -> None:
    expected = fast_chain_bytes(seq, prev, entry.type, entry.ref, list(entry.refs), entry.recorded_at, entry.body,
                                entry.actor, entry.host)
    rebuilt = type(entry)(seq, prev, hashlib.sha256(text).hexdigest(), entry.type, entry.ref, entry.refs,
                          entry.recorded_at, entry.body, entry.actor, entry.host)
    if text != expected or hash_of(rebuilt) != rebuilt.hash:
        raise SystemExit("the generated rows are not hashed by the chain's recipe")


def verify_line(url: str, seeds: list[Scored], count: int) -> tuple[str, bool]:
    began = time.perf_counter()
    build_large(url, seeds, count)
    built = time.perf_counter() - began
    with open_store(url, "verify") as store:
        began = time.perf_counter()
        verification = store.verify()
        elapsed = time.perf_counter() - began
    sound = verification.ok and verification.entries == count
    return (f"PostgreSQL verify: {count:,} entries in {elapsed:.1f} s "
            f"({'ok' if sound else verification.problem}; built in {built:.0f} s)   "
            f"target < {TARGET_VERIFY_SECONDS:.0f} s: {_met(elapsed < TARGET_VERIFY_SECONDS)}"), sound


# --- batch appends on SQLite ---------------------------------------------------------------

def batch_line(path: Path, results: list[Scored], batch: int) -> tuple[str, bool]:
    with open_store(path, "write", actor="bench") as store:
        began = time.perf_counter()
        for first in range(0, len(results), batch):
            audit.record_decisions(store, results[first:first + batch])
        elapsed = time.perf_counter() - began
        verification = store.verify()
    rate = len(results) / elapsed
    sound = verification.ok and verification.entries == len(results)
    return (f"SQLite batch append: {len(results):,} decisions in {len(results) // batch} transactions of {batch} "
            f"in {elapsed:.2f} s = {rate:,.0f} decisions/s ({'all kept, verified' if sound else 'LOST OR BROKEN'})   "
            f"target >= {TARGET_BATCH_RATE:,.0f}/s: {_met(rate >= TARGET_BATCH_RATE)}"), sound


def _met(held: bool) -> str:
    return "MET" if held else "NOT MET"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="a short smoke run: smaller counts")
    sizes = QUICK if parser.parse_args(argv).quick else FULL
    pg = _cluster_module()
    print(f"Arbiter ledger benchmark{' (--quick)' if sizes is QUICK else ''}: Python {platform.python_version()}, "
          f"{os.cpu_count()} cores")
    began = time.perf_counter()
    needed = max(sizes.appends_alone, 8 * sizes.appends_each, sizes.batch * sizes.batches)
    _SHARED[:] = scored_decisions(needed)
    print(f"scored {needed:,} distinct decisions to record in {time.perf_counter() - began:.0f} s (not timed below)")
    with tempfile.TemporaryDirectory(prefix="arbiter-ledger-bench-") as folder:
        cluster = pg.start(pg.cluster_folder())
        try:
            _durable(cluster)
            pg.prepare_template(cluster)
            print(f"PostgreSQL {_server_version(cluster)} (throwaway server, default synchronous_commit); "
                  "SQLite synchronous=FULL")
            files = iter(range(1_000))

            def new_location(backend: str) -> str:
                if backend == "PostgreSQL":
                    return cluster.url_for(pg.create_database(cluster))
                return str(Path(folder) / f"ledger-{next(files)}.sqlite")

            lines, sound = concurrency_lines(new_location, sizes)
            print("\n".join(lines))
            line, kept = batch_line(Path(folder) / "batch.sqlite", _SHARED[:sizes.batch * sizes.batches], sizes.batch)
            print(line)
            sound &= kept
            line, kept = verify_line(new_location("PostgreSQL"), _SHARED[:6], sizes.verify_entries)
            print(line)
            sound &= kept
            load = os.getloadavg()
            print("load average (1, 5, 15 min) at the end: " + ", ".join(f"{n:.1f}" for n in load)
                  + f" on {os.cpu_count()} cores"
                  + (" (above the number of cores: other jobs were slowing these figures)"
                     if load[0] > (os.cpu_count() or 1) else ""))
        finally:
            cluster.stop()
            pg.remove_folder(cluster.folder)
    return 0 if sound else 1


def _durable(cluster) -> None:
    """The test server runs without fsync (throwaway data); appends are timed as a team's
    server makes them, flushed to disk at each commit."""
    import psycopg
    with psycopg.connect(cluster.url, autocommit=True) as connection:
        connection.execute("ALTER SYSTEM SET fsync = on")
        connection.execute("ALTER SYSTEM SET full_page_writes = on")
    cluster.restart()
    with psycopg.connect(cluster.url) as connection:
        settings = {name: connection.execute(f"SHOW {name}").fetchone()[0]
                    for name in ("fsync", "synchronous_commit")}
    if settings != {"fsync": "on", "synchronous_commit": "on"}:
        raise SystemExit(f"the server is not durable: {settings}")


def _server_version(cluster) -> str:
    import psycopg
    with psycopg.connect(cluster.url) as connection:
        return connection.execute("SHOW server_version").fetchone()[0].split()[0]


if __name__ == "__main__":
    sys.exit(main())
