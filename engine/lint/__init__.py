"""Lint: what `arbiter lint` says about criteria sets and frameworks, before any case is graded.

    lint(catalog, paths) -> LintReport

The stage validates the files named (criteria sets, frameworks, folders of them) with the
project's own loader and stops there on any problem, as `validate` does. Then, per criteria
set, it runs the exhaustive analysis (space.py: overlaps, gaps, unreachable grades,
limiters, floors and conditions, each shown by a witness evidence record that durable-rules
grades) and the static checks (static.py: a `choice:` stating another number, a change
without a new version, criteria no grade reads), and applies the reviewed exceptions the
files carry (`lint:`). render.py renders a report as text, JSON or GitHub annotations;
written.py writes the witnesses out as case files.

Imports: language, compiler, runtime, inspections and workspace.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path
from typing import Callable, Iterable, Optional, Sequence

from ..compiler.compile import compile_set
from ..language.catalog import Catalog, Loaded, declared_kind
from ..language.criteria import load_criteria
from ..language.diagnostics import Diagnostic, DiagnosticError, sorted_unique
from ..language.load import display_path, real_path
from ..language.models import LintException
from ..workspace.runner import validate_file, yaml_files
from . import static
from .findings import LINT_CODES, LintFinding
from .space import analyse

LINTED_KINDS = ("criteria", "framework")
Analyse = Callable[[Catalog, str], list[LintFinding]]


@dataclass(frozen=True)
class LintReport:
    """Every finding (sorted by place), which criteria sets and files were linted."""

    findings: tuple[LintFinding, ...]
    criteria_sets: tuple[str, ...]
    files: tuple[str, ...]

    def count(self, severity: str) -> int:
        """Findings of a severity that no reviewed exception accepts."""
        return sum(1 for f in self.findings if f.severity == severity and f.accepted is None)

    @property
    def accepted(self) -> int:
        return sum(1 for f in self.findings if f.accepted is not None)

    @property
    def failed(self) -> bool:
        """An error remains: `arbiter lint` exits 1."""
        return self.count("error") > 0


@dataclass(frozen=True)
class Targets:
    """What a lint run covers: criteria set ids, and the files named or implied."""

    set_ids: tuple[str, ...]
    files: tuple[Path, ...]


def lint(catalog: Catalog, paths: Sequence[Path] = ()) -> LintReport:
    """Lint the criteria sets and frameworks below paths (default: the whole criteria/ folder);
    a framework stands for every criteria set of it. Invalid files raise DiagnosticError."""
    targets = lint_targets(catalog, list(paths) or [catalog.criteria_dir])
    validate_targets(catalog, targets)
    return lint_sets(catalog, targets, analyse)


def lint_targets(catalog: Catalog, paths: list[Path]) -> Targets:
    """The criteria sets named by paths, directly or through their framework. A file of another
    kind named directly is refused (E114); in a folder, other kinds are passed over."""
    files: list[Path] = []
    problems: list[Diagnostic] = []
    for path in paths:
        found = yaml_files([path])
        linted = [f for f in found if declared_kind(f) in LINTED_KINDS]
        if not linted:
            problems.append(_not_lintable(path))
        files += linted
    if problems:
        raise DiagnosticError(problems)
    sets: list[str] = []
    frameworks = {_framework_id(catalog, f) for f in files if declared_kind(f) == "framework"}
    for set_id in catalog.criteria_set_ids():
        path = catalog.criteria_path(set_id)
        named = any(real_path(path) == real_path(f) for f in files)
        if named or _set_framework(catalog, set_id) in frameworks:
            sets.append(set_id)
    _refuse_sets_outside(catalog, [f for f in files if declared_kind(f) == "criteria"])
    # each set's framework is read too (its quantifiers, its version, its exceptions)
    implied = [p for s in sets for p in (catalog.criteria_path(s), _framework_path(catalog, s)) if p is not None]
    return Targets(tuple(sets), tuple(dict.fromkeys(real_path(p) for p in [*files, *implied])))


def _not_lintable(path: Path) -> Diagnostic:
    what = "folder holds no" if path.is_dir() else "file is not a"
    return Diagnostic(display_path(path), 0, 0, "E114", f"the {what} criteria set or framework",
                      "give criteria set files (arbiter: criteria), framework files, or folders of them")


def _framework_id(catalog: Catalog, path: Path) -> Optional[str]:
    try:
        return catalog.load(path, "framework").model.id
    except DiagnosticError:
        return None  # validation reports it


def _set_framework(catalog: Catalog, set_id: str) -> Optional[str]:
    try:
        return catalog.load(catalog.criteria_path(set_id), "criteria").model.framework
    except DiagnosticError:
        return None


def _framework_path(catalog: Catalog, set_id: str) -> Optional[Path]:
    framework = _set_framework(catalog, set_id)
    path = catalog.framework_path(framework) if framework else None
    return path if path is not None and path.is_file() else None  # a missing one is the set's E120


def _refuse_sets_outside(catalog: Catalog, named: list[Path]) -> None:
    """A criteria set is analysed from its place under criteria/, where its id puts it."""
    known = {real_path(catalog.criteria_path(s)) for s in catalog.criteria_set_ids()}
    outside = [p for p in named if real_path(p) not in known]
    if outside:
        raise DiagnosticError([Diagnostic(display_path(p), 1, 1, "E115",
                                          f"a criteria set is linted at its place under {display_path(catalog.criteria_dir)}",
                                          "move it to criteria/<id>.yaml, or pass --root for the project it belongs to")
                               for p in outside])


def validate_targets(catalog: Catalog, targets: Targets) -> None:
    """Every file of the run, validated as `arbiter validate` does; all problems at once."""
    problems: list[Diagnostic] = []
    for path in targets.files:
        try:
            validate_file(path, catalog)
        except DiagnosticError as error:
            problems += error.diagnostics
    if problems:
        raise DiagnosticError(sorted_unique(problems))


def lint_sets(catalog: Catalog, targets: Targets, analyse: Analyse) -> LintReport:
    """The findings of valid criteria sets, with the reviewed exceptions applied."""
    by_framework: dict[str, list[str]] = {}
    for set_id in targets.set_ids:
        by_framework.setdefault(load_criteria(catalog, set_id).framework.model.id, []).append(set_id)
    findings: list[LintFinding] = []
    for framework_id, set_ids in by_framework.items():
        findings += _lint_framework(catalog, framework_id, set_ids, analyse)
    files = [display_path(p) for p in targets.files]
    return LintReport(tuple(sorted(findings, key=LintFinding.sort_key)), targets.set_ids, tuple(files))


def _lint_framework(catalog: Catalog, framework_id: str, set_ids: list[str], analyse: Analyse) -> list[LintFinding]:
    framework = load_criteria(catalog, set_ids[0]).framework
    framework_before = static.committed(catalog.framework_path(framework_id))
    found = static.choice_findings(framework)
    found += _present([static.framework_version_finding(framework, framework_before)])
    exceptions = [Reviewed(framework, i, e, None) for i, e in enumerate(framework.model.lint)]
    for set_id in set_ids:
        criteria = load_criteria(catalog, set_id).criteria
        own = [Reviewed(criteria, i, e, set_id) for i, e in enumerate(criteria.model.lint)]
        marked, unused = apply_exceptions(_set_findings(catalog, set_id, framework, framework_before, analyse), own)
        found += marked + unused
    # a framework's exception may be meant for a set not linted this time
    every_set = set(set_ids) == {s for s in catalog.criteria_set_ids() if _set_framework(catalog, s) == framework_id}
    marked, unused = apply_exceptions(found, exceptions)
    return marked + (unused if every_set else [])


def _set_findings(catalog: Catalog, set_id: str, framework: Loaded, framework_before: static.Committed,
                  analyse: Analyse) -> list[LintFinding]:
    criteria = load_criteria(catalog, set_id).criteria
    found = list(analyse(catalog, set_id))
    found += static.unread_criteria(criteria, compile_set(catalog, set_id).plan)
    found += _present([static.set_version_finding(criteria, static.committed(catalog.criteria_path(set_id)),
                                                  framework, framework_before)])
    return found


def _present(findings: Iterable[Optional[LintFinding]]) -> list[LintFinding]:
    return [f for f in findings if f is not None]


# --- reviewed exceptions -------------------------------------------------------------------

@dataclass(frozen=True)
class Reviewed:
    """A reviewed exception where it is written: in a framework (criteria_set None: it covers
    every set of the framework, and the framework's own findings) or in one criteria set."""

    file: Loaded
    index: int
    entry: LintException
    criteria_set: Optional[str]

    def matches(self, finding: LintFinding) -> bool:
        if finding.code != self.entry.code or finding.accepted is not None:
            return False
        if self.entry.about is not None and finding.about != self.entry.about:
            return False
        return self.criteria_set is None or finding.criteria_set == self.criteria_set

    def unused(self) -> LintFinding:
        line, col = self.file.doc.where(("lint", self.index, "code"))
        about = f" about {self.entry.about}" if self.entry.about else ""
        return LintFinding("L213", "warning", self.file.doc.path, line, col,
                           f"the reviewed exception for {self.entry.code} {LINT_CODES[self.entry.code]}{about} "
                           "matches no finding", criteria_set=self.criteria_set or "",
                           about=self.entry.about or self.entry.code,
                           suggestion="remove it: what it accepted is gone (or correct its code or about:)")


def apply_exceptions(findings: list[LintFinding], exceptions: list[Reviewed]) -> tuple[list[LintFinding], list[LintFinding]]:
    """(findings, each marked accepted with the reason of the first exception matching it;
    an L213 finding for each exception that matched none)."""
    used: set[int] = set()
    marked = []
    for finding in findings:
        match = next((i for i, e in enumerate(exceptions) if e.matches(finding)), None)
        if match is not None:
            used.add(match)
            finding = replace(finding, accepted=exceptions[match].entry.reason)
        marked.append(finding)
    return marked, [e.unused() for i, e in enumerate(exceptions) if i not in used]
