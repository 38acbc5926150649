"""mutmut's results kept in the repository, so that a mutation run resumes in a fresh checkout.

    python tools/mutation_results.py save      # mutants/**/*.py.meta -> tools/mutation-results.json
    python tools/mutation_results.py restore   # tools/mutation-results.json -> each missing .meta

mutmut keeps what it found for each mutant in a results file beside each mutated copy
(`mutants/engine/runtime/decide.py.meta`): an exit code per mutant (None until it is tried),
and a hash of each function's source. `save` writes those two of every module of the mutated
packages to one file, a line per function. `restore` writes back the results file of every
module that has none yet, and removes that module's mutated copy: mutmut then makes the copy
again from the source as it is and keeps each function's results only where the function's
hash is unchanged, so a function edited since is tried again. Run from the repository root
(tools/mutation does both).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any, Optional

RESULTS = Path("tools/mutation-results.json")
MUTANTS = Path("mutants")
PACKAGES = ("compiler", "runtime", "oracle")
MARK = "__mutmut_"  # a mutant's key: <module>.<function>__mutmut_<number>


def results_of(mutants: Path) -> dict[str, Any]:
    """module path -> {"module": the keys' module part, "functions": {function: {"hash", "exit_codes"}}}."""
    modules: dict[str, Any] = {}
    for meta in sorted(mutants.glob("engine/*/*.py.meta")):
        if meta.parent.name not in PACKAGES:
            continue
        data = json.loads(meta.read_text(encoding="utf-8"))
        codes: dict[str, dict[int, Optional[int]]] = {}
        module = None
        for key, code in data["exit_code_by_key"].items():
            module, _, name = key.rpartition(".")
            function, _, number = name.rpartition(MARK)
            codes.setdefault(function, {})[int(number)] = code
        if module is None:  # nothing to mutate in it (an empty __init__.py)
            continue
        hashes = data.get("hash_by_function_name", {})
        modules[meta.relative_to(mutants).as_posix().removesuffix(".meta")] = {
            "module": module,
            "functions": {function: {"hash": hashes.get(function), "exit_codes": _listed(by_number)}
                          for function, by_number in sorted(codes.items())},
        }
    return modules


def _listed(by_number: dict[int, Optional[int]]) -> list[Optional[int]] | dict[str, Optional[int]]:
    """The codes in mutant order: a list when the numbers run 1..n (mutmut numbers them so), else by number."""
    if sorted(by_number) == list(range(1, len(by_number) + 1)):
        return [by_number[n] for n in range(1, len(by_number) + 1)]
    return {str(n): code for n, code in sorted(by_number.items())}


def meta_of(entry: dict[str, Any]) -> dict[str, Any]:
    """A module's results file as mutmut reads it, from its entry in the results."""
    codes = {}
    for function, found in entry["functions"].items():
        listed = found["exit_codes"]
        numbered = enumerate(listed, 1) if isinstance(listed, list) else ((int(n), c) for n, c in listed.items())
        codes.update({f"{entry['module']}.{function}{MARK}{n}": code for n, code in numbered})
    hashes = {function: found["hash"] for function, found in entry["functions"].items() if found["hash"] is not None}
    return {"exit_code_by_key": codes, "hash_by_function_name": hashes, "type_check_error_by_key": {},
            "durations_by_key": {}, "estimated_durations_by_key": {}}


def written(modules: dict[str, Any]) -> str:
    """The results as JSON, one line per function, so that a run's changes read as a diff."""
    lines = ["{"]
    for i, (path, entry) in enumerate(sorted(modules.items())):
        lines.append(f"  {json.dumps(path)}: {{\"module\": {json.dumps(entry['module'])}, \"functions\": {{")
        functions = list(entry["functions"].items())
        for j, (function, found) in enumerate(functions):
            comma = "," if j < len(functions) - 1 else ""
            lines.append(f"    {json.dumps(function, ensure_ascii=False)}: "
                         f"{json.dumps(found, ensure_ascii=False, separators=(',', ':'))}{comma}")
        lines.append("  }}" + ("," if i < len(modules) - 1 else ""))
    lines.append("}")
    return "\n".join(lines) + "\n"


def save(mutants: Path = MUTANTS, results: Path = RESULTS) -> int:
    modules = results_of(mutants)
    if not modules:
        raise SystemExit(f"no results under {mutants}/ to save")
    results.write_text(written(modules), encoding="utf-8")
    return sum(len(found["exit_codes"]) for entry in modules.values() for found in entry["functions"].values())


def restore(results: Path = RESULTS, mutants: Path = MUTANTS) -> list[str]:
    """Write each module's results file where there is none; the modules restored."""
    if not results.exists():
        return []
    restored = []
    for path, entry in json.loads(results.read_text(encoding="utf-8")).items():
        meta = mutants / f"{path}.meta"
        if meta.exists():
            continue
        meta.parent.mkdir(parents=True, exist_ok=True)
        (mutants / path).unlink(missing_ok=True)  # made again from the source as it is now
        meta.write_text(json.dumps(meta_of(entry), ensure_ascii=False, indent=4), encoding="utf-8")
        restored.append(path)
    return restored


def main(argv: list[str]) -> int:
    if argv == ["save"]:
        print(f"{save():,} mutants' results written to {RESULTS}")
        return 0
    if argv == ["restore"]:
        restored = restore()
        if restored:
            print(f"results of {len(restored)} modules restored from {RESULTS}")
        return 0
    print("usage: python tools/mutation_results.py save|restore", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
