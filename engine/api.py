"""The Python API: what the `arbiter` command is built on, for a notebook or another system.

Scoring, the core (README.md, "Python API", runs this in the tests):

    import engine
    catalog = engine.load_catalog("path/to/project")             # the folder holding criteria/
    scored = engine.score(catalog, "cases/kent-2007/child-abuse.yaml")
    scored.decisions[0].outcome                                   # 'fair': a frozen decision record
    scored.json_lines()                                           # as `arbiter score --format json`
    with engine.open_ledger("arbiter-ledger.sqlite") as ledger:
        engine.record(ledger, [scored])

`score` takes a case or appointment evidence file, or the same data as a dict. Then one
function per command: validate, compile_all, run_tests, scoresheet, read_decisions,
summarise, compare, and the ledger's verify, head, log, show, replay, override, purge_plan
and purge. A user's mistake raises DiagnosticError holding every problem found (file:line:col
or field, a stable code and a hint); a failure of the rules engine itself raises EngineError.
"""

from __future__ import annotations

import dataclasses
import datetime
import importlib
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Iterator, Mapping, Optional, Sequence

from .language.diagnostics import Diagnostic, DiagnosticError, render_all, sorted_unique
from .ledger.store import DEFAULT_LEDGER, LEDGER_ENV, is_server_location, ledger_location, open_store

if TYPE_CHECKING:
    from .language.canonical import ENGINE_VERSION as __version__
    from .language.catalog import Catalog
    from .ledger.audit import LogRow, PurgePlan, Recorded, Replay
    from .ledger.chain import SCHEMA_VERSION, Entry
    from .ledger.ledger import Ledger, Verification
    from .ledger.postgres import PostgresLedger
    from .ledger.postgres_setup import SetupPlan
    from .ledger.store import Store
    from .ledger.transfer import Copied
    from .lint import LintReport
    from .lint.findings import LintFinding
    from .report.sources import Source
    from .runtime.durable import EngineError
    from .workspace.add_criterion import Addition
    from .workspace.compare import Comparison, Decision, Distribution
    from .workspace.impact import DecisionChange, Impact
    from .workspace.runner import Reproduction, Scored, TestResult

# The names this module exports from the parts below, each with the module that defines it.
# They, and the parts each function calls, are imported on first use: `import engine` and
# `arbiter --help` load no models, no ledger driver, no spreadsheet or template library, and
# each command loads what it calls and nothing else.
_EXPORTED_FROM = {
    "__version__": ("language.canonical", "ENGINE_VERSION"),
    "Catalog": ("language.catalog", "Catalog"),
    "Scored": ("workspace.runner", "Scored"),
    "TestResult": ("workspace.runner", "TestResult"),
    "Reproduction": ("workspace.runner", "Reproduction"),
    "Ledger": ("ledger.ledger", "Ledger"),
    "Verification": ("ledger.ledger", "Verification"),
    "Entry": ("ledger.chain", "Entry"),
    "SCHEMA_VERSION": ("ledger.chain", "SCHEMA_VERSION"),
    "PostgresLedger": ("ledger.postgres", "PostgresLedger"),
    "Store": ("ledger.store", "Store"),
    "EngineError": ("runtime.durable", "EngineError"),
    "LogRow": ("ledger.audit", "LogRow"),
    "PurgePlan": ("ledger.audit", "PurgePlan"),
    "Recorded": ("ledger.audit", "Recorded"),
    "Replay": ("ledger.audit", "Replay"),
    "Copied": ("ledger.transfer", "Copied"),
    "SetupPlan": ("ledger.postgres_setup", "SetupPlan"),
    "LintReport": ("lint", "LintReport"),
    "LintFinding": ("lint.findings", "LintFinding"),
    "Source": ("report.sources", "Source"),
    "Comparison": ("workspace.compare", "Comparison"),
    "Decision": ("workspace.compare", "Decision"),
    "Distribution": ("workspace.compare", "Distribution"),
    "Addition": ("workspace.add_criterion", "Addition"),
    "Impact": ("workspace.impact", "Impact"),
    "DecisionChange": ("workspace.impact", "DecisionChange"),
}


def __getattr__(name: str) -> Any:
    """An exported name defined in a part below, imported the first time it is asked for."""
    if name not in _EXPORTED_FROM:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    module, attribute = _EXPORTED_FROM[name]
    value = getattr(importlib.import_module(f"{__package__}.{module}"), attribute)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_EXPORTED_FROM))


