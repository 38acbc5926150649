"""The static checks of `arbiter lint`: what the files say, read without enumerating evidence.

- L210: a `choice:` states a number that is not its quantifier's (or its condition's) value;
- L211: a criteria file changed since git HEAD while its version did not;
- L212: a criterion no quantity of the compiled plan counts, so no grade reads it.

Each check is a function from loaded files to findings; none writes or prints anything.
"""

from __future__ import annotations

import re
import subprocess
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Any, Iterator, Optional

from ..compiler.plan import Plan
from ..language.catalog import Loaded
from ..language.diagnostics import DiagnosticError
from ..language.load import load_bytes, real_path
from ..language.models import Condition, Framework, Quantifier, rule_name
from .findings import LintFinding

# --- L210: a choice: that states another number --------------------------------------------

# Words placed next to a number that say which way it bounds; "no more than" before "more than".
_COMPARATORS = (
    ("no more than", "at_most"), ("no fewer than", "at_least"), ("no less than", "at_least"),
    ("at least", "at_least"), ("at most", "at_most"), ("more than", "more_than"), ("over", "more_than"),
    ("above", "more_than"), ("fewer than", "less_than"), ("less than", "less_than"), ("below", "less_than"),
    ("under", "less_than"), ("exactly", "exactly"),
)
_AFTER = (("or more", "at_least"), ("or above", "at_least"), ("or fewer", "at_most"), ("or less", "at_most"),
          ("or below", "at_most"))
_FRACTION_WORDS = {
    "half": Fraction(1, 2), "two thirds": Fraction(2, 3), "two-thirds": Fraction(2, 3),
    "three quarters": Fraction(3, 4), "three-quarters": Fraction(3, 4), "one third": Fraction(1, 3),
    "one-third": Fraction(1, 3), "one quarter": Fraction(1, 4), "one-quarter": Fraction(1, 4),
}
_NUMBER_WORDS = {"one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8,
                 "nine": 9, "ten": 10, "eleven": 11, "twelve": 12}
_BEFORE = "|".join(re.escape(words) for words, _ in _COMPARATORS)
_TRAILING = "|".join(re.escape(words) for words, _ in _AFTER)
_SHARE = (r"(?P<percent>\d+(?:\.\d+)?)\s*(?:%|per\s*cent\b|percent\b)"
          r"|(?<![\d.:])(?P<decimal>0?\.\d+|1\.0+)(?![\d.:%])"
          r"|\b(?P<word>" + "|".join(re.escape(w) for w in sorted(_FRACTION_WORDS, key=len, reverse=True)) + r")\b")
_COUNT = r"(?<![\d.:-])(?P<count>\d+)(?![\d.:%-])|\b(?P<numword>" + "|".join(_NUMBER_WORDS) + r")\b"
_SHARE_READING = re.compile(rf"(?:\b(?P<before>{_BEFORE})\s+)?(?:{_SHARE})(?:\s+(?P<after>{_TRAILING})\b)?", re.I)
# A whole number counts as a stated threshold only with its comparator: "any one service" states none.
_COUNT_READINGS = (re.compile(rf"\b(?P<before>{_BEFORE})\s+(?:{_COUNT})(?P<after>)", re.I),
                   re.compile(rf"(?P<before>)(?:{_COUNT})\s+(?P<after>{_TRAILING})\b", re.I))


@dataclass(frozen=True)
class Reading:
    """A number a text states, with the way it bounds when that is said next to it."""

    value: Fraction
    bound: Optional[str]  # at_least | more_than | at_most | less_than | exactly; None: not said
    words: str  # as written, for the message


def _bound_named(match: re.Match) -> Optional[str]:
    before, after = match.group("before"), match.group("after")
    table = dict(_COMPARATORS) | dict(_AFTER)
    word = (before or after or "").lower()
    return table.get(" ".join(word.split())) if word else None


def stated_shares(text: str) -> list[Reading]:
    """Every fraction a text states: 80%, 80 per cent, 0.8, half, two-thirds, three quarters."""
    readings = []
    for match in _SHARE_READING.finditer(text):
        if match.group("percent"):
            value = Fraction(match.group("percent")) / 100
        elif match.group("decimal"):
            value = Fraction(match.group("decimal"))
        else:
            value = _FRACTION_WORDS[" ".join(match.group("word").lower().split())]
        readings.append(Reading(value, _bound_named(match), " ".join(match.group(0).split())))
    return readings


