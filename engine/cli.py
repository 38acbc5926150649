"""The command line: parse arguments, call the library, render. Nothing is decided here.

Exit codes: 0 ok; 1 a case did not meet its expectation (or a ruleset is stale);
2 invalid input or usage; 3 the rules engine itself failed (not a user mistake).
"""

from __future__ import annotations

import datetime
import json
import sys
from pathlib import Path
from typing import Any, Callable

import click
from tabulate import tabulate

from . import api
from .api import (DEFAULT_LEDGER, LEDGER_ENV, Catalog, Diagnostic, DiagnosticError, EngineError, Replay, Scored, __version__,
                  ledger_path, render_all, sorted_unique)

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

ledger_option = click.option(
    "--ledger", type=click.Path(dir_okay=False, path_type=Path), default=None,
    help=f"Ledger file (default: ${LEDGER_ENV}, else ./{DEFAULT_LEDGER}).")

root_option = click.option("--root", type=click.Path(file_okay=False, path_type=Path), default=None,
                           help="Project folder holding criteria/ (default: found above the files or the working folder).")


def _catalog(root: Path | None, paths: list[Path]) -> Catalog:
    return api.find_catalog(paths[0] if paths else None, root)


def _guard(action: Callable[[], int]) -> None:
    """Run a command; user mistakes become diagnostics, engine failures a one-line message."""
    try:
        code = action()
    except DiagnosticError as error:
        _print_diagnostics(error.diagnostics)
        code = EXIT_INVALID
    except EngineError as error:
        click.echo(f"arbiter: the rules engine failed: {error}", err=True)
        code = EXIT_ENGINE
    sys.exit(code)


def _print_diagnostics(diagnostics: list[Diagnostic]) -> None:
    if diagnostics:
        click.echo(render_all(diagnostics), err=True)
        count = len(sorted_unique(diagnostics))
        click.echo(f"{count} problem{'s' if count != 1 else ''} found", err=True)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="arbiter")
def main() -> None:
    """Arbiter grades inspection areas and appointments from declarative criteria.

    \b
    Example:
      arbiter score cases/kent-2007/missing-persons.yaml --explain full
    """


@main.command()
@click.argument("paths", nargs=-1, required=True, type=click.Path(exists=True, path_type=Path))
@root_option
def validate(paths: tuple[Path, ...], root: Path | None) -> None:
    """Check criteria and case files; print every problem with file:line:col.

    Folders are searched for *.yaml. Exit 0 when every file is valid, 2 otherwise.

    \b
    Example:
      arbiter validate criteria/ cases/kent-2007/
    """
    def action() -> int:
        checked, problems = api.validate(_catalog(root, list(paths)), list(paths))
        _print_diagnostics(problems)
        if not problems:
            click.echo(f"{checked} file{'s' if checked != 1 else ''} valid")
        return EXIT_INVALID if problems else EXIT_OK
    _guard(action)


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
@ledger_option
@root_option
def score(cases: tuple[Path, ...], fmt: str, explain: str | None, record: bool, ledger: Path | None,
          root: Path | None) -> None:
    """Grade one or more evidence records (case files) and explain the outcome.

    Exit 0 when all are scored (and meet any expectation they carry), 1 when a case's
    outcome differs from its expectation, 2 when a file is invalid.

    \b
    Example:
      arbiter score cases/kent-2007/*.yaml --format json
      arbiter score cases/kent-2007/child-abuse.yaml --explain full
    """
    def action() -> int:
        results, problems = api.score_files(_catalog(root, list(cases)), list(cases), ledger)
        _render_scores(results, fmt, explain or ("off" if fmt == "json" else "fails"))
        _print_diagnostics(problems)
        if record and results:
            store = api.open_ledger(ledger, "write")
            entries = api.record(store, results)
            click.echo(f"recorded {len(entries)} decision(s) in {store.path}; head {store.head()}", err=True)
        if problems:
            return EXIT_INVALID
        return EXIT_OK if all(r.met for r in results) else EXIT_EXPECTATION
    _guard(action)


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
@click.option("--candidates", required=True, help="Candidate pseudonyms, comma-separated: cand-a,cand-b.")
@click.option("--panel", required=True,
              help="Panel members, comma-separated, each NAME or NAME:ROLE (a bare name scores): pcc:chair,cummins:independent,hr:hr_adviser.")
