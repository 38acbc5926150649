"""A command imports what it needs and nothing else: `arbiter --help` starts without the
models, the rules engine or any driver, and `arbiter score` without the ledger, the reports
or the lint. Each check runs the command in a fresh interpreter and reads sys.modules
afterwards, so what another test imported cannot hide an import. Nothing here is timed."""

from __future__ import annotations

import subprocess
import sys

import pytest

from .conftest import ROOT

MARK = "--- modules ---"

# Run the command as the console script does, then list every module it left imported.
RUN_COMMAND = f"""
import sys
from engine.cli import main
try:
    main(sys.argv[1:])
except SystemExit:
    pass
print({MARK!r})
print("\\n".join(sorted(sys.modules)))
"""

# Loaded only by the commands that write a report or a PDF, or open a PostgreSQL ledger.
DRIVERS_AND_RENDERERS = ("psycopg", "jinja2", "markupsafe", "playwright")
# What starting the engine costs: the models, the YAML parser, the rules engine, the hashes.
ENGINE_AT_WORK = ("pydantic", "yaml", "durable", "durable_rules_engine", "orjson", "rfc8785", "importlib.metadata",
                  "tabulate", "openpyxl", "sqlite3", "multiprocessing")
PARTS = ("engine.language.models", "engine.language.catalog", "engine.compiler", "engine.runtime", "engine.workspace",
         "engine.inspections", "engine.appointments", "engine.ledger.ledger", "engine.lint", "engine.report")


def imported_by(*arguments: str) -> tuple[str, set[str]]:
    """(what the command printed, the modules imported once it has run)."""
    done = subprocess.run([sys.executable, "-c", RUN_COMMAND, *arguments], cwd=ROOT, capture_output=True,
                          text=True, timeout=300, check=True)
    printed, _, modules = done.stdout.partition(MARK + "\n")
    return printed, set(modules.split())


def loaded(modules: set[str], names: tuple[str, ...]) -> list[str]:
    """The names among modules, or below one of them (`engine.runtime.durable` for `engine.runtime`)."""
    return sorted(m for m in modules if any(m == name or m.startswith(name + ".") for name in names))


@pytest.mark.parametrize("arguments", [("--help",), ("score", "--help"), ("ledger", "--help"), ("report", "-h")])
def test_help_loads_no_part_of_the_engine_and_no_library_it_uses(arguments: tuple[str, ...]):
    printed, modules = imported_by(*arguments)
    assert "Example:" in printed, arguments
    # The command line's stand-in for pydantic's plugin loader (engine/cli.py) is not pydantic.
    assert loaded(modules - {"pydantic.plugin._loader"}, PARTS + ENGINE_AT_WORK + DRIVERS_AND_RENDERERS) == []


def test_the_version_is_the_engines():
    from engine.language.canonical import ENGINE_VERSION

    printed, modules = imported_by("--version")
    assert printed == f"arbiter, version {ENGINE_VERSION}\n"
    assert loaded(modules, DRIVERS_AND_RENDERERS + ("engine.workspace", "engine.ledger.ledger")) == []


def test_scoring_a_case_loads_no_ledger_report_lint_or_driver():
    printed, modules = imported_by("score", "cases/kent-2007/missing-persons.yaml", "--format", "json")
    assert printed.startswith('{"format": "arbiter-decision/1"'), printed[:200]
    assert "engine.runtime.durable" in modules  # durable-rules decided it
    assert loaded(modules, DRIVERS_AND_RENDERERS) == []
    stores = ("engine.ledger.ledger", "engine.ledger.postgres", "engine.ledger.audit", "sqlite3")
    assert loaded(modules, stores + ("engine.lint", "engine.report")) == []
    assert loaded(modules, ("engine.oracle", "engine.workspace.crosscheck")) == []  # `test` and a bad file need them


INSPECTION_CASE = "cases/kent-2007/child-abuse.yaml"
APPOINTMENT_PACK = "cases/appointments/kent-cc-2022/pack.yaml"  # with the selection, compliance and hearing it names
APPOINTMENT_WORDS = ("appointment", "pack", "selection", "hearing", "compliance")
PROCESS_POOL = ("multiprocessing", "concurrent.futures")


def appointment_modules() -> tuple[str, ...]:
    """The appointment part, and every module of the layers below it named for an appointment
    kind: read from the tree, so a module added there is covered too."""
    found = ["engine.appointments"]
    for layer in ("language", "compiler", "runtime", "oracle"):
        found += [f"engine.{layer}.{path.stem}" for path in sorted((ROOT / "engine" / layer).glob("*.py"))
                  if any(word in path.stem for word in APPOINTMENT_WORDS)]
    return tuple(found)


@pytest.mark.parametrize("output", [(), ("--format", "json")])
def test_scoring_an_inspection_case_loads_no_appointment_part_and_no_process_pool(output: tuple[str, ...]):
    printed, modules = imported_by("score", INSPECTION_CASE, *output)
    assert "Child abuse" in printed, printed[:200]
    assert "engine.runtime.durable" in modules  # durable-rules decided it
    assert len(appointment_modules()) > 10  # the tree was read
    assert loaded(modules, appointment_modules() + PROCESS_POOL) == []


def test_more_jobs_than_files_starts_no_process_pool():
    _, modules = imported_by("score", INSPECTION_CASE, "--jobs", "2", "--format", "json")
    assert loaded(modules, PROCESS_POOL) == []


