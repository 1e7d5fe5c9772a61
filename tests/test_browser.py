"""Every tab in a real browser: opened by its deep link, its worked example rendered, no error shown.

Drives Debian's chromium through Playwright. Screenshots land in artifacts/screenshots/.
Locally the tests skip when chromium is missing; in CI (CI=true) that is a failure.
"""

import contextlib
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


IDLE_PAGE = "() => !document.querySelector('.progress-text, .eta-bar, .generating, .pending')"


def wait_until_idle(page, timeout_ms: int = 120_000) -> None:
    """Wait until the app is mounted and no event is pending (no progress bar or spinner shown).

    Not "networkidle": Gradio keeps a heartbeat stream open for apps with session state.
    """
    page.wait_for_selector("button[role='tab']", timeout=timeout_ms)
    page.wait_for_timeout(500)  # let the load events start
    page.wait_for_function(IDLE_PAGE, timeout=timeout_ms)


# Words each tab shows only once its worked example has been computed, and how many times
# (the long-documents tab streams two examples: the comparison, then the needle sweep).
EXAMPLE_DONE = {
    "lengths": ("padding share", 1),
    "padding": ("position_ids", 1),
    "masks": ("vs. alone", 1),
    "longdoc": ("Done: 5 of 5", 2),
    "attention": ("with attention_mask", 1),
    "batching": ("Recommended", 1),
}


def test_every_tab_has_a_completion_marker():
    assert set(EXAMPLE_DONE) == {tab_id for tab_id, _, _ in TABS}


def wait_for_example(page, done: tuple[str, int], timeout_ms: int = 120_000) -> None:
    """Wait until the visible tab shows its marker often enough, then until a figure (or an HTML chart) has loaded.

    Figures below the fold load lazily, so the page is scrolled through before that check.
    """
    marker, times = done
    page.wait_for_function(
        """([marker, times]) => {
            const panel = [...document.querySelectorAll("[role='tabpanel']")].find(p => p.offsetParent !== null);
            return !!panel && panel.innerText.split(marker).length - 1 >= times;
        }""",
        arg=[marker, times],
        timeout=timeout_ms,
    )
    for _ in range(3):
        page.mouse.wheel(0, 4000)
        page.wait_for_timeout(300)
    page.wait_for_function(
        """() => {
            const panel = [...document.querySelectorAll("[role='tabpanel']")].find(p => p.offsetParent !== null);
            const drawn = [...panel.querySelectorAll("img")].some(i => i.src && i.complete && i.naturalWidth > 0);
            return drawn || !!panel.querySelector(".sd-chart");  // a figure, or a chart drawn as HTML
        }""",
        timeout=timeout_ms,
    )


TITLES = {tab_id: title for tab_id, title, _ in TABS}


@contextlib.contextmanager
def opened(browser, url: str, tab_id: str):
    """A page at `url` with tab `tab_id`'s worked example finished; closed afterwards."""
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    try:
        page.goto(url)
        wait_until_idle(page)
        wait_for_example(page, EXAMPLE_DONE[tab_id])
        yield page
    finally:
        page.close()


def selected_title(page) -> str:
    return page.locator("button[role='tab'][aria-selected='true']").inner_text().strip()


@pytest.mark.parametrize("tab_id", [tab_id for tab_id, _, _ in TABS])
def test_tab_opens_by_deep_link_and_renders_its_example(browser, app_url, screenshot_dir, tab_id):
    with opened(browser, f"{app_url}?tab={tab_id}", tab_id) as page:
        assert selected_title(page) == TITLES[tab_id]
        panel = page.locator("[role='tabpanel']:visible").first
        rendered = panel.locator("img, svg, canvas, table, .sd-chips, .sd-grid")
        assert rendered.count() > 0, f"tab {tab_id} shows no figure, grid or table after its example ran"
        assert page.locator(".toast-body.error, .toast-wrap .error").count() == 0
        page.wait_for_function(
            "() => [...document.querySelectorAll('img')].every(img => img.offsetParent === null || img.complete)"
        )
        page.screenshot(path=str(screenshot_dir / f"{tab_id}.png"), full_page=True)


def test_bad_input_shows_one_clear_message_not_a_traceback(browser, app_url):
    with opened(browser, f"{app_url}?tab=lengths", "lengths") as page:
        panel = page.locator("[role='tabpanel']:visible").first
        panel.locator("textarea").first.fill("")
        panel.get_by_role("button", name="Measure").click()
        toast = page.locator(".toast-body.error")
        toast.wait_for(timeout=30_000)
        message = toast.inner_text()
        assert "at least one text" in message
        assert "Traceback" not in message and 'File "' not in message


def test_embed_mode_opens_the_linked_tab_without_the_title(browser, app_url):
    with opened(browser, f"{app_url}?tab=padding&embed=1", "padding") as page:
        assert selected_title(page) == TITLES["padding"]
        assert not page.locator("#sd-title").is_visible()
        assert page.locator("#sd-header").is_visible()  # which models and device: always said


# Every change of the sweep's status and figure, recorded in the page as it happens.
RECORD_SWEEP = """() => {
    window.sdSweep = [];
    const snapshot = () => {
        const status = document.querySelector("#sd-sweep-status")?.innerText.trim() ?? "";
        const src = document.querySelector("#sd-sweep-chart svg")?.innerHTML ?? "";
        const last = window.sdSweep[window.sdSweep.length - 1];
        if (!last || last.status !== status || last.src !== src) window.sdSweep.push({status, src});
    };
    new MutationObserver(snapshot).observe(document.body, {subtree: true, childList: true, attributes: true,
                                                           characterData: true});
}"""
STREAMING_FIGURE = """() => {
    const status = document.querySelector("#sd-sweep-status")?.innerText ?? "";
    const chart = document.querySelector("#sd-sweep-chart svg");
    return /sweeping with .*\\(([1-9]) of/.test(status) && !!chart && chart.querySelectorAll("title").length > 0;
}"""


def test_the_needle_sweep_streams_its_curves_while_it_runs(browser, app_url, screenshot_dir):
    """Tab 4's sweep shows its chart while strategies are still sweeping, and each update draws a new one."""
    with opened(browser, f"{app_url}?tab=longdoc", "longdoc") as page:
        page.evaluate(RECORD_SWEEP)
        positions = page.locator("#sd-sweep-positions input[type='number']")
        positions.fill("9")  # not the worked example's count, so the sweep runs rather than replays
        positions.press("Enter")
        page.get_by_role("button", name="Run the sweep").click()
        with contextlib.suppress(Exception):  # the screenshot is taken if an update is caught on screen
            page.wait_for_function(STREAMING_FIGURE, timeout=60_000, polling=50)
            page.locator("#sd-sweep-status").scroll_into_view_if_needed()
            page.screenshot(path=str(screenshot_dir / "longdoc-sweep-streaming.png"), full_page=True)
        page.wait_for_function(
            "() => document.querySelector('#sd-sweep-status')?.innerText.startsWith('Done: 5 of 5')"
            " && window.sdSweep.some(s => s.status.includes('sweeping with'))",
            timeout=120_000,
        )
        page.wait_for_function(IDLE_PAGE, timeout=120_000)
        log = page.evaluate("window.sdSweep")
        final = page.locator("#sd-sweep-status").inner_text()
    running = [entry for entry in log if "sweeping with" in entry["status"]]
    streamed = {entry["src"] for entry in running if entry["src"]}
    statuses = [entry["status"] for entry in log]
    assert len(streamed) >= 2, f"the chart changed {len(streamed)} times while the sweep ran: {statuses}"
    assert "for each of the 9 documents" in final, final
