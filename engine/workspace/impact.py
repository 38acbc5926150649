"""Impact: what an edit to the criteria changes, case by case, before anyone approves it.

Every case is graded twice through durable-rules, by the same path as `arbiter score`:
under the criteria at a base (a git revision, read with `git archive` into a temporary
folder, never checked out over the working tree; or another folder) and under the working
tree. Decisions whose outcome, limiter or margin differ are listed with the first rule
firing that differs (compare.first_differing_firing, as `replay --with-current-criteria`
finds it) and every threshold of the plan that moved; the others are counted.

Which case file the base grades: the case as it was at the base when the base has a file at
the same place under cases/, else the working copy (a case added since). Either way each
side grades its file under its own criteria, so a finding added for a new criterion counts
only on the working side.
"""

from __future__ import annotations

import io
import multiprocessing
import shutil
import subprocess
import tarfile
import tempfile
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from contextlib import contextmanager
from functools import lru_cache
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Callable, Iterator, Optional

from ..compiler.plan import Plan, PlanCondition
from ..language.catalog import Catalog
from ..language.diagnostics import Diagnostic, DiagnosticError
from ..language.load import real_path
from ..language.options import option_error
from ..runtime.durable import EngineError
from .compare import first_differing_firing
from .parallel import Ties, check_jobs, cut_in_chunks, tied, ties_of
from .runner import Scored, case_files, decide_read, evidence_kind, files_below, published_source, read_each

BASE_FOLDERS = ("criteria", "cases")  # what a catalog needs to grade a case: its criteria, and the cases it takes grades from
AT_BASE, WORKING_COPY = "base", "working copy"
_GIT_TIMEOUT = 120


# --- the base -------------------------------------------------------------------------------

@dataclass(frozen=True)
class Base:
    """Where the base criteria come from, as the output names it, and the folder holding them."""

    name: str  # "HEAD (06c6537)" or the folder given
    root: Path


@contextmanager
def base_folder(root: Path, rev: Optional[str], folder: Optional[Path]) -> Iterator[Base]:
    """A temporary project folder holding the base's criteria/ and cases/, removed afterwards:
    read from git at rev, or copied from folder (which is never written to)."""
    with tempfile.TemporaryDirectory(prefix="arbiter-impact-") as temp:
        target = Path(temp)
        if folder is not None:
            name = _copy_base_folder(folder, target)
        else:
            name = _archive_revision(root, rev or "HEAD", target)
        yield Base(name, target)


def _copy_base_folder(folder: Path, target: Path) -> str:
    if not folder.is_dir():
        raise option_error("--base-dir", f"no such folder: {folder}",
                           "give a project folder that holds the criteria to compare with", "E100")
    if not (folder / "criteria").is_dir():
        raise option_error("--base-dir", f"{folder} has no criteria/ folder",
                           "give a project folder that holds the criteria to compare with", "E100")
    for name in BASE_FOLDERS:
        if (folder / name).is_dir():
            shutil.copytree(folder / name, target / name, symlinks=True)
    return str(folder)


def _archive_revision(root: Path, rev: str, target: Path) -> str:
    """The project's criteria/ and cases/ at rev, extracted from `git archive` (nothing in the
    working tree or the index is touched)."""
    prefix = _git(root, ["rev-parse", "--show-prefix"], f"{root} is not in a git checkout",
                  "give --base-dir with a folder holding the base criteria", "E100").strip()
    commit = _git(root, ["rev-parse", "--verify", "--quiet", "--end-of-options", f"{rev}^{{commit}}"],
                  f"'{rev}' is not a revision of this repository",
                  "give a commit, branch or tag, e.g. --base HEAD or --base main", "E174").strip()
    # Run in root, git reads paths from there and archives them with names from there.
    present = [name for name in BASE_FOLDERS if _git_bytes(root, ["ls-tree", "--name-only", commit, "--", name])]
    if "criteria" not in present:
        raise option_error("--base", f"revision '{rev}' has no criteria/ folder in {prefix or 'the repository root'}",
                           "give a revision that holds the criteria, or --base-dir", "E174")
    archive = _git_bytes(root, ["archive", "--format=tar", commit, "--", *present])
    with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
        if hasattr(tarfile, "data_filter"):  # refuses links out of the folder and absolute names
            tar.extractall(target, filter="data")
        else:
            tar.extractall(target)
    return f"{rev} ({commit[:7]})"


