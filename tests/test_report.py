"""HTML reports, read as HTML (the browser tests open them in Chromium): every rating cell of a
selection with its number and colour, every finding of an inspection, escaping of what files
hold, names only when revealed, letters, the summary's charts, and the command's refusals."""

from __future__ import annotations

import json
from html.parser import HTMLParser

import pytest
import yaml
from click.testing import CliRunner

import engine
from engine.cli import main
from engine.report.palette import TONES, tone_of
from engine.report.sources import from_scored

from .conftest import ROOT
from .test_golden import check_golden

KENT_2022 = ROOT / "cases" / "appointments" / "kent-cc-2022"
SELECTION = KENT_2022 / "selection.yaml"
MISSING_PERSONS = ROOT / "cases" / "kent-2007" / "missing-persons.yaml"
GOLDEN = ROOT / "tests" / "golden" / "report"


class Elements(HTMLParser):
    """Every start tag with its attributes and the text inside it, in document order."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.found: list[dict] = []
        self.open: list[dict] = []

    def handle_starttag(self, tag, attrs):
        element = {"tag": tag, "attrs": dict(attrs), "text": ""}
        self.found.append(element)
        if tag not in ("meta", "br", "input", "img", "link", "rect"):
            self.open.append(element)

    def handle_endtag(self, tag):
        while self.open:
            if self.open.pop()["tag"] == tag:
                break

    def handle_data(self, data):
        for element in self.open:
            element["text"] += data


def elements(html: str) -> list[dict]:
    parser = Elements()
    parser.feed(html)
    return parser.found


def run(*args):
    return CliRunner().invoke(main, [str(a) for a in args], catch_exceptions=False)


def report_of(catalog, *paths, reveal=False) -> str:
    return engine.render_report(engine.report_sources(catalog, [str(p) for p in paths]), reveal)


def selection_record(catalog) -> dict:
    return engine.score(catalog, SELECTION).records[-1]


def scale_values(catalog) -> list[int]:
    scale = yaml.safe_load((ROOT / "criteria" / "scales" / "cvf-rating.yaml").read_text(encoding="utf-8"))
    return sorted(level["value"] for level in scale["levels"])


def test_every_cell_of_the_heat_map_holds_its_agreed_rating_and_its_colour(catalog):
    html = report_of(catalog, SELECTION)
    cells = {(e["attrs"]["data-candidate"], e["attrs"]["data-exercise"], e["attrs"]["data-area"]): e
             for e in elements(html) if e["tag"] == "td" and "cell" in e["attrs"].get("class", "").split()}
    record = selection_record(catalog)
    assert record["cells"], "the selection record holds its cells"
    values = scale_values(catalog)
    for cell in record["cells"]:
        shown = cells.pop((cell["candidate"], cell["exercise"], cell["area"]))
        assert shown["text"].split()[0] == str(cell["agreed"])
        assert tone_of(cell["agreed"], values) in shown["attrs"]["class"].split()
    assert not cells, f"cells the record does not hold: {sorted(cells)}"


def test_the_subtotals_and_totals_are_the_records(catalog):
    found = elements(report_of(catalog, SELECTION))
    record = selection_record(catalog)
    for candidate in record["candidates"]:
        for exercise, subtotal in candidate["subtotals"].items():
            [shown] = [e for e in found if e["tag"] == "td" and e["attrs"].get("data-candidate") == candidate["candidate"]
                       and e["attrs"].get("data-exercise") == exercise and "cell" not in e["attrs"].get("class", "")]
            assert shown["text"].strip() == str(subtotal)


def test_the_legend_gives_every_level_of_the_scale_with_its_definition(catalog):
    html = report_of(catalog, SELECTION)
    scale = yaml.safe_load((ROOT / "criteria" / "scales" / "cvf-rating.yaml").read_text(encoding="utf-8"))
    legend = next(e for e in elements(html) if e["tag"] == "ul" and "legend" in e["attrs"].get("class", ""))
    text = " ".join(legend["text"].split())
    for level in scale["levels"]:
        assert level["label"] in text and " ".join(level["definition"].split()) in text


def test_the_sensitivity_cells_are_marked(catalog):
    record = selection_record(catalog)
    sensitive = {(s["candidate"], s["exercise"], s["area"]) for s in record["sensitivity"]}
    assert sensitive
    for e in elements(report_of(catalog, SELECTION)):
        if e["tag"] == "td" and "cell" in e["attrs"].get("class", "").split():
            key = (e["attrs"]["data-candidate"], e["attrs"]["data-exercise"], e["attrs"]["data-area"])
            assert ("sensitive" in e["attrs"]["class"].split()) == (key in sensitive)


def _selection_with(catalog, change) -> str:
    data = yaml.safe_load(SELECTION.read_text(encoding="utf-8"))
    change(data)
    return engine.render_report(from_scored(engine.score(catalog, data)))


def test_a_rationale_holding_markup_is_shown_as_text(catalog):
    def inject(data):
        data["ratings"][0]["rationale"] = "<script>alert('x')</script> & <b>bold</b>"
    html = _selection_with(catalog, inject)
    assert "<script>" not in html and "<b>bold" not in html
    assert "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; &lt;b&gt;bold&lt;/b&gt;" in html


def test_a_flag_is_marked_in_its_cell_and_listed(catalog):
    def spread(data):
        data["ratings"][0]["individual"] = {"pcc": 2, "boughton": 4, "independent": 4}
    html = _selection_with(catalog, spread)
    flagged = [e for e in elements(html) if e["tag"] == "td" and "flagged" in e["attrs"].get("class", "").split()]
    assert [(e["attrs"]["data-candidate"], e["attrs"]["data-exercise"], e["attrs"]["data-area"]) for e in flagged] == [
        ("cand-a", "media", "we_analyse_critically")]
    flags_table = next(e for e in elements(html) if e["tag"] == "table" and e["attrs"].get("class") == "flags")
    assert "pcc 2" in flags_table["text"]


def test_names_are_shown_only_when_revealed(catalog):
    hidden = report_of(catalog, *sorted(KENT_2022.glob("*.yaml")))
    shown = report_of(catalog, *sorted(KENT_2022.glob("*.yaml")), reveal=True)
    for name in ("Tim Smith", "Matthew Scott", "Rebecca Humphreys", "Henu Cummins"):
        assert name not in hidden
        assert name in shown


def test_the_sign_off_block_has_a_line_per_panel_member(catalog):
    html = report_of(catalog, SELECTION)
    signoff = next(e for e in elements(html) if e["tag"] == "div" and e["attrs"].get("class") == "signoff")
    roles = [m["role"].replace("_", " ") for m in selection_record(catalog)["panel"]]
    text = " ".join(signoff["text"].split())
    assert all(role in text for role in roles) and "date" in text and "signature" in text


def test_an_inspection_report_shows_every_finding_with_its_citations(catalog):
    html = report_of(catalog, MISSING_PERSONS)
    case = yaml.safe_load(MISSING_PERSONS.read_text(encoding="utf-8"))
    rows = [e for e in elements(html) if e["tag"] == "tr" and "finding" in e["attrs"].get("class", "").split()]
    assert len(rows) == len(case["findings"])
    for finding, row in zip(sorted(case["findings"], key=lambda f: f["criterion"]), rows):
        assert finding["criterion"] in row["text"]
        assert all(cite in row["text"] for cite in finding["cites"])
    record = engine.score(catalog, MISSING_PERSONS).records[0]
    for key in ("criteria_sha256", "ruleset_sha256", "evidence_sha256"):
        assert record[key] in html
    assert all(f"Why not {w['label']}" in html for w in record["why_not"])


def test_a_limited_grade_shows_the_limiter_and_the_grade_before_it(catalog):
    path = ROOT / "cases" / "constructed-2007" / "poor-critical.yaml"
    record = engine.score(catalog, path).records[0]
    assert record["limiter"], "the case is capped by a limiter"
    text = " ".join("".join(e["text"] for e in elements(report_of(catalog, path)) if e["tag"] == "body").split())
    assert record["limiter"]["id"] in text and f"pre-cap): {record['uncapped_label']}" in text


def test_a_json_lines_record_is_reported_with_the_criteria_it_was_decided_under(catalog, tmp_path):
    lines = tmp_path / "selection.jsonl"
    lines.write_text("\n".join(engine.score(catalog, SELECTION).json_lines()) + "\n", encoding="utf-8")
    html = report_of(catalog, lines)
    assert "An area of considerable strength" in html  # the legend: the project's criteria, same hash
    assert "not in a decision record" not in html


def test_the_inspection_report_is_golden(catalog):
    check_golden(GOLDEN / "missing-persons.html", report_of(catalog, MISSING_PERSONS).rstrip("\n"))


def test_the_kent_2022_report_is_golden(catalog):
    check_golden(GOLDEN / "kent-cc-2022.html", report_of(catalog, *sorted(KENT_2022.glob("*.yaml"))).rstrip("\n"))


def test_letters_are_one_per_candidate_and_pseudonymised_unless_revealed(catalog):
    sources = engine.report_sources(catalog, [str(SELECTION)])
    letters = dict(engine.render_letters(sources))
    record = selection_record(catalog)
    assert sorted(letters) == sorted(f"feedback-{c['candidate']}.html" for c in record["candidates"])
    assert "Tim Smith" not in letters["feedback-cand-a.html"]
    assert "Tim Smith" in dict(engine.render_letters(sources, reveal=True))["feedback-cand-a.html"]
    for candidate in record["candidates"]:
        letter = letters[f"feedback-{candidate['candidate']}.html"]
        for cell in (c for c in record["cells"] if c["candidate"] == candidate["candidate"]):
            assert cell["rationale"] in letter


def test_the_summary_has_a_chart_per_framework_and_says_what_is_constructed(tmp_path):
    result = run("summary", ROOT / "cases" / "kent-2007", ROOT / "cases" / "constructed-2007", "--format", "html")
    assert result.exit_code == 0, result.output
    found = elements(result.output)
    charts = [e for e in found if e["tag"] == "svg"]
    frameworks = [e for e in found if e["tag"] == "section" and "framework" in e["attrs"].get("class", "")]
    assert len(charts) == len(frameworks) == 1  # both folders are hmic-2007: one chart, never two
    assert "rest on constructed evidence" in result.output
    bars = {(e["attrs"]["data-column"], int(e["attrs"]["data-count"])) for e in found if e["tag"] == "rect"}
    assert ("Fair", 4) in bars or any(column == "Fair" for column, _ in bars)


def test_the_palette_reads_at_wcag_aa():
    assert all(contrast(back, text) >= 4.5 for back, text in TONES)


def contrast(first: str, second: str) -> float:
    """WCAG 2 contrast ratio of two colours given as #rrggbb or rgb(r, g, b)."""
    def luminance(colour: str) -> float:
        if colour.startswith("#"):
            channels = [int(colour[i:i + 2], 16) for i in (1, 3, 5)]
        else:
            channels = [int(part) for part in colour[colour.index("(") + 1:colour.index(")")].split(",")[:3]]
        linear = [c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in (v / 255 for v in channels)]
        return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]
    light, dark = sorted((luminance(first), luminance(second)), reverse=True)
    return (light + 0.05) / (dark + 0.05)