def stated_counts(text: str) -> list[Reading]:
    """Every whole number a text states as a bound: "at least 3", "two or more", "fewer than 4"."""
    readings = []
    matches = sorted((m for pattern in _COUNT_READINGS for m in pattern.finditer(text)), key=lambda m: m.start())
    for match in matches:
        digits, word = match.group("count"), match.group("numword")
        value = int(digits) if digits else _NUMBER_WORDS[word.lower()]
        readings.append(Reading(Fraction(value), _bound_named(match), " ".join(match.group(0).split())))
    return readings


def _same_share(reading: Reading, bound: str, value: Fraction) -> bool:
    return reading.value == value and reading.bound in (None, bound)


def _whole(bound: str, value: int) -> tuple[str, int]:
    """A whole-number bound as at_least, at_most or exactly: more than 2 is at least 3."""
    return {"more_than": ("at_least", value + 1), "less_than": ("at_most", value - 1)}.get(bound, (bound, value))


def _same_count(reading: Reading, bound: str, value: int) -> bool:
    if reading.bound is None:
        return reading.value == value
    return _whole(reading.bound, int(reading.value)) == (bound, value)


BOUND_WORDS = {"at_least": "at least", "more_than": "more than", "at_most": "at most", "less_than": "less than"}


def quantifier_disagreement(quantifier: Quantifier) -> Optional[Reading]:
    """The reading a quantifier's choice states against its value, when it states numbers and
    none of them is the value (bounding the same way, where the bound is said)."""
    if not quantifier.choice:
        return None
    bound, value = quantifier.bound
    readings = stated_shares(quantifier.choice)
    exact = Fraction(str(value))
    if not readings or any(_same_share(r, bound, exact) for r in readings):
        return None
    return next((r for r in readings if r.bound), readings[0])


def condition_disagreement(condition: Condition, quantifiers: dict[str, Quantifier]) -> Optional[Reading]:
    """As quantifier_disagreement, for a condition's own choice: against its quantifier's share
    (`is:`), or against its whole-number threshold (`at_least: 2`)."""
    if not condition.choice:
        return None
    bound, value = condition.bound
    if bound == "is":
        quantifier = quantifiers.get(str(value))
        if quantifier is None:
            return None
        share_bound, share = quantifier.bound
        readings = stated_shares(condition.choice)
        matches = [r for r in readings if _same_share(r, share_bound, Fraction(str(share)))]
        return None if not readings or matches else readings[0]
    if not isinstance(value, int):  # a level (worst_subgrade: at_least good), or a quantifier by name
        return None
    whole_bound, whole_value = condition.whole_bound
    readings = stated_counts(condition.choice)
    if not readings or any(_same_count(r, whole_bound, whole_value) for r in readings):
        return None
    return readings[0]


def _conditions(framework: Framework) -> Iterator[tuple[tuple, str, Condition]]:
    """(location, name, condition) of every condition of a framework's grades, limiters, floors."""
    for i, rule in enumerate(framework.grades):
        for j, condition in enumerate(rule.when):
            yield ("grades", i, "when", j), f"{rule_name(rule)}-when-{j + 1}", condition
    for kind, bounds in (("limiters", framework.limiters), ("floors", framework.floors)):
        for i, bound in enumerate(bounds):
            for j, condition in enumerate(bound.when):
                yield (kind, i, "when", j), f"{bound.id}-when-{j + 1}", condition


def choice_findings(framework: Loaded) -> list[LintFinding]:
    """L210 for every quantifier and condition of a framework whose choice states another number."""
    model, doc = framework.model, framework.doc
    found = []
    for name, quantifier in model.quantifiers.items():
        reading = quantifier_disagreement(quantifier)
        if reading:
            bound, value = quantifier.bound
            found.append(_choice_finding(doc, ("quantifiers", name, "choice"), name,
                                         f"quantifier '{name}' is {bound} {value}, but its choice: says "
                                         f"'{reading.words}'",
                                         f"make the choice: text say {BOUND_WORDS[bound]} {_percent(value)}, or correct "
                                         f"the value if the text is the decision"))
    for loc, name, condition in _conditions(model):
        reading = condition_disagreement(condition, model.quantifiers)
        if reading:
            bound, value = condition.bound
            found.append(_choice_finding(doc, loc + ("choice",), name,
                                         f"condition {name} is {bound} {value}, but its choice: says "
                                         f"'{reading.words}'",
                                         "make the choice: text state the condition's own bound, or correct the "
                                         "bound if the text is the decision"))
    return found


def _percent(value: Any) -> str:
    percent = Fraction(str(value)) * 100
    return f"{float(percent):g}%"


