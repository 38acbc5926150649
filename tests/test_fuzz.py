"""The law that keeps it fixed: whatever one project file says, only Arbiter's own diagnostics
come out.

Each example takes one valid file under criteria/ or cases/ (never cases/invalid/; the
national 2007 records, hundreds of one shape, are drawn less often), changes it in one way (a
line deleted, duplicated or cut short; a list item duplicated; a value of another type, a number
at the edge of what the rules compare, two values swapped, one value reused in another's place;
a control character, raw or escaped; a very long or '../' id; the file cut at a byte) in a
temporary copy of criteria/, cases/ and rules/, and runs `validate` on it, `compile --check`
and `compile` when it is a criteria file, and `score` on it or on up to three cases that use
it. Every command must end with exit 0, 1 or 2 (never 3, an engine failure), raise nothing but
SystemExit, print no traceback, and change no file: only `compile` may write, and only under
the copy's rules/. The copy is put back after each example.

The default run is derandomized (and keeps no example database), so every run tests the same
examples. ARBITER_FUZZ_EXAMPLES=N runs N examples from a random seed instead (README, Tests);
pass --hypothesis-seed to repeat one. Failures are not shrunk: the report names the file and
the one change made to it, which is the reproduction.
"""

from __future__ import annotations

import os
import re
import shutil
import stat
import traceback
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from engine.cli import main

from .conftest import ROOT

EXAMPLES_ENV = "ARBITER_FUZZ_EXAMPLES"
DEFAULT_EXAMPLES = 40
LONG_RUN = bool(os.environ.get(EXAMPLES_ENV))
EXAMPLES = int(os.environ.get(EXAMPLES_ENV) or DEFAULT_EXAMPLES)

TREES = ("criteria", "cases", "rules")
NATIONAL = "cases/national-2007/"

# Replacement values, written as YAML: every type the dialect reads, and numbers at its edges
# (a float that overflows to infinity, an int past 2**53, an int with more digits than Python
# converts by default).
RETYPED = ["0", "1", "-1", "7", "2.5", "-0.0", "1e-05", "1e999", "-1e999", "9007199254740993", "1" + "0" * 30,
           "9" * 5000, "true", "false", "null", "~", "", "[]", "[1, 2]", "[a, b]", "[[]]", "{}", "{a: 1}",
           "{id: x}", '""', '"0"', '"1"', "x", '"two words"', "'-'"]
# Characters put in raw (most are refused by the YAML reader) or inside a double-quoted value as
# an escape (then the value really holds them).
CONTROL = ["\x00", "\x01", "\x08", "\x1b", "\x7f", "\x85", "\u2028", "\ufeff", "\ufffe", "\uffff", "\ud800",
           "\udcff", "\r", "\r\n", "\t", "\n", "\x0b", "\x0c", "\U0001f600"]
LONG_IDS = ["a" * 255, "a" * 256, "x" * 1000, "/".join(["d" * 200] * 25)]
# Numbers at the edges of what the rules compare: durable-rules compares ints reliably only
# below 2**53.
NUMBERS = ["0", "-1", "1", "2", "9007199254740993", "100000000000000000000", "-100000000000000000000", "0.5", "1.0"]
MUTATIONS = ["delete line", "duplicate line", "truncate line", "duplicate item", "retype", "renumber", "swap",
             "reuse value", "raw control", "escaped control", "long id", "path id", "cut"]
_PLAIN_INT = re.compile(r"-?[0-9]+")
_ID_LIKE = re.compile(r"[a-z0-9][a-z0-9_/:-]{0,79}")


def tree_state(root: Path, trees: tuple[str, ...] | None = None) -> dict[str, str]:
    """Every file and folder below root (or below root/<tree>), by relative path: 'dir', or a
    file's size and modification time in nanoseconds.

    Reading the times instead of hashing every byte keeps an example fast, and misses nothing
    a command could do: every file was last written before the command started, so any write
    by the command gives the file a later time."""
    state: dict[str, str] = {}
    tops = [root / t for t in trees] if trees else [root]
    for top in tops:
        if not top.exists():
            continue
        for folder, dirs, files in os.walk(top):
            here = Path(folder)
            for name in dirs:
                state[(here / name).relative_to(root).as_posix()] = "dir"
            for name in files:
                info = (here / name).lstat()
                kind = "file" if stat.S_ISREG(info.st_mode) else "other"
                state[(here / name).relative_to(root).as_posix()] = f"{kind} {info.st_size} {info.st_mtime_ns}"
    return state