def test_report_writes_the_html_and_the_letters(tmp_path):
    out = tmp_path / "kent.html"
    result = run("report", *sorted(KENT_2022.glob("*.yaml")), "-o", out, "--letters", tmp_path / "letters")
    assert result.exit_code == 0, result.output
    assert out.read_text(encoding="utf-8").startswith("<!DOCTYPE html>")
    assert sorted(p.name for p in (tmp_path / "letters").iterdir()) == ["feedback-cand-a.html", "feedback-cand-b.html"]


def test_report_never_writes_over_a_file(tmp_path):
    out = tmp_path / "kent.html"
    out.write_text("mine", encoding="utf-8")
    result = run("report", SELECTION, "-o", out)
    assert result.exit_code == 2 and "E117" in result.output and "--output" in result.output
    assert out.read_text(encoding="utf-8") == "mine"


def test_report_names_every_missing_input_at_once(tmp_path):
    result = run("report", tmp_path / "nope.yaml", tmp_path / "gone.jsonl")
    assert result.exit_code == 2
    assert result.output.count("E100") == 2 and "Traceback" not in result.output


def test_report_of_an_unknown_ledger_id_is_refused(tmp_path):
    ledger = tmp_path / "ledger.sqlite"
    assert run("score", MISSING_PERSONS, "--record", "--ledger", ledger).exit_code == 0
    result = run("report", "0123456789abcdef", "--ledger", ledger)
    assert result.exit_code == 2 and "E171" in result.output


