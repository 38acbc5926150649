"""Catalog: where files live, found by id.

Ids are paths, so a reader of a case file can find its criteria without a lookup table:

    scale id        S  ->  criteria/scales/S.yaml
    framework id    F  ->  criteria/F/framework.yaml
    criteria set id C  ->  criteria/C.yaml        (compiled to rules/C.json)
    case id         K  ->  cases/K.yaml

The project root is the nearest directory above a file that holds `criteria/`.
Loaded files are cached per catalog by path and kind, so a run over many cases reads each
criteria file once, and a file looked up as another kind than its own is an E114, not a
model of the wrong shape.
"""

from __future__ import annotations

import errno
import os
import re
import stat
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from .diagnostics import Diagnostic, DiagnosticError
from .load import MAX_BYTES, Document, display_path, load_file, read_regular_file, real_path
from .models import Model
from .options import option_error
from .validate import to_model


@dataclass(frozen=True)
class Loaded:
    model: Model
    doc: Document


def find_root(start: Path) -> Path | None:
    start = real_path(start)
    for folder in [start, *start.parents] if _is_dir(start) else list(start.parents):
        if _is_dir(folder / "criteria"):
            return folder
    return None


def _is_dir(path: Path) -> bool:
    try:
        return stat.S_ISDIR(os.stat(path).st_mode)
    except (OSError, ValueError):  # a name too long, a link loop: not a folder we can use
        return False


def _check_root(root: Path) -> None:
    """--root must name a project folder; saying so beats every lookup in it failing."""
    if not _is_dir(root):
        raise option_error("--root", f"no such folder: {root}", "give the project folder that holds criteria/",
                           "E100")
    if not _is_dir(root / "criteria"):
        raise option_error("--root", f"{root} has no criteria/ folder",
                           "give the project folder that holds criteria/", "E100")


MISSING = "missing"
REGULAR = "file"


def file_status(path: Path) -> str:
    """REGULAR for a regular file, MISSING when nothing is there, else why it cannot be read.

    An id becomes a path, and a path can fail in more ways than being absent (a name too
    long, a link loop, no permission); those are reported as they are, never as a traceback.
    """
    try:
        mode = os.stat(path).st_mode
    except FileNotFoundError:
        return MISSING
    except OSError as error:
        return MISSING if error.errno == errno.ENOTDIR else (error.strerror or str(error))
    except ValueError as error:  # a NUL in the name
        return str(error)
    return REGULAR if stat.S_ISREG(mode) else "not a regular file"