@click.option("--id", "sheet_id", default=None, help="The evidence id to write (default: from --output's place under cases/).")
@click.option("--output", "-o", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Write here (never over an existing file, nor through a symbolic link); default: standard output.")
@root_option
def scoresheet(process: str, candidates: str, panel: str, sheet_id: str | None, output: Path | None,
               root: Path | None) -> None:
    """Write a blank scoresheet (an appointment evidence file) for a selection process.

    Every required cell is there, commented with the behaviours at the level assessed;
    fill in ratings and rationales, then score it.

    \b
    Example:
      arbiter scoresheet appointments/kent-chief-constable-2022 --candidates cand-a,cand-b \\
        --panel pcc:chair,boughton:member,cummins:independent,hr:hr_adviser -o cases/mine/selection.yaml
    """
    def action() -> int:
        catalog = _catalog(root, [output] if output else [])
        text = api.scoresheet(catalog, process, _split(candidates), _split(panel), sheet_id, output)
        if output is None:
            click.echo(text, nl=False)
            return EXIT_OK
        api.write_scoresheet(output, text)
        click.echo(f"wrote {output}")
        return EXIT_OK
    _guard(action)


@main.command()
@click.argument("decisions", nargs=-1, required=True, type=click.Path(exists=True, path_type=Path))
@click.option("--format", "fmt", type=click.Choice(["table", "markdown", "json"]), default="table", show_default=True)
@root_option
def summary(decisions: tuple[Path, ...], fmt: str, root: Path | None) -> None:
    """Grade distribution per area, one table per framework (never merged across frameworks).

    DECISIONS are JSON Lines files written by `arbiter score --format json`, or case files
    and folders, which are scored first.

    \b
    Example:
      arbiter summary cases/national-2007/
    """
    def action() -> int:
        catalog = _catalog(root, list(decisions))
        records = [d.record for d in api.read_decisions(catalog, list(decisions))]
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
def verify(head: str | None, ledger: Path | None) -> None:
    """Check every ledger entry's hash link and every stored blob; name the first break.

    \b
    Example:
      arbiter verify --head 3f5a...e1
    """
    def action() -> int:
        result = api.verify(api.open_ledger(ledger, "verify"), head)
        if result.ok:
            tail = f"; {result.after_head} entries after the given head" if result.after_head else ""
            click.echo(f"ledger verified: {result.entries} entries, head {result.head}{tail}")
            return EXIT_OK
        where = f"entry {result.at}: " if result.at is not None else ""
        click.echo(f"{ledger_path(ledger)}: {where}{result.problem}", err=True)
        click.echo(f"(the chain of links was checked through entry {result.entries})", err=True)
        return EXIT_EXPECTATION
    _guard(action)


@main.command()
@ledger_option
def head(ledger: Path | None) -> None:
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
@ledger_option
def log_command(framework, subject, outcome, since, until, ledger: Path | None) -> None:
    """List recorded decisions, with computed outcomes and every override.

    \b
    Example:
      arbiter log --framework hmic-2007 --since 2026-01-01
    """
    def action() -> int:
        rows = api.log(api.open_ledger(ledger, "read"), framework, subject, outcome, since, until)
        click.echo(tabulate([[r.seq, r.recorded_at, r.decision_id, r.case, r.subject, r.framework, r.computed,
                              r.override or ""] for r in rows],
                            headers=["entry", "recorded", "decision", "case", "subject", "framework", "computed",
                                     "override"], tablefmt="simple"))
        return EXIT_OK
    _guard(action)


@main.command()
@click.argument("decision")
@click.option("--reveal", is_flag=True, help="Show names held as personal data (when not erased).")
@ledger_option
def show(decision: str, reveal: bool, ledger: Path | None) -> None:
    """Print a recorded decision with its explanation, overrides and personal-data status.

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
def replay(decision: str, current: bool, ledger: Path | None, root: Path | None) -> None:
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
@click.option("--by", "by", required=True)
@ledger_option
def override_command(decision: str, outcome: str, rationale: str, by: str, ledger: Path | None) -> None:
    """Record a professional-judgement departure from a decision (the decision is kept).

    \b
    Example:
      arbiter override 3c9f1a2b4d5e6f70 --outcome poor --rationale "risk to children" --by "HMI J. Smith"
    """
    def action() -> int:
        entry = api.override(api.open_ledger(ledger, "append"), decision, outcome, rationale, by)
        click.echo(f"override recorded as entry {entry.seq}; head {entry.hash}")
        return EXIT_OK
    _guard(action)


@main.command()
@click.option("--before", required=True, type=ISO_DATE,
              help="YYYY-MM-DD: erase personal data of decisions recorded before this date (UTC).")
@click.option("--dry-run", is_flag=True, help="Say what would be erased, and erase nothing.")
@click.option("--yes", is_flag=True, help="Erase without asking (for scripts).")
@ledger_option
def purge(before, dry_run: bool, yes: bool, ledger: Path | None) -> None:
    """Erase candidates' and panel members' personal data past its retention date.

    It cannot be undone, so it first says what it will erase and asks; --dry-run only
    says, --yes does not ask. Without --yes and with no one to ask (standard input is not
    a terminal), nothing is erased (exit 2). The whole ledger is verified first. The chain
    still verifies afterwards: the erased content's hashes stay, and a purge entry records
    what was erased and when. The file is rewritten so no erased byte remains.

    \b
    Example:
      arbiter purge --before 2023-06-01 --dry-run
      arbiter purge --before 2023-06-01 --yes
    """
    def action() -> int:
        store = api.open_ledger(ledger, "read" if dry_run else "append")
        plan = api.purge_plan(store, before)
        if not plan.blobs:
            click.echo(f"nothing to erase: {plan.describe()}")
            return EXIT_OK
        click.echo(f"{'would erase' if dry_run else 'will erase'} {plan.describe()} (before {before})")
        if dry_run:
            click.echo("dry run: nothing was erased")
            return EXIT_OK
        answer = True if yes else _confirmed("Erase them? This cannot be undone")
        if answer is None:
            click.echo("arbiter: nothing was erased: there is no one to confirm (standard input is not a terminal); "
                       "pass --yes to erase without asking", err=True)
            return EXIT_INVALID
        if not answer:
            click.echo("nothing was erased")
            return EXIT_EXPECTATION
        entry = api.purge(store, plan)
        click.echo("nothing was erased: another purge erased it meanwhile" if entry is None else
                   f"erased {len(entry.refs)} personal-data blob(s); purge recorded as entry {entry.seq}")
        return EXIT_OK
    _guard(action)


def _confirmed(question: str) -> bool | None:
    """The user's yes or no; None when there is no one to ask (standard input is not a
    terminal, or it ended before an answer)."""
    if not sys.stdin.isatty():
        return None
    try:
        return click.confirm(question, default=False)
    except click.Abort:
        return None


def _split(text: str) -> list[str]:
    return [part.strip() for part in text.split(",") if part.strip()]


@main.command()
@click.argument("paths", nargs=-1, type=click.Path(exists=True, path_type=Path))
@click.option("--update", is_flag=True,
              help="Write expected diagnostics for invalid cases that have none yet; never overwrites one.")
@root_option
def test(paths: tuple[Path, ...], update: bool, root: Path | None) -> None:
    """Run cases against their expected outcomes (default: cases/).

    Valid cases are scored through durable-rules and through the oracle, which reads the
    criteria as written; both must reach the expected outcome by the same level, limiter
    and floor, with the same counts. Files under an invalid/ folder must
    produce exactly the diagnostics in their .expected file.

    \b
    Example:
      arbiter test cases/
    """
    def action() -> int:
        catalog = _catalog(root, list(paths))
        targets = list(paths) or [catalog.root / "cases"]
        results = api.run_tests(catalog, targets, update)
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

