"""Validate: turn a loaded document into a model, or into located diagnostics.

pydantic reports problems as (loc, type) pairs; this module maps each onto the line and
column the loader recorded and onto our stable codes, with the valid choices spelled out.

`salvage` keeps what did validate of a file whose shape is wrong, and records what it left
out, so that the cross-reference checks can still run on the rest (all problems at once).
"""

from __future__ import annotations

import dataclasses
import difflib
import importlib
import re
import types
import typing
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, TypeAdapter, ValidationError

from .diagnostics import CODES, Diagnostic, DiagnosticError, suggest, valid_list
from .load import Document
from .models import Model

# Where each kind's model is defined (its module, and the table there naming it), the kinds in
# the order they are offered to authors. A module is imported when a file of one of its kinds is
# first met: reading an inspection case builds none of the appointment models.
_KINDS_BY_MODULE: dict[tuple[str, str], tuple[str, ...]] = {
    ("models", "MODELS"): ("scale", "framework", "criteria", "case"),
    ("appointment_models", "APPOINTMENT_MODELS"): ("competency_framework", "selection_process", "appointment",
                                                   "panel_rules", "hearing", "compliance", "compliance_record"),
    ("pack_models", "PACK_MODELS"): ("pack_rules", "appointment_pack"),
}


class _ModelsByKind(Mapping):
    """Each file kind's model, by kind; a kind's module is imported on first use."""

    def __init__(self, kinds_by_module: dict[tuple[str, str], tuple[str, ...]]):
        self._home = {kind: home for home, kinds in kinds_by_module.items() for kind in kinds}

    def __getitem__(self, kind: str) -> type[Model]:
        module, table = self._home[kind]
        return getattr(importlib.import_module(f".{module}", __package__), table)[kind]

    def __contains__(self, kind: object) -> bool:
        return kind in self._home  # without importing the kind's module

    def __iter__(self) -> Iterator[str]:
        return iter(self._home)

    def __len__(self) -> int:
        return len(self._home)


ALL_MODELS: Mapping[str, type[Model]] = _ModelsByKind(_KINDS_BY_MODULE)
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
        found = [d for e in _one_member_per_union(doc, error.errors()) if (d := _diagnostic(doc, model_cls, e))]
        # A value the loader already flagged (e.g. an unquoted `no`) is reported once.
        problems += [d for d in found if (d.line, d.col) not in flagged]
    if problems:
        raise DiagnosticError(problems)
    return model


_CITATION_FIELDS = ("source", "sources", "cites")

# A value of a union (a sub-area: a level id or a mapping) is tried as each member, and pydantic
# names the member in the error's loc ('function-after[...]', 'SubgradeEntry', 'int'). Errors
# saying only that the value is not of a member's kind are not the author's concern when another
# member fits its kind.
_WRONG_KIND = frozenset(_TYPE_WORDS)
_FIELD_NAME = re.compile(r"[a-z_][a-z0-9_]*")


def _one_member_per_union(doc: Document, errors: list[dict]) -> list[dict]:
    """Each union's errors told once, without pydantic's member names: those of the members
    that fit the value's kind; when none does, one error naming every kind it could be."""
    plain, unions = [], {}
    for err in errors:
        place = _union_member_step(doc, tuple(err["loc"]))
        if place is None:
            plain.append(err)
        else:
            unions.setdefault(tuple(err["loc"][:place]), []).append((place, err))
    for prefix, members in unions.items():
        fitting = [{**err, "loc": prefix + tuple(err["loc"][place + 1:])} for place, err in members
                   if err["type"] not in _WRONG_KIND or len(err["loc"]) > place + 1]
        plain += fitting or [_fits_no_member(prefix, [err for _, err in members])]
    return plain


def _fits_no_member(loc: tuple, errors: list[dict]) -> dict:
    kinds = dict.fromkeys(_TYPE_WORDS[err["type"]] for err in errors)
    if "a number" in kinds:  # a whole number or a decimal: a number
        kinds.pop("a whole number", None)
    return {"loc": loc, "type": "union_type", "input": errors[0].get("input"), "ctx": {"expected": " or ".join(kinds)}}


def _union_member_step(doc: Document, loc: tuple) -> int | None:
    """Where in loc pydantic named a union's member: a name step into a value that is no
    mapping, or into a mapping that neither holds it nor could have it as a field."""
    data: Any = doc.data
    for place, step in enumerate(loc):
        if isinstance(step, str) and (not isinstance(data, dict) or (step not in data and not _FIELD_NAME.fullmatch(step))):
            return place
        data = data.get(step) if isinstance(data, dict) else (
            data[step] if isinstance(data, list) and isinstance(step, int) and step < len(data) else None)
    return None


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
    if kind in CODES:  # our own model validators raise with a code as the type, and their own hint
        return doc.diag(loc, kind, err["msg"], err.get("ctx", {}).get("hint"), at_key=True)
    if kind in _TYPE_WORDS:
        return _wrong_type(doc, loc, kind, err)
    if kind == "union_type":  # a value of none of a union's kinds (_one_member_per_union)
        return doc.diag(loc, "E112", f"{where} must be {err['ctx']['expected']}, not {_shown(doc, loc, err)}")
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


