"""Load: read a YAML file in a strict dialect and remember where every value came from.

The dialect is YAML with the surprises taken out, because a policy officer must be able
to read a criteria file and know what the engine will read:

- only a regular file is read (a pipe or a device could block or never end), the file
  must be UTF-8, at most MAX_BYTES, and hold exactly one document;
- characters YAML forbids (control characters such as NUL, U+FFFE, U+FFFF) are errors
  wherever they are, comments included, reported at their line and column;
- duplicate keys are errors (PyYAML silently keeps the last one);
- anchors, aliases and explicit tags are errors (aliases make "billion laughs" bombs,
  and tags can construct arbitrary objects);
- plain scalars resolve as YAML 1.2 core does, not 1.1: `true`/`false` are booleans,
  but `yes`, `no`, `on`, `off`, `y`, `n` are errors rather than silently becoming
  booleans, and numbers with a leading zero (`012`, octal in YAML 1.1) are errors;
  dates stay text; `.inf` and `.nan` are errors.

Every value is stamped with its 1-based line and column so that later stages can say
exactly where a problem is.

Files are parsed by libyaml's C parser when PyYAML comes with it (its wheels do), and by
PyYAML's pure-Python parser otherwise. The two give the same document and the same
diagnostics: the Python parser is the reference, and whatever libyaml reads otherwise, refuses
or finds fault with is read again by it.
"""

from __future__ import annotations

import datetime
import math
import os
import re
import stat
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO, Sequence

import yaml

try:  # libyaml's C parser, shipped in PyYAML's wheels; without it every file takes the Python parser
    from yaml._yaml import CParser as _CParser
except ImportError:  # pragma: no cover - depends on how PyYAML was installed
    _CParser = None

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
# The characters the YAML reader refuses anywhere in a stream, comments included (YAML 1.1 5.1).
_FORBIDDEN = yaml.reader.Reader.NON_PRINTABLE
_LINE_BREAK = re.compile("\r\n|[\n\r\x85\u2028\u2029]")  # what the YAML reader counts as a new line
_CHARACTER_NAMES = {0x00: "NUL", 0x07: "bell", 0x08: "backspace", 0x0B: "vertical tab", 0x0C: "form feed",
                    0x1B: "escape", 0x7F: "delete", 0xFFFE: "noncharacter", 0xFFFF: "noncharacter"}
MAX_REPORTED_LINES = 20  # a binary file has a forbidden character on almost every line


@dataclass(frozen=True)
class Document:
    """A loaded file: plain Python data plus where each value and key was written."""

    path: str
    data: Any
    positions: dict = field(default_factory=dict)  # loc -> (line, col) of the value
    key_positions: dict = field(default_factory=dict)  # loc -> (line, col) of its key
    raw: dict = field(default_factory=dict)  # loc -> source text of a plain scalar
    problems: tuple = ()  # dialect problems that did not stop the parse (reported with schema ones)
    in_memory: bool = False  # data handed over in code: problems are located by field, not line


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
        if self.in_memory:
            return Diagnostic(self.path + field_path(loc), 0, 0, code, message, suggestion)
        line, col = self.key_where(loc) if at_key else self.where(loc)
        return Diagnostic(self.path, line, col, code, message, suggestion)


def field_path(loc: Loc) -> str:
    """Where a value sits in data handed over in code: ('ratings', 3, 'agreed') -> '.ratings[3].agreed'."""
    return "".join(f"[{step}]" if isinstance(step, int) else f".{step}" for step in loc)


def from_data(data: Any, name: str) -> Document:
    """Evidence handed over in code (a dict, as a YAML file would hold it), held to what a file
    may hold: text, whole numbers below 2**53, true/false, null, lists and mappings with text
    keys; a date becomes its YYYY-MM-DD text, as a file writes it. Problems are located by
    field: `name.ratings[3].agreed`."""
    problems: list[Diagnostic] = []
    plain = _plain(data, (), name, problems)
    return Document(name, plain, problems=tuple(problems), in_memory=True)


