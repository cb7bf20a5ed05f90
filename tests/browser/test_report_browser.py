"""The HTML report in a real browser: Debian's Chromium, headless, driven by Playwright.

The page is loaded from file:// as an auditor would open it. The test reads the rendered DOM: the
numbers shown equal the JSON report's, sorting and filtering change the table as they should, a job
name made of markup stays text, and the page makes no request but for the file itself. A screenshot
is saved under tests/output/ for a person to look at.
"""
from __future__ import annotations

import datetime
import json
import shutil
import sys
import typing as t
from pathlib import Path

import pytest

from tests.support.paths import REPO, collections_root

if str(collections_root()) not in sys.path:
    sys.path.insert(0, str(collections_root()))

from ansible_collections.winbits.bits.plugins.plugin_utils._policy import load_policy  # noqa: E402
from ansible_collections.winbits.bits.plugins.plugin_utils._report.build import (  # noqa: E402
    PolicyEvaluation,
    assess_and_write,
    build_report,
    write_reports,
)
from ansible_collections.winbits.bits.tests.unit.utils.bits_report_assessment import (  # noqa: E402
    NASTY_NAME,
    assessment,
    host,
    job,
    sample_assessment,
    synthetic_assessment,
)
from ansible_collections.winbits.bits.tests.unit.utils.report_fleet import POLICY, fleet  # noqa: E402

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
OUTPUT = REPO / "tests" / "output"
# No sandbox (containers, root), no GPU, and none of Chromium's own background traffic.
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run", "--disable-default-apps", "--disable-extensions"]
NOW = datetime.datetime(2026, 11, 21, 8, 15, tzinfo=datetime.timezone.utc)


class Browser:
    """One headless Chromium page with everything the page requests, says and opens recorded."""

    def __init__(self, playwright: t.Any, profile: Path) -> None:
        self.requests: list[str] = []
        self.console: list[str] = []
        self.dialogs: list[str] = []
        self.context = playwright.chromium.launch_persistent_context(
            str(profile), executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS,
            viewport={"width": 1400, "height": 1000}, service_workers="block")
        self.context.on("request", lambda request: self.requests.append(request.url))
        # Anything but a file:// load is refused as well as recorded: nothing leaves the machine.
        self.context.route(lambda url: not url.startswith("file://"), lambda route: route.abort())
        self.page = self.context.pages[0] if self.context.pages else self.context.new_page()
        self.page.on("console", lambda message: self.console.append(f"{message.type}: {message.text}"))
        self.page.on("pageerror", lambda error: self.console.append(f"pageerror: {error}"))
        self.page.on("dialog", self._dialog)

    def _dialog(self, dialog: t.Any) -> None:
        self.dialogs.append(dialog.message)
        dialog.dismiss()

    def open(self, path: Path) -> t.Any:
        self.page.goto(path.as_uri())
        self.page.wait_for_selector("html[data-ready=true]", timeout=30_000)
        return self.page


@pytest.fixture(scope="module")
def playwright() -> t.Iterator[t.Any]:
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: install the Debian package chromium (bash scripts/setup.sh does)")
    from playwright.sync_api import sync_playwright  # noqa: PLC0415  (only this test needs it)

    with sync_playwright() as driver:
        yield driver


@pytest.fixture
def browser(playwright: t.Any, tmp_path: Path) -> t.Iterator[Browser]:
    session = Browser(playwright, tmp_path / "profile")
    yield session
    session.context.close()


def write(report: dict[str, t.Any], directory: Path) -> tuple[Path, dict[str, t.Any]]:
    paths = write_reports(report, directory, ["json", "html"])
    return paths["html"], json.loads(paths["json"].read_text())


def rows(page: t.Any) -> list[dict[str, str]]:
    return page.eval_on_selector_all(
        "#job-rows tr.row",
        "trs => trs.map(tr => ({status: tr.dataset.status, host: tr.cells[0].firstChild.textContent,"
        " job: tr.cells[1].firstChild ? tr.cells[1].firstChild.textContent : ''}))")