def _git(root: Path, args: list[str], problem: str, hint: str, code: str) -> str:
    """git's output, or the problem at --base when git refuses."""
    try:
        return _git_bytes(root, args).decode("utf-8", errors="replace")
    except DiagnosticError:
        raise option_error("--base", problem, hint, code) from None


def _git_bytes(root: Path, args: list[str]) -> bytes:
    try:
        done = subprocess.run(["git", "-C", str(root), *args], capture_output=True, timeout=_GIT_TIMEOUT)
    except (OSError, subprocess.TimeoutExpired) as error:
        raise option_error("--base", f"cannot run git: {error}", "install git, or give --base-dir", "E100") from None
    if done.returncode != 0:
        message = done.stderr.decode("utf-8", errors="replace").strip().splitlines()
        raise option_error("--base", f"git {args[0]} failed: {message[-1] if message else done.returncode}",
                           "check the revision, or give --base-dir", "E174")
    return done.stdout


def pair_with_base(catalog: Catalog, base: Base, paths: list[Path]) -> list[tuple[Path, Path, str]]:
    """(working file, the file the base grades, AT_BASE or WORKING_COPY) for each case file.
    Cases under cases/ that the base lacks are then put in its cases/ as they are now, so that
    a case taking a grade from a new case finds it on both sides."""
    root = real_path(catalog.root)
    pairs = []
    for path in paths:
        try:
            at_base = base.root / real_path(path).relative_to(root)
        except ValueError:  # outside the project: the base grades it as it is
            pairs.append((path, path, WORKING_COPY))
            continue
        pairs.append((path, at_base, AT_BASE if at_base.is_file() else WORKING_COPY))
    for path in files_below(catalog.root / "cases") if (catalog.root / "cases").is_dir() else []:
        at_base = base.root / real_path(path).relative_to(root)
        if not at_base.exists():
            at_base.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(path, at_base)
    for path, at_base, _ in pairs:
        if not at_base.exists():  # a case file under the project but outside cases/
            at_base.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(path, at_base)
    return pairs


# --- one decision compared --------------------------------------------------------------------

@dataclass(frozen=True)
class Side:
    """A decision as one side graded it; None fields when the side could not grade it."""

    outcome: str
    computed: str  # the rules' outcome, which a recorded judgement may differ from
    label: str  # the outcome's label, with the rules' outcome when a recorded judgement differs
    limiter: str  # the limiter that capped the grade, or ''
    margin: str  # "up 2, down 5": the fewest changes to the next level each way


@dataclass(frozen=True)
class DecisionChange:
    case: str  # the case file, relative to the project (or the ledger's decision id)
    decision: str  # the area's case id, or "candidate cand-a", "appointment ..."
    base_case: str  # AT_BASE or WORKING_COPY: which file the base graded
    before: Optional[Side]  # None: the base could not grade it (problem says why)
    after: Optional[Side]
    changed: tuple[str, ...]  # of "outcome", "limiter", "margin"
    firing: Optional[str]  # the first rule firing that differs
    thresholds: tuple[str, ...]  # "good criteria met, vast majority: at least 6 of 7 -> at least 5 of 7"
    published: Optional[str]  # where the grade the case reproduces is published, when it cites one
    problem: str = ""  # why a side could not grade it

    @property
    def base_graded_working_copy(self) -> bool:
        """The base has no such case file, so its criteria graded the working copy."""
        return self.base_case == WORKING_COPY

    @property
    def published_changed(self) -> bool:
        """A published grade's reproduction changes when the outcome (or the rules' outcome) does."""
        return self.published is not None and "outcome" in self.changed

    def to_json(self) -> dict[str, Any]:
        return {"case": self.case, "decision": self.decision, "base_case": self.base_case,
                "before": _side_json(self.before), "after": _side_json(self.after), "changed": list(self.changed),
                "first_differing_firing": self.firing, "thresholds_moved": list(self.thresholds),
                "published": self.published, "published_changed": self.published_changed,
                "problem": self.problem or None}


