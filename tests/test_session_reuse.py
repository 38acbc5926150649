"""A session kept for reuse carries nothing from one evaluation to the next.

Each ruleset keeps one emptied session (runtime/durable.py): every fact asserted is retracted
and every event posted was consumed, or the session is deleted instead. These tests hold the
reused session to what a fresh one decides, in any order, and show it deleted whenever it
might hold something: an error, an event no rule took, a nested evaluation."""

from __future__ import annotations

import json
import os
import subprocess
import sys

from hypothesis import given, settings
from hypothesis import strategies as st

from engine.compiler.compile import compile_criteria
from engine.inspections.cases import decide_case, load_case
from engine.runtime import durable
from engine.runtime.decide import evaluate
from engine.runtime.tally import Evidence, tally, tally_fact

from .conftest import ROOT
from .strategies import cases_for, scored_cases_for, scored_worlds, worlds


@st.composite
def sets_of_cases(draw):
    """Criteria and several cases for them (plain or scored, with exclusive groups), some
    with a recorded judgement: every kind of fact the inspection rulesets are given."""
    scored = draw(st.booleans())
    criteria, first = draw(scored_worlds(grouped=True) if scored else worlds())
    more = scored_cases_for if scored else cases_for
    others = draw(st.lists(more(criteria.criteria.model, criteria.scale.model), min_size=1, max_size=4))
    cases = [case.model_copy(update={"id": f"gen/case-{i}"}) for i, case in enumerate([first, *others])]
    return criteria, cases


def fresh_record(compiled, case) -> str:
    """The case decided in sessions opened for it: every idle session deleted first."""
    durable.host().release()
    return json.dumps(decide_case(compiled, case))


@settings(max_examples=40)
@given(sets_of_cases(), st.randoms(use_true_random=False))
def test_a_reused_session_decides_as_a_fresh_one(world, rnd):
    """Cases decided one after another in one reused session, in a shuffled order with
    repeats, give byte-identical records (outcome, limiters, trace and margin, whose changed
    evidence is decided in that session too) to each case decided in a fresh session."""
    criteria, cases = world
    compiled = compile_criteria(criteria)
    expected = {case.id: fresh_record(compiled, case) for case in cases}
    order = [rnd.choice(cases) for _ in range(3 * len(cases))]
    host = durable.host()
    opened = host.sessions_opened
    for case in order:
        assert json.dumps(decide_case(compiled, case)) == expected[case.id], case.id
    assert host.sessions_opened == opened  # all of them in the session the last fresh one left


def _kent(catalog, area="missing-persons"):
    loaded = load_case(ROOT / "cases" / "kent-2007" / f"{area}.yaml", catalog)
    return loaded.compiled, Evidence.from_case(loaded.case, loaded.compiled.plan)


def _rules(compiled):
    return compiled.durable_name, compiled.ruleset["durable"][compiled.durable_name]


def test_an_evaluation_that_fails_deletes_its_session(catalog):
    """An action that raises leaves the session mid-way: it is deleted, not kept, and the next
    evaluation opens a fresh one and decides as before."""
    compiled, evidence = _kent(catalog)
    host = durable.host()
    before = evaluate(compiled, evidence)
    held, opened = host.sessions_held, host.sessions_opened

    def react(rule, matched):
        raise RuntimeError("boom")

    try:
        host.run(*_rules(compiled), [tally_fact(compiled.plan, tally(compiled.plan, evidence))],
                 {"kind": "stage", "stage": "level"}, react)
    except RuntimeError:
        pass
    assert host.sessions_held == held - 1 and not host.live_session(compiled.durable_name, opened)
    assert evaluate(compiled, evidence) == before
    assert host.sessions_opened == opened + 1


def test_a_session_left_holding_an_event_is_deleted(catalog):
    """An event no rule consumed would wait in the session and join a later evaluation's facts
    (here the tally observer's, which would then fire on facts alone): such a session is
    deleted, never reused."""
    compiled, evidence = _kent(catalog)
    host = durable.host()
    before = evaluate(compiled, evidence)
    opened = host.sessions_opened
    assert host.run(*_rules(compiled), [], {"kind": "never"}, lambda rule, matched: []) == []
    assert not host.live_session(compiled.durable_name, opened)
    assert evaluate(compiled, evidence) == before
    assert host.sessions_opened == opened + 1


def test_a_nested_evaluation_gets_a_session_of_its_own(catalog):
    """While one evaluation holds the ruleset's session, another on the same ruleset opens its
    own; both decide alike, and only one session is kept afterwards."""
    compiled, evidence = _kent(catalog)
    host = durable.host()
    before = evaluate(compiled, evidence)
    held = host.sessions_held
    name, rules = _rules(compiled)
    with host.session(name, rules, lambda rule, matched: []) as session:
        session.assert_facts([tally_fact(compiled.plan, tally(compiled.plan, evidence))])
        assert evaluate(compiled, evidence) == before
        assert host.sessions_held == held + 1
    assert host.sessions_held == held


def test_idle_sessions_are_bounded(catalog):
    """One idle session per ruleset, and no more than MAX_IDLE_SESSIONS in all: the least
    recently used is deleted first."""
    from engine.workspace.runner import compilers

    host = durable.host()
    for _, compile_one in compilers(catalog):
        compiled = compile_one()
        with host.session(*_rules(compiled), lambda rule, matched: []):
            pass
        assert host.sessions_held <= durable.MAX_IDLE_SESSIONS
    host.release()
    assert host.sessions_held == 0


LIVE_SESSION_OF_A_HELD_SESSION = """
from pathlib import Path
from engine.inspections.cases import load_case
from engine.language.catalog import Catalog
from engine.runtime import durable
from engine.runtime.decide import evaluate
from engine.runtime.tally import Evidence
loaded = load_case(Path("cases/kent-2007/missing-persons.yaml"), Catalog(Path(".")))
compiled = loaded.compiled
evaluate(compiled, Evidence.from_case(loaded.case, compiled.plan))
host, name = durable.host(), compiled.durable_name
print("live:", host.live_session(name, host.sessions_opened), flush=True)
host.release()
print("released; live:", host.live_session(name, host.sessions_opened), flush=True)
"""


def test_asking_after_a_kept_session_does_not_spoil_its_deletion():
    """live_session answers for a session the host keeps without asking durable-rules, whose
    get_state on an open session makes deleting it abort the process (tests/test_durable.py):
    the kept session is deleted cleanly afterwards (run apart, in a child process)."""
    done = subprocess.run([sys.executable, "-c", LIVE_SESSION_OF_A_HELD_SESSION], cwd=ROOT, capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-300:]
    assert done.stdout.splitlines() == ["live: True", "released; live: False"]


def test_a_forked_process_uses_sessions_of_its_own(catalog):
    """A child process gets a host of its own, with its own sessions: what it decides, and the
    parent's kept session afterwards, are as before."""
    compiled, evidence = _kent(catalog)
    host = durable.host()
    before = evaluate(compiled, evidence)
    read, write = os.pipe()
    child = os.fork()
    if child == 0:  # the child: decide, report, leave without running the parent's clean-up
        try:
            outcome = evaluate(compiled, evidence).outcome
            fresh_host = durable.host() is not host and durable.host().sessions_opened == 1
            os.write(write, json.dumps([outcome, fresh_host]).encode())
        finally:
            os._exit(0)
    os.close(write)
    with os.fdopen(read) as pipe:
        reported = json.loads(pipe.read())
    os.waitpid(child, 0)
    assert reported == [before.outcome, True]
    assert durable.host() is host and evaluate(compiled, evidence) == before