def changed(before: dict[str, str], after: dict[str, str]) -> list[str]:
    return sorted(k for k in before.keys() | after.keys() if before.get(k) != after.get(k))


class Project:
    """A copy of the project's files, the folder commands run in, and what the copy held.

    (Plain classes here, not dataclasses, so that a failure report shows the short repr.)"""

    def __init__(self, base: Path, pristine: dict[str, bytes], state: dict[str, str]):
        self.base, self.root, self.work = base, base / "project", base / "work"
        self.pristine, self.state, self.paths = pristine, state, sorted(state)
        yaml_files = sorted(rel for rel in pristine if rel.endswith(".yaml"))
        self.criteria = [rel for rel in yaml_files if rel.startswith("criteria/")]
        all_cases = [rel for rel in yaml_files if rel.startswith("cases/") and not rel.startswith("cases/invalid/")]
        self.national = [rel for rel in all_cases if rel.startswith(NATIONAL)]
        self.cases = [rel for rel in all_cases if not rel.startswith(NATIONAL)]
        self.dependents = _dependents(pristine, self.criteria, all_cases)

    def __repr__(self) -> str:
        return f"Project({self.root})"

    def reset(self) -> None:
        """Put back every file the example changed, added or removed."""
        for rel in sorted(changed(self.state, tree_state(self.root)), key=len, reverse=True):
            if rel not in self.state:
                _remove(self.root / rel)
        for rel in changed(self.state, tree_state(self.root)):
            path = self.root / rel
            if path.is_dir() != (self.state[rel] == "dir"):
                _remove(path)
            if self.state[rel] == "dir":
                path.mkdir(parents=True, exist_ok=True)
            else:
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_bytes(self.pristine[rel])
        for extra in [*self.work.iterdir(), *(p for p in self.base.iterdir() if p not in (self.root, self.work))]:
            _remove(extra)
        self.state = tree_state(self.root)  # the files put back have new times
        assert sorted(self.state) == self.paths


def _remove(path: Path) -> None:
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path)
    elif path.exists() or path.is_symlink():
        path.unlink()


def _aliases(rel: str) -> set[str]:
    """The ids other files use for a criteria file."""
    inside = Path(rel).relative_to("criteria").with_suffix("")
    names = {inside.as_posix()}
    if inside.name == "framework":
        names.add(inside.parent.as_posix())
    if inside.parts[0] == "scales":
        names.add(inside.name)
    return names


def _references(blob: bytes) -> set[str]:
    data = yaml.safe_load(blob)
    return {v for v in data.values() if isinstance(v, str)} if isinstance(data, dict) else set()


def _dependents(pristine: dict[str, bytes], criteria: list[str], cases: list[str]) -> dict[str, list[str]]:
    """For each criteria file, the cases that use it, directly or through other criteria files."""
    by_alias = {alias: rel for rel in criteria for alias in _aliases(rel)}
    refs = {rel: {by_alias[r] for r in _references(pristine[rel]) if r in by_alias} for rel in criteria + cases}
    dependents: dict[str, list[str]] = {rel: [] for rel in criteria}
    for case in cases:
        seen, todo = set(), list(refs[case])
        while todo:
            rel = todo.pop()
            if rel not in seen:
                seen.add(rel)
                todo += refs[rel]
        for rel in sorted(seen):
            dependents[rel].append(case)
    return dependents


@pytest.fixture(scope="session")
def project(tmp_path_factory) -> Project:
    return make_project(tmp_path_factory.mktemp("fuzz"))


