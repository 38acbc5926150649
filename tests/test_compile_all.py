"""`arbiter compile` in process (the CLI tests run it as a command): what it writes, what
`--check` reports, and that every compiled file keeps the criteria it was compiled from."""

from __future__ import annotations

import shutil
from pathlib import Path

from engine.language.canonical import sha256_bytes
from engine.language.catalog import Catalog
from engine.workspace.runner import compile_all, compilers

from .conftest import ROOT


def project(tmp_path):
    """A copy of the project whose rules/ is current (test_golden.py checks the project's own)."""
    for tree in ("criteria", "rules"):
        shutil.copytree(ROOT / tree, tmp_path / tree)
    catalog = Catalog(tmp_path)
    compile_all(catalog, check_only=False)
    return Catalog(tmp_path)


def test_every_compiled_file_keeps_the_criteria_its_plan_names_by_hash(catalog):
    """The canonical criteria kept with each compiled ruleset (stored in the ledger for replay)
    are those whose sha256 the plan, and so every decision record, carries."""
    for file_id, compile_one in compilers(catalog):
        compiled = compile_one()
        assert compiled.criteria, file_id
        assert sha256_bytes(compiled.criteria) == compiled.plan.criteria_sha256, file_id


def test_check_reports_stale_missing_and_orphaned_files_and_writes_nothing(tmp_path):
    catalog = project(tmp_path)
    rules = tmp_path / "rules"
    stale, missing = sorted(rules.rglob("*.json"))[:2]
    stale.write_text(stale.read_text(encoding="utf-8").replace('"pri": 0', '"pri": 9', 1), encoding="utf-8")
    missing.unlink()
    orphan = rules / "gone" / "set.json"
    orphan.parent.mkdir()
    orphan.write_text("{}\n", encoding="utf-8")
    before = {p: p.read_bytes() for p in rules.rglob("*.json")}

    changed, problems, count = compile_all(catalog, check_only=True)

    assert count == len(compilers(catalog))
    ids = {p.relative_to(rules).with_suffix("").as_posix() for p in (stale, missing)}
    assert set(changed) == ids
    found = {(d.code, d.path, d.message) for d in problems}
    stale_id, missing_id = (p.relative_to(rules).with_suffix("").as_posix() for p in (stale, missing))
    assert found == {
        ("E140", f"rules/{stale_id}.json", f"compiled ruleset is stale for '{stale_id}'"),
        ("E141", f"rules/{missing_id}.json", f"compiled ruleset is missing for '{missing_id}'"),
        ("E142", "rules/gone/set.json", "compiled ruleset has no criteria under criteria/"),
    }
    assert all((d.line, d.col) == (1, 1) and d.suggestion for d in problems)
    assert {p: p.read_bytes() for p in rules.rglob("*.json")} == before


def test_compile_writes_exactly_the_stale_and_missing_files_and_keeps_orphans(tmp_path):
    catalog = project(tmp_path)
    rules = tmp_path / "rules"
    current = {p: p.read_bytes() for p in rules.rglob("*.json")}
    stale, missing = sorted(current)[:2]
    stale.write_text("{}\n", encoding="utf-8")
    missing.unlink()
    orphan = rules / "gone" / "set.json"
    orphan.parent.mkdir()
    orphan.write_text("{}\n", encoding="utf-8")

    changed, problems, _ = compile_all(catalog, check_only=False)

    assert sorted(changed) == sorted(p.relative_to(rules).with_suffix("").as_posix() for p in (stale, missing))
    assert [d.code for d in problems] == ["E142"]  # reported, never deleted
    assert orphan.read_text(encoding="utf-8") == "{}\n"
    assert {p: p.read_bytes() for p in current} == current  # byte for byte as committed
    assert not list(rules.rglob("*.tmp"))
    assert compile_all(catalog, check_only=True)[:2] == ([], [problems[0]])


def test_every_set_that_does_not_compile_is_reported_and_the_others_are_still_written(tmp_path):
    """Problems are told all at once: a set that does not compile is reported and skipped, and
    the sets after it are compiled and written as ever."""
    project(tmp_path)
    broken = ("peel-2015/q1-preventing-crime", "peel-2015/q2-investigating-crime")
    for set_id in broken:
        path = tmp_path / "criteria" / f"{set_id}.yaml"
        path.write_text(path.read_text(encoding="utf-8").replace("framework: peel-2015", "framework: no-such", 1),
                        encoding="utf-8")
    shutil.rmtree(tmp_path / "rules")  # and a project with no rules/ at all: its folders are made

    changed, problems, count = compile_all(Catalog(tmp_path), check_only=False)

    assert sorted({Path(d.path).relative_to(tmp_path).as_posix() for d in problems}) == \
        [f"criteria/{set_id}.yaml" for set_id in broken]
    assert len(changed) == count - len(broken) and not set(changed) & set(broken)
    assert sorted(p.relative_to(tmp_path / "rules").with_suffix("").as_posix()
                  for p in (tmp_path / "rules").rglob("*.json")) == sorted(changed)


def test_what_check_suggests_for_a_stale_and_an_orphaned_file(tmp_path):
    catalog = project(tmp_path)
    rules = tmp_path / "rules"
    sorted(rules.rglob("*.json"))[0].write_text("{}\n", encoding="utf-8")
    (rules / "gone").mkdir()
    (rules / "gone" / "set.json").write_text("{}\n", encoding="utf-8")
    _, problems, _ = compile_all(catalog, check_only=True)
    assert {(d.code, d.suggestion) for d in problems} == {
        ("E140", "run: arbiter compile"), ("E142", "delete it if the criteria set was removed on purpose")}


def test_a_set_over_a_compile_limit_is_refused_at_the_place_the_limit_names(tmp_path):
    """In process (tests/test_limits.py runs the same sets through the command line): one
    condition over is E135 at that condition, one limiter over is E134 at the `limiters:` key,
    each with its suggestion."""
    import pytest

    from engine.compiler import compile as compiler
    from engine.compiler.compile import compile_set
    from engine.language.diagnostics import DiagnosticError

    from .test_limits import line_of, write_project

    def refusal(conditions: int, limiters: int, code: str):
        root = tmp_path / code
        write_project(root, conditions, limiters)
        with pytest.raises(DiagnosticError) as refused:
            compile_set(Catalog(root), "limits/area")
        [problem] = [d for d in refused.value.diagnostics if d.code == code]
        return problem, root / "criteria/limits/framework.yaml"

    conditions, framework = refusal(compiler.MAX_CONDITIONS + 1, 0, "E135")
    assert (conditions.line, conditions.col) == (line_of(framework, f"[k{compiler.MAX_CONDITIONS}]"), 9)
    assert conditions.suggestion == ("use fewer distinct conditions (one written the same way in several rules "
                                     "counts once), or split the rules across frameworks")
    limiters = (compiler.MAX_RULES - 6) // 2 + 1
    rules, framework = refusal(1, limiters, "E134")
    assert (rules.line, rules.col) == (line_of(framework, "limiters:"), 1)
    assert f"compiles to {2 * limiters + 6} rules" in rules.message
    assert rules.suggestion == "use fewer grades, floors or limiters, or split them across frameworks"
