"""Canonical forms and their hashes: the one place that decides which bytes a decision rests on.

Criteria, evidence, compiled rulesets, decision records and ledger entries are all hashed
here, so that a replay months later hashes them the same way. A canonical form leaves out
comments, layout, the order of entry and fields left at their defaults, so that a hash
changes only when the meaning can.
"""

from __future__ import annotations

import functools
import hashlib
from pathlib import Path
from typing import Any

import orjson


ENGINE_VERSION = "0.2.0"  # engine/__init__.py's __version__ and pyproject.toml's version; in every decision id
PERSONAL_FIELDS = ("name", "candidate_name", "note")  # held apart from an appointment decision
HASH = hashlib.sha256  # every hash Arbiter writes; the ledger's verify loop calls it on raw bytes


@functools.cache
def durable_rules_version() -> str:
    """The durable-rules release installed, as every decision record states it: read once a
    process (it cannot change under a running interpreter) from the Version field of the
    package's metadata. That file is read straight from the one durable_rules-*.dist-info folder
    beside the package, as a wheel installs it; importlib.metadata, which finds the same file,
    costs a one-case command several milliseconds to import and search with, so it is asked
    only where that folder is not there to read."""
    import importlib.util

    spec = importlib.util.find_spec("durable")
    found = [] if spec is None or spec.origin is None else \
        list(Path(spec.origin).parent.parent.glob("durable_rules-*.dist-info/METADATA"))
    if len(found) == 1 and (version := _metadata_version(found[0])) is not None:
        return version
    from importlib import metadata

    try:
        return metadata.version("durable-rules")
    except metadata.PackageNotFoundError:  # pragma: no cover - installed without metadata
        return "unknown"


def _metadata_version(metadata_file: Path) -> str | None:
    """The Version field of a distribution's METADATA (core metadata: email-style header
    lines, the headers ending at the first empty line), or None where it has none."""
    with metadata_file.open(encoding="utf-8") as lines:
        for line in lines:
            if not line.strip():
                return None
            name, colon, value = line.partition(":")
            if colon and name == "Version":
                return value.strip()
    return None


# Fields that say nothing about how a case is graded: reviewed lint exceptions. They are left
# out of every canonical form, so adding one changes no hash, compiled ruleset or decision.
UNGRADED_FIELDS = ("lint",)


def canonical_model(model) -> dict[str, Any]:
    data = model.model_dump(mode="json", by_alias=True, exclude_defaults=True)
    return {key: value for key, value in data.items() if key not in UNGRADED_FIELDS}


def canonical_json(data: Any) -> bytes:
    """RFC 8785 (the JSON Canonicalization Scheme): keys sorted, no whitespace, numbers and
    strings in one spelling, UTF-8. Anyone can recompute a hash Arbiter writes with any
    implementation of it (README.md, "The hash recipe").

    The `rfc8785` package decides the bytes. Where the data holds only what both spell alike
    (strings, integers JCS accepts, booleans, null, lists, objects whose keys sort the same by
    code point as by UTF-16 unit), orjson writes the same bytes many times faster;
    tests/test_hash_recipe.py holds the two equal on any JSON data."""
    if _spelled_alike(data):
        try:
            written = orjson.dumps(data, option=_ORJSON_JCS)
        except TypeError:  # orjson's refusals: a lone surrogate, a key not text, deeper nesting than it goes
            pass
        else:
            if not _beyond_the_bmp(written):
                return written
    import rfc8785  # only for what orjson does not spell as JCS does: most commands never need it

    return rfc8785.dumps(data)


# Keys sorted by code point (UTF-8 byte order, the same), no whitespace, UTF-8 unescaped: JCS
# on data _spelled_alike admits. Strict integers: refused beyond 2**53, as JCS refuses them.
_ORJSON_JCS = orjson.OPT_SORT_KEYS | orjson.OPT_STRICT_INTEGER


_JCS_LIMIT = 2**53  # JCS refuses integers outside IEEE 754's exact range: -(2**53 - 1) to 2**53 - 1