def make_project(base: Path) -> Project:
    """Copy criteria/, cases/ and rules/ to base/project; commands run in base/work."""
    for tree in TREES:
        shutil.copytree(ROOT / tree, base / "project" / tree)
    (base / "work").mkdir()
    state = tree_state(base / "project")
    pristine = {rel: (base / "project" / rel).read_bytes() for rel, h in state.items() if h != "dir"}
    project = Project(base, pristine, state)
    assert project.criteria and project.cases and project.national
    return project


# ---------------------------------------------------------------- mutations


def _compose(text: str) -> yaml.Node | None:
    try:
        return yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError:
        return None


def _nodes(top: yaml.Node | None) -> list[yaml.Node]:
    """Every node below the top mapping, keys included, in document order."""
    found: list[yaml.Node] = []

    def walk(node: yaml.Node) -> None:
        if isinstance(node, yaml.MappingNode):
            for key, value in node.value:
                found.extend([key, value])
                walk(value)
        elif isinstance(node, yaml.SequenceNode):
            for item in node.value:
                found.append(item)
                walk(item)

    if top is not None:
        walk(top)
    return found


def _replace(text: str, node: yaml.Node, new: str) -> str:
    """Replace a node's text, keeping the line breaks and indentation that follow it."""
    start, end = node.start_mark.index, node.end_mark.index
    old = text[start:end]
    return text[:start] + new + old[len(old.rstrip()):] + text[end:]


def yaml_quoted(value: str) -> str:
    """A double-quoted YAML scalar holding exactly value (control characters as escapes)."""
    out = []
    for ch in value:
        if ch in '"\\':
            out.append("\\" + ch)
        elif ch.isprintable() and not 0xD800 <= ord(ch) <= 0xDFFF and ch not in "\ufeff\ufffe\uffff":
            out.append(ch)
        elif ord(ch) <= 0xFFFF:
            out.append(f"\\u{ord(ch):04x}")
        else:
            out.append(f"\\U{ord(ch):08x}")
    return '"' + "".join(out) + '"'


def _path_ids(value: str) -> list[str]:
    tail = value.rsplit("/", 1)[-1]
    return ["../" + value, "../../" + value, "/" + value, "./" + value, value + "/", value + "/..",
            f"{value}/../{tail}", "..", ".", "/", "", "../cases/" + value, "../../cases/kent-2007/child-abuse",
            "../rules/" + value, "../criteria/" + value, "scales/../" + value, "/dev/null", "/tmp",
            value.upper(), " " + value, value + " ", value.replace("-", "_"), "a\\b", "*", "~"]


class Mutation:
    """One changed file: where, its new bytes, and what was done (which is all a report shows)."""

    def __init__(self, rel: str, blob: bytes, how: str):
        self.rel, self.blob, self.how = rel, blob, how

    def __repr__(self) -> str:
        return f"{self.rel}: {self.how}"


