"""The command line: parse arguments, call the library, render. Nothing is decided here.

Exit codes: 0 ok; 1 a case did not meet its expectation (or a ruleset is stale);
2 invalid input or usage; 3 the rules engine itself failed (not a user mistake).
"""

from __future__ import annotations

import datetime
import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable

import click

from . import api
from .api import DEFAULT_LEDGER, LEDGER_ENV, Diagnostic, DiagnosticError, render_all, sorted_unique

if TYPE_CHECKING:
    from .api import Catalog, Replay, Scored


def _pydantic_without_plugins() -> None:
    """The first time pydantic builds a validator it looks for plugins among the entry points
    of every installed distribution, importing importlib.metadata to do so (PYDANTIC_DISABLE_PLUGINS
    skips the search but not the import): with the durable-rules version's own lookup, which no
    longer needs it (canonical.durable_rules_version), that cost `score --format json` of one
    case about 17 ms of its 185 of CPU time.
    A command validates criteria and cases with Arbiter's models as written, never as a
    plugin installed beside them would watch or change them, so the command line gives
    pydantic a plugin loader that finds none. Arbiter imported as a library leaves pydantic's
    own loader in place; so does a process where pydantic has loaded it already.
    tests/test_startup.py pins the name pydantic asks for."""
    import types

    loader = types.ModuleType(PYDANTIC_PLUGIN_LOADER, "Arbiter's command line: pydantic plugins are not loaded.")
    loader.get_plugins = lambda: ()
    sys.modules.setdefault(PYDANTIC_PLUGIN_LOADER, loader)


PYDANTIC_PLUGIN_LOADER = "pydantic.plugin._loader"  # pydantic.plugin._schema_validator: `from ._loader import get_plugins`
_pydantic_without_plugins()

DATE_FORM = "YYYY-MM-DD"


class IsoDate(click.ParamType):
    """A calendar date written YYYY-MM-DD; anything else ('tomorrow', '31/12/2019',
    '2024-02-30', '') is refused before any command runs."""

    name = "date"

    def convert(self, value, param, ctx) -> datetime.date:
        if isinstance(value, datetime.date):
            return value
        text = str(value)
        try:
            if len(text) != 10:
                raise ValueError(text)
            return datetime.date.fromisoformat(text)
        except ValueError:
            self.fail(f"E174: {text!r} is not a date; write it as {DATE_FORM} (e.g. 2024-06-30)", param, ctx)


ISO_DATE = IsoDate()


class HeadHash(click.ParamType):
    """A ledger head as `arbiter head` prints it: 64 lowercase hexadecimal digits."""

    name = "hash"

    def convert(self, value, param, ctx) -> str:
        text = str(value)
        if len(text) != 64 or any(ch not in "0123456789abcdef" for ch in text):
            self.fail(f"E174: {text[:80]!r} is not a head hash; give the 64 hexadecimal digits `arbiter head` "
                      "printed", param, ctx)
        return text


HEAD_HASH = HeadHash()

EXIT_OK, EXIT_EXPECTATION, EXIT_INVALID, EXIT_ENGINE = 0, 1, 2, 3

# A plain string: a ledger file's path or a postgresql:// URL, told apart by api.ledger_location.
ledger_option = click.option(
    "--ledger", type=str, default=None, metavar="FILE|URL",
    help=f"Ledger: a file, or a PostgreSQL database as postgresql://USER@HOST/DATABASE "
         f"(default: ${LEDGER_ENV}, else ./{DEFAULT_LEDGER}).")

root_option = click.option("--root", type=click.Path(file_okay=False, path_type=Path), default=None,
                           help="Project folder holding criteria/ (default: found above the files or the working folder).")


def _catalog(root: Path | None, paths: list[Path]) -> Catalog:
    return api.find_catalog(paths[0] if paths else None, root)


def _guard(action: Callable[[], int], fmt: str = "text") -> None:
    """Run a command; user mistakes become diagnostics (as GitHub annotations with fmt
    "github"), engine failures a one-line message."""
    try:
        code = action()
    except DiagnosticError as error:
        _print_diagnostics(error.diagnostics, fmt)
        code = EXIT_INVALID
    except api.EngineError as error:
        click.echo(f"arbiter: the rules engine failed: {error}", err=True)
        code = EXIT_ENGINE
    sys.exit(code)


def _print_diagnostics(diagnostics: list[Diagnostic], fmt: str = "text") -> None:
    if diagnostics and fmt == "github":  # GitHub reads workflow commands from standard output
        click.echo(api.render_github(diagnostics))
    if diagnostics:
        click.echo(render_all(diagnostics), err=True)
        count = len(sorted_unique(diagnostics))
        click.echo(f"{count} problem{'s' if count != 1 else ''} found", err=True)


def _print_version(ctx: click.Context, _param: click.Parameter, value: bool) -> None:
    """--version, as click's version option prints it; the version is looked up only when asked for."""
    if value and not ctx.resilient_parsing:
        click.echo(f"arbiter, version {api.__version__}")
        ctx.exit()


def tabulate(*args: Any, **kwargs: Any) -> str:
    """tabulate.tabulate, imported when a command prints a table rather than when any command starts."""
    from tabulate import tabulate as table
    return table(*args, **kwargs)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--version", is_flag=True, expose_value=False, is_eager=True, callback=_print_version,
              help="Show the version and exit.")
def main() -> None:
    """Arbiter grades inspection areas and appointments from declarative criteria.

    \b
    Example:
      arbiter score cases/kent-2007/missing-persons.yaml --explain full
    """


@main.command()
@click.argument("paths", nargs=-1, required=True, type=click.Path(exists=True, path_type=Path))
@click.option("--format", "fmt", type=click.Choice(["text", "github"]), default="text", show_default=True,
              help="github also prints each problem as a GitHub workflow annotation, on standard output.")
@root_option
def validate(paths: tuple[Path, ...], fmt: str, root: Path | None) -> None:
    """Check criteria and case files; print every problem with file:line:col.

    Folders are searched for *.yaml. Exit 0 when every file is valid, 2 otherwise.

    \b
    Example:
      arbiter validate criteria/ cases/kent-2007/
      arbiter validate criteria/ --format github
    """
    def action() -> int:
        checked, problems = api.validate(_catalog(root, list(paths)), list(paths))
        _print_diagnostics(problems, fmt)
        if not problems:
            click.echo(f"{checked} file{'s' if checked != 1 else ''} valid")
        return EXIT_INVALID if problems else EXIT_OK
    _guard(action, fmt)


