"""Where durable-rules' C core stops working, one dimension at a time.

    python bench/limits.py              # every dimension: about five minutes on 2 cores
    python bench/limits.py --list       # the dimensions
    python bench/limits.py --only NAME  # one dimension (repeatable)
    python bench/limits.py --only NAME --try N   # one size of one dimension

A script, not a test. For each dimension a probe builds a ruleset that is n large along it
(and small along every other), registers it, asserts its facts, posts one event, checks
that the rule it expects fires first, and deletes the session. Every trial runs in a child
process with a timeout, because past a boundary the core crashes (SIGSEGV, SIGABRT), hangs,
reports an error, or answers wrongly, and none of these may stop the measurement. Sizes
double until one fails, then the gap is halved; the table gives the largest size that
worked and what the smallest failing size did. This assumes that every size below a
working one works, which the probes were written to make true.

The probes call the C core (`durable_rules_engine`) directly, the way engine/runtime/durable.py
does, so that Arbiter's own checks do not hide what the library does.
"""

from __future__ import annotations

import argparse
import json
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from typing import Any, Callable

TRIAL_TIMEOUT = 10.0  # seconds; the slowest healthy trial (a 64 MiB ruleset) takes about two
SID = "probe"


@dataclass(frozen=True)
class Scenario:
    """A ruleset, the facts to assert, one event to post, and the rule that must fire first."""

    rules: dict[str, Any]
    facts: list[dict[str, Any]]
    event: dict[str, Any]
    expect: str
    name: str = "limits_probe"


@dataclass(frozen=True)
class Probe:
    name: str
    what: str  # the dimension, in words
    build: Callable[[int], Scenario]
    high: int  # search up to here; if n = high still works the table says so
    low: int = 1


# --- building blocks ---------------------------------------------------------------------

def _and(*tests: dict) -> dict:
    return {"$and": list(tests)}


STAGE = {"$and": [{"kind": "stage"}, {"stage": "go"}]}
GO = {"kind": "stage", "stage": "go"}


def _rule(patterns: list[dict], pri: int = 0) -> dict:
    return {"all": patterns, "pri": pri}


def _with_fallback(rules: dict[str, Any]) -> dict[str, Any]:
    """A last rule on the event alone: when the probed rule fails to match, this one fires,
    so a wrong answer shows as the wrong rule rather than as an unhandled event."""
    return {**rules, "fallback": _rule([{"ev": STAGE}], pri=65535)}


# --- probes ------------------------------------------------------------------------------

def and_width(n: int) -> Scenario:
    """One pattern with n tests, each on its own property of one fact: a grade rule's shape."""
    tests = [{"$gte": {f"c{i}": i}} for i in range(n)]
    fact = {"kind": "tally", "id": "t", **{f"c{i}": i for i in range(n)}}
    return Scenario(_with_fallback({"wide": _rule([{"t": _and({"kind": "tally"}, *tests)}, {"ev": STAGE}])}),
                    [fact], GO, "wide")


def and_width_one_property(n: int) -> Scenario:
    """One pattern with n tests, all on the same property, so the fact stays small."""
    tests = [{"$gte": {"x": i}} for i in range(n)]
    return Scenario(_with_fallback({"wide": _rule([{"t": _and({"kind": "tally"}, *tests)}, {"ev": STAGE}])}),
                    [{"kind": "tally", "id": "t", "x": n}], GO, "wide")


def fact_properties(n: int) -> Scenario:
    """One fact with n properties, counting kind, id and the sid the session adds; the rule
    tests only the last."""
    fact = {"kind": "tally", "id": "t", **{f"p{i}": i for i in range(max(1, n - 3))}}
    last = {f"p{max(1, n - 3) - 1}": max(1, n - 3) - 1}
    return Scenario(_with_fallback({"one": _rule([{"t": _and({"kind": "tally"}, last)}, {"ev": STAGE}])}),
                    [fact], GO, "one")


def sibling_tests(n: int) -> Scenario:
    """n rules whose event patterns differ only in one constant: n sibling tests under one node.
    (Each rule ends at its own node, so no node holds more than one rule.)"""
    rules = {f"r{i}": _rule([{"ev": _and({"kind": "stage"}, {"stage": "go"}, {"v": i})}], pri=i) for i in range(n)}
    return Scenario(_with_fallback(rules), [], {**GO, "v": n - 1}, f"r{n - 1}")


