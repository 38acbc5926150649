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
- Sessions are capped at 1,024 live per ruleset, and opening one costs more than an
  evaluation's own work: each ruleset keeps one emptied session that evaluations reuse (every
  fact asserted is retracted, every event posted is consumed), deleted instead whenever an
  evaluation fails or leaves anything behind; at most MAX_IDLE_SESSIONS are kept.
- Some rule shapes loop forever inside the C core, and past measured sizes it crashes,
  hangs or fails (bench/limits.py: 255 properties in one fact segfault, 65 tests holding
  at once for one fact abort the process, 512 sibling tests hang registration, a rule of
  17 patterns fails): `check_ruleset_shape` refuses such rulesets before registration and
  `check_value` such facts, well inside those sizes (the MAX_ limits below), whatever
  produced them (the compiler never does; a hand-edited rules/ file might).
- Facts no rule accepts raise MessageNotHandled; a repeated fact raises MessageObserved;
  exceptions inside actions are swallowed into the state. All become `EngineError`.
- Values: only ints and strings of at most MAX_STRING characters reach the engine (it
  coerces '1' == 1 == True, rejects numbers written as 1e-05 and segfaults on a 16 MiB
  string); `check_value` enforces that.
- The C core has no locks: a host refuses calls from any thread but its own.
"""

from __future__ import annotations

import copy
import json
import os
import threading
from collections import Counter
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Callable, Iterable, Iterator

import durable_rules_engine as _core
import orjson
from durable import engine as _engine

# Sizes durable-rules 2.0.28's C core handles, measured by bench/limits.py, and the limits kept
# here: about half of each boundary or less. The compiler keeps well inside them (E134, E135).
MAX_RULES = 64  # per ruleset: 256 rules ending at one node fail registration; 512 sibling tests hang it
MAX_KIND_PATTERNS = 32  # patterns on one kind of fact: 65 tests holding for one fact at once fail its
#                         assertion (error 303), and deleting that session then aborts the process. Each test
#                         waiting its turn leads to a pattern of its own, so patterns on a kind bound them.
MAX_PATTERNS = 12  # per rule: a rule joining 17 patterns fails (error 304) once its facts arrive
MAX_TESTS = 250  # per pattern: 65,536 on one property still work; a set at the compiler's limits has 201
MAX_NESTING = 7  # $and/$or levels in one pattern: 16 are refused (error 113)
MAX_PROPERTIES = 120  # per fact or event, counting the id and sid the engine adds: 255 segfault
MAX_STRING = 1 << 20  # characters in one string value: 16 MiB of them segfault
MAX_ACTIONS = 64  # per message: a stage event is answered by one action (an inspection's chain of stages by
#                   one per stage); more means a runaway cascade
MAX_IDLE_SESSIONS = 32  # emptied sessions kept for reuse, one per ruleset, the least recently used deleted first
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


class _QuietHost(_engine.Host):
    """engine.Host with its poller threads turned off; we never use timers or async actions."""

    def _run(self) -> None:
        return None

    def get_action(self, action_name: str):
        def not_used(_closure):  # actions run through Session._drain, never the stock loop
            raise EngineError(f"stock action loop reached rule {action_name}")
        return not_used


class DurableHost:
    """One per process (see `host()`): registers rulesets and runs evaluations.

    Each ruleset keeps one idle session between evaluations, emptied: every fact asserted in
    it retracted, every event posted consumed by the rule that fired on it. An evaluation takes
    it (or opens a fresh one), and gives it back only when it ended without an error and left
    nothing behind; otherwise the session is deleted, and the next evaluation opens a fresh one.
    At most MAX_IDLE_SESSIONS are kept, the least recently used deleted first."""

    def __init__(self) -> None:
        self._host = _QuietHost()
        self._thread = threading.get_ident()
        self._opened = 0  # sessions opened so far; each session's sid is its number
        self._runs = 0  # evaluations run, each in a session opened for it or reused
        self._handles: dict[str, int] = {}
        self._kinds: dict[str, frozenset[str]] = {}  # ruleset -> the kinds of fact and event its rules accept
        self._idle: dict[str, Session] = {}  # ruleset -> its emptied session, least recently used first
        self._held: set[str] = set()  # sids of the sessions open now, idle or in use

    def ensure_registered(self, name: str, rules: dict[str, Any]) -> int:
        if name not in self._handles:
            check_ruleset_shape(name, rules)
            try:
                self._host.register_rulesets({name: copy.deepcopy(rules)})
            except Exception as error:  # durable raises bare Exception and its own error type
                raise EngineError(f"durable-rules refused ruleset {name}: {error}") from None
            self._handles[name] = self._host.get_ruleset(name)._handle
            self._kinds[name] = frozenset(_pattern_kind(p) for rule in rules.values() for p in rule.get("all", []))
        return self._handles[name]

    @contextmanager
    def session(self, name: str, rules: dict[str, Any], react: React) -> Iterator["Session"]:
        """An empty session on a registered ruleset for one evaluation: given back emptied, or
        deleted if the block raises or leaves a fact or event behind."""
        session = self._take(name, rules, react)
        try:
            yield session
        except BaseException as error:
            raise self._failed(session, error)
        self._give_back(name, session)

    def run(self, name: str, rules: dict[str, Any], facts: list[dict[str, Any]],
            first_event: dict[str, Any], react: React) -> list[Firing]:
        """Assert facts, post one event, and return every rule that fired, in order."""
        return self.run_each(name, rules, facts, (first_event,), react)

    def run_each(self, name: str, rules: dict[str, Any], facts: list[dict[str, Any]],
                 events: Iterable[dict[str, Any]], react: React) -> list[Firing]:
        """Assert facts, post each event in turn once the last one's actions are done, and
        return every rule that fired, in order (a `session` block without its cost)."""
        session = self._take(name, rules, react)
        try:
            session.assert_facts(facts)
            fired = [firing for event in events for firing in session.post(event)]
        except BaseException as error:
            raise self._failed(session, error)
        self._give_back(name, session)
        return fired

    def _failed(self, session: "Session", error: BaseException) -> BaseException:
        """What an evaluation that raised `error` raises, once its session is deleted (never
        reused: it may hold half of what was sent): the C core's error as an EngineError."""
        self._delete(session)
        if not isinstance(error, _core.error):
            return error
        failure = EngineError(f"durable-rules failed: {error}")
        failure.__suppress_context__ = True  # as `raise ... from None`: the core's error is in the message
        return failure

    def _take(self, name: str, rules: dict[str, Any], react: React) -> "Session":
        if threading.get_ident() != self._thread:
            raise EngineError("durable-rules is not thread-safe: use one host per process, from one thread")
        handle = self.ensure_registered(name, rules)
        self._runs += 1
        session = self._idle.pop(name, None)
        if session is None:
            self._opened += 1
            session = Session(handle, f"{SESSION_PREFIX}{self._opened}", react, self._kinds[name])
            self._held.add(session.sid)
        session.react = react
        return session

    def _give_back(self, name: str, session: "Session") -> None:
        """Keep the session for the ruleset's next evaluation if it is empty again (none is kept
        already: a nested evaluation on the same ruleset opened a second one); else delete it."""
        if not session.empty() or name in self._idle:
            self._delete(session)
            return
        session.react = _no_reaction
        self._idle[name] = session
        if len(self._idle) > MAX_IDLE_SESSIONS:
            self._delete(self._idle.pop(next(iter(self._idle))))

    def _delete(self, session: "Session") -> None:
        self._held.discard(session.sid)
        try:
            _core.delete_state(session.handle, session.sid)
        except _core.error:
            pass  # 309: the session was never created because the first assert failed

    def release(self) -> None:
        """Delete every idle session: afterwards the C core holds no session of this host."""
        while self._idle:
            self._delete(self._idle.pop(next(iter(self._idle))))

    def live_session(self, name: str, sid_number: int) -> bool:
        """Whether a session is still held by the C core (used by tests to prove cleanup). A
        session this host holds (idle or in use) is live, and the C core is not asked: asked of
        an open session, durable-rules 2.0.28's get_state leaves it so that deleting it aborts
        the process (free(): invalid pointer). Any other sid is asked of the core."""
        sid = f"{SESSION_PREFIX}{sid_number}"
        if sid in self._held:
            return True
        try:
            _core.get_state(self._handles[name], sid)
            return True
        except _core.error:
            return False

    @property
    def evaluations(self) -> int:
        """How many evaluations this host has run (sessions taken, fresh or reused)."""
        return self._runs

    @property
    def sessions_opened(self) -> int:
        """How many sessions this host has opened (the last sid number issued)."""
        return self._opened

    @property
    def sessions_held(self) -> int:
        """How many sessions are open now: the idle ones and any evaluation's in progress."""
        return len(self._held)


