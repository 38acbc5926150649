"""The layout of engine/ is its architecture: each part imports only the parts below it.

README.md (Layout) states the rules; each package's __init__.py says what its part may
import. Every import in every module is read from its source, at any depth (inside
functions too), so a lower part reaching up fails here whatever the import style.
"""

from __future__ import annotations

import ast
from pathlib import Path

from .conftest import ROOT

ENGINE = ROOT / "engine"

# part -> the parts it may import (its own modules aside). At the top, api.py may import any
# part, and cli.py only api.py; no part may import the top.
MAY_IMPORT = {
    "language": set(),
    "compiler": {"language"},
    "runtime": {"language", "compiler"},
    "oracle": {"language"},  # never what it checks: the compiler's plan or the runtime
    "inspections": {"language", "compiler", "runtime"},
    "appointments": {"language", "compiler", "runtime"},
    "workspace": {"language", "compiler", "runtime", "oracle", "inspections", "appointments"},
    "ledger": {"language", "compiler", "runtime", "inspections", "appointments", "workspace"},
    "lint": {"language", "compiler", "runtime", "inspections", "workspace"},
    "report": {"language", "compiler", "inspections", "appointments", "workspace", "ledger"},
}
TOP = "top"
DURABLE_RULES = ("durable_rules", "durable_rules_engine", "durable")  # the library's top-level names
DURABLE_MODULE = ENGINE / "runtime" / "durable.py"
CLI_MODULE = ENGINE / "cli.py"


def part_of(module: str) -> str:
    """The part an `engine...` module name belongs to: a package under engine/, or the top."""
    names = module.split(".")
    assert names[0] == "engine", module
    if len(names) > 1 and names[1] in MAY_IMPORT:
        return names[1]
    return TOP


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports(path: Path, source: str) -> list[tuple[int, str]]:
    """(line, absolute module name) of every import in a file, relative ones resolved. For
    `from package import name` both the package and `package.name` are given, since the name
    may be a module."""
    here = module_name(path)
    package = here if path.name == "__init__.py" else here.rpartition(".")[0]
    found: list[tuple[int, str]] = []
    for node in ast.walk(ast.parse(source, str(path))):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[:len(base) - (node.level - 1)]
                module = ".".join(base + ([node.module] if node.module else []))
            else:
                module = node.module or ""
            found.append((node.lineno, module))
            found += [(node.lineno, f"{module}.{alias.name}") for alias in node.names if alias.name != "*"]
    return found


def engine_modules() -> dict[Path, str]:
    return {path: path.read_text(encoding="utf-8") for path in sorted(ENGINE.rglob("*.py"))}


def violations(sources: dict[Path, str]) -> list[str]:
    problems = []
    for path, source in sources.items():
        mine = part_of(module_name(path))
        for line, module in imports(path, source):
            where = f"{path.relative_to(ROOT)}:{line}"
            if module.split(".")[0] in DURABLE_RULES and path != DURABLE_MODULE:
                problems.append(f"{where}: imports {module}; only engine/runtime/durable.py imports durable-rules")
            if module.split(".")[0] != "engine" or module in ("engine", "engine.__version__"):
                continue
            theirs = part_of(module)
            if path == CLI_MODULE:
                if module != "engine.api" and not module.startswith("engine.api."):
                    problems.append(f"{where}: cli imports {module}; cli imports only engine.api")
                continue
            if theirs == mine or mine == TOP:
                continue
            if theirs == TOP or theirs not in MAY_IMPORT[mine]:
                allowed = ", ".join(sorted(MAY_IMPORT[mine])) or "no other part"
                problems.append(f"{where}: {mine} imports {theirs}; {mine} may import {allowed}")
    return list(dict.fromkeys(problems))  # `from ..runtime import durable` names runtime twice


def test_every_part_is_a_package_that_says_what_it_may_import():
    packages = {p.name for p in ENGINE.iterdir() if (p / "__init__.py").is_file()}
    assert packages == set(MAY_IMPORT)
    for part in MAY_IMPORT:
        assert "Imports:" in (ENGINE / part / "__init__.py").read_text(encoding="utf-8"), part


def test_the_rules_have_no_cycle():
    """Below is a strict order: no part may import, even indirectly, one that may import it."""
    def reach(part: str, seen: frozenset[str] = frozenset()) -> set[str]:
        assert part not in seen, f"cycle through {part}"
        return set().union(*({p} | reach(p, seen | {part}) for p in MAY_IMPORT[part]))
    for part in MAY_IMPORT:
        assert part not in reach(part)


