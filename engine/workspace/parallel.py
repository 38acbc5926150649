"""Scoring and testing spread over processes (`--jobs N`): the same results, in the same
order, with the same problems, as in one process.

How the files are shared out. The files are cut into chunks, in their order, and each chunk
is read, checked and decided in a worker process by the functions a run in one process uses
(`runner.read_each`, `runner.decide_read`). A file's result can rest on the other files of a
run in two ways only, and files tied that way are decided again in this process, together
and in their order, exactly as one process decides them:

- decision graphs (`inspections/graph.py`): a case that takes a sub-area grade from another
  decision (`decision:`, or `decision_id:`, looked up in the ledger, which only this process
  opens), a case that another case of the run takes a grade from, and cases sharing an id
  (a run decides each case id once);
- packs whose selection, compliance or hearing file is in the run too (the run decides each
  such file once, and the pack rests on that decision).

Every other file rests on nothing else in the run, so what a worker decides for it is what
one process would. Its result comes back as data: the records, the expectation, and what
renders the explanation; the loaded evidence a ledger records (`Scored.source`) comes back
only when asked for (`sources=True`), since copying it between processes costs more than
deciding it. Recording stays in the calling process.

Processes. Workers are forked from this process where the platform has fork (Linux), and
spawned elsewhere. durable-rules keeps its state in C globals and one host per process:
a forked child forgets its parent's host (`runtime/durable.py`), and a spawned one starts
without one, so each worker registers the rulesets it uses in a host of its own and no
session or ruleset is shared between processes (what a fork copies of this process's host,
its rulesets and any session it keeps, is never touched in a worker). A fork pool starts
every worker before it starts any thread of its own, so nothing is forked mid-way through
another thread's work. A worker
that dies (a crash inside the C core) fails the run with EngineError, never a partial result.
The process pool's modules are imported only by a run that starts one: a run in one process
(`--jobs 1`, or a single file) loads none of them.
"""

from __future__ import annotations

import os
import re
from collections import Counter
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Optional

from ..inspections.cases import LoadedCase
from ..inspections.graph import RecordedInput, case_links, input_links
from ..language.catalog import Catalog
from ..language.diagnostics import Diagnostic
from ..language.options import option_error
from ..runtime.durable import EngineError
from . import runner
from .runner import APPOINTMENT_EVIDENCE_KINDS, Scored, TestResult

if TYPE_CHECKING:
    from concurrent.futures import ProcessPoolExecutor

AUTO = "auto"  # --jobs auto: as many processes as this process may run on at once
EXPLAIN_MODES = ("off", "fails", "full")
CHUNKS_PER_JOB = 4  # more chunks than processes keeps every process busy to the end, and a progress bar moving

Progress = Callable[[int, int], None]  # (files done, files in all)
ScoredFile = tuple[Path, Optional[Scored], list[Diagnostic]]


# --- the option ------------------------------------------------------------------------------

def parse_jobs(text: str) -> int:
    """--jobs as given: a whole number of processes, 1 or more, or `auto` (the cores this
    process may use); anything else is E174 at the option."""
    written = text.strip()
    if written.lower() == AUTO:
        return available_cores()
    if not _WHOLE_NUMBER.fullmatch(written) or int(written) < 1:
        raise option_error("--jobs", f"{text[:40]!r} is not a number of processes",
                           f"give a whole number, 1 or more (e.g. --jobs 2), or --jobs {AUTO} for one per core")
    return int(written)


_WHOLE_NUMBER = re.compile(r"[0-9]{1,9}")  # ASCII digits only: int() would take '٣' and '1_000'


def check_jobs(jobs: int) -> None:
    """A number of processes handed over in code: a whole number, 1 or more."""
    if type(jobs) is not int or jobs < 1:
        raise option_error("--jobs", f"{jobs!r} is not a number of processes", "give --jobs 1 or more")


def available_cores() -> int:
    try:
        return len(os.sched_getaffinity(0)) or 1
    except AttributeError:  # no affinity on this platform
        return os.cpu_count() or 1


# --- what ties a file to the rest of a run ---------------------------------------------------

