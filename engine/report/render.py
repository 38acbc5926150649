"""HTML from the views, through Jinja2 templates with autoescape on: every value a file or a
record holds (a rationale, a note, a name) is text, never markup. One self-contained file:
the styles are inline, charts are inline SVG, and nothing is fetched (no script, font,
image or link to anything outside the file).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Optional

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from ..language.diagnostics import Diagnostic, DiagnosticError
from ..language.output import write_new_file
from .checks import candidate_view, compliance_view, hearing_view, pack_view
from .inspection import inspection_view
from .letters import letters
from .palette import stylesheet_rules
from .selection import selection_view
from .sources import Source
from .summary import summary_view

TEMPLATES = Path(__file__).parent / "templates"
APPOINTMENT_GROUP = ("candidate", "appointment")  # a selection's records: each candidate's and the process's


def environment() -> Environment:
    env = Environment(loader=FileSystemLoader(TEMPLATES), autoescape=select_autoescape(default=True,
                                                                                     default_for_string=True),
                      undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True, keep_trailing_newline=True)
    env.globals["tone_rules"] = stylesheet_rules()
    return env


def sections(sources: list[Source], reveal: bool) -> list[dict[str, Any]]:
    """One section per decision, in the order given; a selection's candidate records go with
    its process record (the same case and evidence), shown once."""
    by_selection: dict[tuple, list[dict[str, Any]]] = {}
    for source in sources:
        if source.kind == "candidate":
            by_selection.setdefault(_selection_key(source.record), []).append(source.record)
    processes = {_selection_key(s.record) for s in sources if s.kind == "appointment"}
    views = []
    for source in sources:
        kind = source.kind
        if kind == "appointment":
            views.append(selection_view(source, by_selection.get(_selection_key(source.record), []), reveal))
        elif kind == "candidate" and _selection_key(source.record) not in processes:
            views.append(candidate_view(source, reveal))
        elif kind == "hearing":
            views.append(hearing_view(source, reveal))
        elif kind == "compliance_record":
            views.append(compliance_view(source))
        elif kind == "case":
            views.append(inspection_view(source))
        elif kind == "pack":
            views.append(pack_view(source))
    return _packs_first(_unique(views))


def _packs_first(views: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Each pack, followed by the records it names (selection, compliance, hearing), then the rest."""
    by_id = {view["id"]: view for view in views}
    ordered: list[dict[str, Any]] = []
    for pack in (view for view in views if view["kind"] == "pack"):
        ordered.append(pack)
        ordered += [by_id[f"decision-{part['decision_id']}"] for part in pack["parts"]
                    if f"decision-{part['decision_id']}" in by_id]
    return ordered + [view for view in views if view not in ordered]


def _selection_key(record: dict[str, Any]) -> tuple:
    return record.get("case"), record.get("evidence_sha256")


def _unique(views: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """A decision named twice (a file and its ledger id, say) is shown once."""
    seen: set[str] = set()
    kept = []
    for view in views:
        if view["id"] not in seen:
            seen.add(view["id"])
            kept.append(view)
    return kept


def render_report(sources: list[Source], reveal: bool = False, title: Optional[str] = None) -> str:
    views = sections(sources, reveal)
    if not views:
        raise DiagnosticError([Diagnostic("DECISIONS", 0, 0, "E174", "no decision to report",
                                          "give case files, JSON Lines decisions or ledger ids")])
    whole = len(views) == 1 or views[0]["kind"] == "pack"  # one decision, or one appointment's pack
    heading = title or (views[0]["title"] if whole else f"{len(views)} decisions")
    return environment().get_template("report.html").render(title=heading, sections=views, reveal=reveal)


def render_letters(sources: list[Source], reveal: bool = False) -> list[tuple[str, str]]:
    """(file name, HTML) of each candidate's feedback letter, for every selection given; the
    file is named by pseudonym, never by name."""
    template = environment().get_template("letter.html")
    written = []
    for source in sources:
        if source.kind != "appointment":
            continue
        for letter in letters(source, reveal):
            written.append((f"feedback-{letter['candidate']}.html", template.render(letter=letter, reveal=reveal)))
    if not written:
        raise DiagnosticError([Diagnostic("--letters", 0, 0, "E174", "no selection among the decisions: no letter to write",
                                          "give a selection's evidence file, its JSON Lines records or its ledger id")])
    return written


def render_summary(distributions: list[Any]) -> str:
    return environment().get_template("summary.html").render(title="Outcomes per area", charts=summary_view(distributions))


def write_report(path: Path, html: str, option: str = "--output") -> None:
    write_new_file(path, html, option)


def refuse_taken(planned: list[tuple[str, Path]]) -> None:
    """Every (option, file) a command will write, checked before it writes any: one in the way
    stops them all (E117), so a refused letter or PDF never leaves a report half written."""
    taken = [(option, path) for option, path in planned if path.exists() or path.is_symlink()]
    if taken:
        raise DiagnosticError([Diagnostic(option, 0, 0, "E117", f"{path} exists; a file is never overwritten",
                                          "give a new or empty folder" if option == "--letters" else "give a new file name")
                               for option, path in taken])


def write_letters(folder: Path, written: list[tuple[str, str]]) -> list[Path]:
    """Each letter as a new file in folder; none is written when any is in the way (E117)."""
    paths = [folder / name for name, _ in written]
    refuse_taken([("--letters", path) for path in paths])
    for path, (_, html) in zip(paths, written):
        write_new_file(path, html, "--letters", "give a new or empty folder")
    return paths
