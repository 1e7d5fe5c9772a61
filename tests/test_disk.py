"""Nothing on disk grows with requests: Gradio's cache is cleaned on its retention, uploads over the limit never land.

An app with a retention of seconds instead of an hour is launched and sent requests over plain
HTTP (gradio_client would download every figure into its own temporary files). The app's own
temporary files are counted in a private temporary folder, Gradio's cache through the app's own
list of the files it put there. `DISK_REQUESTS=1000` runs the measurement at full size by hand; each
run writes what it measured to artifacts/disk.json.
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
import os
import re
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path
from types import SimpleNamespace

import gradio as gr
import httpx
import pytest
from conftest import SESSION_TMP, SYSTEM_TMP, launched
from gradio.utils import get_upload_folder
from gradio_http import raw_call, server_paths

from seqdemo.models import ModelStore
from seqdemo.settings import CACHE_MAX_AGE_S, CACHE_SWEEP_S
from seqdemo.ui import build_app, figures, padding
from seqdemo.ui.cache_sweep import SweepMemory, lifespan, session_copies, sweep_cache
from seqdemo.uploads import MAX_UPLOAD_BYTES

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

SWEEP_S, MAX_AGE_S = 1.0, 3.0
REQUESTS = int(os.environ.get("DISK_REQUESTS", "20"))
MAX_ADDED = 20_000  # files the sweep test's stand-in requests register while it sweeps
FIGURE_CAP = 4  # recent figure files the app keeps in this test (figures.MAX_FILES in the app)
ARTIFACTS = Path(__file__).resolve().parents[1] / "artifacts"


def test_the_cache_keeps_files_an_hour_checked_every_five_minutes():
    assert (CACHE_MAX_AGE_S, CACHE_SWEEP_S) == (3600.0, 300.0)  # the retention the settings promise


@pytest.fixture(scope="module")
def short_retention_app(store):
    """(url, demo): the whole app whose cache sweep runs every SWEEP_S for files older than MAX_AGE_S."""
    settings = dataclasses.replace(store.settings, cache_sweep_s=SWEEP_S, cache_max_age_s=MAX_AGE_S)
    demo = build_app(ModelStore(store.source, settings, store.device))
    with launched(demo) as url:
        yield url, demo


def cached_files(demo) -> list[Path]:
    """The app's files still in Gradio's cache, listed on its components or on a session's copy of one."""
    lists = [*demo.temp_file_sets, *(copy.temp_files for copy in session_copies(demo))]
    return [Path(path) for files in lists for path in list(files) if Path(path).is_file()]


def cache_contents() -> set[Path]:
    return set(Path(get_upload_folder()).rglob("*"))


def wait_until(condition, timeout_s: float) -> bool:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.25)
    return condition()


def test_a_requests_figures_are_served_from_the_figure_folder_and_nothing_enters_gradios_cache(short_retention_app):
    url, demo = short_retention_app
    before = cache_contents()
    event, payload = raw_call(url, "/measure_lengths", [f"a text {uuid.uuid4()}\nand another", ["bert"], True])
    assert event == "complete"
    shown = [Path(path) for path in server_paths(payload)]
    assert shown and all(figures.figure_folder() in path.parents for path in shown)
    served = httpx.get(f"{url}gradio_api/file={shown[0]}", timeout=60)
    assert served.status_code == 200 and served.content == shown[0].read_bytes()
    assert cache_contents() == before


def test_a_shortened_retention_sees_an_upload_go_with_its_folder(short_retention_app):
    url, _ = short_retention_app
    name = f"upload-{uuid.uuid4().hex}.txt"
    uploaded = httpx.post(f"{url}gradio_api/upload", files={"files": (name, b"some texts")}, timeout=60)
    path = Path(uploaded.json()[0])
    assert path.is_file() and Path(get_upload_folder()).resolve() in path.resolve().parents
    assert wait_until(lambda: not path.exists(), MAX_AGE_S + 3 * SWEEP_S + 5)
    # nor the folder Gradio made for it: removed after its file, in the same sweep or the next
    assert wait_until(lambda: not path.parent.exists(), 3 * SWEEP_S)


