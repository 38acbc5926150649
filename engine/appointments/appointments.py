"""Appointments: load an evidence record of one of the appointment kinds with what it
refers to, compile that, and decide it, each stage in its own part:

    evidence kind      judged by                                   compiler/ and runtime/
    appointment        selection process (+ CVF, rating scale)     selection.py
    hearing            panel rules                                 hearing.py
    compliance_record  compliance framework                        compliance.py

Referenced files live at criteria/<id>.yaml (rating scales at criteria/scales/<id>.yaml).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..compiler import compliance, hearing, selection
from ..compiler.compile import Compiled
from ..language.appointment_check import (Flag, check_appointment, check_compliance_framework, check_compliance_record,
                                          check_cvf, check_hearing, check_process, check_rating_scale, flags)
from ..language.catalog import MISSING, REGULAR, Catalog, Loaded, declared_kind, expected_id, file_status, kind_phrase
from ..language.diagnostics import Diagnostic, DiagnosticError, suggest
from ..language.load import Document, load_file
from ..language.validate import to_model
from ..runtime import appointment_margin
from ..runtime import compliance as decide_compliance
from ..runtime import hearing as decide_hearing
from ..runtime import selection as decide_selection
from ..runtime.appointment_margin import AppointmentMargin

REFERENCES = {  # evidence kind -> (field naming what it is judged by, that file's kind)
    "appointment": ("process", "selection_process"),
    "hearing": ("panel_rules", "panel_rules"),
    "compliance_record": ("compliance", "compliance"),
}
EVIDENCE_KINDS = tuple(REFERENCES)
RULE_KINDS = ("selection_process", "panel_rules", "compliance")


def load_reference(catalog: Catalog, loaded: Loaded, field: str, kind: str) -> Loaded:
    """The file an evidence or process file names; at the naming line, E120 when it is
    missing, E100 when it cannot be read, E114 when it is a file of another kind."""
    file_id = getattr(loaded.model, field)
    path = catalog.scale_path(file_id) if kind == "scale" else catalog.path_of(file_id)
    what = kind.replace("_", " ")
    status = file_status(path)
    if status == MISSING:
        known = catalog.scale_ids() if kind == "scale" else catalog.ids_of_kind(kind)
        raise DiagnosticError([loaded.doc.diag((field,), "E120", f"unknown {what} '{file_id}'",
                                               suggest(file_id, known))])
    if status != REGULAR:
        raise DiagnosticError([loaded.doc.diag((field,), "E100", f"cannot read {what} '{file_id}': {status}",
                                               "check the id")])
    found = declared_kind(path)
    if found is not None and found != kind:
        message = f"'{file_id}' is {kind_phrase(found)} file, not {kind_phrase(kind)} file"
        raise DiagnosticError([loaded.doc.diag((field,), "E114", message, f"give the id of {kind_phrase(kind)} file")])
    return catalog.load(path, kind)


def compile_rules(catalog: Catalog, loaded: Loaded) -> Compiled:
    """Check and compile a selection process, panel rules or compliance framework."""
    key = ("compiled-appointment", loaded.doc.path, loaded.model.arbiter)  # by file: two may claim one id
    return catalog.memo(key, lambda: _compile(loaded, check_rules(catalog, loaded)))


def check_rules(catalog: Catalog, loaded: Loaded) -> dict[str, Loaded]:
    """A process, panel rules or compliance framework checked, with the files it names (a
    selection process: its competency framework and rating scale); every problem at once."""
    key = ("checked-appointment", loaded.doc.path, loaded.model.arbiter)
    return catalog.memo(key, lambda: _check(catalog, loaded))


def _check(catalog: Catalog, loaded: Loaded) -> dict[str, Loaded]:
    model, doc = loaded.model, loaded.doc
    problems = _id_matches(loaded, catalog)
    named: dict[str, Loaded] = {}
    if model.arbiter == "selection_process":
        cvf = load_reference(catalog, loaded, "competency_framework", "competency_framework")
        scale = load_reference(catalog, loaded, "rating_scale", "scale")
        named = {"cvf": cvf, "scale": scale}
        problems += check_cvf(cvf.model, cvf.doc) + check_rating_scale(scale.model, scale.doc)
        if not problems:
            problems += check_process(model, doc, cvf.model, scale.model)
    elif model.arbiter == "compliance":
        problems += check_compliance_framework(model, doc)
    if problems:
        raise DiagnosticError(problems)
    return named


def _compile(loaded: Loaded, named: dict[str, Loaded]) -> Compiled:
    model = loaded.model
    if model.arbiter == "selection_process":
        return selection.compile_selection(model, named["cvf"].model, named["scale"].model)
    if model.arbiter == "panel_rules":
        return hearing.compile_hearing(model)
    return compliance.compile_compliance(model)


def _id_matches(loaded: Loaded, catalog: Catalog) -> list[Diagnostic]:
    want = expected_id(Path(loaded.doc.path), "criteria")
    if want is not None and loaded.model.id != want:
        return [loaded.doc.diag(("id",), "E115", f"id '{loaded.model.id}' does not match the file's place ({want})",
                                f"write id: {want}")]
    return []


@dataclass(frozen=True)
class LoadedEvidence:
    kind: str
    evidence: Any
    doc: Document
    rules: Loaded  # the process, panel rules or compliance framework
    compiled: Compiled
    flags: tuple[Flag, ...] = ()  # a selection's warnings about its evidence, found as it is checked


def load_evidence(path: Path, catalog: Catalog) -> LoadedEvidence:
    """Read an appointment evidence file with what it refers to, and compile that; every
    problem in the file at once."""
    return read_evidence(load_file(path), catalog)


def read_evidence(doc: Document, catalog: Catalog) -> LoadedEvidence:
    """Evidence from its loaded document (a file, or data built in memory): validated, checked
    with the rules it names, and those compiled. Read first, then compile: no stage is
    entered twice."""
    model = to_model(doc)
    loaded = Loaded(model, doc)
    problems = []
    want = None if doc.in_memory else expected_id(Path(doc.path), "cases")
    if want is not None and model.id != want:
        problems.append(doc.diag(("id",), "E115", f"id '{model.id}' does not match the file's place ({want})",
                                 f"write id: {want}"))
    field, kind = REFERENCES[model.arbiter]
    try:
        rules = load_reference(catalog, loaded, field, kind)
        check_rules(catalog, rules)
    except DiagnosticError as error:
        raise DiagnosticError(problems + error.diagnostics) from None
    problems += _check_evidence(catalog, model, doc, rules)
    warnings = () if problems else evidence_flags(model, rules)
    try:
        compiled = compile_rules(catalog, rules)
    except DiagnosticError as error:  # the rules too large to compile (E136)
        raise DiagnosticError(problems + error.diagnostics) from None
    if problems:
        raise DiagnosticError(problems)
    return LoadedEvidence(model.arbiter, model, doc, rules, compiled, warnings)


def evidence_flags(model, rules: Loaded) -> tuple[Flag, ...]:
    """Warnings that do not stop a decision (F201-F205): a selection's only."""
    return tuple(flags(model, rules.model)) if model.arbiter == "appointment" else ()


