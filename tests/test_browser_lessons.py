"""Lesson pages in a real browser: one lesson alone in an iframe, a copied link that restores its inputs, and
the attention view that draws a hovered token's row with the backend's weights.

Same chromium and Playwright as test_browser.py; screenshots land in artifacts/screenshots/.
"""

import contextlib
import http.server
import threading
from urllib.parse import parse_qs, urlparse

import numpy as np
import pytest
from test_browser import EXAMPLE_DONE, browser  # noqa: F401  (browser is a fixture)

from seqdemo.ui import TABS
from seqdemo.ui.attention import EXAMPLE, MAX_TEXTS, store_extraction
from seqdemo.ui.views.attention import WEIGHT_STEPS

pytestmark = [pytest.mark.browser, pytest.mark.e2e]

OTHER_LESSON_WORDS = {  # words of each lesson's explanation that no other lesson shows
    "lengths": "Models count tokens, not words",
    "padding": "Compare configurations side by side",
    "masks": "A padded batch is only correct if the model ignores the pads",
    "longdoc": "A classifier reads at most its window of tokens",
    "attention": "Each row of the heatmap is one query token",
    "batching": "Each strategy decides which texts share a batch",
}
IDLE = "() => !document.querySelector('.progress-text, .eta-bar, .generating, .pending')"


def test_every_lesson_has_words_of_its_own():
    assert set(OTHER_LESSON_WORDS) == {tab_id for tab_id, _, _ in TABS}


def wait_for_lesson(frame, tab_id: str, timeout_ms: int = 120_000) -> None:
    """Wait until the lesson page in `frame` has mounted, its example marker shows and nothing is pending."""
    frame.wait_for_selector(f"#sd-lesson-{tab_id}", timeout=timeout_ms)
    marker, times = EXAMPLE_DONE[tab_id]
    frame.wait_for_function(
        "([marker, times]) => document.body.innerText.split(marker).length - 1 >= times",
        arg=[marker, times],
        timeout=timeout_ms,
    )
    frame.wait_for_function(IDLE, timeout=timeout_ms)


@contextlib.contextmanager
def served(html: str):
    """`html` served as index.html from 127.0.0.1 on a free port (another origin than the app's)."""

    class Page(http.server.BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802 (the http.server name)
            body = html.encode("utf-8")
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Page)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()


def test_an_iframe_of_a_lesson_page_shows_that_lesson_alone(browser, app_url, screenshot_dir):  # noqa: F811
    post = f"""<!doctype html><html><body style="font-family: sans-serif; margin: 24px">
        <h1>A post about padding</h1><p>The lesson, embedded:</p>
        <iframe id="lesson" src="{app_url}padding?embed=1" width="100%" height="1500" frameborder="0"
                allow="clipboard-write"></iframe>
        <p>The post goes on.</p></body></html>"""
    with served(post) as url:
        page = browser.new_page(viewport={"width": 1300, "height": 1700})
        try:
            page.goto(url)
            page.wait_for_function("() => window.frames.length === 1")
            lesson = next(f for f in page.frames if f.url.startswith(app_url))
            wait_for_lesson(lesson, "padding")
            text = lesson.locator("body").inner_text()
            assert OTHER_LESSON_WORDS["padding"] in text and "position_ids" in text
            for tab_id, words in OTHER_LESSON_WORDS.items():
                if tab_id != "padding":
                    assert words not in text, f"the padding page shows the {tab_id} lesson"
            assert lesson.locator("button[role='tab']").count() == 0  # no tabs to wander off through
            assert lesson.locator("nav a:visible, .nav-holder a:visible").count() == 0  # no navbar
            assert not lesson.locator("#sd-title").is_visible()  # embed mode: no title
            assert not lesson.locator("#sd-all-lessons").is_visible()  # nor the link to the other lessons
            assert lesson.locator("#sd-header").is_visible()  # which models and device: always said
            assert lesson.locator(".toast-body.error").count() == 0
            page.screenshot(path=str(screenshot_dir / "embedded-padding-lesson.png"), full_page=True)
        finally:
            page.close()


def test_a_web_component_of_a_lesson_page_shows_that_lesson_alone(browser, app_url):  # noqa: F811
    from test_readme import web_component_script

    post = f"""<!doctype html><html><body>
        <script type="module" src="{app_url}{web_component_script()}"></script>
        <gradio-app src="{app_url}attention" initial_height="900px" eager="true" theme_mode="light"></gradio-app>
        </body></html>"""
    with served(post) as url:
        page = browser.new_page(viewport={"width": 1300, "height": 1200})
        try:
            page.goto(url)
            wait_for_lesson(page, "attention")
            text = page.locator("gradio-app").inner_text()
            assert OTHER_LESSON_WORDS["attention"] in text
            assert not [
                tab_id for tab_id, words in OTHER_LESSON_WORDS.items() if words in text and tab_id != "attention"
            ]
            assert page.locator("gradio-app button[role='tab']").count() == 0
            assert "All six lessons" not in text and "seqdemo ·" not in text  # embedded: no title, no way out
            page.locator("gradio-app .sd-pointer-query").first.wait_for(timeout=30_000)  # its events run on the app
        finally:
            page.close()


