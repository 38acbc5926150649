"""Load: read a YAML file in a strict dialect and remember where every value came from.

The dialect is YAML with the surprises taken out, because a policy officer must be able
to read a criteria file and know what the engine will read:

- the file must be UTF-8, at most MAX_BYTES, and hold exactly one document;
- duplicate keys are errors (PyYAML silently keeps the last one);
- anchors, aliases and explicit tags are errors (aliases make "billion laughs" bombs,
  and tags can construct arbitrary objects);
- plain scalars resolve as YAML 1.2 core does, not 1.1: `true`/`false` are booleans,
  but `yes`, `no`, `on`, `off`, `y`, `n` are errors rather than silently becoming
  booleans, and numbers with a leading zero (`012`, octal in YAML 1.1) are errors;
  dates stay text; `.inf` and `.nan` are errors.

Every value is stamped with its 1-based line and column so that later stages can say
exactly where a problem is.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from .diagnostics import Diagnostic, DiagnosticError

MAX_BYTES = 1024 * 1024

Loc = tuple  # a path into the document: keys (str) and list indexes (int)

_INT = re.compile(r"[-+]?(0|[1-9][0-9]*)")
_LEADING_ZERO = re.compile(r"[-+]?0[0-9]+")
_FLOAT = re.compile(r"[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?")
_YAML11_BOOLS = {"yes", "no", "on", "off", "y", "n"}
_BOOLS = {"true": True, "false": False}
_NULLS = {"", "~", "null"}
_SPECIAL_NUMBERS = re.compile(r"[-+]?\.(inf|nan)|0x[0-9a-fA-F]+|0o[0-7]+|0b[01]+", re.I)


@dataclass(frozen=True)
class Document:
    """A loaded file: plain Python data plus where each value and key was written."""

    path: str
    data: Any
    positions: dict = field(default_factory=dict)  # loc -> (line, col) of the value
    key_positions: dict = field(default_factory=dict)  # loc -> (line, col) of its key
    raw: dict = field(default_factory=dict)  # loc -> source text of a plain scalar
    problems: tuple = ()  # dialect problems that did not stop the parse (reported with schema ones)

    def where(self, loc: Loc) -> tuple[int, int]:
        """The best position for loc: the value, else its key, else the nearest parent."""
        loc = tuple(loc)
        while True:
            if loc in self.positions:
                return self.positions[loc]
            if loc in self.key_positions:
                return self.key_positions[loc]
            if not loc:
                return (1, 1)
            loc = loc[:-1]

    def key_where(self, loc: Loc) -> tuple[int, int]:
        loc = tuple(loc)
        if loc in self.key_positions:
            return self.key_positions[loc]
        return self.where(loc)

    def diag(self, loc: Loc, code: str, message: str, suggestion: str | None = None,
             at_key: bool = False) -> Diagnostic:
        line, col = self.key_where(loc) if at_key else self.where(loc)
        return Diagnostic(self.path, line, col, code, message, suggestion)


def display_path(path: Path) -> str:
    """Paths are shown relative to the working directory when they are inside it."""
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)


def load_file(path: Path | str) -> Document:
    """Read and parse one file.

    Problems that stop parsing (encoding, size, syntax) raise DiagnosticError at once.
    Dialect problems (duplicate keys, ambiguous scalars, aliases) are kept on the
    document, so that validation can report them together with the schema's problems.
    """
    path = Path(path)
    shown = display_path(path)
    try:
        blob = path.read_bytes()
    except OSError as error:
        reason = error.strerror or str(error)
        raise DiagnosticError([Diagnostic(shown, 0, 0, "E100", f"cannot read file: {reason}",
                                          "check the path")]) from None
    return load_bytes(blob, shown)


def load_bytes(blob: bytes, shown: str) -> Document:
    if len(blob) > MAX_BYTES:
        raise DiagnosticError([Diagnostic(
            shown, 1, 1, "E102",
            f"file is {len(blob):,} bytes; the limit is {MAX_BYTES:,} bytes",
            "split the file; no criteria or evidence file needs to be this large")])
    text = _decode(blob, shown)
    return _parse(text, shown)


def _decode(blob: bytes, shown: str) -> str:
    try:
        text = blob.decode("utf-8")
    except UnicodeDecodeError as error:
        before = blob[: error.start]
        line = before.count(b"\n") + 1
        line_start = before[before.rfind(b"\n") + 1:]
        col = len(line_start.decode("utf-8", errors="replace")) + 1  # characters, not bytes
        raise DiagnosticError([Diagnostic(
            shown, line, col, "E101",
            f"file is not UTF-8: byte 0x{blob[error.start]:02x} cannot be decoded",
            "save the file as UTF-8")]) from None
    return text.removeprefix("\ufeff")


class _StrictComposer(yaml.SafeLoader):
    """PyYAML's composer, refusing aliases, anchors and explicit tags as it goes."""

    def __init__(self, text: str, shown: str):
        super().__init__(text)
        self.shown = shown
        self.problems: list[Diagnostic] = []
        self.anchor_marks: dict[str, object] = {}  # anchor name -> where it was defined
        self.alias_uses: dict[str, int] = {}  # anchor name -> how many aliases use it

    def _problem(self, mark, code: str, message: str, suggestion: str) -> None:
        self.problems.append(Diagnostic(self.shown, mark.line + 1, mark.column + 1, code,
                                        message, suggestion))

    def compose_node(self, parent, index):
        if self.check_event(yaml.AliasEvent):
            # Never expanded, so an alias bomb costs nothing; reported once per anchor.
            event = self.get_event()
            self.alias_uses[event.anchor] = self.alias_uses.get(event.anchor, 0) + 1
            if event.anchor not in self.anchor_marks:
                self._problem(event.start_mark, "E105", f"alias '*{event.anchor}' is not allowed",
                              "write the value out in full; anchors and aliases are not part of the dialect")
            return yaml.ScalarNode("tag:yaml.org,2002:null", "", event.start_mark, event.end_mark)
        event = self.peek_event()
        if getattr(event, "anchor", None):
            self.anchor_marks.setdefault(event.anchor, event.start_mark)
        tag = getattr(event, "tag", None)
        if tag not in (None, "!"):
            written = tag.replace("tag:yaml.org,2002:", "!!", 1)
            self._problem(event.start_mark, "E108", f"explicit tag '{written}' is not allowed",
                          "remove the tag; write the value as plain text, a number or true/false")
        return super().compose_node(parent, index)

    def anchor_problems(self) -> list[Diagnostic]:
        """One diagnostic for all anchors: a bomb has dozens, and one message says it all."""
        if not self.anchor_marks:
            return []
        name, mark = next(iter(self.anchor_marks.items()))
        anchors, aliases = len(self.anchor_marks), sum(self.alias_uses.values())
        more = f" (the file has {anchors} anchor{'s' if anchors != 1 else ''} and {aliases} alias{'es' if aliases != 1 else ''})"
        return [Diagnostic(self.shown, mark.line + 1, mark.column + 1, "E105",
                           f"anchor '&{name}' is not allowed{more}",
                           "write every value out in full; anchors and aliases are not part of the dialect")]