@main.command()
@click.argument("paths", nargs=-1, type=click.Path(exists=True, path_type=Path))
@click.option("--format", "fmt", type=click.Choice(["text", "json", "github"]), default="text", show_default=True,
              help="json prints one document; github prints GitHub workflow annotations.")
@click.option("--witness", "witness_dir", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Write each finding's witness, a case file that shows it, to DIR/<criteria set>/ "
                   "(never over a file, nor through a symbolic link).")
@root_option
def lint(paths: tuple[Path, ...], fmt: str, witness_dir: Path | None, root: Path | None) -> None:
    """Find overlapping and missing grade rules, and other mistakes, in criteria sets.

    PATHS are criteria set files, framework files (every criteria set of the framework) or
    folders of them; default: the whole criteria/ folder. Every combination of counts a
    set's grade depends on is considered, so an overlap or a gap is shown, not sampled.
    Exit 0 when no error remains (warnings, and findings a reviewed `lint:` exception
    accepts, do not fail), 1 when an error remains, 2 when a file is invalid.

    \b
    Example:
      arbiter lint criteria/examples-hit-policy/ --witness lint-witnesses
      arbiter lint --format github
    """
    def action() -> int:
        catalog = _catalog(root, list(paths))
        report = api.lint(catalog, list(paths))
        witnesses = api.write_witnesses(report, witness_dir) if witness_dir is not None else ()
        click.echo(api.render_lint(report, fmt, witnesses))
        return EXIT_EXPECTATION if report.failed else EXIT_OK
    _guard(action, "github" if fmt == "github" else "text")


@main.command(name="compile")
@click.option("--check", "check_only", is_flag=True, help="Write nothing; exit 1 if a file in rules/ is stale, missing, or has no criteria set.")
@root_option
def compile_command(check_only: bool, root: Path | None) -> None:
    """Compile every criteria set under criteria/ to rules/<set>.json.

    The output is byte-for-byte deterministic, so rules/ is committed and reviewed.

    \b
    Example:
      arbiter compile --check
    """
    def action() -> int:
        changed, problems, total = api.compile_all(_catalog(root, []), check_only)
        stale = [p for p in problems if p.code in ("E140", "E141", "E142")]
        _print_diagnostics(problems)
        if len(stale) < len(problems):
            return EXIT_INVALID
        if check_only:
            if stale:
                return EXIT_EXPECTATION
            click.echo(f"{total} compiled rulesets are up to date")
            return EXIT_OK
        click.echo(f"compiled {total} criteria sets and processes; {len(changed)} file{'s' if len(changed) != 1 else ''} written")
        return EXIT_OK
    _guard(action)


@main.command()
@click.argument("cases", nargs=-1, required=True, type=click.Path(exists=True, path_type=Path))
@click.option("--format", "fmt", type=click.Choice(["table", "json", "markdown"]), default="table", show_default=True,
              help="json prints JSON Lines, one decision record per line.")
@click.option("--explain", type=click.Choice(["off", "fails", "full"]), default=None,
              help="How much explanation to print (default: fails for table and markdown; json always carries it all).")
@click.option("--record", is_flag=True, help="Append each decision to the ledger (with what is needed to replay it).")
@click.option("--by", "by", default=None,
              help="With --record: who records (default: $ARBITER_ACTOR, else the operating system's user); required "
                   "for a revision (when the ledger holds a decision about the same case and subject from other "
                   "evidence).")
@click.option("--reason", default=None, help="With --record: why a revision was made.")
@click.option("--jobs", default="1", show_default=True, metavar="N|auto",
              help="Score the files in this many processes (auto: one per core); the output is the same.")
@ledger_option
@root_option
def score(cases: tuple[Path, ...], fmt: str, explain: str | None, record: bool, by: str | None, reason: str | None,
          jobs: str, ledger: str | None, root: Path | None) -> None:
    """Grade one or more evidence records (case files) and explain the outcome.

    Exit 0 when all are scored (and meet any expectation they carry), 1 when a case's
    outcome differs from its expectation, 2 when a file is invalid.

    \b
    Example:
      arbiter score cases/kent-2007/*.yaml --format json
      arbiter score cases/kent-2007/child-abuse.yaml --explain full
      arbiter score cases/appointments/kent-cc-2022/pack.yaml --record --by "HR adviser" --reason "rating corrected"
      arbiter score cases/ --jobs 2 --format json
    """
    def action() -> int:
        _require_record_for(record, by=by, reason=reason)
        processes = api.parse_jobs(jobs)
        with _Progress() as progress:
            results, problems = api.score_files(_catalog(root, list(cases)), list(cases), ledger, processes, progress,
                                                sources=record)
        _render_scores(results, fmt, explain or ("off" if fmt == "json" else "fails"))
        _print_diagnostics(problems)
        if record and results:
            store = api.open_ledger(ledger, "write", by)
            recorded = api.record_decisions(store, results, by, reason)
            for entry in recorded.already:
                click.echo(f"decision {entry.ref} already recorded as entry {entry.seq}: not recorded again", err=True)
            click.echo(f"recorded {len(recorded.entries)} decision(s) in {store.path}; head {store.head()}", err=True)
        if problems:
            return EXIT_INVALID
        return EXIT_OK if all(r.met for r in results) else EXIT_EXPECTATION
    _guard(action)


def _require_record_for(record: bool, **given: str | None) -> None:
    """--by and --reason say who records a revision and why: they mean nothing without --record."""
    named = [f"--{option}" for option, value in given.items() if value is not None]
    if named and not record:
        raise DiagnosticError([Diagnostic(named[0], 0, 0, "E174", f"{' and '.join(named)} only "
                                          f"go{'' if len(named) > 1 else 'es'} with --record",
                                          f"add --record, or leave {'them' if len(named) > 1 else 'it'} out")])