def shown_summary(page: t.Any) -> dict[str, str]:
    return page.eval_on_selector_all("[data-summary]",
                                     "nodes => Object.fromEntries(nodes.map(n => [n.dataset.summary, n.textContent]))")


def settle(page: t.Any) -> None:
    """The text filter waits 120 ms after the last key; wait for it to apply."""
    page.wait_for_timeout(300)


def test_report_in_chromium(browser: Browser, tmp_path: Path) -> None:
    previous = build_report(sample_assessment(), generated_at=NOW, previous=None)
    fleet = sample_assessment()
    [web01] = [entry for entry in fleet["hosts"] if entry["name"] == "web01"]
    web01["jobs"][0].update(status="violation", problems=["network is forbidden by rule content-sync"])
    web01["status"] = "noncompliant"
    current = assessment(fleet["hosts"], waivers=fleet["waivers"])
    html, data = write(build_report(current, generated_at=NOW, previous=previous), tmp_path / "report")
    page = browser.open(html)

    expected = {f"{group}.{key}": str(value) for group in ("hosts", "jobs") for key, value in data["summary"][group].items()}
    assert shown_summary(page) == expected
    hosts = data["summary"]["hosts"]
    assert page.text_content("#host-compliance") == f"{100 * hosts['compliant'] / hosts['total']:.1f}"
    total_rows = data["summary"]["jobs"]["total"] + sum(1 for entry in data["hosts"] if not entry["jobs"])
    assert page.text_content("#match-count") == f"Showing all {total_rows} rows"
    assert len(rows(page)) == total_rows
    assert {row["host"] for row in rows(page)} == {entry["name"] for entry in data["hosts"]}
    # Default order: most urgent first.
    assert rows(page)[0]["status"] == "violation"

    page.click("button[data-sort=host]")
    ascending = [row["host"] for row in rows(page)]
    assert ascending == sorted(ascending) and ascending != [row["host"] for row in rows(page)][::-1]
    assert page.get_attribute("th:has(button[data-sort=host])", "aria-sort") == "ascending"
    page.click("button[data-sort=host]")
    assert [row["host"] for row in rows(page)] == sorted(ascending, reverse=True)
    assert page.get_attribute("th:has(button[data-sort=host])", "aria-sort") == "descending"

    page.fill("#filter-text", "WEB0")
    settle(page)
    filtered = rows(page)
    web_rows = sum(len(entry["jobs"]) or 1 for entry in data["hosts"] if "web0" in entry["name"])
    assert filtered and len(filtered) == web_rows and all("web0" in row["host"] for row in filtered)
    assert page.text_content("#match-count") == f"{web_rows} of {total_rows} rows match"
    page.fill("#filter-text", "")
    settle(page)

    page.click("button[data-status-filter=violation]")
    violations = rows(page)
    assert len(violations) == data["summary"]["jobs"]["violation"]
    assert {row["status"] for row in violations} == {"violation"}
    assert page.text_content("[data-chip-count=violation]") == str(data["summary"]["jobs"]["violation"])
    # Each violation shows its fix task.
    assert page.locator("#job-rows tr.detail pre").count() == sum(
        1 for entry in data["hosts"] for job in entry["jobs"] if job["status"] == "violation" and job["fix"])

    page.click("button[data-status-filter=not_assessed]")
    assert {row["host"] for row in rows(page)} == {"dead01", "fail01"}

    # The markup in a job name is text in the page, and ran nothing.
    page.click("button[data-status-filter=all]")
    page.fill("#filter-text", "alert(1)")
    settle(page)
    assert [row["job"] for row in rows(page)] == [NASTY_NAME]
    assert browser.dialogs == []
    assert page.evaluate("document.querySelectorAll('#job-rows script').length") == 0

    assert page.text_content("[data-drift=became_noncompliant] .badge") == "1"
    assert browser.requests == [html.as_uri()], browser.requests
    assert browser.console == [], browser.console

    page.fill("#filter-text", "")
    settle(page)
    OUTPUT.mkdir(exist_ok=True)
    screenshot = OUTPUT / "bits-compliance-report.png"
    page.screenshot(path=str(screenshot), full_page=True)
    print(f"screenshot: {screenshot}")


