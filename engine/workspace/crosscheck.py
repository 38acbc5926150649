"""Cross-check: the cross-reference checks, run on the part of a misshapen file that validated.

A file with a shape problem (a wrong type, an unknown field) has no model, so the loaders
stop before the cross-reference checks, and a problem elsewhere in the file (an unknown
level, a finding for a criterion the set lacks) would show only once the shape was fixed.
Every problem is to be reported at once, so `cross_check_misshapen` salvages what validated
(`validate.salvage`) and runs the same checks on it, with the files it refers to loaded as
usual. Checks that conclude from what is not written skip whatever salvage left out
(`Damage.spares`): a shape problem is never reported a second time as a missing or unknown thing.
"""

from __future__ import annotations

from pathlib import Path
from typing import Callable

from pydantic import ValidationError

from ..compiler.compile import compile_set
from ..language.criteria import load_framework, load_scale
from ..inspections.cases import case_id_matches_place, check_case_against, criteria_named_by
from ..language.catalog import Catalog, Loaded, expected_id
from ..language.check import check_criteria_set, check_framework, check_scale
from ..language.diagnostics import Diagnostic, DiagnosticError
from ..language.load import Document, load_file
from ..language.validate import ALL_MODELS, Damage, salvage

# The checks of the appointment kinds import that part when a misshapen file of such a kind is
# met: checking an inspection case loads none of it.

# The required top-level fields each kind's checks read: with one of them wrong, nothing is checked.
NEEDS: dict[str, frozenset[str]] = {kind: frozenset(fields) for kind, fields in {
    "scale": ("levels",),
    "framework": ("scale",),
    "criteria": ("id", "framework"),
    "case": ("criteria",),
    "competency_framework": ("values", "competencies"),
    "selection_process": ("competency_framework", "rating_scale", "level", "exercises", "gates", "panel"),
    "panel_rules": (),
    "compliance": ("requirements",),
    "appointment": ("process", "panel", "candidates"),
    "hearing": ("panel_rules", "members", "votes_for_veto"),
    "compliance_record": ("compliance",),
    "pack_rules": (),
    "appointment_pack": (),
}.items()}

# The folder a kind's id is the path below (E115); kinds not listed may live anywhere.
_ID_FOLDER = {"criteria": "criteria", "case": "cases", "selection_process": "criteria", "panel_rules": "criteria",
              "compliance": "criteria", "appointment": "cases", "hearing": "cases", "compliance_record": "cases",
              "pack_rules": "criteria", "appointment_pack": "cases"}


def cross_check_misshapen(path: Path, kind: str, catalog: Catalog) -> list[Diagnostic]:
    """The cross-reference problems of a file of this kind whose shape is wrong; [] when its
    shape is right (the checks have run already) or too little of it validated to check."""
    return cross_check(load_file(path), kind, catalog)


def cross_check(doc: Document, kind: str, catalog: Catalog) -> list[Diagnostic]:
    """As cross_check_misshapen, for a file already loaded (the tests break loaded files)."""
    model_cls = ALL_MODELS[kind]
    if kind not in _CHECKS or _shape_is_right(doc, model_cls):
        return []
    salvaged = salvage(model_cls, doc)
    if salvaged.damage.absent & NEEDS[kind]:
        return []
    loaded = Loaded(salvaged.model, salvaged.doc)
    problems = [] if "id" in salvaged.damage.absent else _id_matches_place(loaded, kind)
    try:
        return problems + _CHECKS[kind](catalog, loaded, salvaged.damage)
    except DiagnosticError as error:  # a file it refers to is missing or wrong: a problem to report too
        return problems + error.diagnostics


def _shape_is_right(doc: Document, model_cls) -> bool:
    """A file that validates and has no dialect problem failed later, where every check ran."""
    if doc.problems:
        return False  # e.g. a duplicate key: validation stopped at it, though the model is whole
    try:
        model_cls.model_validate(doc.data)
    except ValidationError:
        return False
    return True


def _id_matches_place(loaded: Loaded, kind: str) -> list[Diagnostic]:
    if kind == "case":
        return case_id_matches_place(loaded.model, loaded.doc)
    want = expected_id(Path(loaded.doc.path), _ID_FOLDER[kind]) if kind in _ID_FOLDER else None
    if want is not None and loaded.model.id != want:
        return [loaded.doc.diag(("id",), "E115", f"id '{loaded.model.id}' does not match the file's place ({want})",
                                f"write id: {want}")]
    return []