__all__ = [
    # scoring, the core
    "__version__", "Catalog", "load_catalog", "find_catalog", "score", "score_files", "Scored",
    "Ledger", "PostgresLedger", "Store", "open_ledger", "ledger_location", "is_server_location", "record", "Entry",
    # problems
    "Diagnostic", "DiagnosticError", "EngineError", "render_all", "sorted_unique",
    # the other commands, one function each
    "validate", "compile_all", "run_tests", "parse_jobs", "TestResult", "reproduction", "Reproduction", "scoresheet", "write_scoresheet",
    "scoresheet_workbook", "import_scoresheet",
    "new_case", "write_new_case",
    "read_decisions", "summarise", "Distribution", "compare", "Comparison", "Decision",
    "verify", "Verification", "head", "log", "LogRow", "show", "replay", "Replay", "override",
    "purge_plan", "PurgePlan", "purge", "DEFAULT_LEDGER", "LEDGER_ENV",
    "record_decisions", "Recorded", "open_ledger_to_upgrade", "upgrade_plan", "upgrade", "SCHEMA_VERSION",
    "export", "write_export", "log_lines", "copy_ledger", "Copied", "plan_ledger_setup", "set_up_ledger", "SetupPlan",
    "lint", "LintReport", "LintFinding", "write_witnesses", "render_lint", "render_github",
    "impact", "Impact", "DecisionChange", "plan_addition", "Addition", "write_addition",
    "report_sources", "Source", "render_report", "render_letters", "render_summary_html", "write_report",
    "write_letters", "refuse_taken", "require_pdf_printer", "print_pdf",
]


# --- scoring, the core -----------------------------------------------------------------------

def load_catalog(folder: str | Path) -> Catalog:
    """The project at folder: its criteria/ (and rules/, cases/) found by id."""
    from .language.catalog import Catalog
    return Catalog.for_path(Path(folder), Path(folder))


def find_catalog(near: Optional[Path] = None, root: Optional[Path] = None) -> Catalog:
    """The project named by root, else the nearest folder holding criteria/ above `near` or
    the working folder (as the commands find it, with --root naming it)."""
    from .language.catalog import Catalog
    return Catalog.for_path(near or Path.cwd(), root)


def score(catalog: Catalog, evidence: str | Path | Mapping[str, Any],
          ledger: Optional[str | Path | Ledger] = None) -> Scored:
    """Score one case or appointment evidence record: a file, or its data as a dict (problems
    in data are located by field: `evidence.findings[2].criterion`). A case whose sub-areas
    take grades from other decisions has those decided first (`scored.inputs`); one linked by
    `decision_id:` is read from the ledger (default: as open_ledger finds it)."""
    from .workspace import runner
    if isinstance(evidence, Mapping):
        return runner.score_data(dict(evidence), catalog, recorded=_recorded(ledger))
    return runner.score_file(Path(evidence), catalog, _recorded(ledger))


def score_files(catalog: Catalog, paths: Sequence[Path],
                ledger: Optional[str | Path | Ledger] = None, jobs: int = 1,
                progress: Optional[Callable[[int, int], None]] = None,
                sources: bool = True) -> tuple[list[Scored], list[Diagnostic]]:
    """Score every case below paths (and the cases they take sub-area grades from, each once,
    just before the first that needs it); the problems of the files that could not be scored,
    rather than stopping at the first. jobs > 1 spreads the files over that many processes, with
    the same results in the same order (progress(done, total) hears of each chunk done); there,
    sources=False leaves out `Scored.source`, the loaded evidence `record` needs, to save copying it."""
    from .workspace import parallel
    return parallel.score_paths(list(paths), catalog, jobs, _recorded(ledger), progress, sources)


def _recorded(ledger: Optional[str | Path | Ledger]) -> Callable[[str], Any]:
    """Decisions named by `decision_id:`, found in the ledger, which is opened for reading only
    when a case names one, and closed again once the decision is read."""
    if ledger is not None and not isinstance(ledger, (str, Path)):  # a ledger opened already
        from .ledger import audit
        return audit.recorded_input(ledger)

    def lookup(decision_id: str) -> Any:
        from .ledger import audit
        with open_ledger(ledger, "read") as opened:
            return audit.recorded_input(opened)(decision_id)
    return lookup


