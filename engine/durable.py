"""The only module that imports durable-rules. It owns the process's one host.

durable-rules 2.0.28 has traps (see the project README, "The rules engine"); this module
contains all of them:

- `engine.Host()` starts poller threads that race with the caller (failed evaluations
  about once in 4,000, segfaults under threads). `_QuietHost` turns the poller off.
- The stock action loop re-serialises the session state after every action (~24 us
  each) although our actions never change it, so `DurableHost` drives the C core's
  action loop itself: start the action, run it, complete it, until none is left.
- Ruleset names can be registered once per host: names carry a hash of the rules, and
  each is registered at most once. `register_rulesets` mutates its argument, so it is
  given a deep copy.
- Sessions are capped at 1,024 live per ruleset: every evaluation gets a fresh sid that
  is deleted in `finally`, so at most one is ever live.
- Some rule shapes loop forever inside the C core, and 516 sibling tests hang
  registration: `check_ruleset_shape` refuses them before registration, whatever
  produced the ruleset (the compiler never does; a hand-edited rules/ file might).
- Facts no rule accepts raise MessageNotHandled; a repeated fact raises MessageObserved;
  exceptions inside actions are swallowed into the state. All become `EngineError`.
- Values: only ints and short strings reach the engine (it coerces '1' == 1 == True and
  rejects numbers written as 1e-05); `check_value` enforces that.
- The C core has no locks: a host refuses calls from any thread but its own.
"""

from __future__ import annotations

import copy
import json
import os
import threading
from contextlib import contextmanager
from dataclasses import dataclass
from importlib import metadata
from typing import Any, Callable, Iterator

import durable_rules_engine as _core
from durable import engine as _engine

MAX_RULES = 450  # registration hangs at about 516 sibling tests on one property
MAX_ACTIONS = 64  # an evaluation runs one action per stage; more means a runaway cascade
SESSION_PREFIX = "arbiter-"


class EngineError(Exception):
    """durable-rules failed or was given a ruleset or fact it cannot run safely."""


@dataclass(frozen=True)
class Firing:
    """A rule that fired and the facts and event it matched (by pattern alias)."""

    rule: str
    matched: dict[str, dict[str, Any]]

    def to_json(self) -> dict[str, Any]:
        return {"rule": self.rule, "matched": self.matched}


Effect = tuple[str, dict[str, Any]]  # ("post", event) or ("assert", fact)
React = Callable[[str, dict[str, dict[str, Any]]], list[Effect]]


def durable_version() -> str:
    try:
        return metadata.version("durable-rules")
    except metadata.PackageNotFoundError:  # pragma: no cover - installed without metadata
        return "unknown"


class _QuietHost(_engine.Host):
    """engine.Host with its poller threads turned off; we never use timers or async actions."""

    def _run(self) -> None:
        return None

    def get_action(self, action_name: str):
        def not_used(_closure):  # actions run through Session._drain, never the stock loop
            raise EngineError(f"stock action loop reached rule {action_name}")
        return not_used


class DurableHost:
    """One per process (see `host()`): registers rulesets and runs evaluations."""

    def __init__(self) -> None:
        self._host = _QuietHost()
        self._thread = threading.get_ident()
        self._opened = 0  # sessions opened so far; each evaluation's sid is its number
        self._handles: dict[str, int] = {}

    def ensure_registered(self, name: str, rules: dict[str, Any]) -> int:
        if name not in self._handles:
            check_ruleset_shape(name, rules)
            try:
                self._host.register_rulesets({name: copy.deepcopy(rules)})
            except Exception as error:  # durable raises bare Exception and its own error type
                raise EngineError(f"durable-rules refused ruleset {name}: {error}") from None
            self._handles[name] = self._host.get_ruleset(name)._handle
        return self._handles[name]

    @contextmanager
    def session(self, name: str, rules: dict[str, Any], react: React) -> Iterator["Session"]:
        """A fresh session on a registered ruleset, deleted however the block ends."""
        if threading.get_ident() != self._thread:
            raise EngineError("durable-rules is not thread-safe: use one host per process, from one thread")
        handle = self.ensure_registered(name, rules)
        self._opened += 1
        sid = f"{SESSION_PREFIX}{self._opened}"
        try:
            yield Session(handle, sid, react)
        except _core.error as error:
            raise EngineError(f"durable-rules failed: {error}") from None
        finally:
            self._delete(handle, sid)

    def run(self, name: str, rules: dict[str, Any], facts: list[dict[str, Any]],
            first_event: dict[str, Any], react: React) -> list[Firing]:
        """Assert facts, post one event, and return every rule that fired, in order."""
        with self.session(name, rules, react) as session:
            session.assert_facts(facts)
            return session.post(first_event)

    def _delete(self, handle: int, sid: str) -> None:
        try:
            _core.delete_state(handle, sid)
        except _core.error:
            pass  # 309: the session was never created because the first assert failed

    def live_session(self, name: str, sid_number: int) -> bool:
        """Whether a session is still held by the C core (used by tests to prove cleanup)."""
        try:
            _core.get_state(self._handles[name], f"{SESSION_PREFIX}{sid_number}")
            return True
        except _core.error:
            return False

    @property
    def evaluations(self) -> int:
        """How many sessions this host has opened (the last sid number issued)."""
        return self._opened