@dataclass(frozen=True)
class Decided:
    """Everything the records of an evidence record need, from the runtime: what the rules
    decided, and the margin of each decision (by candidate for a selection; `subject` for a
    hearing or compliance check)."""

    decision: Any  # SelectionDecision, HearingEvaluation or ComplianceEvaluation
    margins: dict[str, AppointmentMargin]
    outcome_changes: tuple = ()  # a selection's: the one-point changes that change its outcome


def decide(loaded: LoadedEvidence) -> Decided:
    """Tally and decide by the compiled rules, then find each decision's margin."""
    compiled, evidence = loaded.compiled, loaded.evidence
    if loaded.kind == "appointment":
        decision = decide_selection.decide(compiled, evidence)
        return Decided(decision, appointment_margin.candidate_margins(compiled, evidence, decision),
                       appointment_margin.outcome_changes(decision))
    if loaded.kind == "hearing":
        decision = decide_hearing.evaluate(compiled, evidence)
        return Decided(decision, {"subject": appointment_margin.hearing_margin(compiled, evidence, decision.outcome)})
    decision = decide_compliance.evaluate(compiled, evidence)
    return Decided(decision, {"subject": appointment_margin.compliance_margin(compiled, decision)})


def _check_evidence(catalog: Catalog, model, doc: Document, rules: Loaded) -> list[Diagnostic]:
    if model.arbiter == "appointment":
        scale = load_reference(catalog, rules, "rating_scale", "scale")
        return check_appointment(model, doc, rules.model, scale.model)
    if model.arbiter == "hearing":
        return check_hearing(model, doc)
    return check_compliance_record(model, doc, rules.model)
