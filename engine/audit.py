"""Audit: record decisions in the ledger, and show, replay, override and purge them.

What the ledger keeps for each decision (all content-addressed): the criteria in canonical
form, the compiled ruleset, the evidence (without personal data), the decision record, and
the personal data apart. Replay rebuilds everything from those blobs alone, runs the
stored ruleset through durable-rules again, and compares the new record byte for byte.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Optional

from . import appointment_record, hearing, selection
from .appointment_models import (Appointment, CompetencyFramework, ComplianceFramework, ComplianceRecord, Hearing,
                                 PanelRulesFile, SelectionProcess)
from .appointments import LoadedEvidence, compile_rules
from .catalog import Catalog, Loaded
from .compile import Compiled, Criteria, canonical_json, compile_criteria, compile_set, compiled_from_file, sha256_bytes
from .compliance import compile_compliance
from .decide import evaluate
from .diagnostics import Diagnostic, DiagnosticError
from .explain import render_text
from .ledger import Entry, Ledger
from .load import Document
from .models import Case, CriteriaSet, Framework, Scale
from .record import canonical_evidence, decision_record
from .runner import CaseResult
from .tally import Evidence

APPOINTMENT_OUTCOMES = {
    "candidate": ("gates_passed", "gate_failed"),
    "appointment": ("preferred", "tie", "no_appointable_candidate"),
    "hearing": ("veto", "no_veto"),
    "compliance_record": ("compliant", "not_compliant"),
}


def _blob(kind: str, content: bytes) -> tuple[str, str, bytes]:
    return kind, sha256_bytes(content), content


def record_results(ledger: Ledger, results: list[CaseResult]) -> list[Entry]:
    """Append every decision of every result, with the blobs needed to replay it."""
    entries = []
    for result in results:
        shared = _shared_blobs(result)  # criteria, ruleset, evidence[, personal]: the entry's refs, in this order
        for record in result.records:
            body = canonical_json({"case": record["case"], "kind": record.get("kind", "case"), "subject": record["subject"],
                                   "framework": record["framework"], "outcome": record["outcome"]}).decode()
            blobs = shared + [_blob("record", canonical_json(record))]
            entries.append(ledger.append("decision", record["decision_id"], body, blobs))
    return entries


def _roles(entry: Entry) -> dict[str, Optional[str]]:
    """Which blob is which: a decision's refs are criteria, ruleset, evidence[, personal], record."""
    refs = entry.refs
    return {"criteria": refs[0], "ruleset": refs[1], "evidence": refs[2], "record": refs[-1],
            "personal": refs[3] if len(refs) == 5 else None}


def _shared_blobs(result: CaseResult) -> list[tuple[str, str, bytes]]:
    source = result.source
    compiled: Compiled = source.compiled
    blobs = [_blob("criteria", compiled.criteria), _blob("ruleset", compiled.text.encode())]
    if result.kind == "case":
        return blobs + [_blob("evidence", canonical_evidence(source.case))]
    blobs.append(_blob("evidence", appointment_record.canonical_evidence(source.evidence)))
    personal = appointment_record.personal_data(source.evidence)
    return blobs + ([_blob("personal", canonical_json(personal))] if personal else [])


# --- rebuilding from the ledger ---------------------------------------------------------

@dataclass(frozen=True)
class Stored:
    entry: Entry
    body: dict[str, Any]
    record: dict[str, Any]
    criteria: dict[str, Any]
    ruleset_text: str
    evidence: dict[str, Any]
    personal: Optional[dict[str, Any]]  # None when there is none or it was erased


def stored(ledger: Ledger, ref: str) -> Stored:
    entry = ledger.decision(ref)
    body = json.loads(entry.body)
    roles = _roles(entry)

    def content(sha: Optional[str]) -> Optional[bytes]:
        blob = ledger.blob(sha) if sha else None
        return blob.content if blob and blob.content else None

    parts = {role: content(roles[role]) for role in ("record", "criteria", "ruleset", "evidence")}
    lost = [role for role, value in parts.items() if value is None]
    if lost:
        raise DiagnosticError([Diagnostic(str(ledger.path), 0, 0, "E172", f"decision {entry.ref} cannot be rebuilt: "
                                                                          f"{', '.join(lost)} missing from the ledger",
                                          "run arbiter verify to see what is wrong")])
    personal = content(roles["personal"])
    return Stored(entry, body, json.loads(parts["record"]), json.loads(parts["criteria"]),
                  parts["ruleset"].decode(), json.loads(parts["evidence"]), json.loads(personal) if personal else None)