@dataclass(frozen=True)
class Ties:
    """What a file's result may rest on in the rest of its run (see the module's docstring)."""

    case_id: Optional[str] = None  # a case's id
    takes_from: tuple[str, ...] = ()  # the case ids it takes sub-area grades from (decision:)
    linked: bool = False  # it takes a sub-area grade from a decision, in the run or recorded
    evidence: Optional[str] = None  # appointment evidence scored: its file, as a real path
    pack_inputs: tuple[str, ...] = ()  # a pack: its evidence files, as real paths


def ties_of(path: Path, item: Any) -> Ties:
    """The ties of one file as `runner.read_each` read it."""
    if isinstance(item, LoadedCase):
        return Ties(case_id=item.case.id, takes_from=tuple(target for _, target in case_links(item.case)),
                    linked=bool(input_links(item.case)))
    if runner.is_pack(item):
        return Ties(pack_inputs=tuple(runner.file_key(file) for file, _ in item.inputs.values()))
    if isinstance(item, Scored):
        return Ties(evidence=runner.file_key(path))
    return Ties()  # it could not be read: it rests on nothing


def tied(ties: list[Ties]) -> list[int]:
    """The positions of the files whose results rest on another file of the run, or which
    another file's result rests on."""
    ids = Counter(t.case_id for t in ties if t.case_id is not None)
    taken = {target for t in ties for target in t.takes_from}
    evidence = {t.evidence for t in ties if t.evidence is not None}
    in_packs = {file for t in ties for file in t.pack_inputs if file in evidence}
    return [index for index, t in enumerate(ties)
            if t.linked or (t.case_id is not None and (ids[t.case_id] > 1 or t.case_id in taken))
            or any(file in evidence for file in t.pack_inputs) or t.evidence in in_packs]


# --- score -------------------------------------------------------------------------------------

def score_each(paths: list[Path], catalog: Catalog, jobs: int, recorded: Optional[RecordedInput] = None,
               progress: Optional[Progress] = None, sources: bool = True) -> list[ScoredFile]:
    """As `runner.score_each`, over jobs processes."""
    check_jobs(jobs)
    if _processes(jobs, paths) == 1:
        return runner.score_each(paths, catalog, recorded)
    done = _in_processes(_score_chunk, paths, catalog, jobs, progress, sources)
    results: list[ScoredFile] = [(path, result, problems) for path, (result, problems, _) in zip(paths, done)]
    again = tied([ties for _, _, ties in done])
    for index, redone in zip(again, runner.score_each([paths[i] for i in again], catalog, recorded)):
        results[index] = redone
    return results


def score_paths(paths: list[Path], catalog: Catalog, jobs: int, recorded: Optional[RecordedInput] = None,
                progress: Optional[Progress] = None, sources: bool = True) -> tuple[list[Scored], list[Diagnostic]]:
    """As `runner.score_paths`, over jobs processes."""
    return runner.gather_scored(score_each(runner.case_files(paths), catalog, jobs, recorded, progress, sources))


def _score_chunk(paths: list[Path], sources: bool) -> list[tuple[Optional[Scored], list[Diagnostic], Ties]]:
    """In a worker: a chunk of files read and decided as one process decides them, and the ties
    of each (a file tied to another is decided again by the caller, with the whole run)."""
    catalog = _worker_catalog()
    read = runner.read_each(paths, catalog)
    scored = runner.decide_read(read, catalog)
    return [(_portable(result, sources) if result else None, problems, ties_of(path, item))
            for (path, item, _), (_, result, problems) in zip(read, scored)]


@dataclass(frozen=True)
class Rendered:
    """An explanation rendered in every mode, for a result sent without the evidence its
    renderer reads (appointment evidence): what `Scored.render` would return."""

    texts: tuple[tuple[str, bool, str], ...]  # (mode, markdown, text)

    @classmethod
    def of(cls, result: Scored) -> "Rendered":
        return cls(tuple((mode, markdown, result.render(mode, markdown))
                         for mode in EXPLAIN_MODES for markdown in (False, True)))

    def __call__(self, mode: str, markdown: bool = False) -> str:
        for each_mode, each_markdown, text in self.texts:
            if (each_mode, each_markdown) == (mode, bool(markdown)):
                return text
        raise ValueError(f"no explanation mode {mode!r}; the modes are {', '.join(EXPLAIN_MODES)}")


