"""Sizes durable-rules' C core cannot take are refused before it is reached.

bench/limits.py measures where the core crashes, hangs or fails; Arbiter's limits sit well
inside (compile.MAX_RULES and MAX_CONDITIONS, durable.MAX_*). For each limit: a criteria set
or ruleset exactly at it is compiled and run through durable-rules in a child process (so a
crash fails the test instead of killing pytest), and one just over it gets a located
diagnostic (exit 2) or an EngineError, never a crash.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from engine.compiler import compile as compiler
from engine.runtime import durable
from engine.language.catalog import Catalog

from .conftest import ROOT

CHILD_TIMEOUT = 60  # seconds; each child takes about one
ARBITER = str(Path(sys.executable).parent / "arbiter")  # the console script beside this interpreter


# --- a small project written to a temporary folder -----------------------------------------

def write_project(root: Path, conditions: int, limiters: int) -> Path:
    """A scale, a framework whose grade rule has `conditions` distinct conditions and which has
    `limiters` limiters, a criteria set of as many criteria, and a case meeting all of them.
    Returns the case."""
    criteria = max(conditions, limiters, 1)
    files = {
        "criteria/scales/limits-grades.yaml": SCALE,
        "criteria/limits/framework.yaml": framework_yaml(conditions, limiters),
        "criteria/limits/area.yaml": criteria_set_yaml(criteria),
        "cases/limits/case.yaml": case_yaml(criteria),
    }
    for name, text in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text, encoding="utf-8")
    return root / "cases/limits/case.yaml"


SCALE = """arbiter: scale
id: limits-grades
title: Two grades
levels:
  - {id: good, label: Good, definition: good}
  - {id: poor, label: Poor, definition: poor}
