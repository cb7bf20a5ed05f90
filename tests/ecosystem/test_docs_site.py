"""The collection's documentation as the Ansible docs tooling sees it, with no network (about 20 s).

1. ``antsibull-docs lint-collection-docs --plugin-docs`` (the checker of the community docsite and of most
   collections' CI) finds nothing: module and role docs, their references (M(), O(), RV()) and the
   extra docs of docs/docsite.
2. ``scripts/docs.sh`` builds the HTML site (antsibull-docs sphinx-init --use-current, Sphinx with
   warnings as errors), offline: a page per module and role, and the guides.
3. A module page, opened in headless Chromium from file://, shows its options table with every
   documented option, and the page requests nothing from the network.
"""
from __future__ import annotations

import shutil
import subprocess
import typing as t
from pathlib import Path

import pytest
import yaml

from tests.ecosystem.conftest import BIN, no_network_prefix, run_tool, tool_env
from tests.support.paths import REPO, collections_root

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
# As tests/unit/test_report_browser.py runs it: no sandbox (containers, root), no GPU, none of Chromium's
# own background traffic.
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run", "--disable-default-apps", "--disable-extensions"]
OUTPUT = REPO / "tests" / "output"
MODULE = "bits_helper_token"


def _extra_docs() -> list[str]:
    sections = yaml.safe_load((REPO / "docs" / "docsite" / "extra-docs.yml").read_text(encoding="utf-8"))["sections"]
    return [name for section in sections for name in section["toctree"]]


def test_antsibull_docs_lint_finds_nothing(tmp_path: Path):
    # Run where a collection is expected: the collections tree the set-up script links to this checkout.
    root = collections_root() / "ansible_collections" / "winbits" / "bits"
    done = run_tool(["antsibull-docs", "lint-collection-docs", "--plugin-docs", "."], cwd=root,
                    env=tool_env(tmp_path, collections_root()), offline=True)
    assert done.returncode == 0 and not done.stdout.strip(), done.stdout[-6000:] + done.stderr[-3000:]


@pytest.fixture(scope="module")
def docs_site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """`bash scripts/docs.sh DIR` with no network; the HTML it built."""
    work = tmp_path_factory.mktemp("docs")
    env = tool_env(work, collections_root())
    env["WINBITS_VENV"] = str(BIN.parent)  # the venv running these tests, as for every other tool here
    done = subprocess.run([*no_network_prefix(), "bash", str(REPO / "scripts" / "docs.sh"), str(work / "site")],
                          capture_output=True, text=True, cwd=REPO, env=env, timeout=600, check=False)
    output = done.stdout + done.stderr
    assert done.returncode == 0, output[-8000:]
    assert "build succeeded" in output and "warning" not in output.lower(), output[-8000:]
    return work / "site" / "build" / "html"


def test_the_site_has_a_page_per_module_and_role_and_the_guides(docs_site: Path):
    modules = sorted({path.stem for pattern in ("*.py", "*.yml") for path in (REPO / "plugins" / "modules").glob(pattern)
                      if not path.name.startswith("__")})
    roles = sorted(path.name for path in (REPO / "roles").iterdir() if (path / "meta" / "argument_specs.yml").is_file())
    pages = [f"{name}_module.html" for name in modules] + [f"{name}_role.html" for name in roles]
    assert not [page for page in pages if not (docs_site / page).is_file()], sorted(path.name for path in docs_site.iterdir())
    guides = _extra_docs()
    assert "guide_helper_token" in guides
    missing = [guide for guide in guides if not (docs_site / "docsite" / f"{guide}.html").is_file()]
    assert not missing, missing
    index = (docs_site / "index.html").read_text(encoding="utf-8")
    assert all(f"docsite/{guide}.html" in index for guide in guides), "a guide is not linked from the index"


@pytest.fixture(scope="module")
def chromium_page() -> t.Iterator[tuple[t.Any, list[str]]]:
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: install the Debian package chromium (bash scripts/setup.sh does)")
    from playwright.sync_api import sync_playwright  # noqa: PLC0415  (only the browser tests need it)

    requests: list[str] = []
    with sync_playwright() as driver:
        browser = driver.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1300, "height": 1000})
        page.on("request", lambda request: requests.append(request.url))
        # Anything but a file:// load is refused as well as recorded: nothing leaves the machine.
        page.route(lambda url: not url.startswith("file://"), lambda route: route.abort())
        yield page, requests
        browser.close()


def _documented_options(module: str) -> list[str]:
    doc = yaml.safe_load((REPO / "plugins" / "modules" / f"{module}.yml").read_text(encoding="utf-8"))["DOCUMENTATION"]
    return sorted(doc["options"])


def test_the_module_page_shows_its_options_table_in_chromium(docs_site: Path, chromium_page):
    page, requests = chromium_page
    page.goto((docs_site / f"{MODULE}_module.html").as_uri())
    page.wait_for_load_state("load")
    OUTPUT.mkdir(exist_ok=True)
    page.screenshot(path=str(OUTPUT / f"docs-{MODULE}.png"), full_page=False)

    heading = page.locator("section#parameters h2, #parameters h2").first
    assert heading.is_visible() and heading.inner_text().strip().startswith("Parameters")
    table = page.locator("#parameters table.ansible-option-table").first
    assert table.is_visible(), "the Parameters section shows no options table"
    box = table.bounding_box()
    assert box and box["width"] > 400 and box["height"] > 200, box
    header = [cell.strip() for cell in table.locator("thead th").all_inner_texts()]
    assert header == ["Parameter", "Comments"], header
    # One row per option, its name in the row's title: every documented option is shown and visible,
    # and no other.
    titles = table.locator("p.ansible-option-title")
    assert sorted(text.strip() for text in titles.all_inner_texts()) == _documented_options(MODULE)
    assert all(titles.nth(index).is_visible() for index in range(titles.count()))
    assert [url for url in requests if not url.startswith("file://")] == []