def _render_scores(results: list[Scored], fmt: str, explain: str) -> None:
    if fmt == "json":
        for result in results:
            for line in result.json_lines():
                click.echo(line)
        return
    markdown = fmt == "markdown"
    areas = [r for r in results if r.kind == "case"]
    if areas:
        headers = ["case", "subject", "area", "outcome", "rules gave", "limiter", "expected"]
        click.echo(tabulate([_score_row(r) for r in areas], headers=headers, tablefmt="github" if markdown else "simple"))
    for result in results:
        text = result.explain(explain, markdown) if (result.kind != "case" or explain != "off") else ""
        if text:
            click.echo("")
            click.echo(text)
            if result.kind != "case" and result.expected:
                click.echo(f"Expected: {result.expected} ({'met' if result.met else 'NOT MET'})")


def _score_row(result: Scored) -> list[Any]:
    record = result.records[0]
    mark = "" if not result.expected else (f"{result.expected} (met)" if result.met else f"{result.expected} (NOT MET)")
    limiter = record["limiter"]["id"] if record["limiter"] else ""
    before = record["computed_label"] if record["override"] else (
        record["uncapped_label"] if record["uncapped_outcome"] != record["outcome"] else "")
    return [record["case"], record["subject"], record["area"], record["outcome_label"], before, limiter, mark]


@main.command()
@click.argument("process")
@click.option("--candidates", default=None, help="Candidate pseudonyms, comma-separated: cand-a,cand-b (not with --from).")
@click.option("--panel", default=None,
              help="Panel members, comma-separated, each NAME or NAME:ROLE (a bare name scores): pcc:chair,cummins:independent,hr:hr_adviser (not with --from).")
@click.option("--id", "sheet_id", default=None, help="The evidence id to write (default: from --output's place under cases/).")
@click.option("--output", "-o", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Write here (never over an existing file, nor through a symbolic link); default: standard output.")
@click.option("--format", "fmt", type=click.Choice(["yaml", "xlsx"]), default="yaml", show_default=True,
              help="xlsx writes a spreadsheet form (needs -o FILE.xlsx); read it back with `arbiter import`.")
@click.option("--from", "source", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="With --format xlsx: fill the form from this evidence file, to re-issue it.")
@root_option
def scoresheet(process: str, candidates: str | None, panel: str | None, sheet_id: str | None, output: Path | None,
               fmt: str, source: Path | None, root: Path | None) -> None:
    """Write a blank scoresheet (an appointment evidence file) for a selection process.

    Every required cell is there, commented with the behaviours at the level assessed;
    fill in ratings and rationales, then score it. With --format xlsx the scoresheet is a
    workbook: a sheet per candidate, rating drop-downs, the behaviours and the rating scale on
    the sheet, only the input cells unlocked; `arbiter import` turns it into the evidence file.

    \b
    Example:
      arbiter scoresheet appointments/kent-chief-constable-2022 --candidates cand-a,cand-b \\
        --panel pcc:chair,boughton:member,cummins:independent,hr:hr_adviser -o cases/mine/selection.yaml
      arbiter scoresheet appointments/kent-chief-constable-2022 --candidates cand-a,cand-b \\
        --panel pcc:chair,boughton:member,cummins:independent,hr:hr_adviser --format xlsx -o ratings.xlsx
      arbiter scoresheet appointments/kent-chief-constable-2022 --format xlsx \\
        --from cases/appointments/kent-cc-2022/selection.yaml -o reissued.xlsx
    """
    def action() -> int:
        catalog = _catalog(root, [output] if output else [])
        if fmt == "xlsx":
            _refuse_unless(output is not None and output.suffix.lower() == ".xlsx", "--output",
                           "a workbook is written to a file, never to the terminal", "give -o FILE.xlsx")
            blob = api.scoresheet_workbook(catalog, process, _split_or_none(candidates), _split_or_none(panel),
                                           sheet_id, output, source)
            return _print_or_write(blob, output, api.write_scoresheet)
        _refuse_unless(source is None, "--from", "only a workbook is filled from evidence", "add --format xlsx")
        for option, value in (("--candidates", candidates), ("--panel", panel)):
            _refuse_unless(value is not None, option, "missing", "e.g. --candidates cand-a,cand-b "
                           "--panel pcc:chair,cummins:independent,hr:hr_adviser")
        text = api.scoresheet(catalog, process, _split(candidates), _split(panel), sheet_id, output)
        return _print_or_write(text, output, api.write_scoresheet)
    _guard(action)


@main.command("import")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--output", "-o", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Write the evidence file here (never over an existing file, nor through a symbolic link); "
                   "default: standard output.")
@click.option("--id", "sheet_id", default=None, help="The evidence id to write (default: the workbook's; a CSV "
                                                      "file's from --output's place under cases/).")
@click.option("--process", default=None, help="A CSV file's selection process (a workbook names its own).")
@click.option("--panel", default=None, help="A CSV file's panel, as for scoresheet: pcc:chair,cummins:independent,"
                                            "hr:hr_adviser (a workbook names its own).")
@root_option
def import_(path: Path, output: Path | None, sheet_id: str | None, process: str | None, panel: str | None,
            root: Path | None) -> None:
    """Turn a filled scoresheet workbook (.xlsx) or a CSV file of ratings into an evidence file.

    The evidence is checked as `arbiter score` checks it; every problem is told at its sheet
    and cell (ratings.xlsx:cand-a!H9) or CSV line and field, all at once. Rows left blank are
    left out: cells still to fill.

    \b
    Example:
      arbiter import ratings.xlsx -o cases/mine/selection.yaml
      arbiter import ratings.csv --process appointments/kent-chief-constable-2022 \\
        --panel pcc:chair,boughton:member,cummins:independent,hr:hr_adviser -o cases/mine/selection.yaml
    """
    def action() -> int:
        catalog = _catalog(root, [path])
        text = api.import_scoresheet(catalog, path, output, sheet_id, process, _split_or_none(panel))
        return _print_or_write(text, output, api.write_scoresheet)
    _guard(action)


def _refuse_unless(holds: bool, option: str, message: str, hint: str) -> None:
    """An option missing, or given where it means nothing: E174 at the option."""
    if not holds:
        raise DiagnosticError([Diagnostic(option, 0, 0, "E174", message, hint)])


def _split_or_none(text: str | None) -> list[str] | None:
    return None if text is None else _split(text)