def open_ledger(path: Optional[str | Path] = None, mode: str = "write", actor: Optional[str] = None) -> Store:
    """The ledger at path, a file or a postgresql:// URL (default: $ARBITER_LEDGER, else
    ./arbiter-ledger.sqlite). mode: "write" starts a SQLite ledger where no file exists (a
    server ledger is created once by `arbiter ledger init --postgres`); "append" needs an
    existing one; "read" and "verify" never write (verify opens a damaged ledger, to say where
    it breaks). actor: who records (default: $ARBITER_ACTOR, else the operating system's user)."""
    return open_store(ledger_location(path), mode, actor)


def record(ledger: Ledger, scored: Sequence[Scored], by: Optional[str] = None,
           reason: Optional[str] = None) -> list[Entry]:
    """Append every decision of every scored record, with what is needed to replay it, in one
    transaction. A decision that revises a recorded one (the same case, record kind and
    subject, other evidence) names what it supersedes, and needs `by` (who records it) and
    may give a `reason`; without `by` nothing is recorded (E174). A decision whose subject's
    latest recorded decision has the same id is not recorded again (`record_decisions` says which)."""
    from .ledger import audit
    return audit.record_results(ledger, list(scored), by, reason)


def record_decisions(ledger: Ledger, scored: Sequence[Scored], by: Optional[str] = None,
                     reason: Optional[str] = None) -> Recorded:
    """As `record`, and the decisions found recorded already, with the entries holding them."""
    from .ledger import audit
    return audit.record_decisions(ledger, list(scored), by, reason)


# --- the other commands ------------------------------------------------------------------

def validate(catalog: Catalog, paths: Sequence[Path]) -> tuple[int, list[Diagnostic]]:
    """(files checked, every problem) for criteria and case files and folders of them."""
    from .workspace import runner
    return runner.validate_paths(list(paths), catalog)


def compile_all(catalog: Catalog, check_only: bool = False) -> tuple[list[str], list[Diagnostic], int]:
    """Compile every criteria set and process to rules/: (ids written or stale, problems, total)."""
    from .workspace import runner
    return runner.compile_all(catalog, check_only)


def parse_jobs(text: str) -> int:
    """A number of processes as written after --jobs: a whole number, 1 or more, or `auto` (one
    per core this process may use); anything else raises DiagnosticError (E174, at --jobs)."""
    from .workspace import parallel
    return parallel.parse_jobs(text)


def run_tests(catalog: Catalog, paths: Sequence[Path], update: bool = False, jobs: int = 1,
              progress: Optional[Callable[[int, int], None]] = None) -> list[TestResult]:
    """Each case against its expectation, through durable-rules and the oracle; each invalid
    case against its expected diagnostics (update writes those that are missing). jobs > 1
    spreads the files over that many processes, with the same results in the same order."""
    from .workspace import parallel
    return parallel.run_tests(list(paths), catalog, jobs, update, progress)


def reproduction(results: Sequence[TestResult]) -> Reproduction:
    """Of the published grades among the cases run: how many the rules reproduce, and how many
    only the published grade recorded as a judgement does."""
    from .workspace import runner
    return runner.reproduction(list(results))


def scoresheet(catalog: Catalog, process: str, candidates: list[str], panel: list[str],
               sheet_id: Optional[str] = None, output: Optional[Path] = None) -> str:
    """A blank appointment evidence file for a selection process."""
    from .workspace import runner
    return runner.make_scoresheet(catalog, process, candidates, panel, sheet_id, output)


def write_scoresheet(output: Path, text: str | bytes) -> None:
    """Write a scoresheet (YAML text, or a workbook's bytes) where no file is (never over one,
    nor through a link)."""
    from .workspace import runner
    runner.write_scoresheet(output, text)


def scoresheet_workbook(catalog: Catalog, process: str, candidates: Optional[list[str]] = None,
                        panel: Optional[list[str]] = None, sheet_id: Optional[str] = None,
                        output: Optional[Path] = None, source: Optional[Path] = None) -> bytes:
    """The scoresheet as an .xlsx workbook: one sheet per candidate, rating drop-downs from the
    rating scale, only the input cells unlocked; blank, or filled from an evidence file (source)."""
    from .workspace import runner
    return runner.make_workbook(catalog, process, candidates, panel, sheet_id, output, source)