def test_report_of_a_recorded_decision_shows_its_stored_findings(tmp_path):
    ledger = tmp_path / "ledger.sqlite"
    assert run("score", MISSING_PERSONS, "--record", "--ledger", ledger).exit_code == 0
    decision_id = json.loads(run("score", MISSING_PERSONS, "--format", "json").output.splitlines()[0])["decision_id"]
    result = run("report", decision_id, "--ledger", ledger)
    assert result.exit_code == 0, result.output
    assert "mp-risk-assessment" in result.output and f"ledger {decision_id}" in result.output


def test_letters_need_a_selection(tmp_path):
    result = run("report", MISSING_PERSONS, "--letters", tmp_path / "letters")
    assert result.exit_code == 2 and "E174" in result.output and "--letters" in result.output
    assert not (tmp_path / "letters").exists()


@pytest.mark.parametrize("path", [MISSING_PERSONS, SELECTION])
def test_the_report_fetches_nothing(catalog, path):
    """No script, stylesheet, image, font or frame from anywhere: the file stands alone (the
    browser tests also watch every request)."""
    html = report_of(catalog, path)
    for e in elements(html):
        assert e["tag"] not in ("script", "link", "img", "iframe", "object", "embed")
        assert not any(key in ("src", "href") and not value.startswith("#") for key, value in e["attrs"].items())
    assert "url(" not in html and "@import" not in html


