"""Appointment packs: one appointment's selection, compliance and hearing, read together and
decided by the pack rules.

A pack file (`arbiter: appointment_pack`) names the three evidence records by case id
(cases/<id>.yaml) and the pack rules it is judged by (criteria/<id>.yaml). Reading a pack
reads each of the three as `score` reads it; the runner decides them, and `pack_records`
builds the pack's record from their records and what the pack rules' ruleset concluded.
The record names the three decisions by id and by the sha256 of their records, so a replay
rebuilds it from the ledger alone.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Optional

from ..compiler.compile import Compiled
from ..compiler.pack import PackPlan, compile_pack
from ..language.canonical import (ENGINE_VERSION, PERSONAL_FIELDS, appointment_decision_id, canonical_json,
                                  canonical_model, durable_rules_version, personal_data, sha256_bytes)
from ..language.catalog import MISSING, REGULAR, Catalog, Loaded, declared_kind, expected_id, file_status, kind_phrase
from ..language.decision_model import APPOINTMENT_LABELS
from ..language.diagnostics import Diagnostic, DiagnosticError, suggest
from ..language.load import Document, load_file
from ..language.pack_models import PACK_INPUTS, AppointmentPack
from ..language.validate import to_model
from ..runtime import pack as decide_pack
from ..runtime.appointment_margin import pack_margin
from .appointment_record import margin_json, margin_line
from .appointments import LoadedEvidence, load_evidence, load_reference

RECORD_FORMAT = "arbiter-decision/1"
KIND = "appointment_pack"


@dataclass(frozen=True)
class LoadedPack:
    pack: AppointmentPack
    doc: Document
    rules: Loaded  # the pack rules
    compiled: Compiled
    inputs: dict[str, tuple[Path, LoadedEvidence]]  # selection, compliance, hearing: the file and its evidence read

    kind = KIND

    @property
    def evidence(self) -> AppointmentPack:
        return self.pack


def load_pack(path: Path, catalog: Catalog) -> LoadedPack:
    return read_pack(load_file(path), catalog)


def read_pack(doc: Document, catalog: Catalog) -> LoadedPack:
    """A pack validated, with its pack rules compiled and each case it names read; every
    problem at once: the pack's own at their lines, each named case's in its file."""
    model = to_model(doc, KIND)
    loaded = Loaded(model, doc)
    problems = _id_problems(loaded)
    rules, compiled, paths = None, None, {}
    try:
        rules = load_reference(catalog, loaded, "pack_rules", "pack_rules")
    except DiagnosticError as error:
        problems += error.diagnostics
    for field in PACK_INPUTS:
        try:
            paths[field] = named_case(catalog, loaded, field)
        except DiagnosticError as error:
            problems += error.diagnostics
    try:
        compiled = compile_pack_rules(catalog, rules) if rules is not None else None
    except DiagnosticError as error:
        problems += error.diagnostics
    inputs: dict[str, tuple[Path, LoadedEvidence]] = {}
    for field, path in paths.items():  # each read and compiled as `score` reads it
        try:
            inputs[field] = (path, load_evidence(path, catalog))
        except DiagnosticError as error:
            problems += error.diagnostics
    if problems or rules is None or compiled is None:
        raise DiagnosticError(problems)
    return LoadedPack(model, doc, rules, compiled, inputs)


def compile_pack_rules(catalog: Catalog, rules: Loaded) -> Compiled:
    """Pack rules compiled once per catalog (they refer to no other file)."""
    problems = _id_problems(rules, "criteria")
    if problems:
        raise DiagnosticError(problems)
    return catalog.memo(("compiled-pack", rules.doc.path), lambda: compile_pack(rules.model))


def _id_problems(loaded: Loaded, folder: str = "cases") -> list[Diagnostic]:
    want = None if loaded.doc.in_memory else expected_id(Path(loaded.doc.path), folder)
    if want is not None and loaded.model.id != want:
        return [loaded.doc.diag(("id",), "E115", f"id '{loaded.model.id}' does not match the file's place ({want})",
                                f"write id: {want}")]
    return []


def named_case(catalog: Catalog, loaded: Loaded, field: str) -> Path:
    """The case file a pack names in `field`, at the naming line: E120 (with a did-you-mean among
    the cases of that kind) when none is there, E100 when it cannot be read, E114 when it is a
    file of another kind."""
    case_id, kind = getattr(loaded.model, field), PACK_INPUTS[field]
    path = catalog.case_path(case_id)
    status = file_status(path)
    what = kind_phrase(kind)
    if status == MISSING:
        raise DiagnosticError([loaded.doc.diag((field,), "E120", f"no case '{case_id}' under cases/",
                                               suggest(case_id, catalog.case_ids_of_kind(kind)))])
    if status != REGULAR:
        raise DiagnosticError([loaded.doc.diag((field,), "E100", f"cannot read case '{case_id}': {status}",
                                               "check the id")])
    found = declared_kind(path)
    if found != kind:
        found_what = kind_phrase(found) if found else "an unknown kind of"
        raise DiagnosticError([loaded.doc.diag((field,), "E114", f"'{case_id}' is {found_what} file, not {what} file",
                                               f"{field}: names {what} case, e.g. "
                                               f"{(catalog.case_ids_of_kind(kind) or ['its id'])[0]}")])
    return path


def reference_problems(catalog: Catalog, loaded: Loaded) -> list[Diagnostic]:
    """The problems of what a pack refers to (its pack rules and the cases it names), as
    `read_pack` finds them: for a pack whose own shape is wrong."""
    problems = []
    steps = [("pack_rules", lambda: compile_pack_rules(catalog, load_reference(catalog, loaded, "pack_rules",
                                                                               "pack_rules")))]
    steps += [(field, lambda field=field: load_evidence(named_case(catalog, loaded, field), catalog))
              for field in PACK_INPUTS]
    for field, step in steps:
        if getattr(loaded.model, field, None) is None:
            continue  # left out by salvage: its shape problem is reported already
        try:
            step()
        except DiagnosticError as error:
            problems += error.diagnostics
    return problems


# --- the record -----------------------------------------------------------------------------

def canonical_pack(pack: AppointmentPack, decisions: dict[str, str]) -> bytes:
    """What a pack decision rests on: the pack without personal data (its note), and the ids of
    the three decisions, so that the same pack over other evidence is another decision."""
    data = {k: v for k, v in canonical_model(pack).items() if k not in PERSONAL_FIELDS}
    return canonical_json({**data, "decisions": dict(sorted(decisions.items()))})


def pack_from_canonical(evidence: dict[str, Any]) -> tuple[AppointmentPack, dict[str, str]]:
    """The pack and the decision ids its canonical form holds (for a replay from the ledger)."""
    data = {k: v for k, v in evidence.items() if k != "decisions"}
    return AppointmentPack.model_validate(data), dict(evidence["decisions"])


def pack_personal(pack: AppointmentPack) -> dict[str, Any]:
    return personal_data(pack)


def final_record(records: list[dict[str, Any]]) -> dict[str, Any]:
    """The decision of an evidence record a pack rests on: a selection's is its process record."""
    return records[-1]