def _side_json(side: Optional[Side]) -> Optional[dict[str, Any]]:
    if side is None:
        return None
    return {"outcome": side.outcome, "computed_outcome": side.computed, "label": side.label,
            "limiter": side.limiter or None, "margin": side.margin}


@dataclass(frozen=True)
class FileImpact:
    """One case file: the decisions that changed, and how many did not."""

    changes: tuple[DecisionChange, ...]
    unchanged: int


def side_of(record: dict[str, Any]) -> Side:
    label = record.get("outcome_label", record["outcome"])
    computed = record.get("computed_outcome", record["outcome"])
    if computed != record["outcome"]:
        label += f" (rules: {record.get('computed_label', computed)})"
    limiter = (record.get("limiter") or {}).get("id", "")
    return Side(record["outcome"], computed, label, limiter, margin_text(record.get("margin")))


def margin_text(margin: Optional[dict[str, Any]]) -> str:
    """The fewest changes to the next level up and down, as the explanation's margin line counts them."""
    parts = []
    for direction in ("up", "down"):
        way = (margin or {}).get(direction) or {}
        status = way.get("status")
        if status == "found":
            parts.append(f"{direction} {way['fewest_changes']}")
        elif status == "beyond_limit":
            parts.append(f"{direction} more than {way['more_than']}")
        elif status == "unreachable":
            parts.append(f"{direction} unreachable")
        elif status == "no_level":
            parts.append(f"no level {direction}")
        elif status == "no_grade" and "no grade" not in parts:
            parts.append("no grade")
    return ", ".join(parts)


def compare_records(case: str, base_case: str, before: dict[str, Any], after: dict[str, Any],
                    plans: tuple[Optional[Plan], Optional[Plan]], published: Optional[str]) -> Optional[DecisionChange]:
    """The change between one decision graded under the base and under the working criteria,
    or None when its outcome, limiter and margin are the same."""
    old, new = side_of(before), side_of(after)
    changed = tuple(what for what, a, b in (("outcome", (old.outcome, old.computed), (new.outcome, new.computed)),
                                            ("limiter", old.limiter, new.limiter), ("margin", old.margin, new.margin))
                    if a != b)
    if not changed:
        return None
    return DecisionChange(case, decision_name(after), base_case, old, new, changed,
                          first_differing_firing(before, after), moved_thresholds(*plans), published)


def decision_name(record: dict[str, Any]) -> str:
    kind = record.get("kind", "case")
    return record["case"] if kind == "case" else f"{kind.replace('_', ' ')} {record['subject']}"


def decision_key(record: dict[str, Any]) -> tuple[str, str]:
    return record.get("kind", "case"), record["subject"]


# --- thresholds ---------------------------------------------------------------------------------

def condition_name(plan: Plan, condition: PlanCondition) -> str:
    """What a condition counts and the word that sets its threshold: 'good criteria met, vast majority'."""
    what = plan.quantity(condition.quantity).describe
    word = condition.quantifier.name.replace("_", " ") if condition.quantifier else None
    return f"{what}, {word}" if word else what


def moved_thresholds(base: Optional[Plan], working: Optional[Plan]) -> tuple[str, ...]:
    """Every condition whose threshold or count moved between two plans of one criteria set,
    matched by what it counts and the quantifier it reads (in order, when several do)."""
    if base is None or working is None:
        return ()
    before = _by_name(base)
    moved = []
    for name, conditions in _by_name(working).items():
        for old, new in zip(before.get(name, []), conditions):
            was, now = base.threshold_words(old), working.threshold_words(new)
            if was != now:
                moved.append(f"{name}: {was} -> {now}")
    return tuple(moved)


def _by_name(plan: Plan) -> dict[str, list[PlanCondition]]:
    named: dict[str, list[PlanCondition]] = {}
    for condition in plan.conditions:
        named.setdefault(condition_name(plan, condition), []).append(condition)
    return named


# --- one case file, both sides ----------------------------------------------------------------

def _plan_of(result: Optional[Scored]) -> Optional[Plan]:
    return result.source.compiled.plan if result is not None and result.kind == "case" else None