# --- salvage: what did validate of a misshapen file --------------------------------------

class _Marker:
    def __init__(self, name: str):
        self.name = name

    def __repr__(self) -> str:
        return self.name


EACH = _Marker("EACH")  # in a pattern given to Damage.spares: any list index or mapping key
GONE = _Marker("GONE")  # in a lost place: a list entry left out, which has no index in the salvaged model
_LOST = _Marker("LOST")  # what salvaging a value with no valid part gives


@dataclass(frozen=True)
class Damage:
    """What salvage left out of a file: the place of each part lost (an entry of a list or
    mapping, or a top-level field), and the required top-level fields left with no value.
    Places count list entries as the salvaged model does, a left-out entry's index as GONE."""

    lost: tuple[tuple, ...] = ()
    absent: frozenset[str] = frozenset()

    def spares(self, *pattern: Any) -> bool:
        """True when nothing lost lies on `pattern` (EACH matching any index or key): no lost
        part holds what the pattern names, and none lies inside it. A check that concludes
        from what is *not* written (a missing finding, an unknown name) must see it whole,
        or the shape problem would be reported a second time as a missing thing."""
        return not any(all(want is EACH or want == step for step, want in zip(place, pattern))
                       for place in self.lost)


INTACT = Damage()


@dataclass(frozen=True)
class Salvaged:
    model: Model  # built unvalidated from the fields that validated; absent required fields are unset
    doc: Document  # the same file, its positions renumbered as the model counts list entries
    damage: Damage


def salvage(model_cls: type[Model], doc: Document) -> Salvaged:
    """The valid part of a file whose shape is wrong.

    A list or mapping keeps each entry that validates. An entry with any wrong or unknown
    field is left out whole rather than patched with a default, which could say something the
    author never wrote. The top level keeps each field that validates; a wrong optional field
    falls back to its default and is recorded as lost."""
    work = _Salvage()
    fields: dict[str, Any] = {}
    absent: set[str] = set()
    for name, field in model_cls.model_fields.items():
        key = field.alias or name
        value = work.value(_annotation(field), doc.data[key], (key,)) if key in doc.data else _LOST
        if value is not _LOST:
            fields[name] = value
        elif field.is_required():
            absent.add(name)
    lost = [work.renumbered_lost(place) for place in work.lost] + _maybe_misspelt(model_cls, doc.data)
    damage = Damage(tuple(lost), frozenset(absent))
    return Salvaged(model_cls.model_construct(**fields), work.renumbered_doc(doc), damage)


def _maybe_misspelt(model_cls: type[Model], data: dict) -> list[tuple]:
    """Fields the file does not write but an unknown key may be a misspelling of (E110 suggests
    the same ones): `finding:` leaves `findings` at its default, which must not read as empty."""
    known = [field.alias or name for name, field in model_cls.model_fields.items()]
    unwritten = [key for key in known if key not in data]
    return [(close,) for key in data if key not in known
            for close in difflib.get_close_matches(str(key), unwritten, n=1, cutoff=0.6)]