def _plain(value: Any, loc: tuple, name: str, problems: list[Diagnostic]) -> Any:
    where = name + field_path(loc)
    if isinstance(value, dict):
        bad_keys = [key for key in value if not isinstance(key, str)]
        problems += [Diagnostic(where, 0, 0, "E106", f"key {key!r} is not text", "write every key as text")
                     for key in bad_keys]
        return {key: _plain(item, loc + (key,), name, problems) for key, item in value.items() if isinstance(key, str)}
    if isinstance(value, (list, tuple)):
        return [_plain(item, loc + (i,), name, problems) for i, item in enumerate(value)]
    if isinstance(value, bool) or value is None or isinstance(value, str):
        return value
    if isinstance(value, datetime.date) and not isinstance(value, datetime.datetime):
        return value.isoformat()  # as a file holds a date: text, YYYY-MM-DD
    if isinstance(value, int) and abs(value) < _SAFE_INT:
        return value
    if isinstance(value, float) and math.isfinite(value):
        return value
    problems.append(Diagnostic(where, 0, 0, "E106", f"{_clip(repr(value))} is not a value an evidence file can hold",
                               "give text, a whole number below 2**53, true or false, a list or a mapping"))
    return None


def real_path(path: Path | str) -> Path:
    """The absolute path with symbolic links followed, as far as they lead.

    Unlike Path.resolve, never raises: a symbolic link loop stays a name (reading it then
    fails with a diagnostic), rather than a RuntimeError.
    """
    return Path(os.path.realpath(path))


def display_path(path: Path) -> str:
    """Paths are shown relative to the working directory when they are inside it."""
    try:
        return str(real_path(path).relative_to(real_path(Path.cwd())))
    except ValueError:
        return str(path)


class NotRegularFile(OSError):
    """A folder, pipe, device or socket: never opened, since reading one may block or never end."""


_FILE_TYPES = ((stat.S_ISDIR, "a folder"), (stat.S_ISFIFO, "a named pipe (FIFO)"), (stat.S_ISCHR, "a device"),
               (stat.S_ISBLK, "a device"), (stat.S_ISSOCK, "a socket"))


def _require_regular(mode: int) -> None:
    if not stat.S_ISREG(mode):
        what = next((name for test, name in _FILE_TYPES if test(mode)), "not a file")
        raise NotRegularFile(f"not a regular file: it is {what}")


def is_regular_file(path: Path) -> bool:
    """True for a regular file or a link to one; False for anything else, or a broken link or loop."""
    try:
        return stat.S_ISREG(os.stat(path).st_mode)
    except (OSError, ValueError):
        return False


def read_regular_file(path: Path | str, limit: int) -> bytes:
    """At most limit + 1 bytes of a regular file, so that a caller can tell it is too large.

    The type is checked before opening, as opening a FIFO blocks until a writer comes; the
    open is non-blocking and the type checked again on what was opened, in case the name was
    replaced in between. The read is bounded whatever the file's size says, since a file can
    grow while it is read. Raises OSError (NotRegularFile for a pipe, device, socket or folder).
    """
    with open_regular_file(path) as stream:
        return stream.read(limit + 1)


def open_regular_file(path: Path | str) -> BinaryIO:
    """A regular file opened for reading in binary; OSError (NotRegularFile) for anything else.

    The type is checked before opening, as opening a FIFO blocks until a writer comes; the
    open is non-blocking and the type checked again on what was opened, in case the name was
    replaced in between."""
    _require_regular(os.stat(path).st_mode)
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0)
    stream = os.fdopen(os.open(path, flags), "rb")
    try:
        _require_regular(os.fstat(stream.fileno()).st_mode)
    except BaseException:
        stream.close()
        raise
    return stream


