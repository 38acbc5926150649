"""Every kind of report opened in a real browser: headless Chromium (the system's, driven by
Playwright), offline. Each page is opened from a file:// URL and must make no request but for
the file itself; its DOM is checked (every heat-map cell with its rating and colour, the
legend, the sign-off block, the checklist, the arithmetic, the charts), its accessibility
basics (headers with scope, titled charts, contrast of the colours as the browser computes
them), and a screenshot of its main part is compared with a reviewed golden PNG.

Golden PNGs live in tests/golden/report/. To write a missing one:

    ARBITER_WRITE_GOLDENS=1 python -m pytest tests/test_report_browser.py

That writes only files that do not exist yet; to change one, delete it, regenerate it and
look at it before committing.
"""

from __future__ import annotations

import io
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from PIL import Image, ImageChops

import engine
from engine.report.palette import tone_of

from .conftest import ROOT
from .test_report import KENT_2022, MISSING_PERSONS, SELECTION, contrast

playwright_api = pytest.importorskip("playwright.sync_api", reason="the browser tests need the test extras")

GOLDEN = ROOT / "tests" / "golden" / "report"
CHROMIUM_FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync", "--font-render-hinting=none"]
VIEWPORT = {"width": 1000, "height": 800}
PIXEL_TOLERANCE = 40  # per channel: antialiasing may move an edge's shade, never a cell's colour
DIFFERING_AT_MOST = 0.005  # of the pixels


def chromium() -> str:
    found = os.environ.get("ARBITER_CHROMIUM") or shutil.which("chromium") or shutil.which("chromium-browser")
    if not found:
        pytest.fail("the browser tests need Chromium: apt-get install chromium (.ci/run installs it), "
                    "or set ARBITER_CHROMIUM to its path")
    return found


@pytest.fixture(scope="session")
def browser():
    with playwright_api.sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=chromium(), headless=True, args=CHROMIUM_FLAGS)
        yield launched
        launched.close()


@pytest.fixture(scope="session")
def reports(tmp_path_factory, catalog):
    """Each kind of report written as a file, as `arbiter report` writes it."""
    folder = tmp_path_factory.mktemp("reports")
    kent = engine.report_sources(catalog, [str(p) for p in sorted(KENT_2022.glob("*.yaml"))])
    written = {"inspection": engine.render_report(engine.report_sources(catalog, [str(MISSING_PERSONS)])),
               "kent": engine.render_report(kent)}
    written.update(engine.render_letters(kent))
    records = [d.record for d in engine.read_decisions(catalog, [ROOT / "cases" / "kent-2007",
                                                                 ROOT / "cases" / "constructed-2007",
                                                                 ROOT / "cases" / "kent-peel" / "2021"])]
    written["summary"] = engine.render_summary_html(engine.summarise(catalog, records))
    paths = {}
    for name, html in written.items():
        paths[name] = folder / (name if name.endswith(".html") else f"{name}.html")
        paths[name].write_text(html, encoding="utf-8")
    return paths


@pytest.fixture
def open_page(browser):
    """Open a report from its file; the page and every URL it requested."""
    pages = []

    def opener(path: Path):
        page = browser.new_page(viewport=VIEWPORT, device_scale_factor=1)
        requested: list[str] = []
        page.on("request", lambda request: requested.append(request.url))
        page.goto(path.as_uri(), wait_until="load")
        pages.append(page)
        return page, requested
    yield opener
    for page in pages:
        page.close()


def assert_only_the_file_was_requested(path: Path, requested: list[str]) -> None:
    assert requested == [path.as_uri()], f"requests besides the file: {requested}"


def assert_headers_have_scope(page) -> None:
    missing = page.eval_on_selector_all("th", "ths => ths.filter(th => !th.getAttribute('scope')).map(th => th.outerHTML)")
    assert not missing, f"table headers without scope: {missing[:3]}"


def compare_with_golden(element, name: str) -> None:
    actual_bytes = element.screenshot(animations="disabled", caret="hide")
    golden = GOLDEN / name
    if not golden.is_file():
        if os.environ.get("ARBITER_WRITE_GOLDENS") == "1":
            golden.parent.mkdir(parents=True, exist_ok=True)
            golden.write_bytes(actual_bytes)
            pytest.skip(f"wrote missing golden image {golden.relative_to(ROOT)}; look at it before committing")
        pytest.fail(f"golden image {golden.relative_to(ROOT)} is missing; "
                    "run ARBITER_WRITE_GOLDENS=1 python -m pytest tests/test_report_browser.py")
    actual = Image.open(io.BytesIO(actual_bytes)).convert("RGB")
    expected = Image.open(golden).convert("RGB")
    assert actual.size == expected.size, f"{name}: {actual.size} against the golden {expected.size}"
    difference = ImageChops.difference(actual, expected).convert("L").point(lambda v: 255 if v > PIXEL_TOLERANCE else 0)
    differing = difference.histogram()[255] / (actual.size[0] * actual.size[1])
    assert differing <= DIFFERING_AT_MOST, f"{name}: {differing:.2%} of the pixels differ from the golden"


def test_the_selection_heat_map_in_the_browser(open_page, reports, catalog):
    page, requested = open_page(reports["kent"])
    record = engine.score(catalog, SELECTION).records[-1]
    scale = yaml.safe_load((ROOT / "criteria" / "scales" / "cvf-rating.yaml").read_text(encoding="utf-8"))
    values = sorted(level["value"] for level in scale["levels"])
    for cell in record["cells"]:
        selector = (f'td.cell[data-candidate="{cell["candidate"]}"][data-exercise="{cell["exercise"]}"]'
                    f'[data-area="{cell["area"]}"]')
        shown = page.locator(selector)
        assert shown.count() == 1, selector
        assert shown.locator(".rating").inner_text() == str(cell["agreed"])
        assert tone_of(cell["agreed"], values) in shown.get_attribute("class").split()
    legend = page.locator("ul.legend li")
    assert legend.count() >= len(scale["levels"])
    for level in scale["levels"]:
        assert page.locator("ul.legend").get_by_text(level["label"], exact=False).count() >= 1
    assert_only_the_file_was_requested(reports["kent"], requested)


