"""Decisions that feed decisions: a case's sub-area may take its grade from another decision.

A sub-area written `q2: {decision: <case id>}` takes the outcome of the case with that id,
decided in the same run; `q2: {decision_id: <id>}` takes the outcome of a decision recorded
in the ledger. The cases reachable through `decision:` links form a graph (a decision
requirements graph), which is checked before anything is decided:

    a link to no case under cases/    E120, with a did-you-mean
    an input on another scale         E181, at the link
    a cycle (a feeds b feeds a)       E180, at one link of the cycle, naming the whole cycle
    a recorded id the ledger lacks    E171, at the link
    an input with no grade            E182, at the link (its outcome is not a level of the scale)

Then each case is decided once, inputs first, in one order that does not depend on the order
the files were given in: each is its own durable-rules decision (cases.score), with every
input's final outcome substituted as the sub-area's grade. The substituted entry keeps both
links and the sha256 of the input's record, so the dependent's evidence hash, and with it its
decision id, changes whenever an input decision does.
"""

from __future__ import annotations

import heapq
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Callable, Iterator, Mapping, Optional

from ..language.canonical import canonical_json, sha256_bytes
from ..language.catalog import Catalog, Loaded, declared_kind
from ..language.diagnostics import Diagnostic, DiagnosticError, did_you_mean
from ..language.load import is_regular_file
from ..language.models import Case, SubgradeEntry
from .cases import LoadedCase


@dataclass(frozen=True)
class InputDecision:
    """A decision whose outcome feeds a sub-area: taken in this run, or read from the ledger."""

    case: str
    decision_id: str
    record_sha256: str  # sha256 of the record's canonical JSON: the hash the ledger keeps it under
    outcome: str
    scale: str  # the scale its outcome is a level of

    @classmethod
    def of_record(cls, record: Mapping, scale: str) -> "InputDecision":
        return cls(record["case"], record["decision_id"], sha256_bytes(canonical_json(record)), record["outcome"], scale)


RecordedInput = Callable[[str], InputDecision]  # a ledger decision id -> that decision; E171 when absent
LoadCase = Callable[[Path, Catalog], LoadedCase]


def input_links(case: Case) -> list[tuple[str, SubgradeEntry]]:
    """The sub-areas that take their grade from a decision, by sub-area id."""
    return [(sub, case.subgrade(sub)) for sub in sorted(case.subgrades) if case.subgrade(sub).is_input]


def case_links(case: Case) -> list[tuple[str, str]]:
    """(sub-area, case id) for each `decision:` link to a case decided in the same run."""
    return [(sub, entry.decision) for sub, entry in input_links(case) if entry.decision is not None]


# --- the graph -------------------------------------------------------------------------------

@dataclass(frozen=True)
class Node:
    loaded: Optional[LoadedCase]  # None when the case's file could not be read
    problems: tuple[Diagnostic, ...] = ()


def case_path(catalog: Catalog, case_id: str) -> Path:
    return catalog.root / "cases" / f"{case_id}.yaml"


def gather(roots: Mapping[str, LoadedCase], catalog: Catalog, load: LoadCase) -> dict[str, Node]:
    """The roots and every case reachable from them through `decision:` links, by case id;
    an input is read from cases/ by its id, once."""
    nodes = {case_id: Node(loaded) for case_id, loaded in roots.items()}
    pending = sorted(roots, reverse=True)
    while pending:
        node = nodes[pending.pop()]
        for _, target in case_links(node.loaded.case) if node.loaded else ():
            if target in nodes or not is_regular_file(case_path(catalog, target)):
                continue
            try:
                nodes[target] = Node(load(case_path(catalog, target), catalog))
            except DiagnosticError as error:
                nodes[target] = Node(None, tuple(error.diagnostics))
            pending.append(target)
    return nodes


def structure_problems(nodes: Mapping[str, Node], catalog: Catalog) -> dict[str, list[Diagnostic]]:
    """Per case id, what is wrong with its links before anything is decided: unknown cases,
    inputs on another scale, and cycles."""
    found: dict[str, list[Diagnostic]] = {case_id: list(node.problems) for case_id, node in nodes.items()}
    for case_id, node in nodes.items():
        found[case_id] += list(_link_problems(node, nodes, catalog))
    for cycle in cycles(nodes):
        first = nodes[cycle[0]].loaded
        sub = next(sub for sub, target in case_links(first.case) if target == cycle[1 % len(cycle)])
        path = " -> ".join(cycle + [cycle[0]])
        problem = first.loaded.doc.diag(("subgrades", sub, "decision"), "E180",
                                        f"sub-area '{sub}' takes its grade from a decision that depends on this "
                                        f"one: {path}",
                                        "a decision cannot feed itself: give one sub-area of the cycle its grade by hand")
        for case_id in cycle:
            found[case_id].append(problem)
    return found