class _Salvage:
    """One salvage: what it lost, and how it renumbered each list (both by places in the file)."""

    def __init__(self) -> None:
        self.lost: list[tuple] = []
        self.kept: dict[tuple, dict[int, int]] = {}  # a list's place -> its kept entries, old index -> new

    def value(self, annotation: Any, value: Any, place: tuple) -> Any:
        """value validated against annotation; else, for a list, mapping or model, its valid
        part; else _LOST, with place recorded as lost."""
        try:
            return _adapter(annotation).validate_python(value)
        except ValidationError:
            pass
        bare = _bare(annotation)
        origin, args = typing.get_origin(bare), typing.get_args(bare)
        kept: Any = _LOST
        if isinstance(bare, type) and issubclass(bare, BaseModel) and isinstance(value, dict):
            kept = self.entry(bare, value, place)
        elif origin is tuple and len(args) == 2 and args[1] is Ellipsis and isinstance(value, list):
            kept = self.entries(args[0], value, place)
        elif origin is dict and isinstance(value, dict):
            kept = self.mapping(args, value, place)
        if kept is _LOST:
            self.lost.append(place)
        return kept

    def entries(self, annotation: Any, value: list, place: tuple) -> tuple:
        items = [(i, self.value(annotation, item, place + (i,))) for i, item in enumerate(value)]
        kept = [(i, item) for i, item in items if item is not _LOST]
        self.kept[place] = {old: new for new, (old, _) in enumerate(kept)}
        return tuple(item for _, item in kept)

    def mapping(self, args: tuple, value: dict, place: tuple) -> dict:
        key_type, value_type = args
        kept = {}
        for key, item in value.items():
            try:
                key = _adapter(key_type).validate_python(key)
            except ValidationError:
                self.lost.append(place)  # an entry under a wrong key may have been meant for any key
                continue
            item = self.value(value_type, item, place + (key,))
            if item is not _LOST:
                kept[key] = item
        return kept

    def entry(self, model_cls: type[BaseModel], data: dict, place: tuple) -> Any:
        """A model whose every field validates (its lists and mappings may lose entries), else _LOST."""
        keys = {field.alias or name: name for name, field in model_cls.model_fields.items()}
        if set(data) - set(keys):
            return _LOST  # an unknown field may be a known one misspelt: its value is not to be trusted
        lost_before = len(self.lost)
        fields = {}
        for key, value in data.items():
            value = self.value(_annotation(model_cls.model_fields[keys[key]]), value, place + (key,))
            if value is _LOST:
                del self.lost[lost_before:]  # the entry is lost whole
                return _LOST
            fields[keys[key]] = value
        try:
            return model_cls.model_validate(fields)
        except ValidationError as error:
            # A list too short only because it lost entries keeps the rest, unless the model
            # checks itself as a whole (its validator did not run, so it cannot be trusted).
            judged_whole = bool(model_cls.__pydantic_decorators__.model_validators)
            if judged_whole or any(e["type"] != "too_short" for e in error.errors()):
                del self.lost[lost_before:]  # a required field is missing, or the entry as a whole is wrong
                return _LOST
            return model_cls.model_construct(**fields)

    def renumbered(self, place: tuple) -> tuple | None:
        """A place in the file as the salvaged model counts it; None inside an entry left out."""
        out = []
        for depth, step in enumerate(place):
            kept = self.kept.get(place[:depth])
            if kept is not None and isinstance(step, int):
                if step not in kept:
                    return None
                step = kept[step]
            out.append(step)
        return tuple(out)

    def renumbered_lost(self, place: tuple) -> tuple:
        head = self.renumbered(place[:-1])
        last = place[-1]
        return head + ((GONE,) if place[:-1] in self.kept and isinstance(last, int) else (last,))

    def renumbered_doc(self, doc: Document) -> Document:
        """doc with its positions keyed as the salvaged model counts list entries, so that a
        check's diagnostic about the model's entry [3] points at the file's entry it came from."""
        def renumber(by_place: dict) -> dict:
            moved = ((self.renumbered(place), value) for place, value in by_place.items())
            return {place: value for place, value in moved if place is not None}
        return dataclasses.replace(doc, positions=renumber(doc.positions), key_positions=renumber(doc.key_positions),
                                   raw=renumber(doc.raw))


def _bare(annotation: Any) -> Any:
    """The type under Annotated[...] and Optional[...]: what a value's structure is checked against."""
    while True:
        origin = typing.get_origin(annotation)
        if origin is typing.Annotated:
            annotation = typing.get_args(annotation)[0]
            continue
        if origin is typing.Union or isinstance(annotation, types.UnionType):
            options = [a for a in typing.get_args(annotation) if a is not type(None)]
            if len(options) == 1:
                annotation = options[0]
                continue
        return annotation


_ANNOTATIONS: dict[int, tuple[Any, Any]] = {}  # id(field) -> (field, its annotation with constraints)
_ADAPTERS: dict[int, tuple[Any, TypeAdapter]] = {}  # id(annotation) -> (annotation, adapter)


def _annotation(field: Any) -> Any:
    """A field's type with its constraints (min_length, ge, union mode), built once per field."""
    cached = _ANNOTATIONS.get(id(field))
    if cached is None or cached[0] is not field:
        full = typing.Annotated[(field.annotation, *field.metadata)] if field.metadata else field.annotation
        cached = _ANNOTATIONS[id(field)] = (field, full)
    return cached[1]


def _adapter(annotation: Any) -> TypeAdapter:
    """A validator for annotation, built once (building one takes about a millisecond)."""
    cached = _ADAPTERS.get(id(annotation))
    if cached is None or cached[0] is not annotation:
        cached = _ADAPTERS[id(annotation)] = (annotation, TypeAdapter(annotation))
    return cached[1]