def _no_reaction(rule: str, matched: dict[str, dict[str, Any]]) -> list[Effect]:
    raise EngineError(f"rule {rule} fired in an idle session")


class Session:
    """One evaluation's use of a session: assert facts, post events, collect what fired.

    `react(rule, matched)` is called for each firing and returns the effects of its
    action, ("post", event) or ("assert", fact): how an action records a conclusion.
    The session remembers each fact asserted and counts the events posted, so that `empty`
    can leave it as a fresh one: every rule joins exactly one event, consumed when it fires.
    """

    def __init__(self, handle: int, sid: str, react: React, kinds: frozenset[str]):
        self.handle, self.sid, self.react, self._kinds = handle, sid, react, kinds
        self._facts: list[str] = []  # each fact asserted, as sent: retracted by `empty`
        self._unconsumed = 0  # events posted less rules fired

    def _check(self, message: dict[str, Any]) -> None:
        """A message no rule accepts is refused here: given one, the C core fails the assert
        (MessageNotHandled) and deleting that session afterwards can crash the process."""
        check_value(message)
        if message.get("kind") not in self._kinds:
            raise EngineError(f"no rule accepts a message of kind {message.get('kind')!r} in this ruleset")

    def _stamped(self, message: dict[str, Any]) -> str:
        """The message with this session's sid, keys sorted: the core hands a matched fact back
        as the text it was given, so a firing's facts come back with their keys in order."""
        return _dumps({**message, "sid": self.sid})

    def assert_facts(self, facts: list[dict[str, Any]]) -> None:
        if not facts:
            return
        for fact in facts:
            self._check(fact)
        texts = [self._stamped(f) for f in facts]
        self._facts += texts
        state = _result(_core.assert_facts(self.handle, "[" + ",".join(texts) + "]"), "facts")
        if self._drain(state):
            raise EngineError("a rule fired on facts alone; every rule must wait for a stage event")

    def post(self, event: dict[str, Any]) -> list[Firing]:
        """Post a stage event and run every action it leads to; return those firings."""
        self._check(event)
        self._unconsumed += 1
        state = _result(_core.assert_event(self.handle, self._stamped(event)), "event")
        return self._drain(state)

    def empty(self) -> bool:
        """Retract every fact asserted; True when the session holds nothing any more (every
        event posted was consumed by a rule that fired), so that it can serve again."""
        try:
            for text in self._facts:
                _core.retract_fact(self.handle, text)
        except _core.error:
            return False  # the evaluation's answer stands; the session is deleted, not reused
        self._facts.clear()
        return self._unconsumed == 0

    def _drain(self, state: int) -> list[Firing]:
        handle = self.handle
        fired: list[Firing] = []
        started = _core.start_action_for_state(handle, state)
        message = started[1] if started else None
        while message:
            if len(fired) >= MAX_ACTIONS:
                _core.abandon_action(handle, state)
                raise EngineError(f"more than {MAX_ACTIONS} actions from one message: a cascade did not stop")
            (rule, matched), = _loads(message).items()
            firing = Firing(rule, {alias: _strip(fact) for alias, fact in matched.items()})
            fired.append(firing)
            self._unconsumed -= 1
            try:
                for verb, effect in self.react(rule, firing.matched):
                    self._check(effect)
                    stamped = self._stamped(effect)
                    if verb == "post":
                        self._unconsumed += 1
                        _result(_core.assert_event(handle, stamped), "event")
                    elif verb == "assert":
                        self._facts.append(stamped)
                        _result(_core.assert_fact(handle, stamped), "fact")
                    else:  # an action that names no known effect would otherwise assert by default
                        raise EngineError(f"rule {rule}: unknown effect {verb!r}; an action posts or asserts")
            except BaseException:
                _core.abandon_action(handle, state)
                raise
            message = _core.complete_and_start_action(handle, state)
        return fired