def _rebuild_compiled(s: Stored) -> tuple[Compiled, Any]:
    """The ruleset to run, and the models the records need, from the stored blobs.

    Inspections run the stored ruleset itself. The appointment kinds' plans are rebuilt by
    compiling the stored criteria; `replay` reports it if that differs from the stored text."""
    if "criteria" in s.criteria:
        stored_compiled = compiled_from_file(s.ruleset_text)
        criteria_bytes = canonical_json(s.criteria)
        return Compiled(stored_compiled.plan, stored_compiled.ruleset, s.ruleset_text, criteria_bytes), None
    return _compile_stored(s)


def _compile_stored(s: Stored) -> tuple[Compiled, Any]:
    """What today's compiler builds from the stored criteria (never from files)."""
    c = s.criteria
    if "criteria" in c:
        criteria = Criteria.from_models(Scale.model_validate(c["scale"]), Framework.model_validate(c["framework"]),
                                        CriteriaSet.model_validate(c["criteria"]))
        return compile_criteria(criteria), None
    if "process" in c:
        rules = SelectionProcess.model_validate(c["process"])
        compiled = selection.compile_selection(rules, CompetencyFramework.model_validate(c["cvf"]),
                                               Scale.model_validate(c["scale"]))
    elif "panel_rules" in c:
        rules = PanelRulesFile.model_validate(c["panel_rules"])
        compiled = hearing.compile_hearing(rules)
    else:
        rules = ComplianceFramework.model_validate(c["compliance"])
        compiled = compile_compliance(rules)
    return compiled, rules


def _records_from(s: Stored, compiled: Compiled, rules: Any) -> list[dict[str, Any]]:
    if s.body["kind"] == "case":
        case = Case.model_validate(s.evidence)
        return [decision_record(compiled, case, evaluate(compiled, Evidence.from_case(case, compiled.plan)))]
    return appointment_record.records_for(_loaded_for(s, compiled, rules))


# --- replay -----------------------------------------------------------------------------

@dataclass(frozen=True)
class Replay:
    decision_id: str
    identical: bool
    differences: list[str]
    cause: Optional[str]  # the first rule firing that differs, when the outcome differs


def replay(ledger: Ledger, ref: str, catalog: Optional[Catalog] = None) -> Replay:
    """Re-run a stored decision: from its stored ruleset, or with today's criteria files."""
    s = stored(ledger, ref)
    compiled, rules = _rebuild_compiled(s)
    differences = []
    rebuilt = _compile_stored(s)[0] if "criteria" in s.criteria else compiled  # appointments: already compiled
    if catalog is None and rebuilt.text != s.ruleset_text:
        differences.append("the compiler now builds a different ruleset from the stored criteria")
    if catalog is not None:
        compiled, rules = _current(catalog, s)
    new = next((r for r in _records_from(s, compiled, rules) if _same_subject(r, s.record)), None)
    if new is None:
        return Replay(s.entry.ref, False, ["the decision's subject is no longer decided"], None)
    if canonical_json(new) == canonical_json(s.record) and not differences:
        return Replay(s.entry.ref, True, [], None)
    return Replay(s.entry.ref, False, differences + diff(s.record, new), first_differing_firing(s.record, new))


def _same_subject(new: dict[str, Any], old: dict[str, Any]) -> bool:
    return new.get("kind") == old.get("kind") and new["subject"] == old["subject"]


def _current(catalog: Catalog, s: Stored) -> tuple[Compiled, Any]:
    if s.body["kind"] == "case":
        return compile_set(catalog, s.record["criteria_set"]), None
    kind = {"candidate": "selection_process", "appointment": "selection_process", "hearing": "panel_rules",
            "compliance_record": "compliance"}[s.body["kind"]]
    loaded = catalog.load(catalog.path_of(s.record["framework"]), kind)
    return compile_rules(catalog, loaded), loaded.model


def diff(old: dict[str, Any], new: dict[str, Any]) -> list[str]:
    """Each top-level field that differs, old -> new (long values shortened)."""
    lines = []
    for key in sorted(set(old) | set(new)):
        if old.get(key) != new.get(key):
            lines.append(f"{key}: {_short(old.get(key))} -> {_short(new.get(key))}")
    return lines


def _short(value: Any) -> str:
    text = json.dumps(value, ensure_ascii=False, sort_keys=True)
    return text if len(text) <= 120 else text[:117] + "..."


def first_differing_firing(old: dict[str, Any], new: dict[str, Any]) -> Optional[str]:
    for i, (a, b) in enumerate(zip(old.get("trace", []), new.get("trace", []))):
        if a != b:
            return f"firing {i + 1}: {a['rule']} then, {b['rule']} now"
    extra = len(new.get("trace", [])) - len(old.get("trace", []))
    return f"{abs(extra)} firing(s) {'more' if extra > 0 else 'fewer'} now" if extra else None


# --- show, log, override, purge ----------------------------------------------------------

