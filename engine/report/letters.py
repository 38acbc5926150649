"""Feedback letters: one per candidate of a selection, its strengths and development areas by
competency, from the agreed ratings and rationales the record holds (never re-decided).

An area rated above the scale's middle level in every exercise that assessed it is a
strength; one rated below the middle in any exercise is a development area; the rest met the
standard. The middle is the scale's own middle value (3 on the 1-5 scale). A letter names
the candidate by pseudonym unless names are revealed.
"""

from __future__ import annotations

from typing import Any

from .selection import area_names, candidate_names, scale_levels
from .sources import Source

GROUPS = (("strengths", "Strengths"), ("development", "Areas for development"), ("met", "Met the standard"))


def letters(source: Source, reveal: bool) -> list[dict[str, Any]]:
    """One letter per candidate of a selection process record holding per-cell ratings."""
    record = source.record
    criteria = source.criteria or {}
    scale = scale_levels(criteria)
    labels = {level["value"]: level.get("label", str(level["value"])) for level in scale}
    values = sorted(labels)
    middle = values[len(values) // 2] if values else None
    names = candidate_names(source, reveal)
    areas = area_names(criteria)
    titles = {e["id"]: e.get("title", e["id"]) for e in criteria.get("process", {}).get("exercises", [])}
    result = []
    for entry in record.get("candidates", []):
        candidate = entry["candidate"]
        cells = [c for c in record.get("cells", []) if c["candidate"] == candidate and c.get("held", True)
                 and isinstance(c.get("agreed"), int)]
        result.append({"candidate": candidate, "name": names.get(candidate, candidate), "process": record["subject"],
                       "outcome": _outcome_for(record, candidate), "total": entry.get("total"),
                       "groups": _grouped(cells, middle, labels, areas, titles), "decision_id": record["decision_id"]})
    return result


def _grouped(cells: list[dict[str, Any]], middle, labels: dict, areas: dict, titles: dict) -> list[dict[str, Any]]:
    by_area: dict[str, list[dict[str, Any]]] = {}
    for cell in cells:
        by_area.setdefault(cell["area"], []).append(cell)
    groups: dict[str, list[dict[str, Any]]] = {key: [] for key, _ in GROUPS}
    for area, rated in by_area.items():
        ratings = [c["agreed"] for c in rated]
        key = ("development" if middle is not None and min(ratings) < middle
               else "strengths" if middle is not None and min(ratings) > middle else "met")
        groups[key].append({"area": areas.get(area, area), "evidence": [
            {"exercise": titles.get(c["exercise"], c["exercise"]), "rating": c["agreed"],
             "label": labels.get(c["agreed"], ""), "rationale": c.get("rationale")} for c in rated]})
    return [{"key": key, "title": title, "areas": groups[key]} for key, title in GROUPS]


def _outcome_for(record: dict[str, Any], candidate: str) -> str:
    """The panel's outcome for this candidate, in the record's own terms."""
    if record.get("preferred") == candidate:
        return "the panel's preferred candidate"
    if candidate in record.get("tied", []):
        return "tied at the top total; referred to the panel"
    for entry in record.get("candidates", []):
        if entry["candidate"] == candidate and entry.get("gates") == "fail":
            return "did not meet every gate of the process"
    return "not the preferred candidate" if record.get("outcome") != "incomplete" else "assessment not yet complete"