_HOST: DurableHost | None = None


def host() -> DurableHost:
    """The process's host, created on first use (and anew in a forked child)."""
    global _HOST
    if _HOST is None:
        _HOST = DurableHost()
    return _HOST


def _forget_host() -> None:
    """In a forked child: the parent's host, its thread and its sessions are the parent's. The
    child's first evaluation creates a host of its own (asking the pid on every call instead
    would cost a system call per evaluation)."""
    global _HOST
    _HOST = None


os.register_at_fork(after_in_child=_forget_host)


def _result(result: tuple, what: str) -> int:
    code = result[0]
    if code == 1:
        raise EngineError(f"no rule accepts this {what} (MessageNotHandled)")
    if code == 2:
        raise EngineError(f"this {what} was already asserted in the session (MessageObserved)")
    return result[1]


def _strip(fact: dict[str, Any]) -> dict[str, Any]:
    """A matched fact, just parsed, without the sid and id; its keys are in order already
    (Session._stamped)."""
    fact.pop("sid", None)
    fact.pop("id", None)
    return fact


def _dumps(value: dict[str, Any]) -> str:
    return orjson.dumps(value, option=orjson.OPT_SORT_KEYS).decode()


_loads = orjson.loads


def check_value(message: dict[str, Any]) -> None:
    """Only ints (not bools) and strings, under plain keys, in a message small enough, reach
    the engine.

    On the hot path: `type(v) is int` is both the fastest test and the one that refuses
    bools, which durable-rules would compare equal to 1."""
    if len(message) > _MAX_OWN_PROPERTIES:
        raise EngineError(f"a message of {len(message)} properties; durable-rules is given at most "
                          f"{_MAX_OWN_PROPERTIES} (it crashes at 255, counting the id and sid it adds)")
    for key, value in message.items():
        kind = type(value)
        if kind is str:
            if len(value) > MAX_STRING:
                raise EngineError(f"value for {key!r} has {len(value):,} characters; the limit is {MAX_STRING:,}")
        elif kind is int:
            if not -_SAFE_INT < value < _SAFE_INT:
                raise EngineError(f"value {value} for {key!r} is too large to compare reliably")
        else:
            raise EngineError(f"value {value!r} for {key!r} is not an int or a string")
        if key not in _PLAIN_KEYS:
            _check_key(key)