def import_scoresheet(catalog: Catalog, path: Path, output: Optional[Path] = None, sheet_id: Optional[str] = None,
                      process: Optional[str] = None, panel: Optional[list[str]] = None) -> str:
    """The evidence file (YAML) a filled workbook or CSV file of ratings holds, checked as
    `score` checks it; every problem at its sheet and cell (or CSV line and field)."""
    from .workspace import runner
    return runner.import_scoresheet(catalog, path, output, sheet_id, process, panel)


def new_case(catalog: Catalog, criteria_set: str, subject: str, case_id: Optional[str] = None,
             output: Optional[Path] = None) -> str:
    """A blank inspection evidence record for a criteria set: every criterion, factor and
    sub-area to fill in; refused at each blank line until it is filled."""
    from .inspections import blank
    return blank.new_case(catalog, criteria_set, subject, case_id, output)


def write_new_case(output: Path, text: str) -> None:
    """Write a blank record where no file is (never over one, nor through a link)."""
    from .inspections import blank
    blank.write_new_case(output, text)


def read_decisions(catalog: Catalog, paths: Sequence[Path]) -> list[Decision]:
    """Decision records from JSON Lines files, or from case files scored first."""
    from .workspace import compare as comparing
    from .workspace import runner
    return comparing.read_decisions(list(paths), catalog, runner.score_paths)


def summarise(catalog: Catalog, records: list[dict[str, Any]]) -> list[Distribution]:
    """The grade distribution per area, one table per framework."""
    from .workspace import compare as comparing
    return comparing.summary(records, catalog)


def compare(catalog: Catalog, first: Path, second: Path) -> Comparison:
    """Two graded decisions compared; refused across frameworks with no declared mapping."""
    from .workspace import compare as comparing
    from .workspace import runner
    return comparing.compare(*comparing.decisions_to_compare(first, second, catalog, runner.score_paths), catalog)


def verify(ledger: Ledger, head_hash: Optional[str] = None) -> Verification:
    """Every entry's hash link and every blob checked; the first break named."""
    return ledger.verify(head_hash)


def head(ledger: Ledger) -> str:
    return ledger.head()


def log(ledger: Ledger, framework: Optional[str] = None, subject: Optional[str] = None, outcome: Optional[str] = None,
        since: Optional[datetime.date] = None, until: Optional[datetime.date] = None,
        actor: Optional[str] = None) -> list[LogRow]:
    from .ledger import audit
    return audit.log(ledger, framework, subject, outcome, since, until, actor)


def open_ledger_to_upgrade(path: Optional[str | Path] = None) -> Store:
    """The ledger at path opened to upgrade: a SQLite file an earlier release wrote is accepted
    (and only here); a server ledger is always at the current schema."""
    from .ledger.ledger import Ledger
    location = ledger_location(path)
    return open_store(location, "read") if is_server_location(location) else Ledger.open_for_upgrading(location)


def upgrade_plan(ledger: Store) -> Optional[str]:
    """What upgrading would change; None when the ledger is at the current schema already."""
    from .ledger.chain import FORMAT, SCHEMA_VERSION
    version = ledger.schema_version()
    if version == SCHEMA_VERSION:
        return None
    count = sum(1 for _ in ledger.entries())
    return (f"{ledger.path}: schema {version} -> {SCHEMA_VERSION} ({FORMAT}), in one transaction: add who recorded each "
            f"entry and from which machine (empty for the {count} entries held, which keep the hash recipe they were "
            f"written with); verified before and after")


def upgrade(ledger: Store) -> Optional[Verification]:
    """Migrate a ledger an earlier release wrote, in place and in one transaction; None when it
    is current (nothing changed), else the verification after the upgrade."""
    from .ledger.chain import SCHEMA_VERSION
    return None if ledger.schema_version() == SCHEMA_VERSION else ledger.upgrade()


def show(ledger: Ledger, decision: str, reveal: bool = False) -> str:
    from .ledger import audit
    return audit.show(ledger, decision, reveal)


def replay(ledger: Ledger, decision: str, catalog: Optional[Catalog] = None) -> Replay:
    """A recorded decision re-run from its stored ruleset, or with catalog's criteria today."""
    from .ledger import audit
    return audit.replay(ledger, decision, catalog)


def override(ledger: Ledger, decision: str, outcome: str, rationale: str, by: str) -> Entry:
    from .ledger import audit
    return audit.override(ledger, decision, outcome, rationale, by)