def pack_records(pack: AppointmentPack, compiled: Compiled, inputs: dict[str, dict[str, Any]]) -> list[dict[str, Any]]:
    """The pack's record, from the three decisions' records (by field) and what the pack
    rules concluded about them."""
    plan: PackPlan = compiled.plan  # type: ignore[assignment]
    selection, compliance, hearing = (inputs[field] for field in PACK_INPUTS)
    facts = decide_pack.PackInputs.of_records(selection, compliance, hearing)
    evaluation = decide_pack.evaluate(compiled, facts)
    evidence_sha = sha256_bytes(canonical_pack(pack, {f: r["decision_id"] for f, r in inputs.items()}))
    outcome = evaluation.outcome
    observed = _observed(facts, inputs)
    checks = [{"check": c.id, "holds": evaluation.passed[c.id], "text": c.text, "source": c.source,
               "observed": observed[c.id]} for c in plan.checks]
    failed = [c["check"] for c in checks if not c["holds"]]
    record = {
        "format": RECORD_FORMAT,
        "decision_id": appointment_decision_id(compiled.sha256, evidence_sha, "pack", pack.subject),
        "case": pack.id,
        "kind": "pack",
        "subject": pack.subject,
        "constructed": any(r["constructed"] for r in inputs.values()),
        "framework": plan.pack_rules,
        "outcome": outcome,
        "outcome_label": f"{APPOINTMENT_LABELS[outcome]}: " + (f"failed {', '.join(failed)}" if failed else facts.heard),
        "uncapped_outcome": outcome,
        "limiter": None,
        **{field: _input_line(record) for field, record in inputs.items()},
        "preferred": facts.preferred,
        "heard": facts.heard,
        "hearing_outcome": facts.hearing_outcome,
        "checks": checks,
        "failed": failed,
        "consequence": plan.consequence(outcome),
        "why_not": _why_not(outcome, checks, inputs["hearing"]),
        "margin": margin_json(pack_margin(compiled, evaluation, facts), APPOINTMENT_LABELS),
        "trace": [f.to_json() for f in evaluation.firings],
        "criteria_sha256": plan.criteria_sha256,
        "ruleset_sha256": compiled.sha256,
        "evidence_sha256": evidence_sha,
        "engine_version": ENGINE_VERSION,
        "durable_rules_version": durable_rules_version(),
    }
    return [record]