@st.composite
def mutated(draw, blob: bytes) -> tuple[bytes, str]:
    """One change to a file: the new bytes and what was done."""
    text = blob.decode("utf-8")
    lines = text.splitlines(keepends=True)
    nodes = _nodes(_compose(text))
    scalars = [n for n in nodes if isinstance(n, yaml.ScalarNode)]
    numbers = [n for n in scalars if n.style is None and _PLAIN_INT.fullmatch(n.value)]
    ids = [n for n in scalars if _ID_LIKE.fullmatch(n.value)]
    items = [(seq, i) for seq in nodes if isinstance(seq, yaml.SequenceNode) and not seq.flow_style
             for i in range(len(seq.value))]
    kind = draw(st.sampled_from(MUTATIONS))
    if kind == "renumber" and not numbers:
        kind = "retype"
    if (kind == "reuse value" and len(ids) < 2) or (kind == "duplicate item" and not items):
        kind = "swap"
    if kind in ("retype", "swap", "escaped control", "long id", "path id") and len(scalars) < 2:
        kind = "cut"
    if kind == "delete line":
        i = draw(st.integers(0, len(lines) - 1))
        new, how = "".join(lines[:i] + lines[i + 1:]), f"line {i + 1}: {lines[i]!r}"
    elif kind == "duplicate line":
        i = draw(st.integers(0, len(lines) - 1))
        new, how = "".join(lines[:i + 1] + lines[i:]), f"line {i + 1}: {lines[i]!r}"
    elif kind == "truncate line":
        i = draw(st.integers(0, len(lines) - 1))
        body = lines[i].rstrip("\r\n")
        j = draw(st.integers(0, len(body)))
        new = "".join(lines[:i] + [body[:j] + lines[i][len(body):]] + lines[i + 1:])
        how = f"line {i + 1} keeps {j} characters: {body[:j]!r}"
    elif kind == "duplicate item":
        seq, i = draw(st.sampled_from(items))
        first = seq.value[i].start_mark.line
        last = seq.value[i + 1].start_mark.line if i + 1 < len(seq.value) else seq.end_mark.line
        last = max(last, first + 1)
        new = "".join(lines[:last] + lines[first:last] + lines[last:])
        how = f"lines {first + 1}-{last}: {lines[first].strip()[:80]!r}"
    elif kind == "renumber":
        node = draw(st.sampled_from(numbers))
        value = draw(st.sampled_from(NUMBERS + [str(int(node.value) + 1), str(int(node.value) - 1)]))
        new = _replace(text, node, value)
        how = f"line {node.start_mark.line + 1}: number {node.value} becomes {value}"
    elif kind == "reuse value":
        a, b = draw(st.sampled_from(ids)), draw(st.sampled_from(ids))
        new = _replace(text, a, yaml_quoted(b.value))
        how = f"line {a.start_mark.line + 1}: value {a.value!r} becomes {b.value!r} (from line {b.start_mark.line + 1})"
    elif kind == "retype":
        node = draw(st.sampled_from(nodes))
        value = draw(st.sampled_from(RETYPED))
        new = _replace(text, node, value)
        how = f"line {node.start_mark.line + 1}: replace {text[node.start_mark.index:node.end_mark.index][:80]!r} with {value[:80]!r}"
    elif kind == "swap":
        i = draw(st.integers(0, len(scalars) - 2))
        j = draw(st.integers(i + 1, len(scalars) - 1))
        a, b = scalars[i], scalars[j]
        if a.end_mark.index > b.start_mark.index:  # a key and its own value cannot overlap, but be safe
            new = text
        else:
            ta, tb = (text[n.start_mark.index:n.end_mark.index].rstrip() for n in (a, b))
            new = _replace(_replace(text, b, ta), a, tb)
        how = f"line {a.start_mark.line + 1} {a.value[:60]!r} with line {b.start_mark.line + 1} {b.value[:60]!r}"
    elif kind == "raw control":
        ch = draw(st.sampled_from(CONTROL))
        k = draw(st.integers(0, len(text)))
        line = text[:k].count("\n") + 1
        new, how = text[:k] + ch + text[k:], f"{ch!r} at character {k} (line {line})"
    elif kind == "escaped control":
        node = draw(st.sampled_from(scalars))
        ch = draw(st.sampled_from(CONTROL))
        k = draw(st.integers(0, len(node.value)))
        value = node.value[:k] + ch + node.value[k:]
        new = _replace(text, node, yaml_quoted(value))
        how = f"line {node.start_mark.line + 1}: value {node.value[:60]!r} becomes {yaml_quoted(value)[:80]}"
    elif kind == "long id":
        node = draw(st.sampled_from(scalars))
        long = draw(st.sampled_from(LONG_IDS + [node.value + "-" + "x" * 250, node.value + "/" + "y" * 256]))
        new = _replace(text, node, yaml_quoted(long))
        how = f"line {node.start_mark.line + 1}: value {node.value[:60]!r} becomes {len(long)} characters {long[:40]!r}..."
    elif kind == "path id":
        node = draw(st.sampled_from(scalars))
        value = draw(st.sampled_from(_path_ids(node.value)))
        new = _replace(text, node, yaml_quoted(value))
        how = f"line {node.start_mark.line + 1}: value {node.value[:60]!r} becomes {value[:100]!r}"
    else:
        k = draw(st.integers(0, max(len(blob) - 1, 0)))
        return blob[:k], f"cut: the file ends after byte {k} of {len(blob)}"
    return new.encode("utf-8", "surrogatepass"), f"{kind}: {how}"