def purge_plan(ledger: Ledger, before: datetime.date) -> PurgePlan:
    """What purging personal data recorded before a date would erase (nothing is erased)."""
    from .ledger import audit
    return audit.purge_plan(ledger, before)


def purge(ledger: Ledger, plan: PurgePlan) -> Optional[Entry]:
    from .ledger import audit
    return audit.purge(ledger, plan)


def export(ledger: Ledger) -> Iterator[str]:
    """Every entry with its fields and the blobs it rests on, as JSON Lines (transfer.py)."""
    from .ledger import transfer
    return transfer.export_lines(ledger)


def write_export(ledger: Ledger, output: Path) -> None:
    """The export written to a new file, whole or not at all; never over a file (E117 at --output)."""
    from .language.output import write_new_file_from
    from .ledger import transfer
    write_new_file_from(output, transfer.export_lines(ledger), "--output")


def log_lines(rows: Sequence[LogRow], fmt: str) -> str:
    """`log`'s rows for other tools: fmt "jsonl" (one object a line) or "csv" (with a header)."""
    from .ledger import transfer
    return {"jsonl": transfer.log_jsonl, "csv": transfer.log_csv}[fmt](rows)


def copy_ledger(source: str | Path, destination: str | Path) -> Copied:
    """Append every entry of the ledger at source that the one at destination lacks, exactly
    as it is (a new destination is started; one holding other entries is refused, E184)."""
    from .ledger import transfer
    source, destination = _named_location(source, "SRC"), _named_location(destination, "DST")
    with open_ledger(source, "read") as reading:
        checked = transfer.verified_source(reading)  # before a new destination is started
        with open_ledger(destination, "write") as writing:
            return transfer.copy(reading, writing, checked)


def plan_ledger_setup(location: Optional[str], logins: Mapping[str, Optional[str]]) -> SetupPlan:
    """What `arbiter ledger init --postgres` would create in the PostgreSQL database at location
    (--ledger, else $ARBITER_LEDGER): the schema, the group roles, and a login role in each
    group role named in logins ({"arbiter_writer": NAME or None, ...}). Changes nothing."""
    from .ledger import postgres_setup
    where = ledger_location(location)
    if not is_server_location(where):
        named_by_environment = location is None and bool(os.environ.get(LEDGER_ENV))
        raise DiagnosticError([Diagnostic(f"${LEDGER_ENV}" if named_by_environment else "--ledger", 0, 0, "E174",
                                          f"{where} is a file: only a PostgreSQL ledger is set up by init",
                                          "give the database as --ledger postgresql://USER@HOST/DATABASE; a SQLite "
                                          "ledger needs no setup (score --record starts one)")])
    return postgres_setup.plan_setup(where, dict(logins))


def set_up_ledger(plan: SetupPlan) -> None:
    """Create what the plan found missing, in one transaction."""
    from .ledger import postgres_setup
    postgres_setup.apply_setup(plan)


def _named_location(text: str | Path, argument: str) -> str | Path:
    """A ledger location given as an argument: a mistake in it is reported at the argument's name."""
    try:
        return ledger_location(text)
    except DiagnosticError as error:
        raise DiagnosticError([dataclasses.replace(d, path=argument) for d in error.diagnostics]) from None


def impact(catalog: Catalog, paths: Sequence[Path] = (), base: Optional[str] = None, base_dir: Optional[Path] = None,
           jobs: int = 1, ledger: Optional[str | Path] = None,
           progress: Optional[Callable[[int, int], None]] = None) -> Impact:
    """Every case below paths (default: cases/) graded under the criteria at a git revision
    (base, default HEAD; read with git, never checked out) or in another folder (base_dir), and
    under the working criteria: the decisions whose outcome, limiter or margin changed. With a
    ledger, its recorded decisions too, their stored evidence graded both ways."""
    from .language.catalog import Catalog
    from .ledger import impact as recorded_impact
    from .workspace import impact as impacts
    impacts.check_jobs(jobs)
    if base is not None and base_dir is not None:
        raise DiagnosticError([Diagnostic("--base", 0, 0, "E174", "--base and --base-dir name two bases",
                                          "give one of them")])
    with impacts.base_folder(catalog.root, base, base_dir) as found:
        result = impacts.impact(catalog, found, list(paths), jobs, progress)
        if ledger is not None:
            with open_ledger(ledger, "read") as opened:
                result = impacts.with_recorded(result, recorded_impact.recorded_changes(
                    opened, Catalog(found.root), catalog))
    return result


