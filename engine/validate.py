"""Validate: turn a loaded document into a model, or into located diagnostics.

pydantic reports problems as (loc, type) pairs; this module maps each onto the line and
column the loader recorded and onto our stable codes, with the valid choices spelled out.
"""

from __future__ import annotations

import types
import typing
from typing import Any

from pydantic import BaseModel, ValidationError

from .diagnostics import CODES, Diagnostic, DiagnosticError, suggest, valid_list
from .load import Document
from .appointment_models import APPOINTMENT_MODELS
from .models import MODELS, Model

ALL_MODELS: dict[str, type[Model]] = {**MODELS, **APPOINTMENT_MODELS}
FILE_KINDS = tuple(ALL_MODELS)

_TYPE_WORDS = {
    "string_type": "text",
    "int_type": "a whole number",
    "int_from_float": "a whole number",
    "float_type": "a number",
    "bool_type": "true or false",
    "dict_type": "a mapping (key: value lines)",
    "model_type": "a mapping (key: value lines)",
    "model_attributes_type": "a mapping (key: value lines)",
    "tuple_type": "a list",
    "list_type": "a list",
}

_PATTERN_HINTS = {
    r"^[0-9]{3}:[0-9]+(-[0-9]+)?$": ("E116", "a citation is a seed prefix and line or line range, e.g. \"000:735\" or \"000:276-289\""),
    r"^[a-z0-9][a-z0-9_-]*$": ("E113", "an id uses lowercase letters, digits, '-' and '_', e.g. np-point-of-contact"),
    r"^[a-z0-9][a-z0-9_-]*(/[a-z0-9][a-z0-9_-]*)*$": ("E113", "an id is a lowercase path such as hmic-2007/child-abuse"),
}


def file_kind(doc: Document) -> str:
    """The file's declared kind; E114 when it is missing or unknown."""
    data = doc.data
    if not isinstance(data, dict):
        raise DiagnosticError([doc.diag((), "E112", "a file must be a mapping (key: value lines) at the top",
                                        "start with 'arbiter: <kind>'")])
    kind = data.get("arbiter")
    if kind is None:
        raise DiagnosticError([doc.diag((), "E114", "the file does not say what kind it is",
                                        f"start the file with 'arbiter: <kind>'; valid: {valid_list(FILE_KINDS)}")])
    if kind not in FILE_KINDS:
        raise DiagnosticError([doc.diag(("arbiter",), "E114", f"unknown file kind '{kind}'",
                                        suggest(str(kind), FILE_KINDS))])
    return kind


def to_model(doc: Document, expected: str | None = None) -> Model:
    kind = file_kind(doc)
    if expected and kind != expected:
        raise DiagnosticError([doc.diag(("arbiter",), "E114", f"expected a {expected} file, found a {kind} file",
                                        "check which file the reference points at")])
    model_cls = ALL_MODELS[kind]
    problems = list(doc.problems)
    flagged = {(d.line, d.col) for d in problems}
    try:
        model = model_cls.model_validate(doc.data)
    except ValidationError as error:
        found = [d for e in error.errors() if (d := _diagnostic(doc, model_cls, e))]
        # A value the loader already flagged (e.g. an unquoted `no`) is reported once.
        problems += [d for d in found if (d.line, d.col) not in flagged]
    if problems:
        raise DiagnosticError(problems)
    return model


_CODE_HINTS = {
    "E132": "write one bound as a fraction from 0 to 1, e.g. at_least: 0.8 for 80%",
    "E133": "write one quantity (e.g. met: {tier: good}) and one bound (is: <quantifier>, at_least: N or at_most: N)",
}
_CITATION_FIELDS = ("source", "sources", "cites")


