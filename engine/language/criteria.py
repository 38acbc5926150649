"""A criteria set read with the framework and scale it names: three validated files, checked
on their own and against each other, each problem located in its own file.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .canonical import canonical_json, canonical_model, sha256_bytes
from .catalog import Catalog, Loaded, expected_id
from .check import check_criteria_set, check_framework, check_scale
from .diagnostics import Diagnostic, DiagnosticError, suggest
from .load import Document, real_path
from .models import CriteriaSet, Framework, Scale


@dataclass(frozen=True)
class Criteria:
    """The three validated files a criteria set compiles from."""

    scale: Loaded
    framework: Loaded
    criteria: Loaded

    @property
    def sha256(self) -> str:
        return sha256_bytes(canonical_json(self.canonical()))

    @classmethod
    def from_models(cls, scale: Scale, framework: Framework, criteria: CriteriaSet) -> "Criteria":
        """Criteria built in code (generated frameworks in tests and benchmarks), not read from files."""
        def loaded(model, name):
            return Loaded(model, Document(f"<{name}>", model.model_dump(mode="json", by_alias=True)))
        return cls(loaded(scale, "scale"), loaded(framework, "framework"), loaded(criteria, "criteria"))

    def canonical(self) -> dict[str, Any]:
        """The criteria as data, without comments, layout or fields left at their defaults,
        so that the hash changes only when the criteria's meaning can."""
        return {"scale": canonical_model(self.scale.model), "framework": canonical_model(self.framework.model),
                "criteria": canonical_model(self.criteria.model)}


def load_criteria(catalog: Catalog, set_id: str, path: Path | None = None) -> Criteria:
    """Load a criteria set with its framework and scale, and check them (once per catalog).

    The set is read from its place under criteria/ unless another path is given.
    """
    path = path or catalog.criteria_path(set_id)
    return catalog.memo(("criteria", real_path(path)), lambda: _load_checked(catalog, path))


def _load_checked(catalog: Catalog, path: Path) -> Criteria:
    cs = _load(catalog, path, "criteria")
    problems = _id_matches_path(cs, path, "criteria")
    fw = load_framework(catalog, cs)
    scale = load_scale(catalog, fw)
    if problems:
        raise DiagnosticError(problems)
    criteria = Criteria(scale, fw, cs)
    check_criteria(criteria)
    return criteria


def check_criteria(criteria: Criteria) -> None:
    """Every cross-reference in and between the three files; all problems at once."""
    problems = check_scale(criteria.scale.model, criteria.scale.doc)
    problems += check_framework(criteria.framework.model, criteria.framework.doc, criteria.scale.model)
    if not problems:
        problems += check_criteria_set(criteria.criteria.model, criteria.criteria.doc,
                                       criteria.framework.model, criteria.framework.doc)
    if problems:
        raise DiagnosticError(problems)


def load_framework(catalog: Catalog, cs: Loaded) -> Loaded:
    """The framework a criteria set names; E120 at its `framework:` line when there is none."""
    return _load(catalog, catalog.framework_path(cs.model.framework), "framework",
                 referrer=(cs, ("framework",), catalog.framework_ids()))


def load_scale(catalog: Catalog, fw: Loaded) -> Loaded:
    """The scale a framework names; E120 at its `scale:` line when there is none."""
    return _load(catalog, catalog.scale_path(fw.model.scale), "scale", referrer=(fw, ("scale",), catalog.scale_ids()))


def _load(catalog: Catalog, path: Path, kind: str, referrer: tuple[Loaded, tuple, list[str]] | None = None) -> Loaded:
    if referrer and not path.is_file():
        loaded, loc, known = referrer
        name = loaded.doc.data.get(loc[0])
        raise DiagnosticError([loaded.doc.diag(loc, "E120", f"unknown {kind} '{name}' "
                                                            f"(no file {path.relative_to(catalog.root).as_posix()})",
                                               suggest(str(name), known))])
    return catalog.load(path, kind)


def _id_matches_path(loaded: Loaded, path: Path, folder: str) -> list[Diagnostic]:
    want = expected_id(path, folder)
    got = loaded.model.id
    if want is not None and got != want:
        return [loaded.doc.diag(("id",), "E115", f"id '{got}' does not match the file's place ({want})",
                                f"write id: {want}")]
    return []