def test_the_heat_map_colours_read_at_wcag_aa_as_the_browser_draws_them(open_page, reports):
    page, _ = open_page(reports["kent"])
    pairs = page.eval_on_selector_all(
        "td.cell, ul.legend .swatch",
        "cells => cells.map(c => [getComputedStyle(c).backgroundColor, getComputedStyle(c).color])")
    assert pairs
    low = [(back, text, round(contrast(back, text), 2)) for back, text in pairs if contrast(back, text) < 4.5]
    assert not low, f"colour pairs below 4.5: {low}"


def test_the_sign_off_block_and_the_pack_in_the_browser(open_page, reports, catalog):
    page, requested = open_page(reports["kent"])
    record = engine.score(catalog, SELECTION).records[-1]
    signoff = page.locator("section.selection .signoff tbody tr")
    assert signoff.count() == len(record["panel"])
    assert page.locator("section.selection .signoff").get_by_text("date").count() >= 1
    assert page.locator("section.pack table.checklist tbody tr").count() == 3
    assert page.locator("section.compliance table.checklist tbody tr").count() >= 1
    assert page.locator("section.hearing table.arithmetic").count() == 1
    assert page.locator("section.decision").first.get_attribute("class").split()[-1] == "pack"
    assert_headers_have_scope(page)
    assert_only_the_file_was_requested(reports["kent"], requested)
    compare_with_golden(page.locator("section.selection table.heatmap"), "kent-cc-2022-heatmap.png")


def test_individual_ratings_open_on_demand(open_page, reports):
    page, _ = open_page(reports["kent"])
    details = page.locator("details.individual").first
    table = details.locator("table")
    assert not table.is_visible()
    details.locator("summary").click()
    assert table.is_visible()
    assert table.locator("th", has_text="pcc").count() == 1


def test_the_inspection_report_in_the_browser(open_page, reports, catalog):
    page, requested = open_page(reports["inspection"])
    case = yaml.safe_load(MISSING_PERSONS.read_text(encoding="utf-8"))
    assert page.locator("tr.finding").count() == len(case["findings"])
    record = engine.score(catalog, MISSING_PERSONS).records[0]
    assert page.locator(".grade").first.inner_text() == record["outcome_label"]
    assert page.locator("table.hashes").inner_text().count(record["evidence_sha256"]) == 1
    assert_headers_have_scope(page)
    assert_only_the_file_was_requested(reports["inspection"], requested)
    compare_with_golden(page.locator("section.decision > h2").first, "missing-persons-title.png")
    compare_with_golden(page.locator("table.findings"), "missing-persons-findings.png")


def test_the_summary_charts_in_the_browser(open_page, reports):
    page, requested = open_page(reports["summary"])
    charts = page.locator("svg[role=img]")
    assert charts.count() == page.locator("section.framework").count() == 2  # hmic-2007 and peel-2021, apart
    for index in range(charts.count()):
        chart = charts.nth(index)
        labelled = chart.get_attribute("aria-labelledby").split()
        assert all(page.locator(f"#{name}").count() == 1 for name in labelled)
        assert chart.locator("title").first.text_content().startswith("Outcomes per area under ")
        assert chart.locator("rect").count() >= 1
    assert page.get_by_text("rest on constructed evidence").count() >= 1
    assert_headers_have_scope(page)
    assert_only_the_file_was_requested(reports["summary"], requested)
    compare_with_golden(page.locator("section.framework svg").first, "summary-hmic-2007.png")


def test_a_feedback_letter_in_the_browser(open_page, reports, catalog):
    path = reports["feedback-cand-b.html"]
    page, requested = open_page(path)
    record = engine.score(catalog, SELECTION).records[-1]
    assert page.locator("article.letter").get_attribute("data-candidate") == "cand-b"
    assert page.locator("section.group").count() == 3
    areas = {c["area"] for c in record["cells"] if c["candidate"] == "cand-b"}
    assert page.locator("section.group h3").count() == len(areas)
    assert_only_the_file_was_requested(path, requested)
    compare_with_golden(page.locator("article.letter"), "letter-cand-b.png")


def test_an_external_reference_would_be_seen(browser, tmp_path):
    """The request check can fail: a page that fetches something is caught."""
    page = browser.new_page(viewport=VIEWPORT)
    requested: list[str] = []
    page.on("request", lambda request: requested.append(request.url))
    page.route("**/*", lambda route: route.abort() if not route.request.url.startswith("file:") else route.continue_())
    path = tmp_path / "fetches.html"
    path.write_text('<!DOCTYPE html><img src="https://example.org/x.png" alt="x">', encoding="utf-8")
    page.goto(path.as_uri(), wait_until="load")
    page.close()
    assert len(requested) == 2 and requested[1].startswith("https://example.org/")


def test_report_prints_to_pdf_through_chromium(tmp_path):
    """Through the command, in a process of its own (this one already drives a browser)."""
    command = [sys.executable, "-c", "from engine.cli import main; main()", "report", str(MISSING_PERSONS),
               "-o", str(tmp_path / "r.html"), "--pdf", str(tmp_path / "r.pdf")]
    result = subprocess.run(command, capture_output=True, text=True, timeout=120, cwd=ROOT)
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "r.pdf").read_bytes().startswith(b"%PDF-")