@pytest.fixture
def session_app():
    """(url, demo): a small Blocks whose File a session first shows (a property update), then fills."""
    outside = Path(tempfile.mkdtemp(dir=SESSION_TMP))

    def shown_file() -> str:
        path = outside / f"{uuid.uuid4().hex}.txt"
        path.write_text("a file from outside the figure folder")
        return str(path)

    with gr.Blocks() as demo:
        button, files = gr.Button(), gr.File(visible=False)
        button.click(lambda: gr.update(visible=True), None, files, api_name="show")
        button.click(shown_file, None, files, api_name="fill")
        button.click(lambda: figures._write(uuid.uuid4().bytes, "figure", "png"), None, files, api_name="figure")
    port = _free_port()
    demo.queue().launch(server_name="127.0.0.1", server_port=port, prevent_thread_lock=True, quiet=True)
    try:
        yield f"http://127.0.0.1:{port}/", demo
    finally:
        demo.close()


def session_call(url: str, api_name: str, session: str) -> object:
    started = httpx.post(f"{url}gradio_api/call/{api_name}", json={"data": [], "session_hash": session}, timeout=60)
    text = httpx.get(f"{url}gradio_api/call/{api_name}/{started.json()['event_id']}", timeout=60).text
    return json.loads(re.findall(r"^data: (.*)$", text, re.MULTILINE)[-1])


def test_a_file_shown_after_a_property_update_is_listed_on_the_sessions_copy_and_swept(session_app):
    """Gradio lists it on the session's own copy of the component, which `temp_file_sets` does not hold."""
    url, demo = session_app
    session_call(url, "show", "visitor")
    cached = Path(server_paths(session_call(url, "fill", "visitor"))[0])
    assert cached.is_file() and Path(get_upload_folder()).resolve() in cached.resolve().parents
    assert not any(str(cached) in files for files in demo.temp_file_sets)
    assert [str(cached)] == [name for copy in session_copies(demo) for name in copy.temp_files]
    assert sweep_cache(demo, 0.0, SweepMemory()) == 1
    assert not cached.exists() and not cached.parent.exists()


def test_a_figure_shown_after_a_property_update_is_served_from_the_figure_folder(session_app):
    url, demo = session_app
    before = cache_contents()
    session_call(url, "show", "visitor")
    shown = Path(server_paths(session_call(url, "figure", "visitor"))[0])
    assert figures.figure_folder() in shown.parents and cache_contents() == before
    assert httpx.get(f"{url}gradio_api/file={shown}", timeout=60).content == shown.read_bytes()


def test_the_sweep_keeps_the_files_of_a_session_gradio_evicted_until_they_are_old(tmp_path, monkeypatch):
    monkeypatch.setenv("GRADIO_TEMP_DIR", str(tmp_path))
    path = tmp_path / "folder" / "figure.png"
    path.parent.mkdir()
    path.write_bytes(b"png")
    copy = gr.File(render=False)
    copy.temp_files.add(str(path))
    session = SimpleNamespace(blocks_config=SimpleNamespace(blocks={1: copy}))
    holder = SimpleNamespace(session_data={"visitor": session})
    blocks = SimpleNamespace(blocks={}, temp_file_sets=[], state_holder=holder)
    memory = SweepMemory()
    assert sweep_cache(blocks, 3600.0, memory) == 0 and path.exists()  # young: kept
    holder.session_data.clear()  # Gradio evicts the session (past its capacity of sessions)
    assert sweep_cache(blocks, 0.0, memory) == 1
    assert not path.exists() and not path.parent.exists() and memory == SweepMemory()


