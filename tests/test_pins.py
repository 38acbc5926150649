"""The versions the outputs were measured on are the versions installed (constraints.txt)."""

from __future__ import annotations

import re
import tomllib
from importlib import metadata

from .conftest import ROOT


def _constraints() -> dict[str, str]:
    pins = {}
    for line in (ROOT / "constraints.txt").read_text(encoding="utf-8").splitlines():
        line = line.split("#", 1)[0].strip()
        if line:
            name, version = line.split("==")
            pins[name.strip()] = version.strip()
    return pins


def _normal(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def test_installed_versions_are_the_constrained_ones():
    wrong = {name: (version, metadata.version(name)) for name, version in _constraints().items()
             if metadata.version(name) != version}
    assert not wrong, f"installed versions differ from constraints.txt (wanted, installed): {wrong}"


def test_every_runtime_dependency_is_constrained():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    runtime = {_normal(re.split(r"[\[<>=!~ ]", spec, 1)[0]) for spec in project["dependencies"]}  # name without extras
    assert runtime <= {_normal(name) for name in _constraints()}


def test_durable_rules_is_pinned_exactly_in_the_package():
    """The engine's workarounds and limits were measured on 2.0.28; another release may differ."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    assert "durable-rules==2.0.28" in project["dependencies"]


def test_the_records_durable_rules_version_is_the_installed_one():
    """Read from the wheel's METADATA beside the package, it is what importlib.metadata says."""
    from engine.language.canonical import durable_rules_version

    assert durable_rules_version() == metadata.version("durable-rules") == "2.0.28"


def test_the_durable_rules_version_is_asked_of_importlib_metadata_without_that_folder(monkeypatch):
    import importlib.util

    from engine.language import canonical

    monkeypatch.setattr(importlib.util, "find_spec", lambda name: None)
    canonical.durable_rules_version.cache_clear()
    try:
        assert canonical.durable_rules_version() == metadata.version("durable-rules")
    finally:
        canonical.durable_rules_version.cache_clear()


def test_only_the_version_header_is_read(tmp_path):
    from engine.language.canonical import _metadata_version

    written = tmp_path / "METADATA"
    written.write_text("Metadata-Version: 2.1\nName: durable_rules\nVersion: 2.0.28\nSummary: x\n\nVersion: 9\n",
                       encoding="utf-8")
    assert _metadata_version(written) == "2.0.28"
    written.write_text("Metadata-Version: 2.1\nName: durable_rules\n\nVersion: 9\n", encoding="utf-8")
    assert _metadata_version(written) is None
