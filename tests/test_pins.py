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
