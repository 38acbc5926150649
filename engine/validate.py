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
from .models import FILE_KINDS, MODELS, Model

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
    if kind not in FILE_KINDS:
        shown = "missing" if kind is None else f"'{kind}'"
        raise DiagnosticError([doc.diag(("arbiter",), "E114", f"file kind is {shown}",
                                        f"start the file with 'arbiter: <kind>'; valid: {valid_list(FILE_KINDS)}")])
    return kind


def to_model(doc: Document, expected: str | None = None) -> Model:
    kind = file_kind(doc)
    if expected and kind != expected:
        raise DiagnosticError([doc.diag(("arbiter",), "E114", f"expected a {expected} file, found a {kind} file",
                                        "check which file the reference points at")])
    model_cls = MODELS[kind]
    try:
        return model_cls.model_validate(doc.data)
    except ValidationError as error:
        raise DiagnosticError([_diagnostic(doc, model_cls, e) for e in error.errors()]) from None


def _diagnostic(doc: Document, model_cls: type[BaseModel], err: dict) -> Diagnostic:
    loc = tuple(err["loc"])
    kind = err["type"]
    where = _describe(loc)
    if kind == "extra_forbidden":
        field = loc[-1]
        allowed = _fields_at(model_cls, loc[:-1])
        return doc.diag(loc, "E110", f"unknown field '{field}' in {_describe(loc[:-1])}",
                        suggest(str(field), allowed), at_key=True)
    if kind == "missing":
        return doc.diag(loc[:-1], "E111", f"missing field '{loc[-1]}' in {_describe(loc[:-1])}",
                        f"add '{loc[-1]}:'", at_key=True)
    if kind in CODES:  # our own model validators raise with a code as the type
        return doc.diag(loc, kind, err["msg"], None, at_key=True)
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
    if kind in ("too_short", "string_too_short"):
        return doc.diag(loc, "E113", f"{where} is empty", "give at least one entry")
    return doc.diag(loc, "E113", f"{where}: {err['msg']}", None)


def _wrong_type(doc: Document, loc: tuple, kind: str, err: dict) -> Diagnostic:
    expected = _TYPE_WORDS[kind]
    got = _shown(doc, loc, err)
    raw = doc.raw.get(loc)
    hint = None
    if expected == "text" and raw is not None:
        hint = f"quote it: \"{raw}\""
    elif expected == "true or false" and isinstance(err.get("input"), str):
        hint = "write true or false without quotes"
    elif expected.startswith("a whole number") and isinstance(err.get("input"), str):
        hint = "write the number without quotes"
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