def _spelled_alike(data: Any) -> bool:
    """Whether orjson spells data's values as RFC 8785 does: no floats (their shortest forms
    differ: 1.0, 1e21), no integers JCS refuses, nothing but the JSON types themselves. A loop
    over a stack, not recursion, the commonest kinds tried first: it runs on every hashed
    object, and records are large. Keys are left to orjson, which refuses any that is not
    text, and to _beyond_the_bmp."""
    pending = [data]
    pop, extend = pending.pop, pending.extend
    while pending:
        item = pop()
        kind = type(item)
        if kind is str:
            continue
        if kind is dict:
            extend(item.values())
        elif kind is list:
            extend(item)
        elif kind is int:
            if not -_JCS_LIMIT < item < _JCS_LIMIT:
                return False
        elif item is None or kind is bool:
            continue
        elif kind is tuple:
            extend(item)
        else:
            return False
    return True


# UTF-8's lead bytes of the characters above the Basic Multilingual Plane, where code point
# order (orjson's sort) and UTF-16 order (JCS's) differ.
_BEYOND_THE_BMP = (b"\xf0", b"\xf1", b"\xf2", b"\xf3", b"\xf4")


def _beyond_the_bmp(written: bytes) -> bool:
    """Whether written text holds a character above the Basic Multilingual Plane, in a key or
    anywhere else: then rfc8785 decides the order of keys. One byte search each, run over the
    text written rather than over every key of every object."""
    return any(lead in written for lead in _BEYOND_THE_BMP)


def sha256_bytes(blob: bytes) -> str:
    return HASH(blob).hexdigest()


def sha256_text(text: str) -> str:
    return sha256_bytes(text.encode("utf-8"))


# --- evidence -----------------------------------------------------------------------------

def canonical_case(case) -> bytes:
    """An inspection case's canonical form: findings in criterion order, so that the order in
    which an assessor wrote them does not matter."""
    data = canonical_model(case)
    data["findings"] = sorted(data.get("findings", []), key=lambda f: f["criterion"])
    return canonical_json(data)


def canonical_appointment_evidence(evidence) -> bytes:
    """What an appointment decision rests on: sorted so that the order of entry (candidates,
    members, cells) does not matter, without personal data (names, notes), which is kept apart,
    and without blank cells, which mean what a cell not written means (a stage still to fill):
    a scoresheet's blanks and an imported sheet's omissions are one evidence."""
    from .appointment_models import is_blank  # appointment evidence's own models: loaded by then

    if getattr(evidence, "ratings", None):
        evidence = evidence.model_copy(update={"ratings": tuple(r for r in evidence.ratings if not is_blank(r))})
    data = {k: v for k, v in canonical_model(evidence).items() if k not in PERSONAL_FIELDS}
    for group in ("candidates", "panel"):
        if group in data:
            data[group] = [{k: v for k, v in item.items() if k != "name"} for item in data[group]]
    for key, sort_key in (("panel", "id"), ("candidates", "id")):
        if key in data:
            data[key] = sorted(data[key], key=lambda x: x[sort_key])
    for key in ("ratings", "shortlisting"):
        if key in data:
            data[key] = sorted(data[key], key=lambda x: (x["candidate"], x.get("exercise", ""),
                                                         x.get("area", x.get("element", ""))))
    return canonical_json(data)


def personal_data(evidence) -> dict[str, Any]:
    """Names (and free-text notes, which may name people) held apart from the decision."""
    data = canonical_model(evidence)
    found = {key: data[key] for key in ("candidate_name", "note") if key in data}
    for group in ("candidates", "panel"):
        names = {item["id"]: item["name"] for item in data.get(group, []) if "name" in item}
        if names:
            found[group] = dict(sorted(names.items()))
    return found


# --- decision ids ---------------------------------------------------------------------------

def inspection_decision_id(ruleset_sha: str, evidence_sha: str) -> str:
    return sha256_text(f"{ruleset_sha}:{evidence_sha}:{ENGINE_VERSION}")[:16]


def appointment_decision_id(ruleset_sha: str, evidence_sha: str, kind: str, subject: str) -> str:
    """Unique per record kind and subject: a selection gives one decision per candidate."""
    return sha256_text(f"{ruleset_sha}:{evidence_sha}:{kind}:{subject}:{ENGINE_VERSION}")[:16]
