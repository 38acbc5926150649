"""The documentation says what the code does: every code, field and message is in it."""

from __future__ import annotations

from pydantic import BaseModel

from engine.language import appointment_models, models, pack_models
from engine.language.diagnostics import CODES

from .conftest import ROOT

LANGUAGE = (ROOT / "criteria" / "README.md").read_text(encoding="utf-8")


def test_every_diagnostic_code_is_documented():
    for code, name in CODES.items():
        assert f"### {code} {name}" in LANGUAGE, code


def test_every_golden_diagnostic_is_quoted_exactly():
    """criteria/README.md quotes each invalid example's messages as Arbiter prints them."""
    for golden in sorted((ROOT / "cases" / "invalid").glob("*.expected")):
        assert golden.read_text(encoding="utf-8").rstrip("\n") in LANGUAGE, golden.name


def test_every_field_of_every_file_kind_is_documented():
    for module in (models, appointment_models, pack_models):
        for value in vars(module).values():
            if isinstance(value, type) and issubclass(value, BaseModel) and value is not models.Model:
                for name, field in value.model_fields.items():
                    assert f"{field.alias or name}:" in LANGUAGE or f"`{field.alias or name}" in LANGUAGE, \
                        f"{value.__name__}.{field.alias or name}"


def test_every_file_kind_is_documented():
    from engine.language.validate import FILE_KINDS

    for kind in FILE_KINDS:
        assert f"`{kind}`" in LANGUAGE, kind


def test_readme_quick_start_has_exactly_two_commands_and_ci_runs_the_second():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    block = readme.split("## Quick start", 1)[1].split("```sh", 1)[1].split("```", 1)[0]
    commands = [line for line in block.strip().splitlines() if line.strip()]
    assert len(commands) == 2
    assert commands[1] in (ROOT / ".ci" / "run").read_text(encoding="utf-8")


def test_the_readme_score_example_is_what_score_prints():
    """The Commands section's `arbiter score` example: every line it shows whole (not `...`) is
    a line the command prints."""
    from click.testing import CliRunner

    from engine.cli import main

    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    block = readme.split("```\n$ arbiter score ", 1)[1].split("```", 1)[0]
    case, *shown = block.splitlines()
    printed = CliRunner().invoke(main, ["score", str(ROOT / case)]).stdout.splitlines()
    whole = [line for line in shown if line.strip() != "..."]
    assert len(whole) >= 8
    for line in whole:
        assert line in printed, line