@main.command("new-case")
@click.argument("criteria_set")
@click.option("--subject", required=True, help="Who or what is inspected: --subject 'Kent Police'.")
@click.option("--id", "case_id", default=None, help="The case id to write (default: from --output's place under cases/).")
@click.option("--output", "-o", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Write here (never over an existing file, nor through a symbolic link); default: standard output.")
@root_option
def new_case(criteria_set: str, subject: str, case_id: str | None, output: Path | None, root: Path | None) -> None:
    """Write a blank inspection evidence record (a case file) for a criteria set.

    Every criterion is a finding to fill in, commented with its text, tier, flags and
    citations; every factor and sub-area is there too, and the header says how the rules
    will count. Left blank, a value is refused at its line; filled in, the record scores.

    \b
    Example:
      arbiter new-case hmic-2007/missing-persons --subject 'Kent Police' -o cases/mine/missing-persons.yaml
    """
    def action() -> int:
        catalog = _catalog(root, [output] if output else [])
        text = api.new_case(catalog, criteria_set, subject, case_id, output)
        return _print_or_write(text, output, api.write_new_case)
    _guard(action)


@main.command()
@click.argument("decisions", nargs=-1, required=True, type=click.Path(exists=True, path_type=Path))
@click.option("--format", "fmt", type=click.Choice(["table", "markdown", "json", "html"]), default="table", show_default=True,
              help="html is one self-contained page with a bar chart per framework.")
@click.option("--output", "-o", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="With --format html: write here (never over an existing file); default: standard output.")
@root_option
def summary(decisions: tuple[Path, ...], fmt: str, output: Path | None, root: Path | None) -> None:
    """Grade distribution per area, one table per framework (never merged across frameworks).

    DECISIONS are JSON Lines files written by `arbiter score --format json`, or case files
    and folders, which are scored first.

    \b
    Example:
      arbiter summary cases/national-2007/
      arbiter summary cases/national-2007/ --format html -o national-2007.html
    """
    def action() -> int:
        catalog = _catalog(root, list(decisions))
        records = [d.record for d in api.read_decisions(catalog, list(decisions))]
        if output is not None and fmt != "html":
            raise DiagnosticError([Diagnostic("--output", 0, 0, "E174", f"--output writes the html format, not {fmt}",
                                              "add --format html, or leave out --output to print the table")])
        if fmt == "html":
            return _print_or_write(api.render_summary_html(api.summarise(catalog, records)), output, api.write_report)
        for dist in api.summarise(catalog, records):
            if fmt == "json":
                click.echo(json.dumps({"framework": dist.framework, "columns": dist.columns,
                                       "rows": [{"area": a, "counts": c, "total": t} for a, c, t in dist.rows],
                                       "decisions": dist.decisions, "constructed": dist.constructed}))
                continue
            click.echo(f"Framework {dist.framework}")
            click.echo(tabulate([[area, *counts, total] for area, counts, total in dist.rows],
                                headers=["area", *dist.columns, "total"], tablefmt="github" if fmt == "markdown" else "simple"))
            click.echo(f"Evidence: {dist.provenance()}.")
            click.echo("")
        return EXIT_OK
    _guard(action)


@main.command()
@click.argument("decisions", nargs=-1, required=True)
@click.option("--output", "-o", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Write the HTML here (never over an existing file, nor through a symbolic link); default: standard output.")
@click.option("--reveal", is_flag=True, help="Show the names held as personal data (candidates, panel members).")
@click.option("--letters", "letters_dir", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Also write a feedback letter per candidate of each selection, as DIR/feedback-<candidate>.html.")
@click.option("--pdf", "pdf", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Also print the report to this PDF file, through headless Chromium (needs the pdf extra).")
@ledger_option
@root_option
def report(decisions: tuple[str, ...], output: Path | None, reveal: bool, letters_dir: Path | None, pdf: Path | None,
           ledger: str | None, root: Path | None) -> None:
    """Write a self-contained HTML report of decisions, to read, print and sign.

    DECISIONS are case or evidence files (scored first), JSON Lines files written by
    `arbiter score --format json`, or ids of decisions in the ledger. An inspection shows its
    grade, the rule that decided, why not each higher grade, limiters, margin, readings and
    findings; a selection its panel, a heat map of agreed ratings, flags, individual ratings
    and rationales, the outcome and a sign-off block; compliance its checklist; a hearing
    its arithmetic; an appointment pack its checks, then the records it names. Styles are
    inline and charts inline SVG: the file fetches nothing.

    \b
    Example:
      arbiter report cases/appointments/kent-cc-2022/*.yaml -o kent-2022.html --letters letters/
      arbiter report cases/kent-2007/missing-persons.yaml --pdf missing-persons.pdf -o missing-persons.html
    """
    def action() -> int:
        paths = [Path(d) for d in decisions if Path(d).exists()]
        sources = api.report_sources(_catalog(root, paths), list(decisions), ledger)
        html = api.render_report(sources, reveal)
        letters = api.render_letters(sources, reveal) if letters_dir is not None else []
        if pdf is not None:
            api.require_pdf_printer()
        api.refuse_taken([("--output", output)] * (output is not None) + [("--pdf", pdf)] * (pdf is not None)
                         + [("--letters", letters_dir / name) for name, _ in letters])
        _print_or_write(html, output, api.write_report)
        if letters_dir is not None:
            written = api.write_letters(letters_dir, letters)
            click.echo(f"wrote {len(written)} letter{'s' if len(written) != 1 else ''} in {letters_dir}", err=output is None)
        if pdf is not None:
            api.print_pdf(html, pdf)
            click.echo(f"wrote {pdf}", err=output is None)
        return EXIT_OK
    _guard(action)


@main.command(name="compare")
@click.argument("first", type=click.Path(exists=True, path_type=Path))
@click.argument("second", type=click.Path(exists=True, path_type=Path))
@root_option
def compare_command(first: Path, second: Path, root: Path | None) -> None:
    """Compare two graded decisions; refused across frameworks with no declared mapping.

    \b
    Example:
      arbiter compare cases/kent-peel/2018/q3-protecting-vulnerable-people.yaml \\
        cases/kent-peel/2021/protecting-vulnerable-people.yaml
    """
    def action() -> int:
        catalog = _catalog(root, [first])
        result = api.compare(catalog, first, second)
        click.echo(f"{result.text} ({result.mapping})")
        return EXIT_OK
    _guard(action)


@main.command()
@click.option("--head", "head", type=HEAD_HASH, default=None, help="A head hash kept elsewhere: also detects entries removed from the end.")
@ledger_option
def verify(head: str | None, ledger: str | None) -> None:
    """Check every ledger entry's hash link and every stored blob; name the first break.

    \b
    Example:
      arbiter verify --head 3f5a...e1
    """
    def action() -> int:
        store = api.open_ledger(ledger, "verify")
        result = api.verify(store, head)
        if result.ok:
            tail = f"; {result.after_head} entries after the given head" if result.after_head else ""
            click.echo(f"ledger verified: {result.entries} entries, head {result.head}{tail}")
            return EXIT_OK
        where = f"entry {result.at}: " if result.at is not None else ""
        click.echo(f"{store.path}: {where}{result.problem}", err=True)
        click.echo(f"(the chain of links was checked through entry {result.entries})", err=True)
        return EXIT_EXPECTATION
    _guard(action)


@main.command()
@ledger_option
def head(ledger: str | None) -> None:
    """Print the ledger's head hash; keep it elsewhere to detect removed entries later.

    \b
    Example:
      arbiter head > ledger-head.txt
    """
    _guard(lambda: click.echo(api.head(api.open_ledger(ledger, "read"))) or EXIT_OK)


@main.command(name="log")
@click.option("--framework", default=None, help="Only decisions under this framework (an id the ledger holds).")
@click.option("--subject", default=None, help="Only decisions about this subject.")
@click.option("--outcome", default=None,
              help="Matches the computed or the final (overridden) outcome, by id or label, ignoring case: fair, Fair.")
@click.option("--since", type=ISO_DATE, default=None, help="YYYY-MM-DD: recorded on or after this date (UTC).")
@click.option("--until", type=ISO_DATE, default=None, help="YYYY-MM-DD: recorded on or before this date (UTC).")
@click.option("--actor", default=None, help="Only decisions recorded by this actor (--by when recorded).")
@click.option("--format", "fmt", type=click.Choice(["table", "jsonl", "csv"]), default="table", show_default=True,
              help="table for people; jsonl (an object a line) or csv (with a header) for other tools.")
@ledger_option
def log_command(framework, subject, outcome, since, until, actor, fmt: str, ledger: str | None) -> None:
    """List recorded decisions, with computed outcomes and every override; a revision names
    the decisions it supersedes, and each superseded decision the revision.

    \b
    Example:
      arbiter log --framework hmic-2007 --since 2026-01-01
      arbiter log --actor "HMI J. Smith"
      arbiter log --format csv > decisions.csv
    """
    def action() -> int:
        rows = api.log(api.open_ledger(ledger, "read"), framework, subject, outcome, since, until, actor)
        if fmt != "table":
            click.echo(api.log_lines(rows, fmt), nl=False)
            return EXIT_OK
        revisions = any(r.revises or r.superseded_by for r in rows)  # the column only when there is one
        actors = any(r.actor is not None for r in rows)  # absent from a ledger an earlier release wrote
        click.echo(tabulate([[r.seq, r.recorded_at] + ([r.actor or ""] if actors else [])
                             + [r.decision_id, r.case, r.subject, r.framework, r.computed, r.override or ""]
                             + ([_revision_cell(r)] if revisions else []) for r in rows],
                            headers=["entry", "recorded"] + (["by"] if actors else [])
                            + ["decision", "case", "subject", "framework", "computed", "override"]
                            + (["revision"] if revisions else []), tablefmt="simple"))
        return EXIT_OK
    _guard(action)


def _revision_cell(row: api.LogRow) -> str:
    marks = ([f"revises {', '.join(row.revises)}"] if row.revises else []) + (
        [f"superseded by {row.superseded_by}"] if row.superseded_by else [])
    return "; ".join(marks)


@main.command(name="export")
@click.option("--output", "-o", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Write to this new file (never over an existing one); default: standard output.")
@ledger_option
def export_command(output: Path | None, ledger: str | None) -> None:
    """Write every ledger entry in order, with who recorded it, on which host and when, and
    the blobs it rests on, as JSON Lines: one object an entry, for analysis elsewhere.

    \b
    Example:
      arbiter export -o ledger.jsonl
    """
    def action() -> int:
        store = api.open_ledger(ledger, "read")
        if output is None:
            for line in api.export(store):
                click.echo(line, nl=False)
            return EXIT_OK
        api.write_export(store, output)
        click.echo(f"wrote {output}")
        return EXIT_OK
    _guard(action)


@main.command()
@click.argument("decision")
@click.option("--reveal", is_flag=True, help="Show names held as personal data (when not erased).")
@ledger_option
def show(decision: str, reveal: bool, ledger: str | None) -> None:
    """Print a recorded decision with its explanation, overrides and personal-data status;
    for a revision, who recorded it, why, and what changed, cell by cell or finding by finding.

    \b
    Example:
      arbiter show 3c9f1a2b4d5e6f70
    """
    _guard(lambda: click.echo(api.show(api.open_ledger(ledger, "read"), decision, reveal)) or EXIT_OK)


@main.command()
@click.argument("decision")
@click.option("--with-current-criteria", "current", is_flag=True,
              help="Grade the stored evidence under today's criteria files and show what changed.")
@ledger_option
@root_option
def replay(decision: str, current: bool, ledger: str | None, root: Path | None) -> None:
    """Re-run a recorded decision from the stored ruleset and evidence; exit 1 if it differs.

    \b
    Example:
      arbiter replay 3c9f1a2b4d5e6f70
      arbiter replay 3c9f1a2b4d5e6f70 --with-current-criteria
    """
    def action() -> int:
        result = api.replay(api.open_ledger(ledger, "read"), decision, _catalog(root, []) if current else None)
        if result.identical:
            chain = _inputs_replayed(result)
            click.echo(f"{result.decision_id}: byte-identical" + (" under today's criteria" if current else "")
                       + (f", with the {chain} decision(s) it takes sub-area grades from" if chain else ""))
            return EXIT_OK
        click.echo(f"{result.decision_id}: differs" + (" under today's criteria" if current else ""))
        click.echo("\n".join(f"  {line}" for line in result.differences))
        if result.cause:
            click.echo(f"  first rule that differs: {result.cause}")
        return EXIT_EXPECTATION
    _guard(action)


def _inputs_replayed(result: Replay) -> int:
    """How many input decisions were replayed before this one, however far back."""
    return sum(1 + _inputs_replayed(each) for each in result.inputs)


@main.command(name="override")
@click.argument("decision")
@click.option("--outcome", required=True, help="The final outcome, by id or label, ignoring case: poor, Poor.")
@click.option("--rationale", required=True)
@click.option("--by", "by", required=True, help="Who made the judgement; also recorded as who recorded the entry.")
@ledger_option
def override_command(decision: str, outcome: str, rationale: str, by: str, ledger: str | None) -> None:
    """Record a professional-judgement departure from a decision (the decision is kept).

    \b
    Example:
      arbiter override 3c9f1a2b4d5e6f70 --outcome poor --rationale "risk to children" --by "HMI J. Smith"
    """
    def action() -> int:
        entry = api.override(api.open_ledger(ledger, "append", by), decision, outcome, rationale, by)
        click.echo(f"override recorded as entry {entry.seq}; head {entry.hash}")
        return EXIT_OK
    _guard(action)


@main.command()
@click.option("--before", required=True, type=ISO_DATE,
              help="YYYY-MM-DD: erase personal data of decisions recorded before this date (UTC).")
@click.option("--dry-run", is_flag=True, help="Say what would be erased, and erase nothing.")
@click.option("--yes", is_flag=True, help="Erase without asking (for scripts).")
@click.option("--by", "by", default=None,
              help="Who erases (recorded on the purge entry; default: $ARBITER_ACTOR, else the operating system's user).")
@ledger_option
def purge(before, dry_run: bool, yes: bool, by: str | None, ledger: str | None) -> None:
    """Erase candidates' and panel members' personal data past its retention date.

    It cannot be undone, so it first says what it will erase and asks; --dry-run only
    says, --yes does not ask. Without --yes and with no one to ask (standard input is not
    a terminal), nothing is erased (exit 2). The whole ledger is verified first. The chain
    still verifies afterwards: the erased content's hashes stay, and a purge entry records
    what was erased and when. The file is rewritten so no erased byte remains.

    \b
    Example:
      arbiter purge --before 2023-06-01 --dry-run
      arbiter purge --before 2023-06-01 --yes --by "Data protection officer"
    """
    def action() -> int:
        store = api.open_ledger(ledger, "read" if dry_run else "append", None if dry_run else by)
        plan = api.purge_plan(store, before)
        if not plan.blobs:
            click.echo(f"nothing to erase: {plan.describe()}")
            return EXIT_OK
        click.echo(f"{'would erase' if dry_run else 'will erase'} {plan.describe()} (before {before})")
        if dry_run:
            click.echo("dry run: nothing was erased")
            return EXIT_OK
        stopped = _unless_confirmed(yes, "Erase them? This cannot be undone", "erased", "erase")
        if stopped is not None:
            return stopped
        entry = api.purge(store, plan)
        click.echo("nothing was erased: another purge erased it meanwhile" if entry is None else
                   f"erased {len(entry.refs)} personal-data blob(s); purge recorded as entry {entry.seq}")
        return EXIT_OK
    _guard(action)


def _unless_confirmed(yes: bool, question: str, done: str, verb: str) -> int | None:
    """None when the user said yes (or passed --yes); else the exit code, having said that
    nothing was done: 1 when the answer was no, 2 when there was no one to ask."""
    answer = True if yes else _confirmed(question)
    if answer is None:
        click.echo(f"arbiter: nothing was {done}: there is no one to confirm (standard input is not a terminal); "
                   f"pass --yes to {verb} without asking", err=True)
        return EXIT_INVALID
    if not answer:
        click.echo(f"nothing was {done}")
        return EXIT_EXPECTATION
    return None


def _confirmed(question: str) -> bool | None:
    """The user's yes or no; None when there is no one to ask (standard input is not a
    terminal, or it ended before an answer)."""
    if not sys.stdin.isatty():
        return None
    try:
        return click.confirm(question, default=False)
    except click.Abort:
        return None


def _print_or_write(text: str | bytes, output: Path | None, write: Callable[[Path, Any], None]) -> int:
    """A written record (a scoresheet, a blank case) to standard output, or to a new file."""
    if output is None:
        click.echo(text, nl=False)
    else:
        write(output, text)
        click.echo(f"wrote {output}")
    return EXIT_OK


def _split(text: str) -> list[str]:
    return [part.strip() for part in text.split(",") if part.strip()]


@main.command()
@click.argument("paths", nargs=-1, type=click.Path(exists=True, path_type=Path))
@click.option("--update", is_flag=True,
              help="Write expected diagnostics for invalid cases that have none yet; never overwrites one.")
@click.option("--jobs", default="1", show_default=True, metavar="N|auto",
              help="Run the files in this many processes (auto: one per core); the output is the same.")
@root_option
def test(paths: tuple[Path, ...], update: bool, jobs: str, root: Path | None) -> None:
    """Run cases against their expected outcomes (default: cases/).

    Valid cases are scored through durable-rules and through the oracle, which reads the
    criteria as written; both must reach the expected outcome by the same level, limiter
    and floor, with the same counts. Files under an invalid/ folder must
    produce exactly the diagnostics in their .expected file.

    \b
    Example:
      arbiter test cases/
      arbiter test cases/ --jobs auto
    """
    def action() -> int:
        processes = api.parse_jobs(jobs)
        catalog = _catalog(root, list(paths))
        targets = list(paths) or [catalog.root / "cases"]
        with _Progress() as progress:
            results = api.run_tests(catalog, targets, update, processes, progress)
        rows = [[r.name, r.expected, r.actual, "pass" if r.passed else "FAIL"] for r in results]
        click.echo(tabulate(rows, headers=["case", "expected", "actual", "result"], tablefmt="simple"))
        for r in results:
            if not r.passed and r.detail:
                click.echo(f"\n{r.name}:\n{r.detail}")
        failed = sum(1 for r in results if not r.passed)
        click.echo(f"\n{len(results) - failed} passed, {failed} failed")
        reproduced = api.reproduction(results)
        if reproduced.published:
            click.echo(f"{reproduced.describe()} (cases read from a report whose expect: cites the published grade)")
        return EXIT_EXPECTATION if failed else EXIT_OK
    _guard(action)



PROGRESS_MIN = 20  # case files; fewer are graded before a bar would be worth drawing


@main.command()
@click.argument("cases", nargs=-1, type=click.Path(exists=True, path_type=Path))
@click.option("--base", default=None, help="Git revision whose criteria/ to compare with (default: HEAD); read with git, never checked out.")
@click.option("--base-dir", type=click.Path(path_type=Path), default=None,
              help="Instead of --base: a folder holding the criteria/ (and cases/) to compare with.")
@click.option("--format", "fmt", type=click.Choice(["table", "json", "markdown"]), default="table", show_default=True,
              help="markdown is a pull request description; json one document.")
@click.option("--jobs", default="1", show_default=True, metavar="N|auto",
              help="Grade in this many processes (auto: one per core); the output is the same.")
@click.option("--ledger", type=str, default=None, metavar="FILE|URL",
              help="Also compare the decisions recorded in this ledger, their stored evidence graded both ways.")
@root_option
def impact(cases: tuple[Path, ...], base: str | None, base_dir: Path | None, fmt: str, jobs: str,
           ledger: str | None, root: Path | None) -> None:
    """Show which decisions an edit to the criteria changes, before it is approved.

    Every case (default: cases/) is graded through durable-rules under the criteria at the
    base and under the working tree. Each decision whose outcome, limiter or margin changed is
    listed with the first rule firing that differs and the thresholds that moved; unchanged
    decisions are counted. The base grades each case as it was at the base, or the working
    copy when the base has no such file (marked *). Exit 0, or 1 when a case that reproduces
    a published grade changes its outcome (marked PUBLISHED).

    \b
    Example:
      arbiter impact --base main --format markdown
      arbiter impact cases/kent-2007/ --base-dir ../arbiter-before
    """
    def action() -> int:
        processes = api.parse_jobs(jobs)
        catalog = _catalog(root, list(cases))
        with _Progress() as progress:
            result = api.impact(catalog, list(cases), base, base_dir, processes, ledger, progress)
        click.echo(render_impact(result, fmt))
        return EXIT_EXPECTATION if result.published_changed else EXIT_OK
    _guard(action)


class _Progress:
    """A progress bar on standard error, drawn only when it is a terminal and the run is long."""

    def __init__(self) -> None:
        self.bar: Any = None
        self.shown = 0

    def __enter__(self) -> "_Progress":
        return self

    def __call__(self, done: int, total: int) -> None:
        if self.bar is None and total > PROGRESS_MIN and sys.stderr.isatty():
            self.bar = click.progressbar(length=total, label="grading", file=sys.stderr)
            self.bar.__enter__()
        if self.bar is not None:
            self.bar.update(done - self.shown)
            self.shown = done

    def __exit__(self, *exc: Any) -> None:
        if self.bar is not None:
            self.bar.__exit__(*exc)


def render_impact(result: api.Impact, fmt: str, summary: bool = True) -> str:
    if fmt == "json":
        return json.dumps(result.to_json(), ensure_ascii=False, indent=2)
    markdown = fmt == "markdown"
    joined = "<br>" if markdown else "\n"
    rows = [[change.case + ("*" if change.base_graded_working_copy else ""), change.decision,
             _impact_cell(change, "outcome", lambda s: s.label), _impact_cell(change, "limiter", lambda s: s.limiter or "none"),
             _impact_cell(change, "margin", lambda s: s.margin or "none"), _firing_cell(change),
             joined.join(change.thresholds), "PUBLISHED" if change.published_changed else ""]
            for change in result.changes]
    headers = ["case", "decision", "outcome", "limiter", "margin", "first rule firing that differs",
               "thresholds moved", "published"]
    parts = ["## Impact of the criteria changes", ""] if markdown else []
    parts += [result.summary(), ""] if summary else []
    if rows:
        parts += [tabulate(rows, headers=headers, tablefmt="github" if markdown else "simple")]
    notes = [f"{change.case}: {change.problem}" for change in result.changes if change.problem]
    if any(change.base_graded_working_copy for change in result.changes):
        notes.append("* not at the base: the base criteria graded the working copy")
    if notes:
        parts += [""] + [f"- {note}" if markdown else note for note in notes]
    return "\n".join(parts).rstrip("\n")


def _firing_cell(change: api.DecisionChange) -> str:
    if change.firing:
        return change.firing
    return "the same firings" if change.before and change.after else ""


def _impact_cell(change: api.DecisionChange, what: str, value: Callable[[Any], str]) -> str:
    """'before -> after' for what changed, the value alone when it did not."""
    before = value(change.before) if change.before else "not graded"
    after = value(change.after) if change.after else "not graded"
    return f"{before} -> {after}" if what in change.changed or before != after else after


@main.group()
def cases() -> None:
    """Edit the case files of a criteria set together.

    \b
    Example:
      arbiter cases add-criterion mp-new-criterion
    """


@cases.command(name="add-criterion")
@click.argument("criterion", metavar="ID")
@click.option("--yes", is_flag=True, help="Write without asking (for scripts).")
@root_option
def add_criterion(criterion: str, yes: bool, root: Path | None) -> None:
    """Add a not_assessed finding for a new criterion to every case of its set that lacks one.

    Each file keeps its comments and layout; every edited file must still validate, or none
    is written. It first says which files it will change and asks; --yes does not ask, and
    with no one to ask (standard input is not a terminal) nothing is written (exit 2). Then,
    in a git checkout, it shows through `arbiter impact` against HEAD every case of the set
    whose outcome the new criterion changes; exit 1 when one reproduces a published grade.

    \b
    Example:
      arbiter cases add-criterion mp-new-criterion --yes
    """
    def action() -> int:
        catalog = _catalog(root, [])
        addition = api.plan_addition(catalog, criterion)
        if not addition.edits:
            click.echo(f"nothing to add: every one of the {len(addition.cases)} cases of criteria set "
                       f"'{addition.criteria_set}' has a finding for '{criterion}'")
            return EXIT_OK
        click.echo(f"will {addition.describe()}:")
        click.echo("\n".join(f"  {_relative(edit.path, catalog.root)}" for edit in addition.edits))
        stopped = _unless_confirmed(yes, "Write these files?", "written", "write")
        if stopped is not None:
            return stopped
        written = api.write_addition(addition)
        click.echo(f"wrote {len(written)} file{'s' if len(written) != 1 else ''}")
        return _added_impact(catalog, list(addition.cases))
    _guard(action)


def _relative(path: Path, root: Path) -> str:
    try:
        return path.relative_to(root).as_posix()
    except ValueError:
        return str(path)


def _added_impact(catalog: Catalog, cases: list[Path]) -> int:
    """The outcomes the new criterion changes, against git HEAD; none when not in a git checkout."""
    try:
        result = api.impact(catalog, cases, "HEAD")
    except DiagnosticError as error:
        click.echo(f"no impact report: {error.diagnostics[0].message}")
        return EXIT_OK
    outcomes = [c for c in result.changes if "outcome" in c.changed]
    click.echo(f"against {result.base}: {len(outcomes)} of {len(result.changes) + result.unchanged} decisions change "
               f"their outcome ({len(result.changes) - len(outcomes)} more only their margin or limiter: "
               "arbiter impact lists them)")
    if outcomes:
        click.echo(render_impact(api.Impact(result.base, result.cases, tuple(outcomes), result.unchanged), "table",
                                 summary=False))
    return EXIT_EXPECTATION if any(c.published_changed for c in outcomes) else EXIT_OK


@main.group("ledger")
def ledger_group() -> None:
    """Set up, upgrade and move a decision ledger.

    \b
    Example:
      arbiter ledger init --postgres --ledger postgresql://admin@db.example/arbiter
    """


@ledger_group.command("init")
@click.option("--postgres", is_flag=True, help="Set up a PostgreSQL ledger: its tables, roles, triggers and purge function.")
@ledger_option
@click.option("--writer", default=None, metavar="NAME", help="Also put login role NAME in arbiter_writer "
              "(created when missing, with the password in $ARBITER_WRITER_PASSWORD if set).")
@click.option("--auditor", default=None, metavar="NAME", help="Also put login role NAME in arbiter_auditor "
              "(created when missing, with the password in $ARBITER_AUDITOR_PASSWORD if set).")
@click.option("--purger", default=None, metavar="NAME", help="Also put login role NAME in arbiter_purger "
              "(created when missing, with the password in $ARBITER_PURGER_PASSWORD if set).")
@click.option("--yes", is_flag=True, help="Create without asking (for scripts).")
def ledger_init(postgres: bool, ledger: str | None, writer: str | None, auditor: str | None, purger: str | None,
                yes: bool) -> None:
    """Create a PostgreSQL ledger's schema and roles, once, as the database's owner.

    It creates the tables, the triggers that keep them append-only, the purge function and
    three group roles: arbiter_writer (records), arbiter_auditor (reads) and arbiter_purger
    (erases personal data, recorded in the chain). --writer, --auditor and --purger also put
    a person's login role in one of them, creating it when it does not exist. It says what it will create and asks; --yes
    does not ask. What exists already is left as it is: run twice, it creates nothing.

    \b
    Example:
      arbiter ledger init --postgres --ledger postgresql://admin@db.example/arbiter --writer alice --yes
    """
    def action() -> int:
        _refuse_unless(postgres, "--postgres", "init sets up a PostgreSQL ledger only",
                       "pass --postgres with --ledger postgresql://USER@HOST/DATABASE; a SQLite ledger needs no setup")
        plan = api.plan_ledger_setup(ledger, {"arbiter_writer": writer, "arbiter_auditor": auditor,
                                              "arbiter_purger": purger})
        if plan.nothing_to_do:
            click.echo(f"nothing to create: the ledger's schema and roles are in place in {plan.place}")
            return EXIT_OK
        click.echo(f"will create in {plan.place}:")
        click.echo("\n".join(f"  {line}" for line in plan.lines()))
        stopped = _unless_confirmed(yes, "Create them? Roles belong to the whole server", "created", "create")
        if stopped is not None:
            return stopped
        api.set_up_ledger(plan)
        click.echo("done; grant a person's login role a group role with: GRANT arbiter_writer TO name "
                   "(or arbiter_auditor, arbiter_purger)")
        return EXIT_OK
    _guard(action)


@ledger_group.command("copy")
@click.argument("source", metavar="SRC")
@click.argument("destination", metavar="DST")
def ledger_copy(source: str, destination: str) -> None:
    """Copy every entry of the ledger at SRC, exactly as it is (its hash, time, actor and
    host), with its blobs and their erasures, to the ledger at DST. Each is a file path or a
    postgresql:// URL. DST must be new or empty, or hold SRC's first entries (the copy then
    continues from there); both are verified first, DST again after, and the two heads are
    then equal. All of it is copied in one transaction, or nothing.

    \b
    Example:
      arbiter ledger copy arbiter-ledger.sqlite postgresql://arbiter@db.example/arbiter
    """
    _guard(lambda: click.echo(_copied(api.copy_ledger(source, destination))) or EXIT_OK)


@ledger_group.command("upgrade")
@click.option("--yes", is_flag=True, help="Upgrade without asking (for scripts).")
@ledger_option
def ledger_upgrade(yes: bool, ledger: str | None) -> None:
    """Migrate a ledger an earlier release wrote to the current schema, in place, in one
    transaction: it says what it will change and asks (--yes does not ask). Every entry
    and blob is kept, and old entries keep the hash recipe they were written with. The
    ledger is verified before and after; on a current ledger it says so and changes nothing.

    \b
    Example:
      arbiter ledger upgrade --ledger arbiter-ledger.sqlite --yes
    """
    def action() -> int:
        with api.open_ledger_to_upgrade(ledger) as store:
            plan = api.upgrade_plan(store)
            if plan is None:
                click.echo(f"{store.path} is at the current schema ({api.SCHEMA_VERSION}): nothing to upgrade")
                return EXIT_OK
            click.echo(f"will upgrade {plan}")
            stopped = _unless_confirmed(yes, "Upgrade it?", "upgraded", "upgrade")
            if stopped is not None:
                return stopped
            result = api.upgrade(store)
            click.echo(f"upgraded {store.path} to schema {api.SCHEMA_VERSION}: ledger verified, {result.entries} "
                       f"entries, head {result.head}")
        return EXIT_OK
    _guard(action)


def _copied(copied: api.Copied) -> str:
    held = "the first entry" if copied.held == 1 else f"the first {copied.held} entries"
    start = f"{copied.destination} held {held} of {copied.source}; " if copied.held else ""
    if not copied.copied:
        return f"{start}nothing to copy: both heads are {copied.head}"
    first, last = copied.held + 1, copied.held + copied.copied
    span = f"entry {first}" if first == last else f"entries {first} to {last}"
    blobs = "1 blob" if copied.blobs == 1 else f"{copied.blobs} blobs"
    return (f"{start}copied {span} ({blobs}) from {copied.source} to {copied.destination}; "
            f"both heads are {copied.head}")