def sibling_properties(n: int) -> Scenario:
    """n rules each testing a different property under one node."""
    rules = {f"r{i}": _rule([{"ev": _and({"kind": "stage"}, {"stage": "go"}, {f"p{i}": 1})}], pri=i) for i in range(n)}
    return Scenario(_with_fallback(rules), [], {**GO, f"p{n - 1}": 1}, f"r{n - 1}")


def matching_siblings(n: int) -> Scenario:
    """n rules whose first tests after `kind` differ and all hold for the one fact: the core
    walks every matching node at once (the shape of n limiters whose conditions all hold)."""
    rules = {f"r{i}": _rule([{"t": _and({"kind": "tally"}, {"$gte": {"x": -i}})}, {"ev": STAGE}], pri=i)
             for i in range(n)}
    return Scenario(_with_fallback(rules), [{"kind": "tally", "id": "t", "x": 0}], GO, "r0")


def matching_properties(n: int) -> Scenario:
    """n rules each testing its own property of the one fact, all holding."""
    rules = {f"r{i}": _rule([{"t": _and({"kind": "tally"}, {"$gte": {f"c{i}": 1}})}, {"ev": STAGE}], pri=i)
             for i in range(n)}
    return Scenario(_with_fallback(rules), [{"kind": "tally", "id": "t", **{f"c{i}": 1 for i in range(n)}}], GO, "r0")


def matching_in_a_tree(n: int) -> Scenario:
    """n rules whose tests all hold for the one fact, in a two-level tree (about sqrt(n) tests
    under `kind`, as many under each): fewer matching nodes wait at once than in a flat list."""
    width = max(1, int(n ** 0.5) + 1)
    rules = {}
    for i in range(n):
        group, member = divmod(i, width)
        rules[f"r{i}"] = _rule([{"t": _and({"kind": "tally"}, {"$gte": {"a": -group}}, {"$gte": {"b": -member}})},
                                {"ev": STAGE}], pri=i)
    return Scenario(_with_fallback(rules), [{"kind": "tally", "id": "t", "a": 0, "b": 0}], GO, "r0")


def rules_sharing_a_pattern(n: int) -> Scenario:
    """n rules whose event pattern is the same: n rules hang off one node (a first-hit table)."""
    rules = {f"r{i}": _rule([{"t": _and({"kind": "tally"}, {"$gte": {"x": i}})}, {"ev": STAGE}], pri=i)
             for i in range(n)}
    return Scenario(_with_fallback(rules), [{"kind": "tally", "id": "t", "x": 0}], GO, "r0")


def rules_in_a_tree(n: int) -> Scenario:
    """n rules with no node holding more than about sqrt(n) children or rules: the ruleset's size alone."""
    width = max(1, int(n ** 0.5) + 1)
    rules = {}
    for i in range(n):
        group, member = divmod(i, width)
        rules[f"r{i}"] = _rule([{"t": _and({"kind": "tally"}, {"g": group}, {"m": member})},
                                {"ev": _and({"kind": "stage"}, {"stage": "go"}, {"g": group})}], pri=i)
    group, member = divmod(n - 1, width)
    event = {**GO, "g": group}
    return Scenario(rules, [{"kind": "tally", "id": "t", "g": group, "m": member}], event, f"r{n - 1}")


def joined_patterns(n: int) -> Scenario:
    """One rule of n patterns: n - 1 facts joined with the event (the compliance verdict's shape)."""
    patterns = [{f"p{i}": _and({"kind": "result"}, {"req": f"q{i}"}, {"passed": 1})} for i in range(n - 1)]
    facts = [{"kind": "result", "id": f"q{i}", "req": f"q{i}", "passed": 1} for i in range(n - 1)]
    return Scenario(_with_fallback({"joined": _rule(patterns + [{"ev": STAGE}])}), facts, GO, "joined")


def nesting_depth(n: int) -> Scenario:
    """$and and $or nested n deep in one pattern, counting the pattern's own $and."""
    test: dict = {"x": 1}
    for level in range(n - 1):  # alternately an $and of one test and an $or with a test that never holds
        test = {"$or": [test, {"x": -1}]} if level % 2 else {"$and": [test]}
    return Scenario(_with_fallback({"deep": _rule([{"t": _and({"kind": "tally"}, test)}, {"ev": STAGE}])}),
                    [{"kind": "tally", "id": "t", "x": 1}], GO, "deep")