def _check_key(key: Any) -> None:
    """A key the engine reads as written (no operator, no path), remembered once checked: the
    same few keys (kinds, stages, condition ids) come with every message."""
    if type(key) is not str or key[:1] == "$" or "." in key:
        raise EngineError(f"key {key!r} cannot be sent to durable-rules")
    if len(_PLAIN_KEYS) < _MAX_PLAIN_KEYS:
        _PLAIN_KEYS.add(key)


_PLAIN_KEYS: set[str] = set()
_MAX_PLAIN_KEYS = 4096


_SAFE_INT = 2**53
_MAX_OWN_PROPERTIES = MAX_PROPERTIES - 2  # the engine adds the sid, and an id to an event


# Negation (an "x$not" pattern, refused below): in 2.0.28 a negated pattern correlated with another fact is not
# re-checked when the negated fact arrives later, so its answer depends on fact order.
# Arithmetic ($add ... $div) on the right of a test gave wrong answers in our probes.
# Each alternative of an $or is a path of its own through the core's network: 65 that hold for one fact
# fail its assertion (error 303) and 512 hang registration, like as many patterns. Nothing we compile uses it.
_FORBIDDEN_OPERATORS = ("$s", "$nex", "$mt", "$imt", "$iall", "$iany", "$add", "$sub", "$mul", "$div", "$or")