def _link_problems(node: Node, nodes: Mapping[str, Node], catalog: Catalog) -> Iterator[Diagnostic]:
    if node.loaded is None:
        return
    doc = node.loaded.loaded.doc
    for sub, target in case_links(node.loaded.case):
        where = ("subgrades", sub, "decision")
        if target not in nodes:
            yield doc.diag(where, "E120", f"no case '{target}' under cases/ to take sub-area '{sub}' from",
                           did_you_mean(target, case_ids(catalog))
                           or "give the id of a case under cases/: its path without .yaml")
        elif nodes[target].loaded is not None:
            problem = scale_problem(node.loaded, sub, f"case '{target}'", nodes[target].loaded.compiled.plan.scale, where)
            if problem:
                yield problem


def scale_problem(dependent: LoadedCase, sub: str, named: str, scale: str, where: tuple) -> Optional[Diagnostic]:
    """E181 when an input is graded on another scale than the dependent's sub-areas."""
    own = dependent.compiled.plan.scale
    if scale == own:
        return None
    return dependent.loaded.doc.diag(where, "E181", f"sub-area '{sub}' is graded on scale '{own}', but the decision "
                                                    f"of {named} is graded on scale '{scale}'",
                                     f"take the grade from a decision on scale '{own}', or give the grade by hand")


def case_ids(catalog: Catalog) -> list[str]:
    """Every case under cases/, by id (for a did-you-mean)."""
    def index() -> list[str]:
        folder = catalog.root / "cases"
        return [p.relative_to(folder).with_suffix("").as_posix() for p in sorted(folder.rglob("*.yaml"))
                if "invalid" not in p.relative_to(folder).parts and declared_kind(p) == "case"]
    return catalog.memo(("case ids",), index)


def cycles(nodes: Mapping[str, Node]) -> list[list[str]]:
    """Each cycle of `decision:` links once, starting at its smallest case id (so that the
    order the files were given in never changes what is reported)."""
    edges = {case_id: sorted({t for _, t in case_links(node.loaded.case) if t in nodes}) if node.loaded else []
             for case_id, node in nodes.items()}
    found: dict[tuple[str, ...], list[str]] = {}
    for start in sorted(edges):
        _walk(start, [start], edges, found)
    return [found[key] for key in sorted(found)]


def _walk(start: str, path: list[str], edges: Mapping[str, list[str]], found: dict) -> None:
    """Depth-first from start, recording a cycle back to start whose other members are all
    greater than start (so that each cycle is found from its smallest member only)."""
    for target in edges[path[-1]]:
        if target == start:
            found.setdefault(tuple(path), list(path))
        elif target > start and target not in path:
            _walk(start, path + [target], edges, found)


def decision_order(nodes: Mapping[str, Node]) -> list[str]:
    """Every case with its inputs before it, ties broken by case id; cases in a cycle (and what
    depends on them) are left out."""
    waiting = {case_id: {t for _, t in case_links(node.loaded.case)} if node.loaded else set()
               for case_id, node in nodes.items()}
    needed_by: dict[str, list[str]] = {}
    for case_id, needs in waiting.items():
        for target in needs:
            needed_by.setdefault(target, []).append(case_id)
    ready = [case_id for case_id, needs in waiting.items() if not needs]
    heapq.heapify(ready)
    order: list[str] = []
    while ready:
        case_id = heapq.heappop(ready)
        order.append(case_id)
        for dependent in needed_by.get(case_id, []):
            waiting[dependent].discard(case_id)
            if not waiting[dependent]:
                heapq.heappush(ready, dependent)
    return order


# --- deciding in order ---------------------------------------------------------------------

def resolve(loaded: LoadedCase, decided: Mapping[str, InputDecision],
            recorded: Optional[RecordedInput]) -> LoadedCase:
    """The case with each linked sub-area given its input's outcome (provenance: inspected)
    and the input's ids; a located error for an input that is missing, on another scale or
    has no grade."""
    doc = loaded.loaded.doc
    problems: list[Diagnostic] = []
    subgrades = dict(loaded.case.subgrades)
    levels = [level.id for level in loaded.compiled.plan.levels]
    for sub, entry in input_links(loaded.case):
        where = ("subgrades", sub, "decision" if entry.decision is not None else "decision_id")
        if entry.decision is None and recorded is None:
            continue  # no ledger to look in: left as written, and never decided (decide_graph)
        try:
            source = decided[entry.decision] if entry.decision is not None else recorded(entry.decision_id)
        except DiagnosticError as error:
            problems += [doc.diag(where, d.code, d.message, d.suggestion) for d in error.diagnostics]
            continue
        named = f"case '{source.case}'" if entry.decision is not None else f"decision {source.decision_id}"
        problem = scale_problem(loaded, sub, named, source.scale, where) or _ungraded(loaded, sub, named, source,
                                                                                    where, levels)
        if problem:
            problems.append(problem)
            continue
        subgrades[sub] = SubgradeEntry(grade=source.outcome, decision=source.case, decision_id=source.decision_id,
                                       record_sha256=source.record_sha256, source=entry.source)
    if problems:
        raise DiagnosticError(problems)
    case = loaded.case.model_copy(update={"subgrades": subgrades})
    return replace(loaded, case=case, loaded=Loaded(case, doc))