def test_report_has_help_with_an_example():
    result = run("report", "--help")
    assert result.exit_code == 0 and "Example:" in result.output and "arbiter report" in result.output


def test_pdf_without_a_browser_is_refused_at_the_option(tmp_path, monkeypatch):
    monkeypatch.setenv("ARBITER_CHROMIUM", str(tmp_path / "no-browser"))
    result = run("report", MISSING_PERSONS, "-o", tmp_path / "r.html", "--pdf", tmp_path / "r.pdf")
    assert result.exit_code == 2 and "--pdf: error E174" in result.output and "Chromium" in result.output
    assert not (tmp_path / "r.pdf").exists() and not (tmp_path / "r.html").exists()  # asked before writing


def test_a_letter_or_pdf_in_the_way_stops_the_report_before_anything_is_written(tmp_path):
    (tmp_path / "letters").mkdir()
    (tmp_path / "letters" / "feedback-cand-b.html").write_text("mine", encoding="utf-8")
    (tmp_path / "r.pdf").write_text("mine", encoding="utf-8")
    result = run("report", SELECTION, "-o", tmp_path / "r.html", "--letters", tmp_path / "letters",
                 "--pdf", tmp_path / "r.pdf")
    assert result.exit_code == 2 and result.output.count("E117") == 2, result.output
    assert "--pdf: error E117" in result.output and "--letters: error E117" in result.output
    assert sorted(p.name for p in tmp_path.rglob("*") if p.is_file()) == ["feedback-cand-b.html", "r.pdf"]


def test_summary_html_is_written_to_a_new_file(tmp_path):
    out = tmp_path / "summary.html"
    assert run("summary", ROOT / "cases" / "kent-2007", "--format", "html", "-o", out).exit_code == 0
    assert "<svg" in out.read_text(encoding="utf-8")
    again = run("summary", ROOT / "cases" / "kent-2007", "--format", "html", "-o", out)
    assert again.exit_code == 2 and "E117" in again.output


def test_a_staged_selection_shows_the_cells_still_to_fill(catalog):
    path = ROOT / "cases" / "appointments" / "constructed" / "staged-after-media.yaml"
    record = engine.score(catalog, path).records[-1]
    assert record["stages"]["still_to_fill"] > 0
    found = elements(report_of(catalog, path))
    to_fill = [e for e in found if e["tag"] == "td" and "to-fill" in e["attrs"].get("class", "").split()]
    assert len(to_fill) == record["stages"]["still_to_fill"] == sum(not c["held"] for c in record["cells"])
    assert all(e["text"].split()[:2] == ["to", "fill"] for e in to_fill)
    text = " ".join("".join(e["text"] for e in found if e["tag"] == "body").split())
    assert f"{record['stages']['still_to_fill']} cells still to fill" in text and record["outcome_label"] in text


@pytest.mark.parametrize("name", ["passes", "tiebreaker"])
def test_a_pair_table_selection_is_reported(catalog, name):
    """A pair-table process has no agreed rating per cell: each cell says so, and nothing fails."""
    path = ROOT / "cases" / "examples-pair-table" / f"{name}.yaml"
    record = engine.score(catalog, path).records[-1]
    html = report_of(catalog, path)
    assert record["outcome_label"] in html.replace("&#39;", "'")
    cells = [e for e in elements(html) if e["tag"] == "td" and "cell" in e["attrs"].get("class", "").split()]
    assert len(cells) == len(record["cells"])


def test_summary_output_is_for_the_html_format(tmp_path):
    result = run("summary", ROOT / "cases" / "kent-2007", "-o", tmp_path / "s.txt")
    assert result.exit_code == 2 and "--output: error E174" in result.output
    assert not (tmp_path / "s.txt").exists()


def test_a_recorded_selection_is_reported_with_its_heat_map_and_letters(tmp_path, catalog):
    ledger = tmp_path / "ledger.sqlite"
    assert run("score", SELECTION, "--record", "--ledger", ledger).exit_code == 0
    record = selection_record(catalog)
    out = tmp_path / "r.html"
    result = run("report", record["decision_id"], "--ledger", ledger, "-o", out, "--letters", tmp_path / "letters",
                 "--reveal")
    assert result.exit_code == 0, result.output
    cells = [e for e in elements(out.read_text(encoding="utf-8")) if e["tag"] == "td"
             and "cell" in e["attrs"].get("class", "").split()]
    assert len(cells) == len(record["cells"])
    assert "Tim Smith" in (tmp_path / "letters" / "feedback-cand-a.html").read_text(encoding="utf-8")
