"""Arbiter benchmark of the whole decision: in memory, at the prompt, in bulk, and over a long run.

Run from the repository root:

    python bench/decision_bench.py                      # full run (minutes; the memory run is 1,000,000 records)
    python bench/decision_bench.py --quick              # smoke run: small counts, the same figures
    python bench/decision_bench.py --decisions 100000   # fewer decisions in the memory run

It prints each figure with its target and MET or NOT MET (see bench/README.md, "The whole
decision"):

1. in one process, on one core (CPU time), on the generated 30-criterion framework of
   bench/bench.py: `evaluate()` alone on prepared evidence, against the oracle and against a
   plain-Python baseline timed in the same run; full decision records (evidence, evaluation,
   the limiters that hold, the record with its trace, why-not lines and hashes, its JSON
   text); the margin of each decision, on its own;
2. `arbiter score` of one Kent 2007 case and `arbiter --help`, each a fresh process: CPU time
   (user + system of the child) and wall time;
3. `arbiter score` over a folder of Kent-sized case files (the Kent 2007 cases copied under
   new ids), in one process and with `--jobs 2` where the command has that option;
4. RSS, threads and sessions before and after a long run of full decision records.

The engine measured is the one `import engine` finds: the project this script sits in, or
the one PYTHONPATH names (its cases/ and its command line are used, so the same script
measures two checkouts alike).

This is a script, not a test: it exits 1 only when something is wrong (durable-rules and
the oracle disagree, a command fails, bulk output depends on --jobs, a session, thread or
process is left behind). A missed target does not change the exit code.
"""

from __future__ import annotations

import argparse
import gc
import importlib.util
import json
import os
import platform
import re
import resource
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Optional

if importlib.util.find_spec("engine") is None:  # run as `python bench/decision_bench.py` without installing
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import engine  # noqa: E402

ROOT = Path(engine.__file__).resolve().parent.parent  # the project whose engine is measured

from bench import SCORE_CASE, agreement, generated_workload, mib, rss_kib  # noqa: E402  (bench/bench.py)
from engine.inspections.record import decision_record  # noqa: E402
from engine.language import canonical  # noqa: E402
from engine.oracle import reference  # noqa: E402
from engine.runtime import durable  # noqa: E402
from engine.runtime.decide import evaluate, limiters_holding  # noqa: E402
from engine.runtime.margin import margin  # noqa: E402
from engine.runtime.tally import Evidence  # noqa: E402

TARGET_EVALUATE_PER_S = 25_000
TARGET_EVALUATE_VS_ORACLE = 2.0
TARGET_RECORDS_PER_S = 10_000
TARGET_SCORE_CPU_S = 0.2
TARGET_SCORE_WALL_S = 0.4
TARGET_HELP_CPU_S = 0.15
TARGET_BULK_FILES_PER_S = 400
BULK_JOBS = 2
FLAT_MIB = 8.0  # RSS growth over the memory run below which memory counts as flat
WARM_UP_DECISIONS = 10_000
KENT_DIR = ROOT / "cases" / "kent-2007"
BULK_FOLDER = "kent-2007-bench"  # the copies' folder under cases/, and so the first part of their ids


@dataclass(frozen=True)
class Counts:
    """How much each figure does per timed repetition, and how many repetitions."""

    repeats: int
    evaluations: int
    records: int
    margins: int
    files: int
    decisions: int
    pool: int = 200

    @classmethod
    def chosen(cls, args: argparse.Namespace) -> "Counts":
        quick = args.quick
        return cls(repeats=args.repeats or (3 if quick else 5),
                   evaluations=2_000 if quick else 20_000,
                   records=300 if quick else 5_000,
                   margins=30 if quick else 500,
                   files=args.files or (60 if quick else 1_000),
                   decisions=args.decisions if args.decisions is not None else (2_000 if quick else 1_000_000))


@dataclass(frozen=True)
class Timing:
    """Seconds per item of each repetition."""

    each: tuple[float, ...]

    @property
    def median(self) -> float:
        return statistics.median(self.each)

    @property
    def per_second(self) -> float:
        return 1 / self.median

    @property
    def spread(self) -> str:
        """(slowest - fastest) / median over the repetitions."""
        return f"{(max(self.each) - min(self.each)) / self.median * 100:.0f}%"


def verdict(met: bool) -> str:
    return "MET" if met else "NOT MET"


