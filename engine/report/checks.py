"""What a compliance check's and a confirmation hearing's reports show, from their records:
the checklist of requirements, and the hearing's arithmetic. Nothing is decided here."""

from __future__ import annotations

from typing import Any

from ..appointments.appointment_record import margin_line
from .inspection import hashes
from .sources import Source


def compliance_view(source: Source) -> dict[str, Any]:
    record = source.record
    margin = record.get("margin")
    return {"kind": "compliance", "id": f"decision-{record['decision_id']}", "title": record["subject"],
            "record": record, "origin": source.origin,
            "requirements": [dict(line, applies=line.get("applies", True)) for line in record.get("requirements", [])],
            "margin": margin_line(margin, "requirement") if margin else None, "hashes": hashes(record)}


def hearing_view(source: Source, reveal: bool) -> dict[str, Any]:
    record = source.record
    margin = record.get("margin")
    name = (source.personal or {}).get("candidate_name") if reveal else None
    return {"kind": "hearing", "id": f"decision-{record['decision_id']}", "title": record["subject"],
            "candidate": name or record["subject"], "record": record, "origin": source.origin,
            "margin": margin_line(margin, "vote") if margin else None, "hashes": hashes(record)}


def candidate_view(source: Source, reveal: bool) -> dict[str, Any]:
    """A candidate's record given without its process record."""
    record = source.record
    margin = record.get("margin")
    names = (source.personal or {}).get("candidates", {}) if reveal else {}
    return {"kind": "candidate", "id": f"decision-{record['decision_id']}",
            "title": names.get(record["subject"], record["subject"]), "record": record, "origin": source.origin,
            "margin": margin_line(margin, "point") if margin else None, "hashes": hashes(record)}


PACK_PARTS = ("selection", "compliance", "hearing")


def pack_view(source: Source) -> dict[str, Any]:
    """An appointment's pack: the checks that join its three records, and the records it names
    (each shown in full after it when given)."""
    record = source.record
    return {"kind": "pack", "id": f"decision-{record['decision_id']}", "title": record["subject"], "record": record,
            "origin": source.origin, "parts": [dict(record[part], part=part) for part in PACK_PARTS if record.get(part)],
            "hashes": hashes(record)}