def test_a_copied_link_restores_the_lessons_inputs_and_runs_them(browser, app_url):  # noqa: F811
    host = urlparse(app_url)
    context = browser.new_context(viewport={"width": 1300, "height": 1100})
    context.grant_permissions(["clipboard-read", "clipboard-write"], origin=f"{host.scheme}://{host.netloc}")
    try:
        page = context.new_page()
        page.goto(f"{app_url}lengths")
        wait_for_lesson(page, "lengths")
        texts = "A reader's own first sentence.\nAnd a second, rather longer sentence of hers."
        page.locator("#sd-lesson-lengths textarea").first.fill(texts)
        page.get_by_label("Count special tokens ([CLS] [SEP], <s> </s>)").uncheck()
        page.wait_for_function(IDLE)
        page.get_by_role("button", name="Copy a link to these inputs").click()
        box = page.locator(".sd-link-row textarea, .sd-link-row input").first
        page.wait_for_function(
            "() => [...document.querySelectorAll('.sd-link-row textarea, .sd-link-row input')]"
            ".some(e => e.value.startsWith('http'))"
        )
        link = box.input_value()
        assert page.evaluate("() => navigator.clipboard.readText()") == link
        query = parse_qs(urlparse(link).query)
        assert urlparse(link).path == "/lengths"
        assert query == {"texts": [texts], "special_tokens": ["0"]}  # only what differs from the example

        opened = context.new_page()
        opened.goto(link)
        opened.wait_for_selector("#sd-lesson-lengths")
        opened.wait_for_function("() => document.body.innerText.includes('Opened from a link')", timeout=120_000)
        opened.wait_for_function(
            '() => document.body.innerText.includes("A reader\'s own first sentence.")'
            " && document.body.innerText.includes('padding share')",
            timeout=120_000,
        )
        opened.wait_for_function(IDLE, timeout=120_000)
        assert opened.locator("#sd-lesson-lengths textarea").first.input_value() == texts
        assert not opened.get_by_label("Count special tokens ([CLS] [SEP], <s> </s>)").is_checked()
        shown = opened.locator("#sd-lesson-lengths").inner_text()
        assert "2 texts, token counts (special tokens not counted)" in shown
        assert "The cat sat on the mat." not in shown  # the worked example did not run over it
    finally:
        context.close()


def open_link(page, url: str) -> None:
    """Open the link `url` in `page` and wait until its lesson has run on the link's inputs."""
    page.goto(url)
    page.wait_for_function("() => document.body.innerText.includes('Opened from a link')", timeout=120_000)
    page.wait_for_function(IDLE, timeout=120_000)


def test_a_link_with_invalid_values_opens_on_the_defaults_with_a_note(browser, app_url):  # noqa: F811
    page = browser.new_page(viewport={"width": 1300, "height": 1000})
    try:
        open_link(page, f"{app_url}?tab=batching&batch_size=-3&tokenizer=gpt9&max_length=64")
        text = page.locator("body").inner_text()
        assert "`batch_size`" not in text and "batch_size" in text  # the note names the field
        assert "gpt9" in text and "the default, 'roberta', is used" in text
        assert page.locator(".toast-body.error").count() == 0
    finally:
        page.close()


def backend_row(store, layer: int, head: int | None, query: int) -> np.ndarray:
    """The worked example's attention of text 1's `query` over its keys, from the backend, (keys,)."""
    texts = tuple(EXAMPLE["texts"].splitlines())[:MAX_TEXTS]
    maps = store_extraction(store)(EXAMPLE["role"], texts, EXAMPLE["padding_side"], (), True)
    heads = maps.weights[0, layer]
    return (heads.mean(axis=0) if head is None else heads[head])[query], maps


@pytest.mark.parametrize(("head", "label"), [(1, "head 2"), (None, "mean over heads")])
def test_hovering_a_token_draws_its_row_with_the_backends_weights(
    browser,  # noqa: F811
    app_url,
    store,
    screenshot_dir,
    head,
    label,
):
    page = browser.new_page(viewport={"width": 1400, "height": 1100})
    try:
        page.goto(f"{app_url}attention")
        wait_for_lesson(page, "attention")
        view = page.locator("#sd-pointer")
        view.locator(".sd-pointer-query").first.wait_for()
        page.select_option(".sd-pointer-layer", "1")  # layer 2, chosen in the browser
        page.select_option(".sd-pointer-head", label=label)
        query = 4
        view.locator(".sd-pointer-query").nth(query).hover()
        assert f"query {query} " in view.locator(".sd-pointer-said").inner_text()
        expected, maps = backend_row(store, layer=1, head=head, query=query)
        keys = view.locator(".sd-pointer-key")
        drawn = np.array([float(keys.nth(k).get_attribute("data-weight")) for k in range(keys.count())])
        # One byte a weight (round(w × 255)), the mean taken over rounded heads; data-weight has four decimals.
        np.testing.assert_allclose(drawn, expected[: drawn.size], atol=0.5 / WEIGHT_STEPS + 5e-5)
        lines = view.locator(".sd-pointer-line")
        line_keys = sorted(int(lines.nth(i).get_attribute("data-key")) for i in range(lines.count()))
        pads = np.flatnonzero(maps.attention_mask[0][: drawn.size] == 0)
        assert pads.size and not set(line_keys) & set(pads.tolist())  # padded keys stay empty
        assert line_keys == np.flatnonzero(drawn > 0).tolist()  # one line per key with weight
        if head is None:
            view.screenshot(path=str(screenshot_dir / "attention-pointing-view.png"))
    finally:
        page.close()


def test_a_link_to_attention_shows_the_view_numbers_ranges_of_its_own_texts(browser, app_url):  # noqa: F811
    """The ranges under the view numbers are the link's texts' (three of them), not left unset or the example's."""
    page = browser.new_page(viewport={"width": 1300, "height": 1000})
    try:
        open_link(
            page, f"{app_url}?tab=attention&texts=One%20cat.%0ATwo%20dogs%20ran.%0AThree%20birds%20sang%20loudly."
        )
        panel = page.locator("[role='tabpanel']:visible").first
        panel.get_by_text("1 to 3", exact=True).wait_for(timeout=60_000)  # the Text number's range: three texts
        assert panel.get_by_text("or 0: mean over heads").count() == 1  # the Head number's range
    finally:
        page.close()
