"""The offline kit, built once per test session into a temporary folder, removed at the end.

The environment is set before any seqdemo import, so the app's own `default_store()`
uses the same offline kit as the fixtures and never asks the Hub. The kit's fetched parts
live in the persistent parts cache (`SEQDEMO_PARTS_DIR`), so only a machine's first session downloads them.

Everything the session writes to temporary files goes into one private folder, removed at the end:
gradio_client leaves an empty folder in the temporary directory for every file it downloads, and
Gradio's cache, the browser's profiles and the apps the tests launch (which inherit TMPDIR) write there too.
"""

from __future__ import annotations

import atexit
import os
import shutil
import tempfile

SYSTEM_TMP = tempfile.gettempdir()  # the machine's temporary directory, which the session leaves as it found it
SESSION_TMP = tempfile.mkdtemp(prefix="seqdemo-tests-")
os.environ["TMPDIR"] = tempfile.tempdir = SESSION_TMP
# Removed at the session's end and, registered first so run last, once more at exit: the figure folder's own exit
# handler (seqdemo.ui.figures) runs before it, and a write that made the folder again since is gone with it.
atexit.register(lambda: shutil.rmtree(SESSION_TMP, ignore_errors=True))
os.environ["SEQDEMO_MODELS"] = "offline"
KIT_DIR = tempfile.mkdtemp(prefix="seqdemo-kit-")
os.environ["SEQDEMO_KIT_DIR"] = KIT_DIR
os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")

import contextlib  # noqa: E402
import socket  # noqa: E402
from collections.abc import Iterator  # noqa: E402
from pathlib import Path  # noqa: E402

import pytest  # noqa: E402

from seqdemo.models import ModelStore, default_store  # noqa: E402

SCREENSHOTS = Path(__file__).resolve().parents[1] / "artifacts" / "screenshots"


@pytest.fixture(scope="session")
def screenshot_dir() -> Path:
    """Where browser tests save what they saw; the run's summary names it."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    return SCREENSHOTS


@pytest.fixture(scope="session")
def store() -> ModelStore:
    """The process-wide store on the offline kit (built on first use)."""
    store = default_store()
    store.kit_dir()
    return store


@pytest.fixture(scope="session")
def real_kit(store):
    """The kit's description, for tests that need its fetched parts (MiniLM, GPT-2's BPE).

    On the fallback kit (no package index was reached) they are skipped, except in CI (`CI=true`),
    where the real kit is a promise and its absence fails them.
    """
    description = store.kit_description()
    if not description.real:
        message = f"the offline kit is the fallback one ({description.summary}): the package index was not reached"
        if os.environ.get("CI", "").strip().lower() == "true":
            pytest.fail(f"CI runs on the real offline kit, but {message}")
        pytest.skip(message)
    return description


@pytest.fixture(scope="session")
def bert_tokenizer(store):
    return store.tokenizer("bert")


@pytest.fixture(scope="session")
def roberta_tokenizer(store):
    return store.tokenizer("roberta")


@pytest.fixture(scope="session")
def longformer_tokenizer(store):
    return store.tokenizer("longformer")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="session")
def demo(store):
    """The whole app on the offline kit, built once: what `python app.py` serves."""
    from seqdemo.ui import build_app

    return build_app(store)


@pytest.fixture(scope="session")
def endpoint(demo):
    """`endpoint(api_name)`: the app's event published as `api_name` (its handler, inputs, outputs and triggers).

    For tests of the wiring; the handlers themselves are module-level functions, tested directly.
    """
    events = {event.api_name: event for event in demo.fns.values() if event.api_name}
    return events.__getitem__


@contextlib.contextmanager
def launched(demo) -> Iterator[str]:
    """`demo` launched on 127.0.0.1 on a free port, as `python app.py` would; its URL, closed afterwards."""
    from seqdemo.ui import launch
    from seqdemo.ui.components import worked_examples

    port = _free_port()
    # precompute=False: the worked examples load models only when a test asks, not behind other tests' backs
    launch(demo, precompute=False, server_name="127.0.0.1", server_port=port, prevent_thread_lock=True, quiet=True)
    try:
        yield f"http://127.0.0.1:{port}/"
    finally:
        demo.close()
        worked_examples(demo).stop()  # as `python app.py` does: no example still computing (and writing) at exit


@pytest.fixture(scope="session")
def app_url(demo):
    """The real app, launched once."""
    with launched(demo) as url:
        yield url


def pytest_sessionfinish(session, exitstatus):
    shutil.rmtree(SESSION_TMP, ignore_errors=True)  # the kit with it: KIT_DIR was made inside


def pytest_terminal_summary(terminalreporter):
    shots = sorted(SCREENSHOTS.glob("*.png")) if SCREENSHOTS.is_dir() else []
    if shots:
        terminalreporter.write_line(f"browser screenshots ({len(shots)}): {SCREENSHOTS}")