def show(ledger: Ledger, ref: str, reveal: bool) -> str:
    s = stored(ledger, ref)
    compiled, rules = _rebuild_compiled(s)
    lines = [f"entry {s.entry.seq}, recorded {s.entry.recorded_at}, hash {s.entry.hash}",
             f"decision {s.entry.ref}: {s.record['case']} ({s.body['kind']}), framework {s.record['framework']}",
             f"computed outcome: {s.record['outcome_label']}"]
    for override in ledger.overrides_of(s.entry.ref):
        o = json.loads(override.body)
        lines.append(f"final outcome (override, entry {override.seq}, {override.recorded_at}): {o['outcome']} "
                     f"by {o['by']}: {o['rationale']}")
    lines.append(_personal_line(ledger, s, reveal))
    lines.append("")
    if s.body["kind"] == "case":
        lines.append(render_text(s.record, "full"))
    else:
        records = _records_from(s, compiled, rules)
        lines.append(appointment_record.render(_loaded_for(s, compiled, rules), records, "full", False))
    return "\n".join(lines)


def _loaded_for(s: Stored, compiled: Compiled, rules: Any) -> LoadedEvidence:
    kind = {"candidate": "appointment"}.get(s.body["kind"], s.body["kind"])
    model = {"appointment": Appointment, "hearing": Hearing, "compliance_record": ComplianceRecord}[kind]
    return LoadedEvidence(kind, model.model_validate(s.evidence), Document("<ledger>", s.evidence),
                          Loaded(rules, Document("<ledger>", {})), compiled)


def _personal_line(ledger: Ledger, s: Stored, reveal: bool) -> str:
    sha = _roles(s.entry)["personal"]
    if not sha:
        return "personal data: none recorded"
    if s.personal is None:
        return f"personal data: erased {ledger.erased_at(sha) or ''} (its hash {sha[:12]} stays in the chain)"
    if not reveal:
        return "personal data: held apart; pseudonyms shown (use --reveal to show names)"
    return "personal data: " + json.dumps(s.personal, ensure_ascii=False, sort_keys=True)


@dataclass(frozen=True)
class LogRow:
    seq: int
    recorded_at: str
    decision_id: str
    case: str
    subject: str
    framework: str
    computed: str
    final: str


def log(ledger: Ledger, framework: Optional[str] = None, subject: Optional[str] = None,
        outcome: Optional[str] = None, since: Optional[str] = None, until: Optional[str] = None) -> list[LogRow]:
    rows: dict[str, LogRow] = {}
    for entry in ledger.entries():
        body = json.loads(entry.body)
        if entry.type == "decision":
            rows.setdefault(entry.ref, LogRow(entry.seq, entry.recorded_at, entry.ref, body["case"], body["subject"],
                                              body["framework"], body["outcome"], body["outcome"]))
        elif entry.type == "override" and entry.ref in rows:
            row = rows[entry.ref]
            rows[entry.ref] = LogRow(row.seq, row.recorded_at, row.decision_id, row.case, row.subject, row.framework,
                                     row.computed, body["outcome"])
    return [r for r in rows.values()
            if (framework is None or r.framework == framework) and (subject is None or r.subject == subject)
            and (outcome is None or outcome in (r.computed, r.final))
            and (since is None or r.recorded_at[:10] >= since) and (until is None or r.recorded_at[:10] <= until)]


def override(ledger: Ledger, ref: str, outcome: str, rationale: str, by: str) -> Entry:
    """A professional-judgement departure, as a new entry linked to the decision (which is
    never changed)."""
    if not rationale.strip() or not by.strip():
        raise DiagnosticError([Diagnostic("override", 0, 0, "E173", "an override needs a rationale and who made it",
                                          "give --rationale TEXT and --by NAME")])
    s = stored(ledger, ref)
    allowed = _outcomes(s)
    if outcome not in allowed:
        raise DiagnosticError([Diagnostic("override", 0, 0, "E125", f"'{outcome}' is not an outcome of this decision",
                                          f"valid: {', '.join(allowed)}")])
    body = canonical_json({"overrides_entry": s.entry.seq, "computed": s.record["outcome"], "outcome": outcome,
                           "rationale": rationale, "by": by}).decode()
    return ledger.append("override", s.entry.ref, body, [])


def _outcomes(s: Stored) -> tuple[str, ...]:
    if s.body["kind"] == "case":
        return tuple(level["id"] for level in json.loads(s.ruleset_text)["plan"]["levels"])
    return APPOINTMENT_OUTCOMES[s.body["kind"]]


def purge(ledger: Ledger, before: str) -> Optional[Entry]:
    """Erase personal data of decisions recorded before a date; the chain records it."""
    shas = ledger.personal_blobs_before(before)
    return ledger.erase_personal(shas, lambda stamp: canonical_json(
        {"erased": shas, "before": before, "erased_at": stamp, "what": "personal data (names, notes)"}).decode())
