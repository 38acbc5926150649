"""What an inspection decision's report shows, read from its record (and its evidence and
criteria, where the source holds them). Nothing is decided here: the grade, the rule that
decided it, why not each higher grade, the limiters and the margin are the record's.
"""

from __future__ import annotations

from typing import Any, Optional

from ..inspections.explain import margin_text
from .sources import Source

FINDING_WORDS = {"met": "met", "not_met": "not met", "not_assessed": "not assessed"}


def inspection_view(source: Source) -> dict[str, Any]:
    record = source.record
    return {
        "kind": "inspection",
        "id": f"decision-{record['decision_id']}",
        "title": f"{record['subject']}: {record['area']}",
        "record": record,
        "origin": source.origin,
        "outcome_note": _outcome_note(record),
        "quantifiers": _quantifiers(record),
        "margin": margin_text(record["margin"], bool(record.get("override"))) if record.get("margin") else None,
        "findings": findings(source),
        "limiters": _limiters(record),
        "hashes": hashes(record),
    }


def _outcome_note(record: dict[str, Any]) -> Optional[str]:
    """How the outcome relates to the rules' own (a recorded judgement, a cap or a floor)."""
    if record.get("overruled_by"):
        return (f"the recorded judgement, {record['override']['label']}, is overruled by absolute limiter "
                f"'{record['overruled_by']['id']}'; the rules gave {record['computed_label']}")
    if record.get("override"):
        return f"a recorded professional judgement; the rules gave {record['computed_label']}"
    if record["uncapped_outcome"] != record["outcome"]:
        return f"before limiters and floors the rules gave {record['uncapped_label']}"
    return None


def _limiters(record: dict[str, Any]) -> list[dict[str, Any]]:
    """Every limiter that holds (the decisive one says so in its note), then the floor that applied."""
    floor = record.get("floor")
    floors = [{"id": floor["id"], "note": f"floor: raises the grade to {floor.get('level')}",
               "description": floor.get("description"), "choice": floor.get("choice"),
               "source": floor.get("source")}] if floor else []
    return list(record.get("limiters", [])) + floors


def _quantifiers(record: dict[str, Any]) -> list[dict[str, Any]]:
    """The fractions the criteria file chose for the source's words, with the file's choice text."""
    return [dict(reading, key=key) for key, reading in sorted(record.get("quantifiers", {}).items())]


def findings(source: Source) -> Optional[list[dict[str, Any]]]:
    """Every finding with the criterion's text and the citations; None when the source holds no
    evidence (a JSON Lines record carries the decision, not the findings)."""
    if source.evidence is None:
        return None
    texts = {}
    if source.criteria is not None:
        texts = {c["id"]: c for c in source.criteria.get("criteria", {}).get("criteria", [])}
    rows = []
    for finding in source.evidence.get("findings", []):
        criterion = texts.get(finding["criterion"], {})
        value = finding["score"] if "score" in finding else finding.get("finding", "not_assessed")
        rows.append({"criterion": finding["criterion"], "text": criterion.get("text"), "tier": criterion.get("tier"),
                     "flags": criterion.get("flags", []), "finding": FINDING_WORDS.get(value, f"scored {value}"),
                     "state": value if value in FINDING_WORDS else "scored",
                     "cites": finding.get("cites", []), "note": finding.get("note")})
    return rows


def hashes(record: dict[str, Any]) -> list[tuple[str, str]]:
    names = (("decision id", "decision_id"), ("criteria sha256", "criteria_sha256"),
             ("ruleset sha256", "ruleset_sha256"), ("evidence sha256", "evidence_sha256"),
             ("engine version", "engine_version"), ("durable-rules version", "durable_rules_version"))
    return [(label, str(record[key])) for label, key in names if record.get(key) is not None]
