"""Arbiter benchmark: evaluation throughput, compile and registration cost, memory, CLI wall time.

Run from the repository root:

    python bench/bench.py                 # full run (about a minute on 2 cores)
    python bench/bench.py --quick         # smoke run (a few seconds)
    python bench/bench.py --evaluations 20000

What it measures (see bench/README.md for how to read it):

1. evaluations per second through durable-rules (engine.runtime.decide.evaluate) and through the
   oracle (engine.oracle.reference.evaluate, from the criteria as written) on the six Kent 2007 cases, and on generated
   frameworks with 30 and 200 criteria; the ratio durable/oracle time;
2. compile time (compile_criteria on in-memory models) and, separately, the first-time
   durable-rules registration of a fresh ruleset (host().ensure_registered);
3. RSS and live threads before and after --evaluations durable-rules evaluations of the
   30-criterion framework, and that the last session was deleted;
4. wall time of `arbiter score cases/kent-2007/missing-persons.yaml --format json`;
5. whether the target (>= 5,000 evaluations/s through durable-rules on 30 criteria,
   within 10x of the oracle) is met.
6. wall time of linting every shipped criteria set (engine.lint, in this one process: validation,
   the exhaustive analysis decided through durable-rules, the static checks), against 10 s.

This is a script, not a test: it prints numbers and exits 0 unless something is wrong
(durable-rules and the oracle disagree, a session leaks, the CLI fails).
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import platform
import random
import statistics
import subprocess
import sys
import threading
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # run as `python bench/bench.py` without installing
    sys.path.insert(0, str(ROOT))

import engine  # noqa: E402
from engine.runtime import durable  # noqa: E402
from engine.language import canonical  # noqa: E402
from engine.oracle import reference  # noqa: E402
from engine.language.catalog import Catalog  # noqa: E402
from engine.inspections.cases import load_case  # noqa: E402
from engine.compiler.compile import Compiled, compile_criteria  # noqa: E402
from engine.language.criteria import Criteria, load_criteria  # noqa: E402
from engine.runtime.decide import evaluate  # noqa: E402
from engine.language.models import (Case, Condition, CriteriaSet, Criterion, Described, Finding, Framework,  # noqa: E402
                           GradeRule, HitPolicy, Level, Limiter, Quantifier, Scale, Selection, Subgrade,
                           SubgradeCount, SubgradeSelection, Undecided)
from engine.runtime.tally import Evidence  # noqa: E402

TARGET_EPS = 5_000
TARGET_RATIO = 10.0
KENT_DIR = ROOT / "cases" / "kent-2007"
SCORE_CASE = "cases/kent-2007/missing-persons.yaml"


# --- generated frameworks ----------------------------------------------------------------

def generated_scale() -> Scale:
    levels = [("excellent", "Excellent"), ("good", "Good"), ("fair", "Fair"), ("poor", "Poor")]
    return Scale(arbiter="scale", id="bench-grades", title="Benchmark grades",
                 levels=tuple(Level(id=i, label=label, definition=f"{label} performance.") for i, label in levels))


def generated_framework() -> Framework:
    """The shape of criteria/hmic-2007/framework.yaml, built in code."""
    def cond(quantity: str, spec, **bound) -> Condition:
        return Condition(**{quantity: spec}, **bound)

    return Framework(
        arbiter="framework", id="bench", title="Generated benchmark framework", version="1", scale="bench-grades",
        tiers={"fair": Described(description="fair criteria"), "good": Described(description="good criteria")},
        flags={"significant": Described(description="Fair needs all of these"),
               "critical": Described(description="failing one caps the grade at poor")},
        factors={"beacon": Described(description="a beacon to others"),
                 "evaluated_innovation": Described(description="introduced and evaluated new ways")},
        quantifiers={
            "all": Quantifier(at_least=1, phrase="all of"),
            "most": Quantifier(more_than=0.5, phrase="most of"),
            "vast_majority": Quantifier(at_least=0.8, phrase="the vast majority of"),
            "significant_number": Quantifier(at_least=0.4, phrase="a significant number of"),
        },
        grades=(
            GradeRule(level="excellent", builds_on="good", when=(
                cond("met", Selection(tier="good"), is_="vast_majority"),
                cond("factors_present", ("beacon", "evaluated_innovation"), at_least=2))),
            GradeRule(level="good", when=(
                cond("met", Selection(tier="fair"), is_="all"),
                cond("met", Selection(tier="good"), is_="most"))),
            GradeRule(level="fair", when=(
                cond("met", Selection(tier="fair", flag="significant"), is_="all"),)),
            GradeRule(level="poor", when=(
                cond("not_met", Selection(tier="fair"), is_="significant_number"),)),
        ),
        hit_policy=HitPolicy(policy="best"),  # as criteria/hmic-2007/framework.yaml
        limiters=(Limiter(id="failed-critical", cap="poor", description="a critical criterion was not met",
                          when=(cond("not_met", Selection(flag="critical"), at_least=1),)),),
        undecided=Undecided(outcome="professional_judgement", reason="No grade rule decides; an inspector must."),
    )


def generated_criteria_set(n: int, seed: int = 2007) -> CriteriaSet:
    """n criteria: 60% fair, a third of fair significant, one or two of those critical."""
    rng = random.Random(seed)
    n_fair = max(3, round(n * 0.6))
    n_significant = max(1, n_fair // 3)
    n_critical = 1 if n < 50 else 2
    criteria = []
    for i in range(n):
        if i < n_fair:
            flags = ("significant",) if i < n_significant else ()
            flags += ("critical",) if i < n_critical else ()
            tier = "fair"
        else:
            tier, flags = "good", ()
        criteria.append(Criterion(id=f"k{i:03d}", tier=tier, flags=flags,
                                  text=f"Generated criterion {i} ({rng.random():.6f})."))
    return CriteriaSet(arbiter="criteria", id=f"bench/gen-{n}", framework="bench",
                       title=f"Generated set of {n} criteria", criteria=tuple(criteria))


def five_level_scale() -> Scale:
    levels = [("outstanding", "Outstanding"), ("good", "Good"), ("adequate", "Adequate"),
              ("requires_improvement", "Requires improvement"), ("inadequate", "Inadequate")]
    return Scale(arbiter="scale", id="bench-five", title="Benchmark grades, five levels",
                 levels=tuple(Level(id=i, label=label, definition=f"{label} performance.") for i, label in levels))


def subarea_framework() -> Framework:
    """Grades from sub-area grades on five levels, under the unique hit policy (the default for
    new frameworks, and the dearest: one more rule per pair of grade rules of two levels), with
    an alternative rule and a limiter: the shape published aggregation rules take, at full size."""
    def count(quantity: str, level: str, **bound) -> Condition:
        return Condition(**{quantity: SubgradeCount(level=level)}, **bound)

    def worst(level: str) -> Condition:
        return Condition(worst_subgrade=SubgradeSelection(), at_least=level)

    return Framework(
        arbiter="framework", id="bench-subareas", title="Generated sub-area framework", version="1",
        scale="bench-five",
        grades=(
            GradeRule(level="outstanding", when=(count("subgrades_at_or_above", "outstanding", at_least=6),
                                                 worst("good"))),
            GradeRule(level="good", when=(count("subgrades_at_or_above", "good", at_least=8), worst("adequate"),
                                          count("subgrades_at_or_above", "outstanding", at_most=5))),
            GradeRule(level="adequate", when=(count("subgrades_at_or_below", "requires_improvement", at_most=2),
                                              count("subgrades_at_or_above", "good", at_most=7),
                                              count("subgrades_at", "inadequate", exactly=0))),
            GradeRule(level="requires_improvement", id="three-below-adequate",
                      when=(count("subgrades_at_or_below", "requires_improvement", at_least=3),
                            count("subgrades_at", "inadequate", at_most=1))),
            GradeRule(level="requires_improvement", id="one-inadequate",
                      when=(count("subgrades_at", "inadequate", exactly=1),)),
            GradeRule(level="inadequate", when=(count("subgrades_at", "inadequate", at_least=2),)),
        ),
        hit_policy=HitPolicy(policy="unique"),
        limiters=(Limiter(id="any-inadequate", cap="requires_improvement",
                          description="a sub-area is inadequate",
                          when=(count("subgrades_at", "inadequate", at_least=1),)),),
        undecided=Undecided(outcome="professional_judgement", reason="No grade rule decides; an inspector must."),
    )


def subarea_criteria_set(n: int) -> CriteriaSet:
    return CriteriaSet(arbiter="criteria", id=f"bench/subareas-{n}", framework="bench-subareas",
                       title=f"Generated set of {n} sub-areas",
                       subgrades=tuple(Subgrade(id=f"s{i:02d}", title=f"Sub-area {i}") for i in range(n)))


def subarea_cases(cs: CriteriaSet, count: int, seed: int) -> list[Case]:
    """Deterministic sub-area grades, mostly good, some of every level."""
    rng = random.Random(seed)
    levels = ("outstanding", "good", "adequate", "requires_improvement", "inadequate")
    return [Case(arbiter="case", id=f"{cs.id}-{k}", criteria=cs.id, subject="Generated force", constructed=True,
                 subgrades={s.id: rng.choices(levels, weights=(3, 8, 3, 2, 1))[0] for s in cs.subgrades})
            for k in range(count)]


def generated_cases(cs: CriteriaSet, count: int, seed: int) -> list[Case]:
    """Deterministic evidence: each case draws a met rate from 0.75 to 1.0 (mostly met)."""
    rng = random.Random(seed)
    cases = []
    for k in range(count):
        p_met = rng.uniform(0.75, 1.0)
        findings = []
        for crit in cs.criteria:
            r = rng.random()
            finding = "met" if r < p_met else ("not_met" if r < p_met + (1 - p_met) * 0.8 else "not_assessed")
            findings.append(Finding(criterion=crit.id, finding=finding))
        cases.append(Case(arbiter="case", id=f"bench/gen-{len(cs.criteria)}-{k}", criteria=cs.id,
                          subject="Generated force", constructed=True,
                          factors={"beacon": rng.random() < 0.5, "evaluated_innovation": rng.random() < 0.5},
                          findings=tuple(findings)))
    return cases


# --- workloads ---------------------------------------------------------------------------

@dataclass
class Workload:
    name: str
    criteria: list[Criteria]  # the sets compiled (Kent: six)
    items: list[tuple[Compiled, Evidence, Case, Criteria]]  # cycled through by the evaluation loops
    n_criteria: str


def kent_workload(catalog: Catalog) -> Workload:
    loaded = [load_case(path, catalog) for path in sorted(KENT_DIR.glob("*.yaml"))]
    if len(loaded) != 6:
        raise SystemExit(f"expected six Kent 2007 cases in {KENT_DIR}, found {len(loaded)}")
    criteria = [load_criteria(catalog, lc.case.criteria) for lc in loaded]
    items = [(lc.compiled, Evidence.from_case(lc.case, lc.compiled.plan), lc.case, c) for lc, c in zip(loaded, criteria)]
    sizes = sorted(len(c.criteria.model.criteria) for c in criteria)
    shown = str(sizes[0]) if sizes[0] == sizes[-1] else f"{sizes[0]}-{sizes[-1]}"
    return Workload("kent-2007 (6 sets)", criteria, items, f"{shown} each")


def generated_workload(n: int, pool: int) -> Workload:
    criteria = Criteria.from_models(generated_scale(), generated_framework(), generated_criteria_set(n))
    compiled = compile_criteria(criteria)
    cases = generated_cases(criteria.criteria.model, pool, seed=n)
    items = [(compiled, Evidence.from_case(case, compiled.plan), case, criteria) for case in cases]
    return Workload(f"generated-{n}", [criteria], items, str(n))


def subarea_workload(n: int, pool: int) -> Workload:
    criteria = Criteria.from_models(five_level_scale(), subarea_framework(), subarea_criteria_set(n))
    compiled = compile_criteria(criteria)
    cases = subarea_cases(criteria.criteria.model, pool, seed=n)
    items = [(compiled, Evidence.from_case(case, compiled.plan), case, criteria) for case in cases]
    return Workload(f"sub-areas-{n}x5", [criteria], items, f"{n} sub")


def renamed(criteria: Criteria, suffix: str) -> Criteria:
    """The same criteria under another set id: same rules, fresh durable ruleset name."""
    cs = criteria.criteria.model
    fresh = cs.model_copy(update={"id": f"{cs.id}-{suffix}".replace("/", "-")})
    return Criteria.from_models(criteria.scale.model, criteria.framework.model, fresh)


# --- measurement -------------------------------------------------------------------------

def median_time(fn: Callable[[], object], repeats: int) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def durable_loop(items, n: int) -> Callable[[], None]:
    def run() -> None:
        k = len(items)
        for i in range(n):
            compiled, evidence, _, _ = items[i % k]
            evaluate(compiled, evidence)
    return run


def oracle_loop(items, n: int) -> Callable[[], None]:
    def run() -> None:
        k = len(items)
        for i in range(n):
            _, _, case, criteria = items[i % k]
            reference.evaluate(criteria, case)
    return run


def agreement(items) -> Counter:
    """Both evaluators on every distinct item: the same outcome, before and after floors and
    limiters, by the same grade rule and the same limiter and floor. Returns the outcomes."""
    outcomes: Counter = Counter()
    for compiled, evidence, case, criteria in items:
        ours = evaluate(compiled, evidence)
        oracle = reference.evaluate(criteria, case)
        durable_view = (ours.outcome, ours.uncapped, ours.firings[0].rule, ours.limiter, ours.floor)
        oracle_view = (oracle.outcome, oracle.uncapped, oracle.rule, oracle.limiter, oracle.floor)
        if durable_view != oracle_view:
            raise SystemExit(f"durable-rules and the oracle disagree on {case.id} (outcome, uncapped, deciding "
                             f"rule, limiter, floor): {durable_view} vs {oracle_view}")
        outcomes[ours.outcome] += 1
    return outcomes


def rss_kib() -> int | None:
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    except OSError:
        pass
    return None


def mib(kib: int | None) -> str:
    return "n/a" if kib is None else f"{kib / 1024:.1f} MiB"


def table(headers: list[str], rows: list[list[str]]) -> str:
    widths = [max(len(str(x)) for x in col) for col in zip(headers, *rows)]
    def line(cells):
        return "  ".join(str(c).ljust(w) if i == 0 else str(c).rjust(w) for i, (c, w) in enumerate(zip(cells, widths)))
    return "\n".join([line(headers), line(["-" * w for w in widths])] + [line(r) for r in rows])


# --- main --------------------------------------------------------------------------------

def appointment_workload(catalog: Catalog, seed: int = 2022):
    """The Kent 2022 process (12 scored cells) with 5 generated candidates and 3 scorers."""
    from engine.language.appointment_models import Appointment, Candidate, PanelMember, Rating
    from engine.appointments.appointments import compile_rules

    loaded = catalog.load(catalog.path_of("appointments/kent-chief-constable-2022"), "selection_process")
    compiled = compile_rules(catalog, loaded)
    rng = random.Random(seed)
    panel = (PanelMember(id="chair", role="chair"), PanelMember(id="member", role="member"),
             PanelMember(id="independent", role="independent"))
    fields = []
    for _ in range(50):
        ratings = tuple(Rating(candidate=f"cand-{c}", exercise=ex, area=area,
                               individual={m.id: rng.randint(2, 5) for m in panel}, agreed=rng.choice([2, 3, 3, 4, 4, 5]),
                               rationale="generated", recorded_by="chair")
                        for c in range(5) for ex, area in compiled.plan.cells)
        fields.append(Appointment(arbiter="appointment", id="bench/appointment", process=loaded.model.id,
                                  constructed=True, panel=panel,
                                  candidates=tuple(Candidate(id=f"cand-{c}") for c in range(5)), ratings=ratings))
    return loaded.model, compiled, fields


def appointment_line(catalog: Catalog, reps: int, n: int) -> str:
    """Selection decisions per second: durable-rules, the oracle, and with the sensitivity scan."""
    from engine.oracle import appointment_reference
    from engine.runtime import appointment_margin, selection

    process, compiled, fields = appointment_workload(catalog)
    for appt in fields:  # both evaluators must agree before anything is timed
        decided, answer = selection.evaluate(compiled, appt), appointment_reference.selection(process, appt)
        assert (decided.outcome, decided.preferred, decided.tied) == (answer.outcome, answer.preferred, answer.tied)
    durable_s = median_time(lambda: [selection.evaluate(compiled, fields[i % 50]) for i in range(n)], reps) / n
    oracle_s = median_time(lambda: [appointment_reference.selection(process, fields[i % 50]) for i in range(n)], reps) / n
    scan_n = max(n // 50, 5)
    scan_s = median_time(lambda: [appointment_margin.candidate_margins(compiled, fields[i % 50],
                                                                       selection.decide(compiled, fields[i % 50]))
                                  for i in range(scan_n)], reps) / scan_n
    return (f"appointment: 5 candidates x 12 cells x 3 scoring members (Kent 2022 process): "
            f"{1 / durable_s:,.0f} decisions/s through durable-rules ({durable_s * 1e3:.2f} ms), oracle {1 / oracle_s:,.0f}/s "
            f"({durable_s / oracle_s:.1f}x); with the one-point sensitivity scan (up to 120 re-decisions) and each "
            f"candidate's margin "
            f"{scan_s * 1e3:.0f} ms per process")


LINT_TARGET_S = 10.0


def lint_line(quick: bool) -> str:
    """Lint of every shipped criteria set, from a fresh catalog each time (nothing loaded,
    compiled or analysed before), in this single process. The target is judged on CPU time
    (this process and the git processes it starts): on a shared machine, wall time also
    counts the time other processes had the cores."""
    def run():
        return engine.lint(engine.load_catalog(ROOT))
    report = run()
    repeats = 1 if quick else 3
    walls, cpus = [], []
    for _ in range(repeats):
        cpu_before, start = _cpu_seconds(), time.perf_counter()
        run()
        walls.append(time.perf_counter() - start)
        cpus.append(_cpu_seconds() - cpu_before)
    cpu_s = statistics.median(cpus)
    return (f"lint every shipped criteria set: {len(report.criteria_sets)} sets, {statistics.median(walls):.2f} s wall, "
            f"{cpu_s:.2f} s CPU (median of {repeats}; {report.count('error')} errors, "
            f"{report.count('warning')} warnings, {report.accepted} accepted); target under {LINT_TARGET_S:.0f} s "
            f"on one core -> {'MET' if cpu_s < LINT_TARGET_S else 'NOT MET'}")


def _cpu_seconds() -> float:
    """CPU time of this process and of the child processes it has waited for (git)."""
    times = os.times()
    return times.user + times.system + times.children_user + times.children_system


def ledger_lines(catalog: Catalog, quick: bool) -> list[str]:
    """Append throughput (real appends, durable on disk) and verify time at 100k and 1M entries."""
    import tempfile

    from engine.ledger import audit
    from engine.ledger.chain import entry_hash
    from engine.ledger.ledger import Ledger
    from engine.workspace.runner import score_paths

    from ledger_bench import scored_decisions  # bench/ledger_bench.py, beside this script

    results, _ = score_paths(sorted((ROOT / "cases" / "kent-2007").glob("*.yaml")), catalog)
    lines = []
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "append.sqlite"
        ledger = Ledger.open_for_writing(path)
        rounds = 20 if quick else 100
        # distinct decisions (the same one recorded again adds nothing): the kent-2007 cases under new ids
        recordings = scored_decisions(rounds * len(results))
        start = time.perf_counter()
        appended = sum(len(audit.record_results(ledger, recordings[first:first + len(results)]))
                       for first in range(0, len(recordings), len(results)))
        elapsed = time.perf_counter() - start
        lines.append(f"ledger append: {appended:,} decisions in {elapsed:.1f} s = {appended / elapsed:,.0f} decisions/s, "
                     f"{len(results)} a transaction (one recording) with synchronous=FULL (durable on disk)")
        template = list(Ledger.open_for_reading(path).entries())[: len(results)]
        for count in ((20_000,) if quick else (100_000, 1_000_000)):
            big = Path(folder) / f"verify-{count}.sqlite"
            shutil_copy(path, big)
            _extend(big, template, count, entry_hash)
            start = time.perf_counter()
            verification = Ledger.open_for_reading(big).verify()
            elapsed = time.perf_counter() - start
            lines.append(f"ledger verify: {count:,} entries in {elapsed:.1f} s ({'ok' if verification.ok else verification.problem}; "
                         f"{big.stat().st_size / 2**20:,.0f} MiB file)")
            big.unlink()
    return lines


def shutil_copy(source: Path, target: Path) -> None:
    import shutil
    shutil.copy(source, target)


def _extend(path: Path, template, count: int, entry_hash) -> None:
    """Add entries up to `count`, chained correctly, re-using the template entries' blobs
    (a real ledger of this size would hold as many distinct records; verify reads every
    entry either way, and every blob once)."""
    import sqlite3

    db = sqlite3.connect(path)
    seq, prev = db.execute("SELECT seq, hash FROM entries ORDER BY seq DESC LIMIT 1").fetchone()
    rows = []
    for i in range(seq + 1, count + 1):
        t = template[i % len(template)]
        digest = entry_hash(i, prev, t.type, t.ref, t.refs, t.recorded_at, t.body, t.actor, t.host)
        rows.append((i, prev, digest, t.type, t.ref, " ".join(t.refs), t.recorded_at, t.body, t.actor, t.host))
        prev = digest
    db.executemany("INSERT INTO entries VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", rows)
    db.commit()
    db.close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--evaluations", type=int, default=None,
                        help="durable-rules evaluations in the memory run (default 100,000; 5,000 with --quick)")
    parser.add_argument("--quick", action="store_true", help="a short smoke run")
    args = parser.parse_args(argv)
    quick = args.quick
    memory_n = args.evaluations if args.evaluations is not None else (5_000 if quick else 100_000)
    per_rep = 1_000 if quick else 10_000  # evaluations per timed repetition
    reps = 3
    compile_reps = 3 if quick else 7
    pool = 200

    print(f"Arbiter benchmark{' (--quick)' if quick else ''}")
    print(f"python {platform.python_version()} ({platform.python_implementation()}, {platform.machine()}), "
          f"durable-rules {canonical.durable_rules_version()}, arbiter engine {engine.__version__}")
    print(f"timed loops: median of {reps} x {per_rep:,} evaluations after warm-up; "
          f"compile: median of {compile_reps}; generated evidence pool: {pool} cases")
    print()

    host = durable.host()
    threads_at_start = threading.active_count()
    rss_at_start = rss_kib()

    catalog = Catalog(ROOT)
    workloads = [kent_workload(catalog), generated_workload(30, pool), generated_workload(200, pool),
                 subarea_workload(12, pool)]

    rows = []
    prepared = []
    outcome_lines = []
    results = {}
    for wl in workloads:
        # Compile time: compile_criteria on models already in memory (Kent: all six sets).
        compile_s = median_time(lambda: [compile_criteria(c) for c in wl.criteria], compile_reps)
        # First-time registration of a fresh ruleset. Kent: the six real sets (their first
        # registration in this process). Generated: the same rules under fresh set ids.
        if wl.name.startswith("kent"):
            fresh = [compiled for compiled, _, _, _ in wl.items]
        else:
            fresh = [compile_criteria(renamed(wl.criteria[0], f"reg{i}")) for i in range(compile_reps)]
        register_s = []
        for compiled in fresh:
            start = time.perf_counter()
            host.ensure_registered(compiled.durable_name, compiled.ruleset["durable"][compiled.durable_name])
            register_s.append(time.perf_counter() - start)

        outcomes = agreement(wl.items)  # also a warm-up: every distinct item through both paths
        durable_loop(wl.items, min(per_rep, 1_000))()
        oracle_loop(wl.items, min(per_rep, 1_000))()
        prepared.append((wl, compile_s, statistics.median(register_s)))
        outcome_lines.append(f"  {wl.name}: {len(wl.items)} distinct cases, "
                             + ", ".join(f"{k} {v}" for k, v in sorted(outcomes.items())))

    # Repetitions interleaved across workloads and evaluators, so that a slow spell on a
    # shared machine lands on all of them rather than on one row or one side of a ratio.
    times: dict[tuple[str, str], list[float]] = {}
    for _ in range(reps):
        for wl, _, _ in prepared:
            for side, loop in (("durable", durable_loop), ("oracle", oracle_loop)):
                run = loop(wl.items, per_rep)
                start = time.perf_counter()
                run()
                times.setdefault((wl.name, side), []).append((time.perf_counter() - start) / per_rep)
    for wl, compile_s, register_s in prepared:
        ds, os_ = times[(wl.name, "durable")], times[(wl.name, "oracle")]
        d, o = statistics.median(ds), statistics.median(os_)
        spread = (max(ds) - min(ds)) / d * 100
        plan = wl.items[0][0].plan
        results[wl.name] = (d, o)
        rows.append([wl.name, wl.n_criteria, str(len(plan.conditions)), str(len(plan.rules)),
                     f"{compile_s * 1000:.2f}", f"{register_s * 1000:.2f}",
                     f"{1 / d:,.0f}", f"{spread:.0f}%", f"{1 / o:,.0f}", f"{d / o:.1f}x"])

    print(table(["workload", "criteria", "conds", "rules", "compile ms", "register ms",
                 "durable eval/s", "spread", "oracle eval/s", "durable/oracle"], rows))
    print()
    print("outcomes (durable-rules and the oracle agree on the outcome, the deciding rule, limiter and floor "
          "for every distinct case):")
    print("\n".join(outcome_lines))
    print()
    print("compile ms: compile_criteria on in-memory models (Kent: all six sets together); "
          "register ms: first host().ensure_registered of a fresh ruleset, median;\n"
          "spread: (slowest - fastest) / median of the durable repetitions; durable/oracle: time per evaluation")
    subareas = next((wl, c) for wl, c, _ in prepared if wl.name.startswith("sub-areas"))
    print(f"target: a framework of 12 sub-areas and 5 levels compiles in under 1 s: {subareas[1] * 1000:.1f} ms -> "
          f"{'MET' if subareas[1] < 1 else 'NOT MET'}")
    kent_items = workloads[0].items
    ev_s = median_time(lambda: [Evidence.from_case(case, c.plan) for c, _, case, _ in kent_items * 100], reps)
    print(f"durable eval/s takes Evidence built in advance; Evidence.from_case adds "
          f"{ev_s / (len(kent_items) * 100) * 1e6:.1f} us per Kent case")
    print()

    print(appointment_line(catalog, reps, 200 if quick else 1000))
    print()
    print("\n".join(ledger_lines(catalog, quick)))
    print()
    print(lint_line(quick))
    print()

    # Memory, threads and session cleanup over a long run of the 30-criterion framework.
    gen30 = workloads[1]
    gc.collect()
    rss_before, threads_before = rss_kib(), threading.active_count()
    opened_before = host.sessions_opened
    start = time.perf_counter()
    durable_loop(gen30.items, memory_n)()
    elapsed = time.perf_counter() - start
    gc.collect()
    rss_after, threads_after = rss_kib(), threading.active_count()
    name = gen30.items[0][0].durable_name
    opened = host.sessions_opened - opened_before
    last_sid = host.sessions_opened
    host.release()  # the idle sessions kept for reuse: afterwards the C core must hold none
    left = host.sessions_held + host.live_session(name, last_sid)
    growth = None if rss_before is None or rss_after is None else rss_after - rss_before
    print(f"memory run: {memory_n:,} durable-rules evaluations of generated-30 in {elapsed:.1f} s "
          f"({memory_n / elapsed:,.0f} eval/s sustained)")
    print(f"  RSS      {mib(rss_before)} -> {mib(rss_after)}"
          + ("" if growth is None else f" ({growth / 1024:+.1f} MiB; {growth * 1024 / memory_n:+.1f} bytes/evaluation)")
          + f"   [process start {mib(rss_at_start)}]")
    print(f"  threads  {threads_before} -> {threads_after}   [process start {threads_at_start}]")
    print(f"  sessions opened during the run: {opened}; after release() held: {host.sessions_held}, "
          f"last (sid {last_sid}) live in the core: {bool(left)} -> {'deleted' if not left else 'LEAKED'}")
    print()

    # CLI wall time: a fresh process each run (interpreter start, imports, load, compile, score).
    arbiter = Path(sys.executable).parent / "arbiter"
    if not arbiter.exists():
        print(f"arbiter score: console script not found at {arbiter}; skipped")
    else:
        def run_cli(cmd):
            times = []
            for _ in range(5):
                start = time.perf_counter()
                proc = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True)
                times.append(time.perf_counter() - start)
                if proc.returncode != 0:
                    raise SystemExit(f"{' '.join(map(str, cmd))} exited {proc.returncode}: {proc.stderr.strip()}")
            return statistics.median(times), proc.stdout
        cli_s, out = run_cli([str(arbiter), "score", SCORE_CASE, "--format", "json"])
        outcome = json.loads(out.splitlines()[0])["outcome"]
        bare_s, _ = run_cli([sys.executable, "-c", "import engine.cli"])
        print(f"arbiter score {SCORE_CASE} --format json: {cli_s * 1000:.0f} ms wall, median of 5 "
              f"(outcome {outcome}); of which python start + import engine.cli: {bare_s * 1000:.0f} ms")
    print()

    d, o = results["generated-30"]
    eps, ratio = 1 / d, d / o
    met = eps >= TARGET_EPS and ratio <= TARGET_RATIO
    print(f"target: >= {TARGET_EPS:,} eval/s through durable-rules on the 30-criterion framework, within "
          f"{TARGET_RATIO:.0f}x of the oracle: {eps:,.0f} eval/s, {ratio:.1f}x -> {'MET' if met else 'NOT MET'}"
          f" (fastest repetition {1 / min(times[('generated-30', 'durable')]):,.0f} eval/s;"
          f" memory run sustained {memory_n / elapsed:,.0f} eval/s)")
    leaked = bool(left) or threads_after != threads_before
    return 1 if leaked else 0


if __name__ == "__main__":
    sys.exit(main())