def file_impact(name: str, base_case: str, before: Optional[Scored], after: Optional[Scored],
                problems: tuple[list[Diagnostic], list[Diagnostic]]) -> FileImpact:
    """Every decision of one case file compared; a side that could not grade it is a change."""
    published = published_source(after) if after is not None else (published_source(before) if before else None)
    old = {decision_key(r): r for r in (before.records if before else [])}
    new = {decision_key(r): r for r in (after.records if after else [])}
    problem = _problem_text(problems[0], "the base") or _problem_text(problems[1], "the working criteria")
    changes: list[DecisionChange] = []
    unchanged = 0
    for key in list(old) + [k for k in new if k not in old]:
        if key in old and key in new:
            change = compare_records(name, base_case, old[key], new[key], (_plan_of(before), _plan_of(after)), published)
            unchanged += change is None
            changes += [change] if change else []
        else:  # decided on one side only: the other could not grade the file, or no longer decides this subject
            changes.append(_one_sided(name, base_case, old.get(key) or new[key], key in old, published, problem))
    if before is None and after is None:  # neither side could grade it: listed, with why
        changes.append(DecisionChange(name, name, base_case, None, None, (), None, (), published, problem))
    return FileImpact(tuple(changes), unchanged)


def _one_sided(name: str, base_case: str, record: dict[str, Any], at_base: bool, published: Optional[str],
               problem: str) -> DecisionChange:
    side = side_of(record)
    return DecisionChange(name, decision_name(record), base_case, side if at_base else None,
                          None if at_base else side, ("outcome",), None, (), published, problem)


def _problem_text(problems: list[Diagnostic], where: str) -> str:
    if not problems:
        return ""
    first = problems[0]
    more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
    return f"not graded under {where}: {first.code} {first.message}{more}"


def grade_pairs(root: str, base_root: str, pairs: list[tuple[str, str, str]]) -> list[FileImpact]:
    """Grade each (working file, base file, which) under both catalogs, as one run each."""
    return grade_chunk(root, base_root, pairs)[0]


def grade_chunk(root: str, base_root: str, pairs: list[tuple[str, str, str]]
                ) -> tuple[list[FileImpact], list[Ties], list[Ties]]:
    """As grade_pairs, with what ties each file to the other files of the whole run on either
    side (parallel.Ties): a chunk's files tied to files outside it are graded again with all
    of them. Run in a worker process too: everything it takes and returns is plain data."""
    working, base = _catalogs(root, base_root)
    after, after_ties = _scored_with_ties([Path(p) for p, _, _ in pairs], working)
    before, before_ties = _scored_with_ties([Path(b) for _, b, _ in pairs], base)
    return _file_impacts(root, pairs, before, after), after_ties, before_ties


def _scored_with_ties(paths: list[Path], catalog: Catalog) -> tuple[list, list[Ties]]:
    read = read_each(paths, catalog)
    return decide_read(read, catalog), [ties_of(path, item) for path, item, _ in read]


def _file_impacts(root: str, pairs: list[tuple[str, str, str]], before: list, after: list) -> list[FileImpact]:
    found = []
    for (path, _, which), (_, old, old_problems), (_, new, new_problems) in zip(pairs, before, after):
        found.append(file_impact(_shown(Path(path), Path(root)), which, old, new, (old_problems, new_problems)))
    return found


@lru_cache(maxsize=2)
def _catalogs(root: str, base_root: str) -> tuple[Catalog, Catalog]:
    """One pair of catalogs per run in each process, so each criteria set compiles once there,
    not once per chunk of cases (the base folder's name is new for every run)."""
    return Catalog(Path(root)), Catalog(Path(base_root))


def _shown(path: Path, root: Path) -> str:
    try:
        return real_path(path).relative_to(real_path(root)).as_posix()
    except ValueError:
        return str(path)


# --- every case -------------------------------------------------------------------------------