def _portable(result: Scored, sources: bool) -> Scored:
    """A result to send to another process: with its source only when asked for. Cases and
    packs render from their records alone; appointment evidence renders from the evidence,
    so without it the explanation goes rendered."""
    inputs = tuple(_portable(each, sources) for each in result.inputs)
    if sources:
        return replace(result, inputs=inputs)
    render = Rendered.of(result) if result.kind in APPOINTMENT_EVIDENCE_KINDS else result.render
    return replace(result, render=render, source=None, inputs=inputs)


# --- test --------------------------------------------------------------------------------------

def run_tests(paths: list[Path], catalog: Catalog, jobs: int, update: bool = False,
              progress: Optional[Progress] = None) -> list[TestResult]:
    """As `runner.run_tests`, over jobs processes."""
    check_jobs(jobs)
    tests = runner.files_to_test(paths)
    if _processes(jobs, tests) == 1:
        return runner.run_test_files(tests, catalog, update)
    done = _in_processes(_test_chunk, tests, catalog, jobs, progress, update)
    results = [result for result, _ in done]
    again = tied([ties for _, ties in done])
    for index, (path, result, problems) in zip(again, runner.score_each([tests[i] for i in again], catalog)):
        results[index] = runner.result_of_test(path, result, problems, catalog, update)
    return results


def _test_chunk(paths: list[Path], update: bool) -> list[tuple[TestResult, Ties]]:
    """In a worker: each file of a chunk run as `runner.run_tests` runs it, with its ties."""
    catalog = _worker_catalog()
    cases = [path for path in paths if "invalid" not in path.parts]
    read = runner.read_each(cases, catalog)
    scored = {path: (result, problems, ties_of(path, item))
              for (path, item, _), (_, result, problems) in zip(read, runner.decide_read(read, catalog))}
    found = []
    for path in paths:
        result, problems, ties = scored.get(path, (None, [], Ties()))
        found.append((runner.result_of_test(path, result, problems, catalog, update), ties))
    return found


# --- the processes -----------------------------------------------------------------------------

_CATALOG: Optional[Catalog] = None  # in a worker: the project it works in


def _processes(jobs: int, paths: list[Path]) -> int:
    """No more processes than files: a run of one file is decided here."""
    return max(1, min(jobs, len(paths)))


def cut_in_chunks(items: list, jobs: int) -> list[list]:
    """Items cut into about CHUNKS_PER_JOB runs a process, in their order."""
    size = max(1, -(-len(items) // (jobs * CHUNKS_PER_JOB)))
    return [items[i:i + size] for i in range(0, len(items), size)]


def _in_processes(work: Callable[..., list], paths: list[Path], catalog: Catalog, jobs: int,
                  progress: Optional[Progress], option: Any) -> list:
    """work(chunk, option) for each chunk of paths over a pool of processes; the results
    joined in the order of paths, whatever order the chunks finish in."""
    from concurrent.futures.process import BrokenProcessPool

    jobs = _processes(jobs, paths)
    chunks = cut_in_chunks(paths, jobs)
    done: list = []
    with _pool(jobs, catalog) as pool:
        futures = [pool.submit(work, chunk, option) for chunk in chunks]
        try:
            for future in futures:  # in order
                done += future.result()
                progress and progress(len(done), len(paths))
        except BrokenProcessPool:
            raise EngineError("a process scoring files ended unexpectedly (a crash inside durable-rules?); "
                              "run without --jobs to see which file") from None
        finally:
            for future in futures:  # after a failure, the chunks not yet started are dropped
                future.cancel()
    return done


def _pool(jobs: int, catalog: Catalog) -> ProcessPoolExecutor:
    """A pool of jobs processes, forked where the platform can (each inherits the project as
    read so far), else spawned (each reads it anew)."""
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    forking = "fork" in multiprocessing.get_all_start_methods()
    context = multiprocessing.get_context("fork" if forking else "spawn")
    project = catalog if forking else Catalog(catalog.root)
    return ProcessPoolExecutor(max_workers=jobs, mp_context=context, initializer=_adopt, initargs=(project,))


def _adopt(catalog: Catalog) -> None:
    """In a new worker: the project to work in."""
    global _CATALOG
    _CATALOG = catalog


def _worker_catalog() -> Catalog:
    if _CATALOG is None:
        raise EngineError("a worker process was started without a project")
    return _CATALOG
