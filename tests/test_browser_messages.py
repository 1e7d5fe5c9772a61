"""Refusals as a visitor sees them in Chromium: one sentence naming the field, no traceback, the tab still there.

Three of them, each screenshotted to artifacts/screenshots/message-*.png: a number out of its
range, a lone surrogate in a text box (set from script: no keyboard types one), and a
long-document request over one request's budget.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from test_browser import EXAMPLE_DONE, browser, opened  # noqa: F401 (browser is a fixture)

pytestmark = [pytest.mark.browser, pytest.mark.e2e]


def error_toast(page, screenshot: Path, timeout_ms: int = 60_000) -> str:
    """The error toast's text, once it has faded in; the page, scrolled to its field, saved to `screenshot`."""
    toast = page.locator(".toast-body.error").last
    toast.wait_for(timeout=timeout_ms)
    page.wait_for_timeout(1000)  # the toast fades in
    page.screenshot(path=str(screenshot))
    return toast.inner_text()


def shown_clearly(message: str, expected: str) -> None:
    assert expected in message, message
    assert "Traceback" not in message and 'File "' not in message and "Value " not in message


def set_text(locator, text: str) -> None:
    """Put `text` in a textarea as typing would, whatever it holds (input event, so Gradio sees it)."""
    locator.evaluate(
        "(box, text) => { box.value = text; box.dispatchEvent(new Event('input', {bubbles: true})); }", text
    )


def test_a_number_out_of_range_names_its_field(browser, app_url, screenshot_dir):  # noqa: F811
    with opened(browser, f"{app_url}?tab=batching", "batching") as page:
        panel = page.locator("[role='tabpanel']:visible").first
        batch_size = panel.get_by_label("batch_size (rows)")
        batch_size.fill("0")
        batch_size.press("Enter")
        panel.get_by_role("button", name="Compare strategies").click()
        batch_size.scroll_into_view_if_needed()
        message = error_toast(page, screenshot_dir / "message-number-out-of-range.png")
        shown_clearly(message, "“batch_size (rows)” takes a whole number from 1 to 1,024; 0 is not one.")


def test_a_lone_surrogate_names_the_field_and_where(browser, app_url, screenshot_dir):  # noqa: F811
    with opened(browser, f"{app_url}?tab=lengths", "lengths") as page:
        panel = page.locator("[role='tabpanel']:visible").first
        set_text(panel.locator("textarea").first, "A fine text\nabc\ud800def")
        panel.get_by_role("button", name="Measure").click()
        message = error_toast(page, screenshot_dir / "message-lone-surrogate.png")
        shown_clearly(message, "Texts, one per line: line 2, character 4 is U+D800, half of a surrogate pair")


def test_a_request_over_the_budget_says_what_to_reduce(browser, app_url, screenshot_dir):  # noqa: F811
    with opened(browser, f"{app_url}?tab=longdoc", "longdoc") as page:
        panel = page.locator("[role='tabpanel']:visible").first
        set_text(
            panel.get_by_role("textbox", name=re.compile("^Document")),
            "The fox jumps over the dog. It rests a while. " * 1000,
        )
        stride = panel.get_by_role("spinbutton", name=re.compile("sliding windows: stride"))
        stride.fill(str(stride.get_attribute("max")))
        stride.press("Enter")
        panel.get_by_role("button", name="Compare strategies").click()
        stride.scroll_into_view_if_needed()
        message = error_toast(page, screenshot_dir / "message-over-budget.png")
        shown_clearly(message, "Comparing these strategies on this document would run")
        assert "lower the sliding windows' stride" in message
