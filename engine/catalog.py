"""Catalog: where files live, found by id.

Ids are paths, so a reader of a case file can find its criteria without a lookup table:

    scale id        S  ->  criteria/scales/S.yaml
    framework id    F  ->  criteria/F/framework.yaml
    criteria set id C  ->  criteria/C.yaml        (compiled to rules/C.json)
    case id         K  ->  cases/K.yaml

The project root is the nearest directory above a file that holds `criteria/`.
Loaded files are cached per catalog, so a run over many cases reads each criteria file once.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from .diagnostics import Diagnostic, DiagnosticError
from .load import Document, display_path, load_file
from .models import Model
from .validate import to_model


@dataclass(frozen=True)
class Loaded:
    model: Model
    doc: Document


def find_root(start: Path) -> Path | None:
    start = start.resolve()
    for folder in [start, *start.parents] if start.is_dir() else list(start.parents):
        if (folder / "criteria").is_dir():
            return folder
    return None


@dataclass
class Catalog:
    root: Path
    _cache: dict = field(default_factory=dict)

    @classmethod
    def for_path(cls, path: Path, root: Path | None = None) -> "Catalog":
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
        key = path.resolve()
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


_KIND_LINE = re.compile(rb"^arbiter:\s*([a-z_]+)\s*$", re.M)


def declared_kind(path: Path) -> str | None:
    """The `arbiter:` kind a file declares, read cheaply without parsing the YAML."""
    try:
        found = _KIND_LINE.search(path.read_bytes()[:4096])
    except OSError:
        return None
    return found.group(1).decode() if found else None


def expected_id(path: Path, folder_name: str) -> str | None:
    """The id a file at path must declare: its path below the nearest `folder_name` folder."""
    resolved = path.resolve()
    for parent in resolved.parents:
        if parent.name == folder_name:
            return resolved.relative_to(parent).with_suffix("").as_posix()
    return None