@dataclass
class Catalog:
    root: Path
    _cache: dict = field(default_factory=dict)

    @classmethod
    def for_path(cls, path: Path, root: Path | None = None) -> "Catalog":
        if root is not None:
            _check_root(root)
        found = root or find_root(path) or find_root(Path.cwd())
        if found is None:
            raise DiagnosticError([Diagnostic(display_path(path), 0, 0, "E100",
                                              "no criteria/ folder found above this file or the working directory",
                                              "run arbiter from the project folder, or pass --root")])
        return cls(found)

    @property
    def criteria_dir(self) -> Path:
        return self.root / "criteria"

    @property
    def rules_dir(self) -> Path:
        return self.root / "rules"

    def scale_path(self, scale_id: str) -> Path:
        return self.criteria_dir / "scales" / f"{scale_id}.yaml"

    def framework_path(self, framework_id: str) -> Path:
        return self.criteria_dir / framework_id / "framework.yaml"

    def criteria_path(self, set_id: str) -> Path:
        return self.criteria_dir / f"{set_id}.yaml"

    def ruleset_path(self, set_id: str) -> Path:
        return self.rules_dir / f"{set_id}.json"

    def memo(self, key: tuple, make):
        """Compute once per catalog: compiled sets, indexes."""
        if key not in self._cache:
            self._cache[key] = make()
        return self._cache[key]

    def load(self, path: Path, kind: str) -> Loaded:
        """The file at path read as kind; E114 (in the file) when it declares another kind."""
        key = ("file", real_path(path), kind)  # by kind too: one path must never answer as two kinds
        if key not in self._cache:
            doc = load_file(path)
            self._cache[key] = Loaded(to_model(doc, kind), doc)
        return self._cache[key]

    def scale_ids(self) -> list[str]:
        return sorted(p.stem for p in (self.criteria_dir / "scales").glob("*.yaml"))

    def framework_ids(self) -> list[str]:
        return sorted(p.parent.relative_to(self.criteria_dir).as_posix()
                      for p in self.criteria_dir.rglob("framework.yaml"))

    def criterion_homes(self) -> dict[str, str]:
        """Which criteria set each criterion id belongs to (sets that do not load are skipped)."""
        def index() -> dict[str, str]:
            homes: dict[str, str] = {}
            for set_id in self.criteria_set_ids():
                try:
                    loaded = self.load(self.criteria_path(set_id), "criteria")
                except DiagnosticError:
                    continue
                for criterion in loaded.model.criteria:
                    homes.setdefault(criterion.id, set_id)
            return homes

        return self.memo(("criterion_homes",), index)

    def ids_of_kind(self, kind: str) -> list[str]:
        """Every file under criteria/ of one kind, by id (its path), in a stable order."""
        return self.memo(("ids", kind), lambda: [
            path.relative_to(self.criteria_dir).with_suffix("").as_posix()
            for path in sorted(self.criteria_dir.rglob("*.yaml")) if declared_kind(path) == kind])

    def criteria_set_ids(self) -> list[str]:
        """Every criteria set under criteria/, by id, in a stable order."""
        return self.ids_of_kind("criteria")

    def path_of(self, file_id: str) -> Path:
        """Where a file of the appointment kinds lives: criteria/<id>.yaml."""
        return self.criteria_dir / f"{file_id}.yaml"

    def case_path(self, case_id: str) -> Path:
        """Where a case (inspection or appointment evidence) lives: cases/<id>.yaml."""
        return self.root / "cases" / f"{case_id}.yaml"

    def case_ids_of_kind(self, kind: str) -> list[str]:
        """Every case under cases/ of one kind, by id, in a stable order (examples under invalid/ left out)."""
        cases = self.root / "cases"
        return self.memo(("case-ids", kind), lambda: [
            path.relative_to(cases).with_suffix("").as_posix() for path in sorted(cases.rglob("*.yaml"))
            if "invalid" not in path.relative_to(cases).parts and declared_kind(path) == kind])


# The top-level `arbiter:` line, written as the YAML reader reads it: plain or quoted, with or
# without a comment after it. Top level means column 0, where no block text can start a line.
_KIND_LINE = re.compile(rb"""^arbiter:[ \t]*(["']?)([a-z_]+)\1[ \t]*(?:#[^\n]*)?\r?$""", re.M)
_KIND_BYTES = MAX_BYTES  # the whole file, as the loader would read it: a long header comment hides nothing


def file_of_kind(path: Path, given: str, option: str, kind: str, what: str,
                 unknown: Callable[[], DiagnosticError], hint: str) -> Path:
    """The file a command-line id or path names, which must be a readable file of kind: nothing
    there is `unknown()` (an E120 with a did-you-mean), an unreadable one E100, a file of
    another kind E114, each at the option."""
    found = file_status(path)
    if found == MISSING:
        raise unknown()
    if found != REGULAR:
        raise option_error(option, f"cannot read {what} '{given}': {found}", "check the id", "E100")
    declared = declared_kind(path)
    if declared is not None and declared != kind:
        raise option_error(option, f"'{given}' is {kind_phrase(declared)} file, not a {what}", hint, "E114")
    return path


def declared_kind(path: Path) -> str | None:
    """The `arbiter:` kind a file declares, read cheaply without parsing the YAML.

    None for anything that is not a readable regular file: a pipe or a device found while
    searching a folder is never opened.
    """
    try:
        found = _KIND_LINE.search(read_regular_file(path, _KIND_BYTES)[:_KIND_BYTES])
    except (OSError, ValueError):
        return None
    return found.group(2).decode() if found else None


def kind_phrase(kind: str) -> str:
    """The kind in words with its article: 'a selection process', 'an appointment'."""
    words = kind.replace("_", " ")
    return ("an " if words[0] in "aeiou" else "a ") + words


def expected_id(path: Path, folder_name: str) -> str | None:
    """The id a file at path must declare: its path below the nearest `folder_name` folder."""
    resolved = real_path(path)
    for parent in resolved.parents:
        if parent.name == folder_name:
            return resolved.relative_to(parent).with_suffix("").as_posix()
    return None