class Session:
    """One evaluation's session: assert facts, post events, collect what fired.

    `react(rule, matched)` is called for each firing and returns the effects of its
    action, ("post", event) or ("assert", fact): how an action records a conclusion.
    """

    def __init__(self, handle: int, sid: str, react: React):
        self._handle, self._sid, self._react = handle, sid, react

    def assert_facts(self, facts: list[dict[str, Any]]) -> None:
        if not facts:
            return
        for fact in facts:
            check_value(fact)
        state = _result(_core.assert_facts(self._handle, _dumps([{**f, "sid": self._sid} for f in facts])), "facts")
        if self._drain(state):
            raise EngineError("a rule fired on facts alone; every rule must wait for a stage event")

    def post(self, event: dict[str, Any]) -> list[Firing]:
        """Post a stage event and run every action it leads to; return those firings."""
        check_value(event)
        state = _result(_core.assert_event(self._handle, _dumps({**event, "sid": self._sid})), "event")
        return self._drain(state)

    def _drain(self, state: int) -> list[Firing]:
        handle = self._handle
        fired: list[Firing] = []
        started = _core.start_action_for_state(handle, state)
        message = started[1] if started else None
        while message:
            if len(fired) >= MAX_ACTIONS:
                _core.abandon_action(handle, state)
                raise EngineError(f"more than {MAX_ACTIONS} actions in one evaluation: a cascade did not stop")
            (rule, matched), = json.loads(message).items()
            firing = Firing(rule, {alias: _strip(fact) for alias, fact in matched.items()})
            fired.append(firing)
            try:
                for verb, effect in self._react(rule, firing.matched):
                    check_value(effect)
                    stamped = _dumps({**effect, "sid": self._sid})
                    if verb == "post":
                        _result(_core.assert_event(handle, stamped), "event")
                    else:
                        _result(_core.assert_fact(handle, stamped), "fact")
            except BaseException:
                _core.abandon_action(handle, state)
                raise
            message = _core.complete_and_start_action(handle, state)
        return fired


_HOST: DurableHost | None = None
_HOST_PID: int | None = None


def host() -> DurableHost:
    """The process's host, created on first use (and anew in a forked child)."""
    global _HOST, _HOST_PID
    if _HOST is None or _HOST_PID != os.getpid():
        _HOST, _HOST_PID = DurableHost(), os.getpid()
    return _HOST


def _result(result: tuple, what: str) -> int:
    code = result[0]
    if code == 1:
        raise EngineError(f"no rule accepts this {what} (MessageNotHandled)")
    if code == 2:
        raise EngineError(f"this {what} was already asserted in the session (MessageObserved)")
    return result[1]


def _strip(fact: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in sorted(fact.items()) if k not in ("sid", "id")}


def _dumps(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False)


def check_value(message: dict[str, Any]) -> None:
    """Only ints (not bools) and strings, under plain keys, reach the engine.

    On the hot path: `type(v) is int` is both the fastest test and the one that refuses
    bools, which durable-rules would compare equal to 1."""
    for key, value in message.items():
        kind = type(value)
        if kind is str:
            pass
        elif kind is int:
            if not -_SAFE_INT < value < _SAFE_INT:
                raise EngineError(f"value {value} for {key!r} is too large to compare reliably")
        else:
            raise EngineError(f"value {value!r} for {key!r} is not an int or a string")
        if type(key) is not str or key[:1] == "$" or "." in key:
            raise EngineError(f"key {key!r} cannot be sent to durable-rules")


_SAFE_INT = 2**53


# Negation (an "x$not" pattern, refused below): in 2.0.28 a negated pattern correlated with another fact is not
# re-checked when the negated fact arrives later, so its answer depends on fact order.
# Arithmetic ($add ... $div) on the right of a test gave wrong answers in our probes.
_FORBIDDEN_OPERATORS = ("$s", "$nex", "$mt", "$imt", "$iall", "$iany", "$add", "$sub", "$mul", "$div")


def check_ruleset_shape(name: str, rules: dict[str, Any]) -> None:
    """Refuse shapes that hang or loop inside durable-rules' C core.

    Every rule must join exactly one stage event (events are consumed, so the rule cannot
    re-fire), or be an observer of one fact kind, whose second pattern never matches. No pattern
    may test the session state or only test for absence, priorities must fit in 0..65535,
    and the rule count must stay well below the registration hang.
    """
    if len(rules) > MAX_RULES:
        raise EngineError(f"ruleset {name} has {len(rules)} rules; the limit is {MAX_RULES}")
    for rule_id, rule in rules.items():
        text = json.dumps(rule)
        for operator in _FORBIDDEN_OPERATORS:
            if f'"{operator}"' in text:
                raise EngineError(f"rule {rule_id} uses {operator}, which this engine does not allow")
        if set(rule) - {"all", "pri", "run"}:
            raise EngineError(f"rule {rule_id} has keys {sorted(set(rule) - {'all', 'pri', 'run'})}")
        pri = rule.get("pri", 0)
        if not isinstance(pri, int) or isinstance(pri, bool) or not 0 <= pri <= 65535:
            raise EngineError(f"rule {rule_id} has priority {pri!r}; it must be 0..65535")
        patterns = rule.get("all", [])
        aliases = [alias for p in patterns for alias in p]
        if any("$" in alias for alias in aliases):
            raise EngineError(f"rule {rule_id} uses a pattern suffix ($not, $all, $any), which this engine does not allow")
        kinds = [_pattern_kind(p) for p in patterns]
        if None in kinds:
            raise EngineError(f"rule {rule_id} has a pattern without a 'kind' discriminator")
        observer = len(kinds) == 2 and kinds[1] == "never" and kinds[0] not in ("stage", "never")
        if kinds.count("stage") != 1 and not observer:
            raise EngineError(f"rule {rule_id} must join exactly one stage event")


def _pattern_kind(pattern: dict[str, Any]) -> str | None:
    if len(pattern) != 1:
        return None
    (test,) = pattern.values()
    if "kind" in test:
        return test["kind"]
    for part in test.get("$and", [])[:1]:
        if "kind" in part:
            return part["kind"]
    return None