# --- the checks of each kind, as the loaders run them, with what salvage left out --------------

def _scale(catalog: Catalog, loaded: Loaded, damage: Damage) -> list[Diagnostic]:
    return check_scale(loaded.model, loaded.doc)


def _framework(catalog: Catalog, loaded: Loaded, damage: Damage) -> list[Diagnostic]:
    scale = load_scale(catalog, loaded)
    return check_scale(scale.model, scale.doc) + check_framework(loaded.model, loaded.doc, scale.model, damage)


def _criteria_set(catalog: Catalog, loaded: Loaded, damage: Damage) -> list[Diagnostic]:
    framework = load_framework(catalog, loaded)
    scale = load_scale(catalog, framework)
    problems = check_scale(scale.model, scale.doc) + check_framework(framework.model, framework.doc, scale.model)
    if problems:  # the set is checked against a framework that is right, as compile_criteria does
        return problems
    return check_criteria_set(loaded.model, loaded.doc, framework.model, framework.doc, damage)


def _case(catalog: Catalog, loaded: Loaded, damage: Damage) -> list[Diagnostic]:
    criteria = criteria_named_by(loaded.model, loaded.doc, catalog)
    compile_set(catalog, loaded.model.criteria)  # the criteria's own problems, as load_case reports them
    return check_case_against(criteria, loaded.model, loaded.doc, catalog.criterion_homes, damage)


def _competency_framework(catalog: Catalog, loaded: Loaded, damage: Damage) -> list[Diagnostic]:
    from ..language.appointment_check import check_cvf

    return check_cvf(loaded.model, loaded.doc, damage)


def _selection_process(catalog: Catalog, loaded: Loaded, damage: Damage) -> list[Diagnostic]:
    from ..appointments.appointments import load_reference
    from ..language.appointment_check import check_cvf, check_process, check_rating_scale

    cvf = load_reference(catalog, loaded, "competency_framework", "competency_framework")
    scale = load_reference(catalog, loaded, "rating_scale", "scale")
    problems = check_cvf(cvf.model, cvf.doc) + check_rating_scale(scale.model, scale.doc)
    if problems:  # the process is checked against a framework and scale that are right, as compile_rules does
        return problems
    return check_process(loaded.model, loaded.doc, cvf.model, scale.model, damage)


def _no_references(catalog: Catalog, loaded: Loaded, damage: Damage) -> list[Diagnostic]:
    return []  # panel rules refer to no other file


def _compliance(catalog: Catalog, loaded: Loaded, damage: Damage) -> list[Diagnostic]:
    from ..language.appointment_check import check_compliance_framework

    return check_compliance_framework(loaded.model, loaded.doc)  # it refers to no other file


def _evidence(catalog: Catalog, loaded: Loaded, damage: Damage) -> list[Diagnostic]:
    from ..appointments.appointments import REFERENCES, compile_rules, load_reference
    from ..language.appointment_check import check_appointment, check_compliance_record, check_hearing

    model, doc = loaded.model, loaded.doc
    field, kind = REFERENCES[model.arbiter]
    rules = load_reference(catalog, loaded, field, kind)
    compile_rules(catalog, rules)  # the rules' own problems, as load_evidence reports them
    if model.arbiter == "appointment":
        scale = load_reference(catalog, rules, "rating_scale", "scale")
        return check_appointment(model, doc, rules.model, scale.model, damage)
    if model.arbiter == "hearing":
        return check_hearing(model, doc)
    return check_compliance_record(model, doc, rules.model, damage)


def _pack(catalog: Catalog, loaded: Loaded, damage: Damage) -> list[Diagnostic]:
    from ..appointments.pack import reference_problems

    return reference_problems(catalog, loaded)  # each reference salvage kept, as read_pack reads it


_CHECKS: dict[str, Callable[[Catalog, Loaded, Damage], list[Diagnostic]]] = {
    "scale": _scale,
    "framework": _framework,
    "criteria": _criteria_set,
    "case": _case,
    "competency_framework": _competency_framework,
    "selection_process": _selection_process,
    "panel_rules": _no_references,
    "compliance": _compliance,
    "appointment": _evidence,
    "hearing": _evidence,
    "compliance_record": _evidence,
    "pack_rules": _no_references,
    "appointment_pack": _pack,
}