def _ungraded(loaded: LoadedCase, sub: str, named: str, source: InputDecision, where: tuple,
              levels: list[str]) -> Optional[Diagnostic]:
    """E182: an input whose outcome is no grade (professional judgement required, not graded)
    leaves nothing to substitute, and counting the sub-area as ungraded would let the
    dependent decision reach a grade the input never had."""
    if source.outcome in levels:
        return None
    return loaded.loaded.doc.diag(where, "E182", f"sub-area '{sub}' takes its grade from the decision of {named}, "
                                                 f"whose outcome is {source.outcome}, not a level of the scale",
                                  "record the professional judgement in that case (override:), or give this "
                                  "sub-area its grade by hand")


@dataclass(frozen=True)
class Decided:
    loaded: LoadedCase  # with every input's outcome substituted
    record: dict


@dataclass(frozen=True)
class Outcome:
    """Every case of a graph decided (or not), and each case's own problems."""

    nodes: Mapping[str, Node]
    decided: Mapping[str, Decided]
    problems: Mapping[str, list[Diagnostic]]

    def problems_of(self, case_id: str) -> list[Diagnostic]:
        """A case's problems and those of every input it needs, however far back."""
        found = [d for c in sorted(reachable(self.nodes, case_id)) for d in self.problems.get(c, [])]
        return list(dict.fromkeys(found))  # a cycle's problem belongs to each case in it: once

    def inputs_of(self, case_id: str) -> list[Decided]:
        """The decisions a case needs, however far back, inputs first."""
        needed = reachable(self.nodes, case_id) - {case_id}
        return [self.decided[c] for c in self.decided if c in needed]


def reachable(nodes: Mapping[str, Node], case_id: str) -> set[str]:
    """The case and every case it takes a grade from, however far back."""
    seen, pending = set(), [case_id]
    while pending:
        current = pending.pop()
        if current in seen or current not in nodes:
            continue
        seen.add(current)
        node = nodes[current]
        pending += [t for _, t in case_links(node.loaded.case)] if node.loaded else []
    return seen


def decide_graph(roots: Mapping[str, LoadedCase], catalog: Catalog, load: LoadCase, decide: Callable[[LoadedCase], dict],
                 recorded: Optional[RecordedInput] = None, decide_roots: bool = True) -> Outcome:
    """Check the graph of the roots and their inputs, then decide each case once, inputs first
    (decide_roots=False decides only what the roots need, as `validate` does)."""
    nodes = gather(roots, catalog, load)
    problems = structure_problems(nodes, catalog)
    inputs: dict[str, InputDecision] = {}
    decided: dict[str, Decided] = {}
    for case_id in decision_order(nodes):
        node = nodes[case_id]
        if problems[case_id] or node.loaded is None or not {t for _, t in case_links(node.loaded.case)} <= set(inputs):
            continue
        try:
            resolved = resolve(node.loaded, inputs, recorded)
        except DiagnosticError as error:
            problems[case_id] += error.diagnostics
            continue
        if case_id in roots and not decide_roots:
            continue
        unresolved = [sub for sub, entry in input_links(resolved.case) if entry.grade is None]
        if unresolved:
            problems[case_id] += [_no_ledger(resolved, sub) for sub in unresolved]
            continue
        record = decide(resolved)
        decided[case_id] = Decided(resolved, record)
        inputs[case_id] = InputDecision.of_record(record, resolved.compiled.plan.scale)
    return Outcome(nodes, decided, problems)


def _no_ledger(loaded: LoadedCase, sub: str) -> Diagnostic:
    decision_id = loaded.case.subgrade(sub).decision_id
    return loaded.loaded.doc.diag(("subgrades", sub, "decision_id"), "E171",
                                  f"no ledger was given to find decision '{decision_id}' in",
                                  "score with a ledger (arbiter score --ledger PATH), or take the grade from a case: "
                                  "decision: <case id>")
