"""tools/mutation_results.py: mutmut's results saved to one file and written back as mutmut
reads them, so that a mutation run resumes in a fresh checkout (README, Mutation testing)."""

from __future__ import annotations

import importlib.util
import json

from .conftest import ROOT

_SPEC = importlib.util.spec_from_file_location("mutation_results", ROOT / "tools" / "mutation_results.py")
mutation_results = importlib.util.module_from_spec(_SPEC)
_SPEC.loader.exec_module(mutation_results)

DECIDE = {  # as mutmut 3.8.1 writes a results file: a plain function and a method, tried or not
    "exit_code_by_key": {
        "engine.runtime.decide.x_evaluate__mutmut_1": 1,
        "engine.runtime.decide.x_evaluate__mutmut_2": 0,
        "engine.runtime.decide.x_evaluate__mutmut_3": None,
        "engine.runtime.decide.xǁHostǁ__init____mutmut_1": -11,
        "engine.runtime.decide.xǁHostǁ__init____mutmut_2": 33,
    },
    "hash_by_function_name": {"x_evaluate": "41c5b62d602f", "xǁHostǁ__init__": "d639a9b96915", "x_unmutated": "00"},
    "type_check_error_by_key": {}, "durations_by_key": {"engine.runtime.decide.x_evaluate__mutmut_1": 0.2},
    "estimated_durations_by_key": {},
}
GAPPED = {"exit_code_by_key": {"engine.oracle.reference.x_f__mutmut_2": 1, "engine.oracle.reference.x_f__mutmut_5": None},
          "hash_by_function_name": {"x_f": "ab"}, "type_check_error_by_key": {}, "durations_by_key": {},
          "estimated_durations_by_key": {}}


def _mutants(root, metas: dict[str, dict]) -> None:
    for path, meta in metas.items():
        (root / path).parent.mkdir(parents=True, exist_ok=True)
        (root / f"{path}.meta").write_text(json.dumps(meta, ensure_ascii=False), encoding="utf-8")
        (root / path).write_text("# the mutated copy\n", encoding="utf-8")


def test_results_saved_are_written_back_as_mutmut_reads_them(tmp_path):
    before = tmp_path / "before"
    _mutants(before, {"engine/runtime/decide.py": DECIDE, "engine/oracle/reference.py": GAPPED,
                      "engine/language/models.py": DECIDE})  # not a mutated package: not kept
    results = tmp_path / "mutation-results.json"
    assert mutation_results.save(before, results) == 7
    kept = json.loads(results.read_text(encoding="utf-8"))
    assert sorted(kept) == ["engine/oracle/reference.py", "engine/runtime/decide.py"]
    assert kept["engine/runtime/decide.py"]["functions"]["x_evaluate"] == {"hash": "41c5b62d602f",
                                                                          "exit_codes": [1, 0, None]}
    assert kept["engine/oracle/reference.py"]["functions"]["x_f"]["exit_codes"] == {"2": 1, "5": None}
    assert len(results.read_text(encoding="utf-8").splitlines()) == 1 + (1 + 2 + 1) + (1 + 1 + 1) + 1  # a line per function

    after = tmp_path / "after"
    assert sorted(mutation_results.restore(results, after)) == sorted(kept)
    for path, meta in (("engine/runtime/decide.py", DECIDE), ("engine/oracle/reference.py", GAPPED)):
        back = json.loads((after / f"{path}.meta").read_text(encoding="utf-8"))
        assert back["exit_code_by_key"] == meta["exit_code_by_key"]
        assert back["hash_by_function_name"] == {f: h for f, h in meta["hash_by_function_name"].items()
                                                 if f != "x_unmutated"}
        assert set(back) == set(meta)  # every key mutmut's loader asks for, and no other
        assert not (after / path).exists()  # mutmut makes the copy again from the source as it is


def test_restoring_leaves_a_module_with_results_as_it_is(tmp_path):
    results = tmp_path / "mutation-results.json"
    _mutants(tmp_path / "saved", {"engine/runtime/decide.py": DECIDE})
    mutation_results.save(tmp_path / "saved", results)
    running = tmp_path / "running"
    newer = {**DECIDE, "exit_code_by_key": {**DECIDE["exit_code_by_key"], "engine.runtime.decide.x_evaluate__mutmut_3": 1}}
    _mutants(running, {"engine/runtime/decide.py": newer})
    assert mutation_results.restore(results, running) == []
    assert json.loads((running / "engine/runtime/decide.py.meta").read_text(encoding="utf-8")) == newer
    assert (running / "engine/runtime/decide.py").exists()
    assert mutation_results.restore(tmp_path / "none.json", running) == []


def test_the_committed_results_name_only_mutants_of_the_code():
    """Every module in tools/mutation-results.json is a module of the mutated packages, and every
    function it names has a mutant there: a file from another tree or release would say so."""
    results = ROOT / "tools" / "mutation-results.json"
    kept = json.loads(results.read_text(encoding="utf-8"))
    assert kept
    for path, entry in kept.items():
        source = (ROOT / path).read_text(encoding="utf-8")
        assert path.split("/")[1] in mutation_results.PACKAGES and entry["module"] == path.removesuffix(".py").replace("/", ".")
        for function in entry["functions"]:
            assert f"def {function.rpartition('ǁ')[2].removeprefix('x_')}(" in source, (path, function)