def load_file(path: Path | str) -> Document:
    """Read and parse one file.

    Problems that stop parsing (reading, encoding, size, syntax) raise DiagnosticError at once.
    Dialect problems (duplicate keys, ambiguous scalars, aliases, forbidden characters) are
    kept on the document, so that validation reports them with the schema's problems.
    """
    path = Path(path)
    shown = display_path(path)
    return load_bytes(read_source(path, shown), shown)


def read_source(path: Path, shown: str) -> bytes:
    """The bytes of a file to load; E100 when it cannot be read, E102 when it is too large."""
    try:
        status = os.stat(path)
        _require_regular(status.st_mode)
        _refuse_if_too_large(status.st_size, shown, exact=True)  # before reading a byte
        blob = read_regular_file(path, MAX_BYTES)
    except OSError as error:
        raise DiagnosticError([Diagnostic(shown, 0, 0, "E100", _unreadable(error), _unreadable_hint(error))]) from None
    _refuse_if_too_large(len(blob), shown, exact=False)  # it grew since, or its size was not known
    return blob


def _unreadable(error: OSError) -> str:
    if isinstance(error, NotRegularFile):
        return str(error)
    return f"cannot read file: {error.strerror or error}"


def _unreadable_hint(error: OSError) -> str:
    if isinstance(error, NotRegularFile):
        return "give a file saved on disk; pipes, devices and sockets are never read"
    return "check the path"


def _refuse_if_too_large(size: int, shown: str, exact: bool) -> None:
    if size > MAX_BYTES:
        amount = f"{size:,} bytes" if exact else f"more than {MAX_BYTES:,} bytes"
        raise DiagnosticError([Diagnostic(
            shown, 1, 1, "E102", f"file is {amount}; the limit is {MAX_BYTES:,} bytes",
            "split the file; no criteria or evidence file needs to be this large")])


def load_bytes(blob: bytes, shown: str) -> Document:
    _refuse_if_too_large(len(blob), shown, exact=True)
    text = _decode(blob, shown)
    forbidden = forbidden_characters(text, shown)
    # Parse what is left without them, so that every other problem is reported too. Deleting
    # (rather than replacing) keeps the structure a person sees, since they are invisible;
    # only later columns on the same line move, by one per character deleted.
    return _parse(_FORBIDDEN.sub("", text) if forbidden else text, shown, forbidden)


def forbidden_characters(text: str, shown: str) -> list[Diagnostic]:
    """E109 for each line holding a character YAML forbids, at the first such character.

    Lines are split as the YAML reader splits them, so positions agree with its own. One pass
    over each line, whatever the file holds: a binary file may have a million such characters.
    """
    if _FORBIDDEN.search(text) is None:
        return []  # the usual case, at the regular expression engine's speed
    problems: list[Diagnostic] = []
    unreported: list[tuple[int, int]] = []  # (line, column) of lines past the limit
    for number, line in enumerate(_LINE_BREAK.split(text), 1):
        first = _FORBIDDEN.search(line)
        if first is None:
            continue
        if len(problems) == MAX_REPORTED_LINES:
            unreported.append((number, first.start() + 1))
            continue
        count = len(line) - len(_FORBIDDEN.sub("", line))
        problems.append(_forbidden_on_line(shown, number, first.start() + 1, first.group(), count))
    if unreported:
        (line, col), more = unreported[0], len(unreported)
        problems.append(Diagnostic(shown, line, col, "E109",
                                   f"{more} more line{'s' if more != 1 else ''} hold characters YAML does not allow",
                                   "is this a text file? Criteria and evidence are plain text"))
    return problems


def _forbidden_on_line(shown: str, line: int, col: int, char: str, count: int) -> Diagnostic:
    more = f" (and {count - 1} more on this line)" if count > 1 else ""
    return Diagnostic(shown, line, col, "E109",
                      f"character {describe_character(char)} is not allowed anywhere in a YAML file, "
                      f"comments included{more}",
                      "delete it: such characters are invisible in most editors, and come from pasting or other "
                      "programs")