def or_width(n: int) -> Scenario:
    """One $or of n alternatives; the fact matches only the last."""
    alternatives = [{"x": i} for i in range(n)]
    return Scenario(_with_fallback({"wide": _rule([{"t": _and({"kind": "tally"}, {"$or": alternatives})},
                                                   {"ev": STAGE}])}),
                    [{"kind": "tally", "id": "t", "x": n - 1}], GO, "wide")


def or_all_holding(n: int) -> Scenario:
    """One $or of n alternatives that all hold for the fact."""
    alternatives = [{"$gte": {"x": -i}} for i in range(n)]
    return Scenario(_with_fallback({"wide": _rule([{"t": _and({"kind": "tally"}, {"$or": alternatives})},
                                                   {"ev": STAGE}])}),
                    [{"kind": "tally", "id": "t", "x": 0}], GO, "wide")


def correlations(n: int) -> Scenario:
    """One pattern with n tests that compare with another fact's properties (a join's tests)."""
    tests = [{f"c{i}": {"s": f"c{i}"}} for i in range(n)]
    fact = {f"c{i}": i for i in range(n)}
    rules = {"joined": _rule([{"s": _and({"kind": "summary"}, {"flag": 1})}, {"t": _and({"kind": "tally"}, *tests)},
                              {"ev": STAGE}])}
    return Scenario(_with_fallback(rules), [{"kind": "summary", "id": "s", "flag": 1, **fact},
                                            {"kind": "tally", "id": "t", **fact}], GO, "joined")


def string_value(n: int) -> Scenario:
    """A string value of n characters, tested for equality with a constant of the same length."""
    text = "a" * (n - 1) + "z"
    return Scenario(_with_fallback({"text": _rule([{"t": _and({"kind": "tally"}, {"s": text})}, {"ev": STAGE}])}),
                    [{"kind": "tally", "id": "t", "s": text}], GO, "text")


def key_length(n: int) -> Scenario:
    """A property name of n characters."""
    key = "k" * n
    return Scenario(_with_fallback({"key": _rule([{"t": _and({"kind": "tally"}, {key: 1})}, {"ev": STAGE}])}),
                    [{"kind": "tally", "id": "t", key: 1}], GO, "key")


def rule_name_length(n: int) -> Scenario:
    """A rule name of n characters."""
    name = "r" * n
    return Scenario(_with_fallback({name: _rule([{"t": _and({"kind": "tally"}, {"x": 1})}, {"ev": STAGE}])}),
                    [{"kind": "tally", "id": "t", "x": 1}], GO, name)


def ruleset_name_length(n: int) -> Scenario:
    """A ruleset name of n characters."""
    return Scenario({"one": _rule([{"ev": STAGE}])}, [], GO, "one", name="n" * n)


def alias_length(n: int) -> Scenario:
    """A pattern alias of n characters."""
    return Scenario(_with_fallback({"one": _rule([{"t" * n: _and({"kind": "tally"}, {"x": 1})}, {"ev": STAGE}])}),
                    [{"kind": "tally", "id": "t", "x": 1}], GO, "one")