# ---------------------------------------------------------------- the law


def invoke(project: Project, args: list[str]):
    """Run one command in process, from a working folder of its own."""
    previous = os.getcwd()
    os.chdir(project.work)
    try:
        return CliRunner().invoke(main, args, catch_exceptions=True)
    finally:
        os.chdir(previous)


def outcome_problem(result) -> str:
    """'' when a command ended as Arbiter's commands may: exit 0, 1 or 2, nothing uncaught."""
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        tail = "".join(traceback.format_exception(*result.exc_info)[-4:])
        return f"uncaught {type(result.exception).__name__}: {result.exception!s:.300}\n{tail}"
    if result.exit_code not in (0, 1, 2):
        return f"exit {result.exit_code}: {result.output[-1500:]}"
    if "Traceback" in result.output:
        return f"a traceback was printed: {result.output[-1500:]}"
    return ""


def commands(project: Project, rel: str, data) -> list[tuple[list[str], bool]]:
    """The commands an example runs, each with whether it may write (under rules/ only)."""
    root = str(project.root)
    runs: list[tuple[list[str], bool]] = [(["validate", str(project.root / rel), "--root", root], False)]
    if rel.startswith("criteria/"):
        runs += [(["compile", "--check", "--root", root], False), (["compile", "--root", root], True)]
        users = project.dependents.get(rel, [])
        targets = sorted(set(data.draw(st.lists(st.sampled_from(users), min_size=1, max_size=3)))) if users else []
    else:
        targets = [rel]
    if targets:
        fmt = data.draw(st.sampled_from(["table", "json", "markdown"]))
        explain = data.draw(st.sampled_from(["fails", "full", "off"]))
        runs.append((["score", *(str(project.root / t) for t in targets), "--format", fmt, "--explain", explain,
                      "--root", root], False))
    return runs


@st.composite
def mutations(draw, project: Project) -> Mutation:
    """A file (national records sampled less often: they all share one shape) and one change to it."""
    pool = draw(st.sampled_from(["criteria"] * 5 + ["cases"] * 4 + ["national"]))
    rel = draw(st.sampled_from(getattr(project, pool)))
    return Mutation(rel, *draw(mutated(project.pristine[rel])))


def check_mutation(project: Project, mutation: Mutation, data) -> None:
    """Write the changed file, run the commands on it, and check the law; the copy is reset after."""
    rel, blob, how = mutation.rel, mutation.blob, mutation.how
    repository = tree_state(ROOT, TREES)
    try:
        (project.root / rel).write_bytes(blob)
        expected = tree_state(project.root)
        for args, writes in commands(project, rel, data):
            shown = " ".join(a.replace(str(project.root), "<copy>") for a in args)
            result = invoke(project, args)
            problem = outcome_problem(result)
            assert not problem, f"arbiter {shown}\n{rel}: {how}\n{problem}"
            now = tree_state(project.root)
            touched = [p for p in changed(expected, now) if not (writes and p.startswith("rules/"))]
            assert not touched, f"arbiter {shown} changed files it must not: {touched[:10]}"
            expected = now
            strays = sorted(p.name for p in project.base.iterdir() if p not in (project.root, project.work))
            strays += sorted(p.name for p in project.work.iterdir())
            assert not strays, f"arbiter {shown} wrote outside the project copy: {strays}"
        moved = changed(repository, tree_state(ROOT, TREES))
        assert not moved, f"a file in the repository changed: {moved[:10]}"
    finally:
        project.reset()


# No shrinking: an example takes about a second, so shrinking would take minutes.
@settings(max_examples=EXAMPLES, deadline=None, derandomize=not LONG_RUN, database=None, print_blob=True,
          phases=(Phase.explicit, Phase.generate), suppress_health_check=list(HealthCheck))
@given(data=st.data())
def test_a_mutated_file_gives_diagnostics_never_a_crash(project, data):
    """Any one change to any one project file yields exit 0, 1 or 2 with Arbiter's own
    diagnostics: no engine failure, no uncaught exception, no traceback, and no file changed
    but rules/ on a normal compile."""
    check_mutation(project, data.draw(mutations(project)), data)