"""


def framework_yaml(conditions: int, limiters: int) -> str:
    lines = ["arbiter: framework", "id: limits", "title: Limits", 'version: "1"', "scale: limits-grades",
             "tiers:", "  t: {description: criteria}", "grades:", "  - level: good", "    when:"]
    lines += [f"      - {{met: {{ids: [k{i}]}}, at_least: 1}}" for i in range(max(conditions, 1))]
    if limiters:
        lines.append("limiters:")
    for i in range(limiters):
        # The grade rule's own conditions, so that limiters add rules but no conditions.
        lines += [f"  - id: cap{i}", "    cap: good", f"    description: criterion k{i} met",
                  f"    when: [{{met: {{ids: [k{i}]}}, at_least: 1}}]"]
    lines += ["undecided:", "  outcome: professional_judgement", "  reason: no grade rule holds"]
    return "\n".join(lines) + "\n"


def criteria_set_yaml(count: int) -> str:
    lines = ["arbiter: criteria", "id: limits/area", "framework: limits", "title: Area", "criteria:"]
    lines += [f"  - {{id: k{i}, tier: t, text: criterion {i}}}" for i in range(count)]
    return "\n".join(lines) + "\n"


def case_yaml(count: int) -> str:
    lines = ["arbiter: case", "id: limits/case", "criteria: limits/area", "subject: A force", "constructed: true",
             "expect: {outcome: good}", "findings:"]
    lines += [f"  - {{criterion: k{i}, finding: met}}" for i in range(count)]
    return "\n".join(lines) + "\n"


def arbiter(*args: object) -> subprocess.CompletedProcess:
    """The command line in a child process: a crash in durable-rules shows as its exit status."""
    return subprocess.run([ARBITER, *map(str, args)], capture_output=True, text=True, timeout=CHILD_TIMEOUT, cwd=ROOT)


def line_of(path: Path, text: str, occurrence: int = 1) -> int:
    """The 1-based line of the n-th line of `path` that contains `text`."""
    found = [n for n, line in enumerate(path.read_text().splitlines(), 1) if text in line]
    return found[occurrence - 1]


# --- compile-time limits: a criteria set at the limit scores, one over fails to validate ---

@pytest.fixture(scope="module")
def at_the_limits(tmp_path_factory) -> Path:
    """Both limits reached at once: MAX_CONDITIONS conditions in one grade rule, and MAX_RULES
    rules (a grade and undecided; limiters and 'none', twice: the caps and the rules asking
    whether each holds; two override rules), every one of whose conditions holds, so that all
    their tests hold for the tally fact at once."""
    root = tmp_path_factory.mktemp("at-limits")
    limiters = (compiler.MAX_RULES - 6) // 2
    case = write_project(root, compiler.MAX_CONDITIONS, limiters)
    compiled = compiler.compile_set(Catalog(root), "limits/area")
    assert len(compiled.plan.rules) == compiler.MAX_RULES
    assert len(compiled.plan.conditions) == compiler.MAX_CONDITIONS
    return case


def test_a_set_at_the_limits_validates(at_the_limits):
    project = at_the_limits.parents[2]
    result = arbiter("validate", project / "criteria")
    assert result.returncode == 0, result.stdout + result.stderr


def test_a_set_at_the_limits_is_decided_by_durable_rules(at_the_limits):
    result = arbiter("score", at_the_limits, "--format", "json")
    assert result.returncode == 0, result.stdout + result.stderr
    (record,) = [json.loads(line) for line in result.stdout.splitlines()]
    assert record["outcome"] == "good" and record["decided_by"]


def test_one_condition_over_is_located_at_that_condition(tmp_path):
    """The first condition past the limit is the one reported, where the framework writes it."""
    case = write_project(tmp_path, compiler.MAX_CONDITIONS + 1, 0)
    framework = tmp_path / "criteria/limits/framework.yaml"
    where = f"criteria/limits/framework.yaml:{line_of(framework, f'[k{compiler.MAX_CONDITIONS}]')}:9: error E135"
    validated = arbiter("validate", tmp_path / "criteria")
    assert validated.returncode == 2 and where in validated.stderr, validated.stdout + validated.stderr
    assert f"the limit is {compiler.MAX_CONDITIONS}" in validated.stderr
    scored = arbiter("score", case)
    assert scored.returncode == 2 and where in scored.stderr, scored.stdout + scored.stderr


def test_validating_the_framework_alone_reports_the_limit(tmp_path):
    """The limits show once the framework is compiled with a set that uses it: validating only
    the framework file compiles those sets, and reports what is wrong in the framework."""
    write_project(tmp_path, compiler.MAX_CONDITIONS + 1, 0)
    framework = tmp_path / "criteria/limits/framework.yaml"
    validated = arbiter("validate", framework)
    assert validated.returncode == 2, validated.stdout + validated.stderr
    assert validated.stderr.count("error E135") == 1


def test_a_grade_rule_far_over_gets_the_same_located_error(tmp_path):
    """246 conditions segfaulted durable-rules; now one diagnostic, at condition 101."""
    case = write_project(tmp_path, 246, 0)
    scored = arbiter("score", case)
    assert scored.returncode == 2, scored.stdout + scored.stderr
    assert scored.stderr.count("error E135") == 1 and "246 distinct conditions" in scored.stderr


def test_one_rule_over_is_located_at_the_list_that_makes_most_rules(tmp_path):
    """One limiter past the set at the limits: two rules more (its cap, and whether it holds)."""
    limiters = (compiler.MAX_RULES - 6) // 2 + 1
    case = write_project(tmp_path, 1, limiters)
    framework = tmp_path / "criteria/limits/framework.yaml"
    where = f"criteria/limits/framework.yaml:{line_of(framework, 'limiters:')}:1: error E134"
    validated = arbiter("validate", tmp_path / "criteria")
    assert validated.returncode == 2 and where in validated.stderr, validated.stdout + validated.stderr
    assert f"{2 * limiters + 6} rules" in validated.stderr
    scored = arbiter("score", case)
    assert scored.returncode == 2 and where in scored.stderr, scored.stdout + scored.stderr


def test_compile_limits_keep_within_the_hosts():
    """A set at the compile limits makes a ruleset the host accepts: its rules and an observer,
    and a tally fact of kind, id, sid and one property per condition."""
    assert compiler.MAX_RULES + 1 <= durable.MAX_RULES
    assert compiler.MAX_RULES + 1 <= durable.MAX_KIND_PATTERNS  # every rule's event, or tally fact and the observer
    assert compiler.MAX_CONDITIONS + 3 <= durable.MAX_PROPERTIES
    assert 1 + 2 * compiler.MAX_CONDITIONS <= durable.MAX_TESTS  # worst/best grade conditions test twice


# --- the host's last line of defence: at each limit durable-rules runs, over it is refused --

STAGE = {"$and": [{"kind": "stage"}, {"stage": "go"}]}
GO = {"kind": "stage", "stage": "go"}


def _rule(patterns: list[dict], pri: int = 0) -> dict:
    return {"all": patterns, "pri": pri, "run": "r"}


def _tally(*tests: dict) -> dict:
    return {"t": {"$and": [{"kind": "tally"}, *tests]}}


def many_rules(n: int):
    """n rules: half join the tally fact and the event, half are observers of other kinds
    (every rule but an observer joins a stage event, so this is how many rules can be)."""
    joined = n - n // 2
    rules = {f"r{i}": _rule([_tally({"$gte": {"x": i}}), {"ev": STAGE}], pri=i) for i in range(joined)}
    rules.update({f"o{i}": _rule([{"o": {"kind": f"other{i}"}}, {"n": {"kind": "never"}}]) for i in range(n // 2)})
    return rules, [{"kind": "tally", "id": "t", "x": 0}], "r0"


def many_patterns_on_a_kind(n: int):
    """n rules whose patterns on the tally fact all hold for it, and so all their tests at once."""
    rules = {f"r{i}": _rule([_tally({"$gte": {"x": -i}}), {"ev": STAGE}], pri=i) for i in range(n)}
    return rules, [{"kind": "tally", "id": "t", "x": 0}], "r0"


def many_patterns(n: int):
    """One rule joining n - 1 facts with the event."""
    patterns = [{f"p{i}": {"$and": [{"kind": "result"}, {"req": f"q{i}"}]}} for i in range(n - 1)]
    facts = [{"kind": "result", "id": f"q{i}", "req": f"q{i}"} for i in range(n - 1)]
    return {"joined": _rule(patterns + [{"ev": STAGE}])}, facts, "joined"


def many_tests(n: int):
    """One pattern of n tests (kind, then n - 1 over 100 properties)."""
    tests = [{"$gte": {f"c{i % 100}": -i}} for i in range(n - 1)]
    fact = {"kind": "tally", "id": "t", **{f"c{i}": 0 for i in range(100)}}
    return {"wide": _rule([_tally(*tests), {"ev": STAGE}])}, [fact], "wide"


def many_properties(n: int):
    """A fact of n properties (kind, id and the rest), each tested by the rule."""
    names = [f"c{i}" for i in range(n - 2)]
    fact = {"kind": "tally", "id": "t", **{name: 1 for name in names}}
    return {"all": _rule([_tally(*({name: 1} for name in names)), {"ev": STAGE}])}, [fact], "all"


def deep_nesting(n: int):
    """A pattern whose $and nest n deep."""
    test: dict = {"x": 1}
    for _ in range(n - 1):
        test = {"$and": [test]}
    return {"deep": _rule([_tally(test), {"ev": STAGE}])}, [{"kind": "tally", "id": "t", "x": 1}], "deep"


def long_string(n: int):
    """A string value of n characters, tested for equality."""
    text = "a" * (n - 1) + "z"
    return {"text": _rule([_tally({"s": text}), {"ev": STAGE}])}, [{"kind": "tally", "id": "t", "s": text}], "text"


HOST_LIMITS = {  # name: (scenario of size n, the limit, a word the refusal uses)
    "rules": (many_rules, durable.MAX_RULES, "rules"),
    "kind_patterns": (many_patterns_on_a_kind, durable.MAX_KIND_PATTERNS, "patterns on kind"),
    "patterns": (many_patterns, durable.MAX_PATTERNS, "patterns"),
    "tests": (many_tests, durable.MAX_TESTS, "tests"),
    "properties": (many_properties, durable.MAX_PROPERTIES - 2, "properties"),
    "nesting": (deep_nesting, durable.MAX_NESTING, "deep"),
    "string": (long_string, durable.MAX_STRING, "characters"),
}


def run_scenario(name: str, n: int) -> str:
    """In a child process: register and run one scenario through the host; print what happened."""
    build = HOST_LIMITS[name][0]
    rules, facts, expected = build(n)
    try:
        firings = durable.host().run(f"limits_{name}_{n}", rules, facts, GO, lambda rule, matched: [])
    except durable.EngineError as error:
        return f"EngineError: {error}"
    fired = firings[0].rule if firings else "nothing"
    return "ok" if fired == expected else f"wrong: {fired} fired"


def in_child(name: str, n: int) -> subprocess.CompletedProcess:
    code = f"from tests.test_limits import run_scenario; print(run_scenario({name!r}, {n}))"
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=CHILD_TIMEOUT,
                          cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)})


@pytest.mark.parametrize("name", HOST_LIMITS)
def test_the_host_runs_a_ruleset_at_each_limit(name):
    result = in_child(name, HOST_LIMITS[name][1])
    assert result.returncode == 0 and result.stdout.strip() == "ok", result.stdout + result.stderr


@pytest.mark.parametrize("name", HOST_LIMITS)
def test_the_host_refuses_a_ruleset_over_each_limit(name):
    """Before durable-rules sees it: an EngineError naming what is too large, never a crash."""
    result = in_child(name, HOST_LIMITS[name][1] + 1)
    said = result.stdout.strip()
    assert result.returncode == 0 and said.startswith("EngineError") and HOST_LIMITS[name][2] in said, \
        result.stdout + result.stderr


# --- appointment kinds: a process's gates, a compliance framework's requirements -------------

def _copy_appointments(root: Path) -> None:
    import shutil
    shutil.copytree(ROOT / "criteria", root / "criteria")
    shutil.copytree(ROOT / "cases" / "appointments" / "kent-cc-2022", root / "cases" / "appointments" / "kent-cc-2022")


def _repeat_list_entry(path: Path, key: str, count: int) -> None:
    """Rewrite `key:`'s list so it holds `count` entries: copies of the first, ids suffixed."""
    import yaml
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    first = data[key][0]
    data[key] = [json.loads(json.dumps(dict(first, id=f"{first['id']}-{i}"))) for i in range(count)]  # no shared lists: no anchors
    path.write_text(yaml.safe_dump(data, sort_keys=False, allow_unicode=True), encoding="utf-8")


