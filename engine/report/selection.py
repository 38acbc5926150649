"""What a selection's report shows: the panel, the candidate by exercise-and-area heat map of
agreed ratings, subtotals and totals, flags, gates and the sensitivity cells, individual
ratings and rationales, the outcome and the process's rule text.

Everything is read from the process record (its `cells`, `candidates`, `flags`, `stages`,
`sensitivity`) and its candidates' records; the rating scale and the names of exercises and
areas from the criteria the decision was made under. Nothing is decided or re-counted here.
"""

from __future__ import annotations

from typing import Any, Optional

from ..appointments.appointment_record import margin_line
from .palette import tone_of
from .sources import Source


def selection_view(source: Source, candidate_records: list[dict[str, Any]], reveal: bool) -> dict[str, Any]:
    record = source.record
    criteria = source.criteria or {}
    scale = scale_levels(criteria)
    names = candidate_names(source, reveal)
    cells = {(c["candidate"], c["exercise"], c["area"]): c for c in record.get("cells", [])}
    return {
        "kind": "selection",
        "id": f"decision-{record['decision_id']}",
        "title": record["subject"],
        "record": record,
        "origin": source.origin,
        "panel": panel(source, reveal),
        "scale": scale,
        "candidates": [{"id": c["candidate"], "name": names.get(c["candidate"], c["candidate"]), **c}
                       for c in record.get("candidates", [])],
        "has_cells": bool(cells),
        "exercises": exercises(record, criteria, cells, scale),
        "flags": [dict(flag, where=_where(flag)) for flag in record.get("flags", [])],
        "stages": record.get("stages"),
        "rules": rule_text(criteria),
        "candidate_lines": [_candidate_line(c, names) for c in candidate_records],
        "signoff": signoff(source, reveal),
    }


def scale_levels(criteria: dict[str, Any]) -> list[dict[str, Any]]:
    """The rating scale's levels, highest first, each with its colour tone; [] without criteria."""
    levels = criteria.get("scale", {}).get("levels", [])
    values = sorted(level["value"] for level in levels if isinstance(level.get("value"), int))
    return [dict(level, tone=tone_of(level["value"], values)) for level in levels if isinstance(level.get("value"), int)]


def candidate_names(source: Source, reveal: bool) -> dict[str, str]:
    """Pseudonyms, or with --reveal the names held apart (where they were not erased)."""
    if not reveal or not source.personal:
        return {}
    return dict(source.personal.get("candidates", {}))


def panel(source: Source, reveal: bool) -> list[dict[str, Any]]:
    """The panel in file order (the record's, else the evidence's), with names only when revealed."""
    members = source.record.get("panel") or (source.evidence or {}).get("panel", [])
    named = (source.personal or {}).get("panel", {}) if reveal else {}
    return [{"id": m["id"], "role": m["role"].replace("_", " "), "scoring": m.get("scoring"),
             "name": named.get(m["id"])} for m in members]


def signoff(source: Source, reveal: bool) -> list[dict[str, Any]]:
    """One line per panel member to sign: the name when revealed, else a blank for it."""
    return panel(source, reveal)


def exercises(record: dict[str, Any], criteria: dict[str, Any], cells: dict, scale: list[dict]) -> list[dict[str, Any]]:
    """Each scored exercise with its areas, in the process's order, and each area's cells per
    candidate, marked with their tone, flags, gates failed and sensitivity."""
    titles = {e["id"]: e.get("title", e["id"]) for e in criteria.get("process", {}).get("exercises", [])}
    areas = area_names(criteria)
    sensitive = {(s["candidate"], s["exercise"], s["area"]) for s in record.get("sensitivity", [])}
    values = sorted(level["value"] for level in scale)
    order: dict[str, list[str]] = {}
    for candidate, exercise, area in cells:
        order.setdefault(exercise, [])
        if area not in order[exercise]:
            order[exercise].append(area)
    candidates = [c["candidate"] for c in record.get("candidates", [])]
    return [{"id": exercise, "title": titles.get(exercise, exercise),
             "areas": [{"id": area, "name": areas.get(area, area),
                        "cells": [_cell(cells.get((c, exercise, area)), (c, exercise, area) in sensitive, values)
                                  for c in candidates]}
                       for area in exercise_areas],
             "subtotals": [_subtotal(record, c, exercise) for c in candidates]}
            for exercise, exercise_areas in order.items()]


def _cell(cell: Optional[dict[str, Any]], sensitive: bool, values: list[int]) -> dict[str, Any]:
    if cell is None:
        return {"missing": True, "tone": "none", "sensitive": False}
    agreed = cell.get("agreed")
    return dict(cell, missing=False, sensitive=sensitive,
                tone=tone_of(agreed, values) if cell.get("held", True) and isinstance(agreed, int) else "none")


def _subtotal(record: dict[str, Any], candidate: str, exercise: str) -> Optional[int]:
    for entry in record.get("candidates", []):
        if entry["candidate"] == candidate:
            return entry.get("subtotals", {}).get(exercise)
    return None


def area_names(criteria: dict[str, Any]) -> dict[str, str]:
    cvf = criteria.get("cvf", {})
    return {item["id"]: item.get("name", item["id"]) for group in ("competencies", "values") for item in cvf.get(group, [])}


def rule_text(criteria: dict[str, Any]) -> list[dict[str, Any]]:
    """The process's gates, scoring, ranking and tie policy as the process file states them."""
    process = criteria.get("process", {})
    lines = [{"what": f"gate {gate['id']}", "text": gate.get("description", ""), "source": gate.get("source")}
             for gate in process.get("gates", [])]
    for key in ("scoring", "ranking", "tie_policy"):
        if process.get(key):
            lines.append({"what": key.replace("_", " "), "text": str(process[key]).replace("_", " "), "source": None})
    return lines


def _where(flag: dict[str, Any]) -> str:
    parts = [flag.get(key) for key in ("candidate", "exercise", "area") if flag.get(key)]
    return " / ".join(parts)


def _candidate_line(record: dict[str, Any], names: dict[str, str]) -> dict[str, Any]:
    margin = record.get("margin")
    return {"candidate": names.get(record["subject"], record["subject"]), "outcome": record["outcome_label"],
            "total": record.get("total"), "rank": record.get("rank"), "why_not": record.get("why_not", []),
            "margin": margin_line(margin, "point") if margin else None}