def test_the_sweep_deletes_old_files_and_their_folders_while_requests_add_files(tmp_path, monkeypatch):
    """Gradio's own sweep iterates the live sets, and a request adding a file mid-sweep ends it for good."""
    monkeypatch.setenv("GRADIO_TEMP_DIR", str(tmp_path))
    old, young = set(), set()
    for number in range(2000):
        path = tmp_path / f"folder{number}" / "figure.png"
        path.parent.mkdir()
        path.write_bytes(b"png")
        (old if number < 1500 else young).add(str(path))
    files = old | young
    blocks = SimpleNamespace(blocks={}, temp_file_sets=[files])
    stop = threading.Event()

    def request_adding_files():
        number = 0
        while not stop.is_set() and number < MAX_ADDED:  # bounded: a sweep reads every name it finds
            files.add(str(tmp_path / f"new{number}.png"))  # registered; written later or never: a request in flight
            number += 1
            if number % 100 == 0:
                time.sleep(0.001)  # requests arrive over time, not all in one burst

    adder = threading.Thread(target=request_adding_files)
    adder.start()
    try:
        time.sleep(0.01)
        cutoff = time.time()
        time.sleep(0.05)
        for name in young:
            os.utime(name)  # young files: touched after the cut-off (ctime moves with it)
        deleted = sweep_cache(blocks, time.time() - cutoff, SweepMemory())
    finally:
        stop.set()
        adder.join()
    assert deleted >= len(old)
    assert not any(Path(name).exists() or Path(name).parent.exists() for name in old)
    assert all(Path(name).exists() for name in young) and young <= files and not old & files


def test_gradios_last_sweep_at_shutdown_survives_a_worked_example_adding_a_file(tmp_path, monkeypatch):
    """When the server stops, Gradio walks the sets of cached files once more; a background thread may still add."""
    monkeypatch.setenv("GRADIO_TEMP_DIR", str(tmp_path))
    files = {str(tmp_path / f"figure{number}.png") for number in range(3)}
    for name in files:
        Path(name).write_bytes(b"png")
    blocks = SimpleNamespace(blocks={}, temp_file_sets=[files], delete_cache=None)

    async def serve_then_stop():
        async with lifespan(SimpleNamespace(get_blocks=lambda: blocks)):
            pass

    asyncio.run(serve_then_stop())
    walked = []
    for file_set in blocks.temp_file_sets:  # as Gradio's delete_files_created_by_app does
        for name in file_set:
            files.add(str(tmp_path / f"late{len(walked)}.png"))  # a worked example still drawing
            walked.append(name)
    assert sorted(walked) == sorted(name for name in files if "figure" in name)


def snapshot(folder: Path) -> tuple[int, int]:
    files = [path for path in folder.rglob("*") if path.is_file()]
    return len(files), sum(path.stat().st_size for path in files)


def request(url: str, number: int) -> None:
    """Request `number`: the lengths tab for even numbers, padding for odd ones, each on texts of its own."""
    if number % 2:
        data = [f"Text {number}, padded.\nA longer text, number {number}.", *padding.EXAMPLE_INPUTS[1:]]
        event, payload = raw_call(url, "/padding_compare", data)
    else:
        event, payload = raw_call(url, "/measure_lengths", [f"Request {number}.\nSecond text.", ["bert"], True])
    assert event == "complete" and server_paths(payload), payload  # figures drawn and handed out


@pytest.fixture(scope="module")
def many_requests(short_retention_app, tmp_path_factory):
    """REQUESTS requests to the lengths and padding endpoints, with the process's temporary folder a private one.

    Returns the private folder's (files, bytes) before and after, and the app's cached (files, bytes)
    right after the requests.
    """
    url, demo = short_retention_app
    private = tmp_path_factory.mktemp("app-tmp")
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(tempfile, "tempdir", str(private))
        patch.setattr(figures, "_folder", [])  # a figure folder inside it (Gradio serves only temp dir files)
        # figures kept at most FIGURE_CAP (of figures.MAX_FILES), pruned on every write: the bound shows in 20 requests
        patch.setattr(figures, "MAX_FILES", FIGURE_CAP)
        patch.setattr(figures, "PRUNE_EVERY_S", 0)
        request(url, -2), request(url, -1)  # each endpoint once first: what a first request sets up is not growth
        before = snapshot(private)
        for number in range(REQUESTS):
            request(url, number)
        after = snapshot(private)
    cached = cached_files(demo)
    measured = {
        "requests": REQUESTS,
        "before": before,
        "after": after,
        "cached": (len(cached), sum(path.stat().st_size for path in cached)),
    }
    ARTIFACTS.mkdir(parents=True, exist_ok=True)  # the figures a run measured, for whoever reads its numbers
    (ARTIFACTS / "disk.json").write_text(json.dumps(measured, indent=1), encoding="utf-8")
    return measured