def _parse(text: str, shown: str) -> Document:
    composer = _StrictComposer(text, shown)
    try:
        node = composer.get_single_node()
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        line, col = (mark.line + 1, mark.column + 1) if mark else (1, 1)
        problem = error.problem or "invalid YAML"
        if "single document" in str(error.context or ""):
            raise DiagnosticError([Diagnostic(shown, line, col, "E107",
                                              "file holds more than one YAML document",
                                              "keep one document per file; remove the '---' separator")]) from None
        context = ""
        if error.context:
            context = f" ({error.context}"
            opened = error.context_mark
            if opened is not None and mark is not None and opened.line != mark.line:
                context += f" that starts at line {opened.line + 1}, column {opened.column + 1}"
            context += ")"
        hint = ("indent with spaces: YAML does not allow tabs" if "\\t" in problem or "\t" in problem
                else "check indentation, quoting, closing brackets and ':' after keys")
        raise DiagnosticError([Diagnostic(shown, line, col, "E103", f"invalid YAML: {problem}{context}",
                                          hint)]) from None
    except RecursionError:
        raise DiagnosticError([Diagnostic(shown, 1, 1, "E103", "invalid YAML: nesting is too deep",
                                          "flatten the structure")]) from None
    finally:
        composer.dispose()
    if node is None:
        raise DiagnosticError([Diagnostic(shown, 1, 1, "E107", "file is empty",
                                          "a file holds exactly one YAML mapping")])
    builder = _Builder(shown)
    data = builder.build(node, ())
    problems = tuple(composer.problems + composer.anchor_problems() + builder.problems)
    return Document(shown, data, builder.positions, builder.key_positions, builder.raw, problems)