def test_each_part_imports_only_the_parts_below_it():
    assert engine_modules(), ENGINE
    problems = violations(engine_modules())
    assert not problems, "\n".join(problems)


def test_a_lower_part_importing_a_higher_one_is_caught():
    """The check itself: a language module reaching for runtime, the top, or durable-rules."""
    check = ENGINE / "language" / "check.py"
    for text in ("from ..runtime import durable\n", "from ..runtime.decide import evaluate\n",
                 "def late():\n    from engine.workspace.runner import score_file\n", "from ..api import score\n",
                 "import durable_rules_engine\n",
                 "from .. import oracle\n"):
        assert len(violations({check: check.read_text(encoding="utf-8") + text})) == 1, text


def test_an_oracle_reaching_for_what_it_checks_is_caught():
    """The oracle decides from the criteria as written: importing the compiler (its plan,
    thresholds or rule order) or the runtime would let it agree with their mistakes."""
    for module in ("reference.py", "appointment_reference.py"):
        oracle = ENGINE / "oracle" / module
        source = oracle.read_text(encoding="utf-8")
        assert not violations({oracle: source}), module
        for text in ("from ..compiler.plan import Plan\n", "from ..compiler.compile import fraction_threshold\n",
                     "from ..compiler import hearing\n", "from ..runtime import tally\n",
                     "def late():\n    from engine.compiler.compile import compile_criteria\n"):
            assert len(violations({oracle: source + text})) == 1, (module, text)


def test_the_cli_is_built_on_the_api_alone():
    cli = CLI_MODULE.read_text(encoding="utf-8")
    assert not violations({CLI_MODULE: cli})
    assert violations({CLI_MODULE: cli + "from .workspace.runner import score_file\n"}), "the CLI reaching past the API"
    assert violations({CLI_MODULE: cli + "from .ledger import audit\n"}), "the CLI reaching past the API"


def test_engine_exports_exactly_the_api():
    import types

    import engine
    from engine import api

    public = {name for name in dir(engine)  # the API's names are bound when first used
              if not name.startswith("_") and not isinstance(getattr(engine, name), types.ModuleType)}
    assert public | {"__version__"} == set(api.__all__) == set(engine.__all__)
    assert all(hasattr(api, name) for name in api.__all__)


def ledger_modules_imported_by(path: Path) -> set[str]:
    """The modules of the ledger part a file imports (a name imported from one counts as it)."""
    modules = {module for _, module in imports(path, path.read_text(encoding="utf-8")) if module.startswith("engine.")}
    return {module for module in modules if part_of(module) == "ledger" and module.count(".") == 2}


def parts_imported_by(path: Path) -> set[str]:
    return {part_of(module) for _, module in imports(path, path.read_text(encoding="utf-8"))
            if module.startswith("engine.")}


def test_the_ledger_stores_import_the_language_and_the_chain_alone():
    """README (Layout): the stores under the ledger commands need nothing but the language and
    the hash recipe (chain.py, which imports the language alone); the PostgreSQL store also
    takes what both stores share from the SQLite one."""
    ledger = ENGINE / "ledger"
    assert parts_imported_by(ledger / "chain.py") <= {"language"}
    for store, shared in (("ledger.py", {"engine.ledger.chain"}),
                          ("postgres.py", {"engine.ledger.chain", "engine.ledger.ledger"})):
        assert parts_imported_by(ledger / store) <= {"language", "ledger"}, store
        assert ledger_modules_imported_by(ledger / store) == shared, store


def test_every_part_is_installed():
    """pyproject.toml lists every package, so an install that is not editable has them all."""
    import tomllib

    listed = set(tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["setuptools"]["packages"])
    assert listed == {"engine"} | {f"engine.{part}" for part in MAY_IMPORT}


def test_every_hash_comes_from_the_canonical_module():
    """README (How it works): one module hashes, so a replay hashes as the record did."""
    canonical = ENGINE / "language" / "canonical.py"
    hashing = [path.relative_to(ROOT).as_posix() for path, source in engine_modules().items()
               if any(module == "hashlib" for _, module in imports(path, source))]
    assert hashing == [canonical.relative_to(ROOT).as_posix()]