def figure(name: str, value: str, target: str, met: Optional[bool]) -> str:
    """One figure line; `met` None for a figure with no target of its own."""
    judged = "" if met is None else f" -> {verdict(met)}"
    return f"{name}: {value}   target: {target}{judged}"


# --- 1. the decision in memory -------------------------------------------------------------------

def full_record(compiled, case) -> str:
    """A decision record as `arbiter score --format json` prints it (the JSON text as
    `Scored.json_lines` writes it), from a checked case: the
    evidence tallied, the rules run, every limiter asked, the record (trace, why-not lines,
    hashes of criteria, ruleset and evidence) and its JSON text. Without the margin, which
    is timed on its own."""
    evidence = Evidence.from_case(case, compiled.plan)
    evaluation = evaluate(compiled, evidence, limiters=True)  # as inspections.cases.decide_case asks
    record = decision_record(compiled, case, evaluation, None, limiters_holding(compiled, evaluation))
    return json.dumps(record, ensure_ascii=False)


def baseline_rows(items) -> list[tuple[list[tuple[str, tuple[str, ...], str]], int]]:
    """Each case as plain data for the baseline: (tier, flags, finding) per criterion, and
    how many factors are present. Built before timing."""
    rows = []
    for _, _, case, criteria in items:
        placed = {c.id: (c.tier, tuple(c.flags)) for c in criteria.criteria.model.criteria}
        findings = [(*placed[f.criterion], f.finding) for f in case.findings]
        rows.append((findings, sum(1 for present in case.factors.values() if present)))
    return rows


def plain_python_counts(findings: list[tuple[str, tuple[str, ...], str]], factors: int,
                        fractions: tuple[float, ...]) -> list[bool]:
    """The baseline: a fixed pure-Python workload of the size of one grading. It counts a
    case's findings by tier and by flag in a dict, and compares each count, as a fraction of
    the criteria counted, with each quantifier's fraction. It picks no grade."""
    counts: dict[tuple[str, str], int] = {}
    totals: dict[str, int] = {}
    for tier, flags, finding in findings:
        for group in (tier, *flags):
            counts[(group, finding)] = counts.get((group, finding), 0) + 1
            totals[group] = totals.get(group, 0) + 1
    return [counts.get((group, finding), 0) >= fraction * total
            for group, total in totals.items() for finding in ("met", "not_met") for fraction in fractions] + [factors >= 2]


def quantifier_fractions(items) -> tuple[float, ...]:
    framework = items[0][3].framework.model
    return tuple(float(next(v for v in (q.at_least, q.more_than, q.at_most, q.less_than) if v is not None))
                 for q in framework.quantifiers.values())


def cycled(items: list, n: int, work: Callable) -> Callable[[], None]:
    def run() -> None:
        k = len(items)
        for i in range(n):
            work(items[i % k])
    return run


def in_memory_loops(items, counts: Counts) -> dict[str, tuple[Callable[[], None], int]]:
    """Each in-memory figure: the loop timed and how many items it does."""
    rows = baseline_rows(items)
    fractions = quantifier_fractions(items)
    evaluations = [(compiled, evidence, evaluate(compiled, evidence)) for compiled, evidence, _, _ in items]
    n, records, margins = counts.evaluations, counts.records, counts.margins
    return {
        "evaluate": (cycled(items, n, lambda it: evaluate(it[0], it[1])), n),
        "oracle": (cycled(items, n, lambda it: reference.evaluate(it[3], it[2])), n),
        "baseline": (cycled(rows, n, lambda row: plain_python_counts(row[0], row[1], fractions)), n),
        "record": (cycled(items, records, lambda it: full_record(it[0], it[2])), records),
        "margin": (cycled(evaluations, margins, lambda ev: margin(ev[0], ev[1], ev[2].computed)), margins),
    }


def time_interleaved(loops: dict[str, tuple[Callable[[], None], int]], repeats: int) -> dict[str, Timing]:
    """CPU seconds per item, each repetition of every loop in turn, so that a slow spell on a
    shared machine lands on every figure and on both sides of each ratio."""
    for loop, _ in loops.values():  # warm-up: first registrations, caches, branch history
        loop()
    each: dict[str, list[float]] = {name: [] for name in loops}
    for _ in range(repeats):
        for name, (loop, n) in loops.items():
            start = time.process_time()
            loop()
            each[name].append((time.process_time() - start) / n)
    return {name: Timing(tuple(times)) for name, times in each.items()}