def ruleset_size(n: int) -> Scenario:
    """About n KiB of ruleset JSON, in 64 rules with long constants."""
    per_rule = max(1, n * 1024 // 64)
    rules = {f"r{i}": _rule([{"t": _and({"kind": "tally"}, {"s": f"{i:04}" + "a" * per_rule})}, {"ev": STAGE}])
             for i in range(64)}
    return Scenario(_with_fallback(rules), [{"kind": "tally", "id": "t", "s": "0063" + "a" * per_rule}], GO, "r63")


def facts_matching_a_join(n: int) -> Scenario:
    """n facts in one session that all match the pattern joined with the event; the event is
    consumed by the first match (a selection field where every candidate ties)."""
    facts = [{"kind": "result", "id": f"f{i}", "passed": 1} for i in range(n)]
    rules = {"any": _rule([{"r": _and({"kind": "result"}, {"passed": 1})}, {"ev": STAGE}])}
    return Scenario(_with_fallback(rules), facts, GO, "any")


def facts_in_a_session(n: int) -> Scenario:
    """n facts in one session, all matched by one pattern joined with the event."""
    facts = [{"kind": "result", "id": f"f{i}", "n": i} for i in range(n)]
    rules = {"any": _rule([{"r": _and({"kind": "result"}, {"n": n - 1})}, {"ev": STAGE}]),
             "observe": _rule([{"r": {"kind": "result"}}, {"x": {"kind": "never"}}])}
    return Scenario(_with_fallback(rules), facts, GO, "any")


def event_properties(n: int) -> Scenario:
    """An event with n properties, counting kind, stage, and the id and sid the core adds."""
    extra = max(1, n - 4)
    event = {**GO, **{f"p{i}": i for i in range(extra)}}
    rules = {"one": _rule([{"ev": _and({"kind": "stage"}, {"stage": "go"}, {f"p{extra - 1}": extra - 1})}])}
    return Scenario(_with_fallback(rules), [], event, "one")


PROBES = [
    Probe("and_width", "tests in one pattern, each on its own property of the fact", and_width, 4096),
    Probe("and_width_one_property", "tests in one pattern, all on one property", and_width_one_property, 1 << 16),
    Probe("fact_properties", "properties of one fact, with kind, id and sid", fact_properties, 4096, low=4),
    Probe("event_properties", "properties of one event, with the id and sid added", event_properties, 4096, low=5),
    Probe("sibling_tests", "sibling tests under one node (rules differing in a constant)", sibling_tests, 2048),
    Probe("sibling_properties", "sibling tests under one node, each on its own property", sibling_properties, 2048),
    Probe("matching_siblings", "sibling tests that all hold for one fact", matching_siblings, 2048),
    Probe("matching_properties", "sibling tests on the fact's own properties, all holding", matching_properties, 2048),
    Probe("matching_in_a_tree", "rules whose tests all hold, in a two-level tree", matching_in_a_tree, 4096),
    Probe("rules_sharing_a_pattern", "rules whose last pattern ends at the same node", rules_sharing_a_pattern, 2048),
    Probe("rules_in_a_tree", "rules in one ruleset, no node crowded", rules_in_a_tree, 16384),
    Probe("joined_patterns", "patterns in one rule (facts joined with the event)", joined_patterns, 1024, low=2),
    Probe("nesting_depth", "depth of nested $and/$or in one pattern", nesting_depth, 1024),
    Probe("or_width", "alternatives in one $or", or_width, 4096),
    Probe("or_all_holding", "alternatives in one $or, all holding", or_all_holding, 4096),
    Probe("correlations", "tests against another fact's properties, in one pattern", correlations, 1024),
    Probe("string_value", "characters in a string value (ASCII)", string_value, 1 << 26),
    Probe("key_length", "characters in a property name", key_length, 1 << 23),
    Probe("rule_name_length", "characters in a rule name", rule_name_length, 1 << 23),
    Probe("ruleset_name_length", "characters in a ruleset name", ruleset_name_length, 1 << 23),
    Probe("alias_length", "characters in a pattern alias", alias_length, 1 << 23),
    Probe("ruleset_size", "KiB of ruleset JSON", ruleset_size, 1 << 16),
    Probe("facts_in_a_session", "facts in one session", facts_in_a_session, 1 << 16),
    Probe("facts_matching_a_join", "facts matching the pattern joined with the event", facts_matching_a_join, 1 << 16),
]


# --- one trial, in this process (the child) ----------------------------------------------

def run_scenario(scenario: Scenario) -> str:
    """Register, assert, post; return the first rule that fired (raises on engine errors).
    The session is deleted however the run ends, as engine/runtime/durable.py does."""
    import durable_rules_engine as core

    handle = core.create_ruleset(scenario.name, json.dumps(scenario.rules, ensure_ascii=False))
    try:
        if scenario.facts:
            facts = json.dumps([{**f, "sid": SID} for f in scenario.facts])
            state = _handled(core.assert_facts(handle, facts), "facts")
            if core.start_action_for_state(handle, state):  # as engine/runtime/durable.py does: nothing may fire yet
                return "(a rule fired on the facts alone)"
        state = _handled(core.assert_event(handle, json.dumps({**scenario.event, "sid": SID})), "event")
        started = core.start_action_for_state(handle, state)
        if not started:
            return "(nothing fired)"
        (fired, _), = json.loads(started[1]).items()
        while core.complete_and_start_action(handle, state):
            pass
        return fired
    finally:
        try:
            core.delete_state(handle, SID)
        except core.error:
            pass  # 309: no session was created


def _handled(result: tuple, what: str) -> int:
    if result[0] == 1:
        raise RuntimeError(f"{what} not handled")
    if result[0] == 2:
        raise RuntimeError(f"{what} already observed")
    return result[1]


def child(probe_name: str, n: int) -> int:
    probe = next(p for p in PROBES if p.name == probe_name)
    scenario = probe.build(n)
    try:
        fired = run_scenario(scenario)
    except Exception as error:  # what the core reports is the measurement
        print(f"error: {_short(str(error) or type(error).__name__)}")
        return 3
    if fired != scenario.expect:
        print(f"wrong: {fired} fired, not {scenario.expect}")
        return 4
    print("ok")
    return 0


def _short(text: str) -> str:
    return text if len(text) <= 60 else text[:57] + "..."


# --- the parent: trials in children, bisection, the table --------------------------------

@dataclass(frozen=True)
class Trial:
    n: int
    ok: bool
    outcome: str  # "ok", "SIGSEGV", "hang", "error: ...", "wrong: ..."
    seconds: float


def trial(probe: Probe, n: int) -> Trial:
    started = time.monotonic()
    try:
        done = subprocess.run([sys.executable, __file__, "--child", probe.name, str(n)],
                              capture_output=True, text=True, timeout=TRIAL_TIMEOUT)
    except subprocess.TimeoutExpired:
        return Trial(n, False, f"hang (no answer in {TRIAL_TIMEOUT:.0f} s)", time.monotonic() - started)
    seconds = time.monotonic() - started
    if done.returncode < 0:
        return Trial(n, False, signal.Signals(-done.returncode).name, seconds)
    said = done.stdout.strip().splitlines()[-1] if done.stdout.strip() else f"exit {done.returncode}"
    if done.returncode != 0 and not said.startswith(("error", "wrong")):
        said = f"exit {done.returncode}: {_short(done.stderr.strip().splitlines()[-1] if done.stderr.strip() else '')}"
    return Trial(n, done.returncode == 0, said, seconds)


@dataclass(frozen=True)
class Boundary:
    probe: Probe
    works: int  # the largest size that worked (0: none did)
    fails: Trial | None  # the smallest failing trial found; None when `high` still worked


def bisect(probe: Probe) -> Boundary:
    """Largest n in [low, high] that works, assuming every size below a working one works.

    Sizes double from `low` until one fails, then the gap is halved: a boundary at a power of
    two (most are) costs one failing trial, which matters when failing means a timeout."""
    good = trial(probe, probe.low)
    if not good.ok:
        return Boundary(probe, 0, good)
    bad = None
    while bad is None and good.n < probe.high:
        step = trial(probe, min(good.n * 2, probe.high))
        good, bad = (step, None) if step.ok else (good, step)
    if bad is None:
        return Boundary(probe, good.n, None)
    while bad.n - good.n > 1:
        middle = trial(probe, (good.n + bad.n) // 2)
        good, bad = (middle, bad) if middle.ok else (good, middle)
    return Boundary(probe, good.n, bad)


def render(boundaries: list[Boundary]) -> str:
    rows = [("dimension", "probe", "works up to", "first failing size", "what fails")]
    for b in boundaries:
        if b.fails is None:
            rows.append((b.probe.what, b.probe.name, f">= {b.works}", "-", f"nothing up to {b.probe.high}"))
        else:
            rows.append((b.probe.what, b.probe.name, str(b.works), str(b.fails.n), b.fails.outcome))
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    lines = ["  ".join(cell.ljust(w) for cell, w in zip(row, widths)).rstrip() for row in rows]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--only", action="append", help="measure only this dimension (repeatable)")
    parser.add_argument("--list", action="store_true", help="list the dimensions and exit")
    parser.add_argument("--try", dest="try_size", type=int, help="with --only: run one size and print its outcome")
    parser.add_argument("--child", nargs=2, metavar=("PROBE", "N"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        return child(args.child[0], int(args.child[1]))
    if args.list:
        for probe in PROBES:
            print(f"{probe.name:28} {probe.what}")
        return 0
    chosen = [p for p in PROBES if not args.only or p.name in args.only]
    if args.try_size is not None:
        for probe in chosen:
            t = trial(probe, args.try_size)
            print(f"{probe.name} n={t.n}: {t.outcome} ({t.seconds:.1f} s)")
        return 0
    boundaries = []
    for probe in chosen:
        boundaries.append(bisect(probe))
        print(f"measured {probe.name}", file=sys.stderr, flush=True)
    print(render(boundaries))
    return 0


if __name__ == "__main__":
    sys.exit(main())
