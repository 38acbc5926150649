"""Revisions: what changed between two recorded evidence records, and which entries revise which.

A revision is a decision entry whose body names the decisions it supersedes, who recorded it
and why (audit.record_results writes it). The difference shown for it is computed from the two
evidence blobs the ledger holds, never from files on disk: cell by cell for an appointment
(agreed rating, each individual rating, rationale, recorder), finding by finding for an
inspection case, key by key for the rest.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Callable, Optional

from .chain import Entry

# Lists whose items are keyed, so that a change is told of one item, not of the whole list.
_KEYED: dict[str, Callable[[dict[str, Any]], str]] = {
    "ratings": lambda cell: f"{cell['candidate']}/{cell['exercise']}/{cell['area']}",
    "shortlisting": lambda score: f"{score['candidate']}/{score['element']}",
    "findings": lambda finding: finding["criterion"],
    "subareas": lambda subarea: str(subarea.get("id", subarea)),
    "panel": lambda member: member["id"],
    "candidates": lambda candidate: candidate["id"],
}
# The fields of an item told first, in this order; any other field follows, by name.
_FIRST = ("agreed", "individual", "rationale", "recorded_by", "finding", "score")


@dataclass(frozen=True)
class Revision:
    """A decision entry that revises others: what it supersedes, who recorded it and why."""

    entry: Entry
    supersedes: tuple[tuple[int, str], ...]  # (entry, decision id)
    by: str
    reason: Optional[str]


def revision_of(entry: Entry) -> Optional[Revision]:
    """The revision an entry records, or None for a decision recorded for the first time."""
    body = json.loads(entry.body)
    links = body.get("supersedes")
    if not links:
        return None
    return Revision(entry, tuple((link["entry"], link["decision_id"]) for link in links), body["by"],
                    body.get("reason"))


def evidence_changes(old: dict[str, Any], new: dict[str, Any]) -> list[str]:
    """Every difference between two evidence records, one line each, `what: old -> new`.
    Keyed lists are compared item by item, mappings key by key."""
    lines: list[str] = []
    for key in sorted(set(old) | set(new)):
        before, after = old.get(key), new.get(key)
        if before == after:
            continue
        if key in _KEYED and _is_list(before) and _is_list(after):
            lines += _keyed_changes(key, before or [], after or [])
        elif isinstance(before, dict) and isinstance(after, dict):
            lines += _mapping_changes(key, before, after)
        else:
            lines.append(f"{key}: {_shown(before)} -> {_shown(after)}")
    return lines


def _is_list(value: Any) -> bool:
    return value is None or isinstance(value, list)


def _keyed_changes(key: str, before: list[dict[str, Any]], after: list[dict[str, Any]]) -> list[str]:
    name = _KEYED[key]
    old = {name(item): item for item in before}
    new = {name(item): item for item in after}
    lines = []
    for item in sorted(set(old) | set(new)):
        if item not in new:
            lines.append(f"{item}: removed ({_fields(old[item])})")
        elif item not in old:
            lines.append(f"{item}: added ({_fields(new[item])})")
        elif old[item] != new[item]:
            lines.append(f"{item}: " + "; ".join(_field_changes(old[item], new[item])))
    return lines


def _field_changes(old: dict[str, Any], new: dict[str, Any]) -> list[str]:
    changes = []
    for field in _ordered(set(old) | set(new)):
        before, after = old.get(field), new.get(field)
        if before == after:
            continue
        if field == "individual" and isinstance(before or {}, dict) and isinstance(after or {}, dict):
            changes += [f"individual {member} {_shown(value_before)} -> {_shown(value_after)}"
                        for member, value_before, value_after in _mapping_pairs(before or {}, after or {})]
        else:
            changes.append(f"{field} {_shown(before)} -> {_shown(after)}")
    return changes


def _mapping_changes(key: str, before: dict[str, Any], after: dict[str, Any]) -> list[str]:
    return [f"{key}.{name}: {_shown(old)} -> {_shown(new)}" for name, old, new in _mapping_pairs(before, after)]


def _mapping_pairs(before: dict[str, Any], after: dict[str, Any]) -> list[tuple[str, Any, Any]]:
    return [(name, before.get(name), after.get(name)) for name in sorted(set(before) | set(after))
            if before.get(name) != after.get(name)]


def _fields(item: dict[str, Any]) -> str:
    return ", ".join(f"{field} {_shown(item[field])}" for field in _ordered(set(item)) if field not in _KEY_FIELDS)


_KEY_FIELDS = ("candidate", "exercise", "area", "element", "criterion")


def _ordered(fields: set[str]) -> list[str]:
    return [f for f in _FIRST if f in fields] + sorted(fields - set(_FIRST))


def _shown(value: Any) -> str:
    """A value as the lines show it: absent as 'none', text quoted, long values shortened."""
    if value is None:
        return "none"
    text = json.dumps(value, ensure_ascii=False, sort_keys=True)
    return text if len(text) <= 120 else text[:117] + "..."
