"""Every tab in a real browser: opened by its deep link, its worked example rendered, no error shown.

Drives Debian's chromium through Playwright. Screenshots land in artifacts/screenshots/.
Locally the tests skip when chromium is missing; in CI (CI=true) that is a failure.
"""

import os
import shutil

import pytest

from seqdemo.ui import TABS

pytestmark = [pytest.mark.browser, pytest.mark.e2e]

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture(scope="module")
def browser():
    if not os.path.exists(CHROMIUM):
        if os.environ.get("CI"):
            pytest.fail("chromium is not installed; .ci/run must install it")
        pytest.skip("chromium is not installed (apt-get install chromium)")
    playwright_api = pytest.importorskip("playwright.sync_api")
    with playwright_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


def wait_until_idle(page, timeout_ms: int = 120_000) -> None:
    """Wait until the app is mounted and no event is pending (no progress bar or spinner shown).

    Not "networkidle": Gradio keeps a heartbeat stream open for apps with session state.
    """
    page.wait_for_selector("button[role='tab']", timeout=timeout_ms)
    page.wait_for_timeout(500)  # let the load events start
    page.wait_for_function(
        "() => !document.querySelector('.progress-text, .eta-bar, .generating, .pending')",
        timeout=timeout_ms,
    )


@pytest.mark.parametrize("tab_id", [tab_id for tab_id, _, _ in TABS])
def test_tab_opens_by_deep_link_and_renders_its_example(browser, app_url, screenshot_dir, tab_id):
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    try:
        page.goto(f"{app_url}?tab={tab_id}")
        wait_until_idle(page)
        title = dict((tid, title) for tid, title, _ in TABS)[tab_id]
        selected = page.locator("button[role='tab'][aria-selected='true']")
        assert selected.inner_text().strip() == title
        panel = page.locator("[role='tabpanel']:visible").first
        rendered = panel.locator("img, svg, canvas, table, .sd-chips, .sd-grid")
        assert rendered.count() > 0, f"tab {tab_id} shows no figure, grid or table after its example ran"
        assert page.locator(".toast-body.error, .toast-wrap .error").count() == 0
        page.screenshot(path=str(screenshot_dir / f"{tab_id}.png"), full_page=True)
    finally:
        page.close()