# --- lint ----------------------------------------------------------------------------------

def lint(catalog: Catalog, paths: Sequence[Path] = ()) -> LintReport:
    """Lint criteria sets and frameworks (files or folders; default: the whole criteria/):
    every finding, with its code, place, severity and witness, reviewed exceptions applied.
    Invalid files raise DiagnosticError."""
    from .lint import lint as lint_stage
    return lint_stage(catalog, list(paths))


def write_witnesses(report: LintReport, folder: Path) -> tuple[Optional[Path], ...]:
    """Each finding's witness as a case file under folder/<criteria set>/ (None for a finding
    without one); never over a file, nor through a link (E117, before anything is written)."""
    from .lint import written as lint_witness
    return lint_witness.write_witnesses(report.findings, folder)


def render_lint(report: LintReport, fmt: str = "text", witnesses: Sequence[Optional[Path]] = ()) -> str:
    """A lint report as text, json or github (workflow annotations)."""
    from .lint import render as lint_render
    return lint_render.render(report, fmt, witnesses)


def render_github(diagnostics: Sequence[Diagnostic]) -> str:
    """Diagnostics as GitHub workflow annotations (`validate --format github`)."""
    from .lint import render as lint_render
    return lint_render.github_diagnostics(diagnostics)


def plan_addition(catalog: Catalog, criterion: str) -> Addition:
    """The text edits that give every case of a criterion's set a not_assessed finding for it,
    each checked to parse and validate (every problem at once when any would not); nothing written."""
    from .workspace import add_criterion as adding
    return adding.plan_addition(catalog, criterion)


def write_addition(addition: Addition) -> list[Path]:
    """Write the planned edits, each file atomically; the files written."""
    from .workspace import add_criterion as adding
    return adding.write_addition(addition)


# --- reports -------------------------------------------------------------------------------

def report_sources(catalog: Catalog, decisions: Sequence[str], ledger: Optional[str | Path] = None) -> list[Source]:
    """The decisions to report, each with what is held beside its record: case or evidence
    files (scored now, with their evidence and criteria), JSON Lines records, or ledger ids
    (with their stored evidence and criteria); every problem at once."""
    from .report import sources as report_inputs
    from .workspace import runner
    return report_inputs.gather(catalog, [str(d) for d in decisions], runner.score_paths,
                                 lambda: open_ledger(ledger, "read"))


def render_report(sources: Sequence[Source], reveal: bool = False) -> str:
    """One self-contained HTML report of the decisions (styles inline, charts inline SVG,
    nothing fetched); names only with reveal."""
    from .report import render as report_render
    return report_render.render_report(list(sources), reveal)


def render_letters(sources: Sequence[Source], reveal: bool = False) -> list[tuple[str, str]]:
    """(file name, HTML) of a feedback letter per candidate of each selection given."""
    from .report import render as report_render
    return report_render.render_letters(list(sources), reveal)


def render_summary_html(distributions: Sequence[Distribution]) -> str:
    """`summary --format html`: a bar chart per framework, with its table and provenance."""
    from .report import render as report_render
    return report_render.render_summary(list(distributions))


def write_report(output: Path, html: str, option: str = "--output") -> None:
    """Write a report where no file is (never over one, nor through a link)."""
    from .report import render as report_render
    report_render.write_report(output, html, option)


def refuse_taken(planned: Sequence[tuple[str, Path]]) -> None:
    """Every (option, file) a report command will write, refused at once if any is in the way."""
    from .report import render as report_render
    report_render.refuse_taken(list(planned))


def write_letters(folder: Path, letters: Sequence[tuple[str, str]]) -> list[Path]:
    """Each letter as a new file in folder; none when any would overwrite a file."""
    from .report import render as report_render
    return report_render.write_letters(folder, list(letters))


def require_pdf_printer() -> None:
    """Refused (E174 at --pdf) when Chromium or Playwright is missing: asked before anything is written."""
    from .report import pdf as report_pdf
    report_pdf.require_printer()


def print_pdf(html: str, output: Path) -> None:
    """A report printed to a new PDF file by headless Chromium (needs the `pdf` extra)."""
    from .report import pdf as report_pdf
    report_pdf.print_pdf(html, output)