def describe_character(char: str) -> str:
    """U+0000 (NUL): the code point, and a name where the character is known by one."""
    name = _CHARACTER_NAMES.get(ord(char))
    return f"U+{ord(char):04X}" + (f" ({name})" if name else "")


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
    """PyYAML's composer, refusing aliases, anchors and explicit tags as it goes: the reference
    reader, whose positions and messages every diagnostic gives."""

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


class _LeaveToReference(Exception):
    """The fast reader gives way: the reference reader reads this text."""


_FAST_NESTING = 64  # far below where the reference reader runs out of recursion
# Characters libyaml reads otherwise than PyYAML: it skips a tab between tokens, where PyYAML
# refuses it, and counts a byte order mark inside the text otherwise. Rare in criteria and
# evidence, so text holding one goes to the reference reader.
_READ_OTHERWISE_BY_LIBYAML = re.compile("[\t\ufeff]")
_UNRESOLVED = "?"  # the builder reads a node's style and text, never its resolved tag


def _compose_clean(parser, text: str, depth: int = 0):
    """The node of the next event and those within it, from libyaml's events: PyYAML's
    composer for a clean document, giving way (_LeaveToReference) on anything the strict
    composer would report (an alias, an anchor, a tag), so that the reference reader reports
    it, and on nesting deep enough that where Python's recursion limit stops the reference
    reader ("nesting is too deep") must decide. text: what the parser reads."""
    event = parser.get_event()
    kind = type(event)
    if kind not in _NODE_EVENTS or event.anchor is not None or event.tag is not None or depth > _FAST_NESTING:
        raise _LeaveToReference()
    if kind is yaml.ScalarEvent:
        if _scalar_read_otherwise(event, text):
            raise _LeaveToReference()
        return yaml.ScalarNode(_UNRESOLVED, event.value, event.start_mark, event.end_mark, event.style)
    flow = event.flow_style
    if kind is yaml.SequenceStartEvent:
        node = yaml.SequenceNode(_UNRESOLVED, [], event.start_mark, None, flow)
        while not parser.check_event(yaml.SequenceEndEvent):
            node.value.append(_compose_item(parser, text, depth, flow))
    else:
        node = yaml.MappingNode(_UNRESOLVED, [], event.start_mark, None, flow)
        while not parser.check_event(yaml.MappingEndEvent):
            node.value.append((_compose_item(parser, text, depth, flow), _compose_item(parser, text, depth, flow)))
    node.end_mark = parser.get_event().end_mark
    return node


_NODE_EVENTS = (yaml.ScalarEvent, yaml.SequenceStartEvent, yaml.MappingStartEvent)


def _compose_item(parser, text: str, depth: int, in_flow: bool):
    node = _compose_clean(parser, text, depth + 1)
    if in_flow and _read_otherwise_in_flow(node):
        raise _LeaveToReference()
    return node


def _scalar_read_otherwise(event, text: str) -> bool:
    """A scalar libyaml reads otherwise than PyYAML: an empty value at the very end of text not
    ending in a line break, which libyaml places on a line past the text and PyYAML just after
    its ':' or '?'; a block scalar whose header runs straight into a comment (`>#`), which
    PyYAML refuses."""
    if not event.value and event.start_mark.index == len(text):
        return True
    return event.style in _BLOCK_STYLES and _HEADER_INTO_COMMENT.match(text, event.start_mark.index) is not None


_BLOCK_STYLES = ("|", ">")
_HEADER_INTO_COMMENT = re.compile(r"[|>][-+0-9]*#")


def _read_otherwise_in_flow(node) -> bool:
    """A plain scalar in a flow collection that libyaml reads otherwise than PyYAML: PyYAML ends
    one at '?' (and then refuses the file) where libyaml reads on, and places an empty one
    (`{id: }`) just after its ':' where libyaml places it at the next token."""
    return isinstance(node, yaml.ScalarNode) and not node.style and (not node.value or "?" in node.value)