class _Builder:
    """Turns composed nodes into plain data, recording positions and dialect problems."""

    def __init__(self, shown: str):
        self.shown = shown
        self.positions: dict = {}
        self.key_positions: dict = {}
        self.raw: dict = {}
        self.problems: list[Diagnostic] = []

    def _at(self, node) -> tuple[int, int]:
        return (node.start_mark.line + 1, node.start_mark.column + 1)

    def build(self, node, loc: Loc) -> Any:
        self.positions[loc] = self._at(node)
        if isinstance(node, yaml.MappingNode):
            return self._mapping(node, loc)
        if isinstance(node, yaml.SequenceNode):
            return [self.build(item, loc + (i,)) for i, item in enumerate(node.value)]
        return self._scalar(node, loc)

    def _mapping(self, node, loc: Loc) -> dict:
        result: dict = {}
        for key_node, value_node in node.value:
            if not isinstance(key_node, yaml.ScalarNode):
                line, col = self._at(key_node)
                self.problems.append(Diagnostic(self.shown, line, col, "E112",
                                                "a key must be plain text, not a list or mapping",
                                                "write the key as a word"))
                continue
            key = key_node.value
            if key in result:
                first_line = self.key_positions[loc + (key,)][0]
                line, col = self._at(key_node)
                self.problems.append(Diagnostic(
                    self.shown, line, col, "E104",
                    f"duplicate key '{key}' (first written at line {first_line})",
                    "keep one of them; YAML readers silently drop all but the last"))
                continue
            self.key_positions[loc + (key,)] = self._at(key_node)
            result[key] = self.build(value_node, loc + (key,))
        return result

    def _scalar(self, node, loc: Loc) -> Any:
        text = node.value
        if node.style is not None:  # quoted or block scalar: always text
            return text
        self.raw[loc] = text
        value, problem = resolve_plain(text)
        if problem:
            line, col = self._at(node)
            message, suggestion = problem
            self.problems.append(Diagnostic(self.shown, line, col, "E106", message, suggestion))
        return value


def resolve_plain(text: str) -> tuple[Any, tuple[str, str] | None]:
    """Resolve an unquoted scalar the YAML 1.2 core way, flagging YAML 1.1 traps."""
    lowered = text.lower()
    if lowered in _BOOLS:
        return _BOOLS[lowered], None
    if lowered in _NULLS:
        return None, None
    if lowered in _YAML11_BOOLS:
        return text, (f"'{text}' is ambiguous: YAML 1.1 readers take it as a boolean",
                      f"write true or false for a yes/no value, or quote it (\"{text}\") for text")
    if _LEADING_ZERO.fullmatch(text):
        return text, (f"'{text}' has a leading zero: YAML 1.1 readers take it as an octal number",
                      f"quote it (\"{text}\") for text, or drop the leading zero for a number")
    if _SPECIAL_NUMBERS.fullmatch(text):
        return text, (f"'{text}' is a special number form that is not allowed",
                      f"write a plain decimal number, or quote it (\"{text}\") for text")
    if _INT.fullmatch(text):
        return int(text), None
    if _FLOAT.fullmatch(text) and any(ch.isdigit() for ch in text):
        return float(text), None
    return text, None


def dump_yaml(data: Any) -> str:
    """Write data in the same dialect: block style, key order kept, ambiguous text quoted."""
    return yaml.dump(data, Dumper=_SafeDumper, sort_keys=False, allow_unicode=True,
                     default_flow_style=False, width=100)


class _SafeDumper(yaml.SafeDumper):
    """SafeDumper that never writes anchors and quotes text our reader would not keep."""

    def ignore_aliases(self, data):
        return True


def _represent_str(dumper, value: str):
    resolved, problem = resolve_plain(value)
    # Non-printing characters (and YAML's own line breaks such as U+0085) survive only
    # as escapes, which only the double-quoted style writes.
    unprintable = not all(ch.isprintable() or ch == "\n" for ch in value)
    needs_quotes = problem is not None or not isinstance(resolved, str) or unprintable
    style = '"' if needs_quotes else ("|" if _fits_literal_block(value) else None)
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


def _fits_literal_block(value: str) -> bool:
    """Multi-line text reads best as a `|` block, when a block can hold it exactly."""
    lines = value.split("\n")
    return (len(lines) > 1 and all(line.isprintable() for line in lines)
            and not value.startswith((" ", "\n")) and not any(line.endswith(" ") for line in lines))


_SafeDumper.add_representer(str, _represent_str)