@pytest.mark.parametrize("kind, file, key, case, limit", [
    ("gates", "criteria/appointments/kent-chief-constable-2022.yaml", "gates", "selection", "MAX_GATES"),
    ("requirements", "criteria/compliance/chief-constable-appointment.yaml", "requirements", "compliance",
     "MAX_REQUIREMENTS"),
])
def test_appointment_files_at_the_limit_run_and_one_over_is_located(tmp_path, kind, file, key, case, limit):
    from engine.language import appointment_models
    maximum = getattr(appointment_models, limit)
    _copy_appointments(tmp_path)
    case_file = tmp_path / "cases" / "appointments" / "kent-cc-2022" / f"{case}.yaml"
    _repeat_list_entry(tmp_path / file, key, maximum)
    at = subprocess.run([ARBITER, "score", case_file, "--format", "json"], capture_output=True, text=True,
                        timeout=CHILD_TIMEOUT, cwd=tmp_path)
    assert at.returncode in (0, 1), at.stderr  # scored through durable-rules (1: the expectation names fewer)
    assert json.loads(at.stdout.splitlines()[-1])["outcome"]
    _repeat_list_entry(tmp_path / file, key, maximum + 1)
    for command in ("validate", "score"):
        over = subprocess.run([ARBITER, command, case_file if command == "score" else tmp_path / file],
                              capture_output=True, text=True, timeout=CHILD_TIMEOUT, cwd=tmp_path)
        assert over.returncode == 2, over.stderr
        assert f"error E136: the {'process' if kind == 'gates' else 'framework'} has {maximum + 1} {kind}; " \
               f"the limit is {maximum}" in over.stderr
        assert "Traceback" not in over.stderr