def _diagnostic(doc: Document, model_cls: type[BaseModel], err: dict) -> Diagnostic | None:
    loc = tuple(err["loc"])
    kind = err["type"]
    where = _describe(loc)
    if kind == "extra_forbidden":
        field = loc[-1]
        allowed = _fields_at(model_cls, loc[:-1])
        return doc.diag(loc, "E110", f"unknown field '{field}'{_in(loc[:-1])}",
                        suggest(str(field), allowed), at_key=True)
    if kind == "missing":
        return doc.diag(loc[:-1], "E111", f"missing field '{loc[-1]}'{_in(loc[:-1])}",
                        f"add '{loc[-1]}:'", at_key=True)
    if kind in CODES:  # our own model validators raise with a code as the type
        return doc.diag(loc, kind, err["msg"], _CODE_HINTS.get(kind), at_key=True)
    if kind in _TYPE_WORDS:
        return _wrong_type(doc, loc, kind, err)
    if kind == "literal_error":
        expected = err.get("ctx", {}).get("expected", "")
        options = [o.strip().strip("'") for o in expected.replace(" or ", ",").split(",") if o.strip()]
        return doc.diag(loc, "E113", f"{where} is {_shown(doc, loc, err)}, which is not allowed",
                        suggest(str(err.get("input")), options))
    if kind == "string_pattern_mismatch":
        pattern = err.get("ctx", {}).get("pattern", "")
        code, hint = _PATTERN_HINTS.get(pattern, ("E113", f"it must match {pattern}"))
        return doc.diag(loc, code, f"{where} is {_shown(doc, loc, err)}, which is not well formed", hint)
    if kind == "string_too_short":
        return doc.diag(loc, "E113", f"{where} is empty", "write some text, or leave the field out if it is optional")
    if kind == "too_short":
        minimum = err.get("ctx", {}).get("min_length", 1)
        given = err.get("input")
        if isinstance(given, (list, dict)) and len(given) >= minimum:
            return None  # long enough as written: the invalid entries are reported on their own
        return doc.diag(loc, "E113", f"{where} needs at least {minimum} entr{'y' if minimum == 1 else 'ies'}",
                        "add the missing entries")
    return doc.diag(loc, "E113", f"{where}: {err['msg']}", None)


def _wrong_type(doc: Document, loc: tuple, kind: str, err: dict) -> Diagnostic:
    expected = _TYPE_WORDS[kind]
    got = _shown(doc, loc, err)
    raw = doc.raw.get(loc)
    hint = None
    if expected == "text" and any(step in _CITATION_FIELDS for step in loc[-2:] if isinstance(step, str)):
        return doc.diag(loc, "E116", f"{_describe(loc)} must be a citation, not {got}",
                        f"write a seed prefix and line in quotes, e.g. \"000:{raw or 1}\"")
    if expected == "text" and raw is not None:
        hint = f"quote it: \"{raw}\""
    elif expected == "text" and isinstance(err.get("input"), (list, dict)):
        hint = "write the text on the same line as the key, quoted if it holds ': ' or starts with '-'"
    elif expected == "true or false" and isinstance(err.get("input"), str):
        hint = "write true or false without quotes"
    elif expected.startswith("a whole number") and isinstance(err.get("input"), str):
        hint = "write the number without quotes"
    elif expected.startswith("a whole number") and isinstance(err.get("input"), float):
        hint = "write a whole number: ratings and counts have no fractions"
    return doc.diag(loc, "E112", f"{_describe(loc)} must be {expected}, not {got}", hint)


def _shown(doc: Document, loc: tuple, err: dict) -> str:
    value: Any = err.get("input")
    raw = doc.raw.get(loc)
    if isinstance(value, bool):
        return f"the boolean {raw or str(value).lower()}"
    if isinstance(value, (int, float)):
        return f"the number {raw or value}"
    if isinstance(value, str):
        return f"'{value}'"
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    if value is None:
        return "empty"
    return repr(value)


def _in(loc: tuple) -> str:
    return f" in {_describe(loc)}" if loc else " at the top level"


def _describe(loc: tuple) -> str:
    if not loc:
        return "the file"
    parts = []
    for step in loc:
        parts.append(f"[{step}]" if isinstance(step, int) else ("." if parts else "") + str(step))
    return "'" + "".join(parts) + "'"


def _fields_at(model_cls: type, loc: tuple) -> list[str]:
    """The field names (by alias) of the model found at loc, for did-you-mean."""
    current: Any = model_cls
    for step in loc:
        current = _step(current, step)
        if current is None:
            return []
    current = _first_model(current)
    if current is None:
        return []
    return [f.alias or name for name, f in current.model_fields.items()]


def _step(annotation: Any, step: Any) -> Any:
    model = _first_model(annotation)
    if model is not None and isinstance(step, str):
        field = next((f for n, f in model.model_fields.items() if (f.alias or n) == step), None)
        return field.annotation if field else None
    for arg in _args(annotation):
        if arg is not Ellipsis and not (isinstance(arg, type) and arg is str):
            return arg
    return None


def _first_model(annotation: Any) -> type[BaseModel] | None:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in _args(annotation):
        found = _first_model(arg)
        if found:
            return found
    return None


def _args(annotation: Any) -> tuple:
    if isinstance(annotation, types.UnionType) or typing.get_origin(annotation) is not None:
        args = typing.get_args(annotation)
        if typing.get_origin(annotation) is typing.Annotated:
            return args[:1]
        if typing.get_origin(annotation) is dict:
            return args[1:]
        return args
    return ()