@dataclass(frozen=True)
class Impact:
    base: str
    cases: int  # case files graded
    changes: tuple[DecisionChange, ...]
    unchanged: int
    recorded: Optional[int] = None  # recorded decisions compared, when a ledger was given

    @property
    def published_changed(self) -> int:
        return sum(1 for c in self.changes if c.published_changed)

    def summary(self) -> str:
        published = self.published_changed
        marked = f", {published} of them {'a published grade' if published == 1 else 'published grades'}" \
            if published else ""
        ledger = f" and {_count(self.recorded, 'recorded decision')}" if self.recorded is not None else ""
        return (f"{_count(len(self.changes), 'decision')} changed{marked}; {_count(self.unchanged, 'decision')} "
                f"unchanged ({_count(self.cases, 'case file')}{ledger}; base: {self.base})")

    def to_json(self) -> dict[str, Any]:
        return {"format": "arbiter-impact/1", "base": self.base, "cases": self.cases,
                "changed": [c.to_json() for c in self.changes], "unchanged": self.unchanged,
                "published_changed": self.published_changed, "recorded": self.recorded}


def with_recorded(result: Impact, recorded: tuple[tuple[DecisionChange, ...], int]) -> Impact:
    """The impact on cases, followed by the impact on a ledger's recorded decisions."""
    changes, unchanged = recorded
    return replace(result, changes=result.changes + changes, unchanged=result.unchanged + unchanged,
                   recorded=len(changes) + unchanged)


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}{'' if n == 1 else 's'}"


Progress = Callable[[int, int], None]  # (files done, files in all)


def impact(catalog: Catalog, base: Base, paths: list[Path], jobs: int = 1,
           progress: Optional[Progress] = None) -> Impact:
    """Every case file below paths (default: cases/, not invalid/) graded under the base and the
    working criteria; the decisions that changed, in the order of the files whatever jobs is."""
    check_jobs(jobs)
    _refuse_other_files(paths)
    files = case_files(paths or [catalog.root / "cases"])
    pairs = [(str(w), str(b), which) for w, b, which in pair_with_base(catalog, base, files)]
    chunks = cut_in_chunks(pairs, jobs)
    impacts = _run_chunks(str(catalog.root), str(base.root), chunks, jobs, progress, len(pairs))
    return Impact(base.name, len(files), tuple(c for each in impacts for c in each.changes),
                  sum(each.unchanged for each in impacts))


def _refuse_other_files(paths: list[Path]) -> None:
    """A file named that is no case (criteria, decisions) is a mistake, not a decision that changed."""
    problems = []
    for path in paths:
        if not path.is_dir():
            try:
                evidence_kind(path, "arbiter impact grades cases")
            except DiagnosticError as error:
                problems += error.diagnostics
    if problems:
        raise DiagnosticError(problems)


def _run_chunks(root: str, base_root: str, chunks: list[list], jobs: int, progress: Optional[Progress],
                total: int) -> list[FileImpact]:
    """Each chunk graded, in this process (jobs 1) or over a pool started with 'spawn': each
    worker is a fresh interpreter with its own durable-rules host, never a fork of this one's.
    Files whose grades rest on files of other chunks (decision graphs, packs: parallel.tied, on
    either side) are graded again here, all together, so the output never depends on jobs."""
    graded = []
    if jobs == 1:
        for chunk in chunks:
            graded.append(grade_chunk(root, base_root, chunk))
            progress and progress(sum(len(c) for c in chunks[:len(graded)]), total)
    else:
        with ProcessPoolExecutor(max_workers=jobs, mp_context=multiprocessing.get_context("spawn")) as pool:
            futures = [pool.submit(grade_chunk, root, base_root, chunk) for chunk in chunks]
            try:
                for future in futures:  # in order
                    graded.append(future.result())
                    progress and progress(sum(len(c) for c in chunks[:len(graded)]), total)
            except BrokenProcessPool:
                raise EngineError("a process grading files ended unexpectedly (a crash inside durable-rules?); "
                                  "run without --jobs to see which file") from None
    impacts = [each for found, _, _ in graded for each in found]
    again = sorted(set(tied([t for _, after, _ in graded for t in after]))
                   | set(tied([t for _, _, before in graded for t in before])))
    pairs = [pair for chunk in chunks for pair in chunk]
    for index, regraded in zip(again, grade_pairs(root, base_root, [pairs[i] for i in again])):
        impacts[index] = regraded
    return impacts