def test_pages_of_a_bigger_fleet(browser: Browser, tmp_path: Path) -> None:
    html, data = write(build_report(synthetic_assessment(40), generated_at=NOW, previous=None), tmp_path)
    page = browser.open(html)
    total_rows = sum(len(entry["jobs"]) or 1 for entry in data["hosts"])
    first = rows(page)
    assert len(first) == 50 and page.text_content("#page-info").startswith(f"Rows 1–50 of {total_rows}")
    assert page.is_disabled("#page-prev")
    page.click("#page-next")
    second = rows(page)
    assert len(second) == min(50, total_rows - 50) and second != first
    page.select_option("#page-size", "500")
    assert len(rows(page)) == total_rows and page.is_disabled("#page-next")
    assert browser.requests == [html.as_uri()]
    assert browser.console == []


def test_hostile_names_stay_visible_and_keep_the_status_on_screen(browser: Browser, tmp_path: Path) -> None:
    """A 256-character name without a space wraps inside its column, so every row's status stays on
    screen, and the whole name is still there; a right-to-left override shows as its code point."""
    long_name = "A" * 120 + "B" * 136
    spoof = "invoice\u202etxt.exe"
    spoofed = job(2, name=spoof, status="violation", rule="no-network", problems=["network is forbidden by rule no-network"])
    hosts = [host("web01", [job(1, name=long_name), spoofed]),
             host("web02", [job(3, host="web02", name="contentSync")])]
    html, _report = write(build_report(assessment(hosts), generated_at=NOW, previous=None), tmp_path)
    page = browser.open(html)
    page.click("button[data-sort=host]")
    width = page.viewport_size["width"]
    cells = page.eval_on_selector_all(
        "#job-rows tr.row",
        "trs => trs.map(tr => ({job: tr.cells[1].firstChild.textContent,"
        " right: tr.cells[2].getBoundingClientRect().right}))")
    assert {cell["job"] for cell in cells} == {long_name, "invoice⟨U+202E⟩txt.exe", "contentSync"}
    assert all(cell["right"] <= width for cell in cells), (width, cells)
    OUTPUT.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(OUTPUT / "report-hostile-names.png"), full_page=False)
    assert browser.console == []


def test_a_report_written_in_slices_shows_the_table_of_one_process(browser: Browser, tmp_path: Path) -> None:
    """Written by three processes, the table's data has three blocks, which the page joins: every row,
    status and fix is the one the report of one process shows."""
    policy = load_policy(POLICY)
    results = sorted(fleet(hosts=30).items())
    shown = {}
    for workers in (1, 3):
        dest = tmp_path / f"workers-{workers}"
        assess_and_write(PolicyEvaluation(policy, NOW.date()), results, dest, ["html"], generated_at=NOW,
                         previous=None, workers=workers)
        page = browser.open(dest / "bits-compliance.html")
        page.select_option("#page-size", "500")
        page.click("button[data-sort=host]")
        table = rows(page)
        page.click("button[data-status-filter=violation]")
        fixes = page.eval_on_selector_all("#job-rows tr.detail pre", "nodes => nodes.map(node => node.textContent)")
        shown[workers] = (page.text_content("#match-count"), table, fixes)
    assert shown[3] == shown[1]
    match_count, table, fixes = shown[1]
    assert len(table) == sum(len((result or {}).get("jobs") or []) or 1 for _name, result in results)
    assert fixes and all("winbits.bits.bits_helper_token" in fix for fix in fixes)
    assert browser.console == [], browser.console