def _choice_finding(doc, loc: tuple, about: str, message: str, hint: str) -> LintFinding:
    line, col = doc.where(loc)
    return LintFinding("L210", "error", doc.path, line, col, message, about=about, suggestion=hint)


# --- L211: changed since HEAD, same version ------------------------------------------------

# What a decision record carries as the criteria's version: the framework's `version:`,
# copied into every plan (framework_version) and so into every record, beside the hash of the
# criteria. A criteria set has no version of its own; its framework's versions it.
VERSION_HINT = ("decision records name the criteria by the framework's version (framework_version) beside "
                "the criteria hash; raise the framework's version: so records made before and after differ by it")
IGNORED_KEYS = ("version", "lint")  # the version itself, and reviewed exceptions, which grade nothing


@dataclass(frozen=True)
class Committed:
    """A file as git HEAD holds it: its data, or None when HEAD has no such file (or there is
    no git checkout, or git itself is missing); same when its bytes are the working file's."""

    data: Optional[dict]
    same: bool = False


def committed(path: Path) -> Committed:
    """The file's content at git HEAD, read with `git show HEAD:./<name>` in its folder."""
    real = real_path(path)
    try:
        shown = subprocess.run(["git", "-C", str(real.parent), "show", f"HEAD:./{real.name}"],
                               capture_output=True, timeout=30, check=False)
    except (OSError, subprocess.SubprocessError):
        return Committed(None)
    if shown.returncode != 0:
        return Committed(None)
    if _same_bytes(real, shown.stdout):
        return Committed(None, same=True)  # unchanged: nothing to parse
    try:
        data = load_bytes(shown.stdout, f"HEAD:{real.name}").data
    except DiagnosticError:
        return Committed(None)  # HEAD's copy does not even load: nothing to compare a version with
    return Committed(data if isinstance(data, dict) else None)


def _same_bytes(path: Path, committed_bytes: bytes) -> bool:
    try:
        return path.read_bytes() == committed_bytes
    except OSError:
        return False


def _content(data: dict) -> dict:
    return {key: value for key, value in data.items() if key not in IGNORED_KEYS}


def framework_version_finding(framework: Loaded, before: Committed) -> Optional[LintFinding]:
    """L211 when a framework's content changed since HEAD and its version did not."""
    now = framework.doc.data
    if before.same or before.data is None or _content(before.data) == _content(now) \
            or before.data.get("version") != now.get("version"):
        return None
    line, col = framework.doc.where(("version",))
    return LintFinding("L211", "error", framework.doc.path, line, col,
                       f"framework {framework.model.id} changed since git HEAD, but its version is still "
                       f"'{framework.model.version}'", about=framework.model.id, suggestion=VERSION_HINT)


def set_version_finding(criteria: Loaded, before: Committed, framework: Loaded,
                        framework_before: Committed) -> Optional[LintFinding]:
    """L211 when a criteria set changed since HEAD and its framework's version did not."""
    now = criteria.doc.data
    if before.same or before.data is None or _content(before.data) == _content(now):
        return None
    if not framework_before.same and (framework_before.data is None
                                      or framework_before.data.get("version") != framework.doc.data.get("version")):
        return None  # a framework new since HEAD, or with a new version, versions the change
    line, col = criteria.doc.where(("framework",))
    return LintFinding("L211", "error", criteria.doc.path, line, col,
                       f"criteria set {criteria.model.id} changed since git HEAD, but its framework "
                       f"{framework.model.id}, which versions it, is still version '{framework.model.version}'",
                       criteria_set=criteria.model.id, about=criteria.model.id,
                       suggestion=f"raise the version: of {framework.doc.path}; {VERSION_HINT}")


# --- L212: criteria no grade reads -------------------------------------------------------------

def unread_criteria(criteria: Loaded, plan: Plan) -> list[LintFinding]:
    """L212 for each criterion that no quantity of the plan counts: no grade rule, limiter or
    floor can read it, so its finding never changes an outcome. A set that is not graded reads
    none on purpose."""
    if not plan.graded:
        return []
    read = {member for quantity in plan.quantities for member in quantity.members}
    found = []
    for i, criterion in enumerate(criteria.model.criteria):
        if criterion.id in read:
            continue
        line, col = criteria.doc.where(("criteria", i, "id"))
        found.append(LintFinding(
            "L212", "warning", criteria.doc.path, line, col,
            f"criterion {criterion.id} (tier {criterion.tier}) is counted by no grade rule, limiter or floor, "
            "so its finding never changes an outcome",
            criteria_set=criteria.model.id, about=criterion.id,
            suggestion="give it a tier or flag a condition selects, or remove it if it is recorded only"))
    return found