def engine_decisions_per_margin(items, n: int) -> Optional[float]:
    """Decisions the rules engine made per margin (`host().evaluations`), where the host counts them."""
    host = durable.host()
    if not hasattr(host, "evaluations"):
        return None
    prepared = [(compiled, evidence, evaluate(compiled, evidence).computed) for compiled, evidence, _, _ in items[:n]]
    before = host.evaluations
    for compiled, evidence, outcome in prepared:
        margin(compiled, evidence, outcome)
    return (host.evaluations - before) / len(prepared)


def in_memory_lines(items, counts: Counts) -> list[str]:
    timings = time_interleaved(in_memory_loops(items, counts), counts.repeats)
    ev, oracle, base = timings["evaluate"], timings["oracle"], timings["baseline"]
    rec, mar = timings["record"], timings["margin"]
    vs_oracle = ev.median / oracle.median
    per_margin = engine_decisions_per_margin(items, min(len(items), 50))
    engine_note = "" if per_margin is None else f"; {per_margin:.1f} engine decisions a margin"
    return [
        f"in memory, CPU time on one core; median of {counts.repeats} interleaved repetitions, spread = "
        f"(slowest - fastest) / median; generated-30, {len(items)} distinct cases cycled through",
        f"  plain-Python baseline: {base.per_second:,.0f}/s ({base.median * 1e6:.1f} us; spread {base.spread}); "
        f"oracle: {oracle.per_second:,.0f}/s ({oracle.median * 1e6:.1f} us; spread {oracle.spread})",
        figure("evaluate() alone", f"{ev.per_second:,.0f}/s ({ev.median * 1e6:.1f} us; spread {ev.spread}), "
               f"{vs_oracle:.2f}x the oracle's time, {ev.median / base.median:.1f}x the baseline's",
               f">= {TARGET_EVALUATE_PER_S:,}/s and <= {TARGET_EVALUATE_VS_ORACLE:.0f}x the oracle",
               ev.per_second >= TARGET_EVALUATE_PER_S and vs_oracle <= TARGET_EVALUATE_VS_ORACLE),
        figure("full decision records", f"{rec.per_second:,.0f}/s ({rec.median * 1e6:.1f} us; spread {rec.spread}), "
               f"{rec.median / oracle.median:.1f}x the oracle's time, {rec.median / base.median:.1f}x the baseline's",
               f">= {TARGET_RECORDS_PER_S:,}/s", rec.per_second >= TARGET_RECORDS_PER_S),
        figure("margin", f"{mar.per_second:,.0f}/s ({mar.median * 1e6:.0f} us; spread {mar.spread}), "
               f"{mar.median / base.median:.0f}x the baseline's time{engine_note}",
               "none of its own (reported apart from the record)", None),
        f"  a record with its margin, as `arbiter score` makes it: about {1 / (rec.median + mar.median):,.0f}/s",
    ]


def check_records_repeat(items) -> None:
    """The same case twice gives the same bytes: nothing of one decision reaches the next."""
    for compiled, _, case, _ in items[:20]:
        first = full_record(compiled, case)
        for other_compiled, _, other_case, _ in items[20:25]:
            full_record(other_compiled, other_case)
        if full_record(compiled, case) != first:
            raise SystemExit(f"the record of {case.id} changed when it was decided again")


# --- 2. one case at the prompt -----------------------------------------------------------------

@dataclass(frozen=True)
class Run:
    wall: float
    cpu: float  # user + system of the child process


def command_line() -> list[str]:
    """The console script beside this interpreter, else the CLI's entry point run by it."""
    script = Path(sys.executable).parent / "arbiter"
    if script.exists():
        return [str(script)]
    return [sys.executable, "-c", "import sys; from engine.cli import main; sys.exit(main())"]


