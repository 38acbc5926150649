"""Rewrite the "Mistakes and their messages" section of criteria/README.md from the golden
diagnostics in cases/invalid/*.expected, so the language reference quotes exactly what
Arbiter prints (tests/test_docs.py checks it). Run from the project root after reviewing a
change to those files:

    python tools/write_error_examples.py
"""

from __future__ import annotations

import re
from collections import defaultdict
from pathlib import Path

from engine.language.diagnostics import CODES

HEADING = "## Mistakes and their messages"
INTRO = """Every problem is reported as `file:line:col: error CODE: message`, with a hint on the next
line, all problems in a file at once, and exit status 2. A problem with the file's shape (a
wrong type, an unknown field) does not hide the others: the cross-references are checked on
the parts of the file that are well formed, and a part that is not is never reported again
as missing or unknown. Codes are stable: tests assert them, and the examples below are the
golden files in `cases/invalid/` (a test checks that each message here is exactly what
Arbiter prints)."""

# Codes that no single invalid file can show: described in words, with their message.
NO_FILE = {
    "E100": ("A file that cannot be read (missing, or no permission), or that is not a regular file (a pipe, "
             "device or socket is refused unopened: `/dev/zero: error E100: not a regular file: it is a device`), "
             "or no `criteria/` folder above it, or a `--root` that is no such folder.",
             "cases/nope.yaml: error E100: cannot read file: No such file or directory\n  hint: check the path"),
    "E117": ("`arbiter scoresheet -o PATH` (or `arbiter test --update`) was given a file that exists, or a symbolic "
             "link, even one that points nowhere: a new file is never written over another, nor through a link.",
             "--output: error E117: cases/mine/selection.yaml exists; a file is never overwritten\n"
             "  hint: give a new file name"),
    "E134": ("A criteria set that compiles to more than 30 rules: one per grade rule and one for undecided (and, "
             "under a unique hit policy, one per pair of grade rules of two levels), one per floor and limiter (one "
             "more for each at the end of the scale) and one for none, one per limiter asking whether it holds and "
             "one for none, and two for overrides. "
             "The tests of all of them can hold at once for the one tally fact, and durable-rules' C core aborts the "
             "process when 65 do (`bench/limits.py` measures it), so Arbiter stops at half that. It is reported at "
             "the framework's list that makes most of the rules, when a criteria set (or a folder holding one) is "
             "validated or scored; `arbiter score` stops before durable-rules is reached. For example:",
             "criteria/x/framework.yaml:15:1: error E134: criteria set 'x/area' compiles to 36 rules (2 for its "
             "grades, 32 for its limiters, 2 for overrides); the limit is 30\n"
             "  hint: use fewer grades, floors or limiters, or split them across frameworks"),
    "E135": ("A criteria set whose framework's grade rules, floors and limiters hold more than 100 distinct "
             "conditions (a condition written the same way in several rules counts once). durable-rules is given "
             "every condition's count in one fact, and its C core crashes on a fact of 255 properties "
             "(`bench/limits.py` measures it), so Arbiter stops well before. It is reported at the first condition "
             "past the limit, in the framework, when a criteria set (or a folder holding one) is validated or "
             "scored; `arbiter score` stops before durable-rules is reached. For example, a grade rule of 246 "
             "conditions:",
             "criteria/x/framework.yaml:111:9: error E135: criteria set 'x/area' compiles to 246 distinct "
             "conditions, and this is number 101; the limit is 100\n  hint: use fewer distinct conditions (one "
             "written the same way in several rules counts once), or split the rules across frameworks"),
    "E136": ("An appointment file too large for the engine: a selection process with more than 100 gates (a "
             "gate is a fact, so the rules stay the same size, but each gate adds one rule firing per candidate and "
             "scored cell to every decision, and one to each one-point variant the sensitivity scan decides), or a "
             "compliance framework with more than 11 requirements (the `compliant` rule joins one result per "
             "requirement, and a rule of 17 patterns fails). Located at the file's first key, since the whole list "
             "is too long. A pair table with more than 20 categories (one rule per category, inside the host's 64 "
             "rules) is refused too, at its `scoring:`. For example:",
             "criteria/compliance/big.yaml:3:1: error E136: the framework has 12 requirements; the limit is 11\n"
             "  hint: split the requirements into two compliance frameworks"),
    "E140": ("`arbiter compile --check` found a file in `rules/` that differs from what the criteria compile to "
             "(exit 1).",
             "rules/hmic-2007/child-abuse.json:1:1: error E140: compiled ruleset is stale for "
             "'hmic-2007/child-abuse'\n  hint: run: arbiter compile"),
    "E141": ("`arbiter compile --check` found criteria with no file in `rules/` (exit 1).",
             "rules/hmic-2007/new-area.json:1:1: error E141: compiled ruleset is missing for "
             "'hmic-2007/new-area'\n  hint: run: arbiter compile"),
    "E160": ("`arbiter compare` was asked to compare grades under two frameworks, neither of which declares a "
             "mapping from the other under `comparability:`. For example (Kent's 2015 and 2021/22 grades for "
             "protecting vulnerable people), the message names both frameworks and quotes what each says:",
             "compare: error E160: grades under 'peel-2015' and 'peel-2021' cannot be compared: no mapping between "
             "them is declared. peel-2015: \"This is the first year HMIC has graded forces on their overall "
             "effectiveness so comparison of their year-on-year effectiveness is not possible.\" (001:16-17) "
             "peel-2021: \"This means it is not possible to make direct comparisons ...\" (002:3147-3149)\n"
             "  hint: compare decisions under one framework, or declare a mapping under comparability: in a framework"),
    "E170": ("A ledger file that cannot be used: missing (for commands that read it), empty, not an Arbiter "
             "ledger, or damaged: truncated or extended (its size differs from the page count in its header), a "
             "schema or meta that is not a ledger's, a last entry whose hash, link or blobs do not match, or (for "
             "`purge`, which verifies the whole ledger first) any break `verify` finds. Every command checks the "
             "file before using it; nothing is written to a damaged one. For example, a file truncated by one byte:",
             "--ledger arbiter-ledger.sqlite: error E170: the ledger file is damaged: the file is 385,023 bytes but "
             "its header says 94 pages of 4,096 bytes (385,024 bytes): it was truncated or extended\n"
             "  hint: nothing was written to it; verify a copy, or restore it from a backup"),
    "E171": ("`arbiter show`, `replay` or `override` was given a decision id (or entry number) the ledger does not "
             "hold; or a case's sub-area names one (`decision_id:`), reported at that line when the case is scored.",
             "DECISION: error E171: no decision '3c9f1a2b4d5e6f70' in arbiter-ledger.sqlite\n"
             "  hint: list decisions with: arbiter log"),
    "E172": ("A recorded decision that `show`, `replay` or `override` cannot trust: its entry, its link to the entry "
             "before it, or a blob it rests on (content, kind, erasure) was changed, or a stored blob is missing. "
             "Nothing is shown, replayed or recorded.",
             "--ledger arbiter-ledger.sqlite: error E172: decision 3c9f1a2b4d5e6f70 cannot be rebuilt: record blob "
             "5d41402abc4b does not match its hash: its content was changed\n"
             "  hint: run arbiter verify to see what is wrong"),
    "E173": ("`arbiter override` without a rationale (or without who made it) is refused, at the option left blank.",
             "--rationale: error E173: an override needs a rationale and who made it\n"
             "  hint: give --rationale TEXT and --by NAME"),
    "E174": ("A command-line value that is wrong on its face (a date not written YYYY-MM-DD, such as `purge --before "
             "tomorrow` or `log --since 2024-02-30`) is a usage error naming the option and the form it takes; one "
             "that is well formed but unknown where it is used (a framework, outcome or subject no recorded decision "
             "has in `arbiter log`, an outcome the decision cannot have in `arbiter override`) is located at its "
             "option, with a did-you-mean or the valid values. Outcomes are given by id or label, in any case "
             "(`fair`, `Fair`). Exit 2 either way.",
             "--framework: error E174: no framework 'hmic-207' in this ledger\n  hint: did you mean 'hmic-2007'?"),
    "E177": ("A line of a JSON Lines file given to `arbiter summary` or `arbiter compare` whose arrays and objects "
             "nest more than 32 deep is refused before it is parsed (the records Arbiter writes nest 5 deep). Each "
             "line is also bounded in length: one longer than 1,048,576 bytes is an E102.",
             "decisions.jsonl:3:1: error E177: the record nests 100,000 levels deep; the limit is 32\n"
             "  hint: give one decision record per line, as `arbiter score --format json` writes"),
    "E183": ("`arbiter score --record` (or `record` in the Python API) was asked to record a decision whose "
             "sub-area takes its grade from a decision that is neither in the ledger nor recorded with it, so the "
             "chain could not be replayed. Nothing is recorded. `arbiter score CASE --record` records a case's inputs "
             "first, so this arises only when a decision is recorded without them:",
             "--ledger arbiter-ledger.sqlite: error E183: decision 87a2c78ee12cdd9e takes sub-area 'q1' from decision "
             "027bd7ce8ed2f5a8 (case examples-decision-graph/q1-preventing-crime), which is neither in the ledger nor "
             "recorded with it\n"
             "  hint: record the input decision too: arbiter score CASE --record records a case's inputs first"),
    "E142": ("`arbiter compile` and `arbiter compile --check` found a file in `rules/` whose criteria no longer "
             "exist. It is never deleted automatically; `--check` exits 1 until a person removes it.",
             "rules/hmic-2007/old-area.json:1:1: error E142: compiled ruleset has no criteria under criteria/\n"
             "  hint: delete it if the criteria set was removed on purpose"),
}


