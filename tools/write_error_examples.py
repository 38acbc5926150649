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

from engine.diagnostics import CODES

HEADING = "## Mistakes and their messages"
INTRO = """Every problem is reported as `file:line:col: error CODE: message`, with a hint on the next
line, all problems in a file at once, and exit status 2. Codes are stable: tests assert
them, and the examples below are the golden files in `cases/invalid/` (a test checks that
each message here is exactly what Arbiter prints)."""

# Codes that no single invalid file can show: described in words, with their message.
NO_FILE = {
    "E100": ("A file that cannot be read (missing, or no permission), or no `criteria/` folder above it.",
             "cases/nope.yaml: error E100: cannot read file: No such file or directory\n  hint: check the path"),
    "E134": ("A criteria set that compiles to more than 400 rules or conditions; durable-rules hangs registering "
             "about 516 tests on one property, so Arbiter stops well before. For example:",
             "criteria/x/huge.yaml:1:1: error E134: the set compiles to 512 rules and 40 conditions; the limit is "
             "400 of each\n  hint: split the area into smaller criteria sets"),
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
    "E170": ("A ledger file that cannot be read: missing (for commands that read it), not an Arbiter ledger, or "
             "damaged. Nothing is written to it.",
             "arbiter-ledger.sqlite: error E170: the ledger file is damaged or not a ledger: database disk image is "
             "malformed\n  hint: nothing was written to it; verify a copy, or restore it from a backup"),
    "E171": ("`arbiter show`, `replay` or `override` was given a decision id (or entry number) the ledger does not hold.",
             "arbiter-ledger.sqlite: error E171: no decision '3c9f1a2b4d5e6f70' in the ledger\n"
             "  hint: list decisions with: arbiter log"),
    "E172": ("A recorded decision whose stored blobs are missing (the ledger was altered): it cannot be rebuilt.",
             "arbiter-ledger.sqlite: error E172: decision 3c9f1a2b4d5e6f70 cannot be rebuilt: record missing from "
             "the ledger\n  hint: run arbiter verify to see what is wrong"),
    "E173": ("`arbiter override` without a rationale (or without who made it) is refused.",
             "override: error E173: an override needs a rationale and who made it\n"
             "  hint: give --rationale TEXT and --by NAME"),
    "E174": ("A command-line value that is wrong on its face (a date not written YYYY-MM-DD) is a usage error "
             "naming the option; one that is well formed but unknown where it is used (a framework, outcome or "
             "subject the ledger does not hold) is located at its option, with a did-you-mean. Exit 2 either way.",
             "--framework: error E174: no framework 'hmic-207' in this ledger\n  hint: did you mean 'hmic-2007'?"),
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