def check_ruleset_shape(name: str, rules: dict[str, Any]) -> None:
    """Refuse shapes that hang or loop inside durable-rules' C core.

    Every rule must join exactly one stage event (events are consumed, so the rule cannot
    re-fire), or be an observer of one fact kind, whose second pattern never matches. No pattern
    may test the session state or only test for absence, priorities must fit in 0..65535,
    and the rules, the patterns on each kind of fact, the patterns of each rule and each
    pattern's tests, properties and nesting must stay within the MAX_ limits above, well
    inside the sizes that crash or hang the core.
    """
    if len(rules) > MAX_RULES:
        raise EngineError(f"ruleset {name} has {len(rules)} rules; the limit is {MAX_RULES}")
    on_kind: Counter[str] = Counter()  # patterns per fact kind: they bound the tests a fact can match at once
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
        if len(patterns) > MAX_PATTERNS:
            raise EngineError(f"rule {rule_id} joins {len(patterns)} patterns; the limit is {MAX_PATTERNS}")
        for pattern in patterns:
            for alias, test in pattern.items():
                _check_pattern_size(rule_id, alias, test)
        aliases = [alias for p in patterns for alias in p]
        if any("$" in alias for alias in aliases):
            raise EngineError(f"rule {rule_id} uses a pattern suffix ($not, $all, $any), which this engine does not allow")
        kinds = [_pattern_kind(p) for p in patterns]
        if None in kinds:
            raise EngineError(f"rule {rule_id} has a pattern without a 'kind' discriminator")
        on_kind.update(kinds)
        observer = len(kinds) == 2 and kinds[1] == "never" and kinds[0] not in ("stage", "never")
        if kinds.count("stage") != 1 and not observer:
            raise EngineError(f"rule {rule_id} must join exactly one stage event")
    crowded, patterns_on_it = max(on_kind.items(), key=lambda item: item[1], default=("", 0))
    if patterns_on_it > MAX_KIND_PATTERNS:
        raise EngineError(f"ruleset {name} has {patterns_on_it} patterns on kind {crowded!r}; "
                          f"the limit is {MAX_KIND_PATTERNS}")


def _check_pattern_size(rule_id: str, alias: str, test: Any) -> None:
    tests, properties, depth = _measure(test)
    where = f"pattern {alias} of rule {rule_id}"
    if depth > MAX_NESTING:
        raise EngineError(f"{where} nests $and/$or more than {MAX_NESTING} deep")
    if tests > MAX_TESTS:
        raise EngineError(f"{where} has {tests} tests; the limit is {MAX_TESTS}")
    if len(properties) > _MAX_OWN_PROPERTIES:
        raise EngineError(f"{where} tests {len(properties)} properties; a fact holds at most {_MAX_OWN_PROPERTIES}")


def _measure(test: Any, level: int = 0) -> tuple[int, set[str], int]:
    """(tests, properties tested, $and/$or depth) of one pattern's test. An $and or $or past
    MAX_NESTING counts as one more level without being read: enough to refuse the pattern,
    and it keeps a hand-made nesting from reaching Python's recursion limit."""
    tests, properties, depth = 0, set(), 0
    for key, value in test.items() if isinstance(test, dict) else ():
        if key in ("$and", "$or"):
            parts = value if isinstance(value, list) and level < MAX_NESTING else []
            inner = [_measure(part, level + 1) for part in parts]
            tests += sum(part_tests for part_tests, _, _ in inner)
            properties = properties.union(*(part_properties for _, part_properties, _ in inner))
            depth = max(depth, 1 + max((part_depth for _, _, part_depth in inner), default=0))
        elif key.startswith("$") and isinstance(value, dict):  # {"$gte": {"c1": 3}}
            tests += len(value)
            properties |= set(value)
        else:  # {"kind": "tally"}
            tests += 1
            properties.add(key)
    return tests, properties, depth


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