def test_the_checks_see_the_appointment_part_and_the_pool_once_a_run_needs_them():
    """The check itself: a run that meets an appointment file, or spreads over processes, shows them."""
    _, modules = imported_by("score", INSPECTION_CASE, APPOINTMENT_PACK, "--jobs", "2", "--format", "json")
    assert {"engine.appointments.pack", "engine.runtime.selection", "engine.language.appointment_models"} <= modules
    assert "concurrent.futures.process" in modules


@pytest.mark.parametrize("output", [(), ("--format", "json")])
def test_an_appointment_file_after_an_inspection_case_scores_as_it_does_alone(output: tuple[str, ...]):
    """The appointment part, imported mid-way through a run, decides as it does when a run
    starts with it: the two files scored together print what each prints alone."""
    together, _ = imported_by("score", INSPECTION_CASE, APPOINTMENT_PACK, *output)
    case_alone, _ = imported_by("score", INSPECTION_CASE, *output)
    pack_alone, _ = imported_by("score", APPOINTMENT_PACK, *output)
    assert "kent-2007/child-abuse" in case_alone and "kent-cc-2022/pack" in pack_alone
    assert together == case_alone + pack_alone


def test_the_kinds_named_for_the_dispatch_are_the_appointment_parts_own():
    """The runner names the appointment kinds without importing that part; the validator knows
    each kind's model without importing every model. Both agree with the parts themselves."""
    from engine.appointments.appointments import EVIDENCE_KINDS, RULE_KINDS
    from engine.appointments.pack import KIND
    from engine.language.appointment_models import APPOINTMENT_MODELS
    from engine.language.models import MODELS
    from engine.language.pack_models import PACK_MODELS
    from engine.language.validate import ALL_MODELS, FILE_KINDS
    from engine.workspace import runner

    assert runner.APPOINTMENT_EVIDENCE_KINDS == EVIDENCE_KINDS
    assert runner.APPOINTMENT_RULE_KINDS == RULE_KINDS
    assert runner.PACK_KIND == KIND and runner.PACK_RULES_KIND in PACK_MODELS
    every_model = {**MODELS, **APPOINTMENT_MODELS, **PACK_MODELS}
    assert list(ALL_MODELS.items()) == list(every_model.items())
    assert FILE_KINDS == tuple(every_model)
    assert "no-such-kind" not in ALL_MODELS


def test_the_checks_see_an_import_a_command_makes():
    """The check itself: a command that reads the ledger shows the ledger's modules."""
    _, modules = imported_by("head", "--ledger", "no-such-ledger.sqlite")
    assert "engine.ledger.ledger" in loaded(modules, PARTS)
    assert "sqlite3" in modules


def test_importing_the_package_loads_the_api_on_demand():
    """`import engine` is cheap, and every name of the API is there when asked for, the same
    object as engine.api's; `lint` stays the API's function once the lint part is imported."""
    program = """
import sys
import engine
cheap = not any(m in sys.modules for m in ("pydantic", "engine.workspace.runner", "engine.ledger.ledger"))
missing = [name for name in engine.__all__ if getattr(engine, name) is not getattr(engine.api, name)]
import engine.lint
from engine.lint import LintReport
print(cheap, missing, engine.lint is engine.api.lint, LintReport.__module__)
"""
    done = subprocess.run([sys.executable, "-c", program], cwd=ROOT, capture_output=True, text=True, timeout=300,
                          check=True)
    assert done.stdout.split() == ["True", "[]", "True", "engine.lint"], done.stdout + done.stderr


def test_scoring_reads_no_package_metadata_but_for_the_table():
    """Neither pydantic's search for plugins nor the durable-rules version in every record
    imports importlib.metadata; the table printed by default does (tabulate looks up its own
    version when imported), which the check itself shows."""
    _, as_json = imported_by("score", INSPECTION_CASE, "--format", "json")
    _, as_table = imported_by("score", INSPECTION_CASE)
    assert loaded(as_json, ("importlib.metadata",)) == []
    assert "tabulate" in as_table and "importlib.metadata" in as_table


def test_the_command_line_gives_pydantic_no_plugins():
    """What a command validates with, under the name pydantic imports its plugin loader by; a
    library user's pydantic keeps its own loader."""
    program = """
import sys
import engine.cli
from engine.language.models import Case
Case.model_rebuild()
loader = sys.modules[engine.cli.PYDANTIC_PLUGIN_LOADER]
print(list(loader.get_plugins()), getattr(loader, "__file__", None))
"""
    done = subprocess.run([sys.executable, "-c", program], cwd=ROOT, capture_output=True, text=True, timeout=300,
                          check=True)
    assert done.stdout.split() == ["[]", "None"], done.stdout + done.stderr
    library = "import sys\nfrom engine.language.models import Case\nCase.model_rebuild()\n" \
              "print(sys.modules['pydantic.plugin._loader'].__file__)"
    done = subprocess.run([sys.executable, "-c", library], cwd=ROOT, capture_output=True, text=True, timeout=300,
                          check=True)
    assert done.stdout.strip().endswith("_loader.py"), done.stdout + done.stderr


def test_pydantic_still_imports_its_plugin_loader_by_that_name():
    """The name the command line fills in is the one the pinned pydantic asks for: a release
    that loads plugins otherwise fails here rather than searching for them unnoticed."""
    import inspect

    from pydantic.plugin import _schema_validator

    from engine.cli import PYDANTIC_PLUGIN_LOADER

    assert PYDANTIC_PLUGIN_LOADER == "pydantic.plugin._loader"
    assert "from ._loader import get_plugins" in inspect.getsource(_schema_validator.create_schema_validator)
