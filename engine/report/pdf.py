"""A report printed to PDF by headless Chromium, through Playwright (the optional `pdf` extra).

The browser is the system's Chromium (`$ARBITER_CHROMIUM`, else `chromium` or
`chromium-browser` on the PATH), started headless with a fresh profile and every
background network feature off; every request the page would make is refused, so printing
is as offline as the file itself.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
from pathlib import Path
from typing import Optional

from ..language.options import option_error
from ..language.output import write_new_file

BROWSER_ENV = "ARBITER_CHROMIUM"
BROWSER_NAMES = ("chromium", "chromium-browser")
CHROMIUM_FLAGS = ("--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync")


def chromium_path() -> Optional[str]:
    given = os.environ.get(BROWSER_ENV)
    if given:
        return given if Path(given).is_file() else None
    return next((found for name in BROWSER_NAMES if (found := shutil.which(name))), None)


def require_printer(option: str = "--pdf") -> str:
    """Chromium's path, once both it and Playwright are found; refused at the option (E174)
    otherwise, so a command can ask before it writes anything."""
    browser_path = chromium_path()
    if browser_path is None:
        raise option_error(option, "printing to PDF needs Chromium, and none was found",
                           f"install Chromium (Debian: apt-get install chromium) or set ${BROWSER_ENV} to its path")
    if importlib.util.find_spec("playwright") is None:
        raise option_error(option, "printing to PDF needs Playwright for Python, which is not installed",
                           "install it with: pip install 'arbiter[pdf]'")
    return browser_path


def print_pdf(html: str, output: Path, option: str = "--pdf") -> None:
    """Print the report to a new PDF file (A4, backgrounds printed: the heat map's colours)."""
    browser_path = require_printer(option)
    from playwright.sync_api import Error, sync_playwright

    if output.exists() or output.is_symlink():
        raise option_error(option, f"{output} exists; a file is never overwritten", "give a new file name", "E117")
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=browser_path, headless=True, args=list(CHROMIUM_FLAGS))
            try:
                page = browser.new_page()
                page.route("**/*", lambda route: route.abort())
                page.set_content(html, wait_until="load")
                document = page.pdf(format="A4", print_background=True,
                                    margin={"top": "15mm", "bottom": "15mm", "left": "12mm", "right": "12mm"})
            finally:
                browser.close()
    except Error as error:
        raise option_error(option, f"Chromium could not print the report: {str(error).splitlines()[0]}",
                           f"check that {browser_path} starts headless") from None
    write_new_file(output, document, option)