def goldens_by_code(folder: Path) -> dict[str, list[tuple[Path, str, int]]]:
    found: dict[str, list[tuple[Path, str, int]]] = defaultdict(list)
    for golden in sorted(folder.glob("*.expected")):
        text = golden.read_text(encoding="utf-8").rstrip("\n")
        match = re.match(r".+?:(\d+):\d+: error (E\d+):", text)
        found[match.group(2)].append((golden, text, int(match.group(1))))
    return found


def example(golden: Path, text: str, line: int) -> list[str]:
    source = golden.with_suffix(".yaml")
    raw = source.read_bytes()
    first = raw.split(b"\n", 1)[0].decode("utf-8", "replace").lstrip("# ").strip()
    what = first.removeprefix("Invalid: ")
    out = [f"`{source.as_posix()}`" + (f": {what}" if what else ""), ""]
    try:
        lines = raw.decode("utf-8").splitlines()
    except UnicodeDecodeError:  # the not-UTF-8 example: no snippet can show its line
        lines = []
    if len(raw) < 100_000 and 0 < line <= len(lines) and lines[line - 1].strip():
        out += ["```yaml", lines[line - 1], "```"]
    return out + ["```", text, "```", ""]


def section(folder: Path) -> str:
    goldens = goldens_by_code(folder)
    out = [HEADING, "", INTRO, ""]
    for code in sorted(CODES):
        out += [f"### {code} {CODES[code]}", ""]
        if code in goldens:
            for golden, text, line in goldens[code]:
                out += example(golden, text, line)
        else:
            words, message = NO_FILE.get(code, ("(no example)", ""))
            out += [words, "", "```", message, "```", ""]
    return "\n".join(out).rstrip() + "\n"


def main() -> None:
    doc = Path("criteria/README.md")
    text = doc.read_text(encoding="utf-8")
    doc.write_text(text[: text.index(HEADING)] + section(Path("cases/invalid")), encoding="utf-8")


if __name__ == "__main__":
    main()