def child_environment(bytecode_folder: Path) -> dict[str, str]:
    """The environment of every command run: bytecode written and read as an installed
    package's is (an environment that forbids writing it would make every start compile
    every module), kept in a folder of the bench's own rather than in the project."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    env.setdefault("PYTHONPYCACHEPREFIX", str(bytecode_folder))
    return env


CHILD_ENV: dict[str, str] = dict(os.environ)  # set by main() before any command runs


def run_command(args: list[str]) -> tuple[Run, str]:
    """One command run from the project's folder; CommandFailed unless it exits 0."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    proc = subprocess.run(args, cwd=ROOT, capture_output=True, text=True, env=CHILD_ENV)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if proc.returncode != 0:
        raise CommandFailed(f"{' '.join(args)} exited {proc.returncode}: {proc.stderr.strip()[-2000:]}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return Run(wall, cpu), proc.stdout


class CommandFailed(Exception):
    pass


def repeated(args: list[str], repeats: int, warm_up: bool = True) -> tuple[list[Run], str]:
    """`repeats` timed runs, after one untimed run (which also fills the bytecode cache)."""
    runs, out = [], run_command(args)[1] if warm_up else ""
    for _ in range(repeats):
        run, out = run_command(args)
        runs.append(run)
    return runs, out


def check_cli_engine(cli: list[str]) -> None:
    """The command line must run the engine this process measures."""
    probe = [sys.executable, "-c", "import engine; print(engine.__file__)"]
    _, out = run_command(probe)
    if Path(out.strip()).resolve() != Path(engine.__file__).resolve():
        raise CommandFailed(f"the command line would run the engine at {out.strip()}, not {engine.__file__}")


def cli_lines(repeats: int) -> list[str]:
    cli = command_line()
    check_cli_engine(cli)
    bare, _ = repeated([sys.executable, "-c", "pass"], repeats)
    help_runs, _ = repeated(cli + ["--help"], repeats)
    score_runs, out = repeated(cli + ["score", SCORE_CASE], repeats)
    if not out.strip():
        raise CommandFailed(f"arbiter score {SCORE_CASE} printed nothing")
    help_cpu, score_cpu = min(r.cpu for r in help_runs), min(r.cpu for r in score_runs)
    score_wall = min(r.wall for r in score_runs)
    return [
        f"at the prompt, each a fresh process ({' '.join(Path(c).name for c in cli[:1])}); "
        f"CPU = user + system of the child; best and median of {repeats}; python alone: "
        f"{min(r.cpu for r in bare):.3f} s CPU, {min(r.wall for r in bare):.3f} s wall",
        figure("arbiter --help CPU", runs_text(help_runs, "cpu"), f"< {TARGET_HELP_CPU_S} s best of {repeats}",
               help_cpu < TARGET_HELP_CPU_S),
        figure(f"arbiter score {SCORE_CASE} CPU", runs_text(score_runs, "cpu"), f"< {TARGET_SCORE_CPU_S} s best of {repeats}",
               score_cpu < TARGET_SCORE_CPU_S),
        figure(f"arbiter score {SCORE_CASE} wall", runs_text(score_runs, "wall"),
               f"< {TARGET_SCORE_WALL_S} s best of {repeats}, on an idle machine (load below)", score_wall < TARGET_SCORE_WALL_S),
    ]


def runs_text(runs: list[Run], what: str) -> str:
    values = [getattr(r, what) for r in runs]
    median = statistics.median(values)
    spread = (max(values) - min(values)) / median * 100 if median else 0.0
    return f"best {min(values):.3f} s, median {median:.3f} s (spread {spread:.0f}%)"


# --- 3. bulk -------------------------------------------------------------------------------------

def write_bulk_folder(folder: Path, count: int) -> Path:
    """`count` Kent-sized case files: the Kent 2007 cases in turn, each under a new id that
    matches its place (cases/<BULK_FOLDER>/<name>-<n>.yaml)."""
    sources = sorted(KENT_DIR.glob("*.yaml"))
    target = folder / "cases" / BULK_FOLDER
    target.mkdir(parents=True)
    for number in range(count):
        source = sources[number % len(sources)]
        new_id = f"{BULK_FOLDER}/{source.stem}-{number:05d}"
        text, replaced = re.subn(r"^id: .*$", f"id: {new_id}", source.read_text(encoding="utf-8"), count=1,
                                 flags=re.MULTILINE)
        if not replaced:
            raise SystemExit(f"{source}: no top-level id line to rewrite")
        (target / f"{source.stem}-{number:05d}.yaml").write_text(text, encoding="utf-8")
    return target


def has_jobs_option(cli: list[str]) -> bool:
    _, out = run_command(cli + ["score", "--help"])
    return "--jobs" in out


def bulk_runs(cli: list[str], folder: Path, jobs: Optional[int], repeats: int) -> tuple[list[Run], str]:
    extra = [] if jobs is None else ["--jobs", str(jobs)]
    # no warm-up run: the commands before filled the bytecode cache, and a run is long
    return repeated(cli + ["score", "--root", str(ROOT), "--format", "json", *extra, str(folder)], repeats,
                    warm_up=False)


def processes_naming(text: str) -> list[int]:
    """Live processes whose command line holds `text` (a bulk run's unique folder): workers left behind."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        if text in cmdline:
            found.append(int(entry.name))
    return found


def bulk_lines(files: int, repeats: int, problems: list[str]) -> list[str]:
    cli = command_line()
    with tempfile.TemporaryDirectory(prefix="arbiter-bulk-") as tmp:
        folder = write_bulk_folder(Path(tmp), files)
        serial, serial_out = bulk_runs(cli, folder, None, repeats)
        if len(serial_out.splitlines()) != files:
            problems.append(f"bulk: {len(serial_out.splitlines())} records for {files} files")
        lines = [f"bulk: `arbiter score --format json` of {files:,} Kent-sized case files in one folder; "
                 f"files/s = files / wall time; median of {repeats}",
                 figure("bulk in one process", bulk_text(serial, files), "none of its own (for comparison)", None)]
        if not has_jobs_option(cli):
            lines.append(figure(f"bulk with --jobs {BULK_JOBS}", "not available (score has no --jobs option)",
                                f">= {TARGET_BULK_FILES_PER_S} files/s on {BULK_JOBS} cores", False))
            return lines
        parallel, parallel_out = bulk_runs(cli, folder, BULK_JOBS, repeats)
        if parallel_out != serial_out:
            problems.append(f"bulk: the output of --jobs {BULK_JOBS} differs from the output in one process")
        left = processes_naming(str(folder))
        if left:
            problems.append(f"bulk: processes left behind after --jobs {BULK_JOBS}: {left}")
        rate = files / statistics.median(r.wall for r in parallel)
        lines.append(figure(f"bulk with --jobs {BULK_JOBS}", bulk_text(parallel, files) + ("" if left else
                            "; output identical to one process, no process left"),
                            f">= {TARGET_BULK_FILES_PER_S} files/s on {BULK_JOBS} cores", rate >= TARGET_BULK_FILES_PER_S))
    return lines


def bulk_text(runs: list[Run], files: int) -> str:
    walls = [r.wall for r in runs]
    median = statistics.median(walls)
    return (f"{files / median:,.0f} files/s ({median / files * 1000:.2f} ms a file; spread "
            f"{(max(walls) - min(walls)) / median * 100:.0f}%; {statistics.median(r.cpu for r in runs) / files * 1000:.2f} "
            f"ms CPU a file, every process)")


# --- 4. memory -----------------------------------------------------------------------------------

@dataclass(frozen=True)
class Sessions:
    """What the host says of its sessions at one moment (None where it does not say)."""

    opened: Optional[int]  # sessions opened so far: the last sid number issued
    held: Optional[int]  # sessions open now (a host that keeps emptied sessions for reuse)

    @classmethod
    def now(cls) -> "Sessions":
        host = durable.host()
        opened = getattr(host, "sessions_opened", None)
        if opened is None and not hasattr(host, "sessions_held"):  # a fresh session per evaluation, numbered
            opened = getattr(host, "evaluations", None)
        return cls(opened, getattr(host, "sessions_held", None))


def session_check(name: str, before: Sessions, after: Sessions) -> tuple[str, bool]:
    """(what was found, whether a session was left behind) over a run of decisions."""
    if before.held is not None:
        return kept_sessions_check(name, before, after)
    if before.opened is None or not hasattr(durable.host(), "live_session"):
        return "not checked (the host does not number its sessions)", False
    first, last = before.opened + 1, after.opened
    if last < first:
        return "no session opened during the run", False
    live = [sid for sid in sorted({first, last}) if durable.host().live_session(name, sid)]
    return (f"first (sid {first}) and last (sid {last}) of the run "
            f"{'LIVE: ' + str(live) if live else 'deleted'}"), bool(live)


def kept_sessions_check(name: str, before: Sessions, after: Sessions) -> tuple[str, bool]:
    """A host that keeps emptied sessions for reuse: the run may hold no more sessions than
    before it, and once the host lets its idle sessions go (`release`), it holds none and the
    last one opened is gone from the C core too."""
    host = durable.host()
    text = (f"{before.held} held before the run, {after.held} after (kept for reuse); "
            f"{after.opened - before.opened:,} opened during it")
    leaked = after.held > before.held
    if hasattr(host, "release"):
        host.release()
        gone = after.opened == 0 or not host.live_session(name, after.opened)
        text += (f"; after release(), {host.sessions_held} held and the last opened (sid {after.opened}) "
                 f"{'deleted' if gone else 'LIVE'}")
        leaked = leaked or host.sessions_held != 0 or not gone
    return text, leaked


def memory_lines(items, decisions: int, problems: list[str]) -> list[str]:
    record_loop = cycled(items, min(decisions, WARM_UP_DECISIONS), lambda it: full_record(it[0], it[2]))
    record_loop()  # warm-up: the allocator's pools and every cache reach their working size
    gc.collect()
    rss_before, threads_before = rss_kib(), threading.active_count()
    sessions_before = Sessions.now()
    start = time.process_time()
    cycled(items, decisions, lambda it: full_record(it[0], it[2]))()
    cpu = time.process_time() - start
    gc.collect()
    rss_after, threads_after = rss_kib(), threading.active_count()
    sessions, leaked = session_check(items[0][0].durable_name, sessions_before, Sessions.now())
    if leaked:
        problems.append(f"memory run: a session was left: {sessions}")
    if threads_after != threads_before:
        problems.append(f"memory run: threads {threads_before} -> {threads_after}")
    growth = None if rss_before is None or rss_after is None else (rss_after - rss_before) / 1024
    value = (f"RSS {mib(rss_before)} -> {mib(rss_after)}"
             + ("" if growth is None else f" ({growth:+.1f} MiB, {growth * 2**20 / decisions:+.1f} bytes a decision)")
             + f" over {decisions:,} full decision records ({decisions / cpu:,.0f}/s sustained)")
    return [figure("memory", value, f"flat: growth < {FLAT_MIB:.0f} MiB", growth is not None and growth < FLAT_MIB),
            f"  threads {threads_before} -> {threads_after}; sessions: {sessions}"]


# --- main ----------------------------------------------------------------------------------------

def parse(argv: Optional[list[str]]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="a smoke run: small counts, the same figures")
    parser.add_argument("--decisions", type=positive, default=None,
                        help="full decision records in the memory run (default 1,000,000; 2,000 with --quick)")
    parser.add_argument("--files", type=positive, default=None,
                        help="case files in the bulk folder (default 1,000; 60 with --quick)")
    parser.add_argument("--repeats", type=positive, default=None,
                        help="repetitions of each figure (default 5; 3 with --quick)")
    return parser.parse_args(argv)


def positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"'{text}' is not a whole number") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"{value} is not a positive number")
    return value


def header(counts: Counts, quick: bool) -> list[str]:
    return [f"Arbiter benchmark of the whole decision{' (--quick)' if quick else ''}",
            f"python {platform.python_version()} ({platform.python_implementation()}, {platform.machine()}), "
            f"durable-rules {canonical.durable_rules_version()}, arbiter engine {engine.__version__} at {ROOT}; "
            f"{os.cpu_count()} cores, load average {load_average()} at start"]


def load_average() -> str:
    try:
        return " ".join(f"{x:.2f}" for x in os.getloadavg())
    except OSError:
        return "n/a"


def main(argv: Optional[list[str]] = None) -> int:
    args = parse(argv)
    counts = Counts.chosen(args)
    problems: list[str] = []
    print("\n".join(header(counts, args.quick)), end="\n\n", flush=True)

    items = generated_workload(30, counts.pool).items
    outcomes = agreement(items)  # exits 1 if durable-rules and the oracle disagree on any case
    check_records_repeat(items)
    print(f"durable-rules and the oracle agree on all {len(items)} cases ("
          + ", ".join(f"{k} {v}" for k, v in sorted(outcomes.items())) + ")")
    print("\n".join(in_memory_lines(items, counts)), end="\n\n", flush=True)
    global CHILD_ENV
    with tempfile.TemporaryDirectory(prefix="arbiter-bytecode-") as bytecode:
        CHILD_ENV = child_environment(Path(bytecode))
        try:
            print("\n".join(cli_lines(counts.repeats)), end="\n\n", flush=True)
            print("\n".join(bulk_lines(counts.files, counts.repeats, problems)), end="\n\n", flush=True)
        except CommandFailed as failure:
            problems.append(str(failure))
    print("\n".join(memory_lines(items, counts.decisions, problems)))
    print(f"\nload average at the end: {load_average()}")
    for problem in problems:
        print(f"PROBLEM: {problem}")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