def _input_line(record: dict[str, Any]) -> dict[str, Any]:
    return {"case": record["case"], "decision_id": record["decision_id"],
            "record_sha256": sha256_bytes(canonical_json(record)), "outcome": record["outcome"],
            "outcome_label": record["outcome_label"]}


def _observed(facts: decide_pack.PackInputs, inputs: dict[str, dict[str, Any]]) -> dict[str, str]:
    """What each check looked at, in words, as the three records state it."""
    compliance = inputs["compliance"]
    failed = compliance.get("failed") or []
    return {
        "selection_decided": f"the selection's outcome is {inputs['selection']['outcome_label']}",
        "hearing_candidate": f"the Panel heard {facts.heard}; the selection's preferred candidate is "
                             f"{facts.preferred or 'none'}",
        "compliance_holds": f"the compliance record is {compliance['outcome_label']}"
                            + (f" (failed: {', '.join(failed)})" if failed else ""),
    }


def _why_not(outcome: str, checks: list[dict[str, Any]], hearing: dict[str, Any]) -> list[str]:
    """Why the pack does not hold: each failing check, observed against required; or the veto."""
    if outcome == "holds":
        return []
    if outcome == "vetoed":
        return [f"the Panel vetoed {hearing['subject']}: {hearing['outcome_label']}"]
    return [f"{c['check']}: {c['observed']}; required: {c['text']}" for c in checks if not c["holds"]]


def expectation(pack: AppointmentPack, records: list[dict[str, Any]]) -> tuple[str, str, bool]:
    """(expected, actual, met) for the pack's expect block; met when there is none."""
    record = records[-1]
    actual = summary(record)
    if pack.expect is None:
        return "", actual, True
    wanted = pack.expect.outcome + (f" (failed {', '.join(sorted(pack.expect.failed))})" if pack.expect.failed else "")
    return wanted, actual, (pack.expect.outcome, sorted(pack.expect.failed)) == (record["outcome"],
                                                                                sorted(record["failed"]))


def summary(record: dict[str, Any]) -> str:
    return record["outcome"] + (f" (failed {', '.join(sorted(record['failed']))})" if record["failed"] else "")


# --- rendering ------------------------------------------------------------------------------

def render(records: list[dict[str, Any]], mode: str, markdown: bool = False) -> str:
    record = records[-1]
    head = "### " if markdown else ""
    lines = [f"{head}{record['subject']} ({record['case']})", f"Outcome: {record['outcome_label']}"]
    for field in PACK_INPUTS:  # the decision ids in full: they change with any ruleset the three rest on
        line = record[field]
        decision = f", decision {line['decision_id']}" if mode == "full" else ""
        lines.append(f"{field.capitalize()}: {line['case']}{decision}: {line['outcome_label']}")
    lines.append("Checks:")
    for check in record["checks"]:
        source = f" [{check['source']}]" if check["source"] else ""
        lines.append(f"  - {check['check']}: {'holds' if check['holds'] else 'FAILS'}: {check['observed']}")
        lines.append(f"    {check['text']}{source}")
    if record["why_not"]:
        lines.append(_WHY_NOT_HEADING[record["outcome"]])
        lines += [f"  - {line}" for line in record["why_not"]]
    lines.append(f"Consequence: {record['consequence']}")
    if record.get("margin"):  # records written before margins were recorded have none
        lines.append(f"Margin (a change is {record['margin']['unit']}): {margin_line(record['margin'], 'change')}")
    if mode == "full":
        lines += _trace_lines(record)
    return "\n".join(lines)


_WHY_NOT_HEADING = {"does_not_hold": "Why the pack does not hold:",
                    "vetoed": "Why the candidate cannot be appointed:"}


def _trace_lines(record: dict[str, Any]) -> list[str]:
    lines = ["Rules fired:"]
    lines += [f"  - {firing['rule']}: " + ", ".join(
        f"{alias}={{{', '.join(f'{k}: {v}' for k, v in sorted(fact.items()))}}}" for alias, fact in firing["matched"].items())
        for firing in record["trace"]]
    return lines + [f"criteria sha256 {record['criteria_sha256']}", f"ruleset sha256 {record['ruleset_sha256']}",
                    f"evidence sha256 {record['evidence_sha256']}"]


def decision_inputs(loaded_records: dict[str, list[dict[str, Any]]]) -> dict[str, dict[str, Any]]:
    """The one record of each input a pack rests on, by field."""
    return {field: final_record(records) for field, records in loaded_records.items()}


def input_problem(inputs: dict[str, dict[str, Any]]) -> Optional[str]:
    """A decision of the wrong kind named as a pack input (only in a changed ledger)."""
    wanted = {"selection": "appointment", "compliance": "compliance_record", "hearing": "hearing"}
    wrong = [f"{field} is a {r.get('kind')} decision" for field, r in inputs.items() if r.get("kind") != wanted[field]]
    return "; ".join(wrong) or None