def test_requests_leave_the_apps_own_temporary_files_bounded_by_the_figure_cap(many_requests):
    (files_before, bytes_before), (files_after, bytes_after) = many_requests["before"], many_requests["after"]
    assert REQUESTS > FIGURE_CAP  # more requests, each drawing new figures, than figures are kept
    assert files_after <= max(files_before, FIGURE_CAP)
    assert bytes_after <= 2 * bytes_before * max(1, FIGURE_CAP / files_before)  # files of about their size


def test_requests_leave_nothing_in_gradios_cache(many_requests):
    assert many_requests["cached"] == (0, 0)  # their figures are served from the figure folder


def test_an_upload_over_the_limit_is_refused_by_the_server_before_it_is_stored(app_url):
    name = f"over-limit-{uuid.uuid4().hex}.txt"
    response = httpx.post(
        f"{app_url}gradio_api/upload", files={"files": (name, b"x" * (MAX_UPLOAD_BYTES + 1))}, timeout=60
    )
    assert response.status_code == 413 and "maximum allowed size" in response.text
    assert not list(Path(get_upload_folder()).rglob(name))
    small = httpx.post(f"{app_url}gradio_api/upload", files={"files": (name, b"fits")}, timeout=60)
    assert small.status_code == 200 and Path(small.json()[0]).name == name  # the limit, not uploads, is refused
    Path(small.json()[0]).unlink()


ROOT = Path(__file__).resolve().parents[1]


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_python_app_py_stopped_by_sigterm_leaves_no_figure_folder_behind(tmp_path):
    """`kill` (or a container stopping) sends SIGTERM: the app stops as on Ctrl-C and removes its figure folder
    with the figures it handed out, and what Gradio cached (an upload) goes with the folder that held it."""
    port = _free_port()
    environ = {**os.environ, "TMPDIR": str(tmp_path), "GRADIO_SERVER_PORT": str(port)}
    environ.pop("GRADIO_TEMP_DIR", None)  # Gradio's cache: $TMPDIR/gradio
    app = subprocess.Popen(
        [sys.executable, "app.py"], cwd=ROOT, env=environ, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    try:
        deadline = time.monotonic() + 240
        while not list(tmp_path.glob("seqdemo-figures-*/kept/*")):  # the worked examples drew their figures
            assert app.poll() is None and time.monotonic() < deadline, "the app drew no figure"
            time.sleep(0.5)
        request(f"http://127.0.0.1:{port}/", 0)  # a visitor is shown figures, served from the figure folder
        assert list(tmp_path.glob("seqdemo-figures-*/recent/*/*.png"))
        uploaded = httpx.post(f"http://127.0.0.1:{port}/gradio_api/upload", files={"files": ("texts.txt", b"a")})
        cache = tmp_path / "gradio"
        assert Path(uploaded.json()[0]).is_file() and cache in Path(uploaded.json()[0]).parents  # Gradio caches it
        app.send_signal(signal.SIGTERM)
        assert app.wait(timeout=60) == 0
    finally:
        app.kill()
    assert not list(tmp_path.glob("seqdemo-figures-*"))
    assert [path.name for path in cache.iterdir()] in ([], ["vibe_edit_history"])  # that one is Gradio's, empty


def _hash_folders(folder: str) -> set[str]:
    """The folders in `folder` named as gradio_client names its download folders: 40 hex digits."""
    return {entry.name for entry in os.scandir(folder) if entry.is_dir() and re.fullmatch(r"[0-9a-f]{40}", entry.name)}


def test_the_test_session_keeps_gradio_clients_downloads_in_its_own_temporary_folder(app_url):
    """gradio_client leaves an empty folder in the temporary directory for every file it downloads: the session's
    own folder takes them (and is removed at the session's end), the machine's temporary directory gains none."""
    gradio_client = pytest.importorskip("gradio_client")
    before = _hash_folders(SYSTEM_TMP)
    client = gradio_client.Client(app_url, verbose=False)
    counts_png = client.predict("One.\nTwo words here.", ["bert"], True, api_name="/measure_lengths")[1]
    assert Path(counts_png).resolve().is_relative_to(Path(SESSION_TMP).resolve())
    assert _hash_folders(SESSION_TMP)  # what gradio_client left behind, in the session's folder
    assert _hash_folders(SYSTEM_TMP) <= before