def test_appointment_limits_fit_inside_the_host_limits():
    from engine.language import appointment_models
    # the compliant rule joins one result per requirement, and its stage event
    assert appointment_models.MAX_REQUIREMENTS + 1 <= durable.MAX_PATTERNS


def test_a_selection_ruleset_is_the_same_whatever_its_gates():
    """A gate is a fact, not a rule or a property: a process at MAX_GATES compiles to the rules
    of a process with one gate, and the facts and events the runtime sends for it hold as many
    properties as for one gate. So the host's limits bound no number of gates; E136 bounds the
    work (one cell-rule firing per candidate, scored cell and gate), and the test above runs a
    process at it through durable-rules."""
    from engine.appointments.appointments import check_rules
    from engine.compiler.selection import compile_selection
    from engine.language.appointment_models import MAX_GATES
    from engine.runtime import selection

    catalog = Catalog(ROOT)
    loaded = catalog.load(catalog.path_of("appointments/kent-chief-constable-2022"), "selection_process")
    named = check_rules(catalog, loaded)
    gate = loaded.model.gates[0]

    def compiled_with(count: int):
        gates = tuple(gate.model_copy(update={"id": f"{gate.id}-{i}"}) for i in range(count))
        process = loaded.model.model_copy(update={"gates": gates})
        return compile_selection(process, named["cvf"].model, named["scale"].model)

    one, most = compiled_with(1), compiled_with(MAX_GATES)
    assert one.ruleset["durable"][one.durable_name] == most.ruleset["durable"][most.durable_name]
    durable.check_ruleset_shape(most.durable_name, most.ruleset["durable"][most.durable_name])
    (fact,) = {len(f) for f in selection.gate_facts(most.plan)}
    (event,) = {len(selection.cell_event("cand-a", ex, area, g.id)) for ex, area in most.plan.cells
                for g in most.plan.gates}
    assert (fact, event) == (4, 6)  # kind, id, gate, threshold; kind, stage, cand, exercise, area, gate