def _parse(text: str, shown: str, earlier: Sequence[Diagnostic] = ()) -> Document:
    """Compose and build the document; earlier problems (forbidden characters) go with any others."""
    node, problems = _read_fast(text, shown) or _read_reference(text, shown, earlier)
    if node is None:
        raise DiagnosticError(list(earlier) + [Diagnostic(shown, 1, 1, "E107", "file is empty",
                                                          "a file holds exactly one YAML mapping")])
    builder = _Builder(shown)
    data = builder.build(node, ())
    return Document(shown, data, builder.positions, builder.key_positions, builder.raw,
                    tuple(list(earlier) + problems + builder.problems))


def _read_fast(text: str, shown: str) -> tuple[Any, list[Diagnostic]] | None:
    """The document's node read through libyaml, or None to leave the text to the reference reader.

    libyaml gives the same events at the same lines and columns as PyYAML's own parser, but
    words its errors otherwise and reads a few things otherwise (_READ_OTHERWISE_BY_LIBYAML,
    _read_otherwise_in_flow). So it reads only text the two read alike, and only a clean file
    is taken from it: anything it refuses or the strict composer would report (a syntax error,
    an anchor, an alias, a tag, a second document, an empty file) is read again by the
    reference reader, whose messages and positions are the ones diagnostics give. Such files
    are rare, and reading one twice costs little.
    """
    if _CParser is None or _READ_OTHERWISE_BY_LIBYAML.search(text):
        return None
    parser = _CParser(text)
    try:
        parser.get_event()  # the stream's start
        if parser.check_event(yaml.StreamEndEvent):
            return None  # empty
        parser.get_event()  # the document's start
        node = _compose_clean(parser, text)
        parser.get_event()  # the document's end
        if not parser.check_event(yaml.StreamEndEvent):
            return None  # a second document
    except (yaml.YAMLError, RecursionError, _LeaveToReference):
        return None
    finally:
        parser.dispose()
    return node, []


def _read_reference(text: str, shown: str, earlier: Sequence[Diagnostic]) -> tuple[Any, list[Diagnostic]]:
    """The document's node read by PyYAML's pure-Python parser, with the dialect problems found."""
    composer = _StrictComposer(text, shown)
    try:
        node = _compose(composer, shown)
    except DiagnosticError as error:
        raise DiagnosticError(list(earlier) + error.diagnostics) from None
    return node, composer.problems + composer.anchor_problems()


def _compose(composer: "_StrictComposer", shown: str):
    """The single node of the stream, or None when it is empty; E103 or E107 when it is not YAML."""
    try:
        return composer.get_single_node()
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
        if node.style:  # quoted or block scalar: always text (plain is None from PyYAML, '' from libyaml)
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
        # Checked before int(): Python refuses to convert more than 4,300 digits, and the
        # rules engine compares whole numbers reliably only below 2**53.
        if len(text.lstrip("+-")) > _MAX_INT_DIGITS or abs(int(text)) >= _SAFE_INT:
            return text, (f"'{_clip(text)}' is too large a number: whole numbers must be below 2**53 "
                          f"({_SAFE_INT - 1:,})", "write a smaller number, or quote it for text")
        return int(text), None
    if _FLOAT.fullmatch(text) and any(ch.isdigit() for ch in text):
        value = float(text)
        if not math.isfinite(value):
            return text, (f"'{_clip(text)}' is too large a number", "write a smaller number, or quote it for text")
        return value, None
    return text, None


_SAFE_INT = 2**53
_MAX_INT_DIGITS = len(str(_SAFE_INT))


def _clip(text: str) -> str:
    return text if len(text) <= 40 else f"{text[:20]}...{text[-8:]} ({len(text):,} characters)"


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
